// SPDX-License-Identifier: MIT
/*
 * vfio-pci's hot reset: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and
 * VFIO_DEVICE_PCI_HOT_RESET. Counterpart of their part of
 * drivers/vfio/pci/vfio_pci_core.c (v6.6).
 *
 * A hot reset is a secondary bus reset by the bridge above the device: it
 * resets every device on that bus and on the buses below it
 * (vfio_pci_for_each_slot_or_bus(); the model has no hot-plug slots, so
 * never a slot reset). vfio-pci puts its devices of one bus in one device
 * set (vfio_assign_device_set() with the bus as key; a device on a root
 * bus alone, but a root bus cannot be reset), and lets userspace reset the
 * bus only when every device the reset reaches is in that set, so bound to
 * vfio-pci, and owned by the caller: its group file passed in, or, for a
 * device bound to an iommufd through its cdev, bound to that iommufd or in
 * a group some device bound to it holds. The model keeps no device state
 * a reset changes: a hot reset that is allowed changes nothing.
 *
 * Locking: vfio_lock (the kernel's dev_set->lock and group locks); the PCI
 * topology is read through drivers/pci's helpers, under obj_lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"


static bool vfio_pci_is_core(const struct device *dev)
{
	return dev->driver && dev->driver->desc->probe == PROBE_VFIO_PCI;
}

/*
 * The ioctl's way in (vfio_device_fops_unl_ioctl()): a file of the device
 * must be open (as @fd in @p, or for the legacy calls, @dev_name's newest
 * file in the default process), have access granted (a cdev gets it when
 * it binds), and its driver must know the ioctl. Under vfio_lock.
 */
static int vfio_pci_ioctl_device(struct process *p, int fd,
				 const char *dev_name,
				 struct vfio_device **ret_vdev)
{
	struct vfio_device_file *df = NULL;
	struct file *file;
	int ret;

	if (dev_name) {
		struct vfio_device *vdev = vfio_device_by_name(p->m, dev_name);

		if (vdev)
			df = vfio_device_file_of(vdev, p, false);
		if (!df)
			return -EBADF;
	} else {
		ret = vfio_file_get(p, fd, FILE_VFIO_DEVICE, &file);
		if (ret)
			return ret;
		df = container_of(file, struct vfio_device_file, file);
	}
	if (!df->access_granted)
		return -EINVAL;
	if (!vfio_pci_is_core(df->device->dev))
		return -ENOTTY;	/* vfio-platform and the others */
	*ret_vdev = df->device;
	return 0;
}

/*
 * Both ioctls first find the reset they would use: the device's slot's,
 * which the model never has, else its bus's; with neither, -ENODEV.
 */
static int vfio_pci_probe_reset(struct device *pdev)
{
	if (!pci_probe_reset_slot(pdev))
		return 0;
	return pci_probe_reset_bus(pdev) ? -ENODEV : 0;
}

/* The vfio device bound to @dev, or NULL. Under vfio_lock. */
static struct vfio_device *vfio_pci_find(struct machine *m,
					 struct device *dev)
{
	struct vfio_device *vdev = vfio_device_by_name(m, dev_name(dev));

	return vdev && vdev->dev == dev ? vdev : NULL;
}

/*
 * vfio_find_device_in_devset(): @dev is a vfio-pci device of the device
 * set of @caller, the one of its bus. Under vfio_lock.
 */
static struct vfio_device *vfio_pci_in_dev_set(struct machine *m,
					       struct device *dev,
					       const struct device *caller)
{
	struct vfio_device *vdev;

	if (!pci_dev_same_bus(dev, caller) || !vfio_pci_is_core(dev))
		return NULL;
	vdev = vfio_pci_find(m, dev);
	return vdev;
}

