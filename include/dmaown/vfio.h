/* SPDX-License-Identifier: MIT */
/**
 * DOC: userspace verbs: VFIO and iommufd
 *
 * What a VMM (QEMU, cloud-hypervisor, DPDK, SPDK) does with the device
 * files, as function calls on a machine. Files are named the way userspace
 * names them: a VFIO group by its number (/dev/vfio/N, one opener at a
 * time), a container or an iommufd by the small number open() gave back,
 * a device by its name. Each verb returns 0 or the negative errno the ioctl
 * would fail with, and mirrors one kernel function, named in its comment.
 */
#ifndef DMAOWN_VFIO_H
#define DMAOWN_VFIO_H

#include <stdbool.h>
#include <stddef.h>

#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* VFIO_GROUP_GET_STATUS flags (include/uapi/linux/vfio.h). */
#define VFIO_GROUP_FLAGS_VIABLE (1u << 0)
#define VFIO_GROUP_FLAGS_CONTAINER_SET (1u << 1)

/* VFIO_SET_IOMMU types. */
#define VFIO_TYPE1_IOMMU 1
#define VFIO_TYPE1v2_IOMMU 3
#define VFIO_NOIOMMU_IOMMU 8

/* ---- processes and their descriptors ---- */

/*
 * A userspace process of the machine: its descriptor table (numbered from
 * 3; 0, 1 and 2 are its standard streams) and its RLIMIT_NOFILE. The
 * machine starts with one, the default process ("sh", a script's own
 * shell), in which the legacy calls below act, naming files by group
 * number, device name and per-kind container and iommufd numbers. Other
 * processes (VMMs, tools) are started by naming them and use the
 * descriptor calls: what an opening call returns is a descriptor, which
 * the other calls take. Every call locks the machine's vfio_lock.
 */
struct process;

/**
 * machine_process() - the process named @name, started on first use
 *
 * A new process inherits the default process's RLIMIT_NOFILE, as a
 * program started by the shell does. @name NULL is the default process.
 *
 * Return: the process; NULL when out of memory.
 */
struct process *machine_process(struct machine *m, const char *name);

/** machine_find_process() - the running process named @name, or NULL. */
struct process *machine_find_process(struct machine *m, const char *name);

/** process_name() - its name; process_pid(): its PID (1000 up, by start). */
const char *process_name(const struct process *p);
int process_pid(const struct process *p);

/**
 * process_exit() - the process ends: every descriptor is closed, lowest
 * first (close_files()), and a named process is gone: machine_find_process()
 * no longer finds it, and naming it again, or opening a file through @p,
 * which stays valid, starts a new instance (a new PID, the shell's limit).
 * The default process stays, with only its standard streams.
 */
void process_exit(struct process *p);

/**
 * process_close() - close(2): the file's release runs (what it holds may
 * outlive the descriptor: a group file held by device files, a container
 * by its groups, an iommufd by bound devices).
 *
 * Return: 0, whatever the release does; -EBADF not open.
 */
int process_close(struct process *p, int fd);

/**
 * process_set_nofile() - setrlimit(RLIMIT_NOFILE): a descriptor at or
 * above @limit is refused to the next open (-EMFILE); those open stay.
 *
 * Return: 0; -EPERM above MACHINE_NOFILE_MAX.
 */
int process_set_nofile(struct process *p, unsigned long limit);
unsigned long process_nofile(struct process *p);
/** process_open_fds() - its descriptors besides the standard streams. */
unsigned long process_open_fds(struct process *p);

/*
 * The descriptor calls: open(2) of the nodes, and the ioctls. An opening
 * call returns the new descriptor (>= 3) or a negative errno; the others
 * 0 or a negative errno. A descriptor that is not open is -EBADF; one of
 * another kind of file is -ENOTTY (the file's ioctl does not know the
 * command), except where the ioctl takes a second descriptor, named below.
 */

/**
 * vfio_device_fd_of() - the newest descriptor @p holds of a file of
 * @dev_name (with @cdev_only, of a cdev file), as a tool finds it in
 * /proc/PID/fd; scripts let a device's name stand for it.
 *
 * Return: the descriptor; -EBADF none.
 */
