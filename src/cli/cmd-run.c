// SPDX-License-Identifier: MIT
/*
 * dmaown run / show / machines: load a machine, replay a script through the
 * sysfs layer, print what a shell and the kernel log would show.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libgen.h>

#include "cli/cli.h"
#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "dmaown/topology.h"

/* ---- loading ---- */

static bool looks_like_file(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') ||
	       (n > 8 && !strcmp(name + n - 8, ".machine"));
}

/*
 * A machine from a built-in name or a file, with the planted @faults in
 * force from boot (they go in as a "fault" statement).
 */
struct machine *cli_load_machine(const char *spec, unsigned int faults)
{
	struct topo_error err = { 0 };
	struct machine *m;

	if (looks_like_file(spec)) {
		/* read as a stream: a machine file is as large as its machine */
		FILE *f = fopen(spec, "rb");

		if (!f) {
			fprintf(stderr, "dmaown: cannot open '%s': %s\n", spec,
				errno_text(errno));
			return NULL;
		}
		m = topology_load_stream(spec, f, faults, &err);
		fclose(f);
	} else {
		const char *text = builtin_machine_text(spec);

		if (!text) {
			fprintf(stderr, "dmaown: no built-in machine '%s' (known: ",
				spec);
			cli_list_machines(stderr);
			fprintf(stderr, "; or a FILE.machine)\n");
			return NULL;
		}
		m = topology_load_faults(spec, text, faults, &err);
	}
	if (!m && err.line)
		fprintf(stderr, "dmaown: %s:%d:%d: %s\n", err.file, err.line,
			err.col, err.msg);
	else if (!m)
		fprintf(stderr, "dmaown: %s: %s\n", err.file, err.msg);
	return m;
}

/*
 * The value of a header line "# KEY VALUE" (KEY ends with ':'), trimmed
 * in place, or NULL when @line is not that directive.
 */
static char *header_value(char *line, const char *key)
{
	size_t klen = strlen(key), len;
	char *v = line;

	while (*v == ' ' || *v == '\t')
		v++;
	if (strncmp(v, key, klen))
		return NULL;
	v += klen;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\r' ||
		       v[len - 1] == '\t'))
		v[--len] = '\0';
	return v;
}

/*
 * "# machine: NAME|FILE": a relative FILE is the script's neighbour, so a
 * script and its machine file travel together. Returns an allocated spec.
 */
static char *script_machine_spec(const char *path, const char *v)
{
	char *dir, *copy, *full;

	if (v[0] == '/' || !looks_like_file(v) || !strcmp(path, "-"))
		return strdup(v);
	copy = strdup(path);
	if (!copy)
		return NULL;
	dir = dirname(copy);
	if (!strcmp(dir, ".") || asprintf(&full, "%s/%s", dir, v) < 0)
		full = strdup(v);
	free(copy);
	return full;
}

/* ---- output ---- */

void cli_print_ts(FILE *out, uint64_t ns)
{
	fprintf(out, "[%5llu.%06llu] ", (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns / 1000ULL % 1000000ULL));
}

/*
 * A WARN report as v6.6's __warn() prints it: the site (the kernel's line
 * when the model's WARN stands for one of the kernel's), print_modules(),
 * dump_stack_print_info(), the call trace as the architecture's
 * show_stack() frames it, without registers or code bytes and without
 * +offset/size (the model has no addresses).
 */
void cli_print_warn(FILE *out, const struct warn_report *w)
{
	bool x86 = !strcmp(w->arch, "x86_64");

	cli_print_ts(out, w->ts_ns);
	fprintf(out, "------------[ cut here ]------------\n");
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "WARNING: CPU: 0 PID: %d at %s:%d %s\n", w->pid, w->file,
		w->upstream_line ? w->upstream_line : w->line, w->func);
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "Modules linked in:%s%s\n", w->modules[0] ? " " : "",
		w->modules);
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "CPU: 0 PID: %d Comm: %s %s 6.6.0-dmaown #1\n", w->pid,
		w->comm[0] ? w->comm : "swapper/0", w->tainted);
	cli_print_ts(out, w->ts_ns);
	fprintf(out, x86 ? "Call Trace:\n" : "Call trace:\n");
	if (x86) {
		cli_print_ts(out, w->ts_ns);
		fprintf(out, " <TASK>\n");
	}
	for (unsigned int i = 0; i < w->ntrace; i++) {
		cli_print_ts(out, w->ts_ns);
		fprintf(out, " %s\n", w->trace[i]);
	}
	if (x86) {
		cli_print_ts(out, w->ts_ns);
		fprintf(out, " </TASK>\n");
	}
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "---[ end trace 0000000000000000 ]---\n");
}

