// SPDX-License-Identifier: MIT
/*
 * The checker: clean machines stay clean to the bound, every mutant is
 * caught with a counterexample of the expected length, and each
 * counterexample replays through the script shell to the same violation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "dmaown/topology.h"
#include "check/check-priv.h"
#include "drivers/base/base.h"
#include "machine/machine-priv.h"

static struct machine *boot(const char *name, unsigned int faults)
{
	const char *text = builtin_machine_text(name);
	struct topo_error err;
	struct machine *m;

	assert_non_null(text);
	m = topology_load_faults(name, text, faults, &err);
	assert_non_null(m);
	assert_int_equal(machine_faults(m), faults);
	return m;
}

static void do_check(const char *name, unsigned int faults, int depth,
		     bool probe_faults, struct check_stats *st)
{
	struct check_opts o = { .depth = depth, .faults = faults,
				.probe_faults = probe_faults, .nshards = 1 };
	struct machine *m = boot(name, faults);

	assert_int_equal(check_machine(name, m, &o, st), 0);
	machine_destroy(m);
}

/*
 * Replay a counterexample on a fresh boot; return the violation seen. An
 * interleaving one runs its concurrent lines as an '@concurrent' block
 * under @schedule.
 */
/* The lines a counterexample starts with: the checker's iommufd users. */
static void run_prelude(struct script_ctx *ctx)
{
	for (size_t i = 0; i < CHECK_PRELUDE_LINES; i++) {
		struct script_result res;

		assert_int_equal(script_exec_line(ctx, check_prelude[i], 0, &res),
				 0);
		assert_int_equal(res.status, 0);
		script_result_free(&res);
	}
}

static unsigned int replay_schedule(const char *name, unsigned int faults,
				    const struct check_stats *st,
				    const char *schedule)
{
	struct machine *m = boot(name, faults);
	struct script_ctx *ctx = script_ctx_new(m, "replay");
	unsigned int inv;
	char why[512];

	assert_non_null(ctx);
	run_prelude(ctx);
	for (int i = 0; i < st->trace_len; i++) {
		struct script_result res;

		if (st->concurrent && i == st->trace_len - st->concurrent) {
			char line[64 + CONCURRENT_SCHEDULE_MAX];

			snprintf(line, sizeof(line), "@concurrent %d schedule %s",
				 st->concurrent, schedule);
			assert_int_equal(script_exec_line(ctx, line, i + 1,
							  &res), 0);
			script_result_free(&res);
		}
		assert_int_equal(script_exec_line(ctx, st->trace[i], i + 1,
						  &res), 0);
		script_result_free(&res);
	}
	inv = machine_check_invariants(m, INV_ALL & ~INV_FAILED_NOOP, why,
				       sizeof(why));
	script_ctx_free(ctx);
	machine_destroy(m);
	return inv;
}

/* Every built-in machine small enough is clean at depth 3. */
static void clean_machines(void **state)
{
	(void)state;
	for (size_t i = 0; i < builtin_machine_count(); i++) {
		const char *name = builtin_machine_name(i);
		struct check_stats st;
		struct machine *m = boot(name, 0);
		size_t ndev = machine_device_count(m);

		machine_destroy(m);
		do_check(name, 0, ndev > 24 ? 2 : 3, false, &st);
		if (st.violated)
			fail_msg("%s: %s: %s", name,
				 check_invariant_name(st.violated &
						      -st.violated), st.why);
		assert_true(st.states > 1);
		assert_true(st.transitions >= st.states - 1);
		check_stats_free(&st);
	}
}

static unsigned int replay(const char *name, unsigned int faults,
			   const struct check_stats *st)
{
	return replay_schedule(name, faults, st, "");
}

/*
 * check_prepare() and the prelude a counterexample starts with make the
 * same machine: two processes, each with an iommufd at descriptor 3 and
 * IOAS 1 in it.
 */
static void prelude_is_prepare(void **state)
{
	struct machine *a = boot("vfio-host", 0), *b = boot("vfio-host", 0);
	struct script_ctx *ctx = script_ctx_new(b, "prelude");

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(check_prepare(a), 0);
	assert_false(machine_equal(a, b));
	run_prelude(ctx);
	for (size_t i = 0; i < CHECK_PRELUDE_LINES; i++)
		assert_true(check_line_needs_prelude(check_prelude[i]));
	assert_true(machine_equal(a, b));
	assert_false(check_line_needs_prelude("@vmm assign 0000:01:00.0"));
	script_ctx_free(ctx);
	machine_destroy(a);
	machine_destroy(b);
}

static void v7_found_fast(void **state)
{
	struct check_stats st;

	(void)state;
	do_check("qdf2400", MACHINE_FAULT_V7_ORDER, 4, false, &st);
	assert_int_not_equal(st.violated, 0);
	assert_int_equal(st.path_len, 0); /* broken from boot */
	assert_in_range(st.trace_len, 1, 4);
	assert_true(st.seconds < 1.0);
	/* the counterexample is the report's unbind, replaying to the WARN */
	assert_string_equal(st.trace[st.trace_len - 1],
			    "echo 0004:01:00.0 > /sys/bus/pci/drivers/e1000e/unbind");
	assert_true(replay("qdf2400", MACHINE_FAULT_V7_ORDER, &st) &
		    INV_NO_WARN);
	check_stats_free(&st);
}

