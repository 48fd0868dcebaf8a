#!/bin/sh
# Which malloc serves dmaown (meson option 'allocator', docs/performance.md):
# 'dmaown --version' names it from where a fresh block really lives, so a
# release build whose mimalloc did not take malloc over (linked after the C
# library, or dropped by --as-needed) fails here instead of silently running
# the checker a fifth slower. TAP output.
#
# usage: allocator.sh DMAOWN WANT   (WANT: mimalloc or system, what the
# build configured)
set -u

dmaown=$1
want=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/allocator.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "1..3"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

"$dmaown" --version >"$tmp/v" 2>&1
line=$(sed -n 2p "$tmp/v")
if sed -n 1p "$tmp/v" | grep -q '^dmaown [0-9][0-9.]*$' &&
	[ "$(wc -l <"$tmp/v")" -eq 2 ]; then
	ok "--version: the version, then the allocator"
else
	cp "$tmp/v" "$tmp/out"
	not_ok "--version: the version, then the allocator"
fi

case $want in
mimalloc) pattern='^allocator mimalloc [0-9]*\.[0-9]*\.[0-9]*$' ;;
*) pattern='^allocator system$' ;;
esac
if printf '%s\n' "$line" | grep -q "$pattern"; then
	ok "the build's allocator ($want) serves malloc"
else
	printf 'want %s, got: %s\n' "$pattern" "$line" >"$tmp/out"
	not_ok "the build's allocator ($want) serves malloc"
fi

# a mimalloc build needs the library at run time; a system one does not
if command -v ldd >/dev/null 2>&1; then
	ldd "$dmaown" >"$tmp/ldd" 2>&1
	if [ "$want" = mimalloc ]; then
		grep -q 'libmimalloc' "$tmp/ldd"
	else
		! grep -q 'libmimalloc' "$tmp/ldd"
	fi
	if [ $? -eq 0 ]; then
		ok "libmimalloc linked only when wanted"
	else
		cp "$tmp/ldd" "$tmp/out"
		not_ok "libmimalloc linked only when wanted"
	fi
else
	skip "libmimalloc linked only when wanted" "no ldd"
fi
[ "$fails" -eq 0 ]
