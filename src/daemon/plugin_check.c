/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The checks a third-party engine library passes before it runs: see plugin_check.h. */
#include "daemon/plugin_check.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One walk: the directories opened so far, each one checked before it was entered. */
struct walk {
	const struct etm_plugin_fs *fs;
	const char *lib; /* the path asked for, for messages */
	GString *err;
	int fd[ETM_PLUGIN_MAX_DEPTH + 1]; /* fd[0] the root, fd[depth] the current directory */
	size_t plen[ETM_PLUGIN_MAX_DEPTH + 1];
	int depth;
	GString *real; /* the path of fd[depth]: "" at the root */
	int links;
};

static bool owner_is_root(const struct walk *w, const struct stat *st, bool is_lib)
{
	if (w->fs->owner_is_root)
		return w->fs->owner_is_root(st, is_lib, w->fs->arg);
	return st->st_uid == 0 && (!is_lib || st->st_gid == 0);
}

static __attribute__((format(printf, 3, 4))) int refuse(struct walk *w, int e, const char *fmt, ...)
{
	va_list ap;

	g_string_printf(w->err, "engine library %s: ", w->lib);
	va_start(ap, fmt);
	g_string_append_vprintf(w->err, fmt, ap);
	va_end(ap);
	return -e;
}

static int check_dir(struct walk *w, const struct stat *st, const char *name)
{
	if (!owner_is_root(w, st, false))
		return refuse(w, EPERM, "directory %s is owned by uid %u, must be owned by root", name,
			      (unsigned)st->st_uid);
	/* Whoever may write a directory may replace what it holds, the library included. */
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(w, EPERM, "directory %s is writable by group or others (mode %04o), must not be", name,
			      (unsigned)(st->st_mode & 07777));
	return 0;
}

/* The spec: owner root, permission bits 500 or 700; and root's group, as the original (docs/compat.md). */
static int check_lib(struct walk *w, const struct stat *st, const char *name)
{
	unsigned mode = st->st_mode & 07777;

	if (S_ISDIR(st->st_mode))
		return refuse(w, EISDIR, "%s is a directory", name);
	if (!S_ISREG(st->st_mode))
		return refuse(w, EINVAL, "%s is not a regular file", name);
	if (!owner_is_root(w, st, true))
		return refuse(w, EPERM, "%s is owned by %u:%u, must be owned by root:root", name, (unsigned)st->st_uid,
			      (unsigned)st->st_gid);
	if (mode != 0500 && mode != 0700)
		return refuse(w, EPERM, "%s has mode %04o, not allowed (must be 0500 or 0700)", name, mode);
	return 0;
}

static int push(struct walk *w, int fd, const char *comp)
{
	if (w->depth == ETM_PLUGIN_MAX_DEPTH) {
		close(fd);
		return refuse(w, ENAMETOOLONG, "more than %d directories deep", ETM_PLUGIN_MAX_DEPTH);
	}
	w->plen[w->depth] = w->real->len;
	w->fd[++w->depth] = fd;
	g_string_append_printf(w->real, "/%s", comp);
	return 0;
}

/* "..": back to the directory entered before, checked already. The root's parent is the root. */
static void pop(struct walk *w)
{
	if (!w->depth)
		return;
	close(w->fd[w->depth--]);
	g_string_truncate(w->real, w->plen[w->depth]);
}

/* A symlink @fd met at @name: what is left to walk becomes its target, then @rest. */
static int follow(struct walk *w, int fd, const char *name, GString *rest)
{
	char target[PATH_MAX];
	ssize_t n;

	if (++w->links > ETM_PLUGIN_MAX_LINKS)
		return refuse(w, ELOOP, "more than %d symbolic links", ETM_PLUGIN_MAX_LINKS);
	/* The link itself, through its descriptor: no second lookup of the name. */
	n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return refuse(w, errno, "reading the symbolic link %s: %s", name, strerror(errno));
	if ((size_t)n >= sizeof(target) || (size_t)n + 1 + rest->len >= PATH_MAX)
		return refuse(w, ENAMETOOLONG, "the symbolic link %s makes the path too long", name);
	g_string_prepend_c(rest, '/');
	g_string_prepend_len(rest, target, n);
	return 0;
}

/*
 * Component @comp of the current directory. 0: walked on (a directory
 * entered or a symlink followed); 1: it is the library, its descriptor in
 * *@out; -errno.
 */
