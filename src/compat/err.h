/* SPDX-License-Identifier: MIT */
/*
 * Kernel error conventions: negative errno returns, ERR_PTR() pointer
 * encoding, and the kernel-internal codes that userspace never sees.
 */
#ifndef DMAOWN_COMPAT_ERR_H
#define DMAOWN_COMPAT_ERR_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* Kernel-internal errno values (include/linux/errno.h). */
#ifndef EPROBE_DEFER
#define EPROBE_DEFER 517
#endif

#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
	return (void *)(intptr_t)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)(intptr_t)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (uintptr_t)ptr >= (uintptr_t)-MAX_ERRNO;
}

static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR(ptr);
}

#endif
