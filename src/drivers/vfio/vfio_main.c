// SPDX-License-Identifier: MIT
/*
 * VFIO core: vfio devices registered by the vfio bus drivers, their groups,
 * device files (through the group or the cdev), and the machine subsystem
 * hooks for all VFIO and iommufd state. Counterpart of
 * drivers/vfio/vfio_main.c and the group allocation of drivers/vfio/group.c.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

void vfio_set_noiommu(struct machine *m, bool enable)
{
	m->vfio_noiommu = enable;
}

void iommufd_set_allow_unsafe_interrupts(struct machine *m, bool allow)
{
	m->iommufd_unsafe_irqs = allow;
}

void vfio_iommu_type1_set_allow_unsafe_interrupts(struct machine *m,
						  bool allow)
{
	m->type1_unsafe_irqs = allow;
}

/* ---- userspace's files ---- */

int vfio_node_open(struct process *p)
{
	int fd = get_unused_fd(p);

	if (fd < 0)
		return fd;
	if (!p->m->cfg.iommu_api) {
		put_unused_fd(p, fd);
		return -ENOENT;
	}
	return fd;
}

int vfio_file_get(struct process *p, int fd, enum file_kind kind,
		  struct file **ret)
{
	struct file *file = process_file(p, fd);

	if (!file)
		return -EBADF;
	if (file->kind != kind)
		return -ENOTTY;
	*ret = file;
	return 0;
}

struct vfio_device_file *vfio_device_file_of(const struct vfio_device *vdev,
					     const struct process *p,
					     bool cdev_only)
{
	struct vfio_device_file *df;

	list_for_each_entry_reverse(df, &vdev->files, node)
		if (df->file.owner == p && (!cdev_only || !df->group_path))
			return df;
	return NULL;
}

int vfio_df_named(struct process *p, const char *dev_name, bool cdev_only,
		  struct vfio_device_file **ret)
{
	struct vfio_device *vdev = vfio_device_by_name(p->m, dev_name);

	*ret = vdev ? vfio_device_file_of(vdev, p, cdev_only) : NULL;
	return *ret ? 0 : -EBADF;
}

int vfio_device_fd_of(struct process *p, const char *dev_name, bool cdev_only)
{
	struct vfio_device_file *df = NULL;
	struct vfio_device *vdev;
	int fd;

	mutex_lock(&p->m->vfio_lock);
	vdev = vfio_device_by_name(p->m, dev_name);
	if (vdev)
		df = vfio_device_file_of(vdev, p, cdev_only);
	fd = df ? df->file.fd : -EBADF;
	mutex_unlock(&p->m->vfio_lock);
	return fd;
}

/*
 * vfio_device_fops_release(): a file through the group closes the device
 * (the last one lets the group file go); a cdev file unbinds if it bound.
 */
static void vfio_device_fops_release(struct file *file, struct process *owner)
{
	struct vfio_device_file *df =
		container_of(file, struct vfio_device_file, file);

	(void)owner;
	if (df->group_path)
		vfio_df_group_close(df);
	else
		vfio_df_unbind_iommufd(df);
	list_del(&df->node);
	kfree(df);
}

static void vfio_device_fops_serialize(const struct file *file,
				       struct sbuf *sb, struct ptrmap *ids)
{
	const struct vfio_device_file *df =
		container_of(file, struct vfio_device_file, file);

	(void)ids;
	sbuf_printf(sb, "device %s %s granted=%d\n", dev_name(df->device->dev),
		    df->group_path ? "group" : "cdev", df->access_granted);
}

static const struct file_operations vfio_device_fops = {
	.release = vfio_device_fops_release,
	.serialize = vfio_device_fops_serialize,
};

struct vfio_device_file *vfio_allocate_device_file(struct vfio_device *vdev,
						   bool group_path)
{
	struct vfio_device_file *df = kzalloc(vdev->m, sizeof(*df));

	if (!df)
		return NULL;
	df->file.kind = FILE_VFIO_DEVICE;
	df->file.f_op = &vfio_device_fops;
	df->file.fd = -1;
	df->device = vdev;
	df->group_path = group_path;
	list_add_tail(&df->node, &vdev->files);
	return df;
}

static struct vfio_group *vfio_group_find(struct iommu_group *iommu_group)
{
	struct vfio_group *group = iommu_group ? iommu_group->vfio_group : NULL;

