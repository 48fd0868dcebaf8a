// SPDX-License-Identifier: MIT
/*
 * bench-scale: how dmaown's costs grow with the machine.
 *
 * For N devices (1,024 to 65,536 by default, doubling) in N/16 IOMMU
 * groups it generates a machine, then times, each size in a child process
 * of its own so its peak memory is its own:
 *   boot       parse the machine file and boot it
 *   rebind     every endpoint unbound from e1000e and bound again, as
 *              script lines through the sysfs layer
 *   vfio       every endpoint moved to vfio-pci (driver_override, unbind,
 *              drivers_probe), then every group claimed by a VMM through a
 *              legacy container (@vmm assign) and released (@vmm release)
 *   iommufd    every endpoint opened through its cdev, bound to one
 *              iommufd and attached to an IOAS, then closed
 *   rmmod      while every endpoint is open through its cdev, rmmod of
 *              vfio-pci, refused as delete_module() refuses a module vfio
 *              holds (ns per refusal, through the library)
 * and the cost of one bind+unbind pair on a device in the middle of the
 * machine through the library (bind_store/unbind_store), through
 * sysfs_write() and through a script line.
 *
 * The machine: G groups spread over PCI segments, 80 root ports each;
 * group g is a root port with, on its secondary bus, a multifunction
 * endpoint of 8 functions and one of 6, and every fourth group instead a
 * PCIe-to-PCI bridge with 13 conventional functions behind it; one group
 * in eight sits behind a switch (upstream and downstream port), so the
 * tree has bridges, switches, multifunction devices and several segments.
 * All members of a group share its label (the ACS and alias facts the
 * machine file states).
 *
 * With --smmu it times instead one large IOMMU group behind an arm-smmu-v3
 * on device tree (groups computed, no ACS anywhere): a root port, a switch
 * of B downstream ports (B = 1, 2, 4, 7), each with a switch of 32
 * downstream ports below it, each with an 8-function endpoint: 256 B
 * endpoints, each with a stream ID of its own, all in the root port's
 * group. One more endpoint, on the root bus, is given the stream ID of an
 * endpoint in the middle (stream-id=), so arm_smmu_probe_device() refuses
 * it at each probe. Timed, the fastest of five rounds each: the boot
 * (every device probed into the group) and one unbind+bind pair of the
 * refused endpoint (an IOMMU probe that looks its stream ID up), which
 * should not grow with the group. Use a release build: the others check
 * each look-up against a walk of the group (self_check()).
 *
 * Usage: bench-scale [--min N] [--max N] [--pairs K] [--json] [--smmu]
 * Output: a table, and the ratio of each figure to the size before it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmaown/dmaown.h"

#define DEVS_PER_GROUP 16
#define PORTS_PER_SEGMENT 80 /* three buses each, below 256 */

struct figures {
	unsigned long devices, groups, endpoints;
	double boot, rebind, to_vfio, vfio_claim, vfio_release, iommufd_claim,
		iommufd_release;
	double pair_lib, pair_sysfs, pair_script; /* ns per pair */
	double list_dev;	/* ns to list a device's sysfs directory */
	double rmmod_busy;	/* ns to refuse rmmod of a module in use */
	long maxrss_kb;
	int failed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct text {
	char *buf;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap ? t->cap * 2 : 1 << 16;
		t->buf = realloc(t->buf, t->cap);
		if (!t->buf) {
			perror("bench-scale");
			exit(2);
		}
	}
	t->len += (size_t)n;
}

/* The endpoints' names, in machine order, for the scripts. */
struct names {
	char (*v)[16];
	size_t n, cap;
	size_t *group_first; /* per group: index of its first endpoint */
};

static void name_add(struct names *nm, const char *name)
{
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 1024;
		nm->v = realloc(nm->v, nm->cap * sizeof(*nm->v));
		if (!nm->v)
			exit(2);
	}
	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", name);
}