/*
 * vfio_iommufd_get_dev_id(): > 0 bound to @ictx (the model reports 1);
 * -ENOENT not bound to it, but its group holds a device that is
 * (iommufd_ctx_has_group()); -ENODEV otherwise. Under vfio_lock.
 *
 * The kernel's iommufd_ctx_has_group() walks the context's objects; the
 * model asks the group's own members instead (the same answer: a device
 * bound to @ictx in @group is a member bound to it), so the cost is the
 * group's size, not the machine's number of vfio devices.
 */
static int vfio_iommufd_get_dev_id(struct machine *m,
				   const struct vfio_device *vdev,
				   const struct iommufd_ctx *ictx)
{
	struct iommu_group *group = READ_ONCE(vdev->dev->iommu_group);
	struct group_device *gdev;
	int ret = -ENODEV;

	if (vdev->ictx == ictx)
		return 1;
	if (!group)
		return -ENODEV;
	/* a group's member list changes under obj_lock too (a leaf) */
	mutex_lock(&m->obj_lock);
	for_each_group_device(group, gdev) {
		struct vfio_device *pos = vfio_pci_find(m, gdev->dev);

		if (pos && pos->ictx == ictx) {
			ret = -ENOENT;
			break;
		}
	}
	mutex_unlock(&m->obj_lock);
	return ret;
}

static int vfio_pci_hot_reset_info(struct process *p, int fd,
				   const char *name, unsigned int *ret_flags,
				   struct vfio_pci_dependent_device **ret_devices,
				   size_t *ret_n)
{
	struct machine *m = p->m;
	struct vfio_pci_dependent_device *info = NULL;
	struct vfio_device *vdev;
	struct device **devs = NULL;
	unsigned int flags = 0;
	size_t n = 0;
	int ret;

	KFRAME("vfio_pci_ioctl_get_pci_hot_reset_info");
	mutex_lock(&m->vfio_lock);
	ret = vfio_pci_ioctl_device(p, fd, name, &vdev);
	if (ret)
		goto out_unlock;
	ret = vfio_pci_probe_reset(vdev->dev);
	if (ret)
		goto out_unlock;
	devs = pci_walk_bus_get(vdev->dev, &n);
	info = devs ? kzalloc(m, n * sizeof(*info)) : NULL;
	if (!info) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (vfio_device_cdev_opened(vdev))
		flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	/* vfio_pci_fill_devs() for each */
	for (size_t i = 0; i < n; i++) {
		struct vfio_pci_dependent_device *d = &info[i];

		snprintf(d->name, sizeof(d->name), "%s", dev_name(devs[i]));
		if (flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) {
			struct vfio_device *dep =
				vfio_pci_in_dev_set(m, devs[i], vdev->dev);
			int id = dep ? vfio_iommufd_get_dev_id(m, dep,
							       vdev->ictx) :
				       -ENODEV;

			d->devid = id > 0 ? VFIO_PCI_DEVID_BOUND :
				   id == -ENOENT ? VFIO_PCI_DEVID_OWNED :
						   VFIO_PCI_DEVID_NOT_OWNED;
			if (d->devid == VFIO_PCI_DEVID_NOT_OWNED)
				flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
		} else {
			struct iommu_group *group = iommu_group_get(devs[i]);

			/* a device outside any group is not isolated */
			if (!group) {
				ret = -EPERM;
				goto out_put;
			}
			d->group_id = iommu_group_id(group);
			iommu_group_put(group);
		}
	}
	*ret_flags = flags;
	*ret_devices = info;
	*ret_n = n;
	info = NULL;
out_put:
	kfree(info);
	devices_put(devs, n);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_pci_get_hot_reset_info(struct machine *m, const char *name,
				unsigned int *ret_flags,
				struct vfio_pci_dependent_device **ret_devices,
				size_t *ret_n)
{
	return vfio_pci_hot_reset_info(m->default_process, -1, name, ret_flags,
				       ret_devices, ret_n);
}

int vfio_ioctl_pci_hot_reset_info(struct process *p, int fd,
				  unsigned int *ret_flags,
				  struct vfio_pci_dependent_device **ret_devices,
				  size_t *ret_n)
{
	return vfio_pci_hot_reset_info(p, fd, NULL, ret_flags, ret_devices,
				       ret_n);
}

/* vfio_dev_in_groups(): one of the group files given is @vdev's group's. */
static bool vfio_dev_in_groups(const struct vfio_device *vdev,
			       struct vfio_group *const *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == vdev->group)
			return true;
	return false;
}

