// SPDX-License-Identifier: MIT
/*
 * Binding drivers to devices: really_probe(), release, deferred probe.
 * Counterpart of drivers/base/dd.c at about v6.6.
 */
#include <string.h>

#include "drivers/base/base.h"
#include "drivers/pci/pci.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

int driver_match_device(struct device_driver *drv, struct device *dev)
{
	return drv->bus->ops->match ? drv->bus->ops->match(dev, drv) : 1;
}

/* ---- deferred probe ---- */

static void driver_deferred_probe_add(struct device *dev)
{
	struct machine *m = dev->m;

	mutex_lock(&m->obj_lock);
	if (list_empty(&dev->deferred)) {
		list_add_tail(&dev->deferred, &m->deferred_probe);
		get_device(dev);
	}
	mutex_unlock(&m->obj_lock);
}

void driver_deferred_probe_del(struct device *dev)
{
	struct machine *m = dev->m;
	bool was_queued = false;

	mutex_lock(&m->obj_lock);
	if (!list_empty(&dev->deferred)) {
		list_del(&dev->deferred);
		was_queued = true;
	}
	mutex_unlock(&m->obj_lock);
	if (was_queued)
		put_device(dev);
}

/*
 * Retry every deferred device. The kernel does this from a work item after
 * any successful bind; the model does it synchronously, so the result of a
 * command is complete when the command returns.
 */
void driver_deferred_probe_trigger(struct machine *m)
{
	LIST_HEAD(pending);
	struct device *dev;

	KFUNC();
	mutex_lock(&m->obj_lock);
	list_splice_init(&m->deferred_probe, &pending);
	mutex_unlock(&m->obj_lock);
	for (;;) {
		mutex_lock(&m->obj_lock);
		if (list_empty(&pending)) {
			mutex_unlock(&m->obj_lock);
			return;
		}
		dev = list_first_entry(&pending, struct device, deferred);
		list_del(&dev->deferred);
		mutex_unlock(&m->obj_lock);
		/*
		 * deferred_probe_work_func() retries with bus_probe_device(),
		 * so drivers_autoprobe "0" holds here too; a device that
		 * defers again goes back on the machine's list.
		 */
		if (dev->added && !READ_ONCE(dev->driver))
			bus_probe_device(dev);
		put_device(dev);
	}
}

/* ---- probe ---- */

/*
 * The probe-fault hook: the errno this probe fails with, or 0. Under the
 * bus's ids_lock: probes of two devices of one driver run at once, each
 * under its own device_lock, and a count of 1 must fail exactly one.
 */
static int driver_probe_fault(struct device_driver *drv)
{
	int ret = 0;

	mutex_lock(&drv->bus->ids_lock);
	if (drv->fail_count) {
		ret = drv->fail_errno;
		if (drv->fail_count > 0)
			drv->fail_count--;
	}
	mutex_unlock(&drv->bus->ids_lock);
	return ret;
}

static int call_driver_probe(struct device *dev, struct device_driver *drv)
{
	int ret = driver_probe_fault(drv);

	if (!ret && dev->bus->ops->probe)
		ret = dev->bus->ops->probe(dev);

	switch (ret) {
	case 0:
		break;
	case -EPROBE_DEFER:
		dev_dbg(dev, "Driver %s requests probe deferral", drv->name);
		break;
	case -ENODEV:
	case -ENXIO:
		/* the driver looked and said no: not an error worth a line */
		break;
	default:
		/* after v6.6 (6.12 has it): on the device, as an error */
		if (machine_kernel(dev->m) == MACHINE_KERNEL_6_12)
			dev_err(dev, "probe with driver %s failed with error %d",
				drv->name, ret);
		else
			pr_warn(dev->m, "%s: probe of %s failed with error %d",
				drv->name, dev_name(dev), ret);
		break;
	}
	return ret;
}

static void driver_bound(struct device *dev)
{
	mutex_lock(&dev->m->obj_lock);
	list_add_tail(&dev->drv_node, &dev->driver->devices);
	mutex_unlock(&dev->m->obj_lock);
	WRITE_ONCE(dev->bound, true); /* sysfs peeks without device_lock */
	driver_deferred_probe_del(dev);
	/* BUS_NOTIFY_BOUND_DRIVER: vfio-pci watches its PFs' VFs */
	vfio_pci_bus_notifier_bound(dev);
}

/*
 * Bind @drv to @dev. Returns 0, a negative errno for a failure before the
 * driver's probe (dma_configure), or a positive errno for the driver's own
 * probe failure, as the kernel does so callers can tell them apart.
 */
