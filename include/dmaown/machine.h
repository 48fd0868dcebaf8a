/* SPDX-License-Identifier: MIT */
/**
 * DOC: the machine object
 *
 * Everything dmaown simulates hangs off one struct machine: IOMMU instances,
 * groups, domains, devices, and later buses, drivers, VFIO and iommufd state,
 * plus the kernel log and the WARN reports. There are no globals, so any
 * number of machines can live in one process, on any number of threads.
 * A machine can be cloned, serialized canonically, hashed and compared.
 */
#ifndef DMAOWN_MACHINE_H
#define DMAOWN_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct machine;
struct mutex;

/**
 * enum iommu_domain_type - the kinds of IOMMU domain (include/linux/iommu.h)
 * @IOMMU_DOMAIN_BLOCKED: all DMA is blocked
 * @IOMMU_DOMAIN_IDENTITY: DMA addresses are system physical addresses
 * @IOMMU_DOMAIN_UNMANAGED: mappings made by a user of the IOMMU API (VFIO)
 * @IOMMU_DOMAIN_DMA: the kernel DMA API owns the mappings, strict invalidation
 * @IOMMU_DOMAIN_DMA_FQ: as DMA, with a lazy invalidation flush queue
 *
 * Values are bit flags so that an IOMMU can advertise a set of them.
 */
enum iommu_domain_type {
	IOMMU_DOMAIN_BLOCKED = 1u << 0,
	IOMMU_DOMAIN_IDENTITY = 1u << 1,
	IOMMU_DOMAIN_UNMANAGED = 1u << 2,
	IOMMU_DOMAIN_DMA = 1u << 3,
	IOMMU_DOMAIN_DMA_FQ = 1u << 4,
	IOMMU_DOMAIN_ALL_TYPES_ = (1u << 5) - 1,
};

/**
 * enum machine_firmware - how firmware tells the kernel which IOMMU
 *	translates for a device, which decides WHEN the device joins its group
 * @FW_X86: DMAR (Intel VT-d) or IVRS (AMD-Vi): the IOMMU driver knows its
 *	device scopes, so a device joins its group when it is added
 * @FW_ACPI_IORT: arm64 ACPI with IORT: the device joins its group inside
 *	the bus's dma_configure (acpi_dma_configure), at first driver probe
 * @FW_DEVICETREE: "iommus" properties: as IORT, through of_dma_configure
 */
enum machine_firmware {
	FW_X86,
	FW_ACPI_IORT,
	FW_DEVICETREE,
};

/**
 * enum machine_acs_request - whether the kernel enables ACS on PCI ports as
 *	it enumerates them (an IOMMU driver called pci_request_acs() first)
 * @MACHINE_ACS_REQUEST_DEFAULT: by firmware: yes for x86 (DMAR/IVRS) and
 *	acpi-iort, no for devicetree, where of_iommu_configure() requests ACS
 *	only at the first device's probe, after the ports were enumerated
 *	(seen on 6.1 under QEMU: root ports join their endpoints' groups)
 * @MACHINE_ACS_REQUEST_YES: pci_enable_acs() ran on every function
 * @MACHINE_ACS_REQUEST_NO: it did not: ACS control registers stay as reset
 *	left them (0), unless a device's control value is given
 */
enum machine_acs_request {
	MACHINE_ACS_REQUEST_DEFAULT,
	MACHINE_ACS_REQUEST_YES,
	MACHINE_ACS_REQUEST_NO,
};

/* the out-of-tree patch keeps at most 16 id:VVVV:DDDD entries */
#define PCIE_ACS_OVERRIDE_IDS_MAX 16

/**
 * struct pcie_acs_override - the out-of-tree pcie_acs_override= patch
 *	(carried by Proxmox and some desktop kernels; not in mainline or
 *	Debian): PCIe functions WITHOUT an ACS capability are taken as fully
 *	isolated
 * @downstream: "downstream": every root port and switch downstream port
 * @multifunction: "multifunction": every function of a multifunction
 *	endpoint, upstream port or integrated endpoint
 * @nr_ids: how many of @ids are used
 * @ids: "id:VVVV:DDDD": these devices, as vendor << 16 | device
 */