static char *gen_machine(unsigned long groups, struct names *nm)
{
	struct text t = { 0 };

	nm->group_first = calloc(groups, sizeof(*nm->group_first));
	add(&t, "format 1\nmachine scale-%lu\nfirmware x86\n", groups);
	add(&t, "iommu dmar0 types=blocked,identity,dma-fq\n");
	for (unsigned long g = 0; g < groups; g++) {
		unsigned int seg = (unsigned int)(g / PORTS_PER_SEGMENT),
			     r = (unsigned int)(g % PORTS_PER_SEGMENT);
		unsigned int bus = 3 * r + 1; /* the port's secondary bus */
		const char *type = "endpoint";
		char port[16], parent[16], name[16];
		int left = DEVS_PER_GROUP - 1;

		nm->group_first[g] = nm->n;
		snprintf(port, sizeof(port), "%04x:00:%02x.%x", seg, r / 8, r % 8);
		add(&t, "pci %s 8086:1901 class=060400 type=root-port iommu=dmar0 group=g%lu\n",
		    port, g);
		snprintf(parent, sizeof(parent), "%s", port);
		if (g % 8 == 7) { /* a switch: upstream port, downstream port */
			snprintf(name, sizeof(name), "%04x:%02x:00.0", seg, bus);
			add(&t, "pci %s 10b5:8747 class=060400 type=upstream parent=%s iommu=dmar0 group=g%lu\n",
			    name, parent, g);
			snprintf(parent, sizeof(parent), "%s", name);
			snprintf(name, sizeof(name), "%04x:%02x:00.0", seg, bus + 1);
			add(&t, "pci %s 10b5:8747 class=060400 type=downstream parent=%s iommu=dmar0 group=g%lu\n",
			    name, parent, g);
			snprintf(parent, sizeof(parent), "%s", name);
			left -= 2;
			bus += 2;
		} else if (g % 4 == 3) { /* a PCIe-to-PCI bridge */
			snprintf(name, sizeof(name), "%04x:%02x:00.0", seg, bus);
			add(&t, "pci %s 8086:244e class=060400 type=pci-bridge parent=%s iommu=dmar0 group=g%lu\n",
			    name, parent, g);
			snprintf(parent, sizeof(parent), "%s", name);
			left -= 1;
			bus += 1;
			type = "conventional";
		}
		for (int k = 0; k < left; k++) {
			snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", seg, bus,
				 k / 8, k % 8);
			add(&t, "pci %s 8086:10d3 class=020000 type=%s parent=%s iommu=dmar0 group=g%lu\n",
			    name, type, parent, g);
			name_add(nm, name);
		}
	}
	add(&t, "driver pcieport\ndriver e1000e\n");
	return t.buf;
}

/* Run script lines; the first failing line stops the bench. */
static int run_lines(struct script_ctx *ctx, const char *text)
{
	const char *p = text;
	char line[SCRIPT_LINE_MAX + 1];
	int lineno = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		struct script_result res;

		memcpy(line, p, n);
		line[n] = '\0';
		lineno++;
		if (script_exec_line(ctx, line, lineno, &res) || res.status) {
			fprintf(stderr, "bench-scale: line %d '%s' failed: %s%s",
				lineno, line, res.out ? res.out : "",
				res.err ? res.err : "");
			script_result_free(&res);
			return -1;
		}
		script_result_free(&res);
		p = eol ? eol + 1 : p + n;
	}
	return 0;
}

static double timed_lines(struct script_ctx *ctx, struct text *t,
			  int *failed)
{
	double t0 = now();

	if (run_lines(ctx, t->buf ? t->buf : ""))
		*failed = 1;
	free(t->buf);
	memset(t, 0, sizeof(*t));
	return now() - t0;
}

