// SPDX-License-Identifier: MIT
/*
 * The script language: a small shell over the sysfs layer, plus "@" verbs.
 * Every effect on the machine goes through sysfs_*() or the public verbs.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/check.h"
#include "dmaown/dmaown.h"
#include "dmaown/script.h"
#include "dmaown/vfio.h"
#include "fs/file.h"
#include "machine/machine-priv.h"
#include "script/script-priv.h"
#include "userspace/modprobe.h"

#define MAX_TOKENS 256
#define MAX_EXPANDED (16 * SCRIPT_LINE_MAX) /* a line once expanded */
#define MAX_VARS 64

struct script_ctx {
	struct machine *m;
	char filename[256];
	char cwd[SYSFS_PATH_MAX];
	struct {
		char name[64];
		char *value;
	} vars[MAX_VARS];
	int nvars;
	/*
	 * The container each "@vmm assign" made, by device name (struct
	 * vmm_assignment): a VMM's memory, looked up once per release.
	 */
	struct strmap vmm;
	int lineno;
	int first_errno; /* of the line being run */
	int depth;       /* sh -c nesting */
	/*
	 * An '@concurrent N schedule S' block being collected: its lines run
	 * together once the N-th arrives. A deadlock leaves the machine's
	 * locks held for good, as a hung kernel would: no line runs after it.
	 */
	struct {
		int n, have, lineno;
		char schedule[CONCURRENT_SCHEDULE_MAX + 1];
		char *lines[3];
	} conc;
	int deadlocked_at;
	/* the process the userspace verbs act in ("@as"); "" the shell */
	char proc[64];
	/* where lspci and '@show' find PCI names (script_ctx_set_names()) */
	struct machine_show_names names;
	/*
	 * A line's token array (6 KB), kept for the next line: the checker
	 * runs every action through one context. A nested line (sh -c)
	 * finds it taken and allocates its own.
	 */
	struct tokens *spare_tokens;
	/* lines parsed once, by text (script_ctx_keep_parsed()) */
	bool keep_parsed;
	struct strmap parsed;
};

/* ---- small helpers ---- */

static void note_errno(struct script_ctx *ctx, int err)
{
	if (err && !ctx->first_errno)
		ctx->first_errno = err < 0 ? err : -err;
}

static const char *var_get(struct script_ctx *ctx, const char *name)
{
	for (int i = 0; i < ctx->nvars; i++)
		if (!strcmp(ctx->vars[i].name, name))
			return ctx->vars[i].value;
	return "";
}

static int var_set(struct script_ctx *ctx, const char *name, const char *val)
{
	char *copy = strdup(val);
	int i;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < ctx->nvars; i++) {
		if (!strcmp(ctx->vars[i].name, name)) {
			free(ctx->vars[i].value);
			ctx->vars[i].value = copy;
			return 0;
		}
	}
	if (ctx->nvars == MAX_VARS || strlen(name) >= 64) {
		free(copy);
		return -ENOSPC;
	}
	snprintf(ctx->vars[i].name, sizeof(ctx->vars[i].name), "%s", name);
	ctx->vars[i].value = copy;
	ctx->nvars++;
	return 0;
}

/* An absolute, normalised-enough path for @p relative to the cwd. */
static void abs_path(struct script_ctx *ctx, const char *p, char *out,
		     size_t len)
{
	if (p[0] == '/') {
		/* as snprintf("%s") would, without its cost on every write */
		size_t n = strnlen(p, len - 1);

		memcpy(out, p, n);
		out[n] = '\0';
	} else if (!strcmp(ctx->cwd, "/"))
		snprintf(out, len, "/%s", p);
	else
		snprintf(out, len, "%s/%s", ctx->cwd, p);
}

/* ---- tokens ---- */

enum tok_type {
	T_WORD,
	T_PIPE,
	T_SEMI,
	T_AND,
	T_OR,
	T_OUT,     /* > */
	T_APPEND,  /* >> */
	T_ERR,     /* 2> */
	T_ERR2OUT, /* 2>&1 */
	T_BOTH,    /* &> */
};

struct token {
	enum tok_type type;
	char *text;  /* T_WORD: expanded text */
	bool glob;   /* has unquoted glob characters */
};

struct tokens {
	struct token t[MAX_TOKENS];
	int n;
	size_t bytes;	/* of the words pushed, for MAX_EXPANDED */
};

static void tokens_free(struct tokens *tk)
{
	for (int i = 0; i < tk->n; i++)
		free(tk->t[i].text);
	tk->n = 0;
}

static int push_tok(struct tokens *tk, enum tok_type type, struct sbuf *w,
		    bool glob)
{
	if (tk->n == MAX_TOKENS)
		return -E2BIG;
	tk->t[tk->n].type = type;
	tk->t[tk->n].glob = glob;
	tk->t[tk->n].text = NULL;
	if (type == T_WORD) {
		sbuf_putn(w, "", 0);
		if (w->oom)
			return -ENOMEM;
		tk->bytes += w->len;
		tk->t[tk->n].text = w->buf;
		memset(w, 0, sizeof(*w));
	}
	tk->n++;
	return 0;
}

/* $NAME or ${NAME} at @p; appends the value; returns chars consumed. */
static size_t expand_var(struct script_ctx *ctx, const char *p,
			 struct sbuf *w)
{
	char name[64];
	size_t i = 1, n = 0;

	if (p[1] == '{') {
		const char *end = strchr(p + 2, '}');

		if (!end || (size_t)(end - p - 2) >= sizeof(name)) {
			sbuf_printf(w, "$");
			return 1;
		}
		memcpy(name, p + 2, (size_t)(end - p - 2));
		name[end - p - 2] = '\0';
		sbuf_printf(w, "%s", var_get(ctx, name));
		return (size_t)(end - p) + 1;
	}
	while ((isalnum((unsigned char)p[i]) || p[i] == '_') &&
	       n < sizeof(name) - 1)
		name[n++] = p[i++];
	name[n] = '\0';
	if (!n) {
		sbuf_printf(w, "$");
		return 1;
	}
	sbuf_printf(w, "%s", var_get(ctx, name));
	return i;
}

/*
 * Variables can double a value on every line (A=$A$A): the words of one
 * line, once expanded, are held to MAX_EXPANDED bytes.
 */
static bool expanded_too_long(const struct tokens *tk, const struct sbuf *w,
			      char *msg, size_t msglen)
{
	if (tk->bytes + w->len <= MAX_EXPANDED)
		return false;
	snprintf(msg, msglen, "line longer than %d bytes once expanded",
		 MAX_EXPANDED);
	return true;
}

/*
 * Split a line into tokens, expanding variables and removing quotes.
 * Return: 0, or -EINVAL with @msg for unbalanced quotes and the like.
 */
static int tokenize(struct script_ctx *ctx, const char *line,
		    struct tokens *tk, char *msg, size_t msglen)
{
	struct sbuf w = { 0 };
	bool inword = false, glob = false;
	const char *p = line;
	int ret = 0;

