# S2 on the device-tree twin (tests/kernel/07-bridge-group.sh on x86): new_id
# puts the e1000 cards behind the PCIe-to-PCI bridge on vfio-pci, but the
# second has no group, so vfio-pci's probe refuses it (-EINVAL, silently),
# and shpchp, a kernel DMA user bound to the bridge, leaves group 3 not
# viable: the container refuses it (EPERM).
# Driver links are looked at with ls -d: on device tree the PCI root is
# below the host bridge's platform device, so readlink's relative path
# is deeper than the model's (docs/oracle.md).
# machine: qemu-arm64-smmuv3
sudo modprobe vfio-pci
echo 0000:08:01.0 > /sys/bus/pci/devices/0000:08:01.0/driver/unbind
echo 0000:08:02.0 > /sys/bus/pci/devices/0000:08:02.0/driver/unbind
echo 8086 100e > /sys/bus/pci/drivers/vfio-pci/new_id
ls -d /sys/bus/pci/devices/0000:08:01.0/driver/0000:08:01.0
ls -d /sys/bus/pci/devices/0000:08:02.0/driver/0000:08:02.0
ls /dev/vfio
@vfio open 3
@vfio status 3
@vfio container-open
@vfio set-container 3 0
@vfio close 3
@vfio container-close 0
