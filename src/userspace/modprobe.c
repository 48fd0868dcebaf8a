// SPDX-License-Identifier: MIT
/*
 * modprobe.d and modprobe, as kmod 30 reads and runs them (docs/topology.md
 * "modprobe.d", docs/scripts.md): the rules, read in kmod's sources, are
 *
 * - module names in the configuration have '-' turned into '_'
 *   (underscores()), outside [...] of a glob;
 * - 'options': every line naming the module, in file order, joined by
 *   blanks; the options modprobe is given come after them, so for a
 *   parameter given twice the last wins (kmod_module_get_options());
 * - 'softdep' and 'install': the first line whose glob matches the module,
 *   no other (kmod_module_get_softdeps(), kmod_module_get_install_commands());
 * - a load is a list (kmod_module_get_probe_list()): the pre softdeps,
 *   each with theirs, then the module, then the post softdeps; a module
 *   already loaded is skipped; a softdep that fails is passed over, the
 *   module's own failure ends the load;
 * - 'blacklist' keeps a module from being loaded by an alias: udev's
 *   loads at boot and 'modprobe -b'; 'modprobe NAME' loads it anyway;
 * - an install command runs instead of loading the module; modelled are
 *   'true' (nothing loaded, success) and 'false' (an error).
 *
 * Parameters the model carries out (driver_param_modelled()) reach the
 * driver; the others (vfio-pci's disable_idle_d3=, nouveau's modeset=)
 * are kept in the configuration and printed by 'modprobe -v', nothing more.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "compat/kref.h"
#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "machine/machine-priv.h"
#include "userspace/modprobe.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* words of one module's options kept apart (the rest are dropped) */
#define MODPROBE_WORDS_MAX 256

enum mp_kind {
	MP_OPTIONS,
	MP_SOFTDEP,
	MP_BLACKLIST,
	MP_INSTALL,
};

static const char *const mp_kind_names[] = {
	[MP_OPTIONS] = "options",
	[MP_SOFTDEP] = "softdep",
	[MP_BLACKLIST] = "blacklist",
	[MP_INSTALL] = "install",
};

struct mp_line {
	enum mp_kind kind;
	char *module;	/* underscored; a glob for softdep and install */
	char *text;	/* options, or the install command */
	char **pre, **post;
	size_t npre, npost;
	bool install_ok; /* the install command is 'true' */
};

struct modprobe_conf {
	struct kref kref;
	struct mp_line *v;
	size_t n, cap;
};

struct modprobe_conf *modprobe_conf_new(void)
{
	struct modprobe_conf *c = calloc(1, sizeof(*c));

	if (c)
		kref_init(&c->kref);
	return c;
}

struct modprobe_conf *modprobe_conf_get(struct modprobe_conf *c)
{
	if (c)
		kref_get(&c->kref);
	return c;
}

static void free_words(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void conf_release(struct kref *k)
{
	struct modprobe_conf *c = container_of(k, struct modprobe_conf, kref);

	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].module);
		free(c->v[i].text);
		free_words(c->v[i].pre, c->v[i].npre);
		free_words(c->v[i].post, c->v[i].npost);
	}
	free(c->v);
	free(c);
}

void modprobe_conf_put(struct modprobe_conf *c)
{
	if (c)
		kref_put(&c->kref, conf_release);
}

size_t modprobe_conf_lines(const struct modprobe_conf *c)
{
	return c ? c->n : 0;
}

/* kmod's underscores(): '-' is '_' in module names, but inside [...] */
static char *underscores(const char *s)
{
	char *r = strdup(s);
	int depth = 0;

	for (char *p = r; p && *p; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth)
			depth--;
		else if (*p == '-' && !depth)
			*p = '_';
	}
	return r;
}

static int bad(char *err, size_t errlen, int *ret_word, int word,
	       const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	*ret_word = word;
	return -EINVAL;
}

/* "NAME" or "NAME=VALUE", a parameter as the kernel's parse_args() reads */
static bool param_ok(const char *w)
{
	return *w && *w != '=' && *w != '"';
}

