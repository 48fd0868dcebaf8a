// SPDX-License-Identifier: MIT
/*
 * The iommu core: IOMMU instances, groups, domains and DMA ownership.
 * Counterpart of drivers/iommu/iommu.c at about v6.6; function names and
 * semantics follow it, the code is our own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dmaown/driver.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

/* Flags for __iommu_device_set_domain() and friends. */
enum {
	/*
	 * The caller has no way back (release, rollback, first attach): the
	 * model IOMMU drivers are well behaved and let such an attach succeed,
	 * so fault injection does not apply to it.
	 */
	IOMMU_SET_DOMAIN_MUST_SUCCEED = 1 << 0,
};

static inline bool iommu_api(const struct machine *m)
{
	return m->cfg.iommu_api;
}

/* Each domain type's name, for the string and for a state's text. */
#define IOMMU_DOMAIN_TYPE_NAMES(X)                 \
	X(IOMMU_DOMAIN_IDENTITY, "identity")       \
	X(IOMMU_DOMAIN_BLOCKED, "blocked")         \
	X(IOMMU_DOMAIN_UNMANAGED, "unmanaged")     \
	X(IOMMU_DOMAIN_DMA, "DMA")                 \
	X(IOMMU_DOMAIN_DMA_FQ, "DMA-FQ")

const char *iommu_domain_type_str(unsigned int type)
{
	switch (type) {
#define X(t, s)    \
	case t:    \
		return s;
		IOMMU_DOMAIN_TYPE_NAMES(X)
#undef X
	default:
		return "unknown";
	}
}

/*
 * iommu_domain_type_str(@type) at @p (at most DOMAIN_TYPE_NAME_MAX bytes),
 * each length known when compiled: a state's text names three domains a
 * group.
 */
#define DOMAIN_TYPE_NAME_MAX 16
static char *cur_put_domain_type(char *p, unsigned int type)
{
	switch (type) {
#define X(t, s)                    \
	case t:                    \
		return cur_putlit(p, s);
		IOMMU_DOMAIN_TYPE_NAMES(X)
#undef X
	default:
		return cur_putlit(p, "unknown");
	}
}

/* ---- IOMMU instances ---- */

struct iommu_device *iommu_device_alloc(struct machine *m, const char *name,
					unsigned int domain_types)
{
	struct iommu_device *iommu;
	size_t len = name ? strlen(name) : 0;

	if (!len || len >= IOMMU_NAME_MAX)
		return ERR_PTR(-EINVAL);
	iommu = kzalloc(m, sizeof(*iommu));
	if (!iommu)
		return ERR_PTR(-ENOMEM);
	iommu->m = m;
	memcpy(iommu->name, name, len);
	iommu->name_len = (unsigned char)len;
	iommu->domain_types = (domain_types & IOMMU_DOMAIN_ALL_TYPES_) |
			      IOMMU_DOMAIN_UNMANAGED | IOMMU_DOMAIN_DMA;
	iommu->msi_isolated = true;
	mutex_lock(&m->obj_lock);
	/* names are unique and kept sorted, so the state is canonical */
	{
		struct iommu_device *pos;
		struct list_head *before = &m->iommus;

		list_for_each_entry(pos, &m->iommus, node) {
			int c = strcmp(pos->name, iommu->name);

			if (!c) {
				mutex_unlock(&m->obj_lock);
				kfree(iommu);
				return ERR_PTR(-EEXIST);
			}
			if (c > 0) {
				before = &pos->node;
				break;
			}
		}
		list_add_tail(&iommu->node, before);
	}
	mutex_unlock(&m->obj_lock);
	return iommu;
}

struct iommu_device *machine_find_iommu(struct machine *m, const char *name)
{
	struct iommu_device *iommu, *found = NULL;

	mutex_lock(&m->obj_lock);
	list_for_each_entry(iommu, &m->iommus, node) {
		if (!strcmp(iommu->name, name)) {
			found = iommu;
			break;
		}
	}
	mutex_unlock(&m->obj_lock);
	return found;
}

bool iommu_device_is_registered(const struct iommu_device *iommu)
{
	return iommu->registered;
}

const char *iommu_device_name(const struct iommu_device *iommu)
{
	return iommu->name;
}

void iommu_device_set_msi_isolated(struct iommu_device *iommu, bool isolated)
{
	iommu->msi_isolated = isolated;
}

void iommu_device_set_attach_error(struct iommu_device *iommu, int err)
{
	iommu->attach_errno = err < 0 ? -err : err;
}

/* ---- domains ---- */

static struct iommu_domain *__iommu_domain_alloc(struct iommu_device *iommu,
						 unsigned int type)
{
	struct iommu_domain *domain;
	struct machine *m;

	/* a group without an IOMMU (no-IOMMU) has no domains to make */
	if (!iommu || !(iommu->domain_types & type))
		return NULL;
	m = iommu->m;
	domain = kzalloc(m, sizeof(*domain));
	if (!domain)
		return NULL;
	domain->m = m;
	domain->type = type;
	domain->iommu = iommu;
	mutex_lock(&m->obj_lock);
	list_add_tail(&domain->node, &m->domains);
	mutex_unlock(&m->obj_lock);
	return domain;
}

static void __iommu_domain_free(struct iommu_domain *domain)
{
	struct machine *m = domain->m;

	mutex_lock(&m->obj_lock);
	list_del(&domain->node);
	mutex_unlock(&m->obj_lock);
	machine_free(m, domain, sizeof(*domain));
}

struct iommu_domain *iommu_paging_domain_alloc(struct device *dev)
{
	struct iommu_device *iommu = dev->fw.iommu;
	struct iommu_domain *domain;

	KFUNC();
	if (!iommu_api(dev->m) || !iommu || !iommu->registered)
		return ERR_PTR(-ENODEV);
	domain = __iommu_domain_alloc(iommu, IOMMU_DOMAIN_UNMANAGED);
	return domain ? domain : ERR_PTR(-ENOMEM);
}

void iommu_domain_free(struct iommu_domain *domain)
{
	KFUNC();
	if (!domain)
		return;
	/*
	 * Freeing a domain that devices still translate through is the
	 * use-after-free the blocking domain was introduced to prevent. Report
	 * it and keep the domain, so the model stays memory-safe.
	 */
	if (WARN_ON(domain->m, domain->users))
		return;
	__iommu_domain_free(domain);
}

unsigned int iommu_domain_type(const struct iommu_domain *domain)
{
	return domain->type;
}

/* The IOMMU driver's attach_dev op. */
static int __iommu_attach_device(struct iommu_domain *domain,
				 struct device *dev, unsigned int flags)
{
	struct iommu_device *iommu = dev->fw.iommu;

	if (dev->iommu_domain == domain)
		return 0;
	if (domain->iommu != iommu)
		return -EINVAL;
	if (!(flags & IOMMU_SET_DOMAIN_MUST_SUCCEED)) {
		if (iommu->attach_errno)
			return -iommu->attach_errno;
		if (should_fail(dev->m, "iommu_attach_dev"))
			return -ENOMEM;
	}
	if (dev->iommu_domain)
		dev->iommu_domain->users--;
	dev->iommu_domain = domain;
	domain->users++;
	return 0;
}

/* The device stops translating through any domain (release_device op). */
static void __iommu_detach_device_all(struct device *dev)
{
	if (dev->iommu_domain)
		dev->iommu_domain->users--;
	dev->iommu_domain = NULL;
}

