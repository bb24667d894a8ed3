/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The wire codec and frame I/O of src/common/proto.c. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/proto.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void set_rcvtimeo(int fd, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

/* A whole frame (header + payload) in one buffer. */
static uint8_t *make_frame(uint8_t type, const void *payload, size_t len, size_t *flen)
{
	uint8_t *f = malloc(ETM_HDR_LEN + len + 1);

	assert_non_null(f);
	etm_hdr_encode(f, type, (uint32_t)len);
	if (len)
		memcpy(f + ETM_HDR_LEN, payload, len);
	*flen = ETM_HDR_LEN + len;
	return f;
}

/* ---- header ---- */

static void test_hdr_roundtrip(void **state)
{
	static const uint8_t types[] = { ETM_FRAME_REQUEST, ETM_FRAME_DATA, ETM_FRAME_END };
	uint8_t raw[ETM_HDR_LEN];
	struct etm_hdr h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		etm_hdr_encode(raw, types[i], 1234);
		assert_int_equal(etm_hdr_decode(raw, &h), 0);
		assert_int_equal(h.type, types[i]);
		assert_int_equal(h.len, 1234);
		assert_int_equal(h.version, ETM_PROTO_VERSION);
		assert_int_equal(h.flags, 0);
	}
	/* Big-endian magic 'ETMM' on the wire. */
	etm_hdr_encode(raw, ETM_FRAME_DATA, 0x01020304);
	assert_memory_equal(raw, "ETMM", 4);
	assert_int_equal(raw[8], 1);
	assert_int_equal(raw[11], 4);
}

static void test_hdr_rejects(void **state)
{
	uint8_t raw[ETM_HDR_LEN];
	struct etm_hdr h;
	unsigned t;

	(void)state;
	etm_hdr_encode(raw, ETM_FRAME_DATA, 0);
	raw[0] ^= 1;
	assert_int_equal(etm_hdr_decode(raw, &h), -EPROTO);

	etm_hdr_encode(raw, ETM_FRAME_DATA, 0);
	raw[4] = ETM_PROTO_VERSION + 1;
	assert_int_equal(etm_hdr_decode(raw, &h), -EPROTONOSUPPORT);
	raw[4] = 0;
	assert_int_equal(etm_hdr_decode(raw, &h), -EPROTONOSUPPORT);
	/* Every version from the oldest still spoken is accepted, and reported. */
	for (unsigned v = ETM_PROTO_VERSION_MIN; v <= ETM_PROTO_VERSION; v++) {
		etm_hdr_encode_version(raw, (uint8_t)v, ETM_FRAME_REQUEST, 3);
		assert_int_equal(etm_hdr_decode(raw, &h), 0);
		assert_int_equal(h.version, v);
	}
	etm_hdr_encode(raw, ETM_FRAME_DATA, 0);

	etm_hdr_encode(raw, ETM_FRAME_DATA, 0);
	raw[7] = 1;
	assert_int_equal(etm_hdr_decode(raw, &h), -EPROTO);
	raw[7] = 0;
	raw[6] = 0x80;
	assert_int_equal(etm_hdr_decode(raw, &h), -EPROTO);

	for (t = 0; t < 256; t++) {
		int want = (t == ETM_FRAME_REQUEST || t == ETM_FRAME_DATA || t == ETM_FRAME_END) ? 0 : -EPROTO;

		etm_hdr_encode(raw, (uint8_t)t, 0);
		assert_int_equal(etm_hdr_decode(raw, &h), want);
	}

	etm_hdr_encode(raw, ETM_FRAME_DATA, ETM_MAX_PAYLOAD);
	assert_int_equal(etm_hdr_decode(raw, &h), 0);
	etm_hdr_encode(raw, ETM_FRAME_DATA, ETM_MAX_PAYLOAD + 1);
	assert_int_equal(etm_hdr_decode(raw, &h), -EMSGSIZE);
	etm_hdr_encode(raw, ETM_FRAME_DATA, 0xffffffffU);
	assert_int_equal(etm_hdr_decode(raw, &h), -EMSGSIZE);
}

