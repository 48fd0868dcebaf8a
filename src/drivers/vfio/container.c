// SPDX-License-Identifier: MIT
/*
 * VFIO containers and the type1 IOMMU backend: a container holds groups;
 * VFIO_SET_IOMMU gives each an UNMANAGED domain. Counterpart of
 * drivers/vfio/container.c and drivers/vfio/vfio_iommu_type1.c.
 */
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group);
void vfio_group_detach_container(struct vfio_group *group);
int vfio_container_from_fd(struct process *p, int fd,
			   struct vfio_container **ret);
struct vfio_container *vfio_container_legacy(struct process *p, int id);

/* VFIO_SET_IOMMU arguments the model knows besides the public ones. */
#define VFIO_TYPE1_NESTING_IOMMU 6
#define VFIO_UNMAP_ALL 9

/* The container open as @fd in @p: -EBADF, -ENOTTY another file. */
int vfio_container_from_fd(struct process *p, int fd,
			   struct vfio_container **ret)
{
	struct file *file;
	int err = vfio_file_get(p, fd, FILE_VFIO_CONTAINER, &file);

	if (!err)
		*ret = container_of(file, struct vfio_container, file);
	return err;
}

/* The container the legacy calls number @id in @p, or NULL (-EBADF). */
struct vfio_container *vfio_container_legacy(struct process *p, int id)
{
	return idr_find(&p->containers, id);
}

/*
 * vfio_container_put(): a container whose file is closed goes with the
 * last group set on it.
 */
static void vfio_container_put(struct vfio_container *c)
{
	if (c->file.owner || !list_empty(&c->group_list))
		return;
	list_del(&c->node);
	kfree(c);
}

/*
 * vfio_fops_release(): closing the file drops its reference only. The
 * groups set on the container keep it, its IOMMU backend and their
 * ownership until the last of them is unset or closed. Its legacy number
 * is free for the next open at once.
 */
static void vfio_fops_release(struct file *file, struct process *owner)
{
	struct vfio_container *c =
		container_of(file, struct vfio_container, file);

	if (c->id >= 0)
		idr_remove(&owner->containers, c->id);
	c->id = -1;
	vfio_container_put(c);
}

static void vfio_fops_serialize(const struct file *file, struct sbuf *sb,
				struct ptrmap *ids)
{
	const struct vfio_container *c =
		container_of(file, struct vfio_container, file);

	sbuf_printf(sb, "container #%d type=%d noiommu=%d\n", canon_id(ids, c),
		    c->iommu_type, c->noiommu);
}

static const struct file_operations vfio_fops = {
	.release = vfio_fops_release,
	.serialize = vfio_fops_serialize,
};

/*
 * open("/dev/vfio/vfio"): vfio_fops_open(). With @legacy, the container
 * also gets the lowest free legacy number of @p.
 */
static int vfio_container_do_open(struct process *p, bool legacy,
				  int *ret_id)
{
	struct machine *m = p->m;
	struct vfio_container *c;
	int fd, id = -1;

	mutex_lock(&m->vfio_lock);
	fd = vfio_node_open(p);
	if (fd < 0)
		goto out_unlock;
	c = kzalloc(m, sizeof(*c));
	if (c && legacy) {
		id = idr_alloc_lowest(&p->containers, c, 0, INT32_MAX);
		if (id < 0) {
			kfree(c);
			c = NULL;
		}
	}
	if (!c) {
		put_unused_fd(p, fd);
		fd = -ENOMEM;
		goto out_unlock;
	}
	c->m = m;
	c->id = id;
	c->file.kind = FILE_VFIO_CONTAINER;
	c->file.f_op = &vfio_fops;
	INIT_LIST_HEAD(&c->group_list);
	list_add_tail(&c->node, &m->vfio_containers);
	fd_install(p, fd, &c->file);
	if (ret_id)
		*ret_id = id;
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return fd;
}

int vfio_container_fd_open(struct process *p)
{
	KFRAME("vfio_fops_open");
	return vfio_container_do_open(p, false, NULL);
}

int vfio_container_open(struct machine *m, int *ret_container)
{
	int fd;

	KFRAME("vfio_fops_open");
	fd = vfio_container_do_open(m->default_process, true, ret_container);
	return fd < 0 ? fd : 0;
}

/*
 * iommu_group_has_isolated_msi(): a device's DMA cannot raise interrupts
 * outside its group. Every member of a group is behind the group's IOMMU,
 * whose platform isolates MSIs or not.
 */
static bool vfio_group_has_isolated_msi(const struct vfio_group *group)
{
	return group->iommu_group->iommu->msi_isolated;
}

/*
 * vfio_iommu_type1_attach_group(): a user domain for the group. A group
 * whose MSIs are not isolated is refused after the attach, unless the
 * module's allow_unsafe_interrupts is set.
 */
