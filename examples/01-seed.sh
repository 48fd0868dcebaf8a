# S1. The seed: e1000e on a Qualcomm QDF2400 (arm64, ACPI/IORT, SMMUv3).
# From: shared/spec/scenarios.md S1; the reproducer is Eric Auger's, from his
# review of "[PATCH v7 01/11] iommu: Add DMA ownership management interfaces"
# (shared/seed), pasted verbatim (first three lines).
# Kernel (the series as merged, v5.19+): on IORT the NIC joined iommu group 3
# at its first probe and e1000e took a use count after that, so the unbind
# drops the count to 0 with no WARNING. drivers_probe then binds vfio-pci
# (driver_override), vfio-pci manages DMA itself (no use count), and the
# group can be claimed by userspace: a VMM assigns the NIC and gives it back.
# The v7 ordering bug is 01-seed-v7.sh.
# machine: qdf2400
sudo modprobe -v vfio-pci
echo vfio-pci | sudo tee -a /sys/bus/pci/devices/0004:01:00.0/driver_override
echo 0004:01:00.0 | sudo tee -a  /sys/bus/pci/drivers/e1000e/unbind
echo 0004:01:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0004:01:00.0/driver
# The group can now be claimed by userspace (QEMU -device vfio-pci,host=...).
@vmm assign 0004:01:00.0
@vfio status 3
@vmm release 0004:01:00.0
