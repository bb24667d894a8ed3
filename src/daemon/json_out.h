/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The daemon's JSON output (docs/json.md is the normative text, and
 * docs/etmem-output.schema.json its schema): every document is one object
 * that opens with "schema_version" and "kind", written indented, one
 * document per reply.
 *
 * A small streaming writer over a GString rather than a library: the
 * daemon only writes JSON, never parses it, and etmemd is also linked
 * statically for the test rig, which Debian's json-glib cannot be. What it
 * writes is checked by a real parser and the schema in the tests
 * (tests/unit/test_json_out.c, tests/integration/test_json.sh).
 *
 * Strings from the outside world (task names, paths, an engine's text) are
 * bytes: they are made valid UTF-8 on the way in (invalid bytes become
 * U+FFFD), control characters are escaped; numbers that are not finite
 * become null.
 */
#ifndef ETM_JSON_OUT_H
#define ETM_JSON_OUT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The version of every JSON document etmem writes. Bumped when a field
 * changes meaning, unit or type, or goes away; never for a new field
 * (consumers ignore the fields they do not know).
 */
#define ETM_JSON_SCHEMA_VERSION 1

/* Nesting deeper than this is a bug of the caller (etmem's documents nest 7 deep). */
#define ETM_JSON_MAX_DEPTH 16

struct etm_json {
	GString *out;
	int depth;
	bool need_comma[ETM_JSON_MAX_DEPTH + 1];
	bool after_key; /* a member name was written: its value follows, no comma or indent */
};

/* A document in @out: opens its object with "schema_version" and "kind" (@kind). */
void etm_json_begin(struct etm_json *j, GString *out, const char *kind);
/* Closes the document's object, and a newline. */
void etm_json_end(struct etm_json *j);

void etm_json_begin_object(struct etm_json *j);
void etm_json_end_object(struct etm_json *j);
void etm_json_begin_array(struct etm_json *j);
void etm_json_end_array(struct etm_json *j);
/* A member name (then one value or container). */
void etm_json_key(struct etm_json *j, const char *key);

/* Values. */
void etm_json_add_str(struct etm_json *j, const char *s); /* NULL: null */
void etm_json_add_u64(struct etm_json *j, uint64_t v);
void etm_json_add_i64(struct etm_json *j, int64_t v);
void etm_json_add_double(struct etm_json *j, double v); /* not finite: null */
void etm_json_add_bool(struct etm_json *j, bool v);
void etm_json_add_null(struct etm_json *j);

/* Members: the key, then the value. */
void etm_json_str(struct etm_json *j, const char *key, const char *s);
void etm_json_u64(struct etm_json *j, const char *key, uint64_t v);
void etm_json_i64(struct etm_json *j, const char *key, int64_t v);
void etm_json_double(struct etm_json *j, const char *key, double v);
void etm_json_bool(struct etm_json *j, const char *key, bool v);
void etm_json_null(struct etm_json *j, const char *key);

#endif
