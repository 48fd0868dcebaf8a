// SPDX-License-Identifier: MIT
/*
 * dmaown explain: why a device is in its IOMMU group, what would isolate
 * it, and what must move to vfio-pci (machine_explain(), docs/import.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const char explain_usage[] =
	"usage: dmaown explain [--json] MACHINE [DEVICE]\n"
	"\n"
	"Boot a built-in machine or a .machine file (dmaown import writes one\n"
	"for a real machine) and say, for every IOMMU group or DEVICE's:\n"
	"why each device is in it (the bridges whose path lacks ACS and the\n"
	"bits they lack, multifunction devices without ACS, DMA aliases),\n"
	"what would isolate it, and what must move to vfio-pci for the group\n"
	"to be usable by userspace, and what may stay (bridges on pcieport,\n"
	"pci-stub, unbound devices).\n"
	"\n"
	"Exit status: 0 explained; 2 bad usage, machine or device.\n";

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec, *device = NULL;
	bool json = false;
	struct machine *m;
	char *text;
	int c, err;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(explain_usage, stdout);
			return 0;
		default:
			return cli_bad_option("dmaown explain", c, optopt,
					      argv[optind - 1]);
		}
	}
	if (optind == argc) {
		fprintf(stderr, "dmaown explain: no MACHINE given (see 'dmaown explain --help')\n");
		return 2;
	}
	spec = argv[optind++];
	if (optind < argc)
		device = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "dmaown explain: one MACHINE and one DEVICE at most, not also '%s'\n",
			argv[optind]);
		return 2;
	}
	m = cli_load_machine(spec, 0);
	if (!m)
		return 2;
	text = machine_explain(m, device, json, &err);
	if (!text) {
		if (err == -ENODEV)
			fprintf(stderr, "dmaown explain: no device '%s' in %s\n",
				device, spec);
		else if (err == -ENXIO)
			fprintf(stderr, "dmaown explain: %s is in no IOMMU group (no IOMMU translates for it, or no driver probed it yet)\n",
				device);
		else
			fprintf(stderr, "dmaown explain: out of memory\n");
		machine_destroy(m);
		return 2;
	}
	fputs(text, stdout);
	free(text);
	machine_destroy(m);
	return 0;
}
