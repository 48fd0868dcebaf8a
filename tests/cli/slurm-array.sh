#!/bin/sh
# A real array-job engine runs the shards of a search: this starts a
# single-node Slurm of its own (Debian's slurm-wlm and munge), submits
# contrib/slurm/check-array.sbatch as a 4-task array, merges the shards'
# states in a job that depends on the array, and asserts that the merge
# says what one unsharded run says (states, depth, diameter, complete,
# verdict; text and --json). A second array on a mutant must give the
# unsharded run's counterexample, line for line.
#
# Everything runs in namespaces of its own (unshare): a network namespace,
# so slurmctld, which listens on every address, is reachable from nothing
# but this test and no port can collide, and a PID namespace whose first
# process is this script, so nothing it started (munged, slurmctld, slurmd,
# slurmstepd, the jobs) outlives it, even killed with SIGKILL. The Slurm
# configuration, the munge key, the spool and the logs live in a temporary
# directory, removed at the end.
#
# Needs root (slurmd runs the jobs as root here), slurm-wlm, munge,
# util-linux's unshare and iproute2's ip: without them the test is skipped
# (exit 77) with the reason, except under CI=true, where that is a failure.
#
# usage: slurm-array.sh DMAOWN SBATCH_SCRIPT
set -u

skip_all() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1 (CI=true: this must run)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

if [ "${SLURM_ARRAY_INNER:-}" != 1 ]; then
	case $1 in
	/*) dmaown=$1 ;;
	*) dmaown=$(pwd)/$1 ;;
	esac
	case $2 in
	/*) sbatch_script=$2 ;;
	*) sbatch_script=$(pwd)/$2 ;;
	esac
	[ "$(id -u)" = 0 ] || skip_all "not root (slurmd runs the jobs as root)"
	for t in munged mungekey slurmctld slurmd sbatch sinfo scontrol scancel \
		unshare ip; do
		command -v "$t" >/dev/null ||
			skip_all "no $t (Debian: slurm-wlm, munge, util-linux, iproute2; scripts/install-deps.sh)"
	done
	unshare --net --pid --fork --mount-proc true 2>/dev/null ||
		skip_all "cannot make network and PID namespaces (unshare)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/slurm-array.XXXXXX") || exit 2
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 143' INT TERM HUP
	# --kill-child: the namespace, and all in it, dies with this shell
	SLURM_ARRAY_INNER=1 unshare --net --pid --fork --mount-proc \
		--kill-child=KILL sh "$0" "$dmaown" "$sbatch_script" "$tmp"
	exit $?
fi

# ---- inside the namespaces: this shell is PID 1 ----
dmaown=$1
sbatch_script=$2
tmp=$3
pids=""

# The daemons, then, as this shell ends, whatever is left in the namespace
# (slurmstepd and the jobs): the kernel kills it with its first process.
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
# fail NAME FILE...: not ok, with the files' text
fail() {
	name=$1
	shift
	for f in "$@"; do
		echo "--- $f"
		cat "$f"
	done >"$tmp/out" 2>&1
	not_ok "$name"
}
logs() {
	for f in "$tmp"/log/*; do
		echo "# --- $f"
		tail -n 30 "$f" | sed 's/^/# /'
	done
}
bail() {
	echo "Bail out! $1"
	logs
	exit 1
}

# Loopback alone is no address for getaddrinfo(AI_ADDRCONFIG), which Slurm
# resolves 127.0.0.1 with: glibc counts an IPv4 address other than
# 127.0.0.1, so one more on lo makes it answer.
ip link set lo up || bail "no loopback in the network namespace"
ip addr add 127.0.0.2/8 dev lo || bail "cannot add 127.0.0.2 to lo"
# files on a tmpfs of the namespace's own: they go with it, however it ends
mount -t tmpfs -o mode=700,size=512m dmaown-slurm "$tmp" ||
	bail "cannot mount a tmpfs on $tmp"
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/run" ||
	exit 2
chmod 700 "$tmp/munge"

# munge: a key of our own and a socket in the temporary directory
mungekey --create --keyfile="$tmp/munge/munge.key" || bail "mungekey failed"
munged --foreground --force --socket="$tmp/munge/socket" \
	--key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/pid" \
	--seed-file="$tmp/munge/seed" --log-file="$tmp/log/munged.log" \
	>"$tmp/log/munged.out" 2>&1 &
pids="$pids $!"

# the node is this host, as slurmd measures it (CPUs, memory)
node=$(slurmd -C | sed -n 's/^NodeName=\([^ ]*\) .*/\1/p')
hw=$(slurmd -C | sed -n 's/^NodeName=[^ ]* //p')
[ -n "$node" ] && [ -n "$hw" ] || bail "slurmd -C gave no node line"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=dmaown-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
: >"$tmp/plugstack.conf"
export SLURM_CONF="$tmp/slurm.conf"

