/* SPDX-License-Identifier: MIT */
/**
 * DOC: the checker
 *
 * Explores every order of the actions a machine allows (bind, unbind,
 * driver_override, drivers_probe, module load/unload, hot-plug, late IOMMU
 * registration, VFIO and iommufd assignment, probe failures), breadth
 * first over distinct states, and checks the isolation invariants after
 * every step. The first violation found is a shortest one; it comes back
 * as a script that `dmaown run` replays.
 */
#ifndef DMAOWN_CHECK_H
#define DMAOWN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum check_invariant - what the checker proves after every step
 * @INV_ISOLATION: I1, no device bound to a kernel-DMA driver shares a group
 *	with a userspace owner
 * @INV_ACCOUNTING: I2, owner_cnt equals the kernel-DMA uses counted in the
 *	group (kernel mode) or the userspace claims (user mode)
 * @INV_DOMAINS: I3, the group's domain is the one its ownership implies,
 *	and every member is attached to it
 * @INV_NO_WARN: I4, no WARN fired
 * @INV_FAILED_NOOP: I5, a failed write left ownership as it was
 * @INV_TEARDOWN: I6, tearing everything down frees every group and domain
 *	and leaves every device with its boot reference count
 */
enum check_invariant {
	INV_ISOLATION = 1u << 0,
	INV_ACCOUNTING = 1u << 1,
	INV_DOMAINS = 1u << 2,
	INV_NO_WARN = 1u << 3,
	INV_FAILED_NOOP = 1u << 4,
	INV_TEARDOWN = 1u << 5,
	INV_ALL = (1u << 6) - 1,
};

/** check_invariant_name() - "I1 isolation", ... */
const char *check_invariant_name(unsigned int inv);

/**
 * machine_check_invariants() - check I1..I4 (and I6 on a throw-away copy
 * when @which has INV_TEARDOWN) on a quiescent machine
 * @why: receives the first violation in words; may be NULL
 *
 * Return: the mask of violated invariants, 0 when all hold.
 */
unsigned int machine_check_invariants(struct machine *m, unsigned int which,
				      char *why, size_t why_len);

/**
 * check_prepare() - what the checker adds to a booted machine before it
 * explores: two iommufd users, processes qemu-a and qemu-b, each with an
 * iommufd open as descriptor 3 and IOAS 1 in it, so the cdev actions can
 * compete for a group. check_prelude holds the same as script lines,
 * which a counterexample starts with.
 *
 * Return: 0, or the errno of the iommufd call that failed.
 */
int check_prepare(struct machine *m);

#define CHECK_PRELUDE_LINES 4
extern const char *const check_prelude[CHECK_PRELUDE_LINES];

/**
 * check_line_needs_prelude() - whether a counterexample line acts in one of
 * the iommufd users that check_prepare() starts
 */
bool check_line_needs_prelude(const char *line);

/**
 * check_ownership_snapshot() - what I5 compares: the ownership of every
 * group (owner set, owner_cnt, domain type) and every device's driver
 *
 * Return: text the caller frees, or NULL (no memory).
 */
char *check_ownership_snapshot(struct machine *m);

/**
 * check_ownership_kept() - I5 between two snapshots: every object of
 * @before that is still in @after reads the same (a group freed, or made
 * by a failed first probe on IORT/devicetree, is not a change)
 */
bool check_ownership_kept(const char *before, const char *after);

/**
 * struct check_opts - what to explore
 * @depth: the bound on the number of actions from boot; CHECK_DEPTH_MAX
 *	(negative): none, the search runs to its fixpoint
 * @max_states: stop inserting and expanding as soon as this many distinct
 *	states are known, within one state's actions too (0: no limit); with
 *	@interleave, the states whose interleavings are run
 * @max_memory: stop, as @max_states does, before the visited set would
 *	grow past this many bytes (0: no limit)
 * @exact: keep every state's canonical text and compare it on a hash
 *	match, so no collision can merge two states; rebuilt states are
 *	compared with what was stored, which also proves the model
 *	deterministic
 * @threads: workers sharing one machine's search (1 or 0: one; at most
 *	CHECK_THREADS_MAX); the states, the verdict and the counterexample
 *	are those of one worker; not with @exact
 * @faults: planted faults (enum machine_fault) in force from boot
 * @probe_faults: include "the next probe of driver R fails" actions
 * @shard: explore only the subtrees of first actions i with
 *	i % @nshards == @shard (0..nshards-1); @nshards 0 or 1: everything
 * @nshards: see @shard
 * @interleave: 0 for sequential search; 2 or 3 to run that many enabled
 *	actions concurrently, in every state within @depth - 1 actions of
 *	boot, under every schedule with at most @preemptions preemptions at
 *	the model's lock points
 * @preemptions: the preemption bound for @interleave (default 2)
 * @no_commute: run every transition, none known without running it (by
 *	commutation, from the tables of transitions, or by what its action
 *	does: docs/check.md); the same states, transitions and verdict,
 *	slower. @por and @exact imply it
 * @progress: called now and then with the running figures (may be NULL)
 * @progress_ctx: passed to @progress
 * @visited: when set, called once the search is over for every visited
 *	state, boot first, with its 128-bit hash and its depth (the fewest
 *	actions from boot the search found for it); a non-zero return stops
 *	the walk and becomes check_machine()'s. `--save-states` collects the
 *	set with it (check_states_visit()).
 * @visited_ctx: passed to @visited
 */
