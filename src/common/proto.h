/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The etmem <-> etmemd wire protocol (docs/protocol.md is the normative text).
 *
 * Every message is a frame: a 12-byte header followed by a payload.
 *   magic   u32 BE  'ETMM' (0x45544d4d)
 *   version u8      1 or 2 (ETM_PROTO_VERSION_MIN..ETM_PROTO_VERSION)
 *   type    u8      enum etm_frame_type
 *   flags   u16 BE  0 (reserved; non-zero is rejected)
 *   length  u32 BE  payload bytes, at most ETM_MAX_PAYLOAD
 *
 * A connection carries one REQUEST from the client, then the daemon answers
 * with zero or more DATA frames (arbitrary bytes: command output) and exactly
 * one END frame (status + one-line message), then closes. The daemon
 * answers in the version of the request, so a version-1 client reads its
 * reply; a client sends the lowest version that carries its request
 * (etm_request_version()), so an etmemd of version 1 serves it when it can.
 */
#ifndef ETM_PROTO_H
#define ETM_PROTO_H

#include <stddef.h>
#include <time.h>
#include <stdint.h>

#define ETM_PROTO_MAGIC 0x45544d4dU
/* The newest version this build speaks, and the oldest it still accepts. */
#define ETM_PROTO_VERSION 2
#define ETM_PROTO_VERSION_MIN 1
#define ETM_HDR_LEN 12
#define ETM_MAX_PAYLOAD (64 * 1024)
/* Bounds of request strings (bytes, without NUL). */
#define ETM_MAX_NAME_LEN 255
#define ETM_MAX_PATH_LEN 4095
/* The largest valid request payload: cmd, five length prefixes, the strings, the format (v2). */
#define ETM_MAX_REQUEST (1 + 5 * 2 + 4 * ETM_MAX_NAME_LEN + ETM_MAX_PATH_LEN + 1)
/* The abstract socket name: 1..106 bytes (sun_path minus the leading NUL). */
#define ETM_SOCKET_NAME_MAX 106

enum etm_frame_type {
	ETM_FRAME_REQUEST = 0x01,
	ETM_FRAME_DATA = 0x81,
	ETM_FRAME_END = 0x82,
};

/* Request commands; numbering kept from the original client. */
enum etm_cmd {
	ETM_CMD_OBJ_ADD = 0,
	ETM_CMD_OBJ_DEL = 1,
	ETM_CMD_PROJ_START = 2,
	ETM_CMD_PROJ_STOP = 3,
	ETM_CMD_PROJ_SHOW = 4,
	ETM_CMD_ENG_CMD = 5,
	ETM_CMD_METRICS = 6, /* version 2: the metrics text (docs/metrics.md) */
	ETM_CMD_MAX,
};

/* The output format a version-2 request asks for (version 1: always text). */
enum etm_format {
	ETM_FORMAT_TEXT = 0,
	ETM_FORMAT_JSON = 1, /* docs/json.md */
	ETM_FORMAT_MAX,
};

/* Reply status carried in the END frame; 0 is success. */
enum etm_status {
	ETM_OK = 0,
	ETM_ERR_INVAL,
	ETM_ERR_PROJ_EXISTS,
	ETM_ERR_PROJ_STARTED,
	ETM_ERR_PROJ_STOPPED,
	ETM_ERR_PROJ_NOEXIST,
	ETM_ERR_ENG_EXISTS,
	ETM_ERR_ENG_NOEXIST,
	ETM_ERR_TASK_EXISTS,
	ETM_ERR_TASK_NOEXIST,
	ETM_ERR_INTERNAL,
	ETM_ERR_BUSY,	       /* the object is being started/stopped by another client */
	ETM_ERR_PROTO,	       /* malformed request */
	ETM_ERR_NOT_SUPPORTED, /* e.g. an engine without a runtime */
	ETM_ERR_CONFIG,	       /* the configuration file was rejected */
	ETM_STATUS_MAX,
};

/* A short fixed text for @status ("project is not exist", ...). */
const char *etm_status_str(int status);

struct etm_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t len;
};

/* Request fields; NULL when absent. Strings are NUL-free, bounded as above. */
struct etm_request {
	uint8_t version; /* of the frame it travels in; 0 when encoding: the lowest that carries it */
	uint8_t cmd;
	uint8_t format; /* enum etm_format; only version 2 carries it */
	char *proj;
	char *file; /* absolute path, resolved by the client */
	char *eng;
	char *eng_cmd;
	char *task;
};

