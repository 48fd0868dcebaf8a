// SPDX-License-Identifier: MIT
/*
 * The machine's state for people (text), programs (JSON) and pictures
 * (Graphviz). Groups in id order, devices in name order.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"
#include "machine/pci-names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *dev_dma(const struct device *dev)
{
	if (!dev->driver || !dev->bound)
		return "none";
	return dev->driver->driver_managed_dma ? "driver-managed" : "kernel";
}

static const char *group_owner(const struct iommu_group *g)
{
	if (g->owner)
		return "user";
	return g->owner_cnt ? "kernel" : "none";
}

static const char *group_domain(const struct iommu_group *g)
{
	if (!g->domain)
		return "none";
	if (g->domain == g->default_domain)
		return g->domain->type == IOMMU_DOMAIN_IDENTITY ?
			       "default-identity" :
			       "default-dma";
	if (g->domain == g->blocking_domain)
		return "blocking";
	if (g->domain->type == IOMMU_DOMAIN_UNMANAGED)
		return "unmanaged";
	return iommu_domain_type_str(g->domain->type);
}

bool json_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (len < 3)
		return false;
	out[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c < 0x20)
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			snprintf(esc, sizeof(esc), "%c", c);
		n = strlen(esc);
		if (o + n + 2 > len) {
			out[o++] = '"';
			out[o] = '\0';
			return false;
		}
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
	return true;
}

void sb_json(struct sbuf *sb, const char *s)
{
	size_t len = strlen(s) * 6 + 3;
	char *buf = malloc(len);

	if (!buf) {
		sb->oom = true;
		return;
	}
	json_escape(s, buf, len);
	sbuf_printf(sb, "%s", buf);
	free(buf);
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp((*(struct device *const *)a)->name,
		      (*(struct device *const *)b)->name);
}

/* Added devices sorted by name; *ret_n of them. NULL on no memory. */
static struct device **sorted_devices(struct machine *m, size_t *ret_n)
{
	size_t n = 0;
	struct device *dev, **v;

	list_for_each_entry(dev, &m->devices, node)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return NULL;
	n = 0;
	list_for_each_entry(dev, &m->devices, node)
		if (dev->added)
			v[n++] = dev;
	qsort(v, n, sizeof(*v), cmp_dev);
	*ret_n = n;
	return v;
}

/*
 * A device's line; with names, a PCI function's ends with its names and
 * ids as 'lspci -nn' gives them.
 */
static void text_device(struct sbuf *sb, struct device *dev,
			const struct machine_show_names *names)
{
	char buf[PCI_NAMES_LEN];

	sbuf_printf(sb, "  %-14s %-8s %-16s dma=%s", dev->name,
		    dev->bus ? dev->bus->name : "-",
		    device_driver_name(dev) ? device_driver_name(dev) : "-",
		    dev_dma(dev));
	if (names && names->pci_id_name && device_bus_kind(dev) == BUS_PCI)
		sbuf_printf(sb, "  %s",
			    pci_names_device(names, dev->ids.vendor,
					     dev->ids.device, PCI_NAMES_MIXED,
					     buf, sizeof(buf)));
	sbuf_printf(sb, "\n");
}

static void show_text(struct machine *m, struct sbuf *sb, struct device **v,
		      size_t n, const struct machine_show_names *names)
{
	static const char *const fw[] = { "x86", "acpi-iort", "devicetree" };
	struct iommu_device *iommu;
	struct iommu_group *g;

	sbuf_printf(sb, "machine %s: firmware %s, iommu api %s, default domain %s",
		    m->name, fw[m->cfg.firmware % 3],
		    m->cfg.iommu_api ? "yes" : "no",
		    iommu_domain_type_str(m->cfg.def_domain_type));
	/* recorded from the machine (kernel-release), when it is known */
	if (m->cfg.kernel_release[0])
		sbuf_printf(sb, ", kernel %s", m->cfg.kernel_release);
	sbuf_printf(sb, "\n");
	list_for_each_entry(iommu, &m->iommus, node)
		sbuf_printf(sb, "iommu %s: %s\n", iommu->name,
			    iommu->registered ? "registered" :
						"not registered");
	list_for_each_entry(g, &m->groups, node) {
		sbuf_printf(sb, "group %d: owner %s, owner_cnt %u, domain %s",
			    g->id, group_owner(g), g->owner_cnt,
			    group_domain(g));
		if (g->default_domain)
			sbuf_printf(sb, " (default %s)",
				    iommu_domain_type_str(
					    g->default_domain->type));
		sbuf_printf(sb, "\n");
		for (size_t i = 0; i < n; i++) {
			if (v[i]->iommu_group != g)
				continue;
			text_device(sb, v[i], names);
		}
	}
	for (size_t i = 0, hdr = 0; i < n; i++) {
		if (v[i]->iommu_group)
			continue;
		if (!hdr++)
			sbuf_printf(sb, "no group:\n");
		text_device(sb, v[i], names);
	}
}

