// SPDX-License-Identifier: MIT
/*
 * Devices: allocation, add, delete, references, and dev_printk().
 * Counterpart of drivers/base/core.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "drivers/base/base.h"
#include "drivers/pci/pci.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

struct device **devices_get(struct machine *m,
			    bool (*match)(struct device *dev, const void *arg),
			    const void *arg, size_t *ret_n)
{
	struct device **devs, *dev;
	size_t n = 0;

	mutex_lock(&m->obj_lock);
	list_for_each_entry(dev, &m->devices, node)
		n++;
	devs = zalloc(n ? n : 1, sizeof(*devs));
	if (devs) {
		n = 0;
		list_for_each_entry(dev, &m->devices, node)
			if (match(dev, arg))
				devs[n++] = get_device(dev);
		*ret_n = n;
	}
	mutex_unlock(&m->obj_lock);
	return devs;
}

void devices_put(struct device **devs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_device(devs[i]);
	free(devs);
}

const char *dev_driver_string(const struct device *dev)
{
	/* as the kernel's: dev->driver may change under us (a bind) */
	struct device_driver *drv = READ_ONCE(dev->driver);

	if (drv)
		return drv->name;
	if (dev->bus)
		return dev->bus->name;
	return "";
}

void dev_printk(const char *level, const struct device *dev,
		const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		va_end(ap);
		return;
	}
	va_end(ap);
	const char *drv = dev_driver_string(dev);

	printk(dev->m, "%s%s%s%s: %s", level, drv, *drv ? " " : "",
	       dev_name(dev), msg);
	free(msg);
}

static struct device *find_device_locked(struct machine *m, const char *name)
{
	return strmap_get(&m->devices_by_name, name);
}

struct device *device_alloc(struct machine *m, const char *name,
			    struct device *parent)
{
	size_t len = name ? strlen(name) : 0;
	struct device *dev;
	int ret;

	if (!len || len >= DEVICE_NAME_MAX || strchr(name, '/'))
		return ERR_PTR(-EINVAL);
	dev = kzalloc(m, sizeof(*dev));
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev->m = m;
	memcpy(dev->name, name, len);
	dev->name_len = (unsigned char)len;
	dev->parent = parent;
	kref_init(&dev->kref);
	mutex_init(&dev->mutex, &m->locks, "device.mutex");
	INIT_LIST_HEAD(&dev->node);
	INIT_LIST_HEAD(&dev->deferred);
	INIT_LIST_HEAD(&dev->children);
	INIT_LIST_HEAD(&dev->sibling);
	INIT_LIST_HEAD(&dev->bus_node);
	INIT_LIST_HEAD(&dev->drv_node);

	mutex_lock(&m->obj_lock);
	ret = strmap_put(&m->devices_by_name, dev->name, dev);
	if (ret) {
		mutex_unlock(&m->obj_lock);
		mutex_destroy(&dev->mutex);
		kfree(dev);
		return ERR_PTR(ret);
	}
	dev->serial = m->next_obj_serial++;
	list_add_tail(&dev->node, &m->devices);
	mutex_unlock(&m->obj_lock);
	if (parent)
		get_device(parent);
	return dev;
}

int device_set_fw_iommu(struct device *dev, struct iommu_device *iommu,
			unsigned int group_key)
{
	if (dev->added)
		return -EBUSY;
	dev->fw.iommu = iommu;
	dev->fw.group_key = group_key;
	return 0;
}

void device_set_require_direct(struct device *dev, bool require_direct)
{
	dev->fw.require_direct = require_direct;
}

_Static_assert(DEV_STREAM_IDS_MAX == DEVICE_STREAM_IDS_MAX,
	       "device.h and dmaown/device.h disagree");

int device_set_fw_stream_ids(struct device *dev, const unsigned int *ids,
			     unsigned int n)
{
	if (dev->added)
		return -EBUSY;
	if (n > DEV_STREAM_IDS_MAX)
		return -EINVAL;
	memcpy(dev->fw.sids, ids, n * sizeof(*ids));
	dev->fw.nr_sids = n;
	return 0;
}

