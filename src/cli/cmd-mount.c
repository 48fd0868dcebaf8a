// SPDX-License-Identifier: MIT
/*
 * dmaown mount and dmaown shell: the machine's /sys (and /dev/vfio) as a
 * real filesystem through FUSE, served by the same sysfs layer scripts
 * use, so that lspci, driverctl, dpdk-devbind and shell loops run against
 * it unchanged. Userspace glue, not a kernel counterpart; the semantics are
 * all in the library (include/dmaown/sysfs.h).
 *
 * A mount serves the model's root (its sys and dev directories; the shell
 * binds sys/ over /sys), plus a hidden directory ".dmaown", at the top and
 * in sys/: "ctl" runs script lines (what the shell's modprobe and rmmod
 * write), "dmesg" the kernel log, "show" the ownership state, "modprobe"
 * and "rmmod" the shell's stand-ins for the host's commands.
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <fuse.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define CTL_NAME ".dmaown"
#define CTL_DIR "/" CTL_NAME

struct mount_state {
	struct machine *m;
	pthread_mutex_t ctl_lock; /* the script context runs one line at once */
	struct script_ctx *ctx;
	time_t t0;                /* every file's times: the mount's */
};

/* The output of the lines one open of "ctl" ran, read back by it. */
struct ctl_handle {
	char *out;
	size_t len, pos;
};

static struct mount_state *mstate(void)
{
	return fuse_get_context()->private_data;
}

/* ---- .dmaown: the files that are the mount's own ---- */

/*
 * The shell's kmod: modprobe, rmmod and lsmod on the simulated machine,
 * never the host's kernel (it is bound over the host's kmod, which they
 * all are on Debian).
 */
static const char modprobe_shim[] =
	"#!/bin/sh\n"
	"# dmaown shell: module commands act on the simulated machine.\n"
	"cmd=${0##*/}\n"
	"case \"$cmd\" in\n"
	"lsmod)\n"
	"\techo 'Module                  Size  Used by'\n"
	"\tfor m in /sys/module/*; do\n"
	"\t\t[ -e \"$m/initstate\" ] && printf '%-24s%4s  %s\\n' \"${m##*/}\" 0 0\n"
	"\tdone\n"
	"\texit 0 ;;\n"
	"modprobe|rmmod) ;;\n"
	"*) echo \"$cmd: not available in dmaown shell\" >&2; exit 1 ;;\n"
	"esac\n"
	"exec 3<>\"${DMAOWN_CTL:-/sys/.dmaown/ctl}\" || exit 1\n"
	"printf '%s %s\\n' \"$cmd\" \"$*\" >&3 2>/dev/null\n"
	"st=$?\n"
	"cat <&3\n"
	"exit $st\n";

enum ctl_file {
	CTL_NONE,
	CTL_ROOT,
	CTL_CTL,
	CTL_DMESG,
	CTL_SHOW,
	CTL_SHOW_JSON,
	CTL_SHOW_DOT,
	CTL_SHIM,
};

static enum ctl_file ctl_file(const char *path)
{
	/* also inside sys/: the shell's /sys is the mount's sys/ */
	if (!strncmp(path, "/sys" CTL_DIR, strlen("/sys" CTL_DIR)))
		path += strlen("/sys");
	if (strncmp(path, CTL_DIR, strlen(CTL_DIR)))
		return CTL_NONE;
	path += strlen(CTL_DIR);
	if (!*path)
		return CTL_ROOT;
	if (!strcmp(path, "/ctl"))
		return CTL_CTL;
	if (!strcmp(path, "/dmesg"))
		return CTL_DMESG;
	if (!strcmp(path, "/show"))
		return CTL_SHOW;
	if (!strcmp(path, "/show.json"))
		return CTL_SHOW_JSON;
	if (!strcmp(path, "/show.dot"))
		return CTL_SHOW_DOT;
	if (!strcmp(path, "/modprobe") || !strcmp(path, "/rmmod"))
		return CTL_SHIM;
	return CTL_NONE;
}

