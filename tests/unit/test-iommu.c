// SPDX-License-Identifier: MIT
/*
 * White-box unit tests of the iommu core (src/drivers/iommu/iommu.c) against
 * sections 2 and 3 of the ownership spec (shared/spec/ownership.md).
 *
 * There is one test per row of each condition table, and each checks every
 * side effect the spec names: the return code, the group's domain, owner and
 * owner_cnt, the domain every member translates through, and the WARNs
 * recorded. Most tests run on two IOMMU variants, one that can make
 * IOMMU_DOMAIN_BLOCKED domains and one that cannot (its blocking domain is
 * an empty UNMANAGED one). The teardown checks reference counts and that no
 * WARN went unaccounted for.
 *
 * Helpers come in three forms: _do_x() returns the result, do_x() asserts
 * success and err_x(ERRNO, ...) asserts that error; each also asserts that
 * nothing WARNed. For the void calls, warn_x() asserts exactly one WARN from
 * the function that should report it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dmaown/dmaown.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixture ---- */

struct variant {
	const char *name;
	unsigned int types;	/* IOMMU_DOMAIN_* the IOMMU driver can make */
};

static const struct variant var_blocked = {
	.name = "blocked",
	.types = IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY |
		 IOMMU_DOMAIN_DMA_FQ,
};

static const struct variant var_paging = {
	.name = "no-blocked",
	.types = IOMMU_DOMAIN_IDENTITY | IOMMU_DOMAIN_DMA_FQ,
};

#define MAX_HELD 8

struct fx {
	struct machine *m;
	struct iommu_device *iommu;	/* "smmu0", the variant's types */
	const struct variant *v;
	size_t warns;			/* WARNs accounted for so far */
	struct iommu_group *held[MAX_HELD]; /* group references we hold */
	unsigned int nheld;
};

/* The fixture of the running test (cmocka runs one test at a time). */
static struct fx *self;

/* Owner cookies: a VFIO group, two iommufd contexts. */
static char cookie_a, cookie_b, cookie_c;
#define OWNER_A ((void *)&cookie_a)
#define OWNER_B ((void *)&cookie_b)
#define OWNER_C ((void *)&cookie_c)

static void verify(bool ok, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

static void verify(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	_fail(file, line);
}

/*
 * The WARNs recorded since the last check must be none (@func NULL), or
 * exactly one, from @func.
 */
static void check_warns_at(const char *file, int line, const char *func)
{
	size_t now = machine_warn_count(self->m), want = self->warns + !!func;
	const struct warn_report *w;

	if (now != want) {
		for (size_t i = self->warns; i < now; i++) {
			w = machine_warn(self->m, i);
			if (w)
				print_error("WARN in %s(): %s\n", w->func,
					    w->cond);
		}
		verify(false, file, line, "%zu WARNs, expected %zu",
		       now - self->warns, want - self->warns);
	}
	if (func) {
		w = machine_warn(self->m, self->warns);
		verify(w && !strcmp(w->func, func), file, line,
		       "WARN in %s(), expected one in %s()",
		       w ? w->func : "?", func);
	}
	self->warns = now;
}

#define assert_no_new_warn() check_warns_at(__FILE__, __LINE__, NULL)
#define assert_warned(func) check_warns_at(__FILE__, __LINE__, func)

/* @call must return @want and WARN in @func (NULL: not WARN at all). */
#define assert_rc_warn(want, call, func)                                  \
	do {                                                               \
		int want_ = (want), rc_ = (call);                          \
		if (rc_ != want_)                                          \
			fail_msg("%s returned %s, expected %s", #call,     \
				 errno_name(rc_), errno_name(want_));      \
		check_warns_at(__FILE__, __LINE__, func);                  \
	} while (0)

#define assert_rc(want, call) assert_rc_warn(want, call, NULL)

/* A void call, then the WARN it must (or must not, @func NULL) report. */
#define void_call(call, func)                                             \
	do {                                                               \
		call;                                                      \
		check_warns_at(__FILE__, __LINE__, func);                  \
	} while (0)

static const char *dom_str(const struct iommu_group *g,
			   const struct iommu_domain *d)
{
	if (!d)
		return "no domain";
	if (g && d == g->default_domain)
		return "the default domain";
	if (g && d == g->blocking_domain)
		return "the blocking domain";
	return iommu_domain_type_str(d->type);
}

static bool domain_listed(struct machine *m, const struct iommu_domain *d)
{
	struct iommu_domain *pos;

	list_for_each_entry(pos, &m->domains, node)
		if (pos == d)
			return true;
	return false;
}

static unsigned int count_domains(struct machine *m)
{
	return (unsigned int)list_count_nodes(&m->domains);
}

static unsigned int held_refs(const struct iommu_group *g)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < self->nheld; i++)
		n += self->held[i] == g;
	return n;
}

static bool is_member(struct iommu_group *g, struct device *dev)
{
	struct group_device *gdev;

	for_each_group_device(g, gdev)
		if (gdev->dev == dev)
			return true;
	return false;
}

/*
 * Invariants that hold between any two calls: a group's kref is one per
 * member plus the references the test holds; members translate through the
 * group's domain; a domain's users are the devices attached to it; every
 * domain a group names is alive; no WARN went unaccounted for.
 */
static void check_state_at(const char *file, int line)
{
	struct machine *m = self->m;
	struct group_device *gdev;
	struct iommu_group *g;
	struct iommu_domain *d;
	struct device *dev;

	list_for_each_entry(g, &m->groups, node) {
		unsigned int members = 0;

		for_each_group_device(g, gdev) {
			members++;
			verify(gdev->dev->iommu_group == g, file, line,
			       "%s is in group %d's list, not pointing at it",
			       gdev->dev->name, g->id);
			verify(gdev->dev->iommu_domain == g->domain, file, line,
			       "%s is on %s, group %d on %s", gdev->dev->name,
			       dom_str(g, gdev->dev->iommu_domain), g->id,
			       dom_str(g, g->domain));
		}
		verify(kref_read(&g->kref) == members + held_refs(g), file,
		       line, "group %d: kref %u, %u members, %u held", g->id,
		       kref_read(&g->kref), members, held_refs(g));
		verify(!g->owner || g->owner_cnt, file, line,
		       "group %d has an owner but owner_cnt 0", g->id);
		if (!members)
			verify(!g->domain && !g->default_domain &&
			       !g->blocking_domain, file, line,
			       "empty group %d kept a domain", g->id);
		else if (g->default_domain)
			verify(g->domain != NULL, file, line,
			       "group %d has a default domain, none attached",
			       g->id);
		verify((!g->domain || domain_listed(m, g->domain)) &&
		       (!g->default_domain ||
			domain_listed(m, g->default_domain)) &&
		       (!g->blocking_domain ||
			domain_listed(m, g->blocking_domain)),
		       file, line, "group %d names a freed domain", g->id);
	}
	list_for_each_entry(dev, &m->devices, node) {
		if (dev->iommu_group)
			verify(is_member(dev->iommu_group, dev), file, line,
			       "%s points at group %d but is not listed",
			       dev->name, dev->iommu_group->id);
		else
			verify(!dev->iommu_domain, file, line,
			       "%s has a domain but no group", dev->name);
	}
	list_for_each_entry(d, &m->domains, node) {
		unsigned int users = 0;

		list_for_each_entry(dev, &m->devices, node)
			users += dev->iommu_domain == d;
		verify(d->users == users, file, line,
		       "%s domain: users %u, %u devices attached",
		       iommu_domain_type_str(d->type), d->users, users);
	}
	check_warns_at(file, line, NULL);
}

#define check_state() check_state_at(__FILE__, __LINE__)

/* A machine with one registered IOMMU of @types, or none for @types 0. */
static void fx_init(struct fx *fx, const struct machine_config *cfg,
		    unsigned int types)
{
	memset(fx, 0, sizeof(*fx));
	fx->m = machine_create("test-iommu", cfg);
	assert_non_null(fx->m);
	self = fx;
	if (!types)
		return;
	fx->iommu = iommu_device_alloc(fx->m, "smmu0", types);
	assert_false(IS_ERR(fx->iommu));
	assert_int_equal(iommu_device_register(fx->iommu), 0);
}

static void fx_fini(struct fx *fx)
{
	self = fx;
	check_state();
	while (fx->nheld)
		iommu_group_put(fx->held[--fx->nheld]);
	assert_no_new_warn();
	machine_destroy(fx->m);
	self = NULL;
}

static int setup_variant(void **state)
{
	const struct variant *v = *state;
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx_init(fx, NULL, v->types);
	fx->v = v;
	*state = fx;
	return 0;
}

static int teardown_fx(void **state)
{
	struct fx *fx = *state;

	fx_fini(fx);
	free(fx);
	return 0;
}

/* For tests that make machines of their own. */
static int setup_bare(void **state)
{
	(void)state;
	self = NULL;
	return 0;
}

static int teardown_bare(void **state)
{
	(void)state;
	assert_null(self);
	return 0;
}

/* ---- helpers: the three forms ---- */

static int _do_probe(struct device *dev)
{
	return iommu_probe_device(dev);
}
#define do_probe(dev) assert_rc(0, _do_probe(dev))
#define err_probe(err, dev) assert_rc(err, _do_probe(dev))

static int _do_register(struct iommu_device *iommu)
{
	return iommu_device_register(iommu);
}
#define do_register(iommu) assert_rc(0, _do_register(iommu))
#define err_register(err, iommu) assert_rc(err, _do_register(iommu))

static int _do_use(struct device *dev)
{
	return iommu_device_use_default_domain(dev);
}
#define do_use(dev) assert_rc(0, _do_use(dev))
#define err_use(err, dev) assert_rc(err, _do_use(dev))

#define do_unuse(dev) \
	void_call(iommu_device_unuse_default_domain(dev), NULL)
#define warn_unuse(dev)                                                  \
	void_call(iommu_device_unuse_default_domain(dev),                 \
		  "iommu_device_unuse_default_domain")

static int _do_claim(struct iommu_group *g, void *owner)
{
	return iommu_group_claim_dma_owner(g, owner);
}
#define do_claim(g, owner) assert_rc(0, _do_claim(g, owner))
#define err_claim(err, g, owner) assert_rc(err, _do_claim(g, owner))

#define do_release(g) void_call(iommu_group_release_dma_owner(g), NULL)
#define warn_release(g)                                                  \
	void_call(iommu_group_release_dma_owner(g),                       \
		  "__iommu_release_dma_ownership")

static int _do_dev_claim(struct device *dev, void *owner)
{
	return iommu_device_claim_dma_owner(dev, owner);
}
#define do_dev_claim(dev, owner) assert_rc(0, _do_dev_claim(dev, owner))
#define err_dev_claim(err, dev, owner) \
	assert_rc(err, _do_dev_claim(dev, owner))

#define do_dev_release(dev) \
	void_call(iommu_device_release_dma_owner(dev), NULL)
#define warn_dev_release(dev)                                            \
	void_call(iommu_device_release_dma_owner(dev),                    \
		  "__iommu_release_dma_ownership")

static int _do_attach_group(struct iommu_domain *d, struct iommu_group *g)
{
	return iommu_attach_group(d, g);
}
#define do_attach_group(d, g) assert_rc(0, _do_attach_group(d, g))
#define err_attach_group(err, d, g) assert_rc(err, _do_attach_group(d, g))

#define do_detach_group(d, g) void_call(iommu_detach_group(d, g), NULL)

static int _do_attach_dev(struct iommu_domain *d, struct device *dev)
{
	return iommu_attach_device(d, dev);
}
#define do_attach_dev(d, dev) assert_rc(0, _do_attach_dev(d, dev))
#define err_attach_dev(err, d, dev) assert_rc(err, _do_attach_dev(d, dev))

#define do_detach_dev(d, dev) void_call(iommu_detach_device(d, dev), NULL)
#define warn_detach_dev(d, dev) \
	void_call(iommu_detach_device(d, dev), "iommu_detach_device")

static int _do_store(struct iommu_group *g, const char *buf)
{
	return iommu_group_store_type(g, buf);
}
#define do_store(g, buf) assert_rc(0, _do_store(g, buf))
#define err_store(err, g, buf) assert_rc(err, _do_store(g, buf))

