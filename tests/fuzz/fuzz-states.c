// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the states file reader (check_states_merge(),
 * docs/states-file.md).
 *
 * The bytes are a states file, merged alone. Whatever they hold, the merge
 * must either refuse them with a message that starts with the file's name,
 * or give a result that holds together: at least the boot state, no more
 * states than records, a diameter within the bound, a complete run one
 * level deeper than its diameter. The checksum would keep most changes
 * away from the records, so each input is merged twice: as it is, and
 * with its last line rewritten to the checksum of what lies between the
 * 'states' line and it, which lets the records' own checks be reached.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmaown/check.h"
#include "fuzz.h"

#define END_LINE 37 /* "end " + 32 hex digits + newline */
#define RECORD 20

static void merge_one(const uint8_t *data, size_t size)
{
	struct check_merged m;
	char path[64], err[1024];
	const char *files[1] = { path };
	size_t records = 0;
	const uint8_t *st;
	int fd, ret;

	fd = memfd_create("fuzz-states", 0);
	if (fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	if (size && write(fd, data, size) != (ssize_t)size)
		fuzz_fail("write: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(err, 0x5a, sizeof(err));
	ret = check_states_merge(files, 1, &m, err, sizeof(err));
	close(fd);
	if (ret) {
		if (ret != -EINVAL && ret != -ENOMEM)
			fuzz_fail("refused with %d", ret);
		if (!memchr(err, '\0', sizeof(err)) ||
		    strncmp(err, path, strlen(path)) ||
		    (err[strlen(path)] != ':'))
			fuzz_fail("the error does not name the file: '%.200s'",
				  err);
		return;
	}
	st = memmem(data, size, "\nstates ", 8);
	if (st)
		records = (size_t)(data + size - st) / RECORD;
	if (!m.spec || m.st.states < 1 || m.st.states > records + 1)
		fuzz_fail("%lu states from %zu records", m.st.states, records);
	if (m.st.diameter < 0 ||
	    (m.o.depth >= 0 && m.st.diameter > m.o.depth))
		fuzz_fail("diameter %d, bound %d", m.st.diameter, m.o.depth);
	if (m.st.complete && m.st.depth != m.st.diameter + 1)
		fuzz_fail("complete at depth %d, diameter %d", m.st.depth,
			  m.st.diameter);
	if (m.st.violated && m.st.trace_len < m.st.path_len)
		fuzz_fail("a trace of %d lines for a path of %d",
			  m.st.trace_len, m.st.path_len);
	check_merged_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *st, *body;
	uint8_t *fixed;
	uint64_t sum[2];
	char end[END_LINE + 1];

	merge_one(data, size);
	st = memmem(data, size, "\nstates ", 8);
	body = st ? memchr(st + 1, '\n', size - (size_t)(st + 1 - data)) : NULL;
	if (!body || (size_t)(data + size - (body + 1)) < END_LINE)
		return 0;
	body++;
	fixed = malloc(size);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	machine_state_hash128((const char *)body,
			      (size_t)(data + size - body) - END_LINE, sum);
	snprintf(end, sizeof(end), "end %016" PRIx64 "%016" PRIx64 "\n",
		 sum[0], sum[1]);
	memcpy(fixed + size - END_LINE, end, END_LINE);
	merge_one(fixed, size);
	free(fixed);
	return 0;
}
