// SPDX-License-Identifier: MIT
/*
 * A sysfs tree, live (/sys) or copied: the PCI functions and their
 * attributes, drivers, driver_override, IOMMU groups and IOMMUs; config
 * space through libpci's sysfs method, so a copy is read as the live one.
 * Only files are read; nothing is written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import/import.h"

/* the first line of ROOT/REL, without its newline; false if unreadable */
static bool read_attr(const char *dir, const char *name, char *buf,
		      size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* "0x8086": a sysfs hex attribute */
static bool read_hex(const char *dir, const char *name, unsigned int *ret)
{
	char buf[32], *end;
	unsigned long v;

	if (!read_attr(dir, name, buf, sizeof(buf)))
		return false;
	v = strtoul(buf, &end, 16);
	if (end == buf || *end)
		return false;
	*ret = (unsigned int)v;
	return true;
}

/* the last component of the symlink DIR/NAME, "" if none */
static void link_base(const char *dir, const char *name, char *buf,
		      size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(buf, size, "%s", slash ? slash + 1 : target);
}

/* how many bytes of config space a read gives (64 without root) */
static size_t config_len(const char *dir)
{
	char path[PATH_MAX], buf[4096];
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	while (len < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	return len;
}

static bool path_exists(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return !stat(path, &st);
}

static int parse_name(const char *name, struct imp_dev *d)
{
	unsigned int dom, bus, dev, fn;
	char end;

	if (sscanf(name, "%4x:%2x:%2x.%1u%c", &dom, &bus, &dev, &fn, &end) !=
		    4 ||
	    dev > 0x1f || fn > 7 || strlen(name) != 12)
		return -EINVAL;
	d->domain = dom;
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	return 0;
}

/* the bridge above, from the device's directory in /sys/devices */
static void sysfs_parent(struct imp_machine *im, const char *devices,
			 struct imp_dev *d, const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct imp_dev tmp;
	char *slash;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", devices, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;	/* a copy without links: bus numbers decide */
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (!slash)
		return;
	*slash = '\0';
	slash = strrchr(target, '/');
	if (!parse_name(slash ? slash + 1 : target, &tmp)) {
		struct imp_dev *p = imp_dev_find(im, tmp.domain, tmp.bus,
						 tmp.dev, tmp.fn);

		d->parent = p ? (int)(p - im->devs) : -2;
	} else {
		d->parent = -1;	/* pciDDDD:BB: a root bus */
	}
}

/*
 * The platform and AMBA devices of the IOMMU groups: each group's
 * devices/ entries that are not PCI functions, by their subsystem link.
 * Other buses (fsl-mc) are noted, not imported.
 */
/*
 * The firmware 1:1 ranges of @d's group (reserved_regions, "direct" and
 * "direct-relaxable"), on @d when its IOMMU driver would type a range of
 * @d that way: the file does not say which member asked, so each member
 * whose class fits gets the range. VT-d makes USB and display devices'
 * RMRRs relaxable, and the ISA bridge's 0-16M its own; AMD and the SMMUs
 * make every one direct.
 */
static void read_direct_regions(struct imp_machine *im, const char *dir,
				struct imp_dev *d)
{
	bool intel = !strncmp(d->iommu, "dmar", 4);
	bool relaxable_dev = d->class >> 16 == 0x03 || d->class >> 8 == 0x0c03;
	char path[PATH_MAX], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/iommu_group/reserved_regions", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char type[32];

		if (sscanf(line, "%llx %llx %31s", &start, &end, type) != 3)
			continue;
		if (strcmp(type, "direct") && strcmp(type, "direct-relaxable"))
			continue;
		if (intel && (!strcmp(type, "direct-relaxable") != relaxable_dev))
			continue;
		/* the model gives the ISA bridge's floppy range itself */
		if (intel && d->class >> 8 == 0x0601 && !start && end == 0xffffff)
			continue;
		if (d->nr_rmrr == 8) {
			imp_note(im, "%04x:%02x:%02x.%x: more than 8 direct ranges; the rest left out",
				 d->domain, d->bus, d->dev, d->fn);
			break;
		}
		d->rmrr[d->nr_rmrr][0] = start;
		d->rmrr[d->nr_rmrr++][1] = end;
	}
	fclose(f);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* One non-PCI member @name of group @g (its directory @ddir). */
static int read_other(struct imp_machine *im, const char *ddir,
		      const char *name, int g, struct imp_error *err)
{
	char bus[IMP_NAME_MAX], buf[IMP_NAME_MAX];
	struct imp_other *o, *more;

	link_base(ddir, "subsystem", bus, sizeof(bus));
	if (strcmp(bus, "platform") && strcmp(bus, "amba")) {
		imp_note(im, "%s (group %d, bus %s): not imported, only PCI, platform and AMBA devices are",
			 name, g, bus[0] ? bus : "unknown");
		return 0;
	}
	more = realloc(im->others, (im->nothers + 1) * sizeof(*more));
	if (!more)
		return imp_error(err, "%s: out of memory", ddir);
	im->others = more;
	o = &im->others[im->nothers++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->amba = !strcmp(bus, "amba");
	o->group = g;
	link_base(ddir, "driver", o->driver, sizeof(o->driver));
	link_base(ddir, "iommu", o->iommu, sizeof(o->iommu));
	if (!o->iommu[0])
		snprintf(o->iommu, sizeof(o->iommu), "iommu0");
	if (o->amba) {
		if (!read_hex(ddir, "id", &o->periphid))
			imp_note(im, "%s: no AMBA id: periphid 0", o->name);
		return 0;
	}
	/* devicetree: the first compatible string; ACPI: the modalias */
	if ((read_attr(ddir, "of_node/compatible", buf, sizeof(buf)) ||
	     read_attr(ddir, "modalias", buf, sizeof(buf))) && buf[0]) {
		snprintf(o->compatible, sizeof(o->compatible), "%s", buf);
	} else {
		snprintf(o->compatible, sizeof(o->compatible), "unknown");
		imp_note(im, "%s: no compatible or modalias: 'unknown'", o->name);
	}
	/* blanks would split the machine file's token */
	for (char *c = o->compatible; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == '#')
			*c = '_';
	return 0;
}

/*
 * The platform and AMBA devices of the IOMMU groups: each group's
 * devices/ entries that are not PCI functions, by their subsystem link,
 * groups by number and members by name, so the file does not depend on
 * readdir order. Other buses (fsl-mc) are noted, not imported.
 */
static int read_group_others(struct imp_machine *im, const char *root,
			     struct imp_error *err)
{
	char groups[PATH_MAX], gdir[PATH_MAX], ddir[PATH_MAX];
	int *ids = NULL, ret = 0;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *dh;

	snprintf(groups, sizeof(groups), "%s/kernel/iommu_groups", root);
	dh = opendir(groups);
	if (!dh)
		return 0;
	while ((e = readdir(dh))) {
		char *end;
		long g = strtol(e->d_name, &end, 10);

		if (end == e->d_name || *end || g < 0 || g > 1000000)
			continue;
		if (n == cap) {
			int *more = realloc(ids, (cap = cap ? cap * 2 : 64) *
							 sizeof(*ids));

			if (!more) {
				ret = imp_error(err, "%s: out of memory", groups);
				break;
			}
			ids = more;
		}
		ids[n++] = (int)g;
	}
	closedir(dh);
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_int);
	for (size_t i = 0; !ret && i < n; i++) {
		char **names = NULL;
		size_t nn = 0;

		snprintf(gdir, sizeof(gdir), "%s/%d/devices", groups, ids[i]);
		dh = opendir(gdir);
		while (dh && (e = readdir(dh))) {
			struct imp_dev tmp;
			char **more;

			if (e->d_name[0] == '.' || !parse_name(e->d_name, &tmp) ||
			    strlen(e->d_name) >= IMP_NAME_MAX)
				continue;
			more = realloc(names, (nn + 1) * sizeof(*names));
			if (!more || !(more[nn] = strdup(e->d_name))) {
				names = more ? more : names;
				ret = imp_error(err, "%s: out of memory", gdir);
				break;
			}
			names = more;
			nn++;
		}
		if (dh)
			closedir(dh);
		if (nn)
			qsort(names, nn, sizeof(*names), cmp_name);
		for (size_t k = 0; !ret && k < nn; k++) {
			snprintf(ddir, sizeof(ddir), "%s/%s", gdir, names[k]);
			ret = read_other(im, ddir, names[k], ids[i], err);
		}
		for (size_t k = 0; k < nn; k++)
			free(names[k]);
		free(names);
	}
	free(ids);
	return ret;
}


int imp_read_sysfs(struct imp_machine *im, const char *root,
		   struct imp_error *err)
{
	char devices[PATH_MAX], dir[PATH_MAX], buf[IMP_NAME_MAX];
	char **names = NULL;
	size_t nnames = 0, cap = 0;
	struct dirent *e;
	char *type_seen = NULL;
	bool type_mixed = false;
	DIR *dh;
	int ret = 0;

	im->source = root;
	im->from_sysfs = true;
	snprintf(devices, sizeof(devices), "%s/bus/pci/devices", root);
	dh = opendir(devices);
	if (!dh)
		return imp_error(err, "%s: %s (expected a sysfs tree with bus/pci/devices)",
				 devices, strerror(errno));
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		if (nnames == cap) {
			char **more = realloc(names, (cap = cap ? cap * 2 : 64) *
							     sizeof(*names));

			if (!more) {
				ret = -ENOMEM;
				break;
			}
			names = more;
		}
		names[nnames] = strdup(e->d_name);
		if (!names[nnames]) {
			ret = -ENOMEM;
			break;
		}
		nnames++;
	}
	closedir(dh);
	if (ret) {
		imp_error(err, "%s: out of memory", devices);
		goto out;
	}
	/* readdir order is the filesystem's: sort, for a stable file */
	qsort(names, nnames, sizeof(*names), cmp_name);
	im->groups_known = path_exists(root, "kernel/iommu_groups");
	if (path_exists(root, "firmware/acpi/tables/IORT"))
		im->firmware = "acpi-iort";
	else if (path_exists(root, "firmware/devicetree/base") &&
		 !path_exists(root, "firmware/acpi"))
		im->firmware = "devicetree";
	for (size_t i = 0; i < nnames; i++) {
		struct imp_dev *d = imp_dev_new(im);

		if (!d) {
			ret = imp_error(err, "%s: out of memory", devices);
			goto out;
		}
		if (parse_name(names[i], d)) {
			ret = imp_error(err, "%s/%s: not a PCI address like 0000:00:1f.0",
					devices, names[i]);
			goto out;
		}
		snprintf(dir, sizeof(dir), "%s/%s", devices, names[i]);
		if (!read_hex(dir, "vendor", &d->vendor) ||
		    !read_hex(dir, "device", &d->device) ||
		    !read_hex(dir, "class", &d->class)) {
			ret = imp_error(err, "%s: vendor, device or class missing or not hex",
					dir);
			goto out;
		}
		read_hex(dir, "subsystem_vendor", &d->subvendor);
		read_hex(dir, "subsystem_device", &d->subdevice);
		read_hex(dir, "revision", &d->rev);
		link_base(dir, "driver", d->driver, sizeof(d->driver));
		if (read_attr(dir, "driver_override", buf, sizeof(buf)) &&
		    strcmp(buf, "(null)"))
			snprintf(d->override, sizeof(d->override), "%s", buf);
		link_base(dir, "iommu", d->iommu, sizeof(d->iommu));
		link_base(dir, "iommu_group", buf, sizeof(buf));
		if (buf[0]) {
			char gdir[PATH_MAX], type[32];

			d->group = atoi(buf);
			if (!d->iommu[0])
				snprintf(d->iommu, sizeof(d->iommu), "iommu0");
			snprintf(gdir, sizeof(gdir), "%s/iommu_group", dir);
			if (read_attr(gdir, "type", type, sizeof(type))) {
				if (!type_seen)
					type_seen = strdup(type);
				else if (strcmp(type_seen, type))
					type_mixed = true;
			}
		}
		if (d->group >= 0)
			read_direct_regions(im, dir, d);
		imp_sysfs_sriov(d, dir);
		d->cfg_len = config_len(dir);
		if (!d->cfg_len) {
			d->acs = IMP_ACS_UNKNOWN;
			d->acs_why = "config file not readable";
		}
	}
	for (size_t i = 0; i < im->n; i++)
		sysfs_parent(im, devices, &im->devs[i], names[i]);
	snprintf(devices, sizeof(devices), "%s/bus/pci", root);
	ret = imp_libpci_read(im, NULL, devices, err);
	if (!ret && im->groups_known)
		ret = read_group_others(im, root, err);
	if (!ret)
		imp_sriov_finish(im);
	if (type_seen && (!strcmp(type_seen, "DMA") ||
			  !strcmp(type_seen, "DMA-FQ") ||
			  !strcmp(type_seen, "identity")))
		snprintf(im->default_domain, sizeof(im->default_domain), "%s",
			 type_seen);
	if (type_mixed)
		imp_note(im, "the kernel's groups have default domains of more than one type; the machine gives them all %s",
			 type_seen);
out:
	free(type_seen);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return ret;
}
