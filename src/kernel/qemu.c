// SPDX-License-Identifier: MIT
/*
 * The QEMU twin of a machine file: the same PCI topology, built from
 * QEMU 7.2's own devices on a q35 machine with an emulated VT-d
 * (intel-iommu), at the BDFs SeaBIOS gives them. A machine QEMU cannot
 * build (other firmware, buses, devices QEMU lacks, firmware ranges) is
 * refused with the reason; one it builds with other bus numbers gets a
 * mapping, which 'dmaown kernel run' prints.
 *
 * The twin is strict about ids and ACS: a device whose ids or ACS
 * capability are not QEMU's would make the model compute other groups
 * and bind other drivers than the guest, and the comparison would mean
 * nothing. machines/qemu-x86-vtd.machine is written to these rules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* The QEMU devices the twin uses, by what the machine file says. */
static const struct {
	const char *type;   /* machine file type=, or NULL for endpoints */
	unsigned int vendor, device;
	const char *model;
	const char *acs;    /* the ACS capability QEMU gives it */
} qemu_models[] = {
	{ "root-port", 0x1b36, 0x000c, "pcie-root-port", "sv,tb,rr,cr,uf,dt" },
	{ "upstream", 0x104c, 0x8232, "x3130-upstream", "" },
	{ "downstream", 0x104c, 0x8233, "xio3130-downstream", "" },
	{ "pci-bridge", 0x1b36, 0x000e, "pcie-pci-bridge", "" },
	{ NULL, 0x8086, 0x10d3, "e1000e", "" },
	{ NULL, 0x8086, 0x100e, "e1000", "" },
};

/* The functions the board has of its own, at fixed places on bus 0. */
struct board_fixed {
	const char *bdf;
	unsigned int vendor, device;
	const char *what;
};

static const struct board_fixed q35_fixed[] = {
	{ "00:00.0", 0x8086, 0x29c0, "the q35 host bridge" },
	{ "00:1f.0", 0x8086, 0x2918, "the ICH9 LPC bridge" },
	{ "00:1f.2", 0x8086, 0x2922, "the ICH9 AHCI controller" },
	{ "00:1f.3", 0x8086, 0x2930, "the ICH9 SMBus controller" },
};

/* arm64's virt board: the generic host bridge (gpex) only */
static const struct board_fixed virt_fixed[] = {
	{ "00:00.0", 0x1b36, 0x0008, "the virt board's PCIe host bridge" },
};

static const struct board_fixed *board_fixed(const struct twin *t, size_t *n)
{
	if (t->arch == TWIN_X86) {
		*n = sizeof(q35_fixed) / sizeof(q35_fixed[0]);
		return q35_fixed;
	}
	*n = sizeof(virt_fixed) / sizeof(virt_fixed[0]);
	return virt_fixed;
}

static const char *board_name(const struct twin *t)
{
	return t->arch == TWIN_X86 ? "q35" : "virt";
}

/* Drivers the twin can load, by the catalogue's name, and their module. */
static const struct {
	const char *name, *alias, *module; /* module NULL: built in */
	bool takes_ids;
} twin_drivers[] = {
	{ "pcieport", NULL, NULL, false },
	{ "shpchp", NULL, NULL, false },
	{ "e1000e", NULL, "e1000e", false },
	{ "e1000", NULL, "e1000", false },
	{ "ahci", NULL, "ahci", false },
	{ "vfio-pci", "vfio_pci", "vfio_pci", true },
	{ "pci-stub", "pci_stub", "pci_stub", true },
};

int kernel_fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

static void note(struct twin *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct twin *t, const char *fmt, ...)
{
	size_t off = strlen(t->notes);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->notes + off, sizeof(t->notes) - off, fmt, ap);
	va_end(ap);
}

/* The value of option @key= among @tok[from..n), or NULL. */
static const char *opt(char **tok, int n, int from, const char *key)
{
	size_t kl = strlen(key);

	for (int i = from; i < n; i++)
		if (!strncmp(tok[i], key, kl))
			return tok[i] + kl;
	return NULL;
}

static bool flag(char **tok, int n, int from, const char *name)
{
	for (int i = from; i < n; i++)
		if (!strcmp(tok[i], name) ||
		    (!strncmp(tok[i], name, strlen(name)) &&
		     tok[i][strlen(name)] == '='))
			return true;
	return false;
}

