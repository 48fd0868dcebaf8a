// SPDX-License-Identifier: MIT
/*
 * The Debian kernels 'dmaown kernel' boots as oracles, pinned: the newest
 * package of each line changes over time, and a difference against the
 * model means something only with the kernel it was seen on. This table is
 * the one place the versions are written; scripts/test-kernel reads them
 * through 'dmaown kernel versions'.
 */
#include <stddef.h>
#include <string.h>

#include "kernel/kernel.h"

static const struct kernel_pin pins[] = {
	/*
	 * 6.12.117: the source the model's WARN lines were read from
	 * (src/compat/warn-sites.c); has iommufd and the vfio cdev.
	 */
	{ "6.12", "linux-image-6.12.117+deb12-amd64-unsigned",
	  "6.12.117-1~deb12u1", "6.12.117+deb12-amd64", "amd64" },
	/* 6.1.192: bookworm's own line; before iommufd (6.2) and cdev (6.6) */
	{ "6.1", "linux-image-6.1.0-57-amd64-unsigned", "6.1.192-3",
	  "6.1.0-57-amd64", "amd64" },
	/* the same two lines built for arm64: the SMMUv3 twins' kernels */
	{ "6.12", "linux-image-6.12.117+deb12-arm64-unsigned",
	  "6.12.117-1~deb12u1", "6.12.117+deb12-arm64", "arm64" },
	{ "6.1", "linux-image-6.1.0-57-arm64-unsigned", "6.1.192-3",
	  "6.1.0-57-arm64", "arm64" },
};

size_t kernel_pin_count(void)
{
	return sizeof(pins) / sizeof(pins[0]);
}

const struct kernel_pin *kernel_pin_get(size_t i)
{
	return i < kernel_pin_count() ? &pins[i] : NULL;
}

const struct kernel_pin *kernel_pin_find(const char *line)
{
	for (size_t i = 0; i < kernel_pin_count(); i++)
		if (!strcmp(pins[i].line, line) || !strcmp(pins[i].release, line))
			return &pins[i];
	return NULL;
}

const struct kernel_pin *kernel_pin_for(const char *line, const char *arch)
{
	for (size_t i = 0; i < kernel_pin_count(); i++)
		if ((!strcmp(pins[i].line, line) ||
		     !strcmp(pins[i].release, line)) &&
		    !strcmp(pins[i].arch, arch))
			return &pins[i];
	return NULL;
}
