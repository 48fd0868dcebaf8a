// SPDX-License-Identifier: MIT
/*
 * Userspace processes of a machine and their descriptor tables: the parts
 * of fs/file.c (alloc_fd(), fd_install(), close_fd(), close_files()) and of
 * setrlimit(RLIMIT_NOFILE) that VFIO and iommufd users meet. A process is
 * started by naming it (a script's `@as NAME`); the first one, "sh", is the
 * script's own shell, where the legacy verbs act.
 */
#include <stdio.h>
#include <string.h>

#include "dmaown/vfio.h"
#include "fs/file.h"
#include "machine/machine-priv.h"

/* 0, 1 and 2: what every process starts with; ioctls on them are -ENOTTY */
static struct file stdio_file = { .kind = FILE_STDIO, .fd = -1 };

/* Named processes get PIDs from here, in the order they start. */
#define PROCESS_FIRST_PID 1000

static struct process *process_alloc(struct machine *m, const char *name,
				     unsigned long nofile)
{
	struct process *p = zalloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->m = m;
	p->name = strdup(name);
	p->nofile = nofile;
	idr_init(&p->fds);
	idr_init(&p->containers);
	idr_init(&p->iommufds);
	if (!p->name)
		goto err;
	for (int i = 0; i < 3; i++)
		if (idr_alloc_lowest(&p->fds, &stdio_file, 0, 3) != i)
			goto err;
	if (strmap_put(&m->processes_by_name, p->name, p))
		goto err;
	return p;
err:
	idr_destroy(&p->fds);
	free(p->name);
	free(p);
	return NULL;
}

static void process_free(struct process *p)
{
	if (p->name)
		strmap_del(&p->m->processes_by_name, p->name, p);
	idr_destroy(&p->fds);
	idr_destroy(&p->containers);
	idr_destroy(&p->iommufds);
	if (p->name)
		machine_free(p->m, p->name, strlen(p->name) + 1);
	machine_free(p->m, p, sizeof(*p));
}

/* Kept sorted by name, the default first: serializations compare. */
static void process_insert_sorted(struct machine *m, struct process *new)
{
	struct process *pos;

	list_for_each_entry(pos, &m->processes, node) {
		if (pos != m->default_process && strcmp(pos->name, new->name) > 0) {
			list_add_tail(&new->node, &pos->node);
			return;
		}
	}
	list_add_tail(&new->node, &m->processes);
}

struct process *machine_find_process(struct machine *m, const char *name)
{
	struct process *p;

	if (!name)
		return m->default_process;
	pthread_mutex_lock(&m->processes_lock);
	p = strmap_get(&m->processes_by_name, name);
	if (p && !p->started)
		p = NULL;
	pthread_mutex_unlock(&m->processes_lock);
	return p;
}

/* A new instance: the shell starts it, with its limit. processes_lock. */
static void process_start(struct process *p)
{
	struct machine *m = p->m;

	p->started = true;
	p->nofile = m->default_process->nofile;
	p->pid = PROCESS_FIRST_PID + m->nr_processes_started++;
}

struct process *machine_process(struct machine *m, const char *name)
{
	struct process *p;

	if (!name)
		return m->default_process;
	/* not vfio_lock: naming a process is no scheduling point */
	pthread_mutex_lock(&m->processes_lock);
	p = strmap_get(&m->processes_by_name, name);
	if (!p) {
		p = process_alloc(m, name, 0);
		if (p)
			process_insert_sorted(m, p);
	}
	if (p && !p->started)
		process_start(p);
	pthread_mutex_unlock(&m->processes_lock);
	return p;
}

const char *process_name(const struct process *p)
{
	return p->name;
}

int process_pid(const struct process *p)
{
	return p->pid;
}

/* What a descriptor taken but not yet installed points at. */
static struct file reserved_file = { .kind = FILE_STDIO, .fd = -1 };

int get_unused_fd(struct process *p)
{
	unsigned int end;
	int fd;

	lockdep_assert_held(p->m, &p->m->vfio_lock);
	pthread_mutex_lock(&p->m->processes_lock);
	/* a process that exited meanwhile runs again to open it */
	if (!p->started)
		process_start(p);
	end = p->nofile > INT32_MAX ? INT32_MAX : (unsigned int)p->nofile;
	pthread_mutex_unlock(&p->m->processes_lock);
	/* alloc_fd(): the lowest free descriptor below RLIMIT_NOFILE */
	fd = idr_alloc_lowest(&p->fds, &reserved_file, 0, end);
	return fd == -ENOSPC ? -EMFILE : fd;
}

