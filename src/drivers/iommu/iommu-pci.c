// SPDX-License-Identifier: MIT
/*
 * pci_device_group() of drivers/iommu/iommu.c (v6.6): which PCI functions
 * share an IOMMU group. Kept apart from iommu.c because it runs on the
 * machine's PCI description (src/drivers/pci/pci.h) before the devices
 * are added: a machine file that asks for computed groups
 * (docs/topology.md) gets each device's firmware group key from here, and
 * dmaown explain reruns it to say why.
 *
 * The kernel calls it as each device is probed and only ever joins a
 * group that exists; pci_devs_group() calls it in machine order, which is
 * the x86 probe order of a machine file, so the same groups come out.
 */
#include <errno.h>
#include <stdlib.h>

#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"

/* iommu_group_get() on the view: the group the device is in so far, or -1 */
static int view_group_get(const struct pci_dev *pdev)
{
	return pdev->group;
}

struct group_for_pci_data {
	struct pci_dev *pdev;
	int group;
};

/* the last alias seen, and stop at the first one already in a group */
static int get_pci_alias_or_group(struct pci_dev *pdev, unsigned int alias,
				  void *opaque)
{
	struct group_for_pci_data *data = opaque;

	(void)alias;
	data->pdev = pdev;
	data->group = view_group_get(pdev);
	return data->group >= 0;
}

static bool test_and_set_bit(unsigned int nr, uint64_t *bits)
{
	bool old = bits[nr / 64] >> (nr % 64) & 1;

	bits[nr / 64] |= 1ull << (nr % 64);
	return old;
}

static int get_pci_alias_group(struct pci_dev *pdev, uint64_t *devfns);

/*
 * The group of another function of @pdev's slot, or of an alias of one,
 * when @pdev is part of a multifunction device without ACS; the other
 * function must lack ACS too.
 */
static int get_pci_function_alias_group(struct pci_dev *pdev,
					uint64_t *devfns)
{
	struct pci_dev *tmp;
	size_t k;
	int group;

	if (!pdev->multifunction || pci_acs_enabled(pdev, REQ_ACS_FLAGS))
		return -1;
	pci_bus_for_each(tmp, pdev, k) {
		if (tmp == pdev || PCI_SLOT(tmp->devfn) != PCI_SLOT(pdev->devfn) ||
		    pci_acs_enabled(tmp, REQ_ACS_FLAGS))
			continue;
		group = get_pci_alias_group(tmp, devfns);
		if (group >= 0)
			return group;
	}
	return -1;
}

/*
 * The group of @pdev or of a device on its bus it aliases (or that aliases
 * it), following aliases and their functions; @devfns stops the recursion.
 */
static int get_pci_alias_group(struct pci_dev *pdev, uint64_t *devfns)
{
	struct pci_dev *tmp;
	size_t k;
	int group;

	if (test_and_set_bit(pdev->devfn & 0xff, devfns))
		return -1;
	group = view_group_get(pdev);
	if (group >= 0)
		return group;
	pci_bus_for_each(tmp, pdev, k) {
		if (tmp == pdev)
			continue;
		if (pci_devs_are_dma_aliases(pdev, tmp)) {
			group = get_pci_alias_group(tmp, devfns);
			if (group >= 0)
				return group;
			group = get_pci_function_alias_group(tmp, devfns);
			if (group >= 0)
				return group;
		}
	}
	return -1;
}

int pci_device_group(struct pci_dev *pdev)
{
	struct group_for_pci_data data = { .group = -1 };
	uint64_t devfns[4] = { 0 };
	struct pci_dev *bridge;
	int group;

	/*
	 * Up through the aliases to the requester ID the IOMMU sees; an alias
	 * already in a group decides.
	 */
	if (pci_for_each_dma_alias(pdev, get_pci_alias_or_group, &data))
		return data.group;
	pdev = data.pdev;

	/*
	 * Up from there through every bridge whose path to the root lacks
	 * ACS: such a bridge's group is ours.
	 */
	for (bridge = pdev->bus_self; bridge; bridge = bridge->bus_self) {
		if (pci_acs_path_enabled(bridge, NULL, REQ_ACS_FLAGS))
			break;
		pdev = bridge;
		group = view_group_get(pdev);
		if (group >= 0)
			return group;
	}

	/* a device we alias or that aliases us */
	group = get_pci_alias_group(pdev, devfns);
	if (group >= 0)
		return group;
	/* another function of a multifunction device without ACS */
	group = get_pci_function_alias_group(pdev, devfns);
	if (group >= 0)
		return group;
	return pdev->all->ngroups++;
}

/*
 * The key of stream @sid behind @iommu in @all->s2cr_index; with @add, an
 * IOMMU seen for the first time is numbered. Return: false when @iommu
 * has no number (nothing of it in the map), or it could not be given one.
 */
static bool pci_s2cr_key(struct pci_devs *all, const struct iommu_device *iommu,
			 unsigned int sid, bool add, uint64_t *ret_key)
{
	uintptr_t nr = (uintptr_t)ptrmap_get(&all->s2cr_iommus, iommu);

	if (!nr) {
		if (!add)
			return false;
		nr = all->s2cr_iommus.count + 1;
		if (!ptrmap_put(&all->s2cr_iommus, iommu, (void *)nr))
			return false;
	}
	*ret_key = (uint64_t)nr << 32 | sid;
	return true;
}