void cli_print_log(FILE *out, struct machine *m)
{
	size_t nl = machine_log_count(m), nw = machine_warn_count(m);
	size_t il = 0, iw = 0;

	while (il < nl || iw < nw) {
		const struct klog_entry *e = il < nl ? machine_log_entry(m, il) :
						       NULL;
		const struct warn_report *w = iw < nw ? machine_warn(m, iw) :
							NULL;

		if (e && (!w || e->ts_ns <= w->ts_ns)) {
			cli_print_ts(out, e->ts_ns);
			fprintf(out, "%s\n", e->text);
			il++;
		} else if (w) {
			cli_print_warn(out, w);
			iw++;
		} else {
			break;
		}
	}
}

/* The log lines of @res and its WARNs, merged in time order. */
static void print_dmesg(FILE *out, struct machine *m,
			const struct script_result *res)
{
	size_t il = 0, iw = 0;

	while (il < res->nlog || iw < res->nwarn) {
		const struct warn_report *w =
			iw < res->nwarn ? machine_warn(m, res->warn_first + iw) :
					  NULL;

		if (iw < res->nwarn && !w) { /* beyond the kept reports */
			iw = res->nwarn;
			continue;
		}
		if (il < res->nlog && (!w || res->log[il].ts_ns <= w->ts_ns)) {
			cli_print_ts(out, res->log[il].ts_ns);
			fprintf(out, "%s\n", res->log[il].text);
			il++;
		} else {
			cli_print_warn(out, w);
			iw++;
		}
	}
}

static void json_str(FILE *out, const char *s)
{
	size_t len = strlen(s) * 6 + 3;
	char *buf = malloc(len);

	if (!buf) {
		fputs("\"\"", out);
		return;
	}
	json_escape(s, buf, len);
	fputs(buf, out);
	free(buf);
}

