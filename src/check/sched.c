// SPDX-License-Identifier: MIT
/*
 * Interleavings: two or three actions run as real threads on one machine,
 * but only one at a time, switched by a deterministic cooperative scheduler
 * at the model's lock and unlock points (the machine's lock hooks). Every
 * schedule with at most a given number of preemptions is run (stateless
 * exploration with preemption bounding, as CHESS does), from a fresh copy
 * of the state each time, and the invariants are checked at the end.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check/check-priv.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "machine/machine-priv.h"

#define MAX_TASKS 3
#define MAX_POINTS 4096

struct task {
	struct sched *s;
	int id;
	pthread_t th;
	const char *line;
	bool done;
	struct mutex *wants;    /* the lock it is about to take, or NULL */
	uintptr_t token;        /* its identity for lock ownership */
};

struct sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct machine *m;
	struct task tasks[MAX_TASKS];
	int ntasks;
	int running;            /* task allowed to run; -1: none */
	bool finished;          /* every task done, or a deadlock */
	bool deadlock;
	/* the schedule: forced choices, then the default policy */
	const int *prefix;
	int nprefix;
	/* what happened: the choice and the enabled set at each point */
	int choice[MAX_POINTS];
	unsigned int enabled[MAX_POINTS];
	int current[MAX_POINTS]; /* who was running when the point came */
	int npoints;
	bool overflow;
};

/* Only these locks are scheduling points: the ones the kernel's paths race on. */
static bool lock_is_point(const char *name)
{
	return !strcmp(name, "iommu_group.mutex") ||
	       !strcmp(name, "iommu_probe_device_lock") ||
	       !strcmp(name, "device.mutex") || !strcmp(name, "vfio_lock");
}

static bool task_enabled(struct sched *s, int i)
{
	struct task *t = &s->tasks[i];
	uintptr_t holder;

	if (t->done)
		return false;
	if (!t->wants)
		return true;
	holder = atomic_load(&t->wants->holder);
	return !holder || holder == t->token;
}

/*
 * A scheduling point, called with s->mu held by the running task @self
 * (or by a task that just finished). Picks who runs next.
 */
static void pick_next(struct sched *s, int self)
{
	unsigned int en = 0;
	int next = -1, k = s->npoints;

	for (int i = 0; i < s->ntasks; i++)
		if (task_enabled(s, i))
			en |= 1u << i;
	if (!en) {
		bool all_done = true;

		for (int i = 0; i < s->ntasks; i++)
			all_done &= s->tasks[i].done;
		s->deadlock = !all_done;
		s->finished = true;
		s->running = -1;
		pthread_cond_broadcast(&s->cv);
		return;
	}
	if (k < s->nprefix && (en & (1u << s->prefix[k]))) {
		next = s->prefix[k];
	} else if (self >= 0 && (en & (1u << self))) {
		next = self; /* no preemption unless the schedule says so */
	} else {
		for (int i = 0; i < s->ntasks; i++)
			if (en & (1u << i)) {
				next = i;
				break;
			}
	}
	if (k < MAX_POINTS) {
		s->choice[k] = next;
		s->enabled[k] = en;
		s->current[k] = self;
		s->npoints++;
	} else {
		s->overflow = true;
	}
	s->running = next;
	pthread_cond_broadcast(&s->cv);
}

static int task_of_current(struct sched *s)
{
	uintptr_t me = kcompat_current();

	for (int i = 0; i < s->ntasks; i++)
		if (s->tasks[i].token == me)
			return i;
	return -1;
}

static void wait_turn(struct sched *s, int self)
{
	while (s->running != self && !s->finished)
		pthread_cond_wait(&s->cv, &s->mu);
}

static void hook_before_lock(void *ctx, struct mutex *lock, const char *name)
{
	struct sched *s = ctx;
	int self;

	if (!lock_is_point(name))
		return;
	pthread_mutex_lock(&s->mu);
	self = task_of_current(s);
	if (self >= 0) {
		s->tasks[self].wants = lock;
		pick_next(s, self);
		wait_turn(s, self);
		s->tasks[self].wants = NULL;
	}
	pthread_mutex_unlock(&s->mu);
}

static void hook_after_unlock(void *ctx, struct mutex *lock, const char *name)
{
	struct sched *s = ctx;
	int self;

	(void)lock;
	if (!lock_is_point(name))
		return;
	pthread_mutex_lock(&s->mu);
	self = task_of_current(s);
	if (self >= 0) {
		pick_next(s, self);
		wait_turn(s, self);
	}
	pthread_mutex_unlock(&s->mu);
}

static const struct machine_lock_ops sched_ops = {
	.before_lock = hook_before_lock,
	.after_unlock = hook_after_unlock,
};

