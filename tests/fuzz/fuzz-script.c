// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the script language (script_exec_line()).
 *
 * The first byte picks a built-in machine (and whether the vfio and stub
 * drivers are loaded too); the rest is a script, one line per '\n' (a NUL
 * byte ends a line as well). After every line:
 *
 * - a line the language refuses (-EINVAL) carries "FILE:LINE: " and left
 *   the machine exactly as it was;
 * - on x86 machines, a line that is one failing system call (a write of
 *   what echo or printf print, one @vfio or @iommufd verb) left the machine
 *   as it was, unless a probe fault was planted (its count goes down);
 *   "as it was" is fuzz_ownership_text(): a refused claim may leave the
 *   group's blocking domain allocated, as in the kernel;
 * - the isolation invariants I1-I4 hold (INV_FAILED_NOOP is the checker's
 *   business: a script line may partly fail and partly succeed).
 *
 * At the end: a clone of the machine serializes as the machine does, the
 * three show formats can be made, and I6 holds: tearing everything down
 * frees every group and domain.
 *
 * Checking stops for good once the script plants a mutant (machine_faults(),
 * "@fault v7-order on" and the checker's mutants), which exist precisely to
 * break the invariants; "@fault probe", "@fault attach" and "@fault
 * fail-nth" stay in: they are failures the kernel meets, and its error
 * paths must keep the invariants.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "fuzz.h"

#define FUZZ_SCRIPT_LINES_MAX 64

/* The word at @p ends at a blank or the end of the line. */
static bool word_is(const char *p, const char *w)
{
	size_t n = strlen(w);

	return !strncmp(p, w, n) && (p[n] == ' ' || !p[n]);
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

static const char *skip_word(const char *p)
{
	while (*p && *p != ' ')
		p++;
	return skip_blanks(p);
}

/*
 * Is the line one system call that can fail: one write by a redirection
 * or a tee of one file, of what echo or printf print (they make no call
 * themselves), or one @vfio or @iommufd verb? Then a failure must leave
 * the machine as it was. Quotes, escapes, variables, globs and lists are
 * left out, which keeps the test simple and never wrong.
 */
static bool one_failable_call(const char *line)
{
	const char *p = skip_blanks(line), *bar, *gt;

	if (strpbrk(line, "'\"\\$*?[;&`\t") || strstr(line, "2>"))
		return false;
	if (word_is(p, "@vfio") || word_is(p, "@iommufd"))
		return !strchr(line, '|') && !strchr(line, '>');
	while (word_is(p, "sudo"))
		p = skip_word(p);
	if (!word_is(p, "echo") && !word_is(p, "printf"))
		return false;
	bar = strchr(p, '|');
	gt = strchr(p, '>');
	if (bar && !gt && !strchr(bar + 1, '|')) {
		p = skip_blanks(bar + 1);
		while (word_is(p, "sudo"))
			p = skip_word(p);
		if (!word_is(p, "tee"))
			return false;
		p = skip_word(p);
		if (word_is(p, "-a"))
			p = skip_word(p);
		return *p && *p != '-' && !*skip_word(p);
	}
	if (gt && !bar) {
		p = skip_blanks(gt + (gt[1] == '>' ? 2 : 1));
		return *p && *p != '>' && !*skip_word(p);
	}
	return false;
}

static void check_line(struct machine *m, const char *line, int lineno,
		       int ret, const struct script_result *res,
		       uint64_t hash_before, const char *text_before)
{
	char prefix[32], why[512];
	unsigned int bad;

	if (ret) {
		snprintf(prefix, sizeof(prefix), "fuzz.sh:%d: ", lineno);
		if (ret != -EINVAL)
			fuzz_fail("line %d: script_exec_line() gave %d", lineno,
				  ret);
		if (!res->err || strncmp(res->err, prefix, strlen(prefix)) ||
		    res->status != 2)
			fuzz_fail("line %d refused without its message: '%s'",
				  lineno, res->err ? res->err : "(null)");
		if (machine_state_hash(m) != hash_before)
			fuzz_fail("line %d refused but changed the machine: %s",
				  lineno, line);
		return;
	}
	if (!res->out || !res->err)
		fuzz_fail("line %d: no output buffers", lineno);
	if (machine_faults(m))
		return;
	if (res->ret && text_before && machine_state_hash(m) != hash_before) {
		char *after = machine_serialize(m, NULL);
		char *a, *b;

		if (!after)
			fuzz_fail("out of memory");
		a = fuzz_ownership_text(after);
		b = fuzz_ownership_text(text_before);
		if (strcmp(a, b))
			fuzz_fail("line %d failed (%s) but changed the machine: %s\n--- before\n%s--- after\n%s",
				  lineno, errno_name(res->ret), line,
				  text_before, after);
		free(a);
		free(b);
		free(after);
	}
	bad = machine_check_invariants(m, INV_ISOLATION | INV_ACCOUNTING |
					  INV_DOMAINS | INV_NO_WARN,
				       why, sizeof(why));
	if (bad)
		fuzz_fail("after line %d '%s': %s: %s", lineno, line,
			  check_invariant_name(bad & -bad), why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script_ctx *ctx;
	struct machine *m;
	const struct machine_config *cfg;
	char *text, *p, *text_before, why[512];
	bool probe_faults = false;
	int lineno = 0;

	if (size < 1)
		return 0;
	m = fuzz_machine(data[0] & 0x7f, data[0] & 0x80);
	cfg = machine_get_config(m);
	ctx = script_ctx_new(m, "fuzz.sh");
	text = malloc(size);
	if (!ctx || !text)
		fuzz_fail("out of memory");
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (p = text; p <= text + size - 1; ) {
		char *eol = p;
		struct script_result res;
		uint64_t before;
		int ret;

		while (eol < text + size - 1 && *eol && *eol != '\n')
			eol++;
		*eol = '\0';
		if (++lineno > FUZZ_SCRIPT_LINES_MAX || machine_faults(m))
			break;
		before = machine_state_hash(m);
		probe_faults |= strstr(p, "@fault") && strstr(p, "probe");
		/*
		 * I5 where it is exact: on x86 (no first-probe group joins),
		 * with no probe fault planted (its count goes down as probes
		 * fail), for a line that is one call that can fail.
		 */
		text_before = NULL;
		if ((cfg->firmware == FW_X86 || !cfg->iommu_api) &&
		    !probe_faults && !machine_faults(m) &&
		    one_failable_call(p)) {
			text_before = machine_serialize(m, NULL);
			if (!text_before)
				fuzz_fail("out of memory");
		}
		ret = script_exec_line(ctx, p, lineno, &res);
		check_line(m, p, lineno, ret, &res, before, text_before);
		free(text_before);
		script_result_free(&res);
		p = eol + 1;
	}
	/* the checker's clones and the show formats, on the state reached */
	{
		struct machine *c = machine_clone(m);

		if (!c)
			fuzz_fail("machine_clone: out of memory");
		if (!machine_equal(m, c))
			fuzz_fail("a clone differs from its machine");
		machine_destroy(c);
		for (int fmt = SHOW_TEXT; fmt <= SHOW_DOT; fmt++)
			free(machine_show(m, fmt));
	}
	if (!machine_faults(m)) {
		unsigned int bad;

		/* an armed fault is not teardown's */
		machine_set_fail_nth(m, 0);
		bad = machine_check_invariants(m, INV_TEARDOWN, why,
					       sizeof(why));
		if (bad)
			fuzz_fail("%s: %s", check_invariant_name(bad), why);
	}
	script_ctx_free(ctx);
	machine_destroy(m);
	free(text);
	return 0;
}
