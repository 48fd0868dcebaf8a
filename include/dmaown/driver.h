/* SPDX-License-Identifier: MIT */
/**
 * DOC: the driver core (drivers/base/dd.c, bus.c) and the buses
 *
 * Buses (PCI, platform, AMBA, fsl-mc), drivers from a catalogue loaded and
 * unloaded like modules, and the sysfs writes users make: bind, unbind,
 * driver_override, new_id, remove_id, drivers_probe, drivers_autoprobe.
 * Each store function returns 0 or the negative errno the kernel's write()
 * would fail with.
 */
#ifndef DMAOWN_DRIVER_H
#define DMAOWN_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "dmaown/device.h"
#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bus_type;
struct device_driver;

/** enum bus_kind - the buses of the model */
enum bus_kind {
	BUS_PCI,
	BUS_PLATFORM,
	BUS_AMBA,
	BUS_FSL_MC,
	BUS_KIND_MAX_,
	BUS_KIND_INVALID_ = -1,
};

/* PCI header types and PCIe port types (include/uapi/linux/pci_regs.h). */
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_EXP_TYPE_ENDPOINT 0x0
#define PCI_EXP_TYPE_ROOT_PORT 0x4
#define PCI_EXP_TYPE_UPSTREAM 0x5
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_TYPE_PCI_BRIDGE 0x7
#define PCI_EXP_TYPE_RC_END 0x9
#define PCI_EXP_TYPE_NONE 0xff /* conventional PCI */

/* ACS capability and control bits (include/uapi/linux/pci_regs.h). */
#define PCI_ACS_SV 0x0001 /* source validation */
#define PCI_ACS_TB 0x0002 /* translation blocking */
#define PCI_ACS_RR 0x0004 /* P2P request redirect */
#define PCI_ACS_CR 0x0008 /* P2P completion redirect */
#define PCI_ACS_UF 0x0010 /* upstream forwarding */
#define PCI_ACS_EC 0x0020 /* P2P egress control */
#define PCI_ACS_DT 0x0040 /* direct translated P2P */
#define PCI_ACS_ALL_ 0x007f

/**
 * enum machine_fault - planted faults, off by default
 * @MACHINE_FAULT_V7_ORDER: the buses' dma_configure take the kernel-DMA use
 *	count before the firmware configuration, and their dma_cleanup give it
 *	back unconditionally, as v7 of the seed's series did. On ACPI/IORT and
 *	devicetree machines the device then joins its group after the count
 *	was (not) taken, and unbinding trips WARN_ON(!group->owner_cnt).
 *	dmaown's own accounting is bypassed by this fault: it exists to prove
 *	that tests and the checker see the seed's bug.
 * @MACHINE_FAULT_NO_PROBE_CLEANUP: really_probe() forgets dma_cleanup when
 *	the driver's probe fails (the count taken in dma_configure leaks)
 * @MACHINE_FAULT_CLAIM_IGNORES_COUNT: the claims do not look at owner_cnt:
 *	userspace takes a group a kernel driver is using
 * @MACHINE_FAULT_RELEASE_KEEPS_DOMAIN: giving a group back does not put
 *	the default domain back
 * @MACHINE_FAULT_USE_IGNORES_OWNER: iommu_device_use_default_domain()
 *	never refuses: a kernel driver binds into a user-owned group
 *
 * @MACHINE_FAULT_LOCK_DROPPED: iommu_device_use_default_domain() checks
 *	the group under its lock, drops it, and takes it again to count: a
 *	claim can slip in between (only interleavings show it)
 *
 * The last five are the checker's mutants (docs/check.md).
 */
enum machine_fault {
	MACHINE_FAULT_V7_ORDER = 1u << 0,
	MACHINE_FAULT_NO_PROBE_CLEANUP = 1u << 1,
	MACHINE_FAULT_CLAIM_IGNORES_COUNT = 1u << 2,
	MACHINE_FAULT_RELEASE_KEEPS_DOMAIN = 1u << 3,
	MACHINE_FAULT_USE_IGNORES_OWNER = 1u << 4,
	MACHINE_FAULT_LOCK_DROPPED = 1u << 5,
};