static void print_json_line(FILE *out, struct machine *m, int lineno,
			    const char *cmd, const struct script_result *res,
			    unsigned int violated, const char *why)
{
	fprintf(out, "{\"version\":%d,\"line\":%d,\"cmd\":", DMAOWN_JSON_VERSION,
		lineno);
	json_str(out, cmd);
	fprintf(out, ",\"ret\":\"%s\",\"status\":%d,\"out\":",
		res->ret ? errno_name(res->ret) : "0", res->status);
	json_str(out, res->out ? res->out : "");
	fprintf(out, ",\"err\":");
	json_str(out, res->err ? res->err : "");
	fprintf(out, ",\"log\":[");
	for (size_t i = 0; i < res->nlog; i++) {
		char ts[64];

		snprintf(ts, sizeof(ts), "[%5llu.%06llu] ",
			 (unsigned long long)(res->log[i].ts_ns / 1000000000ULL),
			 (unsigned long long)(res->log[i].ts_ns / 1000ULL %
					      1000000ULL));
		char *full;
		if (asprintf(&full, "%s%s", ts, res->log[i].text) < 0)
			continue;
		fprintf(out, "%s", i ? "," : "");
		json_str(out, full);
		free(full);
	}
	fprintf(out, "],\"warn\":[");
	for (size_t i = 0; i < res->nwarn; i++) {
		const struct warn_report *w = machine_warn(m, res->warn_first + i);

		if (!w)
			break;
		fprintf(out, "%s{\"file\":", i ? "," : "");
		json_str(out, w->file);
		fprintf(out, ",\"line\":%d,\"upstream_line\":", w->line);
		if (w->upstream_line)
			fprintf(out, "%d", w->upstream_line);
		else
			fprintf(out, "null");
		fprintf(out, ",\"func\":");
		json_str(out, w->func);
		fprintf(out, ",\"cond\":");
		json_str(out, w->cond ? w->cond : "");
		fprintf(out, ",\"comm\":");
		json_str(out, w->comm);
		fprintf(out, ",\"pid\":%d,\"modules\":", w->pid);
		json_str(out, w->modules);
		fprintf(out, ",\"tainted\":");
		json_str(out, w->tainted);
		fprintf(out, ",\"trace\":[");
		for (unsigned int k = 0; k < w->ntrace; k++) {
			fprintf(out, "%s", k ? "," : "");
			json_str(out, w->trace[k]);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "]");
	if (violated) {
		fprintf(out, ",\"invariant\":");
		json_str(out, check_invariant_name(violated & -violated));
		fprintf(out, ",\"why\":");
		json_str(out, why);
	}
	fprintf(out, "}\n");
}

/* ---- dmaown run ---- */

static void run_usage(FILE *out)
{
	fputs("usage: dmaown run [options] SCRIPT|-\n"
	      "\n"
	      "Replay a script of shell lines (as pasted from a bug report) on a\n"
	      "simulated machine and print what the shell would show.\n"
	      "\n"
	      "Options:\n"
	      "  -m, --machine M   a built-in machine name or a .machine file; default:\n"
	      "                    the script's '# machine: M' comment (a relative\n"
	      "                    file there is found beside the script)\n"
	      "      --dmesg       interleave the kernel log and WARN reports\n"
	      "      --json        one JSON object per script line (docs/json.md)\n"
	      "  -x, --echo        print each line as '$ LINE' before its output\n"
	      "  -e                stop at the first failing line, as set -e\n"
	      "      --show        print the machine state after the script\n"
	      "      --fault F     plant a fault from boot: v7-order (the seed's bug),\n"
	      "                    or a checker mutant (see 'dmaown check --help')\n"
	      "      --check       check the invariants I1-I6 after every line, as\n"
	      "                    'dmaown check' does; stop at a violation (exit 1)\n"
	      "      --format N    the script language version (1)\n"
	      "      --svg         draw the run as a message sequence chart (lanes for\n"
	      "                    the shell, each process, the kernel, each group\n"
	      "                    changed; docs/pictures.md) into SCRIPT's name with\n"
	      "                    .svg for .sh, or -o FILE\n"
	      "      --dot         the same chart as Graphviz DOT text (.dot)\n"
	      "  -o, --output FILE where --svg or --dot writes\n"
	      "      --kernel V    follow kernel V where it differs from v6.6: 6.1,\n"
	      "                    6.6 or 6.12 (default: the machine file's 'kernel',\n"
	      "                    else 6.6; docs/architecture.md)\n"
	      "  -n, --numeric     lspci and --show without the names pci.ids gives\n"
	      "      --pci-ids F   names from the pci.ids file F (default: the host's,\n"
	      "                    as lspci finds it; or $DMAOWN_PCI_IDS)\n"
	      "  -h, --help        this text\n"
	      "\n"
	      "A '# dmaown: OPTIONS' line in the script's leading comments adds\n"
	      "--fault, --check and --format as if given here; counterexamples that\n"
	      "'dmaown check' saves carry one.\n"
	      "\n"
	      "Exit status: 0 the script ran to its end with no WARN; 1 a WARN fired\n"
	      "or (--check) an invariant broke; 2 a bad script, machine file or usage;\n"
	      "3 stopped by -e at a failing line.\n",
	      out);
}

enum {
	OPT_DMESG = 256,
	OPT_JSON,
	OPT_SHOW,
	OPT_FAULT,
	OPT_CHECK,
	OPT_FORMAT,
	OPT_PCI_IDS,
	OPT_SVG,
	OPT_DOT,
	OPT_KERNEL,
};

static const struct option run_options[] = {
	{ "machine", required_argument, NULL, 'm' },
	{ "dmesg", no_argument, NULL, OPT_DMESG },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "echo", no_argument, NULL, 'x' },
	{ "show", no_argument, NULL, OPT_SHOW },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "svg", no_argument, NULL, OPT_SVG },
	{ "dot", no_argument, NULL, OPT_DOT },
	{ "output", required_argument, NULL, 'o' },
	{ "numeric", no_argument, NULL, 'n' },
	{ "pci-ids", required_argument, NULL, OPT_PCI_IDS },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * One option of 'dmaown run', from the command line or (@header) from a
 * '# dmaown:' line, where only what changes the machine's behaviour may
 * stand. Returns 0, 1 for --help, or 2 after a message.
 */
