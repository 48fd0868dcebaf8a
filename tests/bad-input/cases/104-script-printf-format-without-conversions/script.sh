printf once a b c
echo
