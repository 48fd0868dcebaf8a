// SPDX-License-Identifier: MIT
/*
 * What the fuzz targets share: built-in machines booted once per process
 * and cloned for every input, and the way a target reports a violation.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fuzz_ownership_text(const char *serialized)
{
	size_t len = strlen(serialized), n = 0, off = 0;
	char *copy = strdup(serialized), *out = malloc(len + 2);
	char **lines = calloc(len + 1, sizeof(*lines));
	char *save = NULL;

	if (!copy || !out || !lines)
		fuzz_fail("out of memory");
	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *o = l;

		for (char *p = l; *p; ) {
			if ((p == l || p[-1] == ' ') && !strncmp(p, "blk=", 4)) {
				p += strcspn(p, " ");
				p += *p == ' ';
				continue;
			}
			*o++ = *p;
			if (*p++ == '#')
				while (isdigit((unsigned char)*p))
					p++;
		}
		*o = '\0';
		if (!strncmp(l, "domain ", 7) && strstr(l, " users=0 "))
			continue;
		lines[n++] = l;
	}
	qsort(lines, n, sizeof(*lines), cmp_lines);
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(out + off, "%s\n", lines[i]);
	out[off] = '\0';
	free(lines);
	free(copy);
	return out;
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
