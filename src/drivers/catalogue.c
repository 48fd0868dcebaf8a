// SPDX-License-Identifier: MIT
/*
 * The driver catalogue: every driver the model knows, as data. Id tables
 * hold the real ids for the devices the built-in machines use; the
 * driver_managed_dma flags are the kernel's. Probe behaviour that matters
 * for DMA ownership (which devices a driver refuses) is a small enum.
 */
#include <string.h>

#include "drivers/base/base.h"
#include "drivers/iommu/iommu-priv.h"
#include "drivers/pci/pci.h"
#include "drivers/vfio/vfio.h"
#include "machine/machine-priv.h"

#define PCI_DEV(v, d) { (v), (d), PCI_ANY_ID, PCI_ANY_ID, 0, 0, false }
#define PCI_CLASS_ANY(cls, mask) \
	{ PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, (cls), (mask), false }
#define PCI_VEND_CLASS(v, cls, mask) \
	{ (v), PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, (cls), (mask), false }
#define PCI_DEV_CLASS(v, d, cls, mask) \
	{ (v), (d), PCI_ANY_ID, PCI_ANY_ID, (cls), (mask), false }
#define PCI_OVERRIDE_DEV(v, d) \
	{ (v), (d), PCI_ANY_ID, PCI_ANY_ID, 0, 0, true }
#define PCI_END { 0, 0, 0, 0, 0, 0, false }

/* ---- PCI: kernel DMA API drivers ---- */

static const struct pci_device_id e1000e_ids[] = {
	PCI_DEV(0x8086, 0x105e), /* 82571EB */
	PCI_DEV(0x8086, 0x10d3), /* 82574L */
	PCI_DEV(0x8086, 0x10ea), /* 82577LM */
	PCI_DEV(0x8086, 0x153a), /* I217-LM */
	PCI_DEV(0x8086, 0x15b8), /* I219-V */
	PCI_DEV(0x8086, 0x15bb), /* I219-LM */
	PCI_END,
};

/* e1000: conventional PCI and PCI-X gigabit, QEMU's default NIC */
static const struct pci_device_id e1000_ids[] = {
	PCI_DEV(0x8086, 0x100e), /* 82540EM */
	PCI_END,
};

static const struct pci_device_id igb_ids[] = {
	PCI_DEV(0x8086, 0x10c9), /* 82576 */
	PCI_DEV(0x8086, 0x1521), /* I350 */
	PCI_DEV(0x8086, 0x1533), /* I210 */
	PCI_END,
};

static const struct pci_device_id ixgbe_ids[] = {
	PCI_DEV(0x8086, 0x10fb), /* 82599ES SFP+ */
	PCI_DEV(0x8086, 0x1528), /* X540-AT2 */
	PCI_DEV(0x8086, 0x1563), /* X550-T */
	PCI_END,
};

/* SR-IOV PF drivers and their VF drivers (ids of v6.6's tables) */
static const struct pci_device_id i40e_ids[] = {
	PCI_DEV(0x8086, 0x1572), /* X710 for 10GbE SFP+ */
	PCI_DEV(0x8086, 0x1583), /* XL710 for 40GbE QSFP+ */
	PCI_DEV(0x8086, 0x1584), /* XL710 for 40GbE QSFP+ */
	PCI_DEV(0x8086, 0x1589), /* X710 for 10GBASE-T */
	PCI_DEV(0x8086, 0x37d2), /* X722 for 10GBASE-T */
	PCI_END,
};

static const struct pci_device_id ixgbevf_ids[] = {
	PCI_DEV(0x8086, 0x10ed), /* 82599 VF */
	PCI_DEV(0x8086, 0x1515), /* X540 VF */
	PCI_DEV(0x8086, 0x1565), /* X550 VF */
	PCI_DEV(0x8086, 0x15a8), /* X550EM_x VF */
	PCI_END,
};

static const struct pci_device_id iavf_ids[] = {
	PCI_DEV(0x8086, 0x154c), /* Ethernet Virtual Function 700 Series */
	PCI_DEV(0x8086, 0x1571), /* XL710/X710 VF (Hyper-V) */
	PCI_DEV(0x8086, 0x37cd), /* X722 VF */
	PCI_DEV(0x8086, 0x1889), /* Ethernet Adaptive Virtual Function */
	PCI_END,
};