void device_set_untrusted(struct device *dev, bool untrusted)
{
	dev->fw.untrusted = untrusted;
}

void device_set_def_domain_type(struct device *dev, unsigned int type)
{
	dev->fw.def_domain_type = type;
}

void device_sysfs_root(const struct device *dev, char *buf, size_t len)
{
	const struct device *top = dev;

	while (top->parent)
		top = top->parent;
	switch (device_bus_kind(top)) {
	case BUS_PCI: {
		unsigned int seg = 0, bus = 0;

		sscanf(top->name, "%x:%x", &seg, &bus);
		snprintf(buf, len, "pci%04x:%02x", seg, bus);
		break;
	}
	case BUS_PLATFORM:
	case BUS_AMBA:
		snprintf(buf, len, "platform");
		break;
	case BUS_FSL_MC:
		snprintf(buf, len, "fsl-mc");
		break;
	default:
		snprintf(buf, len, "virtual");
		break;
	}
}

struct dev_root *device_root_find(struct machine *m, const char *name,
				  size_t len)
{
	return strmap_get_len(&m->dev_roots_by_name, name, len);
}

static struct dev_root *dev_root_new(struct machine *m, const char *name)
{
	struct dev_root *r = zalloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	INIT_LIST_HEAD(&r->devices);
	if (strmap_put(&m->dev_roots_by_name, r->name, r)) {
		free(r);
		return NULL;
	}
	list_add_tail(&r->node, &m->dev_roots);
	return r;
}

/* A top-level device's /sys/devices directory exists before it is added. */
static int device_root_prepare(struct device *dev)
{
	struct machine *m = dev->m;
	char name[sizeof(((struct dev_root *)0)->name)];
	struct dev_root *r;

	if (dev->parent)
		return 0;
	device_sysfs_root(dev, name, sizeof(name));
	mutex_lock(&m->obj_lock);
	r = strmap_get(&m->dev_roots_by_name, name);
	if (!r)
		r = dev_root_new(m, name);
	/*
	 * sysfs readers peek without the lock (a re-added device's links
	 * stay readable); roots live as long as the machine.
	 */
	if (r)
		WRITE_ONCE(dev->root, r);
	mutex_unlock(&m->obj_lock);
	return r ? 0 : -ENOMEM;
}

/*
 * What sysfs lists: an added device on its parent's (or its root's) list
 * and its bus's. Under obj_lock.
 */
static void device_link_lists(struct device *dev, bool added)
{
	struct machine *m = dev->m;
	struct dev_root *r = NULL;

	if (dev->parent) {
		dev->parent->children_added += added ? 1 : -1;
	} else {
		r = dev->root;
		if (!WARN_ON(m, !r))
			r->count += added ? 1 : -1;
	}
	if (!added) {
		list_del(&dev->sibling);
		list_del(&dev->bus_node);
		return;
	}
	if (dev->parent)
		list_add_tail(&dev->sibling, &dev->parent->children);
	else if (r)
		list_add_tail(&dev->sibling, &r->devices);
	if (dev->bus)
		list_add_tail(&dev->bus_node, &dev->bus->devices);
}

/* Set dev->added: under device_lock for probe, obj_lock for the lookups. */
static bool device_set_added(struct device *dev, bool added)
{
	struct machine *m = dev->m;
	bool was;

	device_lock(dev);
	mutex_lock(&m->obj_lock);
	was = dev->added;
	dev->added = added;
	if (was != added)
		device_link_lists(dev, added);
	mutex_unlock(&m->obj_lock);
	device_unlock(dev);
	return was;
}

