# S2. Documentation example: a device behind a PCIe-to-PCI bridge (x86).
# From: shared/spec/scenarios.md S2, the kernel's VFIO documentation
# (Documentation/driver-api/vfio.rst, "VFIO Usage Example").
# Kernel: 0000:06:0d.0 (1102:0002, class 0401) is in group 26 with the bridge
# 0000:00:1e.0 and the sibling 0000:06:0d.1. new_id makes vfio-pci bind every
# unbound device with those ids, so both functions go to vfio-pci; the bridge
# has no driver and does not block. /dev/vfio/26 then opens, GET_STATUS says
# VIABLE, SET_CONTAINER and SET_IOMMU (type1) succeed and GET_DEVICE_FD for
# 0000:06:0d.0 succeeds.
# On this machine the sound card has no host driver (the catalogue has no
# snd-emu10k1), so the documentation's unbind line finds no driver link and
# fails with ENOENT, which changes nothing: both functions are already free.
# machine: vfio-doc
lspci -n -s 0000:06:0d.0
readlink /sys/bus/pci/devices/0000:06:0d.0/iommu_group
ls /sys/bus/pci/devices/0000:06:0d.0/iommu_group/devices
sudo modprobe vfio-pci
echo 0000:06:0d.0 > /sys/bus/pci/devices/0000:06:0d.0/driver/unbind
echo 1102 0002 > /sys/bus/pci/drivers/vfio-pci/new_id
readlink /sys/bus/pci/devices/0000:06:0d.0/driver
readlink /sys/bus/pci/devices/0000:06:0d.1/driver
lspci -k -s 00:1e.0
ls /dev/vfio
# What the documentation's C example does with the group.
@vfio open 26
@vfio status 26
@vfio container-open
@vfio set-container 26 0
@vfio set-iommu 0 type1
@vfio get-device-fd 26 0000:06:0d.0
@vfio status 26
