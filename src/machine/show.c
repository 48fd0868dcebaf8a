// SPDX-License-Identifier: MIT
/*
 * The machine's state for people (text), programs (JSON) and pictures
 * (Graphviz). Groups in id order, devices in name order.
 */
#include <stdio.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

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

static void show_text(struct machine *m, struct sbuf *sb, struct device **v,
		      size_t n)
{
	static const char *const fw[] = { "x86", "acpi-iort", "devicetree" };
	struct iommu_device *iommu;
	struct iommu_group *g;

	sbuf_printf(sb, "machine %s: firmware %s, iommu api %s, default domain %s\n",
		    m->name, fw[m->cfg.firmware % 3],
		    m->cfg.iommu_api ? "yes" : "no",
		    iommu_domain_type_str(m->cfg.def_domain_type));
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
			sbuf_printf(sb, "  %-14s %-8s %-16s dma=%s\n",
				    v[i]->name,
				    v[i]->bus ? v[i]->bus->name : "-",
				    device_driver_name(v[i]) ?
					    device_driver_name(v[i]) :
					    "-",
				    dev_dma(v[i]));
		}
	}
	for (size_t i = 0, hdr = 0; i < n; i++) {
		if (v[i]->iommu_group)
			continue;
		if (!hdr++)
			sbuf_printf(sb, "no group:\n");
		sbuf_printf(sb, "  %-14s %-8s %-16s dma=%s\n", v[i]->name,
			    v[i]->bus ? v[i]->bus->name : "-",
			    device_driver_name(v[i]) ? device_driver_name(v[i]) :
						       "-",
			    dev_dma(v[i]));
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

static void show_dot(struct machine *m, struct sbuf *sb, struct device **v,
		     size_t n)
{
	struct iommu_group *g;

	sbuf_printf(sb, "digraph \"%s\" {\n\trankdir=LR;\n\tnode [shape=box, style=filled, fillcolor=white];\n",
		    m->name);
	list_for_each_entry(g, &m->groups, node) {
		const char *owner = group_owner(g);
		const char *color = !strcmp(owner, "user")   ? "lightpink" :
				    !strcmp(owner, "kernel") ? "lightblue" :
							       "lightgrey";

		sbuf_printf(sb, "\tsubgraph cluster_group%d {\n\t\tlabel=\"group %d\\nowner %s, owner_cnt %u\\ndomain %s\";\n\t\tstyle=filled; fillcolor=%s;\n",
			    g->id, g->id, owner, g->owner_cnt, group_domain(g),
			    color);
		for (size_t i = 0; i < n; i++)
			if (v[i]->iommu_group == g)
				sbuf_printf(sb, "\t\t\"%s\" [label=\"%s\\n%s\\ndma=%s\"];\n",
					    v[i]->name, v[i]->name,
					    device_driver_name(v[i]) ?
						    device_driver_name(v[i]) :
						    "(no driver)",
					    dev_dma(v[i]));
		sbuf_printf(sb, "\t}\n");
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i]->iommu_group)
			sbuf_printf(sb, "\t\"%s\" [label=\"%s\\n%s\\n(no group)\"];\n",
				    v[i]->name, v[i]->name,
				    device_driver_name(v[i]) ?
					    device_driver_name(v[i]) :
					    "(no driver)");
		if (v[i]->parent && v[i]->parent->added)
			sbuf_printf(sb, "\t\"%s\" -> \"%s\";\n",
				    v[i]->parent->name, v[i]->name);
	}
	sbuf_printf(sb, "}\n");
}

char *machine_show(struct machine *m, enum machine_show_format format)
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
		show_dot(m, &sb, v, n);
		break;
	case SHOW_TEXT:
	default:
		show_text(m, &sb, v, n);
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
