// SPDX-License-Identifier: MIT
/*
 * PCI function resets: which methods a function has (pci_reset_fn_methods[],
 * pci_init_reset_methods()), the reset_method attribute, and whether a bus
 * can be reset (pci_probe_reset_bus()) for vfio-pci's hot reset.
 * Counterpart of the reset half of drivers/pci/pci.c (v6.6).
 *
 * A function's own methods (FLR, the AF capability's FLR, PM, an ACPI _RST,
 * a device quirk) are what the machine file says it has; the "bus" method
 * follows from the topology, when it is probed. Nothing is actually reset:
 * a reset changes nothing the model keeps, and the lines the kernel logs
 * are debug ones.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

_Static_assert(PCI_NUM_RESET_METHODS == PCI_RESET_METHOD_MAX_,
	       "device.h and dmaown/driver.h disagree");

#define PCI_RESET_FUNCTION_CAPS                                         \
	(1u << PCI_RESET_METHOD_DEVICE_SPECIFIC |                       \
	 1u << PCI_RESET_METHOD_ACPI | 1u << PCI_RESET_METHOD_FLR |      \
	 1u << PCI_RESET_METHOD_AF_FLR | 1u << PCI_RESET_METHOD_PM)

static bool pci_is_bridge(const struct device *dev)
{
	return dev->ids.hdr_type == PCI_HEADER_TYPE_BRIDGE;
}

/*
 * The probes of the function's own methods (pci_dev_specific_reset(),
 * pci_dev_acpi_reset(), pcie_reset_flr(), pci_af_flr(), pci_pm_reset()
 * with PCI_RESET_PROBE): 0 when the function has it, -ENOTTY otherwise.
 */
static int pci_function_reset_probe(struct device *dev, int method)
{
	return dev->pci_reset.caps & (1u << method) ? 0 : -ENOTTY;
}

/* The devices on @dev's bus other than @dev, under obj_lock. */
static unsigned int pci_bus_others(const struct device *dev)
{
	return dev->parent->children_added - (dev->added ? 1 : 0);
}

/*
 * pci_parent_bus_reset(): a secondary bus reset of the bridge above resets
 * only this function if it is alone on its bus and not a bridge itself.
 * pci_reset_bus_function() tries the hot-plug slot first
 * (pci_dev_reset_slot_function()), which the model has not.
 */
static int pci_reset_bus_function(struct device *dev)
{
	struct machine *m = dev->m;
	unsigned int others;

	if (pci_dev_on_root_bus(dev) || pci_is_bridge(dev) ||
	    dev->pci_reset.no_bus_reset)
		return -ENOTTY;
	mutex_lock(&m->obj_lock);
	others = pci_bus_others(dev);
	mutex_unlock(&m->obj_lock);
	return others ? -ENOTTY : 0;
}

static const struct {
	const char *name;
} pci_reset_fn_methods[PCI_NUM_RESET_METHODS] = {
	[PCI_RESET_METHOD_DEVICE_SPECIFIC] = { "device_specific" },
	[PCI_RESET_METHOD_ACPI] = { "acpi" },
	[PCI_RESET_METHOD_FLR] = { "flr" },
	[PCI_RESET_METHOD_AF_FLR] = { "af_flr" },
	[PCI_RESET_METHOD_PM] = { "pm" },
	[PCI_RESET_METHOD_BUS] = { "bus" },
};

const char *pci_reset_method_name(enum pci_reset_method method)
{
	if (method < 1 || method >= PCI_RESET_METHOD_MAX_)
		return NULL;
	return pci_reset_fn_methods[method].name;
}

/* pci_reset_fn_methods[m].reset_fn(dev, PCI_RESET_PROBE) */
static int pci_reset_probe(struct device *dev, int method)
{
	if (method == PCI_RESET_METHOD_BUS)
		return pci_reset_bus_function(dev);
	return pci_function_reset_probe(dev, method);
}