static void *task_main(void *arg)
{
	struct task *t = arg;
	struct sched *s = t->s;
	struct script_ctx *ctx;
	struct script_result res;

	kcompat_set_current(t->token);
	pthread_mutex_lock(&s->mu);
	wait_turn(s, t->id);
	pthread_mutex_unlock(&s->mu);
	if (!s->finished) {
		ctx = script_ctx_new(s->m, "interleave");
		if (ctx && !script_exec_line(ctx, t->line, t->id + 1, &res))
			script_result_free(&res);
		script_ctx_free(ctx);
	}
	pthread_mutex_lock(&s->mu);
	t->done = true;
	if (!s->finished)
		pick_next(s, t->id);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Run @lines concurrently on @m under the schedule @prefix. */
static int run_schedule(struct machine *m, const char *const *lines, int n,
			const int *prefix, int nprefix, struct sched *s)
{
	memset(s->tasks, 0, sizeof(s->tasks));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->m = m;
	s->ntasks = n;
	s->running = -1;
	s->finished = s->deadlock = s->overflow = false;
	s->prefix = prefix;
	s->nprefix = nprefix;
	s->npoints = 0;
	machine_set_lock_ops(m, &sched_ops, s);
	for (int i = 0; i < n; i++) {
		struct task *t = &s->tasks[i];

		t->s = s;
		t->id = i;
		t->line = lines[i];
		t->token = (uintptr_t)t;
		if (pthread_create(&t->th, NULL, task_main, t)) {
			for (int k = 0; k < i; k++) {
				pthread_mutex_lock(&s->mu);
				s->finished = true;
				pthread_cond_broadcast(&s->cv);
				pthread_mutex_unlock(&s->mu);
				pthread_join(s->tasks[k].th, NULL);
			}
			machine_set_lock_ops(m, NULL, NULL);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&s->mu);
	pick_next(s, -1);
	while (!s->finished)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	/*
	 * A deadlocked run leaves tasks blocked inside real locks: they cannot
	 * be joined. Report it; the threads are detached and the machine leaked
	 * on purpose (the process is about to report a violation and exit).
	 */
	if (s->deadlock) {
		for (int i = 0; i < n; i++)
			pthread_detach(s->tasks[i].th);
		return 0;
	}
	for (int i = 0; i < n; i++)
		pthread_join(s->tasks[i].th, NULL);
	machine_set_lock_ops(m, NULL, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	return 0;
}

/* The default choice at a point: stay with the running task if it can. */
static int default_choice(unsigned int en, int cur)
{
	if (cur >= 0 && (en & (1u << cur)))
		return cur;
	return __builtin_ctz(en);
}

/*
 * The choices at a point in exploration order: the default first, then the
 * others by task number. Returns the one after @chosen, or -1.
 */
static int next_choice(unsigned int en, int cur, int chosen, int n)
{
	int def = default_choice(en, cur);
	bool after = false;

	if (chosen == def)
		after = true;
	for (int c = 0; c < n; c++) {
		if (c == def || !(en & (1u << c)))
			continue;
		if (after)
			return c;
		if (c == chosen)
			after = true;
	}
	return -1;
}

/* Preemptions among the first @k choices of @s. */
static int preemptions(const struct sched *s, int k)
{
	int p = 0;

	for (int i = 0; i < k; i++)
		if (s->current[i] >= 0 && s->choice[i] != s->current[i] &&
		    (s->enabled[i] & (1u << s->current[i])))
			p++;
	return p;
}

int check_interleavings(struct machine *state, const char *const *lines,
			int n, int max_preemptions, unsigned long *ret_runs,
			struct check_stats *st)
{
	struct sched *s = calloc(1, sizeof(*s));
	int *prefix = calloc(MAX_POINTS, sizeof(*prefix));
	int nprefix = 0, ret = 0;
	unsigned long runs = 0;

	if (!s || !prefix || n < 2 || n > MAX_TASKS) {
		free(s);
		free(prefix);
		return n < 2 || n > MAX_TASKS ? -EINVAL : -ENOMEM;
	}
	for (;;) {
		struct machine *m = machine_clone(state);
		unsigned int bad;

		if (!m) {
			ret = -ENOMEM;
			break;
		}
		ret = run_schedule(m, lines, n, prefix, nprefix, s);
		if (ret) {
			machine_destroy(m);
			break;
		}
		runs++;
		if (s->deadlock) {
			st->violated = INV_NO_WARN;
			snprintf(st->why, sizeof(st->why),
				 "deadlock: no task can take its lock");
			break; /* the machine's threads are stuck: leak it */
		}
		bad = machine_check_invariants(m, INV_ALL & ~INV_FAILED_NOOP,
					       st->why, sizeof(st->why));
		machine_destroy(m);
		if (bad) {
			st->violated = bad;
			break;
		}
		/* next schedule: the deepest point with an untried choice */
		{
			int k, c = -1;

			for (k = s->npoints - 1; k >= 0; k--) {
				int base = preemptions(s, k);

				c = s->choice[k];
				while ((c = next_choice(s->enabled[k],
							s->current[k], c,
							n)) >= 0) {
					bool preempt =
						s->current[k] >= 0 &&
						c != s->current[k] &&
						(s->enabled[k] &
						 (1u << s->current[k]));

					if (base + preempt <= max_preemptions)
						break;
				}
				if (c >= 0)
					break;
			}
			if (k < 0)
				break;
			memcpy(prefix, s->choice, (size_t)k * sizeof(*prefix));
			prefix[k] = c;
			nprefix = k + 1;
		}
	}
	if (ret_runs)
		*ret_runs = runs;
	if (st->violated) {
		/* the trace: the actions, one per task, as a script would run
		 * them one after the other (the interleaving is in st->why) */
		char sched_desc[256] = "";
		size_t off = 0;

		for (int k = 0; k < s->npoints && off < sizeof(sched_desc) - 4;
		     k++)
			off += (size_t)snprintf(sched_desc + off,
						sizeof(sched_desc) - off, "%d",
						s->choice[k] + 1);
		st->trace = calloc((size_t)n + 1, sizeof(*st->trace));
		if (st->trace) {
			for (int i = 0; i < n; i++)
				if (asprintf(&st->trace[i], "%s", lines[i]) < 0)
					st->trace[i] = NULL;
			st->trace_len = n;
			st->path_len = n;
		}
		{
			size_t len = strlen(st->why);

			snprintf(st->why + len, sizeof(st->why) - len,
				 " (tasks 1..%d run concurrently; schedule %s)",
				 n, sched_desc);
		}
	}
	free(prefix);
	if (!s->deadlock)
		free(s);
	return ret;
}
