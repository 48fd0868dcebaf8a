// SPDX-License-Identifier: MIT
/*
 * Tests of machine description files (src/topology/topology.c,
 * docs/topology.md): every built-in machine boots clean and has the shape
 * its scenario needs (shared/spec/scenarios.md); every statement and option
 * of the grammar does what it says; every malformed input is refused with
 * the exact file:line:col and message, and without a leak (the suite also
 * runs under ASan).
 *
 * Helpers come in three forms: _load() returns what the loader returned,
 * do_load() asserts success, err_load() asserts the error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "dmaown/topology.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

/*
 * The built-in machines this file tests, first in builtin_machine_name()'s
 * order; more may follow them.
 */
static const char *const builtin_names[] = {
	"qdf2400",   "x86-desktop", "x86-server", "amd-desktop",
	"arm64-soc", "dpaa2",       "no-iommu",   "vfio-doc",
};

#define N_BUILTIN (sizeof(builtin_names) / sizeof(builtin_names[0]))

/* ---- helpers ---- */

static struct machine *_load(const char *text, struct topo_error *err)
{
	return topology_load_string("t.machine", text, err);
}

/* No WARN, and the invariants of the checker (I1-I4, I6) hold. */
static void check_clean(struct machine *m)
{
	char why[256] = "";
	unsigned int bad;

	assert_int_equal(machine_warn_count(m), 0);
	bad = machine_check_invariants(m, INV_ALL & ~INV_FAILED_NOOP, why,
				       sizeof(why));
	if (bad)
		fail_msg("%s: invariants %#x violated: %s", machine_name(m),
			 bad, why);
}

static struct machine *do_load(const char *text)
{
	struct topo_error err = { .line = -1 };
	struct machine *m = _load(text, &err);

	if (!m)
		fail_msg("load failed: %s:%d:%d: %s", err.file, err.line,
			 err.col, err.msg);
	assert_int_equal(err.line, -1); /* untouched on success */
	check_clean(m);
	return m;
}

static void check_err(const struct topo_error *err, const char *file,
		      int line, int col, const char *msg)
{
	if (strcmp(err->file, file) || err->line != line || err->col != col ||
	    strcmp(err->msg, msg))
		fail_msg("got      %s:%d:%d: %s\nexpected %s:%d:%d: %s",
			 err->file, err->line, err->col, err->msg, file, line,
			 col, msg);
}

static void err_load(const char *text, int line, int col, const char *msg)
{
	struct topo_error err;

	memset(&err, 0x5a, sizeof(err));
	assert_null(_load(text, &err));
	check_err(&err, "t.machine", line, col, msg);
	/* and again without an error report */
	assert_null(_load(text, NULL));
}

static struct machine *do_builtin(const char *name)
{
	struct topo_error err;
	struct machine *m = builtin_machine_load(name, &err);

	if (!m)
		fail_msg("%s: %s:%d:%d: %s", name, err.file, err.line, err.col,
			 err.msg);
	check_clean(m);
	return m;
}

/* An added device, or fail. */
static struct device *dev_(struct machine *m, const char *name)
{
	struct device *dev = machine_find_device(m, name);

	if (!dev)
		fail_msg("%s: no device %s", machine_name(m), name);
	return dev;
}

/* Any device, added or not (absent ones are not found otherwise). */
static struct device *any_dev(struct machine *m, const char *name)
{
	struct device *dev;

	list_for_each_entry(dev, &m->devices, node)
		if (!strcmp(dev->name, name))
			return dev;
	fail_msg("%s: no device %s at all", machine_name(m), name);
	return NULL;
}

static int group_id(struct machine *m, const char *name)
{
	struct iommu_group *group = dev_(m, name)->iommu_group;

	return group ? iommu_group_id(group) : -1;
}

static unsigned int group_size(struct machine *m, const char *name)
{
	struct iommu_group_info info;
	struct iommu_group *group = dev_(m, name)->iommu_group;

	if (!group)
		fail_msg("%s has no iommu group", name);
	iommu_group_get_info(group, &info);
	return info.ndevices;
}

static void assert_bound(struct machine *m, const char *name, const char *drv)
{
	const char *got = device_driver_name(dev_(m, name));

	if (drv ? !got || strcmp(got, drv) : got != NULL)
		fail_msg("%s bound to %s, expected %s", name,
			 got ? got : "(none)", drv ? drv : "(none)");
}

static const char *parent_name(struct machine *m, const char *name)
{
	struct device *parent = dev_(m, name)->parent;

	return parent ? device_name(parent) : "";
}

