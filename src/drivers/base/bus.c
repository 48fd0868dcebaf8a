// SPDX-License-Identifier: MIT
/*
 * Buses and drivers: registration, lookups, and the bus and driver sysfs
 * attributes. Counterpart of drivers/base/bus.c and driver.c.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

static const struct bus_ops *const bus_kinds[BUS_KIND_MAX_] = {
	[BUS_PCI] = &pci_bus_ops,
	[BUS_PLATFORM] = &platform_bus_ops,
	[BUS_AMBA] = &amba_bus_ops,
	[BUS_FSL_MC] = &fsl_mc_bus_ops,
};

const char *bus_kind_name(enum bus_kind kind)
{
	if (kind < 0 || kind >= BUS_KIND_MAX_)
		return "?";
	return bus_kinds[kind]->name;
}

const char *bus_vfio_driver_name(enum bus_kind kind)
{
	switch (kind) {
	case BUS_PCI:
		return "vfio-pci";
	case BUS_PLATFORM:
		return "vfio-platform";
	case BUS_AMBA:
		return "vfio-amba";
	case BUS_FSL_MC:
		return "vfio-fsl-mc";
	default:
		return NULL;
	}
}

enum bus_kind bus_kind_from_name(const char *name)
{
	for (int k = 0; k < BUS_KIND_MAX_; k++)
		if (!strcmp(bus_kinds[k]->name, name))
			return (enum bus_kind)k;
	return BUS_KIND_INVALID_;
}

static const char *const fault_names[] = {
	"v7-order", "no-probe-cleanup", "claim-ignores-count",
	"release-keeps-domain", "use-ignores-owner", "lock-dropped",
};

const char *machine_fault_name(unsigned int fault)
{
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]);
	     i++)
		if (fault == 1u << i)
			return fault_names[i];
	return NULL;
}

unsigned int machine_fault_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]);
	     i++)
		if (!strcmp(name, fault_names[i]))
			return 1u << i;
	return 0;
}

void machine_set_faults(struct machine *m, unsigned int faults)
{
	m->faults = faults;
}

unsigned int machine_faults(const struct machine *m)
{
	return m->faults;
}

struct bus_type *bus_find(struct machine *m, enum bus_kind kind)
{
	struct bus_type *bus;

	list_for_each_entry(bus, &m->buses, node)
		if (bus->ops->kind == kind)
			return bus;
	return NULL;
}

struct bus_type *machine_bus(struct machine *m, enum bus_kind kind)
{
	return bus_find(m, kind);
}

/* sysfs_streq() for names written to sysfs: one trailing newline allowed. */
struct device *bus_find_device_by_name(struct bus_type *bus,
				       const char *name)
{
	struct machine *m = bus->m;
	struct device *dev, *found = NULL;
	size_t len = strlen(name);

	/* a sysfs write's trailing newline is not part of the name */
	if (len && name[len - 1] == '\n')
		len--;
	mutex_lock(&m->obj_lock);
	dev = strmap_get_len(&m->devices_by_name, name, len);
	if (dev && dev->bus == bus && dev->added)
		found = get_device(dev);
	mutex_unlock(&m->obj_lock);
	return found;
}

struct device *bus_device_by_name(struct bus_type *bus, const char *name)
{
	struct device *dev = bus_find_device_by_name(bus, name);

	put_device(dev); /* the machine keeps an added device alive */
	return dev;
}

struct device_driver *bus_find_driver(struct bus_type *bus, const char *name)
{
	struct device_driver *drv, *found = NULL;

	mutex_lock(&bus->m->obj_lock);
	list_for_each_entry(drv, &bus->drivers, node) {
		if (!strcmp(drv->name, name)) {
			found = drv;
			break;
		}
	}
	mutex_unlock(&bus->m->obj_lock);
	return found;
}

/* Module names use '_' where driver names may use '-'. */
static bool module_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return false;
	}
	return *a == *b;
}

static bool desc_named(const struct driver_desc *desc, const char *name)
{
	return module_name_eq(desc->name, name) ||
	       (desc->module && module_name_eq(desc->module, name));
}

const struct driver_desc *driver_desc_find(const char *name)
{
	const struct driver_desc *desc;

	for (size_t i = 0; (desc = driver_catalogue_entry(i)); i++)
		if (desc_named(desc, name))
			return desc;
	return NULL;
}