static int __iommu_device_set_domain(struct iommu_group *group,
				     struct device *dev,
				     struct iommu_domain *new_domain,
				     unsigned int flags)
{
	int ret;

	if (dev_require_direct(dev) &&
	    (new_domain->type == IOMMU_DOMAIN_BLOCKED ||
	     new_domain == group->blocking_domain)) {
		dev_warn(dev,
			 "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.");
		return -EINVAL;
	}
	ret = __iommu_attach_device(new_domain, dev, flags);
	if (ret) {
		/*
		 * With no way back, at least stop using the old domain: park
		 * the device on the blocking domain if there is one.
		 */
		if ((flags & IOMMU_SET_DOMAIN_MUST_SUCCEED) &&
		    group->blocking_domain &&
		    group->blocking_domain != new_domain)
			__iommu_attach_device(group->blocking_domain, dev,
					      flags);
		return ret;
	}
	return 0;
}

/*
 * Move every member to @new_domain. On failure the members already moved go
 * back to the group's current domain, which stays unchanged.
 */
static int __iommu_group_set_domain_internal(struct iommu_group *group,
					     struct iommu_domain *new_domain,
					     unsigned int flags)
{
	struct group_device *last_gdev, *gdev;
	int result = 0, ret;

	lockdep_assert_held(group->m, &group->mutex);
	if (group->domain == new_domain)
		return 0;
	if (!new_domain) {
		for_each_group_device(group, gdev)
			__iommu_detach_device_all(gdev->dev);
		group->domain = NULL;
		return 0;
	}
	for_each_group_device(group, gdev) {
		ret = __iommu_device_set_domain(group, gdev->dev, new_domain,
						flags);
		if (ret) {
			result = ret;
			if (flags & IOMMU_SET_DOMAIN_MUST_SUCCEED)
				continue;
			goto err_revert;
		}
	}
	group->domain = new_domain;
	return result;

err_revert:
	last_gdev = gdev;
	for_each_group_device(group, gdev) {
		if (group->domain)
			WARN_ON(group->m,
				__iommu_device_set_domain(
					group, gdev->dev, group->domain,
					IOMMU_SET_DOMAIN_MUST_SUCCEED));
		else
			__iommu_detach_device_all(gdev->dev);
		if (gdev == last_gdev)
			break;
	}
	return ret;
}

static int __iommu_group_set_domain(struct iommu_group *group,
				    struct iommu_domain *new_domain)
{
	return __iommu_group_set_domain_internal(group, new_domain, 0);
}

static void __iommu_group_set_domain_nofail(struct iommu_group *group,
					    struct iommu_domain *new_domain)
{
	WARN_ON(group->m,
		__iommu_group_set_domain_internal(
			group, new_domain, IOMMU_SET_DOMAIN_MUST_SUCCEED));
}

/* The domain a group falls back to: blocking while owned, else default. */
static void __iommu_group_set_core_domain(struct iommu_group *group)
{
	struct iommu_domain *new_domain;

	if (group->owner)
		new_domain = group->blocking_domain;
	else
		new_domain = group->default_domain;
	__iommu_group_set_domain_nofail(group, new_domain);
}

/* ---- default domains ---- */

/*
 * The names the kernel's log lines give domain types (its own
 * iommu_domain_type_str(), not the sysfs spelling above).
 */
static const char *iommu_domain_type_log_str(unsigned int type)
{
	switch (type) {
	case IOMMU_DOMAIN_BLOCKED:
		return "Blocked";
	case IOMMU_DOMAIN_IDENTITY:
		return "Passthrough";
	case IOMMU_DOMAIN_UNMANAGED:
		return "Unmanaged";
	case IOMMU_DOMAIN_DMA:
	case IOMMU_DOMAIN_DMA_FQ:
		return "Translated";
	default:
		return "Unknown";
	}
}

/*
 * iommu_get_def_domain_type(): the type one device insists on, 0 for none.
 * An untrusted (external-facing) PCI device must be translated, whatever
 * the IOMMU driver's def_domain_type op would say.
 */
static unsigned int iommu_get_def_domain_type(struct device *dev)
{
	if (dev->fw.untrusted)
		return IOMMU_DOMAIN_DMA;
	return dev->fw.def_domain_type;
}

/*
 * iommu_get_default_domain_type() as of v6.6: the type the members call
 * for, with @target_type (a sysfs write) as the first wish. Members that
 * disagree are no error without a target: a warning, and 0 (the machine's
 * default type). With a target, a member that cannot live with it makes
 * the result -1.
 */
static int iommu_get_default_domain_type_6_12(struct iommu_group *group,
					      int target_type);

static int iommu_get_default_domain_type(struct iommu_group *group,
					 int target_type)
{
	unsigned int best_type = (unsigned int)target_type;
	struct device *last_dev = NULL;
	struct group_device *gdev;

	lockdep_assert_held(group->m, &group->mutex);
	if (machine_kernel(group->m) == MACHINE_KERNEL_6_12)
		return iommu_get_default_domain_type_6_12(group, target_type);
	for_each_group_device(group, gdev) {
		unsigned int type = iommu_get_def_domain_type(gdev->dev);

		if (best_type && type && best_type != type) {
			if (target_type) {
				dev_err(gdev->dev, "Device cannot be in %s domain",
					iommu_domain_type_log_str(
						(unsigned int)target_type));
				return -1;
			}
			dev_warn(gdev->dev,
				 "Device needs domain type %s, but device %s in the same iommu group requires type %s - using default",
				 iommu_domain_type_log_str(type),
				 last_dev ? dev_name(last_dev) : "",
				 iommu_domain_type_log_str(best_type));
			return 0;
		}
		if (!best_type)
			best_type = type;
		last_dev = gdev->dev;
	}
	return (int)best_type;
}

/*
 * 6.12's iommu_get_default_domain_type(), rewritten after v6.6: the IOMMU
 * driver's wishes are merged first (a conflict is the driver's error, and
 * identity wins it), an untrusted member then insists on translation and
 * refuses a driver that asks for anything else, and a sysfs target the
 * members cannot live with fails without a line of its own.
 */
static int iommu_get_default_domain_type_6_12(struct iommu_group *group,
					      int target_type)
{
	struct device *untrusted = NULL;
	struct group_device *gdev;
	unsigned int driver_type = 0;

	for_each_group_device(group, gdev) {
		unsigned int type = gdev->dev->fw.def_domain_type;

		if (type && driver_type && type != driver_type) {
			dev_err(gdev->dev,
				"IOMMU driver error, requesting conflicting def_domain_type, %s and %s, for devices in group %d.",
				iommu_domain_type_log_str(driver_type),
				iommu_domain_type_log_str(type), group->id);
			if (type == IOMMU_DOMAIN_IDENTITY)
				driver_type = type;
		} else if (type) {
			driver_type = type;
		}
		if (gdev->dev->fw.untrusted)
			untrusted = gdev->dev;
	}
	if (untrusted) {
		if (driver_type && driver_type != IOMMU_DOMAIN_DMA) {
			dev_err(untrusted,
				"Device is not trusted, but driver is overriding group %d to %s, refusing to probe.",
				group->id, iommu_domain_type_log_str(driver_type));
			return -1;
		}
		driver_type = IOMMU_DOMAIN_DMA;
	}
	if (target_type) {
		if (driver_type && (unsigned int)target_type != driver_type)
			return -1;
		return target_type;
	}
	return (int)driver_type;
}

static struct iommu_domain *
__iommu_group_alloc_default_domain(struct iommu_group *group,
				   unsigned int type)
{
	/* Without flush-queue support a lazy domain is a strict one. */
	if (type == IOMMU_DOMAIN_DMA_FQ &&
	    !(group->iommu->domain_types & IOMMU_DOMAIN_DMA_FQ))
		type = IOMMU_DOMAIN_DMA;
	return __iommu_domain_alloc(group->iommu, type);
}