int device_add(struct device *dev)
{
	bool added;

	KFUNC();
	mutex_lock(&dev->m->obj_lock);
	added = dev->added;
	mutex_unlock(&dev->m->obj_lock);
	if (added)
		return -EBUSY;
	/* pci_device_add(): the reset methods, found before it counts */
	pci_init_reset_methods(dev);
	/*
	 * BUS_NOTIFY_ADD_DEVICE: on x86 the IOMMU driver knows the device
	 * from DMAR/IVRS and puts it in its group now, before a sysfs bind
	 * can find the device (the kernel's dma_configure would probe it
	 * there too). On IORT and devicetree machines the device has no
	 * fwspec yet: it joins its group in dma_configure, at its first
	 * driver probe.
	 */
	if (device_root_prepare(dev))
		return -ENOMEM;
	if (dev->bus && dev->m->cfg.firmware == FW_X86)
		iommu_probe_device(dev);
	/* adds and deletes are serialised: see pci_lock_rescan_remove() */
	device_set_added(dev, true);
	if (dev->bus) {
		int ret = bus_probe_device(dev);

		/*
		 * pci_bus_add_device() (v6.6) reports an attach that failed
		 * other than by deferring; a deferred retry
		 * (deferred_probe_work_func()) reports nothing.
		 */
		if (ret < 0 && ret != -EPROBE_DEFER &&
		    dev->bus->ops->kind == BUS_PCI)
			dev_warn(dev, "device attach failed (%d)", ret);
	}
	return 0;
}

int device_hotplug_add(struct device *dev)
{
	KFUNC();
	return device_add(dev);
}

void device_del(struct device *dev)
{
	KFUNC();
	/*
	 * kill_device() first, under device_lock: a probe racing the removal
	 * (drivers_probe, a deferred retry) sees the device gone and fails,
	 * instead of binding between the unbind below and the IOMMU's
	 * release; lookups by name stop finding it.
	 */
	if (WARN_ON(dev->m, !device_set_added(dev, false)))
		return;
	/* bus_remove_device(): a bound driver is unbound first */
	if (dev->bus)
		bus_remove_device(dev);
	/* BUS_NOTIFY_REMOVED_DEVICE: the IOMMU lets go of the device. */
	iommu_release_device(dev);
}

void device_unregister(struct device *dev)
{
	KFUNC();
	device_del(dev);
}

struct device *get_device(struct device *dev)
{
	if (dev)
		kref_get(&dev->kref);
	return dev;
}

static void device_release(struct kref *kref)
{
	struct device *dev = container_of(kref, struct device, kref);
	struct machine *m = dev->m;
	struct device *parent = dev->parent;

	WARN_ON(m, dev->added);
	mutex_lock(&m->obj_lock);
	list_del(&dev->node);
	strmap_del(&m->devices_by_name, dev->name, dev);
	mutex_unlock(&m->obj_lock);
	mutex_destroy(&dev->mutex);
	kfree(dev->driver_override);
	pci_iov_release(dev);
	machine_free(m, dev, sizeof(*dev));
	put_device(parent);
}

void put_device(struct device *dev)
{
	if (dev)
		WARN_ON(dev->m, kref_put(&dev->kref, device_release) < 0);
}

struct device *machine_find_device(struct machine *m, const char *name)
{
	struct device *dev;

	mutex_lock(&m->obj_lock);
	dev = find_device_locked(m, name);
	if (dev && !dev->added)
		dev = NULL;
	mutex_unlock(&m->obj_lock);
	return dev;
}

size_t machine_device_count(struct machine *m)
{
	struct device *dev;
	size_t n = 0;

	mutex_lock(&m->obj_lock);
	list_for_each_entry(dev, &m->devices, node)
		n += dev->added;
	mutex_unlock(&m->obj_lock);
	return n;
}

const char *device_name(const struct device *dev)
{
	return dev->name;
}

/* ---- machine subsystem ---- */

static const char *device_key(const void *dev)
{
	return ((const struct device *)dev)->name;
}

static const char *dev_root_key(const void *r)
{
	return ((const struct dev_root *)r)->name;
}

static int device_subsys_clone(const struct machine *old, struct machine *new,
			       struct ptrmap *map)
{
	struct device *dev, *nd;
	struct dev_root *r, *nr;

