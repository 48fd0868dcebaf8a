/* SPDX-License-Identifier: MIT */
/**
 * DOC: the iommu core (drivers/iommu/iommu.c)
 *
 * IOMMU instances, groups, domains and the DMA-ownership protocol, with the
 * kernel's function names and the behaviour of mainline at about v6.6: the
 * seed's series as merged in v5.19, the blocking domain, iommufd's
 * per-device claim and the refusal of the blocking domain for devices with
 * firmware direct mappings.
 *
 * A group is either driven by kernel drivers through the DMA API
 * (owner == NULL, owner_cnt = drivers that took a use count), or owned by
 * userspace (owner != NULL), never a mixture.
 */
#ifndef DMAOWN_IOMMU_H
#define DMAOWN_IOMMU_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaown/device.h"
#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_device;
struct iommu_domain;
struct iommu_group;

/* ---- IOMMU instances ---- */

/**
 * iommu_device_alloc() - describe an IOMMU instance (an SMMU, a DMAR unit)
 * @m: the machine
 * @name: e.g. "smmu3.0x0000000002000000" or "dmar0"; 1..31 bytes
 * @domain_types: the IOMMU_DOMAIN_* types its driver can allocate;
 *	UNMANAGED and DMA are always added (every IOMMU driver has paging)
 *
 * Return: the instance, not yet registered, or ERR_PTR(-EINVAL) for a bad
 * name, ERR_PTR(-EEXIST) for a name the machine has already,
 * ERR_PTR(-ENOMEM). It lives until machine_destroy().
 */
struct iommu_device *iommu_device_alloc(struct machine *m, const char *name,
					unsigned int domain_types);

/**
 * iommu_device_register() - the IOMMU driver has probed its hardware
 * @iommu: from iommu_device_alloc()
 *
 * Every added device that firmware puts behind @iommu is probed into a group
 * (bus_iommu_probe()), each group gets its default domain, and the members
 * are attached to it. A device already bound to a driver at this point is
 * the late-registration case the driver core handles. Members that ask for
 * different default domain types (device_set_def_domain_type(); an
 * untrusted device asks for DMA) are no error: a warning, and the group
 * gets the machine's default type, as v6.6 does.
 *
 * Return: 0; -EEXIST if already registered; -ENODEV without IOMMU API.
 */
int iommu_device_register(struct iommu_device *iommu);

/**
 * iommu_device_set_msi_isolated() - whether the platform isolates MSIs
 * per group (interrupt remapping, GICv3 ITS); true by default. iommufd
 * refuses to bind devices behind an IOMMU without it.
 */
void iommu_device_set_msi_isolated(struct iommu_device *iommu, bool isolated);

/** machine_find_iommu() - an IOMMU instance by name, or NULL. */
struct iommu_device *machine_find_iommu(struct machine *m, const char *name);

/** iommu_device_is_registered() - iommu_device_register() has run. */
bool iommu_device_is_registered(const struct iommu_device *iommu);

/** iommu_device_name() - the name given to iommu_device_alloc(). */
const char *iommu_device_name(const struct iommu_device *iommu);

/* ---- probing devices into groups ---- */

/**
 * iommu_probe_device() - put a device in its IOMMU group
 * @dev: an added device
 *
 * Finds or makes the group (devices with the same firmware group key behind
 * the same IOMMU share one), logs "Adding to iommu group N", and attaches
 * the device to the group's current domain: the default domain when the
 * group is kernel-owned, the blocking or user domain when userspace owns it.
 * owner_cnt is not changed: joining is not using. A new group whose IOMMU
 * cannot make a domain of the type asked for is left without a default
 * domain (and without a domain), as v6.6 leaves it.
 *
 * Return: 0 (also when already in a group); -ENODEV when no registered IOMMU
 * translates for @dev or without IOMMU API; -ENOMEM; the attach error.
 */
int iommu_probe_device(struct device *dev);