static struct iommu_domain *
iommu_group_alloc_default_domain(struct iommu_group *group, int req_type)
{
	unsigned int def = group->m->cfg.def_domain_type;
	struct iommu_domain *dom;

	if (req_type)
		return __iommu_group_alloc_default_domain(group, req_type);
	dom = __iommu_group_alloc_default_domain(group, def);
	if (dom)
		return dom;
	if (def == IOMMU_DOMAIN_DMA)
		return NULL;
	dom = __iommu_group_alloc_default_domain(group, IOMMU_DOMAIN_DMA);
	if (dom)
		pr_warn(group->m,
			"iommu: Failed to allocate default IOMMU domain of type %s for group %d - Falling back to IOMMU_DOMAIN_DMA",
			iommu_domain_type_str(def), group->id);
	return dom;
}

/*
 * Give the group a default domain of the type its members and @target_type
 * call for, and move the members to it if the group was on the old one.
 */
static int iommu_setup_default_domain(struct iommu_group *group,
				      int target_type)
{
	struct iommu_domain *old_dom = group->default_domain;
	struct iommu_domain *dom;
	int req_type, ret;

	lockdep_assert_held(group->m, &group->mutex);
	req_type = iommu_get_default_domain_type(group, target_type);
	if (req_type < 0)
		return -EINVAL;
	dom = iommu_group_alloc_default_domain(group, req_type);
	if (!dom) {
		/*
		 * v6.6 lets a group without a default domain be (IOMMU
		 * drivers that have none): its members translate through no
		 * domain until one is attached. A group that has one keeps it.
		 */
		if (group->default_domain)
			return -ENODEV;
		return 0;
	}

	group->default_domain = dom;
	if (!group->domain) {
		/* The first attach of a group may not fail. */
		__iommu_group_set_domain_nofail(group, dom);
		goto out_free_old;
	}
	ret = __iommu_group_set_domain(group, dom);
	if (ret) {
		group->default_domain = old_dom;
		__iommu_domain_free(dom);
		return ret;
	}
out_free_old:
	if (old_dom)
		iommu_domain_free(old_dom);
	return 0;
}

/* ---- groups ---- */

static void group_id_free(struct machine *m, struct iommu_group *group);

static void iommu_group_release(struct kref *kref)
{
	struct iommu_group *group = container_of(kref, struct iommu_group,
						 kref);
	struct machine *m = group->m;

	/* Domains are freed when the last device leaves. */
	WARN_ON(m, group->default_domain);
	WARN_ON(m, group->blocking_domain);
	mutex_lock(&m->obj_lock);
	list_del(&group->node);
	group_id_free(m, group);
	if (group->key)
		strmap_del(&m->groups_by_key, group->keyname, group);
	mutex_unlock(&m->obj_lock);
	mutex_destroy(&group->mutex);
	machine_free(m, group, sizeof(*group));
}

void iommu_group_put(struct iommu_group *group)
{
	if (group)
		WARN_ON(group->m, kref_put(&group->kref,
					   iommu_group_release) < 0);
}

struct iommu_group *iommu_group_get(struct device *dev)
{
	/* the caller keeps @dev in its group; the pointer may be moving */
	struct iommu_group *group = READ_ONCE(dev->iommu_group);

	if (group)
		kref_get(&group->kref);
	return group;
}

int iommu_group_id(const struct iommu_group *group)
{
	return group->id;
}

/*
 * The lowest free group id, taken for @group (machine::groups_by_id), and
 * in @ret_before the list node to insert before so the list stays sorted
 * by id. -ENOSPC past MACHINE_GROUP_ID_MAX; -ENOMEM.
 */
static int group_id_alloc(struct machine *m, struct iommu_group *group,
			  struct list_head **ret_before)
{
	int id = m->groups_free;

	while (id < m->groups_cap && m->groups_by_id[id])
		id++;
	if (id >= MACHINE_GROUP_ID_MAX)
		return -ENOSPC;
	if (id >= m->groups_cap) {
		int ncap = m->groups_cap ? m->groups_cap * 2 : 64;
		struct iommu_group **n;

		if (ncap > MACHINE_GROUP_ID_MAX)
			ncap = MACHINE_GROUP_ID_MAX;
		n = realloc(m->groups_by_id, (size_t)ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + m->groups_cap, 0,
		       (size_t)(ncap - m->groups_cap) * sizeof(*n));
		m->groups_by_id = n;
		m->groups_cap = ncap;
	}
	m->groups_by_id[id] = group;
	m->groups_free = id + 1;
	*ret_before = &m->groups;
	if (id < m->groups_max) {
		/* a reused id: before the next group up */
		for (int k = id + 1; k <= m->groups_max; k++)
			if (m->groups_by_id[k]) {
				*ret_before = &m->groups_by_id[k]->node;
				break;
			}
	} else {
		m->groups_max = id;
	}
	return id;
}

static void group_id_free(struct machine *m, struct iommu_group *group)
{
	if (group->id >= m->groups_cap ||
	    m->groups_by_id[group->id] != group)
		return;
	m->groups_by_id[group->id] = NULL;
	if (group->id < m->groups_free)
		m->groups_free = group->id;
	while (m->groups_max > 0 && !m->groups_by_id[m->groups_max])
		m->groups_max--;
}

/* iommu_group_alloc(): a new group with the lowest free id, one reference. */
struct iommu_group *iommu_group_alloc(struct machine *m,
				      struct iommu_device *iommu,
				      unsigned int key)
{
	struct iommu_group *group;
	struct list_head *before;
	int id = 0;

	group = kzalloc(m, sizeof(*group));
	if (!group)
		return ERR_PTR(-ENOMEM);
	group->m = m;
	group->iommu = iommu;
	group->key = key;
	kref_init(&group->kref);
	mutex_init(&group->mutex, &m->locks, "iommu_group.mutex");
	INIT_LIST_HEAD(&group->devices);
	INIT_LIST_HEAD(&group->entry);
	INIT_LIST_HEAD(&group->hwpts);

	if (key)
		snprintf(group->keyname, sizeof(group->keyname), "%s/%u",
			 iommu ? iommu->name : "-", key);
	mutex_lock(&m->obj_lock);
	id = group_id_alloc(m, group, &before);
	if (id < 0) {
		mutex_unlock(&m->obj_lock);
		mutex_destroy(&group->mutex);
		kfree(group);
		return ERR_PTR(id);
	}
	/*
	 * A group of the same key may still be mapped while its release
	 * waits for obj_lock: the new group takes the key over.
	 */
	if (key) {
		struct iommu_group *old = strmap_get(&m->groups_by_key,
						     group->keyname);

		if (old)
			strmap_del(&m->groups_by_key, group->keyname, old);
		if (strmap_put(&m->groups_by_key, group->keyname, group)) {
			group_id_free(m, group);
			mutex_unlock(&m->obj_lock);
			mutex_destroy(&group->mutex);
			kfree(group);
			return ERR_PTR(-ENOMEM);
		}
	}
	group->id = id;
	list_add_tail(&group->node, before);
	mutex_unlock(&m->obj_lock);
	return group;
}

/*
 * The IOMMU driver's device_group op: the group of the device's firmware
 * key behind its IOMMU (aliases, missing ACS), else a group of its own.
 */
static struct iommu_group *iommu_device_group(struct device *dev)
{
	struct iommu_device *iommu = dev->fw.iommu;
	unsigned int key = dev->fw.group_key;
	struct machine *m = dev->m;
	struct iommu_group *group;

	if (key) {
		char name[sizeof(group->keyname)];

		snprintf(name, sizeof(name), "%s/%u", iommu ? iommu->name : "-",
			 key);
		mutex_lock(&m->obj_lock);
		group = strmap_get(&m->groups_by_key, name);
		if (group && kref_get_unless_zero(&group->kref)) {
			mutex_unlock(&m->obj_lock);
			return group;
		}
		mutex_unlock(&m->obj_lock);
	}
	return iommu_group_alloc(m, iommu, key);
}

struct iommu_group *iommu_group_by_id_locked(struct machine *m, int id)
{
	return id >= 0 && id < m->groups_cap ? m->groups_by_id[id] : NULL;
}

