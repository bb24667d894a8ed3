/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The memcg layer's text parsers on arbitrary bytes: memory.stat (v1/v2), the
 * multi-gen LRU switch, the debugfs lru_gen listing, the journal's records
 * (limit cuts, kdamonds) and the mount table (by directory and by cgroup path)
 * that confines a record's directory. Never reads outside the input;
 * results stay within their bounds; a parsed record formats back to a text
 * that parses to the same record; a mount found holds the path asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/cgroup_fs.h"
#include "scan/damon_sysfs.h"
#include "scan/lru_gen.h"
#include "scan/memcg.h"
#include "scan/memcg_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes, so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	struct etm_memcg_lru_stat s;
	struct etm_lru_gen_memcg m;
	struct etm_memcg_journal_rec r, r2;
	struct etm_kdamond_rec k, k2;
	char txt[1024];
	bool on;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	(void)etm_memcg_stat_parse(buf, size, &s);
	(void)etm_lru_gen_enabled_parse(buf, size, &on);
	if (etm_lru_gen_parse(buf, size, "/etm-wl", &m) == 0 && (m.nnodes == 0 || m.nnodes > ETM_LRU_GEN_MAX_NODES))
		abort();
	(void)etm_lru_gen_parse(buf, size, "/", &m);
	if (etm_memcg_journal_parse(buf, size, &r) == 0) {
		int n = etm_memcg_journal_format(&r, txt, sizeof(txt));

		if (r.last > r.orig || r.dir[0] != '/' || n < 0 || etm_memcg_journal_parse(txt, (size_t)n, &r2) ||
		    memcmp(&r, &r2, sizeof(r)))
			abort();
	}
	if (etm_kdamond_rec_parse(buf, size, &k) == 0) {
		int n = etm_kdamond_rec_format(&k, txt, sizeof(txt));

		if (n < 0 || etm_kdamond_rec_parse(txt, (size_t)n, &k2) || memcmp(&k, &k2, sizeof(k)))
			abort();
	}
	for (int v1 = 0; v1 < 2; v1++) {
		static const char dir[] = "/sys/fs/cgroup/memory/etm wl";
		struct etm_cgroup_root cr;
		size_t ml;

		char cdir[320];

		/* a cgroup path's directory lies below the mount found for it */
		if (!etm_cgroup_path_parse(buf, size, v1, "/etm wl/x", &cr, cdir, sizeof(cdir)) &&
		    (strnlen(cr.mnt, sizeof(cr.mnt)) == sizeof(cr.mnt) || cr.mnt[0] != '/' ||
		     (strcmp(cr.mnt, "/") && strncmp(cdir, cr.mnt, strlen(cr.mnt)))))
			abort();
		if (etm_cgroup_mount_parse(buf, size, v1, dir, &cr))
			continue;
		ml = strnlen(cr.mnt, sizeof(cr.mnt));
		if (ml == sizeof(cr.mnt) || cr.mnt[0] != '/' ||
		    (strcmp(cr.mnt, "/") && (strncmp(dir, cr.mnt, ml) || (dir[ml] && dir[ml] != '/'))))
			abort();
	}
	free(buf);
	return 0;
}
