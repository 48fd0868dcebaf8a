// SPDX-License-Identifier: MIT
/*
 * dmaown explain: why each device is in its IOMMU group, what would
 * isolate it, and what must move to vfio-pci for the group to be usable
 * by userspace (docs/import.md). dmaown's own; no kernel counterpart.
 *
 * The reasons are the steps of v6.6's pci_device_group() replayed with
 * the same functions (src/drivers/iommu/iommu-pci.c and
 * src/drivers/pci/): the DMA alias walk, each bridge whose path to the
 * root lacks ACS and the port on it that lacks which bits, the functions
 * of a multifunction device without ACS, and same-bus aliases. The groups
 * shown are the machine's own; where a machine file's labels differ from
 * what the rules compute, that is said too.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

/* The rules, as named in the JSON (docs/import.md). */
enum why_rule {
	WHY_ALIAS_BRIDGE,	/* a bridge takes the requester ID over */
	WHY_DMA_ALIAS,		/* the function uses another function's ID */
	WHY_BRIDGE,		/* a bridge above does not isolate */
	WHY_MULTIFUNCTION,	/* functions of a slot without ACS */
	WHY_ALIASED_BY,		/* a function on the bus aliases it */
	WHY_ISOLATED,		/* ACS up to the root from here */
	WHY_FIRST,		/* first of its group: others join it */
	WHY_LABEL,		/* not PCI: the firmware's (file's) grouping */
	WHY_STREAM_ID,		/* arm-smmu: shares a stream ID */
};

static const char *const why_rule_names[] = {
	[WHY_ALIAS_BRIDGE] = "dma-alias-bridge",
	[WHY_DMA_ALIAS] = "dma-alias",
	[WHY_BRIDGE] = "bridge-without-acs",
	[WHY_MULTIFUNCTION] = "multifunction-without-acs",
	[WHY_ALIASED_BY] = "aliased-by",
	[WHY_ISOLATED] = "isolated",
	[WHY_FIRST] = "first-in-group",
	[WHY_LABEL] = "firmware",
	[WHY_STREAM_ID] = "stream-id",
};

#define WHY_MAX 16
#define WITH_MAX 8

struct why {
	enum why_rule rule;
	struct pci_dev *via;	/* bridge, alias owner, multifunction head */
	struct pci_dev *port;	/* the function lacking ACS */
	unsigned int missing;	/* REQ_ACS_FLAGS bits it lacks */
	unsigned int alias;	/* a requester ID (bus << 8 | devfn) */
	char cause[160];
	char isolate[240];
	struct pci_dev *with[WITH_MAX];
	size_t nwith;
	bool pci;		/* WHY_LABEL: a PCI device the rules group otherwise */
};

/*
 * Indexes so that explaining every device of a large machine stays linear:
 * each device's PCI view, the machine's groups' members and the computed
 * groups' members, each in machine order.
 */
struct explain {
	struct machine *m;
	struct pci_devs all;
	struct sbuf *sb;
	bool json;
	bool dot;				/* the picture of one group */
	const struct machine_show_names *names;
	struct ptrmap pdev_of;		/* struct device -> struct pci_dev */
	struct device **mem;		/* added devices by machine group id */
	size_t *mem_start;		/* group id g: mem[mem_start[g]..[g+1]] */
	int ngids;
	struct pci_dev **comp;		/* PCI views by computed group */
	size_t *comp_start;		/* as mem_start, by pci_dev::group */
};

static const char *short_type(const struct pci_dev *p)
{
	switch (p->pcie_type) {
	case PCI_EXP_TYPE_ENDPOINT: return "endpoint";
	case PCI_EXP_TYPE_ROOT_PORT: return "root-port";
	case PCI_EXP_TYPE_UPSTREAM: return "upstream";
	case PCI_EXP_TYPE_DOWNSTREAM: return "downstream";
	case PCI_EXP_TYPE_PCI_BRIDGE: return "pci-bridge";
	case PCI_EXP_TYPE_RC_END: return "rc-endpoint";
	case PCI_EXP_TYPE_NONE: return "conventional";
	default: return "pci";
	}
}

/* "SV RR CR": the bits in the spec's capitals, for people */
static void acs_bits(unsigned int bits, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int b = 1; b <= PCI_ACS_ALL_ && o + 4 < len; b <<= 1) {
		const char *name = pci_acs_bit_name(b);

		if (!(bits & b))
			continue;
		if (o)
			buf[o++] = ' ';
		buf[o++] = (char)toupper((unsigned char)name[0]);
		buf[o++] = (char)toupper((unsigned char)name[1]);
		buf[o] = '\0';
	}
}

/* Which of @flags @p provides, one by one (pci_acs_enabled() each). */
static unsigned int acs_missing(struct pci_dev *p, unsigned int flags)
{
	unsigned int missing = 0;

	for (unsigned int b = 1; b <= flags; b <<= 1)
		if ((flags & b) && !pci_acs_enabled(p, b))
			missing |= b;
	return missing;
}