int vfio_device_fd_of(struct process *p, const char *dev_name, bool cdev_only);

/*
 * The device ioctls (and close) on @dev_name's newest file in @p, found
 * under the same lock as the ioctl runs (a cdev file for the bind, attach
 * and detach): what a script's device name means in a named process. As
 * the descriptor calls; -EBADF when @p has no such file.
 */
int vfio_process_device_close(struct process *p, const char *dev_name);
int vfio_process_bind_iommufd(struct process *p, const char *dev_name,
			      int iommufd);
int vfio_process_attach_ioas(struct process *p, const char *dev_name,
			     unsigned int ioas);
int vfio_process_detach_ioas(struct process *p, const char *dev_name);
int vfio_process_set_req_eventfd(struct process *p, const char *dev_name);

/** vfio_group_fd_open() - open("/dev/vfio/N"): as vfio_group_open(). */
int vfio_group_fd_open(struct process *p, int group);
/** vfio_container_fd_open() - open("/dev/vfio/vfio"). */
int vfio_container_fd_open(struct process *p);
/** iommufd_fd_open() - open("/dev/iommu"). */
int iommufd_fd_open(struct process *p);
/**
 * vfio_cdev_fd_open() - open("/dev/vfio/devices/vfioX") of @dev_name's
 * cdev (vfio_device_fops_cdev_open()): any number of processes may; only
 * one file binds (vfio_df_ioctl_bind_iommufd()).
 */
int vfio_cdev_fd_open(struct process *p, const char *dev_name);

int vfio_ioctl_group_get_status(struct process *p, int fd,
				unsigned int *ret_flags);
/**
 * vfio_ioctl_group_set_container() - VFIO_GROUP_SET_CONTAINER with
 * @container_fd, which must be a container's (-EBADFD otherwise:
 * iommufd's compatibility container is not modelled).
 */
int vfio_ioctl_group_set_container(struct process *p, int fd,
				   int container_fd);
int vfio_ioctl_group_unset_container(struct process *p, int fd);
int vfio_ioctl_set_iommu(struct process *p, int container_fd, int type);
/**
 * vfio_ioctl_group_get_device_fd() - VFIO_GROUP_GET_DEVICE_FD: a new
 * device file, any number of times per device.
 *
 * Return: the descriptor; errors as vfio_group_get_device_fd().
 */
int vfio_ioctl_group_get_device_fd(struct process *p, int fd,
				   const char *dev_name);
int vfio_ioctl_set_req_eventfd(struct process *p, int device_fd);
/**
 * vfio_ioctl_bind_iommufd() - VFIO_DEVICE_BIND_IOMMUFD of a cdev file to
 * @iommufd, a descriptor of the same process (-EBADF not open, -EBADFD not
 * an iommufd). A device opened already (bound through another file, or
 * open through its group) is -EINVAL (vfio_df_open()).
 */
int vfio_ioctl_bind_iommufd(struct process *p, int device_fd, int iommufd);
int vfio_ioctl_attach_ioas(struct process *p, int device_fd,
			   unsigned int ioas);
int vfio_ioctl_detach_ioas(struct process *p, int device_fd);
int iommufd_ioctl_ioas_alloc(struct process *p, int iommufd,
			     unsigned int *ret_ioas);

/* ---- the legacy group/container path ---- */

/**
 * vfio_group_open() - open /dev/vfio/@group (vfio_group_fops_open)
 *
 * The node exists while at least one device of the IOMMU group is bound to
 * a vfio bus driver. Nothing is claimed yet.
 *
 * Return: 0; -ENOENT no such node; -EBUSY already open, or a device of the
 * group is bound to an iommufd through its cdev (an open cdev not bound
 * yet does not count).
 */
int vfio_group_open(struct machine *m, int group);

/**
 * vfio_group_close() - close the group file's descriptor
 *
 * The file is released (vfio_group_fops_release) once no device file
 * opened through it is open either (each holds it): then a container still
 * set is detached and the IOMMU group's ownership released. Until then
 * /dev/vfio/@group cannot be opened again (-EBUSY).
 *
 * Return: 0; -EBADF not open.
 */
