// SPDX-License-Identifier: MIT
/*
 * The isolation invariants, checked on a quiescent machine.
 */
#include <stdio.h>
#include <string.h>

#include "check/check-priv.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

const char *check_invariant_name(unsigned int inv)
{
	switch (inv) {
	case INV_ISOLATION:
		return "I1 isolation";
	case INV_ACCOUNTING:
		return "I2 accounting";
	case INV_DOMAINS:
		return "I3 domains";
	case INV_NO_WARN:
		return "I4 no WARN";
	case INV_FAILED_NOOP:
		return "I5 failed operation changed ownership";
	case INV_TEARDOWN:
		return "I6 teardown";
	default:
		return "?";
	}
}

static bool kernel_dma_user(const struct device *dev)
{
	return dev->driver && !dev->driver->driver_managed_dma;
}

/*
 * The userspace claims a user-owned group should count: its vfio group's
 * container, or its members bound to the owning iommufd. Walks the group's
 * own members, not the machine.
 */
static unsigned int expected_claims(struct machine *m, struct iommu_group *g)
{
	struct vfio_group *vg = g->vfio_group;
	struct group_device *gdev;
	unsigned int n = 0;

	if (vg && vg->iommu_group == g && vg->container && (void *)vg == g->owner)
		return 1;
	for_each_group_device(g, gdev) {
		struct vfio_device *vdev =
			vfio_device_by_name(m, dev_name(gdev->dev));

		if (vdev && vdev->dev == gdev->dev && vdev->ictx &&
		    (void *)vdev->ictx == g->owner)
			n++;
	}
	return n;
}

#define FAIL(bit, ...)                                                \
	do {                                                          \
		if (!bad && why)                                      \
			snprintf(why, why_len, __VA_ARGS__);          \
		bad |= (bit);                                         \
	} while (0)

static unsigned int check_group(struct machine *m, struct iommu_group *g,
				unsigned int which, char *why, size_t why_len)
{
	struct group_device *gdev;
	struct device *dev;
	unsigned int bad = 0, users = 0;

	for_each_group_device(g, gdev) {
		dev = gdev->dev;
		users += kernel_dma_user(dev);
		if ((which & INV_ISOLATION) && g->owner && kernel_dma_user(dev))
			FAIL(INV_ISOLATION,
			     "%s is bound to %s, a kernel DMA-API driver, in group %d which userspace owns",
			     dev->name, dev->driver->name, g->id);
		if ((which & INV_DOMAINS) && dev->iommu_domain != g->domain)
			FAIL(INV_DOMAINS,
			     "%s is attached to another domain than its group %d",
			     dev->name, g->id);
	}
	/*
	 * Kernel mode: one count per member bound to a DMA-API driver, the
	 * protocol's meaning of owner_cnt, whatever the bookkeeping did.
	 */
	if (which & INV_ACCOUNTING) {
		if (!g->owner && g->owner_cnt != users)
			FAIL(INV_ACCOUNTING,
			     "group %d: owner_cnt %u but %u member%s bound to kernel DMA-API drivers",
			     g->id, g->owner_cnt, users, users == 1 ? "" : "s");
		if (g->owner && g->owner_cnt != expected_claims(m, g))
			FAIL(INV_ACCOUNTING,
			     "group %d: owned by userspace with owner_cnt %u for %u claims",
			     g->id, g->owner_cnt, expected_claims(m, g));
	}
	if (which & INV_DOMAINS) {
		if (!g->owner && g->domain != g->default_domain)
			FAIL(INV_DOMAINS,
			     "group %d: not owned but not on its default domain",
			     g->id);
		if (g->owner && g->domain != g->blocking_domain &&
		    (!g->domain || g->domain->type != IOMMU_DOMAIN_UNMANAGED))
			FAIL(INV_DOMAINS,
			     "group %d: owned by userspace but on a kernel domain",
			     g->id);
	}
	return bad;
}

/*
 * The teardown, as script lines a user could type: close every VFIO and
 * iommufd file, unbind every device, unload every driver, remove every
 * device. Appended to @l in order.
 */
static void teardown_lines(struct machine *m, struct strlist *l)
{
	struct bus_type *bus;
	struct device_driver *drv;
	struct process *p;
	struct device *dev;

	/*
	 * every process lets go of its files (close_files(): what they hold
	 * goes with the last of them); the shell stays
	 */
	list_for_each_entry(p, &m->processes, node)
		if (process_has_files(p))
			strlist_add(l, "@exit %s", p->name);
	list_for_each_entry_reverse(dev, &m->devices, node)
		if (dev->added && dev->driver)
			strlist_add(l, "echo %s > /sys/bus/%s/drivers/%s/unbind",
				    dev->name, dev->bus->name,
				    dev->driver->name);
	list_for_each_entry(bus, &m->buses, node)
		list_for_each_entry(drv, &bus->drivers, node)
			strlist_add(l, "rmmod %s", drv->name);
	list_for_each_entry_reverse(dev, &m->devices, node) {
		if (!dev->added || !dev->bus)
			continue;
		if (dev->bus->ops->kind == BUS_PCI)
			strlist_add(l, "echo 1 > /sys/bus/pci/devices/%s/remove",
				    dev->name);
		else
			strlist_add(l, "@hotplug remove %s", dev->name);
	}
}

