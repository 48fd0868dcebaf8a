/* SPDX-License-Identifier: MIT */
/*
 * The built-in machine descriptions. The table is generated at build time
 * from machines/NAME.machine by scripts/embed-machines.py, in the order
 * meson.build lists the files.
 */
#ifndef DMAOWN_TOPOLOGY_PRIV_H
#define DMAOWN_TOPOLOGY_PRIV_H

#include <stddef.h>

/**
 * struct builtin_machine_desc - one embedded description
 * @name: the machine's name, also the file's base name
 * @summary: the text of its description statement ("" if none)
 * @text: the whole file
 */
struct builtin_machine_desc {
	const char *name;
	const char *summary;
	const char *text;
};

extern const struct builtin_machine_desc builtin_machines[];
extern const size_t builtin_machines_count;

#endif