/* the entries searched one by one: for self_check() only */
static struct pci_s2cr *pci_s2cr_scan(struct pci_devs *all,
				      const struct iommu_device *iommu,
				      unsigned int sid)
{
	for (size_t i = 0; i < all->ns2cr; i++)
		if (all->s2cr[i].iommu == iommu && all->s2cr[i].sid == sid)
			return &all->s2cr[i];
	return NULL;
}

struct pci_s2cr *pci_s2cr_find(struct pci_devs *all,
			       const struct iommu_device *iommu,
			       unsigned int sid)
{
	struct pci_s2cr *found = NULL;
	uint64_t key;

	if (pci_s2cr_key(all, iommu, sid, false, &key)) {
		uintptr_t i = (uintptr_t)u64map_get(&all->s2cr_index, key);

		found = i ? &all->s2cr[i - 1] : NULL;
	}
	/* the index answers as the list would */
	self_check(found == pci_s2cr_scan(all, iommu, sid));
	return found;
}

int pci_s2cr_add(struct pci_devs *all, const struct iommu_device *iommu,
		 unsigned int sid, int group, struct pci_dev *first)
{
	struct pci_s2cr *more;
	uint64_t key;

	if (!pci_s2cr_key(all, iommu, sid, true, &key))
		return -ENOMEM;
	if (all->ns2cr == all->s2cr_cap) { /* doubling: no copy per entry */
		size_t cap = all->s2cr_cap ? 2 * all->s2cr_cap : 64;

		more = realloc(all->s2cr, cap * sizeof(*more));
		if (!more)
			return -ENOMEM;
		all->s2cr = more;
		all->s2cr_cap = cap;
	}
	if (u64map_put(&all->s2cr_index, key,
		       (void *)(uintptr_t)(all->ns2cr + 1)))
		return -ENOMEM; /* -EEXIST: the caller looked first */
	all->s2cr[all->ns2cr++] = (struct pci_s2cr){ iommu, sid, group, first };
	return 0;
}

/*
 * arm_smmu_device_group() (v6.6): the group already behind one of the
 * device's stream map entries, which must all agree; else the PCI rules,
 * remembered for each entry. Exact stream IDs stand for the stream match
 * registers (no SMR masks).
 */
static int arm_smmu_device_group(struct pci_devs *all, struct pci_dev *pdev)
{
	int group = -1;

	for (unsigned int i = 0; i < pdev->nr_sids; i++) {
		struct pci_s2cr *e = pci_s2cr_find(all, pdev->iommu, pdev->sids[i]);

		if (group >= 0 && e && group != e->group)
			return -EINVAL;
		if (e)
			group = e->group;
	}
	if (group >= 0)
		return group;
	group = pci_device_group(pdev);
	for (unsigned int i = 0; i < pdev->nr_sids; i++) {
		if (pci_s2cr_find(all, pdev->iommu, pdev->sids[i]))
			continue;
		if (pci_s2cr_add(all, pdev->iommu, pdev->sids[i], group, pdev))
			return -ENOMEM;
	}
	return group;
}

/*
 * arm_smmu_insert_master() (v6.6) on the view: the device's stream IDs go
 * in the SMMU's tree unless another master holds one (then none of them
 * do, and the kernel's probe fails: the device gets no group). The
 * refused device keeps its holder (its group key is the holder's group,
 * so that arm_smmu_probe_device() finds the holder there at boot).
 */
static int arm_smmu_v3_insert_master(struct pci_devs *all, struct pci_dev *pdev)
{
	for (unsigned int i = 0; i < pdev->nr_sids; i++) {
		struct pci_s2cr *e = pci_s2cr_find(all, pdev->iommu, pdev->sids[i]);

		if (e && e->first != pdev) {
			pdev->smmu_holder = e->first;
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < pdev->nr_sids; i++) {
		if (pci_s2cr_find(all, pdev->iommu, pdev->sids[i]))
			continue; /* a duplicated ID of its own */
		if (pci_s2cr_add(all, pdev->iommu, pdev->sids[i], -1, pdev))
			return -ENOMEM;
	}
	return 0;
}

int pci_devs_group(struct pci_devs *devs, struct pci_dev **ret_bad)
{
	for (size_t i = 0; i < devs->n; i++) {
		struct pci_dev *pdev = &devs->v[i];
		int group;

		if (!pdev->iommu)
			continue;
		/* refused: no group; out of memory is no refusal */
		group = iommu_device_kind(pdev->iommu) == IOMMU_KIND_ARM_SMMU_V3 ?
				arm_smmu_v3_insert_master(devs, pdev) : 0;
		if (group == -EINVAL) {
			pdev->smmu_refused = true;
			continue;
		}
		if (!group)
			group = pdev->iommu->kind == IOMMU_KIND_ARM_SMMU ?
					arm_smmu_device_group(devs, pdev) :
					pci_device_group(pdev);
		if (group < 0) {
			if (ret_bad)
				*ret_bad = pdev;
			return group;
		}
		pdev->group = group;
	}
	return 0;
}
