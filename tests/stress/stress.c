// SPDX-License-Identifier: MIT
/*
 * Thread stress: N threads on one booted machine doing what users and VMMs
 * do at the same time (sysfs bind, unbind, driver_override, drivers_probe,
 * remove, rescan and reads; vfio cdev open, iommufd bind, IOAS attach and
 * detach, close; a VMM assigning and releasing groups; lspci, ls and cat
 * over sysfs; every action of the checker, module loads and unloads and
 * probe faults among them, through a shell session of each thread's own),
 * with the invariants checked at quiescent points. Run normally and under
 * ThreadSanitizer (suite "threads"); TAP output. The machine must have PCI
 * devices.
 *
 * Every PHASE_OPS operations (all threads together) the threads meet at a
 * barrier; one of them checks I1..I4 (and I6 every TEARDOWN_EVERY-th time)
 * on the quiescent machine (machine_check_invariants() and check_actions()
 * need one) and refreshes the list of the checker's actions, then all go
 * on; at the end every invariant is checked once more. A watchdog thread
 * fails the run (exit 1, with what each thread was doing) when no
 * operation completes for --stall seconds: a deadlock fails instead of
 * hanging.
 *
 * usage: test-stress [--seconds S] [--threads N] [--machine M]
 *                    [--seed S] [--stall S]
 * Default: 2, 4, 8 and 16 threads on vfio-host and x86-desktop, for
 * DMAOWN_STRESS_SECONDS (default 1) seconds each.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"

#define MAX_THREADS 16
#define MAX_DEVS 64
#define MAX_DRVS 64
#define PHASE_OPS 512          /* operations between checks, all threads */
#define TEARDOWN_EVERY 8       /* quiescent points between I6 checks */
#define DEFAULT_SECONDS 1.0
#define DEFAULT_STALL 30

enum op {
	OP_BIND,
	OP_UNBIND,
	OP_OVERRIDE_SET,
	OP_OVERRIDE_CLEAR,
	OP_DRIVERS_PROBE,
	OP_CDEV_OPEN,
	OP_BIND_IOMMUFD,
	OP_ATTACH_IOAS,
	OP_DETACH_IOAS,
	OP_DEVICE_CLOSE,
	OP_VMM_ASSIGN,
	OP_VMM_RELEASE,
	OP_SYSFS_READ,
	OP_SCRIPT,
	OP_TO_VFIO,
	OP_TO_HOST,
	OP_CDEV_CHAIN,
	OP_SCRIPT_READ,
	OP_REMOVE,
	OP_RESCAN,
	OP_PROC_CHAIN,
	OP_PROC_CLOSE,
	OP_PROC_EXIT,
	OP_MAX_,
};

static const char *const op_names[OP_MAX_] = {
	[OP_BIND] = "bind",
	[OP_UNBIND] = "unbind",
	[OP_OVERRIDE_SET] = "override-set",
	[OP_OVERRIDE_CLEAR] = "override-clear",
	[OP_DRIVERS_PROBE] = "drivers_probe",
	[OP_CDEV_OPEN] = "cdev-open",
	[OP_BIND_IOMMUFD] = "bind-iommufd",
	[OP_ATTACH_IOAS] = "attach-ioas",
	[OP_DETACH_IOAS] = "detach-ioas",
	[OP_DEVICE_CLOSE] = "device-close",
	[OP_VMM_ASSIGN] = "vmm-assign",
	[OP_VMM_RELEASE] = "vmm-release",
	[OP_SYSFS_READ] = "sysfs-read",
	[OP_SCRIPT] = "script-line",
	[OP_TO_VFIO] = "to-vfio",
	[OP_TO_HOST] = "to-host",
	[OP_CDEV_CHAIN] = "cdev-chain",
	[OP_SCRIPT_READ] = "script-read",
	[OP_REMOVE] = "remove",
	[OP_RESCAN] = "rescan",
	[OP_PROC_CHAIN] = "proc-chain",
	[OP_PROC_CLOSE] = "proc-close",
	[OP_PROC_EXIT] = "proc-exit",
};

/* What users run to look, while others bind and assign. */
static const char *const read_lines[] = {
	"lspci -k",
	"lspci -nn -D",
	"ls -l /sys/kernel/iommu_groups/*/devices",
	"cat /sys/bus/pci/devices/*/driver_override",
	"readlink /sys/bus/pci/devices/*/driver",
	"ls /dev/vfio",
	"cat /sys/kernel/iommu_groups/*/type",
};

