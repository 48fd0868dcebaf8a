// SPDX-License-Identifier: MIT
/*
 * Concurrency tests of the DMA-ownership protocol with real threads. Built
 * normally and run under ThreadSanitizer (suite "threads").
 *
 * Worker threads never call cmocka assertions (they longjmp into the main
 * thread's test): they record failures with TCHECK() and the main thread
 * reports them after the join. A watchdog thread ends the process if a test
 * does not finish in time, so a deadlock fails instead of hanging.
 *
 * Counting outstanding holds from the test side: a thread increments its
 * counter only after its use/claim succeeded and decrements it before it
 * undoes it, so the counted window lies inside the real one. Two windows
 * that the protocol makes exclusive can then never both be counted, and a
 * count read under the group mutex never exceeds the group's owner_cnt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmaown/dmaown.h"
#include "compat/kernel.h"
#include "drivers/base/device.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

#define WATCHDOG_SECONDS 90
#define MAX_THREADS 16

/* ---- failure recording from worker threads ---- */

struct tfail {
	atomic_int count;
	atomic_int first_line;
	const char *first_what; /* written once, by the first_line winner */
};

static void tfail_record(struct tfail *f, int line, const char *what)
{
	int none = 0;

	if (atomic_compare_exchange_strong(&f->first_line, &none, line))
		f->first_what = what;
	atomic_fetch_add(&f->count, 1);
}

#define TCHECK(f, cond)                                       \
	do {                                                  \
		if (!(cond))                                  \
			tfail_record((f), __LINE__, #cond);   \
	} while (0)

/* Main thread, after the join. */
static void assert_no_tfail(struct tfail *f)
{
	int n = atomic_load(&f->count);

	if (n)
		fail_msg("%d check(s) failed in threads; first at line %d: %s",
			 n, atomic_load(&f->first_line), f->first_what);
}

/* ---- watchdog ---- */

/*
 * One watchdog per test, started and stopped by the group's setup and
 * teardown so that it is stopped even when the test body fails (cmocka
 * longjmps out of it). The body names what it is doing.
 */
struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	_Atomic(const char *) what;
	int seconds;
};

static struct watchdog watchdog;

static void *watchdog_fn(void *arg)
{
	struct watchdog *wd = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wd->seconds;
	pthread_mutex_lock(&wd->lock);
	while (!wd->done) {
		if (pthread_cond_timedwait(&wd->cond, &wd->lock, &until) ==
		    ETIMEDOUT && !wd->done) {
			fprintf(stderr,
				"watchdog: %s did not finish in %d s (deadlock?)\n",
				atomic_load(&wd->what), wd->seconds);
			printf("Bail out! watchdog: %s timed out\n",
			       atomic_load(&wd->what));
			fflush(stdout);
			_exit(124);
		}
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

static int watchdog_setup(void **state)
{
	struct watchdog *wd = &watchdog;

	(void)state;
	memset(wd, 0, sizeof(*wd));
	pthread_mutex_init(&wd->lock, NULL);
	pthread_cond_init(&wd->cond, NULL);
	atomic_store(&wd->what, "a thread test");
	wd->seconds = WATCHDOG_SECONDS;
	return pthread_create(&wd->thread, NULL, watchdog_fn, wd) ? -1 : 0;
}

static int watchdog_teardown(void **state)
{
	struct watchdog *wd = &watchdog;

	(void)state;
	pthread_mutex_lock(&wd->lock);
	wd->done = true;
	pthread_cond_signal(&wd->cond);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	pthread_cond_destroy(&wd->cond);
	pthread_mutex_destroy(&wd->lock);
	return 0;
}

static void watchdog_what(const char *what)
{
	atomic_store(&watchdog.what, what);
}

/* ---- helpers ---- */

static struct iommu_device *do_iommu(struct machine *m, const char *name,
				     unsigned int types)
{
	struct iommu_device *iommu = iommu_device_alloc(m, name, types);

	assert_false(IS_ERR_OR_NULL(iommu));
	return iommu;
}

/* Made, described and added; errors as a negative errno. */
static long _do_dev(struct machine *m, const char *name,
		    struct iommu_device *iommu, unsigned int key,
		    struct device **ret_dev)
{
	struct device *dev = device_alloc(m, name, NULL);
	int ret;

	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = device_set_fw_iommu(dev, iommu, key);
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		return ret;
	}
	*ret_dev = dev;
	return 0;
}

static struct device *do_dev(struct machine *m, const char *name,
			     struct iommu_device *iommu, unsigned int key)
{
	struct device *dev = NULL;

	assert_int_equal(_do_dev(m, name, iommu, key, &dev), 0);
	return dev;
}

/* A snapshot of a group taken under its mutex. */
struct gsnap {
	void *owner;
	unsigned int owner_cnt;
	struct iommu_domain *domain, *def, *blk;
	unsigned int ndevs;
	bool members_on_domain; /* every member translates through domain */
};

static void gsnap_locked(struct iommu_group *group, struct gsnap *s)
{
	struct group_device *gdev;

	s->owner = group->owner;
	s->owner_cnt = group->owner_cnt;
	s->domain = group->domain;
	s->def = group->default_domain;
	s->blk = group->blocking_domain;
	s->ndevs = 0;
	s->members_on_domain = true;
	for_each_group_device(group, gdev) {
		s->ndevs++;
		if (gdev->dev->iommu_domain != group->domain)
			s->members_on_domain = false;
	}
}

static void gsnap(struct iommu_group *group, struct gsnap *s)
{
	mutex_lock(&group->mutex);
	gsnap_locked(group, s);
	mutex_unlock(&group->mutex);
}

/* Main thread: the group is back with the kernel, on its default domain. */
static void assert_group_idle(struct iommu_group *group)
{
	struct gsnap s;

	gsnap(group, &s);
	assert_null(s.owner);
	assert_int_equal(s.owner_cnt, 0);
	assert_non_null(s.def);
	assert_ptr_equal(s.domain, s.def);
	assert_true(s.members_on_domain);
}

static void start_threads(pthread_t *t, int n, void *(*fn)(void *),
			  void *args, size_t arg_size)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn,
						(char *)args + i * arg_size),
				 0);
}

