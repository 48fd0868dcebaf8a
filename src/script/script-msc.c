// SPDX-License-Identifier: MIT
/*
 * A script's run as a message sequence chart (docs/pictures.md): lanes for
 * the shell, each process a line names with '@as NAME', the kernel (driver
 * core, VFIO, iommufd) and each IOMMU group whose ownership the run
 * changed; time runs down. Each line is an arrow from the process that ran
 * it to the kernel, labelled with the line and its result; each change of
 * a group's owner, owner_cnt or domain an arrow from the kernel to the
 * group, labelled with its new state; the first line after which an
 * invariant broke is marked with the invariant, why, and the groups' counts
 * then. Built from the run's own per-line results (struct script_result)
 * and the machine's state after each line, never from printed text.
 * dmaown's own; no kernel counterpart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

struct msc_change {
	int group;
	char *state;
};

struct msc_step {
	int lineno;
	char *text;		/* the line, its '@as NAME' prefixes left out */
	size_t actor;		/* its lane */
	char *result;
	bool failed;
	bool queued;		/* in an @concurrent block still open */
	struct msc_change *changes;
	size_t nchanges;
	unsigned int violated;
	char *why;
	char *counts;		/* the changed groups' states at the mark */
};

struct msc {
	char *title;
	char **actors;		/* "shell" first, then in order of appearance */
	size_t nactors;
	int *groups;		/* the groups some line changed, in id order */
	size_t ngroups;
	struct msc_step *steps;
	size_t nsteps;
	char **state;		/* each group's state after the last step */
	int nstate;
	bool marked;		/* the first violation is drawn */
	bool oom;
};

static char *xstrdup(struct msc *c, const char *s)
{
	char *d = strdup(s ? s : "");

	c->oom |= !d;
	return d;
}

/* Every group's state now, by id (NULL: no group of that id). */
static char **msc_snapshot(struct msc *c, struct machine *m, int *ret_n)
{
	struct iommu_group *g;
	char **v;

	mutex_lock(&m->obj_lock);
	*ret_n = m->groups_cap;
	v = calloc((size_t)m->groups_cap + 1, sizeof(*v));
	if (!v) {
		c->oom = true;
		*ret_n = 0;
		mutex_unlock(&m->obj_lock);
		return NULL;
	}
	list_for_each_entry(g, &m->groups, node) {
		struct sbuf sb = { 0 };

		if (g->id < 0 || g->id >= m->groups_cap)
			continue;
		machine_group_state(m, g, &sb, false);
		c->oom |= sb.oom;
		v[g->id] = sb.buf;
	}
	mutex_unlock(&m->obj_lock);
	return v;
}

static void msc_free_state(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

struct msc *script_msc_new(struct machine *m, const char *title)
{
	struct msc *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->title = xstrdup(c, title);
	c->actors = calloc(1, sizeof(*c->actors));
	if (c->actors) {
		c->actors[0] = xstrdup(c, "shell");
		c->nactors = 1;
	}
	c->state = msc_snapshot(c, m, &c->nstate);
	if (!c->actors || c->oom) {
		script_msc_free(c);
		return NULL;
	}
	return c;
}

void script_msc_free(struct msc *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsteps; i++) {
		struct msc_step *s = &c->steps[i];

		free(s->text);
		free(s->result);
		free(s->why);
		free(s->counts);
		for (size_t k = 0; k < s->nchanges; k++)
			free(s->changes[k].state);
		free(s->changes);
	}
	for (size_t i = 0; i < c->nactors; i++)
		free(c->actors[i]);
	free(c->actors);
	free(c->groups);
	free(c->steps);
	free(c->title);
	msc_free_state(c->state, c->nstate);
	free(c);
}

/* The lane of process @name, added on first sight. */
static size_t msc_actor(struct msc *c, const char *name, size_t len)
{
	char **v;

	for (size_t i = 0; i < c->nactors; i++)
		if (strlen(c->actors[i]) == len &&
		    !strncmp(c->actors[i], name, len))
			return i;
	v = realloc(c->actors, (c->nactors + 1) * sizeof(*v));
	if (!v) {
		c->oom = true;
		return 0;
	}
	c->actors = v;
	c->actors[c->nactors] = strndup(name, len);
	c->oom |= !c->actors[c->nactors];
	return c->nactors++;
}

