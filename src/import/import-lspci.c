// SPDX-License-Identifier: MIT
/*
 * lspci output as users post it: "lspci -vvv -nn" text (also -vv, -v),
 * with or without hex dumps (-x, -xxx, -xxxx). The text gives what config
 * space cannot: the bound driver and the IOMMU group; the dumps give
 * config space, read through libpci's dump method as "lspci -F" does.
 * libpci's reader reports no lines, so the dumps are validated here first,
 * and every error names FILE:LINE.
 *
 * Without root, lspci prints "Capabilities: <access denied>": the port
 * type and ACS are then unknown, and taken as the worst case.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import/import.h"

#define LINE_MAX_BYTES 4096
#define INPUT_MAX (64u << 20)

/* What the text said of the device being read. */
struct text_state {
	struct imp_dev *d;
	int line;
	bool ids;		/* [vvvv:dddd] on the device line */
	bool caps_denied, caps_seen, ext_seen, express;
	bool acs_seen, acs_cap_seen, acs_ctl_seen;
	size_t next_off;	/* next hex dump offset expected */
	bool in_acs;		/* the lines after the ACS capability */
	bool in_sriov;		/* the lines after the SR-IOV capability */
	bool sriov_vfe;		/* its IOVCtl showed Enable+ */
};

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* @n hex digits at @s; false if any is not */
static bool hexn(const char *s, int n, unsigned int *ret)
{
	unsigned int v = 0;

	for (int i = 0; i < n; i++) {
		if (hexv(s[i]) < 0)
			return false;
		v = v << 4 | (unsigned int)hexv(s[i]);
	}
	*ret = v;
	return true;
}

/* "[DDDD:]BB:DD.F " at the start of @s: a device line */
static bool parse_bdf(const char *s, unsigned int *dom, unsigned int *bus,
		      unsigned int *dev, unsigned int *fn, size_t *len)
{
	size_t off = 0;

	*dom = 0;
	if (hexn(s, 4, dom) && s[4] == ':')
		off = 5;
	if (!hexn(s + off, 2, bus) || s[off + 2] != ':' ||
	    !hexn(s + off + 3, 2, dev) || s[off + 5] != '.' ||
	    s[off + 6] < '0' || s[off + 6] > '7' || s[off + 7] != ' ' ||
	    *dev > 0x1f)
		return false;
	*fn = (unsigned int)(s[off + 6] - '0');
	*len = off + 8;
	return true;
}

/* The last "[hhhh:hhhh]" in @s */
static bool last_ids(const char *s, unsigned int *v, unsigned int *d)
{
	const char *found = NULL;

	for (const char *p = strchr(s, '['); p; p = strchr(p + 1, '['))
		if (strlen(p) >= 11 && p[5] == ':' && p[10] == ']' &&
		    hexn(p + 1, 4, v) && hexn(p + 6, 4, d))
			found = p;
	return found && hexn(found + 1, 4, v) && hexn(found + 6, 4, d);
}

/* the class "[cccc]:" and the prog-if "(prog-if hh" of a device line */
static bool line_class(const char *s, unsigned int *class)
{
	const char *p, *pi;
	unsigned int cc, prog = 0;

	for (p = strchr(s, '['); p; p = strchr(p + 1, '['))
		if (strlen(p) >= 7 && p[5] == ']' && p[6] == ':' &&
		    hexn(p + 1, 4, &cc))
			break;
	if (!p)
		return false;
	pi = strstr(s, "(prog-if ");
	if (pi && !hexn(pi + 9, 2, &prog))
		prog = 0;
	*class = cc << 8 | prog;
	return true;
}

static const struct {
	const char *name;
	enum imp_type type;
} express_types[] = {
	/* longest first where one begins another */
	{ "Root Complex Integrated Endpoint", IMP_TYPE_RC_END },
	{ "Root Complex Event Collector", IMP_TYPE_RC_EC },
	{ "Legacy Endpoint", IMP_TYPE_LEGACY_ENDPOINT },
	{ "Endpoint", IMP_TYPE_ENDPOINT },
	{ "Root Port", IMP_TYPE_ROOT_PORT },
	{ "Upstream Port", IMP_TYPE_UPSTREAM },
	{ "Downstream Port", IMP_TYPE_DOWNSTREAM },
	{ "PCI-Express to PCI/PCI-X Bridge", IMP_TYPE_PCI_BRIDGE },
	{ "PCI/PCI-X to PCI-Express Bridge", IMP_TYPE_PCIE_BRIDGE },
};

