// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the machine-file parser (topology_load_string()).
 *
 * The bytes are a machine file. Whatever they hold, the loader must either
 * refuse them with a well-formed error (a message, a line and a column) or
 * boot a machine on which the isolation invariants hold after boot (unless
 * the file plants a fault), which clones to an equal machine and is freed
 * without leaks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topo_error err;
	struct machine *m, *c;
	char why[512];
	unsigned int bad;
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&err, 0x5a, sizeof(err));
	m = topology_load_string("fuzz.machine", text, &err);
	free(text);
	if (!m) {
		if (!memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0])
			fuzz_fail("refused without a message");
		if (!memchr(err.file, '\0', sizeof(err.file)) ||
		    strcmp(err.file, "fuzz.machine"))
			fuzz_fail("error names the file '%.*s'",
				  (int)sizeof(err.file), err.file);
		if (err.line < 0 || err.col < 0 || (!err.line && err.col))
			fuzz_fail("error at %d:%d: %s", err.line, err.col,
				  err.msg);
		return 0;
	}
	if (!machine_faults(m)) {
		bad = machine_check_invariants(m, INV_ISOLATION |
						  INV_ACCOUNTING |
						  INV_DOMAINS | INV_NO_WARN,
					       why, sizeof(why));
		if (bad)
			fuzz_fail("after boot: %s: %s",
				  check_invariant_name(bad & -bad), why);
	}
	c = machine_clone(m);
	if (!c)
		fuzz_fail("machine_clone: out of memory");
	if (!machine_equal(m, c))
		fuzz_fail("a clone differs from its machine");
	machine_destroy(c);
	machine_destroy(m);
	return 0;
}