static void join_threads(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* ==== 1. kernel users vs a userspace group claim ==== */

#define USE_NDEV 6
#define USE_ITERS 10000
#define QUIESCED_TRIES 2000000

struct use_ctx {
	struct machine *m;
	struct iommu_group *group;
	struct device *devs[USE_NDEV];
	int nworkers;
	pthread_barrier_t start;
	int cookie;

	atomic_int outstanding;  /* test-side count of uses held */
	atomic_bool want_claim;  /* the claimer asks workers to back off */
	atomic_int workers_done;
	atomic_long uses_ok, uses_busy, claims_ok, claims_eperm;
	struct tfail fail;
};

struct use_arg {
	struct use_ctx *c;
	int id;
};

static void *use_worker(void *p)
{
	struct use_arg *a = p;
	struct use_ctx *c = a->c;
	struct gsnap s;
	long tries = 0;
	bool used = false;

	kcompat_set_comm("use-worker");
	pthread_barrier_wait(&c->start);
	/*
	 * USE_ITERS attempts, and on until one use got through: on a loaded
	 * machine the claimer can be preempted while it holds the claim for
	 * as long as a worker takes to fail all its attempts with EBUSY, and
	 * the test is of what happens when they race, not of who wins.
	 */
	for (int done = 0; done < USE_ITERS || !used; tries++) {
		struct device *dev = c->devs[(a->id + done) % USE_NDEV];
		int rc;

		/*
		 * While the claimer asks, mostly stay away, but still try
		 * now and then so uses race with the claim itself.
		 */
		if (atomic_load(&c->want_claim) && (tries % 8)) {
			sched_yield();
			continue;
		}
		done++;
		rc = iommu_device_use_default_domain(dev);
		if (rc) {
			TCHECK(&c->fail, rc == -EBUSY);
			atomic_fetch_add(&c->uses_busy, 1);
			continue;
		}
		atomic_fetch_add(&c->uses_ok, 1);
		used = true;
		gsnap(c->group, &s);
		TCHECK(&c->fail, s.owner == NULL);
		TCHECK(&c->fail, s.owner_cnt >= 1);
		TCHECK(&c->fail, s.owner_cnt <= (unsigned int)c->nworkers);
		TCHECK(&c->fail, s.domain == s.def);
		atomic_fetch_add(&c->outstanding, 1);
		if ((done & 7) == 0)
			sched_yield();
		atomic_fetch_sub(&c->outstanding, 1);
		iommu_device_unuse_default_domain(dev);
	}
	atomic_fetch_add(&c->workers_done, 1);
	return NULL;
}

static void *use_claimer(void *p)
{
	struct use_ctx *c = p;
	struct gsnap s;
	unsigned long round = 0;

	kcompat_set_comm("claimer");
	pthread_barrier_wait(&c->start);
	do {
		/* odd rounds: workers back off; even rounds: free for all */
		bool quiesce = ++round & 1;
		long tries, max = quiesce ? QUIESCED_TRIES : 4;
		int rc = -EPERM;

		if (quiesce)
			atomic_store(&c->want_claim, true);
		for (tries = 0; tries < max; tries++) {
			rc = iommu_group_claim_dma_owner(c->group, &c->cookie);
			if (!rc)
				break;
			TCHECK(&c->fail, rc == -EPERM);
			atomic_fetch_add(&c->claims_eperm, 1);
			sched_yield();
		}
		if (!rc) {
			atomic_fetch_add(&c->claims_ok, 1);
			/* no use can be held while the group is claimed */
			TCHECK(&c->fail, atomic_load(&c->outstanding) == 0);
			mutex_lock(&c->group->mutex);
			gsnap_locked(c->group, &s);
			TCHECK(&c->fail, atomic_load(&c->outstanding) == 0);
			mutex_unlock(&c->group->mutex);
			TCHECK(&c->fail, s.owner_cnt == 1);
			TCHECK(&c->fail, s.owner == &c->cookie);
			TCHECK(&c->fail, s.blk && s.domain == s.blk);
			TCHECK(&c->fail, s.members_on_domain);
			sched_yield();
			TCHECK(&c->fail, atomic_load(&c->outstanding) == 0);
			iommu_group_release_dma_owner(c->group);
		} else {
			TCHECK(&c->fail, !quiesce);
		}
		atomic_store(&c->want_claim, false);
		sched_yield();
	} while (atomic_load(&c->workers_done) < c->nworkers);
	return NULL;
}

static void run_use_vs_claim(int nworkers)
{
	struct use_ctx *c = calloc(1, sizeof(*c));
	struct use_arg args[MAX_THREADS];
	pthread_t t[MAX_THREADS + 1];
	struct iommu_device *iommu;
	char name[32];

	assert_non_null(c);
	assert_true(nworkers < MAX_THREADS);
	watchdog_what("use_vs_claim");
	c->m = machine_create("use-vs-claim", NULL);
	c->nworkers = nworkers;
	iommu = do_iommu(c->m, "smmu0", IOMMU_DOMAIN_BLOCKED);
	for (int i = 0; i < USE_NDEV; i++) {
		snprintf(name, sizeof(name), "0000:00:01.%d", i);
		c->devs[i] = do_dev(c->m, name, iommu, 1);
	}
	assert_int_equal(iommu_device_register(iommu), 0);
	c->group = c->devs[0]->iommu_group;
	assert_non_null(c->group);
	for (int i = 1; i < USE_NDEV; i++)
		assert_ptr_equal(c->devs[i]->iommu_group, c->group);
	assert_group_idle(c->group);

	assert_int_equal(pthread_barrier_init(&c->start, NULL,
					      (unsigned int)nworkers + 1), 0);
	for (int i = 0; i < nworkers; i++)
		args[i] = (struct use_arg){ .c = c, .id = i };
	start_threads(t, nworkers, use_worker, args, sizeof(args[0]));
	assert_int_equal(pthread_create(&t[nworkers], NULL, use_claimer, c),
			 0);
	join_threads(t, nworkers + 1);
	pthread_barrier_destroy(&c->start);

	assert_no_tfail(&c->fail);
	assert_true(atomic_load(&c->uses_ok) + atomic_load(&c->uses_busy) >=
		    (long)nworkers * USE_ITERS);
	assert_true(atomic_load(&c->uses_ok) >= nworkers);
	assert_true(atomic_load(&c->claims_ok) >= 1);
	assert_int_equal(atomic_load(&c->outstanding), 0);
	assert_group_idle(c->group);
	for (int i = 0; i < USE_NDEV; i++)
		assert_ptr_equal(iommu_device_domain(c->devs[i]),
				 c->group->default_domain);
	assert_int_equal(machine_warn_count(c->m), 0);
	/* still a working group */
	assert_int_equal(iommu_group_claim_dma_owner(c->group, &c->cookie), 0);
	assert_int_equal(iommu_device_use_default_domain(c->devs[0]), -EBUSY);
	iommu_group_release_dma_owner(c->group);
	assert_int_equal(iommu_device_use_default_domain(c->devs[0]), 0);
	assert_int_equal(iommu_group_claim_dma_owner(c->group, &c->cookie),
			 -EPERM);
	iommu_device_unuse_default_domain(c->devs[0]);
	assert_group_idle(c->group);
	assert_int_equal(machine_warn_count(c->m), 0);
	print_message("# %d workers: uses %ld ok / %ld busy, claims %ld ok / %ld eperm\n",
		      nworkers, atomic_load(&c->uses_ok),
		      atomic_load(&c->uses_busy), atomic_load(&c->claims_ok),
		      atomic_load(&c->claims_eperm));
	machine_destroy(c->m);
	free(c);
}

static void test_use_vs_claim_2(void **state)
{
	(void)state;
	run_use_vs_claim(2);
}

static void test_use_vs_claim_4(void **state)
{
	(void)state;
	run_use_vs_claim(4);
}

static void test_use_vs_claim_8(void **state)
{
	(void)state;
	run_use_vs_claim(8);
}

/* ==== 2. per-device claims: one cookie shares, others exclude ==== */

#define OWN_CLASSES 3
#define OWN_ITERS 5000
#define OWN_SPIN_MAX 20000000L
#define STARVE_AFTER 32

struct own_ctx {
	struct machine *m;
	struct iommu_group *group;
	pthread_barrier_t start;
	int cookie[OWN_CLASSES];
	int nthreads[OWN_CLASSES];

	atomic_int out[OWN_CLASSES]; /* test-side count of claims held */
	atomic_int starving;         /* a class the others make room for */
	atomic_long ok[OWN_CLASSES], eperm[OWN_CLASSES];
	atomic_uint max_shared;      /* largest owner_cnt seen */
	struct tfail fail;
};

struct own_arg {
	struct own_ctx *c;
	struct device *dev;
	int cls;
};

static void *own_worker(void *p)
{
	struct own_arg *a = p;
	struct own_ctx *c = a->c;
	void *cookie = &c->cookie[a->cls];
	int fails = 0, attempts = 0;
	long spins = 0;
	struct gsnap s;

	pthread_barrier_wait(&c->start);
	while (attempts < OWN_ITERS) {
		int starving = atomic_load(&c->starving);
		int out, rc, none = -1, mine = a->cls;

		if (starving >= 0 && starving != a->cls) {
			if (++spins > OWN_SPIN_MAX) {
				TCHECK(&c->fail, !"starved: gave up");
				break;
			}
			sched_yield();
			continue;
		}
		attempts++;
		rc = iommu_device_claim_dma_owner(a->dev, cookie);
		if (rc) {
			TCHECK(&c->fail, rc == -EPERM);
			atomic_fetch_add(&c->eperm[a->cls], 1);
			if (++fails > STARVE_AFTER)
				atomic_compare_exchange_strong(&c->starving,
							       &none, a->cls);
			sched_yield();
			continue;
		}
		fails = 0;
		atomic_fetch_add(&c->ok[a->cls], 1);
		atomic_compare_exchange_strong(&c->starving, &mine, -1);

		mutex_lock(&c->group->mutex);
		gsnap_locked(c->group, &s);
		out = atomic_load(&c->out[a->cls]);
		mutex_unlock(&c->group->mutex);
		TCHECK(&c->fail, s.owner == cookie);
		TCHECK(&c->fail, s.owner_cnt >= 1);
		TCHECK(&c->fail,
		       s.owner_cnt <= (unsigned int)c->nthreads[a->cls]);
		TCHECK(&c->fail, out >= 0 && (unsigned int)out < s.owner_cnt);
		TCHECK(&c->fail, s.blk && s.domain == s.blk);
		TCHECK(&c->fail, s.members_on_domain);
		for (unsigned int m = atomic_load(&c->max_shared);
		     s.owner_cnt > m &&
		     !atomic_compare_exchange_weak(&c->max_shared, &m,
						   s.owner_cnt);)
			;

		atomic_fetch_add(&c->out[a->cls], 1);
		for (int k = 0; k < OWN_CLASSES; k++)
			if (k != a->cls)
				TCHECK(&c->fail, atomic_load(&c->out[k]) == 0);
		sched_yield();
		for (int k = 0; k < OWN_CLASSES; k++)
			if (k != a->cls)
				TCHECK(&c->fail, atomic_load(&c->out[k]) == 0);
		atomic_fetch_sub(&c->out[a->cls], 1);
		iommu_device_release_dma_owner(a->dev);
	}
	{
		int mine = a->cls;

		atomic_compare_exchange_strong(&c->starving, &mine, -1);
	}
	return NULL;
}

static void test_device_claim_sharing(void **state)
{
	/* three threads share cookie 0, two cookie 1, one cookie 2 */
	static const int cls_of[] = { 0, 0, 0, 1, 1, 2 };
	const int n = (int)(sizeof(cls_of) / sizeof(cls_of[0]));
	struct own_ctx *c = calloc(1, sizeof(*c));
	struct own_arg args[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	struct iommu_device *iommu;
	struct device *devs[MAX_THREADS];
	char name[32];

	(void)state;
	assert_non_null(c);
	watchdog_what("device_claim_sharing");
	c->m = machine_create("sharing", NULL);
	atomic_init(&c->starving, -1);
	iommu = do_iommu(c->m, "smmu0", IOMMU_DOMAIN_BLOCKED);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "0000:00:02.%d", i);
		devs[i] = do_dev(c->m, name, iommu, 2);
		c->nthreads[cls_of[i]]++;
	}
	assert_int_equal(iommu_device_register(iommu), 0);
	c->group = devs[0]->iommu_group;
	for (int i = 0; i < n; i++)
		assert_ptr_equal(devs[i]->iommu_group, c->group);

	assert_int_equal(pthread_barrier_init(&c->start, NULL,
					      (unsigned int)n), 0);
	for (int i = 0; i < n; i++)
		args[i] = (struct own_arg){ .c = c, .dev = devs[i],
					    .cls = cls_of[i] };
	start_threads(t, n, own_worker, args, sizeof(args[0]));
	join_threads(t, n);
	pthread_barrier_destroy(&c->start);

	assert_no_tfail(&c->fail);
	for (int k = 0; k < OWN_CLASSES; k++) {
		assert_int_equal(atomic_load(&c->out[k]), 0);
		assert_true(atomic_load(&c->ok[k]) >= 1);
		assert_int_equal(atomic_load(&c->ok[k]) +
					 atomic_load(&c->eperm[k]),
				 (long)c->nthreads[k] * OWN_ITERS);
	}
	assert_true(atomic_load(&c->max_shared) <= 3);
	assert_group_idle(c->group);
	assert_int_equal(machine_warn_count(c->m), 0);
	print_message("# claims ok %ld/%ld/%ld, eperm %ld/%ld/%ld, most shared %u\n",
		      atomic_load(&c->ok[0]), atomic_load(&c->ok[1]),
		      atomic_load(&c->ok[2]), atomic_load(&c->eperm[0]),
		      atomic_load(&c->eperm[1]), atomic_load(&c->eperm[2]),
		      atomic_load(&c->max_shared));
	machine_destroy(c->m);
	free(c);
}

