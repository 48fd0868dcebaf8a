// SPDX-License-Identifier: MIT
/*
 * modprobe.d and modprobe (src/userspace/modprobe.c) and the machine
 * file's 'modprobe.d' and 'kernel-release' statements. The rules are
 * kmod 30's (libkmod-config.c, libkmod-module.c): each test names the
 * function whose behaviour it pins, kmod_module_get_options(),
 * kmod_module_get_softdeps(), kmod_module_get_install_commands(),
 * kmod_module_probe_insert_module() (its probe list and blacklist
 * flags), kmod_config_parse() (the bad lines), and the kernel's
 * parse_args() (a parameter given twice keeps its last value).
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

/* The passthrough desktop: a GPU and its audio function in one group. */
#define HEAD                                                                   \
	"machine t\nfirmware x86\niommu dmar0\n"                               \
	"pci 0000:00:01.0 8086:1901 class=060400 type=root-port iommu=dmar0\n" \
	"pci 0000:01:00.0 10de:1b80 class=030000 parent=0000:00:01.0 "         \
	"iommu=dmar0 group=g\n"                                                \
	"pci 0000:01:00.1 10de:10f0 class=040300 parent=0000:00:01.0 "         \
	"iommu=dmar0 group=g\n"                                                \
	"driver pcieport\n"
#define GPU_DRIVERS "driver nouveau\ndriver snd_hda_intel\n"
#define VFIO_IDS "modprobe.d options vfio-pci ids=10de:1b80,10de:10f0\n"

static struct machine *load(const char *text)
{
	struct topo_error err;
	struct machine *m = topology_load_string("t.machine", text, &err);

