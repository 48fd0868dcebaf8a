// SPDX-License-Identifier: MIT
/*
 * The AMBA bus type: PrimeCell peripherals matched by peripheral id.
 * Counterpart of drivers/amba/bus.c.
 */
#include <string.h>

#include "drivers/base/base.h"

static int amba_match(struct device *dev, struct device_driver *drv)
{
	const struct amba_id *id;
	int ret;

	/* With driver_override set, only that driver may bind. */
	ret = device_match_driver_override(dev, drv);
	if (ret >= 0)
		return ret;
	for (id = drv->desc->amba_ids; id && id->id; id++)
		if ((id->id & id->mask) == (dev->ids.periphid & id->mask))
			return 1;
	return 0;
}

static void amba_remove(struct device *dev)
{
	KFUNC();
	driver_desc_remove(dev);
}

static int amba_probe(struct device *dev)
{
	KFUNC();
	return driver_desc_probe(dev);
}

static int amba_dma_configure(struct device *dev)
{
	KFUNC();
	return bus_dma_configure_common(dev, dev);
}

static void amba_dma_cleanup(struct device *dev)
{
	KFUNC();
	bus_dma_cleanup_common(dev);
}

const struct bus_ops amba_bus_ops = {
	.name = "amba",
	.kind = BUS_AMBA,
	.match = amba_match,
	.probe = amba_probe,
	.remove = amba_remove,
	.dma_configure = amba_dma_configure,
	.dma_cleanup = amba_dma_cleanup,
};
