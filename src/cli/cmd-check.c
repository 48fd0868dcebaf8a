// SPDX-License-Identifier: MIT
/*
 * dmaown check: explore every order of actions on a set of machines, prove
 * the invariants to a bound or print the shortest counterexample.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dmaown/check.h"
#include "dmaown/topology.h"

/*
 * The default bound: 4 actions from boot, 3 on machines with more than
 * CHECK_BIG_MACHINE devices, so the default run of every built-in machine
 * stays within a minute on two cores.
 */
#define CHECK_DEFAULT_DEPTH 4
#define CHECK_BIG_MACHINE 24
#define CHECK_MACHINES_MAX 64

struct job {
	const char *spec;
	struct check_opts o;
	struct check_stats st;
	int ret;       /* 0, -ENOMEM, or 2 when the machine did not load */
};

struct pool {
	struct job *jobs;
	int njobs;
	int next;
	pthread_mutex_t lock;
	bool tty;
};

static void progress_line(void *ctx, const struct check_stats *st)
{
	const char *spec = ctx;

	fprintf(stderr, "\r%-14s states %lu  %.0f/s  depth %d  queue %lu   ",
		spec, st->states,
		st->seconds > 0 ? (double)st->states / st->seconds : 0.0,
		st->depth, st->queue);
	fflush(stderr);
}

static void run_job(struct job *j)
{
	struct machine *m = cli_load_machine(j->spec, j->o.faults);

	if (!m) {
		j->ret = 2;
		return;
	}
	if (j->o.depth < 0 && j->o.interleave)
		j->o.depth = 2;
	if (j->o.depth < 0)
		j->o.depth = machine_device_count(m) > CHECK_BIG_MACHINE ?
				     CHECK_DEFAULT_DEPTH - 1 :
				     CHECK_DEFAULT_DEPTH;
	j->ret = check_machine(j->spec, m, &j->o, &j->st);
	machine_destroy(m);
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
	      "A violation prints the shortest script that reaches it (dmaown run\n"
	      "replays it). Without MACHINE: every built-in machine.\n"
	      "\n"
	      "Options:\n"
	      "  -d, --depth N        actions from boot (default 4, and 3 on machines\n"
	      "                       with more than 24 devices)\n"
	      "      --max-states N   stop a machine after N states\n"
	      "      --fault F        plant a fault from boot (v7-order, or a mutant:\n"
	      "                       no-probe-cleanup, claim-ignores-count,\n"
	      "                       release-keeps-domain, use-ignores-owner,\n"
	      "                       lock-dropped)\n"
	      "      --probe-faults   also explore 'the next probe of R fails ENOMEM'\n"
	      "  -j, --jobs N         machines checked in parallel (default 1)\n"
	      "      --shard I/N      only first actions i with i mod N == I\n"
	      "      --interleave     run every pair of enabled actions concurrently, in\n"
	      "                       every state within DEPTH-1 actions of boot, under\n"
	      "                       every schedule with at most --preemptions (2)\n"
	      "                       switches at the model's lock points\n"
	      "      --preemptions N  the preemption bound for --interleave\n"
	      "      --json           one JSON object per machine\n"
	      "  -q, --quiet          no progress line\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 no violation; 1 a violation; 2 bad usage or machine.\n",
	      out);
}

static void print_json(const struct job *j)
{
	char buf[1024];

	printf("{\"machine\":");
	json_escape(j->spec, buf, sizeof(buf));
	printf("%s,\"states\":%lu,\"transitions\":%lu,\"depth\":%d,\"seconds\":%.3f,\"truncated\":%s,\"violations\":%d",
	       buf, j->st.states, j->st.transitions, j->st.depth,
	       j->st.seconds, j->st.truncated ? "true" : "false",
	       j->st.violated ? 1 : 0);
	if (j->st.violated) {
		printf(",\"invariant\":\"%s\",\"why\":",
		       check_invariant_name(j->st.violated & -j->st.violated));
		json_escape(j->st.why, buf, sizeof(buf));
		printf("%s,\"trace\":[", buf);
		for (int i = 0; i < j->st.trace_len; i++) {
			json_escape(j->st.trace[i] ? j->st.trace[i] : "", buf,
				    sizeof(buf));
			printf("%s%s", i ? "," : "", buf);
		}
		printf("]");
	}
	printf("}\n");
}

