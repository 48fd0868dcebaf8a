// SPDX-License-Identifier: MIT
/*
 * PCI names (src/machine/pci-names.c) and the script's lspci
 * (src/script/script-verbs.c). The names follow pciutils 3.9's
 * pci_lookup_name() (lib/names.c: format_name(), format_name_pair(),
 * id_lookup_subsys()) and lspci's show_terse(), show_verbose() and
 * show_kernel(); the lookups here come from a small table instead of
 * pci.ids, so each rule is seen with a name present and missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dmaown/dmaown.h"
#include "dmaown/script.h"
#include "dmaown/topology.h"
#include "machine/pci-names.h"

static const struct {
	enum machine_pci_id what;
	unsigned int id[4];
	const char *name;
} table[] = {
	{ PCI_ID_VENDOR, { 0x8086 }, "Intel" },
	{ PCI_ID_VENDOR, { 0x10de }, "NVIDIA" },
	{ PCI_ID_DEVICE, { 0x8086, 0x10d3 }, "82574L" },
	{ PCI_ID_DEVICE, { 0x10de, 0x1b80 }, "GP104" },
	{ PCI_ID_SUBSYSTEM, { 0x8086, 0x10d3, 0x8086, 0xa01f }, "CT" },
	{ PCI_ID_CLASS, { 0x02 }, "Network" },
	{ PCI_ID_SUBCLASS, { 0x02, 0x00 }, "Ethernet" },
	{ PCI_ID_CLASS, { 0x06 }, "Bridge" },
	{ PCI_ID_SUBCLASS, { 0x06, 0x04 }, "PCI bridge" },
	{ PCI_ID_CLASS, { 0x0c }, "Serial bus" },
	{ PCI_ID_SUBCLASS, { 0x0c, 0x03 }, "USB" },
	{ PCI_ID_PROGIF, { 0x0c, 0x03, 0x30 }, "XHCI" },
};

static int lookups;

static bool table_name(void *data, enum machine_pci_id what, unsigned int id1,
		       unsigned int id2, unsigned int id3, unsigned int id4,
		       char *ret, size_t len)
{
	(void)data;
	lookups++;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].what == what && table[i].id[0] == id1 &&
		    table[i].id[1] == id2 && table[i].id[2] == id3 &&
		    table[i].id[3] == id4) {
			snprintf(ret, len, "%s", table[i].name);
			return true;
		}
	return false;
}

static const struct machine_show_names names = {
	.pci_id_name = table_name,
};

#define B (char[PCI_NAMES_LEN]){ 0 }, PCI_NAMES_LEN

/* format_name_pair(): both names, the vendor only, neither */
static void test_device_pair(void **state)
{
	(void)state;
	assert_string_equal(pci_names_device(&names, 0x8086, 0x10d3,
					     PCI_NAMES_TEXT, B),
			    "Intel 82574L");
	assert_string_equal(pci_names_device(&names, 0x8086, 0x1533,
					     PCI_NAMES_TEXT, B),
			    "Intel Device 1533");
	assert_string_equal(pci_names_device(&names, 0x1b21, 0x3242,
					     PCI_NAMES_TEXT, B),
			    "Device 1b21:3242");
	assert_string_equal(pci_names_device(&names, 0x8086, 0x10d3,
					     PCI_NAMES_MIXED, B),
			    "Intel 82574L [8086:10d3]");
	assert_string_equal(pci_names_device(&names, 0x8086, 0x1533,
					     PCI_NAMES_MIXED, B),
			    "Intel Device [8086:1533]");
	assert_string_equal(pci_names_device(&names, 0x1b21, 0x3242,
					     PCI_NAMES_MIXED, B),
			    "Device [1b21:3242]");
	/* -n looks nothing up */
	lookups = 0;
	assert_string_equal(pci_names_device(&names, 0x8086, 0x10d3,
					     PCI_NAMES_NUMERIC, B),
			    "8086:10d3");
	assert_int_equal(lookups, 0);
	/* no table at all: lspci without pci.ids */
	assert_string_equal(pci_names_device(NULL, 0x8086, 0x10d3,
					     PCI_NAMES_TEXT, B),
			    "Device 8086:10d3");
}

