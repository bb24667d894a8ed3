#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# heatmap-in-vm.sh ETMEM_HEATMAP CHECKER CHECK_JSON_PY -- RIG ARGS...: run the
# rig command (guest/slide_heatmap.sh: a slide task with page_idle, the
# per-page tracker this host lacks), take the heatmap series it prints
# between markers, check it against the JSON schema, draw it here with
# etmem-heatmap (the guest's static client has no cairo) and check the
# picture with check-heatmap-picture: the newest cycle's order by accesses,
# and the workload's hot range brighter than its cold range. A PNG the guest
# drew itself, when its client can, is checked the same way.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/etm.sh"
[ $# -ge 5 ] && [ "$4" = -- ] || { echo "usage: heatmap-in-vm.sh ETMEM_HEATMAP CHECKER CHECK_JSON_PY -- RIG ARGS..." >&2; exit 2; }
DRAW=$1 CHECK=$2 SCHEMA=$3
shift 4
TMP=$(mktemp -d /tmp/etmem-vm-heatmap.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$@" >"$TMP/guest.txt"
rc=$?
tr -d '\r' <"$TMP/guest.txt" >"$TMP/out.txt"
# The guest's output without the series and the picture.
sed '/^=== heatmap \(series\|png\) begin ===$/,/^=== heatmap \(series\|png\) end ===$/d' "$TMP/out.txt"
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { echo "FAIL: the guest test failed (status $rc)"; exit 1; }

between() { sed -n "/^=== heatmap $1 begin ===\$/,/^=== heatmap $1 end ===\$/p" "$TMP/out.txt" | sed '1d;$d'; }
between series >"$TMP/series.json"
hot=$(sed -n 's/^heatmap hot range: //p' "$TMP/out.txt")
cold=$(sed -n 's/^heatmap cold range: //p' "$TMP/out.txt")
check "the guest printed the series" test -s "$TMP/series.json"
check "the guest printed the ranges (hot $hot, cold $cold)" test -n "$hot" -a -n "$cold"
check "series: valid for the schema" /usr/bin/python3 "$SCHEMA" --kind engine_command "$TMP/series.json"
check "series: taken with page_idle" grep -q '"backend: page_idle' "$TMP/series.json"
out=$("$DRAW" "$TMP/series.json" "$TMP/heatmap.png") || bad "etmem-heatmap could not draw the guest's series"
echo "$out"
check "drawn here: decodes, its size, the most accessed third brighter, the hot range brighter than the cold" \
	"$CHECK" "$TMP/series.json" "$TMP/heatmap.png" --hot "$hot" --cold "$cold"
if grep -q '^=== heatmap png begin ===$' "$TMP/out.txt"; then
	between png | base64 -d >"$TMP/guest.png"
	check "drawn in the guest: the same checks" "$CHECK" "$TMP/series.json" "$TMP/guest.png" --hot "$hot" --cold "$cold"
fi
[ -z "${ETMEM_VM_HEATMAP_KEEP:-}" ] || { cp "$TMP/series.json" "$TMP/heatmap.png" "$ETMEM_VM_HEATMAP_KEEP/" && echo "kept in $ETMEM_VM_HEATMAP_KEEP"; }
finish
