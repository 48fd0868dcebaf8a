# machine: qdf2400
@concurrent 2 schedule 1213
true
true