static const struct pci_device_id mlx5_core_ids[] = {
	PCI_DEV(0x15b3, 0x1017), /* ConnectX-5 */
	PCI_DEV(0x15b3, 0x1018), /* ConnectX-5 VF */
	PCI_DEV(0x15b3, 0x1019), /* ConnectX-5 Ex */
	PCI_DEV(0x15b3, 0x101b), /* ConnectX-6 */
	PCI_DEV(0x15b3, 0x101d), /* ConnectX-6 Dx */
	PCI_DEV(0x15b3, 0x101e), /* ConnectX family VF */
	PCI_END,
};

static const struct pci_device_id nvme_ids[] = {
	PCI_CLASS_ANY(0x010802, 0xffffff), /* NVM Express */
	PCI_END,
};

static const struct pci_device_id ahci_ids[] = {
	PCI_CLASS_ANY(0x010601, 0xffffff), /* SATA AHCI 1.0 */
	PCI_END,
};

static const struct pci_device_id xhci_pci_ids[] = {
	PCI_CLASS_ANY(0x0c0330, 0xffffff), /* USB xHCI */
	PCI_END,
};

static const struct pci_device_id snd_hda_intel_ids[] = {
	PCI_DEV(0x8086, 0xa348), /* Cannon Lake PCH cAVS */
	PCI_DEV(0x8086, 0xa0c8), /* Tiger Lake-LP */
	PCI_VEND_CLASS(0x10de, 0x040300, 0xffffff), /* NVIDIA HDMI */
	PCI_VEND_CLASS(0x1002, 0x040300, 0xffffff), /* AMD/ATI HDMI */
	PCI_VEND_CLASS(0x1022, 0x040300, 0xffffff), /* AMD */
	PCI_END,
};

static const struct pci_device_id i915_ids[] = {
	PCI_DEV_CLASS(0x8086, 0x3e92, 0x030000, 0xff0000), /* UHD 630 */
	PCI_DEV_CLASS(0x8086, 0x3e9b, 0x030000, 0xff0000), /* UHD 630 */
	PCI_DEV_CLASS(0x8086, 0x9bc5, 0x030000, 0xff0000), /* UHD 630 */
	PCI_DEV_CLASS(0x8086, 0x4680, 0x030000, 0xff0000), /* Alder Lake */
	PCI_DEV_CLASS(0x8086, 0xa780, 0x030000, 0xff0000), /* Raptor Lake */
	PCI_END,
};

static const struct pci_device_id amdgpu_ids[] = {
	PCI_DEV(0x1002, 0x731f), /* Navi 10 */
	PCI_DEV(0x1002, 0x73bf), /* Navi 21 */
	PCI_DEV(0x1002, 0x744c), /* Navi 31 */
	PCI_VEND_CLASS(0x1002, 0x030000, 0xffffff), /* IP discovery, VGA */
	PCI_VEND_CLASS(0x1002, 0x038000, 0xffffff), /* IP discovery, other */
	PCI_END,
};

static const struct pci_device_id nouveau_ids[] = {
	PCI_VEND_CLASS(0x10de, 0x030000, 0xff0000), /* NVIDIA display */
	PCI_VEND_CLASS(0x12d2, 0x030000, 0xff0000), /* NVIDIA/SGS */
	PCI_END,
};

static const struct pci_device_id virtio_pci_ids[] = {
	PCI_DEV(0x1af4, PCI_ANY_ID), /* probe keeps 0x1000..0x107f */
	PCI_END,
};

static const struct pci_device_id pcieport_ids[] = {
	PCI_CLASS_ANY(0x060400, 0xffffff), /* PCI-to-PCI bridge */
	PCI_CLASS_ANY(0x060401, 0xffffff), /* subtractive decode */
	PCI_END,
};