static void show_json(struct machine *m, struct sbuf *sb, struct device **v,
		      size_t n)
{
	struct iommu_group *g;
	struct group_device *gdev;
	bool first = true;

	sbuf_printf(sb, "{\"version\":%d,\"machine\":", DMAOWN_JSON_VERSION);
	sb_json(sb, m->name);
	sbuf_printf(sb, ",\"devices\":[");
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(sb, "%s{\"name\":", i ? "," : "");
		sb_json(sb, v[i]->name);
		sbuf_printf(sb, ",\"bus\":");
		sb_json(sb, v[i]->bus ? v[i]->bus->name : "");
		sbuf_printf(sb, ",\"driver\":");
		if (device_driver_name(v[i]))
			sb_json(sb, device_driver_name(v[i]));
		else
			sbuf_printf(sb, "null");
		if (v[i]->iommu_group)
			sbuf_printf(sb, ",\"group\":%d", v[i]->iommu_group->id);
		else
			sbuf_printf(sb, ",\"group\":null");
		sbuf_printf(sb, ",\"dma\":\"%s\"}", dev_dma(v[i]));
	}
	sbuf_printf(sb, "],\"groups\":[");
	list_for_each_entry(g, &m->groups, node) {
		size_t k = 0;
		const char **names;

		sbuf_printf(sb, "%s{\"id\":%d,\"devices\":[", first ? "" : ",",
			    g->id);
		first = false;
		names = calloc(list_count_nodes(&g->devices) + 1,
			       sizeof(*names));
		if (!names) {
			sb->oom = true;
			return;
		}
		for_each_group_device(g, gdev)
			names[k++] = gdev->dev->name;
		for (size_t i = 0; i < k; i++)
			for (size_t j = i + 1; j < k; j++)
				if (strcmp(names[i], names[j]) > 0) {
					const char *t = names[i];

					names[i] = names[j];
					names[j] = t;
				}
		for (size_t i = 0; i < k; i++) {
			sbuf_printf(sb, "%s", i ? "," : "");
			sb_json(sb, names[i]);
		}
		free(names);
		sbuf_printf(sb, "],\"owner\":\"%s\",\"owner_cnt\":%u,\"domain\":\"%s\"}",
			    group_owner(g), g->owner_cnt, group_domain(g));
	}
	sbuf_printf(sb, "]}\n");
}

/* ---- the picture (Graphviz DOT, docs/pictures.md) ---- */

/* Append @s inside a DOT quoted string: quotes and backslashes escaped. */
void sb_dot(struct sbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_putc(sb, '\\');
		if (*s == '\n') {
			sbuf_printf(sb, "\\n");
			continue;
		}
		if ((unsigned char)*s < 0x20)
			continue;
		sbuf_putc(sb, *s);
	}
}

/*
 * @s cut to @max characters with "..." at the end: pci.ids names run long
 * ("Sky Lake-E Integrated Memory Controller Registers"), and a picture of
 * 200 devices is as wide as its widest label.
 */
#define DOT_NAME_MAX 40

