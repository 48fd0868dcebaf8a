// SPDX-License-Identifier: MIT
/*
 * Tests of IOMMU group computation for PCI (src/drivers/iommu/iommu-pci.c,
 * src/drivers/pci/{pci,search,quirks}.c): each test names the v6.6
 * function whose behaviour it pins: pci_acs_enabled(),
 * pci_acs_path_enabled(), pci_for_each_dma_alias(),
 * pci_dev_specific_acs_enabled() and its table, pci_enable_acs(),
 * pci_device_group(); then the machine-file side (groups computed/check,
 * acs-cap=, acs-ctl=, acs-request, pcie-acs-override, dma-alias=,
 * multifunction) and its errors.
 *
 * Groups are compared as text: the members of each group in group id
 * order, "|" between groups, without the "0000:" domain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "dmaown/dmaown.h"
#include "dmaown/topology.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "machine/machine-priv.h"

#define HEAD "machine t\nfirmware x86\ngroups computed\niommu dmar0\n"
#define RP(bdf, id, more) \
	"pci " bdf " " id " class=060400 type=root-port iommu=dmar0 " more "\n"
#define EP(bdf, id, parent, more) \
	"pci " bdf " " id " class=020000 parent=" parent " iommu=dmar0 " more "\n"

static struct machine *_load(const char *text, struct topo_error *err)
{
	return topology_load_string("t.machine", text, err);
}

static struct machine *do_load(const char *text)
{
	struct topo_error err;
	struct machine *m = _load(text, &err);

	if (!m)
		fail_msg("load failed: %s:%d:%d: %s", err.file, err.line,
			 err.col, err.msg);
	assert_int_equal(machine_warn_count(m), 0);
	return m;
}

static void err_load(const char *text, int line, int col, const char *msg)
{
	struct topo_error err;

	assert_null(_load(text, &err));
	if (err.line != line || err.col != col || strcmp(err.msg, msg))
		fail_msg("got      %d:%d: %s\nexpected %d:%d: %s", err.line,
			 err.col, err.msg, line, col, msg);
}

/* The groups of @m as text, as described above. */
static const char *groups_str(struct machine *m)
{
	static char buf[4096];
	size_t len = 0;
	struct device *dev;
	int max = -1;

	list_for_each_entry(dev, &m->devices, node)
		if (dev->iommu_group && dev->iommu_group->id > max)
			max = dev->iommu_group->id;
	buf[0] = '\0';
	for (int id = 0; id <= max; id++) {
		bool first = true;

		list_for_each_entry(dev, &m->devices, node) {
			if (!dev->iommu_group || dev->iommu_group->id != id)
				continue;
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"%s%s", first ? (len ? " | " : "") : " ",
						dev->name + 5);
			first = false;
		}
	}
	return buf;
}

static void expect_groups(const char *text, const char *want)
{
	struct machine *m = do_load(text);

	assert_string_equal(groups_str(m), want);
	machine_destroy(m);
}

/* The PCI view of a loaded machine, for the white-box tests. */
struct view {
	struct machine *m;
	struct device *devs[64];
	struct pci_devs all;
};

static void view_load(struct view *v, const char *text, bool ivrs)
{
	struct device *dev;
	size_t n = 0;

	v->m = do_load(text);
	list_for_each_entry(dev, &v->m->devices, node)
		if (n < 64)
			v->devs[n++] = dev;
	assert_int_equal(pci_devs_build(v->devs, n, &v->m->cfg, ivrs, &v->all),
			 0);
}

static struct pci_dev *vdev(struct view *v, const char *name)
{
	struct pci_dev *pdev = pci_devs_find(&v->all,
					     machine_find_device(v->m, name));

	if (!pdev)
		fail_msg("no PCI device %s", name);
	return pdev;
}

static void view_free(struct view *v)
{
	pci_devs_free(&v->all);
	machine_destroy(v->m);
}

/* ---- pci_acs_enabled() ---- */

static void pci_acs_enabled_by_type(void **state)
{
	struct view v;

	(void)state;
	view_load(&v,
		  HEAD
		  RP("0000:00:01.0", "1234:0001", "")
		  RP("0000:00:02.0", "1234:0001", "acs-cap=sv,rr,cr,uf")
		  RP("0000:00:03.0", "1234:0001", "acs-cap=sv,rr,cr,uf acs-ctl=sv,rr,cr")
		  /* UF missing from the capability counts as on */
		  RP("0000:00:04.0", "1234:0001", "acs-cap=sv,rr,cr acs-ctl=sv,rr,cr")
		  RP("0000:00:05.0", "1234:0001", "acs-cap=unknown")
		  EP("0000:01:00.0", "1234:0002", "0000:00:01.0", "")
		  EP("0000:02:00.0", "1234:0002", "0000:00:02.0", "")
		  EP("0000:02:00.1", "1234:0002", "0000:00:02.0", "")
		  "pci 0000:02:01.0 1234:0003 class=060400 type=pci-bridge parent=0000:00:02.0 iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
		  "pci 0000:03:00.0 1234:0004 class=020000 type=conventional parent=0000:02:01.0 iommu=dmar0\n",
		  false);
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:01.0"), REQ_ACS_FLAGS));
	/* pci_enable_acs() turned on what the capability has */
	assert_true(pci_acs_enabled(vdev(&v, "0000:00:02.0"), REQ_ACS_FLAGS));
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:03.0"), REQ_ACS_FLAGS));
	assert_true(pci_acs_enabled(vdev(&v, "0000:00:03.0"), PCI_ACS_RR));
	assert_true(pci_acs_enabled(vdev(&v, "0000:00:04.0"), REQ_ACS_FLAGS));
	/* egress control is never taken as hard-wired */
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:04.0"), PCI_ACS_EC));
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:05.0"), REQ_ACS_FLAGS));
	/* a single function is isolated from nothing */
	assert_true(pci_acs_enabled(vdev(&v, "0000:01:00.0"), REQ_ACS_FLAGS));
	/* functions of a multifunction device need the capability */
	assert_true(vdev(&v, "0000:02:00.0")->multifunction);
	assert_false(pci_acs_enabled(vdev(&v, "0000:02:00.0"), REQ_ACS_FLAGS));
	/* PCIe-to-PCI bridges and conventional PCI never isolate */
	assert_false(pci_acs_enabled(vdev(&v, "0000:02:01.0"), REQ_ACS_FLAGS));
	assert_false(pci_acs_enabled(vdev(&v, "0000:03:00.0"), REQ_ACS_FLAGS));
	view_free(&v);
}

