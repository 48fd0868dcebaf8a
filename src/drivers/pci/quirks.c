// SPDX-License-Identifier: MIT
/*
 * The PCI quirks that shape IOMMU groups, held as data: ACS that devices
 * provide without (or in spite of) an ACS capability, DMA aliases, and the
 * bridge flags the alias walk obeys. Counterpart of the matching parts of
 * drivers/pci/quirks.c (v6.6): pci_dev_acs_enabled[] and
 * pci_dev_specific_acs_enabled(), pci_dev_specific_enable_acs(), and the
 * DECLARE_PCI_FIXUP_HEADER() rows of the alias quirks.
 *
 * Each row says which kernel function holds the fact and why it is true,
 * so a row can be checked against the kernel. The rows were read from the
 * tables of Debian's 6.1.192 and 6.12.117 sources, which are the same for
 * ACS; v6.6 lies between them. The rows keep the kernel's order: the first
 * row that decides wins, as in pci_dev_specific_acs_enabled().
 */
#include <errno.h>

#include "drivers/pci/pci.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ANY 0, 0xffff
#define ACS_FULL (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)
#define ACS_MF (PCI_ACS_SV | PCI_ACS_TB | PCI_ACS_RR | PCI_ACS_CR | \
		PCI_ACS_UF | PCI_ACS_DT)

/* What a row tests before it decides; rows that do not apply go on. */
enum pci_quirk_kind {
	/* provides .flags, whatever the function */
	Q_ACS,
	/* provides .flags to a root port only */
	Q_ACS_ROOT_PORT,
	/* provides .flags to a root port or switch downstream port only */
	Q_ACS_PORT,
	/* provides .flags to a root complex integrated endpoint only */
	Q_ACS_RC_END,
	/* AMD southbridge: RR and CR only, multifunction on a root bus, IVRS */
	Q_ACS_AMD_SB,
	/* Intel PCH root port: ACS-like controls once its enable quirk ran */
	Q_ACS_INTEL_PCH,
	/* Intel Sunrise Point root port: its own ACS registers, kept as read */
	Q_ACS_INTEL_SPT,
	/* the out-of-tree pcie_acs_override= patch (pcie_acs_overrides()) */
	Q_ACS_OVERRIDE,
	/* header fixups: DMA alias to function .flags of the same slot */
	Q_ALIAS_FUNC,
	/* header fixup: the DMA alias of PCI_DEVFN(1, 0) (Adaptec 3405/3805) */
	Q_ALIAS_DEVFN,
	/* a conventional bridge aliases with its subordinate bus number */
	Q_PCIE_BRIDGE_ALIAS,
	/* the IOMMU sits at this bridge: the alias walk stops there */
	Q_XLATE_ROOT,
};

#define SB "pci_quirk_amd_sb_acs(): AMD says its southbridge functions do no peer-to-peer where an AMD IOMMU (IVRS) is present"
#define MF "pci_quirk_mf_endpoint_acs(): the vendor verified that the functions do no peer-to-peer with each other"
#define XG "pci_quirk_xgene_acs(): these root ports allow no peer-to-peer"
#define BR "pci_quirk_brcm_acs(): iProc PAXB root ports allow no peer-to-peer between root ports"
#define LS "pci_quirk_loongson_acs(): these root ports allow no peer-to-peer between root ports"
#define QC "pci_quirk_qcom_rp_acs(): each root port is its own root complex and validates bus numbers"
#define NX "pci_quirk_nxp_rp_acs(): each LX2xxx root port is its own root complex with isolation features"
#define CV "pci_quirk_cavium_acs(): Cavium ThunderX root ports implement the equivalent of SV, RR, CR and UF"
#define ZX "pci_quirk_zhaoxin_pcie_ports_acs(): these Zhaoxin ports block peer-to-peer without an ACS capability"
#define ZN "pci_quirk_zhaoxin_pcie_ports_acs(): other Zhaoxin ports are taken as not isolated, whatever their capability"
#define WX "pci_quirk_wangxun_nic_acs(): these Wangxun NICs send all peer-to-peer upstream"
#define WN "pci_quirk_wangxun_nic_acs(): other Wangxun functions are taken as not isolated"
#define PCH "pci_quirk_intel_pch_acs(): Intel PCH root ports (Red Hat bugzilla 1037684) isolate once pci_quirk_enable_intel_pch_acs() ran"
#define SPT "pci_quirk_intel_spt_pch_acs(): Sunrise/Union Point root ports keep ACS control at a dword offset; lspci shows the wrong word"
#define RC "pci_quirk_rciep_acs(): Intel RCiEPs allow peer-to-peer on translated addresses only (VT-d 3.16)"
#define AL "pci_quirk_al_acs(): Annapurna Labs root ports allow no peer-to-peer and have their own segment"
#define F0 "quirk_dma_func0_alias(): the device issues DMA with function 0's requester ID"
#define F1 "quirk_dma_func1_alias(): the device issues DMA with function 1's requester ID"

