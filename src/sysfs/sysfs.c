// SPDX-License-Identifier: MIT
/*
 * The sysfs tree (and /dev/vfio): path resolution over the model's
 * objects, attributes as {name, show, store} table rows, kernel-style
 * relative symlinks. Counterpart of the sysfs attributes spread over
 * drivers/base/bus.c, drivers/pci/pci-sysfs.c, drivers/iommu/iommu.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/sysfs.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

#define SYSFS_LINK_HOPS 40
#define PAGE_SIZE_SYSFS 4096 /* what stat() says of an attribute */

enum snode_kind {
	N_ROOT,          /* / */
	N_SYS,           /* /sys */
	N_BUS_ROOT,      /* /sys/bus */
	N_BUS,           /* /sys/bus/B */
	N_BUS_DEVICES,   /* /sys/bus/B/devices */
	N_BUS_DRIVERS,   /* /sys/bus/B/drivers */
	N_DRIVER,        /* /sys/bus/B/drivers/D */
	N_DEVICES,       /* /sys/devices */
	N_DEVROOT,       /* /sys/devices/pci0000:00, /sys/devices/platform */
	N_DEVICE,        /* a device's directory */
	N_KERNEL,        /* /sys/kernel */
	N_GROUPS,        /* /sys/kernel/iommu_groups */
	N_GROUP,         /* /sys/kernel/iommu_groups/N */
	N_GROUP_DEVICES, /* /sys/kernel/iommu_groups/N/devices */
	N_CLASS,         /* /sys/class */
	N_CLASS_IOMMU,   /* /sys/class/iommu */
	N_VIRTUAL,       /* /sys/devices/virtual */
	N_VIRTUAL_IOMMU, /* /sys/devices/virtual/iommu */
	N_IOMMU,         /* /sys/devices/virtual/iommu/NAME */
	N_MODULES,       /* /sys/module */
	N_MODULE,        /* /sys/module/NAME (drv: a driver it registers) */
	N_MODULE_DRIVERS, /* /sys/module/NAME/drivers */
	N_DEV,           /* /dev */
	N_DEV_VFIO,      /* /dev/vfio */
	N_ATTR,          /* a file */
	N_LINK,          /* a symbolic link */
};

struct snode;

/* An attribute row: show into @sb, or store @buf; NULL: not allowed. */
struct sattr {
	const char *name;
	enum snode_kind parent;
	bool (*visible)(const struct snode *dir);
	int (*show)(const struct snode *n, struct sbuf *sb);
	int (*store)(const struct snode *n, const char *buf);
	/* 0: 0444 with a show, | 0200 with a store (most of sysfs) */
	unsigned short mode;
};

/*
 * What a link points at: its target is made from the node's objects only
 * when it is read (readlink) or followed, never while a path resolves
 * through the directory that holds it.
 */
enum link_kind {
	L_DEVICE,   /* dev: /sys/devices/.../NAME */
	L_DRIVER,   /* bus, drv: /sys/bus/B/drivers/D */
	L_GROUP,    /* group: /sys/kernel/iommu_groups/N */
	L_BUS,      /* bus: /sys/bus/B */
	L_IOMMU,    /* iommu: /sys/devices/virtual/iommu/NAME */
	L_MODULE,   /* drv: /sys/module/NAME, the module it is in */
};

/*
 * A node of the tree: small, and made without formatting any path. The
 * objects it names are what the attribute methods use; the path is kept
 * by the walk (resolve()), not by each node.
 */
struct snode {
	enum snode_kind kind;
	struct machine *m;
	struct bus_type *bus;
	struct device *dev;
	struct device_driver *drv;
	struct iommu_group *group;
	struct iommu_device *iommu;
	const struct sattr *attr;   /* N_ATTR */
	enum link_kind link;        /* N_LINK */
	const struct dev_root *root; /* N_DEVROOT */
	bool chardev;               /* /dev/vfio/N: a device node */
};

/* ---- device paths ---- */

/* /sys/devices/ROOT/ANCESTOR.../NAME */
/*
 * Append @s at @off as snprintf(buf + off, len - off, "%s") would: cut
 * to the room left, and @off counts the whole of it.
 */
static void path_put(char *buf, size_t len, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (*off + 1 < len) {
		size_t room = len - 1 - *off;

		memcpy(buf + *off, s, n < room ? n : room);
		buf[*off + (n < room ? n : room)] = '\0';
	}
	*off += n;
}

/*
 * A device's directory under /sys/devices, without formatting: a sysfs
 * write through /sys/bus/B/devices/D names it, and the checker makes
 * thousands of those. The root is the one the top device keeps.
 */
static void device_path(const struct device *dev, char *buf, size_t len)
{
	const struct device *chain[64], *top = dev;
	const struct dev_root *r;
	int n = 0;
	size_t off = 0;
	char root[32];
	const char *root_name = root;

	for (const struct device *d = dev; d && n < 64; d = d->parent)
		chain[n++] = d;
	while (top->parent)
		top = top->parent;
	r = READ_ONCE(top->root);	/* device_add() may set it meanwhile */
	if (r)
		root_name = r->name;
	if (!r || SELF_CHECKING)
		device_sysfs_root(dev, root, sizeof(root));
	self_check(!strcmp(root, root_name));
	if (len)
		buf[0] = '\0';
	path_put(buf, len, &off, "/sys/devices/");
	path_put(buf, len, &off, root_name);
	while (n-- > 0 && off < len) {
		path_put(buf, len, &off, "/");
		path_put(buf, len, &off, chain[n]->name);
	}
}

/* ---- attribute methods ---- */

static int show_str(struct sbuf *sb, const char *s)
{
	sbuf_printf(sb, "%s\n", s);
	return 0;
}

static int dev_override_show(const struct snode *n, struct sbuf *sb)
{
	const char *o;
	int ret;

	/* a concurrent store frees the old string: print under its lock */
	mutex_lock(&n->m->obj_lock);
	o = driver_override_show(n->dev);
	ret = show_str(sb, o ? o : "(null)");
	mutex_unlock(&n->m->obj_lock);
	return ret;
}

static int dev_override_store(const struct snode *n, const char *buf)
{
	return driver_override_store(n->dev, buf);
}

static bool dev_is_pci(const struct snode *dir)
{
	return device_bus_kind(dir->dev) == BUS_PCI;
}

/* reset_method: a PCI function with a reset method when it was added */
static bool dev_has_reset_method(const struct snode *dir)
{
	return pci_reset_method_visible(dir->dev);
}

static int dev_reset_method_show(const struct snode *n, struct sbuf *sb)
{
	return reset_method_show(n->dev, sb);
}

