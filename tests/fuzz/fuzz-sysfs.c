// SPDX-License-Identifier: MIT
/*
 * Fuzz target: sysfs writes (sysfs_write()) on a built-in machine.
 *
 * Input: one byte picking the machine (bit 7: the vfio and stub drivers are
 * loaded too), then records, each
 *
 *	u16 (little endian)	bits 0-14: a path of the machine's tree
 *				(modulo the count); bit 15: read, not write
 *	u8 spec			0x00-0x3f: that many bytes follow
 *				0x40-0x7f: one byte follows, a word of the
 *				machine (device, driver and bus names, ids,
 *				values); bit 0: a newline after it
 *				0x80-0xff: 4088 + (spec & 0xf) copies of
 *				the byte that follows (around the page limit)
 *
 * The paths are gathered once per machine by walking /sys and /dev from
 * the booted machine (links listed, not followed, 12 levels at most), plus
 * a few that do not exist. After every write:
 *
 * - the invariants I1-I4 hold;
 * - the result is 0 or a negative errno a write() can return (never a
 *   kernel-internal one such as EPROBE_DEFER);
 * - a failed write left the machine as it was: machine_serialize() gives
 *   the same text before and after. On x86 machines (and without the
 *   IOMMU API) byte for byte. On ACPI/IORT and devicetree machines the
 *   kernel itself keeps three effects of a failed probe, so these, and
 *   only these, may differ (docs/scripts.md, "A failed write leaves the
 *   machine as it was, except ..."):
 *   1. a device that had no fwspec before the write (fwspec=0) may now
 *      have one and be in an IOMMU group: its fwspec=, group=, dom= and
 *      ref= fields, the devs= and ref= fields of the group it joined, a
 *      new group whose members are all such devices (with owner=- and
 *      cnt=0), and the domain lines (their numbering follows the groups);
 *   2. any device may be queued for a deferred probe (deferred=0 -> 1);
 *   3. domain numbers (#N) shift when a group is created.
 *   Everything else, driver bindings, overrides, dynamic ids, ownership,
 *   owner_cnt, domain types and attachments of the groups that existed,
 *   must read the same.
 *
 * A read must never change anything, on any machine.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "dmaown/driver.h"
#include "dmaown/sysfs.h"
#include "drivers/base/base.h"
#include "fuzz.h"

#define FUZZ_RECORDS_MAX 64
#define FUZZ_WALK_DEPTH 12
#define FUZZ_TABLES_MAX 64

struct strtab {
	char **v;
	size_t n, cap;
};

struct tables {
	bool ready;
	struct strtab paths;
	struct strtab words;
};

static void tab_add(struct strtab *t, const char *s)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i], s))
			return;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			fuzz_fail("out of memory");
	}
	t->v[t->n] = strdup(s);
	if (!t->v[t->n])
		fuzz_fail("out of memory");
	t->n++;
}

static void walk(struct machine *m, const char *dir, int depth,
		 struct strtab *paths)
{
	char **names;
	size_t n;

	if (depth > FUZZ_WALK_DEPTH || sysfs_list(m, dir, &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char path[SYSFS_PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s",
			 strcmp(dir, "/") ? dir : "", names[i]);
		switch (sysfs_stat(m, path)) {
		case SYSFS_DIR:
			walk(m, path, depth + 1, paths);
			break;
		case SYSFS_FILE:
		case SYSFS_LINK:
			tab_add(paths, path);
			break;
		default:
			break;
		}
	}
	sysfs_list_free(names, n);
}

/* The names under a directory (device, driver and bus names). */
static void words_from_dir(struct machine *m, const char *dir,
			   struct strtab *words)
{
	char **names;
	size_t n;

	if (sysfs_list(m, dir, &names, &n))
		return;
	for (size_t i = 0; i < n; i++)
		tab_add(words, names[i]);
	sysfs_list_free(names, n);
}

/* "VVVV DDDD" of every PCI device, as new_id and remove_id take them. */
static void id_words(struct machine *m, struct strtab *words)
{
	char **names;
	size_t n;

	if (sysfs_list(m, "/sys/bus/pci/devices", &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char path[SYSFS_PATH_MAX], *v = NULL, *d = NULL, w[64];

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 names[i]);
		if (!sysfs_read(m, path, &v)) {
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/device", names[i]);
			if (!sysfs_read(m, path, &d)) {
				snprintf(w, sizeof(w), "%.4s %.4s", v + 2,
					 d + 2);
				tab_add(words, w);
			}
		}
		free(v);
		free(d);
	}
	sysfs_list_free(names, n);
}

