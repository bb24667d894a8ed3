/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The etmem <-> etmemd wire protocol; docs/protocol.md is the normative text.
 *
 * Every decoder here is total: whatever bytes arrive, it either fills a valid
 * struct or returns an error having freed what it allocated. Lengths are
 * checked against the remaining input before every read.
 */
#include "proto.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* A request field's length marking "absent" (no field can be that long). */
#define ETM_FIELD_ABSENT 0xffffU
#define ETM_REQ_NFIELDS 5
#define ETM_END_STATUS_LEN 4

static const char *const status_text[ETM_STATUS_MAX] = {
	[ETM_OK] = "success",
	/* The original daemon's texts, kept because users grep for them. */
	[ETM_ERR_INVAL] = "invalid parameters",
	[ETM_ERR_PROJ_EXISTS] = "project has been existed",
	[ETM_ERR_PROJ_STARTED] = "project has been started",
	[ETM_ERR_PROJ_STOPPED] = "project has been stopped",
	[ETM_ERR_PROJ_NOEXIST] = "project is not exist",
	[ETM_ERR_ENG_EXISTS] = "engine has been existed",
	[ETM_ERR_ENG_NOEXIST] = "engine is not exist",
	[ETM_ERR_TASK_EXISTS] = "task has been existed",
	[ETM_ERR_TASK_NOEXIST] = "task is not exist",
	[ETM_ERR_INTERNAL] = "etmemd has internal error",
	/* New in this implementation. */
	[ETM_ERR_BUSY] = "object is busy: another client is changing it, try again",
	[ETM_ERR_PROTO] = "malformed request",
	[ETM_ERR_NOT_SUPPORTED] = "operation not supported",
	[ETM_ERR_CONFIG] = "configuration file is invalid",
};

