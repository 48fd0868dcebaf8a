// SPDX-License-Identifier: MIT
/*
 * A run's visited states on disk, and the union of several runs: the
 * shards of one search (`dmaown check --shard I/N --save-states FILE`),
 * run anywhere (GNU parallel, a Slurm array), merged into the figures and
 * the verdict of one unsharded run (`dmaown check --merge FILE...`). The
 * format is docs/states-file.md.
 *
 * Why a union gives one run's states: a shard explores from boot only the
 * first actions i with i mod N == I, and then every action. A shortest
 * path from boot to a state never comes back to boot, so it lies wholly in
 * the shard of its first action, which finds the state at its true depth;
 * every other shard that finds it finds it deeper. The union of the
 * shards' sets is the whole set, and a state's depth is the least of its
 * depths in the shards. With a bound D, each shard holds the states it
 * reaches within D, and the union is every state within D of boot.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"

#define STATES_MAGIC "dmaown-states"
#define STATES_FORMAT 1
#define RECORD_BYTES 20 /* hash[0], hash[1] (little endian), depth (u32) */
#define DEPTH_LIMIT 1000000u

struct check_states {
	unsigned char *rec; /* RECORD_BYTES each */
	size_t n, cap;
};

struct check_states *check_states_new(void)
{
	return calloc(1, sizeof(struct check_states));
}

