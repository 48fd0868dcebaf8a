// SPDX-License-Identifier: MIT
/*
 * The kernel command line of the imported machine: what in it changes
 * IOMMU groups, default domains and boot-time bindings becomes machine
 * file statements; what matters but is not modelled becomes a note.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"

#define CMDLINE_MAX 4096

/* "key=value" of @tok against @key: the value, or NULL */
static const char *opt_value(const char *tok, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(tok, key, n) && tok[n] == '=' ? tok + n + 1 : NULL;
}

/* pcie_acs_override=downstream,multifunction,id:VVVV:DDDD as the patch */
static bool acs_override_ok(const char *v)
{
	char copy[256], *save = NULL;

	if (!*v || strlen(v) >= sizeof(copy))
		return false;
	snprintf(copy, sizeof(copy), "%s", v);
	for (char *e = strtok_r(copy, ",", &save); e;
	     e = strtok_r(NULL, ",", &save)) {
		unsigned int a, b;
		char end;

		if (strcmp(e, "downstream") && strcmp(e, "multifunction") &&
		    sscanf(e, "id:%4x:%4x%c", &a, &b, &end) != 2)
			return false;
	}
	return true;
}

static void cmdline_option(struct imp_machine *im, const char *tok)
{
	const char *v;

	if (!strcmp(tok, "iommu=pt") ||
	    !strcmp(tok, "iommu.passthrough=1")) {
		if (!im->default_domain[0])
			snprintf(im->default_domain,
				 sizeof(im->default_domain), "identity");
	} else if ((v = opt_value(tok, "iommu.strict"))) {
		if (!im->default_domain[0])
			snprintf(im->default_domain,
				 sizeof(im->default_domain), "%s",
				 !strcmp(v, "1") ? "DMA" : "DMA-FQ");
	} else if ((v = opt_value(tok, "vfio-pci.ids"))) {
		snprintf(im->vfio_ids, sizeof(im->vfio_ids), "%s", v);
	} else if ((v = opt_value(tok, "pcie_acs_override"))) {
		if (acs_override_ok(v))
			snprintf(im->acs_override, sizeof(im->acs_override),
				 "%s", v);
		else
			imp_note(im, "pcie_acs_override=%s: not as the out-of-tree patch reads it; left out",
				 v);
	} else if (!strcmp(tok, "intel_iommu=off") ||
		   !strcmp(tok, "amd_iommu=off") || !strcmp(tok, "iommu=off")) {
		imp_note(im, "the kernel ran with %s: its IOMMU groups, if any, are the input's", tok);
	} else if (opt_value(tok, "pci") && strstr(tok, "disable_acs_redir")) {
		imp_note(im, "%s is not modelled: ACS redirect stays as read", tok);
	} else if (opt_value(tok, "vfio_iommu_type1.allow_unsafe_interrupts") ||
		   opt_value(tok, "iommufd.allow_unsafe_interrupts")) {
		imp_note(im, "%s is not imported: set it in the machine file if wanted", tok);
	}
}

int imp_read_cmdline(struct imp_machine *im, const char *path,
		     struct imp_error *err)
{
	char buf[CMDLINE_MAX + 2], *save = NULL;
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return imp_error(err, "%s: %s", path, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	if (len > CMDLINE_MAX)
		return imp_error(err, "%s:1: a command line longer than %d bytes",
				 path, CMDLINE_MAX);
	if (memchr(buf, '\0', len) || strchr(buf, '\n') != strrchr(buf, '\n') ||
	    (strchr(buf, '\n') && strchr(buf, '\n')[1]))
		return imp_error(err, "%s:1: expected one line, as /proc/cmdline holds",
				 path);
	buf[strcspn(buf, "\n")] = '\0';
	free(im->cmdline);
	im->cmdline = strdup(buf);
	if (!im->cmdline)
		return imp_error(err, "%s: out of memory", path);
	for (char *tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save))
		cmdline_option(im, tok);
	return 0;
}