/* Why @p does not provide ACS, and what would make it. */
static void acs_cause(struct pci_dev *p, struct why *w)
{
	const struct pci_quirk *q = NULL;
	const char *name = dev_name(p->dev);

	if (pci_dev_specific_acs_enabled(p, REQ_ACS_FLAGS, &q) >= 0 && q) {
		snprintf(w->cause, sizeof(w->cause), "quirk %s", q->source);
		snprintf(w->isolate, sizeof(w->isolate),
			 "nothing: the kernel's quirk for %04x:%04x decides",
			 p->vendor, p->device);
	} else if (!pci_is_pcie(p)) {
		snprintf(w->cause, sizeof(w->cause),
			 "conventional PCI: no ACS");
		snprintf(w->isolate, sizeof(w->isolate),
			 "nothing in software: conventional PCI shares its bus");
	} else if (p->pcie_type == PCI_EXP_TYPE_PCI_BRIDGE) {
		snprintf(w->cause, sizeof(w->cause),
			 "a PCIe-to-PCI bridge: never isolates");
		snprintf(w->isolate, sizeof(w->isolate),
			 "nothing in software: move the card to a PCIe slot");
	} else if (p->acs_unknown) {
		snprintf(w->cause, sizeof(w->cause),
			 "ACS unknown: taken as none, the worst case");
		snprintf(w->isolate, sizeof(w->isolate),
			 "perhaps nothing: read %s's ACS first (lspci -vvv as root)",
			 name);
	} else if (!p->acs_cap) {
		snprintf(w->cause, sizeof(w->cause), "no ACS capability");
		snprintf(w->isolate, sizeof(w->isolate),
			 "a kernel ACS quirk for %04x:%04x, or pcie-acs-override %s (out-of-tree, takes the hardware's isolation on trust)",
			 p->vendor, p->device,
			 p->pcie_type == PCI_EXP_TYPE_ROOT_PORT ||
					 p->pcie_type == PCI_EXP_TYPE_DOWNSTREAM ?
				 "downstream" :
				 "multifunction");
	} else {
		snprintf(w->cause, sizeof(w->cause),
			 "the ACS capability has them, its control has them off");
		snprintf(w->isolate, sizeof(w->isolate),
			 "ACS enabled on %s: the kernel enables it at boot when an IOMMU driver asks first (acs-request)",
			 name);
	}
}

struct alias_seen {
	struct pci_dev *dev[WHY_MAX];
	unsigned int alias[WHY_MAX];
	size_t n;
};

static int collect_alias(struct pci_dev *pdev, unsigned int alias, void *data)
{
	struct alias_seen *s = data;

	if (s->n < WHY_MAX) {
		s->dev[s->n] = pdev;
		s->alias[s->n++] = alias;
	}
	return 0;
}

static struct why *why_add(struct why *w, size_t *n, enum why_rule rule)
{
	if (*n >= WHY_MAX - 1)
		return NULL;
	memset(&w[*n], 0, sizeof(w[*n]));
	w[*n].rule = rule;
	return &w[(*n)++];
}

/*
 * The steps of pci_device_group() for @pdev, with their causes, into @w
 * (room for WHY_MAX - 1 of them); behind an arm-smmu first the stream
 * IDs it shares with a device grouped before it (arm_smmu_device_group()).
 */
static size_t explain_pci(struct pci_dev *pdev, struct why *w)
{
	struct alias_seen seen = { .n = 0 };
	struct pci_dev *top = pdev, *bridge, *tmp;
	struct why *x;
	size_t n = 0, k;

	for (unsigned int i = 0; pdev->iommu &&
	     pdev->iommu->kind == IOMMU_KIND_ARM_SMMU && i < pdev->nr_sids; i++) {
		struct pci_s2cr *s = pci_s2cr_find(pdev->all, pdev->iommu,
						   pdev->sids[i]);

		if (!s || s->first == pdev)
			continue;
		x = why_add(w, &n, WHY_STREAM_ID);
		x->via = s->first;
		x->alias = pdev->sids[i];
		snprintf(x->cause, sizeof(x->cause),
			 "arm_smmu_device_group(): one stream map entry, one group");
		snprintf(x->isolate, sizeof(x->isolate),
			 "distinct stream IDs in the firmware's ID mappings");
		return n;
	}

	pci_for_each_dma_alias(pdev, collect_alias, &seen);
	for (size_t i = 1; i < seen.n; i++) {
		if (seen.dev[i] == pdev) {
			x = why_add(w, &n, WHY_DMA_ALIAS);
			if (!x)
				break;
			x->alias = seen.alias[i];
			snprintf(x->cause, sizeof(x->cause), "%s",
				 pdev->alias_quirk ? pdev->alias_quirk->source :
						     "the machine's dma-alias=");
			snprintf(x->isolate, sizeof(x->isolate),
				 "nothing: the hardware issues DMA with that requester ID");
			continue;
		}
		x = why_add(w, &n, WHY_ALIAS_BRIDGE);
		if (!x)
			break;
		x->via = seen.dev[i];
		x->alias = seen.alias[i];
		acs_cause(seen.dev[i], x);
		top = seen.dev[i];
	}
	for (bridge = top->bus_self; bridge; bridge = bridge->bus_self) {
		struct pci_dev *port;

		if (pci_acs_path_enabled(bridge, NULL, REQ_ACS_FLAGS)) {
			x = why_add(w, &n, WHY_ISOLATED);
			if (x)
				x->via = bridge;
			break;
		}
		for (port = bridge; port; port = port->bus_self)
			if (!pci_acs_enabled(port, REQ_ACS_FLAGS))
				break;
		x = why_add(w, &n, WHY_BRIDGE);
		if (!x)
			break;
		x->via = bridge;
		x->port = port;
		if (port) {
			x->missing = acs_missing(port, REQ_ACS_FLAGS);
			acs_cause(port, x);
		}
		top = bridge;
		/* the kernel takes the first grouped bridge's group */
		if (bridge->group >= 0)
			return n;
	}
	if (top->multifunction && !pci_acs_enabled(top, REQ_ACS_FLAGS)) {
		struct why mf = { .rule = WHY_MULTIFUNCTION, .via = top };

		pci_bus_for_each(tmp, top, k)
			if (tmp != top &&
			    PCI_SLOT(tmp->devfn) == PCI_SLOT(top->devfn) &&
			    !pci_acs_enabled(tmp, REQ_ACS_FLAGS) &&
			    mf.nwith < WITH_MAX)
				mf.with[mf.nwith++] = tmp;
		/* alone without ACS in its slot: nothing to share with */
		x = mf.nwith ? why_add(w, &n, WHY_MULTIFUNCTION) : NULL;
		if (x) {
			*x = mf;
			x->missing = acs_missing(top, REQ_ACS_FLAGS);
			acs_cause(top, x);
		}
	}
	pci_bus_for_each(tmp, top, k) {
		if (tmp == top || !pci_devs_are_dma_aliases(top, tmp))
			continue;
		x = why_add(w, &n, WHY_ALIASED_BY);
		if (!x)
			break;
		x->via = tmp;
		snprintf(x->isolate, sizeof(x->isolate),
			 "nothing: the two share a requester ID");
	}
	return n;
}