	tk->n = 0;
	tk->bytes = 0;
	while (*p) {
		char c = *p;

		if (c == ' ' || c == '\t' || c == '\r') {
			if (inword && (ret = push_tok(tk, T_WORD, &w, glob)))
				goto err;
			inword = glob = false;
			p++;
			continue;
		}
		if (c == '#' && !inword)
			break;
		if (c == '|' || c == ';' || c == '&' || c == '>' ||
		    (c == '2' && !inword && p[1] == '>')) {
			enum tok_type t;
			size_t adv = 1;

			if (inword && (ret = push_tok(tk, T_WORD, &w, glob)))
				goto err;
			inword = glob = false;
			if (c == '|' && p[1] == '|') {
				t = T_OR;
				adv = 2;
			} else if (c == '|') {
				t = T_PIPE;
			} else if (c == ';') {
				t = T_SEMI;
			} else if (c == '&' && p[1] == '&') {
				t = T_AND;
				adv = 2;
			} else if (c == '&' && p[1] == '>') {
				t = T_BOTH;
				adv = 2;
			} else if (c == '&') {
				snprintf(msg, msglen,
					 "background jobs ('&') are not supported");
				ret = -EINVAL;
				goto err;
			} else if (c == '>' && p[1] == '>') {
				t = T_APPEND;
				adv = 2;
			} else if (c == '>') {
				t = T_OUT;
			} else if (!strncmp(p, "2>&1", 4)) {
				t = T_ERR2OUT;
				adv = 4;
			} else {
				t = T_ERR;
				adv = 2;
			}
			if ((ret = push_tok(tk, t, &w, false)))
				goto err;
			p += adv;
			continue;
		}
		inword = true;
		if (c == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end) {
				snprintf(msg, msglen, "unterminated quote");
				ret = -EINVAL;
				goto err;
			}
			sbuf_putn(&w, p + 1, (size_t)(end - p - 1));
			p = end + 1;
			continue;
		}
		if (c == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] &&
				    strchr("\"\\$`", p[1])) {
					sbuf_putc(&w, p[1]);
					p += 2;
				} else if (*p == '`' ||
					   (*p == '$' && p[1] == '(')) {
					snprintf(msg, msglen,
						 "command substitution is not supported");
					ret = -EINVAL;
					goto err;
				} else if (*p == '$') {
					p += expand_var(ctx, p, &w);
					if (expanded_too_long(tk, &w, msg,
							      msglen)) {
						ret = -EINVAL;
						goto err;
					}
				} else {
					sbuf_putc(&w, *p++);
				}
			}
			if (*p != '"') {
				snprintf(msg, msglen, "unterminated quote");
				ret = -EINVAL;
				goto err;
			}
			p++;
			continue;
		}
		if (c == '\\' && p[1]) {
			sbuf_putc(&w, p[1]);
			p += 2;
			continue;
		}
		if (c == '`' || (c == '$' && p[1] == '(')) {
			snprintf(msg, msglen,
				 "command substitution is not supported");
			ret = -EINVAL;
			goto err;
		}
		if (c == '$') {
			p += expand_var(ctx, p, &w);
			if (expanded_too_long(tk, &w, msg, msglen)) {
				ret = -EINVAL;
				goto err;
			}
			continue;
		}
		if (c == '*' || c == '?' || c == '[')
			glob = true;
		sbuf_putc(&w, c);
		p++;
	}
	if (inword)
		ret = push_tok(tk, T_WORD, &w, glob);
	if (!ret)
		return 0;
err:
	free(w.buf);
	tokens_free(tk);
	if (ret != -EINVAL)
		snprintf(msg, msglen, "line too complex");
	return -EINVAL;
}

/* ---- globbing over sysfs ---- */

struct strv {
	char **v;
	int n, cap;
	bool oom;
};

static void strv_push(struct strv *sv, const char *s)
{
	if (sv->n == sv->cap) {
		int ncap = sv->cap ? sv->cap * 2 : 16;
		char **nv = realloc(sv->v, (size_t)ncap * sizeof(*nv));

		if (!nv) {
			sv->oom = true;
			return;
		}
		sv->v = nv;
		sv->cap = ncap;
	}
	sv->v[sv->n] = strdup(s);
	if (!sv->v[sv->n])
		sv->oom = true;
	else
		sv->n++;
}

static void strv_free(struct strv *sv)
{
	for (int i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

static void glob_walk(struct script_ctx *ctx, const char *prefix,
		      const char *rest, struct strv *out)
{
	char comp[256], next[SYSFS_PATH_MAX];
	const char *slash;
	char **names;
	size_t n, len;

	while (*rest == '/')
		rest++;
	if (!*rest) {
		strv_push(out, prefix[0] ? prefix : "/");
		return;
	}
	slash = strchr(rest, '/');
	len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (len >= sizeof(comp))
		return;
	memcpy(comp, rest, len);
	comp[len] = '\0';
	if (!strpbrk(comp, "*?[")) {
		snprintf(next, sizeof(next), "%s/%s", prefix, comp);
		if (sysfs_stat(ctx->m, next) != SYSFS_NONE)
			glob_walk(ctx, next, rest + len, out);
		return;
	}
	if (sysfs_list(ctx->m, prefix[0] ? prefix : "/", &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		if (names[i][0] == '.' || fnmatch(comp, names[i], 0))
			continue;
		snprintf(next, sizeof(next), "%s/%s", prefix, names[i]);
		glob_walk(ctx, next, rest + len, out);
	}
	sysfs_list_free(names, n);
}

/* Expand one word into @argv: globbed when it has glob characters. */
static void expand_word(struct script_ctx *ctx, const struct token *t,
			struct strv *argv)
{
	char path[SYSFS_PATH_MAX];
	struct strv found = { 0 };

	if (!t->glob) {
		strv_push(argv, t->text);
		return;
	}
	abs_path(ctx, t->text, path, sizeof(path));
	glob_walk(ctx, "", path, &found);
	if (!found.n) {
		strv_push(argv, t->text); /* no match: the pattern stays */
	} else {
		bool rel = t->text[0] != '/';
		size_t skip = strcmp(ctx->cwd, "/") ? strlen(ctx->cwd) + 1 : 1;

		for (int i = 0; i < found.n; i++)
			strv_push(argv, rel ? found.v[i] + skip : found.v[i]);
	}
	strv_free(&found);
}

/* ---- commands ---- */

typedef int (*cmd_fn)(struct script_ctx *ctx, int argc, char **argv,
		      struct cmd_io *io);

static int run_line(struct script_ctx *ctx, const char *line,
		    struct cmd_io *io, char *msg, size_t msglen);

/* echo [-neE] ARGS */
static int cmd_echo(struct script_ctx *ctx, int argc, char **argv,
		    struct cmd_io *io)
{
	bool nl = true, esc = false;
	int i = 1;

	(void)ctx;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] &&
	       strspn(argv[i] + 1, "neE") == strlen(argv[i] + 1);
	     i++) {
		for (const char *f = argv[i] + 1; *f; f++) {
			if (*f == 'n')
				nl = false;
			else if (*f == 'e')
				esc = true;
			else
				esc = false;
		}
	}
	for (int first = i; i < argc; i++) {
		if (i > first)
			sbuf_printf(io->out, " ");
		if (!esc) {
			sbuf_puts(io->out, argv[i]);
			continue;
		}
		for (const char *p = argv[i]; *p; p++) {
			if (*p == '\\' && p[1] == 'n') {
				sbuf_printf(io->out, "\n");
				p++;
			} else if (*p == '\\' && p[1] == 't') {
				sbuf_printf(io->out, "\t");
				p++;
			} else {
				sbuf_putc(io->out, *p);
			}
		}
	}
	if (nl)
		sbuf_printf(io->out, "\n");
	return 0;
}

/* printf FORMAT [ARGS]: %s %d %x %%, \n \t \\ escapes */
static int cmd_printf(struct script_ctx *ctx, int argc, char **argv,
		      struct cmd_io *io)
{
	int ai = 2;

	(void)ctx;
	if (argc < 2) {
		sbuf_printf(io->err, "printf: usage: printf format [arguments]\n");
		return 2;
	}
	do {
		int first = ai;

		for (const char *p = argv[1]; *p; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				sbuf_printf(io->out, "%s",
					    *p == 'n' ? "\n" :
					    *p == 't' ? "\t" :
					    *p == '\\' ? "\\" : "");
			} else if (*p == '%' && p[1] == '%') {
				sbuf_printf(io->out, "%%");
				p++;
			} else if (*p == '%' && p[1]) {
				const char *a = ai < argc ? argv[ai++] : "";

				p++;
				if (*p == 'd' || *p == 'i')
					sbuf_printf(io->out, "%ld",
						    strtol(a, NULL, 0));
				else if (*p == 'x')
					sbuf_printf(io->out, "%lx",
						    strtoul(a, NULL, 0));
				else
					sbuf_printf(io->out, "%s", a);
			} else {
				sbuf_putc(io->out, *p);
			}
		}
		/* the format is reused while it consumes arguments, as bash */
		if (ai == first)
			break;
	} while (ai < argc);
	return 0;
}

