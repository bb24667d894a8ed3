#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Inside a container /sys/fs/cgroup is often mounted read-only. A memcg_lru
# task there must be refused with the reason (a read-only hierarchy), not with
# "no memory cgroup controller", which sends the operator to the kernel config.
# The test runs in a private mount namespace, so the host's mounts are untouched.
if [[ -z "${ETM_RO_NS:-}" ]]; then
	export ETM_RO_NS=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

need_root
v1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/self/mounts)
[[ -n "$v1" ]] || skip "no cgroup v1 memory hierarchy mounted: the read-only v1 message does not apply"
mount -o remount,bind,ro "$v1" || fail "remounting $v1 read-only in the test's mount namespace"
check "$v1 is read-only in this namespace" bash -c "! touch '$v1/etmem-ro-probe' 2>/dev/null"

start_daemon
spawn_target etmro
conf=$(write_conf ro.conf <<CONF
[project]
name=ro
loop=1
interval=1
sleep=1

[engine]
name=slide
project=ro

[task]
project=ro
engine=slide
name=t
type=pid
value=$TARGET_PID
T=1
access_tracker=memcg_lru
CONF
)
check "task added" "$ETMEM" obj add -f "$conf" -s "$SOCK"
if "$ETMEM" project start -n ro -s "$SOCK" 2>"$TMP/err"; then
	bad "memcg_lru started on a read-only hierarchy"
else
	echo "refusal: $(cat "$TMP/err")"
	check "the refusal names the read-only hierarchy" grep -q "$v1 is mounted read-only" "$TMP/err"
	check "and not a missing controller" bash -c "! grep -q 'no memory cgroup controller' '$TMP/err'"
fi
check "the daemon is still up" daemon_alive
finish
