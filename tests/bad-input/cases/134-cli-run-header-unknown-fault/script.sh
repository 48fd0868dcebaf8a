# machine: qdf2400
# dmaown: --fault nosuch
true
