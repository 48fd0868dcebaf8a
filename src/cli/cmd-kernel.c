// SPDX-License-Identifier: MIT
/*
 * dmaown kernel: the real kernel as the oracle (docs/oracle.md).
 *
 *   kernel versions              the pinned Debian kernels
 *   kernel twin MACHINE          the QEMU twin: BDF mapping, command line
 *   kernel run MACHINE SCRIPT..  the scripts on the pinned kernel in QEMU,
 *                                in one boot while the state allows,
 *                                printed as 'dmaown run --json' prints it
 *   kernel diff MACHINE SCRIPT.. both, compared line by line
 *   kernel diff-json MACHINE MODEL.jsonl... GUEST.jsonl
 *                                the comparison alone, on saved lines
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dmaown/topology.h"
#include "kernel/kernel.h"

struct kopts {
	const struct kernel_pin *pin;
	const char *kernel_dir; /* the unpacked package; default: the cache */
	int timeout;            /* seconds for one boot */
	const char *keep;       /* keep the boot's files here */
	bool show;
};

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	for (;;) {
		char *nb = realloc(buf, len + 65537);
		size_t n;

		if (!nb) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = nb;
		n = fread(buf + len, 1, 65536, f);
		len += n;
		if (!n)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/*
 * The script as the guest runs it: lines with no real-kernel form become
 * comments (so line numbers stay), each named on @why_out. With @strict,
 * the first such line is an error. A '# dmaown:' header (faults, the
 * checker) has no real-kernel form either.
 */
static char *guest_script(const char *path, const char *text, bool strict,
			  FILE *why_out, int *ret_refused)
{
	size_t len = strlen(text);
	char *out = malloc(len * 2 + 2), *o = out;
	const char *p = text;
	int lineno = 0;

	*ret_refused = 0;
	if (!out)
		return NULL;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
		char line[4096];
		const char *verb;

		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)(l < sizeof(line) ? l : sizeof(line) - 1), p);
		line[strcspn(line, "\n")] = '\0';
		verb = kernel_line_refused(line);
		if (!verb && strstr(line, "# dmaown:") == line + strspn(line, " \t"))
			verb = "# dmaown:";
		if (verb) {
			(*ret_refused)++;
			if (why_out)
				fprintf(why_out,
					"dmaown kernel: %s:%d: '%s' has no real-kernel form%s\n",
					path, lineno, verb,
					strict ? "" : ": left out on both sides");
			if (strict) {
				free(out);
				return NULL;
			}
			o += sprintf(o, "#-%s\n", line);
		} else {
			memcpy(o, line, strlen(line));
			o += strlen(line);
			*o++ = '\n';
		}
		p += l;
	}
	*o = '\0';
	return out;
}

/* The machine file's text, from a file or a built-in name. */
static char *machine_text(const char *spec)
{
	const char *builtin;

	if (strchr(spec, '/') || strstr(spec, ".machine"))
		return read_all(spec);
	builtin = builtin_machine_text(spec);
	return builtin ? strdup(builtin) : NULL;
}

/* The model accepts the machine (its errors as 'dmaown run' gives them),
 * then the twin is built. */
static int load_twin(const char *spec, struct twin *t)
{
	struct machine *m = cli_load_machine(spec, 0);
	char why[512], *text;
	int ret;

	if (!m)
		return 2;
	machine_destroy(m);
	text = machine_text(spec);
	if (!text) {
		fprintf(stderr, "dmaown kernel: cannot read '%s'\n", spec);
		return 2;
	}
	ret = twin_build(spec, text, t, why, sizeof(why));
	free(text);
	if (ret) {
		fprintf(stderr, "dmaown kernel: no QEMU twin: %s\n", why);
		return 2;
	}
	return 0;
}

static void kernel_cache_dir(char *buf, size_t len)
{
	const char *env = getenv("DMAOWN_KERNELS"), *xdg = getenv("XDG_CACHE_HOME");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/dmaown/kernels", xdg);
	else
		snprintf(buf, len, "%s/.cache/dmaown/kernels",
			 getenv("HOME") ? getenv("HOME") : "/root");
}

/*
 * The helper beside this executable, or $DMAOWN_GUEST; for an arm64
 * twin the cross-built dmaown-guest-arm64, or $DMAOWN_GUEST_ARM64.
 */
