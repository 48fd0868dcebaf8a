# S5 on the twin: pci-stub holds a function away from its host driver.
# new_id gives pci-stub the 82574L's ids: new_id_store() -> driver_attach()
# tries only unbound devices, so 06:00.1 stays on e1000e until it is
# unbound and bound to pci-stub by hand. pci-stub sets driver_managed_dma,
# so pci_dma_configure() takes no DMA-API use for it: group 10, with
# 06:00.1 on pci-stub and 06:00.0 on vfio-pci, is viable and a VMM claims
# it (iommu_group_claim_dma_owner()). While userspace owns the group,
# e1000e cannot bind 06:00.1 (iommu_device_use_default_domain(): EBUSY)
# and pci-stub can (the example's hot-plug is replaced by an unbind, which
# the twin can do).
# machine: qemu-x86-vtd
sudo modprobe pci-stub
echo "8086 10d3" > /sys/bus/pci/drivers/pci-stub/new_id
readlink /sys/bus/pci/devices/0000:06:00.1/driver
echo 0000:06:00.1 > /sys/bus/pci/devices/0000:06:00.1/driver/unbind
echo 0000:06:00.1 > /sys/bus/pci/drivers/pci-stub/bind
readlink /sys/bus/pci/devices/0000:06:00.1/driver
sudo modprobe vfio-pci
echo 0000:06:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:06:00.0/driver_override
echo 0000:06:00.0 > /sys/bus/pci/drivers_probe
@vmm assign 0000:06:00.0
@vfio status 10
echo 0000:06:00.1 > /sys/bus/pci/drivers/pci-stub/unbind
echo 0000:06:00.1 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:06:00.1/driver
echo 0000:06:00.1 > /sys/bus/pci/drivers/pci-stub/bind
readlink /sys/bus/pci/devices/0000:06:00.1/driver
@vfio status 10
@vmm release 0000:06:00.0
