#!/bin/sh
# kselftest.sh NAME: run the kselftest /rig/bin/NAME (TAP output) and pass
# only if every test passed; a skipped one fails too, since the rig guest
# provides what they need (swap, cgroup v2, THP, hugetlb pages).
. /rig/guest-lib.sh
t=/rig/bin/$1
[ -x "$t" ] || fail "no $t"
$t >/tmp/tap.out 2>&1
rc=$?
cat /tmp/tap.out
grep -q "^ok .*# SKIP" /tmp/tap.out && fail "$1: tests skipped (see above)"
[ $rc = 0 ] || fail "$1: exit status $rc"
pass "$1: $(grep -c '^ok ' /tmp/tap.out) tests passed"
