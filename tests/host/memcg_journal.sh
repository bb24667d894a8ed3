#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test: a cgroup v1 limit that a dead etmemd left lowered in the middle
# of a memcg_lru reclaim is put back by the next etmemd at start-up, from the
# journal in /run/etmemd; a limit someone changed since is left alone; a live
# daemon's record is never touched. Real memory cgroups, the real binary.
# Usage: memcg_journal.sh BIN_DIR
set -u
BIN=${1:?usage: memcg_journal.sh BIN_DIR}
. "$(dirname "$0")/lib.sh"

need_root
[ -x "$BIN/etmemd" ] && [ -x "$BIN/etmem" ] || fail "etmemd/etmem missing in $BIN"
[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory controller: limit cuts (and their journal) are v1 only"

JDIR=/run/etmemd
D=$(mktemp -d /tmp/etmem-journal.XXXXXX)
SOCK=etmem-journal-$$
DPID=""
MADE_JDIR=""
RECS=()
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for r in "${RECS[@]}"; do rm -f "$r"; done
	[ -n "$MADE_JDIR" ] && rmdir "$JDIR" 2>/dev/null
	host_cleanup
	rm -rf "$D"
}
trap cleanup EXIT

[ -d "$JDIR" ] || { mkdir -m 0700 "$JDIR" && MADE_JDIR=1; } || fail "mkdir $JDIR"
host_memcg_new "etm-journal-a-$$"
host_memcg_new "etm-journal-b-$$"
A=$HOST_MEMCG_ROOT/etm-journal-a-$$
B=$HOST_MEMCG_ROOT/etm-journal-b-$$
ORIG=$(cat "$A/memory.limit_in_bytes")

# A pid that no longer runs the process that "wrote" the record.
sleep 0 & DEAD=$!
wait $DEAD
record() { # $1 file, $2 owner pid, $3 owner start, $4 orig, $5 last, $6 memcg dir
	printf 'etmem-memcg-limit 1\nowner %s %s\norig %s\nlast %s\ndir %s\n' "$2" "$3" "$4" "$5" "$6" >"$1"
	chmod 600 "$1"
	RECS+=("$1")
}
# A: our cut in flight when the owner died (limit within [last, orig]): restored.
echo $((200 << 20)) >"$A/memory.limit_in_bytes" || fail "lowering $A"
record "$JDIR/memcg-etmtest-a-$$" "$DEAD" 1 "$ORIG" $((128 << 20)) "$A"
# B: the limit was changed below our last cut since: left as it is.
echo $((64 << 20)) >"$B/memory.limit_in_bytes" || fail "lowering $B"
record "$JDIR/memcg-etmtest-b-$$" "$DEAD" 1 "$ORIG" $((128 << 20)) "$B"
# C: a live owner's record: its owner (this shell) holds the record's lock, as etmemd does: untouched.
START=$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$$/stat)
record "$JDIR/memcg-etmtest-c-$$" $$ "$START" "$ORIG" $((128 << 20)) "$B"
exec 9<"$JDIR/memcg-etmtest-c-$$"
flock -x -n 9 || fail "C: cannot lock the record"

host_start_etmemd "$BIN" "$SOCK" "$D/etmemd.log"

got=$(cat "$A/memory.limit_in_bytes")
[ "$got" = "$ORIG" ] || fail "A: limit $got, want the original $ORIG back; log: $(tail -5 "$D/etmemd.log")"
[ ! -e "$JDIR/memcg-etmtest-a-$$" ] || fail "A: record not removed after the restore"
grep -q "etm-journal-a-$$/memory.limit_in_bytes was left at $((200 << 20)).*restored to $ORIG" "$D/etmemd.log" ||
	fail "A: no log line naming the restore: $(cat "$D/etmemd.log")"
got=$(cat "$B/memory.limit_in_bytes")
[ "$got" = $((64 << 20)) ] || fail "B: limit $got, someone else's $((64 << 20)) must stay"
grep -q "etm-journal-b-$$: a dead etmemd's record says $ORIG, but the limit was changed since" "$D/etmemd.log" ||
	fail "B: no warning about the changed limit: $(cat "$D/etmemd.log")"
[ -e "$JDIR/memcg-etmtest-c-$$" ] || fail "C: a live owner's record was removed"
echo "PASS: memcg journal: dead etmemd's cut restored, foreign limit kept, live record untouched"