static int run_option(const char *cmd, int c, const char *arg, bool header,
		      const char *word, struct run_opts *o,
		      const char **machine_spec)
{
	if (header && c != OPT_FAULT && c != OPT_CHECK && c != OPT_FORMAT) {
		fprintf(stderr,
			"%s: '# dmaown:' takes --fault, --check and --format, not '%s'\n",
			cmd, word);
		return 2;
	}
	switch (c) {
	case 'm':
		*machine_spec = arg;
		return 0;
	case OPT_DMESG:
		o->dmesg = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case 'x':
		o->echo = true;
		return 0;
	case 'e':
		o->errexit = true;
		return 0;
	case OPT_SHOW:
		o->show = true;
		return 0;
	case 'n':
		o->numeric = true;
		return 0;
	case OPT_PCI_IDS:
		o->pci_ids = arg;
		return 0;
	case OPT_FAULT:
		return cli_parse_fault(cmd, arg, &o->faults) ? 2 : 0;
	case OPT_KERNEL:
		o->kernel = machine_kernel_parse(arg) + 1;
		if (!o->kernel) {
			fprintf(stderr,
				"%s: --kernel %s: the model follows 6.1, 6.6 or 6.12\n",
				cmd, arg);
			return 2;
		}
		return 0;
	case OPT_CHECK:
		o->check = true;
		return 0;
	case OPT_FORMAT:
		if (cli_parse_int(cmd, "--format", arg, 1, 1000, &o->format))
			return 2;
		if (o->format > SCRIPT_FORMAT) {
			fprintf(stderr,
				"%s: script format %d is newer than this dmaown reads (%d)\n",
				cmd, o->format, SCRIPT_FORMAT);
			return 2;
		}
		return 0;
	case OPT_SVG:
	case OPT_DOT:
		o->picture = c == OPT_SVG ? "svg" : "dot";
		return 0;
	case 'o':
		o->picture_out = arg;
		return 0;
	case 'h':
		return 1;
	default:
		return cli_bad_option(cmd, c, optopt, word);
	}
}

/* One '# dmaown: OPTIONS' line of the script's header. */
static int run_header_line(const char *path, int lineno, char *v,
			   struct run_opts *o)
{
	char cmd[512], *argv[64], *save = NULL;
	int argc = 1, c, ret = 0;

	snprintf(cmd, sizeof(cmd), "dmaown: %s:%d", path, lineno);
	argv[0] = cmd;
	for (char *w = strtok_r(v, " \t", &save); w && argc < 63;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	optind = 0;
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, ":", run_options, NULL)) !=
			       -1)
		ret = run_option(cmd, c, optarg, true, argv[optind - 1], o, NULL);
	if (!ret && optind < argc) {
		fprintf(stderr, "%s: unexpected '%s' in '# dmaown:'\n", cmd,
			argv[optind]);
		ret = 2;
	}
	return ret ? 2 : 0;
}

/*
 * A script line from @f without its newline, or NULL at the end; a NUL
 * byte in it is an error (2 in *ret_err).
 */
static char *read_line(FILE *f, const char *path, int lineno, char **buf,
		       size_t *cap, int *ret_err)
{
	ssize_t got = getline(buf, cap, f);

	if (got < 0)
		return NULL;
	if (memchr(*buf, '\0', (size_t)got)) {
		fprintf(stderr, "dmaown: %s:%d: NUL byte in script\n", path,
			lineno);
		*ret_err = 2;
		return NULL;
	}
	if (got && (*buf)[got - 1] == '\n')
		(*buf)[got - 1] = '\0';
	return *buf;
}

/*
 * The leading comment block, before the first command line: its
 * '# machine:' (the first) and '# dmaown:' lines (each, in order). Leaves
 * the first command line in @buf (or sets *ret_eof), @lineno at it.
 */