#define NREAD_LINES (sizeof(read_lines) / sizeof(read_lines[0]))

/* How often each operation comes up; the shell's globs are slow. */
static const unsigned int op_weight[OP_MAX_] = {
	[OP_BIND] = 4,
	[OP_UNBIND] = 4,
	[OP_OVERRIDE_SET] = 4,
	[OP_OVERRIDE_CLEAR] = 4,
	[OP_DRIVERS_PROBE] = 4,
	[OP_CDEV_OPEN] = 4,
	[OP_BIND_IOMMUFD] = 4,
	[OP_ATTACH_IOAS] = 4,
	[OP_DETACH_IOAS] = 4,
	[OP_DEVICE_CLOSE] = 4,
	[OP_VMM_ASSIGN] = 4,
	[OP_VMM_RELEASE] = 4,
	[OP_SYSFS_READ] = 4,
	[OP_SCRIPT] = 4,
	[OP_TO_VFIO] = 4,
	[OP_TO_HOST] = 4,
	[OP_CDEV_CHAIN] = 4,
	[OP_SCRIPT_READ] = 1,
	[OP_REMOVE] = 1,
	[OP_RESCAN] = 2,
	[OP_PROC_CHAIN] = 4,
	[OP_PROC_CLOSE] = 4,
	[OP_PROC_EXIT] = 1,
};

struct run;

struct worker {
	struct run *r;
	int id;
	pthread_t thread;
	uint64_t rng;
	struct script_ctx *ctx;
	_Atomic(const char *) doing;   /* for the watchdog's report */
	_Atomic(const char *) dev;
	unsigned long ok[OP_MAX_], failed[OP_MAX_];
};

struct run {
	struct machine *m;
	const char *machine;
	int nthreads;
	int phase_ops;                 /* per thread between checks */
	double seconds;
	double t0;
	int ictx[2];
	unsigned int ioas[2];

	char *devs[MAX_DEVS];          /* PCI endpoints */
	int ndevs;
	char *drvs[MAX_DRVS];          /* PCI drivers loaded at boot */
	int ndrvs;

	/* the checker's actions of the last quiescent state (filtered) */
	char **actions;
	size_t nactions;

	pthread_barrier_t arrive, leave;
	atomic_bool stop;
	unsigned long checks;          /* quiescent checks, by the leader */
	unsigned int violated;
	char why[512];
	atomic_ulong progress;         /* operations and checks done */
	bool hang;                     /* --selftest-hang: thread 0 stops */
	struct worker w[MAX_THREADS];
};

/* ---- small helpers ---- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned int rnd(struct worker *w, unsigned int n)
{
	return (unsigned int)(rng_next(&w->rng) % n);
}

static enum op pick_op(struct worker *w)
{
	unsigned int total = 0, x;
	int k;

	for (k = 0; k < OP_MAX_; k++)
		total += op_weight[k];
	x = rnd(w, total);
	for (k = 0; x >= op_weight[k]; k++)
		x -= op_weight[k];
	return (enum op)k;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The checker's actions a stress thread may take: all of them. */
static bool action_wanted(const char *line)
{
	(void)line;
	return true;
}

