/* SPDX-License-Identifier: MIT */
/**
 * DOC: scripts
 *
 * The lines users paste from bug reports, run on a machine: a small shell
 * (echo, printf, tee, cat, ls, readlink, modprobe, rmmod, lspci, sudo,
 * sh -c, cd, pipes, redirections, variables, globs) over the sysfs layer,
 * plus "@" verbs for what has no sysfs form (VFIO/iommufd, hot-plug, fault
 * injection, late IOMMU registration). docs/scripts.md has the language.
 */
#ifndef DMAOWN_SCRIPT_H
#define DMAOWN_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCRIPT_LINE_MAX 4096

/* The longest schedule '@concurrent N schedule S' takes (lock points). */
#define CONCURRENT_SCHEDULE_MAX 4096
#define CONCURRENT_SCHEDULE_MAX_STR "4097"

struct script_ctx;

/** struct script_log_line - a kernel log line a command caused */
struct script_log_line {
	uint64_t ts_ns;
	int level;
	char *text;
};

/**
 * struct script_result - what one script line did
 * @status: the shell's exit status for the line (0 success)
 * @ret: the first failing system call's errno (negative), or 0
 * @out: what the line wrote to stdout
 * @err: what it wrote to stderr
 * @log: kernel log lines the line caused; @nlog of them
 * @warn_first: index of the first WARN report the line caused
 * @nwarn: how many WARN reports it caused
 * @concurrent: the line closed an '@concurrent N' block and this is the
 *	block's result (outputs in task order, @status and @ret of the first
 *	task that failed): N; 0 for an ordinary line
 */
struct script_result {
	int status;
	int ret;
	char *out;
	char *err;
	struct script_log_line *log;
	size_t nlog;
	size_t warn_first;
	size_t nwarn;
	int concurrent;
};

/**
 * script_ctx_new() - a shell session on @m
 * @filename: used in error messages ("FILE:LINE: ...")
 *
 * Return: the context or NULL (out of memory). Free with script_ctx_free().
 */
struct script_ctx *script_ctx_new(struct machine *m, const char *filename);

/**
 * script_ctx_reset() - a context as script_ctx_new() makes it, on @m
 * @ctx: the context; its variables, VMM memory and working directory go
 * @m: the machine its next lines run on
 *
 * For a caller that runs one line on each of many machines (the checker):
 * the context is reused instead of allocated per line.
 */
void script_ctx_reset(struct script_ctx *ctx, struct machine *m);

/** script_ctx_free() - free a context; NULL is accepted. */
void script_ctx_free(struct script_ctx *ctx);

/**
 * script_exec_line() - run one line
 * @ctx: the session
 * @line: the text (no newline); at most SCRIPT_LINE_MAX bytes
 * @lineno: its number in the file, for messages
 * @res: receives the outcome; free with script_result_free()
 *
 * Return: 0 when the line was understood and run (whatever its status);
 * -EINVAL for a line the language does not have (unknown command, bad
 * syntax, an over-long line, a NUL byte), with the message
 * "FILE:LINE: ..." in @res->err and the machine untouched.
 */
int script_exec_line(struct script_ctx *ctx, const char *line, int lineno,
		     struct script_result *res);

/**
 * script_ctx_pending() - lines an '@concurrent N' block still waits for
 * @ctx: the session
 * @ret_lineno: receives the line that opened the block, when one is open
 *
 * A script that ends inside a block is incomplete: the caller reports it.
 *
 * Return: 0 when no block is open, else how many lines are missing.
 */
int script_ctx_pending(const struct script_ctx *ctx, int *ret_lineno);

/** script_result_free() - free what script_exec_line() filled in. */
void script_result_free(struct script_result *res);

#ifdef __cplusplus
}
#endif

#endif
