// SPDX-License-Identifier: MIT
/*
 * SR-IOV: a physical function's VFs, made and unmade through sriov_numvfs.
 * Counterpart of drivers/pci/iov.c (v6.6), with the kernel's function names.
 *
 * A VF is a PCI device like any other once made: device_add() puts it in
 * its IOMMU group and probes it (pci_device_can_probe() decides, below),
 * and device_del() unbinds it. What the model leaves out: the VF BARs and
 * their resources, VF Migration (so InitialVFs is TotalVFs), the
 * function dependency link (dep_link), pcibios hooks and the sleeps around
 * VF Enable. No VF is ever "assigned" (PCI_DEV_FLAGS_ASSIGNED is set only
 * by Xen's pciback and the old KVM device assignment), so
 * pci_vfs_assigned() is always 0.
 *
 * Locking: the PF's device_lock around sriov_numvfs's store and the PF
 * driver's configure, then pci_lock_rescan_remove() as v6.6 takes them (the
 * reverse of the remove file's order, as in the kernel); VFs are added and
 * deleted under both. @drivers_autoprobe is a plain flag, as the kernel's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

/* pci_iov_virtfn_bus() and pci_iov_virtfn_devfn(), from the PF's name */
int pci_iov_virtfn_name(const char *pf_name, unsigned int offset,
			unsigned int stride, unsigned int vf_id, char *buf,
			size_t len)
{
	unsigned int domain, bus, devfn;
	unsigned long rid;

	if (!pci_name_parse(pf_name, &domain, &bus, &devfn))
		return -EINVAL;
	rid = devfn + offset + (unsigned long)stride * vf_id;
	if (bus + (rid >> 8) > 0xff)
		return -EINVAL;
	snprintf(buf, len, "%04x:%02lx:%02lx.%lu", domain, bus + (rid >> 8),
		 PCI_SLOT(rid & 0xff) + 0ul, PCI_FUNC(rid & 0xff) + 0ul);
	return 0;
}

int device_set_pci_sriov(struct device *dev, unsigned int total_vfs,
			 unsigned int offset, unsigned int stride,
			 unsigned int vf_device)
{
	char last[DEVICE_NAME_MAX];

	if (dev->added)
		return -EBUSY;
	if (device_bus_kind(dev) != BUS_PCI || dev->sriov.is_virtfn)
		return -EINVAL;
	/* sriov_init(): no offset, or several VFs without a stride, is -EIO */
	if (!total_vfs || total_vfs > 0xffff || !offset || offset > 0xffff ||
	    stride > 0xffff || vf_device > 0xffff || (total_vfs > 1 && !stride))
		return -EINVAL;
	if (pci_iov_virtfn_name(dev->name, offset, stride, total_vfs - 1, last,
				sizeof(last)))
		return -EINVAL;
	dev->sriov.is_physfn = true;
	dev->sriov.total_VFs = (unsigned short)total_vfs;
	dev->sriov.offset = (unsigned short)offset;
	dev->sriov.stride = (unsigned short)stride;
	dev->sriov.vf_device = (unsigned short)vf_device;
	dev->sriov.drivers_autoprobe = true;	/* sriov_init() */
	return 0;
}

/* pci_sriov_get_totalvfs(): no driver here lowers it (driver_max_VFs) */
unsigned int pci_sriov_get_totalvfs(const struct device *dev)
{
	return dev->sriov.is_physfn ? dev->sriov.total_VFs : 0;
}

int pci_num_vf(const struct device *dev)
{
	return dev->sriov.is_physfn ? dev->sriov.num_VFs : 0;
}

int pci_vfs_assigned(const struct device *dev)
{
	(void)dev;
	return 0;
}

void pci_vf_drivers_autoprobe(struct device *dev, bool auto_probe)
{
	if (dev->sriov.is_physfn)
		WRITE_ONCE(dev->sriov.drivers_autoprobe, auto_probe);
}

/*
 * pci_device_can_probe() (drivers/pci/pci-driver.c): a VF is probed only
 * when its PF lets VF drivers autoprobe, or when it has a driver_override
 * (whatever it names: the bus match has already checked that).
 */