struct pcie_acs_override {
	bool downstream;
	bool multifunction;
	unsigned int nr_ids;
	unsigned int ids[PCIE_ACS_OVERRIDE_IDS_MAX];
};

/* uname's release field: __NEW_UTS_LEN */
#define MACHINE_KERNEL_RELEASE_MAX 64

/**
 * enum machine_kernel - the kernel versions the model can follow
 * @MACHINE_KERNEL_6_6: v6.6, what the model is written after (the default)
 * @MACHINE_KERNEL_6_1: v6.1: no iommufd (merged in 6.2), no vfio cdev (6.6)
 * @MACHINE_KERNEL_6_12: v6.12
 */
enum machine_kernel {
	MACHINE_KERNEL_6_6 = 0,
	MACHINE_KERNEL_6_1,
	MACHINE_KERNEL_6_12,
};

/**
 * struct machine_config - kernel configuration and command line of a machine
 * @iommu_api: CONFIG_IOMMU_API; false gives the seed's inline stubs, no
 *	/sys/kernel/iommu_groups, and no VFIO or iommufd (they need it)
 * @def_domain_type: the global default domain type: IOMMU_DOMAIN_DMA
 *	(iommu.strict=1), IOMMU_DOMAIN_DMA_FQ (lazy, the usual default) or
 *	IOMMU_DOMAIN_IDENTITY (iommu.passthrough=1); 0 means DMA_FQ
 * @firmware: the firmware probe order
 * @acs_request: whether PCI ports got ACS enabled at enumeration
 * @acs_override: the out-of-tree pcie_acs_override= option; all zero: none
 * @kernel_release: the release of the kernel the machine ran, as uname -r
 *	gives it ("6.1.0-18-amd64"); "" unknown. Recorded (machine file
 *	'kernel-release', dmaown import); it never chooses behaviour: @kernel does
 * @kernel_major: @kernel_release's major number, 0 unknown
 * @kernel_minor: its minor number
 * @kernel: the kernel version whose behaviour the model follows where it
 *	differs from v6.6 (machine file 'kernel', dmaown run --kernel;
 *	docs/architecture.md, "Kernel versions"); 0 is MACHINE_KERNEL_6_6
 * @pci_groups_computed: PCI devices' groups follow pci_device_group()
 *	(machine files with 'groups computed' or 'check'), so devices made
 *	after boot (SR-IOV VFs) are grouped by the same rules; false: by
 *	firmware labels, where a VF shares its PF's labelled group and is
 *	alone when its PF is (docs/topology.md)
 */
struct machine_config {
	bool iommu_api;
	unsigned int def_domain_type;
	enum machine_firmware firmware;
	enum machine_acs_request acs_request;
	struct pcie_acs_override acs_override;
	char kernel_release[MACHINE_KERNEL_RELEASE_MAX + 1];
	unsigned int kernel_major, kernel_minor;
	enum machine_kernel kernel;
	bool pci_groups_computed;
};

/**
 * machine_kernel_parse() - a kernel version as 'kernel' and --kernel name it
 * @text: "6.1", "6.6" or "6.12"
 *
 * Return: the version, or -1 for any other text.
 */
int machine_kernel_parse(const char *text);

/**
 * machine_kernel_name() - the name of a kernel version ("6.1")
 * @k: the version
 */
const char *machine_kernel_name(enum machine_kernel k);

/**
 * machine_set_kernel() - follow another kernel version's behaviour
 * @m: the machine
 * @k: the version; the command line's --kernel wins over the machine file
 *
 * Only what userspace does after boot depends on the version (which
 * device nodes exist, errnos and log text), so a booted machine can be
 * switched before its script runs.
 */
void machine_set_kernel(struct machine *m, enum machine_kernel k);