static int dev_reset_method_store(const struct snode *n, const char *buf)
{
	return reset_method_store(n->dev, buf);
}

/* sriov_pf_attrs_are_visible() and sriov_vf_attrs_are_visible() */
static bool dev_is_sriov_pf(const struct snode *dir)
{
	return dev_is_pf(dir->dev);
}

static bool dev_is_sriov_vf(const struct snode *dir)
{
	return dev_is_vf(dir->dev);
}

#define SRIOV_SHOW(name)                                                \
	static int dev_##name##_show(const struct snode *n, struct sbuf *sb) \
	{                                                               \
		return name##_show(n->dev, sb);                         \
	}
#define SRIOV_STORE(name)                                               \
	static int dev_##name##_store(const struct snode *n, const char *buf) \
	{                                                               \
		return name##_store(n->dev, buf);                       \
	}

SRIOV_SHOW(sriov_totalvfs)
SRIOV_SHOW(sriov_numvfs)
SRIOV_STORE(sriov_numvfs)
SRIOV_SHOW(sriov_offset)
SRIOV_SHOW(sriov_stride)
SRIOV_SHOW(sriov_vf_device)
SRIOV_SHOW(sriov_drivers_autoprobe)
SRIOV_STORE(sriov_drivers_autoprobe)
SRIOV_SHOW(sriov_vf_total_msix)
SRIOV_STORE(sriov_vf_msix_count)

static bool dev_is_amba(const struct snode *dir)
{
	return device_bus_kind(dir->dev) == BUS_AMBA;
}

static bool dev_has_bus(const struct snode *dir)
{
	return dir->dev->bus != NULL;
}

#define PCI_ID_SHOW(field, fmt)                                              \
	static int dev_##field##_show(const struct snode *n, struct sbuf *sb) \
	{                                                                    \
		sbuf_printf(sb, fmt "\n", n->dev->ids.field);                \
		return 0;                                                    \
	}

PCI_ID_SHOW(vendor, "0x%04x")
PCI_ID_SHOW(device, "0x%04x")
PCI_ID_SHOW(subvendor, "0x%04x")
PCI_ID_SHOW(subdevice, "0x%04x")
PCI_ID_SHOW(class, "0x%06x")
PCI_ID_SHOW(periphid, "%08x")

/* kstrtoul(buf, 0): a number, optionally newline-ended */
static int parse_ulong(const char *buf, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!*buf || *buf == '-')
		return -EINVAL;
	v = strtoul(buf, &end, 0);
	if (end == buf || (*end && !(*end == '\n' && !end[1])))
		return -EINVAL;
	*ret = v;
	return 0;
}

static int dev_remove_store(const struct snode *n, const char *buf)
{
	unsigned long v;
	int ret = parse_ulong(buf, &v);

	KFRAME("remove_store");	/* drivers/pci/pci-sysfs.c */
	if (ret)
		return ret;
	/*
	 * pci_stop_and_remove_bus_device_locked(); of writers racing, only
	 * the first removes (device_remove_file_self() in the kernel)
	 */
	pci_lock_rescan_remove(n->m);
	if (v && n->dev->added)
		device_unregister(n->dev);
	pci_unlock_rescan_remove(n->m);
	return 0;
}

static int drv_bind_store(const struct snode *n, const char *buf)
{
	return bind_store(n->drv, buf);
}

static int drv_unbind_store(const struct snode *n, const char *buf)
{
	return unbind_store(n->drv, buf);
}

static int drv_new_id_store(const struct snode *n, const char *buf)
{
	return new_id_store(n->drv, buf);
}

static int drv_remove_id_store(const struct snode *n, const char *buf)
{
	return remove_id_store(n->drv, buf);
}

static bool drv_is_pci(const struct snode *dir)
{
	return dir->drv->bus->ops->kind == BUS_PCI;
}

static bool bus_is_pci(const struct snode *dir)
{
	return dir->bus->ops->kind == BUS_PCI;
}

static int bus_probe_store(const struct snode *n, const char *buf)
{
	return drivers_probe_store(n->bus, buf);
}

static int bus_autoprobe_show(const struct snode *n, struct sbuf *sb)
{
	sbuf_printf(sb, "%d\n", drivers_autoprobe_show(n->bus));
	return 0;
}

static int bus_autoprobe_store(const struct snode *n, const char *buf)
{
	return drivers_autoprobe_store(n->bus, buf);
}

static int bus_rescan_store(const struct snode *n, const char *buf)
{
	unsigned long v;
	int ret = parse_ulong(buf, &v);

	KFRAME("rescan_store");	/* drivers/pci/pci-sysfs.c */
	if (ret)
		return ret;
	if (v) {
		pci_lock_rescan_remove(n->m);
		pci_rescan_bus(n->m);
		pci_unlock_rescan_remove(n->m);
	}
	return 0;
}

static int group_type_show(const struct snode *n, struct sbuf *sb)
{
	struct iommu_domain *def;
	int ret;

	/* the last member leaving frees the domain: read it under the mutex */
	mutex_lock(&n->group->mutex);
	def = n->group->default_domain;
	ret = show_str(sb, def ? iommu_domain_type_str(iommu_domain_type(def)) :
				 "unknown");
	mutex_unlock(&n->group->mutex);
	return ret;
}

static int group_type_store(const struct snode *n, const char *buf)
{
	return iommu_group_store_type(n->group, buf);
}

/*
 * iommu_group_show_resv_regions() (v6.6): one line per region of the
 * group, "0x%016llx 0x%016llx %s": first and last address, type. An
 * allocation failure is not reported: the file shows what was gathered.
 */
static int group_resv_show(const struct snode *n, struct sbuf *sb)
{
	struct iommu_resv_region *r;
	size_t nr;

	if (iommu_get_group_resv_regions(n->group, &r, &nr))
		return 0;
	for (size_t i = 0; i < nr; i++)
		sbuf_printf(sb, "0x%016" PRIx64 " 0x%016" PRIx64 " %s\n",
			    r[i].start, r[i].start + r[i].length - 1,
			    iommu_resv_type_str(r[i].type));
	free(r);
	return 0;
}

/* "name": only groups given one (vfio's "vfio-noiommu") have the file */
static bool group_has_name(const struct snode *dir)
{
	return dir->group->name[0] != '\0';
}

static int group_name_show(const struct snode *n, struct sbuf *sb)
{
	int ret;

	mutex_lock(&n->group->mutex);
	ret = show_str(sb, n->group->name);
	mutex_unlock(&n->group->mutex);
	return ret;
}

/* ---- more of pci-sysfs.c: what lspci and assignment tools read ---- */

