/* SPDX-License-Identifier: MIT */
/*
 * Private structures of the iommu core (drivers/iommu/iommu.c), shared with
 * the other model files and the white-box tests.
 *
 * Locking: iommu_group::mutex protects everything marked (G) below, and a
 * device's iommu_group/iommu_domain pointers. A group's member list and
 * domains change only under it. machine::obj_lock protects the machine's
 * lists of IOMMUs, domains and groups, and group ids; it nests inside the
 * group mutex, never around it.
 */
#ifndef DMAOWN_IOMMU_PRIV_H
#define DMAOWN_IOMMU_PRIV_H

#include "compat/kernel.h"
#include "dmaown/iommu.h"
#include "drivers/base/device.h"

#define IOMMU_NAME_MAX 32
#define IOMMU_GROUP_NAME_MAX 32

/* An IOMMU instance (one SMMU, one DMAR unit) and its driver's abilities. */
struct iommu_device {
	struct machine *m;
	struct list_head node;      /* machine::iommus (obj_lock) */
	char name[IOMMU_NAME_MAX];
	unsigned char name_len;     /* strlen(name) */
	unsigned int domain_types;  /* IOMMU_DOMAIN_* its driver can make */
	bool registered;            /* iommu_device_register() done */
	int attach_errno;           /* test hook: attaches fail with this */
	bool msi_isolated;          /* interrupt remapping / ITS isolation */
	/*
	 * Its driver (enum iommu_kind; until kind_set, the firmware's usual
	 * one: iommu_device_kind()), and the regions it reports for every
	 * device: the kind's own until resv_set (resv.c). Set before
	 * registration, read-only afterwards.
	 */
	int kind;
	bool kind_set;
	bool resv_set;
	unsigned int nr_resv;
	struct iommu_resv_region resv[IOMMU_RESV_REGIONS_MAX];
	/*
	 * arm-smmu-v3's stream tree (smmu->streams, arm-smmu-v3.c): the
	 * struct device holding each stream ID, by arm_smmu_stream_key().
	 * Under the machine's iommu_probe_device_lock (every probe and
	 * release holds it). Not serialized: the groups' members and their
	 * firmware IDs say what is in it.
	 */
	struct u64map streams;
};

/*
 * The device needs 1:1 mappings (dev->iommu->require_direct): firmware says
 * so (device_set_require_direct()), or its IOMMU driver reports a direct
 * region for it (resv.c). It cannot be put on a blocking domain.
 */
bool dev_require_direct(const struct device *dev);

struct iommu_domain {
	struct machine *m;
	struct list_head node;      /* machine::domains (obj_lock) */
	unsigned int type;
	struct iommu_device *iommu; /* the IOMMU it was allocated on */
	unsigned int users;         /* devices attached now (group mutex) */
};

/* A device's membership of a group. Head at iommu_group::devices. */
/*
 * arm_smmu_probe_device() (arm-smmu-v3.c): -EINVAL when another master of
 * the device's SMMUv3 holds one of its stream IDs, else its IDs go in the
 * SMMU's stream tree (-ENOMEM if they cannot); 0 for a device that is no
 * SMMUv3 master. Caller holds iommu_probe_device_lock.
 * arm_smmu_release_device() takes them out again: when the device leaves
 * its group, or its probe fails after this one succeeded.
 */
int arm_smmu_probe_device(struct device *dev);
void arm_smmu_release_device(struct device *dev);

struct group_device {
	struct list_head list;
	struct device *dev;
};

struct iommu_group {
	struct machine *m;
	struct list_head node;      /* machine::groups, sorted by id (obj_lock) */
	struct list_head entry;     /* bus_iommu_probe()'s list of new groups */
	struct kref kref;           /* one per member device, plus users */
	int id;
	/*
	 * All members are behind this IOMMU; NULL for a group made without
	 * one (vfio's no-IOMMU groups), which never has a domain.
	 */
	struct iommu_device *iommu;
	unsigned int key;           /* firmware group key; 0: singleton */
	char keyname[48];           /* "IOMMU/KEY": machine::groups_by_key */
	/*
	 * The vfio group made for this group (under vfio_lock), so vfio finds
	 * it without walking every vfio group as v6.6's
	 * vfio_group_find_from_iommu() does; NULL when there is none.
	 */
	void *vfio_group;
	/* struct iommufd_hwpt::group_node: its iommufd page tables (vfio_lock) */
	struct list_head hwpts;
	char name[IOMMU_GROUP_NAME_MAX]; /* iommu_group_set_name(); "": none */

	struct mutex mutex;
	struct list_head devices;   /* (G) struct group_device::list */
	struct iommu_domain *default_domain;  /* (G) */
	struct iommu_domain *blocking_domain; /* (G) made on first claim */
	struct iommu_domain *domain;          /* (G) attached now */
	void *owner;                /* (G) NULL: the kernel DMA API */
	unsigned int owner_cnt;     /* (G) see dmaown/iommu.h */
};

/* The group numbered @id, or NULL; caller holds obj_lock. */
struct iommu_group *iommu_group_by_id_locked(struct machine *m, int id);

#define for_each_group_device(group, pos) \
	list_for_each_entry(pos, &(group)->devices, list)

/*
 * The driver core's use of the ownership protocol, balanced by construction
 * (see struct device::dma_use): take or give back the bound driver's
 * kernel-DMA use and remember which group holds the count.
 */
int iommu_device_dma_use(struct device *dev);
void iommu_device_dma_unuse(struct device *dev);

/*
 * Groups made by their users rather than by an IOMMU driver (vfio's
 * no-IOMMU groups, vfio_noiommu_group_alloc()): iommu_group_alloc() with
 * no IOMMU takes the lowest free number of the same pool, the caller
 * holding the one reference it returns (ERR_PTR(-ENOMEM), (-ENOSPC));
 * iommu_group_add_device() makes @dev a member ("Adding to iommu group N",
 * a reference for the membership); iommu_group_remove_device() undoes that
 * ("Removing from iommu group N"). They take iommu_probe_device_lock and
 * the group's mutex, both inside vfio_lock in the lock order.
 */
struct iommu_group *iommu_group_alloc(struct machine *m,
				      struct iommu_device *iommu,
				      unsigned int key);
int iommu_group_set_name(struct iommu_group *group, const char *name);
int iommu_group_add_device(struct iommu_group *group, struct device *dev);
void iommu_group_remove_device(struct device *dev);

/* Test hook: attaches to @iommu fail with -@err (0 turns it off). */
void iommu_device_set_attach_error(struct iommu_device *iommu, int err);

/*
 * iommu_group_replace_domain(): move a group from one user domain straight
 * to another, for iommufd (IOMMUFD_INTERNAL in the kernel). 0; -EINVAL
 * without a domain; the attach's error, the group left where it was.
 */
int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);

#endif