static void gather(struct machine *m, struct tables *t)
{
	static const char *const extra_paths[] = {
		"/sys/bus/pci/drivers/no-such-driver/bind",
		"/sys/bus/pci/devices/ffff:ff:1f.7/driver_override",
		"/sys/kernel/iommu_groups/4095/type",
		"/sys/bus/pci/drivers_probe/..",
		"/sys/bus/pci/../pci/./drivers_autoprobe",
		"sys/bus/pci/rescan",
		"/sys",
		"/",
		"",
	};
	static const char *const fixed_words[] = {
		"0", "1", "2", "-1", "0x1", "DMA", "DMA-FQ", "identity", "auto",
		"blocked", "", "(null)", "8086 10d3 8086 a01f 020000 ffffff",
		"ffff ffff", "10de", "0000:00:00.0", "\n",
	};
	struct strtab buses = { 0 };

	walk(m, "/sys", 0, &t->paths);
	walk(m, "/dev", 0, &t->paths);
	for (size_t i = 0; i < sizeof(extra_paths) / sizeof(extra_paths[0]);
	     i++)
		tab_add(&t->paths, extra_paths[i]);
	words_from_dir(m, "/sys/bus", &buses);
	for (size_t i = 0; i < buses.n; i++) {
		char dir[SYSFS_PATH_MAX];

		snprintf(dir, sizeof(dir), "/sys/bus/%s/devices", buses.v[i]);
		words_from_dir(m, dir, &t->words);
		snprintf(dir, sizeof(dir), "/sys/bus/%s/drivers", buses.v[i]);
		words_from_dir(m, dir, &t->words);
		tab_add(&t->words, buses.v[i]);
		free(buses.v[i]);
	}
	free(buses.v);
	for (size_t i = 0; driver_catalogue_entry(i); i++)
		tab_add(&t->words, driver_catalogue_entry(i)->name);
	id_words(m, &t->words);
	for (size_t i = 0; i < sizeof(fixed_words) / sizeof(fixed_words[0]);
	     i++)
		tab_add(&t->words, fixed_words[i]);
	t->ready = true;
}

/* ---- comparing states ---- */

struct line {
	const char *s;
	size_t len;
};

struct lines {
	struct line *v;
	size_t n;
};

static void split(const char *text, struct lines *l)
{
	size_t cap = 0;

	l->v = NULL;
	l->n = 0;
	while (*text) {
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);

		if (l->n == cap) {
			cap = cap ? 2 * cap : 64;
			l->v = realloc(l->v, cap * sizeof(*l->v));
			if (!l->v)
				fuzz_fail("out of memory");
		}
		l->v[l->n].s = text;
		l->v[l->n].len = len;
		l->n++;
		text += len + (eol != NULL);
	}
}

static bool starts(const struct line *l, const char *word)
{
	size_t n = strlen(word);

	return l->len > n && !strncmp(l->s, word, n) && l->s[n] == ' ';
}

/* The second token of a line: the object's name or number. */
static size_t key_len(const struct line *l)
{
	const char *sp = memchr(l->s, ' ', l->len);
	const char *sp2;

	if (!sp)
		return l->len;
	sp2 = memchr(sp + 1, ' ', l->len - (size_t)(sp + 1 - l->s));
	return sp2 ? (size_t)(sp2 - l->s) : l->len;
}

/* The value of field NAME= in a line, into @out ("" if absent). */
static void field(const struct line *l, const char *name, char *out,
		  size_t len)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *p = l->s; p < l->s + l->len; p++) {
		if ((p == l->s || p[-1] == ' ') &&
		    (size_t)(l->s + l->len - p) > n && !strncmp(p, name, n) &&
		    p[n] == '=') {
			const char *v = p + n + 1, *e = v;

			while (e < l->s + l->len && *e != ' ')
				e++;
			snprintf(out, len, "%.*s", (int)(e - v), v);
			return;
		}
	}
}

/*
 * The line without the fields named in @drop (NULL-terminated), with
 * every "#N" read as "#".
 */
static char *strip(const struct line *l, const char *const *drop)
{
	char *out = malloc(l->len + 1), *o = out;
	const char *p = l->s, *end = l->s + l->len;

	if (!out)
		fuzz_fail("out of memory");
	while (p < end) {
		const char *e = memchr(p, ' ', (size_t)(end - p));
		bool skip = false;

		if (!e)
			e = end;
		for (const char *const *d = drop; *d; d++) {
			size_t n = strlen(*d);

			skip |= (size_t)(e - p) > n && !strncmp(p, *d, n) &&
				p[n] == '=';
		}
		if (!skip) {
			for (const char *q = p; q < e; q++) {
				*o++ = *q;
				while (*q == '#' && q + 1 < e &&
				       isdigit((unsigned char)q[1]))
					q++;
			}
			*o++ = ' ';
		}
		p = e + 1;
	}
	*o = '\0';
	return out;
}

