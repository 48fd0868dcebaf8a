// SPDX-License-Identifier: MIT
/*
 * The dmaown command. Only the CLI writes to stdout/stderr; the library
 * records into the machine's log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/dmaown.h"

static void print_usage(FILE *out)
{
	fputs("usage: dmaown [--help] [--version] <command> [<args>]\n"
	      "\n"
	      "Commands:\n"
	      "  seed [--v7]   replay the seed's scenario (e1000e on a QDF2400,\n"
	      "                ACPI/IORT): boot, modprobe vfio-pci, override,\n"
	      "                unbind, drivers_probe, claim; print the kernel log\n"
	      "                and any WARN. --v7 runs the buses' v7 code (use\n"
	      "                count before firmware configuration), the bug the\n"
	      "                review caught\n"
	      "  help          this text\n"
	      "\n"
	      "Exit status: 0 when no WARN fired, 1 when a WARN fired, 2 for bad\n"
	      "usage.\n",
	      out);
}

/* "[   10.569433] " from the machine's virtual clock. */
static void print_ts(uint64_t ns)
{
	printf("[%5llu.%06llu] ", (unsigned long long)(ns / 1000000000ULL),
	       (unsigned long long)(ns / 1000ULL % 1000000ULL));
}

/*
 * Print the log and WARN reports in time order, WARNs in the kernel's
 * format (without the registers and module list a simulation has not got).
 */
static void print_dmesg(const struct machine *m)
{
	size_t nl = machine_log_count(m), nw = machine_warn_count(m);
	size_t il = 0, iw = 0;

	while (il < nl || iw < nw) {
		const struct klog_entry *e = machine_log_entry(m, il);
		const struct warn_report *w = machine_warn(m, iw);

		if (!w && iw < nw) { /* reports beyond the kept ones */
			iw = nw;
			continue;
		}
		if (e && (!w || e->ts_ns <= w->ts_ns)) {
			print_ts(e->ts_ns);
			printf("%s\n", e->text);
			il++;
			continue;
		}
		print_ts(w->ts_ns);
		printf("------------[ cut here ]------------\n");
		print_ts(w->ts_ns);
		printf("WARNING: CPU: 0 PID: 1 at %s:%d %s\n", w->file, w->line,
		       w->func);
		print_ts(w->ts_ns);
		printf("CPU: 0 PID: 1 Comm: %s Not tainted %s-dmaown\n",
		       w->comm[0] ? w->comm : "swapper/0", dmaown_version());
		print_ts(w->ts_ns);
		printf("Call trace:\n");
		for (unsigned int i = 0; i < w->ntrace; i++) {
			print_ts(w->ts_ns);
			printf(" %s\n", w->trace[i]);
		}
		print_ts(w->ts_ns);
		printf("---[ end trace 0000000000000000 ]---\n");
		iw++;
	}
}

static void print_group(struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);
	struct iommu_group_info info;

	if (!group) {
		printf("%s: no iommu group\n", device_name(dev));
		return;
	}
	iommu_group_get_info(group, &info);
	printf("%s: iommu group %d, owner %s, owner_cnt %u, domain %s\n",
	       device_name(dev), info.id,
	       info.owner ? "user" : (info.owner_cnt ? "kernel" : "none"),
	       info.owner_cnt,
	       info.domain ? iommu_domain_type_str(
				     iommu_domain_type(info.domain)) :
			     "none");
	iommu_group_put(group);
}

static void report(const char *what, int ret)
{
	if (ret)
		printf("%s: %s\n", what, errno_text(ret));
	else
		printf("%s: ok\n", what);
}

/*
 * The QDF2400 of the seed's report: arm64, ACPI/IORT, one SMMUv3; an Intel
 * 82574L (e1000e) at 0004:01:00.0 behind the root port 0004:00:00.0. Two root
 * ports on other segments and the NIC's own root port take groups 0..2
 * first, so the NIC's group is 3, as in the report.
 */
static struct machine *build_qdf2400(unsigned int faults)
{
	struct machine_config cfg = { .iommu_api = true,
				      .firmware = FW_ACPI_IORT };
	static const char *const others[] = { "0000:00:00.0",
					      "0002:00:00.0" };
	struct iommu_device *smmu;
	struct device *rp, *dev;
	struct machine *m = machine_create("qdf2400", &cfg);