/* ---- helpers: objects ---- */

/* An added device that is not probed. */
static struct device *new_dev_on(struct iommu_device *iommu, const char *name,
				 unsigned int key)
{
	struct device *dev = device_alloc(self->m, name, NULL);

	assert_false(IS_ERR(dev));
	assert_int_equal(device_set_fw_iommu(dev, iommu, key), 0);
	assert_int_equal(device_add(dev), 0);
	return dev;
}

/* A device probed into its group behind @iommu. */
static struct device *add_dev_on(struct iommu_device *iommu, const char *name,
				 unsigned int key)
{
	struct device *dev = new_dev_on(iommu, name, key);

	do_probe(dev);
	assert_non_null(dev->iommu_group);
	return dev;
}

static struct device *add_dev(const char *name, unsigned int key)
{
	return add_dev_on(self->iommu, name, key);
}

static struct iommu_device *new_iommu(const char *name, unsigned int types)
{
	struct iommu_device *iommu = iommu_device_alloc(self->m, name, types);

	assert_false(IS_ERR(iommu));
	return iommu;
}

/* A VFIO type1 / iommufd paging domain on @dev's IOMMU. */
static struct iommu_domain *user_domain(struct device *dev)
{
	struct iommu_domain *d = iommu_paging_domain_alloc(dev);

	assert_false(IS_ERR(d));
	assert_int_equal(iommu_domain_type(d), IOMMU_DOMAIN_UNMANAGED);
	return d;
}

#define free_domain(d) void_call(iommu_domain_free(d), NULL)

static struct iommu_group *hold_group(struct device *dev)
{
	struct iommu_group *g = iommu_group_get(dev);

	assert_non_null(g);
	assert_true(self->nheld < MAX_HELD);
	self->held[self->nheld++] = g;
	return g;
}

static void unhold_group(struct iommu_group *g)
{
	for (unsigned int i = 0; i < self->nheld; i++) {
		if (self->held[i] != g)
			continue;
		self->held[i] = self->held[--self->nheld];
		iommu_group_put(g);
		return;
	}
	fail_msg("group not held");
}

static bool log_has(size_t from, const char *text)
{
	for (size_t i = from; i < machine_log_count(self->m); i++)
		if (strstr(machine_log_entry(self->m, i)->text, text))
			return true;
	return false;
}

#define FW_DIRECT_MSG                                                     \
	"Firmware has requested this device have a 1:1 IOMMU mapping, "   \
	"rejecting configuring the device without a 1:1 mapping. "        \
	"Contact your platform vendor."

#define FALLBACK_MSG "Falling back to IOMMU_DOMAIN_DMA"

/*
 * The group's state as the spec names it: its domain, owner, owner_cnt, the
 * domain each member translates through, and claimed == (owner_cnt != 0).
 * Read through the public accessors and compared with the fields.
 */
static void check_group_at(const char *file, int line, struct iommu_group *g,
			   struct iommu_domain *dom, void *owner,
			   unsigned int cnt)
{
	struct iommu_group_info info;
	struct group_device *gdev;

	verify(g != NULL, file, line, "no group");
	iommu_group_get_info(g, &info);
	verify(info.domain == dom && g->domain == dom, file, line,
	       "group %d on %s, expected %s", g->id, dom_str(g, g->domain),
	       dom_str(g, dom));
	verify(info.owner == owner && g->owner == owner, file, line,
	       "group %d: owner %p, expected %p", g->id, g->owner, owner);
	verify(info.owner_cnt == cnt && g->owner_cnt == cnt, file, line,
	       "group %d: owner_cnt %u, expected %u", g->id, g->owner_cnt,
	       cnt);
	for_each_group_device(g, gdev)
		verify(iommu_device_domain(gdev->dev) == dom, file, line,
		       "%s on %s, expected %s", gdev->dev->name,
		       dom_str(g, gdev->dev->iommu_domain), dom_str(g, dom));
	verify(iommu_group_dma_owner_claimed(g) == (cnt != 0), file, line,
	       "group %d: claimed() disagrees with owner_cnt %u", g->id,
	       cnt);
	check_warns_at(file, line, NULL);
}

#define check_group(g, dom, owner, cnt) \
	check_group_at(__FILE__, __LINE__, g, dom, owner, cnt)

/* ---- helpers: snapshots of the whole machine ---- */

struct snap {
	char *text;		/* machine_serialize() */
	size_t warns;		/* self->warns when taken */
	uint64_t had_blk;	/* bit N: group N had a blocking domain */
};

static void snap_take(struct snap *s)
{
	struct iommu_group *g;

	s->text = machine_serialize(self->m, NULL);
	assert_non_null(s->text);
	s->warns = self->warns;
	s->had_blk = 0;
	list_for_each_entry(g, &self->m->groups, node) {
		assert_true(g->id < 64);
		if (g->blocking_domain)
			s->had_blk |= 1ull << g->id;
	}
}

static void snap_free(struct snap *s)
{
	free(s->text);
	s->text = NULL;
}

/* Skip the header line (it holds the WARN count) when WARNs were expected. */
static const char *state_body(const char *text, bool skip_header)
{
	const char *nl = strchr(text, '\n');

	return skip_header && nl ? nl + 1 : text;
}

/*
 * The machine must be in the state @s recorded. With @allow_new_blk, a
 * blocking domain made since is ignored if nothing is attached to it: a
 * claim makes it before it attaches anything, and a claim that fails after
 * that keeps it for the next one, as upstream does.
 */
static void check_unchanged_at(const char *file, int line, struct snap *s,
			       bool allow_new_blk)
{
	struct machine *m = self->m, *c = NULL;
	bool skip = self->warns != s->warns;
	struct iommu_group *g;
	char *now;

	if (allow_new_blk) {
		c = machine_clone(m);
		verify(c != NULL, file, line, "machine_clone() failed");
		list_for_each_entry(g, &c->groups, node) {
			struct iommu_domain *blk = g->blocking_domain;

			if (!blk || (s->had_blk & (1ull << g->id)))
				continue;
			verify(!blk->users && g->domain != blk, file, line,
			       "group %d is left on its new blocking domain",
			       g->id);
			list_del(&blk->node);
			machine_free(c, blk, sizeof(*blk));
			g->blocking_domain = NULL;
		}
		m = c;
	}
	now = machine_serialize(m, NULL);
	machine_destroy(c);
	verify(now != NULL, file, line, "machine_serialize() failed");
	if (strcmp(state_body(s->text, skip), state_body(now, skip))) {
		print_error("state changed\n--- before\n%s--- after\n%s",
			    s->text, now);
		free(now);
		_fail(file, line);
	}
	free(now);
}

#define check_unchanged(s) check_unchanged_at(__FILE__, __LINE__, s, false)
#define check_unchanged_but_blk(s) \
	check_unchanged_at(__FILE__, __LINE__, s, true)

/* ---- 2. iommu_device_use_default_domain ---- */

/* | device has no group | 0, nothing counted | */
static void use_no_group(void **state)
{
	struct device *bare = new_dev_on(NULL, "0000:00:1f.0", 0);
	struct device *unprobed = new_dev_on(self->iommu, "0000:00:1f.1", 0);
	struct snap s;

	(void)state;
	snap_take(&s);
	do_use(bare);
	do_use(unprobed);
	check_unchanged(&s);
	assert_null(bare->iommu_group);
	assert_null(unprobed->iommu_group);
	snap_free(&s);
}

