// SPDX-License-Identifier: MIT
/*
 * Interleavings: two or three actions run as real threads on one machine,
 * but only one at a time, switched by a deterministic cooperative scheduler
 * at the model's lock and unlock points (the machine's lock hooks). Every
 * schedule with at most a given number of preemptions is run (stateless
 * exploration with preemption bounding, as CHESS does), from a fresh copy
 * of the state each time, and the invariants are checked at the end.
 */
#include <stdio.h>
#include <string.h>

#include "check/check-priv.h"
#include "compat/coro.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "machine/machine-priv.h"

#define MAX_TASKS 3
#define MAX_POINTS 4096

/*
 * A task's stack. The model's deepest paths (a sysfs write that probes,
 * attaches and logs) use a few tens of KB; sanitizers multiply that. Pages
 * are only touched as used.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TASK_STACK (8u << 20)
#else
#define TASK_STACK (1u << 20)
#endif

struct task {
	struct sched *s;
	int id;
	struct coro co;
	const char *line;
	bool done;
	struct mutex *wants;    /* the lock it is about to take, or NULL */
	struct script_result res;
	bool have_res;
};

struct sched {
	struct coro_host host;
	struct machine *m;
	struct task tasks[MAX_TASKS];
	int ntasks;
	int running;            /* task allowed to run; -1: none */
	bool finished;          /* every task done, or a deadlock */
	bool deadlock;
	bool keep_results;      /* replay: the caller wants each task's output */
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
	return !holder || holder == t->co.token;
}

/* A scheduling point reached by task @self (-1: the start). Picks who runs next. */
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
}

static int task_of_current(struct sched *s)
{
	uintptr_t me = kcompat_current();

	for (int i = 0; i < s->ntasks; i++)
		if (s->tasks[i].co.token == me)
			return i;
	return -1;
}

/* A point inside task @self: let the schedule choose, and step aside if not us. */
static void point(struct sched *s, int self)
{
	pick_next(s, self);
	if (s->running != self)
		coro_yield(&s->host); /* resumed only when chosen again */
}

static void hook_before_lock(void *ctx, struct mutex *lock, const char *name)
{
	struct sched *s = ctx;
	int self;

	if (!lock_is_point(name))
		return;
	self = task_of_current(s);
	if (self >= 0) {
		s->tasks[self].wants = lock;
		point(s, self);
		s->tasks[self].wants = NULL;
	}
}

static void hook_after_unlock(void *ctx, struct mutex *lock, const char *name)
{
	struct sched *s = ctx;
	int self;

	(void)lock;
	if (!lock_is_point(name))
		return;
	self = task_of_current(s);
	if (self >= 0)
		point(s, self);
}

static const struct machine_lock_ops sched_ops = {
	.before_lock = hook_before_lock,
	.after_unlock = hook_after_unlock,
};

static void task_main(void *arg)
{
	struct task *t = arg;
	struct sched *s = t->s;
	struct script_ctx *ctx = script_ctx_new(s->m, "concurrent");

	if (ctx) {
		int ret = script_exec_line(ctx, t->line, t->id + 1, &t->res);

		t->have_res = true;
		if (ret)
			t->res.status = 2;
		if (!s->keep_results) {
			script_result_free(&t->res);
			t->have_res = false;
		}
	}
	script_ctx_free(ctx);
	t->done = true;
	pick_next(s, t->id);
}

static void sched_fini(struct sched *s)
{
	for (int i = 0; i < MAX_TASKS; i++) {
		if (s->tasks[i].have_res)
			script_result_free(&s->tasks[i].res);
		coro_fini(&s->tasks[i].co);
	}
}

static int sched_init(struct sched *s, int n)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < n; i++)
		if (coro_init(&s->tasks[i].co, TASK_STACK,
			      (uintptr_t)&s->tasks[i])) {
			sched_fini(s);
			return -ENOMEM;
		}
	s->ntasks = n;
	return 0;
}

/*
 * Run @lines concurrently on @m under the schedule @prefix, each task a
 * coroutine on this thread. A deadlock leaves the stuck tasks' frames
 * behind: they are dropped when the stacks are reused or freed.
 */