void fd_install(struct process *p, int fd, struct file *file)
{
	lockdep_assert_held(p->m, &p->m->vfio_lock);
	WARN_ON(p->m, idr_find(&p->fds, fd) != &reserved_file);
	p->fds.ptr[fd] = file;
	file->owner = p;
	file->fd = fd;
}

void put_unused_fd(struct process *p, int fd)
{
	lockdep_assert_held(p->m, &p->m->vfio_lock);
	WARN_ON(p->m, idr_remove(&p->fds, fd) != &reserved_file);
}

struct file *process_file(struct process *p, int fd)
{
	lockdep_assert_held(p->m, &p->m->vfio_lock);
	return idr_find(&p->fds, fd);
}

int process_close_fd(struct process *p, int fd)
{
	struct file *file;

	lockdep_assert_held(p->m, &p->m->vfio_lock);
	file = idr_remove(&p->fds, fd);
	if (!file)
		return -EBADF;
	if (file->kind == FILE_STDIO)
		return 0;	/* a standard stream, or a descriptor being opened */
	file->owner = NULL;
	file->fd = -1;
	/* close(2) cannot fail: the release runs, and may free the file */
	file->f_op->release(file, p);
	return 0;
}

int process_close(struct process *p, int fd)
{
	int ret;

	KFRAME("close_fd");
	mutex_lock(&p->m->vfio_lock);
	ret = process_close_fd(p, fd);
	mutex_unlock(&p->m->vfio_lock);
	return ret;
}

/*
 * do_exit() -> exit_files() -> close_files(): every descriptor, lowest
 * first. A named process is gone afterwards (its structure stays, not
 * started, for whoever still points at it); the default one, the script's
 * shell, runs on with its standard descriptors.
 */
void process_exit(struct process *p)
{
	struct machine *m = p->m;

	KFRAME("do_exit");
	mutex_lock(&m->vfio_lock);
	for (int fd = idr_next(&p->fds, 3); fd >= 0; fd = idr_next(&p->fds, fd + 1))
		process_close_fd(p, fd);
	pthread_mutex_lock(&m->processes_lock);
	if (p != m->default_process)
		p->started = false;
	pthread_mutex_unlock(&m->processes_lock);
	mutex_unlock(&m->vfio_lock);
}

int process_set_nofile(struct process *p, unsigned long limit)
{
	/* setrlimit() refuses more than fs.nr_open, even to root */
	if (limit > MACHINE_NOFILE_MAX)
		return -EPERM;
	pthread_mutex_lock(&p->m->processes_lock);
	p->nofile = limit;
	pthread_mutex_unlock(&p->m->processes_lock);
	return 0;
}

unsigned long process_nofile(struct process *p)
{
	unsigned long n;

	pthread_mutex_lock(&p->m->processes_lock);
	n = p->nofile;
	pthread_mutex_unlock(&p->m->processes_lock);
	return n;
}

unsigned long process_open_fds(struct process *p)
{
	unsigned long n = 0;

	mutex_lock(&p->m->vfio_lock);
	for (int fd = idr_next(&p->fds, 0); fd >= 0; fd = idr_next(&p->fds, fd + 1))
		n += ((struct file *)idr_find(&p->fds, fd))->kind != FILE_STDIO;
	mutex_unlock(&p->m->vfio_lock);
	return n;
}

/* The legacy machine-wide calls act on the default process. */
int machine_set_nofile_limit(struct machine *m, unsigned long limit)
{
	return process_set_nofile(m->default_process, limit);
}

unsigned long machine_nofile_limit(struct machine *m)
{
	return process_nofile(m->default_process);
}

unsigned long machine_open_fds(struct machine *m)
{
	return process_open_fds(m->default_process);
}

/* ---- machine subsystem ---- */

static int files_subsys_init(struct machine *m)
{
	m->default_process = process_alloc(m, PROCESS_DEFAULT_NAME,
					   MACHINE_NOFILE_DEFAULT);
	if (!m->default_process)
		return -ENOMEM;
	m->default_process->started = true;
	list_add_tail(&m->default_process->node, &m->processes);
	return 0;
}

static const char *process_key(const void *p)
{
	return ((const struct process *)p)->name;
}