void check_states_free(struct check_states *cs)
{
	if (!cs)
		return;
	free(cs->rec);
	free(cs);
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int check_states_visit(void *ctx, const uint64_t hash[2], unsigned int depth)
{
	struct check_states *cs = ctx;
	unsigned char *r;

	if (cs->n == cs->cap) {
		size_t ncap = cs->cap ? cs->cap * 2 : 1024;
		unsigned char *nr = realloc(cs->rec, ncap * RECORD_BYTES);

		if (!nr)
			return -ENOMEM;
		cs->rec = nr;
		cs->cap = ncap;
	}
	r = cs->rec + cs->n++ * RECORD_BYTES;
	put_le(r, hash[0], 8);
	put_le(r + 8, hash[1], 8);
	put_le(r + 16, depth, 4);
	return 0;
}

/*
 * What must be the same in every file merged: the options that shape the
 * search, as a command line. The shard is apart: it is what differs.
 */
static void options_line(const struct check_opts *o, char *buf, size_t len)
{
	size_t n;

	if (o->depth < 0)
		n = (size_t)snprintf(buf, len, "--depth max");
	else
		n = (size_t)snprintf(buf, len, "--depth %d", o->depth);
	n += (size_t)snprintf(buf + n, len - n, " --max-states %lu --max-memory %zu",
			      o->max_states, o->max_memory);
	for (unsigned int f = 1; machine_fault_name(f) && n < len; f <<= 1)
		if (o->faults & f)
			n += (size_t)snprintf(buf + n, len - n, " --fault %s",
					      machine_fault_name(f));
	if (o->probe_faults && n < len)
		snprintf(buf + n, len - n, " --probe-faults");
}

/* The inverse of options_line(); 0, or -EINVAL. */
static int parse_options_line(const char *line, struct check_opts *o)
{
	char word[64], arg[64];
	int used;

	memset(o, 0, sizeof(*o));
	o->depth = -1;
	while (*line) {
		if (sscanf(line, " %63s%n", word, &used) != 1)
			break;
		line += used;
		if (!strcmp(word, "--probe-faults")) {
			o->probe_faults = true;
			continue;
		}
		if (sscanf(line, " %63s%n", arg, &used) != 1)
			return -EINVAL;
		line += used;
		if (!strcmp(word, "--depth")) {
			char *end;
			long d = strtol(arg, &end, 10);

			if (!strcmp(arg, "max"))
				o->depth = -1;
			else if (*end || d < 0 || d > (long)DEPTH_LIMIT)
				return -EINVAL;
			else
				o->depth = (int)d;
		} else if (!strcmp(word, "--max-states")) {
			o->max_states = strtoul(arg, NULL, 10);
		} else if (!strcmp(word, "--max-memory")) {
			o->max_memory = strtoul(arg, NULL, 10);
		} else if (!strcmp(word, "--fault")) {
			unsigned int f;

			for (f = 1; machine_fault_name(f); f <<= 1)
				if (!strcmp(machine_fault_name(f), arg))
					break;
			if (!machine_fault_name(f))
				return -EINVAL;
			o->faults |= f;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static void hex128(const uint64_t h[2], char buf[33])
{
	snprintf(buf, 33, "%016" PRIx64 "%016" PRIx64, h[0], h[1]);
}

static int unhex128(const char *s, uint64_t h[2])
{
	char a[17], b[17];

	if (strlen(s) != 32 || strspn(s, "0123456789abcdef") != 32)
		return -EINVAL;
	memcpy(a, s, 16);
	memcpy(b, s + 16, 16);
	a[16] = b[16] = 0;
	h[0] = strtoull(a, NULL, 16);
	h[1] = strtoull(b, NULL, 16);
	return 0;
}

/*
 * Where a violation sits in the order one unsharded run meets them: the
 * level of the state whose step broke the invariant, then the number of
 * the first action from boot on its path (-1: at boot itself). A run
 * meets the violations of a level in the lexical order of their paths,
 * and the shard of the first action meets the same first one, so the
 * least of the shards' keys is the unsharded run's violation.
 */
static long first_action(struct machine *boot, const struct check_opts *o,
			 const struct check_stats *st)
{
	struct machine *m;
	char **acts;
	size_t nacts;
	long found = -1;

	if (!st->path_len || !st->trace_len || !st->trace[0])
		return -1;
	m = machine_clone(boot);
	if (!m || check_prepare(m) || check_actions(m, o, &acts, &nacts)) {
		machine_destroy(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nacts; i++) {
		if (found < 0 && !strcmp(acts[i], st->trace[0]))
			found = (long)i;
		free(acts[i]);
	}
	free(acts);
	machine_destroy(m);
	return found < 0 ? -EINVAL : found;
}

static const char *truncated_word(const struct check_opts *o,
				  const struct check_stats *st)
{
	if (!st->truncated)
		return "no";
	return o->max_states && st->states >= o->max_states ? "max-states" :
							      "max-memory";
}

int check_states_save(struct check_states *cs, const char *file,
		      const char *spec, struct machine *boot,
		      const struct check_opts *o, const struct check_stats *st,
		      char *err, size_t err_len)
{
	uint64_t root[2], sum[2];
	char opts[512], hex[33];
	long first = 0;
	FILE *f;

	if (!cs->n) {
		snprintf(err, err_len, "%s: no state to save", file);
		return -EINVAL;
	}
	if (st->violated) {
		first = first_action(boot, o, st);
		if (first < -1) {
			snprintf(err, err_len, "%s: %s", file,
				 first == -ENOMEM ?
					 "out of memory" :
					 "the counterexample's first line is no action from boot");
			return (int)first;
		}
	}
	f = fopen(file, "wb");
	if (!f) {
		snprintf(err, err_len, "%s: %s", file, errno_text(errno));
		return -errno;
	}
	root[0] = get_le(cs->rec, 8);
	root[1] = get_le(cs->rec + 8, 8);
	hex128(root, hex);
	options_line(o, opts, sizeof(opts));
	fprintf(f, "%s %d\nversion %s\nmachine %s\nroot %s\noptions %s\n",
		STATES_MAGIC, STATES_FORMAT, DMAOWN_VERSION, spec, hex, opts);
	fprintf(f, "shard %u/%u\n", o->nshards > 1 ? o->shard : 0,
		o->nshards > 1 ? o->nshards : 1);
	fprintf(f, "figures %lu %d %d %.3f %s\n", st->transitions, st->depth,
		st->diameter, st->seconds, truncated_word(o, st));
	if (st->violated) {
		fprintf(f, "violation %u %d %ld %d\n", st->violated, st->depth,
			first, st->path_len);
		fprintf(f, "why %s\n", st->why);
		for (int i = 0; i < st->trace_len; i++)
			fprintf(f, "trace %s\n", st->trace[i] ? st->trace[i] : "");
	}
	fprintf(f, "states %zu\n", cs->n);
	fwrite(cs->rec, RECORD_BYTES, cs->n, f);
	machine_state_hash128((const char *)cs->rec, cs->n * RECORD_BYTES, sum);
	hex128(sum, hex);
	fprintf(f, "end %s\n", hex);
	if (ferror(f) | fclose(f)) {
		snprintf(err, err_len, "%s: %s", file, errno_text(errno));
		return -EIO;
	}
	return 0;
}

/* ---- merging ---- */

struct slot {
	uint64_t h[2];
	uint32_t depth; /* UINT32_MAX: empty */
};

struct table {
	struct slot *s;
	size_t n, nslots;
};

static int table_grow(struct table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 1024;
	struct slot *s = malloc(n * sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s[i].depth = UINT32_MAX;
	for (size_t i = 0; i < t->nslots; i++) {
		size_t j;

		if (t->s[i].depth == UINT32_MAX)
			continue;
		for (j = t->s[i].h[0] & (n - 1); s[j].depth != UINT32_MAX;
		     j = (j + 1) & (n - 1))
			;
		s[j] = t->s[i];
	}
	free(t->s);
	t->s = s;
	t->nslots = n;
	return 0;
}

/* Add a state, keeping its least depth; 1 if new, 0 if known, -ENOMEM. */
static int table_add(struct table *t, const uint64_t h[2], uint32_t depth)
{
	size_t j;

	if ((t->n + 1) * 2 > t->nslots && table_grow(t))
		return -ENOMEM;
	for (j = h[0] & (t->nslots - 1); t->s[j].depth != UINT32_MAX;
	     j = (j + 1) & (t->nslots - 1)) {
		if (t->s[j].h[0] == h[0] && t->s[j].h[1] == h[1]) {
			if (depth < t->s[j].depth)
				t->s[j].depth = depth;
			return 0;
		}
	}
	t->s[j] = (struct slot){ { h[0], h[1] }, depth };
	t->n++;
	return 1;
}

/* One file's header, as read. */
struct header {
	char *machine;
	char *options;
	uint64_t root[2];
	unsigned int shard, nshards;
	unsigned long transitions;
	int depth, diameter;
	double seconds;
	char truncated[16];
	unsigned int violated;
	int vlevel, path_len;
	long vfirst;
	char *why;
	char **trace;
	int trace_len;
	size_t nstates;
};

static void header_free(struct header *h)
{
	free(h->machine);
	free(h->options);
	free(h->why);
	for (int i = 0; i < h->trace_len; i++)
		free(h->trace[i]);
	free(h->trace);
	memset(h, 0, sizeof(*h));
}

#define FAIL(...)                                                  \
	do {                                                       \
		snprintf(err, err_len, __VA_ARGS__);               \
		ret = -EINVAL;                                     \
		goto out;                                          \
	} while (0)

/*
 * Read one file's header, up to and including its "states N" line.
 * Errors name the file and line.
 */
static int read_header(FILE *f, const char *file, struct header *h, char *err,
		       size_t err_len)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, ret = 0, fmt;
	bool have[6] = { false };
	static const char *const need[6] = { "version", "machine", "root",
					      "options", "shard", "figures" };

	memset(h, 0, sizeof(*h));
	while ((len = getline(&line, &cap, f)) > 0) {
		char *val;

		lineno++;
		if (line[len - 1] != '\n')
			FAIL("%s:%d: the line has no end: the file is cut short",
			     file, lineno);
		line[--len] = 0;
		val = strchr(line, ' ');
		if (!val)
			FAIL("%s:%d: '%s' is no 'KEY VALUE' line", file, lineno,
			     line);
		*val++ = 0;
		if (lineno == 1) {
			char extra;

			if (strcmp(line, STATES_MAGIC) ||
			    sscanf(val, "%d%c", &fmt, &extra) != 1)
				FAIL("%s:1: not a dmaown states file (no '%s N' line)",
				     file, STATES_MAGIC);
			if (fmt != STATES_FORMAT)
				FAIL("%s:1: states format %d; this dmaown reads format %d",
				     file, fmt, STATES_FORMAT);
			continue;
		}
		if (!strcmp(line, "version")) {
			if (strcmp(val, DMAOWN_VERSION))
				FAIL("%s:%d: saved by dmaown %s; this is dmaown %s, whose actions may differ",
				     file, lineno, val, DMAOWN_VERSION);
			have[0] = true;
		} else if (!strcmp(line, "machine")) {
			free(h->machine);
			h->machine = strdup(val);
			if (!h->machine)
				FAIL("%s: out of memory", file);
			have[1] = true;
		} else if (!strcmp(line, "root")) {
			if (unhex128(val, h->root))
				FAIL("%s:%d: root: '%s' is not 32 hex digits",
				     file, lineno, val);
			have[2] = true;
		} else if (!strcmp(line, "options")) {
			struct check_opts o;

			if (parse_options_line(val, &o))
				FAIL("%s:%d: options: '%s' is not what --save-states writes",
				     file, lineno, val);
			free(h->options);
			h->options = strdup(val);
			if (!h->options)
				FAIL("%s: out of memory", file);
			have[3] = true;
		} else if (!strcmp(line, "shard")) {
			char extra;

			if (sscanf(val, "%u/%u%c", &h->shard, &h->nshards,
				   &extra) != 2 ||
			    !h->nshards || h->shard >= h->nshards)
				FAIL("%s:%d: shard: '%s' is not I/N with 0 <= I < N",
				     file, lineno, val);
			have[4] = true;
		} else if (!strcmp(line, "figures")) {
			char extra;

			if (sscanf(val, "%lu %d %d %lf %15s %c", &h->transitions,
				   &h->depth, &h->diameter, &h->seconds,
				   h->truncated, &extra) != 5 ||
			    h->depth < 0 || h->diameter < 0 ||
			    (strcmp(h->truncated, "no") &&
			     strcmp(h->truncated, "max-states") &&
			     strcmp(h->truncated, "max-memory")))
				FAIL("%s:%d: figures: '%s' is not 'TRANSITIONS DEPTH DIAMETER SECONDS no|max-states|max-memory'",
				     file, lineno, val);
			have[5] = true;
		} else if (!strcmp(line, "violation")) {
			char extra;

			if (sscanf(val, "%u %d %ld %d %c", &h->violated,
				   &h->vlevel, &h->vfirst, &h->path_len,
				   &extra) != 4 ||
			    !h->violated || h->vlevel < 0 || h->vfirst < -1 ||
			    h->path_len < 0)
				FAIL("%s:%d: violation: '%s' is not 'MASK LEVEL FIRST PATHLEN'",
				     file, lineno, val);
		} else if (!strcmp(line, "why")) {
			free(h->why);
			h->why = strdup(val);
		} else if (!strcmp(line, "trace")) {
			char **nt = realloc(h->trace, ((size_t)h->trace_len + 1) *
							      sizeof(*nt));

			if (!nt)
				FAIL("%s: out of memory", file);
			h->trace = nt;
			h->trace[h->trace_len++] = strdup(val);
		} else if (!strcmp(line, "states")) {
			char extra;

			for (int i = 0; i < 6; i++)
				if (!have[i])
					FAIL("%s:%d: no '%s' line before the states",
					     file, lineno, need[i]);
			if (h->violated && (!h->why || h->path_len > h->trace_len))
				FAIL("%s:%d: the violation has no 'why' line or fewer 'trace' lines than its path",
				     file, lineno);
			if (sscanf(val, "%zu%c", &h->nstates, &extra) != 1 ||
			    !h->nstates)
				FAIL("%s:%d: states: '%s' is not a count of states",
				     file, lineno, val);
			goto out;
		} else {
			FAIL("%s:%d: '%s' is no line of a states file", file,
			     lineno, line);
		}
	}
	if (lineno == 0)
		FAIL("%s: empty: not a dmaown states file", file);
	FAIL("%s:%d: the file ends before its 'states' line", file, lineno);
out:
	free(line);
	return ret;
}

/* The records of one file into @t, checked against its header. */
static int read_states(FILE *f, const char *file, const struct header *h,
		       struct table *t, int depth_bound, char *err,
		       size_t err_len)
{
	size_t bytes = h->nstates * RECORD_BYTES;
	unsigned char *buf = NULL;
	char *line = NULL, hex[33];
	size_t cap = 0, got;
	uint64_t sum[2];
	int ret = 0;

	if (h->nstates > SIZE_MAX / RECORD_BYTES)
		FAIL("%s: %zu states is more than this machine can address",
		     file, h->nstates);
	/*
	 * The count is the file's word: grow the buffer as the records come
	 * in, so that a count past what the file holds is "cut short", not a
	 * huge allocation.
	 */
	got = 0;
	for (size_t have = 0; got == have && have < bytes;) {
		size_t want = have ? have * 2 : 1u << 20;
		unsigned char *nb;

		if (want > bytes || want < have)
			want = bytes;
		nb = realloc(buf, want);
		if (!nb)
			FAIL("%s: out of memory for %zu states", file, h->nstates);
		buf = nb;
		got += fread(buf + have, 1, want - have, f);
		have = want;
	}
	if (got < bytes)
		FAIL("%s: cut short: %zu of its %zu states are there", file,
		     got / RECORD_BYTES, h->nstates);
	if (getline(&line, &cap, f) <= 0 || strncmp(line, "end ", 4) ||
	    strlen(line) != 4 + 32 + 1 || line[36] != '\n')
		FAIL("%s: no 'end' line after the %zu states: cut short or written over",
		     file, h->nstates);
	machine_state_hash128((const char *)buf, bytes, sum);
	hex128(sum, hex);
	if (strncmp(line + 4, hex, 32))
		FAIL("%s: the states do not match their checksum: the file is corrupt",
		     file);
	if (fgetc(f) != EOF)
		FAIL("%s: more after the 'end' line", file);
	for (size_t i = 0; i < h->nstates; i++) {
		const unsigned char *r = buf + i * RECORD_BYTES;
		uint64_t hash[2] = { get_le(r, 8), get_le(r + 8, 8) };
		uint32_t depth = (uint32_t)get_le(r + 16, 4);
		bool root = hash[0] == h->root[0] && hash[1] == h->root[1];

		if ((i == 0) != root || (depth == 0) != root)
			FAIL("%s: state %zu: %s", file, i,
			     i == 0 ? "the first state is not the boot state" :
				      "the boot state again, or another at depth 0");
		if (depth > DEPTH_LIMIT ||
		    (depth_bound >= 0 && depth > (uint32_t)depth_bound))
			FAIL("%s: state %zu: depth %u is past the run's bound",
			     file, i, depth);
		if (table_add(t, hash, depth) < 0)
			FAIL("%s: out of memory after %zu states", file, t->n);
	}
out:
	free(line);
	free(buf);
	return ret;
}

void check_merged_free(struct check_merged *m)
{
	free(m->spec);
	check_stats_free(&m->st);
	memset(m, 0, sizeof(*m));
}

/* Shard @shard of @n: which part of the search a file holds. */
struct cut {
	unsigned int shard, n;
};

/*
 * Files may come from cuts into different numbers of shards, and repeat
 * one: the union is every state as soon as one cut has all its shards.
 * Returns that cut's N, or 0 when none is whole.
 */
static unsigned int covering_cut(const struct cut *seen, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned int have = 0;

		/* count each shard of this cut once, at its first file */
		for (int k = 0; k < n; k++) {
			bool again = false;

			if (seen[k].n != seen[i].n)
				continue;
			for (int e = 0; e < k && !again; e++)
				again = seen[e].n == seen[k].n &&
					seen[e].shard == seen[k].shard;
			have += !again;
		}
		if (have == seen[i].n)
			return seen[i].n;
	}
	return 0;
}

/* The first shard of the first file's cut that no file gives. */
static unsigned int missing_shard(const struct cut *seen, int n)
{
	for (unsigned int s = 0; s < seen[0].n; s++) {
		bool have = false;

		for (int k = 0; k < n && !have; k++)
			have = seen[k].n == seen[0].n && seen[k].shard == s;
		if (!have)
			return s;
	}
	return 0;
}

static bool violation_before(const struct header *a, const struct header *b)
{
	return a->vlevel < b->vlevel ||
	       (a->vlevel == b->vlevel && a->vfirst < b->vfirst);
}

int check_states_merge(const char *const *files, int nfiles,
		       struct check_merged *ret_m, char *err, size_t err_len)
{
	struct header first = { 0 }, best = { 0 }, h = { 0 };
	struct table t = { 0 };
	struct cut *seen = NULL;
	unsigned int max_depth = 0;
	int min_depth = -1, ret = 0;
	bool truncated = false;
	struct check_merged *m = ret_m;
	FILE *f = NULL;

	memset(m, 0, sizeof(*m));
	if (nfiles < 1)
		FAIL("no states file to merge");
	for (int i = 0; i < nfiles; i++) {
		const char *file = files[i];

		f = fopen(file, "rb");
		if (!f)
			FAIL("%s: %s", file, errno_text(errno));
		ret = read_header(f, file, &h, err, err_len);
		if (ret)
			goto out;
		if (i == 0) {
			/* what every other file must match */
			first = (struct header){ .machine = strdup(h.machine),
						 .options = strdup(h.options),
						 .root = { h.root[0], h.root[1] } };
			seen = calloc((size_t)nfiles, sizeof(*seen));
			if (!seen || !first.machine || !first.options)
				FAIL("%s: out of memory", file);
			if (parse_options_line(h.options, &m->o))
				FAIL("%s: bad options", file);
		} else if (strcmp(h.machine, first.machine) ||
			   h.root[0] != first.root[0] ||
			   h.root[1] != first.root[1]) {
			FAIL("%s: another machine (%s) than %s (%s): shards merge only with their own",
			     file, h.machine, files[0], first.machine);
		} else if (strcmp(h.options, first.options)) {
			FAIL("%s: other options (%s) than %s (%s): shards merge only with their own",
			     file, h.options, files[0], first.options);
		}
		ret = read_states(f, file, &h, &t, m->o.depth, err, err_len);
		fclose(f);
		f = NULL;
		if (ret)
			goto out;
		seen[i].shard = h.shard;
		seen[i].n = h.nshards;
		m->st.transitions += h.transitions;
		if (h.seconds > m->st.seconds)
			m->st.seconds = h.seconds;
		if (strcmp(h.truncated, "no")) {
			truncated = true;
			if (min_depth < 0 || h.depth < min_depth)
				min_depth = h.depth;
		}
		if (h.violated && (!best.violated || violation_before(&h, &best))) {
			header_free(&best);
			best = h;
			memset(&h, 0, sizeof(h));
		} else {
			header_free(&h);
		}
	}
	m->shards = covering_cut(seen, nfiles);
	if (!m->shards) {
		unsigned int missing = missing_shard(seen, nfiles);

		FAIL("%s: shard %u/%u, and no file is shard %u/%u: without it the union is not every state",
		     files[0], seen[0].shard, seen[0].n, missing, seen[0].n);
	}
	m->spec = strdup(first.machine);
	m->o.shard = 0;
	m->o.nshards = m->shards;
	/* the diameter: the deepest of the states' least depths */
	for (size_t i = 0; i < t.nslots; i++)
		if (t.s[i].depth != UINT32_MAX && t.s[i].depth > max_depth)
			max_depth = t.s[i].depth;
	m->st.states = t.n;
	m->st.diameter = (int)max_depth;
	m->st.bytes = t.nslots * sizeof(*t.s);
	m->st.truncated = truncated;
	if (best.violated) {
		m->st.violated = best.violated;
		m->st.depth = best.vlevel;
		snprintf(m->st.why, sizeof(m->st.why), "%s", best.why);
		m->st.trace = best.trace;
		m->st.trace_len = best.trace_len;
		m->st.path_len = best.path_len;
		best.trace = NULL;
		best.trace_len = 0;
	} else if (truncated) {
		m->st.depth = min_depth;
	} else {
		/*
		 * One run is complete when the level past its last is empty:
		 * no bound, or the deepest state short of the bound.
		 */
		m->st.complete = m->o.depth < 0 || (int)max_depth < m->o.depth;
		m->st.depth = m->st.complete ? (int)max_depth + 1 : m->o.depth;
	}
	if (!m->spec)
		FAIL("out of memory");
out:
	if (f)
		fclose(f);
	header_free(&h);
	header_free(&best);
	header_free(&first);
	free(seen);
	free(t.s);
	if (ret)
		check_merged_free(m);
	return ret;
}
