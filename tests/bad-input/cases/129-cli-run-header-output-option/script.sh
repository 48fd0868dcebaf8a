# machine: qdf2400
# dmaown: --json
true
