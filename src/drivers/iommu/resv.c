// SPDX-License-Identifier: MIT
/*
 * Reserved regions: what an IOMMU driver reports of a device
 * (iommu_get_resv_regions(): the get_resv_regions() of
 * drivers/iommu/intel/iommu.c, amd/iommu.c, arm/arm-smmu-v3/arm-smmu-v3.c
 * and arm/arm-smmu/arm-smmu.c, kept here as data by kind), and how the
 * iommu core gathers a group's (iommu_get_group_resv_regions() and
 * iommu_insert_resv_region() of drivers/iommu/iommu.c, read by the
 * group's reserved_regions attribute). Also whether a device needs 1:1
 * mappings: in v6.6 a device with an IOMMU_RESV_DIRECT region
 * (iommu_create_device_direct_mappings() sets require_direct).
 *
 * The firmware ranges (device_add_direct_region()) and the IOMMU's kind
 * and regions are set before the device is added or the IOMMU registered
 * and read-only afterwards, so reading them needs no lock; a group's
 * members are read under its mutex.
 */
#include <stdlib.h>
#include <string.h>

#include "dmaown/driver.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

_Static_assert(DEV_DIRECT_REGIONS_MAX == DEVICE_DIRECT_REGIONS_MAX,
	       "device.h and dmaown/iommu.h disagree");

/* The type names of the reserved_regions file (iommu.c). */
static const char *const resv_type_names[IOMMU_RESV_TYPE_MAX_] = {
	[IOMMU_RESV_DIRECT] = "direct",
	[IOMMU_RESV_DIRECT_RELAXABLE] = "direct-relaxable",
	[IOMMU_RESV_RESERVED] = "reserved",
	[IOMMU_RESV_MSI] = "msi",
	[IOMMU_RESV_SW_MSI] = "msi",
};

const char *iommu_resv_type_str(enum iommu_resv_type type)
{
	if (type < 0 || type >= IOMMU_RESV_TYPE_MAX_)
		return NULL;
	return resv_type_names[type];
}

/* ---- the drivers, by kind ---- */

#define PCI_CLASS_DISPLAY_BASE 0x03	/* PCI_BASE_CLASS_DISPLAY */
#define PCI_CLASS_SERIAL_USB 0x0c03
#define PCI_CLASS_BRIDGE_ISA 0x0601

/* intel: IOAPIC_RANGE_START..IOAPIC_RANGE_END */
static const struct iommu_resv_region intel_resv[] = {
	{ 0xfee00000, 0x100000, IOMMU_RESV_MSI },
};

/* amd: MSI_RANGE_START..MSI_RANGE_END, HT_RANGE_START..HT_RANGE_END */
static const struct iommu_resv_region amd_resv[] = {
	{ 0xfee00000, 0x100000, IOMMU_RESV_MSI },
	{ 0xfd00000000ULL, 0x300000000ULL, IOMMU_RESV_RESERVED },
};

/* arm-smmu-v3 and arm-smmu: MSI_IOVA_BASE, MSI_IOVA_LENGTH */
static const struct iommu_resv_region smmu_resv[] = {
	{ 0x8000000, 0x100000, IOMMU_RESV_SW_MSI },
};

/*
 * device_rmrr_is_relaxable() (intel, v6.6): the RMRRs of USB controllers
 * and display devices may be left unmapped when the device is assigned.
 */
static enum iommu_resv_type intel_direct_type(const struct device *dev)
{
	unsigned int class = dev->ids.class;

	if (device_bus_kind(dev) == BUS_PCI &&
	    ((class >> 8) == PCI_CLASS_SERIAL_USB ||
	     (class >> 16) == PCI_CLASS_DISPLAY_BASE))
		return IOMMU_RESV_DIRECT_RELAXABLE;
	return IOMMU_RESV_DIRECT;
}

/* IVMD unity ranges and IORT RMRs (without remapping permitted): direct. */
static enum iommu_resv_type direct_type(const struct device *dev)
{
	(void)dev;
	return IOMMU_RESV_DIRECT;
}

struct iommu_kind_desc {
	const char *name;
	const struct iommu_resv_region *resv;	/* for every device */
	size_t nr_resv;
	enum iommu_resv_type (*direct_type)(const struct device *dev);
	/* an RMRR naming a PCI bridge covers the devices below it */
	bool bridge_scope;
	/* CONFIG_INTEL_IOMMU_FLOPPY_WA: ISA bridges get 0-16M relaxable */
	bool floppy_wa;
	/* the regions for every device come before the firmware's */
	bool resv_first;
};

