// SPDX-License-Identifier: MIT
/*
 * White-box tests of VFIO (src/drivers/vfio/), iommufd
 * (src/drivers/iommu/iommufd/) and the VMM sequence (src/userspace/vmm.c)
 * against section 5 of the ownership spec and the scenarios S2-S6, S8, S9
 * and S11-S13 (shared/spec/ownership.md, shared/spec/scenarios.md).
 *
 * Most tests run one body on every firmware variant (x86 DMAR/IVRS, ACPI
 * IORT, devicetree): on x86 a device joins its IOMMU group when it is
 * added, on IORT and devicetree inside the dma_configure of its first
 * probe, so group numbers are computed, never assumed.
 *
 * Tests read as lists of expected errnos. Helpers come in three forms:
 * _x() returns the result, do_x() asserts success and err_x(ERRNO, ...)
 * asserts that error; all of them also assert that nothing WARNed. Every
 * test ends with check_invariants(): for every IOMMU group, the owner is
 * exactly what the VFIO and iommufd objects say it must be (a vfio group
 * with a container, or the iommufd its bound devices share, else the
 * kernel), owner_cnt matches (1, the bound devices, or the DMA-API uses
 * the driver core holds), no DMA-API driver is bound in a user-owned group,
 * the group translates through its default domain when the kernel owns it
 * and through the blocking or the user's unmanaged domain otherwise, every
 * member translates through the group's domain; the VFIO and iommufd
 * objects agree with each other; and no WARN went unaccounted for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dmaown/dmaown.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

/* ---- variants and fixture ---- */

struct variant {
	const char *name;
	enum machine_firmware fw;
	bool no_iommu_api;	/* CONFIG_IOMMU_API=n */
	bool no_iommu_hw;	/* the API built in, no IOMMU to register */
};

static struct variant var_x86 = { .name = "x86", .fw = FW_X86 };
static struct variant var_iort = { .name = "iort", .fw = FW_ACPI_IORT };
static struct variant var_dt = { .name = "dt", .fw = FW_DEVICETREE };
static struct variant var_noapi = {
	.name = "no-iommu-api", .fw = FW_X86, .no_iommu_api = true,
};
static struct variant var_nohw = {
	.name = "no-iommu", .fw = FW_X86, .no_iommu_hw = true,
};

#define MSG_MAX 512

struct fx {
	const struct variant *v;
	struct machine *m;
	size_t warns;		/* WARNs accounted for so far */
	char msg[MSG_MAX];	/* QEMU's message of the last _assign() */
};

/* The fixture of the running test (cmocka runs one test at a time). */
static struct fx *self;

/* VFIO_GROUP_GET_STATUS output nobody reads */
static unsigned int scratch_flags;

#define IOMMU "dmar0"

/* S3's desktop: host bridge, root port, GPU and HDMI audio in one group. */
#define HB "0000:00:00.0"
#define RP "0000:00:01.0"
#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define GUSB "0000:01:00.2"	/* the GPU's USB-C controller */
#define GPU_KEY 1
/* S13: an NVMe on its own */
#define NVME "0000:65:00.0"
/* a NIC on its own */
#define NIC "0000:03:00.0"
/* S9: the chipset's xHCI with an RMRR */
#define XHCI "0000:00:14.0"

static bool is_x86(void)
{
	return self->v->fw == FW_X86;
}

/* ---- reporting ---- */

static void verify(bool ok, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

static void verify(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	_fail(file, line);
}

static void print_warns(const struct machine *m, size_t from)
{
	for (size_t i = from; i < machine_warn_count(m); i++) {
		const struct warn_report *w = machine_warn(m, i);

		if (!w)
			break;
		print_error("WARN in %s(): %s; trace:", w->func, w->cond);
		for (unsigned int j = 0; j < w->ntrace; j++)
			print_error(" %s", w->trace[j]);
		print_error("\n");
	}
}

static void check_no_new_warn(const char *file, int line)
{
	size_t now = machine_warn_count(self->m);

	if (now != self->warns)
		print_warns(self->m, self->warns);
	verify(now == self->warns, file, line, "%zu unexpected WARN(s)",
	       now - self->warns);
}

/* @call must return @want (0 or a negative errno), without a WARN. */
#define assert_rc(want, call)                                              \
	do {                                                                \
		int want_ = (want), rc_ = (call);                           \
		verify(rc_ == want_, __FILE__, __LINE__,                    \
		       "%s returned %d (%s), expected %d (%s)", #call, rc_, \
		       errno_name(rc_), want_, errno_name(want_));          \
		check_no_new_warn(__FILE__, __LINE__);                      \
	} while (0)

/* ---- lookups ---- */

static struct device *dev_(const char *name)
{
	struct device *dev = machine_find_device(self->m, name);

	if (!dev)
		fail_msg("no device %s", name);
	return dev;
}

static struct device_driver *drv_(const char *name)
{
	struct device_driver *drv = machine_find_driver(self->m, name);

	if (!drv)
		fail_msg("driver %s not loaded", name);
	return drv;
}

static struct iommu_device *iommu_(void)
{
	return machine_find_iommu(self->m, IOMMU);
}

static struct iommu_group *grp(const char *name)
{
	struct iommu_group *group = dev_(name)->iommu_group;

	if (!group)
		fail_msg("%s has no iommu group", name);
	return group;
}

/* The device's group number: /dev/vfio/N. */
static int gid(const char *name)
{
	return iommu_group_id(grp(name));
}

static struct vfio_group *vgroup(const char *name)
{
	struct vfio_group *vg;

	list_for_each_entry(vg, &self->m->vfio_groups, node)
		if (vg->iommu_group == dev_(name)->iommu_group &&
		    !list_empty(&vg->device_list))
			return vg;
	return NULL;
}

static struct vfio_device *vdev_(const char *name)
{
	struct vfio_device *vdev;

	list_for_each_entry(vdev, &self->m->vfio_devices, node)
		if (!strcmp(vdev->dev->name, name))
			return vdev;
	return NULL;
}

static struct iommufd_ctx *ictx_(int id)
{
	struct iommufd_ctx *ictx;

	list_for_each_entry(ictx, &self->m->iommufds, node)
		if (ictx->id == id)
			return ictx;
	fail_msg("no iommufd %d", id);
	return NULL;
}

static size_t log_count(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < machine_log_count(self->m); i++) {
		const struct klog_entry *e = machine_log_entry(self->m, i);

		if (e && strstr(e->text, needle))
			n++;
	}
	return n;
}

#define assert_log(needle)                                                \
	verify(log_count(needle), __FILE__, __LINE__,                      \
	       "no log line contains \"%s\"", needle)
#define assert_no_log(needle)                                             \
	verify(!log_count(needle), __FILE__, __LINE__,                     \
	       "a log line contains \"%s\"", needle)

#define assert_bound(name, drvname)                                       \
	do {                                                               \
		const char *want_ = (drvname);                             \
		const char *got_ = device_driver_name(dev_(name));         \
		verify(want_ ? got_ && !strcmp(got_, want_) : !got_,       \
		       __FILE__, __LINE__, "%s bound to %s, expected %s",  \
		       name, got_ ? got_ : "(none)",                       \
		       want_ ? want_ : "(none)");                          \
	} while (0)

#define assert_cnt(name, n)                                               \
	do {                                                               \
		struct iommu_group *g_ = grp(name);                        \
		verify(g_->owner_cnt == (n), __FILE__, __LINE__,           \
		       "%s: group %d owner_cnt %u, expected %u", name,     \
		       g_->id, g_->owner_cnt, (unsigned int)(n));          \
	} while (0)

#define assert_owner(name, cookie) \
	assert_ptr_equal(grp(name)->owner, (void *)(cookie))

/* The kernel owns the group, through its default domain. */
#define assert_kernel_owned(name, cnt)                                    \
	do {                                                               \
		assert_owner(name, NULL);                                  \
		assert_cnt(name, cnt);                                     \
		assert_ptr_equal(grp(name)->domain,                        \
				 grp(name)->default_domain);               \
		assert_ptr_equal(iommu_device_domain(dev_(name)),          \
				 grp(name)->default_domain);               \
	} while (0)

#define assert_on_blocking(name)                                          \
	do {                                                               \
		assert_non_null(grp(name)->blocking_domain);               \
		assert_ptr_equal(grp(name)->domain,                        \
				 grp(name)->blocking_domain);              \
		assert_ptr_equal(iommu_device_domain(dev_(name)),          \
				 grp(name)->blocking_domain);              \
	} while (0)

/* A user (UNMANAGED) domain, not the blocking one, translates @name. */
#define assert_on_user_domain(name)                                       \
	do {                                                               \
		struct iommu_domain *d_ = grp(name)->domain;               \
		assert_non_null(d_);                                       \
		assert_int_equal(iommu_domain_type(d_),                    \
				 IOMMU_DOMAIN_UNMANAGED);                  \
		assert_ptr_not_equal(d_, grp(name)->blocking_domain);      \
		assert_ptr_equal(iommu_device_domain(dev_(name)), d_);     \
	} while (0)

/* ---- the invariants every test ends with ---- */

static bool vfio_driver(const struct device *dev)
{
	return dev->driver && dev->bound &&
	       driver_probe_is_vfio(dev->driver->desc->probe);
}

static struct iommufd_hwpt *hwpt_of(struct machine *m, struct iommu_group *g)
{
	struct iommufd_ctx *x;
	struct iommufd_hwpt *h;

	list_for_each_entry(x, &m->iommufds, node)
		list_for_each_entry(h, &x->hwpts, node)
			if (h->group == g)
				return h;
	return NULL;
}

static void check_group_owner(struct machine *m, struct iommu_group *g,
			      const char *file, int line)
{
	struct vfio_group *vg, *want_vg = NULL;
	struct vfio_device *vd;
	struct iommufd_ctx *want_ictx = NULL;
	struct iommufd_hwpt *h = hwpt_of(m, g);
	unsigned int users = 0, bound = 0;
	struct device *dev;

	list_for_each_entry(dev, &m->devices, node)
		if (dev->dma_use.group == g)
			users++;
	list_for_each_entry(vg, &m->vfio_groups, node) {
		/* a no-IOMMU group's container claims nothing */
		if (vg->iommu_group != g || !vg->container || vg->noiommu)
			continue;
		verify(!want_vg, file, line, "group %d: two vfio groups",
		       g->id);
		want_vg = vg;
	}
	list_for_each_entry(vd, &m->vfio_devices, node) {
		if (!vd->ictx || vd->dev->iommu_group != g)
			continue;
		verify(!want_ictx || want_ictx == vd->ictx, file, line,
		       "group %d: devices bound to two iommufds", g->id);
		want_ictx = vd->ictx;
		bound++;
	}
	verify(!(want_vg && want_ictx), file, line,
	       "group %d: a container and an iommufd", g->id);

	if (want_vg) {
		verify(g->owner == want_vg && g->owner_cnt == 1, file, line,
		       "group %d: owner %p cnt %u, expected vfio group %p cnt 1",
		       g->id, g->owner, g->owner_cnt, (void *)want_vg);
		if (want_vg->type1_domain)
			verify(g->domain == want_vg->type1_domain, file, line,
			       "group %d: not on its type1 domain", g->id);
		else
			verify(g->domain == g->blocking_domain, file, line,
			       "group %d: claimed without IOMMU, not blocked",
			       g->id);
	} else if (want_ictx) {
		verify(g->owner == want_ictx && g->owner_cnt == bound, file,
		       line, "group %d: owner %p cnt %u, expected iommufd %d cnt %u",
		       g->id, g->owner, g->owner_cnt, want_ictx->id, bound);
		verify(g->domain == (h ? h->domain : g->blocking_domain), file,
		       line, "group %d: domain %p, expected %s", g->id,
		       (void *)g->domain, h ? "the hwpt's" : "blocking");
	} else {
		verify(!g->owner && g->owner_cnt == users, file, line,
		       "group %d: owner %p cnt %u, expected the kernel with %u uses",
		       g->id, g->owner, g->owner_cnt, users);
	}
	if (g->owner) {
		verify(users == 0, file, line,
		       "group %d: user-owned with %u DMA-API uses", g->id,
		       users);
		verify(g->domain && g->domain != g->default_domain &&
			       (g->domain == g->blocking_domain ||
				g->domain->type == IOMMU_DOMAIN_UNMANAGED),
		       file, line,
		       "group %d: user-owned on neither a blocking nor a user domain",
		       g->id);
	} else {
		verify(g->domain == g->default_domain, file, line,
		       "group %d: kernel-owned off its default domain", g->id);
		verify(!h, file, line, "group %d: an hwpt of a free group",
		       g->id);
	}
}

/* Something holds @d: a group, a type1 container or an iommufd hwpt. */
static bool domain_owned(struct machine *m, const struct iommu_domain *d)
{
	struct iommu_group *g;
	struct vfio_group *vg;

	list_for_each_entry(g, &m->groups, node)
		if (d == g->default_domain || d == g->blocking_domain ||
		    d == g->domain)
			return true;
	list_for_each_entry(vg, &m->vfio_groups, node)
		if (d == vg->type1_domain)
			return true;
	list_for_each_entry(g, &m->groups, node) {
		struct iommufd_hwpt *h = hwpt_of(m, g);

		if (h && h->domain == d)
			return true;
	}
	return false;
}

static void check_groups(struct machine *m, const char *file, int line)
{
	struct vfio_group *vg;
	struct iommu_group *g;
	struct iommu_domain *d;
	struct device *dev;

	list_for_each_entry(g, &m->groups, node) {
		unsigned int members = 0, refs = 0;

		list_for_each_entry(dev, &m->devices, node) {
			if (dev->iommu_group != g)
				continue;
			members++;
			verify(!g->owner || !device_driver_name(dev) ||
				       dev->driver->driver_managed_dma,
			       file, line,
			       "%s: DMA-API driver %s in user-owned group %d",
			       dev->name, device_driver_name(dev), g->id);
			verify(dev->iommu_domain == g->domain, file, line,
			       "%s: not on its group %d's domain", dev->name,
			       g->id);
		}
		verify(members == list_count_nodes(&g->devices), file, line,
		       "group %d: %u devices point at it, %zu members", g->id,
		       members, list_count_nodes(&g->devices));
		list_for_each_entry(vg, &m->vfio_groups, node)
			refs += vg->iommu_group == g;
		verify(kref_read(&g->kref) == members + refs, file, line,
		       "group %d: %u references, %u members + %u vfio groups",
		       g->id, kref_read(&g->kref), members, refs);
		check_group_owner(m, g, file, line);
	}
	list_for_each_entry(d, &m->domains, node) {
		unsigned int users = 0;

		list_for_each_entry(dev, &m->devices, node)
			if (dev->iommu_domain == d)
				users++;
		verify(d->users == users, file, line,
		       "domain %p (%s): users %u, %u devices on it",
		       (void *)d, iommu_domain_type_str(d->type), d->users,
		       users);
		verify(domain_owned(m, d), file, line,
		       "domain %p (%s): leaked, nothing holds it", (void *)d,
		       iommu_domain_type_str(d->type));
	}
	list_for_each_entry(dev, &m->devices, node)
		verify(!dev->dma_use.group ||
			       dev->dma_use.group == dev->iommu_group,
		       file, line, "%s: use counted in a group it is not in",
		       dev->name);
}

/*
 * Every file is in its owner's descriptor table as the descriptor it
 * records, and every descriptor beyond the standard streams is a file
 * that says so; each limit is one setrlimit() allows.
 */
static void check_fds(struct machine *m, const char *file, int line)
{
	struct vfio_container *c;
	struct vfio_group *vg;
	struct vfio_device *vd;
	struct vfio_device_file *df;
	struct iommufd_ctx *x;
	struct process *p;
	unsigned long files = 0, fds = 0;

#define CHECK_FILE(f)                                                       \
	do {                                                                \
		if ((f)->owner) {                                           \
			files++;                                            \
			verify(idr_find(&(f)->owner->fds, (f)->fd) == (f),  \
			       file, line, "a file is not descriptor %d of %s", \
			       (f)->fd, (f)->owner->name);                  \
		}                                                           \
	} while (0)
	list_for_each_entry(vg, &m->vfio_groups, node)
		CHECK_FILE(&vg->file);
	list_for_each_entry(c, &m->vfio_containers, node)
		CHECK_FILE(&c->file);
	list_for_each_entry(x, &m->iommufds, node)
		CHECK_FILE(&x->file);
	list_for_each_entry(vd, &m->vfio_devices, node)
		list_for_each_entry(df, &vd->files, node) {
			verify(df->file.owner != NULL, file, line,
			       "%s: a device file without a descriptor",
			       vd->dev->name);
			CHECK_FILE(&df->file);
		}
#undef CHECK_FILE
	list_for_each_entry(p, &m->processes, node) {
		fds += p->fds.count - 3;
		for (int fd = 0; fd < 3; fd++)
			verify(idr_find(&p->fds, fd) &&
				       ((struct file *)idr_find(&p->fds, fd))->kind == FILE_STDIO,
			       file, line, "%s: descriptor %d is not stdio",
			       p->name, fd);
		verify(p->nofile <= MACHINE_NOFILE_MAX, file, line,
		       "%s: open-file limit %lu", p->name, p->nofile);
	}
	verify(files == fds, file, line, "%lu descriptors, %lu files open",
	       fds, files);
}

/*
 * Every driver's module references are its open vfio devices: one taken
 * at each device's first open, put at its last close (v6.6
 * vfio_df_device_first_open(), vfio_df_device_last_close()).
 */
static void check_module_refs(struct machine *m, const char *file, int line)
{
	struct bus_type *bus;
	struct device_driver *drv;
	struct vfio_device *vd;

	list_for_each_entry(bus, &m->buses, node) {
		list_for_each_entry(drv, &bus->drivers, node) {
			unsigned int open = 0;

			list_for_each_entry(vd, &m->vfio_devices, node)
				open += vd->module == drv;
			verify(drv->module_refs == open, file, line,
			       "%s: %u module references, %u devices open",
			       drv->name, drv->module_refs, open);
		}
	}
}

static void check_vfio(struct machine *m, const char *file, int line)
{
	struct vfio_container *c;
	struct vfio_group *vg;
	struct vfio_device *vd;
	struct iommufd_ctx *x;
	struct iommufd_hwpt *h;
	struct device *dev;

	list_for_each_entry(dev, &m->devices, node) {
		bool found = false;

		list_for_each_entry(vd, &m->vfio_devices, node)
			found |= vd->dev == dev;
		verify(found == vfio_driver(dev), file, line,
		       "%s: bound to %s, %s vfio device", dev->name,
		       device_driver_name(dev) ? device_driver_name(dev) :
						 "(none)",
		       found ? "a" : "no");
	}
	list_for_each_entry(vg, &m->vfio_groups, node) {
		unsigned int by_group = 0, bound = 0;

		list_for_each_entry(vd, &vg->device_list, group_next) {
			verify(vd->group == vg, file, line,
			       "%s: on the wrong vfio group", vd->dev->name);
			verify(vd->dev->iommu_group == vg->iommu_group, file,
			       line, "%s: vfio group %d is not its group",
			       vd->dev->name, vg->id);
			by_group += vd->open_count && !vd->ictx;
			bound += vd->ictx != NULL;
		}
		/* vfio_device_block_group() counts the bound cdevs */
		verify(vg->cdev_device_open_cnt == bound, file, line,
		       "vfio group %d: cdev_device_open_cnt %u, %u bound",
		       vg->id, vg->cdev_device_open_cnt, bound);
		verify(!vg->opened || !bound, file, line,
		       "vfio group %d: open, and %u devices bound through the cdev",
		       vg->id, bound);
		verify(vg->opened == (vg->file.owner || by_group), file, line,
		       "vfio group %d: file %d, descriptor %d, %u devices open",
		       vg->id, vg->opened, vg->file.owner != NULL, by_group);
		verify(vg->container_users ==
			       (vg->container ? 1 + by_group : 0),
		       file, line, "vfio group %d: container_users %u",
		       vg->id, vg->container_users);
		verify(!by_group || (vg->container &&
				     vg->container->iommu_type),
		       file, line,
		       "vfio group %d: devices open without an IOMMU set",
		       vg->id);
		if (list_empty(&vg->device_list))
			verify(vg->opened && !vg->container &&
				       !vg->iommu_group,
			       file, line, "vfio group %d: a leaked orphan",
			       vg->id);
		else
			/* vfio_noiommu_group_alloc(): groups without IOMMU */
			verify(vg->iommu_group &&
				       vg->noiommu == !vg->iommu_group->iommu &&
				       vg->noiommu ==
					       !strcmp(vg->iommu_group->name,
						       "vfio-noiommu"),
			       file, line, "vfio group %d: iommu group %p",
			       vg->id, (void *)vg->iommu_group);
		verify(!vg->type1_domain ||
			       (vg->container && vg->container->iommu_type),
		       file, line, "vfio group %d: a stale type1 domain",
		       vg->id);
		if (vg->container && vg->container->iommu_type)
			verify(vg->noiommu == !vg->type1_domain, file, line,
			       "vfio group %d: IOMMU set, no type1 domain",
			       vg->id);
	}
	list_for_each_entry(c, &m->vfio_containers, node) {
		unsigned int n = 0;

		list_for_each_entry(vg, &c->group_list, container_next) {
			verify(vg->container == c, file, line,
			       "container %d: lists a group not set on it",
			       c->id);
			verify(vg->noiommu == c->noiommu, file, line,
			       "container %d: mixes group kinds", c->id);
			n++;
		}
		verify(n || !c->iommu_type, file, line,
		       "container %d: an IOMMU without groups", c->id);
		verify(n || c->file.owner, file, line,
		       "a closed container without groups leaked");
	}
	list_for_each_entry(x, &m->iommufds, node) {
		unsigned int bound = 0;

		list_for_each_entry(vd, &m->vfio_devices, node)
			bound += vd->ictx == x;
		verify(x->bound == bound, file, line,
		       "iommufd %d: bound %u, %u devices", x->id, x->bound,
		       bound);
		verify(bound || x->file.owner, file, line,
		       "a closed iommufd without devices leaked");
		list_for_each_entry(h, &x->hwpts, node) {
			unsigned int users = 0;

			list_for_each_entry(vd, &m->vfio_devices, node)
				users += vd->hwpt == h;
			verify(h->users == users && users, file, line,
			       "iommufd %d hwpt: users %u, %u devices", x->id,
			       h->users, users);
			verify(h->group->domain == h->domain, file, line,
			       "iommufd %d hwpt: group %d not on it", x->id,
			       h->group->id);
		}
	}
	list_for_each_entry(vd, &m->vfio_devices, node) {
		struct vfio_device_file *df;
		unsigned int granted = 0, group_files = 0, bound_cdevs = 0;

		list_for_each_entry(df, &vd->files, node) {
			granted += df->access_granted;
			group_files += df->group_path;
			bound_cdevs += !df->group_path && df->access_granted;
			verify(df->device == vd, file, line,
			       "%s: a file of another device", vd->dev->name);
		}
		verify(!vd->hwpt || vd->ictx, file, line,
		       "%s: attached, not bound", vd->dev->name);
		/* vfio_df_open(): the files with access are the open count */
		verify(vd->open_count == granted, file, line,
		       "%s: open_count %u, %u files with access",
		       vd->dev->name, vd->open_count, granted);
		verify(bound_cdevs == (vd->ictx != NULL), file, line,
		       "%s: %u cdev files bound, iommufd %s", vd->dev->name,
		       bound_cdevs, vd->ictx ? "set" : "unset");
		verify(!bound_cdevs || !group_files, file, line,
		       "%s: bound through its cdev and open through its group",
		       vd->dev->name);
		/* vfio_df_device_first_open(): its driver's module, if open */
		verify(vd->module == (vd->open_count ? vd->dev->driver : NULL),
		       file, line, "%s: open_count %u, holds the module of %s",
		       vd->dev->name, vd->open_count,
		       vd->module ? driver_name(vd->module) : "(none)");
	}
	check_module_refs(m, file, line);
	check_fds(m, file, line);
}