/* the names machine files and output give ACS bits */
static void pci_acs_bit_names(void **state)
{
	(void)state;
	assert_string_equal(pci_acs_bit_name(PCI_ACS_SV), "sv");
	assert_string_equal(pci_acs_bit_name(PCI_ACS_UF), "uf");
	assert_string_equal(pci_acs_bit_name(PCI_ACS_DT), "dt");
	assert_null(pci_acs_bit_name(PCI_ACS_SV | PCI_ACS_RR));
	assert_null(pci_acs_bit_name(0));
	assert_null(pci_acs_bit_name(PCI_ACS_ALL_ + 1));
}

/* ---- pci_acs_path_enabled() ---- */

static void pci_acs_path_enabled_to_root(void **state)
{
	struct view v;

	(void)state;
	view_load(&v,
		  HEAD
		  RP("0000:00:01.0", "1234:0001", "")
		  RP("0000:00:02.0", "1234:0001", "acs-cap=sv,rr,cr,uf")
		  "pci 0000:01:00.0 1234:0005 class=060400 type=upstream parent=0000:00:01.0 iommu=dmar0\n"
		  "pci 0000:02:00.0 1234:0006 class=060400 type=downstream parent=0000:01:00.0 iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
		  "pci 0000:04:00.0 1234:0005 class=060400 type=upstream parent=0000:00:02.0 iommu=dmar0\n"
		  "pci 0000:05:00.0 1234:0006 class=060400 type=downstream parent=0000:04:00.0 iommu=dmar0 acs-cap=sv,rr,cr,uf\n",
		  false);
	/* the downstream port has ACS, the root port above has not */
	assert_false(pci_acs_path_enabled(vdev(&v, "0000:02:00.0"), NULL,
					  REQ_ACS_FLAGS));
	assert_true(pci_acs_path_enabled(vdev(&v, "0000:02:00.0"),
					 vdev(&v, "0000:01:00.0"),
					 REQ_ACS_FLAGS));
	assert_true(pci_acs_path_enabled(vdev(&v, "0000:05:00.0"), NULL,
					 REQ_ACS_FLAGS));
	view_free(&v);
}

/* ---- pci_for_each_dma_alias() ---- */

struct seen {
	char names[8][16];
	unsigned int alias[8];
	int n;
};

static int record_alias(struct pci_dev *pdev, unsigned int alias, void *data)
{
	struct seen *s = data;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s",
		 pdev->dev->name + 5);
	s->alias[s->n++] = alias;
	return 0;
}

static void pci_for_each_dma_alias_bridges(void **state)
{
	struct seen s = { .n = 0 };
	struct view v;

	(void)state;
	view_load(&v,
		  HEAD
		  RP("0000:00:1c.0", "8086:a338", "acs-cap=sv,rr,cr,uf")
		  "pci 0000:01:00.0 1b21:1080 class=060400 type=pci-bridge parent=0000:00:1c.0 iommu=dmar0\n"
		  "pci 0000:02:05.0 104c:8023 class=0c0010 type=conventional parent=0000:01:00.0 iommu=dmar0\n"
		  /* Marvell 88SE9128: quirk_dma_func1_alias() */
		  EP("0000:03:00.0", "1b4b:9128", "0000:00:1c.0", ""),
		  false);
	pci_for_each_dma_alias(vdev(&v, "0000:02:05.0"), record_alias, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "02:05.0");
	assert_int_equal(s.alias[0], 0x0228);
	/* the PCIe-to-PCI bridge: its secondary bus, devfn 0 */
	assert_string_equal(s.names[1], "01:00.0");
	assert_int_equal(s.alias[1], 0x0200);

	s.n = 0;
	pci_for_each_dma_alias(vdev(&v, "0000:03:00.0"), record_alias, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.alias[0], 0x0300);
	assert_int_equal(s.alias[1], 0x0301);
	assert_non_null(vdev(&v, "0000:03:00.0")->alias_quirk);
	view_free(&v);
}

/* ---- pci_dev_specific_acs_enabled(), pci_enable_acs() ---- */