/**
 * machine_fault_name() - the name of one planted fault ("v7-order",
 * "no-probe-cleanup", "claim-ignores-count", "release-keeps-domain",
 * "use-ignores-owner"), or NULL
 */
const char *machine_fault_name(unsigned int fault);

/** machine_fault_from_name() - the fault bit for a name, 0 if unknown. */
unsigned int machine_fault_from_name(const char *name);

/** machine_set_faults() - set the planted faults (a mask of machine_fault). */
void machine_set_faults(struct machine *m, unsigned int faults);

/** machine_faults() - the planted faults in force. */
unsigned int machine_faults(const struct machine *m);

/** bus_kind_name() - "pci", "platform", "amba", "fsl-mc". */
const char *bus_kind_name(enum bus_kind kind);

/** bus_kind_from_name() - the kind for a name, or BUS_KIND_INVALID_. */
enum bus_kind bus_kind_from_name(const char *name);

/** machine_bus() - the machine's bus of @kind (every machine has all four). */
struct bus_type *machine_bus(struct machine *m, enum bus_kind kind);

/* ---- describing devices (before device_add()) ---- */

/**
 * device_set_bus() - put a not-yet-added device on a bus
 *
 * Return: 0; -EBUSY if already added; -EINVAL for a bad kind.
 */
int device_set_bus(struct device *dev, enum bus_kind kind);

/**
 * device_set_pci_ids() - PCI vendor/device/subsystem ids and class code
 * @class: the 24-bit class code, e.g. 0x020000 for an Ethernet controller
 */
void device_set_pci_ids(struct device *dev, unsigned int vendor,
			unsigned int device, unsigned int subvendor,
			unsigned int subdevice, unsigned int class);

/**
 * device_set_pci_type() - header type and PCIe port type
 * @hdr_type: PCI_HEADER_TYPE_NORMAL or PCI_HEADER_TYPE_BRIDGE
 * @pcie_type: PCI_EXP_TYPE_*, or PCI_EXP_TYPE_NONE for conventional PCI
 */
void device_set_pci_type(struct device *dev, unsigned int hdr_type,
			 unsigned int pcie_type);

/**
 * enum pci_reset_method - the ways to reset a PCI function, in the order
 * the kernel tries them (pci_reset_fn_methods[] of drivers/pci/pci.c,
 * v6.6); the reset_method attribute names them
 * @PCI_RESET_METHOD_DEVICE_SPECIFIC: "device_specific": a quirk of the device
 * @PCI_RESET_METHOD_ACPI: "acpi": the firmware's _RST method
 * @PCI_RESET_METHOD_FLR: "flr": a function level reset (DevCap FLR)
 * @PCI_RESET_METHOD_AF_FLR: "af_flr": the Advanced Features capability's FLR
 * @PCI_RESET_METHOD_PM: "pm": D3hot and back to D0, for a function without
 *	No_Soft_Reset
 * @PCI_RESET_METHOD_BUS: "bus": a secondary bus reset by the bridge above,
 *	possible for a function that is not a bridge and is alone on its bus
 *	(pci_parent_bus_reset()); it follows from the topology
 * @PCI_RESET_METHOD_MAX_: one more than the last method
 * @PCI_RESET_METHOD_INVALID_: no method
 */
enum pci_reset_method {
	PCI_RESET_METHOD_DEVICE_SPECIFIC = 1,
	PCI_RESET_METHOD_ACPI,
	PCI_RESET_METHOD_FLR,
	PCI_RESET_METHOD_AF_FLR,
	PCI_RESET_METHOD_PM,
	PCI_RESET_METHOD_BUS,
	PCI_RESET_METHOD_MAX_,
	PCI_RESET_METHOD_INVALID_ = -1,
};

/**
 * pci_reset_method_name() - the name reset_method gives a method ("flr"),
 * or NULL for an unknown one
 */
const char *pci_reset_method_name(enum pci_reset_method method);