static void check_machine(struct machine *m, size_t warns, const char *file,
			  int line)
{
	check_groups(m, file, line);
	check_vfio(m, file, line);
	if (machine_warn_count(m) != warns)
		print_warns(m, warns);
	verify(machine_warn_count(m) == warns, file, line,
	       "%zu WARN(s), expected %zu", machine_warn_count(m), warns);
}

#define check_invariants() \
	check_machine(self->m, self->warns, __FILE__, __LINE__)

/* ---- the driver core, in three forms ---- */

static int _bind(const char *drv, const char *dev)
{
	return bind_store(drv_(drv), dev);
}

static int _unbind(const char *drv, const char *dev)
{
	return unbind_store(drv_(drv), dev);
}

static int _override(const char *dev, const char *buf)
{
	return driver_override_store(dev_(dev), buf);
}

static int _probe(const char *dev)
{
	return drivers_probe_store(machine_bus(self->m, BUS_PCI), dev);
}

#define do_bind(drv, dev) assert_rc(0, _bind(drv, dev))
#define err_bind(e, drv, dev) assert_rc(-(e), _bind(drv, dev))
#define do_unbind(drv, dev) assert_rc(0, _unbind(drv, dev))
#define do_override(dev, buf) assert_rc(0, _override(dev, buf))
#define do_probe(dev) assert_rc(0, _probe(dev))
#define err_probe(e, dev) assert_rc(-(e), _probe(dev))
#define do_load(name) assert_rc(0, driver_load(self->m, name))

/* echo vfio-pci > driver_override; unbind the host driver; drivers_probe */
static void to_vfio(const char *dev)
{
	const char *host = device_driver_name(dev_(dev));

	do_override(dev, "vfio-pci\n");
	if (host)
		do_unbind(host, dev);
	do_probe(dev);
	assert_bound(dev, "vfio-pci");
}

/* clear driver_override, unbind vfio-pci, bind @host */
static void to_host(const char *dev, const char *host)
{
	do_override(dev, "\n");
	do_unbind("vfio-pci", dev);
	do_bind(host, dev);
}

/* ---- the VFIO and iommufd verbs, in three forms ---- */

static int _gopen(int g)
{
	return vfio_group_open(self->m, g);
}

static int _gclose(int g)
{
	return vfio_group_close(self->m, g);
}

static int _status(int g, unsigned int *flags)
{
	return vfio_group_get_status(self->m, g, flags);
}

static unsigned int do_status(int g)
{
	unsigned int flags = ~0u;

	assert_rc(0, _status(g, &flags));
	return flags;
}

static int _copen(int *c)
{
	return vfio_container_open(self->m, c);
}

static int do_copen(void)
{
	int c = -1;

	assert_rc(0, _copen(&c));
	assert_true(c >= 0);
	return c;
}

static int _cclose(int c)
{
	return vfio_container_close(self->m, c);
}

static int _setc(int g, int c)
{
	return vfio_group_set_container(self->m, g, c);
}

static int _unsetc(int g)
{
	return vfio_group_unset_container(self->m, g);
}

static int _set_iommu(int c, int type)
{
	return vfio_container_set_iommu(self->m, c, type);
}

static int _getfd(int g, const char *dev)
{
	return vfio_group_get_device_fd(self->m, g, dev);
}

static int _dclose(const char *dev)
{
	return vfio_device_close(self->m, dev);
}

static int _iopen(int *ictx)
{
	return iommufd_open(self->m, ictx);
}

static int do_iopen(void)
{
	int ictx = -1;

	assert_rc(0, _iopen(&ictx));
	assert_true(ictx >= 0);
	return ictx;
}

static int _iclose(int ictx)
{
	return iommufd_close(self->m, ictx);
}

static unsigned int do_ioas(int ictx)
{
	unsigned int ioas = 0;

	assert_rc(0, iommufd_ioas_alloc(self->m, ictx, &ioas));
	assert_true(ioas > 0);
	return ioas;
}

static int _cdev(const char *dev)
{
	return vfio_device_cdev_open(self->m, dev);
}

static int _bindfd(const char *dev, int ictx)
{
	return vfio_device_bind_iommufd(self->m, dev, ictx);
}

static int _attach(const char *dev, unsigned int ioas)
{
	return vfio_device_attach_ioas(self->m, dev, ioas);
}

static int _detach(const char *dev)
{
	return vfio_device_detach_ioas(self->m, dev);
}

/* QEMU's "-device vfio-pci,host=DEV": the container, or -1 on failure. */
static int _assign(const char *dev, int *c)
{
	*c = -1;
	return vmm_assign_device(self->m, dev, c, self->msg,
				 sizeof(self->msg));
}

static int do_assign(const char *dev)
{
	int c;

	assert_rc(0, _assign(dev, &c));
	assert_string_equal(self->msg, "");
	assert_true(c >= 0);
	return c;
}

static int _vmm_release(const char *dev, int c)
{
	return vmm_release_device(self->m, dev, c);
}

#define do_gopen(g) assert_rc(0, _gopen(g))
#define err_gopen(e, g) assert_rc(-(e), _gopen(g))
#define do_gclose(g) assert_rc(0, _gclose(g))
#define err_gclose(e, g) assert_rc(-(e), _gclose(g))
#define err_status(e, g, f) assert_rc(-(e), _status(g, f))
#define err_copen(e, c) assert_rc(-(e), _copen(c))
#define do_cclose(c) assert_rc(0, _cclose(c))
#define err_cclose(e, c) assert_rc(-(e), _cclose(c))
#define do_setc(g, c) assert_rc(0, _setc(g, c))
#define err_setc(e, g, c) assert_rc(-(e), _setc(g, c))
#define do_unsetc(g) assert_rc(0, _unsetc(g))
#define err_unsetc(e, g) assert_rc(-(e), _unsetc(g))
#define do_set_iommu(c, t) assert_rc(0, _set_iommu(c, t))
#define err_set_iommu(e, c, t) assert_rc(-(e), _set_iommu(c, t))
#define do_getfd(g, dev) assert_rc(0, _getfd(g, dev))
#define err_getfd(e, g, dev) assert_rc(-(e), _getfd(g, dev))
#define do_dclose(dev) assert_rc(0, _dclose(dev))
#define err_dclose(e, dev) assert_rc(-(e), _dclose(dev))
#define do_iclose(i) assert_rc(0, _iclose(i))
#define err_iclose(e, i) assert_rc(-(e), _iclose(i))
#define do_cdev(dev) assert_rc(0, _cdev(dev))
#define err_cdev(e, dev) assert_rc(-(e), _cdev(dev))
#define do_bindfd(dev, i) assert_rc(0, _bindfd(dev, i))
#define err_bindfd(e, dev, i) assert_rc(-(e), _bindfd(dev, i))
#define do_attach(dev, ioas) assert_rc(0, _attach(dev, ioas))
#define err_attach(e, dev, ioas) assert_rc(-(e), _attach(dev, ioas))
#define do_detach(dev) assert_rc(0, _detach(dev))
#define err_detach(e, dev) assert_rc(-(e), _detach(dev))
#define err_assign(e, dev, c) assert_rc(-(e), _assign(dev, c))
#define do_vmm_release(dev, c) assert_rc(0, _vmm_release(dev, c))
#define err_vmm_release(e, dev, c) assert_rc(-(e), _vmm_release(dev, c))

/* Nothing of VFIO or iommufd is left open. */
static void assert_all_closed(void)
{
	struct vfio_group *vg;
	struct vfio_device *vd;

	assert_true(list_empty(&self->m->vfio_containers));
	assert_true(list_empty(&self->m->iommufds));
	list_for_each_entry(vg, &self->m->vfio_groups, node)
		assert_false(vg->opened);
	list_for_each_entry(vd, &self->m->vfio_devices, node)
		assert_true(list_empty(&vd->files));
	assert_int_equal(machine_open_fds(self->m), 0);
}

/* ---- clones: the same steps on a copy give the same state ---- */

static void assert_machines_equal(const struct machine *a,
				  const struct machine *b)
{
	char *sa = machine_serialize(a, NULL), *sb = machine_serialize(b, NULL);

	assert_non_null(sa);
	assert_non_null(sb);
	assert_string_equal(sa, sb);
	assert_true(machine_equal(a, b));
	assert_true(machine_hash(a) == machine_hash(b));
	free(sa);
	free(sb);
	assert_int_equal(machine_log_count(a), machine_log_count(b));
	for (size_t i = 0; i < machine_log_count(a); i++)
		assert_string_equal(machine_log_entry(a, i)->text,
				    machine_log_entry(b, i)->text);
	assert_int_equal(machine_warn_count(a), machine_warn_count(b));
}

/*
 * Clone the machine now, check the copy equals it, run @tail on the
 * original and then on the copy (the helpers work on self->m), and check
 * both ended in the same state, each passing the invariants.
 */
static void twin(void (*tail)(void))
{
	struct machine *orig = self->m, *copy = machine_clone(orig);
	size_t warns = self->warns;

	assert_non_null(copy);
	assert_machines_equal(orig, copy);
	check_machine(copy, warns, __FILE__, __LINE__);

	tail();
	check_invariants();

	self->m = copy;
	self->warns = warns;
	tail();
	check_invariants();
	self->m = orig;

	assert_machines_equal(orig, copy);
	machine_destroy(copy);
}

/* ---- building machines ---- */

static struct device *alloc_pci(const char *name, const char *parent,
				unsigned int vendor, unsigned int device,
				unsigned int class, unsigned int hdr_type,
				unsigned int pcie_type, unsigned int key)
{
	struct device *dev;

	dev = device_alloc(self->m, name, parent ? dev_(parent) : NULL);
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_PCI));
	if (iommu_())
		assert_rc(0, device_set_fw_iommu(dev, iommu_(), key));
	device_set_pci_ids(dev, vendor, device, vendor, 0x0001, class);
	device_set_pci_type(dev, hdr_type, pcie_type);
	return dev;
}

static struct device *alloc_ep(const char *name, const char *parent,
			       unsigned int vendor, unsigned int device,
			       unsigned int class, unsigned int key)
{
	return alloc_pci(name, parent, vendor, device, class,
			 PCI_HEADER_TYPE_NORMAL, PCI_EXP_TYPE_ENDPOINT, key);
}

static void add_ep(const char *name, const char *parent, unsigned int vendor,
		   unsigned int device, unsigned int class, unsigned int key)
{
	assert_rc(0, device_add(alloc_ep(name, parent, vendor, device, class,
					 key)));
}

static void hotplug_ep(const char *name, const char *parent,
		       unsigned int vendor, unsigned int device,
		       unsigned int class, unsigned int key)
{
	assert_rc(0, device_hotplug_add(alloc_ep(name, parent, vendor, device,
						 class, key)));
}

static void add_port(const char *name, const char *parent,
		     unsigned int pcie_type, unsigned int key)
{
	assert_rc(0, device_add(alloc_pci(name, parent, 0x8086, 0x1901,
					  0x060400, PCI_HEADER_TYPE_BRIDGE,
					  pcie_type, key)));
}

#define add_gpu() add_ep(GPU, RP, 0x10de, 0x1b80, 0x030000, GPU_KEY)
#define add_audio() add_ep(AUDIO, RP, 0x10de, 0x10f0, 0x040300, GPU_KEY)
#define add_gusb() add_ep(GUSB, RP, 0x10de, 0x1ada, 0x0c0330, GPU_KEY)
#define add_nvme() add_ep(NVME, NULL, 0x144d, 0xa808, 0x010802, 0)
#define add_nic() add_ep(NIC, NULL, 0x8086, 0x10d3, 0x020000, 0)

/*
 * A machine of the variant's firmware with one IOMMU that can block, and
 * pcieport loaded (unless the variant has no IOMMU API or no IOMMU: then
 * no IOMMU).
 */
static int setup(void **state)
{
	const struct variant *v = *state;
	struct machine_config cfg = {
		.iommu_api = !v->no_iommu_api,
		.firmware = v->fw,
	};
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->v = v;
	f->m = machine_create(v->name, &cfg);
	if (!f->m) {
		free(f);
		return -1;
	}
	self = f;
	*state = f;
	if (!v->no_iommu_api && !v->no_iommu_hw) {
		struct iommu_device *iommu;

		iommu = iommu_device_alloc(f->m, IOMMU,
					   IOMMU_DOMAIN_BLOCKED |
						   IOMMU_DOMAIN_IDENTITY |
						   IOMMU_DOMAIN_DMA_FQ);
		if (IS_ERR_OR_NULL(iommu) || iommu_device_register(iommu))
			return -1;
	}
	return driver_load(f->m, "pcieport") ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f) {
		machine_destroy(f->m);
		free(f);
	}
	self = NULL;
	return 0;
}

/*
 * S3's desktop at boot: a host bridge (no driver), the root port 00:01.0
 * (pcieport) with the GPU and its HDMI audio behind it, all three in one
 * group (no ACS); an NVMe and a NIC of their own. Then the host drivers
 * and vfio-pci load. On x86 the host bridge takes group 0, so the GPU's
 * group is 1, as in the report.
 */
static void boot_desktop(void)
{
	assert_rc(0, device_add(alloc_pci(HB, NULL, 0x8086, 0x3e0f, 0x060000,
					  PCI_HEADER_TYPE_NORMAL,
					  PCI_EXP_TYPE_RC_END, 0)));
	add_port(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, GPU_KEY);
	add_gpu();
	add_audio();
	add_nvme();
	add_nic();
	do_load("nouveau");
	do_load("snd_hda_intel");
	do_load("nvme");
	do_load("e1000e");
	do_load("vfio-pci");
	assert_bound(RP, "pcieport");
	assert_bound(GPU, "nouveau");
	assert_bound(AUDIO, "snd_hda_intel");
	assert_bound(NVME, "nvme");
	assert_bound(NIC, "e1000e");
	assert_bound(HB, NULL);
	assert_ptr_equal(grp(GPU), grp(RP));
	assert_ptr_equal(grp(AUDIO), grp(RP));
	assert_int_equal(list_count_nodes(&grp(GPU)->devices), 3);
	assert_kernel_owned(GPU, 2);
	assert_kernel_owned(NVME, 1);
	if (is_x86())
		assert_int_equal(gid(GPU), 1);
	check_invariants();
}

/*
 * The same, with both GPU functions taken by "modprobe vfio-pci
 * ids=10de:1b80,10de:10f0" before the host drivers load (S3's variant).
 */
static void boot_desktop_vfio(void)
{
	assert_rc(0, driver_load_params(self->m, "vfio-pci",
					"ids=10de:1b80,10de:10f0"));
	add_port(RP, NULL, PCI_EXP_TYPE_ROOT_PORT, GPU_KEY);
	add_gpu();
	add_audio();
	do_load("nouveau");
	do_load("snd_hda_intel");
	assert_bound(GPU, "vfio-pci");
	assert_bound(AUDIO, "vfio-pci");
	assert_ptr_equal(grp(GPU), grp(AUDIO));
	assert_kernel_owned(GPU, 0);
	assert_true(vfio_group_exists(self->m, gid(GPU)));
	check_invariants();
}

/* ---- S3: GPU and HDMI audio in one group ---- */

static void gpu_audio_viability(void **state)
{
	char want[MSG_MAX];
	int g, c;

	(void)state;
	boot_desktop();
	g = gid(GPU);

	/* no vfio device in the group yet: no /dev/vfio/N */
	assert_false(vfio_group_exists(self->m, g));
	err_gopen(ENOENT, g);

	/* the GPU moves to vfio-pci; snd_hda_intel still holds the audio */
	to_vfio(GPU);
	assert_true(vfio_group_exists(self->m, g));
	assert_kernel_owned(GPU, 1);
	do_gopen(g);
	assert_int_equal(do_status(g), 0);	/* not VIABLE */
	c = do_copen();
	err_set_iommu(EINVAL, c, VFIO_TYPE1v2_IOMMU);	/* no group set */
	err_setc(EPERM, g, c);
	assert_int_equal(vfio_group_container(self->m, g), -1);
	err_getfd(EINVAL, g, GPU);
	assert_kernel_owned(GPU, 1);
	do_cclose(c);
	do_gclose(g);

	/* QEMU gives up before SET_CONTAINER, closing what it opened */
	err_assign(EPERM, GPU, &c);
	snprintf(want, sizeof(want),
		 "vfio %s: group %d is not viable\n"
		 "Please ensure all devices within the iommu_group are bound to their vfio bus driver.",
		 GPU, g);
	assert_string_equal(self->msg, want);
	assert_int_equal(c, -1);
	assert_all_closed();
	assert_kernel_owned(GPU, 1);
	check_invariants();

	/* the audio function follows: VIABLE, and the claim succeeds */
	to_vfio(AUDIO);
	assert_kernel_owned(GPU, 0);
	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	do_gclose(g);
	c = do_assign(GPU);
	assert_int_equal(vfio_group_container(self->m, g), c);
	assert_owner(GPU, vgroup(GPU));
	assert_cnt(GPU, 1);
	assert_on_user_domain(GPU);
	assert_on_user_domain(AUDIO);
	assert_on_user_domain(RP);
	assert_bound(RP, "pcieport");	/* driver_managed_dma: no block */
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE |
					       VFIO_GROUP_FLAGS_CONTAINER_SET);
	check_invariants();

	do_vmm_release(GPU, c);
	assert_all_closed();
	assert_kernel_owned(GPU, 0);
	assert_kernel_owned(RP, 0);
	check_invariants();
}

/* ---- S4: a kernel driver binds into a group userspace owns ---- */

static void s4_tail(void)
{
	/* the VMM lets go: the same bind succeeds */
	do_vmm_release(GPU, -1);
	assert_all_closed();
	assert_kernel_owned(GPU, 0);
	do_bind("snd_hda_intel", AUDIO);
	assert_kernel_owned(AUDIO, 1);
	/* the GPU back to nouveau too */
	to_host(GPU, "nouveau");
	assert_kernel_owned(GPU, 2);
	assert_false(vfio_group_exists(self->m, gid(GPU)));
}

static void kernel_bind_into_owned_group(void **state)
{
	char *before, *after;
	int g;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	do_assign(GPU);
	assert_owner(GPU, vgroup(GPU));

	/* the audio function leaves vfio-pci; the GPU keeps the group */
	do_override(AUDIO, "\n");
	assert_null(driver_override_show(dev_(AUDIO)));
	do_unbind("vfio-pci", AUDIO);
	assert_bound(AUDIO, NULL);
	assert_null(vdev_(AUDIO));
	assert_true(vfio_group_exists(self->m, g));
	assert_owner(GPU, vgroup(GPU));
	assert_cnt(GPU, 1);
	assert_true(vdev_(GPU)->open_count && !vdev_(GPU)->ictx);
	assert_on_user_domain(AUDIO);	/* still translated by the user's */
	assert_no_log("Relaying device request");	/* it was not open */
	check_invariants();

	/* vfio-pci's ids= would take it back at the next drivers_probe */
	assert_rc(0, remove_id_store(drv_("vfio-pci"), "10de 10f0"));

	/* write error: Device or resource busy; nothing moves, no crash */
	before = machine_serialize(self->m, NULL);
	assert_non_null(before);
	err_bind(EBUSY, "snd_hda_intel", AUDIO);
	err_probe(EINVAL, AUDIO);	/* the only match failed with -EBUSY */
	after = machine_serialize(self->m, NULL);
	assert_non_null(after);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_bound(AUDIO, NULL);
	assert_false(dev_(AUDIO)->dma_use.active);
	assert_cnt(GPU, 1);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE |
					       VFIO_GROUP_FLAGS_CONTAINER_SET);
	check_invariants();

	twin(s4_tail);
	check_invariants();
}

/* ---- S5, S12: driver_managed_dma members do not block ---- */

#define SW_RP "0000:00:02.1"
#define SW_UP "0000:03:00.0"
#define SW_DOWN "0000:04:00.0"
#define SW_EP "0000:05:00.0"
#define SW_STUB "0000:05:00.1"
#define SW_HOT "0000:05:00.2"
#define SW_KEY 15

