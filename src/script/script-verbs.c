// SPDX-License-Identifier: MIT
/*
 * Script commands that read or drive the model beyond sysfs files: lspci,
 * and the "@" verbs for what has no sysfs form (VFIO/iommufd, hot-plug,
 * fault injection, late IOMMU registration, module options).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaown/dmaown.h"
#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "machine/machine-priv.h"
#include "machine/pci-names.h"
#include "script/script-priv.h"

/* ---- lspci ---- */

static int verb_fail(struct script_ctx *ctx, struct cmd_io *io,
		     const char *what, int err);

/* "Kernel modules:" — modules whose id tables match (modalias). */
static void lspci_modules(struct device *dev, struct sbuf *sb)
{
	const struct driver_desc *desc;
	bool any = false;

	for (size_t i = 0; (desc = driver_catalogue_entry(i)); i++) {
		const struct pci_device_id *id;

		if (desc->bus != BUS_PCI || !desc->pci_ids ||
		    desc->probe == PROBE_PCIEPORT || desc->probe == PROBE_SHPCHP)
			continue;
		for (id = desc->pci_ids; id->vendor; id++) {
			if (id->override_only || !pci_match_one_device(id, dev))
				continue;
			sbuf_printf(sb, "%s%s", any ? ", " : "\tKernel modules: ",
				    desc->module ? desc->module : desc->name);
			any = true;
			break;
		}
	}
	if (any)
		sbuf_printf(sb, "\n");
}

/*
 * lspci's selectors: -s [[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] and
 * -d [VENDOR]:[DEVICE][:CLASS], each field hex, empty or '*' for any
 * (pci_filter_parse_slot(), pci_filter_parse_id()); -1 is any.
 */
struct lspci_filter {
	long domain, bus, slot, func, vendor, device, class;
};

static bool filter_field(const char *s, size_t n, unsigned long max,
			 long *ret)
{
	char buf[16], *end;
	unsigned long v;

	if (!n || (n == 1 && *s == '*')) {
		*ret = -1;
		return true;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtoul(buf, &end, 16);
	if (*end || v > max || !isxdigit((unsigned char)buf[0]))
		return false;
	*ret = (long)v;
	return true;
}

static bool filter_slot(struct lspci_filter *f, const char *s)
{
	const char *colon1 = strchr(s, ':'), *colon2, *dot;
	const char *slot = s;

	if (colon1) {
		colon2 = strchr(colon1 + 1, ':');
		if (colon2) {
			if (!filter_field(s, (size_t)(colon1 - s), 0xffff,
					  &f->domain) ||
			    !filter_field(colon1 + 1,
					  (size_t)(colon2 - colon1 - 1), 0xff,
					  &f->bus))
				return false;
			slot = colon2 + 1;
		} else {
			if (!filter_field(s, (size_t)(colon1 - s), 0xff,
					  &f->bus))
				return false;
			slot = colon1 + 1;
		}
	}
	dot = strchr(slot, '.');
	if (!filter_field(slot, dot ? (size_t)(dot - slot) : strlen(slot),
			  0x1f, &f->slot))
		return false;
	return !dot || filter_field(dot + 1, strlen(dot + 1), 7, &f->func);
}

static bool filter_id(struct lspci_filter *f, const char *s)
{
	const char *c1 = strchr(s, ':'), *c2;

	if (!c1)
		return false;
	c2 = strchr(c1 + 1, ':');
	return filter_field(s, (size_t)(c1 - s), 0xffff, &f->vendor) &&
	       filter_field(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1),
			    0xffff, &f->device) &&
	       (!c2 || filter_field(c2 + 1, strlen(c2 + 1), 0xffff, &f->class));
}

static bool filter_match(const struct lspci_filter *f, const struct device *dev)
{
	unsigned int domain, bus, slot, func;

	if (sscanf(dev->name, "%x:%x:%x.%x", &domain, &bus, &slot, &func) != 4)
		return false;
	return (f->domain < 0 || (unsigned long)f->domain == domain) &&
	       (f->bus < 0 || (unsigned long)f->bus == bus) &&
	       (f->slot < 0 || (unsigned long)f->slot == slot) &&
	       (f->func < 0 || (unsigned long)f->func == func) &&
	       (f->vendor < 0 || (unsigned long)f->vendor == dev->ids.vendor) &&
	       (f->device < 0 || (unsigned long)f->device == dev->ids.device) &&
	       (f->class < 0 ||
		(unsigned long)f->class == dev->ids.class >> 8);
}

