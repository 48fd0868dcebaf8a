// SPDX-License-Identifier: MIT
/*
 * The checker: breadth-first search over the states a machine reaches by
 * the actions users and VMMs take, with the invariants checked after every
 * step. Three parts, as in LTSmin: the model gives the enabled actions of a
 * state (check_actions(), stable order); a state store answers "seen
 * before?" by the hash of the canonical serialization; the search keeps
 * parent links so a violation is printed as the script that reaches it.
 * Actions are script lines run through the same shell as `dmaown run`.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check/check-priv.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

/* ---- the state store: open addressing on 64-bit hashes ---- */

struct state {
	uint64_t hash;
	unsigned long parent; /* index of the parent state; self for boot */
	char *action;         /* the line that led here (NULL for boot) */
};

struct store {
	struct state *states;
	unsigned long n, cap;
	unsigned long *slots; /* index + 1, 0: empty */
	unsigned long nslots;
};

static int store_grow_slots(struct store *s)
{
	unsigned long n = s->nslots ? s->nslots * 2 : 1024;
	unsigned long *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (unsigned long i = 0; i < s->n; i++) {
		unsigned long j = s->states[i].hash & (n - 1);

		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

/*
 * lookup_or_insert: returns the state's index and sets *ret_new when it was
 * not present; -1 on no memory.
 */
static long store_lookup_or_insert(struct store *s, uint64_t hash,
				   unsigned long parent, const char *action,
				   bool *ret_new)
{
	unsigned long j;

	if ((s->n + 1) * 2 > s->nslots && store_grow_slots(s))
		return -1;
	for (j = hash & (s->nslots - 1); s->slots[j];
	     j = (j + 1) & (s->nslots - 1)) {
		if (s->states[s->slots[j] - 1].hash == hash) {
			*ret_new = false;
			return (long)(s->slots[j] - 1);
		}
	}
	if (s->n == s->cap) {
		unsigned long ncap = s->cap ? s->cap * 2 : 1024;
		struct state *ns = realloc(s->states, ncap * sizeof(*ns));

		if (!ns)
			return -1;
		s->states = ns;
		s->cap = ncap;
	}
	s->states[s->n].hash = hash;
	s->states[s->n].parent = parent;
	s->states[s->n].action = action ? strdup(action) : NULL;
	if (action && !s->states[s->n].action)
		return -1;
	s->slots[j] = s->n + 1;
	*ret_new = true;
	return (long)s->n++;
}

static void store_free(struct store *s)
{
	for (unsigned long i = 0; i < s->n; i++)
		free(s->states[i].action);
	free(s->states);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ---- actions ---- */

void strlist_add(struct strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *str;

	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		char **nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv) {
			l->oom = true;
			return;
		}
		l->v = nv;
		l->cap = ncap;
	}
	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) < 0)
		l->oom = true;
	else
		l->v[l->n++] = str;
	va_end(ap);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const char *vfio_driver_for(enum bus_kind kind)
{
	switch (kind) {
	case BUS_PCI:
		return "vfio-pci";
	case BUS_PLATFORM:
		return "vfio-platform";
	case BUS_AMBA:
		return "vfio-amba";
	case BUS_FSL_MC:
		return "vfio-fsl-mc";
	default:
		return NULL;
	}
}

static bool is_container(const struct device *dev)
{
	return dev->ids.hdr_type != PCI_HEADER_TYPE_NORMAL ||
	       !strcmp(dev->ids.mc_type, "dprc");
}

static bool driver_loaded(struct machine *m, const char *name)
{
	return machine_find_driver(m, name) != NULL;
}

