/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The built-in engine types, their parameter hooks, and a task's last error (engine.h). */
#include "engine.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "keys.h"

const struct etm_engine_type *const etm_engine_types[] = {
	&etm_slide_engine, &etm_cslide_engine, &etm_psi_engine, &etm_thirdparty_engine, NULL,
};

const struct etm_engine_type *etm_engine_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (const struct etm_engine_type *const *t = etm_engine_types; *t; t++) {
		if (strcmp((*t)->name, name) == 0)
			return *t;
	}
	return NULL;
}

bool etm_engine_type_parses_engine(const struct etm_engine_type *type)
{
	return type && (type->parse_engine || (type->engine_keys && type->type != THIRDPARTY_ENGINE));
}

bool etm_engine_type_parses_task(const struct etm_engine_type *type)
{
	return type && (type->parse_task || type->task_keys);
}

int etm_engine_type_parse_engine(const struct etm_engine_type *type, struct etm_conf *conf, void **params)
{
	int rc = 0;

	*params = NULL;
	if (type->parse_engine)
		return type->parse_engine(conf, params);
	if (type->engine_keys && type->type != THIRDPARTY_ENGINE)
		*params = etm_keys_parse_new(conf, type->engine_keys, NULL, &rc);
	return rc;
}

int etm_engine_type_parse_task(const struct etm_engine_type *type, struct etm_conf *conf,
			       const struct etm_task_ctx *ctx, void **params)
{
	int rc = 0;

	*params = NULL;
	if (type->parse_task)
		return type->parse_task(conf, ctx, params);
	if (type->task_keys)
		*params = etm_keys_parse_new(conf, type->task_keys, ctx, &rc);
	return rc;
}

void etm_engine_type_free_engine(const struct etm_engine_type *type, void *params)
{
	if (type->free_engine)
		type->free_engine(params);
	else if (type->engine_keys && type->type != THIRDPARTY_ENGINE)
		etm_keys_free(type->engine_keys, params);
}

void etm_engine_type_free_task(const struct etm_engine_type *type, void *params)
{
	if (type->free_task)
		type->free_task(params);
	else if (type->task_keys)
		etm_keys_free(type->task_keys, params);
}

void etm_task_last_error(pthread_mutex_t *lock, char *last, size_t size, const char *what, const char *fmt, va_list ap)
{
	char msg[256];
	bool fresh;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(lock);
	fresh = strncmp(last, msg, size) != 0;
	snprintf(last, size, "%s", msg);
	pthread_mutex_unlock(lock);
	if (fresh)
		etm_err("%s: %s", what, msg);
}
