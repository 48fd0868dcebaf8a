#!/bin/sh
# run-examples.sh DMAOWN EXAMPLES_DIR - the scenario examples as a TAP test.
#
# Each EXAMPLES_DIR/NAME.sh is replayed with
#     DMAOWN run --echo --dmesg [ARGS] NAME.sh
# (from inside EXAMPLES_DIR; ARGS from a "# dmaown-run-args: ARGS" line in
# the script's leading comments) and its stdout, stderr and exit status are
# compared with the reviewed NAME.out, NAME.err and NAME.status, WARN
# reports included: a "WARNING: ... at FILE:LINE" line gives the kernel's
# line of the WARN site (src/compat/warn-sites.c), which does not move with
# the model's source. (A check of dmaown's own, which has no kernel site,
# gives the model's line; no example shows one.)
#
# NAME.xfail marks a known bug: its one line says why. Such an example is
# expected to differ from its expected files, which hold what dmaown should
# print; a difference is reported as "not ok N - NAME # TODO xfail: WHY" (an
# expected failure in TAP), a match as a failure: the bug is fixed, remove
# NAME.xfail.
#
# Then: the --json output of 01-seed.sh (and 01-seed-v7.sh), and the errors
# for bad input (unknown command, bad machine file, no machine).
#
# Names (lspci, --show) come from the pinned tests/data/pci.ids: meson sets
# DMAOWN_PCI_IDS to it, and so must a re-bless.
#
# To re-bless after a reviewed change, from EXAMPLES_DIR:
#     export DMAOWN_PCI_IDS=$PWD/../tests/data/pci.ids
#     DMAOWN run --echo --dmesg [ARGS] NAME.sh >NAME.out 2>NAME.err; echo $? >NAME.status