int vfio_group_close(struct machine *m, int group);

/**
 * vfio_group_get_status() - VFIO_GROUP_GET_STATUS
 * @ret_flags: VFIO_GROUP_FLAGS_*: VIABLE when a container is set or no
 *	kernel driver nor other owner uses the IOMMU group; CONTAINER_SET
 *
 * Return: 0; -EBADF not open; -ENODEV the group lost its devices.
 */
int vfio_group_get_status(struct machine *m, int group,
			  unsigned int *ret_flags);

/**
 * vfio_container_open() - open /dev/vfio/vfio
 * @ret_container: the container's number
 *
 * Return: 0; -EMFILE at the limit; -ENOENT without the IOMMU API (no
 * VFIO). Undo with vfio_container_close().
 */
int vfio_container_open(struct machine *m, int *ret_container);

/**
 * vfio_container_close() - close a container's file (vfio_fops_release)
 *
 * Its number is free again at once. The groups still set keep the
 * container, its IOMMU and their ownership until each is unset or its
 * group file released; the last one frees the container.
 *
 * Return: 0; -EBADF not open.
 */
int vfio_container_close(struct machine *m, int container);

/**
 * vfio_group_set_container() - VFIO_GROUP_SET_CONTAINER: the group claims
 * its IOMMU group's DMA ownership (iommu_group_claim_dma_owner, the vfio
 * group as owner); no-IOMMU groups claim nothing
 *
 * Return: 0; -EBADF; -EINVAL a container or iommufd already set; -ENODEV
 * the group lost its devices; -EPERM a kernel driver is bound in the group
 * or another owner holds it, or real and no-IOMMU groups would mix; -EBUSY
 * a foreign domain is attached; -EINVAL a member needs firmware direct
 * mappings; the IOMMU backend's attach error.
 */
int vfio_group_set_container(struct machine *m, int group, int container);

/**
 * vfio_group_unset_container() - VFIO_GROUP_UNSET_CONTAINER
 *
 * Return: 0; -EBADF; -EINVAL none set; -EBUSY devices still open.
 */
int vfio_group_unset_container(struct machine *m, int group);

/**
 * vfio_container_set_iommu() - VFIO_SET_IOMMU (vfio_ioctl_set_iommu,
 * vfio_iommu_type1): every group of the container gets an UNMANAGED domain
 * attached
 * @type: VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU or VFIO_NOIOMMU_IOMMU
 *
 * Return: 0; -EBADF; -EINVAL no group set, or an IOMMU is set already;
 * -ENODEV no backend takes @type for these groups (type1 for real groups,
 * vfio-noiommu for no-IOMMU ones while enable_unsafe_noiommu_mode is on);
 * -EPERM a group's MSIs are not isolated (without type1's
 * allow_unsafe_interrupts); attach errors.
 */
int vfio_container_set_iommu(struct machine *m, int container, int type);

/**
 * vfio_group_get_device_fd() - VFIO_GROUP_GET_DEVICE_FD
 * @dev_name: the device, e.g. "0000:01:00.0"
 *
 * A device may be opened any number of times this way; each device file
 * is closed with vfio_device_close(), and the first one open holds the
 * group file.
 *
 * Return: 0; -EBADF; -EINVAL no container with an IOMMU set; -ENODEV no
 * such vfio device in the group.
 */
int vfio_group_get_device_fd(struct machine *m, int group,
			     const char *dev_name);

/**
 * vfio_device_close() - close a device file (vfio_device_fops_release);
 * closing a cdev-opened device unbinds it from its iommufd
 * (iommu_device_release_dma_owner); closing the last of a device's files
 * opened through its group lets go of the group file
 *
 * Return: 0; -EBADF not open.
 */
int vfio_device_close(struct machine *m, const char *dev_name);

