// SPDX-License-Identifier: MIT
/*
 * From what the readers found to a machine file (docs/import.md): link
 * each function to the bridge above, guess what could not be read, order
 * the functions as Linux scans buses, write the file, then load it back
 * and compare the model with the input: the drivers each function is
 * bound to, and the IOMMU groups the kernel made with those the kernel's
 * rules give (src/drivers/iommu/iommu-pci.c). Every difference, and
 * everything that could not be known, becomes a note, written at the top
 * of the file and printed by the CLI.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "dmaown/driver.h"
#include "dmaown/topology.h"
#include "drivers/base/base.h"
#include "import/import.h"

#define IMP_DEPTH_MAX 64	/* bridges below bridges */

struct imp_dev *imp_dev_new(struct imp_machine *im)
{
	struct imp_dev *d;

	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 64;
		struct imp_dev *devs = realloc(im->devs, cap * sizeof(*devs));

		if (!devs)
			return NULL;
		im->devs = devs;
		im->cap = cap;
	}
	d = &im->devs[im->n++];
	memset(d, 0, sizeof(*d));
	d->secondary = -1;
	d->group = -1;
	d->parent = -2;	/* not known yet: from the bus numbers */
	return d;
}

struct imp_dev *imp_dev_find(struct imp_machine *im, unsigned int domain,
			     unsigned int bus, unsigned int dev,
			     unsigned int fn)
{
	for (size_t i = 0; i < im->n; i++) {
		struct imp_dev *d = &im->devs[i];

		if (d->domain == domain && d->bus == bus && d->dev == dev &&
		    d->fn == fn)
			return d;
	}
	return NULL;
}

void imp_note(struct imp_machine *im, const char *fmt, ...)
{
	char **notes = realloc(im->notes, (im->nnotes + 1) * sizeof(*notes));
	va_list ap;

	if (!notes)
		return;	/* a note lost to no memory loses nothing else */
	im->notes = notes;
	va_start(ap, fmt);
	if (vasprintf(&im->notes[im->nnotes], fmt, ap) >= 0)
		im->nnotes++;
	va_end(ap);
}

void imp_free(struct imp_machine *im)
{
	for (size_t i = 0; i < im->nnotes; i++)
		free(im->notes[i]);
	free(im->notes);
	free(im->devs);
	free(im->others);
	free(im->cmdline);
	for (size_t i = 0; i < im->nmodprobe; i++)
		free(im->modprobe[i]);
	free(im->modprobe);
	memset(im, 0, sizeof(*im));
}

