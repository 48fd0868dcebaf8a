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

/* ---- userspace's descriptors (RLIMIT_NOFILE) ---- */

int vfio_fd_get(struct machine *m)
{
	lockdep_assert_held(m, &m->vfio_lock);
	if (m->nr_fds >= m->nofile_limit)
		return -EMFILE;
	m->nr_fds++;
	return 0;
}

void vfio_fd_put(struct machine *m)
{
	lockdep_assert_held(m, &m->vfio_lock);
	if (!WARN_ON(m, !m->nr_fds))
		m->nr_fds--;
}

int vfio_node_open(struct machine *m)
{
	int ret = vfio_fd_get(m);

	if (ret)
		return ret;
	if (!m->cfg.iommu_api) {
		vfio_fd_put(m);
		return -ENOENT;
	}
	return 0;
}

int machine_set_nofile_limit(struct machine *m, unsigned long limit)
{
	/* setrlimit() refuses more than fs.nr_open, even to root */
	if (limit > MACHINE_NOFILE_MAX)
		return -EPERM;
	mutex_lock(&m->vfio_lock);
	m->nofile_limit = limit;
	mutex_unlock(&m->vfio_lock);
	return 0;
}

unsigned long machine_nofile_limit(struct machine *m)
{
	unsigned long limit;

	mutex_lock(&m->vfio_lock);
	limit = m->nofile_limit;
	mutex_unlock(&m->vfio_lock);
	return limit;
}

unsigned long machine_open_fds(struct machine *m)
{
	unsigned long n;

	mutex_lock(&m->vfio_lock);
	n = m->nr_fds;
	mutex_unlock(&m->vfio_lock);
	return n;
}

static struct vfio_group *vfio_group_find(struct iommu_group *iommu_group)
{
	struct vfio_group *group = iommu_group ? iommu_group->vfio_group : NULL;

	return group && group->iommu_group == iommu_group ? group : NULL;
}

/* Lists are kept in a canonical order so serializations compare. */
static void vfio_group_insert_sorted(struct machine *m, struct vfio_group *new)
{
	struct vfio_group *pos;

	list_for_each_entry(pos, &m->vfio_groups, node) {
		if (pos->noiommu > new->noiommu ||
		    (pos->noiommu == new->noiommu && pos->id > new->id)) {
			list_add_tail(&new->node, &pos->node);
			return;
		}
	}
	list_add_tail(&new->node, &m->vfio_groups);
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

struct vfio_device *vfio_device_by_name(struct machine *m, const char *name);
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
	list_add_tail(&vdev->group_next, &group->device_list);
	vfio_device_insert_sorted(m, vdev);
	mutex_unlock(&m->vfio_lock);
	return 0;
}