/**
 * vfio_device_set_req_eventfd() - register a request eventfd on an open
 * vfio-pci device: VFIO_DEVICE_SET_IRQS, VFIO_PCI_REQ_IRQ_INDEX,
 * DATA_EVENTFD | ACTION_TRIGGER (vfio_pci_set_req_trigger()), as QEMU does
 * for every vfio-pci device it realizes
 * @dev_name: the device, open through its group or its bound cdev
 *
 * When the device's driver is unbound while it is open, the kernel then
 * relays the request to userspace, logging "Relaying device request to
 * user (#N)" (vfio_pci_core_request()); without it, it warns "No device
 * request channel registered, blocked until released by user". Either way
 * the unbind waits until the device is closed. The device's last close
 * drops the eventfd.
 *
 * Return: 0 (a second call replaces the first); -EBADF not open; -EINVAL
 * a cdev not bound to an iommufd yet, or not a vfio-pci device (no IRQ at
 * that index).
 */
int vfio_device_set_req_eventfd(struct machine *m, const char *dev_name);

/* ---- iommufd and the vfio device cdev ---- */

/**
 * iommufd_open() - open /dev/iommu: a new iommufd context
 * @ret_ictx: its number. Undo with iommufd_close().
 *
 * Return: 0; -EMFILE at the limit; -ENOENT without the IOMMU API.
 */
int iommufd_open(struct machine *m, int *ret_ictx);

/**
 * iommufd_close() - close an iommufd's file
 *
 * Its number is free again at once. Devices bound to it keep it (and its
 * IOAS and attachments) until the last of them is unbound.
 *
 * Return: 0; -EBADF not open.
 */
int iommufd_close(struct machine *m, int ictx);

/**
 * iommufd_ioas_alloc() - IOMMU_IOAS_ALLOC
 * @ret_ioas: the IOAS id. Return: 0; -EBADF; -ENOSPC at the limit.
 */
int iommufd_ioas_alloc(struct machine *m, int ictx, unsigned int *ret_ioas);

/**
 * vfio_device_cdev_open() - open /dev/vfio/devices/vfioX of a device bound
 * to a vfio bus driver (vfio_device_fops_cdev_open)
 *
 * An open /dev/vfio/N does not stop it, only the bind
 * (vfio_device_bind_iommufd()).
 *
 * Return: 0; -ENODEV not a vfio device; -EBUSY the device has a file open
 * already (the model keeps one file per device).
 */
int vfio_device_cdev_open(struct machine *m, const char *dev_name);

/**
 * vfio_device_bind_iommufd() - VFIO_DEVICE_BIND_IOMMUFD
 * (iommufd_device_bind): claims DMA ownership of the device's group with
 * the iommufd as owner; devices of one group bound to the same iommufd share
 * it. While bound, the device keeps its group file closed
 * (vfio_device_block_group(): cdev_device_open_cnt) until it is closed.
 *
 * Return, in this order: 0; -EBADF device not open; -EINVAL a device file
 * from vfio_group_get_device_fd(); -EBUSY the group file is open or held
 * by a device file opened through it; -EINVAL already bound; -EBADF
 * iommufd not open; -ENODEV no IOMMU group; -EPERM MSI not isolated (without
 * allow_unsafe_interrupts), or a kernel driver, a container or another
 * iommufd holds the group; claim errors as iommu_device_claim_dma_owner().
 */
int vfio_device_bind_iommufd(struct machine *m, const char *dev_name,
			     int ictx);

/**
 * vfio_device_attach_ioas() - VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * (iommufd_device_attach): the group gets a user domain for the IOAS
 *
 * Return: 0; -EBADF; -EINVAL not bound, unknown IOAS, or another device of
 * the group is attached to a different IOAS; attach errors.
 */
int vfio_device_attach_ioas(struct machine *m, const char *dev_name,
			    unsigned int ioas);

/**
 * vfio_device_detach_ioas() - VFIO_DEVICE_DETACH_IOMMUFD_PT: the last
 * device of the group to detach puts the group back on its blocking domain
 *
 * Return: 0; -EBADF; -EINVAL not attached.
 */
int vfio_device_detach_ioas(struct machine *m, const char *dev_name);

/* ---- vfio-pci hot reset (drivers/vfio/pci/vfio_pci_core.c) ---- */

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO flags (include/uapi/linux/vfio.h). */
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1u << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1u << 1)