static int read_header(FILE *f, const char *path, struct run_opts *o,
		       char **ret_machine, char **buf, size_t *cap,
		       int *lineno, bool *ret_eof)
{
	int err = 0;
	char *line, *v;

	while ((line = read_line(f, path, ++*lineno, buf, cap, &err))) {
		const char *q = line + strspn(line, " \t\r");

		if (*q && *q != '#')
			return 0; /* a command line: the header is over */
		if (!*ret_machine && (v = header_value(line, "# machine:"))) {
			*ret_machine = script_machine_spec(path, v);
			if (!*ret_machine)
				return 2;
		} else if ((v = header_value(line, "# dmaown:"))) {
			if (run_header_line(path, *lineno, v, o))
				return 2;
		}
	}
	*ret_eof = true;
	return err;
}

/*
 * --check: the checker's invariants after a line, I5 from the ownership
 * before it. Returns the violated mask, with the words in @why.
 */
static unsigned int run_check_line(struct machine *m, const char *before,
				   const struct script_result *res, char *why,
				   size_t why_len)
{
	unsigned int bad = machine_check_invariants(
		m, INV_ALL & ~INV_FAILED_NOOP, why, why_len);
	char *after;

	/* a concurrent block's tasks may fail and succeed in one line */
	if (bad || !res->status || !before || res->concurrent)
		return bad;
	after = check_ownership_snapshot(m);
	if (after && !check_ownership_kept(before, after)) {
		bad = INV_FAILED_NOOP;
		snprintf(why, why_len,
			 "the line failed but changed group ownership or bindings");
	}
	free(after);
	return bad;
}

/* The chart of the run to -o FILE or beside the script; 0 or 2. */
static int run_write_chart(const struct run_opts *o, const char *path,
			   struct msc *msc)
{
	char *text = script_msc_dot(msc);
	char *file = o->picture_out ? NULL : cli_picture_path(path, o->picture);
	int ret;

	if (!text || (!o->picture_out && !file)) {
		fprintf(stderr, "dmaown run: out of memory\n");
		ret = 2;
	} else {
		fflush(stdout);
		ret = cli_write_picture("dmaown run", text,
					strcmp(o->picture, "dot") ? o->picture :
								    NULL,
					o->picture_out ? o->picture_out : file);
	}
	free(text);
	free(file);
	return ret;
}

