/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: backend detection and the file handling the backends share (psi_backend.h). */
#include "psi_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/memcg_reclaim.h"
#include "scan/parse.h"
#include "scan/procfs.h"

void psi_backend_free(struct psi_backend *b)
{
	if (!b)
		return;
	g_free(b->proc_pressure);
	g_free(b->meminfo);
	g_free(b->jdir);
	g_free(b);
}

int psi_dir(const struct etm_cgroup_root *root, const char *rel, bool v1, struct etm_memcg_dir *d)
{
	g_autofree char *dir = *rel ? g_build_filename(root->mnt, rel, NULL) : g_strdup(root->mnt);

	return etm_memcg_dir_at(root, dir, v1, d);
}

bool psi_has_file(const struct etm_memcg_dir *d, const char *name)
{
	/* O_PATH: memory.reclaim is write-only; O_NONBLOCK: the layer then keeps the flags as they are */
	int fd = etm_memcg_open_file(d, name, O_PATH | O_NONBLOCK);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The whole of [p, end) is one decimal number. */
static int whole_u64(const char *p, const char *end, uint64_t *out)
{
	return etm_parse_u64(&p, end, out) || p != end ? -EINVAL : 0;
}

int psi_read_u64(const struct etm_memcg_dir *d, const char *name, uint64_t *out)
{
	char *buf;
	size_t len;
	int err = etm_memcg_read_text(d, name, &buf, &len, 64);

	if (err)
		return err;
	while (len && buf[len - 1] == '\n')
		len--;
	if (len == 3 && !memcmp(buf, "max", 3)) {
		*out = UINT64_MAX;
		err = 0;
	} else {
		err = whole_u64(buf, buf + len, out);
	}
	free(buf);
	return err;
}

enum { S_IANON, S_AANON, S_IFILE, S_AFILE, S_UNEVICT, S_RF_ANON, S_RF_FILE, S_RF, S_N };
static const char *const stat_keys[S_N] = {
	"inactive_anon",
	"active_anon",
	"inactive_file",
	"active_file",
	"unevictable",
	"workingset_refault_anon",
	"workingset_refault_file",
	"workingset_refault",
};
#define LRU_KEYS ((1u << S_UNEVICT) - 1) /* the four LRUs; unevictable may be absent */

/* One "key value" line into v[h][k]; h = 1 for v1's hierarchical total_ keys. */
static int stat_line(const char *p, const char *le, uint64_t v[2][S_N], unsigned has[2])
{
	const char *sp = memchr(p, ' ', (size_t)(le - p));
	size_t kl;
	int h = 0;

	if (!sp)
		return 0;
	if (sp - p > 6 && !memcmp(p, "total_", 6)) {
		h = 1;
		p += 6;
	}
	kl = (size_t)(sp - p);
	for (int k = 0; k < S_N; k++) {
		if (strlen(stat_keys[k]) != kl || memcmp(p, stat_keys[k], kl))
			continue;
		if (whole_u64(sp + 1, le, &v[h][k]))
			return -EINVAL;
		has[h] |= 1u << k;
	}
	return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int psi_stat_parse(const char *buf, size_t len, struct psi_stat *out)
{
	uint64_t v[2][S_N] = { { 0 } };
	unsigned has[2] = { 0 };
	struct etm_lines it;
	const char *p, *le;
	int h;

	memset(out, 0, sizeof(*out));
	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);)
		if (stat_line(p, le, v, has))
			return -EINVAL;
	h = (has[1] & LRU_KEYS) == LRU_KEYS ? 1 : 0;
	if ((has[h] & LRU_KEYS) != LRU_KEYS)
		return -EINVAL;
	/* Sums of page counts times 4 KiB: far from 2^64, but a hostile file saturates, it does not wrap. */
	out->anon = sat_add(v[h][S_IANON], v[h][S_AANON]);
	out->file = sat_add(v[h][S_IFILE], v[h][S_AFILE]);
	out->unevictable = v[h][S_UNEVICT];
	out->active = sat_add(v[h][S_AANON], v[h][S_AFILE]);
	/* Since 5.9 anon and file apart; before, one count of file pages (anon had no refault detection) */
	if (has[h] & (1u << S_RF_ANON | 1u << S_RF_FILE)) {
		out->refaults = sat_add(v[h][S_RF_ANON], v[h][S_RF_FILE]);
		out->has_refaults = true;
	} else if (has[h] & 1u << S_RF) {
		out->refaults = v[h][S_RF];
		out->has_refaults = true;
	}
	return 0;
}

