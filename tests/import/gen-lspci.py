#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write 'lspci -vvv -nn -xxxx' style output for a machine described below,
with the config space bytes a real device of that shape has (header, the
PCI Express capability, an ACS extended capability): a fixture for the
libpci dump path of 'dmaown import' (docs/import.md). The text lines carry
what config space cannot (driver, IOMMU group); the hex carries the rest.

Usage: gen-lspci.py MACHINE > FILE   (MACHINE: a name in MACHINES)
       gen-lspci.py --sysfs MACHINE DIR
The second form writes a sysfs tree of the same machine under DIR, as a
copy of /sys would hold it: bus/pci/devices links into devices/, each
function's attributes, binary config, driver and IOMMU links, and
kernel/iommu_groups with their type.
"""
import os
import sys

SV, TB, RR, CR, UF, EC, DT = 1, 2, 4, 8, 16, 32, 64
TYPES = {"endpoint": 0, "root-port": 4, "upstream": 5, "downstream": 6,
         "pci-bridge": 7, "rc-endpoint": 9}

# Alex Williamson's Alder Lake desktop as he showed it on linux-pci and kvm
# (2025-07-18, "Re: [PATCH v2 00/16] Fix incorrect iommu_groups with PCIe
# ACS"): the root ports at 00:1c.x (1c.0 without ACS), a Pericom PI7C9X2G404
# switch with ACS on its downstream ports, Realtek and Fresco Logic
# endpoints. Columns: address, ids, class, type, secondary bus or None,
# ACS (cap, ctl) or None, driver, multifunction header bit.
ALDERLAKE = [
    ("00:1c.0", "8086:7a38", 0x060400, "root-port", 0x05, None, "pcieport", True),
    ("00:1c.1", "8086:7a39", 0x060400, "root-port", 0x06,
     (SV | TB | RR | CR | UF, SV | RR | CR | UF), "pcieport", True),
    ("00:1c.2", "8086:7a3a", 0x060400, "root-port", 0x07,
     (SV | TB | RR | CR | UF, SV | RR | CR | UF), "pcieport", True),
    ("00:1c.3", "8086:7a3b", 0x060400, "root-port", 0x08,
     (SV | TB | RR | CR | UF, SV | RR | CR | UF), "pcieport", True),
    ("06:00.0", "1b73:1100", 0x0c0330, "endpoint", None, None, "xhci_hcd", False),
    ("07:00.0", "10ec:8125", 0x020000, "endpoint", None, None, "r8169", False),
    ("08:00.0", "12d8:2404", 0x060400, "upstream", 0x09, None, "pcieport", False),
    ("09:01.0", "12d8:2404", 0x060400, "downstream", 0x0a,
     (SV | TB | RR | CR | UF | EC | DT, SV | RR | CR | UF), "pcieport", False),
    ("09:02.0", "12d8:2404", 0x060400, "downstream", 0x0b,
     (SV | TB | RR | CR | UF | EC | DT, SV | RR | CR | UF), "pcieport", False),
    ("09:03.0", "12d8:2404", 0x060400, "downstream", 0x0c,
     (SV | TB | RR | CR | UF | EC | DT, SV | RR | CR | UF), "pcieport", False),
    ("0a:00.0", "10ec:8168", 0x020000, "endpoint", None, None, "r8169", False),
    ("0c:00.0", "10ec:8168", 0x020000, "endpoint", None, None, "r8169", False),
]

# An arm64 board on devicetree, as 6.1 left it under QEMU: ACS on the root
# port's capability but not enabled (devicetree requests ACS only at the
# first probe), so the root port and its NVMe share a group; platform and
# AMBA devices behind the SMMU, two of them sharing a group.
ARMBOARD = [
    ("00:00.0", "1d87:0100", 0x060400, "root-port", 0x01,
     (SV | TB | RR | CR | UF, 0), "pcieport", False),
    ("01:00.0", "144d:a808", 0x010802, "endpoint", None, None, "nvme", False),
]
# name, bus, compatible or AMBA id, driver, group
ARMBOARD_OTHERS = [
    ("fe800000.usb", "platform", "snps,dwc3", "dwc3", 0),
    ("fe330000.mmc", "platform", "arasan,sdhci-5.1", "sdhci-arasan", 1),
    ("fe530000.dma", "amba", "00041330", "dma-pl330", 1),
]

MACHINES = {"alderlake": ALDERLAKE, "armboard": ARMBOARD}
# functions with a Device Serial Number (the RTL8125's, made up)
SERIALS = {"07:00.0": 0x00e04cfffe680125}
# firmware 1:1 ranges in a group's reserved_regions (an RMRR for the USB
# controller's legacy emulation, relaxable; one for the NIC, direct)
DIRECT = {"alderlake": {"06:00.0": "0x000000003e2e0000 0x000000003e2fffff direct-relaxable",
                        "07:00.0": "0x000000007a000000 0x000000007a0fffff direct"}}
OTHERS = {"armboard": ARMBOARD_OTHERS}
# the kernel's group of each PCI function, where not one each from 12 up
GROUPS = {"armboard": {"00:00.0": 3, "01:00.0": 3}}
DEVICETREE = {"armboard"}


def config(dev):
    addr, ids, cls, typ, sec, acs, _drv, mf = dev
    vendor, device = (int(x, 16) for x in ids.split(":"))
    c = bytearray(4096)
    c[0:2] = vendor.to_bytes(2, "little")
    c[2:4] = device.to_bytes(2, "little")
    c[4:6] = (0x0406).to_bytes(2, "little")      # memory, bus master
    c[6:8] = (0x0010).to_bytes(2, "little")      # capability list
    c[9] = cls & 0xff
    c[10] = (cls >> 8) & 0xff
    c[11] = cls >> 16
    bridge = sec is not None
    c[0x0e] = (1 if bridge else 0) | (0x80 if mf else 0)
    bus = int(addr[:2], 16)
    if bridge:
        c[0x18], c[0x19], c[0x1a] = bus, sec, sec
    c[0x34] = 0x40
    c[0x40] = 0x10                               # PCI Express
    c[0x42:0x44] = (2 | TYPES[typ] << 4).to_bytes(2, "little")
    if acs:
        c[0x100:0x104] = (0x000d | 1 << 16).to_bytes(4, "little")
        c[0x104:0x106] = acs[0].to_bytes(2, "little")
        c[0x106:0x108] = acs[1].to_bytes(2, "little")
    else:
        # AER, so extended config space is seen to be there
        c[0x100:0x104] = (0x0001 | 1 << 16).to_bytes(4, "little")
    if addr in SERIALS:
        # AER -> Device Serial Number: what a snapshot must blank
        c[0x100:0x104] = (0x0001 | 1 << 16 | 0x140 << 20).to_bytes(4, "little")
        c[0x140:0x144] = (0x0003 | 1 << 16).to_bytes(4, "little")
        c[0x144:0x14c] = SERIALS[addr].to_bytes(8, "little")
    return c


def sysfs(name, root):
    """Write the sysfs tree of machine @name under @root."""
    devs = MACHINES[name]
    groups = GROUPS.get(name, {})
    by_bus = {}
    for dev in devs:
        if dev[4] is not None:
            by_bus[dev[4]] = dev[0]
    paths = {}
    for dev in devs:                     # parents come first in the table
        addr = dev[0]
        parent = by_bus.get(int(addr[:2], 16))
        base = paths[parent] if parent else "devices/pci0000:00"
        paths[addr] = f"{base}/0000:{addr}"
    os.makedirs(f"{root}/bus/pci/devices")
    iommu = "fd800000.iommu" if name in DEVICETREE else "dmar0"
    os.makedirs(f"{root}/devices/virtual/iommu/{iommu}")
    if name in DEVICETREE:
        os.makedirs(f"{root}/firmware/devicetree/base")
    for group, dev in enumerate(devs):
        addr, ids, cls, _typ, _sec, _acs, drv, _mf = dev
        d = f"{root}/{paths[addr]}"
        os.makedirs(d)
        vendor, device = ids.split(":")
        for attr, val in (("vendor", vendor), ("device", device),
                          ("subsystem_vendor", "0000"),
                          ("subsystem_device", "0000")):
            with open(f"{d}/{attr}", "w") as f:
                f.write(f"0x{val}\n")
        with open(f"{d}/class", "w") as f:
            f.write(f"0x{cls:06x}\n")
        with open(f"{d}/driver_override", "w") as f:
            f.write("(null)\n")
        with open(f"{d}/config", "wb") as f:
            f.write(config(dev))
        depth = paths[addr].count("/") + 1
        up = "../" * depth
        os.makedirs(f"{root}/bus/pci/drivers/{drv}", exist_ok=True)
        os.symlink(f"{up}bus/pci/drivers/{drv}", f"{d}/driver")
        g = f"kernel/iommu_groups/{groups.get(addr, group + 12)}"
        os.makedirs(f"{root}/{g}/devices", exist_ok=True)
        with open(f"{root}/{g}/type", "w") as f:
            f.write("DMA\n" if name in DEVICETREE else "DMA-FQ\n")
        with open(f"{root}/{g}/reserved_regions", "w") as f:
            direct = DIRECT.get(name, {}).get(addr)
            if direct:
                f.write(direct + "\n")
            f.write("0x00000000fee00000 0x00000000feefffff msi\n")
        os.symlink(f"{up}{g}", f"{d}/iommu_group")
        os.symlink(f"{up}devices/virtual/iommu/{iommu}", f"{d}/iommu")
        os.symlink(f"../../../{paths[addr]}",
                   f"{root}/bus/pci/devices/0000:{addr}")


    for dname, bus, ident, drv, group in OTHERS.get(name, []):
        d = f"{root}/devices/platform/{dname}"
        os.makedirs(d)
        os.makedirs(f"{root}/bus/{bus}/drivers/{drv}", exist_ok=True)
        os.symlink(f"../../../bus/{bus}", f"{d}/subsystem")
        os.symlink(f"../../../bus/{bus}/drivers/{drv}", f"{d}/driver")
        os.symlink(f"../../virtual/iommu/{iommu}", f"{d}/iommu")
        if bus == "amba":
            with open(f"{d}/id", "w") as f:
                f.write(f"{ident}\n")
        else:
            os.makedirs(f"{d}/of_node")
            with open(f"{d}/of_node/compatible", "w") as f:
                f.write(f"{ident}\0")
        g = f"kernel/iommu_groups/{group}"
        os.makedirs(f"{root}/{g}/devices", exist_ok=True)
        with open(f"{root}/{g}/type", "w") as f:
            f.write("DMA\n")
        os.symlink(f"../../../../devices/platform/{dname}",
                   f"{root}/{g}/devices/{dname}")
        os.symlink(f"../../../kernel/iommu_groups/{group}",
                   f"{d}/iommu_group")


def main():
    if sys.argv[1] == "--sysfs":
        sysfs(sys.argv[2], sys.argv[3])
        return
    devs = MACHINES[sys.argv[1]]
    for group, dev in enumerate(devs):
        addr, ids, cls, typ, sec, acs, drv, _mf = dev
        print(f"{addr} Device [{cls >> 8:04x}]: Device [{ids}]")
        print(f"\tIOMMU group: {group + 12}")
        if sec is not None:
            print(f"\tBus: primary={addr[:2]}, secondary={sec:02x}, "
                  f"subordinate={sec:02x}, sec-latency=0")
        print(f"\tKernel driver in use: {drv}")
        c = config(dev)
        for off in range(0, 4096, 16):
            print(f"{off:03x}: " if off >= 0x100 else f"{off:02x}: ", end="")
            print(" ".join(f"{b:02x}" for b in c[off:off + 16]))
        print()


main()
