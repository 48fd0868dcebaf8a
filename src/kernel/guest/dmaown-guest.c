// SPDX-License-Identifier: MIT
/*
 * dmaown-guest: the /init of the initramfs 'dmaown kernel run' boots. It
 * replays a script's lines on the real kernel, with real system calls, and
 * prints for each line the JSON object 'dmaown run --json' prints
 * (docs/json.md), so that the two can be compared line by line.
 *
 * Built statically: the initramfs has busybox and the modules, no libc.
 *
 * What it does, in order:
 *   - mounts /proc, /sys and devtmpfs on /dev;
 *   - loads the machine file's driver modules (/dmaown/boot-modules);
 *   - prints the boot state, then runs /dmaown/script line by line;
 *   - prints the final state and powers the machine off.
 *
 * Its output goes to the second serial port (/dev/ttyS1), one JSON object
 * a line, so the kernel's console on the first stays out of it. arm64's
 * virt board has one UART (/dev/ttyAMA0): there the kernel's console is
 * kept to panics (loglevel=1) and the host picks the JSON lines out.
 *
 * Shell lines (echo, tee, cat, ls, readlink, modprobe and redirections, as
 * the model's script shell takes them) run in a child process under a
 * timeout: vfio-pci's unbind of a device userspace holds open blocks the
 * writer until the file is closed, and must not stall the batch. The
 * child closes every descriptor but its standard streams first, so it
 * never holds a VFIO file itself. The @vfio verbs run in this process,
 * whose descriptors last from line to line as a VMM's would.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LINE_TIMEOUT_MS 20000
#define MAX_WORDS 64
#define MAX_HANDLES 64

#ifdef __aarch64__
#define RESULTS_TTY "/dev/ttyAMA0"
#else
#define RESULTS_TTY "/dev/ttyS1"
#endif

static FILE *out;           /* the results: RESULTS_TTY */
static int kmsg = -1;       /* /dev/kmsg, read from where the line starts */
static char release[128];   /* uname -r */

/* ---- growing strings ---- */

struct sbuf {
	char *buf;
	size_t len, cap;
};

static void sb_add(struct sbuf *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = (s->len + n + 1) * 2;
		char *nb = realloc(s->buf, cap);

		if (!nb)
			return;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void sb_printf(struct sbuf *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static const char *sb_str(const struct sbuf *s)
{
	return s->buf ? s->buf : "";
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* ---- the result of one line ---- */

struct result {
	int err;     /* the first failing system call's errno, 0 if none */
	int status;  /* the shell's exit status */
	bool timeout;
	struct sbuf out, err_text;
};

static void note(struct result *r, int err)
{
	if (err && !r->err)
		r->err = err;
}

/* ---- the kernel log ---- */

/* Reads what /dev/kmsg has now; each record as "[    s.us] text". */
static void kmsg_drain(struct sbuf *log)
{
	char rec[8192];

	for (;;) {
		ssize_t n = read(kmsg, rec, sizeof(rec) - 1);
		unsigned long long us = 0;
		char *semi, *nl;

		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: go on */
		if (n <= 0)
			return;
		rec[n] = '\0';
		semi = strchr(rec, ';');
		if (!semi)
			continue;
		sscanf(rec, "%*u,%*u,%llu", &us);
		nl = strchr(semi + 1, '\n');
		if (nl)
			*nl = '\0';
		if (log)
			sb_printf(log, "[%5llu.%06llu] %s\n", us / 1000000ULL,
				  us % 1000000ULL, semi + 1);
	}
}

/*
 * The log of a line as the JSON "log" array, and its WARN reports
 * ("WARNING: CPU: ... at FILE:LINE FUNC+0x..") as "warn" objects with
 * the call trace's function names.
 */
static void print_log(const char *log)
{
	const char *p = log;
	bool first = true, in_warn = false;
	struct sbuf warn = { 0 };
	int nwarn = 0, ntrace = 0;

	fputs(",\"log\":[", out);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096], *text;

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p = nl ? nl + 1 : NULL;
		text = strstr(line, "] ");
		text = text ? text + 2 : line;
		if (strstr(text, "------------[ cut here ]------------"))
			continue;
		if (!strncmp(text, "WARNING: CPU:", 13)) {
			char file[256] = "", func[256] = "", comm[64] = "";
			int pid = 0, wline = 0;
			char *at = strstr(text, " at ");

			sscanf(text, "WARNING: CPU: %*d PID: %d", &pid);
			if (at)
				sscanf(at, " at %255[^:]:%d %255[^+ ]", file,
				       &wline, func);
			if (in_warn)
				sb_printf(&warn, "]}");
			sb_printf(&warn, "%s{\"file\":\"%s\",\"upstream_line\":%d,\"func\":\"%s\",\"pid\":%d,\"comm\":\"%s\",\"trace\":[",
				  nwarn++ ? "," : "", file, wline, func, pid,
				  comm);
			in_warn = true;
			ntrace = 0;
			continue;
		}
		if (in_warn) {
			char fn[256];

			if (strstr(text, "---[ end trace")) {
				sb_printf(&warn, "]}");
				in_warn = false;
				continue;
			}
			/* " func+0x1c/0x30 [module]": a frame */
			if (text[0] == ' ' && sscanf(text, " %255[^+ ]+0x", fn) == 1 &&
			    strchr(text, '+')) {
				sb_printf(&warn, "%s\"%s\"", ntrace++ ? "," : "",
					  fn);
				continue;
			}
			if (strstr(text, "Modules linked in") ||
			    strstr(text, "CPU: ") || strstr(text, "Hardware name") ||
			    strstr(text, "RIP:") || strstr(text, "Code:") ||
			    strstr(text, "RSP:") || strstr(text, "RAX:") ||
			    strstr(text, "RDX:") || strstr(text, "RBP:") ||
			    strstr(text, "R10:") || strstr(text, "R13:") ||
			    strstr(text, "FS:") || strstr(text, "CS:") ||
			    strstr(text, "CR2:") || strstr(text, "Call Trace") ||
			    strstr(text, "<TASK>") || strstr(text, "</TASK>") ||
			    strstr(text, "irq event stamp") || text[0] == ' ')
				continue;
		}
		fputs(first ? "" : ",", out);
		json_str(out, line);
		first = false;
	}
	if (in_warn)
		sb_printf(&warn, "]}");
	fprintf(out, "],\"warn\":[%s]", sb_str(&warn));
	free(warn.buf);
}

/* ---- files ---- */

static bool is_open_error(int err)
{
	return err == ENOENT || err == EACCES || err == EISDIR || err == ENOTDIR;
}

/* One write() of @data, as the shell's redirection or tee does. */
static int write_file(const char *path, const char *data, bool append)
{
	int fd, err = 0;
	ssize_t n;

	if (!strcmp(path, "/dev/null"))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0)
		return errno;
	n = write(fd, data, strlen(data));
	if (n < 0)
		err = errno;
	if (close(fd) && !err)
		err = errno;
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in @dir, sorted; NULL (errno set) when it cannot be read. */
static char **list_dir(const char *dir, size_t *ret_n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char **nv;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_names);
	*ret_n = n;
	return v ? v : calloc(1, sizeof(*v));
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- modules ---- */

/* @name with '-' as '_', as the kernel names modules. */
static void mod_norm(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* The modules.dep line of @name (normalised), or false. */
static bool mod_find(const char *name, char *line, size_t len)
{
	char path[512], want[128];
	FILE *f;

	mod_norm(name, want, sizeof(want));
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, (int)len, f)) {
		char *colon = strchr(line, ':'), *base, modname[128];

		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		mod_norm(base, modname, sizeof(modname));
		*strchrnul(modname, '.') = '\0';
		if (!strcmp(modname, want)) {
			*colon = ':';
			fclose(f);
			line[strcspn(line, "\n")] = '\0';
			return true;
		}
	}
	fclose(f);
	return false;
}