/**
 * machine_kernel() - the kernel version the machine follows
 * @m: the machine
 */
enum machine_kernel machine_kernel(const struct machine *m);

/**
 * machine_kernel_release() - the kernel release the machine records
 * @m: the machine
 * @ret_major: receives its major number (0 unknown); may be NULL
 * @ret_minor: receives its minor number; may be NULL
 *
 * Return: the release string ("6.1.0-18-amd64"), NULL when not known.
 */
const char *machine_kernel_release(const struct machine *m,
				   unsigned int *ret_major,
				   unsigned int *ret_minor);

/**
 * struct machine_lock_ops - hooks around every mutex of a machine
 * @before_lock: called before the real lock is taken; a cooperative
 *	scheduler may switch tasks here
 * @after_unlock: called after the real lock is dropped
 *
 * Installed with machine_set_lock_ops(); used by the checker to interleave
 * tasks at each lock and unlock, exactly where the kernel could be preempted
 * into another path that takes the same lock.
 */
struct machine_lock_ops {
	void (*before_lock)(void *ctx, struct mutex *lock, const char *name);
	void (*after_unlock)(void *ctx, struct mutex *lock, const char *name);
};

/**
 * machine_create() - make an empty machine
 * @name: a label for logs and output (copied; at most 63 bytes are kept)
 * @cfg: kernel configuration; NULL for an IOMMU-capable default
 *
 * Return: the machine, or NULL when memory runs out. The caller must undo
 * this with machine_destroy().
 */
struct machine *machine_create(const char *name,
			       const struct machine_config *cfg);

/**
 * machine_destroy() - free a machine and every object it owns
 * @m: the machine; NULL is accepted
 *
 * No thread may be using the machine. Reference counts are not consulted:
 * everything goes.
 */
void machine_destroy(struct machine *m);

/**
 * machine_clone() - deep copy of a quiescent machine
 * @m: the machine; no thread may be inside it
 *
 * Every object is copied and every pointer between objects remapped, so the
 * copy shares nothing with @m. The log and WARN reports are copied too. Owner
 * cookies that are objects of the machine are remapped; foreign cookies (a
 * test's own pointers) are kept as they are.
 *
 * Return: the copy, or NULL when memory runs out; undo with machine_destroy().
 */
struct machine *machine_clone(const struct machine *m);

/**
 * machine_serialize() - canonical text of a machine's state
 * @m: the machine (quiescent)
 * @ret_len: if not NULL, receives the length without the final NUL
 *
 * Two machines that are in the same state give byte-identical text, whatever
 * their addresses or the order objects were allocated in. Logs, WARN reports
 * and the clock are excluded; the count of WARN reports is included (a WARN
 * is part of what happened to the state).
 *
 * Return: a NUL-terminated string the caller frees with free(), or NULL when
 * memory runs out.
 */
char *machine_serialize(const struct machine *m, size_t *ret_len);

/**
 * machine_hash() - 64-bit hash of machine_serialize()
 * @m: the machine (quiescent)
 *
 * Return: the hash (a 64-bit multiply-xorshift over the text); 0 only if
 * serialization ran out of memory.
 */
uint64_t machine_hash(const struct machine *m);

/**
 * machine_state_hash() - hash of what changes after boot
 * @m: the machine (quiescent)
 *
 * As machine_hash(), but leaves out what boot fixed (device ids, firmware
 * facts): faster, and only meaningful between machines that came from one
 * boot, as the checker's states do.
 *
 * Return: the hash; 0 only if serialization ran out of memory.
 */
uint64_t machine_state_hash(const struct machine *m);

/**
 * machine_state_serialize() - canonical text of what changes after boot
 * @m: the machine (quiescent)
 * @ret_len: if not NULL, receives the length without the final NUL
 *
 * The text machine_state_hash() hashes: only meaningful between machines
 * of one boot. The checker hashes it with machine_state_hash128(), and
 * keeps it whole with --exact.
 *
 * Return: a string the caller frees with free(), or NULL (no memory).
 */