	return group && group->iommu_group == iommu_group ? group : NULL;
}

/*
 * Lists are kept in a canonical order so serializations compare: real
 * groups by number, then no-IOMMU ones. Searched from the end: groups
 * usually come in number order, so an insert costs one compare.
 */
static void vfio_group_insert_sorted(struct machine *m, struct vfio_group *new)
{
	struct vfio_group *pos;

	list_for_each_entry_reverse(pos, &m->vfio_groups, node) {
		if (pos->noiommu < new->noiommu ||
		    (pos->noiommu == new->noiommu && pos->id <= new->id)) {
			list_add(&new->node, &pos->node);
			return;
		}
	}
	list_add(&new->node, &m->vfio_groups);
}

/*
 * Sorted by name, searched from the end: devices usually come in name
 * order (boot, a script binding a bus), so an insert costs one compare.
 */
static void vfio_device_insert_sorted(struct machine *m,
				      struct vfio_device *new)
{
	struct vfio_device *pos;

	list_for_each_entry_reverse(pos, &m->vfio_devices, node) {
		if (strcmp(dev_name(pos->dev), dev_name(new->dev)) < 0) {
			list_add(&new->node, &pos->node);
			return;
		}
	}
	list_add(&new->node, &m->vfio_devices);
}

static struct vfio_group *vfio_group_alloc(struct machine *m,
					   struct iommu_group *iommu_group,
					   bool noiommu)
{
	struct vfio_group *group = kzalloc(m, sizeof(*group));

	if (!group)
		return NULL;
	group->m = m;
	group->noiommu = noiommu;
	group->iommu_group = iommu_group;
	if (iommu_group)
		iommu_group->vfio_group = group;
	group->id = iommu_group_id(iommu_group);
	INIT_LIST_HEAD(&group->device_list);
	INIT_LIST_HEAD(&group->container_next);
	vfio_group_insert_sorted(m, group);
	return group;
}

static struct vfio_device *vfio_device_find(struct machine *m,
					    const struct device *dev)
{
	struct vfio_device *vdev;

	vdev = strmap_get(&m->vfio_devices_by_name, dev_name(dev));
	return vdev && vdev->dev == dev ? vdev : NULL;
}

struct vfio_device *vfio_device_by_name(struct machine *m, const char *name)
{
	return strmap_get(&m->vfio_devices_by_name, name);
}

/*
 * vfio_noiommu_group_alloc(): with enable_unsafe_noiommu_mode, a device no
 * IOMMU translates for gets an IOMMU group of its own, numbered from the
 * same pool as the real ones and named "vfio-noiommu": it has
 * /sys/kernel/iommu_groups/N and the device its iommu_group link. Returns
 * the group with the reference the vfio group keeps.
 */
static struct iommu_group *vfio_noiommu_group_alloc(struct device *dev)
{
	struct iommu_group *iommu_group;
	int ret;

	iommu_group = iommu_group_alloc(dev->m, NULL, 0);
	if (IS_ERR(iommu_group))
		return iommu_group;
	ret = iommu_group_set_name(iommu_group, "vfio-noiommu");
	if (!ret)
		ret = iommu_group_add_device(iommu_group, dev);
	if (ret) {
		iommu_group_put(iommu_group);
		return ERR_PTR(ret);
	}
	return iommu_group;
}

/*
 * vfio_register_group_dev(): a vfio bus driver's probe makes its device a
 * vfio device, in the vfio group of its IOMMU group (made on first use:
 * /dev/vfio/N appears; /dev/vfio/noiommu-N for a no-IOMMU group).
 */
