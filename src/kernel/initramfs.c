// SPDX-License-Identifier: MIT
/*
 * The guest's initramfs, written as a newc cpio archive (the format the
 * kernel unpacks, Documentation/driver-api/early-userspace): the helper
 * as /init, busybox, the modules the twin and the VFIO verbs need with
 * their dependencies (decompressed: the helper loads them with
 * finit_module() and no decompressor), modules.dep and modules.softdep,
 * the boot module list and the script. Every entry has time 0 and the
 * same owner, so the same inputs give the same archive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/kernel.h"

/* Modules a script may load besides the machine's drivers. */
static const char *const extra_modules[] = {
	"vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "irqbypass",
	"pci_stub", "e1000e", "e1000", "ahci",
};

struct cpio {
	FILE *f;
	unsigned int ino;
	size_t off;
	char dirs[256][256]; /* the directories written so far */
	size_t ndirs;
};

static void pad(struct cpio *c)
{
	while (c->off % 4) {
		fputc(0, c->f);
		c->off++;
	}
}

static void entry(struct cpio *c, const char *name, unsigned int mode,
		  const void *data, size_t len, unsigned int rmaj,
		  unsigned int rmin)
{
	size_t nlen = strlen(name) + 1;

	c->off += (size_t)fprintf(c->f,
				  "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
				  ++c->ino, mode, 0u, 0u,
				  (mode & S_IFMT) == S_IFDIR ? 2u : 1u, 0u, len,
				  0u, 0u, rmaj, rmin, nlen, 0u);
	fwrite(name, 1, nlen, c->f);
	c->off += nlen;
	pad(c);
	if (len)
		fwrite(data, 1, len, c->f);
	c->off += len;
	pad(c);
}

/* The directories above @path, each once. */
static void parents(struct cpio *c, const char *path)
{
	char buf[512];

	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		bool seen = false;

		snprintf(buf, sizeof(buf), "%.*s", (int)(s - path), path);
		for (size_t i = 0; i < c->ndirs; i++)
			seen |= !strcmp(c->dirs[i], buf);
		if (seen || !buf[0])
			continue;
		if (c->ndirs < 256)
			snprintf(c->dirs[c->ndirs++], sizeof(c->dirs[0]), "%s", buf);
		entry(c, buf, S_IFDIR | 0755, NULL, 0, 0, 0);
	}
}

static void file_entry(struct cpio *c, const char *name, unsigned int mode,
		       const void *data, size_t len)
{
	parents(c, name);
	entry(c, name, S_IFREG | mode, data, len, 0, 0);
}