static void sb_dot_short(struct sbuf *sb, const char *s, size_t max)
{
	char buf[128];

	if (strlen(s) <= max || max + 1 > sizeof(buf)) {
		sb_dot(sb, s);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s...", (int)(max - 3), s);
	sb_dot(sb, buf);
}

/*
 * What a group's colour says: who owns its DMA now. BLOCKED wins over the
 * owner (a claimed group with nothing attached yet has its blocking domain).
 */
enum dot_owner {
	DOT_OWNER_KERNEL,
	DOT_OWNER_USER,
	DOT_OWNER_BLOCKED,
	DOT_OWNER_NONE,
	_DOT_OWNER_MAX,
};

static const struct {
	const char *legend, *fill, *border;
} dot_owners[_DOT_OWNER_MAX] = {
	[DOT_OWNER_KERNEL] = { "group: kernel DMA API", "#dbe9f6", "#2b6cb0" },
	[DOT_OWNER_USER] = { "group: userspace (VFIO / iommufd)", "#fbdde6",
			     "#c0265a" },
	[DOT_OWNER_BLOCKED] = { "group: DMA blocked", "#e2e2e2", "#404040" },
	[DOT_OWNER_NONE] = { "group: unowned", "#fafafa", "#a0a0a0" },
};

static enum dot_owner dot_group_owner(const struct iommu_group *g)
{
	if (g->domain && g->domain == g->blocking_domain)
		return DOT_OWNER_BLOCKED;
	if (g->owner)
		return DOT_OWNER_USER;
	return g->owner_cnt ? DOT_OWNER_KERNEL : DOT_OWNER_NONE;
}

/* A device's colour: the DMA class of its bound driver (dev_dma()). */
static const struct {
	const char *dma, *legend, *fill;
} dot_dmas[] = {
	{ "kernel", "device: DMA-API driver", "#b7e4b0" },
	{ "driver-managed", "device: driver_managed_dma driver", "#ffd59e" },
	{ "none", "device: no driver", "#ffffff" },
};

static const char *dot_dma_fill(const struct device *dev)
{
	const char *dma = dev_dma(dev);

	for (size_t i = 0; i < ARRAY_SIZE(dot_dmas); i++)
		if (!strcmp(dot_dmas[i].dma, dma))
			return dot_dmas[i].fill;
	return "#ffffff";
}

/* PCI class codes (class >> 8) with the short names lspci's pci.ids uses. */
static const struct {
	unsigned int code;
	const char *name;
} dot_classes[] = {
	{ 0x0100, "SCSI" },          { 0x0101, "IDE" },
	{ 0x0104, "RAID" },          { 0x0106, "SATA" },
	{ 0x0107, "SAS" },           { 0x0108, "NVMe" },
	{ 0x0200, "Ethernet" },      { 0x0207, "InfiniBand" },
	{ 0x0280, "network" },       { 0x0300, "VGA" },
	{ 0x0302, "3D" },            { 0x0380, "display" },
	{ 0x0401, "audio" },         { 0x0403, "audio device" },
	{ 0x0500, "RAM" },           { 0x0600, "host bridge" },
	{ 0x0601, "ISA bridge" },    { 0x0604, "PCI bridge" },
	{ 0x0680, "bridge" },        { 0x0780, "communication" },
	{ 0x0806, "IOMMU" },         { 0x0880, "system peripheral" },
	{ 0x0c03, "USB" },           { 0x0c05, "SMBus" },
	{ 0x0c80, "serial bus" },    { 0x1080, "encryption" },
	{ 0x1200, "accelerator" },   { 0x1300, "instrumentation" },
};

static const char *const dot_base_classes[] = {
	"unclassified", "storage", "network", "display", "multimedia",
	"memory", "bridge", "communication", "system peripheral", "input",
	"docking station", "processor", "serial bus", "wireless", "I/O",
	"satellite", "encryption", "signal processing", "accelerator",
	"instrumentation",
};

static const char *dot_class_name(unsigned int class)
{
	for (size_t i = 0; i < ARRAY_SIZE(dot_classes); i++)
		if (dot_classes[i].code == class >> 8)
			return dot_classes[i].name;
	if (class >> 16 < ARRAY_SIZE(dot_base_classes))
		return dot_base_classes[class >> 16];
	return "other";
}

/* Where a PCI function sits in the tree: its port type, else its class. */
static const char *dot_pci_kind(const struct device *dev)
{
	switch (dev->ids.pcie_type) {
	case PCI_EXP_TYPE_ROOT_PORT:
		return "root port";
	case PCI_EXP_TYPE_UPSTREAM:
		return "switch up port";
	case PCI_EXP_TYPE_DOWNSTREAM:
		return "switch down port";
	case PCI_EXP_TYPE_PCI_BRIDGE:
		return "PCIe-to-PCI bridge";
	case PCI_EXP_TYPE_RC_END:
		return (dev->ids.class >> 8) == 0x0600 ? "host bridge" :
							 "RCiEP";
	case PCI_EXP_TYPE_NONE:
		return (dev->ids.class >> 8) == 0x0604 ? "PCI-to-PCI bridge" :
							 "conventional PCI";
	default:
		return (dev->ids.class >> 8) == 0x0600 ? "host bridge" :
							 "endpoint";
	}
}

static bool dev_is_pci(const struct device *dev)
{
	return dev->bus && !strcmp(dev->bus->name, "pci");
}

static bool dot_is_bridge(const struct device *dev)
{
	return dev_is_pci(dev) && ((dev->ids.class >> 8) == 0x0604 ||
				   dev->ids.pcie_type == PCI_EXP_TYPE_ROOT_PORT ||
				   dev->ids.pcie_type == PCI_EXP_TYPE_UPSTREAM ||
				   dev->ids.pcie_type == PCI_EXP_TYPE_DOWNSTREAM ||
				   dev->ids.pcie_type == PCI_EXP_TYPE_PCI_BRIDGE);
}

/*
 * The root a top-level device hangs from: a PCI function's host bridge,
 * named as sysfs names it ("pci0000:00", from the domain and bus of its
 * name), or the device's bus ("platform", "amba").
 */
void dot_root_of(const struct device *dev, char *buf, size_t len)
{
	if (dev_is_pci(dev) && strlen(dev->name) >= 7)
		snprintf(buf, len, "pci%.7s", dev->name);
	else
		snprintf(buf, len, "%s", dev->bus ? dev->bus->name : "devices");
}

#define DOT_ROOT_MAX (DEVICE_NAME_MAX + 8)

struct dot_root {
	char name[DOT_ROOT_MAX];
	bool pci;
};

static int cmp_root(const void *a, const void *b)
{
	return strcmp(((const struct dot_root *)a)->name,
		      ((const struct dot_root *)b)->name);
}

/* By group number (no group last), then by name. */
static int cmp_dev_group(const void *a, const void *b)
{
	const struct device *x = *(struct device *const *)a;
	const struct device *y = *(struct device *const *)b;
	int gx = x->iommu_group ? x->iommu_group->id : INT_MAX;
	int gy = y->iommu_group ? y->iommu_group->id : INT_MAX;

	if (gx != gy)
		return gx < gy ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool dot_is_root(const struct device *dev)
{
	return !dev->parent || !dev->parent->added;
}

/* The process holding @f's descriptor, for a label; NULL once closed. */
static const char *dot_file_owner(const struct file *f)
{
	return f && f->owner && f->owner->name ? f->owner->name : NULL;
}

/* "vfio group 10, container fd 4, process qemu"; "iommufd fd 3, ..." */
static void dot_user_owner(struct machine *m, const struct iommu_group *g,
			   struct sbuf *sb)
{
	struct vfio_group *vg;
	struct iommufd_ctx *ictx;
	const char *proc = NULL;

	list_for_each_entry(vg, &m->vfio_groups, node) {
		if ((void *)vg != g->owner)
			continue;
		sbuf_printf(sb, "vfio group %d", vg->id);
		if (vg->container && vg->container->file.fd >= 0)
			sbuf_printf(sb, ", container fd %d",
				    vg->container->file.fd);
		proc = dot_file_owner(vg->opened ? &vg->file : NULL);
		if (!proc && vg->container)
			proc = dot_file_owner(&vg->container->file);
		goto process;
	}
	list_for_each_entry(ictx, &m->iommufds, node) {
		if ((void *)ictx != g->owner)
			continue;
		sbuf_printf(sb, "iommufd");
		if (ictx->file.fd >= 0)
			sbuf_printf(sb, " fd %d", ictx->file.fd);
		proc = dot_file_owner(&ictx->file);
		goto process;
	}
	sbuf_printf(sb, "a foreign owner");
	return;
process:
	if (proc) {
		sbuf_printf(sb, ", process ");
		sb_dot(sb, proc);
	}
}

void machine_group_state(struct machine *m, const struct iommu_group *g,
			 struct sbuf *sb, bool brief)
{
	if (g->owner) {
		sbuf_printf(sb, "userspace: ");
		dot_user_owner(m, g, sb);
		if (!brief)
			sbuf_printf(sb, ", owner_cnt %u", g->owner_cnt);
	} else if (g->owner_cnt) {
		sbuf_printf(sb, "kernel DMA API, owner_cnt %u", g->owner_cnt);
	} else {
		sbuf_printf(sb, "unowned");
	}
	/* the usual domain goes without saying: the legend says it */
	if (!brief || strcmp(group_domain(g), "default-dma"))
		sbuf_printf(sb, "%sdomain %s", brief ? "\\n" : ", ",
			    group_domain(g));
}

static void dot_group_label(struct machine *m, const struct iommu_group *g,
			    struct sbuf *sb)
{
	sbuf_printf(sb, "group %d", g->id);
	if (g->iommu)
		sbuf_printf(sb, " (%s)", g->iommu->name);
	/* one line but for userspace, whose owner takes room */
	sbuf_printf(sb, "%s", g->owner ? "\\n" : ": ");
	machine_group_state(m, g, sb, true);
}

void dot_group_open(struct machine *m, const struct iommu_group *g,
		    struct sbuf *sb, const char *indent, const char *note)
{
	enum dot_owner o = dot_group_owner(g);

	sbuf_printf(sb, "%ssubgraph cluster_group%d {\n%s\tlabel=\"", indent,
		    g->id, indent);
	dot_group_label(m, g, sb);
	if (note) {
		sbuf_printf(sb, "\\n");
		sb_dot(sb, note);
	}
	sbuf_printf(sb, "\";\n%s\tstyle=\"filled,rounded%s\"; fillcolor=\"%s\"; color=\"%s\"; penwidth=2;\n",
		    indent, o == DOT_OWNER_NONE ? ",dashed" : "",
		    dot_owners[o].fill, dot_owners[o].border);
}

void dot_device(const struct machine_show_names *names,
		const struct device *dev, struct sbuf *sb, const char *indent,
		const char *note, const char *attrs)
{
	const char *drv = device_driver_name(dev);
	char vname[128] = "", dname[128] = "";

	sbuf_printf(sb, "%s\"", indent);
	sb_dot(sb, dev->name);
	sbuf_printf(sb, "\" [label=\"");
	sb_dot(sb, dev->name);
	if (dev_is_pci(dev)) {
		const char *kind = dot_pci_kind(dev);
		const char *class = dot_class_name(dev->ids.class);

		sbuf_printf(sb, " %04x:%04x", dev->ids.vendor, dev->ids.device);
		if (names && names->pci_name) {
			names->pci_name(names->data, dev->ids.vendor,
					dev->ids.device, vname, dname,
					sizeof(vname));
			if (vname[0]) {
				sbuf_printf(sb, " ");
				sb_dot_short(sb, vname, DOT_NAME_MAX);
			}
			if (dname[0]) {
				sbuf_printf(sb, "\\n");
				sb_dot_short(sb, dname, DOT_NAME_MAX);
			}
		}
		sbuf_printf(sb, "\\n%s%s%s [%06x]", kind,
			    strcmp(kind, class) ? ", " : "",
			    strcmp(kind, class) ? class : "", dev->ids.class);
	} else {
		sbuf_printf(sb, "\\n%s device", dev->bus ? dev->bus->name : "");
		if (dev->ids.compatible[0]) {
			sbuf_printf(sb, ", ");
			sb_dot(sb, dev->ids.compatible);
		} else if (dev->ids.periphid) {
			sbuf_printf(sb, ", periphid 0x%08x", dev->ids.periphid);
		} else if (dev->ids.mc_type[0]) {
			sbuf_printf(sb, ", ");
			sb_dot(sb, dev->ids.mc_type);
		}
	}
	sbuf_printf(sb, "\\ndriver ");
	sb_dot(sb, drv ? drv : "(none)");
	if (!dev->iommu_group)
		sbuf_printf(sb, "\\n(no IOMMU group)");
	if (note) {
		sbuf_printf(sb, "\\n");
		sb_dot(sb, note);
	}
	sbuf_printf(sb, "\", fillcolor=\"%s\"%s%s%s];\n", dot_dma_fill(dev),
		    dot_is_bridge(dev) ? ", style=\"filled\"" : "",
		    dev->iommu_group ? "" : ", color=\"#a0a0a0\", penwidth=2",
		    attrs ? attrs : "");
}

static void dot_legend(struct sbuf *sb)
{
	sbuf_printf(sb, "\tsubgraph cluster_legend {\n\t\tlabel=\"legend\"; style=\"rounded\"; color=\"#a0a0a0\";\n\t\tlegend [shape=plaintext, style=\"\", label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"3\" CELLPADDING=\"4\">\n");
	for (size_t i = 0; i < _DOT_OWNER_MAX; i++)
		sbuf_printf(sb, "\t\t\t<TR><TD BGCOLOR=\"%s\" COLOR=\"%s\">%s</TD></TR>\n",
			    dot_owners[i].fill, dot_owners[i].border,
			    dot_owners[i].legend);
	for (size_t i = 0; i < ARRAY_SIZE(dot_dmas); i++)
		sbuf_printf(sb, "\t\t\t<TR><TD BGCOLOR=\"%s\">%s</TD></TR>\n",
			    dot_dmas[i].fill, dot_dmas[i].legend);
	sbuf_printf(sb, "\t\t\t<TR><TD>square corners: bridge or port</TD></TR>\n"
			"\t\t\t<TR><TD BORDER=\"2\" COLOR=\"#a0a0a0\">grey border: no IOMMU group</TD></TR>\n"
			"\t\t\t<TR><TD>group domain: default-dma unless named</TD></TR>\n"
			"\t\t\t<TR><TD BORDER=\"2\" COLOR=\"#303030\">black box: a PCIe switch and what is below it</TD></TR>\n"
			"\t\t\t<TR><TD STYLE=\"dashed\">dotted box: the devices of a wide bus, in columns</TD></TR>\n"
			"\t\t</TABLE>>];\n\t}\n");
}

/*
 * The layout of a large machine (docs/pictures.md, "Large machines"):
 *
 * - a switch is a box around its upstream port's subtree, when every group
 *   with a member in that subtree lies wholly inside it (clusters nest);
 * - the leaves of a wide fan-out (a bus with FAN_MIN or more functions
 *   without children, whose groups hold nothing else) go in a box of
 *   their own, laid out as a grid, column after column, a group never
 *   split between columns; one line joins the box to its parent;
 * - the trees of the roots are stacked in bands side by side, so that the
 *   picture is about as wide as it is tall.
 *
 * Nodes are indexed: devices 0..n-1 in name order, roots n..n+nroots-1.
 * Containers: a switch is its upstream port's index, a fan n + nroots +
 * its parent's index; -1 is the top level.
 */
#define FAN_MIN 8

struct dot_layout {
	size_t n, nroots, nn;		/* devices, roots, both */
	struct device **v;		/* by name */
	struct dot_root *roots;		/* unique, by name */
	size_t *par;			/* parent node; SIZE_MAX none */
	size_t *nkids;
	bool *sw;			/* a boxed switch (upstream ports) */
	bool *fan;			/* a node whose leaves form a grid */
	bool *in_fan;			/* a device in its parent's grid */
	size_t *nleaves;		/* devices in a node's grid */
	int *rank;			/* the layer, left to right */
	long *cont;			/* container of each device */
	struct device **w;		/* by group then name */
	size_t *gstart;			/* group g: w[gstart[g]..gstart[g+1]] */
	int ngids;
};

static int cmp_dev_name_key(const void *key, const void *elem)
{
	return strcmp(key, (*(struct device *const *)elem)->name);
}

static int cmp_root_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct dot_root *)elem)->name);
}