/* ---- what to do with a group ---- */

enum action {
	ACT_VFIO,	/* on a vfio driver already */
	ACT_STAY,	/* bridge on pcieport, pci-stub, unbound */
	ACT_MOVE,	/* a kernel DMA driver: move to vfio-pci */
	ACT_UNBIND,	/* a bridge on a kernel DMA driver: unbind it */
};

static const char *const action_names[] = {
	[ACT_VFIO] = "vfio", [ACT_STAY] = "stay", [ACT_MOVE] = "move",
	[ACT_UNBIND] = "unbind",
};

static bool dev_is_bridge(const struct device *dev)
{
	return device_bus_kind(dev) == BUS_PCI &&
	       dev->ids.hdr_type == PCI_HEADER_TYPE_BRIDGE;
}

/*
 * v6.6 lets userspace claim a group when no member's driver uses the
 * kernel DMA API (owner_cnt 0): unbound devices and drivers with
 * driver_managed_dma (vfio-pci, pci-stub, pcieport) may stay.
 */
static enum action dev_action(const struct device *dev, const char **why)
{
	const struct device_driver *drv = dev->bound ? dev->driver : NULL;

	if (!drv) {
		*why = "unbound";
		return ACT_STAY;
	}
	if (drv->desc && driver_probe_is_vfio(drv->desc->probe)) {
		*why = drv->name;
		return ACT_VFIO;
	}
	if (drv->driver_managed_dma) {
		*why = dev_is_bridge(dev) ? "a bridge on its port driver" :
					    "its driver does no kernel DMA";
		return ACT_STAY;
	}
	*why = drv->name;
	return dev_is_bridge(dev) ? ACT_UNBIND : ACT_MOVE;
}

/* The vfio driver of the device's bus, which userspace binds it to. */
static const char *vfio_driver(const struct device *dev)
{
	const char *name = bus_vfio_driver_name(device_bus_kind(dev));

	return name ? name : "vfio-pci";
}

/* ---- output ---- */

static void why_text(struct sbuf *sb, const struct why *w)
{
	char bits[40];

	acs_bits(w->missing, bits, sizeof(bits));
	switch (w->rule) {
	case WHY_ALIAS_BRIDGE:
		sbuf_printf(sb, "    why: its DMA reaches the IOMMU as bridge %s's (requester ID %02x:%02x.%x): %s\n",
			    dev_name(w->via->dev), w->alias >> 8,
			    PCI_SLOT(w->alias), PCI_FUNC(w->alias), w->cause);
		break;
	case WHY_DMA_ALIAS:
		sbuf_printf(sb, "    why: it also issues DMA as %02x:%02x.%x (%s)\n",
			    w->alias >> 8, PCI_SLOT(w->alias),
			    PCI_FUNC(w->alias), w->cause);
		break;
	case WHY_BRIDGE:
		if (w->port)
			sbuf_printf(sb, "    why: bridge %s above it does not isolate: %s lacks ACS %s (%s)\n",
				    dev_name(w->via->dev), dev_name(w->port->dev),
				    bits, w->cause);
		else
			sbuf_printf(sb, "    why: bridge %s above it does not isolate\n",
				    dev_name(w->via->dev));
		break;
	case WHY_MULTIFUNCTION:
		sbuf_printf(sb, "    why: %s is a function of a multifunction device without ACS %s (%s)",
			    dev_name(w->via->dev), bits, w->cause);
		if (w->nwith) {
			sbuf_printf(sb, "; so are");
			for (size_t i = 0; i < w->nwith; i++)
				sbuf_printf(sb, " %s", dev_name(w->with[i]->dev));
		}
		sbuf_printf(sb, "\n");
		break;
	case WHY_ALIASED_BY:
		sbuf_printf(sb, "    why: %s on its bus uses its requester ID, or it uses %s's\n",
			    dev_name(w->via->dev), dev_name(w->via->dev));
		break;
	case WHY_ISOLATED:
		sbuf_printf(sb, "    why: ACS isolates from bridge %s up to the root\n",
			    dev_name(w->via->dev));
		return;
	case WHY_FIRST:
		sbuf_printf(sb, "    why: first of its group; the functions below or beside it join it\n");
		return;
	case WHY_STREAM_ID:
		sbuf_printf(sb, "    why: it shares stream ID 0x%x with %s behind the arm-smmu %s (%s)\n",
			    w->alias, dev_name(w->via->dev),
			    w->via->iommu ? w->via->iommu->name : "?", w->cause);
		break;
	case WHY_LABEL:
		if (w->pci)
			sbuf_printf(sb, "    why: the machine puts it here (its file's group= labels), not the rules as modelled\n");
		else
			sbuf_printf(sb, "    why: not PCI: firmware groups it (its group= label, or a group of its own)\n");
		return;
	}
	if (w->isolate[0])
		sbuf_printf(sb, "    isolate: %s\n", w->isolate);
}

