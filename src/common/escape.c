/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "escape.h"

#include <stdio.h>
#include <string.h>

static bool needs_escape(unsigned char c, bool all)
{
	if (c < 0x20 || c == 0x7f)
		return true;
	return all && (c == '\\' || c > 0x7f);
}

size_t etm_escape(char *out, size_t size, const char *in, size_t max, bool all)
{
	size_t i, o = 0;

	if (size == 0)
		return 0;
	for (i = 0; in[i] && i < max; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = needs_escape(c, all) ? 4 : 1;

		if (o + need >= size)
			break;
		if (need == 4)
			snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o] = (char)c;
		o += need;
	}
	/* Mark a cut, by @max or by @size, when there is room for the mark. */
	if (in[i] && o + 3 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}