static bool mod_loaded(const char *file)
{
	char name[128], path[256];
	const char *base = strrchr(file, '/');

	mod_norm(base ? base + 1 : file, name, sizeof(name));
	*strchrnul(name, '.') = '\0';
	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

/*
 * finit_module() of one module file of modules.dep (the initramfs holds
 * it decompressed, without its .xz). Returns 0 or an errno; EEXIST is 0.
 */
static int mod_insert(const char *file, const char *params, bool verbose,
		      struct result *r)
{
	char path[512];
	int fd, ret = 0;

	if (mod_loaded(file))
		return 0;
	snprintf(path, sizeof(path), "/lib/modules/%s/%s", release, file);
	if (verbose)
		sb_printf(&r->out, "insmod %s %s\n", path, params);
	*strstr(path, ".ko") = '\0';
	strcat(path, ".ko");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		ret = errno == EEXIST ? 0 : errno;
	close(fd);
	return ret;
}

static int modprobe_one(const char *name, const char *params, bool verbose,
			struct result *r);

/* modules.softdep's "pre:" or "post:" modules of @name. */
static void mod_softdeps(const char *name, const char *which, bool verbose,
			 struct result *r)
{
	char path[512], line[1024], want[128];
	FILE *f;

	mod_norm(name, want, sizeof(want));
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.softdep", release);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *w = strtok_r(line, " \t\n", &save);
		bool on = false;
		char mod[128];

		if (!w || strcmp(w, "softdep"))
			continue;
		w = strtok_r(NULL, " \t\n", &save);
		if (!w)
			continue;
		mod_norm(w, mod, sizeof(mod));
		if (strcmp(mod, want))
			continue;
		while ((w = strtok_r(NULL, " \t\n", &save))) {
			if (!strcmp(w, "pre:") || !strcmp(w, "post:"))
				on = !strcmp(w, which);
			else if (on)
				modprobe_one(w, "", verbose, r);
		}
	}
	fclose(f);
}

/*
 * modprobe NAME: softdeps before, the dependencies of modules.dep (the
 * last first), the module, softdeps after. Returns 0, ENOENT (no such
 * module) or the insert's errno.
 */
/*
 * One module file with its softdeps around it, as kmod does for the
 * module and each of its dependencies (vfio's "post: vfio_iommu_type1").
 * A module loaded already is left alone, softdeps included.
 */
static int load_file(const char *file, const char *params, bool verbose,
		     struct result *r)
{
	const char *base = strrchr(file, '/');
	char name[128];
	int ret;

	if (mod_loaded(file))
		return 0;
	mod_norm(base ? base + 1 : file, name, sizeof(name));
	*strchrnul(name, '.') = '\0';
	mod_softdeps(name, "pre:", verbose, r);
	ret = mod_insert(file, params, verbose, r);
	if (!ret)
		mod_softdeps(name, "post:", verbose, r);
	return ret;
}

static int modprobe_one(const char *name, const char *params, bool verbose,
			struct result *r)
{
	char line[2048], *deps[64], *save = NULL, *colon;
	int n = 0, ret;

	if (!mod_find(name, line, sizeof(line)))
		return ENOENT;
	colon = strchr(line, ':');
	*colon = '\0';
	for (char *w = strtok_r(colon + 1, " ", &save); w && n < 64;
	     w = strtok_r(NULL, " ", &save))
		deps[n++] = w;
	while (n--) {
		ret = load_file(deps[n], "", verbose, r);
		if (ret)
			return ret;
	}
	return load_file(line, params, verbose, r);
}

static int cmd_modprobe(int argc, char **argv, struct result *r)
{
	bool verbose = false, remove = false, quiet = false;
	char params[512] = "", norm[128];
	const char *mod = NULL;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			verbose |= strchr(argv[i], 'v') != NULL;
			remove |= strchr(argv[i], 'r') != NULL;
			quiet |= strchr(argv[i], 'q') != NULL;
		} else if (!mod) {
			mod = argv[i];
		} else {
			size_t off = strlen(params);

			snprintf(params + off, sizeof(params) - off, "%s%s",
				 off ? " " : "", argv[i]);
		}
	}
	if (!mod) {
		sb_printf(&r->err_text, "modprobe: ERROR: missing module name\n");
		return 1;
	}
	if (remove) {
		char line[2048], *save = NULL, *colon;

		mod_norm(mod, norm, sizeof(norm));
		if (syscall(SYS_delete_module, norm, O_NONBLOCK) && errno != ENOENT) {
			note(r, errno);
			sb_printf(&r->err_text, "modprobe: FATAL: Module %s is in use.\n",
				  norm);
			return 1;
		}
		if (verbose)
			sb_printf(&r->out, "rmmod %s\n", norm);
		/* its dependencies too, where nothing else uses them */
		if (mod_find(mod, line, sizeof(line)) &&
		    (colon = strchr(line, ':')))
			for (char *w = strtok_r(colon + 1, " ", &save); w;
			     w = strtok_r(NULL, " ", &save)) {
				const char *b = strrchr(w, '/');

				mod_norm(b ? b + 1 : w, norm, sizeof(norm));
				*strchrnul(norm, '.') = '\0';
				syscall(SYS_delete_module, norm, O_NONBLOCK);
			}
		return 0;
	}
	ret = modprobe_one(mod, params, verbose, r);
	if (ret == ENOENT) {
		if (!quiet)
			sb_printf(&r->err_text,
				  "modprobe: FATAL: Module %s not found in directory /lib/modules/%s\n",
				  mod, release);
		return 1;
	}
	if (ret) {
		note(r, ret);
		sb_printf(&r->err_text, "modprobe: ERROR: could not insert '%s': %s\n",
			  mod, strerror(ret));
		return 1;
	}
	return 0;
}

/* ---- the shell's commands ---- */

static int cmd_echo(int argc, char **argv, const char *in, struct result *r,
		    struct sbuf *o)
{
	bool nl = true;
	int i = 1;

	(void)in;
	(void)r;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] &&
	       !argv[i][strspn(argv[i] + 1, "neE") + 1];
	     i++)
		if (strchr(argv[i], 'n'))
			nl = false;
	for (int k = i; k < argc; k++)
		sb_printf(o, "%s%s", k > i ? " " : "", argv[k]);
	if (nl)
		sb_add(o, "\n", 1);
	return 0;
}

static int cmd_tee(int argc, char **argv, const char *in, struct result *r,
		   struct sbuf *o)
{
	bool append = false;
	int status = 0;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-a"))
			append = true;
	for (int i = 1; i < argc; i++) {
		int err;

		if (argv[i][0] == '-' && argv[i][1])
			continue;
		err = write_file(argv[i], in, append);
		if (err) {
			note(r, err);
			sb_printf(&r->err_text, "tee: %s: %s\n", argv[i],
				  strerror(err));
			status = 1;
		}
	}
	sb_printf(o, "%s", in);
	return status;
}

static int cmd_cat(int argc, char **argv, const char *in, struct result *r,
		   struct sbuf *o)
{
	int status = 0;

	if (argc == 1)
		sb_printf(o, "%s", in);
	for (int i = 1; i < argc; i++) {
		char buf[4096];
		int fd = open(argv[i], O_RDONLY);
		ssize_t n;

		if (fd < 0) {
			note(r, errno);
			sb_printf(&r->err_text, "cat: %s: %s\n", argv[i],
				  strerror(errno));
			status = 1;
			continue;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sb_add(o, buf, (size_t)n);
		if (n < 0) {
			note(r, errno);
			sb_printf(&r->err_text, "cat: %s: %s\n", argv[i],
				  strerror(errno));
			status = 1;
		}
		close(fd);
	}
	return status;
}

static int cmd_readlink(int argc, char **argv, const char *in,
			struct result *r, struct sbuf *o)
{
	bool canon = false;
	int status = 0;