int cli_run_stream(const char *path, FILE *f, const char *machine_spec,
		   const struct run_opts *opts)
{
	struct run_opts ro = *opts, *o = &ro;
	struct machine_show_names names = { 0 };
	void *names_handle = NULL;
	char *spec_owned = NULL, *p, *buf = NULL;
	struct machine *m;
	struct script_ctx *ctx;
	struct msc *msc = NULL;
	bool msc_marked = false;
	int lineno = 0, status = 0, pending_at = 0, missing, err = 0;
	bool eof = false;
	size_t cap = 0;

	if (read_header(f, path, o, &spec_owned, &buf, &cap, &lineno, &eof)) {
		free(spec_owned);
		free(buf);
		return 2;
	}
	if (!machine_spec)
		machine_spec = spec_owned;
	if (!machine_spec) {
		fprintf(stderr, "dmaown run: %s: no machine: give --machine or a '# machine: NAME' line\n",
			path);
		free(buf);
		return 2;
	}
	m = cli_load_machine(machine_spec, o->faults);
	free(spec_owned);
	if (!m) {
		free(buf);
		return 2;
	}
	if (o->kernel) /* the command line wins over the machine file */
		machine_set_kernel(m, (enum machine_kernel)(o->kernel - 1));
	machine_log_clear(m); /* the boot log is not the script's */
	ctx = script_ctx_new(m, path);
	if (!ctx) {
		machine_destroy(m);
		return 2;
	}
	if (!o->numeric) {
		names_handle = cli_names_open_file(&names, o->pci_ids);
		if (!names_handle && o->pci_ids) {
			script_ctx_free(ctx);
			machine_destroy(m);
			return 2;
		}
		script_ctx_set_names(ctx, names_handle ? &names : NULL);
	}
	if (o->picture) {
		char *title = NULL;

		if (!o->title &&
		    asprintf(&title, "%s on %s", path, machine_name(m)) < 0)
			title = NULL;
		msc = script_msc_new(m, o->title ? o->title : title ? title : path);
		free(title);
		if (!msc) {
			fprintf(stderr, "dmaown run: out of memory\n");
			cli_names_close(names_handle);
			script_ctx_free(ctx);
			machine_destroy(m);
			free(buf);
			return 2;
		}
	}
	if (o->check) {
		char why[512] = "";
		unsigned int bad = machine_check_invariants(
			m, INV_ALL & ~INV_FAILED_NOOP, why, sizeof(why));

		if (bad) {
			struct script_result none = { .out = "", .err = "" };

			fprintf(stderr, "dmaown: %s: %s violated at boot: %s\n",
				path, check_invariant_name(bad & -bad), why);
			/* the chart is the mark alone, at boot */
			if (msc && (script_msc_step(msc, m, 0, "(boot)", &none,
						    false, bad, why) ||
				    run_write_chart(o, path, msc))) {
				script_msc_free(msc);
				cli_names_close(names_handle);
				script_ctx_free(ctx);
				machine_destroy(m);
				free(buf);
				return 2;
			}
			script_msc_free(msc);
			cli_names_close(names_handle);
			script_ctx_free(ctx);
			machine_destroy(m);
			free(buf);
			return 1;
		}
	}
	/* the header left the first command line in buf; then one a time */
	for (p = eof ? NULL : buf; p;
	     p = read_line(f, path, ++lineno, &buf, &cap, &err)) {
		struct script_result res;
		const char *s;

		for (s = p; *s == ' ' || *s == '\t'; s++)
			;
		if (*s && *s != '#') {
			/* the task name WARN reports show: the writing command */
			char comm[16] = "bash", why[512] = "";
			char *before = NULL;
			unsigned int bad = 0;
			const char *w = s;

			while (!strncmp(w, "sudo ", 5))
				w += 5;
			if (strstr(s, "| sudo tee") || strstr(s, "| tee"))
				snprintf(comm, sizeof(comm), "tee");
			else if (!strchr(s, '>'))
				sscanf(w, "%15[^ ]", comm);
			kcompat_set_comm(comm);
			/* the shell's child for script line N: PID 1000 + N */
			kcompat_set_pid(1000 + lineno);
			if (o->echo && !o->json && !o->quiet)
				printf("$ %s\n", p);
			/* the chart marks where an invariant breaks */
			if (o->check || (msc && !msc_marked))
				before = check_ownership_snapshot(m);
			if (script_exec_line(ctx, p, lineno, &res)) {
				fflush(stdout);
				fprintf(stderr, "dmaown: %s", res.err);
				script_result_free(&res);
				free(before);
				status = 2;
				break;
			}
			if (o->check || (msc && !msc_marked))
				bad = run_check_line(m, before, &res, why,
						     sizeof(why));
			free(before);
			if (msc && script_msc_step(msc, m, lineno, p, &res,
						   script_ctx_pending(ctx, NULL) > 0,
						   bad, why)) {
				fprintf(stderr, "dmaown run: out of memory\n");
				script_msc_free(msc);
				msc = NULL;
				status = 2;
			}
			msc_marked |= bad != 0;
			if (!o->check)
				bad = 0;
			if (o->quiet) {
				/* the chart is all the caller wants */
			} else if (o->json) {
				print_json_line(stdout, m, lineno, p, &res, bad,
						why);
			} else {
				fputs(res.out, stdout);
				fflush(stdout);
				fputs(res.err, o->err_to_stdout ? stdout : stderr);
				fflush(stderr);
				if (o->dmesg)
					print_dmesg(stdout, m, &res);
			}
			if (res.nwarn)
				status = 1;
			if (bad && o->quiet) {
				script_result_free(&res);
				status = 1;
				break;
			}
			if (bad) {
				fflush(stdout);
				fprintf(stderr, "dmaown: %s:%d: %s violated: %s\n",
					path, lineno,
					check_invariant_name(bad & -bad), why);
				script_result_free(&res);
				status = 1;
				break;
			}
			if (o->errexit && res.status) {
				script_result_free(&res);
				if (!status)
					status = 3;
				break;
			}
			script_result_free(&res);
		}
	}
	free(buf);
	if (err && !status)
		status = err;
	missing = script_ctx_pending(ctx, &pending_at);
	if (missing && status != 2 && status != 3 && !(o->check && status)) {
		fflush(stdout);
		fprintf(stderr,
			"dmaown: %s:%d: the script ends %d command line%s short of this '@concurrent' block\n",
			path, pending_at, missing, missing == 1 ? "" : "s");
		status = 2;
	}
	if (msc && status != 2 && run_write_chart(o, path, msc))
		status = 2;
	script_msc_free(msc);
	if (o->show && status != 2) {
		char *state = o->json ? machine_show(m, SHOW_JSON) :
			machine_show_text(m, names_handle ? &names : NULL);

		if (state)
			fputs(state, stdout);
		free(state);
	}
	script_ctx_free(ctx);
	cli_names_close(names_handle);
	machine_destroy(m);
	return status;
}

