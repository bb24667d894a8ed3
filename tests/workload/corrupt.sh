#!/bin/bash
# Content verification catches a corrupted page: once through the test-only
# --corrupt-page option, once by writing into the running workload's memory
# from outside with process_vm_writev (as a buggy engine or a bad swap device
# would), for anonymous, shared and file-backed buffers.
# Usage: corrupt.sh ETMEM_WORKLOAD ETMEM_RIGTOOL
set -u
. "$(dirname "$0")/lib.sh"
trap cleanup_wl EXIT
WL=$1 RT=$2

"$WL" --size 8 --duration 0.2 --op write >"$WORK/s" || fail "clean run failed: $(cat "$WORK/s")"
[ "$(jget "$WORK/s" result)" = ok ] || fail "clean run not ok"

rc=0
"$WL" --size 8 --duration 0.2 --op write --pattern zipf --corrupt-page 7 >"$WORK/s" || rc=$?
[ $rc = 1 ] || fail "--corrupt-page: exit $rc, want 1"
[ "$(jget "$WORK/s" bad_pages)" = 1 ] && [ "$(jget "$WORK/s" first_bad_page)" = 7 ] &&
	[ "$(jget "$WORK/s" result)" = corrupt ] || fail "--corrupt-page: $(cat "$WORK/s")"
echo "  --corrupt-page 7: exit 1, $(grep -o '"bad_pages.*' "$WORK/s")"

for backing in anon shared file; do
	wl_start --size 16 --hot-frac 0.1 --backing $backing --op write
	# One byte in the middle of cold page 1000 (and nothing else).
	off=$((WL_ADDR + 1000 * 4096 + 2000))
	$RT poke $WL_PID $off >/dev/null || fail "poke into pid $WL_PID failed"
	wl_finish
	[ $WL_RC = 1 ] || fail "$backing: external corruption not caught (exit $WL_RC): $(cat "$WL_SUMMARY")"
	[ "$(jget "$WL_SUMMARY" first_bad_page)" = 1000 ] && [ "$(jget "$WL_SUMMARY" bad_cold)" = 1 ] ||
		fail "$backing: wrong page blamed: $(cat "$WL_SUMMARY")"
	echo "  $backing, byte flipped in page 1000 from outside: exit 1, first_bad_page 1000"
done
pass "verification catches corrupted pages"