static const struct pci_quirk pci_dev_acs_enabled[] = {
	{ 0x1002, 0x4385, 0x4385, Q_ACS_AMD_SB, 0, SB },
	{ 0x1002, 0x439c, 0x439c, Q_ACS_AMD_SB, 0, SB },
	{ 0x1002, 0x4383, 0x4383, Q_ACS_AMD_SB, 0, SB },
	{ 0x1002, 0x439d, 0x439d, Q_ACS_AMD_SB, 0, SB },
	{ 0x1002, 0x4384, 0x4384, Q_ACS_AMD_SB, 0, SB },
	{ 0x1002, 0x4399, 0x4399, Q_ACS_AMD_SB, 0, SB },
	{ 0x1022, 0x780f, 0x780f, Q_ACS_AMD_SB, 0, SB },
	{ 0x1022, 0x7809, 0x7809, Q_ACS_AMD_SB, 0, SB },
	/* Solarflare */
	{ 0x1924, 0x0903, 0x0903, Q_ACS, ACS_MF, MF },
	{ 0x1924, 0x0923, 0x0923, Q_ACS, ACS_MF, MF },
	{ 0x1924, 0x0a03, 0x0a03, Q_ACS, ACS_MF, MF },
	/* Intel 82598/82599/X540/X550 10G and 1G multifunction NICs */
	{ 0x8086, 0x10c6, 0x10c6, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10db, 0x10db, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10dd, 0x10dd, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10e1, 0x10e1, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10f1, 0x10f1, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10f7, 0x10fc, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1507, 0x1507, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1514, 0x1514, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x151c, 0x151c, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1529, 0x152a, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x154d, 0x154d, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x154f, 0x154f, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1551, 0x1551, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1558, 0x1558, Q_ACS, ACS_MF, MF },
	/* 82580 */
	{ 0x8086, 0x1509, 0x1509, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x150e, 0x1511, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1516, 0x1516, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1527, 0x1527, Q_ACS, ACS_MF, MF },
	/* 82576 */
	{ 0x8086, 0x10c9, 0x10c9, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10e6, 0x10e8, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x150a, 0x150a, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x150d, 0x150d, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1518, 0x1518, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x1526, 0x1526, Q_ACS, ACS_MF, MF },
	/* 82575 */
	{ 0x8086, 0x10a7, 0x10a7, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10a9, 0x10a9, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10d6, 0x10d6, Q_ACS, ACS_MF, MF },
	/* I350 */
	{ 0x8086, 0x1521, 0x1524, Q_ACS, ACS_MF, MF },
	/* 82571 (not the quad-port ones, which sit behind a switch without ACS) */
	{ 0x8086, 0x105e, 0x1060, Q_ACS, ACS_MF, MF },
	{ 0x8086, 0x10d9, 0x10d9, Q_ACS, ACS_MF, MF },
	/* I219 */
	{ 0x8086, 0x15b7, 0x15b8, Q_ACS, ACS_MF, MF },
	{ 0x8086, ANY, Q_ACS_RC_END, ACS_FULL, RC },
	/* Qualcomm QDF2xxx, SA8775P, Hamoa, Glymur; HXT SD4800 root ports */
	{ 0x17cb, 0x0400, 0x0401, Q_ACS, ACS_FULL, QC },
	{ 0x17cb, 0x0115, 0x0115, Q_ACS, ACS_FULL, QC },
	{ 0x17cb, 0x0111, 0x0111, Q_ACS, ACS_FULL, QC },
	{ 0x17cb, 0x0120, 0x0120, Q_ACS, ACS_FULL, QC },
	{ 0x1dbf, 0x0401, 0x0401, Q_ACS, ACS_FULL, QC },
	/* Intel PCH root ports: Ibexpeak, Cougarpoint, Pantherpoint, Lynxpoint */
	{ 0x8086, 0x3b42, 0x3b51, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1c10, 0x1c1f, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1e10, 0x1e1f, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c10, 0x8c1f, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x9c10, 0x9c1b, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	/* Wildcat */
	{ 0x8086, 0x9c90, 0x9c9b, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	/* Patsburg (X79): even ids only */
	{ 0x8086, 0x1d10, 0x1d10, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d12, 0x1d12, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d14, 0x1d14, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d16, 0x1d16, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d18, 0x1d18, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d1a, 0x1d1a, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d1c, 0x1d1c, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x1d1e, 0x1d1e, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	/* Wellsburg (X99) */
	{ 0x8086, 0x8d10, 0x8d1e, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	/* Lynx Point (9 series): even ids only */
	{ 0x8086, 0x8c90, 0x8c90, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c92, 0x8c92, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c94, 0x8c94, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c96, 0x8c96, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c98, 0x8c98, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c9a, 0x8c9a, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c9c, 0x8c9c, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	{ 0x8086, 0x8c9e, 0x8c9e, Q_ACS_INTEL_PCH, ACS_FULL, PCH },
	/* Sunrise Point-H, Union Point, 7th/8th generation mobile */
	{ 0x8086, 0xa110, 0xa11f, Q_ACS_INTEL_SPT, 0, SPT },
	{ 0x8086, 0xa167, 0xa16a, Q_ACS_INTEL_SPT, 0, SPT },
	{ 0x8086, 0xa290, 0xa29f, Q_ACS_INTEL_SPT, 0, SPT },
	{ 0x8086, 0xa2e7, 0xa2ee, Q_ACS_INTEL_SPT, 0, SPT },
	{ 0x8086, 0x9d10, 0x9d1b, Q_ACS_INTEL_SPT, 0, SPT },
	/* Emulex BE3-R, Skyhawk-R */
	{ 0x19a2, 0x0710, 0x0710, Q_ACS, ACS_MF, MF },
	{ 0x10df, 0x0720, 0x0720, Q_ACS, ACS_MF, MF },
	/* Cavium ThunderX1 (8 SoCs), ThunderX2, ThunderX3 root ports */
	{ 0x177d, 0xa000, 0xa7ff, Q_ACS_ROOT_PORT, ACS_FULL, CV },
	{ 0x177d, 0xaf84, 0xaf84, Q_ACS_ROOT_PORT, ACS_FULL, CV },
	{ 0x177d, 0xb884, 0xb884, Q_ACS_ROOT_PORT, ACS_FULL, CV },
	/* Cavium multifunction devices */
	{ 0x177d, 0xa026, 0xa026, Q_ACS, ACS_MF, MF },
	{ 0x177d, 0xa059, 0xa059, Q_ACS, ACS_MF, MF },
	{ 0x177d, 0xa060, 0xa060, Q_ACS, ACS_MF, MF },
	/* APM X-Gene, Ampere */
	{ 0x10e8, 0xe004, 0xe004, Q_ACS, ACS_FULL, XG },
	{ 0x1def, 0xe005, 0xe00c, Q_ACS, ACS_FULL, XG },
	/* Broadcom multifunction devices, iProc PAXB root port */
	{ 0x14e4, 0x16d7, 0x16d7, Q_ACS, ACS_MF, MF },
	{ 0x14e4, 0x1750, 0x1752, Q_ACS, ACS_MF, MF },
	{ 0x14e4, 0x1760, 0x1763, Q_ACS, ACS_MF, MF },
	{ 0x14e4, 0xd714, 0xd714, Q_ACS, ACS_FULL, BR },
	/* Loongson root ports */
	{ 0x0014, 0x3c09, 0x3c09, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x3c19, 0x3c19, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x3c29, 0x3c29, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a09, 0x7a09, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a19, 0x7a19, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a29, 0x7a29, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a39, 0x7a39, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a49, 0x7a49, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a59, 0x7a59, Q_ACS, ACS_FULL, LS },
	{ 0x0014, 0x7a69, 0x7a69, Q_ACS, ACS_FULL, LS },
	/* Amazon Annapurna Labs root port */
	{ 0x1c36, 0x0031, 0x0031, Q_ACS_ROOT_PORT, ACS_FULL, AL },
	/* Zhaoxin multifunction devices */
	{ 0x1d17, 0x3038, 0x3038, Q_ACS, ACS_MF, MF },
	{ 0x1d17, 0x3104, 0x3104, Q_ACS, ACS_MF, MF },
	{ 0x1d17, 0x9083, 0x9083, Q_ACS, ACS_MF, MF },
	/* NXP LX2xx0 and LX2xx2 root ports (A, C, E, N variants) */
	{ 0x1957, 0x8d80, 0x8d83, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8d88, 0x8d8b, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8d90, 0x8d93, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8d98, 0x8d9b, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8da0, 0x8da1, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8da8, 0x8da9, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8db0, 0x8db1, Q_ACS, ACS_FULL, NX },
	{ 0x1957, 0x8db8, 0x8db9, Q_ACS, ACS_FULL, NX },
	/* Zhaoxin root and downstream ports */
	{ 0x1d17, 0x0710, 0x071e, Q_ACS_PORT, ACS_FULL, ZX },
	{ 0x1d17, 0x0721, 0x0721, Q_ACS_PORT, ACS_FULL, ZX },
	{ 0x1d17, 0x0723, 0x0752, Q_ACS_PORT, ACS_FULL, ZX },
	{ 0x1d17, ANY, Q_ACS_PORT, 0, ZN },
	/* Wangxun NICs: EM, SP, AML */
	{ 0x8088, 0x0100, 0x010f, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x1001, 0x1001, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x2001, 0x2001, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x5010, 0x5010, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x5025, 0x5025, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x5040, 0x5040, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x5110, 0x5110, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x5125, 0x5125, Q_ACS, ACS_FULL, WX },
	{ 0x8088, 0x5140, 0x5140, Q_ACS, ACS_FULL, WX },
	{ 0x8088, ANY, Q_ACS, 0, WN },
};

static const struct pci_quirk pcie_acs_override_row = {
	0, ANY, Q_ACS_OVERRIDE, ACS_FULL,
	"pcie_acs_override= (out-of-tree patch, not in mainline or Debian): taken as isolated without an ACS capability"
};

/* DECLARE_PCI_FIXUP_HEADER() rows that change how a device is grouped */
static const struct pci_quirk pci_alias_fixups[] = {
	/* Ricoh card readers, Glenfly */
	{ 0x1180, 0xe832, 0xe832, Q_ALIAS_FUNC, 0, F0 },
	{ 0x1180, 0xe476, 0xe476, Q_ALIAS_FUNC, 0, F0 },
	{ 0x6766, 0x3d40, 0x3d41, Q_ALIAS_FUNC, 0, F0 },
	/* Marvell SATA controllers */
	{ 0x1b4b, 0x9120, 0x9120, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9123, 0x9123, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9125, 0x9125, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9128, 0x9128, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9130, 0x9130, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9170, 0x9170, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9172, 0x9172, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x917a, 0x917a, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9182, 0x9183, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x91a0, 0x91a0, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9215, 0x9215, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9220, 0x9220, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9230, 0x9230, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1b4b, 0x9235, 0x9235, Q_ALIAS_FUNC, 1, F1 },
	/* HighPoint (TTI), JMicron JMB388 ESD, Plextor M6E */
	{ 0x1103, 0x0642, 0x0642, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1103, 0x0645, 0x0645, Q_ALIAS_FUNC, 1, F1 },
	{ 0x197b, 0x2392, 0x2392, Q_ALIAS_FUNC, 1, F1 },
	{ 0x1c28, 0x0122, 0x0122, Q_ALIAS_FUNC, 1, F1 },
	/* Adaptec 3405 and 3805 (subsystem 9005:02bb, 9005:02bc) */
	{ 0x9005, 0x0285, 0x0285, Q_ALIAS_DEVFN, PCI_DEVFN(1, 0),
	  "quirk_fixed_dma_alias(): the Adaptec 3405/3805 also issues DMA as devfn 01.0" },
	/* conventional bridges that alias as PCIe-to-PCI bridges do */
	{ 0x1b21, 0x1080, 0x1080, Q_PCIE_BRIDGE_ALIAS, 0,
	  "quirk_use_pcie_bridge_dma_alias(): ASMedia ASM1083/1085 takes its subordinate bus's requester ID" },
	{ 0x10e3, 0x8113, 0x8113, Q_PCIE_BRIDGE_ALIAS, 0,
	  "quirk_use_pcie_bridge_dma_alias(): Tundra 8113 takes its subordinate bus's requester ID" },
	{ 0x1283, 0x8892, 0x8893, Q_PCIE_BRIDGE_ALIAS, 0,
	  "quirk_use_pcie_bridge_dma_alias(): ITE 8892/8893 take their subordinate bus's requester ID" },
	{ 0x8086, 0x244e, 0x244e, Q_PCIE_BRIDGE_ALIAS, 0,
	  "quirk_use_pcie_bridge_dma_alias(): Intel 82801 PCI bridge takes its subordinate bus's requester ID" },
	/* Broadcom Vulcan / Cavium ThunderX2 */
	{ 0x14e4, 0x9000, 0x9000, Q_XLATE_ROOT, 0,
	  "quirk_bridge_cavm_thrx2_pcie_root(): the IOMMU sits at this bridge, not at the root bus" },
	{ 0x14e4, 0x9084, 0x9084, Q_XLATE_ROOT, 0,
	  "quirk_bridge_cavm_thrx2_pcie_root(): the IOMMU sits at this bridge, not at the root bus" },
};

static bool quirk_matches(const struct pci_quirk *q, const struct pci_dev *dev)
{
	return (q->kind == Q_ACS_OVERRIDE || q->vendor == dev->vendor) &&
	       dev->device >= q->dev_lo && dev->device <= q->dev_hi;
}

/* pci_acs_ctrl_enabled(): 1 if @ena holds every control in @req */
static int pci_acs_ctrl_enabled(unsigned int req, unsigned int ena)
{
	return (req & ena) == req;
}

static bool is_port(const struct pci_dev *dev)
{
	return dev->pcie_type == PCI_EXP_TYPE_ROOT_PORT ||
	       dev->pcie_type == PCI_EXP_TYPE_DOWNSTREAM;
}

/*
 * The out-of-tree patch's pcie_acs_overrides(): never for conventional PCI
 * or a function with an ACS capability; an id:VVVV:DDDD match, "downstream"
 * for root and downstream ports, "multifunction" for the functions of a
 * multifunction device whose ACS the spec would ask for.
 */
static int pcie_acs_overrides(struct pci_dev *dev)
{
	const struct pcie_acs_override *o = &dev->all->override;

	if (!pci_is_pcie(dev) || dev->acs_cap)
		return -ENOTTY;
	for (unsigned int i = 0; i < o->nr_ids; i++)
		if (o->ids[i] == (dev->vendor << 16 | dev->device))
			return 1;
	switch (dev->pcie_type) {
	case PCI_EXP_TYPE_DOWNSTREAM:
	case PCI_EXP_TYPE_ROOT_PORT:
		if (o->downstream)
			return 1;
		break;
	case PCI_EXP_TYPE_ENDPOINT:
	case PCI_EXP_TYPE_UPSTREAM:
	case PCI_EXP_TYPE_RC_END:
		if (o->multifunction && dev->multifunction)
			return 1;
		break;
	default:
		break;
	}
	return -ENOTTY;
}

/* One row's verdict: >=0 decided, -ENOTTY (or -ENODEV) go on. */
static int quirk_acs(const struct pci_quirk *q, struct pci_dev *dev,
		     unsigned int acs_flags)
{
	switch (q->kind) {
	case Q_ACS:
		return pci_acs_ctrl_enabled(acs_flags, q->flags);
	case Q_ACS_ROOT_PORT:
		if (!pci_is_pcie(dev) || dev->pcie_type != PCI_EXP_TYPE_ROOT_PORT)
			return -ENOTTY;
		return pci_acs_ctrl_enabled(acs_flags, q->flags);
	case Q_ACS_PORT:
		if (!pci_is_pcie(dev) || !is_port(dev))
			return -ENOTTY;
		return q->flags ? pci_acs_ctrl_enabled(acs_flags, q->flags) : 0;
	case Q_ACS_RC_END:
		if (dev->pcie_type != PCI_EXP_TYPE_RC_END)
			return -ENOTTY;
		return pci_acs_ctrl_enabled(acs_flags, q->flags);
	case Q_ACS_AMD_SB:
		if (!dev->multifunction || !pci_is_root_bus_of(dev) ||
		    !dev->all->ivrs)
			return -ENODEV;
		/* only these apply to a multifunction device */
		acs_flags &= PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC | PCI_ACS_DT;
		return pci_acs_ctrl_enabled(acs_flags,
					    PCI_ACS_RR | PCI_ACS_CR);
	case Q_ACS_INTEL_PCH:
		if (!pci_is_pcie(dev) || dev->pcie_type != PCI_EXP_TYPE_ROOT_PORT)
			return -ENOTTY;
		return pci_acs_ctrl_enabled(acs_flags,
			dev->dev_flags & PCI_DEV_FLAGS_ACS_ENABLED_QUIRK ?
				q->flags : 0);
	case Q_ACS_INTEL_SPT:
		if (!pci_is_pcie(dev) ||
		    dev->pcie_type != PCI_EXP_TYPE_ROOT_PORT || !dev->acs_cap)
			return -ENOTTY;
		/* as pci_acs_flags_enabled(), from the dword control */
		acs_flags &= dev->acs_cap_word | PCI_ACS_EC;
		return pci_acs_ctrl_enabled(acs_flags, dev->acs_ctrl_word);
	case Q_ACS_OVERRIDE:
		return pcie_acs_overrides(dev);
	default:
		return -ENOTTY;
	}
}

static bool override_set(const struct pcie_acs_override *o)
{
	return o->downstream || o->multifunction || o->nr_ids;
}

int pci_dev_specific_acs_enabled(struct pci_dev *dev, unsigned int acs_flags,
				 const struct pci_quirk **ret_quirk)
{
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(pci_dev_acs_enabled); i++) {
		const struct pci_quirk *q = &pci_dev_acs_enabled[i];

		if (!quirk_matches(q, dev))
			continue;
		ret = quirk_acs(q, dev, acs_flags);
		if (ret >= 0) {
			if (ret_quirk)
				*ret_quirk = q;
			return ret;
		}
	}
	/* the patch appends its row last */
	if (override_set(&dev->all->override)) {
		ret = quirk_acs(&pcie_acs_override_row, dev, acs_flags);
		if (ret >= 0) {
			if (ret_quirk)
				*ret_quirk = &pcie_acs_override_row;
			return ret;
		}
	}
	return -ENOTTY;
}

/*
 * pci_dev_specific_enable_acs(): the Intel PCH root ports get their
 * ACS-like controls switched on (pci_quirk_enable_intel_pch_acs(); the
 * model assumes the chipset's RCBA is enabled, as on every board that
 * boots with VT-d); the Sunrise Point ones get SV, RR, CR and UF set in
 * their dword control (pci_quirk_enable_intel_spt_pch_acs()).
 */
int pci_dev_specific_enable_acs(struct pci_dev *dev)
{
	for (size_t i = 0; i < ARRAY_SIZE(pci_dev_acs_enabled); i++) {
		const struct pci_quirk *q = &pci_dev_acs_enabled[i];

		if (!quirk_matches(q, dev) || !pci_is_pcie(dev) ||
		    dev->pcie_type != PCI_EXP_TYPE_ROOT_PORT)
			continue;
		if (q->kind == Q_ACS_INTEL_PCH) {
			dev->dev_flags |= PCI_DEV_FLAGS_ACS_ENABLED_QUIRK;
			return 0;
		}
		if (q->kind == Q_ACS_INTEL_SPT && dev->acs_cap) {
			dev->acs_ctrl_word |= dev->acs_cap_word & REQ_ACS_FLAGS;
			return 0;
		}
	}
	return -ENOTTY;
}

void pci_fixup_device_header(struct pci_dev *dev)
{
	for (size_t i = 0; i < ARRAY_SIZE(pci_alias_fixups); i++) {
		const struct pci_quirk *q = &pci_alias_fixups[i];
		unsigned int devfn;

		if (!quirk_matches(q, dev))
			continue;
		switch (q->kind) {
		case Q_ALIAS_FUNC:
			if (PCI_FUNC(dev->devfn) == q->flags)
				continue;
			devfn = PCI_DEVFN(PCI_SLOT(dev->devfn), q->flags);
			break;
		case Q_ALIAS_DEVFN:
			/* fixed_dma_alias_tbl[] matches the subsystem too */
			if (dev->subsystem_vendor != 0x9005 ||
			    (dev->subsystem_device != 0x02bb &&
			     dev->subsystem_device != 0x02bc))
				continue;
			devfn = q->flags;
			break;
		case Q_PCIE_BRIDGE_ALIAS:
			/* a conventional bridge below a PCIe port, not below
			 * a PCIe-to-PCI bridge */
			if (pci_is_root_bus_of(dev) ||
			    dev->hdr_type != PCI_HEADER_TYPE_BRIDGE ||
			    pci_is_pcie(dev) || !pci_is_pcie(dev->bus_self) ||
			    dev->bus_self->pcie_type == PCI_EXP_TYPE_PCI_BRIDGE)
				continue;
			dev->dev_flags |= PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS;
			continue;
		case Q_XLATE_ROOT:
			dev->dev_flags |= PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT;
			continue;
		default:
			continue;
		}
		dev->dma_alias_mask[devfn / 64] |= 1ull << (devfn % 64);
		dev->alias_quirk = q;
	}
}