/* The v7 fault cannot bite on x86: the device was in its group at add. */
static void v7_harmless_on_x86(void **state)
{
	struct check_stats st;

	(void)state;
	do_check("vfio-host", MACHINE_FAULT_V7_ORDER, 3, false, &st);
	assert_int_equal(st.violated, 0);
	check_stats_free(&st);
}

static const struct {
	unsigned int fault;
	bool probe_faults;
	unsigned int invariant;
	int steps;
} mutants[] = {
	{ MACHINE_FAULT_CLAIM_IGNORES_COUNT, false, INV_ISOLATION, 1 },
	{ MACHINE_FAULT_RELEASE_KEEPS_DOMAIN, false, INV_TEARDOWN, 2 },
	{ MACHINE_FAULT_USE_IGNORES_OWNER, false, INV_ISOLATION, 3 },
	{ MACHINE_FAULT_NO_PROBE_CLEANUP, true, INV_ACCOUNTING, 3 },
};

static void mutants_caught(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mutants) / sizeof(mutants[0]); i++) {
		struct check_stats st;
		unsigned int seen;

		do_check("vfio-host", mutants[i].fault, 5,
			 mutants[i].probe_faults, &st);
		if (!(st.violated & mutants[i].invariant) ||
		    st.path_len != mutants[i].steps)
			fail_msg("%s: %s after %d steps (%s), expected %s after %d",
				 machine_fault_name(mutants[i].fault),
				 check_invariant_name(st.violated &
						      -st.violated),
				 st.path_len, st.why,
				 check_invariant_name(mutants[i].invariant),
				 mutants[i].steps);
		/* I1..I4 and I6 replay; I5 needs the step's failure itself */
		if (mutants[i].invariant != INV_FAILED_NOOP &&
		    mutants[i].invariant != INV_TEARDOWN) {
			seen = replay("vfio-host", mutants[i].fault, &st);
			assert_true(seen & mutants[i].invariant);
		}
		check_stats_free(&st);
	}
}

/* The lock-dropped mutant: invisible sequentially, found interleaved. */
static void lock_dropped_needs_interleavings(void **state)
{
	struct check_opts o = { .depth = 4, .nshards = 1,
				.faults = MACHINE_FAULT_LOCK_DROPPED };
	struct machine *m = boot("vfio-host", MACHINE_FAULT_LOCK_DROPPED);
	struct check_stats st;

	(void)state;
	assert_int_equal(check_machine("vfio-host", m, &o, &st), 0);
	assert_int_equal(st.violated, 0);
	check_stats_free(&st);

	o.depth = 2;
	o.interleave = 2;
	o.preemptions = 2;
	assert_int_equal(check_machine("vfio-host", m, &o, &st), 0);
	assert_true(st.violated & INV_ISOLATION);
	assert_int_equal(st.concurrent, 2);
	assert_int_equal(st.path_len, 1);
	assert_true(st.schedules > 1);
	/* the recorded schedule replays it (check_run_concurrent()); the
	 * default one, with no preemption, does not */
	assert_non_null(st.schedule);
	assert_true(strlen(st.schedule) > 0);
	assert_true(replay_schedule("vfio-host", MACHINE_FAULT_LOCK_DROPPED,
				    &st, st.schedule) & INV_ISOLATION);
	assert_int_equal(replay_schedule("vfio-host",
					 MACHINE_FAULT_LOCK_DROPPED, &st, "1"),
			 0);
	check_stats_free(&st);
	machine_destroy(m);
}

/*
 * Regression: a bind through the driver's sysfs file racing the module's
 * unload used the freed driver (found by interleavings under
 * MALLOC_PERTURB_). Unload now drains users as kernfs does.
 */
static void bind_races_rmmod(void **state)
{
	struct check_opts o = { .depth = 1, .nshards = 1, .interleave = 2,
				.preemptions = 3 };
	struct machine *m = boot("vfio-host", 0);
	struct check_stats st;

	(void)state;
	assert_int_equal(check_machine("vfio-host", m, &o, &st), 0);
	if (st.violated)
		fail_msg("%s", st.why);
	check_stats_free(&st);
	machine_destroy(m);
}

/*
 * driver_detach() (drivers/base/dd.c) walks the driver's own bound
 * devices; a bind of the same driver that passed its dying check before
 * an unload is not on that list yet. The unload must wait for it and undo
 * it: under every switch point from the bind to rmmod (task 1 runs k lock
 * points, then task 2 runs), the GPU ends unbound or bound to a driver
 * that is still loaded, never to the unloaded one; and some point falls
 * in the bind's probe, where both succeed and the unload undid the bind.
 */
