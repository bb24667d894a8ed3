#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Memory cost of hostile configuration files (issue 8, defect 7), run on
# demand, never by ctest. etmemd gets PARALLEL `obj add` requests at once of
# a 10 MiB file that is a valid [project] followed by tiny sections (or tiny
# keys, or one long line, or comments, or the widest file the bounds allow:
# 500 keys of 16000 bytes), then the same number of `obj del`. Prints one
# JSON line per file kind: etmemd's RSS before, its peak (VmHWM) and its RSS
# after everything was deleted, in MiB, how many requests were accepted,
# and the first refusal.
# Usage: sudo bench/config_rss.sh [--bin DIR] [--parallel N]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$HERE/../build/bin
PARALLEL=8
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--parallel) PARALLEL=$2; shift 2 ;;
	*) echo "usage: $0 [--bin DIR] [--parallel N]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (config files must be root's)" >&2; exit 1; }
D=$(mktemp -d /tmp/etmem-bench-conf.XXXXXX)
SOCK=etmem-bench-conf-$$
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

# hostile KIND I: a valid project p<I> padded to 10 MiB with KIND filler.
hostile() {
	python3 - "$1" "$2" "$D/$1.$2.conf" <<'EOF'
import sys
kind, i, path = sys.argv[1], sys.argv[2], sys.argv[3]
head = f"[project]\nname=p{i}\nloop=1\ninterval=1\nsleep=1\n".encode()
limit = 10 * 1024 * 1024
out = bytearray(head)
n = 0
if kind == "sections":
    while len(out) < limit - 16:
        out += b"[s%x]\n" % n
        n += 1
elif kind == "keys":
    out += b"[pad]\n"
    while len(out) < limit - 16:
        out += b"k%x=\n" % n
        n += 1
elif kind == "line":
    out += b"[pad]\nk=" + b"v" * (limit - len(out) - 16) + b"\n"
elif kind == "comments":  # within every bound: comments cost GKeyFile nothing
    while len(out) < limit - 16:
        out += b"#\n"
else:  # "widest": as many keys of the longest line as the bounds allow
    out += b"[pad]\n"
    while len(out) < limit - 16400 and n < 500:
        out += b"k%x=" % n + b"v" * 16000 + b"\n"
        n += 1
open(path, "wb").write(bytes(out[:limit]))
EOF
	chmod 600 "$D/$1.$2.conf"
}

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# A fresh daemon for each kind, so that one kind's leftovers do not count for the next.
start_daemon() {
	"$BIN/etmemd" -l 2 -s "$SOCK" >"$D/etmemd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 50); do
		"$BIN/etmem" project show -s "$SOCK" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "etmemd did not start: $(tail -3 "$D/etmemd.log")" >&2
	exit 1
}
for kind in sections keys line comments widest; do
	start_daemon
	for i in $(seq 1 "$PARALLEL"); do hostile "$kind" "$i"; done
	before=$(kib "$DPID" VmRSS)
	# VmHWM is the peak since start: reset it (needs Linux >= 4.0).
	echo 5 >"/proc/$DPID/clear_refs" 2>/dev/null
	pids=()
	for i in $(seq 1 "$PARALLEL"); do
		"$BIN/etmem" obj add -f "$D/$kind.$i.conf" -s "$SOCK" >"$D/add.$i" 2>&1 &
		pids+=($!)
	done
	accepted=0
	for i in "${!pids[@]}"; do wait "${pids[$i]}" && accepted=$((accepted + 1)); done
	peak=$(kib "$DPID" VmHWM)
	pids=()
	for i in $(seq 1 "$PARALLEL"); do
		"$BIN/etmem" obj del -f "$D/$kind.$i.conf" -s "$SOCK" >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	after=$(kib "$DPID" VmRSS)
	printf '{"bench":"config_rss","kind":"%s","parallel":%d,"accepted":%d,"rss_before_mib":%.1f,"rss_peak_mib":%.1f,"rss_after_del_mib":%.1f,"error":"%s"}\n' \
		"$kind" "$PARALLEL" "$accepted" "$(echo "$before/1024" | bc -l)" "$(echo "$peak/1024" | bc -l)" \
		"$(echo "$after/1024" | bc -l)" "$(head -c 200 "$D/add.1" | tr -d '"\\\n')"
	rm -f "$D"/*.conf
	kill -TERM "$DPID" && wait "$DPID"
	DPID=""
done