/* A temporary file holding @len bytes of @data; the caller unlinks it. */
static void write_tmp(char path[64], const char *data, size_t len)
{
	int fd;

	snprintf(path, 64, "/tmp/test-topology-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- the built-in machines ---- */

static void builtin_list(void **state)
{
	size_t n = builtin_machine_count();

	(void)state;
	assert_true(n >= N_BUILTIN);
	for (size_t i = 0; i < N_BUILTIN; i++)
		assert_string_equal(builtin_machine_name(i), builtin_names[i]);
	for (size_t i = 0; i < n; i++) {
		const char *name = builtin_machine_name(i);
		const char *text = builtin_machine_text(name);
		char head[128];

		assert_true(strlen(builtin_machine_summary(i)) > 10);
		assert_non_null(text);
		/* each file starts with comment lines saying what it is */
		assert_true(text[0] == '#');
		/* then the format they are written in, then their name */
		snprintf(head, sizeof(head), "\n\nformat %d\nmachine %s\n",
			 TOPOLOGY_FORMAT_VERSION, name);
		assert_non_null(strstr(text, head));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(builtin_machine_name(j), name);
	}
	assert_null(builtin_machine_name(n));
	assert_null(builtin_machine_summary(n));
	assert_null(builtin_machine_text("nope"));
	assert_null(builtin_machine_text(NULL));
}

static void builtin_unknown(void **state)
{
	const char *want =
		"unknown built-in machine 'nope'; expected qdf2400, x86-desktop, x86-server, ";
	struct topo_error err;

	(void)state;
	assert_null(builtin_machine_load("nope", &err));
	assert_string_equal(err.file, "builtin:nope");
	assert_int_equal(err.line, 0);
	assert_int_equal(err.col, 0);
	assert_true(!strncmp(err.msg, want, strlen(want)));
	assert_null(builtin_machine_load("nope", NULL));
}

/*
 * Every built-in machine: boots clean; two loads are the same machine; the
 * text loaded as a string and as a file gives that machine again.
 */
static void builtin_round_trip(void **state)
{
	char path[64];

	(void)state;
	for (size_t i = 0; i < builtin_machine_count(); i++) {
		const char *name = builtin_machine_name(i);
		const char *text = builtin_machine_text(name);
		struct machine *a = do_builtin(name), *b = do_builtin(name);
		struct machine *s, *f;

		assert_string_equal(machine_name(a), name);
		assert_true(machine_equal(a, b));
		s = do_load(text);
		assert_true(machine_equal(a, s));
		write_tmp(path, text, strlen(text));
		f = topology_load_file(path, NULL);
		unlink(path);
		assert_non_null(f);
		assert_true(machine_equal(a, f));
		machine_destroy(f);
		machine_destroy(s);
		machine_destroy(b);
		machine_destroy(a);
	}
}

/* S1: the NIC in group 3, bound to e1000e; same as building it in code. */
static void builtin_qdf2400(void **state)
{
	struct machine_config cfg = { .iommu_api = true,
				      .firmware = FW_ACPI_IORT };
	static const char *const ports[] = { "0000:00:00.0", "0002:00:00.0",
					     "0004:00:00.0" };
	struct machine *m = do_builtin("qdf2400"), *c;
	struct iommu_device *smmu;
	struct device *dev, *rp = NULL;

	(void)state;
	assert_int_equal(machine_get_config(m)->firmware, FW_ACPI_IORT);
	assert_int_equal(group_id(m, "0004:01:00.0"), 3);
	assert_bound(m, "0004:01:00.0", "e1000e");
	assert_string_equal(parent_name(m, "0004:01:00.0"), "0004:00:00.0");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(group_id(m, ports[i]), i);
		assert_bound(m, ports[i], "pcieport");
	}

	/* the same machine made with the device API, as src/cli does */
	c = machine_create("qdf2400", &cfg);
	assert_non_null(c);
	smmu = iommu_device_alloc(c, "arm-smmu-v3.0.auto",
				  IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY |
					  IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(iommu_device_register(smmu), 0);
	for (int i = 0; i < 3; i++) {
		rp = device_alloc(c, ports[i], NULL);
		device_set_bus(rp, BUS_PCI);
		device_set_pci_ids(rp, 0x17cb, 0x0400, 0, 0, 0x060400);
		device_set_pci_type(rp, PCI_HEADER_TYPE_BRIDGE,
				    PCI_EXP_TYPE_ROOT_PORT);
		device_set_fw_iommu(rp, smmu, 0);
		assert_int_equal(device_add(rp), 0);
	}
	dev = device_alloc(c, "0004:01:00.0", rp);
	device_set_bus(dev, BUS_PCI);
	device_set_pci_ids(dev, 0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000);
	device_set_pci_type(dev, PCI_HEADER_TYPE_NORMAL, PCI_EXP_TYPE_ENDPOINT);
	device_set_fw_iommu(dev, smmu, 0);
	assert_int_equal(device_add(dev), 0);
	assert_int_equal(driver_load(c, "pcieport"), 0);
	assert_int_equal(driver_load(c, "e1000e"), 0);
	assert_true(machine_equal(m, c));
	machine_destroy(c);
	machine_destroy(m);
}

/* S3, S9: GPU + audio + root port in group 1; RMRR devices alone. */
static void builtin_x86_desktop(void **state)
{
	struct machine *m = do_builtin("x86-desktop");

	(void)state;
	assert_int_equal(machine_get_config(m)->firmware, FW_X86);
	assert_int_equal(group_id(m, "0000:00:01.0"), 1);
	assert_int_equal(group_id(m, "0000:01:00.0"), 1);
	assert_int_equal(group_id(m, "0000:01:00.1"), 1);
	assert_int_equal(group_size(m, "0000:01:00.0"), 3);
	assert_bound(m, "0000:00:01.0", "pcieport");
	assert_bound(m, "0000:01:00.0", "nouveau");
	assert_bound(m, "0000:01:00.1", "snd_hda_intel");
	assert_string_equal(parent_name(m, "0000:01:00.1"), "0000:00:01.0");

	assert_bound(m, "0000:00:02.0", "i915");
	assert_bound(m, "0000:00:14.0", "xhci_hcd");
	/*
	 * their RMRRs are direct-relaxable on VT-d (v6.6's
	 * device_rmrr_is_relaxable(): a display device, a USB controller),
	 * so neither needs 1:1 mappings
	 */
	assert_int_equal(dev_(m, "0000:00:02.0")->fw.nr_direct, 1);
	assert_int_equal(dev_(m, "0000:00:14.0")->fw.nr_direct, 1);
	assert_false(dev_require_direct(dev_(m, "0000:00:02.0")));
	assert_false(dev_require_direct(dev_(m, "0000:00:14.0")));
	assert_false(dev_require_direct(dev_(m, "0000:01:00.0")));
	assert_int_equal(group_size(m, "0000:00:02.0"), 1);
	assert_int_equal(group_size(m, "0000:00:14.0"), 1);

	assert_bound(m, "0000:02:00.0", "e1000e");
	assert_bound(m, "0000:03:00.0", "e1000e");
	assert_string_equal(parent_name(m, "0000:03:00.0"), "0000:00:1c.0");
	assert_int_equal(group_size(m, "0000:03:00.0"), 1);
	assert_int_equal(dev_(m, "0000:03:00.0")->ids.device, 0x15b8);
	machine_destroy(m);
}

/* S10, S12-like, S13; the absent hot-plug NVMe. */
static void builtin_x86_server(void **state)
{
	struct machine *m = do_builtin("x86-server");
	struct device *bay;

	(void)state;
	assert_bound(m, "0000:65:00.0", "nvme");
	assert_int_equal(dev_(m, "0000:65:00.0")->ids.class, 0x010802);
	assert_int_equal(group_size(m, "0000:65:00.0"), 1);

	assert_bound(m, "0000:18:00.0", "ixgbe");
	assert_bound(m, "0000:18:00.1", "ixgbe");
	assert_int_equal(group_id(m, "0000:18:00.0"),
			 group_id(m, "0000:18:00.1"));
	assert_int_equal(group_size(m, "0000:18:00.0"), 2);

	/* the switch */
	assert_int_equal(dev_(m, "0000:02:00.0")->ids.pcie_type,
			 PCI_EXP_TYPE_UPSTREAM);
	assert_int_equal(dev_(m, "0000:03:01.0")->ids.pcie_type,
			 PCI_EXP_TYPE_DOWNSTREAM);
	assert_string_equal(parent_name(m, "0000:03:00.0"), "0000:02:00.0");
	assert_string_equal(parent_name(m, "0000:04:00.0"), "0000:03:00.0");
	assert_bound(m, "0000:02:00.0", "pcieport");
	assert_bound(m, "0000:04:00.0", "mlx5_core");
	assert_int_equal(group_size(m, "0000:04:00.0"), 1);
	/* S12's shape: the downstream port shares its endpoint's group */
	assert_bound(m, "0000:03:01.0", "pcieport");
	assert_bound(m, "0000:05:00.0", NULL);
	assert_int_equal(group_id(m, "0000:03:01.0"),
			 group_id(m, "0000:05:00.0"));
	assert_int_equal(group_size(m, "0000:05:00.0"), 2);

	/* the bay is described but not plugged in; plugging it in binds */
	assert_null(machine_find_device(m, "0000:66:00.0"));
	bay = any_dev(m, "0000:66:00.0");
	assert_true(bay->absent);
	assert_int_equal(pci_rescan_bus(m), 0);
	device_set_absent(bay, false);
	assert_int_equal(pci_rescan_bus(m), 1);
	assert_bound(m, "0000:66:00.0", "nvme");
	assert_true(group_id(m, "0000:66:00.0") >= 0);
	check_clean(m);
	machine_destroy(m);
}

/* S12 exactly: group 15 = 04:00.0 + 05:00.0, on the report's path. */
static void builtin_amd_desktop(void **state)
{
	struct machine *m = do_builtin("amd-desktop");

	(void)state;
	assert_int_equal(group_id(m, "0000:04:00.0"), 15);
	assert_int_equal(group_id(m, "0000:05:00.0"), 15);
	assert_int_equal(group_size(m, "0000:05:00.0"), 2);
	assert_bound(m, "0000:04:00.0", "pcieport");
	assert_bound(m, "0000:05:00.0", "igb");
	assert_string_equal(parent_name(m, "0000:05:00.0"), "0000:04:00.0");
	assert_string_equal(parent_name(m, "0000:04:00.0"), "0000:03:00.0");
	assert_string_equal(parent_name(m, "0000:03:00.0"), "0000:00:02.1");
	assert_string_equal(parent_name(m, "0000:00:02.1"), "");
	assert_int_equal(dev_(m, "0000:04:00.0")->ids.pcie_type,
			 PCI_EXP_TYPE_DOWNSTREAM);
	assert_int_equal(group_size(m, "0000:01:00.0"), 2);
	machine_destroy(m);
}

static void builtin_arm64_soc(void **state)
{
	static const char *const bound[][2] = {
		{ "fe800000.usb", "dwc3" },
		{ "fe330000.mmc", "sdhci-arasan" },
		{ "fe300000.ethernet", "stmmaceth" },
		{ "fe530000.dma", "dma-pl330" },
		{ "fe650000.serial", "uart-pl011" },
		{ "0000:00:00.0", "pcieport" },
		{ "0000:01:00.0", "nvme" },
	};
	struct machine *m = do_builtin("arm64-soc");

	(void)state;
	assert_int_equal(machine_get_config(m)->firmware, FW_DEVICETREE);
	for (size_t i = 0; i < sizeof(bound) / sizeof(bound[0]); i++)
		assert_bound(m, bound[i][0], bound[i][1]);
	assert_int_equal(device_bus_kind(dev_(m, "fe800000.usb")),
			 BUS_PLATFORM);
	assert_int_equal(device_bus_kind(dev_(m, "fe530000.dma")), BUS_AMBA);
	assert_true(group_id(m, "fe530000.dma") >= 0);
	assert_int_equal(group_id(m, "fe650000.serial"), -1);
	assert_int_equal(group_size(m, "fe800000.usb"), 1);
	assert_string_equal(parent_name(m, "0000:01:00.0"), "0000:00:00.0");
	machine_destroy(m);
}

static void builtin_dpaa2(void **state)
{
	static const char *const objs[][2] = {
		{ "dpni.0", "fsl_dpaa2_eth" },
		{ "dpni.1", "fsl_dpaa2_eth" },
		{ "dpio.0", "fsl_mc_dpio" },
		{ "dpbp.0", "fsl_mc_allocator" },
		{ "dpmcp.1", "fsl_mc_allocator" },
	};
	struct machine *m = do_builtin("dpaa2");
	int id = group_id(m, "dpni.0");

	(void)state;
	assert_int_equal(machine_get_config(m)->firmware, FW_DEVICETREE);
	assert_true(id >= 0);
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		assert_bound(m, objs[i][0], objs[i][1]);
		assert_int_equal(group_id(m, objs[i][0]), id);
		assert_string_equal(parent_name(m, objs[i][0]), "dprc.1");
		assert_int_equal(device_bus_kind(dev_(m, objs[i][0])),
				 BUS_FSL_MC);
	}
	assert_int_equal(group_size(m, "dpni.0"), 5);
	/* the container shares the key: it would join at its first probe */
	assert_int_equal(dev_(m, "dprc.1")->fw.group_key,
			 dev_(m, "dpni.0")->fw.group_key);
	assert_string_equal(dev_(m, "dprc.1")->ids.mc_type, "dprc");
	machine_destroy(m);
}

/*
 * S6: the IOMMU API built in (VFIO is there), no IOMMU hardware: no groups
 * at all; kernel drivers bind as usual.
 */
static void builtin_no_iommu(void **state)
{
	struct machine *m = do_builtin("no-iommu");
	struct device *dev;

	(void)state;
	assert_true(machine_get_config(m)->iommu_api);
	assert_false(m->vfio_noiommu);
	list_for_each_entry(dev, &m->devices, node)
		assert_null(dev->iommu_group);
	assert_bound(m, "0000:01:00.0", "nouveau");
	assert_bound(m, "0000:02:00.0", "e1000e");
	assert_true(list_empty(&m->iommus));
	machine_destroy(m);
}

/* S2: group 26 = the bridge and the two functions behind it. */
static void builtin_vfio_doc(void **state)
{
	struct machine *m = do_builtin("vfio-doc");

	(void)state;
	assert_int_equal(group_id(m, "0000:06:0d.0"), 26);
	assert_int_equal(group_id(m, "0000:06:0d.1"), 26);
	assert_int_equal(group_id(m, "0000:00:1e.0"), 26);
	assert_int_equal(group_size(m, "0000:06:0d.0"), 3);
	assert_bound(m, "0000:06:0d.0", NULL);
	assert_bound(m, "0000:06:0d.1", NULL);
	assert_bound(m, "0000:00:1e.0", NULL); /* pcieport refuses it */
	assert_int_equal(dev_(m, "0000:06:0d.0")->ids.class, 0x040100);
	assert_int_equal(dev_(m, "0000:06:0d.0")->ids.vendor, 0x1102);
	assert_int_equal(dev_(m, "0000:00:1e.0")->ids.hdr_type,
			 PCI_HEADER_TYPE_BRIDGE);
	assert_string_equal(parent_name(m, "0000:06:0d.1"), "0000:00:1e.0");
	machine_destroy(m);
}

/* ---- the grammar, statement by statement ---- */

static void grammar_layout(void **state)
{
	/* comments, blank lines, tabs, CRLF, a last line without newline */
	struct machine *m = do_load(
		"# a comment\r\n"
		"\r\n"
		"machine\tlayout   # trailing comment\r\n"
		"   description a#b is text, # but this is a comment\n"
		"\t\tiommu  i0\t# indented\n"
		"pci 0000:00:1C.0 8086:A338 class=06040A type=root-port iommu=i0\n"
		"pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:1c.0 iommu=i0");
	struct device *dev = dev_(m, "0000:00:1c.0");

	(void)state;
	assert_string_equal(machine_name(m), "layout");
	assert_int_equal(dev->ids.device, 0xa338);
	assert_int_equal(dev->ids.class, 0x06040a);
	assert_int_equal(group_size(m, "0000:01:00.0"), 1);
	assert_ptr_equal(dev_(m, "0000:01:00.0")->parent, dev);
	machine_destroy(m);
}

/*
 * "format N", the first statement: format 1 is what a file without one
 * means; comments and blank lines may come before it.
 */
static void grammar_format(void **state)
{
	static const char body[] =
		"machine f\niommu i\n"
		"pci 0000:00:01.0 8086:10d3 class=020000 iommu=i\n"
		"driver e1000e\n";
	char text[256];
	struct machine *with, *without, *commented;

	(void)state;
	assert_int_equal(TOPOLOGY_FORMAT_VERSION, 1);
	snprintf(text, sizeof(text), "format 1\n%s", body);
	with = do_load(text);
	without = do_load(body);
	snprintf(text, sizeof(text),
		 "# a comment\n\n\t format\t1   # the format\r\n%s", body);
	commented = do_load(text);
	assert_string_equal(machine_name(with), "f");
	assert_true(machine_equal(with, without));
	assert_true(machine_equal(with, commented));
	machine_destroy(commented);
	machine_destroy(without);
	machine_destroy(with);
}

static void grammar_config(void **state)
{
	struct machine *m;
	const struct machine_config *cfg;

	(void)state;
	/* defaults: x86, IOMMU API, DMA-FQ */
	m = do_load("machine d\n");
	cfg = machine_get_config(m);
	assert_true(cfg->iommu_api);
	assert_int_equal(cfg->firmware, FW_X86);
	assert_int_equal(cfg->def_domain_type, IOMMU_DOMAIN_DMA_FQ);
	assert_false(m->vfio_noiommu);
	assert_false(m->iommufd_unsafe_irqs);
	assert_int_equal(machine_faults(m), 0);
	machine_destroy(m);

	m = do_load("machine c\n"
		    "arch arm64\n"
		    "firmware acpi-iort\n"
		    "iommu-api yes\n"
		    "default-domain identity\n"
		    "vfio-noiommu yes\n"
		    "iommufd-unsafe-interrupts yes\n"
		    "fault v7-order\n");
	cfg = machine_get_config(m);
	assert_true(cfg->iommu_api);
	assert_int_equal(cfg->firmware, FW_ACPI_IORT);
	assert_int_equal(cfg->def_domain_type, IOMMU_DOMAIN_IDENTITY);
	assert_true(m->vfio_noiommu);
	assert_true(m->iommufd_unsafe_irqs);
	assert_int_equal(machine_faults(m), MACHINE_FAULT_V7_ORDER);
	machine_destroy(m);

	/* CONFIG_IOMMU_API=n: VFIO and iommufd say no, which is no error */
	m = do_load("machine c\niommu-api no\nvfio-noiommu no\n"
		    "iommufd-unsafe-interrupts no\ndriver pci-stub\n");
	assert_false(machine_get_config(m)->iommu_api);
	assert_false(m->vfio_noiommu);
	machine_destroy(m);

	m = do_load("machine c\nfirmware devicetree\ndefault-domain DMA\n");
	assert_int_equal(machine_get_config(m)->firmware, FW_DEVICETREE);
	assert_int_equal(machine_get_config(m)->def_domain_type,
			 IOMMU_DOMAIN_DMA);
	machine_destroy(m);
}

static void grammar_iommu(void **state)
{
	struct machine *m;
	struct iommu_device *a, *b;

	(void)state;
	m = do_load("machine i\n"
		    "iommu a\n"
		    "iommu b types=dma msi=unisolated late\n"
		    "pci 0000:00:01.0 8086:1234 class=020000 iommu=a\n"
		    "pci 0000:00:02.0 8086:1234 class=020000 iommu=b\n");
	a = machine_find_iommu(m, "a");
	b = machine_find_iommu(m, "b");
	assert_true(iommu_device_is_registered(a));
	assert_false(iommu_device_is_registered(b));
	assert_int_equal(a->domain_types,
			 IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY |
				 IOMMU_DOMAIN_DMA_FQ | IOMMU_DOMAIN_DMA |
				 IOMMU_DOMAIN_UNMANAGED);
	assert_int_equal(b->domain_types,
			 IOMMU_DOMAIN_DMA | IOMMU_DOMAIN_UNMANAGED);
	assert_true(a->msi_isolated);
	assert_false(b->msi_isolated);
	assert_int_equal(group_id(m, "0000:00:01.0"), 0);
	assert_int_equal(group_id(m, "0000:00:02.0"), -1);
	/* "@iommu register b" */
	assert_int_equal(iommu_device_register(b), 0);
	assert_int_equal(group_id(m, "0000:00:02.0"), 1);
	check_clean(m);
	machine_destroy(m);

	/* iommu-api no: the hardware is described, nothing registers */
	m = do_load("machine n\niommu-api no\niommu a\n"
		    "pci 0000:00:01.0 8086:1234 class=020000 iommu=a\n");
	assert_false(iommu_device_is_registered(machine_find_iommu(m, "a")));
	assert_int_equal(group_id(m, "0000:00:01.0"), -1);
	machine_destroy(m);
}

static void grammar_pci(void **state)
{
	struct machine *m;
	struct device *dev;

	(void)state;
	m = do_load(
		"machine p\n"
		"iommu a\n"
		"iommu b\n"
		"pci 0000:00:1e.0 8086:244e class=060401 type=pci-bridge iommu=a group=x\n"
		"pci 0000:06:00.0 1234:5678 sub=abcd:ef01 class=040100 type=conventional parent=0000:00:1e.0 iommu=a group=x rmrr untrusted\n"
		"pci 0000:06:01.0 1234:5678 class=060400 type=conventional parent=0000:00:1e.0 iommu=b group=x\n"
		"pci 0000:00:02.0 8086:3e92 class=030000 type=rc-endpoint iommu=a\n"
		"pci 0000:00:1c.0 8086:a338 class=060400 type=root-port iommu=a\n"
		"pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:1c.0 iommu=a absent\n");
	dev = dev_(m, "0000:06:00.0");
	assert_int_equal(dev->ids.subvendor, 0xabcd);
	assert_int_equal(dev->ids.subdevice, 0xef01);
	assert_int_equal(dev->ids.class, 0x040100);
	assert_int_equal(dev->ids.pcie_type, PCI_EXP_TYPE_NONE);
	assert_int_equal(dev->ids.hdr_type, PCI_HEADER_TYPE_NORMAL);
	/* an audio device's RMRR is direct on VT-d: it needs 1:1 mappings */
	assert_int_equal(dev->fw.nr_direct, 1);
	assert_true(dev_require_direct(dev));
	assert_true(dev->fw.untrusted);
	/* a conventional PCI-to-PCI bridge has a bridge header */
	assert_int_equal(dev_(m, "0000:06:01.0")->ids.hdr_type,
			 PCI_HEADER_TYPE_BRIDGE);
	assert_int_equal(dev_(m, "0000:00:1e.0")->ids.pcie_type,
			 PCI_EXP_TYPE_PCI_BRIDGE);
	assert_int_equal(dev_(m, "0000:00:02.0")->ids.pcie_type,
			 PCI_EXP_TYPE_RC_END);
	/* one label, two IOMMUs: two groups */
	assert_int_equal(group_id(m, "0000:06:00.0"),
			 group_id(m, "0000:00:1e.0"));
	assert_int_equal(group_size(m, "0000:00:1e.0"), 2);
	assert_int_equal(group_size(m, "0000:06:01.0"), 1);
	assert_null(machine_find_device(m, "0000:01:00.0"));
	assert_true(any_dev(m, "0000:01:00.0")->absent);
	machine_destroy(m);
}

static void grammar_other_buses(void **state)
{
	struct machine *m;

	(void)state;
	m = do_load("machine o\n"
		    "firmware devicetree\n"
		    "iommu s\n"
		    "platform soc compatible=simple-bus\n"
		    "platform a.usb compatible=snps,dwc3 iommu=s parent=soc\n"
		    "platform b.usb compatible=snps,dwc3 iommu=s group=g absent\n"
		    "amba c.dma periphid=0X41330 iommu=s\n"
		    "fsl-mc dprc.1 type=dprc iommu=s group=c\n"
		    "fsl-mc dprc.2 type=dprc parent=dprc.1 iommu=s group=c\n"
		    "fsl-mc dpni.0 type=dpni parent=dprc.2 iommu=s group=c\n"
		    "driver dwc3\n"
		    "driver fsl_dpaa2_eth\n");
	assert_string_equal(dev_(m, "a.usb")->ids.compatible, "snps,dwc3");
	assert_string_equal(parent_name(m, "a.usb"), "soc");
	assert_bound(m, "a.usb", "dwc3");
	assert_null(machine_find_device(m, "b.usb"));
	assert_int_equal(dev_(m, "c.dma")->ids.periphid, 0x41330);
	assert_string_equal(dev_(m, "dpni.0")->ids.mc_type, "dpni");
	assert_bound(m, "dpni.0", "fsl_dpaa2_eth");
	machine_destroy(m);
}

static void grammar_driver(void **state)
{
	struct machine *m;

	(void)state;
	/* vfio-pci with ids= before the host drivers takes both functions */
	m = do_load("machine v\n"
		    "iommu a\n"
		    "pci 0000:01:00.0 10de:1b80 class=030000 iommu=a group=gpu\n"
		    "pci 0000:01:00.1 10de:10f0 class=040300 iommu=a group=gpu\n"
		    "driver vfio_pci ids=10de:1b80,10de:10f0:ffffffff:ffffffff:040300:ffffff\n"
		    "driver nouveau\n"
		    "driver snd-hda-intel\n");
	assert_bound(m, "0000:01:00.0", "vfio-pci");
	assert_bound(m, "0000:01:00.1", "vfio-pci");
	assert_non_null(machine_find_driver(m, "nouveau"));
	machine_destroy(m);

	m = do_load("machine s\ndriver pci-stub ids=8086:10d3\ndriver e1000e\n"
		    "pci 0000:02:00.0 8086:10d3 class=020000\n");
	assert_bound(m, "0000:02:00.0", "pci-stub");
	machine_destroy(m);

	/*
	 * vfio-platform's reset_required (v6.6 vfio_platform.c, 1 by
	 * default): with 0 it takes a dwmac it cannot reset
	 */
	m = do_load("machine p\nfirmware devicetree\niommu a\n"
		    "platform fe300000.ethernet compatible=snps,dwmac iommu=a\n"
		    "driver vfio-platform reset_required=0\n");
	assert_false(machine_find_driver(m, "vfio-platform")->reset_required);
	machine_destroy(m);
	m = do_load("machine p\ndriver vfio-platform reset_required=1\n");
	assert_true(machine_find_driver(m, "vfio-platform")->reset_required);
	machine_destroy(m);
}

/* Drivers load after every device is added, whatever the file order. */
static void grammar_boot_order(void **state)
{
	struct machine *a, *b;

	(void)state;
	a = do_load("machine o\niommu i\ndriver e1000e\n"
		    "pci 0000:00:01.0 8086:10d3 class=020000 iommu=i\n");
	b = do_load("machine o\niommu i\n"
		    "pci 0000:00:01.0 8086:10d3 class=020000 iommu=i\n"
		    "driver e1000e\n");
	assert_bound(a, "0000:00:01.0", "e1000e");
	assert_true(machine_equal(a, b));
	machine_destroy(a);
	machine_destroy(b);
}

/* ---- malformed input ---- */

struct bad {
	const char *text;
	int line, col;
	const char *msg;
};

#define M "machine t\n"

static const struct bad bad_inputs[] = {
	{ "", 1, 1, "expected a 'machine NAME' statement, found none" },
	{ "# nothing\n\n", 1, 1,
	  "expected a 'machine NAME' statement, found none" },
	{ "pci 0000:00:00.0 8086:1234 class=060000\n", 1, 1,
	  "expected 'machine NAME' as the first statement, got 'pci'" },
	{ "machine\n", 1, 8, "expected a machine name after 'machine'" },
	{ "machine a b\n", 1, 11, "unexpected extra argument 'b'" },
	{ "machine 0123456789012345678901234567890123456789012345678901234567890123\n",
	  1, 9,
	  "machine name '0123456789012345678901234567890123456789...' is longer than 63 bytes" },
	{ M "machine b\n", 2, 1,
	  "duplicate 'machine' statement (first at line 1)" },
	{ "format 2\n" M, 1, 8,
	  "machine format 2 is newer than this dmaown reads (1)" },
	{ "# from a later dmaown\n\nformat 10 # ten\n" M "pci x\n", 3, 8,
	  "machine format 10 is newer than this dmaown reads (1)" },
	{ "format 123456789012345678901234567890123456789012345678901234567890\n" M,
	  1, 8,
	  "machine format 1234567890123456789012345678901234567890... is newer than this dmaown reads (1)" },
	{ "format one\n" M, 1, 8,
	  "expected a format number like 1 after 'format', got 'one'" },
	{ "format 1.0\n" M, 1, 8,
	  "expected a format number like 1 after 'format', got '1.0'" },
	{ "format 0\n" M, 1, 8,
	  "expected a format number like 1 after 'format', got '0'" },
	{ "format 01\n" M, 1, 8,
	  "expected a format number like 1 after 'format', got '01'" },
	{ "format -1\n" M, 1, 8,
	  "expected a format number like 1 after 'format', got '-1'" },
	{ "format\n" M, 1, 7,
	  "expected a format number like 1 after 'format'" },
	{ "format 1 2\n" M, 1, 10, "unexpected extra argument '2'" },
	{ "format 1\nformat 1\n" M, 2, 1,
	  "duplicate 'format' statement (first at line 1)" },
	{ "format 1\n" M "format 1\n", 3, 1,
	  "duplicate 'format' statement (first at line 1)" },
	{ M "format 1\n", 2, 1,
	  "'format' must be the first statement, before 'machine' at line 1" },
	{ M "iommu i\n  format 2\n", 3, 3,
	  "'format' must be the first statement, before 'machine' at line 1" },
	{ "format 1\n", 1, 1,
	  "expected a 'machine NAME' statement, found none" },
	{ "format 1\npci 0000:00:00.0 8086:1234 class=060000\n", 2, 1,
	  "expected 'machine NAME' as the first statement, got 'pci'" },
	{ M "frobnicate x\n", 2, 1, "unknown keyword 'frobnicate'" },
	{ M "\tabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij\n", 2, 2,
	  "unknown keyword 'abcdefghijabcdefghijabcdefghijabcdefghij...'" },
	{ M "pci\001 x\n", 2, 4, "unexpected control character 0x01" },
	{ M "pci x\rpci\n", 2, 6, "unexpected control character 0x0d" },
	{ M "description\n", 2, 12,
	  "expected a one-line description after 'description'" },
	{ M "arch riscv\n", 2, 6,
	  "expected x86_64 or arm64 after 'arch', got 'riscv'" },
	{ M "arch\n", 2, 5, "expected x86_64 or arm64 after 'arch'" },
	{ M "arch arm64 x\n", 2, 12, "unexpected extra argument 'x'" },
	{ M "firmware uefi\n", 2, 10,
	  "expected x86, acpi-iort or devicetree after 'firmware', got 'uefi'" },
	{ M "iommu-api maybe\n", 2, 11,
	  "expected yes or no after 'iommu-api', got 'maybe'" },
	{ M "default-domain dma\n", 2, 16,
	  "expected DMA, DMA-FQ or identity after 'default-domain', got 'dma'" },
	{ M "vfio-noiommu yes\nvfio-noiommu no\n", 3, 1,
	  "duplicate 'vfio-noiommu' statement (first at line 2)" },
	{ M "iommufd-unsafe-interrupts 1\n", 2, 27,
	  "expected yes or no after 'iommufd-unsafe-interrupts', got '1'" },
	{ M "arch arm64\n", 2, 6,
	  "arch 'arm64' needs a firmware statement (acpi-iort or devicetree)" },
	{ M "arch arm64\nfirmware x86\n", 3, 10,
	  "firmware 'x86' needs arch x86_64" },
	{ M "firmware devicetree\narch x86_64\n", 2, 10,
	  "firmware 'devicetree' needs arch arm64" },
	{ M "fault v7-order\nfault v7-order\n", 3, 7,
	  "duplicate fault 'v7-order'" },
	{ M "iommu\n", 2, 6, "expected an IOMMU name after 'iommu'" },
	{ M "iommu a types=blocked,bogus\n", 2, 23,
	  "expected blocked, identity, dma, dma-fq or unmanaged in types=, got 'bogus'" },
	{ M "iommu a types=dma,\n", 2, 19,
	  "expected blocked, identity, dma, dma-fq or unmanaged in types=, got ''" },
	{ M "iommu a\niommu a\n", 3, 7,
	  "duplicate iommu name 'a' (first at line 2)" },
	{ M "iommu a msi=maybe\n", 2, 13,
	  "expected isolated or unisolated for msi=, got 'maybe'" },
	{ M "iommu a late=1\n", 2, 9, "option 'late' takes no value" },
	{ M "iommu a late late\n", 2, 14,
	  "duplicate option 'late' (first at column 9)" },
	{ M "iommu abcdefghijklmnopqrstuvwxyz012345\n", 2, 7,
	  "iommu name 'abcdefghijklmnopqrstuvwxyz012345' is longer than 31 bytes" },
	{ M "pci\n", 2, 4,
	  "expected a PCI address like 0000:01:00.0 after 'pci'" },
	{ M "pci 0000:01:00.0\n", 2, 17,
	  "expected vendor:device ids like 8086:10d3 after '0000:01:00.0'" },
	{ M "pci 01:00 8086:10d3 class=020000\n", 2, 5,
	  "expected a PCI address like 0000:01:00.0, got '01:00'" },
	{ M "pci 0000:00:20.0 8086:10d3 class=020000\n", 2, 5,
	  "expected a PCI address like 0000:01:00.0, got '0000:00:20.0'" },
	{ M "pci 0000:00:1f.8 8086:10d3 class=020000\n", 2, 5,
	  "expected a PCI address like 0000:01:00.0, got '0000:00:1f.8'" },
	{ M "pci 0000:01:00.0 8086:10dz class=020000\n", 2, 18,
	  "expected vendor:device ids like 8086:10d3, got '8086:10dz'" },
	{ M "pci 0000:01:00.0 8086:10d3\n", 2, 1,
	  "missing option class=020000 for pci device '0000:01:00.0'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=0200\n", 2, 34,
	  "expected a class code of 6 hex digits like 020000, got '0200'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=\n", 2, 34,
	  "option 'class' needs a value, e.g. class=020000" },
	{ M "pci 0000:01:00.0 8086:10d3 class\n", 2, 28,
	  "option 'class' needs a value, e.g. class=020000" },
	{ M "pci 0000:01:00.0 8086:10d3 sub=8086 class=020000\n", 2, 32,
	  "expected subsystem ids like 8086:a01f, got '8086'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 type=switch\n", 2, 46,
	  "expected endpoint, root-port, upstream, downstream, pci-bridge, rc-endpoint or conventional for type=, got 'switch'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:1c.0\n",
	  2, 48,
	  "parent '0000:00:1c.0' is not defined by an earlier statement" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 parent=rp0\n", 2, 48,
	  "expected a PCI address like 0000:01:00.0, got 'rp0'" },
	{ M "pci 0000:00:1c.0 8086:a338 class=060400\n"
	    "pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:1c.0\n",
	  3, 48, "parent '0000:00:1c.0' is not a PCI bridge" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:01:00.0\n",
	  2, 48, "parent '0000:01:00.0' is not a PCI bridge" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 iommu=dmar0\n", 2, 47,
	  "iommu 'dmar0' is not defined by an earlier iommu statement" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 iommu=d\niommu d\n", 2,
	  47, "iommu 'd' is not defined by an earlier iommu statement" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 colour=red\n", 2, 41,
	  "unknown option 'colour' for pci; expected sub=, class=, type=, parent=, iommu=, group=, rmrr, untrusted, reset=, no-bus-reset, acs-cap=, acs-ctl=, multifunction, shpc, dma-alias=, stream-id=, sriov-totalvfs=, vf-offset=, vf-stride=, vf-device= or absent" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 class=020000\n", 2, 41,
	  "duplicate option 'class' (first at column 28)" },
	/* firmware 1:1 ranges and what IOMMU drivers reserve */
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=0x2000-0x1fff\n", 2,
	  46, "range '0x2000-0x1fff' ends before it starts" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=0x0-0xffffffffffffffff\n",
	  2, 46, "range '0x0-0xffffffffffffffff' covers every address" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=3e000000-3e1fffff\n",
	  2, 46,
	  "expected an address range like 0xfee00000-0xfeefffff, got '3e000000-3e1fffff'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=0x1000-0x1fff,\n", 2,
	  60, "expected an address range like 0xfee00000-0xfeefffff, got ''" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=0x10000000000000000-0x10000000000000001\n",
	  2, 46,
	  "expected an address range like 0xfee00000-0xfeefffff, got '0x10000000000000000-0x10000000000000001'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=\n", 2, 46,
	  "option 'rmrr' needs a value, e.g. rmrr=0x3e000000-0x3e1fffff" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 rmrr=0x0-0x0,0x1-0x1,0x2-0x2,0x3-0x3,0x4-0x4,0x5-0x5,0x6-0x6,0x7-0x7,0x8-0x8\n",
	  2, 110, "too many ranges (the limit is 8)" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 reset=bus\n", 2, 47,
	  "expected device_specific, acpi, flr, af_flr or pm in reset=, got 'bus'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 reset=flr,pm,flr\n", 2, 54,
	  "duplicate reset method 'flr'" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 reset=\n", 2, 47,
	  "option 'reset' needs a value, e.g. reset=flr" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 no-bus-reset=1\n", 2, 41,
	  "option 'no-bus-reset' takes no value" },
	{ M "iommu d kind=vtd\n", 2, 14,
	  "expected intel, amd, arm-smmu-v3 or arm-smmu for kind=, got 'vtd'" },
	{ M "iommu d kind=arm-smmu\n", 2, 14,
	  "iommu kind 'arm-smmu' needs firmware acpi-iort or devicetree" },
	{ M "iommu s kind=intel\nfirmware acpi-iort\n", 2, 14,
	  "iommu kind 'intel' needs firmware x86" },
	{ M "iommu d resv=0xfee00000-0xfeefffff\n", 2, 14,
	  "expected a region like 0xfee00000-0xfeefffff:msi, got '0xfee00000-0xfeefffff'" },
	{ M "iommu d resv=0xfee00000-0xfeefffff:doorbell\n", 2, 36,
	  "expected direct, direct-relaxable, reserved, msi or sw-msi in resv=, got 'doorbell'" },
	{ M "iommu d resv=0xfee00000-0xfeefffff:msi,0xfeefffff-0xfee00000:msi\n",
	  2, 40, "range '0xfeefffff-0xfee00000' ends before it starts" },
	{ M "iommu d resv=0x0-0x0:msi,0x1-0x1:msi,0x2-0x2:msi,0x3-0x3:msi,0x4-0x4:msi,0x5-0x5:msi,0x6-0x6:msi,0x7-0x7:msi,0x8-0x8:msi\n",
	  2, 110, "too many regions (the limit is 8)" },
	{ M "iommu d colour=red\n", 2, 9,
	  "unknown option 'colour' for iommu; expected types=, late, msi=, kind= or resv=" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000\n"
	    "pci 0000:01:00.0 8086:10d3 class=020000\n",
	  3, 5, "duplicate device name '0000:01:00.0' (first at line 2)" },
	{ M "pci 0000:00:1c.0 8086:10d3 class=020000\n"
	    "pci 0000:00:1C.0 8086:10d3 class=020000\n",
	  3, 5, "duplicate device name '0000:00:1C.0' (first at line 2)" },
	{ M "pci 0000:01:00.0 8086:10d3 class=020000 group=g\n", 2, 41,
	  "group= needs iommu= on the same device" },
	{ M "iommu i\npci 0000:01:00.0 8086:10d3 class=020000 iommu=i group=0123456789012345678901234567890123456789012345678901234567890123\n",
	  3, 55,
	  "group label '0123456789012345678901234567890123456789...' is longer than 63 bytes" },
	{ M "pci 0000:00:1c.0 8086:a338 class=060400 type=root-port absent\n"
	    "pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:1c.0\n",
	  3, 41,
	  "parent '0000:00:1c.0' is absent, so this device must be absent too" },
	{ M "platform fe800000.usb\n", 2, 1,
	  "missing option compatible=snps,dwc3 for platform device 'fe800000.usb'" },
	{ M "platform a/b compatible=x\n", 2, 10,
	  "device name 'a/b' contains '/'" },
	{ M "platform 0123456789012345678901234567890123456789012345678901234567890123 compatible=x\n",
	  2, 10,
	  "device name '0123456789012345678901234567890123456789...' is longer than 63 bytes" },
	{ M "platform a compatible=0123456789012345678901234567890123456789012345678901234567890123\n",
	  2, 23,
	  "compatible '0123456789012345678901234567890123456789...' is longer than 63 bytes" },
	{ M "platform a compatible=x parent=b\n", 2, 32,
	  "parent 'b' is not defined by an earlier statement" },
	{ M "platform a compatible=x\namba a periphid=0x41011\n", 3, 6,
	  "duplicate device name 'a' (first at line 2)" },
	{ M "amba uart periphid=41011\n", 2, 20,
	  "expected a peripheral id like 0x00041011, got '41011'" },
	{ M "amba uart periphid=0x000410110\n", 2, 20,
	  "expected a peripheral id like 0x00041011, got '0x000410110'" },
	{ M "amba uart periphid=0x\n", 2, 20,
	  "expected a peripheral id like 0x00041011, got '0x'" },
	{ M "amba uart periphid=0x41011 parent=x\n", 2, 28,
	  "unknown option 'parent' for amba; expected periphid=, iommu=, group= or absent" },
	{ M "fsl-mc dpni.0 type=DPNI\n", 2, 20,
	  "expected an fsl-mc object type like dpni, got 'DPNI'" },
	{ M "fsl-mc dpni.0 type=dpabcdefghijklmn\n", 2, 20,
	  "fsl-mc object type 'dpabcdefghijklmn' is longer than 15 bytes" },
	{ M "fsl-mc dpni.0\n", 2, 1,
	  "missing option type=dpni for fsl-mc device 'dpni.0'" },
	{ M "fsl-mc dpni.0 type=dpni\nfsl-mc dpni.1 type=dpni parent=dpni.0\n",
	  3, 32, "parent 'dpni.0' is not a dprc container" },
	{ M "driver\n", 2, 7, "expected a driver name after 'driver'" },
	{ M "driver e1001e\n", 2, 8, "unknown driver 'e1001e'" },
	{ M "driver e1000e\ndriver e1000e\n", 3, 8,
	  "duplicate driver 'e1000e' (first at line 2)" },
	{ M "driver xhci_hcd\ndriver xhci_pci\n", 3, 8,
	  "duplicate driver 'xhci_pci' (first at line 2)" },
	{ M "driver e1000e ids=8086:10d3\n", 2, 15,
	  "driver 'e1000e' takes no ids= parameter" },
	{ M "driver vfio-pci ids=10de\n", 2, 21,
	  "expected ids like 10de:1b80,10de:10f0, got '10de'" },
	{ M "driver vfio-pci ids=10de:1b80,\n", 2, 21,
	  "expected ids like 10de:1b80,10de:10f0, got '10de:1b80,'" },
	{ M "driver vfio-pci ids=1:2:3:4:5:6:7\n", 2, 21,
	  "expected ids like 10de:1b80,10de:10f0, got '1:2:3:4:5:6:7'" },
	{ M "driver vfio-pci ids=\n", 2, 21,
	  "option 'ids' needs a value, e.g. ids=10de:1b80,10de:10f0" },
	{ M "driver vfio-pci foo=bar\n", 2, 17,
	  "unknown option 'foo' for driver; expected ids=, reset_required= or enable_sriov=" },
	/* vfio-platform's reset_required module parameter */
	{ M "driver e1000e reset_required=0\n", 2, 15,
	  "driver 'e1000e' takes no reset_required= parameter" },
	{ M "driver vfio-pci reset_required=0\n", 2, 17,
	  "driver 'vfio-pci' takes no reset_required= parameter" },
	{ M "driver vfio-platform reset_required=yes\n", 2, 37,
	  "expected reset_required=0 or 1, got 'yes'" },
	/* VFIO selects IOMMU_API, iommufd depends on it: the first one */
	{ M "iommu-api no\nvfio-noiommu yes\n", 3, 14,
	  "vfio-noiommu yes needs iommu-api yes (VFIO and iommufd need CONFIG_IOMMU_API)" },
	{ M "iommufd-unsafe-interrupts yes\niommu-api no\n", 2, 27,
	  "iommufd-unsafe-interrupts yes needs iommu-api yes (VFIO and iommufd need CONFIG_IOMMU_API)" },
	{ M "iommu-api no\ndriver e1000e\ndriver vfio_pci\nvfio-noiommu yes\n",
	  4, 8,
	  "driver 'vfio-pci' needs iommu-api yes (VFIO and iommufd need CONFIG_IOMMU_API)" },
	{ M "driver vfio-amba\niommu-api no\n", 2, 8,
	  "driver 'vfio-amba' needs iommu-api yes (VFIO and iommufd need CONFIG_IOMMU_API)" },
};