/* A header of version ETM_PROTO_VERSION; _version: of @version. */
void etm_hdr_encode(uint8_t out[ETM_HDR_LEN], uint8_t type, uint32_t len);
void etm_hdr_encode_version(uint8_t out[ETM_HDR_LEN], uint8_t version, uint8_t type, uint32_t len);
/* 0, or -EPROTO (bad magic/flags/type), -EPROTONOSUPPORT (version), -EMSGSIZE (length). */
int etm_hdr_decode(const uint8_t in[ETM_HDR_LEN], struct etm_hdr *hdr);

/*
 * Request payload: cmd u8, then five fields in the order proj, file, eng,
 * eng_cmd, task, each u16 BE length followed by that many bytes; 0xffff marks
 * an absent field; version 2 adds format u8. Nothing may follow.
 */
/* The lowest version that carries @req: 2 for metrics or a format other than text, else 1. */
uint8_t etm_request_version(const struct etm_request *req);
/*
 * Encode in @req->version (0: etm_request_version()); -EINVAL for an unknown
 * cmd or format, or a version too old for them; -ENAMETOOLONG for a field
 * over its bound.
 */
int etm_request_encode(const struct etm_request *req, uint8_t **buf, size_t *len);
/*
 * Decode the payload of a REQUEST frame of @version: 0 or -EPROTO / -ENOMEM;
 * on failure *req holds nothing to free.
 */
int etm_request_decode(const uint8_t *buf, size_t len, uint8_t version, struct etm_request *req);
void etm_request_clear(struct etm_request *req);

/* END payload: status i32 BE, then the message (UTF-8, no NUL, may be empty). */
int etm_end_encode(int32_t status, const char *msg, uint8_t **buf, size_t *len);
/* *msg is a new NUL-terminated string. */
int etm_end_decode(const uint8_t *buf, size_t len, int32_t *status, char **msg);

/*
 * Blocking frame I/O on a stream socket; timeouts are the socket's own
 * (SO_RCVTIMEO/SO_SNDTIMEO). recv returns -ECONNRESET on EOF mid-frame,
 * -ETIMEDOUT on a timeout, and never accepts more than @max payload bytes.
 */
int etm_send_frame(int fd, uint8_t type, const void *payload, size_t len);
int etm_recv_frame(int fd, struct etm_hdr *hdr, uint8_t **payload, size_t max);
/*
 * The same, but the whole frame must have gone out / arrived by @deadline
 * (CLOCK_MONOTONIC), whatever the socket's timeouts: no per-call timeout
 * that a peer trickling one byte at a time could renew. A deadline already
 * past makes a send non-blocking: it succeeds only if the frame fits in the
 * socket buffer at once.
 */
int etm_send_frame_by(int fd, uint8_t type, const void *payload, size_t len, const struct timespec *deadline);
/* The same in protocol @version (the daemon answers in its client's). */
int etm_send_frame_version(int fd, uint8_t version, uint8_t type, const void *payload, size_t len,
			   const struct timespec *deadline);
int etm_recv_frame_by(int fd, struct etm_hdr *hdr, uint8_t **payload, size_t max, const struct timespec *deadline);

/*
 * One frame read piece by piece from a non-blocking socket, for a server
 * that waits on many connections in one poll(): the header is checked, and
 * the payload allocated, only once the header is complete.
 */
struct etm_frame_reader {
	uint8_t raw[ETM_HDR_LEN];
	struct etm_hdr hdr;
	uint8_t *payload; /* hdr.len + 1 bytes (NUL-terminated) once the header is in */
	size_t got;	  /* bytes of header and payload read so far */
	size_t max;	  /* the largest payload accepted */
};

void etm_frame_reader_init(struct etm_frame_reader *r, size_t max);
/* Free the payload and start over. */
void etm_frame_reader_clear(struct etm_frame_reader *r);
/*
 * One read(2): 0 once the frame is complete (then r->hdr and r->payload hold
 * it; the caller takes the payload and sets r->payload to NULL, or clears);
 * -EINPROGRESS after progress, call again; -EAGAIN when the socket has
 * nothing more now; else the errors of etm_recv_frame().
 */
int etm_frame_reader_step(struct etm_frame_reader *r, int fd);

#endif
