/* SPDX-License-Identifier: MIT */
/*
 * Private structures of VFIO (drivers/vfio/vfio.h) and iommufd
 * (drivers/iommu/iommufd/iommufd_private.h) in the model.
 *
 * Locking: the verbs run with machine::vfio_lock held (the kernel's
 * vfio.group_lock and the per-group group_lock folded into one: every VFIO
 * and iommufd object below is protected by it). It nests outside the iommu
 * core's locks and inside device_lock (vfio-pci registers and unregisters
 * its devices from probe and remove).
 */
#ifndef DMAOWN_VFIO_PRIV_H
#define DMAOWN_VFIO_PRIV_H

#include "dmaown/vfio.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "fs/file.h"

#define IOMMUFD_IOAS_MAX 64 /* IOAS per iommufd */

/*
 * A container lives while its file is open or a group is set on it (each
 * group holds it, as the kernel's container kref): closing the file of a
 * container still in use gives its number back and leaves the groups set.
 */
struct vfio_container {
	struct file file;             /* first: the object maps with it */
	struct machine *m;
	struct list_head node;        /* machine::vfio_containers */
	int id;                       /* the legacy number in the owner's
				       * table (process::containers); -1
				       * once closed */
	struct list_head group_list;  /* vfio_group::container_next */
	int iommu_type;               /* 0 until VFIO_SET_IOMMU */
	bool noiommu;
};

struct vfio_group {
	/*
	 * The group file (the kernel's opened_file), one at a time: its
	 * descriptor's owner is NULL once closed.
	 */
	struct file file;
	struct machine *m;
	struct list_head node;        /* machine::vfio_groups */
	int id;                       /* /dev/vfio/N (noiommu-N) */
	bool noiommu;
	struct iommu_group *iommu_group; /* a reference; NULL once orphaned */
	struct list_head device_list; /* vfio_device::group_next */
	/*
	 * The group file exists while its descriptor is open or a device
	 * opened through it is open (each holds the file); it is released
	 * when the last of them goes.
	 */
	bool opened;
	struct vfio_container *container;
	struct list_head container_next;
	unsigned int container_users; /* the group file + devices open through it */
	/*
	 * Devices bound to an iommufd through their cdev
	 * (vfio_device_block_group()): the group file cannot be opened while
	 * it is non-zero, nor a cdev bound while the group file exists. An
	 * open cdev that is not bound yet blocks nothing.
	 */
	unsigned int cdev_device_open_cnt;
	struct iommu_domain *type1_domain; /* VFIO_SET_IOMMU's domain */
};

struct iommufd_ctx;
struct iommufd_hwpt;

/*
 * One open file of a vfio device (the kernel's vfio_device_file): through
 * the group (VFIO_GROUP_GET_DEVICE_FD, access at once) or the cdev (access
 * once VFIO_DEVICE_BIND_IOMMUFD succeeds). Freed when its descriptor is
 * closed: nothing else holds a device file.
 */
struct vfio_device_file {
	struct file file;             /* first: the object maps with it */
	struct vfio_device *device;
	struct list_head node;        /* vfio_device::files, oldest first */
	bool group_path;              /* df->group */
	bool access_granted;
};

struct vfio_device {
	struct machine *m;
	struct list_head node;        /* machine::vfio_devices */
	struct device *dev;
	struct vfio_group *group;
	struct list_head group_next;
	struct list_head files;       /* vfio_device_file::node */
	/*
	 * Files with access (vfio_df_open()): any number through the group,
	 * or the one cdev file bound to @ictx
	 */
	unsigned int open_count;
	/*
	 * While open: the driver whose module the first open took a
	 * reference on (the kernel's device->dev->driver->owner), given
	 * back to the same driver at the last close
	 */
	struct device_driver *module;
	struct iommufd_ctx *ictx;     /* cdev: bound iommufd */
	struct iommufd_hwpt *hwpt;    /* cdev: attached page table */
	/*
	 * vfio-pci: userspace registered a request eventfd
	 * (VFIO_DEVICE_SET_IRQS, VFIO_PCI_REQ_IRQ_INDEX); the last close
	 * drops it (vfio_pci_core_close_device())
	 */
	bool req_trigger;
};

/* A user domain for one IOMMU group, made for one IOAS. */
struct iommufd_hwpt {
	struct list_head node;        /* iommufd_ctx::hwpts */
	/*
	 * iommu_group::hwpts: the group's page tables, one per iommufd that
	 * attached it, so finding an iommufd's does not walk every group's
	 */
	struct list_head group_node;
	struct iommufd_ctx *ictx;     /* the iommufd it belongs to */
	unsigned int ioas;
	struct iommu_group *group;
	struct iommu_domain *domain;
	unsigned int users;           /* devices attached through it */
};

/*
 * An iommufd lives while its file is open or a device is bound to it (a
 * bound device holds the file, as iommufd_ctx_get() does).
 */
struct iommufd_ctx {
	struct file file;             /* first: the object maps with it */
	struct machine *m;
	struct list_head node;        /* machine::iommufds */
	int id;                       /* the legacy number in the owner's
				       * table (process::iommufds); -1 once
				       * closed */
	unsigned int nr_ioas;         /* IOAS ids 1..nr_ioas exist */
	unsigned int bound;           /* devices bound to this context */
	struct list_head hwpts;
};