/* lspci's names of the ACS bits, in bit order */
static const char *const acs_names[] = {
	"SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd",
	"EgressCtrl", "DirectTrans",
};

static int parse_acs_bits(const char *s, unsigned int *ret)
{
	unsigned int bits = 0, seen = 0;

	for (size_t i = 0; i < sizeof(acs_names) / sizeof(acs_names[0]); i++) {
		const char *p = strstr(s, acs_names[i]);
		char sign;

		if (!p)
			continue;
		sign = p[strlen(acs_names[i])];
		if (sign != '+' && sign != '-')
			return -EINVAL;
		seen |= 1u << i;
		if (sign == '+')
			bits |= 1u << i;
	}
	if (!seen)
		return -EINVAL;
	*ret = bits;
	return 0;
}

/* "Capabilities: [a0] Express (v2) Root Port (Slot+), MSI 00" */
static void text_capability(struct text_state *st, const char *s)
{
	unsigned int addr;
	const char *rest;

	st->in_acs = false;
	st->in_sriov = false;
	if (!strncmp(s, "<access denied>", 15)) {
		st->caps_denied = true;
		return;
	}
	if (s[0] != '[')
		return;
	st->caps_seen = true;
	/* [40], [100 v1] */
	if (hexn(s + 1, 3, &addr) && (s[4] == ']' || s[4] == ' ')) {
		if (addr >= 0x100)
			st->ext_seen = true;
	}
	rest = strchr(s, ']');
	if (!rest || rest[1] != ' ')
		return;
	rest += 2;
	if (!strncmp(rest, "Express ", 8)) {
		rest += 8;
		if (rest[0] == '(') {
			rest = strchr(rest, ')');
			rest = rest ? rest + 1 : "";
			while (*rest == ' ')
				rest++;
		}
		st->express = true;
		st->d->type = IMP_TYPE_UNKNOWN;
		for (size_t i = 0; i < sizeof(express_types) / sizeof(express_types[0]); i++)
			if (!strncmp(rest, express_types[i].name,
				     strlen(express_types[i].name))) {
				st->d->type = express_types[i].type;
				break;
			}
	} else if (!strncmp(rest, "Access Control Services", 23)) {
		st->acs_seen = true;
		st->in_acs = true;
	} else if (strstr(rest, "(SR-IOV)")) {
		st->in_sriov = true;
	} else if (!strcmp(rest, "Hot-plug capable")) {
		st->d->shpc = true; /* an SHPC: lspci's name for it */
	}
}

/*
 * The SR-IOV capability's lines, as lspci -vv prints them:
 *	IOVCtl:	Enable+ Migration- ...
 *	Initial VFs: 64, Total VFs: 64, Number of VFs: 2, Function ...
 *	VF offset: 16, stride: 1, Device ID: 154c
 * 1 taken, 0 not one of them, -1 one of them malformed.
 */
static int text_sriov(struct text_state *st, const char *s)
{
	struct imp_dev *d = st->d;
	unsigned int total, num, off, stride, did;
	const char *p;

	if (!strncmp(s, "IOVCtl:", 7)) {
		st->sriov_vfe = strstr(s, "Enable+") != NULL;
		return 1;
	}
	if (!strncmp(s, "Initial VFs:", 12)) {
		p = strstr(s, "Total VFs:");
		if (!p || sscanf(p, "Total VFs: %u, Number of VFs: %u",
				 &total, &num) != 2 || total > 0xffff ||
		    num > total)
			return -1;
		d->sriov_total = total;
		d->sriov_enabled = st->sriov_vfe ? num : 0;
		return 1;
	}
	if (!strncmp(s, "VF offset:", 10)) {
		if (sscanf(s, "VF offset: %u, stride: %u, Device ID: %x", &off,
			   &stride, &did) != 3 || off > 0xffff ||
		    stride > 0xffff || did > 0xffff)
			return -1;
		d->sriov_offset = off;
		d->sriov_stride = stride;
		d->sriov_vf_device = did;
		return 1;
	}
	return 0;
}

