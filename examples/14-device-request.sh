# The admin unbinds vfio-pci from a device a process holds open, first from
# a process without a request channel, then from one with.
# Kernel (v6.6): vfio_unregister_group_dev() blocks the writer of unbind
# until the last file of the device is closed, calling vfio-pci's request
# op, vfio_pci_core_request(), with request 0, then 1, 2... every ten
# seconds. A process that registered a request eventfd (VFIO_DEVICE_SET_IRQS
# with VFIO_PCI_REQ_IRQ_INDEX, as QEMU does) is signalled each time, and
# the kernel logs "Relaying device request to user (#N)" at notice level on
# every tenth request; a process without one is not told, and the kernel
# warns once "No device request channel registered, blocked until released
# by user". The eventfd needs the device open (EBADF before), and the last
# close drops it. dmaown's userspace closes the device at once in both
# cases, so only request #0 shows, and the unbind completes.
# machine: x86-server
sudo modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/0000:65:00.0/driver_override
echo 0000:65:00.0 > /sys/bus/pci/drivers/nvme/unbind
echo 0000:65:00.0 > /sys/bus/pci/drivers_probe
# A process opens the device through its group; no request eventfd.
@vfio open 12
@vfio container-open
@vfio set-container 12 0
@vfio set-iommu 0 type1v2
@vfio set-req-eventfd 0000:65:00.0
@vfio get-device-fd 12 0000:65:00.0
echo 0000:65:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
readlink /sys/bus/pci/devices/0000:65:00.0/driver
@vfio close 12
@vfio container-close 0
# vfio-pci takes the device back; this process registers the eventfd.
echo 0000:65:00.0 > /sys/bus/pci/drivers_probe
@vfio open 12
@vfio container-open
@vfio set-container 12 0
@vfio set-iommu 0 type1v2
@vfio get-device-fd 12 0000:65:00.0
@vfio set-req-eventfd 0000:65:00.0
echo 0000:65:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
readlink /sys/bus/pci/devices/0000:65:00.0/driver
@vfio close 12
@vfio container-close 0
echo > /sys/bus/pci/devices/0000:65:00.0/driver_override
echo 0000:65:00.0 > /sys/bus/pci/drivers/nvme/bind
readlink /sys/bus/pci/devices/0000:65:00.0/driver