static void guest_helper(const struct twin *t, char *buf, size_t len)
{
	bool arm64 = t->arch != TWIN_X86;
	const char *name = arm64 ? "dmaown-guest-arm64" : "dmaown-guest";
	const char *env = getenv(arm64 ? "DMAOWN_GUEST_ARM64" : "DMAOWN_GUEST");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (strrchr(self, '/'))
		*strrchr(self, '/') = '\0';
	snprintf(buf, len, "%s/%s", self, name);
	if (access(buf, X_OK))
		snprintf(buf, len, "%s/../libexec/dmaown/%s", self, name);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Boots the twin with @script (@nscen scenarios, each allowed the
 * --timeout) and leaves the guest's lines in *ret_lines.
 * Returns 0, or 2 after a message.
 */
static int boot(const struct twin *t, const struct kopts *ko,
		const char *script, int nscen, char **ret_lines,
		double *ret_secs)
{
	char dir[PATH_MAX], kdir[PATH_MAX], moddir[PATH_MAX + 64];
	char vmlinuz[PATH_MAX + 64], initrd[PATH_MAX + 32], console[PATH_MAX + 32];
	char results[PATH_MAX + 32], helper[PATH_MAX], why[1024];
	char qemu_log[PATH_MAX + 32];
	char **argv;
	double start = now_s();
	int status = 0, ret = 2;
	pid_t pid;

	if (ko->kernel_dir) {
		snprintf(kdir, sizeof(kdir), "%s", ko->kernel_dir);
	} else {
		char cache[PATH_MAX - 128];

		kernel_cache_dir(cache, sizeof(cache));
		snprintf(kdir, sizeof(kdir), "%s/%s", cache, ko->pin->release);
	}
	snprintf(vmlinuz, sizeof(vmlinuz), "%s/boot/vmlinuz-%s", kdir,
		 ko->pin->release);
	snprintf(moddir, sizeof(moddir), "%s/lib/modules/%s", kdir,
		 ko->pin->release);
	if (access(vmlinuz, R_OK)) {
		fprintf(stderr,
			"dmaown kernel: no kernel at %s: fetch the pinned %s (%s %s) with 'scripts/test-kernel fetch'\n",
			vmlinuz, ko->pin->line, ko->pin->package, ko->pin->version);
		return 2;
	}
	if (t->arch == TWIN_X86 ?
		    system("command -v qemu-system-x86_64 >/dev/null 2>&1") :
		    system("command -v qemu-system-aarch64 >/dev/null 2>&1")) {
		fprintf(stderr,
			"dmaown kernel: %s is missing (Debian package %s; scripts/test-kernel fetch installs it)\n",
			t->arch == TWIN_X86 ? "qemu-system-x86_64" : "qemu-system-aarch64",
			t->arch == TWIN_X86 ? "qemu-system-x86" : "qemu-system-arm");
		return 2;
	}
	if (ko->keep) {
		snprintf(dir, sizeof(dir), "%s", ko->keep);
		mkdir(dir, 0755);
	} else {
		snprintf(dir, sizeof(dir), "%s/dmaown-kernel.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "dmaown kernel: mkdtemp: %s\n", strerror(errno));
			return 2;
		}
	}
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", dir);
	snprintf(console, sizeof(console), "%s/console.log", dir);
	snprintf(results, sizeof(results), "%s/results.jsonl", dir);
	snprintf(qemu_log, sizeof(qemu_log), "%s/qemu.log", dir);
	guest_helper(t, helper, sizeof(helper));
	if (access(helper, R_OK)) {
		fprintf(stderr, "dmaown kernel: no guest helper at %s%s\n", helper,
			t->arch == TWIN_X86 ? "" :
			" (built when gcc-aarch64-linux-gnu and libc6-dev-arm64-cross are installed)");
		goto out;
	}
	/* the helper needs no busybox; the host's is x86's */
	if (initramfs_write(initrd, t, helper,
			    t->arch == TWIN_X86 ? "/bin/busybox" : NULL, moddir,
			    ko->pin->release, script, why, sizeof(why))) {
		fprintf(stderr, "dmaown kernel: initramfs: %s\n", why);
		goto out;
	}
	argv = twin_qemu_argv(t, vmlinuz, initrd, console, results);
	if (!argv)
		goto out;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", 0);
		/* QEMU's warnings ("nic ... has no peer") go beside the console */
		int log = open(qemu_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* QEMU goes with us: a killed diff leaves no guest running */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(log >= 0 ? log : devnull, 1);
		dup2(log >= 0 ? log : devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	twin_argv_free(argv);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (now_s() - start > (double)ko->timeout * nscen) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr,
				"dmaown kernel: the guest did not power off within %d s (console: %s)\n",
				ko->timeout * nscen, console);
			goto out;
		}
		usleep(100000);
	}
	*ret_secs = now_s() - start;
	if (t->arch != TWIN_X86 && twin_split_console(console, results))
		fprintf(stderr, "dmaown kernel: %s: %s\n", console, strerror(errno));
	*ret_lines = read_all(results);
	if (!*ret_lines || !strstr(*ret_lines, "{\"done\":true}")) {
		fprintf(stderr, "dmaown kernel: the guest ended early (QEMU status %d; console: %s, QEMU's messages: %s)\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, console,
			qemu_log);
		free(*ret_lines);
		*ret_lines = NULL;
		goto out;
	}
	ret = 0;
out:
	if (!ko->keep && ret == 0) {
		unlink(initrd);
		unlink(console);
		unlink(results);
		unlink(qemu_log);
		rmdir(dir);
	}
	return ret;
}

