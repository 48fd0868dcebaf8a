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
#include <stdio.h>
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

/* ---- ACS and DMA aliases (the grouping half of drivers/pci/pci.c) ---- */

const char *pci_acs_bit_name(unsigned int bit)
{
	static const char *const names[] = { "sv", "tb", "rr", "cr", "uf",
					     "ec", "dt" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bit == 1u << i)
			return names[i];
	return NULL;
}

/*
 * pci_acs_flags_enabled(): every control in @acs_flags is on. Controls the
 * capability lacks count as on (the spec makes them required, or needed
 * only when controllable), except egress control.
 */
static bool pci_acs_flags_enabled(struct pci_dev *pdev, unsigned int acs_flags)
{
	if (!pdev->acs_cap)
		return false;
	acs_flags &= pdev->acs_cap_word | PCI_ACS_EC;
	return (pdev->acs_ctrl_word & acs_flags) == acs_flags;
}

/*
 * pci_acs_enabled() (v6.6): quirks first; conventional PCI never isolates;
 * PCIe-to-PCI bridges never do; root and downstream ports must have the
 * controls on; other functions only when part of a multifunction device,
 * and a single function is isolated from nothing else anyway.
 */
bool pci_acs_enabled(struct pci_dev *pdev, unsigned int acs_flags)
{
	int ret = pci_dev_specific_acs_enabled(pdev, acs_flags, NULL);

	if (ret >= 0)
		return ret > 0;
	if (!pci_is_pcie(pdev))
		return false;
	switch (pdev->pcie_type) {
	case PCI_EXP_TYPE_PCI_BRIDGE:
		return false;
	case PCI_EXP_TYPE_DOWNSTREAM:
	case PCI_EXP_TYPE_ROOT_PORT:
		return pci_acs_flags_enabled(pdev, acs_flags);
	case PCI_EXP_TYPE_ENDPOINT:
	case PCI_EXP_TYPE_UPSTREAM:
	case PCI_EXP_TYPE_RC_END:
		/* a VF is never taken as part of a multifunction device */
		if (!pdev->multifunction || pdev->is_virtfn)
			break;
		return pci_acs_flags_enabled(pdev, acs_flags);
	default:
		break;
	}
	return true;
}

/*
 * pci_acs_path_enabled() (v6.6): @acs_flags on every function from @start
 * up to @end, or up to the root bus when @end is NULL.
 */
bool pci_acs_path_enabled(struct pci_dev *start, struct pci_dev *end,
			  unsigned int acs_flags)
{
	struct pci_dev *pdev, *parent = start;

	do {
		pdev = parent;
		if (!pci_acs_enabled(pdev, acs_flags))
			return false;
		if (pci_is_root_bus_of(pdev))
			return !end;
		parent = pdev->bus_self;
	} while (pdev != end);
	return true;
}

static bool alias_bit(const struct pci_dev *pdev, unsigned int devfn)
{
	return pdev->dma_alias_mask[devfn / 64] >> (devfn % 64) & 1;
}

static bool has_alias(const struct pci_dev *pdev)
{
	return pdev->dma_alias_mask[0] | pdev->dma_alias_mask[1] |
	       pdev->dma_alias_mask[2] | pdev->dma_alias_mask[3];
}

/*
 * pci_devs_are_dma_aliases() (v6.6): one uses the other's requester ID.
 * pci_real_dma_dev() is the device itself here: VMD is not modelled.
 */
bool pci_devs_are_dma_aliases(struct pci_dev *dev1, struct pci_dev *dev2)
{
	return (has_alias(dev1) && alias_bit(dev1, dev2->devfn)) ||
	       (has_alias(dev2) && alias_bit(dev2, dev1->devfn));
}

/*
 * One bus: behind the same bridge (or both on a root bus) with the same
 * number, so a machine that puts two bus numbers behind one bridge does
 * not make their functions siblings.
 */
bool pci_same_bus(const struct pci_dev *a, const struct pci_dev *b)
{
	return a->bus_self == b->bus_self && a->domain == b->domain &&
	       a->busnr == b->busnr;
}

