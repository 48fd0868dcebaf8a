// SPDX-License-Identifier: MIT
/*
 * Machine description files (docs/topology.md): read a description, check
 * all of it, then build the machine and boot it the way the kernel would:
 * IOMMU drivers register, devices are added in file order, drivers load in
 * file order and bind what they match.
 *
 * Parsing fills a struct topo, a plain description with no library object
 * in it; nothing is built until the whole text has been accepted, so a
 * malformed file never leaves a half-built machine behind. Every error names
 * the line and column of the token at fault.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "dmaown/topology.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"
#include "topology/topology-priv.h"
#include "userspace/modprobe.h"

/* Limits on what a description may ask for. */
#define TOPO_LINE_MAX 4096
#define TOPO_DEVICES_MAX 262144
#define TOPO_IOMMUS_MAX 64
#define TOPO_LABEL_MAX 63
#define TOPO_TOKENS_MAX (TOPO_LINE_MAX / 2 + 1)
#define TOPO_QUOTE_MAX 40	/* longer tokens are quoted cut, with "..." */
/* A bare rmrr's range: 0x3e000000-0x3e1fffff. */
#define TOPO_RMRR_START 0x3e000000ULL
#define TOPO_RMRR_LENGTH 0x200000ULL

/* The library's own limits on names (NUL included). */
#define COMPAT_SIZE sizeof(((struct dev_ids *)0)->compatible)
#define MC_TYPE_SIZE sizeof(((struct dev_ids *)0)->mc_type)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- names to indexes (device names, group labels) ---- */

/*
 * The compat strmap with keys of its own (the parser's tokens are
 * transient) and int values, stored off by one since NULL means absent.
 */
static int names_get(const struct strmap *map, const char *key)
{
	return (int)(intptr_t)strmap_get(map, key) - 1;
}

/* Add @key, which must not be present yet. */
static int names_put(struct strmap *map, const char *key, int val)
{
	char *copy = strdup(key);
	int ret;

	if (!copy)
		return -ENOMEM;
	ret = strmap_put(map, copy, (void *)(intptr_t)(val + 1));
	if (ret)
		free(copy);
	return ret;
}

static void names_free(struct strmap *map)
{
	for (size_t i = 0; i < map->cap; i++)
		free((char *)map->keys[i]);
	strmap_free(map);
}

/* ---- the description ---- */

enum topo_arch {
	TOPO_ARCH_ANY,		/* no arch statement */
	TOPO_ARCH_X86_64,
	TOPO_ARCH_ARM64,
};

/* Where a statement or value was written, for errors found later. */
struct topo_pos {
	int line, col;
};

struct topo_iommu {
	char name[IOMMU_NAME_MAX];
	unsigned int types;	/* IOMMU_DOMAIN_* for iommu_device_alloc() */
	bool late;		/* registered later by a script */
	bool msi_isolated;
	struct topo_pos at;	/* the name */
	int kind;		/* enum iommu_kind; -1: firmware's default */
	struct topo_pos kind_at;	/* the value of kind= */
	bool resv_set;		/* resv= given */
	unsigned int nr_resv;
	struct iommu_resv_region resv[IOMMU_RESV_REGIONS_MAX];
};

struct topo_dev {
	char name[DEVICE_NAME_MAX];
	enum bus_kind bus;
	int parent;		/* index in topo::devs; -1: none */
	int iommu;		/* index in topo::iommus; -1: none */
	unsigned int group_key;	/* 0: a group of its own */
	int group_col;		/* column of group=, 0: none */
	unsigned int vendor, device, subvendor, subdevice, class;
	unsigned int hdr_type, pcie_type;
	char compatible[COMPAT_SIZE];
	unsigned int periphid;
	char mc_type[MC_TYPE_SIZE];
	bool untrusted, absent;
	unsigned int reset;	/* reset=: 1 << PCI_RESET_METHOD_* */
	bool no_bus_reset;
	/* ACS: enum pci_acs_state, the words (ctrl -1: as the kernel sets) */
	unsigned int acs, acs_cap;
	int acs_ctrl;
	int acs_ctrl_col;	/* column of acs-ctl=, 0: none */
	bool multifunction;
	bool shpc;
	uint64_t dma_alias[4];	/* dma-alias= devfns */
	/* SR-IOV: sriov-totalvfs= (0: not a PF), vf-offset=, vf-stride=,
	 * vf-device= */
	unsigned int sriov_total, sriov_offset, sriov_stride, sriov_vf_device;
	int sriov_col;		/* column of sriov-totalvfs= */
	unsigned int nr_sids;	/* stream-id= */
	unsigned int sids[DEVICE_STREAM_IDS_MAX];
	struct topo_pos at;	/* the name */
	unsigned int nr_direct;	/* rmrr ranges */
	struct {
		uint64_t start, length;
	} direct[DEVICE_DIRECT_REGIONS_MAX];
};

struct topo_driver {
	const struct driver_desc *desc;
	char *params;		/* "ids=... enable_sriov=N", ... or NULL */
	struct topo_pos at;	/* the name */
};

#define TOPO_STMTS_MAX 24

struct topo {
	char name[MACHINE_NAME_MAX];
	struct topo_pos machine_at;
	struct machine_config cfg;
	bool vfio_noiommu;
	bool iommufd_unsafe_irqs;
	/* the values of vfio-noiommu and iommufd-unsafe-interrupts */
	struct topo_pos vfio_noiommu_at, iommufd_unsafe_at;
	unsigned int faults;		/* enum machine_fault, from boot */
	enum topo_arch arch;
	struct topo_pos arch_at, firmware_at;	/* the values */
	int seen[TOPO_STMTS_MAX];	/* line of each once-only statement */

	struct topo_iommu iommus[TOPO_IOMMUS_MAX];
	size_t niommus;
	struct topo_dev *devs;
	size_t ndevs, devs_cap;
	struct topo_driver *drivers;
	size_t ndrivers, drivers_cap;

	/* groups labels|computed|check: where PCI groups come from */
	unsigned int groups;
	struct topo_pos groups_at;	/* the value */

	struct strmap dev_names;	/* name -> index in devs */
	struct strmap labels;		/* group label -> group key */
	struct modprobe_conf *modprobe;	/* 'modprobe.d' lines, NULL none */
};

static void topo_free(struct topo *t)
{
	for (size_t i = 0; i < t->ndrivers; i++)
		free(t->drivers[i].params);
	free(t->drivers);
	free(t->devs);
	modprobe_conf_put(t->modprobe);
	names_free(&t->dev_names);
	names_free(&t->labels);
}

/* ---- the parser ---- */

/* A token of the current line: NUL-terminated in parser::buf. */
struct tok {
	const char *s;
	size_t len;
	int col;
};

struct parser {
	struct topo_error e;
	int line;
	char buf[TOPO_LINE_MAX + 1];
	struct tok toks[TOPO_TOKENS_MAX];
	size_t ntoks;
	int eol_col;		/* the column just after the last token */
	struct topo t;
};

/* "'TOKEN'" in messages, cut to TOPO_QUOTE_MAX bytes. */
#define QF "'%.*s%s'"
#define QA(tok) quote_len((tok)->len), (tok)->s, quote_more((tok)->len)

static int quote_len(size_t len)
{
	return (int)(len > TOPO_QUOTE_MAX ? TOPO_QUOTE_MAX : len);
}

static const char *quote_more(size_t len)
{
	return len > TOPO_QUOTE_MAX ? "..." : "";
}

static int vfail(struct parser *p, int line, int col, const char *fmt,
		 va_list ap) __printf(4, 0);

static int vfail(struct parser *p, int line, int col, const char *fmt,
		 va_list ap)
{
	p->e.line = line;
	p->e.col = col;
	vsnprintf(p->e.msg, sizeof(p->e.msg), fmt, ap);
	return -EINVAL;
}

/* Record an error at @line:@col; returns -EINVAL. */
static int fail_at(struct parser *p, int line, int col, const char *fmt, ...)
	__printf(4, 5);

static int fail_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(p, line, col, fmt, ap);
	va_end(ap);
	return ret;
}

/* Record an error at column @col of the current line; returns -EINVAL. */
static int perr(struct parser *p, int col, const char *fmt, ...) __printf(3, 4);

static int perr(struct parser *p, int col, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(p, p->line, col, fmt, ap);
	va_end(ap);
	return ret;
}

static bool tok_is(const struct tok *tok, const char *s)
{
	return strlen(s) == tok->len && !memcmp(tok->s, s, tok->len);
}

/* ---- value syntax ---- */

/* A keyword value and what it stands for; a NULL name ends a table. */
struct choice {
	const char *name;
	unsigned int value;
};

static const struct choice arch_choices[] = {
	{ "x86_64", TOPO_ARCH_X86_64 },
	{ "arm64", TOPO_ARCH_ARM64 },
	{ NULL, 0 },
};

static const struct choice firmware_choices[] = {
	{ "x86", FW_X86 },
	{ "acpi-iort", FW_ACPI_IORT },
	{ "devicetree", FW_DEVICETREE },
	{ NULL, 0 },
};

static const struct choice yesno_choices[] = {
	{ "yes", 1 },
	{ "no", 0 },
	{ NULL, 0 },
};

static const struct choice def_domain_choices[] = {
	{ "DMA", IOMMU_DOMAIN_DMA },
	{ "DMA-FQ", IOMMU_DOMAIN_DMA_FQ },
	{ "identity", IOMMU_DOMAIN_IDENTITY },
	{ NULL, 0 },
};

static const struct choice domain_type_choices[] = {
	{ "blocked", IOMMU_DOMAIN_BLOCKED },
	{ "identity", IOMMU_DOMAIN_IDENTITY },
	{ "dma", IOMMU_DOMAIN_DMA },
	{ "dma-fq", IOMMU_DOMAIN_DMA_FQ },
	{ "unmanaged", IOMMU_DOMAIN_UNMANAGED },
	{ NULL, 0 },
};

static const struct choice iommu_kind_choices[] = {
	{ "intel", IOMMU_KIND_INTEL },
	{ "amd", IOMMU_KIND_AMD },
	{ "arm-smmu-v3", IOMMU_KIND_ARM_SMMU_V3 },
	{ "arm-smmu", IOMMU_KIND_ARM_SMMU },
	{ NULL, 0 },
};

static const struct choice resv_type_choices[] = {
	{ "direct", IOMMU_RESV_DIRECT },
	{ "direct-relaxable", IOMMU_RESV_DIRECT_RELAXABLE },
	{ "reserved", IOMMU_RESV_RESERVED },
	{ "msi", IOMMU_RESV_MSI },
	{ "sw-msi", IOMMU_RESV_SW_MSI },
	{ NULL, 0 },
};

/* a function's own reset methods; "bus" comes from where it sits */
static const struct choice pci_reset_choices[] = {
	{ "device_specific", PCI_RESET_METHOD_DEVICE_SPECIFIC },
	{ "acpi", PCI_RESET_METHOD_ACPI },
	{ "flr", PCI_RESET_METHOD_FLR },
	{ "af_flr", PCI_RESET_METHOD_AF_FLR },
	{ "pm", PCI_RESET_METHOD_PM },
	{ NULL, 0 },
};

