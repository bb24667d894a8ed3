#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The real daemon's JSON documents against docs/etmem-output.schema.json
# (tests/json/check_json.py, python3-jsonschema): project show --json with a
# slide task before and after its cycles and with a third-party engine; a
# third-party engine's command refuses --json; the text output is unchanged.
. "$(dirname "$0")/lib.sh"

need_root
CHECK=(/usr/bin/python3 "$ETMEM_SOURCE_DIR/tests/json/check_json.py")
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema missing (scripts/install-deps.sh)"
install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
start_daemon

# json NAME ARGS...: etmem ARGS --json into $TMP/NAME.json, checked against the schema.
json() {
	local name=$1
	shift
	if ! "$ETMEM" "$@" --json -s "$SOCK" >"$TMP/$name.json" 2>"$TMP/$name.err"; then
		bad "$name: etmem $* --json failed: $(cat "$TMP/$name.err")"
		return 1
	fi
	check "$name: valid for the schema" "${CHECK[@]}" --kind "${KIND:-project_show}" "$TMP/$name.json" >/dev/null
}

# jq-less member access: py EXPR FILE prints EXPR of the document d.
py() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

json empty project show
check "no project: an empty list" test "$(py 'd["projects"]' "$TMP/empty.json")" = "[]"

test_memcg "etmem-test-json-$$"
start_workload --size 32M --hot-frac 0.25 --cgroup "$TEST_MEMCG"
conf=$(write_conf slide.conf <<EOF
[project]
name=js
loop=1
interval=1
sleep=1
[engine]
name=slide
project=js
[task]
project=js
engine=slide
name=wl
type=pid
value=$WL_PID
T=1
access_tracker=memcg_lru
EOF
)
plugin=$(write_conf plugin.conf <<EOF
[engine]
name=thirdparty
project=js
eng_name=tester
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
test_mode=ok
[task]
project=js
engine=tester
name=t1
type=name
value=sleep
test_start=ok
EOF
)
check "obj add slide" "$ETMEM" obj add -f "$conf" -s "$SOCK"
check "obj add thirdparty" "$ETMEM" obj add -f "$plugin" -s "$SOCK"
json stopped project show -n js
check "stopped: tasks without figures" test "$(py '[t["figures"] for e in d["projects"][0]["engines"] for t in e["tasks"]]' "$TMP/stopped.json")" = "[None, None]"

check "project start" "$ETMEM" project start -n js -s "$SOCK"
# Until a cycle ended, then one more document.
for _ in $(seq 1 60); do
	"$ETMEM" project show -n js --json -s "$SOCK" >"$TMP/started.json" || break
	[ "$(py 'd["projects"][0]["engines"][0]["tasks"][0]["figures"]["cycles"]' "$TMP/started.json")" -ge 1 ] && break
	sleep 0.5
done
json started project show -n js
check "started: slide's cycles counted" test "$(py 'd["projects"][0]["engines"][0]["tasks"][0]["figures"]["cycles"]' "$TMP/started.json")" -ge 1
check "started: slide's pid listed" test "$(py 'd["projects"][0]["engines"][0]["tasks"][0]["figures"]["processes"]["values"]' "$TMP/started.json")" = "[$WL_PID]"
check "started: last cycle in seconds" py 'float(d["projects"][0]["engines"][0]["tasks"][0]["figures"]["last_cycle_seconds"])' "$TMP/started.json"
check "thirdparty: no figures" test "$(py 'd["projects"][0]["engines"][1]["tasks"][0]["figures"]' "$TMP/started.json")" = None
check "thirdparty: type" test "$(py 'd["projects"][0]["engines"][1]["type"]' "$TMP/started.json")" = thirdparty
json all project show

# The text is what it was: the original's table, figures under the task.
text=$(show -n js)
check "text: the original's header" grep -q '^number   type     value            name             engine           started $' <<<"$text"
check "text: slide's figures" grep -q '^    cycles: [0-9]' <<<"$text"
if grep -q schema_version <<<"$text"; then bad "text: JSON in the text"; else ok "text: no JSON"; fi

err=$("$ETMEM" engine echo -n js -e tester -t t1 --json -s "$SOCK" 2>&1) && bad "plugin command with --json accepted" || true
check "plugin command refuses --json" grep -q 'has no JSON output: a third-party engine writes its own text' <<<"$err"
check "plugin command text still works" bash -c "[ \"\$('$ETMEM' engine echo -n js -e tester -t t1 -s '$SOCK')\" = t1 ]"

check "project stop" "$ETMEM" project stop -n js -s "$SOCK"
check "daemon alive" daemon_alive
stop_workload || bad "workload pages damaged"
finish