/* shpchp's table: PCI-to-PCI bridges (class 0604, programming interface 0) */
static const struct pci_device_id shpchp_ids[] = {
	PCI_CLASS_ANY(0x060400, 0xffffff),
	PCI_END,
};

/* ---- PCI: vfio variant drivers, bound only through driver_override ---- */

static const struct pci_device_id mlx5_vfio_pci_ids[] = {
	PCI_OVERRIDE_DEV(0x15b3, 0x101e), /* ConnectX family VF */
	PCI_END,
};

static const struct pci_device_id hisi_acc_vfio_pci_ids[] = {
	PCI_OVERRIDE_DEV(0x19e5, 0xa251), /* ZIP VF */
	PCI_OVERRIDE_DEV(0x19e5, 0xa256), /* SEC VF */
	PCI_OVERRIDE_DEV(0x19e5, 0xa259), /* HPRE VF */
	PCI_END,
};

static const struct pci_device_id pds_vfio_pci_ids[] = {
	PCI_OVERRIDE_DEV(0x1dd8, 0x1003), /* Pensando DSC VF */
	PCI_END,
};

static const struct pci_device_id nvgrace_gpu_vfio_pci_ids[] = {
	PCI_OVERRIDE_DEV(0x10de, 0x2342), /* GH100 */
	PCI_OVERRIDE_DEV(0x10de, 0x2345), /* GH100 */
	PCI_END,
};

/* ---- platform, AMBA, fsl-mc ---- */

static const char *const dwc3_of[] = { "snps,dwc3", NULL };
static const char *const sdhci_arasan_of[] = { "arasan,sdhci-5.1", NULL };
static const char *const stmmac_of[] = { "snps,dwmac", NULL };
static const char *const xhci_plat_of[] = { "generic-xhci", NULL };

static const struct amba_id pl330_ids[] = {
	{ 0x00041330, 0x000fffff },
	{ 0, 0 },
};

static const struct amba_id pl011_ids[] = {
	{ 0x00041011, 0x000fffff },
	{ 0, 0 },
};

static const struct amba_id mmci_ids[] = {
	{ 0x00041180, 0xff0fffff },
	{ 0, 0 },
};

static const char *const dpaa2_eth_types[] = { "dpni", NULL };
static const char *const dpio_types[] = { "dpio", NULL };
static const char *const allocator_types[] = { "dpbp", "dpmcp", "dpcon",
					       NULL };

#define PCI_DRIVER(n, mod, managed, kind, ids) \
	{ (n), (mod), BUS_PCI, (managed), (kind), (ids), NULL, NULL, NULL, \
	  SRIOV_NONE }
#define PCI_PF_DRIVER(n, mod, managed, kind, ids, sriov) \
	{ (n), (mod), BUS_PCI, (managed), (kind), (ids), NULL, NULL, NULL, \
	  (sriov) }

