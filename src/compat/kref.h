/* SPDX-License-Identifier: MIT */
/*
 * Reference counts. kref_put() calls the release function when the count
 * reaches zero; a put on a zero count is a refcount underflow, which the
 * kernel reports with a WARN: we let the caller report it (see kref_put()).
 */
#ifndef DMAOWN_COMPAT_KREF_H
#define DMAOWN_COMPAT_KREF_H

#include <stdatomic.h>
#include <stdbool.h>

struct kref {
	atomic_uint refcount;
};

static inline void kref_init(struct kref *k)
{
	atomic_init(&k->refcount, 1);
}

static inline unsigned int kref_read(const struct kref *k)
{
	return atomic_load_explicit(&k->refcount, memory_order_relaxed);
}

static inline void kref_get(struct kref *k)
{
	atomic_fetch_add_explicit(&k->refcount, 1, memory_order_relaxed);
}

/* Take a reference unless the object is already on its way out. */
static inline bool kref_get_unless_zero(struct kref *k)
{
	unsigned int old = atomic_load_explicit(&k->refcount,
						memory_order_relaxed);
	do {
		if (old == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
		&k->refcount, &old, old + 1, memory_order_acquire,
		memory_order_relaxed));
	return true;
}

/*
 * Returns 1 when the release function ran, 0 otherwise, -1 on underflow
 * (count already zero: nothing is done, the caller WARNs).
 */
static inline int kref_put(struct kref *k, void (*release)(struct kref *k))
{
	unsigned int old = atomic_load_explicit(&k->refcount,
						memory_order_relaxed);
	do {
		if (old == 0)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(
		&k->refcount, &old, old - 1, memory_order_acq_rel,
		memory_order_relaxed));
	if (old == 1) {
		release(k);
		return 1;
	}
	return 0;
}

#endif
