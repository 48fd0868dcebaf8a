// SPDX-License-Identifier: MIT
/*
 * A plain main() for the fuzz targets: runs LLVMFuzzerTestOneInput() once
 * on every file named on the command line (a directory: on every file in
 * it, in name order), printing TAP. A violation aborts, as it does under
 * the fuzzer, so a regression input fails its test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define FUZZ_INPUT_MAX (8u << 20)

static int ntests;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len;

	if (!f) {
		printf("not ok %d - %s: %s\n", ++ntests, path, strerror(errno));
		return 1;
	}
	buf = malloc(FUZZ_INPUT_MAX);
	if (!buf) {
		fclose(f);
		printf("not ok %d - %s: out of memory\n", ++ntests, path);
		return 1;
	}
	len = fread(buf, 1, FUZZ_INPUT_MAX, f);
	fclose(f);
	fprintf(stderr, "# %s (%zu bytes)\n", path, len);
	/* a copy of exactly @len bytes, so ASan sees reads past the input */
	{
		uint8_t *in = malloc(len ? len : 1);

		if (!in) {
			free(buf);
			printf("not ok %d - %s: out of memory\n", ++ntests,
			       path);
			return 1;
		}
		memcpy(in, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	printf("ok %d - %s\n", ++ntests, path);
	fflush(stdout);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;

	if (!d) {
		printf("not ok %d - %s: %s\n", ++ntests, dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? 2 * cap : 64;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (!stat(names[i], &st) && S_ISREG(st.st_mode))
			bad |= run_file(names[i]);
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (!stat(argv[i], &st) && S_ISDIR(st.st_mode))
			bad |= run_dir(argv[i]);
		else
			bad |= run_file(argv[i]);
	}
	printf("1..%d\n", ntests);
	return bad;
}
