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
 * The tree is kept in the IOMMU (iommu_device::streams), a hash from
 * stream ID to the device holding it: arm_smmu_probe_device() inserts a
 * master's IDs as arm_smmu_insert_master() does, arm_smmu_release_device()
 * takes them out as arm_smmu_remove_master() does, so a probe costs its
 * device's IDs, not the machine's. One difference: the kernel's tree is
 * keyed by stream ID alone, the model's by group key and stream ID. A
 * device sharing a stream ID with another shares its group key wherever
 * the model gives stream IDs (aliases are grouped together by
 * pci_device_group(), and a refused device takes its holder's key,
 * iommu-pci.c), so the two agree there; a library caller giving one
 * stream to two keys gets both probed, as the model always did (it used
 * to walk the members of the group of the device's key).
 */
#include <errno.h>
#include <stdio.h>

#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

/* The SMMUv3 whose stream tree @dev's IDs go in, or NULL: no master. */
static struct iommu_device *arm_smmu_master_iommu(const struct device *dev)
{
	struct iommu_device *iommu = dev->fw.iommu;

	if (!iommu || iommu_device_kind(iommu) != IOMMU_KIND_ARM_SMMU_V3 ||
	    !dev->fw.nr_sids || !dev->fw.group_key)
		return NULL;
	return iommu;
}

/* The tree's key of stream @sid of a device of group key @group_key. */
static uint64_t arm_smmu_stream_key(unsigned int group_key, unsigned int sid)
{
	return (uint64_t)group_key << 32 | sid;
}

/* The device other than @dev holding @dev's @sid in the tree, or NULL. */
static struct device *arm_smmu_stream_holder(struct iommu_device *iommu,
					     const struct device *dev,
					     unsigned int sid)
{
	struct device *holder = u64map_get(
		&iommu->streams, arm_smmu_stream_key(dev->fw.group_key, sid));

	return holder == dev ? NULL : holder;
}

static bool has_sid(const struct device *dev, unsigned int sid)
{
	for (unsigned int i = 0; i < dev->fw.nr_sids; i++)
		if (dev->fw.sids[i] == sid)
			return true;
	return false;
}

/*
 * What the tree was computed from before it was kept: the member of the
 * group of @dev's key, other than @dev, that has @sid, or NULL. Walks the
 * group: for self_check() only (compiled out of release builds).
 * Caller holds obj_lock.
 */
static struct device *group_walk_holder(struct iommu_device *iommu,
					const struct device *dev,
					unsigned int sid)
{
	struct machine *m = dev->m;
	struct iommu_group *group;
	struct group_device *gdev;
	char name[sizeof(group->keyname)];

	snprintf(name, sizeof(name), "%s/%u", iommu->name, dev->fw.group_key);
	group = strmap_get(&m->groups_by_key, name);
	if (group)
		list_for_each_entry(gdev, &group->devices, list)
			if (gdev->dev != dev && has_sid(gdev->dev, sid))
				return gdev->dev;
	return NULL;
}

/* arm_smmu_remove_master(): @dev's first @nr_sids IDs out of the tree */
static void arm_smmu_remove_master(struct iommu_device *iommu,
				   struct device *dev, unsigned int nr_sids)
{
	for (unsigned int i = 0; i < nr_sids; i++)
		u64map_del(&iommu->streams,
			   arm_smmu_stream_key(dev->fw.group_key,
					       dev->fw.sids[i]),
			   dev);
}

/*
 * arm_smmu_insert_master(): each of @dev's IDs in order, the first that
 * another master holds refusing the device (with none of its IDs left in
 * the tree); an ID it lists twice (a bridged function that is its own
 * alias) is skipped.
 */
static int arm_smmu_insert_master(struct iommu_device *iommu,
				  struct device *dev)
{
	for (unsigned int i = 0; i < dev->fw.nr_sids; i++) {
		unsigned int sid = dev->fw.sids[i];
		struct device *holder = arm_smmu_stream_holder(iommu, dev, sid);
		int ret;

		/* the tree answers as the group's members would */
		self_check(holder == group_walk_holder(iommu, dev, sid));
		if (holder) {
			dev_warn(dev, "stream %u already in tree from dev %s",
				 sid, dev_name(holder));
			ret = -EINVAL;
		} else {
			ret = u64map_put(&iommu->streams,
					 arm_smmu_stream_key(dev->fw.group_key,
							     sid),
					 dev);
			if (ret == -EEXIST)
				continue; /* its own, listed before */
		}
		if (ret) {
			arm_smmu_remove_master(iommu, dev, i);
			return ret;
		}
	}
	return 0;
}

int arm_smmu_probe_device(struct device *dev)
{
	struct iommu_device *iommu = arm_smmu_master_iommu(dev);
	struct machine *m = dev->m;
	int ret;

	KFUNC();
	if (!iommu)
		return 0;
	/*
	 * The tree's lock, as smmu->streams_mutex: iommu_probe_device_lock,
	 * held around every probe and release, so a look-up and its insert
	 * are one step. obj_lock as before the tree was kept (a scheduling
	 * point of the checker's interleavings, kept where it was), which
	 * the self-check's walk of the group's members needs.
	 */
	lockdep_assert_held(m, &m->iommu_probe_device_lock);
	mutex_lock(&m->obj_lock);
	ret = arm_smmu_insert_master(iommu, dev);
	mutex_unlock(&m->obj_lock);
	return ret;
}

void arm_smmu_release_device(struct device *dev)
{
	struct iommu_device *iommu = arm_smmu_master_iommu(dev);
	struct machine *m = dev->m;

	if (!iommu)
		return;
	/* the tree's lock; obj_lock is not needed, nor taken (see above) */
	lockdep_assert_held(m, &m->iommu_probe_device_lock);
	/* each of its IDs was in the tree, held by it */
	for (unsigned int i = 0; i < dev->fw.nr_sids; i++)
		self_check(u64map_get(&iommu->streams,
				      arm_smmu_stream_key(dev->fw.group_key,
							  dev->fw.sids[i])) ==
			   dev);
	arm_smmu_remove_master(iommu, dev, dev->fw.nr_sids);
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