/* The kernel log with its WARN reports, as 'dmaown run --dmesg' prints. */
static char *dmesg_text(struct machine *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	cli_print_log(f, m);
	fclose(f);
	return buf;
}

static char *ctl_contents(enum ctl_file which)
{
	struct mount_state *s = mstate();

	switch (which) {
	case CTL_DMESG:
		return dmesg_text(s->m);
	case CTL_SHOW:
		return machine_show(s->m, SHOW_TEXT);
	case CTL_SHOW_JSON:
		return machine_show(s->m, SHOW_JSON);
	case CTL_SHOW_DOT:
		return machine_show(s->m, SHOW_DOT);
	case CTL_SHIM:
		return strdup(modprobe_shim);
	default:
		return strdup("");
	}
}

/* ---- the operations ---- */

static void fill_stat(struct stat *st, mode_t mode, off_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_atime = st->st_mtime = st->st_ctime = mstate()->t0;
}

static int sfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	struct machine *m = mstate()->m;
	struct sysfs_attr_stat a;
	int ret;

	(void)fi;
	switch (ctl_file(path)) {
	case CTL_ROOT:
		fill_stat(st, S_IFDIR | 0755, 0);
		return 0;
	case CTL_CTL:
		fill_stat(st, S_IFREG | 0600, 0);
		return 0;
	case CTL_DMESG:
	case CTL_SHOW:
	case CTL_SHOW_JSON:
	case CTL_SHOW_DOT:
		fill_stat(st, S_IFREG | 0444, 4096);
		return 0;
	case CTL_SHIM:
		fill_stat(st, S_IFREG | 0755, sizeof(modprobe_shim) - 1);
		return 0;
	case CTL_NONE:
		break;
	}
	ret = sysfs_getattr(m, path, &a);
	if (ret)
		return ret;
	switch (a.type) {
	case SYSFS_DIR:
		fill_stat(st, S_IFDIR | a.mode, 0);
		break;
	case SYSFS_LINK: {
		char *t;

		/* a link's size is its target's length, as lstat() says */
		ret = sysfs_readlink(m, path, &t);
		if (ret)
			return ret;
		fill_stat(st, S_IFLNK | a.mode, (off_t)strlen(t));
		free(t);
		break;
	}
	default:
		fill_stat(st, (a.chardev ? S_IFCHR : S_IFREG) | a.mode,
			  (off_t)a.size);
		if (a.chardev)
			st->st_rdev = makedev(a.rdev_major, a.rdev_minor);
		break;
	}
	return 0;
}

static int sfs_readlink(const char *path, char *buf, size_t size)
{
	char *t;
	int ret;

	ret = sysfs_readlink(mstate()->m, path, &t);
	if (ret)
		return ret;
	snprintf(buf, size, "%s", t);
	free(t);
	return 0;
}

static int sfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	char **names;
	size_t n;
	int ret;

	(void)off;
	(void)fi;
	(void)flags;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	if (ctl_file(path) == CTL_ROOT) {
		fill(buf, "ctl", NULL, 0, 0);
		fill(buf, "dmesg", NULL, 0, 0);
		fill(buf, "modprobe", NULL, 0, 0);
		fill(buf, "rmmod", NULL, 0, 0);
		fill(buf, "show", NULL, 0, 0);
		fill(buf, "show.dot", NULL, 0, 0);
		fill(buf, "show.json", NULL, 0, 0);
		return 0;
	}
	ret = sysfs_list(mstate()->m, path, &names, &n);
	if (ret)
		return ret;
	if (!strcmp(path, "/") || !strcmp(path, "/sys"))
		fill(buf, CTL_NAME, NULL, 0, 0);
	for (size_t i = 0; i < n; i++)
		fill(buf, names[i], NULL, 0, 0);
	sysfs_list_free(names, n);
	return 0;
}

