/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What engines learnt about their targets, kept by the registry so that it
 * outlives a task's runtime: a project stop and start, or a task deleted
 * and added again, finds it where it was left. slide keeps there what its
 * reclaims taught about each memory cgroup (scan/memcg_learn.h) and about
 * each process's pages (scan/page_learn.h).
 *
 * Keyed by a text the engine chooses, which names the thing learnt about
 * rather than the task ("memcg:1:/etmem-srv", "pid:4242:98765"). A value is
 * the engine's own plain data with its size and its free function.
 *
 * Taking a value moves it out to the caller; putting it back stores it
 * again, replacing whatever is there. Two tasks on one key do not share a
 * value at the same time: the second finds none and starts afresh, and the
 * last one put back is kept. Bounded: at most ETM_LEARNT_MAX_ENTRIES values
 * and ETM_LEARNT_MAX_BYTES of them in all (as their owners count them);
 * past either, the least recently put ones are dropped. Thread-safe.
 */
#ifndef ETM_LEARNT_H
#define ETM_LEARNT_H

#include <stddef.h>

#define ETM_LEARNT_MAX_ENTRIES 1024
#define ETM_LEARNT_MAX_BYTES (16u << 20)
#define ETM_LEARNT_KEY_MAX 320

struct etm_learnt;

struct etm_learnt *etm_learnt_new(void);
/* Frees every value left. */
void etm_learnt_free(struct etm_learnt *ls);

/* The value of @key, moved out to the caller, its size in *@size; NULL when there is none. */
void *etm_learnt_take(struct etm_learnt *ls, const char *key, size_t *size);
/*
 * Keep @val (@size bytes, freed with @free_fn) under @key (at most
 * ETM_LEARNT_KEY_MAX bytes). The store owns it from now on, also when it is
 * dropped at once (a key too long, or a value larger than the whole store).
 */
void etm_learnt_put(struct etm_learnt *ls, const char *key, void *val, size_t size, void (*free_fn)(void *));

/* Values kept now, and their bytes. */
size_t etm_learnt_count(struct etm_learnt *ls);
size_t etm_learnt_bytes(struct etm_learnt *ls);

#endif
