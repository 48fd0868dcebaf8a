/* SPDX-License-Identifier: MIT */
/*
 * The driver core's private structures (drivers/base/base.h and the parts of
 * include/linux/device/bus.h and driver.h the model needs).
 *
 * Locking: device_lock (struct device::mutex) is held around probe and
 * remove, as the kernel holds it; a device's parent is locked first when the
 * bus asks for it. machine::obj_lock protects the lists of buses, drivers
 * and the deferred-probe list, and each device's driver_override string
 * (the buses match without device_lock). A driver's dynamic ids and its
 * probe-fault hook are protected by bus_type::ids_lock. dev->driver and
 * dev->bound change under device_lock; sysfs and the stores peek at them
 * with READ_ONCE().
 */
#ifndef DMAOWN_BASE_H
#define DMAOWN_BASE_H

#include "dmaown/driver.h"
#include "drivers/base/device.h"

#define DRIVER_NAME_MAX 32
#define DRIVER_DYNIDS_MAX 64
#define DRIVER_OVERRIDE_MAX 4095 /* PAGE_SIZE - 1, as driver_set_override() */

#define PCI_ANY_ID (~0u)

/* A PCI id table row (struct pci_device_id); vendor 0 ends a table. */
struct pci_device_id {
	unsigned int vendor, device, subvendor, subdevice;
	unsigned int class, class_mask;
	bool override_only; /* binds only through driver_override */
};

struct amba_id {
	unsigned int id, mask;
};

/* How a driver's probe behaves, beyond succeeding. */
enum driver_probe_kind {
	PROBE_PLAIN,      /* succeeds */
	PROBE_PCIEPORT,   /* PCIe root/switch ports only, else -ENODEV */
	PROBE_SHPCHP,     /* bridges with an SHPC capability, else -ENODEV */
	PROBE_VIRTIO_PCI, /* device ids 0x1000..0x107f only, else -ENODEV */
	PROBE_STUB,       /* pci-stub: logs "claimed by stub" */
	PROBE_VFIO,       /* vfio bus drivers: need an IOMMU group (-EINVAL) */
	PROBE_VFIO_PCI,   /* vfio-pci: also normal header type only (-EINVAL) */
	PROBE_VFIO_PLATFORM, /* vfio-platform: also a reset handler (-ENOENT) */
};

/*
 * The vfio bus drivers. VFIO selects IOMMU_API: a kernel without it has
 * none of them.
 */
static inline bool driver_probe_is_vfio(enum driver_probe_kind probe)
{
	return probe == PROBE_VFIO || probe == PROBE_VFIO_PCI ||
	       probe == PROBE_VFIO_PLATFORM;
}

/*
 * A PF driver's sriov_configure (struct pci_driver), as the catalogue's
 * drivers have it in v6.6; SRIOV_NONE: the driver has none.
 */
enum driver_sriov_kind {
	SRIOV_NONE,
	SRIOV_IXGBE,      /* ixgbe_pci_sriov_configure() */
	SRIOV_I40E,       /* i40e_pci_sriov_configure() */
	SRIOV_VFIO_PCI,   /* vfio_pci_sriov_configure(): enable_sriov=1 */
};

/**
 * struct driver_desc - a driver of the catalogue: data, not code
 * @name: driver name as in /sys/bus/X/drivers/NAME
 * @module: module name for modprobe/rmmod (NULL: @name with '-' as '_')
 * @bus: the bus it registers on
 * @driver_managed_dma: the driver never uses the kernel DMA API on its
 *	devices (vfio, pci-stub, pcieport): it takes no use count
 * @probe: probe behaviour
 * @pci_ids: PCI id table (vendor 0 ends it) or NULL
 * @of_compatible: devicetree compatibles (NULL-terminated) or NULL
 * @amba_ids: AMBA ids (id 0 ends it) or NULL
 * @mc_types: fsl-mc object types (NULL-terminated) or NULL
 * @sriov: its sriov_configure, for a PF driver
 */
