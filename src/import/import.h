/* SPDX-License-Identifier: MIT */
/*
 * dmaown import (docs/import.md): a real machine, from lspci output or a
 * sysfs tree, turned into a machine file. Part of the CLI, not the
 * library: it reads files and uses libpci, which the library never does.
 *
 * The readers fill a struct imp_machine; import-write.c orders it as Linux
 * scans buses, writes the machine file, loads it back and compares what
 * the model makes of it (groups, drivers) with what the input said.
 */
#ifndef DMAOWN_IMPORT_H
#define DMAOWN_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* PCIe port types as lspci and the machine file name them */
enum imp_type {
	IMP_TYPE_UNKNOWN,	/* capabilities not readable */
	IMP_TYPE_CONVENTIONAL,	/* no PCI Express capability */
	IMP_TYPE_ENDPOINT,
	IMP_TYPE_LEGACY_ENDPOINT,
	IMP_TYPE_ROOT_PORT,
	IMP_TYPE_UPSTREAM,
	IMP_TYPE_DOWNSTREAM,
	IMP_TYPE_PCI_BRIDGE,	/* PCIe-to-PCI/PCI-X bridge */
	IMP_TYPE_PCIE_BRIDGE,	/* PCI/PCI-X-to-PCIe bridge */
	IMP_TYPE_RC_END,
	IMP_TYPE_RC_EC,
};

/* What is known of a function's ACS capability (enum pci_acs_state) */
enum imp_acs {
	IMP_ACS_ABSENT,
	IMP_ACS_PRESENT,
	IMP_ACS_UNKNOWN,
};

#define IMP_NAME_MAX 64

struct imp_dev {
	unsigned int domain, bus, dev, fn;
	unsigned int vendor, device, subvendor, subdevice, class, rev;
	enum imp_type type;
	bool bridge;		/* bridge header */
	int secondary;		/* a bridge's secondary bus, -1 unknown */
	bool multifunction;	/* header bit, when config space was read */
	bool shpc;		/* an SHPC capability (PCI_CAP_ID_HOTPLUG) */
	enum imp_acs acs;
	unsigned int acs_cap, acs_ctl;	/* PCI_ACS_* bits */
	const char *acs_why;	/* why ACS is unknown */
	char driver[IMP_NAME_MAX];	/* bound driver, "" none */
	char override[IMP_NAME_MAX];	/* driver_override, "" none */
	char iommu[IMP_NAME_MAX];	/* its IOMMU's name, "" none */
	int group;		/* the kernel's IOMMU group, -1 unknown */
	int line;		/* where it starts in the input, 0: sysfs */
	size_t cfg_len;		/* config bytes readable (64, 256, 4096) */
	int parent;		/* index of the bridge above, -1 root bus */
	bool type_guessed;	/* type from the class and place, not read */
	/* 1:1 ranges from its group's reserved_regions (rmrr=) */
	unsigned int nr_rmrr;
	unsigned long long rmrr[8][2];	/* first, last */
	/*
	 * SR-IOV (import-sriov.c): a PF's capability from its sriov_* files,
	 * its config space or lspci's text (sriov_total 0: not a PF) and how
	 * many VFs it had; a VF's PF (physfn), until imp_sriov_finish() takes
	 * the VFs out. sriov_enabled is the capability's NumVFs with VF
	 * Enable set: where no physfn link says which functions are VFs
	 * (lspci input), their addresses follow from it.
	 */
	unsigned int sriov_total, sriov_offset, sriov_stride, sriov_vf_device;
	unsigned int sriov_numvfs, sriov_enabled;
	char physfn[16];
};

/* A platform or AMBA device in an IOMMU group (sysfs only) */
struct imp_other {
	char name[IMP_NAME_MAX];
	bool amba;
	char compatible[IMP_NAME_MAX];	/* platform: devicetree or ACPI id */
	unsigned int periphid;		/* AMBA */
	char driver[IMP_NAME_MAX];
	char iommu[IMP_NAME_MAX];
	int group;
};

struct imp_machine {
	const char *source;	/* file or directory name, for messages */
	struct imp_dev *devs;
	size_t n, cap;
	struct imp_other *others;	/* after the PCI functions */
	size_t nothers;
	bool from_sysfs;	/* a sysfs tree: no groups means no IOMMU */
	bool groups_known;	/* the kernel's groups were in the input */
	bool any_iommu;		/* some device is behind an IOMMU */
	const char *firmware;	/* "x86", "acpi-iort", "devicetree" */
	char default_domain[16];	/* the groups' type, "" unknown */
	/* from the kernel command line (imp_read_cmdline()) */
	char *cmdline;			/* as read, for the file's header */
	char acs_override[256];		/* pcie_acs_override= value */
	char vfio_ids[256];		/* vfio-pci.ids= value */
	char **notes;		/* what could not be known, and differences */
	size_t nnotes;
	/* from the root file system (imp_read_root()) */
	char kernel_release[65];	/* uname -r, "" unknown */
	char **modprobe;	/* 'modprobe.d ...' statements, in kmod's order */
	size_t nmodprobe;
};

