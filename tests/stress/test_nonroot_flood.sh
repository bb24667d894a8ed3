#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Issue 8, defect 2: any local user could lock root out of the socket. 140
# connections as nobody (more than the 128 worker slots), each trickling one
# byte every 0.5 s, and 300 slow root connections beside them (more than the
# 256 that may wait for their request at once), must not keep
# root's own commands from being answered, every one of them, while a slide
# project works on a workload whose content is verified at the end. The
# refusals cost one log line per window, not one per connection.
. "$ETMEM_SOURCE_DIR/tests/host/lib.sh"
. "$ETMEM_SOURCE_DIR/tests/integration/lib.sh"
. "$(dirname "$0")/flood_lib.sh"

need_root
FLOOD_SECS=30
start_daemon
check "workload and slide project started" start_workload_project flood
check "non-root flood of 140 slow connections running" start_flood nobody 140 "$FLOOD_SECS" flood-nobody
check "root flood of 300 slow connections running (more than the 256 pending)" start_flood root 300 "$FLOOD_SECS" flood-root

# Root's commands, one after another for 15 s: each must be answered (the
# timeout only keeps a broken daemon from hanging the test).
answered=0 refused=0 t_end=$((SECONDS + 15)) i=0
while ((SECONDS < t_end || i % 10 != 0)); do
	i=$((i + 1))
	case $((i % 10)) in
	3) cmd=(project stop -n flood) ;;
	4) cmd=(project start -n flood) ;;
	*) cmd=(project show -n flood) ;;
	esac
	if timeout 10 "$ETMEM" "${cmd[@]}" -s "$SOCK" >"$TMP/root.out" 2>&1; then
		answered=$((answered + 1))
	else
		refused=$((refused + 1))
		echo "root command '${cmd[*]}' failed: $(cat "$TMP/root.out")"
	fi
	sleep 0.2
done
check "root's commands all answered under the floods ($answered answered, $refused failed)" \
	test "$refused" -eq 0 -a "$answered" -ge 20
check "the project is running after the floods" bash -c "'$ETMEM' project show -n flood -s '$SOCK' | grep -q ' true '"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ETMEM" project show -s "$SOCK" 2>&1) && bad "non-root served" || true
check "non-root refusal says why" grep -q 'permission denied: etmemd serves root only' <<<"$out"

# The floods were refused or timed out connection after connection.
stop_floods
echo "non-root flood: $(tail -n1 "$TMP/flood-nobody.out")"
echo "root flood: $(tail -n1 "$TMP/flood-root.out")"
check "daemon alive" daemon_alive
lines=$(grep -c "refused" "$TMP/etmemd.log" || true)
echo "refusal log lines: $lines"
check "refusals logged in at most one line per 5 s ($lines lines)" test "$lines" -le $((FLOOD_SECS / 5 + 4))
check "refusals logged with uid and gid" grep -q "refused connection from pid [0-9]* uid 65534 gid 65534" "$TMP/etmemd.log"

check "project stops" "$ETMEM" project stop -n flood -s "$SOCK"
check "workload content intact" verify_workload
check "SIGTERM exits 0" stop_daemon
check "no sanitizer report" no_sanitizer_report "$TMP/etmemd.log"
finish
