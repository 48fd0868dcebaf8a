# machine: qdf2400
# dmaown: --format 2
true
