// SPDX-License-Identifier: MIT
/*
 * Coroutines with the sanitizers' fiber annotations. Every switch goes
 * through the host (resume/yield), so the per-task kernel context is
 * swapped in one place.
 *
 * A task's stack is entered once through makecontext()/setcontext(); every
 * switch after that is _setjmp()/_longjmp(), which save and restore the
 * registers only. swapcontext() also saves and restores the signal mask,
 * a system call each way: a quarter of an --interleave run went to it.
 * No task changes the signal mask, so there is none to keep per task.
 * Jumping between stacks is what fortified longjmp refuses (it takes a
 * jump to another stack for a jump into a dead frame): this file is built
 * without it.
 */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "compat/coro.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORO_TSAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#define asan_start(save, bottom, size) \
	__sanitizer_start_switch_fiber(save, bottom, size)
#define asan_finish(save, bottom, size) \
	__sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define asan_start(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define asan_finish(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

#ifdef CORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

int coro_init(struct coro *c, size_t stack_size, uintptr_t token)
{
	void *p;

	memset(c, 0, sizeof(*c));
	p = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	c->stack = p;
	c->stack_size = stack_size;
	c->token = token;
	if (getcontext(&c->uc0)) {
		munmap(p, stack_size);
		c->stack = NULL;
		return -errno;
	}
#ifdef CORO_TSAN
	c->fiber = __tsan_create_fiber(0);
#endif
	return 0;
}

void coro_fini(struct coro *c)
{
	if (c->stack)
		munmap(c->stack, c->stack_size);
#ifdef CORO_TSAN
	if (c->fiber)
		__tsan_destroy_fiber(c->fiber);
#endif
	memset(c, 0, sizeof(*c));
}

/* The task's first frame; the task pointer comes in two halves. */
static void trampoline(unsigned int hi, unsigned int lo)
{
	uintptr_t bits = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
	struct coro_host *h = (struct coro_host *)bits;
	struct coro *c = h->running;

	asan_finish(NULL, &h->asan_stack, &h->asan_size);
	c->fn(c->arg);
	c->done = true;
	/* this stack is finished: nothing of it needs keeping */
	asan_start(NULL, h->asan_stack, h->asan_size);
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(h->fiber, 0);
#endif
	_longjmp(h->jb, 1);
}

void coro_start(struct coro *c, struct coro_host *h, void (*fn)(void *arg),
		void *arg)
{
	uintptr_t bits = (uintptr_t)h;

	c->fn = fn;
	c->arg = arg;
	c->done = false;
	c->entered = false;
	memset(&c->kstack, 0, sizeof(c->kstack));
	c->uc = c->uc0;
	c->uc.uc_stack.ss_sp = c->stack;
	c->uc.uc_stack.ss_size = c->stack_size;
	c->uc.uc_link = NULL;
	makecontext(&c->uc, (void (*)(void))trampoline, 2,
		    (unsigned int)(bits >> 16 >> 16), (unsigned int)bits);
}

void coro_resume(struct coro_host *h, struct coro *c)
{
	/* the host's kernel context out, the task's in */
	h->kstack = kcompat_stack;
	h->token = kcompat_current_token;
	kcompat_stack = c->kstack;
	kcompat_set_current(c->token);
	h->running = c;
#ifdef CORO_TSAN
	h->fiber = __tsan_get_current_fiber();
	__tsan_switch_to_fiber(c->fiber, 0);
#endif
	asan_start(&h->asan_fake, c->stack, c->stack_size);
	if (!_setjmp(h->jb)) {
		if (c->entered)
			_longjmp(c->jb, 1);
		c->entered = true;
		setcontext(&c->uc);
	}
	asan_finish(h->asan_fake, NULL, NULL);
	h->running = NULL;
	c->kstack = kcompat_stack;
	kcompat_stack = h->kstack;
	kcompat_set_current(h->token);
}

void coro_yield(struct coro_host *h)
{
	struct coro *c = h->running;

	asan_start(&c->asan_fake, h->asan_stack, h->asan_size);
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(h->fiber, 0);
#endif
	if (!_setjmp(c->jb))
		_longjmp(h->jb, 1);
	asan_finish(c->asan_fake, &h->asan_stack, &h->asan_size);
}
