// SPDX-License-Identifier: MIT
/*
 * The firmware half of dma_configure: of_dma_configure() (devicetree) and
 * acpi_dma_configure() (IORT). On those machines this is where a device
 * first meets its IOMMU: its fwspec is made and iommu_probe_device() puts it
 * in its group. On x86 the IOMMU driver found the device when it was added.
 * Counterpart of drivers/of/device.c, drivers/acpi/scan.c and iort.c.
 */
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

/*
 * The IOMMU named by firmware for @dev: join its group. An IOMMU firmware
 * describes but whose driver has not registered yet defers the probe, so
 * the device binds once the IOMMU is there; any other failure is not fatal
 * (the device then does DMA without translation), as in the kernel.
 */
static int fw_iommu_configure(struct device *dev)
{
	struct iommu_device *iommu = dev->fw.iommu;
	int ret;

	if (!iommu || !dev->m->cfg.iommu_api)
		return 0;
	if (!iommu->registered)
		return -EPROBE_DEFER;
	dev->fwspec = true;
	ret = iommu_probe_device(dev);
	return ret == -EPROBE_DEFER ? ret : 0;
}

static int iort_iommu_configure_id(struct device *dev)
{
	KFUNC();
	return fw_iommu_configure(dev);
}

static int acpi_dma_configure_id(struct device *dev)
{
	KFUNC();
	return iort_iommu_configure_id(dev);
}

static int of_iommu_configure(struct device *dev)
{
	KFUNC();
	return fw_iommu_configure(dev);
}

static int of_dma_configure_id(struct device *dev)
{
	KFUNC();
	return of_iommu_configure(dev);
}

int firmware_dma_configure(struct device *dev, struct device *fwnode_dev)
{
	(void)fwnode_dev;
	switch (dev->m->cfg.firmware) {
	case FW_ACPI_IORT:
		return acpi_dma_configure_id(dev);
	case FW_DEVICETREE:
		return of_dma_configure_id(dev);
	case FW_X86:
	default:
		/* DMAR/IVRS: the device joined its group at device_add() */
		return 0;
	}
}

int bus_dma_configure_common(struct device *dev, struct device *fwnode_dev)
{
	bool managed = dev->driver->driver_managed_dma;
	int ret;

	if (dev->m->faults & MACHINE_FAULT_V7_ORDER) {
		/* v7: count first, firmware second, no tracking */
		if (!managed) {
			ret = iommu_device_use_default_domain(dev);
			if (ret)
				return ret;
		}
		ret = firmware_dma_configure(dev, fwnode_dev);
		if (ret && !managed)
			iommu_device_unuse_default_domain(dev);
		return ret;
	}

	ret = firmware_dma_configure(dev, fwnode_dev);
	if (ret || managed)
		return ret;
	/* on failure arch_teardown_dma_ops(): nothing to undo in the model */
	return iommu_device_dma_use(dev);
}

void bus_dma_cleanup_common(struct device *dev)
{
	if (dev->driver->driver_managed_dma)
		return;
	if (dev->dma_use.active)
		iommu_device_dma_unuse(dev);
	else if (dev->m->faults & MACHINE_FAULT_V7_ORDER)
		iommu_device_unuse_default_domain(dev);
}
