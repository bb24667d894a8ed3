/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The plugin loader's file checks (etm_plugin_open) on stand-in trees. An
 * input describes up to 12 directories, files, FIFOs and symlinks (parent,
 * name, mode, and whether "someone else" owns it: the owner test is
 * injected), symlink targets and the path to open, both made of path
 * tokens. Whatever the tree: no crash, no descriptor leaked, and when a
 * descriptor comes back it is a regular file of root:root with mode
 * 0500/0700 reached by the path it reports, every directory of which
 * (checked again here by plain lookups, no symlink among them) is root's
 * and not writable by group or others.
 *
 * Input: byte 0 = number of entries; per entry 5 bytes (kind, parent, name,
 * mode low byte, mode high nibble | 0x10 foreign), a symlink then a length
 * byte and that many token bytes; the rest is the path's tokens.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/plugin_check.h"

#define MAX_ENT 12

enum kind { K_DIR, K_FILE, K_LINK, K_FIFO };

struct ent {
	enum kind kind;
	char rel[160]; /* below the tree's root */
	mode_t mode;
	bool foreign;
	ino_t ino;
};

struct tree {
	int rootfd;
	struct ent e[MAX_ENT];
	size_t n;
	ino_t root_ino;
};

static const char *const names[] = { "a", "b", "lib", "e.so", "x", "y.so" };
static const char *const tokens[] = { "/", "a", "b", "lib", "e.so", "..", ".", "x", "y.so", "//" };

static char base[64];

static void remove_base(void)
{
	rmdir(base); /* empty between inputs */
}

static bool fake_owner(const struct stat *st, bool is_lib, void *arg)
{
	const struct tree *t = arg;

	(void)is_lib;
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].ino == st->st_ino)
			return !t->e[i].foreign;
	return st->st_ino == t->root_ino;
}

/* Tokens from @d into @out, at most @n bytes of input. */
static void tok(const uint8_t *d, size_t n, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strlen(out) + strlen(tokens[d[i] % G_N_ELEMENTS(tokens)]) < len)
			strcat(out, tokens[d[i] % G_N_ELEMENTS(tokens)]);
}

static const uint8_t *make(struct tree *t, const uint8_t *p, const uint8_t *end)
{
	size_t want = p < end ? *p++ % (MAX_ENT + 1) : 0;
	size_t dirs[MAX_ENT + 1] = { 0 }, nd = 1; /* dirs[0]: the root */

	for (size_t i = 0; i < want && end - p >= 5; i++, p += 5) {
		struct ent *e = &t->e[t->n];
		size_t parent = dirs[p[1] % nd];
		char target[160];
		struct stat st;
		int r;

		e->kind = (enum kind)(p[0] % 4);
		snprintf(e->rel, sizeof(e->rel), "%s%s%s", parent ? t->e[parent - 1].rel : "", parent ? "/" : "",
			 names[p[2] % G_N_ELEMENTS(names)]);
		e->mode = (mode_t)(p[3] | (p[4] & 0x0f) << 8) & 07777;
		e->foreign = p[4] & 0x10;
		if (e->kind == K_LINK) {
			size_t l = 0;

			if (end - p > 5) {
				l = p[5] % 24;
				l = l < (size_t)(end - p - 6) ? l : (size_t)(end - p - 6);
				tok(p + 6, l, target, sizeof(target));
				p += 1 + l;
			} else {
				snprintf(target, sizeof(target), "a");
			}
			r = symlinkat(target[0] ? target : "a", t->rootfd, e->rel);
		} else if (e->kind == K_DIR) {
			r = mkdirat(t->rootfd, e->rel, 0700);
		} else if (e->kind == K_FIFO) {
			r = mkfifoat(t->rootfd, e->rel, 0600);
		} else {
			r = openat(t->rootfd, e->rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (r >= 0)
				r = close(r);
		}
		if (r || fstatat(t->rootfd, e->rel, &st, AT_SYMLINK_NOFOLLOW))
			continue; /* a duplicate name, or a parent that is not a directory */
		e->ino = st.st_ino;
		if (e->kind == K_DIR)
			dirs[nd++] = t->n + 1;
		t->n++;
	}
	/* Modes last: a directory must stay writable while its children are made. */
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].kind != K_LINK)
			fchmodat(t->rootfd, t->e[i].rel, t->e[i].mode, 0);
	return p;
}

static void unmake(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].kind == K_DIR)
			fchmodat(t->rootfd, t->e[i].rel, 0700, 0);
	for (size_t i = t->n; i > 0; i--)
		if (unlinkat(t->rootfd, t->e[i - 1].rel, t->e[i - 1].kind == K_DIR ? AT_REMOVEDIR : 0))
			abort(); /* a leftover would change the next input's tree */
}

/* What an accepted path must be, checked by plain lookups of the path reported. */
static void check_accepted(const struct tree *t, int fd, const char *real)
{
	struct stat st, at;
	char prefix[PATH_MAX];
	const char *p = real;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !fake_owner(&st, true, (void *)t) ||
	    ((st.st_mode & 07777) != 0500 && (st.st_mode & 07777) != 0700) || real[0] != '/')
		abort();
	if (fstat(t->rootfd, &at) || (at.st_mode & 022))
		abort();
	while ((p = strchr(p + 1, '/'))) {
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(p - real - 1), real + 1);
		if (fstatat(t->rootfd, prefix, &at, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(at.st_mode) ||
		    !fake_owner(&at, false, (void *)t) || (at.st_mode & 022))
			abort();
	}
	if (fstatat(t->rootfd, real + 1, &at, AT_SYMLINK_NOFOLLOW) || at.st_ino != st.st_ino)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree t = { .rootfd = -1 };
	struct etm_plugin_fs fs;
	const uint8_t *p;
	char path[256], rootdir[96];
	GString *real = g_string_new(NULL), *err = g_string_new(NULL);
	struct stat st;
	int probe, fd;

	if (!base[0]) {
		snprintf(base, sizeof(base), "/tmp/etm-fuzz-plugin-XXXXXX");
		if (!mkdtemp(base))
			abort();
		atexit(remove_base);
	}
	snprintf(rootdir, sizeof(rootdir), "%s/t", base);
	if (mkdir(rootdir, 0755) || (t.rootfd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(t.rootfd, &st))
		abort();
	t.root_ino = st.st_ino;
	p = make(&t, data, data + size);
	path[0] = '/';
	tok(p, (size_t)(data + size - p), path + 1, sizeof(path) - 1);
	fs = (struct etm_plugin_fs){ .rootfd = t.rootfd, .owner_is_root = fake_owner, .arg = &t };
	probe = dup(0);
	close(probe);
	fd = etm_plugin_open(&fs, path, real, err);
	if (fd >= 0) {
		check_accepted(&t, fd, real->str);
		close(fd);
	} else if (!err->len || !strstr(err->str, path)) {
		abort(); /* every refusal names the library */
	}
	fd = dup(0);
	if (fd != probe) /* the lowest free descriptor moved: one was leaked */
		abort();
	close(fd);
	unmake(&t);
	close(t.rootfd);
	if (rmdir(rootdir))
		abort();
	g_string_free(real, TRUE);
	g_string_free(err, TRUE);
	return 0;
}
