# S13 on the twin: a second VMM cannot take a group the first holds
# (/dev/vfio/6 opens once: EBUSY); after the release it can; a device of
# another driver cannot be assigned (not on vfio-pci: no group file).
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
@vmm assign 0000:01:00.0
@vmm assign 0000:01:00.0
@vmm release 0000:01:00.0
@vmm assign 0000:01:00.0
@vmm release 0000:01:00.0
@vmm assign 0000:04:00.0
