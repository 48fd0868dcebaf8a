# S6. No IOMMU (intel_iommu=off, or no IOMMU hardware; the kernel is built
# with the IOMMU API, so VFIO is there).
# From: shared/spec/scenarios.md S6.
# Kernel: devices have no iommu_group link and /sys/kernel/iommu_groups is
# empty. vfio-pci's probe fails with EINVAL ("vfio-pci: probe of 0000:01:00.0
# failed with error -22"): drivers_probe still reports success, a direct bind
# fails with "write error: Invalid argument", and QEMU finds no group. Kernel
# DMA drivers bind as usual (iommu_device_use_default_domain() returns 0).
# With the unsafe no-IOMMU mode on, vfio-pci binds (tainting the kernel):
# vfio_noiommu_group_alloc() gives the GPU a real IOMMU group, 0, named
# "vfio-noiommu", that claims no DMA ownership; its node is
# /dev/vfio/noiommu-0, which QEMU does not open (it looks for /dev/vfio/0).
# machine: no-iommu
readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group
ls /sys/kernel/iommu_groups
sudo modprobe vfio-pci
echo 0000:01:00.0 > /sys/bus/pci/drivers/nouveau/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:01:00.0/driver
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
ls /dev/vfio
@vmm assign 0000:01:00.0
# Kernel DMA-API drivers bind as usual.
echo 0000:02:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo 0000:02:00.0 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:02:00.0/driver
# vfio's enable_unsafe_noiommu_mode=1.
@option noiommu on
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
readlink /sys/bus/pci/devices/0000:01:00.0/driver
readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group
ls /sys/kernel/iommu_groups
cat /sys/kernel/iommu_groups/0/name
ls /dev/vfio
@vmm assign 0000:01:00.0
