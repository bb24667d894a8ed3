/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Key-value client for bench/server.sh (issue #10): loads a Redis server
 * with compressible values and reads a hot set at a fixed rate, open loop.
 *
 *   etmem-bench-kv load --socket PATH --keys N --value-size B [--entropy F]
 *       SET k000000000 .. k(N-1) on one connection, pipelined. Value i
 *       starts with "v%09u" (i) and goes on with a fixed text in which a
 *       fraction F of the bytes (default 0.3) is a pseudo-random letter:
 *       compressible, like most real payloads, but not trivially so.
 *       Keys are loaded in order, so consecutive keys share pages (a
 *       1000-byte value is one 1 KiB jemalloc slot: 4 per page).
 *
 *   etmem-bench-kv run --socket PATH --keys N --hot-keys H --rate R --out DIR
 *       GET of a key drawn uniformly from [0, H) every 1/R s, for ever.
 *       Open loop: a sender thread writes each request at its intended time
 *       t_k = t_0 + k/R (late if the socket blocks, never skipped), and a
 *       receiver thread parses the replies (hiredis's reader; one connection
 *       answers in order) and records reply time - t_k. A stalled server
 *       therefore shows in the latency of every request that should have been
 *       sent meanwhile (no coordinated omission).
 *       SIGUSR1 closes a window: DIR/win-N.lat (per reply, in reply order, two
 *       u64: the intended send time, CLOCK_MONOTONIC ns, and the latency in
 *       ns) and DIR/win-N.json (a summary line), N = 0, 1, ...
 *       SIGTERM ends the run. Every reply is checked (type, length, the key's
 *       own prefix): mismatches count as errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 10    /* "k%09u" */
#define PREFIX_LEN 10 /* "v%09u" */
#define RING (1u << 16)
#define LOAD_BATCH 1000
#define LATE_NS 1000000ULL /* a send more than 1 ms behind its schedule is "late" */

struct opts {
	const char *socket, *out;
	unsigned keys, hot_keys, value_size;
	double entropy, rate;
	uint64_t seed;
};

struct pending {
	uint64_t t_ns;
	unsigned key;
};

struct run {
	const struct opts *o;
	int fd;
	struct pending ring[RING];
	_Atomic uint64_t head, tail; /* head: next to send (sender), tail: next reply (receiver) */
	atomic_bool stop;
	_Atomic uint64_t lag_max_ns, late;
	/* the current window (receiver only): latencies, and (intended time, latency) pairs */
	uint64_t *lat, *pairs;
	size_t nlat, cap;
	uint64_t errors, win_start_ns;
	unsigned win;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void make_value(char *v, unsigned len, unsigned i, double entropy)
{
	static const char text[] = "etmem bench value: the quick brown fox jumps over the lazy dog. ";
	uint64_t s = ((uint64_t)i + 1) * 0x9e3779b97f4a7c15ULL;
	unsigned thr = (unsigned)(entropy * 65536.0);
	char head[16]; /* keys < 10^9: exactly PREFIX_LEN characters */

	for (unsigned j = 0; j < len; j++) {
		uint64_t r = xorshift(&s);

		v[j] = (unsigned)(r & 0xffff) < thr ? (char)('a' + (r >> 16) % 26) : text[j % (sizeof(text) - 1)];
	}
	snprintf(head, sizeof(head), "v%09u", i);
	memcpy(v, head, len < PREFIX_LEN ? len : PREFIX_LEN);
}

static redisContext *connect_sync(const char *path)
{
	redisContext *c = redisConnectUnix(path);

	if (!c || c->err) {
		fprintf(stderr, "etmem-bench-kv: connect %s: %s\n", path, c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	return c;
}

static int load_replies(redisContext *c, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		redisReply *r = NULL;

		if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_STATUS) {
			fprintf(stderr, "etmem-bench-kv: SET failed: %s\n", r && r->str ? r->str : c->errstr);
			if (r)
				freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

static int cmd_load(const struct opts *o)
{
	redisContext *c = connect_sync(o->socket);
	char *v = malloc(o->value_size ? o->value_size : 1);
	unsigned queued = 0;
	int rc = 0;

	if (!c || !v) {
		free(v);
		if (c)
			redisFree(c);
		return 1;
	}
	for (unsigned i = 0; i < o->keys && !rc; i++) {
		char key[16]; /* keys < 10^9: exactly KEY_LEN characters */

		snprintf(key, sizeof(key), "k%09u", i);
		make_value(v, o->value_size, i, o->entropy);
		redisAppendCommand(c, "SET %b %b", key, (size_t)KEY_LEN, v, (size_t)o->value_size);
		if (++queued == LOAD_BATCH) {
			rc = load_replies(c, queued);
			queued = 0;
		}
	}
	if (!rc)
		rc = load_replies(c, queued);
	free(v);
	redisFree(c);
	if (!rc)
		printf("{\"loaded\":%u,\"value_size\":%u,\"entropy\":%g}\n", o->keys, o->value_size, o->entropy);
	return rc ? 1 : 0;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* send(2) without SIGPIPE: the connection closing ends the run, not the process. */
static int send_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void atomic_max(_Atomic uint64_t *m, uint64_t v)
{
	uint64_t cur = atomic_load(m);

	while (v > cur && !atomic_compare_exchange_weak(m, &cur, v))
		;
}

static void *sender_main(void *arg)
{
	struct run *r = arg;
	const struct opts *o = r->o;
	uint64_t s = o->seed ? o->seed : 0x243f6a8885a308d3ULL, t0 = now_ns() + 1000000;
	double period = 1e9 / o->rate;

	for (uint64_t k = 0; !atomic_load(&r->stop); k++) {
		uint64_t t = t0 + (uint64_t)((double)k * period), now;
		struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL), .tv_nsec = (long)(t % 1000000000ULL) };
		unsigned key = (unsigned)(xorshift(&s) % o->hot_keys);
		char cmd[64];
		int n;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		while (atomic_load(&r->head) - atomic_load(&r->tail) >= RING && !atomic_load(&r->stop))
			usleep(100); /* 43 s of backlog at 1.5k/s: the server is gone */
		now = now_ns();
		if (now > t) {
			atomic_max(&r->lag_max_ns, now - t);
			if (now - t > LATE_NS)
				atomic_fetch_add(&r->late, 1);
		}
		n = snprintf(cmd, sizeof(cmd), "*2\r\n$3\r\nGET\r\n$%d\r\nk%09u\r\n", KEY_LEN, key);
		/* Queued before the write: the reply may come before write() returns. */
		r->ring[atomic_load(&r->head) % RING] = (struct pending){ t, key };
		atomic_fetch_add(&r->head, 1);
		if (send_all(r->fd, cmd, (size_t)n)) {
			if (!atomic_load(&r->stop))
				perror("etmem-bench-kv: send");
			atomic_store(&r->stop, true);
		}
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)n);
	return (double)v[i < n ? i : n - 1] / 1e3;
}

static int write_file(const char *dir, unsigned win, const char *ext, const void *buf, size_t len)
{
	char tmp[4096], path[4000];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/win-%u.%s", dir, win, ext) >= sizeof(path))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, buf, len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

/* Write out the window that ends now and start the next one. */
static int close_window(struct run *r)
{
	uint64_t end = now_ns(), *s = malloc((r->nlat ? r->nlat : 1) * sizeof(*s));
	double secs = (double)(end - r->win_start_ns) / 1e9;
	char js[768];
	int n, rc;

	if (!s)
		return -1;
	memcpy(s, r->lat, r->nlat * sizeof(*s));
	qsort(s, r->nlat, sizeof(*s), cmp_u64);
	n = snprintf(js, sizeof(js),
		     "{\"window\":%u,\"seconds\":%.3f,\"requests\":%zu,\"rate\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
		     "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"errors\":%" PRIu64
		     ",\"send_lag_max_us\":%.1f,\"late_sends\":%" PRIu64 ",\"in_flight\":%" PRIu64 "}\n",
		     r->win, secs, r->nlat, (double)r->nlat / secs, pct_us(s, r->nlat, 0.5), pct_us(s, r->nlat, 0.9),
		     pct_us(s, r->nlat, 0.99), pct_us(s, r->nlat, 0.999), r->nlat ? (double)s[r->nlat - 1] / 1e3 : 0,
		     r->errors, (double)atomic_exchange(&r->lag_max_ns, 0) / 1e3, atomic_exchange(&r->late, 0),
		     atomic_load(&r->head) - atomic_load(&r->tail));
	free(s);
	/* The raw latencies first: the summary's appearance tells the driver both are there. */
	rc = write_file(r->o->out, r->win, "lat", r->pairs, r->nlat * 2 * sizeof(*r->pairs));
	if (!rc)
		rc = write_file(r->o->out, r->win, "json", js, (size_t)n);
	r->win++;
	r->nlat = 0;
	r->errors = 0;
	r->win_start_ns = end;
	return rc;
}

static void record(struct run *r, const redisReply *rep, uint64_t now)
{
	struct pending p = r->ring[atomic_load(&r->tail) % RING];
	char head[16]; /* keys < 10^9: exactly PREFIX_LEN characters */

	atomic_fetch_add(&r->tail, 1);
	snprintf(head, sizeof(head), "v%09u", p.key);
	if (rep->type != REDIS_REPLY_STRING || rep->len != r->o->value_size ||
	    memcmp(rep->str, head, r->o->value_size < PREFIX_LEN ? r->o->value_size : PREFIX_LEN))
		r->errors++;
	if (r->nlat == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 65536;
		uint64_t *l = realloc(r->lat, cap * sizeof(*l)), *pr;

		if (l)
			r->lat = l;
		pr = l ? realloc(r->pairs, cap * 2 * sizeof(*pr)) : NULL;
		if (!pr) {
			r->errors++;
			return;
		}
		r->pairs = pr;
		r->cap = cap;
	}
	r->lat[r->nlat] = now > p.t_ns ? now - p.t_ns : 0;
	r->pairs[2 * r->nlat] = p.t_ns;
	r->pairs[2 * r->nlat + 1] = r->lat[r->nlat];
	r->nlat++;
}

/* Read what the socket has and record every complete reply. -1 on EOF/error. */
static int drain(struct run *r, redisReader *rd)
{
	char buf[65536];
	ssize_t n = read(r->fd, buf, sizeof(buf));
	uint64_t now = now_ns();
	void *rep;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0 || redisReaderFeed(rd, buf, (size_t)n) != REDIS_OK)
		return -1;
	while (redisReaderGetReply(rd, &rep) == REDIS_OK && rep) {
		record(r, rep, now);
		freeReplyObject(rep);
	}
	return rd->err ? -1 : 0;
}

static int receive_loop(struct run *r, int sfd)
{
	redisReader *rd = redisReaderCreate();
	struct pollfd pf[2] = { { .fd = r->fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
	int rc = 0;

	if (!rd)
		return 1;
	r->win_start_ns = now_ns();
	while (!rc) {
		if (poll(pf, 2, 100) < 0 && errno != EINTR)
			rc = 1;
		if (!rc && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && drain(r, rd)) {
			fprintf(stderr, "etmem-bench-kv: connection lost\n");
			rc = 1;
		}
		if (!rc && (pf[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGUSR1)
				rc = close_window(r) ? 1 : 0;
			else
				break; /* SIGTERM/SIGINT: done */
		}
	}
	redisReaderFree(rd);
	return rc;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "etmem-bench-kv: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "etmem-bench-kv: connect %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int cmd_run(const struct opts *o)
{
	struct run *r = calloc(1, sizeof(*r));
	sigset_t ss;
	pthread_t snd;
	int sfd, rc;

	if (!r)
		return 1;
	r->o = o;
	/* Signals go to the signalfd only, in every thread. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	r->fd = connect_unix(o->socket);
	if (sfd < 0 || r->fd < 0 || pthread_create(&snd, NULL, sender_main, r)) {
		free(r);
		return 1;
	}
	rc = receive_loop(r, sfd);
	atomic_store(&r->stop, true);
	shutdown(r->fd, SHUT_RDWR); /* a sender blocked in write() returns */
	pthread_join(snd, NULL);
	close(r->fd);
	close(sfd);
	free(r->lat);
	free(r->pairs);
	free(r);
	return rc;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "entropy", required_argument, NULL, 'e' },
		{ "hot-keys", required_argument, NULL, 'h' },
		{ "rate", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .value_size = 1000, .entropy = 0.3, .rate = 1500 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'k':
			o->keys = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			o->value_size = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			o->entropy = strtod(optarg, NULL);
			break;
		case 'h':
			o->hot_keys = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->rate = strtod(optarg, NULL);
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'S':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		default:
			return -1;
		}
	}
	if (!o->socket || !o->keys || o->keys > 999999999 || o->entropy < 0 || o->entropy > 1 ||
	    o->value_size > (64u << 20))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *mode = argc > 1 ? argv[1] : "";

	if (parse_opts(argc - 1, argv + 1, &o)) {
		fprintf(stderr, "usage: etmem-bench-kv load --socket PATH --keys N [--value-size B] [--entropy F]\n"
				"       etmem-bench-kv run --socket PATH --keys N --hot-keys H [--rate R] --out DIR "
				"[--value-size B] [--seed S]\n");
		return 2;
	}
	if (!strcmp(mode, "load"))
		return cmd_load(&o);
	if (!strcmp(mode, "run") && o.hot_keys && o.hot_keys <= o.keys && o.rate > 0 && o.rate <= 1e6 && o.out)
		return cmd_run(&o);
	fprintf(stderr, "etmem-bench-kv: bad mode or options (see the header of bench/kvclient.c)\n");
	return 2;
}
