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

#endif