/**
 * iommu_release_device() - take a device out of its group (device removal)
 * @dev: the device; nothing happens if it has no group
 *
 * When the last device leaves, the group's domains are freed. A group that
 * empties while still owned is a bug upstream WARNs about.
 */
void iommu_release_device(struct device *dev);

/**
 * iommu_group_get() - the device's group, with a reference
 * @dev: the device
 *
 * Return: the group or NULL. The caller must undo this with iommu_group_put().
 */
struct iommu_group *iommu_group_get(struct device *dev);

/** iommu_group_put() - drop a group reference; NULL is accepted. */
void iommu_group_put(struct iommu_group *group);

/** iommu_group_id() - the group's number, as in /sys/kernel/iommu_groups/N. */
int iommu_group_id(const struct iommu_group *group);

/* ---- domains ---- */

/**
 * iommu_paging_domain_alloc() - an UNMANAGED domain for a user of the IOMMU
 * API (VFIO type1, iommufd) on the IOMMU that translates for @dev
 *
 * Return: the domain, ERR_PTR(-ENODEV) when @dev has no IOMMU, or
 * ERR_PTR(-ENOMEM). The caller must undo this with iommu_domain_free().
 */
struct iommu_domain *iommu_paging_domain_alloc(struct device *dev);

/**
 * iommu_domain_free() - free a domain from iommu_paging_domain_alloc()
 *
 * Freeing a domain that devices are still attached to is a use-after-free
 * in the kernel; here it WARNs and the domain is kept until detached.
 */
void iommu_domain_free(struct iommu_domain *domain);

/** iommu_domain_type() - the domain's IOMMU_DOMAIN_* type. */
unsigned int iommu_domain_type(const struct iommu_domain *domain);

/**
 * iommu_attach_group() - attach a user domain to a whole group
 * @domain: an UNMANAGED domain
 * @group: the group
 *
 * Return: 0; -EBUSY if another user domain is attached already (the group's
 * domain is neither its default nor its blocking domain); -EINVAL if the
 * domain belongs to another IOMMU or a member refuses it; an attach error
 * (members already moved are moved back). The caller must undo this with
 * iommu_detach_group().
 */
int iommu_attach_group(struct iommu_domain *domain, struct iommu_group *group);

/**
 * iommu_detach_group() - back to the group's core domain
 *
 * The core domain is the blocking domain while userspace owns the group,
 * else the default domain.
 */
void iommu_detach_group(struct iommu_domain *domain, struct iommu_group *group);

/**
 * iommu_attach_device() - iommu_attach_group() for a device alone in its group
 *
 * Return: as iommu_attach_group(); -ENODEV without a group; -EINVAL if the
 * group has more than one device.
 */
int iommu_attach_device(struct iommu_domain *domain, struct device *dev);

/**
 * iommu_detach_device() - undo iommu_attach_device()
 *
 * WARNs (and does nothing) if @domain is not the group's domain or the group
 * has more than one device.
 */
void iommu_detach_device(struct iommu_domain *domain, struct device *dev);

/* ---- the DMA-ownership protocol (the seed's interfaces) ---- */

/**
 * iommu_device_use_default_domain() - a kernel driver will do DMA through
 * the DMA API on @dev
 * @dev: the device about to be bound
 *
 * Called by the bus's dma_configure before the driver's probe.
 *
 * Return: 0 and the group's owner_cnt taken (nothing counted when @dev has
 * no group); -EBUSY when the group is in use and either userspace owns it
 * or its domain is not the default domain. The caller must undo a 0 return
 * with iommu_device_unuse_default_domain().
 */
int iommu_device_use_default_domain(struct device *dev);

/**
 * iommu_device_unuse_default_domain() - the driver of @dev stops using the
 * DMA API (bus dma_cleanup, at unbind or after a failed probe)
 *
 * WARNs if the group's owner_cnt is already 0: the use was never counted.
 */
void iommu_device_unuse_default_domain(struct device *dev);

