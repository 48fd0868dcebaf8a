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
static void sb_dot(struct sbuf *sb, const char *s)
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
		return "switch upstream port";
	case PCI_EXP_TYPE_DOWNSTREAM:
		return "switch downstream port";
	case PCI_EXP_TYPE_PCI_BRIDGE:
		return "PCIe-to-PCI bridge";
	case PCI_EXP_TYPE_RC_END:
		return (dev->ids.class >> 8) == 0x0600 ? "host bridge" :
							 "RC integrated endpoint";
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
static void dot_root_of(const struct device *dev, char *buf, size_t len)
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

static void dot_group_label(struct machine *m, const struct iommu_group *g,
			    struct sbuf *sb)
{
	sbuf_printf(sb, "group %d", g->id);
	if (g->iommu)
		sbuf_printf(sb, " (%s)", g->iommu->name);
	sbuf_printf(sb, "\\n");
	if (g->owner) {
		sbuf_printf(sb, "userspace: ");
		dot_user_owner(m, g, sb);
	} else if (g->owner_cnt) {
		sbuf_printf(sb, "kernel DMA API, owner_cnt %u", g->owner_cnt);
	} else {
		sbuf_printf(sb, "unowned");
	}
	sbuf_printf(sb, "\\ndomain %s", group_domain(g));
}

static void dot_device(const struct machine_show_names *names,
		       const struct device *dev, struct sbuf *sb,
		       const char *indent)
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

		sbuf_printf(sb, "\\n%s%s%s [%06x]\\n%04x:%04x", kind,
			    strcmp(kind, class) ? ", " : "",
			    strcmp(kind, class) ? class : "", dev->ids.class,
			    dev->ids.vendor, dev->ids.device);
		if (names && names->pci_name) {
			names->pci_name(names->data, dev->ids.vendor,
					dev->ids.device, vname, dname,
					sizeof(vname));
			if (vname[0]) {
				sbuf_printf(sb, " ");
				sb_dot(sb, vname);
			}
			if (dname[0]) {
				sbuf_printf(sb, "\\n");
				sb_dot(sb, dname);
			}
		}
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
	sbuf_printf(sb, "\", fillcolor=\"%s\"%s%s];\n", dot_dma_fill(dev),
		    dot_is_bridge(dev) ? ", style=\"filled\"" : "",
		    dev->iommu_group ? "" : ", color=\"#a0a0a0\", penwidth=2");
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
			"\t\t</TABLE>>];\n\t}\n");
}

static void show_dot(struct machine *m, struct sbuf *sb, struct device **v,
		     size_t n, const struct machine_show_names *names)
{
	static const char *const fw[] = { "x86", "acpi-iort", "devicetree" };
	char root[DOT_ROOT_MAX];
	struct dot_root *roots;
	struct device **w;
	size_t nroots = 0, k = 0;
	struct iommu_group *g;

	sbuf_printf(sb, "digraph \"");
	sb_dot(sb, m->name);
	sbuf_printf(sb, "\" {\n\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.12, ranksep=0.6, labelloc=t, label=\"");
	sb_dot(sb, m->name);
	sbuf_printf(sb, ": firmware %s, default domain %s\"];\n",
		    fw[m->cfg.firmware % 3],
		    iommu_domain_type_str(m->cfg.def_domain_type));
	sbuf_printf(sb, "\tnode [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n\tedge [arrowhead=none, color=\"#606060\"];\n");

	/* Roots, once each, in name order. */
	roots = calloc(n ? n : 1, sizeof(*roots));
	if (!roots) {
		sb->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!dot_is_root(v[i]))
			continue;
		dot_root_of(v[i], roots[nroots].name,
			    sizeof(roots[nroots].name));
		roots[nroots++].pci = dev_is_pci(v[i]);
	}
	qsort(roots, nroots, sizeof(*roots), cmp_root);
	for (size_t i = 0; i < nroots; i++) {
		if (i && !strcmp(roots[i].name, roots[i - 1].name))
			continue;
		sbuf_printf(sb, "\t\"root:");
		sb_dot(sb, roots[i].name);
		sbuf_printf(sb, "\" [label=\"%s\\n",
			    roots[i].pci ? "PCI host bridge" : "bus");
		sb_dot(sb, roots[i].name);
		sbuf_printf(sb, "\", shape=box3d, style=\"filled\", fillcolor=\"#eeeeee\"];\n");
	}
	free(roots);

	/* Members group by group without a walk of every device per group. */
	w = malloc((n ? n : 1) * sizeof(*w));
	if (!w) {
		sb->oom = true;
		return;
	}
	memcpy(w, v, n * sizeof(*w));
	qsort(w, n, sizeof(*w), cmp_dev_group);
	list_for_each_entry(g, &m->groups, node) {
		enum dot_owner o = dot_group_owner(g);

		sbuf_printf(sb, "\tsubgraph cluster_group%d {\n\t\tlabel=\"", g->id);
		dot_group_label(m, g, sb);
		sbuf_printf(sb, "\";\n\t\tstyle=\"filled,rounded%s\"; fillcolor=\"%s\"; color=\"%s\"; penwidth=2;\n",
			    o == DOT_OWNER_NONE ? ",dashed" : "",
			    dot_owners[o].fill, dot_owners[o].border);
		while (k < n && w[k]->iommu_group && w[k]->iommu_group->id < g->id)
			k++;
		for (; k < n && w[k]->iommu_group == g; k++)
			dot_device(names, w[k], sb, "\t\t");
		sbuf_printf(sb, "\t}\n");
	}
	for (size_t i = 0; i < n; i++)
		if (!v[i]->iommu_group)
			dot_device(names, v[i], sb, "\t");
	free(w);
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(sb, "\t\"");
		if (dot_is_root(v[i])) {
			dot_root_of(v[i], root, sizeof(root));
			sbuf_printf(sb, "root:%s", root);
		} else {
			sb_dot(sb, v[i]->parent->name);
		}
		sbuf_printf(sb, "\" -> \"");
		sb_dot(sb, v[i]->name);
		sbuf_printf(sb, "\";\n");
	}
	dot_legend(sb);
	sbuf_printf(sb, "}\n");
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
