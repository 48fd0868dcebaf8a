// SPDX-License-Identifier: MIT
/*
 * The dmaown command. Only the CLI writes to stdout/stderr; the library
 * records into the machine's log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifdef DMAOWN_MIMALLOC
#include <mimalloc.h>
#endif

/*
 * Which malloc serves this process: a release build links mimalloc
 * (meson option 'allocator'), which takes malloc over only when it comes
 * before the C library; asking where a fresh block lives tells whether it
 * did, rather than what the build meant.
 */
static void print_allocator(void)
{
#ifdef DMAOWN_MIMALLOC
	void *p = malloc(16);
	bool ours = p && mi_is_in_heap_region(p);
	int v = mi_version();

	free(p);
	if (ours) {
		printf("allocator mimalloc %d.%d.%d\n", v / 100, v / 10 % 10,
		       v % 10);
		return;
	}
	printf("allocator system (mimalloc %d.%d.%d linked, not in use)\n",
	       v / 100, v / 10 % 10, v % 10);
#else
	printf("allocator system\n");
#endif
}

static void print_usage(FILE *out)
{
	fputs("usage: dmaown [--help] [--version] <command> [<args>]\n"
	      "\n"
	      "Commands:\n"
	      "  run SCRIPT      replay shell lines (as pasted from a bug report) on a\n"
	      "                  simulated machine; see 'dmaown run --help'\n"
	      "  show MACHINE    print a machine's devices, groups and ownership\n"
	      "                  (--json), or draw them (--dot, --svg, --png)\n"
	      "  machines        list the built-in machines\n"
	      "  check [M...]    explore every order of actions on machines and\n"
	      "                  prove the isolation invariants, or print the\n"
	      "                  shortest counterexample; see 'dmaown check --help'\n"
	      "  import          write a machine file for a real machine, from\n"
	      "                  lspci output or a sysfs tree; see 'dmaown import --help'\n"
	      "  snapshot -o F   pack what import reads of this machine into a tar\n"
	      "  explain MACHINE [DEVICE]\n"
	      "                  why each device is in its IOMMU group, what would\n"
	      "                  isolate it, what must move to vfio-pci (--json);\n"
	      "                  --svg draws DEVICE's group\n"
	      "  seed [--v7]     the seed's scenario on the built-in qdf2400: e1000e\n"
	      "                  unbound for vfio-pci, the NIC assigned to a VMM and\n"
	      "                  given back; --v7 runs the buses' v7 code, whose\n"
	      "                  ordering trips WARN_ON(!group->owner_cnt)\n"
	      "  mount M DIR     serve machine M's /sys and /dev/vfio at DIR through\n"
	      "                  FUSE, for real tools; see 'dmaown mount --help'\n"
	      "  shell M [-- CMD]\n"
	      "                  run CMD with machine M as /sys, in a private\n"
	      "                  mount namespace (root)\n"
	      "  kernel run|diff MACHINE SCRIPT\n"
	      "                  the script on a real Linux under QEMU, the\n"
	      "                  machine's twin, and compared with the model;\n"
	      "                  see 'dmaown kernel --help'\n"
	      "  help            this text\n"
	      "\n"
	      "Exit status: 0 success and no WARN; 1 a WARN fired; 2 bad usage or\n"
	      "input; 3 a script stopped by -e.\n",
	      out);
}

/* The lines of the seed's report, then what the user did next. */
static const char seed_script[] =
	"# The reproducer from the review of v7 (WIWYNN QDF2400, e1000e)\n"
	"sudo modprobe -v vfio-pci\n"
	"echo vfio-pci | sudo tee -a /sys/bus/pci/devices/0004:01:00.0/driver_override\n"
	"echo 0004:01:00.0 | sudo tee -a  /sys/bus/pci/drivers/e1000e/unbind\n"
	"# vfio-pci takes the NIC through driver_override\n"
	"echo 0004:01:00.0 > /sys/bus/pci/drivers_probe\n"
	"readlink /sys/bus/pci/devices/0004:01:00.0/driver\n"
	"readlink /sys/bus/pci/devices/0004:01:00.0/iommu_group\n"
	"# a VMM assigns it (legacy VFIO container), then lets go\n"
	"@vmm assign 0004:01:00.0\n"
	"@vmm release 0004:01:00.0\n"
	"cat /sys/kernel/iommu_groups/3/type\n";

static int cmd_seed(int argc, char **argv)
{
	struct run_opts o = { .echo = true, .dmesg = true,
			      .err_to_stdout = true };
	FILE *f;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--v7")) {
			o.faults |= MACHINE_FAULT_V7_ORDER;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs("usage: dmaown seed [--v7]\n"
			      "\n"
			      "The seed's scenario on the built-in qdf2400 (WIWYNN QDF2400,\n"
			      "ACPI/IORT): the reproducer from the review of v7 (modprobe\n"
			      "vfio-pci, driver_override, unbind e1000e), then vfio-pci takes\n"
			      "the NIC and a VMM assigns and releases it, with the kernel log.\n"
			      "--v7 runs the buses' v7 code: the unbind trips\n"
			      "WARN_ON(!group->owner_cnt) and the exit status is 1.\n",
			      stdout);
			return 0;
		} else {
			fprintf(stderr, "dmaown seed: unknown option '%s' (see 'dmaown seed --help')\n",
				argv[i]);
			return 2;
		}
	}
	f = fmemopen((void *)seed_script, strlen(seed_script), "r");
	if (!f)
		return 2;
	printf("# machine qdf2400, %s bus code\n",
	       o.faults ? "v7" : "merged");
	ret = cli_run_stream("seed", f, "qdf2400", &o);
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "run", cmd_run },
		{ "show", cmd_show },
		{ "machines", cmd_machines },
		{ "seed", cmd_seed },
		{ "check", cmd_check },
		{ "mount", cmd_mount },
		{ "shell", cmd_shell },
		{ "import", cmd_import },
		{ "explain", cmd_explain },
		{ "snapshot", cmd_snapshot },
		{ "kernel", cmd_kernel },
	};

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
		print_allocator();
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dmaown: '%s' is not a dmaown command; see 'dmaown --help'\n",
		argv[1]);
	return 2;
}