	(void)in;
	(void)r;
	for (int i = 1; i < argc; i++) {
		char target[4096];
		ssize_t n;

		if (argv[i][0] == '-') {
			canon |= strpbrk(argv[i], "fem") != NULL;
			continue;
		}
		if (canon) {
			if (!realpath(argv[i], target)) {
				status = 1;
				continue;
			}
			n = (ssize_t)strlen(target);
		} else {
			n = readlink(argv[i], target, sizeof(target) - 1);
			if (n < 0) {
				status = 1;
				continue;
			}
		}
		target[n] = '\0';
		sb_printf(o, "%s\n", target);
	}
	return status;
}

static int cmd_ls(int argc, char **argv, const char *in, struct result *r,
		  struct sbuf *o)
{
	bool longfmt = false, dironly = false;
	int status = 0, npaths = 0, shown = 0;

	(void)in;
	(void)r;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			longfmt |= strchr(argv[i], 'l') != NULL;
			dironly |= strchr(argv[i], 'd') != NULL;
		} else {
			npaths++;
		}
	}
	for (int i = npaths ? 1 : 0; i < argc; i++) {
		const char *p = i ? argv[i] : ".";
		struct stat st, lst;
		char **names;
		size_t n;

		if (i && argv[i][0] == '-')
			continue;
		if (lstat(p, &lst)) {
			sb_printf(&r->err_text,
				  "ls: cannot access '%s': No such file or directory\n",
				  p);
			status = 2;
			continue;
		}
		if (dironly || stat(p, &st) || !S_ISDIR(st.st_mode) ||
		    (S_ISLNK(lst.st_mode) && longfmt)) {
			char target[4096];
			ssize_t tn;

			if (longfmt && S_ISLNK(lst.st_mode) &&
			    (tn = readlink(p, target, sizeof(target) - 1)) >= 0) {
				target[tn] = '\0';
				sb_printf(o, "%s -> %s\n", p, target);
			} else {
				sb_printf(o, "%s\n", p);
			}
			continue;
		}
		names = list_dir(p, &n);
		if (!names) {
			status = 2;
			continue;
		}
		if (npaths > 1)
			sb_printf(o, "%s%s:\n", shown++ ? "\n" : "", p);
		for (size_t k = 0; k < n; k++) {
			char child[4096], target[4096];
			ssize_t tn;

			snprintf(child, sizeof(child), "%s/%s", p, names[k]);
			if (longfmt &&
			    (tn = readlink(child, target, sizeof(target) - 1)) >= 0) {
				target[tn] = '\0';
				sb_printf(o, "%s -> %s\n", names[k], target);
			} else {
				sb_printf(o, "%s\n", names[k]);
			}
		}
		free_names(names, n);
	}
	return status;
}

static int cmd_true(int argc, char **argv, const char *in, struct result *r,
		    struct sbuf *o)
{
	(void)argc;
	(void)in;
	(void)r;
	(void)o;
	return strcmp(argv[0], "false") ? 0 : 1;
}

static int cmd_modprobe_io(int argc, char **argv, const char *in,
			   struct result *r, struct sbuf *o)
{
	(void)in;
	(void)o;
	return cmd_modprobe(argc, argv, r);
}

/*
 * rmmod NAME...: delete_module() without dependencies, with kmod's
 * messages; a driver the kernel has built in (pcieport in Debian's) is
 * refused as kmod's rmmod refuses it, before any system call.
 */
static int cmd_rmmod(int argc, char **argv, const char *in, struct result *r,
		     struct sbuf *o)
{
	int status = 0;

	(void)in;
	(void)o;
	for (int i = 1; i < argc; i++) {
		char norm[128], path[256];
		struct stat st;

		if (argv[i][0] == '-')
			continue;
		mod_norm(argv[i], norm, sizeof(norm));
		snprintf(path, sizeof(path), "/sys/module/%s/initstate", norm);
		if (stat(path, &st)) {
			/* no loaded module, but a driver of that name: built in */
			snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", argv[i]);
			sb_printf(&r->err_text, !stat(path, &st) ?
				  "rmmod: ERROR: Module %s is builtin.\n" :
				  "rmmod: ERROR: Module %s is not currently loaded\n",
				  norm);
			status = 1;
			continue;
		}
		if (syscall(SYS_delete_module, norm, O_NONBLOCK)) {
			note(r, errno);
			sb_printf(&r->err_text, "rmmod: ERROR: Module %s is in use\n", norm);
			status = 1;
		}
	}
	return status;
}

typedef int (*cmd_fn)(int argc, char **argv, const char *in,
		      struct result *r, struct sbuf *o);

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ "echo", cmd_echo },         { "tee", cmd_tee },
	{ "cat", cmd_cat },           { "readlink", cmd_readlink },
	{ "ls", cmd_ls },             { "true", cmd_true },
	{ "false", cmd_true },        { "sync", cmd_true },
	{ "sleep", cmd_true },        { "modprobe", cmd_modprobe_io },
	{ "rmmod", cmd_rmmod },
};

static cmd_fn find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn;
	return NULL;
}

/* ---- words ---- */

enum { W_WORD, W_PIPE, W_SEMI, W_AND, W_OR, W_GT, W_GTGT, W_ERR_NULL,
       W_ERR_OUT };

struct word {
	int type;
	char *text;
};

/*
 * Splits @line as sh does for what scripts use: blanks, 'single' and
 * "double" quotes, backslashes, '#' comments, | ; && || > >> 2> 2>&1.
 * Returns the number of words, or -1 for what the helper does not take.
 */
static int split(const char *line, struct word *w, int max)
{
	const char *p = line;
	int n = 0;

	while (*p) {
		struct sbuf s = { 0 };
		bool quoted = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		if (n >= max)
			return -1;
		if (*p == '|' || *p == ';' || *p == '&' || *p == '>' ||
		    (p[0] == '2' && p[1] == '>')) {
			int t;

			if (!strncmp(p, "2>&1", 4)) {
				t = W_ERR_OUT;
				p += 4;
			} else if (!strncmp(p, "2>", 2)) {
				t = W_ERR_NULL;
				p += 2;
			} else if (!strncmp(p, "&&", 2)) {
				t = W_AND;
				p += 2;
			} else if (!strncmp(p, "||", 2)) {
				t = W_OR;
				p += 2;
			} else if (!strncmp(p, ">>", 2)) {
				t = W_GTGT;
				p += 2;
			} else if (*p == '>') {
				t = W_GT;
				p++;
			} else if (*p == '|') {
				t = W_PIPE;
				p++;
			} else if (*p == ';') {
				t = W_SEMI;
				p++;
			} else {
				return -1; /* background jobs */
			}
			w[n].type = t;
			w[n++].text = NULL;
			continue;
		}
		while (*p && *p != ' ' && *p != '\t' && *p != '|' &&
		       *p != ';' && *p != '&' && *p != '>') {
			if (*p == '\'') {
				const char *e = strchr(p + 1, '\'');

				if (!e)
					return -1;
				sb_add(&s, p + 1, (size_t)(e - p - 1));
				p = e + 1;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					if (*p == '$')
						return -1;
					sb_add(&s, p, 1);
				}
				if (!*p)
					return -1;
				p++;
			} else if (*p == '\\' && p[1]) {
				sb_add(&s, p + 1, 1);
				p += 2;
			} else if (*p == '$' || *p == '`' || *p == '*' ||
				   *p == '?' || *p == '[') {
				return -1; /* variables and globs: not here */
			} else {
				sb_add(&s, p, 1);
				p++;
			}
			quoted = true;
		}
		w[n].type = W_WORD;
		w[n++].text = quoted && s.buf ? s.buf : strdup("");
	}
	return n;
}

/*
 * One simple command of words [@a, @b): its redirections, then the
 * command with @in as standard input. What it prints goes to @o (or the
 * redirection's file), its errors to r->err_text.
 */
static int run_simple(struct word *w, int a, int b, const char *in,
		      struct result *r, struct sbuf *o)
{
	char *argv[MAX_WORDS + 1];
	const char *redir = NULL;
	bool append = false, err_null = false, err_out = false;
	struct sbuf cout = { 0 };
	int argc = 0, status;
	cmd_fn fn;

