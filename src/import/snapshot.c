// SPDX-License-Identifier: MIT
/*
 * dmaown snapshot: exactly the files dmaown import reads from a machine,
 * read only, in a ustar archive that imports anywhere (docs/import.md,
 * "Snapshots"). Format "dmaown-snapshot 2":
 *
 *   dmaown-snapshot/VERSION   "dmaown-snapshot 2", then what is left out
 *   dmaown-snapshot/cmdline   the kernel command line, when given
 *   dmaown-snapshot/sys/...   the sysfs subset, links kept as links
 *   dmaown-snapshot/proc/sys/kernel/osrelease   the kernel release
 *   dmaown-snapshot/{etc,run,usr/local/lib,lib}/modprobe.d/NAME.conf
 *                             kmod's configuration files (2 and later)
 *
 * Left out: everything else of sysfs (vpd files, BARs, net/ and its MAC
 * addresses, host names). Blanked: in each config space, the Device
 * Serial Number capability's serial and the VPD capability's data
 * register, found through libpci.
 *
 * Entries are written in path order with mtime 0, uid and gid 0, so a
 * snapshot of the same machine is the same bytes.
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

#define SNAP_ROOT "dmaown-snapshot"
#define SNAP_FILE_MAX 4096	/* sysfs attributes and config space */
#define SNAP_ENTRIES_MAX (1 << 20)

struct snap_entry {
	char *path;		/* below SNAP_ROOT/ */
	char type;		/* '0' file, '2' link, '5' directory */
	char *data;		/* file bytes or link target */
	size_t len;
};

struct snap {
	const char *sysfs;
	struct snap_entry *v;
	size_t n, cap;
	struct imp_private *priv;
	size_t npriv;
	struct imp_error *err;
	int ret;
};

static struct snap_entry *snap_find(struct snap *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].path, path))
			return &s->v[i];
	return NULL;
}

/* Record @path once (a directory, a file of @len bytes, a link). */
static void snap_add(struct snap *s, const char *path, char type,
		     const char *data, size_t len)
{
	struct snap_entry *e;

	if (s->ret || snap_find(s, path))
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct snap_entry *v = cap > SNAP_ENTRIES_MAX ? NULL :
			realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->ret = imp_error(s->err, "%s: too many files, or out of memory",
					   s->sysfs);
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n];
	e->path = strdup(path);
	e->data = len || data ? malloc(len + 1) : NULL;
	if (!e->path || ((len || data) && !e->data)) {
		free(e->path);
		free(e->data);
		s->ret = imp_error(s->err, "%s: out of memory", s->sysfs);
		return;
	}
	if (e->data) {
		memcpy(e->data, data, len);
		e->data[len] = '\0';
	}
	e->type = type;
	e->len = len;
	s->n++;
}

/* @path's directories, each once */
static void snap_dirs(struct snap *s, const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		snap_add(s, buf, '5', NULL, 0);
		*slash = '/';
	}
}

/* "a/b/../c" -> "a/c"; false if it climbs out of the tree */
static bool normalize(char *path)
{
	char *parts[PATH_MAX / 2], *save = NULL, out[PATH_MAX];
	size_t n = 0, len = 0;

	for (char *p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			if (!n)
				return false;
			n--;
			continue;
		}
		parts[n++] = p;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
					i ? "/" : "", parts[i]);
	memcpy(path, out, len + 1);
	return true;
}

/* the file @rel of the tree, at most SNAP_FILE_MAX bytes; -1 if none */
static ssize_t read_rel(struct snap *s, const char *rel, char *buf)
{
	char path[PATH_MAX];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", s->sysfs, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while (len < SNAP_FILE_MAX &&
	       (n = read(fd, buf + len, (size_t)(SNAP_FILE_MAX - len))) > 0)
		len += n;
	close(fd);
	return len;
}

