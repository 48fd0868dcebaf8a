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

struct bus_type;
struct device_driver;

/*
 * What a bus's match() compares: PCI ids and class, devicetree compatible,
 * AMBA peripheral id, fsl-mc object type. Set before device_add().
 */
struct dev_ids {
	unsigned int vendor, device, subvendor, subdevice;
	unsigned int class;          /* 24-bit PCI class code */
	unsigned char hdr_type;      /* PCI_HEADER_TYPE_* */
	unsigned char revision;      /* PCI revision ID */
	unsigned char pcie_type;     /* PCI_EXP_TYPE_*, PCI_EXP_TYPE_NONE */
	char compatible[64];         /* devicetree "compatible" (platform) */
	unsigned int periphid;       /* AMBA */
	char mc_type[16];            /* fsl-mc object type: "dpni", "dprc" */
};

#define DEVICE_NAME_MAX 64

/* PCI_RESET_METHOD_MAX_ of dmaown/driver.h: reset methods, 0 included */
#define PCI_NUM_RESET_METHODS 7

/* DEVICE_STREAM_IDS_MAX of dmaown/device.h */
#define DEV_STREAM_IDS_MAX 4

/* DEVICE_DIRECT_REGIONS_MAX of dmaown/iommu.h */
#define DEV_DIRECT_REGIONS_MAX 8

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
	/* the fwspec's stream IDs (IORT, iommu-map): arm-smmu groups by them */
	unsigned int nr_sids;
	unsigned int sids[DEV_STREAM_IDS_MAX];
	/* firmware 1:1 ranges: device_add_direct_region() (resv.c) */
	unsigned int nr_direct;
	struct {
		uint64_t start, length;
	} direct[DEV_DIRECT_REGIONS_MAX];
};

struct device {
	struct machine *m;
	struct list_head node;       /* machine::devices, under obj_lock */
	int serial;                  /* creation order; debugging only */
	char name[DEVICE_NAME_MAX];
	unsigned char name_len;      /* strlen(name): the checker writes it per state */
	struct device *parent;
	struct kref kref;
	bool added;                  /* between device_add() and device_del() */
	bool absent;                 /* not plugged in: PCI rescan skips it */

	/* device_lock(): held by the driver core around probe and remove. */
	struct mutex mutex;

	struct dev_iommu_fw fw;
	/*
	 * IORT/devicetree: firmware configuration made the device's fwspec
	 * (at its first dma_configure with the IOMMU registered). Until then
	 * bus_iommu_probe() cannot see the device, as in the kernel.
	 */
	bool fwspec;

	/*
	 * Written only under the group's mutex (iommu.c); stable while a driver
	 * is bound, because a bound device cannot leave its group.
	 */
	struct iommu_group *iommu_group;
	/* The domain the IOMMU translates this device with now (group mutex). */
	struct iommu_domain *iommu_domain;

	/*
	 * Driver core (bus.c, dd.c). Under device_lock unless noted; @driver
	 * and @bound are written with WRITE_ONCE() for the lockless peeks of
	 * sysfs and the bind/unbind stores.
	 */
	struct bus_type *bus;
	struct device_driver *driver;
	bool bound;                  /* driver_bound() done: probe succeeded */
	char *driver_override;       /* bus driver_override attribute; also
				      * under obj_lock, which match() holds */
	struct dev_ids ids;
	struct list_head deferred;   /* machine::deferred_probe (obj_lock) */
	/* added devices whose parent it is: a bridge's bus (obj_lock) */
	unsigned int children_added;
	/*
	 * What sysfs lists, kept so that a listing costs its own entries
	 * (obj_lock): @children, the added devices whose parent it is, by
	 * @sibling (a top-level device's @sibling is on its dev_root's list);
	 * @bus_node on bus_type::devices while added; @drv_node on
	 * device_driver::devices while bound.
	 */
	struct list_head children;
	struct list_head sibling;
	struct list_head bus_node;
	struct list_head drv_node;
	/*
	 * A top-level device's /sys/devices directory (device_sysfs_root()),
	 * found once when it is first added: a clone remaps it instead of
	 * naming it again for every device.
	 */
	struct dev_root *root;
	/*
	 * PCI function reset (drivers/pci/pci.c): @caps, the function's own
	 * methods, and @no_bus_reset are set before device_add(); @methods,
	 * reset_method's list in order (0 ends it), is found at device_add()
	 * (pci_init_reset_methods()) and written through reset_method, under
	 * device_lock; @attr, whether the reset_method file exists, is decided
	 * at device_add() (its attribute group's is_visible).
	 */
	struct {
		unsigned int caps;
		bool no_bus_reset;
		bool attr;
		unsigned char methods[PCI_NUM_RESET_METHODS];
	} pci_reset;

	/*
	 * What the PCI core reads at enumeration and the grouping rules use
	 * (drivers/pci/pci.c, src/drivers/pci/pci.h): the ACS capability
	 * (@acs: enum pci_acs_state; @acs_ctrl -1: as the kernel enables it),
	 * the header's multifunction bit, and the requester IDs on its own
	 * bus it also uses (dma_alias_mask). Set before device_add().
	 */
	struct {
		unsigned char acs;
		unsigned short acs_cap;
		int acs_ctrl;
		bool multifunction;
		bool shpc; /* a Standard Hot-Plug Controller capability */
		uint64_t dma_alias_mask[4];
	} pci;

