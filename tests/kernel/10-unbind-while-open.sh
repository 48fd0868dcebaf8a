# S14 on the twin: unbinding vfio-pci from a device a VMM holds open. The
# kernel asks userspace through the request eventfd QEMU registers
# ("Relaying device request to user") and the unbind waits until the
# device file is closed; a VMM that complies (the model's userspace, and
# the guest helper, which closes the device's files on the request) lets
# it finish.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
@vmm assign 0000:01:00.0
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
readlink /sys/bus/pci/devices/0000:01:00.0/driver
@vmm release 0000:01:00.0
