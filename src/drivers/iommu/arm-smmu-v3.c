// SPDX-License-Identifier: MIT
/*
 * The part of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (v6.6) that
 * decides whether a device gets a group at all: arm_smmu_probe_device()
 * inserts each of the device's stream IDs into the SMMU's stream tree
 * (arm_smmu_insert_master()) and fails when another master holds one.
 * On PCI the fwspec has a stream ID for each DMA alias (iort_pci_iommu_init()
 * and of_pci_iommu_init() add every ID pci_for_each_dma_alias() reports),
 * so the second function behind a PCIe-to-PCI bridge, whose alias (the
 * bridge's secondary bus, devfn 0) the first already holds, gets no group:
 * "stream N already in tree from dev D", as the real 6.1 and 6.12 do on
 * QEMU's virt board (docs/oracle.md).
 *
 * The tree is not kept apart: a stream is in it while the master holding
 * it is in a group of the SMMU. A device sharing a stream ID with another
 * also shares its group key (aliases are grouped together by
 * pci_device_group()), so the group of the device's key holds every
 * master that can clash with it.
 */
#include <errno.h>
#include <stdio.h>

#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

static bool has_sid(const struct device *dev, unsigned int sid)
{
	for (unsigned int i = 0; i < dev->fw.nr_sids; i++)
		if (dev->fw.sids[i] == sid)
			return true;
	return false;
}

int arm_smmu_probe_device(struct device *dev)
{
	struct iommu_device *iommu = dev->fw.iommu;
	struct machine *m = dev->m;
	struct iommu_group *group;
	struct group_device *gdev;
	char name[sizeof(group->keyname)];
	int ret = 0;

	KFUNC();
	if (!iommu || iommu_device_kind(iommu) != IOMMU_KIND_ARM_SMMU_V3 ||
	    !dev->fw.nr_sids || !dev->fw.group_key)
		return 0;
	snprintf(name, sizeof(name), "%s/%u", iommu->name, dev->fw.group_key);
	/* obj_lock: a group's device list changes under it too */
	mutex_lock(&m->obj_lock);
	group = strmap_get(&m->groups_by_key, name);
	if (group)
		list_for_each_entry(gdev, &group->devices, list) {
			if (gdev->dev == dev)
				continue;
			for (unsigned int i = 0; i < dev->fw.nr_sids && !ret; i++)
				if (has_sid(gdev->dev, dev->fw.sids[i])) {
					dev_warn(dev, "stream %u already in tree from dev %s",
						 dev->fw.sids[i],
						 dev_name(gdev->dev));
					ret = -EINVAL;
				}
			if (ret)
				break;
		}
	mutex_unlock(&m->obj_lock);
	return ret;
}

struct smmu_sids {
	unsigned int sids[DEV_STREAM_IDS_MAX];
	unsigned int n;
	bool full;
};

/* iort_pci_iommu_init(), of_pci_iommu_init(): each alias, mapped 1:1 */
static int add_alias_sid(struct pci_dev *pdev, unsigned int alias, void *data)
{
	struct smmu_sids *s = data;

	(void)pdev;
	if (s->n == DEV_STREAM_IDS_MAX) {
		s->full = true;
		return 1;
	}
	s->sids[s->n++] = alias;
	return 0;
}

int pci_devs_smmu_v3_sids(struct pci_devs *all, struct pci_dev **ret_bad)
{
	for (size_t i = 0; i < all->n; i++) {
		struct pci_dev *pdev = &all->v[i];
		struct smmu_sids s = { .n = 0 };

		if (!pdev->iommu || pdev->nr_sids ||
		    iommu_device_kind(pdev->iommu) != IOMMU_KIND_ARM_SMMU_V3)
			continue;
		pci_for_each_dma_alias(pdev, add_alias_sid, &s);
		*ret_bad = pdev;
		if (s.full)
			return -E2BIG;
		if (device_set_fw_stream_ids(pdev->dev, s.sids, s.n))
			return -EBUSY;
		pdev->sids = pdev->dev->fw.sids;
		pdev->nr_sids = pdev->dev->fw.nr_sids;
	}
	return 0;
}