int check_actions(struct machine *m, const struct check_opts *o,
		  char ***ret_lines, size_t *ret_n)
{
	struct strlist l = { 0 };
	struct device *dev;
	struct bus_type *bus;
	struct device_driver *drv;
	struct iommu_device *iommu;
	struct vfio_group *vg;
	struct vfio_device *vdev;
	bool bus_used[BUS_KIND_MAX_] = { false };

	list_for_each_entry(dev, &m->devices, node) {
		const char *b, *vfio;

		if (!dev->bus)
			continue;
		b = dev->bus->name;
		bus_used[dev->bus->ops->kind] = true;
		if (!dev->added) {
			if (dev->absent && (!dev->parent || dev->parent->added))
				strlist_add(&l, "@hotplug add %s", dev->name);
			continue;
		}
		if (dev->driver) {
			strlist_add(&l, "echo %s > /sys/bus/%s/drivers/%s/unbind",
				 dev->name, b, dev->driver->name);
		} else {
			list_for_each_entry(drv, &dev->bus->drivers, node)
				if (driver_match_device(drv, dev) > 0)
					strlist_add(&l,
						 "echo %s > /sys/bus/%s/drivers/%s/bind",
						 dev->name, b, drv->name);
			strlist_add(&l, "echo %s > /sys/bus/%s/drivers_probe",
				 dev->name, b);
		}
		vfio = vfio_driver_for(dev->bus->ops->kind);
		if (vfio && !is_container(dev)) {
			if (!dev->driver_override)
				strlist_add(&l,
					 "echo %s > /sys/bus/%s/devices/%s/driver_override",
					 vfio, b, dev->name);
			else
				strlist_add(&l,
					 "echo > /sys/bus/%s/devices/%s/driver_override",
					 b, dev->name);
		}
	}
	/* vfio bus drivers come and go as modules */
	for (int k = 0; k < BUS_KIND_MAX_; k++) {
		const char *vfio = vfio_driver_for((enum bus_kind)k);

		if (!bus_used[k])
			continue;
		if (driver_loaded(m, vfio))
			strlist_add(&l, "rmmod %s", vfio);
		else
			strlist_add(&l, "modprobe %s", vfio);
	}
	list_for_each_entry(iommu, &m->iommus, node)
		if (!iommu->registered)
			strlist_add(&l, "@iommu register %s", iommu->name);
	/* a VMM takes a vfio group through the legacy container, or lets go */
	list_for_each_entry(vg, &m->vfio_groups, node) {
		struct vfio_device *first;

		if (vg->noiommu || list_empty(&vg->device_list))
			continue;
		first = list_first_entry(&vg->device_list, struct vfio_device,
					 group_next);
		if (first->open_count && !first->ictx)
			strlist_add(&l, "@vmm release %s", first->dev->name);
		else if (!vg->opened && list_empty(&first->files))
			strlist_add(&l, "@vmm assign %s", first->dev->name);
	}
	/*
	 * or one of two iommufd users, each a process with an iommufd at
	 * descriptor 3 and IOAS 1, binds a device through its cdev, or
	 * closes a cdev file it has
	 */
	list_for_each_entry(vdev, &m->vfio_devices, node) {
		struct vfio_device_file *df;

		if (vdev->group->noiommu)
			continue;
		list_for_each_entry(df, &vdev->files, node)
			if (!df->group_path &&
			    vfio_device_file_of(vdev, df->file.owner, true) == df)
				strlist_add(&l, "@as %s @vfio device-close %s",
					    df->file.owner->name,
					    vdev->dev->name);
		if (!list_empty(&vdev->files) || vdev->group->opened)
			continue;
		for (int i = 0; i < CHECK_IOMMUFD_USERS; i++) {
			const char *p = check_iommufd_users[i];

			strlist_add(&l,
				    "@as %s @vfio cdev-open %s && @as %s @vfio bind-iommufd %s 3 && @as %s @vfio attach-ioas %s 1",
				    p, vdev->dev->name, p, vdev->dev->name, p,
				    vdev->dev->name);
		}
	}
	if (o && o->probe_faults) {
		list_for_each_entry(bus, &m->buses, node)
			list_for_each_entry(drv, &bus->drivers, node)
				if (!drv->driver_managed_dma && !drv->fail_count)
					strlist_add(&l, "@fault probe %s ENOMEM 1",
						 drv->name);
	}
	if (l.oom) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		return -ENOMEM;
	}
	*ret_lines = l.v;
	*ret_n = l.n;
	return 0;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- I5: what a failed action may not change ---- */