if [ $# -ne 2 ]; then
	echo "usage: $0 DMAOWN EXAMPLES_DIR" >&2
	exit 2
fi
DMAOWN=$1
EXAMPLES=$2
case $DMAOWN in
/*) ;;
*) DMAOWN=$(pwd)/$DMAOWN ;;
esac
if [ ! -x "$DMAOWN" ]; then
	echo "Bail out! $DMAOWN is not an executable"
	exit 1
fi
if ! cd "$EXAMPLES"; then
	echo "Bail out! cannot enter $EXAMPLES"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-examples.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM

failed=0
num=0

# diag FILE: FILE's lines as TAP comments.
diag() {
	sed 's/^/# /' "$1"
}

# run_args SCRIPT: the "# dmaown-run-args:" of the leading comment block.
run_args() {
	sed -n -e '/^#/!q' -e 's/^# dmaown-run-args://p' "$1" | sed -n 1p
}

# compare NAME: 0 if the run in $tmp matches the expected files; the
# differences go to $tmp/diff.
compare() {
	: >"$tmp/diff"
	rc=0
	for kind in out err status; do
		if [ ! -f "$1.$kind" ]; then
			echo "missing expected file $1.$kind" >>"$tmp/diff"
			rc=1
			continue
		fi
		if ! diff -u "$1.$kind" "$tmp/actual.$kind" >"$tmp/d" 2>&1; then
			sed -e "1s|^--- .*|--- $1.$kind (expected)|" \
			    -e "2s|^+++ .*|+++ $1.$kind (actual)|" \
			    "$tmp/d" >>"$tmp/diff"
			rc=1
		fi
	done
	return $rc
}

ok() {
	num=$((num + 1))
	echo "ok $num - $1"
}

not_ok() {
	num=$((num + 1))
	echo "not ok $num - $1"
	failed=1
}

set -- *.sh
if [ "$1" = '*.sh' ]; then
	echo "Bail out! no examples in $EXAMPLES"
	exit 1
fi
echo "1..$(($# + 7))"

# ---- the examples ----
for script in "$@"; do
	name=${script%.sh}
	args=$(run_args "$script")
	# $args is split into words on purpose.
	# shellcheck disable=SC2086
	"$DMAOWN" run --echo --dmesg $args "$script" \
		>"$tmp/actual.out" 2>"$tmp/actual.err"
	echo $? >"$tmp/actual.status"

	if [ -f "$name.xfail" ]; then
		why=$(sed -n 1p "$name.xfail")
		if compare "$name"; then
			not_ok "$name # xfail example passed: the bug is fixed, remove $name.xfail"
		else
			num=$((num + 1))
			echo "not ok $num - $name # TODO xfail: $why"
			diag "$tmp/diff"
		fi
	elif compare "$name"; then
		ok "$name"
	else
		not_ok "$name"
		diag "$tmp/diff"
	fi
done

# ---- --json ----
# json_check SCRIPT PYTHON-CHECK: the --json output of SCRIPT, one object a
# line, passed through PYTHON-CHECK (which reads stdin).
have_python=no
if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' >/dev/null 2>&1; then
	have_python=yes
fi

json_check() {
	title=$1 script=$2 check=$3
	if [ $have_python = no ]; then
		num=$((num + 1))
		echo "ok $num - $title # SKIP python3 not found"
		return
	fi
	args=$(run_args "$script")
	# shellcheck disable=SC2086
	"$DMAOWN" run --json $args "$script" >"$tmp/json.out" 2>"$tmp/json.err"
	echo "exit status $?" >"$tmp/json.status"
	lines=$(grep -c -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$script")
	if python3 -c "$check" "$lines" <"$tmp/json.out" >"$tmp/json.py" 2>&1; then
		ok "$title"
	else
		not_ok "$title"
		diag "$tmp/json.py"
		diag "$tmp/json.status"
		diag "$tmp/json.err"
	fi
}

json_check "json: 01-seed.sh --json is one object a line with line, cmd, ret, out, log, warn" \
	01-seed.sh '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
want = int(sys.argv[1])
assert len(objs) == want, "%d objects for %d command lines" % (len(objs), want)
for o in objs:
    assert isinstance(o, dict), o
    assert list(o)[0] == "version" and o["version"] == 1, "not version 1 first: %r" % (o,)
    for k in ("line", "cmd", "ret", "out", "log", "warn"):
        assert k in o, "no key %r in %r" % (k, o)
    assert o["warn"] == [], "unexpected WARN: %r" % (o,)
'

# show --json and check --json carry the same version, first.
if [ $have_python = no ]; then
	ok "json: show and check carry version 1 first # SKIP python3 not found"
elif { "$DMAOWN" show --json qdf2400 && "$DMAOWN" check -q --json -d 1 qdf2400; } |
	python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin.read().replace("}\n{", "}\x00{").split("\x00")]
assert len(objs) == 2, len(objs)
for o in objs:
    assert list(o)[0] == "version" and o["version"] == 1, list(o)[:3]
assert objs[1]["machine"] == "qdf2400" and objs[1]["violations"] == 0, objs[1]
' >"$tmp/json.py" 2>&1; then
	ok "json: show and check carry version 1 first"
else
	not_ok "json: show and check carry version 1 first"
	diag "$tmp/json.py"
fi

json_check "json: 01-seed-v7.sh --json carries the WARN and its trace on the unbind line" \
	01-seed-v7.sh '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
want = int(sys.argv[1])
assert len(objs) == want, "%d objects for %d command lines" % (len(objs), want)
warned = [o for o in objs if o["warn"]]
assert len(warned) == 1, "WARNs on lines %r" % ([o["line"] for o in warned],)
o = warned[0]
assert o["cmd"].endswith("/sys/bus/pci/drivers/e1000e/unbind"), o["cmd"]
w = o["warn"][0]
assert w["func"] == "iommu_device_unuse_default_domain", w
assert w["file"] == "drivers/iommu/iommu.c", w
assert w["upstream_line"] == 3157, w	# src/compat/warn-sites.c
assert isinstance(w["line"], int) and w["line"] > 0, w
assert w["comm"] == "tee", w
assert w["pid"] == 1000 + o["line"], w
assert w["modules"] == "vfio_pci e1000e", w
assert w["tainted"] == "Not tainted", w
trace = w["trace"]
for f in ("pci_dma_cleanup", "__device_release_driver", "unbind_store",
          "drv_attr_store", "kernfs_fop_write_iter", "ksys_write"):
    assert f in trace, "%s not in %r" % (f, trace)
assert trace.index("pci_dma_cleanup") < trace.index("__device_release_driver") < trace.index("unbind_store") < trace.index("ksys_write"), trace
assert trace[-1] == "el0t_64_sync", trace	# qdf2400 is arm64
'

# ---- bad input ----
# expect_error TITLE STATUS STDERR-TEXT NOT-IN-STDOUT -- DMAOWN-ARGS...: run
# in $tmp; exit STATUS, STDERR-TEXT on stderr, and (unless empty)
# NOT-IN-STDOUT nowhere on stdout.
expect_error() {
	title=$1 want_status=$2 want_err=$3 not_out=$4
	shift 5
	(cd "$tmp" && "$DMAOWN" "$@") >"$tmp/e.out" 2>"$tmp/e.err"
	status=$?
	if [ "$status" -eq "$want_status" ] &&
	   grep -F -q -e "$want_err" "$tmp/e.err" &&
	   { [ -z "$not_out" ] || ! grep -F -q -e "$not_out" "$tmp/e.out"; }; then
		ok "$title"
	else
		not_ok "$title"
		echo "# expected exit $want_status and on stderr: $want_err"
		[ -z "$not_out" ] || echo "# and not on stdout: $not_out"
		echo "# got exit $status, stdout:"
		diag "$tmp/e.out"
		echo "# stderr:"
		diag "$tmp/e.err"
	fi
}

printf '# machine: qdf2400\necho before\nfrobnicate /sys/bus/pci\necho after\n' \
	>"$tmp/bad-command.sh"
printf 'machine bad\npci 01:00.0 8086:10d3 class=020000\n' >"$tmp/bad.machine"
printf 'echo hello\n' >"$tmp/no-machine.sh"

expect_error "error: unknown command gives FILE:LINE and exit 2" \
	2 "bad-command.sh:3: unknown command 'frobnicate'" after -- \
	run bad-command.sh
expect_error "error: bad machine file gives FILE:LINE:COL and exit 2" \
	2 "bad.machine:2:5: expected a PCI address" "" -- \
	run -m bad.machine no-machine.sh
expect_error "error: run without a machine exits 2" \
	2 "no machine" "" -- run no-machine.sh
expect_error "error: an unknown built-in machine exits 2" \
	2 "no built-in machine 'no-such-machine'" "" -- \
	run -m no-such-machine no-machine.sh

exit $failed