/* The device's text is all read: what it says, and what it cannot. */
static void text_finish(struct text_state *st)
{
	struct imp_dev *d = st->d;

	if (!d || d->cfg_len)
		return;	/* a dump: libpci reads config space instead */
	if (st->caps_denied) {
		d->type = IMP_TYPE_UNKNOWN;
		d->acs = IMP_ACS_UNKNOWN;
		d->acs_why = "lspci showed 'Capabilities: <access denied>' (run it as root)";
	} else if (!st->express) {
		d->type = IMP_TYPE_CONVENTIONAL;
		d->acs = IMP_ACS_ABSENT;
	} else if (st->acs_seen && st->acs_cap_seen && st->acs_ctl_seen) {
		d->acs = IMP_ACS_PRESENT;
	} else if (st->acs_seen) {
		d->acs = IMP_ACS_UNKNOWN;
		d->acs_why = "the ACS capability's ACSCap/ACSCtl lines are missing (lspci -vv shows them)";
	} else if (st->ext_seen) {
		d->acs = IMP_ACS_ABSENT;
	} else {
		d->acs = IMP_ACS_UNKNOWN;
		d->acs_why = "no extended capabilities shown (lspci -vvv as root shows them)";
	}
}

static int parse_text_line(struct imp_machine *im, struct text_state *st,
			   const char *path, int ln, const char *s,
			   struct imp_error *err)
{
	size_t indent = strspn(s, " \t");
	unsigned int v;

	/*
	 * lspci indents with tabs; text pasted through a web page or a mail
	 * may have spaces instead, so only the content decides what a line
	 * is, and any indentation will do.
	 */
	s += indent;
	if (!st->d || !indent)
		return 0;	/* text outside a device: headers, notes */
	if (st->in_acs && (!strncmp(s, "ACSCap:", 7) ||
			   !strncmp(s, "ACSCtl:", 7))) {
		if (!strncmp(s, "ACSCap:", 7)) {
			if (parse_acs_bits(s + 7, &st->d->acs_cap))
				return imp_error(err, "%s:%d: expected ACS bits like 'SrcValid+ ReqRedir-' after 'ACSCap:'",
						 path, ln);
			st->acs_cap_seen = true;
		} else if (!strncmp(s, "ACSCtl:", 7)) {
			if (parse_acs_bits(s + 7, &st->d->acs_ctl))
				return imp_error(err, "%s:%d: expected ACS bits like 'SrcValid+ ReqRedir-' after 'ACSCtl:'",
						 path, ln);
			st->acs_ctl_seen = true;
		}
		return 0;
	}
	if (st->in_sriov) {
		int r = text_sriov(st, s);

		if (r < 0)
			return imp_error(err, "%s:%d: expected the SR-IOV capability's line as lspci -vv prints it ('Initial VFs: 64, Total VFs: 64, Number of VFs: 0, ...' or 'VF offset: 16, stride: 1, Device ID: 154c')",
					 path, ln);
		if (r)
			return 0;
	}
	if (!strncmp(s, "Subsystem: ", 11)) {
		if (last_ids(s, &st->d->subvendor, &st->d->subdevice))
			return 0;
		return imp_error(err, "%s:%d: expected subsystem ids like [1462:7b17] (take lspci with -nn)",
				 path, ln);
	}
	if (!strncmp(s, "Bus: primary=", 13)) {
		const char *sec = strstr(s, "secondary=");

		if (!sec || !hexn(sec + 10, 2, &v))
			return imp_error(err, "%s:%d: expected 'secondary=NN' in the Bus: line",
					 path, ln);
		st->d->bridge = true;
		st->d->secondary = (int)v;
		return 0;
	}
	if (!strncmp(s, "Capabilities: ", 14)) {
		text_capability(st, s + 14);
		return 0;
	}
	st->in_acs = false;
	if (!strncmp(s, "Kernel driver in use: ", 22)) {
		snprintf(st->d->driver, sizeof(st->d->driver), "%s", s + 22);
		return 0;
	}
	if (!strncmp(s, "IOMMU group: ", 13)) {
		char *end;
		long g = strtol(s + 13, &end, 10);

		if (end == s + 13 || *end || g < 0 || g > 1000000)
			return imp_error(err, "%s:%d: expected a group number after 'IOMMU group:'",
					 path, ln);
		st->d->group = (int)g;
		/* lspci does not name the IOMMU: one stands for them all */
		snprintf(st->d->iommu, sizeof(st->d->iommu), "iommu0");
		im->groups_known = true;
		return 0;
	}
	return 0;
}

