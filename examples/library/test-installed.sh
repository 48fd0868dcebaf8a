#!/bin/sh
# test-installed.sh MESON BUILD_DIR SOURCE_DIR README B_SANITIZE - the
# library example built the way a user builds it, as a TAP test.
#
# BUILD_DIR is installed into a scratch DESTDIR (meson install --destdir),
# SOURCE_DIR/seed.c is compiled with cc and `pkg-config --cflags --libs
# dmaown` against the installed tree only (PKG_CONFIG_PATH in the DESTDIR's
# pkgconfig directory, PKG_CONFIG_SYSROOT_DIR the DESTDIR), linked against
# the installed shared library, run with LD_LIBRARY_PATH on the installed
# libdir, and its output compared with the reviewed SOURCE_DIR/seed.expected.
# Last, the C block of README's "Use it as a library" must be a verbatim
# part of seed.c, and the lines of its output excerpt lines of seed.expected.
#
# Sanitizer builds are skipped: B_SANITIZE is meson's b_sanitize, and when
# it is not "none" the installed library needs the sanitizer runtime, which
# a plain `cc` link does not bring. The skip is TAP's "1..0 # SKIP" with
# status 0: meson counts a TAP test that exits 77 as an error, not a skip.
#
# Each run works in its own mktemp directory and removes it, so the test
# can run any number of times, also in parallel with itself.
#
# To re-bless after a reviewed change of the output, from SOURCE_DIR:
#     cc seed.c $(pkg-config --cflags --libs dmaown) -o seed && ./seed >seed.expected
# with pkg-config pointed at an installed tree as below.

if [ $# -ne 5 ]; then
	echo "usage: $0 MESON BUILD_DIR SOURCE_DIR README B_SANITIZE" >&2
	exit 2
fi
MESON=$1
BUILD=$2
SRC=$3
README=$4
SANITIZE=$5

if [ "$SANITIZE" != none ]; then
	echo "1..0 # SKIP b_sanitize=$SANITIZE: the installed library needs the sanitizer runtime"
	exit 0
fi
for prog in cc pkg-config; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "1..0 # SKIP $prog not found"
		exit 0
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/library-example.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM
dest=$tmp/destdir

echo "1..7"
failed=0
num=0

ok() {
	num=$((num + 1))
	echo "ok $num - $1"
}

not_ok() {
	num=$((num + 1))
	failed=1
	echo "not ok $num - $1"
}

# diag FILE: FILE's lines as TAP comments.
diag() {
	sed 's/^/# /' "$1"
}

# 1. Install.
if "$MESON" install -C "$BUILD" --destdir "$dest" --no-rebuild --quiet \
	>"$tmp/install.log" 2>&1; then
	ok "meson install --destdir"
else
	not_ok "meson install --destdir"
	diag "$tmp/install.log"
fi

# 2. pkg-config finds the installed dmaown.pc and points into the DESTDIR.
# The libdir is wherever meson put it (lib, lib64, lib/x86_64-linux-gnu...):
# the directory above the pkgconfig directory that holds dmaown.pc. System
# directories are kept in the flags: a build configured with --prefix=/usr
# must still compile against the DESTDIR, not against /usr.
pc=$(find "$dest" -name dmaown.pc -path '*/pkgconfig/*' 2>/dev/null | sed -n 1p)
libdir=${pc%/pkgconfig/dmaown.pc}
flags=
if [ -n "$pc" ] &&
	flags=$(PKG_CONFIG_PATH=${pc%/dmaown.pc} PKG_CONFIG_LIBDIR='' \
		PKG_CONFIG_SYSROOT_DIR=$dest \
		PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
		pkg-config --cflags --libs dmaown 2>"$tmp/pc.err") &&
	case $flags in *"-I$dest/"*"-L$dest/"*) true ;; *) false ;; esac; then
	ok "pkg-config --cflags --libs dmaown: $(echo "$flags" | sed -e "s|$dest|DESTDIR|g" -e "s| *$||")"