/* The same teardown, straight through the API: the fast path for I6. */
static void teardown_direct(struct machine *m)
{
	struct process *p, *next;
	struct bus_type *bus;
	struct device *dev;

	list_for_each_entry_safe(p, next, &m->processes, node)
		if (process_has_files(p))
			process_exit(p);
	list_for_each_entry_reverse(dev, &m->devices, node)
		if (dev->added && dev->driver)
			device_driver_detach(dev);
	list_for_each_entry(bus, &m->buses, node)
		while (!list_empty(&bus->drivers))
			driver_unload(m, list_first_entry(&bus->drivers,
							  struct device_driver,
							  node)->name);
	list_for_each_entry_reverse(dev, &m->devices, node)
		if (dev->added && dev->bus)
			device_unregister(dev);
}

/* I6 on @t itself, which it consumes; @m is what @t was copied from. */
static int teardown_on(struct machine *m, struct machine *t,
		       struct strlist *ret_lines, char *why, size_t why_len);

int check_teardown(struct machine *m, struct strlist *ret_lines, char *why,
		   size_t why_len)
{
	return teardown_on(m, machine_clone(m), ret_lines, why, why_len);
}

int check_teardown_consume(struct machine *m, char *why, size_t why_len)
{
	return teardown_on(m, m, NULL, why, why_len);
}

static int teardown_on(struct machine *m, struct machine *t,
		       struct strlist *ret_lines, char *why, size_t why_len)
{
	struct strlist l = { 0 };
	struct script_ctx *ctx;
	struct device *dev, *child;
	struct ptrmap children;
	size_t warns = machine_warn_count(m);
	unsigned int bad = 0;

	if (!t)
		return 0; /* no memory: nothing proven, nothing refuted */
	if (!ret_lines) {
		teardown_direct(t);
		if (machine_warn_count(t) > warns) {
			const struct warn_report *w = machine_warn(t, warns);

			FAIL(INV_TEARDOWN, "tearing down fired a WARN in %s",
			     w ? w->func : "?");
		}
	}
	ctx = ret_lines ? script_ctx_new(t, "teardown") : NULL;
	if (ctx)
		teardown_lines(t, &l);
	for (size_t i = 0; ctx && i < l.n; i++) {
		struct script_result res;

		script_exec_line(ctx, l.v[i], (int)i + 1, &res);
		script_result_free(&res);
		if (ret_lines && !bad)
			strlist_add(ret_lines, "%s", l.v[i]);
		if (machine_warn_count(t) > warns && !bad) {
			const struct warn_report *w = machine_warn(t, warns);

			FAIL(INV_TEARDOWN, "tearing down fired a WARN in %s",
			     w ? w->func : "?");
			break;
		}
	}
	script_ctx_free(ctx);
	strlist_free(&l);
	if (!bad && !list_empty(&t->groups))
		FAIL(INV_TEARDOWN, "group %d survives teardown",
		     list_first_entry(&t->groups, struct iommu_group, node)->id);
	if (!bad && !list_empty(&t->domains))
		FAIL(INV_TEARDOWN, "a %s domain survives teardown",
		     iommu_domain_type_str(list_first_entry(
			     &t->domains, struct iommu_domain, node)->type));
	/* each device holds its parent: count children in one pass */
	ptrmap_init(&children);
	list_for_each_entry(child, &t->devices, node)
		if (child->parent)
			ptrmap_put(&children, child->parent,
				   (void *)((uintptr_t)ptrmap_get(&children,
								 child->parent) +
					    1));
	list_for_each_entry(dev, &t->devices, node) {
		unsigned int want =
			1 + (unsigned int)(uintptr_t)ptrmap_get(&children, dev);

		if (bad)
			break;
		if (kref_read(&dev->kref) != want)
			FAIL(INV_TEARDOWN,
			     "%s keeps %u references after teardown (boot: %u)",
			     dev->name, kref_read(&dev->kref), want);
	}
	ptrmap_free(&children);
	machine_destroy(t);
	return (int)bad;
}

unsigned int machine_check_invariants(struct machine *m, unsigned int which,
				      char *why, size_t why_len)
{
	struct iommu_group *g;
	unsigned int bad = 0;

	if (why && why_len)
		why[0] = '\0';
	/* the driver core's record must point only at the device's group */
	if (which & INV_ACCOUNTING) {
		struct device *dev;

		list_for_each_entry(dev, &m->devices, node)
			if (dev->dma_use.group &&
			    dev->dma_use.group != dev->iommu_group)
				FAIL(INV_ACCOUNTING,
				     "%s holds a DMA use count in group %d but is not in it",
				     dev->name, dev->dma_use.group->id);
	}
	list_for_each_entry(g, &m->groups, node) {
		unsigned int b = check_group(m, g, which,
					     bad ? NULL : why, why_len);

		bad |= b;
	}
	if ((which & INV_NO_WARN) && machine_warn_count(m)) {
		const struct warn_report *w = machine_warn(m, 0);

		FAIL(INV_NO_WARN, "WARN at %s:%d %s (%s)", w ? w->file : "?",
		     w ? w->line : 0, w ? w->func : "?",
		     w && w->cond ? w->cond : "");
	}
	/* I6 even when others fail: its trace is the one that replays */
	if (which & INV_TEARDOWN)
		bad |= (unsigned int)check_teardown(m, NULL, bad ? NULL : why,
						    why_len);
	return bad;
}
