// SPDX-License-Identifier: MIT
/*
 * White-box tests of the driver core (src/drivers/base/, the PCI, platform,
 * AMBA and fsl-mc buses, the driver catalogue) against section 4 of the
 * ownership spec and the scenarios S1, S3-S7, S10 and S12
 * (shared/spec/ownership.md, shared/spec/scenarios.md).
 *
 * Most tests run one body on every firmware variant (x86 DMAR/IVRS, ACPI
 * IORT, devicetree), which differ in WHEN a device joins its IOMMU group: at
 * device_add() on x86, inside the bus's dma_configure at first probe on
 * IORT and devicetree. Some variants plant the seed's v7 bug
 * (MACHINE_FAULT_V7_ORDER) before any driver loads.
 *
 * Tests read as lists of expected errnos. Helpers come in three forms:
 * _x() returns the result, do_x() asserts success and err_x(ERRNO, ...)
 * asserts that error; all of them also assert that nothing WARNed. Every
 * test ends with check_invariants(): the kernel-DMA counts of every
 * kernel-owned group equal the uses the driver core holds in it, no
 * DMA-API driver is bound inside a user-owned group, and no WARN went
 * unaccounted for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

/* ---- variants and fixture ---- */

struct variant {
	const char *name;
	enum machine_firmware fw;
	unsigned int faults;	/* enum machine_fault, set before any driver */
	bool no_iommu_api;	/* CONFIG_IOMMU_API=n */
	bool no_iommu_hw;	/* the API built in, no IOMMU to register */
	bool late_iommu;	/* the IOMMU is described but not registered */
};

static struct variant var_x86 = { .name = "x86", .fw = FW_X86 };
static struct variant var_iort = { .name = "iort", .fw = FW_ACPI_IORT };
static struct variant var_dt = { .name = "dt", .fw = FW_DEVICETREE };
static struct variant var_x86_v7 = {
	.name = "x86-v7", .fw = FW_X86, .faults = MACHINE_FAULT_V7_ORDER,
};
static struct variant var_iort_v7 = {
	.name = "iort-v7", .fw = FW_ACPI_IORT,
	.faults = MACHINE_FAULT_V7_ORDER,
};
static struct variant var_dt_v7 = {
	.name = "dt-v7", .fw = FW_DEVICETREE,
	.faults = MACHINE_FAULT_V7_ORDER,
};
static struct variant var_noiommu = {
	.name = "no-iommu-api", .fw = FW_X86, .no_iommu_api = true,
};
static struct variant var_nohw = {
	.name = "no-iommu", .fw = FW_X86, .no_iommu_hw = true,
};
static struct variant var_x86_late = {
	.name = "x86-late", .fw = FW_X86, .late_iommu = true,
};
static struct variant var_iort_late = {
	.name = "iort-late", .fw = FW_ACPI_IORT, .late_iommu = true,
};
static struct variant var_dt_late = {
	.name = "dt-late", .fw = FW_DEVICETREE, .late_iommu = true,
};

struct fx {
	const struct variant *v;
	struct machine *m;
	struct iommu_device *iommu;	/* NULL without IOMMU API */
	size_t warns;			/* WARNs accounted for so far */
};

/* The fixture of the running test (cmocka runs one test at a time). */
static struct fx *self;

/* The owner cookie of "userspace" (a VFIO group). */
static char vmm_cookie;
#define VMM ((void *)&vmm_cookie)

/* The seed's machine (S1): a root port and the e1000e NIC behind it. */
#define RP "0004:00:00.0"
#define NIC "0004:01:00.0"
#define NIC2 "0004:01:00.1"
#define NIC_KEY 7	/* NIC and NIC2 share a group (no ACS) */

/* S3: root port, GPU and its HDMI audio, all in one group. */
#define GRP "0000:00:01.0"
#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define GPU_KEY 1

static bool is_v7(void)
{
	return self->v->faults & MACHINE_FAULT_V7_ORDER;
}

static bool is_x86(void)
{
	return self->v->fw == FW_X86;
}

/* ---- reporting ---- */

static void verify(bool ok, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

static void verify(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	_fail(file, line);
}

static void print_warns(const struct machine *m, size_t from)
{
	for (size_t i = from; i < machine_warn_count(m); i++) {
		const struct warn_report *w = machine_warn(m, i);

		if (!w)
			break;
		print_error("WARN in %s(): %s; trace:", w->func, w->cond);
		for (unsigned int j = 0; j < w->ntrace; j++)
			print_error(" %s", w->trace[j]);
		print_error("\n");
	}
}

/* No WARN since the last one accounted for. */
static void check_no_new_warn(const char *file, int line)
{
	size_t now = machine_warn_count(self->m);

	if (now != self->warns)
		print_warns(self->m, self->warns);
	verify(now == self->warns, file, line, "%zu unexpected WARN(s)",
	       now - self->warns);
}

/* @call must return @want (0 or a negative errno), without a WARN. */
#define assert_rc(want, call)                                              \
	do {                                                                \
		int want_ = (want), rc_ = (call);                           \
		verify(rc_ == want_, __FILE__, __LINE__,                    \
		       "%s returned %d (%s), expected %d (%s)", #call, rc_, \
		       errno_name(rc_), want_, errno_name(want_));          \
		check_no_new_warn(__FILE__, __LINE__);                      \
	} while (0)

/* ---- lookups ---- */

static struct device *dev_(const char *name)
{
	struct device *dev = machine_find_device(self->m, name);

	if (!dev)
		fail_msg("no device %s", name);
	return dev;
}

static struct device_driver *drv_(const char *name)
{
	struct device_driver *drv = machine_find_driver(self->m, name);

	if (!drv)
		fail_msg("driver %s not loaded", name);
	return drv;
}

/* The device's group (no reference taken), or NULL. */
static struct iommu_group *grp(const char *name)
{
	return dev_(name)->iommu_group;
}

static struct iommu_group_info info_of(const char *name)
{
	struct iommu_group_info info;
	struct iommu_group *group = grp(name);

	if (!group)
		fail_msg("%s has no iommu group", name);
	iommu_group_get_info(group, &info);
	return info;
}

static bool deferred(const char *name)
{
	return !list_empty(&dev_(name)->deferred);
}

static size_t log_count(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < machine_log_count(self->m); i++) {
		const struct klog_entry *e = machine_log_entry(self->m, i);

		if (e && strstr(e->text, needle))
			n++;
	}
	return n;
}

#define assert_cnt(name, n)                                               \
	do {                                                               \
		struct iommu_group_info i_ = info_of(name);                \
		verify(i_.owner_cnt == (n), __FILE__, __LINE__,            \
		       "%s: group %d owner_cnt %u, expected %u", name,     \
		       i_.id, i_.owner_cnt, (unsigned int)(n));            \
	} while (0)

#define assert_bound(name, drvname)                                       \
	do {                                                               \
		const char *want_ = (drvname);                             \
		const char *got_ = device_driver_name(dev_(name));         \
		verify(want_ ? got_ && !strcmp(got_, want_) : !got_,       \
		       __FILE__, __LINE__, "%s bound to %s, expected %s",  \
		       name, got_ ? got_ : "(none)",                       \
		       want_ ? want_ : "(none)");                          \
	} while (0)

#define assert_log(needle)                                                \
	verify(log_count(needle), __FILE__, __LINE__,                      \
	       "no log line contains \"%s\"", needle)
#define assert_no_log(needle)                                             \
	verify(!log_count(needle), __FILE__, __LINE__,                     \
	       "a log line contains \"%s\"", needle)

/* The domain the device translates through is its group's blocking one. */
#define assert_blocked(name)                                              \
	do {                                                               \
		struct iommu_group_info i_ = info_of(name);                \
		verify(i_.blocking_domain &&                               \
			       iommu_device_domain(dev_(name)) ==          \
				       i_.blocking_domain,                 \
		       __FILE__, __LINE__,                                  \
		       "%s not on its group's blocking domain", name);     \
	} while (0)

/* ---- the invariants every test ends with ---- */

static void check_machine(struct machine *m, size_t warns, bool v7,
			  const char *file, int line)
{
	struct iommu_group *group;
	struct device *dev;

	list_for_each_entry(group, &m->groups, node) {
		unsigned int users = 0, members = 0;

		list_for_each_entry(dev, &m->devices, node) {
			if (dev->dma_use.group == group)
				users++;
			if (dev->iommu_group != group)
				continue;
			members++;
			verify(!group->owner || !device_driver_name(dev) ||
				       dev->driver->driver_managed_dma,
			       file, line,
			       "%s: DMA-API driver %s in user-owned group %d",
			       dev->name, device_driver_name(dev), group->id);
		}
		verify(members == list_count_nodes(&group->devices), file,
		       line, "group %d: %u devices point at it, %zu members",
		       group->id, members, list_count_nodes(&group->devices));
		if (group->owner)
			verify(group->owner_cnt >= 1, file, line,
			       "group %d owned with owner_cnt 0", group->id);
		else if (!v7)
			verify(group->owner_cnt == users, file, line,
			       "group %d: owner_cnt %u, %u DMA-API uses held",
			       group->id, group->owner_cnt, users);
	}
	list_for_each_entry(dev, &m->devices, node) {
		bool kdma = device_driver_name(dev) &&
			    !dev->driver->driver_managed_dma;

		verify(!dev->dma_use.group ||
			       (dev->dma_use.active &&
				dev->dma_use.group == dev->iommu_group),
		       file, line, "%s: use counted in a group it is not in",
		       dev->name);
		if (!v7)
			verify(dev->dma_use.active == kdma, file, line,
			       "%s: dma_use.active %d with driver %s",
			       dev->name, dev->dma_use.active,
			       device_driver_name(dev) ?
				       device_driver_name(dev) : "(none)");
	}
	if (machine_warn_count(m) != warns)
		print_warns(m, warns);
	verify(machine_warn_count(m) == warns, file, line,
	       "%zu WARN(s), expected %zu", machine_warn_count(m), warns);
}

#define check_invariants()                                               \
	check_machine(self->m, self->warns, is_v7(), __FILE__, __LINE__)

/* ---- the sysfs writes and commands, in three forms ---- */

static int _bind(const char *drv, const char *dev)
{
	return bind_store(drv_(drv), dev);
}