int device_set_pci_reset(struct device *dev, unsigned int methods,
			 bool no_bus_reset)
{
	if (device_bus_kind(dev) != BUS_PCI ||
	    (methods & ~PCI_RESET_FUNCTION_CAPS))
		return -EINVAL;
	if (dev->added)
		return -EBUSY;
	dev->pci_reset.caps = methods;
	dev->pci_reset.no_bus_reset = no_bus_reset;
	return 0;
}

/* pci_init_reset_methods(), with device_lock held */
static void __pci_init_reset_methods(struct device *dev)
{
	int i = 0;

	for (int m = 1; m < PCI_NUM_RESET_METHODS; m++)
		if (!pci_reset_probe(dev, m))
			dev->pci_reset.methods[i++] = (unsigned char)m;
	dev->pci_reset.methods[i] = 0;
}

void pci_init_reset_methods(struct device *dev)
{
	if (device_bus_kind(dev) != BUS_PCI)
		return;
	device_lock(dev);
	__pci_init_reset_methods(dev);
	/* pci_dev_reset_method_attr_is_visible(): pci_reset_supported() */
	dev->pci_reset.attr = dev->pci_reset.methods[0] != 0;
	device_unlock(dev);
}

bool pci_reset_method_visible(const struct device *dev)
{
	return device_bus_kind(dev) == BUS_PCI && dev->pci_reset.attr;
}

int reset_method_show(struct device *dev, struct sbuf *sb)
{
	bool any = false;

	KFUNC();
	device_lock(dev);
	for (int i = 0; i < PCI_NUM_RESET_METHODS; i++) {
		int m = dev->pci_reset.methods[i];

		if (!m)
			break;
		sbuf_printf(sb, "%s%s", any ? " " : "",
			    pci_reset_fn_methods[m].name);
		any = true;
	}
	device_unlock(dev);
	if (any)
		sbuf_printf(sb, "\n");
	return 0;
}

/* sysfs_streq(): equal, but for one trailing newline on either side. */
static bool sysfs_streq(const char *s1, const char *s2)
{
	while (*s1 && *s1 == *s2) {
		s1++;
		s2++;
	}
	if (*s1 == *s2)
		return true;
	if (!*s1 && *s2 == '\n' && !s2[1])
		return true;
	if (*s1 == '\n' && !s1[1] && !*s2)
		return true;
	return false;
}

/* strim(): without leading and trailing white space, in place. */
static char *strim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static int reset_method_lookup(const char *name)
{
	for (int m = 1; m < PCI_NUM_RESET_METHODS; m++)
		if (sysfs_streq(name, pci_reset_fn_methods[m].name))
			return m;
	return 0;
}

/*
 * reset_method_store() (v6.6): an empty write disables every method,
 * "default" finds them again, anything else is a list of names separated
 * by blanks, each one the function supports now, in the order to try
 * them; on any error the methods stay as they were.
 */
static int __reset_method_store(struct device *dev, char *options)
{
	unsigned char methods[PCI_NUM_RESET_METHODS] = { 0 };
	char *tmp = options, *name;
	int n = 0;

	while ((name = strsep(&tmp, " ")) != NULL) {
		int m;

		if (sysfs_streq(name, ""))
			continue;
		name = strim(name);
		m = reset_method_lookup(name);
		if (!m) {
			dev_err(dev, "Invalid reset method '%s'", name);
			return -EINVAL;
		}
		if (pci_reset_probe(dev, m)) {
			dev_err(dev, "Unsupported reset method '%s'", name);
			return -EINVAL;
		}
		if (n == PCI_NUM_RESET_METHODS - 1) {
			dev_err(dev, "Too many reset methods\n");
			return -EINVAL;
		}
		methods[n++] = (unsigned char)m;
	}
	methods[n] = 0;
	if (!pci_reset_probe(dev, PCI_RESET_METHOD_DEVICE_SPECIFIC) &&
	    methods[0] != PCI_RESET_METHOD_DEVICE_SPECIFIC)
		dev_warn(dev, "Device-specific reset disabled/de-prioritized by user");
	memcpy(dev->pci_reset.methods, methods, sizeof(methods));
	return 0;
}