/* The guest's lines as 'run --json' lines: BDFs back to the machine's. */
static void print_guest_lines(FILE *out, const struct twin *t,
			      const char *lines, bool show)
{
	const char *p = lines;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, l);

		p = nl ? nl + 1 : p + l;
		if (!line)
			break;
		line[strcspn(line, "\r")] = '\0';
		if (!strncmp(line, "{\"version\":1,\"line\"", 19) ||
		    (show && strstr(line, "\"state\":\"end\""))) {
			/* guest BDFs are the twin's: name them as the machine does */
			for (size_t i = 0; i < t->ndev; i++) {
				const struct twin_device *d = &t->dev[i];
				char *hit;

				if (!strcmp(d->bdf, d->qemu_bdf))
					continue;
				while ((hit = strstr(line, d->qemu_bdf)) &&
				       strlen(d->bdf) == strlen(d->qemu_bdf))
					memcpy(hit, d->bdf, strlen(d->bdf));
			}
			fprintf(out, "%s\n", line);
		}
		free(line);
	}
}

/* The guest's lines, BDFs named as the machine names them. */
static char *guest_lines_text(const struct twin *t, const char *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	print_guest_lines(f, t, lines, true);
	fclose(f);
	return buf;
}

/*
 * Batches (docs/oracle.md): several scenarios in one boot. The guest
 * script is the scenarios one after another, each after the separator
 * line; the guest prints {"scenario":N} before scenario N's lines and
 * {"scenario_done":N,"clean":B[,"dirty":WHY]} after its end state, and
 * stops the batch after a scenario that left the state unlike boot's.
 */
#define BATCH_SEP "# dmaown-guest: scenario\n"

struct batch_part {
	char *lines;     /* the guest's lines of this scenario, as it printed them */
	bool clean;      /* the state was boot's again after it */
	char dirty[512]; /* else how it differed */
};

/* A JSON string's value after @key in @line (no escapes needed here). */
static void json_field(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = strstr(line, key);
	size_t n = 0;

	buf[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	while (p[n] && p[n] != '"' && n + 1 < len)
		n += p[n] == '\\' && p[n + 1] ? 2 : 1;
	snprintf(buf, len, "%.*s", (int)n, p);
}

/*
 * Splits a batch's guest output into @parts (at most @n). Returns how
 * many scenarios ran to their end; the guest's boot state and closing
 * lines belong to none.
 */
static int batch_split(const char *lines, int n, struct batch_part *parts)
{
	const char *p = lines;
	int cur = -1, done = 0;
	FILE *f = NULL;
	size_t len;

	memset(parts, 0, (size_t)n * sizeof(*parts));
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
		int k;

		if (sscanf(p, "{\"scenario\":%d}", &k) == 1) {
			if (f)
				fclose(f);
			f = NULL;
			cur = k - 1;
			if (cur >= 0 && cur < n) {
				free(parts[cur].lines);
				f = open_memstream(&parts[cur].lines, &len);
			}
		} else if (sscanf(p, "{\"scenario_done\":%d", &k) == 1) {
			if (f)
				fclose(f);
			f = NULL;
			if (k - 1 == cur && cur >= 0 && cur < n && cur == done) {
				const char *c = strstr(p, "\"clean\":");

				parts[cur].clean = c && !strncmp(c + 8, "true", 4);
				json_field(p, "\"dirty\":\"", parts[cur].dirty,
					   sizeof(parts[cur].dirty));
				done++;
			}
			cur = -1;
		} else if (f) {
			fwrite(p, 1, l, f);
		}
		p += l;
	}
	if (f)
		fclose(f);
	return done;
}

