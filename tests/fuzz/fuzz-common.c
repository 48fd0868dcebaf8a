// SPDX-License-Identifier: MIT
/*
 * What the fuzz targets share: built-in machines booted once per process
 * and cloned for every input, and the way a target reports a violation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

#define FUZZ_MACHINES_MAX 32

/* Drivers a user would modprobe to take devices from their hosts. */
static const char *const extra_drivers[] = {
	"vfio-pci", "pci-stub", "vfio-platform", "vfio-amba", "vfio-fsl-mc",
};

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static struct machine *boot(size_t i, bool extra)
{
	const char *name = builtin_machine_name(i);
	struct topo_error err = { 0 };
	struct machine *m = builtin_machine_load(name, &err);

	if (!m)
		fuzz_fail("built-in machine '%s' does not boot: %s:%d:%d: %s",
			  name, err.file, err.line, err.col, err.msg);
	for (size_t k = 0; extra && k < sizeof(extra_drivers) /
					    sizeof(extra_drivers[0]); k++) {
		int ret = driver_load(m, extra_drivers[k]);

		if (ret && ret != -EEXIST)
			fuzz_fail("%s: modprobe %s: %s", name,
				  extra_drivers[k], errno_name(ret));
	}
	machine_log_clear(m); /* the boot log is not what the input did */
	return m;
}

struct machine *fuzz_machine(unsigned int i, bool extra)
{
	static struct machine *booted[FUZZ_MACHINES_MAX][2];
	size_t n = builtin_machine_count();
	struct machine *m;

	if (!n || n > FUZZ_MACHINES_MAX)
		fuzz_fail("%zu built-in machines", n);
	i %= n;
	if (!booted[i][extra])
		booted[i][extra] = boot(i, extra);
	m = machine_clone(booted[i][extra]);
	if (!m)
		fuzz_fail("machine_clone: out of memory");
	return m;
}