static void pci_dev_specific_acs_enabled_table(void **state)
{
	const struct pci_quirk *q = NULL;
	struct view v;

	(void)state;
	view_load(&v,
		  HEAD
		  /* Intel Cougarpoint PCH root port: no ACS capability */
		  RP("0000:00:1c.0", "8086:1c10", "")
		  /* I350 functions: pci_quirk_mf_endpoint_acs() */
		  EP("0000:01:00.0", "8086:1521", "0000:00:1c.0", "")
		  EP("0000:01:00.1", "8086:1521", "0000:00:1c.0", "")
		  /* AMD FCH on the root bus: needs an AMD IOMMU */
		  "pci 0000:00:14.0 1022:780f class=060400 type=conventional iommu=dmar0\n"
		  "pci 0000:00:14.3 1022:7809 class=0c0310 type=conventional iommu=dmar0\n"
		  /* Zhaoxin port outside the quirk's ranges: never isolated */
		  RP("0000:00:1d.0", "1d17:0900", "acs-cap=sv,rr,cr,uf"),
		  false);
	assert_true(pci_acs_enabled(vdev(&v, "0000:00:1c.0"), REQ_ACS_FLAGS));
	assert_int_equal(pci_dev_specific_acs_enabled(vdev(&v, "0000:00:1c.0"),
						      REQ_ACS_FLAGS, &q), 1);
	assert_non_null(strstr(q->source, "pci_quirk_intel_pch_acs()"));
	assert_true(pci_acs_enabled(vdev(&v, "0000:01:00.1"), REQ_ACS_FLAGS));
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:14.0"), PCI_ACS_RR));
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:1d.0"), REQ_ACS_FLAGS));
	assert_int_equal(pci_dev_specific_acs_enabled(vdev(&v, "0000:00:1d.0"),
						      REQ_ACS_FLAGS, &q), 0);
	pci_devs_free(&v.all);
	/* with an AMD IOMMU the southbridge functions isolate RR and CR */
	assert_int_equal(pci_devs_build(v.devs, 6, &v.m->cfg, true, &v.all), 0);
	assert_true(pci_acs_enabled(vdev(&v, "0000:00:14.0"),
				    PCI_ACS_RR | PCI_ACS_CR));
	assert_true(pci_acs_enabled(vdev(&v, "0000:00:14.0"), REQ_ACS_FLAGS));
	view_free(&v);

	/* the PCH quirk's controls are on only once ACS was requested */
	view_load(&v, HEAD "acs-request no\n" RP("0000:00:1c.0", "8086:1c10", ""),
		  false);
	assert_false(pci_acs_enabled(vdev(&v, "0000:00:1c.0"), REQ_ACS_FLAGS));
	view_free(&v);
}

/* ---- pci_device_group() through machine files ---- */

static void pci_device_group_root_port_without_acs(void **state)
{
	(void)state;
	expect_groups(HEAD
		      RP("0000:00:01.0", "8086:1901", "")
		      RP("0000:00:1c.0", "8086:a338", "acs-cap=sv,rr,cr,uf")
		      "pci 0000:01:00.0 10de:1b80 class=030000 parent=0000:00:01.0 iommu=dmar0\n"
		      "pci 0000:01:00.1 10de:10f0 class=040300 parent=0000:00:01.0 iommu=dmar0\n"
		      EP("0000:02:00.0", "8086:10d3", "0000:00:1c.0", ""),
		      "00:01.0 01:00.0 01:00.1 | 00:1c.0 | 02:00.0");
}

static void pci_device_group_multifunction(void **state)
{
	(void)state;
	/* the PCH's functions share a group; an ACS function of it not */
	expect_groups(HEAD
		      "pci 0000:00:1f.0 8086:a305 class=060100 iommu=dmar0\n"
		      "pci 0000:00:1f.3 8086:a348 class=040300 iommu=dmar0\n"
		      "pci 0000:00:1f.4 8086:a323 class=0c0500 iommu=dmar0\n"
		      "pci 0000:00:1f.6 8086:15bc class=020000 iommu=dmar0 acs-cap=rr,cr\n"
		      "pci 0000:00:14.0 8086:a36d class=0c0330 iommu=dmar0\n",
		      "00:1f.0 00:1f.3 00:1f.4 | 00:1f.6 | 00:14.0");
}

static void pci_device_group_switch(void **state)
{
	(void)state;
	/* ACS downstream ports below an ACS root port: one group each */
	expect_groups(HEAD
		      RP("0000:00:01.0", "8086:1901", "acs-cap=sv,rr,cr,uf")
		      "pci 0000:01:00.0 10b5:8747 class=060400 type=upstream parent=0000:00:01.0 iommu=dmar0\n"
		      "pci 0000:02:08.0 10b5:8747 class=060400 type=downstream parent=0000:01:00.0 iommu=dmar0 acs-cap=sv,rr,cr,uf\n"
		      "pci 0000:02:10.0 10b5:8747 class=060400 type=downstream parent=0000:01:00.0 iommu=dmar0\n"
		      "pci 0000:02:11.0 10b5:8747 class=060400 type=downstream parent=0000:01:00.0 iommu=dmar0\n"
		      EP("0000:03:00.0", "15b3:1017", "0000:02:08.0", "")
		      EP("0000:04:00.0", "15b3:1017", "0000:02:10.0", "")
		      EP("0000:05:00.0", "15b3:1017", "0000:02:11.0", ""),
		      "00:01.0 | 01:00.0 | 02:08.0 | 02:10.0 04:00.0 | 02:11.0 05:00.0 | 03:00.0");
}