struct iommu_group *iommu_group_by_id(struct machine *m, int id)
{
	struct iommu_group *found;

	mutex_lock(&m->obj_lock);
	found = iommu_group_by_id_locked(m, id);
	mutex_unlock(&m->obj_lock);
	return found;
}

void iommu_group_get_info(struct iommu_group *group,
			  struct iommu_group_info *ret_info)
{
	struct iommu_group_info info = { 0 };

	mutex_lock(&group->mutex);
	info.id = group->id;
	info.ndevices = (unsigned int)list_count_nodes(&group->devices);
	info.owner = group->owner;
	info.owner_cnt = group->owner_cnt;
	info.domain = group->domain;
	info.default_domain = group->default_domain;
	info.blocking_domain = group->blocking_domain;
	info.refcount = kref_read(&group->kref);
	mutex_unlock(&group->mutex);
	*ret_info = info;
}

struct iommu_domain *iommu_device_domain(struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;
	struct iommu_domain *domain;

	if (!group)
		return dev->iommu_domain;
	mutex_lock(&group->mutex);
	domain = dev->iommu_domain;
	mutex_unlock(&group->mutex);
	return domain;
}

/* ---- probing ---- */

/*
 * dmaown: a device whose driver already uses the kernel DMA API joins its
 * group (its IOMMU registered after the driver bound). Upstream leaves such
 * a device uncounted, so userspace could claim the group under a live kernel
 * driver and the driver's unbind would WARN or drop another device's count.
 * Count it on joining instead, so every use is given back exactly once.
 */
static void iommu_group_adopt_dma_use(struct iommu_group *group,
				      struct device *dev)
{
	lockdep_assert_held(dev->m, &dev->m->iommu_probe_device_lock);
	lockdep_assert_held(dev->m, &group->mutex);
	if (!dev->dma_use.active || dev->dma_use.group)
		return;
	/* Isolation cannot hold: a kernel driver in a user-owned group. */
	if (WARN_ON(dev->m, group->owner))
		return;
	group->owner_cnt++;
	dev->dma_use.group = group;
	dev_info(dev, "driver bound before its IOMMU: counting its DMA API use in group %d",
		 group->id);
}

/*
 * iommu_group_alloc_device() (v6.6): @dev's entry in @group, with the sysfs
 * links between them ("Adding to iommu group N"). A failed kzalloc() is
 * silent; a failure after it (the links) is the one reported. Undone by
 * __iommu_group_free_device().
 */
static struct group_device *iommu_group_alloc_device(struct iommu_group *group,
						     struct device *dev)
{
	struct group_device *gdev = kzalloc(dev->m, sizeof(*gdev));

	if (!gdev)
		return ERR_PTR(-ENOMEM);
	if (should_fail(dev->m, "iommu_group_alloc_device")) {
		kfree(gdev);
		dev_err(dev, "Failed to add to iommu group %d: %d", group->id,
			-ENOMEM);
		return ERR_PTR(-ENOMEM);
	}
	gdev->dev = dev;
	dev_info(dev, "Adding to iommu group %d", group->id);
	return gdev;
}

/*
 * Put @dev in its group. With @group_list the group's default domain is left
 * to the caller (bus_iommu_probe() sets it up once all members are in).
 */
static int __iommu_probe_device(struct device *dev,
				struct list_head *group_list)
{
	struct iommu_group *group;
	struct group_device *gdev;
	int ret;

	lockdep_assert_held(dev->m, &dev->m->iommu_probe_device_lock);
	if (dev->iommu_group)
		return 0;

	/* ops->probe_device(): the driver may refuse the device first */
	ret = arm_smmu_probe_device(dev);
	if (ret)
		return ret;
	group = iommu_device_group(dev);
	if (IS_ERR(group)) {
		/* iommu_init_device()'s err_release: ops->release_device() */
		arm_smmu_release_device(dev);
		return (int)PTR_ERR(group);
	}
	/* a failed attach below is unwound silently, as v6.6 does */
	gdev = iommu_group_alloc_device(group, dev);
	if (IS_ERR(gdev)) {
		/* err_put_group: iommu_deinit_device() */
		arm_smmu_release_device(dev);
		iommu_group_put(group);
		return (int)PTR_ERR(gdev);
	}

	mutex_lock(&group->mutex);
	/* obj_lock too: sysfs lists a group's devices under it */
	mutex_lock(&dev->m->obj_lock);
	list_add_tail(&gdev->list, &group->devices);
	mutex_unlock(&dev->m->obj_lock);
	WRITE_ONCE(dev->iommu_group, group); /* sysfs peeks */
	WARN_ON(dev->m, group->default_domain && !group->domain);
	if (group->domain) {
		/*
		 * Join whatever the group translates through now: the default
		 * domain, or the blocking or user domain of a claimed group.
		 */
		ret = __iommu_device_set_domain(group, dev, group->domain, 0);
		if (ret)
			goto err_remove_gdev;
	} else if (!group->default_domain && !group_list) {
		ret = iommu_setup_default_domain(group, 0);
		if (ret)
			goto err_remove_gdev;
	} else if (!group->default_domain) {
		if (list_empty(&group->entry))
			list_add_tail(&group->entry, group_list);
	}
	iommu_group_adopt_dma_use(group, dev);
	mutex_unlock(&group->mutex);
	return 0;

err_remove_gdev:
	mutex_lock(&dev->m->obj_lock);
	list_del(&gdev->list);
	mutex_unlock(&dev->m->obj_lock);
	WRITE_ONCE(dev->iommu_group, NULL);
	/* iommu_deinit_device(): ops->release_device() */
	arm_smmu_release_device(dev);
	mutex_unlock(&group->mutex);
	machine_free(dev->m, gdev, sizeof(*gdev));
	iommu_group_put(group);
	return ret;
}

int iommu_probe_device(struct device *dev)
{
	struct machine *m = dev->m;
	int ret;

	KFUNC();
	if (!iommu_api(m) || !dev->fw.iommu || !dev->fw.iommu->registered)
		return -ENODEV;
	mutex_lock(&m->iommu_probe_device_lock);
	ret = __iommu_probe_device(dev, NULL);
	mutex_unlock(&m->iommu_probe_device_lock);
	return ret;
}

/* bus_iommu_probe(): probe every added device behind a new IOMMU. */
/*
 * A device @iommu can probe now: behind it, and known to the IOMMU driver
 * (x86 tables), or with its fwspec made (IORT, devicetree).
 */
static bool probe_candidate(struct device *dev, const void *iommu)
{
	return dev->added && dev->fw.iommu == iommu &&
	       (dev->m->cfg.firmware == FW_X86 || dev->fwspec || !dev->bus);
}

static int bus_iommu_probe(struct iommu_device *iommu)
{
	struct machine *m = iommu->m;
	struct iommu_group *group, *next;
	struct device **devs;
	size_t n = 0, i;
	LIST_HEAD(group_list);
	int ret = 0;

	KFUNC();
	devs = devices_get(m, probe_candidate, iommu, &n);
	if (!devs)
		return -ENOMEM;

	mutex_lock(&m->iommu_probe_device_lock);
	for (i = 0; i < n; i++) {
		int err = __iommu_probe_device(devs[i], &group_list);
		/* A device that fails is left out, as the kernel does. */
		(void)err;
	}
	mutex_unlock(&m->iommu_probe_device_lock);

	list_for_each_entry_safe(group, next, &group_list, entry) {
		mutex_lock(&group->mutex);
		list_del(&group->entry);
		if (!ret)
			ret = iommu_setup_default_domain(group, 0);
		mutex_unlock(&group->mutex);
	}
	devices_put(devs, n);
	return ret;
}

