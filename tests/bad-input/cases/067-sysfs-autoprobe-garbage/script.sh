echo yes > /sys/bus/pci/drivers_autoprobe
echo 2 > /sys/bus/pci/drivers_autoprobe
cat /sys/bus/pci/drivers_autoprobe