/* config: the configuration space, binary (pci_read_config()) */
static int dev_config_show(const struct snode *n, struct sbuf *sb)
{
	unsigned char buf[PCI_CFG_SPACE_EXP_SIZE];
	size_t len = pci_config_space(n->dev, buf);

	sbuf_putn(sb, (const char *)buf, len);
	return 0;
}

static int dev_revision_show(const struct snode *n, struct sbuf *sb)
{
	sbuf_printf(sb, "0x%02x\n", n->dev->ids.revision);
	return 0;
}

/* irq: the model routes no interrupts */
static int dev_irq_show(const struct snode *n, struct sbuf *sb)
{
	(void)n;
	sbuf_printf(sb, "0\n");
	return 0;
}

/*
 * resource (resource_show()): start, end and flags of each BAR and the
 * ROM, and a bridge's windows too; the model maps none, all zero.
 */
static int dev_resource_show(const struct snode *n, struct sbuf *sb)
{
	int lines = n->dev->ids.hdr_type == PCI_HEADER_TYPE_BRIDGE ? 11 : 7;

	for (int i = 0; i < lines; i++)
		sbuf_printf(sb, "0x%016x 0x%016x 0x%016x\n", 0, 0, 0);
	return 0;
}

static void pci_modalias(const struct device *dev, struct sbuf *sb)
{
	const struct dev_ids *ids = &dev->ids;

	sbuf_printf(sb, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
		    ids->vendor, ids->device, ids->subvendor, ids->subdevice,
		    (ids->class >> 16) & 0xff, (ids->class >> 8) & 0xff,
		    ids->class & 0xff);
}

static int dev_modalias_show(const struct snode *n, struct sbuf *sb)
{
	if (device_bus_kind(n->dev) == BUS_PCI)
		pci_modalias(n->dev, sb);
	else
		sbuf_printf(sb, "%s:%s", n->dev->bus->name, n->dev->name);
	sbuf_printf(sb, "\n");
	return 0;
}

/* uevent (dev_uevent(), pci_uevent()): what udev is told of the device */
static int dev_uevent_show(const struct snode *n, struct sbuf *sb)
{
	const struct device *dev = n->dev;
	struct device_driver *drv = READ_ONCE(dev->driver);

	if (drv && READ_ONCE(dev->bound))
		sbuf_printf(sb, "DRIVER=%s\n", drv->name);
	if (device_bus_kind(dev) == BUS_PCI) {
		const struct dev_ids *ids = &dev->ids;

		sbuf_printf(sb, "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=",
			    ids->class, ids->vendor, ids->device,
			    ids->subvendor, ids->subdevice, dev->name);
		pci_modalias(dev, sb);
		sbuf_printf(sb, "\n");
	} else {
		sbuf_printf(sb, "MODALIAS=%s:%s\n", dev->bus->name, dev->name);
	}
	return 0;
}

/*
 * A write asks for a synthetic event (kobject_synth_uevent()): the actions
 * udev knows are accepted, and change nothing the model keeps.
 */
static int dev_uevent_store(const struct snode *n, const char *buf)
{
	static const char *const actions[] = { "add", "remove", "change",
					       "move", "online", "offline",
					       "bind", "unbind" };
	size_t len = strcspn(buf, " \n");

	(void)n;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (len == strlen(actions[i]) && !strncmp(buf, actions[i], len))
			return 0;
	return -EINVAL;
}

/* numa_node: the model's machines have one node */
static int dev_numa_node_show(const struct snode *n, struct sbuf *sb)
{
	(void)n;
	sbuf_printf(sb, "-1\n");
	return 0;
}

/* enable: pci_enable_device() by the bound driver (pci-stub enables none) */
static int dev_enable_show(const struct snode *n, struct sbuf *sb)
{
	struct device_driver *drv = READ_ONCE(n->dev->driver);

	sbuf_printf(sb, "%d\n", drv && READ_ONCE(n->dev->bound) &&
				       drv->desc->probe != PROBE_STUB);
	return 0;
}

/* /sys/module/NAME: a loaded module is live, and nobody holds it here */
static int module_refcnt_show(const struct snode *n, struct sbuf *sb)
{
	(void)n;
	sbuf_printf(sb, "0\n");
	return 0;
}

static int module_initstate_show(const struct snode *n, struct sbuf *sb)
{
	(void)n;
	sbuf_printf(sb, "live\n");
	return 0;
}

static const struct sattr sattrs[] = {
	{ "driver_override", N_DEVICE, dev_has_bus, dev_override_show,
	  dev_override_store, 0 },
	{ "vendor", N_DEVICE, dev_is_pci, dev_vendor_show, NULL, 0 },
	{ "device", N_DEVICE, dev_is_pci, dev_device_show, NULL, 0 },
	{ "subsystem_vendor", N_DEVICE, dev_is_pci, dev_subvendor_show, NULL, 0 },
	{ "subsystem_device", N_DEVICE, dev_is_pci, dev_subdevice_show, NULL, 0 },
	{ "class", N_DEVICE, dev_is_pci, dev_class_show, NULL, 0 },
	{ "remove", N_DEVICE, dev_is_pci, NULL, dev_remove_store, 0220 },
	{ "config", N_DEVICE, dev_is_pci, dev_config_show, NULL, 0 },
	{ "revision", N_DEVICE, dev_is_pci, dev_revision_show, NULL, 0 },
	{ "irq", N_DEVICE, dev_is_pci, dev_irq_show, NULL, 0 },
	{ "resource", N_DEVICE, dev_is_pci, dev_resource_show, NULL, 0 },
	{ "modalias", N_DEVICE, dev_has_bus, dev_modalias_show, NULL, 0 },
	{ "uevent", N_DEVICE, dev_has_bus, dev_uevent_show, dev_uevent_store, 0 },
	{ "numa_node", N_DEVICE, dev_is_pci, dev_numa_node_show, NULL, 0 },
	{ "enable", N_DEVICE, dev_is_pci, dev_enable_show, NULL, 0 },
	{ "reset_method", N_DEVICE, dev_has_reset_method,
	  dev_reset_method_show, dev_reset_method_store, 0 },
	{ "sriov_totalvfs", N_DEVICE, dev_is_sriov_pf, dev_sriov_totalvfs_show,
	  NULL, 0 },
	{ "sriov_numvfs", N_DEVICE, dev_is_sriov_pf, dev_sriov_numvfs_show,
	  dev_sriov_numvfs_store, 0 },
	{ "sriov_offset", N_DEVICE, dev_is_sriov_pf, dev_sriov_offset_show,
	  NULL, 0 },
	{ "sriov_stride", N_DEVICE, dev_is_sriov_pf, dev_sriov_stride_show,
	  NULL, 0 },
	{ "sriov_vf_device", N_DEVICE, dev_is_sriov_pf,
	  dev_sriov_vf_device_show, NULL, 0 },
	{ "sriov_drivers_autoprobe", N_DEVICE, dev_is_sriov_pf,
	  dev_sriov_drivers_autoprobe_show, dev_sriov_drivers_autoprobe_store,
	  0 },
	{ "sriov_vf_total_msix", N_DEVICE, dev_is_sriov_pf,
	  dev_sriov_vf_total_msix_show, NULL, 0 },
	{ "sriov_vf_msix_count", N_DEVICE, dev_is_sriov_vf, NULL,
	  dev_sriov_vf_msix_count_store, 0 },
	{ "id", N_DEVICE, dev_is_amba, dev_periphid_show, NULL, 0 },
	{ "bind", N_DRIVER, NULL, NULL, drv_bind_store, 0 },
	{ "unbind", N_DRIVER, NULL, NULL, drv_unbind_store, 0 },
	{ "new_id", N_DRIVER, drv_is_pci, NULL, drv_new_id_store, 0 },
	{ "remove_id", N_DRIVER, drv_is_pci, NULL, drv_remove_id_store, 0 },
	{ "drivers_probe", N_BUS, NULL, NULL, bus_probe_store, 0 },
	{ "drivers_autoprobe", N_BUS, NULL, bus_autoprobe_show,
	  bus_autoprobe_store, 0 },
	{ "rescan", N_BUS, bus_is_pci, NULL, bus_rescan_store, 0 },
	{ "type", N_GROUP, NULL, group_type_show, group_type_store, 0 },
	{ "reserved_regions", N_GROUP, NULL, group_resv_show, NULL, 0 },
	{ "name", N_GROUP, group_has_name, group_name_show, NULL, 0 },
	{ "refcnt", N_MODULE, NULL, module_refcnt_show, NULL, 0 },
	{ "initstate", N_MODULE, NULL, module_initstate_show, NULL, 0 },
};