	for (int i = a; i < b; i++) {
		if (w[i].type == W_GT || w[i].type == W_GTGT) {
			if (i + 1 >= b || w[i + 1].type != W_WORD)
				return 2;
			append = w[i].type == W_GTGT;
			redir = w[++i].text;
		} else if (w[i].type == W_ERR_NULL) {
			if (i + 1 >= b || w[i + 1].type != W_WORD)
				return 2;
			err_null = true;
			i++;
		} else if (w[i].type == W_ERR_OUT) {
			err_out = true;
		} else {
			argv[argc++] = w[i].text;
		}
	}
	argv[argc] = NULL;
	/* sudo [-E], command, exec: everything runs as root already */
	int s = 0;

	while (s < argc && (!strcmp(argv[s], "sudo") || !strcmp(argv[s], "-E") ||
			    !strcmp(argv[s], "command") || !strcmp(argv[s], "exec")))
		s++;
	if (s >= argc)
		return 0;
	fn = find_command(argv[s]);
	if (!fn) {
		/*
		 * The model refuses unknown commands before running a script,
		 * so this is one of its commands the guest does not take
		 * (cd, printf, lspci, sh -c, ulimit...), not a typo.
		 */
		r->err = -1;
		sb_printf(&r->err_text,
			  "dmaown-guest: '%s' is not taken by the guest's shell\n",
			  argv[s]);
		return 127;
	}
	size_t err_mark = r->err_text.len;

	status = fn(argc - s, argv + s, in, r, &cout);
	if (err_out && r->err_text.len > err_mark) {
		sb_add(&cout, r->err_text.buf + err_mark, r->err_text.len - err_mark);
		r->err_text.len = err_mark;
		r->err_text.buf[err_mark] = '\0';
	}
	if (err_null && r->err_text.buf) {
		r->err_text.len = err_mark;
		r->err_text.buf[err_mark] = '\0';
	}
	if (redir) {
		int err = write_file(redir, sb_str(&cout), append);

		if (err) {
			note(r, err);
			if (is_open_error(err))
				sb_printf(&r->err_text, "bash: %s: %s\n", redir,
					  strerror(err));
			else
				sb_printf(&r->err_text,
					  "bash: %s: write error: %s\n",
					  argv[s], strerror(err));
			status = 1;
		}
	} else {
		sb_printf(o, "%s", sb_str(&cout));
	}
	free(cout.buf);
	return status;
}

/* A whole shell line: pipelines joined by ; && ||. */
static void run_shell(struct word *w, int n, struct result *r)
{
	int status = 0, i = 0, join = W_SEMI;

	while (i < n) {
		struct sbuf in = { 0 };
		int a = i;

		/* a pipeline: simple commands joined by | */
		bool skip = (join == W_AND && status) || (join == W_OR && !status);

		for (;;) {
			int b = a;
			struct sbuf o = { 0 };

			while (b < n && w[b].type != W_PIPE && w[b].type != W_SEMI &&
			       w[b].type != W_AND && w[b].type != W_OR)
				b++;
			if (!skip) {
				bool piped = b < n && w[b].type == W_PIPE;

				status = run_simple(w, a, b, sb_str(&in), r,
						    piped ? &o : &r->out);
				free(in.buf);
				in = o;
			} else {
				free(o.buf);
			}
			if (b < n && w[b].type == W_PIPE) {
				a = b + 1;
				continue;
			}
			i = b < n ? b + 1 : b;
			join = b < n ? w[b].type : W_SEMI;
			break;
		}
		free(in.buf);
	}
	r->status = status;
}

/* ---- VFIO: handles as the model's shell names them ---- */

static int group_fd[4096];     /* by group number: fd + 1 */
static int container_fd[MAX_HANDLES]; /* by container number: fd + 1 */
struct devfile {
	char name[64];
	int fd;
	int group;
	int req_fd;  /* its request eventfd, or -1 */
};
static struct devfile devfiles[MAX_HANDLES];
static int ndevfiles;
static int group_container[4096]; /* container number + 1 a group is set on */

static bool parse_num(const char *s, int *ret, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 0 || v >= max)
		return false;
	*ret = (int)v;
	return true;
}

static int verb_fail(struct result *r, const char *what, int err)
{
	note(r, err);
	sb_printf(&r->err_text, "%s: %s\n", what, strerror(err));
	return 1;
}

static int vfio_status(int gfd, struct sbuf *o)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	unsigned int f;

	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &st))
		return errno;
	f = st.flags;
	if (!f)
		sb_printf(o, "flags: 0\n");
	else
		sb_printf(o, "flags: %s%s%s\n",
			  f & VFIO_GROUP_FLAGS_VIABLE ? "VIABLE" : "",
			  (f & VFIO_GROUP_FLAGS_VIABLE) &&
					  (f & VFIO_GROUP_FLAGS_CONTAINER_SET) ?
				  " " : "",
			  f & VFIO_GROUP_FLAGS_CONTAINER_SET ? "CONTAINER_SET" : "");
	return 0;
}

static int group_of(const char *dev)
{
	char path[512], target[512];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", dev);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	return atoi(strrchr(target, '/') + 1);
}

static int container_new(int *ret_c)
{
	int c = 0, fd;

	while (c < MAX_HANDLES && container_fd[c])
		c++;
	if (c == MAX_HANDLES)
		return EMFILE;
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	container_fd[c] = fd + 1;
	*ret_c = c;
	return 0;
}

static int group_open(int g)
{
	char path[64];
	int fd;

	if (g < 0 || g >= 4096)
		return ENOENT;
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (group_fd[g]) {
		struct vfio_group_status st = { .argsz = sizeof(st) };

		/*
		 * The file held is of a vfio group the kernel removed with its
		 * last device (vfio_device_remove_group(): GET_STATUS then
		 * fails with ENODEV): the new file is the group now, as for a
		 * VMM that opens it again (found by the corpus's walks).
		 */
		if (ioctl(group_fd[g] - 1, VFIO_GROUP_GET_STATUS, &st) &&
		    errno == ENODEV) {
			close(group_fd[g] - 1);
			group_container[g] = 0;
			group_fd[g] = fd + 1;
			return 0;
		}
		/* the kernel let a second file open: the shell names one */
		close(fd);
		return 0;
	}
	group_fd[g] = fd + 1;
	return 0;
}

static int group_get_device(int g, const char *dev)
{
	int fd;

	if (g < 0 || g >= 4096 || !group_fd[g])
		return EBADF;
	if (ndevfiles == MAX_HANDLES)
		return EMFILE;
	fd = ioctl(group_fd[g] - 1, VFIO_GROUP_GET_DEVICE_FD, dev);
	if (fd < 0)
		return errno;
	snprintf(devfiles[ndevfiles].name, sizeof(devfiles[0].name), "%s", dev);
	devfiles[ndevfiles].group = g;
	devfiles[ndevfiles].req_fd = -1;
	devfiles[ndevfiles++].fd = fd;
	return 0;
}

static int device_close(const char *dev)
{
	for (int i = ndevfiles - 1; i >= 0; i--) {
		if (strcmp(devfiles[i].name, dev))
			continue;
		close(devfiles[i].fd);
		if (devfiles[i].req_fd >= 0)
			close(devfiles[i].req_fd);
		memmove(&devfiles[i], &devfiles[i + 1],
			(size_t)(ndevfiles - i - 1) * sizeof(devfiles[0]));
		ndevfiles--;
		return 0;
	}
	return EBADF;
}

/*
 * VFIO_DEVICE_SET_IRQS on vfio-pci's request IRQ with an eventfd, as QEMU
 * registers one (vfio_register_req_notifier()) on the newest file of
 * @dev: the kernel signals it when it wants the device back.
 */