/* A device's devid when it is not bound to the caller's iommufd. */
#define VFIO_PCI_DEVID_OWNED (-1)
#define VFIO_PCI_DEVID_NOT_OWNED (-2)
/*
 * Model only: bound to the caller's iommufd. The kernel gives the device's
 * iommufd object id there, a positive number the model does not keep.
 */
#define VFIO_PCI_DEVID_BOUND 0

/**
 * struct vfio_pci_dependent_device - a device a hot reset would reset
 * @name: its name, "SSSS:BB:DD.F" (the kernel gives segment, bus, devfn)
 * @group_id: without VFIO_PCI_HOT_RESET_FLAG_DEV_ID: its IOMMU group
 * @devid: with it: VFIO_PCI_DEVID_BOUND (bound to the caller's iommufd),
 *	VFIO_PCI_DEVID_OWNED (not bound to it, but its IOMMU group is:
 *	another device of the group is bound to it) or
 *	VFIO_PCI_DEVID_NOT_OWNED (neither, or not a vfio-pci device of the
 *	caller's device set)
 */
struct vfio_pci_dependent_device {
	char name[64];
	int group_id;
	int devid;
};

/**
 * vfio_pci_get_hot_reset_info() - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * (vfio_pci_ioctl_get_pci_hot_reset_info()): the devices a hot reset of
 * @dev_name would reset, which are all the devices on its bus and on the
 * buses below it (a secondary bus reset of the bridge above it; hot-plug
 * slots are not modelled)
 * @dev_name: a vfio-pci device, open through its group or its cdev
 * @ret_flags: 0 for a device opened through its group: the list gives IOMMU
 *	groups; VFIO_PCI_HOT_RESET_FLAG_DEV_ID for one bound to an iommufd
 *	through its cdev: the list gives devids, with
 *	VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED too when none is
 *	VFIO_PCI_DEVID_NOT_OWNED
 * @ret_devices: a new array, in pci_walk_bus() order; the caller frees it
 * @ret_n: its length, at least 1
 *
 * Return: 0; -EBADF the device is not open; -EINVAL a cdev not bound to an
 * iommufd yet; -ENOTTY not a vfio-pci device (vfio-platform...); -ENODEV
 * no bus reset: the device is on a root bus, or a device on or below its
 * bus, or the bridge above, cannot take a bus reset (no-bus-reset); -EPERM
 * (group path) an affected device has no IOMMU group; -ENOMEM.
 */
int vfio_pci_get_hot_reset_info(struct machine *m, const char *dev_name,
				unsigned int *ret_flags,
				struct vfio_pci_dependent_device **ret_devices,
				size_t *ret_n);

/**
 * vfio_pci_hot_reset() - VFIO_DEVICE_PCI_HOT_RESET
 * (vfio_pci_ioctl_pci_hot_reset(), vfio_pci_dev_set_hot_reset()): reset
 * the bus, if the caller owns every device it would reset
 * @dev_name: a vfio-pci device, open through its group or its cdev
 * @groups: through the group: the numbers of open group files, one for the
 *	group of each affected device; through a bound cdev: none, ownership
 *	is proven by the iommufd: each affected device must be bound to the
 *	caller's, or its group hold a device bound to it
 * @ngroups: the number of @groups: at least 1 through the group, 0 through
 *	the cdev; no more than the devices affected
 *
 * Every affected device must be a vfio-pci device of the caller's device
 * set: vfio-pci puts the devices of one bus in one set, so a bridge or a
 * device below one, or a device on another driver, forbids the reset. The
 * model keeps no device state a reset changes: success changes nothing.
 *
 * Return: 0; -EBADF the device is not open, or a number is not an open
 * group file; -EINVAL a cdev not bound yet, groups given through a bound
 * cdev or none through a group, more groups than affected devices, an
 * affected device not in the device set, or one not owned (its group not
 * given; not bound to the iommufd, nor its group); -ENOTTY not a vfio-pci
 * device; -ENODEV no bus reset (as vfio_pci_get_hot_reset_info()).
 */