	list_for_each_entry(dev, &old->devices, node) {
		nd = machine_clone_alloc_at(new, old, dev, sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		*nd = *dev;
		nd->m = new;
		nd->driver_override = NULL; /* copied by the driver subsystem */
		mutex_init(&nd->mutex, &new->locks, "device.mutex");
		INIT_LIST_HEAD(&nd->deferred);
		/* the listing lists are made again by the fixup */
		INIT_LIST_HEAD(&nd->children);
		INIT_LIST_HEAD(&nd->sibling);
		INIT_LIST_HEAD(&nd->bus_node);
		INIT_LIST_HEAD(&nd->drv_node);
		list_add_tail(&nd->node, &new->devices);
		ptrmap_put(map, dev, nd);
	}
	if (map->oom)
		return -ENOMEM;
	if (machine_clone_strmap(new, old, &new->devices_by_name,
				 &old->devices_by_name, map, device_key))
		return -ENOMEM;
	/* roots live as long as their machine: in the clone's block */
	list_for_each_entry(r, &old->dev_roots, node) {
		nr = machine_clone_alloc_at(new, old, r, sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		*nr = *r;
		INIT_LIST_HEAD(&nr->devices); /* made again by the fixup */
		list_add_tail(&nr->node, &new->dev_roots);
		ptrmap_put(map, r, nr);
	}
	if (map->oom)
		return -ENOMEM;
	return machine_clone_strmap(new, old, &new->dev_roots_by_name,
				    &old->dev_roots_by_name, map, dev_root_key);
}

static void device_subsys_fixup(struct machine *new, const struct ptrmap *map)
{
	struct device *dev;

	list_for_each_entry(dev, &new->devices, node) {
		dev->parent = clone_remap(map, dev->parent);
		dev->fw.iommu = clone_remap(map, dev->fw.iommu);
		dev->iommu_group = clone_remap(map, dev->iommu_group);
		dev->iommu_domain = clone_remap(map, dev->iommu_domain);
		dev->bus = clone_remap(map, dev->bus);
		dev->driver = clone_remap(map, dev->driver);
		dev->sriov.physfn = clone_remap(map, dev->sriov.physfn);
		dev->root = clone_remap(map, dev->root);
	}
	/* the listing lists, the roots' counts being copied already */
	list_for_each_entry(dev, &new->devices, node) {
		if (dev->added && dev->parent) {
			list_add_tail(&dev->sibling, &dev->parent->children);
		} else if (dev->added && dev->root) {
			list_add_tail(&dev->sibling, &dev->root->devices);
		}
		if (dev->added && dev->bus)
			list_add_tail(&dev->bus_node, &dev->bus->devices);
		if (dev->bound && dev->driver)
			list_add_tail(&dev->drv_node, &dev->driver->devices);
	}
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp((*(struct device *const *)a)->name,
		      (*(struct device *const *)b)->name);
}

/*
 * A device's line in a state's text (dynamic_only), the same bytes the
 * format strings below give, written piece by piece: the checker
 * serializes every device of every state it reaches, and the format
 * parsing was most of that.
 */
/* SR-IOV: a PF's capability and VFs, a VF's PF and number (rare: printf) */
static void serialize_sriov(const struct device *dev, struct sbuf *sb)
{
	if (dev->sriov.is_physfn)
		sbuf_printf(sb, " pf=%u,%u,%u,%x:%u,%d,%d",
			    dev->sriov.total_VFs, dev->sriov.offset,
			    dev->sriov.stride, dev->sriov.vf_device,
			    dev->sriov.num_VFs, dev->sriov.drivers_autoprobe,
			    dev->sriov.vfio_pf);
	if (dev->sriov.is_virtfn)
		sbuf_printf(sb, " vf=%s:%u,%d", dev->sriov.physfn->name,
			    dev->sriov.vf_id, dev->sriov.vf_removed);
}

static void serialize_dynamic(const struct device *dev, struct sbuf *sb,
			      struct ptrmap *ids)
{
	const char *drv = dev->driver ? dev->driver->name : "-";
	const char *ovr = dev->driver_override ? dev->driver_override : "-";
	/* the lengths kept at creation: the checker writes every device */
	size_t name_len = dev->name_len;
	size_t drv_len = dev->driver ? dev->driver->name_len : 1;
	size_t ovr_len = dev->driver_override ? strlen(ovr) : 1;
	char *p = sbuf_room(sb, 64 + name_len +
				    (8 + PCI_NUM_RESET_METHODS) * CUR_NUM_MAX);

	self_check(name_len == strlen(dev->name));
	self_check(drv_len == strlen(drv));
	if (!p)
		return;
	p = cur_putlit(p, "dev ");
	p = cur_putn(p, dev->name, name_len);
	p = cur_putc(p, ' ');
	p = cur_putd(p, dev->added);
	p = cur_putd(p, dev->absent);
	p = cur_putd(p, dev->fwspec);
	p = cur_putc(p, ' ');
	p = cur_putu(p, kref_read(&dev->kref));
	p = cur_putlit(p, " g");
	if (dev->iommu_group)
		p = cur_putd(p, dev->iommu_group->id);
	else
		p = cur_putc(p, '-');
	if (dev->iommu_domain) {
		p = cur_putlit(p, " dom=#");
		p = cur_putd(p, canon_id(ids, dev->iommu_domain));
	} else {
		p = cur_putlit(p, " dom=-");
	}
	p = cur_putlit(p, " rst=");
	p = cur_putd(p, dev->pci_reset.attr);
	p = cur_putc(p, ':');
	for (int j = 0; j < PCI_NUM_RESET_METHODS &&
			dev->pci_reset.methods[j]; j++)
		p = cur_putd(p, dev->pci_reset.methods[j]);
	sbuf_commit(sb, p);
	serialize_sriov(dev, sb);
	p = sbuf_room(sb, 64 + drv_len + ovr_len + 4 * CUR_NUM_MAX);
	if (!p)
		return;
	p = cur_putc(p, ' ');
	p = cur_putn(p, drv, drv_len);
	p = cur_putc(p, ' ');
	p = cur_putd(p, dev->bound);
	p = cur_putc(p, ' ');
	p = cur_putn(p, ovr, ovr_len);
	p = cur_putc(p, ' ');
	p = cur_putd(p, dev->dma_use.active);
	p = cur_putd(p, dev->dma_use.group != NULL);
	p = cur_putd(p, !list_empty(&dev->deferred));
	p = cur_putc(p, '\n');
	sbuf_commit(sb, p);
}

static void device_subsys_serialize(const struct machine *m, struct sbuf *sb,
				    struct ptrmap *ids)
{
	size_t n = list_count_nodes(&m->devices), i = 0;
	struct device **devs = zalloc(n ? n : 1, sizeof(*devs));
	struct device *dev;

	if (!devs) {
		sb->oom = true;
		return;
	}
	list_for_each_entry(dev, &m->devices, node)
		devs[i++] = dev;
	sort_unless_sorted(devs, n, sizeof(*devs), cmp_dev);
	for (i = 0; i < n; i++) {
		dev = devs[i];
		if (sb->dynamic_only) {
			serialize_dynamic(dev, sb, ids);
			continue;
		}
		sbuf_printf(sb, "dev %s added=%d absent=%d fwspec=%d ref=%u parent=%s iommu=%s key=%u rd=%d ut=%d dt=%u",
			    dev->name, dev->added, dev->absent, dev->fwspec,
			    kref_read(&dev->kref),
			    dev->parent ? dev->parent->name : "-",
			    dev->fw.iommu ? dev->fw.iommu->name : "-",
			    dev->fw.group_key, dev->fw.require_direct,
			    dev->fw.untrusted, dev->fw.def_domain_type);
		for (unsigned int j = 0; j < dev->fw.nr_direct; j++)
			sbuf_printf(sb, " direct=%" PRIx64 "+%" PRIx64,
				    dev->fw.direct[j].start,
				    dev->fw.direct[j].length);
		sbuf_printf(sb, " group=");
		if (dev->iommu_group)
			sbuf_printf(sb, "%d", dev->iommu_group->id);
		else
			sbuf_printf(sb, "-");
		if (dev->iommu_domain)
			sbuf_printf(sb, " dom=#%d",
				    canon_id(ids, dev->iommu_domain));
		else
			sbuf_printf(sb, " dom=-");
		/* reset_method: the methods in force, in order (digits) */
		sbuf_printf(sb, " rst=%d:", dev->pci_reset.attr);
		for (int j = 0; j < PCI_NUM_RESET_METHODS &&
				dev->pci_reset.methods[j]; j++)
			sbuf_printf(sb, "%d", dev->pci_reset.methods[j]);
		sbuf_printf(sb, " rcaps=%#x nbr=%d", dev->pci_reset.caps,
			    dev->pci_reset.no_bus_reset);
		serialize_sriov(dev, sb);
		sbuf_printf(sb, " bus=%s ids=%04x:%04x:%04x:%04x:%06x:%u:%u:%s:%x:%s drv=%s bound=%d override=%s dma_use=%d,%d deferred=%d\n",
			    dev->bus ? dev->bus->name : "-", dev->ids.vendor,
			    dev->ids.device, dev->ids.subvendor,
			    dev->ids.subdevice, dev->ids.class,
			    dev->ids.hdr_type, dev->ids.pcie_type,
			    dev->ids.compatible, dev->ids.periphid,
			    dev->ids.mc_type,
			    dev->driver ? dev->driver->name : "-", dev->bound,
			    dev->driver_override ? dev->driver_override : "-",
			    dev->dma_use.active, dev->dma_use.group != NULL,
			    !list_empty(&dev->deferred));
	}
	free(devs);
}

static void device_subsys_destroy(struct machine *m)
{
	struct device *dev, *nd;
	struct dev_root *r, *nr;

	list_for_each_entry_safe(dev, nd, &m->devices, node) {
		mutex_destroy(&dev->mutex);
		machine_free(m, dev, sizeof(*dev));
	}
	INIT_LIST_HEAD(&m->devices);
	strmap_free(&m->devices_by_name);
	list_for_each_entry_safe(r, nr, &m->dev_roots, node)
		machine_free(m, r, sizeof(*r));
	INIT_LIST_HEAD(&m->dev_roots);
	strmap_free(&m->dev_roots_by_name);
}

const struct machine_subsys device_subsys = {
	.name = "device",
	.clone = device_subsys_clone,
	.fixup = device_subsys_fixup,
	.serialize = device_subsys_serialize,
	.destroy = device_subsys_destroy,
};

void device_set_absent(struct device *dev, bool absent)
{
	dev->absent = absent;
}

void pci_lock_rescan_remove(struct machine *m)
{
	mutex_lock(&m->rescan_remove_lock);
}

void pci_unlock_rescan_remove(struct machine *m)
{
	mutex_unlock(&m->rescan_remove_lock);
}

int pci_rescan_bus(struct machine *m)
{
	struct device *dev;
	int added = 0;
	bool progress = true;

	KFUNC();
	/* parents first: repeat until no device with an added parent is left */
	while (progress) {
		struct device *found = NULL;

		progress = false;
		mutex_lock(&m->obj_lock);
		list_for_each_entry(dev, &m->devices, node) {
			/* a VF comes back only through sriov_numvfs */
			if (!dev->added && !dev->absent && dev->bus &&
			    !dev->sriov.is_virtfn &&
			    dev->bus->ops->kind == BUS_PCI &&
			    (!dev->parent || dev->parent->added)) {
				found = get_device(dev);
				break;
			}
		}
		mutex_unlock(&m->obj_lock);
		if (found) {
			if (!device_add(found))
				added++;
			put_device(found);
			progress = true;
		}
	}
	return added;
}