/* ==== 3. devices joining a group while it is claimed and released ==== */

#define PROBERS 3
#define PROBE_DEVS 240
#define SHARED_KEY 5

struct probe_ctx {
	struct machine *m;
	struct iommu_device *iommu;
	struct iommu_group *group;
	pthread_barrier_t start;
	int cookie;
	atomic_int probers_done;
	atomic_long claims_ok, joined_claimed, joined_unclaimed;
	struct device *kept[PROBERS][PROBE_DEVS];
	struct tfail fail;
};

struct probe_arg {
	struct probe_ctx *c;
	int id;
};

static void *prober(void *p)
{
	struct probe_arg *a = p;
	struct probe_ctx *c = a->c;
	char name[32];

	pthread_barrier_wait(&c->start);
	for (int i = 0; i < PROBE_DEVS; i++) {
		/* every fourth device gets a group of its own */
		bool own = (i % 4) == 3;
		struct device *dev = NULL;
		struct iommu_group *group;
		struct gsnap s;
		long rc;

		snprintf(name, sizeof(name), "p%d-%d", a->id, i);
		rc = _do_dev(c->m, name, c->iommu, own ? 0 : SHARED_KEY, &dev);
		TCHECK(&c->fail, rc == 0);
		if (rc)
			continue;
		rc = iommu_probe_device(dev);
		TCHECK(&c->fail, rc == 0);
		group = dev->iommu_group;
		TCHECK(&c->fail, group != NULL);
		if (!group)
			continue;
		TCHECK(&c->fail, own ? group != c->group : group == c->group);
		mutex_lock(&group->mutex);
		gsnap_locked(group, &s);
		TCHECK(&c->fail, dev->iommu_domain == group->domain);
		mutex_unlock(&group->mutex);
		TCHECK(&c->fail, s.domain != NULL);
		TCHECK(&c->fail, s.members_on_domain);
		if (s.owner)
			atomic_fetch_add(&c->joined_claimed, 1);
		else
			atomic_fetch_add(&c->joined_unclaimed, 1);
		/* every third device goes again, claimed or not */
		if (i % 3 == 2) {
			device_del(dev);
			TCHECK(&c->fail, dev->iommu_group == NULL);
			TCHECK(&c->fail, dev->iommu_domain == NULL);
			put_device(dev);
		} else {
			c->kept[a->id][i] = dev;
		}
		sched_yield();
	}
	atomic_fetch_add(&c->probers_done, 1);
	return NULL;
}