static void managed_dma_members(void **state)
{
	int c, g;

	(void)state;
	do_load("xhci_pci");
	do_load("pci-stub");
	/* S5: pci-stub takes every free 82574L, before e1000e loads */
	assert_rc(0, new_id_store(drv_("pci-stub"), "8086 10d3\n"));
	do_load("e1000e");
	do_load("vfio-pci");

	/* S12: AMD chipset switch; downstream port + endpoint in group 15 */
	add_port(SW_RP, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_port(SW_UP, SW_RP, PCI_EXP_TYPE_UPSTREAM, 0);
	add_port(SW_DOWN, SW_UP, PCI_EXP_TYPE_DOWNSTREAM, SW_KEY);
	add_ep(SW_EP, SW_DOWN, 0x1b21, 0x2142, 0x0c0330, SW_KEY);
	add_ep(SW_STUB, SW_DOWN, 0x8086, 0x10d3, 0x020000, SW_KEY);
	assert_bound(SW_DOWN, "pcieport");
	assert_bound(SW_EP, "xhci_hcd");
	assert_bound(SW_STUB, "pci-stub");
	assert_log("pci-stub " SW_STUB ": claimed by stub");
	assert_ptr_equal(grp(SW_EP), grp(SW_DOWN));
	assert_ptr_equal(grp(SW_STUB), grp(SW_DOWN));
	assert_ptr_not_equal(grp(SW_UP), grp(SW_DOWN));
	assert_kernel_owned(SW_EP, 1);	/* xhci_hcd only */
	g = gid(SW_EP);

	to_vfio(SW_EP);
	assert_kernel_owned(SW_EP, 0);
	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	do_gclose(g);
	c = do_assign(SW_EP);
	assert_bound(SW_DOWN, "pcieport");
	assert_bound(SW_STUB, "pci-stub");
	assert_owner(SW_EP, vgroup(SW_EP));
	assert_on_user_domain(SW_DOWN);
	assert_on_user_domain(SW_STUB);
	check_invariants();

	/* S5: the admin can still bind pci-stub to a hot-added device */
	hotplug_ep(SW_HOT, SW_DOWN, 0x8086, 0x10d3, 0x020000, SW_KEY);
	assert_bound(SW_HOT, "pci-stub");
	assert_ptr_equal(grp(SW_HOT), grp(SW_EP));
	assert_on_user_domain(SW_HOT);
	assert_cnt(SW_EP, 1);
	/* ... but not e1000e: unbind the stub, bind the DMA-API driver */
	do_unbind("pci-stub", SW_HOT);
	err_bind(EBUSY, "e1000e", SW_HOT);
	assert_bound(SW_HOT, NULL);
	do_bind("pci-stub", SW_HOT);
	check_invariants();

	do_vmm_release(SW_EP, c);
	assert_kernel_owned(SW_EP, 0);
	do_unbind("pci-stub", SW_HOT);
	do_bind("e1000e", SW_HOT);
	assert_kernel_owned(SW_HOT, 1);
	check_invariants();
}

/* ---- hot-add into an owned group ---- */

#define GUSB2 "0000:01:00.3"

/*
 * x86: the newcomer joins the group at add; IORT/DT: inside the
 * dma_configure of xhci_hcd's probe at add. Either way it is attached to
 * the group's current domain (blocking, then the user's), owner_cnt does
 * not move and the kernel driver is refused with -EBUSY.
 */
static void hotplug_into_owned_group(void **state)
{
	char needle[128];
	int g, c;

	(void)state;
	do_load("xhci_pci");
	boot_desktop_vfio();
	g = gid(GPU);

	/* claimed, no IOMMU set yet: the blocking domain */
	do_gopen(g);
	c = do_copen();
	do_setc(g, c);
	assert_owner(GPU, vgroup(GPU));
	assert_on_blocking(GPU);
	assert_on_blocking(AUDIO);

	hotplug_ep(GUSB, RP, 0x10de, 0x1ada, 0x0c0330, GPU_KEY);
	assert_ptr_equal(grp(GUSB), grp(GPU));
	snprintf(needle, sizeof(needle), "%s: Adding to iommu group %d", GUSB,
		 g);
	assert_log(needle);
	assert_on_blocking(GUSB);
	assert_bound(GUSB, NULL);
	assert_false(dev_(GUSB)->dma_use.active);
	assert_owner(GPU, vgroup(GPU));
	assert_cnt(GPU, 1);
	err_bind(EBUSY, "xhci_hcd", GUSB);
	err_probe(EINVAL, GUSB);
	assert_bound(GUSB, NULL);
	assert_null(vdev_(GUSB));
	check_invariants();

	/* SET_IOMMU moves every member, the newcomer too */
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	assert_on_user_domain(GUSB);
	assert_on_user_domain(GPU);
	do_getfd(g, GPU);

	/* a second newcomer joins the user's domain directly */
	hotplug_ep(GUSB2, RP, 0x10de, 0x1ad8, 0x0c0330, GPU_KEY);
	assert_ptr_equal(grp(GUSB2), grp(GPU));
	assert_on_user_domain(GUSB2);
	assert_bound(GUSB2, NULL);
	assert_cnt(GPU, 1);
	err_bind(EBUSY, "xhci_hcd", GUSB2);
	/* vfio-pci may take it: it joins the vfio group the VMM holds */
	do_override(GUSB2, "vfio-pci");
	do_probe(GUSB2);
	assert_bound(GUSB2, "vfio-pci");
	assert_ptr_equal(vdev_(GUSB2)->group, vgroup(GPU));
	do_getfd(g, GUSB2);
	assert_cnt(GPU, 1);
	check_invariants();
	do_dclose(GUSB2);
	do_override(GUSB2, "\n");
	do_unbind("vfio-pci", GUSB2);
	check_invariants();

	/* the VMM lets go: the newcomers get their driver */
	do_vmm_release(GPU, c);
	assert_all_closed();
	assert_kernel_owned(GUSB, 0);
	assert_kernel_owned(GUSB2, 0);
	do_probe(GUSB);
	assert_bound(GUSB, "xhci_hcd");
	do_bind("xhci_hcd", GUSB2);
	assert_kernel_owned(GPU, 2);
	/* and the group is no longer viable for VFIO */
	do_gopen(g);
	assert_int_equal(do_status(g), 0);
	do_gclose(g);
	check_invariants();
}

/* ---- S8: iommufd, two functions of one group, one VMM ---- */

static int tail_ictx;
static unsigned int tail_ioas2;

static void iommufd_tail(void)
{
	int g = gid(GPU);

	do_detach(GPU);
	assert_on_user_domain(GPU);	/* the audio function is attached */
	err_detach(EINVAL, GPU);
	do_detach(AUDIO);
	assert_on_blocking(GPU);	/* bound, not attached */
	assert_on_blocking(AUDIO);
	assert_owner(GPU, ictx_(tail_ictx));
	assert_cnt(GPU, 2);
	assert_true(list_empty(&ictx_(tail_ictx)->hwpts));

	/* any IOAS is fine again once nobody is attached */
	do_attach(AUDIO, tail_ioas2);
	assert_on_user_domain(GPU);
	do_dclose(GPU);
	err_dclose(EBADF, GPU);
	assert_owner(GPU, ictx_(tail_ictx));
	assert_cnt(GPU, 1);
	assert_on_user_domain(GPU);

	/* the last close: detach, then the group goes back to the kernel */
	do_dclose(AUDIO);
	assert_kernel_owned(GPU, 0);
	assert_kernel_owned(AUDIO, 0);
	assert_kernel_owned(RP, 0);
	do_dclose(GUSB);	/* cdev-open, never bound */
	do_iclose(tail_ictx);
	err_iclose(EBADF, tail_ictx);
	assert_all_closed();

	/* the group file can be opened again, and is viable */
	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	do_gclose(g);
	/* a kernel driver can bind again */
	to_host(AUDIO, "snd_hda_intel");
	assert_kernel_owned(AUDIO, 1);
}

/*
 * Kernel versions (docs/architecture.md, "Kernel versions"). 6.1 has no
 * drivers/iommu/iommufd/ (merged in 6.2: iommufd_fops_open() and the
 * /dev/iommu misc device do not exist) and no drivers/vfio/device_cdev.c
 * (6.6: vfio_device_fops_cdev_open() and /dev/vfio/devices/vfioN do not
 * exist): open(2) of either node fails with ENOENT, while the group path
 * (vfio_group_fops_open(), the same in 6.1 and 6.12) works. 6.12, like
 * v6.6, has both.
 */
static void kernel_versions_nodes(void **state)
{
	int a = -1, g, c;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	assert_int_equal(machine_kernel(self->m), MACHINE_KERNEL_6_6);

	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	assert_rc(-ENOENT, _iopen(&a));		/* no /dev/iommu before 6.2 */
	err_cdev(ENOENT, GPU);			/* no vfio cdev before 6.6 */
	err_cdev(ENOENT, RP);			/* ENOENT before any device check */
	do_gopen(g);				/* the group file is there */
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_getfd(g, GPU);
	do_dclose(GPU);
	do_unsetc(g);
	do_cclose(c);
	do_gclose(g);
	assert_all_closed();

	machine_set_kernel(self->m, MACHINE_KERNEL_6_12);
	a = do_iopen();
	do_cdev(GPU);
	do_bindfd(GPU, a);
	do_dclose(GPU);
	do_iclose(a);

	machine_set_kernel(self->m, MACHINE_KERNEL_6_6);
	do_cdev(GPU);
	do_dclose(GPU);
	assert_all_closed();
	check_no_new_warn(__FILE__, __LINE__);
}

/*
 * vfio_group_ioctl_set_container() with a descriptor that is not a
 * container: 6.1 returns -EINVAL; 6.2 added iommufd's compatibility
 * container there and made any other file -EBADFD (v6.6, 6.12).
 */
static void kernel_versions_set_container(void **state)
{
	struct process *a;
	int g, gf, cf;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	a = machine_process(self->m, "qemu-a");
	gf = vfio_group_fd_open(a, g);
	cf = vfio_container_fd_open(a);
	assert_true(gf >= 0 && cf >= 0);

	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	assert_rc(-EBADF, vfio_ioctl_group_set_container(a, gf, 9));
	assert_rc(-EINVAL, vfio_ioctl_group_set_container(a, gf, gf));
	machine_set_kernel(self->m, MACHINE_KERNEL_6_12);
	assert_rc(-EBADFD, vfio_ioctl_group_set_container(a, gf, gf));
	machine_set_kernel(self->m, MACHINE_KERNEL_6_6);
	assert_rc(-EBADFD, vfio_ioctl_group_set_container(a, gf, gf));

	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	assert_rc(0, vfio_ioctl_group_set_container(a, gf, cf));
	assert_rc(0, process_close(a, gf));
	assert_rc(0, process_close(a, cf));
}

static void iommufd_shared_ownership(void **state)
{
	struct iommu_domain *domain;
	unsigned int ioas1, ioas2;
	int a, b, g, c;

	(void)state;
	boot_desktop_vfio();
	add_gusb();
	to_vfio(GUSB);
	g = gid(GPU);
	a = do_iopen();
	b = do_iopen();
	assert_int_not_equal(a, b);

	err_bindfd(EBADF, GPU, a);		/* not cdev-open */
	err_cdev(ENODEV, RP);			/* not a vfio device */
	err_cdev(ENODEV, "0000:99:00.0");
	do_cdev(GPU);
	/* vfio_device_fops_cdev_open(): a cdev opens any number of times */
	do_cdev(GPU);
	do_dclose(GPU);				/* the newest file */
	err_bindfd(EBADF, GPU, 42);		/* no such iommufd */
	err_attach(EINVAL, GPU, 1);		/* not bound */
	do_bindfd(GPU, a);
	err_bindfd(EINVAL, GPU, a);		/* bound already */
	err_bindfd(EINVAL, GPU, b);
	assert_owner(GPU, ictx_(a));
	assert_cnt(GPU, 1);
	assert_on_blocking(GPU);
	assert_on_blocking(AUDIO);
	assert_on_blocking(RP);

	/* cdev and group access are exclusive */
	err_gopen(EBUSY, g);
	err_assign(EBUSY, AUDIO, &c);

	/* the audio function shares the ownership */
	do_cdev(AUDIO);
	do_bindfd(AUDIO, a);
	assert_owner(GPU, ictx_(a));
	assert_cnt(GPU, 2);

	/* another VMM's iommufd on the same group: EPERM */
	do_cdev(GUSB);
	err_bindfd(EPERM, GUSB, b);
	assert_null(vdev_(GUSB)->ictx);
	assert_int_equal(ictx_(b)->bound, 0);
	assert_cnt(GPU, 2);
	/*
	 * A legacy container cannot get at the group: the group file cannot
	 * even be opened (above). The claim SET_CONTAINER would make is
	 * refused as well.
	 */
	assert_rc(-EPERM, iommu_group_claim_dma_owner(grp(GPU), vgroup(GPU)));
	assert_owner(GPU, ictx_(a));
	do_iclose(b);
	check_invariants();

	/* IOAS: one user domain for the group */
	ioas1 = do_ioas(a);
	ioas2 = do_ioas(a);
	err_attach(EINVAL, GPU, 0);
	err_attach(EINVAL, GPU, 99);		/* no such IOAS */
	err_attach(EINVAL, GUSB, ioas1);	/* not bound */
	do_attach(GPU, ioas1);
	assert_on_user_domain(GPU);
	assert_on_user_domain(AUDIO);		/* the whole group moves */
	assert_on_user_domain(RP);
	assert_on_user_domain(GUSB);
	/*
	 * Attached already: vfio_iommufd_physical_attach_ioas() (v6.6)
	 * replaces the page table (iommufd_device_replace()); the same IOAS
	 * changes nothing
	 */
	domain = grp(GPU)->domain;
	do_attach(GPU, ioas1);
	assert_ptr_equal(grp(GPU)->domain, domain);
	/* not attached: a first attach to another IOAS than the group's */
	err_attach(EINVAL, AUDIO, ioas2);
	assert_on_user_domain(GPU);
	do_attach(AUDIO, ioas1);
	assert_ptr_equal(vdev_(AUDIO)->hwpt, vdev_(GPU)->hwpt);
	assert_int_equal(vdev_(GPU)->hwpt->users, 2);
	check_invariants();

	/* a replace moves the whole group, its attached devices with it */
	do_attach(GPU, ioas2);
	assert_ptr_not_equal(grp(GPU)->domain, domain);
	assert_on_user_domain(GPU);
	assert_on_user_domain(AUDIO);
	assert_on_user_domain(RP);
	assert_ptr_equal(vdev_(AUDIO)->hwpt, vdev_(GPU)->hwpt);
	assert_int_equal(vdev_(GPU)->hwpt->ioas, ioas2);
	assert_int_equal(vdev_(GPU)->hwpt->users, 2);
	assert_int_equal(list_count_nodes(&ictx_(a)->hwpts), 1);
	check_invariants();
	/* one that fails leaves the group on its page table */
	domain = grp(GPU)->domain;
	iommu_device_set_attach_error(iommu_(), EIO);
	err_attach(EIO, AUDIO, ioas1);
	iommu_device_set_attach_error(iommu_(), 0);
	assert_ptr_equal(grp(GPU)->domain, domain);
	assert_int_equal(vdev_(GPU)->hwpt->ioas, ioas2);
	assert_on_user_domain(AUDIO);
	check_invariants();
	/* and back, through the other device */
	do_attach(AUDIO, ioas1);
	assert_int_equal(vdev_(GPU)->hwpt->ioas, ioas1);
	assert_int_equal(vdev_(GPU)->hwpt->users, 2);
	check_invariants();

	tail_ictx = a;
	tail_ioas2 = ioas2;
	twin(iommufd_tail);
	check_invariants();
}

/*
 * The other way round: a container holds the group. v6.6's
 * vfio_device_fops_cdev_open() checks nothing, so the cdev opens; the
 * bind stops in vfio_device_block_group(), before the iommufd is even
 * looked up (vfio_df_ioctl_bind_iommufd()).
 */
static void container_excludes_cdev(void **state)
{
	int g, c, a;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	a = do_iopen();
	do_gopen(g);
	do_cdev(GPU);			/* vfio_device_fops_cdev_open() */
	err_bindfd(EBUSY, GPU, a);	/* vfio_device_block_group() */
	err_bindfd(EBUSY, GPU, 42);	/* before the iommufd lookup */
	assert_int_equal(vgroup(GPU)->cdev_device_open_cnt, 0);
	do_dclose(GPU);
	c = do_copen();
	do_setc(g, c);
	do_cdev(GPU);
	do_cdev(AUDIO);
	err_bindfd(EBUSY, GPU, a);
	err_bindfd(EBUSY, AUDIO, a);
	assert_null(vdev_(GPU)->ictx);
	/* the claim the iommufd bind would make is refused as well */
	assert_rc(-EPERM, iommu_device_claim_dma_owner(dev_(GPU), ictx_(a)));
	assert_owner(GPU, vgroup(GPU));
	assert_cnt(GPU, 1);
	check_invariants();

	/* the group file's release lets the open cdevs bind */
	do_gclose(g);
	do_cclose(c);
	assert_kernel_owned(GPU, 0);
	do_bindfd(GPU, a);
	assert_owner(GPU, ictx_(a));
	do_dclose(GPU);
	do_dclose(AUDIO);
	do_iclose(a);
	assert_all_closed();
	assert_kernel_owned(GPU, 0);
	check_invariants();
}

/*
 * What keeps the group file closed (v6.6): only a bound cdev.
 * vfio_device_block_group() counts each bind in cdev_device_open_cnt and
 * vfio_df_unbind_iommufd() (the cdev's release) drops it;
 * vfio_group_fops_open() is -EBUSY while it is non-zero. A group file held
 * by a device file opened through it still stops the bind, and a device
 * file from VFIO_GROUP_GET_DEVICE_FD cannot bind (-EINVAL).
 */
static void cdev_blocks_group_file(void **state)
{
	int g, c, a;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	a = do_iopen();

	/* an open cdev that is not bound blocks nothing */
	do_cdev(GPU);
	do_gopen(g);			/* vfio_group_fops_open() */
	err_bindfd(EBUSY, GPU, a);	/* vfio_device_block_group() */
	do_gclose(g);

	/* a bound cdev keeps the group file closed */
	do_bindfd(GPU, a);
	assert_int_equal(vgroup(GPU)->cdev_device_open_cnt, 1);
	err_gopen(EBUSY, g);		/* vfio_group_fops_open() */
	err_bindfd(EINVAL, GPU, a);	/* bound already, count unchanged */
	assert_int_equal(vgroup(GPU)->cdev_device_open_cnt, 1);
	do_cdev(AUDIO);
	do_bindfd(AUDIO, a);
	assert_int_equal(vgroup(GPU)->cdev_device_open_cnt, 2);
	do_dclose(GPU);			/* vfio_df_unbind_iommufd() */
	err_gopen(EBUSY, g);		/* the audio function's bind */
	do_dclose(AUDIO);
	assert_int_equal(vgroup(GPU)->cdev_device_open_cnt, 0);
	check_invariants();

	/* a failed bind gives its count back */
	do_cdev(GPU);
	err_bindfd(EBADF, GPU, 42);	/* iommufd_ctx_from_fd() */
	assert_int_equal(vgroup(GPU)->cdev_device_open_cnt, 0);
	do_gopen(g);
	do_dclose(GPU);

	/* the group path: its device files hold the group file */
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_getfd(g, GPU);
	err_bindfd(EINVAL, GPU, a);	/* vfio_df_ioctl_bind_iommufd(): not a cdev */
	do_cdev(AUDIO);
	err_bindfd(EBUSY, AUDIO, a);
	do_gclose(g);			/* still held by the GPU's file */
	err_bindfd(EBUSY, AUDIO, a);
	do_dclose(GPU);			/* vfio_group_fops_release() */
	do_cclose(c);
	do_bindfd(AUDIO, a);
	assert_owner(AUDIO, ictx_(a));
	err_gopen(EBUSY, g);
	do_dclose(AUDIO);
	do_iclose(a);
	assert_all_closed();
	assert_kernel_owned(GPU, 0);
	check_invariants();
}

/* MSI isolation, and a kernel driver on a sibling function. */
static void iommufd_bind_refusals(void **state)
{
	int a;

	(void)state;
	boot_desktop();
	to_vfio(GPU);			/* snd_hda_intel keeps the audio */
	a = do_iopen();
	do_cdev(GPU);
	err_bindfd(EPERM, GPU, a);	/* a kernel driver in the group */
	assert_kernel_owned(GPU, 1);
	assert_null(vdev_(GPU)->ictx);

	to_vfio(AUDIO);
	iommu_device_set_msi_isolated(iommu_(), false);
	err_bindfd(EPERM, GPU, a);	/* MSIs not isolated */
	assert_kernel_owned(GPU, 0);
	assert_no_log("MSI interrupts are not secure");

	iommufd_set_allow_unsafe_interrupts(self->m, true);
	do_bindfd(GPU, a);
	assert_log("vfio-pci " GPU ": MSI interrupts are not secure");
	assert_owner(GPU, ictx_(a));
	assert_cnt(GPU, 1);
	assert_on_blocking(GPU);
	check_invariants();

	do_dclose(GPU);
	do_iclose(a);
	assert_all_closed();
	assert_kernel_owned(GPU, 0);
	check_invariants();
}

/* ---- S11: /dev/vfio/N comes and goes; one opener at a time ---- */

static void group_node_lifecycle(void **state)
{
	unsigned int flags;
	int g;

	(void)state;
	boot_desktop();
	g = gid(GPU);
	assert_false(vfio_group_exists(self->m, g));
	err_gopen(ENOENT, g);
	err_gclose(EBADF, g);
	err_status(EBADF, g, &flags);
	err_gopen(ENOENT, 4000);

	to_vfio(GPU);
	assert_true(vfio_group_exists(self->m, g));
	to_vfio(AUDIO);
	assert_true(vfio_group_exists(self->m, g));
	do_gopen(g);
	err_gopen(EBUSY, g);	/* one opener at a time */
	do_gclose(g);
	err_gclose(EBADF, g);
	do_gopen(g);
	do_gclose(g);

	/* the node stays while one vfio device of the group remains */
	to_host(GPU, "nouveau");
	assert_true(vfio_group_exists(self->m, g));
	do_gopen(g);
	assert_int_equal(do_status(g), 0);	/* nouveau: not viable */
	do_gclose(g);
	to_host(AUDIO, "snd_hda_intel");
	assert_false(vfio_group_exists(self->m, g));
	err_gopen(ENOENT, g);
	assert_true(list_empty(&self->m->vfio_groups));
	assert_true(list_empty(&self->m->vfio_devices));

	/* vfio-pci refuses bridges (-EINVAL): no node for the root port */
	do_override(RP, "vfio-pci");
	do_unbind("pcieport", RP);
	err_bind(EINVAL, "vfio-pci", RP);
	assert_log("vfio-pci: probe of " RP " failed with error -22");
	assert_bound(RP, NULL);
	assert_false(vfio_group_exists(self->m, g));
	do_override(RP, "\n");
	do_bind("pcieport", RP);
	assert_kernel_owned(GPU, 2);
	check_invariants();
}

/* ---- the legacy ioctls' errnos ---- */

static int tail_gn, tail_gx, tail_c;

static void legacy_tail(void)
{
	int gn = tail_gn, gx = tail_gx, c = tail_c;

	/* two device files of NVME: the second close lets the group go */
	do_dclose(NVME);
	err_unsetc(EBUSY, gn);
	do_dclose(NVME);
	err_dclose(EBADF, NVME);
	/* UNSET_CONTAINER releases ownership: the default domain is back */
	do_unsetc(gn);
	assert_kernel_owned(NVME, 0);
	err_unsetc(EINVAL, gn);
	assert_int_equal(vfio_group_container(self->m, gn), -1);
	/* the container keeps its IOMMU while a group remains */
	assert_int_equal(vfio_group_container(self->m, gx), c);
	do_setc(gn, c);
	assert_on_user_domain(NVME);
	do_getfd(gn, NVME);
	do_dclose(NVME);
	/* closing the group file detaches and releases */
	do_gclose(gn);
	assert_kernel_owned(NVME, 0);
	/* the last group out takes the container's IOMMU with it */
	do_unsetc(gx);
	assert_kernel_owned(NIC, 0);
	do_setc(gx, c);
	assert_on_blocking(NIC);
	err_getfd(EINVAL, gx, NIC);	/* SET_IOMMU is needed again */
	do_set_iommu(c, VFIO_TYPE1_IOMMU);
	assert_on_user_domain(NIC);
	do_getfd(gx, NIC);
	do_dclose(NIC);
	/*
	 * vfio_fops_release() (v6.6) drops the file's reference only: the
	 * group keeps the container, its IOMMU and the ownership
	 */
	do_cclose(c);
	err_cclose(EBADF, c);
	assert_owner(NIC, vgroup(NIC));
	assert_on_user_domain(NIC);
	assert_int_equal(vfio_group_container(self->m, gx), -1);
	assert_int_equal(do_status(gx), VFIO_GROUP_FLAGS_VIABLE |
						VFIO_GROUP_FLAGS_CONTAINER_SET);
	do_getfd(gx, NIC);
	do_dclose(NIC);
	/* the last group unset frees the container */
	do_unsetc(gx);
	assert_kernel_owned(NIC, 0);
	assert_true(list_empty(&self->m->vfio_containers));
	assert_int_equal(do_status(gx), VFIO_GROUP_FLAGS_VIABLE);
	do_gclose(gx);
	assert_all_closed();
	/* the kernel drivers bind again */
	to_host(NVME, "nvme");
	to_host(NIC, "e1000e");
	assert_kernel_owned(NVME, 1);
	assert_kernel_owned(NIC, 1);
}

static void legacy_ioctl_errnos(void **state)
{
	int gn, gx, c, c2;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	gn = gid(NVME);
	gx = gid(NIC);
	assert_int_not_equal(gn, gx);

	do_gopen(gn);
	err_getfd(ENODEV, gn, "0000:99:00.0");	/* no such device */
	err_getfd(ENODEV, gn, NIC);		/* another group's */
	err_getfd(ENODEV, gn, GPU);		/* not a vfio device */
	err_getfd(EINVAL, gn, NVME);		/* no container */
	err_getfd(EBADF, gx, NIC);		/* group not open */
	err_unsetc(EINVAL, gn);			/* none set */
	err_setc(EBADF, gn, 7);			/* no such container */
	c = do_copen();
	err_set_iommu(EINVAL, c, VFIO_TYPE1v2_IOMMU);	/* no group */
	err_set_iommu(EBADF, 7, VFIO_TYPE1v2_IOMMU);
	err_setc(EBADF, gx, c);			/* group not open */
	assert_kernel_owned(NVME, 0);

	do_setc(gn, c);
	assert_owner(NVME, vgroup(NVME));
	assert_cnt(NVME, 1);
	assert_on_blocking(NVME);
	assert_int_equal(do_status(gn), VFIO_GROUP_FLAGS_VIABLE |
						VFIO_GROUP_FLAGS_CONTAINER_SET);
	err_setc(EINVAL, gn, c);		/* set already */
	c2 = do_copen();
	err_setc(EINVAL, gn, c2);
	do_cclose(c2);
	err_getfd(EINVAL, gn, NVME);		/* no IOMMU set */
	/*
	 * vfio_ioctl_set_iommu() (v6.6): -ENODEV when no backend takes the
	 * type (type1 takes real groups: not noiommu, nor sPAPR's 2, nor a
	 * number it does not know); -EINVAL from type1's open for
	 * VFIO_UNMAP_ALL (9), an extension it claims; -EINVAL once set
	 */
	err_set_iommu(ENODEV, c, VFIO_NOIOMMU_IOMMU);
	err_set_iommu(ENODEV, c, 2);		/* VFIO_SPAPR_TCE_IOMMU */
	err_set_iommu(ENODEV, c, 42);
	err_set_iommu(EINVAL, c, 9);		/* VFIO_UNMAP_ALL */
	assert_on_blocking(NVME);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	assert_on_user_domain(NVME);
	err_set_iommu(EINVAL, c, VFIO_TYPE1v2_IOMMU);	/* set already */
	err_set_iommu(EINVAL, c, VFIO_TYPE1_IOMMU);
	err_set_iommu(EINVAL, c, VFIO_NOIOMMU_IOMMU);

	/* a second group in the same container gets its domain at once */
	do_gopen(gx);
	do_setc(gx, c);
	assert_owner(NIC, vgroup(NIC));
	assert_on_user_domain(NIC);
	assert_ptr_not_equal(grp(NIC)->domain, grp(NVME)->domain);

	/*
	 * vfio_device_fops_cdev_open() checks nothing; the bind is -EBUSY
	 * while the group file is open (vfio_device_block_group()), whatever
	 * the iommufd
	 */
	do_cdev(NVME);
	err_bindfd(EBUSY, NVME, 42);
	do_dclose(NVME);
	do_getfd(gn, NVME);
	/* vfio_df_open() (v6.6): the group path opens a device again */
	do_getfd(gn, NVME);
	assert_int_equal(vdev_(NVME)->open_count, 2);
	assert_int_equal(vgroup(NVME)->container_users, 2);
	err_unsetc(EBUSY, gn);			/* a device is open */
	assert_owner(NVME, vgroup(NVME));
	check_invariants();

	tail_gn = gn;
	tail_gx = gx;
	tail_c = c;
	twin(legacy_tail);
	check_invariants();
}

/*
 * The request eventfd (VFIO_DEVICE_SET_IRQS, VFIO_PCI_REQ_IRQ_INDEX:
 * vfio_pci_set_req_trigger(), v6.6) and what vfio_pci_core_request()
 * logs with and without it: a notice on every tenth request (count % 10
 * == 0) with it, one warning (count 0) without. The last close drops it
 * (vfio_pci_core_close_device()).
 */
static void device_request_channel(void **state)
{
	struct vfio_device *vdev;
	size_t logs;
	int g, c, a;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	g = gid(NVME);
	/* only an open device, and a cdev once bound */
	assert_rc(-EBADF, vfio_device_set_req_eventfd(self->m, NVME));
	assert_rc(-EBADF, vfio_device_set_req_eventfd(self->m, "0000:99:00.0"));
	a = do_iopen();
	do_cdev(NVME);
	assert_rc(-EINVAL, vfio_device_set_req_eventfd(self->m, NVME));
	do_bindfd(NVME, a);
	assert_rc(0, vfio_device_set_req_eventfd(self->m, NVME));
	assert_true(vdev_(NVME)->req_trigger);
	do_dclose(NVME);
	do_iclose(a);

	/* the group path: two device files; the last close drops it */
	do_gopen(g);
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_getfd(g, NVME);
	do_getfd(g, NVME);
	vdev = vdev_(NVME);
	assert_false(vdev->req_trigger);
	assert_rc(0, vfio_device_set_req_eventfd(self->m, NVME));
	assert_rc(0, vfio_device_set_req_eventfd(self->m, NVME));
	do_dclose(NVME);
	assert_true(vdev->req_trigger);
	do_dclose(NVME);
	assert_false(vdev->req_trigger);
	do_getfd(g, NVME);

	/* requests 0..25 without, then with the eventfd */
	logs = machine_log_count(self->m);
	mutex_lock(&self->m->vfio_lock);
	for (unsigned int i = 0; i <= 25; i++)
		vfio_pci_core_request(vdev, i);
	mutex_unlock(&self->m->vfio_lock);
	assert_int_equal(machine_log_count(self->m), logs + 1);
	assert_int_equal(machine_log_entry(self->m, logs)->level, 4);
	assert_string_equal(machine_log_entry(self->m, logs)->text,
			    "vfio-pci " NVME ": No device request channel registered, blocked until released by user");
	assert_rc(0, vfio_device_set_req_eventfd(self->m, NVME));
	logs = machine_log_count(self->m);
	mutex_lock(&self->m->vfio_lock);
	for (unsigned int i = 0; i <= 25; i++)
		vfio_pci_core_request(vdev, i);
	mutex_unlock(&self->m->vfio_lock);
	assert_int_equal(machine_log_count(self->m), logs + 3);
	for (unsigned int i = 0; i < 3; i++) {
		const struct klog_entry *e = machine_log_entry(self->m,
							       logs + i);
		char want[128];

		snprintf(want, sizeof(want),
			 "vfio-pci " NVME ": Relaying device request to user (#%u)",
			 i * 10);
		assert_int_equal(e->level, 5);	/* pci_notice_ratelimited() */
		assert_string_equal(e->text, want);
	}

	/* the unbind relays request #0 and waits for the close */
	logs = machine_log_count(self->m);
	do_override(NVME, "\n");
	do_unbind("vfio-pci", NVME);
	assert_int_equal(log_count("Relaying device request to user (#0)"), 2);
	assert_int_equal(log_count("No device request channel"), 1);
	assert_bound(NVME, NULL);
	assert_kernel_owned(NVME, 0);
	do_gclose(g);
	do_cclose(c);
	assert_all_closed();
	check_invariants();
}

/* ---- S13: the admin unbinds vfio-pci under a running VMM ---- */

static void unbind_while_open(void **state)
{
	unsigned int flags, ioas;
	int g, c, a;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	g = gid(NVME);
	c = do_assign(NVME);
	assert_owner(NVME, vgroup(NVME));
	assert_on_user_domain(NVME);

	/*
	 * The VMM registered a request eventfd: the kernel relays the
	 * request (vfio_pci_core_request(), v6.6), userspace lets go
	 */
	assert_true(vdev_(NVME)->req_trigger);
	do_override(NVME, "\n");
	do_unbind("vfio-pci", NVME);
	assert_log("vfio-pci " NVME ": Relaying device request to user (#0)");
	assert_no_log("No device request channel registered");
	assert_bound(NVME, NULL);
	assert_null(vdev_(NVME));
	/* the group's last vfio device: container detached, group given back */
	assert_kernel_owned(NVME, 0);
	assert_false(vfio_group_exists(self->m, g));
	assert_int_equal(vfio_group_container(self->m, g), -1);
	/* the VMM's group file is still open, on a group without devices */
	err_status(ENODEV, g, &flags);
	err_setc(ENODEV, g, c);
	err_getfd(ENODEV, g, NVME);
	err_cdev(ENODEV, NVME);
	check_invariants();

	/* nvme binds at once */
	do_bind("nvme", NVME);
	assert_kernel_owned(NVME, 1);
	/* the VMM's release: its device is gone; it closes the rest */
	do_vmm_release(NVME, c);
	err_gclose(EBADF, g);
	err_cclose(EBADF, c);
	assert_all_closed();
	assert_true(list_empty(&self->m->vfio_groups));
	check_invariants();

	/* the same through the cdev and iommufd */
	to_vfio(NVME);
	a = do_iopen();
	do_cdev(NVME);
	do_bindfd(NVME, a);
	ioas = do_ioas(a);
	do_attach(NVME, ioas);
	assert_owner(NVME, ictx_(a));
	assert_on_user_domain(NVME);
	/* no request eventfd: vfio_pci_core_request() warns, then waits */
	do_override(NVME, "\n");
	do_unbind("vfio-pci", NVME);
	assert_int_equal(log_count("Relaying device request to user (#0)"),
			 1);
	assert_log("vfio-pci " NVME ": No device request channel registered, blocked until released by user");
	assert_kernel_owned(NVME, 0);
	assert_int_equal(ictx_(a)->bound, 0);
	assert_true(list_empty(&ictx_(a)->hwpts));
	do_iclose(a);
	do_bind("nvme", NVME);
	assert_kernel_owned(NVME, 1);
	assert_all_closed();
	check_invariants();
}

/* ---- rmmod of a module vfio holds ---- */

static int tail_mod_c, tail_mod_a;

/* NVME open through a VMM's container, NIC bound through its cdev. */
static void module_refs_tail(void)
{
	struct device_driver *vfio_pci = drv_("vfio-pci");

	/*
	 * try_stop_module(): references held, delete_module(O_NONBLOCK)
	 * fails with -EWOULDBLOCK (EAGAIN) and the module stays, its
	 * devices bound and open
	 */
	assert_int_equal(vfio_pci->module_refs, 2);
	assert_ptr_equal(vdev_(NVME)->module, vfio_pci);
	assert_ptr_equal(vdev_(NIC)->module, vfio_pci);
	assert_rc(-EWOULDBLOCK, driver_delete_module(self->m, "vfio-pci"));
	assert_ptr_equal(drv_("vfio-pci"), vfio_pci);
	assert_bound(NVME, "vfio-pci");
	assert_bound(NIC, "vfio-pci");
	/*
	 * vfio_df_group_close() -> vfio_df_device_last_close() ->
	 * module_put(): NIC of the same driver still holds it, refused
	 */
	do_vmm_release(NVME, tail_mod_c);
	assert_null(vdev_(NVME)->module);
	assert_int_equal(vfio_pci->module_refs, 1);
	assert_rc(-EWOULDBLOCK, driver_delete_module(self->m, "vfio-pci"));
	assert_bound(NIC, "vfio-pci");
	/*
	 * vfio_df_unbind_iommufd() -> vfio_df_device_last_close(): no
	 * reference left, delete_module() unloads (its exit unbinds both)
	 */
	do_dclose(NIC);
	do_iclose(tail_mod_a);
	assert_int_equal(vfio_pci->module_refs, 0);
	assert_rc(0, driver_delete_module(self->m, "vfio-pci"));
	assert_null(machine_find_driver(self->m, "vfio-pci"));
	assert_bound(NVME, NULL);
	assert_bound(NIC, NULL);
	assert_all_closed();
}

/*
 * rmmod of vfio-pci while userspace has its devices open (v6.6): the
 * first open of a device takes a reference on its driver's module
 * (vfio_df_device_first_open(): try_module_get(dev->driver->owner)), the
 * last close puts it (vfio_df_device_last_close(): module_put()), and
 * delete_module() with O_NONBLOCK, as rmmod calls it, refuses a module
 * with references (try_stop_module(): -EWOULDBLOCK). delete_module()
 * reads the count; it does not walk the devices. A clone carries it.
 */
static void module_refs_rmmod(void **state)
{
	struct device_driver *vfio_pci;
	int g;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	vfio_pci = drv_("vfio-pci");
	assert_int_equal(vfio_pci->module_refs, 0);

	/* the group path: vfio_df_group_open() -> vfio_df_open() */
	tail_mod_c = do_assign(NVME);
	assert_int_equal(vfio_pci->module_refs, 1);
	assert_rc(-EWOULDBLOCK, driver_delete_module(self->m, "vfio-pci"));
	assert_ptr_equal(drv_("vfio-pci"), vfio_pci);
	assert_bound(NVME, "vfio-pci");
	/* vfio_df_open(): a second file of an open device is no first open */
	g = gid(NVME);
	do_getfd(g, NVME);
	assert_int_equal(vdev_(NVME)->open_count, 2);
	assert_int_equal(vfio_pci->module_refs, 1);
	do_dclose(NVME);
	assert_int_equal(vdev_(NVME)->open_count, 1);
	assert_int_equal(vfio_pci->module_refs, 1);
	/* the cdev path: vfio_df_ioctl_bind_iommufd() -> vfio_df_open() */
	tail_mod_a = do_iopen();
	do_cdev(NIC);
	assert_int_equal(vfio_pci->module_refs, 1); /* open, not bound */
	do_bindfd(NIC, tail_mod_a);
	check_invariants();
	/* the rest on the machine and on its clone, to the same end */
	twin(module_refs_tail);

	/*
	 * Unbound while open: vfio_unregister_group_dev() waits for the
	 * last close, which puts the reference on the driver it was taken
	 * on (the model's userspace closes on the request)
	 */
	do_load("vfio-pci");
	vfio_pci = drv_("vfio-pci");
	to_vfio(NVME);
	/*
	 * A module going (its unload begun, MODULE_STATE_GOING: the
	 * driver's dying flag, set by hand here as between rmmod's check
	 * and the driver's exit) takes no reference: try_module_get()
	 * fails, vfio_df_device_first_open() gives -ENODEV, and the VMM
	 * closes what it opened
	 */
	__atomic_store_n(&vfio_pci->dying, true, __ATOMIC_SEQ_CST);
	assert_rc(-ENODEV, _assign(NVME, &g));
	assert_int_equal(vfio_pci->module_refs, 0);
	assert_int_equal(vdev_(NVME)->open_count, 0);
	__atomic_store_n(&vfio_pci->dying, false, __ATOMIC_SEQ_CST);
	tail_mod_c = do_assign(NVME);
	assert_int_equal(vfio_pci->module_refs, 1);
	do_override(NVME, "\n");
	do_unbind("vfio-pci", NVME);
	assert_null(vdev_(NVME));
	assert_int_equal(vfio_pci->module_refs, 0);
	do_vmm_release(NVME, tail_mod_c);
	assert_rc(0, driver_delete_module(self->m, "vfio-pci"));
	assert_all_closed();
	check_invariants();
}

/*
 * A closed iommufd lives on while devices are bound to it
 * (iommufd_fops_release() drops the file's reference, each bound device
 * keeps one: iommufd_device_bind()). The state text writes each such
 * context once, after the vfio devices, in the order of the first device
 * (by name) bound to it; a context with two devices is still one line.
 */
static void closed_iommufds_in_state(void **state)
{
	char *text, *p, want[32];
	int a, b, nic_id = -1, n = 0;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	a = do_iopen();
	b = do_iopen();
	/* NIC (0000:03) comes first by name, bound to the second context */
	do_cdev(NIC);
	do_bindfd(NIC, b);
	do_cdev(NVME);
	do_bindfd(NVME, a);
	do_iclose(a);
	do_iclose(b);
	check_invariants();
	text = machine_state_serialize(self->m, NULL);
	assert_non_null(text);
	p = strstr(text, "vfio-device " NIC " ");
	assert_non_null(p);
	p = strstr(p, " ictx=#");
	assert_non_null(p);
	nic_id = atoi(p + 7);
	for (p = text; (p = strstr(p, "\niommufd #")); p++)
		n++;
	assert_int_equal(n, 2);
	/* the first closed context written is NIC's */
	snprintf(want, sizeof(want), "\niommufd #%d ", nic_id);
	assert_ptr_equal(strstr(text, "\niommufd #"), strstr(text, want));
	free(text);
}

/* One closed context holding two devices: written once, bound=2. */
static void closed_iommufd_two_devices(void **state)
{
	char *text, *p;
	int a, n = 0;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	a = do_iopen();
	do_cdev(NVME);
	do_cdev(NIC);
	do_bindfd(NIC, a);
	do_bindfd(NVME, a);
	do_iclose(a);
	check_invariants();
	text = machine_state_serialize(self->m, NULL);
	assert_non_null(text);
	for (p = text; (p = strstr(p, "\niommufd #")); p++)
		n++;
	assert_int_equal(n, 1);
	assert_non_null(strstr(text, " bound=2\n"));
	free(text);
}

/*
 * The VMM keeps its group file open after the last device left; vfio-pci
 * binds the device again: a new /dev/vfio/N appears, and another VMM can
 * open and use it while the stale file is still open.
 */
static void stale_group_file(void **state)
{
	unsigned int flags;
	int g, c, c2;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	g = gid(NVME);
	c = do_assign(NVME);
	do_unbind("vfio-pci", NVME);
	assert_kernel_owned(NVME, 0);
	err_status(ENODEV, g, &flags);

	do_probe(NVME);		/* driver_override still says vfio-pci */
	assert_bound(NVME, "vfio-pci");
	assert_true(vfio_group_exists(self->m, g));
	c2 = do_assign(NVME);
	assert_owner(NVME, vgroup(NVME));
	assert_int_equal(vfio_group_container(self->m, g), c2);
	check_invariants();
	do_vmm_release(NVME, c2);
	assert_kernel_owned(NVME, 0);

	/* the first VMM closes its stale files */
	err_status(ENODEV, g, &flags);
	do_gclose(g);
	do_cclose(c);
	assert_all_closed();
	check_invariants();
}

/* ---- S9: firmware direct-map regions (RMRR) ---- */

#define SRAM "0000:00:14.2"
#define PCH_KEY 20

static void resv_direct(void **state)
{
	char want[MSG_MAX];
	struct device *dev;
	int g, c, a;

	(void)state;
	do_load("xhci_pci");
	do_load("vfio-pci");
	dev = alloc_ep(XHCI, NULL, 0x8086, 0xa36d, 0x0c0330, 0);
	device_set_require_direct(dev, true);
	assert_rc(0, device_add(dev));
	assert_bound(XHCI, "xhci_hcd");
	assert_kernel_owned(XHCI, 1);
	to_vfio(XHCI);		/* vfio-pci binds: it takes no DMA use */
	g = gid(XHCI);

	err_assign(EINVAL, XHCI, &c);
	snprintf(want, sizeof(want),
		 "vfio %s: Failed to set group container: Invalid argument",
		 XHCI);
	assert_string_equal(self->msg, want);
	assert_log("vfio-pci " XHCI ": Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.");
	assert_all_closed();
	assert_kernel_owned(XHCI, 0);
	assert_int_equal(vfio_group_container(self->m, g), -1);
	check_invariants();

	/* through iommufd: the same refusal */
	a = do_iopen();
	do_cdev(XHCI);
	err_bindfd(EINVAL, XHCI, a);
	assert_int_equal(ictx_(a)->bound, 0);
	assert_kernel_owned(XHCI, 0);
	do_dclose(XHCI);
	do_iclose(a);
	check_invariants();

	/* in a group with another device: the member moved first goes back */
	dev = alloc_ep(SRAM, NULL, 0x8086, 0xa36f, 0x050000, PCH_KEY);
	assert_rc(0, driver_override_store(dev, "vfio-pci"));
	assert_rc(0, device_add(dev));
	assert_bound(SRAM, "vfio-pci");
	dev = alloc_ep("0000:00:14.3", NULL, 0x8086, 0xa370, 0x0c0330,
		       PCH_KEY);
	device_set_require_direct(dev, true);
	assert_rc(0, driver_override_store(dev, "vfio-pci"));
	assert_rc(0, device_add(dev));
	assert_bound("0000:00:14.3", "vfio-pci");
	assert_ptr_equal(grp(SRAM), grp("0000:00:14.3"));
	assert_ptr_equal(list_first_entry(&grp(SRAM)->devices,
					  struct group_device, list)->dev,
			 dev_(SRAM));
	err_assign(EINVAL, SRAM, &c);
	snprintf(want, sizeof(want),
		 "vfio %s: Failed to set group container: Invalid argument",
		 SRAM);
	assert_string_equal(self->msg, want);
	assert_kernel_owned(SRAM, 0);
	assert_kernel_owned("0000:00:14.3", 0);
	assert_all_closed();
	check_invariants();
}

/* ---- S6: no IOMMU ---- */

/* A sysfs attribute's contents, or the errno as "-N". */
static void assert_attr_at(const char *file, int line, const char *path,
			   const char *want)
{
	char *buf = NULL, err[16];
	int ret = sysfs_read(self->m, path, &buf);

	if (ret)
		snprintf(err, sizeof(err), "%d", ret);
	verify(!strcmp(ret ? err : buf, want), file, line,
	       "%s reads \"%s\", expected \"%s\"", path, ret ? err : buf,
	       want);
	free(buf);
}

#define assert_attr(path, want) assert_attr_at(__FILE__, __LINE__, path, want)

/* The entries of a sysfs directory joined by spaces, or the errno. */
static void assert_ls_at(const char *file, int line, const char *path,
			 const char *want)
{
	char got[256] = "", **names = NULL;
	size_t n = 0, off = 0;
	int ret = sysfs_list(self->m, path, &names, &n);

	if (ret)
		snprintf(got, sizeof(got), "%d", ret);
	for (size_t i = 0; !ret && i < n && off < sizeof(got); i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s",
					i ? " " : "", names[i]);
	sysfs_list_free(names, n);
	verify(!strcmp(got, want), file, line, "ls %s: \"%s\", expected \"%s\"",
	       path, got, want);
}

#define assert_ls(path, want) assert_ls_at(__FILE__, __LINE__, path, want)

static int tail_noiommu_c;

static void noiommu_tail(void)
{
	do_dclose(NVME);
	do_gclose(-1);
	do_cclose(tail_noiommu_c);
	assert_all_closed();
	do_unbind("vfio-pci", NVME);
	/* vfio_device_remove_group(): the group made for it goes too */
	assert_log("vfio-pci " NVME ": Removing from iommu group 0");
	assert_null(dev_(NVME)->iommu_group);
	assert_true(list_empty(&self->m->groups));
	assert_ls("/sys/kernel/iommu_groups", "");
	assert_true(list_empty(&self->m->vfio_groups));
	assert_false(vfio_group_exists(self->m, -1));
	err_gopen(ENOENT, -1);
	do_bind("vfio-pci", NVME);
	assert_non_null(vdev_(NVME));
	assert_true(vdev_(NVME)->group->noiommu);
}

static void no_iommu(void **state)
{
	unsigned int flags;
	int c;

	(void)state;
	assert_null(iommu_());
	add_nic();
	add_nvme();
	do_load("e1000e");	/* DMA-API drivers bind as usual */
	assert_bound(NIC, "e1000e");
	assert_null(dev_(NIC)->iommu_group);
	assert_false(dev_(NIC)->dma_use.group);

	do_load("vfio-pci");
	do_override(NVME, "vfio-pci");
	err_bind(EINVAL, "vfio-pci", NVME);
	assert_log("vfio-pci: probe of " NVME " failed with error -22");
	assert_bound(NVME, NULL);
	assert_true(list_empty(&self->m->vfio_groups));
	err_assign(ENOENT, NVME, &c);
	assert_string_equal(self->msg, "vfio " NVME
			    ": no iommu_group found: No such file or directory");

	/* the IOMMU API is built in: the directory is there, empty */
	assert_ls("/sys/kernel/iommu_groups", "");
	assert_ls("/dev/vfio", "vfio");

	/*
	 * enable_unsafe_noiommu_mode: vfio_noiommu_group_alloc() (v6.6) makes
	 * a real IOMMU group, number 0 from the common pool, named
	 * "vfio-noiommu", with no IOMMU and no domain; its node is
	 * /dev/vfio/noiommu-0.
	 */
	vfio_set_noiommu(self->m, true);
	do_bind("vfio-pci", NVME);
	assert_log("vfio-pci " NVME ": Adding to iommu group 0");
	assert_log("vfio-pci " NVME ": Adding kernel taint for vfio-noiommu group on device");
	assert_non_null(vdev_(NVME));
	assert_true(vdev_(NVME)->group->noiommu);
	assert_int_equal(vdev_(NVME)->group->id, 0);
	assert_non_null(dev_(NVME)->iommu_group);
	assert_int_equal(iommu_group_id(dev_(NVME)->iommu_group), 0);
	assert_null(dev_(NVME)->iommu_group->iommu);
	assert_null(dev_(NVME)->iommu_group->domain);
	assert_ls("/sys/kernel/iommu_groups", "0");
	assert_ls("/sys/kernel/iommu_groups/0/devices", NVME);
	assert_attr("/sys/kernel/iommu_groups/0/name", "vfio-noiommu\n");
	assert_attr("/sys/kernel/iommu_groups/0/type", "unknown\n");
	assert_attr("/sys/kernel/iommu_groups/0/reserved_regions", "");
	assert_attr("/sys/bus/pci/devices/" NVME "/iommu_group/name",
		    "vfio-noiommu\n");
	assert_ls("/dev/vfio", "noiommu-0 vfio");
	assert_true(vfio_group_exists(self->m, -1));	/* noiommu-0 */
	assert_false(vfio_group_exists(self->m, 0));
	err_gopen(ENOENT, 0);			/* not /dev/vfio/0 */
	err_cdev(ENODEV, NVME);			/* no cdev without IOMMU */
	do_gopen(-1);
	err_gopen(EBUSY, -1);
	assert_int_equal(do_status(-1), VFIO_GROUP_FLAGS_VIABLE);
	c = do_copen();
	err_set_iommu(EINVAL, c, VFIO_NOIOMMU_IOMMU);	/* no group yet */
	do_setc(-1, c);
	/* nothing claimed */
	assert_null(dev_(NVME)->iommu_group->owner);
	assert_int_equal(dev_(NVME)->iommu_group->owner_cnt, 0);
	err_getfd(EINVAL, -1, NVME);
	/*
	 * vfio_ioctl_set_iommu() (v6.6): a no-IOMMU container takes only the
	 * vfio-noiommu backend, and that one only while
	 * enable_unsafe_noiommu_mode is on (vfio_noiommu_ioctl()): -ENODEV
	 */
	err_set_iommu(ENODEV, c, VFIO_TYPE1v2_IOMMU);
	err_set_iommu(ENODEV, c, VFIO_TYPE1_IOMMU);
	vfio_set_noiommu(self->m, false);
	err_set_iommu(ENODEV, c, VFIO_NOIOMMU_IOMMU);
	vfio_set_noiommu(self->m, true);
	assert_int_equal(vfio_group_container(self->m, -1), c);
	do_set_iommu(c, VFIO_NOIOMMU_IOMMU);
	err_set_iommu(EINVAL, c, VFIO_NOIOMMU_IOMMU);	/* set already */
	assert_null(vdev_(NVME)->group->type1_domain);
	assert_no_log("vfio-noiommu device opened by user");
	kcompat_set_comm("testpmd");
	kcompat_set_pid(4242);
	do_getfd(-1, NVME);
	/* vfio_device_open_file() (v6.6): each open of a no-IOMMU device */
	assert_log("vfio-pci " NVME ": vfio-noiommu device opened by user (testpmd:4242)");
	kcompat_set_comm("");
	kcompat_set_pid(0);
	err_status(EBADF, -2, &flags);
	assert_int_equal(do_status(-1), VFIO_GROUP_FLAGS_VIABLE |
						VFIO_GROUP_FLAGS_CONTAINER_SET);
	check_invariants();

	tail_noiommu_c = c;
	twin(noiommu_tail);
	check_invariants();
}

/*
 * No-IOMMU group numbers are the lowest free, as the kernel's group ida
 * gives them (vfio_noiommu_group_alloc() -> iommu_group_alloc(), v6.6),
 * so two machines in the same state number the next group the same way.
 */
static void noiommu_ids(void **state)
{
	struct machine *copy;

	(void)state;
	add_nvme();
	add_nic();
	do_load("vfio-pci");
	vfio_set_noiommu(self->m, true);
	do_override(NVME, "vfio-pci");
	do_override(NIC, "vfio-pci");
	copy = machine_clone(self->m);
	assert_non_null(copy);

	do_probe(NVME);
	assert_int_equal(vdev_(NVME)->group->id, 0);
	do_probe(NIC);
	assert_int_equal(vdev_(NIC)->group->id, 1);
	do_unbind("vfio-pci", NVME);
	assert_false(vfio_group_exists(self->m, -1));
	assert_true(vfio_group_exists(self->m, -2));
	do_unbind("vfio-pci", NIC);
	assert_true(machine_equal(self->m, copy));

	/* equal states, equal futures: noiommu-0 again on both */
	do_probe(NIC);
	assert_int_equal(vdev_(NIC)->group->id, 0);
	assert_true(vfio_group_exists(self->m, -1));
	assert_rc(0, drivers_probe_store(machine_bus(copy, BUS_PCI), NIC));
	assert_true(machine_equal(self->m, copy));
	machine_destroy(copy);

	/*
	 * A group left with only a stale file gives its number back: the
	 * node opens the new group, the stale file is still closed after.
	 */
	do_gopen(-1);
	do_unbind("vfio-pci", NIC);
	err_status(ENODEV, -1, &scratch_flags);
	do_probe(NVME);
	assert_int_equal(vdev_(NVME)->group->id, 0);
	assert_true(vfio_group_exists(self->m, -1));
	err_status(ENODEV, -1, &scratch_flags);	/* the stale file, still open */
	do_gclose(-1);
	do_gopen(-1);			/* the new group */
	assert_int_equal(do_status(-1), VFIO_GROUP_FLAGS_VIABLE);
	do_probe(NIC);
	assert_int_equal(vdev_(NIC)->group->id, 1);
	do_gclose(-1);
	assert_all_closed();
	check_invariants();
}

/*
 * CONFIG_IOMMU_API=n: VFIO selects IOMMU_API and iommufd depends on it
 * (drivers/vfio/Kconfig, drivers/iommu/iommufd/Kconfig, v6.6), so there
 * is no vfio module, no /dev/vfio, no /dev/iommu; and iommu.c, which makes
 * /sys/kernel/iommu_groups, is not built. DMA-API drivers bind as usual.
 */
static void no_iommu_api_no_vfio(void **state)
{
	int n;

	(void)state;
	add_nvme();
	do_load("nvme");
	assert_bound(NVME, "nvme");
	assert_null(dev_(NVME)->iommu_group);
	assert_rc(-ENOENT, driver_load(self->m, "vfio-pci"));
	assert_rc(-ENOENT, driver_load(self->m, "vfio-platform"));
	err_copen(ENOENT, &n);
	assert_rc(-ENOENT, _iopen(&n));
	err_gopen(ENOENT, 0);
	assert_ls("/sys/kernel/iommu_groups", "-2");
	assert_ls("/sys/class/iommu", "-2");
	assert_ls("/dev/vfio", "-2");
	assert_attr("/sys/bus/pci/devices/" NVME "/iommu_group/type", "-2");
	assert_int_equal(machine_open_fds(self->m), 0);
	check_invariants();
}

/* A no-IOMMU group and a real one cannot share a container. */
#define LONE "0000:66:00.0"

static void noiommu_mix(void **state)
{
	struct device *dev;
	int gn, nl, c, c2;
	size_t ngroups;

	(void)state;
	boot_desktop();
	vfio_set_noiommu(self->m, true);
	dev = alloc_ep(LONE, NULL, 0x144d, 0xa808, 0x010802, 0);
	assert_rc(0, device_set_fw_iommu(dev, NULL, 0));
	assert_rc(0, device_add(dev));
	assert_bound(LONE, "nvme");
	assert_null(dev_(LONE)->iommu_group);
	ngroups = list_count_nodes(&self->m->groups);
	to_vfio(LONE);
	assert_true(vdev_(LONE)->group->noiommu);
	/*
	 * vfio_noiommu_group_alloc() (v6.6): the next number of the IOMMU
	 * groups' own pool, here the first after the desktop's groups
	 */
	assert_int_equal(iommu_group_id(dev_(LONE)->iommu_group), ngroups);
	nl = -1 - (int)ngroups;
	to_vfio(NVME);
	gn = gid(NVME);
	assert_true(vfio_group_exists(self->m, nl));
	assert_false(vfio_group_exists(self->m, gid(HB)));	/* group 0 */

	do_gopen(nl);
	do_gopen(gn);
	c = do_copen();
	do_setc(gn, c);
	err_setc(EPERM, nl, c);		/* real and no-IOMMU cannot mix */
	c2 = do_copen();
	do_setc(nl, c2);
	err_setc(EINVAL, gn, c2);	/* set already */
	do_gclose(gn);			/* detaches from c */
	assert_kernel_owned(NVME, 0);
	do_gopen(gn);
	err_setc(EPERM, gn, c2);	/* c2 holds a no-IOMMU group */
	assert_kernel_owned(NVME, 0);
	err_set_iommu(ENODEV, c2, VFIO_TYPE1v2_IOMMU);	/* no backend */
	do_set_iommu(c2, VFIO_NOIOMMU_IOMMU);
	do_getfd(nl, LONE);
	/* the empty container takes the real group */
	do_setc(gn, c);
	err_set_iommu(ENODEV, c, VFIO_NOIOMMU_IOMMU);	/* no backend */
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_getfd(gn, NVME);
	assert_owner(NVME, vgroup(NVME));
	assert_on_user_domain(NVME);
	check_invariants();

	do_dclose(LONE);
	do_dclose(NVME);
	do_gclose(nl);
	do_gclose(gn);
	do_cclose(c);
	do_cclose(c2);
	assert_all_closed();
	assert_kernel_owned(NVME, 0);
	to_host(LONE, "nvme");
	to_host(NVME, "nvme");
	assert_kernel_owned(NVME, 1);
	check_invariants();
}

/* ---- S2: a device behind a PCIe-to-PCI bridge ---- */

#define S2_BR "0000:00:1e.0"
#define S2_A "0000:06:0d.0"
#define S2_B "0000:06:0d.1"
#define S2_KEY 26

static void pci_bridge_group(void **state)
{
	int g, c;

	(void)state;
	add_port(S2_BR, NULL, PCI_EXP_TYPE_PCI_BRIDGE, S2_KEY);
	add_ep(S2_A, S2_BR, 0x1102, 0x0002, 0x040100, S2_KEY);
	add_ep(S2_B, S2_BR, 0x1102, 0x0002, 0x040100, S2_KEY);
	assert_bound(S2_BR, NULL);	/* pcieport takes no PCI bridge */

	do_load("vfio-pci");
	assert_rc(0, new_id_store(drv_("vfio-pci"), "1102 0002\n"));
	assert_bound(S2_A, "vfio-pci");
	assert_bound(S2_B, "vfio-pci");
	assert_ptr_equal(grp(S2_A), grp(S2_B));
	assert_ptr_equal(grp(S2_A), grp(S2_BR));
	g = gid(S2_A);

	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1_IOMMU);
	do_getfd(g, S2_A);
	assert_owner(S2_A, vgroup(S2_A));
	assert_on_user_domain(S2_BR);
	assert_on_user_domain(S2_B);
	check_invariants();

	do_dclose(S2_A);
	do_gclose(g);
	do_cclose(c);
	assert_all_closed();
	assert_kernel_owned(S2_A, 0);
	check_invariants();
}

