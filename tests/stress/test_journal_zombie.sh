#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Stress: SIGKILL of etmemd in the middle of a memcg_lru reclaim, its corpse
# left unreaped (issue 8, defect 5). A small parent process starts etmemd,
# watches the workload's cgroup v1 memory.limit_in_bytes, SIGKILLs etmemd as
# soon as a lowered limit is in flight and never waits for it: etmemd stays
# a zombie, whose pid and start time still show in /proc. A new etmemd,
# started while the zombie is still there, must take the dead daemon's
# journal record for what it is and put the original limit back. The
# workload's content is verified at the end.
# etmemd writes the original limit back right after each cut (the target
# must not charge against a lowered limit), so a lowered limit lasts only
# microseconds: strace's syscall fault injection kills etmemd on entry to
# the second write to the cgroup's limit file (the first cut's restore),
# which it fails with EINTR, so the cut is in flight when etmemd dies.
set -uo pipefail
. "$(dirname "$0")/../host/lib.sh"

: "${ETMEM_BIN_DIR:?}"
BIN=$ETMEM_BIN_DIR
need_root
[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory controller: limit cuts (and their journal) are v1 only"
for b in etmemd etmem etmem-workload; do
	[ -x "$BIN/$b" ] || fail "$BIN/$b missing"
done
command -v strace >/dev/null || fail "strace missing (scripts/install-deps.sh installs it)"

D=$(mktemp -d /tmp/etmem-zombie.XXXXXX)
SOCK=etmem-zombie-$$
CG=etmem-zombie-$$
HOST_MEMCG_ROOT=/sys/fs/cgroup/memory
PARENT="" DPID="" WPID="" STRACE=""
cleanup() {
	[ -n "$STRACE" ] && kill -TERM "$STRACE" 2>/dev/null && wait "$STRACE" 2>/dev/null
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$PARENT" ] && kill -KILL "$PARENT" 2>/dev/null && wait "$PARENT" 2>/dev/null
	[ -n "$WPID" ] && kill -TERM "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	# A record a failed run left for our cgroup (and only ours).
	grep -lx "dir $HOST_MEMCG_ROOT/$CG" /run/etmemd/memcg-* 2>/dev/null | xargs -r rm -f
	host_cleanup
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The parent: starts etmemd, SIGKILLs it once the limit is below the
# original, reports the limit seen with the corpse a zombie, and then only
# sleeps (never waits) until it is killed itself.
cat >"$D/parent.py" <<'EOF'
import os, signal, sys, time
etmemd, sock, log, limit, orig, state = sys.argv[1:7]
orig = int(orig)
def say(s):
    with open(state + ".tmp", "w") as f:
        f.write(s + "\n")
    os.rename(state + ".tmp", state)
def proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]
out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
pid = os.fork()
if pid == 0:
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.execv(etmemd, [etmemd, "-l", "0", "-s", sock])
say("started %d" % pid)
deadline = time.time() + 150
while True:
    with open(limit) as f:
        if int(f.read()) < orig:
            break
    if time.time() > deadline or proc_state(pid) == "Z":
        say("nocut %d" % pid)
        while True:
            time.sleep(60)
    time.sleep(0.001)
os.kill(pid, signal.SIGKILL)
while proc_state(pid) != "Z":
    time.sleep(0.001)
with open(limit) as f:
    say("killed %d %s" % (pid, f.read().strip()))
while True:
    time.sleep(60)
EOF

exec 8>/tmp/etmem-test-swap.lock
flock -w 300 8 || fail "swap lock /tmp/etmem-test-swap.lock busy for 300 s"
host_swap_setup /var/tmp
host_memcg_new "$CG"
LIMIT=$HOST_MEMCG_ROOT/$CG/memory.limit_in_bytes
ORIG=$(cat "$LIMIT")

"$BIN/etmem-workload" --size 768M --hot-frac 0.1 --cgroup "$HOST_MEMCG_ROOT/$CG" \
	--ready-file "$D/ready" --report-file "$D/report" >"$D/workload.out" 2>&1 &
WPID=$!
for _ in $(seq 1 600); do
	[ -s "$D/ready" ] && break
	kill -0 "$WPID" 2>/dev/null || fail "workload died: $(cat "$D/workload.out")"
	sleep 0.1
done
[ -s "$D/ready" ] || fail "workload not ready after 60 s"

python3 "$D/parent.py" "$BIN/etmemd" "$SOCK" "$D/etmemd1.log" "$LIMIT" "$ORIG" "$D/state" &
PARENT=$!
for _ in $(seq 1 100); do
	"$BIN/etmem" project show -s "$SOCK" >/dev/null 2>&1 && break
	sleep 0.05
done
read -r _ EPID <"$D/state" || fail "no report from the parent"
# Every thread, only the syscalls on the limit file; the 2nd write of a thread is the restore of its 1st cut.
strace -f -qq -o "$D/strace.out" -p "$EPID" -P "$LIMIT" -e trace=write \
	-e inject=write:error=EINTR:signal=SIGKILL:when=2 &
STRACE=$!
for _ in $(seq 1 100); do
	grep -q TracerPid:.*[1-9] "/proc/$EPID/status" 2>/dev/null && break
	sleep 0.05
done
grep -q TracerPid:.*[1-9] "/proc/$EPID/status" || fail "strace did not attach to etmemd $EPID"
cat >"$D/proj.conf" <<EOF
[project]
name=zombie
loop=1
interval=1
sleep=1

[engine]
name=slide
project=zombie

[task]
project=zombie
engine=slide
name=wl
type=pid
value=$WPID
T=1
max_threads=1
access_tracker=memcg_lru
EOF
chmod 600 "$D/proj.conf"
"$BIN/etmem" obj add -f "$D/proj.conf" -s "$SOCK" || fail "obj add: $(tail -5 "$D/etmemd1.log")"
"$BIN/etmem" project start -n zombie -s "$SOCK" || fail "project start: $(tail -5 "$D/etmemd1.log")"

for _ in $(seq 1 1600); do
	grep -q "^killed\|^nocut" "$D/state" 2>/dev/null && break
	sleep 0.1
done
read -r what EPID LOWERED <"$D/state" || fail "no report from the parent"
wait "$STRACE" 2>/dev/null
STRACE=""
[ "$what" = killed ] || fail "etmemd never lowered $LIMIT within 150 s: $(tail -5 "$D/etmemd1.log")"
[ "$LOWERED" -lt "$ORIG" ] || fail "the kill came after the restore (limit $LOWERED): no cut in flight"
zombie() { [ "$(sed 's/.*) //' "/proc/$EPID/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]; }
zombie || fail "etmemd $EPID is not a zombie"
echo "etmemd $EPID SIGKILLed with $LIMIT at $LOWERED (original $ORIG), left a zombie"
[ "$(cat "$LIMIT")" -lt "$ORIG" ] || fail "limit back at $ORIG before any restart"
ls /run/etmemd/memcg-* >/dev/null 2>&1 || fail "the dead etmemd left no journal record"

host_start_etmemd "$BIN" "$SOCK" "$D/etmemd2.log"
zombie || fail "the zombie was reaped before the check: the test proves nothing"
got=$(cat "$LIMIT")
[ "$got" = "$ORIG" ] || fail "limit $got after the restart, want the original $ORIG back; log: $(cat "$D/etmemd2.log")"
grep -q "$CG/memory.limit_in_bytes was left at .* by etmemd pid $EPID, which died during a reclaim: restored to $ORIG" \
	"$D/etmemd2.log" || fail "no log line naming the restore: $(cat "$D/etmemd2.log")"
echo "restarted etmemd restored $LIMIT to $ORIG while $EPID was still a zombie"
kill -TERM "$DPID"
wait "$DPID" || fail "etmemd did not exit cleanly"
DPID=""
kill -KILL "$PARENT"
wait "$PARENT" 2>/dev/null
PARENT=""

kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=""
tail -1 "$D/workload.out"
[ "$rc" = 0 ] || fail "workload content verification failed (exit $rc)"
echo PASS
