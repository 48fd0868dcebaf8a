# dmaown-run-args: --fault v7-order
# S1, seed v7. The same reproducer on the v7 bus code.
# From: shared/spec/scenarios.md S1 ("Seed v7: the unbind prints the WARNING at
# iommu_device_unuse_default_domain"), Eric Auger's report in shared/seed.
# Kernel (v7, 5.17.0-rc4-lu-v7): pci_dma_configure() called
# iommu_device_use_default_domain() before the ACPI/IORT DMA configuration
# that puts the NIC in its group, so e1000e's probe counted nothing; the
# unbind's pci_dma_cleanup() then hits WARN_ON(!group->owner_cnt) in
# iommu_device_unuse_default_domain, called from __device_release_driver <-
# device_driver_detach <- unbind_store, in task tee. The runner passes
# --fault v7-order (the line above), so dmaown boots with that ordering;
# expected exit status 1 (a WARN fired). The rest still works.
# machine: qdf2400
sudo modprobe -v vfio-pci
echo vfio-pci | sudo tee -a /sys/bus/pci/devices/0004:01:00.0/driver_override
echo 0004:01:00.0 | sudo tee -a  /sys/bus/pci/drivers/e1000e/unbind
echo 0004:01:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0004:01:00.0/driver
