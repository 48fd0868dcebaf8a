// SPDX-License-Identifier: MIT
/*
 * The fsl-mc bus type: DPAA2 objects inside DPRC containers. DMA is
 * configured on the firmware node of the MC's own device (the first
 * ancestor off the fsl-mc bus) with the object's ICID.
 * Counterpart of drivers/bus/fsl-mc/fsl-mc-bus.c.
 */
#include <string.h>

#include "drivers/base/base.h"

static int fsl_mc_bus_match(struct device *dev, struct device_driver *drv)
{
	const char *const *type;
	int ret;

	/* With driver_override set, only that driver may bind. */
	ret = device_match_driver_override(dev, drv);
	if (ret >= 0)
		return ret;
	for (type = drv->desc->mc_types; type && *type; type++)
		if (!strcmp(*type, dev->ids.mc_type))
			return 1;
	return 0;
}

static void fsl_mc_driver_remove(struct device *dev)
{
	KFUNC();
	driver_desc_remove(dev);
}

static int fsl_mc_driver_probe(struct device *dev)
{
	KFUNC();
	return driver_desc_probe(dev);
}

static int fsl_mc_dma_configure(struct device *dev)
{
	struct device *dma_dev = dev;

	KFUNC();
	/*
	 * Up past every fsl-mc device, the root DPRC included: the firmware
	 * node is the MC's platform (or ACPI) device's. A root container
	 * without a parent leaves none (the machine's firmware decides).
	 */
	while (dma_dev && dma_dev->bus == dev->bus)
		dma_dev = dma_dev->parent;
	return bus_dma_configure_common(dev, dma_dev);
}

static void fsl_mc_dma_cleanup(struct device *dev)
{
	KFUNC();
	bus_dma_cleanup_common(dev);
}

const struct bus_ops fsl_mc_bus_ops = {
	.name = "fsl-mc",
	.kind = BUS_FSL_MC,
	.match = fsl_mc_bus_match,
	.probe = fsl_mc_driver_probe,
	.remove = fsl_mc_driver_remove,
	.dma_configure = fsl_mc_dma_configure,
	.dma_cleanup = fsl_mc_dma_cleanup,
};
