/* SPDX-License-Identifier: MIT */
/*
 * struct machine: the root of all model state. Each subsystem owns the lists
 * it hangs here and registers clone/serialize/destroy callbacks in the table
 * in machine.c, so a new kernel counterpart slots in as its own file.
 *
 * Lock order (outermost first), as the kernel's:
 *   machine::rescan_remove_lock (pci_lock_rescan_remove())
 *   -> device_lock (struct device::mutex)
 *     -> machine::vfio_lock
 *     -> machine::iommu_probe_device_lock
 *       -> iommu_group::mutex
 *         -> machine::obj_lock (object lists, group ids)
 * machine::log_lock and machine::fault state are leaves taken by printk(),
 * WARN and should_fail() from anywhere; they are plain pthread locks, never
 * scheduling points.
 */
#ifndef DMAOWN_MACHINE_PRIV_H
#define DMAOWN_MACHINE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "compat/kernel.h"

#if defined(__SANITIZE_ADDRESS__)
#define MACHINE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MACHINE_ASAN 1
#endif
#endif
#ifdef MACHINE_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#define MACHINE_LOG_MAX 65536   /* lines kept; the oldest are dropped */
#define MACHINE_WARN_MAX 4096   /* reports kept; later ones only counted */
/*
 * Group ids (the kernel's ida has no limit of its own): ids are reused
 * lowest first and a device is in one group at most, so a machine never
 * needs more ids than devices; the table grows as ids are used.
 */
#define MACHINE_GROUP_ID_MAX 1048576
#define MACHINE_NAME_MAX 64

struct machine {
	/*
	 * At most MACHINE_NAME_MAX - 1 bytes, allocated: an array here made
	 * the machine too large for malloc's per-thread cache (1,032 bytes),
	 * and the checker allocates a machine per transition.
	 */
	char *name;
	struct machine_config cfg;
	struct lockdomain locks;

	/*
	 * Object lists. Protected by obj_lock against concurrent add/remove;
	 * the objects themselves have their own locks.
	 */
	struct mutex obj_lock;
	struct list_head iommus;   /* struct iommu_device::node */
	struct list_head domains;  /* struct iommu_domain::node */
	struct list_head groups;   /* struct iommu_group::node, by id */
	/*
	 * The groups by id (NULL: a free id; @groups_cap slots, the lowest
	 * free one at or above @groups_free) and by firmware key
	 * (iommu_group::keyname); both under obj_lock with @groups.
	 */
	struct iommu_group **groups_by_id;
	int groups_cap, groups_free, groups_max;
	struct strmap groups_by_key;
	struct list_head devices;  /* struct device::node, in add order */
	struct strmap devices_by_name; /* every device of @devices, by name */
	struct list_head dev_roots;    /* struct dev_root::node */
	struct strmap dev_roots_by_name;
	struct list_head buses;    /* struct bus_type::node */
	struct list_head deferred_probe; /* struct device::deferred */
	unsigned int faults;       /* enum machine_fault mask */
	/*
	 * modprobe.d (src/userspace/modprobe.c): fixed at boot, shared by
	 * reference between clones; NULL: none.
	 */
	struct modprobe_conf *modprobe;

	/* VFIO and iommufd (drivers/vfio/vfio.h), under vfio_lock */
	struct mutex vfio_lock;
	struct list_head vfio_groups;
	struct list_head vfio_containers;
	struct list_head vfio_devices;
	struct strmap vfio_devices_by_name; /* @vfio_devices by device name */
	struct list_head iommufds;
	bool vfio_noiommu;         /* enable_unsafe_noiommu_mode */
	bool iommufd_unsafe_irqs;  /* allow_unsafe_interrupts */
	bool type1_unsafe_irqs;    /* vfio_iommu_type1's allow_unsafe_interrupts */
	/*
	 * Userspace: processes with their descriptor tables (fs/file.h),
	 * sorted by name after the default one, the script's shell.
	 */
	struct list_head processes;
	struct strmap processes_by_name;
	/*
	 * Guards @processes, @processes_by_name and each process's started,
	 * nofile and pid; nests inside vfio_lock. A plain mutex, not a
	 * scheduling point of the checker's interleavings: nothing that can
	 * yield is done while it is held.
	 */
	pthread_mutex_t processes_lock;
	struct process *default_process;
	int nr_processes_started;  /* PIDs; not canonical */
	int next_obj_serial;       /* debugging ids; not canonical */