static int step(struct walk *w, const char *comp, bool last, GString *rest, int *out)
{
	g_autofree char *name = g_strdup_printf("%s/%s", w->real->str, comp);
	struct stat st;
	int fd, ret;

	/* O_PATH: nothing is opened for reading here (a FIFO or device has no say). */
	fd = openat(w->fd[w->depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return refuse(w, errno, "%s: %s", name, strerror(errno));
	if (fstat(fd, &st)) {
		ret = refuse(w, errno, "%s: %s", name, strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		ret = follow(w, fd, name, rest);
	} else if (!last && S_ISDIR(st.st_mode)) {
		if (!(ret = check_dir(w, &st, name)))
			return push(w, fd, comp);
	} else if (!last) {
		ret = refuse(w, ENOTDIR, "%s is not a directory", name);
	} else if (!(ret = check_lib(w, &st, name))) {
		g_string_assign(w->real, name);
		*out = fd;
		return 1;
	}
	close(fd);
	return ret;
}

static int walk_path(struct walk *w, GString *rest)
{
	char comp[NAME_MAX + 1];

	for (;;) {
		size_t skip, len;
		bool last;
		int fd, ret;

		if (rest->str[0] == '/')
			while (w->depth)
				pop(w);
		skip = strspn(rest->str, "/");
		len = strcspn(rest->str + skip, "/");
		if (!len)
			return refuse(w, EISDIR, "%s is a directory", w->real->len ? w->real->str : "/");
		if (len > NAME_MAX)
			return refuse(w, ENAMETOOLONG, "a path component is longer than %d bytes", NAME_MAX);
		memcpy(comp, rest->str + skip, len);
		comp[len] = '\0';
		/* The slashes after it too: a leading '/' left in @rest is an absolute symlink target. */
		len += skip;
		len += strspn(rest->str + len, "/");
		g_string_erase(rest, 0, (gssize)len);
		last = !rest->len;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			pop(w);
			continue;
		}
		if ((ret = step(w, comp, last, rest, &fd)) < 0)
			return ret;
		if (ret)
			return fd;
	}
}

int etm_plugin_open(const struct etm_plugin_fs *fs, const char *path, GString *real, GString *err)
{
	g_autoptr(GString) own = NULL, rest = NULL;
	struct walk w = { .fs = fs, .lib = path, .err = err };
	struct stat st;
	int ret;

	if (path[0] != '/')
		return refuse(&w, EINVAL, "must be an absolute path");
	if (strlen(path) >= PATH_MAX)
		return refuse(&w, ENAMETOOLONG, "longer than %d bytes", PATH_MAX - 1);
	w.real = real ? real : (own = g_string_new(NULL));
	g_string_truncate(w.real, 0);
	w.fd[0] = openat(fs->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w.fd[0] < 0)
		return refuse(&w, errno, "opening the root directory: %s", strerror(errno));
	if (fstat(w.fd[0], &st))
		ret = refuse(&w, errno, "/: %s", strerror(errno));
	else if (!(ret = check_dir(&w, &st, "/"))) {
		rest = g_string_new(path);
		ret = walk_path(&w, rest);
	}
	for (int i = w.depth; i >= 0; i--)
		close(w.fd[i]);
	return ret;
}

struct name_probe {
	const char *name;
	bool taken;
};

static int name_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct name_probe *p = arg;

	(void)size;
	if (info->dlpi_name && !strcmp(info->dlpi_name, p->name)) {
		p->taken = true;
		return 1;
	}
	return 0;
}

int etm_plugin_fd_name(int fd, char *name, size_t len)
{
	int cur = fd;

	for (int tries = 0; tries < 64; tries++) {
		struct name_probe p = { .name = name };
		int nfd, e;

		snprintf(name, len, "/proc/self/fd/%d", cur);
		dl_iterate_phdr(name_cb, &p);
		if (!p.taken)
			return cur;
		/* Upwards from the last number tried: each try is a new name. */
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, cur + 1);
		e = errno;
		if (cur != fd)
			close(cur);
		if (nfd < 0)
			return -e;
		cur = nfd;
	}
	if (cur != fd)
		close(cur);
	return -EMFILE;
}

static const char *const ops_entry[] = {
	"fill_eng_params", "clear_eng_params", "fill_task_params", "clear_task_params", "start_task",
	"stop_task",	   "alloc_pid_params", "free_pid_params",  "eng_mgt_func",
};

