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
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check/check-priv.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

/* ---- the state store ---- */

/*
 * One visited state in 24 bytes: its 128-bit hash, the state it was first
 * reached from and the number of that action in the parent's
 * check_actions() list. No line and no machine is kept: the states of a
 * level are rebuilt from their parents when they are expanded, and a
 * counterexample replays its path from boot to read the lines.
 */
struct state {
	uint64_t hash[2];
	uint32_t parent; /* self for boot */
	uint32_t action;
};

#define STORE_MAX_STATES 0xfffffffeUL /* parent links are 32-bit */

struct store {
	struct state *states;
	unsigned long n, cap;
	uint32_t *slots; /* index + 1 by hash, open addressing; 0: empty */
	unsigned long nslots;
	/* --exact: every state's text back to back, @off[i] where i starts */
	bool exact;
	char *text;
	size_t text_len, text_cap;
	size_t *off;
};

/* What the store holds now, in bytes. */
static size_t store_bytes(const struct store *s)
{
	return s->cap * sizeof(*s->states) + s->nslots * sizeof(*s->slots) +
	       (s->exact ? s->text_cap + s->cap * sizeof(*s->off) : 0);
}

/*
 * What it would hold after one more state of @len bytes of text: the
 * growth the next insertion could make, so --max-memory holds before any
 * allocation, not after.
 */
static size_t store_bytes_after_insert(const struct store *s, size_t len)
{
	size_t bytes = store_bytes(s);

	if ((s->n + 1) * 2 > s->nslots)
		bytes += (s->nslots ? s->nslots : 1024) * sizeof(*s->slots);
	if (s->n == s->cap)
		bytes += (s->cap ? s->cap : 1024) *
			 (sizeof(*s->states) + (s->exact ? sizeof(*s->off) : 0));
	if (s->exact && s->text_len + len > s->text_cap)
		bytes += s->text_cap > len ? s->text_cap : len + 65536;
	return bytes;
}

