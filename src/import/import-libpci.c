// SPDX-License-Identifier: MIT
/*
 * Config space through libpci, as lspci reads it: the dump access method
 * for "lspci -x" files (what "lspci -F FILE" does) and the sysfs method
 * for a sysfs tree. This file alone includes libpci's headers, whose
 * names (PCI_ACS_*, PCI_EXP_TYPE_*) clash with the model's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "import/import.h"

/* libpci's error callback may not return: back to imp_libpci_read() */
static jmp_buf libpci_jmp;
static char libpci_msg[256];

static void libpci_error(char *msg, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void libpci_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(libpci_msg, sizeof(libpci_msg), msg, ap);
	va_end(ap);
	longjmp(libpci_jmp, 1);
}

static void libpci_quiet(char *msg, ...) __attribute__((format(printf, 1, 2)));

static void libpci_quiet(char *msg, ...)
{
	(void)msg;
}

static enum imp_type pcie_type(unsigned int t)
{
	switch (t) {
	case PCI_EXP_TYPE_ENDPOINT: return IMP_TYPE_ENDPOINT;
	case PCI_EXP_TYPE_LEG_END: return IMP_TYPE_LEGACY_ENDPOINT;
	case PCI_EXP_TYPE_ROOT_PORT: return IMP_TYPE_ROOT_PORT;
	case PCI_EXP_TYPE_UPSTREAM: return IMP_TYPE_UPSTREAM;
	case PCI_EXP_TYPE_DOWNSTREAM: return IMP_TYPE_DOWNSTREAM;
	case PCI_EXP_TYPE_PCI_BRIDGE: return IMP_TYPE_PCI_BRIDGE;
	case PCI_EXP_TYPE_PCIE_BRIDGE: return IMP_TYPE_PCIE_BRIDGE;
	case PCI_EXP_TYPE_ROOT_INT_EP: return IMP_TYPE_RC_END;
	case PCI_EXP_TYPE_ROOT_EC: return IMP_TYPE_RC_EC;
	default: return IMP_TYPE_UNKNOWN;
	}
}

