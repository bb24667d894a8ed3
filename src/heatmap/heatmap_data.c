/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The heatmap document (docs/json.md, kind engine_command, command heatmap)
 * into struct etm_heat_data. Whatever the input, the result is consistent:
 * every number is checked for its type and range, regions are placed by
 * their cycle and index, and the sizes are bounded (a document is data from
 * a socket or a file, not a trusted peer).
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "heatmap.h"

/* More than the daemon keeps (64 x 96), so a recorded file of a later version still draws. */
#define MAX_CYCLES 1024
#define MAX_REGIONS 1024

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Member @key of @o as a non-negative integer, or false. */
static bool get_u64(JsonObject *o, const char *key, uint64_t *v)
{
	JsonNode *n = json_object_get_member(o, key);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 0)
		return false;
	*v = (uint64_t)json_node_get_int(n);
	return true;
}

static bool get_i64(JsonObject *o, const char *key, int64_t *v)
{
	JsonNode *n = json_object_get_member(o, key);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return false;
	*v = json_node_get_int(n);
	return true;
}

static char *get_str(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);

	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
		   ? g_strdup(json_node_get_string(n))
		   : g_strdup("");
}

/* The rows of the table called @name, or NULL. */
static JsonArray *table_rows(JsonArray *tables, const char *name)
{
	for (guint i = 0; i < json_array_get_length(tables); i++) {
		JsonNode *t = json_array_get_element(tables, i);
		JsonObject *o = JSON_NODE_HOLDS_OBJECT(t) ? json_node_get_object(t) : NULL;
		const char *tn =
		    o && json_object_has_member(o, "name") ? json_object_get_string_member(o, "name") : NULL;

		if (tn && !strcmp(tn, name) && json_object_has_member(o, "rows") &&
		    JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "rows")))
			return json_object_get_array_member(o, "rows");
	}
	return NULL;
}

/* The cycles table: one entry per cycle, in order. */
static int read_cycles(JsonArray *rows, struct etm_heat_data *d, char *err, size_t errlen)
{
	d->ncycles = json_array_get_length(rows);
	if (!d->ncycles || d->ncycles > MAX_CYCLES)
		return bad(err, errlen, "heatmap_cycles has %u rows: must be 1..%d", d->ncycles, MAX_CYCLES);
	d->cycle = g_new0(uint64_t, d->ncycles);
	d->when = g_new0(int64_t, d->ncycles);
	d->residency = g_new0(int, d->ncycles);
	d->max_count = g_new0(uint64_t, d->ncycles);
	d->n = g_new0(unsigned, d->ncycles);
	for (unsigned i = 0; i < d->ncycles; i++) {
		JsonNode *rn = json_array_get_element(rows, i);
		JsonObject *o = JSON_NODE_HOLDS_OBJECT(rn) ? json_node_get_object(rn) : NULL;
		g_autofree char *mode = o ? get_str(o, "mode") : NULL;
		uint64_t regions;

		if (!o || !get_u64(o, "cycle", &d->cycle[i]) || !get_i64(o, "time_unix_seconds", &d->when[i]) ||
		    !get_u64(o, "max_count", &d->max_count[i]) || !get_u64(o, "regions", &regions) ||
		    regions > MAX_REGIONS || (strcmp(mode, "accesses") && strcmp(mode, "residency")))
			return bad(err, errlen, "heatmap_cycles row %u is not a cycle", i);
		d->residency[i] = !strcmp(mode, "residency");
		d->n[i] = (unsigned)regions;
		d->nregions = MAX(d->nregions, d->n[i]);
	}
	return 0;
}

static int cycle_index(const struct etm_heat_data *d, uint64_t cycle)
{
	for (unsigned i = 0; i < d->ncycles; i++)
		if (d->cycle[i] == cycle)
			return (int)i;
	return -1;
}