/**
 * device_set_pci_reset() - how a PCI function can be reset
 * @dev: a PCI device, not added yet
 * @methods: the function's own methods, bits 1u << PCI_RESET_METHOD_* from
 *	DEVICE_SPECIFIC to PM (the hardware's capabilities, firmware's _RST,
 *	a quirk); "bus" is not a property of the function but of where it
 *	sits, and is not accepted here
 * @no_bus_reset: PCI_DEV_FLAGS_NO_BUS_RESET, the quirk of devices that
 *	misbehave after a secondary bus reset: neither they nor the bus they
 *	are on, nor any bus above whose reset would reach them, may be reset
 *
 * The device's reset_method attribute lists, once it is added, the methods
 * the kernel finds then (pci_init_reset_methods()); a device with none has
 * no reset_method file. A device is made with no methods.
 *
 * Return: 0; -EINVAL not a PCI device, or @methods holds "bus" or unknown
 * bits; -EBUSY added already.
 */
int device_set_pci_reset(struct device *dev, unsigned int methods,
			 bool no_bus_reset);

/**
 * pci_acs_bit_name() - how machine files and dmaown's output name one ACS
 * bit: "sv", "tb", "rr", "cr", "uf", "ec", "dt" (lspci's SrcValid,
 * TransBlk, ReqRedir, CmpltRedir, UpstreamFwd, EgressCtrl, DirectTrans)
 * @bit: one PCI_ACS_* bit
 *
 * Return: the name, or NULL for anything but one such bit.
 */
const char *pci_acs_bit_name(unsigned int bit);

/**
 * enum pci_acs_state - what is known of a PCI function's ACS capability
 * @PCI_ACS_ABSENT: no ACS extended capability
 * @PCI_ACS_PRESENT: the capability, with its capability and control words
 * @PCI_ACS_UNKNOWN: not known (lspci run without root, or a dump without
 *	extended config space): taken as absent, the worst case for
 *	isolation, and reported as unknown
 */
enum pci_acs_state {
	PCI_ACS_ABSENT,
	PCI_ACS_PRESENT,
	PCI_ACS_UNKNOWN,
};

/**
 * device_set_pci_acs() - a PCI function's ACS extended capability
 * @dev: a PCI device, not added yet
 * @state: absent, present or unknown
 * @cap: the capability word's PCI_ACS_* bits (with PCI_ACS_PRESENT)
 * @ctrl: the control word's bits, or -1 for what the kernel writes as it
 *	enumerates the function (pci_enable_acs(): SV, RR, CR and UF where
 *	the capability has them, when ACS was requested; else 0)
 *
 * Return: 0; -EINVAL not a PCI device, a bit outside PCI_ACS_ALL_, or
 * @cap or @ctrl with a state other than present; -EBUSY added already.
 */
int device_set_pci_acs(struct device *dev, enum pci_acs_state state,
		       unsigned int cap, int ctrl);

/**
 * device_set_pci_multifunction() - the multifunction bit of the header
 * type. A function that shares its slot with another function of the
 * machine is taken as multifunction anyway.
 *
 * Return: 0; -EINVAL not a PCI device; -EBUSY added already.
 */
int device_set_pci_multifunction(struct device *dev, bool multifunction);

/**
 * device_set_pci_shpc() - the bridge has a Standard Hot-Plug Controller
 * capability (PCI_CAP_ID_SHPC), which shpchp's probe looks for
 * (shpc_capable()).
 *
 * Return: 0; -EINVAL not a PCI device; -EBUSY added already.
 */
int device_set_pci_shpc(struct device *dev, bool shpc);

/**
 * device_add_pci_dma_alias() - another requester ID on the function's own
 * bus that it uses for DMA (the kernel's pci_add_dma_alias(), set by
 * quirks or firmware). Quirks of the machine's PCI ids add theirs anyway.
 * @devfn: device << 3 | function, 0-255
 *
 * Return: 0; -EINVAL not a PCI device or @devfn out of range; -EBUSY added
 * already.
 */
int device_add_pci_dma_alias(struct device *dev, unsigned int devfn);