int imp_error(struct imp_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *bdf(const struct imp_dev *d)
{
	static char buf[4][16];
	static int next;
	char *s = buf[next++ % 4];

	snprintf(s, 16, "%04x:%02x:%02x.%x", d->domain, d->bus, d->dev, d->fn);
	return s;
}

/* ---- the tree ---- */

/* functions whose parent is not known from sysfs: by bus numbers */
static void resolve_parents(struct imp_machine *im)
{
	for (size_t i = 0; i < im->n; i++) {
		struct imp_dev *d = &im->devs[i];

		if (d->parent != -2)
			continue;
		d->parent = -1;
		for (size_t j = 0; j < im->n; j++) {
			const struct imp_dev *b = &im->devs[j];

			if (j != i && b->bridge && b->domain == d->domain &&
			    b->secondary == (int)d->bus) {
				d->parent = (int)j;
				break;
			}
		}
	}
}

static const char *const type_names[] = {
	[IMP_TYPE_UNKNOWN] = NULL,
	[IMP_TYPE_CONVENTIONAL] = "conventional",
	[IMP_TYPE_ENDPOINT] = "endpoint",
	[IMP_TYPE_LEGACY_ENDPOINT] = "endpoint",
	[IMP_TYPE_ROOT_PORT] = "root-port",
	[IMP_TYPE_UPSTREAM] = "upstream",
	[IMP_TYPE_DOWNSTREAM] = "downstream",
	[IMP_TYPE_PCI_BRIDGE] = "pci-bridge",
	/* neither isolates nor aliases differently from conventional PCI */
	[IMP_TYPE_PCIE_BRIDGE] = "conventional",
	[IMP_TYPE_RC_END] = "rc-endpoint",
	[IMP_TYPE_RC_EC] = "rc-endpoint",
};

/* whether the model gives @d a bridge header (docs/topology.md) */
static bool model_bridge(const struct imp_dev *d)
{
	switch (d->type) {
	case IMP_TYPE_ROOT_PORT:
	case IMP_TYPE_UPSTREAM:
	case IMP_TYPE_DOWNSTREAM:
	case IMP_TYPE_PCI_BRIDGE:
		return true;
	case IMP_TYPE_CONVENTIONAL:
	case IMP_TYPE_PCIE_BRIDGE:
		return d->class >> 8 == 0x0604;
	default:
		return false;
	}
}

/*
 * A type not read (capabilities not readable): from where the function
 * sits. A bridge on a root bus is a root port; below a root or downstream
 * port, an upstream port; below that, a downstream port; below PCI, PCI.
 */
static void guess_types(struct imp_machine *im)
{
	/* parents first: a parent's guess feeds its children's */
	for (int depth = 0; depth < IMP_DEPTH_MAX; depth++) {
		for (size_t i = 0; i < im->n; i++) {
			struct imp_dev *d = &im->devs[i];
			const struct imp_dev *p = d->parent >= 0 ?
				&im->devs[d->parent] : NULL;
			enum imp_type pt = p ? p->type : IMP_TYPE_UNKNOWN;

			if (d->type != IMP_TYPE_UNKNOWN ||
			    (p && pt == IMP_TYPE_UNKNOWN))
				continue;
			d->type_guessed = true;
			if (p && (pt == IMP_TYPE_CONVENTIONAL ||
				  pt == IMP_TYPE_PCI_BRIDGE ||
				  pt == IMP_TYPE_PCIE_BRIDGE))
				d->type = IMP_TYPE_CONVENTIONAL;
			else if (!d->bridge)
				d->type = IMP_TYPE_ENDPOINT;
			else if (!p)
				d->type = IMP_TYPE_ROOT_PORT;
			else if (pt == IMP_TYPE_UPSTREAM)
				d->type = IMP_TYPE_DOWNSTREAM;
			else
				d->type = IMP_TYPE_UPSTREAM;
		}
	}
	for (size_t i = 0; i < im->n; i++) {
		struct imp_dev *d = &im->devs[i];

		if (d->type == IMP_TYPE_UNKNOWN) {
			/* a cycle of bus numbers: put it on a root bus */
			d->type = d->bridge ? IMP_TYPE_ROOT_PORT :
					      IMP_TYPE_ENDPOINT;
			d->type_guessed = true;
		}
		if (d->parent >= 0 && !model_bridge(&im->devs[d->parent])) {
			imp_note(im, "%s: its bridge %s is not a PCI-to-PCI bridge the model knows (class %06x); put on a root bus",
				 bdf(d), bdf(&im->devs[d->parent]),
				 im->devs[d->parent].class);
			d->parent = -1;
		}
	}
}

struct order {
	size_t *idx;
	size_t n;
};

static int cmp_devfn(const void *a, const void *b, void *arg)
{
	const struct imp_machine *im = arg;
	const struct imp_dev *x = &im->devs[*(const size_t *)a];
	const struct imp_dev *y = &im->devs[*(const size_t *)b];

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	return (int)(x->dev * 8 + x->fn) - (int)(y->dev * 8 + y->fn);
}

/*
 * Linux's scan: every function of a bus, then the bus behind each of its
 * bridges in turn (pci_scan_child_bus()), root buses in order.
 */
static void scan_bus(struct imp_machine *im, int parent, unsigned int domain,
		     unsigned int bus, struct order *o, int depth)
{
	size_t first = o->n;

	for (size_t i = 0; i < im->n; i++) {
		const struct imp_dev *d = &im->devs[i];

		if (d->parent == parent &&
		    (parent >= 0 || (d->domain == domain && d->bus == bus)))
			o->idx[o->n++] = i;
	}
	qsort_r(o->idx + first, o->n - first, sizeof(*o->idx), cmp_devfn, im);
	if (depth >= IMP_DEPTH_MAX)
		return;
	for (size_t k = first, last = o->n; k < last; k++)
		if (im->devs[o->idx[k]].bridge)
			scan_bus(im, (int)o->idx[k], 0, 0, o, depth + 1);
}

static int scan_order(struct imp_machine *im, struct order *o)
{
	o->idx = calloc(im->n ? im->n : 1, sizeof(*o->idx));
	o->n = 0;
	if (!o->idx)
		return -ENOMEM;
	for (unsigned int dom = 0; dom <= 0xffff; dom++) {
		bool any = false;

		for (size_t i = 0; i < im->n; i++)
			any |= im->devs[i].domain == dom;
		if (!any)
			continue;
		for (unsigned int bus = 0; bus <= 0xff; bus++) {
			bool root = false;

			for (size_t i = 0; i < im->n; i++)
				root |= im->devs[i].domain == dom &&
					im->devs[i].bus == bus &&
					im->devs[i].parent == -1;
			if (root)
				scan_bus(im, -1, dom, bus, o, 0);
		}
	}
	/* functions behind a bridge deeper than the limit stay out */
	return 0;
}

/* ---- writing ---- */

static void put_acs(FILE *f, const char *opt, unsigned int bits)
{
	bool first = true;

	fprintf(f, " %s=", opt);
	for (unsigned int b = 1; b <= PCI_ACS_ALL_; b <<= 1) {
		if (!(bits & b))
			continue;
		fprintf(f, "%s%s", first ? "" : ",", pci_acs_bit_name(b));
		first = false;
	}
	if (first)
		fputc('-', f);
}

/*
 * Kernel group @group behind @iommu has another member than @self (a PCI
 * function or a platform/AMBA device) among the devices read.
 */
static bool group_shared(const struct imp_machine *im, int group,
			 const char *iommu, const void *self)
{
	for (size_t i = 0; i < im->n; i++)
		if ((const void *)&im->devs[i] != self &&
		    im->devs[i].group == group &&
		    !strcmp(im->devs[i].iommu, iommu))
			return true;
	for (size_t i = 0; i < im->nothers; i++)
		if ((const void *)&im->others[i] != self &&
		    im->others[i].group == group &&
		    !strcmp(im->others[i].iommu, iommu))
			return true;
	return false;
}

enum emit_mode {
	EMIT_FILE,	/* the kernel's groups as labels, else computed */
	EMIT_COMPUTED,	/* no labels: the kernel's rules only */
};

static bool is_vfio_like(const char *driver)
{
	const struct driver_desc *desc = driver_desc_find(driver);

	return desc && (driver_probe_is_vfio(desc->probe) ||
			desc->probe == PROBE_STUB);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The catalogue drivers bound on the machine: pcieport first (built into
 * every kernel, so ports probe before what is below them, which decides
 * groups where they form at probe), then vfio-pci and pci-stub with ids=
 * of their functions (as vfio-pci.ids= on the command line takes them
 * before their drivers), then the others by name.
 */
/* @drv into @names (at most 64) once, if @check finds it in the catalogue */
static void add_driver(const char **names, size_t *n, const char *drv,
		       bool check)
{
	if (!drv[0] || (check && !driver_desc_find(drv)) || *n == 64)
		return;
	for (size_t k = 0; k < *n; k++)
		if (!strcmp(names[k], drv))
			return;
	names[(*n)++] = drv;
}

static void emit_drivers(const struct imp_machine *im, FILE *f)
{
	const char *names[64];
	size_t n = 0;

	for (size_t i = 0; i < im->n; i++)
		add_driver(names, &n, im->devs[i].driver, true);
	for (size_t i = 0; i < im->nothers; i++)
		add_driver(names, &n, im->others[i].driver, true);
	/* vfio-pci.ids= loads vfio-pci at boot even if it holds nothing */
	if (im->vfio_ids[0])
		add_driver(names, &n, "vfio-pci", false);
	qsort(names, n, sizeof(*names), cmp_str);
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < n; k++) {
			bool port = !strcmp(names[k], "pcieport");
			bool vfio = is_vfio_like(names[k]);
			const char *sep = " ids=";

			if (pass != (port ? 0 : vfio ? 1 : 2))
				continue;
			fprintf(f, "driver %s", names[k]);
			/* vfio-pci.ids= of the command line first */
			if (!strcmp(names[k], "vfio-pci") && im->vfio_ids[0]) {
				fprintf(f, "%s%s", sep, im->vfio_ids);
				sep = ",";
			}
			for (size_t i = 0; vfio && i < im->n; i++) {
				const struct imp_dev *d = &im->devs[i];
				bool dup = false;

				if (strcmp(d->driver, names[k]))
					continue;
				for (size_t j = 0; j < i; j++)
					dup |= !strcmp(im->devs[j].driver, names[k]) &&
					       im->devs[j].vendor == d->vendor &&
					       im->devs[j].device == d->device;
				if (!strcmp(names[k], "vfio-pci")) {
					char id[16];

					/* the command line's ids= has it */
					snprintf(id, sizeof(id), "%04x:%04x",
						 d->vendor, d->device);
					dup |= strstr(im->vfio_ids, id) != NULL;
				}
				if (dup)
					continue;
				fprintf(f, "%s%04x:%04x", sep, d->vendor, d->device);
				sep = ",";
			}
			fputc('\n', f);
		}
	}
}

