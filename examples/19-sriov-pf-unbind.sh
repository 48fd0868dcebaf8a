# The PF's driver goes while userspace holds its VFs open through VFIO.
# Kernel (v6.6): a PF driver turns SR-IOV off in its remove (i40e_remove()
# -> i40e_free_vfs(), ixgbe_remove() -> ixgbe_disable_sriov(), and
# vfio-pci's own vfio_pci_core_unregister_device() ->
# vfio_pci_core_sriov_configure(0)): pci_disable_sriov() removes every VF,
# and a VF on vfio-pci that a process holds open blocks the remove
# (vfio_unregister_group_dev()) until it is released, asking through the
# request eventfd ("Relaying device request to user (#0)") or, without
# one, warning once ("No device request channel registered, blocked until
# released by user"). The unbind of the PF completes only then. dmaown's
# userspace releases at once. No VF is "assigned" (pci_vfs_assigned(), set
# only by Xen's pciback or the old KVM assignment), so nothing keeps the
# VFs. sriov_numvfs without a PF driver, or with one that has no
# sriov_configure, is ENOENT; vfio-pci as PF driver has one, which answers
# ENOENT unless vfio-pci was loaded with enable_sriov=1, and then captures
# each VF for itself through driver_override; a VF of a PF on vfio-pci is
# opened only with the VF token the PF's user set (VFIO_DEVICE_FEATURE
# PCI_VF_TOKEN), appended to its name ("vf_token=UUID"), and once a VF is
# open the PF itself is opened only with it too.
# machine: sriov-host
sudo modprobe vfio-pci
echo 2 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo vfio-pci > /sys/bus/pci/devices/0000:02:02.0/driver_override
echo 0000:02:02.0 > /sys/bus/pci/drivers/iavf/unbind
echo 0000:02:02.0 > /sys/bus/pci/drivers_probe
echo vfio-pci > /sys/bus/pci/devices/0000:02:02.1/driver_override
echo 0000:02:02.1 > /sys/bus/pci/drivers/iavf/unbind
echo 0000:02:02.1 > /sys/bus/pci/drivers_probe
# qemu-a holds VF 0 and registered the request eventfd, as QEMU does;
# dpdk-b holds VF 1 without one.
@as qemu-a @vfio container-open
@as qemu-a @vfio open 5
@as qemu-a @vfio set-container 4 3
@as qemu-a @vfio set-iommu 3 type1v2
@as qemu-a @vfio get-device-fd 4 0000:02:02.0
@as qemu-a @vfio set-req-eventfd 5
@as dpdk-b @vfio container-open
@as dpdk-b @vfio open 6
@as dpdk-b @vfio set-container 4 3
@as dpdk-b @vfio set-iommu 3 type1v2
@as dpdk-b @vfio get-device-fd 4 0000:02:02.1
echo 0000:02:00.0 > /sys/bus/pci/drivers/i40e/unbind
ls /sys/bus/pci/devices
ls /dev/vfio
@exit qemu-a
@exit dpdk-b
cat /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
# No PF driver now: ENOENT. pci-stub has no sriov_configure: ENOENT too.
echo 1 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
sudo modprobe pci-stub
echo pci-stub > /sys/bus/pci/devices/0000:02:00.0/driver_override
echo 0000:02:00.0 > /sys/bus/pci/drivers_probe
echo 1 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 0000:02:00.0 > /sys/bus/pci/drivers/pci-stub/unbind
# vfio-pci as the PF driver (a userspace PF driver): enable_sriov=1 needed.
echo vfio-pci > /sys/bus/pci/devices/0000:02:00.0/driver_override
echo 0000:02:00.0 > /sys/bus/pci/drivers_probe
echo 1 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
sudo modprobe -r vfio-pci
sudo modprobe vfio-pci enable_sriov=1
echo 0000:02:00.0 > /sys/bus/pci/drivers_probe
echo 2 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
lspci -k -s 02:02
cat /sys/bus/pci/devices/0000:02:02.1/driver_override
# The PF's user (a userspace PF driver) opens it and sets the VF token;
# a VF opens only with that token (vfio_pci_validate_vf_token()).
@as pf-drv @vfio container-open
@as pf-drv @vfio open 3
@as pf-drv @vfio set-container 4 3
@as pf-drv @vfio set-iommu 3 type1v2
@as pf-drv @vfio get-device-fd 4 0000:02:00.0
@as pf-drv @vfio vf-token 5 2ab74924-c335-45f4-9b16-8569e5b08258
@as qemu-a @vfio container-open
@as qemu-a @vfio open 6
@as qemu-a @vfio set-container 4 3
@as qemu-a @vfio set-iommu 3 type1v2
@as qemu-a @vfio get-device-fd 4 0000:02:02.1
@as qemu-a @vfio get-device-fd 4 "0000:02:02.1 vf_token=00000000-0000-0000-0000-000000000000"
@as qemu-a @vfio get-device-fd 4 "0000:02:02.1 vf_token=2AB74924-C335-45F4-9B16-8569E5B08258"
@as qemu-a @vfio set-req-eventfd 5
# With a VF open, the PF too needs the token to be opened again.
@as pf-drv @vfio get-device-fd 4 0000:02:00.0
@as pf-drv @vfio get-device-fd 4 "0000:02:00.0 vf_token=2ab74924-c335-45f4-9b16-8569e5b08258"
echo 0000:02:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
ls /sys/bus/pci/devices
readlink /sys/bus/pci/devices/0000:02:00.0/driver
# The 82599's ixgbe does the same in ixgbe_remove(), with rmmod too.
echo 1 > /sys/bus/pci/devices/0000:01:00.1/sriov_numvfs
echo 0000:01:10.1 > /sys/bus/pci/drivers/ixgbevf/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:10.1/driver_override
echo 0000:01:10.1 > /sys/bus/pci/drivers_probe
sudo rmmod ixgbe
ls /sys/bus/pci/devices
