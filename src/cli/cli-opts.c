// SPDX-License-Identifier: MIT
/*
 * Option values, bad options and renamed flags, the same way in every
 * subcommand: one line on stderr that names the value and what would have
 * been accepted, then exit status 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dmaown/topology.h"

int cli_parse_ulong(const char *cmd, const char *opt, const char *arg,
		    unsigned long min, unsigned long max,
		    unsigned long *ret_val)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ') {
		fprintf(stderr, "%s: %s: '%s' is not a number\n", cmd, opt, arg);
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		fprintf(stderr, "%s: %s: %s is out of range (%lu to %lu)\n", cmd,
			opt, arg, min, max);
		return -ERANGE;
	}
	*ret_val = v;
	return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *arg, int min,
		  int max, int *ret_val)
{
	unsigned long v;
	int ret = cli_parse_ulong(cmd, opt, arg, (unsigned long)min,
				  (unsigned long)max, &v);

	if (!ret)
		*ret_val = (int)v;
	return ret;
}

/* "v7-order, no-probe-cleanup, ..." */
static void list_faults(FILE *out)
{
	for (unsigned int f = 1, first = 1; machine_fault_name(f); f <<= 1) {
		fprintf(out, "%s%s", first ? "" : ", ", machine_fault_name(f));
		first = 0;
	}
}

int cli_parse_fault(const char *cmd, const char *arg, unsigned int *faults)
{
	unsigned int f = machine_fault_from_name(arg);

	if (!f) {
		fprintf(stderr, "%s: unknown fault '%s' (known: ", cmd, arg);
		list_faults(stderr);
		fprintf(stderr, ")\n");
		return -EINVAL;
	}
	*faults |= f;
	return 0;
}

void cli_list_machines(FILE *out)
{
	for (size_t i = 0; i < builtin_machine_count(); i++)
		fprintf(out, "%s%s", i ? ", " : "", builtin_machine_name(i));
}

int cli_bad_option(const char *cmd, int c, int optopt_c, const char *word)
{
	if (c == ':') {
		if (word && word[0] == '-' && word[1] == '-')
			fprintf(stderr, "%s: %s needs a value\n", cmd, word);
		else
			fprintf(stderr, "%s: -%c needs a value\n", cmd, optopt_c);
	} else if (optopt_c && !(word && word[0] == '-' && word[1] == '-')) {
		fprintf(stderr, "%s: unknown option '-%c' (see '%s --help')\n",
			cmd, optopt_c, cmd);
	} else {
		fprintf(stderr, "%s: unknown option '%s' (see '%s --help')\n",
			cmd, word ? word : "?", cmd);
	}
	return 2;
}

/*
 * Flags renamed since they were first documented. The old spelling keeps
 * working, so command lines pasted into bug reports stay runnable, with one
 * line saying what to write instead.
 */
static const struct {
	const char *cmd, *old, *now, *since;
} renamed[] = {
	/* dmaown check's -j and --jobs have a new meaning: cmd-check.c */
	{ NULL, NULL, NULL, NULL },
};

void cli_deprecated(const char *cmd, const char *old)
{
	for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (renamed[i].cmd && !strcmp(renamed[i].cmd, cmd) &&
		    !strcmp(renamed[i].old, old))
			fprintf(stderr,
				"%s: '%s' is deprecated since %s: use '%s' (same meaning)\n",
				cmd, old, renamed[i].since, renamed[i].now);
}