/* ---- the core scenario on every firmware ---- */

static void core_tail(void)
{
	int g = gid(NIC);

	do_vmm_release(NIC, -1);
	assert_all_closed();
	assert_kernel_owned(NIC, 0);
	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	do_gclose(g);
	to_host(NIC, "e1000e");
	assert_kernel_owned(NIC, 1);
	assert_false(vfio_group_exists(self->m, g));
	assert_true(list_empty(&self->m->vfio_groups));
}

static void core_scenario(void **state)
{
	char want[MSG_MAX];
	int g, c, c2;

	(void)state;
	boot_desktop();
	assert_kernel_owned(NIC, 1);
	to_vfio(NIC);
	assert_kernel_owned(NIC, 0);
	g = gid(NIC);
	assert_true(vfio_group_exists(self->m, g));

	c = do_assign(NIC);
	assert_owner(NIC, vgroup(NIC));
	assert_cnt(NIC, 1);
	assert_on_user_domain(NIC);
	assert_true(vdev_(NIC)->open_count && !vdev_(NIC)->ictx);
	assert_int_equal(vfio_group_container(self->m, g), c);
	/* the other groups are the kernel's still */
	assert_kernel_owned(GPU, 2);
	assert_kernel_owned(NVME, 1);

	/* a second VMM for the same device: the group file is taken */
	err_assign(EBUSY, NIC, &c2);
	snprintf(want, sizeof(want),
		 "vfio %s: failed to open /dev/vfio/%d: Device or resource busy",
		 NIC, g);
	assert_string_equal(self->msg, want);
	assert_owner(NIC, vgroup(NIC));
	/* and e1000e cannot come back while it is owned */
	do_unbind("vfio-pci", NIC);	/* the device request: VMM closes */
	assert_log("vfio-pci " NIC ": Relaying device request to user (#0)");
	assert_kernel_owned(NIC, 0);
	do_probe(NIC);			/* driver_override: vfio-pci */
	assert_bound(NIC, "vfio-pci");
	/* its device file went away; the VMM closes the rest */
	do_vmm_release(NIC, c);
	err_gclose(EBADF, g);
	err_cclose(EBADF, c);
	assert_all_closed();

	c = do_assign(NIC);
	check_invariants();
	twin(core_tail);
	check_invariants();
}

