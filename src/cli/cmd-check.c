// SPDX-License-Identifier: MIT
/*
 * dmaown check: explore every order of actions on a set of machines, prove
 * the invariants to a bound or print the shortest counterexample.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dmaown/check.h"
#include "dmaown/topology.h"

/*
 * The default run: every machine to its fixpoint, but no more than
 * CHECK_DEFAULT_MAX_STATES states each, on as many threads as there are
 * CPUs, so the run of every built-in machine stays within a minute on two
 * cores; the machines that fit are proved complete, the others say the
 * depth they reached.
 */
#define CHECK_DEFAULT_MAX_STATES 50000UL
#define CHECK_MACHINES_MAX 64

/* No --depth: to the fixpoint within CHECK_DEFAULT_MAX_STATES. */
#define CHECK_DEPTH_DEFAULT (-2)

struct job {
	const char *spec;
	struct machine *m; /* booted before the search; NULL once done */
	struct check_opts o;
	struct check_stats st;
	int ret;       /* 0, -ENOMEM, or 2 when the machine did not load */
	double last_line; /* when the last periodic progress line went out */
	const char *save_states; /* --save-states FILE (one machine) */
	char save_err[1024];     /* why saving failed; "" when it did not */
	bool merged;             /* --merge: no search ran */
};

struct pool {
	struct job *jobs;
	int njobs;
	int next;
	pthread_mutex_t lock;
};

/* Seconds between progress lines when stderr is a file (CI logs). */
#define PROGRESS_PERIOD 10.0

static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;

static void progress_tty(void *ctx, const struct check_stats *st)
{
	const struct job *j = ctx;

	fprintf(stderr, "\r%-14s states %lu  %.0f/s  depth %d  queue %lu   ",
		j->spec, st->states,
		st->seconds > 0 ? (double)st->states / st->seconds : 0.0,
		st->depth, st->queue);
	fflush(stderr);
}

/* Not a terminal: a whole line now and then, so a long run never looks hung. */
static void progress_periodic(void *ctx, const struct check_stats *st)
{
	struct job *j = ctx;

	if (st->seconds - j->last_line < PROGRESS_PERIOD)
		return;
	j->last_line = st->seconds;
	pthread_mutex_lock(&progress_lock);
	fprintf(stderr,
		"dmaown check: %s: %lu states, depth %d, %lu queued, %.0f s\n",
		j->spec, st->states, st->depth, st->queue, st->seconds);
	fflush(stderr);
	pthread_mutex_unlock(&progress_lock);
}

/* A machine file by absolute path, so that what names it works anywhere. */
static char *spec_anywhere(const char *spec)
{
	char *abs = NULL;

	if (strchr(spec, '/') || strstr(spec, ".machine"))
		abs = realpath(spec, NULL);
	return abs ? abs : strdup(spec);
}

/* The search with its visited states collected, then written out. */
static void run_saving(struct job *j)
{
	struct check_states *cs = check_states_new();
	char *spec = spec_anywhere(j->spec);

	if (!cs || !spec) {
		j->ret = -ENOMEM;
	} else {
		j->o.visited = check_states_visit;
		j->o.visited_ctx = cs;
		j->ret = check_machine(j->spec, j->m, &j->o, &j->st);
		j->o.visited = NULL;
		if (!j->ret &&
		    check_states_save(cs, j->save_states, spec, j->m, &j->o,
				      &j->st, j->save_err, sizeof(j->save_err)) &&
		    !*j->save_err)
			snprintf(j->save_err, sizeof(j->save_err), "%s: failed",
				 j->save_states);
	}
	free(spec);
	check_states_free(cs);
}

static void run_job(struct job *j)
{
	if (j->o.depth == CHECK_DEPTH_DEFAULT && j->o.interleave)
		j->o.depth = 2;
	if (j->o.depth == CHECK_DEPTH_DEFAULT) {
		j->o.depth = CHECK_DEPTH_MAX;
		if (!j->o.max_states)
			j->o.max_states = CHECK_DEFAULT_MAX_STATES;
	}
	if (j->save_states)
		run_saving(j);
	else
		j->ret = check_machine(j->spec, j->m, &j->o, &j->st);
	machine_destroy(j->m);
	j->m = NULL;
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		int i;

		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->njobs)
			return NULL;
		run_job(&p->jobs[i]);
	}
}