static void *probe_claimer(void *p)
{
	struct probe_ctx *c = p;
	struct gsnap s;

	pthread_barrier_wait(&c->start);
	do {
		int rc = iommu_group_claim_dma_owner(c->group, &c->cookie);

		/* nobody else uses the group: a claim always succeeds */
		TCHECK(&c->fail, rc == 0);
		if (rc)
			break;
		atomic_fetch_add(&c->claims_ok, 1);
		gsnap(c->group, &s);
		TCHECK(&c->fail, s.owner == &c->cookie && s.owner_cnt == 1);
		TCHECK(&c->fail, s.blk && s.domain == s.blk);
		TCHECK(&c->fail, s.members_on_domain);
		sched_yield();
		gsnap(c->group, &s);
		TCHECK(&c->fail, s.domain == s.blk && s.members_on_domain);
		iommu_group_release_dma_owner(c->group);
		gsnap(c->group, &s);
		TCHECK(&c->fail, s.owner == NULL && s.owner_cnt == 0);
		TCHECK(&c->fail, s.domain == s.def && s.members_on_domain);
		sched_yield();
	} while (atomic_load(&c->probers_done) < PROBERS);
	return NULL;
}

static void test_probe_vs_claim(void **state)
{
	struct probe_ctx *c = calloc(1, sizeof(*c));
	struct probe_arg args[PROBERS];
	pthread_t t[PROBERS + 1];
	struct iommu_group *group;
	struct device *base;
	unsigned int shared = 1, groups = 0;
	int last_id = -1;

	(void)state;
	assert_non_null(c);
	watchdog_what("probe_vs_claim");
	c->m = machine_create("probe-vs-claim", NULL);
	c->iommu = do_iommu(c->m, "smmu0", IOMMU_DOMAIN_BLOCKED);
	assert_int_equal(iommu_device_register(c->iommu), 0);
	base = do_dev(c->m, "base", c->iommu, SHARED_KEY);
	assert_int_equal(iommu_probe_device(base), 0);
	c->group = base->iommu_group;
	assert_non_null(c->group);

	assert_int_equal(pthread_barrier_init(&c->start, NULL, PROBERS + 1),
			 0);
	for (int i = 0; i < PROBERS; i++)
		args[i] = (struct probe_arg){ .c = c, .id = i };
	start_threads(t, PROBERS, prober, args, sizeof(args[0]));
	assert_int_equal(pthread_create(&t[PROBERS], NULL, probe_claimer, c),
			 0);
	join_threads(t, PROBERS + 1);
	pthread_barrier_destroy(&c->start);

	assert_no_tfail(&c->fail);
	assert_true(atomic_load(&c->claims_ok) >= 1);
	assert_group_idle(c->group);
	assert_ptr_equal(iommu_device_domain(base), c->group->default_domain);
	for (int i = 0; i < PROBERS; i++) {
		for (int j = 0; j < PROBE_DEVS; j++) {
			struct device *dev = c->kept[i][j];

			if (!dev)
				continue;
			group = dev->iommu_group;
			assert_non_null(group);
			assert_ptr_equal(dev->iommu_domain, group->domain);
			assert_group_idle(group);
			if (group == c->group)
				shared++;
		}
	}
	assert_int_equal(list_count_nodes(&c->group->devices), shared);
	/* group ids stay unique and sorted under concurrent allocation */
	list_for_each_entry(group, &c->m->groups, node) {
		assert_true(group->id > last_id);
		last_id = group->id;
		groups++;
	}
	assert_int_equal(groups, 1 + (PROBERS * PROBE_DEVS / 4) -
				    (PROBERS * PROBE_DEVS / 12));
	assert_int_equal(machine_warn_count(c->m), 0);
	print_message("# claims %ld, devices joined a claimed group %ld, an unclaimed one %ld\n",
		      atomic_load(&c->claims_ok),
		      atomic_load(&c->joined_claimed),
		      atomic_load(&c->joined_unclaimed));
	machine_destroy(c->m);
	free(c);
}

