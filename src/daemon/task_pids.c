/* SPDX-License-Identifier: MulanPSL-2.0 */
/* A task's processes as the plugin ABI shows them, tk->pids (engine.h). */
#include "engine.h"

#include <stdlib.h>

#include "common/log.h"

static void pid_free(struct engine *eng, struct task_pid *tp)
{
	if (eng->ops && eng->ops->free_pid_params)
		eng->ops->free_pid_params(eng, &tp);
	free(tp);
}

/* A new entry for @pid with the engine's per-pid parameters; NULL when they could not be had. */
static struct task_pid *pid_new(struct engine *eng, struct task *tk, pid_t pid)
{
	struct task_pid *tp = calloc(1, sizeof(*tp));

	if (!tp)
		return NULL;
	tp->pid = (unsigned int)pid;
	tp->tk = tk;
	if (eng->ops && eng->ops->alloc_pid_params && eng->ops->alloc_pid_params(eng, &tp) != 0) {
		/* Whatever it allocated before failing is the engine's to free. */
		pid_free(eng, tp);
		return NULL;
	}
	return tp;
}

int etm_task_pids_sync(struct engine *eng, struct task *tk, const pid_t *pids, size_t n)
{
	struct task_pid **link = &tk->pids;
	size_t i = 0;
	int failed = 0;

	/* A merge of two ascending lists: drop what is gone, add what is new. */
	while (*link || i < n) {
		struct task_pid *cur = *link;

		if (cur && (i == n || (pid_t)cur->pid < pids[i])) {
			*link = cur->next;
			pid_free(eng, cur);
		} else if (cur && (pid_t)cur->pid == pids[i]) {
			link = &cur->next;
			i++;
		} else {
			struct task_pid *tp = pid_new(eng, tk, pids[i]);

			if (tp) {
				tp->next = cur;
				*link = tp;
				link = &tp->next;
			} else {
				etm_warn("task %s: no per-process parameters for pid %d: left out", tk->name,
					 (int)pids[i]);
				failed++;
			}
			i++;
		}
	}
	return failed;
}

void etm_task_pids_clear(struct engine *eng, struct task *tk)
{
	while (tk->pids) {
		struct task_pid *tp = tk->pids;

		tk->pids = tp->next;
		pid_free(eng, tp);
	}
}
