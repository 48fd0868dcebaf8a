/* SPDX-License-Identifier: MIT */
/*
 * The kernel-compat layer: logging, WARN_ON, the model call stack, fault
 * injection and allocation. Model files include this and then read like the
 * kernel files they mirror; the machine is named explicitly where the kernel
 * has one implicit global kernel.
 */
#ifndef DMAOWN_COMPAT_KERNEL_H
#define DMAOWN_COMPAT_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat/err.h"
#include "compat/kref.h"
#include "compat/list.h"
#include "compat/mutex.h"
#include "dmaown/machine.h"

#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"

#define __printf(a, b) __attribute__((format(printf, a, b)))

/* Append a line to @m's log; a leading KERN_* sets the level (default 4). */
void printk(struct machine *m, const char *fmt, ...) __printf(2, 3);
void vprintk(struct machine *m, const char *fmt, va_list ap) __printf(2, 0);

#define pr_err(m, fmt, ...) printk(m, KERN_ERR fmt, ##__VA_ARGS__)
#define pr_warn(m, fmt, ...) printk(m, KERN_WARNING fmt, ##__VA_ARGS__)
#define pr_info(m, fmt, ...) printk(m, KERN_INFO fmt, ##__VA_ARGS__)

/* ---- the model call stack ---- */

#define KSTACK_MAX 64

/*
 * The functions the current task is inside, outermost first, and the task's
 * name and PID. It is the task's context (like the kernel's `current`), not
 * machine state, so it is thread-local; WARN reports copy it as their call
 * trace.
 */
struct kstack {
	const char *fn[KSTACK_MAX];
	unsigned int depth;
	char comm[16];
	int pid;	/* 0: not set (reports say 1, the boot task) */
};

extern _Thread_local struct kstack kcompat_stack;

static inline int kstack_push_(const char *fn)
{
	struct kstack *s = &kcompat_stack;

	if (s->depth < KSTACK_MAX)
		s->fn[s->depth] = fn;
	s->depth++;
	return 0;
}

static inline void kstack_pop_(int *unused)
{
	(void)unused;
	kcompat_stack.depth--;
}

/*
 * Marks a model function as a frame of the call trace. Put it first in every
 * function that a kernel call trace would show.
 */
#define KFUNC()                                                            \
	__attribute__((cleanup(kstack_pop_), unused)) int kfunc_frame_ = \
		kstack_push_(__func__)

/* KFUNC() for a model function named otherwise than its kernel twin. */
#define KFRAME(name)                                                       \
	__attribute__((cleanup(kstack_pop_), unused)) int kfunc_frame_ = \
		kstack_push_(name)

unsigned int kstack_push_sysfs_write_(struct machine *m,
				      const char *kobj_store);

static inline void kstack_pop_n_(unsigned int *n)
{
	kcompat_stack.depth -= *n;
}

/*
 * The frames of a write(2) to a sysfs attribute, below the attribute's
 * store: the architecture's syscall entry (@m's: x86_64 for x86 firmware,
 * arm64 otherwise), ksys_write(), vfs_write(), kernfs_fop_write_iter(),
 * sysfs_kf_write() and @kobj_store, the kobject's sysfs_ops store
 * (drv_attr_store, dev_attr_store...). Popped at the end of the scope.
 */
#define KENTRY_SYSFS_WRITE(m, kobj_store)                                  \
	__attribute__((cleanup(kstack_pop_n_), unused)) unsigned int       \
		kentry_frames_ = kstack_push_sysfs_write_(m, kobj_store)

/* ---- WARN ---- */

void kcompat_warn(struct machine *m, const char *file, int line,
		  const char *func, const char *fmt, ...) __printf(5, 6);

/*
 * Records a report in @m (never aborts) and evaluates to the condition, as
 * the kernel's WARN_ON() does.
 */
