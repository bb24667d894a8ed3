/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "fdio.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int etm_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
