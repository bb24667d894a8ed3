#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The smaller socket and daemon items of issue 8: SIGHUP is logged and
# ignored; root is uid 0 whatever its gid; names from requests cannot forge
# log lines; engine output cut at 16 MiB fails the command; etmem follows a
# symlinked configuration file while etmemd refuses a symlink it is sent.
. "$(dirname "$0")/lib.sh"

install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
start_daemon

# SIGHUP: logged and ignored, the daemon keeps serving.
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do
	grep -q "SIGHUP" "$TMP/etmemd.log" && break
	sleep 0.05
done
check "SIGHUP logged as ignored" grep -q "SIGHUP from pid [0-9]* ignored" "$TMP/etmemd.log"
check "daemon alive after SIGHUP" daemon_alive
check "daemon serves after SIGHUP" show

# Root is uid 0, whatever its gid; any other uid is refused, even with gid 0.
check "uid 0 with gid 65534 served" setpriv --regid=65534 --clear-groups "$ETMEM" project show -s "$SOCK"
out=$(setpriv --reuid=65534 --regid=0 --clear-groups "$ETMEM" project show -s "$SOCK" 2>&1) &&
	bad "uid 65534 with gid 0 served" || true
check "uid 65534 with gid 0 refused" grep -q "permission denied: etmemd serves root only" <<<"$out"

# A newline in a name from a request stays inside its log line.
forged=$'x\netmemd: error: forged line'
"$ETMEM" project start -n "$forged" -s "$SOCK" 2>/dev/null && bad "unknown project started" || true
check "no forged log line" bash -c "! grep -q '^etmemd: error: forged line' '$TMP/etmemd.log'"
check "the name is logged escaped" grep -q "project start -n 'x\\\\x0aetmemd: error: forged line' (pid [0-9]*) failed" \
	"$TMP/etmemd.log"

# Engine output: 16 MiB is whole, one byte more is cut and fails.
spawn_target etmem-hard-t
conf=$(write_conf eng.yaml <<EOT
[project]
name=hard
loop=1
interval=1
sleep=1
[engine]
name=thirdparty
project=hard
eng_name=tester
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
[task]
project=hard
engine=tester
name=t
type=pid
value=$TARGET_PID
EOT
)
check "engine project added" "$ETMEM" obj add -f "$conf" -s "$SOCK"
check "engine project started" "$ETMEM" project start -n hard -s "$SOCK"
rc=0
"$ETMEM" engine "fill 16777216" -n hard -e tester -s "$SOCK" >"$TMP/fill.out" 2>"$TMP/fill.err" || rc=$?
check "16 MiB of engine output: exit 0 (got $rc)" test "$rc" -eq 0
check "16 MiB of engine output arrives whole" test "$(stat -c %s "$TMP/fill.out")" -eq 16777216
rc=0
"$ETMEM" engine "fill 16777217" -n hard -e tester -s "$SOCK" >"$TMP/fill.out" 2>"$TMP/fill.err" || rc=$?
check "16 MiB + 1 byte of engine output: exit 1 (got $rc)" test "$rc" -eq 1
check "the first 16 MiB are written" test "$(stat -c %s "$TMP/fill.out")" -eq 16777216
check "the cut is reported in one line" grep -q "^etmem: .*output truncated: only its first 16777216 bytes" "$TMP/fill.err"
check "the cut is logged" grep -q "output truncated at 16777216 bytes" "$TMP/etmemd.log"
check "engine project stopped" "$ETMEM" project stop -n hard -s "$SOCK"

# Symlinks: etmem resolves the path it is given (as the original etmemd
# did), so a symlinked configuration works; etmemd itself opens the path it
# receives with O_NOFOLLOW, so a path swapped for a symlink after etmem
# resolved it (or sent by another client) is refused.
sym=$(write_conf sym.yaml <<EOT
[project]
name=sym
loop=1
interval=1
sleep=1
EOT
)
ln -s "$sym" "$TMP/link.yaml"
check "etmem obj add through a symlink" "$ETMEM" obj add -f "$TMP/link.yaml" -s "$SOCK"
check "the project of the symlinked file exists" bash -c "'$ETMEM' project show -n sym -s '$SOCK' | grep -q '^project: sym$'"
check "etmem obj del through a symlink" "$ETMEM" obj del -f "$TMP/link.yaml" -s "$SOCK"
out=$(python3 "$(dirname "$0")/rawclient.py" "$SOCK" add "$TMP/link.yaml" 2>&1) && bad "etmemd followed a symlink" || true
check "etmemd refuses a symlink it is sent" grep -q "is a symbolic link" <<<"$out"

check "SIGTERM exits 0" stop_daemon
finish