/* Room for a driver's DRIVER_DYNIDS_MAX dynamic ids (first one, or a clone). */
static struct pci_device_id *dynids_alloc(void)
{
	return malloc(DRIVER_DYNIDS_MAX * sizeof(struct pci_device_id));
}

int driver_add_dynid(struct device_driver *drv, const struct pci_device_id *id)
{
	if (drv->ndynids == DRIVER_DYNIDS_MAX)
		return -ENOSPC;
	if (!drv->dynids) {
		drv->dynids = dynids_alloc();
		if (!drv->dynids)
			return -ENOMEM;
	}
	drv->dynids[drv->ndynids++] = *id;
	return 0;
}

static void driver_free(struct device_driver *drv)
{
	free(drv->dynids);
	machine_free(drv->bus->m, drv, sizeof(*drv));
}

struct device_driver *driver_get(struct device_driver *drv)
{
	kref_get(&drv->kref);
	return drv;
}

static void driver_release(struct kref *kref)
{
	struct device_driver *drv = container_of(kref, struct device_driver,
						 kref);
	struct machine *m = drv->bus->m;

	/*
	 * sysfs and lspci peek at dev->driver under obj_lock and print its
	 * name: one may have read it just before the unbind. Wait them out.
	 */
	mutex_lock(&m->obj_lock);
	mutex_unlock(&m->obj_lock);
	driver_free(drv);
}

void driver_put(struct device_driver *drv)
{
	if (drv)
		kref_put(&drv->kref, driver_release);
}

/* Caller holds obj_lock. */
static struct device_driver *find_driver_locked(struct machine *m,
						const char *name)
{
	struct bus_type *bus;
	struct device_driver *drv;

	list_for_each_entry(bus, &m->buses, node) {
		list_for_each_entry(drv, &bus->drivers, node)
			if (desc_named(drv->desc, name))
				return drv;
	}
	return NULL;
}

struct device_driver *machine_find_driver(struct machine *m, const char *name)
{
	struct device_driver *drv;

	mutex_lock(&m->obj_lock);
	drv = find_driver_locked(m, name);
	mutex_unlock(&m->obj_lock);
	return drv;
}

const char *driver_name(const struct device_driver *drv)
{
	return drv->name;
}

bool driver_is_dma_managed(const struct device_driver *drv)
{
	return drv->driver_managed_dma;
}

void driver_set_probe_fault(struct device_driver *drv, int err, int count)
{
	mutex_lock(&drv->bus->ids_lock);
	drv->fail_errno = err > 0 ? -err : err;
	drv->fail_count = err ? count : 0;
	mutex_unlock(&drv->bus->ids_lock);
}

const char *device_driver_name(const struct device *dev)
{
	return dev->driver && dev->bound ? dev->driver->name : NULL;
}

enum bus_kind device_bus_kind(const struct device *dev)
{
	return dev->bus ? dev->bus->ops->kind : BUS_KIND_INVALID_;
}

/*
 * The "ids=" module parameter of vfio-pci and pci-stub:
 * "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]" entries,
 * comma-separated, added as dynamic ids before the driver registers.
 */
static int parse_ids_param(struct device_driver *drv, const char *ids)
{
	const char *p = ids;

	if (drv->bus->ops->kind != BUS_PCI)
		return -EINVAL;
	while (*p) {
		unsigned int f[6] = { PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID,
				      PCI_ANY_ID, 0, 0 };
		int n = 0, ret;

		while (n < 6) {
			char *end;
			unsigned long v = strtoul(p, &end, 16);

			if (end == p || v > 0xffffffffUL)
				return -EINVAL;
			f[n++] = (unsigned int)v;
			p = end;
			if (*p != ':')
				break;
			p++;
		}
		if (n < 2 || (*p && *p != ','))
			return -EINVAL;
		ret = driver_add_dynid(drv, &(struct pci_device_id){
			f[0], f[1], f[2], f[3], f[4], f[5], false
		});
		if (ret)
			return ret;
		if (*p == ',')
			p++;
	}
	return 0;
}

