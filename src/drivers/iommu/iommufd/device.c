// SPDX-License-Identifier: MIT
/*
 * iommufd contexts, IOAS, and device binding and attachment for the vfio
 * device cdev. Counterpart of drivers/iommu/iommufd/device.c and main.c.
 */
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

void iommufd_device_unbind_locked(struct vfio_device *vdev);

/* The iommufd the legacy calls number @id in @p, or NULL (-EBADF). */
static struct iommufd_ctx *iommufd_legacy(struct process *p, int id)
{
	return idr_find(&p->iommufds, id);
}

/*
 * iommufd_ctx_put(): an iommufd whose file is closed goes with the last
 * device bound to it (iommufd_fops_release() then destroys its objects;
 * with nothing bound nothing is attached, so no hwpt is left).
 */
static void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	if (ictx->file.owner || ictx->bound)
		return;
	list_del(&ictx->node);
	kfree(ictx);
}

/*
 * Closing the file drops its reference: VFIO_DEVICE_BIND_IOMMUFD took one
 * for each bound device, so their IOAS and attachments stay until the last
 * of them is unbound.
 */
static void iommufd_fops_release(struct file *file, struct process *owner)
{
	struct iommufd_ctx *ictx = container_of(file, struct iommufd_ctx, file);

	if (ictx->id >= 0)
		idr_remove(&owner->iommufds, ictx->id);
	ictx->id = -1;
	iommufd_ctx_put(ictx);
}

void iommufd_ctx_serialize(const struct iommufd_ctx *x, struct sbuf *sb,
			   struct ptrmap *ids)
{
	const struct iommufd_hwpt *h;

	/* "iommufd #%d ioas=%u bound=%u\n" without parsing: every state */
	sbuf_puts(sb, "iommufd #");
	sbuf_putd(sb, canon_id(ids, x));
	sbuf_puts(sb, " ioas=");
	sbuf_putu(sb, x->nr_ioas);
	sbuf_puts(sb, " bound=");
	sbuf_putu(sb, x->bound);
	sbuf_putc(sb, '\n');
	list_for_each_entry(h, &x->hwpts, node) {
		sbuf_puts(sb, "iommufd-hwpt #");
		sbuf_putd(sb, canon_id(ids, h));
		sbuf_puts(sb, " ioas=");
		sbuf_putu(sb, h->ioas);
		sbuf_puts(sb, " group=");
		sbuf_putd(sb, h->group->id);
		sbuf_puts(sb, " dom=#");
		sbuf_putd(sb, canon_id(ids, h->domain));
		sbuf_puts(sb, " users=");
		sbuf_putu(sb, h->users);
		sbuf_putc(sb, '\n');
	}
}

static void iommufd_fops_serialize(const struct file *file, struct sbuf *sb,
				   struct ptrmap *ids)
{
	iommufd_ctx_serialize(container_of(file, struct iommufd_ctx, file), sb,
			      ids);
}

static const struct file_operations iommufd_fops = {
	.release = iommufd_fops_release,
	.serialize = iommufd_fops_serialize,
};

/*
 * The iommufd open as @fd in @p: -EBADF, and @other_kind for another file
 * (-ENOTTY for its own ioctls; -EBADFD where a device ioctl names it,
 * iommufd_ctx_from_fd()).
 */
static int iommufd_from_fd(struct process *p, int fd, int other_kind,
			   struct iommufd_ctx **ret)
{
	struct file *file;
	int err = vfio_file_get(p, fd, FILE_IOMMUFD, &file);

	if (err == -ENOTTY)
		return other_kind;
	if (!err)
		*ret = container_of(file, struct iommufd_ctx, file);
	return err;
}

