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
	      "                ACPI/IORT) through the iommu core and print the\n"
	      "                kernel log and any WARN; --v7 uses the v7 patch's\n"
	      "                order (use the default domain before the device\n"
	      "                has joined its group), which the review caught\n"
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
		printf("Comm: %s, condition: %s\n", w->comm[0] ? w->comm : "-",
		       w->cond ? w->cond : "");
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

/*
 * The seed's scenario on the iommu core alone (the driver core comes in a
 * later milestone step): on ACPI/IORT the device joins its group inside the
 * PCI bus's dma_configure, through the firmware configuration. The merged
 * kernel does firmware configuration first and then takes the use count;
 * v7 took the count first, when the device had no group yet.
 */
static int cmd_seed(int argc, char **argv)
{
	static const char owner_cookie[] = "vfio-group";
	struct machine_config cfg = { .iommu_api = true };
	bool v7 = false;
	struct machine *m;
	struct iommu_device *smmu;
	struct device *dev, *other[3];
	struct iommu_group *group;
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

	m = machine_create("qdf2400", &cfg);
	if (!m) {
		fprintf(stderr, "dmaown: out of memory\n");
		return 2;
	}
	smmu = iommu_device_alloc(m, "arm-smmu-v3.0.auto",
				  IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY |
					  IOMMU_DOMAIN_DMA_FQ);
	/* Three devices probed before the NIC take groups 0..2. */
	static const char *const names[] = { "0000:00:00.0", "0001:00:00.0",
					     "0002:00:00.0" };
	iommu_device_register(smmu);
	for (int i = 0; i < 3; i++) {
		other[i] = device_alloc(m, names[i], NULL);
		device_set_fw_iommu(other[i], smmu, 0);
		device_add(other[i]);
		iommu_probe_device(other[i]);
	}
	dev = device_alloc(m, "0004:01:00.0", NULL);
	device_set_fw_iommu(dev, smmu, 0);
	device_add(dev);

	kcompat_set_comm("swapper/0");
	printf("# boot: e1000e probes 0004:01:00.0 (pci_dma_configure, %s order)\n",
	       v7 ? "v7" : "merged");
	if (v7) {
		ret = iommu_device_use_default_domain(dev);
		printf("iommu_device_use_default_domain() = %d (no group yet: nothing counted)\n",
		       ret);
		ret = iommu_probe_device(dev);
		printf("acpi_dma_configure(): iommu_probe_device() = %d\n",
		       ret);
	} else {
		ret = iommu_probe_device(dev);
		printf("acpi_dma_configure(): iommu_probe_device() = %d\n",
		       ret);
		ret = iommu_device_use_default_domain(dev);
		printf("iommu_device_use_default_domain() = %d\n", ret);
	}
	print_group(dev);

	kcompat_set_comm("tee");
	printf("# echo 0004:01:00.0 | tee -a /sys/bus/pci/drivers/e1000e/unbind\n");
	iommu_device_unuse_default_domain(dev);
	print_group(dev);

	printf("# vfio-pci binds (driver_managed_dma: no use count); userspace claims the group\n");
	group = iommu_group_get(dev);
	ret = iommu_group_claim_dma_owner(group, (void *)owner_cookie);
	printf("iommu_group_claim_dma_owner() = %d%s%s\n", ret,
	       ret ? " " : "", ret ? errno_name(ret) : "");
	print_group(dev);
	if (!ret) {
		iommu_group_release_dma_owner(group);
		printf("iommu_group_release_dma_owner()\n");
		print_group(dev);
	}
	iommu_group_put(group);

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