/*
 * kernfs_fop_open(): a file without a show cannot be opened for reading,
 * one without a store for writing, whoever asks (root included); the
 * permission bits are the kernel's (default_permissions) for the rest.
 */
static int sfs_open(const char *path, struct fuse_file_info *fi)
{
	struct stat st;
	int acc = fi->flags & O_ACCMODE;
	int ret = sfs_getattr(path, &st, NULL);

	if (ret)
		return ret;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISCHR(st.st_mode))
		return -EACCES;	/* nodev: the model's nodes do not open */
	if (acc != O_WRONLY && !(st.st_mode & 0444))
		return -EACCES;
	if (acc != O_RDONLY && !(st.st_mode & 0222))
		return -EACCES;
	/* contents change under the reader: no page cache */
	fi->direct_io = 1;
	fi->fh = 0;
	if (ctl_file(path) == CTL_CTL) {
		struct ctl_handle *h = calloc(1, sizeof(*h));

		if (!h)
			return -ENOMEM;
		fi->fh = (uintptr_t)h;
	}
	return 0;
}

static int sfs_release(const char *path, struct fuse_file_info *fi)
{
	struct ctl_handle *h = (struct ctl_handle *)(uintptr_t)fi->fh;

	(void)path;
	if (h) {
		free(h->out);
		free(h);
	}
	return 0;
}

static int copy_out(const char *data, size_t len, char *buf, size_t size,
		    off_t off)
{
	if (off < 0 || (size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, data + off, size);
	return (int)size;
}

static int sfs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	enum ctl_file which = ctl_file(path);
	char *data;
	size_t len;
	int ret;

	if (which == CTL_CTL) {
		struct ctl_handle *h = (struct ctl_handle *)(uintptr_t)fi->fh;

		/* what this open's writes printed, once */
		ret = h ? copy_out(h->out ? h->out : "", h->len, buf, size,
				   (off_t)h->pos) :
			  0;
		if (h)
			h->pos += (size_t)ret;
		return ret;
	}
	if (which != CTL_NONE) {
		data = ctl_contents(which);
		if (!data)
			return -ENOMEM;
		ret = copy_out(data, strlen(data), buf, size, off);
		free(data);
		return ret;
	}
	ret = sysfs_read_bin(mstate()->m, path, &data, &len);
	if (ret)
		return ret;
	ret = copy_out(data, len, buf, size, off);
	free(data);
	return ret;
}

/* A line written to ctl runs in the mount's script shell. */
static int ctl_write(struct ctl_handle *h, const char *buf, size_t size)
{
	struct mount_state *s = mstate();
	struct script_result res;
	char *line = strndup(buf, size);
	char *nl;
	int ret;

	if (!line)
		return -ENOMEM;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	pthread_mutex_lock(&s->ctl_lock);
	ret = script_exec_line(s->ctx, line, 0, &res);
	pthread_mutex_unlock(&s->ctl_lock);
	free(line);
	if (ret)
		return ret;
	if (h) {
		size_t add = strlen(res.out ? res.out : "") +
			     strlen(res.err ? res.err : "");
		char *n = realloc(h->out, h->len + add + 1);

		if (n) {
			h->out = n;
			h->len += (size_t)sprintf(n + h->len, "%s%s",
						  res.out ? res.out : "",
						  res.err ? res.err : "");
		}
	}
	ret = res.status ? (res.ret ? res.ret : -EIO) : (int)size;
	script_result_free(&res);
	return ret;
}

static int sfs_write(const char *path, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	int ret;

	(void)off;
	if (ctl_file(path) == CTL_CTL)
		return ctl_write((struct ctl_handle *)(uintptr_t)fi->fh, buf,
				 size);
	if (ctl_file(path) != CTL_NONE)
		return -EACCES;
	/* each write(2) is one store, as kernfs_fop_write_iter() makes it */
	ret = sysfs_write(mstate()->m, path, buf, size);
	return ret ? ret : (int)size;
}