#define NR_SATTRS (sizeof(sattrs) / sizeof(sattrs[0]))

/* ---- directory children ---- */

/*
 * Enumerate the children of a directory node (listing): calls @fn with
 * each child's name and node; stops when @fn returns true. The name is
 * valid only during the call.
 */
typedef bool (*child_fn)(const char *name, struct snode *child, void *arg);

static void child_init(struct snode *c, const struct snode *dir,
		       enum snode_kind kind)
{
	*c = (struct snode){
		.kind = kind,
		.m = dir->m,
		.bus = dir->bus,
		.dev = dir->dev,
		.drv = dir->drv,
		.group = dir->group,
		.iommu = dir->iommu,
	};
}

static bool emit_attrs(const struct snode *dir, child_fn fn, void *arg)
{
	struct snode c;

	for (size_t i = 0; i < NR_SATTRS; i++) {
		const struct sattr *a = &sattrs[i];

		if (a->parent != dir->kind || (a->visible && !a->visible(dir)))
			continue;
		child_init(&c, dir, N_ATTR);
		c.attr = a;
		if (fn(a->name, &c, arg))
			return true;
	}
	return false;
}

static bool emit_dir(const struct snode *dir, enum snode_kind kind,
		     const char *name, child_fn fn, void *arg)
{
	struct snode c;

	child_init(&c, dir, kind);
	return fn(name, &c, arg);
}

static bool emit_device_link(const struct snode *dir, struct device *dev,
			     child_fn fn, void *arg)
{
	struct snode c;

	child_init(&c, dir, N_LINK);
	c.link = L_DEVICE;
	c.dev = dev;
	return fn(dev->name, &c, arg);
}

static bool same_root(const struct device *dev, const struct dev_root *root)
{
	char r[sizeof(root->name)];

	device_sysfs_root(dev, r, sizeof(r));
	return !strcmp(r, root->name);
}

/* A link named @name to @dev's directory. */
static bool emit_named_device_link(const struct snode *dir, struct device *dev,
				   const char *name, child_fn fn, void *arg)
{
	struct snode c;

	child_init(&c, dir, N_LINK);
	c.link = L_DEVICE;
	c.dev = dev;
	return fn(name, &c, arg);
}

/*
 * pci_iov_sysfs_link(): a VF's physfn link and its PF's virtfnN links,
 * while the VF is added (obj_lock held).
 */
static bool emit_sriov_links(const struct snode *dir, child_fn fn, void *arg)
{
	struct device *dev = dir->dev;
	char name[24];

	if (dev_is_vf(dev) && dev->sriov.physfn->added &&
	    emit_named_device_link(dir, dev->sriov.physfn, "physfn", fn, arg))
		return true;
	if (!dev_is_pf(dev))
		return false;
	for (unsigned int i = 0; i < dev->sriov.nr_links; i++) {
		struct device *vf = pci_iov_virtfn_locked(dev, i);

		if (!vf || !vf->added)
			continue;
		snprintf(name, sizeof(name), "virtfn%u", i);
		if (emit_named_device_link(dir, vf, name, fn, arg))
			return true;
	}
	return false;
}

/*
 * What a device directory holds besides its child devices: the driver,
 * iommu_group and subsystem links, and its attributes.
 */
static bool emit_device_own(const struct snode *dir, child_fn fn, void *arg)
{
	struct device_driver *drv = READ_ONCE(dir->dev->driver);
	/*
	 * a peek: the device joins and leaves its group under the group's
	 * mutex, and the group is freed only after its release unlinks it
	 * under obj_lock, which we hold
	 */
	struct iommu_group *group = READ_ONCE(dir->dev->iommu_group);
	struct snode c;

	if (drv && READ_ONCE(dir->dev->bound)) {
		child_init(&c, dir, N_LINK);
		c.link = L_DRIVER;
		c.bus = dir->dev->bus;
		c.drv = drv;
		if (fn("driver", &c, arg))
			return true;
	}
	if (group) {
		child_init(&c, dir, N_LINK);
		c.link = L_GROUP;
		c.group = group;
		if (fn("iommu_group", &c, arg))
			return true;
	}
	/* iommu_device_link(): the IOMMU that translates for it */
	if (group && dir->dev->fw.iommu && dir->dev->fw.iommu->registered) {
		child_init(&c, dir, N_LINK);
		c.link = L_IOMMU;
		c.iommu = dir->dev->fw.iommu;
		if (fn("iommu", &c, arg))
			return true;
	}
	if (dir->dev->bus) {
		child_init(&c, dir, N_LINK);
		c.link = L_BUS;
		c.bus = dir->dev->bus;
		if (fn("subsystem", &c, arg))
			return true;
	}
	if (emit_sriov_links(dir, fn, arg))
		return true;
	return emit_attrs(dir, fn, arg);
}