static void pci_device_group_pcie_to_pci_bridge(void **state)
{
	(void)state;
	/* the bridge takes over the requester ID of all behind it */
	expect_groups(HEAD
		      RP("0000:00:1c.0", "8086:a338", "acs-cap=sv,rr,cr,uf")
		      "pci 0000:01:00.0 1b21:1080 class=060400 type=pci-bridge parent=0000:00:1c.0 iommu=dmar0\n"
		      "pci 0000:02:05.0 104c:8023 class=0c0010 type=conventional parent=0000:01:00.0 iommu=dmar0\n"
		      "pci 0000:02:06.0 1102:0002 class=040100 type=conventional parent=0000:01:00.0 iommu=dmar0\n",
		      "00:1c.0 | 01:00.0 02:05.0 02:06.0");
}

static void pci_device_group_dma_alias(void **state)
{
	(void)state;
	/* Marvell function 0 aliases function 1: one group, ACS or not */
	expect_groups(HEAD
		      RP("0000:00:1c.0", "8086:a338", "acs-cap=sv,rr,cr,uf")
		      EP("0000:01:00.0", "1b4b:9230", "0000:00:1c.0", "")
		      EP("0000:01:00.1", "1b4b:9230", "0000:00:1c.0", "acs-cap=sv,rr,cr,uf")
		      RP("0000:00:1c.4", "8086:a33c", "acs-cap=sv,rr,cr,uf")
		      EP("0000:02:00.0", "1234:5678", "0000:00:1c.4", "dma-alias=00.2")
		      EP("0000:02:00.2", "1234:5678", "0000:00:1c.4", "acs-cap=rr,cr"),
		      "00:1c.0 | 01:00.0 01:00.1 | 00:1c.4 | 02:00.0 02:00.2");
}

static void pci_device_group_acs_request_devicetree(void **state)
{
	(void)state;
	/* devicetree: ACS not enabled at enumeration; root port joins */
	expect_groups("machine t\narch arm64\nfirmware devicetree\ngroups computed\n"
		      "iommu smmu0\n"
		      "pci 0000:00:01.0 1b36:000c class=060400 type=root-port iommu=smmu0 acs-cap=sv,tb,rr,cr,uf\n"
		      "pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:01.0 iommu=smmu0\n"
		      "pci 0000:00:02.0 1b36:000c class=060400 type=root-port iommu=smmu0 acs-cap=sv,tb,rr,cr,uf acs-ctl=sv,rr,cr,uf\n"
		      "pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:02.0 iommu=smmu0\n"
		      "driver pcieport\ndriver e1000e\n",
		      "00:01.0 01:00.0 | 00:02.0 | 02:00.0");
}

static void pcie_acs_overrides_option(void **state)
{
	(void)state;
	expect_groups(HEAD "pcie-acs-override downstream,multifunction\n"
		      RP("0000:00:01.0", "8086:1901", "")
		      EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", "")
		      EP("0000:01:00.1", "10de:10f0", "0000:00:01.0", ""),
		      "00:01.0 | 01:00.0 | 01:00.1");
	/* never for a function that has an ACS capability */
	expect_groups(HEAD "pcie-acs-override id:8086:1901\n"
		      RP("0000:00:01.0", "8086:1901", "acs-cap=sv,rr,cr,uf acs-ctl=-")
		      EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", ""),
		      "00:01.0 01:00.0");
	expect_groups(HEAD "pcie-acs-override id:8086:1901\n"
		      RP("0000:00:01.0", "8086:1901", "")
		      EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", ""),
		      "00:01.0 | 01:00.0");
}

static void groups_labels_unchanged(void **state)
{
	(void)state;
	/* no groups statement: labels as before, computed rules unused */
	expect_groups("machine t\nfirmware x86\niommu dmar0\n"
		      RP("0000:00:01.0", "8086:1901", "")
		      EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", ""),
		      "00:01.0 | 01:00.0");
}

static void groups_check(void **state)
{
	(void)state;
	expect_groups("machine t\nfirmware x86\ngroups check\niommu dmar0\n"
		      RP("0000:00:01.0", "8086:1901", "group=a")
		      EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", "group=a")
		      RP("0000:00:1c.0", "8086:a338", "acs-cap=sv,rr,cr,uf")
		      EP("0000:02:00.0", "10de:1b80", "0000:00:1c.0", ""),
		      "00:01.0 01:00.0 | 00:1c.0 | 02:00.0");
	err_load("machine t\nfirmware x86\ngroups check\niommu dmar0\n"
		 RP("0000:00:01.0", "8086:1901", "group=a")
		 EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", ""),
		 6, 5,
		 "'0000:01:00.0' is computed to share a group with '0000:00:01.0', but its group label differs");
	err_load("machine t\nfirmware x86\ngroups check\niommu dmar0\n"
		 RP("0000:00:01.0", "8086:1901", "acs-cap=sv,rr,cr,uf group=a")
		 EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", "group=a"),
		 6, 73,
		 "group label puts '0000:01:00.0' with '0000:00:01.0', but the computed groups part them");
}

static void malformed(void **state)
{
	(void)state;
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "group=x"), 5, 68,
		 "group= on a PCI device, but 'groups computed' at line 3 computes them; use 'groups check' to compare labels with the computed groups");
	/* shpc_capable() reads the capability of a bridge only */
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "")
		 EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", "shpc"), 6, 73,
		 "shpc needs a bridge (a type= bridge, or class=0604xx): a Standard Hot-Plug Controller is a bridge's capability");
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "acs-ctl=sv"), 5, 68,
		 "acs-ctl= needs acs-cap= with the capability's bits on the same device");
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "acs-cap=sv,xx"), 5, 79,
		 "expected sv, tb, rr, cr, uf, ec or dt in an ACS list, got 'xx'");
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "acs-cap=sv,sv"), 5, 79,
		 "duplicate ACS bit 'sv'");
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "dma-alias=0.1"), 5, 78,
		 "expected a device and function like 00.1 in dma-alias=, got '0.1'");
	err_load("machine t\ngroups sometimes\n", 2, 8,
		 "expected labels, computed or check after 'groups', got 'sometimes'");
	err_load("machine t\npcie-acs-override upstream\n", 2, 19,
		 "expected downstream, multifunction or id:VVVV:DDDD in pcie-acs-override, got 'upstream'");
	err_load("machine t\npcie-acs-override id:8086\n", 2, 19,
		 "expected downstream, multifunction or id:VVVV:DDDD in pcie-acs-override, got 'id:8086'");
}

