echo 1 > /sys/bus/pci/nosuch
echo 1 | tee /sys/nosuch
ls /sys/bus/pci/drivers/nosuch