static bool same_stripped(const struct line *a, const struct line *b,
			  const char *const *drop)
{
	char *sa = strip(a, drop), *sb = strip(b, drop);
	bool same = !strcmp(sa, sb);

	free(sa);
	free(sb);
	return same;
}

/* Whether @name is in the comma-separated list of joined devices. */
static bool joined(const char *list, const char *name, size_t len)
{
	for (const char *p = list; (p = strstr(p, name)); p++)
		if ((p == list || p[-1] == ',') && !strncmp(p, name, len) &&
		    (p[len] == ',' || !p[len]))
			return true;
	return false;
}

/*
 * What a failed write may change on an IORT or devicetree machine (see the
 * comment at the top). Returns NULL when @after is acceptable, or the
 * first line that is not.
 */
static const char *fw_probe_diff(const char *before, const char *after,
				 char *joined_devs, size_t jlen)
{
	static const char *const dev_unprobed[] = { "fwspec", "group", "dom",
						    "ref", "deferred", NULL };
	static const char *const dev_probed[] = { "deferred", NULL };
	static const char *const group_fields[] = { "devs", "ref", NULL };
	static const char *const none[] = { NULL };
	struct lines b, a;
	const char *bad = NULL;
	size_t ib = 0, ia = 0;

	split(before, &b);
	split(after, &a);
	joined_devs[0] = '\0';
	/* devices first: which ones joined a group */
	for (ib = 0; ib < b.n; ib++) {
		char fw[8], gb[16], ga[16];
		size_t k = key_len(&b.v[ib]);

		if (!starts(&b.v[ib], "dev"))
			continue;
		for (ia = 0; ia < a.n; ia++)
			if (key_len(&a.v[ia]) == k &&
			    !strncmp(a.v[ia].s, b.v[ib].s, k))
				break;
		if (ia == a.n) {
			bad = b.v[ib].s;
			goto out;
		}
		field(&b.v[ib], "fwspec", fw, sizeof(fw));
		if (!same_stripped(&b.v[ib], &a.v[ia],
				   strcmp(fw, "0") ? dev_probed :
						     dev_unprobed)) {
			bad = a.v[ia].s;
			goto out;
		}
		field(&b.v[ib], "group", gb, sizeof(gb));
		field(&a.v[ia], "group", ga, sizeof(ga));
		if (strcmp(gb, ga)) {
			size_t off = strlen(joined_devs);

			snprintf(joined_devs + off, jlen - off, "%s%.*s",
				 off ? "," : "", (int)(k - 4), b.v[ib].s + 4);
		}
	}
	/* the other lines, in order; groups and domains apart */
	for (ib = 0, ia = 0; ib < b.n || ia < a.n;) {
		while (ib < b.n && (starts(&b.v[ib], "dev") ||
				    starts(&b.v[ib], "domain")))
			ib++;
		while (ia < a.n && (starts(&a.v[ia], "dev") ||
				    starts(&a.v[ia], "domain")))
			ia++;
		if (ib == b.n && ia == a.n)
			break;
		if (ia < a.n && starts(&a.v[ia], "group") &&
		    (ib == b.n || !starts(&b.v[ib], "group") ||
		     key_len(&b.v[ib]) != key_len(&a.v[ia]) ||
		     strncmp(b.v[ib].s, a.v[ia].s, key_len(&a.v[ia])))) {
			/* a new group: only devices that joined, unowned */
			char devs[4096], owner[8], cnt[16];

			field(&a.v[ia], "devs", devs, sizeof(devs));
			field(&a.v[ia], "owner", owner, sizeof(owner));
			field(&a.v[ia], "cnt", cnt, sizeof(cnt));
			if (strcmp(owner, "-") || strcmp(cnt, "0")) {
				bad = a.v[ia].s;
				goto out;
			}
			for (char *d = strtok(devs, ","); d;
			     d = strtok(NULL, ","))
				if (!joined(joined_devs, d, strlen(d))) {
					bad = a.v[ia].s;
					goto out;
				}
			ia++;
			continue;
		}
		if (ib == b.n || ia == a.n) {
			bad = ia < a.n ? a.v[ia].s : b.v[ib].s;
			goto out;
		}
		if (!same_stripped(&b.v[ib], &a.v[ia],
				   starts(&b.v[ib], "group") ? group_fields :
							       none)) {
			bad = a.v[ia].s;
			goto out;
		}
		ib++;
		ia++;
	}
out:
	free(b.v);
	free(a.v);
	return bad;
}

