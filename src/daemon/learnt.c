/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The registry's store of what engines learnt (learnt.h). */
#include "learnt.h"

#include <glib.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

struct entry {
	char *key;
	void *val;
	size_t size;
	void (*free_fn)(void *);
	uint64_t stamp; /* the put's sequence number: the smallest goes first */
};

struct etm_learnt {
	pthread_mutex_t lock;
	GHashTable *map; /* key -> struct entry (owns both) */
	size_t bytes;
	uint64_t seq;
};

static void entry_free(void *p)
{
	struct entry *e = p;

	if (e->free_fn)
		e->free_fn(e->val);
	g_free(e->key);
	g_free(e);
}

struct etm_learnt *etm_learnt_new(void)
{
	struct etm_learnt *ls = g_new0(struct etm_learnt, 1);

	pthread_mutex_init(&ls->lock, NULL);
	ls->map = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
	return ls;
}

void etm_learnt_free(struct etm_learnt *ls)
{
	if (!ls)
		return;
	g_hash_table_destroy(ls->map);
	pthread_mutex_destroy(&ls->lock);
	g_free(ls);
}

/* Lock held: @e out of the map and of the byte count, and freed. */
static void drop(struct etm_learnt *ls, struct entry *e)
{
	ls->bytes -= e->size;
	g_hash_table_remove(ls->map, e->key);
}

/* Lock held: the least recently put entry. */
static struct entry *oldest(struct etm_learnt *ls)
{
	struct entry *old = NULL, *e;
	GHashTableIter it;

	g_hash_table_iter_init(&it, ls->map);
	while (g_hash_table_iter_next(&it, NULL, (void **)&e))
		if (!old || e->stamp < old->stamp)
			old = e;
	return old;
}

void *etm_learnt_take(struct etm_learnt *ls, const char *key, size_t *size)
{
	struct entry *e;
	void *val = NULL;

	*size = 0;
	pthread_mutex_lock(&ls->lock);
	if ((e = g_hash_table_lookup(ls->map, key))) {
		val = e->val;
		*size = e->size;
		e->free_fn = NULL; /* the caller owns it now */
		drop(ls, e);
	}
	pthread_mutex_unlock(&ls->lock);
	return val;
}

void etm_learnt_put(struct etm_learnt *ls, const char *key, void *val, size_t size, void (*free_fn)(void *))
{
	struct entry *e, *old;

	if (strlen(key) > ETM_LEARNT_KEY_MAX || size > ETM_LEARNT_MAX_BYTES) {
		if (free_fn)
			free_fn(val);
		return;
	}
	e = g_new0(struct entry, 1);
	e->key = g_strdup(key);
	e->val = val;
	e->size = size;
	e->free_fn = free_fn;
	pthread_mutex_lock(&ls->lock);
	e->stamp = ++ls->seq;
	if ((old = g_hash_table_lookup(ls->map, key)))
		drop(ls, old);
	while (g_hash_table_size(ls->map) >= ETM_LEARNT_MAX_ENTRIES || ls->bytes + size > ETM_LEARNT_MAX_BYTES)
		drop(ls, oldest(ls));
	g_hash_table_insert(ls->map, e->key, e);
	ls->bytes += size;
	pthread_mutex_unlock(&ls->lock);
}

size_t etm_learnt_count(struct etm_learnt *ls)
{
	size_t n;

	pthread_mutex_lock(&ls->lock);
	n = g_hash_table_size(ls->map);
	pthread_mutex_unlock(&ls->lock);
	return n;
}

size_t etm_learnt_bytes(struct etm_learnt *ls)
{
	size_t n;

	pthread_mutex_lock(&ls->lock);
	n = ls->bytes;
	pthread_mutex_unlock(&ls->lock);
	return n;
}