static int _unbind(const char *drv, const char *dev)
{
	return unbind_store(drv_(drv), dev);
}

static int _override(const char *dev, const char *buf)
{
	return driver_override_store(dev_(dev), buf);
}

static int _probe(enum bus_kind bus, const char *dev)
{
	return drivers_probe_store(machine_bus(self->m, bus), dev);
}

static int _autoprobe(enum bus_kind bus, const char *buf)
{
	return drivers_autoprobe_store(machine_bus(self->m, bus), buf);
}

static int _new_id(const char *drv, const char *buf)
{
	return new_id_store(drv_(drv), buf);
}

static int _remove_id(const char *drv, const char *buf)
{
	return remove_id_store(drv_(drv), buf);
}

static int _load(const char *name)
{
	return driver_load(self->m, name);
}

static int _unload(const char *name)
{
	return driver_unload(self->m, name);
}

/* VFIO's claim of the device's whole group. */
static int _claim(const char *dev)
{
	return iommu_group_claim_dma_owner(grp(dev), VMM);
}

#define do_bind(drv, dev) assert_rc(0, _bind(drv, dev))
#define err_bind(e, drv, dev) assert_rc(-(e), _bind(drv, dev))
#define do_unbind(drv, dev) assert_rc(0, _unbind(drv, dev))
#define err_unbind(e, drv, dev) assert_rc(-(e), _unbind(drv, dev))
#define do_override(dev, buf) assert_rc(0, _override(dev, buf))
#define err_override(e, dev, buf) assert_rc(-(e), _override(dev, buf))
#define do_probe(bus, dev) assert_rc(0, _probe(bus, dev))
#define err_probe(e, bus, dev) assert_rc(-(e), _probe(bus, dev))
#define do_autoprobe(bus, buf) assert_rc(0, _autoprobe(bus, buf))
#define err_autoprobe(e, bus, buf) assert_rc(-(e), _autoprobe(bus, buf))
#define do_new_id(drv, buf) assert_rc(0, _new_id(drv, buf))
#define err_new_id(e, drv, buf) assert_rc(-(e), _new_id(drv, buf))
#define do_remove_id(drv, buf) assert_rc(0, _remove_id(drv, buf))
#define err_remove_id(e, drv, buf) assert_rc(-(e), _remove_id(drv, buf))
#define do_load(name) assert_rc(0, _load(name))
#define err_load(e, name) assert_rc(-(e), _load(name))
#define do_unload(name) assert_rc(0, _unload(name))
#define err_unload(e, name) assert_rc(-(e), _unload(name))
#define do_claim(dev) assert_rc(0, _claim(dev))
#define err_claim(e, dev) assert_rc(-(e), _claim(dev))

static void do_release(const char *dev)
{
	iommu_group_release_dma_owner(grp(dev));
	check_no_new_warn(__FILE__, __LINE__);
}

/* ---- building machines ---- */

/* A device on @bus, behind the fixture's IOMMU with @key, not yet added. */
static struct device *alloc_dev(const char *name, const char *parent,
				enum bus_kind bus, unsigned int key)
{
	struct device *dev;

	dev = device_alloc(self->m, name, parent ? dev_(parent) : NULL);
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, bus));
	if (self->iommu)
		assert_rc(0, device_set_fw_iommu(dev, self->iommu, key));
	return dev;
}

static struct device *alloc_pci(const char *name, const char *parent,
				unsigned int vendor, unsigned int device,
				unsigned int class, unsigned int hdr_type,
				unsigned int pcie_type, unsigned int key)
{
	struct device *dev = alloc_dev(name, parent, BUS_PCI, key);

	device_set_pci_ids(dev, vendor, device, vendor, 0x0001, class);
	device_set_pci_type(dev, hdr_type, pcie_type);
	return dev;
}

/* A PCI endpoint (normal header), not yet added. */
static struct device *alloc_ep(const char *name, const char *parent,
			       unsigned int vendor, unsigned int device,
			       unsigned int class, unsigned int key)
{
	return alloc_pci(name, parent, vendor, device, class,
			 PCI_HEADER_TYPE_NORMAL, PCI_EXP_TYPE_ENDPOINT, key);
}

static struct device *add_ep(const char *name, const char *parent,
			     unsigned int vendor, unsigned int device,
			     unsigned int class, unsigned int key)
{
	struct device *dev = alloc_ep(name, parent, vendor, device, class,
				      key);

	assert_rc(0, device_add(dev));
	return dev;
}

static struct device *hotplug_ep(const char *name, const char *parent,
				 unsigned int vendor, unsigned int device,
				 unsigned int class, unsigned int key)
{
	struct device *dev = alloc_ep(name, parent, vendor, device, class,
				      key);

	assert_rc(0, device_hotplug_add(dev));
	return dev;
}

static struct device *add_bridge(const char *name, const char *parent,
				 unsigned int pcie_type, unsigned int key)
{
	struct device *dev = alloc_pci(name, parent, 0x8086, 0x1901, 0x060400,
				       PCI_HEADER_TYPE_BRIDGE, pcie_type, key);

	assert_rc(0, device_add(dev));
	return dev;
}

#define add_nic(name, parent, key) \
	add_ep(name, parent, 0x8086, 0x10d3, 0x020000, key)
#define hotplug_nic(name, parent, key) \
	hotplug_ep(name, parent, 0x8086, 0x10d3, 0x020000, key)

/*
 * A machine of the variant's firmware with one IOMMU that can block
 * (registered unless the variant registers it late), and pcieport loaded.
 */
static int setup_bare(void **state)
{
	const struct variant *v = *state;
	struct machine_config cfg = {
		.iommu_api = !v->no_iommu_api,
		.firmware = v->fw,
	};
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->v = v;
	f->m = machine_create(v->name, &cfg);
	if (!f->m) {
		free(f);
		return -1;
	}
	self = f;
	*state = f;
	machine_set_faults(f->m, v->faults);
	if (!v->no_iommu_api && !v->no_iommu_hw) {
		f->iommu = iommu_device_alloc(f->m, "iommu0",
					      IOMMU_DOMAIN_BLOCKED |
						      IOMMU_DOMAIN_IDENTITY |
						      IOMMU_DOMAIN_DMA_FQ);
		if (IS_ERR_OR_NULL(f->iommu))
			return -1;
		if (!v->late_iommu && iommu_device_register(f->iommu))
			return -1;
	}
	return driver_load(f->m, "pcieport") ? -1 : 0;
}

/*
 * S1's boot: the root port (pcieport binds it at add), the NIC, then
 * e1000e loads and binds it. The NIC joins its group at device_add() on
 * x86, and only inside its first probe on IORT and devicetree.
 */
static void boot_seed(void)
{
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	assert_bound(RP, "pcieport");
	assert_non_null(grp(RP));
	assert_cnt(RP, 0);	/* pcieport manages DMA itself */

	add_nic(NIC, RP, NIC_KEY);
	assert_bound(NIC, NULL);
	if (is_x86())
		assert_non_null(grp(NIC));
	else
		assert_null(grp(NIC));

	do_load("e1000e");
	assert_bound(NIC, "e1000e");
	assert_non_null(grp(NIC));
	assert_ptr_not_equal(grp(NIC), grp(RP));
}

static int setup_seed(void **state)
{
	int ret = setup_bare(state);

	if (!ret)
		boot_seed();
	return ret;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	machine_destroy(f->m);
	free(f);
	self = NULL;
	return 0;
}

/* ---- S1: the seed scenario on every firmware ---- */

/* Where a device joins its group: at add on x86, at first probe else. */
static void join_point(void **state)
{
	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	/* a device no driver wants */
	add_ep("0004:02:00.0", RP, 0x1234, 0x5678, 0xff0000, 0);
	add_nic(NIC, RP, NIC_KEY);
	do_probe(BUS_PCI, "0004:02:00.0");	/* nothing matches: still 0 */
	assert_bound("0004:02:00.0", NULL);
	if (is_x86()) {
		assert_non_null(grp(NIC));
		assert_non_null(grp("0004:02:00.0"));
		assert_cnt(NIC, 0);
		/* at add, before any driver: the bus name in the line */
		assert_log("pci " RP ": Adding to iommu group");
		assert_log("pci " NIC ": Adding to iommu group");
	} else {
		/* no fwspec until dma_configure: no group, no log line */
		assert_log("pcieport " RP ": Adding to iommu group");
		assert_null(grp(NIC));
		assert_null(grp("0004:02:00.0"));
		assert_no_log(NIC ": Adding to iommu group");
	}
	do_load("e1000e");
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, 1);
	if (!is_x86()) {
		assert_log("e1000e " NIC ": Adding to iommu group");
		assert_null(grp("0004:02:00.0"));
	}
	check_invariants();
}

static void seed_scenario(void **state)
{
	struct iommu_group *group;
	struct iommu_group_info info;

	(void)state;
	group = grp(NIC);
	assert_cnt(NIC, 1);
	err_claim(EPERM, NIC);		/* e1000e uses the DMA API */

	/* sudo modprobe -v vfio-pci: no ids, takes nothing */
	do_load("vfio-pci");
	assert_bound(NIC, "e1000e");
	/* echo vfio-pci > .../driver_override: no rebind by itself */
	do_override(NIC, "vfio-pci\n");
	assert_string_equal(driver_override_show(dev_(NIC)), "vfio-pci");
	assert_bound(NIC, "e1000e");
	/* echo NIC > /sys/bus/pci/drivers/e1000e/unbind: no WARN */
	do_unbind("e1000e", NIC "\n");
	assert_bound(NIC, NULL);
	assert_ptr_equal(grp(NIC), group);	/* unbinding is not leaving */
	assert_cnt(NIC, 0);
	/* echo NIC > /sys/bus/pci/drivers_probe: vfio-pci, no count */
	do_probe(BUS_PCI, NIC "\n");
	assert_bound(NIC, "vfio-pci");
	assert_cnt(NIC, 0);

	/* userspace claims the group, then gives it back */
	do_claim(NIC);
	info = info_of(NIC);
	assert_ptr_equal(info.owner, VMM);
	assert_int_equal(info.owner_cnt, 1);
	assert_blocked(NIC);
	do_release(NIC);
	info = info_of(NIC);
	assert_null(info.owner);
	assert_int_equal(info.owner_cnt, 0);
	assert_ptr_equal(info.domain, info.default_domain);
	assert_ptr_equal(iommu_device_domain(dev_(NIC)), info.default_domain);

	/* the count was taken in the group, never adopted afterwards */
	assert_no_log("driver bound before its IOMMU");
	check_invariants();
}

