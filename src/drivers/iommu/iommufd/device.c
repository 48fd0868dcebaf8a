// SPDX-License-Identifier: MIT
/*
 * iommufd contexts, IOAS, and device binding and attachment for the vfio
 * device cdev. Counterpart of drivers/iommu/iommufd/device.c and main.c.
 */
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

struct vfio_device *vfio_device_by_name(struct machine *m, const char *name);
void iommufd_device_unbind_locked(struct vfio_device *vdev);

/* The iommufd whose file is open as @id, or NULL (-EBADF). */
static struct iommufd_ctx *iommufd_by_id(struct machine *m, int id)
{
	struct iommufd_ctx *ictx;

	if (id < 0)
		return NULL;
	list_for_each_entry(ictx, &m->iommufds, node)
		if (ictx->id == id)
			return ictx;
	return NULL;
}

/*
 * iommufd_ctx_put(): an iommufd whose file is closed goes with the last
 * device bound to it (iommufd_fops_release() then destroys its objects;
 * with nothing bound nothing is attached, so no hwpt is left).
 */
static void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	if (ictx->id >= 0 || ictx->bound)
		return;
	list_del(&ictx->node);
	kfree(ictx);
}

int iommufd_open(struct machine *m, int *ret_ictx)
{
	struct iommufd_ctx *ictx;
	struct list_head *before;
	int id = 0, ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	ret = vfio_node_open(m);
	if (ret)
		goto out_unlock;
	id = list_lowest_free_id(&m->iommufds, struct iommufd_ctx, node, id, &before);
	ictx = kzalloc(m, sizeof(*ictx));
	if (!ictx) {
		vfio_fd_put(m);
		ret = -ENOMEM;
		goto out_unlock;
	}
	ictx->m = m;
	ictx->id = id;
	INIT_LIST_HEAD(&ictx->hwpts);
	list_add_tail(&ictx->node, before);
	*ret_ictx = id;
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/*
 * Closing the file drops its reference: VFIO_DEVICE_BIND_IOMMUFD took one
 * for each bound device, so their IOAS and attachments stay until the last
 * of them is unbound.
 */
int iommufd_close(struct machine *m, int id)
{
	struct iommufd_ctx *ictx;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	ictx = iommufd_by_id(m, id);
	if (!ictx) {
		ret = -EBADF;
		goto out_unlock;
	}
	/* close(2) cannot fail: bound devices keep the iommufd meanwhile */
	ictx->id = -1;	/* the number is free for the next open() */
	vfio_fd_put(m);
	list_del(&ictx->node);
	list_add_tail(&ictx->node, &m->iommufds);
	iommufd_ctx_put(ictx);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

int iommufd_ioas_alloc(struct machine *m, int id, unsigned int *ret_ioas)
{
	struct iommufd_ctx *ictx;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	ictx = iommufd_by_id(m, id);
	if (!ictx)
		ret = -EBADF;
	else if (ictx->nr_ioas == IOMMUFD_IOAS_MAX)
		ret = -ENOSPC;
	else
		*ret_ioas = ++ictx->nr_ioas;
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/* iommufd_device_bind(): the device's group is claimed with @ictx. */
static int iommufd_device_bind(struct iommufd_ctx *ictx,
			       struct vfio_device *vdev)
{
	struct device *dev = vdev->dev;
	int ret;

	KFUNC();
	if (!dev->iommu_group)
		return -ENODEV;
	/*
	 * Without interrupt isolation a device's DMA could raise interrupts
	 * outside its group: refused unless the admin allows it.
	 */
	if (!dev->fw.iommu->msi_isolated) {
		if (!dev->m->iommufd_unsafe_irqs)
			return -EPERM;
		dev_warn(dev, "MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform features like interrupt remapping are enabled. Use the \"allow_unsafe_interrupts\" module parameter to override");
	}
	ret = iommu_device_claim_dma_owner(dev, ictx);
	if (ret)
		return ret;
	vdev->ictx = ictx;
	ictx->bound++;
	return 0;
}

int vfio_device_bind_iommufd(struct machine *m, const char *dev_name, int id)
{
	struct vfio_device *vdev;
	struct iommufd_ctx *ictx;
	int ret;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	vdev = vfio_device_by_name(m, dev_name);
	if (!vdev || vdev->open == VFIO_CLOSED) {
		ret = -EBADF;
		goto out_unlock;
	}
	/* vfio_df_ioctl_bind_iommufd(): a cdev file only */
	if (vdev->open != VFIO_OPEN_CDEV) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* the group file is checked first, then the bind, then the iommufd */
	ret = vfio_device_block_group(vdev);
	if (ret)
		goto out_unlock;
	if (vdev->ictx) {
		ret = -EINVAL;
		goto err_unblock;
	}
	ictx = iommufd_by_id(m, id);
	if (!ictx) {
		ret = -EBADF;
		goto err_unblock;
	}
	ret = iommufd_device_bind(ictx, vdev);
	if (ret)
		goto err_unblock;
	goto out_unlock;

err_unblock:
	vfio_device_unblock_group(vdev);
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

static struct iommufd_hwpt *iommufd_hwpt_find(struct iommufd_ctx *ictx,
					      struct iommu_group *group)
{
	struct iommufd_hwpt *hwpt;

	list_for_each_entry(hwpt, &group->hwpts, group_node)
		if (hwpt->ictx == ictx)
			return hwpt;
	return NULL;
}

/*
 * iommufd_device_replace() (v6.6, iommufd_device_do_replace()): the group
 * of an attached device moves to a page table for @ioas, all its attached
 * devices with it; the same IOAS is no change. The old domain goes once
 * nothing uses it.
 */
static int iommufd_device_replace_locked(struct vfio_device *vdev,
					 unsigned int ioas)
{
	struct iommufd_hwpt *hwpt = vdev->hwpt;
	struct iommu_domain *domain;
	int ret;

	KFUNC();
	if (hwpt->ioas == ioas)
		return 0;
	domain = iommu_paging_domain_alloc(vdev->dev);
	if (IS_ERR(domain))
		return (int)PTR_ERR(domain);
	ret = iommu_group_replace_domain(hwpt->group, domain);
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}
	iommu_domain_free(hwpt->domain);
	hwpt->domain = domain;
	hwpt->ioas = ioas;
	return 0;
}

/*
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT: vfio_iommufd_physical_attach_ioas() (v6.6)
 * attaches a device that is not attached (iommufd_device_attach(): one
 * user domain per group and IOAS) and replaces the page table of one that
 * is (iommufd_device_replace()).
 */
int vfio_device_attach_ioas(struct machine *m, const char *dev_name,
			    unsigned int ioas)
{
	struct vfio_device *vdev;
	struct iommufd_hwpt *hwpt;
	struct iommu_domain *domain;
	struct iommu_group *group;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	vdev = vfio_device_by_name(m, dev_name);
	if (!vdev || vdev->open != VFIO_OPEN_CDEV) {
		ret = -EBADF;
		goto out_unlock;
	}
	if (!vdev->ictx || !ioas || ioas > vdev->ictx->nr_ioas) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (vdev->hwpt) {
		ret = iommufd_device_replace_locked(vdev, ioas);
		goto out_unlock;
	}
	group = vdev->dev->iommu_group;
	hwpt = iommufd_hwpt_find(vdev->ictx, group);
	if (hwpt) {
		/* the group is translated by one page table at a time */
		if (hwpt->ioas != ioas) {
			ret = -EINVAL;
			goto out_unlock;
		}
		hwpt->users++;
		vdev->hwpt = hwpt;
		goto out_unlock;
	}
	hwpt = kzalloc(m, sizeof(*hwpt));
	if (!hwpt) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	domain = iommu_paging_domain_alloc(vdev->dev);
	if (IS_ERR(domain)) {
		kfree(hwpt);
		ret = (int)PTR_ERR(domain);
		goto out_unlock;
	}
	ret = iommu_attach_group(domain, group);
	if (ret) {
		iommu_domain_free(domain);
		kfree(hwpt);
		goto out_unlock;
	}
	hwpt->ioas = ioas;
	hwpt->group = group;
	hwpt->ictx = vdev->ictx;
	hwpt->domain = domain;
	hwpt->users = 1;
	list_add_tail(&hwpt->node, &vdev->ictx->hwpts);
	list_add_tail(&hwpt->group_node, &group->hwpts);
	vdev->hwpt = hwpt;
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return ret;
}

static void iommufd_device_detach_locked(struct vfio_device *vdev)
{
	struct iommufd_hwpt *hwpt = vdev->hwpt;

	vdev->hwpt = NULL;
	if (--hwpt->users)
		return;
	/* the last device of the group: back to the blocking domain */
	iommu_detach_group(hwpt->domain, hwpt->group);
	iommu_domain_free(hwpt->domain);
	list_del(&hwpt->node);
	list_del(&hwpt->group_node);
	kfree(hwpt);
}

int vfio_device_detach_ioas(struct machine *m, const char *dev_name)
{
	struct vfio_device *vdev;
	int ret = 0;

	KFUNC();
	mutex_lock(&m->vfio_lock);
	vdev = vfio_device_by_name(m, dev_name);
	if (!vdev || vdev->open != VFIO_OPEN_CDEV)
		ret = -EBADF;
	else if (!vdev->hwpt)
		ret = -EINVAL;
	else
		iommufd_device_detach_locked(vdev);
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/* iommufd_device_unbind(): detach, then give the device's claim back. */
void iommufd_device_unbind_locked(struct vfio_device *vdev)
{
	KFUNC();
	if (vdev->hwpt)
		iommufd_device_detach_locked(vdev);
	iommu_device_release_dma_owner(vdev->dev);
	vdev->ictx->bound--;
	iommufd_ctx_put(vdev->ictx);
	vdev->ictx = NULL;
	/* vfio_df_unbind_iommufd(): the group file may be opened again */
	vfio_device_unblock_group(vdev);
}