/* A 1024-port fan-out stays fast: the same-bus walks are per bus. */
static void pci_device_group_large(void **state)
{
	size_t cap = 1 << 20, len;
	char *text = malloc(cap);
	struct machine *m;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "%s", HEAD);
	for (int b = 0; b < 64; b++)
		for (int d = 0; d < 32; d++)
			len += (size_t)snprintf(text + len, cap - len,
				"pci 0000:%02x:%02x.0 8086:10d3 class=020000 iommu=dmar0\n",
				b, d);
	m = do_load(text);
	assert_int_equal(machine_device_count(m), 64 * 32);
	machine_destroy(m);
	free(text);
}

/*
 * arm_smmu_device_group(): behind an arm-smmu (SMMUv2) a stream ID shared
 * with a device grouped before decides; stream IDs in two groups refuse
 * the device. Behind an arm-smmu-v3, arm_smmu_insert_master() refuses the
 * second device with a stream ID another holds: it gets no group.
 */
static void arm_smmu_device_group_stream_ids(void **state)
{
#define SMMU(kind) "machine t\narch arm64\nfirmware acpi-iort\ngroups computed\n" \
	"iommu smmu0 kind=" kind "\n" \
	"pci 0000:00:00.0 17cb:0400 class=060400 type=root-port iommu=smmu0 stream-id=0x0\n" \
	"pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:00.0 iommu=smmu0 stream-id=0x100\n" \
	"pci 0000:00:01.0 17cb:0400 class=060400 type=root-port iommu=smmu0 stream-id=0x8\n" \
	"pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:01.0 iommu=smmu0 stream-id=0x100\n" \
	"driver pcieport\ndriver e1000e\n"
	(void)state;
	expect_groups(SMMU("arm-smmu"), "00:00.0 | 00:01.0 | 01:00.0 02:00.0");
	expect_groups(SMMU("arm-smmu-v3"), "00:00.0 | 00:01.0 | 01:00.0");
	err_load("machine t\narch arm64\nfirmware acpi-iort\ngroups computed\n"
		 "iommu smmu0 kind=arm-smmu\n"
		 "pci 0000:00:00.0 8086:10d3 class=020000 iommu=smmu0 stream-id=0x1\n"
		 "pci 0000:00:01.0 8086:10d3 class=020000 iommu=smmu0 stream-id=0x2\n"
		 "pci 0000:00:02.0 8086:10d3 class=020000 iommu=smmu0 stream-id=0x1,0x2\n",
		 8, 5,
		 "the stream IDs of '0000:00:02.0' belong to two groups: arm_smmu_device_group() refuses the device");
	/* of_pci_iommu_init(): a stream ID for each alias, the model's 4 at most */
	err_load("machine t\narch arm64\nfirmware devicetree\ngroups computed\n"
		 "iommu smmu0\n"
		 "pci 0000:00:00.0 8086:10d3 class=020000 iommu=smmu0 dma-alias=00.1,00.2,00.3\n"
		 "pci 0000:00:01.0 8086:10d3 class=020000 iommu=smmu0 dma-alias=01.1,01.2,01.3,01.4\n",
		 7, 5,
		 "'0000:00:01.0' has more DMA aliases than the 4 stream IDs a device can have behind an arm-smmu-v3 (one for each)");
	err_load(HEAD RP("0000:00:01.0", "8086:1901", "stream-id=256"), 5, 78,
		 "expected a stream ID like 0x100 in stream-id=, got '256'");
#undef SMMU
}

/*
 * arm_smmu_probe_device() (v6.6) behind an arm-smmu-v3 on device tree:
 * each device's stream IDs are its DMA aliases (of_pci_iommu_init() for
 * each of pci_for_each_dma_alias()), so both e1000 behind the PCIe-to-PCI
 * bridge hold 0x800 (bus 08, devfn 0) and the second probed is refused
 * with the kernel's warning; it binds all the same, without a group. The
 * refusal lasts while the holder is in the tree: unbinding and binding the
 * second again is refused again. shpchp binds only the bridge with an SHPC
 * and is a kernel DMA user of its group.
 */
/* How many lines of @m's log contain @needle. */
static int log_has(const struct machine *m, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < machine_log_count(m); i++) {
		const struct klog_entry *e = machine_log_entry(m, i);

		n += e && strstr(e->text, needle);
	}
	return n;
}

/* @bdf unbound from driver @drv and bound again, through sysfs */
static void rebind(struct machine *m, const char *drv, const char *bdf)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", drv);
	assert_int_equal(sysfs_write(m, path, bdf, strlen(bdf)), 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", drv);
	assert_int_equal(sysfs_write(m, path, bdf, strlen(bdf)), 0);
}

