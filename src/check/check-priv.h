/* SPDX-License-Identifier: MIT */
/* Shared by the checker's files: a growable list of script lines. */
#ifndef DMAOWN_CHECK_PRIV_H
#define DMAOWN_CHECK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaown/machine.h"

struct strlist {
	char **v;
	size_t n, cap;
	bool oom;
};

void strlist_add(struct strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strlist_free(struct strlist *l);

/*
 * The checker's iommufd users: processes that check_prepare() starts, each
 * with an iommufd open as descriptor 3 and IOAS 1 allocated in it.
 */
#define CHECK_IOMMUFD_USERS 2
extern const char *const check_iommufd_users[CHECK_IOMMUFD_USERS];

/*
 * I6 on a copy of @m, tearing down with script lines. With @ret_lines, the
 * lines run up to and including the one that broke the invariant are
 * appended there. Returns INV_TEARDOWN when violated, else 0.
 */
int check_teardown(struct machine *m, struct strlist *ret_lines, char *why,
		   size_t why_len);

/*
 * I6 on @m itself, without a copy: for a state the caller is done with.
 * @m is destroyed. Returns INV_TEARDOWN when violated, else 0.
 */
int check_teardown_consume(struct machine *m, char *why, size_t why_len);

/*
 * Run @lines (2 or 3) as concurrent tasks on copies of @state under every
 * schedule with at most @max_preemptions preemptions at the model's lock
 * points; the first violation fills @st. Returns 0 or -ENOMEM/-EINVAL.
 */
struct check_stats;
int check_interleavings(struct machine *state, const char *const *lines,
			int n, int max_preemptions, unsigned long *ret_runs,
			struct check_stats *st);

#endif
