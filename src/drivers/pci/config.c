// SPDX-License-Identifier: MIT
/*
 * What a function's configuration space reads as, built from what the
 * machine file says of it: the sysfs "config" file that lspci and libpci
 * read (drivers/pci/pci-sysfs.c, pci_read_config()). The model keeps no
 * registers; this is the hardware's answer to a read, made at read time.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

#define PCI_CAP_LIST_PTR 0x34
#define PCI_CAP_ID_EXP 0x10
#define PCI_EXP_CAP_OFF 0x40
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_EXP_FLAGS_VERS2 0x2

static void put16(unsigned char *b, size_t off, unsigned int v)
{
	b[off] = v & 0xff;
	b[off + 1] = (v >> 8) & 0xff;
}

/* The bus number in a PCI function's name, "SSSS:BB:DD.F". */
static int name_bus(const char *name)
{
	unsigned int seg, bus, devfn, fn;

	if (sscanf(name, "%x:%x:%x.%x", &seg, &bus, &devfn, &fn) != 4)
		return -1;
	return (int)bus;
}

/*
 * A bridge's secondary and subordinate bus numbers: the lowest bus of the
 * functions below it and the highest of all below that. Under obj_lock.
 */
static void bridge_buses(const struct device *dev, int *sec, int *sub)
{
	const struct device *child;

	list_for_each_entry(child, &dev->children, sibling) {
		int b = name_bus(child->name), cs = -1, csub = -1;

		if (b >= 0 && (*sec < 0 || b < *sec))
			*sec = b;
		if (b > *sub)
			*sub = b;
		bridge_buses(child, &cs, &csub);
		if (csub > *sub)
			*sub = csub;
	}
}

size_t pci_config_space(struct device *dev, unsigned char *buf)
{
	const struct dev_ids *ids = &dev->ids;
	bool pcie = ids->pcie_type != PCI_EXP_TYPE_NONE;
	size_t size = pcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
	unsigned int cmd = 0;

	memset(buf, 0, size);
	put16(buf, 0x00, ids->vendor);
	put16(buf, 0x02, ids->device);
	/* a bound driver enabled memory decoding and bus mastering */
	if (READ_ONCE(dev->bound))
		cmd = 0x0006;
	put16(buf, 0x04, cmd);
	put16(buf, 0x06, pcie ? PCI_STATUS_CAP_LIST : 0);
	buf[0x08] = ids->revision;
	buf[0x09] = ids->class & 0xff;
	buf[0x0a] = (ids->class >> 8) & 0xff;
	buf[0x0b] = (ids->class >> 16) & 0xff;
	buf[0x0e] = ids->hdr_type & 0x7f;
	if (ids->hdr_type == PCI_HEADER_TYPE_BRIDGE) {
		int sec = -1, sub = -1;

		mutex_lock(&dev->m->obj_lock);
		bridge_buses(dev, &sec, &sub);
		mutex_unlock(&dev->m->obj_lock);
		buf[0x18] = (unsigned char)(name_bus(dev->name) & 0xff);
		buf[0x19] = (unsigned char)(sec < 0 ? 0 : sec);
		buf[0x1a] = (unsigned char)(sub < 0 ? (sec < 0 ? 0 : sec) : sub);
	} else {
		put16(buf, 0x2c, ids->subvendor);
		put16(buf, 0x2e, ids->subdevice);
	}
	if (pcie) {
		buf[PCI_CAP_LIST_PTR] = PCI_EXP_CAP_OFF;
		buf[PCI_EXP_CAP_OFF] = PCI_CAP_ID_EXP;
		buf[PCI_EXP_CAP_OFF + 1] = 0;	/* the last capability */
		put16(buf, PCI_EXP_CAP_OFF + 2,
		      PCI_EXP_FLAGS_VERS2 | (ids->pcie_type & 0xf) << 4);
	}
	return size;
}
