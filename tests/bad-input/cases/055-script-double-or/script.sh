echo a || || echo b
