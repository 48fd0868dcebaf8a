echo $(ls /sys)