int iommu_device_register(struct iommu_device *iommu)
{
	KFUNC();
	if (!iommu_api(iommu->m))
		return -ENODEV;
	if (iommu->registered)
		return -EEXIST;
	iommu->registered = true;
	return bus_iommu_probe(iommu);
}

static void __iommu_group_free_device(struct iommu_group *group,
				      struct group_device *gdev)
{
	/*
	 * A group that empties must have been given back and be on its
	 * default domain.
	 */
	if (list_empty(&group->devices))
		WARN_ON(group->m, group->owner_cnt ||
			group->domain != group->default_domain);
	machine_free(group->m, gdev, sizeof(*gdev));
}

void iommu_release_device(struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;
	struct group_device *gdev;

	KFUNC();
	if (!group)
		return;
	/*
	 * 6.1's iommu_release_device() left through the exported
	 * iommu_group_remove_device(), which logs; v6.6 and 6.12 call
	 * __iommu_group_remove_device(), which does not (seen by the oracle's
	 * corpus on 6.1.192: docs/architecture.md, "Kernel versions").
	 */
	if (machine_kernel(dev->m) == MACHINE_KERNEL_6_1)
		dev_info(dev, "Removing from iommu group %d", group->id);
	mutex_lock(&dev->m->iommu_probe_device_lock);
	mutex_lock(&group->mutex);
	for_each_group_device(group, gdev) {
		if (gdev->dev != dev)
			continue;
		/* A device leaves its group only unbound; give a count back. */
		if (WARN_ON(dev->m, dev->dma_use.group == group)) {
			if (!WARN_ON(dev->m, !group->owner_cnt))
				group->owner_cnt--;
			dev->dma_use.group = NULL;
		}
		mutex_lock(&dev->m->obj_lock);
		list_del(&gdev->list);
		mutex_unlock(&dev->m->obj_lock);
		__iommu_group_free_device(group, gdev);
		/* release_device op: the device stops using any domain */
		__iommu_detach_device_all(dev);
		/* and arm-smmu-v3's arm_smmu_remove_master() */
		arm_smmu_release_device(dev);
		if (list_empty(&group->devices)) {
			if (group->default_domain) {
				iommu_domain_free(group->default_domain);
				group->default_domain = NULL;
			}
			if (group->blocking_domain) {
				iommu_domain_free(group->blocking_domain);
				group->blocking_domain = NULL;
			}
			group->domain = NULL;
		}
		WRITE_ONCE(dev->iommu_group, NULL);
		break;
	}
	mutex_unlock(&group->mutex);
	mutex_unlock(&dev->m->iommu_probe_device_lock);
	/* The reference the device's membership held. */
	iommu_group_put(group);
}

/*
 * iommu_group_set_name(): the group's "name" file in sysfs. v6.6 names
 * only vfio's no-IOMMU groups ("vfio-noiommu").
 */
int iommu_group_set_name(struct iommu_group *group, const char *name)
{
	size_t len = strlen(name);

	if (len >= sizeof(group->name))
		return -EINVAL;
	mutex_lock(&group->mutex);
	memcpy(group->name, name, len + 1);
	mutex_unlock(&group->mutex);
	return 0;
}

/*
 * iommu_group_add_device(): @dev joins @group without its IOMMU driver's
 * help (a group that has no IOMMU), which takes a reference for the
 * membership. There is no domain to attach to; the driver core's DMA-use
 * record is not touched: the only users are vfio bus drivers, which manage
 * DMA themselves.
 */
int iommu_group_add_device(struct iommu_group *group, struct device *dev)
{
	struct machine *m = dev->m;
	struct group_device *gdev;

	KFUNC();
	gdev = iommu_group_alloc_device(group, dev);
	if (IS_ERR(gdev))
		return (int)PTR_ERR(gdev);
	kref_get(&group->kref);
	mutex_lock(&m->iommu_probe_device_lock);
	mutex_lock(&group->mutex);
	WARN_ON(m, dev->iommu_group || group->domain);
	mutex_lock(&m->obj_lock);
	list_add_tail(&gdev->list, &group->devices);
	mutex_unlock(&m->obj_lock);
	WRITE_ONCE(dev->iommu_group, group); /* sysfs peeks */
	mutex_unlock(&group->mutex);
	mutex_unlock(&m->iommu_probe_device_lock);
	return 0;
}

/* iommu_group_remove_device(): undo iommu_group_add_device(). */
void iommu_group_remove_device(struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;

	KFUNC();
	if (!group)
		return;
	if (machine_kernel(dev->m) != MACHINE_KERNEL_6_1) /* 6.1: logged there */
		dev_info(dev, "Removing from iommu group %d", group->id);
	iommu_release_device(dev);
}

/* ---- attach / detach by users of the IOMMU API ---- */

static int __iommu_attach_group(struct iommu_domain *domain,
				struct iommu_group *group)
{
	if (group->domain && group->domain != group->default_domain &&
	    group->domain != group->blocking_domain)
		return -EBUSY;
	return __iommu_group_set_domain(group, domain);
}

int iommu_attach_group(struct iommu_domain *domain, struct iommu_group *group)
{
	int ret;

	KFUNC();
	mutex_lock(&group->mutex);
	ret = __iommu_attach_group(domain, group);
	mutex_unlock(&group->mutex);
	return ret;
}

void iommu_detach_group(struct iommu_domain *domain, struct iommu_group *group)
{
	KFUNC();
	(void)domain;
	mutex_lock(&group->mutex);
	__iommu_group_set_core_domain(group);
	mutex_unlock(&group->mutex);
}

int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain)
{
	int ret;

	KFUNC();
	if (!new_domain)
		return -EINVAL;
	mutex_lock(&group->mutex);
	ret = __iommu_group_set_domain(group, new_domain);
	mutex_unlock(&group->mutex);
	return ret;
}

int iommu_attach_device(struct iommu_domain *domain, struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;
	int ret;

	KFUNC();
	if (!group)
		return -ENODEV;
	/* The group lock keeps the device count from changing under us. */
	mutex_lock(&group->mutex);
	ret = -EINVAL;
	if (list_count_nodes(&group->devices) != 1)
		goto out_unlock;
	ret = __iommu_attach_group(domain, group);
out_unlock:
	mutex_unlock(&group->mutex);
	return ret;
}

void iommu_detach_device(struct iommu_domain *domain, struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;

	KFUNC();
	if (!group)
		return;
	mutex_lock(&group->mutex);
	if (WARN_ON(dev->m, domain != group->domain) ||
	    WARN_ON(dev->m, list_count_nodes(&group->devices) != 1))
		goto out_unlock;
	__iommu_group_set_core_domain(group);
out_unlock:
	mutex_unlock(&group->mutex);
}

/* ---- DMA ownership ---- */

int iommu_device_use_default_domain(struct device *dev)
{
	/* The driver core calls this with the device locked: no get/put. */
	struct iommu_group *group = dev->iommu_group;
	int ret = 0;

	KFUNC();
	if (!group)
		return 0;
	if (__builtin_expect(dev->m->faults & MACHINE_FAULT_LOCK_DROPPED, 0)) {
		/* mutant: the check and the count under two lock sections */
		bool busy;

		mutex_lock(&group->mutex);
		busy = group->owner_cnt &&
		       (group->domain != group->default_domain || group->owner);
		mutex_unlock(&group->mutex);
		if (busy)
			return -EBUSY;
		mutex_lock(&group->mutex);
		group->owner_cnt++;
		mutex_unlock(&group->mutex);
		return 0;
	}
	mutex_lock(&group->mutex);
	if (group->owner_cnt &&
	    !(dev->m->faults & MACHINE_FAULT_USE_IGNORES_OWNER)) {
		if (group->domain != group->default_domain || group->owner) {
			ret = -EBUSY;
			goto unlock_out;
		}
	}
	group->owner_cnt++;
unlock_out:
	mutex_unlock(&group->mutex);
	return ret;
}