static void malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]);
	     i++) {
		const struct bad *b = &bad_inputs[i];

		err_load(b->text, b->line, b->col, b->msg);
	}
}

static void malformed_fault(void **state)
{
	struct topo_error err;
	const char *want = "unknown fault 'nosuch'; expected v7-order, ";

	(void)state;
	assert_null(_load(M "fault nosuch\n", &err));
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 7);
	assert_true(!strncmp(err.msg, want, strlen(want)));
}

/* Repeat @line @n times after "machine t" (line 1). */
static char *repeat_lines(const char *fmt, int n)
{
	size_t size = 16 + (size_t)n * (strlen(fmt) + 16), len;
	char *text = malloc(size);

	assert_non_null(text);
	len = (size_t)snprintf(text, size, M);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len, fmt, i);
	return text;
}

static void limits(void **state)
{
	struct machine *m;
	char *text;

	(void)state;
	/* 4096 bytes a line, not one more */
	text = calloc(1, 32 + 4097);
	assert_non_null(text);
	strcpy(text, M "#");
	memset(text + strlen(text), 'x', 4095);
	m = do_load(text);
	machine_destroy(m);
	strcat(text, "x");
	err_load(text, 2, 4097, "line is longer than 4096 bytes");
	free(text);

	/*
	 * 262,144 devices (a large SR-IOV server has tens of thousands), not
	 * one more: refused while reading, before anything is built
	 */
	text = repeat_lines("platform d%d compatible=x\n", 262145);
	err_load(text, 262146, 1, "too many devices (the limit is 262144)");
	free(text);

	/* 64 IOMMUs, not one more */
	text = repeat_lines("iommu i%d\n", 64);
	m = do_load(text);
	machine_destroy(m);
	free(text);
	text = repeat_lines("iommu i%d\n", 65);
	err_load(text, 66, 1, "too many IOMMUs (the limit is 64)");
	free(text);
}