static void snap_file(struct snap *s, const char *rel)
{
	char buf[SNAP_FILE_MAX];
	char path[PATH_MAX];
	ssize_t n = read_rel(s, rel, buf);

	if (n < 0)
		return;	/* not every function has every attribute */
	snprintf(path, sizeof(path), "sys/%s", rel);
	snap_dirs(s, path);
	snap_add(s, path, '0', buf, (size_t)n);
}

/*
 * The link @rel as it is, and its target's path in the tree (normalized,
 * into @target), or false if @rel is no link or points outside.
 */
static bool snap_link(struct snap *s, const char *rel, char *target,
		      size_t size)
{
	char path[PATH_MAX], to[PATH_MAX], full[2 * PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", s->sysfs, rel);
	n = readlink(path, to, sizeof(to) - 1);
	if (n <= 0)
		return false;
	to[n] = '\0';
	snprintf(path, sizeof(path), "sys/%s", rel);
	snap_dirs(s, path);
	snap_add(s, path, '2', to, (size_t)n);
	if (to[0] == '/')
		return false;
	snprintf(full, sizeof(full), "%s", rel);
	*(strrchr(full, '/') ? strrchr(full, '/') + 1 : full) = '\0';
	strncat(full, to, sizeof(full) - strlen(full) - 1);
	if (!normalize(full))
		return false;
	snprintf(target, size, "%s", full);
	return true;
}

/* the config space of function @name, with DSN and VPD data blanked */
static void snap_config(struct snap *s, const char *devdir, const char *name)
{
	char buf[SNAP_FILE_MAX], rel[PATH_MAX], path[PATH_MAX];
	unsigned int dom, bus, dev, fn;
	ssize_t n;

	snprintf(rel, sizeof(rel), "%s/config", devdir);
	n = read_rel(s, rel, buf);
	if (n < 0)
		return;
	if (sscanf(name, "%x:%x:%x.%u", &dom, &bus, &dev, &fn) == 4) {
		for (size_t i = 0; i < s->npriv; i++) {
			const struct imp_private *p = &s->priv[i];

			if (p->domain != dom || p->bus != bus || p->dev != dev ||
			    p->fn != fn)
				continue;
			/* the serial: the two dwords after the header */
			if (p->dsn && p->dsn + 12 <= (size_t)n)
				memset(buf + p->dsn + 4, 0, 8);
			/* the VPD data register */
			if (p->vpd && p->vpd + 8 <= (size_t)n)
				memset(buf + p->vpd + 4, 0, 4);
		}
	}
	snprintf(path, sizeof(path), "sys/%s", rel);
	snap_dirs(s, path);
	snap_add(s, path, '0', buf, (size_t)n);
}

static const char *const pci_attrs[] = {
	"vendor", "device", "subsystem_vendor", "subsystem_device", "class",
	"revision", "driver_override",
};

/* What import reads of a group, and of its non-PCI members */
static void snap_group(struct snap *s, const char *gdir)
{
	char rel[PATH_MAX], target[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *dh;

	snprintf(rel, sizeof(rel), "%s/type", gdir);
	snap_file(s, rel);
	snprintf(rel, sizeof(rel), "%s/reserved_regions", gdir);
	snap_file(s, rel);
	snprintf(path, sizeof(path), "%s/%s/devices", s->sysfs, gdir);
	dh = opendir(path);
	while (dh && (e = readdir(dh))) {
		static const char *const links[] = { "subsystem", "driver",
						     "iommu", "iommu_group" };
		static const char *const files[] = { "of_node/compatible",
						     "modalias", "id" };

		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "%s/devices/%s", gdir, e->d_name);
		if (!snap_link(s, rel, target, sizeof(target)))
			continue;
		for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
			char dummy[PATH_MAX];

			snprintf(rel, sizeof(rel), "%s/%s", target, links[i]);
			snap_link(s, rel, dummy, sizeof(dummy));
		}
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(rel, sizeof(rel), "%s/%s", target, files[i]);
			snap_file(s, rel);
		}
	}
	if (dh)
		closedir(dh);
}