/* | owner_cnt == 0 | owner_cnt++, 0 |; no domain attached or detached */
static void use_first_counts(void **state)
{
	struct device *dev = add_dev("0000:00:01.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *def = g->default_domain;
	unsigned long sites;

	(void)state;
	check_group(g, def, NULL, 0);
	sites = machine_fault_sites(self->m);
	do_use(dev);
	check_group(g, def, NULL, 1);
	assert_int_equal(def->users, 1);
	/* no attach op ran, no allocation was made */
	assert_int_equal(machine_fault_sites(self->m), sites);
}

/* | owner_cnt > 0 and owner != NULL | -EBUSY, no change |: a user claim */
static void use_busy_user_owned(void **state)
{
	struct device *a = add_dev("0000:00:02.0", 2);
	struct device *b = add_dev("0000:00:02.1", 2);
	struct iommu_group *g = a->iommu_group;
	struct snap s;

	(void)state;
	do_claim(g, OWNER_A);
	snap_take(&s);
	err_use(-EBUSY, a);
	err_use(-EBUSY, b);
	check_unchanged(&s);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	snap_free(&s);
	do_release(g);
	check_group(g, g->default_domain, NULL, 0);
}

/*
 * | owner_cnt > 0 and owner != NULL | -EBUSY |, with the group on its
 * default domain: a user that attached the default domain as its own. Only
 * the owner test refuses this one.
 */
static void use_busy_owner_on_default(void **state)
{
	struct device *dev = add_dev("0000:00:03.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *def = g->default_domain;
	struct snap s;

	(void)state;
	do_claim(g, OWNER_A);
	do_attach_group(def, g);
	check_group(g, def, OWNER_A, 1);
	snap_take(&s);
	err_use(-EBUSY, dev);
	check_unchanged(&s);
	snap_free(&s);
	do_detach_group(def, g);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	check_group(g, def, NULL, 0);
}

/*
 * | owner_cnt > 0 and domain != default_domain | -EBUSY |: a kernel user
 * and a user domain on the same group.
 */
static void use_busy_foreign_domain(void **state)
{
	struct device *a = add_dev("0000:00:04.0", 4);
	struct device *b = add_dev("0000:00:04.1", 4);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain, *ud = user_domain(a);
	struct snap s;

	(void)state;
	do_use(a);
	do_attach_group(ud, g);
	check_group(g, ud, NULL, 1);
	snap_take(&s);
	err_use(-EBUSY, b);
	err_use(-EBUSY, a);
	check_unchanged(&s);
	snap_free(&s);
	do_detach_group(ud, g);
	check_group(g, def, NULL, 1);
	do_use(b);
	check_group(g, def, NULL, 2);
	free_domain(ud);
}

/* | owner_cnt > 0 otherwise | owner_cnt++, 0 |: one count per driver */
static void use_shared_counts(void **state)
{
	struct device *a = add_dev("0000:00:05.0", 5);
	struct device *b = add_dev("0000:00:05.1", 5);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain;

	(void)state;
	assert_ptr_equal(b->iommu_group, g);
	do_use(a);
	check_group(g, def, NULL, 1);
	do_use(b);
	check_group(g, def, NULL, 2);
	assert_int_equal(def->users, 2);
}

/* ---- 2. iommu_device_unuse_default_domain ---- */

/* No group: nothing (no count, no WARN). */
static void unuse_no_group(void **state)
{
	struct device *bare = new_dev_on(NULL, "0000:00:1f.0", 0);
	struct snap s;

	(void)state;
	snap_take(&s);
	do_unuse(bare);
	check_unchanged(&s);
	snap_free(&s);
}

/* owner_cnt == 0: WARN, nothing else. */
static void unuse_unbalanced_warns(void **state)
{
	struct device *dev = add_dev("0000:00:06.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	snap_take(&s);
	warn_unuse(dev);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
}

/* Else owner_cnt--; the domain stays. */
static void unuse_decrements(void **state)
{
	struct device *a = add_dev("0000:00:07.0", 7);
	struct device *b = add_dev("0000:00:07.1", 7);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain;

	(void)state;
	do_use(a);
	do_use(b);
	check_group(g, def, NULL, 2);
	do_unuse(a);
	check_group(g, def, NULL, 1);
	do_unuse(b);
	check_group(g, def, NULL, 0);
	warn_unuse(b);
	check_group(g, def, NULL, 0);
}

/* ---- 2. iommu_group_claim_dma_owner ---- */

/* | owner == NULL | WARN, -EINVAL |; a NULL group is the stub's -ENODEV */
static void claim_null_owner(void **state)
{
	struct device *dev = add_dev("0000:00:08.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	snap_take(&s);
	assert_rc_warn(-EINVAL, _do_claim(g, NULL),
		       "iommu_group_claim_dma_owner");
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	assert_null(g->blocking_domain);
	err_claim(-ENODEV, NULL, OWNER_A);
	snap_free(&s);
}

/* | owner_cnt != 0 (a kernel user) | -EPERM | */
static void claim_kernel_user_eperm(void **state)
{
	struct device *a = add_dev("0000:00:09.0", 9);
	struct device *b = add_dev("0000:00:09.1", 9);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain;
	struct snap s;

	(void)state;
	do_use(b);
	snap_take(&s);
	err_claim(-EPERM, g, OWNER_A);
	check_unchanged(&s);
	check_group(g, def, NULL, 1);
	snap_free(&s);
	/* once the driver is gone the claim works */
	do_unuse(b);
	do_claim(g, OWNER_A);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
}

/* | owner_cnt != 0 (another owner) | -EPERM |; the same owner again too */
static void claim_owned_eperm(void **state)
{
	struct device *dev = add_dev("0000:00:0a.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	do_claim(g, OWNER_A);
	snap_take(&s);
	err_claim(-EPERM, g, OWNER_B);
	err_claim(-EPERM, g, OWNER_A);
	check_unchanged(&s);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	snap_free(&s);
	do_release(g);

	/* a per-device claim holds the group just as well */
	do_dev_claim(dev, OWNER_C);
	snap_take(&s);
	err_claim(-EPERM, g, OWNER_A);
	err_claim(-EPERM, g, OWNER_C);
	check_unchanged(&s);
	check_group(g, g->blocking_domain, OWNER_C, 1);
	snap_free(&s);
	do_dev_release(dev);
	check_group(g, g->default_domain, NULL, 0);
}

/* | domain != NULL and domain != default_domain | -EBUSY | */
static void claim_foreign_domain_ebusy(void **state)
{
	struct device *dev = add_dev("0000:00:0b.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *ud = user_domain(dev);
	struct snap s;

	(void)state;
	do_attach_group(ud, g);
	snap_take(&s);
	err_claim(-EBUSY, g, OWNER_A);
	err_dev_claim(-EBUSY, dev, OWNER_A);
	/* refused before anything is made: not even a blocking domain */
	check_unchanged(&s);
	check_group(g, ud, NULL, 0);
	assert_null(g->blocking_domain);
	snap_free(&s);
	do_detach_group(ud, g);
	do_claim(g, OWNER_A);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	free_domain(ud);
}

/*
 * | blocking domain cannot be made | -EINVAL |: the IOMMU driver has no
 * BLOCKED type and the empty paging domain it falls back to cannot be
 * allocated either.
 */
static void claim_no_blocking_domain_einval(void **state)
{
	struct device *dev = add_dev("0000:00:0c.0", 0);
	struct iommu_group *g = dev->iommu_group;
	unsigned int types = self->iommu->domain_types;
	struct snap s;

	(void)state;
	self->iommu->domain_types &= ~IOMMU_DOMAIN_BLOCKED;
	snap_take(&s);
	machine_set_fail_nth(self->m, 1);
	err_claim(-EINVAL, g, OWNER_A);
	assert_true(machine_fault_fired(self->m));
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	assert_null(g->blocking_domain);

	machine_set_fail_nth(self->m, 1);
	err_dev_claim(-EINVAL, dev, OWNER_A);
	assert_true(machine_fault_fired(self->m));
	check_unchanged(&s);
	snap_free(&s);
	machine_set_fail_nth(self->m, 0);
	self->iommu->domain_types = types;
}

/*
 * | a member has firmware direct-map regions | -EINVAL, with the firmware
 * message |: the member listed first was moved and is moved back.
 */
static void claim_resv_direct_einval(void **state)
{
	struct device *a = add_dev("0000:00:0d.0", 13);
	struct device *b = new_dev_on(self->iommu, "0000:00:0d.1", 13);
	struct iommu_group *g;
	size_t logs;
	struct snap s;

	(void)state;
	device_set_require_direct(b, true);
	do_probe(b);
	g = a->iommu_group;
	assert_ptr_equal(b->iommu_group, g);
	check_group(g, g->default_domain, NULL, 0);

	logs = machine_log_count(self->m);
	snap_take(&s);
	err_claim(-EINVAL, g, OWNER_A);
	assert_true(log_has(logs, "0000:00:0d.1: " FW_DIRECT_MSG));
	check_unchanged_but_blk(&s);
	check_group(g, g->default_domain, NULL, 0);

	logs = machine_log_count(self->m);
	err_dev_claim(-EINVAL, a, OWNER_A);
	assert_true(log_has(logs, FW_DIRECT_MSG));
	check_unchanged_but_blk(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);

	/* and a kernel driver may still use the group */
	do_use(a);
	check_group(g, g->default_domain, NULL, 1);
}

/* | attaching the blocking domain fails | that error, owner not set | */
static void claim_attach_error(void **state)
{
	struct device *a = add_dev("0000:00:0e.0", 14);
	struct iommu_group *g = a->iommu_group;
	struct snap s;

	(void)state;
	add_dev("0000:00:0e.1", 14);
	iommu_device_set_attach_error(self->iommu, -EIO);
	snap_take(&s);
	err_claim(-EIO, g, OWNER_A);
	check_unchanged_but_blk(&s);
	check_group(g, g->default_domain, NULL, 0);
	err_dev_claim(-EIO, a, OWNER_A);
	check_unchanged_but_blk(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
	iommu_device_set_attach_error(self->iommu, 0);
	do_claim(g, OWNER_A);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
}

/* | otherwise | domain = blocking domain, owner set, owner_cnt = 1, 0 | */
static void claim_takes_group(void **state)
{
	struct device *a = add_dev("0000:00:0f.0", 15);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain;

	(void)state;
	add_dev("0000:00:0f.1", 15);
	do_claim(g, OWNER_A);
	assert_non_null(g->blocking_domain);
	assert_ptr_not_equal(g->blocking_domain, def);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	assert_int_equal(g->blocking_domain->users, 2);
	/* the default domain is kept for the release */
	assert_ptr_equal(g->default_domain, def);
	assert_int_equal(def->users, 0);
	do_release(g);
}

/* ---- 2. iommu_group_release_dma_owner ---- */

/* owner_cnt == 0: WARN, return. */
static void release_unclaimed_warns(void **state)
{
	struct device *dev = add_dev("0000:00:10.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	snap_take(&s);
	warn_release(g);
	warn_dev_release(dev);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
}

/* owner == NULL (a kernel driver's count): WARN, return. */
static void release_kernel_use_warns(void **state)
{
	struct device *dev = add_dev("0000:00:11.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	do_use(dev);
	snap_take(&s);
	warn_release(g);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 1);
	snap_free(&s);
}

/* Else owner_cnt = 0, owner = NULL, the group back on default_domain. */
static void release_restores_default(void **state)
{
	struct device *a = add_dev("0000:00:12.0", 18);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain, *blk;

	(void)state;
	add_dev("0000:00:12.1", 18);
	do_claim(g, OWNER_A);
	blk = g->blocking_domain;
	do_release(g);
	check_group(g, def, NULL, 0);
	assert_int_equal(def->users, 2);
	assert_int_equal(blk->users, 0);
	/* the blocking domain stays for the next claim */
	assert_ptr_equal(g->blocking_domain, blk);
	/* a second release is unbalanced */
	warn_release(g);
	check_group(g, def, NULL, 0);
	/* and a kernel driver may use the group again */
	do_use(a);
	check_group(g, def, NULL, 1);
}

/* Release with a user domain still attached: back on the default domain. */
static void release_from_user_domain(void **state)
{
	struct device *dev = add_dev("0000:00:13.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *ud = user_domain(dev);

	(void)state;
	do_claim(g, OWNER_A);
	do_attach_group(ud, g);
	check_group(g, ud, OWNER_A, 1);
	do_release(g);
	check_group(g, g->default_domain, NULL, 0);
	assert_int_equal(ud->users, 0);
	free_domain(ud);
}

/* A NULL group (the no-IOMMU case) is accepted silently. */
static void release_null_group(void **state)
{
	struct snap s;

	(void)state;
	snap_take(&s);
	do_release(NULL);
	check_unchanged(&s);
	snap_free(&s);
}

/* ---- 2. iommu_group_dma_owner_claimed ---- */

/* owner_cnt != 0: true for kernel-driver use and for user ownership. */
static void claimed_is_owner_cnt(void **state)
{
	struct device *dev = add_dev("0000:00:14.0", 0);
	struct iommu_group *g = dev->iommu_group;

	(void)state;
	assert_false(iommu_group_dma_owner_claimed(NULL));
	assert_false(iommu_group_dma_owner_claimed(g));
	do_use(dev);
	assert_true(iommu_group_dma_owner_claimed(g));
	do_unuse(dev);
	assert_false(iommu_group_dma_owner_claimed(g));
	do_claim(g, OWNER_A);
	assert_true(iommu_group_dma_owner_claimed(g));
	do_release(g);
	assert_false(iommu_group_dma_owner_claimed(g));
	do_dev_claim(dev, OWNER_B);
	assert_true(iommu_group_dma_owner_claimed(g));
	do_dev_release(dev);
	assert_false(iommu_group_dma_owner_claimed(g));
	assert_no_new_warn();
}

/* ---- 2. per-device claim (iommufd) ---- */

/* owner NULL: WARN, -EINVAL (before the group is looked at). */
static void dev_claim_null_owner(void **state)
{
	struct device *dev = add_dev("0000:00:15.0", 0);
	struct device *bare = new_dev_on(NULL, "0000:00:15.1", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	snap_take(&s);
	assert_rc_warn(-EINVAL, _do_dev_claim(dev, NULL),
		       "iommu_device_claim_dma_owner");
	assert_rc_warn(-EINVAL, _do_dev_claim(bare, NULL),
		       "iommu_device_claim_dma_owner");
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
}

/* no group: -ENODEV */
static void dev_claim_no_group(void **state)
{
	struct device *bare = new_dev_on(NULL, "0000:00:16.0", 0);
	struct device *unprobed = new_dev_on(self->iommu, "0000:00:16.1", 0);
	struct snap s;

	(void)state;
	snap_take(&s);
	err_dev_claim(-ENODEV, bare, OWNER_A);
	err_dev_claim(-ENODEV, unprobed, OWNER_A);
	do_dev_release(bare);
	check_unchanged(&s);
	snap_free(&s);
}

/*
 * owner_cnt == 0: ownership taken as the group claim does; owner_cnt > 0
 * and the same cookie: owner_cnt++; release: owner_cnt-- while > 1, the
 * last one gives the group back on its default domain.
 */
static void dev_claim_shares_cookie(void **state)
{
	struct device *a = add_dev("0000:00:17.0", 23);
	struct device *b = add_dev("0000:00:17.1", 23);
	struct device *c = add_dev("0000:00:17.2", 23);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain, *blk;

	(void)state;
	do_dev_claim(a, OWNER_B);
	blk = g->blocking_domain;
	assert_non_null(blk);
	check_group(g, blk, OWNER_B, 1);
	do_dev_claim(b, OWNER_B);
	check_group(g, blk, OWNER_B, 2);
	do_dev_claim(c, OWNER_B);
	check_group(g, blk, OWNER_B, 3);
	assert_int_equal(blk->users, 3);

	do_dev_release(b);
	check_group(g, blk, OWNER_B, 2);
	do_dev_release(a);
	check_group(g, blk, OWNER_B, 1);
	do_dev_release(c);
	check_group(g, def, NULL, 0);
	assert_int_equal(def->users, 3);
	assert_int_equal(blk->users, 0);
	warn_dev_release(c);
	check_group(g, def, NULL, 0);
}

/* A group claim's cookie is shared by a per-device claim with that cookie. */
static void dev_claim_joins_group_claim(void **state)
{
	struct device *a = add_dev("0000:00:18.0", 24);
	struct device *b = add_dev("0000:00:18.1", 24);
	struct iommu_group *g = a->iommu_group;

	(void)state;
	do_claim(g, OWNER_A);
	do_dev_claim(b, OWNER_A);
	check_group(g, g->blocking_domain, OWNER_A, 2);
	do_dev_release(b);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	check_group(g, g->default_domain, NULL, 0);
}

/* owner_cnt > 0 and another cookie: -EPERM */
static void dev_claim_other_cookie_eperm(void **state)
{
	struct device *a = add_dev("0000:00:19.0", 25);
	struct device *b = add_dev("0000:00:19.1", 25);
	struct iommu_group *g = a->iommu_group;
	struct snap s;

	(void)state;
	do_dev_claim(a, OWNER_B);
	snap_take(&s);
	err_dev_claim(-EPERM, b, OWNER_C);
	err_dev_claim(-EPERM, a, OWNER_C);
	check_unchanged(&s);
	check_group(g, g->blocking_domain, OWNER_B, 1);
	snap_free(&s);
	do_dev_release(a);

	/* a VFIO group claim is another owner too */
	do_claim(g, OWNER_A);
	snap_take(&s);
	err_dev_claim(-EPERM, b, OWNER_B);
	check_unchanged(&s);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	snap_free(&s);
	do_release(g);
}

/* owner_cnt > 0 because of a kernel driver: -EPERM (owner NULL != cookie) */
static void dev_claim_kernel_user_eperm(void **state)
{
	struct device *a = add_dev("0000:00:1a.0", 26);
	struct device *b = add_dev("0000:00:1a.1", 26);
	struct iommu_group *g = a->iommu_group;
	struct snap s;

	(void)state;
	do_use(a);
	snap_take(&s);
	err_dev_claim(-EPERM, b, OWNER_B);
	err_dev_claim(-EPERM, a, OWNER_B);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 1);
	snap_free(&s);
}

/* ---- 2. stubs without the IOMMU API ---- */

static void no_iommu_api_stubs(void **state)
{
	struct machine_config cfg = { .iommu_api = false };
	struct iommu_device *iommu;
	struct device *dev;
	struct fx fx;
	struct snap s;

	(void)state;
	fx_init(&fx, &cfg, 0);
	iommu = new_iommu("smmu0", var_blocked.types);
	err_register(-ENODEV, iommu);
	dev = new_dev_on(iommu, "0000:00:01.0", 0);
	snap_take(&s);
	err_probe(-ENODEV, dev);
	assert_null(dev->iommu_group);
	do_use(dev);
	do_unuse(dev);
	err_claim(-ENODEV, NULL, OWNER_A);
	do_release(NULL);
	assert_false(iommu_group_dma_owner_claimed(NULL));
	err_dev_claim(-ENODEV, dev, OWNER_A);
	do_dev_release(dev);
	assert_null(iommu_group_get(dev));
	assert_int_equal(PTR_ERR(iommu_paging_domain_alloc(dev)), -ENODEV);
	check_unchanged(&s);
	assert_true(list_empty(&fx.m->groups));
	assert_true(list_empty(&fx.m->domains));
	snap_free(&s);
	fx_fini(&fx);
}

/* ---- 3. domain switching ---- */

/* __iommu_group_set_domain() to the current domain: 0, no attach op. */
static void set_domain_same_is_noop(void **state)
{
	struct device *dev = add_dev("0000:00:20.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *def = g->default_domain;
	unsigned long sites = machine_fault_sites(self->m);
	struct snap s;

	(void)state;
	snap_take(&s);
	do_attach_group(def, g);
	do_detach_group(def, g);
	check_unchanged(&s);
	check_group(g, def, NULL, 0);
	assert_int_equal(machine_fault_sites(self->m), sites);
	snap_free(&s);
}

/*
 * Member k of three fails to attach: members 1..k-1, already moved, go
 * back; the group's domain and every member's domain are unchanged.
 */
static void set_domain_rollback(void **state)
{
	struct device *a = add_dev("0000:00:21.0", 33);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain, *blk;
	struct iommu_domain *ud = user_domain(a);
	struct snap s;

	(void)state;
	add_dev("0000:00:21.1", 33);
	add_dev("0000:00:21.2", 33);
	/* an unowned group on its default domain, to a user domain */
	for (unsigned int k = 1; k <= 3; k++) {
		snap_take(&s);
		machine_set_fail_nth(self->m, k);
		err_attach_group(-ENOMEM, ud, g);
		assert_true(machine_fault_fired(self->m));
		check_unchanged(&s);
		check_group(g, def, NULL, 0);
		assert_int_equal(def->users, 3);
		assert_int_equal(ud->users, 0);
		snap_free(&s);
	}

	/* a claim, once the blocking domain exists (no allocation left) */
	do_claim(g, OWNER_A);
	do_release(g);
	blk = g->blocking_domain;
	for (unsigned int k = 1; k <= 3; k++) {
		snap_take(&s);
		machine_set_fail_nth(self->m, k);
		err_claim(-ENOMEM, g, OWNER_A);
		assert_true(machine_fault_fired(self->m));
		check_unchanged(&s);
		check_group(g, def, NULL, 0);
		assert_int_equal(blk->users, 0);
		snap_free(&s);
	}

	/* a claimed group on its blocking domain, to a user domain */
	do_claim(g, OWNER_A);
	for (unsigned int k = 1; k <= 3; k++) {
		snap_take(&s);
		machine_set_fail_nth(self->m, k);
		err_attach_group(-ENOMEM, ud, g);
		assert_true(machine_fault_fired(self->m));
		check_unchanged(&s);
		check_group(g, blk, OWNER_A, 1);
		assert_int_equal(blk->users, 3);
		assert_int_equal(ud->users, 0);
		snap_free(&s);
	}
	machine_set_fail_nth(self->m, 0);
	do_attach_group(ud, g);
	check_group(g, ud, OWNER_A, 1);
	do_detach_group(ud, g);
	do_release(g);
	check_group(g, def, NULL, 0);
	free_domain(ud);
}

/* Every attach fails (the IOMMU driver refuses): nothing moves at all. */
static void set_domain_attach_error(void **state)
{
	struct device *a = add_dev("0000:00:22.0", 34);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud = user_domain(a);
	struct snap s;

	(void)state;
	add_dev("0000:00:22.1", 34);
	iommu_device_set_attach_error(self->iommu, -EIO);
	snap_take(&s);
	err_attach_group(-EIO, ud, g);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	/* a type change keeps the old default domain */
	err_store(-EIO, g, "identity");
	check_unchanged(&s);
	snap_free(&s);
	iommu_device_set_attach_error(self->iommu, 0);
	free_domain(ud);
}

/* Detach goes back to the core domain: default_domain when unowned. */
static void detach_group_to_default(void **state)
{
	struct device *a = add_dev("0000:00:23.0", 35);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud = user_domain(a);

	(void)state;
	add_dev("0000:00:23.1", 35);
	do_attach_group(ud, g);
	check_group(g, ud, NULL, 0);
	do_detach_group(ud, g);
	check_group(g, g->default_domain, NULL, 0);
	assert_int_equal(ud->users, 0);
	free_domain(ud);
}

/* ... and the blocking domain while userspace owns the group. */
static void detach_group_to_blocking(void **state)
{
	struct device *a = add_dev("0000:00:24.0", 36);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud = user_domain(a);

	(void)state;
	add_dev("0000:00:24.1", 36);
	do_claim(g, OWNER_A);
	do_attach_group(ud, g);
	check_group(g, ud, OWNER_A, 1);
	do_detach_group(ud, g);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	assert_int_equal(ud->users, 0);
	do_release(g);
	check_group(g, g->default_domain, NULL, 0);
	free_domain(ud);
}

/* iommu_detach_device(): the same core domain rule. */
static void detach_device_to_core_domain(void **state)
{
	struct device *dev = add_dev("0000:00:25.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *ud = user_domain(dev);

	(void)state;
	do_attach_dev(ud, dev);
	check_group(g, ud, NULL, 0);
	do_detach_dev(ud, dev);
	check_group(g, g->default_domain, NULL, 0);

	do_claim(g, OWNER_A);
	do_attach_dev(ud, dev);
	check_group(g, ud, OWNER_A, 1);
	do_detach_dev(ud, dev);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	check_group(g, g->default_domain, NULL, 0);
	free_domain(ud);
}

/* attach: -EBUSY if a domain other than default or blocking is attached */
static void attach_group_busy_foreign(void **state)
{
	struct device *a = add_dev("0000:00:26.0", 38);
	struct device *b = add_dev("0000:00:26.1", 38);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud1 = user_domain(a), *ud2 = user_domain(b);
	struct snap s;

	(void)state;
	do_attach_group(ud1, g);
	snap_take(&s);
	err_attach_group(-EBUSY, ud2, g);
	check_unchanged(&s);
	check_group(g, ud1, NULL, 0);
	snap_free(&s);
	do_detach_group(ud1, g);

	/* from the blocking domain an attach is allowed, then -EBUSY again */
	do_claim(g, OWNER_A);
	do_attach_group(ud1, g);
	check_group(g, ud1, OWNER_A, 1);
	snap_take(&s);
	err_attach_group(-EBUSY, ud2, g);
	check_unchanged(&s);
	check_group(g, ud1, OWNER_A, 1);
	snap_free(&s);
	do_detach_group(ud1, g);
	do_release(g);
	free_domain(ud1);
	free_domain(ud2);
}

/* iommu_attach_device(): -EBUSY the same way */
static void attach_device_busy_foreign(void **state)
{
	struct device *dev = add_dev("0000:00:27.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *ud1 = user_domain(dev), *ud2 = user_domain(dev);
	struct snap s;

	(void)state;
	do_attach_dev(ud1, dev);
	snap_take(&s);
	err_attach_dev(-EBUSY, ud2, dev);
	check_unchanged(&s);
	check_group(g, ud1, NULL, 0);
	snap_free(&s);
	do_detach_dev(ud1, dev);
	free_domain(ud1);
	free_domain(ud2);
}

/* iommu_attach_device(): -EINVAL with more than one device in the group */
static void attach_device_needs_singleton(void **state)
{
	struct device *a = add_dev("0000:00:28.0", 40);
	struct device *b = add_dev("0000:00:28.1", 40);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud = user_domain(a);
	struct snap s;

	(void)state;
	snap_take(&s);
	err_attach_dev(-EINVAL, ud, a);
	err_attach_dev(-EINVAL, ud, b);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
	free_domain(ud);
}

/* iommu_attach_device(): -ENODEV without a group */
static void attach_device_no_group(void **state)
{
	struct device *dev = add_dev("0000:00:29.0", 0);
	struct device *bare = new_dev_on(NULL, "0000:00:29.1", 0);
	struct iommu_domain *ud = user_domain(dev);
	struct snap s;

	(void)state;
	snap_take(&s);
	err_attach_dev(-ENODEV, ud, bare);
	check_unchanged(&s);
	assert_null(bare->iommu_domain);
	snap_free(&s);
	free_domain(ud);
}

/* A domain of another IOMMU: -EINVAL, nothing moved. */
static void attach_other_iommu_einval(void **state)
{
	struct iommu_device *smmu1 = new_iommu("smmu1", self->v->types);
	struct device *a = add_dev("0000:00:2a.0", 0), *x;
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud;
	struct snap s;

	(void)state;
	do_register(smmu1);
	x = add_dev_on(smmu1, "0001:00:00.0", 0);
	ud = user_domain(x);
	snap_take(&s);
	err_attach_group(-EINVAL, ud, g);
	err_attach_dev(-EINVAL, ud, a);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
	free_domain(ud);
}

/* iommu_detach_device(): WARN and nothing else on a wrong domain or group */
static void detach_device_wrong_domain_warns(void **state)
{
	struct device *dev = add_dev("0000:00:2b.0", 0);
	struct device *a = add_dev("0000:00:2c.0", 44);
	struct device *b = add_dev("0000:00:2c.1", 44);
	struct iommu_group *g = dev->iommu_group, *g2 = a->iommu_group;
	struct iommu_domain *ud1 = user_domain(dev), *ud2 = user_domain(dev);
	struct iommu_domain *ud3 = user_domain(a);
	struct snap s;

	(void)state;
	do_attach_dev(ud1, dev);
	snap_take(&s);
	warn_detach_dev(ud2, dev);
	warn_detach_dev(g->default_domain, dev);
	check_unchanged(&s);
	check_group(g, ud1, NULL, 0);
	snap_free(&s);
	do_detach_dev(ud1, dev);
	check_group(g, g->default_domain, NULL, 0);

	/* the right domain, but the group has two devices */
	do_attach_group(ud3, g2);
	snap_take(&s);
	warn_detach_dev(ud3, b);
	check_unchanged(&s);
	check_group(g2, ud3, NULL, 0);
	snap_free(&s);
	do_detach_group(ud3, g2);
	free_domain(ud1);
	free_domain(ud2);
	free_domain(ud3);
}

/* ---- 3. a device joining a group ---- */

/*
 * Into a claimed group: onto the blocking domain; owner_cnt unchanged; a
 * kernel driver binding later gets -EBUSY.
 */
static void probe_into_claimed_group(void **state)
{
	struct device *a = add_dev("0000:00:30.0", 48);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *def = g->default_domain;
	struct device *b;

	(void)state;
	do_claim(g, OWNER_A);
	b = add_dev("0000:00:30.1", 48);
	assert_ptr_equal(b->iommu_group, g);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	assert_int_equal(def->users, 0);
	check_state();
	err_use(-EBUSY, b);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	check_group(g, def, NULL, 0);
	do_use(b);
	check_group(g, def, NULL, 1);
}

/* Into a group userspace has put its own domain on: onto that domain. */
static void probe_into_user_domain(void **state)
{
	struct device *a = add_dev("0000:00:31.0", 49);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *ud = user_domain(a);
	struct device *b;

	(void)state;
	do_claim(g, OWNER_A);
	do_attach_group(ud, g);
	b = add_dev("0000:00:31.1", 49);
	check_group(g, ud, OWNER_A, 1);
	assert_int_equal(ud->users, 2);
	err_use(-EBUSY, b);
	do_detach_group(ud, g);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	check_group(g, g->default_domain, NULL, 0);
	free_domain(ud);
}

/* Into a group a kernel driver uses: the default domain, count unchanged. */
static void probe_into_kernel_used_group(void **state)
{
	struct device *a = add_dev("0000:00:32.0", 50);
	struct iommu_group *g = a->iommu_group;
	struct device *b;

	(void)state;
	do_use(a);
	b = add_dev("0000:00:32.1", 50);
	check_group(g, g->default_domain, NULL, 1);
	do_use(b);
	check_group(g, g->default_domain, NULL, 2);
}

/* A direct-mapped device cannot join a claimed group. */
static void probe_resv_direct_into_claimed(void **state)
{
	struct device *a = add_dev("0000:00:33.0", 51);
	struct iommu_group *g = a->iommu_group;
	struct device *b = new_dev_on(self->iommu, "0000:00:33.1", 51);
	size_t logs;
	struct snap s;

	(void)state;
	device_set_require_direct(b, true);
	do_claim(g, OWNER_A);
	logs = machine_log_count(self->m);
	snap_take(&s);
	err_probe(-EINVAL, b);
	assert_true(log_has(logs, "0000:00:33.1: " FW_DIRECT_MSG));
	/*
	 * __iommu_probe_device() (v6.6) unwinds a failed attach silently:
	 * the group_device was made ("Adding to iommu group"), and only
	 * iommu_group_alloc_device() says "Failed to add to iommu group".
	 */
	assert_true(log_has(logs, "0000:00:33.1: Adding to iommu group"));
	assert_false(log_has(logs, "Failed to add to iommu group"));
	check_unchanged(&s);
	assert_null(b->iommu_group);
	assert_null(b->iommu_domain);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	snap_free(&s);
	do_release(g);
	/* unowned, it may join */
	do_probe(b);
	check_group(g, g->default_domain, NULL, 0);
}

/*
 * iommu_group_alloc_device() (v6.6): a kzalloc() that fails returns
 * -ENOMEM without a word; a failure after it (the sysfs links) logs
 * "Failed to add to iommu group %d: %d" and nothing joins; a failed
 * attach after "Adding to iommu group" is unwound silently by
 * __iommu_probe_device(). Each fallible step of the probe fails in turn.
 */
static void probe_alloc_device_failure(void **state)
{
	struct device *a = add_dev("0000:00:34.0", 52);
	struct iommu_group *g = a->iommu_group;
	struct device *b = new_dev_on(self->iommu, "0000:00:34.1", 52);
	bool said = false;
	unsigned int n;

	(void)state;
	for (n = 1; n < 20; n++) {
		size_t logs = machine_log_count(self->m);
		int ret;

		machine_set_fail_nth(self->m, n);
		ret = iommu_probe_device(b);
		if (!machine_fault_fired(self->m)) {
			assert_int_equal(ret, 0);
			break;
		}
		assert_int_equal(ret, -ENOMEM);
		assert_null(b->iommu_group);
		if (log_has(logs, "Failed to add to iommu group")) {
			char msg[64];

			snprintf(msg, sizeof(msg),
				 "0000:00:34.1: Failed to add to iommu group %d: -12",
				 g->id);
			assert_true(log_has(logs, msg));
			assert_false(log_has(logs, "Adding to iommu group"));
			said = true;
		}
		check_group(g, g->default_domain, NULL, 0);
	}
	machine_set_fail_nth(self->m, 0);
	assert_true(said);
	assert_ptr_equal(b->iommu_group, g);
	assert_no_new_warn();
}

/* ---- 3. the blocking domain ---- */

/* BLOCKED if the IOMMU can make one, else an empty UNMANAGED domain. */
static void blocking_domain_type(void **state)
{
	struct device *dev = add_dev("0000:00:38.0", 0);
	struct iommu_group *g = dev->iommu_group;
	unsigned int want = self->v->types & IOMMU_DOMAIN_BLOCKED ?
		IOMMU_DOMAIN_BLOCKED : IOMMU_DOMAIN_UNMANAGED;

	(void)state;
	assert_null(g->blocking_domain);
	do_claim(g, OWNER_A);
	assert_non_null(g->blocking_domain);
	assert_int_equal(iommu_domain_type(g->blocking_domain), want);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
}

/* Made lazily on the first claim, once, and reused by every later one. */
static void blocking_domain_made_once(void **state)
{
	struct device *a = add_dev("0000:00:39.0", 57);
	struct device *b = add_dev("0000:00:39.1", 57);
	struct iommu_group *g = a->iommu_group;
	unsigned int ndom = count_domains(self->m);
	struct iommu_domain *blk;

	(void)state;
	do_use(a);
	do_unuse(a);
	assert_null(g->blocking_domain);
	assert_int_equal(count_domains(self->m), ndom);

	do_claim(g, OWNER_A);
	blk = g->blocking_domain;
	assert_non_null(blk);
	assert_int_equal(count_domains(self->m), ndom + 1);
	do_release(g);
	assert_ptr_equal(g->blocking_domain, blk);

	do_claim(g, OWNER_B);
	check_group(g, blk, OWNER_B, 1);
	do_release(g);
	do_dev_claim(b, OWNER_C);
	check_group(g, blk, OWNER_C, 1);
	do_dev_release(b);
	assert_int_equal(count_domains(self->m), ndom + 1);
}

/* ---- 3. default domain type ---- */

struct def_type_case {
	const char *what;
	unsigned int machine_def;	/* machine_config.def_domain_type */
	unsigned int types;		/* the IOMMU's */
	bool untrusted;
	unsigned int forced;		/* the IOMMU driver's def_domain_type */
	unsigned int want;
	bool fallback_logged;
};

#define ALL_TYPES \
	(IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY | IOMMU_DOMAIN_DMA_FQ)

static const struct def_type_case def_type_cases[] = {
	{ "unset: lazy", 0, ALL_TYPES, false, 0, IOMMU_DOMAIN_DMA_FQ, false },
	{ "lazy", IOMMU_DOMAIN_DMA_FQ, ALL_TYPES, false, 0,
	  IOMMU_DOMAIN_DMA_FQ, false },
	{ "strict", IOMMU_DOMAIN_DMA, ALL_TYPES, false, 0, IOMMU_DOMAIN_DMA,
	  false },
	{ "passthrough", IOMMU_DOMAIN_IDENTITY, ALL_TYPES, false, 0,
	  IOMMU_DOMAIN_IDENTITY, false },
	{ "lazy, no flush queue", IOMMU_DOMAIN_DMA_FQ,
	  IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_IDENTITY, false, 0,
	  IOMMU_DOMAIN_DMA, false },
	{ "passthrough, no identity", IOMMU_DOMAIN_IDENTITY,
	  IOMMU_DOMAIN_BLOCKED | IOMMU_DOMAIN_DMA_FQ, false, 0,
	  IOMMU_DOMAIN_DMA, true },
	{ "untrusted, lazy", IOMMU_DOMAIN_DMA_FQ, ALL_TYPES, true, 0,
	  IOMMU_DOMAIN_DMA, false },
	{ "untrusted, passthrough", IOMMU_DOMAIN_IDENTITY, ALL_TYPES, true, 0,
	  IOMMU_DOMAIN_DMA, false },
	{ "driver forces identity", IOMMU_DOMAIN_DMA_FQ, ALL_TYPES, false,
	  IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_IDENTITY, false },
	{ "driver forces DMA", IOMMU_DOMAIN_IDENTITY, ALL_TYPES, false,
	  IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA, false },
	/* v6.6's iommu_get_def_domain_type(): untrusted first, silently */
	{ "untrusted, driver forces identity", IOMMU_DOMAIN_IDENTITY,
	  ALL_TYPES, true, IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_DMA, false },
};

#define FALLBACK_IDENTITY_LINE                                           \
	"iommu: Failed to allocate default IOMMU domain of type identity " \
	"for group 0 - " FALLBACK_MSG

/*
 * One case on a machine of its own: the device probed after its IOMMU
 * registered (@at_register false), or already there when the IOMMU
 * registers (bus_iommu_probe()).
 */
static void check_def_type_case(const struct def_type_case *c,
				bool at_register)
{
	struct machine_config cfg = {
		.iommu_api = true,
		.def_domain_type = c->machine_def,
	};
	struct iommu_device *iommu;
	struct iommu_domain *def;
	struct iommu_group *g;
	struct device *dev;
	struct fx fx;

	fx_init(&fx, &cfg, 0);
	iommu = new_iommu("smmu0", c->types);
	if (!at_register)
		do_register(iommu);
	dev = device_alloc(fx.m, "0000:00:01.0", NULL);
	assert_false(IS_ERR(dev));
	assert_int_equal(device_set_fw_iommu(dev, iommu, 0), 0);
	device_set_untrusted(dev, c->untrusted);
	device_set_def_domain_type(dev, c->forced);
	assert_int_equal(device_add(dev), 0);
	if (at_register)
		do_register(iommu);
	else
		do_probe(dev);
	g = dev->iommu_group;
	assert_non_null(g);
	def = g->default_domain;
	assert_non_null(def);
	if (iommu_domain_type(def) != c->want)
		fail_msg("%s (%s): default domain %s, expected %s", c->what,
			 at_register ? "at register" : "probe",
			 iommu_domain_type_str(def->type),
			 iommu_domain_type_str(c->want));
	check_group(g, def, NULL, 0);
	assert_int_equal(log_has(0, FALLBACK_MSG), c->fallback_logged);
	if (c->fallback_logged)
		assert_true(log_has(0, FALLBACK_IDENTITY_LINE));
	fx_fini(&fx);
}

static void default_domain_type(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(def_type_cases); i++) {
		check_def_type_case(&def_type_cases[i], false);
		check_def_type_case(&def_type_cases[i], true);
	}
}

/* ---- 3. /sys/kernel/iommu_groups/N/type ---- */

/* DMA -> DMA-FQ happens live, on the same domain, even while in use. */
static void store_dma_to_fq_live(void **state)
{
	struct device *a = add_dev("0000:00:40.0", 64);
	struct device *b = add_dev("0000:00:40.1", 64);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *dma;

	(void)state;
	do_store(g, "DMA");
	dma = g->default_domain;
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA);
	check_group(g, dma, NULL, 0);

	/* a kernel driver uses the group */
	do_use(b);
	do_store(g, "DMA-FQ");
	assert_ptr_equal(g->default_domain, dma);
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA_FQ);
	check_group(g, dma, NULL, 1);
	do_unuse(b);

	/* userspace owns the group */
	do_store(g, "DMA");
	dma = g->default_domain;
	do_claim(g, OWNER_A);
	do_store(g, "DMA-FQ");
	assert_ptr_equal(g->default_domain, dma);
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA_FQ);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	/* release restores the default domain as it is now: DMA-FQ */
	do_release(g);
	check_group(g, dma, NULL, 0);
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA_FQ);
}

/* Any other change: -EPERM while owner_cnt != 0, nothing changed. */
static void store_eperm_while_used(void **state)
{
	static const char *const bufs[] = {
		"identity", "DMA", "auto", "DMA-FQ", "identity\n",
	};
	struct device *a = add_dev("0000:00:41.0", 65);
	struct device *b = add_dev("0000:00:41.1", 65);
	struct iommu_group *g = a->iommu_group;
	struct snap s;

	(void)state;
	do_use(a);
	snap_take(&s);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		err_store(-EPERM, g, bufs[i]);
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 1);
	snap_free(&s);
	do_unuse(a);

	do_claim(g, OWNER_A);
	snap_take(&s);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		err_store(-EPERM, g, bufs[i]);
	check_unchanged(&s);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	snap_free(&s);
	do_release(g);

	do_dev_claim(b, OWNER_B);
	snap_take(&s);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		err_store(-EPERM, g, bufs[i]);
	check_unchanged(&s);
	snap_free(&s);
	do_dev_release(b);
}

/* Unknown strings: -EINVAL, used or not. */
static void store_einval_unknown(void **state)
{
	static const char *const bufs[] = {
		"", "\n", "dma", "Identity", "passthrough", "DMA-FQ\n\n",
		" DMA", "DMA ", "DMA\t", "blocked", "unmanaged", "DMA-F",
	};
	struct device *dev = add_dev("0000:00:42.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct snap s;

	(void)state;
	snap_take(&s);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		err_store(-EINVAL, g, bufs[i]);
	check_unchanged(&s);
	snap_free(&s);
	do_claim(g, OWNER_A);
	snap_take(&s);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		err_store(-EINVAL, g, bufs[i]);
	check_unchanged(&s);
	snap_free(&s);
	do_release(g);
}

/*
 * identity on a group with an untrusted device: -EINVAL, as v6.6's
 * iommu_get_default_domain_type() with a target type.
 */
static void store_identity_untrusted_einval(void **state)
{
	struct device *u = new_dev_on(self->iommu, "0000:00:43.0", 0);
	struct iommu_group *g;
	struct snap s;

	(void)state;
	device_set_untrusted(u, true);
	do_probe(u);
	g = u->iommu_group;
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA);
	snap_take(&s);
	err_store(-EINVAL, g, "identity");
	err_store(-EINVAL, g, "identity\n");
	check_unchanged(&s);
	check_group(g, g->default_domain, NULL, 0);
	snap_free(&s);
	/* v6.6's iommu_get_default_domain_type() with a target type */
	assert_true(log_has(0, "0000:00:43.0: Device cannot be in Passthrough domain"));
	/* "auto" keeps it on DMA */
	do_store(g, "auto");
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA);
	check_group(g, g->default_domain, NULL, 0);
}

/* The level of the first log line from @from holding @text, -1 if none. */
static int log_level_of(size_t from, const char *text)
{
	for (size_t i = from; i < machine_log_count(self->m); i++) {
		const struct klog_entry *e = machine_log_entry(self->m, i);

		if (strstr(e->text, text))
			return e->level;
	}
	return -1;
}

#define LOGLEVEL_ERR 3
#define LOGLEVEL_WARNING 4

/*
 * A device with @forced (its IOMMU driver's def_domain_type) and @untrusted
 * behind @iommu, added but not probed.
 */
static struct device *new_typed_dev(struct iommu_device *iommu,
				    const char *name, unsigned int key,
				    unsigned int forced, bool untrusted)
{
	struct device *dev = device_alloc(self->m, name, NULL);

	assert_false(IS_ERR(dev));
	assert_int_equal(device_set_fw_iommu(dev, iommu, key), 0);
	device_set_def_domain_type(dev, forced);
	device_set_untrusted(dev, untrusted);
	assert_int_equal(device_add(dev), 0);
	return dev;
}

/*
 * Members that want different types, no target type: 0 from the IOMMU's
 * registration, a warning, and the machine's default type. As v6.6's
 * iommu_get_default_domain_type(): without a target a conflict is no error
 * (the "refusing to probe" refusal came in 6.8).
 */
static void def_type_conflict_uses_default(void **state)
{
	struct iommu_device *smmu1 = new_iommu("smmu1", self->v->types);
	struct device *a = new_typed_dev(smmu1, "0001:00:50.0", 80,
					 IOMMU_DOMAIN_IDENTITY, false);
	struct device *b = new_typed_dev(smmu1, "0001:00:50.1", 80,
					 IOMMU_DOMAIN_DMA, false);
	struct device *c = new_typed_dev(smmu1, "0001:00:51.0", 81,
					 IOMMU_DOMAIN_IDENTITY, false);
	struct device *u = new_typed_dev(smmu1, "0001:00:51.1", 81, 0, true);
	size_t logs = machine_log_count(self->m);
	struct iommu_group *g;

	(void)state;
	do_register(smmu1);
	g = a->iommu_group;
	assert_ptr_equal(b->iommu_group, g);
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA_FQ);
	check_group(g, g->default_domain, NULL, 0);
	assert_int_equal(log_level_of(logs,
		"0001:00:50.1: Device needs domain type Translated, but device 0001:00:50.0 in the same iommu group requires type Passthrough - using default"),
		LOGLEVEL_WARNING);
	/* an untrusted member is one more opinion, not a veto */
	g = c->iommu_group;
	assert_ptr_equal(u->iommu_group, g);
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA_FQ);
	check_group(g, g->default_domain, NULL, 0);
	assert_true(log_has(logs,
		"0001:00:51.1: Device needs domain type Translated, but device 0001:00:51.0 in the same iommu group requires type Passthrough - using default"));
	assert_false(log_has(logs, "refusing"));
	assert_false(log_has(logs, "Failed to add"));
	do_use(b);
	check_group(a->iommu_group, a->iommu_group->default_domain, NULL, 1);
	do_unuse(b);
}

/*
 * An untrusted device is translated whatever its IOMMU driver asks for,
 * silently: v6.6's iommu_get_def_domain_type() answers DMA for it first.
 */
static void def_type_untrusted_forces_dma(void **state)
{
	struct device *u = new_typed_dev(self->iommu, "0000:00:52.0", 0,
					 IOMMU_DOMAIN_IDENTITY, true);
	size_t logs = machine_log_count(self->m);

	(void)state;
	do_probe(u);
	assert_int_equal(u->iommu_group->default_domain->type,
			 IOMMU_DOMAIN_DMA);
	check_group(u->iommu_group, u->iommu_group->default_domain, NULL, 0);
	assert_false(log_has(logs, "refusing"));
	assert_false(log_has(logs, "Device needs"));
}

/*
 * 6.12's iommu_get_default_domain_type() and iommu_get_def_domain_type()
 * (rewritten in 6.8): members whose IOMMU driver asks for two types are the
 * driver's error, logged, and identity wins; an untrusted member refuses a
 * driver's identity and the device gets no group; a sysfs target the
 * members cannot live with fails without v6.6's "Device cannot be in" line.
 */
static void def_type_by_kernel_6_12(void **state)
{
	struct iommu_device *smmu1 = new_iommu("smmu1", self->v->types);
	struct device *a, *b, *u, *t;
	struct iommu_group *g;
	size_t logs;

	(void)state;
	machine_set_kernel(self->m, MACHINE_KERNEL_6_12);
	a = new_typed_dev(smmu1, "0001:00:54.0", 84, IOMMU_DOMAIN_IDENTITY,
			  false);
	b = new_typed_dev(smmu1, "0001:00:54.1", 84, IOMMU_DOMAIN_DMA, false);
	logs = machine_log_count(self->m);
	do_register(smmu1);
	g = a->iommu_group;
	assert_ptr_equal(b->iommu_group, g);
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	check_group(g, g->default_domain, NULL, 0);
	assert_false(log_has(logs, "Device needs domain type"));
	{
		char want[160];

		snprintf(want, sizeof(want),
			 "0001:00:54.1: IOMMU driver error, requesting conflicting def_domain_type, Passthrough and Translated, for devices in group %d.",
			 g->id);
		assert_int_equal(log_level_of(logs, want), LOGLEVEL_ERR);
	}

	/* an untrusted device whose driver wants identity: no group */
	u = new_typed_dev(self->iommu, "0000:00:55.0", 0,
			  IOMMU_DOMAIN_IDENTITY, true);
	logs = machine_log_count(self->m);
	err_probe(-EINVAL, u);
	assert_null(u->iommu_group);
	assert_true(log_has(logs,
		"0000:00:55.0: Device is not trusted, but driver is overriding group"));
	assert_true(log_has(logs, "to Passthrough, refusing to probe."));

	/* a target the untrusted member cannot take: no line of its own */
	t = new_typed_dev(self->iommu, "0000:00:56.0", 0, 0, true);
	do_probe(t);
	assert_int_equal(t->iommu_group->default_domain->type,
			 IOMMU_DOMAIN_DMA);
	logs = machine_log_count(self->m);
	err_store(-EINVAL, t->iommu_group, "identity");
	assert_false(log_has(logs, "Device cannot be in"));
	assert_int_equal(t->iommu_group->default_domain->type,
			 IOMMU_DOMAIN_DMA);
	check_group(t->iommu_group, t->iommu_group->default_domain, NULL, 0);
}

/*
 * 6.1's iommu_group_store_type() and iommu_change_dev_def_domain(): a
 * group of more than one device cannot change type at all, and a device
 * that cannot take the type says so on the device ("Device cannot be in
 * %s domain"); "auto" is what the device or the machine asks for.
 */
static void store_by_kernel_6_1(void **state)
{
	struct device *a = add_dev("0000:00:57.0", 87);
	struct device *b = add_dev("0000:00:57.1", 87);
	struct device *u = new_dev_on(self->iommu, "0000:00:58.0", 0);
	struct device *c = add_dev("0000:00:59.0", 89);
	struct iommu_group *g = a->iommu_group;
	unsigned int boot;
	struct snap s;
	size_t logs;

	(void)state;
	assert_ptr_equal(b->iommu_group, g);
	machine_set_kernel(self->m, MACHINE_KERNEL_6_1);
	logs = machine_log_count(self->m);
	snap_take(&s);
	err_store(-EINVAL, g, "identity");
	err_store(-EINVAL, g, "auto");
	check_unchanged(&s);
	snap_free(&s);
	assert_int_equal(log_level_of(logs,
		"iommu: Cannot change default domain: Group has more than one device"),
		LOGLEVEL_ERR);
	/* unknown strings are refused before the group is looked at */
	logs = machine_log_count(self->m);
	err_store(-EINVAL, g, "dma");
	assert_false(log_has(logs, "Cannot change"));

	device_set_untrusted(u, true);
	do_probe(u);
	assert_int_equal(u->iommu_group->default_domain->type,
			 IOMMU_DOMAIN_DMA);
	logs = machine_log_count(self->m);
	err_store(-EINVAL, u->iommu_group, "identity");
	assert_int_equal(log_level_of(logs,
		"0000:00:58.0: Device cannot be in Passthrough domain"),
		LOGLEVEL_ERR);
	/* lazy is another type to 6.1: an untrusted device stays strict */
	err_store(-EINVAL, u->iommu_group, "DMA-FQ");
	assert_true(log_has(logs,
		"0000:00:58.0: Device cannot be in Translated domain"));
	assert_int_equal(u->iommu_group->default_domain->type,
			 IOMMU_DOMAIN_DMA);
	check_group(u->iommu_group, u->iommu_group->default_domain, NULL, 0);

	/* a device alone and unbound changes; "auto" is the boot type */
	g = c->iommu_group;
	boot = g->default_domain->type;
	/* claimed with no driver (beyond 6.1's reach): v6.6's check holds */
	do_claim(g, OWNER_A);
	err_store(-EPERM, g, "identity");
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	do_store(g, "identity");
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	check_group(g, g->default_domain, NULL, 0);
	do_store(g, "auto");
	assert_int_equal(g->default_domain->type, boot);
	check_group(g, g->default_domain, NULL, 0);
}

/*
 * With a target type (a sysfs write) a member that wants another type fails
 * the write: -EINVAL, "Device cannot be in %s domain" at error level, as
 * v6.6's iommu_get_default_domain_type() with a target_type.
 */
static void def_type_target_conflict_einval(void **state)
{
	struct device *a = new_typed_dev(self->iommu, "0000:00:53.0", 83, 0,
					 false);
	struct device *b = new_typed_dev(self->iommu, "0000:00:53.1", 83,
					 IOMMU_DOMAIN_DMA, false);
	struct iommu_group *g;
	size_t logs;
	struct snap s;

	(void)state;
	do_probe(a);
	do_probe(b);
	g = a->iommu_group;
	logs = machine_log_count(self->m);
	snap_take(&s);
	err_store(-EINVAL, g, "identity");
	check_unchanged(&s);
	snap_free(&s);
	assert_int_equal(log_level_of(logs,
		"0000:00:53.1: Device cannot be in Passthrough domain"),
		LOGLEVEL_ERR);
	/* a type the member accepts goes through */
	do_store(g, "DMA");
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA);
	check_group(g, g->default_domain, NULL, 0);
}

/*
 * No domain of the type the members ask for, and no default domain yet:
 * the device still joins its group, which has no default domain (v6.6's
 * iommu_setup_default_domain() returns 0 then). Its type reads "unknown",
 * a write to it is -EINVAL, and kernel use and user claims work as on any
 * group, coming back to no domain.
 */
static void def_type_alloc_fails_no_default(void **state)
{
	struct iommu_device *smmu1 = new_iommu("smmu1", IOMMU_DOMAIN_DMA_FQ);
	struct device *a, *b;
	struct iommu_group *g;
	size_t logs;

	(void)state;
	do_register(smmu1);
	a = new_typed_dev(smmu1, "0001:00:54.0", 84, IOMMU_DOMAIN_IDENTITY,
			  false);
	logs = machine_log_count(self->m);
	do_probe(a);
	g = a->iommu_group;
	assert_non_null(g);
	assert_null(g->default_domain);
	check_group(g, NULL, NULL, 0);
	assert_true(log_has(logs, "0001:00:54.0: Adding to iommu group"));
	assert_false(log_has(logs, "Failed to add"));
	err_store(-EINVAL, g, "DMA");
	err_store(-EINVAL, g, "auto");
	/* a second member joins the group as it is */
	b = new_typed_dev(smmu1, "0001:00:54.1", 84, 0, false);
	do_probe(b);
	assert_ptr_equal(b->iommu_group, g);
	check_group(g, NULL, NULL, 0);
	do_use(b);
	check_group(g, NULL, NULL, 1);
	do_unuse(b);
	do_claim(g, OWNER_A);
	check_group(g, g->blocking_domain, OWNER_A, 1);
	do_release(g);
	check_group(g, NULL, NULL, 0);
	check_state();
}

/* "auto": back to the machine's default type. */
static void store_auto(void **state)
{
	struct device *a = add_dev("0000:00:44.0", 68);
	struct iommu_group *g = a->iommu_group;
	unsigned int ndom = count_domains(self->m);

	(void)state;
	add_dev("0000:00:44.1", 68);
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA_FQ);
	do_store(g, "identity");
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	check_group(g, g->default_domain, NULL, 0);
	do_store(g, "auto");
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA_FQ);
	check_group(g, g->default_domain, NULL, 0);
	/* the old default domains were freed */
	assert_int_equal(count_domains(self->m), ndom);
}

