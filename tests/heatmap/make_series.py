#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Write a heatmap series in the daemon's format (etmem engine heatmap --json).

Usage: make_series.py accesses|residency > series.json

This host has no per-page access tracker (no page_idle, DAMON held by the
machine), so a series in "accesses" mode cannot be recorded here; this one
is laid out as the daemon's ring reports it (src/daemon/heatmap.c) with a
known answer: 24 cycles of 48 regions of 256 pages, regions 8..15 hot
(every page at 3 or 4 of max_count 4), 32..39 warm (1), the rest cold (0)
and, from cycle 6 on, swapped out. The same layout in "residency" mode has
the cold regions swapped and the others resident (accesses 0).
"""
import json
import sys

CYCLES, REGIONS, PAGES, MAX = 24, 48, 256, 4
BASE, PID = 0x7F0000000000, 4242


def region(mode, c, r):
    hot, warm = 8 <= r < 16, 32 <= r < 40
    cold_out = not (hot or warm) and c >= 6
    swapped = PAGES if cold_out else 0
    if mode == "residency":
        acc = 0
    elif hot:
        acc = PAGES * (3 + (c + r) % 2)
    elif warm:
        acc = PAGES
    else:
        acc = 0
    return {"cycle": 100 + c, "region": r, "pid": PID, "start_address": BASE + r * PAGES * 4096,
            "pages": PAGES, "resident_pages": PAGES - swapped, "swapped_pages": swapped, "accesses": acc}


def table(name, title, cols, rows):
    return {"name": name, "title": title, "time_unix_seconds": None,
            "columns": [{"name": n, "header": h} for n, h in cols], "rows": rows}


def main():
    mode = sys.argv[1] if len(sys.argv) == 2 else ""
    if mode not in ("accesses", "residency"):
        sys.exit(__doc__)
    cycles = [{"cycle": 100 + c, "time_unix_seconds": 1764600000 + 5 * c, "mode": mode,
               "max_count": MAX if mode == "accesses" else 0, "regions": REGIONS} for c in range(CYCLES)]
    regions = [region(mode, c, r) for c in range(CYCLES) for r in range(REGIONS)]
    note = ("accesses: the sum of the region's per-page access counts in the cycle" if mode == "accesses" else
            "residency: this backend counts no accesses per page; resident and swapped pages only "
            "(sampled from pagemap)")
    doc = {"schema_version": 1, "kind": "engine_command", "project": "demo", "engine": "slide",
           "task": "series", "command": "heatmap",
           "notes": ["backend: " + ("page_idle" if mode == "accesses" else "memcg_lru"), note],
           "tables": [table("heatmap_cycles", "cycles kept:",
                            [("cycle", "cycle"), ("time_unix_seconds", "time"), ("mode", "mode"),
                             ("max_count", "max_count"), ("regions", "regions")], cycles),
                      table("heatmap", "regions by cycle:",
                            [("cycle", "cycle"), ("region", "region"), ("pid", "pid"),
                             ("start_address", "start"), ("pages", "pages"), ("resident_pages", "resident"),
                             ("swapped_pages", "swapped"), ("accesses", "accesses")], regions)]}
    json.dump(doc, sys.stdout)
    print()


if __name__ == "__main__":
    main()