static int files_subsys_clone(const struct machine *old, struct machine *new,
			      struct ptrmap *map)
{
	struct process *p, *np;

	new->nr_processes_started = old->nr_processes_started;
	/* a process and its name live as long as the machine: the block */
	list_for_each_entry(p, &old->processes, node) {
		size_t len = strlen(p->name) + 1;

		np = machine_clone_alloc_at(new, old, p, sizeof(*np));
		if (!np)
			return -ENOMEM;
		memset(np, 0, sizeof(*np));
		np->m = new;
		np->pid = p->pid;
		np->started = p->started;
		np->nofile = p->nofile;
		list_add_tail(&np->node, &new->processes);
		np->name = machine_clone_alloc_at(new, old, p->name, len);
		if (!np->name)
			return -ENOMEM;
		memcpy(np->name, p->name, len);
		if (idr_copy(&np->fds, &p->fds) ||
		    idr_copy(&np->containers, &p->containers) ||
		    idr_copy(&np->iommufds, &p->iommufds) ||
		    !ptrmap_put(map, p, np))
			return -ENOMEM;
		if (p == old->default_process)
			new->default_process = np;
	}
	return machine_clone_strmap(new, old, &new->processes_by_name,
				    &old->processes_by_name, map, process_key);
}

static void idr_remap(struct idr *idr, const struct ptrmap *map)
{
	for (int id = idr_next(idr, 0); id >= 0; id = idr_next(idr, id + 1))
		idr->ptr[id] = clone_remap(map, idr->ptr[id]);
}

static void files_subsys_fixup(struct machine *new, const struct ptrmap *map)
{
	struct process *p;

	/* each file is the first member of its object, so maps with it */
	list_for_each_entry(p, &new->processes, node) {
		idr_remap(&p->fds, map);
		idr_remap(&p->containers, map);
		idr_remap(&p->iommufds, map);
	}
}

/* "%s%d #%d\n", @what then @id and @canon, without parsing a format */
static void put_numbered(struct sbuf *sb, const char *what, int id, int canon)
{
	sbuf_puts(sb, what);
	sbuf_putd(sb, id);
	sbuf_puts(sb, " #");
	sbuf_putd(sb, canon);
	sbuf_putc(sb, '\n');
}

static void files_subsys_serialize(const struct machine *m, struct sbuf *sb,
				   struct ptrmap *ids)
{
	const struct process *p;

	/*
	 * PIDs are left out: they say only in which order processes began;
	 * so are processes that exited, which are as if never started
	 */
	list_for_each_entry(p, &m->processes, node) {
		if (!p->started)
			continue;
		/* "process %s nofile=%lu\n" and the rest without parsing */
		sbuf_puts(sb, "process ");
		sbuf_puts(sb, p->name);
		sbuf_puts(sb, " nofile=");
		sbuf_putu(sb, p->nofile);
		sbuf_putc(sb, '\n');
		for (int fd = idr_next(&p->fds, 0); fd >= 0;
		     fd = idr_next(&p->fds, fd + 1)) {
			const struct file *f = p->fds.ptr[fd];

			if (f->kind == FILE_STDIO)
				continue;
			sbuf_puts(sb, " fd ");
			sbuf_putd(sb, fd);
			sbuf_putc(sb, ' ');
			f->f_op->serialize(f, sb, ids);
		}
		for (int id = idr_next(&p->containers, 0); id >= 0;
		     id = idr_next(&p->containers, id + 1))
			put_numbered(sb, " container ", id,
				     canon_id(ids, p->containers.ptr[id]));
		for (int id = idr_next(&p->iommufds, 0); id >= 0;
		     id = idr_next(&p->iommufds, id + 1))
			put_numbered(sb, " iommufd ", id,
				     canon_id(ids, p->iommufds.ptr[id]));
	}
}

static void files_subsys_destroy(struct machine *m)
{
	struct process *p, *n;

	list_for_each_entry_safe(p, n, &m->processes, node)
		process_free(p);
	INIT_LIST_HEAD(&m->processes);
	m->default_process = NULL;
	strmap_free(&m->processes_by_name);
}

const struct machine_subsys files_subsys = {
	.name = "files",
	.init = files_subsys_init,
	.clone = files_subsys_clone,
	.fixup = files_subsys_fixup,
	.serialize = files_subsys_serialize,
	.destroy = files_subsys_destroy,
};