/* ==== 4. many machines in parallel ==== */

#define PAR_THREADS 6
#define PAR_ROUNDS 50

struct par_ctx {
	const struct machine *ref; /* read-only while the threads run */
	uint64_t ref_hash;
	pthread_barrier_t start;
	struct tfail fail;
};

struct par_arg {
	struct par_ctx *c;
	int id;
};

/*
 * One machine's life. @f may be NULL on the main thread (then it
 * asserts through cmocka). Returns the machine, quiescent.
 */
static struct machine *par_scenario(struct tfail *f, const char *comm)
{
	struct tfail local = { 0 };
	struct machine *m = machine_create("par", NULL);
	struct iommu_device *iommu;
	struct device *a = NULL, *b = NULL, *c = NULL;
	struct iommu_domain *dom;
	int cookie;

	if (!f)
		f = &local;
	TCHECK(f, m != NULL);
	if (!m)
		return NULL;
	kcompat_set_comm(comm);
	iommu = iommu_device_alloc(m, "smmu0", IOMMU_DOMAIN_BLOCKED);
	TCHECK(f, !IS_ERR(iommu));
	TCHECK(f, _do_dev(m, "0000:00:01.0", iommu, 1, &a) == 0);
	TCHECK(f, _do_dev(m, "0000:00:01.1", iommu, 1, &b) == 0);
	TCHECK(f, _do_dev(m, "0000:00:02.0", iommu, 0, &c) == 0);
	TCHECK(f, iommu_device_register(iommu) == 0);
	if (!a || !b || !c || !a->iommu_group || !c->iommu_group)
		goto out;

