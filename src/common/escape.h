/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Text from outside (request names, configuration paths and values) quoted
 * so that it prints as one line and cannot pose as another log line or
 * error message.
 */
#ifndef ETM_ESCAPE_H
#define ETM_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Room etm_escape() needs for @max input bytes: each may become \xNN, then "..." and NUL. */
#define ETM_ESCAPED_SIZE(max) (4 * (size_t)(max) + 4)

/*
 * Copy @in to @out (@size bytes, always NUL-terminated) with control bytes
 * (below 0x20, and 0x7f) written as \xNN. With @all, '\\' and bytes above
 * 0x7f are escaped too, so the result is plain ASCII and unambiguous. At
 * most @max bytes of @in are taken; a longer @in ends in "...". Output that
 * does not fit @size is cut at an escape boundary. Returns strlen(@out).
 */
size_t etm_escape(char *out, size_t size, const char *in, size_t max, bool all);

#endif