/* The words of @argv from @from, joined by single blanks. */
static char *join(int argc, const char *const *argv, int from)
{
	size_t len = 1;
	char *s;

	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	for (int i = from; s && i < argc; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int parse_softdep(struct mp_line *l, int argc, const char *const *argv,
			 char *err, size_t errlen, int *ret_word)
{
	char ***list = NULL;
	size_t *n = NULL;

	for (int i = 2; i < argc; i++) {
		char **grown, *w;

		if (!strcmp(argv[i], "pre:")) {
			list = &l->pre;
			n = &l->npre;
			continue;
		}
		if (!strcmp(argv[i], "post:")) {
			list = &l->post;
			n = &l->npost;
			continue;
		}
		if (!list)
			return bad(err, errlen, ret_word, i,
				   "expected 'pre:' or 'post:' before '%s'",
				   argv[i]);
		grown = realloc(*list, (*n + 1) * sizeof(**list));
		if (!grown)
			return -ENOMEM;
		*list = grown;
		w = underscores(argv[i]);
		if (!w)
			return -ENOMEM;
		(*list)[(*n)++] = w;
	}
	if (!l->npre && !l->npost)
		return bad(err, errlen, ret_word, argc,
			   "expected 'softdep MODULE pre: MODULE... post: MODULE...'%s",
			   "");
	return 0;
}

/* 'true' or 'false', by any path; NULL: another command */
static const char *install_word(const char *cmd)
{
	const char *base = strrchr(cmd, '/');

	base = base ? base + 1 : cmd;
	return !strcmp(base, "true") || !strcmp(base, "false") ? base : NULL;
}

int modprobe_conf_add(struct modprobe_conf *c, int argc,
		      const char *const *argv, char *err, size_t errlen,
		      int *ret_word)
{
	static const char *const usage[] = {
		[MP_OPTIONS] = "expected 'options MODULE OPTION...'%s",
		[MP_SOFTDEP] = "expected 'softdep MODULE pre: MODULE... post: MODULE...'%s",
		[MP_BLACKLIST] = "expected 'blacklist MODULE'%s",
		[MP_INSTALL] = "expected 'install MODULE COMMAND'%s",
	};
	struct mp_line l = { 0 };
	int kind = -1, ret;

	for (size_t i = 0; argc && i < ARRAY_LEN(mp_kind_names); i++)
		if (!strcmp(argv[0], mp_kind_names[i]))
			kind = (int)i;
	if (argc && (!strcmp(argv[0], "alias") || !strcmp(argv[0], "remove"))) {
		bad(err, errlen, ret_word, 0, "'%s' lines are not modelled",
		    argv[0]);
		return -EOPNOTSUPP;
	}
	if (argc && (!strcmp(argv[0], "include") || !strcmp(argv[0], "config"))) {
		bad(err, errlen, ret_word, 0,
		    "'%s' is deprecated: kmod does not read it", argv[0]);
		return -EOPNOTSUPP;
	}
	if (!argc)
		return bad(err, errlen, ret_word, 0,
			   "expected options, softdep, blacklist or install%s",
			   "");
	if (kind < 0)
		return bad(err, errlen, ret_word, 0,
			   "unknown command '%s'; expected options, softdep, blacklist or install",
			   argv[0]);
	if (argc < (kind == MP_BLACKLIST ? 2 : 3))
		return bad(err, errlen, ret_word, argc, usage[kind], "");
	l.kind = (enum mp_kind)kind;
	switch (l.kind) {
	case MP_OPTIONS:
		for (int i = 2; i < argc; i++)
			if (!param_ok(argv[i]))
				return bad(err, errlen, ret_word, i,
					   "expected a module parameter NAME=VALUE, got '%s'",
					   argv[i]);
		break;
	case MP_INSTALL:
		if (!install_word(argv[2]) || argc > 3) {
			bad(err, errlen, ret_word, 2,
			    "install command '%s' is not modelled; expected /bin/true or /bin/false",
			    argv[2]);
			return -EOPNOTSUPP;
		}
		break;
	default:
		break;
	}
	l.module = underscores(argv[1]);
	if (!l.module)
		return -ENOMEM;
	ret = 0;
	if (l.kind == MP_SOFTDEP)
		ret = parse_softdep(&l, argc, argv, err, errlen, ret_word);
	else if (l.kind == MP_OPTIONS || l.kind == MP_INSTALL)
		ret = (l.text = join(argc, argv, 2)) ? 0 : -ENOMEM;
	if (!ret && l.kind == MP_INSTALL)
		l.install_ok = !strcmp(install_word(argv[2]), "true");
	if (!ret && c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct mp_line *v = realloc(c->v, cap * sizeof(*v));

		if (v) {
			c->v = v;
			c->cap = cap;
		} else {
			ret = -ENOMEM;
		}
	}
	if (ret) {
		free(l.module);
		free(l.text);
		free_words(l.pre, l.npre);
		free_words(l.post, l.npost);
		return ret;
	}
	c->v[c->n++] = l;
	return 0;
}

void modprobe_conf_text(const struct modprobe_conf *c, struct sbuf *sb)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct mp_line *l = &c->v[i];

		sbuf_printf(sb, "%s %s", mp_kind_names[l->kind], l->module);
		if (l->npre)
			sbuf_printf(sb, " pre:");
		for (size_t j = 0; j < l->npre; j++)
			sbuf_printf(sb, " %s", l->pre[j]);
		if (l->npost)
			sbuf_printf(sb, " post:");
		for (size_t j = 0; j < l->npost; j++)
			sbuf_printf(sb, " %s", l->post[j]);
		if (l->text)
			sbuf_printf(sb, " %s", l->text);
		sbuf_printf(sb, "\n");
	}
}

