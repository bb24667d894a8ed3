#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# etmemd's command line and systemd (-m) mode, through the real binary.
. "$(dirname "$0")/lib.sh"

check "-h prints the spec's help and exits 0" bash -c "'$ETMEMD' -h | grep -q -- '-s|--socket <sockect name>  Socket name to listen to'"
check "--help lists -m" bash -c "'$ETMEMD' --help | grep -q -- '-m|--mode-systemctl mode used to start(systemctl)'"

expect_bad() {
	local what=$1 pattern=$2 err
	shift 2
	if err=$("$ETMEMD" "$@" 2>&1); then
		bad "$what: accepted"
	elif grep -q -- "$pattern" <<<"$err"; then
		ok "$what: $(head -1 <<<"$err")"
	else
		bad "$what: '$err' lacks '$pattern'"
	fi
}
expect_bad "no socket" "required" -l 1
expect_bad "log level 4" "0..3" -l 4 -s x
expect_bad "log level -1" "0..3" -l -1 -s x
expect_bad "log level junk" "0..3" -l 1x -s x
expect_bad "socket name of 107 characters" "1..106" -s "$(printf 'a%.0s' $(seq 1 107))"
expect_bad "repeated socket" "twice" -s a -s b
expect_bad "extra word" "unexpected" -s a extra
expect_bad "unknown option" "unknown" -s a -x

# 106 characters is the longest name that fits sun_path with its leading NUL.
long=$(printf 'b%.0s' $(seq 1 106))
"$ETMEMD" -s "$long" 2>/dev/null &
lp=$!
ok=""
for _ in $(seq 1 100); do
	if "$ETMEM" project show -s "$long" >/dev/null 2>&1; then
		ok=yes
		break
	fi
	sleep 0.05
done
check "socket name of 106 characters served" test -n "$ok"
kill -TERM $lp
check "long-name daemon exits 0" wait $lp

# -m: the parent returns 0 once the daemon listens; the pid file names it.
pidfile=/run/etmemd.pid
if [[ -e $pidfile ]]; then
	cp -p "$pidfile" "$TMP/pidfile.saved"
	on_exit "cp -p '$TMP/pidfile.saved' '$pidfile'"
else
	on_exit "rm -f '$pidfile'"
fi
check "-m returns 0 when ready" "$ETMEMD" -m -l 1 -s "$SOCK"
dpid=$(cat $pidfile)
on_exit "kill $dpid 2>/dev/null"
check "daemon answers right after -m returned" "$ETMEM" project show -s "$SOCK"
check "detached into its own session" bash -c "[ \"\$(ps -o sid= -p $dpid | tr -d ' ')\" = $dpid ]"
kill -TERM "$dpid"
for _ in $(seq 1 100); do
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.05
done
check "-m daemon stops on SIGTERM" bash -c "! kill -0 $dpid 2>/dev/null"

"$ETMEMD" -s "$SOCK" 2>/dev/null &
fp=$!
on_exit "kill $fp 2>/dev/null; wait $fp 2>/dev/null"
for _ in $(seq 1 100); do
	"$ETMEM" project show -s "$SOCK" >/dev/null 2>&1 && break
	sleep 0.05
done
if "$ETMEMD" -m -s "$SOCK" 2>"$TMP/err"; then
	bad "-m on a taken socket returned 0"
else
	check "-m on a taken socket reports why" grep -q "already in use" "$TMP/err"
fi

unit="$ETMEM_SOURCE_DIR/systemd/etmemd.service.in"
check "unit is Type=forking" grep -q '^Type=forking' "$unit"
check "unit starts etmemd with -m" grep -Eq '^ExecStart=.*etmemd .*-m' "$unit"
finish