static void check_failed_write(struct machine *m, const char *before,
			       const char *after, const char *path, int ret)
{
	const struct machine_config *cfg = machine_get_config(m);
	char joined_devs[4096];
	const char *bad;

	if (!strcmp(before, after))
		return;
	if (cfg->iommu_api && cfg->firmware != FW_X86) {
		bad = fw_probe_diff(before, after, joined_devs,
				    sizeof(joined_devs));
		if (!bad)
			return;
		fuzz_fail("write to %s failed (%s) but changed the machine at '%.*s'\n--- before\n%s--- after\n%s",
			  path, errno_name(ret), (int)strcspn(bad, "\n"), bad,
			  before, after);
	}
	fuzz_fail("write to %s failed (%s) but changed the machine\n--- before\n%s--- after\n%s",
		  path, errno_name(ret), before, after);
}

/* Errors a write() to sysfs may return. */
static bool user_errno(int ret)
{
	static const int ok[] = { ENOENT, EACCES, EISDIR, ENOTDIR, EINVAL,
				  ENODEV, EBUSY, EEXIST, ENOMEM, EPERM,
				  ELOOP, ENOSPC, EAGAIN, ENXIO, E2BIG };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ret == -ok[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tables tabs[FUZZ_TABLES_MAX][2];
	static char big[SYSFS_WRITE_MAX + 32];
	struct tables *t;
	struct machine *m;
	size_t pos = 1;
	int nrec = 0;
	bool extra;
	unsigned int mi;

	if (size < 1)
		return 0;
	mi = (data[0] & 0x7f) % builtin_machine_count();
	extra = data[0] & 0x80;
	m = fuzz_machine(mi, extra);
	t = &tabs[mi % FUZZ_TABLES_MAX][extra];
	if (!t->ready)
		gather(m, t);
	while (pos + 3 <= size && nrec++ < FUZZ_RECORDS_MAX) {
		unsigned int idx = data[pos] | data[pos + 1] << 8;
		unsigned int spec = data[pos + 2];
		const char *path = t->paths.v[(idx & 0x7fff) % t->paths.n];
		char *before, *after, why[512];
		const char *val;
		size_t len;
		unsigned int bad;
		int ret;

		pos += 3;
		if (spec < 0x40) {
			len = spec;
			if (len > size - pos)
				len = size - pos;
			val = (const char *)data + pos;
			pos += len;
		} else if (spec < 0x80) {
			const char *w = pos < size ?
				t->words.v[data[pos++] % t->words.n] : "";

			len = (size_t)snprintf(big, sizeof(big), "%s%s", w,
					       spec & 1 ? "\n" : "");
			val = big;
		} else {
			len = SYSFS_WRITE_MAX - 8 + (spec & 0xf);
			memset(big, pos < size ? data[pos++] : 'x', len);
			val = big;
		}
		before = machine_serialize(m, NULL);
		if (!before)
			fuzz_fail("out of memory");
		if (idx & 0x8000) {
			char *buf = NULL;

			ret = sysfs_read(m, path, &buf);
			if (!ret && !buf)
				fuzz_fail("read of %s: no buffer", path);
			free(buf);
		} else {
			ret = sysfs_write(m, path, val, len);
		}
		if (ret > 0 || (ret && !user_errno(ret)))
			fuzz_fail("%s of %s gave %d (%s)",
				  idx & 0x8000 ? "read" : "write", path, ret,
				  errno_name(ret));
		bad = machine_check_invariants(m, INV_ISOLATION |
						  INV_ACCOUNTING |
						  INV_DOMAINS | INV_NO_WARN,
					       why, sizeof(why));
		if (bad)
			fuzz_fail("after %s of '%.*s' to %s: %s: %s",
				  idx & 0x8000 ? "a read" : "a write",
				  (int)(len > 80 ? 80 : len), val, path,
				  check_invariant_name(bad & -bad), why);
		after = machine_serialize(m, NULL);
		if (!after)
			fuzz_fail("out of memory");
		if (idx & 0x8000) {
			if (strcmp(before, after))
				fuzz_fail("a read of %s changed the machine",
					  path);
		} else if (ret) {
			check_failed_write(m, before, after, path, ret);
		}
		free(before);
		free(after);
	}
	machine_destroy(m);
	return 0;
}