static void why_json(struct sbuf *sb, const struct why *w, bool first)
{
	/* a PCI device the labels place otherwise than the rules */
	sbuf_printf(sb, "%s{\"rule\":\"%s\"", first ? "" : ",",
		    w->rule == WHY_LABEL && w->pci ? "label" :
						     why_rule_names[w->rule]);
	if (w->via) {
		sbuf_printf(sb, ",\"device\":");
		sb_json(sb, dev_name(w->via->dev));
	}
	if (w->port) {
		sbuf_printf(sb, ",\"port\":");
		sb_json(sb, dev_name(w->port->dev));
	}
	if (w->rule == WHY_BRIDGE || w->rule == WHY_MULTIFUNCTION) {
		const char *sep = "";

		/* as acs-cap= spells them in machine files */
		sbuf_printf(sb, ",\"missing\":[");
		for (unsigned int b = 1; b <= PCI_ACS_ALL_; b <<= 1) {
			if (!(w->missing & b))
				continue;
			sbuf_printf(sb, "%s\"%s\"", sep, pci_acs_bit_name(b));
			sep = ",";
		}
		sbuf_putc(sb, ']');
	}
	if (w->rule == WHY_ALIAS_BRIDGE || w->rule == WHY_DMA_ALIAS)
		sbuf_printf(sb, ",\"alias\":\"%02x:%02x.%x\"", w->alias >> 8,
			    PCI_SLOT(w->alias), PCI_FUNC(w->alias));
	if (w->rule == WHY_STREAM_ID)
		sbuf_printf(sb, ",\"stream_id\":\"0x%x\"", w->alias);
	if (w->nwith) {
		sbuf_printf(sb, ",\"with\":[");
		for (size_t i = 0; i < w->nwith; i++) {
			if (i)
				sbuf_putc(sb, ',');
			sb_json(sb, dev_name(w->with[i]->dev));
		}
		sbuf_putc(sb, ']');
	}
	if (w->cause[0]) {
		sbuf_printf(sb, ",\"cause\":");
		sb_json(sb, w->cause);
	}
	if (w->isolate[0]) {
		sbuf_printf(sb, ",\"isolate\":");
		sb_json(sb, w->isolate);
	}
	sbuf_putc(sb, '}');
}

/* Bucket @n items by key (0..nkeys-1), keeping their order: counting sort. */
static size_t *bucket_starts(size_t nkeys, size_t n, const int *keys)
{
	size_t *start = calloc(nkeys + 1, sizeof(*start));

	if (!start)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (keys[i] >= 0)
			start[keys[i] + 1]++;
	for (size_t k = 0; k < nkeys; k++)
		start[k + 1] += start[k];
	return start;
}

static int explain_index(struct explain *e, struct device **devs, size_t n)
{
	size_t ncomp = (size_t)e->all.ngroups, nmem = 0, *fill = NULL;
	int *keys = calloc(n + e->all.n + 1, sizeof(*keys));

	ptrmap_init(&e->pdev_of);
	e->ngids = e->m->groups_cap;
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < e->all.n; i++)
		if (!ptrmap_put(&e->pdev_of, e->all.v[i].dev, &e->all.v[i]))
			goto oom;
	for (size_t i = 0; i < n; i++) {
		keys[i] = devs[i]->added && devs[i]->iommu_group ?
				  devs[i]->iommu_group->id : -1;
		nmem += keys[i] >= 0;
	}
	e->mem_start = bucket_starts((size_t)e->ngids, n, keys);
	e->mem = calloc(nmem + 1, sizeof(*e->mem));
	fill = calloc((size_t)e->ngids + ncomp + 1, sizeof(*fill));
	if (!e->mem_start || !e->mem || !fill)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (keys[i] >= 0)
			e->mem[e->mem_start[keys[i]] + fill[keys[i]]++] = devs[i];
	for (size_t i = 0; i < e->all.n; i++)
		keys[i] = e->all.v[i].group;
	e->comp_start = bucket_starts(ncomp, e->all.n, keys);
	e->comp = calloc(e->all.n + 1, sizeof(*e->comp));
	if (!e->comp_start || !e->comp)
		goto oom;
	memset(fill, 0, ((size_t)e->ngids + ncomp + 1) * sizeof(*fill));
	for (size_t i = 0; i < e->all.n; i++)
		if (keys[i] >= 0)
			e->comp[e->comp_start[keys[i]] + fill[keys[i]]++] =
				&e->all.v[i];
	free(fill);
	free(keys);
	return 0;