static const struct driver_desc catalogue[] = {
	/* PCI, DMA through the kernel DMA API */
	PCI_DRIVER("e1000e", NULL, false, PROBE_PLAIN, e1000e_ids),
	PCI_DRIVER("e1000", NULL, false, PROBE_PLAIN, e1000_ids),
	PCI_DRIVER("igb", NULL, false, PROBE_PLAIN, igb_ids),
	PCI_PF_DRIVER("ixgbe", NULL, false, PROBE_PLAIN, ixgbe_ids,
		      SRIOV_IXGBE),
	PCI_DRIVER("ixgbevf", NULL, false, PROBE_PLAIN, ixgbevf_ids),
	PCI_PF_DRIVER("i40e", NULL, false, PROBE_PLAIN, i40e_ids, SRIOV_I40E),
	PCI_DRIVER("iavf", NULL, false, PROBE_PLAIN, iavf_ids),
	PCI_DRIVER("mlx5_core", NULL, false, PROBE_PLAIN, mlx5_core_ids),
	PCI_DRIVER("nvme", NULL, false, PROBE_PLAIN, nvme_ids),
	PCI_DRIVER("ahci", NULL, false, PROBE_PLAIN, ahci_ids),
	PCI_DRIVER("xhci_hcd", "xhci_pci", false, PROBE_PLAIN, xhci_pci_ids),
	PCI_DRIVER("snd_hda_intel", NULL, false, PROBE_PLAIN,
		   snd_hda_intel_ids),
	PCI_DRIVER("i915", NULL, false, PROBE_PLAIN, i915_ids),
	PCI_DRIVER("amdgpu", NULL, false, PROBE_PLAIN, amdgpu_ids),
	PCI_DRIVER("nouveau", NULL, false, PROBE_PLAIN, nouveau_ids),
	PCI_DRIVER("virtio-pci", "virtio_pci", false, PROBE_VIRTIO_PCI,
		   virtio_pci_ids),
	/* PCI, managing DMA themselves (driver_managed_dma) */
	PCI_DRIVER("pcieport", NULL, true, PROBE_PCIEPORT, pcieport_ids),
	/* PCI, the standard hot-plug controller driver: a kernel DMA user */
	PCI_DRIVER("shpchp", NULL, false, PROBE_SHPCHP, shpchp_ids),
	PCI_DRIVER("pci-stub", "pci_stub", true, PROBE_STUB, NULL),
	PCI_PF_DRIVER("vfio-pci", "vfio_pci", true, PROBE_VFIO_PCI, NULL,
		      SRIOV_VFIO_PCI),
	PCI_DRIVER("mlx5-vfio-pci", "mlx5_vfio_pci", true, PROBE_VFIO_PCI,
		   mlx5_vfio_pci_ids),
	PCI_DRIVER("hisi-acc-vfio-pci", "hisi_acc_vfio_pci", true,
		   PROBE_VFIO_PCI, hisi_acc_vfio_pci_ids),
	PCI_DRIVER("pds-vfio-pci", "pds_vfio_pci", true, PROBE_VFIO_PCI,
		   pds_vfio_pci_ids),
	PCI_DRIVER("nvgrace-gpu-vfio-pci", "nvgrace_gpu_vfio_pci", true,
		   PROBE_VFIO_PCI, nvgrace_gpu_vfio_pci_ids),
	/* platform */
	{ "dwc3", NULL, BUS_PLATFORM, false, PROBE_PLAIN, NULL, dwc3_of, NULL,
	  NULL, SRIOV_NONE },
	{ "sdhci-arasan", "sdhci_of_arasan", BUS_PLATFORM, false, PROBE_PLAIN,
	  NULL, sdhci_arasan_of, NULL, NULL, SRIOV_NONE },
	{ "stmmaceth", "dwmac_generic", BUS_PLATFORM, false, PROBE_PLAIN,
	  NULL, stmmac_of, NULL, NULL, SRIOV_NONE },
	{ "xhci-plat-hcd", "xhci_plat_hcd", BUS_PLATFORM, false, PROBE_PLAIN,
	  NULL, xhci_plat_of, NULL, NULL, SRIOV_NONE },
	{ "vfio-platform", "vfio_platform", BUS_PLATFORM, true,
	  PROBE_VFIO_PLATFORM, NULL, NULL, NULL, NULL, SRIOV_NONE },
	/* AMBA */
	{ "dma-pl330", "pl330", BUS_AMBA, false, PROBE_PLAIN, NULL, NULL,
	  pl330_ids, NULL, SRIOV_NONE },
	{ "uart-pl011", "amba_pl011", BUS_AMBA, false, PROBE_PLAIN, NULL,
	  NULL, pl011_ids, NULL, SRIOV_NONE },
	{ "mmci-pl18x", "mmci", BUS_AMBA, false, PROBE_PLAIN, NULL, NULL,
	  mmci_ids, NULL, SRIOV_NONE },
	{ "vfio-amba", "vfio_amba", BUS_AMBA, true, PROBE_VFIO, NULL, NULL,
	  NULL, NULL, SRIOV_NONE },
	/* fsl-mc */
	{ "fsl_dpaa2_eth", NULL, BUS_FSL_MC, false, PROBE_PLAIN, NULL, NULL,
	  NULL, dpaa2_eth_types, SRIOV_NONE },
	{ "fsl_mc_dpio", "fsl_mc_dpio", BUS_FSL_MC, false, PROBE_PLAIN, NULL,
	  NULL, NULL, dpio_types, SRIOV_NONE },
	{ "fsl_mc_allocator", NULL, BUS_FSL_MC, false, PROBE_PLAIN, NULL, NULL,
	  NULL, allocator_types, SRIOV_NONE },
	{ "vfio-fsl-mc", "vfio_fsl_mc", BUS_FSL_MC, true, PROBE_VFIO, NULL,
	  NULL, NULL, NULL, SRIOV_NONE },
};