	TCHECK(f, iommu_device_use_default_domain(a) == 0);
	TCHECK(f, iommu_group_claim_dma_owner(a->iommu_group, &cookie) ==
		  -EPERM);
	TCHECK(f, iommu_device_claim_dma_owner(b, &cookie) == -EPERM);
	iommu_device_unuse_default_domain(a);
	TCHECK(f, iommu_group_claim_dma_owner(a->iommu_group, &cookie) == 0);
	TCHECK(f, iommu_device_use_default_domain(b) == -EBUSY);
	iommu_group_release_dma_owner(a->iommu_group);

	TCHECK(f, iommu_device_claim_dma_owner(c, &cookie) == 0);
	dom = iommu_paging_domain_alloc(c);
	TCHECK(f, !IS_ERR(dom));
	if (!IS_ERR(dom)) {
		TCHECK(f, iommu_attach_device(dom, c) == 0);
		iommu_detach_device(dom, c);
		iommu_domain_free(dom);
	}
	iommu_device_release_dma_owner(c);

	/* a WARN carries this thread's comm and call trace */
	iommu_device_unuse_default_domain(b);
	TCHECK(f, machine_warn_count(m) == 1);
	if (machine_warn(m, 0)) {
		const struct warn_report *w = machine_warn(m, 0);

		TCHECK(f, !strcmp(w->comm, comm));
		TCHECK(f, w->ntrace == 1);
		TCHECK(f, w->ntrace == 1 &&
			  !strcmp(w->trace[0],
				  "iommu_device_unuse_default_domain"));
	}
	TCHECK(f, kcompat_stack.depth == 0);

