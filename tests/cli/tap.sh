# TAP helpers for the tests/cli scripts, sourced after they set $tmp:
# ok NAME, not_ok NAME (prints $tmp/out as comments), skip NAME WHY; $n
# counts the tests, $fails the failures.
# shellcheck shell=sh disable=SC2034,SC2154
n=0
fails=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	sed 's/^/# /' "$tmp/out"
	fails=$((fails + 1))
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