	if (!m)
		fail_msg("%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	return m;
}

static const char *drv(struct machine *m, const char *dev)
{
	const char *d = device_driver_name(machine_find_device(m, dev));

	return d ? d : "-";
}

/* Run @line; its stdout then stderr; *@ret_status its status. */
static char *run(struct machine *m, const char *line, int *ret_status)
{
	struct script_ctx *ctx = script_ctx_new(m, "t.sh");
	struct script_result res;
	char *out;

	assert_non_null(ctx);
	assert_int_equal(script_exec_line(ctx, line, 1, &res), 0);
	assert_int_not_equal(asprintf(&out, "%s%s", res.out, res.err), -1);
	*ret_status = res.status;
	script_result_free(&res);
	script_ctx_free(ctx);
	return out;
}

static void expect_run(struct machine *m, const char *line, int status,
		       const char *want)
{
	int st;
	char *out = run(m, line, &st);

	if (st != status || strcmp(out, want))
		fail_msg("%s: status %d, output:\n%s\nwanted %d:\n%s", line, st,
			 out, status, want);
	free(out);
}

/*
 * kmod_module_probe_insert_module(): udev loads nouveau at boot; its pre
 * softdep vfio-pci comes first, with its options, and takes the GPU.
 * Without the softdep nouveau and snd_hda_intel keep their devices.
 */
static void test_softdep_boot(void **state)
{
	struct machine *m;

	(void)state;
	m = load(HEAD GPU_DRIVERS VFIO_IDS
		 "modprobe.d softdep nouveau pre: vfio-pci\n");
	assert_string_equal(drv(m, "0000:01:00.0"), "vfio-pci");
	assert_string_equal(drv(m, "0000:01:00.1"), "vfio-pci");
	machine_destroy(m);

	m = load(HEAD GPU_DRIVERS VFIO_IDS);
	assert_string_equal(drv(m, "0000:01:00.0"), "nouveau");
	assert_string_equal(drv(m, "0000:01:00.1"), "snd_hda_intel");
	machine_destroy(m);

	/* post: loaded after: nouveau wins the GPU, vfio-pci the rest */
	m = load(HEAD GPU_DRIVERS VFIO_IDS
		 "modprobe.d softdep nouveau post: vfio-pci\n");
	assert_string_equal(drv(m, "0000:01:00.0"), "nouveau");
	assert_string_equal(drv(m, "0000:01:00.1"), "vfio-pci");
	machine_destroy(m);
}

/*
 * kmod_module_get_softdeps(): the first line whose glob matches, no
 * other; names with '-' and '_' alike; softdeps not in the catalogue,
 * and loops, are passed over.
 */
static void test_softdep_first_glob(void **state)
{
	struct machine *m;

	(void)state;
	m = load(HEAD GPU_DRIVERS VFIO_IDS
		 "modprobe.d softdep nouv* pre: nvidia-fake vfio_pci\n"
		 "modprobe.d softdep nouveau pre: pci-stub\n"
		 "modprobe.d softdep vfio-pci pre: nouveau\n");
	assert_string_equal(drv(m, "0000:01:00.0"), "vfio-pci");
	assert_null(machine_find_driver(m, "pci-stub"));
	machine_destroy(m);
}

/*
 * Blacklist (KMOD_PROBE_APPLY_BLACKLIST): not loaded by alias at boot,
 * nor by 'modprobe -b'; 'modprobe NAME' loads it all the same.
 */
static void test_blacklist(void **state)
{
	struct machine *m;

	(void)state;
	m = load(HEAD GPU_DRIVERS "modprobe.d blacklist nouveau\n");
	assert_string_equal(drv(m, "0000:01:00.0"), "-");
	assert_string_equal(drv(m, "0000:01:00.1"), "snd_hda_intel");
	expect_run(m, "modprobe -b nouveau", 0, "");
	assert_string_equal(drv(m, "0000:01:00.0"), "-");
	expect_run(m, "modprobe nouveau", 0, "");
	assert_string_equal(drv(m, "0000:01:00.0"), "nouveau");
	machine_destroy(m);
}

/*
 * kmod_module_get_install_commands(): 'install nouveau /bin/false' keeps
 * it out at boot and makes modprobe fail as kmod says; -i loads it;
 * /bin/true succeeds without loading anything.
 */
static void test_install(void **state)
{
	struct machine *m;

	(void)state;
	m = load(HEAD GPU_DRIVERS "modprobe.d install nouveau /bin/false\n"
				  "modprobe.d install snd_hda_intel true\n");
	assert_string_equal(drv(m, "0000:01:00.0"), "-");
	assert_string_equal(drv(m, "0000:01:00.1"), "-");
	expect_run(m, "modprobe -v nouveau", 1,
		   "install /bin/false \n"
		   "modprobe: ERROR: Error running install command '/bin/false' for module nouveau: retcode 1\n"
		   "modprobe: ERROR: could not insert 'nouveau': Invalid argument\n");
	expect_run(m, "modprobe snd-hda-intel", 0, "");
	assert_null(machine_find_driver(m, "snd_hda_intel"));
	expect_run(m, "modprobe -i nouveau", 0, "");
	assert_string_equal(drv(m, "0000:01:00.0"), "nouveau");
	machine_destroy(m);
}

/*
 * kmod_module_get_options(): every options line, in order, then the
 * command line's; parse_args(): the last ids= wins. Parameters the model
 * does not carry out are printed by -v and change nothing.
 */
static void test_options(void **state)
{
	struct machine *m;

	(void)state;
	m = load(HEAD GPU_DRIVERS
		 "modprobe.d options vfio_pci ids=10de:10f0 disable_idle_d3=1\n"
		 "modprobe.d options vfio-pci ids=10de:1b80\n"
		 "modprobe.d options nouveau modeset=0\n");
	expect_run(m, "modprobe -v vfio-pci", 0,
		   "insmod /lib/modules/6.6.0-dmaown/kernel/vfio-pci.ko "
		   "ids=10de:10f0 disable_idle_d3=1 ids=10de:1b80\n");
	/* only 10de:1b80: nouveau holds it, vfio-pci took nothing */
	assert_string_equal(drv(m, "0000:01:00.0"), "nouveau");
	assert_string_equal(drv(m, "0000:01:00.1"), "snd_hda_intel");
	expect_run(m, "rmmod nouveau", 0, "");
	expect_run(m, "rmmod vfio-pci", 0, "");
	expect_run(m, "modprobe vfio-pci ids=10de:10f0", 0, "");
	assert_string_equal(drv(m, "0000:01:00.0"), "-");
	expect_run(m, "modprobe -r vfio-pci", 0, "");
	expect_run(m, "modprobe vfio-pci", 0, "");
	assert_string_equal(drv(m, "0000:01:00.0"), "vfio-pci");
	machine_destroy(m);
}

/* kernel-release: recorded with its numbers; /lib/modules names it */
static void test_kernel_release(void **state)
{
	struct machine *m, *c;
	unsigned int major = 9, minor = 9;
	char *text;

	(void)state;
	m = load(HEAD "kernel-release 6.1.0-18-amd64\n"
		      "modprobe.d softdep nouveau pre: vfio-pci\n");
	assert_string_equal(machine_kernel_release(m, &major, &minor),
			    "6.1.0-18-amd64");
	assert_int_equal(major, 6);
	assert_int_equal(minor, 1);
	text = machine_show(m, SHOW_TEXT);
	assert_non_null(strstr(text, "default domain DMA-FQ, kernel 6.1.0-18-amd64\n"));
	free(text);
	expect_run(m, "modprobe nvidia", 1,
		   "modprobe: FATAL: Module nvidia not found in directory /lib/modules/6.1.0-18-amd64\n");
	/* a clone shares the configuration and keeps the release */
	c = machine_clone(m);
	assert_non_null(c);
	machine_destroy(m);
	expect_run(c, "modprobe -v nouveau", 0,
		   "insmod /lib/modules/6.1.0-18-amd64/kernel/vfio-pci.ko\n"
		   "insmod /lib/modules/6.1.0-18-amd64/kernel/nouveau.ko\n");
	assert_string_equal(machine_kernel_release(c, NULL, NULL),
			    "6.1.0-18-amd64");
	machine_destroy(c);

	m = load(HEAD);
	assert_null(machine_kernel_release(m, &major, &minor));
	assert_int_equal(major, 0);
	machine_destroy(m);
}

static void expect_error(const char *line, int col, const char *msg)
{
	struct topo_error err;
	char *text;
	struct machine *m;

	assert_int_not_equal(asprintf(&text, "%s%s\n", HEAD, line), -1);
	m = topology_load_string("t.machine", text, &err);
	free(text);
	if (m) {
		machine_destroy(m);
		fail_msg("'%s' was accepted", line);
	}
	if (err.line != 8 || err.col != col || strcmp(err.msg, msg))
		fail_msg("'%s': %d:%d: %s, wanted 8:%d: %s", line, err.line,
			 err.col, err.msg, col, msg);
}

/* kmod_config_parse()'s bad lines, and what the model does not carry out */
static void test_errors(void **state)
{
	(void)state;
	expect_error("modprobe.d", 11,
		     "expected options, softdep, blacklist or install");
	expect_error("modprobe.d option vfio-pci ids=1", 12,
		     "unknown command 'option'; expected options, softdep, blacklist or install");
	expect_error("modprobe.d options vfio-pci", 28,
		     "expected 'options MODULE OPTION...'");
	expect_error("modprobe.d options vfio-pci =1", 29,
		     "expected a module parameter NAME=VALUE, got '=1'");
	expect_error("modprobe.d softdep nouveau vfio-pci", 28,
		     "expected 'pre:' or 'post:' before 'vfio-pci'");
	expect_error("modprobe.d softdep nouveau pre:", 32,
		     "expected 'softdep MODULE pre: MODULE... post: MODULE...'");
	expect_error("modprobe.d blacklist", 21,
		     "expected 'blacklist MODULE'");
	expect_error("modprobe.d install nouveau", 27,
		     "expected 'install MODULE COMMAND'");
	expect_error("modprobe.d install nouveau /sbin/modprobe -i nouveau", 28,
		     "install command '/sbin/modprobe' is not modelled; expected /bin/true or /bin/false");
	expect_error("modprobe.d alias pci:v000010DEd* vfio-pci", 12,
		     "'alias' lines are not modelled");
	expect_error("modprobe.d include /etc/x.conf", 12,
		     "'include' is deprecated: kmod does not read it");
	expect_error("kernel-release six", 16,
		     "expected a kernel release like 6.1.0-18-amd64, got 'six'");
	expect_error("kernel-release 6.x", 16,
		     "expected a kernel release like 6.1.0-18-amd64, got '6.x'");
	expect_error("kernel-release", 15,
		     "expected a kernel release like 6.1.0-18-amd64 after 'kernel-release'");
	expect_error("kernel-release 6.1 6.2", 20,
		     "unexpected extra argument '6.2'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_softdep_boot),
		cmocka_unit_test(test_softdep_first_glob),
		cmocka_unit_test(test_blacklist),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_kernel_release),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
