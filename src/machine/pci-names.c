// SPDX-License-Identifier: MIT
/*
 * PCI names formatted as lspci prints them. libpci's pci_lookup_name()
 * decides what a missing name becomes ("Device 8086:10d3"), where the ids
 * go with -nn ("... [8086:10d3]") and what -n leaves ("8086:10d3"); the
 * model follows those rules here, so a script's lspci and 'dmaown show'
 * read the same whether the names came from the host's pci.ids, a pinned
 * one, or none (machine_show_names without pci_id_name). Only the lookup
 * itself is the caller's: the library does not link libpci.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "machine/pci-names.h"

static const char *lookup(const struct machine_show_names *names,
			  enum machine_pci_id what, unsigned int id1,
			  unsigned int id2, unsigned int id3, unsigned int id4,
			  char *buf, size_t len)
{
	if (!names || !names->pci_id_name)
		return NULL;
	buf[0] = '\0';
	if (!names->pci_id_name(names->data, what, id1, id2, id3, id4, buf,
				len) ||
	    !buf[0])
		return NULL;
	return buf;
}

/* One name: @unknown and the number when missing; with -nn both. */
static char *format_one(char *buf, size_t len, enum pci_names_mode mode,
			const char *name, const char *num, const char *unknown)
{
	if (mode == PCI_NAMES_NUMERIC)
		snprintf(buf, len, "%s", num);
	else if (!name)
		snprintf(buf, len, mode == PCI_NAMES_MIXED ? "%s [%s]" : "%s %s",
			 unknown, num);
	else if (mode == PCI_NAMES_MIXED)
		snprintf(buf, len, "%s [%s]", name, num);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

/*
 * A vendor and a device: "V D", "V Device DDDD" when only the vendor is
 * known, "Device VVVV:DDDD" when neither; -nn puts "[VVVV:DDDD]" last.
 */
static char *format_pair(char *buf, size_t len, enum pci_names_mode mode,
			 const char *v, const char *d, unsigned int id1,
			 unsigned int id2)
{
	char num[16];

	snprintf(num, sizeof(num), "%04x:%04x", id1, id2);
	if (mode == PCI_NAMES_NUMERIC)
		snprintf(buf, len, "%s", num);
	else if (v && d)
		snprintf(buf, len, mode == PCI_NAMES_MIXED ? "%s %s [%s]" : "%s %s",
			 v, d, num);
	else if (!v)
		snprintf(buf, len, mode == PCI_NAMES_MIXED ? "Device [%s]" : "Device %s",
			 num);
	else if (mode == PCI_NAMES_MIXED)
		snprintf(buf, len, "%s Device [%s]", v, num);
	else
		snprintf(buf, len, "%s Device %04x", v, id2);
	return buf;
}

char *pci_names_class(const struct machine_show_names *names,
		      unsigned int class, enum pci_names_mode mode, char *buf,
		      size_t len)
{
	char name[PCI_NAMES_LEN], num[8];
	const char *n;

	snprintf(num, sizeof(num), "%04x", class & 0xffff);
	n = lookup(names, PCI_ID_SUBCLASS, (class >> 8) & 0xff, class & 0xff,
		   0, 0, name, sizeof(name));
	/* only the base class known: its name, and always the number */
	if (!n && mode != PCI_NAMES_NUMERIC &&
	    (n = lookup(names, PCI_ID_CLASS, (class >> 8) & 0xff, 0, 0, 0,
			name, sizeof(name))))
		mode = PCI_NAMES_MIXED;
	return format_one(buf, len, mode, n, num, "Class");
}

char *pci_names_device(const struct machine_show_names *names,
		       unsigned int vendor, unsigned int device,
		       enum pci_names_mode mode, char *buf, size_t len)
{
	char vb[PCI_NAMES_LEN], db[PCI_NAMES_LEN];
	const char *v = NULL, *d = NULL;

	if (mode != PCI_NAMES_NUMERIC) {
		v = lookup(names, PCI_ID_VENDOR, vendor, 0, 0, 0, vb,
			   sizeof(vb));
		d = lookup(names, PCI_ID_DEVICE, vendor, device, 0, 0, db,
			   sizeof(db));
	}
	return format_pair(buf, len, mode, v, d, vendor, device);
}

char *pci_names_subsystem(const struct machine_show_names *names,
			  unsigned int vendor, unsigned int device,
			  unsigned int subvendor, unsigned int subdevice,
			  enum pci_names_mode mode, char *buf, size_t len)
{
	char vb[PCI_NAMES_LEN], db[PCI_NAMES_LEN];
	const char *v = NULL, *d = NULL;

	if (mode != PCI_NAMES_NUMERIC) {
		v = lookup(names, PCI_ID_VENDOR, subvendor, 0, 0, 0, vb,
			   sizeof(vb));
		d = lookup(names, PCI_ID_SUBSYSTEM, vendor, device, subvendor,
			   subdevice, db, sizeof(db));
	}
	return format_pair(buf, len, mode, v, d, subvendor, subdevice);
}

const char *pci_names_progif(const struct machine_show_names *names,
			     unsigned int class, unsigned int progif,
			     char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} ide[] = {
		{ 0x80, "Master" }, { 0x08, "SecP" }, { 0x04, "SecO" },
		{ 0x02, "PriP" },   { 0x01, "PriO" },
	};
	const char *n = lookup(names, PCI_ID_PROGIF, (class >> 8) & 0xff,
			       class & 0xff, progif, 0, buf, len);
	size_t at = 0;

	if (n || (class & 0xffff) != 0x0101 || (progif & 0x70))
		return n;
	/* an IDE interface's prog-if is a set of mode bits, spelt out */
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(ide) / sizeof(ide[0]); i++)
		if ((progif & ide[i].bit) && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s",
					       at ? " " : "", ide[i].name);
	return buf[0] ? buf : NULL;
}