/*
 * arm64 on device tree with an SMMUv3: a root port (@rp: its options) and
 * a PCIe-to-PCI bridge at 07:00.0 (@br: its ids and options), and an
 * e1000 behind it at @bdf.
 */
#define SMMU3_BRIDGE(rp, br)                                                 \
	"machine t\narch arm64\nfirmware devicetree\ngroups computed\n"        \
	"iommu smmu0\n"                                                       \
	"pci 0000:00:04.0 1b36:000c class=060400 type=root-port iommu=smmu0" \
	rp "\n"                                                               \
	"pci 0000:07:00.0 " br " class=060400 type=pci-bridge "              \
	"parent=0000:00:04.0 iommu=smmu0\n"
#define E1000_BEHIND(bdf)                                                    \
	"pci 0000:" bdf " 8086:100e class=020000 type=conventional "         \
	"parent=0000:07:00.0 iommu=smmu0\n"

/* two e1000 behind the bridge, below a root port with ACS, bound */
#define SMMU3_TWO_BEHIND_BRIDGE                                             \
	SMMU3_BRIDGE(" acs-cap=sv,tb,rr,cr,uf,dt", "1b36:000e")                \
	E1000_BEHIND("08:01.0") E1000_BEHIND("08:02.0")                      \
	"driver pcieport\ndriver e1000\n"

static void arm_smmu_v3_stream_tree(void **state)
{
	struct machine *m = do_load(
		SMMU3_BRIDGE(" acs-cap=sv,tb,rr,cr,uf,dt", "1b36:000e shpc")
		E1000_BEHIND("08:01.0") E1000_BEHIND("08:02.0")
		"pci 0000:00:05.0 1b36:000c class=060400 type=root-port iommu=smmu0 acs-cap=sv,tb,rr,cr,uf,dt\n"
		"driver pcieport\ndriver shpchp\ndriver e1000\n");
	struct device *bridge = machine_find_device(m, "0000:07:00.0");
	struct device *first = machine_find_device(m, "0000:08:01.0");
	struct device *second = machine_find_device(m, "0000:08:02.0");
	struct device *port = machine_find_device(m, "0000:00:05.0");

	(void)state;
	assert_non_null(second);
	assert_string_equal(groups_str(m), "00:04.0 07:00.0 08:01.0 | 00:05.0");
	assert_int_equal(first->fw.nr_sids, 2);
	assert_int_equal(first->fw.sids[0], 0x808);
	assert_int_equal(first->fw.sids[1], 0x800);
	assert_null(second->iommu_group);
	assert_non_null(second->driver);
	assert_string_equal(second->driver->name, "e1000");
	assert_non_null(bridge->driver);
	assert_string_equal(bridge->driver->name, "shpchp");
	assert_string_equal(port->driver->name, "pcieport");
	assert_int_equal(log_has(m, "e1000 0000:08:02.0: stream 2048 already in tree from dev 0000:08:01.0"), 1);
	rebind(m, "e1000", "0000:08:02.0");
	assert_null(second->iommu_group);
	assert_int_equal(log_has(m, "stream 2048 already in tree"), 2);
	machine_destroy(m);
	/* without an SHPC, shpchp's probe declines the bridge */
	m = do_load(SMMU3_BRIDGE("", "1b36:000e") "driver shpchp\n");
	assert_null(machine_find_device(m, "0000:07:00.0")->driver);
	machine_destroy(m);
	/* shpc_capable(): AMD's GOLAM 7450 is taken for one without it */
	m = do_load(SMMU3_BRIDGE("", "1022:7450")
		    "pci 0000:07:00.1 1022:7451 class=060400 type=pci-bridge parent=0000:00:04.0 iommu=smmu0\n"
		    "driver shpchp\n");
	assert_non_null(machine_find_device(m, "0000:07:00.0")->driver);
	assert_null(machine_find_device(m, "0000:07:00.1")->driver);
	machine_destroy(m);
}

/*
 * arm_smmu_remove_master() (v6.6, from arm_smmu_release_device()) takes
 * the holder's stream IDs out of the tree when it goes away, so the
 * device it kept out gets a group at its next probe (of_dma_configure()
 * probes the IOMMU again at each driver probe). And arm_smmu_insert_master()
 * refuses a clash of stream-id= given by firmware as well as one of
 * aliases: the device holding 0x800 first keeps it, across groups.
 */
