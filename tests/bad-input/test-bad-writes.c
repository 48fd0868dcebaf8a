// SPDX-License-Identifier: MIT
/*
 * Rejected sysfs writes leave the machine as it was.
 *
 * The sysfs rows of the bad-input catalogue (tests/bad-input/cases) check
 * what the shell prints; this test checks the state. Each row boots a
 * built-in machine, brings it to a state with script lines, then makes one
 * write through sysfs_write() that must fail with the row's errno, and
 * compares machine_serialize() before and after byte for byte: driver
 * bindings, overrides, dynamic ids, groups, ownership, owner_cnt, domains
 * and reference counts all read the same, and the invariants hold.
 *
 * The one documented exception (a first probe on IORT or devicetree joins
 * the device to its IOMMU group even when the probe fails, as the kernel
 * does) has its own test at the end, which pins down exactly what changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"

#define P "/sys/bus/pci"

struct bad_write {
	const char *name;
	const char *machine;
	const char *setup;	/* script lines, one a line; may be NULL */
	const char *path;
	const char *value;	/* NULL: see @len */
	size_t len;		/* bytes of @fill when @value is NULL */
	char fill;
	int err;		/* the negative errno expected */
};

static const struct bad_write rows[] = {
	{ "unknown path", "x86-desktop", NULL, P "/nosuch", "1\n", 0, 0,
	  -ENOENT },
	{ "unknown device directory", "x86-desktop", NULL,
	  P "/devices/0000:ff:00.0/driver_override", "vfio-pci", 0, 0,
	  -ENOENT },
	{ "read-only attribute", "x86-desktop", NULL,
	  P "/devices/0000:02:00.0/vendor", "0x8086\n", 0, 0, -EACCES },
	{ "directory", "x86-desktop", NULL, P "/devices/0000:02:00.0", "1\n",
	  0, 0, -EISDIR },
	{ "path through a file", "x86-desktop", NULL,
	  P "/drivers_probe/x", "1\n", 0, 0, -ENOTDIR },
	{ "vfio container node", "x86-desktop", NULL, "/dev/vfio/vfio", "1",
	  0, 0, -EACCES },
	{ "autoprobe garbage", "x86-desktop", NULL, P "/drivers_autoprobe",
	  "yes\n", 0, 0, -EINVAL },
	{ "autoprobe 2", "x86-desktop", NULL, P "/drivers_autoprobe", "2\n", 0,
	  0, -EINVAL },
	{ "bind of a bound device", "x86-desktop", NULL,
	  P "/drivers/e1000e/bind", "0000:02:00.0\n", 0, 0, -EBUSY },
	{ "double unbind", "x86-desktop",
	  "echo 0000:02:00.0 > " P "/drivers/e1000e/unbind",
	  P "/drivers/e1000e/unbind", "0000:02:00.0\n", 0, 0, -ENODEV },
	{ "unbind from another driver", "x86-desktop", NULL,
	  P "/drivers/ahci/unbind", "0000:02:00.0\n", 0, 0, -ENODEV },
	{ "bind to a driver that does not match", "x86-desktop",
	  "echo 0000:02:00.0 > " P "/drivers/e1000e/unbind",
	  P "/drivers/ahci/bind", "0000:02:00.0\n", 0, 0, -ENODEV },
	{ "bind of a device that does not exist", "x86-desktop", NULL,
	  P "/drivers/e1000e/bind", "0000:ff:00.0\n", 0, 0, -ENODEV },
	{ "drivers_probe of a device that does not exist", "x86-desktop",
	  NULL, P "/drivers_probe", "0000:ff:00.0\n", 0, 0, -ENODEV },
	{ "new_id twice", "x86-desktop",
	  "modprobe vfio-pci\n"
	  "echo 8086 10d3 > " P "/drivers/vfio-pci/new_id",
	  P "/drivers/vfio-pci/new_id", "8086 10d3\n", 0, 0, -EEXIST },
	{ "new_id garbage", "x86-desktop", "modprobe vfio-pci",
	  P "/drivers/vfio-pci/new_id", "vfio\n", 0, 0, -EINVAL },
	{ "remove_id of an absent id", "x86-desktop", "modprobe vfio-pci",
	  P "/drivers/vfio-pci/remove_id", "8086 10d3\n", 0, 0, -ENODEV },
	{ "remove garbage", "x86-desktop", NULL,
	  P "/devices/0000:02:00.0/remove", "yes\n", 0, 0, -EINVAL },
	{ "rescan garbage", "x86-desktop", NULL, P "/rescan", "-1\n", 0, 0,
	  -EINVAL },
	/* kernfs_fop_write_iter(): a sysfs write is atomic, one page */
	{ "write of a page and one byte", "x86-desktop", NULL,
	  P "/drivers_probe", NULL, SYSFS_WRITE_MAX + 1, 'x', -E2BIG },
	/* the store reads a C string: NULs name no device (drivers_probe_store()) */
	{ "write with a NUL byte", "x86-desktop", NULL, P "/drivers_probe",
	  NULL, 16, '\0', -ENODEV },
	{ "driver_override too long", "x86-desktop", NULL,
	  P "/devices/0000:02:00.0/driver_override", NULL, 4095, 'v',
	  -EINVAL },
	{ "group type garbage", "x86-desktop", NULL,
	  "/sys/kernel/iommu_groups/9/type", "passthrough\n", 0, 0,
	  -EINVAL },
	{ "group type under a DMA-API driver", "x86-desktop", NULL,
	  "/sys/kernel/iommu_groups/9/type", "identity\n", 0, 0, -EPERM },
	{ "vfio-pci refuses a bridge", "x86-desktop",
	  "modprobe vfio-pci\n"
	  "echo vfio-pci > " P "/devices/0000:00:1c.0/driver_override\n"
	  "echo 0000:00:1c.0 > " P "/drivers/pcieport/unbind",
	  P "/drivers/vfio-pci/bind", "0000:00:1c.0\n", 0, 0, -EINVAL },
	{ "kernel driver into a user-owned group", "x86-desktop",
	  "modprobe vfio-pci\n"
	  "echo 0000:01:00.0 > " P "/drivers/nouveau/unbind\n"
	  "echo 0000:01:00.1 > " P "/drivers/snd_hda_intel/unbind\n"
	  "echo vfio-pci > " P "/devices/0000:01:00.0/driver_override\n"
	  "echo vfio-pci > " P "/devices/0000:01:00.1/driver_override\n"
	  "echo 0000:01:00.0 > " P "/drivers_probe\n"
	  "echo 0000:01:00.1 > " P "/drivers_probe\n"
	  "@vmm assign 0000:01:00.0\n"
	  "echo > " P "/devices/0000:01:00.1/driver_override\n"
	  "echo 0000:01:00.1 > " P "/drivers/vfio-pci/unbind",
	  P "/drivers/snd_hda_intel/bind", "0000:01:00.1\n", 0, 0, -EBUSY },
	{ "group type of a user-owned group", "x86-server",
	  "modprobe vfio-pci\n"
	  "echo vfio-pci > " P "/devices/0000:65:00.0/driver_override\n"
	  "echo 0000:65:00.0 > " P "/drivers/nvme/unbind\n"
	  "echo 0000:65:00.0 > " P "/drivers_probe\n"
	  "@vmm assign 0000:65:00.0",
	  "/sys/kernel/iommu_groups/12/type", "identity\n", 0, 0, -EPERM },
	{ "vfio-pci without an IOMMU group", "no-iommu",
	  "modprobe vfio-pci\n"
	  "echo vfio-pci > " P "/devices/0000:01:00.0/driver_override\n"
	  "echo 0000:01:00.0 > " P "/drivers/nouveau/unbind",
	  P "/drivers/vfio-pci/bind", "0000:01:00.0\n", 0, 0, -EINVAL },
	{ "IORT: double unbind", "qdf2400",
	  "echo 0004:01:00.0 > " P "/drivers/e1000e/unbind",
	  P "/drivers/e1000e/unbind", "0004:01:00.0\n", 0, 0, -ENODEV },
	{ "IORT: bind of a bound device", "qdf2400", NULL,
	  P "/drivers/e1000e/bind", "0004:01:00.0\n", 0, 0, -EBUSY },
	{ "DT: bind to a driver on another bus", "arm64-soc", NULL,
	  P "/drivers/nvme/bind", "fe800000.usb\n", 0, 0, -ENODEV },
	{ "DT: unbind of a device of another driver", "arm64-soc", NULL,
	  "/sys/bus/platform/drivers/dwc3/unbind", "fe330000.mmc\n", 0, 0,
	  -ENODEV },
	/* SR-IOV (sriov_numvfs_store(), pci_device_can_probe()) */
	{ "sriov_numvfs garbage", "sriov-host", NULL,
	  P "/devices/0000:02:00.0/sriov_numvfs", "two\n", 0, 0, -EINVAL },
	{ "sriov_numvfs past TotalVFs", "sriov-host", NULL,
	  P "/devices/0000:02:00.0/sriov_numvfs", "65\n", 0, 0, -ERANGE },
	{ "sriov_numvfs from 2 to 3", "sriov-host",
	  "echo 2 > " P "/devices/0000:02:00.0/sriov_numvfs",
	  P "/devices/0000:02:00.0/sriov_numvfs", "3\n", 0, 0, -EBUSY },
	{ "sriov_numvfs without a PF driver", "sriov-host",
	  "echo 0000:02:00.0 > " P "/drivers/i40e/unbind",
	  P "/devices/0000:02:00.0/sriov_numvfs", "1\n", 0, 0, -ENOENT },
	{ "sriov_numvfs past ixgbe's 63", "sriov-host", NULL,
	  P "/devices/0000:01:00.0/sriov_numvfs", "64\n", 0, 0, -EPERM },
	{ "sriov_numvfs, vfio-pci without enable_sriov", "sriov-host",
	  "modprobe vfio-pci\n"
	  "echo vfio-pci > " P "/devices/0000:02:00.0/driver_override\n"
	  "echo 0000:02:00.0 > " P "/drivers/i40e/unbind\n"
	  "echo 0000:02:00.0 > " P "/drivers_probe",
	  P "/devices/0000:02:00.0/sriov_numvfs", "1\n", 0, 0, -ENOENT },
	{ "sriov_drivers_autoprobe garbage", "sriov-host", NULL,
	  P "/devices/0000:02:00.0/sriov_drivers_autoprobe", "2\n", 0, 0,
	  -EINVAL },
	{ "VF bind with sriov_drivers_autoprobe 0", "sriov-host",
	  "echo 0 > " P "/devices/0000:02:00.0/sriov_drivers_autoprobe\n"
	  "echo 1 > " P "/devices/0000:02:00.0/sriov_numvfs",
	  P "/drivers/iavf/bind", "0000:02:02.0\n", 0, 0, -ENODEV },
	{ "fsl-mc: bind to a driver of another object type", "dpaa2",
	  "echo dpni.0 > /sys/bus/fsl-mc/drivers/fsl_dpaa2_eth/unbind",
	  "/sys/bus/fsl-mc/drivers/fsl_mc_dpio/bind", "dpni.0\n", 0, 0,
	  -ENODEV },
};

