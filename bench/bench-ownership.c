// SPDX-License-Identifier: MIT
/*
 * bench-ownership: the cost of the DMA-ownership fast paths against a bare
 * pthread mutex, measured in one process on one machine.
 *
 *  (a) pthread_mutex_lock() + pthread_mutex_unlock() on a bare
 *      pthread_mutex_t: the floor any group-mutex protected path pays;
 *  (a2) two such pairs, for reference: (b) takes the group mutex twice
 *      (once in use, once in unuse), so (a2)/(a) is the floor of (b)/(a);
 *  (b) iommu_device_use_default_domain() +
 *      iommu_device_unuse_default_domain(): what the driver core adds to
 *      every probe/remove (bus dma_configure/dma_cleanup);
 *  (c) iommu_group_claim_dma_owner() + iommu_group_release_dma_owner():
 *      VFIO open/close, switching default -> blocking -> default domain.
 *
 * Each measurement runs batches until at least min_time has elapsed on
 * CLOCK_MONOTONIC; it is repeated and the median ns per pair reported. The
 * cases are interleaved within each repetition so that frequency changes
 * and noise affect them alike.
 *
 * A process with one thread takes glibc's single-threaded fast path in
 * pthread_mutex_lock/unlock (no atomic instructions), the library's group
 * mutex included; --mt starts an idle second thread first so that every
 * mutex takes the atomic path, as in a threaded user of the library.
 *
 * This is a measurement, not a timed test: the exit status reflects only
 * correctness (every call succeeded, owner_cnt is back to 0, the group is
 * back on its default domain, no WARN fired). 0: correct, 1: a correctness
 * check failed, 2: bad usage or set-up failure.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat/err.h"
#include "dmaown/dmaown.h"

#define TARGET_RATIO 2.0
#define BATCH 1024ul
#define REPS_FULL 7
#define REPS_QUICK 3
#define MIN_TIME_FULL 0.3
#define MIN_TIME_QUICK 0.02
#define WARMUP_FULL 0.05
#define WARMUP_QUICK 0.005

enum bench_case {
	CASE_MUTEX,
	CASE_MUTEX2,
	CASE_USE,
	CASE_CLAIM,
	NR_CASES,
};

static const char *const case_label[NR_CASES] = {
	[CASE_MUTEX] = "(a) pthread_mutex lock+unlock",
	[CASE_MUTEX2] = "(a2) 2x (a), floor of (b)",
	[CASE_USE] = "(b) use+unuse_default_domain",
	[CASE_CLAIM] = "(c) claim+release_dma_owner",
};

static const char *const case_key[NR_CASES] = {
	[CASE_MUTEX] = "mutex_pair",
	[CASE_MUTEX2] = "mutex_2pairs",
	[CASE_USE] = "use_unuse",
	[CASE_CLAIM] = "claim_release",
};

struct bench_ctx {
	struct machine *m;
	struct iommu_device *iommu;
	struct device *dev;
	struct iommu_group *group;
	pthread_mutex_t mx;
	/* Every call's result ends up here, so nothing can be elided. */
	volatile unsigned long sink;
	/* Calls that returned an error during the timed loops. */
	unsigned long errors;
};

static const char owner_cookie[] = "bench-ownership";

/* --mt: a second thread that only waits, so the process is multi-threaded. */
static pthread_mutex_t idle_gate = PTHREAD_MUTEX_INITIALIZER;

static void *idle_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&idle_gate);
	pthread_mutex_unlock(&idle_gate);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The loops are kept out of line so each case's code stays as written. */
static __attribute__((noinline)) void batch_mutex(struct bench_ctx *ctx,
						  unsigned long n)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		bad += pthread_mutex_lock(&ctx->mx) != 0;
		bad += pthread_mutex_unlock(&ctx->mx) != 0;
	}
	ctx->sink += n;
	ctx->errors += bad;
}

static __attribute__((noinline)) void batch_mutex2(struct bench_ctx *ctx,
						   unsigned long n)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		bad += pthread_mutex_lock(&ctx->mx) != 0;
		bad += pthread_mutex_unlock(&ctx->mx) != 0;
		bad += pthread_mutex_lock(&ctx->mx) != 0;
		bad += pthread_mutex_unlock(&ctx->mx) != 0;
	}
	ctx->sink += n;
	ctx->errors += bad;
}