void iommu_device_unuse_default_domain(struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;

	KFUNC();
	if (!group)
		return;
	mutex_lock(&group->mutex);
	if (!WARN_ON(dev->m, !group->owner_cnt))
		group->owner_cnt--;
	mutex_unlock(&group->mutex);
}

int iommu_device_dma_use(struct device *dev)
{
	struct machine *m = dev->m;
	int ret;

	/* Serialised against devices joining groups (iommu_probe_device()). */
	mutex_lock(&m->iommu_probe_device_lock);
	ret = iommu_device_use_default_domain(dev);
	if (!ret) {
		dev->dma_use.active = true;
		dev->dma_use.group = dev->iommu_group;
	}
	mutex_unlock(&m->iommu_probe_device_lock);
	return ret;
}

void iommu_device_dma_unuse(struct device *dev)
{
	struct machine *m = dev->m;

	mutex_lock(&m->iommu_probe_device_lock);
	if (dev->dma_use.active) {
		/* By construction the count, if any, is in the current group. */
		WARN_ON(m, dev->dma_use.group != dev->iommu_group);
		if (dev->dma_use.group)
			iommu_device_unuse_default_domain(dev);
		dev->dma_use.active = false;
		dev->dma_use.group = NULL;
	}
	mutex_unlock(&m->iommu_probe_device_lock);
}

static int __iommu_group_alloc_blocking_domain(struct iommu_group *group)
{
	struct iommu_domain *domain;

	if (group->blocking_domain)
		return 0;
	domain = __iommu_domain_alloc(group->iommu, IOMMU_DOMAIN_BLOCKED);
	if (!domain) {
		/*
		 * An IOMMU without blocking domains gets an empty paging domain
		 * instead: nothing is mapped, so nothing is reachable.
		 */
		domain = __iommu_domain_alloc(group->iommu,
					      IOMMU_DOMAIN_UNMANAGED);
		if (!domain)
			return -EINVAL;
	}
	group->blocking_domain = domain;
	return 0;
}

static int __iommu_take_dma_ownership(struct iommu_group *group, void *owner)
{
	int ret;

	if (group->domain && group->domain != group->default_domain)
		return -EBUSY;
	ret = __iommu_group_alloc_blocking_domain(group);
	if (ret)
		return ret;
	ret = __iommu_group_set_domain(group, group->blocking_domain);
	if (ret)
		return ret;
	group->owner = owner;
	group->owner_cnt++;
	return 0;
}

int iommu_group_claim_dma_owner(struct iommu_group *group, void *owner)
{
	int ret = 0;

	KFUNC();
	if (!group)
		return -ENODEV;
	if (WARN_ON(group->m, !owner))
		return -EINVAL;
	mutex_lock(&group->mutex);
	if (group->owner_cnt &&
	    !(group->m->faults & MACHINE_FAULT_CLAIM_IGNORES_COUNT)) {
		ret = -EPERM;
		goto unlock_out;
	}
	ret = __iommu_take_dma_ownership(group, owner);
unlock_out:
	mutex_unlock(&group->mutex);
	return ret;
}

static void __iommu_release_dma_ownership(struct iommu_group *group)
{
	if (WARN_ON(group->m, !group->owner_cnt || !group->owner))
		return;
	group->owner_cnt = 0;
	group->owner = NULL;
	/* mutant: the group stays on the user's or the blocking domain */
	if (group->m->faults & MACHINE_FAULT_RELEASE_KEEPS_DOMAIN)
		return;
	__iommu_group_set_domain_nofail(group, group->default_domain);
}

void iommu_group_release_dma_owner(struct iommu_group *group)
{
	KFUNC();
	if (!group)
		return;
	mutex_lock(&group->mutex);
	__iommu_release_dma_ownership(group);
	mutex_unlock(&group->mutex);
}

bool iommu_group_dma_owner_claimed(struct iommu_group *group)
{
	unsigned int user;

	if (!group)
		return false;
	mutex_lock(&group->mutex);
	user = group->owner_cnt;
	mutex_unlock(&group->mutex);
	return user;
}

int iommu_device_claim_dma_owner(struct device *dev, void *owner)
{
	struct iommu_group *group = dev->iommu_group;
	int ret = 0;

	KFUNC();
	if (WARN_ON(dev->m, !owner))
		return -EINVAL;
	if (!group)
		return -ENODEV;
	mutex_lock(&group->mutex);
	if (group->owner_cnt &&
	    (group->owner ||
	     !(dev->m->faults & MACHINE_FAULT_CLAIM_IGNORES_COUNT))) {
		if (group->owner != owner) {
			ret = -EPERM;
			goto unlock_out;
		}
		group->owner_cnt++;
		goto unlock_out;
	}
	ret = __iommu_take_dma_ownership(group, owner);
unlock_out:
	mutex_unlock(&group->mutex);
	return ret;
}

void iommu_device_release_dma_owner(struct device *dev)
{
	struct iommu_group *group = dev->iommu_group;

	KFUNC();
	if (!group)
		return;
	mutex_lock(&group->mutex);
	if (group->owner_cnt > 1)
		group->owner_cnt--;
	else
		__iommu_release_dma_ownership(group);
	mutex_unlock(&group->mutex);
}

/* ---- /sys/kernel/iommu_groups/N/type ---- */

/* sysfs_streq(): equal, ignoring one trailing newline on either side. */
static bool sysfs_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	if (*a == *b)
		return true;
	if (*a == '\n' && a[1] == '\0' && *b == '\0')
		return true;
	if (*b == '\n' && b[1] == '\0' && *a == '\0')
		return true;
	return false;
}

/*
 * DMA to DMA-FQ: a flush queue brought up on the default domain as it is
 * (iommu_dma_init_fq()), the one change every version allows under a
 * driver; an IOMMU without flush queues refuses it.
 */
static bool iommu_group_fq_live(const struct iommu_group *group, int req_type)
{
	return req_type == IOMMU_DOMAIN_DMA_FQ &&
	       group->default_domain->type == IOMMU_DOMAIN_DMA;
}

static int iommu_group_init_fq(struct iommu_group *group)
{
	if (!(group->iommu->domain_types & IOMMU_DOMAIN_DMA_FQ))
		return -EINVAL;
	group->default_domain->type = IOMMU_DOMAIN_DMA_FQ;
	return 0;
}

/*
 * 6.1's iommu_group_store_type() and iommu_change_dev_def_domain(), before
 * v6.4 let a group of several devices change type: one device only, no
 * driver bound (rather than no owner), and "auto" meaning what the device
 * or the machine asks for rather than what the group's members agree on.
 */
static int iommu_group_store_type_6_1(struct iommu_group *group, int req_type)
{
	struct iommu_domain *prev_dom;
	struct group_device *gdev;
	struct device *dev;
	unsigned int dev_def_dom;
	bool fq_live;
	int ret = 0;

	mutex_lock(&group->mutex);
	if (!list_is_singular(&group->devices)) {
		mutex_unlock(&group->mutex);
		pr_err(group->m,
		       "iommu: Cannot change default domain: Group has more than one device");
		return -EINVAL;
	}
	gdev = list_first_entry(&group->devices, struct group_device, list);
	dev = gdev->dev;
	prev_dom = group->default_domain;
	fq_live = iommu_group_fq_live(group, req_type);
	if (dev->driver && !fq_live) {
		mutex_unlock(&group->mutex);
		pr_err(group->m, "iommu: Device is still bound to driver");
		return -EBUSY;
	}
	/*
	 * A group claimed with no driver bound (iommufd's way, which 6.1
	 * lacks) is beyond 6.1's check; v6.6's keeps it from changing under
	 * its owner.
	 */
	if (group->owner_cnt && !fq_live) {
		mutex_unlock(&group->mutex);
		return -EPERM;
	}
	dev_def_dom = iommu_get_def_domain_type(dev);
	if (!req_type) {
		req_type = (int)(dev_def_dom ? dev_def_dom :
					       group->m->cfg.def_domain_type);
	} else if (dev_def_dom && (unsigned int)req_type != dev_def_dom) {
		dev_err(dev, "Device cannot be in %s domain",
			iommu_domain_type_log_str((unsigned int)req_type));
		ret = -EINVAL;
	}
	if (!ret && fq_live)
		ret = iommu_group_init_fq(group);
	else if (!ret && prev_dom->type != (unsigned int)req_type)
		ret = iommu_setup_default_domain(group, req_type);
	mutex_unlock(&group->mutex);
	return ret;
}