/*
 * pci_lookup_name(PCI_LOOKUP_CLASS): the subclass's name; the base
 * class's with the number always when only it is known; "Class CCSS".
 */
static void test_class(void **state)
{
	(void)state;
	assert_string_equal(pci_names_class(&names, 0x0200, PCI_NAMES_TEXT, B),
			    "Ethernet");
	assert_string_equal(pci_names_class(&names, 0x0200, PCI_NAMES_MIXED, B),
			    "Ethernet [0200]");
	assert_string_equal(pci_names_class(&names, 0x0280, PCI_NAMES_TEXT, B),
			    "Network [0280]");
	assert_string_equal(pci_names_class(&names, 0x0280, PCI_NAMES_MIXED, B),
			    "Network [0280]");
	assert_string_equal(pci_names_class(&names, 0x0780, PCI_NAMES_TEXT, B),
			    "Class 0780");
	assert_string_equal(pci_names_class(&names, 0x0780, PCI_NAMES_MIXED, B),
			    "Class [0780]");
	assert_string_equal(pci_names_class(&names, 0x0200,
					    PCI_NAMES_NUMERIC, B),
			    "0200");
}

/* id_lookup_subsys() and format_name_pair() with the subsystem's ids */
static void test_subsystem(void **state)
{
	(void)state;
	assert_string_equal(pci_names_subsystem(&names, 0x8086, 0x10d3, 0x8086,
						0xa01f, PCI_NAMES_TEXT, B),
			    "Intel CT");
	assert_string_equal(pci_names_subsystem(&names, 0x8086, 0x10d3, 0x10de,
						0x0001, PCI_NAMES_TEXT, B),
			    "NVIDIA Device 0001");
	assert_string_equal(pci_names_subsystem(&names, 0x8086, 0x10d3, 0x8086,
						0xa01f, PCI_NAMES_MIXED, B),
			    "Intel CT [8086:a01f]");
}

/* PCI_LOOKUP_PROGIF, with IDE's mode bits spelt out when not named */
static void test_progif(void **state)
{
	(void)state;
	assert_string_equal(pci_names_progif(&names, 0x0c03, 0x30, B), "XHCI");
	assert_null(pci_names_progif(&names, 0x0c03, 0x20, B));
	assert_string_equal(pci_names_progif(NULL, 0x0101, 0x8a, B),
			    "Master SecP PriP");
	assert_null(pci_names_progif(NULL, 0x0101, 0xf0, B));
}

#define MACHINE                                                                \
	"machine t\nfirmware x86\niommu dmar0\n"                               \
	"pci 0000:00:1c.0 8086:a338 class=060400 type=root-port iommu=dmar0\n" \
	"pci 0000:00:14.0 8086:a36d class=0c0330 iommu=dmar0\n"                \
	"pci 0000:02:00.0 8086:10d3 sub=8086:a01f class=020000 "               \
	"parent=0000:00:1c.0 iommu=dmar0\n"                                    \
	"pci 0000:00:02.0 10de:1b80 class=030000 iommu=dmar0\n"                \
	"driver pcieport\ndriver e1000e\n"

/* Run @line on a fresh machine (with the table's names when @named). */
static char *run(const char *line, bool named, int *ret_status)
{
	struct topo_error err;
	struct machine *m = topology_load_string("t.machine", MACHINE, &err);
	struct script_ctx *ctx;
	struct script_result res;
	char *out;

	assert_non_null(m);
	ctx = script_ctx_new(m, "t.sh");
	assert_non_null(ctx);
	if (named)
		script_ctx_set_names(ctx, &names);
	assert_int_equal(script_exec_line(ctx, line, 1, &res), 0);
	out = strdup(res.status ? res.err : res.out);
	*ret_status = res.status;
	script_result_free(&res);
	script_ctx_free(ctx);
	machine_destroy(m);
	return out;
}

static void expect(const char *line, bool named, const char *want)
{
	int status;
	char *out = run(line, named, &status);

	assert_int_equal(status, 0);
	if (strcmp(out, want))
		fail_msg("%s:\n%s\nwanted:\n%s", line, out, want);
	free(out);
}

