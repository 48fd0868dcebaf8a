// SPDX-License-Identifier: MIT
/*
 * The machine object: creation, destruction, deep clone, canonical
 * serialization, and the log/WARN/fault accessors.
 */
#include <stdio.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "machine/machine-priv.h"
#include "userspace/modprobe.h"

/* Order matters: clone/serialize run top-down, destroy bottom-up. */
static const struct machine_subsys *const subsystems[] = {
	&iommu_subsys,
	&device_subsys,
	&driver_subsys,
	&vfio_subsys,
	&files_subsys, /* after the objects its descriptors point at */
	&iommu_domains_subsys, /* last: lists domains nothing named */
};

#define NR_SUBSYS (sizeof(subsystems) / sizeof(subsystems[0]))

const char *dmaown_version(void)
{
	return DMAOWN_VERSION;
}

static struct machine *machine_alloc(const char *name,
				     const struct machine_config *cfg)
{
	struct machine *m = zalloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->name = strndup(name ? name : "", MACHINE_NAME_MAX - 1);
	if (!m->name) {
		free(m);
		return NULL;
	}
	if (cfg) {
		m->cfg = *cfg;
	} else {
		m->cfg.iommu_api = true;
	}
	if (!m->cfg.def_domain_type)
		m->cfg.def_domain_type = IOMMU_DOMAIN_DMA_FQ;
	mutex_init(&m->obj_lock, &m->locks, "machine.obj_lock");
	mutex_init(&m->iommu_probe_device_lock, &m->locks,
		   "iommu_probe_device_lock");
	mutex_init(&m->rescan_remove_lock, &m->locks, "rescan_remove_lock");
	pthread_mutex_init(&m->log_lock, NULL);
	INIT_LIST_HEAD(&m->iommus);
	INIT_LIST_HEAD(&m->domains);
	INIT_LIST_HEAD(&m->groups);
	INIT_LIST_HEAD(&m->devices);
	INIT_LIST_HEAD(&m->dev_roots);
	INIT_LIST_HEAD(&m->buses);
	INIT_LIST_HEAD(&m->deferred_probe);
	mutex_init(&m->vfio_lock, &m->locks, "vfio_lock");
	INIT_LIST_HEAD(&m->vfio_groups);
	INIT_LIST_HEAD(&m->vfio_containers);
	INIT_LIST_HEAD(&m->vfio_devices);
	INIT_LIST_HEAD(&m->iommufds);
	INIT_LIST_HEAD(&m->processes);
	pthread_mutex_init(&m->processes_lock, NULL);
	return m;
}

const char *machine_kernel_release(const struct machine *m,
				   unsigned int *ret_major,
				   unsigned int *ret_minor)
{
	if (ret_major)
		*ret_major = m->cfg.kernel_major;
	if (ret_minor)
		*ret_minor = m->cfg.kernel_minor;
	return m->cfg.kernel_release[0] ? m->cfg.kernel_release : NULL;
}

static const char *const kernel_names[] = {
	[MACHINE_KERNEL_6_6] = "6.6",
	[MACHINE_KERNEL_6_1] = "6.1",
	[MACHINE_KERNEL_6_12] = "6.12",
};

int machine_kernel_parse(const char *text)
{
	for (size_t i = 0; i < sizeof(kernel_names) / sizeof(kernel_names[0]);
	     i++)
		if (!strcmp(text, kernel_names[i]))
			return (int)i;
	return -1;
}

const char *machine_kernel_name(enum machine_kernel k)
{
	return (size_t)k < sizeof(kernel_names) / sizeof(kernel_names[0]) ?
		       kernel_names[k] : "?";
}

void machine_set_kernel(struct machine *m, enum machine_kernel k)
{
	m->cfg.kernel = k;
}

enum machine_kernel machine_kernel(const struct machine *m)
{
	return m->cfg.kernel;
}

struct machine *machine_create(const char *name,
			       const struct machine_config *cfg)
{
	struct machine *m = machine_alloc(name, cfg);

	if (!m)
		return NULL;
	for (size_t i = 0; i < NR_SUBSYS; i++) {
		if (subsystems[i]->init && subsystems[i]->init(m)) {
			machine_destroy(m);
			return NULL;
		}
	}
	return m;
}