/*
 * pci_enable_acs() at enumeration, when an IOMMU driver asked for ACS
 * first: a quirk's own enabling, else pci_std_enable_acs(), which turns on
 * SV, RR, CR and UF where the capability has them. Without the request the
 * control word keeps its reset value. A control word the machine gives is
 * what was read after all this, and is kept.
 */
static void pci_enable_acs(struct pci_dev *pdev, int ctrl)
{
	if (ctrl >= 0) {
		pdev->acs_ctrl_word = (unsigned short)ctrl;
		/* the PCH quirk's flag is not in the word: still set it */
		if (pdev->all->acs_requested &&
		    !pci_dev_specific_enable_acs(pdev))
			pdev->acs_ctrl_word = (unsigned short)ctrl;
		return;
	}
	pdev->acs_ctrl_word = 0;
	if (!pdev->all->acs_requested)
		return;
	if (!pci_dev_specific_enable_acs(pdev))
		return;
	if (pdev->acs_cap)
		pdev->acs_ctrl_word |= pdev->acs_cap_word & REQ_ACS_FLAGS;
}

bool pci_acs_requested(const struct machine_config *cfg)
{
	return cfg->acs_request == MACHINE_ACS_REQUEST_YES ||
	       (cfg->acs_request == MACHINE_ACS_REQUEST_DEFAULT &&
		cfg->firmware != FW_DEVICETREE);
}

bool pci_name_parse(const char *name, unsigned int *domain,
			   unsigned int *busnr, unsigned int *devfn)
{
	unsigned int d, b, s, f;
	char end;

	if (sscanf(name, "%4x:%2x:%2x.%1u%c", &d, &b, &s, &f, &end) != 4 ||
	    s > 0x1f || f > 7)
		return false;
	*domain = d;
	*busnr = b;
	*devfn = PCI_DEVFN(s, f);
	return true;
}

struct pci_dev *pci_devs_find(const struct pci_devs *devs,
			      const struct device *dev)
{
	for (size_t i = 0; i < devs->n; i++)
		if (devs->v[i].dev == dev)
			return &devs->v[i];
	return NULL;
}

void pci_devs_free(struct pci_devs *devs)
{
	free(devs->v);
	free(devs->bus_order);
	free(devs->s2cr);
	devs->s2cr = NULL;
	devs->ns2cr = devs->s2cr_cap = 0;
	u64map_free(&devs->s2cr_index);
	ptrmap_free(&devs->s2cr_iommus);
	devs->v = NULL;
	devs->bus_order = NULL;
	devs->n = 0;
}

/* machine order within a bus: for_each_pci_dev() order */
static int pci_bus_order_cmp(const void *a, const void *b)
{
	const struct pci_dev *x = *(struct pci_dev *const *)a;
	const struct pci_dev *y = *(struct pci_dev *const *)b;
	uintptr_t bx = (uintptr_t)x->bus_self, by = (uintptr_t)y->bus_self;

	if (bx != by)
		return bx < by ? -1 : 1;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->busnr != y->busnr)
		return x->busnr < y->busnr ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Each bus's devices in one run of devs->bus_order (pci_bus_for_each()),
 * so the same-bus walks of the grouping rules cost the bus, not the
 * machine: a 262,144-device machine file stays fast.
 */
static int pci_devs_index_buses(struct pci_devs *all)
{
	size_t lo = 0;

	all->bus_order = calloc(all->n ? all->n : 1, sizeof(*all->bus_order));
	if (!all->bus_order)
		return -ENOMEM;
	for (size_t i = 0; i < all->n; i++)
		all->bus_order[i] = &all->v[i];
	qsort(all->bus_order, all->n, sizeof(*all->bus_order),
	      pci_bus_order_cmp);
	for (size_t i = 1; i <= all->n; i++) {
		if (i < all->n && pci_same_bus(all->bus_order[i],
					       all->bus_order[lo]))
			continue;
		for (size_t k = lo; k < i; k++) {
			all->bus_order[k]->bus_lo = lo;
			all->bus_order[k]->bus_hi = i;
		}
		lo = i;
	}
	return 0;
}

