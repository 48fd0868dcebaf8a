// SPDX-License-Identifier: MIT
/*
 * The requester IDs a PCI function's DMA can arrive with, as the IOMMU
 * sees them. Counterpart of pci_for_each_dma_alias() in
 * drivers/pci/search.c (v6.6).
 */
#include "drivers/pci/pci.h"

static unsigned int pci_devid(unsigned int busnr, unsigned int devfn)
{
	return busnr << 8 | devfn;
}

/*
 * Calls @fn for the function's own requester ID, for each DMA alias on its
 * bus, then for each bridge above that takes the requests over: a
 * PCIe-to-PCI bridge with its secondary bus number and devfn 0, a
 * conventional bridge with its own ID (or, with the ASMedia-style quirk,
 * as a PCIe-to-PCI bridge). PCIe ports pass IDs through. A bridge the
 * IOMMU sits at (PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT) ends the walk. Stops at
 * the first non-zero return of @fn and returns it.
 */
int pci_for_each_dma_alias(struct pci_dev *pdev,
			   int (*fn)(struct pci_dev *pdev, unsigned int alias,
				     void *data),
			   void *data)
{
	struct pci_dev *tmp;
	int ret;

	ret = fn(pdev, pci_devid(pdev->busnr, pdev->devfn), data);
	if (ret)
		return ret;
	for (unsigned int devfn = 0; devfn < 256; devfn++) {
		if (!(pdev->dma_alias_mask[devfn / 64] >> (devfn % 64) & 1))
			continue;
		ret = fn(pdev, pci_devid(pdev->busnr, devfn), data);
		if (ret)
			return ret;
	}
	for (tmp = pdev->bus_self; tmp; tmp = tmp->bus_self) {
		unsigned int sub = tmp->subordinate < 0 ?
			pdev->busnr : (unsigned int)tmp->subordinate;

		if (tmp->dev_flags & PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT)
			return ret;
		if (pci_is_pcie(tmp)) {
			switch (tmp->pcie_type) {
			case PCI_EXP_TYPE_ROOT_PORT:
			case PCI_EXP_TYPE_UPSTREAM:
			case PCI_EXP_TYPE_DOWNSTREAM:
				continue;
			case PCI_EXP_TYPE_PCI_BRIDGE:
				ret = fn(tmp, pci_devid(sub, 0), data);
				if (ret)
					return ret;
				continue;
			default:
				continue;
			}
		}
		if (tmp->dev_flags & PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS)
			ret = fn(tmp, pci_devid(sub, 0), data);
		else
			ret = fn(tmp, pci_devid(tmp->busnr, tmp->devfn), data);
		if (ret)
			return ret;
	}
	return ret;
}