/*
 * One write() of @data to @path as a shell redirection or tee does.
 * *@ret_opened (may be NULL) tells whether the open got as far as the
 * store, so that its error is the write's (a store may fail with ENOENT,
 * as sriov_numvfs does without a PF driver) and not the open's.
 */
static int write_file(struct script_ctx *ctx, const char *path,
		      const char *data, bool *ret_opened)
{
	char abs[SYSFS_PATH_MAX];
	struct sysfs_attr_stat st;
	int ret;

	if (ret_opened)
		*ret_opened = false;
	if (!strcmp(path, "/dev/null"))
		return 0;
	abs_path(ctx, path, abs, sizeof(abs));
	if (strncmp(abs, "/sys/", 5) && strncmp(abs, "/dev/", 5))
		return -EACCES; /* the model has no other files */
	ret = sysfs_write(ctx->m, abs, data, strlen(data));
	if (ret_opened && ret && ret != -EACCES && ret != -EISDIR)
		*ret_opened = !sysfs_getattr(ctx->m, abs, &st);
	note_errno(ctx, ret);
	return ret;
}

/* Open errors a shell reports before the command runs. */
static bool is_open_error(int err)
{
	return err == -ENOENT || err == -EACCES || err == -EISDIR ||
	       err == -ENOTDIR;
}

static int cmd_tee(struct script_ctx *ctx, int argc, char **argv,
		   struct cmd_io *io)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		int ret;

		if (argv[i][0] == '-' && argv[i][1])
			continue; /* -a: appending to sysfs is writing */
		ret = write_file(ctx, argv[i], io->in, NULL);
		if (ret) {
			sbuf_printf(io->err, "tee: %s: %s\n", argv[i],
				    errno_text(ret));
			status = 1;
		}
	}
	sbuf_printf(io->out, "%s", io->in);
	return status;
}

static int cmd_cat(struct script_ctx *ctx, int argc, char **argv,
		   struct cmd_io *io)
{
	char abs[SYSFS_PATH_MAX];
	int status = 0;

	if (argc == 1)
		sbuf_printf(io->out, "%s", io->in);
	for (int i = 1; i < argc; i++) {
		char *buf;
		int ret;

		abs_path(ctx, argv[i], abs, sizeof(abs));
		ret = sysfs_read(ctx->m, abs, &buf);
		if (ret) {
			note_errno(ctx, ret);
			sbuf_printf(io->err, "cat: %s: %s\n", argv[i],
				    errno_text(ret));
			status = 1;
			continue;
		}
		sbuf_printf(io->out, "%s", buf);
		free(buf);
	}
	return status;
}

static int cmd_ls(struct script_ctx *ctx, int argc, char **argv,
		  struct cmd_io *io)
{
	char abs[SYSFS_PATH_MAX];
	bool longfmt = false, dironly = false;
	int status = 0, npaths = 0, shown = 0;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			longfmt |= strchr(argv[i], 'l') != NULL;
			dironly |= strchr(argv[i], 'd') != NULL;
		} else {
			npaths++;
		}
	}
	for (int i = 0; i < argc; i++) {
		const char *p = i ? argv[i] : ".";
		enum sysfs_type type;
		char **names;
		size_t n;

		if (i == 0 && npaths)
			continue;
		if (i > 0 && argv[i][0] == '-')
			continue;
		abs_path(ctx, p, abs, sizeof(abs));
		type = sysfs_stat(ctx->m, abs);
		if (type == SYSFS_NONE) {
			sbuf_printf(io->err,
				    "ls: cannot access '%s': No such file or directory\n",
				    p);
			status = 2;
			continue;
		}
		if (dironly || (type != SYSFS_DIR &&
				(type != SYSFS_LINK || longfmt ||
				 sysfs_list(ctx->m, abs, &names, &n)))) {
			char *target = NULL;

			if (longfmt && type == SYSFS_LINK &&
			    !sysfs_readlink(ctx->m, abs, &target))
				sbuf_printf(io->out, "%s -> %s\n", p, target);
			else
				sbuf_printf(io->out, "%s\n", p);
			free(target);
			continue;
		}
		if (type == SYSFS_DIR && sysfs_list(ctx->m, abs, &names, &n)) {
			status = 2;
			continue;
		}
		if (npaths > 1)
			sbuf_printf(io->out, "%s%s:\n", shown++ ? "\n" : "", p);
		for (size_t k = 0; k < n; k++) {
			char child[SYSFS_PATH_MAX], *target = NULL;

			snprintf(child, sizeof(child), "%s/%s", abs, names[k]);
			if (longfmt &&
			    sysfs_stat(ctx->m, child) == SYSFS_LINK &&
			    !sysfs_readlink(ctx->m, child, &target))
				sbuf_printf(io->out, "%s -> %s\n", names[k],
					    target);
			else
				sbuf_printf(io->out, "%s\n", names[k]);
			free(target);
		}
		sysfs_list_free(names, n);
	}
	return status;
}

static int cmd_readlink(struct script_ctx *ctx, int argc, char **argv,
			struct cmd_io *io)
{
	char abs[SYSFS_PATH_MAX];
	bool canon = false;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		char *target;
		int ret;

		if (argv[i][0] == '-') {
			canon |= strpbrk(argv[i], "fem") != NULL;
			continue;
		}
		abs_path(ctx, argv[i], abs, sizeof(abs));
		ret = canon ? sysfs_realpath(ctx->m, abs, &target) :
			      sysfs_readlink(ctx->m, abs, &target);
		if (ret) {
			status = 1;
			continue;
		}
		sbuf_printf(io->out, "%s\n", target);
		free(target);
	}
	return status;
}

static int cmd_cd(struct script_ctx *ctx, int argc, char **argv,
		  struct cmd_io *io)
{
	char abs[SYSFS_PATH_MAX];
	char *real;
	const char *to = argc > 1 ? argv[1] : "/";

	abs_path(ctx, to, abs, sizeof(abs));
	if (sysfs_realpath(ctx->m, abs, &real)) {
		sbuf_printf(io->err, "bash: cd: %s: No such file or directory\n",
			    to);
		return 1;
	}
	snprintf(ctx->cwd, sizeof(ctx->cwd), "%s", real);
	free(real);
	return 0;
}

