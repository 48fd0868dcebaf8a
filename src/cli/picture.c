// SPDX-License-Identifier: MIT
/*
 * Pictures for people: the DOT text rendered by Graphviz's dot(1) into
 * SVG or PNG (docs/pictures.md); the names on them come from pciids.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

/* Whether @prog is an executable file in $PATH. */
static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n,
			 n ? path : ".", prog);
		if (!access(buf, X_OK))
			return true;
		path += n;
		if (*path)
			path++;
	}
	return false;
}

bool cli_have_dot(void)
{
	return in_path("dot");
}

int cli_write_picture(const char *cmd, const char *text, const char *format,
		      const char *out)
{
	int pipefd[2], outfd = STDOUT_FILENO, status;
	size_t len = strlen(text), done = 0;
	pid_t pid;

	if (format && !cli_have_dot()) {
		fprintf(stderr, "%s: --%s needs Graphviz's 'dot', which is not in PATH (install the graphviz package), or take the graph with --dot\n",
			cmd, format);
		return 2;
	}
	if (out) {
		outfd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (outfd < 0) {
			fprintf(stderr, "%s: cannot write '%s': %s\n", cmd, out,
				strerror(errno));
			return 2;
		}
	}
	if (!format) {
		int ret = 0;

		while (done < len) {
			ssize_t w = write(outfd, text + done, len - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				fprintf(stderr, "%s: cannot write '%s': %s\n",
					cmd, out ? out : "standard output",
					strerror(errno));
				ret = 2;
				break;
			}
			done += (size_t)w;
		}
		if (out)
			close(outfd);
		return ret;
	}
	fflush(stdout);
	if (pipe(pipefd)) {
		fprintf(stderr, "%s: pipe: %s\n", cmd, strerror(errno));
		goto err_close_out;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", cmd, strerror(errno));
		goto err_close_pipe;
	}
	if (!pid) {
		char tflag[16];

		snprintf(tflag, sizeof(tflag), "-T%s", format);
		dup2(pipefd[0], STDIN_FILENO);
		if (outfd != STDOUT_FILENO)
			dup2(outfd, STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execlp("dot", "dot", tflag, (char *)NULL);
		fprintf(stderr, "%s: cannot run 'dot': %s\n", cmd,
			strerror(errno));
		_exit(127);
	}
	close(pipefd[0]);
	while (done < len) {
		ssize_t w = write(pipefd[1], text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		done += (size_t)w;
	}
	close(pipefd[1]);
	if (out)
		close(outfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	if (status != 0 || done < len) {
		fprintf(stderr, "%s: 'dot -T%s' failed (%s %d)\n", cmd, format,
			WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status) :
					      WEXITSTATUS(status));
		if (out)
			unlink(out);
		return 2;
	}
	return 0;

err_close_pipe:
	close(pipefd[0]);
	close(pipefd[1]);
err_close_out:
	if (out) {
		close(outfd);
		unlink(out);
	}
	return 2;
}

char *cli_picture_path(const char *script, const char *ext)
{
	size_t n = strlen(script);
	char *p;

	if (n > 3 && !strcmp(script + n - 3, ".sh"))
		n -= 3;
	if (asprintf(&p, "%.*s.%s", (int)n, script, ext) < 0)
		return NULL;
	return p;
}

bool cli_picture_opt(int c, const char *arg, struct cli_picture *p)
{
	switch (c) {
	case 'd':
	case 's':
	case 'p':
		p->format = c == 's' ? "svg" : c == 'p' ? "png" : "";
		return true;
	case 'o':
		p->out = arg;
		return true;
	case 'n':
		p->numeric = true;
		return true;
	default:
		return false;
	}
}