int cmd_run(int argc, char **argv)
{
	const char *cmd = "dmaown run";
	struct run_opts o = { 0 };
	const char *machine_spec = NULL, *path;
	int c, status;
	FILE *f;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:o:xenh", run_options, NULL)) !=
	       -1) {
		status = run_option(cmd, c, optarg, false, argv[optind - 1], &o,
				    &machine_spec);
		if (status == 1) {
			run_usage(stdout);
			return 0;
		}
		if (status)
			return status;
	}
	if (optind == argc) {
		fprintf(stderr, "%s: no SCRIPT given (see '%s --help')\n", cmd,
			cmd);
		return 2;
	}
	if (optind < argc - 1) {
		fprintf(stderr, "%s: one SCRIPT only, not also '%s'\n", cmd,
			argv[optind + 1]);
		return 2;
	}
	path = argv[optind];
	if (o.picture_out && !o.picture) {
		fprintf(stderr, "%s: -o names where --svg or --dot writes; give one\n",
			cmd);
		return 2;
	}
	if (o.picture && !o.picture_out && !strcmp(path, "-")) {
		fprintf(stderr, "%s: --%s of standard input needs -o FILE\n", cmd,
			o.picture);
		return 2;
	}
	if (o.picture && strcmp(o.picture, "dot") && !cli_have_dot()) {
		fprintf(stderr, "%s: --%s needs Graphviz's 'dot', which is not in PATH (install the graphviz package), or take the chart with --dot\n",
			cmd, o.picture);
		return 2;
	}
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "dmaown: cannot open '%s': %s\n", path,
			errno_text(errno));
		return 2;
	}
	status = cli_run_stream(path, f, machine_spec, &o);
	if (f != stdin)
		fclose(f);
	return status;
}

/* ---- dmaown show ---- */

