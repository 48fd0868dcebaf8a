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
	"usage: dmaown import (--lspci FILE | --sysfs DIR | --snapshot DIR)\n"
	"                     [--cmdline FILE] [--root DIR] [-o FILE] [--name NAME]\n"
	"\n"
	"Write a machine file (docs/topology.md) for a real machine:\n"
	"  --lspci FILE  the output of 'lspci -vvv -nn', with or without hex\n"
	"                dumps (-x, -xxx, -xxxx, read through libpci as\n"
	"                'lspci -F' does); '-' reads standard input\n"
	"  --sysfs DIR   a sysfs tree: /sys, or a copy of one\n"
	"  --snapshot DIR  an unpacked 'dmaown snapshot' (its sys/, cmdline and\n"
	"                modprobe.d)\n"
	"  --cmdline FILE  the machine's kernel command line (/proc/cmdline; read\n"
	"                by default with --sysfs /sys): iommu=pt, iommu.strict=,\n"
	"                vfio-pci.ids=, pcie_acs_override= go into the file\n"
	"  --root DIR    the machine's root file system, for its kernel release\n"
	"                (DIR/proc/sys/kernel/osrelease) and modprobe.d\n"
	"                (DIR/etc/modprobe.d, ...; default: / with --sysfs /sys,\n"
	"                the snapshot's own with --snapshot)\n"
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
		{ "snapshot", required_argument, NULL, 'S' },
		{ "root", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lspci = NULL, *sysfs = NULL, *output = NULL;
	const char *cmdline = NULL, *snapshot = NULL, *root = NULL;
	char snap_sys[4096], snap_cmdline[4096];
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
		case 'S':
			snapshot = optarg;
			break;
		case 'R':
			root = optarg;
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
	if (!!lspci + !!sysfs + !!snapshot != 1) {
		fprintf(stderr, "dmaown import: give one of --lspci FILE, --sysfs DIR and --snapshot DIR (see 'dmaown import --help')\n");
		return 2;
	}
	if (snapshot) {
		/* what 'dmaown snapshot' packs, unpacked: DIR/dmaown-snapshot */
		snprintf(snap_sys, sizeof(snap_sys), "%s/sys", snapshot);
		snprintf(snap_cmdline, sizeof(snap_cmdline), "%s/cmdline",
			 snapshot);
		sysfs = snap_sys;
		if (!cmdline && !access(snap_cmdline, R_OK))
			cmdline = snap_cmdline;
		if (!root)
			root = snapshot;
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
	if (!root && sysfs && !strcmp(sysfs, "/sys"))
		root = "/";
	ret = cmdline ? imp_read_cmdline(&im, cmdline, &err) : 0;
	if (!ret && root)
		ret = imp_read_root(&im, root, &err);
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

static const char snapshot_usage[] =
	"usage: dmaown snapshot -o FILE.tar [--sysfs DIR] [--cmdline FILE] [--root DIR]\n"
	"\n"
	"Collect, read only, exactly the files 'dmaown import' reads from this\n"
	"machine (--sysfs /sys, /proc/cmdline, and from the root file system\n"
	"--root /, the kernel release and modprobe.d, unless told otherwise) into a\n"
	"tar archive, to import anywhere: tar -xf FILE.tar, then\n"
	"'dmaown import --snapshot dmaown-snapshot'. Device serial numbers\n"
	"(DSN capability, VPD data) are blanked; MAC addresses, host names and\n"
	"everything else are left out (docs/import.md: the format).\n"
	"\n"
	"Exit status: 0 written; 2 bad usage or input.\n";

int cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *sysfs = "/sys", *cmdline = NULL;
	const char *root = NULL;
	struct imp_error err = { "" };
	bool default_sysfs = true;
	FILE *out;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 's':
			sysfs = optarg;
			default_sysfs = false;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'R':
			root = optarg;
			break;
		case 'h':
			fputs(snapshot_usage, stdout);
			return 0;
		default:
			return cli_bad_option("dmaown snapshot", c, optopt,
					      argv[optind - 1]);
		}
	}
	if (optind != argc || !output) {
		fprintf(stderr, "dmaown snapshot: %s (see 'dmaown snapshot --help')\n",
			output ? "unexpected argument" : "no -o FILE.tar given");
		return 2;
	}
	if (!cmdline && default_sysfs && !access("/proc/cmdline", R_OK))
		cmdline = "/proc/cmdline";
	if (!root && default_sysfs)
		root = "/";
	out = fopen(output, "wb");
	if (!out) {
		fprintf(stderr, "dmaown snapshot: %s: cannot write: %m\n", output);
		return 2;
	}
	ret = imp_snapshot(sysfs, cmdline, root, out, &err);
	if (fclose(out) && !ret) {
		snprintf(err.msg, sizeof(err.msg), "%s: cannot write: %m", output);
		ret = -1;
	}
	if (ret) {
		fprintf(stderr, "dmaown snapshot: %s\n", err.msg);
		remove(output);
		return 2;
	}
	return 0;
}