/*
 * A bool module parameter's value, as param_set_bool() reads it
 * (kstrtobool(); a bare name means true). Return: 0 or -EINVAL.
 */
static int parse_bool_param(const char *val, bool *ret_v)
{
	return kstrtobool(val ? val : "1", ret_v);
}

bool driver_param_modelled(const struct driver_desc *desc, const char *param)
{
	enum driver_probe_kind probe = desc->probe;

	return (!strcmp(param, "ids") &&
		(probe == PROBE_STUB || probe == PROBE_VFIO_PCI)) ||
	       (!strcmp(param, "reset_required") &&
		probe == PROBE_VFIO_PLATFORM);
}

/*
 * Module parameters, "name=value" separated by blanks: ids= of pci-stub,
 * vfio-pci and its variants, reset_required= of vfio-platform, enable_sriov=
 * of vfio-pci. Anything
 * else is -EINVAL.
 */
static int parse_module_params(struct device_driver *drv, const char *params)
{
	enum driver_probe_kind probe = drv->desc->probe;
	char *copy = strdup(params), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t", &save); tok && !ret;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "ids") && val &&
		    (probe == PROBE_STUB || probe == PROBE_VFIO_PCI))
			ret = parse_ids_param(drv, val);
		else if (!strcmp(tok, "reset_required") &&
			 probe == PROBE_VFIO_PLATFORM)
			ret = parse_bool_param(val, &drv->reset_required);
		else if (!strcmp(tok, "enable_sriov") &&
			 drv->desc->sriov == SRIOV_VFIO_PCI)
			ret = parse_bool_param(val, &drv->enable_sriov);
		else
			ret = -EINVAL;
	}
	free(copy);
	return ret;
}

int driver_load(struct machine *m, const char *name)
{
	return driver_load_params(m, name, NULL);
}

/* Drivers built into every kernel (bool Kconfig symbols): no module. */
static const char *const builtin_drivers[] = {
	"pcieport",		/* CONFIG_PCIEPORTBUS */
	"fsl_mc_allocator",	/* part of the fsl-mc bus, CONFIG_FSL_MC_BUS */
};

/*
 * The module @desc's driver comes in, named as the kernel names modules
 * (underscores: "vfio_pci"); false for a built-in driver. The other drivers
 * are modules, as in Debian's kernels.
 */
bool driver_module_name(const struct driver_desc *desc, char *buf,
			size_t len)
{
	const char *s = desc->module ? desc->module : desc->name;
	size_t i;

	for (i = 0; i < sizeof(builtin_drivers) / sizeof(builtin_drivers[0]);
	     i++)
		if (!strcmp(desc->name, builtin_drivers[i]))
			return false;
	/* snprintf("%s") with the dashes made underscores, in one pass */
	for (i = 0; len && i < len - 1 && s[i]; i++)
		buf[i] = s[i] == '-' ? '_' : s[i];
	if (len)
		buf[i] = '\0';
	return true;
}

/* driver_register() -> bus_add_driver() */
int driver_load_params(struct machine *m, const char *name, const char *params)
{
	const struct driver_desc *desc = driver_desc_find(name);
	struct device_driver *drv;
	char module[MODULE_NAME_LEN];
	struct bus_type *bus;

	KFUNC();
	/* VFIO selects IOMMU_API: without it there is no vfio module */
	if (!desc || (driver_probe_is_vfio(desc->probe) && !m->cfg.iommu_api))
		return -ENOENT;
	if (machine_find_driver(m, desc->name))
		return -EEXIST;
	bus = bus_find(m, desc->bus);
	drv = kzalloc(m, sizeof(*drv));
	if (!drv)
		return -ENOMEM;
	kref_init(&drv->kref);
	drv->desc = desc;
	INIT_LIST_HEAD(&drv->devices);
	drv->name = desc->name;
	drv->name_len = strlen(desc->name);
	drv->bus = bus;
	drv->driver_managed_dma = desc->driver_managed_dma;
	drv->reset_required = true;	/* vfio-platform's default */
	if (params && *params) {
		int ret = parse_module_params(drv, params);

		if (ret) {
			driver_free(drv);
			return ret;
		}
	}
	mutex_lock(&m->obj_lock);
	/* a concurrent load of the same module may have won */
	if (find_driver_locked(m, desc->name)) {
		mutex_unlock(&m->obj_lock);
		driver_free(drv);
		return -EEXIST;
	}
	list_add_tail(&drv->node, &bus->drivers);
	mutex_unlock(&m->obj_lock);
	/* on the kernel's module list before its init registers the driver */
	if (driver_module_name(desc, module, sizeof(module)))
		kcompat_module_loaded(m, module);
	/*
	 * The ids= of vfio-pci and pci-stub are added with pci_add_dynid()
	 * after registration, which attaches whatever drivers_autoprobe says.
	 */
	if (bus->drivers_autoprobe || drv->ndynids)
		driver_attach(drv);
	return 0;
}