/* Forward declarations of the close paths in group.c and iommufd. */
int vfio_device_close_locked(struct vfio_device *vdev);
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
int vfio_device_set_req_eventfd(struct machine *m, const char *dev_name)
{
	struct vfio_device *vdev;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	vdev = vfio_device_by_name(m, dev_name);
	if (!vdev || vdev->open == VFIO_CLOSED)
		ret = -EBADF;
	else if (vdev->open == VFIO_OPEN_CDEV && !vdev->ictx)
		ret = -EINVAL;	/* a cdev takes ioctls once bound */
	else if (!vfio_device_has_request_op(vdev))
		ret = -EINVAL;
	else
		vdev->req_trigger = true;
	mutex_unlock(&m->vfio_lock);
	return ret;
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
	if (vdev->open != VFIO_CLOSED) {
		/*
		 * The kernel waits here for the last close, calling the
		 * driver's request op with 0, 1, 2... every ten seconds. The
		 * model's userspace releases the device on the first: a VMM
		 * with a request eventfd unplugs it from its guest, a user
		 * without one closes it on seeing the warning.
		 */
		if (vfio_device_has_request_op(vdev))
			vfio_pci_core_request(vdev, 0);
		while (vdev->open != VFIO_CLOSED)
			vfio_device_close_locked(vdev);
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

/* The number the verbs name a group file by: noiommu-N is -1 - N. */
static int vfio_group_file_id(const struct vfio_group *group)
{
	return group->noiommu ? -1 - group->id : group->id;
}

int vfio_group_container(struct machine *m, int id)
{
	struct vfio_group *group;
	int container = -1;

	mutex_lock(&m->vfio_lock);
	/* -1 as well when the container's file is closed */
	list_for_each_entry(group, &m->vfio_groups, node)
		if (vfio_group_file_id(group) == id && group->container)
			container = group->container->id;
	mutex_unlock(&m->vfio_lock);
	return container;
}

bool vfio_group_exists(struct machine *m, int id)
{
	struct vfio_group *group;
	bool found = false;

	mutex_lock(&m->vfio_lock);
	list_for_each_entry(group, &m->vfio_groups, node)
		if (vfio_group_file_id(group) == id &&
		    !list_empty(&group->device_list))
			found = true;
	mutex_unlock(&m->vfio_lock);
	return found;
}

/* ---- machine subsystem: every VFIO and iommufd object ---- */

static int vfio_subsys_clone(const struct machine *old, struct machine *new,
			     struct ptrmap *map)
{
	struct vfio_container *c, *nc;
	struct vfio_group *g, *ng;
	struct vfio_device *d, *nd;
	struct device *ndev;
	struct iommufd_ctx *x, *nx;
	struct iommufd_hwpt *h, *nh;

	new->type1_unsafe_irqs = old->type1_unsafe_irqs;
	new->nofile_limit = old->nofile_limit;
	new->nr_fds = old->nr_fds;
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
		list_add_tail(&nd->node, &new->vfio_devices);
		/* keyed by the copy's name: the devices are cloned already */
		ndev = ptrmap_get(map, d->dev);
		if (!ndev ||
		    strmap_put(&new->vfio_devices_by_name, ndev->name, nd))
			return -ENOMEM;
		ng = ptrmap_get(map, d->group);
		list_add_tail(&nd->group_next, &ng->device_list);
		ptrmap_put(map, d, nd);
	}
	return 0;
}

static void vfio_subsys_fixup(struct machine *new, const struct ptrmap *map)
{
	struct vfio_group *g;
	struct vfio_device *d;
	struct iommufd_ctx *x;
	struct iommufd_hwpt *h;

	list_for_each_entry(g, &new->vfio_groups, node) {
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
	}
	list_for_each_entry(x, &new->iommufds, node) {
		list_for_each_entry(h, &x->hwpts, node) {
			h->group = clone_remap(map, h->group);
			h->ictx = x;
			h->domain = clone_remap(map, h->domain);
			list_add_tail(&h->group_node, &h->group->hwpts);
		}
	}
}

/*
 * A container or iommufd whose file is closed has no number: it is named by
 * its canonical id, first given where a group or device names it (both
 * lists are in canonical order).
 */
static void serialize_file_ref(struct sbuf *sb, struct ptrmap *ids,
			       const void *obj, int id)
{
	if (!obj)
		sbuf_printf(sb, "-1");
	else if (id >= 0)
		sbuf_printf(sb, "%d", id);
	else
		sbuf_printf(sb, "closed#%d", canon_id(ids, obj));
}

/* Whether @d is the first device (list order) bound to its iommufd. */
static bool vfio_device_first_of_ictx(const struct machine *m,
				      const struct vfio_device *d)
{
	const struct vfio_device *pos;

	list_for_each_entry(pos, &m->vfio_devices, node) {
		if (pos == d)
			return true;
		if (pos->ictx == d->ictx)
			return false;
	}
	return false;
}

static void serialize_iommufd(struct sbuf *sb, struct ptrmap *ids,
			      const struct iommufd_ctx *x)
{
	const struct iommufd_hwpt *h;

	sbuf_printf(sb, "iommufd ");
	serialize_file_ref(sb, ids, x, x->id);
	sbuf_printf(sb, " #%d ioas=%u bound=%u\n", canon_id(ids, x),
		    x->nr_ioas, x->bound);
	list_for_each_entry(h, &x->hwpts, node)
		sbuf_printf(sb, "iommufd-hwpt #%d ioas=%u group=%d dom=#%d users=%u\n",
			    canon_id(ids, h), h->ioas, h->group->id,
			    canon_id(ids, h->domain), h->users);
}

static void vfio_subsys_serialize(const struct machine *m, struct sbuf *sb,
				  struct ptrmap *ids)
{
	const struct vfio_container *c;
	const struct vfio_group *g;
	const struct vfio_device *d;
	const struct iommufd_ctx *x;

	/* the descriptors open follow from the files below */
	sbuf_printf(sb, "vfio noiommu=%d unsafe_irqs=%d type1_unsafe_irqs=%d nofile=%lu\n",
		    m->vfio_noiommu, m->iommufd_unsafe_irqs,
		    m->type1_unsafe_irqs, m->nofile_limit);
	/* open containers; a closed one is described by its groups */
	list_for_each_entry(c, &m->vfio_containers, node)
		if (c->id >= 0)
			sbuf_printf(sb, "vfio-container %d type=%d noiommu=%d\n",
				    c->id, c->iommu_type, c->noiommu);
	list_for_each_entry(g, &m->vfio_groups, node) {
		sbuf_printf(sb, "vfio-group %s%d #%d open=%d fd=%d container=",
			    g->noiommu ? "noiommu-" : "", g->id,
			    canon_id(ids, g), g->opened, g->fd_open);
		serialize_file_ref(sb, ids, g->container,
				   g->container ? g->container->id : -1);
		if (g->container && g->container->id < 0)
			sbuf_printf(sb, "(type=%d)", g->container->iommu_type);
		sbuf_printf(sb, " users=%u type1=", g->container_users);
		if (g->type1_domain)
			sbuf_printf(sb, "#%d\n", canon_id(ids, g->type1_domain));
		else
			sbuf_printf(sb, "-\n");
	}
	list_for_each_entry(d, &m->vfio_devices, node) {
		sbuf_printf(sb, "vfio-device %s group=%d open=%d count=%u ictx=",
			    dev_name(d->dev), d->group->id, (int)d->open,
			    d->open_count);
		serialize_file_ref(sb, ids, d->ictx, d->ictx ? d->ictx->id : -1);
		sbuf_printf(sb, " hwpt=%d req_trigger=%d\n",
			    d->hwpt ? canon_id(ids, d->hwpt) : -1,
			    d->req_trigger);
	}
	list_for_each_entry(x, &m->iommufds, node)
		if (x->id >= 0)
			serialize_iommufd(sb, ids, x);
	/* closed iommufds, in the order of the first device bound to each */
	list_for_each_entry(d, &m->vfio_devices, node)
		if (d->ictx && d->ictx->id < 0 &&
		    vfio_device_first_of_ictx(m, d))
			serialize_iommufd(sb, ids, d->ictx);
}

static void vfio_subsys_destroy(struct machine *m)
{
	struct vfio_container *c, *nc;
	struct vfio_group *g, *ng;
	struct vfio_device *d, *nd;
	struct iommufd_ctx *x, *nx;
	struct iommufd_hwpt *h, *nh;

	list_for_each_entry_safe(d, nd, &m->vfio_devices, node)
		free(d);
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

static int vfio_subsys_init(struct machine *m)
{
	m->nofile_limit = MACHINE_NOFILE_DEFAULT;
	return 0;
}

const struct machine_subsys vfio_subsys = {
	.name = "vfio",
	.init = vfio_subsys_init,
	.clone = vfio_subsys_clone,
	.fixup = vfio_subsys_fixup,
	.serialize = vfio_subsys_serialize,
	.destroy = vfio_subsys_destroy,
};