/* O_TRUNC ("echo x > file") asks for a truncate: sysfs ignores it */
static int sfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct stat st;

	(void)size;
	(void)fi;
	return sfs_getattr(path, &st, NULL);
}

/*
 * sysfs makes no files but its own: creating one is EACCES (the VFS's
 * may_o_create() with no ->create), the namespace changes kernfs does not
 * offer are EPERM.
 */
static int sfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EACCES;
}

static int sfs_mkdir(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EPERM;
}

static int sfs_unlink(const char *path)
{
	(void)path;
	return -EPERM;
}

static int sfs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EPERM;
}

static int sfs_symlink(const char *target, const char *path)
{
	(void)target;
	(void)path;
	return -EPERM;
}

static int sfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int sfs_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return -EPERM;
}

static void *sfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* nothing is cached: every lookup and read asks the model again */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	return fuse_get_context()->private_data;
}

static const struct fuse_operations sfs_ops = {
	.init = sfs_init,
	.getattr = sfs_getattr,
	.readlink = sfs_readlink,
	.readdir = sfs_readdir,
	.open = sfs_open,
	.release = sfs_release,
	.read = sfs_read,
	.write = sfs_write,
	.truncate = sfs_truncate,
	.create = sfs_create,
	.mkdir = sfs_mkdir,
	.unlink = sfs_unlink,
	.rmdir = sfs_unlink,
	.rename = sfs_rename,
	.symlink = sfs_symlink,
	.chmod = sfs_chmod,
	.chown = sfs_chown,
};

/* ---- setting up ---- */

static struct fuse *sfs_new(struct mount_state *s, const char *dir,
			    bool root)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse *f;

	/*
	 * nodev: the /dev/vfio nodes shown never open a host device; with
	 * root, every user reads as on a real /sys, and only what the modes
	 * allow is written (default_permissions)
	 */
	if (fuse_opt_add_arg(&args, "dmaown") ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args,
			     root ? "fsname=dmaown,subtype=dmaown,nodev,nosuid,default_permissions,allow_other" :
				    "fsname=dmaown,subtype=dmaown,nodev,nosuid,default_permissions")) {
		fuse_opt_free_args(&args);
		return NULL;
	}
	f = fuse_new(&args, &sfs_ops, sizeof(sfs_ops), s);
	fuse_opt_free_args(&args);
	if (!f)
		return NULL;
	if (fuse_mount(f, dir)) {
		fuse_destroy(f);
		return NULL;
	}
	return f;
}

static int state_init(struct mount_state *s, const char *spec)
{
	memset(s, 0, sizeof(*s));
	s->m = cli_load_machine(spec, 0);
	if (!s->m)
		return -1;
	s->t0 = time(NULL);
	pthread_mutex_init(&s->ctl_lock, NULL);
	s->ctx = script_ctx_new(s->m, "ctl");
	return s->ctx ? 0 : -1;
}

static void state_free(struct mount_state *s)
{
	script_ctx_free(s->ctx);
	machine_destroy(s->m);
	pthread_mutex_destroy(&s->ctl_lock);
}

static int mount_usage(FILE *out)
{
	fputs("usage: dmaown mount MACHINE DIR\n"
	      "\n"
	      "Serve MACHINE's /sys and /dev/vfio at DIR/sys and DIR/dev/vfio\n"
	      "through FUSE until DIR is unmounted (umount DIR, fusermount3 -u\n"
	      "DIR) or dmaown is interrupted; then print the kernel log. Writes\n"
	      "fail as the kernel's would (EBUSY, ENODEV, EINVAL...).\n"
	      "DIR/.dmaown holds ctl (write a script line to run it), dmesg and\n"
	      "show. MACHINE: a built-in machine or a machine file.\n",
	      out);
	return out == stdout ? 0 : 2;
}