/* open("/dev/iommu"): iommufd_fops_open(). */
static int iommufd_do_open(struct process *p, bool legacy, int *ret_id)
{
	struct machine *m = p->m;
	struct iommufd_ctx *ictx;
	int fd, id = -1;

	mutex_lock(&m->vfio_lock);
	fd = vfio_node_open(p);
	if (fd < 0)
		goto out_unlock;
	/* iommufd (drivers/iommu/iommufd/) came in 6.2: 6.1 has no /dev/iommu */
	if (machine_kernel(m) == MACHINE_KERNEL_6_1) {
		put_unused_fd(p, fd);
		fd = -ENOENT;
		goto out_unlock;
	}
	ictx = kzalloc(m, sizeof(*ictx));
	if (ictx && legacy) {
		id = idr_alloc_lowest(&p->iommufds, ictx, 0, INT32_MAX);
		if (id < 0) {
			kfree(ictx);
			ictx = NULL;
		}
	}
	if (!ictx) {
		put_unused_fd(p, fd);
		fd = -ENOMEM;
		goto out_unlock;
	}
	ictx->m = m;
	ictx->id = id;
	ictx->file.kind = FILE_IOMMUFD;
	ictx->file.f_op = &iommufd_fops;
	INIT_LIST_HEAD(&ictx->hwpts);
	list_add_tail(&ictx->node, &m->iommufds);
	fd_install(p, fd, &ictx->file);
	if (ret_id)
		*ret_id = id;
out_unlock:
	mutex_unlock(&m->vfio_lock);
	return fd;
}

int iommufd_fd_open(struct process *p)
{
	KFRAME("iommufd_fops_open");
	return iommufd_do_open(p, false, NULL);
}

int iommufd_open(struct machine *m, int *ret_ictx)
{
	int fd;

	KFRAME("iommufd_fops_open");
	fd = iommufd_do_open(m->default_process, true, ret_ictx);
	return fd < 0 ? fd : 0;
}

int iommufd_close(struct machine *m, int id)
{
	struct iommufd_ctx *ictx;
	int ret;

	KFRAME("close_fd");
	mutex_lock(&m->vfio_lock);
	ictx = iommufd_legacy(m->default_process, id);
	/* close(2) cannot fail: bound devices keep the iommufd meanwhile */
	ret = ictx ? process_close_fd(m->default_process, ictx->file.fd) :
		     -EBADF;
	mutex_unlock(&m->vfio_lock);
	return ret;
}

/* IOMMU_IOAS_ALLOC: iommufd_ioas_alloc_ioctl(). */
static int iommufd_ioas_alloc_locked(struct iommufd_ctx *ictx,
				     unsigned int *ret_ioas)
{
	if (ictx->nr_ioas == IOMMUFD_IOAS_MAX)
		return -ENOSPC;
	*ret_ioas = ++ictx->nr_ioas;
	return 0;
}