int reset_method_store(struct device *dev, const char *buf)
{
	char *options;
	int ret = 0;

	KFUNC();
	device_lock(dev);
	if (sysfs_streq(buf, "")) {
		dev->pci_reset.methods[0] = 0;
		dev_warn(dev, "All device reset methods disabled by user");
	} else if (sysfs_streq(buf, "default")) {
		__pci_init_reset_methods(dev);
	} else {
		options = kstrndup(dev->m, buf, strlen(buf) + 1);
		ret = options ? __reset_method_store(dev, options) : -ENOMEM;
		kfree(options);
	}
	device_unlock(dev);
	return ret;
}

/* ---- bus resets, for vfio-pci's hot reset ---- */

int pci_probe_reset_slot(struct device *dev)
{
	(void)dev;
	return -ENOTTY;
}

/* The added devices whose parent is @bridge, in list order; obj_lock held. */
#define for_each_bus_child(m, bridge, pos)                               \
	list_for_each_entry(pos, &(m)->devices, node)                    \
		if ((pos)->parent == (bridge) && (pos)->added &&         \
		    device_bus_kind(pos) == BUS_PCI)

/*
 * pci_bus_resetable() (v6.6; pci_bus_resettable() later): no device on the
 * bus behind @bridge, nor below it, nor the bridge, has
 * PCI_DEV_FLAGS_NO_BUS_RESET. Under obj_lock.
 */
static bool pci_bus_resetable(struct machine *m, const struct device *bridge)
{
	struct device *dev;

	if (bridge->pci_reset.no_bus_reset)
		return false;
	for_each_bus_child(m, bridge, dev)
		if (dev->pci_reset.no_bus_reset ||
		    (pci_is_bridge(dev) && !pci_bus_resetable(m, dev)))
			return false;
	return true;
}

/* pci_bus_reset(bus, PCI_RESET_PROBE) */
int pci_probe_reset_bus(struct device *dev)
{
	struct machine *m = dev->m;
	bool ok;

	if (pci_dev_on_root_bus(dev))
		return -ENOTTY;
	mutex_lock(&m->obj_lock);
	ok = pci_bus_resetable(m, dev->parent);
	mutex_unlock(&m->obj_lock);
	return ok ? 0 : -ENOTTY;
}

bool pci_dev_same_bus(const struct device *a, const struct device *b)
{
	return a->parent && a->parent == b->parent &&
	       device_bus_kind(a) == BUS_PCI && device_bus_kind(b) == BUS_PCI;
}

/* Pre-order: each device, then the bus below it if it is a bridge. */
static size_t pci_walk_bus_fill(struct machine *m, const struct device *bridge,
				struct device **devs, size_t n)
{
	struct device *dev;

	for_each_bus_child(m, bridge, dev) {
		if (devs)
			devs[n] = get_device(dev);
		n++;
		if (pci_is_bridge(dev))
			n = pci_walk_bus_fill(m, dev, devs, n);
	}
	return n;
}

struct device **pci_walk_bus_get(struct device *dev, size_t *ret_n)
{
	struct machine *m = dev->m;
	struct device **devs;
	size_t n;

	*ret_n = 0;
	if (pci_dev_on_root_bus(dev))
		return NULL;	/* a root bus is never reset */
	mutex_lock(&m->obj_lock);
	n = pci_walk_bus_fill(m, dev->parent, NULL, 0);
	devs = kzalloc(m, (n ? n : 1) * sizeof(*devs));
	if (devs)
		*ret_n = pci_walk_bus_fill(m, dev->parent, devs, 0);
	mutex_unlock(&m->obj_lock);
	return devs;
}