static void check_usage(FILE *out)
{
	fputs("usage: dmaown check [options] [MACHINE...]\n"
	      "\n"
	      "Explore every order of bind, unbind, driver_override, drivers_probe,\n"
	      "module load/unload, hot-plug, late IOMMU registration, VFIO and iommufd\n"
	      "assignment (and probe failures) on each machine, breadth first, and\n"
	      "check after every step:\n"
	      "  I1 isolation   no kernel DMA-API driver in a group userspace owns\n"
	      "  I2 accounting  owner_cnt = kernel uses counted, or userspace claims\n"
	      "  I3 domains     default domain when unowned; blocking or user when owned\n"
	      "  I4 no WARN     no WARN or BUG fired\n"
	      "  I5 no-op fail  a failed write changed no group ownership or binding\n"
	      "  I6 teardown    tearing down frees every group, domain and reference\n"
	      "A violation prints the shortest script that reaches it, complete with\n"
	      "its machine and options, which 'dmaown run' replays to the same\n"
	      "violation. Without MACHINE: every built-in machine.\n"
	      "\n"
	      "Options:\n"
	      "  -d, --depth N|max    actions from boot; 'max': to the fixpoint, where\n"
	      "                       every reachable state is known (complete). Default:\n"
	      "                       max, within 50000 states unless --max-states\n"
	      "      --max-states N   stop a machine after N states\n"
	      "      --max-memory SIZE\n"
	      "                       stop a machine before its visited states take\n"
	      "                       more than SIZE bytes (suffixes K, M, G)\n"
	      "      --exact          keep every state whole: no hash collision can\n"
	      "                       merge two states (more memory)\n"
	      "      --por            partial-order reduction: from a state, run only\n"
	      "                       the actions of one group that nothing else\n"
	      "                       touches; the same violations, fewer states\n"
	      "                       (one thread, no --shard)\n"
	      "      --no-commute     run every transition, even one whose target is\n"
	      "                       known by commutation or by what its action does\n"
	      "                       (docs/check.md); the same states and verdict,\n"
	      "                       slower\n"
	      "      --fault F        plant a fault from boot (v7-order, or a mutant:\n"
	      "                       no-probe-cleanup, claim-ignores-count,\n"
	      "                       release-keeps-domain, use-ignores-owner,\n"
	      "                       lock-dropped)\n"
	      "      --probe-faults   also explore 'the next probe of R fails ENOMEM'\n"
	      "  -o, --output FILE    write the counterexample to FILE (one machine)\n"
	      "      --save DIR       write each machine's counterexample to\n"
	      "                       DIR/MACHINE.sh\n"
	      "      --svg            with -o or --save: also draw the counterexample\n"
	      "                       as a message sequence chart, FILE.svg for\n"
	      "                       FILE.sh (docs/pictures.md)\n"
	      "  -j, --jobs N         N threads share each machine's search (default:\n"
	      "                       one per CPU); same states, verdict and\n"
	      "                       counterexample\n"
	      "      --parallel-machines N\n"
	      "                       machines checked at once (default 1)\n"
	      "      --shard I/N      only first actions i with i mod N == I\n"
	      "      --save-states FILE\n"
	      "                       write the visited states (one machine), for\n"
	      "                       --merge (docs/states-file.md)\n"
	      "      --merge FILE...  the union of the shards that --save-states\n"
	      "                       wrote: the states and verdict of one run\n"
	      "      --interleave     run every pair of enabled actions concurrently, in\n"
	      "                       every state within DEPTH-1 actions of boot, under\n"
	      "                       every schedule with at most --preemptions (2)\n"
	      "                       switches at the model's lock points\n"
	      "      --preemptions N  the preemption bound for --interleave\n"
	      "      --json           one JSON object per machine\n"
	      "  -q, --quiet          no progress (a line on a terminal, else one\n"
	      "                       line every 10 s on stderr)\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 no violation; 1 a violation; 2 bad usage or machine.\n",
	      out);
}

