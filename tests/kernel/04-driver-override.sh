# S7 on the twin: driver_override set, unbind, reprobe binds vfio-pci and
# only vfio-pci (e1000e's bind fails with ENODEV); cleared, it reads back
# (null) and reprobing returns e1000e; vfio-pci cannot be bound by name.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/devices/0000:01:00.0/driver/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
cat /sys/bus/pci/devices/0000:01:00.0/driver_override
readlink /sys/bus/pci/devices/0000:01:00.0/driver
echo 0000:01:00.0 > /sys/bus/pci/devices/0000:01:00.0/driver/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:01:00.0/driver
echo > /sys/bus/pci/devices/0000:01:00.0/driver_override
cat /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:01:00.0/driver
echo 0000:01:00.0 > /sys/bus/pci/devices/0000:01:00.0/driver/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:01:00.0/driver