/* A trailing newline (as echo writes) is accepted. */
static void store_trailing_newline(void **state)
{
	struct device *dev = add_dev("0000:00:45.0", 0);
	struct iommu_group *g = dev->iommu_group;
	struct iommu_domain *dma;

	(void)state;
	do_store(g, "identity\n");
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	do_store(g, "DMA\n");
	dma = g->default_domain;
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA);
	do_store(g, "DMA-FQ\n");
	assert_ptr_equal(g->default_domain, dma);
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA_FQ);
	do_store(g, "auto\n");
	check_group(g, g->default_domain, NULL, 0);
}

/* Release restores the default domain current at release time. */
static void store_then_release_restores_current(void **state)
{
	struct device *a = add_dev("0000:00:46.0", 70);
	struct device *b = add_dev("0000:00:46.1", 70);
	struct iommu_group *g = a->iommu_group;
	struct iommu_domain *dma;

	(void)state;
	do_store(g, "identity");
	do_claim(g, OWNER_A);
	do_release(g);
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_IDENTITY);
	check_group(g, g->default_domain, NULL, 0);

	/* a live change while an iommufd device holds the group */
	do_store(g, "DMA");
	dma = g->default_domain;
	do_dev_claim(b, OWNER_B);
	do_store(g, "DMA-FQ");
	do_dev_release(b);
	check_group(g, dma, NULL, 0);
	assert_int_equal(dma->type, IOMMU_DOMAIN_DMA_FQ);
}