static void emit(const struct imp_machine *im, const struct order *o,
		 const char *name, enum emit_mode mode, FILE *f)
{
	bool labels = im->groups_known && mode == EMIT_FILE;
	const char *iommus[64];
	size_t niommus = 0;

	fprintf(f, "format 1\nmachine %s\n", name);
	fprintf(f, "description imported from %s\n", im->source);
	fprintf(f, "firmware %s\n", im->firmware ? im->firmware : "x86");
	if (im->default_domain[0])
		fprintf(f, "default-domain %s\n", im->default_domain);
	if (im->any_iommu)
		fprintf(f, "groups %s\n", labels ? "labels" : "computed");
	if (im->acs_override[0])
		fprintf(f, "# the out-of-tree patch's option, from the command line\npcie-acs-override %s\n",
			im->acs_override);
	for (size_t k = 0; k < o->n + im->nothers; k++) {
		const char *iommu = k < o->n ? im->devs[o->idx[k]].iommu :
					       im->others[k - o->n].iommu;
		bool seen = !iommu[0];

		for (size_t j = 0; j < niommus && !seen; j++)
			seen = !strcmp(iommus[j], iommu);
		if (seen || niommus == 64)
			continue;
		iommus[niommus++] = iommu;
		fprintf(f, "iommu %s%s\n", iommu,
			!strncmp(iommu, "ivhd", 4) ? " kind=amd" : "");
	}
	for (size_t k = 0; k < o->n; k++) {
		const struct imp_dev *d = &im->devs[o->idx[k]];

		fprintf(f, "pci %s %04x:%04x class=%06x", bdf(d), d->vendor,
			d->device, d->class);
		if (d->subvendor || d->subdevice)
			fprintf(f, " sub=%04x:%04x", d->subvendor, d->subdevice);
		fprintf(f, " type=%s", type_names[d->type]);
		if (d->parent >= 0)
			fprintf(f, " parent=%s", bdf(&im->devs[d->parent]));
		if (d->iommu[0])
			fprintf(f, " iommu=%s", d->iommu);
		if (labels && d->iommu[0] && d->group >= 0 &&
		    group_shared(im, d->group, d->iommu, d))
			fprintf(f, " group=g%d", d->group);
		if (d->acs == IMP_ACS_PRESENT) {
			put_acs(f, "acs-cap", d->acs_cap);
			put_acs(f, "acs-ctl", d->acs_ctl);
		} else if (d->acs == IMP_ACS_UNKNOWN &&
			   d->type != IMP_TYPE_CONVENTIONAL) {
			fprintf(f, " acs-cap=unknown");
		}
		if (d->multifunction)
			fprintf(f, " multifunction");
		if (d->shpc && d->bridge)
			fprintf(f, " shpc");
		imp_emit_sriov(d, f);
		for (unsigned int r = 0; r < d->nr_rmrr; r++)
			fprintf(f, "%s0x%llx-0x%llx", r ? "," : " rmrr=",
				d->rmrr[r][0], d->rmrr[r][1]);
		if (d->driver[0] || d->type_guessed)
			fprintf(f, "  #%s%s%s", d->driver[0] ? " bound to " : "",
				d->driver, d->type_guessed ? " (type guessed)" : "");
		fputc('\n', f);
	}
	for (size_t i = 0; i < im->nothers; i++) {
		const struct imp_other *x = &im->others[i];

		if (x->amba)
			fprintf(f, "amba %s periphid=0x%08x", x->name, x->periphid);
		else
			fprintf(f, "platform %s compatible=%s", x->name,
				x->compatible);
		fprintf(f, " iommu=%s", x->iommu);
		if (labels && group_shared(im, x->group, x->iommu, x))
			fprintf(f, " group=g%d", x->group);
		if (x->driver[0])
			fprintf(f, "  # bound to %s", x->driver);
		fputc('\n', f);
	}
	emit_drivers(im, f);
	if (im->kernel_release[0])
		fprintf(f, "kernel-release %s\n", im->kernel_release);
	if (im->nmodprobe)
		fprintf(f, "# the machine's modprobe.d, in kmod's order\n");
	for (size_t i = 0; i < im->nmodprobe; i++)
		fprintf(f, "%s\n", im->modprobe[i]);
}

