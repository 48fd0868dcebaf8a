/* SPDX-License-Identifier: MIT */
/**
 * DOC: devices
 *
 * A struct device is made with device_alloc(), described (firmware IOMMU
 * facts), then added with device_add() and taken away with device_del(), as
 * in include/linux/device.h. Buses and drivers are added by the driver core.
 */
#ifndef DMAOWN_DEVICE_H_PUBLIC
#define DMAOWN_DEVICE_H_PUBLIC

#include <stdbool.h>
#include <stddef.h>

#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct device;
struct iommu_device;

/**
 * device_alloc() - make a device that is not yet added
 * @m: the machine
 * @name: dev_name(), e.g. "0004:01:00.0"; 1..63 bytes
 * @parent: parent device or NULL
 *
 * Return: the device with one reference, or ERR_PTR(-EINVAL) for a bad
 * name, ERR_PTR(-EEXIST) if @m already has a device of that name,
 * ERR_PTR(-ENOMEM). The caller must undo this with put_device().
 */
struct device *device_alloc(struct machine *m, const char *name,
			    struct device *parent);

/**
 * device_set_fw_iommu() - what firmware says about the device's IOMMU
 * @dev: a device not yet added
 * @iommu: the IOMMU translating for @dev (NULL: none)
 * @group_key: devices behind the same IOMMU with the same non-zero key are
 *	put in one group (PCI aliasing and missing ACS); 0 gives a group of
 *	its own
 *
 * Return: 0, or -EBUSY if @dev is already added.
 */
int device_set_fw_iommu(struct device *dev, struct iommu_device *iommu,
			unsigned int group_key);

/**
 * device_set_require_direct() - firmware direct-map regions (RMRR, RMR)
 *
 * Such a device refuses the blocking domain: its group cannot be claimed
 * for userspace (v6.6 and later).
 */
void device_set_require_direct(struct device *dev, bool require_direct);

/* the most stream IDs a device's firmware description gives it */
#define DEVICE_STREAM_IDS_MAX 4

/**
 * device_set_fw_stream_ids() - the stream IDs firmware maps the device to
 * (IORT ID mappings, devicetree iommus/iommu-map): behind an arm-smmu
 * (SMMUv1/v2) devices that share one share an IOMMU group, as
 * arm_smmu_device_group() does; other IOMMU kinds ignore them
 * @dev: a device not yet added
 * @ids: the IDs; @n of them, at most DEVICE_STREAM_IDS_MAX
 *
 * Return: 0; -EINVAL too many; -EBUSY added already.
 */
int device_set_fw_stream_ids(struct device *dev, const unsigned int *ids,
			     unsigned int n);

/**
 * device_set_untrusted() - an external-facing (Thunderbolt) PCI device,
 * which asks for a DMA (translated) default domain whatever its IOMMU
 * driver says; a member of its group that asks for another type makes the
 * group take the machine's default type (with a warning), as in v6.6.
 */
void device_set_untrusted(struct device *dev, bool untrusted);

/**
 * device_set_def_domain_type() - a default domain type the IOMMU driver
 * insists on for this device (its def_domain_type op), or 0 for none.
 */
void device_set_def_domain_type(struct device *dev, unsigned int type);

/**
 * device_add() - make the device part of the machine
 * @dev: from device_alloc()
 *
 * Return: 0, -EBUSY if already added. The caller must undo this with
 * device_del().
 */
int device_add(struct device *dev);

/**
 * device_del() - take the device out of the machine
 * @dev: an added device
 *
 * The device leaves its IOMMU group (iommu_release_device()). The caller
 * still holds its reference: put_device() frees it.
 */
void device_del(struct device *dev);

/** get_device() - take a reference; returns @dev. */
struct device *get_device(struct device *dev);

/** put_device() - drop a reference; the last one frees. NULL is accepted. */
void put_device(struct device *dev);

/** machine_find_device() - an added device by name, or NULL (no reference). */
struct device *machine_find_device(struct machine *m, const char *name);

/** machine_device_count() - how many devices are added now. */
size_t machine_device_count(struct machine *m);

/** device_name() - dev_name() for library users. */
const char *device_name(const struct device *dev);

#ifdef __cplusplus
}
#endif

#endif
