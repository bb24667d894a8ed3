#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test: the psi engine through the real etmemd on a cgroup v1 memory
# cgroup whose cgroup2 twin holds the same workload (this host's kind of
# kernel: plain v1, cgroup2 mounted beside it, zram swap). The workload
# allocates 1 GiB and keeps 20 % of it busy. Within 2 minutes at least 60 %
# of its idle part must be reclaimed; the pressure must stay below the
# configured target in at least 90 % of the cycles; the cgroup's
# memory.limit_in_bytes must be what it was after `project stop`, and after
# a kill -9 of etmemd in the middle of a limit cut and a restart (the undo
# journal); project show names the backend and the pressure source; every
# page's content is intact at the end.
# Usage: psi_engine.sh BIN_DIR
set -u
BIN=${1:?usage: psi_engine.sh BIN_DIR}
. "$(dirname "$0")/lib.sh"

host_test_begin "$BIN" etmem-psi-engine
[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory controller (the cgroup2 path is the rig's, vm.psi_engine)"
U=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$U" ] || skip "no cgroup2 mounted beside cgroup v1"
[ -r /proc/pressure/memory ] || skip "no PSI (boot with psi=1, CONFIG_PSI)"

TARGET=1 # some avg10/avg60, percent of the time stalled

host_swap_cgroup etmem-psi-engine
M=$HOST_WL_CG
mkdir "$U/$CG" || fail "mkdir $U/$CG"
HOST_CGROUPS+=("$U/$CG")
# A limit of its own (the original's floor term limit_min_ratio applies to it): 2 GiB.
echo $((2 << 30)) >"$M/memory.limit_in_bytes" || fail "setting $M/memory.limit_in_bytes"
ORIG=$(cat "$M/memory.limit_in_bytes")

# The workload joins the twin first, then (--cgroup) the v1 memory cgroup.
host_workload_start --join "$U/$CG" --size 1G --hot-frac 0.2
COLD=$(jpart "$WL_READY" cold pages)
note "workload pid $WL_PID, cold pages $COLD, usage $(cat "$M/memory.usage_in_bytes"), limit $ORIG"

cat >"$D/psi.yaml" <<EOF
[project]
name=psiproj
scan_type=psi
interval=2
[engine]
name=psi
project=psiproj
[task]
project=psiproj
engine=psi
name=t
cg_dir={$CG,etm-psi-engine-none-$$}
pressure=$TARGET
reclaim_rate=0.2
reclaim_rate_max=0.5
limit_min_bytes=$((64 << 20))
limit_min_ratio=0
EOF
chmod 600 "$D/psi.yaml"

host_start_etmemd "$BIN" "$SOCK" "$D/etmemd.log"
"$BIN/etmem" obj add -f "$D/psi.yaml" -s "$SOCK" || fail "obj add: $(tail -3 "$D/etmemd.log")"
"$BIN/etmem" project start -n psiproj -s "$SOCK" || fail "project start: $(tail -3 "$D/etmemd.log")"
T0=$(date +%s)

# Up to 2 minutes for 60 % of the idle pages to go out; at least 1 minute
# (30 cycles) in all, so that the pressure is judged near the floor too.
swapped=0
REACHED=""
while [ $(($(date +%s) - T0)) -lt 120 ]; do
	sleep 4
	wl_report
	swapped=$(jpart "$WL_REPORT" cold swapped)
	note "$(($(date +%s) - T0)) s: cold swapped $swapped of $COLD, usage $(cat "$M/memory.usage_in_bytes")"
	[ -z "$REACHED" ] && [ $((swapped * 100)) -ge $((COLD * 60)) ] && REACHED=$(($(date +%s) - T0)) &&
		REACHED_PCT=$((swapped * 100 / COLD))
	[ -n "$REACHED" ] && [ $(($(date +%s) - T0)) -ge 60 ] && break
done
ELAPSED=$(($(date +%s) - T0))
"$BIN/etmem" project show -n psiproj -s "$SOCK" >"$D/show" 2>&1 || fail "project show: $(cat "$D/show")"
cat "$D/show"
"$BIN/etmem" engine pressure -n psiproj -e psi -s "$SOCK" >"$D/pressure" 2>&1 || fail "engine pressure: $(cat "$D/pressure")"
cat "$D/pressure"

[ -n "$REACHED" ] && ok "$REACHED_PCT % of the idle pages reclaimed after $REACHED s" ||
	bad "only $swapped of $COLD idle pages reclaimed in $ELAPSED s (want >= 60 % within 120 s)"
grep -q "psi task t: cgroup $CG: pressure [0-9.]* (cgroup2 twin), usage [0-9]*.*floor [0-9]* (limit_min_bytes)" \
	"$D/etmemd.log" && ok "debug log: each decision with its values" || bad "no debug line with the values"
grep -q "cgroup1-limit" "$D/show" && ok "project show names the backend" || bad "project show lacks the backend"
grep -q "cgroup2 twin" "$D/show" && ok "project show names the pressure source (the cgroup2 twin)" ||
	bad "project show lacks the pressure source 'cgroup2 twin'"
grep -q "floor set by" "$D/show" && ok "project show says which term set the floor" || bad "no floor term in show"
# The cycles: pressure below the target in at least 90 %.
# Text columns: task cgroup cycle pressure usage reclaimed rate state source.
read -r n below < <(awk -v t="$TARGET" '$3 ~ /^[0-9]+$/ && NF >= 8 { n++; if ($4 < t) b++ } END { print n + 0, b + 0 }' "$D/pressure")
[ "$n" -gt 0 ] && [ $((below * 100)) -ge $((n * 90)) ] && ok "pressure below $TARGET in $below of $n cycles" ||
	bad "pressure below $TARGET in $below of $n cycles (want >= 90 %)"
grep -q "reclaiming" "$D/pressure" && ok "cycles in state reclaiming recorded" || bad "no reclaiming cycle in the history"
# The same as JSON (taken a moment later: a cycle or two more at most).
if "$BIN/etmem" engine pressure -n psiproj -e psi -s "$SOCK" --json >"$D/pressure.json" 2>&1; then
	read -r kind jn jb < <(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
t = [t for t in d["tables"] if t["name"] == "pressure"][0]
rows = [r for r in t["rows"] if r["cgroup"] == sys.argv[3]]
print(d["kind"], len(rows), sum(1 for r in rows if r["pressure_percent"] < float(sys.argv[2])))' \
		"$D/pressure.json" "$TARGET" "$CG" 2>&1)
	[ "$kind" = engine_command ] && [ "${jn:-0}" -ge "$n" ] && [ $((jb * 100)) -ge $((jn * 90)) ] &&
		ok "engine pressure --json: $jn cycles, $jb below the target" ||
		bad "engine pressure --json: kind '$kind', $jn cycles ($n in the text), $jb below the target"
else
	bad "engine pressure --json: $(cat "$D/pressure.json")"
fi

# A cgroup that cg_dir matches appears: picked up; it vanishes: dropped.
NEW=$HOST_MEMCG_ROOT/etm-psi-engine-none-$$
cgroups_shown() { "$BIN/etmem" project show -n psiproj -s "$SOCK" 2>/dev/null | sed -n 's/^ *cgroups: //p'; }
wait_cgroups() { # $1 count: true once project show says so, within 30 s
	for _ in $(seq 1 60); do
		[ "$(cgroups_shown)" = "$1" ] && return 0
		sleep 0.5
	done
	return 1
}
mkdir "$NEW" || fail "mkdir $NEW"
HOST_CGROUPS+=("$NEW")
wait_cgroups 2 && ok "a new cgroup matching cg_dir picked up" || bad "cgroups: $(cgroups_shown) after $NEW appeared, want 2"
rmdir "$NEW"
wait_cgroups 1 && ok "a vanished cgroup dropped" || bad "cgroups: $(cgroups_shown) after $NEW vanished, want 1"
grep -q "cgroup etm-psi-engine-none-$$ picked up" "$D/etmemd.log" && grep -q "cgroup etm-psi-engine-none-$$ dropped" "$D/etmemd.log" &&
	ok "both logged" || bad "picking up / dropping not logged"

# Stop: the limit is what it was.
"$BIN/etmem" project stop -n psiproj -s "$SOCK" || bad "project stop"
got=$(cat "$M/memory.limit_in_bytes")
[ "$got" = "$ORIG" ] && ok "limit $ORIG after project stop" || bad "limit $got after project stop, want $ORIG"

# kill -9 in the middle of a limit cut: make the workload's idle pages come back
# (reading them), start again, wait for a cut, kill; the next etmemd restores it.
kill -TERM "$WL_PID"
wait "$WL_PID" || bad "workload: content not intact after the reclaim: $(tail -1 "$WL_OUT")"
WL_PID=""
host_workload_start --join "$U/$CG" --size 1G --hot-frac 0.2 --seed 2
"$BIN/etmem" project start -n psiproj -s "$SOCK" || fail "project start (again)"
caught=""
deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
	l=$(cat "$M/memory.limit_in_bytes")
	if [ "$l" != "$ORIG" ]; then
		kill -9 "$DPID"
		caught=$l
		break
	fi
done
wait "$DPID" 2>/dev/null
DPID=""
[ -n "$caught" ] && ok "etmemd killed with the limit cut to $caught" || bad "no limit cut seen within 60 s"
got=$(cat "$M/memory.limit_in_bytes")
note "limit after kill -9: $got"
host_start_etmemd "$BIN" "$SOCK" "$D/etmemd2.log"
got=$(cat "$M/memory.limit_in_bytes")
[ "$got" = "$ORIG" ] && ok "limit $ORIG after kill -9 and a restart" ||
	bad "limit $got after kill -9 and a restart, want $ORIG; log: $(tail -3 "$D/etmemd2.log")"
# The restarted etmemd runs the project again until it has reclaimed, then
# stops it and exits: status 0, and (in the ASan build) no sanitizer report.
"$BIN/etmem" obj add -f "$D/psi.yaml" -s "$SOCK" && "$BIN/etmem" project start -n psiproj -s "$SOCK" ||
	fail "obj add / project start after the restart: $(tail -3 "$D/etmemd2.log")"
for _ in $(seq 1 60); do
	"$BIN/etmem" project show -n psiproj -s "$SOCK" 2>/dev/null | grep -q "^    bytes reclaimed: [1-9]" && break
	sleep 0.5
done
"$BIN/etmem" project show -n psiproj -s "$SOCK" | grep -q "^    bytes reclaimed: [1-9]" &&
	ok "the restarted etmemd reclaims" || bad "the restarted etmemd reclaimed nothing within 30 s"
"$BIN/etmem" project stop -n psiproj -s "$SOCK" && "$BIN/etmem" obj del -f "$D/psi.yaml" -s "$SOCK" ||
	bad "project stop / obj del after the restart"
got=$(cat "$M/memory.limit_in_bytes")
[ "$got" = "$ORIG" ] && ok "limit $ORIG after the second stop" || bad "limit $got after the second stop, want $ORIG"
kill -TERM "$DPID"
wait "$DPID"
rc=$?
DPID=""
[ "$rc" = 0 ] && ! grep -qE "Sanitizer|runtime error" "$D/etmemd2.log" && ok "etmemd exits 0, no sanitizer report" ||
	bad "etmemd exit status $rc; log: $(grep -E -A5 "Sanitizer|runtime error" "$D/etmemd2.log" | head -20)"
kill -TERM "$WL_PID"
wait "$WL_PID" && ok "content intact (second workload)" || bad "second workload: $(tail -1 "$WL_OUT")"
WL_PID=""
finish