static void rmmod_waits_for_bind_in_flight(void **state)
{
	static const char *const tasks[] = {
		"echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind",
		"rmmod vfio-pci",
	};
	struct machine *m = boot("vfio-host", 0);
	struct script_ctx *ctx = script_ctx_new(m, "setup");
	struct script_result res;
	int undone = 0;

	(void)state;
	assert_int_equal(script_exec_line(ctx,
					  "echo 0000:01:00.0 > "
					  "/sys/bus/pci/drivers/vfio-pci/unbind",
					  1, &res),
			 0);
	assert_int_equal(res.status, 0);
	script_result_free(&res);
	script_ctx_free(ctx);
	for (int k = 0; k < 64; k++) {
		char schedule[66];
		struct script_result r[2];
		struct machine *c = machine_clone(m);
		struct device *gpu;
		struct device_driver *drv;
		bool deadlock;

		assert_non_null(c);
		memset(schedule, '1', (size_t)k);
		schedule[k] = '2';
		schedule[k + 1] = '\0';
		assert_int_equal(check_run_concurrent(c, tasks, 2, schedule, r,
						      &deadlock), 0);
		assert_false(deadlock);
		gpu = machine_find_device(c, "0000:01:00.0");
		assert_non_null(gpu);
		drv = machine_find_driver(c, "vfio-pci");
		if (gpu->driver && gpu->driver != drv)
			fail_msg("schedule %s: bound to an unloaded driver",
				 schedule);
		if (!r[0].status && !r[1].status && !drv && !gpu->driver)
			undone++;
		script_result_free(&r[0]);
		script_result_free(&r[1]);
		assert_int_equal(machine_warn_count(c), 0);
		machine_destroy(c);
	}
	assert_true(undone > 0);
	machine_destroy(m);
}

/*
 * strlist_add() writes "%s" and "%d" itself and leaves the rest to
 * vasprintf(): each line is what snprintf() makes of it, short or past
 * its stack buffer, negative numbers and INT_MIN included.
 */
static void strlist_formats_as_printf(void **state)
{
	char long_name[700], want[1024];
	struct strlist l = { 0 };
	size_t i = 0;

	(void)state;
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	strlist_add(&l, "echo %s > /sys/bus/%s/drivers/%s/bind", "0000:01:00.0",
		    "pci", "vfio-pci");
	strlist_add(&l, "@vfio close %d", -1 - 7);
	strlist_add(&l, "%d %d %d", 0, INT_MIN, INT_MAX);
	strlist_add(&l, "%s", long_name);
	strlist_add(&l, "a %x b %u %5s %%", 255u, 7u, "ab");
	strlist_add(&l, "%s", "");
	assert_false(l.oom);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.v[i++],
			    "echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind");
	assert_string_equal(l.v[i++], "@vfio close -8");
	snprintf(want, sizeof(want), "%d %d %d", 0, INT_MIN, INT_MAX);
	assert_string_equal(l.v[i++], want);
	assert_string_equal(l.v[i++], long_name);
	assert_string_equal(l.v[i++], "a ff b 7    ab %");
	assert_string_equal(l.v[i++], "");
	strlist_free(&l);
}

/*
 * A context that keeps parsed lines (script_ctx_keep_parsed(), the
 * checker's) gives every line the result a fresh shell gives, the second
 * time from what it kept: across resets, with globs resolved at each run
 * and lines that name variables parsed again (A changes between two runs
 * of the same 'echo $A').
 */
static void kept_lines_run_as_parsed(void **state)
{
	static const char *const lines[] = {
		"A=one",
		"echo $A",
		"echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/unbind",
		"ls /sys/bus/pci/drivers/*/0000:01:00.1 | wc -l",
		"A=two",
		"echo $A",
		("echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/bind "
		 "&& echo bound; echo 'a  b' \"c\" >/dev/null"),
		"cat /sys/bus/pci/devices/0000:01:00.1/driver_override",
		"no-such-command",
	};
	struct machine *m[2] = { boot("vfio-host", 0), boot("vfio-host", 0) };
	struct script_ctx *ctx[2] = { script_ctx_new(m[0], "t"),
				      script_ctx_new(m[1], "t") };

	(void)state;
	script_ctx_keep_parsed(ctx[1]);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			struct script_result r[2];
			int ret[2];

			for (int k = 0; k < 2; k++)
				ret[k] = script_exec_line(ctx[k], lines[i],
							  (int)i + 1, &r[k]);
			assert_int_equal(ret[0], ret[1]);
			assert_int_equal(r[0].status, r[1].status);
			assert_string_equal(r[0].out ? r[0].out : "",
					    r[1].out ? r[1].out : "");
			assert_string_equal(r[0].err ? r[0].err : "",
					    r[1].err ? r[1].err : "");
			if (!strcmp(lines[i], "echo $A"))
				assert_string_equal(r[1].out,
						    i == 1 ? "one\n" : "two\n");
			script_result_free(&r[0]);
			script_result_free(&r[1]);
		}
		for (int k = 0; k < 2; k++)
			script_ctx_reset(ctx[k], m[k]);
	}
	for (int k = 0; k < 2; k++) {
		script_ctx_free(ctx[k]);
		machine_destroy(m[k]);
	}
}

/* Interleaving the unmutated model finds nothing on a small machine. */
static void interleavings_clean(void **state)
{
	struct check_opts o = { .depth = 2, .nshards = 1, .interleave = 2,
				.preemptions = 2 };
	struct machine *m = boot("qdf2400", 0);
	struct check_stats st;

	(void)state;
	assert_int_equal(check_machine("qdf2400", m, &o, &st), 0);
	if (st.violated)
		fail_msg("%s", st.why);
	assert_true(st.schedules > 100);
	check_stats_free(&st);
	machine_destroy(m);
}

