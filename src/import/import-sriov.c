// SPDX-License-Identifier: MIT
/*
 * dmaown import: SR-IOV from a sysfs tree. A PF's capability is in its
 * sriov_totalvfs, sriov_offset, sriov_stride and sriov_vf_device files
 * (drivers/pci/iov.c); a VF has a physfn link to its PF. The machine file
 * describes the PF with sriov-totalvfs=, vf-offset=, vf-stride= and
 * vf-device= (docs/topology.md), and not the VFs: they exist only once
 * sriov_numvfs makes them, so the imported machine boots without them and
 * a note says how to make them again.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import/import.h"

/* A decimal or hex (with @hex) attribute of @dir; false if unreadable. */
static bool read_uint(const char *dir, const char *name, bool hex,
		      unsigned int *ret)
{
	char path[PATH_MAX], buf[32], *end;
	unsigned long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	v = strtoul(buf, &end, hex ? 16 : 10);
	if (end == buf || v > 0xffff)
		return false;
	*ret = (unsigned int)v;
	return true;
}

void imp_sysfs_sriov(struct imp_dev *d, const char *dir)
{
	char path[PATH_MAX], to[PATH_MAX];
	unsigned int total;
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/physfn", dir);
	n = readlink(path, to, sizeof(to) - 1);
	if (n > 0) {
		to[n] = '\0';
		base = strrchr(to, '/') ? strrchr(to, '/') + 1 : to;
		snprintf(d->physfn, sizeof(d->physfn), "%s", base);
		return;
	}
	if (!read_uint(dir, "sriov_totalvfs", false, &total) || !total)
		return;
	if (!read_uint(dir, "sriov_offset", false, &d->sriov_offset) ||
	    !read_uint(dir, "sriov_stride", false, &d->sriov_stride) ||
	    !read_uint(dir, "sriov_vf_device", true, &d->sriov_vf_device))
		return;
	d->sriov_total = total;
}

/* What the machine file takes: a PCIe endpoint, an offset, a stride. */
static void check_pf(struct imp_machine *im, struct imp_dev *d)
{
	if (!d->sriov_total ||
	    ((d->type == IMP_TYPE_ENDPOINT || d->type == IMP_TYPE_RC_END) &&
	     d->sriov_offset && (d->sriov_total == 1 || d->sriov_stride)))
		return;
	imp_note(im, "%04x:%02x:%02x.%x: its SR-IOV capability (TotalVFs %u, offset %u, stride %u) is left out: the machine file takes it on a PCIe endpoint with an offset and a stride",
		 d->domain, d->bus, d->dev, d->fn, d->sriov_total,
		 d->sriov_offset, d->sriov_stride);
	d->sriov_total = 0;
}

/*
 * lspci input has no physfn links: a PF whose capability had VF Enable
 * set with NumVFs n owns the functions at its routing ID plus the offset
 * and n - 1 strides, on its segment.
 */
static void mark_vfs(struct imp_machine *im)
{
	for (size_t i = 0; i < im->n; i++) {
		const struct imp_dev *pf = &im->devs[i];
		unsigned int rid = pf->bus << 8 | pf->dev << 3 | pf->fn;
		char name[16];

		if (!pf->sriov_total || !pf->sriov_enabled || pf->physfn[0])
			continue;
		snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", pf->domain,
			 pf->bus, pf->dev, pf->fn);
		for (unsigned int v = 0; v < pf->sriov_enabled; v++) {
			unsigned int r = rid + pf->sriov_offset +
					 v * pf->sriov_stride;
			struct imp_dev *vf;

			if (r > 0xffff)
				break;
			vf = imp_dev_find(im, pf->domain, r >> 8, r >> 3 & 0x1f,
					  r & 7);
			if (vf && vf != pf && !vf->physfn[0] && !vf->sriov_total)
				snprintf(vf->physfn, sizeof(vf->physfn), "%s",
					 name);
		}
	}
}

void imp_sriov_finish(struct imp_machine *im)
{
	size_t k = 0;
	int *map;

	mark_vfs(im);

	/* each VF counts for its PF, and its driver is noted */
	for (size_t i = 0; i < im->n; i++) {
		const struct imp_dev *d = &im->devs[i];
		unsigned int dom, bus, dev, fn;
		struct imp_dev *pf = NULL;

		if (!d->physfn[0])
			continue;
		if (sscanf(d->physfn, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
			pf = imp_dev_find(im, dom, bus, dev, fn);
		if (pf)
			pf->sriov_numvfs++;
		if (d->driver[0])
			imp_note(im, "VF %04x:%02x:%02x.%x of %s was bound to %s; the machine boots without its VFs",
				 d->domain, d->bus, d->dev, d->fn, d->physfn,
				 d->driver);
	}
	/* then the VFs go; no function has a VF as its parent */
	map = malloc((im->n ? im->n : 1) * sizeof(*map));
	if (!map)
		return;
	for (size_t i = 0; i < im->n; i++) {
		if (im->devs[i].physfn[0]) {
			map[i] = -1;
			continue;
		}
		map[i] = (int)k;
		if (k != i)
			im->devs[k] = im->devs[i];
		k++;
	}
	for (size_t i = 0; i < k; i++)
		if (im->devs[i].parent >= 0)
			im->devs[i].parent = map[im->devs[i].parent];
	im->n = k;
	free(map);
	for (size_t i = 0; i < im->n; i++) {
		struct imp_dev *d = &im->devs[i];

		check_pf(im, d);
		if (d->sriov_numvfs)
			imp_note(im, "%04x:%02x:%02x.%x had %u VFs: write %u to its sriov_numvfs to make them again",
				 d->domain, d->bus, d->dev, d->fn,
				 d->sriov_numvfs, d->sriov_numvfs);
	}
}

void imp_emit_sriov(const struct imp_dev *d, FILE *f)
{
	if (!d->sriov_total)
		return;
	fprintf(f, " sriov-totalvfs=%u vf-offset=%u", d->sriov_total,
		d->sriov_offset);
	if (d->sriov_total > 1)
		fprintf(f, " vf-stride=%u", d->sriov_stride);
	fprintf(f, " vf-device=%04x", d->sriov_vf_device);
}
