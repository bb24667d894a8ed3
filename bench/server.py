#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Measurement part of bench/server.sh (issue #10), which sets up swap, the
memory cgroup and the lock, and removes them. One JSON line per result on
stdout, progress on stderr. Kills every process it starts, also on failure.

Scenario, once per engine (etmem, then DAMOS where DAMON is free), each on a
fresh server:
  - redis-server in the sibling memory cgroup, KEYS values loaded in key
    order (the first HOT_FRAC of the keys share pages with each other only);
  - the open-loop client reading the hot keys at RATE requests/s;
  - W0 "without": WINDOW s before the engine ever ran;
  - the pass: the engine from its start until the idle part is out
    (swap >= 95 % of it, or no growth for 10 s; at most --pass-max s);
  - ROUNDS pairs of WINDOW s windows, engine running and engine stopped,
    the running window first in odd rounds and second in even ones (what
    the pass leaves behind, or a drift, is not charged to one side).
Each window records the client's latencies (from the intended send time),
the memcg's memory.stat deltas, the daemon's CPU, and with --perf the
kernel's reclaim tracepoints by context (the server's own threads, the
daemon's, anyone else's) and the server's TLB flushes and major faults.
"""
import argparse
import bisect
import json
import os
import re
import signal
import subprocess
import sys
import time
from array import array

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import DAMON, cpu_seconds, emit, kdamonds, log, read, stop_procs, threads_cpu_seconds  # noqa: E402
from stats import latency_summary, pct, pct_low, ratio  # noqa: E402

PERF_EVENTS = ["vmscan:mm_vmscan_memcg_reclaim_begin", "vmscan:mm_vmscan_memcg_reclaim_end",
               "vmscan:mm_vmscan_lru_shrink_inactive", "vmscan:mm_vmscan_lru_shrink_active"]
STAT_KEYS = ["pgmajfault", "pgfault", "workingset_refault_anon", "pgpgin", "pgpgout"]
# The reference: DAMOS pageout on this scenario on this machine kind.
DAMOS_REF_CPU = 0.098


def stat_all(memcg_dir):
    """memory.stat as a dict; v1's hierarchical total_KEY replaces KEY."""
    own, tot = {}, {}
    for line in (read(f"{memcg_dir}/memory.stat", "") or "").splitlines():
        k, _, v = line.partition(" ")
        try:
            (tot if k.startswith("total_") else own)[k.removeprefix("total_")] = int(v)
        except ValueError:
            pass
    own.update(tot)
    return own


def lat_summary(pairs):
    return latency_summary(x for _, x in pairs)


def sched_ns(pid):
    """(on-CPU ns, runqueue-wait ns) summed over a process's threads (schedstat)."""
    run = wait = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for t in tids:
        f = (read(f"/proc/{pid}/task/{t}/schedstat", "") or "").split()
        if len(f) >= 2:
            run, wait = run + int(f[0]), wait + int(f[1])
    return run, wait


def overlaps(iv_starts, iv_ends, a, b):
    """Does [a, b] meet one of the sorted, disjoint intervals?"""
    i = bisect.bisect_right(iv_starts, b) - 1
    return i >= 0 and iv_ends[i] >= a


def attribute(pairs, ivs, faults, win0, win1):
    """What the slowest requests (above the window's p99) ran into: the fraction
    of them in flight while the daemon (or the server itself) was in memcg
    reclaim, and the server's major faults while they were in flight; each
    against the same requests shifted in time by 10 offsets (wrapping in the
    window), which is what chance alone gives for requests that long."""
    if not pairs or win1 <= win0:
        return {}
    merged = []
    for a, b in sorted(ivs):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    st, en = [a for a, _ in merged], [b for _, b in merged]
    span = win1 - win0
    duty = sum(min(b, win1) - max(a, win0) for a, b in merged if b > win0 and a < win1) / span
    thr = pct(sorted(x for _, x in pairs), 0.99)
    slow = [(t, x) for t, x in pairs if x >= thr]

    def stats(shift):
        ov = mf = 0
        for t, x in slow:
            t = win0 + (t - win0 + shift) % span
            ov += overlaps(st, en, t, t + x)
            mf += bisect.bisect_right(faults, t + x) - bisect.bisect_left(faults, t)
        return ov / len(slow), mf / len(slow)

    real = stats(0)
    chance = [stats(span * (k + 0.5) / 10.5) for k in range(10)]
    return {"slow_threshold_us": round(thr / 1e3, 1), "slow_n": len(slow), "reclaim_duty": round(duty, 4),
            "slow_in_reclaim": round(real[0], 4),
            "slow_in_reclaim_by_chance": round(sum(c[0] for c in chance) / len(chance), 4),
            "slow_majflt": round(real[1], 2),
            "slow_majflt_by_chance": round(sum(c[1] for c in chance) / len(chance), 2)}