static int set_req_eventfd(const char *dev)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t efd;

	for (int i = ndevfiles - 1; i >= 0; i--) {
		if (strcmp(devfiles[i].name, dev))
			continue;
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0)
			return errno;
		set->argsz = sizeof(buf);
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = VFIO_PCI_REQ_IRQ_INDEX;
		set->start = 0;
		set->count = 1;
		memcpy(set->data, &efd, sizeof(efd));
		if (ioctl(devfiles[i].fd, VFIO_DEVICE_SET_IRQS, set)) {
			int err = errno;

			close(efd);
			return err;
		}
		if (devfiles[i].req_fd >= 0)
			close(devfiles[i].req_fd);
		devfiles[i].req_fd = efd;
		return 0;
	}
	return EBADF;
}

/*
 * The model's userspace gives a device back at once when the kernel asks
 * (docs/architecture.md): on a request eventfd, or on vfio-pci's "No
 * device request channel registered" line, close every file of it.
 */
static bool complying = true; /* off: "# dmaown-guest: no-comply" */

static void comply(const char *log_chunk)
{
	if (!complying)
		return;
	for (int i = ndevfiles - 1; i >= 0; i--) {
		uint64_t v;
		bool asked = false;
		char key[96];

		if (i >= ndevfiles)
			continue;
		if (devfiles[i].req_fd >= 0 &&
		    read(devfiles[i].req_fd, &v, sizeof(v)) == sizeof(v))
			asked = true;
		snprintf(key, sizeof(key), "%s: No device request channel registered",
			 devfiles[i].name);
		if (log_chunk && strstr(log_chunk, key))
			asked = true;
		if (asked) {
			char name[64];

			snprintf(name, sizeof(name), "%s", devfiles[i].name);
			while (!device_close(name))
				;
			i = ndevfiles;
		}
	}
}

static int set_iommu(int c, const char *type)
{
	int t = !strcmp(type, "type1")   ? VFIO_TYPE1_IOMMU :
		!strcmp(type, "type1v2") ? VFIO_TYPE1v2_IOMMU :
		!strcmp(type, "noiommu") ? VFIO_NOIOMMU_IOMMU : -1;

	if (t < 0)
		return EINVAL;
	if (c < 0 || c >= MAX_HANDLES || !container_fd[c])
		return EBADF;
	return ioctl(container_fd[c] - 1, VFIO_SET_IOMMU, t) ? errno : 0;
}

static int set_container(int g, int c)
{
	int cfd;

	if (g < 0 || g >= 4096 || !group_fd[g])
		return EBADF;
	if (c < 0 || c >= MAX_HANDLES || !container_fd[c])
		return EBADF;
	cfd = container_fd[c] - 1;
	if (ioctl(group_fd[g] - 1, VFIO_GROUP_SET_CONTAINER, &cfd))
		return errno;
	group_container[g] = c + 1;
	return 0;
}

static int cmd_vfio(int argc, char **argv, struct result *r)
{
	const char *verb = argc > 1 ? argv[1] : "";
	char what[128];
	int a, b, err;

	snprintf(what, sizeof(what), "@vfio %s", verb);
	if (!strcmp(verb, "container-open") && argc == 2) {
		err = container_new(&a);
		if (err)
			return verb_fail(r, what, err);
		sb_printf(&r->out, "container %d\n", a);
		return 0;
	}
	if (argc == 3 && parse_num(argv[2], &a, 4096)) {
		if (!strcmp(verb, "open")) {
			err = group_open(a);
		} else if (!strcmp(verb, "close")) {
			err = group_fd[a] ? 0 : EBADF;
			if (!err) {
				close(group_fd[a] - 1);
				group_fd[a] = 0;
				group_container[a] = 0;
			}
		} else if (!strcmp(verb, "status")) {
			err = group_fd[a] ? vfio_status(group_fd[a] - 1, &r->out) :
					    EBADF;
		} else if (!strcmp(verb, "unset-container")) {
			err = !group_fd[a] ? EBADF :
			      ioctl(group_fd[a] - 1, VFIO_GROUP_UNSET_CONTAINER) ?
					     errno : 0;
			if (!err)
				group_container[a] = 0;
		} else if (!strcmp(verb, "container-close") && a < MAX_HANDLES) {
			err = container_fd[a] ? 0 : EBADF;
			if (!err) {
				close(container_fd[a] - 1);
				container_fd[a] = 0;
			}
		} else {
			goto bad;
		}
		return err ? verb_fail(r, what, err) : 0;
	}
	if (argc == 3 && !strcmp(verb, "set-req-eventfd")) {
		err = set_req_eventfd(argv[2]);
		return err ? verb_fail(r, what, err) : 0;
	}
	if (argc == 3 && !strcmp(verb, "device-close")) {
		err = device_close(argv[2]);
		return err ? verb_fail(r, what, err) : 0;
	}
	if (argc == 4 && !strcmp(verb, "set-container") &&
	    parse_num(argv[2], &a, 4096) && parse_num(argv[3], &b, MAX_HANDLES)) {
		err = set_container(a, b);
		return err ? verb_fail(r, what, err) : 0;
	}
	if (argc == 4 && !strcmp(verb, "set-iommu") &&
	    parse_num(argv[2], &a, MAX_HANDLES)) {
		err = set_iommu(a, argv[3]);
		return err ? verb_fail(r, what, err) : 0;
	}
	if (argc == 4 && !strcmp(verb, "get-device-fd") &&
	    parse_num(argv[2], &a, 4096)) {
		err = group_get_device(a, argv[3]);
		return err ? verb_fail(r, what, err) : 0;
	}
bad:
	sb_printf(&r->err_text, "dmaown-guest: '%s' has no real-kernel form here\n",
		  what);
	r->err = -1;
	return 2;
}

/*
 * @vmm assign DEV: what QEMU's vfio-pci does (hw/vfio/common.c), with
 * its messages, as src/userspace/vmm.c has them: open the group, check it
 * is viable, a container, SET_CONTAINER, type1v2, the device's file.
 */
static int vmm_container[4096]; /* by group: container number + 1 */

static int cmd_vmm(int argc, char **argv, struct result *r)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	const char *dev = argc == 3 ? argv[2] : "";
	int g, c = -1, err;

	if (argc != 3) {
		sb_printf(&r->err_text, "usage: @vmm assign|release DEV\n");
		return 2;
	}
	g = group_of(dev);
	if (!strcmp(argv[1], "release")) {
		if (g < 0 || !group_fd[g])
			return verb_fail(r, "@vmm release", EBADF);
		device_close(dev);
		ioctl(group_fd[g] - 1, VFIO_GROUP_UNSET_CONTAINER);
		close(group_fd[g] - 1);
		group_fd[g] = 0;
		group_container[g] = 0;
		if (vmm_container[g]) {
			close(container_fd[vmm_container[g] - 1] - 1);
			container_fd[vmm_container[g] - 1] = 0;
			vmm_container[g] = 0;
		}
		return 0;
	}
	if (strcmp(argv[1], "assign")) {
		sb_printf(&r->err_text, "usage: @vmm assign|release DEV\n");
		return 2;
	}
#define VMM_FAIL(e, ...)                                                    \
	do {                                                                \
		note(r, e);                                                 \
		sb_printf(&r->err_text,                                     \
			  "qemu-system-x86_64: -device vfio-pci,host=%s: ", \
			  dev);                                             \
		sb_printf(&r->err_text, __VA_ARGS__);                       \
		sb_add(&r->err_text, "\n", 1);                              \
		goto undo;                                                  \
	} while (0)
	if (g < 0) {
		note(r, ENOENT);
		sb_printf(&r->err_text,
			  "qemu-system-x86_64: -device vfio-pci,host=%s: vfio %s: no iommu_group found: No such file or directory\n",
			  dev, dev);
		return 1;
	}
	err = group_open(g);
	if (err) {
		note(r, err);
		sb_printf(&r->err_text,
			  "qemu-system-x86_64: -device vfio-pci,host=%s: vfio %s: failed to open /dev/vfio/%d: %s\n",
			  dev, dev, g, strerror(err));
		return 1;
	}
	if (ioctl(group_fd[g] - 1, VFIO_GROUP_GET_STATUS, &st))
		VMM_FAIL(errno, "vfio %s: failed to get group %d status: %s", dev,
			 g, strerror(errno));
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		VMM_FAIL(EPERM,
			 "vfio %s: group %d is not viable\nPlease ensure all devices within the iommu_group are bound to their vfio bus driver.",
			 dev, g);
	err = container_new(&c);
	if (err)
		VMM_FAIL(err, "vfio %s: failed to open /dev/vfio/vfio: %s", dev,
			 strerror(err));
	err = set_container(g, c);
	if (err)
		VMM_FAIL(err, "vfio %s: Failed to set group container: %s", dev,
			 strerror(err));
	err = set_iommu(c, "type1v2");
	if (err)
		VMM_FAIL(err, "vfio %s: failed to set iommu for container: %s",
			 dev, strerror(err));
	err = group_get_device(g, dev);
	if (err)
		VMM_FAIL(err,
			 "vfio %s: error getting device from group %d: %s\nVerify all devices in group %d are bound to vfio-<bus> or pci-stub and not already in use",
			 dev, g, strerror(err), g);
	/* QEMU goes on without a request channel if this fails */
	(void)set_req_eventfd(dev);
	vmm_container[g] = c + 1;
	return 0;