int psi_read_stat(const struct etm_memcg_dir *d, struct psi_stat *out)
{
	char *buf;
	size_t len;
	int err = etm_memcg_read_text(d, "memory.stat", &buf, &len, PSI_STAT_MAX);

	if (err)
		return err;
	err = psi_stat_parse(buf, len, out);
	free(buf);
	return err;
}

/* The pids of a cgroup.procs text into @set (NULL: only checked). */
static int procs_parse(const char *buf, size_t len, GHashTable *set)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		uint64_t pid;

		if (le > p) {
			if (whole_u64(p, le, &pid) || !pid || pid > INT32_MAX)
				return -EINVAL;
			if (set)
				g_hash_table_add(set, GUINT_TO_POINTER((guint)pid));
		}
		p = le + 1;
	}
	return 0;
}

int psi_procs_covered(const char *inner, size_t ilen, const char *outer, size_t olen, bool *covered)
{
	g_autoptr(GHashTable) in = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GHashTable) out = g_hash_table_new(g_direct_hash, g_direct_equal);
	GHashTableIter it;
	gpointer pid;
	int err;

	if ((err = procs_parse(inner, ilen, in)) || (err = procs_parse(outer, olen, out)))
		return err;
	*covered = true;
	g_hash_table_iter_init(&it, in);
	while (g_hash_table_iter_next(&it, &pid, NULL)) {
		if (!g_hash_table_contains(out, pid)) {
			*covered = false;
			break;
		}
	}
	return 0;
}

int psi_reclaim_layer(const struct psi_backend *b, const char *rel, uint64_t bytes, bool file,
		      struct psi_reclaim_res *res)
{
	const char *usage_file = b->v1 ? "memory.usage_in_bytes" : "memory.current";
	struct etm_memcg_reclaim_res r;
	struct etm_memcg_dir d;
	uint64_t u0 = 0, u1 = 0;
	bool has_u0;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = psi_dir(&b->mem, rel, b->v1, &d)))
		return err;
	has_u0 = !psi_read_u64(&d, usage_file, &u0);
	err = file ? etm_memcg_reclaim_file_bytes(&d, bytes, &r)
		   : etm_memcg_reclaim_bytes(&d, bytes, b->v1 ? b->jdir : NULL, &r);
	res->asked = r.asked;
	res->steps = r.steps;
	res->busy = r.busy;
	res->contended = r.contended;
	res->restore_failed = r.restore_failed;
	res->seconds = r.seconds;
	if (has_u0 && !psi_read_u64(&d, usage_file, &u1) && u0 > u1)
		res->reclaimed = u0 - u1;
	return err;
}

int psi_backend_read(const struct psi_backend *b, const char *rel, struct psi_readings *r, enum psi_source *src)
{
	struct psi_pressure p;
	struct etm_meminfo mi;
	char *buf;
	size_t len;
	int err;

	memset(r, 0, sizeof(*r));
	if ((err = b->ops->pressure(b, rel, &p, src)) || (err = b->ops->readings(b, rel, r)))
		return err;
	r->pressure = psi_pressure_level(&p);
	if ((err = etm_read_file(b->meminfo, &buf, &len, 1 << 16)))
		return err;
	err = etm_parse_meminfo(buf, len, &mi);
	free(buf);
	if (err)
		return err;
	if (mi.swap_free_kb < r->swap_room / 1024)
		r->swap_room = mi.swap_free_kb * 1024;
	return 0;
}