/*
 * A machine file is read as a stream, a line at a time: 5 MiB of comments
 * (once refused as over 4 MiB) load from a string and from a file, and a
 * NUL byte is still reported where it stands.
 */
static void large_file_streams(void **state)
{
	size_t size = (5u << 20) + 1, len;
	char *text = malloc(size), path[64];
	struct topo_error err;
	struct machine *m;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, size, M);
	while (len + 100 < size) {
		memset(text + len, 'x', 99);
		text[len] = '#';
		text[len + 99] = '\n';
		len += 100;
	}
	text[len] = '\0';
	m = do_load(text);
	machine_destroy(m);

	write_tmp(path, text, len);
	m = topology_load_file(path, &err);
	assert_non_null(m);
	machine_destroy(m);
	text[len - 50] = '\0';
	write_tmp(path, text, len);
	assert_null(topology_load_file(path, &err));
	check_err(&err, path, 52429, 51, "unexpected NUL byte");
	unlink(path);
	free(text);
}

static void load_file_errors(void **state)
{
	static const char nul[] = M "pci 00\0\n";
	struct topo_error err;
	char path[64];

	(void)state;
	assert_null(topology_load_file("/nonexistent/x.machine", &err));
	check_err(&err, "/nonexistent/x.machine", 0, 0,
		  "cannot open: No such file or directory");

	write_tmp(path, nul, sizeof(nul) - 1);
	assert_null(topology_load_file(path, &err));
	check_err(&err, path, 2, 7, "unexpected NUL byte");
	assert_null(topology_load_file(path, NULL));
	unlink(path);

	/* a file name as given, and a default one for strings */
	assert_null(topology_load_string(NULL, "", &err));
	check_err(&err, "<string>", 1, 1,
		  "expected a 'machine NAME' statement, found none");
	assert_null(topology_load_string("x", NULL, &err));
	assert_int_equal(err.line, 0);
}

