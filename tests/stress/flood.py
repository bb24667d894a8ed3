#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""A slow-client flood on etmemd's socket (stress tests).

usage: flood.py SOCKET_NAME CONNECTIONS SECONDS

Keeps CONNECTIONS connections open for SECONDS, each sending one byte of a
valid `project show` request every 0.5 s, as slowly as a peer can without
going silent. A connection the daemon closes is opened again at the next
tick, so the flood never lets up. Run it as any user: the test runs it as
nobody, and as root. Prints "ready" once every connection was opened once,
and at the end one JSON line: connects, closed (by the daemon), refused
(connect failed), max_open.
"""
import errno
import json
import signal
import socket
import struct
import sys
import time

MAGIC = 0x45544D4D
HDR = struct.Struct(">IBBHI")
TICK = 0.5


def request_bytes():
    payload = bytes([4]) + struct.pack(">H", 0xFFFF) * 5
    return HDR.pack(MAGIC, 1, 0x01, 0, len(payload)) + payload


class Conn:
    def __init__(self):
        self.sock = None
        self.sent = 0


def open_conn(name, c, stats):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect("\0" + name)
    except OSError:
        # Backlog full (EAGAIN) or no daemon: try again next tick.
        s.close()
        stats["refused"] += 1
        return
    c.sock, c.sent = s, 0
    stats["connects"] += 1


def closed_by_peer(s):
    """True when the daemon closed this connection; replies are read and dropped.

    An EOF alone is not a close: a daemon that half-closes (shutdown
    SHUT_WR) while it still reads is exactly what a slow client can hold on
    to, so the flood goes on sending until a send or a read fails.
    """
    try:
        while s.recv(4096):
            pass
        return False
    except BlockingIOError:
        return False
    except OSError:
        return True


def tick(name, conns, req, stats):
    for c in conns:
        if c.sock is not None and closed_by_peer(c.sock):
            c.sock.close()
            c.sock = None
            stats["closed"] += 1
        if c.sock is None:
            open_conn(name, c, stats)
            continue
        try:
            c.sock.send(req[c.sent % len(req):c.sent % len(req) + 1], socket.MSG_DONTWAIT)
            c.sent += 1
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                raise
            c.sock.close()
            c.sock = None
            stats["closed"] += 1


def main():
    name, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    req = request_bytes()
    conns = [Conn() for _ in range(n)]
    stats = {"connects": 0, "closed": 0, "refused": 0, "max_open": 0}
    end = [time.monotonic() + seconds]
    announced = False

    def stop(signum, frame):
        end[0] = 0

    # SIGTERM ends the flood early, still with its summary.
    signal.signal(signal.SIGTERM, stop)
    while time.monotonic() < end[0]:
        t0 = time.monotonic()
        tick(name, conns, req, stats)
        stats["max_open"] = max(stats["max_open"], sum(c.sock is not None for c in conns))
        if not announced and stats["connects"] >= n:
            print("ready", flush=True)
            announced = True
        time.sleep(max(0.0, min(TICK - (time.monotonic() - t0), end[0] - time.monotonic())))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