static void batch_free(struct batch_part *parts, int n)
{
	for (int i = 0; i < n; i++)
		free(parts[i].lines);
}

/* Called with each scenario's guest lines, BDFs named as the machine's. */
typedef void (*scenario_fn)(void *ctx, int i, const char *kernel_lines);

/*
 * Runs @scripts[0..n) in as few boots as the state allows: one, unless a
 * scenario leaves the state unlike boot's, after which the rest go to a
 * fresh boot. Returns 0, or 2 after a message.
 */
static int run_batches(const struct twin *t, const struct kopts *ko,
		       char **scripts, const char *const *names, int n,
		       scenario_fn fn, void *ctx, FILE *notes)
{
	int next = 0, boots = 0;

	while (next < n) {
		struct batch_part *parts = calloc((size_t)(n - next), sizeof(*parts));
		char *batch = NULL, *lines = NULL;
		size_t blen = 0;
		double secs = 0;
		FILE *b = open_memstream(&batch, &blen);
		bool stopped_dirty;
		int done, ret;

		if (!parts || !b) {
			free(parts);
			if (b)
				fclose(b);
			free(batch);
			return 2;
		}
		for (int i = next; i < n; i++)
			fprintf(b, "%s%s", BATCH_SEP, scripts[i]);
		fclose(b);
		ret = boot(t, ko, batch, n - next, &lines, &secs);
		free(batch);
		if (ret) {
			free(parts);
			return 2;
		}
		boots++;
		done = batch_split(lines, n - next, parts);
		fprintf(notes, "boot %d: %d scenario%s in %.1f s\n", boots, done,
			done == 1 ? "" : "s", secs);
		for (int i = 0; i < done; i++) {
			char *mapped = guest_lines_text(t, parts[i].lines);

			fn(ctx, next + i, mapped ? mapped : "");
			free(mapped);
			if (!parts[i].clean)
				fprintf(notes, "the state after %s was not boot's (%s)%s\n",
					names[next + i], parts[i].dirty,
					next + i + 1 < n ? ": the rest go to a fresh boot" : "");
		}
		stopped_dirty = done > 0 && !parts[done - 1].clean;
		batch_free(parts, n - next);
		free(parts);
		free(lines);
		if (done == 0 || (next + done < n && !stopped_dirty)) {
			fprintf(stderr, "dmaown kernel: the guest stopped the batch after %d of %d scenarios with no reason given\n",
				next + done, n);
			return 2;
		}
		next += done;
	}
	return 0;
}

static void kernel_usage(FILE *out)
{
	fputs("usage: dmaown kernel versions\n"
	      "       dmaown kernel twin MACHINE\n"
	      "       dmaown kernel run [options] MACHINE SCRIPT...\n"
	      "       dmaown kernel diff [options] MACHINE SCRIPT...\n"
	      "       dmaown kernel diff-json MACHINE MODEL.jsonl... GUEST.jsonl\n"
	      "\n"
	      "Run scripts on a real Linux kernel under QEMU (TCG, an emulated\n"
	      "VT-d, or SMMUv3 on arm64), on the QEMU twin of a machine file,\n"
	      "and compare with the model (docs/oracle.md). Several scripts share\n"
	      "one boot while each leaves the state as at boot; the rest go to a\n"
	      "fresh boot.\n"
	      "\n"
	      "Options:\n"
	      "  -k, --kernel V      the pinned kernel: 6.12 (default) or 6.1; diff\n"
	      "                      runs the model with 'run --kernel V'\n"
	      "      --kernel-dir D  an unpacked kernel package instead of the cache\n"
	      "                      ($DMAOWN_KERNELS, else ~/.cache/dmaown/kernels)\n"
	      "      --timeout S     seconds a boot may take for each scenario\n"
	      "                      in it (default 600)\n"
	      "      --keep DIR      keep the initramfs, console log and results\n"
	      "      --show          run: the final state after the lines\n"
	      "  -h, --help          this text\n"
	      "\n"
	      "Exit status: run: 0 the guest ran the script, 1 a WARN fired in it;\n"
	      "diff: 0 nothing differs that is not explained, 1 a difference;\n"
	      "2 bad usage, a machine with no QEMU twin, a script line with no\n"
	      "real-kernel form (run), or a boot that failed.\n",
	      out);
}