/*
 * The line without its '@as NAME ' prefixes (the lane says who), and the
 * first of those names: the process the line runs as.
 */
static char *msc_strip(struct msc *c, const char *line, size_t *ret_actor)
{
	struct sbuf sb = { 0 };
	const char *p = line;
	bool first = true;

	*ret_actor = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p) {
		const char *q = p;

		while (*q == ' ')
			q++;
		if (!strncmp(q, "@as ", 4) && (q == p || q[-1] == ' ')) {
			const char *name = q + 4;
			size_t len = strcspn(name, " \t");

			if (first)
				*ret_actor = msc_actor(c, name, len);
			first = false;
			sbuf_putn(&sb, p, (size_t)(q - p));
			p = name + len;
			while (*p == ' ')
				p++;
			continue;
		}
		first = false;
		sbuf_putc(&sb, *p++);
	}
	c->oom |= sb.oom;
	return sb.buf ? sb.buf : xstrdup(c, "");
}

/* "ok", "ok: fd 3", "EBUSY (Device or resource busy)", "exit status 1" */
static char *msc_result(struct msc *c, struct machine *m,
			const struct script_result *res)
{
	struct sbuf sb = { 0 };
	const char *out = res->out ? res->out : "";

	if (res->ret)
		sbuf_printf(&sb, "%s (%s)", errno_name(res->ret),
			    errno_text(res->ret));
	else if (res->status)
		sbuf_printf(&sb, "exit status %d", res->status);
	else
		sbuf_printf(&sb, "ok");
	/* what a VFIO verb answers ("fd 3", "ioas 1") says what came of it */
	if (!res->status && *out && strcspn(out, "\n") <= 24 &&
	    !strchr(out + strcspn(out, "\n") + 1, '\n'))
		sbuf_printf(&sb, ": %.*s", (int)strcspn(out, "\n"), out);
	if (res->concurrent)
		sbuf_printf(&sb, " (the @concurrent block: %d tasks)", res->concurrent);
	for (size_t i = 0; i < res->nwarn; i++) {
		const struct warn_report *w = machine_warn(m, res->warn_first + i);

		if (w)
			sbuf_printf(&sb, "\nWARNING at %s:%d %s", w->file,
				    w->upstream_line ? w->upstream_line : w->line,
				    w->func);
	}
	c->oom |= sb.oom;
	return sb.buf ? sb.buf : xstrdup(c, "");
}

static void msc_note_group(struct msc *c, int id)
{
	size_t i;
	int *v;

	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == id)
			return;
	v = realloc(c->groups, (c->ngroups + 1) * sizeof(*v));
	if (!v) {
		c->oom = true;
		return;
	}
	c->groups = v;
	for (i = c->ngroups; i > 0 && c->groups[i - 1] > id; i--)
		c->groups[i] = c->groups[i - 1];
	c->groups[i] = id;
	c->ngroups++;
}