/**
 * iommu_group_claim_dma_owner() - userspace takes a whole group (VFIO)
 * @group: the group; NULL gives -ENODEV, as the no-IOMMU stub does
 * @owner: a non-NULL cookie naming the owner
 *
 * The group is switched to its blocking domain so nothing the kernel mapped
 * stays reachable.
 *
 * Return: 0 with owner set and owner_cnt = 1; -EINVAL (and a WARN) for a
 * NULL owner; -EPERM if a kernel driver or another owner holds the group;
 * -EBUSY if a foreign domain is attached; -EINVAL if no blocking domain can
 * be made or a member needs firmware direct mappings; an attach error. The
 * caller must undo a 0 return with iommu_group_release_dma_owner().
 */
int iommu_group_claim_dma_owner(struct iommu_group *group, void *owner);

/**
 * iommu_group_release_dma_owner() - userspace gives the group back
 * @group: a claimed group; NULL is accepted (no-IOMMU stub)
 *
 * owner_cnt goes to 0, owner to NULL, and the group goes back to its default
 * domain as it is now. WARNs if the group was not claimed.
 */
void iommu_group_release_dma_owner(struct iommu_group *group);

/**
 * iommu_group_dma_owner_claimed() - is the group in use?
 * @group: the group; NULL gives false
 *
 * Return: true while owner_cnt != 0, for a kernel driver's use as much as
 * for a userspace claim. Racy: for status reporting only.
 */
bool iommu_group_dma_owner_claimed(struct iommu_group *group);

/**
 * iommu_device_claim_dma_owner() - userspace takes a group through one of
 * its devices (iommufd); devices claimed with the same cookie share it
 * @dev: the device
 * @owner: a non-NULL cookie (the iommufd context)
 *
 * Return: 0 (owner_cnt counts the devices claimed with @owner); -EINVAL and
 * a WARN for a NULL owner; -ENODEV without a group; -EPERM if a kernel
 * driver or a different owner holds the group; else as
 * iommu_group_claim_dma_owner(). The caller must undo a 0 return with
 * iommu_device_release_dma_owner().
 */
int iommu_device_claim_dma_owner(struct device *dev, void *owner);

/**
 * iommu_device_release_dma_owner() - undo iommu_device_claim_dma_owner()
 *
 * The last device's release gives the group back as
 * iommu_group_release_dma_owner() does.
 */
void iommu_device_release_dma_owner(struct device *dev);

/* ---- default domain type (/sys/kernel/iommu_groups/N/type) ---- */

/**
 * iommu_group_store_type() - change a group's default domain type
 * @group: the group
 * @buf: "DMA", "DMA-FQ", "identity" or "auto", optionally newline-ended
 *
 * DMA to DMA-FQ happens live. Any other change makes a new default domain
 * and needs the group unused.
 *
 * Return: 0; -EINVAL for an unknown type, a group without default domain,
 * or a type a member cannot take (logged "Device cannot be in %s domain");
 * -EPERM while owner_cnt != 0 or the group
 * has no device; an allocation or attach error (the old domain is kept).
 */
int iommu_group_store_type(struct iommu_group *group, const char *buf);

/**
 * iommu_domain_type_str() - the text sysfs shows for a type ("DMA-FQ",
 * "identity", "blocked", "unmanaged", "DMA", "unknown")
 */
const char *iommu_domain_type_str(unsigned int type);

/* ---- reserved regions (/sys/kernel/iommu_groups/N/reserved_regions) ---- */