def tlb_shootdowns():
    for line in (read("/proc/interrupts", "") or "").splitlines():
        f = line.split()
        if f and f[0] == "TLB:":
            return sum(int(x) for x in f[1:] if x.isdigit())
    return None


def steal_s():
    """CPU time the hypervisor took from this machine, all CPUs (/proc/stat's steal), in seconds."""
    for line in (read("/proc/stat", "") or "").splitlines():
        f = line.split()
        if f and f[0] == "cpu" and len(f) > 8:
            return int(f[8]) / os.sysconf("SC_CLK_TCK")
    return None


# A window whose CPUs were stolen for more than this share of its time (per CPU)
# is the hypervisor's, not etmem's: the bench also reports the ratios of the
# rounds whose two windows both stayed below it.
STEAL_QUIET = 0.01


class Perf:
    """Per window: reclaim tracepoints system-wide, the server's own counters."""

    def __init__(self, tmp, srv_pid):
        self.tmp, self.srv_pid, self.rec, self.stat = tmp, srv_pid, None, None

    def start(self, name):
        self.data, self.out = f"{self.tmp}/perf-{name}.data", f"{self.tmp}/perf-{name}.stat"
        ev = sum((["-e", e] for e in PERF_EVENTS), [])
        # CLOCK_MONOTONIC: the client's send times are on the same clock
        self.rec = subprocess.Popen(["perf", "record", "-q", "-a", "-k", "CLOCK_MONOTONIC", "-o", self.data, *ev],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.fdata = f"{self.tmp}/perf-{name}-flt.data"
        self.flt = subprocess.Popen(["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-o", self.fdata,
                                     "-e", "major-faults", "-c", "1", "-p", str(self.srv_pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # reason 1 = TLB_REMOTE_SHOOTDOWN: a flush IPI handled while the server ran
        self.stat = subprocess.Popen(["perf", "stat", "-x,", "-o", self.out, "-p", str(self.srv_pid),
                                      "-e", "major-faults,minor-faults,task-clock",
                                      "-e", "tlb:tlb_flush", "--filter", "reason==1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, etmemd_pid):
        for p in (self.rec, self.stat, self.flt):
            p.send_signal(signal.SIGINT)
        for p in (self.rec, self.stat, self.flt):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        res = {"server": self.counters()}
        res.update(self.reclaim(etmemd_pid))
        r = subprocess.run(["perf", "script", "-i", self.fdata, "-F", "time"], capture_output=True, text=True)
        self.faults = sorted(int(float(x.strip().rstrip(":")) * 1e9) for x in r.stdout.split() if x.strip())
        for f in (self.data, self.out, self.fdata):
            try:
                os.unlink(f)
            except OSError:
                pass
        return res

    def counters(self):
        out = {}
        for line in (read(self.out, "") or "").splitlines():
            f = line.split(",")
            if len(f) > 3 and f[0] and not line.startswith("#"):
                name = {"tlb:tlb_flush": "tlb_remote_shootdowns", "task-clock": "cpu_ms"}.get(f[2], f[2])
                try:
                    out[name] = float(f[0])
                except ValueError:
                    out[name] = None
        return out

    def reclaim(self, etmemd_pid):
        """Reclaim calls, time and pages by context: the server, etmemd, others."""
        r = subprocess.run(["perf", "script", "-i", self.data, "-F", "pid,tid,time,event,trace"],
                           capture_output=True, text=True)
        groups = {}
        begin = {}
        self.intervals = {"server": [], "etmemd": [], "other": []}  # memcg reclaims, ns
        pat = re.compile(r"\s*(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)")
        for line in r.stdout.splitlines():
            m = pat.match(line)
            if not m:
                continue
            pid, tid, t, ev, args = int(m[1]), int(m[2]), float(m[3]), m[4], m[5]
            who = "server" if pid == self.srv_pid else "etmemd" if pid == etmemd_pid else "other"
            g = groups.setdefault(who, {"memcg_reclaims": 0, "reclaim_ms": 0.0, "reclaim_max_ms": 0.0,
                                        "scanned": 0, "reclaimed": 0, "deactivated": 0})
            if ev.endswith("memcg_reclaim_begin"):
                begin[tid] = t
                g["memcg_reclaims"] += 1
            elif ev.endswith("memcg_reclaim_end") and tid in begin:
                t0 = begin.pop(tid)
                self.intervals[who].append((int(t0 * 1e9), int(t * 1e9)))
                d = (t - t0) * 1e3
                g["reclaim_ms"] += d
                g["reclaim_max_ms"] = max(g["reclaim_max_ms"], d)
            elif ev.endswith("lru_shrink_inactive"):
                kv = dict(x.split("=", 1) for x in args.split() if "=" in x)
                g["scanned"] += int(kv.get("nr_scanned", 0))
                g["reclaimed"] += int(kv.get("nr_reclaimed", 0))
            elif ev.endswith("lru_shrink_active"):
                kv = dict(x.split("=", 1) for x in args.split() if "=" in x)
                g["deactivated"] += int(kv.get("nr_deactivated", 0))
        for g in groups.values():
            g["reclaim_ms"] = round(g["reclaim_ms"], 3)
            g["reclaim_max_ms"] = round(g["reclaim_max_ms"], 3)
        return {"reclaim": groups}


class Etmem:
    """etmemd with one slide project on the server's pid."""

    def __init__(self, b):
        self.b, self.a = b, b.a
        self.sock = f"etmem-bench-srv-{os.getpid()}"
        self.proc = None
        self.kd_pid = None

    def ctl(self, *args):
        r = subprocess.run([f"{self.a.bin}/etmem", *args, "-s", self.sock], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    def start(self):
        self.log = f"{self.a.tmp}/etmemd.log"
        self.proc = self.b.spawn([f"{self.a.bin}/etmemd", "-l", "1", "-s", self.sock], self.log)
        for _ in range(50):
            if self.ctl("project", "show")[0] == 0:
                break
            time.sleep(0.1)
        conf = f"{self.a.tmp}/server.conf"
        tracker = "" if self.a.tracker == "auto" else f"access_tracker={self.a.tracker}\n"
        with open(conf, "w") as f:
            f.write(f"[project]\nname=srv\nloop={self.a.loop}\ninterval={self.a.interval}\n"
                    f"sleep={self.a.sleep}\n[engine]\nname=slide\nproject=srv\n[task]\nproject=srv\n"
                    f"engine=slide\nname=server\ntype=pid\nvalue={self.b.srv.pid}\nT={self.a.T}\n{tracker}")
        os.chmod(conf, 0o600)
        rc, out = self.ctl("obj", "add", "-f", conf)
        if rc:
            raise RuntimeError(f"etmem obj add: {out.strip()}")

    def on(self):
        rc, out = self.ctl("project", "start", "-n", "srv")
        if rc:
            raise RuntimeError(f"etmem project start: {out.strip()} / {open(self.log).read()[-400:]}")

    def off(self):
        self.ctl("project", "stop", "-n", "srv")

    def cpu(self):
        c = threads_cpu_seconds(self.proc.pid) or 0.0
        if self.kd_pid is None:
            for _, state, pid, paths in kdamonds():
                if state == "on" and self.a.memcg_path in paths:
                    self.kd_pid = int(pid)
        return c + ((cpu_seconds(self.kd_pid) or 0.0) if self.kd_pid else 0.0)

    def pid(self):
        return self.proc.pid

    def log_pos(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def log_summary(self, pos):
        """memcg_lru's reclaims since @pos of the log: count, cuts, MiB swapped, seconds."""
        with open(self.log, errors="replace") as f:
            f.seek(pos)
            text = f.read()
        pat = re.compile(r"asked (\d+) MiB in (\d+) steps.*swapped (\d+) MiB in ([\d.]+) s")
        got = [tuple(map(float, m.groups())) for m in pat.finditer(text)]
        return {"reclaims": len(got), "cuts": int(sum(g[1] for g in got)),
                "swapped_mib": int(sum(g[2] for g in got)), "reclaim_s": round(sum(g[3] for g in got), 3)}

    def describe(self):
        show = self.ctl("project", "show")[1]
        m = re.search(r"backend: (.*)", show)
        return {"engine": "etmem", "backend": m[1].strip() if m else None,
                "config": {"loop": self.a.loop, "interval": self.a.interval, "sleep": self.a.sleep,
                           "T": self.a.T, "tracker": self.a.tracker}}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.off()
            self.proc.terminate()
            self.proc.wait(timeout=30)


class Damos:
    """Our own kdamond with one DAMOS paddr pageout scheme for the server's memcg.

    Only ever used when DAMON is free (nr_kdamonds 0): kdamonds we did not
    create are never written to. The recipe of host-kernel-facilities.md.
    """

    def __init__(self, b):
        self.b, self.a, self.made = b, b.a, False

    @staticmethod
    def busy():
        if not os.path.isdir(DAMON):
            return "no DAMON sysfs interface (CONFIG_DAMON_SYSFS)"
        n = int(read(f"{DAMON}/nr_kdamonds", "0") or 0)
        if n:
            held = [f"kdamond {i} ({state}, pid {pid})" for i, state, pid, _ in kdamonds()]
            return (f"DAMON is held: {', '.join(held) or f'{n} kdamonds'} not created by this benchmark; "
                    "kdamonds can only be added while none runs")
        return None

    def w(self, rel, val):
        with open(f"{DAMON}/{rel}", "w") as f:
            f.write(str(val))

    def system_ram(self):
        out = []
        for line in (read("/proc/iomem", "") or "").splitlines():
            if not line.startswith(" ") and line.rstrip().endswith(": System RAM"):
                lo, hi = line.split(":")[0].strip().split("-")
                out.append((int(lo, 16), int(hi, 16) + 1))
        return out

    def start(self):
        ram = self.system_ram()
        if not ram or all(hi <= 1 for _, hi in ram):
            raise RuntimeError("/proc/iomem shows no System RAM addresses (run as root)")
        self.w("nr_kdamonds", 1)
        self.made = True
        k, c = "0", "0/contexts/0"
        self.w(f"{k}/contexts/nr_contexts", 1)
        self.w(f"{c}/operations", "paddr")
        for f, v in (("sample_us", 5000), ("aggr_us", 100000), ("update_us", 1000000)):
            self.w(f"{c}/monitoring_attrs/intervals/{f}", v)
        self.w(f"{c}/monitoring_attrs/nr_regions/min", 10)
        self.w(f"{c}/monitoring_attrs/nr_regions/max", 1000)
        self.w(f"{c}/targets/nr_targets", 1)
        self.w(f"{c}/targets/0/regions/nr_regions", len(ram))
        for i, (lo, hi) in enumerate(ram):
            self.w(f"{c}/targets/0/regions/{i}/start", lo)
            self.w(f"{c}/targets/0/regions/{i}/end", hi)
        s = f"{c}/schemes/0"
        self.w(f"{c}/schemes/nr_schemes", 1)
        self.w(f"{s}/action", "pageout")
        self.w(f"{s}/apply_interval_us", int(self.a.damos_apply_s * 1e6))
        self.w(f"{s}/access_pattern/sz/max", 2**64 - 1)
        self.w(f"{s}/access_pattern/nr_accesses/max", 2**32 - 1)
        self.w(f"{s}/access_pattern/age/max", 2**32 - 1)
        self.w(f"{s}/ops_filters/nr_filters", 2)
        for i, (typ, extra, matching) in enumerate((("memcg", self.a.memcg_path, "N"), ("young", None, "Y"))):
            self.w(f"{s}/ops_filters/{i}/type", typ)
            if extra:
                self.w(f"{s}/ops_filters/{i}/memcg_path", extra)
            self.w(f"{s}/ops_filters/{i}/matching", matching)
            self.w(f"{s}/ops_filters/{i}/allow", "N")

    def on(self):
        self.w("0/state", "on")

    def off(self):
        if read(f"{DAMON}/0/state") == "on":
            self.w("0/state", "off")

    def cpu(self):
        pid = read(f"{DAMON}/0/pid", "-1")
        return cpu_seconds(int(pid)) or 0.0 if pid and int(pid) > 0 else 0.0

    def pid(self):
        return int(read(f"{DAMON}/0/pid", "-1") or -1)

    def log_pos(self):
        return 0

    def log_summary(self, pos):
        return {}

    def describe(self):
        return {"engine": "damos", "backend": "damon paddr pageout, memcg + young filters",
                "config": {"sample_us": 5000, "aggr_us": 100000, "apply_interval_s": self.a.damos_apply_s}}

    def stop(self):
        if self.made:
            try:
                self.off()
                for _ in range(50):
                    if read(f"{DAMON}/0/state") == "off":
                        break
                    time.sleep(0.1)
                self.w("nr_kdamonds", 0)
            except OSError as e:
                log(f"could not remove our kdamond: {e}")
            self.made = False


class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = []
        self.srv = self.cli = None
        self.win = 0

    # ---- processes ----------------------------------------------------
    def spawn(self, argv, out, cgroup=False, nice=0, rt=0):
        memcg = self.a.memcg_dir

        def pre():
            if cgroup:  # into the sibling memcg before exec: every page is charged there
                with open(f"{memcg}/cgroup.procs", "w") as f:
                    f.write(str(os.getpid()))
            if nice:
                os.nice(nice)
            if rt:  # SCHED_FIFO: other CFS work (the machine's, the daemon's) cannot delay it
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(rt))

        p = subprocess.Popen(argv, stdout=open(out, "w"), stderr=subprocess.STDOUT, preexec_fn=pre)
        self.procs.append(p)
        return p

    def stop_all(self):
        stop_procs(self.procs)
        self.procs = []

    # ---- the memory cgroup --------------------------------------------
    def usage(self):
        return int(read(f"{self.a.memcg_dir}/memory.usage_in_bytes", "0") or 0)

    def swap(self):
        memsw = read(f"{self.a.memcg_dir}/memory.memsw.usage_in_bytes")
        if memsw is not None:
            return max(0, int(memsw) - self.usage())
        return stat_all(self.a.memcg_dir).get("swap", 0)

    # ---- server and client --------------------------------------------
    def start_server(self, tag):
        a = self.a
        d = f"{a.tmp}/{tag}"
        os.makedirs(f"{d}/win", exist_ok=True)
        self.win_dir, self.win = f"{d}/win", 0
        sock = f"{d}/redis.sock"
        # No persistence: a background save would fork and copy-on-write the whole heap.
        self.srv = self.spawn(["redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                               "--save", "", "--appendonly", "no", "--dir", d, "--daemonize", "no"],
                              f"{d}/redis.log", cgroup=True, nice=a.nice, rt=a.rt)
        for _ in range(100):
            if os.path.exists(sock):
                break
            if self.srv.poll() is not None:
                raise RuntimeError("redis-server died: " + open(f"{d}/redis.log").read()[-500:])
            time.sleep(0.1)
        time.sleep(0.2)
        empty = self.usage()
        t0 = time.monotonic()
        r = subprocess.run([f"{a.kv}", "load", "--socket", sock, "--keys", str(a.keys),
                            "--value-size", str(a.value_size), "--entropy", str(a.entropy)],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"loading the server: {r.stderr.strip()}")
        loaded = self.usage()
        hot_keys = max(1, int(a.keys * a.hot_frac))
        self.cli = self.spawn([f"{a.kv}", "run", "--socket", sock, "--keys", str(a.keys), "--hot-keys",
                               str(hot_keys), "--rate", str(a.rate), "--value-size", str(a.value_size),
                               "--out", self.win_dir], f"{d}/client.log", nice=a.nice, rt=a.rt)
        data = loaded - empty
        setup = {"keys": a.keys, "hot_keys": hot_keys, "value_size": a.value_size, "entropy": a.entropy,
                 "rate": a.rate, "server_pid": self.srv.pid, "load_s": round(time.monotonic() - t0, 1),
                 "empty_bytes": empty, "loaded_bytes": loaded, "data_bytes": data,
                 # The values of the cold keys, their keys and entries: what may go
                 "idle_bytes": int(data * (a.keys - hot_keys) / a.keys)}
        log(f"server pid {self.srv.pid}: {a.keys} keys, {loaded >> 20} MiB in the memcg, "
            f"idle part {setup['idle_bytes'] >> 20} MiB")
        return setup

    def stop_server(self):
        for p in (self.cli, self.srv):
            if p and p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
        self.cli = self.srv = None

    def mark(self):
        """Close the client's current window: (summary, latencies in ns)."""
        n = self.win
        self.win += 1
        self.cli.send_signal(signal.SIGUSR1)
        js = f"{self.win_dir}/win-{n}.json"
        for _ in range(500):
            if os.path.exists(js):
                break
            if self.cli.poll() is not None:
                raise RuntimeError("the client exited")
            time.sleep(0.02)
        else:
            raise RuntimeError("the client did not close its window")
        raw = array("Q")
        with open(f"{self.win_dir}/win-{n}.lat", "rb") as f:
            raw.frombytes(f.read())
        lat = list(zip(raw[0::2], raw[1::2]))  # (intended send time, latency), ns
        with open(js) as f:
            summ = json.loads(f.readline())
        for ext in ("json", "lat"):
            os.unlink(f"{self.win_dir}/win-{n}.{ext}")
        return summ, lat

    # ---- windows ------------------------------------------------------
    def snapshot(self, eng):
        return {"t": time.monotonic(), "stat": stat_all(self.a.memcg_dir), "usage": self.usage(),
                "swap": self.swap(), "cpu": eng.cpu() if eng else 0.0, "tlb": tlb_shootdowns(), "steal": steal_s(),
                "log": eng.log_pos() if eng else 0, "sched": sched_ns(self.srv.pid)}

    def window(self, name, kind, eng, seconds=None):
        """One measured window: the client's latencies and what the kernel did meanwhile."""
        perf = Perf(self.a.tmp, self.srv.pid) if self.a.perf else None
        if perf:
            perf.start(kind)
            time.sleep(0.3)
        self.mark()  # what came before (a project start/stop) is not part of the window
        s0 = self.snapshot(eng)
        time.sleep(seconds if seconds is not None else self.a.window)
        summ, lat = self.mark()
        s1 = self.snapshot(eng)
        wall = s1["t"] - s0["t"]
        rec = {"bench": "server_window", "engine": eng.describe()["engine"] if eng else None, "window": name,
               "kind": kind, "seconds": round(wall, 2), "client": summ,
               "memcg": {k: s1["stat"].get(k, 0) - s0["stat"].get(k, 0) for k in STAT_KEYS},
               "usage_bytes": s1["usage"], "swap_bytes": s1["swap"],
               "daemon_cpu_s": round(s1["cpu"] - s0["cpu"], 4),
               "daemon_cpu_frac": round((s1["cpu"] - s0["cpu"]) / wall, 4),
               "tlb_shootdowns_all_cpus": s1["tlb"] - s0["tlb"] if s0["tlb"] is not None else None,
               # the share of each CPU's time the hypervisor took (steal): noise that is nobody's here
               "steal_frac": round((s1["steal"] - s0["steal"]) / wall / os.cpu_count(), 4)
               if s0["steal"] is not None else None,
               # the server's threads: on CPU, and runnable but waiting for a CPU
               "server_cpu_frac": round((s1["sched"][0] - s0["sched"][0]) / 1e9 / wall, 4),
               "server_runq_wait_frac": round((s1["sched"][1] - s0["sched"][1]) / 1e9 / wall, 4)}
        if eng:
            rec["daemon"] = eng.log_summary(s0["log"])
        if perf:
            rec["perf"] = perf.stop(eng.pid() if eng else -1)
            w0 = lat[0][0] if lat else 0
            w1 = lat[-1][0] if lat else 1
            rec["slow_requests"] = attribute(lat, perf.intervals["etmemd"] + perf.intervals["server"],
                                             perf.faults, w0, w1)
        emit(rec)
        log(f"{name}: p50 {summ['p50_us']:.0f} p99 {summ['p99_us']:.0f} p999 {summ['p999_us']:.0f} us, "
            f"{summ['rate']:.0f}/s, majflt {rec['memcg']['pgmajfault']}, daemon cpu {rec['daemon_cpu_frac']:.3f}, "
            f"usage {s1['usage'] >> 20} MiB, swap {s1['swap'] >> 20} MiB, steal {100 * (rec['steal_frac'] or 0):.1f} %")
        return rec, lat

    def swap_pass(self, eng, idle):
        """The engine from its start until the idle part is out: swap >= 95 % of it,
        or (past 10 % of it) no growth (< 0.5 % of it) over --pass-plateau s, at most
        --pass-max s. (slide's first pass on a memcg waits for each step's refaults to
        settle, ~10 s on this server: a shorter plateau would end the pass in a wait.)"""
        perf = Perf(self.a.tmp, self.srv.pid) if self.a.perf else None
        if perf:
            perf.start("pass")
            time.sleep(0.3)
        self.mark()
        s0 = self.snapshot(eng)
        hist = []
        while True:
            time.sleep(1)
            now, sw = time.monotonic() - s0["t"], self.swap()
            hist.append((now, sw))
            old = [s for t, s in hist if t <= now - self.a.pass_plateau]
            # a plateau counts once the engine has begun (its first reclaim may come late)
            if sw >= 0.95 * idle or (old and sw > 0.1 * idle and sw - old[-1] < 0.005 * idle) or now > self.a.pass_max:
                break
        summ, lat = self.mark()
        s1 = self.snapshot(eng)
        rec = {"bench": "server_window", "engine": eng.describe()["engine"], "window": "swap-out pass",
               "kind": "pass", "seconds": round(s1["t"] - s0["t"], 2), "client": summ,
               "memcg": {k: s1["stat"].get(k, 0) - s0["stat"].get(k, 0) for k in STAT_KEYS},
               "usage_bytes": s1["usage"], "swap_bytes": s1["swap"],
               "swap_frac_of_idle": round(s1["swap"] / idle, 4),
               "daemon_cpu_s": round(s1["cpu"] - s0["cpu"], 4),
               "daemon_cpu_frac": round((s1["cpu"] - s0["cpu"]) / (s1["t"] - s0["t"]), 4),
               "daemon": eng.log_summary(s0["log"])}
        if perf:
            rec["perf"] = perf.stop(eng.pid())
            if lat:
                rec["slow_requests"] = attribute(lat, perf.intervals["etmemd"] + perf.intervals["server"],
                                                 perf.faults, lat[0][0], lat[-1][0])
        emit(rec)
        log(f"pass: {rec['seconds']} s, swap {s1['swap'] >> 20} MiB ({rec['swap_frac_of_idle']:.2f} of idle), "
            f"p99 {summ['p99_us']:.0f} us")
        return rec

    # ---- one engine, start to end ------------------------------------
    def scenario(self, eng, tag):
        a = self.a
        setup = self.start_server(tag)
        try:
            time.sleep(a.warmup)
            self.window("without (before the engine)", "without", None)
            eng.start()
            eng.on()
            desc = eng.describe()
            emit({"bench": "server_setup", **desc, **setup, "nice": a.nice, "rt": a.rt, "window_s": a.window,
                  "rounds": a.rounds})
            pas = self.swap_pass(eng, setup["idle_bytes"])
            if a.settle > 0:  # the pass's last reclaim and its refaults, outside the rounds
                self.window("settle (after the pass)", "settle", eng, a.settle)
            rounds = []
            on = True
            for i in range(a.rounds):
                got = {}
                for kind in ("running", "stopped") if i % 2 == 0 else ("stopped", "running"):
                    if on != (kind == "running"):
                        (eng.on if kind == "running" else eng.off)()
                        on = kind == "running"
                    got[kind] = self.window(f"round {i + 1}: {desc['engine']} {kind}", kind, eng)
                rounds.append((got["running"], got["stopped"]))
            if on:
                eng.off()
            return self.results(desc, setup, pas, rounds)
        finally:
            eng.stop()
            self.stop_server()

    def results(self, desc, setup, pas, rounds):
        a = self.a
        run_lat = [x for (_, lat), _ in rounds for x in lat]
        stop_lat = [x for _, (_, lat) in rounds for x in lat]
        run, stop = lat_summary(run_lat), lat_summary(stop_lat)

        per_round = [{"first": "running" if i % 2 == 0 else "stopped",
                      "p50_ratio": ratio(r["client"]["p50_us"], s["client"]["p50_us"]),
                      "p99_ratio": ratio(r["client"]["p99_us"], s["client"]["p99_us"]),
                      "p999_ratio": ratio(r["client"]["p999_us"], s["client"]["p999_us"]),
                      "steal_frac": [r.get("steal_frac"), s.get("steal_frac")]}
                     for i, ((r, _), (s, _)) in enumerate(rounds)]
        p99, p999 = ratio(run["p99_us"], stop["p99_us"]), ratio(run["p999_us"], stop["p999_us"])
        # The machine's own noise, from the same run: the stopped windows of odd rounds against those of
        # even ones (nothing differs but time). A running/stopped ratio within this is not etmem's.
        odd = lat_summary([x for i, (_, (_, lat)) in enumerate(rounds) if i % 2 == 0 for x in lat])
        even = lat_summary([x for i, (_, (_, lat)) in enumerate(rounds) if i % 2 == 1 for x in lat])
        noise = {"p99_ratio": ratio(max(odd["p99_us"] or 0, even["p99_us"] or 0),
                                    min(odd["p99_us"] or 0, even["p99_us"] or 0)),
                 "p999_ratio": ratio(max(odd["p999_us"] or 0, even["p999_us"] or 0),
                                     min(odd["p999_us"] or 0, even["p999_us"] or 0))} if len(rounds) > 1 else None
        # The rounds the hypervisor left alone (steal below STEAL_QUIET in both windows), pooled.
        quiet = [i for i, ((r, _), (s, _)) in enumerate(rounds)
                 if r.get("steal_frac") is not None and s.get("steal_frac") is not None
                 and max(r["steal_frac"], s["steal_frac"]) < STEAL_QUIET]
        q_run = lat_summary([x for i in quiet for x in rounds[i][0][1]])
        q_stop = lat_summary([x for i in quiet for x in rounds[i][1][1]])
        quiet_rounds = {"rounds": len(quiet), "of": len(rounds), "steal_below": STEAL_QUIET,
                        "p50_ratio": ratio(q_run["p50_us"], q_stop["p50_us"]),
                        "p99_ratio": ratio(q_run["p99_us"], q_stop["p99_us"]),
                        "p999_ratio": ratio(q_run["p999_us"], q_stop["p999_us"])} if quiet else None
        rs = sorted(x["p99_ratio"] for x in per_round if x["p99_ratio"] is not None)
        rs3 = sorted(x["p999_ratio"] for x in per_round if x["p999_ratio"] is not None)
        rate_run = sum(r["client"]["requests"] for (r, _), _ in rounds) / sum(r["seconds"] for (r, _), _ in rounds)
        rate_stop = sum(s["client"]["requests"] for _, (s, _) in rounds) / sum(s["seconds"] for _, (s, _) in rounds)
        emit({"bench": "server_latency", "engine": desc["engine"], "backend": desc["backend"],
              "running": run, "stopped": stop, "p50_ratio": ratio(run["p50_us"], stop["p50_us"]),
              "p99_ratio": p99, "p999_ratio": p999, "throughput_ratio": ratio(rate_run, rate_stop),
              "rounds": per_round, "pass_window": pas["client"],
              "median_round_p99_ratio": pct_low(rs, 0.5), "median_round_p999_ratio": pct_low(rs3, 0.5),
              "stopped_odd_even_noise": noise, "quiet_rounds": quiet_rounds,
              "target": {"p99_ratio": "<=1.05", "p999_ratio": "<=1.10"},
              "pass": p99 is not None and p999 is not None and p99 <= 1.05 and p999 <= 1.10})
        runs = [r for (r, _), _ in rounds]
        freed = [setup["loaded_bytes"] - r["usage_bytes"] for r in runs]
        frac = freed[-1] / setup["idle_bytes"]
        emit({"bench": "server_memory", "engine": desc["engine"], "loaded_bytes": setup["loaded_bytes"],
              "idle_bytes": setup["idle_bytes"], "freed_bytes": freed[-1],
              "freed_bytes_per_round": freed, "freed_frac_of_idle": round(frac, 4),
              "swap_bytes": runs[-1]["swap_bytes"], "pass_s": pas["seconds"],
              "target": ">=0.95", "pass": frac >= 0.95})
        cpu_s = sum(r["daemon_cpu_s"] for r in runs)
        wall = sum(r["seconds"] for r in runs)
        return {"engine": desc["engine"], "cpu_frac": cpu_s / wall, "cpu_s": cpu_s, "wall_s": wall,
                "pass_cpu_frac": pas["daemon_cpu_frac"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--kv", required=True, help="the etmem-bench-kv client")
    p.add_argument("--memcg-dir", required=True)
    p.add_argument("--memcg-path", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--keys", type=int, default=400000)
    p.add_argument("--value-size", type=int, default=1000)
    p.add_argument("--entropy", type=float, default=0.3)
    p.add_argument("--hot-frac", type=float, default=0.1)
    p.add_argument("--rate", type=float, default=1500)
    p.add_argument("--window", type=float, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--pass-max", type=float, default=180)
    p.add_argument("--pass-plateau", type=float, default=30)
    p.add_argument("--settle", type=float, default=20)
    p.add_argument("--nice", type=int, default=0)
    p.add_argument("--rt", type=int, default=0)
    p.add_argument("--loop", type=int, default=1)
    p.add_argument("--interval", type=int, default=1)
    p.add_argument("--sleep", type=int, default=1)
    p.add_argument("--T", type=int, default=1)
    p.add_argument("--tracker", default="auto")
    p.add_argument("--engines", default="etmem,damos")
    p.add_argument("--damos-apply-s", type=float, default=5)
    p.add_argument("--perf", type=int, default=1)
    a = p.parse_args()
    if a.rounds < 1 or a.window <= 0 or not 0 < a.hot_frac < 1 or a.keys < 10:
        p.error("--rounds >= 1, --window > 0, 0 < --hot-frac < 1, --keys >= 10")
    engines = [e for e in a.engines.split(",") if e]
    if any(e not in ("etmem", "damos") for e in engines):
        p.error("--engines: a list of etmem, damos")
    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    res = {}
    try:
        for e in engines:
            if e == "damos":
                why = Damos.busy()
                if why:
                    emit({"bench": "server_damos", "skipped": why, "reference_cpu_frac": DAMOS_REF_CPU})
                    log(f"DAMOS scenario skipped: {why}")
                    continue
                res[e] = b.scenario(Damos(b), "damos")
            else:
                res[e] = b.scenario(Etmem(b), "etmem")
        if "etmem" in res:
            d = res.get("damos")
            ref = d["cpu_frac"] if d else DAMOS_REF_CPU
            emit({"bench": "server_cpu", "etmem_cpu_frac": round(res["etmem"]["cpu_frac"], 4),
                  "etmem_pass_cpu_frac": res["etmem"]["pass_cpu_frac"],
                  "damos_cpu_frac": round(ref, 4),
                  "damos": "measured on this run" if d else "reference (DAMON held here): issue #10, this machine kind",
                  "ratio": round(res["etmem"]["cpu_frac"] / ref, 4) if ref else None,
                  "target": "<=0.5", "pass": bool(ref) and res["etmem"]["cpu_frac"] <= 0.5 * ref})
    except Exception as e:  # report, never leave processes behind
        emit({"bench": "server", "error": str(e)})
        return 1
    finally:
        b.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