int script_msc_step(struct msc *c, struct machine *m, int lineno,
		    const char *line, const struct script_result *res,
		    bool queued, unsigned int violated, const char *why)
{
	struct msc_step *s, *v = realloc(c->steps,
					 (c->nsteps + 1) * sizeof(*v));
	char **now;
	int nnow;

	if (!v)
		return -ENOMEM;
	c->steps = v;
	s = &c->steps[c->nsteps++];
	memset(s, 0, sizeof(*s));
	s->lineno = lineno;
	s->text = msc_strip(c, line, &s->actor);
	s->result = queued ? xstrdup(c, "queued: runs when the @concurrent block is complete") :
			     msc_result(c, m, res);
	s->queued = queued;
	s->failed = res->status || res->nwarn;
	now = msc_snapshot(c, m, &nnow);
	for (int id = 0; now && id < nnow; id++) {
		const char *was = id < c->nstate ? c->state[id] : NULL;
		struct msc_change *ch;

		if (!now[id] || (was && !strcmp(was, now[id])))
			continue;
		ch = realloc(s->changes, (s->nchanges + 1) * sizeof(*ch));
		if (!ch) {
			c->oom = true;
			break;
		}
		s->changes = ch;
		s->changes[s->nchanges].group = id;
		s->changes[s->nchanges++].state = xstrdup(c, now[id]);
		msc_note_group(c, id);
	}
	msc_free_state(c->state, c->nstate);
	c->state = now;
	c->nstate = nnow;
	if (violated && !c->marked) {
		struct sbuf sb = { 0 };

		c->marked = true;
		s->violated = violated;
		s->why = xstrdup(c, why);
		for (size_t i = 0; i < c->ngroups; i++) {
			int id = c->groups[i];

			sbuf_printf(&sb, "%sgroup %d: %s", i ? "\n" : "", id,
				    id < nnow && now && now[id] ? now[id] :
								  "gone");
		}
		c->oom |= sb.oom;
		s->counts = sb.buf ? sb.buf : xstrdup(c, "");
	}
	return c->oom ? -ENOMEM : 0;
}

/* Append @s inside a DOT quoted string; newlines become left-justified. */
static void msc_dot_str(struct sbuf *sb, const char *s, const char *nl)
{
	for (; *s; s++) {
		if (*s == '\n') {
			sbuf_printf(sb, "%s", nl);
			continue;
		}
		if (*s == '"' || *s == '\\')
			sbuf_putc(sb, '\\');
		if ((unsigned char)*s >= 0x20)
			sbuf_putc(sb, *s);
	}
}

/* A line cut at " && " and "; " when long, so that arrows stay narrow. */
static void msc_dot_line(struct sbuf *sb, const char *s)
{
	size_t col = 0;

	for (; *s; s++, col++) {
		if (col > 40 && (!strncmp(s, " && ", 4) || !strncmp(s, "; ", 2) ||
				 !strncmp(s, " | ", 3))) {
			sbuf_printf(sb, "\\l   ");
			col = 3;
			s++;
		}
		if (*s == '"' || *s == '\\')
			sbuf_putc(sb, '\\');
		if ((unsigned char)*s >= 0x20)
			sbuf_putc(sb, *s);
	}
}

/* Lanes: actors, the kernel, the groups. */
static size_t msc_lanes(const struct msc *c)
{
	return c->nactors + 1 + c->ngroups;
}

static size_t msc_group_lane(const struct msc *c, int id)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == id)
			return c->nactors + 1 + i;
	return c->nactors;
}

/* One row of the chart: a point on every lane, the lifelines continued. */
static void msc_row(struct sbuf *sb, size_t lanes, const char *row,
		    const char *prev)
{
	sbuf_printf(sb, "\t{ rank=same;");
	for (size_t l = 0; l < lanes; l++)
		sbuf_printf(sb, " \"%s.%zu\";", row, l);
	sbuf_printf(sb, " }\n");
	for (size_t l = 0; l < lanes; l++)
		sbuf_printf(sb, "\t\"%s.%zu\" -> \"%s.%zu\" [style=dashed, color=\"#a0a0a0\", weight=100];\n",
			    prev, l, row, l);
}