static void snap_collect(struct snap *s)
{
	char rel[PATH_MAX], devdir[PATH_MAX], target[PATH_MAX];
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dh;

	snprintf(path, sizeof(path), "%s/bus/pci/devices", s->sysfs);
	dh = opendir(path);
	if (!dh) {
		s->ret = imp_error(s->err, "%s: %s (expected a sysfs tree with bus/pci/devices)",
				   path, strerror(errno));
		return;
	}
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s", e->d_name);
		if (!snap_link(s, rel, devdir, sizeof(devdir)))
			continue;
		for (size_t i = 0; i < sizeof(pci_attrs) / sizeof(pci_attrs[0]); i++) {
			snprintf(rel, sizeof(rel), "%s/%s", devdir, pci_attrs[i]);
			snap_file(s, rel);
		}
		snap_config(s, devdir, e->d_name);
		snprintf(rel, sizeof(rel), "%s/driver", devdir);
		snap_link(s, rel, target, sizeof(target));
		snprintf(rel, sizeof(rel), "%s/iommu", devdir);
		snap_link(s, rel, target, sizeof(target));
		snprintf(rel, sizeof(rel), "%s/iommu_group", devdir);
		if (snap_link(s, rel, target, sizeof(target)))
			snap_group(s, target);
	}
	closedir(dh);
	/* the groups of non-PCI devices too */
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", s->sysfs);
	dh = opendir(path);
	while (dh && (e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s", e->d_name);
		snap_group(s, rel);
	}
	if (dh) {
		closedir(dh);
		snap_dirs(s, "sys/kernel/iommu_groups/");
	}
	/* firmware kinds: presence only, no table is copied */
	snprintf(path, sizeof(path), "%s/firmware/acpi/tables/IORT", s->sysfs);
	if (!access(path, F_OK)) {
		snap_dirs(s, "sys/firmware/acpi/tables/IORT");
		snap_add(s, "sys/firmware/acpi/tables/IORT", '0', "", 0);
	}
	snprintf(path, sizeof(path), "%s/firmware/devicetree/base", s->sysfs);
	if (!access(path, F_OK))
		snap_dirs(s, "sys/firmware/devicetree/base/");
}

/* ---- ustar ---- */

static void octal(char *field, size_t size, unsigned long long v)
{
	snprintf(field, size, "%0*llo", (int)size - 1, v);
}

static int tar_entry(FILE *out, const struct snap_entry *e)
{
	char h[512], name[PATH_MAX];
	size_t len, split = 0;
	unsigned int sum = 0;

	snprintf(name, sizeof(name), "%s/%s%s", SNAP_ROOT, e->path,
		 e->type == '5' ? "/" : "");
	len = strlen(name);
	memset(h, 0, sizeof(h));
	/* names over 100 bytes go in prefix (155) + name (100) at a '/' */
	if (len > 100) {
		for (size_t i = len > 101 ? len - 101 : 0; i < len && i <= 155; i++)
			if (name[i] == '/') {
				split = i;
				break;
			}
		if (!split || len - split - 1 > 100)
			return -ENAMETOOLONG;
		memcpy(h + 345, name, split);
		memcpy(h, name + split + 1, len - split - 1);
	} else {
		memcpy(h, name, len);
	}
	octal(h + 100, 8, e->type == '0' ? 0644 : e->type == '5' ? 0755 : 0777);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, e->type == '0' ? e->len : 0);
	octal(h + 136, 12, 0);
	h[156] = e->type;
	if (e->type == '2') {
		if (e->len > 100)
			return -ENAMETOOLONG;
		memcpy(h + 157, e->data, e->len);
	}
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	fwrite(h, 1, sizeof(h), out);
	if (e->type == '0' && e->len) {
		static const char zero[512];

		fwrite(e->data, 1, e->len, out);
		fwrite(zero, 1, (512 - e->len % 512) % 512, out);
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct snap_entry *)a)->path,
		      ((const struct snap_entry *)b)->path);
}