undo:
	if (c >= 0) {
		if (group_container[g])
			ioctl(group_fd[g] - 1, VFIO_GROUP_UNSET_CONTAINER);
		close(container_fd[c] - 1);
		container_fd[c] = 0;
	}
	close(group_fd[g] - 1);
	group_fd[g] = 0;
	group_container[g] = 0;
	return 1;
#undef VMM_FAIL
}

/* ---- one line ---- */

/*
 * The child's name, as the kernel's messages about the writer give it
 * ("task \"tee\" (1017) blocked"): what 'dmaown run' names the task of a
 * line (src/cli/cmd-run.c): tee when the line pipes into tee, the command
 * when nothing is redirected, else the shell.
 */
static void task_name(struct word *w, int n)
{
	const char *comm = "bash";
	bool redirect = false, tee = false;
	int first = -1;

	for (int i = 0; i < n; i++) {
		if (w[i].type == W_GT || w[i].type == W_GTGT)
			redirect = true;
		if (w[i].type == W_WORD && !strcmp(w[i].text, "tee") && i &&
		    (w[i - 1].type == W_PIPE ||
		     (i > 1 && !strcmp(w[i - 1].text ? w[i - 1].text : "", "sudo") &&
		      w[i - 2].type == W_PIPE)))
			tee = true;
		if (first < 0 && w[i].type == W_WORD && strcmp(w[i].text, "sudo"))
			first = i;
	}
	if (tee)
		comm = "tee";
	else if (!redirect && first >= 0)
		comm = w[first].text;
	prctl(PR_SET_NAME, comm);
}

/*
 * A shell line in a child, under the timeout: the child sends back
 * "ERR STATUS OUTLEN ERRLEN\nOUTERR" through a pipe.
 */
static void run_shell_child(struct word *w, int n, struct result *r,
			    struct sbuf *log)
{
	int p[2];
	pid_t pid;
	struct sbuf msg = { 0 };
	char buf[4096];
	int waited = 0;

	if (pipe(p)) {
		note(r, errno);
		r->status = 126;
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct result cr = { 0 };
		FILE *f;

		close(p[0]);
		task_name(w, n);
		/* hold no VFIO file: an unbind must not wait for us */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[1])
				close(fd);
		run_shell(w, n, &cr);
		f = fdopen(p[1], "w");
		fprintf(f, "%d %d %zu %zu\n", cr.err, cr.status, cr.out.len,
			cr.err_text.len);
		fwrite(sb_str(&cr.out), 1, cr.out.len, f);
		fwrite(sb_str(&cr.err_text), 1, cr.err_text.len, f);
		fclose(f);
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int pr = poll(&pfd, 1, 200);
		ssize_t got;

		if (pr == 0) {
			size_t mark = log->len;

			/* the kernel may be asking for a device back */
			kmsg_drain(log);
			comply(log->len > mark ? log->buf + mark : NULL);
			waited += 200;
			if (waited >= LINE_TIMEOUT_MS) {
				kill(pid, SIGKILL);
				r->timeout = true;
				r->status = 124;
				r->err = ETIMEDOUT;
				sb_printf(&r->err_text,
					  "dmaown-guest: the line did not finish in %d s (blocked in the kernel)\n",
					  LINE_TIMEOUT_MS / 1000);
				break;
			}
			continue;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		got = read(p[0], buf, sizeof(buf));
		if (got <= 0)
			break;
		sb_add(&msg, buf, (size_t)got);
	}
	close(p[0]);
	if (!r->timeout) {
		size_t olen = 0, elen = 0;
		const char *body = msg.buf ? strchr(msg.buf, '\n') : NULL;

		waitpid(pid, NULL, 0);
		if (!body || sscanf(msg.buf, "%d %d %zu %zu", &r->err, &r->status,
				    &olen, &elen) != 4) {
			r->status = 126;
			r->err = EIO;
		} else {
			sb_add(&r->out, body + 1, olen);
			sb_add(&r->err_text, body + 1 + olen, elen);
		}
	}
	free(msg.buf);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/*
 * @sysfs-dump: the part of /sys that 'dmaown import --sysfs' reads, as
 * text a host rebuilds into a tree (scripts/kernel-corpus, docs/oracle.md):
 * "D DIR", "L PATH TARGET" (links as sysfs has them, relative) and
 * "F PATH HEX" (a file's bytes), paths below /sys. The entries are the
 * ones 'dmaown snapshot' keeps for PCI functions and groups; nothing is
 * blanked (QEMU's devices have no serial numbers or VPD).
 */
static void dump_link(struct sbuf *o, const char *rel)
{
	char path[1024], target[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/%s", rel);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	sb_printf(o, "L %s %s\n", rel, target);
}

static void dump_file(struct sbuf *o, const char *rel)
{
	char path[1024];
	unsigned char buf[4096];
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/%s", rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	sb_printf(o, "F %s ", rel);
	for (size_t i = 0; i < len; i++)
		sb_printf(o, "%02x", buf[i]);
	sb_add(o, "\n", 1);
}

static int cmd_sysfs_dump(struct result *r)
{
	static const char *const files[] = {
		"vendor", "device", "subsystem_vendor", "subsystem_device",
		"class", "revision", "driver_override", "config",
		"sriov_totalvfs", "sriov_offset", "sriov_stride",
		"sriov_vf_device", "sriov_numvfs", "sriov_drivers_autoprobe",
	};
	static const char *const links[] = { "driver", "iommu", "iommu_group", "physfn" };
	char **devs, **groups;
	size_t nd = 0, ng = 0;
	struct sbuf *o = &r->out;

	devs = list_dir("/sys/bus/pci/devices", &nd);
	if (!devs)
		return verb_fail(r, "@sysfs-dump", errno);
	for (size_t i = 0; i < nd; i++) {
		char rel[1536], real[1024];

		snprintf(rel, sizeof(rel), "bus/pci/devices/%s", devs[i]);
		dump_link(o, rel);
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s", devs[i]);
		if (!realpath(rel, real) || strncmp(real, "/sys/", 5))
			continue;
		sb_printf(o, "D %s\n", real + 5);
		for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
			snprintf(rel, sizeof(rel), "%s/%s", real + 5, files[k]);
			dump_file(o, rel);
		}
		for (size_t k = 0; k < sizeof(links) / sizeof(links[0]); k++) {
			snprintf(rel, sizeof(rel), "%s/%s", real + 5, links[k]);
			dump_link(o, rel);
		}
	}
	free_names(devs, nd);
	groups = list_dir("/sys/kernel/iommu_groups", &ng);
	for (size_t i = 0; groups && i < ng; i++) {
		char rel[512], **members;
		size_t nm = 0;

		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s", groups[i]);
		sb_printf(o, "D %s/devices\n", rel);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s/type", groups[i]);
		dump_file(o, rel);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s/reserved_regions", groups[i]);
		dump_file(o, rel);
		snprintf(rel, sizeof(rel), "/sys/kernel/iommu_groups/%s/devices", groups[i]);
		members = list_dir(rel, &nm);
		for (size_t k = 0; members && k < nm; k++) {
			snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s/devices/%s",
				 groups[i], members[k]);
			dump_link(o, rel);
		}
		free_names(members, nm);
	}
	free_names(groups, ng);
	return 0;
}