/*
 * The drivers whose module is @drv's, from @drv on: a module is listed by
 * the first driver it registers (the kernel's modules register one here).
 */
static bool module_first_driver(struct machine *m, struct device_driver *drv)
{
	char name[64], other[64];
	struct bus_type *bus;
	struct device_driver *d;

	if (!driver_module_name(drv->desc, name, sizeof(name)))
		return false;
	list_for_each_entry(bus, &m->buses, node)
		list_for_each_entry(d, &bus->drivers, node) {
			if (d == drv)
				return true;
			if (driver_module_name(d->desc, other, sizeof(other)) &&
			    !strcmp(name, other))
				return false;
		}
	return false;
}

/* A driver's directory besides its devices: the module link, attributes. */
static bool emit_driver_own(const struct snode *dir, child_fn fn, void *arg)
{
	char name[64];
	struct snode c;

	if (driver_module_name(dir->drv->desc, name, sizeof(name))) {
		child_init(&c, dir, N_LINK);
		c.link = L_MODULE;
		if (fn("module", &c, arg))
			return true;
	}
	return emit_attrs(dir, fn, arg);
}

static void vfio_node_name(const struct vfio_group *group, char *buf,
			   size_t len)
{
	if (group->noiommu)
		snprintf(buf, len, "noiommu-%d", group->id);
	else
		snprintf(buf, len, "%d", group->id);
}

static bool emit_children(const struct snode *dir, child_fn fn, void *arg)
{
	struct machine *m = dir->m;
	struct device *dev;
	struct snode c;
	char buf[32];

	switch (dir->kind) {
	case N_ROOT:
		return emit_dir(dir, N_DEV, "dev", fn, arg) ||
		       emit_dir(dir, N_SYS, "sys", fn, arg);
	case N_SYS:
		return emit_dir(dir, N_BUS_ROOT, "bus", fn, arg) ||
		       emit_dir(dir, N_CLASS, "class", fn, arg) ||
		       emit_dir(dir, N_DEVICES, "devices", fn, arg) ||
		       emit_dir(dir, N_KERNEL, "kernel", fn, arg) ||
		       emit_dir(dir, N_MODULES, "module", fn, arg);
	case N_MODULES: {
		struct bus_type *bus;
		struct device_driver *drv;

		list_for_each_entry(bus, &m->buses, node)
			list_for_each_entry(drv, &bus->drivers, node) {
				if (!module_first_driver(m, drv))
					continue;
				driver_module_name(drv->desc, buf, sizeof(buf));
				child_init(&c, dir, N_MODULE);
				c.drv = drv;
				c.bus = bus;
				if (fn(buf, &c, arg))
					return true;
			}
		return false;
	}
	case N_MODULE:
		return emit_dir(dir, N_MODULE_DRIVERS, "drivers", fn, arg) ||
		       emit_attrs(dir, fn, arg);
	case N_MODULE_DRIVERS: {
		struct bus_type *bus;
		struct device_driver *drv;
		char mine[64], other[64];

		driver_module_name(dir->drv->desc, mine, sizeof(mine));
		list_for_each_entry(bus, &m->buses, node)
			list_for_each_entry(drv, &bus->drivers, node) {
				if (!driver_module_name(drv->desc, other,
							sizeof(other)) ||
				    strcmp(mine, other))
					continue;
				snprintf(buf, sizeof(buf), "%s:%s", bus->name,
					 drv->name);
				child_init(&c, dir, N_LINK);
				c.link = L_DRIVER;
				c.bus = bus;
				c.drv = drv;
				if (fn(buf, &c, arg))
					return true;
			}
		return false;
	}
	case N_BUS_ROOT: {
		struct bus_type *bus;

		list_for_each_entry(bus, &m->buses, node) {
			child_init(&c, dir, N_BUS);
			c.bus = bus;
			if (fn(bus->name, &c, arg))
				return true;
		}
		return false;
	}
	case N_BUS:
		return emit_dir(dir, N_BUS_DEVICES, "devices", fn, arg) ||
		       emit_dir(dir, N_BUS_DRIVERS, "drivers", fn, arg) ||
		       emit_attrs(dir, fn, arg);
	case N_BUS_DEVICES:
		list_for_each_entry(dev, &dir->bus->devices, bus_node)
			if (emit_device_link(dir, dev, fn, arg))
				return true;
		return false;
	case N_BUS_DRIVERS: {
		struct device_driver *drv;

		list_for_each_entry(drv, &dir->bus->drivers, node) {
			child_init(&c, dir, N_DRIVER);
			c.drv = drv;
			if (fn(drv->name, &c, arg))
				return true;
		}
		return false;
	}
	case N_DRIVER:
		/* bound devices: driver_bound() links them under obj_lock */
		list_for_each_entry(dev, &dir->drv->devices, drv_node)
			if (dev->added && emit_device_link(dir, dev, fn, arg))
				return true;
		return emit_driver_own(dir, fn, arg);
	case N_DEVICES: {
		struct dev_root *r;

		if (emit_dir(dir, N_VIRTUAL, "virtual", fn, arg))
			return true;
		list_for_each_entry(r, &m->dev_roots, node) {
			if (!r->count || !strcmp(r->name, "virtual"))
				continue;
			child_init(&c, dir, N_DEVROOT);
			c.root = r;
			if (fn(r->name, &c, arg))
				return true;
		}
		return false;
	}
	case N_DEVROOT:
		list_for_each_entry(dev, &dir->root->devices, sibling) {
			child_init(&c, dir, N_DEVICE);
			c.dev = dev;
			if (fn(dev->name, &c, arg))
				return true;
		}
		return false;
	case N_DEVICE:
		list_for_each_entry(dev, &dir->dev->children, sibling) {
			child_init(&c, dir, N_DEVICE);
			c.dev = dev;
			if (fn(dev->name, &c, arg))
				return true;
		}
		return emit_device_own(dir, fn, arg);
	case N_KERNEL:
		/* iommu.c makes the directory: only with CONFIG_IOMMU_API */
		if (!m->cfg.iommu_api)
			return false;
		return emit_dir(dir, N_GROUPS, "iommu_groups", fn, arg);
	case N_GROUPS: {
		struct iommu_group *group;

		list_for_each_entry(group, &m->groups, node) {
			snprintf(buf, sizeof(buf), "%d", group->id);
			child_init(&c, dir, N_GROUP);
			c.group = group;
			if (fn(buf, &c, arg))
				return true;
		}
		return false;
	}
	case N_GROUP:
		return emit_dir(dir, N_GROUP_DEVICES, "devices", fn, arg) ||
		       emit_attrs(dir, fn, arg);
	case N_GROUP_DEVICES: {
		struct group_device *gdev;

		for_each_group_device(dir->group, gdev)
			if (emit_device_link(dir, gdev->dev, fn, arg))
				return true;
		return false;
	}
	case N_CLASS:
		if (!m->cfg.iommu_api)	/* iommu-sysfs.c: IOMMU_API too */
			return false;
		return emit_dir(dir, N_CLASS_IOMMU, "iommu", fn, arg);
	case N_CLASS_IOMMU:
	case N_VIRTUAL_IOMMU: {
		struct iommu_device *iommu;

		list_for_each_entry(iommu, &m->iommus, node) {
			if (!iommu->registered)
				continue;
			child_init(&c, dir,
				   dir->kind == N_CLASS_IOMMU ? N_LINK : N_IOMMU);
			c.link = L_IOMMU;
			c.iommu = iommu;
			if (fn(iommu->name, &c, arg))
				return true;
		}
		return false;
	}
	case N_VIRTUAL:
		if (!m->cfg.iommu_api)
			return false;
		return emit_dir(dir, N_VIRTUAL_IOMMU, "iommu", fn, arg);
	case N_IOMMU:
		return false;
	case N_DEV:
		/* VFIO selects IOMMU_API: without it there is no VFIO */
		if (!m->cfg.iommu_api)
			return false;
		return emit_dir(dir, N_DEV_VFIO, "vfio", fn, arg);
	case N_DEV_VFIO: {
		struct vfio_group *group;

		child_init(&c, dir, N_ATTR);
		c.chardev = true;
		if (fn("vfio", &c, arg))
			return true;
		list_for_each_entry(group, &m->vfio_groups, node) {
			if (list_empty(&group->device_list))
				continue;
			vfio_node_name(group, buf, sizeof(buf));
			child_init(&c, dir, N_ATTR);
			c.chardev = true;
			if (fn(buf, &c, arg))
				return true;
		}
		return false;
	}
	default:
		return false;
	}
}

