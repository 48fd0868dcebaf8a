/* SPDX-License-Identifier: MIT */
/*
 * The PCI core's interfaces for the rest of the model: function resets and
 * the bus walks a hot reset needs. Counterpart of drivers/pci/pci.h.
 *
 * A device's bus in the model: the devices that share its parent bridge
 * (the bridge's secondary bus), or, with no parent, a root bus. A bridge's
 * subordinate bus holds the devices whose parent it is. Hot-plug slots are
 * not modelled: pci_probe_reset_slot() always fails, as for a device
 * without one, and every hot reset is a bus reset.
 */
#ifndef DMAOWN_PCI_PRIV_H
#define DMAOWN_PCI_PRIV_H

#include "drivers/base/base.h"

/*
 * pci_init_reset_methods(): the reset methods the function has now, in the
 * kernel's order, into dev->pci_reset.methods; at device_add(), before the
 * device counts on its bus, which also decides whether reset_method
 * exists. Takes device_lock and obj_lock.
 */
void pci_init_reset_methods(struct device *dev);

/* The reset_method attribute (drivers/pci/pci.c), under device_lock. */
bool pci_reset_method_visible(const struct device *dev);
int reset_method_show(struct device *dev, struct sbuf *sb);
int reset_method_store(struct device *dev, const char *buf);

/* pci_is_root_bus(dev->bus): no bridge above the device. */
static inline bool pci_dev_on_root_bus(const struct device *dev)
{
	return !dev->parent;
}

/* -ENOTTY: no hot-plug slot, so no slot reset (pci_probe_reset_slot()). */
int pci_probe_reset_slot(struct device *dev);

/*
 * pci_probe_reset_bus(): 0 if a secondary bus reset of @dev's bus is
 * possible (a bridge above, no device on or below the bus with
 * PCI_DEV_FLAGS_NO_BUS_RESET, nor the bridge), else -ENOTTY. Takes
 * obj_lock.
 */
int pci_probe_reset_bus(struct device *dev);

/*
 * pci_walk_bus() of @dev's bus, collected: the added devices on it and on
 * the buses below it, each bridge followed by the devices below it, each
 * with a reference (devices_put()). NULL and *ret_n 0 on no memory. Takes
 * obj_lock.
 */
struct device **pci_walk_bus_get(struct device *dev, size_t *ret_n);

/* "DDDD:BB:DD.F" into its numbers; false for another name */
bool pci_name_parse(const char *name, unsigned int *domain,
		    unsigned int *busnr, unsigned int *devfn);

/* ---- SR-IOV (drivers/pci/iov.c, v6.6) ---- */

static inline bool dev_is_pf(const struct device *dev)
{
	return dev->sriov.is_physfn;
}

static inline bool dev_is_vf(const struct device *dev)
{
	return dev->sriov.is_virtfn;
}

/*
 * pci_enable_sriov(): add @nr_virtfn VFs (0 does nothing); -EINVAL with
 * VFs already enabled or more than TotalVFs, -ENOSYS for a function that
 * is not a PF, or the error of the VF that could not be added (the VFs
 * before it are removed again). Called by a PF driver's sriov_configure
 * under the PF's device_lock.
 */
int pci_enable_sriov(struct device *dev, int nr_virtfn);
/* pci_disable_sriov(): remove every VF, unbinding its driver first. */
void pci_disable_sriov(struct device *dev);
int pci_num_vf(const struct device *dev);
/* Always 0: nothing in the model marks a VF assigned (iov.c). */
int pci_vfs_assigned(const struct device *dev);
unsigned int pci_sriov_get_totalvfs(const struct device *dev);
void pci_vf_drivers_autoprobe(struct device *dev, bool auto_probe);
int pci_iov_add_virtfn(struct device *dev, int id);
void pci_iov_remove_virtfn(struct device *dev, int id);
/* pci_device_can_probe(): false for a VF whose PF's VFs do not autoprobe
 * and that has no driver_override. Takes obj_lock. */
