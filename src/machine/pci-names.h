/* SPDX-License-Identifier: MIT */
/*
 * PCI names as lspci prints them (src/machine/pci-names.c): the library
 * formats, the caller's machine_show_names looks the names up in pci.ids.
 */
#ifndef DMAOWN_MACHINE_PCI_NAMES_H
#define DMAOWN_MACHINE_PCI_NAMES_H

#include <stddef.h>

#include "dmaown/machine.h"

/* lspci's -n switches: names; -n numbers only; -nn both */
enum pci_names_mode {
	PCI_NAMES_TEXT,
	PCI_NAMES_NUMERIC,
	PCI_NAMES_MIXED,
};

#define PCI_NAMES_LEN 256

/*
 * "Ethernet controller" for @class (base class and subclass, 16 bits),
 * as libpci's PCI_LOOKUP_CLASS gives it. @names may be NULL. Returns @buf.
 */
char *pci_names_class(const struct machine_show_names *names,
		      unsigned int class, enum pci_names_mode mode, char *buf,
		      size_t len);
/* "Intel Corporation 82574L ..." (PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE) */
char *pci_names_device(const struct machine_show_names *names,
		       unsigned int vendor, unsigned int device,
		       enum pci_names_mode mode, char *buf, size_t len);
/* lspci's "Subsystem:" text (PCI_LOOKUP_SUBSYSTEM | VENDOR | DEVICE) */
char *pci_names_subsystem(const struct machine_show_names *names,
			  unsigned int vendor, unsigned int device,
			  unsigned int subvendor, unsigned int subdevice,
			  enum pci_names_mode mode, char *buf, size_t len);
/* The prog-if's name, or NULL: none (PCI_LOOKUP_PROGIF | NO_NUMBERS) */
const char *pci_names_progif(const struct machine_show_names *names,
			     unsigned int class, unsigned int progif,
			     char *buf, size_t len);

#endif