/* Two comma-separated ACS bit lists name the same bits. */
static bool same_bits(const char *a, const char *b)
{
	static const char *const bits[] = { "sv", "tb", "rr", "cr", "uf", "ec", "dt" };

	if (!strcmp(a, "-"))
		a = "";
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		char pa[32], pb[32];
		bool in_a, in_b;

		snprintf(pa, sizeof(pa), ",%s,", a);
		snprintf(pb, sizeof(pb), ",%s,", b);
		char key[8];

		snprintf(key, sizeof(key), ",%s,", bits[i]);
		in_a = strstr(pa, key) != NULL;
		in_b = strstr(pb, key) != NULL;
		if (in_a != in_b)
			return false;
	}
	return true;
}

const struct twin_device *twin_find(const struct twin *t, const char *bdf)
{
	for (size_t i = 0; i < t->ndev; i++)
		if (!strcmp(t->dev[i].bdf, bdf))
			return &t->dev[i];
	return NULL;
}

const char *twin_machine_bdf(const struct twin *t, const char *qemu_bdf)
{
	for (size_t i = 0; i < t->ndev; i++)
		if (!strcmp(t->dev[i].qemu_bdf, qemu_bdf))
			return t->dev[i].bdf;
	return "";
}

static int twin_index(const struct twin *t, const char *bdf)
{
	const struct twin_device *d = twin_find(t, bdf);

	return d ? (int)(d - t->dev) : -1;
}

/*
 * Bus numbers as SeaBIOS gives them (pci_bios_init_bus_rec()): each
 * bridge on a bus, in slot and function order, takes the next number,
 * and the buses below it are numbered before its next sibling.
 */
static void number_buses(struct twin *t, int parent, int bus, int *next)
{
	for (int slot = 0; slot < 32; slot++)
		for (int fn = 0; fn < 8; fn++)
			for (size_t i = 0; i < t->ndev; i++) {
				struct twin_device *d = &t->dev[i];
				int p = d->parent[0] ? twin_index(t, d->parent) : -1;

				if (p != parent || d->slot != slot || d->func != fn)
					continue;
				d->bus = bus;
				snprintf(d->qemu_bdf, sizeof(d->qemu_bdf),
					 "0000:%02x:%02x.%x", bus, slot, fn);
				if (strcmp(d->type, "endpoint") &&
				    strcmp(d->type, "conventional") &&
				    strcmp(d->type, "rc-endpoint"))
					number_buses(t, (int)i, ++*next, next);
			}
}