int iommufd_ioctl_ioas_alloc(struct process *p, int fd, unsigned int *ret_ioas)
{
	struct iommufd_ctx *ictx;
	int ret;

	KFRAME("iommufd_ioas_alloc_ioctl");
	mutex_lock(&p->m->vfio_lock);
	ret = iommufd_from_fd(p, fd, -ENOTTY, &ictx);
	if (!ret)
		ret = iommufd_ioas_alloc_locked(ictx, ret_ioas);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int iommufd_ioas_alloc(struct machine *m, int id, unsigned int *ret_ioas)
{
	struct iommufd_ctx *ictx;
	int ret;

	KFRAME("iommufd_ioas_alloc_ioctl");
	mutex_lock(&m->vfio_lock);
	ictx = iommufd_legacy(m->default_process, id);
	ret = ictx ? iommufd_ioas_alloc_locked(ictx, ret_ioas) : -EBADF;
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

/* The device file open as @fd in @p: -EBADF, -ENOTTY another file. */
static int vfio_df_from_fd(struct process *p, int fd,
			   struct vfio_device_file **ret)
{
	struct file *file;
	int err = vfio_file_get(p, fd, FILE_VFIO_DEVICE, &file);

	if (!err)
		*ret = container_of(file, struct vfio_device_file, file);
	return err;
}

/*
 * VFIO_DEVICE_BIND_IOMMUFD: vfio_df_ioctl_bind_iommufd(). A cdev file
 * only; the group file is checked first (vfio_device_block_group()),
 * then that this file has not bound, then the iommufd's descriptor, then
 * that the device is not open already through another file
 * (vfio_df_open(): the cdev path opens a device once).
 */
static int vfio_df_bind_iommufd_locked(struct vfio_device_file *df,
				       struct process *p, int ifd,
				       int legacy_id, bool legacy)
{
	struct vfio_device *vdev = df->device;
	struct iommufd_ctx *ictx;
	int ret;

	if (df->group_path)
		return -EINVAL;
	ret = vfio_device_block_group(vdev);
	if (ret)
		return ret;
	if (df->access_granted) {
		ret = -EINVAL;
		goto err_unblock;
	}
	if (legacy) {
		ictx = iommufd_legacy(p, legacy_id);
		ret = ictx ? 0 : -EBADF;
	} else {
		ret = iommufd_from_fd(p, ifd, -EBADFD, &ictx);
	}
	if (ret)
		goto err_unblock;
	if (vdev->open_count) {
		ret = -EINVAL;
		goto err_unblock;
	}
	/* vfio_df_device_first_open(): the driver's module, then the bind */
	ret = vfio_df_device_first_open(vdev);
	if (ret)
		goto err_unblock;
	ret = iommufd_device_bind(ictx, vdev);
	if (ret)
		goto err_module_put;
	vdev->open_count = 1;
	vfio_pci_core_open_count(vdev, true);
	df->access_granted = true;
	return 0;

err_module_put:
	vfio_df_device_last_close(vdev);
err_unblock:
	vfio_device_unblock_group(vdev);
	return ret;
}

int vfio_ioctl_bind_iommufd(struct process *p, int fd, int ifd)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_df_ioctl_bind_iommufd");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_from_fd(p, fd, &df);
	if (!ret)
		ret = vfio_df_bind_iommufd_locked(df, p, ifd, -1, false);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

/*
 * A named device's bind: its newest file in @p; if that is a group file,
 * its newest cdev file, which the verb means (none: -EINVAL, the group
 * file's answer). The iommufd is @ifd, or with @legacy the default
 * process's number @legacy_id.
 */
static int vfio_bind_named(struct process *p, const char *dev_name, int ifd,
			   int legacy_id, bool legacy)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_df_ioctl_bind_iommufd");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_named(p, dev_name, false, &df);
	if (!ret && df->group_path) {
		df = vfio_device_file_of(df->device, p, true);
		if (!df)
			ret = -EINVAL;
	}
	if (!ret)
		ret = vfio_df_bind_iommufd_locked(df, p, ifd, legacy_id,
						  legacy);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_process_bind_iommufd(struct process *p, const char *dev_name,
			      int iommufd)
{
	return vfio_bind_named(p, dev_name, iommufd, -1, false);
}

int vfio_device_bind_iommufd(struct machine *m, const char *dev_name, int id)
{
	return vfio_bind_named(m->default_process, dev_name, -1, id, true);
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
 * The way in of the cdev-only device ioctls (vfio_device_fops_unl_ioctl()):
 * a file without access takes no ioctl but the bind (-EINVAL); a file
 * through the group passes them to its driver, which does not know them
 * (-ENOTTY).
 */
static int vfio_df_cdev_ioctl(struct vfio_device_file *df)
{
	if (!df->access_granted)
		return -EINVAL;
	return df->group_path ? -ENOTTY : 0;
}

/*
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT: vfio_iommufd_physical_attach_ioas() (v6.6)
 * attaches a device that is not attached (iommufd_device_attach(): one
 * user domain per group and IOAS) and replaces the page table of one that
 * is (iommufd_device_replace()).
 */
static int vfio_df_attach_ioas_locked(struct vfio_device_file *df,
				      unsigned int ioas)
{
	struct vfio_device *vdev = df->device;
	struct iommufd_hwpt *hwpt;
	struct iommu_domain *domain;
	struct iommu_group *group;
	int ret;

	ret = vfio_df_cdev_ioctl(df);
	if (ret)
		return ret;
	if (!ioas || ioas > vdev->ictx->nr_ioas)
		return -EINVAL;
	if (vdev->hwpt)
		return iommufd_device_replace_locked(vdev, ioas);
	group = vdev->dev->iommu_group;
	hwpt = iommufd_hwpt_find(vdev->ictx, group);
	if (hwpt) {
		/* the group is translated by one page table at a time */
		if (hwpt->ioas != ioas)
			return -EINVAL;
		hwpt->users++;
		vdev->hwpt = hwpt;
		return 0;
	}
	hwpt = kzalloc(vdev->m, sizeof(*hwpt));
	if (!hwpt)
		return -ENOMEM;
	domain = iommu_paging_domain_alloc(vdev->dev);
	if (IS_ERR(domain)) {
		kfree(hwpt);
		return (int)PTR_ERR(domain);
	}
	ret = iommu_attach_group(domain, group);
	if (ret) {
		iommu_domain_free(domain);
		kfree(hwpt);
		return ret;
	}
	hwpt->ioas = ioas;
	hwpt->group = group;
	hwpt->ictx = vdev->ictx;
	hwpt->domain = domain;
	hwpt->users = 1;
	list_add_tail(&hwpt->node, &vdev->ictx->hwpts);
	list_add_tail(&hwpt->group_node, &group->hwpts);
	vdev->hwpt = hwpt;
	return 0;
}

int vfio_ioctl_attach_ioas(struct process *p, int fd, unsigned int ioas)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_df_ioctl_attach_pt");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_from_fd(p, fd, &df);
	if (!ret)
		ret = vfio_df_attach_ioas_locked(df, ioas);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_process_attach_ioas(struct process *p, const char *dev_name,
			     unsigned int ioas)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_df_ioctl_attach_pt");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_named(p, dev_name, true, &df);
	if (!ret)
		ret = vfio_df_attach_ioas_locked(df, ioas);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_device_attach_ioas(struct machine *m, const char *dev_name,
			    unsigned int ioas)
{
	return vfio_process_attach_ioas(m->default_process, dev_name, ioas);
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

/* VFIO_DEVICE_DETACH_IOMMUFD_PT: vfio_df_ioctl_detach_pt(). */
static int vfio_df_detach_ioas_locked(struct vfio_device_file *df)
{
	int ret = vfio_df_cdev_ioctl(df);

	if (ret)
		return ret;
	if (!df->device->hwpt)
		return -EINVAL;
	iommufd_device_detach_locked(df->device);
	return 0;
}

int vfio_ioctl_detach_ioas(struct process *p, int fd)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_df_ioctl_detach_pt");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_from_fd(p, fd, &df);
	if (!ret)
		ret = vfio_df_detach_ioas_locked(df);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_process_detach_ioas(struct process *p, const char *dev_name)
{
	struct vfio_device_file *df;
	int ret;

	KFRAME("vfio_df_ioctl_detach_pt");
	mutex_lock(&p->m->vfio_lock);
	ret = vfio_df_named(p, dev_name, true, &df);
	if (!ret)
		ret = vfio_df_detach_ioas_locked(df);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

int vfio_device_detach_ioas(struct machine *m, const char *dev_name)
{
	return vfio_process_detach_ioas(m->default_process, dev_name);
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

/*
 * vfio_df_unbind_iommufd(): closing a cdev file that bound closes the
 * device: it is unbound, and the group file may be opened again.
 */
void vfio_df_unbind_iommufd(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;

	if (!df->access_granted)
		return;
	iommufd_device_unbind_locked(vdev);
	vdev->open_count = 0;
	vdev->req_trigger = false; /* vfio_pci_core_close_device() */
	vfio_pci_core_open_count(vdev, false);
	vfio_df_device_last_close(vdev); /* module_put() last */
}