oom:
	free(fill);
	free(keys);
	return -ENOMEM;
}

static void explain_unindex(struct explain *e)
{
	ptrmap_free(&e->pdev_of);
	free(e->mem);
	free(e->mem_start);
	free(e->comp);
	free(e->comp_start);
}

/*
 * The devices the rules group otherwise with @pdev than the machine does:
 * members of its machine group the rules put elsewhere, and members of
 * its computed group the machine puts elsewhere (the two never overlap).
 * Calls @fn for each; returns how many.
 */
static size_t computed_differences(struct explain *e, struct pci_dev *pdev,
				   void (*fn)(struct explain *e,
					      struct pci_dev *o, size_t nth))
{
	struct iommu_group *g = pdev->dev->iommu_group;
	size_t n = 0;

	if (pdev->group < 0 || !g)
		return 0;
	for (size_t k = e->mem_start[g->id]; k < e->mem_start[g->id + 1]; k++) {
		struct pci_dev *o = ptrmap_get(&e->pdev_of, e->mem[k]);

		if (o && o != pdev && o->group >= 0 && o->group != pdev->group &&
		    fn)
			fn(e, o, n);
		n += o && o != pdev && o->group >= 0 && o->group != pdev->group;
	}
	for (size_t k = e->comp_start[pdev->group];
	     k < e->comp_start[pdev->group + 1]; k++) {
		struct pci_dev *o = e->comp[k];
		bool differs = o != pdev && o->dev->added &&
			       o->dev->iommu_group != g;

		if (differs && fn)
			fn(e, o, n);
		n += differs;
	}
	return n;
}

static bool computed_differs(struct explain *e, struct pci_dev *pdev)
{
	return computed_differences(e, pdev, NULL) > 0;
}

static void mismatch_one(struct explain *e, struct pci_dev *o, size_t nth)
{
	if (e->json) {
		sbuf_printf(e->sb, "%s", nth ? "," : ",\"computed_differently\":[");
		sb_json(e->sb, dev_name(o->dev));
	} else {
		sbuf_printf(e->sb, "%s %s", nth ? "" :
			    "    note: the machine's groups are not the computed ones; the rules group differently with",
			    dev_name(o->dev));
	}
}

/*
 * Where a machine file's labels disagree with the computed groups. Text:
 * one note line; JSON: "computed_differently":[...].
 */
static void label_mismatch(struct explain *e, struct pci_dev *pdev)
{
	if (computed_differences(e, pdev, mismatch_one))
		sbuf_printf(e->sb, e->json ? "]" : "\n");
}

/* The reasons @dev is in its group, into @w (WHY_MAX); how many. */
static size_t explain_why(struct explain *e, struct device *dev,
			  bool first_in_group, struct why *w)
{
	struct pci_dev *pdev = ptrmap_get(&e->pdev_of, dev);
	size_t n = 0;

	/* the file's labels, not the rules, put it here: say so first */
	if (!pdev || computed_differs(e, pdev))
		why_add(w, &n, WHY_LABEL)->pci = pdev;
	if (pdev)
		n += explain_pci(pdev, w + n);
	/* nothing joined it to anything: it started the group */
	if (pdev && first_in_group && (!n || w[0].rule != WHY_LABEL)) {
		bool joined = false;

		for (size_t i = 0; i < n; i++)
			joined |= w[i].rule != WHY_ISOLATED;
		if (!joined)
			why_add(w, &n, WHY_FIRST);
	}
	return n;
}

static void explain_device(struct explain *e, struct device *dev,
			   bool first, bool first_in_group)
{
	struct pci_dev *pdev = ptrmap_get(&e->pdev_of, dev);
	struct why w[WHY_MAX];
	const char *act_why;
	enum action act = dev_action(dev, &act_why);
	size_t n = explain_why(e, dev, first_in_group, w);

	if (e->json) {
		sbuf_printf(e->sb, "%s{\"name\":", first ? "" : ",");
		sb_json(e->sb, dev_name(dev));
		if (pdev)
			sbuf_printf(e->sb, ",\"ids\":\"%04x:%04x\",\"type\":\"%s\"",
				    pdev->vendor, pdev->device, short_type(pdev));
		sbuf_printf(e->sb, ",\"driver\":");
		if (dev->bound && dev->driver)
			sb_json(e->sb, dev->driver->name);
		else
			sbuf_printf(e->sb, "null");
		sbuf_printf(e->sb, ",\"action\":\"%s\",\"why\":[",
			    action_names[act]);
		for (size_t i = 0; i < n; i++)
			why_json(e->sb, &w[i], !i);
		sbuf_printf(e->sb, "]");
		if (pdev && pdev->group >= 0)
			label_mismatch(e, pdev);
		sbuf_printf(e->sb, "}");
		return;
	}
	sbuf_printf(e->sb, "  %s", dev_name(dev));
	if (pdev)
		sbuf_printf(e->sb, " %04x:%04x %s", pdev->vendor, pdev->device,
			    short_type(pdev));
	sbuf_printf(e->sb, ", %s: ",
		    dev->bound && dev->driver ? dev->driver->name : "unbound");
	if (act == ACT_MOVE)
		sbuf_printf(e->sb, "move to %s\n", vfio_driver(dev));
	else
		sbuf_printf(e->sb, "%s\n",
			    act == ACT_UNBIND ? "unbind (vfio-pci takes no bridges)" :
			    act == ACT_VFIO ? "on vfio already" : "may stay");
	for (size_t i = 0; i < n; i++)
		why_text(e->sb, &w[i]);
	if (pdev && pdev->group >= 0)
		label_mismatch(e, pdev);
}

