// SPDX-License-Identifier: MIT
/*
 * The legacy VFIO group file: open, status, container set/unset, device
 * files. Counterpart of drivers/vfio/group.c.
 */
#include <string.h>

#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

void vfio_group_detach_container(struct vfio_group *group);
int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group);
int vfio_container_from_fd(struct process *p, int fd,
			   struct vfio_container **ret);
struct vfio_container *vfio_container_legacy(struct process *p, int id);

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

/* vfio.h: the live group's file, else a lingering one's (-EBADF: none). */
struct vfio_group *vfio_group_file(struct process *p, int id)
{
	struct vfio_group *group = vfio_group_by_id(p->m, id);

	if (group && group->file.owner == p)
		return group;
	/* the rare case: only a lingering file of that number may be open */
	list_for_each_entry(group, &p->m->vfio_groups, node) {
		if (vfio_group_has_id(group, id) && group->file.owner == p &&
		    list_empty(&group->device_list))
			return group;
	}
	return NULL;
}

/* The group file open as @fd in @p: -EBADF, -ENOTTY another file. */
static int vfio_group_from_fd(struct process *p, int fd,
			      struct vfio_group **ret)
{
	struct file *file;
	int ret_err = vfio_file_get(p, fd, FILE_VFIO_GROUP, &file);

	if (!ret_err)
		*ret = container_of(file, struct vfio_group, file);
	return ret_err;
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
	if (!group->opened || group->file.owner ||
	    (group->container && group->container_users > 1))
		return;
	if (group->container)
		vfio_group_detach_container(group);
	group->opened = false;
	vfio_group_free_if_orphan(group);
}

static void vfio_group_fops_release(struct file *file, struct process *owner)
{
	(void)owner;
	vfio_group_file_put(container_of(file, struct vfio_group, file));
}

static void vfio_group_fops_serialize(const struct file *file,
				      struct sbuf *sb, struct ptrmap *ids)
{
	const struct vfio_group *group =
		container_of(file, struct vfio_group, file);

	sbuf_printf(sb, "group %s%d #%d\n", group->noiommu ? "noiommu-" : "",
		    group->id, canon_id(ids, group));
}

static const struct file_operations vfio_group_fops = {
	.release = vfio_group_fops_release,
	.serialize = vfio_group_fops_serialize,
};

int vfio_group_fd_open(struct process *p, int id)
{
	struct machine *m = p->m;
	struct vfio_group *group;
	int fd;

	KFRAME("vfio_group_fops_open");
	mutex_lock(&m->vfio_lock);
	/* open(2) takes the descriptor before it looks the path up */
	fd = get_unused_fd(p);
	if (fd < 0)
		goto out_unlock;
	group = vfio_group_by_id(m, id);
	if (!group) {
		put_unused_fd(p, fd);
		fd = -ENOENT;
		goto out_unlock;
	}
	/*
	 * vfio_group_fops_open(): a device bound through its cdev keeps the
	 * file closed (an open cdev not bound yet does not), and the file has
	 * one opener at a time, whichever process
	 */
	if (group->cdev_device_open_cnt || group->opened) {
		put_unused_fd(p, fd);
		fd = -EBUSY;
		goto out_unlock;
	}
	group->opened = true;
	group->file.kind = FILE_VFIO_GROUP;
	group->file.f_op = &vfio_group_fops;
	fd_install(p, fd, &group->file);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return fd;
}

int vfio_group_open(struct machine *m, int id)
{
	int fd = vfio_group_fd_open(m->default_process, id);

	return fd < 0 ? fd : 0;
}

int vfio_group_close(struct machine *m, int id)
{
	struct vfio_group *group;
	int ret;

	KFRAME("close_fd");
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m->default_process, id);
	/* close(2) cannot fail: open device files keep the file meanwhile */
	ret = group ? process_close_fd(m->default_process, group->file.fd) :
		      -EBADF;
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/*
 * Each group ioctl has two ways in: a descriptor of any process, or, for
 * the legacy calls, a group number whose file the default process holds.
 * Both find the group under vfio_lock and run the same body.
 */