/*
 * The trace of the seed's WARN, innermost first: the unuse, the bus's
 * dma_cleanup, __device_release_driver, ..., unbind_store.
 */
static void assert_seed_trace(const struct warn_report *w,
			      const char *cleanup)
{
	static const char *const middle[] = { "device_driver_detach" };
	unsigned int i = 3;

	assert_non_null(w);
	assert_string_equal(w->func, "iommu_device_unuse_default_domain");
	assert_non_null(strstr(w->file, "drivers/iommu/iommu.c"));
	assert_true(w->ntrace >= 5);
	assert_string_equal(w->trace[0], "iommu_device_unuse_default_domain");
	assert_string_equal(w->trace[1], cleanup);
	assert_string_equal(w->trace[2], "__device_release_driver");
	for (size_t j = 0; j < sizeof(middle) / sizeof(middle[0]); j++) {
		while (i < w->ntrace && strcmp(w->trace[i], middle[j]))
			i++;
		verify(i < w->ntrace, __FILE__, __LINE__,
		       "%s missing from the trace", middle[j]);
	}
	assert_string_equal(w->trace[w->ntrace - 1], "unbind_store");
}

/*
 * The v7 bus code (use count first, firmware second): on IORT and
 * devicetree nothing was counted at boot and the unbind WARNs; on x86 the
 * device was in its group since device_add, so the same steps are clean.
 */
static void seed_v7(void **state)
{
	(void)state;
	assert_true(is_v7());
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, is_x86() ? 1 : 0);

	do_load("vfio-pci");
	do_override(NIC, "vfio-pci\n");
	kcompat_set_comm("tee");
	assert_int_equal(_unbind("e1000e", NIC "\n"), 0);
	kcompat_set_comm("");
	if (is_x86()) {
		check_no_new_warn(__FILE__, __LINE__);
	} else {
		assert_int_equal(machine_warn_count(self->m), 1);
		assert_seed_trace(machine_warn(self->m, 0), "pci_dma_cleanup");
		assert_string_equal(machine_warn(self->m, 0)->comm, "tee");
		self->warns = 1;
	}
	assert_bound(NIC, NULL);
	assert_cnt(NIC, 0);
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, "vfio-pci");
	assert_cnt(NIC, 0);
	check_invariants();
}

/* ---- S3/S4: GPU and HDMI audio in one group with the root port ---- */

static void add_gpu_group(bool audio)
{
	add_bridge(GRP, NULL, PCI_EXP_TYPE_ROOT_PORT, GPU_KEY);
	add_ep(GPU, GRP, 0x10de, 0x1b80, 0x030000, GPU_KEY);
	if (audio)
		add_ep(AUDIO, GRP, 0x10de, 0x10f0, 0x040300, GPU_KEY);
}

static void gpu_audio_group(void **state)
{
	char *before, *after;

	(void)state;
	add_gpu_group(true);
	assert_bound(GRP, "pcieport");
	assert_cnt(GRP, 0);		/* pcieport does not count */
	if (is_x86()) {
		assert_ptr_equal(grp(GPU), grp(GRP));
		assert_ptr_equal(grp(AUDIO), grp(GRP));
	}

	do_load("nouveau");
	assert_bound(GPU, "nouveau");
	assert_ptr_equal(grp(GPU), grp(GRP));
	assert_cnt(GPU, 1);
	do_load("snd_hda_intel");
	assert_bound(AUDIO, "snd_hda_intel");
	assert_ptr_equal(grp(AUDIO), grp(GRP));
	assert_int_equal(info_of(GPU).ndevices, 3);
	assert_cnt(GPU, 2);
	err_claim(EPERM, GPU);

	/* S3: the GPU moves to vfio-pci, the audio function still blocks */
	do_load("vfio-pci");
	do_unbind("nouveau", GPU);
	assert_cnt(GPU, 1);
	err_claim(EPERM, GPU);
	do_override(GPU, "vfio-pci");
	do_probe(BUS_PCI, GPU);
	assert_bound(GPU, "vfio-pci");
	assert_cnt(GPU, 1);
	err_claim(EPERM, GPU);

	/* ... and once the audio function follows, the claim works */
	do_unbind("snd_hda_intel", AUDIO);
	assert_cnt(GPU, 0);
	do_override(AUDIO, "vfio-pci");
	do_probe(BUS_PCI, AUDIO);
	assert_bound(AUDIO, "vfio-pci");
	assert_cnt(GPU, 0);
	do_claim(GPU);
	assert_bound(GRP, "pcieport");	/* never blocked the claim */
	assert_cnt(GPU, 1);
	assert_blocked(GPU);
	assert_blocked(AUDIO);
	assert_blocked(GRP);

	/* S4: the audio function back to its host driver while owned */
	do_override(AUDIO, "\n");
	do_unbind("vfio-pci", AUDIO);
	before = machine_serialize(self->m, NULL);
	assert_non_null(before);
	err_bind(EBUSY, "snd_hda_intel", AUDIO);
	err_probe(EINVAL, BUS_PCI, AUDIO);	/* the walk stops at -EBUSY */
	after = machine_serialize(self->m, NULL);
	assert_non_null(after);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_bound(AUDIO, NULL);
	assert_cnt(GPU, 1);

	/* the VMM lets go: the same bind succeeds */
	do_release(GPU);
	do_bind("snd_hda_intel", AUDIO);
	assert_cnt(GPU, 1);
	check_invariants();
}

/* ---- IOMMU registered after drivers bound ---- */

/*
 * x86: the IOMMU registers after e1000e (and nouveau, snd_hda_intel in a
 * shared group) bound. Each device joins its group at registration and is
 * counted on joining, so the group cannot be claimed under the drivers and
 * their unbinds are balanced.
 */
static void late_iommu_registration(void **state)
{
	(void)state;
	assert_non_null(self->iommu);
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_nic(NIC, RP, NIC_KEY);
	add_gpu_group(true);
	do_load("e1000e");
	do_load("nouveau");
	do_load("snd_hda_intel");
	assert_bound(NIC, "e1000e");
	assert_bound(GPU, "nouveau");
	assert_bound(AUDIO, "snd_hda_intel");
	assert_null(grp(NIC));
	assert_true(dev_(NIC)->dma_use.active);
	assert_null(dev_(NIC)->dma_use.group);

	assert_rc(0, iommu_device_register(self->iommu));
	assert_non_null(grp(NIC));
	assert_cnt(NIC, 1);		/* counted on joining */
	assert_cnt(RP, 0);		/* pcieport: nothing to count */
	assert_cnt(GPU, 2);
	assert_log("driver bound before its IOMMU");
	err_claim(EPERM, NIC);
	err_claim(EPERM, GPU);

	do_unbind("e1000e", NIC);
	assert_cnt(NIC, 0);
	do_unbind("snd_hda_intel", AUDIO);
	assert_cnt(GPU, 1);
	err_claim(EPERM, GPU);
	do_unbind("nouveau", GPU);
	assert_cnt(GPU, 0);
	do_claim(NIC);
	do_release(NIC);
	do_claim(GPU);
	do_release(GPU);
	do_bind("e1000e", NIC);
	assert_cnt(NIC, 1);
	check_invariants();
}

/*
 * IORT/devicetree: an IOMMU firmware describes but whose driver has not
 * registered defers every probe; the devices bind once it is there and
 * the deferred probes run again.
 */
static void fw_iommu_defer(void **state)
{
	(void)state;
	do_load("e1000e");
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_nic(NIC, RP, NIC_KEY);
	assert_bound(RP, NULL);
	assert_bound(NIC, NULL);
	assert_true(deferred(RP));
	assert_true(deferred(NIC));
	assert_null(grp(NIC));
	/* bus_rescan_devices_helper() passes on -EPROBE_DEFER */
	err_probe(EINVAL, BUS_PCI, NIC);
	err_bind(EAGAIN, "e1000e", NIC);

	assert_rc(0, iommu_device_register(self->iommu));
	/* the IOMMU driver's own bind kicks the deferred probes */
	driver_deferred_probe_trigger(self->m);
	assert_bound(RP, "pcieport");
	assert_bound(NIC, "e1000e");
	assert_false(deferred(NIC));
	assert_cnt(NIC, 1);
	assert_cnt(RP, 0);
	do_unbind("e1000e", NIC);
	assert_cnt(NIC, 0);
	check_invariants();
}

/* ---- really_probe() paths ---- */

/*
 * Every path of really_probe() on one device (spec section 4's table):
 * the driver's probe fails (dma_cleanup gives the count back), defers
 * (the same), succeeds; dma_configure fails because userspace owns the
 * group (nothing counted, so no dma_cleanup: with the v7 bus code a
 * cleanup would drop the owner's count).
 */
/*
 * call_driver_probe() logs a failed probe as pr_warn("%s: probe of %s
 * failed with error %d") in 6.1 and v6.6; 6.12 (since 6.8) logs it on the
 * device with dev_err(): "probe with driver %s failed with error %d".
 */
static void probe_failure_log_by_kernel(void **state)
{
	struct device_driver *e1000e;

	(void)state;
	e1000e = drv_("e1000e");
	do_unbind("e1000e", NIC);

	machine_set_kernel(self->m, MACHINE_KERNEL_6_12);
	driver_set_probe_fault(e1000e, -ENOMEM, 1);
	err_bind(ENOMEM, "e1000e", NIC);
	assert_log("e1000e " NIC ": probe with driver e1000e failed with error -12");
	assert_no_log("probe of " NIC);

	machine_log_clear(self->m);
	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	driver_set_probe_fault(e1000e, -ENOMEM, 1);
	err_bind(ENOMEM, "e1000e", NIC);
	assert_log("e1000e: probe of " NIC " failed with error -12");
	assert_no_log("probe with driver");

	machine_set_kernel(self->m, MACHINE_KERNEL_6_6);
	do_bind("e1000e", NIC);
	assert_bound(NIC, "e1000e");
}