static size_t dot_index(const struct dot_layout *l, const char *name)
{
	struct device **d = bsearch(name, l->v, l->n, sizeof(*l->v),
				    cmp_dev_name_key);

	return d ? (size_t)(d - l->v) : SIZE_MAX;
}

static size_t dot_parent_of(const struct dot_layout *l, size_t i)
{
	char root[DOT_ROOT_MAX];
	struct dot_root *r;

	if (!dot_is_root(l->v[i]))
		return dot_index(l, l->v[i]->parent->name);
	dot_root_of(l->v[i], root, sizeof(root));
	r = bsearch(root, l->roots, l->nroots, sizeof(*l->roots), cmp_root_key);
	return r ? l->n + (size_t)(r - l->roots) : SIZE_MAX;
}

static bool dot_is_upstream(const struct device *dev)
{
	return dev_is_pci(dev) && dev->ids.pcie_type == PCI_EXP_TYPE_UPSTREAM;
}

/* The innermost boxed switch holding device @i (itself included), or -1. */
static long dot_switch_of(const struct dot_layout *l, size_t i)
{
	for (; i < l->n; i = l->par[i])
		if (l->sw[i])
			return (long)i;
	return -1;
}

static int dot_group_id(const struct device *dev)
{
	return dev->iommu_group ? dev->iommu_group->id : -1;
}