/*
 * open(2) of /dev/vfio/vfio or /dev/iommu: the descriptor first (-EMFILE,
 * as do_sys_open() takes it before the lookup), then -ENOENT where the
 * node does not exist (no CONFIG_IOMMU_API, which VFIO and iommufd need).
 * Returns the descriptor, to install. Under vfio_lock.
 */
int vfio_node_open(struct process *p);

/*
 * The file open as @fd in @p if it is of @kind: -EBADF not open, -ENOTTY
 * another kind (its ioctl does not know the command). Under vfio_lock.
 */
int vfio_file_get(struct process *p, int fd, enum file_kind kind,
		  struct file **ret);

/*
 * The group file @p has open as /dev/vfio/@id (a live group's, else a
 * lingering one's), or NULL: how the legacy calls, naming a group by
 * number, find its descriptor. Under vfio_lock.
 */
struct vfio_group *vfio_group_file(struct process *p, int id);

/* The vfio device named @name, or NULL. Under vfio_lock. */
struct vfio_device *vfio_device_by_name(struct machine *m, const char *name);

/*
 * The newest file of @vdev that @p has open (any, or only cdev files), or
 * NULL: how the legacy verbs, which name a device, find its file. Under
 * vfio_lock.
 */
struct vfio_device_file *vfio_device_file_of(const struct vfio_device *vdev,
					     const struct process *p,
					     bool cdev_only);

/*
 * A device named rather than given by descriptor (the legacy calls, a
 * script's device name): its newest file in @p (only cdev files with
 * @cdev_only), or -EBADF. Under vfio_lock.
 */
int vfio_df_named(struct process *p, const char *dev_name, bool cdev_only,
		  struct vfio_device_file **ret);

/* An iommufd's state and page tables, for machine_serialize(). */
void iommufd_ctx_serialize(const struct iommufd_ctx *ictx, struct sbuf *sb,
			   struct ptrmap *ids);

struct vfio_device_file *vfio_allocate_device_file(struct vfio_device *vdev,
						   bool group_path);

/*
 * The release of a device file: through the group (vfio_df_group_close())
 * or the cdev (vfio_df_unbind_iommufd(), if it bound). Under vfio_lock.
 */
void vfio_df_group_close(struct vfio_device_file *df);
void vfio_df_unbind_iommufd(struct vfio_device_file *df);

/* vfio_device_cdev_opened(): bound to an iommufd through its cdev. */
static inline bool vfio_device_cdev_opened(const struct vfio_device *vdev)
{
	return vdev->ictx != NULL;
}

/*
 * vfio_pci_core_request(): vfio-pci's request op, called while an unbind
 * waits for userspace to close @vdev, with @count 0, 1, 2... one every ten
 * seconds. Under vfio_lock.
 */
void vfio_pci_core_request(struct vfio_device *vdev, unsigned int count);

/*
 * vfio_device_block_group() - Keep @vdev's group file closed for a cdev bind
 * @vdev: the device VFIO_DEVICE_BIND_IOMMUFD binds
 *
 * Counts @vdev in its group's cdev_device_open_cnt, so that
 * vfio_group_open() fails with -EBUSY until the count drops again. Under
 * vfio_lock.
 *
 * Return: 0, or -EBUSY while the group file is open (or held by device
 * files opened through it). The caller must undo this with
 * vfio_device_unblock_group() when the bind fails or the device is
 * unbound.
 */
int vfio_device_block_group(struct vfio_device *vdev);
void vfio_device_unblock_group(struct vfio_device *vdev);

/* Called from vfio bus drivers' probe and remove (catalogue.c). */
int vfio_register_group_dev(struct device *dev);
void vfio_unregister_group_dev(struct device *dev);

/*
 * vfio-pci's SR-IOV hooks (pci/vfio_pci_core.c): vfio_pci_vf_init() at
 * probe; vfio_pci_core_match(), the group path's match of "NAME
 * [vf_token=UUID]" (1 match, 0 no match, or -EINVAL/-EACCES from the VF
 * token check); vfio_pci_core_open_count() at a device's first open and
 * last close, which a VF's PF's token counts. Under vfio_lock but the
 * first (device_lock, at probe).
 */
void vfio_pci_vf_init(struct device *dev);
int vfio_pci_core_match(struct vfio_device *vdev, const char *buf);
void vfio_pci_core_open_count(struct vfio_device *vdev, bool open);
/*
 * vfio_df_device_first_open(): a device's first open with access holds
 * its driver's module (try_module_get(), remembered in @vdev->module),
 * -ENODEV if that fails; vfio_df_device_last_close() puts it.
 * Only the module reference: the callers do the rest of the kernel's
 * first open and last close. Under vfio_lock.
 */
int vfio_df_device_first_open(struct vfio_device *vdev);
void vfio_df_device_last_close(struct vfio_device *vdev);
/*
 * The devices bound to @drv that userspace has open, counted by walking
 * every vfio device: what @drv's module_refs must be, for the debug
 * builds' self_check() in delete_module(). Under vfio_lock.
 */
unsigned int vfio_driver_open_devices(struct machine *m,
				      const struct device_driver *drv);

#endif
