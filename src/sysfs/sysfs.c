// SPDX-License-Identifier: MIT
/*
 * The sysfs tree (and /dev/vfio): path resolution over the model's
 * objects, attributes as {name, show, store} table rows, kernel-style
 * relative symlinks. Counterpart of the sysfs attributes spread over
 * drivers/base/bus.c, drivers/pci/pci-sysfs.c, drivers/iommu/iommu.c.
 */
#include <stdio.h>
#include <string.h>

#include "dmaown/sysfs.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

#define SYSFS_LINK_HOPS 40

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
};

struct snode {
	enum snode_kind kind;
	struct machine *m;
	struct bus_type *bus;
	struct device *dev;
	struct device_driver *drv;
	struct iommu_group *group;
	struct iommu_device *iommu;
	char root[32];              /* N_DEVROOT name */
	const struct sattr *attr;   /* N_ATTR */
	char path[SYSFS_PATH_MAX];  /* canonical absolute path */
	char target[SYSFS_PATH_MAX]; /* N_LINK: absolute target */
	bool chardev;               /* /dev/vfio/N: a device node */
};

/* ---- device paths ---- */

static void device_root(const struct device *dev, char *buf, size_t len)
{
	const struct device *top = dev;

	while (top->parent)
		top = top->parent;
	switch (device_bus_kind(top)) {
	case BUS_PCI: {
		unsigned int seg = 0, bus = 0;

		sscanf(top->name, "%x:%x", &seg, &bus);
		snprintf(buf, len, "pci%04x:%02x", seg, bus);
		break;
	}
	case BUS_PLATFORM:
	case BUS_AMBA:
		snprintf(buf, len, "platform");
		break;
	case BUS_FSL_MC:
		snprintf(buf, len, "fsl-mc");
		break;
	default:
		snprintf(buf, len, "virtual");
		break;
	}
}