static int cmp_dev_name(const void *a, const void *b)
{
	return strcmp((*(struct device *const *)a)->name,
		      (*(struct device *const *)b)->name);
}

/*
 * One function as lspci shows it (show_terse(), show_verbose() and
 * show_kernel() of pciutils 3.9), under obj_lock.
 */
static void lspci_device(struct device *dev, const char *slot,
			 const struct machine_show_names *names,
			 enum pci_names_mode mode, int verbose, bool kernel,
			 struct sbuf *out)
{
	char cls[PCI_NAMES_LEN], name[PCI_NAMES_LEN], pif[PCI_NAMES_LEN];
	const struct dev_ids *ids = &dev->ids;
	unsigned int progif = ids->class & 0xff;
	struct device_driver *drv;
	struct iommu_group *g;
	const char *x;
	bool master;

	sbuf_printf(out, "%s %s: %s", slot,
		    pci_names_class(names, ids->class >> 8, mode, cls,
				    sizeof(cls)),
		    pci_names_device(names, ids->vendor, ids->device, mode,
				     name, sizeof(name)));
	if (ids->revision)
		sbuf_printf(out, " (rev %02x)", ids->revision);
	if (verbose) {
		x = pci_names_progif(names, ids->class >> 8, progif, pif,
				     sizeof(pif));
		if (progif || x) {
			sbuf_printf(out, " (prog-if %02x", progif);
			if (x)
				sbuf_printf(out, " [%s]", x);
			sbuf_printf(out, ")");
		}
	}
	sbuf_printf(out, "\n");
	if (!verbose && !kernel)
		return;
	if (ids->subvendor && ids->subvendor != 0xffff)
		sbuf_printf(out, "\tSubsystem: %s\n",
			    pci_names_subsystem(names, ids->vendor, ids->device,
						ids->subvendor, ids->subdevice,
						mode, name, sizeof(name)));
	/* a peek, as sysfs's driver link: binds change it meanwhile */
	drv = READ_ONCE(dev->driver);
	master = drv && READ_ONCE(dev->bound);
	if (verbose) {
		/*
		 * The command word as config space reads it: a bound driver
		 * enabled bus mastering; the latency timer and IRQ are 0.
		 */
		sbuf_printf(out, "\tFlags: %sfast devsel%s",
			    master ? "bus master, " : "",
			    master ? ", latency 0" : "");
		g = READ_ONCE(dev->iommu_group);
		if (g)
			sbuf_printf(out, ", IOMMU group %d", g->id);
		sbuf_printf(out, "\n");
	}
	if (master)
		sbuf_printf(out, "\tKernel driver in use: %s\n", drv->name);
	lspci_modules(dev, out);
	if (verbose)
		sbuf_printf(out, "\n");
}

/*
 * lspci [-k] [-n|-nn] [-v] [-D] [-s SLOT] [-d [V]:[D][:C]]: the functions
 * as pciutils' lspci lists them, sorted by address, with the names of the
 * session's pci.ids (script_ctx_set_names()).
 */