char *check_ownership_snapshot(struct machine *m)
{
	struct sbuf sb = { 0 };
	struct iommu_group *g;
	struct device *dev;

	list_for_each_entry(g, &m->groups, node)
		sbuf_printf(&sb, "g%d %d %u %d\n", g->id, g->owner != NULL,
			    g->owner_cnt,
			    g->domain ? (int)g->domain->type : 0);
	list_for_each_entry(dev, &m->devices, node)
		sbuf_printf(&sb, "d%s %s\n", dev->name,
			    dev->driver ? dev->driver->name : "-");
	sbuf_printf(&sb, "%s", "");
	return sb.oom ? NULL : sb.buf;
}

bool check_ownership_kept(const char *before, const char *after)
{
	for (const char *p = before; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = (size_t)(eol - p), key = strcspn(p, " ");

		for (const char *q = after; *q;) {
			const char *qe = strchr(q, '\n');

			if ((size_t)(qe - q) == len && !strncmp(p, q, len))
				break;
			if (!strncmp(p, q, key) && q[key] == ' ')
				return false; /* same object, other value */
			q = qe + 1;
		}
		p = eol + 1;
	}
	return true;
}

const char *const check_iommufd_users[CHECK_IOMMUFD_USERS] = { "qemu-a",
								   "qemu-b" };

const char *const check_prelude[CHECK_PRELUDE_LINES] = {
	"@as qemu-a @iommufd open",
	"@as qemu-a @iommufd ioas-alloc 3",
	"@as qemu-b @iommufd open",
	"@as qemu-b @iommufd ioas-alloc 3",
};

bool check_line_needs_prelude(const char *line)
{
	for (int i = 0; i < CHECK_IOMMUFD_USERS; i++) {
		char as[32];

		snprintf(as, sizeof(as), "@as %s ", check_iommufd_users[i]);
		if (strstr(line, as))
			return true;
	}
	return false;
}

int check_prepare(struct machine *m)
{
	for (int i = 0; i < CHECK_IOMMUFD_USERS; i++) {
		struct process *p = machine_process(m, check_iommufd_users[i]);
		unsigned int ioas;
		int fd;

		if (!p)
			return -ENOMEM;
		fd = iommufd_fd_open(p);
		if (fd < 0)
			return fd;
		fd = iommufd_ioctl_ioas_alloc(p, fd, &ioas);
		if (fd)
			return fd;
	}
	return 0;
}

/* ---- the search ---- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run one action on @m; fills *ret_failed when the line failed. */
static int run_action(struct machine *m, const char *line, bool *ret_failed)
{
	struct script_ctx *ctx = script_ctx_new(m, "check");
	struct script_result res;
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = script_exec_line(ctx, line, 1, &res);
	*ret_failed = ret || res.status;
	script_result_free(&res);
	script_ctx_free(ctx);
	return 0;
}

static void build_trace(struct store *s, unsigned long idx,
			const char *last, struct check_stats *st)
{
	int n = last ? 1 : 0;

	for (unsigned long i = idx; s->states[i].action; i = s->states[i].parent)
		n++;
	st->trace = calloc((size_t)n + 1, sizeof(*st->trace));
	if (!st->trace)
		return;
	st->trace_len = n;
	st->path_len = n;
	if (last)
		st->trace[--n] = strdup(last);
	for (unsigned long i = idx; s->states[i].action;
	     i = s->states[i].parent)
		st->trace[--n] = strdup(s->states[i].action);
}

