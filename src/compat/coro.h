/* SPDX-License-Identifier: MIT */
/*
 * Coroutines: several model tasks on one OS thread, switched by hand.
 *
 * The checker's interleavings run two or three script lines "at once" and
 * choose, at every lock point, which one continues. Real threads made each
 * choice a futex hand-off between OS threads, and each schedule two thread
 * creations; a coroutine switch is a register save and restore. Each task
 * keeps what the kernel keeps per task: its identity for lock ownership
 * (kcompat_current()) and its call stack for WARN traces (kcompat_stack),
 * both swapped on every switch.
 *
 * Sanitizers are told about every stack switch (ASan's fiber hooks, TSan's
 * fibers) so that they keep working across them.
 */
#ifndef DMAOWN_COMPAT_CORO_H
#define DMAOWN_COMPAT_CORO_H

#include <stdbool.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

#include "compat/kernel.h"

/*
 * struct coro - one task: its stack, its saved registers, and the per-task
 * kernel context (kcompat_stack and the kcompat_current() token) saved while
 * it is switched out.
 */
struct coro {
	ucontext_t uc;          /* the first entry only (coro_start()) */
	ucontext_t uc0;         /* getcontext()'s, once: makecontext()'s base */
	jmp_buf jb;             /* every later switch */
	bool entered;
	void *stack;
	size_t stack_size;
	void (*fn)(void *arg);
	void *arg;
	bool done;
	struct kstack kstack;
	uintptr_t token;
	void *fiber;            /* TSan's fiber, when built with TSan */
	const void *asan_stack; /* where ASan last saw this stack */
	size_t asan_size;
	void *asan_fake;        /* ASan's fake stack while switched out */
};

/*
 * struct coro_host - the OS thread's own context, to which tasks return
 * when they yield or finish.
 */
struct coro_host {
	jmp_buf jb;
	struct kstack kstack;
	uintptr_t token;
	void *fiber;
	const void *asan_stack;
	size_t asan_size;
	void *asan_fake;
	struct coro *running;
};

/*
 * coro_init() - give @c a stack of @stack_size bytes on which fn(arg) will
 * run with identity @token. Returns 0 or -ENOMEM. Undo with coro_fini().
 */
int coro_init(struct coro *c, size_t stack_size, uintptr_t token);

/*
 * coro_start() - (re)arm @c to run fn(arg) from the top on its next resume;
 * its stack is reused. The task must not be suspended mid-way, or must be
 * abandoned (its frames are simply dropped).
 */
void coro_start(struct coro *c, struct coro_host *h, void (*fn)(void *arg),
		void *arg);

/* coro_resume() - run @c until it yields or finishes; from the host only. */
void coro_resume(struct coro_host *h, struct coro *c);

/* coro_yield() - from inside the running task, back to the host. */
void coro_yield(struct coro_host *h);

/* coro_fini() - free @c's stack; accepts a zeroed or half-built @c. */
void coro_fini(struct coro *c);

#endif