static int parse_pci(struct twin *t, const char *file, int lineno, char **tok,
		     int n, char *why, size_t len)
{
	struct twin_device *d;
	unsigned int dom, bus, slot, fn;
	const char *type, *parent, *acs;

	if (t->ndev == TWIN_MAX_DEVICES)
		return kernel_fail(why, len, "%s:%d: the twin takes at most %d devices",
			    file, lineno, TWIN_MAX_DEVICES);
	if (n < 3 || sscanf(tok[1], "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return kernel_fail(why, len, "%s:%d: bad pci statement", file, lineno);
	d = &t->dev[t->ndev++];
	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", tok[1]);
	sscanf(tok[2], "%x:%x", &d->vendor, &d->device);
	d->slot = (int)slot;
	d->func = (int)fn;
	type = opt(tok, n, 3, "type=");
	snprintf(d->type, sizeof(d->type), "%s", type ? type : "endpoint");
	parent = opt(tok, n, 3, "parent=");
	snprintf(d->parent, sizeof(d->parent), "%s", parent ? parent : "");
	d->shpc = flag(tok, n, 3, "shpc");
	if (flag(tok, n, 3, "absent"))
		return kernel_fail(why, len, "%s:%d: %s is absent: hot-plug has no QEMU twin yet",
			    file, lineno, d->bdf);
	if (flag(tok, n, 3, "rmrr"))
		return kernel_fail(why, len, "%s:%d: %s has an RMRR: QEMU's DMAR table has none",
			    file, lineno, d->bdf);
	if (flag(tok, n, 3, "dma-alias") || flag(tok, n, 3, "stream-id") ||
	    flag(tok, n, 3, "untrusted"))
		return kernel_fail(why, len,
			    "%s:%d: %s: dma-alias=, stream-id= and untrusted have no QEMU twin",
			    file, lineno, d->bdf);
	if (!opt(tok, n, 3, "iommu="))
		return kernel_fail(why, len,
			    "%s:%d: %s has no iommu=: QEMU's %s translates every device",
			    file, lineno, d->bdf,
			    t->arch == TWIN_X86 ? "intel-iommu" : "SMMUv3");
	if (!parent && bus == 0) {
		char short_bdf[16];
		size_t nfixed;
		const struct board_fixed *fixed = board_fixed(t, &nfixed);

		snprintf(short_bdf, sizeof(short_bdf), "%02x:%02x.%x", bus, slot, fn);
		for (size_t i = 0; i < nfixed; i++) {
			if (strcmp(fixed[i].bdf, short_bdf))
				continue;
			if (d->vendor != fixed[i].vendor ||
			    d->device != fixed[i].device)
				return kernel_fail(why, len,
					    "%s:%d: %s is %s in QEMU's %s (%04x:%04x), not %04x:%04x",
					    file, lineno, d->bdf, fixed[i].what,
					    board_name(t), fixed[i].vendor,
					    fixed[i].device, d->vendor, d->device);
			d->model = NULL; /* the board has it */
			return 0;
		}
	}
	if (!parent && bus != 0)
		return kernel_fail(why, len,
			    "%s:%d: %s is on a root bus other than 00: QEMU 7.2's %s has one (pxb-pcie is not in the twin)",
			    file, lineno, d->bdf, board_name(t));
	for (size_t i = 0; i < sizeof(qemu_models) / sizeof(qemu_models[0]); i++) {
		bool bridge = qemu_models[i].type != NULL;

		if (bridge ? strcmp(d->type, qemu_models[i].type) :
			     (!strcmp(d->type, "root-port") ||
			      !strcmp(d->type, "upstream") ||
			      !strcmp(d->type, "downstream") ||
			      !strcmp(d->type, "pci-bridge") ||
			      d->vendor != qemu_models[i].vendor ||
			      d->device != qemu_models[i].device))
			continue;
		if (d->vendor != qemu_models[i].vendor ||
		    d->device != qemu_models[i].device)
			return kernel_fail(why, len,
				    "%s:%d: %s: QEMU's %s is %04x:%04x, not %04x:%04x (give the twin QEMU's ids)",
				    file, lineno, d->bdf, qemu_models[i].model,
				    qemu_models[i].vendor, qemu_models[i].device,
				    d->vendor, d->device);
		acs = opt(tok, n, 3, "acs-cap=");
		if (!same_bits(acs ? acs : "", qemu_models[i].acs))
			return kernel_fail(why, len,
				    "%s:%d: %s: QEMU's %s has ACS capability '%s', the machine says '%s'",
				    file, lineno, d->bdf, qemu_models[i].model,
				    *qemu_models[i].acs ? qemu_models[i].acs : "-",
				    acs ? acs : "-");
		if (opt(tok, n, 3, "acs-ctl="))
			return kernel_fail(why, len,
				    "%s:%d: %s: acs-ctl= has no twin: the guest kernel writes ACS control itself",
				    file, lineno, d->bdf);
		d->model = qemu_models[i].model;
		return 0;
	}
	return kernel_fail(why, len,
		    "%s:%d: %s (%04x:%04x, type %s) has no QEMU 7.2 twin: the twin builds root ports, x3130 switches, PCIe-to-PCI bridges, e1000e (8086:10d3) and e1000 (8086:100e)",
		    file, lineno, d->bdf, d->vendor, d->device, d->type);
}

static int parse_driver(struct twin *t, const char *file, int lineno,
			char **tok, int n, char *why, size_t len)
{
	const char *ids = n > 2 ? opt(tok, n, 2, "ids=") : NULL;

	for (size_t i = 0; i < sizeof(twin_drivers) / sizeof(twin_drivers[0]); i++) {
		if (strcmp(tok[1], twin_drivers[i].name) &&
		    (!twin_drivers[i].alias || strcmp(tok[1], twin_drivers[i].alias)))
			continue;
		if (!strcmp(twin_drivers[i].name, "shpchp"))
			t->shpchp = true;
		if (!twin_drivers[i].module)
			return 0; /* built into Debian's kernels */
		if (t->nmodules == TWIN_MAX_MODULES)
			return kernel_fail(why, len, "%s:%d: too many drivers", file, lineno);
		snprintf(t->modules[t->nmodules], sizeof(t->modules[0]), "%s",
			 twin_drivers[i].module);
		snprintf(t->params[t->nmodules], sizeof(t->params[0]), "%s%s",
			 ids ? "ids=" : "", ids ? ids : "");
		t->nmodules++;
		return 0;
	}
	return kernel_fail(why, len,
		    "%s:%d: driver '%s' has no device in a QEMU twin (it loads pcieport, shpchp, e1000e, e1000, ahci, vfio-pci, pci-stub)",
		    file, lineno, tok[1]);
}

/* One statement; @tok are its tokens. */
/*
 * intel-iommu,caching-mode=on (the VT-d QEMU offers for VFIO) makes the
 * Intel driver invalidate strictly (iommu_set_dma_strict() when the
 * capability has caching mode), so the kernel's default domains are DMA.
 */
static const char dma_fq_why[] =
	"QEMU's VT-d runs in caching mode, where the Intel driver invalidates strictly: the twin's default domains are DMA; say 'default-domain DMA' (or identity)";
/* Debian's arm64 kernels are built with CONFIG_IOMMU_DEFAULT_DMA_STRICT. */
static const char dma_fq_why_arm64[] =
	"Debian's arm64 kernels are built with IOMMU_DEFAULT_DMA_STRICT: the twin's default domains are DMA; say 'default-domain DMA' (or identity)";

static const char *dma_fq_reason(const struct twin *t)
{
	return t->arch == TWIN_X86 ? dma_fq_why : dma_fq_why_arm64;
}

static int parse_statement(struct twin *t, const char *file, int lineno,
			   char **tok, int n, int *niommu,
			   bool *default_domain, char *why, size_t len)
{
	const char *k = tok[0];

	if (!strcmp(k, "machine") && n > 1) {
		snprintf(t->name, sizeof(t->name), "%s", tok[1]);
	} else if (!strcmp(k, "firmware") && n > 1) {
		if (*niommu || t->ndev)
			return kernel_fail(why, len,
				    "%s:%d: the twin needs 'firmware' before the IOMMUs and devices",
				    file, lineno);
		t->arch = !strcmp(tok[1], "devicetree") ? TWIN_ARM64_DT :
			  !strcmp(tok[1], "acpi-iort") ? TWIN_ARM64_ACPI :
							 TWIN_X86;
	} else if (!strcmp(k, "iommu")) {
		const char *kind = opt(tok, n, 2, "kind=");
		const char *want = t->arch == TWIN_X86 ? "intel" : "arm-smmu-v3";

		if (++*niommu > 1)
			return kernel_fail(why, len, "%s:%d: QEMU's %s has one %s, the machine a second",
				    file, lineno, board_name(t),
				    t->arch == TWIN_X86 ? "intel-iommu" : "SMMUv3");
		if (kind && strcmp(kind, want))
			return kernel_fail(why, len, "%s:%d: iommu kind=%s: the %s twin has %s only",
				    file, lineno, kind,
				    t->arch == TWIN_X86 ? "x86" : "arm64",
				    t->arch == TWIN_X86 ? "VT-d" : "SMMUv3");
		if (flag(tok, n, 2, "late") || flag(tok, n, 2, "resv") ||
		    (opt(tok, n, 2, "msi=") && strcmp(opt(tok, n, 2, "msi="), "isolated")))
			return kernel_fail(why, len,
				    "%s:%d: late, resv= and unisolated MSIs have no QEMU twin",
				    file, lineno);
	} else if (!strcmp(k, "pci")) {
		return parse_pci(t, file, lineno, tok, n, why, len);
	} else if (!strcmp(k, "platform") || !strcmp(k, "amba") ||
		   !strcmp(k, "fsl-mc")) {
		return kernel_fail(why, len,
			    "%s:%d: %s devices: QEMU 7.2 has no %s bus to build them on",
			    file, lineno, k,
			    !strcmp(k, "fsl-mc") ? "fsl-mc" :
			    !strcmp(k, "amba") ? "free AMBA" : "free platform");
	} else if (!strcmp(k, "driver") && n > 1) {
		return parse_driver(t, file, lineno, tok, n, why, len);
	} else if (!strcmp(k, "default-domain") && n > 1) {
		*default_domain = true;
		if (!strcmp(tok[1], "DMA-FQ"))
			return kernel_fail(why, len, "%s:%d: default-domain DMA-FQ: %s",
				    file, lineno, dma_fq_reason(t));
		if (!strcmp(tok[1], "identity"))
			snprintf(t->cmdline, sizeof(t->cmdline), "iommu.passthrough=1");
	} else if ((!strcmp(k, "iommu-api") && n > 1 && !strcmp(tok[1], "no")) ||
		   (!strcmp(k, "vfio-noiommu") && n > 1 && !strcmp(tok[1], "yes")) ||
		   (!strcmp(k, "iommufd-unsafe-interrupts") && n > 1 &&
		    !strcmp(tok[1], "yes")) ||
		   !strcmp(k, "pcie-acs-override") || !strcmp(k, "fault") ||
		   (!strcmp(k, "acs-request") && n > 1 &&
		    !strcmp(tok[1], t->arch == TWIN_ARM64_DT ? "yes" : "no"))) {
		return kernel_fail(why, len,
			    "%s:%d: '%s%s%s' has no twin: Debian's kernels are built with the IOMMU API, without vfio-noiommu or iommufd, without the ACS override patch, and request ACS before enumerating PCI on VT-d and IORT, too late on device tree",
			    file, lineno, k, n > 1 ? " " : "", n > 1 ? tok[1] : "");
	} else if (!strcmp(k, "groups") && n > 1 && !strcmp(tok[1], "labels")) {
		note(t, "groups come from the machine's labels (groups labels): the comparison checks them\n");
	}
	return 0;
}

int twin_build(const char *file, const char *text, struct twin *t, char *why,
	       size_t why_len)
{
	const char *p = text;
	int lineno = 0, niommu = 0, next = 0, chassis = 0;
	bool default_domain = false;

	memset(t, 0, sizeof(*t));
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096], *tok[64], *save = NULL;
		int n = 0;

		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)(l < sizeof(line) ? l : sizeof(line) - 1), p);
		p = nl ? nl + 1 : p + l;
		for (char *w = strtok_r(line, " \t\r", &save); w && n < 64;
		     w = strtok_r(NULL, " \t\r", &save)) {
			if (w[0] == '#')
				break;
			tok[n++] = w;
		}
		if (n && parse_statement(t, file, lineno, tok, n, &niommu,
					 &default_domain, why, why_len))
			return -1;
	}
	if (!niommu)
		return kernel_fail(why, why_len, "%s: no iommu: the twin has QEMU's %s", file,
			    t->arch == TWIN_X86 ? "intel-iommu" : "SMMUv3");
	if (!default_domain)
		return kernel_fail(why, why_len, "%s: no default-domain statement, so DMA-FQ: %s",
			    file, dma_fq_reason(t));
	/* functions sharing a slot: function 0 says multifunction=on */
	for (size_t i = 0; i < t->ndev; i++)
		for (size_t k = 0; k < t->ndev; k++)
			if (k != i && t->dev[k].func && !t->dev[i].func &&
			    t->dev[k].slot == t->dev[i].slot &&
			    !strcmp(t->dev[k].parent, t->dev[i].parent))
				t->dev[i].multifunction = true;
	for (size_t i = 0; i < t->ndev; i++) {
		struct twin_device *d = &t->dev[i];
		int pi = d->parent[0] ? twin_index(t, d->parent) : -1;
		const char *ptype = pi >= 0 ? t->dev[pi].type : "";

		if (d->parent[0] && pi < 0)
			return kernel_fail(why, why_len, "%s: %s: parent %s is not in the twin",
				    file, d->bdf, d->parent);
		if ((!strcmp(ptype, "root-port") || !strcmp(ptype, "downstream")) &&
		    d->slot != 0)
			return kernel_fail(why, why_len,
				    "%s: %s: below a PCIe port only device 00 exists",
				    file, d->bdf);
		if (!strcmp(ptype, "upstream") && strcmp(d->type, "downstream"))
			return kernel_fail(why, why_len,
				    "%s: %s: below a switch's upstream port QEMU puts downstream ports only",
				    file, d->bdf);
		if (!strcmp(ptype, "pci-bridge") && d->slot == 0)
			return kernel_fail(why, why_len,
				    "%s: %s: slot 0 of QEMU's pcie-pci-bridge is its hot-plug controller's",
				    file, d->bdf);
		/*
		 * QEMU's pcie-pci-bridge always has an SHPC, and shpchp is
		 * built into Debian's kernels: on arm64 it binds the bridge
		 * (docs/oracle.md), on q35 its probe fails (-16), which the
		 * model does not follow.
		 */
		if (!strcmp(d->type, "pci-bridge") && t->arch != TWIN_X86 &&
		    (!d->shpc || !t->shpchp))
			return kernel_fail(why, why_len,
				    "%s: %s: QEMU's pcie-pci-bridge has an SHPC, which the arm64 kernels' built-in shpchp binds: the file needs 'shpc' on it and 'driver shpchp'",
				    file, d->bdf);
		if (!strcmp(d->type, "pci-bridge") && t->arch == TWIN_X86 &&
		    d->shpc && t->shpchp)
			return kernel_fail(why, why_len,
				    "%s: %s: shpchp's probe of QEMU's pcie-pci-bridge fails on q35 (-16), where the model would bind it: leave 'shpc' or 'driver shpchp' out",
				    file, d->bdf);
		snprintf(d->id, sizeof(d->id), "d%02zu", i);
		if (!strcmp(d->type, "root-port") || !strcmp(d->type, "downstream"))
			d->chassis = ++chassis;
	}
	number_buses(t, -1, 0, &next);
	size_t nfixed;
	const struct board_fixed *fixed = board_fixed(t, &nfixed);

	for (size_t i = 0; i < nfixed; i++) {
		char full[16];

		snprintf(full, sizeof(full), "0000:%s", fixed[i].bdf);
		if (!twin_find(t, full))
			note(t, "QEMU's %s adds %s at %s, which the machine does not list: left out of the comparison\n",
			     board_name(t), fixed[i].what, full);
	}
	return 0;
}