/* ---- resolution ---- */

struct find_arg {
	const char *name;
	size_t len;
	struct snode *out;
};

static bool find_child_cb(const char *name, struct snode *child, void *arg)
{
	struct find_arg *fa = arg;

	if (strncmp(name, fa->name, fa->len) || name[fa->len])
		return false;
	*fa->out = *child;
	return true;
}

/* @dev by name, when it is an added device: the name index (obj_lock). */
static struct device *added_device(struct machine *m, const char *name,
				   size_t len)
{
	struct device *dev = strmap_get_len(&m->devices_by_name, name, len);

	return dev && dev->added ? dev : NULL;
}

/*
 * The child @name (@len bytes) of @dir into @out: the directories that
 * grow with the machine (devices, roots, groups) answer from an index;
 * the small fixed ones are searched. Returns true when found.
 */
static bool lookup_child(const struct snode *dir, const char *name,
			 size_t len, struct snode *out)
{
	struct find_arg fa = { name, len, out };
	struct machine *m = dir->m;
	struct device *dev;

	switch (dir->kind) {
	case N_BUS_DEVICES:
		dev = added_device(m, name, len);
		if (!dev || dev->bus != dir->bus)
			return false;
		child_init(out, dir, N_LINK);
		out->link = L_DEVICE;
		out->dev = dev;
		return true;
	case N_DRIVER:
		dev = added_device(m, name, len);
		if (dev && READ_ONCE(dev->driver) == dir->drv &&
		    READ_ONCE(dev->bound)) {
			child_init(out, dir, N_LINK);
			out->link = L_DEVICE;
			out->dev = dev;
			return true;
		}
		/* the module link is looked for only by its own name */
		if (len == 6 && !memcmp(name, "module", 6))
			return emit_driver_own(dir, find_child_cb, &fa);
		return emit_attrs(dir, find_child_cb, &fa);
	case N_DEVICES: {
		struct dev_root *r = device_root_find(m, name, len);

		if (r && r->count && strcmp(r->name, "virtual")) {
			child_init(out, dir, N_DEVROOT);
			out->root = r;
			return true;
		}
		return emit_dir(dir, N_VIRTUAL, "virtual", find_child_cb, &fa);
	}
	case N_DEVROOT:
		dev = added_device(m, name, len);
		if (!dev || dev->parent || !same_root(dev, dir->root))
			return false;
		child_init(out, dir, N_DEVICE);
		out->dev = dev;
		return true;
	case N_DEVICE:
		dev = added_device(m, name, len);
		if (dev && dev->parent == dir->dev) {
			child_init(out, dir, N_DEVICE);
			out->dev = dev;
			return true;
		}
		return emit_device_own(dir, find_child_cb, &fa);
	case N_GROUPS: {
		char num[16];
		char *end;
		long id;

		if (!len || len >= sizeof(num) || (name[0] == '0' && len > 1))
			return false;
		memcpy(num, name, len);
		num[len] = '\0';
		id = strtol(num, &end, 10);
		if (*end || id < 0 || id > INT32_MAX)
			return false;
		child_init(out, dir, N_GROUP);
		out->group = iommu_group_by_id_locked(m, (int)id);
		return out->group != NULL;
	}
	case N_GROUP_DEVICES:
		dev = added_device(m, name, len);
		if (!dev || READ_ONCE(dev->iommu_group) != dir->group)
			return false;
		child_init(out, dir, N_LINK);
		out->link = L_DEVICE;
		out->dev = dev;
		return true;
	default:
		return emit_children(dir, find_child_cb, &fa);
	}
}

static bool is_dir(const struct snode *n)
{
	return n->kind != N_ATTR && n->kind != N_LINK;
}

/* A link's absolute target, made from the objects it names. */
static void link_target(const struct snode *n, char *buf, size_t len)
{
	switch (n->link) {
	case L_DEVICE:
		device_path(n->dev, buf, len);
		break;
	case L_DRIVER:
		snprintf(buf, len, "/sys/bus/%s/drivers/%s", n->bus->name,
			 n->drv->name);
		break;
	case L_GROUP:
		snprintf(buf, len, "/sys/kernel/iommu_groups/%d", n->group->id);
		break;
	case L_BUS:
		snprintf(buf, len, "/sys/bus/%s", n->bus->name);
		break;
	case L_IOMMU:
		snprintf(buf, len, "/sys/devices/virtual/iommu/%s",
			 n->iommu->name);
		break;
	case L_MODULE: {
		char name[64];

		driver_module_name(n->drv->desc, name, sizeof(name));
		snprintf(buf, len, "/sys/module/%s", name);
		break;
	}
	}
}

