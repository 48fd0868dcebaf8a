// SPDX-License-Identifier: MIT
/*
 * Tests of SR-IOV (src/drivers/pci/iov.c, the PF drivers' sriov_configure
 * in src/drivers/catalogue.c, vfio-pci's VF token in
 * src/drivers/vfio/pci/vfio_pci_core.c): each test names the v6.6
 * function whose behaviour it pins: pci_iov_virtfn_bus() and
 * pci_iov_virtfn_devfn(), sriov_numvfs_store() and the order of its
 * checks, sriov_enable()/pci_iov_add_virtfn() (what a VF is made of, its
 * links), pci_device_can_probe() with sriov_drivers_autoprobe,
 * pci_device_group() for VFs, pci_disable_sriov() from a PF driver's
 * remove with a VF open through VFIO, pci_iov_remove(), the drivers'
 * limits (ixgbe_pci_sriov_enable(), i40e_pci_sriov_enable()),
 * vfio_pci_sriov_configure() and vfio_pci_bus_notifier() (both events),
 * vfio_pci_validate_vf_token(); then machine-file options and clones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "dmaown/dmaown.h"
#include "dmaown/sysfs.h"
#include "dmaown/topology.h"
#include "dmaown/vfio.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

#define PF0 "/sys/bus/pci/devices/0000:02:00.0/"
#define TOKEN "2ab74924-c335-45f4-9b16-8569e5b08258"

/*
 * The test machine: an X710-like PF pair behind a root port with ACS (VFs
 * at 02:02.0... and 02:0a.0...), an 82599-like PF behind a root port
 * without ACS (VFs at 01:10.0...), an NVMe without SR-IOV.
 */
static const char machine_text[] =
	"machine t\n"
	"firmware x86\n"
	"groups computed\n"
	"iommu dmar0\n"
	"pci 0000:00:01.0 8086:1901 class=060400 type=root-port iommu=dmar0\n"
	"pci 0000:00:02.0 8086:2030 class=060400 type=root-port iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
	"pci 0000:00:03.0 8086:2031 class=060400 type=root-port iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
	"pci 0000:01:00.0 8086:10fb class=020000 parent=0000:00:01.0 iommu=dmar0 sriov-totalvfs=64 vf-offset=128 vf-stride=2 vf-device=10ed\n"
	"pci 0000:02:00.0 8086:1572 sub=8086:0001 class=020000 parent=0000:00:02.0 iommu=dmar0 acs-cap=- sriov-totalvfs=8 vf-offset=16 vf-stride=1 vf-device=154c\n"
	"pci 0000:02:00.1 8086:1572 sub=8086:0001 class=020000 parent=0000:00:02.0 iommu=dmar0 acs-cap=- sriov-totalvfs=8 vf-offset=79 vf-stride=1 vf-device=154c\n"
	"pci 0000:03:00.0 144d:a808 class=010802 parent=0000:00:03.0 iommu=dmar0\n"
	"driver pcieport\n"
	"driver ixgbe\n"
	"driver ixgbevf\n"
	"driver i40e\n"
	"driver iavf\n"
	"driver nvme\n";

static struct machine *load(const char *text)
{
	struct topo_error err;
	struct machine *m = topology_load_string("t.machine", text, &err);

	if (!m)
		fail_msg("load failed: %s:%d:%d: %s", err.file, err.line,
			 err.col, err.msg);
	assert_int_equal(machine_warn_count(m), 0);
	return m;
}

static void err_load(const char *text, int line, int col, const char *msg)
{
	struct topo_error err;

	assert_null(topology_load_string("t.machine", text, &err));
	if (err.line != line || err.col != col || strcmp(err.msg, msg))
		fail_msg("got      %d:%d: %s\nexpected %d:%d: %s", err.line,
			 err.col, err.msg, line, col, msg);
}

static int wr(struct machine *m, const char *path, const char *buf)
{
	return sysfs_write(m, path, buf, strlen(buf));
}

static void expect_read(struct machine *m, const char *path, const char *want)
{
	char *buf = NULL;

	assert_int_equal(sysfs_read(m, path, &buf), 0);
	assert_string_equal(buf, want);
	free(buf);
}

static void expect_link(struct machine *m, const char *path, const char *want)
{
	char *buf = NULL;

	assert_int_equal(sysfs_readlink(m, path, &buf), 0);
	assert_string_equal(buf, want);
	free(buf);
}

