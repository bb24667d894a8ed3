/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Keys described once. Each section of a configuration file, and each engine
 * type's part of [engine] and [task], is a table of rows: the key, its type,
 * its range, whether it is required (and by whom), its default, where its
 * value goes in the params struct (or a parser of its own for the few odd
 * keys) and one line of documentation. One parser reads any table and
 * produces every parse and range error; etmem.conf(5)'s key lists are
 * generated from the same rows (keydoc.c). A new engine adds rows, not code.
 *
 * The typed getters below are what the table parser uses for each row; they
 * are public for the few keys a section reads outside a table (and tests).
 */
#ifndef ETM_KEYS_H
#define ETM_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "config.h"

/* ---------------------------------------------------------- typed getters */

/*
 * @required: a missing key is an error; otherwise *out keeps its value (set
 * the default before calling). Each returns 0, -ENOENT (absent and optional)
 * or -EINVAL (with conf->err set, if it was empty).
 */
int etm_conf_get_int(struct etm_conf *conf, const char *group, const char *key, bool required, long min, long max,
		     long *out);
int etm_conf_get_double(struct etm_conf *conf, const char *group, const char *key, bool required, double min,
			double max, bool min_exclusive, double *out);
/* yes/no → true/false. */
int etm_conf_get_yesno(struct etm_conf *conf, const char *group, const char *key, bool required, bool *out);
/* Non-empty string of at most @maxlen bytes, no control character; *out is a new string. */
int etm_conf_get_str(struct etm_conf *conf, const char *group, const char *key, bool required, size_t maxlen,
		     char **out);

/* ------------------------------------------------------------------ rows */

enum etm_key_type {
	ETM_KEY_INT,	/* decimal integer into an int */
	ETM_KEY_U64,	/* decimal integer into a uint64_t / unsigned long (range within 0..INT64_MAX) */
	ETM_KEY_DOUBLE, /* decimal number into a double */
	ETM_KEY_YESNO,	/* yes or no into a bool */
	ETM_KEY_STRING, /* text of 1..max bytes into a char * (owned by the params) */
	ETM_KEY_ENUM,	/* one of the names into an int (the value paired with the name) */
	ETM_KEY_CUSTOM, /* the row's own parser */
};

struct etm_key;

/* A custom row's parser: 0, -ENOENT (absent) or -EINVAL with the error recorded. */
typedef int (*etm_key_parse_fn)(struct etm_conf *conf, const char *group, const struct etm_key *key, void *params,
				const void *ctx);
/* A custom row's cleanup of what its parser put in @params. */
typedef void (*etm_key_free_fn)(const struct etm_key *key, void *params);
/* A bound that depends on the context (the project's loop) or on the machine (the CPU count). */
typedef long (*etm_key_bound_fn)(const void *params, const void *ctx);
/* etmem.conf(5)'s text of a range known only at run time (names from another table), appended to @out. */
typedef void (*etm_key_range_doc_fn)(GString *out);

struct etm_key_enum {
	const char *name;
	int value;
};

struct etm_key {
	const char *name;
	enum etm_key_type type;
	/* INT/U64: the range; STRING: max is the longest value in bytes. */
	int64_t min, max;
	etm_key_bound_fn max_fn; /* when set, the upper bound (max is then unused) */
	/* DOUBLE: the range, the lower bound excluded with dmin_excl. */
	double dmin, dmax;
	bool dmin_excl;
	const struct etm_key_enum *values; /* ENUM: NULL-terminated */
	const char *what;		   /* ENUM: "scan type" → "unknown scan type, must be ..." */
	const char *alias;		   /* another accepted spelling (equal values only) */
	/* NULL: optional; "": "missing (required)"; else "missing (required <required>)". */
	const char *required;
	const char *def; /* the default, written as in a file; NULL: the params' initial value */
	size_t offset;	 /* where the value goes in the params struct */
	etm_key_parse_fn parse;
	etm_key_free_fn free;
	const char *doc;		   /* one line for etmem.conf(5), roff allowed */
	const char *range_doc;		   /* the range as etmem.conf(5) says it, when not min..max */
	etm_key_range_doc_fn range_doc_fn; /* or written by a function (a custom row's names listed elsewhere) */
};

/*
 * The offset of @member in @params_type, which must be of C type @ctype: a row
 * pointing at a field of another type does not compile.
 */
#define ETM_KEY_AT(params_type, member, ctype)                                                                         \
	(offsetof(params_type, member) + 0 * sizeof(_Generic(((params_type *)0)->member, ctype : 1)))

struct etm_key_table;

/* Checks across a table's keys, run after every row parsed: 0 or -EINVAL with the error recorded. */
typedef int (*etm_key_check_fn)(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
				uint64_t given);

struct etm_key_table {
	const char *group; /* the section: "project", "engine" or "task" */
	const char *title; /* etmem.conf(5): what the table is for ("slide task keys") */
	const char *intro; /* etmem.conf(5): one paragraph before the keys, or NULL */
	const struct etm_key *keys;
	size_t n_keys; /* at most 64 */
	size_t params_size;
	etm_key_check_fn check;
};

#define ETM_KEY_TABLE_MAX 64

/*
 * Parse @t's keys of @conf into @params: defaults first, then every row in
 * order (the first error is the one reported), then t->check. Returns 0 or
 * -EINVAL with the error recorded in @conf. On error @params may hold some
 * values: free it with etm_keys_clear().
 */
int etm_keys_parse(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx);
/* A new params struct of t->params_size parsed as above; NULL on error. */
void *etm_keys_parse_new(struct etm_conf *conf, const struct etm_key_table *t, const void *ctx, int *rc);
/* Free what the rows put in @params (strings, custom rows' data), not @params itself. */
void etm_keys_clear(const struct etm_key_table *t, void *params);
/* etm_keys_clear() and g_free(@params). */
void etm_keys_free(const struct etm_key_table *t, void *params);

/* Was the row called @name given in the file? (for checks) */
bool etm_keys_given(const struct etm_key_table *t, uint64_t given, const char *name);
/* The row called @name, or NULL. */
const struct etm_key *etm_keys_find(const struct etm_key_table *t, const char *name);

/* Parse a row's default into @params (no range check): keydoc's and the tests' check that defaults parse. */
int etm_key_apply_default(const struct etm_key *key, void *params);

#endif