/* vfio-platform on a devicetree machine: the same with a platform device. */
#define USB "fe800000.usb"

static void vfio_platform(void **state)
{
	struct device *dev;
	int g, c;

	(void)state;
	dev = device_alloc(self->m, USB, NULL);
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_PLATFORM));
	assert_rc(0, device_set_fw_iommu(dev, iommu_(), 0));
	device_set_of_compatible(dev, "snps,dwc3");
	assert_rc(0, device_add(dev));
	do_load("dwc3");
	assert_bound(USB, "dwc3");
	assert_kernel_owned(USB, 1);
	/* dwc3 has no reset module: vfio_platform_reset() below */
	assert_rc(0, driver_load_params(self->m, "vfio-platform",
					"reset_required=0"));

	do_override(USB, "vfio-platform");
	do_unbind("dwc3", USB);
	do_bind("vfio-platform", USB);
	g = gid(USB);
	assert_true(vfio_group_exists(self->m, g));
	c = do_assign(USB);
	assert_owner(USB, vgroup(USB));
	assert_on_user_domain(USB);
	check_invariants();
	do_vmm_release(USB, c);
	assert_kernel_owned(USB, 0);
	do_override(USB, "\n");
	do_unbind("vfio-platform", USB);
	do_bind("dwc3", USB);
	assert_kernel_owned(USB, 1);
	assert_false(vfio_group_exists(self->m, g));
	check_invariants();
}

/* Some log line reads exactly @text. */
static void assert_log_line_at(const char *file, int line, const char *text)
{
	bool found = false;

	for (size_t i = 0; i < machine_log_count(self->m); i++)
		found |= !strcmp(machine_log_entry(self->m, i)->text, text);
	verify(found, file, line, "no log line reads \"%s\"", text);
}

#define assert_log_line(text) assert_log_line_at(__FILE__, __LINE__, text)

static void add_platform(const char *name, const char *compatible,
			 struct iommu_device *iommu)
{
	struct device *dev = device_alloc(self->m, name, NULL);

	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_PLATFORM));
	assert_rc(0, device_set_fw_iommu(dev, iommu, 0));
	device_set_of_compatible(dev, compatible);
	assert_rc(0, device_add(dev));
}

#define ETH "fe300000.ethernet"
#define XGBE "e0700000.xgmac"
#define ETH_NOGRP "fe310000.ethernet"

/*
 * vfio-platform refuses a device it cannot reset. v6.6 loads it with
 * reset_required=1; vfio_platform_init_common(), run by its probe before
 * the device is registered (so before the IOMMU group is looked at), logs
 * "No reset function found for device %s" (pdev->name: empty for a
 * devicetree device) and fails with vfio_platform_get_reset()'s -ENOENT.
 * Devicetree devices pass when a reset module registers their compatible;
 * an ACPI device needs an _RST method, which no model device has. Loaded
 * with reset_required=0 it takes them all; a bad value fails the load.
 */
static void vfio_platform_reset(void **state)
{
	bool dt = self->v->fw == FW_DEVICETREE;

	(void)state;
	add_platform(ETH, "snps,dwmac", iommu_());
	add_platform(XGBE, "amd,xgbe-seattle-v1a", iommu_());
	add_platform(ETH_NOGRP, "snps,dwmac", NULL);
	do_load("vfio-platform");
	do_override(ETH, "vfio-platform");
	do_override(XGBE, "vfio-platform");
	do_override(ETH_NOGRP, "vfio-platform");

	err_bind(ENOENT, "vfio-platform", ETH);
	if (dt)
		assert_log_line("vfio-platform " ETH ": No reset function found for device ");
	else
		assert_log_line("vfio-platform " ETH ": No reset function found for device " ETH);
	assert_log("vfio-platform: probe of " ETH " failed with error -2");
	assert_bound(ETH, NULL);
	assert_null(vdev_(ETH));
	/* the reset first: ENOENT where the group would give EINVAL */
	err_bind(ENOENT, "vfio-platform", ETH_NOGRP);
	if (dt) {
		do_bind("vfio-platform", XGBE);		/* vfio_platform_amdxgbe */
		assert_non_null(vdev_(XGBE));
		do_unbind("vfio-platform", XGBE);
	} else {
		err_bind(ENOENT, "vfio-platform", XGBE);
	}
	check_invariants();

	/* module_param(reset_required, bool, 0444): only at load */
	assert_rc(0, driver_unload(self->m, "vfio-platform"));
	assert_rc(-EINVAL, driver_load_params(self->m, "vfio-platform",
					      "reset_required=maybe"));
	assert_rc(-EINVAL, driver_load_params(self->m, "vfio-pci",
					      "reset_required=0"));
	assert_rc(0, driver_load_params(self->m, "vfio-platform",
					"reset_required=0"));
	assert_bound(ETH, "vfio-platform");
	assert_non_null(vdev_(ETH));
	assert_bound(XGBE, "vfio-platform");
	assert_bound(ETH_NOGRP, NULL);	/* now the group: -EINVAL */
	assert_log("vfio-platform: probe of " ETH_NOGRP " failed with error -22");
	check_invariants();
}

/* ---- IOMMU attach failures on the way ---- */

static void attach_errors(void **state)
{
	unsigned int ioas, n;
	int gn, gx, c, a;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	gn = gid(NVME);
	gx = gid(NIC);

	/* the blocking domain cannot be attached: no claim */
	do_gopen(gn);
	c = do_copen();
	iommu_device_set_attach_error(iommu_(), -EIO);
	err_setc(EIO, gn, c);
	assert_kernel_owned(NVME, 0);
	assert_int_equal(vfio_group_container(self->m, gn), -1);
	iommu_device_set_attach_error(iommu_(), 0);

	/* claimed, but type1's domain cannot be attached: still blocked */
	do_setc(gn, c);
	iommu_device_set_attach_error(iommu_(), -EIO);
	err_set_iommu(EIO, c, VFIO_TYPE1v2_IOMMU);
	assert_owner(NVME, vgroup(NVME));
	assert_on_blocking(NVME);
	assert_null(vgroup(NVME)->type1_domain);
	err_getfd(EINVAL, gn, NVME);
	iommu_device_set_attach_error(iommu_(), 0);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	assert_on_user_domain(NVME);

	/* a group joining a container with an IOMMU: claim given back */
	do_gopen(gx);
	iommu_device_set_attach_error(iommu_(), -EIO);
	err_setc(EIO, gx, c);
	assert_kernel_owned(NIC, 0);
	iommu_device_set_attach_error(iommu_(), 0);
	/* ... whichever step fails: the claim or type1's attach after it */
	for (n = 1; n < 100; n++) {
		struct machine *m = machine_clone(self->m);
		struct iommu_group *g;
		bool fired;
		int ret;

		assert_non_null(m);
		machine_set_fail_nth(m, n);
		ret = vfio_group_set_container(m, gx, c);
		fired = machine_fault_fired(m);
		machine_set_fail_nth(m, 0);
		check_machine(m, 0, __FILE__, __LINE__);
		assert_true(fired == (ret != 0));
		g = machine_find_device(m, NIC)->iommu_group;
		if (ret) {
			assert_null(g->owner);
			assert_ptr_equal(g->domain, g->default_domain);
		}
		machine_destroy(m);
		if (!ret)
			break;
	}
	assert_true(n > 3);
	do_unsetc(gn);
	do_gclose(gx);
	do_gclose(gn);
	do_cclose(c);
	check_invariants();

	/* iommufd: the claim and the IOAS attach */
	a = do_iopen();
	do_cdev(NVME);
	iommu_device_set_attach_error(iommu_(), -EIO);
	err_bindfd(EIO, NVME, a);
	assert_kernel_owned(NVME, 0);
	iommu_device_set_attach_error(iommu_(), 0);
	do_bindfd(NVME, a);
	ioas = do_ioas(a);
	iommu_device_set_attach_error(iommu_(), -EIO);
	err_attach(EIO, NVME, ioas);
	assert_on_blocking(NVME);
	assert_null(vdev_(NVME)->hwpt);
	assert_true(list_empty(&ictx_(a)->hwpts));
	iommu_device_set_attach_error(iommu_(), 0);
	do_attach(NVME, ioas);
	do_dclose(NVME);
	do_iclose(a);
	assert_kernel_owned(NVME, 0);
	check_invariants();

	/* SET_IOMMU over two groups, failing each fallible step in turn */
	do_gopen(gn);
	do_gopen(gx);
	c = do_copen();
	do_setc(gn, c);
	do_setc(gx, c);
	for (n = 1; n < 100; n++) {
		struct machine *m = machine_clone(self->m);
		bool fired;
		int ret;

		assert_non_null(m);
		machine_set_fail_nth(m, n);
		ret = vfio_container_set_iommu(m, c, VFIO_TYPE1v2_IOMMU);
		fired = machine_fault_fired(m);
		machine_set_fail_nth(m, 0);
		check_machine(m, 0, __FILE__, __LINE__);
		assert_true(fired == (ret != 0));
		if (ret) {
			struct vfio_group *vg;

			list_for_each_entry(vg, &m->vfio_groups, node) {
				assert_null(vg->type1_domain);
				assert_ptr_equal(vg->iommu_group->domain,
						 vg->iommu_group->blocking_domain);
			}
		}
		machine_destroy(m);
		if (!ret)
			break;
	}
	assert_true(n > 2);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_gclose(gn);
	do_gclose(gx);
	do_cclose(c);
	assert_all_closed();
	check_invariants();
}

/*
 * A kernel user of the IOMMU API (not VFIO) attached its own domain to a
 * free group: SET_CONTAINER and the iommufd bind get -EBUSY, and nothing
 * is claimed.
 */
static void foreign_domain(void **state)
{
	struct iommu_domain *dom;
	int g, c, a;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	g = gid(NVME);
	dom = iommu_paging_domain_alloc(dev_(NVME));
	assert_false(IS_ERR_OR_NULL(dom));
	assert_rc(0, iommu_attach_device(dom, dev_(NVME)));
	assert_ptr_equal(grp(NVME)->domain, dom);

	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	c = do_copen();
	err_setc(EBUSY, g, c);
	assert_owner(NVME, NULL);
	assert_cnt(NVME, 0);
	assert_ptr_equal(grp(NVME)->domain, dom);
	do_gclose(g);
	do_cclose(c);
	a = do_iopen();
	do_cdev(NVME);
	err_bindfd(EBUSY, NVME, a);
	assert_owner(NVME, NULL);
	assert_int_equal(ictx_(a)->bound, 0);
	do_dclose(NVME);
	do_iclose(a);

	iommu_detach_device(dom, dev_(NVME));
	iommu_domain_free(dom);
	check_no_new_warn(__FILE__, __LINE__);
	assert_kernel_owned(NVME, 0);
	c = do_assign(NVME);
	do_vmm_release(NVME, c);
	assert_all_closed();
	check_invariants();
}

/* vfio-pci variant drivers manage DMA themselves too (spec section 6). */
#define VF "0000:3b:00.2"
#define VF2 "0000:3b:00.3"