enum topo_groups {
	TOPO_GROUPS_LABELS,	/* group= labels, as written */
	TOPO_GROUPS_COMPUTED,	/* PCI: pci_device_group() */
	TOPO_GROUPS_CHECK,	/* computed, and PCI labels must agree */
};

static const struct choice groups_choices[] = {
	{ "labels", TOPO_GROUPS_LABELS },
	{ "computed", TOPO_GROUPS_COMPUTED },
	{ "check", TOPO_GROUPS_CHECK },
	{ NULL, 0 },
};

/* ACS capability and control bits, lowercase as lspci's abbreviations */
static const struct choice acs_bit_choices[] = {
	{ "sv", PCI_ACS_SV },
	{ "tb", PCI_ACS_TB },
	{ "rr", PCI_ACS_RR },
	{ "cr", PCI_ACS_CR },
	{ "uf", PCI_ACS_UF },
	{ "ec", PCI_ACS_EC },
	{ "dt", PCI_ACS_DT },
	{ NULL, 0 },
};

static const struct choice msi_choices[] = {
	{ "isolated", 1 },
	{ "unisolated", 0 },
	{ NULL, 0 },
};

static const struct choice pci_type_choices[] = {
	{ "endpoint", PCI_EXP_TYPE_ENDPOINT },
	{ "root-port", PCI_EXP_TYPE_ROOT_PORT },
	{ "upstream", PCI_EXP_TYPE_UPSTREAM },
	{ "downstream", PCI_EXP_TYPE_DOWNSTREAM },
	{ "pci-bridge", PCI_EXP_TYPE_PCI_BRIDGE },
	{ "rc-endpoint", PCI_EXP_TYPE_RC_END },
	{ "conventional", PCI_EXP_TYPE_NONE },
	{ NULL, 0 },
};

/*
 * Append @name@suffix to the list in @buf ("a, b or c"): @last says it
 * ends the list. @len is the length so far (0 with an empty @buf).
 */
static void names_add(char *buf, size_t size, size_t *len, const char *name,
		     const char *suffix, bool last)
{
	int n;

	if (*len >= size)
		return;
	n = snprintf(buf + *len, size - *len, "%s%s%s",
		     !*len ? "" : last ? " or " : ", ", name, suffix);
	if (n > 0)
		*len += (size_t)n;
}

static void choice_list(const struct choice *c, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; c->name; c++)
		names_add(buf, size, &len, c->name, "", !c[1].name);
}

/* @v must be one of @c; @where ends the message ("after 'arch'"). */
static int parse_choice(struct parser *p, const struct choice *c,
			const struct tok *v, const char *where,
			unsigned int *ret)
{
	char list[160];

	for (const struct choice *i = c; i->name; i++) {
		if (tok_is(v, i->name)) {
			*ret = i->value;
			return 0;
		}
	}
	choice_list(c, list, sizeof(list));
	return perr(p, v->col, "expected %s %s, got " QF, list, where, QA(v));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly @n hex digits at @s. */
static bool hex_exact(const char *s, size_t n, unsigned int *ret)
{
	unsigned int v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (unsigned int)d;
	}
	*ret = v;
	return true;
}

/* "VVVV:DDDD" */
static bool parse_id_pair(const struct tok *v, unsigned int *ret_vendor,
			  unsigned int *ret_device)
{
	unsigned int vendor, device;

	if (v->len != 9 || v->s[4] != ':' || !hex_exact(v->s, 4, &vendor) ||
	    !hex_exact(v->s + 5, 4, &device))
		return false;
	*ret_vendor = vendor;
	*ret_device = device;
	return true;
}

/*
 * "DDDD:BB:DD.F" (domain, bus, device 00-1f, function 0-7), written to
 * @name in the kernel's lowercase form.
 */
static bool parse_bdf(const struct tok *v, char name[DEVICE_NAME_MAX])
{
	unsigned int domain, bus, dev, fn;

	if (v->len != 12 || v->s[4] != ':' || v->s[7] != ':' ||
	    v->s[10] != '.' || !hex_exact(v->s, 4, &domain) ||
	    !hex_exact(v->s + 5, 2, &bus) || !hex_exact(v->s + 8, 2, &dev) ||
	    !hex_exact(v->s + 11, 1, &fn) || dev > 0x1f || fn > 7)
		return false;
	snprintf(name, DEVICE_NAME_MAX, "%04x:%02x:%02x.%x", domain, bus, dev,
		 fn);
	return true;
}

static int bad_bdf(struct parser *p, const struct tok *v)
{
	return perr(p, v->col,
		    "expected a PCI address like 0000:01:00.0, got " QF, QA(v));
}

/* "0x" and 1 to 16 hex digits: @n bytes at @s. */
static bool hex64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	for (size_t i = 2; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return true;
}

/*
 * "0xSTART-0xEND", an address range with its last address, as firmware
 * tables and the reserved_regions file give them.
 */
static int parse_range(struct parser *p, const struct tok *v,
		       uint64_t *ret_start, uint64_t *ret_length)
{
	const char *dash = memchr(v->s, '-', v->len);
	uint64_t start, end;

	if (!dash || !hex64(v->s, (size_t)(dash - v->s), &start) ||
	    !hex64(dash + 1, v->len - (size_t)(dash - v->s) - 1, &end))
		return perr(p, v->col,
			    "expected an address range like 0xfee00000-0xfeefffff, got " QF,
			    QA(v));
	if (end < start)
		return perr(p, v->col, "range " QF " ends before it starts",
			    QA(v));
	if (!start && end == UINT64_MAX)
		return perr(p, v->col, "range " QF " covers every address",
			    QA(v));
	*ret_start = start;
	*ret_length = end - start + 1;
	return 0;
}

/*
 * Call @fn for each comma-separated element of @v (an empty one too, which
 * @fn refuses), with the element's own column.
 */
static int for_each_elem(struct parser *p, const struct tok *v, void *obj,
			 int (*fn)(struct parser *p, void *obj,
				   const struct tok *elem))
{
	const char *s = v->s, *end = v->s + v->len;

	while (s <= end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		struct tok elem = { s, (size_t)((comma ? comma : end) - s),
				    v->col + (int)(s - v->s) };
		int ret = fn(p, obj, &elem);

		if (ret)
			return ret;
		s = elem.s + elem.len + 1;
	}
	return 0;
}

/*
 * The ids parameter of vfio-pci and pci-stub: comma-separated entries of
 * two to six colon-separated hex fields of 1-8 digits.
 */
static bool ids_param_ok(const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		int fields = 0;

		for (;;) {
			size_t digits = 0;

			while (s < end && hexval(*s) >= 0) {
				s++;
				digits++;
			}
			if (!digits || digits > 8)
				return false;
			fields++;
			if (s == end || *s != ':')
				break;
			s++;
		}
		if (fields < 2 || fields > 6)
			return false;
		if (s < end && *s++ != ',')
			return false;
		if (s == end && s[-1] == ',')
			return false;
	}
	return len > 0;
}

/* ---- options: key=value and flags after the positional arguments ---- */

struct opt {
	const char *name;
	const char *example;	/* NULL: a flag, which takes no value */
	/*
	 * @v: the value; a flag's own token; NULL for an option whose value
	 * is optional (opt_value_optional()) given bare
	 */
	int (*set)(struct parser *p, void *obj, const struct tok *v);
};

static int pci_opt_rmrr(struct parser *p, void *obj, const struct tok *v);

/* Options given bare or with a value: rmrr, rmrr=RANGES. */
static bool opt_value_optional(const struct opt *o)
{
	return o->set == pci_opt_rmrr;
}

#define OPTS_MAX 24

static void opt_list(const struct opt *o, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; o->name; o++)
		names_add(buf, size, &len, o->name,
			  o->example && !opt_value_optional(o) ? "=" : "",
			 !o[1].name);
}

/*
 * Parse tokens @first.. as options of @opts (NULL-name terminated) for
 * @obj. @cols receives the column of each option given (0: not given).
 */
static int parse_options(struct parser *p, size_t first,
			 const struct opt *opts, void *obj, int cols[OPTS_MAX])
{
	const char *stmt = p->toks[0].s;

	memset(cols, 0, OPTS_MAX * sizeof(*cols));
	for (size_t i = first; i < p->ntoks; i++) {
		const struct tok *tok = &p->toks[i];
		const char *eq = memchr(tok->s, '=', tok->len);
		struct tok key = { tok->s, eq ? (size_t)(eq - tok->s) : tok->len,
				   tok->col };
		const struct opt *o;
		struct tok v;
		size_t idx;
		int ret;

		for (o = opts; o->name && !tok_is(&key, o->name); o++)
			;
		if (!o->name) {
			char list[256];

			opt_list(opts, list, sizeof(list));
			return perr(p, tok->col,
				    "unknown option " QF " for %s; expected %s",
				    QA(&key), stmt, list);
		}
		idx = (size_t)(o - opts);
		if (cols[idx])
			return perr(p, tok->col,
				    "duplicate option '%s' (first at column %d)",
				    o->name, cols[idx]);
		if (o->example && !eq && !opt_value_optional(o))
			return perr(p, tok->col,
				    "option '%s' needs a value, e.g. %s=%s",
				    o->name, o->name, o->example);
		if (!o->example && eq)
			return perr(p, tok->col, "option '%s' takes no value",
				    o->name);
		cols[idx] = tok->col;
		v = *tok;
		if (eq) {
			v.s = eq + 1;
			v.len = tok->len - key.len - 1;
			v.col = tok->col + (int)key.len + 1;
			if (!v.len)
				return perr(p, v.col,
					    "option '%s' needs a value, e.g. %s=%s",
					    o->name, o->name, o->example);
		}
		ret = o->set(p, obj, o->example && !eq ? NULL : &v);
		if (ret)
			return ret;
	}
	return 0;
}

/* The column @name was given at, 0 if it was not. */
static int opt_col(const struct opt *opts, const int cols[OPTS_MAX],
		   const char *name)
{
	for (size_t i = 0; opts[i].name; i++)
		if (!strcmp(opts[i].name, name))
			return cols[i];
	return 0;
}

/* ---- positional arguments ---- */

/* Argument @i (the keyword is 0), or an error at the end of the line. */
static const struct tok *arg(struct parser *p, size_t i, const char *expect)
{
	if (i < p->ntoks)
		return &p->toks[i];
	perr(p, p->eol_col, "expected %s after " QF, expect,
	     QA(&p->toks[i - 1]));
	return NULL;
}

static int no_more_args(struct parser *p, size_t n)
{
	if (p->ntoks > n)
		return perr(p, p->toks[n].col, "unexpected extra argument " QF,
			    QA(&p->toks[n]));
	return 0;
}