/*
 * The directory a link leads to, straight from the object it names (the
 * same node its target path resolves to, without walking that path).
 */
static void link_follow(const struct snode *n, struct snode *out)
{
	*out = (struct snode){ .m = n->m };
	switch (n->link) {
	case L_DEVICE:
		out->kind = N_DEVICE;
		out->dev = n->dev;
		break;
	case L_DRIVER:
		out->kind = N_DRIVER;
		out->bus = n->bus;
		out->drv = n->drv;
		break;
	case L_GROUP:
		out->kind = N_GROUP;
		out->group = n->group;
		break;
	case L_BUS:
		out->kind = N_BUS;
		out->bus = n->bus;
		break;
	case L_IOMMU:
		out->kind = N_IOMMU;
		out->iommu = n->iommu;
		break;
	case L_MODULE:
		out->kind = N_MODULE;
		out->bus = n->bus;
		out->drv = n->drv;
		break;
	}
}

/* The path walked so far, canonical: links replaced by their targets. */
struct walk_path {
	char buf[SYSFS_PATH_MAX];
	size_t len;
};

static bool walk_append(struct walk_path *w, const char *name, size_t len)
{
	if (w->len + 1 + len >= sizeof(w->buf))
		return false;
	w->buf[w->len++] = '/';
	memcpy(w->buf + w->len, name, len);
	w->len += len;
	w->buf[w->len] = '\0';
	return true;
}

/*
 * Resolve @path to a node. Links in the middle are always followed; a
 * final link only with @follow. With @ret_path, the node's canonical path
 * (for a final link not followed: the link's own path). Returns 0 or
 * -ENOENT/-ENOTDIR/-ELOOP.
 */
static int resolve(struct machine *m, const char *path, bool follow,
		   struct snode *out, struct walk_path *ret_path)
{
	char work[SYSFS_PATH_MAX * 2];
	struct walk_path w;
	const char *p;
	int hops = 0;

	if (path[0] != '/' || strlen(path) >= SYSFS_PATH_MAX)
		return -ENOENT;
	p = path;
restart:
	{
		struct snode cur = { .kind = N_ROOT, .m = m };

		w.len = 0;
		w.buf[0] = '\0';
		while (*p) {
			const char *comp, *rest;
			struct snode next;
			size_t len;
			bool trailing;

			while (*p == '/')
				p++;
			if (!*p)
				break;
			comp = p;
			len = strcspn(comp, "/");
			rest = comp + len;
			p = rest;
			if (len == 1 && comp[0] == '.')
				continue;
			if (len == 2 && comp[0] == '.' && comp[1] == '.') {
				/* the canonical parent, then what is left */
				char *slash = strrchr(w.buf, '/');

				if (slash)
					*slash = '\0';
				if (++hops > SYSFS_LINK_HOPS)
					return -ELOOP;
				snprintf(work, sizeof(work), "%s/%s",
					 w.buf[0] ? w.buf : "", rest);
				p = work;
				goto restart;
			}
			if (!is_dir(&cur))
				return -ENOTDIR;
			if (!lookup_child(&cur, comp, len, &next))
				return -ENOENT;
			/* "LINK/" names the directory behind the link */
			trailing = *rest == '/';
			while (*rest == '/')
				rest++;
			if (next.kind == N_LINK && (follow || *rest || trailing)) {
				if (++hops > SYSFS_LINK_HOPS)
					return -ELOOP;
				link_target(&next, w.buf, sizeof(w.buf));
				w.len = strlen(w.buf);
				link_follow(&next, &cur);
				continue;
			}
			if (!walk_append(&w, comp, len))
				return -ENOENT;
			cur = next;
		}
		*out = cur;
		if (ret_path)
			*ret_path = w;
		return 0;
	}
}

/*
 * Resolve with the object lists held still (vfio_lock for /dev/vfio, then
 * obj_lock, the lock order's way round), and take references on what the
 * node names, so a concurrent removal or module unload cannot free it
 * under a show or store. Undo with snode_put().
 */
static int resolve_get(struct machine *m, const char *path, bool follow,
		       struct snode *out, struct walk_path *ret_path)
{
	int ret;

	mutex_lock(&m->vfio_lock);
	mutex_lock(&m->obj_lock);
	ret = resolve(m, path, follow, out, ret_path);
	/*
	 * A group's last reference may be gone while its release waits for
	 * obj_lock to unlink it: such a group is as good as removed.
	 */
	if (!ret && out->group && !kref_get_unless_zero(&out->group->kref))
		ret = -ENOENT;
	if (!ret) {
		if (out->dev)
			get_device(out->dev);
		if (out->drv)
			driver_get(out->drv);
	}
	mutex_unlock(&m->obj_lock);
	mutex_unlock(&m->vfio_lock);
	return ret;
}

static void snode_put(struct snode *n)
{
	put_device(n->dev);
	driver_put(n->drv);
	iommu_group_put(n->group);
}

/* ---- public calls ---- */

enum sysfs_type sysfs_stat(struct machine *m, const char *path)
{
	struct snode n;
	enum sysfs_type type;

	if (resolve_get(m, path, false, &n, NULL))
		return SYSFS_NONE;
	if (n.kind == N_LINK)
		type = SYSFS_LINK;
	else
		type = n.kind == N_ATTR ? SYSFS_FILE : SYSFS_DIR;
	snode_put(&n);
	return type;
}

/* The permission bits of an attribute, as its attribute group has them. */
static unsigned int sattr_mode(const struct sattr *a)
{
	if (a->mode)
		return a->mode;
	return (a->show ? 0444u : 0u) | (a->store ? 0200u : 0u);
}

/* major 10 is the misc devices'; the groups' major is dynamic (here 243) */
#define VFIO_MISC_MINOR 196
#define VFIO_GROUP_MAJOR 243

int sysfs_getattr(struct machine *m, const char *path,
		  struct sysfs_attr_stat *st)
{
	struct snode n;
	int ret = resolve_get(m, path, false, &n, NULL);

	if (ret)
		return ret;
	memset(st, 0, sizeof(*st));
	if (n.kind == N_LINK) {
		st->type = SYSFS_LINK;
		st->mode = 0777;
	} else if (is_dir(&n)) {
		st->type = SYSFS_DIR;
		st->mode = 0755;
	} else if (n.chardev) {
		const char *name = strrchr(path, '/');

		st->type = SYSFS_FILE;
		st->chardev = 1;
		if (name && !strcmp(name, "/vfio")) {
			st->mode = 0666;
			st->rdev_major = 10;
			st->rdev_minor = VFIO_MISC_MINOR;
		} else {
			st->mode = 0600;
			st->rdev_major = VFIO_GROUP_MAJOR;
			st->rdev_minor = name ? (unsigned int)atoi(name + 1) : 0;
		}
	} else {
		st->type = SYSFS_FILE;
		st->mode = sattr_mode(n.attr);
		st->size = PAGE_SIZE_SYSFS;
		if (n.attr->show == dev_config_show)
			st->size = n.dev->ids.pcie_type != PCI_EXP_TYPE_NONE ?
					   PCI_CFG_SPACE_EXP_SIZE :
					   PCI_CFG_SPACE_SIZE;
	}
	snode_put(&n);
	return 0;
}