/* Two loads of one text are equal machines; a different text is not. */
static void equal_loads(void **state)
{
	static const char text[] =
		"machine e\niommu i\n"
		"pci 0000:00:01.0 8086:1901 class=060400 type=root-port iommu=i group=g\n"
		"pci 0000:01:00.0 10de:1b80 class=030000 parent=0000:00:01.0 iommu=i group=g\n"
		"driver pcieport\ndriver nouveau\n";
	struct machine *a = do_load(text), *b = do_load(text), *c;

	(void)state;
	assert_true(machine_equal(a, b));
	assert_int_equal(machine_hash(a), machine_hash(b));
	c = do_load("machine e\niommu i\n"
		    "pci 0000:00:01.0 8086:1901 class=060400 type=root-port iommu=i\n"
		    "pci 0000:01:00.0 10de:1b80 class=030000 parent=0000:00:01.0 iommu=i\n"
		    "driver pcieport\ndriver nouveau\n");
	assert_false(machine_equal(a, c));
	machine_destroy(c);
	machine_destroy(b);
	machine_destroy(a);
}

/* ---- many root buses ---- */

/* Run one script line on @m; returns its stdout (free it), status 0. */
static char *run_line(struct machine *m, const char *line)
{
	struct script_ctx *ctx = script_ctx_new(m, "t.sh");
	struct script_result res;
	char *out;

	assert_non_null(ctx);
	assert_int_equal(script_exec_line(ctx, line, 1, &res), 0);
	if (res.status)
		fail_msg("'%s': status %d: %s", line, res.status, res.err);
	assert_string_equal(res.err, "");
	out = res.out;
	res.out = NULL;
	script_result_free(&res);
	script_ctx_free(ctx);
	return out;
}

#define NR_ROOT_BUSES 300
#define BUSES_PER_SEGMENT 64

/*
 * A machine with 300 PCI root buses over 5 segments (64 buses each, the
 * last 44), one e1000e on each; on the 300th a root port with the NIC
 * behind it instead; and a second device on the first root bus, added
 * last, so a root directory's devices are not all next to each other.
 * /sys/devices had room for the first 64 roots only: the rest were
 * ENOENT.
 */
static char *many_roots_text(void)
{
	size_t size = 128 * (NR_ROOT_BUSES + 8), len;
	char *text = malloc(size);

	assert_non_null(text);
	len = (size_t)snprintf(text, size, "machine roots\niommu dmar0\n");
	for (int i = 0; i < NR_ROOT_BUSES; i++) {
		int seg = i / BUSES_PER_SEGMENT, bus = i % BUSES_PER_SEGMENT;

		if (i == NR_ROOT_BUSES - 1)
			len += (size_t)snprintf(text + len, size - len,
				"pci %04x:%02x:00.0 8086:1901 class=060400 type=root-port iommu=dmar0\n"
				"pci %04x:80:00.0 8086:10d3 class=020000 parent=%04x:%02x:00.0 iommu=dmar0\n",
				seg, bus, seg, seg, bus);
		else
			len += (size_t)snprintf(text + len, size - len,
				"pci %04x:%02x:00.0 8086:10d3 class=020000 iommu=dmar0\n",
				seg, bus);
	}
	len += (size_t)snprintf(text + len, size - len,
		"pci 0000:00:01.0 8086:10d3 class=020000 iommu=dmar0\n"
		"driver pcieport\ndriver e1000e\ndriver vfio-pci\n");
	assert_true(len < size);
	return text;
}

static void many_root_buses(void **state)
{
	char *text = many_roots_text(), *out, *want, **names;
	struct machine *m = do_load(text);
	size_t size = 16 * (NR_ROOT_BUSES + 2), len = 0, n;
	int last_seg = (NR_ROOT_BUSES - 1) / BUSES_PER_SEGMENT,
	    last_bus = (NR_ROOT_BUSES - 1) % BUSES_PER_SEGMENT;
	char dev[32], path[256];

	(void)state;
	free(text);
	/* ls /sys/devices: every root once, in order, then virtual */
	want = malloc(size);
	assert_non_null(want);
	for (int i = 0; i < NR_ROOT_BUSES; i++)
		len += (size_t)snprintf(want + len, size - len, "pci%04x:%02x\n",
					i / BUSES_PER_SEGMENT,
					i % BUSES_PER_SEGMENT);
	snprintf(want + len, size - len, "virtual\n");
	out = run_line(m, "ls /sys/devices");
	assert_string_equal(out, want);
	free(out);
	free(want);
	assert_int_equal(sysfs_list(m, "/sys/devices", &names, &n), 0);
	assert_int_equal(n, NR_ROOT_BUSES + 1);
	sysfs_list_free(names, n);
	/* the first root bus lists both its devices, once each */
	out = run_line(m, "ls /sys/devices/pci0000:00");
	assert_string_equal(out, "0000:00:00.0\n0000:00:01.0\n");
	free(out);

	/* the NIC under the 300th root: readable, unbound and bound again */
	snprintf(dev, sizeof(dev), "%04x:80:00.0", last_seg);
	assert_bound(m, dev, "e1000e");
	snprintf(path, sizeof(path), "cat /sys/devices/pci%04x:%02x/%04x:%02x:00.0/%s/vendor",
		 last_seg, last_bus, last_seg, last_bus, dev);
	out = run_line(m, path);
	assert_string_equal(out, "0x8086\n");
	free(out);
	snprintf(path, sizeof(path), "echo %s > /sys/bus/pci/drivers/e1000e/unbind",
		 dev);
	free(run_line(m, path));
	assert_bound(m, dev, NULL);
	snprintf(path, sizeof(path),
		 "echo %s > /sys/devices/pci%04x:%02x/%04x:%02x:00.0/%s/driver_override",
		 "vfio-pci", last_seg, last_bus, last_seg, last_bus, dev);
	free(run_line(m, path));
	snprintf(path, sizeof(path), "echo %s > /sys/bus/pci/drivers/vfio-pci/bind",
		 dev);
	free(run_line(m, path));
	assert_bound(m, dev, "vfio-pci");
	snprintf(path, sizeof(path),
		 "readlink /sys/devices/pci%04x:%02x/%04x:%02x:00.0/%s/driver",
		 last_seg, last_bus, last_seg, last_bus, dev);
	out = run_line(m, path);
	assert_string_equal(out, "../../../../bus/pci/drivers/vfio-pci\n");
	free(out);
	check_clean(m);
	machine_destroy(m);
}