static int _type(const char *dev, const char *buf)
{
	return iommu_group_store_type(grp(dev), buf);
}

/*
 * The group's type file with drivers bound. v6.6 and 6.12
 * (iommu_group_store_type()) refuse while the group is used, -EPERM, so
 * pcieport, which manages DMA itself and counts nothing, lets its port's
 * group change under it. 6.1 refuses while the device has any driver,
 * -EBUSY with "Device is still bound to driver", and refuses a group of
 * two devices outright; the real 6.1 kernel answered EBUSY with a driver
 * bound (issue 16's measurements).
 */
static void group_type_store_by_kernel(void **state)
{
	(void)state;
	assert_bound(NIC, "e1000e");
	assert_bound(RP, "pcieport");
	assert_rc(-EPERM, _type(NIC, "identity"));
	assert_rc(0, _type(RP, "identity"));
	assert_int_equal(grp(RP)->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	assert_rc(0, _type(RP, "auto"));

	machine_set_kernel(self->m, MACHINE_KERNEL_6_12);
	assert_rc(-EPERM, _type(NIC, "identity"));

	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	assert_rc(-EBUSY, _type(NIC, "identity"));
	assert_rc(-EBUSY, _type(RP, "identity"));
	assert_int_equal(log_count("iommu: Device is still bound to driver"), 2);
	assert_int_not_equal(grp(RP)->default_domain->type,
			     IOMMU_DOMAIN_IDENTITY);
	do_unbind("e1000e", NIC);
	assert_rc(0, _type(NIC, "identity"));
	assert_int_equal(grp(NIC)->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	/* DMA-FQ from DMA stays allowed under a driver */
	assert_rc(0, _type(NIC, "DMA"));
	do_bind("e1000e", NIC);
	assert_rc(0, _type(NIC, "DMA-FQ"));
	check_invariants();
}

/*
 * A device leaving the machine leaves its group: 6.1's
 * iommu_release_device() goes through iommu_group_remove_device() and
 * logs "Removing from iommu group N"; v6.6's and 6.12's go through
 * __iommu_group_remove_device() and log nothing.
 */
static void release_device_log_by_kernel(void **state)
{
	char want[128];

	(void)state;
	device_unregister(dev_(NIC));
	assert_no_log("Removing from iommu group");

	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	snprintf(want, sizeof(want), RP ": Removing from iommu group %d",
		 dev_(RP)->iommu_group->id);
	device_unregister(dev_(RP));
	assert_log(want);
	check_no_new_warn(__FILE__, __LINE__);
}

static void really_probe_paths(void **state)
{
	struct device_driver *e1000e;

	(void)state;
	e1000e = drv_("e1000e");
	assert_cnt(NIC, 1);
	do_unbind("e1000e", NIC);
	assert_cnt(NIC, 0);

	/* the driver's probe fails after dma_configure */
	driver_set_probe_fault(e1000e, -ENOMEM, 1);
	err_bind(ENOMEM, "e1000e", NIC);
	assert_log("e1000e: probe of " NIC " failed with error -12");
	assert_bound(NIC, NULL);
	assert_cnt(NIC, 0);
	assert_false(deferred(NIC));

	/* the driver's probe defers: sysfs says EAGAIN */
	driver_set_probe_fault(e1000e, -EPROBE_DEFER, 1);
	err_bind(EAGAIN, "e1000e", NIC);
	/* call_driver_probe() (v6.6) says so with dev_dbg(): not logged */
	assert_no_log("requests probe deferral");
	assert_bound(NIC, NULL);
	assert_cnt(NIC, 0);

	/* success */
	do_bind("e1000e", NIC);
	assert_cnt(NIC, 1);

	/* dma_configure fails: a kernel driver into a user-owned group */
	do_load("vfio-pci");
	do_override(NIC, "vfio-pci");
	do_unbind("e1000e", NIC);
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, "vfio-pci");
	do_claim(NIC);
	hotplug_nic(NIC2, RP, NIC_KEY);
	assert_bound(NIC2, NULL);
	assert_ptr_equal(grp(NIC2), grp(NIC));
	assert_blocked(NIC2);
	assert_false(deferred(NIC2));
	assert_false(dev_(NIC2)->dma_use.active);
	assert_cnt(NIC, 1);
	err_bind(EBUSY, "e1000e", NIC2);
	assert_cnt(NIC, 1);
	assert_ptr_equal(info_of(NIC).owner, VMM);
	assert_no_log("probe of " NIC2);

	/* the owner leaves: the host driver binds */
	do_release(NIC);
	do_probe(BUS_PCI, NIC2);
	assert_bound(NIC2, "e1000e");
	assert_cnt(NIC, 1);
	check_invariants();
}

/*
 * A probe that fails after dma_configure leaves owner_cnt as it was, also
 * on the very first probe (where IORT/devicetree put the device in its
 * group) and next to a sibling that holds a count.
 */
static void probe_fault_enomem(void **state)
{
	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	do_load("e1000e");
	driver_set_probe_fault(drv_("e1000e"), -ENOMEM, 1);
	hotplug_nic(NIC, RP, NIC_KEY);
	assert_bound(NIC, NULL);
	assert_non_null(grp(NIC));	/* dma_configure ran */
	assert_cnt(NIC, 0);
	assert_false(deferred(NIC));
	assert_log("e1000e: probe of " NIC " failed with error -12");

	do_probe(BUS_PCI, NIC);		/* the fault is spent */
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, 1);

	/* the sibling's failure leaves the NIC's count alone */
	driver_set_probe_fault(drv_("e1000e"), -ENOMEM, 1);
	hotplug_nic(NIC2, RP, NIC_KEY);
	assert_bound(NIC2, NULL);
	assert_ptr_equal(grp(NIC2), grp(NIC));
	assert_cnt(NIC, 1);
	do_bind("e1000e", NIC2);
	assert_cnt(NIC, 2);

	/* every probe failing: drivers_probe still reports success */
	do_unbind("e1000e", NIC2);
	driver_set_probe_fault(drv_("e1000e"), -ENOMEM, -1);
	do_probe(BUS_PCI, NIC2);
	do_probe(BUS_PCI, NIC2);
	assert_bound(NIC2, NULL);
	assert_cnt(NIC, 1);
	driver_set_probe_fault(drv_("e1000e"), 0, 0);
	do_probe(BUS_PCI, NIC2);
	assert_cnt(NIC, 2);
	check_invariants();
}

/*
 * -EPROBE_DEFER from the driver: the device goes on the deferred list with
 * its count given back, and binds when another driver binds or the
 * deferred probes run. A sysfs bind that defers is not queued (the kernel
 * binds through __driver_probe_device() there).
 */
static void probe_fault_defer(void **state)
{
	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	do_load("e1000e");
	driver_set_probe_fault(drv_("e1000e"), -EPROBE_DEFER, 1);
	hotplug_nic(NIC, RP, NIC_KEY);
	assert_bound(NIC, NULL);
	assert_true(deferred(NIC));
	assert_cnt(NIC, 0);
	/* call_driver_probe() (v6.6): a dev_dbg(), not in the default log */
	assert_no_log("requests probe deferral");
	assert_no_log("probe of " NIC " failed");

	/* another driver binds: the deferred NIC is retried and binds */
	add_ep("0005:01:00.0", NULL, 0x8086, 0x1533, 0x020000, 0);
	assert_bound(NIC, NULL);
	do_load("igb");
	assert_bound("0005:01:00.0", "igb");
	assert_bound(NIC, "e1000e");
	assert_false(deferred(NIC));
	assert_cnt(NIC, 1);

	/* deferred again through drivers_probe; the trigger binds it */
	do_unbind("e1000e", NIC);
	driver_set_probe_fault(drv_("e1000e"), -EPROBE_DEFER, 1);
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, NULL);
	assert_true(deferred(NIC));
	assert_cnt(NIC, 0);
	driver_deferred_probe_trigger(self->m);
	assert_bound(NIC, "e1000e");
	assert_false(deferred(NIC));
	assert_cnt(NIC, 1);

	/* a sysfs bind that defers: EAGAIN, not queued */
	do_unbind("e1000e", NIC);
	driver_set_probe_fault(drv_("e1000e"), -EPROBE_DEFER, 1);
	err_bind(EAGAIN, "e1000e", NIC);
	assert_false(deferred(NIC));
	assert_cnt(NIC, 0);
	do_unbind("igb", "0005:01:00.0");
	do_bind("igb", "0005:01:00.0");	/* a bind triggers: nothing queued */
	assert_bound(NIC, NULL);
	assert_cnt(NIC, 0);

	/* a deferred device that goes away leaves the list */
	driver_set_probe_fault(drv_("e1000e"), -EPROBE_DEFER, 1);
	do_probe(BUS_PCI, NIC);
	assert_true(deferred(NIC));
	device_unregister(dev_(NIC));
	check_no_new_warn(__FILE__, __LINE__);
	assert_true(list_empty(&self->m->deferred_probe));
	driver_deferred_probe_trigger(self->m);
	check_invariants();
}

/*
 * "device attach failed (%d)" comes from pci_bus_add_device() (v6.6) only:
 * a device added into a group userspace owns gets it once, a deferred
 * device whose retry (deferred_probe_work_func() -> bus_probe_device())
 * fails the same way gets nothing.
 */
static void attach_failed_only_on_add(void **state)
{
	struct device *nic;

	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	do_load("e1000e");
	do_load("vfio-pci");
	/* NIC2 defers; NIC, in its group, goes to vfio-pci and is claimed */
	driver_set_probe_fault(drv_("e1000e"), -EPROBE_DEFER, -1);
	hotplug_nic(NIC2, RP, NIC_KEY);
	assert_true(deferred(NIC2));
	nic = alloc_ep(NIC, RP, 0x8086, 0x10d3, 0x020000, NIC_KEY);
	assert_rc(0, driver_override_store(nic, "vfio-pci"));
	assert_rc(0, device_hotplug_add(nic));
	assert_bound(NIC, "vfio-pci");
	assert_true(deferred(NIC2));	/* retried by the bind: deferred again */
	assert_int_equal(log_count("device attach failed"), 0);
	do_claim(NIC);

	/* the retry's dma_configure fails with EBUSY: not reported */
	driver_set_probe_fault(drv_("e1000e"), 0, 0);
	driver_deferred_probe_trigger(self->m);
	assert_false(deferred(NIC2));
	assert_bound(NIC2, NULL);
	assert_int_equal(log_count("device attach failed"), 0);

	/* a device added into the owned group: reported once */
	device_unregister(dev_(NIC2));
	check_no_new_warn(__FILE__, __LINE__);
	hotplug_nic("0004:01:00.2", RP, NIC_KEY);
	assert_bound("0004:01:00.2", NULL);
	assert_int_equal(log_count("device attach failed (-16)"), 1);
	assert_log("0004:01:00.2: device attach failed (-16)");
	do_release(NIC);
	check_invariants();
}