/*
 * vfio_pci_dev_set_hot_reset(): every device the reset reaches must be in
 * the device set (vfio_pci_dev_set_resettable()), and every device of the
 * set owned: in one of @groups, or, with @ictx, bound to it or in a group
 * it holds. Then pci_reset_bus(). Under vfio_lock.
 */
static int vfio_pci_dev_set_hot_reset(struct machine *m,
				      struct vfio_device *vdev,
				      struct vfio_group *const *groups,
				      size_t ngroups,
				      const struct iommufd_ctx *ictx)
{
	struct device **devs;
	size_t n;
	int ret = 0;

	devs = pci_walk_bus_get(vdev->dev, &n);
	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; i < n && !ret; i++)
		if (!vfio_pci_in_dev_set(m, devs[i], vdev->dev))
			ret = -EINVAL;	/* not resettable */
	for (size_t i = 0; i < n && !ret; i++) {
		struct vfio_device *dep =
			vfio_pci_in_dev_set(m, devs[i], vdev->dev);
		bool owned;

		if (ictx) {
			int devid = vfio_iommufd_get_dev_id(m, dep, ictx);

			owned = devid > 0 || devid == -ENOENT;
		} else {
			owned = vfio_dev_in_groups(dep, groups, ngroups);
		}
		if (!owned)
			ret = -EINVAL;
	}
	/* pci_reset_bus(): nothing the model keeps changes */
	devices_put(devs, n);
	return ret;
}

/*
 * The group file a hot reset names: a descriptor of @p (-EBADF not open,
 * -EINVAL not a group file), or, for the legacy calls, a group number
 * whose file @p holds (-EBADF).
 */
static int vfio_pci_group_arg(struct process *p, int arg, bool legacy,
			      struct vfio_group **ret)
{
	struct file *file;

	if (legacy) {
		*ret = vfio_group_file(p, arg);
		return *ret ? 0 : -EBADF;
	}
	file = process_file(p, arg);
	if (!file)
		return -EBADF;
	if (file->kind != FILE_VFIO_GROUP)
		return -EINVAL;
	*ret = container_of(file, struct vfio_group, file);
	return 0;
}

/*
 * vfio_pci_ioctl_pci_hot_reset_groups(): at most as many group files as
 * devices affected, each an open group file. Under vfio_lock.
 */
