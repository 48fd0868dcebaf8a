// SPDX-License-Identifier: MIT
/*
 * The legacy VFIO group file: open, status, container set/unset, device
 * files. Counterpart of drivers/vfio/group.c.
 */
#include <string.h>

#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

struct vfio_device *vfio_device_by_name(struct machine *m, const char *name);
int vfio_device_close_locked(struct vfio_device *vdev);
void vfio_group_detach_container(struct vfio_group *group);
int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group);
struct vfio_container *vfio_container_by_id(struct machine *m, int id);
void iommufd_device_unbind_locked(struct vfio_device *vdev);

static bool vfio_group_has_id(const struct vfio_group *group, int id)
{
	/* no-IOMMU groups are named by negative numbers: -1 is noiommu-0 */
	return (group->noiommu ? -1 - group->id : group->id) == id;
}

/*
 * The group behind /dev/vfio/@id, or NULL. A group whose last device went
 * away while its file was open lingers until that file is closed; a device
 * bound to vfio meanwhile makes a new group of the same number, and the
 * node opens that one, as the kernel's new cdev does.
 */
static struct vfio_group *vfio_group_by_id(struct machine *m, int id)
{
	struct iommu_group *iommu_group;
	struct vfio_group *group;

	/*
	 * A live group has its IOMMU group (no-IOMMU groups too), which
	 * points back at it: no walk over every vfio group.
	 */
	if (id < -1 - MACHINE_GROUP_ID_MAX || id >= MACHINE_GROUP_ID_MAX)
		return NULL;
	mutex_lock(&m->obj_lock);
	iommu_group = iommu_group_by_id_locked(m, id >= 0 ? id : -1 - id);
	group = iommu_group ? iommu_group->vfio_group : NULL;
	mutex_unlock(&m->obj_lock);
	if (group && vfio_group_has_id(group, id) &&
	    !list_empty(&group->device_list))
		return group;
	return NULL;
}

/*
 * The group file open as /dev/vfio/@id, or NULL (-EBADF): the live group's
 * file first, else a lingering one of the same number.
 */
static struct vfio_group *vfio_group_file(struct machine *m, int id)
{
	struct vfio_group *group = vfio_group_by_id(m, id);

	if (group && group->fd_open)
		return group;
	/* the rare case: only a lingering file of that number may be open */
	list_for_each_entry(group, &m->vfio_groups, node) {
		if (vfio_group_has_id(group, id) && group->fd_open &&
		    list_empty(&group->device_list))
			return group;
	}
	return NULL;
}

/* A group whose last device went away while the file was open. */
static void vfio_group_free_if_orphan(struct vfio_group *group)
{
	if (!group->opened && list_empty(&group->device_list)) {
		list_del(&group->node);
		kfree(group);
	}
}

/*
 * vfio_group_fops_release(), run when the group file's last reference
 * goes: its descriptor is closed and no device opened through it is open
 * (vfio_group_use_container() holds the file for each). A container still
 * set is detached, which gives the IOMMU group back.
 */
static void vfio_group_file_put(struct vfio_group *group)
{
	if (!group->opened || group->fd_open ||
	    (group->container && group->container_users > 1))
		return;
	if (group->container)
		vfio_group_detach_container(group);
	group->opened = false;
	vfio_group_free_if_orphan(group);
}