/* driver_unregister() -> bus_remove_driver() */
int driver_unload(struct machine *m, const char *name)
{
	struct device_driver *drv;
	char module[MODULE_NAME_LEN];

	KFUNC();
	/* unlink and mark dying in one step: a second unload finds nothing */
	mutex_lock(&m->obj_lock);
	drv = find_driver_locked(m, name);
	if (drv) {
		/* the stores peek; sequentially consistent for driver_detach() */
		__atomic_store_n(&drv->dying, true, __ATOMIC_SEQ_CST);
		list_del(&drv->node);
	}
	mutex_unlock(&m->obj_lock);
	if (!drv)
		return -ENOENT;
	driver_detach(drv);
	/* delete_module(): off the list after its exit, the last unloaded */
	if (driver_module_name(drv->desc, module, sizeof(module)))
		kcompat_module_unloaded(m, module);
	driver_put(drv);
	return 0;
}

/*
 * try_module_get() (kernel/module/main.c): the module's count goes up,
 * unless the module is going (its unload has begun: MODULE_STATE_GOING,
 * the model's @dying), which fails it: an open that races an rmmod
 * past its reference check gets -ENODEV (vfio_df_device_first_open()).
 */
bool try_module_get(struct device_driver *drv)
{
	if (!drv)
		return true;
	lockdep_assert_held(drv->bus->m, &drv->bus->m->vfio_lock);
	if (__atomic_load_n(&drv->dying, __ATOMIC_SEQ_CST))
		return false;
	drv->module_refs++;
	return true;
}

/* module_put(): one reference less. */
void module_put(struct device_driver *drv)
{
	if (!drv)
		return;
	lockdep_assert_held(drv->bus->m, &drv->bus->m->vfio_lock);
	if (!WARN_ON(drv->bus->m, !drv->module_refs))
		drv->module_refs--;
}

/* module_refcount(): the references taken (0 for a module not in use). */
unsigned int module_refcount(const struct device_driver *drv)
{
	lockdep_assert_held(drv->bus->m, &drv->bus->m->vfio_lock);
	return drv->module_refs;
}

/*
 * delete_module() with O_NONBLOCK, as kmod's rmmod calls it: a module
 * with references is refused (try_stop_module(): -EWOULDBLOCK) and stays.
 * The count is read in O(1); debug builds check it against the walk of
 * every vfio device it replaces.
 */
int driver_delete_module(struct machine *m, const char *name)
{
	struct device_driver *drv;
	unsigned int refs = 0;

	KFUNC();
	mutex_lock(&m->obj_lock);
	drv = find_driver_locked(m, name);
	if (drv)
		driver_get(drv);
	mutex_unlock(&m->obj_lock);
	if (!drv)
		return -ENOENT;
	mutex_lock(&m->vfio_lock);
	refs = module_refcount(drv);
	self_check(refs == vfio_driver_open_devices(m, drv));
	mutex_unlock(&m->vfio_lock);
	driver_put(drv);
	if (refs)
		return -EWOULDBLOCK;
	return driver_unload(m, name);
}

int device_set_bus(struct device *dev, enum bus_kind kind)
{
	if (dev->added)
		return -EBUSY;
	if (kind < 0 || kind >= BUS_KIND_MAX_)
		return -EINVAL;
	dev->bus = bus_find(dev->m, kind);
	return 0;
}

void device_set_pci_ids(struct device *dev, unsigned int vendor,
			unsigned int device, unsigned int subvendor,
			unsigned int subdevice, unsigned int class)
{
	dev->ids.vendor = vendor;
	dev->ids.device = device;
	dev->ids.subvendor = subvendor;
	dev->ids.subdevice = subdevice;
	dev->ids.class = class;
}