i=0
until [ -S "$tmp/munge/socket" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || bail "munged did not start"
	sleep 0.1
done
slurmctld -D -i -f "$SLURM_CONF" >"$tmp/log/slurmctld.out" 2>&1 &
pids="$pids $!"
slurmd -D -f "$SLURM_CONF" -N "$node" >"$tmp/log/slurmd.out" 2>&1 &
pids="$pids $!"
alive() {
	for p in $pids; do
		kill -0 "$p" 2>/dev/null || bail "a daemon died (pid $p)"
	done
}
i=0
until [ "$(timeout --foreground 5 sinfo -h -n "$node" -o %T 2>/dev/null)" = idle ]; do
	i=$((i + 1))
	[ $i -le 100 ] || bail "the node did not come up idle within 30 s"
	alive
	sleep 0.2
done

echo "1..6"
cd "$tmp/run" || exit 2
export DMAOWN="$dmaown"

# one machine, to its fixpoint: a 4-task array, then the merge as a job
# that waits for it; the unsharded run meanwhile
"$dmaown" check -q -j 1 --depth max qdf2400 >single.txt 2>&1 &
single=$!
job=$(sbatch --parsable --array=0-3 --chdir="$tmp/run" \
	"$sbatch_script" "$tmp/run/clean" --depth max qdf2400 2>sbatch.err)
if [ -n "$job" ] &&
   timeout --foreground 120 sbatch --wait --dependency=afterok:"$job" --chdir="$tmp/run" \
	--output="$tmp/run/merged.txt" \
	--wrap "\"$dmaown\" check --merge clean/shard-*-of-4.states" \
	>/dev/null 2>>sbatch.err; then
	ok "sbatch --array=0-3, then a dependent job merges"
else
	fail "sbatch --array=0-3, then a dependent job merges" sbatch.err
	logs
fi
ls clean >states.txt 2>&1
if [ "$(grep -c '^shard-[0-3]-of-4\.states$' states.txt)" = 4 ]; then
	ok "each array task wrote its shard's states"
else
	fail "each array task wrote its shard's states" states.txt
fi
# the same figures but transitions, seconds and bytes, which measure work
figures() {
	sed -n 's/^\([^ ]*\) *\([0-9]*\) *[0-9]* *\([0-9]*\) .*  \([01].*\)$/\1 \2 \3 \4/p' "$1"
	grep '^complete\|^not complete' "$1"
}
wait $single
figures single.txt >single.fig
figures merged.txt >merged.fig
if grep -q 'complete, diameter' single.fig && cmp -s single.fig merged.fig; then
	ok "merged: the states, depth and verdict of one run ($(head -n 1 merged.fig))"
else
	fail "merged: the states, depth and verdict of one run" single.fig merged.fig
fi
"$dmaown" check --merge --json clean/shard-*-of-4.states >merged.json 2>&1
sed -n 's/^\([^ ]*\) *\([0-9]*\) *[0-9]* *\([0-9]*\) .*complete, diameter \([0-9]*\)$/"machine":"\1","states":\2,"transitions":T,"depth":\3,"complete":true,"diameter":\4,"/p' \
	single.txt >want.json
if [ -s want.json ] &&
   sed 's/"transitions":[0-9]*,/"transitions":T,/' merged.json |
	grep -qF "$(cat want.json)"; then
	ok "merged --json: the same states, depth, complete and diameter"
else
	fail "merged --json: the same states, depth, complete and diameter" want.json merged.json
fi

# a mutant: every shard that meets a violation exits 1, and the merge
# gives the shortest counterexample, the one an unsharded run prints
"$dmaown" check -q -j 1 --fault claim-ignores-count -o single.sh vfio-host \
	>/dev/null 2>&1
timeout --foreground 120 sbatch --wait --array=0-3 --chdir="$tmp/run" "$sbatch_script" \
	"$tmp/run/mutant" --fault claim-ignores-count vfio-host \
	>/dev/null 2>sbatch.err
status=$?
if [ $status -ne 0 ] && [ -f mutant/shard-3-of-4.states ]; then
	ok "a shard that finds a violation fails its task and keeps its states"
else
	fail "a shard that finds a violation fails its task and keeps its states (sbatch $status)" sbatch.err
fi
"$dmaown" check --merge -o merged.sh mutant/shard-*-of-4.states \
	>merged-mutant.txt 2>&1
status=$?
if [ $status -eq 1 ] && [ -s single.sh ] && cmp -s single.sh merged.sh; then
	ok "merged: the unsharded run's counterexample, line for line"
else
	echo "merge exit status $status" >>merged-mutant.txt
	fail "merged: the unsharded run's counterexample, line for line" merged-mutant.txt single.sh merged.sh
fi
[ "$fails" -eq 0 ]