/* Without the mutants the same machine is clean one step deeper. */
static void vfio_host_clean(void **state)
{
	struct check_stats st;

	(void)state;
	do_check("vfio-host", 0, 5, true, &st);
	if (st.violated)
		fail_msg("%s: %s", check_invariant_name(st.violated), st.why);
	check_stats_free(&st);
}

/* Shards partition the first level: together they see every state. */
static void shards_cover(void **state)
{
	struct check_opts o = { .depth = 3, .nshards = 1 };
	struct check_stats all, part;
	struct machine *m = boot("vfio-host", 0);
	unsigned long sum = 0;

	(void)state;
	assert_int_equal(check_machine("vfio-host", m, &o, &all), 0);
	for (unsigned int s = 0; s < 3; s++) {
		o.nshards = 3;
		o.shard = s;
		assert_int_equal(check_machine("vfio-host", m, &o, &part), 0);
		assert_true(part.states <= all.states);
		sum += part.states - 1;
		check_stats_free(&part);
	}
	/* states reachable from two first actions are counted twice */
	assert_true(sum >= all.states - 1);
	machine_destroy(m);
	check_stats_free(&all);
}

/*
 * --max-states holds at every step, also while one state's actions are
 * expanded: the check used to come only after a whole state's actions, so
 * x86-desktop at depth 4 with 50 made 70 states, and with 5 made boot's 25
 * successors.
 */
static void max_states_honoured(void **state)
{
	struct check_opts o = { .depth = 4, .nshards = 1, .max_states = 50 };
	struct machine *m = boot("x86-desktop", 0);
	struct check_stats st;
	char **acts;
	size_t nacts;

	(void)state;
	assert_int_equal(check_actions(m, NULL, &acts, &nacts), 0);
	for (size_t i = 0; i < nacts; i++)
		free(acts[i]);
	free(acts);

	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_int_equal(st.violated, 0);
	assert_true(st.states <= 50);
	assert_int_equal(st.states, 50); /* there were more to find */
	assert_true(st.truncated);
	assert_int_equal(st.depth, 1);	 /* level 2 was not finished */
	check_stats_free(&st);

	/* a cut inside boot's own actions */
	assert_true(nacts > 6);
	o.max_states = 5;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_int_equal(st.states, 5);
	assert_true(st.transitions < nacts);
	assert_true(st.truncated);
	assert_int_equal(st.depth, 0);
	check_stats_free(&st);

	/* the smallest limits: boot alone, then boot and one more */
	o.max_states = 1;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_int_equal(st.states, 1);
	assert_int_equal(st.transitions, 0);
	assert_true(st.truncated);
	check_stats_free(&st);
	o.max_states = 2;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_int_equal(st.states, 2);
	assert_true(st.truncated);
	check_stats_free(&st);

	/* a limit the search stays under changes nothing */
	o.depth = 2;
	o.max_states = 0;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	{
		unsigned long all = st.states;

		assert_false(st.truncated);
		check_stats_free(&st);
		o.max_states = all + 1;
		assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
		assert_int_equal(st.states, all);
		assert_false(st.truncated);
		assert_int_equal(st.depth, 2);
		check_stats_free(&st);
	}
	machine_destroy(m);

	/* interleavings: states explored, and the queue, stay within it */
	m = boot("qdf2400", 0);
	o = (struct check_opts){ .depth = 3, .nshards = 1, .interleave = 2,
				 .preemptions = 1, .max_states = 2 };
	assert_int_equal(check_machine("qdf2400", m, &o, &st), 0);
	assert_int_equal(st.violated, 0);
	assert_true(st.states <= 2);
	assert_true(st.truncated);
	check_stats_free(&st);
	machine_destroy(m);
}

/*
 * --depth max runs to the fixpoint. qdf2400 closes at 208 states, the
 * farthest 12 actions from boot (11 before rmmod of a module vfio holds
 * open was refused, as delete_module() refuses it): a level-12 bound has
 * not seen that the next level is empty, a level-13 bound has. The space closes only because
 * state identity leaves history out (the log, WARN texts, the numbers of
 * closed files) and because the VMM closes a group file and container the
 * kernel emptied (settle()): without that every unbind of an assigned
 * device leaked two descriptors, and qdf2400 had 1,643 states at depth 40.
 */
static void fixpoint_complete(void **state)
{
	struct check_stats st;

	(void)state;
	do_check("qdf2400", 0, CHECK_DEPTH_MAX, false, &st);
	assert_int_equal(st.violated, 0);
	assert_true(st.complete);
	assert_false(st.truncated);
	assert_int_equal(st.states, 208);
	assert_int_equal(st.diameter, 12);
	assert_int_equal(st.depth, 13);
	check_stats_free(&st);

	do_check("qdf2400", 0, 12, false, &st);
	assert_false(st.complete);
	assert_int_equal(st.depth, 12);
	assert_int_equal(st.diameter, 12);
	check_stats_free(&st);
	do_check("qdf2400", 0, 13, false, &st);
	assert_true(st.complete);
	assert_int_equal(st.states, 208);
	check_stats_free(&st);

	/* no IOMMU: no VFIO, only drivers */
	do_check("no-iommu", 0, CHECK_DEPTH_MAX, false, &st);
	assert_true(st.complete);
	assert_int_equal(st.states, 1024);
	assert_int_equal(st.diameter, 10);
	check_stats_free(&st);
}

