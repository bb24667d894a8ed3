#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""A Senpai-style controller: the comparison point of the psi engine's
benchmark (bench/psi_run.sh). Written here, for the benchmark only.

Every INTERVAL seconds it reads the cumulative "some" stall time of the
cgroup's pressure file and turns the growth into a stall percentage of the
interval. Below the target it probes: it lowers the cgroup's memory limit by
up to MAX_PROBE of itself (less the closer the stall is to the target); at or
above the target it backs off: it raises the limit by up to MAX_BACKOFF of
itself (more the further above). The limit starts at the cgroup's usage and
stays within [MIN_SIZE, the limit the cgroup had].

  cgroup v2: the limit is memory.high (the kernel throttles and reclaims
             above it, no OOM kill).
  cgroup v1: there is no memory.high; the limit is memory.limit_in_bytes,
             a hard limit (reclaim is synchronous in the write; a cut the
             kernel cannot satisfy fails with EBUSY and the limit stays).

The limit the cgroup had is written back on exit (SIGTERM, SIGINT, the
end of --duration, or an error). Prints one JSON line with its parameters,
then one per interval (stdout).
"""
import argparse
import errno
import json
import os
import signal
import sys
import time

PAGE = 4096


def emit(obj):
    print(json.dumps(obj, separators=(",", ":")), flush=True)


def read(path):
    with open(path) as f:
        return f.read()


def some_total_us(path):
    for line in read(path).splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                k, _, v = field.partition("=")
                if k == "total":
                    return int(v)
    raise ValueError(f"{path}: no some total")


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1].upper()] if s[-1].upper() in mult else int(s)


class Controller:
    def __init__(self, a):
        self.a = a
        self.v2 = os.path.exists(os.path.join(a.memcg, "memory.current"))
        self.knob = os.path.join(a.memcg, "memory.high" if self.v2 else "memory.limit_in_bytes")
        self.usage_file = os.path.join(a.memcg, "memory.current" if self.v2 else "memory.usage_in_bytes")
        self.orig = read(self.knob).strip()
        self.max_size = (1 << 63) if self.orig == "max" else int(self.orig)
        self.limit = None

    def usage(self):
        return int(read(self.usage_file))

    def write_limit(self, v):
        """0, or the errno of a refused write (v1: EBUSY when the kernel cannot reclaim enough)."""
        try:
            with open(self.knob, "w") as f:
                f.write(str(v))
            return 0
        except OSError as e:
            return e.errno

    def restore(self):
        self.write_limit(self.orig)

    def params(self):
        a = self.a
        return {"bench": "senpai_params", "knob": os.path.basename(self.knob), "cgroup": a.memcg,
                "pressure_file": a.pressure, "interval_s": a.interval, "target_stall_pct": a.target_pct,
                "max_probe": a.max_probe, "max_backoff": a.max_backoff, "coeff_probe": a.coeff_probe,
                "coeff_backoff": a.coeff_backoff, "min_size": a.min_size, "orig_limit": self.orig}

    def step(self, stall_pct):
        """The next limit from the stall of the last interval."""
        a = self.a
        if stall_pct < a.target_pct:
            err = (a.target_pct - stall_pct) / a.target_pct
            adj = -min(a.max_probe, err / a.coeff_probe)
        else:
            err = (stall_pct - a.target_pct) / a.target_pct
            adj = min(a.max_backoff, err / a.coeff_backoff)
        new = int(self.limit * (1 + adj)) // PAGE * PAGE
        return max(a.min_size, min(self.max_size, new)), adj

    def run(self):
        a = self.a
        emit(self.params())
        self.limit = self.usage() // PAGE * PAGE
        t_last, tot_last = time.monotonic(), some_total_us(a.pressure)
        t_end = t_last + a.duration if a.duration else None
        while t_end is None or time.monotonic() < t_end:
            time.sleep(a.interval)
            t, tot = time.monotonic(), some_total_us(a.pressure)
            stall_pct = (tot - tot_last) / ((t - t_last) * 1e6) * 100
            t_last, tot_last = t, tot
            new, adj = self.step(stall_pct)
            t0 = time.monotonic()
            e = self.write_limit(new) if new != self.limit else 0
            if e == 0:
                self.limit = new
            elif e not in (errno.EBUSY, errno.EAGAIN):
                raise OSError(e, os.strerror(e), self.knob)
            emit({"t": round(t, 3), "stall_pct": round(stall_pct, 4), "adj": round(adj, 5), "limit": self.limit,
                  "usage": self.usage(), "busy": e != 0, "write_s": round(time.monotonic() - t0, 4)})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--memcg", required=True, help="the memory cgroup directory (v1 or v2)")
    p.add_argument("--pressure", required=True, help="its memory.pressure (v1: the cgroup2 twin's)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between adjustments (2)")
    p.add_argument("--target-pct", type=float, default=0.1,
                   help="stall target, percent of the interval some task stalled on memory (0.1, as psi's "
                        "pressure default)")
    p.add_argument("--max-probe", type=float, default=0.02, help="largest cut per interval, of the limit (0.02)")
    p.add_argument("--max-backoff", type=float, default=1.0, help="largest raise per interval (1.0)")
    p.add_argument("--coeff-probe", type=float, default=10.0, help="probe = (target-stall)/target/COEFF (10)")
    p.add_argument("--coeff-backoff", type=float, default=20.0, help="backoff = (stall-target)/target/COEFF (20)")
    p.add_argument("--min-size", type=parse_size, default=100 << 20, help="never below this (100M)")
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: at SIGTERM)")
    a = p.parse_args()
    c = Controller(a)

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        c.run()
    finally:
        c.restore()


if __name__ == "__main__":
    sys.exit(main())