/* Whether the kernel log has a line containing @text; the log is cleared. */
static bool logged(struct machine *m, const char *text)
{
	bool found = false;

	for (size_t i = 0; i < machine_log_count(m); i++)
		if (strstr(machine_log_entry(m, i)->text, text))
			found = true;
	machine_log_clear(m);
	return found;
}

static const char *drv_of(struct machine *m, const char *name)
{
	struct device *dev = machine_find_device(m, name);

	assert_non_null(dev);
	return dev->driver && dev->bound ? dev->driver->name : "-";
}

/* ---- pci_iov_virtfn_bus(), pci_iov_virtfn_devfn() ---- */

static void pci_iov_virtfn_bus_devfn(void **state)
{
	char name[DEVICE_NAME_MAX];

	(void)state;
	/* 82599: offset 128, stride 2 from function 0 and from function 1 */
	assert_int_equal(pci_iov_virtfn_name("0000:01:00.0", 128, 2, 0, name,
					     sizeof(name)), 0);
	assert_string_equal(name, "0000:01:10.0");
	pci_iov_virtfn_name("0000:01:00.0", 128, 2, 1, name, sizeof(name));
	assert_string_equal(name, "0000:01:10.2");
	pci_iov_virtfn_name("0000:01:00.0", 128, 2, 63, name, sizeof(name));
	assert_string_equal(name, "0000:01:1f.6");
	pci_iov_virtfn_name("0000:01:00.1", 128, 2, 0, name, sizeof(name));
	assert_string_equal(name, "0000:01:10.1");
	/* a routing ID past devfn 255 is on the next bus (a virtual bus) */
	pci_iov_virtfn_name("0000:05:00.0", 384, 1, 2, name, sizeof(name));
	assert_string_equal(name, "0000:06:10.2");
	pci_iov_virtfn_name("0000:02:00.1", 79, 1, 0, name, sizeof(name));
	assert_string_equal(name, "0000:02:0a.0");
	/* past bus ff, or not a PCI name */
	assert_int_equal(pci_iov_virtfn_name("0000:ff:00.0", 256, 1, 0, name,
					     sizeof(name)), -EINVAL);
	assert_int_equal(pci_iov_virtfn_name("soc", 1, 1, 0, name,
					     sizeof(name)), -EINVAL);
}

/* ---- sriov_numvfs_store(): the order of its checks ---- */

static void sriov_numvfs_store_checks(void **state)
{
	struct machine *m = load(machine_text);

	(void)state;
	/* kstrtou16() first: not a number, negative, past 65535: EINVAL */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "two"), -EINVAL);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "-1"), -EINVAL);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "65536"), -EINVAL);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2 "), -EINVAL);
	/* above TotalVFs: ERANGE, before the driver is looked at */
	assert_int_equal(driver_unload(m, "i40e"), 0);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "9"), -ERANGE);
	/* the count it has already: success, even without a driver */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "0"), 0);
	assert_false(logged(m, "SR-IOV"));
	/* no driver: ENOENT, said so */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "1"), -ENOENT);
	assert_true(logged(m, "pci 0000:02:00.0: no driver bound to device; cannot configure SR-IOV"));
	/* a driver without sriov_configure: ENOENT, said so */
	assert_int_equal(driver_load_params(m, "pci-stub", NULL), 0);
	assert_int_equal(wr(m, PF0 "driver_override", "pci-stub"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:00.0"), 0);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "1"), -ENOENT);
	assert_true(logged(m, "pci-stub 0000:02:00.0: driver does not support SR-IOV configuration via sysfs"));
	assert_int_equal(driver_unload(m, "pci-stub"), 0);
	assert_int_equal(wr(m, PF0 "driver_override", "\n"), 0);
	assert_int_equal(driver_load_params(m, "i40e", NULL), 0);
	assert_string_equal(drv_of(m, "0000:02:00.0"), "i40e");
	/* 0x prefix and a newline, as kstrtou16(buf, 0) takes them */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "0x2\n"), 0);
	expect_read(m, PF0 "sriov_numvfs", "2\n");
	assert_true(logged(m, "i40e 0000:02:00.0: Allocating 2 VFs."));
	/* the same count: nothing; another non-zero one: EBUSY, said so */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_false(logged(m, "Allocating"));
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "3"), -EBUSY);
	assert_true(logged(m, "i40e 0000:02:00.0: 2 VFs already enabled. Disable before enabling 3 VFs"));
	expect_read(m, PF0 "sriov_numvfs", "2\n");
	/* 0 removes them all */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "0"), 0);
	expect_read(m, PF0 "sriov_numvfs", "0\n");
	assert_null(machine_find_device(m, "0000:02:02.0"));
	assert_null(machine_find_device(m, "0000:02:02.1"));
	assert_int_equal(machine_warn_count(m), 0);
	machine_destroy(m);
}