static void print_json(const struct job *j)
{
	char buf[1024];

	printf("{\"version\":%d,\"machine\":", DMAOWN_JSON_VERSION);
	json_escape(j->spec, buf, sizeof(buf));
	printf("%s,\"states\":%lu,\"transitions\":%lu,\"depth\":%d,\"complete\":%s,\"diameter\":%d,\"seconds\":%.3f,\"bytes\":%zu,\"truncated\":%s,\"violations\":%d",
	       buf, j->st.states, j->st.transitions, j->st.depth,
	       j->st.complete ? "true" : "false", j->st.diameter,
	       j->st.seconds, j->st.bytes,
	       j->st.truncated ? "true" : "false", j->st.violated ? 1 : 0);
	if (j->st.level_states) {
		printf(",\"level_states\":[");
		for (int i = 0; i < j->st.nlevels; i++)
			printf("%s%lu", i ? "," : "", j->st.level_states[i]);
		printf("]");
	}
	if (j->o.por)
		printf(",\"por\":true,\"por_reduced\":%lu,\"por_skipped\":%lu",
		       j->st.por_reduced, j->st.por_skipped);
	/* with several threads the count depends on their timing */
	if (!j->merged && !j->o.interleave && j->o.threads <= 1)
		printf(",\"commuted\":%lu,\"equivalent\":%lu,\"i6_known\":%lu",
		       j->st.commuted, j->st.equivalent, j->st.i6_known);
	if (j->st.violated) {
		printf(",\"invariant\":\"%s\",\"why\":",
		       check_invariant_name(j->st.violated & -j->st.violated));
		json_escape(j->st.why, buf, sizeof(buf));
		printf("%s,\"actions\":%d,\"concurrent\":%d", buf,
		       j->st.path_len, j->st.concurrent);
		if (j->st.concurrent) {
			json_escape(j->st.schedule ? j->st.schedule : "", buf,
				    sizeof(buf));
			printf(",\"schedule\":%s", buf);
		}
		printf(",\"trace\":[");
		for (int i = 0; i < j->st.trace_len; i++) {
			json_escape(j->st.trace[i] ? j->st.trace[i] : "", buf,
				    sizeof(buf));
			printf("%s%s", i ? "," : "", buf);
		}
		printf("]");
	}
	printf("}\n");
}

/*
 * After the figures: "complete, diameter 7" when the search reached its
 * fixpoint; the limit that stopped it otherwise.
 */
static void describe_result(const struct job *j, char *buf, size_t len)
{
	const struct check_stats *st = &j->st;

	if (st->complete && j->o.por)
		snprintf(buf, len, "complete (por), depth %d", st->depth);
	else if (st->complete)
		snprintf(buf, len, "complete, diameter %d", st->diameter);
	else if (st->truncated && j->o.max_states &&
		 st->states >= j->o.max_states)
		snprintf(buf, len, "(max-states reached)");
	else if (st->truncated)
		snprintf(buf, len, "(max-memory reached)");
	else
		snprintf(buf, len, "%s", "");
}

/*
 * Which machines were proved for every order of any length, and how far
 * the others got: the question a default run answers.
 */
static void print_completeness(const struct job *jobs, int njobs)
{
	const char *sep = "";
	int n = 0;

	for (int i = 0; i < njobs; i++)
		n += !jobs[i].ret && !jobs[i].st.violated;
	if (!n)
		return;
	if (jobs[0].o.por) {
		/* not every state: those the reduction keeps (docs/check.md) */
		for (int i = 0; i < njobs; i++)
			if (!jobs[i].ret)
				printf("%spor: %s: %lu states expanded in part, %lu actions not run from them\n",
				       i ? "" : "\n", jobs[i].spec,
				       jobs[i].st.por_reduced,
				       jobs[i].st.por_skipped);
		printf("\ncomplete under partial-order reduction (every violation reachable would be found):");
	} else {
		printf("\ncomplete (every reachable state checked):");
	}
	for (int i = 0; i < njobs; i++) {
		if (jobs[i].ret || jobs[i].st.violated || !jobs[i].st.complete)
			continue;
		printf("%s %s", sep, jobs[i].spec);
		sep = ",";
	}
	if (!*sep)
		printf(" none");
	printf("\n");
	sep = "";
	for (int i = 0; i < njobs; i++) {
		if (jobs[i].ret || jobs[i].st.violated || jobs[i].st.complete)
			continue;
		if (!*sep)
			printf("not complete (every order up to the depth):");
		printf("%s %s (depth %d)", sep, jobs[i].spec,
		       jobs[i].st.depth);
		sep = ",";
	}
	if (*sep)
		printf("\n");
}