static int cmd_true(struct script_ctx *ctx, int argc, char **argv,
		    struct cmd_io *io)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	(void)io;
	return 0;
}

static int cmd_false(struct script_ctx *ctx, int argc, char **argv,
		     struct cmd_io *io)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	(void)io;
	return 1;
}

/* modprobe [-v] [-r] [-q] MODULE [param=value...] */
/*
 * modprobe [-r] [-v] [-q] [-b] [-i] MODULE [PARAM=VALUE...]: through the
 * machine's modprobe.d, as kmod's modprobe (src/userspace/modprobe.c).
 */
/* A module's name as kmod prints it: dashes are underscores. */
static const char *module_name_of(const char *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%s", arg);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

static int cmd_modprobe(struct script_ctx *ctx, int argc, char **argv,
			struct cmd_io *io)
{
	char name[64];
	static const struct {
		const char *name;
		char c;
	} longs[] = {
		{ "--remove", 'r' },	    { "--verbose", 'v' },
		{ "--quiet", 'q' },	    { "--use-blacklist", 'b' },
		{ "--ignore-install", 'i' },
	};
	bool remove = false, quiet = false;
	unsigned int flags = 0;
	char params[SCRIPT_LINE_MAX] = "";
	const char *mod = NULL, *kver;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *f = a + 1;
		char one[2] = "";

		if (a[0] != '-' || !a[1]) {
			size_t off = strlen(params);

			if (!mod)
				mod = a;
			else
				snprintf(params + off, sizeof(params) - off,
					 "%s%s", off ? " " : "", a);
			continue;
		}
		if (a[1] == '-') {
			f = NULL;
			for (size_t j = 0; j < sizeof(longs) / sizeof(longs[0]); j++)
				if (!strcmp(a, longs[j].name))
					one[0] = longs[j].c;
			if (!one[0]) {
				sbuf_printf(io->err,
					    "modprobe: unrecognized option '%s'\n",
					    a);
				return 1;
			}
			f = one;
		}
		for (; *f; f++) {
			switch (*f) {
			case 'r':
				remove = true;
				break;
			case 'v':
				flags |= MODPROBE_VERBOSE;
				break;
			case 'q':
				quiet = true;
				break;
			case 'b':
				flags |= MODPROBE_USE_BLACKLIST;
				break;
			case 'i':
				flags |= MODPROBE_IGNORE_INSTALL;
				break;
			default:
				sbuf_printf(io->err,
					    "modprobe: invalid option -- '%c'\n",
					    *f);
				return 1;
			}
		}
	}
	if (!mod) {
		sbuf_printf(io->err, "modprobe: ERROR: missing module name\n");
		return 1;
	}
	if (remove) {
		ret = driver_delete_module(ctx->m, mod);
		if (ret == -ENOENT)
			return 0; /* nothing to remove */
		if (ret == -EWOULDBLOCK) {
			note_errno(ctx, ret);
			sbuf_printf(io->err, "modprobe: FATAL: Module %s is in use.\n",
				    module_name_of(mod, name, sizeof(name)));
			return 1;
		}
		if (flags & MODPROBE_VERBOSE)
			sbuf_printf(io->out, "rmmod %s\n", mod);
		return 0;
	}
	ret = modprobe_insert(ctx->m, mod, params, flags, io->out, io->err);
	kver = machine_kernel_release(ctx->m, NULL, NULL);
	if (ret == -ENOENT) {
		if (!quiet)
			sbuf_printf(io->err,
				    "modprobe: FATAL: Module %s not found in directory /lib/modules/%s\n",
				    mod, kver ? kver : MODPROBE_DEFAULT_KVER);
		return 1;
	}
	if (ret == MODPROBE_INSTALL_FAILED)
		ret = -EINVAL;
	if (ret) {
		note_errno(ctx, ret);
		sbuf_printf(io->err,
			    "modprobe: ERROR: could not insert '%s': %s\n",
			    mod, errno_text(ret));
		return 1;
	}
	return 0;
}

static int cmd_rmmod(struct script_ctx *ctx, int argc, char **argv,
		     struct cmd_io *io)
{
	char name[64];
	int status = 0, ret;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		ret = driver_delete_module(ctx->m, argv[i]);
		if (ret == -EWOULDBLOCK) {
			note_errno(ctx, ret);
			sbuf_printf(io->err, "rmmod: ERROR: Module %s is in use\n",
				    module_name_of(argv[i], name, sizeof(name)));
			status = 1;
		} else if (ret) {
			sbuf_printf(io->err,
				    "rmmod: ERROR: Module %s is not currently loaded\n",
				    argv[i]);
			status = 1;
		}
	}
	return status;
}

/*
 * ulimit [-SH] -n [N|unlimited|soft|hard]: the open-file limit
 * (RLIMIT_NOFILE) of the machine's userspace, which VFIO and iommufd
 * files count against. Soft and hard limits are one; other resources are
 * not modelled.
 */
static int cmd_ulimit(struct script_ctx *ctx, int argc, char **argv,
		      struct cmd_io *io)
{
	struct process *p = script_process(ctx);
	const char *value = NULL;
	bool nofile = false;
	unsigned long limit;
	char *end;
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *f = argv[i] + 1; *f; f++) {
			if (*f == 'n') {
				nofile = true;
			} else if (*f == 'S' || *f == 'H') {
				continue;
			} else if (strchr("abcdefiklmpqrstuvxPRT", *f)) {
				sbuf_printf(io->err,
					    "bash: ulimit: -%c: only -n (open files) is modelled\n",
					    *f);
				return 2;
			} else {
				sbuf_printf(io->err,
					    "bash: ulimit: -%c: invalid option\n"
					    "ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n",
					    *f);
				return 2;
			}
		}
	}
	if (i < argc)
		value = argv[i];	/* bash ignores what follows */
	if (!nofile) {
		/* bare ulimit is -f, the file size: not modelled */
		if (value) {
			sbuf_printf(io->err,
				    "bash: ulimit: -f: only -n (open files) is modelled\n");
			return 2;
		}
		sbuf_printf(io->out, "unlimited\n");
		return 0;
	}
	if (!value || !strcmp(value, "soft") || !strcmp(value, "hard")) {
		if (!value)
			sbuf_printf(io->out, "%lu\n", p ? process_nofile(p) : 0);
		return 0;
	}
	if (!strcmp(value, "unlimited")) {
		limit = ULONG_MAX;	/* RLIM_INFINITY: above fs.nr_open */
	} else {
		errno = 0;
		limit = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || errno) {
			sbuf_printf(io->err, "bash: ulimit: %s: invalid number\n",
				    value);
			return 1;
		}
	}
	ret = p ? process_set_nofile(p, limit) : -ENOMEM;
	if (ret) {
		note_errno(ctx, ret);
		sbuf_printf(io->err,
			    "bash: ulimit: open files: cannot modify limit: %s\n",
			    errno_text(ret));
		return 1;
	}
	return 0;
}

/* sh -c 'LINE' / bash -c 'LINE' */
static int cmd_sh(struct script_ctx *ctx, int argc, char **argv,
		  struct cmd_io *io)
{
	char msg[256];
	int ret;