int vfio_register_group_dev(struct device *dev)
{
	struct machine *m = dev->m;
	struct iommu_group *iommu_group;
	struct vfio_group *group;
	struct vfio_device *vdev;
	bool noiommu = false;

	KFUNC();
	iommu_group = iommu_group_get(dev);
	if (!iommu_group) {
		if (!m->vfio_noiommu)
			return -EINVAL;
		iommu_group = vfio_noiommu_group_alloc(dev);
		if (IS_ERR(iommu_group))
			return (int)PTR_ERR(iommu_group);
		noiommu = true;
		add_taint(m, TAINT_USER);	/* 'U' in WARN reports */
		dev_warn(dev, "Adding kernel taint for vfio-noiommu group on device");
	}
	vdev = kzalloc(m, sizeof(*vdev));
	if (!vdev) {
		if (noiommu)
			iommu_group_remove_device(dev);
		iommu_group_put(iommu_group);
		return -ENOMEM;
	}
	mutex_lock(&m->vfio_lock);
	if (strmap_put(&m->vfio_devices_by_name, dev_name(dev), vdev)) {
		mutex_unlock(&m->vfio_lock);
		iommu_group_put(iommu_group);
		kfree(vdev);
		return -ENOMEM;
	}
	group = noiommu ? NULL : vfio_group_find(iommu_group);
	if (group) {
		iommu_group_put(iommu_group); /* the group holds one already */
	} else {
		group = vfio_group_alloc(m, iommu_group, noiommu);
		if (!group) {
			strmap_del(&m->vfio_devices_by_name, dev_name(dev), vdev);
			mutex_unlock(&m->vfio_lock);
			if (noiommu)
				iommu_group_remove_device(dev);
			iommu_group_put(iommu_group);
			kfree(vdev);
			return -ENOMEM;
		}
	}
	vdev->m = m;
	vdev->dev = dev;
	vdev->group = group;
	INIT_LIST_HEAD(&vdev->files);
	list_add_tail(&vdev->group_next, &group->device_list);
	vfio_device_insert_sorted(m, vdev);
	mutex_unlock(&m->vfio_lock);
	return 0;
}

void vfio_group_detach_container(struct vfio_group *group);

/*
 * Whether the vfio driver has a request op: vfio-pci and the variant
 * drivers built on vfio_pci_core do; vfio-platform, vfio-amba and
 * vfio-fsl-mc do not (v6.6), so their unbind waits without a word.
 */
static bool vfio_device_has_request_op(const struct vfio_device *vdev)
{
	return vdev->dev->driver->desc->probe == PROBE_VFIO_PCI;
}

void vfio_pci_core_request(struct vfio_device *vdev, unsigned int count)
{
	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	if (vdev->req_trigger) {
		/* the eventfd is signalled each time, logged every tenth */
		if (!(count % 10))
			dev_notice(vdev->dev,
				   "Relaying device request to user (#%u)",
				   count);
	} else if (count == 0) {
		dev_warn(vdev->dev,
			 "No device request channel registered, blocked until released by user");
	}
}

/*
 * VFIO_DEVICE_SET_IRQS with VFIO_PCI_REQ_IRQ_INDEX, an eventfd and
 * ACTION_TRIGGER: vfio_pci_set_req_trigger(). Other vfio drivers have no
 * IRQ at that index (vfio_set_irqs_validate_and_prepare(): -EINVAL).
 */
static int vfio_df_set_req_eventfd(struct vfio_device_file *df)
{
	/* vfio_device_fops_unl_ioctl(): a cdev takes ioctls once bound */
	if (!df->access_granted)
		return -EINVAL;
	if (!vfio_device_has_request_op(df->device))
		return -EINVAL;
	df->device->req_trigger = true;
	return 0;
}