static int parse_kopts(int argc, char **argv, struct kopts *ko)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "kernel-dir", required_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 't' },
		{ "keep", required_argument, NULL, 'p' },
		{ "show", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	ko->pin = kernel_pin_find("6.12");
	ko->timeout = 600;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			ko->pin = kernel_pin_find(optarg);
			if (!ko->pin) {
				fprintf(stderr, "dmaown kernel: --kernel %s: pinned are 6.12 and 6.1\n",
					optarg);
				return 2;
			}
			break;
		case 'K':
			ko->kernel_dir = optarg;
			break;
		case 't':
			if (cli_parse_int("dmaown kernel", "--timeout", optarg, 10,
					  86400, &ko->timeout))
				return 2;
			break;
		case 'p':
			ko->keep = optarg;
			break;
		case 's':
			ko->show = true;
			break;
		case 'h':
			kernel_usage(stdout);
			return 1;
		default:
			return cli_bad_option("dmaown kernel", c, optopt,
					      argv[optind - 1]);
		}
	}
	return 0;
}

struct run_ctx {
	const char *const *names;
	int n;
	bool show, warned;
};

static void run_one(void *ctx, int i, const char *kernel_lines)
{
	struct run_ctx *rc = ctx;

	if (rc->n > 1) {
		printf("{\"scenario\":\"");
		for (const char *c = rc->names[i]; *c; c++)
			printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
		printf("\"}\n");
	}
	/* the lines are mapped already: print them as run --json would */
	for (const char *p = kernel_lines; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (rc->show || strncmp(p, "{\"version\":1,\"state\"", 20))
			fwrite(p, 1, l, stdout);
		p += l;
	}
	if (strstr(kernel_lines, "\"warn\":[{"))
		rc->warned = true;
}

/* The scripts @paths as the guest runs them (NULL after a message). */
static char **guest_scripts(char *const *paths, int n, bool strict,
			    FILE *why_out, char **notes)
{
	char **scripts = calloc((size_t)n, sizeof(*scripts));

	for (int i = 0; scripts && i < n; i++) {
		char *text = read_all(paths[i]);
		size_t len = 0;
		FILE *w = notes ? open_memstream(&notes[i], &len) : why_out;
		int nref;

		if (!text) {
			fprintf(stderr, "dmaown: cannot open '%s': %s\n", paths[i],
				strerror(errno));
		} else {
			scripts[i] = guest_script(paths[i], text, strict, w, &nref);
			free(text);
		}
		if (notes && w)
			fclose(w);
		if (!scripts[i]) {
			for (int k = 0; k < i; k++)
				free(scripts[k]);
			free(scripts);
			return NULL;
		}
	}
	return scripts;
}

