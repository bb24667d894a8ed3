#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Clients that ask etmemd for a large engine output and never read it.

usage: noread.py SOCKET_NAME PROJECT ENGINE COMMAND CONNECTIONS

Each connection sends one engine-command request and then sits on its
reply, so the daemon's worker stays blocked sending it until its reply
deadline or until etmemd shuts the socket down. Prints "ready" once every
request is sent, then sleeps until killed.
"""
import socket
import struct
import sys
import time

HDR = struct.Struct(">IBBHI")


def field(value):
    if value is None:
        return struct.pack(">H", 0xFFFF)
    b = value.encode()
    return struct.pack(">H", len(b)) + b


def main():
    name, proj, eng, cmd, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    payload = bytes([5]) + b"".join(field(v) for v in (proj, None, eng, cmd, None))
    frame = HDR.pack(0x45544D4D, 1, 0x01, 0, len(payload)) + payload
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect("\0" + name)
        s.sendall(frame)
        socks.append(s)
    print("ready", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
