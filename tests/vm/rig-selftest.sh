#!/bin/bash
# The rig's own contract: the payload's exit status and its arguments
# (spaces, quotes, empty) come back unchanged, and a hung guest is killed at
# --timeout with status 124.
set -u
RIG=$(dirname "$0")/run-in-vm.sh
t=$(mktemp -d /tmp/etmem-rigself.XXXXXX)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$t/args.sh" <<'G'
#!/bin/sh
for a in "$@"; do echo "[$a]"; done
exit 7
G
out=$("$RIG" --nodes 1 -- "$t/args.sh" "a b" "" "it's" '$x' 2>"$t/err")
rc=$?
[ $rc = 7 ] || fail "exit status $rc, want 7: $(cat "$t/err")"
want=$'[a b]\n[]\n[it\'s]\n[$x]'
[ "$out" = "$want" ] || fail "arguments came back as: $out"
echo "  exit status and arguments passed through"

printf '#!/bin/sh\necho started; sleep 1000\n' >"$t/hang.sh"
s=$(date +%s)
out=$("$RIG" --nodes 1 --timeout 10 -- "$t/hang.sh" 2>/dev/null)
rc=$?
[ $rc = 124 ] || fail "hung guest: exit status $rc, want 124"
[ $(($(date +%s) - s)) -lt 30 ] || fail "timeout took $(($(date +%s) - s)) s"
echo "  hung guest killed after --timeout 10 with status 124 (output so far: $out)"
echo "PASS: rig contract"
