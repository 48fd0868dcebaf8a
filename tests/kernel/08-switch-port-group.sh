# S12 on the twin: the downstream port 03:01.0 (pcieport) shares group 9
# with 05:00.0; pcieport manages its own DMA, so once the endpoint is on
# vfio-pci the group is viable and a VMM takes it.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
ls /sys/kernel/iommu_groups/9/devices
echo 0000:05:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:05:00.0/driver_override
echo 0000:05:00.0 > /sys/bus/pci/drivers_probe
@vmm assign 0000:05:00.0
@vfio status 9
readlink /sys/bus/pci/devices/0000:03:01.0/driver
@vmm release 0000:05:00.0
