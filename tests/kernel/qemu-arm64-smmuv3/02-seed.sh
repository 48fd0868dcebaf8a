# S1, the seed (examples/01-seed.sh), on the device-tree twin: the 82574L
# at 01:00.0 stands for the QDF2400's. It joined its group (0, with its
# root port, whose pcieport manages DMA itself) at its first probe, so the
# unbind gives the use count back with no WARN; vfio-pci binds through
# driver_override, and a VMM claims the group and gives it back. (The
# seed's modprobe -v prints module paths, which differ: left out.)
# Driver links are looked at with ls -d: on device tree the PCI root is
# below the host bridge's platform device, so readlink's relative path
# is deeper than the model's (docs/oracle.md).
# machine: qemu-arm64-smmuv3
sudo modprobe vfio-pci
echo vfio-pci | sudo tee -a /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 | sudo tee -a  /sys/bus/pci/drivers/e1000e/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
ls -d /sys/bus/pci/devices/0000:01:00.0/driver/0000:01:00.0
@vmm assign 0000:01:00.0
@vfio status 0
@vmm release 0000:01:00.0