int cmd_mount(int argc, char **argv)
{
	struct mount_state s;
	struct fuse *f;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return mount_usage(stdout);
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return mount_usage(stderr);
	if (state_init(&s, argv[1]))
		return 2;
	f = sfs_new(&s, argv[2], geteuid() == 0);
	if (!f) {
		fprintf(stderr, "dmaown mount: cannot mount %s: FUSE needs /dev/fuse and fusermount3 (Debian: fuse3)\n",
			argv[2]);
		state_free(&s);
		return 2;
	}
	if (fuse_set_signal_handlers(fuse_get_session(f)) == 0) {
		struct fuse_loop_config cfg = { .clone_fd = 0,
						.max_idle_threads = 10 };

		ret = fuse_loop_mt(f, &cfg);
		fuse_remove_signal_handlers(fuse_get_session(f));
	} else {
		ret = -1;
	}
	fuse_unmount(f);
	fuse_destroy(f);
	cli_print_log(stdout, s.m);
	state_free(&s);
	return ret ? 1 : 0;
}

/* ---- dmaown shell ---- */

static void *loop_thread(void *arg)
{
	struct fuse_loop_config cfg = { .clone_fd = 0, .max_idle_threads = 10 };

	fuse_loop_mt(arg, &cfg);
	return NULL;
}

/*
 * Bind @src over the file @dst finally names (Debian's modprobe, rmmod and
 * lsmod are links to kmod); @done remembers what is bound already.
 */
static void bind_over(const char *src, const char *dst, char done[][PATH_MAX],
		      int *ndone)
{
	char rp[PATH_MAX];

	if (!realpath(dst, rp))
		return;
	for (int i = 0; i < *ndone; i++)
		if (!strcmp(done[i], rp))
			return;
	if (!mount(src, rp, NULL, MS_BIND, NULL))
		snprintf(done[(*ndone)++], PATH_MAX, "%s", rp);
}

#define STAGE "/sys/stage"
#define STAGE_DEV "/sys/dev"
#define STAGE_UPPER "/sys/upper"
#define STAGE_WORK "/sys/work"

/*
 * /dev/vfio as the machine has it, without touching the host's /dev (a
 * devtmpfs shared with the host): an overlay of the host's /dev, whose
 * upper layer is the scratch tmpfs, gets a vfio directory with the
 * machine's nodes bound on it; /dev's own mounts (pts, shm...) are bound
 * back onto the overlay. Returns 0, or -1 with errno.
 */
static int shell_dev_vfio(void)
{
	static const char *const subs[] = { "pts", "shm", "mqueue", "hugepages" };
	char from[64], to[64];
	struct stat st;

	if (mount("/dev", STAGE_DEV, NULL, MS_BIND | MS_REC, NULL) ||
	    mount("overlay", "/dev", "overlay", 0,
		  "lowerdir=" STAGE_DEV ",upperdir=" STAGE_UPPER
		  ",workdir=" STAGE_WORK))
		return -1;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(from, sizeof(from), STAGE_DEV "/%s", subs[i]);
		snprintf(to, sizeof(to), "/dev/%s", subs[i]);
		if (!stat(from, &st) && S_ISDIR(st.st_mode))
			mount(from, to, NULL, MS_BIND | MS_REC, NULL);
	}
	if (mkdir("/dev/vfio", 0755) && errno != EEXIST)
		return -1;
	return mount(STAGE "/dev/vfio", "/dev/vfio", NULL, MS_BIND, NULL);
}

static int shell_usage(FILE *out)
{
	fputs("usage: dmaown shell MACHINE [-- CMD [ARG...]]\n"
	      "\n"
	      "Run CMD (default: $SHELL, else /bin/sh) in a private mount\n"
	      "namespace whose /sys and /dev/vfio are MACHINE's, served through\n"
	      "FUSE, with modprobe, rmmod and lsmod acting on MACHINE rather\n"
	      "than the host. The\n"
	      "host's mounts and modules are untouched. Needs root. Prints the\n"
	      "kernel log when CMD exits, and exits with CMD's status.\n",
	      out);
	return out == stdout ? 0 : 2;
}

