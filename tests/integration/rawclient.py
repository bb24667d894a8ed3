#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Hostile and raw clients for etmemd's socket (integration tests).

usage: rawclient.py SOCKET_NAME SCENARIO
       rawclient.py SOCKET_NAME add PATH
Scenarios print one line per check and exit non-zero on a failed check.
"""
import socket
import struct
import sys
import time

MAGIC = 0x45544D4D
HDR = struct.Struct(">IBBHI")
REQUEST, DATA, END = 0x01, 0x81, 0x82


def connect(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect("\0" + name)
    return s


def read_reply(s):
    """Frames until END or EOF: (data bytes, status or None, message)."""
    data = b""
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return data, None, ""
        if not chunk:
            return data, None, ""
        buf += chunk
        while len(buf) >= HDR.size:
            magic, ver, typ, flags, length = HDR.unpack_from(buf)
            if magic != MAGIC or len(buf) < HDR.size + length:
                break
            payload = buf[HDR.size:HDR.size + length]
            buf = buf[HDR.size + length:]
            if typ == DATA:
                data += payload
            elif typ == END:
                status = struct.unpack(">i", payload[:4])[0]
                return data, status, payload[4:].decode("utf-8", "replace")


def field(value):
    if value is None:
        return struct.pack(">H", 0xFFFF)
    b = value.encode()
    return struct.pack(">H", len(b)) + b


def request(cmd, proj=None, file=None, eng=None, eng_cmd=None, task=None):
    payload = bytes([cmd]) + b"".join(field(v) for v in (proj, file, eng, eng_cmd, task))
    return HDR.pack(MAGIC, 1, REQUEST, 0, len(payload)) + payload


def expect_error_or_close(name, what, raw, half_close=True):
    s = connect(name)
    try:
        s.sendall(raw)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        data, status, msg = read_reply(s)
    except (BrokenPipeError, ConnectionResetError):
        status, msg = None, "connection closed"
    finally:
        s.close()
    if status == 0:
        print(f"FAIL: {what}: accepted")
        return False
    print(f"ok: {what}: status={status} {msg!r}")
    return True


def garbage(name):
    ok = True
    cases = [
        ("empty request", b""),
        ("random bytes", bytes(range(256)) * 4),
        ("truncated header", HDR.pack(MAGIC, 1, REQUEST, 0, 10)[:7]),
        ("bad magic", HDR.pack(0x12345678, 1, REQUEST, 0, 0)),
        ("future version", HDR.pack(MAGIC, 99, REQUEST, 0, 0)),
        ("oversized length", HDR.pack(MAGIC, 1, REQUEST, 0, 0xFFFFFFFF)),
        ("length just past the limit", HDR.pack(MAGIC, 1, REQUEST, 0, 64 * 1024 + 1)),
        ("truncated payload", request(4)[:-3]),
        ("reply frame type as request", HDR.pack(MAGIC, 1, END, 0, 0)),
        ("unknown command", request(200)),
        ("trailing bytes", request(4)[:-0] + b"x"),
        ("nonzero flags", HDR.pack(MAGIC, 1, REQUEST, 7, 0)),
        ("relative config path", request(0, file="relative.yaml")),
        ("start without a project", request(2)),
        ("old text protocol", b"proj_name - file_name - cmd 4 eng_name - eng_cmd - task_name -"),
    ]
    for what, raw in cases:
        ok &= expect_error_or_close(name, what, raw)
    # Oversized request actually sent: the daemon must refuse before reading it all.
    ok &= expect_error_or_close(name, "1 MiB payload sent", HDR.pack(MAGIC, 1, REQUEST, 0, 1 << 20) + b"A" * (1 << 20))
    return ok


def silent(name):
    """A client that connects and says nothing must not stall others."""
    quiet = [connect(name) for _ in range(8)]
    s = connect(name)
    s.sendall(request(4))
    data, status, msg = read_reply(s)
    s.close()
    ok = status == 0
    print(("ok" if ok else "FAIL") + f": show answered while 8 silent clients are connected (status={status})")
    # The daemon drops the silent ones after its receive timeout.
    t0 = time.monotonic()
    closed = 0
    for q in quiet:
        q.settimeout(30)
        d, st, m = read_reply(q)
        closed += 1
        q.close()
    print(f"ok: {closed} silent clients dropped by the daemon after {time.monotonic() - t0:.1f}s")
    return ok


def trickle(name):
    """A request trickled one byte per 1.5 s must be cut off by the 5 s deadline."""
    raw = request(4)
    s = connect(name)
    t0 = time.monotonic()
    cut = False
    for b in raw:
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            cut = True
            break
        s.settimeout(1.5)
        try:
            chunk = s.recv(4096)
            if chunk == b"" or chunk[:4] == struct.pack(">I", MAGIC):
                cut = True
                break
        except socket.timeout:
            pass
        if time.monotonic() - t0 > 15:
            break
    s.close()
    print(("ok" if cut else "FAIL") + f": trickling client cut off after {time.monotonic() - t0:.1f}s")
    return cut


def show_raw(name):
    s = connect(name)
    s.sendall(request(4))
    data, status, msg = read_reply(s)
    s.close()
    sys.stdout.write(data.decode("utf-8", "replace"))
    return status == 0


def add_raw(name, path):
    """obj add of PATH exactly as given (etmem would resolve it first); prints the END message."""
    s = connect(name)
    s.sendall(request(0, file=path))
    data, status, msg = read_reply(s)
    s.close()
    print(f"status={status} {msg}")
    return status == 0


if __name__ == "__main__":
    sock, scenario = sys.argv[1], sys.argv[2]
    if scenario == "add":
        sys.exit(0 if add_raw(sock, sys.argv[3]) else 1)
    fn = {"garbage": garbage, "silent": silent, "trickle": trickle, "show": show_raw}[scenario]
    sys.exit(0 if fn(sock) else 1)
