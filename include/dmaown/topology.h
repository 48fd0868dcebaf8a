/* SPDX-License-Identifier: MIT */
/**
 * DOC: machine description files
 *
 * A machine can be described in a small line-oriented text format (see
 * docs/topology.md) instead of being built with calls to the device and
 * IOMMU API. Loading a description creates the machine and boots it: the
 * IOMMUs register, the devices are added in file order, then the drivers
 * load in file order and bind what they match.
 *
 * A few descriptions are built into the library (the machines of the
 * scenarios); they are also shipped as files under machines/.
 */
#ifndef DMAOWN_TOPOLOGY_H
#define DMAOWN_TOPOLOGY_H

#include <stddef.h>
#include <stdio.h>

#include "dmaown/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * define TOPOLOGY_FORMAT_VERSION - the newest machine file format this
 * library reads
 *
 * A file declares the format it is written in with "format N" as its first
 * statement; a file without one is format 1. The loaders refuse a file
 * whose N is larger than this, naming the line ("machine format 2 is newer
 * than this dmaown reads (1)"), rather than misread it. Bumped when a
 * change to the format would make an older dmaown take a newer file to
 * mean something else; formats this library has read stay readable.
 */
#define TOPOLOGY_FORMAT_VERSION 1

/**
 * struct topo_error - where and why a description was refused
 * @file: the file name given to the loader (truncated to fit)
 * @line: 1-based line of the offending token; 0 when the error is about the
 *	whole file (it cannot be read)
 * @col: 1-based byte column of the offending token (a tab counts as one
 *	column); 0 with @line 0
 * @msg: what was expected, lowercase and without a full stop, e.g.
 *	"expected a PCI address like 0000:01:00.0, got '01:00'"
 *
 * Print it as "FILE:LINE:COL: MSG".
 */
struct topo_error {
	char file[256];
	int line;
	int col;
	char msg[384];
};

/**
 * topology_load_string() - build and boot a machine from description text
 * @filename: the name errors are reported against (NULL: "<string>")
 * @text: the description, NUL-terminated; at most 4 MiB
 * @err: receives the error on failure; NULL is accepted. Left untouched on
 *	success.
 *
 * The whole text is checked before anything is built, so a malformed
 * description never yields a half-built machine. A failure of the library
 * while booting (out of memory) is reported against the statement that
 * was being carried out.
 *
 * Return: the booted machine, or NULL with @err filled. The caller must undo
 * this with machine_destroy().
 */
struct machine *topology_load_string(const char *filename, const char *text,
				     struct topo_error *err);

/**
 * topology_load_faults() - topology_load_string() with planted faults in
 * force from boot
 * @faults: a mask of enum machine_fault (dmaown/driver.h), in force from
 *	boot together with the text's own "fault NAME" statements
 *
 * Return: as topology_load_string().
 */
struct machine *topology_load_faults(const char *filename, const char *text,
				     unsigned int faults,
				     struct topo_error *err);

/**
 * topology_load_stream() - topology_load_faults() reading @f a line at a
 * time, so a description is never held whole, however large the machine
 * @filename: the name errors give (NULL: "<stream>")
 * @f: the description, read to its end; the caller closes it
 * @faults: as topology_load_faults()
 * @err: receives the error on failure; NULL is accepted
 *
 * A NUL byte or a line over 4096 bytes is refused where it stands; a file
 * has no size limit of its own, only the device limit (262,144).
 *
 * Return: as topology_load_string().
 */
struct machine *topology_load_stream(const char *filename, FILE *f,
				     unsigned int faults,
				     struct topo_error *err);

/**
 * topology_load_file() - topology_load_stream() on a file
 * @path: the file to read; errors name it as given
 * @err: receives the error on failure; NULL is accepted
 *
 * Return: the booted machine, or NULL with @err filled (line 0 when the file
 * cannot be read). The caller must undo this with machine_destroy().
 */
struct machine *topology_load_file(const char *path, struct topo_error *err);

/**
 * builtin_machine_count() - how many machine descriptions are built in
 *
 * Return: the count; indexes 0 .. count - 1 are valid for
 * builtin_machine_name() and builtin_machine_summary().
 */
size_t builtin_machine_count(void);

/**
 * builtin_machine_name() - the name of built-in machine @i ("qdf2400")
 * @i: index, in a fixed order that does not change between runs
 *
 * Return: a static string, or NULL when @i is out of range.
 */
const char *builtin_machine_name(size_t i);

/**
 * builtin_machine_summary() - the description line of built-in machine @i
 * @i: index as for builtin_machine_name()
 *
 * Return: a static one-line string ("" if the file has no description
 * statement), or NULL when @i is out of range.
 */
const char *builtin_machine_summary(size_t i);

/**
 * builtin_machine_text() - the description text of a built-in machine
 * @name: its name, as builtin_machine_name() gives it
 *
 * Return: the static text (what machines/NAME.machine holds), or NULL for an
 * unknown name.
 */
const char *builtin_machine_text(const char *name);

/**
 * builtin_machine_load() - topology_load_string() on a built-in description
 * @name: the machine's name
 * @err: receives the error on failure; NULL is accepted. Errors in the text
 *	name the file "builtin:NAME".
 *
 * Return: the booted machine, or NULL with @err filled (an unknown name is
 * reported with line 0). The caller must undo this with machine_destroy().
 */
struct machine *builtin_machine_load(const char *name, struct topo_error *err);

#ifdef __cplusplus
}
#endif

#endif