/* A new device, zeroed but for -1 fields; NULL on no memory. */
struct imp_dev *imp_dev_new(struct imp_machine *im);
struct imp_dev *imp_dev_find(struct imp_machine *im, unsigned int domain,
			     unsigned int bus, unsigned int dev,
			     unsigned int fn);
void imp_note(struct imp_machine *im, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void imp_free(struct imp_machine *im);

/*
 * Errors: "FILE:LINE: MSG" (or "DIR: MSG") into @err; functions return
 * 0 or a negative errno.
 */
struct imp_error {
	char msg[512];
};

int imp_error(struct imp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* lspci -vvv -nn text, with -x/-xxx/-xxxx dumps or without; "-": stdin */
int imp_read_lspci(struct imp_machine *im, const char *path,
		   struct imp_error *err);
/*
 * The machine's root file system (/ live, a snapshot's directory): the
 * kernel release (proc/sys/kernel/osrelease) and modprobe.d, read in
 * kmod's order; a line kmod rejects is an error "FILE:LINE: ...".
 */
int imp_read_root(struct imp_machine *im, const char *root,
		  struct imp_error *err);
/* kmod's modprobe.d directories below a root, NULL-terminated, and which
 * of their files it reads */
extern const char *const imp_modprobe_dirs[];
bool imp_modprobe_file_name(const char *name);

/* a sysfs tree: /sys or a copy holding bus/pci/devices */
int imp_read_sysfs(struct imp_machine *im, const char *root,
		   struct imp_error *err);

/*
 * SR-IOV (import-sriov.c): imp_sysfs_sriov() reads the sriov_* files of
 * the function in @dir of a sysfs tree, or its physfn link (lspci input
 * fills the same fields from its text or its config dump);
 * imp_sriov_finish(), once every function is read, finds the VFs of the
 * PFs that had them enabled where no physfn link named them (the
 * capability's First VF Offset and VF Stride give their routing IDs, as
 * pci_iov_virtfn_bus() and pci_iov_virtfn_devfn() compute them), takes
 * the VFs out (they exist only once sriov_numvfs makes them, so a
 * machine boots without them) and notes how many each PF had;
 * imp_emit_sriov() writes a PF's options on its pci line.
 */
void imp_sysfs_sriov(struct imp_dev *d, const char *dir);
void imp_sriov_finish(struct imp_machine *im);
void imp_emit_sriov(const struct imp_dev *d, FILE *f);

/*
 * The kernel command line (/proc/cmdline, one line) of the machine: the
 * options that shape groups and bindings (iommu=pt, iommu.passthrough=,
 * iommu.strict=, vfio-pci.ids=, pcie_acs_override=) go into the file;
 * the others that matter are noted. Errors as FILE:1:.
 */
int imp_read_cmdline(struct imp_machine *im, const char *path,
		     struct imp_error *err);

/*
 * Through libpci (import-libpci.c), the dump method for @dump (an lspci
 * -x file the caller validated) or the sysfs method for @sysfs_bus_pci:
 * complete the functions already in @im (with their cfg_len) from their
 * config space: ids, class, header, PCIe type, bridge bus, ACS. A function
 * whose cfg_len does not reach the extended space gets ACS unknown.
 */
int imp_libpci_read(struct imp_machine *im, const char *dump,
		    const char *sysfs_bus_pci, struct imp_error *err);

/* Where a function's config space holds what identifies one machine. */
struct imp_private {
	unsigned int domain, bus, dev, fn;
	unsigned int dsn;	/* Device Serial Number capability, 0: none */
	unsigned int vpd;	/* VPD capability, 0: none */
};

/*
 * Through libpci's sysfs method, the DSN and VPD capabilities of every
 * function under @sysfs_bus_pci, so a snapshot can blank them. *@ret is
 * malloc()ed (NULL when none). Returns 0 or -errno with @err.
 */
int imp_libpci_private(const char *sysfs_bus_pci, struct imp_private **ret,
		       size_t *ret_n, struct imp_error *err);

/*
 * dmaown snapshot: the files import needs from the sysfs tree @sysfs (and
 * the command line @cmdline, and the kernel release and modprobe.d below
 * the root file system @root, each NULL for none), read only, as a ustar
 * archive on @out (docs/import.md: the format, what is left out and
 * blanked).
 */
int imp_snapshot(const char *sysfs, const char *cmdline, const char *root,
		 FILE *out, struct imp_error *err);

/*
 * Order the functions as Linux scans them, link each to its bridge, guess
 * what was not read, and write the machine file @name to @out. Then load
 * it back and add a note for each difference between the model and the
 * input (groups, bindings). Returns 0 or -errno with @err.
 */
int imp_write(struct imp_machine *im, const char *name, FILE *out,
	      struct imp_error *err);

#endif