struct check_stats;

#define CHECK_DEPTH_MAX (-1)
#define CHECK_THREADS_MAX 64

struct check_opts {
	int depth;
	unsigned long max_states;
	size_t max_memory;
	bool exact;
	int threads;
	unsigned int faults;
	bool probe_faults;
	unsigned int shard, nshards;
	int interleave;
	int preemptions;
	bool por;
	bool no_commute;
	void (*progress)(void *ctx, const struct check_stats *st);
	void *progress_ctx;
	int (*visited)(void *ctx, const uint64_t hash[2], unsigned int depth);
	void *visited_ctx;
};

/**
 * struct check_stats - what the checker found
 * @states: distinct states reached (boot included)
 * @transitions: actions executed
 * @depth: the deepest level explored completely
 * @complete: every state reachable from boot was visited: the search
 *	reached its fixpoint (a level with no new state) within the bound and
 *	the limits, on the whole space (no --shard), and with no violation
 * @diameter: the most actions any visited state needs from boot (with
 *	@complete, the state space's diameter)
 * @bytes: what the visited set held at the end, in bytes
 * @queue: states waiting at the last report
 * @seconds: wall time
 * @violated: the invariant violated (0: none)
 * @why: the violation in words
 * @trace: the counterexample as script lines, @trace_len of them: the
 *	@path_len actions from boot, then (I6) the teardown lines that break
 *	the invariant
 * @truncated: the search stopped at @max_states (@states is then at most
 *	@max_states)
 * @concurrent: the last @concurrent lines of @trace ran concurrently
 *	(interleaving mode; the schedule is in @why)
 * @schedules: interleaving mode: schedules run
 * @schedule: interleaving mode, with a violation: the task (1-based digit)
 *	chosen at each lock point up to the last choice the default policy
 *	would not make, as '@concurrent N schedule S' takes it; "" when the
 *	default policy alone breaks the invariant
 * @level_states: sequential search: the distinct states first reached at
 *	each depth, @nlevels of them from boot (1) on; NULL when unknown
 * @nlevels: see @level_states
 * @por_reduced: with @por, the states expanded in part
 * @por_skipped: with @por, the actions not run from those states
 * @commuted: of @transitions, those known by commutation rather than run
 *	(check_opts::no_commute); with several threads it depends on their
 *	timing, the other figures do not
 * @equivalent: of @transitions, those known rather than run from what
 *	their action does (check_opts::no_commute): a "drivers_probe" write
 *	after the bind to the first driver that matches the device bound it
 *	from the same state, or for a device no driver matches (no change);
 *	a driver_override cleared right after it was set (the state before)
 * @i6_known: of @states, those whose teardown (I6) was not run: a state
 *	a driver_override write reaches keeps I6 as the state it was written
 *	in does, the teardown reading no override (check_opts::no_commute)
 */
struct check_stats {
	unsigned long states;
	unsigned long transitions;
	int depth;
	bool complete;
	int diameter;
	size_t bytes;
	unsigned long queue;
	double seconds;
	unsigned int violated;
	char why[512];
	char **trace;
	int trace_len;
	int path_len;
	bool truncated;
	int concurrent;
	unsigned long schedules;
	char *schedule;
	unsigned long *level_states;
	int nlevels;
	unsigned long por_reduced;
	unsigned long por_skipped;
	unsigned long commuted;
	unsigned long equivalent;
	unsigned long i6_known;
};