char *machine_state_serialize(const struct machine *m, size_t *ret_len);

/**
 * machine_state_serialize_to() - machine_state_serialize() into a buffer kept
 * @m: the machine (quiescent)
 * @buf: in and out: a buffer from malloc() (or NULL), grown as needed
 * @cap: in and out: its size
 * @ret_len: receives the text's length without the final NUL
 *
 * The same text, written over the caller's buffer: the checker serializes
 * every state it reaches, and a fresh buffer of a few kilobytes each time
 * took malloc's slow path for large blocks (a tenth of its time).
 *
 * Return: 0, or -ENOMEM; either way *@buf stays the caller's to free().
 */
int machine_state_serialize_to(const struct machine *m, char **buf,
			       size_t *cap, size_t *ret_len);

/**
 * machine_state_hash128() - 128-bit hash of a state's text
 * @text: machine_state_serialize()'s text
 * @len: its length
 * @out: receives the two 64-bit halves
 *
 * MurmurHash3 x64 128: the checker's state identity, where 64 bits would
 * make a collision likely past a few billion states.
 */
void machine_state_hash128(const char *text, size_t len, uint64_t out[2]);

/**
 * machine_equal() - compare the states of two machines
 * @a: one machine
 * @b: the other
 *
 * Return: true when their canonical serializations are identical.
 */
bool machine_equal(const struct machine *a, const struct machine *b);

/** machine_name() - the label given to machine_create(). */
const char *machine_name(const struct machine *m);

/** machine_config() - the configuration the machine was made with. */
const struct machine_config *machine_get_config(const struct machine *m);

/**
 * machine_set_lock_ops() - route every lock of @m through @ops
 * @m: the machine (quiescent: no lock may be held)
 * @ops: hooks, or NULL to return to plain pthread locking
 * @ctx: passed to the hooks
 */
void machine_set_lock_ops(struct machine *m,
			  const struct machine_lock_ops *ops, void *ctx);

/* ---- the kernel log ---- */

/**
 * struct klog_entry - one line of the machine's kernel log
 * @ts_ns: virtual time of the line (deterministic, see machine_clock())
 * @level: printk level 0 (emerg) .. 7 (debug)
 * @text: the message without a trailing newline
 */
struct klog_entry {
	uint64_t ts_ns;
	int level;
	char *text;
};

/** machine_log_count() - lines in the kernel log (bounded; oldest dropped). */
size_t machine_log_count(const struct machine *m);

/**
 * machine_log_entry() - one line of the kernel log
 * @m: the machine, quiescent: no other thread is running anything on it
 * @i: 0 for the oldest line kept
 *
 * The entry is read in place, without the log lock. Any call that may log
 * (a sysfs write, a verb, a driver load, machine_log_clear() ...) may move
 * the log ring or, once the ring is full, drop the oldest line and free
 * its text, so the pointer and its @text are valid only while the machine
 * stays quiescent: until the caller next runs anything on @m, and as long
 * as no other thread does meanwhile. Copy what must outlive that. Do not
 * call it while another thread uses @m; machine_log_count() is safe then,
 * but is racy, for status reporting only.
 *
 * Return: the entry; NULL if @i is out of range.
 */
const struct klog_entry *machine_log_entry(const struct machine *m, size_t i);

/** machine_log_clear() - forget the kernel log and the WARN reports. */
void machine_log_clear(struct machine *m);

/**
 * machine_clock() - the machine's virtual time in nanoseconds
 *
 * It starts at 0 and moves only when the model says so: each log line
 * advances it by 1 microsecond, and machine_advance_clock() by more, so the
 * same inputs always give the same timestamps.
 */
uint64_t machine_clock(const struct machine *m);

/** machine_advance_clock() - move virtual time forward by @ns nanoseconds. */
void machine_advance_clock(struct machine *m, uint64_t ns);

/* ---- WARN reports ---- */