static const char *plural(int n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "after 1 action, then 2 run concurrently", counted as the user reads it. */
static void describe_path(const struct job *j, char *buf, size_t len)
{
	const struct check_stats *st = &j->st;
	int teardown = st->trace_len - st->path_len - st->concurrent;

	if (st->concurrent)
		snprintf(buf, len, "after %d %s, then %d run concurrently",
			 st->path_len, plural(st->path_len, "action", "actions"),
			 st->concurrent);
	else if (teardown > 0 && !st->path_len)
		snprintf(buf, len, "from boot, shown by %d teardown %s",
			 teardown, plural(teardown, "line", "lines"));
	else if (teardown > 0)
		snprintf(buf, len, "after %d %s, plus %d teardown %s",
			 st->path_len, plural(st->path_len, "action", "actions"),
			 teardown, plural(teardown, "line", "lines"));
	else if (!st->path_len)
		snprintf(buf, len, "from boot");
	else
		snprintf(buf, len, "after %d %s", st->path_len,
			 plural(st->path_len, "action", "actions"));
}

/*
 * The counterexample as a script 'dmaown run' replays: the machine, the
 * options that make the same model (faults) and that check it (--check),
 * the checker's iommufd users, the actions, a concurrent block with its
 * schedule, the teardown.
 */
static void write_counterexample(FILE *out, const struct job *j)
{
	const struct check_stats *st = &j->st;
	unsigned int inv = st->violated & -st->violated;
	char path[128], *abs;
	int conc_at = st->concurrent ? st->path_len : -1;

	describe_path(j, path, sizeof(path));
	fprintf(out, "# dmaown check: %s violated %s\n", check_invariant_name(inv),
		path);
	fprintf(out, "# %s\n", st->why);
	/* a machine file by absolute path: the script may be saved anywhere */
	abs = spec_anywhere(j->spec);
	fprintf(out, "# machine: %s\n", abs ? abs : j->spec);
	free(abs);
	fprintf(out, "# dmaown: --format %d --check", SCRIPT_FORMAT);
	for (unsigned int f = 1; machine_fault_name(f); f <<= 1)
		if (j->o.faults & f)
			fprintf(out, " --fault %s", machine_fault_name(f));
	fprintf(out, "\n");
	/* the checker's iommufd users exist from boot */
	for (int i = 0; i < st->trace_len; i++) {
		if (st->trace[i] && check_line_needs_prelude(st->trace[i])) {
			for (int l = 0; l < CHECK_PRELUDE_LINES; l++)
				fprintf(out, "%s\n", check_prelude[l]);
			break;
		}
	}
	for (int i = 0; i < st->trace_len; i++) {
		if (i == conc_at)
			fprintf(out, "@concurrent %d%s%s\n", st->concurrent,
				st->schedule && *st->schedule ? " schedule " :
								"",
				st->schedule ? st->schedule : "");
		else if (i == st->path_len && !st->concurrent)
			fprintf(out, "# the teardown (I6)\n");
		fprintf(out, "%s\n", st->trace[i] ? st->trace[i] : "");
	}
}

static int save_counterexample(const char *file, const struct job *j)
{
	FILE *f = fopen(file, "w");

	if (!f) {
		fprintf(stderr, "dmaown check: cannot write '%s': %s\n", file,
			errno_text(errno));
		return 2;
	}
	write_counterexample(f, j);
	if (fclose(f)) {
		fprintf(stderr, "dmaown check: cannot write '%s': %s\n", file,
			errno_text(errno));
		return 2;
	}
	return 0;
}

/*
 * The counterexample saved in @file, drawn from a run of it (the chart
 * 'dmaown run --svg' draws) beside it: FILE.svg for FILE.sh.
 */
static int draw_counterexample(const char *file, const struct job *j)
{
	struct run_opts ro = { .picture = "svg", .quiet = true };
	char path[128], *title;
	FILE *f = fopen(file, "rb");
	int ret;

	describe_path(j, path, sizeof(path));
	if (asprintf(&title, "dmaown check %s: %s violated %s\n%lu states, %lu transitions, depth %d",
		     j->spec, check_invariant_name(j->st.violated &
						   -j->st.violated),
		     path, j->st.states, j->st.transitions, j->st.depth) < 0)
		title = NULL;
	ro.title = title;
	ret = f ? cli_run_stream(file, f, NULL, &ro) : 2;
	if (f)
		fclose(f);
	free(title);
	/* the run stops at the violation it draws: 1 */
	if (ret != 0 && ret != 1) {
		fprintf(stderr, "dmaown check: cannot draw '%s'\n", file);
		return 2;
	}
	return 0;
}

/* A machine's name as a file name: a machine file's base name, no suffix. */
static void save_name(const char *dir, const char *spec, char *buf,
		      size_t len)
{
	const char *base = strrchr(spec, '/');
	size_t n;

	base = base ? base + 1 : spec;
	n = strlen(base);
	if (n > 8 && !strcmp(base + n - 8, ".machine"))
		n -= 8;
	snprintf(buf, len, "%s/%.*s.sh", dir, (int)n, base);
}

/* A bound past any built-in machine's diameter; 'max' has none. */
#define CHECK_DEPTH_LIMIT 1000000

/* "SIZE" with an optional K, M or G (powers of 1024); at least 64 KiB. */
static int parse_size(const char *cmd, const char *opt, const char *arg,
		      size_t *ret)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end && !end[1]) {
		const char *units = "KMG";
		const char *u = strchr(units, *end);

		if (u && *end)
			shift = 10 * (int)(u - units + 1);
		else
			end = (char *)arg;
	}
	if (errno || end == arg || (*end && !shift) || (shift && end[1]) ||
	    arg[0] == '-' || v > (SIZE_MAX >> shift) ||
	    (v << shift) < (1u << 16)) {
		fprintf(stderr,
			"%s: %s: '%s' is not a size of at least 64K (N, NK, NM or NG)\n",
			cmd, opt, arg);
		return 1;
	}
	*ret = (size_t)(v << shift);
	return 0;
}