/* the machine text of @mode in a new buffer; NULL on no memory */
static char *emit_text(const struct imp_machine *im, const struct order *o,
		       const char *name, enum emit_mode mode)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	emit(im, o, name, mode, f);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- comparing the model with the input ---- */

static int model_group(struct machine *m, const struct imp_dev *d)
{
	struct device *dev = machine_find_device(m, bdf(d));
	struct iommu_group *group = dev ? iommu_group_get(dev) : NULL;
	int id = group ? iommu_group_id(group) : -1;

	if (group)
		iommu_group_put(group);
	return id;
}

/* the platform and AMBA devices' bindings, as compare_drivers() */
static void compare_other_drivers(struct imp_machine *im, struct machine *m)
{
	for (size_t i = 0; i < im->nothers; i++) {
		const struct imp_other *x = &im->others[i];
		struct device *dev = machine_find_device(m, x->name);
		const char *model = dev ? device_driver_name(dev) : NULL;
		const struct driver_desc *a, *b;

		if (!model)
			model = "";
		a = driver_desc_find(model);
		b = driver_desc_find(x->driver);
		if (x->driver[0] && !b)
			imp_note(im, "%s: bound to %s, which dmaown's driver catalogue lacks: it boots unbound",
				 x->name, x->driver);
		else if (strcmp(model, x->driver) && !(a && a == b))
			imp_note(im, "%s: bound to %s on the machine, to %s in the model",
				 x->name, x->driver[0] ? x->driver : "nothing",
				 model[0] ? model : "nothing");
	}
}