static void measure(unsigned long devices, int pairs, struct figures *f)
{
	unsigned long groups = devices / DEVS_PER_GROUP;
	struct names nm = { 0 };
	struct topo_error err;
	struct text t = { 0 };
	struct script_ctx *ctx;
	struct machine *m;
	char *text = gen_machine(groups, &nm);
	const char *mid;
	double t0;

	memset(f, 0, sizeof(*f));
	f->devices = devices;
	f->groups = groups;
	f->endpoints = nm.n;
	t0 = now();
	m = topology_load_string("scale", text, &err);
	f->boot = now() - t0;
	free(text);
	if (!m) {
		fprintf(stderr, "bench-scale: %d:%d: %s\n", err.line, err.col,
			err.msg);
		f->failed = 1;
		return;
	}
	ctx = script_ctx_new(m, "bench");

	/* pairs on an endpoint in the middle, while e1000e has it */
	mid = nm.v[nm.n / 2];
	{
		struct device_driver *drv = machine_find_driver(m, "e1000e");
		char path_u[] = "/sys/bus/pci/drivers/e1000e/unbind";
		char path_b[] = "/sys/bus/pci/drivers/e1000e/bind";
		char lu[128], lb[128];
		struct script_result res;

		t0 = now();
		for (int i = 0; i < pairs; i++)
			if (unbind_store(drv, mid) || bind_store(drv, mid))
				f->failed = 1;
		f->pair_lib = (now() - t0) * 1e9 / pairs;
		t0 = now();
		for (int i = 0; i < pairs; i++)
			if (sysfs_write(m, path_u, mid, strlen(mid)) ||
			    sysfs_write(m, path_b, mid, strlen(mid)))
				f->failed = 1;
		f->pair_sysfs = (now() - t0) * 1e9 / pairs;
		/* a listing costs its own entries, not the machine's */
		snprintf(lu, sizeof(lu), "/sys/bus/pci/devices/%s", mid);
		t0 = now();
		for (int i = 0; i < pairs; i++) {
			char **names;
			size_t nn;

			if (sysfs_list(m, lu, &names, &nn))
				f->failed = 1;
			else
				sysfs_list_free(names, nn);
		}
		f->list_dev = (now() - t0) * 1e9 / pairs;
		snprintf(lu, sizeof(lu), "echo %s > %s", mid, path_u);
		snprintf(lb, sizeof(lb), "echo %s > %s", mid, path_b);
		t0 = now();
		for (int i = 0; i < pairs; i++) {
			if (script_exec_line(ctx, lu, 1, &res) || res.status)
				f->failed = 1;
			script_result_free(&res);
			if (script_exec_line(ctx, lb, 2, &res) || res.status)
				f->failed = 1;
			script_result_free(&res);
		}
		f->pair_script = (now() - t0) * 1e9 / pairs;
	}
	machine_log_clear(m);

	for (size_t i = 0; i < nm.n; i++)
		add(&t, "echo %s > /sys/bus/pci/drivers/e1000e/unbind\n", nm.v[i]);
	for (size_t i = 0; i < nm.n; i++)
		add(&t, "echo %s > /sys/bus/pci/drivers/e1000e/bind\n", nm.v[i]);
	f->rebind = timed_lines(ctx, &t, &f->failed);
	machine_log_clear(m);

	add(&t, "modprobe vfio-pci\nulimit -n %lu\n", 4 * devices + 64);
	for (size_t i = 0; i < nm.n; i++)
		add(&t, "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override\n"
			"echo %s > /sys/bus/pci/drivers/e1000e/unbind\n"
			"echo %s > /sys/bus/pci/drivers_probe\n",
		    nm.v[i], nm.v[i], nm.v[i]);
	f->to_vfio = timed_lines(ctx, &t, &f->failed);
	machine_log_clear(m);

	for (unsigned long g = 0; g < groups; g++)
		add(&t, "@vmm assign %s\n", nm.v[nm.group_first[g]]);
	f->vfio_claim = timed_lines(ctx, &t, &f->failed);
	machine_log_clear(m);
	for (unsigned long g = 0; g < groups; g++)
		add(&t, "@vmm release %s\n", nm.v[nm.group_first[g]]);
	f->vfio_release = timed_lines(ctx, &t, &f->failed);
	machine_log_clear(m);

	add(&t, "@iommufd open\n@iommufd ioas-alloc 0\n");
	for (size_t i = 0; i < nm.n; i++)
		add(&t, "@vfio cdev-open %s && @vfio bind-iommufd %s 0 && @vfio attach-ioas %s 1\n",
		    nm.v[i], nm.v[i], nm.v[i]);
	f->iommufd_claim = timed_lines(ctx, &t, &f->failed);
	machine_log_clear(m);
	/* every endpoint holds vfio-pci's module: each rmmod is refused */
	t0 = now();
	for (int i = 0; i < pairs; i++)
		if (driver_delete_module(m, "vfio-pci") != -EWOULDBLOCK)
			f->failed = 1;
	f->rmmod_busy = (now() - t0) * 1e9 / pairs;
	machine_log_clear(m);
	for (size_t i = 0; i < nm.n; i++)
		add(&t, "@vfio device-close %s\n", nm.v[i]);
	f->iommufd_release = timed_lines(ctx, &t, &f->failed);

	script_ctx_free(ctx);
	machine_destroy(m);
	free(nm.v);
	free(nm.group_first);
}