/*
 * "40: 09 50 10 01 ...": the next 16 bytes of the device's dump, as
 * lspci -x prints them. libpci would take less (it stops at the first
 * thing that is not a byte), so anything else is an error here.
 */
static int parse_hex_line(struct text_state *st, const char *path, int ln,
			  const char *s, size_t colon, struct imp_error *err)
{
	unsigned int off, byte;
	const char *p = s + colon + 1;

	if (!st->d)
		return imp_error(err, "%s:%d: hex dump line outside a device (a device line like '00:1f.0 ...' comes first)",
				 path, ln);
	if (!hexn(s, (int)colon, &off))
		return imp_error(err, "%s:%d: expected a hex offset before ':'",
				 path, ln);
	if (off != st->next_off)
		return imp_error(err, "%s:%d: expected config offset %02zx, got %.*s",
				 path, ln, st->next_off, (int)colon, s);
	if (off >= 4096)
		return imp_error(err, "%s:%d: config offset %x is past 4096 bytes",
				 path, ln, off);
	for (int i = 0; i < 16; i++) {
		if (p[0] != ' ' || !hexn(p + 1, 2, &byte))
			return imp_error(err, "%s:%d: expected 16 hex bytes after '%.*s:', like lspci -x prints",
					 path, ln, (int)colon, s);
		p += 3;
	}
	while (*p == ' ')
		p++;
	if (*p)
		return imp_error(err, "%s:%d: unexpected text after 16 hex bytes",
				 path, ln);
	st->next_off += 16;
	st->d->cfg_len = st->next_off;
	return 0;
}

static int end_device(struct text_state *st, const char *path,
		      struct imp_error *err)
{
	if (!st->d)
		return 0;
	if (st->next_off && st->next_off < 64)
		return imp_error(err, "%s:%d: the hex dump of %02x:%02x.%x stops at %zu bytes; lspci -x prints the 64-byte header at least",
				 path, st->line, st->d->bus, st->d->dev,
				 st->d->fn, st->next_off);
	if (!st->next_off && !st->ids)
		return imp_error(err, "%s:%d: expected vendor:device ids like [8086:1901] on the device line (take lspci with -nn, or -x)",
				 path, st->line);
	text_finish(st);
	memset(st, 0, sizeof(*st));
	return 0;
}

static int parse_device_line(struct imp_machine *im, struct text_state *st,
			     const char *path, int ln, const char *s,
			     struct imp_error *err)
{
	unsigned int dom, bus, dev, fn;
	struct imp_dev *d;
	size_t len;
	char *end;

	if (!parse_bdf(s, &dom, &bus, &dev, &fn, &len))
		return 1;	/* not a device line */
	if (end_device(st, path, err))
		return -EINVAL;
	d = imp_dev_find(im, dom, bus, dev, fn);
	if (d)
		return imp_error(err, "%s:%d: device %04x:%02x:%02x.%x again (first at line %d)",
				 path, ln, dom, bus, dev, fn, d->line);
	d = imp_dev_new(im);
	if (!d)
		return imp_error(err, "%s:%d: out of memory", path, ln);
	d->domain = dom;
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->line = ln;
	st->d = d;
	st->line = ln;
	st->ids = last_ids(s + len, &d->vendor, &d->device);
	if (st->ids && !line_class(s + len, &d->class))
		return imp_error(err, "%s:%d: expected a class like [0604]: on the device line",
				 path, ln);
	end = strstr(s, "(rev ");
	if (end) {
		unsigned int rev;

		if (hexn(end + 5, 2, &rev))
			d->rev = rev;
	}
	return 0;
}