/* Switches whose subtree some group straddles are not boxed. */
static void dot_plan_switches(struct dot_layout *l, unsigned int *cnt)
{
	for (size_t i = 0; i < l->n; i++)
		l->sw[i] = dot_is_upstream(l->v[i]);
	for (int g = 0; g < l->ngids; g++) {
		size_t size = l->gstart[g + 1] - l->gstart[g];

		for (size_t k = l->gstart[g]; k < l->gstart[g + 1]; k++)
			for (size_t i = dot_index(l, l->w[k]->name); i < l->n;
			     i = l->par[i])
				cnt[i]++;
		for (size_t k = l->gstart[g]; k < l->gstart[g + 1]; k++)
			for (size_t i = dot_index(l, l->w[k]->name); i < l->n;
			     i = l->par[i])
				if (cnt[i] != size)
					l->sw[i] = false;
		for (size_t k = l->gstart[g]; k < l->gstart[g + 1]; k++)
			for (size_t i = dot_index(l, l->w[k]->name); i < l->n;
			     i = l->par[i])
				cnt[i] = 0;
	}
}

/*
 * A leaf may go in its parent's grid when its group (if any) is leaves of
 * the same parent only.
 */
static void dot_plan_fans(struct dot_layout *l, size_t *cnt)
{
	/* a group whose members are all leaves of one parent: in_fan of its first */
	for (int g = 0; g < l->ngids; g++) {
		size_t first = SIZE_MAX;
		bool ok = true;

		for (size_t k = l->gstart[g]; ok && k < l->gstart[g + 1]; k++) {
			size_t j = dot_index(l, l->w[k]->name);

			if (first == SIZE_MAX)
				first = j;
			ok = j < l->n && first < l->n && !l->nkids[j] &&
			     l->par[j] != SIZE_MAX && l->par[j] == l->par[first];
		}
		if (first < l->n)
			l->in_fan[first] = ok;
	}
	for (size_t i = 0; i < l->n; i++) {
		int g = dot_group_id(l->v[i]);
		bool ok = !l->nkids[i] && l->par[i] != SIZE_MAX;

		if (ok && g >= 0 && g < l->ngids)
			ok = l->in_fan[dot_index(l, l->w[l->gstart[g]]->name)];
		l->in_fan[i] = ok;
		if (ok)
			cnt[l->par[i]]++;
	}
	for (size_t x = 0; x < l->nn; x++)
		l->fan[x] = cnt[x] >= FAN_MIN;
	for (size_t i = 0; i < l->n; i++)
		l->in_fan[i] = l->in_fan[i] && l->fan[l->par[i]];
}

static long dot_fan_id(const struct dot_layout *l, size_t x)
{
	return (long)(l->nn + x);
}

/* The container a container @c sits in. */
static long dot_container_parent(const struct dot_layout *l, long c)
{
	size_t x;

	if (c < 0)
		return -1;
	if ((size_t)c < l->nn) /* a switch: the next one up */
		return l->par[c] < l->n ? dot_switch_of(l, l->par[c]) : -1;
	x = (size_t)c - l->nn;
	return x < l->n ? dot_switch_of(l, x) : -1;
}

/* The root node whose tree holds node @x. */
static size_t dot_tree_of(const struct dot_layout *l, size_t x)
{
	while (x < l->n && l->par[x] != SIZE_MAX)
		x = l->par[x];
	return x;
}

static int dot_rank_of(struct dot_layout *l, size_t i, const size_t *col)
{
	size_t p = l->par[i];

	if (l->rank[i] >= 0)
		return l->rank[i];
	l->rank[i] = 0; /* a cycle cannot happen; a guard all the same */
	if (p == SIZE_MAX)
		return 0;
	l->rank[i] = (p < l->n ? dot_rank_of(l, p, col) : 0) + 1 +
		     (l->in_fan[i] ? (int)col[i] : 0);
	return l->rank[i];
}

struct dot_lists {
	long *sub_head, *sub_next;	/* containers in a container */
	long *grp_head, *grp_next;	/* groups in a container */
	long *dev_head, *dev_next;	/* ungrouped devices in one */
};

static void dot_container_open(struct machine *m, const struct dot_layout *l,
			       const struct machine_show_names *names, long c,
			       struct sbuf *sb, const char *indent)
{
	char vname[128] = "", dname[128] = "";