/* A statement of one keyword argument from @c. */
static int one_choice(struct parser *p, const struct choice *c,
		      unsigned int *ret)
{
	char where[64];
	const struct tok *v;
	char list[160];

	choice_list(c, list, sizeof(list));
	v = arg(p, 1, list);
	if (!v)
		return -EINVAL;
	snprintf(where, sizeof(where), "after '%s'", p->toks[0].s);
	if (parse_choice(p, c, v, where, ret))
		return -EINVAL;
	return no_more_args(p, 2);
}

/* ---- machine-wide statements ---- */

/*
 * Rows of stmts[] at fixed indexes: topo::seen[STMT_MACHINE] says whether
 * the machine statement, which every other statement must follow, has been
 * read.
 */
enum {
	STMT_FORMAT,
	STMT_MACHINE,
};

/*
 * "format 1": the version of the format the file is written in, so that a
 * file written for a later dmaown is refused rather than misread. Optional
 * (absent: format 1), and only as the very first statement.
 */
static int stmt_format(struct parser *p)
{
	const struct tok *v;
	unsigned long n = 0;
	bool number;

	if (p->t.seen[STMT_MACHINE])
		return perr(p, p->toks[0].col,
			    "'format' must be the first statement, before 'machine' at line %d",
			    p->t.seen[STMT_MACHINE]);
	v = arg(p, 1, "a format number like 1");
	if (!v)
		return -EINVAL;
	/* decimal, from 1 up, without leading zeros; n stops growing at 1e6 */
	number = v->s[0] >= '1' && v->s[0] <= '9';
	for (size_t i = 0; number && i < v->len; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			number = false;
		else if (n < 1000000)
			n = n * 10 + (unsigned long)(v->s[i] - '0');
	}
	if (!number)
		return perr(p, v->col,
			    "expected a format number like 1 after 'format', got " QF,
			    QA(v));
	if (n > TOPOLOGY_FORMAT_VERSION)
		return perr(p, v->col,
			    "machine format %.*s%s is newer than this dmaown reads (%d)",
			    QA(v), TOPOLOGY_FORMAT_VERSION);
	return no_more_args(p, 2);
}

static int stmt_machine(struct parser *p)
{
	const struct tok *v = arg(p, 1, "a machine name");

	if (!v)
		return -EINVAL;
	if (v->len >= MACHINE_NAME_MAX)
		return perr(p, v->col,
			    "machine name " QF " is longer than %d bytes",
			    QA(v), MACHINE_NAME_MAX - 1);
	memcpy(p->t.name, v->s, v->len + 1);
	p->t.machine_at = (struct topo_pos){ p->line, p->toks[0].col };
	return no_more_args(p, 2);
}

static int stmt_description(struct parser *p)
{
	/* The text is for readers and for builtin_machine_summary(). */
	return arg(p, 1, "a one-line description") ? 0 : -EINVAL;
}

static int stmt_arch(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, arch_choices, &v))
		return -EINVAL;
	p->t.arch = (enum topo_arch)v;
	p->t.arch_at = (struct topo_pos){ p->line, p->toks[1].col };
	return 0;
}

static int stmt_firmware(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, firmware_choices, &v))
		return -EINVAL;
	p->t.cfg.firmware = (enum machine_firmware)v;
	p->t.firmware_at = (struct topo_pos){ p->line, p->toks[1].col };
	return 0;
}

static int stmt_iommu_api(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, yesno_choices, &v))
		return -EINVAL;
	p->t.cfg.iommu_api = v;
	return 0;
}

static int stmt_default_domain(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, def_domain_choices, &v))
		return -EINVAL;
	p->t.cfg.def_domain_type = v;
	return 0;
}

static int stmt_vfio_noiommu(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, yesno_choices, &v))
		return -EINVAL;
	p->t.vfio_noiommu = v;
	p->t.vfio_noiommu_at = (struct topo_pos){ p->line, p->toks[1].col };
	return 0;
}

static int stmt_iommufd_unsafe(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, yesno_choices, &v))
		return -EINVAL;
	p->t.iommufd_unsafe_irqs = v;
	p->t.iommufd_unsafe_at = (struct topo_pos){ p->line, p->toks[1].col };
	return 0;
}

static int stmt_groups(struct parser *p)
{
	if (one_choice(p, groups_choices, &p->t.groups))
		return -EINVAL;
	p->t.groups_at = (struct topo_pos){ p->line, p->toks[1].col };
	p->t.cfg.pci_groups_computed = p->t.groups != TOPO_GROUPS_LABELS;
	return 0;
}

static int stmt_acs_request(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, yesno_choices, &v))
		return -EINVAL;
	p->t.cfg.acs_request = v ? MACHINE_ACS_REQUEST_YES :
				   MACHINE_ACS_REQUEST_NO;
	return 0;
}

/* One element of pcie-acs-override: downstream, multifunction, id:V:D. */
static int acs_override_elem(struct parser *p, void *obj, const struct tok *v)
{
	struct pcie_acs_override *o = obj;
	unsigned int vendor, device;

	if (tok_is(v, "downstream")) {
		o->downstream = true;
		return 0;
	}
	if (tok_is(v, "multifunction")) {
		o->multifunction = true;
		return 0;
	}
	if (v->len == 12 && !memcmp(v->s, "id:", 3)) {
		struct tok ids = { v->s + 3, 9, v->col + 3 };

		if (parse_id_pair(&ids, &vendor, &device)) {
			if (o->nr_ids == PCIE_ACS_OVERRIDE_IDS_MAX)
				return perr(p, v->col,
					    "too many ids (the limit is %d)",
					    PCIE_ACS_OVERRIDE_IDS_MAX);
			o->ids[o->nr_ids++] = vendor << 16 | device;
			return 0;
		}
	}
	return perr(p, v->col,
		    "expected downstream, multifunction or id:VVVV:DDDD in pcie-acs-override, got " QF,
		    QA(v));
}

/*
 * "pcie-acs-override downstream,multifunction,id:8086:1234": the
 * out-of-tree kernel option, as its patch reads it.
 */
static int stmt_acs_override(struct parser *p)
{
	const struct tok *v = arg(p, 1, "downstream, multifunction or id:VVVV:DDDD");

	if (!v || for_each_elem(p, v, &p->t.cfg.acs_override,
				acs_override_elem))
		return -EINVAL;
	return no_more_args(p, 2);
}

/* "fault v7-order": a planted fault, in force from boot. */
static int stmt_fault(struct parser *p)
{
	const struct tok *v = arg(p, 1, "a fault name");
	unsigned int fault;

	if (!v)
		return -EINVAL;
	fault = machine_fault_from_name(v->s);
	if (!fault) {
		char list[160] = "";
		size_t len = 0;
		const char *name;

		for (unsigned int f = 1; f && (name = machine_fault_name(f));
		     f <<= 1)
			names_add(list, sizeof(list), &len, name, "",
				 !machine_fault_name(f << 1));
		return perr(p, v->col, "unknown fault " QF "; expected %s",
			    QA(v), list);
	}
	if (p->t.faults & fault)
		return perr(p, v->col, "duplicate fault " QF, QA(v));
	p->t.faults |= fault;
	return no_more_args(p, 2);
}

/* ---- iommu ---- */

static int iommu_opt_types(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_iommu *ti = obj;
	const char *s = v->s, *end = v->s + v->len;

	ti->types = 0;
	while (s <= end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		struct tok elem = { s, (size_t)((comma ? comma : end) - s),
				    v->col + (int)(s - v->s) };
		unsigned int type;

		if (parse_choice(p, domain_type_choices, &elem, "in types=",
				 &type))
			return -EINVAL;
		ti->types |= type;
		s = elem.s + elem.len + 1;
	}
	return 0;
}

static int iommu_opt_late(struct parser *p, void *obj, const struct tok *v)
{
	(void)p;
	(void)v;
	((struct topo_iommu *)obj)->late = true;
	return 0;
}

static int iommu_opt_msi(struct parser *p, void *obj, const struct tok *v)
{
	unsigned int isolated;

	if (parse_choice(p, msi_choices, v, "for msi=", &isolated))
		return -EINVAL;
	((struct topo_iommu *)obj)->msi_isolated = isolated;
	return 0;
}

/* kind=intel: which IOMMU driver, for the regions it reports */
static int iommu_opt_kind(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_iommu *ti = obj;
	unsigned int kind;

	if (parse_choice(p, iommu_kind_choices, v, "for kind=", &kind))
		return -EINVAL;
	ti->kind = (int)kind;
	ti->kind_at = (struct topo_pos){ p->line, v->col };
	return 0;
}

/* One "0xSTART-0xEND:TYPE" of resv=. */
static int iommu_resv_elem(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_iommu *ti = obj;
	const char *colon = memchr(v->s, ':', v->len);
	struct iommu_resv_region *r;
	struct tok range, type;
	unsigned int t;

	if (!colon)
		return perr(p, v->col,
			    "expected a region like 0xfee00000-0xfeefffff:msi, got " QF,
			    QA(v));
	if (ti->nr_resv == IOMMU_RESV_REGIONS_MAX)
		return perr(p, v->col, "too many regions (the limit is %d)",
			    IOMMU_RESV_REGIONS_MAX);
	range = (struct tok){ v->s, (size_t)(colon - v->s), v->col };
	type = (struct tok){ colon + 1, v->len - range.len - 1,
			     v->col + (int)range.len + 1 };
	r = &ti->resv[ti->nr_resv];
	if (parse_range(p, &range, &r->start, &r->length) ||
	    parse_choice(p, resv_type_choices, &type, "in resv=", &t))
		return -EINVAL;
	r->type = (enum iommu_resv_type)t;
	ti->nr_resv++;
	return 0;
}

/* resv=RANGE:TYPE,... or resv=none: what the driver reports for all */
static int iommu_opt_resv(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_iommu *ti = obj;

	ti->resv_set = true;
	ti->nr_resv = 0;
	if (tok_is(v, "none"))
		return 0;
	return for_each_elem(p, v, obj, iommu_resv_elem);
}

static const struct opt iommu_opts[] = {
	{ "types", "blocked,identity,dma-fq", iommu_opt_types },
	{ "late", NULL, iommu_opt_late },
	{ "msi", "isolated", iommu_opt_msi },
	{ "kind", "intel", iommu_opt_kind },
	{ "resv", "0xfee00000-0xfeefffff:msi", iommu_opt_resv },
	{ NULL, NULL, NULL },
};

static struct topo_iommu *find_iommu(struct topo *t, const char *name)
{
	for (size_t i = 0; i < t->niommus; i++)
		if (!strcmp(t->iommus[i].name, name))
			return &t->iommus[i];
	return NULL;
}