/* show_terse(): sorted by address, class and names, -n and -nn */
static void test_lspci_terse(void **state)
{
	(void)state;
	expect("lspci", true,
	       "00:02.0 Class 0300: NVIDIA GP104\n"
	       "00:14.0 USB: Intel Device a36d\n"
	       "00:1c.0 PCI bridge: Intel Device a338\n"
	       "02:00.0 Ethernet: Intel 82574L\n");
	expect("lspci -nn -s 02:00.0", true,
	       "02:00.0 Ethernet [0200]: Intel 82574L [8086:10d3]\n");
	expect("lspci -n -s 2:0.0", true, "02:00.0 0200: 8086:10d3\n");
	expect("lspci -s 02:00.0", false,
	       "02:00.0 Class 0200: Device 8086:10d3\n");
	expect("lspci -D -d 10de:", true,
	       "0000:00:02.0 Class 0300: NVIDIA GP104\n");
	expect("lspci -d ::0604", true,
	       "00:1c.0 PCI bridge: Intel Device a338\n");
	expect("lspci -s 1c.", true, "00:1c.0 PCI bridge: Intel Device a338\n");
	expect("lspci -s 03:", true, "");
}

/* -k adds Subsystem (show_terse()) and show_kernel()'s lines */
static void test_lspci_kernel(void **state)
{
	(void)state;
	expect("lspci -nnks 02:00.0", true,
	       "02:00.0 Ethernet [0200]: Intel 82574L [8086:10d3]\n"
	       "\tSubsystem: Intel CT [8086:a01f]\n"
	       "\tKernel driver in use: e1000e\n"
	       "\tKernel modules: e1000e\n");
}

/* -v: the prog-if, Flags from the command word and the IOMMU group */
static void test_lspci_verbose(void **state)
{
	(void)state;
	expect("lspci -v -s 00:14.0", true,
	       "00:14.0 USB: Intel Device a36d (prog-if 30 [XHCI])\n"
	       "\tFlags: fast devsel, IOMMU group 1\n"
	       "\tKernel modules: xhci_pci\n"
	       "\n");
	expect("lspci -v -s 02:00.0", true,
	       "02:00.0 Ethernet: Intel 82574L\n"
	       "\tSubsystem: Intel CT\n"
	       "\tFlags: bus master, fast devsel, latency 0, IOMMU group 2\n"
	       "\tKernel driver in use: e1000e\n"
	       "\tKernel modules: e1000e\n"
	       "\n");
}

static void expect_error(const char *line, const char *want)
{
	int status;
	char *out = run(line, true, &status);

	assert_int_equal(status, 2);
	assert_string_equal(out, want);
	free(out);
}

static void test_lspci_errors(void **state)
{
	(void)state;
	expect_error("lspci -s", "lspci: option requires an argument -- 's'\n");
	expect_error("lspci -s 0:0:0:0", "lspci: -s: Invalid slot number\n");
	expect_error("lspci -d 8086", "lspci: -d: Invalid ID\n");
	expect_error("lspci -t", "lspci: -t is not modelled\n");
	expect_error("lspci foo", "lspci: Unknown option 'foo'\n");
}

/* machine_show_text(): a PCI device's line ends with lspci -nn's names */
static void test_show_text(void **state)
{
	struct topo_error err;
	struct machine *m = topology_load_string("t.machine", MACHINE, &err);
	char *plain, *named;

	(void)state;
	assert_non_null(m);
	plain = machine_show(m, SHOW_TEXT);
	named = machine_show_text(m, &names);
	assert_non_null(strstr(plain, "dma=kernel\n"));
	assert_non_null(
		strstr(named, "e1000e           dma=kernel  Intel 82574L [8086:10d3]\n"));
	assert_null(strstr(plain, "[8086:10d3]"));
	free(plain);
	free(named);
	named = machine_show_text(m, NULL);
	plain = machine_show(m, SHOW_TEXT);
	assert_string_equal(named, plain);
	free(plain);
	free(named);
	machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_pair),
		cmocka_unit_test(test_class),
		cmocka_unit_test(test_subsystem),
		cmocka_unit_test(test_progif),
		cmocka_unit_test(test_lspci_terse),
		cmocka_unit_test(test_lspci_kernel),
		cmocka_unit_test(test_lspci_verbose),
		cmocka_unit_test(test_lspci_errors),
		cmocka_unit_test(test_show_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