int vfio_ioctl_set_req_eventfd(struct process *p, int fd)
{
	struct file *file;
	int ret;

	KFRAME("vfio_pci_set_req_trigger");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_file_get(p, fd, FILE_VFIO_DEVICE, &file);
	if (!ret)
		ret = vfio_df_set_req_eventfd(
			container_of(file, struct vfio_device_file, file));
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_process_set_req_eventfd(struct process *p, const char *dev_name)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_pci_set_req_trigger");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_named(p, dev_name, false, &df);
	if (!ret)
		ret = vfio_df_set_req_eventfd(df);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_device_set_req_eventfd(struct machine *m, const char *dev_name)
{
	return vfio_process_set_req_eventfd(m->default_process, dev_name);
}

int vfio_process_device_close(struct process *p, const char *dev_name)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("close_fd");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_named(p, dev_name, false, &df);
	if (!ret)
		ret = process_close_fd(p, df->file.fd);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_device_close(struct machine *m, const char *dev_name)
{
	return vfio_process_device_close(m->default_process, dev_name);
}

/*
 * vfio_unregister_group_dev(): the vfio bus driver's remove. The kernel
 * blocks here until userspace closes the device, asking it to with the
 * driver's request op; the model's userspace complies at once, so the
 * close happens here. The last
 * device of a group takes the group with it: a container still set is
 * detached and DMA ownership given back.
 */
void vfio_unregister_group_dev(struct device *dev)
{
	struct machine *m = dev->m;
	struct vfio_device *vdev;
	struct vfio_group *group;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	vdev = vfio_device_find(m, dev);
	if (!vdev) {
		mutex_unlock(&m->vfio_lock);
		return;
	}
	if (!list_empty(&vdev->files)) {
		/*
		 * The kernel waits here for the last close, calling the
		 * driver's request op with 0, 1, 2... every ten seconds. The
		 * model's userspace releases the device on the first: a VMM
		 * with a request eventfd unplugs it from its guest, a user
		 * without one closes it on seeing the warning: every process
		 * closes its files of the device.
		 */
		if (vfio_device_has_request_op(vdev))
			vfio_pci_core_request(vdev, 0);
		while (!list_empty(&vdev->files)) {
			struct vfio_device_file *df = list_first_entry(
				&vdev->files, struct vfio_device_file, node);

			process_close_fd(df->file.owner, df->file.fd);
		}
	}
	group = vdev->group;
	list_del(&vdev->group_next);
	list_del(&vdev->node);
	strmap_del(&m->vfio_devices_by_name, dev_name(vdev->dev), vdev);
	kfree(vdev);
	/* vfio_device_remove_group(): out of the group made for it */
	if (group->noiommu)
		iommu_group_remove_device(dev);
	if (list_empty(&group->device_list)) {
		if (group->container)
			vfio_group_detach_container(group);
		if (group->iommu_group &&
		    group->iommu_group->vfio_group == group)
			group->iommu_group->vfio_group = NULL;
		iommu_group_put(group->iommu_group);
		group->iommu_group = NULL;
		if (!group->opened) {
			list_del(&group->node);
			kfree(group);
		}
	}
	mutex_unlock(&m->vfio_lock);
}

/* ---- machine subsystem: every VFIO and iommufd object ---- */

static int vfio_subsys_clone(const struct machine *old, struct machine *new,
			     struct ptrmap *map)
{
	struct vfio_container *c, *nc;
	struct vfio_group *g, *ng;
	struct vfio_device *d, *nd;
	struct vfio_device_file *df, *ndf;
	struct device *ndev;
	struct iommufd_ctx *x, *nx;
	struct iommufd_hwpt *h, *nh;

	new->type1_unsafe_irqs = old->type1_unsafe_irqs;
	list_for_each_entry(c, &old->vfio_containers, node) {
		nc = malloc(sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		*nc = *c;
		nc->m = new;
		INIT_LIST_HEAD(&nc->group_list);
		list_add_tail(&nc->node, &new->vfio_containers);
		ptrmap_put(map, c, nc);
	}
	list_for_each_entry(x, &old->iommufds, node) {
		nx = malloc(sizeof(*nx));
		if (!nx)
			return -ENOMEM;
		*nx = *x;
		nx->m = new;
		INIT_LIST_HEAD(&nx->hwpts);
		list_add_tail(&nx->node, &new->iommufds);
		ptrmap_put(map, x, nx);
		list_for_each_entry(h, &x->hwpts, node) {
			nh = malloc(sizeof(*nh));
			if (!nh)
				return -ENOMEM;
			*nh = *h;
			list_add_tail(&nh->node, &nx->hwpts);
			ptrmap_put(map, h, nh);
		}
	}
	list_for_each_entry(g, &old->vfio_groups, node) {
		ng = malloc(sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		*ng = *g;
		ng->m = new;
		INIT_LIST_HEAD(&ng->device_list);
		INIT_LIST_HEAD(&ng->container_next);
		list_add_tail(&ng->node, &new->vfio_groups);
		ptrmap_put(map, g, ng);
	}
	/* container membership, in the old list's order */
	list_for_each_entry(c, &old->vfio_containers, node) {
		nc = ptrmap_get(map, c);
		list_for_each_entry(g, &c->group_list, container_next) {
			ng = ptrmap_get(map, g);
			list_add_tail(&ng->container_next, &nc->group_list);
		}
	}
	list_for_each_entry(d, &old->vfio_devices, node) {
		nd = malloc(sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		*nd = *d;
		nd->m = new;
		INIT_LIST_HEAD(&nd->files);
		list_add_tail(&nd->node, &new->vfio_devices);
		/* keyed by the copy's name: the devices are cloned already */
		ndev = ptrmap_get(map, d->dev);
		if (!ndev ||
		    strmap_put(&new->vfio_devices_by_name, ndev->name, nd))
			return -ENOMEM;
		ng = ptrmap_get(map, d->group);
		list_add_tail(&nd->group_next, &ng->device_list);
		ptrmap_put(map, d, nd);
		list_for_each_entry(df, &d->files, node) {
			ndf = malloc(sizeof(*ndf));
			if (!ndf)
				return -ENOMEM;
			*ndf = *df;
			ndf->device = nd;
			list_add_tail(&ndf->node, &nd->files);
			ptrmap_put(map, df, ndf);
		}
	}
	return 0;
}

static void vfio_subsys_fixup(struct machine *new, const struct ptrmap *map)
{
	struct vfio_container *c;
	struct vfio_group *g;
	struct vfio_device *d;
	struct vfio_device_file *df;
	struct iommufd_ctx *x;
	struct iommufd_hwpt *h;

	list_for_each_entry(c, &new->vfio_containers, node)
		c->file.owner = clone_remap(map, c->file.owner);
	list_for_each_entry(g, &new->vfio_groups, node) {
		g->file.owner = clone_remap(map, g->file.owner);
		g->iommu_group = clone_remap(map, g->iommu_group);
		if (g->iommu_group)
			g->iommu_group->vfio_group = g;
		g->container = clone_remap(map, g->container);
		g->type1_domain = clone_remap(map, g->type1_domain);
	}
	list_for_each_entry(d, &new->vfio_devices, node) {
		d->dev = clone_remap(map, d->dev);
		d->group = clone_remap(map, d->group);
		d->ictx = clone_remap(map, d->ictx);
		d->hwpt = clone_remap(map, d->hwpt);
		/* the drivers, and their module_refs, are copied already */
		d->module = clone_remap(map, d->module);
		list_for_each_entry(df, &d->files, node)
			df->file.owner = clone_remap(map, df->file.owner);
	}
	list_for_each_entry(x, &new->iommufds, node) {
		x->file.owner = clone_remap(map, x->file.owner);
		list_for_each_entry(h, &x->hwpts, node) {
			h->group = clone_remap(map, h->group);
			h->ictx = x;
			h->domain = clone_remap(map, h->domain);
			list_add_tail(&h->group_node, &h->group->hwpts);
		}
	}
}

/*
 * Files are named by canonical ids (first given where something names
 * them, in canonical order); the descriptor tables (fs/file.c) come after
 * and say which process holds which open file as what descriptor.
 */
static void vfio_subsys_serialize(const struct machine *m, struct sbuf *sb,
				  struct ptrmap *ids)
{
	const struct vfio_group *g;
	const struct vfio_device *d;
	char *p;

	/* "vfio noiommu=%d unsafe_irqs=%d type1_unsafe_irqs=%d\n" */
	p = sbuf_room(sb, 64);
	if (p) {
		p = cur_putlit(p, "vfio noiommu=");
		p = cur_putc(p, m->vfio_noiommu ? '1' : '0');
		p = cur_putlit(p, " unsafe_irqs=");
		p = cur_putc(p, m->iommufd_unsafe_irqs ? '1' : '0');
		p = cur_putlit(p, " type1_unsafe_irqs=");
		p = cur_putc(p, m->type1_unsafe_irqs ? '1' : '0');
		p = cur_putc(p, '\n');
		sbuf_commit(sb, p);
	}
	/* the lines of every state, written piece by piece, not parsed */
	list_for_each_entry(g, &m->vfio_groups, node) {
		/* "vfio-group %s%d #%d open=%d fd=%d container=" */
		sbuf_puts(sb, g->noiommu ? "vfio-group noiommu-" : "vfio-group ");
		sbuf_putd(sb, g->id);
		sbuf_puts(sb, " #");
		sbuf_putd(sb, canon_id(ids, g));
		sbuf_puts(sb, " open=");
		sbuf_putd(sb, g->opened);
		sbuf_puts(sb, g->file.owner ? " fd=1 container=" :
					      " fd=0 container=");
		if (g->container) {
			/* "#%d(type=%d,fd=%d)" */
			sbuf_putc(sb, '#');
			sbuf_putd(sb, canon_id(ids, g->container));
			sbuf_puts(sb, "(type=");
			sbuf_putd(sb, g->container->iommu_type);
			sbuf_puts(sb, g->container->file.owner ? ",fd=1)" :
								 ",fd=0)");
		} else {
			sbuf_putc(sb, '-');
		}
		sbuf_puts(sb, " users=");
		sbuf_putu(sb, g->container_users);
		sbuf_puts(sb, " type1=");
		if (g->type1_domain) {
			sbuf_putc(sb, '#');
			sbuf_putd(sb, canon_id(ids, g->type1_domain));
			sbuf_putc(sb, '\n');
		} else {
			sbuf_puts(sb, "-\n");
		}
	}
	list_for_each_entry(d, &m->vfio_devices, node) {
		/* "vfio-device %s group=%d count=%u ictx=" */
		sbuf_puts(sb, "vfio-device ");
		sbuf_puts(sb, dev_name(d->dev));
		sbuf_puts(sb, " group=");
		sbuf_putd(sb, d->group->id);
		sbuf_puts(sb, " count=");
		sbuf_putu(sb, d->open_count);
		sbuf_puts(sb, " ictx=");
		if (d->ictx) {
			sbuf_putc(sb, '#');
			sbuf_putd(sb, canon_id(ids, d->ictx));
		} else {
			sbuf_putc(sb, '-');
		}
		/* " hwpt=%d req_trigger=%d\n" */
		sbuf_puts(sb, " hwpt=");
		sbuf_putd(sb, d->hwpt ? canon_id(ids, d->hwpt) : -1);
		sbuf_puts(sb, " req_trigger=");
		sbuf_putd(sb, d->req_trigger);
		sbuf_putc(sb, '\n');
	}
	/*
	 * closed iommufds, in the order of the first device bound to each:
	 * one pass, remembering the contexts written
	 */
	{
		struct ptrmap written;

		ptrmap_init(&written);
		list_for_each_entry(d, &m->vfio_devices, node) {
			if (!d->ictx || d->ictx->file.owner ||
			    ptrmap_get(&written, d->ictx))
				continue;
			if (!ptrmap_put(&written, d->ictx, d->ictx))
				sb->oom = true;
			iommufd_ctx_serialize(d->ictx, sb, ids);
		}
		ptrmap_free(&written);
	}
}

static void vfio_subsys_destroy(struct machine *m)
{
	struct vfio_container *c, *nc;
	struct vfio_group *g, *ng;
	struct vfio_device *d, *nd;
	struct vfio_device_file *df, *ndf;
	struct iommufd_ctx *x, *nx;
	struct iommufd_hwpt *h, *nh;

	list_for_each_entry_safe(d, nd, &m->vfio_devices, node) {
		list_for_each_entry_safe(df, ndf, &d->files, node)
			free(df);
		free(d);
	}
	list_for_each_entry_safe(g, ng, &m->vfio_groups, node)
		free(g);
	list_for_each_entry_safe(c, nc, &m->vfio_containers, node)
		free(c);
	list_for_each_entry_safe(x, nx, &m->iommufds, node) {
		list_for_each_entry_safe(h, nh, &x->hwpts, node)
			free(h);
		free(x);
	}
	INIT_LIST_HEAD(&m->vfio_devices);
	strmap_free(&m->vfio_devices_by_name);
	INIT_LIST_HEAD(&m->vfio_groups);
	INIT_LIST_HEAD(&m->vfio_containers);
	INIT_LIST_HEAD(&m->iommufds);
}

const struct machine_subsys vfio_subsys = {
	.name = "vfio",
	.clone = vfio_subsys_clone,
	.fixup = vfio_subsys_fixup,
	.serialize = vfio_subsys_serialize,
	.destroy = vfio_subsys_destroy,
};

int vfio_df_device_first_open(struct vfio_device *vdev)
{
	struct device_driver *drv = READ_ONCE(vdev->dev->driver);

	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	if (!try_module_get(drv))
		return -ENODEV;
	vdev->module = drv;
	return 0;
}

void vfio_df_device_last_close(struct vfio_device *vdev)
{
	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	module_put(vdev->module);
	vdev->module = NULL;
}

unsigned int vfio_driver_open_devices(struct machine *m,
				      const struct device_driver *drv)
{
	struct vfio_device *d;
	unsigned int n = 0;

	lockdep_assert_held(m, &m->vfio_lock);
	list_for_each_entry(d, &m->vfio_devices, node)
		if (d->open_count && READ_ONCE(d->dev->driver) == drv)
			n++;
	return n;
}