char *script_msc_dot(struct msc *c)
{
	struct sbuf sb = { 0 };
	size_t lanes = msc_lanes(c);
	char prev[32] = "head", row[32];

	sbuf_printf(&sb, "digraph msc {\n\tgraph [rankdir=TB, newrank=true, splines=false, nodesep=1.6, ranksep=0.3, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=\"");
	msc_dot_str(&sb, c->title, "\\n");
	sbuf_printf(&sb, "\"];\n\tnode [shape=point, width=0.05, height=0.05, color=\"#a0a0a0\", fontname=\"Helvetica\", fontsize=10];\n\tedge [arrowhead=none, fontname=\"Helvetica\", fontsize=9];\n");
	for (size_t l = 0; l < lanes; l++) {
		sbuf_printf(&sb, "\t\"head.%zu\" [shape=box, style=\"rounded,filled\", width=1.4, height=0.4, color=\"#404040\", fillcolor=\"%s\", label=\"",
			    l, l < c->nactors ? "#fff3c4" : l == c->nactors ? "#dbe9f6" : "#fbdde6");
		if (l < c->nactors) {
			sbuf_printf(&sb, "%s", l ? "process " : "");
			msc_dot_str(&sb, c->actors[l], " ");
		} else if (l == c->nactors) {
			sbuf_printf(&sb, "kernel\\ndriver core, VFIO, iommufd");
		} else {
			sbuf_printf(&sb, "IOMMU group %d",
				    c->groups[l - c->nactors - 1]);
		}
		sbuf_printf(&sb, "\"];\n");
	}
	sbuf_printf(&sb, "\t{ rank=same;");
	for (size_t l = 0; l < lanes; l++)
		sbuf_printf(&sb, " \"head.%zu\";", l);
	sbuf_printf(&sb, " }\n");
	/* the lanes in order, left to right */
	for (size_t l = 1; l < lanes; l++)
		sbuf_printf(&sb, "\t\"head.%zu\" -> \"head.%zu\" [style=invis];\n",
			    l - 1, l);
	for (size_t i = 0; i < c->nsteps; i++) {
		const struct msc_step *s = &c->steps[i];
		const char *colour = s->violated ? "#c0265a" :
				     s->failed ? "#b06000" :
				     s->queued ? "#808080" : "#202020";

		snprintf(row, sizeof(row), "s%zu", i);
		msc_row(&sb, lanes, row, prev);
		sbuf_printf(&sb, "\t\"%s.%zu\" -> \"%s.%zu\" [constraint=false, arrowhead=normal, color=\"%s\", fontcolor=\"%s\"%s, label=\"%d: ",
			    row, s->actor, row, c->nactors, colour, colour,
			    s->queued ? ", style=dashed" : "", s->lineno);
		msc_dot_line(&sb, s->text);
		sbuf_printf(&sb, "\\l=> ");
		msc_dot_str(&sb, s->result, "\\l   ");
		sbuf_printf(&sb, "\\l\"];\n");
		snprintf(prev, sizeof(prev), "%s", row);
		for (size_t k = 0; k < s->nchanges; k++) {
			snprintf(row, sizeof(row), "s%zu.%zu", i, k);
			msc_row(&sb, lanes, row, prev);
			sbuf_printf(&sb, "\t\"%s.%zu\" -> \"%s.%zu\" [constraint=false, arrowhead=normal, color=\"#2b6cb0\", fontcolor=\"#2b6cb0\", label=\"",
				    row, c->nactors, row,
				    msc_group_lane(c, s->changes[k].group));
			msc_dot_str(&sb, s->changes[k].state, " ");
			sbuf_printf(&sb, "\"];\n");
			snprintf(prev, sizeof(prev), "%s", row);
		}
		if (s->violated) {
			/* the mark: a note across the kernel's lane */
			snprintf(row, sizeof(row), "v%zu", i);
			msc_row(&sb, lanes, row, prev);
			sbuf_printf(&sb, "\t\"%s.%zu\" [shape=note, style=filled, fillcolor=\"#fde2e2\", color=\"#c0265a\", width=0, height=0, label=\"%s violated after line %d\\n",
				    row, c->nactors,
				    check_invariant_name(s->violated & -s->violated),
				    s->lineno);
			msc_dot_str(&sb, s->why, "\\n");
			sbuf_printf(&sb, "\\n");
			msc_dot_str(&sb, s->counts, "\\n");
			sbuf_printf(&sb, "\"];\n");
			snprintf(prev, sizeof(prev), "%s", row);
		}
	}
	snprintf(row, sizeof(row), "end");
	msc_row(&sb, lanes, row, prev);
	sbuf_printf(&sb, "}\n");
	if (sb.oom || c->oom) {
		free(sb.buf);
		return NULL;
	}
	return sb.buf;
}
