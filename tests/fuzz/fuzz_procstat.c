/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The /proc/PID/stat parser on arbitrary bytes: never reads outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes, so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	char comm[17];
	pid_t ppid = -1;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (etm_parse_proc_stat(buf, size, &ppid, comm, sizeof(comm)) == 0) {
		if (strlen(comm) >= sizeof(comm) || ppid < 0)
			abort();
	}
	(void)etm_parse_proc_stat(buf, size, NULL, comm, 1);
	free(buf);
	/* The value checks take NUL-terminated strings. */
	if (size < 64) {
		char s[64];

		memcpy(s, data, size);
		s[size] = 0;
		(void)etm_target_name_valid(s);
		(void)etm_target_pid_valid(s);
	}
	return 0;
}
