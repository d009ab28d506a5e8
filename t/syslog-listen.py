#!/usr/bin/env python3
# A syslog daemon for the tests (t/logsock.bats): binds a unix datagram
# socket at argv[1] and appends every message it receives to argv[2], one
# per line, as it came.  fpmd is pointed at it with FPMD_SYSLOG_SOCKET.
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, 'ab', buffering=0) as f:
    while True:
        f.write(s.recv(1 << 20) + b'\n')