/* ---- PCI sysfs attributes ---- */

/* S7: driver_override set, shown, cleared, and what it does to matching. */
static void pci_driver_override(void **state)
{
	char *buf;

	(void)state;
	assert_null(driver_override_show(dev_(NIC)));
	do_override(NIC, "vfio-pci");
	assert_string_equal(driver_override_show(dev_(NIC)), "vfio-pci");
	do_override(NIC, "");
	assert_null(driver_override_show(dev_(NIC)));
	do_override(NIC, "vfio-pci\n");
	assert_string_equal(driver_override_show(dev_(NIC)), "vfio-pci");
	do_override(NIC, "\n");
	assert_null(driver_override_show(dev_(NIC)));
	do_override(NIC, "igb");	/* a driver not loaded is fine */
	assert_string_equal(driver_override_show(dev_(NIC)), "igb");
	/* the first newline ends the name */
	do_override(NIC, "vfio-pci\nrest");
	assert_string_equal(driver_override_show(dev_(NIC)), "vfio-pci");
	do_override(NIC, "\nrest");
	assert_null(driver_override_show(dev_(NIC)));
	assert_bound(NIC, "e1000e");	/* none of this rebinds */

	/* PAGE_SIZE - 1 bytes and more are refused (sysfs_emit() room) */
	buf = malloc(4096);
	assert_non_null(buf);
	memset(buf, 'x', 4095);
	buf[4095] = '\0';
	err_override(EINVAL, NIC, buf);
	buf[4094] = '\0';
	do_override(NIC, buf);
	assert_int_equal(strlen(driver_override_show(dev_(NIC))), 4094);
	free(buf);

	/* the override restricts matching to the named driver */
	do_load("vfio-pci");
	do_override(NIC, "vfio-pci");
	err_bind(EBUSY, "vfio-pci", NIC);	/* bound to e1000e still */
	do_unbind("e1000e", NIC);
	err_bind(ENODEV, "e1000e", NIC);
	assert_bound(NIC, NULL);
	do_bind("vfio-pci", NIC);
	assert_bound(NIC, "vfio-pci");
	assert_cnt(NIC, 0);

	/* an override naming a driver that does not exist binds nothing */
	do_override(NIC, "no-such-driver");
	do_unbind("vfio-pci", NIC);
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, NULL);

	/* cleared and re-probed: the host driver comes back (S7) */
	do_override(NIC, "\n");
	err_bind(ENODEV, "vfio-pci", NIC);	/* no ids of its own */
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, 1);
	check_invariants();
}

/* the state's text (driver_subsys_serialize()...) has @line */
static void assert_state_has(const char *line)
{
	char *text = machine_state_serialize(self->m, NULL);

	assert_non_null(text);
	if (!strstr(text, line))
		fail_msg("no \"%s\" in:\n%s", line, text);
	free(text);
}

/* S10: new_id binds every free match; twice is EEXIST; remove_id. */
static void pci_new_id(void **state)
{
	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_nic("0004:01:00.0", RP, 0);
	add_nic("0004:02:00.0", RP, 0);
	add_nic("0004:03:00.0", RP, 0);
	add_ep("0004:04:00.0", RP, 0x1af4, 0x1041, 0x020000, 0);
	do_load("e1000e");
	do_unbind("e1000e", "0004:02:00.0");
	do_unbind("e1000e", "0004:03:00.0");
	do_load("vfio-pci");
	assert_bound("0004:02:00.0", NULL);

	do_new_id("vfio-pci", "8086 10d3\n");
	driver_set_probe_fault(drv_("vfio-pci"), ENODEV, 12);
	assert_state_has("\ndriver pci/vfio-pci fail=-19/12 dynids="
			 "8086:10d3:ffffffff:ffffffff:0:0\n");
	driver_set_probe_fault(drv_("vfio-pci"), 0, 0);
	assert_state_has("\ndriver pci/vfio-pci fail=0/0 dynids="
			 "8086:10d3:ffffffff:ffffffff:0:0\n");
	assert_bound("0004:01:00.0", "e1000e");	/* bound: stays */
	assert_bound("0004:02:00.0", "vfio-pci");
	assert_bound("0004:03:00.0", "vfio-pci");
	assert_bound("0004:04:00.0", NULL);
	assert_cnt("0004:01:00.0", 1);
	assert_cnt("0004:02:00.0", 0);
	assert_cnt("0004:03:00.0", 0);

	err_new_id(EEXIST, "vfio-pci", "8086 10d3");
	err_new_id(EEXIST, "vfio-pci", "8086 10d3 ffffffff ffffffff");
	err_new_id(EEXIST, "e1000e", "8086 10d3");	/* its static table */
	err_new_id(EINVAL, "vfio-pci", "8086");
	err_new_id(EINVAL, "vfio-pci", "");
	err_new_id(EINVAL, "vfio-pci", "zzzz 10d3");

	/* a new_id with all fields; then remove_id */
	do_new_id("vfio-pci", "1af4 1041 ffffffff ffffffff 020000 ffffff");
	assert_bound("0004:04:00.0", "vfio-pci");
	do_remove_id("vfio-pci", "1af4 1041");
	err_remove_id(ENODEV, "vfio-pci", "1af4 1041");
	do_remove_id("vfio-pci", "8086 10d3\n");
	err_remove_id(ENODEV, "vfio-pci", "8086 10d3");
	err_remove_id(EINVAL, "vfio-pci", "8086");
	err_remove_id(ENODEV, "e1000e", "8086 10d3");	/* static, not dyn */

	/* removing an id unbinds nothing, but new binds no longer match */
	assert_bound("0004:02:00.0", "vfio-pci");
	do_unbind("vfio-pci", "0004:03:00.0");
	err_bind(ENODEV, "vfio-pci", "0004:03:00.0");
	do_new_id("vfio-pci", "8086 10d3");		/* fine again */
	assert_bound("0004:03:00.0", "vfio-pci");
	check_invariants();
}

/* bind, unbind and drivers_probe: every errno they give. */
static void pci_bind_unbind_errnos(void **state)
{
	(void)state;
	do_load("igb");
	do_load("vfio-pci");
	do_override(NIC, "vfio-pci");

	err_bind(ENODEV, "e1000e", NIC);	/* the override */
	do_override(NIC, "\n");
	err_bind(EBUSY, "e1000e", NIC);		/* bound already */
	do_override(NIC, "vfio-pci");
	err_bind(EBUSY, "vfio-pci", NIC);	/* bound to another */
	do_override(NIC, "");
	err_bind(ENODEV, "igb", NIC);		/* does not match */
	err_bind(ENODEV, "e1000e", "0000:99:00.0");	/* no device */
	err_bind(ENODEV, "e1000e", "");
	err_unbind(ENODEV, "igb", NIC);		/* not bound to igb */
	err_unbind(ENODEV, "vfio-pci", NIC);
	err_unbind(ENODEV, "e1000e", "0000:99:00.0");
	err_probe(ENODEV, BUS_PCI, "0000:99:00.0");
	err_probe(ENODEV, BUS_PLATFORM, NIC);	/* not on that bus */
	do_probe(BUS_PCI, NIC);			/* bound: nothing to do */
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, 1);

	/* drivers_probe reports success when no driver matches */
	add_ep("0004:05:00.0", RP, 0x1234, 0x5678, 0xff0000, 0);
	do_probe(BUS_PCI, "0004:05:00.0");
	assert_bound("0004:05:00.0", NULL);

	/* unbind, then unbind again */
	do_unbind("e1000e", NIC "\n");
	err_unbind(ENODEV, "e1000e", NIC);
	assert_cnt(NIC, 0);
	do_bind("e1000e", NIC "\n");
	assert_cnt(NIC, 1);
	check_invariants();
}

/* drivers_autoprobe: "0" stops binding at driver load and hot-add. */
static void pci_autoprobe(void **state)
{
	struct bus_type *pci = machine_bus(self->m, BUS_PCI);

	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	assert_true(drivers_autoprobe_show(pci));
	err_autoprobe(EINVAL, BUS_PCI, "2");
	err_autoprobe(EINVAL, BUS_PCI, "");
	err_autoprobe(EINVAL, BUS_PCI, "yes");
	err_autoprobe(EINVAL, BUS_PCI, "01");
	assert_true(drivers_autoprobe_show(pci));

	do_autoprobe(BUS_PCI, "0\n");
	assert_false(drivers_autoprobe_show(pci));
	add_nic(NIC, RP, 0);
	do_load("e1000e");
	assert_bound(NIC, NULL);		/* not at driver load */
	hotplug_nic(NIC2, RP, 0);
	assert_bound(NIC2, NULL);		/* nor at hot-add */
	if (is_x86())
		assert_cnt(NIC, 0);		/* grouped, not counted */
	/* explicit binds still work */
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, 1);
	/* the deferred retry goes through bus_probe_device(): not now */
	driver_set_probe_fault(drv_("e1000e"), -EPROBE_DEFER, 1);
	do_probe(BUS_PCI, NIC2);
	assert_true(deferred(NIC2));
	driver_deferred_probe_trigger(self->m);
	assert_bound(NIC2, NULL);
	assert_false(deferred(NIC2));
	/* new_id and the ids= parameter attach whatever autoprobe says */
	do_load("vfio-pci");
	do_new_id("vfio-pci", "8086 10d3");
	assert_bound(NIC2, "vfio-pci");
	do_unbind("vfio-pci", NIC2);
	do_unload("vfio-pci");
	assert_rc(0, driver_load_params(self->m, "vfio-pci", "ids=8086:10d3"));
	assert_bound(NIC2, "vfio-pci");
	assert_bound(NIC, "e1000e");
	do_unload("vfio-pci");
	assert_bound(NIC2, NULL);

	do_autoprobe(BUS_PCI, "1");
	assert_true(drivers_autoprobe_show(pci));
	assert_bound(NIC2, NULL);	/* turning it on binds nothing */
	hotplug_nic("0004:02:00.0", RP, 0);
	assert_bound("0004:02:00.0", "e1000e");
	do_unload("e1000e");
	do_load("e1000e");
	assert_bound(NIC, "e1000e");
	assert_bound(NIC2, "e1000e");
	assert_cnt(NIC2, 1);
	check_invariants();
}

