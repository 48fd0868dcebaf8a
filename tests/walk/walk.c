// SPDX-License-Identifier: MIT
/*
 * dmaown-walk: the random-walk property test.
 *
 * Where `dmaown check` explores every order of actions to a small bound,
 * the walker goes deep instead: on each built-in machine it takes long
 * random sequences of the checker's own actions (check_actions(), run
 * through the script shell as the checker runs them) and checks the
 * invariants after every step: I1..I4 always, I5 after a failed action,
 * I6 (teardown, on a copy) every WALK_TEARDOWN_EVERY steps and before each
 * reboot. Every WALK_REBOOT_EVERY steps the walk starts again from a fresh
 * copy of the boot state, so the walks stay varied.
 *
 * A walk depends only on the seed and the machine's name, never on the
 * other machines or the step count, so a violation found in a run over
 * every machine replays with --machine and the printed step count. The
 * failing sequence is then shrunk (delta debugging: remove chunks, then
 * single lines, replaying from boot each time and keeping a removal when
 * the same invariant still breaks) and printed as a script `dmaown run`
 * replays.
 *
 * Exit status: 0 no violation; 1 a violation (shrunk script printed);
 * 2 bad usage, a machine that does not load, or an internal error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat/kernel.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "kernel/kernel.h"
#include "machine/machine-priv.h"

#define WALK_REBOOT_EVERY 200   /* steps from one boot */
#define WALK_TEARDOWN_EVERY 64  /* I6 (a clone and a teardown) this often */
#define WALK_DEFAULT_STEPS 100000
#define WALK_WHY_MAX 512

/* What the checker opens at boot; printed before a trace that uses it. */

#define PRELUDE_LINES CHECK_PRELUDE_LINES
#define iommufd_prelude check_prelude /* check_prepare() as script lines */

struct walk_opts {
	uint64_t seed;
	unsigned long steps;
	const char *machine;
	unsigned int faults;
	bool probe_faults;
	bool no_shrink;
	unsigned long kscripts;  /* --kernel-scripts N */
	unsigned long klength;   /* --length L */
};

/* A list of script lines (a trace). */
struct lines {
	char **v;
	size_t n, cap;
};

struct violation {
	unsigned int inv;       /* one INV_* bit: the first one violated */
	char why[WALK_WHY_MAX];
	unsigned long step;     /* 1-based step of the machine's walk */
};

/* One machine's walk. */
struct walker {
	const char *name;
	const struct walk_opts *o;
	struct check_opts co;
	struct machine *boot;   /* booted, faults planted, nothing opened */
	struct machine *base;   /* boot + two iommufds with an IOAS each */
	uint64_t rng;

	struct machine *m;      /* the walk since the last reboot */
	struct script_ctx *ctx;
	struct lines trace;     /* the lines run on @m since the reboot */

	unsigned long steps, reboots, failed, teardowns;
};

/* ---- xorshift64*: small, fast, deterministic everywhere ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* splitmix64, to spread a seed; never returns a zero xorshift state. */
static uint64_t seed_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 0x9e3779b97f4a7c15ULL;
}