struct driver_desc {
	const char *name;
	const char *module;
	enum bus_kind bus;
	bool driver_managed_dma;
	enum driver_probe_kind probe;
	const struct pci_device_id *pci_ids;
	const char *const *of_compatible;
	const struct amba_id *amba_ids;
	const char *const *mc_types;
	enum driver_sriov_kind sriov;
};

/* The catalogue (drivers/catalogue.c): entry @i, NULL past the end. */
const struct driver_desc *driver_catalogue_entry(size_t i);
const struct driver_desc *driver_desc_find(const char *name);
/* The catalogue driver's probe decision for the device it is binding. */
int driver_desc_probe(struct device *dev);
void driver_desc_remove(struct device *dev);
/* Whether the driver has sriov_configure (struct pci_driver). */
bool driver_has_sriov_configure(const struct device_driver *drv);
/*
 * The bound PF driver's sriov_configure(@dev, @num_vfs), under the PF's
 * device_lock: the number of VFs enabled, or a negative errno.
 */
int driver_desc_sriov_configure(struct device *dev, int num_vfs);

/* A bus's operations (struct bus_type's methods). */
struct bus_ops {
	const char *name;
	enum bus_kind kind;
	/* >0 match, 0 no match, <0 error (include/linux/device/bus.h) */
	int (*match)(struct device *dev, struct device_driver *drv);
	int (*probe)(struct device *dev);
	void (*remove)(struct device *dev);
	int (*dma_configure)(struct device *dev);
	void (*dma_cleanup)(struct device *dev);
	bool need_parent_lock;
};

struct bus_type {
	const char *name;             /* == ops->name */
	size_t name_len;              /* strlen(name) */
	const struct bus_ops *ops;
	struct machine *m;
	struct list_head node;        /* machine::buses */
	struct list_head drivers;     /* struct device_driver::node */
	struct list_head devices;     /* added devices (device::bus_node, obj_lock) */
	bool drivers_autoprobe;
	struct mutex ids_lock;        /* drivers' dynamic ids, probe faults */
};

struct device_driver {
	/*
	 * A reference for each user outside obj_lock (a sysfs write in
	 * flight, a probe walk); unloading unlinks the driver, marks it
	 * dying, unbinds it everywhere and drops the list's reference, as the
	 * kernel drains the active references of the driver's sysfs files.
	 */
	struct kref kref;
	bool dying;                   /* unloading: binds fail with -ENODEV */
	/*
	 * Binds past their dying check and not yet done (each under its
	 * device's lock; __driver_probe_device()): what driver_detach()
	 * waits for, as the kernel's klist_remove() of the driver waits for
	 * the bus walks that are on it. 0 whenever the machine is quiescent.
	 */
	unsigned int probing;
	const char *name;             /* == desc->name */
	size_t name_len;              /* strlen(name) */
	const struct driver_desc *desc;
	struct bus_type *bus;
	struct list_head node;        /* bus_type::drivers (obj_lock) */
	struct list_head devices;     /* bound devices (device::drv_node, obj_lock) */
	bool driver_managed_dma;
	/*
	 * PCI new_id/remove_id, under bus->ids_lock: room for
	 * DRIVER_DYNIDS_MAX, allocated by the first driver_add_dynid() (NULL
	 * until then). Out of line, as the array made the driver 1.9 KB, past
	 * malloc's per-thread cache, and a machine's clone copies every driver.
	 */
	struct pci_device_id *dynids;
	unsigned int ndynids;
	/* Fault injection: the next @fail_count probes fail with @fail_errno
	 * (fail_count < 0: every probe); under bus->ids_lock. */
	int fail_errno;
	int fail_count;
	/* vfio-platform's reset_required module parameter (0444: set at load) */
	bool reset_required;
	/* vfio-pci's enable_sriov module parameter (default off) */
	bool enable_sriov;
	/*
	 * The references on the driver's module (the kernel's
	 * module::refcnt less its base): one for each vfio device of the
	 * driver that userspace has open, taken at its first open and put
	 * at its last close (vfio_df_device_first_open(),
	 * vfio_df_device_last_close()), so that delete_module() reads
	 * whether the module is in use without walking the devices. Under
	 * m->vfio_lock, the lock of all its users. Not in the state text:
	 * the open vfio devices say it; a clone copies it.
	 */
	unsigned int module_refs;
};