static int stmt_iommu(struct parser *p)
{
	struct topo *t = &p->t;
	const struct tok *v = arg(p, 1, "an IOMMU name");
	struct topo_iommu *ti, *dup;
	int cols[OPTS_MAX];

	if (!v)
		return -EINVAL;
	if (t->niommus == TOPO_IOMMUS_MAX)
		return perr(p, p->toks[0].col,
			    "too many IOMMUs (the limit is %d)",
			    TOPO_IOMMUS_MAX);
	if (v->len >= IOMMU_NAME_MAX)
		return perr(p, v->col,
			    "iommu name " QF " is longer than %d bytes", QA(v),
			    IOMMU_NAME_MAX - 1);
	dup = find_iommu(t, v->s);
	if (dup)
		return perr(p, v->col,
			    "duplicate iommu name " QF " (first at line %d)",
			    QA(v), dup->at.line);
	ti = &t->iommus[t->niommus];
	memset(ti, 0, sizeof(*ti));
	memcpy(ti->name, v->s, v->len + 1);
	ti->types = IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY |
		    IOMMU_DOMAIN_DMA_FQ;
	ti->msi_isolated = true;
	ti->kind = -1;
	ti->at = (struct topo_pos){ p->line, v->col };
	if (parse_options(p, 2, iommu_opts, ti, cols))
		return -EINVAL;
	t->niommus++;
	return 0;
}

/* ---- devices ---- */

static bool dev_is_bridge(const struct topo_dev *d)
{
	return d->bus == BUS_PCI && d->hdr_type == PCI_HEADER_TYPE_BRIDGE;
}

static int dev_opt_iommu(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_iommu *ti = find_iommu(&p->t, v->s);

	if (!ti)
		return perr(p, v->col,
			    "iommu " QF " is not defined by an earlier iommu statement",
			    QA(v));
	((struct topo_dev *)obj)->iommu = (int)(ti - p->t.iommus);
	return 0;
}

static int dev_opt_group(struct parser *p, void *obj, const struct tok *v)
{
	struct strmap *labels = &p->t.labels;
	int key;

	if (v->len > TOPO_LABEL_MAX)
		return perr(p, v->col,
			    "group label " QF " is longer than %d bytes", QA(v),
			    TOPO_LABEL_MAX);
	key = names_get(labels, v->s);
	if (key < 0) {
		key = (int)labels->count + 1;
		if (names_put(labels, v->s, key))
			return perr(p, v->col, "out of memory");
	}
	((struct topo_dev *)obj)->group_key = (unsigned int)key;
	((struct topo_dev *)obj)->group_col = v->col - 6;
	return 0;
}

static int dev_opt_parent(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj, *parent;
	char bdf[DEVICE_NAME_MAX];
	const char *name = v->s;
	int i;

	if (d->bus == BUS_PCI) {
		if (!parse_bdf(v, bdf))
			return bad_bdf(p, v);
		name = bdf;
	}
	i = names_get(&p->t.dev_names, name);
	if (i < 0)
		return perr(p, v->col,
			    "parent " QF " is not defined by an earlier statement",
			    QA(v));
	parent = &p->t.devs[i];
	if (d->bus == BUS_PCI && !dev_is_bridge(parent))
		return perr(p, v->col, "parent " QF " is not a PCI bridge",
			    QA(v));
	if (d->bus == BUS_FSL_MC && parent->bus == BUS_FSL_MC &&
	    strcmp(parent->mc_type, "dprc"))
		return perr(p, v->col, "parent " QF " is not a dprc container",
			    QA(v));
	d->parent = i;
	return 0;
}

static int dev_opt_absent(struct parser *p, void *obj, const struct tok *v)
{
	(void)p;
	(void)v;
	((struct topo_dev *)obj)->absent = true;
	return 0;
}

static int pci_opt_sub(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (!parse_id_pair(v, &d->subvendor, &d->subdevice))
		return perr(p, v->col,
			    "expected subsystem ids like 8086:a01f, got " QF,
			    QA(v));
	return 0;
}

static int pci_opt_class(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (v->len != 6 || !hex_exact(v->s, 6, &d->class))
		return perr(p, v->col,
			    "expected a class code of 6 hex digits like 020000, got " QF,
			    QA(v));
	return 0;
}

static int pci_opt_type(struct parser *p, void *obj, const struct tok *v)
{
	return parse_choice(p, pci_type_choices, v, "for type=",
			    &((struct topo_dev *)obj)->pcie_type);
}

/* One range of rmrr=. */
static int pci_rmrr_elem(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (d->nr_direct == DEVICE_DIRECT_REGIONS_MAX)
		return perr(p, v->col, "too many ranges (the limit is %d)",
			    DEVICE_DIRECT_REGIONS_MAX);
	if (parse_range(p, v, &d->direct[d->nr_direct].start,
			&d->direct[d->nr_direct].length))
		return -EINVAL;
	d->nr_direct++;
	return 0;
}

/*
 * rmrr=RANGE,...: firmware 1:1 ranges (an RMRR, an IVMD unity range, an
 * IORT RMR); bare, one at a stand-in address.
 */
static int pci_opt_rmrr(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (!v) {
		d->direct[0].start = TOPO_RMRR_START;
		d->direct[0].length = TOPO_RMRR_LENGTH;
		d->nr_direct = 1;
		return 0;
	}
	return for_each_elem(p, v, obj, pci_rmrr_elem);
}

/* One method of reset=. */
static int pci_reset_elem(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;
	unsigned int method;

	if (parse_choice(p, pci_reset_choices, v, "in reset=", &method))
		return -EINVAL;
	if (d->reset & (1u << method))
		return perr(p, v->col, "duplicate reset method " QF, QA(v));
	d->reset |= 1u << method;
	return 0;
}

/* reset=flr,pm: the function's own reset methods */
static int pci_opt_reset(struct parser *p, void *obj, const struct tok *v)
{
	return for_each_elem(p, v, obj, pci_reset_elem);
}

static int pci_opt_no_bus_reset(struct parser *p, void *obj,
				const struct tok *v)
{
	(void)p;
	(void)v;
	((struct topo_dev *)obj)->no_bus_reset = true;
	return 0;
}

/* One bit of acs-cap= or acs-ctl=, into the unsigned int at @obj. */
static int acs_bit_elem(struct parser *p, void *obj, const struct tok *v)
{
	unsigned int *bits = obj, bit;

	if (parse_choice(p, acs_bit_choices, v, "in an ACS list", &bit))
		return -EINVAL;
	if (*bits & bit)
		return perr(p, v->col, "duplicate ACS bit " QF, QA(v));
	*bits |= bit;
	return 0;
}

/* An ACS word: "-" for none, else bits; @ret untouched on error. */
static int parse_acs_word(struct parser *p, const struct tok *v,
			  unsigned int *ret)
{
	unsigned int bits = 0;

	if (!tok_is(v, "-") && for_each_elem(p, v, &bits, acs_bit_elem))
		return -EINVAL;
	*ret = bits;
	return 0;
}

/* acs-cap=sv,rr,cr,uf (the capability), acs-cap=- (empty), unknown */
static int pci_opt_acs_cap(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (tok_is(v, "unknown")) {
		d->acs = PCI_ACS_UNKNOWN;
		return 0;
	}
	d->acs = PCI_ACS_PRESENT;
	return parse_acs_word(p, v, &d->acs_cap);
}

/* acs-ctl=sv,rr: the control word as read after boot */
static int pci_opt_acs_ctl(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;
	unsigned int bits;

	if (parse_acs_word(p, v, &bits))
		return -EINVAL;
	d->acs_ctrl = (int)bits;
	d->acs_ctrl_col = v->col - 8;
	return 0;
}

/* A decimal number from @lo to @hi, without leading zeros, for @what. */
static int parse_dec_opt(struct parser *p, const struct tok *v,
			 unsigned int lo, unsigned int hi, const char *what,
			 unsigned int *ret)
{
	unsigned long n = 0;
	bool number = v->len && v->s[0] >= '0' && v->s[0] <= '9' &&
		      (v->s[0] != '0' || v->len == 1);

	for (size_t i = 0; number && i < v->len; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			number = false;
		else if (n <= hi)
			n = n * 10 + (unsigned long)(v->s[i] - '0');
	}
	if (!number || n < lo || n > hi)
		return perr(p, v->col,
			    "expected %s, a decimal number from %u to %u, got " QF,
			    what, lo, hi, QA(v));
	*ret = (unsigned int)n;
	return 0;
}

/* sriov-totalvfs=N: an SR-IOV capability with TotalVFs N, a PF */
static int pci_opt_sriov_totalvfs(struct parser *p, void *obj,
				  const struct tok *v)
{
	return parse_dec_opt(p, v, 1, 65535, "TotalVFs",
			     &((struct topo_dev *)obj)->sriov_total);
}

/* vf-offset=N: First VF Offset */
static int pci_opt_vf_offset(struct parser *p, void *obj, const struct tok *v)
{
	return parse_dec_opt(p, v, 1, 65535, "a First VF Offset",
			     &((struct topo_dev *)obj)->sriov_offset);
}

/* vf-stride=N: VF Stride */
static int pci_opt_vf_stride(struct parser *p, void *obj, const struct tok *v)
{
	return parse_dec_opt(p, v, 0, 65535, "a VF Stride",
			     &((struct topo_dev *)obj)->sriov_stride);
}

/* vf-device=DDDD: the VF Device ID */
static int pci_opt_vf_device(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (v->len != 4 || !hex_exact(v->s, 4, &d->sriov_vf_device))
		return perr(p, v->col,
			    "expected a VF device id of 4 hex digits like 10ed, got " QF,
			    QA(v));
	return 0;
}

static int pci_opt_shpc(struct parser *p, void *obj, const struct tok *v)
{
	(void)p;
	(void)v;
	((struct topo_dev *)obj)->shpc = true;
	return 0;
}

static int pci_opt_multifunction(struct parser *p, void *obj,
				 const struct tok *v)
{
	(void)p;
	(void)v;
	((struct topo_dev *)obj)->multifunction = true;
	return 0;
}

/* One DD.F of dma-alias=: a requester ID on the device's own bus. */
static int pci_alias_elem(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;
	unsigned int slot, fn;

	if (v->len != 4 || v->s[2] != '.' || !hex_exact(v->s, 2, &slot) ||
	    slot > 0x1f || v->s[3] < '0' || v->s[3] > '7')
		return perr(p, v->col,
			    "expected a device and function like 00.1 in dma-alias=, got " QF,
			    QA(v));
	fn = (unsigned int)(v->s[3] - '0');
	d->dma_alias[(slot << 3 | fn) / 64] |= 1ull << ((slot << 3 | fn) % 64);
	return 0;
}

static int pci_opt_dma_alias(struct parser *p, void *obj, const struct tok *v)
{
	return for_each_elem(p, v, obj, pci_alias_elem);
}

/* One ID of stream-id=: 0x and 1 to 8 hex digits. */
static int pci_sid_elem(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;
	unsigned int sid;

	if (v->len < 3 || v->len > 10 || v->s[0] != '0' || v->s[1] != 'x' ||
	    !hex_exact(v->s + 2, v->len - 2, &sid))
		return perr(p, v->col,
			    "expected a stream ID like 0x100 in stream-id=, got " QF,
			    QA(v));
	if (d->nr_sids == DEVICE_STREAM_IDS_MAX)
		return perr(p, v->col, "too many stream IDs (the limit is %d)",
			    DEVICE_STREAM_IDS_MAX);
	d->sids[d->nr_sids++] = sid;
	return 0;
}