int sysfs_read_bin(struct machine *m, const char *path, char **ret_buf,
		   size_t *ret_len)
{
	struct sbuf sb = { 0 };
	struct snode n;
	size_t len;
	int ret = resolve_get(m, path, true, &n, NULL);

	if (ret)
		return ret;
	if (is_dir(&n))
		ret = -EISDIR;
	else if (n.chardev)
		ret = -EINVAL; /* a read() on a vfio node is not a file read */
	else if (!n.attr->show)
		ret = -EACCES;
	else
		ret = n.attr->show(&n, &sb);
	snode_put(&n);
	len = sb.len;
	sbuf_printf(&sb, "%s", "");
	if (!ret && sb.oom)
		ret = -ENOMEM;
	if (ret) {
		free(sb.buf);
		return ret;
	}
	*ret_buf = sb.buf;
	*ret_len = len;
	return 0;
}

int sysfs_read(struct machine *m, const char *path, char **ret_buf)
{
	size_t len;

	return sysfs_read_bin(m, path, ret_buf, &len);
}

/*
 * The kobject's sysfs_ops store that calls an attribute's store: its name
 * in a call trace.
 */
static const char *kobj_store_op(enum snode_kind parent)
{
	switch (parent) {
	case N_DRIVER:
		return "drv_attr_store";
	case N_BUS:
		return "bus_attr_store";
	case N_GROUP:
		return "iommu_group_attr_store";
	default:
		return "dev_attr_store";
	}
}

int sysfs_write(struct machine *m, const char *path, const char *buf,
		size_t len)
{
	char page[SYSFS_WRITE_MAX + 1];
	struct snode n;
	int ret = resolve_get(m, path, true, &n, NULL);

	if (ret)
		return ret;
	if (is_dir(&n)) {
		ret = -EISDIR;
	} else if (n.chardev || !n.attr->store) {
		ret = -EACCES;
	} else if (len > SYSFS_WRITE_MAX) {
		/* kernfs_fop_write_iter(): sysfs writes are atomic, a page */
		ret = -E2BIG;
	} else {
		/* the frames a WARN's call trace shows below the store */
		KENTRY_SYSFS_WRITE(m, kobj_store_op(n.attr->parent));

		/*
		 * NUL-terminated after what was written: a store reads a C
		 * string, so a NUL inside ends it (python's "\0" to clear
		 * driver_override is the empty string, driver_set_override())
		 */
		memcpy(page, buf, len);
		page[len] = '\0';
		ret = n.attr->store(&n, page);
	}
	snode_put(&n);
	return ret;
}

/* The relative path from directory @from to @to, as sysfs links read. */
static void relative_path(const char *from, const char *to, char *out,
			  size_t len)
{
	size_t common = 0, i, off = 0;
	int ups = 0;

	/* longest common directory prefix */
	for (i = 0; from[i] && to[i] && from[i] == to[i]; i++)
		if (from[i] == '/')
			common = i;
	if (!from[i] && to[i] == '/')
		common = i;
	for (i = common; from[i]; i++)
		if (from[i] == '/')
			ups++;
	out[0] = '\0';
	for (int k = 0; k < ups && off < len; k++)
		off += (size_t)snprintf(out + off, len - off, "../");
	snprintf(out + off, len - off, "%s", to + common + 1);
}

int sysfs_readlink(struct machine *m, const char *path, char **ret_target)
{
	char rel[SYSFS_PATH_MAX], target[SYSFS_PATH_MAX];
	struct walk_path w;
	struct snode n;
	char *slash;
	int ret = resolve_get(m, path, false, &n, &w);

	if (ret)
		return ret;
	if (n.kind == N_LINK)
		link_target(&n, target, sizeof(target));
	snode_put(&n); /* only the path strings are used below */
	if (n.kind != N_LINK)
		return -EINVAL;
	slash = strrchr(w.buf, '/');
	*slash = '\0';
	relative_path(w.buf, target, rel, sizeof(rel));
	*ret_target = strdup(rel);
	return *ret_target ? 0 : -ENOMEM;
}

int sysfs_realpath(struct machine *m, const char *path, char **ret_path)
{
	struct walk_path w;
	struct snode n;
	int ret = resolve_get(m, path, true, &n, &w);

	if (ret)
		return ret;
	snode_put(&n);
	*ret_path = strdup(w.len ? w.buf : "/");
	return *ret_path ? 0 : -ENOMEM;
}

struct list_arg {
	char **names;
	size_t n, cap;
	bool oom;
};

static bool list_cb(const char *base, struct snode *child, void *arg)
{
	struct list_arg *la = arg;

	(void)child;
	if (la->n == la->cap) {
		size_t ncap = la->cap ? la->cap * 2 : 16;
		char **nn = realloc(la->names, ncap * sizeof(*nn));

		if (!nn) {
			la->oom = true;
			return true;
		}
		la->names = nn;
		la->cap = ncap;
	}
	la->names[la->n] = strdup(base);
	if (!la->names[la->n]) {
		la->oom = true;
		return true;
	}
	la->n++;
	return false;
}

/* ls sorts names in the C locale */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sysfs_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int sysfs_list(struct machine *m, const char *path, char ***ret_names,
	       size_t *ret_n)
{
	struct list_arg la = { 0 };
	struct snode n;
	int ret;

	mutex_lock(&m->vfio_lock);
	mutex_lock(&m->obj_lock);
	ret = resolve(m, path, true, &n, NULL);
	if (!ret && !is_dir(&n))
		ret = -ENOTDIR;
	if (!ret)
		emit_children(&n, list_cb, &la);
	mutex_unlock(&m->obj_lock);
	mutex_unlock(&m->vfio_lock);
	if (ret)
		return ret;
	if (la.oom) {
		sysfs_list_free(la.names, la.n);
		return -ENOMEM;
	}
	if (la.n) /* qsort() wants a non-NULL array even for none */
		qsort(la.names, la.n, sizeof(*la.names), cmp_names);
	*ret_names = la.names;
	*ret_n = la.n;
	return 0;
}