/*
 * bus.c: the driver's module references, under m->vfio_lock.
 * try_module_get() takes one (true; NULL, a module-less owner, takes
 * none); module_put() gives one back; module_refcount() reads them.
 */
bool try_module_get(struct device_driver *drv);
void module_put(struct device_driver *drv);
unsigned int module_refcount(const struct device_driver *drv);

/* dd.c */
int device_driver_attach(struct device_driver *drv, struct device *dev);
void device_driver_detach(struct device *dev);
int device_attach(struct device *dev);
int driver_attach(struct device_driver *drv);
void driver_detach(struct device_driver *drv);
void device_release_driver(struct device *dev);
int driver_match_device(struct device_driver *drv, struct device *dev);
void driver_deferred_probe_trigger(struct machine *m);
void driver_deferred_probe_del(struct device *dev);

/*
 * core.c: hot-plug, hot-unplug and rescans one at a time (the kernel's
 * pci_lock_rescan_remove(), taken by the sysfs remove and rescan stores and
 * the hot-plug verbs); outermost in the lock order.
 */
void pci_lock_rescan_remove(struct machine *m);
void pci_unlock_rescan_remove(struct machine *m);

/* bus.c */
/* Append @id to @drv's dynamic ids; caller holds bus->ids_lock or owns @drv.
 * Return: 0, -ENOSPC (DRIVER_DYNIDS_MAX of them), -ENOMEM. */
int driver_add_dynid(struct device_driver *drv, const struct pci_device_id *id);
struct device_driver *driver_get(struct device_driver *drv);
void driver_put(struct device_driver *drv);
struct bus_type *bus_find(struct machine *m, enum bus_kind kind);
struct device *bus_find_device_by_name(struct bus_type *bus,
				       const char *name);
struct device_driver *bus_find_driver(struct bus_type *bus, const char *name);
/* Return: device_attach()'s result; 0 with drivers_autoprobe off. */
int bus_probe_device(struct device *dev);
void bus_remove_device(struct device *dev);
int device_match_driver_override(struct device *dev,
				 const struct device_driver *drv);

/* The firmware half of dma_configure (of_dma_configure/acpi_dma_configure):
 * on IORT and devicetree machines this is where the device joins its IOMMU
 * group. @fwnode_dev is the device whose firmware node describes the DMA
 * (the PCI host bridge, the fsl-mc root container) or @dev itself. */
int firmware_dma_configure(struct device *dev, struct device *fwnode_dev);

/*
 * The DMA-ownership half shared by every bus: with firmware_dma_configure()
 * done, take the kernel-DMA use count unless the driver manages DMA itself;
 * on failure tear the DMA set-up down. With MACHINE_FAULT_V7_ORDER the use
 * count is taken first, as v7 of the seed series did.
 */
int bus_dma_configure_common(struct device *dev, struct device *fwnode_dev);
void bus_dma_cleanup_common(struct device *dev);

extern const struct bus_ops pci_bus_ops;
extern const struct bus_ops platform_bus_ops;
extern const struct bus_ops amba_bus_ops;
extern const struct bus_ops fsl_mc_bus_ops;

/* PCI (drivers/pci/pci-driver.c) */
bool pci_match_one_device(const struct pci_device_id *id,
			  const struct device *dev);

/*
 * The module @desc's driver comes in (its /sys/module name, with
 * underscores), into @buf; false for a driver built into the kernel.
 */
bool driver_module_name(const struct driver_desc *desc, char *buf, size_t len);
/*
 * Whether driver_load_params() carries out @param for @desc's driver
 * (vfio-pci's ids=, ...); the module's other parameters (disable_idle_d3=,
 * nouveau's modeset=) are not modelled.
 */
bool driver_param_modelled(const struct driver_desc *desc, const char *param);

/*
 * The vfio bus driver of a bus (vfio-pci, vfio-platform, vfio-amba,
 * vfio-fsl-mc): what userspace binds a device of it to; NULL for none.
 */
const char *bus_vfio_driver_name(enum bus_kind kind);

#endif