/* A group without devices has no default domain to change. */
static void store_empty_group(void **state)
{
	struct device *dev = add_dev("0000:00:47.0", 0);
	struct iommu_group *g = hold_group(dev);

	(void)state;
	device_del(dev);
	assert_no_new_warn();
	err_store(-EINVAL, g, "DMA");
	err_store(-EINVAL, g, "DMA-FQ");
	check_state();
	unhold_group(g);
}

/* ---- 3. groups ---- */

/* A new group takes the lowest free id. */
static void group_ids_lowest_free(void **state)
{
	struct device *d0 = add_dev("0000:00:50.0", 0);
	struct device *d1 = add_dev("0000:00:51.0", 0);
	struct device *d2 = add_dev("0000:00:52.0", 0);
	struct device *d3, *d4, *d5;
	size_t logs;

	(void)state;
	assert_int_equal(iommu_group_id(d0->iommu_group), 0);
	assert_int_equal(iommu_group_id(d1->iommu_group), 1);
	assert_int_equal(iommu_group_id(d2->iommu_group), 2);

	device_del(d1);
	assert_null(iommu_group_by_id(self->m, 1));
	logs = machine_log_count(self->m);
	d3 = add_dev("0000:00:53.0", 0);
	assert_int_equal(iommu_group_id(d3->iommu_group), 1);
	assert_true(log_has(logs, "0000:00:53.0: Adding to iommu group 1"));
	d4 = add_dev("0000:00:54.0", 0);
	assert_int_equal(iommu_group_id(d4->iommu_group), 3);

	device_del(d0);
	device_del(d3);
	d5 = add_dev("0000:00:55.0", 0);
	assert_int_equal(iommu_group_id(d5->iommu_group), 0);
	assert_ptr_equal(iommu_group_by_id(self->m, 0), d5->iommu_group);
	check_state();
}