static void arm_smmu_v3_stream_tree_release(void **state)
{
	struct machine *m = do_load(SMMU3_TWO_BEHIND_BRIDGE);
	struct device *second = machine_find_device(m, "0000:08:02.0");

	(void)state;
	assert_null(second->iommu_group);
	assert_int_equal(sysfs_write(m, "/sys/bus/pci/devices/0000:08:01.0/remove",
				     "1", 1), 0);
	assert_null(machine_find_device(m, "0000:08:01.0"));
	rebind(m, "e1000", "0000:08:02.0");
	assert_non_null(second->iommu_group);
	assert_string_equal(groups_str(m), "00:04.0 07:00.0 08:02.0");
	assert_int_equal(log_has(m, "already in tree"), 1);
	machine_destroy(m);

	/*
	 * arm_smmu_insert_master(): "Bridged PCI devices may end up with
	 * duplicated IDs": the function at devfn 0 behind the bridge is its
	 * own alias, so it lists 0x800 twice and is not refused by itself.
	 */
	m = do_load(SMMU3_BRIDGE("", "1b36:000e")
		    E1000_BEHIND("08:00.0") E1000_BEHIND("08:01.0")
		    "driver pcieport\ndriver e1000\n");
	second = machine_find_device(m, "0000:08:00.0");
	assert_int_equal(second->fw.nr_sids, 2);
	assert_int_equal(second->fw.sids[0], 0x800);
	assert_int_equal(second->fw.sids[1], 0x800);
	assert_non_null(second->iommu_group);
	assert_null(machine_find_device(m, "0000:08:01.0")->iommu_group);
	assert_int_equal(log_has(m, "already in tree"), 1);
	machine_destroy(m);

	/* firmware's stream-id=: 01:00.0 holds 0x800 before 02:00.0 probes */
	m = do_load("machine t\narch arm64\nfirmware acpi-iort\ngroups computed\n"
		    "iommu smmu0\n"
		    "pci 0000:00:01.0 1b36:000c class=060400 type=root-port iommu=smmu0 acs-cap=sv,tb,rr,cr,uf,dt\n"
		    "pci 0000:00:02.0 1b36:000c class=060400 type=root-port iommu=smmu0 acs-cap=sv,tb,rr,cr,uf,dt\n"
		    "pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:01.0 iommu=smmu0 stream-id=0x800\n"
		    "pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:02.0 iommu=smmu0 stream-id=0x800\n"
		    "driver pcieport\ndriver e1000e\n");
	assert_non_null(machine_find_device(m, "0000:01:00.0")->iommu_group);
	assert_null(machine_find_device(m, "0000:02:00.0")->iommu_group);
	assert_int_equal(log_has(m, "e1000e 0000:02:00.0: stream 2048 already in tree from dev 0000:01:00.0"), 1);
	machine_destroy(m);
}

/* The device holding stream @sid of @dev's group key in its SMMU's tree */
static struct device *stream_holder(const struct device *dev, unsigned int sid)
{
	return u64map_get(&dev->fw.iommu->streams,
			  (uint64_t)dev->fw.group_key << 32 | sid);
}

/*
 * The SMMU's stream tree kept (iommu_device::streams): what each
 * assertion follows in v6.6 is named beside it. The tree is part of the
 * machine: a clone has its own, naming the clone's devices, and a
 * refusal or a removal in one machine leaves the other's alone.
 */
static void arm_smmu_v3_stream_index(void **state)
{
	struct machine *m = do_load(SMMU3_TWO_BEHIND_BRIDGE);
	struct device *first = machine_find_device(m, "0000:08:01.0");
	struct device *second = machine_find_device(m, "0000:08:02.0");
	struct device *bridge = machine_find_device(m, "0000:07:00.0");
	struct iommu_device *smmu = first->fw.iommu;
	struct machine *c;
	struct device *cfirst, *csecond;

	(void)state;
	/* arm_smmu_insert_master(): each ID of a master that probed */
	assert_int_equal(second->fw.sids[0], 0x810);
	assert_int_equal(second->fw.sids[1], 0x800);
	assert_ptr_equal(stream_holder(first, 0x808), first);
	assert_ptr_equal(stream_holder(first, 0x800), first);
	assert_ptr_equal(stream_holder(bridge, 0x700), bridge);
	/*
	 * arm_smmu_insert_master(): the refused master's IDs inserted before
	 * the clash (0x810) are erased again; the holder keeps 0x800
	 */
	assert_null(stream_holder(second, 0x810));
	assert_ptr_equal(stream_holder(second, 0x800), first);
	assert_int_equal(smmu->streams.count, 4); /* 00:04.0, 07:00.0, 08:01.0 x2 */

	/* machine_clone(): the copy's tree names the copy's devices */
	c = machine_clone(m);
	assert_non_null(c);
	cfirst = machine_find_device(c, "0000:08:01.0");
	csecond = machine_find_device(c, "0000:08:02.0");
	assert_ptr_not_equal(cfirst->fw.iommu, smmu);
	assert_int_equal(cfirst->fw.iommu->streams.count, 4);
	assert_ptr_equal(stream_holder(cfirst, 0x800), cfirst);
	assert_ptr_equal(stream_holder(cfirst, 0x808), cfirst);
	assert_null(stream_holder(csecond, 0x810));
	/* arm_smmu_probe_device() in the copy: refused again, same line */
	rebind(c, "e1000", "0000:08:02.0");
	assert_null(csecond->iommu_group);
	assert_int_equal(log_has(c, "e1000 0000:08:02.0: stream 2048 already in tree from dev 0000:08:01.0"), 2);

	/*
	 * arm_smmu_release_device() -> arm_smmu_remove_master(): the copy's
	 * holder leaves (hot-unplug) and its IDs with it; the original's
	 * tree still has them
	 */
	assert_int_equal(sysfs_write(c, "/sys/bus/pci/devices/0000:08:01.0/remove",
				     "1", 1), 0);
	assert_null(machine_find_device(c, "0000:08:01.0"));
	assert_null(stream_holder(csecond, 0x800));
	assert_int_equal(csecond->fw.iommu->streams.count, 2);
	assert_ptr_equal(stream_holder(first, 0x800), first);
	assert_int_equal(smmu->streams.count, 4);
	/* arm_smmu_probe_device(): the next probe of the refused one takes them */
	rebind(c, "e1000", "0000:08:02.0");
	assert_non_null(csecond->iommu_group);
	assert_ptr_equal(stream_holder(csecond, 0x810), csecond);
	assert_ptr_equal(stream_holder(csecond, 0x800), csecond);
	assert_int_equal(csecond->fw.iommu->streams.count, 4);
	machine_destroy(c);

	/* the original is as it was: 08:02.0 still refused */
	assert_null(second->iommu_group);
	assert_int_equal(log_has(m, "already in tree"), 1);
	/* iommu_release_device(): unbinding keeps the group, and the IDs */
	assert_int_equal(sysfs_write(m, "/sys/bus/pci/drivers/e1000/unbind",
				     "0000:08:01.0", 12), 0);
	assert_ptr_equal(stream_holder(first, 0x800), first);
	assert_int_equal(sysfs_write(m, "/sys/bus/pci/devices/0000:08:01.0/remove",
				     "1", 1), 0);
	assert_null(stream_holder(second, 0x800));
	assert_null(stream_holder(second, 0x808));
	machine_destroy(m);
}