#define RESV(a) (a), sizeof(a) / sizeof((a)[0])

static const struct iommu_kind_desc kinds[IOMMU_KIND_MAX_] = {
	[IOMMU_KIND_INTEL] = { "intel", RESV(intel_resv), intel_direct_type,
			       true, true, false },
	[IOMMU_KIND_AMD] = { "amd", RESV(amd_resv), direct_type, false,
			     false, false },
	[IOMMU_KIND_ARM_SMMU_V3] = { "arm-smmu-v3", RESV(smmu_resv),
				     direct_type, false, false, true },
	[IOMMU_KIND_ARM_SMMU] = { "arm-smmu", RESV(smmu_resv), direct_type,
				  false, false, true },
};

const char *iommu_kind_name(enum iommu_kind kind)
{
	if (kind < 0 || kind >= IOMMU_KIND_MAX_)
		return NULL;
	return kinds[kind].name;
}

static const struct iommu_kind_desc *kind_of(const struct iommu_device *iommu)
{
	return &kinds[iommu_device_kind(iommu)];
}

int iommu_device_set_kind(struct iommu_device *iommu, enum iommu_kind kind)
{
	if (kind < 0 || kind >= IOMMU_KIND_MAX_)
		return -EINVAL;
	if (iommu->registered)
		return -EBUSY;
	iommu->kind = kind;
	iommu->kind_set = true;
	iommu->resv_set = false;
	iommu->nr_resv = 0;
	return 0;
}

enum iommu_kind iommu_device_kind(const struct iommu_device *iommu)
{
	if (iommu->kind_set)
		return iommu->kind;
	/* DMAR or IVRS on x86; IORT or devicetree: an SMMUv3 */
	return iommu->m->cfg.firmware == FW_X86 ? IOMMU_KIND_INTEL :
						  IOMMU_KIND_ARM_SMMU_V3;
}

/* [start, start + length) is not empty and does not wrap. */
static bool range_ok(uint64_t start, uint64_t length)
{
	return length && start + (length - 1) >= start;
}

int iommu_device_set_resv_regions(struct iommu_device *iommu,
				  const struct iommu_resv_region *regions,
				  size_t n)
{
	if (n > IOMMU_RESV_REGIONS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!iommu_resv_type_str(regions[i].type) ||
		    !range_ok(regions[i].start, regions[i].length))
			return -EINVAL;
	if (iommu->registered)
		return -EBUSY;
	if (n)
		memcpy(iommu->resv, regions, n * sizeof(*regions));
	iommu->nr_resv = (unsigned int)n;
	iommu->resv_set = true;
	return 0;
}

int device_add_direct_region(struct device *dev, uint64_t start,
			     uint64_t length)
{
	if (dev->added)
		return -EBUSY;
	if (!range_ok(start, length) ||
	    dev->fw.nr_direct == DEV_DIRECT_REGIONS_MAX)
		return -EINVAL;
	dev->fw.direct[dev->fw.nr_direct].start = start;
	dev->fw.direct[dev->fw.nr_direct].length = length;
	dev->fw.nr_direct++;
	return 0;
}

static bool dev_is_pci_bridge(const struct device *dev)
{
	return device_bus_kind(dev) == BUS_PCI &&
	       dev->ids.hdr_type == PCI_HEADER_TYPE_BRIDGE;
}

/*
 * Does @from's firmware range apply to @dev? Its own always; with bridge
 * scope (intel: is_downstream_to_pci_bridge()) a PCI bridge's applies to
 * the PCI devices below it.
 */
static bool direct_applies(const struct iommu_kind_desc *k,
			   const struct device *from, const struct device *dev)
{
	return from == dev || (k->bridge_scope && dev_is_pci_bridge(from) &&
			       device_bus_kind(dev) == BUS_PCI);
}

/* The most regions iommu_get_resv_regions() can give @dev. */
static size_t resv_regions_max(const struct device *dev)
{
	const struct iommu_device *iommu = dev->fw.iommu;
	size_t n;

	if (!iommu)
		return 0;
	n = iommu->resv_set ? iommu->nr_resv : kind_of(iommu)->nr_resv;
	for (const struct device *d = dev; d; d = d->parent)
		n += d->fw.nr_direct;
	return n + 1;	/* the floppy range */
}

/*
 * iommu_get_resv_regions(): what @dev's IOMMU driver reports for it, in the
 * driver's order, each passed to @fn.
 */