	if ((size_t)c < l->nn) {
		const struct device *up = l->v[c];

		sbuf_printf(sb, "%ssubgraph \"cluster_switch:", indent);
		sb_dot(sb, up->name);
		sbuf_printf(sb, "\" {\n%s\tlabel=\"switch %04x:%04x", indent,
			    up->ids.vendor, up->ids.device);
		if (names && names->pci_name) {
			names->pci_name(names->data, up->ids.vendor,
					up->ids.device, vname, dname,
					sizeof(vname));
			if (dname[0]) {
				sbuf_printf(sb, " ");
				sb_dot_short(sb, dname, DOT_NAME_MAX);
			}
		}
		sbuf_printf(sb, "\";\n%s\tlabeljust=l; style=\"rounded\"; color=\"#303030\"; penwidth=1.5;\n",
			    indent);
	} else {
		size_t x = (size_t)c - l->nn;

		sbuf_printf(sb, "%ssubgraph \"cluster_fan:", indent);
		sb_dot(sb, x < l->n ? l->v[x]->name : l->roots[x - l->n].name);
		sbuf_printf(sb, "\" {\n%s\tlabel=\"", indent);
		sbuf_printf(sb, "%zu devices below ", l->nleaves[x]);
		sb_dot(sb, x < l->n ? l->v[x]->name : l->roots[x - l->n].name);
		sbuf_printf(sb, "\";\n%s\tlabeljust=l; style=\"dotted\"; color=\"#606060\"; penwidth=1;\n",
			    indent);
	}
	(void)m;
}

static void dot_emit(struct machine *m, const struct dot_layout *l,
		     const struct dot_lists *ls,
		     const struct machine_show_names *names, long c,
		     struct sbuf *sb, int depth)
{
	long slot = c + 1;
	char indent[32];

	snprintf(indent, sizeof(indent), "%.*s", depth < 30 ? depth : 30,
		 "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t");
	for (long s = ls->sub_head[slot]; s >= 0; s = ls->sub_next[s]) {
		dot_container_open(m, l, names, s, sb, indent);
		dot_emit(m, l, ls, names, s, sb, depth + 1);
		sbuf_printf(sb, "%s}\n", indent);
	}
	for (long g = ls->grp_head[slot]; g >= 0; g = ls->grp_next[g]) {
		const struct iommu_group *grp =
			l->w[l->gstart[g]]->iommu_group;

		dot_group_open(m, grp, sb, indent, NULL);
		for (size_t k = l->gstart[g]; k < l->gstart[g + 1]; k++) {
			char in2[40];

			snprintf(in2, sizeof(in2), "%s\t", indent);
			dot_device(names, l->w[k], sb, in2, NULL, NULL);
		}
		sbuf_printf(sb, "%s}\n", indent);
	}
	for (long i = ls->dev_head[slot]; i >= 0; i = ls->dev_next[i])
		dot_device(names, l->v[i], sb, indent, NULL, NULL);
}

/* Rows of a grid of @k leaves: about twice as many as columns. */
static size_t dot_fan_rows(size_t k)
{
	size_t r = 1;

	while (r * r < 2 * k)
		r++;
	return r;
}

/* Allocate @n zeroed elements of @size; NULL marks the layout failed. */
static void *dot_zalloc(bool *oom, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	*oom |= !p;
	return p;
}

/* Edge from node @x (a device or a root) as DOT names it. */
static void dot_node_name(const struct dot_layout *l, size_t x,
			  struct sbuf *sb)
{
	sbuf_printf(sb, "\"");
	if (x < l->n) {
		sb_dot(sb, l->v[x]->name);
	} else {
		sbuf_printf(sb, "root:");
		sb_dot(sb, l->roots[x - l->n].name);
	}
	sbuf_printf(sb, "\"");
}

static void dot_edge(const struct dot_layout *l, size_t from, size_t to,
		     const char *attrs, struct sbuf *sb)
{
	sbuf_printf(sb, "\t");
	dot_node_name(l, from, sb);
	sbuf_printf(sb, " -> ");
	dot_node_name(l, to, sb);
	sbuf_printf(sb, "%s;\n", attrs);
}

/* The grids: each fan's leaves column after column, groups kept whole. */
static void dot_grid_edges(const struct dot_layout *l, const size_t *order,
			   const size_t *ostart, size_t *col, size_t *rows,
			   struct sbuf *sb, bool emit)
{
	for (size_t x = 0; x < l->nn; x++) {
		const size_t *lv = order + ostart[x];
		size_t k = ostart[x + 1] - ostart[x], r, row = 0, c = 0;
		size_t prev_start = 0, prev_len = 0, cur_start = 0;

		if (!l->fan[x] || !k)
			continue;
		r = dot_fan_rows(k);
		for (size_t a = 0; a < k;) {
			int g = dot_group_id(l->v[lv[a]]);
			size_t b = a + 1;

			while (g >= 0 && b < k && dot_group_id(l->v[lv[b]]) == g)
				b++;
			if (b - a > r)
				r = b - a;
			a = b;
		}
		rows[x] = r;
		for (size_t a = 0; a < k;) {
			int g = dot_group_id(l->v[lv[a]]);
			size_t b = a + 1;

			while (g >= 0 && b < k && dot_group_id(l->v[lv[b]]) == g)
				b++;
			if (row && row + (b - a) > r) {
				c++;
				row = 0;
				prev_start = cur_start;
				prev_len = a - cur_start;
				cur_start = a;
			}
			for (size_t i = a; i < b; i++, row++) {
				col[lv[i]] = c;
				if (!emit)
					continue;
				if (!i) {
					struct sbuf name = { 0 };

					sbuf_printf(&name, " [lhead=\"cluster_fan:");
					if (x < l->n)
						sb_dot(&name, l->v[x]->name);
					else
						sb_dot(&name, l->roots[x - l->n].name);
					sbuf_printf(&name, "\"]");
					dot_edge(l, x, lv[i], name.buf ? name.buf : "", sb);
					sb->oom |= name.oom;
					free(name.buf);
				} else if (!c) {
					dot_edge(l, x, lv[i], " [style=invis]", sb);
				} else {
					size_t p = prev_start +
						   (row < prev_len ? row : prev_len - 1);

					dot_edge(l, lv[p], lv[i], " [style=invis]", sb);
				}
			}
			a = b;
		}
	}
}