/**
 * enum iommu_kind - which IOMMU driver an instance has, for what its
 * driver reports of a device (its get_resv_regions())
 * @IOMMU_KIND_INTEL: intel-iommu (VT-d, DMAR): each RMRR whose scope names
 *	the device or a bridge above it, direct-relaxable for USB
 *	controllers and display devices (device_rmrr_is_relaxable()) and
 *	direct otherwise; 0-0xffffff direct-relaxable for an ISA bridge
 *	(CONFIG_INTEL_IOMMU_FLOPPY_WA, on in Debian); the IOAPIC/MSI range
 *	0xfee00000-0xfeefffff msi
 * @IOMMU_KIND_AMD: amd-iommu (AMD-Vi, IVRS): IVMD unity ranges direct; the
 *	MSI range 0xfee00000-0xfeefffff msi and the HyperTransport range
 *	0xfd00000000-0xffffffffff reserved
 * @IOMMU_KIND_ARM_SMMU_V3: arm-smmu-v3: the software MSI window
 *	0x8000000-0x80fffff (sw-msi); IORT RMRs direct
 * @IOMMU_KIND_ARM_SMMU: arm-smmu (SMMUv1/v2): as arm-smmu-v3
 * @IOMMU_KIND_MAX_: the number of kinds
 * @IOMMU_KIND_INVALID_: no kind
 */
enum iommu_kind {
	IOMMU_KIND_INTEL,
	IOMMU_KIND_AMD,
	IOMMU_KIND_ARM_SMMU_V3,
	IOMMU_KIND_ARM_SMMU,
	IOMMU_KIND_MAX_,
	IOMMU_KIND_INVALID_ = -EINVAL,
};

/**
 * enum iommu_resv_type - what a reserved region is (include/linux/iommu.h)
 * @IOMMU_RESV_DIRECT: must be mapped 1:1 at all times: a device with one
 *	cannot be put on a blocking domain, so its group cannot be claimed
 * @IOMMU_RESV_DIRECT_RELAXABLE: advertised 1:1, but may be ignored when the
 *	device is assigned (USB, graphics)
 * @IOMMU_RESV_RESERVED: never map this, nor give it to a device
 * @IOMMU_RESV_MSI: the hardware MSI doorbell range, untranslated
 * @IOMMU_RESV_SW_MSI: a software-managed MSI translation window; sysfs shows
 *	it as "msi" too, as the kernel does
 * @IOMMU_RESV_TYPE_MAX_: the number of types
 * @IOMMU_RESV_TYPE_INVALID_: no type
 */
enum iommu_resv_type {
	IOMMU_RESV_DIRECT,
	IOMMU_RESV_DIRECT_RELAXABLE,
	IOMMU_RESV_RESERVED,
	IOMMU_RESV_MSI,
	IOMMU_RESV_SW_MSI,
	IOMMU_RESV_TYPE_MAX_,
	IOMMU_RESV_TYPE_INVALID_ = -EINVAL,
};

/**
 * struct iommu_resv_region - a reserved range of I/O virtual addresses
 * @start: the first address
 * @length: its size in bytes, at least 1; start + length - 1 does not wrap
 * @type: what it is
 */
struct iommu_resv_region {
	uint64_t start;
	uint64_t length;
	enum iommu_resv_type type;
};

/** define IOMMU_RESV_REGIONS_MAX - the regions an IOMMU reports for all. */
#define IOMMU_RESV_REGIONS_MAX 8

/** define DEVICE_DIRECT_REGIONS_MAX - firmware 1:1 ranges per device. */
#define DEVICE_DIRECT_REGIONS_MAX 8

/**
 * iommu_device_set_kind() - which driver the IOMMU has: the regions it
 * reports for every device become the kind's (see enum iommu_kind); a new
 * instance has its firmware's usual kind, IOMMU_KIND_INTEL on x86 and
 * IOMMU_KIND_ARM_SMMU_V3 on ACPI/IORT and devicetree
 * @iommu: from iommu_device_alloc(), not registered yet
 * @kind: the kind
 *
 * Return: 0; -EINVAL an unknown kind; -EBUSY registered already.
 */
int iommu_device_set_kind(struct iommu_device *iommu, enum iommu_kind kind);

/**
 * iommu_device_kind() - the kind iommu_device_set_kind() gave, or the
 * firmware's usual one
 */
enum iommu_kind iommu_device_kind(const struct iommu_device *iommu);

/**
 * iommu_kind_name() - the machine-file name of a kind ("intel", "amd",
 * "arm-smmu-v3", "arm-smmu"), or NULL for an unknown one
 */
