if true; then echo x; fi