/* I6: the teardown lines that show the violation end the trace. */
static void append_teardown(struct machine *m, struct check_stats *st)
{
	struct strlist l = { 0 };
	char why[sizeof(st->why)];
	char **nt;

	check_teardown(m, &l, why, sizeof(why));
	nt = realloc(st->trace, ((size_t)st->trace_len + l.n + 1) *
					sizeof(*nt));
	if (nt) {
		st->trace = nt;
		for (size_t i = 0; i < l.n; i++) {
			st->trace[st->trace_len++] = l.v[i];
			l.v[i] = NULL;
		}
	}
	strlist_free(&l);
}

struct node {
	struct machine *m;
	unsigned long idx;
};

/*
 * --max-states: the search stops inserting and expanding as soon as this
 * many distinct states are known (whether or not any was left to find).
 */
static bool max_states_reached(const struct check_opts *o,
			       const struct check_stats *st)
{
	return o->max_states && st->states >= o->max_states;
}

static int check_interleaved(struct machine *boot, const struct check_opts *o,
			     struct check_stats *st);

int check_machine(const char *machine_spec, struct machine *boot,
		  const struct check_opts *o, struct check_stats *st)
{
	struct store store = { 0 };
	struct node *level = NULL, *next = NULL;
	size_t nlevel = 0, nnext = 0, capnext = 0;
	double t0 = now_seconds(), last_report = t0;
	unsigned int all = INV_ISOLATION | INV_ACCOUNTING | INV_DOMAINS |
			   INV_NO_WARN;
	bool is_new;
	long idx;
	int ret = 0;

	(void)machine_spec;
	if (o->interleave)
		return check_interleaved(boot, o, st);
	memset(st, 0, sizeof(*st));
	level = calloc(1, sizeof(*level));
	if (!level)
		return -ENOMEM;
	level[0].m = machine_clone(boot);
	if (!level[0].m) {
		free(level);
		return -ENOMEM;
	}
	if (check_prepare(level[0].m)) {
		machine_destroy(level[0].m);
		free(level);
		return -ENOMEM;
	}
	machine_log_clear(level[0].m);
	idx = store_lookup_or_insert(&store, machine_state_hash(level[0].m), 0, NULL,
				     &is_new);
	if (idx < 0) {
		machine_destroy(level[0].m);
		free(level);
		return -ENOMEM;
	}
	level[0].idx = 0;
	nlevel = 1;
	st->states = 1;
	st->violated = machine_check_invariants(level[0].m,
						INV_ALL & ~INV_FAILED_NOOP,
						st->why, sizeof(st->why));
	if (st->violated) {
		build_trace(&store, 0, NULL, st);
		if (st->violated & INV_TEARDOWN)
			append_teardown(level[0].m, st);
		goto out;
	}
	if (max_states_reached(o, st) && o->depth > 0)
		st->truncated = true;

	for (int depth = 0; depth < o->depth && nlevel && !st->violated &&
			    !st->truncated;
	     depth++) {
		nnext = 0;
		for (size_t k = 0; k < nlevel && !st->violated; k++) {
			struct machine *m = level[k].m;
			char **acts;
			size_t nacts;
			char *before;

			if (check_actions(m, o, &acts, &nacts)) {
				ret = -ENOMEM;
				goto out;
			}
			before = check_ownership_snapshot(m);
			/* the limit holds inside one state's actions too */
			for (size_t a = 0; a < nacts && !st->violated &&
					   !st->truncated;
			     a++) {
				struct machine *c;
				bool failed;
				char *after;

				if (depth == 0 && o->nshards > 1 &&
				    a % o->nshards != o->shard)
					continue;
				c = machine_clone(m);
				if (!c || run_action(c, acts[a], &failed)) {
					machine_destroy(c);
					ret = -ENOMEM;
					break;
				}
				st->transitions++;
				st->violated = machine_check_invariants(
					c, all, st->why, sizeof(st->why));
				machine_log_clear(c); /* logs are not state */
				if (!st->violated && failed && before) {
					after = check_ownership_snapshot(c);
					if (after && !check_ownership_kept(before, after)) {
						st->violated = INV_FAILED_NOOP;
						snprintf(st->why, sizeof(st->why),
							 "'%s' failed but changed group ownership or bindings",
							 acts[a]);
					}
					free(after);
				}
				if (st->violated) {
					build_trace(&store, level[k].idx, acts[a], st);
					machine_destroy(c);
					break;
				}
				idx = store_lookup_or_insert(&store, machine_state_hash(c),
							     level[k].idx, acts[a],
							     &is_new);
				if (idx < 0) {
					machine_destroy(c);
					ret = -ENOMEM;
					break;
				}
				if (!is_new) {
					machine_destroy(c);
					continue;
				}
				st->states++;
				/* I6 once per new state */
				if (check_teardown(c, NULL, st->why,
						   sizeof(st->why))) {
					st->violated = INV_TEARDOWN;
					build_trace(&store, (unsigned long)idx, NULL, st);
					append_teardown(c, st);
					machine_destroy(c);
					break;
				}
				if (nnext == capnext) {
					size_t ncap = capnext ? capnext * 2 : 256;
					struct node *nn = realloc(next, ncap * sizeof(*nn));

					if (!nn) {
						machine_destroy(c);
						ret = -ENOMEM;
						break;
					}
					next = nn;
					capnext = ncap;
				}
				next[nnext].m = c;
				next[nnext++].idx = (unsigned long)idx;
				if (max_states_reached(o, st))
					st->truncated = true;
				if (o->progress && now_seconds() - last_report > 0.5) {
					last_report = now_seconds();
					st->seconds = last_report - t0;
					st->depth = depth;
					st->queue = nnext + (nlevel - k);
					o->progress(o->progress_ctx, st);
				}
			}
			free(before);
			free_lines(acts, nacts);
			machine_destroy(m);
			level[k].m = NULL;
			if (ret || st->truncated)
				break;
		}
		for (size_t k = 0; k < nlevel; k++)
			machine_destroy(level[k].m);
		free(level);
		level = next;
		nlevel = nnext;
		next = NULL;
		capnext = nnext = 0;
		if (ret)
			goto out;
		if (!st->violated && !st->truncated)
			st->depth = depth + 1;
		if (st->truncated)
			break;
	}
out:
	for (size_t k = 0; k < nlevel; k++)
		machine_destroy(level[k].m);
	free(level);
	for (size_t k = 0; k < nnext; k++)
		machine_destroy(next[k].m);
	free(next);
	store_free(&store);
	st->queue = 0;
	st->seconds = now_seconds() - t0;
	return ret;
}