/**
 * struct warn_report - what a WARN_ON() in the model recorded
 * @ts_ns: virtual time
 * @file: model source file, kernel-relative (e.g. "drivers/iommu/iommu.c")
 * @line: line in that file of the model (it moves when the file changes)
 * @func: the function that warned
 * @cond: the condition text, or the WARN() message
 * @comm: the task name set with kcompat_set_comm() ("" if none)
 * @trace: call trace of model functions, innermost first (static strings),
 *	down to the system call for a sysfs write (ksys_write(), the
 *	architecture's entry)
 * @ntrace: entries in @trace
 * @upstream_line: the line of the kernel's own WARN site that this one
 *	models, in @file of Linux v6.6 (the kernel's report gives it); 0 for
 *	a check of dmaown's own, which has none
 * @pid: the task's PID, set with kcompat_set_pid() (1, the boot task's, if
 *	none)
 * @arch: "x86_64" or "arm64", whose call trace format the report takes
 * @modules: what "Modules linked in:" lists: module names, most recently
 *	loaded first, then "[last unloaded: NAME]" if one was ("" if none)
 * @tainted: the kernel's taint text before this WARN: "Not tainted", or
 *	"Tainted: " and one letter or space per flag ("G        W  ...")
 *
 * The model never aborts on a WARN: it records it and goes on, as the kernel
 * does (tainting the kernel 'W'), so the tests and the checker can see it.
 */
struct warn_report {
	uint64_t ts_ns;
	const char *file;
	int line;
	const char *func;
	char *cond;
	char *comm;
	const char **trace;
	unsigned int ntrace;
	int upstream_line;
	int pid;
	const char *arch;
	char *modules;
	char *tainted;
};

/** machine_warn_count() - WARN reports recorded so far (bounded). */
size_t machine_warn_count(const struct machine *m);

/** machine_warn() - report @i (0 for the first), or NULL if out of range. */
const struct warn_report *machine_warn(const struct machine *m, size_t i);

/* ---- fault injection ---- */

/**
 * machine_set_fail_nth() - make the @n-th fallible step from now fail
 * @m: the machine
 * @n: 1 fails the very next fallible step (an allocation, a domain attach,
 *	...), 2 the one after, and so on; 0 turns injection off
 *
 * Like the kernel's fail-nth: a test runs a scenario once to count its
 * fallible steps (machine_fault_sites()), then again failing step 1, 2, ...
 * and checks that every error path leaves the state consistent.
 */
void machine_set_fail_nth(struct machine *m, unsigned int n);

/** machine_fault_sites() - fallible steps passed since machine creation. */
unsigned long machine_fault_sites(const struct machine *m);

/** machine_fault_fired() - whether the armed fail-nth has fired. */
bool machine_fault_fired(const struct machine *m);

/* ---- userspace's open-file limit (RLIMIT_NOFILE) ---- */

/** define MACHINE_NOFILE_DEFAULT - RLIMIT_NOFILE's usual soft limit. */
#define MACHINE_NOFILE_DEFAULT 1024UL

/**
 * define MACHINE_NOFILE_MAX - the most setrlimit() grants, even to root:
 * fs.nr_open's default
 */
#define MACHINE_NOFILE_MAX 1048576UL

/**
 * machine_set_nofile_limit() - setrlimit(RLIMIT_NOFILE) for the machine's
 * userspace (the script shell's 'ulimit -n', and every VMM it runs)
 * @m: the machine
 * @limit: the new limit, soft and hard alike
 *
 * Every VFIO and iommufd file userspace opens takes a descriptor: a group
 * file, a container, each device file (VFIO_GROUP_GET_DEVICE_FD, a cdev
 * open) and an iommufd. An open that would hold more than @limit fails with
 * -EMFILE. A limit below what is open already closes nothing: only new
 * opens fail, as in the kernel. A new machine starts at
 * MACHINE_NOFILE_DEFAULT.
 *
 * Return: 0; -EPERM above MACHINE_NOFILE_MAX.
 */
