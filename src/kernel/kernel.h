/* SPDX-License-Identifier: MIT */
/*
 * The real kernel as the oracle (docs/oracle.md): the pinned Debian
 * kernels, the QEMU twin of a machine file, the initramfs, and the diff
 * of the guest's --json lines against the model's. Used by the CLI's
 * 'dmaown kernel' (src/cli/cmd-kernel.c) only; no part of the library.
 */
#ifndef DMAOWN_KERNEL_KERNEL_H
#define DMAOWN_KERNEL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- pinned.c ---- */

/* One pinned Debian kernel package. */
struct kernel_pin {
	const char *line;     /* "6.12", "6.1": what --kernel names */
	const char *package;  /* the apt-get download name */
	const char *version;  /* the package version, pinned */
	const char *release;  /* uname -r: the tree under lib/modules */
	const char *arch;     /* Debian's architecture: "amd64", "arm64" */
};

size_t kernel_pin_count(void);
const struct kernel_pin *kernel_pin_get(size_t i);
/* The pin of a line ("6.12") or a release, or NULL. */
const struct kernel_pin *kernel_pin_find(const char *line);
/* The pin of @line (or release) built for Debian architecture @arch. */
const struct kernel_pin *kernel_pin_for(const char *line, const char *arch);

/* ---- forms.c ---- */

/*
 * kernel_line_refused() - the verb of @line that has no real-kernel form
 * (an "@" verb of the model's own, a cdev or iommufd verb, ulimit), or
 * NULL when the guest can run the line.
 */
const char *kernel_line_refused(const char *line);

/* ---- qemu.c: the twin ---- */

/* Formats a reason into @why (@len bytes) and returns -1. */
int kernel_fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TWIN_MAX_DEVICES 64
#define TWIN_MAX_MODULES 16

/* What QEMU machine a twin is: its firmware (machine file 'firmware'). */
enum twin_arch {
	TWIN_X86,        /* q35, SeaBIOS, VT-d */
	TWIN_ARM64_DT,   /* virt, QEMU's device tree, SMMUv3 */
	TWIN_ARM64_ACPI, /* virt, UEFI (qemu-efi-aarch64), ACPI/IORT, SMMUv3 */
};

/* A PCI function of the machine file and what QEMU makes of it. */
struct twin_device {
	char bdf[16];        /* as the machine file names it */
	char qemu_bdf[16];   /* as the guest will see it */
	char parent[16];     /* the machine file's parent BDF, "" on a root bus */
	unsigned int vendor, device;
	char type[16];       /* the machine file's type= */
	const char *model;   /* the QEMU device, NULL for one q35 has itself */
	char id[24];         /* its QEMU id= (bridges) */
	int bus, slot, func; /* the guest's, numbered as SeaBIOS does */
	bool multifunction;  /* function 0 of a slot with others */
	bool shpc;           /* the machine file's shpc */
	int chassis;         /* root and downstream ports */
};

struct twin {
	char name[64];
	enum twin_arch arch;
	struct twin_device dev[TWIN_MAX_DEVICES];
	size_t ndev;
	/* modules loaded at boot, in file order, and their parameters */
	char modules[TWIN_MAX_MODULES][32];
	char params[TWIN_MAX_MODULES][256];
	size_t nmodules;
	bool shpchp;         /* the file loads shpchp (built in: no module) */
	char cmdline[256];   /* kernel parameters beyond the console's */
	char notes[2048];    /* what the twin leaves out, for the user */
};

/*
 * The QEMU twin of the machine file @text (named @file in messages):
 * 0, or -1 with the reason in @why (a machine QEMU cannot build).
 */
int twin_build(const char *file, const char *text, struct twin *t, char *why,
	       size_t why_len);
/* The twin's device of machine BDF @bdf, or NULL. */
const struct twin_device *twin_find(const struct twin *t, const char *bdf);
/* The machine's name for the guest's @qemu_bdf ("" if none is mapped). */
const char *twin_machine_bdf(const struct twin *t, const char *qemu_bdf);
/* The machine BDF -> guest BDF table, one a line. */
void twin_print_mapping(FILE *out, const struct twin *t);
/*
 * The QEMU argument vector for booting @kernel and @initrd with the
 * guest's console to @console_log and its results to @results; NULL-
 * terminated, allocated (free each string, then the vector).
 */
char **twin_qemu_argv(const struct twin *t, const char *kernel,
		      const char *initrd, const char *console_log,
		      const char *results);
void twin_argv_free(char **argv);
/* An allocated formatted string, or NULL. */
char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The value of the -device option that builds @d (NULL if the board has it). */
char *twin_device_arg(const struct twin *t, const struct twin_device *d);

/* ---- qemu-arm64.c: the arm64 twins ---- */

/* Debian's architecture of @t's kernel: "amd64" or "arm64". */
const char *twin_debian_arch(const struct twin *t);
/* twin_qemu_argv() for the arm64 twins (virt, SMMUv3, DT or UEFI+ACPI). */
char **twin_qemu_argv_arm64(const struct twin *t, const char *kernel,
			    const char *initrd, const char *console_log);
/*
 * The arm64 virt board has one UART, shared by the firmware, the kernel's
 * console and the helper: copies the helper's JSON lines of @console_log
 * into @results. 0, or -1 with errno.
 */
int twin_split_console(const char *console_log, const char *results);

/* ---- initramfs.c ---- */

/*
 * Writes the newc cpio archive the guest boots from: the helper as /init,
 * busybox if @busybox exists, the modules of @moddir (an unpacked
 * lib/modules/RELEASE) that @t's and the VFIO modules need, with their
 * dependencies, decompressed, the boot module list and @script.
 * 0, or -1 with a message in @why.
 */
int initramfs_write(const char *path, const struct twin *t,
		    const char *helper, const char *busybox,
		    const char *moddir, const char *release,
		    const char *script, char *why, size_t why_len);

/* ---- diff.c ---- */

struct kdiff_opts {
	bool quiet; /* only the summary */
};

/*
 * Compares the model's 'run --json' lines (@model) with the guest's
 * (@kernel), both as text, for the machine @t; prints every difference
 * to @out and a summary. Returns the number of unexplained differences.
 */
int kernel_diff(FILE *out, const struct twin *t, const char *model,
		const char *kernel, const struct kdiff_opts *o);

#endif