int pci_devs_build(struct device *const *devs, size_t n,
		   const struct machine_config *cfg, bool ivrs,
		   struct pci_devs *all)
{
	struct strmap by_name;
	int ret = -ENOMEM;

	memset(all, 0, sizeof(*all));
	strmap_init(&by_name);
	all->v = calloc(n ? n : 1, sizeof(*all->v));
	if (!all->v)
		goto err;
	all->ivrs = ivrs;
	all->override = cfg->acs_override;
	all->acs_requested = pci_acs_requested(cfg);
	for (size_t i = 0; i < n; i++) {
		struct device *dev = devs[i];
		struct pci_dev *pdev = &all->v[all->n];

		if (device_bus_kind(dev) != BUS_PCI ||
		    !pci_name_parse(dev->name, &pdev->domain, &pdev->busnr,
				    &pdev->devfn))
			continue;
		pdev->dev = dev;
		pdev->all = all;
		pdev->vendor = dev->ids.vendor;
		pdev->device = dev->ids.device;
		pdev->subsystem_vendor = dev->ids.subvendor;
		pdev->subsystem_device = dev->ids.subdevice;
		pdev->hdr_type = dev->ids.hdr_type;
		pdev->pcie_type = dev->ids.pcie_type;
		pdev->multifunction = dev->pci.multifunction;
		pdev->is_virtfn = dev->sriov.is_virtfn;
		pdev->acs_cap = dev->pci.acs == PCI_ACS_PRESENT;
		pdev->acs_unknown = dev->pci.acs == PCI_ACS_UNKNOWN;
		pdev->acs_cap_word = dev->pci.acs_cap;
		memcpy(pdev->dma_alias_mask, dev->pci.dma_alias_mask,
		       sizeof(pdev->dma_alias_mask));
		pdev->subordinate = -1;
		pdev->group = -1;
		pdev->iommu = dev->fw.iommu;
		pdev->sids = dev->fw.sids;
		pdev->nr_sids = dev->fw.nr_sids;
		if (strmap_put(&by_name, dev->name, pdev))
			goto err;
		all->n++;
	}
	for (size_t i = 0; i < all->n; i++) {
		struct pci_dev *pdev = &all->v[i];
		struct device *parent = pdev->dev->parent;
		struct pci_dev *o = parent ? strmap_get(&by_name, parent->name) :
					     NULL;

		/*
		 * A VF's bus is its PF's, or a virtual bus without a bridge
		 * (virtfn_add_bus()), which the walks up skip: either way the
		 * PF's bridge is the next one up, and it is not the bridge's
		 * secondary bus.
		 */
		if (o && o->dev == parent) {
			pdev->bus_self = o;
			if (!pdev->is_virtfn)
				o->subordinate = (int)pdev->busnr;
		}
	}
	ret = pci_devs_index_buses(all);
	if (ret)
		goto err;
	/* another function in the slot: the header bit must be set */
	for (size_t i = 0; i < all->n; i++) {
		struct pci_dev *a = &all->v[i];

		for (size_t k = a->bus_lo; k < a->bus_hi; k++) {
			struct pci_dev *b = all->bus_order[k];

			/* pci_iov_add_virtfn() clears a VF's bit, and VFs
			 * sharing a slot with a function do not set its */
			if (b != a && !a->is_virtfn && !b->is_virtfn &&
			    PCI_SLOT(a->devfn) == PCI_SLOT(b->devfn))
				a->multifunction = true;
		}
	}
	for (size_t i = 0; i < all->n; i++) {
		struct pci_dev *pdev = &all->v[i];

		pci_fixup_device_header(pdev);
		pci_enable_acs(pdev, pdev->acs_cap ? pdev->dev->pci.acs_ctrl : -1);
	}
	strmap_free(&by_name);
	return 0;

err:
	strmap_free(&by_name);
	pci_devs_free(all);
	return ret;
}
