echo 1 > /tmp/x