int machine_set_nofile_limit(struct machine *m, unsigned long limit);

/** machine_nofile_limit() - the open-file limit in force. */
unsigned long machine_nofile_limit(struct machine *m);

/**
 * machine_open_fds() - the descriptors userspace holds now (racy, for
 * status reporting)
 */
unsigned long machine_open_fds(struct machine *m);

/* ---- describing the state ---- */

/**
 * define DMAOWN_JSON_VERSION - the version of every JSON object dmaown
 * writes (machine_show(), 'dmaown run --json', 'dmaown check --json'), as
 * its first member "version" (docs/json.md). Readers check it before
 * anything else. Adding a key keeps the version; renaming or removing one,
 * or changing what a value means, makes the next.
 */
#define DMAOWN_JSON_VERSION 1

/**
 * enum machine_show_format - how machine_show() writes the state
 * @SHOW_TEXT: for people: IOMMUs, then groups with their devices
 * @SHOW_JSON: one JSON object (docs/json.md)
 * @SHOW_DOT: a Graphviz digraph (machine_show_dot() without names)
 */
enum machine_show_format {
	SHOW_TEXT,
	SHOW_JSON,
	SHOW_DOT,
};

/**
 * machine_show() - the machine's devices, groups and ownership
 * @m: the machine (quiescent)
 * @format: the output format
 *
 * Return: a NUL-terminated string the caller frees, or NULL (no memory).
 */
char *machine_show(struct machine *m, enum machine_show_format format);

/**
 * enum machine_pci_id - what machine_show_names.pci_id_name() looks up,
 * the entries of pci.ids
 * @PCI_ID_VENDOR: vendor @id1
 * @PCI_ID_DEVICE: device @id2 of vendor @id1
 * @PCI_ID_SUBSYSTEM: subsystem @id3:@id4 of device @id1:@id2, as libpci
 *	finds it (the device's own subsystem list, then the generic one, then
 *	the device's name when the subsystem ids are the device's)
 * @PCI_ID_CLASS: base class @id1
 * @PCI_ID_SUBCLASS: subclass @id2 of base class @id1
 * @PCI_ID_PROGIF: programming interface @id3 of class @id1, subclass @id2
 */
enum machine_pci_id {
	PCI_ID_VENDOR,
	PCI_ID_DEVICE,
	PCI_ID_SUBSYSTEM,
	PCI_ID_CLASS,
	PCI_ID_SUBCLASS,
	PCI_ID_PROGIF,
};

/**
 * struct machine_show_names - names for the picture's labels, the text
 * state and a script's lspci
 * @pci_name: write the vendor name of @vendor into @ret_vendor and the
 *	name of its @device into @ret_device (@len bytes each,
 *	NUL-terminated, "" when unknown). The CLI looks them up in pci.ids;
 *	NULL prints ids only.
 * @data: passed to @pci_name and @pci_id_name
 * @pci_id_name: write the name pci.ids gives the entry @what with ids
 *	@id1..@id4 into @ret (@len bytes, NUL-terminated) and return true, or
 *	return false when it has none. The library formats the names as
 *	lspci does (ids where a name is missing, "[8086:10d3]" with -nn);
 *	NULL: no names, as lspci without a pci.ids file.
 */
struct machine_show_names {
	void (*pci_name)(void *data, unsigned int vendor, unsigned int device,
			 char *ret_vendor, char *ret_device, size_t len);
	void *data;
	bool (*pci_id_name)(void *data, enum machine_pci_id what,
			    unsigned int id1, unsigned int id2,
			    unsigned int id3, unsigned int id4, char *ret,
			    size_t len);
};

/**
 * machine_show_text() - machine_show(@m, SHOW_TEXT) with names: each PCI
 * device's line ends with its vendor and device names and ids, as
 * 'lspci -nn' prints them ("Intel Corporation 82574L Gigabit Network
 * Connection [8086:10d3]")
 * @m: the machine (quiescent)
 * @names: where names come from; NULL, or no @pci_id_name: the text of
 *	machine_show(), without names
 *
 * Return: a NUL-terminated string the caller frees, or NULL (no memory).
 */
