#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The heatmap drawing on a series in the daemon's format with a known answer
# (make_series.py; the real daemon's are drawn by
# tests/integration/test_heatmap.sh): etmem-heatmap writes PNG and SVG; the
# PNG decodes (cairo's reader, check-heatmap-picture) with the size it
# claims and hot regions brighter than cold ones; the SVG parses as XML;
# bad input is refused with a message naming what is wrong.
. "$(dirname "$0")/../lib/etm.sh"
set -euo pipefail

: "${ETMEM_BIN_DIR:?}" "${ETMEM_SOURCE_DIR:?}"
PY=${PYTHON3:-/usr/bin/python3}
DRAW="$ETMEM_BIN_DIR/etmem-heatmap"
CHECK="$ETMEM_BIN_DIR/check-heatmap-picture"
TMP=$(mktemp -d /tmp/etmem-heatmap.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

for mode in accesses residency; do
	"$PY" "$ETMEM_SOURCE_DIR/tests/heatmap/make_series.py" "$mode" >"$TMP/$mode.json"
	check "$mode: the series is valid for the schema" \
		"$PY" "$ETMEM_SOURCE_DIR/tests/json/check_json.py" --kind engine_command "$TMP/$mode.json"
	out=$("$DRAW" "$TMP/$mode.json" "$TMP/$mode.png") || bad "$mode: etmem-heatmap PNG failed"
	check "$mode: says what it wrote" grep -Eq "^wrote $TMP/$mode.png \([0-9]+x[0-9]+\)$" <<<"$out"
	check "$mode: PNG decodes, its size, hot brighter than cold" "$CHECK" "$TMP/$mode.json" "$TMP/$mode.png"
	size=$(sed -E 's/.*\(([0-9]+)x([0-9]+)\)$/\1 \2/' <<<"$out")
	check "$mode: PNG header says $size" test "$("$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read(24)
assert b[:8] == b"\x89PNG\r\n\x1a\n"
print(*struct.unpack(">II", b[16:24]))' "$TMP/$mode.png")" = "$size"
	check "$mode: SVG written" "$DRAW" "$TMP/$mode.json" "$TMP/$mode.svg"
	check "$mode: SVG parses as XML, an svg of $size" "$PY" -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
w, h = sys.argv[2].split()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
assert root.get("width").removesuffix("pt") == w and root.get("height").removesuffix("pt") == h, root.attrib
assert len(list(root.iter())) > 100, "too few elements for a heatmap"' "$TMP/$mode.svg" "$size"
done
check "stdin: - reads the series" bash -c "'$DRAW' - '$TMP/stdin.png' <'$TMP/accesses.json' && cmp -s '$TMP/stdin.png' '$TMP/accesses.png'"

# The checker itself fails a picture that does not show the series.
"$PY" - "$TMP/accesses.json" "$TMP/flipped.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["tables"][1]["rows"]:
    r["accesses"] = 4 * r["pages"] - r["accesses"]  # hot and cold swapped
json.dump(d, open(sys.argv[2], "w"))
PY
if "$CHECK" "$TMP/flipped.json" "$TMP/accesses.png" >/dev/null 2>"$TMP/err"; then
	bad "checker: a picture of another series passed"
else
	check "checker: a picture of another series fails" grep -q "hot cells are not brighter than cold ones" "$TMP/err"
fi

# --hot/--cold: the workload's ranges (regions 8..15 hot, 40..47 cold; 1 MiB each from 0x7f0000000000).
HOT=(--hot 0x7f0000800000-0x7f0001000000 --cold 0x7f0002800000-0x7f0003000000)
check "ranges: the hot range brighter than the cold" "$CHECK" "$TMP/accesses.json" "$TMP/accesses.png" "${HOT[@]}"
if "$CHECK" "$TMP/accesses.json" "$TMP/accesses.png" --hot 0x7f0002800000-0x7f0003000000 \
	--cold 0x7f0000800000-0x7f0001000000 >/dev/null 2>"$TMP/err"; then
	bad "ranges: swapped ranges passed"
else
	check "ranges: swapped ranges fail" grep -q "the hot range has no more accesses per page than the cold" "$TMP/err"
fi
if "$CHECK" "$TMP/residency.json" "$TMP/residency.png" "${HOT[@]}" >/dev/null 2>"$TMP/err"; then
	bad "ranges: a residency series passed"
else
	check "ranges: need accesses mode" grep -q "residency mode, not accesses" "$TMP/err"
fi
if "$CHECK" "$TMP/accesses.json" "$TMP/accesses.png" --hot 0x7f0000800000-0x7f0000900000 \
	--cold 0x7f0000800001-0x7f0000900000 >/dev/null 2>"$TMP/err"; then
	bad "ranges: an empty cold range passed"
else
	check "ranges: a range without a whole region fails" grep -q "no region lies wholly in the cold range" "$TMP/err"
fi
check "ranges: --hot without --cold is a usage error" bash -c "'$CHECK' '$TMP/accesses.json' '$TMP/accesses.png' --hot 1-2; [ \$? = 2 ]"

# refuse FILE MESSAGE NAME: etmem-heatmap fails on FILE, saying MESSAGE, and writes nothing.
refuse() {
	if "$DRAW" "$1" "$TMP/bad.png" 2>"$TMP/err"; then
		bad "$3: accepted"
	else
		check "$3: $2" grep -q "$2" "$TMP/err"
	fi
	check "$3: no picture" test ! -e "$TMP/bad.png"
}
echo '{"schema_version": 1' >"$TMP/trunc.json"
refuse "$TMP/trunc.json" "not JSON" "truncated document"
echo '{"schema_version": 2, "tables": []}' >"$TMP/v2.json"
refuse "$TMP/v2.json" "not an etmem JSON document of schema version 1" "schema version 2"
"$PY" "$ETMEM_SOURCE_DIR/tests/heatmap/make_series.py" accesses | sed 's/"region": 47,/"region": 48,/' >"$TMP/range.json"
refuse "$TMP/range.json" "region 48 is not in heatmap_cycles" "region out of range"
"$PY" "$ETMEM_SOURCE_DIR/tests/heatmap/make_series.py" accesses | sed 's/"pages": 256,/"pages": -1,/' >"$TMP/neg.json"
refuse "$TMP/neg.json" "heatmap row 0 is not a region" "negative pages"
if "$DRAW" "$TMP/accesses.json" "$TMP/out.jpg" 2>"$TMP/err"; then bad ".jpg accepted"; else
	check ".jpg refused" grep -q "out.jpg: the picture's name must end in .png or .svg" "$TMP/err"
fi
if "$DRAW" "$TMP/accesses.json" "$TMP/no/such/dir/h.png" 2>"$TMP/err"; then bad "a picture in a missing directory"; else
	check "missing directory: cannot write, says where" grep -q "cannot write $TMP/no/such/dir/h.png" "$TMP/err"
fi
echo old >"$TMP/keep.png"
"$PY" "$ETMEM_SOURCE_DIR/tests/heatmap/make_series.py" accesses | sed 's/"pages": 256,/"pages": -1,/' >"$TMP/neg.json"
"$DRAW" "$TMP/neg.json" "$TMP/keep.png" 2>/dev/null && bad "broken series drawn over a picture"
check "a failed drawing leaves the old picture and no temporary file" \
	bash -c "[ \"\$(cat '$TMP/keep.png')\" = old ] && [ -z \"\$(ls '$TMP' | grep tmp-)\" ]"
finish