/* S11/S6: vfio-pci refuses bridges, and devices without a group. */
static void pci_vfio_refusals(void **state)
{
	(void)state;
	do_load("vfio-pci");
	do_override(RP, "vfio-pci");
	do_unbind("pcieport", RP);
	err_bind(EINVAL, "vfio-pci", RP);
	assert_log("vfio-pci: probe of " RP " failed with error -22");
	assert_bound(RP, NULL);
	/* the driver's own refusal is no error for drivers_probe */
	do_probe(BUS_PCI, RP);
	assert_bound(RP, NULL);
	do_override(RP, "\n");
	do_probe(BUS_PCI, RP);
	assert_bound(RP, "pcieport");
	check_invariants();
}

/*
 * S6: no IOMMU (the API built in, no hardware): no groups; DMA-API drivers
 * bind, vfio-pci cannot.
 */
static void no_iommu(void **state)
{
	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_nic(NIC, RP, 0);
	do_load("e1000e");
	assert_bound(RP, "pcieport");
	assert_bound(NIC, "e1000e");
	assert_null(grp(NIC));
	assert_null(iommu_group_get(dev_(NIC)));
	assert_true(dev_(NIC)->dma_use.active);

	do_load("vfio-pci");
	do_override(NIC, "vfio-pci");
	do_unbind("e1000e", NIC);
	err_bind(EINVAL, "vfio-pci", NIC);
	assert_log("vfio-pci: probe of " NIC " failed with error -22");
	assert_bound(NIC, NULL);
	assert_rc(-ENODEV, iommu_group_claim_dma_owner(NULL, VMM));
	do_override(NIC, "");
	do_probe(BUS_PCI, NIC);
	assert_bound(NIC, "e1000e");
	do_unbind("e1000e", NIC);
	assert_false(dev_(NIC)->dma_use.active);
	check_invariants();
}

/*
 * CONFIG_IOMMU_API=n: VFIO selects IOMMU_API (drivers/vfio/Kconfig, v6.6),
 * so no vfio bus driver exists to load: modprobe finds no module, -ENOENT.
 * DMA-API drivers bind as usual, without groups.
 */