/* Quiescent: refresh r->actions from check_actions(). */
static int refresh_actions(struct run *r)
{
	struct check_opts o = { .nshards = 1, .probe_faults = true };
	char **v;
	size_t n, k = 0;

	if (check_actions(r->m, &o, &v, &n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (action_wanted(v[i]))
			v[k++] = v[i];
		else
			free(v[i]);
	}
	free_lines(r->actions, r->nactions);
	r->actions = v;
	r->nactions = k;
	return 0;
}

/* ---- one operation ---- */

static int write_str(struct machine *m, const char *path, const char *s)
{
	return sysfs_write(m, path, s, strlen(s));
}

/*
 * A VMM of its own per worker, process "wN": an iommufd at descriptor 3
 * (opened on first use), cdev files it binds and attaches, descriptors it
 * closes, and now and then an exit that closes them all while other
 * workers unbind, remove and rescan the devices under it.
 */
static int do_proc_op(struct worker *w, enum op op, const char *dev)
{
	struct machine *m = w->r->m;
	struct process *p;
	unsigned int ioas;
	char name[16];
	int fd, ret;

	snprintf(name, sizeof(name), "w%d", w->id);
	p = machine_process(m, name);
	if (!p)
		return -ENOMEM;
	switch (op) {
	case OP_PROC_EXIT:
		process_exit(p);
		return 0;
	case OP_PROC_CLOSE:
		return process_close(p, 4 + (int)rnd(w, 8));
	default:
		break;
	}
	if (iommufd_ioctl_ioas_alloc(p, 3, &ioas) == -EBADF) {
		fd = iommufd_fd_open(p);
		if (fd < 0)
			return fd;
		if (fd != 3)
			return process_close(p, fd) ? -EIO : -EBADF;
		ret = iommufd_ioctl_ioas_alloc(p, 3, &ioas);
		if (ret)
			return ret;
	}
	fd = vfio_cdev_fd_open(p, dev);
	if (fd < 0)
		return fd;
	ret = vfio_ioctl_bind_iommufd(p, fd, 3);
	if (!ret)
		ret = vfio_ioctl_attach_ioas(p, fd, 1);
	return ret;
}

static int do_op(struct worker *w, enum op op)
{
	struct run *r = w->r;
	struct machine *m = r->m;
	const char *dev = r->devs[rnd(w, (unsigned int)r->ndevs)];
	char path[512], *s = NULL;
	int ret = 0, container;

	atomic_store_explicit(&w->dev, dev, memory_order_relaxed);
	switch (op) {
	case OP_BIND:
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
			 r->drvs[rnd(w, (unsigned int)r->ndrvs)]);
		ret = write_str(m, path, dev);
		break;
	case OP_UNBIND:
		/* the driver the device has now, as a user would look it up */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
			 dev);
		ret = sysfs_realpath(m, path, &s);
		if (!ret) {
			snprintf(path, sizeof(path), "%s/unbind", s);
			free(s);
			ret = write_str(m, path, dev);
		}
		break;
	case OP_OVERRIDE_SET:
	case OP_OVERRIDE_CLEAR:
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", dev);
		ret = write_str(m, path,
				op == OP_OVERRIDE_SET ? "vfio-pci\n" : "\n");
		break;
	case OP_DRIVERS_PROBE:
		ret = write_str(m, "/sys/bus/pci/drivers_probe", dev);
		break;
	case OP_CDEV_OPEN:
		ret = vfio_device_cdev_open(m, dev);
		break;
	case OP_BIND_IOMMUFD:
		ret = vfio_device_bind_iommufd(m, dev, r->ictx[rnd(w, 2)]);
		break;
	case OP_ATTACH_IOAS:
		ret = vfio_device_attach_ioas(m, dev, r->ioas[rnd(w, 2)]);
		break;
	case OP_DETACH_IOAS:
		ret = vfio_device_detach_ioas(m, dev);
		break;
	case OP_DEVICE_CLOSE:
		ret = vfio_device_close(m, dev);
		break;
	case OP_VMM_ASSIGN:
		ret = vmm_assign_device(m, dev, &container, NULL, 0);
		break;
	case OP_VMM_RELEASE:
		ret = vmm_release_device(m, dev, -1);
		break;
	case OP_SYSFS_READ: {
		char **names;
		size_t n;

		switch (rnd(w, 4)) {
		case 0:
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/driver_override", dev);
			ret = sysfs_read(m, path, &s);
			break;
		case 1:
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/iommu_group", dev);
			ret = sysfs_readlink(m, path, &s);
			break;
		case 2:
			ret = sysfs_list(m, "/dev/vfio", &names, &n);
			if (!ret)
				sysfs_list_free(names, n);
			break;
		default:
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/iommu_group/type", dev);
			ret = sysfs_read(m, path, &s);
			break;
		}
		free(s);
		break;
	}
	case OP_SCRIPT: {
		struct script_result res;

		if (!r->nactions)
			return 0;
		ret = script_exec_line(w->ctx,
				       r->actions[rnd(w, (unsigned int)r->nactions)],
				       1, &res);
		if (!ret && res.status)
			ret = res.ret ? res.ret : -1;
		script_result_free(&res);
		break;
	}
	case OP_TO_VFIO:
	case OP_TO_HOST:
		/* the usual way to hand a device to vfio-pci, and back */
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", dev);
		ret = write_str(m, path, op == OP_TO_VFIO ? "vfio-pci" : "\n");
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
			 dev);
		if (!ret && !sysfs_realpath(m, path, &s)) {
			snprintf(path, sizeof(path), "%s/unbind", s);
			free(s);
			write_str(m, path, dev);
		}
		if (!ret)
			ret = write_str(m, "/sys/bus/pci/drivers_probe", dev);
		break;
	case OP_REMOVE:
		/* hot-unplug through sysfs; a rescan brings it back */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
			 dev);
		ret = write_str(m, path, "1");
		break;
	case OP_RESCAN:
		ret = write_str(m, "/sys/bus/pci/rescan", "1");
		break;
	case OP_SCRIPT_READ: {
		struct script_result res;

		ret = script_exec_line(w->ctx,
				       read_lines[rnd(w, NREAD_LINES)], 1, &res);
		if (!ret && res.status)
			ret = res.ret ? res.ret : -1;
		script_result_free(&res);
		break;
	}
	case OP_PROC_CHAIN:
	case OP_PROC_CLOSE:
	case OP_PROC_EXIT:
		ret = do_proc_op(w, op, dev);
		break;
	case OP_CDEV_CHAIN:
		/* what an iommufd VMM does, as the checker's action */
		ret = vfio_device_cdev_open(m, dev);
		if (!ret)
			ret = vfio_device_bind_iommufd(m, dev,
						       r->ictx[rnd(w, 2)]);
		if (!ret)
			ret = vfio_device_attach_ioas(m, dev,
						      r->ioas[rnd(w, 2)]);
		break;
	default:
		break;
	}
	return ret;
}

