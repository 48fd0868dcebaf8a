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
	"       dmaown explain --dot|--svg|--png [-n] [-o FILE] MACHINE DEVICE\n"
	"\n"
	"Boot a built-in machine or a .machine file (dmaown import writes one\n"
	"for a real machine) and say, for every IOMMU group or DEVICE's:\n"
	"why each device is in it (the bridges whose path lacks ACS and the\n"
	"bits they lack, multifunction devices without ACS, DMA aliases),\n"
	"what would isolate it, and what must move to vfio-pci for the group\n"
	"to be usable by userspace, and what may stay (bridges on pcieport,\n"
	"pci-stub, unbound devices).\n"
	"\n"
	"--dot, --svg and --png draw DEVICE's group (docs/pictures.md): its\n"
	"members and their paths to the root, the port that lacks ACS (or the\n"
	"multifunction device, or the alias) marked red with what it lacks, the\n"
	"devices that must move to vfio-pci marked orange; -o FILE writes there\n"
	"instead of standard output, -n leaves out pci.ids names.\n"
	"\n"
	"Exit status: 0 explained; 2 bad usage, machine or device.\n";

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dot", no_argument, NULL, 'd' },
		{ "svg", no_argument, NULL, 's' },
		{ "png", no_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec, *device = NULL;
	struct cli_picture pic = { 0 };
	struct machine_show_names names = { 0 };
	void *names_handle = NULL;
	bool json = false;
	struct machine *m;
	char *text;
	int c, err;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:nh", opts, NULL)) != -1) {
		if (cli_picture_opt(c, optarg, &pic))
			continue;
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
	const char *picture = pic.format, *out = pic.out;

	if ((picture || out || pic.numeric) && (json || !device)) {
		fprintf(stderr, "dmaown explain: %s\n",
			json ? "--json is text: no picture, -o or -n with it" :
			       "a picture is of one DEVICE's group: name the DEVICE");
		return 2;
	}
	if (out && !picture) {
		fprintf(stderr, "dmaown explain: -o and -n go with --dot, --svg or --png\n");
		return 2;
	}
	if (picture && *picture && !cli_have_dot()) {
		fprintf(stderr, "dmaown explain: --%s needs Graphviz's 'dot', which is not in PATH (install the graphviz package), or take the graph with --dot\n",
			picture);
		return 2;
	}
	m = cli_load_machine(spec, 0);
	if (!m)
		return 2;
	if (picture) {
		if (!pic.numeric)
			names_handle = cli_names_open(&names);
		text = machine_explain_dot(m, device,
					   names_handle ? &names : NULL, &err);
		cli_names_close(names_handle);
	} else {
		text = machine_explain(m, device, json, &err);
	}
	if (!text) {
		if (err == -ENODEV)
			fprintf(stderr, "dmaown explain: no device '%s' in %s\n",
				device, spec);
		else if (err == -ENXIO)
			fprintf(stderr, "dmaown explain: %s is in no IOMMU group (no IOMMU translates for it, no driver probed it yet, or its IOMMU driver refused it: see the log)\n",
				device);
		else
			fprintf(stderr, "dmaown explain: out of memory\n");
		machine_destroy(m);
		return 2;
	}
	machine_destroy(m);
	if (picture) {
		c = cli_write_picture("dmaown explain", text,
				      *picture ? picture : NULL, out);
		free(text);
		return c;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}