static int read_regions(JsonArray *rows, struct etm_heat_data *d, char *err, size_t errlen)
{
	d->cell = g_new0(struct etm_heat_cellv, (size_t)d->ncycles * MAX(d->nregions, 1u));
	for (guint i = 0; i < json_array_get_length(rows); i++) {
		JsonNode *rn = json_array_get_element(rows, i);
		JsonObject *o = JSON_NODE_HOLDS_OBJECT(rn) ? json_node_get_object(rn) : NULL;
		struct etm_heat_cellv v;
		uint64_t cycle, region;
		int c;

		if (!o || !get_u64(o, "cycle", &cycle) || !get_u64(o, "region", &region) ||
		    !get_u64(o, "start_address", &v.start) || !get_i64(o, "pid", &v.pid) ||
		    !get_u64(o, "pages", &v.pages) || !get_u64(o, "resident_pages", &v.resident) ||
		    !get_u64(o, "swapped_pages", &v.swapped) || !get_u64(o, "accesses", &v.accesses))
			return bad(err, errlen, "heatmap row %u is not a region", i);
		if ((c = cycle_index(d, cycle)) < 0 || region >= d->n[c])
			return bad(err, errlen,
				   "heatmap row %u: cycle %" G_GUINT64_FORMAT " region %" G_GUINT64_FORMAT
				   " is not in heatmap_cycles",
				   i, (guint64)cycle, (guint64)region);
		d->cell[(size_t)c * d->nregions + region] = v;
	}
	return 0;
}

static int parse_root(JsonNode *root, struct etm_heat_data *d, char *err, size_t errlen)
{
	JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
	JsonArray *cycles, *regions, *notes;
	uint64_t version;
	int ret;

	if (!o || !get_u64(o, "schema_version", &version) || version != 1)
		return bad(err, errlen, "not an etmem JSON document of schema version 1");
	if (!json_object_has_member(o, "tables") || !JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "tables")))
		return bad(err, errlen, "no tables: not the output of etmem engine heatmap --json");
	cycles = table_rows(json_object_get_array_member(o, "tables"), "heatmap_cycles");
	regions = table_rows(json_object_get_array_member(o, "tables"), "heatmap");
	if (!cycles || !regions)
		return bad(err, errlen, "no heatmap tables: not the output of etmem engine heatmap --json");
	d->project = get_str(o, "project");
	d->engine = get_str(o, "engine");
	d->task = get_str(o, "task");
	notes = json_object_has_member(o, "notes") && JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "notes"))
		    ? json_object_get_array_member(o, "notes")
		    : NULL;
	d->backend = g_strdup("");
	for (guint i = 0; notes && i < json_array_get_length(notes); i++) {
		const char *s = json_node_get_string(json_array_get_element(notes, i));

		if (s && g_str_has_prefix(s, "backend: ")) {
			g_free(d->backend);
			d->backend = g_strdup(s + strlen("backend: "));
		}
	}
	if ((ret = read_cycles(cycles, d, err, errlen)))
		return ret;
	return read_regions(regions, d, err, errlen);
}

int etm_heat_data_parse(const char *json, size_t len, struct etm_heat_data **out, char *err, size_t errlen)
{
	g_autoptr(JsonParser) p = json_parser_new();
	g_autoptr(GError) gerr = NULL;
	struct etm_heat_data *d;
	int ret;

	if (!json_parser_load_from_data(p, json, (gssize)len, &gerr))
		return bad(err, errlen, "not JSON: %s", gerr->message);
	d = g_new0(struct etm_heat_data, 1);
	if ((ret = parse_root(json_parser_get_root(p), d, err, errlen))) {
		etm_heat_data_free(d);
		return ret;
	}
	*out = d;
	return 0;
}

void etm_heat_data_free(struct etm_heat_data *d)
{
	if (!d)
		return;
	g_free(d->project);
	g_free(d->engine);
	g_free(d->task);
	g_free(d->backend);
	g_free(d->cycle);
	g_free(d->when);
	g_free(d->residency);
	g_free(d->max_count);
	g_free(d->n);
	g_free(d->cell);
	g_free(d);
}
