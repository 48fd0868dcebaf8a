# S2 on the ACPI/IORT twin (tests/kernel/07-bridge-group.sh on x86): new_id
# puts the e1000 cards behind the PCIe-to-PCI bridge on vfio-pci, but the
# second has no group, so vfio-pci's probe refuses it (-EINVAL, silently),
# and shpchp, a kernel DMA user bound to the bridge, leaves group 7 not
# viable: the container refuses it (EPERM).
# machine: qemu-arm64-iort
sudo modprobe vfio-pci
echo 0000:08:01.0 > /sys/bus/pci/devices/0000:08:01.0/driver/unbind
echo 0000:08:02.0 > /sys/bus/pci/devices/0000:08:02.0/driver/unbind
echo 8086 100e > /sys/bus/pci/drivers/vfio-pci/new_id
readlink /sys/bus/pci/devices/0000:08:01.0/driver
readlink /sys/bus/pci/devices/0000:08:02.0/driver
ls /dev/vfio
@vfio open 7
@vfio status 7
@vfio container-open
@vfio set-container 7 0
@vfio close 7
@vfio container-close 0