/* ---- --smmu: one large group behind an arm-smmu-v3 ---- */

#define SMMU_LEAF_PORTS 32 /* downstream ports of each lower switch */
#define SMMU_FUNCTIONS 8   /* functions of each endpoint */

struct smmu_figures {
	unsigned long branches, devices, endpoints;
	double boot;	   /* s */
	double pair;	   /* ns per unbind+bind pair of the refused endpoint */
	int failed;
};

/*
 * The machine of --smmu with @branches lower switches; in @refused the
 * name of the endpoint that is refused, in @ret_devices the device count.
 */
static char *gen_smmu_machine(unsigned long branches, char *refused,
			      size_t len, unsigned long *ret_devices)
{
	struct text t = { 0 };
	unsigned int bus = 3; /* 1: below the root port, 2: the switch's */
	unsigned int mid_bus = 0;
	unsigned long devices = 2;

	add(&t, "format 1\nmachine smmu-scale-%lu\narch arm64\n"
		"firmware devicetree\ngroups computed\n"
		"iommu smmu0 kind=arm-smmu-v3\n"
		"pci 0000:00:00.0 1b36:000c class=060400 type=root-port iommu=smmu0\n"
		"pci 0000:01:00.0 10b5:8747 class=060400 type=upstream parent=0000:00:00.0 iommu=smmu0\n",
	    branches);
	for (unsigned long b = 0; b < branches; b++) {
		unsigned int up = bus, inner = bus + 1;

		add(&t, "pci 0000:02:%02lx.0 10b5:8747 class=060400 type=downstream parent=0000:01:00.0 iommu=smmu0\n",
		    b);
		add(&t, "pci 0000:%02x:00.0 10b5:8747 class=060400 type=upstream parent=0000:02:%02lx.0 iommu=smmu0\n",
		    up, b);
		devices += 2;
		bus += 2;
		for (unsigned int k = 0; k < SMMU_LEAF_PORTS; k++, bus++) {
			add(&t, "pci 0000:%02x:%02x.0 10b5:8747 class=060400 type=downstream parent=0000:%02x:00.0 iommu=smmu0\n",
			    inner, k, up);
			for (unsigned int f = 0; f < SMMU_FUNCTIONS; f++)
				add(&t, "pci 0000:%02x:00.%u 8086:10d3 class=020000 parent=0000:%02x:%02x.0 iommu=smmu0\n",
				    bus, f, inner, k);
			devices += 1 + SMMU_FUNCTIONS;
			if (b == branches / 2 && k == SMMU_LEAF_PORTS / 2)
				mid_bus = bus;
		}
	}
	/* the stream ID of 0000:MID:00.0 (bus << 8 | devfn), taken already */
	snprintf(refused, len, "0000:00:01.0");
	add(&t, "pci %s 8086:10d3 class=020000 type=rc-endpoint iommu=smmu0 stream-id=%#x\n",
	    refused, mid_bus << 8);
	add(&t, "driver pcieport\ndriver e1000e\n");
	*ret_devices = devices + 1;
	return t.buf;
}

/*
 * The boot and the pairs, each the fastest of SMMU_ROUNDS rounds: the
 * figures are small, and a shared machine's load only ever adds.
 */
#define SMMU_ROUNDS 5

/* the shape claimed: one group of all but the refused endpoint */
static bool smmu_shape_ok(struct machine *m, const char *refused,
			  unsigned long devices)
{
	struct iommu_group *g =
		iommu_group_get(machine_find_device(m, "0000:00:00.0"));
	struct iommu_group *r = iommu_group_get(machine_find_device(m, refused));
	struct iommu_group_info info = { 0 };
	bool ok;

	if (g)
		iommu_group_get_info(g, &info);
	ok = g && !r && info.ndevices == devices - 1;
	if (!ok)
		fprintf(stderr, "bench-scale: smmu: the group has %u of %lu devices, the refused one %s\n",
			info.ndevices, devices - 1, r ? "a group" : "none");
	iommu_group_put(g);
	iommu_group_put(r);
	return ok;
}

