/* SPDX-License-Identifier: MIT */
/*
 * struct device: the part of include/linux/device.h the model needs. The
 * driver core (dd.c, bus.c) and the buses add their fields here.
 */
#ifndef DMAOWN_DEVICE_H
#define DMAOWN_DEVICE_H

#include "compat/kernel.h"
#include "dmaown/device.h"

struct iommu_group;
struct iommu_domain;
struct iommu_device;

/* A bus (pci, platform, amba, fsl-mc); bus.c adds its operations. */
struct bus_type {
	const char *name;
};

/* A driver; dd.c and the buses add probe/remove and the id tables. */
struct device_driver {
	const char *name;
	bool driver_managed_dma;
};

#define DEVICE_NAME_MAX 64

/*
 * What firmware (IORT, devicetree, DMAR/IVRS) says about a device's IOMMU.
 * Set before device_add(); read-only afterwards.
 */
struct dev_iommu_fw {
	struct iommu_device *iommu;  /* the IOMMU that translates for it */
	unsigned int group_key;      /* equal non-zero keys share a group */
	unsigned int def_domain_type; /* forced by the IOMMU driver, 0: none */
	bool require_direct;         /* RMRR / IORT RMR: needs 1:1 mappings */
	bool untrusted;              /* external-facing: forces DMA domains */
};

struct device {
	struct machine *m;
	struct list_head node;       /* machine::devices, under obj_lock */
	int serial;                  /* creation order; debugging only */
	char name[DEVICE_NAME_MAX];
	struct device *parent;
	struct kref kref;
	bool added;                  /* between device_add() and device_del() */

	/* device_lock(): held by the driver core around probe and remove. */
	struct mutex mutex;

	struct dev_iommu_fw fw;

	/*
	 * Written only under the group's mutex (iommu.c); stable while a driver
	 * is bound, because a bound device cannot leave its group.
	 */
	struct iommu_group *iommu_group;
	/* The domain the IOMMU translates this device with now (group mutex). */
	struct iommu_domain *iommu_domain;

	/* Driver core; filled in by bus.c/dd.c. */
	struct bus_type *bus;
	struct device_driver *driver;
};

static inline const char *dev_name(const struct device *dev)
{
	return dev->name;
}

/* The kernel's dev_driver_string(): driver name, else bus name, else "". */
const char *dev_driver_string(const struct device *dev);

void dev_printk(const char *level, const struct device *dev,
		const char *fmt, ...) __printf(3, 4);

#define dev_err(dev, fmt, ...) dev_printk(KERN_ERR, dev, fmt, ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) \
	dev_printk(KERN_WARNING, dev, fmt, ##__VA_ARGS__)
#define dev_info(dev, fmt, ...) dev_printk(KERN_INFO, dev, fmt, ##__VA_ARGS__)

static inline void device_lock(struct device *dev)
{
	mutex_lock(&dev->mutex);
}

static inline void device_unlock(struct device *dev)
{
	mutex_unlock(&dev->mutex);
}

#endif
