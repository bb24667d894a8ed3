#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# etmem engine heatmap against the real daemon: a slide task (memcg_lru, the
# tracker this host has: residency mode) runs a few cycles over a workload
# with a hot quarter; the heatmap is asked for as text, --json (against the
# schema), -o PNG and -o SVG. The PNG is decoded by cairo's reader
# (check-heatmap-picture): the size it claims, and resident regions
# brighter than swapped-out ones; the SVG parses as XML with the same size.
# -o refusals: on another command, with --json, with a name that is neither
# .png nor .svg (before asking the daemon), and of a stopped project. In
# a build without cairo: that -o says so.
. "$(dirname "$0")/lib.sh"

need_root
CHECK_PICTURE="$ETMEM_BIN_DIR/check-heatmap-picture"
if [ ! -x "$CHECK_PICTURE" ]; then
	# A build without cairo: -o says so, before asking any daemon.
	err=$("$ETMEM" engine heatmap -n hm -e slide -t wl -s "$SOCK" -o "$TMP/h.png" 2>&1) && bad "-o drew without cairo" ||
		check "without cairo: -o says so" grep -q "this etmem was built without cairo" <<<"$err"
	finish
	exit
fi
need_swap
CHECK_JSON=(/usr/bin/python3 "$ETMEM_SOURCE_DIR/tests/json/check_json.py" --kind engine_command)
start_daemon

test_memcg "etmem-test-heatmap-$$"
start_workload --size 64M --hot-frac 0.25 --cgroup "$TEST_MEMCG"
conf=$(write_conf slide.conf <<EOF
[project]
name=hm
loop=1
interval=1
sleep=1
[engine]
name=slide
project=hm
[task]
project=hm
engine=slide
name=wl
type=pid
value=$WL_PID
T=1
access_tracker=memcg_lru
EOF
)
check "obj add" "$ETMEM" obj add -f "$conf" -s "$SOCK"
HM=(engine heatmap -n hm -e slide -t wl -s "$SOCK")

err=$("$ETMEM" "${HM[@]}" -o "$TMP/early.png" 2>&1) && bad "a heatmap of a stopped project" ||
	check "stopped project: says so" grep -q "project hm is not started" <<<"$err"
check "no picture written then" test ! -e "$TMP/early.png"
err=$("$ETMEM" "${HM[@]}" -o "$TMP/h.jpg" 2>&1) && bad "-o h.jpg accepted" ||
	check "-o needs .png or .svg" grep -q "h.jpg: the picture's name must end in .png or .svg" <<<"$err"
err=$("$ETMEM" "${HM[@]}" -o "$TMP/h.png" --json 2>&1) && bad "-o with --json accepted" ||
	check "-o excludes --json" grep -q "options -o|--output and --json exclude each other" <<<"$err"
err=$("$ETMEM" project show -s "$SOCK" -o "$TMP/h.png" 2>&1) && bad "-o on project show accepted" ||
	check "-o refused on project show" grep -q "unrecognized option '-o' for 'project show'" <<<"$err"
err=$("$ETMEM" engine showtaskpages -n hm -e slide -t wl -s "$SOCK" -o "$TMP/h.png" 2>&1) && bad "-o on showtaskpages accepted" ||
	check "-o refused on another engine command" grep -q "option -o|--output is for 'engine heatmap' only" <<<"$err"

check "project start" "$ETMEM" project start -n hm -s "$SOCK"
# Until the task ran a few cycles and has regions both all resident and all
# swapped out. Not in a sanitizer build: ASan's shadow, terabytes of
# anonymous reservation in the workload, is most of what the regions cut,
# so no region is all anything; there the picture is checked for decoding
# and size, and the brightness order only where the series has one.
SANITIZED=0
grep -q '^ETMEM_SANITIZE:BOOL=ON$' "$ETMEM_BUILD_DIR/CMakeCache.txt" && SANITIZED=1
FLAT=()
((SANITIZED)) && FLAT=(--allow-flat) && echo "note: sanitizer build: the hot/cold order of the picture is not required"
ready() {
	/usr/bin/python3 - "$1" "$SANITIZED" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["name"]: x["rows"] for x in d["tables"]}