/* Equal non-zero keys on the same IOMMU share a group; nothing else does. */
static void group_shared_by_key(void **state)
{
	struct iommu_device *smmu1 = new_iommu("smmu1", self->v->types);
	struct device *a, *b, *c, *d, *e, *f;
	struct iommu_group *g;

	(void)state;
	do_register(smmu1);
	a = add_dev("0000:00:60.0", 5);
	b = add_dev("0000:00:60.1", 5);
	c = add_dev("0000:00:61.0", 6);
	d = add_dev_on(smmu1, "0001:00:60.0", 5);
	e = add_dev("0000:00:62.0", 0);
	f = add_dev("0000:00:63.0", 0);
	g = a->iommu_group;
	assert_ptr_equal(b->iommu_group, g);
	assert_ptr_not_equal(c->iommu_group, g);
	assert_ptr_not_equal(d->iommu_group, g);
	assert_ptr_not_equal(e->iommu_group, f->iommu_group);
	assert_ptr_not_equal(e->iommu_group, g);
	/* one default domain for the shared group, both on it */
	check_group(g, g->default_domain, NULL, 0);
	assert_int_equal(g->default_domain->users, 2);
	assert_int_equal(kref_read(&g->kref), 2);
	/* a reference of ours counts on top */
	hold_group(a);
	check_state();
	unhold_group(g);
	check_state();
}

