// SPDX-License-Identifier: MIT
/*
 * dmaown import: a real machine's PCI functions, drivers and IOMMU groups,
 * from lspci output or a sysfs tree, as a machine file (docs/import.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "import/import.h"

static const char import_usage[] =
	"usage: dmaown import (--lspci FILE | --sysfs DIR) [--cmdline FILE] [-o FILE]\n"
	"                     [--name NAME]\n"
	"\n"
	"Write a machine file (docs/topology.md) for a real machine:\n"
	"  --lspci FILE  the output of 'lspci -vvv -nn', with or without hex\n"
	"                dumps (-x, -xxx, -xxxx, read through libpci as\n"
	"                'lspci -F' does); '-' reads standard input\n"
	"  --sysfs DIR   a sysfs tree: /sys, or a copy of one\n"
	"  --cmdline FILE  the machine's kernel command line (/proc/cmdline; read\n"
	"                by default with --sysfs /sys): iommu=pt, iommu.strict=,\n"
	"                vfio-pci.ids=, pcie_acs_override= go into the file\n"
	"  -o FILE       where to write it (default: standard output)\n"
	"  --name NAME   the machine's name (default: imported)\n"
	"\n"
	"What could not be known (ACS without root or extended config space,\n"
	"drivers dmaown lacks) and every difference between the kernel's IOMMU\n"
	"groups and the ones its rules give are notes: '# note:' lines at the\n"
	"top of the file, and on standard error.\n"
	"\n"
	"Exit status: 0 written; 2 bad usage or input (FILE:LINE: what was\n"
	"expected).\n";

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lspci", required_argument, NULL, 'l' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lspci = NULL, *sysfs = NULL, *output = NULL;
	const char *cmdline = NULL;
	const char *name = "imported";
	struct imp_machine im = { 0 };
	struct imp_error err = { "" };
	FILE *out = stdout;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lspci = optarg;
			break;
		case 's':
			sysfs = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'h':
			fputs(import_usage, stdout);
			return 0;
		default:
			return cli_bad_option("dmaown import", c, optopt,
					      argv[optind - 1]);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "dmaown import: unexpected argument '%s' (see 'dmaown import --help')\n",
			argv[optind]);
		return 2;
	}
	if (!lspci == !sysfs) {
		fprintf(stderr, "dmaown import: give one of --lspci FILE and --sysfs DIR (see 'dmaown import --help')\n");
		return 2;
	}
	if (!*name || strlen(name) >= 64 || strpbrk(name, " \t#")) {
		fprintf(stderr, "dmaown import: --name: '%s' is not a machine name (1 to 63 bytes, no blanks or '#')\n",
			name);
		return 2;
	}
	/* the live machine's own command line goes with its /sys */
	if (!cmdline && sysfs && !strcmp(sysfs, "/sys") &&
	    !access("/proc/cmdline", R_OK))
		cmdline = "/proc/cmdline";
	ret = cmdline ? imp_read_cmdline(&im, cmdline, &err) : 0;
	if (!ret)
		ret = lspci ? imp_read_lspci(&im, lspci, &err) :
			      imp_read_sysfs(&im, sysfs, &err);
	if (!ret && output && !(out = fopen(output, "w"))) {
		snprintf(err.msg, sizeof(err.msg), "%s: cannot write: %m", output);
		ret = -1;
	}
	if (!ret)
		ret = imp_write(&im, name, out, &err);
	if (out != stdout && fclose(out) && !ret) {
		snprintf(err.msg, sizeof(err.msg), "%s: cannot write: %m", output);
		ret = -1;
	}
	if (ret) {
		fprintf(stderr, "dmaown import: %s\n", err.msg);
		if (output && out != stdout)
			remove(output);
		imp_free(&im);
		return 2;
	}
	for (size_t i = 0; i < im.nnotes; i++)
		fprintf(stderr, "dmaown import: note: %s\n", im.notes[i]);
	imp_free(&im);
	return 0;
}