static void variant_driver(void **state)
{
	int g, c;

	(void)state;
	do_load("mlx5_core");
	do_load("mlx5_vfio_pci");
	do_load("vfio-pci");
	add_ep(VF, NULL, 0x15b3, 0x101e, 0x020000, 5);
	add_ep(VF2, NULL, 0x15b3, 0x101e, 0x020000, 5);
	assert_bound(VF, "mlx5_core");
	assert_kernel_owned(VF, 2);
	g = gid(VF);

	do_override(VF, "mlx5-vfio-pci");
	do_unbind("mlx5_core", VF);
	do_probe(VF);
	assert_bound(VF, "mlx5-vfio-pci");
	assert_true(driver_is_dma_managed(drv_("mlx5-vfio-pci")));
	assert_true(vfio_group_exists(self->m, g));
	err_assign(EPERM, VF, &c);		/* mlx5_core on VF2 */
	to_vfio(VF2);				/* the plain driver next to it */
	assert_ptr_equal(vdev_(VF2)->group, vdev_(VF)->group);
	c = do_assign(VF);
	assert_owner(VF, vgroup(VF));
	do_getfd(g, VF2);
	check_invariants();
	do_dclose(VF2);
	do_vmm_release(VF, c);
	assert_kernel_owned(VF, 0);
	to_host(VF2, "mlx5_core");
	do_override(VF, "\n");
	do_unbind("mlx5-vfio-pci", VF);
	do_bind("mlx5_core", VF);
	assert_kernel_owned(VF, 2);
	assert_false(vfio_group_exists(self->m, g));
	check_invariants();
}

/* ---- file numbers and limits ---- */

static void file_limits(void **state)
{
	struct machine *copy;
	char want[MSG_MAX];
	unsigned int ioas;
	int c, a, i, g;

	(void)state;
	add_nvme();
	do_load("vfio-pci");
	to_vfio(NVME);
	g = gid(NVME);
	assert_int_equal(machine_nofile_limit(self->m), MACHINE_NOFILE_DEFAULT);
	assert_int_equal(machine_open_fds(self->m), 0);

	/*
	 * RLIMIT_NOFILE's 1024 descriptors, whatever the files, 0-2 being
	 * the standard streams: 1021 to open (alloc_fd(), fs/file.c)
	 */
	for (i = 0; i < 510; i++) {
		assert_int_equal(do_copen(), i);
		assert_int_equal(do_iopen(), i);
	}
	assert_int_equal(do_copen(), 510);
	assert_int_equal(machine_open_fds(self->m), 1021);
	err_copen(EMFILE, &c);
	assert_rc(-EMFILE, _iopen(&a));
	/* open(2) takes the descriptor first: EMFILE even for no node */
	err_gopen(EMFILE, g);
	err_gopen(EMFILE, 4000);
	err_cdev(EMFILE, NVME);
	err_cdev(EMFILE, "0000:ff:00.0");
	check_invariants();
	/* QEMU gets the group, then no container: it says so, closes it */
	do_iclose(509);
	err_assign(EMFILE, NVME, &c);
	snprintf(want, sizeof(want),
		 "vfio %s: failed to open /dev/vfio/vfio: Too many open files",
		 NVME);
	assert_string_equal(self->msg, want);
	assert_false(vgroup(NVME)->opened);
	assert_kernel_owned(NVME, 0);
	assert_int_equal(machine_open_fds(self->m), 1020);
	/* the lowest free number first, as open() gives */
	do_cclose(3);
	do_iclose(5);
	assert_int_equal(do_copen(), 3);
	assert_int_equal(do_iopen(), 5);
	for (i = 0; i < 511; i++) {
		do_cclose(i);
		if (i && i < 509)
			do_iclose(i);
	}
	assert_int_equal(machine_open_fds(self->m), 1);
	for (i = 1; i <= IOMMUFD_IOAS_MAX; i++)
		assert_int_equal(do_ioas(0), i);
	assert_rc(-ENOSPC, iommufd_ioas_alloc(self->m, 0, &ioas));
	assert_rc(-EBADF, iommufd_ioas_alloc(self->m, 1, &ioas));
	do_iclose(0);
	assert_all_closed();

	/*
	 * Each device file is a descriptor: GET_DEVICE_FD finds the device
	 * (ENODEV), takes a descriptor (EMFILE), then opens (EINVAL).
	 */
	c = do_assign(NVME);			/* group, container, device: 3-5 */
	assert_int_equal(machine_open_fds(self->m), 3);
	assert_rc(0, machine_set_nofile_limit(self->m, 6));
	err_getfd(ENODEV, g, NIC);
	err_getfd(EMFILE, g, NVME);
	/* a limit below what is open closes nothing; opens fail */
	assert_rc(0, machine_set_nofile_limit(self->m, 1));
	assert_int_equal(machine_nofile_limit(self->m), 1);
	assert_owner(NVME, vgroup(NVME));
	assert_on_user_domain(NVME);
	err_copen(EMFILE, &a);
	check_invariants();
	do_vmm_release(NVME, c);
	assert_kernel_owned(NVME, 0);
	assert_int_equal(machine_open_fds(self->m), 0);
	assert_rc(0, machine_set_nofile_limit(self->m, 4));
	do_gopen(g);				/* descriptor 3 */
	err_getfd(EMFILE, g, NVME);		/* before its EINVAL: no container */
	err_copen(EMFILE, &a);
	assert_rc(0, machine_set_nofile_limit(self->m, 5));
	err_getfd(EINVAL, g, NVME);
	assert_int_equal(machine_open_fds(self->m), 1);

	/* the limit is state: clones keep it, and it tells machines apart */
	copy = machine_clone(self->m);
	assert_non_null(copy);
	assert_int_equal(machine_nofile_limit(copy), 5);
	assert_int_equal(machine_open_fds(copy), 1);
	assert_true(machine_equal(self->m, copy));
	check_machine(copy, self->warns, __FILE__, __LINE__);
	assert_rc(0, machine_set_nofile_limit(copy, 6));
	assert_false(machine_equal(self->m, copy));
	machine_destroy(copy);
	do_gclose(g);

	/* setrlimit() goes as far as fs.nr_open, not one more */
	assert_rc(-EPERM, machine_set_nofile_limit(self->m,
						   MACHINE_NOFILE_MAX + 1));
	assert_int_equal(machine_nofile_limit(self->m), 5);
	assert_rc(0, machine_set_nofile_limit(self->m, MACHINE_NOFILE_MAX));
	assert_all_closed();
	check_invariants();
}

/* ---- many groups ---- */

/* The @i-th NIC of many_nics(): bus 0x10 on, 32 to a bus. */
static void nic_name(char name[16], int i)
{
	snprintf(name, 16, "0000:%02x:%02x.0", 0x10 + i / 32, i % 32);
}

/* @n NICs, each in a group of its own, each bound to vfio-pci by ids=. */
static void many_nics(int n)
{
	char name[16];

	assert_rc(0, driver_load_params(self->m, "vfio-pci", "ids=8086:10d3"));
	for (int i = 0; i < n; i++) {
		nic_name(name, i);
		add_ep(name, NULL, 0x8086, 0x10d3, 0x020000, 0);
		assert_bound(name, "vfio-pci");
	}
}

/* Run @line in @ctx: its status; stdout and stderr when asked (free). */
static int sh(struct script_ctx *ctx, const char *line, char **ret_out,
	      char **ret_err)
{
	struct script_result res;
	int status;

	assert_int_equal(script_exec_line(ctx, line, 1, &res), 0);
	status = res.status;
	if (ret_out) {
		*ret_out = res.out;
		res.out = NULL;
	}
	if (ret_err) {
		*ret_err = res.err;
		res.err = NULL;
	}
	script_result_free(&res);
	return status;
}

/* @line succeeds, prints nothing on stderr and @want (if not NULL). */
#define do_sh(ctx, line, want)                                            \
	do {                                                               \
		char *out_, *err_;                                         \
		int st_ = sh(ctx, line, &out_, &err_);                     \
		verify(!st_ && !*err_, __FILE__, __LINE__,                 \
		       "'%s': status %d: %s", line, st_, err_);            \
		if ((want) != NULL)                                        \
			assert_string_equal(out_, (const char *)(want));   \
		free(out_);                                                \
		free(err_);                                                \
		check_no_new_warn(__FILE__, __LINE__);                     \
	} while (0)

/* @line fails with @status and prints @want on stderr. */
#define err_sh(ctx, status, line, want)                                   \
	do {                                                               \
		char *err_;                                                \
		int st_ = sh(ctx, line, NULL, &err_);                      \
		verify(st_ == (status), __FILE__, __LINE__,                \
		       "'%s': status %d, expected %d", line, st_, status); \
		assert_string_equal(err_, want);                           \
		free(err_);                                                \
		check_no_new_warn(__FILE__, __LINE__);                     \
	} while (0)

/*
 * More groups claimed than the old fixed table of 64 containers held: a
 * VMM per device (@vmm assign: group, container, device file), 100 of
 * them, each group owned by its vfio group; then each let go. The session
 * remembers every assignment's container: the last NIC, hot-removed while
 * assigned, is released through it.
 */
static void many_groups(void **state)
{
	struct script_ctx *ctx = script_ctx_new(self->m, "many.sh");
	char name[16], line[128];
	int i, n = 100, c, g;

	(void)state;
	assert_non_null(ctx);
	many_nics(n);
	for (i = 0; i < n; i++) {
		nic_name(name, i);
		snprintf(line, sizeof(line), "@vmm assign %s", name);
		do_sh(ctx, line, "");
		assert_owner(name, vgroup(name));
		assert_on_user_domain(name);
	}
	assert_int_equal(machine_open_fds(self->m), 3 * n);
	assert_int_equal(list_count_nodes(&self->m->vfio_containers), n);
	check_invariants();

	/*
	 * The last one is hot-removed: its device file is closed for the
	 * VMM, its group left with its file only; releasing it closes the
	 * container this session's assign recorded.
	 */
	nic_name(name, n - 1);
	g = gid(name);
	c = vfio_group_container(self->m, g);
	assert_int_equal(c, n - 1);
	snprintf(line, sizeof(line), "echo 1 > /sys/bus/pci/devices/%s/remove",
		 name);
	do_sh(ctx, line, "");
	assert_null(machine_find_device(self->m, name));
	assert_int_equal(machine_open_fds(self->m), 3 * n - 1);
	snprintf(line, sizeof(line), "@vmm release %s", name);
	do_sh(ctx, line, "");
	assert_int_equal(machine_open_fds(self->m), 3 * n - 2);
	assert_int_equal(list_count_nodes(&self->m->vfio_containers), n - 1);
	check_invariants();

	for (i = 0; i < n - 1; i++) {
		nic_name(name, i);
		snprintf(line, sizeof(line), "@vmm release %s", name);
		do_sh(ctx, line, "");
		assert_kernel_owned(name, 0);
	}
	/* the removed NIC's group file is the last one open */
	assert_int_equal(machine_open_fds(self->m), 1);
	snprintf(line, sizeof(line), "@vfio close %d", g);
	do_sh(ctx, line, "");
	assert_all_closed();
	script_ctx_free(ctx);
	check_invariants();
}

/*
 * A machine of 4096 single-device groups: with the default limit
 * userspace claims 510 of them (a group file and a container each, past
 * the three standard streams), after 'ulimit -n 8195' every one, and
 * nothing more opens (alloc_fd()).
 */
static void claim_4096_groups(void **state)
{
	struct script_ctx *ctx = script_ctx_new(self->m, "claim.sh");
	char name[16], line[128], want[64];
	struct vfio_group *vg;
	int i, n = 4096, g;

	(void)state;
	assert_non_null(ctx);
	many_nics(n);
	for (i = 0; i < n; i++) {
		nic_name(name, i);
		g = gid(name);
		snprintf(line, sizeof(line), "@vfio open %d", g);
		do_sh(ctx, line, "");
		if (i == 510) {
			/* descriptor 1023 was the last: the next open() fails */
			err_sh(ctx, 1, "@vfio container-open",
			       "@vfio container-open: Too many open files\n");
			do_sh(ctx, "ulimit -n 8195", "");
		}
		snprintf(want, sizeof(want), "container %d\n", i);
		do_sh(ctx, "@vfio container-open", want);
		snprintf(line, sizeof(line), "@vfio set-container %d %d", g, i);
		do_sh(ctx, line, "");
	}
	/* every vfio group owns its IOMMU group (vgroup() is too slow) */
	i = 0;
	list_for_each_entry(vg, &self->m->vfio_groups, node) {
		assert_ptr_equal(vg->iommu_group->owner, vg);
		assert_non_null(vg->container);
		i++;
	}
	assert_int_equal(i, n);
	assert_int_equal(machine_open_fds(self->m), 8192);
	err_sh(ctx, 1, "@iommufd open", "@iommufd open: Too many open files\n");
	check_invariants();
	script_ctx_free(ctx);
}

/*
 * More groups than the 4,096 the model once stopped at, silently: every
 * device past it had no group. iommu_group_alloc() takes ids from an ida
 * with no limit of its own.
 */
static void groups_beyond_4096(void **state)
{
	char name[16];
	int n = 4100;

	(void)state;
	many_nics(n);
	for (int i = 4090; i < n; i++) {
		nic_name(name, i);
		assert_non_null(grp(name));
		assert_true(vfio_group_exists(self->m, gid(name)));
	}
	nic_name(name, n - 1);
	assert_true(gid(name) >= 4096);
	check_invariants();
}

/* 'ulimit -n' reads and sets the limit, with bash's messages. */
static void ulimit_builtin(void **state)
{
	struct script_ctx *ctx = script_ctx_new(self->m, "ulimit.sh");
	struct script_result res;

	(void)state;
	assert_non_null(ctx);
	do_sh(ctx, "ulimit -n", "1024\n");
	do_sh(ctx, "ulimit -n 8192", "");
	do_sh(ctx, "ulimit -n", "8192\n");
	assert_int_equal(machine_nofile_limit(self->m), 8192);
	do_sh(ctx, "sudo ulimit -Hn 4096", "");	/* soft and hard are one */
	do_sh(ctx, "ulimit -Sn", "4096\n");
	do_sh(ctx, "ulimit -n 0", "");
	do_sh(ctx, "ulimit -n hard", "");
	do_sh(ctx, "ulimit -n", "0\n");
	do_sh(ctx, "ulimit -n 1048576", "");
	do_sh(ctx, "ulimit", "unlimited\n");	/* -f, the file size */
	err_sh(ctx, 1, "ulimit -n lots", "bash: ulimit: lots: invalid number\n");
	err_sh(ctx, 1, "ulimit -n 1048577",
	       "bash: ulimit: open files: cannot modify limit: Operation not permitted\n");
	err_sh(ctx, 1, "ulimit -n unlimited",
	       "bash: ulimit: open files: cannot modify limit: Operation not permitted\n");
	err_sh(ctx, 2, "ulimit -l unlimited",
	       "bash: ulimit: -l: only -n (open files) is modelled\n");
	err_sh(ctx, 2, "ulimit -n -5",
	       "bash: ulimit: -5: invalid option\n"
	       "ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n");
	assert_int_equal(machine_nofile_limit(self->m), MACHINE_NOFILE_MAX);
	/* the refused setrlimit() is the line's errno */
	assert_int_equal(script_exec_line(ctx, "ulimit -n 2000000", 1, &res), 0);
	assert_int_equal(res.ret, -EPERM);
	script_result_free(&res);
	script_ctx_free(ctx);
	check_invariants();
}

/* ---- hot-removal of devices userspace holds ---- */

static void hot_remove_open_device(void **state)
{
	unsigned int ioas;
	int g, c, a;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	c = do_assign(GPU);
	assert_on_user_domain(AUDIO);

	/* the GPU goes (/sys/bus/pci/devices/X/remove): closed first */
	device_unregister(dev_(GPU));
	check_no_new_warn(__FILE__, __LINE__);
	assert_log("vfio-pci " GPU ": Relaying device request to user (#0)");
	assert_null(machine_find_device(self->m, GPU));
	assert_owner(AUDIO, vgroup(AUDIO));	/* the audio holds it */
	assert_on_user_domain(AUDIO);
	assert_int_equal(list_count_nodes(&grp(AUDIO)->devices), 2);
	check_invariants();

	/* then the audio function: the last vfio device of the group */
	device_unregister(dev_(AUDIO));
	check_no_new_warn(__FILE__, __LINE__);
	assert_kernel_owned(RP, 0);
	assert_false(vfio_group_exists(self->m, g));
	assert_int_equal(vfio_group_container(self->m, g), -1);
	err_status(ENODEV, g, &scratch_flags);
	do_gclose(g);
	do_cclose(c);
	assert_all_closed();
	check_invariants();

	/* back by rescan: vfio-pci takes both (ids=), iommufd this time */
	assert_int_equal(pci_rescan_bus(self->m), 2);
	assert_bound(GPU, "vfio-pci");
	assert_bound(AUDIO, "vfio-pci");
	a = do_iopen();
	do_cdev(GPU);
	do_cdev(AUDIO);
	do_bindfd(GPU, a);
	do_bindfd(AUDIO, a);
	ioas = do_ioas(a);
	do_attach(GPU, ioas);
	do_attach(AUDIO, ioas);
	device_unregister(dev_(AUDIO));
	check_no_new_warn(__FILE__, __LINE__);
	assert_owner(GPU, ictx_(a));
	assert_cnt(GPU, 1);
	assert_on_user_domain(GPU);
	device_unregister(dev_(GPU));
	check_no_new_warn(__FILE__, __LINE__);
	assert_kernel_owned(RP, 0);
	assert_int_equal(ictx_(a)->bound, 0);
	do_iclose(a);
	assert_all_closed();
	check_invariants();
}

/* ---- type1 and MSI isolation ---- */

/*
 * vfio_iommu_type1_attach_group() (v6.6): a group whose MSIs the platform
 * cannot isolate is refused with -EPERM, after the attach, unless
 * vfio_iommu_type1's allow_unsafe_interrupts is set; iommufd's parameter
 * of the same name is another one. SET_CONTAINER's claim checks nothing.
 */
#define TYPE1_NO_IRQ_REMAP \
	"vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform"

/* One script line on the machine: its exit status. */
static int run_line(const char *line)
{
	struct script_ctx *ctx = script_ctx_new(self->m, "test");
	struct script_result res;
	int status;

	assert_non_null(ctx);
	script_exec_line(ctx, line, 1, &res);
	status = res.status;
	script_result_free(&res);
	script_ctx_free(ctx);
	return status;
}

/* the state's vfio line (vfio_subsys_serialize()) is @want, whole */
static void assert_vfio_line(const char *want)
{
	char *text = machine_state_serialize(self->m, NULL);
	const char *line;

	assert_non_null(text);
	line = strstr(text, "\nvfio noiommu=");
	assert_non_null(line);
	assert_memory_equal(line + 1, want, strlen(want));
	free(text);
}

static void type1_unsafe_interrupts(void **state)
{
	char want[MSG_MAX];
	int gn, gx, c, a;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	gn = gid(NVME);
	gx = gid(NIC);
	iommu_device_set_msi_isolated(iommu_(), false);

	do_gopen(gn);
	c = do_copen();
	do_setc(gn, c);
	assert_owner(NVME, vgroup(NVME));
	assert_no_log(TYPE1_NO_IRQ_REMAP);
	err_set_iommu(EPERM, c, VFIO_TYPE1v2_IOMMU);
	assert_log(TYPE1_NO_IRQ_REMAP);
	assert_owner(NVME, vgroup(NVME));
	assert_on_blocking(NVME);		/* attached, then detached */
	assert_null(vgroup(NVME)->type1_domain);
	err_getfd(EINVAL, gn, NVME);		/* no IOMMU set */
	iommufd_set_allow_unsafe_interrupts(self->m, true);
	err_set_iommu(EPERM, c, VFIO_TYPE1_IOMMU);	/* not type1's */
	iommufd_set_allow_unsafe_interrupts(self->m, false);
	assert_int_equal(log_count(TYPE1_NO_IRQ_REMAP), 2);
	check_invariants();

	vfio_iommu_type1_set_allow_unsafe_interrupts(self->m, true);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	assert_int_equal(log_count(TYPE1_NO_IRQ_REMAP), 2);	/* silent */
	assert_on_user_domain(NVME);
	do_getfd(gn, NVME);
	/* a group joining a container with an IOMMU is checked the same */
	vfio_iommu_type1_set_allow_unsafe_interrupts(self->m, false);
	do_gopen(gx);
	err_setc(EPERM, gx, c);
	assert_kernel_owned(NIC, 0);		/* the claim is given back */
	vfio_iommu_type1_set_allow_unsafe_interrupts(self->m, true);
	do_setc(gx, c);
	assert_owner(NIC, vgroup(NIC));
	assert_on_user_domain(NIC);
	check_invariants();
	do_dclose(NVME);
	do_gclose(gn);
	do_gclose(gx);
	do_cclose(c);
	assert_all_closed();
	assert_kernel_owned(NVME, 0);
	assert_kernel_owned(NIC, 0);

	/* QEMU's SET_IOMMU fails: it says so and closes what it opened */
	vfio_iommu_type1_set_allow_unsafe_interrupts(self->m, false);
	err_assign(EPERM, NVME, &c);
	snprintf(want, sizeof(want),
		 "vfio %s: failed to set iommu for container: Operation not permitted",
		 NVME);
	assert_string_equal(self->msg, want);
	assert_all_closed();
	assert_kernel_owned(NVME, 0);

	/* type1's parameter does not let iommufd bind (iommufd_device_bind()) */
	assert_int_equal(run_line("@option type1-unsafe-interrupts on"), 0);
	assert_true(self->m->type1_unsafe_irqs);
	assert_false(self->m->iommufd_unsafe_irqs);
	assert_vfio_line("vfio noiommu=0 unsafe_irqs=0 type1_unsafe_irqs=1\n");
	a = do_iopen();
	do_cdev(NVME);
	err_bindfd(EPERM, NVME, a);
	do_dclose(NVME);
	do_iclose(a);
	assert_int_equal(run_line("@option type1-unsafe-interrupts off"), 0);
	assert_false(self->m->type1_unsafe_irqs);
	assert_vfio_line("vfio noiommu=0 unsafe_irqs=0 type1_unsafe_irqs=0\n");
	assert_all_closed();
	assert_kernel_owned(NVME, 0);
	check_invariants();
}

/* ---- the group path opens a device any number of times ---- */

/*
 * vfio_df_open() (v6.6): only the cdev path refuses a second open of a
 * device (a second VFIO_DEVICE_BIND_IOMMUFD: -EINVAL). Through the group a
 * device is opened again and again; its first open uses the container
 * (vfio_group_use_container()) until its last file is closed.
 */
static void group_device_fd_twice(void **state)
{
	int g, c, a;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	c = do_assign(GPU);
	do_getfd(g, GPU);
	do_getfd(g, GPU);
	do_getfd(g, AUDIO);
	assert_int_equal(vdev_(GPU)->open_count, 3);
	assert_int_equal(vdev_(AUDIO)->open_count, 1);
	assert_int_equal(vgroup(GPU)->container_users, 3);
	err_unsetc(EBUSY, g);
	do_dclose(GPU);
	do_dclose(GPU);
	do_dclose(AUDIO);
	err_dclose(EBADF, AUDIO);
	err_unsetc(EBUSY, g);			/* GPU is open once more */
	assert_int_equal(vgroup(GPU)->container_users, 2);
	check_invariants();

	/* the admin unbinds GPU: one request, and userspace closes both */
	do_getfd(g, GPU);
	do_override(GPU, "\n");
	do_unbind("vfio-pci", GPU);
	assert_int_equal(log_count("Relaying device request to user"), 1);
	assert_null(vdev_(GPU));
	assert_owner(AUDIO, vgroup(AUDIO));
	assert_int_equal(vgroup(AUDIO)->container_users, 1);
	do_unsetc(g);
	assert_kernel_owned(AUDIO, 0);
	do_gclose(g);
	do_cclose(c);
	assert_all_closed();
	check_invariants();

	/* the cdev path: one bind per device */
	a = do_iopen();
	do_cdev(AUDIO);
	do_bindfd(AUDIO, a);
	err_bindfd(EINVAL, AUDIO, a);
	do_dclose(AUDIO);
	do_iclose(a);
	assert_all_closed();
	assert_kernel_owned(AUDIO, 0);
	check_invariants();
}