/* ---- request ---- */

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void roundtrip_req(const struct etm_request *in)
{
	struct etm_request out;
	uint8_t *buf;
	size_t len;

	assert_int_equal(etm_request_encode(in, &buf, &len), 0);
	assert_int_equal(etm_request_decode(buf, len, in->version ? in->version : etm_request_version(in), &out), 0);
	assert_int_equal(out.cmd, in->cmd);
	assert_int_equal(out.format, in->format);
	assert_str_or_null(out.proj, in->proj);
	assert_str_or_null(out.file, in->file);
	assert_str_or_null(out.eng, in->eng);
	assert_str_or_null(out.eng_cmd, in->eng_cmd);
	assert_str_or_null(out.task, in->task);
	etm_request_clear(&out);
	assert_null(out.proj);
	free(buf);
}

static void test_request_roundtrip(void **state)
{
	struct etm_request r = { .cmd = ETM_CMD_ENG_CMD,
				 .proj = "test",
				 .file = "/etc/etmem/slide_conf.yaml",
				 .eng = "cslide",
				 .eng_cmd = "showtaskpages",
				 .task = "background" };
	struct etm_request none = { .cmd = ETM_CMD_PROJ_SHOW };
	/* Values the original's text protocol could not carry. */
	struct etm_request odd = { .cmd = ETM_CMD_PROJ_START, .proj = "-dash name with spaces\xff\xfe", .task = "" };
	struct etm_request empty = {
		.cmd = ETM_CMD_OBJ_DEL, .proj = "", .file = "", .eng = "", .eng_cmd = "", .task = ""
	};
	int c;

	(void)state;
	roundtrip_req(&r);
	roundtrip_req(&none);
	roundtrip_req(&odd);
	roundtrip_req(&empty);
	for (c = 0; c < ETM_CMD_MAX; c++) {
		r.cmd = (uint8_t)c;
		roundtrip_req(&r);
		/* Every command in version 2 too, in every format. */
		r.version = 2;
		for (uint8_t fmt = 0; fmt < ETM_FORMAT_MAX; fmt++) {
			r.format = fmt;
			roundtrip_req(&r);
		}
		r.version = 0;
		r.format = ETM_FORMAT_TEXT;
	}
}

/* Version 2: the format byte, the metrics command, and what version 1 cannot carry. */
static void test_request_version2(void **state)
{
	struct etm_request show = { .cmd = ETM_CMD_PROJ_SHOW }, out;
	struct etm_request json = { .cmd = ETM_CMD_PROJ_SHOW, .format = ETM_FORMAT_JSON };
	struct etm_request metrics = { .cmd = ETM_CMD_METRICS };
	uint8_t *buf, *big;
	size_t len;

	(void)state;
	/* The lowest version that carries a request. */
	assert_int_equal(etm_request_version(&show), 1);
	assert_int_equal(etm_request_version(&json), 2);
	assert_int_equal(etm_request_version(&metrics), 2);
	/* v1 encoding is the original layout: cmd and five absent fields, no format byte. */
	assert_int_equal(etm_request_encode(&show, &buf, &len), 0);
	assert_int_equal(len, 1 + 5 * 2);
	free(buf);
	/* v2 adds the format byte last. */
	assert_int_equal(etm_request_encode(&json, &buf, &len), 0);
	assert_int_equal(len, 1 + 5 * 2 + 1);
	assert_int_equal(buf[len - 1], ETM_FORMAT_JSON);
	/* The same bytes are no version-1 request (a trailing byte), and a v2 decode needs the byte. */
	assert_int_equal(etm_request_decode(buf, len, 1, &out), -EPROTO);
	assert_int_equal(etm_request_decode(buf, len - 1, 2, &out), -EPROTO);
	/* An unknown format is refused. */
	big = malloc(len);
	memcpy(big, buf, len);
	big[len - 1] = ETM_FORMAT_MAX;
	assert_int_equal(etm_request_decode(big, len, 2, &out), -EPROTO);
	free(big);
	free(buf);
	/* Version 1 cannot carry JSON or metrics; the encoder refuses rather than drop them. */
	json.version = 1;
	assert_int_equal(etm_request_encode(&json, &buf, &len), -EINVAL);
	metrics.version = 1;
	assert_int_equal(etm_request_encode(&metrics, &buf, &len), -EINVAL);
	json.version = 3;
	assert_int_equal(etm_request_encode(&json, &buf, &len), -EINVAL);
	json.version = 0;
	json.format = ETM_FORMAT_MAX;
	assert_int_equal(etm_request_encode(&json, &buf, &len), -EINVAL);
	/* The metrics command in a version-1 frame is an unknown command. */
	metrics.version = 2;
	assert_int_equal(etm_request_encode(&metrics, &buf, &len), 0);
	assert_int_equal(etm_request_decode(buf, len - 1, 1, &out), -EPROTO);
	assert_int_equal(etm_request_decode(buf, len, 2, &out), 0);
	assert_int_equal(out.cmd, ETM_CMD_METRICS);
	assert_int_equal(out.version, 2);
	etm_request_clear(&out);
	free(buf);
	/* A version this build does not speak. */
	assert_int_equal(etm_request_decode((const uint8_t *)"\4", 1, 0, &out), -EPROTO);
	assert_int_equal(etm_request_decode((const uint8_t *)"\4", 1, 3, &out), -EPROTO);
}

