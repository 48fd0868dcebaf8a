// SPDX-License-Identifier: MIT
/*
 * VFIO containers and the type1 IOMMU backend: a container holds groups;
 * VFIO_SET_IOMMU gives each an UNMANAGED domain. Counterpart of
 * drivers/vfio/container.c and drivers/vfio/vfio_iommu_type1.c.
 */
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

struct vfio_container *vfio_container_by_id(struct machine *m, int id);
int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group);
void vfio_group_detach_container(struct vfio_group *group);

struct vfio_container *vfio_container_by_id(struct machine *m, int id)
{
	struct vfio_container *c;

	list_for_each_entry(c, &m->vfio_containers, node)
		if (c->id == id)
			return c;
	return NULL;
}

int vfio_container_open(struct machine *m, int *ret_container)
{
	struct vfio_container *c;
	struct list_head *before;
	int id = 0, ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	/* the lowest free number, as file descriptors are given out */
	id = list_lowest_free_id(&m->vfio_containers, struct vfio_container, node, id, &before);
	if (id >= VFIO_FILES_MAX) {
		ret = -EMFILE;
		goto out_unlock;
	}
	c = kzalloc(m, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	c->m = m;
	c->id = id;
	INIT_LIST_HEAD(&c->group_list);
	list_add_tail(&c->node, before);
	*ret_container = id;
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/* vfio_iommu_type1_attach_group(): a user domain for the group */
static int vfio_iommu_type1_attach_group(struct vfio_group *group)
{
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
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}
	group->type1_domain = domain;
	return 0;
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
}

int vfio_container_set_iommu(struct machine *m, int id, int type)
{
	struct vfio_container *c;
	struct vfio_group *group, *undo;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	c = vfio_container_by_id(m, id);
	if (!c) {
		ret = -EBADF;
		goto out_unlock;
	}
	if (c->iommu_type) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (list_empty(&c->group_list) ||
	    (type == VFIO_NOIOMMU_IOMMU) != c->noiommu ||
	    (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU &&
	     type != VFIO_NOIOMMU_IOMMU)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	list_for_each_entry(group, &c->group_list, container_next) {
		ret = vfio_iommu_type1_attach_group(group);
		if (ret)
			goto err_undo;
	}
	c->iommu_type = type;
	goto out_unlock;

err_undo:
	list_for_each_entry(undo, &c->group_list, container_next) {
		if (undo == group)
			break;
		vfio_iommu_type1_detach_group(undo);
	}
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_container_close(struct machine *m, int id)
{
	struct vfio_container *c;
	struct vfio_group *group, *next;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	c = vfio_container_by_id(m, id);
	if (!c) {
		ret = -EBADF;
		goto out_unlock;
	}
	/*
	 * Groups hold the container open in the kernel; closing the last
	 * file of a container still in use leaves the groups attached. The
	 * model frees the container once it has no groups.
	 */
	if (!list_empty(&c->group_list)) {
		list_for_each_entry_safe(group, next, &c->group_list,
					 container_next) {
			if (group->container_users > 1) {
				ret = -EBUSY;
				goto out_unlock;
			}
		}
		list_for_each_entry_safe(group, next, &c->group_list,
					 container_next)
			vfio_group_detach_container(group);
	}
	list_del(&c->node);
	kfree(c);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}
