/* SPDX-License-Identifier: MIT */
/*
 * modprobe.d and modprobe as kmod (libkmod-config.c, libkmod-module.c)
 * reads and runs them: the machine's configuration (machine file
 * statements 'modprobe.d ...', docs/topology.md) and the module loads that
 * go through it, at boot (udev loading the 'driver' lines) and from a
 * script's modprobe (docs/scripts.md).
 *
 * The configuration is built once, before boot, and never changes: clones
 * of a machine share it by reference.
 */
#ifndef DMAOWN_USERSPACE_MODPROBE_H
#define DMAOWN_USERSPACE_MODPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "compat/kernel.h"

struct machine;
struct modprobe_conf;

/* /lib/modules/RELEASE of a machine that records no kernel-release */
#define MODPROBE_DEFAULT_KVER "6.6.0-dmaown"

/** modprobe_conf_new() - an empty configuration (NULL: no memory) */
struct modprobe_conf *modprobe_conf_new(void);
struct modprobe_conf *modprobe_conf_get(struct modprobe_conf *c);
void modprobe_conf_put(struct modprobe_conf *c);

/*
 * modprobe_conf_add() - one modprobe.d line, split at blanks: @argv[0] is
 * the command ("options", "softdep", "blacklist", "install"), @argc words.
 * A line kmod would ignore as bad gives -EINVAL, one the model does not
 * carry out ("alias", "remove", an install command other than true or
 * false, the deprecated "include") -EOPNOTSUPP, both with a message in
 * @err (lowercase, says what was expected) and the index of the word at
 * fault in *@ret_word (@argc: missing at the end). -ENOMEM: no memory.
 */
int modprobe_conf_add(struct modprobe_conf *c, int argc,
		      const char *const *argv, char *err, size_t errlen,
		      int *ret_word);

/* How many lines the configuration holds (0 for NULL). */
size_t modprobe_conf_lines(const struct modprobe_conf *c);
/* Its lines as modprobe.d text, one a line, canonical (module names with
 * underscores, single blanks), into @sb. */
void modprobe_conf_text(const struct modprobe_conf *c, struct sbuf *sb);

/* The machine's configuration (a reference is taken; NULL clears). */
void machine_set_modprobe_conf(struct machine *m, struct modprobe_conf *c);

/* modprobe's switches */
enum {
	MODPROBE_USE_BLACKLIST = 1 << 0, /* -b, and udev's loads at boot */
	MODPROBE_IGNORE_INSTALL = 1 << 1, /* -i */
	MODPROBE_VERBOSE = 1 << 2,	 /* -v: what it runs, on @out */
};

/*
 * modprobe_insert() - 'modprobe [-b] [-i] [-v] NAME [PARAMS]' on @m, as
 * kmod_module_probe_insert_module() does it: NAME's pre-softdeps (and
 * theirs), NAME, its post-softdeps; each with its modprobe.d options, NAME
 * with @params after them; a module already loaded is skipped; a module
 * with an install command runs it instead of loading (only true and
 * false are modelled); a softdep that fails or is not in the catalogue is
 * passed over. With MODPROBE_USE_BLACKLIST a blacklisted NAME is not
 * loaded (and that is success). Messages as kmod prints them go to @err.
 *
 * Return: 0; MODPROBE_INSTALL_FAILED NAME's install command failed (kmod
 * then says "could not insert 'NAME': Invalid argument"); -ENOENT NAME is
 * not a module of the catalogue (or a vfio driver without the IOMMU API);
 * errors of driver_load_params() (-EINVAL a bad parameter).
 */
#define MODPROBE_INSTALL_FAILED 1

int modprobe_insert(struct machine *m, const char *name, const char *params,
		    unsigned int flags, struct sbuf *out, struct sbuf *err);

#endif