static void test_request_absent_vs_empty(void **state)
{
	struct etm_request in = { .cmd = ETM_CMD_PROJ_SHOW, .proj = "" }, out;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(etm_request_encode(&in, &buf, &len), 0);
	/* cmd, proj: len 0, then four absent markers. */
	assert_int_equal(len, 1 + 5 * 2);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[3], 0xff);
	assert_int_equal(buf[4], 0xff);
	assert_int_equal(etm_request_decode(buf, len, 1, &out), 0);
	assert_non_null(out.proj);
	assert_string_equal(out.proj, "");
	assert_null(out.file);
	assert_null(out.eng);
	etm_request_clear(&out);
	free(buf);
}

static void test_request_limits(void **state)
{
	char name[ETM_MAX_NAME_LEN + 2], path[ETM_MAX_PATH_LEN + 2];
	struct etm_request r = { .cmd = ETM_CMD_OBJ_ADD };
	uint8_t *buf;
	size_t len;

	(void)state;
	memset(name, 'n', sizeof(name));
	memset(path, 'p', sizeof(path));
	name[ETM_MAX_NAME_LEN] = '\0';
	path[ETM_MAX_PATH_LEN] = '\0';
	r.proj = r.eng = r.eng_cmd = r.task = name;
	r.file = path;
	roundtrip_req(&r);

	/* One byte over, each field in turn: the encoder refuses. */
	name[ETM_MAX_NAME_LEN] = 'n';
	name[ETM_MAX_NAME_LEN + 1] = '\0';
	path[ETM_MAX_PATH_LEN] = 'p';
	path[ETM_MAX_PATH_LEN + 1] = '\0';
	{
		char ok[] = "x";
		char **fields[] = { &r.proj, &r.eng, &r.eng_cmd, &r.task };
		size_t i;

		r.proj = r.eng = r.eng_cmd = r.task = r.file = ok;
		for (i = 0; i < 4; i++) {
			*fields[i] = name;
			assert_int_equal(etm_request_encode(&r, &buf, &len), -ENAMETOOLONG);
			*fields[i] = ok;
		}
		r.file = path;
		assert_int_equal(etm_request_encode(&r, &buf, &len), -ENAMETOOLONG);
		r.file = ok;
		r.cmd = ETM_CMD_MAX;
		assert_int_equal(etm_request_encode(&r, &buf, &len), -EINVAL);
	}
}

/* Build a request payload by hand: cmd, then (len, bytes) per field; len < 0 = absent. */
static size_t hand_request(uint8_t *out, uint8_t cmd, const int lens[5], uint8_t fill)
{
	size_t off = 0;
	int i;

	out[off++] = cmd;
	for (i = 0; i < 5; i++) {
		uint16_t l = lens[i] < 0 ? 0xffff : (uint16_t)lens[i];

		out[off++] = (uint8_t)(l >> 8);
		out[off++] = (uint8_t)l;
		if (lens[i] > 0) {
			memset(out + off, fill, (size_t)lens[i]);
			off += (size_t)lens[i];
		}
	}
	return off;
}