void twin_print_mapping(FILE *out, const struct twin *t)
{
	for (size_t i = 0; i < t->ndev; i++) {
		const struct twin_device *d = &t->dev[i];

		fprintf(out, "%s -> %s  %s%s\n", d->bdf, d->qemu_bdf,
			d->model ? d->model : t->arch == TWIN_X86 ? "(q35)" : "(virt)",
			strcmp(d->bdf, d->qemu_bdf) ? "  (renumbered)" : "");
	}
	fputs(t->notes, out);
}

char *xstrdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char **twin_qemu_argv(const struct twin *t, const char *kernel,
		      const char *initrd, const char *console_log,
		      const char *results)
{
	size_t cap = 40 + 2 * t->ndev, n = 0;
	char **v;

	if (t->arch != TWIN_X86)
		return twin_qemu_argv_arm64(t, kernel, initrd, console_log);
	v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
#define ARG(...) (v[n++] = xstrdup_printf(__VA_ARGS__))
	ARG("qemu-system-x86_64");
	ARG("-machine");
	ARG("q35,kernel-irqchip=split");
	ARG("-accel");
	ARG("tcg");
	ARG("-m");
	ARG("768");
	ARG("-smp");
	ARG("1");
	ARG("-nodefaults");
	ARG("-display");
	ARG("none");
	ARG("-no-reboot");
	ARG("-device");
	ARG("intel-iommu,intremap=on,caching-mode=on");
	for (size_t i = 0; i < t->ndev; i++) {
		if (!t->dev[i].model)
			continue;
		ARG("-device");
		v[n++] = twin_device_arg(t, &t->dev[i]);
	}
	ARG("-kernel");
	ARG("%s", kernel);
	ARG("-initrd");
	ARG("%s", initrd);
	/*
	 * no_timer_check: under TCG on a loaded host the IO-APIC timer test
	 * can miss its window, and with interrupt remapping that panics
	 * ("timer doesn't work through Interrupt-remapped IO-APIC").
	 */
	ARG("-append");
	ARG("console=ttyS0 intel_iommu=on panic=-1 loglevel=4 no_timer_check%s%s",
	    t->cmdline[0] ? " " : "", t->cmdline);
	ARG("-serial");
	ARG("file:%s", console_log);
	ARG("-serial");
	ARG("file:%s", results);
	ARG("-monitor");
	ARG("none");
#undef ARG
	for (size_t i = 0; i < n; i++)
		if (!v[i]) {
			twin_argv_free(v);
			return NULL;
		}
	return v;
}

char *twin_device_arg(const struct twin *t, const struct twin_device *d)
{
	const struct twin_device *p = d->parent[0] ? twin_find(t, d->parent) :
						       NULL;

	if (!d->model)
		return NULL;
	return xstrdup_printf("%s,id=%s,bus=%s,addr=%02x.%x%s%s%.0d%s%.0d",
			      d->model, d->id, p ? p->id : "pcie.0", d->slot,
			      d->func, d->multifunction ? ",multifunction=on" : "",
			      d->chassis ? ",chassis=" : "", d->chassis,
			      d->chassis ? ",slot=" : "", d->chassis);
}

void twin_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}