#define NR_ROWS (sizeof(rows) / sizeof(rows[0]))

/* Run the setup lines; each must be understood and succeed. */
static void run_setup(struct machine *m, const char *setup)
{
	struct script_ctx *ctx = script_ctx_new(m, "setup");
	char *copy, *line, *save = NULL;
	int lineno = 0;

	assert_non_null(ctx);
	copy = strdup(setup ? setup : "");
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct script_result res;

		assert_int_equal(script_exec_line(ctx, line, ++lineno, &res),
				 0);
		if (res.status)
			fail_msg("setup line '%s' failed: %s", line, res.err);
		script_result_free(&res);
	}
	free(copy);
	script_ctx_free(ctx);
}

static void assert_invariants(struct machine *m)
{
	char why[512];
	unsigned int bad = machine_check_invariants(m, INV_ISOLATION |
						      INV_ACCOUNTING |
						      INV_DOMAINS |
						      INV_NO_WARN,
						   why, sizeof(why));

	if (bad)
		fail_msg("%s: %s", check_invariant_name(bad & -bad), why);
}

static void test_rejected_write(void **state)
{
	const struct bad_write *r = *state;
	struct machine *m = builtin_machine_load(r->machine, NULL);
	char *before, *after, *buf = NULL;
	const char *val = r->value;
	size_t len = val ? strlen(val) : r->len;

	assert_non_null(m);
	run_setup(m, r->setup);
	assert_invariants(m);
	if (!val) {
		buf = malloc(len);
		assert_non_null(buf);
		memset(buf, r->fill, len);
		if (r->fill)
			buf[len - 1] = '\n';
		val = buf;
	}
	before = machine_serialize(m, NULL);
	assert_non_null(before);
	assert_int_equal(sysfs_write(m, r->path, val, len), r->err);
	after = machine_serialize(m, NULL);
	assert_non_null(after);
	assert_string_equal(before, after);
	assert_invariants(m);
	free(before);
	free(after);
	free(buf);
	machine_destroy(m);
}