/* stream-id=0x100,...: the IDs firmware maps the function to */
static int pci_opt_stream_id(struct parser *p, void *obj, const struct tok *v)
{
	return for_each_elem(p, v, obj, pci_sid_elem);
}

static int pci_opt_untrusted(struct parser *p, void *obj, const struct tok *v)
{
	(void)p;
	(void)v;
	((struct topo_dev *)obj)->untrusted = true;
	return 0;
}

static int platform_opt_compatible(struct parser *p, void *obj,
				   const struct tok *v)
{
	struct topo_dev *d = obj;

	if (v->len >= COMPAT_SIZE)
		return perr(p, v->col, "compatible " QF " is longer than %zu bytes",
			    QA(v), COMPAT_SIZE - 1);
	memcpy(d->compatible, v->s, v->len + 1);
	return 0;
}

static int amba_opt_periphid(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	if (v->len < 3 || v->len > 10 || v->s[0] != '0' ||
	    (v->s[1] != 'x' && v->s[1] != 'X') ||
	    !hex_exact(v->s + 2, v->len - 2, &d->periphid))
		return perr(p, v->col,
			    "expected a peripheral id like 0x00041011, got " QF,
			    QA(v));
	return 0;
}

static int mc_opt_type(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_dev *d = obj;

	for (size_t i = 0; i < v->len; i++) {
		char c = v->s[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9'))
			return perr(p, v->col,
				    "expected an fsl-mc object type like dpni, got " QF,
				    QA(v));
	}
	if (v->len >= MC_TYPE_SIZE)
		return perr(p, v->col,
			    "fsl-mc object type " QF " is longer than %zu bytes",
			    QA(v), MC_TYPE_SIZE - 1);
	memcpy(d->mc_type, v->s, v->len + 1);
	return 0;
}

#define DEV_OPT_IOMMU { "iommu", "smmu0", dev_opt_iommu }
#define DEV_OPT_GROUP { "group", "gpu", dev_opt_group }
#define DEV_OPT_ABSENT { "absent", NULL, dev_opt_absent }
#define OPT_END { NULL, NULL, NULL }

static const struct opt pci_opts[] = {
	{ "sub", "8086:a01f", pci_opt_sub },
	{ "class", "020000", pci_opt_class },
	{ "type", "endpoint", pci_opt_type },
	{ "parent", "0000:00:1c.0", dev_opt_parent },
	DEV_OPT_IOMMU,
	DEV_OPT_GROUP,
	{ "rmrr", "0x3e000000-0x3e1fffff", pci_opt_rmrr },
	{ "untrusted", NULL, pci_opt_untrusted },
	{ "reset", "flr", pci_opt_reset },
	{ "no-bus-reset", NULL, pci_opt_no_bus_reset },
	{ "acs-cap", "sv,rr,cr,uf", pci_opt_acs_cap },
	{ "acs-ctl", "sv,rr,cr,uf", pci_opt_acs_ctl },
	{ "multifunction", NULL, pci_opt_multifunction },
	{ "shpc", NULL, pci_opt_shpc },
	{ "dma-alias", "00.1", pci_opt_dma_alias },
	{ "stream-id", "0x100", pci_opt_stream_id },
	{ "sriov-totalvfs", "64", pci_opt_sriov_totalvfs },
	{ "vf-offset", "128", pci_opt_vf_offset },
	{ "vf-stride", "2", pci_opt_vf_stride },
	{ "vf-device", "10ed", pci_opt_vf_device },
	DEV_OPT_ABSENT,
	OPT_END,
};

static const struct opt platform_opts[] = {
	{ "compatible", "snps,dwc3", platform_opt_compatible },
	DEV_OPT_IOMMU,
	DEV_OPT_GROUP,
	{ "parent", "soc", dev_opt_parent },
	DEV_OPT_ABSENT,
	OPT_END,
};

static const struct opt amba_opts[] = {
	{ "periphid", "0x00041011", amba_opt_periphid },
	DEV_OPT_IOMMU,
	DEV_OPT_GROUP,
	DEV_OPT_ABSENT,
	OPT_END,
};

static const struct opt mc_opts[] = {
	{ "type", "dpni", mc_opt_type },
	{ "parent", "dprc.1", dev_opt_parent },
	DEV_OPT_IOMMU,
	DEV_OPT_GROUP,
	DEV_OPT_ABSENT,
	OPT_END,
};

/* A new device named @name (already in canonical form) at @v. */
static struct topo_dev *new_device(struct parser *p, const struct tok *v,
				   const char *name, enum bus_kind bus)
{
	struct topo *t = &p->t;
	struct topo_dev *d;
	int first;

	if (t->ndevs == TOPO_DEVICES_MAX) {
		perr(p, p->toks[0].col, "too many devices (the limit is %d)",
		     TOPO_DEVICES_MAX);
		return NULL;
	}
	first = names_get(&t->dev_names, name);
	if (first >= 0) {
		perr(p, v->col, "duplicate device name " QF " (first at line %d)",
		     QA(v), t->devs[first].at.line);
		return NULL;
	}
	if (t->ndevs == t->devs_cap) {
		size_t cap = t->devs_cap ? t->devs_cap * 2 : 32;
		struct topo_dev *devs = realloc(t->devs, cap * sizeof(*devs));

		if (!devs) {
			perr(p, v->col, "out of memory");
			return NULL;
		}
		t->devs = devs;
		t->devs_cap = cap;
	}
	if (names_put(&t->dev_names, name, (int)t->ndevs)) {
		perr(p, v->col, "out of memory");
		return NULL;
	}
	d = &t->devs[t->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->bus = bus;
	d->parent = -1;
	d->iommu = -1;
	d->at = (struct topo_pos){ p->line, v->col };
	return d;
}

/* A device name of the non-PCI buses: the library's limits. */
static int check_dev_name(struct parser *p, const struct tok *v)
{
	if (v->len >= DEVICE_NAME_MAX)
		return perr(p, v->col,
			    "device name " QF " is longer than %d bytes", QA(v),
			    DEVICE_NAME_MAX - 1);
	if (memchr(v->s, '/', v->len))
		return perr(p, v->col, "device name " QF " contains '/'",
			    QA(v));
	return 0;
}

/*
 * What every device statement checks once its options are read: a
 * required option, group= only with iommu=, nothing present behind an
 * absent parent.
 */
static int finish_device(struct parser *p, struct topo_dev *d,
			 const struct opt *opts, const int cols[OPTS_MAX],
			 const char *required)
{
	const char *stmt = p->toks[0].s;
	int col;

	if (required && !opt_col(opts, cols, required)) {
		const struct opt *o = opts;

		while (strcmp(o->name, required))
			o++;
		return perr(p, p->toks[0].col,
			    "missing option %s=%s for %s device '%s'", o->name,
			    o->example, stmt, d->name);
	}
	col = opt_col(opts, cols, "group");
	if (col && d->iommu < 0)
		return perr(p, col, "group= needs iommu= on the same device");
	col = opt_col(opts, cols, "parent");
	if (col && !d->absent && p->t.devs[d->parent].absent)
		return perr(p, col,
			    "parent '%s' is absent, so this device must be absent too",
			    p->t.devs[d->parent].name);
	return 0;
}

/*
 * The SR-IOV options together: vf-offset=, vf-stride= (with more than one
 * VF) and vf-device= come with sriov-totalvfs= and not without it, on a
 * PCIe function with a normal header; every VF's routing ID fits the bus
 * numbers, and no VF takes the address of a function described earlier
 * (later ones are checked against the VFs by checking the VFs' names).
 */
static int check_sriov(struct parser *p, struct topo_dev *d,
		       const int cols[OPTS_MAX])
{
	static const char *const needs[] = { "vf-offset", "vf-stride",
					     "vf-device" };
	int total_col = opt_col(pci_opts, cols, "sriov-totalvfs");
	char name[DEVICE_NAME_MAX];

	if (!total_col) {
		for (size_t i = 0; i < 3; i++) {
			int col = opt_col(pci_opts, cols, needs[i]);

			if (col)
				return perr(p, col,
					    "%s= needs sriov-totalvfs= on the same device",
					    needs[i]);
		}
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		const struct opt *o = pci_opts;

		if (opt_col(pci_opts, cols, needs[i]) ||
		    (i == 1 && d->sriov_total == 1))
			continue;
		while (strcmp(o->name, needs[i]))
			o++;
		return perr(p, total_col,
			    "missing option %s=%s for SR-IOV device '%s'",
			    o->name, o->example, d->name);
	}
	if (d->pcie_type != PCI_EXP_TYPE_ENDPOINT &&
	    d->pcie_type != PCI_EXP_TYPE_RC_END)
		return perr(p, total_col,
			    "sriov-totalvfs= needs a PCIe endpoint (type=endpoint or rc-endpoint)");
	if (d->sriov_total > 1 && !d->sriov_stride)
		return perr(p, opt_col(pci_opts, cols, "vf-stride"),
			    "vf-stride=0 allows one VF only, not %u",
			    d->sriov_total);
	if (pci_iov_virtfn_name(d->name, d->sriov_offset, d->sriov_stride,
				d->sriov_total - 1, name, sizeof(name)))
		return perr(p, total_col,
			    "VF %u of '%s' would be past bus ff (vf-offset=%u, vf-stride=%u)",
			    d->sriov_total - 1, d->name, d->sriov_offset,
			    d->sriov_stride);
	d->sriov_col = total_col;
	return 0;
}

/*
 * Once every function is read: no VF may take the address of a function
 * the file describes (the kernel would find two devices at one address).
 */
static int finish_sriov(struct parser *p)
{
	const struct topo *t = &p->t;
	char name[DEVICE_NAME_MAX];

	for (size_t k = 0; k < t->ndevs; k++) {
		const struct topo_dev *d = &t->devs[k];

		for (unsigned int i = 0; i < d->sriov_total; i++) {
			int other;

			pci_iov_virtfn_name(d->name, d->sriov_offset,
					    d->sriov_stride, i, name,
					    sizeof(name));
			other = names_get(&t->dev_names, name);
			if (other >= 0)
				return fail_at(p, d->at.line, d->sriov_col,
					       "VF %u of '%s' would be at %s, where line %d describes a function",
					       i, d->name, name,
					       t->devs[other].at.line);
		}
	}
	return 0;
}

static int stmt_pci(struct parser *p)
{
	const struct tok *bdf, *ids;
	char name[DEVICE_NAME_MAX];
	struct topo_dev *d;
	int cols[OPTS_MAX];

	bdf = arg(p, 1, "a PCI address like 0000:01:00.0");
	if (!bdf)
		return -EINVAL;
	if (!parse_bdf(bdf, name))
		return bad_bdf(p, bdf);
	d = new_device(p, bdf, name, BUS_PCI);
	if (!d)
		return -EINVAL;
	ids = arg(p, 2, "vendor:device ids like 8086:10d3");
	if (!ids)
		return -EINVAL;
	if (!parse_id_pair(ids, &d->vendor, &d->device))
		return perr(p, ids->col,
			    "expected vendor:device ids like 8086:10d3, got " QF,
			    QA(ids));
	d->pcie_type = PCI_EXP_TYPE_ENDPOINT;
	d->acs_ctrl = -1;
	if (parse_options(p, 3, pci_opts, d, cols))
		return -EINVAL;
	if (d->acs_ctrl_col && d->acs != PCI_ACS_PRESENT)
		return perr(p, d->acs_ctrl_col,
			    "acs-ctl= needs acs-cap= with the capability's bits on the same device");
	if (check_sriov(p, d, cols))
		return -EINVAL;
	switch (d->pcie_type) {
	case PCI_EXP_TYPE_ROOT_PORT:
	case PCI_EXP_TYPE_UPSTREAM:
	case PCI_EXP_TYPE_DOWNSTREAM:
	case PCI_EXP_TYPE_PCI_BRIDGE:
		d->hdr_type = PCI_HEADER_TYPE_BRIDGE;
		break;
	case PCI_EXP_TYPE_NONE:
		/* a conventional PCI-to-PCI bridge has a bridge header */
		d->hdr_type = (d->class >> 8) == 0x0604 ?
				      PCI_HEADER_TYPE_BRIDGE :
				      PCI_HEADER_TYPE_NORMAL;
		break;
	default:
		d->hdr_type = PCI_HEADER_TYPE_NORMAL;
		break;
	}
	if (d->shpc && d->hdr_type != PCI_HEADER_TYPE_BRIDGE)
		return perr(p, opt_col(pci_opts, cols, "shpc"),
			    "shpc needs a bridge (a type= bridge, or class=0604xx): a Standard Hot-Plug Controller is a bridge's capability");
	return finish_device(p, d, pci_opts, cols, "class");
}

/* platform, amba and fsl-mc: NAME then options. */
static int named_device(struct parser *p, enum bus_kind bus,
			const struct opt *opts, const char *required)
{
	const struct tok *v = arg(p, 1, "a device name");
	struct topo_dev *d;
	int cols[OPTS_MAX];

	if (!v || check_dev_name(p, v))
		return -EINVAL;
	d = new_device(p, v, v->s, bus);
	if (!d || parse_options(p, 2, opts, d, cols))
		return -EINVAL;
	return finish_device(p, d, opts, cols, required);
}

static int stmt_platform(struct parser *p)
{
	return named_device(p, BUS_PLATFORM, platform_opts, "compatible");
}

static int stmt_amba(struct parser *p)
{
	return named_device(p, BUS_AMBA, amba_opts, "periphid");
}

static int stmt_fsl_mc(struct parser *p)
{
	return named_device(p, BUS_FSL_MC, mc_opts, "type");
}

/* ---- driver ---- */

/* Append "KEY=VALUE" (@v's token, key included) to the module parameters. */
static int driver_param_add(struct parser *p, struct topo_driver *td,
			    const struct tok *v, size_t key_len)
{
	size_t old = td->params ? strlen(td->params) + 1 : 0;
	size_t len = key_len + v->len;
	char *params = realloc(td->params, old + len + 1);

	if (!params)
		return perr(p, v->col, "out of memory");
	if (old)
		params[old - 1] = ' ';
	memcpy(params + old, v->s - key_len, len);
	params[old + len] = '\0';
	td->params = params;
	return 0;
}

static int driver_opt_ids(struct parser *p, void *obj, const struct tok *v)
{
	struct topo_driver *td = obj;
	int key_col = v->col - (int)strlen("ids=");

	if (td->desc->probe != PROBE_STUB && td->desc->probe != PROBE_VFIO_PCI)
		return perr(p, key_col, "driver '%s' takes no ids= parameter",
			    td->desc->name);
	if (!ids_param_ok(v->s, v->len))
		return perr(p, v->col,
			    "expected ids like 10de:1b80,10de:10f0, got " QF,
			    QA(v));
	return driver_param_add(p, td, v, strlen("ids="));
}

/* A 0-or-1 module parameter @key that only drivers where @ok take. */
static int driver_bool_opt(struct parser *p, struct topo_driver *td,
			   const struct tok *v, const char *key, bool ok)
{
	size_t key_len = strlen(key) + 1;
	int key_col = v->col - (int)key_len;

	if (!ok)
		return perr(p, key_col, "driver '%s' takes no %s= parameter",
			    td->desc->name, key);
	if (v->len != 1 || (v->s[0] != '0' && v->s[0] != '1'))
		return perr(p, v->col, "expected %s=0 or 1, got " QF, key,
			    QA(v));
	return driver_param_add(p, td, v, key_len);
}

/* vfio-platform's reset_required module parameter */
static int driver_opt_reset_required(struct parser *p, void *obj,
				     const struct tok *v)
{
	struct topo_driver *td = obj;

	return driver_bool_opt(p, td, v, "reset_required",
			       td->desc->probe == PROBE_VFIO_PLATFORM);
}

/* vfio-pci's enable_sriov module parameter */
static int driver_opt_enable_sriov(struct parser *p, void *obj,
				   const struct tok *v)
{
	struct topo_driver *td = obj;

	return driver_bool_opt(p, td, v, "enable_sriov",
			       td->desc->sriov == SRIOV_VFIO_PCI);
}

static const struct opt driver_opts[] = {
	{ "ids", "10de:1b80,10de:10f0", driver_opt_ids },
	{ "reset_required", "0", driver_opt_reset_required },
	{ "enable_sriov", "1", driver_opt_enable_sriov },
	OPT_END,
};

static int stmt_driver(struct parser *p)
{
	struct topo *t = &p->t;
	const struct tok *v = arg(p, 1, "a driver name");
	const struct driver_desc *desc;
	struct topo_driver *td;
	int cols[OPTS_MAX];

	if (!v)
		return -EINVAL;
	desc = driver_desc_find(v->s);
	if (!desc)
		return perr(p, v->col, "unknown driver " QF, QA(v));
	for (size_t i = 0; i < t->ndrivers; i++)
		if (t->drivers[i].desc == desc)
			return perr(p, v->col,
				    "duplicate driver " QF " (first at line %d)",
				    QA(v), t->drivers[i].at.line);
	if (t->ndrivers == t->drivers_cap) {
		size_t cap = t->drivers_cap ? t->drivers_cap * 2 : 16;
		struct topo_driver *drivers =
			realloc(t->drivers, cap * sizeof(*drivers));

		if (!drivers)
			return perr(p, v->col, "out of memory");
		t->drivers = drivers;
		t->drivers_cap = cap;
	}
	td = &t->drivers[t->ndrivers++];
	memset(td, 0, sizeof(*td));
	td->desc = desc;
	td->at = (struct topo_pos){ p->line, v->col };
	return parse_options(p, 2, driver_opts, td, cols);
}

/*
 * kernel-release TEXT: the release of the kernel the machine ran (uname
 * -r), recorded with its major and minor numbers.
 */
static int stmt_kernel_release(struct parser *p)
{
	const struct tok *v = arg(p, 1, "a kernel release like 6.1.0-18-amd64");
	unsigned int major, minor;
	int n = 0;

	if (!v || no_more_args(p, 2))
		return -EINVAL;
	if (v->len > MACHINE_KERNEL_RELEASE_MAX)
		return perr(p, v->col, "kernel release longer than %d bytes",
			    MACHINE_KERNEL_RELEASE_MAX);
	if (sscanf(v->s, "%u.%u%n", &major, &minor, &n) != 2 ||
	    v->s[0] < '0' || v->s[0] > '9' ||
	    (v->s[n] && v->s[n] != '.' && v->s[n] != '-' && v->s[n] != '+'))
		return perr(p, v->col,
			    "expected a kernel release like 6.1.0-18-amd64, got " QF,
			    QA(v));
	snprintf(p->t.cfg.kernel_release, sizeof(p->t.cfg.kernel_release),
		 "%s", v->s);
	p->t.cfg.kernel_major = major;
	p->t.cfg.kernel_minor = minor;
	return 0;
}

static const struct choice kernel_choices[] = {
	{ "6.1", MACHINE_KERNEL_6_1 },
	{ "6.6", MACHINE_KERNEL_6_6 },
	{ "6.12", MACHINE_KERNEL_6_12 },
	{ NULL, 0 },
};

/*
 * kernel 6.1|6.6|6.12: the version whose behaviour the model follows where
 * versions differ (docs/architecture.md). Not derived from kernel-release,
 * which also names versions the model does not follow (5.15, 6.8): a
 * recorded release never changes behaviour behind the user's back.
 */
static int stmt_kernel(struct parser *p)
{
	unsigned int v;

	if (one_choice(p, kernel_choices, &v))
		return -EINVAL;
	p->t.cfg.kernel = (enum machine_kernel)v;
	return 0;
}

/*
 * modprobe.d LINE: a line of the machine's /etc/modprobe.d, as kmod reads
 * it (src/userspace/modprobe.c): options, softdep, blacklist, install.
 */
static int stmt_modprobe_d(struct parser *p)
{
	const char *argv[TOPO_TOKENS_MAX];
	char msg[256];
	int word = 0, ret;

	if (!p->t.modprobe) {
		p->t.modprobe = modprobe_conf_new();
		if (!p->t.modprobe)
			return perr(p, p->toks[0].col, "out of memory");
	}
	for (size_t i = 1; i < p->ntoks; i++)
		argv[i - 1] = p->toks[i].s;
	ret = modprobe_conf_add(p->t.modprobe, (int)p->ntoks - 1, argv, msg,
				sizeof(msg), &word);
	if (ret == -ENOMEM)
		return perr(p, p->toks[0].col, "out of memory");
	if (ret)
		return perr(p,
			    (size_t)word + 1 < p->ntoks ?
				    p->toks[word + 1].col :
				    p->eol_col,
			    "%s", msg);
	return 0;
}

/* ---- statements ---- */

struct stmt {
	const char *keyword;
	int (*parse)(struct parser *p);
	bool once;
};

static const struct stmt stmts[] = {
	[STMT_FORMAT] = { "format", stmt_format, true },
	[STMT_MACHINE] = { "machine", stmt_machine, true },
	{ "description", stmt_description, true },
	{ "arch", stmt_arch, true },
	{ "firmware", stmt_firmware, true },
	{ "iommu-api", stmt_iommu_api, true },
	{ "default-domain", stmt_default_domain, true },
	{ "vfio-noiommu", stmt_vfio_noiommu, true },
	{ "iommufd-unsafe-interrupts", stmt_iommufd_unsafe, true },
	{ "groups", stmt_groups, true },
	{ "acs-request", stmt_acs_request, true },
	{ "pcie-acs-override", stmt_acs_override, true },
	{ "fault", stmt_fault, false },
	{ "iommu", stmt_iommu, false },
	{ "pci", stmt_pci, false },
	{ "platform", stmt_platform, false },
	{ "amba", stmt_amba, false },
	{ "fsl-mc", stmt_fsl_mc, false },
	{ "driver", stmt_driver, false },
	{ "kernel-release", stmt_kernel_release, true },
	{ "kernel", stmt_kernel, true },
	{ "modprobe.d", stmt_modprobe_d, false },
};

_Static_assert(ARRAY_LEN(stmts) <= TOPO_STMTS_MAX, "topo::seen too small");

static int dispatch(struct parser *p)
{
	const struct tok *kw = &p->toks[0];
	size_t i;

	for (i = 0; i < ARRAY_LEN(stmts); i++)
		if (tok_is(kw, stmts[i].keyword))
			break;
	if (!p->t.seen[STMT_MACHINE] && i != STMT_MACHINE && i != STMT_FORMAT)
		return perr(p, kw->col,
			    "expected 'machine NAME' as the first statement, got " QF,
			    QA(kw));
	if (i == ARRAY_LEN(stmts))
		return perr(p, kw->col, "unknown keyword " QF, QA(kw));
	if (stmts[i].once) {
		if (p->t.seen[i])
			return perr(p, kw->col,
				    "duplicate '%s' statement (first at line %d)",
				    stmts[i].keyword, p->t.seen[i]);
		p->t.seen[i] = p->line;
	}
	return stmts[i].parse(p);
}

/* Split the line in parser::buf (@len bytes) into tokens. */
static int tokenize(struct parser *p, size_t len)
{
	char *buf = p->buf;
	size_t i = 0;

	p->ntoks = 0;
	p->eol_col = 1;
	while (i < len) {
		struct tok *tok;
		size_t start;

		if (buf[i] == ' ' || buf[i] == '\t') {
			i++;
			continue;
		}
		if (buf[i] == '#')
			break;
		start = i;
		while (i < len && buf[i] != ' ' && buf[i] != '\t') {
			unsigned char c = (unsigned char)buf[i];

			if (c < 0x20 || c == 0x7f)
				return perr(p, (int)i + 1,
					    "unexpected control character 0x%02x",
					    c);
			i++;
		}
		buf[i] = '\0';	/* a blank, or the NUL after the line */
		tok = &p->toks[p->ntoks++];
		tok->s = buf + start;
		tok->len = i - start;
		tok->col = (int)start + 1;
		p->eol_col = (int)i + 1;
		i++;
	}
	return 0;
}

/*
 * An IOMMU's kind must be one the firmware has: intel and amd on x86 (DMAR,
 * IVRS), the SMMUs on acpi-iort and devicetree.
 */
static int finish_iommu_kinds(struct parser *p)
{
	const struct topo *t = &p->t;

	for (size_t i = 0; i < t->niommus; i++) {
		const struct topo_iommu *ti = &t->iommus[i];
		bool x86_kind = ti->kind == IOMMU_KIND_INTEL ||
				ti->kind == IOMMU_KIND_AMD;

		if (ti->kind < 0 || x86_kind == (t->cfg.firmware == FW_X86))
			continue;
		return fail_at(p, ti->kind_at.line, ti->kind_at.col,
			       "iommu kind '%s' needs firmware %s",
			       iommu_kind_name(ti->kind),
			       x86_kind ? "x86" : "acpi-iort or devicetree");
	}
	return 0;
}

/* Cross-statement checks once the whole text is read. */
/*
 * Without CONFIG_IOMMU_API there is no VFIO (it selects IOMMU_API) and no
 * iommufd: their settings and drivers are errors, the first in the file
 * reported.
 */
static int finish_no_iommu_api(struct parser *p)
{
	const struct topo *t = &p->t;
	struct topo_pos at = { 0, 0 };
	char what[96] = "";

	if (t->vfio_noiommu) {
		at = t->vfio_noiommu_at;
		snprintf(what, sizeof(what), "vfio-noiommu yes");
	}
	if (t->iommufd_unsafe_irqs &&
	    (!at.line || t->iommufd_unsafe_at.line < at.line)) {
		at = t->iommufd_unsafe_at;
		snprintf(what, sizeof(what), "iommufd-unsafe-interrupts yes");
	}
	for (size_t i = 0; i < t->ndrivers; i++) {
		const struct topo_driver *td = &t->drivers[i];

		if (!driver_probe_is_vfio(td->desc->probe) ||
		    (at.line && td->at.line > at.line))
			continue;
		at = td->at;
		snprintf(what, sizeof(what), "driver '%s'", td->desc->name);
		break;
	}
	if (!at.line)
		return 0;
	return fail_at(p, at.line, at.col,
		       "%s needs iommu-api yes (VFIO and iommufd need CONFIG_IOMMU_API)",
		       what);
}

/*
 * With computed groups the kernel's rules place PCI devices: a group=
 * label on one is a contradiction, unless the file asks to check labels.
 */
static int finish_groups(struct parser *p)
{
	const struct topo *t = &p->t;

	if (t->groups != TOPO_GROUPS_COMPUTED)
		return 0;
	for (size_t i = 0; i < t->ndevs; i++)
		if (t->devs[i].bus == BUS_PCI && t->devs[i].group_col)
			return fail_at(p, t->devs[i].at.line,
				       t->devs[i].group_col,
				       "group= on a PCI device, but 'groups computed' at line %d computes them; use 'groups check' to compare labels with the computed groups",
				       t->groups_at.line);
	return 0;
}

static int finish(struct parser *p)
{
	struct topo *t = &p->t;

	if (!t->seen[STMT_MACHINE])
		return fail_at(p, 1, 1,
			       "expected a 'machine NAME' statement, found none");
	if (finish_iommu_kinds(p) || finish_groups(p) || finish_sriov(p))
		return -EINVAL;
	if (t->arch == TOPO_ARCH_ARM64 && t->cfg.firmware == FW_X86) {
		if (t->firmware_at.line)
			return fail_at(p, t->firmware_at.line,
				       t->firmware_at.col,
				       "firmware 'x86' needs arch x86_64");
		return fail_at(p, t->arch_at.line, t->arch_at.col,
			       "arch 'arm64' needs a firmware statement (acpi-iort or devicetree)");
	}
	if (t->arch == TOPO_ARCH_X86_64 && t->cfg.firmware != FW_X86)
		return fail_at(p, t->firmware_at.line, t->firmware_at.col,
			       "firmware '%s' needs arch arm64",
			       t->cfg.firmware == FW_ACPI_IORT ? "acpi-iort" :
								 "devicetree");
	if (!t->cfg.iommu_api)
		return finish_no_iommu_api(p);
	return 0;
}

/*
 * Read the description a line at a time: a machine file is a stream, as
 * large as the machine it describes, never held whole.
 */
static int parse_stream(struct parser *p, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int ret = 0;

	p->t.cfg = (struct machine_config){
		.iommu_api = true,
		.def_domain_type = IOMMU_DOMAIN_DMA_FQ,
		.firmware = FW_X86,
	};
	while (!ret && (got = getline(&line, &cap, f)) >= 0) {
		size_t n = (size_t)got;
		const char *nul;

		p->line++;
		if (n && line[n - 1] == '\n')
			n--;
		nul = memchr(line, '\0', n);
		if (nul) {
			ret = fail_at(p, p->line, (int)(nul - line) + 1,
				      "unexpected NUL byte");
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (n > TOPO_LINE_MAX) {
			ret = perr(p, TOPO_LINE_MAX + 1,
				   "line is longer than %d bytes",
				   TOPO_LINE_MAX);
			break;
		}
		memcpy(p->buf, line, n);
		p->buf[n] = '\0';
		ret = tokenize(p, n);
		if (!ret && p->ntoks)
			ret = dispatch(p);
	}
	free(line);
	if (!ret && ferror(f))
		ret = fail_at(p, 0, 0, "cannot read: %s", errno_text(EIO));
	return ret ? ret : finish(p);
}

/* ---- boot ---- */

static int build_fail(struct parser *p, struct topo_pos at, const char *what,
		      const char *name, int err)
{
	return fail_at(p, at.line, at.col, "cannot %s '%s': %s", what, name,
		       errno_text(err));
}

static void describe_device(struct device *dev, const struct topo_dev *d,
			    struct iommu_device *iommu)
{
	device_set_bus(dev, d->bus);
	switch (d->bus) {
	case BUS_PCI:
		device_set_pci_ids(dev, d->vendor, d->device, d->subvendor,
				   d->subdevice, d->class);
		device_set_pci_type(dev, d->hdr_type, d->pcie_type);
		device_set_pci_reset(dev, d->reset, d->no_bus_reset);
		device_set_pci_acs(dev, d->acs, d->acs_cap,
				   d->acs == PCI_ACS_PRESENT ? d->acs_ctrl : -1);
		device_set_pci_multifunction(dev, d->multifunction);
		device_set_pci_shpc(dev, d->shpc);
		for (unsigned int fn = 0; fn < 256; fn++)
			if (d->dma_alias[fn / 64] >> (fn % 64) & 1)
				device_add_pci_dma_alias(dev, fn);
		device_set_fw_stream_ids(dev, d->sids, d->nr_sids);
		if (d->sriov_total)
			device_set_pci_sriov(dev, d->sriov_total,
					     d->sriov_offset, d->sriov_stride,
					     d->sriov_vf_device);
		break;
	case BUS_PLATFORM:
		device_set_of_compatible(dev, d->compatible);
		break;
	case BUS_AMBA:
		device_set_amba_periphid(dev, d->periphid);
		break;
	case BUS_FSL_MC:
		device_set_mc_type(dev, d->mc_type);
		break;
	default:
		break;
	}
	device_set_fw_iommu(dev, iommu, d->group_key);
	for (unsigned int i = 0; i < d->nr_direct; i++)
		device_add_direct_region(dev, d->direct[i].start,
					 d->direct[i].length);
	device_set_untrusted(dev, d->untrusted);
	device_set_absent(dev, d->absent);
}

/*
 * 'groups check': the labels of PCI devices must split them as the
 * computed groups do. The first device (in file order) where they part is
 * reported, with the device it should or should not be with.
 */
static int check_group_labels(struct parser *p, const struct pci_devs *all,
			      const int *dev_index)
{
	const struct topo *t = &p->t;
	size_t nlabels = t->labels.count + 1;
	int *by_group = malloc(((size_t)all->ngroups + 1) * sizeof(int));
	int *by_label = malloc(nlabels * sizeof(int));
	int ret = 0;

	if (!by_group || !by_label) {
		ret = fail_at(p, t->groups_at.line, t->groups_at.col,
			      "out of memory");
		goto out;
	}
	memset(by_group, -1, ((size_t)all->ngroups + 1) * sizeof(int));
	memset(by_label, -1, nlabels * sizeof(int));
	for (size_t i = 0; i < all->n && !ret; i++) {
		const struct pci_dev *pdev = &all->v[i];
		const struct topo_dev *d = &t->devs[dev_index[i]];
		int g = pdev->group, first;

		/* no group at all (the SMMUv3 refuses it: any label goes) */
		if (g < 0)
			continue;
		if (by_group[g] < 0)
			by_group[g] = (int)i;
		if (d->group_key && by_label[d->group_key] < 0)
			by_label[d->group_key] = (int)i;
		first = by_label[d->group_key];
		if (d->group_key && all->v[first].group != g) {
			ret = fail_at(p, d->at.line, d->group_col,
				      "group label puts '%s' with '%s', but the computed groups part them",
				      d->name, all->v[first].dev->name);
			break;
		}
		first = by_group[g];
		if (t->devs[dev_index[first]].group_key != d->group_key)
			ret = fail_at(p, d->at.line,
				      d->group_col ? d->group_col : d->at.col,
				      "'%s' is computed to share a group with '%s', but its group label differs",
				      d->name, all->v[first].dev->name);
	}
out:
	free(by_group);
	free(by_label);
	return ret;
}

/*
 * 'groups computed' and 'groups check': each PCI device behind an IOMMU
 * gets the firmware group key of the group pci_device_group() gives it,
 * after the labels' keys so that other buses' labels keep theirs.
 */
static int compute_groups(struct parser *p, struct machine *m,
			  struct device **devs)
{
	const struct topo *t = &p->t;
	struct pci_devs all;
	struct pci_dev *bad = NULL;
	int *dev_index = NULL;
	bool ivrs = false;
	int ret;

	for (size_t i = 0; i < t->niommus; i++)
		if (t->iommus[i].kind == IOMMU_KIND_AMD)
			ivrs = true;
	ret = pci_devs_build(devs, t->ndevs, &m->cfg, ivrs, &all);
	if (!ret) {
		dev_index = malloc((all.n ? all.n : 1) * sizeof(*dev_index));
		if (!dev_index)
			ret = -ENOMEM;
	}
	if (ret) {
		pci_devs_free(&all);
		return build_fail(p, t->groups_at, "compute groups of",
				  t->name, ret);
	}
	/* the view keeps machine (file) order and skips non-PCI devices */
	for (size_t i = 0, k = 0; i < t->ndevs && k < all.n; i++)
		if (devs[i] == all.v[k].dev)
			dev_index[k++] = (int)i;
	ret = pci_devs_smmu_v3_sids(&all, &bad);
	if (ret) {
		const struct topo_dev *d = &t->devs[dev_index[bad - all.v]];

		if (ret == -E2BIG)
			fail_at(p, d->at.line, d->at.col,
				"'%s' has more DMA aliases than the %d stream IDs a device can have behind an arm-smmu-v3 (one for each)",
				d->name, DEVICE_STREAM_IDS_MAX);
		else
			build_fail(p, t->groups_at, "give stream IDs to",
				   t->name, ret);
		free(dev_index);
		pci_devs_free(&all);
		return -EINVAL;
	}
	ret = pci_devs_group(&all, &bad);
	if (ret) {
		const struct topo_dev *d = &t->devs[dev_index[bad - all.v]];

		if (ret == -EINVAL)
			fail_at(p, d->at.line, d->at.col,
				"the stream IDs of '%s' belong to two groups: arm_smmu_device_group() refuses the device",
				d->name);
		else
			build_fail(p, t->groups_at, "compute groups of",
				   t->name, ret);
		free(dev_index);
		pci_devs_free(&all);
		return -EINVAL;
	}
	for (size_t k = 0; k < all.n; k++) {
		/* a device arm-smmu-v3 refuses: its holder's group key */
		const struct pci_dev *g = all.v[k].smmu_holder ?
			all.v[k].smmu_holder : &all.v[k];

		if (g->group >= 0)
			device_set_fw_iommu(all.v[k].dev, all.v[k].dev->fw.iommu,
					    (unsigned int)t->labels.count + 1 +
						    (unsigned int)g->group);
	}
	if (t->groups == TOPO_GROUPS_CHECK)
		ret = check_group_labels(p, &all, dev_index);
	free(dev_index);
	pci_devs_free(&all);
	return ret;
}

/*
 * Boot: IOMMUs registered before any device (late ones only allocated),
 * devices allocated and described in file order, the present ones added in
 * file order, then the drivers loaded in file order.
 */
static struct machine *build(struct parser *p)
{
	struct iommu_device *iommus[TOPO_IOMMUS_MAX];
	const struct topo *t = &p->t;
	struct device **devs;
	struct machine *m;
	size_t i;
	int ret;

	devs = calloc(t->ndevs ? t->ndevs : 1, sizeof(*devs));
	m = devs ? machine_create(t->name, &t->cfg) : NULL;
	if (!m) {
		build_fail(p, t->machine_at, "create machine", t->name,
			   -ENOMEM);
		goto err_free;
	}
	machine_set_faults(m, t->faults);
	vfio_set_noiommu(m, t->vfio_noiommu);
	iommufd_set_allow_unsafe_interrupts(m, t->iommufd_unsafe_irqs);

	for (i = 0; i < t->niommus; i++) {
		const struct topo_iommu *ti = &t->iommus[i];

		iommus[i] = iommu_device_alloc(m, ti->name, ti->types);
		if (IS_ERR(iommus[i])) {
			build_fail(p, ti->at, "allocate iommu", ti->name,
				   (int)PTR_ERR(iommus[i]));
			goto err_destroy;
		}
		iommu_device_set_msi_isolated(iommus[i], ti->msi_isolated);
		/* without kind=, the firmware's usual driver */
		ret = ti->kind >= 0 ? iommu_device_set_kind(iommus[i], ti->kind) :
				      0;
		if (!ret && ti->resv_set)
			ret = iommu_device_set_resv_regions(iommus[i], ti->resv,
							    ti->nr_resv);
		if (ret) {
			build_fail(p, ti->at, "describe iommu", ti->name, ret);
			goto err_destroy;
		}
	}
	for (i = 0; i < t->niommus; i++) {
		const struct topo_iommu *ti = &t->iommus[i];

		if (ti->late)
			continue;
		ret = iommu_device_register(iommus[i]);
		/* without IOMMU API the hardware is there, unused */
		if (ret == -ENODEV && !t->cfg.iommu_api)
			ret = 0;
		if (ret) {
			build_fail(p, ti->at, "register iommu", ti->name, ret);
			goto err_destroy;
		}
	}

	for (i = 0; i < t->ndevs; i++) {
		const struct topo_dev *d = &t->devs[i];
		struct device *dev;

		dev = device_alloc(m, d->name,
				   d->parent >= 0 ? devs[d->parent] : NULL);
		if (IS_ERR(dev)) {
			build_fail(p, d->at, "allocate device", d->name,
				   (int)PTR_ERR(dev));
			goto err_destroy;
		}
		devs[i] = dev;
		describe_device(dev, d, d->iommu >= 0 ? iommus[d->iommu] : NULL);
	}
	if (t->groups != TOPO_GROUPS_LABELS && compute_groups(p, m, devs))
		goto err_destroy;
	for (i = 0; i < t->ndevs; i++) {
		if (t->devs[i].absent)
			continue;
		ret = device_add(devs[i]);
		if (ret) {
			build_fail(p, t->devs[i].at, "add device",
				   t->devs[i].name, ret);
			goto err_destroy;
		}
	}

	/*
	 * udev loads each driver's module for the devices present, by alias:
	 * through modprobe.d, so softdeps come first, a blacklisted module
	 * stays out, and a module a softdep loaded already is not loaded again.
	 */
	machine_set_modprobe_conf(m, t->modprobe);
	for (i = 0; i < t->ndrivers; i++) {
		const struct topo_driver *td = &t->drivers[i];
		struct sbuf out = { 0 }, err = { 0 };

		ret = modprobe_insert(m, td->desc->name, td->params,
				      MODPROBE_USE_BLACKLIST, &out, &err);
		free(out.buf);
		free(err.buf);
		if (ret > 0)
			ret = 0;
		/* an install command refusing the module is not a boot failure */
		if (ret) {
			build_fail(p, td->at, "load driver", td->desc->name,
				   ret);
			goto err_destroy;
		}
	}
	free(devs);
	return m;

err_destroy:
	machine_destroy(m); /* frees the devices and IOMMUs made so far */
err_free:
	free(devs);
	return NULL;
}

/* ---- entry points ---- */

static void set_error(struct topo_error *err, const char *file, int line,
		      const char *msg)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

static struct machine *load(const char *file, FILE *f, unsigned int faults,
			    struct topo_error *err)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct machine *m = NULL;

	if (!p) {
		set_error(err, file, 0, "out of memory");
		return NULL;
	}
	snprintf(p->e.file, sizeof(p->e.file), "%s", file);
	if (!parse_stream(p, f)) {
		p->t.faults |= faults;
		m = build(p);
	}
	if (!m && err)
		*err = p->e;
	topo_free(&p->t);
	free(p);
	return m;
}

struct machine *topology_load_stream(const char *filename, FILE *f,
				     unsigned int faults,
				     struct topo_error *err)
{
	return load(filename ? filename : "<stream>", f, faults, err);
}

struct machine *topology_load_faults(const char *filename, const char *text,
				     unsigned int faults,
				     struct topo_error *err)
{
	const char *file = filename ? filename : "<string>";
	struct machine *m;
	FILE *f;

	if (!text) {
		set_error(err, file, 0, "no text to read");
		return NULL;
	}
	/* a read-only stream over the text; "" has nothing to read */
	f = *text ? fmemopen((void *)text, strlen(text), "r") :
		    fopen("/dev/null", "r");
	if (!f) {
		set_error(err, file, 0, "out of memory");
		return NULL;
	}
	m = load(file, f, faults, err);
	fclose(f);
	return m;
}

struct machine *topology_load_string(const char *filename, const char *text,
				     struct topo_error *err)
{
	return topology_load_faults(filename, text, 0, err);
}

struct machine *topology_load_file(const char *path, struct topo_error *err)
{
	struct machine *m;
	char msg[256];
	FILE *f = fopen(path, "rb");

	if (!f) {
		snprintf(msg, sizeof(msg), "cannot open: %s",
			 errno_text(errno));
		set_error(err, path, 0, msg);
		return NULL;
	}
	m = load(path, f, 0, err);
	fclose(f);
	return m;
}

size_t builtin_machine_count(void)
{
	return builtin_machines_count;
}

const char *builtin_machine_name(size_t i)
{
	return i < builtin_machines_count ? builtin_machines[i].name : NULL;
}

const char *builtin_machine_summary(size_t i)
{
	return i < builtin_machines_count ? builtin_machines[i].summary : NULL;
}

const char *builtin_machine_text(const char *name)
{
	for (size_t i = 0; name && i < builtin_machines_count; i++)
		if (!strcmp(builtin_machines[i].name, name))
			return builtin_machines[i].text;
	return NULL;
}

struct machine *builtin_machine_load(const char *name, struct topo_error *err)
{
	const char *text = builtin_machine_text(name);
	char file[256];

	snprintf(file, sizeof(file), "builtin:%s", name ? name : "");
	if (!text) {
		char list[200] = "", msg[256];
		size_t len = 0;

		for (size_t i = 0; i < builtin_machines_count; i++)
			names_add(list, sizeof(list), &len,
				 builtin_machines[i].name, "",
				 i + 1 == builtin_machines_count);
		snprintf(msg, sizeof(msg),
			 "unknown built-in machine '%.*s'; expected %s",
			 TOPO_QUOTE_MAX, name ? name : "", list);
		set_error(err, file, 0, msg);
		return NULL;
	}
	return topology_load_string(file, text, err);
}
