// SPDX-License-Identifier: MIT
/*
 * The kernel's WARN sites the model's WARN_ON()s stand for, and their lines
 * in Linux v6.6: a WARN report gives "at drivers/iommu/iommu.c:LINE", and
 * users search for that line, so a report gives the kernel's line, not the
 * model's. The model's own checks (dmaown's dma_use accounting, its
 * reference counts, its VFIO bookkeeping) have no kernel site and are not
 * listed: their reports give the model's line.
 *
 * Where the lines come from. The only kernel sources at hand are Debian's
 * linux-source-6.1 (6.1.192) and linux-source-6.12 (6.12.117), on either
 * side of v6.6; neither is v6.6, so no line here can be copied from v6.6
 * itself. They were read site by site:
 *
 * - 6.1.192 predates the reworks of 6.2-6.6 that made the functions the
 *   model mirrors (device DMA ownership in 6.2; in 6.5-6.6 the probe path
 *   with iommu_group_alloc_device() and its group_device list,
 *   iommu_setup_default_domain(), __iommu_group_set_domain_internal() and
 *   its _nofail() form, the release of group domains). Twelve of the
 *   sixteen sites below do not exist in it, and the four that do sit in a
 *   file laid out differently above them.
 * - 6.12.117 has every site in the form v6.6 has it (same function, same
 *   condition, e.g. the pasid_array test that 6.1's
 *   iommu_device_unuse_default_domain() lacks and v6.6's has).
 *
 * So each line is 6.12.117's, the nearest source that has the v6.6 code;
 * the true v6.6 line differs by whatever 6.7-6.12 added above the site.
 * The two sources' lines, for the record:
 *
 *   site (function: condition)                      6.1.192   6.12.117
 *   __iommu_group_set_domain_nofail: set_domain...        -        122
 *   __iommu_probe_device: lockdep probe_device_lock     299        538
 *   __iommu_probe_device: default_domain && !domain       -        561
 *   __iommu_group_free_device: owner_cnt || ...           -        634
 *   iommu_group_release: default_domain                   -        940
 *   iommu_group_release: blocking_domain                  -        941
 *   iommu_get_default_domain_type: lockdep group          -       1733
 *   iommu_detach_device: domain != group->domain       2034       2149
 *   iommu_detach_device: devices != 1                  2035       2150
 *   __iommu_group_set_domain_internal: lockdep group      -       2314
 *   __iommu_group_set_domain_internal: revert attach      -       2362
 *   iommu_setup_default_domain: lockdep group             -       2960
 *   iommu_device_unuse_default_domain: !owner_cnt      3167       3157
 *   iommu_group_claim_dma_owner: !owner                   -       3218
 *   iommu_device_claim_dma_owner: !owner                  -       3250
 *   __iommu_release_dma_ownership: !owner_cnt...       3249(*)    3275
 *
 *   (*) in 6.1 the test is in iommu_group_release_dma_owner() itself.
 *
 * A lockdep_assert_held() is a WARN_ON() at its own line, as the kernel's
 * is with CONFIG_LOCKDEP.
 */
#include <string.h>

#include "compat/kernel.h"

struct warn_site {
	const char *file;	/* kernel-relative */
	const char *func;	/* the function the model's WARN is in */
	const char *cond;	/* part of its condition; NULL: any */
	int line;		/* the kernel's line (above) */
};

static const struct warn_site warn_sites[] = {
	{ "drivers/iommu/iommu.c", "__iommu_group_set_domain_nofail", NULL,
	  122 },
	{ "drivers/iommu/iommu.c", "__iommu_probe_device",
	  "iommu_probe_device_lock", 538 },
	{ "drivers/iommu/iommu.c", "__iommu_probe_device",
	  "group->default_domain && !group->domain", 561 },
	{ "drivers/iommu/iommu.c", "__iommu_group_free_device", NULL, 634 },
	{ "drivers/iommu/iommu.c", "iommu_group_release",
	  "group->default_domain", 940 },
	{ "drivers/iommu/iommu.c", "iommu_group_release",
	  "group->blocking_domain", 941 },
	{ "drivers/iommu/iommu.c", "iommu_get_default_domain_type",
	  "&group->mutex", 1733 },
	{ "drivers/iommu/iommu.c", "iommu_detach_device",
	  "domain != group->domain", 2149 },
	{ "drivers/iommu/iommu.c", "iommu_detach_device", "!= 1", 2150 },
	{ "drivers/iommu/iommu.c", "__iommu_group_set_domain_internal",
	  "&group->mutex", 2314 },
	{ "drivers/iommu/iommu.c", "__iommu_group_set_domain_internal",
	  "__iommu_device_set_domain", 2362 },
	{ "drivers/iommu/iommu.c", "iommu_setup_default_domain",
	  "&group->mutex", 2960 },
	{ "drivers/iommu/iommu.c", "iommu_device_unuse_default_domain", NULL,
	  3157 },
	{ "drivers/iommu/iommu.c", "iommu_group_claim_dma_owner", "!owner",
	  3218 },
	{ "drivers/iommu/iommu.c", "iommu_device_claim_dma_owner", "!owner",
	  3250 },
	{ "drivers/iommu/iommu.c", "__iommu_release_dma_ownership", NULL,
	  3275 },
};

int warn_site_upstream_line(const char *file, const char *func,
			    const char *cond)
{
	for (size_t i = 0; i < sizeof(warn_sites) / sizeof(warn_sites[0]);
	     i++) {
		const struct warn_site *s = &warn_sites[i];

		if (strcmp(s->file, file) || strcmp(s->func, func))
			continue;
		if (!s->cond || (cond && strstr(cond, s->cond)))
			return s->line;
	}
	return 0;
}
