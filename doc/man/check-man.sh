#!/bin/sh
# Render each manual page given with man(1), all groff warnings on, at a
# fixed width: the page passes when man exits 0 and prints nothing on
# stderr. TAP output. Without man: exit 77 (skip), or fail when CI=true.
#
# usage: check-man.sh PAGE...
set -u

if ! command -v man >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - man is not installed (CI=true: a failure, not a skip)"
		exit 1
	fi
	echo "1..0 # SKIP man is not installed (apt-get install man-db groff-base)"
	exit 77
fi

# The same rendering wherever it runs: no pager, no locale surprises, no
# seccomp sandbox (which some containers refuse), 80 columns.
export LC_ALL=C.UTF-8 MANWIDTH=80 MAN_DISABLE_SECCOMP=1 MANPAGER=cat PAGER=cat
unset LANGUAGE MANOPT MANROFFOPT 2>/dev/null || true

err=$(mktemp)
trap 'rm -f "$err"' EXIT

echo "1..$#"
n=0
fails=0
for page in "$@"; do
	n=$((n + 1))
	name=$(basename "$page")
	man --warnings=w -l -E UTF-8 "$page" >/dev/null 2>"$err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$err" ]; then
		echo "ok $n - $name"
		continue
	fi
	echo "not ok $n - $name (man exit status $rc)"
	sed 's/^/# /' "$err"
	fails=$((fails + 1))
done
[ "$fails" -eq 0 ]