static void explain_group(struct explain *e, struct iommu_group *g,
			  bool first)
{
	struct device **v = e->mem + e->mem_start[g->id];
	size_t n = e->mem_start[g->id + 1] - e->mem_start[g->id];
	const struct device *direct = NULL;
	size_t nmove = 0;
	const char *why;

	for (size_t i = 0; i < n; i++) {
		enum action a = dev_action(v[i], &why);

		nmove += a == ACT_MOVE || a == ACT_UNBIND;
		if (dev_require_direct(v[i]) && !direct)
			direct = v[i];
	}
	if (e->json) {
		sbuf_printf(e->sb, "%s{\"id\":%d,\"viable\":%s,", first ? "" : ",",
			    g->id, !nmove && !direct ? "true" : "false");
		sbuf_printf(e->sb, "\"blocked_by\":");
		if (direct)
			sb_json(e->sb, dev_name(direct));
		else
			sbuf_printf(e->sb, "null");
		sbuf_printf(e->sb, ",\"devices\":[");
		for (size_t i = 0; i < n; i++)
			explain_device(e, v[i], !i, !i && n > 1);
		sbuf_printf(e->sb, "]}");
		return;
	}
	sbuf_printf(e->sb, "group %d:", g->id);
	for (size_t i = 0; i < n; i++)
		sbuf_printf(e->sb, " %s", dev_name(v[i]));
	sbuf_printf(e->sb, "\n");
	if (direct)
		sbuf_printf(e->sb, "  not claimable: %s needs 1:1 mappings (a direct RMRR/RMR), so the group cannot leave the kernel's domain\n",
			    dev_name(direct));
	else if (!nmove)
		sbuf_printf(e->sb, "  viable for vfio: nothing to move\n");
	else
		sbuf_printf(e->sb, "  viable for vfio once %zu device%s move%s (below); the rest may stay\n",
			    nmove, nmove == 1 ? "" : "s", nmove == 1 ? "s" : "");
	for (size_t i = 0; i < n; i++)
		explain_device(e, v[i], !i, !i && n > 1);
}

/* ---- the picture (docs/pictures.md) ---- */

#define MARK_MAX 64

struct mark {
	const struct device *dev;
	char text[200];
	bool culprit;		/* the bridge, function or alias that groups */
};

static void mark_add(struct mark *mk, size_t *n, const struct device *dev,
		     bool culprit, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void mark_add(struct mark *mk, size_t *n, const struct device *dev,
		     bool culprit, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < *n; i++)
		if (mk[i].dev == dev && !strcmp(mk[i].text, text))
			return;
	if (*n >= MARK_MAX)
		return;
	mk[*n].dev = dev;
	mk[*n].culprit = culprit;
	snprintf(mk[*n].text, sizeof(mk[*n].text), "%s", text);
	(*n)++;
}

/* The marks one reason puts on the devices it names. */
static void why_marks(const struct why *w, const struct device *dev,
		      struct mark *mk, size_t *n, bool *labels)
{
	char bits[40];

	acs_bits(w->missing, bits, sizeof(bits));
	switch (w->rule) {
	case WHY_BRIDGE:
		if (w->port)
			mark_add(mk, n, w->port->dev, true,
				 "LACKS ACS %s (%s)", bits, w->cause);
		else
			mark_add(mk, n, w->via->dev, true,
				 "does not isolate what is below it");
		break;
	case WHY_MULTIFUNCTION:
		/* the slot's functions alike, so that each says it once */
		mark_add(mk, n, w->via->dev, true,
			 "MULTIFUNCTION: a slot's functions without ACS %s (%s)",
			 bits, w->cause);
		for (size_t i = 0; i < w->nwith; i++)
			mark_add(mk, n, w->with[i]->dev, true,
				 "MULTIFUNCTION: a slot's functions without ACS %s (%s)",
				 bits, w->cause);
		break;
	case WHY_ALIAS_BRIDGE:
		mark_add(mk, n, w->via->dev, true,
			 "ALIAS: DMA below it reaches the IOMMU as %02x:%02x.%x (%s)",
			 w->alias >> 8, PCI_SLOT(w->alias), PCI_FUNC(w->alias),
			 w->cause);
		break;
	case WHY_DMA_ALIAS:
		mark_add(mk, n, dev, true, "ALIAS: also issues DMA as %02x:%02x.%x",
			 w->alias >> 8, PCI_SLOT(w->alias), PCI_FUNC(w->alias));
		break;
	case WHY_ALIASED_BY:
		mark_add(mk, n, w->via->dev, true,
			 "ALIAS: shares a requester ID with %s", dev_name(dev));
		break;
	case WHY_STREAM_ID:
		mark_add(mk, n, w->via->dev, true, "shares stream ID 0x%x",
			 w->alias);
		break;
	case WHY_LABEL:
		*labels = true;
		break;
	case WHY_ISOLATED:
	case WHY_FIRST:
		break;
	}
}

