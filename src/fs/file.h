/* SPDX-License-Identifier: MIT */
/*
 * Userspace processes and their open files: each process has a descriptor
 * table (fs/file.c's files_struct: alloc_fd(), close_fd()) and its
 * RLIMIT_NOFILE. The files are the VFIO and iommufd ones, each a struct file
 * embedded in the object it opens, with the f_op->release that runs when
 * its descriptor is closed.
 *
 * Locking: machine::vfio_lock, which every VFIO and iommufd verb holds.
 */
#ifndef DMAOWN_FS_FILE_H
#define DMAOWN_FS_FILE_H

#include "compat/kernel.h"

struct process;
struct file;

enum file_kind {
	FILE_STDIO,          /* 0, 1 and 2, open from the start */
	FILE_VFIO_GROUP,     /* /dev/vfio/N */
	FILE_VFIO_CONTAINER, /* /dev/vfio/vfio */
	FILE_VFIO_DEVICE,    /* VFIO_GROUP_GET_DEVICE_FD or /dev/vfio/devices/vfioX */
	FILE_IOMMUFD,        /* /dev/iommu */
};

struct file_operations {
	/*
	 * The descriptor of @file, which @owner held, was closed (close(2),
	 * or @owner exited). The model has no dup(), so each file has one descriptor
	 * and this is the file's own reference going: the object decides
	 * whether that was its last one.
	 */
	void (*release)(struct file *file, struct process *owner);
	/*
	 * Canonical text of what the file is (machine_serialize()): the
	 * descriptor table lists it, the object says what it opens.
	 */
	void (*serialize)(const struct file *file, struct sbuf *sb,
			  struct ptrmap *ids);
};

struct file {
	enum file_kind kind;
	const struct file_operations *f_op;
	struct process *owner; /* NULL once the descriptor is closed */
	int fd;                /* -1 once closed */
};

/* The machine's first process, in which the legacy verbs act. */
#define PROCESS_DEFAULT_NAME "sh"

struct process {
	struct machine *m;
	struct list_head node; /* machine::processes, by creation */
	char *name;
	int pid;
	/*
	 * Whether it runs: an exited process keeps its (empty) table, so a
	 * pointer to it stays valid for the machine's life, and starts again,
	 * as a new instance, when named or given a file again
	 */
	bool started;
	unsigned long nofile;  /* RLIMIT_NOFILE */
	struct idr fds;        /* struct file * by descriptor */
	/*
	 * The numbers the legacy verbs name containers and iommufds by,
	 * lowest free first, per kind (a vfio_container or an iommufd_ctx).
	 */
	struct idr containers;
	struct idr iommufds;
};

/*
 * get_unused_fd_flags(): the lowest free descriptor of @p, held until
 * fd_install() gives it @file or put_unused_fd() frees it; -EMFILE when
 * none is below RLIMIT_NOFILE. open(2) takes it before it looks the path
 * up. Under vfio_lock.
 */
int get_unused_fd(struct process *p);
void fd_install(struct process *p, int fd, struct file *file);
void put_unused_fd(struct process *p, int fd);
/* The file open as @fd in @p, or NULL (-EBADF). Under vfio_lock. */
struct file *process_file(struct process *p, int fd);
/* close_fd(): runs the file's release. Under vfio_lock. */
int process_close_fd(struct process *p, int fd);
/* Whether @p holds a descriptor besides its standard streams. */
static inline bool process_has_files(const struct process *p)
{
	return p->fds.count > 3;
}


extern const struct machine_subsys files_subsys;

#endif