/* ---- @show ---- */

/* One script line on @m that must give @want_status; its stdout. */
/*
 * Path walks answered from the indexes: a trailing slash goes through a
 * link (path_lookupat()'s LOOKUP_FOLLOW for "LINK/"), ".." after a link is
 * the target's parent (the walk is physical), a device is found under its
 * group's devices/ only if it is in that group, and a root bus directory
 * of /sys/devices goes with its last device and comes back with a rescan.
 */
static void sysfs_walks(void **state)
{
	char *text = many_roots_text(), *out, *real;
	struct machine *m = do_load(text);
	int seg = (NR_ROOT_BUSES - 1) / BUSES_PER_SEGMENT,
	    bus = (NR_ROOT_BUSES - 1) % BUSES_PER_SEGMENT;
	char port[32], nic[32], line[512];

	(void)state;
	free(text);
	snprintf(port, sizeof(port), "%04x:%02x:00.0", seg, bus);
	snprintf(nic, sizeof(nic), "%04x:80:00.0", seg);

	snprintf(line, sizeof(line), "ls /sys/bus/pci/devices/%s/", nic);
	out = run_line(m, line);
	assert_non_null(strstr(out, "\nvendor\n"));
	assert_non_null(strstr(out, "driver\n"));
	free(out);
	snprintf(line, sizeof(line), "/sys/bus/pci/devices/%s", nic);
	assert_int_equal(sysfs_stat(m, line), SYSFS_LINK);
	assert_int_equal(sysfs_realpath(m, line, &real), 0);
	snprintf(line, sizeof(line), "/sys/devices/pci%04x:%02x/%s/%s", seg,
		 bus, port, nic);
	assert_string_equal(real, line);
	free(real);

	snprintf(line, sizeof(line), "cat /sys/bus/pci/devices/%s/../%s/vendor",
		 nic, nic);
	out = run_line(m, line);
	assert_string_equal(out, "0x8086\n");
	free(out);
	snprintf(line, sizeof(line), "/sys/bus/pci/devices/%s/..", nic);
	assert_int_equal(sysfs_realpath(m, line, &real), 0);
	snprintf(line, sizeof(line), "/sys/devices/pci%04x:%02x/%s", seg, bus,
		 port);
	assert_string_equal(real, line);
	free(real);

	/* groups/N/devices: members only */
	out = run_line(m, "readlink /sys/kernel/iommu_groups/0/devices/0000:00:00.0");
	assert_string_equal(out, "../../../../devices/pci0000:00/0000:00:00.0\n");
	free(out);
	assert_int_equal(sysfs_stat(m, "/sys/kernel/iommu_groups/0/devices/0000:00:01.0"),
			 SYSFS_NONE);

	/* the last root bus directory goes with its devices, and comes back */
	snprintf(line, sizeof(line), "/sys/devices/pci%04x:%02x", seg, bus);
	assert_int_equal(sysfs_stat(m, line), SYSFS_DIR);
	snprintf(line, sizeof(line), "echo 1 > /sys/bus/pci/devices/%s/remove",
		 port);
	free(run_line(m, line));
	snprintf(line, sizeof(line), "/sys/devices/pci%04x:%02x", seg, bus);
	assert_int_equal(sysfs_stat(m, line), SYSFS_NONE);
	out = run_line(m, "ls /sys/devices");
	assert_null(strstr(out, line + strlen("/sys/devices/")));
	free(out);
	free(run_line(m, "echo 1 > /sys/bus/pci/rescan"));
	assert_int_equal(sysfs_stat(m, line), SYSFS_DIR);
	assert_bound(m, nic, "e1000e");
	check_clean(m);
	machine_destroy(m);
}

static char *run_line_status(struct machine *m, const char *line,
			     int want_status, const char *want_err)
{
	struct script_ctx *ctx = script_ctx_new(m, "t.sh");
	struct script_result res;
	char *out;

	assert_non_null(ctx);
	assert_int_equal(script_exec_line(ctx, line, 1, &res), 0);
	assert_int_equal(res.status, want_status);
	assert_string_equal(res.err, want_err);
	out = res.out;
	res.out = NULL;
	script_result_free(&res);
	script_ctx_free(ctx);
	return out;
}

/*
 * @show (our own verb: no kernel counterpart) prints machine_show() of the
 * machine as it is when its line runs, the text 'dmaown run --show' prints
 * after the last line; --json and --dot the other forms. A bad argument is
 * a usage error (status 2), and the machine is not changed.
 */
static void script_show(void **state)
{
	struct machine *m = do_builtin("qdf2400");
	char *out, *want;

	(void)state;
	free(run_line(m, "echo 0004:01:00.0 > /sys/bus/pci/drivers/e1000e/unbind"));
	out = run_line(m, "@show");
	want = machine_show(m, SHOW_TEXT);
	assert_non_null(want);
	assert_string_equal(out, want);
	assert_non_null(strstr(out, "group 3: owner none, owner_cnt 0"));
	free(out);
	free(want);

	free(run_line(m, "echo 0004:01:00.0 > /sys/bus/pci/drivers/e1000e/bind"));
	out = run_line(m, "@show --json");
	want = machine_show(m, SHOW_JSON);
	assert_string_equal(out, want);
	assert_non_null(strstr(out, "\"id\":3,\"devices\":[\"0004:01:00.0\"],\"owner\":\"kernel\",\"owner_cnt\":1"));
	free(out);
	free(want);
	out = run_line(m, "@show --dot");
	want = machine_show(m, SHOW_DOT);
	assert_string_equal(out, want);
	free(out);
	free(want);

	out = run_line_status(m, "@show --yaml", 2,
			      "usage: @show [--json|--dot]\n");
	assert_string_equal(out, "");
	free(out);
	out = run_line_status(m, "@show --json --dot", 2,
			      "usage: @show [--json|--dot]\n");
	free(out);
	check_clean(m);
	machine_destroy(m);
}

/* ---- PCI function resets ---- */

/* The device's reset_method: its text, or NULL when there is no file. */
static char *reset_method(struct machine *m, const char *dev)
{
	char path[128], *buf = NULL;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method",
		 dev);
	ret = sysfs_read(m, path, &buf);
	if (ret == -ENOENT)
		return NULL;
	assert_int_equal(ret, 0);
	return buf;
}

#define assert_reset_method(m, dev, want)                                 \
	do {                                                               \
		char *got_ = reset_method(m, dev);                         \
		const char *want_ = (want);                                \
		if (!want_)                                                \
			assert_null(got_);                                 \
		else                                                       \
			assert_string_equal(got_, want_);                  \
		free(got_);                                                \
	} while (0)

static int write_reset_method(struct machine *m, const char *dev,
			      const char *buf)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method",
		 dev);
	return sysfs_write(m, path, buf, strlen(buf));
}

/* The kernel log holds a line ending with @text. */
static bool log_has(struct machine *m, const char *text)
{
	size_t len = strlen(text);

	for (size_t i = 0; i < machine_log_count(m); i++) {
		const struct klog_entry *e = machine_log_entry(m, i);
		size_t n = e ? strlen(e->text) : 0;

		if (n >= len && !strcmp(e->text + n - len, text))
			return true;
	}
	return false;
}

static const char reset_text[] =
	"machine r\n"
	"iommu d\n"
	/* a root bus: no bus reset */
	"pci 0000:00:02.0 8086:3e92 class=030000 type=rc-endpoint iommu=d reset=flr\n"
	"pci 0000:00:01.0 8086:1901 class=060400 type=root-port iommu=d group=gpu reset=pm\n"
	"pci 0000:01:00.0 10de:1b80 class=030000 parent=0000:00:01.0 iommu=d group=gpu\n"
	"pci 0000:01:00.1 10de:10f0 class=040300 parent=0000:00:01.0 iommu=d group=gpu\n"
	"pci 0000:00:1c.0 8086:a338 class=060400 type=root-port iommu=d\n"
	"pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:1c.0 iommu=d reset=pm,flr,device_specific\n"
	"pci 0000:00:1d.0 8086:a330 class=060400 type=root-port iommu=d\n"
	"pci 0000:03:00.0 8086:1533 class=020000 parent=0000:00:1d.0 iommu=d reset=af_flr,acpi no-bus-reset\n"
	"driver pcieport\ndriver e1000e\n";

/*
 * pci_init_reset_methods() (v6.6) at pci_device_add(): each method of
 * pci_reset_fn_methods[] in turn (device_specific, acpi, flr, af_flr, pm,
 * bus) the function has; "bus" (pci_reset_bus_function(): no hot-plug
 * slot, then pci_parent_bus_reset()) for a function that is not a bridge
 * and is alone on a bus below a bridge when it is found, which the first
 * function of a multifunction device is, its others not: devices are
 * found in scan order. reset_method_show() lists them; the file exists
 * only for a function with a method then
 * (pci_dev_reset_method_attr_is_visible()).
 */
static void reset_method_init(void **state)
{
	struct machine *m = do_load(reset_text);
	char *out;

	(void)state;
	assert_reset_method(m, "0000:00:02.0", "flr\n");
	assert_reset_method(m, "0000:00:01.0", "pm\n");	/* a bridge */
	assert_reset_method(m, "0000:01:00.0", "bus\n");
	assert_reset_method(m, "0000:01:00.1", NULL);
	assert_reset_method(m, "0000:00:1c.0", NULL);
	assert_reset_method(m, "0000:02:00.0", "device_specific flr pm bus\n");
	assert_reset_method(m, "0000:03:00.0", "acpi af_flr\n");	/* quirk */
	out = run_line(m, "ls /sys/bus/pci/devices/0000:01:00.1");
	assert_null(strstr(out, "reset_method"));
	free(out);
	out = run_line(m, "ls /sys/bus/pci/devices/0000:01:00.0");
	assert_non_null(strstr(out, "reset_method\n"));
	free(out);

	/* re-added by a rescan: its sibling is there now, so no bus reset */
	free(run_line(m, "echo 1 > /sys/bus/pci/devices/0000:01:00.0/remove"));
	free(run_line(m, "echo 1 > /sys/bus/pci/rescan"));
	assert_reset_method(m, "0000:01:00.0", NULL);
	/* alone again, hot-plugged: a bus reset again */
	free(run_line(m, "@hotplug remove 0000:02:00.0"));
	free(run_line(m, "@hotplug add 0000:02:00.0"));
	assert_reset_method(m, "0000:02:00.0", "device_specific flr pm bus\n");
	check_clean(m);
	machine_destroy(m);
}

