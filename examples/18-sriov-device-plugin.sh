# The Kubernetes SR-IOV network device plugin's flow for DPDK pods
# (resourceName with "deviceType: vfio-pci", VFs made by the SR-IOV
# network operator's config daemon), on an X710 port.
# Kernel (v6.6): with sriov_drivers_autoprobe 0 on the PF, the VFs that
# pci_enable_sriov() adds are probed by no driver: pci_device_can_probe()
# fails the probe of a VF whose PF forbids autoprobing unless the VF has a
# driver_override, so iavf never touches them, even through its bind file
# (ENODEV). The daemon then writes vfio-pci to each VF's driver_override and
# the VF's address to drivers_probe, which binds it to vfio-pci. The
# plugin finds the VFs through the PF's virtfnN links and each VF's
# iommu_group, and hands the pod /dev/vfio/N. A count written again while
# VFs exist is refused (EBUSY), the same count is a no-op, and 0 removes
# them, each unbound from vfio-pci first.
# machine: sriov-host
sudo modprobe vfio-pci
echo 0 > /sys/bus/pci/devices/0000:02:00.1/sriov_drivers_autoprobe
cat /sys/bus/pci/devices/0000:02:00.1/sriov_drivers_autoprobe
cat /sys/bus/pci/devices/0000:02:00.1/sriov_offset
cat /sys/bus/pci/devices/0000:02:00.1/sriov_stride
cat /sys/bus/pci/devices/0000:02:00.1/sriov_vf_device
echo 0 > /sys/bus/pci/devices/0000:02:00.1/sriov_numvfs
echo 3 > /sys/bus/pci/devices/0000:02:00.1/sriov_numvfs
lspci -k -s 02:0a
echo 0000:02:0a.0 > /sys/bus/pci/drivers/iavf/bind
# Per VF: driver_override, then drivers_probe.
echo vfio-pci > /sys/bus/pci/devices/0000:02:0a.0/driver_override
echo 0000:02:0a.0 > /sys/bus/pci/drivers_probe
echo vfio-pci > /sys/bus/pci/devices/0000:02:0a.1/driver_override
echo 0000:02:0a.1 > /sys/bus/pci/drivers_probe
echo vfio-pci > /sys/bus/pci/devices/0000:02:0a.2/driver_override
echo 0000:02:0a.2 > /sys/bus/pci/drivers_probe
lspci -k -s 02:0a
# The plugin's discovery.
ls -l /sys/bus/pci/devices/0000:02:00.1/
readlink /sys/bus/pci/devices/0000:02:0a.2/physfn
readlink /sys/bus/pci/devices/0000:02:0a.2/iommu_group
ls /dev/vfio
# A pod takes a VF (its DPDK app opens the group).
@as pod-a @vfio container-open
@as pod-a @vfio open 6
@as pod-a @vfio set-container 4 3
@as pod-a @vfio set-iommu 3 type1v2
@as pod-a @vfio get-device-fd 4 0000:02:0a.1
# The daemon reapplies the policy: same count is a no-op, another is EBUSY.
echo 3 > /sys/bus/pci/devices/0000:02:00.1/sriov_numvfs
echo 2 > /sys/bus/pci/devices/0000:02:00.1/sriov_numvfs
@exit pod-a
echo 0 > /sys/bus/pci/devices/0000:02:00.1/sriov_numvfs
ls /dev/vfio
echo 1 > /sys/bus/pci/devices/0000:02:00.1/sriov_drivers_autoprobe