static void test_request_decode_rejects(void **state)
{
	static uint8_t buf[8 + 4 * 300 + 5000];
	struct etm_request out;
	int lens[5] = { -1, -1, -1, -1, -1 };
	size_t len;
	int i;

	(void)state;
	/* Field bounds on the decoding side. */
	for (i = 0; i < 5; i++) {
		int max = i == 1 ? ETM_MAX_PATH_LEN : ETM_MAX_NAME_LEN;

		lens[i] = max;
		len = hand_request(buf, ETM_CMD_OBJ_ADD, lens, 'a');
		assert_int_equal(etm_request_decode(buf, len, 1, &out), 0);
		etm_request_clear(&out);
		lens[i] = max + 1;
		len = hand_request(buf, ETM_CMD_OBJ_ADD, lens, 'a');
		assert_int_equal(etm_request_decode(buf, len, 1, &out), -EPROTO);
		lens[i] = -1;
	}
	/* Unknown commands. */
	len = hand_request(buf, ETM_CMD_MAX, lens, 'a');
	assert_int_equal(etm_request_decode(buf, len, 1, &out), -EPROTO);
	len = hand_request(buf, 0xff, lens, 'a');
	assert_int_equal(etm_request_decode(buf, len, 1, &out), -EPROTO);
	/* Empty payload. */
	assert_int_equal(etm_request_decode(buf, 0, 1, &out), -EPROTO);
	/* A NUL anywhere inside a string, each field. */
	for (i = 0; i < 5; i++) {
		int pos;

		lens[i] = 3;
		for (pos = 0; pos < 3; pos++) {
			len = hand_request(buf, ETM_CMD_ENG_CMD, lens, 'a');
			/* Fields before @i are absent, so field @i's bytes start here. */
			buf[1 + 2 * (i + 1) + (size_t)pos] = '\0';
			assert_int_equal(etm_request_decode(buf, len, 1, &out), -EPROTO);
		}
		lens[i] = -1;
	}
	/* A field claiming more bytes than remain. */
	lens[0] = 10;
	len = hand_request(buf, ETM_CMD_PROJ_START, lens, 'a');
	buf[1] = 0;
	buf[2] = 200;
	assert_int_equal(etm_request_decode(buf, len, 1, &out), -EPROTO);
}

static void test_request_truncations_and_trailing(void **state)
{
	struct etm_request in = { .cmd = ETM_CMD_ENG_CMD,
				  .proj = "proj",
				  .file = "/f",
				  .eng = "cslide",
				  .eng_cmd = "showhostpages",
				  .task = "t1" },
			   out;
	uint8_t *buf, *big;
	size_t len, cut;
	unsigned b;

	(void)state;
	assert_int_equal(etm_request_encode(&in, &buf, &len), 0);
	/* Every proper prefix is rejected; decode works on an exact-size copy so ASan sees over-reads. */
	for (cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		memcpy(p, buf, cut);
		assert_int_equal(etm_request_decode(p, cut, 1, &out), -EPROTO);
		free(p);
	}
	/* Any trailing byte is rejected. */
	big = malloc(len + 1);
	memcpy(big, buf, len);
	for (b = 0; b < 256; b++) {
		big[len] = (uint8_t)b;
		assert_int_equal(etm_request_decode(big, len + 1, 1, &out), -EPROTO);
	}
	free(big);
	free(buf);
}

/* ---- END ---- */