bool pci_device_can_probe(struct device *dev)
{
	bool override;

	if (!dev->sriov.is_virtfn)
		return true;
	mutex_lock(&dev->m->obj_lock);
	override = dev->driver_override != NULL;
	mutex_unlock(&dev->m->obj_lock);
	return READ_ONCE(dev->sriov.physfn->sriov.drivers_autoprobe) ||
	       override;
}

struct device *pci_iov_virtfn_locked(struct device *dev, unsigned int id)
{
	char name[DEVICE_NAME_MAX];
	struct device *vf;

	lockdep_assert_held(dev->m, &dev->m->obj_lock);
	if (!dev->sriov.is_physfn || id >= dev->sriov.total_VFs ||
	    pci_iov_virtfn_name(dev->name, dev->sriov.offset,
				dev->sriov.stride, id, name, sizeof(name)))
		return NULL;
	vf = strmap_get(&dev->m->devices_by_name, name);
	if (!vf || !vf->sriov.is_virtfn || vf->sriov.physfn != dev)
		return NULL;
	return vf;
}

struct devs_acc {
	struct device **v;
	size_t n, cap;
	bool oom;
};

static void devs_acc_add(struct devs_acc *a, struct device *dev)
{
	if (a->oom || !dev->bus || dev->bus->ops->kind != BUS_PCI)
		return;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		struct device **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = get_device(dev);
}

/* The added devices of the list @head (linked by device::sibling). */
static void devs_acc_list(struct devs_acc *a, struct list_head *head)
{
	struct device *dev;

	list_for_each_entry(dev, head, sibling)
		if (dev->added)
			devs_acc_add(a, dev);
}

/*
 * What pci_device_group() can look at for @vf: the buses from the VF's up
 * to its root bus (each bus's devices, for aliases and multifunction
 * slots, and each bridge on the way for ACS), and the VF. The walk up
 * never looks elsewhere, so a VF costs its path, not the machine. Each
 * with a reference (devices_put()); NULL on no memory.
 */
static struct device **pci_iov_group_devs(struct device *vf, size_t *ret_n)
{
	struct machine *m = vf->m;
	struct devs_acc a = { 0 };
	struct device *up = vf;

	mutex_lock(&m->obj_lock);
	devs_acc_add(&a, vf);
	for (;;) {
		struct device *bridge = up->parent;

		if (bridge) {
			devs_acc_list(&a, &bridge->children);
		} else {
			char name[sizeof(((struct dev_root *)0)->name)];
			struct dev_root *r;

			device_sysfs_root(up, name, sizeof(name));
			r = device_root_find(m, name, strlen(name));
			if (r)
				devs_acc_list(&a, &r->devices);
			break;
		}
		up = bridge;
	}
	mutex_unlock(&m->obj_lock);
	if (a.oom) {
		devices_put(a.v, a.n);
		return NULL;
	}
	*ret_n = a.n;
	return a.v;
}

/*
 * The group the VF joins, as the firmware group key iommu_probe_device()
 * looks up. With computed groups, pci_device_group() itself on the
 * machine's PCI devices as they are, the VF among them: a VF has no ACS
 * and no multifunction bit of its own (pci_acs_enabled() takes it as
 * isolated from its siblings), so it joins the group of the first bridge
 * above whose path to the root lacks ACS, else a group of its own. With
 * labels, what a label machine can tell: a PF alone in its group has VFs
 * alone in theirs, and a PF that shares a labelled group shares it with
 * its VFs (the label may stand for a bridge without ACS: assume the worst).
 */
