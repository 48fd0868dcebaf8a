// SPDX-License-Identifier: MIT
/*
 * The diff of the model's 'run --json' lines against the guest's: per
 * script line, the return code, errno, output and (without timestamps)
 * the log lines and WARNs; then the final state: each device's driver and
 * group, the groups' members, which groups userspace owns.
 *
 * Some differences are known and explained (docs/oracle.md): log lines
 * the real drivers print that the model's catalogue does not (a NIC's
 * probe chatter), the module loader's own lines. They are listed in
 * explained[] with the reason, counted apart, and never make the diff
 * fail; anything else does.
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* ---- a small JSON reader for the lines both sides print ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	double num;
	char *str;              /* J_STR */
	struct jval **items;    /* J_ARR, J_OBJ (values) */
	char **keys;            /* J_OBJ */
	size_t n;
};

static void jfree(struct jval *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		jfree(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

static char *jstring(const char **p)
{
	size_t cap = 64, len = 0;
	char *s = malloc(cap);

	if (!s || **p != '"') {
		free(s);
		return NULL;
	}
	for ((*p)++; **p && **p != '"'; (*p)++) {
		char c = **p;

		if (c == '\\') {
			(*p)++;
			c = **p;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c == 'u') {
				unsigned int u = 0;

				if (sscanf(*p + 1, "%4x", &u) != 1)
					break;
				*p += 4;
				c = (char)(u < 0x80 ? u : '?');
			} else if (!c)
				break;
		}
		if (len + 2 > cap) {
			char *ns = realloc(s, cap *= 2);

			if (!ns)
				break;
			s = ns;
		}
		s[len++] = c;
	}
	s[len] = '\0';
	if (**p != '"') {
		free(s);
		return NULL;
	}
	(*p)++;
	return s;
}

static struct jval *jparse(const char **p, int depth)
{
	struct jval *v = calloc(1, sizeof(*v));

	if (!v || depth > 32)
		goto bad;
	skip_ws(p);
	if (**p == '{' || **p == '[') {
		bool obj = **p == '{';

		v->type = obj ? J_OBJ : J_ARR;
		(*p)++;
		skip_ws(p);
		if (**p == (obj ? '}' : ']')) {
			(*p)++;
			return v;
		}
		for (;;) {
			char *key = NULL;
			struct jval *item;

			skip_ws(p);
			if (obj) {
				key = jstring(p);
				skip_ws(p);
				if (!key || **p != ':') {
					free(key);
					goto bad;
				}
				(*p)++;
			}
			item = jparse(p, depth + 1);
			if (!item) {
				free(key);
				goto bad;
			}
			v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
			if (obj)
				v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
			if (!v->items || (obj && !v->keys)) {
				jfree(item);
				free(key);
				goto bad;
			}
			v->items[v->n] = item;
			if (obj)
				v->keys[v->n] = key;
			v->n++;
			skip_ws(p);
			if (**p == ',') {
				(*p)++;
				continue;
			}
			if (**p == (obj ? '}' : ']')) {
				(*p)++;
				return v;
			}
			goto bad;
		}
	}
	if (**p == '"') {
		v->type = J_STR;
		v->str = jstring(p);
		if (!v->str)
			goto bad;
		return v;
	}
	if (!strncmp(*p, "true", 4) || !strncmp(*p, "false", 5)) {
		v->type = J_BOOL;
		v->num = **p == 't';
		*p += **p == 't' ? 4 : 5;
		return v;
	}
	if (!strncmp(*p, "null", 4)) {
		*p += 4;
		return v;
	}
	if (**p == '-' || isdigit((unsigned char)**p)) {
		char *end;

		v->type = J_NUM;
		v->num = strtod(*p, &end);
		*p = end;
		return v;
	}
bad:
	jfree(v);
	return NULL;
}

static const struct jval *jget(const struct jval *o, const char *key)
{
	if (!o || o->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->items[i];
	return NULL;
}

static const char *jstr(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);

	return v && v->type == J_STR ? v->str : NULL;
}

/* ---- the two sides, parsed ---- */

#define MAX_LINES 4096

struct side {
	struct jval *line[MAX_LINES]; /* by script line number */
	struct jval *state;           /* show --json, or the guest's end state */
	struct jval *all[MAX_LINES + 8];
	size_t nall;
};

static void side_parse(struct side *s, const char *text)
{
	const char *p = text;

	memset(s, 0, sizeof(*s));
	while (*p) {
		const char *nl = strchr(p, '\n');
		char *line = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
		const char *q = line;
		struct jval *v;

		p = nl ? nl + 1 : p + strlen(p);
		if (!line)
			break;
		v = line[0] == '{' ? jparse(&q, 0) : NULL;
		free(line);
		if (!v)
			continue;
		if (s->nall < sizeof(s->all) / sizeof(s->all[0]))
			s->all[s->nall++] = v;
		else {
			jfree(v);
			continue;
		}
		if (jget(v, "line") && jget(v, "line")->type == J_NUM) {
			int n = (int)jget(v, "line")->num;

			if (n > 0 && n < MAX_LINES)
				s->line[n] = v;
		} else if (jget(v, "groups")) {
			s->state = v;
		}
	}
}

static void side_free(struct side *s)
{
	for (size_t i = 0; i < s->nall; i++)
		jfree(s->all[i]);
}

/* ---- explained differences ---- */

/*
 * Log lines one side prints that the other, for a known reason, does
 * not. A line matching one is counted as explained, not as a difference.
 */
static const struct {
	const char *side;    /* "kernel" or "model" */
	const char *pattern; /* POSIX extended regex on the text */
	const char *why;
} explained[] = {
	{ "kernel", "^e1000e? [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7][ :]",
	  "a NIC driver's own messages about its device (MAC, PBA, interrupt mode, PHC clock, link): the model's catalogue drivers print none" },
	{ "kernel", "^e1000e?: (Intel|Copyright)",
	  "the NIC driver's banner at module load" },
	{ "kernel", "^(VFIO - User Level meta-driver|vfio_pci: add )",
	  "vfio's banner and vfio-pci's ids= echo at module load" },
	{ "kernel", "^[a-z0-9_-]+ [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]: enabling device \\([0-9a-f]{4} -> [0-9a-f]{4}\\)$",
	  "the PCI core turning on a device's decoding (pci_enable_resources()): the model keeps no command register; on arm64 no firmware left it on" },
	{ "kernel", "^pcieport [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]: (PME|AER|DPC|pciehp|bwctrl|EDR): ",
	  "the port services' messages when pcieport probes a port (pcie_port_device_register(): PME, AER...): the model's pcieport has no services" },
	{ "kernel", "^(pci_bus [0-9a-f]{4}:[0-9a-f]{2}: busn_res: \\[bus [0-9a-f-]+\\] is released|acpiphp: Slot \\[[0-9-]+\\] unregistered)$",
	  "a removed bridge's bus numbers and ACPI hot-plug slots going (pci_remove_bus(), acpiphp's slot release): the model keeps no bus resources or ACPI slots" },
	{ "kernel", "^hrtimer: interrupt took [0-9]+ ns$",
	  "hrtimer_interrupt() reporting a late timer interrupt: the guest runs under TCG on a loaded host; nothing of the model's" },
	{ "kernel", "^(clocksource|tsc): ",
	  "the clocksource watchdog's complaints (clocksource_watchdog(), cs_watchdog_read(): a slow read-back, a skipped check, an unstable TSC): timekeeping under TCG on a loaded host; nothing of the model's" },
	{ "kernel", "^random: crng init done$",
	  "the kernel's random pool ready (crng_reseed() at first full entropy), late in a TCG guest with no entropy source: whenever it happens, nothing of the model's" },
	{ "kernel", "^ACPI: .*: Enabled at IRQ [0-9]+$",
	  "ACPI's PCI interrupt link routed when a device is first enabled (acpi_pci_irq_enable(), from pci_enable_device() in vfio-pci's open): the model has no interrupts" },
	{ "kernel", "^shpchp [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]: ",
	  "shpchp's probe of the PCIe-to-PCI bridge's hot-plug controller, which on x86 fails (shpc_probe(): pci_hp_register() -16) and returns -ENODEV, which the driver core does not log; the model's shpchp takes bridges with an SHPC (machine file 'shpc'), and the x86 twin's bridge has none, as it works for the guest" },
};

/*
 * Lines whose result differs for a known reason: the command matches
 * @cmd and the kernel's error output @kernel_err. Their ret, out, err and
 * status count as one explained difference; their log is still compared.
 */
static const struct {
	const char *cmd;        /* POSIX extended regex on the line */
	const char *kernel_err; /* ... and on the kernel's err */
	const char *why;
} explained_results[] = {
	{ "^(sudo )?rmmod pcieport$", "^rmmod: ERROR: Module pcieport is (builtin\\.|not currently loaded)",
	  "pcieport is built into every kernel (CONFIG_PCIEPORTBUS is a bool): delete_module() finds no such module; the model's catalogue loads every driver as a module (docs/architecture.md)" },
};

static bool regex_hit(const char *pattern, const char *text)
{
	regex_t re;
	bool hit;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return false;
	hit = !regexec(&re, text, 0, NULL, 0);
	regfree(&re);
	return hit;
}

static const char *explain_result(const char *cmd, const char *kernel_err)
{
	for (size_t i = 0; i < sizeof(explained_results) / sizeof(explained_results[0]); i++)
		if (cmd && kernel_err && regex_hit(explained_results[i].cmd, cmd) &&
		    regex_hit(explained_results[i].kernel_err, kernel_err))
			return explained_results[i].why;
	return NULL;
}

static const char *explain(const char *side, const char *text)
{
	for (size_t i = 0; i < sizeof(explained) / sizeof(explained[0]); i++)
		if (!strcmp(explained[i].side, side) &&
		    regex_hit(explained[i].pattern, text))
			return explained[i].why;
	return NULL;
}

/* A log line without its "[    s.us] " time. */
static const char *log_text(const char *s)
{
	const char *e = s[0] == '[' ? strstr(s, "] ") : NULL;

	return e ? e + 2 : s;
}

/*
 * A log line as compared: without its time, hex numbers (addresses,
 * which the model has none of) as "0x?", a number in parentheses (a PID,
 * "task \"tee\" (1004)") as "(N)".
 */
static void log_norm(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (s = log_text(s); *s && o + 4 < len;) {
		if (s[0] == '0' && s[1] == 'x' && isxdigit((unsigned char)s[2])) {
			for (s += 2; isxdigit((unsigned char)*s); s++)
				;
			out[o++] = '0';
			out[o++] = 'x';
			out[o++] = '?';
		} else if (s[0] == '(' && isdigit((unsigned char)s[1])) {
			const char *e = s + 1;

			while (isdigit((unsigned char)*e))
				e++;
			if (*e == ')') {
				out[o++] = '(';
				out[o++] = 'N';
				out[o++] = ')';
				s = e + 1;
			} else {
				out[o++] = *s++;
			}
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
}

struct counts {
	int unexplained, explained;
};

static void differ(FILE *out, struct counts *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void differ(FILE *out, struct counts *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	c->unexplained++;
}

static void print_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++)
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	fputc('"', out);
}

/* The log lines of one side that the other lacks (in order). */
static void diff_log(FILE *out, struct counts *c, int lineno,
		     const struct jval *a, const struct jval *b,
		     const char *a_side)
{
	for (size_t i = 0; a && i < a->n; i++) {
		const char *t = log_text(a->items[i]->str ? a->items[i]->str : "");
		char na[1024], nb[1024];
		bool found = false;
		const char *why;

		log_norm(t, na, sizeof(na));
		for (size_t k = 0; b && k < b->n && !found; k++) {
			log_norm(b->items[k]->str ? b->items[k]->str : "", nb,
				 sizeof(nb));
			found = !strcmp(na, nb);
		}
		if (found)
			continue;
		why = explain(a_side, t);
		if (why) {
			c->explained++;
			continue;
		}
		differ(out, c, "line %d: log: only the %s says: ", lineno, a_side);
		print_quoted(out, t);
		fputc('\n', out);
	}
}

static void diff_warn(FILE *out, struct counts *c, int lineno,
		      const struct jval *m, const struct jval *k)
{
	size_t nm = m ? m->n : 0, nk = k ? k->n : 0;

	for (size_t i = 0; i < (nm > nk ? nm : nk); i++) {
		const char *fm = i < nm ? jstr(m->items[i], "func") : NULL;
		const char *fk = i < nk ? jstr(k->items[i], "func") : NULL;

		if (fm && fk && !strcmp(fm, fk))
			continue;
		differ(out, c, "line %d: WARN: model %s, kernel %s\n", lineno,
		       fm ? fm : "none", fk ? fk : "none");
	}
}

static void diff_line(FILE *out, struct counts *c, int n, const struct jval *m,
		      const struct jval *k)
{
	static const char *const keys[] = { "ret", "out", "err" };
	const struct jval *sm, *sk;

	if (!k) {
		differ(out, c, "line %d: the kernel has no result (%s)\n", n,
		       jstr(m, "cmd"));
		return;
	}
	if (!m) {
		differ(out, c, "line %d: the model has no result (%s)\n", n,
		       jstr(k, "cmd"));
		return;
	}
	if (jget(k, "timeout"))
		differ(out, c, "line %d: the kernel's line did not finish (blocked; the model's userspace gives way at once, docs/architecture.md)\n",
		       n);
	if (explain_result(jstr(m, "cmd"), jstr(k, "err"))) {
		c->explained++;
		goto log;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *a = jstr(m, keys[i]), *b = jstr(k, keys[i]);

		if (a && b && !strcmp(a, b))
			continue;
		differ(out, c, "line %d: %s: model ", n, keys[i]);
		print_quoted(out, a);
		fputs(", kernel ", out);
		print_quoted(out, b);
		fputc('\n', out);
	}
	sm = jget(m, "status");
	sk = jget(k, "status");
	if (!sm || !sk || sm->num != sk->num)
		differ(out, c, "line %d: status: model %d, kernel %d\n", n,
		       sm ? (int)sm->num : -1, sk ? (int)sk->num : -1);
log:
	diff_log(out, c, n, jget(m, "log"), jget(k, "log"), "model");
	diff_log(out, c, n, jget(k, "log"), jget(m, "log"), "kernel");
	diff_warn(out, c, n, jget(m, "warn"), jget(k, "warn"));
}

/* The entry of @arr whose @key is the string @name (or number @id). */
static const struct jval *find_by(const struct jval *arr, const char *key,
				  const char *name, double id)
{
	for (size_t i = 0; arr && i < arr->n; i++) {
		const struct jval *v = jget(arr->items[i], key);

		if (v && ((name && v->type == J_STR && !strcmp(v->str, name)) ||
			  (!name && v->type == J_NUM && v->num == id)))
			return arr->items[i];
	}
	return NULL;
}

static void members(const struct jval *g, char *buf, size_t len)
{
	const struct jval *d = jget(g, "devices");

	buf[0] = '\0';
	for (size_t i = 0; d && i < d->n; i++) {
		size_t off = strlen(buf);

		snprintf(buf + off, len - off, "%s%s", i ? " " : "",
			 d->items[i]->str ? d->items[i]->str : "?");
	}
}

static void diff_state(FILE *out, struct counts *c, const struct twin *t,
		       const struct jval *m, const struct jval *k)
{
	const struct jval *md = jget(m, "devices"), *kd = jget(k, "devices");
	const struct jval *mg = jget(m, "groups"), *kg = jget(k, "groups");

	if (!m || !k) {
		differ(out, c, "end: no final state from the %s\n",
		       m ? "kernel" : "model");
		return;
	}
	for (size_t i = 0; i < t->ndev; i++) {
		const char *bdf = t->dev[i].bdf;
		const struct jval *a = find_by(md, "name", bdf, 0);
		const struct jval *b = find_by(kd, "name", bdf, 0);
		const struct jval *ga, *gb;
		const char *da, *db;

		if (!a && !b)
			continue; /* removed on both sides */
		if (!a || !b) {
			differ(out, c, "end: %s: only the %s has it\n", bdf,
			       a ? "model" : "kernel");
			continue;
		}
		da = jstr(a, "driver");
		db = jstr(b, "driver");
		if ((da || db) && (!da || !db || strcmp(da, db)))
			differ(out, c, "end: %s: driver: model %s, kernel %s\n",
			       bdf, da ? da : "none", db ? db : "none");
		ga = jget(a, "group");
		gb = jget(b, "group");
		if ((ga && ga->type == J_NUM) != (gb && gb->type == J_NUM) ||
		    (ga && gb && ga->type == J_NUM && ga->num != gb->num))
			differ(out, c, "end: %s: group: model %d, kernel %d\n", bdf,
			       ga && ga->type == J_NUM ? (int)ga->num : -1,
			       gb && gb->type == J_NUM ? (int)gb->num : -1);
	}
	for (size_t i = 0; mg && i < mg->n; i++) {
		const struct jval *id = jget(mg->items[i], "id");
		const struct jval *other = id ? find_by(kg, "id", NULL, id->num) : NULL;
		const char *owner = jstr(mg->items[i], "owner");
		const struct jval *user = jget(other, "user");
		char a[1024], b[1024];

		if (!id)
			continue;
		members(mg->items[i], a, sizeof(a));
		if (!other) {
			differ(out, c, "end: group %d (%s): the kernel has no such group\n",
			       (int)id->num, a);
			continue;
		}
		members(other, b, sizeof(b));
		if (strcmp(a, b))
			differ(out, c, "end: group %d: model {%s}, kernel {%s}\n",
			       (int)id->num, a, b);
		if (owner && user && (!strcmp(owner, "user")) != (user->num != 0))
			differ(out, c, "end: group %d: owner: model %s, kernel %s\n",
			       (int)id->num, owner, user->num ? "user" : "not user");
	}
	for (size_t i = 0; kg && i < kg->n; i++) {
		const struct jval *id = jget(kg->items[i], "id");
		char b[1024];
		bool mapped = false;

		if (!id || find_by(mg, "id", NULL, id->num))
			continue;
		members(kg->items[i], b, sizeof(b));
		/* a group of q35's own functions the machine leaves out */
		for (size_t d = 0; d < t->ndev; d++)
			mapped |= strstr(b, t->dev[d].bdf) != NULL;
		if (mapped)
			differ(out, c, "end: group %d (%s): the model has no such group\n",
			       (int)id->num, b);
	}
}

int kernel_diff(FILE *out, const struct twin *t, const char *model,
		const char *kernel, const struct kdiff_opts *o)
{
	struct side *m = malloc(sizeof(*m)), *k = malloc(sizeof(*k));
	struct counts c = { 0 };
	int lines = 0;

	(void)o;
	if (!m || !k) {
		free(m);
		free(k);
		fprintf(out, "out of memory\n");
		return 1;
	}
	side_parse(m, model);
	side_parse(k, kernel);
	for (int n = 1; n < MAX_LINES; n++) {
		if (!m->line[n] && !k->line[n])
			continue;
		lines++;
		diff_line(out, &c, n, m->line[n], k->line[n]);
	}
	diff_state(out, &c, t, m->state, k->state);
	fprintf(out, "%d line%s compared, %d difference%s, %d explained (known log lines, docs/oracle.md)\n",
		lines, lines == 1 ? "" : "s", c.unexplained,
		c.unexplained == 1 ? "" : "s", c.explained);
	side_free(m);
	side_free(k);
	free(m);
	free(k);
	return c.unexplained;
}
