/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The one /proc/PID/stat parser (scan/proc_stat.h) on arbitrary bytes, at
 * every depth its callers ask for, and the daemon's thin call and value
 * checks on top: never reads outside the input, results within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/target.h"
#include "scan/parse.h"
#include "scan/proc_stat.h"

static void depths(const char *buf, size_t size)
{
	static const enum etm_stat_upto upto[] = { ETM_STAT_PPID, ETM_STAT_FLAGS, ETM_STAT_STARTTIME };
	struct etm_proc_stat st;

	for (size_t i = 0; i < sizeof(upto) / sizeof(upto[0]); i++) {
		if (etm_proc_stat_parse(buf, size, upto[i], &st))
			continue;
		if (strnlen(st.comm, sizeof(st.comm)) > ETM_COMM_MAX || st.ppid < 0 || st.ppid > ETM_PID_MAX)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes, so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	char comm[17];
	pid_t ppid = -1;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	depths(buf, size);
	if (etm_parse_proc_stat(buf, size, &ppid, comm, sizeof(comm)) == 0) {
		if (strlen(comm) >= sizeof(comm) || ppid < 0)
			abort();
	}
	(void)etm_parse_proc_stat(buf, size, NULL, comm, 1);
	free(buf);
	/* The value checks take NUL-terminated strings. */
	if (size < 64) {
		char s[64];
		pid_t p;

		memcpy(s, data, size);
		s[size] = 0;
		(void)etm_target_name_valid(s);
		(void)etm_target_pid_valid(s);
		if (!etm_pid_parse(s, &p) && !etm_pid_valid((uint64_t)p))
			abort();
	}
	return 0;
}
