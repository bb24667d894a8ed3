/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Configuration files: the spec's file checks, the shape bounds and GKeyFile
 * loading, and the error line. Every rejection is one line naming the file
 * (and, for keys, the section, the key, the bad value and what would have
 * been allowed), because the administrator only ever sees that line in
 * `etmem obj add`. Keys are read by keys.c, sections by conf_spec.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cleanup.h"
#include "common/escape.h"

/* Values quoted in error messages are cut here: a 10 MiB value is no help. */
#define ERR_VALUE_MAX 64

/* ---------------------------------------------------------------- errors */

/* Quote @v printable: control bytes and non-ASCII as \xNN, cut at ERR_VALUE_MAX. */
static void append_value(GString *s, const char *v)
{
	char buf[ETM_ESCAPED_SIZE(ERR_VALUE_MAX)];

	etm_escape(buf, sizeof(buf), v, ERR_VALUE_MAX, true);
	g_string_append(s, buf);
}

int etm_conf_error(struct etm_conf *conf, const char *group, const char *key, const char *value, const char *fmt, ...)
{
	va_list ap;

	/* Keep the first error: later ones are usually its consequences. */
	if (!conf || !conf->err || conf->err->len)
		return -EINVAL;
	g_string_append_printf(conf->err, "config %s:", conf->path ? conf->path : "(unnamed)");
	if (group)
		g_string_append_printf(conf->err, " [%s]", group);
	if (key) {
		g_string_append_printf(conf->err, " %s", key);
		if (value) {
			g_string_append_c(conf->err, '=');
			append_value(conf->err, value);
		}
	}
	g_string_append(conf->err, ": ");
	va_start(ap, fmt);
	g_string_append_vprintf(conf->err, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A file-level error (no conf yet): "config PATH: REASON". */
static int file_error(GString *err, const char *path, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int file_error(GString *err, const char *path, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->len)
		return rc;
	g_string_append(err, "config ");
	append_value(err, path ? path : "(null)");
	g_string_append(err, ": ");
	va_start(ap, fmt);
	g_string_append_vprintf(err, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---------------------------------------------------------- file loading */

static struct etm_conf *conf_new(const char *name, GString *err)
{
	struct etm_conf *conf = g_new0(struct etm_conf, 1);

	conf->path = g_strdup(name);
	conf->kf = g_key_file_new();
	/*
	 * The caller's string collects the error so that it reaches the client
	 * as is; without one, the conf keeps its own.
	 */
	conf->err = err;
	conf->own_err = !err;
	if (!err)
		conf->err = g_string_new(NULL);
	return conf;
}

void etm_conf_free(struct etm_conf *conf)
{
	if (!conf)
		return;
	if (conf->own_err)
		g_string_free(conf->err, TRUE);
	if (conf->kf)
		g_key_file_free(conf->kf);
	g_free(conf->path);
	g_free(conf);
}

/*
 * The shape bounds (config.h), on the raw bytes, as GKeyFile will see them:
 * lines end at \n, leading blanks are skipped, '#' starts a comment, '['
 * a section, anything else is a key (or a syntax error GKeyFile reports).
 * Stops at the first bound passed, so a hostile file costs one pass.
 */
static int conf_prescan(const char *name, const char *data, size_t len, GString *err)
{
	const char *p = data, *end = data + len;
	size_t sections = 0, keys = 0, line = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if ((size_t)(le - p) > ETM_CONF_MAX_LINE)
			return file_error(err, name, -E2BIG,
					  "line %zu is longer than %d bytes (the longest line allowed)", line,
					  ETM_CONF_MAX_LINE);
		while (p < le && g_ascii_isspace(*p))
			p++;
		if (p < le && *p == '[' && ++sections > ETM_CONF_MAX_SECTIONS)
			return file_error(err, name, -E2BIG,
					  "more than %d sections (line %zu): a file holds one [project], [engine] "
					  "and [task]",
					  ETM_CONF_MAX_SECTIONS, line);
		if (p < le && *p != '[' && *p != '#' && ++keys > ETM_CONF_MAX_KEYS)
			return file_error(err, name, -E2BIG, "more than %d keys (line %zu)", ETM_CONF_MAX_KEYS, line);
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	return 0;
}

int etm_conf_load_data(const char *name, const char *data, size_t len, struct etm_conf **out, GString *err)
{
	g_autoptr(etm_conf) conf = NULL;
	g_autoptr(GError) gerr = NULL;
	int rc;

	*out = NULL;
	if (!name || (!data && len))
		return file_error(err, name, -EINVAL, "no data");
	if (len > ETM_CONF_MAX_SIZE)
		return file_error(err, name, -EFBIG, "size %zu exceeds %d bytes", len, ETM_CONF_MAX_SIZE);
	/* GKeyFile stops at a NUL; a NUL in a text file is a mistake or an attack. */
	if (len && memchr(data, '\0', len))
		return file_error(err, name, -EINVAL, "contains a NUL byte, not a text file");
	if (len && (rc = conf_prescan(name, data, len, err)))
		return rc;
	conf = conf_new(name, err);
	if (!g_key_file_load_from_data(conf->kf, len ? data : "", len, G_KEY_FILE_NONE, &gerr))
		return file_error(conf->err, name, -EINVAL, "cannot parse: %s", gerr->message);
	*out = g_steal_pointer(&conf);
	return 0;
}

static const char *file_type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int etm_conf_owner_root(const struct stat *st, GString *why)
{
	if (st->st_uid == 0 && st->st_gid == 0)
		return 0;
	g_string_printf(why, "owner %u:%u not allowed (must be owned by root, 0:0)", (unsigned)st->st_uid,
			(unsigned)st->st_gid);
	return -EPERM;
}

/* The spec's checks on the opened file: regular, owner (@owner_ok), mode, size. */
static int check_file(int fd, const char *path, etm_conf_owner_fn owner_ok, GString *err)
{
	g_autoptr(GString) why = g_string_new(NULL);
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0) {
		rc = -errno;
		return file_error(err, path, rc, "cannot stat: %s", strerror(-rc));
	}
	if (!S_ISREG(st.st_mode))
		return file_error(err, path, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "%s, must be a regular file",
				  file_type_name(st.st_mode));
	if ((rc = owner_ok(&st, why)))
		return file_error(err, path, rc, "%s", why->str);
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400)
		return file_error(err, path, -EPERM, "mode %04o not allowed (must be 0600 or 0400)",
				  (unsigned)(st.st_mode & 07777));
	if (st.st_size > ETM_CONF_MAX_SIZE)
		return file_error(err, path, -EFBIG, "size %lld exceeds %d bytes (10 MiB)", (long long)st.st_size,
				  ETM_CONF_MAX_SIZE);
	return 0;
}

/*
 * A buffer of one byte more than allowed, to notice a file that grew after
 * fstat. Mapped, not malloc'ed: once glibc has freed one 10 MiB mmap'ed
 * chunk it raises its mmap threshold, later buffers land on the client
 * thread's arena and stay resident (malloc_trim does not give back an
 * arena's top), ~10 MiB per arena.
 */
#define READ_BUF_LEN (ETM_CONF_MAX_SIZE + 1)

struct read_buf {
	char *p;
};

static void read_buf_clear(struct read_buf *b)
{
	if (b->p)
		munmap(b->p, READ_BUF_LEN);
}
typedef struct read_buf read_buf;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(read_buf, read_buf_clear)

/* Read all of @fd into @buf->p (mapped here): the byte count, or a negative errno with @err set. */
static ssize_t read_file(int fd, const char *path, struct read_buf *buf, GString *err)
{
	size_t got = 0;

	buf->p = mmap(NULL, READ_BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf->p == MAP_FAILED) {
		buf->p = NULL;
		return file_error(err, path, -ENOMEM, "out of memory for a %d-byte buffer", READ_BUF_LEN);
	}
	for (;;) {
		ssize_t r = read(fd, buf->p + got, READ_BUF_LEN - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return file_error(err, path, -errno, "cannot read: %s", strerror(errno));
		if (r == 0)
			return (ssize_t)got;
		got += (size_t)r;
		if (got > ETM_CONF_MAX_SIZE)
			return file_error(err, path, -EFBIG, "size exceeds %d bytes (10 MiB)", ETM_CONF_MAX_SIZE);
	}
}

int etm_conf_load_with(const char *path, etm_conf_owner_fn owner_ok, struct etm_conf **out, GString *err)
{
	g_auto(read_buf) buf = { NULL };
	g_auto(etm_fd) fd = -1;
	ssize_t got;
	int rc;

	*out = NULL;
	if (!path || path[0] != '/')
		return file_error(err, path, -EINVAL, "not an absolute path");
	if (strlen(path) >= PATH_MAX)
		return file_error(err, path, -ENAMETOOLONG, "path too long");
	/*
	 * Check and read the same inode: O_NOFOLLOW refuses a symlink as the
	 * last component, O_NONBLOCK keeps a FIFO from blocking the open, and
	 * everything after is fstat on this fd.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		if (errno == ELOOP)
			return file_error(err, path, rc, "is a symbolic link (not followed; give the real path)");
		return file_error(err, path, rc, "cannot open: %s", strerror(errno));
	}
	if ((rc = check_file(fd, path, owner_ok ? owner_ok : etm_conf_owner_root, err)))
		return rc;
	got = read_file(fd, path, &buf, err);
	if (got < 0)
		return (int)got;
	return etm_conf_load_data(path, buf.p, (size_t)got, out, err);
}

int etm_conf_load(const char *path, struct etm_conf **out, GString *err)
{
	return etm_conf_load_with(path, etm_conf_owner_root, out, err);
}

bool etm_conf_has_group(struct etm_conf *conf, const char *group)
{
	return conf && conf->kf && g_key_file_has_group(conf->kf, group);
}