/*
 * reset_method_store() (v6.6): an empty write disables every method (a
 * warning; the file stays), "default" finds them again
 * (pci_init_reset_methods()), else names separated by blanks, each one the
 * function has now, in the order to try them: EINVAL for an unknown name
 * ("Invalid reset method"), one it has not ("Unsupported reset method",
 * "bus" too once another function shares the bus), or a seventh entry
 * ("Too many reset methods"), the methods left as they were; a list
 * without device_specific first, when the function has it, is taken with
 * a warning.
 */
static void reset_method_store_rules(void **state)
{
	struct machine *m = do_load(reset_text), *c;

	(void)state;
	assert_int_equal(write_reset_method(m, "0000:02:00.0", "\n"), 0);
	assert_true(log_has(m, "e1000e 0000:02:00.0: All device reset methods disabled by user"));
	assert_reset_method(m, "0000:02:00.0", "");
	assert_int_equal(write_reset_method(m, "0000:02:00.0", "default\n"), 0);
	assert_reset_method(m, "0000:02:00.0", "device_specific flr pm bus\n");

	assert_int_equal(write_reset_method(m, "0000:02:00.0", "bus pm\n"), 0);
	assert_true(log_has(m, "e1000e 0000:02:00.0: Device-specific reset disabled/de-prioritized by user"));
	assert_reset_method(m, "0000:02:00.0", "bus pm\n");
	assert_int_equal(write_reset_method(m, "0000:02:00.0",
					    "  device_specific  flr\n"), 0);
	assert_reset_method(m, "0000:02:00.0", "device_specific flr\n");

	assert_int_equal(write_reset_method(m, "0000:02:00.0", "flr reboot\n"),
			 -EINVAL);
	assert_true(log_has(m, "e1000e 0000:02:00.0: Invalid reset method 'reboot'"));
	assert_int_equal(write_reset_method(m, "0000:02:00.0", "acpi\n"),
			 -EINVAL);
	assert_true(log_has(m, "e1000e 0000:02:00.0: Unsupported reset method 'acpi'"));
	assert_int_equal(write_reset_method(m, "0000:02:00.0",
					    "flr flr flr flr flr flr flr\n"),
			 -EINVAL);
	assert_true(log_has(m, "e1000e 0000:02:00.0: Too many reset methods"));
	assert_reset_method(m, "0000:02:00.0", "device_specific flr\n");
	assert_int_equal(write_reset_method(m, "0000:02:00.0",
					    "flr flr flr flr flr flr\n"), 0);
	assert_reset_method(m, "0000:02:00.0", "flr flr flr flr flr flr\n");

	/* the first GPU function lost its bus reset when the audio came */
	assert_int_equal(write_reset_method(m, "0000:01:00.0", "bus\n"),
			 -EINVAL);
	assert_true(log_has(m, "pci 0000:01:00.0: Unsupported reset method 'bus'"));
	assert_reset_method(m, "0000:01:00.0", "bus\n");
	assert_int_equal(write_reset_method(m, "0000:01:00.0", "default\n"), 0);
	assert_reset_method(m, "0000:01:00.0", "");
	/* the quirk: no bus reset, ever */
	assert_int_equal(write_reset_method(m, "0000:03:00.0", "bus\n"),
			 -EINVAL);
	check_clean(m);
	machine_destroy(m);

	/* the methods in force are state: a write tells two machines apart */
	m = do_load(reset_text);
	c = do_load(reset_text);
	assert_true(machine_equal(m, c));
	assert_int_equal(write_reset_method(c, "0000:02:00.0", "pm flr\n"), 0);
	assert_false(machine_equal(m, c));
	assert_int_not_equal(machine_state_hash(m), machine_state_hash(c));
	assert_int_equal(write_reset_method(c, "0000:02:00.0", "default\n"), 0);
	assert_true(machine_equal(m, c));
	machine_destroy(c);
	machine_destroy(m);
}

/* The library call and the machine-file option: their errors. */
static void reset_method_api(void **state)
{
	struct machine *m = do_load("machine a\nplatform p compatible=x\n"
				    "pci 0000:00:01.0 8086:10d3 class=020000\n");
	struct device *dev;

	(void)state;
	assert_string_equal(pci_reset_method_name(PCI_RESET_METHOD_AF_FLR),
			    "af_flr");
	assert_null(pci_reset_method_name(PCI_RESET_METHOD_MAX_));
	assert_null(pci_reset_method_name(0));
	assert_int_equal(device_set_pci_reset(dev_(m, "p"), 0, false), -EINVAL);
	dev = dev_(m, "0000:00:01.0");
	assert_int_equal(device_set_pci_reset(dev, 1u << PCI_RESET_METHOD_FLR,
					      false), -EBUSY);
	dev = device_alloc(m, "0000:00:02.0", NULL);
	assert_false(IS_ERR(dev));
	assert_int_equal(device_set_bus(dev, BUS_PCI), 0);
	assert_int_equal(device_set_pci_reset(dev, 1u << PCI_RESET_METHOD_BUS,
					      false), -EINVAL);
	assert_int_equal(device_set_pci_reset(dev, 1u << 9, false), -EINVAL);
	assert_int_equal(device_set_pci_reset(dev, 1u << PCI_RESET_METHOD_PM,
					      false), 0);
	assert_int_equal(device_add(dev), 0);
	assert_reset_method(m, "0000:00:02.0", "pm\n");
	machine_destroy(m);
}

/* ---- reserved regions ---- */

/* The reserved_regions file of @dev's group, as a read gives it. */
static char *group_resv(struct machine *m, const char *dev)
{
	char path[128], *buf = NULL;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/reserved_regions",
		 group_id(m, dev));
	assert_int_equal(sysfs_read(m, path, &buf), 0);
	return buf;
}

#define assert_resv(m, dev, want)                                         \
	do {                                                               \
		char *got_ = group_resv(m, dev);                           \
		assert_string_equal(got_, want);                           \
		free(got_);                                                \
	} while (0)

#define MSI_X86 "0x00000000fee00000 0x00000000feefffff msi\n"

/*
 * VT-d (v6.6): intel_iommu_get_resv_regions() reports each RMRR whose scope
 * names the device or a PCI bridge above it (is_downstream_to_pci_bridge()),
 * direct-relaxable for a USB controller or a display device
 * (device_rmrr_is_relaxable()) and direct otherwise, 0-16M
 * direct-relaxable for an ISA bridge (CONFIG_INTEL_IOMMU_FLOPPY_WA, on in
 * Debian), and the IOAPIC range 0xfee00000-0xfeefffff as msi;
 * iommu_group_show_resv_regions() prints a group's regions, merged by
 * iommu_insert_resv_region(), as "0x%016llx 0x%016llx %s". Only a direct
 * region makes the device require 1:1 mappings
 * (iommu_create_device_direct_mappings()): its group cannot be claimed
 * (__iommu_device_set_domain(): -EINVAL), a relaxable one's can.
 */
static void resv_regions_intel(void **state)
{
	static const char text[] =
		"machine r\n"
		"iommu d\n"
		"pci 0000:00:14.0 8086:a36d class=0c0330 type=rc-endpoint iommu=d rmrr=0x7a000000-0x7a0fffff\n"
		"pci 0000:00:1c.0 8086:a338 class=060400 type=root-port iommu=d rmrr=0x7c000000-0x7c000fff\n"
		"pci 0000:00:1f.0 8086:a305 class=060100 type=rc-endpoint iommu=d group=pch\n"
		"pci 0000:00:1f.3 8086:a348 class=040300 type=rc-endpoint iommu=d group=pch rmrr=0x0-0xfff,0x7b000000-0x7b0fffff\n"
		"pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:1c.0 iommu=d rmrr=0x7c001000-0x7c001fff\n"
		"pci 0000:03:00.0 8086:10d3 class=020000 iommu=d\n"
		"driver pcieport\ndriver xhci_hcd\ndriver e1000e\ndriver vfio-pci\n";
	struct machine *m = do_load(text);
	char *out;

	(void)state;
	assert_int_equal(iommu_device_kind(machine_find_iommu(m, "d")),
			 IOMMU_KIND_INTEL);
	assert_resv(m, "0000:00:14.0",
		    "0x000000007a000000 0x000000007a0fffff direct-relaxable\n"
		    MSI_X86);
	assert_resv(m, "0000:03:00.0", MSI_X86);
	/* one group: the direct range and the floppy range overlap, kept */
	assert_resv(m, "0000:00:1f.0",
		    "0x0000000000000000 0x0000000000000fff direct\n"
		    "0x0000000000000000 0x0000000000ffffff direct-relaxable\n"
		    "0x000000007b000000 0x000000007b0fffff direct\n"
		    MSI_X86);
	assert_resv(m, "0000:00:1c.0",
		    "0x000000007c000000 0x000000007c000fff direct\n" MSI_X86);
	/* the root port's RMRR covers the NIC too: adjacent, merged */
	assert_resv(m, "0000:02:00.0",
		    "0x000000007c000000 0x000000007c001fff direct\n" MSI_X86);
	assert_false(dev_require_direct(dev_(m, "0000:00:14.0")));
	assert_false(dev_require_direct(dev_(m, "0000:00:1f.0")));
	assert_true(dev_require_direct(dev_(m, "0000:00:1f.3")));
	assert_true(dev_require_direct(dev_(m, "0000:02:00.0")));
	assert_false(dev_require_direct(dev_(m, "0000:03:00.0")));

	/* the relaxable xHCI goes to a VMM; the NIC below the RMRR cannot */
	free(run_line(m, "echo 0000:00:14.0 > /sys/bus/pci/drivers/xhci_hcd/unbind"));
	free(run_line(m, "echo vfio-pci > /sys/bus/pci/devices/0000:00:14.0/driver_override"));
	free(run_line(m, "echo 0000:00:14.0 > /sys/bus/pci/drivers/vfio-pci/bind"));
	free(run_line(m, "@vmm assign 0000:00:14.0"));
	assert_non_null(iommu_group_by_id(m, group_id(m, "0000:00:14.0"))->owner);
	free(run_line(m, "echo 0000:02:00.0 > /sys/bus/pci/drivers/e1000e/unbind"));
	free(run_line(m, "echo vfio-pci > /sys/bus/pci/devices/0000:02:00.0/driver_override"));
	free(run_line(m, "echo 0000:02:00.0 > /sys/bus/pci/drivers/vfio-pci/bind"));
	out = run_line_status(m, "@vmm assign 0000:02:00.0", 1,
			      "qemu-system-x86_64: -device vfio-pci,host=0000:02:00.0: vfio 0000:02:00.0: Failed to set group container: Invalid argument\n");
	free(out);
	assert_null(iommu_group_by_id(m, group_id(m, "0000:02:00.0"))->owner);
	/* reading the file changes nothing */
	assert_resv(m, "0000:02:00.0",
		    "0x000000007c000000 0x000000007c001fff direct\n" MSI_X86);
	free(run_line(m, "@vmm release 0000:00:14.0"));
	check_clean(m);
	machine_destroy(m);
}

/*
 * What each kind of IOMMU driver reports (v6.6): amd_iommu_get_resv_regions()
 * an IVMD unity range as direct (a USB controller's too), MSI_RANGE
 * 0xfee00000-0xfeefffff msi and HT_RANGE 0xfd00000000-0xffffffffff
 * reserved; arm_smmu_get_resv_regions() (arm-smmu-v3 and arm-smmu) the
 * software MSI window MSI_IOVA_BASE 0x8000000, MSI_IOVA_LENGTH 0x100000,
 * which iommu_group_resv_type_string[] names "msi" as it does the hardware
 * one, then the IORT RMRs (iort_iommu_get_resv_regions()) as direct.
 * resv= replaces what the driver reports for every device; resv=none
 * reports nothing but the firmware ranges.
 */