/*
 * Bands: the roots' trees in name order, cut into @nb bands of about the
 * same number of rows; each band's roots are ranked past the deepest
 * layer of the band before, by an invisible edge from its first root.
 */
static void dot_bands(const struct dot_layout *l, const size_t *rows,
		      struct sbuf *sb, bool *oom)
{
	size_t *trows = dot_zalloc(oom, l->nroots, sizeof(*trows));
	int *tdepth = dot_zalloc(oom, l->nroots, sizeof(*tdepth));
	size_t total = 0, nb = 1, target, acc = 0, first = l->n, prev = SIZE_MAX;
	int maxdepth = 1, bdepth = 0, prevdepth = 0;

	if (*oom)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		size_t t = dot_tree_of(l, i) - l->n;

		if (t >= l->nroots)
			continue;
		if (!l->nkids[i] && !l->in_fan[i])
			trows[t]++;
		if (l->fan[i])
			trows[t] += rows[i];
		if (l->rank[i] + 1 > tdepth[t])
			tdepth[t] = l->rank[i] + 1;
	}
	for (size_t t = 0; t < l->nroots; t++) {
		if (l->fan[l->n + t])
			trows[t] += rows[l->n + t];
		total += trows[t];
		if (tdepth[t] > maxdepth)
			maxdepth = tdepth[t];
	}
	/* a row is about 1.5 in tall, a layer 2.8 in wide: aim for a square */
	while ((2 * nb + 1) * (2 * nb + 1) * (size_t)maxdepth * 28 <= total * 60 &&
	       nb < l->nroots)
		nb++;
	target = (total + nb - 1) / nb;
	for (size_t t = 0; t < l->nroots; t++) {
		if (acc && acc + trows[t] > target) {
			prev = first;
			prevdepth = bdepth;
			first = l->n + t;
			acc = 0;
			bdepth = 0;
		}
		if (prev != SIZE_MAX) {
			char attrs[64];

			snprintf(attrs, sizeof(attrs),
				 " [style=invis, minlen=%d]", prevdepth);
			dot_edge(l, prev, l->n + t, attrs, sb);
		}
		acc += trows[t];
		if (tdepth[t] > bdepth)
			bdepth = tdepth[t];
	}
out:
	free(trows);
	free(tdepth);
}