static void free_strings(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * What run and diff both take: options, the twin of MACHINE, and how many
 * SCRIPTs follow it. -1 to go on; else the exit status (0 after --help).
 */
static int kernel_args(int argc, char **argv, const char *verb,
		       struct kopts *ko, struct twin *t, int *n)
{
	int ret = parse_kopts(argc, argv, ko);
	const char *line;

	if (ret)
		return ret == 1 ? 0 : ret;
	*n = argc - optind - 1;
	if (*n < 1) {
		fprintf(stderr, "dmaown kernel %s: give MACHINE and SCRIPT... (see 'dmaown kernel --help')\n",
			verb);
		return 2;
	}
	if (load_twin(argv[optind], t))
		return 2;
	/* the same line, built for the twin's architecture */
	line = ko->pin->line;
	ko->pin = kernel_pin_for(line, twin_debian_arch(t));
	if (!ko->pin) {
		fprintf(stderr, "dmaown kernel %s: no pinned %s kernel for %s (src/kernel/pinned.c)\n",
			verb, line, twin_debian_arch(t));
		return 2;
	}
	return -1;
}

static int kernel_run(int argc, char **argv)
{
	struct kopts ko = { 0 };
	struct run_ctx rc = { 0 };
	struct twin t;
	char **scripts;
	double start = now_s();
	int ret, n = 0;	/* set by kernel_args(); -O3 cannot see it */

	ret = kernel_args(argc, argv, "run", &ko, &t, &n);
	if (ret >= 0)
		return ret;
	scripts = guest_scripts(argv + optind + 1, n, true, stderr, NULL);
	if (!scripts)
		return 2;
	fprintf(stderr, "dmaown kernel: %s on Linux %s (%s %s), QEMU twin:\n",
		t.name, ko.pin->release, ko.pin->package, ko.pin->version);
	twin_print_mapping(stderr, &t);
	rc.names = (const char *const *)argv + optind + 1;
	rc.n = n;
	rc.show = ko.show;
	ret = run_batches(&t, &ko, scripts, rc.names, n, run_one, &rc, stderr);
	free_strings(scripts, n);
	if (ret)
		return ret;
	fprintf(stderr, "dmaown kernel: boots and scripts took %.1f s\n",
		now_s() - start);
	return rc.warned ? 1 : 0;
}

/*
 * The model's lines for @script_path: 'dmaown run --json --show --kernel
 * @kernel -m MACHINE', this same executable, so the model's side is exactly what
 * users run.
 */
static char *model_lines(const char *machine, const char *script_path,
			 const char *kernel)
{
	char self[PATH_MAX], tmp[] = "/tmp/dmaown-model.XXXXXX";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd = mkstemp(tmp), status;
	char *out;
	pid_t pid;

	if (n <= 0 || fd < 0) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return NULL;
	}
	self[n] = '\0';
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		/* the model follows the oracle's version (--kernel) */
		execl(self, self, "run", "--json", "--show", "--kernel", kernel,
		      "-m", machine, script_path, (char *)NULL);
		_exit(127);
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		unlink(tmp);
		return NULL;
	}
	out = read_all(tmp);
	unlink(tmp);
	return out;
}

struct diff_ctx {
	const struct twin *t;
	const struct kdiff_opts *dopts;
	const char *const *names, *release, *line;
	char **models, **notes;
	int total;
};

/* Scenario @i's diff, against its own fresh model machine's lines. */
static void diff_one(void *ctx, int i, const char *kernel_lines)
{
	struct diff_ctx *dc = ctx;
	int n;

	/* the model follows the oracle's line where versions differ */
	printf("== %s on %s: model (--kernel %s) against Linux %s\n",
	       dc->names[i], dc->t->name, dc->line, dc->release);
	if (dc->notes && dc->notes[i])
		fputs(dc->notes[i], stdout);
	n = kernel_diff(stdout, dc->t, dc->models[i], kernel_lines, dc->dopts);
	printf("scenario %s: %d unexplained difference%s\n", dc->names[i], n,
	       n == 1 ? "" : "s");
	dc->total += n;
}

static int kernel_diff_cmd(int argc, char **argv)
{
	struct kopts ko = { 0 };
	struct kdiff_opts dopts = { 0 };
	struct diff_ctx dc = { 0 };
	struct twin t;
	char **scripts, **models, **notes;
	int ret, n = 0;	/* set by kernel_args(); -O3 cannot see it */

	ret = kernel_args(argc, argv, "diff", &ko, &t, &n);
	if (ret >= 0)
		return ret;
	notes = calloc((size_t)n, sizeof(*notes));
	models = calloc((size_t)n, sizeof(*models));
	scripts = notes && models ?
		guest_scripts(argv + optind + 1, n, false, NULL, notes) : NULL;
	ret = scripts ? 0 : 2;
	/* each scenario on its own fresh model machine */
	for (int i = 0; !ret && i < n; i++) {
		char tmp[] = "/tmp/dmaown-diff.XXXXXX";
		int fd = mkstemp(tmp);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		if (!f) {
			ret = 2;
			break;
		}
		fputs(scripts[i], f);
		fclose(f);
		models[i] = model_lines(argv[optind], tmp, ko.pin->line);
		unlink(tmp);
		if (!models[i])
			ret = 2;
	}
	if (!ret) {
		printf("dmaown kernel: %d scenario%s on %s, Linux %s (%s %s)\n", n,
		       n == 1 ? "" : "s", t.name, ko.pin->release, ko.pin->package,
		       ko.pin->version);
		dc.t = &t;
		dc.release = ko.pin->release;
		dc.line = ko.pin->line;
		dc.dopts = &dopts;
		dc.names = (const char *const *)argv + optind + 1;
		dc.models = models;
		dc.notes = notes;
		ret = run_batches(&t, &ko, scripts, dc.names, n, diff_one, &dc,
				  stdout);
	}
	free_strings(scripts, n);
	free_strings(models, n);
	free_strings(notes, n);
	if (ret)
		return ret;
	printf("%d unexplained difference%s\n", dc.total, dc.total == 1 ? "" : "s");
	return dc.total ? 1 : 0;
}