#define WARN_ON(m, cond)                                                  \
	({                                                                 \
		bool warn_c_ = !!(cond);                                   \
		if (__builtin_expect(warn_c_, 0))                          \
			kcompat_warn((m), __FILE__, __LINE__, __func__, "%s", \
				     #cond);                               \
		warn_c_;                                                   \
	})

#define WARN(m, cond, fmt, ...)                                           \
	({                                                                 \
		bool warn_c_ = !!(cond);                                   \
		if (__builtin_expect(warn_c_, 0))                          \
			kcompat_warn((m), __FILE__, __LINE__, __func__, fmt, \
				     ##__VA_ARGS__);                       \
		warn_c_;                                                   \
	})

/*
 * The v6.6 line of the kernel's WARN site that the model's WARN in @func of
 * @file (kernel-relative) with condition @cond stands for; 0 for a check of
 * dmaown's own (compat/warn-sites.c).
 */
int warn_site_upstream_line(const char *file, const char *func,
			    const char *cond);

/* ---- taint and modules, as WARN reports show them ---- */

/* add_taint() flags, the kernel's bit numbers (include/linux/panic.h) */
#define TAINT_USER 6
#define TAINT_WARN 9

void add_taint(struct machine *m, unsigned int flag);

/* MODULE_NAME_LEN: the longest module name, its NUL included */
#define MODULE_NAME_LEN 56

/*
 * A module was loaded or unloaded: what print_modules() lists, most recent
 * first, and its "[last unloaded: NAME]". @name as the kernel names modules
 * (underscores).
 */
void kcompat_module_loaded(struct machine *m, const char *name);
void kcompat_module_unloaded(struct machine *m, const char *name);

/* lockdep_assert_held(): the current task must hold @lock. */
#define lockdep_assert_held(m, lock) \
	WARN_ON(m, !mutex_is_locked_by_current(lock))

/*
 * READ_ONCE()/WRITE_ONCE(): a field read without the lock that protects
 * its writes (the kernel's lockless peeks at dev->driver), and those
 * writes. Relaxed atomics: no ordering, but no torn or invented accesses,
 * and ThreadSanitizer sees them as the intended races they are.
 */
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val) __atomic_store_n(&(x), (val), __ATOMIC_RELAXED)

/* ---- fault injection and allocation ---- */

/*
 * One hook at every fallible point: counts the point, and fails it when the
 * machine's fail-nth counter says so (machine_set_fail_nth()).
 */
bool should_fail(struct machine *m, const char *site);

/*
 * calloc(@n, @size) through malloc(): glibc's calloc() never takes a chunk
 * from the thread's cache (tcache) and goes to the arena every time, which
 * cost the checker a tenth of its time (a machine and its tables are
 * allocated and freed per transition). NULL when @n * @size overflows.
 */
static inline void *zalloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	p = malloc(bytes);
	/* hide where @p came from, or gcc makes the two calls calloc() */
	__asm__("" : "+r"(p));
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* Zeroed allocation that can be made to fail; free with kfree(). */
void *kzalloc(struct machine *m, size_t size);

static inline void kfree(const void *p)
{
	free((void *)p);
}

/* Duplicate at most @max - 1 bytes of @s; NULL on (injected) failure. */
char *kstrndup(struct machine *m, const char *s, size_t max);

/*
 * lib/kstrtox.c: kstrtobool() reads y/Y/t/T/1/on as true, n/N/f/F/0/off
 * as false (the first one or two characters decide); -EINVAL otherwise.
 * kstrtou16() with base 0 (0x hex, 0 octal), one optional '+' and one
 * trailing newline: -EINVAL for anything else, -ERANGE past 65535.
 */
int kstrtobool(const char *s, bool *res);
int kstrtou16(const char *s, unsigned int base, unsigned short *res);
int kstrtoint(const char *s, unsigned int base, int *res);

/*
 * A shortcut's result checked against the long way, in every build but
 * release (meson.build defines DMAOWN_SELF_CHECK): the test suite runs
 * the checks, the benchmarks do not pay for them. A failed check is a
 * bug in dmaown, not in the model: it aborts with where it is.
 */
#ifdef DMAOWN_SELF_CHECK
#define SELF_CHECKING 1
#else
#define SELF_CHECKING 0
#endif
void self_check_failed(const char *file, int line, const char *what)
	__attribute__((noreturn));
#define self_check(cond)                                                    \
	do {                                                                \
		if (SELF_CHECKING && !(cond))                               \
			self_check_failed(__FILE__, __LINE__, #cond);       \
	} while (0)

/* ---- canonical serialization helpers (machine.c) ---- */

/* Growable text buffer; on allocation failure it remembers and stops. */
struct sbuf {
	char *buf;
	size_t len, cap;
	bool oom;
	/*
	 * Serializers leave out what never changes after boot (ids, firmware
	 * facts): the checker's states all come from one boot.
	 */
	bool dynamic_only;
};

void sbuf_printf(struct sbuf *sb, const char *fmt, ...) __printf(2, 3);
/* sbuf_putn() when the buffer has to grow (or is out of memory). */
void sbuf_putn_slow(struct sbuf *sb, const char *s, size_t n);
/*
 * Append @n bytes of @s (the buffer stays NUL-terminated): no formatting.
 * Inline with a byte loop: serializing a state appends thousands of
 * pieces of a few bytes, and a call to memcpy() each cost more than them.
 */
static inline void sbuf_putn(struct sbuf *sb, const char *s, size_t n)
{
	char *d;

	if (sb->oom || sb->cap - sb->len <= n) {
		sbuf_putn_slow(sb, s, n);
		return;
	}
	d = sb->buf + sb->len;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	d[n] = '\0';
	sb->len += n;
}
static inline void sbuf_putc(struct sbuf *sb, char c)
{
	sbuf_putn(sb, &c, 1);
}

/* Append a string, as "%s" would; NULL is not accepted. */
static inline void sbuf_puts(struct sbuf *sb, const char *s)
{
	sbuf_putn(sb, s, strlen(s));
}

/*
 * qsort() that first checks whether @base is in order already: canonical
 * serialization sorts objects that machine files mostly list in order.
 */
void sort_unless_sorted(void *base, size_t n, size_t size,
			int (*cmp)(const void *, const void *));

/* sbuf_putu() of a number of more than one digit. */
void sbuf_putu_slow(struct sbuf *sb, unsigned long long v);
/*
 * Append a number in decimal, as "%llu" and "%lld" would. Inline for
 * one digit, most of a state's numbers (flags, counts, small ids): a
 * state's text has a few hundred of them.
 */
static inline void sbuf_putu(struct sbuf *sb, unsigned long long v)
{
	if (v < 10)
		sbuf_putc(sb, (char)('0' + v));
	else
		sbuf_putu_slow(sb, v);
}
/* Append @v as "%#llx" would: "0" or "0x" and its hex digits. */
void sbuf_putx_alt(struct sbuf *sb, unsigned long long v);
static inline void sbuf_putd(struct sbuf *sb, long long v)
{
	if (v < 0) {
		sbuf_putc(sb, '-');
		sbuf_putu(sb, 0ULL - (unsigned long long)v);
	} else {
		sbuf_putu(sb, (unsigned long long)v);
	}
}

/*
 * A cursor into @sb's buffer for a run of pieces: sbuf_room() makes room
 * for @n more bytes and returns where they go (NULL: out of memory, the
 * buffer then marked), cur_*() write and return the new end, and
 * sbuf_commit() appends what was written. The buffer's fields are read
 * once a run rather than once a piece: every byte stored through a char
 * pointer may alias them, so sbuf_putn() reloads them each time, which
 * was most of writing a state's text. @n must bound what the run writes.
 */
bool sbuf_reserve(struct sbuf *sb, size_t n);
static inline char *sbuf_room(struct sbuf *sb, size_t n)
{
	if (sb->oom || (sb->cap - sb->len <= n && !sbuf_reserve(sb, n)))
		return NULL;
	return sb->buf + sb->len;
}
static inline void sbuf_commit(struct sbuf *sb, char *end)
{
	*end = '\0';
	sb->len = (size_t)(end - sb->buf);
}
/* The most bytes cur_putd() writes: a sign and 20 digits. */
#define CUR_NUM_MAX 21
static inline char *cur_putn(char *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = s[i];
	return p + n;
}
/* a string literal, its length known when compiled */
#define cur_putlit(p, lit) cur_putn(p, "" lit, sizeof(lit) - 1)
static inline char *cur_putc(char *p, char c)
{
	*p = c;
	return p + 1;
}
char *cur_putu_slow(char *p, unsigned long long v);
static inline char *cur_putu(char *p, unsigned long long v)
{
	if (v < 10)
		return cur_putc(p, (char)('0' + v));
	return cur_putu_slow(p, v);
}
static inline char *cur_putd(char *p, long long v)
{
	if (v < 0)
		return cur_putu(cur_putc(p, '-'), 0ULL - (unsigned long long)v);
	return cur_putu(p, (unsigned long long)v);
}

/*
 * Pointer-to-pointer map, used by clone (old -> new) and canonical ids.
 * A clone's map may also have a range [@lo, @hi): the source machine's
 * block, whose objects the clone copied at the same offsets in its own
 * (machine_clone_alloc_at()), so a key in it maps to key + @delta
 * without a probe, and putting one stores nothing (release builds; with
 * self-checks every pair is stored too and each answer compared). Any
 * other map has an empty range (all zero, as ptrmap_init() leaves it).
 */
struct ptrmap {
	const void **keys;
	void **vals;
	size_t cap, count;
	bool oom;
	uintptr_t lo, hi, delta; /* delta: modulo 2^N, as an address */
};

/* Whether @key is in @pm's range (never NULL when the range is empty). */
static inline bool ptrmap_in_range(const struct ptrmap *pm, const void *key)
{
	return (uintptr_t)key - pm->lo < pm->hi - pm->lo;
}

void ptrmap_init(struct ptrmap *pm);
/*
 * An empty map with room for @n entries before it grows: a clone knows
 * about how many objects it will map (as many as the last one did).
 */
void ptrmap_init_size(struct ptrmap *pm, size_t n);
void ptrmap_free(struct ptrmap *pm);
bool ptrmap_put_slow(struct ptrmap *pm, const void *key, void *val);

static inline size_t ptrmap_slot(const void *p, size_t cap)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

/*
 * The slot of @key in @pm (not empty, @key not NULL): where it is, or the
 * empty slot its probe ends on, where it would go. The one probe of
 * ptrmap_get(), ptrmap_put() and canon_id().
 */
static inline size_t ptrmap_probe(const struct ptrmap *pm, const void *key)
{
	size_t i = ptrmap_slot(key, pm->cap);

	while (pm->keys[i] && pm->keys[i] != key)
		i = (i + 1) & (pm->cap - 1);
	return i;
}

/*
 * Map @key (not NULL) to @val. Inline: a clone maps every object it
 * copies; a NULL key, an empty map or one due to grow goes the slow way.
 * Return: false when @key is NULL or the map could not grow.
 */
static inline bool ptrmap_put(struct ptrmap *pm, const void *key, void *val)
{
	size_t i;

	if (ptrmap_in_range(pm, key)) {
		/* the clone placed the copy where the range says */
		self_check((uintptr_t)val == (uintptr_t)key + pm->delta);
		if (!SELF_CHECKING)
			return true; /* implied: nothing to store */
	}
	if (!key || !pm->cap || (pm->count + 1) * 2 > pm->cap)
		return ptrmap_put_slow(pm, key, val);
	i = ptrmap_probe(pm, key);
	if (!pm->keys[i])
		pm->count++;
	pm->keys[i] = key;
	pm->vals[i] = val;
	return true;
}

/*
 * Return: the value the map stores for @key, or NULL (its range aside).
 * Inline: a clone remaps every pointer outside the range through it, and
 * a state's text numbers its pointers with it.
 */
static inline void *ptrmap_get_stored(const struct ptrmap *pm,
				      const void *key)
{
	size_t i;

	if (!pm->cap || !key)
		return NULL;
	i = ptrmap_probe(pm, key);
	return pm->keys[i] ? pm->vals[i] : NULL;
}

/*
 * Return: the value for @key: key + delta in the range (any address in
 * it, an object's middle too, moves with its object), else the stored
 * one, or NULL.
 */
static inline void *ptrmap_get(const struct ptrmap *pm, const void *key)
{
	if (ptrmap_in_range(pm, key)) {
		void *v = (void *)((uintptr_t)key + pm->delta);

		/* where the map knows the key (an object's start), the same */
		if (SELF_CHECKING) {
			void *stored = ptrmap_get_stored(pm, key);

			self_check(!stored || stored == v);
		}
		return v;
	}
	return ptrmap_get_stored(pm, key);
}

/*
 * Remap a pointer through a clone map: NULL stays NULL, a pointer the clone
 * copied becomes its copy, anything else (a foreign cookie) is kept.
 */
static inline void *clone_remap(const struct ptrmap *map, const void *old)
{
	void *n;

	if (!old)
		return NULL;
	n = ptrmap_get(map, old);
	return n ? n : (void *)old;
}

/*
 * Name index: string keys (owned by the values, e.g. a device's name) to
 * pointers; open addressing with linear probing and backward-shift
 * deletion, so lookups stay O(1) however many names come and go.
 */
struct strmap {
	const char **keys;
	void **vals; /* in the same allocation as @keys, after it */
	size_t cap, count;
	bool borrowed; /* the table is in memory the map does not own */
};

void strmap_init(struct strmap *sm);
void strmap_free(struct strmap *sm);
/* Return: 0, -EEXIST (the name is taken), -ENOMEM. */
int strmap_put(struct strmap *sm, const char *key, void *val);
/* @len: the key's length, so a key need not be NUL-terminated. */
void *strmap_get_len(const struct strmap *sm, const char *key, size_t len);
static inline void *strmap_get(const struct strmap *sm, const char *key)
{
	return strmap_get_len(sm, key, strlen(key));
}
/* Remove @key if it maps to @val (a stale entry of a namesake stays). */
void strmap_del(struct strmap *sm, const char *key, const void *val);
/*
 * strmap_clone() - @dst (empty) as @src with every value remapped
 * through a clone's @map and its key taken from the new value by
 * @key_of. The keys are the same strings, so they hash to the same
 * slots: the table is copied slot for slot instead of rebuilt, which a
 * machine's clone did name by name (a hash, probes and growth each).
 * @room, when not NULL, is where the table goes (strmap_room(@src)
 * bytes, e.g. in a machine clone's block, freed with it): the map does
 * not free it, and moves out of it when it grows.
 * Return: 0, -ENOMEM, or -EINVAL when a value is not in @map.
 */
int strmap_clone(struct strmap *dst, const struct strmap *src,
		 const struct ptrmap *map, const char *(*key_of)(const void *),
		 void *room);
/* The bytes strmap_clone() of @src needs for its table. */
static inline size_t strmap_room(const struct strmap *src)
{
	return src->cap * (sizeof(*src->keys) + sizeof(*src->vals));
}

/*
 * Integer index: 64-bit keys to non-NULL pointers, open addressing with
 * linear probing and backward-shift deletion, as struct strmap (an empty
 * slot is a NULL value; @vals follows @keys in one block). For an index
 * by number that is not dense enough for an idr: arm-smmu-v3's stream IDs
 * (32 bits, scattered). Not locked: its owner's lock covers it.
 */
struct u64map {
	uint64_t *keys;
	void **vals;
	size_t cap, count;
};

/* An empty map (all zero is one too); it allocates on its first put. */
void u64map_init(struct u64map *um);
void u64map_free(struct u64map *um);
/*
 * Map @key to @val.
 * Return: 0, -EEXIST (taken), -ENOMEM, -EINVAL (a NULL @val).
 */
int u64map_put(struct u64map *um, uint64_t key, void *val);
/* Return: the value stored for @key, or NULL. */
void *u64map_get(const struct u64map *um, uint64_t key);
/* Remove @key if it maps to @val; return whether it did. */
bool u64map_del(struct u64map *um, uint64_t key, const void *val);
/*
 * u64map_copy() - @dst (not set up) as @src, slot for slot, values
 * unchanged: a clone copies a map whose values it remaps later (its
 * fixup pass, once every object is copied). Return: 0 or -ENOMEM.
 */
int u64map_copy(struct u64map *dst, const struct u64map *src);
/* Each value through a clone's @map (clone_remap()); keys unchanged. */
void u64map_remap(struct u64map *um, const struct ptrmap *map);

/*
 * Pointers by small integer id, the lowest free id given out first, as
 * ida_alloc() and alloc_fd() do. A bitmap of used ids is scanned a word at a
 * time from a hint below which every id is used, so taking the next id, or
 * taking again the lowest one just freed, is O(1), and the worst case costs
 * one bit per id over 64. Not locked: its owner's lock covers it.
 */
struct idr {
	void **ptr;
	uint64_t *used;
	unsigned int cap;   /* slots, a multiple of 64 */
	unsigned int hint;  /* every id below it is used */
	unsigned int count;
};

void idr_init(struct idr *idr);
void idr_destroy(struct idr *idr);
/*
 * idr_alloc_lowest() - store @ptr at the lowest free id in [@start, @end)
 * Return: the id, -ENOSPC when every id below @end is used, -ENOMEM.
 */
int idr_alloc_lowest(struct idr *idr, void *ptr, unsigned int start,
		     unsigned int end);
/* The pointer at @id, or NULL. */
void *idr_find(const struct idr *idr, int id);
/* Free @id; return what was there (NULL if nothing). */
void *idr_remove(struct idr *idr, int id);
/* The next used id at or above @id, or -1: walks in id order. */
int idr_next(const struct idr *idr, int id);
/* A copy of @src with the same pointers (0 or -ENOMEM). */
int idr_copy(struct idr *dst, const struct idr *src);

/*
 * Canonical small integer for a pointer: 0, 1, 2... in order of first use,
 * so that serializations do not depend on addresses.
 */
int canon_id_slow(struct ptrmap *pm, const void *p);
/*
 * Inline, one probe: a state's text numbers every pointer it names with
 * it. A lookup that misses takes the empty slot it ended on, as
 * ptrmap_put() would; a NULL, an empty map or one due to grow goes the
 * slow way (canon_id_slow(), ptrmap_get() then ptrmap_put()).
 */
static inline int canon_id(struct ptrmap *pm, const void *p)
{
	size_t i;

	if (!p || !pm->cap || (pm->count + 1) * 2 > pm->cap)
		return canon_id_slow(pm, p);
	i = ptrmap_probe(pm, p);
	if (pm->keys[i])
		return (int)(intptr_t)pm->vals[i] - 1;
	pm->keys[i] = p;
	pm->vals[i] = (void *)(intptr_t)++pm->count;
	return (int)pm->count - 1;
}

#endif