/*
 * Interleaving mode: every state within depth - 1 actions of boot (found
 * breadth first as above), and in each every set of enabled actions run
 * concurrently.
 */
static int check_interleaved(struct machine *boot, const struct check_opts *o,
			     struct check_stats *st)
{
	struct check_opts seq = *o;
	struct machine *m;
	struct inode {
		struct machine *m;
		char **path;
		int npath;
	} *level;
	size_t nlevel = 1;
	double t0 = now_seconds();
	int ret = 0;

	memset(st, 0, sizeof(*st));
	seq.interleave = 0;
	m = machine_clone(boot);
	level = calloc(1, sizeof(*level));
	if (!m || !level) {
		machine_destroy(m);
		free(level);
		return -ENOMEM;
	}
	if (check_prepare(m)) {
		machine_destroy(m);
		free(level);
		return -ENOMEM;
	}
	machine_log_clear(m);
	level[0].m = m;
	for (int depth = 0; depth < (o->depth > 0 ? o->depth : 1) &&
			    !st->violated && !ret;
	     depth++) {
		struct inode *next = NULL;
		size_t nnext = 0;
		bool level_cut = false;

		for (size_t k = 0; k < nlevel && !st->violated && !ret; k++) {
			char **acts;
			size_t nacts;

			if (max_states_reached(o, st)) {
				st->truncated = level_cut = true;
				break;
			}
			if (check_actions(level[k].m, &seq, &acts, &nacts)) {
				ret = -ENOMEM;
				break;
			}
			st->states++;
			/* every pair (or triple) of distinct actions */
			for (size_t a = 0; a < nacts && !st->violated && !ret; a++) {
				for (size_t b = a + 1; b < nacts && !st->violated; b++) {
					const char *lines[3] = { acts[a], acts[b], NULL };
					unsigned long runs = 0;
					int n = 2;

					if (depth == 0 && o->nshards > 1 &&
					    (a * nacts + b) % o->nshards != o->shard)
						continue;
					ret = check_interleavings(level[k].m, lines, n,
								  o->preemptions > 0 ? o->preemptions : 2,
								  &runs, st);
					st->schedules += runs;
					st->transitions += runs;
					if (ret)
						break;
					if (st->violated) {
						char **tr = calloc((size_t)level[k].npath + 3,
								   sizeof(*tr));

						if (tr) {
							for (int i = 0; i < level[k].npath; i++)
								tr[i] = strdup(level[k].path[i]);
							for (int i = 0; i < st->trace_len; i++)
								tr[level[k].npath + i] = st->trace[i];
							free(st->trace);
							st->trace = tr;
							st->path_len = level[k].npath;
							st->concurrent = st->trace_len;
							st->trace_len += level[k].npath;
						}
					}
				}
			}
			/* the states one action further, for the next round */
			for (size_t a = 0; a < nacts && depth + 1 < o->depth &&
					   !st->violated && !ret;
			     a++) {
				struct machine *c;
				bool failed;
				struct inode *nn;

				/*
				 * each queued state is one more explored: queue
				 * no more than the states left to the limit
				 */
				if (o->max_states &&
				    st->states + (nlevel - 1 - k) + nnext >=
					    o->max_states) {
					st->truncated = true;
					break;
				}
				c = machine_clone(level[k].m);
				if (!c || run_action(c, acts[a], &failed)) {
					machine_destroy(c);
					ret = -ENOMEM;
					break;
				}
				machine_log_clear(c);
				nn = realloc(next, (nnext + 1) * sizeof(*nn));
				if (!nn) {
					machine_destroy(c);
					ret = -ENOMEM;
					break;
				}
				next = nn;
				next[nnext].m = c;
				next[nnext].npath = level[k].npath + 1;
				next[nnext].path = calloc((size_t)next[nnext].npath,
							  sizeof(char *));
				for (int i = 0; next[nnext].path && i < level[k].npath; i++)
					next[nnext].path[i] = strdup(level[k].path[i]);
				if (next[nnext].path)
					next[nnext].path[level[k].npath] = strdup(acts[a]);
				nnext++;
			}
			free_lines(acts, nacts);
		}
		for (size_t k = 0; k < nlevel; k++) {
			machine_destroy(level[k].m);
			free_lines(level[k].path, (size_t)level[k].npath);
		}
		free(level);
		level = next;
		nlevel = nnext;
		if (!st->violated && !ret && !level_cut)
			st->depth = depth + 1;
	}
	for (size_t k = 0; k < nlevel; k++) {
		machine_destroy(level[k].m);
		free_lines(level[k].path, (size_t)level[k].npath);
	}
	free(level);
	st->seconds = now_seconds() - t0;
	return ret;
}

void check_stats_free(struct check_stats *st)
{
	for (int i = 0; i < st->trace_len; i++)
		free(st->trace[i]);
	free(st->trace);
	st->trace = NULL;
	st->trace_len = 0;
	free(st->schedule);
	st->schedule = NULL;
}