/* ---- sriov_enable(), pci_iov_add_virtfn(): what a VF is ---- */

static void pci_iov_add_virtfn_device(void **state)
{
	struct machine *m = load(machine_text);
	struct device *pf, *vf;
	char *buf = NULL;

	(void)state;
	expect_read(m, PF0 "sriov_totalvfs", "8\n");
	expect_read(m, PF0 "sriov_offset", "16\n");
	expect_read(m, PF0 "sriov_stride", "1\n");
	expect_read(m, PF0 "sriov_vf_device", "154c\n");
	expect_read(m, PF0 "sriov_drivers_autoprobe", "1\n");
	expect_read(m, PF0 "sriov_vf_total_msix", "0\n");
	/* only a PF has them */
	assert_int_equal(sysfs_read(m, "/sys/bus/pci/devices/0000:03:00.0/sriov_totalvfs",
				    &buf), -ENOENT);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	pf = machine_find_device(m, "0000:02:00.0");
	vf = machine_find_device(m, "0000:02:02.1");
	assert_non_null(vf);
	/* the PF's vendor, class and subsystem; the VF device id */
	assert_int_equal(vf->ids.vendor, 0x8086);
	assert_int_equal(vf->ids.device, 0x154c);
	assert_int_equal(vf->ids.class, 0x020000);
	assert_int_equal(vf->ids.subvendor, 0x8086);
	assert_int_equal(vf->ids.subdevice, 0x0001);
	assert_int_equal(vf->ids.hdr_type, PCI_HEADER_TYPE_NORMAL);
	/* a sibling of its PF in /sys/devices, with a reference on it */
	assert_ptr_equal(vf->parent, pf->parent);
	assert_ptr_equal(vf->sriov.physfn, pf);
	assert_int_equal(vf->sriov.vf_id, 1);
	expect_link(m, "/sys/bus/pci/devices/0000:02:02.1", "../../../devices/pci0000:00/0000:00:02.0/0000:02:02.1");
	expect_link(m, PF0 "virtfn0", "../0000:02:02.0");
	expect_link(m, PF0 "virtfn1", "../0000:02:02.1");
	expect_link(m, "/sys/bus/pci/devices/0000:02:02.1/physfn", "../0000:02:00.0");
	/* a VF has FLR, and no bus reset: its PF shares its bus */
	expect_read(m, "/sys/bus/pci/devices/0000:02:02.1/reset_method", "flr\n");
	/* a VF has none of the PF's files, but sriov_vf_msix_count */
	assert_int_equal(sysfs_read(m, "/sys/bus/pci/devices/0000:02:02.1/sriov_numvfs",
				    &buf), -ENOENT);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:02.1/sriov_vf_msix_count", "-1"),
			 -EINVAL);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:02.1/sriov_vf_msix_count", "4"),
			 -EOPNOTSUPP);
	/* the PF's config space: the SR-IOV capability at 0x100 */
	{
		unsigned char *cfg = NULL;
		size_t len = 0;

		assert_int_equal(sysfs_read_bin(m, PF0 "config", (char **)&cfg, &len), 0);
		assert_int_equal(len, 4096);
		assert_int_equal(cfg[0x100] | cfg[0x101] << 8, 0x10);	/* SR-IOV */
		assert_int_equal(cfg[0x108] & 0x09, 0x09);	/* VFE | MSE */
		assert_int_equal(cfg[0x10e], 8);		/* TotalVFs */
		assert_int_equal(cfg[0x110], 2);		/* NumVFs */
		assert_int_equal(cfg[0x114], 16);		/* offset */
		assert_int_equal(cfg[0x116], 1);		/* stride */
		assert_int_equal(cfg[0x11a] | cfg[0x11b] << 8, 0x154c);
		free(cfg);
	}
	/* iavf autoprobes */
	assert_string_equal(drv_of(m, "0000:02:02.1"), "iavf");
	/* removing them takes the links */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "0"), 0);
	assert_int_equal(sysfs_readlink(m, PF0 "virtfn0", &buf), -ENOENT);
	machine_destroy(m);
}

/* ---- pci_device_can_probe(), sriov_drivers_autoprobe ---- */