static void dot_node_ref(struct sbuf *sb, const struct device *dev)
{
	char root[DEVICE_NAME_MAX + 8];

	sbuf_printf(sb, "\"");
	if (dev->parent && dev->parent->added) {
		sb_dot(sb, dev->parent->name);
	} else {
		dot_root_of(dev, root, sizeof(root));
		sbuf_printf(sb, "root:");
		sb_dot(sb, root);
	}
	sbuf_printf(sb, "\" -> \"");
	sb_dot(sb, dev->name);
	sbuf_printf(sb, "\";\n");
}

/*
 * @dev's group as a picture: its members and their paths to the root,
 * left to right; the devices that group them marked with what they lack;
 * what must move to vfio-pci, and what may stay.
 */
static void explain_group_dot(struct explain *e, struct iommu_group *g,
			      struct device *only)
{
	struct device **v = e->mem + e->mem_start[g->id];
	size_t n = e->mem_start[g->id + 1] - e->mem_start[g->id];
	const struct device *direct = NULL, **nodes;
	struct sbuf *sb = e->sb, verdict = { 0 };
	struct mark mk[MARK_MAX];
	size_t nmove = 0, nmk = 0, nn = 0, cap;
	bool labels = false;
	struct ptrmap seen;
	const char *why;

	ptrmap_init(&seen);
	for (size_t i = 0; i < n; i++) {
		struct why w[WHY_MAX];
		size_t nw = explain_why(e, v[i], !i && n > 1, w);
		enum action a = dev_action(v[i], &why);

		nmove += a == ACT_MOVE || a == ACT_UNBIND;
		if (dev_require_direct(v[i]) && !direct)
			direct = v[i];
		for (size_t k = 0; k < nw; k++)
			why_marks(&w[k], v[i], mk, &nmk, &labels);
	}
	if (direct)
		sbuf_printf(&verdict, "not claimable: %s needs 1:1 mappings (a direct RMRR/RMR)",
			    dev_name(direct));
	else if (!nmove)
		sbuf_printf(&verdict, "viable for vfio: nothing to move");
	else
		sbuf_printf(&verdict, "viable for vfio once %zu device%s move%s (orange borders)",
			    nmove, nmove == 1 ? "" : "s", nmove == 1 ? "s" : "");
	if (labels)
		sbuf_printf(&verdict, "\nthe machine's group= labels, not the rules, put some here");
	/* room for every member and marked device with its whole path */
	cap = 1;
	for (size_t i = 0; i < nmk + n; i++)
		for (const struct device *d = i < n ? v[i] : mk[i - n].dev; d;
		     d = d->parent)
			cap++;
	nodes = calloc(cap, sizeof(*nodes));
	if (!nodes) {
		sb->oom = true;
		free(verdict.buf);
		ptrmap_free(&seen);
		return;
	}
	/* the members, then every device on their paths and the marked ones */
	for (size_t i = 0; i < n; i++)
		if (ptrmap_put(&seen, v[i], v[i]))
			nodes[nn++] = v[i];
	for (size_t i = 0; i < nmk + n; i++) {
		const struct device *d = i < n ? v[i] : mk[i - n].dev;

		for (; d && d->added; d = d->parent) {
			if (ptrmap_get(&seen, d) && !(i < n && d == v[i]))
				break;
			if (!ptrmap_get(&seen, d)) {
				if (!ptrmap_put(&seen, d, (void *)d))
					sb->oom = true;
				nodes[nn++] = d;
			}
		}
	}
	sbuf_printf(sb, "digraph \"explain ");
	sb_dot(sb, dev_name(only));
	sbuf_printf(sb, "\" {\n\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.15, ranksep=0.5, labelloc=t, label=\"%s: why ",
		    e->m->name);
	sb_dot(sb, dev_name(only));
	sbuf_printf(sb, " is in group %d, and what must move for vfio\"];\n", g->id);
	sbuf_printf(sb, "\tnode [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n\tedge [arrowhead=none, color=\"#606060\"];\n");
	for (size_t i = 0; i < nn; i++) {
		char root[DEVICE_NAME_MAX + 8];

		if (nodes[i]->parent && nodes[i]->parent->added)
			continue;
		dot_root_of(nodes[i], root, sizeof(root));
		sbuf_printf(sb, "\t\"root:");
		sb_dot(sb, root);
		sbuf_printf(sb, "\" [label=\"");
		sb_dot(sb, root);
		sbuf_printf(sb, "\", shape=box3d, style=\"filled\", fillcolor=\"#eeeeee\"];\n");
	}
	dot_group_open(e->m, g, sb, "\t", verdict.buf ? verdict.buf : "");
	for (size_t i = 0; i < nn; i++) {
		const struct device *d = nodes[i];
		struct sbuf note = { 0 }, attrs = { 0 };
		bool member = i < n, culprit = false;
		enum action a = dev_action(d, &why);

		if (member && a == ACT_MOVE)
			sbuf_printf(&note, "MOVE to %s", vfio_driver(d));
		else if (member)
			sbuf_printf(&note, "%s",
				    a == ACT_UNBIND ? "UNBIND: vfio-pci takes no bridges" :
				    a == ACT_VFIO ? "on vfio already" : "may stay");
		else if (d->iommu_group)
			sbuf_printf(&note, "(group %d)", d->iommu_group->id);
		for (size_t k = 0; k < nmk; k++) {
			if (mk[k].dev != d)
				continue;
			sbuf_printf(&note, "%s%s", note.buf ? "\n" : "",
				    mk[k].text);
			culprit |= mk[k].culprit;
		}
		if (culprit)
			sbuf_printf(&attrs, ", color=\"#d00000\", penwidth=3, fontcolor=\"#a00000\"");
		else if (member && (a == ACT_MOVE || a == ACT_UNBIND))
			sbuf_printf(&attrs, ", color=\"#e07000\", penwidth=3");
		if (d == only)
			sbuf_printf(&attrs, ", peripheries=2");
		if (i == n)
			sbuf_printf(sb, "\t}\n");
		dot_device(e->names, d, sb, member ? "\t\t" : "\t", note.buf,
			   attrs.buf);
		sb->oom |= note.oom || attrs.oom;
		free(note.buf);
		free(attrs.buf);
	}
	if (nn == n)
		sbuf_printf(sb, "\t}\n");
	for (size_t i = 0; i < nn; i++)
		dot_node_ref(sb, nodes[i]);
	sbuf_printf(sb, "\tlegend [shape=plaintext, style=\"\", label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"3\" CELLPADDING=\"4\">\n"
			"\t\t<TR><TD COLOR=\"#d00000\" BORDER=\"3\">red border: what puts them together (lacks ACS, multifunction, alias)</TD></TR>\n"
			"\t\t<TR><TD COLOR=\"#e07000\" BORDER=\"3\">orange border: on a kernel DMA driver: must move to its bus's vfio driver</TD></TR>\n"
			"\t\t<TR><TD>double border: the device asked about</TD></TR>\n"
			"\t\t<TR><TD>fill: the driver's DMA class, as dmaown show draws it</TD></TR>\n"
			"\t</TABLE>>];\n}\n");
	sb->oom |= verdict.oom;
	free(verdict.buf);
	ptrmap_free(&seen);
	free(nodes);
}