/*
 * iommu_release_device(): the last device to leave frees the group's
 * domains; the group goes when its last reference does.
 */
static void release_device_frees_group(void **state)
{
	struct device *a = add_dev("0000:00:70.0", 112);
	struct device *b = add_dev("0000:00:70.1", 112);
	struct device *c = add_dev("0000:00:71.0", 0);
	struct iommu_group *g = a->iommu_group, *gc;
	unsigned int ndom = count_domains(self->m);
	int id = iommu_group_id(g), idc;

	(void)state;
	do_claim(g, OWNER_A);
	do_release(g);
	assert_int_equal(count_domains(self->m), ndom + 1);

	device_del(a);
	assert_no_new_warn();
	assert_null(a->iommu_group);
	assert_null(a->iommu_domain);
	assert_ptr_equal(iommu_group_by_id(self->m, id), g);
	assert_int_equal(kref_read(&g->kref), 1);
	check_group(g, g->default_domain, NULL, 0);
	assert_int_equal(count_domains(self->m), ndom + 1);
	check_state();

	device_del(b);
	assert_no_new_warn();
	assert_null(iommu_group_by_id(self->m, id));
	/* the default and the blocking domain */
	assert_int_equal(count_domains(self->m), ndom - 1);
	check_state();

	/* a reference held past the last device */
	gc = hold_group(c);
	idc = iommu_group_id(gc);
	device_del(c);
	assert_no_new_warn();
	assert_ptr_equal(iommu_group_by_id(self->m, idc), gc);
	assert_null(gc->default_domain);
	assert_null(gc->domain);
	assert_int_equal(count_domains(self->m), ndom - 2);
	check_state();
	unhold_group(gc);
	assert_null(iommu_group_by_id(self->m, idc));
	assert_true(list_empty(&self->m->groups));
	assert_true(list_empty(&self->m->domains));
}

/* Leaving a group nobody gave back: upstream WARNs, so does the model. */
static void release_device_owned_warns(void **state)
{
	struct device *dev = add_dev("0000:00:72.0", 0);
	struct iommu_group *g = dev->iommu_group;
	int id = iommu_group_id(g);

	(void)state;
	do_claim(g, OWNER_A);
	void_call(device_del(dev), "__iommu_group_free_device");
	assert_null(iommu_group_by_id(self->m, id));
	assert_null(dev->iommu_domain);
	assert_true(list_empty(&self->m->domains));
}

/*
 * iommu_device_register(): devices already added behind the IOMMU are
 * probed into groups, each group gets one default domain for all its
 * members (an untrusted member makes it DMA), and the members are on it.
 */
static void register_probes_existing(void **state)
{
	struct iommu_device *smmu1 = new_iommu("smmu1", self->v->types);
	struct device *p = new_dev_on(smmu1, "0001:00:00.0", 3);
	struct device *q = new_dev_on(smmu1, "0001:00:00.1", 3);
	struct device *r = new_dev_on(smmu1, "0001:00:01.0", 0);
	struct device *s0 = new_dev_on(self->iommu, "0000:00:01.0", 0);
	struct device *t = new_dev_on(NULL, "0000:00:02.0", 0);
	struct iommu_group *g;
	size_t logs;
	struct snap s;

	(void)state;
	device_set_untrusted(q, true);
	err_probe(-ENODEV, p);
	err_probe(-ENODEV, t);
	logs = machine_log_count(self->m);
	do_register(smmu1);

	g = p->iommu_group;
	assert_non_null(g);
	assert_ptr_equal(q->iommu_group, g);
	assert_non_null(g->default_domain);
	assert_int_equal(g->default_domain->type, IOMMU_DOMAIN_DMA);
	check_group(g, g->default_domain, NULL, 0);
	assert_non_null(r->iommu_group);
	assert_ptr_not_equal(r->iommu_group, g);
	assert_int_equal(r->iommu_group->default_domain->type,
			 IOMMU_DOMAIN_DMA_FQ);
	check_group(r->iommu_group, r->iommu_group->default_domain, NULL, 0);
	assert_true(log_has(logs, "0001:00:00.0: Adding to iommu group"));
	assert_true(log_has(logs, "0001:00:00.1: Adding to iommu group"));
	assert_true(log_has(logs, "0001:00:01.0: Adding to iommu group"));
	/* other IOMMUs' devices and devices without one are left alone */
	assert_null(s0->iommu_group);
	assert_null(t->iommu_group);
	check_state();

	snap_take(&s);
	err_register(-EEXIST, smmu1);
	do_probe(p);
	check_unchanged(&s);
	snap_free(&s);
	do_use(p);
	check_group(g, g->default_domain, NULL, 1);
}

