/* SPDX-License-Identifier: MIT */
/*
 * Shared between the shell (script.c) and its commands that talk to the
 * model directly: lspci and the "@" verbs (script-verbs.c).
 */
#ifndef DMAOWN_SCRIPT_PRIV_H
#define DMAOWN_SCRIPT_PRIV_H

#include "compat/kernel.h"
#include "dmaown/script.h"

struct script_ctx;

/* A command's standard streams. */
struct cmd_io {
	const char *in;      /* stdin text */
	struct sbuf *out;
	struct sbuf *err;
};

int cmd_lspci(struct script_ctx *ctx, int argc, char **argv,
	      struct cmd_io *io);
int cmd_at_vfio(struct script_ctx *ctx, int argc, char **argv,
		struct cmd_io *io);
int cmd_at_iommufd(struct script_ctx *ctx, int argc, char **argv,
		   struct cmd_io *io);
int cmd_at_vmm(struct script_ctx *ctx, int argc, char **argv,
	       struct cmd_io *io);
int cmd_at_hotplug(struct script_ctx *ctx, int argc, char **argv,
		   struct cmd_io *io);
int cmd_at_fault(struct script_ctx *ctx, int argc, char **argv,
		 struct cmd_io *io);
int cmd_at_iommu(struct script_ctx *ctx, int argc, char **argv,
		 struct cmd_io *io);
int cmd_at_option(struct script_ctx *ctx, int argc, char **argv,
		  struct cmd_io *io);
int cmd_at_show(struct script_ctx *ctx, int argc, char **argv,
		struct cmd_io *io);

/* Remember the first failing errno of the line (for JSON "ret"). */
void script_note_errno(struct script_ctx *ctx, int err);
struct machine *script_machine(struct script_ctx *ctx);
/* The session's PCI names (script_ctx_set_names()), or NULL: none. */
const struct machine_show_names *script_names(struct script_ctx *ctx);
/*
 * The process the userspace verbs act in (NULL: out of memory), and
 * whether it is a named one ("@as"), whose verbs take descriptors, rather
 * than the shell, whose verbs take group numbers and device names.
 */
struct process *script_process(struct script_ctx *ctx);
bool script_in_process(struct script_ctx *ctx);
/*
 * The container a "@vmm assign" made for @dev: @set >= 0 records it, -2
 * forgets it, -1 only looks. Returns the previous value or -1.
 */
int script_vmm_container(struct script_ctx *ctx, const char *dev, int set);

#endif