/*
 * diff-json MACHINE MODEL.jsonl... GUEST.jsonl: with one model, GUEST is
 * one scenario's lines; with several, a batch's raw output, split as a
 * boot's would be (the batch protocol, tested without QEMU).
 */
static int kernel_diff_json(int argc, char **argv)
{
	struct kdiff_opts dopts = { 0 };
	struct diff_ctx dc = { 0 };
	struct twin t;
	struct batch_part *parts;
	char *kernel, **models;
	int n = argc - 3, done = 0, ret = 0;

	if (argc < 4) {
		fprintf(stderr, "dmaown kernel diff-json: give MACHINE MODEL.jsonl... KERNEL.jsonl\n");
		return 2;
	}
	if (load_twin(argv[1], &t))
		return 2;
	models = calloc((size_t)n, sizeof(*models));
	parts = calloc((size_t)n, sizeof(*parts));
	kernel = read_all(argv[argc - 1]);
	for (int i = 0; models && i < n; i++)
		if (!(models[i] = read_all(argv[2 + i])) && !ret) {
			fprintf(stderr, "dmaown kernel diff-json: cannot read %s\n",
				argv[2 + i]);
			ret = 2;
		}
	if (!kernel && !ret)
		fprintf(stderr, "dmaown kernel diff-json: cannot read %s\n",
			argv[argc - 1]);
	if (!kernel || !models || !parts)
		ret = 2;
	if (!ret) {
		dc.t = &t;
		dc.release = "(saved)";
		dc.dopts = &dopts;
		dc.names = (const char *const *)argv + 2;
		dc.models = models;
		if (n == 1) {
			char *mapped = guest_lines_text(&t, kernel);

			/* the guest's raw lines: BDFs named as the machine's */
			dc.total = kernel_diff(stdout, &t, models[0],
					       mapped ? mapped : "", &dopts);
			free(mapped);
			done = 1;
		} else {
			done = batch_split(kernel, n, parts);
		}
		for (int i = 0; n > 1 && i < done; i++) {
			char *mapped = guest_lines_text(&t, parts[i].lines);

			diff_one(&dc, i, mapped ? mapped : "");
			free(mapped);
			if (!parts[i].clean)
				printf("the state after %s was not boot's (%s)%s\n",
				       argv[2 + i], parts[i].dirty,
				       i + 1 < n ? ": the rest need a fresh boot" : "");
		}
		if (done < n)
			printf("%d scenario%s not in this output\n", n - done,
			       n - done == 1 ? "" : "s");
		printf("%d unexplained difference%s\n", dc.total,
		       dc.total == 1 ? "" : "s");
		ret = dc.total ? 1 : done < n ? 2 : 0;
	}
	if (parts)
		batch_free(parts, n);
	free(parts);
	free_strings(models, n);
	free(kernel);
	return ret;
}

int cmd_kernel(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "run"))
		return kernel_run(argc - 1, argv + 1);
	if (!strcmp(sub, "diff"))
		return kernel_diff_cmd(argc - 1, argv + 1);
	if (!strcmp(sub, "diff-json"))
		return kernel_diff_json(argc - 1, argv + 1);
	if (!strcmp(sub, "versions") && argc == 2) {
		for (size_t i = 0; i < kernel_pin_count(); i++) {
			const struct kernel_pin *p = kernel_pin_get(i);

			printf("%s %s %s %s\n", p->line, p->package, p->version,
			       p->release);
		}
		return 0;
	}
	if (!strcmp(sub, "twin") && argc == 3) {
		struct twin t;
		char **qv;

		if (load_twin(argv[2], &t))
			return 2;
		twin_print_mapping(stdout, &t);
		qv = twin_qemu_argv(&t, "VMLINUZ", "INITRD", "CONSOLE", "RESULTS");
		for (size_t i = 0; qv && qv[i]; i++)
			printf("%s%s", i ? " " : "", qv[i]);
		printf("\n");
		twin_argv_free(qv);
		return 0;
	}
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		kernel_usage(stdout);
		return 0;
	}
	kernel_usage(stderr);
	return 2;
}
