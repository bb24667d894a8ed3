#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Stress: a third-party engine library in a directory another user can write
# (issue 8, defects 4 and 9). A uid-65534 process swaps two files in its own
# directory as fast as it can -- a root-owned copy of the test plugin that
# passes every file check, and the "intruder" build of it, owned by uid
# 65534 -- while root adds an engine from that directory again and again.
# etmemd must refuse the directory every time and never run the intruder
# (each build of the test plugin leaves a marker file named after itself
# when it is loaded). Then ops_name decoys (an int, a function, right-sized
# objects pointing into data or into libc, libc's environ) are refused with
# the symbol named, and the daemon stays up and still loads the plugin from
# a root-only directory.
. "$(dirname "$0")/../integration/lib.sh"

: "${ETMEM_TEST_ENGINE:?}" "${ETMEM_TEST_ENGINE_INTRUDER:?}"
ROUNDS=${ETMEM_STRESS_PLUGIN_ROUNDS:-300}
NOBODY=65534

MARK=$TMP/marks
mkdir -m 0700 "$MARK"
export ETMEM_TEST_PLUGIN_MARKER=$MARK
install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
# The other user's directory, and a root-owned one anyone may write.
THEIRS=$(mktemp -d /run/etmem-theirs.XXXXXX)
OPEN=$(mktemp -d /run/etmem-open.XXXXXX)
on_exit "rm -rf '$THEIRS' '$OPEN'"
chown $NOBODY:$NOBODY "$THEIRS"
chmod 0755 "$THEIRS"
chmod 0777 "$OPEN"
install -m 0700 -o 0 -g 0 "$ETMEM_TEST_ENGINE" "$THEIRS/engine.so"
install -m 0700 -o $NOBODY -g $NOBODY "$ETMEM_TEST_ENGINE_INTRUDER" "$THEIRS/spare.so"
install -m 0700 -o 0 -g 0 "$ETMEM_TEST_ENGINE" "$OPEN/engine.so"
ln -s "$THEIRS/engine.so" "$PLUGIN_DIR/via-link.so"

start_daemon

# conf NAME LIBNAME OPS_NAME: a project with one third-party engine.
conf() {
	write_conf "$1" <<EOF
[project]
name=plug
loop=1
interval=1
sleep=1

[engine]
name=thirdparty
project=plug
eng_name=eng
libname=$2
ops_name=$3
EOF
}

# refused WHAT PATTERN FILE: obj add fails naming PATTERN; the daemon stays up.
refused() {
	local out
	if out=$("$ETMEM" obj add -f "$3" -s "$SOCK" 2>&1); then
		bad "$1: accepted"
		"$ETMEM" obj del -f "$3" -s "$SOCK" >/dev/null 2>&1
	elif ! grep -qF -- "$2" <<<"$out"; then
		bad "$1: message '$out' lacks '$2'"
	else
		ok "$1: $out"
	fi
	daemon_alive || bad "$1: etmemd died"
}

good=$(conf good.yaml "$PLUGIN_DIR/test_engine.so" test_engine_ops)
check "a plugin in a root-only directory loads" "$ETMEM" obj add -f "$good" -s "$SOCK"
check "its marker shows it ran" test -s "$MARK/ran-test_engine"
check "obj del" "$ETMEM" obj del -f "$good" -s "$SOCK"
rm -f "$MARK/ran-test_engine"

theirs=$(conf theirs.yaml "$THEIRS/engine.so" test_engine_ops)
refused "library in uid $NOBODY's directory" "directory $THEIRS is owned by uid $NOBODY, must be owned by root" \
	"$theirs"
refused "library in a directory anyone may write" "directory $OPEN is writable by group or others (mode 0777)" \
	"$(conf open.yaml "$OPEN/engine.so" test_engine_ops)"
refused "symlink from a root-only directory into uid $NOBODY's" "directory $THEIRS is owned by uid $NOBODY" \
	"$(conf link.yaml "$PLUGIN_DIR/via-link.so" test_engine_ops)"

# The race: uid 65534 exchanges engine.so and spare.so (renameat2 RENAME_EXCHANGE) until stopped.
as_nobody() { cd / && exec setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"; }
PY=""
for p in /usr/bin/python3 "$(command -v python3)"; do # a per-user python (pyenv) may be root's only
	(as_nobody "$p" -c "") 2>/dev/null && PY=$p && break
done
[[ -n "$PY" ]] || bad "no python3 that uid $NOBODY may run"
(as_nobody "$PY" -c '
import ctypes, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode() + b"/engine.so", sys.argv[1].encode() + b"/spare.so"
n = 0
def done(*_):
    print(n, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
print("started", flush=True)
while True:
    if libc.renameat2(-100, a, -100, b, 2) != 0:
        sys.exit("renameat2: errno %d" % ctypes.get_errno())
    n += 1
' "$THEIRS") >"$TMP/swaps" 2>&1 &
SWAPPER=$!
on_exit "kill $SWAPPER 2>/dev/null; wait $SWAPPER 2>/dev/null"
for _ in $(seq 1 100); do
	grep -q started "$TMP/swaps" && break
	sleep 0.05
done
check "the swapper runs as uid $NOBODY" grep -q started "$TMP/swaps"

refusals=0
for ((i = 0; i < ROUNDS; i++)); do
	if out=$("$ETMEM" obj add -f "$theirs" -s "$SOCK" 2>&1); then
		"$ETMEM" obj del -f "$theirs" -s "$SOCK" >/dev/null 2>&1
	elif grep -qF "directory $THEIRS is owned by uid $NOBODY" <<<"$out"; then
		refusals=$((refusals + 1))
	fi
	[[ -e "$MARK/ran-intruder" ]] && break
done
kill -TERM "$SWAPPER"
wait "$SWAPPER"
swaps=$(tail -1 "$TMP/swaps")
echo "$i rounds of obj add against $swaps swaps"
check "the swapper swapped" test "$swaps" -gt 0
check "etmemd never ran uid $NOBODY's library" test ! -e "$MARK/ran-intruder"
check "every one of $ROUNDS adds refused for the directory ($refusals)" test "$refusals" -eq "$ROUNDS"
check "nothing of it was loaded" test ! -e "$MARK/ran-test_engine"

# ops_name must name a struct engine_ops of the library itself.
for c in "test_engine_not_ops:an object of 4 bytes" "test_engine_function:a function, not a struct engine_ops" \
	"test_engine_data_ops:entry start_task" "test_engine_foreign_ops:entry stop_task" \
	"environ:defined in" "no_such_ops:symbol not found"; do
	sym=${c%%:*}
	refused "ops_name=$sym" "ops_name $sym: ${c#*:}" "$(conf "ops-$sym.yaml" "$PLUGIN_DIR/test_engine.so" "$sym")"
done

check "the good plugin still loads" "$ETMEM" obj add -f "$good" -s "$SOCK"
check "obj del" "$ETMEM" obj del -f "$good" -s "$SOCK"
check "etmemd exits cleanly" stop_daemon
finish