static void compare_drivers(struct imp_machine *im, struct machine *m)
{
	for (size_t i = 0; i < im->n; i++) {
		const struct imp_dev *d = &im->devs[i];
		struct device *dev = machine_find_device(m, bdf(d));
		const char *model = dev ? device_driver_name(dev) : NULL;

		if (!model)
			model = "";
		if (d->driver[0] && !driver_desc_find(d->driver)) {
			imp_note(im, "%s: bound to %s, which dmaown's driver catalogue lacks: it boots unbound",
				 bdf(d), d->driver);
		} else if (strcmp(model, d->driver)) {
			const struct driver_desc *a = driver_desc_find(model);
			const struct driver_desc *b = driver_desc_find(d->driver);

			/* a module name against its driver name is the same */
			if (a && a == b)
				continue;
			imp_note(im, "%s: bound to %s on the machine, to %s in the model (the catalogue's id tables differ from the kernel's)",
				 bdf(d), d->driver[0] ? d->driver : "nothing",
				 model[0] ? model : "nothing");
		}
		if (d->override[0])
			imp_note(im, "%s: driver_override is '%s'; machine files do not set it: a script can (echo %s > /sys/bus/pci/devices/%s/driver_override)",
				 bdf(d), d->override, d->override, bdf(d));
	}
	compare_other_drivers(im, m);
}

/* "A B C" into @buf: the devices of @devs whose @key is @val */
static void list_members(const struct imp_machine *im, const int *key,
			 int val, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < im->n && o + 16 < len; i++)
		if (key[i] == val)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      o ? " " : "", bdf(&im->devs[i]));
}

/*
 * The kernel's groups against the computed ones, both ways: a computed
 * group that joins kernel groups, a kernel group the rules split. One
 * note each, naming the devices.
 */
static void compare_groups(struct imp_machine *im, struct machine *m)
{
	int *model = calloc(im->n ? im->n : 1, sizeof(*model));
	int *kernel = calloc(im->n ? im->n : 1, sizeof(*kernel));
	size_t diffs = 0, groups = 0;
	char list[1024];

	if (!model || !kernel)
		goto out;
	for (size_t i = 0; i < im->n; i++) {
		/* a device not probed in the model has no group: skipped */
		model[i] = model_group(m, &im->devs[i]);
		kernel[i] = model[i] >= 0 ? im->devs[i].group : -1;
	}
	for (size_t i = 0; i < im->n; i++) {
		bool first_k = kernel[i] >= 0, first_m = kernel[i] >= 0;
		bool joins = false, splits = false;

		for (size_t j = 0; j < i; j++) {
			first_k &= kernel[j] != kernel[i];
			first_m &= model[j] != model[i];
		}
		groups += first_k;
		for (size_t j = 0; j < im->n; j++) {
			if (kernel[j] < 0 || kernel[i] < 0)
				continue;
			joins |= first_m && model[j] == model[i] &&
				 kernel[j] != kernel[i];
			splits |= first_k && kernel[j] == kernel[i] &&
				  model[j] != model[i];
		}
		if (joins) {
			list_members(im, model, model[i], list, sizeof(list));
			imp_note(im, "groups differ: the modelled rules put in one group what the kernel split: %s",
				 list);
			diffs++;
		}
		if (splits) {
			list_members(im, kernel, kernel[i], list, sizeof(list));
			imp_note(im, "groups differ: the modelled rules split the kernel's group %d: %s",
				 kernel[i], list);
			diffs++;
		}
	}
	if (!diffs)
		imp_note(im, "the kernel's %zu IOMMU groups equal those the modelled rules compute",
			 groups);
out:
	free(model);
	free(kernel);
}