	/* fault injection is per machine */
	machine_set_fail_nth(m, 1);
	{
		struct device *x = device_alloc(m, "0000:00:03.0", NULL);

		TCHECK(f, x == ERR_PTR(-ENOMEM));
	}
	TCHECK(f, machine_fault_fired(m));
	machine_set_fail_nth(m, 0);
out:
	if (f == &local)
		assert_no_tfail(&local);
	return m;
}

static void *par_worker(void *p)
{
	struct par_arg *a = p;
	struct par_ctx *c = a->c;
	char comm[16];

	snprintf(comm, sizeof(comm), "par-%d", a->id);
	pthread_barrier_wait(&c->start);
	for (int r = 0; r < PAR_ROUNDS; r++) {
		struct machine *m = par_scenario(&c->fail, comm);
		struct machine *n;

		if (!m)
			continue;
		TCHECK(&c->fail, machine_hash(m) == c->ref_hash);
		TCHECK(&c->fail, machine_equal(m, c->ref));
		/* same inputs, same log, same virtual timestamps */
		TCHECK(&c->fail,
		       machine_log_count(m) == machine_log_count(c->ref));
		for (size_t i = 0; i < machine_log_count(m) &&
				   i < machine_log_count(c->ref); i++) {
			const struct klog_entry *x = machine_log_entry(m, i);
			const struct klog_entry *y =
				machine_log_entry(c->ref, i);

			TCHECK(&c->fail, x->ts_ns == y->ts_ns);
			TCHECK(&c->fail, x->level == y->level);
			TCHECK(&c->fail, !strcmp(x->text, y->text));
		}
		n = machine_clone(m);
		TCHECK(&c->fail, n != NULL);
		machine_destroy(m);
		if (n) {
			TCHECK(&c->fail, machine_hash(n) == c->ref_hash);
			machine_destroy(n);
		}
	}
	return NULL;
}

