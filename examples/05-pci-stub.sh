# S5. pci-stub holds a device away from its host driver.
# From: shared/spec/scenarios.md S5 (the classic KVM device-assignment recipe).
# Kernel: new_id gives pci-stub the 82574L's ids; the bound device stays on
# e1000e until it is unbound and bound to pci-stub ("claimed by stub").
# pci-stub sets driver_managed_dma, so it takes no DMA-API use count: a group
# with a pci-stub device (here group 1: the HDMI audio on pci-stub, the GPU
# on vfio-pci) can be claimed by VFIO, and while userspace owns the group the
# admin can still bind pci-stub to a device hot-added into it. snd_hda_intel,
# tried first on hot-add, gets -EBUSY from the owned group and the device
# stays unbound until the explicit bind.
# machine: x86-desktop
sudo modprobe pci-stub
echo "8086 10d3" > /sys/bus/pci/drivers/pci-stub/new_id
readlink /sys/bus/pci/devices/0000:02:00.0/driver
echo 0000:02:00.0 > /sys/bus/pci/devices/0000:02:00.0/driver/unbind
echo 0000:02:00.0 > /sys/bus/pci/drivers/pci-stub/bind
lspci -k -s 02:00.0
# A group with a pci-stub device can be claimed by VFIO.
sudo modprobe vfio-pci
echo 0000:01:00.0 > /sys/bus/pci/drivers/nouveau/unbind
echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
echo "10de 10f0" > /sys/bus/pci/drivers/pci-stub/new_id
readlink /sys/bus/pci/devices/0000:01:00.1/driver
@vmm assign 0000:01:00.0
@vfio status 1
# While userspace owns group 1, the audio function is unplugged and plugged
# back in; the admin binds pci-stub to it.
@hotplug remove 0000:01:00.1
@hotplug add 0000:01:00.1
readlink /sys/bus/pci/devices/0000:01:00.1/driver
echo 0000:01:00.1 > /sys/bus/pci/drivers/pci-stub/bind
readlink /sys/bus/pci/devices/0000:01:00.1/driver
@vfio status 1
@vmm release 0000:01:00.0
