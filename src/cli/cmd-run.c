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

#include "cli/cli.h"
#include "dmaown/dmaown.h"
#include "dmaown/topology.h"

#define SCRIPT_FILE_MAX (4u << 20)

/* ---- loading ---- */

static bool looks_like_file(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') ||
	       (n > 8 && !strcmp(name + n - 8, ".machine"));
}

/* Read a whole file; NULL and a message on stderr on failure. */
char *cli_read_file(const char *path, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, len = 0;
	char *buf;

	if (!f) {
		fprintf(stderr, "dmaown: cannot open '%s': %s\n", path,
			errno_text(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (len > SCRIPT_FILE_MAX) {
			fprintf(stderr, "dmaown: %s: file larger than %u bytes\n",
				path, SCRIPT_FILE_MAX);
			free(buf);
			buf = NULL;
			break;
		}
		if (len + 1 < cap)
			break;
		cap *= 2;
		char *nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			buf = NULL;
		}
		buf = nb;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return NULL;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

/*
 * A machine from a built-in name or a file, with the planted @faults in
 * force from boot (they go in as a "fault" statement).
 */
struct machine *cli_load_machine(const char *spec, unsigned int faults)
{
	struct topo_error err = { 0 };
	struct machine *m;
	const char *text;
	char *owned = NULL;
	const char *file = spec;

	if (looks_like_file(spec)) {
		size_t len;
		const char *nul;

		owned = cli_read_file(spec, &len);
		if (!owned)
			return NULL;
		/*
		 * topology_load_string() stops at a NUL byte: refuse it here,
		 * where the length is known, as topology_load_file() would.
		 */
		nul = memchr(owned, '\0', len);
		if (nul) {
			const char *bol = owned;
			int line = 1;

			for (const char *q = owned; q < nul; q++)
				if (*q == '\n') {
					line++;
					bol = q + 1;
				}
			fprintf(stderr, "dmaown: %s:%d:%d: unexpected NUL byte\n",
				spec, line, (int)(nul - bol) + 1);
			free(owned);
			return NULL;
		}
		text = owned;
	} else {
		text = builtin_machine_text(spec);
		if (!text) {
			fprintf(stderr,
				"dmaown: no built-in machine '%s' (see 'dmaown machines')\n",
				spec);
			return NULL;
		}
	}
	m = topology_load_faults(file, text, faults, &err);
	if (!m)
		fprintf(stderr, "dmaown: %s:%d:%d: %s\n", err.file, err.line,
			err.col, err.msg);
	free(owned);
	return m;
}

/* "# machine: NAME" in the script's leading comments. */
static char *script_machine_directive(const char *text)
{
	const char *p = text;

	while (*p == '#' || *p == '\n' || *p == ' ') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (!strncmp(p, "# machine:", 10)) {
			const char *v = p + 10;

			while (*v == ' ')
				v++;
			len -= (size_t)(v - p);
			while (len && (v[len - 1] == ' ' || v[len - 1] == '\r'))
				len--;
			return strndup(v, len);
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

/* ---- output ---- */

void cli_print_ts(FILE *out, uint64_t ns)
{
	fprintf(out, "[%5llu.%06llu] ", (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns / 1000ULL % 1000000ULL));
}

void cli_print_warn(FILE *out, const struct warn_report *w)
{
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "------------[ cut here ]------------\n");
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "WARNING: CPU: 0 PID: 1 at %s:%d %s\n", w->file, w->line,
		w->func);
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "CPU: 0 PID: 1 Comm: %s Not tainted 6.6.0-dmaown #1\n",
		w->comm[0] ? w->comm : "swapper/0");
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "Call trace:\n");
	for (unsigned int i = 0; i < w->ntrace; i++) {
		cli_print_ts(out, w->ts_ns);
		fprintf(out, " %s\n", w->trace[i]);
	}
	cli_print_ts(out, w->ts_ns);
	fprintf(out, "---[ end trace 0000000000000000 ]---\n");
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
			    const char *cmd, const struct script_result *res)
{
	fprintf(out, "{\"line\":%d,\"cmd\":", lineno);
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
		fprintf(out, ",\"line\":%d,\"func\":", w->line);
		json_str(out, w->func);
		fprintf(out, ",\"cond\":");
		json_str(out, w->cond ? w->cond : "");
		fprintf(out, ",\"comm\":");
		json_str(out, w->comm);
		fprintf(out, ",\"trace\":[");
		for (unsigned int k = 0; k < w->ntrace; k++) {
			fprintf(out, "%s", k ? "," : "");
			json_str(out, w->trace[k]);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "]}\n");
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
	      "                    the script's '# machine: M' comment\n"
	      "      --dmesg       interleave the kernel log and WARN reports\n"
	      "      --json        one JSON object per script line (docs/json.md)\n"
	      "  -x, --echo        print each line as '$ LINE' before its output\n"
	      "  -e                stop at the first failing line, as set -e\n"
	      "      --show        print the machine state after the script\n"
	      "      --fault F     plant a fault from boot: v7-order (the seed's bug),\n"
	      "                    or a checker mutant (see 'dmaown check --help')\n"
	      "  -h, --help        this text\n"
	      "\n"
	      "Exit status: 0 the script ran to its end with no WARN; 1 a WARN fired;\n"
	      "2 a bad script, machine file or usage; 3 stopped by -e at a failing line.\n",
	      out);
}