/* @root's file @rel (at most SNAP_FILE_MAX bytes) as the entry @rel */
static void snap_root_file(struct snap *s, const char *root, const char *rel)
{
	char path[PATH_MAX], buf[SNAP_FILE_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	if (!feof(f))
		s->ret = imp_error(s->err, "%s: longer than %d bytes", path,
				   SNAP_FILE_MAX);
	fclose(f);
	snap_dirs(s, rel);
	snap_add(s, rel, '0', buf, n);
}

/* The kernel release and every modprobe.d file kmod would read. */
static void snap_root(struct snap *s, const char *root)
{
	snap_root_file(s, root, "proc/sys/kernel/osrelease");
	for (size_t d = 0; imp_modprobe_dirs[d]; d++) {
		char dir[PATH_MAX], rel[PATH_MAX];
		struct dirent *e;
		DIR *dp;

		snprintf(dir, sizeof(dir), "%s/%s", root, imp_modprobe_dirs[d]);
		dp = opendir(dir);
		while (dp && (e = readdir(dp)))
			if (imp_modprobe_file_name(e->d_name)) {
				struct stat st;

				snprintf(rel, sizeof(rel), "%s/%s",
					 imp_modprobe_dirs[d], e->d_name);
				snprintf(dir + strlen(dir),
					 sizeof(dir) - strlen(dir), "/%s",
					 e->d_name);
				if (!stat(dir, &st) && S_ISREG(st.st_mode))
					snap_root_file(s, root, rel);
				*strrchr(dir, '/') = '\0';
			}
		if (dp)
			closedir(dp);
	}
}

int imp_snapshot(const char *sysfs, const char *cmdline, const char *root,
		 FILE *out, struct imp_error *err)
{
	static const char version[] =
		"dmaown-snapshot 2\n"
		"made by dmaown snapshot, read by dmaown import --snapshot (docs/import.md)\n"
		"kept: the PCI functions' ids, class, revision, driver_override, config\n"
		"  space, driver, iommu and iommu_group links; the IOMMU groups' type,\n"
		"  reserved_regions and members; platform and AMBA members' compatible,\n"
		"  modalias, id and links; which firmware tables exist; the kernel\n"
		"  release; the modprobe.d files kmod reads (*.conf, *.alias)\n"
		"blanked: the Device Serial Number capability's serial and the VPD\n"
		"  data register in each config space\n"
		"left out: all else, VPD files, BARs, network interfaces and their MAC\n"
		"  addresses, host names\n";
	struct snap s = { .sysfs = sysfs, .err = err };
	char bus_pci[PATH_MAX];
	static const char zero[1024];

	snprintf(bus_pci, sizeof(bus_pci), "%s/bus/pci", sysfs);
	s.ret = imp_libpci_private(bus_pci, &s.priv, &s.npriv, err);
	if (!s.ret)
		snap_collect(&s);
	if (!s.ret)
		snap_add(&s, "VERSION", '0', version, sizeof(version) - 1);
	if (!s.ret && cmdline) {
		char buf[SNAP_FILE_MAX];
		FILE *f = fopen(cmdline, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

		if (!f)
			s.ret = imp_error(err, "%s: %s", cmdline, strerror(errno));
		else
			fclose(f);
		if (!s.ret)
			snap_add(&s, "cmdline", '0', buf, n);
	}
	if (!s.ret && root)
		snap_root(&s, root);
	if (!s.ret) {
		snap_add(&s, "sys", '5', NULL, 0);
		qsort(s.v, s.n, sizeof(*s.v), cmp_entry);
		for (size_t i = 0; !s.ret && i < s.n; i++)
			if (tar_entry(out, &s.v[i]))
				s.ret = imp_error(err, "%s: path too long for a tar entry: %s",
						  sysfs, s.v[i].path);
		fwrite(zero, 1, sizeof(zero), out);
		if (!s.ret && (fflush(out) || ferror(out)))
			s.ret = imp_error(err, "cannot write the snapshot: %s",
					  strerror(errno));
	}
	for (size_t i = 0; i < s.n; i++) {
		free(s.v[i].path);
		free(s.v[i].data);
	}
	free(s.v);
	free(s.priv);
	return s.ret;
}
