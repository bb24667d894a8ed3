/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Fuzz the wire decoders: a frame header, then its payload as a request or
 * END. Everything decoded must re-encode to the same bytes (the encoding is
 * canonical), which also catches decoders that accept more than they should.
 *
 * Input layout: the first 12 bytes are a header; the rest is the payload,
 * decoded whatever the header says (so payload decoding is reached even when
 * the header is rejected). The whole input also goes through the daemon's
 * incremental frame reader, which must read exactly the frame it announces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"

static void check_request(const uint8_t *buf, size_t len, uint8_t version)
{
	struct etm_request req;
	uint8_t *again;
	size_t alen;

	if (etm_request_decode(buf, len, version, &req))
		return;
	if (req.cmd >= ETM_CMD_MAX || req.format >= ETM_FORMAT_MAX || req.version != version ||
	    version < etm_request_version(&req))
		abort();
	if (etm_request_encode(&req, &again, &alen) == 0) {
		if (alen != len || memcmp(again, buf, len))
			abort();
		free(again);
	}
	etm_request_clear(&req);
}

static void check_end(const uint8_t *buf, size_t len)
{
	uint8_t *again;
	int32_t status;
	size_t alen;
	char *msg;

	if (etm_end_decode(buf, len, &status, &msg))
		return;
	/* The message is a C string holding the whole payload tail. */
	if (strlen(msg) != len - 4)
		abort();
	(void)etm_status_str(status);
	if (etm_end_encode(status, msg, &again, &alen) == 0) {
		if (alen != len || memcmp(again, buf, len))
			abort();
		free(again);
	}
	free(msg);
}

/* The input as a peer's bytes, then EOF: the reader ends with a frame or an error. */
static void check_reader(const uint8_t *data, size_t size)
{
	struct etm_frame_reader r;
	struct etm_hdr hdr;
	ssize_t n;
	int p[2], ret;

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return;
	n = size ? write(p[1], data, size) : 0;
	close(p[1]);
	etm_frame_reader_init(&r, ETM_MAX_REQUEST);
	while ((ret = etm_frame_reader_step(&r, p[0])) == -EINPROGRESS)
		;
	close(p[0]);
	if (ret == -EAGAIN)
		abort();
	if (ret == 0) {
		if (n < ETM_HDR_LEN || etm_hdr_decode(data, &hdr) || hdr.len != r.hdr.len || hdr.type != r.hdr.type ||
		    hdr.len > ETM_MAX_REQUEST || (size_t)n < ETM_HDR_LEN + hdr.len ||
		    memcmp(r.payload, data + ETM_HDR_LEN, hdr.len) || r.payload[hdr.len] != 0)
			abort();
	}
	etm_frame_reader_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etm_hdr hdr;
	const uint8_t *payload;
	size_t plen;
	uint8_t *copy;

	check_reader(data, size);
	if (size < ETM_HDR_LEN)
		return 0;
	if (etm_hdr_decode(data, &hdr) == 0) {
		uint8_t raw[ETM_HDR_LEN];

		etm_hdr_encode_version(raw, hdr.version, hdr.type, hdr.len);
		if (memcmp(raw, data, ETM_HDR_LEN))
			abort();
	}
	payload = data + ETM_HDR_LEN;
	plen = size - ETM_HDR_LEN;
	/* An exact-size heap copy, so any over-read trips ASan. */
	copy = malloc(plen ? plen : 1);
	if (!copy)
		return 0;
	if (plen)
		memcpy(copy, payload, plen);
	/* The payload as a request of every version spoken: each decoder on its own. */
	for (unsigned v = ETM_PROTO_VERSION_MIN; v <= ETM_PROTO_VERSION; v++)
		check_request(copy, plen, (uint8_t)v);
	check_end(copy, plen);
	free(copy);
	return 0;
}