static void log_free(struct machine *m)
{
	for (size_t i = 0; i < m->log_count; i++)
		free(m->log[(m->log_head + i) % m->log_cap].text);
	free(m->log);
	m->log = NULL;
	m->log_head = m->log_count = m->log_cap = 0;
	for (size_t i = 0; i < m->nwarns; i++) {
		free(m->warns[i].cond);
		free(m->warns[i].comm);
		free(m->warns[i].trace);
		free(m->warns[i].modules);
		free(m->warns[i].tainted);
	}
	free(m->warns);
	m->warns = NULL;
	m->nwarns = m->warns_cap = m->warns_dropped = 0;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	for (size_t i = NR_SUBSYS; i-- > 0;)
		subsystems[i]->destroy(m);
	log_free(m);
	modprobe_conf_put(m->modprobe);
	free(m->modules);
	mutex_destroy(&m->obj_lock);
	mutex_destroy(&m->iommu_probe_device_lock);
	mutex_destroy(&m->rescan_remove_lock);
	mutex_destroy(&m->vfio_lock);
	pthread_mutex_destroy(&m->log_lock);
	pthread_mutex_destroy(&m->processes_lock);
	if (m->arena)
		ASAN_UNPOISON_MEMORY_REGION(m->arena->data, m->arena->size);
	free(m->arena);
	free(m->name);
	free(m);
}

/* @size bytes after what the block holds, or NULL when it is short */
static void *arena_append(struct machine_arena *a, size_t size)
{
	void *p;

	a->want += size; /* the next block has room for it */
	if (a->size - a->used < size)
		return NULL;
	p = a->data + a->used;
	a->used += size;
	a->live += size;
	ASAN_UNPOISON_MEMORY_REGION(p, size);
	return p;
}

/*
 * machine_clone_alloc_at() out of line, for a copy that is not mirrored
 * (@size rounded): appended while the block lasts, else from malloc()
 */
void *machine_clone_alloc_slow(struct machine *new, size_t size)
{
	void *p = new->arena ? arena_append(new->arena, size) : NULL;

	return p ? p : malloc(size);
}

/*
 * @size bytes in @new's block for the copy of @old's table @obj
 * (mirrored when @obj is in @old's block), or NULL when the block is
 * short (never malloc()): strmap_clone()'s @room, which the map does not
 * free.
 */
static void *machine_clone_room_at(struct machine *new,
				   const struct machine *old, const void *obj,
				   size_t size)
{
	void *p;

	size = machine_arena_round(size);
	p = machine_arena_mirror(new, old, obj, size);
	if (!p && new->arena)
		p = arena_append(new->arena, size);
	return p;
}

int machine_clone_strmap(struct machine *new, const struct machine *old,
			 struct strmap *dst, const struct strmap *src,
			 const struct ptrmap *map,
			 const char *(*key_of)(const void *))
{
	strmap_free(dst);
	return strmap_clone(dst, src, map, key_of,
			    machine_clone_room_at(new, old, src->keys,
						  strmap_room(src))) ?
		       -ENOMEM :
		       0;
}

void machine_free(struct machine *m, const void *p, size_t size)
{
	const struct machine_arena *a = m->arena;
	const char *c = p;

	if (a && c >= a->data && c < a->data + a->used) {
		ASAN_POISON_MEMORY_REGION(p, size);
		return;
	}
	(void)size;
	free((void *)p);
}