static void measure_smmu(unsigned long branches, int pairs,
			 struct smmu_figures *f)
{
	char refused[16];
	struct topo_error err;
	struct machine *m = NULL;
	char *text;

	memset(f, 0, sizeof(*f));
	f->branches = branches;
	f->endpoints = branches * SMMU_LEAF_PORTS * SMMU_FUNCTIONS;
	text = gen_smmu_machine(branches, refused, sizeof(refused),
				&f->devices);
	for (int r = 0; r < SMMU_ROUNDS; r++) {
		double t0 = now(), t;

		machine_destroy(m);
		m = topology_load_string("smmu-scale", text, &err);
		t = now() - t0;
		if (!m) {
			fprintf(stderr, "bench-scale: %d:%d: %s\n", err.line,
				err.col, err.msg);
			f->failed = 1;
			free(text);
			return;
		}
		if (!r || t < f->boot)
			f->boot = t;
	}
	free(text);
	if (!smmu_shape_ok(m, refused, f->devices))
		f->failed = 1;
	for (int r = 0; r < SMMU_ROUNDS; r++) {
		struct device_driver *drv = machine_find_driver(m, "e1000e");
		double t0 = now(), t;

		for (int i = 0; i < pairs; i++) {
			if (unbind_store(drv, refused) ||
			    bind_store(drv, refused))
				f->failed = 1;
			if (i % 1024 == 1023)
				machine_log_clear(m); /* a refusal logs a line */
		}
		t = (now() - t0) * 1e9 / pairs;
		if (!r || t < f->pair)
			f->pair = t;
	}
	machine_destroy(m);
}

static int smmu_main(int pairs, bool json)
{
	static const unsigned long sizes[] = { 1, 2, 4, 7 };
	struct smmu_figures prev = { 0 };
	int failed = 0;

	if (!json)
		printf("%9s %7s %8s %10s %10s\n", "endpoints", "devices",
		       "boot ms", "boot us/dev", "probe ns");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct smmu_figures f;
		int fd[2], status;
		pid_t pid;

		/* a child each, as measure_child() */
		if (pipe(fd))
			return 1;
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			close(fd[0]);
			measure_smmu(sizes[i], pairs, &f);
			_exit(write(fd[1], &f, sizeof(f)) != (ssize_t)sizeof(f));
		}
		close(fd[1]);
		if (read(fd[0], &f, sizeof(f)) != (ssize_t)sizeof(f))
			f.failed = 1;
		close(fd[0]);
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) || f.failed) {
			fprintf(stderr, "bench-scale: smmu %lu: failed\n",
				sizes[i]);
			failed = 1;
			continue;
		}
		if (json)
			printf("{\"smmu_endpoints\":%lu,\"devices\":%lu,\"boot\":%.4f,\"probe_pair_ns\":%.0f}\n",
			       f.endpoints, f.devices, f.boot, f.pair);
		else
			printf("%9lu %7lu %8.2f %10.2f %10.0f\n", f.endpoints,
			       f.devices, f.boot * 1e3,
			       f.boot * 1e6 / (double)f.devices, f.pair);
		if (!json && prev.devices)
			printf("%9s %7.2f %8.2f %10.2f %10.2f   (x the size before)\n",
			       "", (double)f.devices / (double)prev.devices,
			       f.boot / prev.boot,
			       (f.boot / (double)f.devices) /
				       (prev.boot / (double)prev.devices),
			       f.pair / prev.pair);
		fflush(stdout);
		prev = f;
	}
	return failed;
}