/* ---- closing never fails: a release runs with the last reference ---- */

static int tail_close_g;

static void close_tail(void)
{
	int g = tail_close_g;

	/* NVME's last file: the group file goes, and the container with it */
	do_dclose(NVME);
	assert_kernel_owned(NVME, 0);
	assert_false(vgroup(NVME)->opened);
	assert_true(list_empty(&self->m->vfio_containers));
	do_gopen(g);
	assert_int_equal(do_status(g), VFIO_GROUP_FLAGS_VIABLE);
	do_gclose(g);

	/* NIC's unbind: the iommufd goes */
	do_dclose(NIC);
	assert_kernel_owned(NIC, 0);
	assert_true(list_empty(&self->m->iommufds));
	assert_all_closed();
	to_host(NVME, "nvme");
	to_host(NIC, "e1000e");
	assert_kernel_owned(NVME, 1);
	assert_kernel_owned(NIC, 1);
}

/*
 * v6.6: close(2) of a group file, a container or an iommufd succeeds; the
 * release runs when the file's last reference goes.
 * vfio_group_fops_release(): a device file opened through the group holds
 * it (vfio_group_use_container()). vfio_fops_release(): each group set
 * holds the container (vfio_container_attach_group()). The iommufd: each
 * bound device holds it (iommufd_ctx_from_fd() at
 * VFIO_DEVICE_BIND_IOMMUFD).
 */
static void close_never_fails(void **state)
{
	struct iommufd_ctx *ictx;
	unsigned int ioas;
	int g, c, a;

	(void)state;
	boot_desktop();
	to_vfio(NVME);
	to_vfio(NIC);
	g = gid(NVME);

	do_gopen(g);
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_getfd(g, NVME);
	do_gclose(g);
	err_gclose(EBADF, g);
	err_status(EBADF, g, &scratch_flags);
	err_unsetc(EBADF, g);
	err_getfd(EBADF, g, NVME);
	err_gopen(EBUSY, g);		/* the file is still there */
	assert_true(vgroup(NVME)->opened);
	assert_owner(NVME, vgroup(NVME));
	assert_on_user_domain(NVME);

	do_cclose(c);
	err_cclose(EBADF, c);
	err_set_iommu(EBADF, c, VFIO_TYPE1v2_IOMMU);
	assert_int_equal(vfio_group_container(self->m, g), -1);
	assert_owner(NVME, vgroup(NVME));
	assert_on_user_domain(NVME);
	assert_int_equal(do_copen(), c);	/* its number is free again */
	err_set_iommu(EINVAL, c, VFIO_TYPE1v2_IOMMU);	/* new: no group */
	do_cclose(c);
	check_invariants();

	a = do_iopen();
	do_cdev(NIC);
	do_bindfd(NIC, a);
	ioas = do_ioas(a);
	do_attach(NIC, ioas);
	ictx = ictx_(a);
	do_iclose(a);
	err_iclose(EBADF, a);
	assert_rc(-EBADF, iommufd_ioas_alloc(self->m, a, &ioas));
	assert_int_equal(ictx->id, -1);
	assert_owner(NIC, ictx);
	assert_on_user_domain(NIC);
	/* the device's file still reaches its IOAS */
	do_detach(NIC);
	assert_on_blocking(NIC);
	do_attach(NIC, ioas);
	assert_on_user_domain(NIC);
	assert_int_equal(do_iopen(), a);	/* a new iommufd, empty */
	assert_rc(-EBADF, iommufd_ioas_alloc(self->m, a + 1, &ioas));
	do_iclose(a);
	check_invariants();

	tail_close_g = g;
	twin(close_tail);
	check_invariants();

	/* the admin unbinds under a closed group file and container */
	to_vfio(NVME);
	c = do_assign(NVME);
	do_gclose(g);
	do_cclose(c);
	assert_owner(NVME, vgroup(NVME));
	do_override(NVME, "\n");
	do_unbind("vfio-pci", NVME);
	assert_log("vfio-pci " NVME ": Relaying device request to user (#0)");
	assert_kernel_owned(NVME, 0);
	assert_true(list_empty(&self->m->vfio_groups) ||
		    !vfio_group_exists(self->m, g));
	assert_null(vgroup(NVME));
	err_gclose(EBADF, g);
	assert_all_closed();
	check_invariants();
}

/* ---- fsl-mc: a DPRC container and its objects ---- */

#define MC "80c000000.fsl-mc"
#define DPRC "dprc.1"
#define DPNI0 "dpni.0"
#define DPNI1 "dpni.1"
#define DPRC_KEY 30

static void add_mc_object(const char *name, const char *parent,
			  const char *type)
{
	struct device *dev = device_alloc(self->m, name, dev_(parent));

	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_FSL_MC));
	assert_rc(0, device_set_fw_iommu(dev, iommu_(), DPRC_KEY));
	device_set_mc_type(dev, type);
	assert_rc(0, device_add(dev));
}

static void to_vfio_fsl_mc(const char *dev)
{
	const char *host = device_driver_name(dev_(dev));

	do_override(dev, "vfio-fsl-mc");
	if (host)
		do_unbind(host, dev);
	do_bind("vfio-fsl-mc", dev);
}

/*
 * fsl_mc_dma_configure() (v6.6) configures an object's DMA on the first
 * ancestor that is not an fsl-mc device, the MC's platform device, with
 * the object's own stream ID: every object of the container joins the
 * container's group at its first probe, and the platform device (no
 * IOMMU) none. vfio-fsl-mc hands the group to userspace as a whole.
 */
static void fsl_mc_container(void **state)
{
	struct device *dev;
	int g, c;

	(void)state;
	dev = device_alloc(self->m, MC, NULL);
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_PLATFORM));
	assert_rc(0, device_set_fw_iommu(dev, NULL, 0));
	device_set_of_compatible(dev, "fsl,qoriq-mc");
	assert_rc(0, device_add(dev));
	add_mc_object(DPRC, MC, "dprc");
	add_mc_object(DPNI0, DPRC, "dpni");
	add_mc_object(DPNI1, DPRC, "dpni");
	do_load("fsl_dpaa2_eth");
	assert_bound(DPNI0, "fsl_dpaa2_eth");
	assert_bound(DPNI1, "fsl_dpaa2_eth");
	assert_ptr_equal(grp(DPNI0), grp(DPNI1));
	assert_null(dev_(MC)->iommu_group);
	assert_null(dev_(DPRC)->iommu_group);	/* never probed yet */
	assert_kernel_owned(DPNI0, 2);

	do_load("vfio_fsl_mc");
	to_vfio_fsl_mc(DPRC);
	assert_ptr_equal(grp(DPRC), grp(DPNI0));
	g = gid(DPRC);
	assert_true(vfio_group_exists(self->m, g));
	do_gopen(g);
	assert_int_equal(do_status(g), 0);	/* the dpnis' driver */
	do_gclose(g);
	to_vfio_fsl_mc(DPNI0);
	to_vfio_fsl_mc(DPNI1);
	assert_kernel_owned(DPRC, 0);
	c = do_assign(DPRC);
	assert_owner(DPNI0, vgroup(DPRC));
	assert_on_user_domain(DPRC);
	assert_on_user_domain(DPNI0);
	assert_on_user_domain(DPNI1);
	assert_null(dev_(MC)->iommu_group);
	check_invariants();
	/*
	 * vfio-fsl-mc has no request IRQ nor request op (v6.6): the VMM's
	 * eventfd is refused, and an unbind under it waits without a word
	 */
	assert_false(vdev_(DPRC)->req_trigger);
	assert_rc(-EINVAL, vfio_device_set_req_eventfd(self->m, DPRC));
	do_getfd(g, DPNI1);
	do_override(DPNI1, "\n");
	do_unbind("vfio-fsl-mc", DPNI1);
	assert_no_log("device request");
	assert_bound(DPNI1, NULL);
	to_vfio_fsl_mc(DPNI1);

	do_vmm_release(DPRC, c);
	assert_kernel_owned(DPNI0, 0);
	do_override(DPNI0, "\n");
	do_unbind("vfio-fsl-mc", DPNI0);
	do_bind("fsl_dpaa2_eth", DPNI0);
	assert_kernel_owned(DPNI0, 1);
	check_invariants();
}

/* ---- fail-nth: every fallible step of the VFIO paths, failed in turn ---- */

/* QEMU closes everything it opened when it gives up. */
static int vmm_assign_checked(struct machine *m, const char *dev, int *c)
{
	char msg[MSG_MAX];
	struct vfio_group *vg;
	int ret;

	*c = -1;
	ret = vmm_assign_device(m, dev, c, msg, sizeof(msg));
	if (ret) {
		assert_true(msg[0]);
		assert_int_equal(*c, -1);
		assert_true(list_empty(&m->vfio_containers));
		list_for_each_entry(vg, &m->vfio_groups, node)
			assert_false(vg->opened);
	} else {
		assert_false(msg[0]);
	}
	return ret;
}

/* What a VMM and an admin do, ignoring every result. */
static void sweep_ops(struct machine *m)
{
	struct bus_type *pci = machine_bus(m, BUS_PCI);
	struct device_driver *vfio = machine_find_driver(m, "vfio-pci");
	struct device_driver *hda = machine_find_driver(m, "snd_hda_intel");
	unsigned int ioas = 0;
	int c = -1, a = -1;

	if (!vmm_assign_checked(m, GPU, &c))
		vmm_release_device(m, GPU, c);

	if (!iommufd_open(m, &a)) {
		vfio_device_cdev_open(m, GPU);
		vfio_device_cdev_open(m, AUDIO);
		vfio_device_bind_iommufd(m, GPU, a);
		vfio_device_bind_iommufd(m, AUDIO, a);
		if (!iommufd_ioas_alloc(m, a, &ioas)) {
			vfio_device_attach_ioas(m, GPU, ioas);
			vfio_device_attach_ioas(m, AUDIO, ioas);
			vfio_device_detach_ioas(m, GPU);
		}
		vfio_device_close(m, GPU);
		vfio_device_close(m, AUDIO);
		iommufd_close(m, a);
	}

	/* S4 under an owned group, then back */
	vmm_assign_checked(m, GPU, &c);
	driver_override_store(bus_device_by_name(pci, AUDIO), "\n");
	unbind_store(vfio, AUDIO);
	bind_store(hda, AUDIO);
	if (c >= 0)
		vmm_release_device(m, GPU, c);
	bind_store(hda, AUDIO);
	unbind_store(hda, AUDIO);
	driver_override_store(bus_device_by_name(pci, AUDIO), "vfio-pci");
	drivers_probe_store(pci, AUDIO);

	/* S13: unbind under the VMM, which then closes what is left */
	if (!vmm_assign_checked(m, GPU, &c)) {
		int g = iommu_group_id(bus_device_by_name(pci, GPU)->iommu_group);

		unbind_store(vfio, GPU);
		unbind_store(vfio, AUDIO);
		vfio_group_close(m, g);
		vfio_container_close(m, c);
	}
	drivers_probe_store(pci, GPU);
	drivers_probe_store(pci, AUDIO);
}

/* Close every file the sweep may have left open. */
static void close_everything(struct machine *m)
{
	struct vfio_device *vd;
	struct vfio_group *vg, *next;

	list_for_each_entry(vd, &m->vfio_devices, node)
		while (vfio_device_file_of(vd, m->default_process, false))
			assert_int_equal(vfio_device_close(m, vd->dev->name),
					 0);
	list_for_each_entry_safe(vg, next, &m->vfio_groups, node)
		if (vg->opened)
			assert_int_equal(vfio_group_close(m, vg->noiommu ?
							   -1 - vg->id :
							   vg->id),
					 0);
	while (!list_empty(&m->vfio_containers))
		assert_int_equal(
			vfio_container_close(m, list_first_entry(
					&m->vfio_containers,
					struct vfio_container, node)->id),
			0);
	while (!list_empty(&m->iommufds))
		assert_int_equal(
			iommufd_close(m, list_first_entry(&m->iommufds,
							  struct iommufd_ctx,
							  node)->id),
			0);
}

static void fail_nth_sweep(void **state)
{
	unsigned int n;

	(void)state;
	boot_desktop_vfio();
	{
		/* without faults: one relayed request, and back on vfio-pci */
		struct machine *c = machine_clone(self->m), *orig = self->m;

		assert_non_null(c);
		sweep_ops(c);
		check_machine(c, 0, __FILE__, __LINE__);
		self->m = c;
		assert_int_equal(log_count("Relaying device request"), 1);
		assert_bound(GPU, "vfio-pci");
		assert_bound(AUDIO, "vfio-pci");
		assert_kernel_owned(GPU, 0);
		assert_all_closed();
		self->m = orig;
		machine_destroy(c);
	}
	for (n = 1; n < 2000; n++) {
		struct machine *c = machine_clone(self->m);
		struct iommu_group *g;
		bool fired;

		assert_non_null(c);
		machine_set_fail_nth(c, n);
		sweep_ops(c);
		fired = machine_fault_fired(c);
		machine_set_fail_nth(c, 0);
		check_machine(c, 0, __FILE__, __LINE__);
		close_everything(c);
		check_machine(c, 0, __FILE__, __LINE__);
		list_for_each_entry(g, &c->groups, node)
			assert_null(g->owner);
		machine_destroy(c);
		if (!fired)
			break;
	}
	assert_true(n > 10);
	assert_true(n < 2000);
	check_invariants();
}

/* ---- vfio-pci hot reset ---- */

/* a root port with an ACS-capable dual-port NIC: a group per function */
#define RP2 "0000:00:1c.0"
#define NIC0 "0000:02:00.0"
#define NIC1 "0000:02:00.1"

/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO on @dev: its errno; on success, the
 * flags in *@flags and the devices in @buf, one a line as "NAME group N"
 * or "NAME devid bound|owned|not-owned".
 */
static int _hr_info(const char *dev, unsigned int *flags, char *buf,
		    size_t len)
{
	struct vfio_pci_dependent_device *devs;
	size_t n, off = 0;
	int ret;

	ret = vfio_pci_get_hot_reset_info(self->m, dev, flags, &devs, &n);
	if (ret)
		return ret;
	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		if (*flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID)
			off += (size_t)snprintf(buf + off, len - off,
				"%s devid %s\n", devs[i].name,
				devs[i].devid == VFIO_PCI_DEVID_BOUND ? "bound" :
				devs[i].devid == VFIO_PCI_DEVID_OWNED ? "owned" :
									"not-owned");
		else
			off += (size_t)snprintf(buf + off, len - off,
						"%s group %d\n", devs[i].name,
						devs[i].group_id);
	}
	free(devs);
	return 0;
}

/* The info of @dev must be @want_flags and the lines @want. */
#define do_hr_info(dev, want_flags, want)                                 \
	do {                                                               \
		char got_[512];                                            \
		unsigned int flags_ = ~0u;                                 \
		assert_rc(0, _hr_info(dev, &flags_, got_, sizeof(got_)));  \
		assert_int_equal(flags_, want_flags);                      \
		assert_string_equal(got_, want);                           \
	} while (0)
#define err_hr_info(e, dev)                                               \
	do {                                                               \
		char got_[512];                                            \
		unsigned int flags_;                                       \
		assert_rc(-(e), _hr_info(dev, &flags_, got_, sizeof(got_))); \
	} while (0)

/* VFIO_DEVICE_PCI_HOT_RESET on @dev with the group files @groups. */
static int _hr(const char *dev, const int *groups, size_t n)
{
	return vfio_pci_hot_reset(self->m, dev, groups, n);
}

#define GROUPS(...) (const int[]){ __VA_ARGS__ }, \
	sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int)
#define NO_GROUPS NULL, 0
#define do_hr(dev, groups) assert_rc(0, _hr(dev, groups))
#define err_hr(e, dev, groups) assert_rc(-(e), _hr(dev, groups))

static char hr_want[512];

/* "A group G\nB group G\n" */
static const char *two_in_group(const char *a, const char *b, int g)
{
	snprintf(hr_want, sizeof(hr_want), "%s group %d\n%s group %d\n", a,
		 g, b, g);
	return hr_want;
}

/*
 * The group path (v6.6): vfio_pci_ioctl_get_pci_hot_reset_info() lists
 * every device on the bus and below it (pci_walk_bus() from the device's
 * bus: no slots, so vfio_pci_for_each_slot_or_bus() walks the bus) with
 * its group; vfio_pci_ioctl_pci_hot_reset() wants group files: none is
 * -EINVAL for a device opened through its group, more than the devices
 * affected -EINVAL (vfio_pci_ioctl_pci_hot_reset_groups()), a descriptor
 * that is no open file -EBADF; vfio_pci_dev_set_hot_reset() then wants
 * every affected device in the caller's device set
 * (vfio_pci_dev_set_resettable(): bound to vfio-pci, on that bus) and in
 * one of the groups given (vfio_dev_in_groups()), else -EINVAL. Without
 * an open device file there is no ioctl (-EBADF).
 */
static void hot_reset_groups(void **state)
{
	int g, c;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	err_hr_info(EBADF, GPU);
	err_hr(EBADF, GPU, GROUPS(g));
	do_gopen(g);
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	err_hr_info(EBADF, GPU);		/* the group is open, not GPU */
	do_getfd(g, GPU);

	do_hr_info(GPU, 0, two_in_group(GPU, AUDIO, g));
	err_hr(EINVAL, GPU, NO_GROUPS);
	err_hr(EINVAL, GPU, GROUPS(g, g, g));	/* two devices affected */
	err_hr(EBADF, GPU, GROUPS(g + 50));
	err_hr(EBADF, GPU, GROUPS(g, g + 50));
	do_hr(GPU, GROUPS(g));
	do_hr(GPU, GROUPS(g, g));
	assert_owner(GPU, vgroup(GPU));		/* a reset changes nothing */
	check_invariants();

	/* the audio function leaves vfio-pci: not in the device set */
	do_unbind("vfio-pci", AUDIO);
	do_hr_info(GPU, 0, two_in_group(GPU, AUDIO, g));
	err_hr(EINVAL, GPU, GROUPS(g));
	do_bind("vfio-pci", AUDIO);
	do_hr(GPU, GROUPS(g));

	do_dclose(GPU);
	err_hr(EBADF, GPU, GROUPS(g));
	do_gclose(g);
	do_cclose(c);
	assert_all_closed();
	check_invariants();
}

/* @dev on vfio-pci, through its group with a container: the container. */
static int open_by_group(const char *dev)
{
	int g = gid(dev), c;

	do_gopen(g);
	c = do_copen();
	do_setc(g, c);
	do_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	do_getfd(g, dev);
	return c;
}

static void add_dual_nic(void)
{
	add_port(RP2, NULL, PCI_EXP_TYPE_ROOT_PORT, 0);
	add_ep(NIC0, RP2, 0x8086, 0x1521, 0x020000, 0);
	add_ep(NIC1, RP2, 0x8086, 0x1521, 0x020000, 0);
	to_vfio(NIC0);
	to_vfio(NIC1);
	assert_int_not_equal(gid(NIC0), gid(NIC1));
}

/*
 * Two groups on one bus (v6.6 vfio_dev_in_groups()): the reset needs a
 * file of each, and a file is enough, without a container set; a device
 * on a root bus has no bus reset (pci_probe_reset_bus() fails without a
 * bridge): -ENODEV from both ioctls.
 */
static void hot_reset_two_groups(void **state)
{
	char want[256];
	int g0, g1, c, cn;

	(void)state;
	do_load("vfio-pci");
	add_dual_nic();
	g0 = gid(NIC0);
	g1 = gid(NIC1);
	c = open_by_group(NIC0);
	snprintf(want, sizeof(want), "%s group %d\n%s group %d\n", NIC0, g0,
		 NIC1, g1);
	do_hr_info(NIC0, 0, want);
	err_hr(EINVAL, NIC0, GROUPS(g0));	/* NIC1's group not given */
	err_hr(EBADF, NIC0, GROUPS(g0, g1));	/* not open */
	do_gopen(g1);
	do_hr(NIC0, GROUPS(g0, g1));
	do_hr(NIC0, GROUPS(g1, g0));
	err_hr(EINVAL, NIC0, GROUPS(g1));
	assert_kernel_owned(NIC1, 0);
	check_invariants();

	/* an NVMe on the root bus */
	add_nvme();
	to_vfio(NVME);
	cn = open_by_group(NVME);
	err_hr_info(ENODEV, NVME);
	err_hr(ENODEV, NVME, GROUPS(gid(NVME)));
	do_dclose(NVME);
	do_gclose(gid(NVME));
	do_cclose(cn);

	do_dclose(NIC0);
	do_gclose(g0);
	do_gclose(g1);
	do_cclose(c);
	assert_all_closed();
	check_invariants();
}

/*
 * vfio_pci_ioctl_pci_hot_reset_groups() (v6.6) takes the group files as
 * descriptors of the caller: one not open is EBADF, one that is not a
 * group file EINVAL (vfio_file_is_group()); another process's group file
 * is not the caller's to give.
 */
static void hot_reset_group_fds(void **state)
{
	struct vfio_pci_dependent_device *devs;
	struct process *a, *b;
	unsigned int flags;
	size_t n;
	int g0, g1, gf0, gf1, cf, df;

	(void)state;
	do_load("vfio-pci");
	add_dual_nic();
	g0 = gid(NIC0);
	g1 = gid(NIC1);
	a = machine_process(self->m, "qemu-a");
	b = machine_process(self->m, "qemu-b");
	gf0 = vfio_group_fd_open(a, g0);
	cf = vfio_container_fd_open(a);
	assert_rc(0, vfio_ioctl_group_set_container(a, gf0, cf));
	assert_rc(0, vfio_ioctl_set_iommu(a, cf, VFIO_TYPE1v2_IOMMU));
	df = vfio_ioctl_group_get_device_fd(a, gf0, NIC0);
	assert_int_equal(df, 5);
	gf1 = vfio_group_fd_open(b, g1);
	assert_int_equal(gf1, 3);
	assert_rc(0, vfio_ioctl_pci_hot_reset_info(a, df, &flags, &devs, &n));
	assert_int_equal(n, 2);
	assert_int_equal(flags, 0);
	assert_int_equal(devs[1].group_id, g1);
	free(devs);
	assert_rc(-EBADF, vfio_ioctl_pci_hot_reset(a, 9, (int[]){ gf0 }, 1));
	assert_rc(-EINVAL, vfio_ioctl_pci_hot_reset(a, df, (int[]){ gf0, cf }, 2));
	assert_rc(-EBADF, vfio_ioctl_pci_hot_reset(a, df, (int[]){ gf0, 6 }, 2));
	/* descriptor 3 of qemu-a is its own group 0 file, not qemu-b's g1 */
	assert_rc(-EINVAL, vfio_ioctl_pci_hot_reset(a, df, (int[]){ gf0, gf1 }, 2));
	assert_rc(0, process_close(b, gf1));
	gf1 = vfio_group_fd_open(a, g1);
	assert_int_equal(gf1, 6);
	assert_rc(0, vfio_ioctl_pci_hot_reset(a, df, (int[]){ gf1, gf0 }, 2));
	assert_rc(-ENOTTY, vfio_ioctl_pci_hot_reset(a, gf0, (int[]){ gf0 }, 1));
	check_invariants();
	process_exit(a);
	assert_all_closed();
	check_invariants();
}

/*
 * What the bus reset reaches (v6.6): a bridge on the bus and the devices
 * below it are affected too (pci_walk_bus()), and they are never in the
 * device set (a bridge is not a vfio-pci device; a device below it is in
 * its own bus's set): -EINVAL. A device without an IOMMU group makes the
 * group path's info fail with -EPERM (vfio_pci_fill_devs()). A device with
 * PCI_DEV_FLAGS_NO_BUS_RESET on the bus or below it (pci_bus_resetable()),
 * or on the bridge above, forbids any bus reset: -ENODEV.
 */