void device_set_pci_type(struct device *dev, unsigned int hdr_type,
			 unsigned int pcie_type)
{
	dev->ids.hdr_type = (unsigned char)hdr_type;
	dev->ids.pcie_type = (unsigned char)pcie_type;
}

int device_set_pci_acs(struct device *dev, enum pci_acs_state state,
		       unsigned int cap, int ctrl)
{
	if (dev->added)
		return -EBUSY;
	if (device_bus_kind(dev) != BUS_PCI || cap & ~PCI_ACS_ALL_ ||
	    (ctrl >= 0 && (unsigned int)ctrl & ~PCI_ACS_ALL_) ||
	    (state != PCI_ACS_PRESENT && (cap || ctrl >= 0)) ||
	    (state != PCI_ACS_ABSENT && state != PCI_ACS_PRESENT &&
	     state != PCI_ACS_UNKNOWN))
		return -EINVAL;
	dev->pci.acs = (unsigned char)state;
	dev->pci.acs_cap = (unsigned short)cap;
	dev->pci.acs_ctrl = ctrl < 0 ? -1 : ctrl;
	return 0;
}

int device_set_pci_multifunction(struct device *dev, bool multifunction)
{
	if (dev->added)
		return -EBUSY;
	if (device_bus_kind(dev) != BUS_PCI)
		return -EINVAL;
	dev->pci.multifunction = multifunction;
	return 0;
}

int device_set_pci_shpc(struct device *dev, bool shpc)
{
	if (dev->added)
		return -EBUSY;
	if (device_bus_kind(dev) != BUS_PCI)
		return -EINVAL;
	dev->pci.shpc = shpc;
	return 0;
}

int device_add_pci_dma_alias(struct device *dev, unsigned int devfn)
{
	if (dev->added)
		return -EBUSY;
	if (device_bus_kind(dev) != BUS_PCI || devfn > 255)
		return -EINVAL;
	dev->pci.dma_alias_mask[devfn / 64] |= 1ull << (devfn % 64);
	return 0;
}

void device_set_of_compatible(struct device *dev, const char *compatible)
{
	snprintf(dev->ids.compatible, sizeof(dev->ids.compatible), "%s",
		 compatible);
}

void device_set_amba_periphid(struct device *dev, unsigned int periphid)
{
	dev->ids.periphid = periphid;
}

void device_set_mc_type(struct device *dev, const char *type)
{
	snprintf(dev->ids.mc_type, sizeof(dev->ids.mc_type), "%s", type);
}

/* ---- bus and driver attributes ---- */

int bind_store(struct device_driver *drv, const char *buf)
{
	struct device *dev;
	int err = -ENODEV;

	KFUNC();
	if (READ_ONCE(drv->dying))
		return -ENODEV;
	dev = bus_find_device_by_name(drv->bus, buf);
	if (dev && driver_match_device(drv, dev) > 0)
		err = device_driver_attach(drv, dev);
	put_device(dev);
	return err;
}

int unbind_store(struct device_driver *drv, const char *buf)
{
	struct device *dev;
	int err = -ENODEV;

	KFUNC();
	if (READ_ONCE(drv->dying))
		return -ENODEV;
	dev = bus_find_device_by_name(drv->bus, buf);
	/* a peek without device_lock, as the kernel's; the detach rechecks */
	if (dev && READ_ONCE(dev->driver) == drv) {
		device_driver_detach(dev);
		err = 0;
	}
	put_device(dev);
	return err;
}

int drivers_probe_store(struct bus_type *bus, const char *buf)
{
	struct device *dev;
	int err = 0;

	KFUNC();
	dev = bus_find_device_by_name(bus, buf);
	if (!dev)
		return -ENODEV;
	/* bus_rescan_devices_helper() */
	if (!READ_ONCE(dev->driver) && device_attach(dev) < 0)
		err = -EINVAL;
	put_device(dev);
	return err;
}