/* Each size in a child: its peak RSS is its own. */
static int measure_child(unsigned long devices, int pairs, struct figures *f)
{
	int fd[2];
	pid_t pid;
	struct rusage ru;
	int status;

	if (pipe(fd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		struct figures mine;

		close(fd[0]);
		measure(devices, pairs, &mine);
		if (write(fd[1], &mine, sizeof(mine)) != (ssize_t)sizeof(mine))
			_exit(2);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], f, sizeof(*f)) != (ssize_t)sizeof(*f))
		f->failed = 1;
	close(fd[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		f->failed = 1;
	f->maxrss_kb = ru.ru_maxrss;
	return 0;
}

static double total(const struct figures *f)
{
	return f->boot + f->rebind + f->to_vfio + f->vfio_claim +
	       f->vfio_release + f->iommufd_claim + f->iommufd_release;
}

int main(int argc, char **argv)
{
	unsigned long min = 1024, max = 65536;
	int pairs = 20000;
	bool json = false, smmu = false;
	struct figures prev = { 0 };
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--min") && i + 1 < argc)
			min = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--max") && i + 1 < argc)
			max = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--pairs") && i + 1 < argc)
			pairs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--smmu"))
			smmu = true;
		else {
			fprintf(stderr, "usage: bench-scale [--min N] [--max N] [--pairs K] [--json] [--smmu]\n");
			return 2;
		}
	}
	if (min < DEVS_PER_GROUP || max < min || pairs < 1) {
		fprintf(stderr, "bench-scale: bad sizes\n");
		return 2;
	}
	if (smmu)
		return smmu_main(pairs, json);
	if (!json)
		printf("%7s %6s %8s %8s %8s %8s %8s %8s %8s %8s %7s | %8s %8s %8s %8s %8s\n",
		       "devices", "groups", "boot s", "rebind", "to-vfio",
		       "vfio", "vfio-rel", "iommufd", "fd-rel", "total s",
		       "RSS MB", "lib ns", "sysfs ns", "line ns", "ls ns",
		       "rmmod ns");
	for (unsigned long n = min; n <= max; n *= 2) {
		struct figures f;

		if (measure_child(n, pairs, &f) || f.failed) {
			fprintf(stderr, "bench-scale: %lu devices: failed\n", n);
			failed = 1;
			continue;
		}
		if (json) {
			printf("{\"devices\":%lu,\"groups\":%lu,\"endpoints\":%lu,\"boot\":%.4f,\"rebind\":%.4f,\"to_vfio\":%.4f,\"vfio_claim\":%.4f,\"vfio_release\":%.4f,\"iommufd_claim\":%.4f,\"iommufd_release\":%.4f,\"total\":%.4f,\"maxrss_kb\":%ld,\"pair_lib_ns\":%.0f,\"pair_sysfs_ns\":%.0f,\"pair_script_ns\":%.0f,\"list_device_ns\":%.0f,\"rmmod_busy_ns\":%.0f}\n",
			       f.devices, f.groups, f.endpoints, f.boot, f.rebind,
			       f.to_vfio, f.vfio_claim, f.vfio_release,
			       f.iommufd_claim, f.iommufd_release, total(&f),
			       f.maxrss_kb, f.pair_lib, f.pair_sysfs,
			       f.pair_script, f.list_dev, f.rmmod_busy);
		} else {
			printf("%7lu %6lu %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7.1f | %8.0f %8.0f %8.0f %8.0f %8.0f\n",
			       f.devices, f.groups, f.boot, f.rebind, f.to_vfio,
			       f.vfio_claim, f.vfio_release, f.iommufd_claim,
			       f.iommufd_release, total(&f),
			       (double)f.maxrss_kb / 1024, f.pair_lib,
			       f.pair_sysfs, f.pair_script, f.list_dev,
			       f.rmmod_busy);
			if (prev.devices)
				printf("%7s %6s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %7.2f | %8.2f %8.2f %8.2f %8.2f %8.2f   (x per doubling)\n",
				       "", "", f.boot / prev.boot,
				       f.rebind / prev.rebind,
				       f.to_vfio / prev.to_vfio,
				       f.vfio_claim / prev.vfio_claim,
				       f.vfio_release / prev.vfio_release,
				       f.iommufd_claim / prev.iommufd_claim,
				       f.iommufd_release / prev.iommufd_release,
				       total(&f) / total(&prev),
				       (double)f.maxrss_kb / prev.maxrss_kb,
				       f.pair_lib / prev.pair_lib,
				       f.pair_sysfs / prev.pair_sysfs,
				       f.pair_script / prev.pair_script,
				       f.list_dev / prev.list_dev,
				       f.rmmod_busy / prev.rmmod_busy);
		}
		fflush(stdout);
		prev = f;
	}
	return failed;
}