void machine_set_modprobe_conf(struct machine *m, struct modprobe_conf *c)
{
	struct modprobe_conf *old = m->modprobe;

	m->modprobe = modprobe_conf_get(c);
	modprobe_conf_put(old);
}

/* ---- loading ---- */

/* The first softdep or install line for @module (fnmatch), or NULL. */
static const struct mp_line *first_match(const struct modprobe_conf *c,
					 enum mp_kind kind, const char *module)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->v[i].kind == kind &&
		    !fnmatch(c->v[i].module, module, 0))
			return &c->v[i];
	return NULL;
}

static bool blacklisted(const struct modprobe_conf *c, const char *module)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->v[i].kind == MP_BLACKLIST &&
		    !strcmp(c->v[i].module, module))
			return true;
	return false;
}

/* A module of the probe list: its driver and the name it goes by. */
struct probe_item {
	const struct driver_desc *desc;
	const char *asked;
	char module[MODULE_NAME_LEN];
};

struct probe_list {
	struct probe_item v[64];
	size_t n;
	const struct driver_desc *visited[64];
	size_t nvisited;
};

/* kmod_module_get_probe_list(): pre softdeps, the module, post softdeps */
static void probe_list_add(const struct modprobe_conf *c,
			   struct probe_list *pl, const char *asked)
{
	const struct driver_desc *desc = driver_desc_find(asked);
	const struct mp_line *dep;
	struct probe_item it;

	/* not in the catalogue: kmod finds no module, and goes on */
	if (!desc || pl->nvisited == ARRAY_LEN(pl->visited) ||
	    pl->n == ARRAY_LEN(pl->v))
		return;
	for (size_t i = 0; i < pl->nvisited; i++)
		if (pl->visited[i] == desc)
			return;
	/* the name modprobe was given; a softdep's file by its driver */
	it.asked = pl->nvisited ? desc->name : asked;
	pl->visited[pl->nvisited++] = desc;
	it.desc = desc;
	/* built in: always there, nothing to load */
	if (!driver_module_name(desc, it.module, sizeof(it.module)))
		it.module[0] = '\0';
	dep = it.module[0] ? first_match(c, MP_SOFTDEP, it.module) : NULL;
	for (size_t i = 0; dep && i < dep->npre; i++)
		probe_list_add(c, pl, dep->pre[i]);
	if (pl->n < ARRAY_LEN(pl->v))
		pl->v[pl->n++] = it;
	for (size_t i = 0; dep && i < dep->npost; i++)
		probe_list_add(c, pl, dep->post[i]);
}