/* All of @f, at most INPUT_MAX bytes; NUL-terminated. */
static char *slurp(FILE *f, size_t *ret_len)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);

	while (buf) {
		size_t got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (len < cap)
			break;
		if (cap >= INPUT_MAX) {
			free(buf);
			errno = EFBIG;
			return NULL;
		}
		cap *= 2;
		char *more = realloc(buf, cap + 1);

		if (!more)
			free(buf);
		buf = more;
	}
	if (buf) {
		buf[len] = '\0';
		*ret_len = len;
	}
	return buf;
}

static int parse_all(struct imp_machine *im, const char *path, char *text,
		     size_t len, bool *ret_dump, struct imp_error *err)
{
	struct text_state st;
	char *s = text, *end = text + len;
	int ln = 0, ret;

	memset(&st, 0, sizeof(st));
	*ret_dump = false;
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		size_t colon;

		ln++;
		if (n > LINE_MAX_BYTES)
			return imp_error(err, "%s:%d: line longer than %d bytes",
					 path, ln, LINE_MAX_BYTES);
		if (memchr(s, '\0', n))
			return imp_error(err, "%s:%d: NUL byte in the text", path,
					 ln);
		s[n] = '\0';
		if (n && s[n - 1] == '\r')
			s[n - 1] = '\0';
		if (!*s) {
			if (end_device(&st, path, err))
				return -EINVAL;
		} else if ((ret = parse_device_line(im, &st, path, ln, s,
						    err)) <= 0) {
			if (ret)
				return ret;
		} else if ((colon = strspn(s, "0123456789abcdefABCDEF")) >= 2 &&
			   colon <= 3 && s[colon] == ':') {
			if (parse_hex_line(&st, path, ln, s, colon, err))
				return -EINVAL;
			*ret_dump = true;
		} else if (parse_text_line(im, &st, path, ln, s, err)) {
			return -EINVAL;
		}
		s += n + 1;
	}
	if (end_device(&st, path, err))
		return -EINVAL;
	if (!im->n)
		return imp_error(err, "%s:1: no PCI device lines like '00:1f.0 ISA bridge [0601]: ...' (the output of lspci -vvv -nn)",
				 path);
	return 0;
}

int imp_read_lspci(struct imp_machine *im, const char *path,
		   struct imp_error *err)
{
	bool stdin_in = !strcmp(path, "-");
	FILE *f = stdin_in ? stdin : fopen(path, "r");
	char tmpl[] = "/tmp/dmaown-import-XXXXXX";
	const char *dump = path;
	size_t len = 0;
	char *text, *copy;
	bool has_dump;
	int ret, fd = -1;

	if (!f)
		return imp_error(err, "%s: %s", path, strerror(errno));
	text = slurp(f, &len);
	if (!stdin_in)
		fclose(f);
	if (!text)
		return imp_error(err, "%s: %s", path,
				 errno == EFBIG ? "input larger than 64 MiB" :
						  "out of memory");
	/* parsing cuts lines in place; libpci may need the bytes again */
	copy = stdin_in ? malloc(len + 1) : NULL;
	if (copy)
		memcpy(copy, text, len + 1);
	im->source = stdin_in ? "<stdin>" : path;
	ret = parse_all(im, stdin_in ? "<stdin>" : path, text, len, &has_dump,
			err);
	if (!ret && has_dump && stdin_in) {
		/* the dump method reads a file by name */
		fd = copy ? mkstemp(tmpl) : -1;
		if (fd < 0 || write(fd, copy, len) != (ssize_t)len)
			ret = imp_error(err, "<stdin>: cannot keep a copy for libpci: %s",
					strerror(errno ? errno : ENOMEM));
		dump = tmpl;
	}
	if (!ret && has_dump)
		ret = imp_libpci_read(im, dump, NULL, err);
	if (!ret)
		imp_sriov_finish(im);
	if (fd >= 0) {
		close(fd);
		unlink(tmpl);
	}
	free(copy);
	free(text);
	return ret;
}