/* ---- quiescent points ---- */

/* The leader, with every other thread at the barrier. */
static void quiescent_check(struct run *r)
{
	unsigned int which = INV_ALL & ~INV_FAILED_NOOP, bad;

	/* I6 clones and tears down: every TEARDOWN_EVERY-th point */
	if (r->checks++ % TEARDOWN_EVERY)
		which &= ~INV_TEARDOWN;
	if (!r->violated) {
		bad = machine_check_invariants(r->m, which, r->why,
					       sizeof(r->why));
		if (bad)
			r->violated = bad & -bad;
	}
	if (refresh_actions(r))
		r->violated = r->violated ? r->violated : INV_ALL;
	if (r->violated || now_seconds() - r->t0 >= r->seconds)
		atomic_store(&r->stop, true);
	atomic_fetch_add(&r->progress, 1);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	char comm[16];

	snprintf(comm, sizeof(comm), "stress-%d", w->id);
	kcompat_set_comm(comm);
	/* the watchdog's own test: one thread never reaches the barrier */
	if (r->hang && w->id == 0) {
		atomic_store(&w->doing, "hanging (--selftest-hang)");
		for (;;)
			pause();
	}
	for (;;) {
		for (int i = 0; i < r->phase_ops; i++) {
			enum op op = pick_op(w);

			atomic_store_explicit(&w->doing, op_names[op],
					      memory_order_relaxed);
			if (do_op(w, op))
				w->failed[op]++;
			else
				w->ok[op]++;
			atomic_fetch_add_explicit(&r->progress, 1,
						  memory_order_relaxed);
		}
		atomic_store_explicit(&w->doing, "at the barrier",
				      memory_order_relaxed);
		if (pthread_barrier_wait(&r->arrive) ==
		    PTHREAD_BARRIER_SERIAL_THREAD)
			quiescent_check(r);
		pthread_barrier_wait(&r->leave);
		if (atomic_load(&r->stop))
			return NULL;
	}
}

/* ---- the watchdog ---- */

struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	struct run *r;
	int stall;
};