static void run_schedule(struct machine *m, const char *const *lines,
			 const int *prefix, int nprefix, struct sched *s)
{
	s->m = m;
	s->running = -1;
	s->finished = s->deadlock = s->overflow = false;
	s->prefix = prefix;
	s->nprefix = nprefix;
	s->npoints = 0;
	for (int i = 0; i < s->ntasks; i++) {
		struct task *t = &s->tasks[i];

		if (t->have_res)
			script_result_free(&t->res);
		t->have_res = false;
		t->s = s;
		t->id = i;
		t->line = lines[i];
		t->done = false;
		t->wants = NULL;
		coro_start(&t->co, &s->host, task_main, t);
	}
	machine_set_lock_ops(m, &sched_ops, s);
	pick_next(s, -1);
	while (!s->finished)
		coro_resume(&s->host, &s->tasks[s->running].co);
	machine_set_lock_ops(m, NULL, NULL);
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
	struct sched *s;
	int *prefix;
	int nprefix = 0, ret = 0;
	unsigned long runs = 0;

	if (n < 2 || n > MAX_TASKS)
		return -EINVAL;
	s = malloc(sizeof(*s));
	prefix = calloc(MAX_POINTS, sizeof(*prefix));
	if (!s || !prefix || sched_init(s, n)) {
		free(s);
		free(prefix);
		return -ENOMEM;
	}
	for (;;) {
		struct machine *m = machine_clone(state);
		unsigned int bad;

		if (!m) {
			ret = -ENOMEM;
			break;
		}
		run_schedule(m, lines, prefix, nprefix, s);
		runs++;
		if (s->deadlock) {
			st->violated = INV_NO_WARN;
			snprintf(st->why, sizeof(st->why),
				 "deadlock: no task can take its lock");
			machine_destroy(m);
			break;
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
		/*
		 * The trace: the actions, one per task; the schedule that
		 * broke the invariant, for '@concurrent N schedule S'. Choices
		 * after the last one the default policy would not make are
		 * left out: a replay makes them by itself.
		 */
		int last = -1;

		for (int k = 0; k < s->npoints && k < MAX_POINTS; k++)
			if (s->choice[k] !=
			    default_choice(s->enabled[k], s->current[k]))
				last = k;
		free(st->schedule);
		st->schedule = malloc((size_t)last + 2);
		if (st->schedule) {
			for (int k = 0; k <= last; k++)
				st->schedule[k] = (char)('1' + s->choice[k]);
			st->schedule[last + 1] = '\0';
		}
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
				 n, st->schedule && *st->schedule ?
					    st->schedule : "default");
		}
	}
	free(prefix);
	sched_fini(s);
	free(s);
	return ret;
}

int check_run_concurrent(struct machine *m, const char *const *lines, int n,
			 const char *schedule, struct script_result *ret_res,
			 bool *ret_deadlock)
{
	size_t len = schedule ? strlen(schedule) : 0;
	struct sched *s;
	int *prefix;

	if (n < 2 || n > MAX_TASKS || len > MAX_POINTS)
		return -EINVAL;
	for (size_t k = 0; k < len; k++)
		if (schedule[k] < '1' || schedule[k] > '0' + n)
			return -EINVAL;
	s = malloc(sizeof(*s));
	prefix = calloc(len + 1, sizeof(*prefix));
	if (!s || !prefix || sched_init(s, n)) {
		free(s);
		free(prefix);
		return -ENOMEM;
	}
	for (size_t k = 0; k < len; k++)
		prefix[k] = schedule[k] - '1';
	s->keep_results = true;
	run_schedule(m, lines, prefix, (int)len, s);
	*ret_deadlock = s->deadlock;
	for (int i = 0; i < n; i++) {
		struct task *t = &s->tasks[i];

		if (t->have_res)
			ret_res[i] = t->res;
		else
			memset(&ret_res[i], 0, sizeof(ret_res[i]));
		t->have_res = false;
	}
	free(prefix);
	sched_fini(s);
	free(s);
	return 0;
}