/*
 * The documented quirk (docs/architecture.md): a refused device has its
 * holder's group key, so that the tree finds the holder at boot. When the
 * holder leaves and the refused device probes again, it joins what is
 * left of the holder's group, where v6.6's arm_smmu_device_group() would
 * run pci_device_group() for it and, behind a root port with ACS, give it
 * a group of its own. Pinned as the model does it, not as the kernel.
 */
static void arm_smmu_v3_refused_takes_holder_group(void **state)
{
	struct machine *m = do_load(
		"machine t\narch arm64\nfirmware acpi-iort\ngroups computed\n"
		"iommu smmu0\n"
		"pci 0000:00:01.0 1b36:000c class=060400 type=root-port iommu=smmu0\n"
		"pci 0000:00:02.0 1b36:000c class=060400 type=root-port iommu=smmu0 acs-cap=sv,tb,rr,cr,uf,dt\n"
		"pci 0000:01:00.0 8086:10d3 class=020000 parent=0000:00:01.0 iommu=smmu0 stream-id=0x800\n"
		"pci 0000:02:00.0 8086:10d3 class=020000 parent=0000:00:02.0 iommu=smmu0 stream-id=0x800\n"
		"driver pcieport\ndriver e1000e\n");
	struct device *refused = machine_find_device(m, "0000:02:00.0");

	(void)state;
	assert_null(refused->iommu_group);
	assert_int_equal(log_has(m, "e1000e 0000:02:00.0: stream 2048 already in tree from dev 0000:01:00.0"), 1);
	assert_string_equal(groups_str(m), "00:01.0 01:00.0 | 00:02.0");
	assert_int_equal(sysfs_write(m, "/sys/bus/pci/devices/0000:01:00.0/remove",
				     "1", 1), 0);
	assert_null(stream_holder(refused, 0x800));
	rebind(m, "e1000e", "0000:02:00.0");
	assert_ptr_equal(stream_holder(refused, 0x800), refused);
	/* the kernel: "00:01.0 | 00:02.0 | 02:00.0" */
	assert_string_equal(groups_str(m), "00:01.0 02:00.0 | 00:02.0");
	machine_destroy(m);
}

/* machine_explain(): its errors, and JSON that starts with the version */
static void machine_explain_api(void **state)
{
	struct machine *m = do_load(HEAD
		RP("0000:00:01.0", "8086:1901", "")
		EP("0000:01:00.0", "10de:1b80", "0000:00:01.0", "")
		"pci 0000:02:00.0 8086:10d3 class=020000\n");
	char *text;
	int err;

	(void)state;
	assert_null(machine_explain(m, "0000:09:00.0", false, &err));
	assert_int_equal(err, -ENODEV);
	assert_null(machine_explain(m, "0000:02:00.0", false, &err));
	assert_int_equal(err, -ENXIO);
	text = machine_explain(m, "0000:01:00.0", true, &err);
	assert_non_null(text);
	assert_int_equal(err, 0);
	assert_memory_equal(text, "{\"version\":1,", 12);
	assert_non_null(strstr(text, "\"rule\":\"bridge-without-acs\",\"device\":\"0000:00:01.0\",\"port\":\"0000:00:01.0\",\"missing\":[\"sv\",\"rr\",\"cr\",\"uf\"]"));
	free(text);
	text = machine_explain(m, NULL, false, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "group 0: 0000:00:01.0 0000:01:00.0\n"));
	free(text);
	machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pci_acs_enabled_by_type),
		cmocka_unit_test(pci_acs_bit_names),
		cmocka_unit_test(pci_acs_path_enabled_to_root),
		cmocka_unit_test(pci_for_each_dma_alias_bridges),
		cmocka_unit_test(pci_dev_specific_acs_enabled_table),
		cmocka_unit_test(pci_device_group_root_port_without_acs),
		cmocka_unit_test(pci_device_group_multifunction),
		cmocka_unit_test(pci_device_group_switch),
		cmocka_unit_test(pci_device_group_pcie_to_pci_bridge),
		cmocka_unit_test(pci_device_group_dma_alias),
		cmocka_unit_test(pci_device_group_acs_request_devicetree),
		cmocka_unit_test(pcie_acs_overrides_option),
		cmocka_unit_test(groups_labels_unchanged),
		cmocka_unit_test(groups_check),
		cmocka_unit_test(malformed),
		cmocka_unit_test(pci_device_group_large),
		cmocka_unit_test(arm_smmu_device_group_stream_ids),
		cmocka_unit_test(arm_smmu_v3_stream_tree),
		cmocka_unit_test(arm_smmu_v3_stream_tree_release),
		cmocka_unit_test(arm_smmu_v3_stream_index),
		cmocka_unit_test(arm_smmu_v3_refused_takes_holder_group),
		cmocka_unit_test(machine_explain_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