	if (argc < 3 || strcmp(argv[1], "-c")) {
		sbuf_printf(io->err, "%s: only '%s -c COMMAND' is supported\n",
			    argv[0], argv[0]);
		return 2;
	}
	if (ctx->depth > 4) {
		sbuf_printf(io->err, "%s: nested too deeply\n", argv[0]);
		return 2;
	}
	ctx->depth++;
	ret = run_line(ctx, argv[2], io, msg, sizeof(msg));
	ctx->depth--;
	if (ret < 0) {
		sbuf_printf(io->err, "%s: %s\n", argv[0], msg);
		return 2;
	}
	return ret;
}

struct process *script_process(struct script_ctx *ctx)
{
	return machine_process(ctx->m, ctx->proc[0] ? ctx->proc : NULL);
}

bool script_in_process(struct script_ctx *ctx)
{
	return ctx->proc[0] != '\0';
}

static cmd_fn find_command(const char *name);

/* A process name: what a program's name may be, and not too long. */
static bool valid_process_name(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= sizeof(((struct script_ctx *)0)->proc) ||
	    name[0] == '-' || name[0] == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("._-+", *c))
			return false;
	return true;
}

#define AS_USAGE "@as NAME [@vfio|@iommufd|@close|@exit|ulimit ...]"

/*
 * @as NAME: the userspace verbs of the lines after it act in process NAME
 * (started on first use; "@as sh" is the script's own shell again).
 * @as NAME VERB...: only this verb does. While it runs, the task's name
 * and PID, which WARN reports and the kernel's log show, are the process's.
 */
static int cmd_at_as(struct script_ctx *ctx, int argc, char **argv,
		     struct cmd_io *io)
{
	static const char *const verbs[] = { "@vfio", "@iommufd", "@close",
					     "@exit", "ulimit" };
	char saved[sizeof(ctx->proc)], comm[16];
	struct kstack saved_task = kcompat_stack;
	struct process *p;
	bool known = false;
	int ret;

	if (argc < 2 || !valid_process_name(argv[1])) {
		sbuf_printf(io->err, "usage: %s (NAME: letters, digits, . _ - +)\n",
			    AS_USAGE);
		return 2;
	}
	if (argc == 2) {
		snprintf(ctx->proc, sizeof(ctx->proc), "%s",
			 strcmp(argv[1], PROCESS_DEFAULT_NAME) ? argv[1] : "");
		return script_process(ctx) ? 0 : 1;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		known |= !strcmp(argv[2], verbs[i]);
	if (!known) {
		sbuf_printf(io->err, "usage: %s\n", AS_USAGE);
		return 2;
	}
	memcpy(saved, ctx->proc, sizeof(saved));
	snprintf(ctx->proc, sizeof(ctx->proc), "%s",
		 strcmp(argv[1], PROCESS_DEFAULT_NAME) ? argv[1] : "");
	p = script_process(ctx);
	if (p && ctx->proc[0]) {
		snprintf(comm, sizeof(comm), "%s", argv[1]);
		kcompat_set_comm(comm);
		kcompat_set_pid(process_pid(p));
	}
	ret = p ? find_command(argv[2])(ctx, argc - 2, argv + 2, io) : 1;
	memcpy(kcompat_stack.comm, saved_task.comm, sizeof(saved_task.comm));
	kcompat_stack.pid = saved_task.pid;
	memcpy(ctx->proc, saved, sizeof(saved));
	return ret;
}

/* @close FD: close(2) in the current process. */
static int cmd_at_close(struct script_ctx *ctx, int argc, char **argv,
			struct cmd_io *io)
{
	struct process *p = script_process(ctx);
	char *end;
	long fd;
	int ret;

	if (argc != 2 || !isdigit((unsigned char)argv[1][0])) {
		sbuf_printf(io->err, "usage: @close FD\n");
		return 2;
	}
	fd = strtol(argv[1], &end, 10);
	if (*end || fd > INT32_MAX) {
		sbuf_printf(io->err, "usage: @close FD\n");
		return 2;
	}
	ret = p ? process_close(p, (int)fd) : -ENOMEM;
	if (ret) {
		note_errno(ctx, ret);
		sbuf_printf(io->err, "@close: %s\n", errno_text(ret));
		return 1;
	}
	return 0;
}

/*
 * @exit [NAME]: the process ends, closing every descriptor it has (the
 * current process without NAME). The shell keeps running, with only its
 * standard streams; a named process is started afresh if named again.
 */
static int cmd_at_exit(struct script_ctx *ctx, int argc, char **argv,
		       struct cmd_io *io)
{
	struct process *p;

	if (argc > 2 || (argc == 2 && !valid_process_name(argv[1]))) {
		sbuf_printf(io->err, "usage: @exit [NAME]\n");
		return 2;
	}
	if (argc == 1)
		p = script_process(ctx);
	else
		p = machine_find_process(ctx->m, argv[1]);
	if (!p) {
		note_errno(ctx, -ESRCH);
		sbuf_printf(io->err, "@exit: %s: %s\n", argv[1],
			    errno_text(-ESRCH));
		return 1;
	}
	process_exit(p);
	return 0;
}

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ "echo", cmd_echo },
	{ "printf", cmd_printf },
	{ "tee", cmd_tee },
	{ "cat", cmd_cat },
	{ "ls", cmd_ls },
	{ "readlink", cmd_readlink },
	{ "realpath", cmd_readlink },
	{ "cd", cmd_cd },
	{ "true", cmd_true },
	{ "false", cmd_false },
	{ "sleep", cmd_true },
	{ "sync", cmd_true },
	{ "set", cmd_true },
	{ "modprobe", cmd_modprobe },
	{ "rmmod", cmd_rmmod },
	{ "lspci", cmd_lspci },
	{ "sh", cmd_sh },
	{ "bash", cmd_sh },
	{ "ulimit", cmd_ulimit },
	{ "@vfio", cmd_at_vfio },
	{ "@iommufd", cmd_at_iommufd },
	{ "@vmm", cmd_at_vmm },
	{ "@hotplug", cmd_at_hotplug },
	{ "@fault", cmd_at_fault },
	{ "@iommu", cmd_at_iommu },
	{ "@option", cmd_at_option },
	{ "@show", cmd_at_show },
	{ "@as", cmd_at_as },
	{ "@close", cmd_at_close },
	{ "@exit", cmd_at_exit },
};

static cmd_fn find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn;
	return NULL;
}

/* Skip "sudo [-E] [-u USER]" and "exec"/"command" prefixes. */
static int skip_prefixes(struct strv *argv)
{
	int i = 0;

	while (i < argv->n) {
		if (!strcmp(argv->v[i], "sudo")) {
			i++;
			while (i < argv->n && argv->v[i][0] == '-') {
				if (!strcmp(argv->v[i], "-u") && i + 1 < argv->n)
					i++;
				i++;
			}
		} else if (!strcmp(argv->v[i], "command") ||
			   !strcmp(argv->v[i], "exec")) {
			i++;
		} else {
			break;
		}
	}
	return i;
}