last = t["heatmap_cycles"][-1]["cycle"]
rows = [r for r in t["heatmap"] if r["cycle"] == last]
full = lambda r, k: r["pages"] and r[k] >= 0.9 * r["pages"]
sys.exit(0 if len(t["heatmap_cycles"]) >= 4 and (sys.argv[2] == "1" or (any(full(r, "swapped_pages") for r in rows)
         and any(full(r, "resident_pages") for r in rows))) else 1)
PY
}
for _ in $(seq 1 120); do
	"$ETMEM" "${HM[@]}" --json >"$TMP/series.json" 2>/dev/null && ready "$TMP/series.json" && break
	sleep 0.5
done
check "heatmap --json: valid for the schema" "${CHECK_JSON[@]}" "$TMP/series.json"
check "heatmap --json: 4 cycles, resident and swapped-out regions" ready "$TMP/series.json"
check "heatmap --json: residency mode (memcg_lru counts no accesses)" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["name"]: x["rows"] for x in d["tables"]}
sys.exit(not (all(c["mode"] == "residency" for c in t["heatmap_cycles"])
              and all(r["accesses"] == 0 for r in t["heatmap"]) and "backend: memcg_lru" in d["notes"]))' "$TMP/series.json"
check "heatmap text: the tables' titles" bash -c "'$ETMEM' ${HM[*]} | grep -q '^regions by cycle:'"

# The recorded series, drawn where it was taken or elsewhere (etmem-heatmap).
check "recorded series: drawn by etmem-heatmap" "$ETMEM_BIN_DIR/etmem-heatmap" "$TMP/series.json" "$TMP/rec.png"
check "recorded series: PNG decodes, its size, resident brighter than swapped out" \
	"$CHECK_PICTURE" "$TMP/series.json" "$TMP/rec.png" "${FLAT[@]}"

# -o: the daemon's series at that moment. The checker needs that very series:
# a --json before and after the picture, until no cycle ended in between.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	"$ETMEM" "${HM[@]}" --json >"$TMP/before.json"
	out=$("$ETMEM" "${HM[@]}" -o "$TMP/h.png") || bad "engine heatmap -o h.png failed"
	"$ETMEM" "${HM[@]}" --json >"$TMP/now.json"
	cmp -s "$TMP/before.json" "$TMP/now.json" && break
done
check "-o: one series around the picture" cmp -s "$TMP/before.json" "$TMP/now.json"
check "-o: says what it wrote" grep -Eq "^wrote $TMP/h.png \([0-9]+x[0-9]+\)$" <<<"$out"
check "-o PNG: decodes, its size, resident brighter than swapped out" "$CHECK_PICTURE" "$TMP/now.json" "$TMP/h.png" "${FLAT[@]}"
size=$(sed -E 's/.*\(([0-9]+)x([0-9]+)\)$/\1 \2/' <<<"$out")
check "-o PNG: the size it claims ($size)" test "$(/usr/bin/python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(24)
print(*struct.unpack(">II", b[16:24]))' "$TMP/h.png")" = "$size"

out=$("$ETMEM" "${HM[@]}" -o "$TMP/h.svg") || bad "engine heatmap -o h.svg failed"
check "-o SVG: says what it wrote" grep -q "^wrote $TMP/h.svg (${size/ /x})$" <<<"$out"
check "-o SVG: parses as XML, an svg of the claimed size" /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
w, h = sys.argv[2].split()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
assert root.get("width").removesuffix("pt") == w and root.get("height").removesuffix("pt") == h, root.attrib
assert len(list(root.iter())) > 100, "too few elements for a heatmap"' "$TMP/h.svg" "$size"

check "project stop" "$ETMEM" project stop -n hm -s "$SOCK"
check "daemon alive" daemon_alive
stop_workload || bad "workload pages damaged"
finish