	/*
	 * SR-IOV (drivers/pci/iov.c, struct pci_sriov and the pci_dev bits):
	 * a PF's capability (@total_VFs, @offset, @stride, @vf_device) is set
	 * before device_add(); @num_VFs changes under the PF's device_lock
	 * (sriov_numvfs_store() or the PF driver's probe and remove), and
	 * @drivers_autoprobe is a plain flag as in the kernel. A VF holds a
	 * reference on its PF (@physfn) and knows its index (@vf_id).
	 * @vfio_pf: the PF is on vfio-pci's vfio_pci_sriov_pfs list (it
	 * enabled SR-IOV through vfio_pci_core_sriov_configure()).
	 */
	struct {
		bool is_physfn, is_virtfn;
		unsigned short total_VFs, offset, stride, vf_device, num_VFs;
		bool drivers_autoprobe;
		bool vfio_pf;
		struct device *physfn;
		unsigned int vf_id;
		bool vf_removed;	/* pci_iov_remove_virtfn() took it */
		/* a PF: VFs 0..nr_links-1 may have virtfnN links (obj_lock) */
		unsigned short nr_links;
		/*
		 * vfio-pci's VF token (vfio_pci_core.c), under vfio_lock: a
		 * PF's, while vfio-pci drives it (@vf_token_set false: the
		 * random UUID of vfio_pci_vf_init(), which nobody knows), and
		 * how many of its VFs' vfio devices are open; a VF's
		 * @vfio_pf_found: its PF was on vfio_pci_sriov_pfs when
		 * vfio-pci probed it (vdev->sriov_pf_core_dev).
		 */
		bool vf_token_set;
		char vf_token[37];
		unsigned int vf_token_users;
		bool vfio_pf_found;
	} sriov;

	/*
	 * The kernel-DMA use of the bound driver, balanced by construction:
	 * @active from a successful dma_configure use step until dma_cleanup;
	 * @group is the group the count was taken in (NULL: none yet). A device
	 * that joins a group while @active is counted on joining
	 * (iommu_probe_device()), so every count taken is given back exactly
	 * once, whatever the order of group arrival, probe and unbind.
	 * Protected by machine::iommu_probe_device_lock.
	 */
	struct {
		bool active;
		struct iommu_group *group;
	} dma_use;
};

static inline const char *dev_name(const struct device *dev)
{
	return dev->name;
}

/*
 * A snapshot of the devices @match accepts (called under obj_lock, so it
 * may test dev->added), each with a reference (bus_for_each_dev()): the
 * list lock is not held while the caller works on them. NULL on no
 * memory. Undo with devices_put().
 */
struct device **devices_get(struct machine *m,
			    bool (*match)(struct device *dev, const void *arg),
			    const void *arg, size_t *ret_n);
void devices_put(struct device **devs, size_t n);

/*
 * A directory of /sys/devices: "pciSSSS:BB" for a PCI root bus, "platform",
 * "fsl-mc". Made the first time a top-level device of it is added, and
 * kept (a root bus stays known after its devices go); @count is how many
 * added top-level devices it has, so it is listed while @count > 0.
 * Head at machine::dev_roots, indexed by name in machine::dev_roots_by_name,
 * both under obj_lock.
 */
struct dev_root {
	struct list_head node;
	struct list_head devices;     /* added top-level devices (@sibling) */
	unsigned int count;
	char name[32];
};

/* The /sys/devices directory @dev's top-level ancestor lives in. */
void device_sysfs_root(const struct device *dev, char *buf, size_t len);

/* The root named @name (@len bytes), or NULL; caller holds obj_lock. */
struct dev_root *device_root_find(struct machine *m, const char *name,
				  size_t len);

/* The kernel's dev_driver_string(): driver name, else bus name, else "". */
const char *dev_driver_string(const struct device *dev);

void dev_printk(const char *level, const struct device *dev,
		const char *fmt, ...) __printf(3, 4);

#define dev_err(dev, fmt, ...) dev_printk(KERN_ERR, dev, fmt, ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) \
	dev_printk(KERN_WARNING, dev, fmt, ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...) \
	dev_printk(KERN_NOTICE, dev, fmt, ##__VA_ARGS__)
#define dev_info(dev, fmt, ...) dev_printk(KERN_INFO, dev, fmt, ##__VA_ARGS__)
/*
 * dev_dbg(): without DEBUG or dynamic debug switched on for the call site
 * (a kernel's default), the message is not logged at all; the arguments
 * are still type-checked, as no_printk() does.
 */
#define dev_dbg(dev, fmt, ...)                                        \
	({                                                            \
		if (0)                                                \
			dev_printk(KERN_DEBUG, dev, fmt, ##__VA_ARGS__); \
	})

static inline void device_lock(struct device *dev)
{
	mutex_lock(&dev->mutex);
}

static inline void device_unlock(struct device *dev)
{
	mutex_unlock(&dev->mutex);
}

#endif