/* -o and --save: where counterexamples go; 1 (said on stderr) when wrong. */
static int output_options_bad(const char *cmd, int njobs, const char *output,
			      const char *save_dir)
{
	struct stat sb;

	if (output && njobs != 1) {
		fprintf(stderr, "%s: -o takes one machine; use --save DIR for several\n",
			cmd);
		return 1;
	}
	if (output && save_dir) {
		fprintf(stderr, "%s: -o and --save do not go together\n", cmd);
		return 1;
	}
	if (save_dir && (stat(save_dir, &sb) || !S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "%s: --save: '%s' is not a directory\n", cmd,
			save_dir);
		return 1;
	}
	return 0;
}

/*
 * The table (or JSON), the line of machines proved complete, and the
 * counterexamples, printed or written to -o FILE or --save DIR. Returns
 * the exit status: 0, 1 for a violation, 2 for an error.
 */
static int print_results(const char *cmd, struct job *jobs, int njobs,
			 bool json, const char *output, const char *save_dir,
			 bool svg)
{
	int status = 0;

	if (!json)
		printf("%-14s %9s %11s %5s %8s %9s %7s  %s\n", "machine", "states",
		       "transitions", "depth", "seconds", "states/s", "B/state",
		       "violations");
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		char result[96];

		if (j->ret) {
			status = 2;
			fprintf(stderr, "%s: %s: %s\n", cmd, j->spec,
				j->ret == -EINVAL ?
					"a state rebuilt differently: the model is not deterministic" :
					"out of memory");
			continue;
		}
		if (json) {
			print_json(j);
		} else {
			char per[16] = "-"; /* interleavings keep no states */

			describe_result(j, result, sizeof(result));
			if (j->st.bytes && j->st.states)
				snprintf(per, sizeof(per), "%.0f",
					 (double)j->st.bytes /
						 (double)j->st.states);
			printf("%-14s %9lu %11lu %5d %8.2f %9.0f %7s  %d%s%s\n",
			       j->spec, j->st.states, j->st.transitions,
			       j->st.depth, j->st.seconds,
			       j->st.seconds > 0 ?
				       (double)j->st.states / j->st.seconds :
				       0.0,
			       per, j->st.violated ? 1 : 0,
			       *result ? "  " : "", result);
		}
		if (*j->save_err) {
			fprintf(stderr, "%s: %s\n", cmd, j->save_err);
			status = 2;
		}
		if (j->st.violated && status != 2)
			status = 1;
	}
	if (!json)
		print_completeness(jobs, njobs);
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		char file[4096], path[128];

		if (j->ret || !j->st.violated)
			continue;
		describe_path(j, path, sizeof(path));
		if (output || save_dir) {
			if (save_dir)
				save_name(save_dir, j->spec, file, sizeof(file));
			else
				snprintf(file, sizeof(file), "%s", output);
			if (save_counterexample(file, j) ||
			    (svg && draw_counterexample(file, j))) {
				status = 2;
				continue;
			}
			if (!json)
				printf("\n%s: %s violated %s: %s\n"
				       "counterexample written to %s; replay it with 'dmaown run %s'\n",
				       j->spec,
				       check_invariant_name(j->st.violated &
							    -j->st.violated),
				       path, j->st.why, file, file);
			if (!json && svg) {
				char *chart = cli_picture_path(file, "svg");

				printf("its message sequence chart: %s\n",
				       chart ? chart : "(out of memory)");
				free(chart);
			}
		} else if (!json) {
			printf("\n%s: %s violated %s: %s\n"
			       "--- counterexample: save it with -o FILE, replay it with 'dmaown run FILE' ---\n",
			       j->spec,
			       check_invariant_name(j->st.violated &
						    -j->st.violated),
			       path, j->st.why);
			write_counterexample(stdout, j);
			printf("--- end of counterexample ---\n");
		}
	}
	return status;
}