/**
 * check_machine() - explore a machine breadth first
 * @machine_spec: built-in machine name or machine file (for the trace
 *	header); @boot must be that machine, booted, with the faults of @o
 * @boot: the booted machine; not changed
 * @o: the options
 * @st: receives the figures and any counterexample; free with
 *	check_stats_free()
 *
 * Return: 0 when the search ran (violation or not, see @st->violated);
 * -ENOMEM.
 */
int check_machine(const char *machine_spec, struct machine *boot,
		  const struct check_opts *o, struct check_stats *st);

/** check_stats_free() - free the trace of @st. */
void check_stats_free(struct check_stats *st);

/**
 * check_actions() - the actions enabled in a state, as script lines
 * @ret_lines: an array of @ret_n strings; free each and the array
 *
 * Return: 0; -ENOMEM.
 */
int check_actions(struct machine *m, const struct check_opts *o,
		  char ***ret_lines, size_t *ret_n);

struct script_result;

/**
 * check_run_concurrent() - run script lines as concurrent tasks on @m,
 * switched at the model's lock points as @schedule says
 * @m: the machine (quiescent; no other thread may use it meanwhile)
 * @lines: @n script lines, task 1 first
 * @n: 2 or 3
 * @schedule: digits '1'..'n', the task to run at each lock point in turn;
 *	past its end (or where the named task cannot run) the running task
 *	goes on while it can, then the lowest-numbered one that can. NULL or
 *	"" for that default policy alone.
 * @ret_res: receives @n results, one per task; free each with
 *	script_result_free(); a task stuck in a deadlock leaves its result
 *	zeroed
 * @ret_deadlock: set when the tasks ended in a deadlock
 *
 * The same inputs on the same state always give the same run: this is how
 * a counterexample of 'dmaown check --interleave' replays.
 *
 * Return: 0; -EINVAL for a bad @n or @schedule; -ENOMEM.
 */
int check_run_concurrent(struct machine *m, const char *const *lines, int n,
			 const char *schedule, struct script_result *ret_res,
			 bool *ret_deadlock);

/**
 * DOC: saved states and their union (docs/states-file.md)
 *
 * `dmaown check --save-states FILE` writes a run's visited states (128-bit
 * hash and depth of each), its options, figures and verdict; `dmaown
 * check --merge FILE...` takes the union of the shards of one search
 * (`--shard I/N`), which is the set one unsharded run visits.
 */
struct check_states;

/** check_states_new() - an empty set to collect a run's states in */
struct check_states *check_states_new(void);

/**
 * check_states_visit() - the &check_opts.visited hook that collects them
 * @ctx: a &struct check_states
 *
 * Return: 0; -ENOMEM.
 */
int check_states_visit(void *ctx, const uint64_t hash[2], unsigned int depth);

/** check_states_free() - free what check_states_new() made */
void check_states_free(struct check_states *cs);

/**
 * check_states_save() - write the states collected during a run to @file
 * @spec: the machine as the run named it (a file by absolute path)
 * @boot: that machine, booted (to number a counterexample's first action)
 * @o: the run's options; @st: its figures and verdict
 * @err: receives "FILE: why" on failure
 *
 * Return: 0; a negative errno.
 */
int check_states_save(struct check_states *cs, const char *file,
		      const char *spec, struct machine *boot,
		      const struct check_opts *o, const struct check_stats *st,
		      char *err, size_t err_len);

/**
 * struct check_merged - the union of a search's shards
 * @spec: the machine
 * @o: the options the shards ran with (depth, limits, faults)
 * @st: the figures and verdict of one unsharded run: the states (the union),
 *	the depth, the diameter (the deepest of the states' least depths),
 *	complete, and the first violation; the transitions are the shards'
 *	sum and the seconds the longest shard's
 * @shards: how many shards the search was cut into
 */
struct check_merged {
	char *spec;
	struct check_opts o;
	struct check_stats st;
	unsigned int shards;
};

/**
 * check_states_merge() - the union of the files --save-states wrote
 * @files: @nfiles files, every shard of one search at least once (a shard
 *	given twice is the same set again)
 * @err: receives "FILE[:LINE]: why" when a file is not a states file, is
 *	cut short or corrupt, or comes from another machine, options or
 *	shard count, or a shard is missing
 *
 * Return: 0, with @ret filled (free with check_merged_free()); -EINVAL
 * or -ENOMEM with @err set.
 */
int check_states_merge(const char *const *files, int nfiles,
		       struct check_merged *ret, char *err, size_t err_len);

/** check_merged_free() - free what check_states_merge() filled in */
void check_merged_free(struct check_merged *m);

#ifdef __cplusplus
}
#endif

#endif
