// SPDX-License-Identifier: MIT
/*
 * The platform bus type. Counterpart of drivers/base/platform.c.
 */
#include <string.h>

#include "drivers/base/base.h"

static int platform_match(struct device *dev, struct device_driver *drv)
{
	const char *const *of;
	int ret;

	/* With driver_override set, only that driver may bind. */
	ret = device_match_driver_override(dev, drv);
	if (ret >= 0)
		return ret;
	/* devicetree compatible first */
	for (of = drv->desc->of_compatible; of && *of; of++)
		if (dev->ids.compatible[0] && !strcmp(*of, dev->ids.compatible))
			return 1;
	/* fall back to the device name */
	return !strcmp(dev_name(dev), drv->name);
}

static void platform_remove(struct device *dev)
{
	KFUNC();
	driver_desc_remove(dev);
}

static int platform_probe(struct device *dev)
{
	KFUNC();
	return driver_desc_probe(dev);
}

static int platform_dma_configure(struct device *dev)
{
	KFUNC();
	return bus_dma_configure_common(dev, dev);
}

static void platform_dma_cleanup(struct device *dev)
{
	KFUNC();
	bus_dma_cleanup_common(dev);
}

const struct bus_ops platform_bus_ops = {
	.name = "platform",
	.kind = BUS_PLATFORM,
	.match = platform_match,
	.probe = platform_probe,
	.remove = platform_remove,
	.dma_configure = platform_dma_configure,
	.dma_cleanup = platform_dma_cleanup,
};