/*
 * --merge FILE...: the union of the shards --save-states wrote, printed as
 * the unsharded run would be.
 */
static int merge_states(const char *cmd, int nfiles, char **files,
			bool searching, bool json, const char *output,
			const char *save_dir)
{
	struct check_merged m;
	struct job j = { 0 };
	char err[1024];
	int status;

	if (searching) {
		fprintf(stderr,
			"%s: --merge runs no search: it takes only --json, -q, -o and --save with its files\n",
			cmd);
		return 2;
	}
	if (!nfiles) {
		fprintf(stderr, "%s: --merge: no file (the shards' --save-states files)\n",
			cmd);
		return 2;
	}
	if (output_options_bad(cmd, 1, output, save_dir))
		return 2;
	if (check_states_merge((const char *const *)files, nfiles, &m, err,
			       sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return 2;
	}
	j.spec = m.spec;
	j.o = m.o;
	j.merged = true;
	j.st = m.st;
	status = print_results(cmd, &j, 1, json, output, save_dir, false);
	m.st = j.st;
	check_merged_free(&m);
	return status;
}

enum {
	OPT_MAX_STATES = 256, OPT_FAULT, OPT_PROBE_FAULTS, OPT_JOBS,
	OPT_PARALLEL, OPT_SHARD, OPT_JSON, OPT_INTERLEAVE, OPT_PREEMPT,
	OPT_SAVE, OPT_MAX_MEMORY, OPT_EXACT, OPT_SAVE_STATES, OPT_MERGE,
	OPT_SVG, OPT_POR, OPT_NO_COMMUTE,
};

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "depth", required_argument, NULL, 'd' },
		{ "max-states", required_argument, NULL, OPT_MAX_STATES },
		{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
		{ "exact", no_argument, NULL, OPT_EXACT },
		{ "por", no_argument, NULL, OPT_POR },
		{ "no-commute", no_argument, NULL, OPT_NO_COMMUTE },
		{ "fault", required_argument, NULL, OPT_FAULT },
		{ "probe-faults", no_argument, NULL, OPT_PROBE_FAULTS },
		{ "output", required_argument, NULL, 'o' },
		{ "save", required_argument, NULL, OPT_SAVE },
		{ "parallel-machines", required_argument, NULL, OPT_PARALLEL },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "interleave", optional_argument, NULL, OPT_INTERLEAVE },
		{ "preemptions", required_argument, NULL, OPT_PREEMPT },
		{ "save-states", required_argument, NULL, OPT_SAVE_STATES },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "svg", no_argument, NULL, OPT_SVG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "dmaown check";
	bool svg = false;
	const char *save_states = NULL;
	bool merge = false, searching = false;
	struct check_opts o = { .depth = CHECK_DEPTH_DEFAULT, .nshards = 1 };
	struct job jobs[CHECK_MACHINES_MAX];
	struct pool pool = { 0 };
	bool json = false, quiet = false, tty;
	const char *output = NULL, *save_dir = NULL, *jobs_word = NULL;
	int c, njobs = 0, nthreads = 1, status = 0;
	pthread_t threads[16];

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:o:j:qh", opts, NULL)) != -1) {
		const char *word = argv[optind - 1];
		int bad = 0;

		/* what shapes a search, which --merge does not run */
		searching |= c != OPT_JSON && c != 'o' && c != OPT_SAVE &&
			     c != 'q' && c != OPT_MERGE && c != 'h';
		switch (c) {
		case OPT_SAVE_STATES:
			save_states = optarg;
			break;
		case OPT_MERGE:
			merge = true;
			break;
		case 'd':
			if (!strcmp(optarg, "max"))
				o.depth = CHECK_DEPTH_MAX;
			else
				bad = cli_parse_int(cmd, "--depth", optarg, 0,
						    CHECK_DEPTH_LIMIT, &o.depth);
			break;
		case OPT_MAX_MEMORY:
			bad = parse_size(cmd, "--max-memory", optarg,
					 &o.max_memory);
			break;
		case OPT_EXACT:
			o.exact = true;
			break;
		case OPT_POR:
			o.por = true;
			break;
		case OPT_NO_COMMUTE:
			o.no_commute = true;
			break;
		case OPT_MAX_STATES:
			bad = cli_parse_ulong(cmd, "--max-states", optarg, 1,
					      ULONG_MAX, &o.max_states);
			break;
		case OPT_FAULT:
			bad = cli_parse_fault(cmd, optarg, &o.faults);
			break;
		case OPT_PROBE_FAULTS:
			o.probe_faults = true;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_SAVE:
			save_dir = optarg;
			break;
		case 'j':
		case OPT_JOBS:
			bad = cli_parse_int(cmd, c == 'j' ? "-j" : "--jobs",
					    optarg, 1, CHECK_THREADS_MAX,
					    &o.threads);
			jobs_word = c == 'j' ? "-j" : "--jobs";
			break;
		case OPT_PARALLEL:
			bad = cli_parse_int(cmd, "--parallel-machines", optarg,
					    1, 16, &nthreads);
			break;
		case OPT_SHARD: {
			unsigned int i, n;
			char extra;

			if (sscanf(optarg, "%u/%u%c", &i, &n, &extra) != 2 ||
			    !n || i >= n) {
				fprintf(stderr,
					"%s: --shard: '%s' is not I/N with 0 <= I < N\n",
					cmd, optarg);
				bad = 1;
			}
			o.shard = i;
			o.nshards = n;
			break;
		}
		case OPT_JSON:
			json = true;
			break;
		case OPT_INTERLEAVE:
			o.interleave = 2;
			if (optarg && strcmp(optarg, "2")) {
				fprintf(stderr,
					"%s: --interleave: '%s' is not a task count this checker runs (2)\n",
					cmd, optarg);
				bad = 1;
			}
			break;
		case OPT_PREEMPT:
			bad = cli_parse_int(cmd, "--preemptions", optarg, 0, 8,
					    &o.preemptions);
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_SVG:
			svg = true;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			return cli_bad_option(cmd, c, optopt, word);
		}
		if (bad)
			return 2;
	}
	if (merge)
		return merge_states(cmd, argc - optind, argv + optind, searching,
				    json, output, save_dir);
	if (argc - optind > CHECK_MACHINES_MAX) {
		fprintf(stderr, "%s: at most %d machines at once\n", cmd,
			CHECK_MACHINES_MAX);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		jobs[njobs++].spec = argv[i];
	if (optind == argc)
		for (size_t i = 0; i < builtin_machine_count() &&
				   njobs < CHECK_MACHINES_MAX;
		     i++)
			jobs[njobs++].spec = builtin_machine_name(i);
	/*
	 * Until 0.3, -j N checked N machines at once: say so where the old
	 * meaning could have been meant.
	 */
	if (jobs_word && njobs > 1)
		fprintf(stderr,
			"%s: '%s N' now splits each machine's search over N threads; to check N machines at once, as it did before 0.3, use '--parallel-machines N'\n",
			cmd, jobs_word);
	/* threads change no result, only the time: as many as CPUs */
	if (!o.threads && !o.exact && !o.interleave && !o.por) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		o.threads = cpus < 1 ? 1 :
			    cpus > CHECK_THREADS_MAX ? CHECK_THREADS_MAX :
						       (int)cpus;
	}
	if (o.threads > 1 && o.exact) {
		fprintf(stderr, "%s: --exact runs on one thread: drop -j\n", cmd);
		return 2;
	}
	if (o.threads > 1 && o.por) {
		fprintf(stderr, "%s: --por runs on one thread: drop -j\n", cmd);
		return 2;
	}
	if (o.por && (o.nshards > 1 || o.interleave)) {
		fprintf(stderr, "%s: --por goes with neither --shard nor --interleave\n",
			cmd);
		return 2;
	}
	if (o.threads > 1 && o.interleave) {
		fprintf(stderr, "%s: --interleave runs on one thread: drop -j\n",
			cmd);
		return 2;
	}
	if (output_options_bad(cmd, njobs, output, save_dir))
		return 2;
	if (save_states && njobs != 1) {
		fprintf(stderr, "%s: --save-states takes one machine\n", cmd);
		return 2;
	}
	if (save_states && (o.exact || o.interleave)) {
		fprintf(stderr,
			"%s: --save-states keeps a sequential search's hashes: drop %s\n",
			cmd, o.exact ? "--exact" : "--interleave");
		return 2;
	}
	if (svg && !output && !save_dir) {
		fprintf(stderr, "%s: --svg draws the counterexample beside the file -o or --save writes: give one\n",
			cmd);
		return 2;
	}
	if (svg && !cli_have_dot()) {
		fprintf(stderr, "%s: --svg needs Graphviz's 'dot', which is not in PATH (install the graphviz package)\n",
			cmd);
		return 2;
	}
	/* every machine loads before anything is printed */
	for (int i = 0; i < njobs; i++) {
		jobs[i].m = cli_load_machine(jobs[i].spec, o.faults);
		if (!jobs[i].m) {
			for (int k = 0; k < i; k++)
				machine_destroy(jobs[k].m);
			return 2;
		}
	}
	if (nthreads > njobs)
		nthreads = njobs ? njobs : 1;
	tty = isatty(STDERR_FILENO);
	for (int i = 0; i < njobs; i++) {
		jobs[i].o = o;
		jobs[i].ret = 0;
		jobs[i].last_line = 0;
		jobs[i].save_states = save_states;
		jobs[i].save_err[0] = '\0';
		memset(&jobs[i].st, 0, sizeof(jobs[i].st));
		if (!quiet) {
			jobs[i].o.progress = tty && nthreads == 1 ?
						     progress_tty :
						     progress_periodic;
			jobs[i].o.progress_ctx = &jobs[i];
		}
	}
	pool.jobs = jobs;
	pool.njobs = njobs;
	pthread_mutex_init(&pool.lock, NULL);
	for (int t = 0; t < nthreads; t++)
		pthread_create(&threads[t], NULL, worker, &pool);
	for (int t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&pool.lock);
	if (!quiet && nthreads == 1 && tty)
		fprintf(stderr, "\r%70s\r", "");

	status = print_results(cmd, jobs, njobs, json, output, save_dir, svg);
	for (int i = 0; i < njobs; i++)
		check_stats_free(&jobs[i].st);
	return status;
}
