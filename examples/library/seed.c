// SPDX-License-Identifier: MIT
/*
 * The seed's reproducer through the library, on the built-in QDF2400, once
 * with the merged bus code and once with v7's: change the NIC group's
 * default domain type, load vfio-pci, set the NIC's driver_override, unbind
 * e1000e, let vfio-pci take the NIC and a VMM its group. After each step the
 * group's DMA ownership is read back; at the end come the kernel log and
 * the WARN reports.
 *
 * Build: cc seed.c $(pkg-config --cflags --libs dmaown)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmaown/dmaown.h>

#define NIC "0004:01:00.0"

/* One line: the step, its result, the NIC's driver and its group's owner. */
static void show(struct machine *m, const char *step, int ret)
{
	struct device *dev = machine_find_device(m, NIC);
	struct iommu_group *group = iommu_group_get(dev);
	struct iommu_group_info info = { .id = -1 };
	const char *drv = device_driver_name(dev);
	char *type = NULL;

	if (group)
		iommu_group_get_info(group, &info);
	iommu_group_put(group);
	sysfs_read(m, "/sys/kernel/iommu_groups/3/type", &type);
	printf("%-24s %-6s driver %-8s group %d owner %-6s owner_cnt %u type %s",
	       step, ret ? errno_name(ret) : "ok", drv ? drv : "-", info.id,
	       info.owner ? "user" : "kernel", info.owner_cnt,
	       type ? type : "?\n");
	free(type);
}

static void write_attr(struct machine *m, const char *step, const char *path,
		       const char *val)
{
	show(m, step, sysfs_write(m, path, val, strlen(val)));
}

static int run(unsigned int faults)
{
	struct topo_error err;
	struct machine *m = topology_load_faults("builtin:qdf2400",
			builtin_machine_text("qdf2400"), faults, &err);
	char msg[256];
	int container;

	if (!m) {
		fprintf(stderr, "%s:%d:%d: %s\n", err.file, err.line, err.col,
			err.msg);
		return 1;
	}
	printf("== %s bus code\n", faults ? "v7" : "merged");
	show(m, "boot", 0);
	kcompat_set_comm("tee");	/* the task WARN reports name */
	write_attr(m, "type identity", "/sys/kernel/iommu_groups/3/type",
		   "identity\n");
	show(m, "modprobe vfio-pci", driver_load(m, "vfio-pci"));
	write_attr(m, "driver_override vfio-pci",
		   "/sys/bus/pci/devices/" NIC "/driver_override", "vfio-pci\n");
	write_attr(m, "e1000e/unbind", "/sys/bus/pci/drivers/e1000e/unbind",
		   NIC "\n");
	write_attr(m, "drivers_probe", "/sys/bus/pci/drivers_probe", NIC "\n");
	show(m, "vmm assign",
	     vmm_assign_device(m, NIC, &container, msg, sizeof(msg)));
	write_attr(m, "type DMA", "/sys/kernel/iommu_groups/3/type", "DMA\n");
	show(m, "vmm release", vmm_release_device(m, NIC, container));

	for (size_t i = 0; i < machine_log_count(m); i++) {
		const struct klog_entry *e = machine_log_entry(m, i);

		printf("[%5llu.%06llu] %s\n",
		       (unsigned long long)(e->ts_ns / 1000000000),
		       (unsigned long long)(e->ts_ns / 1000 % 1000000), e->text);
	}
	for (size_t i = 0; i < machine_warn_count(m); i++) {
		const struct warn_report *w = machine_warn(m, i);

		/* the kernel's line of the site, else the model's */
		printf("WARNING: %s at %s:%d %s, task %s\n", w->cond, w->file,
		       w->upstream_line ? w->upstream_line : w->line, w->func,
		       w->comm);
	}
	machine_destroy(m);
	return 0;
}

int main(void)
{
	return run(0) || run(MACHINE_FAULT_V7_ORDER);
}