int cli_run_text(const char *path, char *text, size_t len,
		 const char *machine_spec, const struct run_opts *o)
{
	char *spec_owned = NULL, *p;
	struct machine *m;
	struct script_ctx *ctx;
	int lineno = 0, status = 0;
	const char *nul = memchr(text, '\0', len);

	if (nul) {
		int l = 1;

		for (const char *q = text; q < nul; q++)
			l += *q == '\n';
		fprintf(stderr, "dmaown: %s:%d: NUL byte in script\n", path, l);
		return 2;
	}
	if (!machine_spec)
		machine_spec = spec_owned = script_machine_directive(text);
	if (!machine_spec) {
		fprintf(stderr, "dmaown run: %s: no machine: give --machine or a '# machine: NAME' line\n",
			path);
		return 2;
	}
	m = cli_load_machine(machine_spec, o->faults);
	free(spec_owned);
	if (!m)
		return 2;
	machine_log_clear(m); /* the boot log is not the script's */
	ctx = script_ctx_new(m, path);
	if (!ctx) {
		machine_destroy(m);
		return 2;
	}
	p = text;
	while (*p) {
		char *eol = strchr(p, '\n');
		struct script_result res;
		const char *s;

		if (eol)
			*eol = '\0';
		lineno++;
		for (s = p; *s == ' ' || *s == '\t'; s++)
			;
		if (*s && *s != '#') {
			/* the task name WARN reports show: the writing command */
			char comm[16] = "bash";
			const char *w = s;

			while (!strncmp(w, "sudo ", 5))
				w += 5;
			if (strstr(s, "| sudo tee") || strstr(s, "| tee"))
				snprintf(comm, sizeof(comm), "tee");
			else if (!strchr(s, '>'))
				sscanf(w, "%15[^ ]", comm);
			kcompat_set_comm(comm);
			if (o->echo && !o->json)
				printf("$ %s\n", p);
			if (script_exec_line(ctx, p, lineno, &res)) {
				fflush(stdout);
				fprintf(stderr, "dmaown: %s", res.err);
				script_result_free(&res);
				status = 2;
				break;
			}
			if (o->json) {
				print_json_line(stdout, m, lineno, p, &res);
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
			if (o->errexit && res.status) {
				script_result_free(&res);
				if (!status)
					status = 3;
				break;
			}
			script_result_free(&res);
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	if (o->show && status != 2) {
		char *state = machine_show(m, o->json ? SHOW_JSON : SHOW_TEXT);

		if (state)
			fputs(state, stdout);
		free(state);
	}
	script_ctx_free(ctx);
	machine_destroy(m);
	return status;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "machine", required_argument, NULL, 'm' },
		{ "dmesg", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "echo", no_argument, NULL, 'x' },
		{ "show", no_argument, NULL, 's' },
		{ "fault", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { 0 };
	const char *machine_spec = NULL;
	char *text;
	size_t len;
	int c, status;

	optind = 1;
	argv[0] = "dmaown run";
	while ((c = getopt_long(argc, argv, "m:xeh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			machine_spec = optarg;
			break;
		case 'd':
			o.dmesg = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'x':
			o.echo = true;
			break;
		case 'e':
			o.errexit = true;
			break;
		case 's':
			o.show = true;
			break;
		case 'f':
			if (!machine_fault_from_name(optarg)) {
				fprintf(stderr, "dmaown run: unknown fault '%s'\n",
					optarg);
				return 2;
			}
			o.faults |= machine_fault_from_name(optarg);
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		run_usage(stderr);
		return 2;
	}
	text = cli_read_file(argv[optind], &len);
	if (!text)
		return 2;
	status = cli_run_text(argv[optind], text, len, machine_spec, &o);
	free(text);
	return status;
}

/* ---- dmaown show ---- */

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "machine", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "dot", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum machine_show_format fmt = SHOW_TEXT;
	const char *spec = NULL;
	struct machine *m;
	char *state;
	int c;

	optind = 1;
	argv[0] = "dmaown show";
	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			spec = optarg;
			break;
		case 'j':
			fmt = SHOW_JSON;
			break;
		case 'd':
			fmt = SHOW_DOT;
			break;
		case 'h':
			fputs("usage: dmaown show [--json|--dot] [-m] MACHINE\n"
			      "\n"
			      "Boot a built-in machine or a .machine file and print its devices,\n"
			      "IOMMU groups and DMA ownership: text, JSON (docs/json.md) or a\n"
			      "Graphviz graph (groups as clusters coloured by owner).\n",
			      stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (!spec && optind < argc)
		spec = argv[optind++];
	if (!spec || optind != argc) {
		fputs("usage: dmaown show [--json|--dot] [-m] MACHINE\n", stderr);
		return 2;
	}
	m = cli_load_machine(spec, 0);
	if (!m)
		return 2;
	state = machine_show(m, fmt);
	if (state)
		fputs(state, stdout);
	free(state);
	c = machine_warn_count(m) ? 1 : 0;
	machine_destroy(m);
	return state ? c : 2;
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
		fputs("usage: dmaown machines\n", stderr);
		return 2;
	}
	for (size_t i = 0; i < builtin_machine_count(); i++)
		printf("%-14s %s\n", builtin_machine_name(i),
		       builtin_machine_summary(i));
	return 0;
}