int cmd_lspci(struct script_ctx *ctx, int argc, char **argv,
	      struct cmd_io *io)
{
	struct lspci_filter f = { -1, -1, -1, -1, -1, -1, -1 };
	const struct machine_show_names *names = script_names(ctx);
	struct machine *m = script_machine(ctx);
	int numeric = 0, verbose = 0;
	bool kernel = false, domains = false;
	struct device *dev, **v;
	size_t n = 0, i;

	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a];

		if (arg[0] != '-' || !arg[1]) {
			sbuf_printf(io->err, "lspci: Unknown option '%s'\n",
				    arg);
			return 2;
		}
		for (const char *c = arg + 1; *c; c++) {
			const char *val;

			switch (*c) {
			case 'k':
				kernel = true;
				continue;
			case 'D':
				domains = true;
				continue;
			case 'n':
				numeric++;
				continue;
			case 'v':
				verbose++;
				continue;
			case 's':
			case 'd':
				val = c[1] ? c + 1 : a + 1 < argc ? argv[++a] :
								      NULL;
				if (!val) {
					sbuf_printf(io->err, "lspci: option requires an argument -- '%c'\n",
						    *c);
					return 2;
				}
				if (*c == 's' ? !filter_slot(&f, val) :
						!filter_id(&f, val)) {
					sbuf_printf(io->err, "lspci: -%c: Invalid %s\n",
						    *c, *c == 's' ? "slot number" :
								    "ID");
					return 2;
				}
				break;
			default:
				/* -t, -x, -m...: not modelled */
				sbuf_printf(io->err, "lspci: -%c is not modelled\n",
					    *c);
				return 2;
			}
			break;
		}
	}
	/* the devices as they are now: hot-plug changes dev->added */
	mutex_lock(&m->obj_lock);
	list_for_each_entry(dev, &m->devices, node)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		mutex_unlock(&m->obj_lock);
		return verb_fail(ctx, io, "lspci", -ENOMEM);
	}
	n = 0;
	list_for_each_entry(dev, &m->devices, node) {
		if (!dev->added || device_bus_kind(dev) != BUS_PCI)
			continue;
		/* lspci shows domains once one is not 0000 */
		if (strncmp(dev->name, "0000:", 5))
			domains = true;
		if (filter_match(&f, dev))
			v[n++] = dev;
	}
	qsort(v, n, sizeof(*v), cmp_dev_name);
	for (i = 0; i < n; i++)
		lspci_device(v[i], domains ? v[i]->name : v[i]->name + 5,
			     names,
			     numeric >= 2 ? PCI_NAMES_MIXED :
			     numeric     ? PCI_NAMES_NUMERIC :
					   PCI_NAMES_TEXT,
			     verbose, kernel, io->out);
	mutex_unlock(&m->obj_lock);
	free(v);
	return 0;
}

/* ---- "@" verbs ---- */

/* Report a verb's failure as a shell tool would, and its errno. */
static int verb_fail(struct script_ctx *ctx, struct cmd_io *io,
		     const char *what, int err)
{
	script_note_errno(ctx, err);
	sbuf_printf(io->err, "%s: %s\n", what, errno_text(err));
	return 1;
}

static bool parse_int(const char *s, int *ret)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (end == s || *end || v < -100000 || v > 100000)
		return false;
	*ret = (int)v;
	return true;
}

static int usage(struct cmd_io *io, const char *text)
{
	sbuf_printf(io->err, "usage: %s\n", text);
	return 2;
}

static const char *flags_str(unsigned int flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s",
		 flags & VFIO_GROUP_FLAGS_VIABLE ? "VIABLE" : "",
		 (flags & VFIO_GROUP_FLAGS_VIABLE) &&
				 (flags & VFIO_GROUP_FLAGS_CONTAINER_SET) ?
			 " " :
			 "",
		 flags & VFIO_GROUP_FLAGS_CONTAINER_SET ? "CONTAINER_SET" : "");
	if (!flags)
		snprintf(buf, len, "0");
	return buf;
}

/* VFIO_GROUP_GET_STATUS's answer, as "flags: VIABLE CONTAINER_SET". */
static void print_status(struct cmd_io *io, int ret, unsigned int flags)
{
	char buf[64];

	if (!ret)
		sbuf_printf(io->out, "flags: %s\n",
			    flags_str(flags, buf, sizeof(buf)));
}

/* VFIO_SET_IOMMU's type by the name scripts give it, or -1. */
static int parse_iommu_type(const char *s)
{
	return !strcmp(s, "type1")   ? VFIO_TYPE1_IOMMU :
	       !strcmp(s, "type1v2") ? VFIO_TYPE1v2_IOMMU :
	       !strcmp(s, "noiommu") ? VFIO_NOIOMMU_IOMMU :
				       -1;
}

#define HOT_RESET_USAGE "@vfio hot-reset-info DEV | hot-reset DEV [GROUP...]"

/*
 * @vfio hot-reset-info DEV: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO's flags,
 * then each device a hot reset would reset, with its group, or with its
 * devid (bound, owned, not-owned) for a device bound through its cdev.
 */
static int vfio_hot_reset_info(struct script_ctx *ctx, struct cmd_io *io,
			       struct process *p, int fd, const char *dev)
{
	struct vfio_pci_dependent_device *devs;
	unsigned int flags;
	size_t n;
	int ret;

