#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Measurement part of bench/psi_run.sh (which sets up swap, the memory
cgroup with its cgroup2 twin on v1 hosts, and the lock, and removes them):
the psi engine against a Senpai-style controller (bench/senpai.py) on the
same cgroup and workload. Prints JSON lines on stdout, progress on stderr;
kills every process it starts, also on failure.

For each agent, on a fresh etmem-workload (SIZE, HOT_FRAC of it read
continuously, the rest idle) in the cgroup:
  A  settle, then WINDOW s without an agent: baseline usage and throughput
  R  the agent runs for DURATION s; every SAMPLE s: memory saved (baseline
     usage - usage), pressure (some avg10 of the cgroup's pressure file),
     workload throughput of the sample, the agent's CPU time
  V  the agent stops (restoring what it changed), the workload verifies
     every page
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

from bench import emit, log, memcg_stat, proc_cpu_seconds, read
from stats import mean, pct_low

MiB = 1 << 20


def pressure_avg10(path):
    for line in (read(path, "") or "").splitlines():
        if line.startswith("some "):
            return float(dict(f.split("=") for f in line.split()[1:])["avg10"])
    return None


class Run:
    def __init__(self, a):
        self.a = a
        self.procs = []
        self.sock = f"etmem-psi-bench-{os.getpid()}"
        self.v2 = os.path.exists(f"{a.memcg_dir}/memory.current")
        self.usage_file = f"{a.memcg_dir}/" + ("memory.current" if self.v2 else "memory.usage_in_bytes")
        # what either agent may move, and must put back when it stops
        self.knobs = [f"{a.memcg_dir}/{k}" for k in
                      (("memory.high", "memory.max") if self.v2 else ("memory.limit_in_bytes",))]

    def start(self, argv, out):
        p = subprocess.Popen(argv, stdout=open(out, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=60):
        if p.poll() is None:
            p.terminate()
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def stop_all(self):
        for p in self.procs:
            self.stop(p)

    def usage(self):
        return int(read(self.usage_file))

    # ---- workload -----------------------------------------------------
    def workload(self, tag):
        """A fresh workload in the cgroup (and, on v1, in its cgroup2 twin, where its pressure is counted)."""
        a = self.a
        self.rep = f"{a.tmp}/{tag}.report"
        ready = f"{a.tmp}/{tag}.ready"
        argv = [f"{a.bin}/etmem-workload", "--size", a.size, "--hot-frac", str(a.hot_frac), "--cgroup",
                a.memcg_dir, "--report-file", self.rep, "--ready-file", ready]
        if a.twin_dir:
            argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', a.twin_dir] + argv
        self.wl = self.start(argv, f"{a.tmp}/{tag}.workload.out")
        self.wl_out = f"{a.tmp}/{tag}.workload.out"
        for _ in range(1200):
            if os.path.exists(ready):
                return
            if self.wl.poll() is not None:
                raise RuntimeError(f"workload exited: {read(self.wl_out, '')}")
            time.sleep(0.05)
        raise RuntimeError("workload not ready in 60 s")

    def report(self):
        try:
            os.unlink(self.rep)
        except FileNotFoundError:
            pass
        self.wl.send_signal(signal.SIGUSR1)
        for _ in range(500):
            if os.path.exists(self.rep) and os.path.getsize(self.rep):
                with open(self.rep) as f:
                    return json.loads(f.readline())
            if self.wl.poll() is not None:
                raise RuntimeError("workload exited")
            time.sleep(0.02)
        raise RuntimeError("workload report timed out")

    @staticmethod
    def rate(r0, r1):
        return (r1["accesses"] - r0["accesses"]) / (r1["elapsed_s"] - r0["elapsed_s"])

    # ---- agents -------------------------------------------------------
    def agent_senpai(self):
        a = self.a
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "senpai.py"), "--memcg",
                a.memcg_dir, "--pressure", a.pressure_file]
        p = self.start(argv, f"{a.tmp}/senpai.out")
        for _ in range(100):  # its parameters, the first line it prints
            line = (read(f"{a.tmp}/senpai.out", "") or "").split("\n")[0]
            if line.endswith("}"):
                emit(json.loads(line))
                return p, None
            if p.poll() is not None:
                break
            time.sleep(0.05)
        return None, f"senpai.py did not start: {read(f'{a.tmp}/senpai.out', '')}"

    def etmem(self, *args):
        r = subprocess.run([f"{self.a.bin}/etmem", *args, "-s", self.sock], capture_output=True, text=True)
        return r.returncode, (r.stdout + r.stderr).strip()

    def agent_psi(self):
        a = self.a
        # --keep: at debug level, every cycle's decision is in the log
        p = self.start([f"{a.bin}/etmemd", "-l", "0" if a.keep else "1", "-s", self.sock], f"{a.tmp}/etmemd.log")
        for _ in range(50):
            if self.etmem("project", "show")[0] == 0:
                break
            time.sleep(0.1)
        conf = f"{a.tmp}/psi.conf"
        with open(conf, "w") as f:
            f.write(f"[project]\nname=psibench\nscan_type=psi\ninterval={a.psi_interval}\n"
                    f"[engine]\nname=psi\nproject=psibench\n"
                    f"[task]\nproject=psibench\nengine=psi\nname=wl\ncg_dir={a.cg_rel}\n"
                    f"pressure={a.psi_pressure}\nreclaim_rate={a.psi_rate}\n")
        os.chmod(conf, 0o600)
        emit({"bench": "psi_params", "config": read(conf)})
        for step in (("obj", "add", "-f", conf), ("project", "start", "-n", "psibench")):
            rc, out = self.etmem(*step)
            if rc:
                self.stop(p)
                return None, f"etmem {' '.join(step[:2])}: {out}"
        return p, None

    def keep(self, name):
        """--keep: the agent's own record (psi: its last cycles as JSON, then its debug log; senpai: its lines)."""
        a = self.a
        os.makedirs(a.keep, exist_ok=True)
        if name == "psi":
            with open(f"{a.keep}/psi-pressure.json", "w") as f:
                f.write(self.etmem("engine", "pressure", "-n", "psibench", "-e", "psi", "--json")[1] + "\n")
        log_name = "etmemd.log" if name == "psi" else "senpai.out"
        with open(f"{a.tmp}/{log_name}") as src, open(f"{a.keep}/{log_name}", "w") as dst:
            dst.write(src.read())

    # ---- one agent on a fresh workload ---------------------------------
    def sample(self, t0, r_prev, agent, cpu0):
        r = self.report()
        u = self.usage()
        cpu = proc_cpu_seconds(agent.pid)
        return r, {"t": round(time.monotonic() - t0, 2), "usage": u, "saved": self.u0 - u,
                   "some_avg10": pressure_avg10(self.a.pressure_file), "throughput": round(self.rate(r_prev, r)),
                   "agent_cpu_s": round(cpu - cpu0, 3) if cpu is not None and cpu0 is not None else None}

    def one(self, name):
        a = self.a
        log(f"{name}: fresh workload")
        self.workload(name)
        time.sleep(a.settle)
        r0 = self.report()
        self.u0 = self.usage()
        time.sleep(a.window)
        r1 = self.report()
        base = self.rate(r0, r1)
        log(f"{name}: baseline {base:.0f} accesses/s, usage {self.u0 / MiB:.0f} MiB")
        knobs0 = [read(k) for k in self.knobs]
        agent, why = self.agent_senpai() if name == "senpai" else self.agent_psi()
        if not agent:
            self.stop(self.wl)
            return {"bench": "psi_agent", "agent": name, "skipped": why}
        refault0 = memcg_stat(a.memcg_dir, "workingset_refault_anon")
        t0 = time.monotonic()
        cpu0 = proc_cpu_seconds(agent.pid)
        series, r_prev = [], r1
        while time.monotonic() - t0 < a.duration:
            time.sleep(a.sample)
            if agent.poll() is not None:
                raise RuntimeError(f"{name} exited early (status {agent.returncode})")
            r_prev, s = self.sample(t0, r_prev, agent, cpu0)
            series.append(s)
            emit({"bench": "psi_series", "agent": name, **s})
        refault1 = memcg_stat(a.memcg_dir, "workingset_refault_anon")
        if a.keep:
            self.keep(name)
        self.stop(agent)
        restored = [read(k) for k in self.knobs] == knobs0
        rc = self.stop(self.wl, timeout=120)
        summary = (read(self.wl_out, "") or "").strip().splitlines()[-1:]
        summ = json.loads(summary[0]) if summary else {}
        half = series[len(series) // 2:]  # the second half: after the agent's start-up
        press = sorted(s["some_avg10"] for s in series if s["some_avg10"] is not None)
        return {
            "bench": "psi_agent", "agent": name, "baseline_usage": self.u0, "baseline_throughput": round(base),
            "saved_final": series[-1]["saved"], "saved_mean_2nd_half": int(sum(s["saved"] for s in half) / len(half)),
            "saved_max": max(s["saved"] for s in series),
            "some_avg10_mean": round(mean(press), 3) if press else None,
            "some_avg10_p90": pct_low(press, 0.9),
            "throughput_ratio": round(mean(s["throughput"] for s in series) / base, 4),
            "agent_cpu_s": series[-1]["agent_cpu_s"], "duration_s": a.duration,
            "refaults_anon": refault1 - refault0 if refault0 is not None and refault1 is not None else None,
            "limits_restored": restored, "content": {"exit": rc, "result": summ.get("result"), "bad_pages": summ.get("bad_pages")},
        }

    def run(self):
        out = {}
        for name in self.a.agents.split(","):
            out[name] = self.one(name)
            emit(out[name])
        s, p = out.get("senpai"), out.get("psi")
        if s and p and "skipped" not in s and "skipped" not in p:
            emit({"bench": "psi_vs_senpai",
                  "saved_ratio": round(p["saved_mean_2nd_half"] / max(1, s["saved_mean_2nd_half"]), 3),
                  "pressure_psi": p["some_avg10_mean"], "pressure_senpai": s["some_avg10_mean"],
                  "throughput_ratio": round(p["throughput_ratio"] / s["throughput_ratio"], 4),
                  "targets": "saved_ratio >= 1, pressure_psi <= pressure_senpai, throughput_ratio >= 0.98"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--memcg-dir", required=True, help="the cgroup's memory controller directory")
    p.add_argument("--twin-dir", default="", help="v1: its cgroup2 twin, which the workload joins too")
    p.add_argument("--pressure-file", required=True, help="the cgroup's memory.pressure (v1: the twin's)")
    p.add_argument("--cg-rel", required=True, help="the cgroup relative to its hierarchy's mount (cg_dir)")
    p.add_argument("--size", default="1G")
    p.add_argument("--hot-frac", type=float, default=0.2)
    p.add_argument("--settle", type=float, default=3)
    p.add_argument("--window", type=float, default=15)
    p.add_argument("--duration", type=float, default=120)
    p.add_argument("--sample", type=float, default=2)
    p.add_argument("--agents", default="senpai,psi")
    p.add_argument("--psi-interval", type=int, default=2)
    p.add_argument("--psi-pressure", type=float, default=0.1)
    p.add_argument("--psi-rate", type=float, default=0.05)
    p.add_argument("--keep", default="", help="copy each agent's own record (etmemd's debug log) here")
    p.add_argument("--tmp", required=True)
    a = p.parse_args()
    r = Run(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        r.run()
    except Exception as e:  # report, never leave processes behind
        emit({"bench": "psi_run", "error": str(e)})
        return 1
    finally:
        r.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