/* A shard sees part of the space: never complete, even at its fixpoint. */
static void shard_never_complete(void **state)
{
	struct check_opts o = { .depth = CHECK_DEPTH_MAX, .nshards = 2 };
	struct machine *m = boot("qdf2400", 0);
	struct check_stats st;

	(void)state;
	assert_int_equal(check_machine("qdf2400", m, &o, &st), 0);
	assert_false(st.complete);
	assert_true(st.states <= 208);
	check_stats_free(&st);
	machine_destroy(m);
}

/*
 * --exact keeps every state's text: the same states as the 128-bit hashes
 * (no collision here), more bytes, and every rebuilt state compared with
 * its stored text (a model that is not deterministic fails with -EINVAL).
 */
static void exact_matches_hashed(void **state)
{
	static const char *const names[] = { "qdf2400", "no-iommu" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct check_opts o = { .depth = CHECK_DEPTH_MAX, .nshards = 1 };
		struct machine *m = boot(names[i], 0);
		struct check_stats h, e;

		assert_int_equal(check_machine(names[i], m, &o, &h), 0);
		o.exact = true;
		assert_int_equal(check_machine(names[i], m, &o, &e), 0);
		assert_true(h.complete && e.complete);
		assert_int_equal(e.states, h.states);
		assert_int_equal(e.transitions, h.transitions);
		assert_int_equal(e.diameter, h.diameter);
		assert_true(e.bytes > h.bytes);
		check_stats_free(&h);
		check_stats_free(&e);
		machine_destroy(m);
	}
}

/*
 * The visited set: at most 100 bytes a state (24 bytes of hash and
 * parent link, the index, the growth slack, the tables of transitions),
 * and --max-memory stops the search before it would grow past the limit.
 */
static void memory_bounded(void **state)
{
	struct check_opts o = { .depth = CHECK_DEPTH_MAX, .nshards = 1,
				.max_states = 5000 };
	struct machine *m = boot("vfio-host", 0);
	struct check_stats st, all;

	(void)state;
	assert_int_equal(check_machine("vfio-host", m, &o, &st), 0);
	assert_int_equal(st.states, 5000);
	assert_true(st.bytes <= 100 * st.states);
	check_stats_free(&st);

	o.max_states = 0;
	o.max_memory = 64 * 1024;
	assert_int_equal(check_machine("vfio-host", m, &o, &st), 0);
	assert_true(st.truncated);
	assert_false(st.complete);
	assert_true(st.bytes <= o.max_memory);
	assert_true(st.states > 1000);
	/*
	 * the tables of transitions give their room up to the store: the
	 * same states as a run that keeps none
	 */
	assert_true(st.commuted > 0);
	o.no_commute = true;
	assert_int_equal(check_machine("vfio-host", m, &o, &all), 0);
	assert_int_equal(st.states, all.states);
	assert_int_equal(st.transitions, all.transitions);
	check_stats_free(&all);
	check_stats_free(&st);
	machine_destroy(m);
}

/*
 * -j N: workers share one machine's search. Every level's new states are
 * put in the order one worker finds them, and none is kept past the
 * first violation in that order, so the figures and the counterexample
 * are one worker's, line for line. Run under ThreadSanitizer too.
 */