const struct driver_desc *driver_catalogue_entry(size_t i)
{
	return i < sizeof(catalogue) / sizeof(catalogue[0]) ? &catalogue[i] :
							      NULL;
}

/* ---- SR-IOV: the PF drivers' sriov_configure and their remove ---- */

/* ixgbe: 64 VF pools, one kept for the PF (1 TC, no offloaded macvlans) */
#define IXGBE_MAX_VF_FUNCTIONS 64
/* i40e: I40E_MAX_VF_COUNT caps pf->num_req_vfs at probe */
#define I40E_MAX_VF_COUNT 128

/*
 * ixgbe_disable_sriov(): what ixgbe_pci_sriov_configure(0) and
 * ixgbe_remove() do. With VFs assigned it would leave them
 * ("Unloading driver while VFs are assigned"); none ever are here.
 */
static int ixgbe_disable_sriov(struct device *dev)
{
	KFUNC();
	if (!pci_num_vf(dev))
		return 0;
	if (pci_vfs_assigned(dev)) {
		dev_warn(dev, "Unloading driver while VFs are assigned - VFs will not be deallocated");
		return -EPERM;
	}
	pci_disable_sriov(dev);
	return 0;
}

/* ixgbe_pci_sriov_enable(): the pools first, then VF Enable */
static int ixgbe_pci_sriov_enable(struct device *dev, int num_vfs)
{
	int pre_existing_vfs = pci_num_vf(dev), limit = IXGBE_MAX_VF_FUNCTIONS;
	int num_rx_pools = 1, err = 0;

	KFUNC();
	if (pre_existing_vfs && pre_existing_vfs != num_vfs)
		err = ixgbe_disable_sriov(dev);
	else if (pre_existing_vfs && pre_existing_vfs == num_vfs)
		return num_vfs;
	if (err)
		return err;
	if (num_vfs > limit - num_rx_pools) {
		dev_err(dev, "Currently configured with %d TCs, and %d offloaded macvlans. Creating more than %d VFs is not allowed",
			1, num_rx_pools - 1, limit - num_rx_pools);
		return -EPERM;
	}
	/* __ixgbe_enable_sriov(); e_info(probe, ...) on the netdev */
	dev_info(dev, "SR-IOV enabled with %d VFs", num_vfs);
	err = pci_enable_sriov(dev, num_vfs);
	if (err) {
		dev_warn(dev, "Failed to enable PCI sriov: %d", err);
		return err;
	}
	return num_vfs;
}

static int ixgbe_pci_sriov_configure(struct device *dev, int num_vfs)
{
	KFUNC();
	if (num_vfs == 0)
		return ixgbe_disable_sriov(dev);
	return ixgbe_pci_sriov_enable(dev, num_vfs);
}

/* i40e_free_vfs(): SR-IOV off unless a VF is assigned */
static void i40e_free_vfs(struct device *dev)
{
	KFUNC();
	if (!pci_vfs_assigned(dev))
		pci_disable_sriov(dev);
	else
		dev_warn(dev, "Unable to free VFs because some are assigned to VMs.");
}

