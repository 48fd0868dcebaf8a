# DPDK on SR-IOV virtual functions: the VF flow of DPDK's NIC guides
# (i40e/iavf), on an X710 port.
# Kernel (v6.6): writing N to the PF's sriov_numvfs runs sriov_numvfs_store():
# the number is checked against TotalVFs (ERANGE), then with the PF locked
# the driver's sriov_configure (i40e_pci_sriov_configure(): "Allocating N
# VFs.") calls pci_enable_sriov(), which adds each VF as a PCI device
# (pci_iov_add_virtfn()): it joins its IOMMU group (pci_device_group(): a
# VF is never part of a multifunction device, and the root port above has
# ACS, so each VF has a group of its own) and iavf, autoprobing, binds it.
# dpdk-devbind.py -b vfio-pci then moves each VF as it does any device:
# unbind from iavf, driver_override, bind, override cleared again (python
# writes "\0"; a newline does the same). testpmd's EAL claims each VF's
# group through VFIO. A second count cannot replace the first (EBUSY: 0
# first), and the count goes up to TotalVFs only.
# The 82599 behind a root port without ACS shows the other case: its VFs
# join the root port's group with both ixgbe ports, so that group is not
# viable for VFIO while ixgbe drives a port.
# machine: sriov-host
sudo modprobe vfio-pci
cat /sys/bus/pci/devices/0000:02:00.0/sriov_totalvfs
cat /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 65 | sudo tee /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 2 | sudo tee /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
lspci -nnk -s 02:02
readlink /sys/bus/pci/devices/0000:02:00.0/virtfn0
readlink /sys/bus/pci/devices/0000:02:02.1/physfn
readlink /sys/bus/pci/devices/0000:02:02.0/iommu_group
readlink /sys/bus/pci/devices/0000:02:02.1/iommu_group
# dpdk-devbind.py -b vfio-pci 0000:02:02.0 0000:02:02.1
echo 0000:02:02.0 > /sys/bus/pci/drivers/iavf/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:02:02.0/driver_override
echo 0000:02:02.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo > /sys/bus/pci/devices/0000:02:02.0/driver_override
echo 0000:02:02.1 > /sys/bus/pci/drivers/iavf/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:02:02.1/driver_override
echo 0000:02:02.1 > /sys/bus/pci/drivers/vfio-pci/bind
echo > /sys/bus/pci/devices/0000:02:02.1/driver_override
ls /dev/vfio
# dpdk-testpmd -a 0000:02:02.0 -a 0000:02:02.1: the EAL's VFIO set-up
@as testpmd
@vfio container-open
@vfio open 5
@vfio set-container 4 3
@vfio set-iommu 3 type1v2
@vfio get-device-fd 4 0000:02:02.0
@vfio open 6
@vfio set-container 6 3
@vfio get-device-fd 6 0000:02:02.1
@as sh
# More VFs while testpmd runs: the count must go to 0 first.
echo 4 | sudo tee /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
@exit testpmd
echo 0 | sudo tee /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
ls /sys/bus/pci/devices
# The 82599's VFs share the group of the root port without ACS.
echo 1 | sudo tee /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
ls /sys/kernel/iommu_groups/1/devices
echo 0000:01:10.0 > /sys/bus/pci/drivers/ixgbevf/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:10.0/driver_override
echo 0000:01:10.0 > /sys/bus/pci/drivers/vfio-pci/bind
@vfio open 1
@vfio status 1
@vfio container-open
@vfio set-container 1 0