bool pci_device_can_probe(struct device *dev);
/* pci_iov_remove(): after a PF driver's remove, warns if VFs are left. */
void pci_iov_remove(struct device *dev);
/*
 * vfio_pci_bus_notifier() on BUS_NOTIFY_BOUND_DRIVER: a VF of a PF that
 * vfio-pci drives bound to another driver is warned about on the PF.
 */
void vfio_pci_bus_notifier_bound(struct device *dev);
/* A VF's release: drops its PF reference. */
void pci_iov_release(struct device *dev);
/* VF @id of PF @dev, if it exists (added or not), or NULL; obj_lock held. */
struct device *pci_iov_virtfn_locked(struct device *dev, unsigned int id);

/* The SR-IOV attributes (sriov_pf_dev_attrs, sriov_vf_dev_attrs). */
int sriov_totalvfs_show(struct device *dev, struct sbuf *sb);
int sriov_numvfs_show(struct device *dev, struct sbuf *sb);
int sriov_numvfs_store(struct device *dev, const char *buf);
int sriov_offset_show(struct device *dev, struct sbuf *sb);
int sriov_stride_show(struct device *dev, struct sbuf *sb);
int sriov_vf_device_show(struct device *dev, struct sbuf *sb);
int sriov_drivers_autoprobe_show(struct device *dev, struct sbuf *sb);
int sriov_drivers_autoprobe_store(struct device *dev, const char *buf);
int sriov_vf_total_msix_show(struct device *dev, struct sbuf *sb);
int sriov_vf_msix_count_store(struct device *dev, const char *buf);

#define PCI_CFG_SPACE_SIZE 256
#define PCI_CFG_SPACE_EXP_SIZE 4096

/*
 * What @dev's configuration space reads as, into @buf (at least
 * PCI_CFG_SPACE_EXP_SIZE bytes): the ids, class, revision and header type,
 * a bridge's bus numbers, and a PCI Express capability for a PCIe
 * function. Returns its size: 4096 for PCIe, 256 for conventional PCI.
 * Takes obj_lock.
 */
size_t pci_config_space(struct device *dev, unsigned char *buf);

/* Whether @a and @b are on the same (non-root) bus. */
bool pci_dev_same_bus(const struct device *a, const struct device *b);

/* ---- what the grouping rules read (drivers/pci/{pci,search,quirks}.c) ---- */

/* pdev->dev_flags the rules look at (include/linux/pci.h) */
#define PCI_DEV_FLAGS_ACS_ENABLED_QUIRK (1u << 0)
#define PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS (1u << 1)
#define PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT (1u << 2)

/* what pci_device_group() asks of every port and function (iommu.c) */
#define REQ_ACS_FLAGS (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 0x07)
#define PCI_DEVFN(slot, func) ((((slot) & 0x1f) << 3) | ((func) & 0x07))

struct pci_devs;
struct pci_quirk;

/*
 * The part of the kernel's struct pci_dev that IOMMU grouping reads, one
 * per PCI device of the machine (added or not), built by pci_devs_build()
 * after the header fixups and ACS enabling the kernel does at enumeration.
 * A view: it lives no longer than the array it is in, and changes nothing
 * in the machine.
 */