/* the ACS word's bits are the model's PCI_ACS_* bits: both are the spec's */
static void fill(struct imp_dev *d, struct pci_dev *p)
{
	struct pci_cap *cap;
	unsigned int hdr;

	pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CAPS |
			 (d->cfg_len > 256 ? PCI_FILL_EXT_CAPS : 0));
	d->vendor = p->vendor_id;
	d->device = p->device_id;
	d->class = (unsigned int)p->device_class << 8 |
		   pci_read_byte(p, PCI_CLASS_PROG);
	d->rev = pci_read_byte(p, PCI_REVISION_ID);
	hdr = pci_read_byte(p, PCI_HEADER_TYPE);
	d->multifunction = hdr & 0x80;
	d->bridge = (hdr & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
	if (d->bridge) {
		d->secondary = pci_read_byte(p, PCI_SECONDARY_BUS);
	} else if ((hdr & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
		d->subvendor = pci_read_word(p, PCI_SUBSYSTEM_VENDOR_ID);
		d->subdevice = pci_read_word(p, PCI_SUBSYSTEM_ID);
	}
	if (d->cfg_len <= 64) {
		/* the kernel gives others than root the header only */
		d->type = IMP_TYPE_UNKNOWN;
		d->acs = IMP_ACS_UNKNOWN;
		d->acs_why = "config space beyond the header not readable (not root)";
		return;
	}
	/* shpchp's shpc_capable() looks for it */
	d->shpc = pci_find_cap(p, PCI_CAP_ID_HOTPLUG, PCI_CAP_NORMAL) != NULL;
	cap = pci_find_cap(p, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	d->type = cap ? pcie_type((pci_read_word(p, cap->addr + PCI_EXP_FLAGS) &
				   PCI_EXP_FLAGS_TYPE) >> 4) :
			IMP_TYPE_CONVENTIONAL;
	if (d->type == IMP_TYPE_CONVENTIONAL) {
		/* conventional PCI never has ACS */
		d->acs = IMP_ACS_ABSENT;
		return;
	}
	if (d->cfg_len <= 256) {
		d->acs = IMP_ACS_UNKNOWN;
		d->acs_why = "no extended config space in the input (lspci -xxxx and root read it)";
		return;
	}
	cap = pci_find_cap(p, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED);
	if (!cap) {
		d->acs = IMP_ACS_ABSENT;
		return;
	}
	d->acs = IMP_ACS_PRESENT;
	d->acs_cap = pci_read_word(p, cap->addr + PCI_ACS_CAP) & 0x7f;
	d->acs_ctl = pci_read_word(p, cap->addr + PCI_ACS_CTRL) & 0x7f;
}

/*
 * The SR-IOV capability, where no sriov_* files gave it: lspci dumps,
 * and copies of /sys without them.
 */
static void fill_sriov(struct imp_dev *d, struct pci_dev *p)
{
	struct pci_cap *cap;

	if (d->sriov_total || d->physfn[0] || d->cfg_len < 4096)
		return;
	cap = pci_find_cap(p, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
	if (!cap)
		return;
	d->sriov_total = pci_read_word(p, cap->addr + PCI_IOV_TOTALVF);
	d->sriov_offset = pci_read_word(p, cap->addr + PCI_IOV_OFFSET);
	d->sriov_stride = pci_read_word(p, cap->addr + PCI_IOV_STRIDE);
	d->sriov_vf_device = pci_read_word(p, cap->addr + PCI_IOV_DID);
	if (pci_read_word(p, cap->addr + PCI_IOV_CTRL) & PCI_IOV_CTRL_VFE)
		d->sriov_enabled = pci_read_word(p, cap->addr + PCI_IOV_NUMVF);
}

int imp_libpci_read(struct imp_machine *im, const char *dump,
		    const char *sysfs_bus_pci, struct imp_error *err)
{
	struct pci_access *pacc = pci_alloc();
	struct pci_dev *p;

	if (!pacc)
		return imp_error(err, "%s: out of memory", im->source);
	pacc->error = libpci_error;
	pacc->warning = libpci_quiet;
	pacc->debug = libpci_quiet;
	if (dump) {
		pacc->method = PCI_ACCESS_DUMP;
		pci_set_param(pacc, "dump.name", (char *)dump);
	} else {
		pacc->method = PCI_ACCESS_SYS_BUS_PCI;
		pci_set_param(pacc, "sysfs.path", (char *)sysfs_bus_pci);
		/*
		 * Config space only: the attributes (irq, resource...) are
		 * read by import itself, and a copied tree may lack them.
		 */
		pacc->buscentric = 1;
	}
	if (setjmp(libpci_jmp)) {
		/* libpci failed inside: what it said, with where */
		pci_cleanup(pacc);
		return imp_error(err, "%s: libpci: %s", im->source, libpci_msg);
	}
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (p = pacc->devices; p; p = p->next) {
		struct imp_dev *d = imp_dev_find(im, (unsigned int)p->domain,
						 p->bus, p->dev, p->func);

		/* sysfs: one that vanished between the reads; text only */
		if (d && d->cfg_len) {
			fill(d, p);
			fill_sriov(d, p);
		}
	}
	pci_cleanup(pacc);
	return 0;
}

/* what imp_libpci_private() gathers: in memory, so a longjmp keeps it */
struct private_acc {
	struct imp_private *v;
	size_t n;
};

int imp_libpci_private(const char *sysfs_bus_pci, struct imp_private **ret,
		       size_t *ret_n, struct imp_error *err)
{
	struct private_acc *acc = calloc(1, sizeof(*acc));
	struct pci_access *pacc = acc ? pci_alloc() : NULL;
	struct pci_dev *p;

	*ret = NULL;
	*ret_n = 0;
	if (!pacc) {
		free(acc);
		return imp_error(err, "%s: out of memory", sysfs_bus_pci);
	}
	pacc->error = libpci_error;
	pacc->warning = libpci_quiet;
	pacc->debug = libpci_quiet;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	pacc->buscentric = 1;
	pci_set_param(pacc, "sysfs.path", (char *)sysfs_bus_pci);
	if (setjmp(libpci_jmp)) {
		pci_cleanup(pacc);
		free(acc->v);
		free(acc);
		return imp_error(err, "%s: libpci: %s", sysfs_bus_pci,
				 libpci_msg);
	}
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (p = pacc->devices; p; p = p->next) {
		struct pci_cap *dsn, *vpd;
		struct imp_private *more;

		pci_fill_info(p, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
		dsn = pci_find_cap(p, PCI_EXT_CAP_ID_DSN, PCI_CAP_EXTENDED);
		vpd = pci_find_cap(p, PCI_CAP_ID_VPD, PCI_CAP_NORMAL);
		if (!dsn && !vpd)
			continue;
		more = realloc(acc->v, (acc->n + 1) * sizeof(*more));
		if (!more)
			libpci_error("out of memory");
		acc->v = more;
		acc->v[acc->n++] = (struct imp_private){
			(unsigned int)p->domain, p->bus, p->dev, p->func,
			dsn ? dsn->addr : 0, vpd ? vpd->addr : 0,
		};
	}
	pci_cleanup(pacc);
	*ret = acc->v;
	*ret_n = acc->n;
	free(acc);
	return 0;
}