int drivers_autoprobe_store(struct bus_type *bus, const char *buf)
{
	if (buf[0] == '0' && (buf[1] == '\0' || buf[1] == '\n'))
		bus->drivers_autoprobe = false;
	else if (buf[0] == '1' && (buf[1] == '\0' || buf[1] == '\n'))
		bus->drivers_autoprobe = true;
	else
		return -EINVAL;
	return 0;
}

bool drivers_autoprobe_show(const struct bus_type *bus)
{
	return bus->drivers_autoprobe;
}

/* driver_set_override() */
int driver_override_store(struct device *dev, const char *buf)
{
	size_t len = strlen(buf);
	char *new = NULL, *old;
	const char *nl;

	/* one byte is kept for the newline show adds */
	if (len >= DRIVER_OVERRIDE_MAX)
		return -EINVAL;
	/* the name ends at the first newline: "" and "\n" clear */
	nl = memchr(buf, '\n', len);
	if (nl)
		len = (size_t)(nl - buf);
	if (len) {
		new = kstrndup(dev->m, buf, len + 1);
		if (!new)
			return -ENOMEM;
	}
	device_lock(dev);
	/* obj_lock too: buses match without device_lock (bind_store) */
	mutex_lock(&dev->m->obj_lock);
	old = dev->driver_override;
	dev->driver_override = new;
	mutex_unlock(&dev->m->obj_lock);
	device_unlock(dev);
	kfree(old);
	return 0;
}

const char *driver_override_show(const struct device *dev)
{
	return dev->driver_override;
}

/*
 * device_match_driver_override() - does @dev's driver_override name @drv?
 *
 * For the buses' match(), which runs without device_lock when bind_store
 * asks, while driver_override_store() may free the old string: the
 * override is read under obj_lock, as upstream reads it under the
 * override's spinlock (device_match_driver_override(), v6.19).
 *
 * Return: 1 it names @drv, 0 it names another driver, -1 none is set.
 */
int device_match_driver_override(struct device *dev,
				 const struct device_driver *drv)
{
	int ret = -1;

	mutex_lock(&dev->m->obj_lock);
	if (dev->driver_override)
		ret = !strcmp(dev->driver_override, drv->name);
	mutex_unlock(&dev->m->obj_lock);
	return ret;
}

/* ---- device add/remove on a bus ---- */

int bus_probe_device(struct device *dev)
{
	KFUNC();
	if (!dev->bus || !dev->bus->drivers_autoprobe)
		return 0;
	return device_attach(dev);
}

void bus_remove_device(struct device *dev)
{
	KFUNC();
	driver_deferred_probe_del(dev);
	device_release_driver(dev);
}

/* ---- machine subsystem: buses and drivers ---- */

static int driver_subsys_init(struct machine *m)
{
	for (int k = 0; k < BUS_KIND_MAX_; k++) {
		struct bus_type *bus = kzalloc(m, sizeof(*bus));

		if (!bus)
			return -ENOMEM;
		bus->ops = bus_kinds[k];
		bus->name = bus->ops->name;
		bus->name_len = strlen(bus->name);
		bus->m = m;
		bus->drivers_autoprobe = true;
		INIT_LIST_HEAD(&bus->drivers);
		INIT_LIST_HEAD(&bus->devices);
		mutex_init(&bus->ids_lock, &m->locks, "bus.ids_lock");
		list_add_tail(&bus->node, &m->buses);
	}
	return 0;
}

static int driver_subsys_clone(const struct machine *old, struct machine *new,
			       struct ptrmap *map)
{
	struct bus_type *bus, *nb;
	struct device_driver *drv, *nd;
	struct device *dev, *ndev;