	ret = dev ? vfio_pci_get_hot_reset_info(script_machine(ctx), dev, &flags,
						&devs, &n) :
		    vfio_ioctl_pci_hot_reset_info(p, fd, &flags, &devs, &n);
	if (ret)
		return verb_fail(ctx, io, "@vfio hot-reset-info", ret);
	sbuf_printf(io->out, "flags: %s%s%s\n",
		    flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID ? "DEV_ID" : "0",
		    flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED ? " " : "",
		    flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED ?
			    "DEV_ID_OWNED" : "");
	for (size_t i = 0; i < n; i++) {
		if (!(flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID))
			sbuf_printf(io->out, "%s group %d\n", devs[i].name,
				    devs[i].group_id);
		else
			sbuf_printf(io->out, "%s devid %s\n", devs[i].name,
				    devs[i].devid == VFIO_PCI_DEVID_BOUND ? "bound" :
				    devs[i].devid == VFIO_PCI_DEVID_OWNED ? "owned" :
									    "not-owned");
	}
	free(devs);
	return 0;
}

/* @vfio hot-reset DEV [GROUP...]: VFIO_DEVICE_PCI_HOT_RESET */
static int vfio_hot_reset(struct script_ctx *ctx, struct cmd_io *io,
			  const char *dev, int ngroups, char **groups)
{
	int ids[64], ret;

	if (ngroups > (int)(sizeof(ids) / sizeof(ids[0])))
		return usage(io, HOT_RESET_USAGE " (at most 64 groups)");
	for (int i = 0; i < ngroups; i++)
		if (!parse_int(groups[i], &ids[i]))
			return usage(io, HOT_RESET_USAGE);
	ret = vfio_pci_hot_reset(script_machine(ctx), dev, ids,
				 (size_t)ngroups);
	return ret ? verb_fail(ctx, io, "@vfio hot-reset", ret) : 0;
}

/* A descriptor argument: a decimal number. */
static bool parse_fd(const char *s, int *ret)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	v = strtol(s, &end, 10);
	if (*end || v > INT32_MAX)
		return false;
	*ret = (int)v;
	return true;
}

/*
 * A device descriptor argument: a number, or a device's name standing for
 * the newest file the process has of it.
 */
static int parse_dfd(struct process *p, const char *s, int *ret)
{
	int fd;

	if (parse_fd(s, ret))
		return 0;
	fd = vfio_device_fd_of(p, s, false);
	if (fd < 0)
		return fd;
	*ret = fd;
	return 0;
}

static int print_fd(struct script_ctx *ctx, struct cmd_io *io,
		    const char *what, int fd)
{
	if (fd < 0)
		return verb_fail(ctx, io, what, fd);
	sbuf_printf(io->out, "fd %d\n", fd);
	return 0;
}

#define VFIO_FD_USAGE                                                          \
	"@vfio open GROUP | container-open | cdev-open DEV (each prints fd F) |\n" \
	"       status|unset-container GFD | set-container GFD CFD |\n"            \
	"       set-iommu CFD type1|type1v2|noiommu | get-device-fd GFD DEV |\n"   \
	"       bind-iommufd DFD IFD | attach-ioas DFD IOAS | detach-ioas DFD |\n" \
	"       (DFD: a descriptor, or a device's name for its newest file) |\n" \
	"       set-req-eventfd DFD | hot-reset-info DFD | hot-reset DFD [GFD...] |\n" \
	"       vf-token DFD UUID |\n"                                          \
	"       close|container-close|device-close FD"

/* @vfio in a named process: files by descriptor, as its syscalls have them */
static int vfio_fd_verb(struct script_ctx *ctx, int argc, char **argv,
			struct cmd_io *io, const char *what)
{
	struct process *p = script_process(ctx);
	const char *verb = argv[1];
	int a = 0, b = 0, ret;