	if (!m)
		return NULL;
	machine_set_faults(m, faults);
	smmu = iommu_device_alloc(m, "arm-smmu-v3.0.auto",
				  IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY |
					  IOMMU_DOMAIN_DMA_FQ);
	iommu_device_register(smmu);
	driver_load(m, "pcieport");
	for (int i = 0; i < 2; i++) {
		dev = device_alloc(m, others[i], NULL);
		device_set_bus(dev, BUS_PCI);
		device_set_pci_ids(dev, 0x17cb, 0x0400, 0, 0, 0x060400);
		device_set_pci_type(dev, PCI_HEADER_TYPE_BRIDGE,
				    PCI_EXP_TYPE_ROOT_PORT);
		device_set_fw_iommu(dev, smmu, 0);
		device_add(dev);
	}
	rp = device_alloc(m, "0004:00:00.0", NULL);
	device_set_bus(rp, BUS_PCI);
	device_set_pci_ids(rp, 0x17cb, 0x0400, 0, 0, 0x060400);
	device_set_pci_type(rp, PCI_HEADER_TYPE_BRIDGE,
			    PCI_EXP_TYPE_ROOT_PORT);
	device_set_fw_iommu(rp, smmu, 0);
	device_add(rp);
	dev = device_alloc(m, "0004:01:00.0", rp);
	device_set_bus(dev, BUS_PCI);
	device_set_pci_ids(dev, 0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000);
	device_set_pci_type(dev, PCI_HEADER_TYPE_NORMAL,
			    PCI_EXP_TYPE_ENDPOINT);
	device_set_fw_iommu(dev, smmu, 0);
	device_add(dev);
	driver_load(m, "e1000e"); /* boot: e1000e probes the NIC */
	return m;
}

/*
 * The seed's scenario: boot with e1000e bound, then the three commands of
 * the report, then bind vfio-pci and let userspace claim the group.
 */
static int cmd_seed(int argc, char **argv)
{
	char msg[512];
	int container = -1;
	bool v7 = false;
	struct machine *m;
	struct device *dev;
	struct bus_type *pci;
	int ret, status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--v7")) {
			v7 = true;
		} else {
			fprintf(stderr, "dmaown seed: unknown option '%s'\n",
				argv[i]);
			return 2;
		}
	}

	kcompat_set_comm("swapper/0");
	m = build_qdf2400(v7 ? MACHINE_FAULT_V7_ORDER : 0);
	if (!m) {
		fprintf(stderr, "dmaown: out of memory\n");
		return 2;
	}
	pci = machine_bus(m, BUS_PCI);
	dev = bus_device_by_name(pci, "0004:01:00.0");
	printf("# boot (%s bus code): 0004:01:00.0 bound to %s\n",
	       v7 ? "v7" : "merged", device_driver_name(dev));
	print_group(dev);

	kcompat_set_comm("modprobe");
	printf("$ sudo modprobe -v vfio-pci\n");
	report("modprobe vfio-pci", driver_load(m, "vfio-pci"));

	kcompat_set_comm("tee");
	printf("$ echo vfio-pci | sudo tee -a /sys/bus/pci/devices/0004:01:00.0/driver_override\n");
	report("driver_override", driver_override_store(dev, "vfio-pci\n"));

	printf("$ echo 0004:01:00.0 | sudo tee -a /sys/bus/pci/drivers/e1000e/unbind\n");
	report("unbind", unbind_store(machine_find_driver(m, "e1000e"),
				      "0004:01:00.0\n"));
	print_group(dev);

	kcompat_set_comm("bash");
	printf("$ echo 0004:01:00.0 > /sys/bus/pci/drivers_probe\n");
	report("drivers_probe", drivers_probe_store(pci, "0004:01:00.0\n"));
	printf("0004:01:00.0 bound to %s\n",
	       device_driver_name(dev) ? device_driver_name(dev) : "(none)");

	kcompat_set_comm("qemu-system-aar");
	printf("# a VMM assigns 0004:01:00.0 (-device vfio-pci,host=0004:01:00.0)\n");
	ret = vmm_assign_device(m, "0004:01:00.0", &container, msg,
				sizeof(msg));
	if (ret)
		printf("%s\n", msg);
	report("vmm_assign_device", ret);
	print_group(dev);
	if (!ret) {
		report("vmm_release_device",
		       vmm_release_device(m, "0004:01:00.0", container));
		print_group(dev);
	}

	printf("# kernel log\n");
	print_dmesg(m);
	status = machine_warn_count(m) ? 1 : 0;
	printf("# %zu WARN%s\n", machine_warn_count(m),
	       machine_warn_count(m) == 1 ? "" : "s");
	machine_destroy(m);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("dmaown %s\n", dmaown_version());
		return 0;
	}
	if (!strcmp(argv[1], "seed"))
		return cmd_seed(argc - 1, argv + 1);
	fprintf(stderr, "dmaown: '%s' is not a dmaown command; see 'dmaown --help'\n",
		argv[1]);
	return 2;
}
