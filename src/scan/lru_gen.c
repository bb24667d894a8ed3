/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Aging a memcg's multi-gen LRU through debugfs: see lru_gen.h. */
#include "scan/lru_gen.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/parse.h"
#include "scan/procfs.h"

/* Big enough for thousands of memcgs; the read is bounded like every other. */
#define LRU_GEN_MAX (8 << 20)

int etm_lru_gen_enabled_parse(const char *buf, size_t len, bool *on)
{
	const char *p = buf, *end = buf + len;
	uint64_t v;

	if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (etm_parse_hex(&p, end, &v) || (p < end && *p != '\n'))
		return -EINVAL;
	*on = v & 1;
	return 0;
}

/* Skip spaces; then a decimal number (at least one digit). */
static int field_u64(const char **p, const char *end, uint64_t *v)
{
	while (*p < end && **p == ' ')
		(*p)++;
	return etm_parse_u64(p, end, v) ? -EINVAL : 0;
}

/* "memcg %5hu %s": is it @path's? Its id into @out then. 1 yes, 0 no, -EINVAL. */
static int memcg_line(const char *q, const char *le, const char *path, struct etm_lru_gen_memcg *out)
{
	size_t pl = strlen(path);
	uint64_t v;

	if (field_u64(&q, le, &v) || v > UINT16_MAX || q == le || *q != ' ')
		return -EINVAL;
	q++; /* the path is the rest of the line */
	if ((size_t)(le - q) != pl || memcmp(q, path, pl))
		return 0;
	out->id = (unsigned)v;
	return 1;
}

int etm_lru_gen_parse(const char *buf, size_t len, const char *path, struct etm_lru_gen_memcg *out)
{
	struct etm_lines it;
	const char *p, *le;
	bool in = false, found = false;

	memset(out, 0, sizeof(*out));
	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		const char *q = p;
		uint64_t v;
		int r;

		if ((size_t)(le - p) > 6 && !memcmp(p, "memcg ", 6)) {
			if (found)
				break;
			if ((r = memcg_line(p + 6, le, path, out)) < 0)
				return r;
			found = in = r > 0;
		} else if (in && (size_t)(le - p) > 6 && !memcmp(p, " node ", 6)) {
			q += 6;
			if (field_u64(&q, le, &v) || v > INT32_MAX)
				return -EINVAL;
			if (out->nnodes == ETM_LRU_GEN_MAX_NODES)
				return -E2BIG;
			out->nid[out->nnodes] = (int)v;
			out->max_seq[out->nnodes++] = 0;
		} else if (in && out->nnodes && !field_u64(&q, le, &v)) {
			/* " %10lu %10u ...": generations in increasing order; the last is the youngest */
			out->max_seq[out->nnodes - 1] = v;
		}
	}
	return found && out->nnodes ? 0 : -ENOENT;
}

static int lru_gen_on(void)
{
	char *buf;
	size_t len;
	bool on = false;
	int err;

	if (etm_read_file(ETM_LRU_GEN_ENABLED, &buf, &len, 64))
		return 0;
	err = etm_lru_gen_enabled_parse(buf, len, &on);
	free(buf);
	return !err && on;
}

/* "+ memcg_id node_id max_gen_nr": one new generation of @m on its @i-th node. */
static int age_node(const struct etm_lru_gen_memcg *m, size_t i)
{
	char cmd[96];
	int n = snprintf(cmd, sizeof(cmd), "+ %u %d %" PRIu64 "\n", m->id, m->nid[i], m->max_seq[i]);
	int fd = open(ETM_LRU_GEN_DEBUGFS, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	/*
	 * Default swappiness and force_scan (walk every page table of the
	 * memcg's processes). A node that aged meanwhile answers 0 (seq is no
	 * longer the youngest): that is the aging we wanted.
	 */
	if (write(fd, cmd, (size_t)n) != n)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

int etm_memcg_lru_gen_age(const char *path)
{
	struct etm_lru_gen_memcg m;
	char *buf;
	size_t len;
	int err;

	if (!lru_gen_on())
		return -ENOTSUP;
	if ((err = etm_read_file(ETM_LRU_GEN_DEBUGFS, &buf, &len, LRU_GEN_MAX)))
		return err;
	err = etm_lru_gen_parse(buf, len, path, &m);
	free(buf);
	for (size_t i = 0; !err && i < m.nnodes; i++)
		err = age_node(&m, i);
	return err;
}