	if (!p)
		return verb_fail(ctx, io, what, -ENOMEM);
	if (!strcmp(verb, "container-open") && argc == 2)
		return print_fd(ctx, io, what, vfio_container_fd_open(p));
	if (argc == 3 && !strcmp(verb, "open") && parse_int(argv[2], &a))
		return print_fd(ctx, io, what, vfio_group_fd_open(p, a));
	if (argc == 3 && !strcmp(verb, "cdev-open"))
		return print_fd(ctx, io, what, vfio_cdev_fd_open(p, argv[2]));
	if (argc == 4 && !strcmp(verb, "get-device-fd") &&
	    parse_fd(argv[2], &a))
		return print_fd(ctx, io, what,
				vfio_ioctl_group_get_device_fd(p, a, argv[3]));
	/* a device's name for its newest file, found under the ioctl's lock */
	if (argc >= 3 && !parse_fd(argv[2], &a) &&
	    (!strcmp(verb, "device-close") || !strcmp(verb, "detach-ioas") ||
	     !strcmp(verb, "set-req-eventfd")) && argc == 3) {
		ret = !strcmp(verb, "device-close") ?
			      vfio_process_device_close(p, argv[2]) :
		      !strcmp(verb, "detach-ioas") ?
			      vfio_process_detach_ioas(p, argv[2]) :
			      vfio_process_set_req_eventfd(p, argv[2]);
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (argc == 4 && !parse_fd(argv[2], &a) &&
	    !strcmp(verb, "bind-iommufd") && parse_fd(argv[3], &b)) {
		ret = vfio_process_bind_iommufd(p, argv[2], b);
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (argc == 4 && !parse_fd(argv[2], &a) &&
	    !strcmp(verb, "attach-ioas") && parse_int(argv[3], &b)) {
		ret = vfio_process_attach_ioas(p, argv[2], (unsigned int)b);
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	/* a hot reset's device: a descriptor, or a device's newest file */
	if ((!strcmp(verb, "hot-reset-info") && argc == 3) ||
	    (!strcmp(verb, "hot-reset") && argc >= 3 && argc <= 3 + 64)) {
		int fds[64];

		ret = parse_dfd(p, argv[2], &a);
		if (ret)
			return verb_fail(ctx, io, what, ret);
		if (argc == 3 && !strcmp(verb, "hot-reset-info"))
			return vfio_hot_reset_info(ctx, io, p, a, NULL);
		for (int i = 3; i < argc; i++)
			if (!parse_fd(argv[i], &fds[i - 3]))
				goto bad;
		ret = vfio_ioctl_pci_hot_reset(p, a, fds, (size_t)(argc - 3));
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (argc == 3 && parse_fd(argv[2], &a)) {
		if (!strcmp(verb, "close") || !strcmp(verb, "container-close") ||
		    !strcmp(verb, "device-close"))
			ret = process_close(p, a);
		else if (!strcmp(verb, "unset-container"))
			ret = vfio_ioctl_group_unset_container(p, a);
		else if (!strcmp(verb, "detach-ioas"))
			ret = vfio_ioctl_detach_ioas(p, a);
		else if (!strcmp(verb, "set-req-eventfd"))
			ret = vfio_ioctl_set_req_eventfd(p, a);
		else if (!strcmp(verb, "status")) {
			unsigned int flags;

			ret = vfio_ioctl_group_get_status(p, a, &flags);
			print_status(io, ret, flags);
		} else
			goto bad;
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (argc == 4 && parse_fd(argv[2], &a)) {
		if (!strcmp(verb, "set-container") && parse_fd(argv[3], &b))
			ret = vfio_ioctl_group_set_container(p, a, b);
		else if (!strcmp(verb, "vf-token"))
			ret = vfio_ioctl_pci_vf_token(p, a, argv[3]);
		else if (!strcmp(verb, "set-iommu")) {
			int type = parse_iommu_type(argv[3]);

			if (type < 0)
				goto bad;
			ret = vfio_ioctl_set_iommu(p, a, type);
		} else if (!strcmp(verb, "bind-iommufd") && parse_fd(argv[3], &b))
			ret = vfio_ioctl_bind_iommufd(p, a, b);
		else if (!strcmp(verb, "attach-ioas") && parse_int(argv[3], &b))
			ret = vfio_ioctl_attach_ioas(p, a, (unsigned int)b);
		else
			goto bad;
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
bad:
	return usage(io, VFIO_FD_USAGE);
}

int cmd_at_vfio(struct script_ctx *ctx, int argc, char **argv,
		struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	const char *verb = argc > 1 ? argv[1] : "";
	char what[128];
	int a = 0, b = 0, ret;

	snprintf(what, sizeof(what), "@vfio %s", verb);
	if (script_in_process(ctx))
		return vfio_fd_verb(ctx, argc, argv, io, what);
	if (!strcmp(verb, "container-open") && argc == 2) {
		ret = vfio_container_open(m, &a);
		if (ret)
			return verb_fail(ctx, io, what, ret);
		sbuf_printf(io->out, "container %d\n", a);
		return 0;
	}
	if (!strcmp(verb, "hot-reset-info") || !strcmp(verb, "hot-reset")) {
		bool info = !strcmp(verb, "hot-reset-info");

		if (argc < 3 || (info && argc > 3))
			return usage(io, HOT_RESET_USAGE);
		if (info)
			return vfio_hot_reset_info(ctx, io, NULL, -1, argv[2]);
		return vfio_hot_reset(ctx, io, argv[2], argc - 3, argv + 3);
	}
	if (argc == 3 && parse_int(argv[2], &a)) {
		if (!strcmp(verb, "open"))
			ret = vfio_group_open(m, a);
		else if (!strcmp(verb, "close"))
			ret = vfio_group_close(m, a);
		else if (!strcmp(verb, "unset-container"))
			ret = vfio_group_unset_container(m, a);
		else if (!strcmp(verb, "container-close"))
			ret = vfio_container_close(m, a);
		else if (!strcmp(verb, "status")) {
			unsigned int flags;

			ret = vfio_group_get_status(m, a, &flags);
			print_status(io, ret, flags);
		} else
			goto bad;
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (argc == 3) {
		if (!strcmp(verb, "device-close"))
			ret = vfio_device_close(m, argv[2]);
		else if (!strcmp(verb, "cdev-open"))
			ret = vfio_device_cdev_open(m, argv[2]);
		else if (!strcmp(verb, "detach-ioas"))
			ret = vfio_device_detach_ioas(m, argv[2]);
		else if (!strcmp(verb, "set-req-eventfd"))
			ret = vfio_device_set_req_eventfd(m, argv[2]);
		else
			goto bad;
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (argc == 4) {
		if (!strcmp(verb, "set-container") && parse_int(argv[2], &a) &&
		    parse_int(argv[3], &b))
			ret = vfio_group_set_container(m, a, b);
		else if (!strcmp(verb, "set-iommu") && parse_int(argv[2], &a)) {
			int type = parse_iommu_type(argv[3]);

			if (type < 0)
				goto bad;
			ret = vfio_container_set_iommu(m, a, type);
		} else if (!strcmp(verb, "get-device-fd") &&
			   parse_int(argv[2], &a))
			ret = vfio_group_get_device_fd(m, a, argv[3]);
		else if (!strcmp(verb, "vf-token"))
			ret = vfio_pci_set_vf_token(m, argv[2], argv[3]);
		else if (!strcmp(verb, "bind-iommufd") && parse_int(argv[3], &b))
			ret = vfio_device_bind_iommufd(m, argv[2], b);
		else if (!strcmp(verb, "attach-ioas") && parse_int(argv[3], &b))
			ret = vfio_device_attach_ioas(m, argv[2],
						      (unsigned int)b);
		else
			goto bad;
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
bad:
	return usage(io,
		     "@vfio open|close|status|unset-container GROUP | container-open | container-close C |\n"
		     "       set-container GROUP C | set-iommu C type1|type1v2|noiommu | get-device-fd GROUP DEV |\n"
		     "       device-close DEV | set-req-eventfd DEV | cdev-open DEV | bind-iommufd DEV ICTX |\n"
		     "       attach-ioas DEV IOAS | detach-ioas DEV | hot-reset-info DEV | hot-reset DEV [GROUP...] |\n"
		     "       vf-token DEV UUID");
}

int cmd_at_iommufd(struct script_ctx *ctx, int argc, char **argv,
		   struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	const char *verb = argc > 1 ? argv[1] : "";
	char what[128];
	int a, ret;

	snprintf(what, sizeof(what), "@iommufd %s", verb);
	if (script_in_process(ctx)) {
		struct process *p = script_process(ctx);
		unsigned int ioas;

		if (!p)
			return verb_fail(ctx, io, what, -ENOMEM);
		if (!strcmp(verb, "open") && argc == 2)
			return print_fd(ctx, io, what, iommufd_fd_open(p));
		if (argc != 3 || !parse_fd(argv[2], &a))
			return usage(io, "@iommufd open | close IFD | ioas-alloc IFD");
		if (!strcmp(verb, "close")) {
			ret = process_close(p, a);
		} else if (!strcmp(verb, "ioas-alloc")) {
			ret = iommufd_ioctl_ioas_alloc(p, a, &ioas);
			if (!ret)
				sbuf_printf(io->out, "ioas %u\n", ioas);
		} else {
			return usage(io, "@iommufd open | close IFD | ioas-alloc IFD");
		}
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
	if (!strcmp(verb, "open") && argc == 2) {
		ret = iommufd_open(m, &a);
		if (ret)
			return verb_fail(ctx, io, what, ret);
		sbuf_printf(io->out, "iommufd %d\n", a);
		return 0;
	}
	if (argc == 3 && parse_int(argv[2], &a)) {
		if (!strcmp(verb, "close")) {
			ret = iommufd_close(m, a);
		} else if (!strcmp(verb, "ioas-alloc")) {
			unsigned int ioas;

			ret = iommufd_ioas_alloc(m, a, &ioas);
			if (!ret)
				sbuf_printf(io->out, "ioas %u\n", ioas);
		} else {
			goto bad;
		}
		return ret ? verb_fail(ctx, io, what, ret) : 0;
	}
bad:
	return usage(io, "@iommufd open | close ICTX | ioas-alloc ICTX");
}

int cmd_at_vmm(struct script_ctx *ctx, int argc, char **argv,
	       struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	char msg[512];
	int container, ret;

	if (argc != 3)
		return usage(io, "@vmm assign|release DEV");
	if (script_in_process(ctx)) {
		sbuf_printf(io->err,
			    "@vmm: runs in the shell's process (\"@as sh\"); a named process uses @vfio verbs\n");
		return 2;
	}
	if (!strcmp(argv[1], "assign")) {
		ret = vmm_assign_device(m, argv[2], &container, msg,
					sizeof(msg));
		if (ret) {
			script_note_errno(ctx, ret);
			sbuf_printf(io->err, "qemu-system-x86_64: -device vfio-pci,host=%s: %s\n",
				    argv[2], msg);
			return 1;
		}
		script_vmm_container(ctx, argv[2], container);
		return 0;
	}
	if (!strcmp(argv[1], "release")) {
		/* the container this session's assign made, else the group's */
		container = script_vmm_container(ctx, argv[2], -1);
		ret = vmm_release_device(m, argv[2], container);
		if (ret)
			return verb_fail(ctx, io, "@vmm release", ret);
		script_vmm_container(ctx, argv[2], -2);
		return 0;
	}
	return usage(io, "@vmm assign|release DEV");
}

static struct device *find_any_device(struct machine *m, const char *name)
{
	return strmap_get(&m->devices_by_name, name);
}

/* @hotplug add|remove, with the rescan/remove lock held. */

/* An errno by name ("ENOMEM", "EPROBE_DEFER") or number, either sign. */
static bool parse_errno(const char *s, int *ret_err)
{
	for (int e = 1; e < 600; e++)
		if (!strcmp(errno_name(e), s)) {
			*ret_err = e;
			return true;
		}
	return parse_int(s, ret_err);
}

static int hotplug_locked(struct device *dev, bool add)
{
	struct machine *m = dev->m;

	if (add) {
		if (dev->added)
			return -EEXIST;
		if (dev->parent && !dev->parent->added)
			return -ENODEV;
		device_set_absent(dev, false);
		return device_hotplug_add(dev);
	}
	if (!dev->added)
		return -ENODEV;
	/* surprise removal: children go first, as pciehp removes them */
	for (;;) {
		struct device *leaf = NULL, *d, *e;

		list_for_each_entry(d, &m->devices, node) {
			bool below = false, has_child = false;

			for (struct device *p = d->parent; p; p = p->parent)
				below |= p == dev;
			if (!below || !d->added)
				continue;
			list_for_each_entry(e, &m->devices, node)
				has_child |= e->added && e->parent == d;
			if (!has_child) {
				leaf = d;
				break;
			}
		}
		if (!leaf)
			break;
		device_unregister(leaf);
		device_set_absent(leaf, true);
	}
	device_unregister(dev);
	device_set_absent(dev, true);
	return 0;
}

int cmd_at_hotplug(struct script_ctx *ctx, int argc, char **argv,
		   struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	struct device *dev;
	int ret;

	if (argc != 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "remove")))
		return usage(io, "@hotplug add|remove DEV");
	dev = find_any_device(m, argv[2]);
	if (!dev)
		return verb_fail(ctx, io, "@hotplug", -ENODEV);
	/* pciehp: one hot-plug event, rescan or removal at a time */
	pci_lock_rescan_remove(m);
	ret = hotplug_locked(dev, !strcmp(argv[1], "add"));
	pci_unlock_rescan_remove(m);
	if (ret)
		return verb_fail(ctx, io, !strcmp(argv[1], "add") ?
					  "@hotplug add" : "@hotplug remove",
				 ret);
	return 0;
}

int cmd_at_fault(struct script_ctx *ctx, int argc, char **argv,
		 struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	const char *verb = argc > 1 ? argv[1] : "";
	int n;

	if (!strcmp(verb, "probe") && (argc == 4 || argc == 5)) {
		struct device_driver *drv = machine_find_driver(m, argv[2]);
		int err = 0, count = -1;

		if (!parse_errno(argv[3], &err))
			return usage(io, "@fault probe DRIVER ERRNO [COUNT]");
		if (argc == 5 && !parse_int(argv[4], &count))
			return usage(io, "@fault probe DRIVER ERRNO [COUNT]");
		if (!drv)
			return verb_fail(ctx, io, "@fault probe", -ENOENT);
		driver_set_probe_fault(drv, err < 0 ? err : -err, count);
		return 0;
	}
	if (!strcmp(verb, "clear") && argc == 3) {
		struct device_driver *drv = machine_find_driver(m, argv[2]);

		if (!drv)
			return verb_fail(ctx, io, "@fault clear", -ENOENT);
		driver_set_probe_fault(drv, 0, 0);
		return 0;
	}
	if (machine_fault_from_name(verb) && argc == 3) {
		unsigned int bit = machine_fault_from_name(verb);
		unsigned int f = machine_faults(m) & ~bit;

		if (!strcmp(argv[2], "on"))
			f |= bit;
		else if (strcmp(argv[2], "off"))
			return usage(io, "@fault FAULT on|off");
		machine_set_faults(m, f);
		return 0;
	}
	if (!strcmp(verb, "fail-nth") && argc == 3 && parse_int(argv[2], &n) &&
	    n >= 0) {
		machine_set_fail_nth(m, (unsigned int)n);
		return 0;
	}
	if (!strcmp(verb, "attach") && argc == 4 && parse_errno(argv[3], &n)) {
		struct iommu_device *iommu = machine_find_iommu(m, argv[2]);

		if (!iommu)
			return verb_fail(ctx, io, "@fault attach", -ENODEV);
		iommu_device_set_attach_error(iommu, n);
		return 0;
	}
	return usage(io,
		     "@fault probe DRIVER ERRNO [COUNT] | clear DRIVER | FAULT on|off |\n"
		     "       fail-nth N | attach IOMMU ERRNO");
}

int cmd_at_iommu(struct script_ctx *ctx, int argc, char **argv,
		 struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	struct iommu_device *iommu;
	int ret;

	if (argc != 3 || strcmp(argv[1], "register"))
		return usage(io, "@iommu register NAME");
	iommu = machine_find_iommu(m, argv[2]);
	if (!iommu)
		return verb_fail(ctx, io, "@iommu register", -ENODEV);
	ret = iommu_device_register(iommu);
	if (ret)
		return verb_fail(ctx, io, "@iommu register", ret);
	/* devices waiting for their IOMMU are retried now */
	driver_deferred_probe_trigger(m);
	return 0;
}

/*
 * @show [--json|--dot]: the ownership state at this point of the script,
 * as 'dmaown run --show' prints it after the last line (machine_show()).
 */
int cmd_at_show(struct script_ctx *ctx, int argc, char **argv,
		struct cmd_io *io)
{
	enum machine_show_format fmt = SHOW_TEXT;
	char *state;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") &&
			 strcmp(argv[1], "--dot")))
		return usage(io, "@show [--json|--dot]");
	if (argc == 2)
		fmt = !strcmp(argv[1], "--json") ? SHOW_JSON : SHOW_DOT;
	state = fmt == SHOW_TEXT ?
			machine_show_text(script_machine(ctx),
					  script_names(ctx)) :
			machine_show(script_machine(ctx), fmt);
	if (!state)
		return verb_fail(ctx, io, "@show", -ENOMEM);
	sbuf_printf(io->out, "%s", state);
	free(state);
	return 0;
}

#define OPTION_USAGE \
	"@option noiommu|unsafe-interrupts|type1-unsafe-interrupts on|off"

int cmd_at_option(struct script_ctx *ctx, int argc, char **argv,
		  struct cmd_io *io)
{
	struct machine *m = script_machine(ctx);
	bool on;

	(void)ctx;
	if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off")))
		return usage(io, OPTION_USAGE);
	on = !strcmp(argv[2], "on");
	if (!strcmp(argv[1], "noiommu"))
		vfio_set_noiommu(m, on);
	else if (!strcmp(argv[1], "unsafe-interrupts"))
		iommufd_set_allow_unsafe_interrupts(m, on);
	else if (!strcmp(argv[1], "type1-unsafe-interrupts"))
		vfio_iommu_type1_set_allow_unsafe_interrupts(m, on);
	else
		return usage(io, OPTION_USAGE);
	return 0;
}