static int log_clone(const struct machine *old, struct machine *new)
{
	if (old->log_count) {
		new->log = zalloc(old->log_count, sizeof(*new->log));
		if (!new->log)
			return -ENOMEM;
		new->log_cap = old->log_count;
	}
	if (old->nwarns) {
		new->warns = zalloc(old->nwarns, sizeof(*new->warns));
		if (!new->warns)
			return -ENOMEM;
		new->warns_cap = old->nwarns;
	}
	for (size_t i = 0; i < old->log_count; i++) {
		const struct klog_entry *e =
			&old->log[(old->log_head + i) % old->log_cap];
		new->log[i] = *e;
		new->log[i].text = strdup(e->text);
		if (!new->log[i].text)
			return -ENOMEM;
		new->log_count = i + 1;
	}
	for (size_t i = 0; i < old->nwarns; i++) {
		const struct warn_report *w = &old->warns[i];
		struct warn_report *n = &new->warns[i];

		*n = *w;
		n->cond = w->cond ? strdup(w->cond) : NULL;
		n->comm = strdup(w->comm);
		n->trace = zalloc(w->ntrace ? w->ntrace : 1, sizeof(*n->trace));
		n->modules = strdup(w->modules);
		n->tainted = strdup(w->tainted);
		new->nwarns = i + 1;
		if ((w->cond && !n->cond) || !n->comm || !n->trace ||
		    !n->modules || !n->tainted)
			return -ENOMEM;
		memcpy(n->trace, w->trace, w->ntrace * sizeof(*n->trace));
	}
	new->warns_dropped = old->warns_dropped;
	if (old->nmodules) {
		new->modules = malloc(old->nmodules * sizeof(*new->modules));
		if (!new->modules)
			return -ENOMEM;
		memcpy(new->modules, old->modules,
		       old->nmodules * sizeof(*new->modules));
		new->modules_cap = new->nmodules = old->nmodules;
	}
	memcpy(new->last_unloaded, old->last_unloaded,
	       sizeof(new->last_unloaded));
	new->tainted = old->tainted;
	/* a copy of a full ring grows again from its count */
	new->clock_ns = old->clock_ns;
	return 0;
}

/*
 * Whether a clone of @m mirrors its block: not when it has none, nor
 * when a quarter of it is holes (objects freed since they were copied,
 * or left behind by earlier mirrored clones): that clone packs its
 * copies again, with a lookup each, so a chain of clones does not grow.
 */
static bool clone_mirrors(const struct machine *m)
{
	const struct machine_arena *a = m->arena;

	return a && a->used && (a->used - a->live) * 4 <= a->used;
}

struct machine *machine_clone(const struct machine *m)
{
	/* as many objects as the last clone on this thread, about */
	static _Thread_local size_t last_count, last_arena;
	struct machine *n = machine_alloc(m->name, &m->cfg);
	bool mirror = clone_mirrors(m);
	size_t size = last_arena;
	struct ptrmap map;
	int ret = 0;

	if (!n)
		return NULL;
	/* mirrored: the source's range, and room to append as many again/8 */
	if (mirror && size < m->arena->used + m->arena->used / 8)
		size = m->arena->used + m->arena->used / 8;
	/* without a block, the copies come from malloc() one by one */
	n->arena = malloc(sizeof(*n->arena) + size);
	if (n->arena) {
		*n->arena = (struct machine_arena){ .size = size };
		/* the holes stay poisoned: only what is copied is unpoisoned */
		ASAN_POISON_MEMORY_REGION(n->arena->data, size);
	}
	ptrmap_init_size(&map, last_count);
	if (n->arena && mirror) {
		/* the source's used range, its holes included, then appends */
		n->arena->mirrored = true;
		n->arena->used = m->arena->used;
		n->arena->want = m->arena->used;
		map.lo = (uintptr_t)m->arena->data;
		map.hi = map.lo + m->arena->used;
		map.delta = (uintptr_t)n->arena->data - map.lo;
	}
	atomic_store(&n->fail_nth, atomic_load(&m->fail_nth));
	atomic_store(&n->fault_sites, atomic_load(&m->fault_sites));
	atomic_store(&n->fault_fired, atomic_load(&m->fault_fired));
	n->next_obj_serial = m->next_obj_serial;
	n->faults = m->faults;
	n->modprobe = modprobe_conf_get(m->modprobe);
	n->vfio_noiommu = m->vfio_noiommu;
	n->iommufd_unsafe_irqs = m->iommufd_unsafe_irqs;
	ptrmap_put(&map, m, n);
	for (size_t i = 0; i < NR_SUBSYS && !ret; i++)
		ret = subsystems[i]->clone(m, n, &map);
	if (!ret && map.oom)
		ret = -ENOMEM;
	if (!ret) {
		for (size_t i = 0; i < NR_SUBSYS; i++)
			subsystems[i]->fixup(n, &map);
		ret = log_clone(m, n);
	}
	last_count = map.count;
	/* a little more than this one took: a machine grows by few objects */
	if (n->arena)
		last_arena = n->arena->want + n->arena->want / 8;
	ptrmap_free(&map);
	if (ret) {
		machine_destroy(n);
		return NULL;
	}
	return n;
}