/* /sys/devices/ROOT/ANCESTOR.../NAME */
static void device_path(const struct device *dev, char *buf, size_t len)
{
	const struct device *chain[64];
	int n = 0;
	size_t off;
	char root[32];

	for (const struct device *d = dev; d && n < 64; d = d->parent)
		chain[n++] = d;
	device_root(dev, root, sizeof(root));
	off = (size_t)snprintf(buf, len, "/sys/devices/%s", root);
	while (n-- > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "/%s",
					chain[n]->name);
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

static int group_resv_show(const struct snode *n, struct sbuf *sb)
{
	struct group_device *gdev;
	bool direct = false;

	mutex_lock(&n->group->mutex);
	for_each_group_device(n->group, gdev)
		direct |= gdev->dev->fw.require_direct;
	mutex_unlock(&n->group->mutex);
	/* the firmware range itself is not modelled: a fixed stand-in */
	if (direct)
		sbuf_printf(sb, "0x000000003e000000 0x000000003e1fffff direct\n");
	return 0;
}

static const struct sattr sattrs[] = {
	{ "driver_override", N_DEVICE, dev_has_bus, dev_override_show,
	  dev_override_store },
	{ "vendor", N_DEVICE, dev_is_pci, dev_vendor_show, NULL },
	{ "device", N_DEVICE, dev_is_pci, dev_device_show, NULL },
	{ "subsystem_vendor", N_DEVICE, dev_is_pci, dev_subvendor_show, NULL },
	{ "subsystem_device", N_DEVICE, dev_is_pci, dev_subdevice_show, NULL },
	{ "class", N_DEVICE, dev_is_pci, dev_class_show, NULL },
	{ "remove", N_DEVICE, dev_is_pci, NULL, dev_remove_store },
	{ "id", N_DEVICE, dev_is_amba, dev_periphid_show, NULL },
	{ "bind", N_DRIVER, NULL, NULL, drv_bind_store },
	{ "unbind", N_DRIVER, NULL, NULL, drv_unbind_store },
	{ "new_id", N_DRIVER, drv_is_pci, NULL, drv_new_id_store },
	{ "remove_id", N_DRIVER, drv_is_pci, NULL, drv_remove_id_store },
	{ "drivers_probe", N_BUS, NULL, NULL, bus_probe_store },
	{ "drivers_autoprobe", N_BUS, NULL, bus_autoprobe_show,
	  bus_autoprobe_store },
	{ "rescan", N_BUS, bus_is_pci, NULL, bus_rescan_store },
	{ "type", N_GROUP, NULL, group_type_show, group_type_store },
	{ "reserved_regions", N_GROUP, NULL, group_resv_show, NULL },
};

#define NR_SATTRS (sizeof(sattrs) / sizeof(sattrs[0]))

/* ---- directory children ---- */

/*
 * Enumerate the children of a directory node: calls @fn for each, with a
 * filled child node; stops when @fn returns true (found).
 */
typedef bool (*child_fn)(struct snode *child, void *arg);

static void child_init(struct snode *c, const struct snode *dir,
		       enum snode_kind kind, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->m = dir->m;
	c->bus = dir->bus;
	c->dev = dir->dev;
	c->drv = dir->drv;
	c->group = dir->group;
	c->iommu = dir->iommu;
	if (!strcmp(dir->path, "/"))
		snprintf(c->path, sizeof(c->path), "/%s", name);
	else
		snprintf(c->path, sizeof(c->path), "%s/%s", dir->path, name);
}

static bool emit_attrs(const struct snode *dir, child_fn fn, void *arg)
{
	struct snode c;

	for (size_t i = 0; i < NR_SATTRS; i++) {
		const struct sattr *a = &sattrs[i];

		if (a->parent != dir->kind || (a->visible && !a->visible(dir)))
			continue;
		child_init(&c, dir, N_ATTR, a->name);
		c.attr = a;
		if (fn(&c, arg))
			return true;
	}
	return false;
}

static bool emit_dir(const struct snode *dir, enum snode_kind kind,
		     const char *name, child_fn fn, void *arg)
{
	struct snode c;

	child_init(&c, dir, kind, name);
	return fn(&c, arg);
}

static bool emit_link(const struct snode *dir, const char *name,
		      const char *target, child_fn fn, void *arg)
{
	struct snode c;

	child_init(&c, dir, N_LINK, name);
	snprintf(c.target, sizeof(c.target), "%s", target);
	return fn(&c, arg);
}

static bool emit_device_link(const struct snode *dir, struct device *dev,
			     child_fn fn, void *arg)
{
	char target[SYSFS_PATH_MAX];

	device_path(dev, target, sizeof(target));
	return emit_link(dir, dev->name, target, fn, arg);
}

static bool same_root(const struct device *dev, const char *root)
{
	char r[32];

	device_root(dev, r, sizeof(r));
	return !strcmp(r, root);
}

static bool emit_children(const struct snode *dir, child_fn fn, void *arg)
{
	struct machine *m = dir->m;
	struct device_driver *dev_drv;
	struct iommu_group *dev_group;
	struct device *dev;
	struct snode c;
	char buf[SYSFS_PATH_MAX];

	switch (dir->kind) {
	case N_ROOT:
		return emit_dir(dir, N_DEV, "dev", fn, arg) ||
		       emit_dir(dir, N_SYS, "sys", fn, arg);
	case N_SYS:
		return emit_dir(dir, N_BUS_ROOT, "bus", fn, arg) ||
		       emit_dir(dir, N_CLASS, "class", fn, arg) ||
		       emit_dir(dir, N_DEVICES, "devices", fn, arg) ||
		       emit_dir(dir, N_KERNEL, "kernel", fn, arg);
	case N_BUS_ROOT: {
		struct bus_type *bus;

		list_for_each_entry(bus, &m->buses, node) {
			child_init(&c, dir, N_BUS, bus->name);
			c.bus = bus;
			if (fn(&c, arg))
				return true;
		}
		return false;
	}
	case N_BUS:
		return emit_dir(dir, N_BUS_DEVICES, "devices", fn, arg) ||
		       emit_dir(dir, N_BUS_DRIVERS, "drivers", fn, arg) ||
		       emit_attrs(dir, fn, arg);
	case N_BUS_DEVICES:
		list_for_each_entry(dev, &m->devices, node)
			if (dev->added && dev->bus == dir->bus &&
			    emit_device_link(dir, dev, fn, arg))
				return true;
		return false;
	case N_BUS_DRIVERS: {
		struct device_driver *drv;

		list_for_each_entry(drv, &dir->bus->drivers, node) {
			child_init(&c, dir, N_DRIVER, drv->name);
			c.drv = drv;
			if (fn(&c, arg))
				return true;
		}
		return false;
	}
	case N_DRIVER:
		list_for_each_entry(dev, &m->devices, node)
			/* bind and unbind change these under device_lock */
			if (dev->added && READ_ONCE(dev->driver) == dir->drv &&
			    READ_ONCE(dev->bound) &&
			    emit_device_link(dir, dev, fn, arg))
				return true;
		return emit_attrs(dir, fn, arg);
	case N_DEVICES: {
		/*
		 * One directory per root of a top-level device. Devices of one
		 * root usually come one after the other: a root is emitted
		 * again only after another one. A lookup stops at the first
		 * match, and sysfs_list() drops the repeats when it sorts, so
		 * no table of the roots seen is needed, whatever their number.
		 */
		char prev[sizeof(c.root)] = "";

		if (emit_dir(dir, N_VIRTUAL, "virtual", fn, arg))
			return true;
		list_for_each_entry(dev, &m->devices, node) {
			char r[sizeof(c.root)];

			if (!dev->added || dev->parent)
				continue;
			device_root(dev, r, sizeof(r));
			if (!strcmp(r, "virtual") || !strcmp(r, prev))
				continue;
			memcpy(prev, r, sizeof(prev));
			child_init(&c, dir, N_DEVROOT, r);
			memcpy(c.root, r, sizeof(c.root));
			if (fn(&c, arg))
				return true;
		}
		return false;
	}
	case N_DEVROOT:
		list_for_each_entry(dev, &m->devices, node) {
			if (!dev->added || dev->parent ||
			    !same_root(dev, dir->root))
				continue;
			child_init(&c, dir, N_DEVICE, dev->name);
			c.dev = dev;
			if (fn(&c, arg))
				return true;
		}
		return false;
	case N_DEVICE:
		list_for_each_entry(dev, &m->devices, node) {
			if (!dev->added || dev->parent != dir->dev)
				continue;
			child_init(&c, dir, N_DEVICE, dev->name);
			c.dev = dev;
			if (fn(&c, arg))
				return true;
		}
		dev_drv = READ_ONCE(dir->dev->driver);
		if (dev_drv && READ_ONCE(dir->dev->bound)) {
			snprintf(buf, sizeof(buf), "/sys/bus/%s/drivers/%s",
				 dir->dev->bus->name, dev_drv->name);
			if (emit_link(dir, "driver", buf, fn, arg))
				return true;
		}
		/*
		 * a peek: the device joins and leaves its group under the
		 * group's mutex, and the group is freed only after its
		 * release unlinks it under obj_lock, which we hold
		 */
		dev_group = READ_ONCE(dir->dev->iommu_group);
		if (dev_group) {
			snprintf(buf, sizeof(buf), "/sys/kernel/iommu_groups/%d",
				 dev_group->id);
			if (emit_link(dir, "iommu_group", buf, fn, arg))
				return true;
		}
		if (dir->dev->bus) {
			snprintf(buf, sizeof(buf), "/sys/bus/%s",
				 dir->dev->bus->name);
			if (emit_link(dir, "subsystem", buf, fn, arg))
				return true;
		}
		return emit_attrs(dir, fn, arg);
	case N_KERNEL:
		return emit_dir(dir, N_GROUPS, "iommu_groups", fn, arg);
	case N_GROUPS: {
		struct iommu_group *group;

		list_for_each_entry(group, &m->groups, node) {
			snprintf(buf, sizeof(buf), "%d", group->id);
			child_init(&c, dir, N_GROUP, buf);
			c.group = group;
			if (fn(&c, arg))
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
		return emit_dir(dir, N_CLASS_IOMMU, "iommu", fn, arg);
	case N_CLASS_IOMMU:
	case N_VIRTUAL_IOMMU: {
		struct iommu_device *iommu;

		list_for_each_entry(iommu, &m->iommus, node) {
			if (!iommu->registered)
				continue;
			if (dir->kind == N_CLASS_IOMMU) {
				snprintf(buf, sizeof(buf),
					 "/sys/devices/virtual/iommu/%s",
					 iommu->name);
				if (emit_link(dir, iommu->name, buf, fn, arg))
					return true;
				continue;
			}
			child_init(&c, dir, N_IOMMU, iommu->name);
			c.iommu = iommu;
			if (fn(&c, arg))
				return true;
		}
		return false;
	}
	case N_VIRTUAL:
		return emit_dir(dir, N_VIRTUAL_IOMMU, "iommu", fn, arg);
	case N_IOMMU:
		return false;
	case N_DEV:
		return emit_dir(dir, N_DEV_VFIO, "vfio", fn, arg);
	case N_DEV_VFIO: {
		struct vfio_group *group;

		child_init(&c, dir, N_ATTR, "vfio");
		c.chardev = true;
		if (fn(&c, arg))
			return true;
		list_for_each_entry(group, &m->vfio_groups, node) {
			if (list_empty(&group->device_list))
				continue;
			if (group->noiommu)
				snprintf(buf, sizeof(buf), "noiommu-%d",
					 group->id);
			else
				snprintf(buf, sizeof(buf), "%d", group->id);
			child_init(&c, dir, N_ATTR, buf);
			c.chardev = true;
			if (fn(&c, arg))
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
	struct snode *out;
};

static bool find_child_cb(struct snode *child, void *arg)
{
	struct find_arg *fa = arg;
	const char *base = strrchr(child->path, '/') + 1;

	if (strcmp(base, fa->name))
		return false;
	*fa->out = *child;
	return true;
}

static bool is_dir(const struct snode *n)
{
	return n->kind != N_ATTR && n->kind != N_LINK;
}

/*
 * Resolve @path to a node. Links in the middle are always followed; a
 * final link only with @follow. Returns 0 or -ENOENT/-ENOTDIR/-ELOOP.
 */
static int resolve(struct machine *m, const char *path, bool follow,
		   struct snode *out)
{
	char work[SYSFS_PATH_MAX * 2];
	int hops = 0;

	if (path[0] != '/' || strlen(path) >= SYSFS_PATH_MAX)
		return -ENOENT;
	snprintf(work, sizeof(work), "%s", path);
restart:
	{
		struct snode cur = { .kind = N_ROOT, .m = m, .path = "/" };
		char *save = NULL, *comp;
		char copy[SYSFS_PATH_MAX * 2];
		const char *rest;

		snprintf(copy, sizeof(copy), "%s", work);
		for (comp = strtok_r(copy, "/", &save); comp;
		     comp = strtok_r(NULL, "/", &save)) {
			struct snode next;
			struct find_arg fa = { comp, &next };

			if (!strcmp(comp, "."))
				continue;
			if (!strcmp(comp, "..")) {
				char parent[SYSFS_PATH_MAX];
				char *slash;

				snprintf(parent, sizeof(parent), "%s",
					 cur.path);
				slash = strrchr(parent, '/');
				if (slash == parent)
					parent[1] = '\0';
				else if (slash)
					*slash = '\0';
				rest = save ? save : "";
				snprintf(work, sizeof(work), "%s/%s", parent,
					 rest);
				if (++hops > SYSFS_LINK_HOPS)
					return -ELOOP;
				goto restart;
			}
			if (!is_dir(&cur))
				return -ENOTDIR;
			if (!emit_children(&cur, find_child_cb, &fa))
				return -ENOENT;
			rest = save ? save : "";
			/* strtok_r leaves save past the separator */
			if (next.kind == N_LINK && (follow || *rest)) {
				if (++hops > SYSFS_LINK_HOPS)
					return -ELOOP;
				snprintf(work, sizeof(work), "%s/%s",
					 next.target, rest);
				goto restart;
			}
			cur = next;
		}
		*out = cur;
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
		       struct snode *out)
{
	int ret;

	mutex_lock(&m->vfio_lock);
	mutex_lock(&m->obj_lock);
	ret = resolve(m, path, follow, out);
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

	if (resolve_get(m, path, false, &n))
		return SYSFS_NONE;
	if (n.kind == N_LINK)
		type = SYSFS_LINK;
	else
		type = n.kind == N_ATTR ? SYSFS_FILE : SYSFS_DIR;
	snode_put(&n);
	return type;
}

int sysfs_read(struct machine *m, const char *path, char **ret_buf)
{
	struct sbuf sb = { 0 };
	struct snode n;
	int ret = resolve_get(m, path, true, &n);

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
	sbuf_printf(&sb, "%s", "");
	if (!ret && sb.oom)
		ret = -ENOMEM;
	if (ret) {
		free(sb.buf);
		return ret;
	}
	*ret_buf = sb.buf;
	return 0;
}

int sysfs_write(struct machine *m, const char *path, const char *buf,
		size_t len)
{
	char page[SYSFS_WRITE_MAX + 1];
	struct snode n;
	int ret = resolve_get(m, path, true, &n);

	if (ret)
		return ret;
	if (is_dir(&n)) {
		ret = -EISDIR;
	} else if (n.chardev || !n.attr->store) {
		ret = -EACCES;
	} else if (len > SYSFS_WRITE_MAX || memchr(buf, '\0', len)) {
		ret = -EINVAL;
	} else {
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
	char dir[SYSFS_PATH_MAX], rel[SYSFS_PATH_MAX];
	struct snode n;
	char *slash;
	int ret = resolve_get(m, path, false, &n);

	if (ret)
		return ret;
	snode_put(&n); /* only the path strings are used below */
	if (n.kind != N_LINK)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s", n.path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	relative_path(dir, n.target, rel, sizeof(rel));
	*ret_target = strdup(rel);
	return *ret_target ? 0 : -ENOMEM;
}

int sysfs_realpath(struct machine *m, const char *path, char **ret_path)
{
	struct snode n;
	int ret = resolve_get(m, path, true, &n);

	if (ret)
		return ret;
	snode_put(&n);
	*ret_path = strdup(n.path);
	return *ret_path ? 0 : -ENOMEM;
}

struct list_arg {
	char **names;
	size_t n, cap;
	bool oom;
};

static bool list_cb(struct snode *child, void *arg)
{
	struct list_arg *la = arg;
	const char *base = strrchr(child->path, '/') + 1;

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

/*
 * Drop the repeats of a sorted list in place (a directory may be emitted
 * once per object under it: /sys/devices/pci0000:00 once per root
 * device); returns the new length.
 */
static size_t drop_repeats(char **names, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (out && !strcmp(names[out - 1], names[i])) {
			free(names[i]);
			continue;
		}
		names[out++] = names[i];
	}
	return out;
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
	ret = resolve(m, path, true, &n);
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
	*ret_n = drop_repeats(la.names, la.n);
	return 0;
}
