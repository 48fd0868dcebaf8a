echo two > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 65 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 2 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 3 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
echo 1 | tee /sys/bus/pci/devices/0000:02:02.0/sriov_numvfs
echo 0000:02:00.1 > /sys/bus/pci/drivers/i40e/unbind
echo 1 > /sys/bus/pci/devices/0000:02:00.1/sriov_numvfs
echo maybe > /sys/bus/pci/devices/0000:02:00.1/sriov_drivers_autoprobe
cat /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs
