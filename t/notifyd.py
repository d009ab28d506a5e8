#!/usr/bin/env python3
"""notifyd: systemd's side of the notify protocol, for t/sdnotify.bats.

Usage: notifyd.py [--no-read] ADDRESS OUT

Binds a unix datagram socket at ADDRESS (a path, or '@name' for an abstract
one) and appends each datagram to OUT as one line, "PID<TAB>TEXT", where PID
is the sender's (SO_PASSCRED, as systemd checks NotifyAccess=main) and the
message's newlines are written as '|'. With --no-read it binds and never
reads, so that the socket's queue fills: the daemon must not block on it.
Runs until SIGTERM.
"""
import os
import signal
import socket
import struct
import sys


def main():
    args = sys.argv[1:]
    no_read = False
    if args and args[0] == "--no-read":
        no_read = True
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    addr, out = args
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    if no_read:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # the test waits for this file: the socket is bound
    with open(out, "a"):
        pass
    if no_read:
        while True:
            signal.pause()
    ucred = struct.calcsize("3i")
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(ucred))
        pid = 0
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", cdata[:ucred])[0]
        text = data.decode("utf-8", "replace").rstrip("\n").replace("\n", "|")
        with open(out, "a") as f:
            f.write("%d\t%s\n" % (pid, text))


if __name__ == "__main__":
    main()