/*
 * The exception: on devicetree a device gets its fwspec and joins its
 * IOMMU group in its first probe's dma_configure, and keeps both when the
 * driver's probe then fails; nothing else changes.
 */
static const char dt_machine[] =
	"machine dt\n"
	"firmware devicetree\n"
	"iommu smmu0\n"
	"platform fe800000.usb compatible=snps,dwc3 iommu=smmu0\n"
	"driver vfio-platform\n";

#define USB "/sys/bus/platform/devices/fe800000.usb"

static void test_dt_failed_probe_keeps_group(void **state)
{
	struct machine *m = topology_load_string("dt", dt_machine, NULL);
	const char *bind = "/sys/bus/platform/drivers/vfio-platform/bind";
	char *before, *after, *link = NULL;

	(void)state;
	assert_non_null(m);
	assert_int_equal(sysfs_write(m, USB "/driver_override",
				     "vfio-platform\n", 14), 0);
	run_setup(m, "@fault probe vfio-platform ENOMEM 1");
	before = machine_serialize(m, NULL);
	assert_non_null(before);
	assert_int_equal(sysfs_readlink(m, USB "/iommu_group", &link),
			 -ENOENT);
	assert_int_equal(sysfs_write(m, bind, "fe800000.usb\n", 13), -ENOMEM);
	after = machine_serialize(m, NULL);
	assert_non_null(after);
	assert_string_not_equal(before, after);
	/* in a group now, unbound, the group unowned and uncounted */
	assert_int_equal(sysfs_readlink(m, USB "/iommu_group", &link), 0);
	assert_string_equal(link, "../../../kernel/iommu_groups/0");
	assert_int_equal(sysfs_stat(m, USB "/driver"), SYSFS_NONE);
	assert_non_null(strstr(after, "owner=- cnt=0"));
	assert_non_null(strstr(after, "fwspec=1"));
	assert_non_null(strstr(before, "fwspec=0"));
	assert_invariants(m);
	free(link);
	free(before);
	free(after);
	machine_destroy(m);
}