/* ---- fail-nth sweep ---- */

enum sweep_op {
	SW_PROBE, SW_CLAIM, SW_RELEASE, SW_DEV_CLAIM, SW_DEV_RELEASE,
	SW_USE, SW_UNUSE,
};

struct sweep_step {
	enum sweep_op op;
	unsigned int dev;	/* index into sweep_names */
	void *owner;
};

/* a, b, c share firmware group key 9; d is alone. */
static const char *const sweep_names[] = {
	"0000:00:09.0", "0000:00:09.1", "0000:00:09.2", "0000:00:0a.0",
};

static const struct sweep_step sweep_steps[] = {
	{ SW_PROBE, 0, NULL },		/* a new group and default domain */
	{ SW_PROBE, 1, NULL },		/* joins it */
	{ SW_CLAIM, 0, OWNER_A },	/* VFIO: the blocking domain made */
	{ SW_PROBE, 2, NULL },		/* joins the claimed group */
	{ SW_RELEASE, 0, NULL },
	{ SW_PROBE, 3, NULL },
	{ SW_USE, 3, NULL },
	{ SW_DEV_CLAIM, 0, OWNER_B },	/* iommufd: blocking domain reused */
	{ SW_DEV_CLAIM, 1, OWNER_B },
	{ SW_DEV_CLAIM, 2, OWNER_B },
	{ SW_DEV_RELEASE, 1, NULL },
	{ SW_DEV_RELEASE, 0, NULL },
	{ SW_DEV_RELEASE, 2, NULL },
	{ SW_UNUSE, 3, NULL },
	{ SW_DEV_CLAIM, 3, OWNER_C },	/* d's blocking domain made */
	{ SW_DEV_RELEASE, 3, NULL },
	{ SW_CLAIM, 0, OWNER_A },
	{ SW_RELEASE, 0, NULL },
};

static int sweep_do(const struct sweep_step *st, struct device **devs)
{
	struct device *dev = devs[st->dev];

	switch (st->op) {
	case SW_PROBE:
		return iommu_probe_device(dev);
	case SW_CLAIM:
		return iommu_group_claim_dma_owner(dev->iommu_group,
						   st->owner);
	case SW_RELEASE:
		iommu_group_release_dma_owner(dev->iommu_group);
		return 0;
	case SW_DEV_CLAIM:
		return iommu_device_claim_dma_owner(dev, st->owner);
	case SW_DEV_RELEASE:
		iommu_device_release_dma_owner(dev);
		return 0;
	case SW_USE:
		return iommu_device_use_default_domain(dev);
	case SW_UNUSE:
		iommu_device_unuse_default_domain(dev);
		return 0;
	}
	return -EINVAL;
}

static bool sweep_fallible(enum sweep_op op)
{
	return op == SW_PROBE || op == SW_CLAIM || op == SW_DEV_CLAIM;
}

/*
 * A fault the model absorbs: the default domain falls back to DMA (and
 * says so), or the blocking domain to an empty paging domain.
 */
static bool sweep_absorbed(const struct sweep_step *st, struct device *dev,
			   size_t logs)
{
	struct iommu_group *g = dev->iommu_group;

	if (st->op == SW_PROBE)
		return log_has(logs, FALLBACK_MSG) && g &&
		       g->default_domain->type == IOMMU_DOMAIN_DMA;
	return g && g->blocking_domain &&
	       (self->iommu->domain_types & IOMMU_DOMAIN_BLOCKED) &&
	       g->blocking_domain->type == IOMMU_DOMAIN_UNMANAGED;
}

struct sweep_result {
	unsigned long sites;	/* fallible steps the scenario passed */
	bool fired;		/* the armed fault fired */
	bool failed;		/* and a call returned its error */
	char *final;		/* state before the unwind */
};

/*
 * Run the scenario on a fresh machine with fail-nth @n (0: none). A call
 * that fails must fail because of the fault, WARN nothing and change
 * nothing, and succeed when retried. At the end every device is deleted and
 * every group and domain must be gone.
 */
static void sweep_run(const struct variant *v, unsigned int n,
		      struct sweep_result *res)
{
	struct device *devs[ARRAY_SIZE(sweep_names)];
	unsigned long sites;
	struct fx fx;

	memset(res, 0, sizeof(*res));
	fx_init(&fx, NULL, v->types);
	fx.v = v;
	for (size_t i = 0; i < ARRAY_SIZE(sweep_names); i++)
		devs[i] = new_dev_on(fx.iommu, sweep_names[i], i < 3 ? 9 : 0);
	sites = machine_fault_sites(fx.m);
	machine_set_fail_nth(fx.m, n);

	for (size_t i = 0; i < ARRAY_SIZE(sweep_steps); i++) {
		const struct sweep_step *st = &sweep_steps[i];
		bool fired_before = machine_fault_fired(fx.m), fired;
		size_t logs = machine_log_count(fx.m);
		struct snap s;
		int rc;

		snap_take(&s);
		rc = sweep_do(st, devs);
		fired = !fired_before && machine_fault_fired(fx.m);
		if (fired && !sweep_fallible(st->op))
			fail_msg("n=%u: step %zu cannot fail, a fault fired",
				 n, i);
		if (rc) {
			if (!fired)
				fail_msg("n=%u: step %zu: %s without a fault",
					 n, i, errno_name(rc));
			assert_no_new_warn();
			check_unchanged_at(__FILE__, __LINE__, &s,
					   st->op != SW_PROBE);
			check_state();
			res->failed = true;
			rc = sweep_do(st, devs);
			if (rc)
				fail_msg("n=%u: step %zu failed again: %s", n,
					 i, errno_name(rc));
		} else if (fired && !sweep_absorbed(st, devs[st->dev], logs)) {
			fail_msg("n=%u: step %zu lost a fault", n, i);
		}
		assert_no_new_warn();
		check_state();
		snap_free(&s);
	}
	res->sites = machine_fault_sites(fx.m) - sites;
	res->fired = machine_fault_fired(fx.m);
	res->final = machine_serialize(fx.m, NULL);
	assert_non_null(res->final);

	for (size_t i = 0; i < ARRAY_SIZE(sweep_names); i++)
		device_del(devs[i]);
	assert_no_new_warn();
	assert_true(list_empty(&fx.m->groups));
	assert_true(list_empty(&fx.m->domains));
	fx_fini(&fx);
}

static void fail_nth_sweep(void **state)
{
	struct fx *outer = *state;
	struct sweep_result clean, res;
	unsigned int failed = 0;

	sweep_run(outer->v, 0, &clean);
	assert_false(clean.fired);
	assert_true(clean.sites > 0);
	for (unsigned int n = 1; n <= clean.sites; n++) {
		sweep_run(outer->v, n, &res);
		if (!res.fired)
			fail_msg("n=%u of %lu never fired", n, clean.sites);
		/* a failure retried ends where the clean run does */
		if (res.failed) {
			failed++;
			if (strcmp(res.final, clean.final))
				fail_msg("n=%u: final state:\n%s---\n%s",
					 n, clean.final, res.final);
		}
		free(res.final);
	}
	assert_true(failed > 0);
	free(clean.final);
	self = outer;
}

/* ---- registration ---- */

#define VARIANT_TEST(fn, var)                                            \
	{                                                                  \
		.name = #fn "/" var##_name, .test_func = fn,               \
		.setup_func = setup_variant,                               \
		.teardown_func = teardown_fx,                              \
		.initial_state = (void *)&var,                             \
	}

#define var_blocked_name "blocked"
#define var_paging_name "no-blocked"

#define ON_BOTH(fn) VARIANT_TEST(fn, var_blocked), VARIANT_TEST(fn, var_paging)

#define BARE_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, setup_bare, teardown_bare)

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* iommu_device_use_default_domain */
		ON_BOTH(use_no_group),
		ON_BOTH(use_first_counts),
		ON_BOTH(use_busy_user_owned),
		ON_BOTH(use_busy_owner_on_default),
		ON_BOTH(use_busy_foreign_domain),
		ON_BOTH(use_shared_counts),
		/* iommu_device_unuse_default_domain */
		ON_BOTH(unuse_no_group),
		ON_BOTH(unuse_unbalanced_warns),
		ON_BOTH(unuse_decrements),
		/* iommu_group_claim_dma_owner */
		ON_BOTH(claim_null_owner),
		ON_BOTH(claim_kernel_user_eperm),
		ON_BOTH(claim_owned_eperm),
		ON_BOTH(claim_foreign_domain_ebusy),
		ON_BOTH(claim_no_blocking_domain_einval),
		ON_BOTH(claim_resv_direct_einval),
		ON_BOTH(claim_attach_error),
		ON_BOTH(claim_takes_group),
		/* iommu_group_release_dma_owner */
		ON_BOTH(release_unclaimed_warns),
		ON_BOTH(release_kernel_use_warns),
		ON_BOTH(release_restores_default),
		ON_BOTH(release_from_user_domain),
		ON_BOTH(release_null_group),
		/* iommu_group_dma_owner_claimed */
		ON_BOTH(claimed_is_owner_cnt),
		/* per-device claim and release */
		ON_BOTH(dev_claim_null_owner),
		ON_BOTH(dev_claim_no_group),
		ON_BOTH(dev_claim_shares_cookie),
		ON_BOTH(dev_claim_joins_group_claim),
		ON_BOTH(dev_claim_other_cookie_eperm),
		ON_BOTH(dev_claim_kernel_user_eperm),
		/* no IOMMU API */
		BARE_TEST(no_iommu_api_stubs),
		/* domain switching, attach and detach */
		ON_BOTH(set_domain_same_is_noop),
		ON_BOTH(set_domain_rollback),
		ON_BOTH(set_domain_attach_error),
		ON_BOTH(detach_group_to_default),
		ON_BOTH(detach_group_to_blocking),
		ON_BOTH(detach_device_to_core_domain),
		ON_BOTH(attach_group_busy_foreign),
		ON_BOTH(attach_device_busy_foreign),
		ON_BOTH(attach_device_needs_singleton),
		ON_BOTH(attach_device_no_group),
		ON_BOTH(attach_other_iommu_einval),
		ON_BOTH(detach_device_wrong_domain_warns),
		/* devices joining groups */
		ON_BOTH(probe_into_claimed_group),
		ON_BOTH(probe_into_user_domain),
		ON_BOTH(probe_into_kernel_used_group),
		ON_BOTH(probe_resv_direct_into_claimed),
		ON_BOTH(probe_alloc_device_failure),
		/* the blocking domain */
		ON_BOTH(blocking_domain_type),
		ON_BOTH(blocking_domain_made_once),
		/* default domain type and its sysfs file */
		BARE_TEST(default_domain_type),
		ON_BOTH(store_dma_to_fq_live),
		ON_BOTH(store_eperm_while_used),
		ON_BOTH(store_einval_unknown),
		ON_BOTH(store_identity_untrusted_einval),
		ON_BOTH(def_type_by_kernel_6_12),
		ON_BOTH(store_by_kernel_6_1),
		ON_BOTH(def_type_conflict_uses_default),
		ON_BOTH(def_type_untrusted_forces_dma),
		ON_BOTH(def_type_target_conflict_einval),
		ON_BOTH(def_type_alloc_fails_no_default),
		ON_BOTH(store_auto),
		ON_BOTH(store_trailing_newline),
		ON_BOTH(store_then_release_restores_current),
		ON_BOTH(store_empty_group),
		/* groups */
		ON_BOTH(group_ids_lowest_free),
		ON_BOTH(group_shared_by_key),
		ON_BOTH(release_device_frees_group),
		ON_BOTH(release_device_owned_warns),
		ON_BOTH(register_probes_existing),
		/* fault injection */
		ON_BOTH(fail_nth_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