int vfio_group_open(struct machine *m, int id)
{
	struct vfio_group *group;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	/* open(2) takes the descriptor before it looks the path up */
	ret = vfio_fd_get(m);
	if (ret)
		goto out_unlock;
	group = vfio_group_by_id(m, id);
	if (!group) {
		ret = -ENOENT;
		goto err_put_fd;
	}
	/*
	 * vfio_group_fops_open(): a device bound through its cdev keeps the
	 * file closed (an open cdev not bound yet does not), and the file has
	 * one opener at a time
	 */
	if (group->cdev_device_open_cnt || group->opened) {
		ret = -EBUSY;
		goto err_put_fd;
	}
	group->opened = true;
	group->fd_open = true;
	goto out_unlock;

err_put_fd:
	vfio_fd_put(m);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_group_close(struct machine *m, int id)
{
	struct vfio_group *group;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m, id);
	if (!group) {
		ret = -EBADF;
		goto out_unlock;
	}
	/* close(2) cannot fail: open device files keep the file meanwhile */
	group->fd_open = false;
	vfio_fd_put(m);
	vfio_group_file_put(group);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_group_get_status(struct machine *m, int id, unsigned int *ret_flags)
{
	struct vfio_group *group;
	unsigned int flags = 0;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m, id);
	if (!group) {
		ret = -EBADF;
		goto out_unlock;
	}
	if (list_empty(&group->device_list)) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (group->container)
		flags |= VFIO_GROUP_FLAGS_CONTAINER_SET |
			 VFIO_GROUP_FLAGS_VIABLE;
	else if (group->noiommu ||
		 !iommu_group_dma_owner_claimed(group->iommu_group))
		flags |= VFIO_GROUP_FLAGS_VIABLE;
	*ret_flags = flags;
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_group_set_container(struct machine *m, int id, int container_id)
{
	struct vfio_container *container;
	struct vfio_group *group;
	int ret;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m, id);
	container = vfio_container_by_id(m, container_id);
	if (!group || !container) {
		ret = -EBADF;
		goto out_unlock;
	}
	if (group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (list_empty(&group->device_list)) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = vfio_container_attach_group(container, group);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_group_unset_container(struct machine *m, int id)
{
	struct vfio_group *group;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m, id);
	if (!group) {
		ret = -EBADF;
		goto out_unlock;
	}
	if (!group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (group->container_users != 1) {
		ret = -EBUSY;
		goto out_unlock;
	}
	vfio_group_detach_container(group);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_group_get_device_fd(struct machine *m, int id, const char *dev_name)
{
	struct vfio_device *vdev;
	struct vfio_group *group;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m, id);
	if (!group) {
		ret = -EBADF;
		goto out_unlock;
	}
	vdev = vfio_device_by_name(m, dev_name);
	if (!vdev || vdev->group != group) {
		ret = -ENODEV;
		goto out_unlock;
	}
	/* get_unused_fd_flags(), then the open */
	ret = vfio_fd_get(m);
	if (ret)
		goto out_unlock;
	/* vfio_df_group_open(): a container or iommufd is set */
	if (!group->container) {
		ret = -EINVAL;
		goto err_put_fd;
	}
	/*
	 * A cdev open but not bound leaves the group file free; v6.6 would
	 * give the device a second file here, the model keeps one file per
	 * device (docs/architecture.md)
	 */
	if (vdev->open == VFIO_OPEN_CDEV) {
		ret = -EBUSY;
		goto err_put_fd;
	}
	/*
	 * vfio_df_open(): the group path may open a device any number of
	 * times; only the first open uses the container
	 * (vfio_group_use_container(): its IOMMU must be set), and holds the
	 * group file until the last device file is closed.
	 */
	if (!vdev->open_count) {
		if (!group->container->iommu_type) {
			ret = -EINVAL;
			goto err_put_fd;
		}
		vdev->open = VFIO_OPEN_GROUP;
		group->container_users++;
	}
	vdev->open_count++;
	/*
	 * vfio_device_open_file(): every open of a no-IOMMU device is logged
	 * with current->comm and task_pid_nr(current), the task's as WARN
	 * reports give them (PID 1 if none was set).
	 */
	if (group->noiommu)
		dev_warn(vdev->dev, "vfio-noiommu device opened by user (%s:%d)",
			 kcompat_stack.comm,
			 kcompat_stack.pid ? kcompat_stack.pid : 1);
	goto out_unlock;

err_put_fd:
	vfio_fd_put(m);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_device_block_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;

	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	if (group->opened)
		return -EBUSY;
	group->cdev_device_open_cnt++;
	return 0;
}

/**
 * vfio_device_unblock_group() - Undo vfio_device_block_group()
 * @vdev: the device whose cdev bind failed or is undone
 *
 * When the count drops to zero the group file can be opened again. Under
 * vfio_lock.
 */
void vfio_device_unblock_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;

	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	if (WARN_ON(vdev->m, !group->cdev_device_open_cnt))
		return;
	group->cdev_device_open_cnt--;
}

int vfio_device_close_locked(struct vfio_device *vdev)
{
	if (vdev->open != VFIO_CLOSED)
		vfio_fd_put(vdev->m);	/* one descriptor of the device */
	switch (vdev->open) {
	case VFIO_OPEN_GROUP:
		/* vfio_df_close(): the last device file lets the group go */
		if (--vdev->open_count)
			return 0;
		vdev->open = VFIO_CLOSED;
		vdev->req_trigger = false; /* vfio_pci_core_close_device() */
		vdev->group->container_users--;
		vfio_group_file_put(vdev->group);
		return 0;
	case VFIO_OPEN_CDEV:
		if (vdev->ictx)
			iommufd_device_unbind_locked(vdev);
		break;
	case VFIO_CLOSED:
	default:
		return -EBADF;
	}
	vdev->open = VFIO_CLOSED;
	vdev->req_trigger = false;
	return 0;
}

int vfio_device_close(struct machine *m, const char *dev_name)
{
	struct vfio_device *vdev;
	int ret;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	vdev = vfio_device_by_name(m, dev_name);
	ret = vdev ? vfio_device_close_locked(vdev) : -EBADF;
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_device_cdev_open(struct machine *m, const char *dev_name)
{
	struct vfio_device *vdev;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	/* open(2) takes the descriptor before it looks the path up */
	ret = vfio_fd_get(m);
	if (ret)
		goto out_unlock;
	vdev = vfio_device_by_name(m, dev_name);
	if (!vdev || vdev->group->noiommu) {
		ret = -ENODEV;
		goto err_put_fd;
	}
	/*
	 * vfio_device_fops_cdev_open() checks nothing else: an open group
	 * file only stops the bind (vfio_device_block_group()). The model
	 * keeps one file per device, so a device open already is -EBUSY
	 * (docs/architecture.md)
	 */
	if (vdev->open != VFIO_CLOSED) {
		ret = -EBUSY;
		goto err_put_fd;
	}
	vdev->open = VFIO_OPEN_CDEV;
	goto out_unlock;

err_put_fd:
	vfio_fd_put(m);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}