static int really_probe(struct device *dev, struct device_driver *drv)
{
	int ret;

	KFUNC();
	lockdep_assert_held(dev->m, &dev->mutex);
	WRITE_ONCE(dev->driver, drv);

	if (dev->bus->ops->dma_configure) {
		ret = dev->bus->ops->dma_configure(dev);
		if (ret)
			goto pinctrl_bind_failed;
	}

	/* driver_sysfs_add() */
	if (should_fail(dev->m, "driver_sysfs_add")) {
		if (machine_kernel(dev->m) == MACHINE_KERNEL_6_12)
			dev_err(dev, "really_probe: driver_sysfs_add failed");
		else
			pr_err(dev->m, "really_probe: driver_sysfs_add(%s) failed",
			       dev_name(dev));
		ret = -ENOMEM;
		goto sysfs_failed;
	}

	ret = call_driver_probe(dev, drv);
	if (ret) {
		ret = -ret;
		goto probe_failed;
	}

	driver_bound(dev);
	return 0;

probe_failed:
	/* mutant: the probe error path forgets to give the DMA count back */
	if (dev->m->faults & MACHINE_FAULT_NO_PROBE_CLEANUP)
		goto pinctrl_bind_failed;
sysfs_failed:
	if (dev->bus->ops->dma_cleanup)
		dev->bus->ops->dma_cleanup(dev);
pinctrl_bind_failed:
	WRITE_ONCE(dev->driver, NULL);
	return ret;
}

static int __driver_probe_device(struct device_driver *drv, struct device *dev)
{
	int ret;

	lockdep_assert_held(dev->m, &dev->mutex);
	if (!dev->added)
		return -ENODEV;
	/*
	 * Counted before dying is read, and driver_unload() reads the count
	 * after setting dying (both sequentially consistent): either this
	 * bind sees dying, or driver_detach() sees it in flight and waits.
	 */
	__atomic_fetch_add(&drv->probing, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&drv->dying, __ATOMIC_SEQ_CST))
		ret = -ENODEV;
	else if (dev->driver)
		ret = -EBUSY;
	else
		ret = really_probe(dev, drv);
	__atomic_fetch_sub(&drv->probing, 1, __ATOMIC_SEQ_CST);
	return ret;
}

static int driver_probe_device(struct device_driver *drv, struct device *dev)
{
	int ret = __driver_probe_device(drv, dev);

	if (ret == -EPROBE_DEFER || ret == EPROBE_DEFER)
		driver_deferred_probe_add(dev);
	return ret;
}

static void __device_driver_lock(struct device *dev)
{
	if (dev->parent && dev->bus->ops->need_parent_lock)
		device_lock(dev->parent);
	device_lock(dev);
}

static void __device_driver_unlock(struct device *dev)
{
	device_unlock(dev);
	if (dev->parent && dev->bus->ops->need_parent_lock)
		device_unlock(dev->parent);
}

/*
 * bind_store()'s way in: one driver, one device. As in the kernel this goes
 * through __driver_probe_device(): a probe that defers is reported to the
 * writer (-EAGAIN), not queued for a deferred retry.
 */
int device_driver_attach(struct device_driver *drv, struct device *dev)
{
	int ret;

	KFUNC();
	__device_driver_lock(dev);
	ret = __driver_probe_device(drv, dev);
	__device_driver_unlock(dev);
	if (!ret)
		driver_deferred_probe_trigger(dev->m);
	/* probe errors come back as normal negative errnos */
	if (ret > 0)
		ret = -ret;
	if (ret == -EPROBE_DEFER)
		return -EAGAIN;
	return ret;
}

/*
 * Try each driver of the bus in turn; the first that binds ends the walk.
 * A failure in the driver's own probe lets the next driver try; any other
 * error stops the walk and is returned.
 */
static int __device_attach(struct device *dev)
{
	struct bus_type *bus = dev->bus;
	struct machine *m = dev->m;
	struct device_driver *drv, **drvs;
	size_t n = 0, i;
	int ret = 0;

	/* the bus's drivers now, each held while we try it */
	mutex_lock(&m->obj_lock);
	list_for_each_entry(drv, &bus->drivers, node)
		n++;
	drvs = zalloc(n ? n : 1, sizeof(*drvs));
	if (!drvs) {
		mutex_unlock(&m->obj_lock);
		return -ENOMEM;
	}
	n = 0;
	list_for_each_entry(drv, &bus->drivers, node)
		drvs[n++] = driver_get(drv);
	mutex_unlock(&m->obj_lock);

	device_lock(dev);
	if (dev->driver) {
		ret = 1;
		goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		int match;

		drv = drvs[i];
		if (READ_ONCE(drv->dying))
			continue;
		match = driver_match_device(drv, dev);
		if (match == 0)
			continue;
		if (match < 0) {
			ret = match;
			break;
		}
		ret = driver_probe_device(drv, dev);
		if (ret < 0)
			break;
		if (ret == 0) {
			ret = 1;
			break;
		}
		ret = 0; /* the driver's probe failed: next driver */
	}
out_unlock:
	device_unlock(dev);
	for (i = 0; i < n; i++)
		driver_put(drvs[i]);
	free(drvs);
	return ret;
}