static int vfio_group_get(struct process *p, int fd, int legacy_id,
			  bool legacy, struct vfio_group **ret)
{
	if (!legacy)
		return vfio_group_from_fd(p, fd, ret);
	*ret = vfio_group_file(p, legacy_id);
	return *ret ? 0 : -EBADF;
}

/* VFIO_GROUP_GET_STATUS: vfio_group_ioctl_get_status(). */
static int vfio_group_get_status_locked(struct vfio_group *group,
					unsigned int *ret_flags)
{
	unsigned int flags = 0;

	if (list_empty(&group->device_list))
		return -ENODEV;
	if (group->container)
		flags |= VFIO_GROUP_FLAGS_CONTAINER_SET |
			 VFIO_GROUP_FLAGS_VIABLE;
	else if (group->noiommu ||
		 !iommu_group_dma_owner_claimed(group->iommu_group))
		flags |= VFIO_GROUP_FLAGS_VIABLE;
	*ret_flags = flags;
	return 0;
}

static int vfio_group_status(struct process *p, int fd, int id, bool legacy,
			     unsigned int *ret_flags)
{
	struct vfio_group *group;
	int ret;

	KFRAME("vfio_group_ioctl_get_status");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_group_get(p, fd, id, legacy, &group);
	if (!ret)
		ret = vfio_group_get_status_locked(group, ret_flags);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_ioctl_group_get_status(struct process *p, int fd,
				unsigned int *ret_flags)
{
	return vfio_group_status(p, fd, 0, false, ret_flags);
}

int vfio_group_get_status(struct machine *m, int id, unsigned int *ret_flags)
{
	return vfio_group_status(m->default_process, -1, id, true, ret_flags);
}

/*
 * VFIO_GROUP_SET_CONTAINER: vfio_group_ioctl_set_container(). The
 * container's descriptor is looked up first (-EBADF), then the group's
 * state, then what that descriptor is (-EBADFD: not a container).
 */
static int vfio_group_set_container_locked(struct vfio_group *group,
					   struct process *p, int cfd,
					   struct vfio_container *legacy)
{
	struct vfio_container *container = legacy;

	if (!legacy && !process_file(p, cfd))
		return -EBADF;
	if (group->container)
		return -EINVAL;
	if (list_empty(&group->device_list))
		return -ENODEV;
	/*
	 * 6.2 taught vfio_group_ioctl_set_container() iommufd's compatibility
	 * container and gave a file that is neither -EBADFD; 6.1 returns
	 * -EINVAL for any file that is not a container.
	 */
	if (!legacy && vfio_container_from_fd(p, cfd, &container))
		return machine_kernel(group->m) == MACHINE_KERNEL_6_1 ?
			       -EINVAL : -EBADFD;
	return vfio_container_attach_group(container, group);
}

int vfio_ioctl_group_set_container(struct process *p, int fd, int cfd)
{
	struct vfio_group *group;
	int ret;

	KFRAME("vfio_group_ioctl_set_container");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_group_from_fd(p, fd, &group);
	if (!ret)
		ret = vfio_group_set_container_locked(group, p, cfd, NULL);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_group_set_container(struct machine *m, int id, int container_id)
{
	struct process *p = m->default_process;
	struct vfio_container *container;
	struct vfio_group *group;
	int ret = -EBADF;

	KFRAME("vfio_group_ioctl_set_container");
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(p, id);
	container = vfio_container_legacy(p, container_id);
	if (group && container)
		ret = vfio_group_set_container_locked(group, p, -1, container);
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/* VFIO_GROUP_UNSET_CONTAINER: vfio_group_ioctl_unset_container(). */
static int vfio_group_unset_container_locked(struct vfio_group *group)
{
	if (!group->container)
		return -EINVAL;
	if (group->container_users != 1)
		return -EBUSY;
	vfio_group_detach_container(group);
	return 0;
}

static int vfio_group_unset(struct process *p, int fd, int id, bool legacy)
{
	struct vfio_group *group;
	int ret;

	KFRAME("vfio_group_ioctl_unset_container");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_group_get(p, fd, id, legacy, &group);
	if (!ret)
		ret = vfio_group_unset_container_locked(group);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_ioctl_group_unset_container(struct process *p, int fd)
{
	return vfio_group_unset(p, fd, 0, false);
}

int vfio_group_unset_container(struct machine *m, int id)
{
	return vfio_group_unset(m->default_process, -1, id, true);
}

/*
 * vfio_device_get_from_name(): the device of @group that @buf names, as
 * its driver's match op reads it (vfio-pci's takes "NAME vf_token=UUID"
 * and checks the token: -EINVAL, -EACCES), else by its name; -ENODEV for
 * none.
 */
static struct vfio_device *vfio_device_get_from_name(struct vfio_group *group,
						     const char *buf)
{
	char name[DEVICE_NAME_MAX];
	size_t len = strcspn(buf, " ");
	struct vfio_device *vdev;
	int ret;

	if (len >= sizeof(name))
		return ERR_PTR(-ENODEV);
	memcpy(name, buf, len);
	name[len] = '\0';
	vdev = vfio_device_by_name(group->m, name);
	if (!vdev || vdev->group != group)
		return ERR_PTR(-ENODEV);
	if (vdev->dev->driver->desc->probe == PROBE_VFIO_PCI)
		ret = vfio_pci_core_match(vdev, buf);
	else
		ret = !strcmp(name, buf);
	if (ret < 0)
		return ERR_PTR(ret);
	return ret ? vdev : ERR_PTR(-ENODEV);
}

/*
 * VFIO_GROUP_GET_DEVICE_FD: vfio_group_ioctl_get_device_fd() finds the
 * device (-ENODEV), takes a descriptor (-EMFILE), then opens a new file of
 * the device (vfio_df_group_open()). Returns the descriptor.
 */
static int vfio_group_get_device_fd_locked(struct process *p,
					   struct vfio_group *group,
					   const char *dev_name)
{
	struct vfio_device_file *df;
	struct vfio_device *vdev;
	int fd;

	vdev = vfio_device_get_from_name(group, dev_name);
	if (IS_ERR(vdev))
		return (int)PTR_ERR(vdev);
	fd = get_unused_fd(p);
	if (fd < 0)
		return fd;
	/* vfio_df_group_open(): a container or iommufd is set */
	if (!group->container) {
		put_unused_fd(p, fd);
		return -EINVAL;
	}
	/*
	 * vfio_df_open(): the group path may open a device any number of
	 * times; only the first open uses the container
	 * (vfio_group_use_container(): its IOMMU must be set), and holds the
	 * group file until the last device file is closed. A cdev open but
	 * not bound does not count: it has no access yet.
	 */
	if (!vdev->open_count && !group->container->iommu_type) {
		put_unused_fd(p, fd);
		return -EINVAL;
	}
	/* vfio_df_device_first_open(): the driver's module first */
	if (!vdev->open_count) {
		int ret = vfio_df_device_first_open(vdev);

		if (ret) {
			put_unused_fd(p, fd);
			return ret;
		}
	}
	df = vfio_allocate_device_file(vdev, true);
	if (!df) {
		if (!vdev->open_count)
			vfio_df_device_last_close(vdev);
		put_unused_fd(p, fd);
		return -ENOMEM;
	}
	if (!vdev->open_count) {
		group->container_users++;
		vfio_pci_core_open_count(vdev, true);
	}
	vdev->open_count++;
	df->access_granted = true;
	fd_install(p, fd, &df->file);
	/*
	 * vfio_device_open_file(): every open of a no-IOMMU device is logged
	 * with current->comm and task_pid_nr(current), the task's as WARN
	 * reports give them (PID 1 if none was set).
	 */
	if (group->noiommu)
		dev_warn(vdev->dev, "vfio-noiommu device opened by user (%s:%d)",
			 kcompat_stack.comm,
			 kcompat_stack.pid ? kcompat_stack.pid : 1);
	return fd;
}

int vfio_ioctl_group_get_device_fd(struct process *p, int fd,
				   const char *dev_name)
{
	struct vfio_group *group;
	int ret;

	KFRAME("vfio_group_ioctl_get_device_fd");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_group_from_fd(p, fd, &group);
	if (!ret)
		ret = vfio_group_get_device_fd_locked(p, group, dev_name);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_group_get_device_fd(struct machine *m, int id, const char *dev_name)
{
	struct vfio_group *group;
	int ret;

	KFRAME("vfio_group_ioctl_get_device_fd");
	mutex_lock(&m->vfio_lock);
	group = vfio_group_file(m->default_process, id);
	ret = group ? vfio_group_get_device_fd_locked(m->default_process,
						       group, dev_name) :
		      -EBADF;
	mutex_unlock(&m->vfio_lock);
	return ret < 0 ? ret : 0;
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

/*
 * vfio_df_group_close(): a file through the group closes; the device's
 * last lets the container and the group file go.
 */
void vfio_df_group_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;

	if (--vdev->open_count)
		return;
	vdev->req_trigger = false; /* vfio_pci_core_close_device() */
	vfio_pci_core_open_count(vdev, false);
	vdev->group->container_users--;
	vfio_group_file_put(vdev->group);
	vfio_df_device_last_close(vdev); /* module_put() last */
}

/*
 * vfio_device_fops_cdev_open(): a new file of the device, which checks
 * nothing else: an open group file only stops the bind
 * (vfio_device_block_group()), and any number of processes may open the
 * cdev; one file binds.
 */
int vfio_cdev_fd_open(struct process *p, const char *dev_name)
{
	struct machine *m = p->m;
	struct vfio_device_file *df;
	struct vfio_device *vdev;
	int fd;

	KFRAME("vfio_device_fops_cdev_open");
	mutex_lock(&m->vfio_lock);
	/* open(2) takes the descriptor before it looks the path up */
	fd = get_unused_fd(p);
	if (fd < 0)
		goto out_unlock;
	/*
	 * The cdev (drivers/vfio/device_cdev.c, /dev/vfio/devices/vfioN)
	 * came in 6.6: 6.1's vfio_main.c registers no device class, so the
	 * node is not there.
	 */
	if (machine_kernel(m) == MACHINE_KERNEL_6_1) {
		put_unused_fd(p, fd);
		fd = -ENOENT;
		goto out_unlock;
	}
	vdev = vfio_device_by_name(m, dev_name);
	df = vdev && !vdev->group->noiommu ?
		     vfio_allocate_device_file(vdev, false) : NULL;
	if (!df) {
		put_unused_fd(p, fd);
		fd = vdev && !vdev->group->noiommu ? -ENOMEM : -ENODEV;
		goto out_unlock;
	}
	fd_install(p, fd, &df->file);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return fd;
}

int vfio_device_cdev_open(struct machine *m, const char *dev_name)
{
	int fd = vfio_cdev_fd_open(m->default_process, dev_name);

	return fd < 0 ? fd : 0;
}

/* The number the verbs name a group file by: noiommu-N is -1 - N. */
int vfio_group_container(struct machine *m, int id)
{
	struct vfio_group *group, *pos;
	int container = -1;

	mutex_lock(&m->vfio_lock);
	group = vfio_group_by_id(m, id);
	if (!group)	/* a lingering group's: the rare walk */
		list_for_each_entry(pos, &m->vfio_groups, node)
			if (vfio_group_has_id(pos, id) && pos->container)
				group = pos;
	/* -1 as well when the container's file is closed */
	if (group && group->container)
		container = group->container->id;
	mutex_unlock(&m->vfio_lock);
	return container;
}

bool vfio_group_exists(struct machine *m, int id)
{
	bool found;

	mutex_lock(&m->vfio_lock);
	found = vfio_group_by_id(m, id) != NULL;
	mutex_unlock(&m->vfio_lock);
	return found;
}
