#!/usr/bin/python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Start a service the way systemd would start it from its unit file, on a
machine where systemd is not PID 1 (CI, containers).

Runs the unit's ExecStartPre= lines ('+': unsandboxed, as systemd does),
then its ExecStart= in a child that first applies the unit's sandbox:

  mount namespace  ProtectSystem=strict, ProtectKernelTunables=yes,
                   ProtectHome=yes, PrivateTmp=yes, PrivateDevices=yes,
                   RuntimeDirectory=, ReadWritePaths=
  process          CapabilityBoundingSet=, NoNewPrivileges=yes, UMask=,
                   Environment=, LimitNOFILE=
  seccomp          SystemCallFilter= (allow-list), SystemCallErrorNumber=,
                   SystemCallArchitectures=native, RestrictAddressFamilies=,
                   MemoryDenyWriteExecute=yes

Directives of NOT_EMULATED have no effect on what the tests exercise (the
reason is given there). Where the emulation differs, it is stricter: all of
/sys is read-only but ReadWritePaths= (systemd leaves /sys/fs/cgroup
writable unless ProtectControlGroups=yes). Any other directive is an error: a new sandbox
setting in the unit must be emulated here before the tests can vouch for it.
Exits with the ExecStart process's status (for Type=forking: 0 once the
daemon is ready). Needs root and python3-seccomp.
"""
import argparse
import ctypes
import errno
import os
import re
import resource
import shlex
import socket
import subprocess
import sys

import seccomp

CLONE_NEWNS = 0x00020000
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PROT_WRITE, PROT_EXEC = 0x2, 0x4
SHM_EXEC = 0o100000

EMULATED = {
    "Type", "PIDFile", "Environment", "ExecStartPre", "ExecStart",
    "ProtectSystem", "ProtectKernelTunables", "ProtectHome", "PrivateTmp", "PrivateDevices",
    "RuntimeDirectory", "RuntimeDirectoryMode", "ReadWritePaths",
    "CapabilityBoundingSet", "NoNewPrivileges", "UMask", "LimitNOFILE",
    "SystemCallFilter", "SystemCallErrorNumber", "SystemCallArchitectures",
    "RestrictAddressFamilies", "MemoryDenyWriteExecute",
}
NOT_EMULATED = {
    "KillMode": "stop behaviour, not sandboxing",
    "TimeoutStopSec": "stop behaviour",
    "Restart": "restart policy",
    "RuntimeDirectoryPreserve": "what happens to /run/etmemd after stop",
    "ProtectKernelModules": "module syscalls are outside @system-service already",
    "ProtectKernelLogs": "/dev/kmsg is absent from the private /dev already",
    "ProtectClock": "clock syscalls: only settimeofday & co., outside @system-service",
    "ProtectHostname": "etmemd never sets the host name",
    "RestrictNamespaces": "etmemd creates no namespaces",
    "RestrictRealtime": "etmemd asks for no realtime scheduling",
    "RestrictSUIDSGID": "etmemd creates no files with set-id bits",
    "LockPersonality": "etmemd never calls personality()",
    "IPAddressDeny": "RestrictAddressFamilies=AF_UNIX leaves no IP socket",
}
API_TREES = ("/proc", "/sys", "/dev")
TUNABLES = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/acpi",
            "/proc/asound", "/proc/scsi", "/proc/mtrr", "/proc/latency_stats", "/proc/timer_stats")

libc = ctypes.CDLL(None, use_errno=True)
libcap = ctypes.CDLL("libcap.so.2", use_errno=True)


def die(msg):
    sys.exit(f"unit_sandbox: {msg}")


def parse_unit(path):
    """[Service] directives: name -> list of values, in order."""
    svc, section = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            if section == "Service":
                svc.setdefault(key.strip(), []).append(value.strip())
    for key in svc:
        if key not in EMULATED and key not in NOT_EMULATED:
            die(f"{path}: {key}= is neither emulated nor known to be irrelevant")
    return svc


def one(svc, key, default=None):
    return svc.get(key, [default])[-1]


def words(svc, key):
    return [w for value in svc.get(key, []) for w in value.split()]


def expand(cmdline, env):
    return [re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), w) for w in shlex.split(cmdline)]


def run(*argv):
    subprocess.run(argv, check=True)


def mountpoints():
    with open("/proc/self/mountinfo") as f:
        # Field 5 is the mount point, with octal escapes for blanks.
        points = [re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), l.split()[4]) for l in f]
    return sorted(set(points))


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def remount(point, mode):
    subprocess.run(["mount", "-o", f"remount,bind,{mode}", point], check=False, stderr=subprocess.DEVNULL)


def bind_self(path, mode):
    """Make @path (and every mount below it) a mount of mode ro|rw."""
    if path not in mountpoints():
        run("mount", "--bind", path, path)
    for point in mountpoints():
        if under(point, path):
            remount(point, mode)


def private_dev(dev_log):
    run("mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,noexec", "tmpfs", "/dev")
    for name, major, minor in (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
                               ("urandom", 1, 9), ("tty", 5, 0)):
        os.mknod(f"/dev/{name}", 0o20666, os.makedev(major, minor))
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/shm", 0o1777)
    run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", "/dev/shm")
    if dev_log:  # journald's /dev/log, here the test's own syslog sink
        open("/dev/log", "w").close()
        run("mount", "--bind", dev_log, "/dev/log")


def apply_mounts(svc, dev_log):
    """The unit's file-system view, in systemd's order: read-only first,
    then the private and hidden trees, then the writable holes."""
    if libc.unshare(CLONE_NEWNS) != 0:
        die(f"unshare: {os.strerror(ctypes.get_errno())}")
    run("mount", "--make-rprivate", "/")
    if one(svc, "ProtectSystem") not in (None, "strict"):
        die("only ProtectSystem=strict is emulated")
    if one(svc, "ProtectSystem") == "strict":
        for point in mountpoints():
            if not any(under(point, t) for t in API_TREES):
                remount(point, "ro")
    if one(svc, "ProtectKernelTunables") == "yes":
        for point in mountpoints():
            if under(point, "/sys"):
                remount(point, "ro")
        for path in TUNABLES:
            if os.path.exists(path):
                bind_self(path, "ro")
    if one(svc, "PrivateDevices") == "yes":  # first: dev_log may live in /tmp
        private_dev(dev_log)
    if one(svc, "PrivateTmp") == "yes":
        for path in ("/tmp", "/var/tmp"):
            run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", path)
    if one(svc, "ProtectHome") == "yes":
        for path in ("/home", "/root", "/run/user"):
            if os.path.isdir(path):
                run("mount", "-t", "tmpfs", "-o", "ro,mode=000", "tmpfs", path)
    writable = [f"/run/{d}" for d in words(svc, "RuntimeDirectory")]
    for path in words(svc, "ReadWritePaths"):
        optional = path.startswith("-")
        path = path.lstrip("-")
        if os.path.exists(path):
            writable.append(path)
        elif not optional:
            die(f"ReadWritePaths={path} does not exist (systemd would refuse to start)")
    for path in writable:
        bind_self(path, "rw")


def runtime_dirs(svc):
    mode = int(one(svc, "RuntimeDirectoryMode", "0755"), 8)
    for d in words(svc, "RuntimeDirectory"):
        path = f"/run/{d}"
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)


def drop_caps(svc):
    keep = set()
    for name in words(svc, "CapabilityBoundingSet"):
        val = ctypes.c_int()
        if libcap.cap_from_name(name.lower().encode(), ctypes.byref(val)) != 0:
            die(f"unknown capability {name}")
        keep.add(val.value)
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    if "CapabilityBoundingSet" in svc:
        for cap in range(last + 1):
            if cap not in keep and libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                die(f"PR_CAPBSET_DROP {cap}: {os.strerror(ctypes.get_errno())}")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if one(svc, "NoNewPrivileges") == "yes" and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("PR_SET_NO_NEW_PRIVS failed")


def limits(svc):
    """LimitNOFILE=N: soft and hard (systemd's N:M form and "infinity" are not used by the unit)."""
    n = one(svc, "LimitNOFILE")
    if n is not None:
        if not n.isdigit():
            die(f"LimitNOFILE={n}: only a plain number is emulated")
        n = int(n)
        with open("/proc/sys/fs/nr_open") as f:
            nr_open = int(f.read())
        if n > nr_open:
            die(f"LimitNOFILE={n}: above fs.nr_open ({nr_open}), systemd could not set it")
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        except (ValueError, PermissionError):
            # systemd (pid 1) may raise the hard limit; a test environment without
            # CAP_SYS_RESOURCE cannot: the closest it can do, said aloud.
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            print(f"unit_sandbox: LimitNOFILE={n}: the hard limit cannot be raised here "
                  f"(no CAP_SYS_RESOURCE); {hard} instead", file=sys.stderr)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def syscall_groups():
    """systemd's own syscall sets, from systemd-analyze syscall-filter."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand_filter(items, groups, seen=None):
    seen = set() if seen is None else seen
    for item in items:
        if item.startswith("@"):
            if item not in groups:
                die(f"unknown syscall group {item}")
            if item not in seen:
                seen.add(item)
                yield from expand_filter(groups[item], groups, seen)
        else:
            yield item


def add_allow(flt, name, *args):
    try:
        flt.add_rule(seccomp.ALLOW, name, *args)
    except (RuntimeError, ValueError):
        pass  # not a system call of this architecture: systemd skips those too


def conditional_rules(svc, flt, allowed):
    """mmap/mprotect/shmat under MemoryDenyWriteExecute, socket under
    RestrictAddressFamilies: allowed only with the arguments systemd allows."""
    A, MEQ = seccomp.Arg, seccomp.MASKED_EQ
    special = set()
    if one(svc, "MemoryDenyWriteExecute") == "yes":
        special |= {"mmap", "mprotect", "pkey_mprotect", "shmat"}
        for prot in (0, PROT_WRITE, PROT_EXEC):
            if "mmap" in allowed:
                add_allow(flt, "mmap", A(2, MEQ, PROT_WRITE | PROT_EXEC, prot))
        for name in ("mprotect", "pkey_mprotect"):
            if name in allowed:
                add_allow(flt, name, A(2, MEQ, PROT_EXEC, 0))
        if "shmat" in allowed:
            add_allow(flt, "shmat", A(2, MEQ, SHM_EXEC, 0))
    families = words(svc, "RestrictAddressFamilies")
    if families:
        if any(f.startswith("~") for f in families):
            die("only allow-lists of RestrictAddressFamilies= are emulated")
        special.add("socket")
        for fam in families:
            if "socket" in allowed:
                add_allow(flt, "socket", A(0, seccomp.EQ, getattr(socket, fam)))
        for fam in range(1, 46):  # the others fail as systemd makes them fail
            if fam not in [getattr(socket, f) for f in families]:
                flt.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", A(0, seccomp.EQ, fam))
    return special


def load_seccomp(svc):
    items = words(svc, "SystemCallFilter")
    if not items:
        if "MemoryDenyWriteExecute" in svc or "RestrictAddressFamilies" in svc:
            die("MemoryDenyWriteExecute=/RestrictAddressFamilies= are emulated with a SystemCallFilter= only")
        return
    if any(i.startswith("~") for i in items):
        die("only allow-lists of SystemCallFilter= are emulated")
    if one(svc, "SystemCallArchitectures", "native") != "native":
        die("only SystemCallArchitectures=native is emulated")
    errname = one(svc, "SystemCallErrorNumber")
    default = seccomp.ERRNO(getattr(errno, errname)) if errname else seccomp.KILL_PROCESS
    flt = seccomp.SyscallFilter(defaction=default)  # native architecture only
    # systemd adds @default to every allow-list (execve, exit_group, ...).
    allowed = set(expand_filter(["@default"] + items, syscall_groups()))
    special = conditional_rules(svc, flt, allowed)
    for name in sorted(allowed - special):
        add_allow(flt, name)
    flt.load()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--unit", required=True)
    ap.add_argument("--root", default="", help="ExecStart= binary is looked up below this directory")
    ap.add_argument("--setenv", action="append", default=[], help="VAR=VALUE over the unit's Environment=")
    ap.add_argument("--dev-log", help="unix datagram socket to bind at /dev/log in the private /dev")
    opts = ap.parse_args()
    svc = parse_unit(opts.unit)

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    for value in svc.get("Environment", []) + [shlex.quote(s) for s in opts.setenv]:
        env.update(w.split("=", 1) for w in shlex.split(value))
    for line in svc.get("ExecStartPre", []):
        if not line.startswith("+"):
            die("only '+' ExecStartPre= lines are emulated")
        run(*expand(line[1:], env))
    runtime_dirs(svc)
    argv = expand(one(svc, "ExecStart"), env)
    argv[0] = opts.root + argv[0]

    pid = os.fork()
    if pid == 0:
        try:
            apply_mounts(svc, opts.dev_log)
            os.umask(int(one(svc, "UMask", "0022"), 8))
            limits(svc)
            drop_caps(svc)
            load_seccomp(svc)
            os.execve(argv[0], argv, env)
        except BaseException as e:  # never return into the parent's code
            print(f"unit_sandbox: {e}", file=sys.stderr)
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


if __name__ == "__main__":
    main()