static unsigned int pci_iov_group_key(struct device *pf, struct device *vf)
{
	struct machine *m = pf->m;
	struct iommu_device *iommu;
	struct pci_devs all;
	struct device **devs;
	struct pci_dev *view;
	unsigned int key = 0;
	bool ivrs = false;
	size_t n;
	int g;

	if (!pf->fw.iommu)
		return 0;
	if (!m->cfg.pci_groups_computed)
		return pf->fw.group_key;
	devs = pci_iov_group_devs(vf, &n);
	if (!devs)
		return pf->fw.group_key;
	mutex_lock(&m->obj_lock);
	list_for_each_entry(iommu, &m->iommus, node)
		ivrs |= iommu->kind == IOMMU_KIND_AMD;
	mutex_unlock(&m->obj_lock);
	if (pci_devs_build(devs, n, &m->cfg, ivrs, &all)) {
		devices_put(devs, n);
		return pf->fw.group_key;
	}
	/*
	 * The groups as the kernel has them now: a peek, as sysfs makes it;
	 * a group is freed only after its release unlinks it under obj_lock.
	 */
	mutex_lock(&m->obj_lock);
	for (size_t i = 0; i < all.n; i++) {
		struct iommu_group *group = READ_ONCE(all.v[i].dev->iommu_group);

		all.v[i].group = group ? group->id : -1;
		if (all.v[i].group >= all.ngroups)
			all.ngroups = all.v[i].group + 1;
	}
	mutex_unlock(&m->obj_lock);
	view = pci_devs_find(&all, vf);
	g = view ? pci_device_group(view) : -1;
	for (size_t i = 0; g >= 0 && i < all.n; i++)
		if (&all.v[i] != view && all.v[i].group == g) {
			key = all.v[i].dev->fw.group_key;
			break;
		}
	pci_devs_free(&all);
	devices_put(devs, n);
	return key;
}

/*
 * vfio-pci's bus notifier (vfio_pci_bus_notifier(), registered by
 * vfio_pci_vf_init() for a PF it drives): a VF of that PF gets vfio-pci as
 * its driver_override as it is added, so no host driver takes it.
 */
static void vfio_pci_bus_notifier_add(struct device *pf, struct device *vf)
{
	struct device_driver *drv = READ_ONCE(pf->driver);

	if (!drv || drv->desc->probe != PROBE_VFIO_PCI)
		return;
	dev_info(pf, "Captured SR-IOV VF %s driver_override", dev_name(vf));
	driver_override_store(vf, drv->name);
}

void vfio_pci_bus_notifier_bound(struct device *dev)
{
	struct device *pf = dev->sriov.physfn;
	struct device_driver *pf_drv;

	if (!dev->sriov.is_virtfn)
		return;
	pf_drv = READ_ONCE(pf->driver);
	if (!pf_drv || !READ_ONCE(pf->bound) ||
	    pf_drv->desc->probe != PROBE_VFIO_PCI || dev->driver == pf_drv)
		return;
	dev_warn(pf, "VF %s bound to driver %s while PF bound to driver %s",
		 dev_name(dev), dev->driver->name, pf_drv->name);
}

/*
 * pci_iov_add_virtfn(): VF @id, with the PF's vendor, class, subsystem and
 * revision and the VF Device ID, on the PF's bus (or a virtual bus below
 * the same bridge), a sibling of the PF in /sys/devices, added and probed.
 */
int pci_iov_add_virtfn(struct device *dev, int id)
{
	char name[DEVICE_NAME_MAX];
	struct device *virtfn;
	int rc;

	KFUNC();
	rc = pci_iov_virtfn_name(dev->name, dev->sriov.offset,
				 dev->sriov.stride, (unsigned int)id, name,
				 sizeof(name));
	if (rc)
		return rc;
	virtfn = device_alloc(dev->m, name, dev->parent);
	if (IS_ERR(virtfn))
		return (int)PTR_ERR(virtfn);
	device_set_bus(virtfn, BUS_PCI);
	device_set_pci_ids(virtfn, dev->ids.vendor, dev->sriov.vf_device,
			   dev->ids.subvendor, dev->ids.subdevice,
			   dev->ids.class);
	device_set_pci_type(virtfn, PCI_HEADER_TYPE_NORMAL, dev->ids.pcie_type);
	virtfn->ids.revision = dev->ids.revision;
	/* a VF must have Function Level Reset (SR-IOV spec 3.4.2.2) */
	device_set_pci_reset(virtfn, 1u << PCI_RESET_METHOD_FLR, false);
	virtfn->sriov.is_virtfn = true;
	virtfn->sriov.physfn = get_device(dev);
	virtfn->sriov.vf_id = (unsigned int)id;
	device_set_fw_iommu(virtfn, dev->fw.iommu,
			    pci_iov_group_key(dev, virtfn));
	device_set_untrusted(virtfn, dev->fw.untrusted);
	/* BUS_NOTIFY_ADD_DEVICE, before the VF can be probed */
	vfio_pci_bus_notifier_add(dev, virtfn);
	/* pci_iov_sysfs_link(): the PF's listing looks this far */
	mutex_lock(&dev->m->obj_lock);
	if (dev->sriov.nr_links < id + 1)
		dev->sriov.nr_links = (unsigned short)(id + 1);
	mutex_unlock(&dev->m->obj_lock);
	rc = device_add(virtfn);
	if (rc) {
		/* the list's reference: the VF goes, and its PF reference */
		put_device(virtfn);
		return rc;
	}
	return 0;
}