static void no_iommu_api_no_vfio(void **state)
{
	static const char *const vfio_drivers[] = {
		"vfio-pci", "vfio_pci", "mlx5-vfio-pci", "vfio-platform",
		"vfio-amba", "vfio-fsl-mc",
	};

	(void)state;
	add_bridge(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_nic(NIC, RP, 0);
	do_load("e1000e");
	assert_bound(NIC, "e1000e");
	assert_null(grp(NIC));
	for (size_t i = 0; i < sizeof(vfio_drivers) / sizeof(vfio_drivers[0]);
	     i++)
		err_load(ENOENT, vfio_drivers[i]);
	do_load("pci-stub");	/* not VFIO: there */
	check_invariants();
}

/* pcieport takes PCIe root and switch ports only (S12's group too). */
static void pcieport_ports(void **state)
{
	(void)state;
	add_bridge("0000:00:1e.0", NULL, PCI_EXP_TYPE_PCI_BRIDGE, 0);
	add_bridge("0000:00:1f.0", NULL, PCI_EXP_TYPE_NONE, 0);
	assert_bound("0000:00:1e.0", NULL);
	assert_bound("0000:00:1f.0", NULL);
	assert_no_log("probe of");		/* -ENODEV is silent */
	err_bind(ENODEV, "pcieport", "0000:00:1e.0");
	do_probe(BUS_PCI, "0000:00:1e.0");
	assert_bound("0000:00:1e.0", NULL);

	/* S12: downstream port and endpoint in one group */
	add_bridge("0000:00:02.1", NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_bridge("0000:03:00.0", "0000:00:02.1", PCI_EXP_TYPE_UPSTREAM, 0);
	add_bridge("0000:04:00.0", "0000:03:00.0", PCI_EXP_TYPE_DOWNSTREAM,
		   15);
	add_ep("0000:05:00.0", "0000:04:00.0", 0x8086, 0x15b8, 0x020000, 15);
	assert_bound("0000:00:02.1", "pcieport");
	assert_bound("0000:03:00.0", "pcieport");
	assert_bound("0000:04:00.0", "pcieport");
	do_load("vfio-pci");
	do_override("0000:05:00.0", "vfio-pci");
	do_probe(BUS_PCI, "0000:05:00.0");
	assert_bound("0000:05:00.0", "vfio-pci");
	assert_ptr_equal(grp("0000:04:00.0"), grp("0000:05:00.0"));
	assert_cnt("0000:05:00.0", 0);
	do_claim("0000:05:00.0");
	assert_bound("0000:04:00.0", "pcieport");
	do_release("0000:05:00.0");
	check_invariants();
}

/* S5: pci-stub holds a device away from its host driver, uncounted. */
static void pci_stub(void **state)
{
	(void)state;
	hotplug_nic(NIC2, RP, NIC_KEY);
	assert_cnt(NIC, 2);
	do_load("pci_stub");
	do_unbind("e1000e", NIC);
	do_new_id("pci-stub", "8086 10d3");
	assert_bound(NIC, "pci-stub");		/* the free one */
	assert_bound(NIC2, "e1000e");		/* bound: stays */
	assert_log("pci-stub " NIC ": claimed by stub");
	assert_no_log("pci-stub " NIC2);
	assert_cnt(NIC, 1);			/* NIC2's only */
	err_claim(EPERM, NIC);
	do_unbind("e1000e", NIC2);
	do_bind("pci-stub", NIC2);
	assert_log("pci-stub " NIC2 ": claimed by stub");
	assert_cnt(NIC, 0);
	do_claim(NIC);

	/* while userspace owns the group, pci-stub still binds a newcomer */
	hotplug_nic("0004:01:00.2", RP, NIC_KEY);
	assert_bound("0004:01:00.2", NULL);	/* e1000e: -EBUSY */
	assert_blocked("0004:01:00.2");
	do_bind("pci-stub", "0004:01:00.2");
	assert_bound("0004:01:00.2", "pci-stub");
	assert_cnt(NIC, 1);
	do_release(NIC);
	check_invariants();
}

/* virtio-pci takes device ids 0x1000..0x107f only. */
static void virtio_pci_ids(void **state)
{
	(void)state;
	add_ep("0000:00:03.0", NULL, 0x1af4, 0x1041, 0x020000, 0);
	add_ep("0000:00:04.0", NULL, 0x1af4, 0x1000, 0x020000, 0);
	add_ep("0000:00:05.0", NULL, 0x1af4, 0x107f, 0x020000, 0);
	add_ep("0000:00:06.0", NULL, 0x1af4, 0x1110, 0x050000, 0);
	add_ep("0000:00:07.0", NULL, 0x1af4, 0x0fff, 0x020000, 0);
	do_load("virtio_pci");
	assert_bound("0000:00:03.0", "virtio-pci");
	assert_bound("0000:00:04.0", "virtio-pci");
	assert_bound("0000:00:05.0", "virtio-pci");
	assert_bound("0000:00:06.0", NULL);
	assert_bound("0000:00:07.0", NULL);
	assert_cnt("0000:00:03.0", 1);
	assert_cnt("0000:00:06.0", 0);
	err_bind(ENODEV, "virtio-pci", "0000:00:06.0");
	err_bind(ENODEV, "virtio-pci", "0000:00:07.0");
	assert_no_log("probe of");
	check_invariants();
}

/* A vfio-pci variant driver binds its ids only through driver_override. */
static void override_only_variant(void **state)
{
	(void)state;
	add_ep("0000:3b:00.2", NULL, 0x15b3, 0x101e, 0x020000, 0);
	do_load("mlx5_vfio_pci");
	assert_true(driver_is_dma_managed(drv_("mlx5-vfio-pci")));
	assert_bound("0000:3b:00.2", NULL);
	err_bind(ENODEV, "mlx5-vfio-pci", "0000:3b:00.2");
	do_load("mlx5_core");
	assert_bound("0000:3b:00.2", "mlx5_core");
	assert_cnt("0000:3b:00.2", 1);

	do_override("0000:3b:00.2", "mlx5-vfio-pci");
	do_unbind("mlx5_core", "0000:3b:00.2");
	do_probe(BUS_PCI, "0000:3b:00.2");
	assert_bound("0000:3b:00.2", "mlx5-vfio-pci");
	assert_cnt("0000:3b:00.2", 0);
	do_claim("0000:3b:00.2");
	do_release("0000:3b:00.2");

	do_override("0000:3b:00.2", "\n");
	do_unbind("mlx5-vfio-pci", "0000:3b:00.2");
	err_bind(ENODEV, "mlx5-vfio-pci", "0000:3b:00.2");
	do_probe(BUS_PCI, "0000:3b:00.2");
	assert_bound("0000:3b:00.2", "mlx5_core");
	check_invariants();
}

/* S3's common variant: "modprobe vfio-pci ids=..." before the GPU drivers. */
static void vfio_pci_ids_param(void **state)
{
	struct machine *m = self->m;

	(void)state;
	err_load(EEXIST, "pcieport");
	assert_rc(-EINVAL, driver_load_params(m, "e1000e", "ids=8086:10d3"));
	assert_null(machine_find_driver(m, "e1000e"));
	assert_rc(-EINVAL, driver_load_params(m, "vfio-pci", "ids=10de"));
	assert_rc(-EINVAL, driver_load_params(m, "vfio-pci", "foo=1"));
	assert_null(machine_find_driver(m, "vfio-pci"));
	assert_rc(0, driver_load_params(m, "vfio_pci",
					"ids=10de:1b80,10de:10f0"));
	do_load("nouveau");
	do_load("snd_hda_intel");
	add_gpu_group(true);
	assert_bound(GPU, "vfio-pci");
	assert_bound(AUDIO, "vfio-pci");
	assert_cnt(GPU, 0);
	err_new_id(EEXIST, "vfio-pci", "10de 10f0");
	do_claim(GPU);
	do_release(GPU);
	check_invariants();
}

/* ---- driver_load() / driver_unload() ---- */

static void load_unload(void **state)
{
	(void)state;
	add_nic("0004:02:00.0", RP, 0);
	err_load(ENOENT, "no-such-driver");
	err_load(ENOENT, "");
	err_load(EEXIST, "e1000e");
	do_load("vfio_pci");
	err_load(EEXIST, "vfio-pci");
	err_load(EEXIST, "vfio_pci");
	assert_string_equal(driver_name(drv_("vfio_pci")), "vfio-pci");
	assert_ptr_equal(drv_("vfio_pci"), drv_("vfio-pci"));
	do_load("xhci_pci");			/* module name of xhci_hcd */
	assert_string_equal(driver_name(drv_("xhci_pci")), "xhci_hcd");
	err_load(EEXIST, "xhci_hcd");
	err_unload(ENOENT, "igb");
	assert_null(machine_find_driver(self->m, "igb"));

	/* unloading unbinds every device and gives every count back */
	assert_bound(NIC, "e1000e");
	assert_bound("0004:02:00.0", "e1000e");
	assert_cnt(NIC, 1);
	assert_cnt("0004:02:00.0", 1);
	do_unload("e1000e");
	assert_null(machine_find_driver(self->m, "e1000e"));
	assert_bound(NIC, NULL);
	assert_bound("0004:02:00.0", NULL);
	assert_cnt(NIC, 0);
	assert_cnt("0004:02:00.0", 0);
	err_unload(ENOENT, "e1000e");

	do_load("e1000e");
	assert_bound(NIC, "e1000e");
	assert_cnt(NIC, 1);

	/* a driver's dynamic ids go with it */
	do_new_id("vfio-pci", "1234 5678");
	do_unload("vfio_pci");
	do_load("vfio-pci");
	do_new_id("vfio-pci", "1234 5678");
	do_unload("pcieport");
	assert_bound(RP, NULL);
	assert_cnt(RP, 0);
	check_invariants();
}

/* ---- hot-plug ---- */

/* Into a group whose sibling has a kernel driver; then hot-removal. */
static void hotplug_bound_sibling(void **state)
{
	struct device *audio;

	(void)state;
	do_load("nouveau");
	do_load("snd_hda_intel");
	add_gpu_group(false);
	assert_bound(GPU, "nouveau");
	assert_cnt(GPU, 1);

	audio = alloc_ep(AUDIO, GRP, 0x10de, 0x10f0, 0x040300, GPU_KEY);
	get_device(audio);
	assert_rc(0, device_hotplug_add(audio));
	assert_bound(AUDIO, "snd_hda_intel");
	assert_ptr_equal(grp(AUDIO), grp(GPU));
	assert_cnt(GPU, 2);
	assert_int_equal(info_of(GPU).ndevices, 3);

	/* removal unbinds first (count back), then leaves the group */
	device_unregister(audio);
	check_no_new_warn(__FILE__, __LINE__);
	assert_null(machine_find_device(self->m, AUDIO));
	assert_null(audio->iommu_group);
	assert_null(audio->driver);
	assert_false(audio->dma_use.active);
	assert_cnt(GPU, 1);
	assert_int_equal(info_of(GPU).ndevices, 2);
	put_device(audio);

	device_unregister(dev_(GPU));
	check_no_new_warn(__FILE__, __LINE__);
	assert_cnt(GRP, 0);
	assert_int_equal(info_of(GRP).ndevices, 1);
	check_invariants();
}

/*
 * Into a group userspace owns: the newcomer is attached to the blocking
 * domain (x86: at add; IORT/DT: in the dma_configure of its failing
 * probe), no kernel driver binds (-EBUSY), owner_cnt does not move.
 */
static void hotplug_claimed_group(void **state)
{
	struct device *gpu;

	(void)state;
	do_load("vfio-pci");
	do_load("snd_hda_intel");
	add_bridge(GRP, NULL, PCI_EXP_TYPE_ROOT_PORT, GPU_KEY);
	gpu = alloc_ep(GPU, GRP, 0x10de, 0x1b80, 0x030000, GPU_KEY);
	assert_rc(0, driver_override_store(gpu, "vfio-pci"));
	assert_rc(0, device_add(gpu));
	assert_bound(GPU, "vfio-pci");
	do_claim(GPU);
	assert_cnt(GPU, 1);

	hotplug_ep(AUDIO, GRP, 0x10de, 0x10f0, 0x040300, GPU_KEY);
	assert_bound(AUDIO, NULL);
	assert_ptr_equal(grp(AUDIO), grp(GPU));
	assert_blocked(AUDIO);
	assert_false(deferred(AUDIO));
	assert_cnt(GPU, 1);
	assert_ptr_equal(info_of(GPU).owner, VMM);
	err_bind(EBUSY, "snd_hda_intel", AUDIO);
	err_probe(EINVAL, BUS_PCI, AUDIO);
	assert_bound(AUDIO, NULL);
	assert_cnt(GPU, 1);

	/* pci-stub (driver_managed_dma) is fine in an owned group (S5) */
	do_load("pci-stub");
	do_override(AUDIO, "pci-stub");
	do_probe(BUS_PCI, AUDIO);
	assert_bound(AUDIO, "pci-stub");
	assert_cnt(GPU, 1);

	/* hot-removal of an unbound and a stub-bound device */
	device_unregister(dev_(AUDIO));
	check_no_new_warn(__FILE__, __LINE__);
	assert_int_equal(info_of(GPU).ndevices, 2);
	assert_cnt(GPU, 1);
	do_release(GPU);
	assert_cnt(GPU, 0);
	check_invariants();
}

/* ---- platform, AMBA and fsl-mc (devicetree) ---- */

static void platform_dwc3(void **state)
{
	struct device *dev;

	(void)state;
	dev = alloc_dev("fe800000.usb", NULL, BUS_PLATFORM, 0);
	device_set_of_compatible(dev, "snps,dwc3");
	assert_rc(0, device_add(dev));
	assert_null(grp("fe800000.usb"));
	do_load("dwc3");
	assert_bound("fe800000.usb", "dwc3");
	assert_cnt("fe800000.usb", 1);
	err_claim(EPERM, "fe800000.usb");

	do_load("vfio_platform");
	assert_bound("fe800000.usb", "dwc3");
	do_override("fe800000.usb", "vfio-platform");
	err_bind(EBUSY, "vfio-platform", "fe800000.usb");
	do_unbind("dwc3", "fe800000.usb");
	assert_cnt("fe800000.usb", 0);
	err_bind(ENODEV, "dwc3", "fe800000.usb");	/* the override */
	/*
	 * vfio_platform_init_common() (v6.6): no reset module for dwc3 and
	 * reset_required=1 by default, so vfio-platform refuses the device
	 * with vfio_platform_get_reset()'s -ENOENT; loaded with
	 * reset_required=0 it takes it.
	 */
	err_bind(ENOENT, "vfio-platform", "fe800000.usb");
	assert_log("No reset function found for device");
	assert_cnt("fe800000.usb", 0);
	do_unload("vfio_platform");
	assert_rc(0, driver_load_params(self->m, "vfio_platform",
					"reset_required=0"));
	do_probe(BUS_PLATFORM, "fe800000.usb");
	assert_bound("fe800000.usb", "vfio-platform");
	assert_cnt("fe800000.usb", 0);
	do_claim("fe800000.usb");
	err_unbind(ENODEV, "dwc3", "fe800000.usb");
	do_release("fe800000.usb");

	do_override("fe800000.usb", "");
	do_unbind("vfio-platform", "fe800000.usb");
	err_bind(ENODEV, "vfio-platform", "fe800000.usb");
	do_bind("dwc3", "fe800000.usb");
	assert_cnt("fe800000.usb", 1);

	/* no compatible: the device name matches the driver name */
	dev = alloc_dev("dwc3", NULL, BUS_PLATFORM, 0);
	assert_rc(0, device_add(dev));
	assert_bound("dwc3", "dwc3");
	assert_cnt("dwc3", 1);
	dev = alloc_dev("fe900000.usb", NULL, BUS_PLATFORM, 0);
	device_set_of_compatible(dev, "snps,dwc2");
	assert_rc(0, device_add(dev));
	assert_bound("fe900000.usb", NULL);
	err_bind(ENODEV, "dwc3", "fe900000.usb");
	check_invariants();
}

static void amba_pl330(void **state)
{
	struct device *dev;

	(void)state;
	dev = alloc_dev("7ff00000.dma", NULL, BUS_AMBA, 0);
	device_set_amba_periphid(dev, 0x00041330);
	assert_rc(0, device_add(dev));
	dev = alloc_dev("7ff10000.dma", NULL, BUS_AMBA, 0);
	device_set_amba_periphid(dev, 0x00241330);	/* revision r2 */
	assert_rc(0, device_add(dev));
	dev = alloc_dev("7ff20000.serial", NULL, BUS_AMBA, 0);
	device_set_amba_periphid(dev, 0x00041011);
	assert_rc(0, device_add(dev));

	do_load("pl330");
	assert_bound("7ff00000.dma", "dma-pl330");
	assert_bound("7ff10000.dma", "dma-pl330");
	assert_bound("7ff20000.serial", NULL);
	err_bind(ENODEV, "dma-pl330", "7ff20000.serial");
	assert_cnt("7ff00000.dma", 1);
	assert_cnt("7ff10000.dma", 1);
	assert_null(grp("7ff20000.serial"));

	do_load("vfio-amba");
	do_override("7ff00000.dma", "vfio-amba");
	do_unbind("dma-pl330", "7ff00000.dma");
	assert_cnt("7ff00000.dma", 0);
	err_bind(ENODEV, "dma-pl330", "7ff00000.dma");
	do_probe(BUS_AMBA, "7ff00000.dma");
	assert_bound("7ff00000.dma", "vfio-amba");
	assert_cnt("7ff00000.dma", 0);
	do_claim("7ff00000.dma");
	do_override("7ff00000.dma", "\n");
	do_unbind("vfio-amba", "7ff00000.dma");
	err_bind(EBUSY, "dma-pl330", "7ff00000.dma");	/* owned */
	do_release("7ff00000.dma");
	do_bind("dma-pl330", "7ff00000.dma");
	assert_cnt("7ff00000.dma", 1);
	do_unload("pl330");
	assert_cnt("7ff00000.dma", 0);
	assert_cnt("7ff10000.dma", 0);
	check_invariants();
}

static void fsl_mc_dpni(void **state)
{
	struct device *dprc, *dev;

	(void)state;
	dprc = device_alloc(self->m, "dprc.1", NULL);
	assert_false(IS_ERR_OR_NULL(dprc));
	assert_rc(0, device_set_bus(dprc, BUS_FSL_MC));
	device_set_mc_type(dprc, "dprc");
	assert_rc(0, device_add(dprc));
	dev = alloc_dev("dpni.0", "dprc.1", BUS_FSL_MC, 0);
	device_set_mc_type(dev, "dpni");
	assert_rc(0, device_add(dev));
	dev = alloc_dev("dpni.1", "dprc.1", BUS_FSL_MC, 0);
	device_set_mc_type(dev, "dpni");
	assert_rc(0, device_add(dev));
	dev = alloc_dev("dpio.0", "dprc.1", BUS_FSL_MC, 0);
	device_set_mc_type(dev, "dpio");
	assert_rc(0, device_add(dev));

	do_load("fsl_dpaa2_eth");
	assert_bound("dpni.0", "fsl_dpaa2_eth");
	assert_bound("dpni.1", "fsl_dpaa2_eth");
	assert_bound("dpio.0", NULL);
	assert_bound("dprc.1", NULL);
	assert_cnt("dpni.0", 1);
	err_bind(ENODEV, "fsl_dpaa2_eth", "dpio.0");
	err_claim(EPERM, "dpni.0");

	do_load("vfio_fsl_mc");
	do_override("dpni.0", "vfio-fsl-mc");
	do_unbind("fsl_dpaa2_eth", "dpni.0");
	assert_cnt("dpni.0", 0);
	err_bind(ENODEV, "fsl_dpaa2_eth", "dpni.0");
	do_probe(BUS_FSL_MC, "dpni.0");
	assert_bound("dpni.0", "vfio-fsl-mc");
	assert_cnt("dpni.0", 0);
	do_claim("dpni.0");
	do_override("dpni.0", "");
	do_unbind("vfio-fsl-mc", "dpni.0");
	err_bind(EBUSY, "fsl_dpaa2_eth", "dpni.0");
	do_release("dpni.0");
	do_bind("fsl_dpaa2_eth", "dpni.0");
	assert_cnt("dpni.0", 1);
	do_unbind("fsl_dpaa2_eth", "dpni.1");
	assert_cnt("dpni.1", 0);
	check_invariants();
}

/* The seed's WARN on the other buses' dma_cleanup, v7 on devicetree. */
static void other_buses_v7(void **state)
{
	static const struct {
		const char *dev, *drv, *cleanup;
		enum bus_kind bus;
	} rows[] = {
		{ "fe800000.usb", "dwc3", "platform_dma_cleanup",
		  BUS_PLATFORM },
		{ "7ff00000.dma", "dma-pl330", "amba_dma_cleanup", BUS_AMBA },
		{ "dpni.0", "fsl_dpaa2_eth", "fsl_mc_dma_cleanup",
		  BUS_FSL_MC },
	};
	struct device *dev;

	(void)state;
	assert_true(is_v7());
	dev = alloc_dev("fe800000.usb", NULL, BUS_PLATFORM, 0);
	device_set_of_compatible(dev, "snps,dwc3");
	assert_rc(0, device_add(dev));
	dev = alloc_dev("7ff00000.dma", NULL, BUS_AMBA, 0);
	device_set_amba_periphid(dev, 0x00041330);
	assert_rc(0, device_add(dev));
	dev = device_alloc(self->m, "dprc.1", NULL);
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_FSL_MC));
	device_set_mc_type(dev, "dprc");
	assert_rc(0, device_add(dev));
	dev = alloc_dev("dpni.0", "dprc.1", BUS_FSL_MC, 0);
	device_set_mc_type(dev, "dpni");
	assert_rc(0, device_add(dev));

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		do_load(rows[i].drv);
		assert_bound(rows[i].dev, rows[i].drv);
		assert_cnt(rows[i].dev, 0);	/* the v7 bug: not counted */
		assert_int_equal(_unbind(rows[i].drv, rows[i].dev), 0);
		assert_int_equal(machine_warn_count(self->m), self->warns + 1);
		assert_seed_trace(machine_warn(self->m, self->warns),
				  rows[i].cleanup);
		self->warns++;
		assert_cnt(rows[i].dev, 0);
	}
	check_invariants();
}

