// SPDX-License-Identifier: MIT
/*
 * errno names and the messages glibc prints for them. Our own table rather
 * than strerror(), so output is the same under any locale.
 */
#include <limits.h>
#include <stdio.h>

#include "compat/kernel.h"

#define ERRNO_TABLE(X)                                                  \
	X(EPERM, "Operation not permitted")                             \
	X(ENOENT, "No such file or directory")                          \
	X(ESRCH, "No such process")                                     \
	X(EINTR, "Interrupted system call")                             \
	X(EIO, "Input/output error")                                    \
	X(ENXIO, "No such device or address")                           \
	X(E2BIG, "Argument list too long")                              \
	X(ENOEXEC, "Exec format error")                                 \
	X(EBADF, "Bad file descriptor")                                 \
	X(ECHILD, "No child processes")                                 \
	X(EAGAIN, "Resource temporarily unavailable")                   \
	X(ENOMEM, "Cannot allocate memory")                             \
	X(EACCES, "Permission denied")                                  \
	X(EFAULT, "Bad address")                                        \
	X(EBUSY, "Device or resource busy")                             \
	X(EEXIST, "File exists")                                        \
	X(EXDEV, "Invalid cross-device link")                           \
	X(ENODEV, "No such device")                                     \
	X(ENOTDIR, "Not a directory")                                   \
	X(EISDIR, "Is a directory")                                     \
	X(EINVAL, "Invalid argument")                                   \
	X(ENFILE, "Too many open files in system")                      \
	X(EMFILE, "Too many open files")                                \
	X(ENOTTY, "Inappropriate ioctl for device")                     \
	X(EFBIG, "File too large")                                      \
	X(ENOSPC, "No space left on device")                            \
	X(ESPIPE, "Illegal seek")                                       \
	X(EROFS, "Read-only file system")                               \
	X(ERANGE, "Numerical result out of range")                      \
	X(EDEADLK, "Resource deadlock avoided")                         \
	X(ENAMETOOLONG, "File name too long")                           \
	X(ENOSYS, "Function not implemented")                           \
	X(ENOTEMPTY, "Directory not empty")                             \
	X(ELOOP, "Too many levels of symbolic links")                   \
	X(ENODATA, "No data available")                                 \
	X(EOVERFLOW, "Value too large for defined data type")           \
	X(EBADFD, "File descriptor in bad state")                       \
	X(EOPNOTSUPP, "Operation not supported")                        \
	X(ETIMEDOUT, "Connection timed out")                            \
	X(EMEDIUMTYPE, "Wrong medium type")

struct errno_row {
	int err;
	const char *name;
	const char *text;
};

#define ERRNO_ROW(e, t) { e, #e, t },
static const struct errno_row errno_rows[] = {
	ERRNO_TABLE(ERRNO_ROW)
	/* kernel-internal: glibc has no text for them */
	{ EPROBE_DEFER, "EPROBE_DEFER", NULL },
	{ 524, "ENOTSUPP", NULL },
};

static const struct errno_row *errno_lookup(int err)
{
	if (err == INT_MIN)
		return NULL;
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errno_rows) / sizeof(errno_rows[0]); i++)
		if (errno_rows[i].err == err)
			return &errno_rows[i];
	return NULL;
}

const char *errno_name(int err)
{
	const struct errno_row *r;

	if (!err)
		return "0";
	r = errno_lookup(err);
	return r ? r->name : "E?";
}

const char *errno_text(int err)
{
	static _Thread_local char unknown[32];
	const struct errno_row *r = errno_lookup(err);

	if (!err)
		return "Success";
	if (r && r->text)
		return r->text;
	snprintf(unknown, sizeof(unknown), "Unknown error %lld",
		 err < 0 ? -(long long)err : (long long)err);
	return unknown;
}