static void threads_match_one(void **state)
{
	static const struct {
		const char *machine;
		unsigned int fault;
		bool probe_faults;
		int depth;
	} runs[] = {
		{ "qdf2400", 0, false, CHECK_DEPTH_MAX },
		{ "no-iommu", 0, false, CHECK_DEPTH_MAX },
		{ "vfio-host", 0, false, 4 },
		{ "vfio-host", MACHINE_FAULT_USE_IGNORES_OWNER, false, 5 },
		{ "vfio-host", MACHINE_FAULT_RELEASE_KEEPS_DOMAIN, false, 5 },
		{ "vfio-host", MACHINE_FAULT_NO_PROBE_CLEANUP, true, 5 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct check_opts o = { .depth = runs[i].depth, .nshards = 1,
					.faults = runs[i].fault,
					.probe_faults = runs[i].probe_faults };
		struct machine *m = boot(runs[i].machine, runs[i].fault);
		struct check_stats one, two;

		assert_int_equal(check_machine(runs[i].machine, m, &o, &one), 0);
		o.threads = 2;
		assert_int_equal(check_machine(runs[i].machine, m, &o, &two), 0);
		assert_int_equal(two.states, one.states);
		assert_int_equal(two.complete, one.complete);
		assert_int_equal(two.diameter, one.diameter);
		assert_int_equal(two.depth, one.depth);
		assert_int_equal(two.violated, one.violated);
		assert_string_equal(two.why, one.why);
		assert_int_equal(two.path_len, one.path_len);
		assert_int_equal(two.trace_len, one.trace_len);
		for (int k = 0; k < one.trace_len; k++)
			assert_string_equal(two.trace[k], one.trace[k]);
		if (!one.violated)
			assert_int_equal(two.transitions, one.transitions);
		check_stats_free(&one);
		check_stats_free(&two);
		machine_destroy(m);
	}
}

/*
 * Partial-order reduction finds what the full search finds: every mutant
 * and the v7 fault, on the machines where they show, break the same
 * invariant with --por as without; and a clean machine stays clean.
 */
static void por_same_violations(void **state)
{
	static const struct {
		const char *machine;
		unsigned int fault;
		bool probe_faults;
	} cases[] = {
		{ "qdf2400", MACHINE_FAULT_V7_ORDER, false },
		{ "arm64-soc", MACHINE_FAULT_V7_ORDER, false },
		{ "vfio-host", MACHINE_FAULT_CLAIM_IGNORES_COUNT, false },
		{ "vfio-host", MACHINE_FAULT_RELEASE_KEEPS_DOMAIN, false },
		{ "vfio-host", MACHINE_FAULT_USE_IGNORES_OWNER, false },
		{ "vfio-host", MACHINE_FAULT_NO_PROBE_CLEANUP, true },
		{ "qdf2400", 0, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct check_opts o = { .depth = CHECK_DEPTH_MAX,
					.max_states = 3000,
					.faults = cases[i].fault,
					.probe_faults = cases[i].probe_faults,
					.nshards = 1 };
		struct machine *m = boot(cases[i].machine, cases[i].fault);
		struct check_stats full, por;

		assert_int_equal(check_machine(cases[i].machine, m, &o, &full), 0);
		o.por = true;
		assert_int_equal(check_machine(cases[i].machine, m, &o, &por), 0);
		if ((full.violated & -full.violated) !=
		    (por.violated & -por.violated))
			fail_msg("%s %s: %s without --por, %s with",
				 cases[i].machine,
				 machine_fault_name(cases[i].fault),
				 check_invariant_name(full.violated &
						      -full.violated),
				 check_invariant_name(por.violated &
						      -por.violated));
		assert_int_equal(!cases[i].fault, !full.violated);
		/* its counterexample is a real one: it replays */
		if (por.violated &&
		    !(por.violated & (INV_FAILED_NOOP | INV_TEARDOWN)))
			assert_true(replay(cases[i].machine, cases[i].fault,
					   &por) & por.violated);
		check_stats_free(&full);
		check_stats_free(&por);
		machine_destroy(m);
	}
}

/*
 * The reduction is reported: the reduced graph is a part of the full one,
 * so within a depth bound it has fewer states, and the run says from how
 * many states it left actions out. (A bound on the reduced graph is not a
 * bound on the orders it covers: only a complete run proves anything.)
 * On qdf2400 it reaches its fixpoint.
 */
static void por_reduces(void **state)
{
	struct check_opts o = { .depth = 2, .nshards = 1 };
	struct machine *m = boot("x86-desktop", 0);
	struct check_stats full, por;

	(void)state;
	assert_int_equal(check_machine("x86-desktop", m, &o, &full), 0);
	o.por = true;
	assert_int_equal(check_machine("x86-desktop", m, &o, &por), 0);
	assert_int_equal(full.violated, 0);
	assert_int_equal(por.violated, 0);
	assert_true(por.states < full.states);
	assert_true(por.transitions < full.transitions);
	assert_true(por.por_reduced > 0 && por.por_skipped > 0);
	assert_int_equal(full.por_reduced, 0);
	check_stats_free(&full);
	check_stats_free(&por);
	machine_destroy(m);

	m = boot("qdf2400", 0);
	o.depth = CHECK_DEPTH_MAX;
	assert_int_equal(check_machine("qdf2400", m, &o, &por), 0);
	assert_true(por.complete);
	assert_int_equal(por.violated, 0);
	assert_true(por.states <= 208);
	check_stats_free(&por);
	machine_destroy(m);
}

/* A run's visited hashes, gathered through check_opts::visited. */
struct hashes {
	uint64_t (*v)[2];
	size_t n, cap;
};

static int collect_hash(void *ctx, const uint64_t hash[2], unsigned int depth)
{
	struct hashes *h = ctx;

	(void)depth;
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		uint64_t (*nv)[2] = realloc(h->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = ncap;
	}
	h->v[h->n][0] = hash[0];
	h->v[h->n][1] = hash[1];
	h->n++;
	return 0;
}

static bool has_hash(const struct hashes *h, const uint64_t hash[2])
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i][0] == hash[0] && h->v[i][1] == hash[1])
			return true;
	return false;
}

/*
 * A run hands over its visited set (the hook --save-states uses); the
 * union of two shards' sets is the whole run's states (qdf2400 to depth
 * 2: 22, each shard 16), whatever the shards share.
 */