/*
 * pci_iov_remove_virtfn(): the VF goes (pci_stop_and_remove_bus_device():
 * its driver unbound first) and is freed: no rescan brings a VF back.
 */
void pci_iov_remove_virtfn(struct device *dev, int id)
{
	struct machine *m = dev->m;
	struct device *virtfn;
	bool added;

	KFUNC();
	mutex_lock(&m->obj_lock);
	virtfn = pci_iov_virtfn_locked(dev, (unsigned int)id);
	/* one removal only: the next caller finds it gone */
	if (virtfn && virtfn->sriov.vf_removed)
		virtfn = NULL;
	if (virtfn)
		virtfn->sriov.vf_removed = true;
	added = virtfn && virtfn->added;
	mutex_unlock(&m->obj_lock);
	if (!virtfn)
		return;
	if (added)
		device_del(virtfn);
	put_device(virtfn);
}

/* The VF's release: its PF reference (pci_dev_put(dev) at removal). */
void pci_iov_release(struct device *dev)
{
	if (dev->sriov.is_virtfn)
		put_device(dev->sriov.physfn);
}

static int sriov_add_vfs(struct device *dev, unsigned int num_vfs)
{
	unsigned int i;
	int rc;

	for (i = 0; i < num_vfs; i++) {
		rc = pci_iov_add_virtfn(dev, (int)i);
		if (rc)
			goto failed;
	}
	return 0;
failed:
	while (i--)
		pci_iov_remove_virtfn(dev, (int)i);
	return rc;
}

/*
 * sriov_enable(): VF Enable, then the VFs added one by one. NumVFs is the
 * count once they are all there.
 */
static int sriov_enable(struct device *dev, int nr_virtfn)
{
	int rc;

	if (!nr_virtfn)
		return 0;
	if (dev->sriov.num_VFs)
		return -EINVAL;
	if (nr_virtfn < 0 || nr_virtfn > dev->sriov.total_VFs)
		return -EINVAL;
	rc = sriov_add_vfs(dev, (unsigned int)nr_virtfn);
	if (rc)
		return rc;
	WRITE_ONCE(dev->sriov.num_VFs, (unsigned short)nr_virtfn);
	return 0;
}

static void sriov_del_vfs(struct device *dev)
{
	for (int i = 0; i < dev->sriov.num_VFs; i++)
		pci_iov_remove_virtfn(dev, i);
}

static void sriov_disable(struct device *dev)
{
	if (!dev->sriov.num_VFs)
		return;
	sriov_del_vfs(dev);
	WRITE_ONCE(dev->sriov.num_VFs, 0);
	mutex_lock(&dev->m->obj_lock);
	dev->sriov.nr_links = 0;
	mutex_unlock(&dev->m->obj_lock);
}

int pci_enable_sriov(struct device *dev, int nr_virtfn)
{
	KFUNC();
	if (!dev->sriov.is_physfn)
		return -ENOSYS;
	return sriov_enable(dev, nr_virtfn);
}

void pci_disable_sriov(struct device *dev)
{
	KFUNC();
	if (!dev->sriov.is_physfn)
		return;
	sriov_disable(dev);
}

/*
 * pci_iov_remove(), from pci_device_remove() once the driver's remove has
 * run: a PF driver is expected to have disabled SR-IOV.
 */
void pci_iov_remove(struct device *dev)
{
	if (!dev->sriov.is_physfn)
		return;
	if (dev->sriov.num_VFs)
		dev_warn(dev, "driver left SR-IOV enabled after remove");
}

/* ---- the PF's and VF's sysfs files ---- */