static void pci_device_can_probe_autoprobe(void **state)
{
	struct machine *m = load(machine_text);

	(void)state;
	/* kstrtobool() */
	assert_int_equal(wr(m, PF0 "sriov_drivers_autoprobe", "maybe"), -EINVAL);
	assert_int_equal(wr(m, PF0 "sriov_drivers_autoprobe", "off"), 0);
	expect_read(m, PF0 "sriov_drivers_autoprobe", "0\n");
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_string_equal(drv_of(m, "0000:02:02.0"), "-");
	/* even an explicit bind is refused at probe: ENODEV */
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/iavf/bind", "0000:02:02.0"),
			 -ENODEV);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:02.0"), 0);
	assert_string_equal(drv_of(m, "0000:02:02.0"), "-");
	/* a driver_override lets it probe */
	assert_int_equal(driver_load_params(m, "vfio-pci", NULL), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:02.0/driver_override",
			    "vfio-pci"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:02.0"), 0);
	assert_string_equal(drv_of(m, "0000:02:02.0"), "vfio-pci");
	/* the flag is read at probe time: on again, iavf takes the other */
	assert_int_equal(wr(m, PF0 "sriov_drivers_autoprobe", "y"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:02.1"), 0);
	assert_string_equal(drv_of(m, "0000:02:02.1"), "iavf");
	/* other PFs keep their own flag */
	expect_read(m, "/sys/bus/pci/devices/0000:02:00.1/sriov_drivers_autoprobe", "1\n");
	machine_destroy(m);
}

/* ---- pci_device_group() for VFs ---- */

static int group_of(struct machine *m, const char *name)
{
	struct device *dev = machine_find_device(m, name);

	assert_non_null(dev);
	assert_non_null(dev->iommu_group);
	return dev->iommu_group->id;
}

static void pci_device_group_virtfn(void **state)
{
	struct machine *m = load(machine_text);
	int g;

	(void)state;
	/* behind a root port with ACS: each VF alone, the PF alone */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	g = group_of(m, "0000:02:02.0");
	assert_int_not_equal(g, group_of(m, "0000:02:00.0"));
	assert_int_not_equal(g, group_of(m, "0000:02:02.1"));
	/* behind a root port without ACS: the root port's group */
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "2"), 0);
	assert_true(logged(m, "ixgbe 0000:01:00.0: SR-IOV enabled with 2 VFs"));
	g = group_of(m, "0000:00:01.0");
	assert_int_equal(group_of(m, "0000:01:10.0"), g);
	assert_int_equal(group_of(m, "0000:01:10.2"), g);
	assert_int_equal(group_of(m, "0000:01:00.0"), g);
	machine_destroy(m);

	/*
	 * A multifunction PF pair without ACS shares a group, but its VFs,
	 * never part of a multifunction device (pci_acs_enabled() and the
	 * is_virtfn test), are each alone; VFs sharing a slot with the PF
	 * (offset 1) do not make it multifunction either.
	 */
	m = load("machine t\nfirmware x86\ngroups computed\niommu dmar0\n"
		 "pci 0000:00:02.0 8086:2030 class=060400 type=root-port iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
		 "pci 0000:00:03.0 8086:2031 class=060400 type=root-port iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
		 "pci 0000:02:00.0 1234:0001 class=020000 parent=0000:00:02.0 iommu=dmar0 sriov-totalvfs=2 vf-offset=8 vf-stride=1 vf-device=0002\n"
		 "pci 0000:02:00.1 1234:0001 class=020000 parent=0000:00:02.0 iommu=dmar0\n"
		 "pci 0000:03:00.0 1234:0001 class=020000 parent=0000:00:03.0 iommu=dmar0 sriov-totalvfs=2 vf-offset=1 vf-stride=1 vf-device=0002\n"
		 "driver vfio-pci ids=1234:0001 enable_sriov=1\n");
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs", "2"), 0);
	assert_int_equal(group_of(m, "0000:02:00.0"), group_of(m, "0000:02:00.1"));
	assert_int_not_equal(group_of(m, "0000:02:01.0"), group_of(m, "0000:02:00.0"));
	assert_int_not_equal(group_of(m, "0000:02:01.0"), group_of(m, "0000:02:01.1"));
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "2"), 0);
	assert_int_not_equal(group_of(m, "0000:03:00.1"), group_of(m, "0000:03:00.0"));
	assert_int_not_equal(group_of(m, "0000:03:00.1"), group_of(m, "0000:03:00.2"));
	machine_destroy(m);

	/* labels: a PF alone has VFs alone; a labelled PF shares its group */
	m = load("machine t\nfirmware x86\niommu dmar0\n"
		 "pci 0000:00:02.0 8086:2030 class=060400 type=root-port iommu=dmar0 group=rp\n"
		 "pci 0000:02:00.0 8086:1572 class=020000 parent=0000:00:02.0 iommu=dmar0 group=rp sriov-totalvfs=2 vf-offset=16 vf-stride=1 vf-device=154c\n"
		 "pci 0000:03:00.0 8086:1572 class=020000 iommu=dmar0 sriov-totalvfs=2 vf-offset=16 vf-stride=1 vf-device=154c\n"
		 "driver i40e\n");
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "1"), 0);
	assert_int_equal(group_of(m, "0000:02:02.0"), group_of(m, "0000:00:02.0"));
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "2"), 0);
	assert_int_not_equal(group_of(m, "0000:03:02.0"), group_of(m, "0000:03:00.0"));
	assert_int_not_equal(group_of(m, "0000:03:02.0"), group_of(m, "0000:03:02.1"));
	machine_destroy(m);
}