static int vfio_iommu_type1_attach_group(struct vfio_group *group)
{
	struct machine *m = group->m;
	struct vfio_device *vdev;
	struct iommu_domain *domain;
	int ret;

	KFUNC();
	if (group->noiommu)
		return 0;
	vdev = list_first_entry(&group->device_list, struct vfio_device,
				group_next);
	domain = iommu_paging_domain_alloc(vdev->dev);
	if (IS_ERR(domain))
		return (int)PTR_ERR(domain);
	ret = iommu_attach_group(domain, group->iommu_group);
	if (ret)
		goto err_free_domain;
	if (!m->type1_unsafe_irqs && !vfio_group_has_isolated_msi(group)) {
		pr_warn(m, "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform");
		ret = -EPERM;
		goto err_detach;
	}
	group->type1_domain = domain;
	return 0;

err_detach:
	iommu_detach_group(domain, group->iommu_group);
err_free_domain:
	iommu_domain_free(domain);
	return ret;
}

static void vfio_iommu_type1_detach_group(struct vfio_group *group)
{
	KFUNC();
	if (!group->type1_domain)
		return;
	if (group->iommu_group)
		iommu_detach_group(group->type1_domain, group->iommu_group);
	iommu_domain_free(group->type1_domain);
	group->type1_domain = NULL;
}

int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group)
{
	int ret;

	KFUNC();
	/* real and no-IOMMU groups cannot mix */
	if (!list_empty(&container->group_list) &&
	    container->noiommu != group->noiommu)
		return -EPERM;
	if (!group->noiommu) {
		ret = iommu_group_claim_dma_owner(group->iommu_group, group);
		if (ret)
			return ret;
	}
	if (container->iommu_type) {
		ret = vfio_iommu_type1_attach_group(group);
		if (ret) {
			if (!group->noiommu)
				iommu_group_release_dma_owner(
					group->iommu_group);
			return ret;
		}
	}
	group->container = container;
	group->container_users = 1;
	container->noiommu = group->noiommu;
	list_add_tail(&group->container_next, &container->group_list);
	return 0;
}

void vfio_group_detach_container(struct vfio_group *group)
{
	struct vfio_container *container = group->container;

	KFUNC();
	vfio_iommu_type1_detach_group(group);
	if (!group->noiommu && group->iommu_group)
		iommu_group_release_dma_owner(group->iommu_group);
	list_del(&group->container_next);
	group->container = NULL;
	group->container_users = 0;
	/* the last group out takes the IOMMU backend with it */
	if (list_empty(&container->group_list))
		container->iommu_type = 0;
	vfio_container_put(container);
}

/*
 * Which IOMMU backend takes @type for @c, as vfio_ioctl_set_iommu() asks
 * each registered one: only vfio-noiommu for a no-IOMMU container (while
 * enable_unsafe_noiommu_mode is on), only type1 for the others. Type1's
 * VFIO_CHECK_EXTENSION accepts VFIO_UNMAP_ALL, which its open then refuses
 * (-EINVAL); a type no backend accepts is -ENODEV. (Type1's nesting
 * variant is not modelled: -ENODEV.)
 */
static int vfio_iommu_backend_accepts(const struct vfio_container *c, int type)
{
	if (c->noiommu)
		return type == VFIO_NOIOMMU_IOMMU && c->m->vfio_noiommu ?
			       0 :
			       -ENODEV;
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		return 0;
	case VFIO_UNMAP_ALL:
		return -EINVAL;
	case VFIO_TYPE1_NESTING_IOMMU:
	default:
		return -ENODEV;
	}
}

/* VFIO_SET_IOMMU: vfio_ioctl_set_iommu(). */
static int vfio_container_set_iommu_locked(struct vfio_container *c, int type)
{
	struct vfio_group *group, *undo;
	int ret;

	/* only a group makes the container privileged, once */
	if (list_empty(&c->group_list) || c->iommu_type)
		return -EINVAL;
	ret = vfio_iommu_backend_accepts(c, type);
	if (ret)
		return ret;
	list_for_each_entry(group, &c->group_list, container_next) {
		ret = vfio_iommu_type1_attach_group(group);
		if (ret)
			goto err_undo;
	}
	c->iommu_type = type;
	return 0;

err_undo:
	list_for_each_entry(undo, &c->group_list, container_next) {
		if (undo == group)
			break;
		vfio_iommu_type1_detach_group(undo);
	}
	return ret;
}

int vfio_ioctl_set_iommu(struct process *p, int fd, int type)
{
	struct vfio_container *c;
	int ret;

	KFRAME("vfio_ioctl_set_iommu");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_container_from_fd(p, fd, &c);
	if (!ret)
		ret = vfio_container_set_iommu_locked(c, type);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_container_set_iommu(struct machine *m, int id, int type)
{
	struct vfio_container *c;
	int ret;

	KFRAME("vfio_ioctl_set_iommu");
	mutex_lock(&m->vfio_lock);
	c = vfio_container_legacy(m->default_process, id);
	ret = c ? vfio_container_set_iommu_locked(c, type) : -EBADF;
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_container_close(struct machine *m, int id)
{
	struct vfio_container *c;
	int ret;

	KFRAME("close_fd");
	mutex_lock(&m->vfio_lock);
	c = vfio_container_legacy(m->default_process, id);
	ret = c ? process_close_fd(m->default_process, c->file.fd) : -EBADF;
	mutex_unlock(&m->vfio_lock);
	return ret;
}
