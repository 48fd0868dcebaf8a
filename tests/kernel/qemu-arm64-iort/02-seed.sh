# S1, the seed (examples/01-seed.sh), on the ACPI/IORT twin: the 82574L
# at 01:00.0 stands for the QDF2400's. It joined its group (8, behind its
# root port, whose ACS the IORT code asked for in time) at its first probe, so the
# unbind gives the use count back with no WARN; vfio-pci binds through
# driver_override, and a VMM claims the group and gives it back. (The
# seed's modprobe -v prints module paths, which differ: left out.)
# machine: qemu-arm64-iort
sudo modprobe vfio-pci
echo vfio-pci | sudo tee -a /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 | sudo tee -a  /sys/bus/pci/drivers/e1000e/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:01:00.0/driver
@vmm assign 0000:01:00.0
@vfio status 8
@vmm release 0000:01:00.0