/*
 * '@fault attach IOMMU ERRNO' takes the errno by name, as '@fault probe'
 * does, or by number; 0 stops it.
 */
static void test_fault_attach_errno_names(void **state)
{
	struct machine *m = topology_load_string(
		"x86", builtin_machine_text("x86-desktop"), NULL);
	char *text;

	(void)state;
	assert_non_null(m);
	run_setup(m, "@fault attach dmar0 ENOSPC");
	text = machine_serialize(m, NULL);
	assert_non_null(strstr(text, "iommu dmar0 types="));
	assert_non_null(strstr(strstr(text, "iommu dmar0 types="), " fail=28\n"));
	free(text);
	run_setup(m, "@fault attach dmar0 0");
	text = machine_serialize(m, NULL);
	assert_non_null(strstr(strstr(text, "iommu dmar0 types="), " fail=0\n"));
	free(text);
	machine_destroy(m);
}

int main(void)
{
	struct CMUnitTest tests[NR_ROWS + 2];

	for (size_t i = 0; i < NR_ROWS; i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(
			test_rejected_write, (void *)&rows[i]);
		tests[i].name = rows[i].name;
	}
	tests[NR_ROWS] = (struct CMUnitTest)cmocka_unit_test(
		test_dt_failed_probe_keeps_group);
	tests[NR_ROWS + 1] = (struct CMUnitTest)cmocka_unit_test(
		test_fault_attach_errno_names);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