static void iommu_get_resv_regions(const struct device *dev,
				   void (*fn)(const struct iommu_resv_region *r,
					      void *arg),
				   void *arg)
{
	const struct iommu_device *iommu = dev->fw.iommu;
	const struct iommu_kind_desc *k;
	const struct iommu_resv_region *all;
	struct iommu_resv_region r;
	size_t nall;

	if (!iommu)
		return;
	k = kind_of(iommu);
	all = iommu->resv_set ? iommu->resv : k->resv;
	nall = iommu->resv_set ? iommu->nr_resv : k->nr_resv;
	/* the SMMU drivers report their MSI window before the IORT RMRs */
	if (k->resv_first)
		for (size_t i = 0; i < nall; i++)
			fn(&all[i], arg);
	for (const struct device *d = dev; d; d = d->parent) {
		if (!direct_applies(k, d, dev))
			continue;
		for (unsigned int i = 0; i < d->fw.nr_direct; i++) {
			r.start = d->fw.direct[i].start;
			r.length = d->fw.direct[i].length;
			r.type = k->direct_type(dev);
			fn(&r, arg);
		}
	}
	if (k->floppy_wa && device_bus_kind(dev) == BUS_PCI &&
	    (dev->ids.class >> 8) == PCI_CLASS_BRIDGE_ISA) {
		r = (struct iommu_resv_region){ 0, 1ULL << 24,
						IOMMU_RESV_DIRECT_RELAXABLE };
		fn(&r, arg);
	}
	if (!k->resv_first)
		for (size_t i = 0; i < nall; i++)
			fn(&all[i], arg);
}

static void note_direct(const struct iommu_resv_region *r, void *arg)
{
	if (r->type == IOMMU_RESV_DIRECT)
		*(bool *)arg = true;
}

bool dev_require_direct(const struct device *dev)
{
	bool direct = dev->fw.require_direct;

	if (!direct)
		iommu_get_resv_regions(dev, note_direct, &direct);
	return direct;
}

/* ---- a group's regions ---- */

struct resv_list {
	struct iommu_resv_region *r;
	size_t n;
};

static uint64_t resv_end(const struct iommu_resv_region *r)
{
	return r->start + r->length - 1;
}

/*
 * iommu_insert_resv_region() (v6.6): @new goes in by start address (before
 * the regions that start at the same address with a type not lower than
 * its own), then the regions of @new's type that overlap or touch are
 * merged, each into the last one of that type kept before it. Regions of
 * other types are kept as they are, overlapping or not. @l has room for
 * one more.
 */
static void iommu_insert_resv_region(const struct iommu_resv_region *new,
				     void *arg)
{
	struct resv_list *l = arg;
	size_t i, kept = 0;

	for (i = 0; i < l->n; i++)
		if (new->start < l->r[i].start ||
		    (new->start == l->r[i].start && new->type <= l->r[i].type))
			break;
	memmove(&l->r[i + 1], &l->r[i], (l->n - i) * sizeof(*l->r));
	l->r[i] = *new;
	l->n++;

	for (i = 0; i < l->n; i++) {
		struct iommu_resv_region *iter = &l->r[i], *top = NULL;

		if (iter->type == new->type) {
			for (size_t j = kept; j-- > 0;) {
				if (l->r[j].type == iter->type) {
					top = &l->r[j];
					break;
				}
			}
		}
		if (top && iter->start <= resv_end(top) + 1) {
			uint64_t end = resv_end(iter) > resv_end(top) ?
					       resv_end(iter) :
					       resv_end(top);

			top->length = end - top->start + 1;
			continue;
		}
		l->r[kept++] = *iter;
	}
	l->n = kept;
}

int iommu_get_group_resv_regions(struct iommu_group *group,
				 struct iommu_resv_region **ret_regions,
				 size_t *ret_n)
{
	struct resv_list l = { NULL, 0 };
	struct group_device *gdev;
	size_t max = 0;

	mutex_lock(&group->mutex);
	/* a group of no IOMMU (vfio's no-IOMMU groups) reserves nothing */
	if (group->iommu) {
		for_each_group_device(group, gdev)
			max += resv_regions_max(gdev->dev);
	}
	if (max) {
		l.r = kzalloc(group->m, max * sizeof(*l.r));
		if (!l.r) {
			mutex_unlock(&group->mutex);
			return -ENOMEM;
		}
		for_each_group_device(group, gdev)
			iommu_get_resv_regions(gdev->dev,
					       iommu_insert_resv_region, &l);
	}
	mutex_unlock(&group->mutex);
	if (!l.n) {
		kfree(l.r);
		l.r = NULL;
	}
	*ret_regions = l.r;
	*ret_n = l.n;
	return 0;
}