int iommu_group_store_type(struct iommu_group *group, const char *buf)
{
	int ret, req_type;

	KFUNC();
	if (!group || !group->default_domain)
		return -EINVAL;
	if (sysfs_streq(buf, "identity"))
		req_type = IOMMU_DOMAIN_IDENTITY;
	else if (sysfs_streq(buf, "DMA"))
		req_type = IOMMU_DOMAIN_DMA;
	else if (sysfs_streq(buf, "DMA-FQ"))
		req_type = IOMMU_DOMAIN_DMA_FQ;
	else if (sysfs_streq(buf, "auto"))
		req_type = 0;
	else
		return -EINVAL;

	if (machine_kernel(group->m) == MACHINE_KERNEL_6_1)
		return iommu_group_store_type_6_1(group, req_type);
	mutex_lock(&group->mutex);
	/* A flush queue can be brought up without a new domain. */
	if (iommu_group_fq_live(group, req_type)) {
		ret = iommu_group_init_fq(group);
		mutex_unlock(&group->mutex);
		return ret;
	}
	/* Otherwise the group must have devices and nobody using it. */
	if (list_empty(&group->devices) || group->owner_cnt) {
		mutex_unlock(&group->mutex);
		return -EPERM;
	}
	ret = iommu_setup_default_domain(group, req_type);
	mutex_unlock(&group->mutex);
	return ret;
}

/* ---- machine subsystem: clone, serialize, destroy ---- */

static const char *group_key(const void *group)
{
	return ((const struct iommu_group *)group)->keyname;
}

/*
 * A copy's group indexes, as the original's: the id table copied whole
 * (its hints too, which stay true for the same ids) and the key index
 * slot for slot, rather than each group added again with its growths.
 */
static int clone_group_indexes(const struct machine *old, struct machine *new,
			       const struct ptrmap *map)
{
	free(new->groups_by_id);
	new->groups_by_id = NULL;
	new->groups_cap = new->groups_free = new->groups_max = 0;
	if (old->groups_cap) {
		new->groups_by_id = malloc((size_t)old->groups_cap *
					   sizeof(*new->groups_by_id));
		if (!new->groups_by_id)
			return -ENOMEM;
		for (int id = 0; id < old->groups_cap; id++)
			new->groups_by_id[id] =
				ptrmap_get(map, old->groups_by_id[id]);
		for (int id = 0; id < old->groups_cap; id++)
			self_check(!old->groups_by_id[id] ==
				   !new->groups_by_id[id]);
		new->groups_cap = old->groups_cap;
		new->groups_free = old->groups_free;
		new->groups_max = old->groups_max;
	}
	return machine_clone_strmap(new, old, &new->groups_by_key,
				    &old->groups_by_key, map, group_key);
}

static int iommu_subsys_clone(const struct machine *old, struct machine *new,
			      struct ptrmap *map)
{
	struct iommu_device *iommu, *ni;
	struct iommu_domain *domain, *nd;
	struct iommu_group *group, *ng;
	struct group_device *gdev, *ngdev;