static __attribute__((noinline)) void batch_use(struct bench_ctx *ctx,
						unsigned long n)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (iommu_device_use_default_domain(ctx->dev)) {
			bad++;
			continue;
		}
		iommu_device_unuse_default_domain(ctx->dev);
	}
	ctx->sink += n;
	ctx->errors += bad;
}

static __attribute__((noinline)) void batch_claim(struct bench_ctx *ctx,
						  unsigned long n)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (iommu_group_claim_dma_owner(ctx->group,
						(void *)owner_cookie)) {
			bad++;
			continue;
		}
		iommu_group_release_dma_owner(ctx->group);
	}
	ctx->sink += n;
	ctx->errors += bad;
}

static void run_batch(struct bench_ctx *ctx, enum bench_case c,
		      unsigned long n)
{
	switch (c) {
	case CASE_MUTEX:
		batch_mutex(ctx, n);
		break;
	case CASE_MUTEX2:
		batch_mutex2(ctx, n);
		break;
	case CASE_USE:
		batch_use(ctx, n);
		break;
	case CASE_CLAIM:
		batch_claim(ctx, n);
		break;
	default:
		break;
	}
}

/* Run batches of @c until @min_time seconds have passed; ns per pair. */
static double measure(struct bench_ctx *ctx, enum bench_case c,
		      double min_time)
{
	unsigned long pairs = 0;
	double t0, t;

	t0 = now_s();
	do {
		run_batch(ctx, c, BATCH);
		pairs += BATCH;
		t = now_s();
	} while (t - t0 < min_time);
	return (t - t0) * 1e9 / (double)pairs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @n samples (sorts them); @n is odd. */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * One IOMMU that can make blocking domains, one device alone in its group,
 * probed and attached to the group's default domain.
 */
static int setup(struct bench_ctx *ctx)
{
	struct machine_config cfg = { .iommu_api = true };
	struct iommu_group_info info;

	memset(ctx, 0, sizeof(*ctx));
	if (pthread_mutex_init(&ctx->mx, NULL))
		return -1;
	ctx->m = machine_create("bench-ownership", &cfg);
	if (!ctx->m)
		return -1;
	ctx->iommu = iommu_device_alloc(ctx->m, "smmu3.0x0000000002000000",
					IOMMU_DOMAIN_BLOCKED |
						IOMMU_DOMAIN_DMA_FQ);
	if (IS_ERR(ctx->iommu) || iommu_device_register(ctx->iommu))
		return -1;
	ctx->dev = device_alloc(ctx->m, "0000:01:00.0", NULL);
	if (IS_ERR(ctx->dev))
		return -1;
	if (device_set_fw_iommu(ctx->dev, ctx->iommu, 0) ||
	    device_add(ctx->dev) || iommu_probe_device(ctx->dev))
		return -1;
	ctx->group = iommu_group_get(ctx->dev);
	if (!ctx->group)
		return -1;
	iommu_group_get_info(ctx->group, &info);
	if (info.ndevices != 1 || info.owner || info.owner_cnt ||
	    !info.default_domain || info.domain != info.default_domain ||
	    iommu_device_domain(ctx->dev) != info.default_domain)
		return -1;
	return machine_warn_count(ctx->m) ? -1 : 0;
}

static void teardown(struct bench_ctx *ctx)
{
	/* machine_destroy() frees the device and the group too. */
	if (ctx->group)
		iommu_group_put(ctx->group);
	machine_destroy(ctx->m);
	pthread_mutex_destroy(&ctx->mx);
}

/*
 * The state after the loops must be the state before them: nothing counted,
 * no owner, the default domain attached, a blocking domain made by the
 * claims, every call successful and no WARN.
 */
static bool verify(struct bench_ctx *ctx, struct iommu_group_info *info)
{
	iommu_group_get_info(ctx->group, info);
	return ctx->errors == 0 && info->owner_cnt == 0 && !info->owner &&
	       info->domain == info->default_domain &&
	       iommu_device_domain(ctx->dev) == info->default_domain &&
	       info->blocking_domain &&
	       iommu_domain_type(info->blocking_domain) ==
		       IOMMU_DOMAIN_BLOCKED &&
	       machine_warn_count(ctx->m) == 0;
}

static void usage(FILE *out)
{
	fputs("usage: bench-ownership [--quick] [--json] [--mt] [--help]\n"
	      "  --quick  fewer, shorter repetitions (smoke test)\n"
	      "  --json   print one JSON object instead of the table\n"
	      "  --mt     measure with an idle second thread alive (glibc's\n"
	      "           multi-threaded, atomic mutex path)\n"
	      "Exit status: 0 correct, 1 a correctness check failed, 2 bad\n"
	      "usage or set-up failure. Timing never affects it.\n",
	      out);
}

int main(int argc, char **argv)
{
	double samples[NR_CASES][REPS_FULL], ns[NR_CASES];
	double lo[NR_CASES], hi[NR_CASES];
	double min_time = MIN_TIME_FULL, warmup = WARMUP_FULL;
	int reps = REPS_FULL;
	bool json = false, quick = false, mt = false, ok, pass;
	pthread_t idle;
	struct iommu_group_info info;
	struct bench_ctx ctx;
	size_t warns;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--mt")) {
			mt = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "bench-ownership: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (quick) {
		reps = REPS_QUICK;
		min_time = MIN_TIME_QUICK;
		warmup = WARMUP_QUICK;
	}

	if (setup(&ctx)) {
		fprintf(stderr, "bench-ownership: set-up failed\n");
		teardown(&ctx);
		return 2;
	}
	if (mt) {
		pthread_mutex_lock(&idle_gate);
		if (pthread_create(&idle, NULL, idle_thread, NULL)) {
			fprintf(stderr, "bench-ownership: pthread_create failed\n");
			pthread_mutex_unlock(&idle_gate);
			teardown(&ctx);
			return 2;
		}
	}

	for (int c = 0; c < NR_CASES; c++)
		measure(&ctx, c, warmup);
	for (int r = 0; r < reps; r++)
		for (int c = 0; c < NR_CASES; c++)
			samples[c][r] = measure(&ctx, c, min_time);
	for (int c = 0; c < NR_CASES; c++) {
		ns[c] = median(samples[c], reps);
		lo[c] = samples[c][0];
		hi[c] = samples[c][reps - 1];
	}

	if (mt) {
		pthread_mutex_unlock(&idle_gate);
		pthread_join(idle, NULL);
	}

	ok = verify(&ctx, &info);
	warns = machine_warn_count(ctx.m);
	pass = ns[CASE_USE] <= TARGET_RATIO * ns[CASE_MUTEX];

	if (json) {
		printf("{\"benchmark\":\"ownership\",\"version\":\"%s\","
		       "\"quick\":%s,\"threads\":%d,\"reps\":%d,"
		       "\"min_time_s\":%.3f",
		       DMAOWN_VERSION, quick ? "true" : "false", mt ? 2 : 1,
		       reps, min_time);
		for (int c = 0; c < NR_CASES; c++)
			printf(",\"%s_ns\":%.2f,\"%s_min_ns\":%.2f,\"%s_max_ns\":%.2f",
			       case_key[c], ns[c], case_key[c], lo[c],
			       case_key[c], hi[c]);
		printf(",\"ratio_use_unuse\":%.3f,\"ratio_claim_release\":%.3f,"
		       "\"target_ratio\":%.1f,\"target_met\":%s,"
		       "\"owner_cnt\":%u,\"warn_count\":%zu,\"errors\":%lu,"
		       "\"correct\":%s}\n",
		       ns[CASE_USE] / ns[CASE_MUTEX],
		       ns[CASE_CLAIM] / ns[CASE_MUTEX], TARGET_RATIO,
		       pass ? "true" : "false", info.owner_cnt, warns,
		       ctx.errors, ok ? "true" : "false");
	} else {
		printf("bench-ownership (dmaown %s): %d thread%s, median of %d x >=%.3f s, ns per pair\n",
		       DMAOWN_VERSION, mt ? 2 : 1, mt ? "s" : "", reps,
		       min_time);
		printf("%-32s %10s %10s %10s %8s\n", "case", "median", "min",
		       "max", "x(a)");
		for (int c = 0; c < NR_CASES; c++)
			printf("%-32s %10.2f %10.2f %10.2f %8.2f\n",
			       case_label[c], ns[c], lo[c], hi[c],
			       ns[c] / ns[CASE_MUTEX]);
		printf("target: use+unuse <= %.1fx mutex pair: %s (%.2fx)\n",
		       TARGET_RATIO, pass ? "PASS" : "MISS",
		       ns[CASE_USE] / ns[CASE_MUTEX]);
		printf("check: owner_cnt=%u warns=%zu errors=%lu: %s\n",
		       info.owner_cnt, warns, ctx.errors, ok ? "OK" : "FAIL");
	}

	teardown(&ctx);
	return ok ? 0 : 1;
}