static int i40e_pci_sriov_enable(struct device *dev, int num_vfs)
{
	int pre_existing_vfs = pci_num_vf(dev), err;
	int num_req_vfs = (int)pci_sriov_get_totalvfs(dev);

	KFUNC();
	if (num_req_vfs > I40E_MAX_VF_COUNT)
		num_req_vfs = I40E_MAX_VF_COUNT;
	if (pre_existing_vfs && pre_existing_vfs != num_vfs)
		i40e_free_vfs(dev);
	else if (pre_existing_vfs && pre_existing_vfs == num_vfs)
		return num_vfs;
	if (num_vfs > num_req_vfs) {
		dev_warn(dev, "Unable to enable %d VFs. Limited to %d VFs due to device resource constraints.",
			 num_vfs, num_req_vfs);
		return -EPERM;
	}
	dev_info(dev, "Allocating %d VFs.", num_vfs);
	/* i40e_alloc_vfs() */
	err = pci_enable_sriov(dev, num_vfs);
	if (err) {
		dev_warn(dev, "Failed to enable SR-IOV: %d", err);
		return err;
	}
	return num_vfs;
}

static int i40e_pci_sriov_configure(struct device *dev, int num_vfs)
{
	KFUNC();
	if (num_vfs)
		return i40e_pci_sriov_enable(dev, num_vfs);
	if (pci_vfs_assigned(dev)) {
		dev_warn(dev, "Unable to free VFs because some are assigned to VMs.");
		return -EINVAL;
	}
	i40e_free_vfs(dev);
	return 0;
}

/*
 * vfio_pci_core_sriov_configure(): a PF vfio-pci drives enables SR-IOV
 * once (it goes on vfio_pci_sriov_pfs, where its VFs' vfio devices find
 * it), and disabling takes it off the list again.
 */
static int vfio_pci_core_sriov_configure(struct device *dev, int nr_virtfn)
{
	int ret;

	KFUNC();
	lockdep_assert_held(dev->m, &dev->mutex);
	if (nr_virtfn) {
		if (dev->sriov.vfio_pf)
			return -EINVAL;
		dev->sriov.vfio_pf = true;
		ret = pci_enable_sriov(dev, nr_virtfn);
		if (ret) {
			dev->sriov.vfio_pf = false;
			return ret;
		}
		return nr_virtfn;
	}
	if (pci_num_vf(dev))
		pci_disable_sriov(dev);
	dev->sriov.vfio_pf = false;
	return 0;
}

/* vfio_pci_sriov_configure(): only with the enable_sriov module option */
static int vfio_pci_sriov_configure(struct device *dev, int nr_virtfn)
{
	KFUNC();
	if (!dev->driver->enable_sriov)
		return -ENOENT;
	return vfio_pci_core_sriov_configure(dev, nr_virtfn);
}

bool driver_has_sriov_configure(const struct device_driver *drv)
{
	return drv->desc->sriov != SRIOV_NONE;
}

int driver_desc_sriov_configure(struct device *dev, int num_vfs)
{
	switch (dev->driver->desc->sriov) {
	case SRIOV_IXGBE:
		return ixgbe_pci_sriov_configure(dev, num_vfs);
	case SRIOV_I40E:
		return i40e_pci_sriov_configure(dev, num_vfs);
	case SRIOV_VFIO_PCI:
		return vfio_pci_sriov_configure(dev, num_vfs);
	case SRIOV_NONE:
	default:
		return -ENOENT;
	}
}

/*
 * The part of each driver's remove the model keeps: a PF driver turns
 * SR-IOV off first (ixgbe_remove(), i40e_remove(); vfio-pci's
 * vfio_pci_core_unregister_device() before the vfio device goes), so each
 * VF is unbound, and a VF userspace holds open through VFIO blocks the
 * PF's unbind until it is released.
 */
void driver_desc_remove(struct device *dev)
{
	switch (dev->driver->desc->sriov) {
	case SRIOV_IXGBE:
		ixgbe_disable_sriov(dev);
		break;
	case SRIOV_I40E:
		if (pci_num_vf(dev))
			i40e_free_vfs(dev);
		break;
	case SRIOV_VFIO_PCI:
		vfio_pci_core_sriov_configure(dev, 0);
		break;
	case SRIOV_NONE:
	default:
		break;
	}
	switch (dev->driver->desc->probe) {
	case PROBE_VFIO_PCI:
	case PROBE_VFIO_PLATFORM:
	case PROBE_VFIO:
		vfio_unregister_group_dev(dev);
		break;
	default:
		break;
	}
}

