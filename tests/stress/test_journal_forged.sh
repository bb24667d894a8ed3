#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Stress: forged undo-journal records (issue 8, defect 8). Records of a
# "dead" etmemd are planted in /run/etmemd naming directories outside the
# cgroup v1 memory mount: an ordinary directory, one whose
# memory.limit_in_bytes is a symlink to a file elsewhere, a path that leaves
# the mount through '..', and a directory inside the mount with another
# filesystem (tmpfs) mounted on it. etmemd must refuse every one at start-up,
# leave the target files untouched and the records in place, and still put
# back a genuine record's limit: a real cgroup, holding a workload whose
# content is verified at the end.
set -uo pipefail
. "$(dirname "$0")/../host/lib.sh"

: "${ETMEM_BIN_DIR:?}"
BIN=$ETMEM_BIN_DIR
need_root
[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory controller: limit cuts (and their journal) are v1 only"
for b in etmemd etmem etmem-workload; do
	[ -x "$BIN/$b" ] || fail "$BIN/$b missing"
done

JDIR=/run/etmemd
D=$(mktemp -d /tmp/etmem-forged.XXXXXX)
SOCK=etmem-forged-$$
DPID="" WPID="" MADE_JDIR="" MOUNTED=""
RECS=()
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$WPID" ] && kill -TERM "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	[ -n "$MOUNTED" ] && umount "$MOUNTED"
	for r in "${RECS[@]}"; do rm -f "$r"; done
	[ -n "$MADE_JDIR" ] && rmdir "$JDIR" 2>/dev/null
	host_cleanup
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -d "$JDIR" ] || { mkdir -m 0700 "$JDIR" && MADE_JDIR=1; } || fail "mkdir $JDIR"
host_memcg_new "etm-forged-real-$$"
host_memcg_new "etm-forged-tmpfs-$$"
REAL=$HOST_MEMCG_ROOT/etm-forged-real-$$
ORIG=$(cat "$REAL/memory.limit_in_bytes")

"$BIN/etmem-workload" --size 128M --hot-frac 0.5 --cgroup "$REAL" --ready-file "$D/ready" >"$D/workload.out" 2>&1 &
WPID=$!
for _ in $(seq 1 300); do
	[ -s "$D/ready" ] && break
	kill -0 "$WPID" 2>/dev/null || fail "workload died: $(cat "$D/workload.out")"
	sleep 0.1
done
[ -s "$D/ready" ] || fail "workload not ready after 30 s"

# record NAME DIR: a record whose owner is long dead (nobody holds its lock),
# asking to put 1 GiB back where "its cut" left anything from 0 up.
record() {
	# Another etmemd exiting (a concurrent run) removes an empty $JDIR.
	mkdir -p -m 0700 "$JDIR"
	printf 'etmem-memcg-limit 1\nowner 1 1\norig %s\nlast 0\ndir %s\n' $((1 << 30)) "$2" >"$JDIR/$1"
	chmod 600 "$JDIR/$1"
	RECS+=("$JDIR/$1")
}
# target DIR: a stand-in limit file (a small number, so a restore would write)
target() {
	mkdir -p "$1"
	echo 4096 >"$1/memory.limit_in_bytes"
	touch -d @1000000000 "$1/memory.limit_in_bytes"
}

# 1. an ordinary directory
target "$D/plain"
record "memcg-etmtest-forged-plain-$$" "$D/plain"
# 2. the limit file a symlink to a file elsewhere
target "$D/victim"
mkdir "$D/link"
ln -s "$D/victim/memory.limit_in_bytes" "$D/link/memory.limit_in_bytes"
record "memcg-etmtest-forged-link-$$" "$D/link"
# 3. out of the mount through '..'
target "$D/dots"
record "memcg-etmtest-forged-dots-$$" "$HOST_MEMCG_ROOT/../../../..$D/dots"
# 4. another filesystem mounted on a directory inside the mount
TMPFS=$HOST_MEMCG_ROOT/etm-forged-tmpfs-$$
mount -t tmpfs -o size=1m,mode=0700 etm-forged "$TMPFS" || fail "mount tmpfs on $TMPFS"
MOUNTED=$TMPFS
target "$TMPFS"
record "memcg-etmtest-forged-tmpfs-$$" "$TMPFS"
# and a genuine one: the real cgroup's limit lowered by "the dead etmemd's cut"
echo $((200 << 20)) >"$REAL/memory.limit_in_bytes" || fail "lowering $REAL"
mkdir -p -m 0700 "$JDIR"
printf 'etmem-memcg-limit 1\nowner 1 1\norig %s\nlast %s\ndir %s\n' "$ORIG" $((128 << 20)) "$REAL" \
	>"$JDIR/memcg-etmtest-forged-real-$$"
chmod 600 "$JDIR/memcg-etmtest-forged-real-$$"
RECS+=("$JDIR/memcg-etmtest-forged-real-$$")

host_start_etmemd "$BIN" "$SOCK" "$D/etmemd.log"
cat "$D/etmemd.log"

for t in "$D/plain" "$D/victim" "$D/dots" "$TMPFS"; do
	got=$(cat "$t/memory.limit_in_bytes")
	[ "$got" = 4096 ] || fail "$t/memory.limit_in_bytes was written: $got"
	[ "$(stat -c %Y "$t/memory.limit_in_bytes")" = 1000000000 ] || fail "$t/memory.limit_in_bytes was touched"
done
for r in plain link dots tmpfs; do
	[ -e "$JDIR/memcg-etmtest-forged-$r-$$" ] || fail "forged record $r removed: it should stay for the operator"
	grep -q "memcg-etmtest-forged-$r-$$.*not a record of etmemd, left alone" "$D/etmemd.log" ||
		fail "no warning naming forged record $r"
done
got=$(cat "$REAL/memory.limit_in_bytes")
[ "$got" = "$ORIG" ] || fail "the genuine record's limit is $got, want $ORIG back"
[ ! -e "$JDIR/memcg-etmtest-forged-real-$$" ] || fail "the genuine record was not removed after its restore"
"$BIN/etmem" project show -s "$SOCK" >/dev/null || fail "etmemd does not answer after the forged records"
kill -TERM "$DPID"
wait "$DPID" || fail "etmemd did not exit cleanly"
DPID=""

kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=""
tail -1 "$D/workload.out"
[ "$rc" = 0 ] || fail "workload content verification failed (exit $rc)"
echo "PASS: forged journal records refused, their targets untouched, the genuine one restored"
