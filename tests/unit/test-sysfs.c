// SPDX-License-Identifier: MIT
/*
 * The sysfs files that real tools read (lspci, driverctl, dpdk-devbind,
 * udev): what stat() says of each path, the config space, modalias and
 * uevent, the iommu and module links and /sys/module. Each test names the
 * v6.6 function whose output it follows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dmaown/dmaown.h"

#define RP "/sys/bus/pci/devices/0000:00:01.0"
#define GPU "/sys/bus/pci/devices/0000:01:00.0"
#define HDA "/sys/bus/pci/devices/0000:00:1f.3"

static int setup(void **state)
{
	struct topo_error err;

	*state = builtin_machine_load("x86-desktop", &err);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	machine_destroy(*state);
	return 0;
}

static struct sysfs_attr_stat st(struct machine *m, const char *path)
{
	struct sysfs_attr_stat s;

	assert_int_equal(sysfs_getattr(m, path, &s), 0);
	return s;
}

static void assert_read(struct machine *m, const char *path, const char *want)
{
	char *buf;

	assert_int_equal(sysfs_read(m, path, &buf), 0);
	assert_string_equal(buf, want);
	free(buf);
}

/*
 * Modes as the attributes are declared: DEVICE_ATTR_RO 0444,
 * DRIVER_ATTR_WO (bind, unbind) 0200, driver_override 0644, PCI remove
 * 0220 (dev_remove_attr); directories 0755, links 0777 (kernfs); a page
 * for an attribute, the config space's own size (pci_create_sysfs_dev_files()).
 */
static void modes_and_sizes(void **state)
{
	struct machine *m = *state;
	struct sysfs_attr_stat s;

	s = st(m, GPU "/vendor");
	assert_int_equal(s.type, SYSFS_FILE);
	assert_int_equal(s.mode, 0444);
	assert_int_equal(s.size, 4096);
	assert_int_equal(st(m, GPU "/driver_override").mode, 0644);
	assert_int_equal(st(m, GPU "/remove").mode, 0220);
	assert_int_equal(st(m, GPU "/uevent").mode, 0644);
	assert_int_equal(st(m, "/sys/bus/pci/drivers/nouveau/bind").mode, 0200);
	assert_int_equal(st(m, "/sys/bus/pci/drivers_autoprobe").mode, 0644);
	assert_int_equal(st(m, GPU "/config").size, 4096);	/* PCIe */
	s = st(m, GPU);
	assert_int_equal(s.type, SYSFS_LINK);
	assert_int_equal(s.mode, 0777);
	s = st(m, "/sys/devices/pci0000:00");
	assert_int_equal(s.type, SYSFS_DIR);
	assert_int_equal(s.mode, 0755);
	assert_int_equal(sysfs_getattr(m, GPU "/nope", &s), -ENOENT);
	assert_int_equal(sysfs_getattr(m, GPU "/vendor/x", &s), -ENOTDIR);
	/* misc device 10:196 (vfio_fops), the groups' nodes root-only */
	s = st(m, "/dev/vfio/vfio");
	assert_true(s.chardev);
	assert_int_equal(s.mode, 0666);
	assert_int_equal(s.rdev_major, 10);
	assert_int_equal(s.rdev_minor, 196);
}

/*
 * pci_read_config(): the header as the function answers it: ids, class,
 * revision, header type, a bridge's bus numbers (from its bus below), and
 * the PCI Express capability at the capability list's head.
 */
static void config_space(void **state)
{
	struct machine *m = *state;
	unsigned char *c;
	size_t len;

	assert_int_equal(sysfs_read_bin(m, GPU "/config", (char **)&c, &len), 0);
	assert_int_equal(len, 4096);
	assert_int_equal(c[0] | c[1] << 8, 0x10de);
	assert_int_equal(c[2] | c[3] << 8, 0x1b80);
	assert_int_equal(c[0x0b] << 16 | c[0x0a] << 8 | c[0x09], 0x030000);
	assert_int_equal(c[0x0e], 0);			/* a normal header */
	assert_int_equal(c[0x04] & 0x6, 0x6);		/* nouveau enabled it */
	assert_int_equal(c[0x06] & 0x10, 0x10);		/* a capability list */
	assert_int_equal(c[0x34], 0x40);
	assert_int_equal(c[0x40], 0x10);		/* PCI_CAP_ID_EXP */
	free(c);
	assert_int_equal(sysfs_read_bin(m, RP "/config", (char **)&c, &len), 0);
	assert_int_equal(c[0x0e], 1);			/* a bridge */
	assert_int_equal(c[0x19], 1);			/* secondary bus */
	assert_int_equal(c[0x1a], 1);			/* subordinate */
	assert_int_equal(c[0x42] >> 4, 4);		/* a root port */
	free(c);
	/* a write is not modelled: the file is read-only here */
	assert_int_equal(sysfs_write(m, GPU "/config", "x", 1), -EACCES);
}

/*
 * modalias_show() and pci_uevent(): what udev and modprobe match drivers
 * by; a write to uevent asks for a synthetic event
 * (kobject_synth_uevent()), which only known actions may.
 */
static void modalias_and_uevent(void **state)
{
	struct machine *m = *state;

	assert_read(m, GPU "/modalias",
		    "pci:v000010DEd00001B80sv00000000sd00000000bc03sc00i00\n");
	assert_read(m, GPU "/uevent",
		    "DRIVER=nouveau\nPCI_CLASS=30000\nPCI_ID=10DE:1B80\nPCI_SUBSYS_ID=0000:0000\nPCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:v000010DEd00001B80sv00000000sd00000000bc03sc00i00\n");
	assert_int_equal(sysfs_write(m, GPU "/uevent", "change\n", 7), 0);
	assert_int_equal(sysfs_write(m, GPU "/uevent", "explode", 7), -EINVAL);
	assert_read(m, GPU "/revision", "0x00\n");
	assert_read(m, GPU "/enable", "1\n");
	assert_read(m, GPU "/numa_node", "-1\n");
	assert_read(m, GPU "/irq", "0\n");
}

/*
 * iommu_device_link(): a device in a group links to its IOMMU; a
 * driver's "module" link and /sys/module/NAME (module_add_driver(),
 * mod_sysfs_setup()) for the drivers that are modules, not built in.
 */
static void links_and_modules(void **state)
{
	struct machine *m = *state;
	char *t;
	char **names;
	size_t n;

	assert_int_equal(sysfs_readlink(m, GPU "/iommu", &t), 0);
	assert_string_equal(t, "../../../virtual/iommu/dmar0");
	free(t);
	assert_int_equal(sysfs_readlink(m, "/sys/bus/pci/drivers/nouveau/module",
					&t), 0);
	assert_string_equal(t, "../../../../module/nouveau");
	free(t);
	assert_read(m, "/sys/module/nouveau/initstate", "live\n");
	assert_int_equal(sysfs_list(m, "/sys/module/snd_hda_intel/drivers",
				    &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "pci:snd_hda_intel");
	sysfs_list_free(names, n);
	assert_int_equal(sysfs_realpath(m, "/sys/module/nouveau/drivers/pci:nouveau",
					&t), 0);
	assert_string_equal(t, "/sys/bus/pci/drivers/nouveau");
	free(t);
	/* pcieport is built in: no module, no link */
	assert_int_equal(sysfs_stat(m, "/sys/bus/pci/drivers/pcieport/module"),
			 SYSFS_NONE);
	assert_int_equal(sysfs_stat(m, "/sys/module/pcieport"), SYSFS_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(modes_and_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(modalias_and_uevent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(links_and_modules, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
