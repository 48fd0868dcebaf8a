// SPDX-License-Identifier: MIT
/*
 * Vendor, device and class names from pci.ids through libpci, as lspci
 * finds them, for everything the CLI prints with names: a script's lspci
 * and '@show', 'dmaown show' (text and pictures). The library formats the
 * names (src/machine/pci-names.c); this file only looks them up.
 *
 * By default libpci reads the host's pci.ids (Debian: /usr/share/misc/
 * pci.ids, then udev's hwdb), as the real lspci does, so names follow the
 * host's database. Tests and anyone who needs the same bytes everywhere
 * pin a file: --pci-ids FILE, or DMAOWN_PCI_IDS=FILE in the environment;
 * a pinned file is the only source (no hwdb).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>

#include "cli/cli.h"
#include "dmaown/machine.h"

static void names_quiet(char *msg, ...) __attribute__((format(printf, 1, 2)));

static void names_quiet(char *msg, ...)
{
	(void)msg;
}

/*
 * libpci's error hook must not return; a pci.ids it cannot parse gives up
 * the lookup under way (no name) rather than the command.
 */
static jmp_buf names_jmp;

static void names_error(char *msg, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void names_error(char *msg, ...)
{
	(void)msg;
	longjmp(names_jmp, 1);
}

/* pci_lookup_name() with names only: NULL when pci.ids has none. */
static const char *lookup(struct pci_access *pacc, char *buf, size_t len,
			  int flags, unsigned int a, unsigned int b,
			  unsigned int c, unsigned int d)
{
	const char *ret = NULL;

	if (setjmp(names_jmp))
		return NULL;
	ret = pci_lookup_name(pacc, buf, (int)len,
			      flags | PCI_LOOKUP_NO_NUMBERS, a, b, c, d);
	return ret;
}

/*
 * A class's lookup gives its subclass's name, or, when pci.ids knows only
 * the base class, that name followed by " [CCSS]": the suffix tells the
 * two apart, since libpci exports no lookup of the base class alone.
 */
static bool class_only(const char *name, unsigned int class)
{
	char tail[16];
	size_t n = strlen(name), t;

	t = (size_t)snprintf(tail, sizeof(tail), " [%04x]", class);
	return n > t && !strcmp(name + n - t, tail);
}

static bool pci_id_name(void *data, enum machine_pci_id what,
			unsigned int id1, unsigned int id2, unsigned int id3,
			unsigned int id4, char *ret, size_t len)
{
	struct pci_access *pacc = data;
	const char *n = NULL;

	switch (what) {
	case PCI_ID_VENDOR:
		n = lookup(pacc, ret, len, PCI_LOOKUP_VENDOR, id1, 0, 0, 0);
		break;
	case PCI_ID_DEVICE:
		n = lookup(pacc, ret, len, PCI_LOOKUP_DEVICE, id1, id2, 0, 0);
		break;
	case PCI_ID_SUBSYSTEM:
		n = lookup(pacc, ret, len,
			   PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, id1, id2,
			   id3, id4);
		break;
	case PCI_ID_SUBCLASS:
		n = lookup(pacc, ret, len, PCI_LOOKUP_CLASS,
			   id1 << 8 | id2, 0, 0, 0);
		if (n && class_only(n, id1 << 8 | id2))
			n = NULL;
		break;
	case PCI_ID_CLASS:
		/* any subclass pci.ids lacks gives the base class's name */
		for (unsigned int sub = 0x100; !n && sub-- > 0;) {
			n = lookup(pacc, ret, len, PCI_LOOKUP_CLASS,
				   id1 << 8 | sub, 0, 0, 0);
			if (n && class_only(n, id1 << 8 | sub))
				ret[strlen(n) - 7] = '\0';
			else
				n = NULL;
		}
		break;
	case PCI_ID_PROGIF:
		n = lookup(pacc, ret, len, PCI_LOOKUP_PROGIF, id1 << 8 | id2,
			   id3, 0, 0);
		break;
	}
	if (n && n != ret)
		snprintf(ret, len, "%s", n);
	return n != NULL;
}

static void pci_names(void *data, unsigned int vendor, unsigned int device,
		      char *ret_vendor, char *ret_device, size_t len)
{
	if (!pci_id_name(data, PCI_ID_VENDOR, vendor, 0, 0, 0, ret_vendor,
			 len))
		ret_vendor[0] = '\0';
	if (!pci_id_name(data, PCI_ID_DEVICE, vendor, device, 0, 0,
			 ret_device, len))
		ret_device[0] = '\0';
}

void *cli_names_open(struct machine_show_names *ret_names)
{
	return cli_names_open_file(ret_names, NULL);
}

void *cli_names_open_file(struct machine_show_names *ret_names,
			  const char *pci_ids)
{
	struct pci_access *pacc;

	if (!pci_ids || !*pci_ids)
		pci_ids = getenv("DMAOWN_PCI_IDS");
	if (pci_ids && !*pci_ids)
		pci_ids = NULL;
	if (pci_ids && access(pci_ids, R_OK)) {
		fprintf(stderr, "dmaown: cannot read pci.ids file '%s': %s\n",
			pci_ids, strerror(errno));
		return NULL;
	}
	pacc = pci_alloc();
	if (!pacc)
		return NULL;
	pacc->error = names_error;
	pacc->warning = names_quiet;
	pacc->debug = names_quiet;
	if (pci_ids) {
		char *copy = strdup(pci_ids);

		if (!copy) {
			pci_cleanup(pacc);
			return NULL;
		}
		pci_set_name_list_path(pacc, copy, 1);
		pacc->id_lookup_mode |= PCI_LOOKUP_NO_HWDB;
	}
	memset(ret_names, 0, sizeof(*ret_names));
	ret_names->pci_name = pci_names;
	ret_names->pci_id_name = pci_id_name;
	ret_names->data = pacc;
	return pacc;
}

void cli_names_close(void *handle)
{
	if (handle)
		pci_cleanup(handle);
}
