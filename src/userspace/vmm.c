// SPDX-License-Identifier: MIT
/*
 * A VMM's use of the VFIO verbs, with the messages QEMU prints. This is
 * userspace, not a kernel counterpart: it only calls the public verbs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "dmaown/vfio.h"

static void set_msg(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_msg(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/*
 * The device's group number, or -1: the iommu_group link QEMU reads under
 * /sys/bus/B/devices/DEV. Through sysfs, as userspace must: the device
 * may leave its group (hot-unplug) while we look.
 */
static int device_group_id(struct machine *m, const char *dev_name)
{
	struct device *dev = machine_find_device(m, dev_name);
	char path[SYSFS_PATH_MAX], *target;
	const char *slash;
	int id;

	if (!dev)
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/iommu_group",
		 bus_kind_name(device_bus_kind(dev)), dev_name);
	if (sysfs_readlink(m, path, &target))
		return -1;
	slash = strrchr(target, '/');
	id = atoi(slash ? slash + 1 : target);
	free(target);
	return id;
}

int vmm_assign_device(struct machine *m, const char *dev_name,
		      int *ret_container, char *msg, size_t msg_len)
{
	unsigned int flags = 0;
	int group, container = -1, ret;

	set_msg(msg, msg_len, "%s", "");
	group = device_group_id(m, dev_name);
	if (group < 0) {
		set_msg(msg, msg_len,
			"vfio %s: no iommu_group found: No such file or directory",
			dev_name);
		return -ENOENT;
	}

	ret = vfio_group_open(m, group);
	if (ret) {
		set_msg(msg, msg_len, "vfio %s: failed to open /dev/vfio/%d: %s",
			dev_name, group, errno_text(ret));
		return ret;
	}
	ret = vfio_group_get_status(m, group, &flags);
	if (!ret && !(flags & VFIO_GROUP_FLAGS_VIABLE)) {
		set_msg(msg, msg_len,
			"vfio %s: group %d is not viable\n"
			"Please ensure all devices within the iommu_group are bound to their vfio bus driver.",
			dev_name, group);
		ret = -EPERM;
		goto err_close_group;
	}
	if (ret) {
		set_msg(msg, msg_len, "vfio %s: failed to get group %d status: %s",
			dev_name, group, errno_text(ret));
		goto err_close_group;
	}
	ret = vfio_container_open(m, &container);
	if (ret) {
		set_msg(msg, msg_len,
			"vfio %s: failed to open /dev/vfio/vfio: %s", dev_name,
			errno_text(ret));
		goto err_close_group;
	}
	ret = vfio_group_set_container(m, group, container);
	if (ret) {
		set_msg(msg, msg_len,
			"vfio %s: Failed to set group container: %s", dev_name,
			errno_text(ret));
		goto err_close_container;
	}
	ret = vfio_container_set_iommu(m, container, VFIO_TYPE1v2_IOMMU);
	if (ret) {
		set_msg(msg, msg_len,
			"vfio %s: failed to set iommu for container: %s",
			dev_name, errno_text(ret));
		goto err_unset;
	}
	ret = vfio_group_get_device_fd(m, group, dev_name);
	if (ret) {
		set_msg(msg, msg_len,
			"vfio %s: error getting device from group %d: %s\n"
			"Verify all devices in group %d are bound to vfio-<bus> or pci-stub and not already in use",
			dev_name, group, errno_text(ret), group);
		goto err_unset;
	}
	/*
	 * vfio_register_req_notifier(): QEMU registers a request eventfd on
	 * a device that has the request IRQ (vfio-pci), and goes on without
	 * one if that fails.
	 */
	(void)vfio_device_set_req_eventfd(m, dev_name);
	*ret_container = container;
	return 0;

err_unset:
	vfio_group_unset_container(m, group);
err_close_container:
	vfio_container_close(m, container);
err_close_group:
	vfio_group_close(m, group);
	return ret;
}

int vmm_release_device(struct machine *m, const char *dev_name, int container)
{
	int group = device_group_id(m, dev_name);
	int ret;

	if (container < 0 && group >= 0)
		container = vfio_group_container(m, group);
	/* a device the kernel took back (relayed request) is closed already */
	ret = vfio_device_close(m, dev_name);
	if (ret == -EBADF)
		ret = 0;

	if (!ret && group >= 0)
		ret = vfio_group_close(m, group);
	if (!ret)
		ret = vfio_container_close(m, container);
	return ret;
}
