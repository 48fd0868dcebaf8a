# machine: qdf2400
@concurrent 2
true
@concurrent 2
true