/* ---- fail-nth: every fallible step of the seed, failed in turn ---- */

static void sweep_ops(struct machine *m)
{
	struct bus_type *pci = machine_bus(m, BUS_PCI);
	struct device_driver *e1000e, *vfio;
	struct device *rp = machine_find_device(m, RP), *nic, *nic2;
	struct iommu_device *iommu = NULL;
	struct iommu_group *group;

	if (!list_empty(&m->iommus))
		iommu = list_first_entry(&m->iommus, struct iommu_device,
					 node);
	nic2 = device_alloc(m, NIC2, rp);
	if (!IS_ERR(nic2)) {
		device_set_bus(nic2, BUS_PCI);
		device_set_pci_ids(nic2, 0x8086, 0x10d3, 0x8086, 1, 0x020000);
		device_set_pci_type(nic2, PCI_HEADER_TYPE_NORMAL,
				    PCI_EXP_TYPE_ENDPOINT);
		device_set_fw_iommu(nic2, iommu, NIC_KEY);
		device_hotplug_add(nic2);
	}
	e1000e = machine_find_driver(m, "e1000e");
	unbind_store(e1000e, NIC);
	bind_store(e1000e, NIC);
	driver_load(m, "vfio-pci");
	vfio = machine_find_driver(m, "vfio-pci");
	nic = machine_find_device(m, NIC);
	driver_override_store(nic, "vfio-pci\n");
	unbind_store(e1000e, NIC);
	drivers_probe_store(pci, NIC);
	if (!IS_ERR(nic2)) {
		driver_override_store(nic2, "vfio-pci");
		unbind_store(e1000e, NIC2);
		drivers_probe_store(pci, NIC2);
	}
	group = nic->iommu_group;
	if (group && !iommu_group_claim_dma_owner(group, VMM))
		iommu_group_release_dma_owner(group);
	if (vfio)
		unbind_store(vfio, NIC);
	driver_override_store(nic, "\n");
	drivers_probe_store(pci, NIC);
	if (!IS_ERR(nic2))
		device_unregister(nic2);
	driver_unload(m, "e1000e");
	driver_load(m, "e1000e");
}

static void fail_nth_sweep(void **state)
{
	unsigned int n;

	(void)state;
	for (n = 1; n < 1000; n++) {
		struct machine *c = machine_clone(self->m);
		bool fired;

		assert_non_null(c);
		machine_set_fail_nth(c, n);
		sweep_ops(c);
		fired = machine_fault_fired(c);
		machine_set_fail_nth(c, 0);
		check_machine(c, 0, false, __FILE__, __LINE__);
		machine_destroy(c);
		if (!fired)
			break;
	}
	assert_true(n > 3);
	assert_true(n < 1000);
	check_invariants();
}

/* ---- the list ---- */

#define T(fn, setup, var) { #fn "@" #var, fn, setup, teardown, &var }
#define EVERY_FW(fn, setup) \
	T(fn, setup, var_x86), T(fn, setup, var_iort), T(fn, setup, var_dt)

int main(void)
{
	const struct CMUnitTest tests[] = {
		EVERY_FW(join_point, setup_bare),
		EVERY_FW(seed_scenario, setup_seed),
		T(seed_v7, setup_seed, var_x86_v7),
		T(seed_v7, setup_seed, var_iort_v7),
		T(seed_v7, setup_seed, var_dt_v7),
		EVERY_FW(gpu_audio_group, setup_bare),
		T(late_iommu_registration, setup_bare, var_x86_late),
		T(fw_iommu_defer, setup_bare, var_iort_late),
		T(fw_iommu_defer, setup_bare, var_dt_late),
		EVERY_FW(really_probe_paths, setup_seed),
		EVERY_FW(probe_failure_log_by_kernel, setup_seed),
		EVERY_FW(group_type_store_by_kernel, setup_seed),
		T(release_device_log_by_kernel, setup_seed, var_x86),
		T(really_probe_paths, setup_seed, var_x86_v7),
		EVERY_FW(probe_fault_enomem, setup_bare),
		EVERY_FW(probe_fault_defer, setup_bare),
		EVERY_FW(attach_failed_only_on_add, setup_bare),
		EVERY_FW(pci_driver_override, setup_seed),
		T(pci_new_id, setup_bare, var_x86),
		T(pci_bind_unbind_errnos, setup_seed, var_x86),
		EVERY_FW(pci_autoprobe, setup_bare),
		EVERY_FW(pci_vfio_refusals, setup_seed),
		T(no_iommu, setup_bare, var_nohw),
		T(no_iommu_api_no_vfio, setup_bare, var_noiommu),
		EVERY_FW(pcieport_ports, setup_bare),
		EVERY_FW(pci_stub, setup_seed),
		T(virtio_pci_ids, setup_bare, var_x86),
		T(override_only_variant, setup_bare, var_x86),
		T(load_unload, setup_seed, var_x86),
		EVERY_FW(vfio_pci_ids_param, setup_bare),
		EVERY_FW(hotplug_bound_sibling, setup_bare),
		EVERY_FW(hotplug_claimed_group, setup_bare),
		T(platform_dwc3, setup_bare, var_dt),
		T(amba_pl330, setup_bare, var_dt),
		T(fsl_mc_dpni, setup_bare, var_dt),
		T(platform_dwc3, setup_bare, var_iort),
		T(other_buses_v7, setup_bare, var_dt_v7),
		EVERY_FW(fail_nth_sweep, setup_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