static void *watchdog_fn(void *arg)
{
	struct watchdog *wd = arg;
	unsigned long last = (unsigned long)-1;
	double since = now_seconds();

	pthread_mutex_lock(&wd->lock);
	while (!wd->done) {
		struct timespec until;
		unsigned long p;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&wd->cond, &wd->lock, &until);
		if (wd->done)
			break;
		p = atomic_load(&wd->r->progress);
		if (p != last) {
			last = p;
			since = now_seconds();
			continue;
		}
		if (now_seconds() - since < wd->stall)
			continue;
		printf("Bail out! watchdog: %s, %d threads: no progress for %d s (deadlock?)\n",
		       wd->r->machine, wd->r->nthreads, wd->stall);
		for (int i = 0; i < wd->r->nthreads; i++)
			printf("# thread %d: %s %s\n", i,
			       atomic_load(&wd->r->w[i].doing),
			       atomic_load(&wd->r->w[i].dev));
		fflush(stdout);
		_exit(1);
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

static int watchdog_start(struct watchdog *wd, struct run *r, int stall)
{
	memset(wd, 0, sizeof(*wd));
	wd->r = r;
	wd->stall = stall;
	pthread_mutex_init(&wd->lock, NULL);
	pthread_cond_init(&wd->cond, NULL);
	return pthread_create(&wd->thread, NULL, watchdog_fn, wd);
}

static void watchdog_stop(struct watchdog *wd)
{
	pthread_mutex_lock(&wd->lock);
	wd->done = true;
	pthread_cond_signal(&wd->cond);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	pthread_cond_destroy(&wd->cond);
	pthread_mutex_destroy(&wd->lock);
}

/* ---- one run: a machine, N threads ---- */

static void run_free(struct run *r)
{
	for (int i = 0; i < r->ndevs; i++)
		free(r->devs[i]);
	for (int i = 0; i < r->ndrvs; i++)
		free(r->drvs[i]);
	for (int i = 0; i < MAX_THREADS; i++)
		script_ctx_free(r->w[i].ctx);
	free_lines(r->actions, r->nactions);
	machine_destroy(r->m);
}

/* Boot, open the two iommufd users, list the devices and drivers. */
static int run_setup(struct run *r)
{
	struct topo_error err;
	char **names;
	size_t n;

	r->m = builtin_machine_load(r->machine, &err);
	if (!r->m) {
		printf("# %s: %s\n", r->machine, err.msg);
		return -EINVAL;
	}
	/* modprobe vfio-pci where the machine does not load it at boot */
	if (!machine_find_driver(r->m, "vfio-pci") &&
	    driver_load(r->m, "vfio-pci"))
		return -ENOMEM;
	for (int i = 0; i < 2; i++)
		if (iommufd_open(r->m, &r->ictx[i]) ||
		    iommufd_ioas_alloc(r->m, r->ictx[i], &r->ioas[i]))
			return -ENOMEM;
	if (sysfs_list(r->m, "/sys/bus/pci/devices", &names, &n))
		return -ENOMEM;
	for (size_t i = 0; i < n && r->ndevs < MAX_DEVS; i++)
		r->devs[r->ndevs++] = strdup(names[i]);
	sysfs_list_free(names, n);
	if (sysfs_list(r->m, "/sys/bus/pci/drivers", &names, &n))
		return -ENOMEM;
	for (size_t i = 0; i < n && r->ndrvs < MAX_DRVS; i++)
		r->drvs[r->ndrvs++] = strdup(names[i]);
	sysfs_list_free(names, n);
	if (!r->ndevs || !r->ndrvs)
		return -EINVAL;
	return refresh_actions(r);
}

static bool run_one(const char *machine, int nthreads, double seconds,
		    uint64_t seed, int stall, bool hang, int test_no)
{
	struct run *r = calloc(1, sizeof(*r));
	struct watchdog wd;
	unsigned long ok = 0, failed = 0;
	double secs;
	bool pass;

	if (!r) {
		printf("not ok %d - %s, %d threads: out of memory\n", test_no,
		       machine, nthreads);
		return false;
	}
	r->machine = machine;
	r->nthreads = nthreads;
	r->phase_ops = PHASE_OPS / nthreads;
	r->seconds = seconds;
	r->hang = hang;
	if (run_setup(r)) {
		printf("not ok %d - %s, %d threads: setup failed\n", test_no,
		       machine, nthreads);
		run_free(r);
		free(r);
		return false;
	}
	pthread_barrier_init(&r->arrive, NULL, (unsigned int)nthreads);
	pthread_barrier_init(&r->leave, NULL, (unsigned int)nthreads);
	for (int i = 0; i < nthreads; i++) {
		struct worker *w = &r->w[i];

		w->r = r;
		w->id = i;
		w->rng = (seed * 0x9e3779b97f4a7c15ULL) ^
			 ((uint64_t)(i + 1) << 32) ^ (uint64_t)nthreads;
		if (!w->rng)
			w->rng = 1;
		w->ctx = script_ctx_new(r->m, "stress");
		atomic_init(&w->doing, "starting");
		atomic_init(&w->dev, "");
	}
	watchdog_start(&wd, r, stall);
	r->t0 = now_seconds();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&r->w[i].thread, NULL, worker_fn, &r->w[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(r->w[i].thread, NULL);
	secs = now_seconds() - r->t0;
	watchdog_stop(&wd);
	pthread_barrier_destroy(&r->arrive);
	pthread_barrier_destroy(&r->leave);

	/* quiescent again: the whole machine, teardown included */
	if (!r->violated) {
		unsigned int bad = machine_check_invariants(
			r->m, INV_ALL & ~INV_FAILED_NOOP, r->why,
			sizeof(r->why));

		r->violated = bad & -bad;
	}
	for (int i = 0; i < nthreads; i++)
		for (int k = 0; k < OP_MAX_; k++) {
			ok += r->w[i].ok[k];
			failed += r->w[i].failed[k];
		}
	pass = !r->violated && ok > 0;
	printf("%s %d - %s, %2d threads: %lu ops (%.0f ops/s), %lu quiescent checks%s%s\n",
	       pass ? "ok" : "not ok", test_no, machine, nthreads,
	       ok + failed, secs > 0 ? (double)(ok + failed) / secs : 0.0,
	       r->checks, r->violated ? ": " : "",
	       r->violated ? check_invariant_name(r->violated) : "");
	if (r->violated)
		printf("# %s\n", r->why);
	printf("#   ");
	for (int k = 0; k < OP_MAX_; k++) {
		unsigned long kok = 0, kfail = 0;

		for (int i = 0; i < nthreads; i++) {
			kok += r->w[i].ok[k];
			kfail += r->w[i].failed[k];
		}
		printf("%s %lu/%lu%s", op_names[k], kok, kok + kfail,
		       k == OP_MAX_ - 1 ? "\n" : (k % 5 == 4 ? "\n#   " : ", "));
	}
	fflush(stdout);
	run_free(r);
	free(r);
	return pass;
}

static void usage(FILE *out)
{
	fputs("usage: test-stress [--seconds S] [--threads N] [--machine M]\n"
	      "                   [--seed S] [--stall S]\n"
	      "  --seconds S  each run's length (default $DMAOWN_STRESS_SECONDS or 1)\n"
	      "  --threads N  only N threads (default: 2, 4, 8 and 16)\n"
	      "  --machine M  only this built-in machine (default: vfio-host and\n"
	      "               x86-desktop)\n"
	      "  --seed S     the threads' seed (default 1)\n"
	      "  --stall S    the watchdog fails the run after S seconds without\n"
	      "               progress (default 30)\n"
	      "  --selftest-hang  one thread stops for good: the watchdog must fail\n"
	      "               the run\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'n' },
		{ "machine", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "stall", required_argument, NULL, 'w' },
		{ "selftest-hang", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int default_threads[] = { 2, 4, 8, 16 };
	const char *default_machines[] = { "vfio-host", "x86-desktop" };
	const char *env = getenv("DMAOWN_STRESS_SECONDS");
	double seconds = env ? strtod(env, NULL) : DEFAULT_SECONDS;
	const char *machine = NULL;
	int threads = 0, stall = DEFAULT_STALL, c, n = 0, fails = 0;
	uint64_t seed = 1;
	bool hang = false;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'n':
			threads = atoi(optarg);
			if (threads < 1 || threads > MAX_THREADS)
				goto bad;
			break;
		case 'm':
			machine = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			stall = atoi(optarg);
			if (stall < 1)
				goto bad;
			break;
		case 'H':
			hang = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (seconds <= 0)
		seconds = DEFAULT_SECONDS;
	{
		int nm = machine ? 1 : 2;
		int nt = threads ? 1 : 4;

		printf("1..%d\n", nm * nt);
		printf("# %.1f s a run, seed %" PRIu64 ", watchdog %d s\n",
		       seconds, seed, stall);
		for (int i = 0; i < nm; i++)
			for (int k = 0; k < nt; k++)
				if (!run_one(machine ? machine : default_machines[i],
					     threads ? threads : default_threads[k],
					     seconds, seed, stall, hang, ++n))
					fails++;
	}
	return fails ? 1 : 0;
bad:
	usage(stderr);
	return 2;
}