/**
 * device_set_pci_sriov() - a PCI function's SR-IOV extended capability,
 * which makes it a physical function (PF)
 * @dev: a PCI device, not added yet
 * @total_vfs: TotalVFs, 1-65535
 * @offset: First VF Offset: VF 0's routing ID is the PF's plus @offset
 * @stride: VF Stride: between one VF's routing ID and the next's; 0 only
 *	with one VF
 * @vf_device: VF Device ID (the VFs take the PF's vendor id)
 *
 * sriov_totalvfs and its sibling files appear once the device is added;
 * writing N to sriov_numvfs with a PF driver bound creates VFs
 * DDDD:BB:DD.F where BB:DD.F is the PF's routing ID plus @offset + i *
 * @stride (pci_iov_virtfn_bus(), pci_iov_virtfn_devfn()).
 *
 * Return: 0; -EINVAL not a PCI device, or a value out of range (the last
 * VF past bus 0xff, stride 0 with more than one VF, offset 0); -EBUSY
 * added already.
 */
int device_set_pci_sriov(struct device *dev, unsigned int total_vfs,
			 unsigned int offset, unsigned int stride,
			 unsigned int vf_device);

/**
 * pci_iov_virtfn_name() - the name VF @vf_id of a PF named @pf_name would
 * have: "DDDD:BB:DD.F"
 * @pf_name: the PF's name, "DDDD:BB:DD.F"
 * @offset: First VF Offset
 * @stride: VF Stride
 * @vf_id: 0 for the first VF
 * @buf: at least 13 bytes
 *
 * Return: 0; -EINVAL a bad @pf_name, or the VF would be past bus 0xff.
 */
int pci_iov_virtfn_name(const char *pf_name, unsigned int offset,
			unsigned int stride, unsigned int vf_id, char *buf,
			size_t len);

/** device_set_of_compatible() - devicetree compatible (platform devices). */
void device_set_of_compatible(struct device *dev, const char *compatible);

/** device_set_amba_periphid() - AMBA peripheral id. */
void device_set_amba_periphid(struct device *dev, unsigned int periphid);

/** device_set_mc_type() - fsl-mc object type ("dpni", "dpio", "dprc"...). */
void device_set_mc_type(struct device *dev, const char *type);

/* ---- drivers ---- */

/**
 * driver_load() - load a driver of the catalogue, as modprobe does
 * @m: the machine
 * @name: driver or module name ("e1000e", "vfio-pci", "vfio_pci")
 *
 * The driver registers on its bus and, if the bus autoprobes, binds every
 * matching unbound device.
 *
 * Return: 0; -ENOENT for a name not in the catalogue, or a vfio driver
 * on a machine without the IOMMU API (VFIO selects it); -EEXIST if loaded.
 * The caller may undo this with driver_unload().
 */
int driver_load(struct machine *m, const char *name);

/**
 * driver_load_params() - driver_load() with module parameters
 * @params: NULL, "" or NAME=VALUE parameters separated by blanks:
 *	"ids=VVVV:DDDD[:SV[:SD[:CLASS[:MASK]]]][,...]" (the ids parameter of
 *	vfio-pci and pci-stub: dynamic ids added before the driver binds),
 *	"reset_required=0|1" (vfio-platform's, a bool as the kernel reads it,
 *	1 by default: refuse devices it has no reset function for)
 *
 * Return: as driver_load(); -EINVAL for a parameter the driver does not
 * take or a malformed one.
 */
int driver_load_params(struct machine *m, const char *name,
		       const char *params);

/**
 * driver_unload() - unload a driver, as rmmod does: every device bound to
 * it is unbound first
 *
 * Return: 0; -ENOENT if not loaded.
 */
int driver_unload(struct machine *m, const char *name);

/**
 * driver_delete_module() - rmmod's delete_module(O_NONBLOCK): unload the
 * driver unless its module is in use. vfio holds the module of every
 * device opened by userspace (vfio_df_device_first_open() takes
 * try_module_get() of the driver's owner, the last close puts it).
 *
 * Return: 0; -ENOENT if not loaded; -EWOULDBLOCK if in use.
 */
int driver_delete_module(struct machine *m, const char *name);

/**
 * machine_find_driver() - a loaded driver by driver or module name, or NULL
 */