int sriov_totalvfs_show(struct device *dev, struct sbuf *sb)
{
	sbuf_printf(sb, "%u\n", pci_sriov_get_totalvfs(dev));
	return 0;
}

int sriov_numvfs_show(struct device *dev, struct sbuf *sb)
{
	unsigned int num_vfs;

	/* serialised with sriov_numvfs_store(): a count, not a transient */
	device_lock(dev);
	num_vfs = dev->sriov.num_VFs;
	device_unlock(dev);
	sbuf_printf(sb, "%u\n", num_vfs);
	return 0;
}

/*
 * sriov_numvfs_store(): all or none. The number is checked against
 * TotalVFs before the PF's lock is taken; the same count again is a
 * success that changes nothing, before the driver is even looked at.
 */
int sriov_numvfs_store(struct device *dev, const char *buf)
{
	struct device_driver *drv;
	unsigned short num_vfs;
	int ret = 0;

	KFUNC();
	if (kstrtou16(buf, 0, &num_vfs) < 0)
		return -EINVAL;
	if (num_vfs > pci_sriov_get_totalvfs(dev))
		return -ERANGE;

	device_lock(dev);
	if (num_vfs == dev->sriov.num_VFs)
		goto exit;
	drv = READ_ONCE(dev->bound) ? dev->driver : NULL;
	if (!drv) {
		dev_info(dev, "no driver bound to device; cannot configure SR-IOV");
		ret = -ENOENT;
		goto exit;
	}
	if (!driver_has_sriov_configure(drv)) {
		dev_info(dev, "driver does not support SR-IOV configuration via sysfs");
		ret = -ENOENT;
		goto exit;
	}
	if (num_vfs == 0) {
		pci_lock_rescan_remove(dev->m);
		ret = driver_desc_sriov_configure(dev, 0);
		pci_unlock_rescan_remove(dev->m);
		goto exit;
	}
	if (dev->sriov.num_VFs) {
		dev_warn(dev, "%d VFs already enabled. Disable before enabling %d VFs",
			 dev->sriov.num_VFs, num_vfs);
		ret = -EBUSY;
		goto exit;
	}
	pci_lock_rescan_remove(dev->m);
	ret = driver_desc_sriov_configure(dev, num_vfs);
	pci_unlock_rescan_remove(dev->m);
	if (ret < 0)
		goto exit;
	if (ret != num_vfs)
		dev_warn(dev, "%d VFs requested; only %d enabled", num_vfs,
			 ret);
exit:
	device_unlock(dev);
	return ret < 0 ? ret : 0;
}

int sriov_offset_show(struct device *dev, struct sbuf *sb)
{
	sbuf_printf(sb, "%u\n", dev->sriov.offset);
	return 0;
}

int sriov_stride_show(struct device *dev, struct sbuf *sb)
{
	sbuf_printf(sb, "%u\n", dev->sriov.stride);
	return 0;
}

int sriov_vf_device_show(struct device *dev, struct sbuf *sb)
{
	sbuf_printf(sb, "%x\n", dev->sriov.vf_device);
	return 0;
}

int sriov_drivers_autoprobe_show(struct device *dev, struct sbuf *sb)
{
	sbuf_printf(sb, "%u\n", READ_ONCE(dev->sriov.drivers_autoprobe));
	return 0;
}

int sriov_drivers_autoprobe_store(struct device *dev, const char *buf)
{
	bool drivers_autoprobe;

	KFUNC();
	if (kstrtobool(buf, &drivers_autoprobe) < 0)
		return -EINVAL;
	pci_vf_drivers_autoprobe(dev, drivers_autoprobe);
	return 0;
}

/* No catalogue PF driver has sriov_get_vf_total_msix (mlx5's has). */
int sriov_vf_total_msix_show(struct device *dev, struct sbuf *sb)
{
	(void)dev;
	sbuf_printf(sb, "0\n");
	return 0;
}

/* A VF's: the PF driver would need sriov_set_msix_vec_count. */
int sriov_vf_msix_count_store(struct device *dev, const char *buf)
{
	int val;

	KFUNC();
	if (kstrtoint(buf, 0, &val) < 0 || val < 0)
		return -EINVAL;
	(void)dev;
	return -EOPNOTSUPP;
}
