// SPDX-License-Identifier: MIT
/*
 * The PCI bus type: id matching with dynamic ids and driver_override,
 * probe, and DMA configuration. Counterpart of drivers/pci/pci-driver.c.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

/* Matches any device: what driver_override binds with. */
static const struct pci_device_id pci_device_id_any = {
	PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0, 0, false,
};

static bool id_field_match(unsigned int want, unsigned int have)
{
	return want == PCI_ANY_ID || want == have;
}

bool pci_match_one_device(const struct pci_device_id *id,
			  const struct device *dev)
{
	return id_field_match(id->vendor, dev->ids.vendor) &&
	       id_field_match(id->device, dev->ids.device) &&
	       id_field_match(id->subvendor, dev->ids.subvendor) &&
	       id_field_match(id->subdevice, dev->ids.subdevice) &&
	       !((id->class ^ dev->ids.class) & id->class_mask);
}

static const struct pci_device_id *pci_match_device(struct device_driver *drv,
						    struct device *dev)
{
	const struct pci_device_id *found = NULL, *ids;
	struct bus_type *bus = drv->bus;
	int ovr = device_match_driver_override(dev, drv);

	/* With driver_override set, only that driver may bind. */
	if (!ovr)
		return NULL;

	/* dynamic ids first */
	mutex_lock(&bus->ids_lock);
	for (unsigned int i = 0; i < drv->ndynids; i++) {
		if (pci_match_one_device(&drv->dynids[i], dev)) {
			found = &drv->dynids[i];
			break;
		}
	}
	mutex_unlock(&bus->ids_lock);
	if (found)
		return found;

	for (ids = drv->desc->pci_ids; ids && ids->vendor; ids++) {
		if (!pci_match_one_device(ids, dev))
			continue;
		/* override-only rows bind only through driver_override */
		if (!ids->override_only || ovr > 0)
			return ids;
	}
	/* driver_override will always match, send a dummy id */
	if (ovr > 0)
		return &pci_device_id_any;
	return NULL;
}

static int pci_bus_match(struct device *dev, struct device_driver *drv)
{
	return pci_match_device(drv, dev) != NULL;
}

static int local_pci_probe(struct device *dev)
{
	KFUNC();
	return driver_desc_probe(dev);
}

static int pci_device_probe(struct device *dev)
{
	KFUNC();
	/* a VF whose PF keeps VF drivers from autoprobing (iov.c) */
	if (!pci_device_can_probe(dev))
		return -ENODEV;
	return local_pci_probe(dev);
}

static void pci_device_remove(struct device *dev)
{
	KFUNC();
	driver_desc_remove(dev);
	pci_iov_remove(dev);
}

/* Firmware configuration is done on the host bridge's firmware node. */
static int pci_dma_configure(struct device *dev)
{
	KFUNC();
	return bus_dma_configure_common(dev, NULL);
}

static void pci_dma_cleanup(struct device *dev)
{
	KFUNC();
	bus_dma_cleanup_common(dev);
}

const struct bus_ops pci_bus_ops = {
	.name = "pci",
	.kind = BUS_PCI,
	.match = pci_bus_match,
	.probe = pci_device_probe,
	.remove = pci_device_remove,
	.dma_configure = pci_dma_configure,
	.dma_cleanup = pci_dma_cleanup,
};

/* ---- new_id / remove_id ---- */

/* sscanf("%x") that tells how many of up to @max hex fields were read. */
static int parse_hex_fields(const char *buf, unsigned int *out, int max)
{
	const char *p = buf;
	int n = 0;

	while (n < max) {
		char *end;
		unsigned long v;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		v = strtoul(p, &end, 16);
		if (end == p || v > 0xffffffffUL)
			break;
		out[n++] = (unsigned int)v;
		p = end;
		if (*p && *p != ' ' && *p != '\t' && *p != '\n')
			break;
	}
	return n;
}

int new_id_store(struct device_driver *drv, const char *buf)
{
	unsigned int f[6] = { 0, 0, PCI_ANY_ID, PCI_ANY_ID, 0, 0 };
	struct pci_device_id id;
	struct bus_type *bus = drv->bus;
	int fields, ret;

	KFUNC();
	if (bus->ops->kind != BUS_PCI)
		return -ENOENT; /* the attribute exists on PCI drivers only */
	if (READ_ONCE(drv->dying))
		return -ENODEV;
	fields = parse_hex_fields(buf, f, 6);
	if (fields < 2)
		return -EINVAL;

	id = (struct pci_device_id){ f[0], f[1], f[2], f[3], f[4], f[5],
				     false };
	/* Ids the driver already matches are refused (since 5.12). */
	{
		struct device probe = { 0 };

		probe.m = bus->m;
		probe.ids.vendor = id.vendor;
		probe.ids.device = id.device;
		probe.ids.subvendor = id.subvendor;
		probe.ids.subdevice = id.subdevice;
		probe.ids.class = id.class;
		if (pci_match_device(drv, &probe))
			return -EEXIST;
	}

	mutex_lock(&bus->ids_lock);
	ret = driver_add_dynid(drv, &id);
	mutex_unlock(&bus->ids_lock);
	if (ret)
		return ret;

	/* pci_add_dynid() -> driver_attach(): bind every free match now */
	driver_attach(drv);
	return 0;
}

int remove_id_store(struct device_driver *drv, const char *buf)
{
	unsigned int f[6] = { 0, 0, PCI_ANY_ID, PCI_ANY_ID, 0, 0 };
	struct bus_type *bus = drv->bus;
	int fields, ret = -ENODEV;

	KFUNC();
	if (bus->ops->kind != BUS_PCI)
		return -ENOENT;
	fields = parse_hex_fields(buf, f, 6);
	if (fields < 2)
		return -EINVAL;

	mutex_lock(&bus->ids_lock);
	for (unsigned int i = 0; i < drv->ndynids; i++) {
		const struct pci_device_id *id = &drv->dynids[i];

		if (id->vendor == f[0] && id->device == f[1] &&
		    (f[3] == PCI_ANY_ID || id->subdevice == f[3]) &&
		    (f[2] == PCI_ANY_ID || id->subvendor == f[2]) &&
		    !((id->class ^ f[4]) & f[5])) {
			memmove(&drv->dynids[i], &drv->dynids[i + 1],
				(drv->ndynids - i - 1) * sizeof(*id));
			drv->ndynids--;
			ret = 0;
			break;
		}
	}
	mutex_unlock(&bus->ids_lock);
	return ret;
}
