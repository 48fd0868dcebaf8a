/* SPDX-License-Identifier: MIT */
/* The dmaown command's pieces: one file per subcommand family. */
#ifndef DMAOWN_CLI_H
#define DMAOWN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dmaown/dmaown.h"

/* The version of the script language this dmaown reads ('--format N'). */
#define SCRIPT_FORMAT 1

struct run_opts {
	bool dmesg, json, echo, show, errexit;
	bool err_to_stdout; /* stderr text in stdout order (for the tour) */
	bool check;         /* the invariants after every line */
	unsigned int faults;
	int format;
	/*
	 * A message sequence chart of the run (script_msc_dot()): "dot" the
	 * text, "svg" drawn by dot; to @picture_out, or beside the script.
	 * The invariants are checked after every line for its mark; without
	 * @check a violation neither stops the run nor changes its status.
	 */
	const char *picture;
	const char *picture_out;
	const char *title;	/* the chart's; NULL: the script and machine */
	bool quiet;		/* print nothing of the script's own output */
	bool numeric;        /* lspci without names (--numeric) */
	const char *pci_ids; /* a pinned pci.ids (--pci-ids) */
	/* --kernel: the version followed (MACHINE_KERNEL_*) plus one; 0 the file's */
	int kernel;
};

/* FILE.sh -> FILE.@ext beside it (FILE.@ext when it has no .sh); freed */
char *cli_picture_path(const char *script, const char *ext);

/* Option values and bad options, the same in every subcommand (cli-opts.c). */
int cli_parse_ulong(const char *cmd, const char *opt, const char *arg,
		    unsigned long min, unsigned long max,
		    unsigned long *ret_val);
int cli_parse_int(const char *cmd, const char *opt, const char *arg, int min,
		  int max, int *ret_val);
int cli_parse_fault(const char *cmd, const char *arg, unsigned int *faults);
int cli_bad_option(const char *cmd, int c, int optopt_c, const char *word);
void cli_deprecated(const char *cmd, const char *old);
void cli_list_machines(FILE *out);

struct machine *cli_load_machine(const char *spec, unsigned int faults);
void cli_print_ts(FILE *out, uint64_t ns);
void cli_print_warn(FILE *out, const struct warn_report *w);
/*
 * The whole kernel log of @m with its WARN reports, in time order, as
 * dmesg prints it. Only while no other thread changes @m, or with the log
 * read as it is (machine_log_entry()).
 */
void cli_print_log(FILE *out, struct machine *m);
/*
 * Run a script read from @f a line at a time: its header (the leading
 * comments: '# machine:', '# dmaown:'), then each line. Returns the exit
 * status.
 */
int cli_run_stream(const char *path, FILE *f, const char *machine_spec,
		   const struct run_opts *o);

/*
 * PCI names (pciids.c): cli_names_open_file() fills @ret_names with
 * pci.ids lookups through libpci, from @pci_ids, else $DMAOWN_PCI_IDS,
 * else the host's pci.ids as lspci finds it, and returns the handle
 * cli_names_close() frees (NULL: no memory, or @pci_ids not readable,
 * said on stderr; no names). cli_names_open() is it without a file.
 *
 * Pictures (picture.c, docs/pictures.md). cli_write_picture()
 * writes @text to @out (NULL: standard output) as it is (@format NULL) or
 * through 'dot -T@format'; 0, or 2 with a message naming @cmd.
 */
struct machine_show_names;
void *cli_names_open(struct machine_show_names *ret_names);
void *cli_names_open_file(struct machine_show_names *ret_names,
			  const char *pci_ids);
void cli_names_close(void *handle);
bool cli_have_dot(void);
int cli_write_picture(const char *cmd, const char *text, const char *format,
		      const char *out);

/*
 * The options of a picture, alike in show and explain: 'd' --dot, 's'
 * --svg, 'p' --png, 'o' -o FILE, 'n' -n. @format becomes "" for the DOT
 * text or dot's -T format. Returns whether @c was one of them.
 */
struct cli_picture {
	const char *format;	/* NULL: no picture asked for */
	const char *out;
	bool numeric;
};
bool cli_picture_opt(int c, const char *arg, struct cli_picture *p);

int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_machines(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_kernel(int argc, char **argv);

#endif