char *machine_show_text(struct machine *m,
			const struct machine_show_names *names);

/**
 * machine_show_dot() - the machine as a Graphviz digraph
 * (docs/pictures.md): the PCI tree left to right from its host bridges,
 * non-PCI devices from their bus, each IOMMU group a cluster coloured by
 * its owner, each device coloured by its driver's DMA class, a legend
 * @m: the machine (quiescent)
 * @names: where vendor and device names come from; NULL: ids only, as
 *	machine_show(@m, SHOW_DOT) prints. The text is deterministic: the
 *	same state and names give the same bytes.
 *
 * Return: a NUL-terminated string the caller frees, or NULL (no memory).
 */
char *machine_show_dot(struct machine *m,
		       const struct machine_show_names *names);

/**
 * machine_explain() - why each device is in its IOMMU group, what would
 * isolate it, and what must move to vfio-pci for the group to be usable
 * by userspace (docs/import.md)
 * @m: the machine (quiescent)
 * @device: a device name: only its group; NULL: every group
 * @json: one JSON object ("version":1 first) instead of text
 * @ret_err: 0, or -ENODEV no such added device, -ENXIO the device has no
 *	group, -ENOMEM
 *
 * PCI devices are explained by v6.6's grouping rules replayed on the
 * machine's description; the groups shown are the machine's own, with a
 * note where its labels differ from what the rules compute.
 *
 * Return: a NUL-terminated string the caller frees, or NULL with
 * *@ret_err set.
 */
char *machine_explain(struct machine *m, const char *device, bool json,
		      int *ret_err);

/**
 * machine_explain_dot() - machine_explain() of @device as a Graphviz
 * digraph (docs/pictures.md): its group's members and their paths to the
 * root, left to right; the port lacking ACS (with the bits), the
 * multifunction device or the alias that groups them, marked red; the
 * members that must move to vfio-pci marked orange; the verdict
 * @m: the machine (quiescent)
 * @device: the device's name (required)
 * @names: vendor and device names, as machine_show_dot() takes them; NULL
 *	for ids only
 * @ret_err: as machine_explain()'s; -EINVAL without @device
 *
 * Return: a NUL-terminated string the caller frees, or NULL with
 * *@ret_err set.
 */
char *machine_explain_dot(struct machine *m, const char *device,
			  const struct machine_show_names *names, int *ret_err);

/**
 * json_escape() - append @s to @out as a JSON string, quotes included
 * @out: a buffer of @len bytes; the result is always NUL-terminated
 *
 * Return: false if @out was too small (the text is cut).
 */
bool json_escape(const char *s, char *out, size_t len);

/* ---- errno names ---- */

/**
 * errno_name() - the symbolic name of an errno value
 * @err: positive or negative errno (0 gives "0")
 *
 * Return: "EBUSY", "EPROBE_DEFER", ...; "E?" for unknown values.
 */
const char *errno_name(int err);

/**
 * errno_text() - the message a shell prints for an errno (glibc's text)
 * @err: positive or negative errno
 *
 * Return: "Device or resource busy", ...; "Unknown error N" for values
 * outside the table (the kernel-internal ones among them), as glibc does,
 * in a buffer that lives as long as the program for known codes and in a
 * thread-local buffer otherwise.
 */
const char *errno_text(int err);

/**
 * kcompat_set_comm() - name the current task for WARN reports ("tee")
 * @comm: copied; at most 15 bytes kept, as TASK_COMM_LEN
 */
void kcompat_set_comm(const char *comm);

/**
 * kcompat_set_pid() - the current task's PID, for WARN reports
 * @pid: a PID; 0 for none, which reports give as 1 (the boot task, whose
 *	name is swapper/0)
 */
void kcompat_set_pid(int pid);

#ifdef __cplusplus
}
#endif

#endif