static void run_line(int lineno, const char *line)
{
	struct word w[MAX_WORDS];
	struct result r = { 0 };
	struct sbuf log = { 0 };
	int n = split(line, w, MAX_WORDS);

	kmsg_drain(NULL);
	if (n < 0) {
		r.status = 2;
		r.err = -1;
		sb_printf(&r.err_text,
			  "dmaown-guest: not taken by the guest's shell (variables, globs, background jobs)\n");
	} else if (n && w[0].type == W_WORD && w[0].text[0] == '@') {
		char *argv[MAX_WORDS + 1];
		int argc = 0;

		for (int i = 0; i < n && w[i].type == W_WORD; i++)
			argv[argc++] = w[i].text;
		argv[argc] = NULL;
		if (!strcmp(argv[0], "@vfio"))
			r.status = cmd_vfio(argc, argv, &r);
		else if (!strcmp(argv[0], "@vmm"))
			r.status = cmd_vmm(argc, argv, &r);
		else if (!strcmp(argv[0], "@sysfs-dump"))
			r.status = cmd_sysfs_dump(&r);
		else {
			r.status = 2;
			r.err = -1;
			sb_printf(&r.err_text,
				  "dmaown-guest: '%s' has no real-kernel form here\n",
				  argv[0]);
		}
	} else if (n) {
		run_shell_child(w, n, &r, &log);
	}
	/* give the log a moment: probe messages follow the write closely */
	usleep(50000);
	kmsg_drain(&log);
	fprintf(out, "{\"version\":1,\"line\":%d,\"cmd\":", lineno);
	json_str(out, line);
	fprintf(out, ",\"ret\":\"%s\",\"status\":%d,\"out\":",
		r.err > 0 ? strerrorname_np(r.err) : r.err < 0 ? "UNSUPPORTED" : "0",
		r.status);
	json_str(out, sb_str(&r.out));
	fputs(",\"err\":", out);
	json_str(out, sb_str(&r.err_text));
	print_log(sb_str(&log));
	if (r.timeout)
		fputs(",\"timeout\":true", out);
	fputs("}\n", out);
	fflush(out);
	for (int i = 0; i < n; i++)
		free(w[i].text);
	free(r.out.buf);
	free(r.err_text.buf);
	free(log.buf);
}

/* ---- the state, as 'dmaown show --json' has it ---- */

static void link_base(const char *path, char *buf, size_t len)
{
	char target[512];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	buf[0] = '\0';
	if (n < 0)
		return;
	target[n] = '\0';
	snprintf(buf, len, "%s", strrchr(target, '/') + 1);
}

/* A PCI device's driver and group names, "" for none. */
static void device_links(const char *dev, char *drv, size_t drv_len, char *grp,
			 size_t grp_len)
{
	char path[512];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev);
	link_base(path, drv, drv_len);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", dev);
	link_base(path, grp, grp_len);
}

/* The first line of the sysfs attribute @path, "" if it cannot be read. */
static void read_attr(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

/*
 * Whether userspace owns group @g through the helper: the kernel says so,
 * not the helper's record. When the group's last vfio device goes,
 * vfio_device_remove_group() detaches the container and gives the group
 * back, though the helper still holds its file (found by the corpus's
 * walks: unbind every vfio-pci device of a group a VMM holds).
 */
static bool group_held(int g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (g < 0 || g >= 4096 || !group_container[g] || !group_fd[g])
		return false;
	return !ioctl(group_fd[g] - 1, VFIO_GROUP_GET_STATUS, &st) &&
	       (st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
}

static void print_state(const char *what)
{
	char **devs, **groups;
	size_t nd = 0, ng = 0;

	fprintf(out, "{\"version\":1,\"state\":\"%s\",\"kernel\":\"%s\",\"devices\":[",
		what, release);
	devs = list_dir("/sys/bus/pci/devices", &nd);
	for (size_t i = 0; devs && i < nd; i++) {
		char drv[128], grp[32];

		device_links(devs[i], drv, sizeof(drv), grp, sizeof(grp));
		fprintf(out, "%s{\"name\":\"%s\",\"bus\":\"pci\",\"driver\":",
			i ? "," : "", devs[i]);
		if (drv[0])
			fprintf(out, "\"%s\"", drv);
		else
			fputs("null", out);
		fprintf(out, ",\"group\":%s}", grp[0] ? grp : "null");
	}
	fputs("],\"groups\":[", out);
	groups = list_dir("/sys/kernel/iommu_groups", &ng);
	/* numerically */
	for (size_t i = 0; groups && i < ng; i++)
		for (size_t k = i + 1; k < ng; k++)
			if (atoi(groups[k]) < atoi(groups[i])) {
				char *t = groups[i];

				groups[i] = groups[k];
				groups[k] = t;
			}
	for (size_t i = 0; groups && i < ng; i++) {
		char path[512], type[64] = "";
		char **members;
		size_t nm = 0;

		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices",
			 groups[i]);
		members = list_dir(path, &nm);
		fprintf(out, "%s{\"id\":%s,\"devices\":[", i ? "," : "",
			groups[i]);
		for (size_t k = 0; members && k < nm; k++)
			fprintf(out, "%s\"%s\"", k ? "," : "", members[k]);
		free_names(members, nm);
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type",
			 groups[i]);
		read_attr(path, type, sizeof(type));
		fprintf(out, "],\"type\":\"%s\",\"user\":%s}", type,
			group_held(atoi(groups[i])) ? "true" : "false");
	}
	fputs("]}\n", out);
	fflush(out);
	free_names(devs, nd);
	free_names(groups, ng);
}

/* ---- init ---- */

static void setup(void)
{
	struct utsname u;
	struct termios t;
	int fd;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	uname(&u);
	snprintf(release, sizeof(release), "%s", u.release);
	fd = open(RESULTS_TTY, O_WRONLY | O_NOCTTY);
	if (fd >= 0 && !tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	out = fd >= 0 ? fdopen(fd, "w") : stdout;
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/* The loaded modules as "module NAME" lines, sorted. */
static void loaded_modules(struct sbuf *s)
{
	FILE *f = fopen("/proc/modules", "r");
	char line[512], **v = NULL;
	size_t n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char **nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			break;
		v = nv;
		line[strcspn(line, " \n")] = '\0';
		v[n++] = strdup(line);
	}
	if (f)
		fclose(f);
	if (v)
		qsort(v, n, sizeof(*v), cmp_names);
	for (size_t i = 0; i < n; i++)
		sb_printf(s, "module %s\n", v[i]);
	free_names(v, n);
}

/* The value after "@key " on @dev's "device" line of a snapshot. */
static void snap_field(const char *snap, const char *dev, const char *key,
		       char *buf, size_t len)
{
	char head[160];
	const char *p, *k;

	buf[0] = '\0';
	snprintf(head, sizeof(head), "device %s ", dev);
	p = strstr(snap, head);
	if (!p)
		return;
	k = strstr(p, key);
	if (!k || k > strchrnul(p, '\n'))
		return;
	k += strlen(key);
	snprintf(buf, len, "%.*s", (int)strcspn(k, " \n"), k);
}

/*
 * Between two scenarios of a batch: the bindings back to boot's, as a
 * user would put them back. driver_override cleared, devices unbound
 * from drivers they did not have at boot, the modules the scenario
 * loaded unloaded (which drops new_id's dynamic ids with them), and the
 * boot drivers bound again.
 */
static void restore_boot(const char *boot)
{
	char **devs, path[512];
	size_t nd = 0;

	devs = list_dir("/sys/bus/pci/devices", &nd);
	for (size_t i = 0; devs && i < nd; i++) {
		char drv[128], grp[32], ovr[128], was[128];

		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", devs[i]);
		read_attr(path, ovr, sizeof(ovr));
		if (ovr[0] && strcmp(ovr, "(null)"))
			write_file(path, "\n", false);
		device_links(devs[i], drv, sizeof(drv), grp, sizeof(grp));
		snap_field(boot, devs[i], "driver ", was, sizeof(was));
		if (drv[0] && strcmp(drv, was)) {
			snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind",
				 drv);
			write_file(path, devs[i], false);
		}
	}
	/* unload what boot did not have, leaves first, until nothing goes */
	for (bool progress = true; progress;) {
		struct sbuf now = { 0 };
		const char *p;

		progress = false;
		loaded_modules(&now);
		for (p = sb_str(&now); (p = strstr(p, "module "));) {
			char name[128], want[160];

			p += 7;
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "\n"), p);
			snprintf(want, sizeof(want), "module %s\n", name);
			if (!strstr(boot, want) &&
			    !syscall(SYS_delete_module, name, O_NONBLOCK))
				progress = true;
		}
		free(now.buf);
	}
	for (size_t i = 0; devs && i < nd; i++) {
		char drv[128], grp[32], was[128];

		device_links(devs[i], drv, sizeof(drv), grp, sizeof(grp));
		snap_field(boot, devs[i], "driver ", was, sizeof(was));
		if (!drv[0] && strcmp(was, "(none)") && was[0]) {
			snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
				 was);
			write_file(path, devs[i], false);
		}
	}
	free_names(devs, nd);
}

