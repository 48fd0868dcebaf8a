# machine: qdf2400
@concurrent 3
true
true