static void visited_of_shards(void **state)
{
	struct check_opts o = { .depth = 2, .nshards = 1,
				.visited = collect_hash };
	struct machine *m = boot("qdf2400", 0);
	struct hashes whole = { 0 }, uni = { 0 };
	struct check_stats st;

	(void)state;
	o.visited_ctx = &whole;
	assert_int_equal(check_machine("qdf2400", m, &o, &st), 0);
	assert_int_equal(st.states, 22);
	assert_int_equal(whole.n, 22);
	check_stats_free(&st);
	o.nshards = 2;
	for (o.shard = 0; o.shard < 2; o.shard++) {
		struct hashes part = { 0 };

		o.visited_ctx = &part;
		assert_int_equal(check_machine("qdf2400", m, &o, &st), 0);
		assert_true(part.n < 22);
		for (size_t i = 0; i < part.n; i++)
			if (!has_hash(&uni, part.v[i]))
				assert_int_equal(collect_hash(&uni, part.v[i], 0), 0);
		free(part.v);
		check_stats_free(&st);
	}
	assert_int_equal(uni.n, 22);
	/* the same 22: every state of the whole run is in the union */
	for (size_t i = 0; i < whole.n; i++)
		assert_true(has_hash(&uni, whole.v[i]));
	free(uni.v);
	free(whole.v);
	machine_destroy(m);
}

/* A visited set in one number: its states, their order and depths. */
struct digest {
	uint64_t x;
	unsigned long n;
};

static int digest_visit(void *ctx, const uint64_t hash[2], unsigned int depth)
{
	struct digest *d = ctx;

	d->x = (d->x * 0x100000001b3ULL) ^ hash[0] ^ (hash[1] << 1) ^ depth;
	d->n++;
	return 0;
}

/*
 * Transitions known by commutation (docs/check.md) change no result: the
 * same states, in the same order at the same depths, the same transitions
 * counted, the same verdict and counterexample as a run that runs every
 * one, with one thread and with two. On x86-desktop more than a third of
 * the transitions are known so, and on every machine some by what the
 * action does (enum act_kind); --no-commute, --por and
 * --exact run them all. The self-checking build also runs each
 * transition it skips, and checks it reaches the state named
 * (commute_verified()).
 */
static void commute_same_search(void **state)
{
	static const struct {
		const char *machine;
		unsigned int fault;
		bool probe_faults;
		int depth;
		unsigned long max_states;
	} runs[] = {
		{ "x86-desktop", 0, false, 3, 0 },
		{ "arm64-soc", 0, false, 4, 0 },
		{ "qemu-arm64-iort", 0, false, CHECK_DEPTH_MAX, 1500 },
		{ "vfio-host", 0, false, 4, 0 },
		{ "qdf2400", 0, false, CHECK_DEPTH_MAX, 0 },
		{ "qdf2400", MACHINE_FAULT_V7_ORDER, false, CHECK_DEPTH_MAX, 0 },
		{ "arm64-soc", MACHINE_FAULT_V7_ORDER, false, CHECK_DEPTH_MAX, 0 },
		{ "x86-desktop", MACHINE_FAULT_CLAIM_IGNORES_COUNT, false, 6, 0 },
		{ "vfio-host", MACHINE_FAULT_USE_IGNORES_OWNER, false, 5, 0 },
		{ "vfio-host", MACHINE_FAULT_NO_PROBE_CLEANUP, true, 5, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct check_opts o = { .depth = runs[i].depth, .nshards = 1,
					.max_states = runs[i].max_states,
					.faults = runs[i].fault,
					.probe_faults = runs[i].probe_faults,
					.visited = digest_visit };
		struct machine *m = boot(runs[i].machine, runs[i].fault);
		struct check_stats all, st;
		struct digest dall = { 0 };

		o.no_commute = true;
		o.visited_ctx = &dall;
		assert_int_equal(check_machine(runs[i].machine, m, &o, &all), 0);
		assert_int_equal(all.commuted, 0);
		assert_int_equal(all.equivalent, 0);
		assert_int_equal(all.i6_known, 0);
		assert_int_equal(!runs[i].fault, !all.violated);
		o.no_commute = false;
		for (o.threads = 1; o.threads <= 2; o.threads++) {
			struct digest d = { 0 };

			o.visited_ctx = &d;
			assert_int_equal(check_machine(runs[i].machine, m, &o,
						       &st), 0);
			/* a limit stops two threads at other states */
			if (!runs[i].fault && (o.threads == 1 || !all.truncated)) {
				assert_int_equal(d.n, dall.n);
				if (d.x != dall.x)
					fail_msg("%s: %d threads: other states", runs[i].machine, o.threads);
				assert_int_equal(st.transitions,
						 all.transitions);
				assert_true(st.commuted < st.transitions);
			}
			assert_int_equal(st.states, all.states);
			assert_int_equal(st.complete, all.complete);
			assert_int_equal(st.diameter, all.diameter);
			assert_int_equal(st.violated, all.violated);
			assert_string_equal(st.why, all.why);
			assert_int_equal(st.trace_len, all.trace_len);
			for (int k = 0; k < all.trace_len; k++)
				assert_string_equal(st.trace[k], all.trace[k]);
			if (!strcmp(runs[i].machine, "x86-desktop") &&
			    !runs[i].fault && o.threads == 1)
				assert_true(st.commuted * 3 > st.transitions);
			/*
			 * drivers_probe after the bind it repeats, or with no
			 * driver to match; an override cleared after its set
			 */
			if (!runs[i].fault && o.threads == 1)
				assert_true(st.equivalent > 0);
			/* a state an override write reaches: its parent's I6 */
			if (!strcmp(runs[i].machine, "x86-desktop") &&
			    !runs[i].fault)
				assert_true(st.i6_known > 0);
			check_stats_free(&st);
		}
		check_stats_free(&all);
		machine_destroy(m);
	}
}

/*
 * Two workers with the tables of transitions under --max-memory: they
 * give their room up (the last level's only once the level is done,
 * since workers read it without the lock) and the limit holds. Run under
 * ThreadSanitizer too.
 */
static void commute_threads_memory(void **state)
{
	struct check_opts o = { .depth = CHECK_DEPTH_MAX, .nshards = 1,
				.threads = 2, .max_memory = 64 * 1024 };
	struct machine *m = boot("x86-desktop", 0);
	struct check_stats st;

	(void)state;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_true(st.truncated);
	assert_true(st.bytes <= o.max_memory);
	assert_true(st.states > 500);
	check_stats_free(&st);
	machine_destroy(m);
}

/* --por and --exact count only transitions they ran. */
static void commute_not_with_por_or_exact(void **state)
{
	struct check_opts o = { .depth = 3, .nshards = 1 };
	struct machine *m = boot("x86-desktop", 0);
	struct check_stats st;

	(void)state;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_true(st.commuted > 0);
	check_stats_free(&st);
	o.por = true;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_int_equal(st.commuted, 0);
	assert_int_equal(st.equivalent, 0);
	check_stats_free(&st);
	o.por = false;
	o.exact = true;
	assert_int_equal(check_machine("x86-desktop", m, &o, &st), 0);
	assert_int_equal(st.commuted, 0);
	assert_int_equal(st.equivalent, 0);
	check_stats_free(&st);
	machine_destroy(m);
}

/* The action list is stable: same machine, same lines, same order. */
static void actions_stable(void **state)
{
	struct machine *a = boot("x86-desktop", 0), *b = boot("x86-desktop", 0);
	char **la, **lb;
	size_t na, nb;

	(void)state;
	assert_int_equal(check_actions(a, NULL, &la, &na), 0);
	assert_int_equal(check_actions(b, NULL, &lb, &nb), 0);
	assert_int_equal(na, nb);
	assert_true(na > 10);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(la[i], lb[i]);
		free(la[i]);
		free(lb[i]);
	}
	free(la);
	free(lb);
	machine_destroy(a);
	machine_destroy(b);
}

