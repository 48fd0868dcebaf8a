/* SPDX-License-Identifier: MIT */
/*
 * Sleeping locks. Every lock and unlock in the model goes through here so that
 * a machine can swap real pthread locking for a scheduler of its own (the
 * checker interleaves tasks at exactly these points).
 */
#ifndef DMAOWN_COMPAT_MUTEX_H
#define DMAOWN_COMPAT_MUTEX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmaown/machine.h"

/*
 * The running task's identity, for lock ownership and lockdep assertions.
 * A real thread uses the address of its own thread-local slot; a cooperative
 * scheduler may set an explicit token per task (kcompat_set_current()).
 */
uintptr_t kcompat_current(void);
void kcompat_set_current(uintptr_t token);

/**
 * struct lockdomain - how the mutexes of one machine are taken
 * @ops: NULL for plain pthread mutexes; otherwise called around the real lock
 * @ctx: passed back to @ops
 *
 * Lives in struct machine; every mutex of that machine points at it.
 */
struct lockdomain {
	const struct machine_lock_ops *ops;
	void *ctx;
};

struct mutex {
	pthread_mutex_t pm;
	atomic_uintptr_t holder; /* kcompat_current() of the holder, 0 if free */
	const char *name;
	struct lockdomain *ld;
};

void mutex_init(struct mutex *lock, struct lockdomain *ld, const char *name);
void mutex_destroy(struct mutex *lock);

static inline void mutex_lock(struct mutex *lock)
{
	const struct machine_lock_ops *ops = lock->ld->ops;

	if (__builtin_expect(ops != NULL, 0))
		ops->before_lock(lock->ld->ctx, lock, lock->name);
	pthread_mutex_lock(&lock->pm);
	atomic_store_explicit(&lock->holder, kcompat_current(),
			      memory_order_relaxed);
}

static inline void mutex_unlock(struct mutex *lock)
{
	const struct machine_lock_ops *ops = lock->ld->ops;

	atomic_store_explicit(&lock->holder, 0, memory_order_relaxed);
	pthread_mutex_unlock(&lock->pm);
	if (__builtin_expect(ops != NULL, 0))
		ops->after_unlock(lock->ld->ctx, lock, lock->name);
}

static inline bool mutex_is_locked_by_current(struct mutex *lock)
{
	return atomic_load_explicit(&lock->holder, memory_order_relaxed) ==
	       kcompat_current();
}

#endif
