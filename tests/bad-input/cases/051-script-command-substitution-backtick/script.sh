echo `ls /sys`