struct pci_dev {
	struct device *dev;
	struct pci_devs *all;
	/* bus->self: the bridge above; NULL on a root bus (no virtual buses) */
	struct pci_dev *bus_self;
	unsigned int domain, busnr, devfn;
	int subordinate;	/* a bridge's secondary bus: -1 nothing behind */
	unsigned int vendor, device, subsystem_vendor, subsystem_device;
	unsigned char hdr_type, pcie_type;
	bool multifunction;
	bool is_virtfn;		/* an SR-IOV VF (drivers/pci/iov.c) */
	unsigned int dev_flags;	/* PCI_DEV_FLAG* above */
	/* the ACS capability: @acs_cap false is the kernel's acs_cap == 0 */
	bool acs_cap, acs_unknown;
	unsigned short acs_cap_word, acs_ctrl_word;
	uint64_t dma_alias_mask[4];
	const struct pci_quirk *alias_quirk; /* the fixup that set an alias */
	int group;		/* pci_device_group() so far; -1: no group */
	size_t bus_lo, bus_hi;	/* its bus's run in pci_devs::bus_order */
	/* its fwspec: the IOMMU and stream IDs (arm-smmu groups by them) */
	struct iommu_device *iommu;
	const unsigned int *sids;
	unsigned int nr_sids;
	/*
	 * arm-smmu-v3 refuses it: @smmu_holder, probed before, holds one of
	 * its stream IDs (the device itself stays out of every group)
	 */
	bool smmu_refused;
	struct pci_dev *smmu_holder;
};

/* an arm-smmu stream map entry's group (smmu->s2crs[idx].group) */
struct pci_s2cr {
	const struct iommu_device *iommu;
	unsigned int sid;
	int group;
	struct pci_dev *first;	/* the device that made the entry */
};

/* The entry of stream ID @sid behind @iommu, or NULL. */
struct pci_s2cr *pci_s2cr_find(struct pci_devs *all,
			       const struct iommu_device *iommu,
			       unsigned int sid);
/*
 * A new entry of stream ID @sid behind @iommu (none there yet): group
 * @group, made by @first. Return: 0 or -ENOMEM.
 */
int pci_s2cr_add(struct pci_devs *all, const struct iommu_device *iommu,
		 unsigned int sid, int group, struct pci_dev *first);

/*
 * All PCI devices of a machine in machine order (the kernel's
 * for_each_pci_dev() order, file order for machine files), and the
 * machine-wide facts the rules read.
 */
struct pci_devs {
	struct pci_dev *v;
	size_t n;
	/* each bus's devices together, in machine order within a bus */
	struct pci_dev **bus_order;
	bool acs_requested;	/* pci_request_acs() before enumeration */
	bool ivrs;		/* an AMD IOMMU (ACPI IVRS table) */
	struct pcie_acs_override override;
	int ngroups;		/* groups pci_device_group() made */
	struct pci_s2cr *s2cr;	/* arm_smmu_device_group()'s stream map */
	size_t ns2cr, s2cr_cap;
	/*
	 * @s2cr by IOMMU and stream ID (pci_s2cr_find()): the entry's index
	 * + 1, keyed by the IOMMU's number in @s2cr_iommus (its order of
	 * first use, + 1) above the stream ID, so that a load costs each
	 * device's IDs, not the entries before it
	 */
	struct u64map s2cr_index;
	struct ptrmap s2cr_iommus;
};

/*
 * The PCI view of @devs (the machine's devices, any order; non-PCI ones are
 * skipped) with @cfg's ACS policy: header fixups (DMA alias quirks), the
 * multifunction bit, ACS enabled as pci_enable_acs() would. -ENOMEM.
 * Undo with pci_devs_free().
 */
/*
 * pci_acs_requested(): whether an IOMMU driver called pci_request_acs()
 * before the PCI ports were enumerated, so pci_enable_acs() turned ACS on
 * (every IOMMU driver does on x86 and with IORT; with a devicetree the
 * kernel leaves it off unless the machine says otherwise).
 */
bool pci_acs_requested(const struct machine_config *cfg);

int pci_devs_build(struct device *const *devs, size_t n,
		   const struct machine_config *cfg, bool ivrs,
		   struct pci_devs *all);

/* Every device on @pdev's bus, @pdev included, in machine order. */
#define pci_bus_for_each(tmp, pdev, k)                                  \
	for ((k) = (pdev)->bus_lo;                                      \
	     (k) < (pdev)->bus_hi && ((tmp) = (pdev)->all->bus_order[k], 1); \
	     (k)++)
void pci_devs_free(struct pci_devs *devs);

/* The view of @dev in @devs, or NULL. */
struct pci_dev *pci_devs_find(const struct pci_devs *devs,
			      const struct device *dev);