static void hot_reset_bus_shape(void **state)
{
	struct device *dev;
	char want[512];
	int g0, c;

	(void)state;
	do_load("vfio-pci");
	add_dual_nic();
	g0 = gid(NIC0);
	/* a PCIe-to-PCI bridge on the bus, a conventional device behind it */
	assert_rc(0, device_add(alloc_pci("0000:02:02.0", RP2, 0x8086, 0x244e,
					  0x060401, PCI_HEADER_TYPE_BRIDGE,
					  PCI_EXP_TYPE_PCI_BRIDGE, 0)));
	dev = device_alloc(self->m, "0000:03:00.0", dev_("0000:02:02.0"));
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_PCI));
	device_set_pci_ids(dev, 0x1102, 0x0002, 0x1102, 0x0001, 0x040100);
	device_set_pci_type(dev, PCI_HEADER_TYPE_NORMAL, PCI_EXP_TYPE_NONE);
	assert_rc(0, device_add(dev));	/* no IOMMU translates for it */
	c = open_by_group(NIC0);
	do_gopen(gid(NIC1));
	err_hr_info(EPERM, NIC0);
	err_hr(EINVAL, NIC0, GROUPS(g0, gid(NIC1)));
	check_invariants();
	/* gone: the bridge alone still forbids it */
	device_unregister(dev);
	if (is_x86()) {
		snprintf(want, sizeof(want),
			 "%s group %d\n%s group %d\n0000:02:02.0 group %d\n",
			 NIC0, g0, NIC1, gid(NIC1), gid("0000:02:02.0"));
		do_hr_info(NIC0, 0, want);
	}
	err_hr(EINVAL, NIC0, GROUPS(g0, gid(NIC1)));
	device_unregister(dev_("0000:02:02.0"));
	do_hr(NIC0, GROUPS(g0, gid(NIC1)));

	/* a function that must not see a bus reset joins the bus */
	dev = alloc_ep("0000:02:03.0", RP2, 0x168c, 0x0030, 0x028000, 0);
	assert_rc(0, device_set_pci_reset(dev, 0, true));
	assert_rc(0, device_add(dev));
	err_hr_info(ENODEV, NIC0);
	err_hr(ENODEV, NIC0, GROUPS(g0, gid(NIC1)));
	device_unregister(dev);
	do_hr(NIC0, GROUPS(g0, gid(NIC1)));

	do_dclose(NIC0);
	do_gclose(g0);
	do_gclose(gid(NIC1));
	do_cclose(c);
	assert_all_closed();
	check_invariants();
}

/*
 * The cdev path (v6.6): the ioctls need the device bound to an iommufd
 * (vfio_device_fops_unl_ioctl(): no access before, -EINVAL); the info then
 * gives devids (VFIO_PCI_HOT_RESET_FLAG_DEV_ID): a device bound to the
 * caller's iommufd its id, one whose group holds a device bound to it
 * VFIO_PCI_DEVID_OWNED (vfio_iommufd_get_dev_id(): -ENOENT), else
 * VFIO_PCI_DEVID_NOT_OWNED, and DEV_ID_OWNED only when none is not owned;
 * the reset takes no group files (-EINVAL with any) and wants every
 * affected device so owned (vfio_pci_dev_set_hot_reset()), else -EINVAL.
 */
static void hot_reset_iommufd(void **state)
{
	char want[256];
	int a, b;

	(void)state;
	do_load("vfio-pci");
	add_dual_nic();
	a = do_iopen();
	b = do_iopen();
	do_cdev(NIC0);
	err_hr_info(EINVAL, NIC0);
	err_hr(EINVAL, NIC0, NO_GROUPS);
	do_bindfd(NIC0, a);
	snprintf(want, sizeof(want), "%s devid bound\n%s devid not-owned\n",
		 NIC0, NIC1);
	do_hr_info(NIC0, VFIO_PCI_HOT_RESET_FLAG_DEV_ID, want);
	err_hr(EINVAL, NIC0, NO_GROUPS);
	err_hr(EINVAL, NIC0, GROUPS(gid(NIC1)));
	/* NIC1 bound to another iommufd: still not owned */
	do_cdev(NIC1);
	do_bindfd(NIC1, b);
	do_hr_info(NIC0, VFIO_PCI_HOT_RESET_FLAG_DEV_ID, want);
	err_hr(EINVAL, NIC0, NO_GROUPS);
	do_dclose(NIC1);
	do_cdev(NIC1);
	do_bindfd(NIC1, a);
	snprintf(want, sizeof(want), "%s devid bound\n%s devid bound\n", NIC0,
		 NIC1);
	do_hr_info(NIC0, VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
				 VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED,
		   want);
	do_hr(NIC0, NO_GROUPS);
	do_hr(NIC1, NO_GROUPS);
	check_invariants();
	do_dclose(NIC0);
	do_dclose(NIC1);
	do_iclose(a);
	do_iclose(b);
	assert_all_closed();
	check_invariants();
}

/*
 * A device not bound, in a group whose other device is bound to the
 * caller's iommufd: owned (v6.6 vfio_iommufd_get_dev_id(): -ENOENT, as
 * iommufd_ctx_has_group() holds), so the GPU's audio function does not
 * stop the reset; off vfio-pci it is in no device set (not owned).
 */
static void hot_reset_iommufd_group(void **state)
{
	char want[256];
	int a;

	(void)state;
	boot_desktop_vfio();
	a = do_iopen();
	do_cdev(GPU);
	do_bindfd(GPU, a);
	snprintf(want, sizeof(want), "%s devid bound\n%s devid owned\n", GPU,
		 AUDIO);
	do_hr_info(GPU, VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
				VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED,
		   want);
	do_hr(GPU, NO_GROUPS);
	/* off vfio-pci, the audio function is in no device set */
	do_unbind("vfio-pci", AUDIO);
	snprintf(want, sizeof(want), "%s devid bound\n%s devid not-owned\n",
		 GPU, AUDIO);
	do_hr_info(GPU, VFIO_PCI_HOT_RESET_FLAG_DEV_ID, want);
	err_hr(EINVAL, GPU, NO_GROUPS);
	do_dclose(GPU);
	do_iclose(a);
	assert_all_closed();
	check_invariants();
}

/*
 * Only vfio-pci has the ioctls: another vfio driver's device answers
 * -ENOTTY (vfio_platform_ioctl()).
 */
static void hot_reset_not_pci(void **state)
{
	struct device *dev;
	int c;

	(void)state;
	dev = device_alloc(self->m, USB, NULL);
	assert_false(IS_ERR_OR_NULL(dev));
	assert_rc(0, device_set_bus(dev, BUS_PLATFORM));
	assert_rc(0, device_set_fw_iommu(dev, iommu_(), 0));
	device_set_of_compatible(dev, "snps,dwc3");
	assert_rc(0, device_add(dev));
	assert_rc(0, driver_load_params(self->m, "vfio-platform",
					"reset_required=0"));
	do_override(USB, "vfio-platform");
	do_bind("vfio-platform", USB);
	c = do_assign(USB);
	err_hr_info(ENOTTY, USB);
	err_hr(ENOTTY, USB, GROUPS(gid(USB)));
	do_vmm_release(USB, c);
	check_invariants();
}

/* ---- processes and their descriptors (fs/file.c) ---- */

/*
 * alloc_fd(): descriptors from 3, the lowest free first, below the
 * process's RLIMIT_NOFILE; close_fd() of one not open is EBADF; an ioctl
 * on a file of another kind is ENOTTY (the file's ioctl does not know it).
 */
static void process_descriptors(void **state)
{
	struct process *a = machine_process(self->m, "qemu-a");
	unsigned int ioas;

	(void)state;
	assert_non_null(a);
	assert_ptr_equal(machine_process(self->m, "qemu-a"), a);
	assert_ptr_equal(machine_find_process(self->m, "qemu-a"), a);
	assert_null(machine_find_process(self->m, "qemu-b"));
	assert_string_equal(process_name(a), "qemu-a");
	assert_int_equal(process_pid(a), 1000);
	assert_int_equal(process_nofile(a), MACHINE_NOFILE_DEFAULT);
	assert_int_equal(iommufd_fd_open(a), 3);
	assert_int_equal(vfio_container_fd_open(a), 4);
	assert_int_equal(iommufd_fd_open(a), 5);
	assert_int_equal(process_open_fds(a), 3);
	/* the shell's numbering is its own */
	assert_int_equal(machine_open_fds(self->m), 0);
	assert_rc(0, process_close(a, 4));
	assert_rc(-EBADF, process_close(a, 4));
	assert_rc(-EBADF, process_close(a, 99));
	assert_int_equal(vfio_container_fd_open(a), 4);
	/* ioctls on the wrong file */
	assert_rc(-ENOTTY, vfio_ioctl_set_iommu(a, 3, VFIO_TYPE1v2_IOMMU));
	assert_rc(-ENOTTY, iommufd_ioctl_ioas_alloc(a, 4, &ioas));
	assert_rc(-ENOTTY, vfio_ioctl_group_unset_container(a, 1));
	assert_rc(-EBADF, vfio_ioctl_group_unset_container(a, 42));
	assert_rc(0, iommufd_ioctl_ioas_alloc(a, 5, &ioas));
	assert_int_equal(ioas, 1);
	/* RLIMIT_NOFILE is the first descriptor refused, per process */
	assert_rc(0, process_set_nofile(a, 7));
	assert_int_equal(iommufd_fd_open(a), 6);
	assert_rc(-EMFILE, iommufd_fd_open(a));
	assert_rc(-EMFILE, vfio_cdev_fd_open(a, "0000:ff:00.0"));
	assert_int_equal(process_open_fds(a), 4);
	check_invariants();
	/* a new process inherits the shell's limit, not a sibling's */
	assert_rc(0, machine_set_nofile_limit(self->m, 64));
	assert_int_equal(process_nofile(machine_process(self->m, "qemu-b")), 64);
	assert_int_equal(process_pid(machine_process(self->m, "qemu-b")), 1001);
	process_exit(a);
	assert_null(machine_find_process(self->m, "qemu-a"));
	assert_non_null(machine_find_process(self->m, "qemu-b"));
	check_invariants();
	/* @a stays valid: a new instance starts with its next open */
	assert_int_equal(iommufd_fd_open(a), 3);
	assert_ptr_equal(machine_find_process(self->m, "qemu-a"), a);
	assert_int_equal(process_pid(a), 1002);
	assert_int_equal(process_nofile(a), 64);
	process_exit(a);
	check_invariants();
}

/*
 * vfio_device_fops_cdev_open() checks nothing: two processes hold files of
 * one cdev. vfio_df_ioctl_bind_iommufd(): a process binds with its own
 * iommufd (EBADF not open, EBADFD not an iommufd); vfio_df_open(): the
 * second bind of the device is EINVAL while the first file is bound, and
 * succeeds once that file is closed.
 */
static void two_processes_one_cdev(void **state)
{
	struct process *a, *b;
	int fa, fb, ia, ib;

	(void)state;
	boot_desktop_vfio();
	a = machine_process(self->m, "qemu-a");
	b = machine_process(self->m, "qemu-b");
	ia = iommufd_fd_open(a);
	ib = iommufd_fd_open(b);
	assert_int_equal(ia, 3);
	assert_int_equal(ib, 3);
	fa = vfio_cdev_fd_open(a, GPU);
	fb = vfio_cdev_fd_open(b, GPU);
	assert_int_equal(fa, 4);
	assert_int_equal(fb, 4);
	assert_rc(-ENODEV, vfio_cdev_fd_open(b, RP));
	assert_rc(-EBADF, vfio_ioctl_bind_iommufd(b, fb, 9));
	assert_rc(-EBADFD, vfio_ioctl_bind_iommufd(b, fb, fb));
	assert_rc(-EINVAL, vfio_ioctl_attach_ioas(b, fb, 1));	/* no access */
	assert_rc(0, vfio_ioctl_bind_iommufd(a, fa, ia));
	assert_rc(-EINVAL, vfio_ioctl_bind_iommufd(a, fa, ia)); /* bound */
	assert_rc(-EINVAL, vfio_ioctl_bind_iommufd(b, fb, ib)); /* opened */
	assert_cnt(GPU, 1);
	assert_on_blocking(GPU);
	/* the bind failed: b's file is open, has no access, blocks nothing */
	assert_rc(-EINVAL, vfio_ioctl_set_req_eventfd(b, fb));
	check_invariants();
	assert_rc(0, process_close(a, fa));
	assert_kernel_owned(GPU, 0);
	assert_rc(0, vfio_ioctl_bind_iommufd(b, fb, ib));
	assert_cnt(GPU, 1);
	check_invariants();
	/* the device is unbound from the host: every process lets go */
	do_override(GPU, "\n");
	do_unbind("vfio-pci", GPU);
	assert_int_equal(process_open_fds(b), 1);
	assert_int_equal(process_open_fds(a), 1);
	assert_rc(-EBADF, vfio_ioctl_detach_ioas(b, fb));
	check_invariants();
}

/*
 * vfio_group_fops_open(): one group file at a time, whichever process;
 * vfio_group_ioctl_set_container() takes the container by descriptor
 * (EBADF, then EINVAL/ENODEV, then EBADFD for a file that is not one);
 * at exit, close_files() lets everything go, lowest descriptor first.
 */
static void group_file_across_processes(void **state)
{
	struct process *a, *b;
	unsigned int flags;
	int g, gf, cf, df, df2;

	(void)state;
	boot_desktop_vfio();
	g = gid(GPU);
	a = machine_process(self->m, "qemu-a");
	b = machine_process(self->m, "qemu-b");
	gf = vfio_group_fd_open(a, g);
	assert_int_equal(gf, 3);
	assert_rc(-EBUSY, vfio_group_fd_open(b, g));
	assert_rc(-EBUSY, vfio_group_open(self->m, g));	/* the shell's */
	assert_rc(-EBADF, vfio_group_close(self->m, g));	/* not its file */
	cf = vfio_container_fd_open(a);
	assert_int_equal(cf, 4);
	assert_rc(-EBADF, vfio_ioctl_group_set_container(a, gf, 9));
	assert_rc(-EBADFD, vfio_ioctl_group_set_container(a, gf, gf));
	assert_rc(-EBADF, vfio_ioctl_group_set_container(b, gf, cf));
	assert_rc(0, vfio_ioctl_group_set_container(a, gf, cf));
	assert_rc(-EINVAL, vfio_ioctl_group_set_container(a, gf, cf));
	assert_rc(-EINVAL, vfio_ioctl_group_get_device_fd(a, gf, GPU));
	assert_rc(0, vfio_ioctl_set_iommu(a, cf, VFIO_TYPE1v2_IOMMU));
	assert_rc(-ENODEV, vfio_ioctl_group_get_device_fd(a, gf, NVME));
	df = vfio_ioctl_group_get_device_fd(a, gf, GPU);
	df2 = vfio_ioctl_group_get_device_fd(a, gf, GPU);
	assert_int_equal(df, 5);
	assert_int_equal(df2, 6);
	assert_int_equal(vfio_device_fd_of(a, GPU, false), 6);
	assert_rc(-EBADF, vfio_device_fd_of(a, GPU, true));
	assert_rc(-EBADF, vfio_device_fd_of(b, GPU, false));
	/* a group file's device takes no cdev ioctl: its driver's ENOTTY */
	assert_rc(-ENOTTY, vfio_ioctl_attach_ioas(a, df, 1));
	assert_rc(0, vfio_ioctl_set_req_eventfd(a, df));
	assert_rc(0, vfio_ioctl_group_get_status(a, gf, &flags));
	assert_int_equal(flags,
			 VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	assert_owner(GPU, vgroup(GPU));
	/* the descriptor goes; its device files hold the group file */
	assert_rc(0, process_close(a, gf));
	assert_rc(-EBUSY, vfio_group_fd_open(b, g));
	assert_owner(GPU, vgroup(GPU));
	check_invariants();
	process_exit(a);
	assert_kernel_owned(GPU, 0);
	assert_int_equal(vfio_group_fd_open(b, g), 3);
	check_invariants();
	process_exit(b);
	assert_all_closed();
	check_invariants();
}

/*
 * The state is what the processes hold, not the order they began in: two
 * machines whose processes started the other way round compare equal; a
 * descriptor more tells them apart; clones keep the tables.
 */
static void processes_are_state(void **state)
{
	struct machine *copy = machine_clone(self->m);
	struct process *p;

	(void)state;
	assert_non_null(copy);
	assert_non_null(machine_process(self->m, "qemu-a"));
	assert_non_null(machine_process(self->m, "qemu-b"));
	assert_non_null(machine_process(copy, "qemu-b"));
	assert_non_null(machine_process(copy, "qemu-a"));
	assert_true(machine_equal(self->m, copy));
	p = machine_find_process(copy, "qemu-b");
	assert_int_equal(iommufd_fd_open(p), 3);
	assert_false(machine_equal(self->m, copy));
	machine_destroy(copy);
	copy = machine_clone(self->m);
	assert_non_null(copy);
	p = machine_find_process(self->m, "qemu-b");
	assert_int_equal(iommufd_fd_open(p), 3);
	machine_destroy(copy);
	copy = machine_clone(self->m);
	assert_non_null(copy);
	assert_true(machine_equal(self->m, copy));
	p = machine_find_process(copy, "qemu-b");
	assert_int_equal(process_open_fds(p), 1);
	assert_int_equal(iommufd_fd_open(p), 4);	/* the copy's own table */
	assert_int_equal(process_open_fds(machine_find_process(self->m,
							       "qemu-b")), 1);
	machine_destroy(copy);
	check_invariants();
}

/* The script verbs: @as NAME [VERB], @close FD, @exit [NAME]. */
static void process_verbs(void **state)
{
	struct script_ctx *ctx = script_ctx_new(self->m, "procs.sh");

	(void)state;
	assert_non_null(ctx);
	boot_desktop_vfio();
	do_sh(ctx, "@as qemu-a @iommufd open", "fd 3\n");
	do_sh(ctx, "@as qemu-a @iommufd ioas-alloc 3", "ioas 1\n");
	do_sh(ctx, "@as qemu-a @vfio cdev-open " GPU, "fd 4\n");
	do_sh(ctx, "@as qemu-b @vfio cdev-open " GPU, "fd 3\n");
	/* a device's name stands for its newest file in the process */
	do_sh(ctx, "@as qemu-a @vfio bind-iommufd " GPU " 3", "");
	do_sh(ctx, "@as qemu-a @vfio attach-ioas 4 1", "");
	/* its descriptor 3 is the cdev, not an iommufd */
	err_sh(ctx, 1, "@as qemu-b @vfio bind-iommufd 3 3",
	       "@vfio bind-iommufd: File descriptor in bad state\n");
	/* the block form, back to the shell with "@as sh" */
	do_sh(ctx, "@as qemu-b", "");
	do_sh(ctx, "@iommufd open", "fd 4\n");
	err_sh(ctx, 1, "@vfio bind-iommufd 3 4",
	       "@vfio bind-iommufd: Invalid argument\n");
	do_sh(ctx, "ulimit -n 5", "");
	err_sh(ctx, 1, "@iommufd open", "@iommufd open: Too many open files\n");
	err_sh(ctx, 2, "@vmm assign " GPU,
	       "@vmm: runs in the shell's process (\"@as sh\"); a named process uses @vfio verbs\n");
	do_sh(ctx, "@as sh", "");
	do_sh(ctx, "ulimit -n", "1024\n");
	do_sh(ctx, "@iommufd open", "iommufd 0\n");	/* the legacy numbers */
	err_sh(ctx, 1, "@as qemu-a @close 9", "@close: Bad file descriptor\n");
	err_sh(ctx, 2, "@close x", "usage: @close FD\n");
	err_sh(ctx, 2, "@as -x @close 3",
	       "usage: @as NAME [@vfio|@iommufd|@close|@exit|ulimit ...] (NAME: letters, digits, . _ - +)\n");
	err_sh(ctx, 2, "@as qemu-a echo hi",
	       "usage: @as NAME [@vfio|@iommufd|@close|@exit|ulimit ...]\n");
	err_sh(ctx, 1, "@exit nobody", "@exit: nobody: No such process\n");
	assert_cnt(GPU, 1);
	do_sh(ctx, "@exit qemu-a", "");
	assert_kernel_owned(GPU, 0);
	do_sh(ctx, "@as qemu-b @vfio bind-iommufd " GPU " 4", "");
	assert_cnt(GPU, 1);
	do_sh(ctx, "@as qemu-b @vfio device-close " GPU, "");
	assert_kernel_owned(GPU, 0);
	do_sh(ctx, "@exit qemu-b", "");
	do_sh(ctx, "@exit", "");	/* the shell closes its files, stays */
	assert_all_closed();
	check_invariants();
	script_ctx_free(ctx);
}

/* ---- the list ---- */

#define T(fn, var) { #fn "@" #var, fn, setup, teardown, &var }
#define EVERY_FW(fn) T(fn, var_x86), T(fn, var_iort), T(fn, var_dt)

int main(void)
{
	const struct CMUnitTest tests[] = {
		EVERY_FW(core_scenario),
		EVERY_FW(gpu_audio_viability),
		EVERY_FW(kernel_bind_into_owned_group),
		EVERY_FW(managed_dma_members),
		EVERY_FW(hotplug_into_owned_group),
		EVERY_FW(iommufd_shared_ownership),
		EVERY_FW(kernel_versions_nodes),
		EVERY_FW(kernel_versions_set_container),
		EVERY_FW(container_excludes_cdev),
		EVERY_FW(cdev_blocks_group_file),
		EVERY_FW(iommufd_bind_refusals),
		EVERY_FW(group_node_lifecycle),
		EVERY_FW(legacy_ioctl_errnos),
		EVERY_FW(unbind_while_open),
		EVERY_FW(module_refs_rmmod),
		T(closed_iommufds_in_state, var_x86),
		T(closed_iommufd_two_devices, var_x86),
		EVERY_FW(device_request_channel),
		EVERY_FW(stale_group_file),
		EVERY_FW(resv_direct),
		T(no_iommu, var_nohw),
		T(noiommu_ids, var_nohw),
		T(no_iommu_api_no_vfio, var_noapi),
		T(noiommu_mix, var_x86),
		EVERY_FW(pci_bridge_group),
		T(vfio_platform, var_dt),
		T(vfio_platform, var_iort),
		T(vfio_platform_reset, var_dt),
		T(vfio_platform_reset, var_iort),
		EVERY_FW(attach_errors),
		EVERY_FW(foreign_domain),
		T(variant_driver, var_x86),
		T(file_limits, var_x86),
		T(process_descriptors, var_x86),
		EVERY_FW(two_processes_one_cdev),
		EVERY_FW(group_file_across_processes),
		T(processes_are_state, var_x86),
		T(process_verbs, var_x86),
		T(hot_reset_group_fds, var_x86),
		T(many_groups, var_x86),
		T(claim_4096_groups, var_x86),
		T(groups_beyond_4096, var_x86),
		T(ulimit_builtin, var_x86),
		EVERY_FW(hot_remove_open_device),
		EVERY_FW(type1_unsafe_interrupts),
		EVERY_FW(group_device_fd_twice),
		EVERY_FW(close_never_fails),
		T(fsl_mc_container, var_dt),
		T(fsl_mc_container, var_iort),
		EVERY_FW(fail_nth_sweep),
		EVERY_FW(hot_reset_groups),
		EVERY_FW(hot_reset_two_groups),
		EVERY_FW(hot_reset_bus_shape),
		EVERY_FW(hot_reset_iommufd),
		EVERY_FW(hot_reset_iommufd_group),
		T(hot_reset_not_pci, var_dt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
