/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/parse.h"

#include <errno.h>
#include <string.h>

int etm_parse_u64(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -ERANGE;
		v = v * 10 + d;
	}
	if (p == *pp)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int etm_parse_hex(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0, d;

	for (; p < end && (d = hex_digit(*p)) >= 0; p++) {
		if (++n > 16)
			return -EINVAL;
		v = (v << 4) | (uint64_t)d;
	}
	if (!n)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

void etm_lines_init(struct etm_lines *it, const char *buf, size_t len)
{
	it->p = buf;
	it->end = buf + len;
}

bool etm_line_next(struct etm_lines *it, const char **ls, const char **le)
{
	const char *nl;

	if (it->p >= it->end)
		return false;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	*ls = it->p;
	*le = nl ? nl : it->end;
	it->p = *le + 1;
	return true;
}

bool etm_pid_valid(uint64_t v)
{
	return v >= 1 && v <= ETM_PID_MAX;
}

int etm_pid_parse(const char *s, pid_t *out)
{
	const char *end;
	uint64_t v;

	if (!s || s[0] < '1' || s[0] > '9')
		return -EINVAL;
	/* strnlen: a pid is at most 7 digits; anything longer is not one, however it ends */
	end = s + strnlen(s, 8);
	if (end - s > 7 || *end || etm_parse_u64(&s, end, &v) || s != end || !etm_pid_valid(v))
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}