/* ---- the PF drivers' sriov_configure limits ---- */

static void pf_driver_sriov_configure_limits(void **state)
{
	struct machine *m = load("machine t\nfirmware x86\niommu dmar0\n"
				 "pci 0000:01:00.0 8086:10fb class=020000 iommu=dmar0 sriov-totalvfs=64 vf-offset=128 vf-stride=2 vf-device=10ed\n"
				 "driver ixgbe\n");

	(void)state;
	/* ixgbe_pci_sriov_enable(): one pool stays with the PF: 63 */
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "64"),
			 -EPERM);
	assert_true(logged(m, "ixgbe 0000:01:00.0: Currently configured with 1 TCs, and 0 offloaded macvlans. Creating more than 63 VFs is not allowed"));
	assert_null(machine_find_device(m, "0000:01:10.0"));
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "63"), 0);
	assert_non_null(machine_find_device(m, "0000:01:1f.4"));
	expect_read(m, "/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "63\n");
	/* ixgbe_remove() -> ixgbe_disable_sriov(): rmmod takes them */
	assert_int_equal(driver_unload(m, "ixgbe"), 0);
	assert_null(machine_find_device(m, "0000:01:10.0"));
	expect_read(m, "/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "0\n");
	assert_false(logged(m, "driver left SR-IOV enabled"));
	machine_destroy(m);
}

/* ---- pci_disable_sriov() from the PF's remove, a VF open via VFIO ---- */

static int open_vf(struct process *p, int group, const char *name)
{
	int c = vfio_container_fd_open(p), g = vfio_group_fd_open(p, group);

	assert_true(c >= 3 && g >= 3);
	assert_int_equal(vfio_ioctl_group_set_container(p, g, c), 0);
	assert_int_equal(vfio_ioctl_set_iommu(p, c, VFIO_TYPE1v2_IOMMU), 0);
	return vfio_ioctl_group_get_device_fd(p, g, name);
}

static void pci_disable_sriov_on_pf_unbind(void **state)
{
	struct machine *m = load(machine_text);
	struct process *qemu = machine_process(m, "qemu");
	int fd;

	(void)state;
	assert_int_equal(driver_load_params(m, "vfio-pci", NULL), 0);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:02.0/driver_override",
			    "vfio-pci"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/iavf/unbind", "0000:02:02.0"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:02.0"), 0);
	fd = open_vf(qemu, group_of(m, "0000:02:02.0"), "0000:02:02.0");
	assert_true(fd >= 3);
	assert_int_equal(vfio_ioctl_set_req_eventfd(qemu, fd), 0);
	machine_log_clear(m);
	/* i40e's remove frees the VFs; vfio-pci's remove asks userspace */
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/i40e/unbind", "0000:02:00.0"), 0);
	assert_true(logged(m, "vfio-pci 0000:02:02.0: Relaying device request to user (#0)"));
	assert_null(machine_find_device(m, "0000:02:02.0"));
	assert_null(machine_find_device(m, "0000:02:02.1"));
	expect_read(m, PF0 "sriov_numvfs", "0\n");
	/* the device file was closed for the removal */
	assert_int_equal(vfio_ioctl_set_req_eventfd(qemu, fd), -EBADF);
	assert_int_equal(machine_warn_count(m), 0);
	machine_destroy(m);
}

