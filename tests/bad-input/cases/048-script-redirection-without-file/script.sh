echo 1 >