const char *iommu_kind_name(enum iommu_kind kind);

/**
 * iommu_device_set_resv_regions() - the regions the IOMMU's driver reports
 * for every device behind it, in place of its kind's (the MSI window and
 * the like; a firmware 1:1 range is a device's, device_add_direct_region())
 * @iommu: not registered yet
 * @regions: @n regions; @n == 0 reports none
 * @n: at most IOMMU_RESV_REGIONS_MAX
 *
 * Return: 0; -EINVAL too many, an unknown type, an empty or wrapping range;
 * -EBUSY registered already.
 */
int iommu_device_set_resv_regions(struct iommu_device *iommu,
				  const struct iommu_resv_region *regions,
				  size_t n);

/**
 * device_add_direct_region() - firmware asks for a 1:1 mapping of
 * [@start, @start + @length) for @dev and the devices below it (an RMRR
 * with the device in its scope, an IVMD unity range, an IORT RMR)
 * @dev: not added yet, behind an IOMMU (device_set_fw_iommu() first)
 * @start: the first address
 * @length: the size in bytes, at least 1
 *
 * The IOMMU's driver decides the region's type, as v6.6's do (enum
 * iommu_kind): when it is IOMMU_RESV_DIRECT the device needs 1:1 mappings
 * (require_direct): it cannot be put on a blocking domain, so its group
 * cannot be claimed for userspace.
 *
 * Return: 0; -EINVAL no IOMMU, an empty or wrapping range, or more than
 * DEVICE_DIRECT_REGIONS_MAX; -EBUSY the device is added.
 */
int device_add_direct_region(struct device *dev, uint64_t start,
			     uint64_t length);

/**
 * iommu_get_group_resv_regions() - the reserved regions of a group: those
 * the IOMMU driver reports for each member, in address order, overlapping
 * or adjacent ones of one type merged (iommu_get_group_resv_regions(),
 * iommu_insert_resv_region())
 * @group: the group
 * @ret_regions: a new array the caller frees, NULL when there are none
 * @ret_n: the number of regions
 *
 * Return: 0; -ENOMEM.
 */
int iommu_get_group_resv_regions(struct iommu_group *group,
				 struct iommu_resv_region **ret_regions,
				 size_t *ret_n);

/**
 * iommu_resv_type_str() - the name sysfs's reserved_regions gives a type:
 * "direct", "direct-relaxable", "reserved", "msi" (IOMMU_RESV_MSI and
 * IOMMU_RESV_SW_MSI alike), or NULL for an unknown one
 */
const char *iommu_resv_type_str(enum iommu_resv_type type);

/* ---- read-only inspection (for show, tests and the checker) ---- */

/**
 * struct iommu_group_info - a snapshot of a group, taken under its mutex
 * @id: group number
 * @ndevices: member devices
 * @owner: the owner cookie (NULL: the kernel)
 * @owner_cnt: the count
 * @domain: the attached domain (may be NULL)
 * @default_domain: the default domain (may be NULL)
 * @blocking_domain: the blocking domain, NULL until first claimed
 * @refcount: references held on the group
 */
struct iommu_group_info {
	int id;
	unsigned int ndevices;
	void *owner;
	unsigned int owner_cnt;
	struct iommu_domain *domain;
	struct iommu_domain *default_domain;
	struct iommu_domain *blocking_domain;
	unsigned int refcount;
};

/** iommu_group_get_info() - fill @ret_info with a snapshot of @group. */
void iommu_group_get_info(struct iommu_group *group,
			  struct iommu_group_info *ret_info);

/**
 * iommu_group_by_id() - the group numbered @id in @m, or NULL (no reference)
 */
struct iommu_group *iommu_group_by_id(struct machine *m, int id);

/** iommu_device_domain() - the domain @dev is attached to now, or NULL. */
struct iommu_domain *iommu_device_domain(struct device *dev);

#ifdef __cplusplus
}
#endif

#endif
