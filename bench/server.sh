#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Server benchmark (issue #10), run on demand, never by ctest: a real Redis
# server under slide (and under a DAMOS pageout scheme where DAMON is free),
# tail latency in paired windows engine running / stopped. One JSON line per
# result on stdout (progress on stderr); see bench/README.md.
#
# Usage: sudo bench/server.sh [--bin DIR] [--no-install] [OPTIONS]
#   --bin DIR          etmemd and etmem (default: build/bin next to this script)
#   --no-install       fail instead of installing redis-server/libhiredis-dev
#   --keep DIR         copy etmemd's log (its reclaims, one line each) and the
#                      server's and client's logs into DIR at the end
#   --keys N           keys loaded (default 400000: ~450 MB resident)
#   --value-size B     bytes per value (default 1000: four to a page)
#   --entropy F        fraction of random letters in a value (default 0.3)
#   --hot-frac F       the hot keys, read; the rest is idle (default 0.1)
#   --rate R           GET requests per second, open loop (default 1500)
#   --window S         seconds per measured window (default 30)
#   --rounds N         running/stopped window pairs (default 3), running first
#                      in odd rounds, stopped first in even ones
#   --warmup S         seconds of load before the first window (default 10)
#   --pass-max S       longest swap-out pass (default 180)
#   --pass-plateau S   the pass is over when swap has not grown for S s
#                      (default 30: slide's first pass waits for refaults)
#   --settle S         seconds between the pass and the rounds, measured apart
#                      (default 20: the pass's last reclaim may still run)
#   --nice N           nice value of the server and the client (default 0)
#   --rt P             run the server and the client SCHED_FIFO at priority P
#                      (default 0: off). For a busy machine: other CFS work
#                      no longer delays them, so what remains is what the
#                      kernel does to the server (see bench/README.md)
#   --loop N --interval S --sleep S --T N --tracker NAME
#                      the slide project (default loop=1 interval=1 sleep=1
#                      T=1, tracker auto)
#   --engines LIST     etmem,damos (default both; damos only runs where DAMON
#                      is free, else its line says why and the CPU target
#                      uses the reference figure)
#   --damos-apply-s S  the DAMOS scheme's apply interval (default 5)
#   --perf 0|1         per-window reclaim tracepoints and server counters
#                      through perf (default 1 when perf is installed)
#
# What it changes, all undone on exit (also on failure or ^C): a swap device
# when none is active (zram via hot_add, else a swapfile in /var/tmp), one
# sibling memory cgroup, the processes it starts, and (DAMON free only) one
# kdamond it creates. It holds /tmp/etmem-test-swap.lock like the swap-using
# tests. Packages: redis-server and libhiredis-dev, installed when missing
# (the benchmark's own need; CI does not install them).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$HERE/../build/bin
INSTALL=1
KEEP=""
PASS=()
PERF_SET=0
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--no-install) INSTALL=0; shift ;;
	--keep) [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }; KEEP=$2; shift 2 ;;
	--perf) PERF_SET=1; PASS+=("$1" "$2"); shift 2 ;;
	--keys | --value-size | --entropy | --hot-frac | --rate | --window | --rounds | --warmup | --pass-max | --pass-plateau | --settle | \
		--nice | --rt | --loop | --interval | --sleep | --T | --tracker | --engines | --damos-apply-s)
		[ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }
		PASS+=("$1" "$2"); shift 2 ;;
	-h | --help) sed -n '3,/^set -u/{/^#/p}' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "no such directory: $BIN (build first, or pass --bin)" >&2; exit 2; }
for b in etmemd etmem; do
	[ -x "$BIN/$b" ] || { echo "$BIN/$b missing: build first" >&2; exit 2; }
done

. "$HERE/../tests/host/lib.sh"
[ "$(id -u)" = 0 ] || { echo "bench/server.sh: needs root (a memory cgroup, swap, the daemon)" >&2; exit 2; }

if ! command -v redis-server >/dev/null || ! pkg-config --exists hiredis; then
	[ "$INSTALL" = 1 ] || { echo "redis-server and libhiredis-dev are needed (apt-get install redis-server libhiredis-dev)" >&2; exit 2; }
	echo "installing redis-server libhiredis-dev" >&2
	# policy-rc.d or not, the packaged service is not what we measure: ours runs in its own memcg.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server libhiredis-dev >&2 ||
		{ echo '{"bench":"server","error":"cannot install redis-server libhiredis-dev"}'; exit 1; }
fi
[ "$PERF_SET" = 1 ] || { command -v perf >/dev/null && PASS+=(--perf 1) || PASS+=(--perf 0); }

exec 8>/tmp/etmem-test-swap.lock
echo "waiting for /tmp/etmem-test-swap.lock" >&2
flock -w 600 8 || { echo '{"bench":"server","error":"swap lock busy for 600 s"}'; exit 1; }

D=$(mktemp -d /tmp/etmem-bench-srv.XXXXXX)
cleanup() {
	host_cleanup
	if [ -n "$KEEP" ]; then
		mkdir -p "$KEEP" && find "$D" -name '*.log' -exec cp --parents -t "$KEEP" {} + 2>/dev/null
	fi
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The client: the build's, else built here (a build configured before
# hiredis was installed has none).
KV=$BIN/etmem-bench-kv
if [ ! -x "$KV" ]; then
	KV=$D/etmem-bench-kv
	# shellcheck disable=SC2046 # pkg-config's flags are meant to be split
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$KV" "$HERE/kvclient.c" \
		$(pkg-config --cflags --libs hiredis) -lpthread ||
		{ echo '{"bench":"server","error":"cannot build the client (bench/kvclient.c)"}'; exit 1; }
fi

host_swap_setup /var/tmp
CG=etmem-bench-srv-$$
host_memcg_new "$CG"

python3 "$HERE/server.py" --bin "$BIN" --kv "$KV" --memcg-dir "$HOST_MEMCG_ROOT/$CG" --memcg-path "/$CG" \
	--tmp "$D" "${PASS[@]}"