/* A VF removed through its own remove file never comes back by rescan. */
static void pci_iov_remove_virtfn_after_remove_file(void **state)
{
	struct machine *m = load(machine_text);

	(void)state;
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:02.1/remove", "1"), 0);
	assert_null(machine_find_device(m, "0000:02:02.1"));
	assert_int_equal(wr(m, "/sys/bus/pci/rescan", "1"), 0);
	assert_null(machine_find_device(m, "0000:02:02.1"));
	assert_int_equal(sysfs_readlink(m, PF0 "virtfn1", &(char *){ NULL }),
			 -ENOENT);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "0"), 0);
	/* and once disabled, the object is gone: enabling again works */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_non_null(machine_find_device(m, "0000:02:02.1"));
	/* removing the PF takes its VFs */
	assert_int_equal(wr(m, PF0 "remove", "1"), 0);
	assert_null(machine_find_device(m, "0000:02:02.0"));
	assert_int_equal(machine_warn_count(m), 0);
	machine_destroy(m);
}

/* pci_iov_remove(): a PF driver that leaves VFs behind is warned about. */
static void pci_iov_remove_warns(void **state)
{
	struct machine *m = load(machine_text);
	struct device *pf = machine_find_device(m, "0000:02:00.0");

	(void)state;
	machine_log_clear(m);
	pci_iov_remove(pf);
	assert_false(logged(m, "left SR-IOV"));
	pf->sriov.num_VFs = 1;
	pci_iov_remove(pf);
	assert_true(logged(m, "i40e 0000:02:00.0: driver left SR-IOV enabled after remove"));
	pf->sriov.num_VFs = 0;
	machine_destroy(m);
}

/* ---- vfio-pci as PF driver ---- */

static void vfio_pci_sriov_configure_enable_sriov(void **state)
{
	struct machine *m = load(machine_text);

	(void)state;
	assert_int_equal(driver_load_params(m, "vfio-pci", NULL), 0);
	assert_int_equal(wr(m, PF0 "driver_override", "vfio-pci"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/i40e/unbind", "0000:02:00.0"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:00.0"), 0);
	machine_log_clear(m);
	/* without enable_sriov: the callback's ENOENT, and no log line */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "1"), -ENOENT);
	assert_int_equal(machine_log_count(m), 0);
	assert_int_equal(driver_unload(m, "vfio-pci"), 0);
	assert_int_equal(driver_load_params(m, "vfio-pci", "enable_sriov=1"), 0);
	assert_string_equal(drv_of(m, "0000:02:00.0"), "vfio-pci");
	/* vfio_pci_bus_notifier(): each VF captured for vfio-pci */
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_true(logged(m, "vfio-pci 0000:02:00.0: Captured SR-IOV VF 0000:02:02.1 driver_override"));
	expect_read(m, "/sys/bus/pci/devices/0000:02:02.1/driver_override", "vfio-pci\n");
	assert_string_equal(drv_of(m, "0000:02:02.0"), "vfio-pci");
	assert_string_equal(drv_of(m, "0000:02:02.1"), "vfio-pci");
	/* BUS_NOTIFY_BOUND_DRIVER: a VF on another driver is warned about */
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/vfio-pci/unbind", "0000:02:02.1"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:02.1/driver_override", "\n"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/iavf/bind", "0000:02:02.1"), 0);
	assert_true(logged(m, "vfio-pci 0000:02:00.0: VF 0000:02:02.1 bound to driver iavf while PF bound to driver vfio-pci"));
	/* vfio_pci_core_unregister_device(): SR-IOV off first */
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/vfio-pci/unbind", "0000:02:00.0"), 0);
	assert_null(machine_find_device(m, "0000:02:02.0"));
	assert_false(logged(m, "left SR-IOV"));
	assert_int_equal(machine_warn_count(m), 0);
	machine_destroy(m);
}