struct device_driver *machine_find_driver(struct machine *m,
					  const char *name);

/** driver_name() - the driver's name. */
const char *driver_name(const struct device_driver *drv);

/** driver_is_dma_managed() - the driver's driver_managed_dma flag. */
bool driver_is_dma_managed(const struct device_driver *drv);

/**
 * driver_set_probe_fault() - make the driver's probe fail
 * @drv: the driver
 * @err: the (negative) errno its probe returns, e.g. -ENOMEM, -EPROBE_DEFER
 * @count: how many probes fail (then they succeed again); -1: all; 0: off
 */
void driver_set_probe_fault(struct device_driver *drv, int err, int count);

/** device_driver_name() - the bound driver's name, or NULL when unbound. */
const char *device_driver_name(const struct device *dev);

/** device_bus_kind() - the device's bus, or BUS_KIND_INVALID_. */
enum bus_kind device_bus_kind(const struct device *dev);

/* ---- sysfs writes (0 or -errno, as the write() would end) ---- */

/** bind_store() - /sys/bus/B/drivers/D/bind: -ENODEV no such device or no
 * match; -EBUSY already bound or the group is owned; probe errors. */
int bind_store(struct device_driver *drv, const char *buf);

/** unbind_store() - /sys/bus/B/drivers/D/unbind: -ENODEV if @buf does not
 * name a device bound to @drv. */
int unbind_store(struct device_driver *drv, const char *buf);

/** new_id_store() - /sys/bus/pci/drivers/D/new_id: "vvvv dddd [sv sd cc
 * cm]"; -EINVAL malformed; -EEXIST the driver matches those ids already;
 * then binds every matching unbound device. */
int new_id_store(struct device_driver *drv, const char *buf);

/** remove_id_store() - /sys/bus/pci/drivers/D/remove_id; -ENODEV if no
 * such dynamic id. */
int remove_id_store(struct device_driver *drv, const char *buf);

/** drivers_probe_store() - /sys/bus/B/drivers_probe: attach a driver to the
 * named unbound device; 0 even when none matches; -ENODEV no such device;
 * -EINVAL when a matching driver's binding failed with an error. */
int drivers_probe_store(struct bus_type *bus, const char *buf);

/** drivers_autoprobe_store() - "0" or "1"; -EINVAL otherwise. */
int drivers_autoprobe_store(struct bus_type *bus, const char *buf);

/** drivers_autoprobe_show() - the bus's autoprobe flag. */
bool drivers_autoprobe_show(const struct bus_type *bus);

/** driver_override_store() - the device's driver_override: a driver name,
 * or empty / a lone newline to clear; -EINVAL when too long. */
int driver_override_store(struct device *dev, const char *buf);

/** driver_override_show() - the override, or NULL when none ("(null)"). */
const char *driver_override_show(const struct device *dev);

/** bus_find_device_by_name() helper for library users: an added device
 * on @bus named @name (a trailing newline is ignored), or NULL. */
struct device *bus_device_by_name(struct bus_type *bus, const char *name);

/**
 * device_hotplug_add() - add a device at run time (hot-plug, PCI rescan)
 *
 * device_add() followed by the bus's probe of the new device, as the kernel
 * does it: on x86 the device joins its IOMMU group at add.
 *
 * Return: 0 or the device_add() error.
 */
int device_hotplug_add(struct device *dev);

/**
 * device_set_absent() - mark a device not plugged in (or plugged in again):
 * pci_rescan_bus() adds only devices that are present
 */
void device_set_absent(struct device *dev, bool absent);

/**
 * pci_rescan_bus() - /sys/bus/pci/rescan: add every present PCI device
 * that is not added (removed through its remove attribute, say), parents
 * before children
 *
 * Return: the number of devices added.
 */
int pci_rescan_bus(struct machine *m);

/**
 * device_unregister() - hot-removal: unbind, leave the group, delete
 * (/sys/bus/pci/devices/X/remove). The device stays allocated until its
 * last reference is put.
 */
void device_unregister(struct device *dev);

#ifdef __cplusplus
}
#endif

#endif