static inline bool pci_is_pcie(const struct pci_dev *pdev)
{
	return pdev->pcie_type != PCI_EXP_TYPE_NONE;
}

static inline bool pci_is_root_bus_of(const struct pci_dev *pdev)
{
	return !pdev->bus_self;
}

/* Whether @a and @b are on the same bus (tmp->bus == pdev->bus). */
bool pci_same_bus(const struct pci_dev *a, const struct pci_dev *b);

/* drivers/pci/pci.c (v6.6): ACS and DMA aliases */
bool pci_acs_enabled(struct pci_dev *pdev, unsigned int acs_flags);
bool pci_acs_path_enabled(struct pci_dev *start, struct pci_dev *end,
			  unsigned int acs_flags);
bool pci_devs_are_dma_aliases(struct pci_dev *dev1, struct pci_dev *dev2);

/* drivers/pci/search.c (v6.6) */
int pci_for_each_dma_alias(struct pci_dev *pdev,
			   int (*fn)(struct pci_dev *pdev, unsigned int alias,
				     void *data),
			   void *data);

/*
 * drivers/pci/quirks.c (v6.6), held as data (src/drivers/pci/quirks.c):
 * a quirk row, and where its fact comes from.
 */
struct pci_quirk {
	unsigned int vendor;
	unsigned int dev_lo, dev_hi;	/* device id range, inclusive */
	unsigned int kind;		/* enum pci_quirk_kind (quirks.c) */
	unsigned int flags;		/* ACS controls provided; alias devfn */
	const char *source;		/* kernel function and its reason */
};

/*
 * pci_dev_specific_acs_enabled(): >0 the quirk provides every control in
 * @acs_flags, 0 it does not, -ENOTTY no quirk applies. @ret_quirk (may be
 * NULL) is set to the row that decided.
 */
int pci_dev_specific_acs_enabled(struct pci_dev *dev, unsigned int acs_flags,
				 const struct pci_quirk **ret_quirk);

/* The header fixups grouping cares about (DMA aliases, bridge flags). */
void pci_fixup_device_header(struct pci_dev *dev);

/* pci_dev_specific_enable_acs(): 0 a quirk enabled ACS, -ENOTTY none. */
int pci_dev_specific_enable_acs(struct pci_dev *dev);

/*
 * drivers/iommu/iommu.c (v6.6): the group of @pdev, an index into the
 * groups made so far (existing ones found through aliases, bridges without
 * ACS and functions without ACS), or a new one. The kernel calls it as each
 * device is probed; pci_devs_group() calls it in machine order for every
 * device with an IOMMU.
 */
int pci_device_group(struct pci_dev *pdev);

/*
 * The IOMMU driver's device_group op for every device with an IOMMU, in
 * machine order: arm_smmu_device_group() (drivers/iommu/arm/arm-smmu/
 * arm-smmu.c, v6.6) behind an arm-smmu, which first looks for a group of
 * a device sharing a stream ID, else pci_device_group(). Behind an
 * arm-smmu-v3 a device whose stream ID a device before it holds gets no
 * group (arm_smmu_insert_master(): smmu_refused, smmu_holder). Returns 0,
 * or -EINVAL with *@ret_bad the device whose stream IDs belong to two
 * groups (the kernel's probe fails), -ENOMEM.
 */
int pci_devs_group(struct pci_devs *devs, struct pci_dev **ret_bad);

/*
 * src/drivers/iommu/arm-smmu-v3.c: the stream IDs firmware gives each
 * device behind an arm-smmu-v3 without stream-id= (one per DMA alias,
 * mapped 1:1, as QEMU's IORT and iommu-map do), set on the devices before
 * they are added. 0, or -E2BIG with *@ret_bad the device with more than
 * DEV_STREAM_IDS_MAX aliases.
 */
int pci_devs_smmu_v3_sids(struct pci_devs *all, struct pci_dev **ret_bad);

#endif
