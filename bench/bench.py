#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Measurement part of bench/run.sh (which sets up swap, the memory cgroup
and the lock, and removes them). Prints one JSON line per metric on stdout;
progress on stderr. Kills every process it starts, also on failure.

Phases, all on one workload process (hot part = first pages, contiguous):
  A  without etmem, WINDOW s: hot-set accesses/s
  B  with etmem (slide, loop=1 interval=1 sleep=2 T=1) until the cold part
     is swapped (memcg swap >= 99 % of the cold bytes, at most 120 s): the
     swap-out pass; memcg swap and kdamond/etmemd CPU are sampled every
     0.2 s (the daemon's swap-out throughput)
  R  ROUNDS pairs of WINDOW s windows, etmem running / the project stopped,
     alternately (drift hits both sides alike): the hot-throughput ratio;
     precision at the end
  D  the same cold pages faulted back in (/proc/PID/mem), in the written
     (dirty PTE) and read (clean PTE) states, and paged out by raw
     process_madvise and by the daemon's action path (etm_action_pageout fed
     by the page state), alternately
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stats import mean  # noqa: E402

PAGE = 4096
DAMON = "/sys/kernel/mm/damon/admin/kdamonds"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps(obj, separators=(",", ":")), flush=True)


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def cpu_seconds(pid):
    """On-CPU time of a task: schedstat (ns) when present, else stat ticks."""
    s = read(f"/proc/{pid}/schedstat")
    if s:
        return int(s.split()[0]) / 1e9
    st = read(f"/proc/{pid}/stat")
    if not st:
        return None
    f = st[st.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def threads_cpu_seconds(pid):
    """On-CPU time of all threads of a process, ns resolution (schedstat)."""
    total = 0.0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for t in tids:
        c = cpu_seconds(f"{pid}/task/{t}")
        if c is not None:
            total += c
    return total


def proc_cpu_seconds(pid):
    """utime+stime of a whole process (all threads)."""
    st = read(f"/proc/{pid}/stat")
    if not st:
        return None
    f = st[st.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def kdamonds():
    """[(idx, state, pid, memcg_paths)] of DAMON's sysfs kdamonds."""
    out = []
    n = int(read(f"{DAMON}/nr_kdamonds", "0") or 0)
    for i in range(n):
        k = f"{DAMON}/{i}"
        paths = []
        ns = int(read(f"{k}/contexts/0/schemes/nr_schemes", "0") or 0)
        for s in range(ns):
            nf = int(read(f"{k}/contexts/0/schemes/{s}/ops_filters/nr_filters", "0") or 0)
            for fl in range(nf):
                p = read(f"{k}/contexts/0/schemes/{s}/ops_filters/{fl}/memcg_path", "")
                if p:
                    paths.append(p)
        out.append((i, read(f"{k}/state", "?"), read(f"{k}/pid", "-1"), paths))
    return out


def memcg_stat(memcg_dir, key):
    """A memory.stat value; v1's hierarchical total_KEY wins over KEY."""
    own = None
    for line in (read(f"{memcg_dir}/memory.stat", "") or "").splitlines():
        k, _, v = line.partition(" ")
        if k == "total_" + key:
            return int(v)
        if k == key:
            own = int(v)
    return own


def memcg_swap(memcg_dir):
    return memcg_stat(memcg_dir, "swap")


def stop_procs(procs):
    """SIGTERM each process still running, wait up to 30 s for each, then SIGKILL."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = []
        self.sock = f"etmem-bench-{os.getpid()}"
        self.wl = None

    # ---- processes ----------------------------------------------------
    def start(self, argv, out):
        p = subprocess.Popen(argv, stdout=open(out, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def stop_all(self):
        stop_procs(self.procs)

    def etmem(self, *args):
        r = subprocess.run([f"{self.a.bin}/etmem", *args, "-s", self.sock], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    # ---- workload -----------------------------------------------------
    def report(self):
        rep = f"{self.a.tmp}/report"
        try:
            os.unlink(rep)
        except FileNotFoundError:
            pass
        self.wl.send_signal(signal.SIGUSR1)
        for _ in range(300):
            if os.path.exists(rep) and os.path.getsize(rep):
                with open(rep) as f:
                    return json.loads(f.readline())
            if self.wl.poll() is not None:
                raise RuntimeError("workload exited")
            time.sleep(0.02)
        raise RuntimeError("workload report timed out")

    def hot_rate(self, r0, r1):
        return (r1["accesses"] - r0["accesses"]) / (r1["elapsed_s"] - r0["elapsed_s"])

    def window(self, name):
        r0 = self.report()
        time.sleep(self.a.window)
        r1 = self.report()
        rate = self.hot_rate(r0, r1)
        log(f"{name}: {rate:.0f} hot accesses/s")
        return rate

    # ---- daemon phase -------------------------------------------------
    def foreign_kdamond(self):
        """Description of a running kdamond that is not ours, or None."""
        for i, state, pid, paths in kdamonds():
            if state == "on" and self.a.memcg_path not in paths:
                since = ""
                try:
                    since = f", running for {time.time() - os.stat(f'/proc/{pid}').st_mtime:.0f} s"
                except OSError:
                    pass
                return f"DAMON kdamond {i} (pid {pid}{since}, memcg filters {paths or 'none'}) is not etmem's"
        return None

    def our_kdamond_pid(self):
        for i, state, pid, paths in kdamonds():
            if state == "on" and self.a.memcg_path in paths:
                return int(pid)
        return None

    def daemon_phase(self, cold_bytes):
        etmemd = self.start([f"{self.a.bin}/etmemd", "-l", "1", "-s", self.sock], f"{self.a.tmp}/etmemd.log")
        for _ in range(50):
            if self.etmem("project", "show")[0] == 0:
                break
            time.sleep(0.1)
        conf = f"{self.a.tmp}/bench.conf"
        with open(conf, "w") as f:
            f.write(f"""[project]
name=benchproj
loop=1
interval=1
sleep=2
[engine]
name=slide
project=benchproj
[task]
project=benchproj
engine=slide
name=wl
type=pid
value={self.wl.pid}
T=1
max_threads=1
""")
        os.chmod(conf, 0o600)
        rc, out = self.etmem("obj", "add", "-f", conf)
        if rc:
            return {"error": f"obj add: {out.strip()}"}
        # DAMON adds kdamonds only while none runs: a foreign one (someone
        # else's test) makes the start fail with EBUSY. Retry until
        # --damon-wait, then give up with the reason.
        deadline = time.monotonic() + self.a.damon_wait
        while True:
            rc, out = self.etmem("project", "start", "-n", "benchproj")
            if rc == 0:
                break
            with open(f"{self.a.tmp}/etmemd.log") as f:
                tail = f.read()[-600:]
            busy = "kdamond" in tail or "EBUSY" in out or "busy" in out.lower()
            if busy and time.monotonic() < deadline:
                log("the project cannot start while a foreign DAMON kdamond runs; retrying")
                self.etmem("project", "stop", "-n", "benchproj")
                time.sleep(2)
                continue
            why = f"project start: {out.strip()} / etmemd: {tail.strip()}"
            fk = self.foreign_kdamond()
            if busy and fk:
                return {"skipped": f"{fk} and still runs after {self.a.damon_wait:.0f} s; the kernel adds "
                                   f"kdamonds only while none runs. {why}"}
            return {"error": why}
        swap0 = memcg_swap(self.a.memcg_dir) or 0
        refault0 = memcg_stat(self.a.memcg_dir, "workingset_refault_anon")
        r0 = self.report()
        t0 = time.monotonic()
        d_cpu0 = proc_cpu_seconds(etmemd.pid)
        samples = []  # (t, swap bytes, kdamond cpu s)
        kd = None
        converged = None
        t_end = None
        r_conv = None
        refault1 = None
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            if kd is None:
                kd = self.our_kdamond_pid()
            sw = (memcg_swap(self.a.memcg_dir) or 0) - swap0
            kc = cpu_seconds(kd) if kd else 0.0
            dc = threads_cpu_seconds(etmemd.pid)
            samples.append((now, sw, None if kc is None or dc is None else kc + dc, kc))
            if converged is None and sw >= 0.99 * cold_bytes:
                converged = now - t0
                t_end = now
                r_conv = self.report()
                refault1 = memcg_stat(self.a.memcg_dir, "workingset_refault_anon")
                log(f"cold part swapped after {converged:.1f} s")
            if converged is None and now - t0 > 120:
                log("cold part not swapped within 120 s")
                t_end = now
            if t_end is not None and now >= t_end:
                break
        # Paired windows once the cold part is out: etmem running (scanning
        # every cycle) against the project stopped, alternately, so a drift
        # of the machine's speed hits both sides alike.
        rounds = []
        for i in range(self.a.rounds if converged is not None else 0):
            w = self.window(f"round {i + 1}: etmem running")
            self.etmem("project", "stop", "-n", "benchproj")
            wo = self.window(f"round {i + 1}: project stopped")
            rc, out = self.etmem("project", "start", "-n", "benchproj")
            if rc:
                return {"error": f"project restart: {out.strip()}"}
            rounds.append((w, wo))
        r1 = self.report()
        d_cpu1 = proc_cpu_seconds(etmemd.pid)
        rc, show = self.etmem("project", "show")
        self.etmem("project", "stop", "-n", "benchproj")
        span = time.monotonic() - t0
        # Daemon swap-out throughput: over the 0.2 s sampling intervals in
        # which the memcg's swap grew, bytes swapped per CPU second of the
        # daemon -- etmemd's threads plus its kdamond, if any (DAMOS pageout
        # runs in kdamond, memcg reclaim in etmemd's write(); zram compresses
        # synchronously in whichever does the pageout) and
        # per wall second of those intervals (a lower bound: a pass rarely
        # fills its whole interval).
        sb = scpu = swall = 0.0
        for (ta, sa, ca, _), (tb, sbb, cb, _) in zip(samples, samples[1:]):
            if sbb > sa and ca is not None and cb is not None:
                sb += sbb - sa
                scpu += cb - ca
                swall += tb - ta
        kcpu = None
        if samples and samples[0][3] is not None and samples[-1][3] is not None:
            kcpu = samples[-1][3] - samples[0][3]
        backend = last_error = None
        for line in show.splitlines():
            k, _, v = line.strip().partition(": ")
            if k == "backend":
                backend = v
            elif k == "last error":
                last_error = v
        if converged is None:
            return {"error": f"cold part not swapped within 120 s (backend {backend}, last error {last_error})"}
        return {
            "backend": backend, "r0": r0, "r1": r1, "r_conv": r_conv, "rounds": rounds, "span_s": span,
            "converged_s": converged, "show": show,
            "pass_refaults": refault1 - refault0 if refault0 is not None and refault1 is not None else None,
            "swapped_bytes": sb, "swap_cpu_s": scpu, "swap_wall_s": swall,
            "kdamond_cpu_s": kcpu if kd else None, "etmemd_cpu_s": (d_cpu1 - d_cpu0) if d_cpu0 is not None and d_cpu1 is not None else None,
            "etmemd_rss_kb": self.rss_kb(etmemd.pid),
        }

    def rss_kb(self, pid):
        for line in (read(f"/proc/{pid}/status", "") or "").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    # ---- same pages, raw vs action ----------------------------------
    def helper(self, mode, start, length):
        r = subprocess.run([f"{self.a.bin}/etmem-bench-pageout", mode, str(self.wl.pid), hex(start), str(length)],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"etmem-bench-pageout {mode}: {r.stderr.strip()}")
        return json.loads(r.stdout.splitlines()[-1])

    def run(self):
        a = self.a
        self.wl = self.start([f"{a.bin}/etmem-workload", "--size", a.size, "--hot-frac", str(a.hot_frac),
                              "--cgroup", a.memcg_dir, "--ready-file", f"{a.tmp}/ready",
                              "--report-file", f"{a.tmp}/report"], f"{a.tmp}/workload.out")
        for _ in range(1200):
            if os.path.exists(f"{a.tmp}/ready") and os.path.getsize(f"{a.tmp}/ready"):
                break
            if self.wl.poll() is not None:
                raise RuntimeError("workload died: " + open(f"{a.tmp}/workload.out").read())
            time.sleep(0.1)
        ready = json.loads(open(f"{a.tmp}/ready").readline())
        hot_bytes = ready["hot_pages"] * PAGE
        addr = ready["addr"]
        cold_start = (int(addr, 0) if isinstance(addr, str) else addr) + hot_bytes
        cold_len = ready["len"] - hot_bytes
        log(f"workload pid {self.wl.pid}: {ready['len'] >> 20} MiB, {ready['hot_pages']} hot pages")

        without_a = self.window("without etmem (before)")
        d = self.daemon_phase(cold_len)
        stopped = [wo for _, wo in d.get("rounds", [])]
        # The baseline for the swap-out costs: every window without etmem.
        without = mean([without_a, *stopped])

        # Same pages, same run: the cold range is faulted back in before each
        # pageout, and raw and action alternate REPEAT times; the best of each
        # counts (the least disturbed run on a shared 2-core machine). Two
        # page states: "dirty" is what the daemon met in phase B (pages the
        # workload wrote: dirty PTEs, one TLB shootdown per page before it
        # goes to swap), "clean" is the same pages read back in (clean PTEs,
        # one flush per batch). The daemon is compared on the dirty state.
        res = {(m, st): [] for m in ("raw", "action") for st in ("dirty", "clean")}
        fis = []
        for i in range(a.repeat):
            for st in ("dirty", "clean"):
                for mode in (("raw", "action") if i % 2 == 0 else ("action", "raw")):
                    fi = self.helper("faultin-dirty" if st == "dirty" else "faultin", cold_start, cold_len)
                    fis.append(fi["bytes_per_s"])
                    rep = self.report()
                    if rep["cold"]["swapped"]:
                        log(f"after fault-in {rep['cold']['swapped']} cold pages still swapped")
                    r = self.helper(mode, cold_start, cold_len)
                    r1 = self.report()
                    # The workload's hot accesses lost while this pass ran, per GiB paged out.
                    dur = r1["elapsed_s"] - rep["elapsed_s"]
                    r["lost_per_gib"] = max(0.0, without * dur - (r1["accesses"] - rep["accesses"])) / (r["bytes"] / 2**30)
                    res[(mode, st)].append(r)
                    log(f"{mode} ({st}): {r['bytes']} bytes, {r['bytes_per_s'] / 1e9:.3f} GB/s wall, "
                        f"{r['bytes_per_cpu_s'] / 1e9:.3f} GB/s per CPU s, {r['lost_per_gib']:.0f} hot accesses lost per GiB")

        def best(mode, st, key):
            return max(x[key] for x in res[(mode, st)])

        raw_lost = min(x["lost_per_gib"] for x in res[("raw", "dirty")])

        if "r1" in d:
            r = d["r1"]
            emit({"bench": "slide_precision", "target_bytes": ready["len"], "hot_frac": a.hot_frac,
                  "idle_pages": r["cold"]["pages"], "idle_swapped": r["cold"]["swapped"],
                  "idle_swapped_frac": r["cold"]["swapped"] / r["cold"]["pages"],
                  "hot_pages": r["hot"]["pages"], "hot_swapped": r["hot"]["swapped"],
                  "hot_swapped_frac": r["hot"]["swapped"] / max(r["hot"]["pages"], 1),
                  "converged_s": d["converged_s"], "backend": d["backend"],
                  # pages swapped out during the pass and faulted back at once: hot pages the
                  # reclaim took anyway (the end state above does not show them)
                  "pass_refaults": d["pass_refaults"],
                  "target": {"idle_swapped_frac": ">=0.95", "hot_swapped_frac": "<=0.02"}})
            with_r = [w for w, _ in d["rounds"]]
            with_rate, without_rate = mean(with_r), mean(stopped)
            # The swap-out pass, against the kernel's own pageout of the same
            # pages in the same state: what etmem costs beyond the swap-out.
            pass_dur = d["r_conv"]["elapsed_s"] - d["r0"]["elapsed_s"]
            pass_lost = max(0.0, without * pass_dur - (d["r_conv"]["accesses"] - d["r0"]["accesses"]))
            pass_lost_per_gib = pass_lost / (d["swapped_bytes"] / 2**30) if d["swapped_bytes"] else None
            emit({"bench": "hot_throughput_ratio", "with": with_rate, "without": without_rate,
                  "rounds": [{"running": w, "stopped": wo, "ratio": w / wo} for w, wo in d["rounds"]],
                  "window_s": a.window, "without_before_etmem": without_a,
                  "ratio": with_rate / without_rate, "target": 0.98, "pass": with_rate / without_rate >= 0.98,
                  "swapout_pass": {"seconds": pass_dur, "rate": self.hot_rate(d["r0"], d["r_conv"]),
                                   "lost_accesses_per_gib": pass_lost_per_gib,
                                   "raw_pageout_lost_accesses_per_gib": raw_lost,
                                   "vs_raw": pass_lost_per_gib / raw_lost if pass_lost_per_gib is not None and raw_lost else None}})
            emit({"bench": "daemon_cpu", "span_s": d["span_s"], "etmemd_cpu_s": d["etmemd_cpu_s"],
                  "kdamond_cpu_s": d["kdamond_cpu_s"],
                  "etmemd_cpu_frac": d["etmemd_cpu_s"] / d["span_s"] if d["etmemd_cpu_s"] is not None else None,
                  "kdamond_cpu_frac": d["kdamond_cpu_s"] / d["span_s"] if d["kdamond_cpu_s"] is not None else None,
                  "etmemd_hwm_kb": d["etmemd_rss_kb"]})
        else:
            why = d.get("skipped") or d.get("error")
            key = "skipped" if "skipped" in d else "error"
            for b in ("slide_precision", "hot_throughput_ratio", "daemon_cpu"):
                emit({"bench": b, key: why})
            emit({"bench": "hot_throughput_without_etmem", "before": without_a})

        raw_wall, raw_cpu = best("raw", "dirty", "bytes_per_s"), best("raw", "dirty", "bytes_per_cpu_s")
        out = {"bench": "swapout_throughput_ratio", "range_bytes": cold_len, "repeat": a.repeat, "state": "dirty",
               "raw_bytes_per_s": raw_wall, "raw_bytes_per_cpu_s": raw_cpu,
               "action_bytes_per_s": best("action", "dirty", "bytes_per_s"),
               "action_bytes_per_cpu_s": best("action", "dirty", "bytes_per_cpu_s"),
               "action_ratio": best("action", "dirty", "bytes_per_s") / raw_wall,
               "action_cpu_ratio": best("action", "dirty", "bytes_per_cpu_s") / raw_cpu,
               "clean": {"raw_bytes_per_s": best("raw", "clean", "bytes_per_s"),
                         "action_bytes_per_s": best("action", "clean", "bytes_per_s"),
                         "action_ratio": best("action", "clean", "bytes_per_s") / best("raw", "clean", "bytes_per_s")},
               "runs_bytes_per_s": {f"{m}_{st}": [x["bytes_per_s"] for x in v] for (m, st), v in res.items()},
               "faultin_bytes_per_s": max(fis), "target": 0.9}
        if "r1" in d and d["swap_cpu_s"] > 0:
            out.update({"daemon": f"etmemd ({d['backend']}): memcg swap growth per CPU second of etmemd + its kdamond",
                        "daemon_bytes": d["swapped_bytes"],
                        "daemon_bytes_per_cpu_s": d["swapped_bytes"] / d["swap_cpu_s"],
                        "daemon_bytes_per_s_wall_lower_bound": d["swapped_bytes"] / d["swap_wall_s"],
                        "ratio": d["swapped_bytes"] / d["swap_cpu_s"] / raw_cpu})
        else:
            out.update({"daemon": "etm_action_pageout (the daemon's per-process swap-out path), wall clock",
                        "daemon_skipped": d.get("skipped") or d.get("error") or "no swap growth sampled",
                        "ratio": out["action_ratio"]})
        out["pass"] = out["ratio"] >= 0.9
        emit(out)

        # Content: the workload verifies every page on SIGTERM.
        self.wl.terminate()
        rc = self.wl.wait(timeout=120)
        summary = open(f"{a.tmp}/workload.out").read().strip().splitlines()[-1:]
        emit({"bench": "content_check", "workload_exit": rc, "summary": json.loads(summary[0]) if summary else None})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--memcg-dir", required=True)
    p.add_argument("--memcg-path", required=True)
    p.add_argument("--size", default="1G")
    p.add_argument("--hot-frac", type=float, default=0.1)
    p.add_argument("--window", type=float, default=15)
    p.add_argument("--damon-wait", type=float, default=60)
    p.add_argument("--tmp", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    if a.rounds < 1 or a.repeat < 1:
        p.error("--rounds and --repeat must be at least 1")
    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        b.run()
    except Exception as e:  # report, never leave processes behind
        emit({"bench": "run", "error": str(e)})
        return 1
    finally:
        b.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