static int store_grow_slots(struct store *s)
{
	unsigned long n = s->nslots ? s->nslots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (unsigned long i = 0; i < s->n; i++) {
		unsigned long j = s->states[i].hash[0] & (n - 1);

		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = (uint32_t)(i + 1);
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

static bool store_same(const struct store *s, unsigned long i,
		       const uint64_t hash[2], const char *text, size_t len)
{
	if (s->states[i].hash[0] != hash[0] || s->states[i].hash[1] != hash[1])
		return false;
	return !s->exact || (s->off[i + 1] - s->off[i] == len &&
			     !memcmp(s->text + s->off[i], text, len));
}

static int store_add_text(struct store *s, const char *text, size_t len)
{
	if (s->text_len + len > s->text_cap) {
		size_t ncap = s->text_cap > len ? s->text_cap * 2 :
						  s->text_cap + len + 65536;
		char *nt = realloc(s->text, ncap);

		if (!nt)
			return -ENOMEM;
		s->text = nt;
		s->text_cap = ncap;
	}
	memcpy(s->text + s->text_len, text, len);
	s->text_len += len;
	s->off[s->n + 1] = s->text_len;
	return 0;
}

/*
 * lookup_or_insert: the state's index, with *ret_new set when it was not
 * present; -ENOMEM. @text is the state's serialization, kept and compared
 * in exact mode only.
 */
static long store_lookup_or_insert(struct store *s, const uint64_t hash[2],
				   const char *text, size_t len,
				   unsigned long parent, unsigned long action,
				   bool *ret_new)
{
	unsigned long j;

	for (j = s->nslots ? hash[0] & (s->nslots - 1) : 0;
	     s->nslots && s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
		if (store_same(s, s->slots[j] - 1, hash, text, len)) {
			*ret_new = false;
			return (long)(s->slots[j] - 1);
		}
	}
	if (s->n >= STORE_MAX_STATES)
		return -ENOMEM;
	/* grow only for a new state: a lookup never allocates */
	if ((s->n + 1) * 2 > s->nslots) {
		if (store_grow_slots(s))
			return -ENOMEM;
		for (j = hash[0] & (s->nslots - 1); s->slots[j];
		     j = (j + 1) & (s->nslots - 1))
			;
	}
	if (s->n == s->cap) {
		unsigned long ncap = s->cap ? s->cap * 2 : 1024;
		struct state *ns = realloc(s->states, ncap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		s->states = ns;
		s->cap = ncap;
		if (s->exact) {
			size_t *no = realloc(s->off, (ncap + 1) * sizeof(*no));

			if (!no)
				return -ENOMEM;
			no[0] = 0;
			s->off = no;
		}
	}
	if (s->exact && store_add_text(s, text, len))
		return -ENOMEM;
	s->states[s->n].hash[0] = hash[0];
	s->states[s->n].hash[1] = hash[1];
	s->states[s->n].parent = (uint32_t)parent;
	s->states[s->n].action = (uint32_t)action;
	s->slots[j] = (uint32_t)(s->n + 1);
	*ret_new = true;
	return (long)s->n++;
}

/* ---- the visited set handed out (check_opts::visited, --save-states) ---- */

/*
 * Every state in store order with its depth. A state's parent link points
 * into an earlier level, so it comes before the state in the store, and
 * one pass over the links gives every depth.
 */
static int store_foreach_visited(const struct store *s,
				 const struct check_opts *o)
{
	uint32_t *depth;
	int ret = 0;

	if (!o->visited || !s->n)
		return 0;
	depth = malloc(s->n * sizeof(*depth));
	if (!depth)
		return -ENOMEM;
	for (unsigned long i = 0; i < s->n && !ret; i++) {
		depth[i] = i ? depth[s->states[i].parent] + 1 : 0;
		ret = o->visited(o->visited_ctx, s->states[i].hash, depth[i]);
	}
	free(depth);
	return ret;
}

static bool store_lookup(const struct store *s, const uint64_t hash[2],
			 const char *text, size_t len)
{
	for (unsigned long j = hash[0] & (s->nslots - 1); s->nslots && s->slots[j];
	     j = (j + 1) & (s->nslots - 1))
		if (store_same(s, s->slots[j] - 1, hash, text, len))
			return true;
	return false;
}

static void store_free(struct store *s)
{
	free(s->states);
	free(s->slots);
	free(s->text);
	free(s->off);
	memset(s, 0, sizeof(*s));
}

/* ---- actions ---- */

/*
 * @fmt with its "%s" and "%d" written straight into a stack buffer, and
 * copied once: the actions of every state expanded are formatted anew,
 * and vasprintf() cost more than the rest of their listing. Any other
 * conversion, or a line longer than the buffer, goes to vasprintf(). NULL
 * when out of memory.
 */
static char *strlist_format(const char *fmt, va_list ap)
{
	char buf[512], *str;
	size_t n = 0;
	va_list aq;

	va_copy(aq, ap);
	for (const char *p = fmt; *p; p++) {
		char num[24], *d = num + sizeof(num);
		const char *s;
		size_t len;

		if (*p != '%') {
			if (n + 1 >= sizeof(buf))
				goto slow;
			buf[n++] = *p;
			continue;
		}
		if (p[1] == 's') {
			s = va_arg(aq, const char *);
			len = strlen(s);
		} else if (p[1] == 'd') {
			int v = va_arg(aq, int);
			unsigned int u = v < 0 ? 0u - (unsigned int)v :
						 (unsigned int)v;

			do
				*--d = (char)('0' + u % 10);
			while (u /= 10);
			if (v < 0)
				*--d = '-';
			s = d;
			len = (size_t)(num + sizeof(num) - d);
		} else {
			goto slow;
		}
		if (n + len >= sizeof(buf))
			goto slow;
		memcpy(buf + n, s, len);
		n += len;
		p++;
	}
	va_end(aq);
	str = malloc(n + 1);
	if (str) {
		memcpy(str, buf, n);
		str[n] = '\0';
	}
	return str;
slow:
	va_end(aq);
	return vasprintf(&str, fmt, ap) < 0 ? NULL : str;
}

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
	str = strlist_format(fmt, ap);
	va_end(ap);
	if (!str)
		l->oom = true;
	else
		l->v[l->n++] = str;
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
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

/*
 * The device of each action that is a sysfs write to one device's own
 * attributes or driver (unbind, bind, drivers_probe, driver_override):
 * what partial-order reduction calls a group's local actions. NULL for
 * every other action. Grown with the list, @n entries, with each one's
 * enum act_kind in @kind.
 */
struct owners {
	struct device **v;
	unsigned char *kind;
	size_t n, cap;
	bool oom;
};

/*
 * Actions whose target the checker can know from what they do
 * (expand(), docs/check.md "Transitions known without running them"):
 *
 * ACT_PROBE, "echo D > /sys/bus/B/drivers_probe" for an unbound device,
 * tries the bus's drivers in turn (__device_attach()): the first that
 * matches it is the one of its ACT_BIND_FIRST line, and when that bind
 * succeeds, drivers_probe does the same from the same state.
 * ACT_PROBE_NONE is one for a device no driver matches: it changes
 * nothing.
 * ACT_OVERRIDE_SET and ACT_OVERRIDE_CLEAR write a device's
 * driver_override, and nothing else (driver_override_store()): a clear
 * right after a set of the same device goes back to the state before.
 */
enum act_kind {
	ACT_OTHER,
	ACT_BIND_FIRST,
	ACT_PROBE,
	ACT_PROBE_NONE,
	ACT_OVERRIDE_SET,
	ACT_OVERRIDE_CLEAR,
};

static void owners_fill(struct owners *ow, size_t n, struct device *dev)
{
	if (!ow || ow->oom || n <= ow->n)
		return;
	if (n > ow->cap) {
		size_t ncap = n > 2 * ow->cap ? n + 16 : 2 * ow->cap;
		struct device **nv = realloc(ow->v, ncap * sizeof(*nv));
		unsigned char *nk;

		if (!nv) {
			ow->oom = true;
			return;
		}
		ow->v = nv;
		nk = realloc(ow->kind, ncap);
		if (!nk) {
			ow->oom = true;
			return;
		}
		ow->kind = nk;
		ow->cap = ncap;
	}
	while (ow->n < n) {
		ow->kind[ow->n] = ACT_OTHER;
		ow->v[ow->n++] = dev;
	}
}

static int actions_of(struct machine *m, const struct check_opts *o,
		      char ***ret_lines, size_t *ret_n, struct owners *ow)
{
	struct strlist l = { 0 };
	struct device *dev;
	struct bus_type *bus;
	struct device_driver *drv;
	struct iommu_device *iommu;
	struct vfio_group *vg;
	struct vfio_device *vdev;
	bool bus_used[BUS_KIND_MAX_] = { false };
	size_t bind_first, probe, override;
	bool matched;

	list_for_each_entry(dev, &m->devices, node) {
		const char *b, *vfio;

		if (!dev->bus)
			continue;
		b = dev->bus->name;
		bus_used[dev->bus->ops->kind] = true;
		owners_fill(ow, l.n, NULL);
		if (!dev->added) {
			if (dev->absent && (!dev->parent || dev->parent->added))
				strlist_add(&l, "@hotplug add %s", dev->name);
			continue;
		}
		bind_first = probe = override = SIZE_MAX;
		matched = false;
		if (dev->driver) {
			strlist_add(&l, "echo %s > /sys/bus/%s/drivers/%s/unbind",
				 dev->name, b, dev->driver->name);
		} else {
			bool plain = true;

			list_for_each_entry(drv, &dev->bus->drivers, node) {
				int match = driver_match_device(drv, dev);

				/* __device_attach() skips a dying driver */
				matched |= match != 0;
				if (plain && !drv->dying && match) {
					if (match > 0)
						bind_first = l.n;
					plain = false;
				}
				if (match > 0)
					strlist_add(&l,
						 "echo %s > /sys/bus/%s/drivers/%s/bind",
						 dev->name, b, drv->name);
			}
			probe = l.n;
			strlist_add(&l, "echo %s > /sys/bus/%s/drivers_probe",
				 dev->name, b);
		}
		vfio = bus_vfio_driver_name(dev->bus->ops->kind);
		if (vfio && !is_container(dev)) {
			override = l.n;
			if (!dev->driver_override)
				strlist_add(&l,
					 "echo %s > /sys/bus/%s/devices/%s/driver_override",
					 vfio, b, dev->name);
			else
				strlist_add(&l,
					 "echo > /sys/bus/%s/devices/%s/driver_override",
					 b, dev->name);
		}
		owners_fill(ow, l.n, dev);
		if (ow && !ow->oom) {
			if (bind_first != SIZE_MAX && probe < ow->n) {
				ow->kind[bind_first] = ACT_BIND_FIRST;
				ow->kind[probe] = ACT_PROBE;
			}
			/* no driver matches, dying or not, none refuses (< 0) */
			if (!matched && probe < ow->n)
				ow->kind[probe] = ACT_PROBE_NONE;
			if (override < ow->n)
				ow->kind[override] = dev->driver_override ?
							     ACT_OVERRIDE_CLEAR :
							     ACT_OVERRIDE_SET;
		}
	}
	owners_fill(ow, l.n, NULL);
	/* vfio bus drivers come and go as modules */
	for (int k = 0; k < BUS_KIND_MAX_; k++) {
		const char *vfio = bus_vfio_driver_name((enum bus_kind)k);

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
	owners_fill(ow, l.n, NULL);
	if (l.oom || (ow && ow->oom)) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		if (ow) {
			free(ow->v);
			free(ow->kind);
			ow->v = NULL;
			ow->kind = NULL;
		}
		return -ENOMEM;
	}
	*ret_lines = l.v;
	*ret_n = l.n;
	return 0;
}

int check_actions(struct machine *m, const struct check_opts *o,
		  char ***ret_lines, size_t *ret_n)
{
	return actions_of(m, o, ret_lines, ret_n, NULL);
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

/*
 * Run one script line on @m; *ret_failed when it failed. @ctx, when given,
 * is the caller's context, reset for @m (a fresh one per line cost 13 KB
 * of clearing); without it, one is made for the line.
 */
static int run_line(struct script_ctx *ctx, struct machine *m,
		    const char *line, bool *ret_failed)
{
	struct script_ctx *own = NULL;
	struct script_result res;
	int ret;

	if (ctx) {
		script_ctx_reset(ctx, m);
	} else {
		ctx = own = script_ctx_new(m, "check");
		if (!ctx)
			return -ENOMEM;
	}
	ret = script_exec_line(ctx, line, 1, &res);
	*ret_failed = ret || res.status;
	script_result_free(&res);
	script_ctx_free(own);
	return 0;
}

/*
 * What a VMM does once the kernel has taken its last device of a group
 * away (an unbind relays a device request, vfio_unregister_group_dev()):
 * QEMU's vfio_put_group() closes the group's file, and
 * vfio_disconnect_container() the container it no longer needs. The
 * model's userspace closes only the device, so without these lines every
 * unbind of an assigned device would leave two more descriptors open and
 * the state space would never close. The lines run are appended to
 * @lines (may be NULL). Return: the number of lines run; -ENOMEM.
 */
static int settle(struct script_ctx *ctx, struct machine *m,
		  struct strlist *lines)
{
	struct strlist l = { 0 };
	struct vfio_group *vg;
	struct vfio_container *c;
	size_t ngroups;
	bool failed;
	int n;

	list_for_each_entry(vg, &m->vfio_groups, node)
		if (vg->file.owner == m->default_process &&
		    list_empty(&vg->device_list))
			strlist_add(&l, "@vfio close %d",
				    vg->noiommu ? -1 - vg->id : vg->id);
	ngroups = l.n;
	for (size_t i = 0; i < ngroups; i++)
		if (run_line(ctx, m, l.v[i], &failed))
			l.oom = true;
	/* closing a group may have left its container without one */
	list_for_each_entry(c, &m->vfio_containers, node)
		if (c->file.owner == m->default_process && c->id >= 0 &&
		    list_empty(&c->group_list))
			strlist_add(&l, "@vfio container-close %d", c->id);
	for (size_t i = ngroups; !l.oom && i < l.n; i++)
		if (run_line(ctx, m, l.v[i], &failed))
			l.oom = true;
	for (size_t i = 0; lines && i < l.n; i++)
		strlist_add(lines, "%s", l.v[i]);
	n = l.oom || (lines && lines->oom) ? -ENOMEM : (int)l.n;
	strlist_free(&l);
	return n;
}

/*
 * One transition: @line, then the VMM's settling (settle()); the log is
 * cleared, it is history. *ret_failed tells whether @line failed. With
 * @lines, every line run is appended there.
 */
static int step(struct script_ctx *ctx, struct machine *m, const char *line,
		bool *ret_failed, struct strlist *lines)
{
	int ret = run_line(ctx, m, line, ret_failed);

	if (!ret && lines)
		strlist_add(lines, "%s", line);
	if (!ret && settle(ctx, m, lines) < 0)
		ret = -ENOMEM;
	machine_log_clear(m);
	return ret;
}

/*
 * The state's identity: its 128-bit hash, and its text in exact mode,
 * written over the buffer @buf of @cap bytes that the walker keeps (a
 * new one per state cost more than the text).
 */
static int state_key(struct machine *m, uint64_t hash[2], char **buf,
		     size_t *cap, size_t *ret_len)
{
	int ret = machine_state_serialize_to(m, buf, cap, ret_len);

	if (!ret)
		machine_state_hash128(*buf, *ret_len, hash);
	return ret;
}

/*
 * One state on the path from boot to the state being expanded, with its
 * machine, and its actions once asked for.
 */
struct frame {
	unsigned long idx;
	struct machine *m;
	char **acts;
	size_t nacts;
	/* --por, commutation: each action's device (struct owners) */
	struct device **own;
	unsigned char *kind; /* and its enum act_kind */
	/* commutation: each action's line id (struct line_ix); 0: none */
	uint32_t *lid;
	signed char wide; /* commute_conditions(): -1 not asked yet */
	signed char may;  /* frame_may_commute(): -1 not asked yet */
	/* por_group_isolated() of the groups asked about, @niso of them */
	struct {
		const struct iommu_group *g;
		bool isolated;
	} iso[8];
	int niso;
};

/*
 * The lines the search has met, each with a number: a line is an action
 * of many states, and the tables of transitions (struct tcache) name it
 * by its number. Exact, so no two lines share one.
 */
struct line_ix {
	char **v;          /* v[id - 1]: the search's copy of each line */
	uint32_t n, cap;
	struct strmap ids; /* a copy to its id */
	size_t text_bytes;
};

/*
 * What the transitions of the states of this level and the two before
 * led to (a state's action may go back to its grandparent), which
 * commutation looks up instead of running a transition (docs/check.md,
 * "Transitions known without running them"). For each state expanded
 * (i counted from @start), a record at @b + @off[i] - 1 (@off[i] 0:
 * none): the number of pairs, then each pair's line id and the target's
 * index less the state's, zigzagged, as LEB128 varints, about 4 bytes a
 * pair where two 32-bit numbers took 8. With several workers a target in
 * the next level takes exactly search::tc_width bytes, so that
 * settle_level() can renumber it in place (tc_remap()); a line id 0 is a
 * pair dropped there.
 */
struct tc_pair {
	uint32_t line, dst;
};

struct tc_level {
	unsigned long start, end;
	uint32_t *off;
	uint8_t *b;
	size_t nb, cap;
};

struct tcache {
	struct tc_level cur, prev, old;
	/* --max-memory: given up for the store, which needed the room */
	atomic_bool dropped;
};

/*
 * What the visited set may take, the tables included: this much per
 * state stored (issue 13: at most 100), and a little more for the first
 * levels, whose tables every later state's are built on. The tables take
 * what the store leaves of it.
 */
#define CHECK_BYTES_PER_STATE 92
#define CHECK_BYTES_FLOOR (32 * 1024)

/*
 * Where in a level a violation shows: the state expanded (its index, a
 * level's states being in a fixed order) and the action. The first one in
 * that order is the one a single thread meets first.
 */
struct where {
	unsigned long idx;
	unsigned long action;
};

static bool where_before(struct where a, struct where b)
{
	return a.idx < b.idx || (a.idx == b.idx && a.action < b.action);
}

#define WHERE_NONE ((struct where){ ULONG_MAX, ULONG_MAX })

/* A violation found by a worker: its place, its words, how to print it. */
struct found {
	struct where at;
	unsigned int violated;
	bool whole;        /* the action's settling lines belong to the trace */
	bool teardown;     /* I6 of the state the action reached */
	uint64_t hash[2];  /* with @teardown: that state */
	char why[sizeof(((struct check_stats *)0)->why)];
};

/*
 * One machine's search, shared by its workers. The store is read and
 * written under @lock; everything else a worker touches is its own.
 */
struct search {
	const struct check_opts *o;
	struct check_stats *st;
	struct store store;
	struct machine *boot; /* prepared; read-only while workers run */
	pthread_mutex_t lock;
	/* the level being expanded, by workers taking chunks of it */
	unsigned long level_start, level_end;
	int level;
	atomic_ulong next;
	/*
	 * With several workers, where each parent's children start in the
	 * level (they are together: settle_level()), @ngroups of them and the
	 * level's end: a worker takes a parent's children at a time, so
	 * siblings, whose transitions commutation looks up in each other's
	 * tables, are expanded in order by one worker, as by a lone one.
	 */
	unsigned long *groups;
	size_t ngroups, capgroups;
	unsigned long states_cap; /* --max-states: no insertion past it */
	bool full;                /* a limit stopped insertion (under @lock) */
	int ret;                  /* first error of any worker (under @lock) */
	struct found best;        /* the first violation (under @lock) */
	struct found best_step;   /* the first of a step's own (under @lock) */
	/*
	 * I6 violations of this level's states (under @lock), kept apart: a
	 * worker checks a new state where it first met it, and one worker
	 * would have met it at its first place in level order, known only
	 * once the level is done (resolve_teardowns()).
	 */
	struct found *i6;
	size_t ni6;
	atomic_ulong transitions;
	atomic_ulong por_reduced, por_skipped; /* --por: states, actions */
	/*
	 * Transitions known without running them (docs/check.md): on unless
	 * --por, --exact or --no-commute; the line numbers under @lock, the
	 * tables under @lock and @tc_lock (struct tcache)
	 */
	bool commute;
	struct line_ix lines;
	struct tcache tc;
	atomic_ulong commuted;
	atomic_ulong equivalent; /* known by what the action does */
	atomic_ulong i6_known;   /* new states whose I6 is their parent's */
	size_t peak_bytes; /* the most the visited set held (under @lock) */
	/*
	 * The current level's tables, which workers look up far more often
	 * than they add to: read under this lock, written under it and @lock
	 */
	pthread_rwlock_t tc_lock;
	int nthreads;
	/*
	 * The bytes of a next-level target in the tables with several
	 * workers: 3 while no two states are 2^20 apart (--max-states at
	 * most that, as by default), else 4
	 */
	unsigned int tc_width;
	/*
	 * Set with @best, @ret or @full: until then no worker is past
	 * anything, and past_violation() need not take @lock.
	 */
	atomic_bool stopping;
	double t0, last_report;
};

/*
 * The search's lock, taken only when there is someone to keep out: with
 * one worker, locking cost 3% of its time.
 */
static inline void search_lock(struct search *s)
{
	if (s->nthreads > 1)
		pthread_mutex_lock(&s->lock);
}

static inline void search_unlock(struct search *s)
{
	if (s->nthreads > 1)
		pthread_mutex_unlock(&s->lock);
}

/* A worker: its own path of machines from boot. */
struct walker {
	struct search *s;
	struct frame *path; /* path[0] is boot; @npath in use */
	int npath, cappath;
	unsigned long *chain;
	struct script_ctx *ctx; /* reused for every line the walker runs */
	char *text;             /* the last state's text (state_key()) */
	size_t text_cap;
	/* transition_known()'s parent links to set: walker_links() */
	struct link_claim {
		unsigned long dst;
		struct where at;
	} *links;
	size_t nlinks, caplinks;
	/* per action of the state expanded: known_targets() */
	unsigned long *known;
	unsigned long **known_by;
	size_t capknown;
	/*
	 * The figures this walker adds to, folded into the search's every
	 * chunk of states (walker_fold()): two workers adding to one counter
	 * each transition bounced its cache line between them
	 */
	struct {
		unsigned long transitions, commuted, equivalent, i6_known;
	} n;
	/* the transitions of the state being expanded, for the tcache */
	struct tc_pair *pend;
	size_t npend, cappend;
	uint8_t *enc; /* their record (tc_encode()), from @enc_from */
	size_t capenc, enc_from;
	/*
	 * The line numbers this walker has met, so that numbering a state's
	 * lines takes the search's lock only for a line new to it: the
	 * search's copy of each line to its id
	 */
	struct strmap seen;
	bool reports; /* calls the progress hook (the first worker) */
};

static void frame_clear(struct frame *f)
{
	machine_destroy(f->m);
	free_lines(f->acts, f->nacts);
	free(f->own);
	free(f->kind);
	free(f->lid);
	memset(f, 0, sizeof(*f));
}

/* The number of @line, given one if it has none yet; 0: out of memory. */
static uint32_t line_id(struct line_ix *ix, const char *line)
{
	uint32_t id = (uint32_t)(uintptr_t)strmap_get(&ix->ids, line);
	char *copy;

	if (id)
		return id;
	if (ix->n == ix->cap) {
		uint32_t ncap = ix->cap ? ix->cap * 2 : 256;
		char **nv = realloc(ix->v, ncap * sizeof(*nv));

		if (!nv)
			return 0;
		ix->v = nv;
		ix->cap = ncap;
	}
	copy = strdup(line);
	if (!copy || strmap_put(&ix->ids, copy, (void *)(uintptr_t)(ix->n + 1))) {
		free(copy);
		return 0;
	}
	ix->v[ix->n++] = copy;
	ix->text_bytes += strlen(line) + 1;
	return ix->n;
}

static size_t line_ix_bytes(const struct line_ix *ix)
{
	return ix->cap * sizeof(*ix->v) + strmap_room(&ix->ids) +
	       ix->text_bytes;
}

static void line_ix_free(struct line_ix *ix)
{
	for (uint32_t i = 0; i < ix->n; i++)
		free(ix->v[i]);
	free(ix->v);
	strmap_free(&ix->ids);
	memset(ix, 0, sizeof(*ix));
}

static int frame_actions(struct walker *w, struct frame *f)
{
	struct search *s = w->s;
	struct owners ow = { 0 };
	int ret;

	if (f->acts)
		return 0;
	if (!s->o->por && !s->commute)
		return check_actions(f->m, s->o, &f->acts, &f->nacts);
	ret = actions_of(f->m, s->o, &f->acts, &f->nacts, &ow);
	if (ret)
		return ret;
	f->own = ow.v;
	f->kind = ow.kind;
	f->wide = -1;
	f->may = -1;
	f->niso = 0;
	return 0;
}

static size_t search_bytes(const struct search *s);

/* What numbering @f's lines may add to @ix at most. */
static size_t line_ix_more(const struct line_ix *ix, const struct frame *f)
{
	size_t more = 0;

	for (size_t a = 0; a < f->nacts; a++)
		more += strlen(f->acts[a]) + 1;
	if (ix->n + f->nacts > ix->cap)
		more += (ix->cap + f->nacts + 256) * sizeof(*ix->v);
	if ((ix->n + f->nacts + 1) * 2 > ix->ids.cap)
		more += (ix->ids.cap + 2 * f->nacts + 8) *
			(sizeof(*ix->ids.keys) + sizeof(*ix->ids.vals));
	return more;
}

/*
 * The line ids of @f's actions, asked for only where commutation may
 * use them; false without (out of memory or memory limit: nothing is
 * known by commutation from @f, and the search is the same).
 */
static bool frame_lids(struct walker *w, struct frame *f)
{
	struct search *s = w->s;
	bool ok = true, missed = false;

	if (f->lid || !f->nacts)
		return f->lid;
	/* set under the lock; the lines stay until the level is done */
	if (atomic_load(&s->tc.dropped))
		return false;
	f->lid = malloc(f->nacts * sizeof(*f->lid));
	if (!f->lid)
		return false;
	for (size_t a = 0; a < f->nacts; a++) {
		f->lid[a] = (uint32_t)(uintptr_t)strmap_get(&w->seen,
							    f->acts[a]);
		missed |= !f->lid[a];
	}
	if (missed) {
		search_lock(s);
		/* --max-memory holds for the lines as for the rest */
		if (atomic_load(&s->tc.dropped) ||
		    (s->o->max_memory &&
		     search_bytes(s) + line_ix_more(&s->lines, f) >
			     s->o->max_memory))
			ok = false;
		for (size_t a = 0; ok && a < f->nacts; a++) {
			if (f->lid[a])
				continue;
			f->lid[a] = line_id(&s->lines, f->acts[a]);
			/* out of memory, the walker only forgets it */
			if (f->lid[a])
				strmap_put(&w->seen, s->lines.v[f->lid[a] - 1],
					   (void *)(uintptr_t)f->lid[a]);
		}
		search_unlock(s);
	}
	if (!ok) {
		free(f->lid);
		f->lid = NULL;
	}
	return ok;
}

/* ---- partial-order reduction (--por) ---- */

/*
 * Whether nothing but the group's own sysfs actions can change group @g,
 * and its actions change nothing but @g (docs/check.md, "Partial-order
 * reduction"): not owned and no vfio group on it, every member added,
 * without driver_override, not bound to its bus's vfio driver, and bound
 * if it can take an override: an unbound one's override store and a load
 * of the vfio module do not commute (loading vfio-pci binds an unbound
 * device whose override names it), and other actions can always unload
 * and load the module. No device still to join a group may join this one.
 */
static bool por_group_isolated(struct machine *m, struct iommu_group *g)
{
	struct group_device *gdev;
	struct vfio_group *vg;
	struct device *dev;

	if (g->owner || list_empty(&g->devices))
		return false;
	list_for_each_entry(vg, &m->vfio_groups, node)
		if (vg->iommu_group == g)
			return false;
	for_each_group_device(g, gdev) {
		const char *vfio;
		struct device_driver *vdrv;

		dev = gdev->dev;
		if (!dev->added || !dev->bus || dev->driver_override)
			return false;
		vfio = bus_vfio_driver_name(dev->bus->ops->kind);
		vdrv = vfio ? machine_find_driver(m, vfio) : NULL;
		if (vfio && dev->driver && !strcmp(dev->driver->name, vfio))
			return false;
		if (!dev->driver && vfio && !is_container(dev))
			return false;
		if (!dev->driver && vdrv && driver_match_device(vdrv, dev) > 0)
			return false;
	}
	/* a device's first probe (IORT, devicetree) may join it to @g */
	list_for_each_entry(dev, &m->devices, node)
		if (!dev->iommu_group && dev->fw.iommu && m->cfg.iommu_api &&
		    dev->fw.group_key && dev->fw.group_key == g->key)
			return false;
	return true;
}

/*
 * What makes an isolated group's actions independent of every other
 * action, whatever runs first: no probe faults explored, every IOMMU
 * registered (a late one probes devices into groups), no device left to
 * plug in, and no probe deferred (a successful bind retries those).
 */
static bool commute_conditions(struct machine *m, const struct check_opts *o)
{
	struct iommu_device *iommu;
	struct device *dev;

	if (o->probe_faults || !list_empty(&m->deferred_probe))
		return false;
	list_for_each_entry(iommu, &m->iommus, node)
		if (!iommu->registered)
			return false;
	list_for_each_entry(dev, &m->devices, node)
		if (!dev->added)
			return false;
	return true;
}

/*
 * The ample set of a state: the actions of one isolated group, the one
 * with the fewest (then the lowest id), when there is one and other
 * actions besides; else every action. Group @avoid, the one the action
 * into this state worked on, is not chosen: its actions would undo that
 * one, back to a state seen, and the cycle proviso would then expand
 * every action. Marks @ample[a] for the actions to run first; returns
 * how many, or @nacts for all. The conditions that make a group's
 * actions independent of every other action hold machine-wide
 * (commute_conditions()).
 */
static size_t por_ample(struct machine *m, const struct check_opts *o,
			struct device *const *own, size_t nacts, int avoid,
			bool *ample)
{
	struct iommu_group *g, *best = NULL;
	size_t best_n = nacts;

	if (!commute_conditions(m, o))
		return nacts;
	list_for_each_entry(g, &m->groups, node) {
		size_t n = 0;

		for (size_t a = 0; a < nacts; a++)
			n += own[a] && own[a]->iommu_group == g;
		if (!n || n >= nacts || g->id == avoid)
			continue;
		if (best && (n > best_n || (n == best_n && g->id > best->id)))
			continue;
		if (!por_group_isolated(m, g))
			continue;
		best = g;
		best_n = n;
	}
	if (!best)
		return nacts;
	for (size_t a = 0; a < nacts; a++)
		ample[a] = own[a] && own[a]->iommu_group == best;
	return best_n;
}

/* ---- transitions known by commutation (docs/check.md) ---- */

static bool frame_wide(struct search *s, struct frame *f)
{
	if (f->wide < 0)
		f->wide = commute_conditions(f->m, s->o);
	return f->wide;
}

static bool frame_isolated(struct frame *f, const struct iommu_group *g)
{
	bool iso;

	for (int i = 0; i < f->niso; i++)
		if (f->iso[i].g == g)
			return f->iso[i].isolated;
	iso = por_group_isolated(f->m, (struct iommu_group *)g);
	if (f->niso < (int)(sizeof(f->iso) / sizeof(f->iso[0])))
		f->iso[f->niso++] = (typeof(f->iso[0])){ g, iso };
	return iso;
}

static const struct iommu_group *action_group(const struct frame *f,
					      size_t a)
{
	return f->own && f->own[a] ? f->own[a]->iommu_group : NULL;
}

/*
 * A driver_override write to a bound device: it changes the override
 * and nothing else (driver_override_store()), and the override is read
 * only when the device is probed (the buses' match(),
 * pci_device_can_probe()), which no action but one on the device itself
 * does to a bound device.
 */
static bool override_of_bound(const struct frame *f, size_t a)
{
	return (f->kind[a] == ACT_OVERRIDE_SET ||
		f->kind[a] == ACT_OVERRIDE_CLEAR) &&
	       f->own[a] && f->own[a]->driver;
}

/*
 * Whether actions @k and @a of state @f commute: one is local to a group
 * that is isolated there and the other is not, so neither changes what
 * the other does (the argument of --por's ample sets); or one writes
 * the driver_override of a bound device the other is not an action on.
 * Then @f, @a, @k and @f, @k, @a end in the same state.
 */
static bool frame_commute(struct search *s, struct frame *f, size_t k,
			  size_t a)
{
	const struct iommu_group *gk = action_group(f, k);
	const struct iommu_group *ga = action_group(f, a);

	if (!f->m || !frame_wide(s, f))
		return false;
	if ((override_of_bound(f, k) || override_of_bound(f, a)) &&
	    f->own[k] != f->own[a])
		return true;
	return (gk && gk != ga && frame_isolated(f, gk)) ||
	       (ga && ga != gk && frame_isolated(f, ga));
}

/*
 * Whether the transitions of @f are worth keeping: a state's children
 * look its transitions up only when one of its actions is local to an
 * isolated group or writes a bound device's driver_override.
 */
static bool frame_may_commute(struct search *s, struct frame *f)
{
	if (f->may < 0) {
		f->may = 0;
		for (size_t a = 0; frame_wide(s, f) && a < f->nacts; a++) {
			const struct iommu_group *g = action_group(f, a);

			if (override_of_bound(f, a) ||
			    (g && frame_isolated(f, g))) {
				f->may = 1;
				break;
			}
		}
	}
	return f->may;
}

static size_t tc_bytes(const struct tcache *tc)
{
	return tc->cur.cap + tc->prev.cap + tc->old.cap +
	       (tc->cur.end - tc->cur.start + tc->prev.end - tc->prev.start +
		tc->old.end - tc->old.start) *
		       sizeof(uint32_t);
}

static void tc_level_free(struct tc_level *lv)
{
	free(lv->off);
	free(lv->b);
	memset(lv, 0, sizeof(*lv));
}

static size_t tc_put(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	for (; v >= 0x80; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	return n;
}

/* @v (below 2^(7 @width)) in exactly @width bytes: renumbered in place */
static void tc_putw(uint8_t *p, uint32_t v, unsigned int width)
{
	for (unsigned int i = 0; i + 1 < width; i++, v >>= 7)
		p[i] = (uint8_t)(v | 0x80);
	p[width - 1] = (uint8_t)(v & 0x7f);
}

static const uint8_t *tc_get(const uint8_t *p, uint32_t *v)
{
	uint32_t x = 0;

	for (int sh = 0;; sh += 7) {
		uint8_t c = *p++;

		x |= (uint32_t)(c & 0x7f) << sh;
		if (!(c & 0x80))
			break;
	}
	*v = x;
	return p;
}

/* @dst - @idx zigzagged; false when it does not fit 32 bits */
static bool tc_zig(unsigned long idx, unsigned long dst, uint32_t *ret)
{
	unsigned long z = dst >= idx ? (dst - idx) * 2 : (idx - dst) * 2 - 1;

	*ret = (uint32_t)z;
	return z <= UINT32_MAX;
}

static unsigned long tc_unzig(unsigned long idx, uint32_t z)
{
	return z & 1 ? idx - (z >> 1) - 1 : idx + (z >> 1);
}

static void tc_free(struct tcache *tc)
{
	tc_level_free(&tc->cur);
	tc_level_free(&tc->prev);
	tc_level_free(&tc->old);
}

/* What the visited set holds now: the store, the lines, the tables. */
static size_t search_bytes(const struct search *s)
{
	return store_bytes(&s->store) + line_ix_bytes(&s->lines) +
	       tc_bytes(&s->tc);
}

/* Under @s->lock, or with one thread: after the visited set grew. */
static void search_bytes_note(struct search *s)
{
	size_t now = search_bytes(s);

	if (now > s->peak_bytes)
		s->peak_bytes = now;
}

/* A new level starts: the third before it is not looked at again. */
static void tc_next_level(struct search *s)
{
	struct tc_level *cur = &s->tc.cur;
	size_t more = (s->level_end - s->level_start) * sizeof(uint32_t);

	tc_level_free(&s->tc.old);
	if (atomic_load(&s->tc.dropped)) {
		tc_free(&s->tc);
		line_ix_free(&s->lines);
		return;
	}
	s->tc.old = s->tc.prev;
	s->tc.prev = *cur;
	memset(cur, 0, sizeof(*cur));
	if (s->o->max_memory && search_bytes(s) + more > s->o->max_memory)
		return;
	cur->off = calloc(s->level_end - s->level_start, sizeof(*cur->off));
	if (!cur->off)
		return; /* no tables, nothing known by commutation: same search */
	cur->start = s->level_start;
	cur->end = s->level_end;
	search_bytes_note(s);
}

static bool tc_in(const struct tc_level *lv, unsigned long idx)
{
	return idx >= lv->start && idx < lv->end;
}

static unsigned long tc_level_lookup(const struct tc_level *lv,
				     unsigned long idx, uint32_t line)
{
	const uint8_t *p;
	uint32_t n, l, z;

	if (!tc_in(lv, idx) || !line || !lv->off[idx - lv->start])
		return ULONG_MAX;
	p = tc_get(lv->b + lv->off[idx - lv->start] - 1, &n);
	while (n--) {
		p = tc_get(tc_get(p, &l), &z);
		if (l == line)
			return tc_unzig(idx, z);
	}
	return ULONG_MAX;
}

/*
 * Where transition @line from state @idx led; ULONG_MAX: not known.
 * With several workers, under s->tc_lock: they add to the current level.
 */
static unsigned long tc_lookup(const struct tcache *tc, unsigned long idx,
			       uint32_t line)
{
	return tc_level_lookup(tc_in(&tc->cur, idx)  ? &tc->cur :
			       tc_in(&tc->prev, idx) ? &tc->prev :
						       &tc->old,
			       idx, line);
}

/* The same in the two levels before, which no worker changes: no lock. */
static unsigned long tc_lookup_prev(const struct tcache *tc,
				    unsigned long idx, uint32_t line)
{
	return tc_level_lookup(tc_in(&tc->prev, idx) ? &tc->prev : &tc->old,
			       idx, line);
}

/*
 * The record of state @idx's @n transitions, into the walker's @enc;
 * its length in bytes. With several workers a target in the next level
 * takes s->tc_width bytes, and a pair whose numbers do not fit is left
 * out.
 */
static size_t tc_encode(struct walker *w, unsigned long idx,
			const struct tc_pair *pend, size_t n)
{
	struct search *s = w->s;
	size_t len, kept = 0;

	if (w->capenc < 5 + n * 10) {
		uint8_t *ne = realloc(w->enc, 5 + n * 10);

		if (!ne)
			return 0;
		w->enc = ne;
		w->capenc = 5 + n * 10;
	}
	len = 5; /* the count goes in front once known */
	for (size_t i = 0; i < n; i++) {
		bool moves = s->nthreads > 1 && pend[i].dst >= s->level_end;
		uint32_t z;

		if (!tc_zig(idx, pend[i].dst, &z) ||
		    (moves && z >= 1U << (7 * s->tc_width)))
			continue;
		len += tc_put(w->enc + len, pend[i].line);
		if (moves) {
			tc_putw(w->enc + len, z, s->tc_width);
			len += s->tc_width;
		} else {
			len += tc_put(w->enc + len, z);
		}
		kept++;
	}
	if (!kept)
		return 0;
	{
		uint8_t head[5];
		size_t hl = tc_put(head, (uint32_t)kept);

		memcpy(w->enc + 5 - hl, head, hl);
		w->enc_from = 5 - hl;
	}
	return len - w->enc_from;
}

/* Keep the transitions of state @idx, just expanded, when there is room. */
static void tc_publish(struct walker *w, unsigned long idx,
		       const struct tc_pair *pend, size_t n)
{
	struct search *s = w->s;
	struct tc_level *lv = &s->tc.cur;
	size_t len = n && n <= UINT32_MAX ? tc_encode(w, idx, pend, n) : 0;

	if (!len)
		return;
	search_lock(s);
	if (s->nthreads > 1)
		pthread_rwlock_wrlock(&s->tc_lock);
	if (idx < lv->start || idx >= lv->end || lv->nb + len >= UINT32_MAX ||
	    atomic_load(&s->tc.dropped))
		goto out;
	if (lv->nb + len > lv->cap) {
		size_t ncap = lv->cap ? lv->cap + lv->cap / 2 : 1024;
		/* everything but this level's records */
		size_t used = search_bytes(s) - lv->cap;
		size_t budget = CHECK_BYTES_PER_STATE * s->store.n +
				CHECK_BYTES_FLOOR;
		uint8_t *nb;

		if (ncap < lv->nb + len)
			ncap = lv->nb + len;
		if (s->o->max_memory && s->o->max_memory < budget)
			budget = s->o->max_memory;
		if (budget <= used)
			goto out;
		if (ncap > budget - used)
			ncap = budget - used;
		if (ncap < lv->nb + len)
			goto out;
		nb = realloc(lv->b, ncap);
		if (!nb)
			goto out;
		lv->b = nb;
		lv->cap = ncap;
	}
	memcpy(lv->b + lv->nb, w->enc + w->enc_from, len);
	lv->off[idx - lv->start] = (uint32_t)(lv->nb + 1);
	lv->nb += len;
	search_bytes_note(s);
out:
	if (s->nthreads > 1)
		pthread_rwlock_unlock(&s->tc_lock);
	search_unlock(s);
}

/*
 * --max-memory: the store needs the room the tables and the line
 * numbers take, and states come first; the rest of the search runs every
 * transition. Under @s->lock. Returns whether there were tables to give
 * up.
 */
static bool tc_drop(struct search *s)
{
	bool had = s->tc.cur.off || s->tc.prev.off || s->tc.old.off ||
		   s->lines.n;

	/*
	 * Other workers read the levels before without the lock: with several,
	 * the room comes back when the level is done (tc_next_level()), and
	 * this insertion fails as it would have.
	 */
	atomic_store(&s->tc.dropped, true);
	if (s->nthreads > 1)
		return false;
	/* the ids the frames hold are never looked up again */
	tc_free(&s->tc);
	line_ix_free(&s->lines);
	return had;
}

static int walker_pend(struct walker *w, uint32_t line, unsigned long dst)
{
	if (w->npend == w->cappend) {
		size_t ncap = w->cappend ? w->cappend * 2 : 64;
		struct tc_pair *np = realloc(w->pend, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		w->pend = np;
		w->cappend = ncap;
	}
	w->pend[w->npend++] = (struct tc_pair){ line, (uint32_t)dst };
	return 0;
}

static void walker_free(struct walker *w)
{
	for (int k = 0; k < w->npath; k++)
		frame_clear(&w->path[k]);
	free(w->path);
	free(w->chain);
	free(w->text);
	free(w->pend);
	free(w->links);
	free(w->known);
	free(w->known_by);
	free(w->enc);
	strmap_free(&w->seen);
	script_ctx_free(w->ctx);
	memset(w, 0, sizeof(*w));
}

/*
 * The machine of state @idx at level @level: rebuilt from the deepest
 * state of the walker's path that is one of its ancestors, one action at
 * a time. The states of a level come grouped by parent, so most need one
 * clone and one action. A model that is not deterministic would rebuild
 * another state: --exact checks the text (-EINVAL).
 */
static int state_machine(struct walker *w, unsigned long idx, int level,
			 struct frame **ret_frame)
{
	struct search *s = w->s;
	int d;

	if (level + 1 > w->cappath) {
		int ncap = (level + 1) * 2;
		struct frame *np = realloc(w->path, (size_t)ncap * sizeof(*np));
		unsigned long *nc;

		if (!np)
			return -ENOMEM;
		w->path = np;
		nc = realloc(w->chain, (size_t)ncap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		w->chain = nc;
		memset(w->path + w->cappath, 0,
		       (size_t)(ncap - w->cappath) * sizeof(*np));
		w->cappath = ncap;
	}
	if (!w->npath) {
		w->path[0] = (struct frame){ .idx = 0,
					     .m = machine_clone(s->boot) };
		if (!w->path[0].m)
			return -ENOMEM;
		w->npath = 1;
	}
	/* the store only grows, and its entries of past levels stay put */
	search_lock(s);
	for (d = level; d > 0; d--) {
		w->chain[d] = idx;
		idx = s->store.states[idx].parent;
	}
	search_unlock(s);
	w->chain[0] = 0;
	for (d = 1; d < w->npath && d <= level; d++)
		if (w->path[d].idx != w->chain[d])
			break;
	for (int k = d; k < w->npath; k++)
		frame_clear(&w->path[k]);
	w->npath = d;
	for (; d <= level; d++) {
		struct frame *parent = &w->path[d - 1];
		unsigned long action;
		struct machine *m;
		bool failed;

		search_lock(s);
		action = s->store.states[w->chain[d]].action;
		search_unlock(s);
		if (frame_actions(w, parent))
			return -ENOMEM;
		if (action >= parent->nacts)
			return -EINVAL; /* the model is not deterministic */
		m = machine_clone(parent->m);
		if (!m || step(w->ctx, m, parent->acts[action], &failed, NULL)) {
			machine_destroy(m);
			return -ENOMEM;
		}
		if (s->store.exact) {
			size_t off = s->store.off[w->chain[d]];
			size_t len = s->store.off[w->chain[d] + 1] - off;
			char *text = machine_state_serialize(m, NULL);
			bool same = text && strlen(text) == len &&
				    !memcmp(text, s->store.text + off, len);

			free(text);
			if (!same) {
				machine_destroy(m);
				return -EINVAL;
			}
		}
		w->path[d] = (struct frame){ .idx = w->chain[d], .m = m };
		w->npath = d + 1;
	}
	*ret_frame = &w->path[level];
	return 0;
}

/*
 * The counterexample: the lines from boot to state @idx at @level, then,
 * when @last is given, that action on it (only its own line when @whole
 * is false: the violation showed before the VMM settled). Replayed, so
 * the lines are those a user types, settling included.
 */
static int build_trace(struct walker *w, unsigned long idx, int level,
		       const char *last, bool whole)
{
	struct strlist l = { 0 };
	struct frame *f;
	int ret = state_machine(w, idx, level, &f);

	for (int d = 1; !ret && d <= level; d++) {
		struct machine *m = machine_clone(w->path[d - 1].m);
		const struct state *st = &w->s->store.states[w->path[d].idx];
		bool failed;

		if (!m || step(w->ctx, m, w->path[d - 1].acts[st->action], &failed, &l))
			ret = -ENOMEM;
		machine_destroy(m);
	}
	if (!ret && last) {
		if (whole) {
			struct machine *m = machine_clone(f->m);
			bool failed;

			if (!m || step(w->ctx, m, last, &failed, &l))
				ret = -ENOMEM;
			machine_destroy(m);
		} else {
			strlist_add(&l, "%s", last);
		}
	}
	if (ret || l.oom) {
		strlist_free(&l);
		return ret ? ret : -ENOMEM;
	}
	w->s->st->trace = l.v;
	w->s->st->trace_len = (int)l.n;
	w->s->st->path_len = (int)l.n;
	return 0;
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

static int check_interleaved(struct machine *boot, const struct check_opts *o,
			     struct check_stats *st);

/*
 * --max-states with --interleave: the states whose interleavings are run,
 * and those queued for the next level.
 */
static bool max_states_reached(const struct check_opts *o,
			       const struct check_stats *st)
{
	return o->max_states && st->states >= o->max_states;
}

/* The invariants after a step, and I5 when its line failed. */
static unsigned int step_violates(struct machine *c, const char *line,
				  bool failed, const char *before, char *why,
				  size_t why_len)
{
	unsigned int bad = machine_check_invariants(
		c, INV_ISOLATION | INV_ACCOUNTING | INV_DOMAINS | INV_NO_WARN,
		why, why_len);
	char *after;

	if (bad || !failed || !before)
		return bad;
	after = check_ownership_snapshot(c);
	if (after && !check_ownership_kept(before, after)) {
		bad = INV_FAILED_NOOP;
		snprintf(why, why_len,
			 "'%s' failed but changed group ownership or bindings",
			 line);
	}
	free(after);
	return bad;
}

/*
 * Keep @f if it comes before the violation known so far (so no worker
 * goes past it), and every I6 one for resolve_teardowns().
 */
static void found_violation(struct search *s, const struct found *f)
{
	search_lock(s);
	if (!f->teardown && where_before(f->at, s->best_step.at))
		s->best_step = *f;
	if (f->teardown) {
		struct found *n = realloc(s->i6, (s->ni6 + 1) * sizeof(*n));

		if (n) {
			s->i6 = n;
			s->i6[s->ni6++] = *f;
		} else if (!s->ret) {
			s->ret = -ENOMEM;
		}
	}
	if (where_before(f->at, s->best.at))
		s->best = *f;
	atomic_store(&s->stopping, true);
	search_unlock(s);
}

static bool past_violation(struct search *s, struct where at)
{
	bool past;

	if (!atomic_load(&s->stopping))
		return false;
	search_lock(s);
	past = !where_before(at, s->best.at) || s->ret || s->full;
	search_unlock(s);
	return past;
}

/* Under @s->lock: @at reaches next-level state @dst; keep the first place. */
static void link_first(struct search *s, unsigned long dst, struct where at)
{
	struct state *st = &s->store.states[dst];

	if (where_before(at, (struct where){ st->parent, st->action })) {
		st->parent = (uint32_t)at.idx;
		st->action = (uint32_t)at.action;
	}
}

/*
 * Store a state reached by @at. With several workers a state found twice
 * in one level keeps the first place in level order as its parent link,
 * so the store ends as one worker would leave it. Returns 1 when new, 0
 * when known, -ENOMEM, or -ENOSPC when a limit stops insertion.
 */
static int store_reached(struct search *s, const uint64_t hash[2],
			 const char *text, size_t len, struct where at,
			 unsigned long *ret_i)
{
	bool is_new;
	long i;
	int ret;

	search_lock(s);
	if (s->full) {
		ret = -ENOSPC;
	} else if (s->o->max_memory &&
		   store_bytes_after_insert(&s->store, len) +
				   line_ix_bytes(&s->lines) + tc_bytes(&s->tc) >
			   s->o->max_memory &&
		   !store_lookup(&s->store, hash, text, len) &&
		   (!tc_drop(s) ||
		    store_bytes_after_insert(&s->store, len) +
				    line_ix_bytes(&s->lines) >
			    s->o->max_memory)) {
		s->full = true;
		atomic_store(&s->stopping, true);
		ret = -ENOSPC;
	} else {
		i = store_lookup_or_insert(&s->store, hash, text, len, at.idx,
					   at.action, &is_new);
		*ret_i = (unsigned long)i;
		if (i < 0) {
			ret = (int)i;
		} else if (!is_new) {
			if ((unsigned long)i >= s->level_end)
				link_first(s, (unsigned long)i, at);
			ret = 0;
		} else {
			ret = 1;
			search_bytes_note(s);
			/* --max-states: stop on reaching it */
			if (s->store.n >= s->states_cap) {
				s->full = true;
				atomic_store(&s->stopping, true);
			}
		}
	}
	search_unlock(s);
	return ret;
}

static void report_progress(struct walker *w, unsigned long k)
{
	struct search *s = w->s;
	struct check_stats copy;
	double now;

	if (!w->reports || !s->o->progress)
		return;
	now = now_seconds();
	if (now - s->last_report <= 0.5)
		return;
	s->last_report = now;
	search_lock(s);
	copy = *s->st;
	copy.states = s->store.n;
	copy.queue = s->store.n - k - 1;
	search_unlock(s);
	copy.transitions = atomic_load(&s->transitions);
	copy.seconds = now - s->t0;
	copy.depth = s->level;
	s->o->progress(s->o->progress_ctx, &copy);
}

/*
 * Whether the state action @a of @f reaches keeps I6 because @f does: a
 * driver_override write changes the override and nothing else
 * (driver_override_store()), and the teardown never reads it: it probes
 * nothing (the override is read only by the buses' match() and
 * pci_device_can_probe()), and frees it with the device. @f holds I6: it
 * is boot, checked with every invariant, or a state the search stored
 * without a violation. Self-checking builds run the teardown anyway.
 */
static bool i6_inherited(const struct search *s, const struct frame *f,
			 size_t a)
{
	return s->commute && f->kind &&
	       (f->kind[a] == ACT_OVERRIDE_SET ||
		f->kind[a] == ACT_OVERRIDE_CLEAR);
}

/*
 * Action @a from state @idx (machine @f): run, checked, its state stored
 * and, when new, its I6 checked. Returns 1 when the expansion stops there
 * (a violation, a limit), 0 to go on, or an error; *ret_added is what
 * store_reached() said (1 new, 0 known), and -1 when nothing was stored.
 * With @last, @f's machine is not needed after this action: it runs on
 * the machine itself instead of a copy, and @f->m is left NULL. *ret_i
 * is the index of the state reached, when one was stored or found, and
 * *ret_failed whether the action's line failed.
 */
static int expand_one(struct walker *w, struct frame *f, unsigned long idx,
		      size_t a, const char *before, bool last, int *ret_added,
		      unsigned long *ret_i, bool *ret_failed)
{
	struct search *s = w->s;
	struct where at = { idx, a };
	struct found v = { .at = at };
	struct machine *c;
	bool failed;
	uint64_t hash[2];
	size_t len;
	unsigned long i = 0;
	int settled, added;

	*ret_added = -1;
	if (past_violation(s, at))
		return 1;
	if (last) {
		c = f->m;
		f->m = NULL;
	} else {
		c = machine_clone(f->m);
	}
	if (!c || run_line(w->ctx, c, f->acts[a], &failed)) {
		machine_destroy(c);
		return -ENOMEM;
	}
	*ret_failed = failed;
	w->n.transitions++;
	v.violated = step_violates(c, f->acts[a], failed, before, v.why,
				   sizeof(v.why));
	settled = v.violated ? 0 : settle(w->ctx, c, NULL);
	machine_log_clear(c); /* logs are not state */
	if (settled > 0) {
		v.whole = true;
		v.violated = step_violates(c, f->acts[a], false, NULL, v.why,
					   sizeof(v.why));
	}
	if (settled < 0 || v.violated) {
		machine_destroy(c);
		if (settled < 0)
			return -ENOMEM;
		found_violation(s, &v);
		return 1;
	}
	if (state_key(c, hash, &w->text, &w->text_cap, &len)) {
		machine_destroy(c);
		return -ENOMEM;
	}
	added = store_reached(s, hash, w->text, len, at, &i);
	/*
	 * --por: a state known already is one of an earlier level or this
	 * one (0: the cycle proviso), this state itself (2: no progress,
	 * no cycle to close), or one of the next level, found from an
	 * earlier state of this level (3: progress, as a new one).
	 */
	if (added == 0 && i == idx)
		added = 2;
	else if (added == 0 && i >= s->level_end)
		added = 3;
	*ret_added = added;
	*ret_i = i;
	/*
	 * I6 once per new state, on the copy itself: it is done with. A
	 * state that differs from this one only in a driver_override holds
	 * I6 as this one does (i6_inherited()).
	 */
	if (added == 1 && i6_inherited(s, f, a)) {
		w->n.i6_known++;
		if (SELF_CHECKING)
			self_check(!check_teardown_consume(c, v.why,
							   sizeof(v.why)));
		else
			machine_destroy(c);
	} else if (added == 1 &&
		   check_teardown_consume(c, v.why, sizeof(v.why))) {
		v.violated = INV_TEARDOWN;
		v.whole = v.teardown = true;
		v.hash[0] = hash[0];
		v.hash[1] = hash[1];
		found_violation(s, &v);
	} else if (added != 1) {
		machine_destroy(c);
	}
	if (added < 0 && added != -ENOSPC)
		return added;
	return added < 0 || v.violated ? 1 : 0;
}

/*
 * In self-checking builds, every transition known without running it
 * (by commutation or by what its action does) is run as well, and must
 * reach the state @dst named, without a violation: the test suite proves
 * each one it meets.
 */
static void commute_verified(struct walker *w, struct frame *f, size_t a,
			     unsigned long dst)
{
	struct search *s = w->s;
	struct machine *c;
	uint64_t hash[2], want[2];
	char why[256];
	bool failed;
	size_t len;

	if (!SELF_CHECKING)
		return;
	c = machine_clone(f->m);
	if (!c || run_line(w->ctx, c, f->acts[a], &failed)) {
		machine_destroy(c);
		return;
	}
	self_check(!step_violates(c, f->acts[a], failed, NULL, why,
				  sizeof(why)));
	self_check(settle(w->ctx, c, NULL) >= 0);
	self_check(!step_violates(c, f->acts[a], false, NULL, why,
				  sizeof(why)));
	machine_log_clear(c);
	if (!state_key(c, hash, &w->text, &w->text_cap, &len)) {
		search_lock(s);
		want[0] = s->store.states[dst].hash[0];
		want[1] = s->store.states[dst].hash[1];
		search_unlock(s);
		self_check(hash[0] == want[0] && hash[1] == want[1]);
	}
	machine_destroy(c);
}

/* Keep @at's claim on @dst's link for walker_links(); -ENOMEM: do it now. */
static int walker_link(struct walker *w, unsigned long dst, struct where at)
{
	if (w->nlinks == w->caplinks) {
		size_t ncap = w->caplinks ? w->caplinks * 2 : 64;
		struct link_claim *nl = realloc(w->links, ncap * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		w->links = nl;
		w->caplinks = ncap;
	}
	w->links[w->nlinks++] = (struct link_claim){ dst, at };
	return 0;
}

/* The state is done: its claims on next-level links, under one lock. */
static void walker_links(struct walker *w)
{
	struct search *s = w->s;

	if (!w->nlinks)
		return;
	search_lock(s);
	for (size_t i = 0; i < w->nlinks; i++)
		link_first(s, w->links[i].dst, w->links[i].at);
	search_unlock(s);
	w->nlinks = 0;
}

/*
 * Action @a of state @idx reaches state @dst, known without running it
 * (and checked so by commute_verified() in self-checking builds): do
 * what expand_one() would. The transition is counted (and
 * in @counter), and the parent link of a state of the next level moves
 * to the first place in level order. Returns 1 to stop as expand_one()
 * does, else 0, with *ret_added and *ret_i as expand_one()'s.
 */
static int transition_known(struct walker *w, unsigned long idx, size_t a,
			    unsigned long dst, unsigned long *counter,
			    int *ret_added, unsigned long *ret_i)
{
	struct search *s = w->s;
	struct where at = { idx, a };

	if (past_violation(s, at))
		return 1;
	/*
	 * A state of this level or before keeps its parent link as it is;
	 * one worker meets the places in order, so only with several can a
	 * place come before a next-level state's link (store_reached()).
	 * Their updates wait for the end of the state: one lock a state
	 * (walker_links()).
	 */
	if (dst >= s->level_end && s->nthreads > 1 &&
	    walker_link(w, dst, at)) {
		search_lock(s);
		link_first(s, dst, at);
		search_unlock(s);
	}
	w->n.transitions++;
	(*counter)++;
	*ret_added = dst == idx ? 2 : dst >= s->level_end ? 3 : 0;
	*ret_i = dst;
	return 0;
}

/*
 * Action @a of state @idx (frame @f, reached from its parent @pf by
 * action @pa), known without running it: its line is also action k of
 * @pf, k and @pa commute there, so @a reaches the state that k then @pa
 * reach from @pf, and the tables say which one that is when both were
 * run. Returns that state, or ULONG_MAX when it is not known.
 */
static unsigned long commute_target(struct walker *w, struct frame *f,
				    size_t a, struct frame *pf, size_t pa)
{
	struct search *s = w->s;
	uint32_t line = f->lid ? f->lid[a] : 0;
	unsigned long mid, dst = ULONG_MAX;
	size_t k;

	if (!line)
		return ULONG_MAX;
	for (k = 0; k < pf->nacts && pf->lid[k] != line; k++)
		;
	if (k == pf->nacts || k == pa || !frame_commute(s, pf, k, pa))
		return ULONG_MAX;
	/*
	 * The earlier levels' tables do not change while this one is expanded
	 * (struct tcache): most lookups that fail take no lock.
	 */
	mid = tc_lookup_prev(&s->tc, pf->idx, line);
	if (mid == ULONG_MAX)
		return ULONG_MAX;
	if (!tc_in(&s->tc.cur, mid))
		return tc_lookup_prev(&s->tc, mid, pf->lid[pa]);
	/* this level's, which other workers add to: under the tables' lock */
	if (s->nthreads > 1)
		pthread_rwlock_rdlock(&s->tc_lock);
	dst = tc_lookup(&s->tc, mid, pf->lid[pa]);
	if (s->nthreads > 1)
		pthread_rwlock_unlock(&s->tc_lock);
	return dst;
}

/*
 * The state action @a of state @idx (frame @f) reaches, when what the
 * action does tells (enum act_kind); ULONG_MAX when it does not. @up is
 * the parent's frame and @pa the action from it into @idx (NULL at
 * boot). Past boot, every state is settled (step()), so running settle()
 * again after an action that changed nothing does nothing. (ACT_PROBE
 * waits for its bind to run: expand().)
 */
static unsigned long action_known(const struct frame *f, size_t a,
				  const struct frame *up, size_t pa,
				  unsigned long idx)
{
	switch (f->kind[a]) {
	case ACT_PROBE_NONE:
		return up ? idx : ULONG_MAX;
	case ACT_OVERRIDE_CLEAR:
		/* the device's names: two machines, two copies */
		return up && up->kind[pa] == ACT_OVERRIDE_SET &&
				       up->own[pa] && f->own[a] &&
				       !strcmp(up->own[pa]->name, f->own[a]->name) ?
			       up->idx :
			       ULONG_MAX;
	default:
		return ULONG_MAX;
	}
}

/* --shard: boot's action @a belongs to another shard's subtree. */
static bool other_shard(const struct search *s, size_t a)
{
	return s->level == 0 && s->o->nshards > 1 &&
	       a % s->o->nshards != s->o->shard;
}

/*
 * For every action of state @idx (frame @f), the state it is known to
 * reach without running, in w->known[] (ULONG_MAX: run it), and the
 * figure that counts it in w->known_by[]. Each is checked by running it
 * in self-checking builds, while the machine is still there.
 */
static int known_targets(struct walker *w, struct frame *f, unsigned long idx,
			 const struct frame *up, struct frame *pf, size_t pa)
{
	struct search *s = w->s;

	if (f->nacts > w->capknown) {
		unsigned long *nk = realloc(w->known, f->nacts * sizeof(*nk));
		unsigned long **nb;

		if (!nk)
			return -ENOMEM;
		w->known = nk;
		nb = realloc(w->known_by, f->nacts * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		w->known_by = nb;
		w->capknown = f->nacts;
	}
	for (size_t a = 0; a < f->nacts; a++) {
		w->known[a] = ULONG_MAX;
		w->known_by[a] = &w->n.equivalent;
		if (other_shard(s, a))
			continue;
		w->known[a] = action_known(f, a, up, pa, idx);
		if (w->known[a] == ULONG_MAX && pf) {
			w->known[a] = commute_target(w, f, a, pf, pa);
			w->known_by[a] = &w->n.commuted;
		}
		if (w->known[a] != ULONG_MAX)
			commute_verified(w, f, a, w->known[a]);
	}
	return 0;
}

/* The id of the group the action into state @idx worked on; -1: none. */
static int por_last_group(struct walker *w, unsigned long idx)
{
	struct search *s = w->s;
	struct frame *parent;
	struct device *dev;
	unsigned long a;

	if (!s->level)
		return -1;
	parent = &w->path[s->level - 1];
	a = s->store.states[idx].action;
	if (!parent->own || a >= parent->nacts)
		return -1;
	dev = parent->own[a];
	return dev && dev->iommu_group ? dev->iommu_group->id : -1;
}

/*
 * Expand state @idx of the current level: every action from it, each
 * checked, each new state stored and its I6 checked. Stops at a limit or
 * past the first violation known; returns 0 or an error.
 *
 * With --por, the actions of one isolated group (por_ample()) run first,
 * and the others only when one of those led to a state seen before other
 * than this one, or none led anywhere new: the cycle proviso, so that no
 * action is put off around a cycle for ever (docs/check.md).
 */
static int expand(struct walker *w, unsigned long idx)
{
	struct search *s = w->s;
	const struct check_opts *o = s->o;
	struct frame *f, *pf = NULL, *up = NULL;
	char *before;
	bool *ample = NULL, keep = false;
	size_t nample, last = SIZE_MAX, pa = 0;
	int ret = state_machine(w, idx, s->level, &f);

	if (!ret)
		ret = frame_actions(w, f);
	if (ret)
		return ret;
	if (s->commute) {
		/* asked now: the last action may take the machine */
		keep = frame_may_commute(s, f);
		w->npend = 0;
		if (s->level > 0) {
			pf = up = &w->path[s->level - 1];
			search_lock(s);
			pa = s->store.states[idx].action;
			search_unlock(s);
			if (pa >= up->nacts)
				pf = up = NULL;
			/* its transitions were kept only if so */
			if (pf && (!frame_may_commute(s, pf) ||
				   !frame_lids(w, pf)))
				pf = NULL;
		}
		if ((keep || pf) && !frame_lids(w, f)) {
			keep = false;
			pf = NULL;
		}
	}
	nample = f->nacts;
	if (o->por && f->nacts) {
		ample = calloc(f->nacts, sizeof(*ample));
		if (!ample)
			return -ENOMEM;
		nample = por_ample(f->m, o, f->own, f->nacts,
				   por_last_group(w, idx), ample);
	}
	/*
	 * The transitions known without running them, asked before any runs
	 * (the last one run takes the machine): by commutation, or by what
	 * the action does, but for a drivers_probe after its bind, which is
	 * known only once the bind has run.
	 */
	if (s->commute && f->nacts && known_targets(w, f, idx, up, pf, pa))
		return -ENOMEM;
	/*
	 * The state's machine is needed by no state after it (the next one
	 * is rebuilt from its own parent, at worst the same one), so the
	 * last action that runs runs on it instead of on a copy: one clone
	 * less per state. Not with --por, whose second pass is decided by
	 * the first.
	 */
	for (size_t a = 0; nample == f->nacts && a < f->nacts; a++)
		if (!other_shard(s, a) &&
		    (!s->commute || w->known[a] == ULONG_MAX))
			last = a;
	before = check_ownership_snapshot(f->m);
	for (int pass = 0; pass < 2 && !ret; pass++) {
		bool progress = false, proviso = false;
		int stop = 0;

		/* the last ACT_BIND_FIRST that ran and bound, and where to */
		const struct device *bound = NULL;
		unsigned long bound_to = 0;

		for (size_t a = 0; a < f->nacts && !stop; a++) {
			unsigned long i = ULONG_MAX;
			int added = -1;
			bool failed = true, ran = false;

			if (other_shard(s, a))
				continue;
			/* pass 0: the ample set (all without one); 1: the rest */
			if (nample < f->nacts && ample[a] == (pass == 1))
				continue;
			if (nample == f->nacts && pass == 1)
				break;
			stop = -1;
			if (s->commute && w->known[a] != ULONG_MAX) {
				stop = transition_known(w, idx, a, w->known[a],
							w->known_by[a], &added,
							&i);
			} else if (s->commute && f->kind[a] == ACT_PROBE &&
				   bound && bound == f->own[a]) {
				/* the machine is there: @a is not past last */
				commute_verified(w, f, a, bound_to);
				stop = transition_known(w, idx, a, bound_to,
							&w->n.equivalent, &added,
							&i);
			}
			if (stop < 0) {
				stop = expand_one(w, f, idx, a, before,
						  a == last, &added, &i,
						  &failed);
				ran = true;
			}
			if (s->commute && f->kind[a] == ACT_BIND_FIRST) {
				bound = ran && !stop && added >= 0 && !failed ?
						f->own[a] :
						NULL;
				bound_to = i;
			}
			if (stop < 0)
				ret = stop;
			if (keep && added >= 0 && f->lid[a])
				keep = !walker_pend(w, f->lid[a], i);
			progress |= added == 1 || added == 3;
			proviso |= added == 0;
		}
		if (keep && !stop)
			tc_publish(w, idx, w->pend, w->npend);
		if (stop || nample == f->nacts)
			break;
		if (pass == 0 && progress && !proviso) {
			/* reduced: the other actions are not run from here */
			atomic_fetch_add(&s->por_reduced, 1);
			atomic_fetch_add(&s->por_skipped, f->nacts - nample);
			break;
		}
	}
	walker_links(w);
	free(ample);
	free(before);
	if (!f->m) {
		/* given to its last action: rebuilt if it is wanted again */
		frame_clear(f);
		w->npath = s->level;
	}
	return ret;
}

/* Chunks of a level small enough to share it, large enough to keep a path. */
#define CHUNK 8

/* The walker's figures into the search's. */
static void walker_fold(struct walker *w)
{
	struct search *s = w->s;

	atomic_fetch_add(&s->transitions, w->n.transitions);
	atomic_fetch_add(&s->commuted, w->n.commuted);
	atomic_fetch_add(&s->equivalent, w->n.equivalent);
	atomic_fetch_add(&s->i6_known, w->n.i6_known);
	memset(&w->n, 0, sizeof(w->n));
}

static void *walk_level(void *arg)
{
	struct walker *w = arg;
	struct search *s = w->s;

	for (;;) {
		unsigned long k, end;

		if (s->groups) {
			unsigned long g = atomic_fetch_add(&s->next, 1);

			if (g >= s->ngroups)
				break;
			k = s->groups[g];
			end = s->groups[g + 1];
		} else {
			k = atomic_fetch_add(&s->next, CHUNK);
			end = k + CHUNK < s->level_end ? k + CHUNK :
							 s->level_end;
			if (k >= s->level_end)
				break;
		}
		for (; k < end; k++) {
			int ret;

			if (past_violation(s, (struct where){ k, 0 }))
				goto out;
			ret = expand(w, k);
			if (ret) {
				search_lock(s);
				if (!s->ret)
					s->ret = ret;
				atomic_store(&s->stopping, true);
				search_unlock(s);
				goto out;
			}
			report_progress(w, k);
		}
		walker_fold(w);
	}
out:
	walker_fold(w);
	return NULL;
}

/* A state of the level being settled, with where the workers put it. */
struct placed {
	struct state st;
	uint32_t was;
};

static int cmp_state_place(const void *a, const void *b)
{
	const struct state *x = &((const struct placed *)a)->st;
	const struct state *y = &((const struct placed *)b)->st;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return x->action < y->action ? -1 : x->action > y->action;
}

/*
 * The tables' pairs name states of the next level by where the workers
 * put them: renumbered as settle_level() moved them (@now[i - from]),
 * and dropped when past the states kept.
 */
static void tc_remap(struct tc_level *lv, unsigned long from,
		     const uint32_t *now, unsigned long kept,
		     unsigned int width)
{
	for (unsigned long i = lv->start; lv->off && i < lv->end; i++) {
		uint8_t *p;
		uint32_t n, l, z;

		if (!lv->off[i - lv->start])
			continue;
		p = (uint8_t *)tc_get(lv->b + lv->off[i - lv->start] - 1, &n);
		while (n--) {
			uint8_t *lp = p, *zp;
			unsigned long dst;

			zp = (uint8_t *)tc_get(lp, &l);
			p = (uint8_t *)tc_get(zp, &z);
			dst = tc_unzig(i, z);
			if (dst < from)
				continue;
			/* @width bytes (tc_encode()); past the states kept: dropped */
			dst = p - zp == width ? now[dst - from] : ULONG_MAX;
			if (dst < kept && tc_zig(i, dst, &z) &&
			    z < 1U << (7 * width)) {
				tc_putw(zp, z, width);
			} else {
				while (lp + 1 < zp)
					*lp++ = 0x80;
				*lp = 0;
			}
		}
	}
}

/*
 * After a level expanded by several workers: its new states in the order
 * one worker finds them (by parent, then action), and none past the first
 * violation, which one worker would not have reached. The index is built
 * again to match, and the tables renumbered.
 */
static int settle_level(struct search *s, unsigned long from)
{
	struct store *st = &s->store;
	unsigned long n = st->n;
	struct placed *v = malloc((n - from + 1) * sizeof(*v));
	uint32_t *now = malloc((n - from + 1) * sizeof(*now));

	if (!v || !now) {
		free(v);
		free(now);
		return -ENOMEM;
	}
	for (unsigned long i = from; i < n; i++)
		v[i - from] = (struct placed){ st->states[i], (uint32_t)i };
	qsort(v, n - from, sizeof(*v), cmp_state_place);
	for (unsigned long i = from; i < n; i++) {
		st->states[i] = v[i - from].st;
		now[v[i - from].was - from] = (uint32_t)i;
	}
	free(v);
	while (n > from && s->best.at.idx != ULONG_MAX &&
	       where_before(s->best.at,
			    (struct where){ st->states[n - 1].parent,
					    st->states[n - 1].action }))
		n--;
	st->n = n;
	memset(st->slots, 0, st->nslots * sizeof(*st->slots));
	for (unsigned long i = 0; i < n; i++) {
		unsigned long j = st->states[i].hash[0] & (st->nslots - 1);

		while (st->slots[j])
			j = (j + 1) & (st->nslots - 1);
		st->slots[j] = (uint32_t)(i + 1);
	}
	tc_remap(&s->tc.cur, from, now, n, s->tc_width);
	free(now);
	return 0;
}

/* The first violation found: its trace from the store, its figures. */
static int report_violation(struct search *s, struct walker *w)
{
	struct check_stats *st = s->st;
	const struct found *v = &s->best;
	struct frame *f;
	int ret;

	st->violated = v->violated;
	snprintf(st->why, sizeof(st->why), "%s", v->why);
	ret = state_machine(w, v->at.idx, s->level, &f);
	if (!ret)
		ret = frame_actions(w, f);
	if (ret)
		return ret;
	if (v->at.action >= f->nacts)
		return -EINVAL;
	ret = build_trace(w, v->at.idx, s->level, f->acts[v->at.action],
			  v->whole);
	if (!ret && v->teardown) {
		struct machine *c = machine_clone(f->m);
		bool failed;

		if (c && !step(w->ctx, c, f->acts[v->at.action], &failed, NULL))
			append_teardown(c, st);
		machine_destroy(c);
	}
	return ret;
}

/*
 * After a level: an I6 violation belongs to the first place its state has
 * in level order (its parent link by then), which is where one worker
 * would have checked it. The first violation is then the first of those
 * and of the steps that broke an invariant themselves.
 */
static void resolve_teardowns(struct search *s)
{
	struct found first = s->best_step;

	for (size_t i = 0; i < s->ni6; i++) {
		struct found *f = &s->i6[i];

		for (unsigned long k = s->level_end; k < s->store.n; k++) {
			const struct state *st = &s->store.states[k];

			if (st->hash[0] == f->hash[0] && st->hash[1] == f->hash[1]) {
				f->at = (struct where){ st->parent, st->action };
				break;
			}
		}
		if (where_before(f->at, first.at))
			first = *f;
	}
	s->best = first;
}

/*
 * The search's lock is held for a few hundred instructions at a time,
 * and a state takes about ten of them: a waiter spins a little before it
 * sleeps (glibc's adaptive mutex), or two workers spend their time in
 * futex calls.
 */
static void search_lock_init(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

/*
 * s->groups for the level about to be expanded; -ENOMEM leaves it NULL,
 * and the workers take fixed chunks instead (the same search).
 */
static int level_groups(struct search *s)
{
	unsigned long n = s->level_end - s->level_start;

	if (n + 1 > s->capgroups) {
		unsigned long *ng = realloc(s->groups, (n + 1) * sizeof(*ng));

		if (!ng) {
			free(s->groups);
			s->groups = NULL;
			s->capgroups = 0;
			return -ENOMEM;
		}
		s->groups = ng;
		s->capgroups = n + 1;
	}
	s->ngroups = 0;
	for (unsigned long i = s->level_start; i < s->level_end; i++)
		if (i == s->level_start ||
		    s->store.states[i].parent != s->store.states[i - 1].parent)
			s->groups[s->ngroups++] = i;
	s->groups[s->ngroups] = s->level_end;
	return 0;
}

/* Expand one level with @nthreads workers; @w has one walker each. */
static int run_level(struct search *s, struct walker *w, int nthreads)
{
	pthread_t tid[CHECK_THREADS_MAX];
	int started = 0;

	atomic_store(&s->next, s->level_start);
	if (nthreads > 1 && level_groups(s) == 0)
		atomic_store(&s->next, 0);
	if (s->commute)
		tc_next_level(s);
	for (int t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[t], NULL, walk_level, &w[t]))
			break;
		started = t;
	}
	walk_level(&w[0]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	if (nthreads > 1 && !s->ret) {
		resolve_teardowns(s);
		s->ret = settle_level(s, s->level_end);
	}
	free(s->i6);
	s->i6 = NULL;
	s->ni6 = 0;
	return s->ret;
}

/* The states new at the next depth, for 'check --json' (level_states). */
static void level_record(struct check_stats *st, unsigned long n)
{
	unsigned long *v = realloc(st->level_states,
				   (size_t)(st->nlevels + 1) * sizeof(*v));

	if (!v)
		return; /* a figure for people; the search goes on */
	v[st->nlevels++] = n;
	st->level_states = v;
}

int check_machine(const char *machine_spec, struct machine *boot,
		  const struct check_opts *o, struct check_stats *st)
{
	struct search s = { .o = o, .st = st, .best = { .at = WHERE_NONE },
			    .best_step = { .at = WHERE_NONE } };
	struct walker w[CHECK_THREADS_MAX];
	int nthreads = o->threads > 1 ? o->threads : 1;
	uint64_t hash[2];
	size_t len;
	bool is_new;
	int ret = 0;

	(void)machine_spec;
	if (o->interleave)
		return check_interleaved(boot, o, st);
	memset(st, 0, sizeof(*st));
	if (nthreads > CHECK_THREADS_MAX ||
	    (nthreads > 1 && (o->exact || o->por)) ||
	    (o->por && o->nshards > 1))
		return -EINVAL;
	memset(w, 0, sizeof(w));
	s.t0 = s.last_report = now_seconds();
	s.store.exact = o->exact;
	/* --por and --exact run every transition they count */
	s.commute = !o->por && !o->exact && !o->no_commute;
	s.states_cap = o->max_states ? o->max_states : STORE_MAX_STATES;
	s.tc_width = s.states_cap <= 1UL << 20 ? 3 : 4;
	search_lock_init(&s.lock);
	pthread_rwlock_init(&s.tc_lock, NULL);
	s.nthreads = nthreads;
	for (int t = 0; t < nthreads; t++) {
		w[t] = (struct walker){ .s = &s, .reports = t == 0,
					.ctx = script_ctx_new(NULL, "check") };
		if (!w[t].ctx)
			ret = -ENOMEM;
		else /* the same lines run on every state */
			script_ctx_keep_parsed(w[t].ctx);
	}
	if (ret)
		goto out;
	s.boot = machine_clone(boot);
	if (!s.boot || check_prepare(s.boot)) {
		ret = -ENOMEM;
		goto out;
	}
	machine_log_clear(s.boot);
	if (state_key(s.boot, hash, &w[0].text, &w[0].text_cap, &len) ||
	    store_lookup_or_insert(&s.store, hash, w[0].text, len, 0, 0,
				   &is_new) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	st->states = 1;
	st->violated = machine_check_invariants(s.boot,
						INV_ALL & ~INV_FAILED_NOOP,
						st->why, sizeof(st->why));
	if (st->violated) {
		ret = build_trace(&w[0], 0, 0, NULL, false);
		if (!ret && (st->violated & INV_TEARDOWN))
			append_teardown(s.boot, st);
		goto out;
	}
	if (s.store.n >= s.states_cap && o->depth != 0)
		st->truncated = true;

	level_record(st, 1); /* boot */
	/* level by level: the states of a level are one range of the store */
	s.level_end = 1;
	for (s.level = 0; !st->truncated; s.level++) {
		unsigned long before;

		if (s.level_start == s.level_end) {
			st->complete = o->nshards <= 1;
			break;
		}
		if (o->depth >= 0 && s.level >= o->depth)
			break;
		before = s.store.n;
		ret = run_level(&s, w, nthreads);
		if (ret)
			goto out;
		if (s.best.violated) {
			ret = report_violation(&s, &w[0]);
			break;
		}
		if (s.full)
			st->truncated = true;
		else
			st->depth = s.level + 1;
		if (s.store.n > before)
			st->diameter = s.level + 1;
		level_record(st, s.store.n - before);
		s.level_start = s.level_end;
		s.level_end = s.store.n;
	}
out:
	st->states = s.store.n;
	st->transitions = atomic_load(&s.transitions);
	st->por_reduced = atomic_load(&s.por_reduced);
	st->por_skipped = atomic_load(&s.por_skipped);
	st->commuted = atomic_load(&s.commuted);
	st->equivalent = atomic_load(&s.equivalent);
	st->i6_known = atomic_load(&s.i6_known);
	for (int t = 0; t < nthreads; t++)
		walker_free(&w[t]);
	machine_destroy(s.boot);
	pthread_mutex_destroy(&s.lock);
	pthread_rwlock_destroy(&s.tc_lock);
	search_bytes_note(&s);
	st->bytes = s.peak_bytes;
	tc_free(&s.tc);
	line_ix_free(&s.lines);
	if (!ret)
		ret = store_foreach_visited(&s.store, o);
	store_free(&s.store);
	free(s.groups);
	st->queue = 0;
	st->seconds = now_seconds() - s.t0;
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
				struct strlist lines = { 0 };
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
				if (!c || step(NULL, c, acts[a], &failed, &lines) ||
				    lines.oom) {
					machine_destroy(c);
					strlist_free(&lines);
					ret = -ENOMEM;
					break;
				}
				nn = realloc(next, (nnext + 1) * sizeof(*nn));
				if (!nn) {
					machine_destroy(c);
					strlist_free(&lines);
					ret = -ENOMEM;
					break;
				}
				next = nn;
				next[nnext].m = c;
				/* the path so far, then this step's lines */
				next[nnext].npath = level[k].npath + (int)lines.n;
				next[nnext].path = calloc((size_t)next[nnext].npath,
							  sizeof(char *));
				for (int i = 0; next[nnext].path && i < level[k].npath; i++)
					next[nnext].path[i] = strdup(level[k].path[i]);
				for (size_t i = 0; next[nnext].path && i < lines.n; i++) {
					next[nnext].path[level[k].npath + (int)i] = lines.v[i];
					lines.v[i] = NULL;
				}
				strlist_free(&lines);
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
	free(st->level_states);
	st->level_states = NULL;
	st->nlevels = 0;
}