static void resv_regions_kinds(void **state)
{
	struct machine *m;

	(void)state;
	m = do_load("machine a\niommu ivhd0 kind=amd\n"
		    "pci 0000:00:14.0 1022:149c class=0c0330 iommu=ivhd0 rmrr=0x9d000000-0x9d0fffff\n"
		    "pci 0000:00:15.0 1022:149c class=0c0330 iommu=ivhd0\n");
	assert_int_equal(iommu_device_kind(machine_find_iommu(m, "ivhd0")),
			 IOMMU_KIND_AMD);
	assert_resv(m, "0000:00:14.0",
		    "0x000000009d000000 0x000000009d0fffff direct\n" MSI_X86
		    "0x000000fd00000000 0x000000ffffffffff reserved\n");
	assert_true(dev_require_direct(dev_(m, "0000:00:14.0")));
	assert_false(dev_require_direct(dev_(m, "0000:00:15.0")));
	machine_destroy(m);

	/* acpi-iort: the SMMU is arm-smmu-v3 without kind=; groups at probe */
	m = do_load("machine s\narch arm64\nfirmware acpi-iort\niommu smmu\n"
		    "pci 0000:01:00.0 8086:10d3 class=020000 iommu=smmu rmrr=0x80000000-0x800fffff\n"
		    "pci 0000:02:00.0 8086:10d3 class=020000 iommu=smmu\n"
		    "driver e1000e\n");
	assert_int_equal(iommu_device_kind(machine_find_iommu(m, "smmu")),
			 IOMMU_KIND_ARM_SMMU_V3);
	assert_resv(m, "0000:01:00.0",
		    "0x0000000008000000 0x00000000080fffff msi\n"
		    "0x0000000080000000 0x00000000800fffff direct\n");
	assert_resv(m, "0000:02:00.0",
		    "0x0000000008000000 0x00000000080fffff msi\n");
	assert_true(dev_require_direct(dev_(m, "0000:01:00.0")));
	machine_destroy(m);

	m = do_load("machine v2\nfirmware devicetree\niommu smmu kind=arm-smmu\n"
		    "platform e.usb compatible=snps,dwc3 iommu=smmu\ndriver dwc3\n");
	assert_resv(m, "e.usb", "0x0000000008000000 0x00000000080fffff msi\n");
	machine_destroy(m);

	/* resv=: the regions for every device; none at all */
	m = do_load("machine o\n"
		    "iommu d resv=0xfee00000-0xfeefffff:msi,0x100000000-0x1ffffffff:reserved\n"
		    "iommu e resv=none\n"
		    "pci 0000:00:01.0 8086:10d3 class=020000 iommu=d\n"
		    "pci 0000:00:02.0 8086:10d3 class=020000 iommu=e\n"
		    "pci 0000:00:03.0 8086:10d3 class=020000 iommu=e rmrr\n");
	assert_resv(m, "0000:00:01.0",
		    MSI_X86 "0x0000000100000000 0x00000001ffffffff reserved\n");
	assert_resv(m, "0000:00:02.0", "");
	/* a bare rmrr: one range at a stand-in address */
	assert_resv(m, "0000:00:03.0",
		    "0x000000003e000000 0x000000003e1fffff direct\n");
	machine_destroy(m);
}

/*
 * iommu_insert_resv_region() (v6.6): regions go in by start address, and
 * at one address by type (direct, direct-relaxable, reserved, msi,
 * sw-msi); each insertion merges the overlapping or adjacent regions of
 * the new one's type, across regions of other types between them; other
 * types are never merged, so an msi and a sw-msi window at one address
 * both show, as "msi".
 */
static void resv_regions_merge(void **state)
{
	struct machine *m, *c;

	(void)state;
	m = do_load("machine g\n"
		    "iommu d resv=0x2800-0x4fff:reserved,0x1800-0x27ff:msi,0x2000-0x2fff:reserved,0x1000-0x1fff:reserved,0x8000-0x8fff:sw-msi,0x8000-0x8fff:msi\n"
		    "iommu e resv=none\n"
		    "pci 0000:00:01.0 8086:10d3 class=020000 iommu=d\n"
		    "pci 0000:00:02.0 8086:10d3 class=020000 iommu=e group=g rmrr=0x1000-0x1fff,0x3000-0x3fff\n"
		    "pci 0000:00:03.0 8086:10d3 class=020000 iommu=e group=g rmrr=0x1800-0x2fff,0x5000-0x5fff\n");
	assert_resv(m, "0000:00:01.0",
		    "0x0000000000001000 0x0000000000004fff reserved\n"
		    "0x0000000000001800 0x00000000000027ff msi\n"
		    "0x0000000000008000 0x0000000000008fff msi\n"
		    "0x0000000000008000 0x0000000000008fff msi\n");
	/* the members' ranges merged: 0x1000-0x3fff, apart 0x5000-0x5fff */
	assert_resv(m, "0000:00:02.0",
		    "0x0000000000001000 0x0000000000003fff direct\n"
		    "0x0000000000005000 0x0000000000005fff direct\n");
	check_clean(m);
	machine_destroy(m);

	/* an IOMMU's kind and regions too */
	m = do_load("machine q\niommu d\n");
	c = do_load("machine q\niommu d kind=amd\n");
	assert_false(machine_equal(m, c));
	machine_destroy(c);
	c = do_load("machine q\niommu d resv=0xfee00000-0xfeefffff:msi\n");
	assert_false(machine_equal(m, c));
	machine_destroy(c);
	machine_destroy(m);

	/* the ranges are part of the machine's state: equal only if equal */
	m = do_load("machine q\niommu d\npci 0000:00:01.0 8086:10d3 class=020000 iommu=d rmrr=0x1000-0x1fff\n");
	c = do_load("machine q\niommu d\npci 0000:00:01.0 8086:10d3 class=020000 iommu=d rmrr=0x1000-0x2fff\n");
	assert_false(machine_equal(m, c));
	machine_destroy(c);
	c = do_load("machine q\niommu d\npci 0000:00:01.0 8086:10d3 class=020000 iommu=d rmrr=0x1000-0x1fff\n");
	assert_true(machine_equal(m, c));
	machine_destroy(c);
	machine_destroy(m);
}

/* The library calls: their errnos (dmaown/iommu.h). */
static void resv_regions_api(void **state)
{
	static const struct iommu_resv_region ok = { 0x1000, 0x1000,
						     IOMMU_RESV_MSI };
	struct iommu_resv_region bad = ok, many[IOMMU_RESV_REGIONS_MAX + 1];
	struct machine_config cfg = { .iommu_api = true,
				      .firmware = FW_X86,
				      .def_domain_type = IOMMU_DOMAIN_DMA };
	struct machine *m = machine_create("api", &cfg);
	struct iommu_device *iommu;
	struct device *dev;

	(void)state;
	assert_non_null(m);
	iommu = iommu_device_alloc(m, "i", IOMMU_DOMAIN_BLOCKED);
	assert_false(IS_ERR(iommu));
	assert_int_equal(iommu_device_kind(iommu), IOMMU_KIND_INTEL);
	assert_int_equal(iommu_device_set_kind(iommu, IOMMU_KIND_MAX_), -EINVAL);
	assert_int_equal(iommu_device_set_kind(iommu, IOMMU_KIND_INVALID_), -EINVAL);
	assert_int_equal(iommu_device_set_kind(iommu, IOMMU_KIND_AMD), 0);
	assert_string_equal(iommu_kind_name(IOMMU_KIND_AMD), "amd");
	assert_null(iommu_kind_name(IOMMU_KIND_MAX_));
	assert_int_equal(iommu_device_set_resv_regions(iommu, &ok, 1), 0);
	bad.length = 0;
	assert_int_equal(iommu_device_set_resv_regions(iommu, &bad, 1), -EINVAL);
	bad = (struct iommu_resv_region){ UINT64_MAX, 2, IOMMU_RESV_MSI };
	assert_int_equal(iommu_device_set_resv_regions(iommu, &bad, 1), -EINVAL);
	bad = (struct iommu_resv_region){ 0, 1, IOMMU_RESV_TYPE_MAX_ };
	assert_int_equal(iommu_device_set_resv_regions(iommu, &bad, 1), -EINVAL);
	for (size_t i = 0; i < IOMMU_RESV_REGIONS_MAX + 1; i++)
		many[i] = ok;
	assert_int_equal(iommu_device_set_resv_regions(iommu, many,
						       IOMMU_RESV_REGIONS_MAX + 1),
			 -EINVAL);
	assert_string_equal(iommu_resv_type_str(IOMMU_RESV_SW_MSI), "msi");
	assert_null(iommu_resv_type_str(IOMMU_RESV_TYPE_MAX_));

	dev = device_alloc(m, "0000:00:01.0", NULL);
	assert_false(IS_ERR(dev));
	device_set_bus(dev, BUS_PCI);
	device_set_pci_ids(dev, 0x8086, 0x10d3, 0, 0, 0x020000);
	assert_int_equal(device_set_fw_iommu(dev, iommu, 0), 0);
	assert_int_equal(device_add_direct_region(dev, 0x1000, 0), -EINVAL);
	assert_int_equal(device_add_direct_region(dev, UINT64_MAX, 2), -EINVAL);
	for (int i = 0; i < DEVICE_DIRECT_REGIONS_MAX; i++)
		assert_int_equal(device_add_direct_region(dev, 0x1000, 0x1000),
				 0);
	assert_int_equal(device_add_direct_region(dev, 0x1000, 0x1000),
			 -EINVAL);
	assert_int_equal(iommu_device_register(iommu), 0);
	assert_int_equal(iommu_device_set_kind(iommu, IOMMU_KIND_INTEL), -EBUSY);
	assert_int_equal(iommu_device_set_resv_regions(iommu, &ok, 1), -EBUSY);
	assert_int_equal(device_add(dev), 0);
	assert_int_equal(device_add_direct_region(dev, 0x1000, 0x1000), -EBUSY);
	assert_true(dev_require_direct(dev));	/* amd: unity ranges direct */
	assert_resv(m, "0000:00:01.0",
		    "0x0000000000001000 0x0000000000001fff direct\n"
		    "0x0000000000001000 0x0000000000001fff msi\n");
	machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_list),
		cmocka_unit_test(builtin_unknown),
		cmocka_unit_test(builtin_round_trip),
		cmocka_unit_test(builtin_qdf2400),
		cmocka_unit_test(builtin_x86_desktop),
		cmocka_unit_test(builtin_x86_server),
		cmocka_unit_test(builtin_amd_desktop),
		cmocka_unit_test(builtin_arm64_soc),
		cmocka_unit_test(builtin_dpaa2),
		cmocka_unit_test(builtin_no_iommu),
		cmocka_unit_test(builtin_vfio_doc),
		cmocka_unit_test(grammar_layout),
		cmocka_unit_test(grammar_format),
		cmocka_unit_test(grammar_config),
		cmocka_unit_test(grammar_iommu),
		cmocka_unit_test(grammar_pci),
		cmocka_unit_test(grammar_other_buses),
		cmocka_unit_test(grammar_driver),
		cmocka_unit_test(grammar_boot_order),
		cmocka_unit_test(malformed),
		cmocka_unit_test(malformed_fault),
		cmocka_unit_test(limits),
		cmocka_unit_test(large_file_streams),
		cmocka_unit_test(load_file_errors),
		cmocka_unit_test(equal_loads),
		cmocka_unit_test(many_root_buses),
		cmocka_unit_test(sysfs_walks),
		cmocka_unit_test(script_show),
		cmocka_unit_test(resv_regions_intel),
		cmocka_unit_test(resv_regions_kinds),
		cmocka_unit_test(resv_regions_merge),
		cmocka_unit_test(resv_regions_api),
		cmocka_unit_test(reset_method_init),
		cmocka_unit_test(reset_method_store_rules),
		cmocka_unit_test(reset_method_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
