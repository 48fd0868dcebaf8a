/* SPDX-License-Identifier: MIT */
/**
 * DOC: the sysfs tree
 *
 * The one interface users touch: the paths, attribute contents and write
 * semantics of /sys for everything the model has, and the /dev/vfio
 * directory. The script runner, the checker and any later mount go through
 * these calls. Paths are absolute; "." and ".." components, repeated and
 * trailing slashes, and symbolic links in the middle of a path are resolved
 * as the kernel's VFS would.
 *
 * Each call returns 0 or the negative errno the system call would: -ENOENT
 * no such file, -EACCES a write to a read-only attribute or a read of a
 * write-only one, -EISDIR / -ENOTDIR, and for writes whatever the store
 * method returns.
 */
#ifndef DMAOWN_SYSFS_H
#define DMAOWN_SYSFS_H

#include <stddef.h>

#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** enum sysfs_type - what a path names */
enum sysfs_type {
	SYSFS_NONE,
	SYSFS_DIR,
	SYSFS_FILE,
	SYSFS_LINK,
};

#define SYSFS_PATH_MAX 4096
#define SYSFS_WRITE_MAX 4096 /* a sysfs write is at most one page */

/**
 * sysfs_stat() - the type of @path, without following a final symlink
 */
enum sysfs_type sysfs_stat(struct machine *m, const char *path);

/**
 * struct sysfs_attr_stat - what stat(2) says of a path
 * @type: as sysfs_stat()
 * @mode: permission bits as the kernel gives them (0444 a read-only
 *	attribute, 0200 bind and unbind, 0644 driver_override, 0755 a
 *	directory, 0777 a link; 0666 /dev/vfio/vfio, 0600 /dev/vfio/N)
 * @size: 4096 for an attribute (a page, as sysfs reports), a binary
 *	attribute's own size (config: 256 or 4096), 0 otherwise
 * @chardev: a character device node (/dev/vfio/...), with @rdev_major and
 *	@rdev_minor
 */
struct sysfs_attr_stat {
	enum sysfs_type type;
	unsigned int mode;
	size_t size;
	int chardev;
	unsigned int rdev_major, rdev_minor;
};

/**
 * sysfs_getattr() - stat(2) of @path, without following a final symlink
 *
 * Return: 0; -ENOENT; -ENOTDIR.
 */
int sysfs_getattr(struct machine *m, const char *path,
		  struct sysfs_attr_stat *st);

/**
 * sysfs_read_bin() - read an attribute whose contents may hold NUL bytes
 * (config), as pread() of the whole file would
 * @ret_buf: receives @ret_len bytes, then a NUL (caller frees)
 *
 * Return: as sysfs_read().
 */
int sysfs_read_bin(struct machine *m, const char *path, char **ret_buf,
		   size_t *ret_len);

/**
 * sysfs_read() - read an attribute, as cat would
 * @ret_buf: receives the contents (NUL-terminated, caller frees)
 *
 * Return: 0; -ENOENT; -EISDIR; -EACCES for a write-only attribute; -ENOMEM.
 */
int sysfs_read(struct machine *m, const char *path, char **ret_buf);

/**
 * sysfs_write() - one write() of @len bytes to an attribute
 *
 * A failed write leaves the machine exactly as it was.
 *
 * The store reads what was written as a C string: a NUL byte ends it, as
 * in the kernel, whose stores see the page NUL-terminated.
 *
 * Return: 0; -ENOENT; -EISDIR; -EACCES for a read-only attribute; -E2BIG
 * for more than SYSFS_WRITE_MAX bytes (kernfs_fop_write_iter()); the store
 * error.
 */
int sysfs_write(struct machine *m, const char *path, const char *buf,
		size_t len);

/**
 * sysfs_readlink() - the target of a symbolic link, relative as sysfs
 * makes it ("../../../../kernel/iommu_groups/26")
 * @ret_target: caller frees
 *
 * Return: 0; -ENOENT; -EINVAL not a link.
 */
int sysfs_readlink(struct machine *m, const char *path, char **ret_target);

/**
 * sysfs_realpath() - @path with every link resolved (readlink -f)
 * @ret_path: caller frees
 *
 * Return: 0; -ENOENT.
 */
int sysfs_realpath(struct machine *m, const char *path, char **ret_path);

/**
 * sysfs_list() - the entries of a directory, sorted as ls sorts them
 * @ret_names: an array of @ret_n strings; free with sysfs_list_free()
 *
 * Return: 0; -ENOENT; -ENOTDIR.
 */
int sysfs_list(struct machine *m, const char *path, char ***ret_names,
	       size_t *ret_n);

/** sysfs_list_free() - free what sysfs_list() returned. */
void sysfs_list_free(char **names, size_t n);

#ifdef __cplusplus
}
#endif

#endif
