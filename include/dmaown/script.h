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
 * script_ctx_set_names() - where the session's lspci (and '@show') find
 * vendor, device and class names
 * @ctx: the session
 * @names: copied; the lookups it names must outlive the session. NULL (the
 *	default): no names, as lspci prints without a pci.ids file
 *	("Class 0200: Device 8086:10d3").
 */
void script_ctx_set_names(struct script_ctx *ctx,
			  const struct machine_show_names *names);

/**
 * script_ctx_reset() - a context as script_ctx_new() makes it, on @m
 * @ctx: the context; its variables, VMM memory and working directory go
 * @m: the machine its next lines run on
 *
 * For a caller that runs one line on each of many machines (the checker):
 * the context is reused instead of allocated per line.
 */
void script_ctx_reset(struct script_ctx *ctx, struct machine *m);

/**
 * script_ctx_keep_parsed() - parse each line once
 * @ctx: the context
 *
 * A line that names no variable ('$') is split into words and checked
 * the first time it runs, and its words kept by its text for the next
 * time, resets included (script_ctx_reset()): the checker runs the same
 * few hundred lines on every state. What a line does is the same either
 * way; globs and redirections are still resolved at each run. The kept
 * lines go with script_ctx_free().
 */
void script_ctx_keep_parsed(struct script_ctx *ctx);

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

/**
 * DOC: message sequence charts
 *
 * A script's run drawn as a message sequence chart (docs/pictures.md),
 * from each line's own result and the machine's state after it: lanes for
 * the shell, each process a line names ('@as NAME'), the kernel and each
 * IOMMU group whose ownership changed; an arrow per line, labelled with the
 * line and its result; an arrow per group change, labelled with the new
 * state; a mark where an invariant first broke. 'dmaown run --svg' and
 * 'dmaown check --svg' draw it.
 */
struct msc;

/**
 * script_msc_new() - start a chart of a run on @m, which is in its state
 * before the first line
 * @title: the chart's title (may hold newlines)
 *
 * Return: the chart, or NULL (no memory). Free with script_msc_free().
 */
struct msc *script_msc_new(struct machine *m, const char *title);

/**
 * script_msc_step() - add the line just run
 * @c: the chart
 * @m: the machine, in its state after the line
 * @lineno: the line's number in its file
 * @line: its text
 * @res: its result
 * @queued: the line is in an '@concurrent' block still open (or opens
 *	one): it has not run yet, and is drawn so (script_ctx_pending())
 * @violated: the invariants broken after it (check_invariant_name()), 0 none;
 *	only the first line with any is marked
 * @why: the violation in words
 *
 * Return: 0; -ENOMEM (the chart is then unusable).
 */
int script_msc_step(struct msc *c, struct machine *m, int lineno,
		    const char *line, const struct script_result *res,
		    bool queued, unsigned int violated, const char *why);

/**
 * script_msc_dot() - the chart as Graphviz DOT text, time running down
 *
 * Deterministic: the same run gives the same bytes.
 *
 * Return: a string the caller frees, or NULL (no memory).
 */
char *script_msc_dot(struct msc *c);

/** script_msc_free() - free a chart; NULL is accepted. */
void script_msc_free(struct msc *c);

#ifdef __cplusplus
}
#endif

#endif