static void note_unknowns(struct imp_machine *im)
{
	char list[1024] = "";
	size_t len = 0, count = 0;
	const char *why = NULL;

	for (size_t i = 0; i < im->n; i++) {
		const struct imp_dev *d = &im->devs[i];

		if (d->acs != IMP_ACS_UNKNOWN || d->type == IMP_TYPE_CONVENTIONAL)
			continue;
		count++;
		why = why ? why : d->acs_why;
		if (len < sizeof(list) - 20)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s", len ? " " : "", bdf(d));
	}
	if (count)
		imp_note(im, "ACS unknown for %zu function%s (%s): taken as not isolating, the worst case, as the kernel does without ACS: %s%s",
			 count, count == 1 ? "" : "s",
			 why ? why : "not in the input", list,
			 len >= sizeof(list) - 20 ? " ..." : "");
	for (size_t i = 0; i < im->n; i++)
		if (im->devs[i].type_guessed)
			count = (size_t)-1;
	if (count == (size_t)-1)
		imp_note(im, "PCIe port types not readable: guessed from the class and place (marked 'type guessed')");
}

static int load_back(const char *text, const char *what, struct machine **ret,
		     struct imp_error *err)
{
	struct topo_error te;

	*ret = topology_load_string("import", text, &te);
	if (!*ret)
		return imp_error(err, "internal error: the %s machine does not load: %d:%d: %s",
				 what, te.line, te.col, te.msg);
	return 0;
}

int imp_write(struct imp_machine *im, const char *name, FILE *out,
	      struct imp_error *err)
{
	struct machine *m = NULL;
	struct order o = { 0 };
	char *text = NULL, *computed = NULL;
	int ret;

	resolve_parents(im);
	guess_types(im);
	for (size_t i = 0; i < im->n; i++)
		im->any_iommu |= im->devs[i].iommu[0] != '\0';
	if (!im->any_iommu && !im->from_sysfs) {
		/* lspci without IOMMU groups: what would they be? */
		for (size_t i = 0; i < im->n; i++)
			snprintf(im->devs[i].iommu, sizeof(im->devs[i].iommu),
				 "iommu0");
		im->any_iommu = im->n > 0;
		imp_note(im, "no IOMMU groups in the input: groups computed by the kernel's rules, every function taken as behind one IOMMU 'iommu0'");
	}
	note_unknowns(im);
	for (size_t i = 0; i < im->n; i++)
		if (im->devs[i].nr_rmrr) {
			imp_note(im, "direct (1:1) ranges from the groups' reserved_regions: on each member whose class its IOMMU driver types that way (the file does not say which member asked)");
			break;
		}
	ret = scan_order(im, &o);
	if (!ret) {
		text = emit_text(im, &o, name, EMIT_FILE);
		ret = text ? load_back(text, "imported", &m, err) :
			     imp_error(err, "%s: out of memory", im->source);
	}
	if (!ret) {
		compare_drivers(im, m);
		machine_destroy(m);
		m = NULL;
	}
	if (!ret && im->groups_known && im->any_iommu) {
		computed = emit_text(im, &o, name, EMIT_COMPUTED);
		ret = computed ? load_back(computed, "computed", &m, err) :
				 imp_error(err, "%s: out of memory", im->source);
		if (!ret)
			compare_groups(im, m);
		machine_destroy(m);
	}
	if (!ret) {
		fprintf(out, "# Imported by dmaown import from %s (docs/import.md).\n",
			im->source);
		if (im->cmdline)
			fprintf(out, "# Kernel command line: %s\n", im->cmdline);
		for (size_t i = 0; i < im->nnotes; i++)
			fprintf(out, "# note: %s\n", im->notes[i]);
		fputs(text, out);
		if (o.n < im->n)
			ret = imp_error(err, "%s: bridges nested deeper than %d",
					im->source, IMP_DEPTH_MAX);
	}
	free(text);
	free(computed);
	free(o.idx);
	return ret;
}