/*
 * The text into @sb (its buffer kept and grown; its length reset).
 * Return: 0, or -ENOMEM with the buffer still the caller's.
 */
static int serialize_into(const struct machine *m, struct sbuf *sb)
{
	/* as many numbered pointers as this thread's last text: no growing */
	static _Thread_local size_t last_ids;
	struct ptrmap ids;
	bool oom;

	sb->len = 0;
	sb->oom = false;
	if (sb->buf)
		sb->buf[0] = '\0';
	ptrmap_init_size(&ids, last_ids);
	/* "machine iommu_api=%d def=%s fw=%d faults=%#x warns=%zu\n" */
	sbuf_puts(sb, "machine iommu_api=");
	sbuf_putd(sb, m->cfg.iommu_api);
	sbuf_puts(sb, " def=");
	sbuf_puts(sb, iommu_domain_type_str(m->cfg.def_domain_type));
	sbuf_puts(sb, " fw=");
	sbuf_putd(sb, (int)m->cfg.firmware);
	sbuf_puts(sb, " faults=");
	sbuf_putx_alt(sb, m->faults);
	sbuf_puts(sb, " warns=");
	sbuf_putu(sb, m->nwarns + m->warns_dropped);
	sbuf_putc(sb, '\n');
	for (size_t i = 0; i < NR_SUBSYS; i++)
		subsystems[i]->serialize(m, sb, &ids);
	oom = sb->oom || ids.oom;
	last_ids = ids.count;
	ptrmap_free(&ids);
	return oom ? -ENOMEM : 0;
}

static char *serialize(const struct machine *m, size_t *ret_len,
		       bool dynamic_only)
{
	/*
	 * Start at the size this thread's last text needed: a state's text
	 * is about as long as the one before, and growing it from 1 KiB took
	 * a few reallocations each time.
	 */
	static _Thread_local size_t last_len;
	struct sbuf sb = { .dynamic_only = dynamic_only };

	if (last_len) {
		sb.cap = last_len + last_len / 8 + 64;
		sb.buf = malloc(sb.cap);
		if (!sb.buf)
			sb.cap = 0;
	}
	if (serialize_into(m, &sb)) {
		free(sb.buf);
		return NULL;
	}
	last_len = sb.len;
	if (ret_len)
		*ret_len = sb.len;
	return sb.buf;
}

char *machine_serialize(const struct machine *m, size_t *ret_len)
{
	return serialize(m, ret_len, false);
}