	list_for_each_entry(bus, &old->buses, node) {
		nb = machine_clone_alloc_at(new, old, bus, sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		*nb = *bus;
		nb->m = new;
		INIT_LIST_HEAD(&nb->drivers);
		INIT_LIST_HEAD(&nb->devices);
		mutex_init(&nb->ids_lock, &new->locks, "bus.ids_lock");
		list_add_tail(&nb->node, &new->buses);
		ptrmap_put(map, bus, nb);
		list_for_each_entry(drv, &bus->drivers, node) {
			nd = machine_clone_alloc_at(new, old, drv, sizeof(*nd));
			if (!nd)
				return -ENOMEM;
			*nd = *drv;
			nd->bus = nb;
			INIT_LIST_HEAD(&nd->devices);
			list_add_tail(&nd->node, &nb->drivers);
			if (drv->dynids) {
				nd->dynids = dynids_alloc();
				if (!nd->dynids)
					return -ENOMEM;
				memcpy(nd->dynids, drv->dynids,
				       drv->ndynids * sizeof(*nd->dynids));
			}
			ptrmap_put(map, drv, nd);
		}
	}
	/* Devices were copied by the device subsystem, which runs first. */
	list_for_each_entry(dev, &old->devices, node) {
		ndev = ptrmap_get(map, dev);
		ndev->driver_override = NULL;
		if (dev->driver_override) {
			ndev->driver_override = strdup(dev->driver_override);
			if (!ndev->driver_override)
				return -ENOMEM;
		}
	}
	list_for_each_entry(dev, &old->deferred_probe, deferred) {
		ndev = ptrmap_get(map, dev);
		list_add_tail(&ndev->deferred, &new->deferred_probe);
	}
	return 0;
}

static void driver_subsys_fixup(struct machine *new, const struct ptrmap *map)
{
	struct device *dev;

	list_for_each_entry(dev, &new->devices, node)
		dev->dma_use.group = clone_remap(map, dev->dma_use.group);
}

static void driver_subsys_serialize(const struct machine *m, struct sbuf *sb,
				    struct ptrmap *ids)
{
	const struct bus_type *bus;
	const struct device_driver *drv;

	(void)ids;
	list_for_each_entry(bus, &m->buses, node) {
		size_t bus_len = bus->name_len;

		sbuf_puts(sb, "bus ");
		sbuf_putn(sb, bus->name, bus_len);
		sbuf_puts(sb, " autoprobe=");
		sbuf_putd(sb, bus->drivers_autoprobe);
		sbuf_putc(sb, '\n');
		list_for_each_entry(drv, &bus->drivers, node) {
			/* "driver %s/%s fail=%d/%d dynids=", through a cursor */
			size_t drv_len = drv->name_len;
			char *p = sbuf_room(sb, 32 + bus_len + drv_len +
							2 * CUR_NUM_MAX);

			if (p) {
				self_check(bus_len == strlen(bus->name) &&
					   drv_len == strlen(drv->name));
				p = cur_putlit(p, "driver ");
				p = cur_putn(p, bus->name, bus_len);
				p = cur_putc(p, '/');
				p = cur_putn(p, drv->name, drv_len);
				p = cur_putlit(p, " fail=");
				p = cur_putd(p, drv->fail_errno);
				p = cur_putc(p, '/');
				p = cur_putd(p, drv->fail_count);
				p = cur_putlit(p, " dynids=");
				sbuf_commit(sb, p);
			}
			for (unsigned int i = 0; i < drv->ndynids; i++) {
				const struct pci_device_id *id =
					&drv->dynids[i];
				sbuf_printf(sb, "%s%04x:%04x:%x:%x:%x:%x",
					    i ? "," : "", id->vendor,
					    id->device, id->subvendor,
					    id->subdevice, id->class,
					    id->class_mask);
			}
			if (drv->desc->probe == PROBE_VFIO_PLATFORM &&
			    !drv->reset_required)
				sbuf_puts(sb, " reset_required=0");
			sbuf_putc(sb, '\n');
		}
	}
}

static void driver_subsys_destroy(struct machine *m)
{
	struct bus_type *bus, *nb;
	struct device_driver *drv, *nd;
	struct device *dev;

	list_for_each_entry(dev, &m->devices, node) {
		free(dev->driver_override);
		dev->driver_override = NULL;
	}
	list_for_each_entry_safe(bus, nb, &m->buses, node) {
		list_for_each_entry_safe(drv, nd, &bus->drivers, node)
			driver_free(drv);
		mutex_destroy(&bus->ids_lock);
		machine_free(m, bus, sizeof(*bus));
	}
	INIT_LIST_HEAD(&m->buses);
}

const struct machine_subsys driver_subsys = {
	.name = "driver",
	.init = driver_subsys_init,
	.clone = driver_subsys_clone,
	.fixup = driver_subsys_fixup,
	.serialize = driver_subsys_serialize,
	.destroy = driver_subsys_destroy,
};