/*
 * Three groups, each its own meson test with its own time budget: the
 * breadth-first search, the interleavings, and the search shared by
 * threads (in the threads suite, which runs under ThreadSanitizer too).
 * With no argument, all three.
 */
int main(int argc, char **argv)
{
	const struct CMUnitTest sequential[] = {
		cmocka_unit_test(actions_stable),
		cmocka_unit_test(prelude_is_prepare),
		cmocka_unit_test(v7_found_fast),
		cmocka_unit_test(v7_harmless_on_x86),
		cmocka_unit_test(mutants_caught),
		cmocka_unit_test(vfio_host_clean),
		cmocka_unit_test(shards_cover),
		cmocka_unit_test(max_states_honoured),
		cmocka_unit_test(fixpoint_complete),
		cmocka_unit_test(shard_never_complete),
		cmocka_unit_test(exact_matches_hashed),
		cmocka_unit_test(memory_bounded),
		cmocka_unit_test(clean_machines),
		cmocka_unit_test(por_same_violations),
		cmocka_unit_test(por_reduces),
		cmocka_unit_test(visited_of_shards),
		cmocka_unit_test(commute_same_search),
		cmocka_unit_test(commute_not_with_por_or_exact),
		cmocka_unit_test(strlist_formats_as_printf),
		cmocka_unit_test(kept_lines_run_as_parsed),
	};
	const struct CMUnitTest interleaved[] = {
		cmocka_unit_test(lock_dropped_needs_interleavings),
		cmocka_unit_test(interleavings_clean),
		cmocka_unit_test(bind_races_rmmod),
		cmocka_unit_test(rmmod_waits_for_bind_in_flight),
	};
	const struct CMUnitTest threads[] = {
		cmocka_unit_test(threads_match_one),
		cmocka_unit_test(commute_threads_memory),
	};
	const char *which = argc > 1 ? argv[1] : "all";
	bool all = !strcmp(which, "all");
	int fails = 0;

	if (!all && strcmp(which, "sequential") &&
	    strcmp(which, "interleaved") && strcmp(which, "threads")) {
		fprintf(stderr, "usage: test-check [all|sequential|interleaved|threads]\n");
		return 2;
	}
	if (all || !strcmp(which, "sequential"))
		fails += cmocka_run_group_tests_name("sequential", sequential,
						     NULL, NULL);
	if (all || !strcmp(which, "interleaved"))
		fails += cmocka_run_group_tests_name("interleaved", interleaved,
						     NULL, NULL);
	if (all || !strcmp(which, "threads"))
		fails += cmocka_run_group_tests_name("threads", threads, NULL,
						     NULL);
	return fails;
}
