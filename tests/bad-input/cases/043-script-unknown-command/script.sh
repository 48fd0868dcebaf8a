echo first
frobnicate now
echo never