	/*
	 * Serialises device probing into groups (iommu.c); guards each
	 * SMMUv3's stream tree (iommu_device::streams, arm-smmu-v3.c).
	 */
	struct mutex iommu_probe_device_lock;

	/*
	 * pci_lock_rescan_remove(): hot-plug, hot-unplug and rescans one at a
	 * time, so a device is added or deleted by one task (core.c).
	 */
	struct mutex rescan_remove_lock;

	/* Kernel log ring and WARN reports; under log_lock. */
	pthread_mutex_t log_lock;
	struct klog_entry *log;     /* grows to MACHINE_LOG_MAX, then a ring */
	size_t log_head, log_count, log_cap; /* oldest at log_head */
	struct warn_report *warns;  /* grows to MACHINE_WARN_MAX */
	size_t nwarns, warns_cap, warns_dropped;
	uint64_t clock_ns;
	/*
	 * What a WARN report shows of the kernel besides the task: the
	 * loaded modules in load order (print_modules() lists them newest
	 * first), the last one unloaded, and the taint flags (TAINT_* bits).
	 * Under log_lock; a history like the log, so neither serialized nor
	 * cleared with it.
	 */
	char (*modules)[MODULE_NAME_LEN]; /* one block: a clone copies it */
	size_t nmodules, modules_cap;
	char last_unloaded[MODULE_NAME_LEN];
	unsigned long tainted;

	/* Fault injection (should_fail()). */
	atomic_uint fail_nth;
	atomic_ulong fault_sites;
	atomic_bool fault_fired;

	/*
	 * The block a clone copies its devices, buses, drivers, IOMMUs,
	 * domains, groups, group members, roots, processes and name tables
	 * into (machine_clone_alloc_at()), one allocation instead of one
	 * each; freed with the machine. A clone of a clone puts each copy
	 * of an object of the source's block at the same offset in its own,
	 * so its pointers into that block move by one delta, without a
	 * lookup. Fixed once the clone is made: concurrent tasks (and the
	 * clones made of it) only read it. Behind a
	 * pointer, as a larger machine would pass malloc's per-thread cache.
	 */
	struct machine_arena *arena;
};

struct machine_arena {
	size_t size, used;
	size_t want; /* what the clone asked for, in the block or not */
	size_t live; /* the bytes the clone placed in the block */
	/* the clone mirrors its source's block (machine_clone_alloc_at()) */
	bool mirrored;
	_Alignas(16) char data[];
};

/*
 * machine_clone_alloc_at() - room for the copy of @obj (@size bytes) of
 * @old in its clone @new. When @new mirrors @old's block and @obj is in
 * it, at @obj's offset in that block (so a pointer into @old's block
 * maps to its copy by adding one delta, struct ptrmap's range); any
 * other object after what the source's block used, while @new's block
 * lasts, else from malloc(). Only a clone's copies: the block is sized
 * by the source's and by the last clone on the thread.
 * Return: the memory (not zeroed), or NULL.
 */
void *machine_clone_alloc_slow(struct machine *new, size_t size);
/* what every object in the block is aligned to, as malloc() aligns */
#define MACHINE_ARENA_ALIGN 16
static inline size_t machine_arena_round(size_t size)
{
	return (size + MACHINE_ARENA_ALIGN - 1) &
	       ~(size_t)(MACHINE_ARENA_ALIGN - 1);
}
/*
 * Where the copy of @obj (@size bytes, rounded) goes when @new mirrors
 * @old's block and @obj is in it, else NULL. The block was made at least
 * as large as the source's used range (machine_clone()). Inline: a clone
 * of a clone places every object so.
 */
