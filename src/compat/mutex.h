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
#include <sys/single_threaded.h>

#include "dmaown/machine.h"

/*
 * The running task's identity, for lock ownership and lockdep assertions.
 * A real thread uses the address of its own thread-local slot; a cooperative
 * scheduler may set an explicit token per task (kcompat_set_current()).
 */
extern _Thread_local uintptr_t kcompat_current_token;
extern _Thread_local char kcompat_current_slot;

static inline uintptr_t kcompat_current(void)
{
	uintptr_t t = kcompat_current_token;

	return t ? t : (uintptr_t)&kcompat_current_slot;
}

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

/*
 * The lock word follows the kernel's mutex fast path: one atomic to take a
 * free lock, one to release it, a futex wait only under contention, and
 * glibc's single-threaded shortcut while the process has one thread. Under
 * ThreadSanitizer a pthread mutex is used instead, so TSan sees every lock
 * and checks lock order.
 */
#if defined(__SANITIZE_THREAD__)
#define DMAOWN_PTHREAD_MUTEX 1
#endif

struct mutex {
#ifdef DMAOWN_PTHREAD_MUTEX
	pthread_mutex_t pm;
#endif
	atomic_uint state; /* 0: free, 1: locked, 2: locked, maybe waiters */
	atomic_uintptr_t holder; /* kcompat_current() of the holder, 0 if free */
	const char *name;
	struct lockdomain *ld;
};

void mutex_init(struct mutex *lock, struct lockdomain *ld, const char *name);
void mutex_destroy(struct mutex *lock);
void mutex_lock_slowpath(struct mutex *lock);
void mutex_unlock_wake(struct mutex *lock);

/*
 * glibc's single-threaded optimisation, as pthread_mutex_lock() does it:
 * while the process has one thread nothing can race with the lock word.
 */
static inline bool mutex_trylock_fast_(struct mutex *lock)
{
	unsigned int c = 0;

	if (__libc_single_threaded &&
	    !atomic_load_explicit(&lock->state, memory_order_relaxed)) {
		atomic_store_explicit(&lock->state, 1, memory_order_relaxed);
		return true;
	}
	return atomic_compare_exchange_strong_explicit(&lock->state, &c, 1,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline void mutex_lock(struct mutex *lock)
{
	const struct machine_lock_ops *ops = lock->ld->ops;

	if (__builtin_expect(ops != NULL, 0))
		ops->before_lock(lock->ld->ctx, lock, lock->name);
#ifdef DMAOWN_PTHREAD_MUTEX
	pthread_mutex_lock(&lock->pm);
#else
	if (!mutex_trylock_fast_(lock))
		mutex_lock_slowpath(lock);
#endif
	atomic_store_explicit(&lock->holder, kcompat_current(),
			      memory_order_relaxed);
}

static inline void mutex_unlock(struct mutex *lock)
{
	const struct machine_lock_ops *ops = lock->ld->ops;

	atomic_store_explicit(&lock->holder, 0, memory_order_relaxed);
#ifdef DMAOWN_PTHREAD_MUTEX
	pthread_mutex_unlock(&lock->pm);
#else
	if (__libc_single_threaded)
		atomic_store_explicit(&lock->state, 0, memory_order_relaxed);
	else if (atomic_exchange_explicit(&lock->state, 0,
					  memory_order_release) == 2)
		mutex_unlock_wake(lock);
#endif
	if (__builtin_expect(ops != NULL, 0))
		ops->after_unlock(lock->ld->ctx, lock, lock->name);
}

static inline bool mutex_is_locked_by_current(struct mutex *lock)
{
	return atomic_load_explicit(&lock->holder, memory_order_relaxed) ==
	       kcompat_current();
}

#endif