static void test_end_roundtrip(void **state)
{
	static const int32_t statuses[] = { 0, 1, ETM_ERR_CONFIG, -1, INT32_MIN, INT32_MAX };
	uint8_t *buf;
	size_t len, i;
	int32_t st;
	char *msg;

	(void)state;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		assert_int_equal(etm_end_encode(statuses[i], "project is not exist", &buf, &len), 0);
		assert_int_equal(len, 4 + strlen("project is not exist"));
		assert_int_equal(etm_end_decode(buf, len, &st, &msg), 0);
		assert_int_equal(st, statuses[i]);
		assert_string_equal(msg, "project is not exist");
		free(msg);
		free(buf);
	}
	/* NULL and "" are the same empty message. */
	assert_int_equal(etm_end_encode(ETM_ERR_INTERNAL, NULL, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(etm_end_decode(buf, len, &st, &msg), 0);
	assert_int_equal(st, ETM_ERR_INTERNAL);
	assert_string_equal(msg, "");
	free(msg);
	free(buf);
}

static void test_end_rejects(void **state)
{
	uint8_t raw[16] = { 0, 0, 0, 1, 'a', 'b', 0, 'c' };
	uint8_t *buf;
	size_t len, cut;
	int32_t st;
	char *msg = NULL;

	(void)state;
	for (cut = 0; cut < 4; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		memcpy(p, raw, cut);
		assert_int_equal(etm_end_decode(p, cut, &st, &msg), -EPROTO);
		free(p);
	}
	assert_int_equal(etm_end_decode(raw, 8, &st, &msg), -EPROTO);
	assert_int_equal(etm_end_decode(raw, 6, &st, &msg), 0);
	assert_string_equal(msg, "ab");
	free(msg);

	/* An over-long message is cut to fit one frame, at a UTF-8 boundary. */
	{
		size_t n = ETM_MAX_PAYLOAD + 10;
		char *huge = malloc(n + 1);

		memset(huge, 'x', n);
		/* "é" (2 bytes) straddling the cut point. */
		huge[ETM_MAX_PAYLOAD - 4 - 1] = (char)0xc3;
		huge[ETM_MAX_PAYLOAD - 4] = (char)0xa9;
		huge[n] = '\0';
		assert_int_equal(etm_end_encode(7, huge, &buf, &len), 0);
		assert_true(len <= ETM_MAX_PAYLOAD);
		assert_int_equal(len, ETM_MAX_PAYLOAD - 1);
		assert_int_equal(etm_end_decode(buf, len, &st, &msg), 0);
		free(msg);
		free(buf);
		free(huge);
	}
}

static void test_status_str(void **state)
{
	(void)state;
	assert_string_equal(etm_status_str(ETM_ERR_INVAL), "invalid parameters");
	assert_string_equal(etm_status_str(ETM_ERR_PROJ_EXISTS), "project has been existed");
	assert_string_equal(etm_status_str(ETM_ERR_PROJ_STARTED), "project has been started");
	assert_string_equal(etm_status_str(ETM_ERR_PROJ_STOPPED), "project has been stopped");
	assert_string_equal(etm_status_str(ETM_ERR_PROJ_NOEXIST), "project is not exist");
	assert_string_equal(etm_status_str(ETM_ERR_ENG_EXISTS), "engine has been existed");
	assert_string_equal(etm_status_str(ETM_ERR_ENG_NOEXIST), "engine is not exist");
	assert_string_equal(etm_status_str(ETM_ERR_TASK_EXISTS), "task has been existed");
	assert_string_equal(etm_status_str(ETM_ERR_TASK_NOEXIST), "task is not exist");
	assert_string_equal(etm_status_str(ETM_ERR_INTERNAL), "etmemd has internal error");
	for (int s = -3; s < ETM_STATUS_MAX + 3; s++) {
		assert_non_null(etm_status_str(s));
		assert_true(strlen(etm_status_str(s)) > 0);
	}
}

/* ---- frame I/O ---- */

static void test_data_all_bytes_survive(void **state)
{
	uint8_t payload[512];
	struct etm_hdr h;
	uint8_t *got;
	int sv[2], i;

	(void)state;
	for (i = 0; i < 512; i++)
		payload[i] = (uint8_t)(255 - i % 256); /* starts with 0xff, 0xfe */
	make_pair(sv);
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, payload, sizeof(payload)), 0);
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, "\xff", 1), 0);
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_END, "\0\0\0\0", 4), 0);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	assert_int_equal(h.type, ETM_FRAME_DATA);
	assert_int_equal(h.len, sizeof(payload));
	assert_memory_equal(got, payload, sizeof(payload));
	free(got);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	assert_int_equal(h.len, 1);
	assert_int_equal(got[0], 0xff);
	free(got);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	assert_int_equal(h.type, ETM_FRAME_END);
	free(got);
	/* Empty payloads arrive as a non-NULL empty string. */
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, NULL, 0), 0);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	assert_int_equal(h.len, 0);
	assert_non_null(got);
	free(got);
	close(sv[0]);
	close(sv[1]);
}

static void test_send_rejects(void **state)
{
	static uint8_t big[ETM_MAX_PAYLOAD + 1];
	int sv[2];

	(void)state;
	make_pair(sv);
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(etm_send_frame(sv[0], 0x55, big, 1), -EINVAL);
	close(sv[1]);
	/* The peer is gone: an error, not SIGPIPE (the test would die). */
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, big, 10), -EPIPE);
	close(sv[0]);
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, big, 10), -EBADF);
}

struct dribble {
	int fd;
	const uint8_t *buf;
	size_t len;
	size_t step;
	long delay_ms;
	bool close_after;
};

