# S4 on the twin: while a VMM owns group 10, e1000e cannot bind the
# function that left vfio-pci: really_probe() -> pci_dma_configure() ->
# iommu_device_use_default_domain() returns -EBUSY; drivers_probe reports
# the same failure as EINVAL... or not: the kernel decides. Once the VMM
# lets go the bind works.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:06:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo 0000:06:00.1 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:06:00.0/driver_override
echo vfio-pci > /sys/bus/pci/devices/0000:06:00.1/driver_override
echo 0000:06:00.0 > /sys/bus/pci/drivers_probe
echo 0000:06:00.1 > /sys/bus/pci/drivers_probe
@vmm assign 0000:06:00.0
echo > /sys/bus/pci/devices/0000:06:00.1/driver_override
echo 0000:06:00.1 > /sys/bus/pci/drivers/vfio-pci/unbind
echo 0000:06:00.1 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:06:00.1/driver
echo 0000:06:00.1 > /sys/bus/pci/drivers_probe
@vfio status 10
@vmm release 0000:06:00.0
echo 0000:06:00.1 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:06:00.1/driver