/* 64-bit multiply-xorshift over 8-byte words; the tail byte by byte. */
static uint64_t hash_bytes(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h ? h : 1;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/*
 * MurmurHash3 x64 128 (Austin Appleby, public domain): two 64-bit lanes
 * mixed into each other every 16 bytes, so the 128 bits behave as one
 * hash and the checker may treat them as uniform when it states the
 * chance of a collision (docs/check.md).
 */
static void hash128_bytes(const char *p, size_t len, uint64_t out[2])
{
	const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
	uint64_t h1 = 0x9368e53c2f6af274ULL, h2 = 0x586dcd208f7cd3fdULL;
	size_t i = 0;
	uint64_t k1, k2;

	for (; i + 16 <= len; i += 16) {
		memcpy(&k1, p + i, 8);
		memcpy(&k2, p + i + 8, 8);
		k1 *= c1;
		k1 = rotl64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		h1 = rotl64(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;
		k2 *= c2;
		k2 = rotl64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		h2 = rotl64(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}
	k1 = k2 = 0;
	for (size_t j = len - i; j-- > 0;) {
		if (j >= 8)
			k2 = (k2 << 8) | (unsigned char)p[i + j];
		else
			k1 = (k1 << 8) | (unsigned char)p[i + j];
	}
	if (len - i > 8) {
		k2 *= c2;
		k2 = rotl64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
	}
	if (len > i) {
		k1 *= c1;
		k1 = rotl64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
	}
	h1 ^= len;
	h2 ^= len;
	h1 += h2;
	h2 += h1;
	h1 = fmix64(h1);
	h2 = fmix64(h2);
	h1 += h2;
	h2 += h1;
	out[0] = h1;
	out[1] = h2;
}

char *machine_state_serialize(const struct machine *m, size_t *ret_len)
{
	return serialize(m, ret_len, true);
}

int machine_state_serialize_to(const struct machine *m, char **buf,
			       size_t *cap, size_t *ret_len)
{
	struct sbuf sb = { .buf = *buf, .cap = *buf ? *cap : 0,
			   .dynamic_only = true };
	int ret = serialize_into(m, &sb);

	if (!ret && !sb.buf)
		sbuf_putn(&sb, "", 0); /* an empty text still has a buffer */
	*buf = sb.buf;
	*cap = sb.cap;
	if (!ret && sb.oom)
		ret = -ENOMEM;
	if (!ret)
		*ret_len = sb.len;
	return ret;
}

void machine_state_hash128(const char *text, size_t len, uint64_t out[2])
{
	hash128_bytes(text, len, out);
}

static uint64_t hash_of(const struct machine *m, bool dynamic_only)
{
	size_t len;
	char *s = serialize(m, &len, dynamic_only);
	uint64_t h;

	if (!s)
		return 0;
	h = hash_bytes(s, len);
	free(s);
	return h;
}

uint64_t machine_hash(const struct machine *m)
{
	return hash_of(m, false);
}

uint64_t machine_state_hash(const struct machine *m)
{
	return hash_of(m, true);
}

bool machine_equal(const struct machine *a, const struct machine *b)
{
	size_t la, lb;
	char *sa = machine_serialize(a, &la);
	char *sb = machine_serialize(b, &lb);
	bool eq = sa && sb && la == lb && !memcmp(sa, sb, la);

	free(sa);
	free(sb);
	return eq;
}

const char *machine_name(const struct machine *m)
{
	return m->name;
}

const struct machine_config *machine_get_config(const struct machine *m)
{
	return &m->cfg;
}

void machine_set_lock_ops(struct machine *m,
			  const struct machine_lock_ops *ops, void *ctx)
{
	m->locks.ops = ops;
	m->locks.ctx = ctx;
}

/* The log and WARN lock, for the readers that take a const machine. */
static pthread_mutex_t *log_lock_of(const struct machine *m)
{
	return (pthread_mutex_t *)&m->log_lock;
}

size_t machine_log_count(const struct machine *m)
{
	size_t n;

	pthread_mutex_lock(log_lock_of(m));
	n = m->log_count;
	pthread_mutex_unlock(log_lock_of(m));
	return n;
}

const struct klog_entry *machine_log_entry(const struct machine *m, size_t i)
{
	if (i >= m->log_count)
		return NULL;
	return &m->log[(m->log_head + i) % m->log_cap];
}

void machine_log_clear(struct machine *m)
{
	pthread_mutex_lock(&m->log_lock);
	log_free(m);
	pthread_mutex_unlock(&m->log_lock);
}

uint64_t machine_clock(const struct machine *m)
{
	uint64_t ns;

	pthread_mutex_lock(log_lock_of(m));
	ns = m->clock_ns;
	pthread_mutex_unlock(log_lock_of(m));
	return ns;
}

void machine_advance_clock(struct machine *m, uint64_t ns)
{
	pthread_mutex_lock(&m->log_lock);
	m->clock_ns += ns;
	pthread_mutex_unlock(&m->log_lock);
}

size_t machine_warn_count(const struct machine *m)
{
	size_t n;

	pthread_mutex_lock(log_lock_of(m));
	n = m->nwarns + m->warns_dropped;
	pthread_mutex_unlock(log_lock_of(m));
	return n;
}

const struct warn_report *machine_warn(const struct machine *m, size_t i)
{
	return i < m->nwarns ? &m->warns[i] : NULL;
}

void machine_set_fail_nth(struct machine *m, unsigned int n)
{
	atomic_store(&m->fault_fired, false);
	atomic_store(&m->fail_nth, n);
}

unsigned long machine_fault_sites(const struct machine *m)
{
	return atomic_load(&((struct machine *)m)->fault_sites);
}

bool machine_fault_fired(const struct machine *m)
{
	return atomic_load(&((struct machine *)m)->fault_fired);
}
