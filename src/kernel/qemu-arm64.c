// SPDX-License-Identifier: MIT
/*
 * The arm64 twins (docs/oracle.md): QEMU 7.2's virt board with its SMMUv3
 * (virt,iommu=smmuv3) in front of the PCIe host bridge, described to the
 * kernel either by QEMU's own device tree (machine files with 'firmware
 * devicetree') or by UEFI's ACPI tables with an IORT ('firmware
 * acpi-iort': Debian's qemu-efi-aarch64 boots the kernel's EFI stub, as on
 * the seed's QDF2400). qemu.c parses the machine file and numbers the
 * buses for both architectures; this file is what differs on arm64: the
 * QEMU command line, and the results, which share the board's one UART
 * with the firmware and the kernel's console.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* Debian's qemu-efi-aarch64: UEFI for virt, ACPI tables from QEMU */
#define UEFI_FIRMWARE "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"

const char *twin_debian_arch(const struct twin *t)
{
	return t->arch == TWIN_X86 ? "amd64" : "arm64";
}

char **twin_qemu_argv_arm64(const struct twin *t, const char *kernel,
			    const char *initrd, const char *console_log)
{
	size_t cap = 40 + 2 * t->ndev, n = 0;
	char **v = calloc(cap, sizeof(*v));
	bool acpi = t->arch == TWIN_ARM64_ACPI;

	if (!v)
		return NULL;
	v[n++] = xstrdup_printf("qemu-system-aarch64");
	v[n++] = xstrdup_printf("-machine");
	/*
	 * Without UEFI there are no ACPI tables to give: QEMU's device tree
	 * (its iommu-map sends every requester ID to the SMMUv3) is all.
	 * GICv3 for its ITS, which isolates MSIs as the QDF2400's does: with
	 * the default GICv2m, type1 refuses every group ("No interrupt
	 * remapping support").
	 */
	v[n++] = xstrdup_printf("virt,gic-version=3,iommu=smmuv3,acpi=%s", acpi ? "on" : "off");
	v[n++] = xstrdup_printf("-accel");
	v[n++] = xstrdup_printf("tcg");
	/* cortex-a57: 'max' emulates pointer authentication, slow under TCG */
	v[n++] = xstrdup_printf("-cpu");
	v[n++] = xstrdup_printf("cortex-a57");
	v[n++] = xstrdup_printf("-m");
	v[n++] = xstrdup_printf("768");
	v[n++] = xstrdup_printf("-smp");
	v[n++] = xstrdup_printf("1");
	v[n++] = xstrdup_printf("-nodefaults");
	v[n++] = xstrdup_printf("-display");
	v[n++] = xstrdup_printf("none");
	v[n++] = xstrdup_printf("-no-reboot");
	if (acpi) {
		v[n++] = xstrdup_printf("-bios");
		v[n++] = xstrdup_printf("%s", UEFI_FIRMWARE);
	}
	for (size_t i = 0; i < t->ndev; i++) {
		if (!t->dev[i].model)
			continue;
		v[n++] = xstrdup_printf("-device");
		v[n++] = twin_device_arg(t, &t->dev[i]);
	}
	v[n++] = xstrdup_printf("-kernel");
	v[n++] = xstrdup_printf("%s", kernel);
	v[n++] = xstrdup_printf("-initrd");
	v[n++] = xstrdup_printf("%s", initrd);
	/*
	 * loglevel=1: the helper writes its results on the same UART as the
	 * console, so the console prints only what a panic says. acpi=force:
	 * UEFI could pass a device tree too; the twin is the IORT one.
	 */
	v[n++] = xstrdup_printf("-append");
	v[n++] = xstrdup_printf("console=ttyAMA0 panic=-1 loglevel=1%s%s%s",
		     acpi ? " acpi=force" : "", t->cmdline[0] ? " " : "",
		     t->cmdline);
	v[n++] = xstrdup_printf("-serial");
	v[n++] = xstrdup_printf("file:%s", console_log);
	v[n++] = xstrdup_printf("-monitor");
	v[n++] = xstrdup_printf("none");
	for (size_t i = 0; i < n; i++)
		if (!v[i]) {
			twin_argv_free(v);
			return NULL;
		}
	return v;
}

/*
 * The helper's lines start with '{"' and end the line; UEFI's and the
 * EFI stub's messages come before them, and may leave a partial line
 * (escape sequences, no newline) in front of the first.
 */
int twin_split_console(const char *console_log, const char *results)
{
	FILE *in = fopen(console_log, "r"), *out;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!in)
		return -1;
	out = fopen(results, "w");
	if (!out) {
		fclose(in);
		return -1;
	}
	while ((len = getline(&line, &cap, in)) > 0) {
		char *json = strstr(line, "{\"");

		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (json && len && line[len - 1] == '}')
			fprintf(out, "%s\n", json);
	}
	free(line);
	fclose(in);
	return fclose(out) ? -1 : 0;
}