/*
 * The reset modules of drivers/vfio/platform/reset in v6.6, by the
 * devicetree compatible they register for (module_vfio_reset_handler());
 * vfio_platform_get_reset() loads them on demand ("vfio-reset:COMPAT").
 */
static const char *const vfio_platform_reset_compat[] = {
	"calxeda,hb-xgmac",		/* vfio_platform_calxedaxgmac */
	"amd,xgbe-seattle-v1a",		/* vfio_platform_amdxgbe */
	"brcm,iproc-flexrm-mbox",	/* vfio_platform_bcmflexrm */
	NULL,
};

/*
 * vfio_platform_get_reset(): a devicetree device has a reset function when
 * a reset module registers its compatible; an ACPI one when it has an _RST
 * method, which the model's ACPI devices never have. -ENOENT otherwise.
 */
static int vfio_platform_get_reset(struct device *dev)
{
	if (dev->m->cfg.firmware != FW_DEVICETREE)
		return -ENOENT;
	for (size_t i = 0; vfio_platform_reset_compat[i]; i++)
		if (!strcmp(dev->ids.compatible, vfio_platform_reset_compat[i]))
			return 0;
	return -ENOENT;
}

/*
 * vfio_platform_init_common() as v6.6 runs it from vfio-platform's probe,
 * before the device is registered: without a reset function the probe
 * fails unless the module was loaded with reset_required=0. The name it
 * logs is the platform device's pdev->name, which of_device_alloc() leaves
 * empty for devicetree devices; ACPI devices carry their device name.
 * (vfio-amba clears reset_required: it never checks.)
 */
static int vfio_platform_init_common(struct device *dev)
{
	int ret = vfio_platform_get_reset(dev);

	if (ret && dev->driver->reset_required) {
		dev_err(dev, "No reset function found for device %s",
			dev->m->cfg.firmware == FW_DEVICETREE ? "" :
								 dev_name(dev));
		return ret;
	}
	return 0;
}

/*
 * The part of each driver's probe that decides whether it takes the device.
 * vfio bus drivers need an IOMMU group (or the unsafe no-IOMMU mode),
 * vfio-pci refuses bridges, and vfio-platform devices it cannot reset.
 */
int driver_desc_probe(struct device *dev)
{
	const struct driver_desc *desc = dev->driver->desc;
	unsigned int type = dev->ids.pcie_type;

	switch (desc->probe) {
	case PROBE_PCIEPORT:
		if (type != PCI_EXP_TYPE_ROOT_PORT &&
		    type != PCI_EXP_TYPE_UPSTREAM &&
		    type != PCI_EXP_TYPE_DOWNSTREAM)
			return -ENODEV;
		return 0;
	case PROBE_SHPCHP:
		/*
		 * shpc_probe() (v6.6): shpc_capable(), then whether firmware
		 * gives the OS control (acpi_get_hp_hw_control_from_firmware(),
		 * granted on the arm64 twins); the controller's own set-up
		 * (shpc_init(), init_slots()) is not modelled. shpc_capable()
		 * takes AMD's GOLAM 7450 for one without the capability.
		 */
		if (!dev->pci.shpc &&
		    !(dev->ids.vendor == 0x1022 && dev->ids.device == 0x7450))
			return -ENODEV;
		return 0;
	case PROBE_VIRTIO_PCI:
		if (dev->ids.device < 0x1000 || dev->ids.device > 0x107f)
			return -ENODEV;
		return 0;
	case PROBE_STUB:
		dev_info(dev, "claimed by stub");
		return 0;
	case PROBE_VFIO_PLATFORM: {
		int ret = vfio_platform_init_common(dev);

		if (ret)
			return ret;
		return vfio_register_group_dev(dev);
	}
	case PROBE_VFIO_PCI:
		if (dev->ids.hdr_type != PCI_HEADER_TYPE_NORMAL)
			return -EINVAL;
		vfio_pci_vf_init(dev);
		/* fall through */
	case PROBE_VFIO:
		/* vfio_register_group_dev(): -EINVAL without a group */
		return vfio_register_group_dev(dev);
	case PROBE_PLAIN:
	default:
		return 0;
	}
}
