sleep 1 &