static void test_parallel_machines(void **state)
{
	struct par_ctx *c = calloc(1, sizeof(*c));
	struct par_arg args[PAR_THREADS];
	pthread_t t[PAR_THREADS];
	struct machine *ref;

	(void)state;
	assert_non_null(c);
	watchdog_what("parallel_machines");
	ref = par_scenario(NULL, "main");
	assert_non_null(ref);
	assert_string_equal(machine_warn(ref, 0)->comm, "main");
	c->ref = ref;
	c->ref_hash = machine_hash(ref);
	assert_int_not_equal(c->ref_hash, 0);

	assert_int_equal(pthread_barrier_init(&c->start, NULL, PAR_THREADS),
			 0);
	for (int i = 0; i < PAR_THREADS; i++)
		args[i] = (struct par_arg){ .c = c, .id = i };
	start_threads(t, PAR_THREADS, par_worker, args, sizeof(args[0]));
	join_threads(t, PAR_THREADS);
	pthread_barrier_destroy(&c->start);

	assert_no_tfail(&c->fail);
	/* the threads' comms and faults did not leak into this thread */
	assert_string_equal(kcompat_stack.comm, "main");
	assert_int_equal(kcompat_stack.depth, 0);
	assert_int_equal(machine_hash(ref), c->ref_hash);
	kcompat_set_comm("");
	machine_destroy(ref);
	free(c);
}

#define THREAD_TEST(f) \
	cmocka_unit_test_setup_teardown(f, watchdog_setup, watchdog_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		THREAD_TEST(test_use_vs_claim_2),
		THREAD_TEST(test_use_vs_claim_4),
		THREAD_TEST(test_use_vs_claim_8),
		THREAD_TEST(test_device_claim_sharing),
		THREAD_TEST(test_probe_vs_claim),
		THREAD_TEST(test_parallel_machines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