static inline void *machine_arena_mirror(struct machine *new,
					 const struct machine *old,
					 const void *obj, size_t size)
{
	struct machine_arena *a = new->arena;
	const struct machine_arena *oa = old->arena;
	uintptr_t off;
	char *p;

	if (!a || !a->mirrored)
		return NULL; /* a mirrored block has a source block */
	off = (uintptr_t)obj - (uintptr_t)oa->data;
	if (off >= oa->used)
		return NULL;
	self_check(off + size <= oa->used);
	a->live += size;
	p = a->data + off;
	ASAN_UNPOISON_MEMORY_REGION(p, size);
	return p;
}
static inline void *machine_clone_alloc_at(struct machine *new,
					   const struct machine *old,
					   const void *obj, size_t size)
{
	void *p;

	size = machine_arena_round(size);
	p = machine_arena_mirror(new, old, obj, size);
	return p ? p : machine_clone_alloc_slow(new, size);
}
/*
 * machine_clone_strmap() - @new's name index @dst (freed first) as
 * @old's @src (strmap_clone()), its table in @new's block where there is
 * room, mirrored as machine_clone_alloc_at() places objects: how each
 * subsystem copies its indexes. Return: 0 or -ENOMEM.
 */
int machine_clone_strmap(struct machine *new, const struct machine *old,
			 struct strmap *dst, const struct strmap *src,
			 const struct ptrmap *map,
			 const char *(*key_of)(const void *));
/*
 * machine_free() - free an object of @size bytes of @m that may have
 * come from machine_clone_alloc_at(): one in the block stays until the
 * machine goes (AddressSanitizer builds mark it freed), any other is
 * free()d. NULL is accepted.
 */
void machine_free(struct machine *m, const void *p, size_t size);

/* Per-subsystem hooks, run in table order (destroy in reverse). */
struct machine_subsys {
	const char *name;
	/* Set up a new machine's objects (NULL: nothing); not run on clone. */
	int (*init)(struct machine *m);
	/* Copy this subsystem's objects of @old into @new, recording old->new. */
	int (*clone)(const struct machine *old, struct machine *new,
		     struct ptrmap *map);
	/* Rewrite every pointer of the copies through @map. */
	void (*fixup)(struct machine *new, const struct ptrmap *map);
	/* Append canonical text; @ids gives canonical numbers to pointers. */
	void (*serialize)(const struct machine *m, struct sbuf *sb,
			  struct ptrmap *ids);
	void (*destroy)(struct machine *m);
};

extern const struct machine_subsys iommu_subsys;
extern const struct machine_subsys device_subsys;
extern const struct machine_subsys driver_subsys;
extern const struct machine_subsys vfio_subsys;
extern const struct machine_subsys files_subsys;
extern const struct machine_subsys iommu_domains_subsys;

/* Append @s as a JSON string, quotes included (show.c; explain.c too). */
void sb_json(struct sbuf *sb, const char *s);
/*
 * A group's ownership in words, DOT-escaped ("userspace: iommufd fd 3,
 * process qemu, domain unmanaged"; show.c). @brief: as the picture labels
 * it, the default DMA domain left out and the domain on a line of its own.
 */
void machine_group_state(struct machine *m, const struct iommu_group *g,
			 struct sbuf *sb, bool brief);

/*
 * The picture's pieces (show.c), shared with explain's: @s escaped inside
 * a DOT string; the root a top-level device hangs from ("pci0000:00");
 * a device's node, with @note as more label lines and @attrs (", k=v")
 * appended; a group's cluster opened ("subgraph ... {", label with @note
 * under it, colours), which the caller closes.
 */
struct machine_show_names;
struct device;
void sb_dot(struct sbuf *sb, const char *s);
void dot_root_of(const struct device *dev, char *buf, size_t len);
void dot_device(const struct machine_show_names *names,
		const struct device *dev, struct sbuf *sb, const char *indent,
		const char *note, const char *attrs);
void dot_group_open(struct machine *m, const struct iommu_group *g,
		    struct sbuf *sb, const char *indent, const char *note);

#endif
