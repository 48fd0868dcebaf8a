// SPDX-License-Identifier: MIT
/*
 * What a function's configuration space reads as, built from what the
 * machine file says of it: the sysfs "config" file that lspci and libpci
 * read (drivers/pci/pci-sysfs.c, pci_read_config()): the header, a PCI
 * Express capability, and the extended capabilities the machine gives it
 * (SR-IOV for a PF, ACS). The model keeps no registers; this is the
 * hardware's answer to a read, made at read time.
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

/* The SR-IOV extended capability (PCIe r6.0 9.3.3), as a PF's reads. */
#define PCI_EXT_CAP_OFF 0x100
#define PCI_EXT_CAP_ID_SRIOV 0x10
#define PCI_SRIOV_CTRL 0x08
#define PCI_SRIOV_CTRL_VFE 0x01	/* VF Enable */
#define PCI_SRIOV_CTRL_MSE 0x08	/* VF Memory Space Enable */
#define PCI_SRIOV_INITIAL_VF 0x0c
#define PCI_SRIOV_TOTAL_VF 0x0e
#define PCI_SRIOV_NUM_VF 0x10
#define PCI_SRIOV_FUNC_LINK 0x12
#define PCI_SRIOV_VF_OFFSET 0x14
#define PCI_SRIOV_VF_STRIDE 0x16
#define PCI_SRIOV_VF_DID 0x1a
#define PCI_SRIOV_SUP_PGSIZE 0x1c
#define PCI_SRIOV_SYS_PGSIZE 0x20

#define PCI_SRIOV_SIZEOF 0x40

/*
 * An extended capability's header: its ID, version 1, and the offset of
 * the next one (0: the last) in the top 12 bits.
 */
static void put_ext_header(unsigned char *c, unsigned int id,
			   unsigned int next)
{
	put16(c, 0, id);
	put16(c, 2, 1 | next << 4);
}

static void put_sriov(struct device *dev, unsigned char *b, unsigned int off,
		      unsigned int next)
{
	unsigned char *c = b + off;
	unsigned int num_vfs = READ_ONCE(dev->sriov.num_VFs);
	unsigned int dom, bus, devfn;

	put_ext_header(c, PCI_EXT_CAP_ID_SRIOV, next);
	/* sriov_enable() sets VF Enable and VF MSE with the VFs */
	put16(c, PCI_SRIOV_CTRL,
	      num_vfs ? PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE : 0);
	/* no VF Migration: InitialVFs is TotalVFs */
	put16(c, PCI_SRIOV_INITIAL_VF, dev->sriov.total_VFs);
	put16(c, PCI_SRIOV_TOTAL_VF, dev->sriov.total_VFs);
	put16(c, PCI_SRIOV_NUM_VF, num_vfs);
	/* no dependency on another function: its own number */
	if (pci_name_parse(dev->name, &dom, &bus, &devfn))
		c[PCI_SRIOV_FUNC_LINK] = (unsigned char)devfn;
	put16(c, PCI_SRIOV_VF_OFFSET, dev->sriov.offset);
	put16(c, PCI_SRIOV_VF_STRIDE, dev->sriov.stride);
	put16(c, PCI_SRIOV_VF_DID, dev->sriov.vf_device);
	/* 4K, 8K, 64K, 256K, 1M and 4M pages; 4K in use */
	put16(c, PCI_SRIOV_SUP_PGSIZE, 0x0553);
	put16(c, PCI_SRIOV_SYS_PGSIZE, 0x0001);
}

/*
 * The ACS extended capability (PCIe r6.0 7.7.8): the capability word the
 * machine gives, and the control word as read after boot: the machine's,
 * or what pci_std_enable_acs() wrote when ACS was requested (SV, RR, CR
 * and UF where the capability has them). No egress control vector.
 */
#define PCI_EXT_CAP_ID_ACS 0x0d
#define PCI_ACS_CAP_REG 0x04
#define PCI_ACS_CTRL_REG 0x06

static void put_acs(struct device *dev, unsigned char *b, unsigned int off)
{
	unsigned char *c = b + off;
	unsigned int cap = dev->pci.acs_cap, ctrl;

	if (dev->pci.acs_ctrl >= 0)
		ctrl = (unsigned int)dev->pci.acs_ctrl;
	else
		ctrl = pci_acs_requested(&dev->m->cfg) ? cap & REQ_ACS_FLAGS : 0;
	put_ext_header(c, PCI_EXT_CAP_ID_ACS, 0);
	put16(c, PCI_ACS_CAP_REG, cap);
	put16(c, PCI_ACS_CTRL_REG, ctrl);
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
		unsigned int off = PCI_EXT_CAP_OFF;
		bool acs = dev->pci.acs == PCI_ACS_PRESENT;

		if (dev_is_pf(dev)) {
			put_sriov(dev, buf, off,
				  acs ? off + PCI_SRIOV_SIZEOF : 0);
			off += PCI_SRIOV_SIZEOF;
		}
		if (acs)
			put_acs(dev, buf, off);
	}
	return size;
}