	list_for_each_entry(iommu, &old->iommus, node) {
		ni = machine_clone_alloc_at(new, old, iommu, sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		*ni = *iommu;
		ni->m = new;
		list_add_tail(&ni->node, &new->iommus);
		ptrmap_put(map, iommu, ni);
		/* its devices are copied later: the fixup remaps them */
		if (u64map_copy(&ni->streams, &iommu->streams))
			return -ENOMEM;
	}
	list_for_each_entry(domain, &old->domains, node) {
		nd = machine_clone_alloc_at(new, old, domain, sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		*nd = *domain;
		nd->m = new;
		list_add_tail(&nd->node, &new->domains);
		ptrmap_put(map, domain, nd);
	}
	list_for_each_entry(group, &old->groups, node) {
		ng = machine_clone_alloc_at(new, old, group, sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		*ng = *group;
		ng->m = new;
		ng->vfio_group = NULL; /* the vfio copies link themselves */
		mutex_init(&ng->mutex, &new->locks, "iommu_group.mutex");
		INIT_LIST_HEAD(&ng->devices);
		INIT_LIST_HEAD(&ng->entry);
		INIT_LIST_HEAD(&ng->hwpts); /* the iommufd copies link themselves */
		list_add_tail(&ng->node, &new->groups);
		ptrmap_put(map, group, ng);
		for_each_group_device(group, gdev) {
			ngdev = machine_clone_alloc_at(new, old, gdev,
						       sizeof(*ngdev));
			if (!ngdev)
				return -ENOMEM;
			*ngdev = *gdev;
			list_add_tail(&ngdev->list, &ng->devices);
		}
	}
	if (map->oom)
		return -ENOMEM;
	return clone_group_indexes(old, new, map);
}

static void iommu_subsys_fixup(struct machine *new, const struct ptrmap *map)
{
	struct iommu_device *iommu;
	struct iommu_domain *domain;
	struct iommu_group *group;
	struct group_device *gdev;

	list_for_each_entry(iommu, &new->iommus, node)
		u64map_remap(&iommu->streams, map);
	list_for_each_entry(domain, &new->domains, node)
		domain->iommu = clone_remap(map, domain->iommu);
	list_for_each_entry(group, &new->groups, node) {
		group->iommu = clone_remap(map, group->iommu);
		group->default_domain = clone_remap(map, group->default_domain);
		group->blocking_domain =
			clone_remap(map, group->blocking_domain);
		group->domain = clone_remap(map, group->domain);
		group->owner = clone_remap(map, group->owner);
		for_each_group_device(group, gdev)
			gdev->dev = clone_remap(map, gdev->dev);
	}
}

/* " LABEL=#N:TYPE" or " LABEL=-", at most 8 + CUR_NUM_MAX + 16 bytes */
#define SERIALIZED_DOMAIN_MAX (8 + CUR_NUM_MAX + DOMAIN_TYPE_NAME_MAX)
/* inline: @label is a literal, its length then known when compiled */
static inline __attribute__((always_inline)) char *
serialize_domain(char *p, struct ptrmap *ids, const char *label,
		 const struct iommu_domain *d)
{
	p = cur_putc(p, ' ');
	p = cur_putn(p, label, strlen(label));
	if (!d)
		return cur_putlit(p, "=-");
	p = cur_putlit(p, "=#");
	p = cur_putd(p, canon_id(ids, d));
	p = cur_putc(p, ':');
	return cur_put_domain_type(p, d->type);
}

static int cmp_dev_name(const void *a, const void *b)
{
	return strcmp((*(const struct device *const *)a)->name,
		      (*(const struct device *const *)b)->name);
}

static void iommu_subsys_serialize(const struct machine *m, struct sbuf *sb,
				   struct ptrmap *ids)
{
	const struct iommu_device *iommu;
	struct iommu_group *group;
	struct group_device *gdev;

	list_for_each_entry(iommu, &m->iommus, node) {
		sbuf_puts(sb, "iommu ");
		sbuf_puts(sb, iommu->name);
		sbuf_puts(sb, " types=");
		sbuf_putx_alt(sb, iommu->domain_types);
		sbuf_puts(sb, " reg=");
		sbuf_putd(sb, iommu->registered);
		sbuf_puts(sb, " msi=");
		sbuf_putd(sb, iommu->msi_isolated);
		sbuf_puts(sb, " kind=");
		sbuf_putd(sb, iommu_device_kind(iommu));
		/* the regions resv= gave; without, the kind's */
		for (unsigned int i = 0; iommu->resv_set && i < iommu->nr_resv;
		     i++)
			sbuf_printf(sb, " resv=%" PRIx64 "+%" PRIx64 ":%d",
				    iommu->resv[i].start, iommu->resv[i].length,
				    (int)iommu->resv[i].type);
		sbuf_puts(sb, iommu->resv_set ? " resv-set fail=" : " fail=");
		sbuf_putd(sb, iommu->attach_errno);
		sbuf_putc(sb, '\n');
	}
	list_for_each_entry(group, &m->groups, node) {
		size_t n = list_count_nodes(&group->devices), i = 0;
		/* most groups are small: no allocation per group per state */
		const struct device *few[16];
		const struct device **devs = n <= sizeof(few) / sizeof(few[0]) ?
						     few :
						     zalloc(n, sizeof(*devs));

		if (!devs) {
			sb->oom = true;
			return;
		}
		for_each_group_device(group, gdev)
			devs[i++] = gdev->dev;
		sort_unless_sorted(devs, n, sizeof(*devs), cmp_dev_name);
		/*
		 * "group %d iommu=%s key=%u ref=%u devs=%s,%s... owner=#%d|-
		 * cnt=%u def=.. blk=.. dom=.. [name=%s]", written piece by
		 * piece: the checker writes every group of every state.
		 */
		const char *iname = group->iommu ? group->iommu->name : "-";
		size_t iname_len = group->iommu ? group->iommu->name_len : 1;
		size_t gname_len = strlen(group->name);
		size_t room;
		char *p;

		self_check(iname_len == strlen(iname));
		room = 64 + iname_len + gname_len + n +
		       5 * CUR_NUM_MAX + 3 * SERIALIZED_DOMAIN_MAX;
		for (i = 0; i < n; i++)
			room += devs[i]->name_len;
		p = sbuf_room(sb, room);
		if (!p) {
			if (devs != few)
				free(devs);
			return;
		}
		p = cur_putlit(p, "group ");
		p = cur_putd(p, group->id);
		p = cur_putlit(p, " iommu=");
		p = cur_putn(p, iname, iname_len);
		p = cur_putlit(p, " key=");
		p = cur_putu(p, group->key);
		p = cur_putlit(p, " ref=");
		p = cur_putu(p, kref_read(&group->kref));
		p = cur_putlit(p, " devs=");
		for (i = 0; i < n; i++) {
			if (i)
				p = cur_putc(p, ',');
			p = cur_putn(p, devs[i]->name, devs[i]->name_len);
		}
		if (devs != few)
			free(devs);
		if (group->owner) {
			p = cur_putlit(p, " owner=#");
			p = cur_putd(p, canon_id(ids, group->owner));
		} else {
			p = cur_putlit(p, " owner=-");
		}
		p = cur_putlit(p, " cnt=");
		p = cur_putu(p, group->owner_cnt);
		p = serialize_domain(p, ids, "def", group->default_domain);
		p = serialize_domain(p, ids, "blk", group->blocking_domain);
		p = serialize_domain(p, ids, "dom", group->domain);
		if (group->name[0]) {
			p = cur_putlit(p, " name=");
			p = cur_putn(p, group->name, gname_len);
		}
		p = cur_putc(p, '\n');
		sbuf_commit(sb, p);
	}
}

static void iommu_subsys_destroy(struct machine *m)
{
	struct iommu_device *iommu, *ni;
	struct iommu_domain *domain, *nd;
	struct iommu_group *group, *ng;
	struct group_device *gdev, *ngdev;

	list_for_each_entry_safe(group, ng, &m->groups, node) {
		list_for_each_entry_safe(gdev, ngdev, &group->devices, list)
			machine_free(m, gdev, sizeof(*gdev));
		mutex_destroy(&group->mutex);
		machine_free(m, group, sizeof(*group));
	}
	INIT_LIST_HEAD(&m->groups);
	free(m->groups_by_id);
	m->groups_by_id = NULL;
	m->groups_cap = m->groups_free = m->groups_max = 0;
	strmap_free(&m->groups_by_key);
	list_for_each_entry_safe(domain, nd, &m->domains, node)
		machine_free(m, domain, sizeof(*domain));
	INIT_LIST_HEAD(&m->domains);
	list_for_each_entry_safe(iommu, ni, &m->iommus, node) {
		u64map_free(&iommu->streams);
		machine_free(m, iommu, sizeof(*iommu));
	}
	INIT_LIST_HEAD(&m->iommus);
}

const struct machine_subsys iommu_subsys = {
	.name = "iommu",
	.clone = iommu_subsys_clone,
	.fixup = iommu_subsys_fixup,
	.serialize = iommu_subsys_serialize,
	.destroy = iommu_subsys_destroy,
};

/*
 * Domains last: the ones no group or device named (a user's unattached
 * domain, or a leak) are listed by type, so they count in the state.
 */
static int nop_clone(const struct machine *old, struct machine *new,
		     struct ptrmap *map)
{
	(void)old;
	(void)new;
	(void)map;
	return 0;
}

static void nop_fixup(struct machine *new, const struct ptrmap *map)
{
	(void)new;
	(void)map;
}

static void nop_destroy(struct machine *m)
{
	(void)m;
}

struct named_domain {
	int id;
	const struct iommu_domain *domain;
};

static int cmp_named_domain(const void *a, const void *b)
{
	return ((const struct named_domain *)a)->id -
	       ((const struct named_domain *)b)->id;
}

static void domains_serialize(const struct machine *m, struct sbuf *sb,
			      struct ptrmap *ids)
{
	const struct iommu_domain *domain;
	unsigned int unnamed[5] = { 0 };
	size_t n = list_count_nodes(&m->domains), k = 0;
	struct named_domain *named = zalloc(n ? n : 1, sizeof(*named));

	if (!named) {
		sb->oom = true;
		return;
	}
	list_for_each_entry(domain, &m->domains, node) {
		void *id = ptrmap_get(ids, domain);

		if (id) {
			/* canon_id()'s number, found already: no second probe */
			named[k].id = (int)(intptr_t)id - 1;
			self_check(named[k].id == canon_id(ids, domain));
			named[k++].domain = domain;
		} else {
			unnamed[__builtin_ctz(domain->type)]++;
		}
	}
	sort_unless_sorted(named, k, sizeof(*named), cmp_named_domain);
	for (size_t i = 0; i < k; i++) {
		/* "domain #%d users=%u iommu=%s\n" */
		const char *iname = named[i].domain->iommu->name;
		size_t iname_len = named[i].domain->iommu->name_len;
		char *p = sbuf_room(sb, 32 + iname_len + 2 * CUR_NUM_MAX);

		if (!p)
			break;
		p = cur_putlit(p, "domain #");
		p = cur_putd(p, named[i].id);
		p = cur_putlit(p, " users=");
		p = cur_putu(p, named[i].domain->users);
		p = cur_putlit(p, " iommu=");
		p = cur_putn(p, iname, iname_len);
		p = cur_putc(p, '\n');
		sbuf_commit(sb, p);
	}
	free(named);
	for (unsigned int t = 0; t < 5; t++)
		if (unnamed[t])
			sbuf_printf(sb, "domains-unattached %s=%u\n",
				    iommu_domain_type_str(1u << t),
				    unnamed[t]);
}

const struct machine_subsys iommu_domains_subsys = {
	.name = "iommu-domains",
	.clone = nop_clone,
	.fixup = nop_fixup,
	.serialize = domains_serialize,
	.destroy = nop_destroy,
};