int etm_plugin_ops_in_ranges(const struct engine_ops *ops, const struct etm_addr_range *x, size_t n, const char *sym,
			     GString *err)
{
	uintptr_t fp[G_N_ELEMENTS(ops_entry)];

	G_STATIC_ASSERT(sizeof(struct engine_ops) == sizeof(fp));
	memcpy(fp, ops, sizeof(fp));
	for (size_t i = 0; i < G_N_ELEMENTS(fp); i++) {
		bool in = !fp[i];

		for (size_t k = 0; k < n && !in; k++)
			in = fp[i] >= x[k].lo && fp[i] < x[k].hi;
		if (!in) {
			g_string_printf(err,
					"ops_name %s: entry %s (%#" PRIxPTR ") does not point into the library's code: "
					"not a struct engine_ops of this library",
					sym, ops_entry[i], fp[i]);
			return -EFAULT;
		}
	}
	return 0;
}

/* The executable PT_LOAD segments of one loaded object, found by its link map. */
struct seg_probe {
	const struct link_map *lm;
	struct etm_addr_range x[16];
	size_t n;
	bool found;
};

static int seg_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seg_probe *p = arg;

	(void)size;
	if (info->dlpi_addr != p->lm->l_addr || !info->dlpi_name || strcmp(info->dlpi_name, p->lm->l_name))
		return 0;
	p->found = true;
	for (size_t i = 0; i < info->dlpi_phnum && p->n < G_N_ELEMENTS(p->x); i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			p->x[p->n].lo = info->dlpi_addr + ph->p_vaddr;
			p->x[p->n++].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		}
	}
	return 1;
}

static const char *sym_kind(unsigned type)
{
	switch (type) {
	case STT_FUNC:
		return "a function";
	case STT_GNU_IFUNC:
		return "an indirect function";
	case STT_TLS:
		return "a thread-local variable";
	case STT_NOTYPE:
		return "a symbol without a type";
	default:
		return "not a data object";
	}
}

int etm_plugin_ops_resolve(void *handle, const char *sym, struct engine_ops **ops, GString *err)
{
	struct link_map *lib = NULL, *in = NULL;
	const ElfW(Sym) *ent = NULL;
	struct seg_probe segs = { 0 };
	Dl_info info;
	void *p;
	int ret;

	if (!(p = dlsym(handle, sym))) {
		g_string_printf(err, "ops_name %s: symbol not found", sym);
		return -ENOENT;
	}
	if (dlinfo(handle, RTLD_DI_LINKMAP, &lib) || !lib) {
		g_string_printf(err, "ops_name %s: the library's link map is unknown: %s", sym, dlerror());
		return -EINVAL;
	}
	/* dlsym also searches the library's dependencies: libc's environ is no engine. */
	if (!dladdr1(p, &info, (void **)&in, RTLD_DL_LINKMAP) || in != lib) {
		g_string_printf(err, "ops_name %s: defined in %s, not in the engine library", sym,
				info.dli_fname ? info.dli_fname : "no loaded object");
		return -EINVAL;
	}
	if (!dladdr1(p, &info, (void **)&ent, RTLD_DL_SYMENT) || !ent || info.dli_saddr != p) {
		g_string_printf(err, "ops_name %s: no symbol table entry describes it", sym);
		return -EINVAL;
	}
	if (ELF64_ST_TYPE(ent->st_info) != STT_OBJECT) {
		g_string_printf(err, "ops_name %s: %s, not a struct engine_ops", sym,
				sym_kind(ELF64_ST_TYPE(ent->st_info)));
		return -EINVAL;
	}
	if (ent->st_size < sizeof(struct engine_ops)) {
		g_string_printf(err, "ops_name %s: an object of %zu bytes, a struct engine_ops has %zu", sym,
				(size_t)ent->st_size, sizeof(struct engine_ops));
		return -EINVAL;
	}
	segs.lm = lib;
	dl_iterate_phdr(seg_cb, &segs);
	if (!segs.n) {
		g_string_printf(err, "ops_name %s: the library has no executable segment", sym);
		return -EINVAL;
	}
	if ((ret = etm_plugin_ops_in_ranges(p, segs.x, segs.n, sym, err)))
		return ret;
	*ops = p;
	return 0;
}