/* A word's parameter name: up to '=', '-' as '_' (parameq()). */
static void param_name(const char *w, char *buf, size_t len)
{
	size_t n = strcspn(w, "=");

	snprintf(buf, len, "%.*s", (int)n, w);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

/*
 * A parameter given twice is set twice, the last value staying (the
 * kernel's parse_args() calls its setter in order): keep only the last.
 */
static void last_wins(struct sbuf *sb)
{
	char *words[MODPROBE_WORDS_MAX], *save = NULL, *copy;
	size_t n = 0, at = 0;

	if (!sb->buf || sb->oom || !(copy = strdup(sb->buf)))
		return;
	for (char *w = strtok_r(copy, " ", &save); w && n < MODPROBE_WORDS_MAX;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	for (size_t i = 0; i < n; i++) {
		char a[64], b[64];
		bool later = false;

		param_name(words[i], a, sizeof(a));
		for (size_t j = i + 1; j < n && !later; j++) {
			param_name(words[j], b, sizeof(b));
			later = !strcmp(a, b);
		}
		if (!later)
			at += (size_t)sprintf(sb->buf + at, "%s%s",
					      at ? " " : "", words[i]);
	}
	sb->len = at;
	free(copy);
}

/*
 * The options of @module: the modprobe.d lines naming it, then @extra;
 * all of them into @all (what modprobe -v prints), the ones the driver
 * carries out into @modelled.
 */
static void module_options(const struct modprobe_conf *c,
			   const struct driver_desc *desc, const char *module,
			   const char *extra, struct sbuf *all,
			   struct sbuf *modelled)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct mp_line *l = &c->v[i];
		char *copy, *save = NULL;

		if (l->kind != MP_OPTIONS || strcmp(l->module, module))
			continue;
		sbuf_printf(all, "%s%s", all->len ? " " : "", l->text);
		copy = strdup(l->text);
		if (!copy) {
			modelled->oom = true;
			continue;
		}
		for (char *w = strtok_r(copy, " ", &save); w;
		     w = strtok_r(NULL, " ", &save)) {
			char name[64];

			param_name(w, name, sizeof(name));
			if (driver_param_modelled(desc, name))
				sbuf_printf(modelled, "%s%s",
					    modelled->len ? " " : "", w);
		}
		free(copy);
	}
	if (extra && *extra) {
		sbuf_printf(all, "%s%s", all->len ? " " : "", extra);
		sbuf_printf(modelled, "%s%s", modelled->len ? " " : "", extra);
	}
	last_wins(modelled);
}

static const char *kver(struct machine *m)
{
	const char *r = machine_kernel_release(m, NULL, NULL);

	return r ? r : MODPROBE_DEFAULT_KVER;
}

/* One module of the list: its install command, or the load itself. */
static int probe_one(struct machine *m, const struct probe_item *it,
		     const char *extra, unsigned int flags, bool main,
		     struct sbuf *out, struct sbuf *err)
{
	const struct modprobe_conf *c = m->modprobe;
	struct sbuf all = { 0 }, modelled = { 0 };
	const struct mp_line *inst;
	int ret;

	if (!it->module[0] || machine_find_driver(m, it->desc->name))
		return -EEXIST;
	module_options(c, it->desc, it->module, main ? extra : NULL, &all,
		       &modelled);
	if (all.oom || modelled.oom) {
		ret = -ENOMEM;
		goto out;
	}
	inst = (main && (flags & MODPROBE_IGNORE_INSTALL)) ?
		       NULL :
		       first_match(c, MP_INSTALL, it->module);
	if (inst) {
		if (flags & MODPROBE_VERBOSE)
			sbuf_printf(out, "install %s %s\n", inst->text,
				    all.buf ? all.buf : "");
		ret = 0;
		if (!inst->install_ok) {
			sbuf_printf(err,
				    "modprobe: ERROR: Error running install command '%s' for module %s: retcode 1\n",
				    inst->text, it->module);
			ret = MODPROBE_INSTALL_FAILED;
		}
		goto out;
	}
	if (flags & MODPROBE_VERBOSE)
		sbuf_printf(out, "insmod /lib/modules/%s/kernel/%s.ko%s%s\n",
			    kver(m), it->asked, all.buf ? " " : "",
			    all.buf ? all.buf : "");
	ret = driver_load_params(m, it->desc->name, modelled.buf);
out:
	free(all.buf);
	free(modelled.buf);
	return ret;
}

int modprobe_insert(struct machine *m, const char *name, const char *params,
		    unsigned int flags, struct sbuf *out, struct sbuf *err)
{
	const struct driver_desc *desc = driver_desc_find(name);
	const struct modprobe_conf *c = m->modprobe;
	struct probe_list *pl;
	char module[MODULE_NAME_LEN];
	int ret = 0;

	/* VFIO selects IOMMU_API: without it there is no vfio module */
	if (!desc ||
	    (driver_probe_is_vfio(desc->probe) && !m->cfg.iommu_api))
		return -ENOENT;
	if (!driver_module_name(desc, module, sizeof(module)))
		return driver_load_params(m, name, params);
	if ((flags & MODPROBE_USE_BLACKLIST) && blacklisted(c, module))
		return 0;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	probe_list_add(c, pl, name);
	for (size_t i = 0; i < pl->n; i++) {
		bool main = pl->v[i].desc == desc;
		int r = probe_one(m, &pl->v[i], params, flags, main, out, err);

		/* a softdep's failure is passed over; loaded is no failure */
		if (main && r != -EEXIST && r) {
			ret = r;
			break;
		}
	}
	free(pl);
	return ret;
}