/* The machine's stream: the seed and its name, nothing else. */
static uint64_t machine_seed(uint64_t seed, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return seed_mix(seed ^ h);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- traces ---- */

static int lines_push(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static void lines_clear(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void lines_free(struct lines *l)
{
	lines_clear(l);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool lines_use_iommufd(char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (check_line_needs_prelude(v[i]))
			return true;
	return false;
}

/* ---- booting ---- */

static struct machine *boot_machine(const char *name, unsigned int faults)
{
	const char *text = builtin_machine_text(name);
	struct topo_error err = { 0 };
	struct machine *m;

	if (!text) {
		fprintf(stderr, "dmaown-walk: no built-in machine '%s'\n", name);
		return NULL;
	}
	m = topology_load_faults(name, text, faults, &err);
	/* the boot log is kept: a WARN at boot breaks I4 at step 0 */
	if (!m)
		fprintf(stderr, "dmaown-walk: %s:%d:%d: %s\n", err.file,
			err.line, err.col, err.msg);
	return m;
}

static void walker_drop(struct walker *w)
{
	script_ctx_free(w->ctx);
	w->ctx = NULL;
	machine_destroy(w->m);
	w->m = NULL;
	lines_clear(&w->trace);
}

static int walker_reboot(struct walker *w)
{
	walker_drop(w);
	w->m = machine_clone(w->base);
	w->ctx = w->m ? script_ctx_new(w->m, "walk") : NULL;
	if (!w->ctx)
		return -ENOMEM;
	return 0;
}

static int walker_init(struct walker *w, const char *name,
		       const struct walk_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->o = o;
	w->co.faults = o->faults;
	w->co.probe_faults = o->probe_faults;
	w->co.nshards = 1;
	w->rng = machine_seed(o->seed, name);
	w->boot = boot_machine(name, o->faults);
	if (!w->boot)
		return -EINVAL;
	w->base = machine_clone(w->boot);
	if (!w->base)
		return -ENOMEM;
	/* the checker's two iommufd users */
	if (check_prepare(w->base))
		return -ENOMEM;
	return walker_reboot(w);
}

static void walker_free(struct walker *w)
{
	walker_drop(w);
	lines_free(&w->trace);
	machine_destroy(w->base);
	machine_destroy(w->boot);
}

/* ---- one step ---- */

static unsigned int first_bit(unsigned int mask)
{
	return mask & -mask;
}

/*
 * Run @line on @m through @ctx and check @which after it (I5 only when the
 * line failed). Returns the violated invariants; *ret_err gets -EINVAL for a
 * line the shell refused (a walker bug) or -ENOMEM.
 */
static unsigned int run_and_check(struct machine *m, struct script_ctx *ctx,
				  const char *line, int lineno,
				  unsigned int which, bool *ret_failed,
				  char *why, size_t why_len, int *ret_err)
{
	struct script_result res;
	char *before = NULL, *after;
	unsigned int bad;
	int ret;

	if (which & INV_FAILED_NOOP) {
		before = check_ownership_snapshot(m);
		if (!before) {
			*ret_err = -ENOMEM;
			return 0;
		}
	}
	ret = script_exec_line(ctx, line, lineno, &res);
	if (ret) {
		fprintf(stderr, "dmaown-walk: the shell refused '%s': %s\n",
			line, res.err ? res.err : "");
		script_result_free(&res);
		free(before);
		*ret_err = ret;
		return 0;
	}
	*ret_failed = res.status != 0;
	script_result_free(&res);
	bad = machine_check_invariants(m, which & ~INV_FAILED_NOOP, why,
				       why_len);
	if (!bad && *ret_failed && before) {
		after = check_ownership_snapshot(m);
		if (!after) {
			*ret_err = -ENOMEM;
		} else if (!check_ownership_kept(before, after)) {
			bad = INV_FAILED_NOOP;
			snprintf(why, why_len,
				 "'%s' failed but changed group ownership or bindings",
				 line);
		}
		free(after);
	}
	free(before);
	return bad;
}

/* The invariants checked after every step. */
#define WALK_EVERY_STEP (INV_ALL & ~INV_TEARDOWN)

/* One step of the walk: 0, or a negative errno; *v filled on violation. */
static int walker_step(struct walker *w, struct violation *v)
{
	char **acts;
	size_t nacts;
	const char *line;
	bool failed = false, teardown;
	int err = 0;

	if (w->trace.n >= WALK_REBOOT_EVERY) {
		w->reboots++;
		err = walker_reboot(w);
		if (err)
			return err;
	}
	if (check_actions(w->m, &w->co, &acts, &nacts))
		return -ENOMEM;
	if (!nacts) { /* a dead end: start again */
		free(acts);
		w->reboots++;
		return walker_reboot(w);
	}
	line = acts[rng_next(&w->rng) % nacts];
	w->steps++;
	err = lines_push(&w->trace, line);
	if (!err)
		v->inv = run_and_check(w->m, w->ctx, line, (int)w->trace.n,
				       WALK_EVERY_STEP, &failed, v->why,
				       sizeof(v->why), &err);
	for (size_t i = 0; i < nacts; i++)
		free(acts[i]);
	free(acts);
	if (err)
		return err;
	w->failed += failed;
	/* I6 now and then, and on the last state before a reboot */
	teardown = w->trace.n % WALK_TEARDOWN_EVERY == 0 ||
		   w->trace.n == WALK_REBOOT_EVERY;
	if (!v->inv && teardown) {
		w->teardowns++;
		v->inv = machine_check_invariants(w->m, INV_TEARDOWN, v->why,
						  sizeof(v->why));
	}
	v->inv = first_bit(v->inv);
	v->step = w->steps;
	return 0;
}

/* ---- shrinking ---- */

struct shrinker {
	struct walker *w;
	unsigned int inv;
	unsigned long replays;
};

/*
 * Replay @v[0..n) from boot, with the iommufd prelude when the lines use
 * it, exactly as the printed script runs. Returns 1 when @s->inv breaks,
 * with *ret_at the number of lines run up to it; 0 when it does not;
 * a negative errno.
 */
static int replay(struct shrinker *s, char *const *v, size_t n,
		  size_t *ret_at, char *why, size_t why_len)
{
	struct machine *m = machine_clone(s->w->boot);
	struct script_ctx *ctx = m ? script_ctx_new(m, "replay") : NULL;
	unsigned int which = s->inv == INV_FAILED_NOOP ?
				     INV_FAILED_NOOP : s->inv;
	int ret = 0, err = 0;

	s->replays++;
	if (!ctx) {
		machine_destroy(m);
		return -ENOMEM;
	}
	if (lines_use_iommufd(v, n)) {
		for (size_t i = 0; i < PRELUDE_LINES; i++) {
			struct script_result res;

			if (script_exec_line(ctx, iommufd_prelude[i], 0, &res))
				err = -EINVAL;
			script_result_free(&res);
		}
	}
	/* broken from boot (v7-order on IORT): no line needed */
	if (!err && machine_check_invariants(m, which & ~INV_FAILED_NOOP, why,
					     why_len) & s->inv) {
		*ret_at = 0;
		ret = 1;
		n = 0;
	}
	for (size_t i = 0; i < n && !err; i++) {
		bool failed;

		if (run_and_check(m, ctx, v[i], (int)i + 1, which, &failed,
				  why, why_len, &err) & s->inv) {
			*ret_at = i + 1;
			ret = 1;
			break;
		}
	}
	script_ctx_free(ctx);
	machine_destroy(m);
	return err ? err : ret;
}

/*
 * Delta debugging (ddmin, complements only): split the trace in @gran
 * chunks and try it without each; a removal that still breaks the
 * invariant is kept (and the trace cut where it breaks) and the split
 * gets coarser, else finer, down to single lines. The result is
 * 1-minimal: no single line can go.
 */
static int shrink(struct shrinker *s, struct lines *t)
{
	char why[WALK_WHY_MAX];
	size_t gran = 2, at;
	char **cand;
	int ret;

	cand = calloc(t->n ? t->n : 1, sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	while (t->n >= 2) {
		size_t chunk = (t->n + gran - 1) / gran;
		bool reduced = false;

		for (size_t start = 0; start < t->n; start += chunk) {
			size_t end = start + chunk < t->n ? start + chunk : t->n;
			size_t nc = 0;

			for (size_t i = 0; i < t->n; i++)
				if (i < start || i >= end)
					cand[nc++] = t->v[i];
			ret = replay(s, cand, nc, &at, why, sizeof(why));
			if (ret < 0)
				goto out;
			if (!ret)
				continue;
			/* keep cand[0..at): free what goes */
			for (size_t i = start; i < end; i++)
				free(t->v[i]);
			for (size_t i = at; i < nc; i++)
				free(cand[i]);
			memcpy(t->v, cand, at * sizeof(*cand));
			t->n = at;
			gran = gran > 2 ? gran - 1 : 2;
			reduced = true;
			break;
		}
		if (!reduced) {
			if (gran >= t->n)
				break;
			gran = gran * 2 < t->n ? gran * 2 : t->n;
		}
	}
	ret = 0;
out:
	free(cand);
	return ret;
}

static void print_script(const struct walker *w, const struct lines *t)
{
	const unsigned int v7 = MACHINE_FAULT_V7_ORDER;

	/* the header 'dmaown check' writes: 'dmaown run FILE' reproduces it */
	printf("# counterexample: save as a file and replay with 'dmaown run FILE'\n");
	printf("# machine: %s\n", w->name);
	printf("# dmaown: --format 1 --check%s\n",
	       w->o->faults & v7 ? " --fault v7-order" : "");
	for (unsigned int f = 1; f; f <<= 1)
		if ((w->o->faults & f) && f != v7 && machine_fault_name(f))
			printf("@fault %s on\n", machine_fault_name(f));
	if (lines_use_iommufd(t->v, t->n))
		for (size_t i = 0; i < PRELUDE_LINES; i++)
			printf("%s\n", iommufd_prelude[i]);
	for (size_t i = 0; i < t->n; i++)
		printf("%s\n", t->v[i]);
}

static void print_repro(const struct walker *w, unsigned long step)
{
	printf("reproduce: dmaown-walk --seed %" PRIu64
	       " --machine %s --steps %lu",
	       w->o->seed, w->name, step);
	for (unsigned int f = 1; f; f <<= 1)
		if ((w->o->faults & f) && machine_fault_name(f))
			printf(" --fault %s", machine_fault_name(f));
	printf("%s\n", w->o->probe_faults ? " --probe-faults" : "");
}

/* Report, shrink and print a violation. Returns 1, or 2 on error. */
static int report(struct walker *w, const struct violation *v)
{
	struct shrinker s = { .w = w, .inv = v->inv };
	char why[WALK_WHY_MAX];
	size_t at, before = w->trace.n;
	int ret;

	printf("%s: %s violated at step %lu (seed %" PRIu64 "): %s\n",
	       w->name, check_invariant_name(v->inv), v->step, w->o->seed,
	       v->why);
	print_repro(w, v->step);
	/* the walk since its boot must replay to the same violation */
	ret = replay(&s, w->trace.v, w->trace.n, &at, why, sizeof(why));
	if (ret < 0)
		return 2;
	if (!ret) {
		printf("error: the trace of %zu lines does not replay to the violation\n",
		       w->trace.n);
		print_script(w, &w->trace);
		return 2;
	}
	while (w->trace.n > at)
		free(w->trace.v[--w->trace.n]);
	if (!w->o->no_shrink && shrink(&s, &w->trace))
		return 2;
	printf("shrunk from %zu to %zu line%s in %lu replays\n", before,
	       w->trace.n, w->trace.n == 1 ? "" : "s", s.replays);
	print_script(w, &w->trace);
	return 1;
}

/* ---- --replay: check a printed script as it stands ---- */

/*
 * Boot the script's machine (its "# machine:" line) with only the faults
 * given on the command line, run every line and check every invariant
 * after boot and after each line; print where each violated invariant
 * broke first. Returns 0 clean, 1 violated, 2 error.
 */
static int replay_file(const char *path, unsigned int faults)
{
	char buf[SCRIPT_LINE_MAX + 2], name[128] = "", why[WALK_WHY_MAX];
	struct machine *m = NULL;
	struct script_ctx *ctx = NULL;
	FILE *f = fopen(path, "r");
	unsigned int seen = 0, bad;
	int lineno = 0, status = 0;

	if (!f) {
		fprintf(stderr, "dmaown-walk: cannot open '%s'\n", path);
		return 2;
	}
	while (status != 2 && fgets(buf, sizeof(buf), f)) {
		bool failed;
		int err = 0;

		lineno++;
		buf[strcspn(buf, "\n")] = '\0';
		if (!m && sscanf(buf, "# machine: %127s", name) == 1) {
			m = boot_machine(name, faults);
			ctx = m ? script_ctx_new(m, path) : NULL;
			if (!ctx) {
				status = 2;
				break;
			}
			bad = machine_check_invariants(m, INV_ALL, why,
						       sizeof(why));
		} else if (buf[0] == '#' || buf[0] == '\0') {
			continue;
		} else if (!m) {
			break;
		} else {
			bad = run_and_check(m, ctx, buf, lineno, INV_ALL,
					    &failed, why, sizeof(why), &err);
			if (err)
				status = 2;
		}
		/* each invariant where it broke first */
		for (unsigned int b = 1; b <= INV_ALL; b <<= 1) {
			if (!(bad & b & ~seen))
				continue;
			printf("%s:%d: %s violated%s%s\n", path, lineno,
			       check_invariant_name(b),
			       b == first_bit(bad) ? ": " : "",
			       b == first_bit(bad) ? why : "");
			seen |= b;
			status = status ? status : 1;
		}
	}
	fclose(f);
	if (!status && !m) {
		fprintf(stderr, "dmaown-walk: %s: no '# machine:' line\n", path);
		status = 2;
	}
	if (!status)
		printf("%s: no violation\n", path);
	script_ctx_free(ctx);
	machine_destroy(m);
	return status;
}

/* ---- --kernel-scripts: walks the real kernel can replay ---- */

/*
 * A line the guest of 'dmaown kernel' performs as the model does: every
 * command of a '&&', '||' or ';' chain has a real-kernel form, and it does
 * not remove or rescan devices (a batch's restore between scenarios
 * rebinds drivers and unloads modules, it cannot bring a removed device
 * back, so such a walk would cost a boot of its own).
 */
static bool kernel_form(const char *line)
{
	char buf[SCRIPT_LINE_MAX + 1], *save = NULL;

	if (strstr(line, "/remove") || strstr(line, "/rescan"))
		return false;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *p = buf; *p; p++)
		if ((p[0] == '&' && p[1] == '&') || (p[0] == '|' && p[1] == '|'))
			p[0] = p[1] = ';';
	for (char *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save))
		if (kernel_line_refused(t))
			return false;
	return true;
}

/*
 * The shape of an action: @line with each PCI address (a '/'- or
 * space-separated part with a ':') and each number made "N", so that
 * "echo 0000:01:00.0 > .../e1000e/unbind" and the same for another
 * device are one shape, "modprobe vfio-pci" another.
 */
static void action_shape(const char *line, char *buf, size_t len)
{
	size_t o = 0;

	for (const char *p = line; *p && o + 2 < len;) {
		size_t n = strcspn(p, " /");
		bool num = n > 0, colon = memchr(p, ':', n) != NULL;

		for (size_t i = 0; i < n; i++)
			num = num && p[i] >= '0' && p[i] <= '9';
		if (num || colon) {
			buf[o++] = 'N';
		} else {
			for (size_t i = 0; i < n && o + 2 < len; i++)
				buf[o++] = p[i];
		}
		p += n;
		if (*p && o + 2 < len)
			buf[o++] = *p++;
	}
	buf[o] = '\0';
}

/*
 * Pick one of @v[0..n): a shape uniformly among the shapes present, then
 * an action of that shape; a uniform pick among the actions would spend
 * the walk on the many per-device writes (driver_override of each of 20
 * functions) and seldom load vfio-pci or open a group.
 */
static const char *pick_by_shape(char **v, size_t n, uint64_t *rng)
{
	char (*shape)[SCRIPT_LINE_MAX + 1] = calloc(n, sizeof(*shape));
	size_t nshapes = 0, want, k = 0;
	const char *pick = v[0];

	if (!shape)
		return v[rng_next(rng) % n];
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		action_shape(v[i], shape[i], sizeof(shape[i]));
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(shape[i], shape[j]);
		nshapes += !seen;
	}
	/* the want-th shape in order of first appearance */
	want = rng_next(rng) % nshapes;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(shape[i], shape[j]);
		if (!seen && k++ == want) {
			size_t same = 0, at;

			for (size_t j = 0; j < n; j++)
				same += !strcmp(shape[j], shape[i]);
			at = rng_next(rng) % same;
			for (size_t j = 0; j < n; j++)
				if (!strcmp(shape[j], shape[i]) && at-- == 0) {
					pick = v[j];
					break;
				}
			break;
		}
	}
	free(shape);
	return pick;
}

/*
 * Print @o->kscripts walks of @o->klength steps each from boot on one
 * machine (default the x86 twin), every step a random enabled action
 * with a real-kernel form (picked by shape), run on the model to find
 * the next step's actions. Each starts with a '# dmaown-walk:' line naming it; the same
 * seed prints the same bytes. Returns 0, or 2 on error.
 */
static int kernel_scripts(const struct walk_opts *o)
{
	const char *name = o->machine ? o->machine : "qemu-x86-vtd";
	struct check_opts co = { .nshards = 1 };
	struct machine *boot = boot_machine(name, 0);
	uint64_t rng = machine_seed(o->seed, name);
	int status = 0;

	if (!boot)
		return 2;
	for (unsigned long k = 0; k < o->kscripts && !status; k++) {
		struct machine *m = machine_clone(boot);
		struct script_ctx *ctx = m ? script_ctx_new(m, "walk") : NULL;

		if (!ctx) {
			machine_destroy(m);
			status = 2;
			break;
		}
		printf("# dmaown-walk: kernel script %lu of %lu, seed %" PRIu64
		       ", machine %s\n", k + 1, o->kscripts, o->seed, name);
		for (unsigned long step = 0; step < o->klength; step++) {
			char **acts;
			size_t nacts, nok = 0;

			if (check_actions(m, &co, &acts, &nacts)) {
				status = 2;
				break;
			}
			for (size_t i = 0; i < nacts; i++)
				if (kernel_form(acts[i]))
					acts[nok++] = acts[i];
				else
					free(acts[i]);
			if (nok) {
				struct script_result res;
				const char *line = pick_by_shape(acts, nok, &rng);

				printf("%s\n", line);
				if (script_exec_line(ctx, line, (int)step + 1, &res))
					status = 2;
				script_result_free(&res);
			}
			for (size_t i = 0; i < nok; i++)
				free(acts[i]);
			free(acts);
			if (!nok)
				break;
		}
		script_ctx_free(ctx);
		machine_destroy(m);
	}
	machine_destroy(boot);
	return status;
}

/* ---- the run ---- */

struct figures {
	unsigned long steps, reboots, failed, teardowns;
};

static int walk_machine(const char *name, const struct walk_opts *o,
			unsigned long steps, struct figures *total)
{
	struct walker w;
	struct violation v = { 0 };
	int ret;

	ret = walker_init(&w, name, o);
	if (ret) {
		if (ret != -EINVAL)
			fprintf(stderr, "dmaown-walk: %s: out of memory\n", name);
		walker_free(&w);
		return 2;
	}
	/* the boot state itself */
	v.inv = first_bit(machine_check_invariants(w.base, WALK_EVERY_STEP |
						   INV_TEARDOWN,
						   v.why, sizeof(v.why)));
	while (!v.inv && w.steps < steps) {
		ret = walker_step(&w, &v);
		if (ret) {
			fprintf(stderr, "dmaown-walk: %s: %s at step %lu\n",
				name, ret == -ENOMEM ? "out of memory" :
						       "internal error",
				w.steps);
			ret = 2;
			break;
		}
		if (v.inv)
			break;
	}
	printf("%-14s %10lu %8lu %9lu %10lu  %s\n", name, w.steps, w.reboots,
	       w.failed, w.teardowns, v.inv ? "violated" : "ok");
	if (v.inv)
		ret = report(&w, &v);
	total->steps += w.steps;
	total->reboots += w.reboots;
	total->failed += w.failed;
	total->teardowns += w.teardowns;
	walker_free(&w);
	return ret;
}

static bool parse_count(const char *s, unsigned long *ret)
{
	char *end;
	double d = strtod(s, &end); /* 1000000, 1e6 */

	if (end == s || d < 0 || d > 1e15)
		return false;
	if (*end == 'k' || *end == 'K')
		d *= 1e3, end++;
	else if (*end == 'M')
		d *= 1e6, end++;
	if (*end)
		return false;
	*ret = (unsigned long)d;
	return true;
}

static void usage(FILE *out)
{
	fputs("usage: dmaown-walk [options]\n"
	      "\n"
	      "Random walks of the checker's actions on every built-in machine (or\n"
	      "one), invariants checked after every step; a violation is shrunk to a\n"
	      "short script that 'dmaown run' replays.\n"
	      "\n"
	      "Options:\n"
	      "  -s, --seed S       the walks' seed (default: from the clock, printed)\n"
	      "  -n, --steps N      steps in all, split evenly across the machines\n"
	      "                     (default 100000; 1e6 and 10M are accepted)\n"
	      "  -m, --machine M    only this built-in machine (all its N steps)\n"
	      "      --fault F      plant a fault from boot (v7-order, or a mutant:\n"
	      "                     no-probe-cleanup, claim-ignores-count,\n"
	      "                     release-keeps-domain, use-ignores-owner)\n"
	      "      --probe-faults also take 'the next probe of R fails ENOMEM'\n"
	      "      --no-shrink    print the violating walk as it is\n"
	      "      --kernel-scripts N\n"
	      "                     print N walks of --length steps from boot on\n"
	      "                     --machine (default qemu-x86-vtd) made only of\n"
	      "                     lines 'dmaown kernel' runs on the real kernel\n"
	      "      --length L     steps of each --kernel-scripts walk (default 12)\n"
	      "      --replay FILE  run a printed script (its '# machine:' line, the\n"
	      "                     faults of --fault) checking every invariant after\n"
	      "                     every line\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "Exit status: 0 no violation; 1 a violation; 2 bad usage or error.\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "steps", required_argument, NULL, 'n' },
		{ "machine", required_argument, NULL, 'm' },
		{ "fault", required_argument, NULL, 'f' },
		{ "probe-faults", no_argument, NULL, 'P' },
		{ "no-shrink", no_argument, NULL, 'N' },
		{ "replay", required_argument, NULL, 'R' },
		{ "kernel-scripts", required_argument, NULL, 'K' },
		{ "length", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct walk_opts o = { .steps = WALK_DEFAULT_STEPS, .klength = 12 };
	struct figures total = { 0 };
	const char *replay_path = NULL;
	bool seeded = false;
	size_t nmach;
	double t0;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "s:n:m:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			o.seed = strtoull(optarg, &end, 0);
			if (*end || !*optarg)
				goto bad;
			seeded = true;
			break;
		case 'n':
			if (!parse_count(optarg, &o.steps))
				goto bad;
			break;
		case 'm':
			if (!builtin_machine_text(optarg)) {
				fprintf(stderr,
					"dmaown-walk: no built-in machine '%s'\n",
					optarg);
				return 2;
			}
			o.machine = optarg;
			break;
		case 'f': {
			unsigned int f = machine_fault_from_name(optarg);

			if (!f) {
				fprintf(stderr, "dmaown-walk: unknown fault '%s'\n",
					optarg);
				return 2;
			}
			o.faults |= f;
			break;
		}
		case 'P':
			o.probe_faults = true;
			break;
		case 'N':
			o.no_shrink = true;
			break;
		case 'R':
			replay_path = optarg;
			break;
		case 'K':
			if (!parse_count(optarg, &o.kscripts) || !o.kscripts)
				goto bad;
			break;
		case 'L':
			if (!parse_count(optarg, &o.klength) || !o.klength)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (replay_path)
		return replay_file(replay_path, o.faults);
	if (o.kscripts) {
		if (!seeded) {
			fprintf(stderr, "dmaown-walk: --kernel-scripts needs --seed\n");
			return 2;
		}
		return kernel_scripts(&o);
	}
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o.seed = seed_mix((uint64_t)ts.tv_sec * 1000000000ULL +
				  (uint64_t)ts.tv_nsec) % 1000000000ULL;
	}
	nmach = o.machine ? 1 : builtin_machine_count();
	printf("dmaown-walk: seed %" PRIu64 ", %lu steps on %zu machine%s%s%s\n",
	       o.seed, o.steps, nmach, nmach == 1 ? "" : "s",
	       o.faults ? ", faults planted" : "",
	       o.probe_faults ? ", probe faults" : "");
	printf("%-14s %10s %8s %9s %10s  %s\n", "machine", "steps", "reboots",
	       "failed", "teardowns", "result");
	fflush(stdout);
	t0 = now_seconds();
	for (size_t i = 0; i < nmach && !status; i++) {
		const char *name = o.machine ? o.machine :
					       builtin_machine_name(i);
		unsigned long steps = o.steps / nmach +
				      (i < o.steps % nmach ? 1 : 0);

		status = walk_machine(name, &o, steps, &total);
		fflush(stdout);
	}
	{
		double secs = now_seconds() - t0;

		printf("%-14s %10lu %8lu %9lu %10lu  %s\n", "total", total.steps,
		       total.reboots, total.failed, total.teardowns,
		       status ? "violated" : "ok");
		/* the one line that varies from run to run */
		printf("time: %.2f s, %.0f steps/s\n", secs,
		       secs > 0 ? (double)total.steps / secs : 0.0);
	}
	return status;
bad:
	usage(stderr);
	return 2;
}