static void print_counterexample(const struct job *j)
{
	unsigned int inv = j->st.violated & -j->st.violated;

	printf("\n%s: %s violated after %d step%s%s: %s\n", j->spec,
	       check_invariant_name(inv), j->st.path_len,
	       j->st.path_len == 1 ? "" : "s",
	       j->st.concurrent ? " and a concurrent pair" :
	       j->st.trace_len > j->st.path_len ? " and the teardown" : "",
	       j->st.why);
	printf("# counterexample: save as a file and replay with 'dmaown run%s FILE'\n",
	       j->o.faults & MACHINE_FAULT_V7_ORDER ? " --fault v7-order" :
							"");
	printf("# machine: %s\n", j->spec);
	for (unsigned int f = 1; f; f <<= 1)
		if ((j->o.faults & f) && f != MACHINE_FAULT_V7_ORDER)
			printf("@fault %s on\n", machine_fault_name(f));
	/* the checker's iommufd users exist from boot */
	for (int i = 0; i < j->st.trace_len; i++) {
		if (j->st.trace[i] && strstr(j->st.trace[i], "iommufd")) {
			printf("@iommufd open\n@iommufd ioas-alloc 0\n@iommufd open\n@iommufd ioas-alloc 1\n");
			break;
		}
	}
	for (int i = 0; i < j->st.trace_len; i++) {
		if (j->st.concurrent &&
		    i == j->st.trace_len - j->st.concurrent)
			printf("# the next %d lines run concurrently (schedule above);\n"
			       "# one after the other they do not show the violation\n",
			       j->st.concurrent);
		printf("%s\n", j->st.trace[i] ? j->st.trace[i] : "");
	}
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "depth", required_argument, NULL, 'd' },
		{ "max-states", required_argument, NULL, 'M' },
		{ "fault", required_argument, NULL, 'f' },
		{ "probe-faults", no_argument, NULL, 'P' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "shard", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ "interleave", optional_argument, NULL, 'I' },
		{ "preemptions", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts o = { .depth = -1, .nshards = 1 };
	struct job jobs[CHECK_MACHINES_MAX];
	struct pool pool = { 0 };
	bool json = false, quiet = false;
	int c, njobs = 0, nthreads = 1, status = 0;
	pthread_t threads[16];

	optind = 1;
	argv[0] = "dmaown check";
	while ((c = getopt_long(argc, argv, "d:j:qh", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'd':
			o.depth = (int)strtol(optarg, &end, 10);
			if (*end || o.depth < 0 || o.depth > 64)
				goto bad;
			break;
		case 'M':
			o.max_states = strtoul(optarg, &end, 10);
			if (*end)
				goto bad;
			break;
		case 'f': {
			unsigned int f = machine_fault_from_name(optarg);

			if (!f) {
				fprintf(stderr, "dmaown check: unknown fault '%s'\n",
					optarg);
				return 2;
			}
			o.faults |= f;
			break;
		}
		case 'P':
			o.probe_faults = true;
			break;
		case 'j':
			nthreads = (int)strtol(optarg, &end, 10);
			if (*end || nthreads < 1 || nthreads > 16)
				goto bad;
			break;
		case 'S':
			if (sscanf(optarg, "%u/%u", &o.shard, &o.nshards) != 2 ||
			    !o.nshards || o.shard >= o.nshards)
				goto bad;
			break;
		case 'J':
			json = true;
			break;
		case 'I':
			o.interleave = optarg ? (int)strtol(optarg, &end, 10) : 2;
			if (optarg && (*end || o.interleave != 2))
				goto bad;
			break;
		case 'p':
			o.preemptions = (int)strtol(optarg, &end, 10);
			if (*end || o.preemptions < 0 || o.preemptions > 8)
				goto bad;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	for (int i = optind; i < argc && njobs < CHECK_MACHINES_MAX; i++)
		jobs[njobs++].spec = argv[i];
	if (optind == argc)
		for (size_t i = 0; i < builtin_machine_count() &&
				   njobs < CHECK_MACHINES_MAX;
		     i++)
			jobs[njobs++].spec = builtin_machine_name(i);
	for (int i = 0; i < njobs; i++) {
		jobs[i].o = o;
		jobs[i].ret = 0;
		memset(&jobs[i].st, 0, sizeof(jobs[i].st));
		if (!quiet && nthreads == 1 && isatty(STDERR_FILENO)) {
			jobs[i].o.progress = progress_line;
			jobs[i].o.progress_ctx = (void *)jobs[i].spec;
		}
	}
	pool.jobs = jobs;
	pool.njobs = njobs;
	pthread_mutex_init(&pool.lock, NULL);
	if (nthreads > njobs)
		nthreads = njobs ? njobs : 1;
	for (int t = 0; t < nthreads; t++)
		pthread_create(&threads[t], NULL, worker, &pool);
	for (int t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&pool.lock);
	if (!quiet && nthreads == 1 && isatty(STDERR_FILENO))
		fprintf(stderr, "\r%70s\r", "");

	if (!json)
		printf("%-14s %9s %11s %5s %8s %9s  %s\n", "machine", "states",
		       "transitions", "depth", "seconds", "states/s",
		       "violations");
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->ret) {
			status = 2;
			if (j->ret != 2)
				fprintf(stderr, "dmaown check: %s: out of memory\n",
					j->spec);
			continue;
		}
		if (json) {
			print_json(j);
		} else {
			printf("%-14s %9lu %11lu %5d %8.2f %9.0f  %d%s\n", j->spec,
			       j->st.states, j->st.transitions, j->st.depth,
			       j->st.seconds,
			       j->st.seconds > 0 ?
				       (double)j->st.states / j->st.seconds :
				       0.0,
			       j->st.violated ? 1 : 0,
			       j->st.truncated ? " (max-states reached)" : "");
		}
		if (j->st.violated && status != 2)
			status = 1;
	}
	if (!json)
		for (int i = 0; i < njobs; i++)
			if (!jobs[i].ret && jobs[i].st.violated)
				print_counterexample(&jobs[i]);
	for (int i = 0; i < njobs; i++)
		check_stats_free(&jobs[i].st);
	return status;
bad:
	check_usage(stderr);
	return 2;
}