static void *dribble_thread(void *arg)
{
	struct dribble *d = arg;
	sigset_t set;
	size_t off = 0;

	/* Leave signals (SIGALRM in the EINTR test) to the reader. */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (off < d->len) {
		size_t n = d->len - off < d->step ? d->len - off : d->step;

		if (write(d->fd, d->buf + off, n) != (ssize_t)n)
			break;
		off += n;
		if (d->delay_ms)
			sleep_ms(d->delay_ms);
	}
	if (d->close_after)
		close(d->fd);
	return NULL;
}

static void test_recv_partial_writes(void **state)
{
	uint8_t payload[3000];
	struct dribble d = { 0 };
	struct etm_hdr h;
	pthread_t th;
	uint8_t *frame, *got;
	size_t flen, i;
	int sv[2];

	(void)state;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	frame = make_frame(ETM_FRAME_DATA, payload, sizeof(payload), &flen);
	make_pair(sv);
	d = (struct dribble){ .fd = sv[0], .buf = frame, .len = flen, .step = 1, .delay_ms = 0 };
	/* One byte at a time for the header, then odd-sized chunks. */
	assert_int_equal(pthread_create(&th, NULL, dribble_thread, &d), 0);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	pthread_join(th, NULL);
	assert_int_equal(h.len, sizeof(payload));
	assert_memory_equal(got, payload, sizeof(payload));
	free(got);

	d.step = 7;
	d.delay_ms = 1;
	assert_int_equal(pthread_create(&th, NULL, dribble_thread, &d), 0);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	pthread_join(th, NULL);
	assert_memory_equal(got, payload, sizeof(payload));
	free(got);
	free(frame);
	close(sv[0]);
	close(sv[1]);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void test_recv_eintr(void **state)
{
	struct sigaction sa = { 0 }, old;
	struct itimerval it = { .it_interval = { 0, 20000 }, .it_value = { 0, 20000 } }, off = { 0 };
	struct dribble d;
	struct etm_hdr h;
	pthread_t th;
	uint8_t *frame, *got;
	size_t flen;
	int sv[2];

	(void)state;
	/* No SA_RESTART: read() really returns EINTR. */
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	frame = make_frame(ETM_FRAME_DATA, "hello world", 11, &flen);
	make_pair(sv);
	d = (struct dribble){ .fd = sv[0], .buf = frame, .len = flen, .step = 5, .delay_ms = 60 };
	assert_int_equal(pthread_create(&th, NULL, dribble_thread, &d), 0);
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(th, NULL);
	sigaction(SIGALRM, &old, NULL);
	/* The timer really interrupted the reads. */
	assert_true(alarms > 0);
	assert_memory_equal(got, "hello world", 11);
	free(got);
	free(frame);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_peer_closes_mid_frame(void **state)
{
	uint8_t payload[100];
	struct etm_hdr h;
	uint8_t *frame, *got;
	size_t flen, cut;

	(void)state;
	memset(payload, 0xfe, sizeof(payload));
	frame = make_frame(ETM_FRAME_END, payload, sizeof(payload), &flen);
	/* Every cut point, including "nothing at all", reads as a reset. */
	for (cut = 0; cut < flen; cut++) {
		int sv[2];

		make_pair(sv);
		assert_int_equal(write(sv[0], frame, cut), (ssize_t)cut);
		close(sv[0]);
		got = (uint8_t *)1;
		assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -ECONNRESET);
		assert_null(got);
		close(sv[1]);
	}
	/* And with a dribbling writer that gives up half way. */
	{
		struct dribble d;
		pthread_t th;
		int sv[2];

		make_pair(sv);
		d = (struct dribble){
			.fd = sv[0], .buf = frame, .len = flen / 2, .step = 3, .delay_ms = 1, .close_after = true
		};
		assert_int_equal(pthread_create(&th, NULL, dribble_thread, &d), 0);
		assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -ECONNRESET);
		pthread_join(th, NULL);
		close(sv[1]);
	}
	free(frame);
}