else
	not_ok "pkg-config --cflags --libs dmaown"
	echo "# dmaown.pc: ${pc:-not installed}; flags: $flags"
	[ -s "$tmp/pc.err" ] && diag "$tmp/pc.err"
fi

# 3. Compile and link seed.c against the installed headers and library.
# shellcheck disable=SC2086 # the flags are words
if cc -Wall -Wextra -Werror -o "$tmp/seed" "$SRC/seed.c" $flags \
	>"$tmp/cc.log" 2>&1; then
	ok "cc seed.c against the installed tree"
else
	not_ok "cc seed.c against the installed tree"
	diag "$tmp/cc.log"
fi

# 4. The program loads the installed shared library, not a static copy or
# one from elsewhere.
if [ -x "$tmp/seed" ] &&
	LD_LIBRARY_PATH=$libdir ldd "$tmp/seed" >"$tmp/ldd.log" 2>&1 &&
	grep -q "libdmaown\.so.* => $libdir/libdmaown\.so" "$tmp/ldd.log"; then
	ok "linked against the installed libdmaown.so"
else
	not_ok "linked against the installed libdmaown.so"
	[ -s "$tmp/ldd.log" ] && diag "$tmp/ldd.log"
fi

# 5. Its output is the reviewed one.
if [ -x "$tmp/seed" ] &&
	LD_LIBRARY_PATH=$libdir "$tmp/seed" >"$tmp/seed.out" 2>"$tmp/seed.err" &&
	[ ! -s "$tmp/seed.err" ] &&
	diff -u "$SRC/seed.expected" "$tmp/seed.out" >"$tmp/diff" 2>&1; then
	ok "seed output matches seed.expected"
else
	not_ok "seed output matches seed.expected"
	[ -s "$tmp/diff" ] && diag "$tmp/diff"
	[ -s "$tmp/seed.err" ] && diag "$tmp/seed.err"
fi

# 6. README's example is seed.c's text: the first ```c block after the
# "## Use it as a library" heading must be a run of seed.c's lines.
# shellcheck disable=SC2016 # the backquotes are Markdown's, not the shell's
sed -n '/^## Use it as a library/,$p' "$README" |
	sed -n '/^```c$/,/^```$/p' | sed -e '1d' -e '/^```$/,$d' >"$tmp/block"
first=$(sed -n 1p "$tmp/block")
n=$(wc -l <"$tmp/block")
found=0
if [ "$n" -gt 0 ]; then
	# shellcheck disable=SC2013 # line numbers, one word each
	for at in $(grep -n -x -F -e "$first" "$SRC/seed.c" | cut -d: -f1); do
		sed -n "$at,$((at + n - 1))p" "$SRC/seed.c" >"$tmp/slice"
		if cmp -s "$tmp/block" "$tmp/slice"; then
			found=1
			break
		fi
	done
fi
if [ $found = 1 ]; then
	ok "README's example ($n lines) is verbatim in seed.c"
else
	not_ok "README's example is verbatim in seed.c"
	echo "# no run of seed.c's lines equals README's C block ($n lines)"
fi

# 7. README's output excerpt (the ```text block after the C block; "..."
# stands for lines left out) is made of seed.expected's lines.
# shellcheck disable=SC2016 # the backquotes are Markdown's, not the shell's
sed -n '/^## Use it as a library/,$p' "$README" |
	sed -n '/^```text$/,/^```$/p' | sed -e '1d' -e '/^```$/,$d' |
	grep -v -x -F '...' >"$tmp/excerpt"
missing=0
n=0
while IFS= read -r line; do
	n=$((n + 1))
	if ! grep -q -x -F -e "$line" "$SRC/seed.expected"; then
		missing=1
		echo "# not in seed.expected: $line"
	fi
done <"$tmp/excerpt"
if [ $missing = 0 ] && [ $n -gt 0 ]; then
	ok "README's output excerpt ($n lines) is from seed.expected"
else
	[ $n = 0 ] && echo "# README has no output excerpt"
	not_ok "README's output excerpt is from seed.expected"
fi

exit $failed
