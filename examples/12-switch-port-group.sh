# S12. A switch downstream port in the group does not block (x86, AMD chipset).
# From: shared/spec/scenarios.md S12 (a forum report; some userspace tools
# wrongly refuse this group).
# Kernel: group 15 = the B550 switch's downstream port 0000:04:00.0
# (pcieport) + the I210 0000:05:00.0, path
# pci0000:00/0000:00:02.1/0000:03:00.0/0000:04:00.0/0000:05:00.0. With the
# I210 on vfio-pci, pcieport still on the port: pcieport sets
# driver_managed_dma and takes no DMA-API use count, so GET_STATUS says
# VIABLE and the group can be claimed (SET_CONTAINER, SET_IOMMU type1v2,
# GET_DEVICE_FD all succeed). The port itself is not a vfio device
# (GET_DEVICE_FD: ENODEV). A QEMU-like VMM assigns the NIC the same way.
# machine: amd-desktop
sudo modprobe vfio-pci
readlink -f /sys/bus/pci/devices/0000:05:00.0
ls /sys/kernel/iommu_groups/15/devices
echo 0000:05:00.0 > /sys/bus/pci/drivers/igb/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:05:00.0/driver_override
echo 0000:05:00.0 > /sys/bus/pci/drivers_probe
lspci -k -s 04:00.0
lspci -k -s 05:00.0
@vfio open 15
@vfio status 15
@vfio container-open
@vfio set-container 15 0
@vfio set-iommu 0 type1v2
@vfio get-device-fd 15 0000:05:00.0
@vfio get-device-fd 15 0000:04:00.0
@vfio status 15
@vfio device-close 0000:05:00.0
@vfio close 15
@vfio container-close 0
@vmm assign 0000:05:00.0
@vmm release 0000:05:00.0