/* The live state a 'dmaown mount' serves at @dir (its .dmaown/show*). */
static int show_mounted(const char *dir, enum machine_show_format fmt,
			const char *extra)
{
	char path[4096], buf[8192];
	size_t n;
	FILE *f;

	if (extra) {
		fprintf(stderr, "dmaown show: --mounted takes no MACHINE ('%s')\n",
			extra);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/.dmaown/show%s", dir,
		 fmt == SHOW_JSON ? ".json" : fmt == SHOW_DOT ? ".dot" : "");
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "dmaown show: %s: no machine mounted there (%s)\n",
			dir, strerror(errno));
		return 2;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "machine", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "dot", no_argument, NULL, 'd' },
		{ "svg", no_argument, NULL, 's' },
		{ "png", no_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "pci-ids", required_argument, NULL, 'I' },
		{ "mounted", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum machine_show_format fmt = SHOW_TEXT;
	const char *spec = NULL, *mounted = NULL, *out, *picture;
	const char *pci_ids = NULL;
	struct cli_picture pic = { 0 };
	struct machine_show_names names = { 0 };
	void *names_handle = NULL;
	struct machine *m;
	char *state;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:o:nh", opts, NULL)) != -1) {
		if (cli_picture_opt(c, optarg, &pic)) {
			if (pic.format)
				fmt = SHOW_DOT;
			continue;
		}
		switch (c) {
		case 'm':
			spec = optarg;
			break;
		case 'j':
			fmt = SHOW_JSON;
			pic.format = NULL;
			break;
		case 'I':
			pci_ids = optarg;
			break;
		case 'M':
			mounted = optarg;
			break;
		case 'h':
			fputs("usage: dmaown show [--json|--dot|--svg|--png] [-n|--pci-ids FILE] [-o FILE] [-m] MACHINE\n"
			      "       dmaown show [--json|--dot] --mounted DIR\n"
			      "\n"
			      "Boot a built-in machine or a .machine file and print its devices,\n"
			      "IOMMU groups and DMA ownership: text, JSON (docs/json.md), or a\n"
			      "picture (docs/pictures.md): the PCI tree left to right, each IOMMU\n"
			      "group a box coloured by its owner, each device coloured by its\n"
			      "driver's DMA class, as Graphviz DOT text (--dot) or drawn by\n"
			      "Graphviz's dot (--svg, --png).\n"
			      "-o FILE writes to FILE instead of standard output; -n (--numeric)\n"
			      "leaves out the vendor and device names pci.ids gives; --pci-ids FILE\n"
			      "takes them from FILE (default: $DMAOWN_PCI_IDS, else the host's).\n"
			      "--mounted DIR prints the state, now, of the machine that\n"
			      "'dmaown mount' serves at DIR.\n"
			      "\n"
			      "Exit status: 0 shown; 1 shown, but a WARN fired while the machine\n"
			      "booted; 2 bad usage or machine, or dot missing or failing.\n",
			      stdout);
			return 0;
		default:
			return cli_bad_option("dmaown show", c, optopt,
					      argv[optind - 1]);
		}
	}
	/* dot -T format: "svg", "png"; NULL the DOT text (or not a picture) */
	picture = pic.format && *pic.format ? pic.format : NULL;
	out = pic.out;
	if (mounted) {
		if (picture || out || pic.numeric || pci_ids) {
			fprintf(stderr, "dmaown show: --mounted takes --json or --dot only\n");
			return 2;
		}
		return show_mounted(mounted, fmt, optind < argc ? argv[optind] : spec);
	}
	if (!spec && optind < argc)
		spec = argv[optind++];
	if (!spec) {
		fprintf(stderr, "dmaown show: no MACHINE given (see 'dmaown show --help')\n");
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "dmaown show: one MACHINE only, not also '%s'\n",
			argv[optind]);
		return 2;
	}
	if (picture && !cli_have_dot()) {
		fprintf(stderr, "dmaown show: --%s needs Graphviz's 'dot', which is not in PATH (install the graphviz package), or take the graph with --dot\n",
			picture);
		return 2;
	}
	if (!pic.numeric && fmt != SHOW_JSON) {
		names_handle = cli_names_open_file(&names, pci_ids);
		if (!names_handle && pci_ids)
			return 2;
	}
	m = cli_load_machine(spec, 0);
	if (!m) {
		cli_names_close(names_handle);
		return 2;
	}
	if (fmt == SHOW_DOT)
		state = machine_show_dot(m, names_handle ? &names : NULL);
	else if (fmt == SHOW_TEXT)
		state = machine_show_text(m, names_handle ? &names : NULL);
	else
		state = machine_show(m, fmt);
	cli_names_close(names_handle);
	c = machine_warn_count(m) ? 1 : 0;
	machine_destroy(m);
	if (!state) {
		fprintf(stderr, "dmaown show: out of memory\n");
		return 2;
	}
	ret = cli_write_picture("dmaown show", state, picture, out);
	free(state);
	return ret ? ret : c;
}

/* ---- dmaown machines ---- */

int cmd_machines(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs("usage: dmaown machines\n"
		      "\n"
		      "List the built-in machines with a line about each. They are the\n"
		      "files under machines/ (docs/topology.md), embedded in the binary;\n"
		      "'dmaown show NAME' boots one and prints its groups.\n",
		      stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "dmaown machines: unexpected '%s' (see 'dmaown machines --help')\n",
			argv[1]);
		return 2;
	}
	for (size_t i = 0; i < builtin_machine_count(); i++)
		printf("%-14s %s\n", builtin_machine_name(i),
		       builtin_machine_summary(i));
	return 0;
}