int vfio_pci_hot_reset(struct machine *m, const char *dev_name,
		       const int *groups, size_t ngroups);

/*
 * The same two ioctls on a device descriptor of @p; a hot reset names the
 * group files by descriptor (-EINVAL: one that is not a group file).
 */
int vfio_ioctl_pci_hot_reset_info(struct process *p, int fd,
				  unsigned int *ret_flags,
				  struct vfio_pci_dependent_device **ret_devices,
				  size_t *ret_n);
int vfio_ioctl_pci_hot_reset(struct process *p, int fd, const int *group_fds,
			     size_t ngroups);

/**
 * vfio_pci_set_vf_token() - VFIO_DEVICE_FEATURE with
 * VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN on a PF that
 * vfio-pci drives: the UUID its VFs must be opened with
 * (VFIO_GROUP_GET_DEVICE_FD with "DDDD:BB:DD.F vf_token=UUID") while it
 * drives them too
 * @m: the machine; the device file is @dev_name's newest in the default
 *	process
 * @dev_name: the PF
 * @uuid: 8-4-4-4-12 hex digits
 *
 * Return: 0; -EBADF no file of the device open; -EINVAL a cdev not bound,
 * or not a UUID; -ENOTTY not a vfio-pci PF.
 */
int vfio_pci_set_vf_token(struct machine *m, const char *dev_name,
			  const char *uuid);
/* The same on a device descriptor of @p. */
int vfio_ioctl_pci_vf_token(struct process *p, int fd, const char *uuid);

/* ---- machine options of the VFIO/iommufd modules ---- */

/**
 * vfio_set_noiommu() - vfio's enable_unsafe_noiommu_mode: vfio bus drivers
 * accept devices without an IOMMU group, giving each an IOMMU group of its
 * own (vfio_noiommu_group_alloc(): a number from the common pool, named
 * "vfio-noiommu", no IOMMU, no domain; /dev/vfio/noiommu-N) that never
 * claims ownership and goes when the device is unbound
 */
void vfio_set_noiommu(struct machine *m, bool enable);

/** iommufd_set_allow_unsafe_interrupts() - iommufd's module parameter. */
void iommufd_set_allow_unsafe_interrupts(struct machine *m, bool allow);

/**
 * vfio_iommu_type1_set_allow_unsafe_interrupts() - vfio_iommu_type1's
 * allow_unsafe_interrupts: type1 takes groups whose MSIs the platform
 * cannot isolate
 */
void vfio_iommu_type1_set_allow_unsafe_interrupts(struct machine *m,
						  bool allow);

/* ---- a VMM's whole sequence, with QEMU's messages ---- */

/**
 * vmm_assign_device() - what QEMU does for "-device vfio-pci,host=DEV"
 * with the legacy container: open the device's group, check viability,
 * open a container, set it, set the type1v2 IOMMU, get the device file
 * @m: the machine
 * @dev_name: the device
 * @ret_container: receives the container's number on success
 * @msg: receives QEMU's error text on failure ("" on success)
 * @msg_len: size of @msg
 *
 * On failure everything the sequence opened is closed again.
 *
 * Return: 0 or the failing step's errno (-EPERM for a group that is not
 * viable, as QEMU gives up before trying SET_CONTAINER).
 */
int vmm_assign_device(struct machine *m, const char *dev_name,
		      int *ret_container, char *msg, size_t msg_len);

/**
 * vmm_release_device() - the VMM lets go: close the device file, the group
 * (which detaches the container and gives ownership back) and the container
 * @container: the container vmm_assign_device() gave; -1: the one set on
 *	the device's group now
 *
 * Return: 0 or the first failing step's errno.
 */
int vmm_release_device(struct machine *m, const char *dev_name,
		       int container);

/**
 * vfio_group_container() - the number of the container set on group
 * @group, or -1 (none, or its file is closed)
 */
int vfio_group_container(struct machine *m, int group);

/**
 * vfio_group_exists() - whether /dev/vfio/@group exists now
 */
bool vfio_group_exists(struct machine *m, int group);

#ifdef __cplusplus
}
#endif

#endif