static void vfio_pci_validate_vf_token_checks(void **state)
{
	struct machine *m = load(machine_text);
	struct process *pfp = machine_process(m, "pf"), *vm = machine_process(m, "vm");
	int g, c, pffd;

	(void)state;
	assert_int_equal(driver_load_params(m, "vfio-pci", "enable_sriov=1"), 0);
	/* a VF of i40e: no token needed, and one given is refused */
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:00.1/sriov_numvfs", "1"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/iavf/unbind", "0000:02:0a.0"), 0);
	/* vfio-pci's ids match only through driver_override */
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/vfio-pci/bind", "0000:02:0a.0"),
			 -ENODEV);
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:02:0a.0/driver_override",
			    "vfio-pci"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/vfio-pci/bind", "0000:02:0a.0"), 0);
	g = group_of(m, "0000:02:0a.0");
	c = vfio_container_fd_open(vm);
	assert_int_equal(vfio_ioctl_group_set_container(vm, vfio_group_fd_open(vm, g), c), 0);
	assert_int_equal(vfio_ioctl_set_iommu(vm, c, VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(vfio_ioctl_group_get_device_fd(vm, c + 1, "0000:02:0a.0 vf_token=" TOKEN),
			 -EINVAL);
	assert_true(logged(m, "VF token incorrectly provided, PF not bound to vfio-pci"));
	/* vfio_pci_core_match(): name, blanks, one vf_token= and no more */
	assert_int_equal(vfio_ioctl_group_get_device_fd(vm, c + 1, "0000:02:0a.0x"),
			 -ENODEV);
	assert_int_equal(vfio_ioctl_group_get_device_fd(vm, c + 1, "0000:02:0a.0 colour=red"),
			 -EINVAL);
	assert_int_equal(vfio_ioctl_group_get_device_fd(vm, c + 1, "0000:02:0a.0 vf_token=2ab7"),
			 -EINVAL);
	assert_true(vfio_ioctl_group_get_device_fd(vm, c + 1, "0000:02:0a.0  ") >= 3);
	process_exit(vm);
	vm = machine_process(m, "vm");

	/* the PF on vfio-pci: its VFs need its token */
	assert_int_equal(wr(m, PF0 "driver_override", "vfio-pci"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/i40e/unbind", "0000:02:00.0"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:02:00.0"), 0);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "1"), 0);
	pffd = open_vf(pfp, group_of(m, "0000:02:00.0"), "0000:02:00.0");
	assert_true(pffd >= 3);
	/* the PF's token is random until its user sets one */
	assert_int_equal(open_vf(vm, group_of(m, "0000:02:02.0"),
				 "0000:02:02.0 vf_token=" TOKEN), -EACCES);
	assert_true(logged(m, "vfio-pci 0000:02:02.0: Incorrect VF token provided for device"));
	assert_int_equal(vfio_ioctl_pci_vf_token(pfp, pffd, "not-a-uuid"), -EINVAL);
	assert_int_equal(vfio_ioctl_pci_vf_token(pfp, pffd, TOKEN), 0);
	assert_int_equal(vfio_ioctl_group_get_device_fd(vm, 4, "0000:02:02.0"), -EACCES);
	assert_true(logged(m, "vfio-pci 0000:02:02.0: VF token required to access device"));
	assert_true(vfio_ioctl_group_get_device_fd(vm, 4, "0000:02:02.0 vf_token=" TOKEN) >= 3);
	/* a VF open: the PF needs the token too, the right one */
	assert_int_equal(vfio_ioctl_group_get_device_fd(pfp, pffd - 1, "0000:02:00.0"), -EACCES);
	assert_int_equal(vfio_ioctl_group_get_device_fd(pfp, pffd - 1,
			 "0000:02:00.0 vf_token=00000000-0000-0000-0000-000000000000"), -EACCES);
	assert_true(vfio_ioctl_group_get_device_fd(pfp, pffd - 1, "0000:02:00.0 vf_token=" TOKEN) >= 3);
	/* the VF closed: a token given for the PF sets it */
	process_exit(vm);
	vm = machine_process(m, "vm");
	assert_int_equal(machine_find_device(m, "0000:02:00.0")->sriov.vf_token_users, 0);
	assert_true(vfio_ioctl_group_get_device_fd(pfp, pffd - 1,
			"0000:02:00.0 vf_token=00000000-0000-0000-0000-000000000001") >= 3);
	assert_string_equal(machine_find_device(m, "0000:02:00.0")->sriov.vf_token,
			    "00000000-0000-0000-0000-000000000001");
	/* not a PF or VF: a token is refused; no VF token feature either */
	assert_int_equal(wr(m, "/sys/bus/pci/devices/0000:03:00.0/driver_override", "vfio-pci"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers/nvme/unbind", "0000:03:00.0"), 0);
	assert_int_equal(wr(m, "/sys/bus/pci/drivers_probe", "0000:03:00.0"), 0);
	assert_int_equal(open_vf(vm, group_of(m, "0000:03:00.0"), "0000:03:00.0 vf_token=" TOKEN),
			 -EINVAL);
	assert_true(logged(m, "vfio-pci 0000:03:00.0: VF token incorrectly provided, not a PF or VF"));
	assert_int_equal(machine_warn_count(m), 0);
	machine_destroy(m);
}

/* ---- the machine file ---- */

static void machine_file_sriov_options(void **state)
{
	(void)state;
#define M "machine t\n"
#define P "pci 0000:01:00.0 8086:10fb class=020000 "
	err_load(M P "vf-offset=128\n", 2, 41,
		 "vf-offset= needs sriov-totalvfs= on the same device");
	err_load(M P "sriov-totalvfs=4 vf-stride=2 vf-device=10ed\n", 2, 41,
		 "missing option vf-offset=128 for SR-IOV device '0000:01:00.0'");
	err_load(M P "sriov-totalvfs=4 vf-offset=128 vf-device=10ed\n", 2, 41,
		 "missing option vf-stride=2 for SR-IOV device '0000:01:00.0'");
	/* one VF needs no stride */
	machine_destroy(load(M P "sriov-totalvfs=1 vf-offset=128 vf-device=10ed\n"));
	err_load(M P "sriov-totalvfs=0 vf-offset=1 vf-stride=1 vf-device=10ed\n", 2, 56,
		 "expected TotalVFs, a decimal number from 1 to 65535, got '0'");
	err_load(M P "sriov-totalvfs=4 vf-offset=0x80 vf-stride=1 vf-device=10ed\n", 2, 68,
		 "expected a First VF Offset, a decimal number from 1 to 65535, got '0x80'");
	err_load(M P "sriov-totalvfs=4 vf-offset=1 vf-stride=1 vf-device=10edf\n", 2, 92,
		 "expected a VF device id of 4 hex digits like 10ed, got '10edf'");
	err_load(M P "sriov-totalvfs=4 vf-offset=1 vf-stride=0 vf-device=10ed\n", 2, 70,
		 "vf-stride=0 allows one VF only, not 4");
	err_load(M "pci 0000:00:01.0 8086:1901 class=060400 type=root-port sriov-totalvfs=1 vf-offset=1 vf-device=1234\n",
		 2, 56, "sriov-totalvfs= needs a PCIe endpoint (type=endpoint or rc-endpoint)");
	err_load(M "pci 0000:ff:00.0 8086:10fb class=020000 sriov-totalvfs=64 vf-offset=200 vf-stride=2 vf-device=10ed\n",
		 2, 41, "VF 63 of '0000:ff:00.0' would be past bus ff (vf-offset=200, vf-stride=2)");
	err_load(M P "sriov-totalvfs=4 vf-offset=128 vf-stride=2 vf-device=10ed\n"
		 "pci 0000:01:10.4 8086:10ed class=020000\n", 2, 41,
		 "VF 2 of '0000:01:00.0' would be at 0000:01:10.4, where line 3 describes a function");
#undef M
#undef P
}

/* The machine is a value: VFs clone, hash and serialize with their PF. */
static void machine_clone_with_vfs(void **state)
{
	struct machine *m = load(machine_text), *c;
	struct device *vf;
	uint64_t h;

	(void)state;
	h = machine_hash(m);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "2"), 0);
	assert_true(machine_hash(m) != h);
	c = machine_clone(m);
	assert_non_null(c);
	assert_true(machine_hash(c) == machine_hash(m));
	vf = machine_find_device(c, "0000:02:02.0");
	assert_ptr_equal(vf->sriov.physfn, machine_find_device(c, "0000:02:00.0"));
	assert_int_equal(wr(c, PF0 "sriov_numvfs", "0"), 0);
	assert_int_equal(wr(m, PF0 "sriov_numvfs", "0"), 0);
	assert_true(machine_hash(c) == machine_hash(m));
	machine_destroy(m);
	machine_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pci_iov_virtfn_bus_devfn),
		cmocka_unit_test(sriov_numvfs_store_checks),
		cmocka_unit_test(pci_iov_add_virtfn_device),
		cmocka_unit_test(pci_device_can_probe_autoprobe),
		cmocka_unit_test(pci_device_group_virtfn),
		cmocka_unit_test(pf_driver_sriov_configure_limits),
		cmocka_unit_test(pci_disable_sriov_on_pf_unbind),
		cmocka_unit_test(pci_iov_remove_virtfn_after_remove_file),
		cmocka_unit_test(pci_iov_remove_warns),
		cmocka_unit_test(vfio_pci_sriov_configure_enable_sriov),
		cmocka_unit_test(vfio_pci_validate_vf_token_checks),
		cmocka_unit_test(machine_file_sriov_options),
		cmocka_unit_test(machine_clone_with_vfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
