#!/bin/sh
# run-fuzzer.sh FUZZER WORKDIR SECONDS [-FLAG=VALUE...] INPUT_DIR...
#
# A short libFuzzer run for the 'fuzz' test suite: starts from the seed
# corpus and regression inputs in INPUT_DIR... (read only; the -FLAGs, such
# as -dict=FILE, go to libFuzzer as they are), keeps what it
# learns in WORKDIR/corpus (in the build directory, so later runs go on from
# there) and writes crashers to WORKDIR/artifacts. Fails when the fuzzer
# finds a crash, a leak or a timeout. docs/testing.md has the long run.
set -eu

fuzzer=$1
work=$2
secs=$3
shift 3
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -max_total_time="$secs" -runs=50000000 -timeout=20 \
	-rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" "$@"