int device_attach(struct device *dev)
{
	int ret;

	KFUNC();
	if (!dev->bus)
		return 0;
	ret = __device_attach(dev);
	if (ret == 1)
		driver_deferred_probe_trigger(dev->m);
	return ret;
}

static bool dev_added_on_bus(struct device *dev, const void *bus)
{
	return dev->added && dev->bus == bus;
}

/* Added or not (driver_detach_wait()). */
static bool dev_on_bus(struct device *dev, const void *bus)
{
	return dev->bus == bus;
}

/* Bind @drv to every matching device that has no driver. */
int driver_attach(struct device_driver *drv)
{
	struct machine *m = drv->bus->m;
	struct device **devs;
	size_t n = 0;
	bool any = false;

	KFUNC();
	devs = devices_get(m, dev_added_on_bus, drv->bus, &n);
	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct device *dev = devs[i];

		if (driver_match_device(drv, dev) > 0) {
			__device_driver_lock(dev);
			if (driver_probe_device(drv, dev) == 0)
				any = true;
			__device_driver_unlock(dev);
		}
	}
	devices_put(devs, n);
	if (any)
		driver_deferred_probe_trigger(m);
	return 0;
}

/* ---- release ---- */

static void __device_release_driver(struct device *dev)
{
	struct device_driver *drv = dev->driver;

	KFUNC();
	lockdep_assert_held(dev->m, &dev->mutex);
	if (!drv)
		return;
	/* device_remove(): the driver lets go of the hardware */
	if (dev->bound && dev->bus->ops->remove)
		dev->bus->ops->remove(dev);
	/* then DMA ownership is given back, before devres is released */
	if (dev->bus->ops->dma_cleanup)
		dev->bus->ops->dma_cleanup(dev);
	/* device_unbind_cleanup() */
	mutex_lock(&dev->m->obj_lock);
	list_del(&dev->drv_node);
	mutex_unlock(&dev->m->obj_lock);
	WRITE_ONCE(dev->driver, NULL);
	WRITE_ONCE(dev->bound, false);
}

static void device_release_driver_internal(struct device *dev,
					   struct device_driver *drv)
{
	KFUNC();
	__device_driver_lock(dev);
	if (dev->driver && (!drv || dev->driver == drv))
		__device_release_driver(dev);
	__device_driver_unlock(dev);
}

void device_release_driver(struct device *dev)
{
	KFUNC();
	device_release_driver_internal(dev, NULL);
}

/* unbind_store()'s way in. */
void device_driver_detach(struct device *dev)
{
	KFUNC();
	device_release_driver_internal(dev, NULL);
}

/*
 * Wait for binds of @drv in flight, and undo them: every device of the
 * bus, bound or not, is looked at under its lock, so a bind in the middle
 * of really_probe() finishes first. A device being deleted is no longer
 * added but may still be bound, in the middle of its driver's remove().
 */
static void driver_detach_wait(struct device_driver *drv)
{
	struct device **devs;
	size_t n = 0;

	devs = devices_get(drv->bus->m, dev_on_bus, drv->bus, &n);
	if (!devs)
		return;
	for (size_t i = 0; i < n; i++)
		device_release_driver_internal(devs[i], drv);
	devices_put(devs, n);
}

/*
 * Unbind @drv from every device it drives (driver unregistration; @drv is
 * dying, so no new bind starts). As the kernel's driver_detach(): the
 * driver's own bound devices, the last bound first, each released under
 * its lock (a device in the middle of its own release is waited for and
 * found unbound). A bind that passed its dying check before the unload
 * is not on that list yet: the kernel never has one (bus_remove_driver()
 * drains the driver's sysfs files and klist_remove() waits for the bus
 * walks on it), the model counts them (@drv->probing) and, when there is
 * one, waits for it under each device's lock first.
 */
void driver_detach(struct device_driver *drv)
{
	struct machine *m = drv->bus->m;
	struct device *dev;

	KFUNC();
	if (__atomic_load_n(&drv->probing, __ATOMIC_SEQ_CST))
		driver_detach_wait(drv);
	for (;;) {
		mutex_lock(&m->obj_lock);
		if (list_empty(&drv->devices)) {
			mutex_unlock(&m->obj_lock);
			break;
		}
		dev = get_device(list_last_entry(&drv->devices, struct device,
						 drv_node));
		mutex_unlock(&m->obj_lock);
		device_release_driver_internal(dev, drv);
		put_device(dev);
	}
}
