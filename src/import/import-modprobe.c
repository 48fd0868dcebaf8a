// SPDX-License-Identifier: MIT
/*
 * The running kernel's release and its modprobe.d, from the machine's root
 * file system (live: /, or a snapshot's copy): what decides which driver
 * a module load gives a device at boot (softdeps, options, blacklists,
 * install commands). They become 'kernel-release' and 'modprobe.d'
 * statements (docs/topology.md); lines the model does not carry out
 * (alias, remove, install commands other than true and false) are left
 * out with a note; lines kmod itself rejects are errors naming the file
 * and line.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import/import.h"
#include "userspace/modprobe.h"

/* kmod 30's configuration directories, in its order of precedence */
const char *const imp_modprobe_dirs[] = {
	"etc/modprobe.d",
	"run/modprobe.d",
	"usr/local/lib/modprobe.d",
	"lib/modprobe.d",
	NULL,
};

/* conf_files_filter_out(): "*.conf" and "*.alias", not hidden */
bool imp_modprobe_file_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' &&
	       ((n > 5 && !strcmp(name + n - 5, ".conf")) ||
		(n > 6 && !strcmp(name + n - 6, ".alias")));
}

struct conf_file {
	char name[256];
	char path[4096];	/* below the root */
};

static int cmp_conf(const void *a, const void *b)
{
	return strcmp(((const struct conf_file *)a)->name,
		      ((const struct conf_file *)b)->name);
}

/*
 * The files kmod reads, in its order: by name across the directories, a
 * name in an earlier directory hiding the same name in a later one.
 */
static int list_files(const char *root, struct conf_file **ret,
		      size_t *ret_n)
{
	struct conf_file *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t d = 0; imp_modprobe_dirs[d]; d++) {
		char dir[4096];
		struct dirent *e;
		DIR *dp;

		snprintf(dir, sizeof(dir), "%s/%s", root, imp_modprobe_dirs[d]);
		dp = opendir(dir);
		if (!dp)
			continue;
		while ((e = readdir(dp))) {
			char full[8192];
			struct stat st;
			bool hidden = false;

			if (!imp_modprobe_file_name(e->d_name))
				continue;
			snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
			if (stat(full, &st) || !S_ISREG(st.st_mode))
				continue;
			for (size_t i = 0; i < n && !hidden; i++)
				hidden = !strcmp(v[i].name, e->d_name);
			if (hidden)
				continue;
			if (n == cap) {
				struct conf_file *g;

				cap = cap ? cap * 2 : 16;
				g = realloc(v, cap * sizeof(*v));
				if (!g) {
					closedir(dp);
					free(v);
					return -ENOMEM;
				}
				v = g;
			}
			snprintf(v[n].name, sizeof(v[n].name), "%s", e->d_name);
			snprintf(v[n].path, sizeof(v[n].path), "%s/%s",
				 imp_modprobe_dirs[d], e->d_name);
			n++;
		}
		closedir(dp);
	}
	if (n)	/* qsort() takes no NULL, even for nothing */
		qsort(v, n, sizeof(*v), cmp_conf);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int add_statement(struct imp_machine *im, const char *text)
{
	char **g = realloc(im->modprobe, (im->nmodprobe + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	im->modprobe = g;
	g[im->nmodprobe] = strdup(text);
	if (!g[im->nmodprobe])
		return -ENOMEM;
	im->nmodprobe++;
	return 0;
}

/* Words of @line split at blanks into @argv (at most @max). */
static int split(char *line, const char **argv, int max)
{
	char *save = NULL;
	int argc = 0;

	for (char *w = strtok_r(line, " \t", &save); w && argc < max;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	return argc;
}

/* One file: its lines, joined where a line ends in '\' (getline_wrapped()) */
static int read_conf(struct imp_machine *im, struct modprobe_conf *conf,
		     const char *root, const struct conf_file *cf,
		     unsigned int *left_out, struct imp_error *err)
{
	char full[8192], *line = NULL, *joined = NULL;
	size_t cap = 0, jlen = 0;
	int lineno = 0, start = 0, ret = 0;
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, cf->path);
	f = fopen(full, "r");
	if (!f)
		return imp_error(err, "%s: %s", full, strerror(errno));
	while (!ret && getline(&line, &cap, f) >= 0) {
		size_t n = strcspn(line, "\n");
		bool more = n && line[n - 1] == '\\';
		const char *argv[512];
		char msg[256], stmt[8192];
		int argc, word = 0, r;
		char *g;

		lineno++;
		if (!jlen)
			start = lineno;
		line[n - (more ? 1 : 0)] = '\0';
		g = realloc(joined, jlen + strlen(line) + 1);
		if (!g) {
			ret = imp_error(err, "%s: out of memory", full);
			break;
		}
		joined = g;
		strcpy(joined + jlen, line);
		jlen += strlen(line);
		if (more)
			continue;
		jlen = 0;
		if (joined[0] == '#' || !joined[strspn(joined, " \t\r")])
			continue;
		if (strchr(joined, '\r'))
			*strchr(joined, '\r') = '\0';
		argc = split(joined, argv, 512);
		r = modprobe_conf_add(conf, argc, argv, msg, sizeof(msg), &word);
		if (r == -EOPNOTSUPP) {
			left_out[0]++;
			continue;
		}
		if (r == -ENOMEM) {
			ret = imp_error(err, "%s: out of memory", full);
			break;
		}
		if (r) {
			ret = imp_error(err, "%s:%d: %s", full, start, msg);
			break;
		}
		stmt[0] = '\0';
		for (int i = 0; i < argc; i++)
			snprintf(stmt + strlen(stmt), sizeof(stmt) - strlen(stmt),
				 "%s%s", i ? " " : "modprobe.d ", argv[i]);
		snprintf(stmt + strlen(stmt), sizeof(stmt) - strlen(stmt),
			 "  # /%s:%d", cf->path, start);
		if (add_statement(im, stmt))
			ret = imp_error(err, "%s: out of memory", full);
	}
	free(line);
	free(joined);
	fclose(f);
	return ret;
}

int imp_read_root(struct imp_machine *im, const char *root,
		  struct imp_error *err)
{
	struct modprobe_conf *conf = modprobe_conf_new();
	struct conf_file *files = NULL;
	unsigned int left_out = 0;
	char path[4096];
	size_t n = 0;
	int ret;
	FILE *f;

	if (!conf)
		return imp_error(err, "%s: out of memory", root);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
	f = fopen(path, "r");
	if (f) {
		char buf[128] = "";

		unsigned int major, minor;

		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			/* what the machine file's kernel-release takes */
			if (strlen(buf) < sizeof(im->kernel_release) &&
			    buf[0] >= '0' && buf[0] <= '9' &&
			    sscanf(buf, "%u.%u", &major, &minor) == 2 &&
			    !strpbrk(buf, " \t#"))
				snprintf(im->kernel_release,
					 sizeof(im->kernel_release), "%s", buf);
			else
				imp_note(im, "%s: '%s' is not a kernel release like 6.1.0-18-amd64: left out",
					 path, buf);
		}
		fclose(f);
	}
	ret = list_files(root, &files, &n);
	if (ret)
		ret = imp_error(err, "%s: out of memory", root);
	for (size_t i = 0; !ret && i < n; i++)
		ret = read_conf(im, conf, root, &files[i], &left_out, err);
	if (!ret && left_out)
		imp_note(im, "modprobe.d: %u line%s the model does not carry out (alias, remove, install commands but /bin/true and /bin/false) left out",
			 left_out, left_out == 1 ? "" : "s");
	free(files);
	modprobe_conf_put(conf);
	return ret;
}