/* The whole output of @cmd, or of the file @path when @cmd is NULL. */
static char *slurp(const char *path, const char *cmd, size_t *ret_len)
{
	FILE *f = cmd ? popen(cmd, "r") : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (len + 65536 > cap) {
			char *nb = realloc(buf, cap = (len + 65536) * 2);

			if (!nb)
				break;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (!n)
			break;
		len += n;
	}
	if ((cmd ? pclose(f) : fclose(f)) != 0 && cmd) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

static void norm(const char *in, char *out, size_t len)
{
	const char *b = strrchr(in, '/');

	snprintf(out, len, "%s", b ? b + 1 : in);
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
	*strchrnul(out, '.') = '\0';
}

/* Adds @file (relative to @moddir) to the archive, decompressed. */
static int add_module(struct cpio *c, const char *moddir, const char *release,
		      const char *file, char *why, size_t why_len)
{
	char src[1024], dst[1024], cmd[1200];
	size_t len = 0, fl = strlen(file);
	bool xz = fl > 3 && !strcmp(file + fl - 3, ".xz");
	char *data;

	snprintf(src, sizeof(src), "%s/%s", moddir, file);
	snprintf(dst, sizeof(dst), "lib/modules/%s/%.*s", release,
		 (int)(xz ? fl - 3 : fl), file);
	if (xz) {
		snprintf(cmd, sizeof(cmd), "xz -dc '%s'", src);
		data = slurp(NULL, cmd, &len);
	} else {
		data = slurp(src, NULL, &len);
	}
	if (!data)
		return kernel_fail(why, why_len, "cannot read module %s%s", src,
			     xz ? " (is xz-utils installed?)" : "");
	file_entry(c, dst, 0644, data, len);
	free(data);
	return 0;
}

int initramfs_write(const char *path, const struct twin *t,
		    const char *helper, const char *busybox,
		    const char *moddir, const char *release,
		    const char *script, char *why, size_t why_len)
{
	struct cpio c = { 0 };
	char dep_path[1024], *dep, *softdep, *blob, *line, *save = NULL;
	char added[128][64];
	size_t nadded = 0, len, dep_len, soft_len = 0;
	struct sbuf_mods { char text[4096]; } boot = { "" };
	int ret = -1;

	snprintf(dep_path, sizeof(dep_path), "%s/modules.dep", moddir);
	dep = slurp(dep_path, NULL, &dep_len);
	if (!dep)
		return kernel_fail(why, why_len,
			     "%s: %s (is the kernel unpacked and depmod run? scripts/test-kernel fetch)",
			     dep_path, strerror(errno));
	snprintf(dep_path, sizeof(dep_path), "%s/modules.softdep", moddir);
	softdep = slurp(dep_path, NULL, &soft_len);
	c.f = fopen(path, "wb");
	if (!c.f) {
		kernel_fail(why, why_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	entry(&c, "dev", S_IFDIR | 0755, NULL, 0, 0, 0);
	entry(&c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1);
	entry(&c, "proc", S_IFDIR | 0755, NULL, 0, 0, 0);
	entry(&c, "sys", S_IFDIR | 0755, NULL, 0, 0, 0);
	blob = slurp(helper, NULL, &len);
	if (!blob) {
		kernel_fail(why, why_len, "the guest helper %s: %s (build it: meson compile -C BUILD)",
		      helper, strerror(errno));
		goto out;
	}
	file_entry(&c, "init", 0755, blob, len);
	free(blob);
	if (busybox && (blob = slurp(busybox, NULL, &len))) {
		file_entry(&c, "bin/busybox", 0755, blob, len);
		free(blob);
		entry(&c, "bin/sh", S_IFLNK | 0777, "busybox", 7, 0, 0);
	}
	/* the modules: each wanted one and what modules.dep says it needs */
	for (char *l = strtok_r(dep, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(l, ':'), name[64], *s2 = NULL;
		bool want = false;

		if (!colon)
			continue;
		*colon = '\0';
		norm(l, name, sizeof(name));
		for (size_t i = 0; i < sizeof(extra_modules) / sizeof(extra_modules[0]); i++)
			want |= !strcmp(extra_modules[i], name);
		for (size_t i = 0; i < t->nmodules; i++) {
			char m[64];

			norm(t->modules[i], m, sizeof(m));
			want |= !strcmp(m, name);
		}
		if (!want)
			continue;
		for (line = l; line; line = strtok_r(s2 ? NULL : colon + 1, " ", &s2)) {
			char n2[64];
			bool dup = false;

			norm(line, n2, sizeof(n2));
			for (size_t i = 0; i < nadded; i++)
				dup |= !strcmp(added[i], n2);
			if (dup || nadded == 128)
				continue;
			snprintf(added[nadded++], sizeof(added[0]), "%s", n2);
			if (add_module(&c, moddir, release, line, why, why_len))
				goto out;
		}
	}
	free(dep);
	snprintf(dep_path, sizeof(dep_path), "%s/modules.dep", moddir);
	dep = slurp(dep_path, NULL, &dep_len);
	if (!dep) {
		kernel_fail(why, why_len, "%s: %s", dep_path, strerror(errno));
		goto out;
	}
	snprintf(dep_path, sizeof(dep_path), "lib/modules/%s/modules.dep", release);
	file_entry(&c, dep_path, 0644, dep, dep_len);
	if (softdep) {
		snprintf(dep_path, sizeof(dep_path), "lib/modules/%s/modules.softdep",
			 release);
		file_entry(&c, dep_path, 0644, softdep, soft_len);
	}
	for (size_t i = 0; i < t->nmodules; i++) {
		size_t off = strlen(boot.text);

		snprintf(boot.text + off, sizeof(boot.text) - off, "%s%s%s\n",
			 t->modules[i], t->params[i][0] ? " " : "", t->params[i]);
	}
	file_entry(&c, "dmaown/boot-modules", 0644, boot.text, strlen(boot.text));
	file_entry(&c, "dmaown/script", 0644, script, strlen(script));
	entry(&c, "TRAILER!!!", 0, NULL, 0, 0, 0);
	ret = 0;
out:
	if (c.f && fclose(c.f) && !ret)
		ret = kernel_fail(why, why_len, "%s: %s", path, strerror(errno));
	free(dep);
	free(softdep);
	return ret;
}