const char *etm_status_str(int status)
{
	if (status < 0 || status >= ETM_STATUS_MAX)
		return "unknown error";
	return status_text[status];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static bool frame_type_valid(unsigned type)
{
	return type == ETM_FRAME_REQUEST || type == ETM_FRAME_DATA || type == ETM_FRAME_END;
}

void etm_hdr_encode(uint8_t out[ETM_HDR_LEN], uint8_t type, uint32_t len)
{
	etm_hdr_encode_version(out, ETM_PROTO_VERSION, type, len);
}

void etm_hdr_encode_version(uint8_t out[ETM_HDR_LEN], uint8_t version, uint8_t type, uint32_t len)
{
	put_be32(out, ETM_PROTO_MAGIC);
	out[4] = version;
	out[5] = type;
	put_be16(out + 6, 0);
	put_be32(out + 8, len);
}

int etm_hdr_decode(const uint8_t in[ETM_HDR_LEN], struct etm_hdr *hdr)
{
	struct etm_hdr h;

	if (get_be32(in) != ETM_PROTO_MAGIC)
		return -EPROTO;
	h.version = in[4];
	h.type = in[5];
	h.flags = get_be16(in + 6);
	h.len = get_be32(in + 8);
	/* Version first: a future version may redefine everything after it. */
	if (h.version < ETM_PROTO_VERSION_MIN || h.version > ETM_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (h.flags != 0 || !frame_type_valid(h.type))
		return -EPROTO;
	if (h.len > ETM_MAX_PAYLOAD)
		return -EMSGSIZE;
	*hdr = h;
	return 0;
}

/* Field @i of a request, in wire order. */
static char **req_field(struct etm_request *req, int i)
{
	switch (i) {
	case 0:
		return &req->proj;
	case 1:
		return &req->file;
	case 2:
		return &req->eng;
	case 3:
		return &req->eng_cmd;
	default:
		return &req->task;
	}
}

static size_t req_field_max(int i)
{
	return i == 1 ? ETM_MAX_PATH_LEN : ETM_MAX_NAME_LEN;
}

/* Commands of each version: version 1 ends at engine commands. */
static unsigned cmd_limit(uint8_t version)
{
	return version >= 2 ? ETM_CMD_MAX : ETM_CMD_METRICS;
}

uint8_t etm_request_version(const struct etm_request *req)
{
	return req->cmd >= ETM_CMD_METRICS || req->format != ETM_FORMAT_TEXT ? 2 : 1;
}

int etm_request_encode(const struct etm_request *req, uint8_t **buf, size_t *len)
{
	/* req_field() wants a mutable request; only reads happen through it. */
	struct etm_request *r = (struct etm_request *)req;
	uint8_t version = req->version ? req->version : etm_request_version(req);
	size_t flen[ETM_REQ_NFIELDS] = { 0 };
	size_t total = 1 + (version >= 2);
	uint8_t *out, *p;
	int i;

	if (version < ETM_PROTO_VERSION_MIN || version > ETM_PROTO_VERSION || req->format >= ETM_FORMAT_MAX ||
	    req->cmd >= cmd_limit(version) || version < etm_request_version(req))
		return -EINVAL;
	for (i = 0; i < ETM_REQ_NFIELDS; i++) {
		const char *s = *req_field(r, i);

		total += 2;
		if (!s)
			continue;
		flen[i] = strnlen(s, req_field_max(i) + 1);
		if (flen[i] > req_field_max(i))
			return -ENAMETOOLONG;
		total += flen[i];
	}
	out = malloc(total);
	if (!out)
		return -ENOMEM;
	p = out;
	*p++ = req->cmd;
	for (i = 0; i < ETM_REQ_NFIELDS; i++) {
		const char *s = *req_field(r, i);

		if (!s) {
			put_be16(p, ETM_FIELD_ABSENT);
			p += 2;
			continue;
		}
		put_be16(p, (uint16_t)flen[i]);
		p += 2;
		memcpy(p, s, flen[i]);
		p += flen[i];
	}
	if (version >= 2)
		*p = req->format;
	*buf = out;
	*len = total;
	return 0;
}

void etm_request_clear(struct etm_request *req)
{
	int i;

	for (i = 0; i < ETM_REQ_NFIELDS; i++) {
		char **f = req_field(req, i);

		free(*f);
		*f = NULL;
	}
	req->cmd = 0;
	req->version = 0;
	req->format = 0;
}

int etm_request_decode(const uint8_t *buf, size_t len, uint8_t version, struct etm_request *req)
{
	struct etm_request r = { .version = version };
	size_t off = 1;
	int i;

	if (version < ETM_PROTO_VERSION_MIN || version > ETM_PROTO_VERSION || len < 1 || buf[0] >= cmd_limit(version))
		return -EPROTO;
	r.cmd = buf[0];
	for (i = 0; i < ETM_REQ_NFIELDS; i++) {
		size_t flen;
		char *s;

		if (len - off < 2)
			goto proto;
		flen = get_be16(buf + off);
		off += 2;
		if (flen == ETM_FIELD_ABSENT)
			continue;
		if (flen > req_field_max(i) || flen > len - off)
			goto proto;
		/* Names travel as C strings: an embedded NUL would truncate them silently. */
		if (memchr(buf + off, 0, flen))
			goto proto;
		s = malloc(flen + 1);
		if (!s) {
			etm_request_clear(&r);
			return -ENOMEM;
		}
		memcpy(s, buf + off, flen);
		s[flen] = '\0';
		*req_field(&r, i) = s;
		off += flen;
	}
	if (version >= 2) {
		if (off >= len || buf[off] >= ETM_FORMAT_MAX)
			goto proto;
		r.format = buf[off++];
	}
	if (off != len)
		goto proto;
	*req = r;
	return 0;
proto:
	etm_request_clear(&r);
	return -EPROTO;
}

int etm_end_encode(int32_t status, const char *msg, uint8_t **buf, size_t *len)
{
	size_t mlen = msg ? strlen(msg) : 0;
	uint8_t *out;

	/*
	 * A message that does not fit in one frame is cut rather than refused:
	 * the status is what matters, and the sender has nothing better to say.
	 * Cut at a UTF-8 character boundary so the tail stays valid text.
	 */
	if (mlen > ETM_MAX_PAYLOAD - ETM_END_STATUS_LEN) {
		mlen = ETM_MAX_PAYLOAD - ETM_END_STATUS_LEN;
		while (mlen > 0 && ((uint8_t)msg[mlen] & 0xc0) == 0x80)
			mlen--;
	}
	out = malloc(ETM_END_STATUS_LEN + mlen);
	if (!out)
		return -ENOMEM;
	put_be32(out, (uint32_t)status);
	if (mlen)
		memcpy(out + ETM_END_STATUS_LEN, msg, mlen);
	*buf = out;
	*len = ETM_END_STATUS_LEN + mlen;
	return 0;
}

int etm_end_decode(const uint8_t *buf, size_t len, int32_t *status, char **msg)
{
	size_t mlen;
	char *m;

	if (len < ETM_END_STATUS_LEN || len > ETM_MAX_PAYLOAD)
		return -EPROTO;
	mlen = len - ETM_END_STATUS_LEN;
	if (memchr(buf + ETM_END_STATUS_LEN, 0, mlen))
		return -EPROTO;
	m = malloc(mlen + 1);
	if (!m)
		return -ENOMEM;
	if (mlen)
		memcpy(m, buf + ETM_END_STATUS_LEN, mlen);
	m[mlen] = '\0';
	*status = (int32_t)get_be32(buf);
	*msg = m;
	return 0;
}

/* Milliseconds left until @deadline (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

int etm_send_frame(int fd, uint8_t type, const void *payload, size_t len)
{
	return etm_send_frame_by(fd, type, payload, len, NULL);
}

/* Wait until @fd has room to write (@events POLLOUT) or input (POLLIN), at most until @deadline. */
static int wait_for(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int pr = poll(&pfd, 1, ms_left(deadline));

		if (pr > 0)
			return 0;
		if (pr == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int etm_send_frame_by(int fd, uint8_t type, const void *payload, size_t len, const struct timespec *deadline)
{
	return etm_send_frame_version(fd, ETM_PROTO_VERSION, type, payload, len, deadline);
}

int etm_send_frame_version(int fd, uint8_t version, uint8_t type, const void *payload, size_t len,
			   const struct timespec *deadline)
{
	uint8_t hdr[ETM_HDR_LEN];
	struct iovec iov[2];
	struct msghdr mh = { 0 };
	/* MSG_NOSIGNAL: a peer that went away is an error to report, not a reason to die. */
	int flags = MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0);

	if (!frame_type_valid(type))
		return -EINVAL;
	if (len > ETM_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (len && !payload)
		return -EINVAL;
	etm_hdr_encode_version(hdr, version, type, (uint32_t)len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	mh.msg_iov = iov;
	mh.msg_iovlen = len ? 2 : 1;

	while (mh.msg_iovlen > 0) {
		ssize_t n = sendmsg(fd, &mh, flags);

		if (n < 0) {
			int ret;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			/* Without a deadline, EAGAIN is the socket's SO_SNDTIMEO expiring. */
			if (!deadline)
				return -ETIMEDOUT;
			if ((ret = wait_for(fd, POLLOUT, deadline)))
				return ret;
			continue;
		}
		/* Skip what was written: drop complete iovecs, trim the partial one. */
		while (n > 0 && mh.msg_iovlen > 0) {
			if ((size_t)n >= mh.msg_iov[0].iov_len) {
				n -= (ssize_t)mh.msg_iov[0].iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + n;
				mh.msg_iov[0].iov_len -= (size_t)n;
				n = 0;
			}
		}
		while (mh.msg_iovlen > 0 && mh.msg_iov[0].iov_len == 0) {
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
	}
	return 0;
}

void etm_frame_reader_init(struct etm_frame_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void etm_frame_reader_clear(struct etm_frame_reader *r)
{
	free(r->payload);
	etm_frame_reader_init(r, r->max);
}

/* The header is in: check it, and make room for the payload it announces. */
static int reader_take_header(struct etm_frame_reader *r)
{
	int ret = etm_hdr_decode(r->raw, &r->hdr);

	if (ret)
		return ret;
	/* Refuse before allocating: the length is the peer's claim, not a fact. */
	if (r->hdr.len > r->max)
		return -EMSGSIZE;
	/* One spare byte keeps text payloads NUL-terminated and malloc(0) out of the picture. */
	r->payload = malloc((size_t)r->hdr.len + 1);
	if (!r->payload)
		return -ENOMEM;
	r->payload[r->hdr.len] = '\0';
	return 0;
}

int etm_frame_reader_step(struct etm_frame_reader *r, int fd)
{
	size_t total = ETM_HDR_LEN + (r->payload ? r->hdr.len : 0);
	uint8_t *dst;
	size_t want;
	ssize_t n;
	int ret;

	if (r->payload && r->got == total)
		return 0;
	if (r->got < ETM_HDR_LEN) {
		dst = r->raw + r->got;
		want = ETM_HDR_LEN - r->got;
	} else {
		dst = r->payload + (r->got - ETM_HDR_LEN);
		want = total - r->got;
	}
	n = read(fd, dst, want);
	if (n < 0) {
		if (errno == EINTR)
			return -EINPROGRESS;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	/* EOF: a short read is never a whole frame. */
	if (n == 0)
		return -ECONNRESET;
	r->got += (size_t)n;
	if (!r->payload) {
		if (r->got < ETM_HDR_LEN)
			return -EINPROGRESS;
		if ((ret = reader_take_header(r)))
			return ret;
	}
	return r->got == ETM_HDR_LEN + r->hdr.len ? 0 : -EINPROGRESS;
}

int etm_recv_frame(int fd, struct etm_hdr *hdr, uint8_t **payload, size_t max)
{
	return etm_recv_frame_by(fd, hdr, payload, max, NULL);
}

int etm_recv_frame_by(int fd, struct etm_hdr *hdr, uint8_t **payload, size_t max, const struct timespec *deadline)
{
	struct etm_frame_reader r;
	int ret;

	*payload = NULL;
	etm_frame_reader_init(&r, max);
	/*
	 * With @deadline, the whole frame must arrive by then: a peer trickling
	 * one byte per socket timeout cannot hold the connection open.
	 */
	do {
		if (deadline && (ret = wait_for(fd, POLLIN, deadline)))
			break;
		ret = etm_frame_reader_step(&r, fd);
	} while (ret == -EINPROGRESS);
	if (ret) {
		etm_frame_reader_clear(&r);
		/* SO_RCVTIMEO expiry shows up as EAGAIN on a blocking socket. */
		return ret == -EAGAIN ? -ETIMEDOUT : ret;
	}
	*hdr = r.hdr;
	*payload = r.payload;
	return 0;
}