static bool is_assignment(const char *w)
{
	const char *eq = strchr(w, '=');

	if (!eq || eq == w)
		return false;
	for (const char *p = w; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return !isdigit((unsigned char)w[0]);
}

/* ---- pipelines and lists ---- */

struct simple_cmd {
	int first, last;        /* token range [first, last) */
};

/*
 * Check every command name of the line before running any of it, so a
 * line with an unknown command leaves the machine untouched.
 */
static int validate(struct script_ctx *ctx, struct tokens *tk, char *msg,
		    size_t msglen)
{
	bool at_start = true;
	bool assigned = false; /* "NAME=value" alone is a whole command */

	for (int i = 0; i < tk->n; i++) {
		struct token *t = &tk->t[i];

		if (t->type != T_WORD) {
			if (t->type >= T_OUT) {
				if (i + 1 >= tk->n || tk->t[i + 1].type != T_WORD) {
					if (t->type != T_ERR2OUT) {
						snprintf(msg, msglen,
							 "syntax error: redirection without a file");
						return -EINVAL;
					}
				} else if (t->type != T_ERR2OUT) {
					i++;
				}
				continue;
			}
			if (at_start && !assigned) {
				snprintf(msg, msglen,
					 "syntax error near unexpected token");
				return -EINVAL;
			}
			at_start = true;
			assigned = false;
			continue;
		}
		if (!at_start)
			continue;
		if (is_assignment(t->text)) {
			assigned = true;
			continue;
		}
		if (!strcmp(t->text, "sudo") || !strcmp(t->text, "command") ||
		    !strcmp(t->text, "exec"))
			continue;
		if (!strcmp(t->text, "export"))
			continue;
		if (!strcmp(t->text, "-E") || !strcmp(t->text, "-s") ||
		    t->text[0] == '-')
			continue; /* sudo options */
		if (!find_command(t->text)) {
			snprintf(msg, msglen, "unknown command '%s'", t->text);
			return -EINVAL;
		}
		at_start = false;
	}
	if (at_start && !assigned && tk->n &&
	    tk->t[tk->n - 1].type != T_SEMI) {
		snprintf(msg, msglen, "syntax error: missing command");
		return -EINVAL;
	}
	(void)ctx;
	return 0;
}

/* Run tokens [first, last) as one simple command. */
static int run_simple(struct script_ctx *ctx, const struct token *tk,
		      int first, int last, const char *in, struct sbuf *out,
		      struct sbuf *err)
{
	struct strv argv = { 0 };
	const char *redir_out = NULL, *redir_err = NULL;
	bool err_to_out = false, both = false;
	struct sbuf cout = { 0 }, cerr = { 0 };
	struct cmd_io io = { in, &cout, &cerr };
	cmd_fn fn;
	int start, status = 0;

	for (int i = first; i < last; i++) {
		const struct token *t = &tk[i];

		switch (t->type) {
		case T_WORD:
			expand_word(ctx, t, &argv);
			break;
		case T_OUT:
		case T_APPEND:
			redir_out = tk[++i].text;
			break;
		case T_BOTH:
			redir_out = tk[++i].text;
			both = true;
			break;
		case T_ERR:
			redir_err = tk[++i].text;
			break;
		case T_ERR2OUT:
			err_to_out = true;
			break;
		default:
			break;
		}
	}
	if (argv.oom) {
		strv_free(&argv);
		return 126;
	}
	start = skip_prefixes(&argv);
	if (start < argv.n && !strcmp(argv.v[start], "export"))
		start++;
	/* VAR=value alone sets a variable */
	if (start < argv.n && is_assignment(argv.v[start])) {
		bool all = true;

		for (int i = start; i < argv.n; i++)
			all &= is_assignment(argv.v[i]);
		if (all) {
			for (int i = start; i < argv.n; i++) {
				char *eq = strchr(argv.v[i], '=');

				*eq = '\0';
				var_set(ctx, argv.v[i], eq + 1);
			}
			strv_free(&argv);
			return 0;
		}
		while (start < argv.n && is_assignment(argv.v[start]))
			start++;
	}
	if (start >= argv.n) {
		strv_free(&argv);
		return 0;
	}
	fn = find_command(argv.v[start]);
	if (!fn) {
		sbuf_printf(err, "bash: %s: command not found\n",
			    argv.v[start]);
		strv_free(&argv);
		return 127;
	}
	status = fn(ctx, argv.n - start, argv.v + start, &io);
	sbuf_putn(&cout, "", 0);
	sbuf_putn(&cerr, "", 0);
	if (err_to_out || both) {
		sbuf_printf(&cout, "%s", cerr.buf);
		cerr.len = 0;
		cerr.buf[0] = '\0';
	}
	if (redir_out) {
		bool opened;
		int ret = write_file(ctx, redir_out, cout.buf, &opened);

		if (ret) {
			if (!opened && is_open_error(ret))
				sbuf_printf(err, "bash: %s: %s\n", redir_out,
					    errno_text(ret));
			else
				sbuf_printf(err, "bash: %s: write error: %s\n",
					    argv.v[start], errno_text(ret));
			status = 1;
		}
	} else {
		sbuf_printf(out, "%s", cout.buf);
	}
	if (redir_err) {
		if (strcmp(redir_err, "/dev/null"))
			write_file(ctx, redir_err, cerr.buf, NULL);
	} else {
		sbuf_printf(err, "%s", cerr.buf);
	}
	free(cout.buf);
	free(cerr.buf);
	strv_free(&argv);
	return status;
}

/* A line's emptied token array back to @ctx, or freed if it has one. */
static void tokens_keep(struct script_ctx *ctx, struct tokens *tk)
{
	if (ctx->spare_tokens)
		free(tk);
	else
		ctx->spare_tokens = tk;
}

/*
 * A line tokenized and validated once, for a context that keeps them
 * (script_ctx_keep_parsed()): its tokens depend on nothing but its text
 * when it names no variable.
 */
struct parsed_line {
	char *line; /* the key */
	int n;
	struct token t[];
};

static void parsed_line_free(struct parsed_line *pl)
{
	for (int i = 0; i < pl->n; i++)
		free(pl->t[i].text);
	free(pl->line);
	free(pl);
}

/* Keep @tk for @line; without memory, nothing is kept. */
static void parsed_keep(struct script_ctx *ctx, const char *line,
			const struct tokens *tk)
{
	struct parsed_line *pl = calloc(1, sizeof(*pl) + (size_t)tk->n *
						 sizeof(pl->t[0]));
	bool oom = !pl;

	for (int i = 0; pl && i < tk->n; i++) {
		pl->t[i] = tk->t[i];
		if (tk->t[i].text && !(pl->t[i].text = strdup(tk->t[i].text)))
			oom = true;
		pl->n = i + 1;
	}
	if (pl && !oom && (pl->line = strdup(line)) &&
	    !strmap_put(&ctx->parsed, pl->line, pl))
		return;
	if (pl)
		parsed_line_free(pl);
}

/* Run the pipelines of tokens @t[0..n): ; && || lists. */
static int run_tokens(struct script_ctx *ctx, const struct token *t, int n,
		      struct cmd_io *io)
{
	int status = 0, i = 0;
	enum tok_type op = T_SEMI;

	while (i < n) {
		/* one pipeline: up to ; && || */
		int end = i;
		bool run;
		char *pipe_in = strdup(io->in ? io->in : "");

		while (end < n && t[end].type != T_SEMI &&
		       t[end].type != T_AND && t[end].type != T_OR)
			end++;
		run = op == T_SEMI || (op == T_AND && !status) ||
		      (op == T_OR && status);
		if (run && pipe_in) {
			int s = i;

			while (s < end) {
				int e = s;
				struct sbuf pout = { 0 };

				while (e < end && t[e].type != T_PIPE)
					e++;
				status = run_simple(ctx, t, s, e, pipe_in,
						    e < end ? &pout : io->out,
						    io->err);
				sbuf_putn(&pout, "", 0);
				free(pipe_in);
				pipe_in = pout.buf ? pout.buf : strdup("");
				s = e + 1;
			}
		}
		free(pipe_in);
		op = end < n ? t[end].type : T_SEMI;
		i = end + 1;
	}
	return status;
}

/* Run a whole line: lists of pipelines. Returns the status, or -EINVAL. */
static int run_line(struct script_ctx *ctx, const char *line,
		    struct cmd_io *io, char *msg, size_t msglen)
{
	bool keep = ctx->keep_parsed && !strchr(line, '$');
	const struct parsed_line *pl =
		keep ? strmap_get(&ctx->parsed, line) : NULL;
	struct tokens *tk;
	int status;

	if (pl)
		return run_tokens(ctx, pl->t, pl->n, io);
	/* tokenize() fills t[0..n) only: no need to clear 6 KB per line */
	tk = ctx->spare_tokens ? ctx->spare_tokens : malloc(sizeof(*tk));
	ctx->spare_tokens = NULL;
	if (!tk) {
		snprintf(msg, msglen, "out of memory");
		return -EINVAL;
	}
	tk->n = 0;
	tk->bytes = 0;
	if (tokenize(ctx, line, tk, msg, msglen) ||
	    validate(ctx, tk, msg, msglen)) {
		tokens_free(tk);
		tokens_keep(ctx, tk);
		return -EINVAL;
	}
	if (keep)
		parsed_keep(ctx, line, tk);
	status = run_tokens(ctx, tk->t, tk->n, io);
	tokens_free(tk);
	tokens_keep(ctx, tk);
	return status;
}

void script_ctx_keep_parsed(struct script_ctx *ctx)
{
	ctx->keep_parsed = true;
}

/* ---- public ---- */

struct script_ctx *script_ctx_new(struct machine *m, const char *filename)
{
	struct script_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->m = m;
	snprintf(ctx->filename, sizeof(ctx->filename), "%s",
		 filename ? filename : "-");
	snprintf(ctx->cwd, sizeof(ctx->cwd), "/");
	return ctx;
}

/* Everything a script set up, freed: the context is as new but for @m. */
static void script_ctx_clear(struct script_ctx *ctx)
{
	for (int i = 0; i < ctx->conc.have; i++)
		free(ctx->conc.lines[i]);
	for (int i = 0; i < ctx->nvars; i++)
		free(ctx->vars[i].value);
	for (size_t i = 0; i < ctx->vmm.cap; i++)
		if (ctx->vmm.keys && ctx->vmm.keys[i])
			free(ctx->vmm.vals[i]);
	strmap_free(&ctx->vmm);
	/* field by field: the schedule's 4 KB need only its terminator */
	ctx->conc.n = ctx->conc.have = ctx->conc.lineno = 0;
	ctx->conc.schedule[0] = '\0';
	memset(ctx->conc.lines, 0, sizeof(ctx->conc.lines));
	ctx->nvars = 0;
	ctx->lineno = 0;
	ctx->first_errno = 0;
	ctx->depth = 0;
	ctx->deadlocked_at = 0;
	ctx->proc[0] = '\0';
	strcpy(ctx->cwd, "/");
}

void script_ctx_reset(struct script_ctx *ctx, struct machine *m)
{
	script_ctx_clear(ctx);
	ctx->m = m;
}

void script_ctx_free(struct script_ctx *ctx)
{
	if (!ctx)
		return;
	script_ctx_clear(ctx);
	free(ctx->spare_tokens);
	for (size_t i = 0; i < ctx->parsed.cap; i++)
		if (ctx->parsed.keys && ctx->parsed.keys[i])
			parsed_line_free(ctx->parsed.vals[i]);
	strmap_free(&ctx->parsed);
	free(ctx);
}

void script_result_free(struct script_result *res)
{
	free(res->out);
	free(res->err);
	for (size_t i = 0; i < res->nlog; i++)
		free(res->log[i].text);
	free(res->log);
	memset(res, 0, sizeof(*res));
}

/* The log ring's entry @i (0: the oldest kept); caller holds log_lock. */
static const struct klog_entry *log_entry_locked(struct machine *m, size_t i)
{
	return &m->log[(m->log_head + i) % m->log_cap];
}

/*
 * Copy the log lines stamped after @since. Under log_lock: on a machine
 * other threads use, a printk may drop (and free) the oldest line while
 * we copy.
 */
static void collect_log(struct machine *m, uint64_t since,
			struct script_result *res)
{
	size_t n, first;

	pthread_mutex_lock(&m->log_lock);
	n = m->log_count;
	first = n;
	while (first > 0 && log_entry_locked(m, first - 1)->ts_ns > since)
		first--;
	if (first < n)
		res->log = calloc(n - first, sizeof(*res->log));
	for (size_t i = first; res->log && i < n; i++) {
		const struct klog_entry *e = log_entry_locked(m, i);
		struct script_log_line *l = &res->log[res->nlog];

		l->ts_ns = e->ts_ns;
		l->level = e->level;
		l->text = strdup(e->text);
		if (l->text)
			res->nlog++;
	}
	pthread_mutex_unlock(&m->log_lock);
}

static bool is_concurrent_verb(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return !strncmp(line, "@concurrent", 11) &&
	       (!line[11] || line[11] == ' ' || line[11] == '\t');
}

/*
 * '@concurrent N [schedule S]': the next N command lines are one block,
 * run as concurrent tasks when the last arrives. Returns 1 when @line
 * opened a block, 0 when it is not the verb, -EINVAL with @msg.
 */
static int concurrent_open(struct script_ctx *ctx, const char *line,
			   int lineno, char *msg, size_t msglen)
{
	char sched[CONCURRENT_SCHEDULE_MAX + 2], word[16] = "", extra[2];
	int n, got;

	if (!is_concurrent_verb(line))
		return 0; /* every line asks: no 4 KB cleared for nothing */
	sched[0] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	got = sscanf(line + 11, "%d %15s %" CONCURRENT_SCHEDULE_MAX_STR "s %1s",
		     &n, word, sched, extra);
	if (got < 1 || n < 2 || n > 3) {
		snprintf(msg, msglen,
			 "@concurrent: expected 'N [schedule S]' with N 2 or 3");
		return -EINVAL;
	}
	if (got == 2 || got > 3 || (got == 3 && strcmp(word, "schedule"))) {
		snprintf(msg, msglen,
			 "@concurrent: after N only 'schedule S' may follow");
		return -EINVAL;
	}
	if (strlen(sched) > CONCURRENT_SCHEDULE_MAX) {
		snprintf(msg, msglen,
			 "@concurrent: schedule longer than %d points",
			 CONCURRENT_SCHEDULE_MAX);
		return -EINVAL;
	}
	for (const char *c = sched; *c; c++)
		if (*c < '1' || *c > '0' + n) {
			snprintf(msg, msglen,
				 "@concurrent: schedule '%s': each point names a task, 1 to %d",
				 sched, n);
			return -EINVAL;
		}
	ctx->conc.n = n;
	ctx->conc.have = 0;
	ctx->conc.lineno = lineno;
	snprintf(ctx->conc.schedule, sizeof(ctx->conc.schedule), "%s", sched);
	return 1;
}

/* The block's lines as tasks; their outputs in task order, the log once. */
static int concurrent_run(struct script_ctx *ctx, struct script_result *res,
			  char *msg, size_t msglen)
{
	struct script_result tr[3] = { 0 };
	struct sbuf out = { 0 }, err = { 0 };
	size_t warns_before = machine_warn_count(ctx->m);
	bool deadlock = false;
	uint64_t since;
	int n = ctx->conc.n, ret;

	machine_advance_clock(ctx->m, 100000000ULL);
	since = machine_clock(ctx->m);
	ret = check_run_concurrent(ctx->m, (const char *const *)ctx->conc.lines,
				   n, ctx->conc.schedule, tr, &deadlock);
	for (int i = 0; i < n; i++) {
		free(ctx->conc.lines[i]);
		ctx->conc.lines[i] = NULL;
	}
	ctx->conc.have = ctx->conc.n = 0;
	if (ret) {
		snprintf(msg, msglen, "@concurrent: %s", errno_text(ret));
		return -EINVAL;
	}
	res->status = 0;
	for (int i = 0; i < n; i++) {
		sbuf_printf(&out, "%s", tr[i].out ? tr[i].out : "");
		sbuf_printf(&err, "%s", tr[i].err ? tr[i].err : "");
		if (!res->status)
			res->status = tr[i].status;
		if (!res->ret)
			res->ret = tr[i].ret;
		script_result_free(&tr[i]);
	}
	if (deadlock) {
		sbuf_printf(&err, "@concurrent: deadlock: no task can take its lock\n");
		ctx->deadlocked_at = ctx->lineno;
		if (!res->status)
			res->status = 1;
	}
	collect_log(ctx->m, since, res);
	sbuf_printf(&out, "%s", "");
	sbuf_printf(&err, "%s", "");
	res->out = out.buf;
	res->err = err.buf;
	res->warn_first = warns_before;
	res->nwarn = machine_warn_count(ctx->m) - warns_before;
	res->concurrent = n;
	return 0;
}

int script_ctx_pending(const struct script_ctx *ctx, int *ret_lineno)
{
	if (ctx->conc.n && ret_lineno)
		*ret_lineno = ctx->conc.lineno;
	return ctx->conc.n ? ctx->conc.n - ctx->conc.have : 0;
}

/* The result of a line that only joined a block, or an error in @msg. */
static int script_result_msg(struct script_ctx *ctx, int lineno,
			     struct script_result *res, const char *msg)
{
	memset(res, 0, sizeof(*res));
	if (msg) {
		if (asprintf(&res->err, "%s:%d: %s\n", ctx->filename, lineno,
			     msg) < 0)
			res->err = NULL;
		res->status = 2;
		return -EINVAL;
	}
	res->out = strdup("");
	res->err = strdup("");
	res->warn_first = machine_warn_count(ctx->m);
	return 0;
}

int script_exec_line(struct script_ctx *ctx, const char *line, int lineno,
		     struct script_result *res)
{
	struct sbuf out = { 0 }, err = { 0 };
	struct cmd_io io = { "", &out, &err };
	char msg[512] = "";
	size_t warns_before = machine_warn_count(ctx->m);
	uint64_t since;
	size_t len = strlen(line);
	int status;

	memset(res, 0, sizeof(*res));
	ctx->lineno = lineno;
	ctx->first_errno = 0;
	if (ctx->deadlocked_at) {
		snprintf(msg, sizeof(msg),
			 "the machine is deadlocked since line %d: no line runs after it",
			 ctx->deadlocked_at);
		return script_result_msg(ctx, lineno, res, msg);
	}
	if (ctx->conc.n) {
		if (len > SCRIPT_LINE_MAX) {
			snprintf(msg, sizeof(msg), "line longer than %d bytes",
				 SCRIPT_LINE_MAX);
			return script_result_msg(ctx, lineno, res, msg);
		}
		if (is_concurrent_verb(line)) {
			snprintf(msg, sizeof(msg),
				 "@concurrent inside the block opened at line %d",
				 ctx->conc.lineno);
			return script_result_msg(ctx, lineno, res, msg);
		}
		ctx->conc.lines[ctx->conc.have] = strdup(line);
		if (!ctx->conc.lines[ctx->conc.have])
			return script_result_msg(ctx, lineno, res,
						 "out of memory");
		if (++ctx->conc.have < ctx->conc.n)
			return script_result_msg(ctx, lineno, res, NULL);
		status = concurrent_run(ctx, res, msg, sizeof(msg));
		return status ? script_result_msg(ctx, lineno, res, msg) : 0;
	}
	status = len > SCRIPT_LINE_MAX ? 0 :
					 concurrent_open(ctx, line, lineno, msg,
							 sizeof(msg));
	if (status)
		return script_result_msg(ctx, lineno, res,
					 status < 0 ? msg : NULL);
	if (len > SCRIPT_LINE_MAX) {
		snprintf(msg, sizeof(msg), "line longer than %d bytes",
			 SCRIPT_LINE_MAX);
		status = -EINVAL;
	} else {
		/* each line starts a little later, so dmesg reads in time */
		machine_advance_clock(ctx->m, 100000000ULL);
		since = machine_clock(ctx->m);
		status = run_line(ctx, line, &io, msg, sizeof(msg));
		collect_log(ctx->m, since, res);
	}
	if (status < 0) {
		free(out.buf);
		free(err.buf);
		for (size_t i = 0; i < res->nlog; i++)
			free(res->log[i].text);
		free(res->log);
		memset(res, 0, sizeof(*res));
		if (asprintf(&res->err, "%s:%d: %s\n", ctx->filename, lineno,
			     msg) < 0)
			res->err = NULL;
		res->status = 2;
		return -EINVAL;
	}
	sbuf_putn(&out, "", 0);
	sbuf_putn(&err, "", 0);
	res->out = out.buf;
	res->err = err.buf;
	res->status = status;
	res->ret = ctx->first_errno;
	res->warn_first = warns_before;
	res->nwarn = machine_warn_count(ctx->m) - warns_before;
	return 0;
}

/* ---- for the verbs (script-verbs.c) ---- */

void script_note_errno(struct script_ctx *ctx, int err)
{
	note_errno(ctx, err);
}

struct machine *script_machine(struct script_ctx *ctx)
{
	return ctx->m;
}

void script_ctx_set_names(struct script_ctx *ctx,
			  const struct machine_show_names *names)
{
	if (names)
		ctx->names = *names;
	else
		memset(&ctx->names, 0, sizeof(ctx->names));
}

const struct machine_show_names *script_names(struct script_ctx *ctx)
{
	return ctx->names.pci_id_name ? &ctx->names : NULL;
}

struct vmm_assignment {
	char dev[64];	/* the key */
	int container;
};

int script_vmm_container(struct script_ctx *ctx, const char *dev, int set)
{
	struct vmm_assignment *a = strmap_get(&ctx->vmm, dev);
	int old;

	if (a) {
		old = a->container;
		if (set == -2) { /* forget */
			strmap_del(&ctx->vmm, a->dev, a);
			free(a);
		} else if (set >= 0) {
			a->container = set;
		}
		return old;
	}
	if (set < 0)
		return -1;
	/* unrecorded (no memory), "@vmm release" finds the group's container */
	a = malloc(sizeof(*a));
	if (!a)
		return -1;
	snprintf(a->dev, sizeof(a->dev), "%s", dev);
	a->container = set;
	if (strmap_put(&ctx->vmm, a->dev, a))
		free(a);
	return -1;
}