int cmd_shell(int argc, char **argv)
{
	static const char *const shims[] = {
		"/usr/sbin/modprobe", "/usr/sbin/rmmod", "/usr/sbin/lsmod",
		"/usr/bin/lsmod", "/sbin/modprobe", "/sbin/rmmod",
	};
	static char bound[6][PATH_MAX];
	int nbound = 0;
	struct mount_state s;
	struct fuse *f;
	pthread_t thread;
	char *const *cmd;
	char *defcmd[2];
	int status = 0;
	pid_t pid;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return shell_usage(stdout);
	if (argc < 2 || argv[1][0] == '-' ||
	    (argc > 2 && (strcmp(argv[2], "--") || argc == 3)))
		return shell_usage(stderr);
	if (argc > 3) {
		cmd = argv + 3;
	} else {
		defcmd[0] = getenv("SHELL") ? getenv("SHELL") : "/bin/sh";
		defcmd[1] = NULL;
		cmd = defcmd;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "dmaown shell: needs root: it mounts over /sys in a private mount namespace (unprivileged user namespaces cannot reach /dev/fuse here)\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "dmaown shell: cannot make a private mount namespace: %s\n",
			strerror(errno));
		return 2;
	}
	/*
	 * From here on every mount is this process's own and goes with its
	 * namespace. A tmpfs over /sys is the scratch space: the FUSE mount
	 * of the machine's whole tree (sys/ and dev/), the host's /dev and
	 * the overlay's upper layer live there, hidden once the machine's
	 * sys/ is bound over /sys.
	 */
	if (mount("tmpfs", "/sys", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") ||
	    mkdir(STAGE, 0755) || mkdir(STAGE_DEV, 0755) ||
	    mkdir(STAGE_UPPER, 0755) || mkdir(STAGE_WORK, 0755)) {
		fprintf(stderr, "dmaown shell: cannot make a scratch tmpfs: %s\n",
			strerror(errno));
		return 2;
	}
	if (state_init(&s, argv[1]))
		return 2;
	f = sfs_new(&s, STAGE, true);
	if (!f) {
		fprintf(stderr, "dmaown shell: cannot mount the machine's /sys: FUSE needs /dev/fuse (Debian: fuse3)\n");
		state_free(&s);
		return 2;
	}
	if (pthread_create(&thread, NULL, loop_thread, f)) {
		fuse_unmount(f);
		fuse_destroy(f);
		state_free(&s);
		return 2;
	}
	if (shell_dev_vfio())
		fprintf(stderr, "dmaown shell: /dev/vfio is the host's: %s\n",
			strerror(errno));
	if (mount(STAGE "/sys", "/sys", NULL, MS_BIND, NULL)) {
		fprintf(stderr, "dmaown shell: cannot mount the machine's /sys: %s\n",
			strerror(errno));
		fuse_exit(f);
		fuse_unmount(f);
		pthread_join(thread, NULL);
		fuse_destroy(f);
		state_free(&s);
		return 2;
	}
	for (size_t i = 0; i < sizeof(shims) / sizeof(shims[0]); i++)
		bind_over("/sys/.dmaown/modprobe", shims[i], bound, &nbound);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv("DMAOWN_CTL", "/sys/.dmaown/ctl", 1);
		setenv("DMAOWN_MACHINE", argv[1], 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "dmaown shell: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	for (int i = 0; i < nbound; i++)
		umount2(bound[i], MNT_DETACH);
	/* what hides the staging mount first, then the FUSE mount itself */
	umount2("/sys", MNT_DETACH);
	umount2("/dev/vfio", MNT_DETACH);
	fuse_exit(f);
	fuse_unmount(f);
	pthread_join(thread, NULL);
	fuse_destroy(f);
	cli_print_log(stdout, s.m);
	state_free(&s);
	if (pid < 0)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