/*
 * What must be as at boot before a scenario may follow another in the
 * same boot: each device's driver, group and driver_override, each
 * group's type, the loaded modules, and no VFIO file held by any process. Not printed: only
 * compared with the boot's.
 */
static void snapshot(struct sbuf *s)
{
	char **devs, **groups, **procs;
	size_t nd = 0, ng = 0, np = 0;

	devs = list_dir("/sys/bus/pci/devices", &nd);
	for (size_t i = 0; devs && i < nd; i++) {
		char path[512], drv[128], grp[32], ovr[128] = "";

		device_links(devs[i], drv, sizeof(drv), grp, sizeof(grp));
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", devs[i]);
		read_attr(path, ovr, sizeof(ovr));
		sb_printf(s, "device %s driver %s group %s driver_override %s\n",
			  devs[i], drv[0] ? drv : "(none)", grp[0] ? grp : "(none)",
			  ovr);
	}
	free_names(devs, nd);
	groups = list_dir("/sys/kernel/iommu_groups", &ng);
	for (size_t i = 0; groups && i < ng; i++) {
		char path[512], type[64] = "";

		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type",
			 groups[i]);
		read_attr(path, type, sizeof(type));
		sb_printf(s, "group %s type %s\n", groups[i], type);
	}
	free_names(groups, ng);
	loaded_modules(s);
	/* the owners: any process's descriptor on a VFIO file */
	procs = list_dir("/proc", &np);
	for (size_t i = 0; procs && i < np; i++) {
		char dir[300];
		char **fds;
		size_t nf = 0;

		if (procs[i][0] < '0' || procs[i][0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", procs[i]);
		fds = list_dir(dir, &nf);
		for (size_t k = 0; fds && k < nf; k++) {
			char path[600], target[256];
			ssize_t n;

			snprintf(path, sizeof(path), "%s/%s", dir, fds[k]);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (!strncmp(target, "/dev/vfio/", 10) ||
			    strstr(target, "[vfio"))
				sb_printf(s, "open file %s\n", target);
		}
		free_names(fds, nf);
	}
	free_names(procs, np);
}

/*
 * Every VFIO file of ours closed, as the helper's exit would: a writer
 * still blocked in an unbind then finishes.
 */
static void close_all(void)
{
	while (ndevfiles)
		device_close(devfiles[ndevfiles - 1].name);
	for (int g = 0; g < 4096; g++) {
		if (group_fd[g])
			close(group_fd[g] - 1);
		group_fd[g] = 0;
		group_container[g] = 0;
		vmm_container[g] = 0;
	}
	for (int c = 0; c < MAX_HANDLES; c++) {
		if (container_fd[c])
			close(container_fd[c] - 1);
		container_fd[c] = 0;
	}
}

/* The first line of @a that @b lacks, for the dirty report; false if none. */
static bool first_change(const char *a, const char *b, const char *what,
			 char *buf, size_t len)
{
	const char *p = a;

	buf[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (!strstr(b, line)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s '%s'", what, line);
			return true;
		}
		p += l;
	}
	return false;
}

/*
 * The end of scenario @n of a batch: its end state, then every file
 * closed and the bindings put back; true when the state is back to the
 * boot's (@boot), so that the next scenario may run in this boot.
 * Drivers and blocked writers settle after the close, so the restoring
 * and the comparison are retried for a few seconds.
 */
static bool scenario_end(int n, const char *boot)
{
	struct sbuf now = { 0 };
	bool clean = false;

	print_state("end");
	close_all();
	for (int tries = 0; tries < 25 && !clean; tries++) {
		if (tries)
			usleep(200000);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (tries % 5 == 0)
			restore_boot(boot);
		now.len = 0;
		snapshot(&now);
		clean = !strcmp(sb_str(&now), boot);
	}
	fprintf(out, "{\"scenario_done\":%d,\"clean\":%s", n,
		clean ? "true" : "false");
	if (!clean) {
		char why[600];

		if (!first_change(boot, sb_str(&now), "boot had", why, sizeof(why)))
			first_change(sb_str(&now), boot, "now has", why, sizeof(why));
		fputs(",\"dirty\":", out);
		json_str(out, why);
	}
	fputs("}\n", out);
	fflush(out);
	free(now.buf);
	kmsg_drain(NULL);
	return clean;
}

int main(void)
{
	char line[4096];
	struct result r = { 0 };
	struct sbuf boot = { 0 };
	int lineno = 0, scenario = 0;
	bool dirty = false;
	FILE *f;

	setup();
	/* the machine file's drivers, as it loads them at boot */
	f = fopen("/dmaown/boot-modules", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *params;

		line[strcspn(line, "\n")] = '\0';
		params = strchr(line, ' ');
		if (params)
			*params++ = '\0';
		if (line[0] && modprobe_one(line, params ? params : "", false, &r))
			fprintf(out, "{\"boot_error\":\"modprobe %s failed\"}\n", line);
	}
	if (f)
		fclose(f);
	/* let probes finish (deferred work, udev-less firmware loads) */
	sleep(1);
	kmsg_drain(NULL);
	print_state("boot");
	snapshot(&boot);
	f = fopen("/dmaown/script", "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *s = line;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		s += strspn(s, " \t");
		/*
		 * A batch (docs/oracle.md): each scenario starts with this
		 * line, numbers its lines from 1, and follows the previous
		 * one only if that one left the state as at boot.
		 */
		if (!strcmp(s, "# dmaown-guest: scenario")) {
			if (scenario && !scenario_end(scenario, sb_str(&boot))) {
				dirty = true;
				break;
			}
			fprintf(out, "{\"scenario\":%d}\n", ++scenario);
			lineno = 0;
			complying = true;
			continue;
		}
		/*
		 * A test hook: a userspace that never gives a device back, so
		 * that a blocked unbind meets the line timeout
		 * (scripts/test-kernel's timeout check).
		 */
		if (!strcmp(s, "# dmaown-guest: no-comply"))
			complying = false;
		if (!*s || *s == '#')
			continue;
		run_line(lineno, line);
	}
	if (f)
		fclose(f);
	if (scenario && !dirty)
		scenario_end(scenario, sb_str(&boot));
	else if (!scenario)
		print_state("end");
	free(boot.buf);
	/*
	 * As the helper's exit would: every file closed, so that a writer
	 * still blocked in an unbind finishes before the power-off, which
	 * would wait for its device lock.
	 */
	close_all();
	sleep(1);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	fputs("{\"done\":true}\n", out);
	fflush(out);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