static void show_dot(struct machine *m, struct sbuf *sb, struct device **v,
		     size_t n, const struct machine_show_names *names)
{
	static const char *const fw[] = { "x86", "acpi-iort", "devicetree" };
	struct dot_layout l = { .n = n, .v = v, .ngids = m->groups_cap };
	struct dot_lists ls = { 0 };
	size_t *col, *order, *ostart, *rows, *fill, nc;
	unsigned int *cnt;
	bool oom = false;

	sbuf_printf(sb, "digraph \"");
	sb_dot(sb, m->name);
	sbuf_printf(sb, "\" {\n\tgraph [rankdir=LR, newrank=true, compound=true, fontname=\"Helvetica\", fontsize=12, nodesep=0.12, ranksep=0.5, labelloc=t, label=\"");
	sb_dot(sb, m->name);
	sbuf_printf(sb, ": firmware %s, default domain %s\"];\n",
		    fw[m->cfg.firmware % 3],
		    iommu_domain_type_str(m->cfg.def_domain_type));
	sbuf_printf(sb, "\tnode [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n\tedge [arrowhead=none, color=\"#606060\"];\n");

	/* Roots, once each, in name order. */
	l.roots = dot_zalloc(&oom, n, sizeof(*l.roots));
	for (size_t i = 0; !oom && i < n; i++) {
		if (!dot_is_root(v[i]))
			continue;
		dot_root_of(v[i], l.roots[l.nroots].name,
			    sizeof(l.roots[l.nroots].name));
		l.roots[l.nroots++].pci = dev_is_pci(v[i]);
	}
	if (!oom && l.nroots)
		qsort(l.roots, l.nroots, sizeof(*l.roots), cmp_root);
	nc = 0;
	for (size_t i = 0; i < l.nroots; i++)
		if (!i || strcmp(l.roots[i].name, l.roots[nc - 1].name))
			l.roots[nc++] = l.roots[i];
	l.nroots = nc;
	for (size_t i = 0; i < l.nroots; i++) {
		sbuf_printf(sb, "\t\"root:");
		sb_dot(sb, l.roots[i].name);
		sbuf_printf(sb, "\" [label=\"%s\\n",
			    l.roots[i].pci ? "PCI host bridge" : "bus");
		sb_dot(sb, l.roots[i].name);
		sbuf_printf(sb, "\", shape=box3d, style=\"filled\", fillcolor=\"#eeeeee\"];\n");
	}
	l.nn = n + l.nroots;
	nc = 2 * l.nn + 1;
	l.par = dot_zalloc(&oom, n, sizeof(*l.par));
	l.nkids = dot_zalloc(&oom, l.nn, sizeof(*l.nkids));
	l.sw = dot_zalloc(&oom, n, sizeof(*l.sw));
	l.fan = dot_zalloc(&oom, l.nn, sizeof(*l.fan));
	l.in_fan = dot_zalloc(&oom, n, sizeof(*l.in_fan));
	l.nleaves = dot_zalloc(&oom, l.nn, sizeof(*l.nleaves));
	l.rank = dot_zalloc(&oom, n, sizeof(*l.rank));
	l.cont = dot_zalloc(&oom, n, sizeof(*l.cont));
	l.w = dot_zalloc(&oom, n, sizeof(*l.w));
	l.gstart = dot_zalloc(&oom, (size_t)l.ngids + 1, sizeof(*l.gstart));
	cnt = dot_zalloc(&oom, n, sizeof(*cnt));
	col = dot_zalloc(&oom, n, sizeof(*col));
	order = dot_zalloc(&oom, n, sizeof(*order));
	ostart = dot_zalloc(&oom, l.nn + 1, sizeof(*ostart));
	fill = dot_zalloc(&oom, l.nn + 1, sizeof(*fill));
	rows = dot_zalloc(&oom, l.nn, sizeof(*rows));
	ls.sub_head = dot_zalloc(&oom, nc, sizeof(long));
	ls.sub_next = dot_zalloc(&oom, nc, sizeof(long));
	ls.grp_head = dot_zalloc(&oom, nc, sizeof(long));
	ls.dev_head = dot_zalloc(&oom, nc, sizeof(long));
	ls.grp_next = dot_zalloc(&oom, (size_t)l.ngids + 1, sizeof(long));
	ls.dev_next = dot_zalloc(&oom, n, sizeof(long));
	if (oom)
		goto out;

	/* members group by group, without a walk of every device per group */
	if (n) {	/* a machine of no devices may have no array at all */
		memcpy(l.w, v, n * sizeof(*l.w));
		qsort(l.w, n, sizeof(*l.w), cmp_dev_group);
	}
	for (size_t k = 0; k < n; k++)
		if (dot_group_id(l.w[k]) >= 0 && dot_group_id(l.w[k]) < l.ngids)
			l.gstart[dot_group_id(l.w[k]) + 1]++;
	for (int g = 0; g < l.ngids; g++)
		l.gstart[g + 1] += l.gstart[g];
	for (size_t i = 0; i < n; i++) {
		l.par[i] = dot_parent_of(&l, i);
		l.rank[i] = -1;
		if (l.par[i] != SIZE_MAX)
			l.nkids[l.par[i]]++;
	}
	dot_plan_switches(&l, cnt);
	dot_plan_fans(&l, l.nleaves);
	for (size_t i = 0; i < n; i++)
		l.cont[i] = l.in_fan[i] ? dot_fan_id(&l, l.par[i]) :
					  dot_switch_of(&l, i);

	/* what each container holds, in order: lists built back to front */
	for (size_t s = 0; s < nc; s++)
		ls.sub_head[s] = ls.grp_head[s] = ls.dev_head[s] = -1;
	for (long c = (long)(2 * l.nn) - 1; c >= 0; c--) {
		bool real = (size_t)c < l.nn ? (size_t)c < n && l.sw[c] :
					       l.fan[c - (long)l.nn];
		long slot;

		if (!real)
			continue;
		slot = dot_container_parent(&l, c) + 1;
		ls.sub_next[c] = ls.sub_head[slot];
		ls.sub_head[slot] = c;
	}
	for (int g = l.ngids - 1; g >= 0; g--) {
		long slot;

		if (l.gstart[g + 1] == l.gstart[g])
			continue;
		slot = l.cont[dot_index(&l, l.w[l.gstart[g]]->name)] + 1;
		ls.grp_next[g] = ls.grp_head[slot];
		ls.grp_head[slot] = g;
	}
	for (long i = (long)n - 1; i >= 0; i--) {
		long slot = l.cont[i] + 1;

		if (v[i]->iommu_group)
			continue;
		ls.dev_next[i] = ls.dev_head[slot];
		ls.dev_head[slot] = i;
	}
	dot_emit(m, &l, &ls, names, -1, sb, 1);

	/* the grids' leaves by parent, in group then name order */
	for (size_t k = 0; k < n; k++) {
		size_t i = dot_index(&l, l.w[k]->name);

		if (l.in_fan[i])
			ostart[l.par[i] + 1]++;
	}
	for (size_t x = 0; x < l.nn; x++)
		ostart[x + 1] += ostart[x];
	for (size_t k = 0; k < n; k++) {
		size_t i = dot_index(&l, l.w[k]->name);

		if (l.in_fan[i])
			order[ostart[l.par[i]] + fill[l.par[i]]++] = i;
	}
	dot_grid_edges(&l, order, ostart, col, rows, sb, false);
	for (size_t i = 0; i < n; i++)
		dot_rank_of(&l, i, col);
	for (size_t i = 0; i < n; i++)
		if (!l.in_fan[i] && l.par[i] != SIZE_MAX)
			dot_edge(&l, l.par[i], i, "", sb);
	dot_grid_edges(&l, order, ostart, col, rows, sb, true);
	dot_bands(&l, rows, sb, &oom);
	dot_legend(sb);
	sbuf_printf(sb, "}\n");
out:
	sb->oom |= oom;
	free(l.roots);
	free(l.par);
	free(l.nkids);
	free(l.sw);
	free(l.fan);
	free(l.in_fan);
	free(l.nleaves);
	free(l.rank);
	free(l.cont);
	free(l.w);
	free(l.gstart);
	free(cnt);
	free(col);
	free(order);
	free(ostart);
	free(fill);
	free(rows);
	free(ls.sub_head);
	free(ls.sub_next);
	free(ls.grp_head);
	free(ls.dev_head);
	free(ls.grp_next);
	free(ls.dev_next);
}

static char *show(struct machine *m, enum machine_show_format format,
		  const struct machine_show_names *names)
{
	struct sbuf sb = { 0 };
	size_t n = 0;
	struct device **v = sorted_devices(m, &n);

	if (!v)
		return NULL;
	mutex_lock(&m->obj_lock);
	switch (format) {
	case SHOW_JSON:
		show_json(m, &sb, v, n);
		break;
	case SHOW_DOT:
		show_dot(m, &sb, v, n, names);
		break;
	case SHOW_TEXT:
	default:
		show_text(m, &sb, v, n, names);
		break;
	}
	mutex_unlock(&m->obj_lock);
	free(v);
	if (sb.oom) {
		free(sb.buf);
		return NULL;
	}
	return sb.buf;
}

char *machine_show_dot(struct machine *m,
		       const struct machine_show_names *names)
{
	return show(m, SHOW_DOT, names);
}

char *machine_show(struct machine *m, enum machine_show_format format)
{
	return show(m, format, NULL);
}

char *machine_show_text(struct machine *m,
			const struct machine_show_names *names)
{
	return show(m, SHOW_TEXT, names);
}