static char *explain_run(struct machine *m, const char *device, bool json,
			 const struct machine_show_names *names, bool dot,
			 int *ret_err)
{
	struct device **devs = NULL, *dev, *only = NULL;
	struct sbuf sb = { 0 };
	struct explain e = { .m = m, .sb = &sb, .json = json, .dot = dot,
			     .names = names };
	struct iommu_device *iommu;
	struct iommu_group *g;
	bool ivrs = false, first = true;
	size_t n = 0;
	int err = 0;

	mutex_lock(&m->obj_lock);
	if (device) {
		list_for_each_entry(dev, &m->devices, node)
			if (dev->added && !strcmp(dev->name, device))
				only = dev;
		if (!only || !only->iommu_group) {
			err = only ? -ENXIO : -ENODEV;
			goto out;
		}
	}
	list_for_each_entry(dev, &m->devices, node)
		n++;
	devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs) {
		err = -ENOMEM;
		goto out;
	}
	n = 0;
	list_for_each_entry(dev, &m->devices, node)
		devs[n++] = dev;
	list_for_each_entry(iommu, &m->iommus, node)
		ivrs |= iommu->kind == IOMMU_KIND_AMD;
	err = pci_devs_build(devs, n, &m->cfg, ivrs, &e.all);
	if (err)
		goto out;
	/* a machine whose stream IDs clash keeps the groups it could make */
	err = pci_devs_group(&e.all, NULL);
	if (err == -EINVAL)
		err = 0;
	if (!err)
		err = explain_index(&e, devs, n);
	if (err) {
		explain_unindex(&e);
		pci_devs_free(&e.all);
		goto out;
	}
	if (dot) {
		explain_group_dot(&e, only->iommu_group, only);
		goto done;
	}
	if (json)
		sbuf_printf(&sb, "{\"version\":%d,\"machine\":", DMAOWN_JSON_VERSION);
	else
		sbuf_printf(&sb, "machine %s\n", m->name);
	if (json) {
		sb_json(&sb, m->name);
		sbuf_printf(&sb, ",\"groups\":[");
	}
	list_for_each_entry(g, &m->groups, node) {
		if (only && only->iommu_group != g)
			continue;
		if (!json)
			sbuf_printf(&sb, "\n");
		explain_group(&e, g, first);
		first = false;
	}
	if (json)
		sbuf_printf(&sb, "]}\n");
done:
	explain_unindex(&e);
	pci_devs_free(&e.all);
out:
	mutex_unlock(&m->obj_lock);
	free(devs);
	if (!err && sb.oom)
		err = -ENOMEM;
	if (err) {
		free(sb.buf);
		*ret_err = err;
		return NULL;
	}
	*ret_err = 0;
	return sb.buf;
}

char *machine_explain(struct machine *m, const char *device, bool json,
		      int *ret_err)
{
	return explain_run(m, device, json, NULL, false, ret_err);
}

char *machine_explain_dot(struct machine *m, const char *device,
			  const struct machine_show_names *names, int *ret_err)
{
	if (!device) {
		*ret_err = -EINVAL;
		return NULL;
	}
	return explain_run(m, device, false, names, true, ret_err);
}