static void test_recv_bad_frames(void **state)
{
	uint8_t raw[ETM_HDR_LEN];
	struct etm_hdr h;
	uint8_t *got;
	int sv[2];

	(void)state;
	make_pair(sv);
	/* Larger than the caller's bound: refused from the header alone, nothing allocated. */
	etm_hdr_encode(raw, ETM_FRAME_REQUEST, 1000);
	assert_int_equal(write(sv[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	got = (uint8_t *)1;
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, 999), -EMSGSIZE);
	assert_null(got);
	close(sv[0]);
	close(sv[1]);

	make_pair(sv);
	etm_hdr_encode(raw, ETM_FRAME_REQUEST, 0xffffffffU);
	assert_int_equal(write(sv[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);

	make_pair(sv);
	memcpy(raw, "GET / HTTP/1.1\r\n", ETM_HDR_LEN);
	assert_int_equal(write(sv[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -EPROTO);
	close(sv[0]);
	close(sv[1]);

	make_pair(sv);
	etm_hdr_encode(raw, ETM_FRAME_DATA, 0);
	raw[4] = ETM_PROTO_VERSION + 1;
	assert_int_equal(write(sv[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -EPROTONOSUPPORT);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_timeout(void **state)
{
	uint8_t raw[ETM_HDR_LEN + 2];
	struct etm_hdr h;
	uint8_t *got;
	int sv[2];

	(void)state;
	make_pair(sv);
	set_rcvtimeo(sv[1], 100);
	/* Silence. */
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -ETIMEDOUT);
	/* Half a header, then silence. */
	etm_hdr_encode(raw, ETM_FRAME_DATA, 2);
	assert_int_equal(write(sv[0], raw, 5), 5);
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);

	/* A whole header, part of the payload, then silence. */
	make_pair(sv);
	set_rcvtimeo(sv[1], 100);
	assert_int_equal(write(sv[0], raw, ETM_HDR_LEN + 1), ETM_HDR_LEN + 1);
	got = (uint8_t *)1;
	assert_int_equal(etm_recv_frame(sv[1], &h, &got, ETM_MAX_PAYLOAD), -ETIMEDOUT);
	assert_null(got);
	close(sv[0]);
	close(sv[1]);
}

struct slow_reader {
	int fd;
	uint8_t *buf;
	size_t want;
};

static void *slow_reader_thread(void *arg)
{
	struct slow_reader *r = arg;
	size_t got = 0;

	while (got < r->want) {
		ssize_t n = read(r->fd, r->buf + got, r->want - got < 1000 ? r->want - got : 1000);

		if (n <= 0)
			break;
		got += (size_t)n;
		sleep_ms(1);
	}
	r->want = got;
	return NULL;
}

static void test_send_partial_writes(void **state)
{
	static uint8_t payload[ETM_MAX_PAYLOAD];
	struct slow_reader r;
	pthread_t th;
	int sv[2], sz = 4096;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ (i >> 8));
	make_pair(sv);
	/* Small buffers force sendmsg() to write the frame in pieces. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	r = (struct slow_reader){ .fd = sv[1],
				  .buf = malloc(ETM_HDR_LEN + sizeof(payload)),
				  .want = ETM_HDR_LEN + sizeof(payload) };
	assert_int_equal(pthread_create(&th, NULL, slow_reader_thread, &r), 0);
	assert_int_equal(etm_send_frame(sv[0], ETM_FRAME_DATA, payload, sizeof(payload)), 0);
	pthread_join(th, NULL);
	assert_int_equal(r.want, ETM_HDR_LEN + sizeof(payload));
	assert_memory_equal(r.buf + ETM_HDR_LEN, payload, sizeof(payload));
	free(r.buf);
	close(sv[0]);
	close(sv[1]);
}

/* ---- incremental reader and deadlines ---- */

static void test_reader_byte_by_byte(void **state)
{
	static const char msg[] = "a request payload";
	struct etm_frame_reader r;
	uint8_t *f;
	size_t flen, i;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	f = make_frame(ETM_FRAME_REQUEST, msg, sizeof(msg) - 1, &flen);
	etm_frame_reader_init(&r, 1024);
	assert_int_equal(etm_frame_reader_step(&r, sv[1]), -EAGAIN);
	for (i = 0; i < flen; i++) {
		int ret;

		assert_int_equal(write(sv[0], f + i, 1), 1);
		while ((ret = etm_frame_reader_step(&r, sv[1])) == -EINPROGRESS)
			;
		assert_int_equal(ret, i + 1 == flen ? 0 : -EAGAIN);
	}
	assert_int_equal(r.hdr.type, ETM_FRAME_REQUEST);
	assert_int_equal(r.hdr.len, sizeof(msg) - 1);
	assert_memory_equal(r.payload, msg, sizeof(msg));
	/* Complete stays complete. */
	assert_int_equal(etm_frame_reader_step(&r, sv[1]), 0);
	etm_frame_reader_clear(&r);
	assert_null(r.payload);
	assert_int_equal(r.got, 0);
	free(f);
	close(sv[0]);
	close(sv[1]);
}

static void test_reader_rejects_before_allocating(void **state)
{
	struct etm_frame_reader r;
	uint8_t raw[ETM_HDR_LEN];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	etm_frame_reader_init(&r, 100);
	etm_hdr_encode(raw, ETM_FRAME_REQUEST, 101);
	assert_int_equal(write(sv[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	assert_int_equal(etm_frame_reader_step(&r, sv[1]), -EMSGSIZE);
	assert_null(r.payload);
	etm_frame_reader_clear(&r);
	/* EOF mid-header. */
	assert_int_equal(write(sv[0], raw, 3), 3);
	close(sv[0]);
	assert_int_equal(etm_frame_reader_step(&r, sv[1]), -EINPROGRESS);
	assert_int_equal(etm_frame_reader_step(&r, sv[1]), -ECONNRESET);
	etm_frame_reader_clear(&r);
	close(sv[1]);
}

/* A deadline bounds the whole frame, not each read. */
static void test_recv_deadline(void **state)
{
	uint8_t raw[ETM_HDR_LEN];
	struct timespec t0, t1, deadline;
	struct etm_hdr h;
	uint8_t *got;
	int sv[2];

	(void)state;
	make_pair(sv);
	etm_hdr_encode(raw, ETM_FRAME_DATA, 0);
	assert_int_equal(write(sv[0], raw, 4), 4);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	deadline = t0;
	deadline.tv_nsec += 200 * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	assert_int_equal(etm_recv_frame_by(sv[1], &h, &got, ETM_MAX_PAYLOAD, &deadline), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec > deadline.tv_sec ||
		    (t1.tv_sec == deadline.tv_sec && t1.tv_nsec >= deadline.tv_nsec - 1000000L));
	assert_null(got);
	close(sv[0]);
	close(sv[1]);
}

/* A send with a past deadline never blocks: it fails once the peer's buffer is full. */
static void test_send_deadline_never_blocks(void **state)
{
	static uint8_t payload[ETM_MAX_PAYLOAD];
	struct timespec now;
	int sv[2], sz = 4096, ret, i;

	(void)state;
	make_pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Nobody reads sv[1]: the buffer fills and the send gives up at once. */
	for (i = 0, ret = 0; i < 100 && ret == 0; i++)
		ret = etm_send_frame_by(sv[0], ETM_FRAME_DATA, payload, sizeof(payload), &now);
	assert_int_equal(ret, -ETIMEDOUT);
	/* A short frame on a fresh socket goes out at once. */
	close(sv[0]);
	close(sv[1]);
	make_pair(sv);
	assert_int_equal(etm_send_frame_by(sv[0], ETM_FRAME_END, "\0\0\0\0", 4, &now), 0);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_hdr_rejects),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_version2),
		cmocka_unit_test(test_request_absent_vs_empty),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_request_decode_rejects),
		cmocka_unit_test(test_request_truncations_and_trailing),
		cmocka_unit_test(test_end_roundtrip),
		cmocka_unit_test(test_end_rejects),
		cmocka_unit_test(test_status_str),
		cmocka_unit_test(test_data_all_bytes_survive),
		cmocka_unit_test(test_send_rejects),
		cmocka_unit_test(test_recv_partial_writes),
		cmocka_unit_test(test_recv_eintr),
		cmocka_unit_test(test_recv_peer_closes_mid_frame),
		cmocka_unit_test(test_recv_bad_frames),
		cmocka_unit_test(test_recv_timeout),
		cmocka_unit_test(test_send_partial_writes),
		cmocka_unit_test(test_reader_byte_by_byte),
		cmocka_unit_test(test_reader_rejects_before_allocating),
		cmocka_unit_test(test_recv_deadline),
		cmocka_unit_test(test_send_deadline_never_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
