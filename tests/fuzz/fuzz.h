/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets: the libFuzzer entry point and the helpers the
 * targets have in common. Each target is built twice: with -fsanitize=fuzzer
 * (the fuzzer, 'fuzz' option) and with fuzz-main.c as a plain program that
 * feeds it the files named on its command line (the regression inputs).
 */
#ifndef DMAOWN_FUZZ_H
#define DMAOWN_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaown/dmaown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_machine() - a fresh copy of built-in machine @i (modulo the count),
 * cloned from a machine booted once per process; with @extra, the vfio
 * and stub drivers the machine does not load at boot are loaded too.
 * Aborts when the built-in machine does not boot.
 */
struct machine *fuzz_machine(unsigned int i, bool extra);

/*
 * fuzz_ownership_text() - machine_serialize() text without what a failed
 * claim may leave behind in the kernel too: the group's blocking domain,
 * allocated on first use and kept until the group goes
 * (__iommu_take_dma_ownership() allocates it before attaching it, and an
 * attach refused for a device with direct mappings leaves it). Fields
 * "blk=" go, domain numbers (#N, which follow first mention) read "#",
 * domain lines with no user go, and the lines are sorted. The caller
 * frees the result.
 */
char *fuzz_ownership_text(const char *serialized);

/* fuzz_fail() - report a violation on stderr and abort() for the fuzzer. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						    noreturn));

#endif