static int vfio_pci_hot_reset_groups(struct process *p,
				     struct vfio_device *vdev,
				     const int *ids, size_t nids, bool legacy)
{
	struct machine *m = p->m;
	struct vfio_group **groups;
	struct device **devs;
	size_t count;
	int ret = 0;

	devs = pci_walk_bus_get(vdev->dev, &count);
	if (!devs)
		return -ENOMEM;
	devices_put(devs, count);
	if (nids > count)
		return -EINVAL;
	groups = kzalloc(m, nids * sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	for (size_t i = 0; i < nids && !ret; i++)
		ret = vfio_pci_group_arg(p, ids[i], legacy, &groups[i]);
	if (!ret)
		ret = vfio_pci_dev_set_hot_reset(m, vdev, groups, nids, NULL);
	kfree(groups);
	return ret;
}

static int vfio_pci_do_hot_reset(struct process *p, int fd,
				 const char *dev_name, const int *groups,
				 size_t ngroups)
{
	struct machine *m = p->m;
	struct vfio_device *vdev;
	int ret;

	KFRAME("vfio_pci_ioctl_pci_hot_reset");
	mutex_lock(&m->vfio_lock);
	ret = vfio_pci_ioctl_device(p, fd, dev_name, &vdev);
	if (ret)
		goto out_unlock;
	/* group files through a group's device, none through a bound cdev */
	if (!!ngroups == vfio_device_cdev_opened(vdev)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = vfio_pci_probe_reset(vdev->dev);
	if (ret)
		goto out_unlock;
	if (ngroups)
		ret = vfio_pci_hot_reset_groups(p, vdev, groups, ngroups,
						dev_name != NULL);
	else
		ret = vfio_pci_dev_set_hot_reset(m, vdev, NULL, 0, vdev->ictx);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int vfio_pci_hot_reset(struct machine *m, const char *dev_name,
		       const int *groups, size_t ngroups)
{
	return vfio_pci_do_hot_reset(m->default_process, -1, dev_name, groups,
				     ngroups);
}

int vfio_ioctl_pci_hot_reset(struct process *p, int fd, const int *group_fds,
			     size_t ngroups)
{
	return vfio_pci_do_hot_reset(p, fd, NULL, group_fds, ngroups);
}

/* ---- SR-IOV: the VF token (vfio_pci_core.c, v6.6) ---- */

/*
 * uuid_parse(): 8-4-4-4-12 hex digits, into lowercase; -EINVAL otherwise.
 */
static int uuid_parse(const char *s, char out[37])
{
	for (int i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -EINVAL;
			out[i] = c;
			continue;
		}
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EINVAL;
		out[i] = c;
	}
	out[36] = '\0';
	return 0;
}

/*
 * vfio_pci_vf_init() at vfio-pci's probe: a PF gets a fresh VF token (a
 * random UUID, so none that userspace knows), a VF learns whether its PF
 * enabled SR-IOV through vfio-pci (then opening it needs the token).
 */
void vfio_pci_vf_init(struct device *dev)
{
	if (dev->sriov.is_virtfn) {
		dev->sriov.vfio_pf_found = dev->sriov.physfn->sriov.vfio_pf;
		return;
	}
	if (!dev->sriov.is_physfn)
		return;
	dev->sriov.vf_token_set = false;
	dev->sriov.vf_token_users = 0;
}

/* The PF has a VF token: vfio-pci drives it (vdev->vf_token). */
static bool vfio_pci_has_vf_token(const struct device *dev)
{
	return dev->sriov.is_physfn && vfio_pci_is_core(dev);
}

static bool vf_token_equal(const struct device *pf, const char *uuid)
{
	return pf->sriov.vf_token_set && !strcmp(pf->sriov.vf_token, uuid);
}

/*
 * vfio_pci_validate_vf_token(): a VF whose PF is on vfio-pci opens only
 * with the PF's token; a PF whose VFs are open only with that token, and
 * a token given for a PF whose VFs are not open becomes its token.
 */
static int vfio_pci_validate_vf_token(struct vfio_device *vdev,
				      bool vf_token, const char *uuid)
{
	struct device *dev = vdev->dev;

	if (dev->sriov.is_virtfn) {
		struct device *pf = dev->sriov.physfn;

		if (!dev->sriov.vfio_pf_found) {
			if (!vf_token)
				return 0; /* PF is not vfio-pci, no VF token */
			dev_info(dev, "VF token incorrectly provided, PF not bound to vfio-pci");
			return -EINVAL;
		}
		if (!vf_token) {
			dev_info(dev, "VF token required to access device");
			return -EACCES;
		}
		if (!vf_token_equal(pf, uuid)) {
			dev_info(dev, "Incorrect VF token provided for device");
			return -EACCES;
		}
	} else if (vfio_pci_has_vf_token(dev)) {
		if (dev->sriov.vf_token_users) {
			if (!vf_token) {
				dev_info(dev, "VF token required to access device");
				return -EACCES;
			}
			if (!vf_token_equal(dev, uuid)) {
				dev_info(dev, "Incorrect VF token provided for device");
				return -EACCES;
			}
		} else if (vf_token) {
			memcpy(dev->sriov.vf_token, uuid, 37);
			dev->sriov.vf_token_set = true;
		}
	} else if (vf_token) {
		dev_info(dev, "VF token incorrectly provided, not a PF or VF");
		return -EINVAL;
	}
	return 0;
}

#define VF_TOKEN_ARG "vf_token="
#define UUID_STRING_LEN 36

int vfio_pci_core_match(struct vfio_device *vdev, const char *buf)
{
	const char *name = dev_name(vdev->dev);
	size_t len = strlen(name);
	bool vf_token = false;
	char uuid[37] = "";

	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	if (strncmp(name, buf, len))
		return 0; /* No match */
	if (strlen(buf) > len) {
		buf += len;
		if (*buf != ' ')
			return 0; /* No match: non-whitespace after name */
		while (*buf) {
			if (*buf == ' ') {
				buf++;
				continue;
			}
			if (!vf_token &&
			    !strncmp(buf, VF_TOKEN_ARG, strlen(VF_TOKEN_ARG))) {
				buf += strlen(VF_TOKEN_ARG);
				if (strlen(buf) < UUID_STRING_LEN ||
				    uuid_parse(buf, uuid))
					return -EINVAL;
				vf_token = true;
				buf += UUID_STRING_LEN;
			} else {
				/* Unknown/duplicate option */
				return -EINVAL;
			}
		}
	}
	return vfio_pci_validate_vf_token(vdev, vf_token, uuid) ?: 1;
}

/*
 * vfio_pci_core_finish_enable() and vfio_pci_core_close_device(): a VF's
 * first open and last close count against its PF's token.
 */
void vfio_pci_core_open_count(struct vfio_device *vdev, bool open)
{
	struct device *dev = vdev->dev;
	struct device *pf = dev->sriov.physfn;

	lockdep_assert_held(vdev->m, &vdev->m->vfio_lock);
	if (!vfio_pci_is_core(dev) || !dev->sriov.is_virtfn ||
	    !dev->sriov.vfio_pf_found)
		return;
	if (open)
		pf->sriov.vf_token_users++;
	else if (!WARN_ON(vdev->m, !pf->sriov.vf_token_users))
		pf->sriov.vf_token_users--;
}

/*
 * VFIO_DEVICE_FEATURE with VFIO_DEVICE_FEATURE_SET |
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: vfio_pci_core_feature_token() sets the
 * PF's token (there is no GET: it would give away the last user's).
 */
static int vfio_pci_core_feature_token(struct vfio_device *vdev,
				       const char *uuid_str)
{
	char uuid[37];

	if (!vfio_pci_has_vf_token(vdev->dev))
		return -ENOTTY;
	if (strlen(uuid_str) != UUID_STRING_LEN || uuid_parse(uuid_str, uuid))
		return -EINVAL;
	memcpy(vdev->dev->sriov.vf_token, uuid, sizeof(uuid));
	vdev->dev->sriov.vf_token_set = true;
	return 0;
}

int vfio_ioctl_pci_vf_token(struct process *p, int fd, const char *uuid)
{
	struct vfio_device *vdev;
	int ret;

	KFRAME("vfio_pci_core_feature_token");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_pci_ioctl_device(p, fd, NULL, &vdev);
	if (!ret)
		ret = vfio_pci_core_feature_token(vdev, uuid);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_pci_set_vf_token(struct machine *m, const char *dev_name,
			  const char *uuid)
{
	struct vfio_device *vdev;
	int ret;

	KFRAME("vfio_pci_core_feature_token");
	mutex_lock(&m->vfio_lock);
	ret = vfio_pci_ioctl_device(m->default_process, -1, dev_name, &vdev);
	if (!ret)
		ret = vfio_pci_core_feature_token(vdev, uuid);
	mutex_unlock(&m->vfio_lock);
	return ret;
}
