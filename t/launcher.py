#!/usr/bin/env python3
"""launcher: systemd's side of socket activation, for t/sdnotify.bats.

Usage: launcher.py [--pid-file FILE] [--wrong-pid] SOCKET... -- CMD [ARGS...]

SOCKET is NAME=ADDRESS: ADDRESS a unix socket path or HOST:PORT, NAME what
LISTEN_FDNAMES says of it (as FileDescriptorName=). The launcher binds and
listens on each, as systemd does for a .socket unit, then runs CMD with them
as descriptors 3, 4, ... and LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES set
(LISTEN_PID names another process with --wrong-pid). It holds the sockets
all along: when CMD exits, the launcher writes its exit status to the pid
file's ".exit" file and waits; SIGUSR1 runs CMD again, with the same
sockets, so a connection made in between waits in their queue. SIGTERM
passes SIGTERM on to CMD, waits for it and exits.
"""
import fcntl
import os
import signal
import socket
import sys


def listen(spec):
    name, _, addr = spec.partition("=")
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(addr):
            os.unlink(addr)
        s.bind(addr)
        os.chmod(addr, 0o666)
    else:
        host, _, port = addr.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
    s.listen(128)
    return name, s


def main():
    args = sys.argv[1:]
    pid_file = None
    wrong_pid = False
    while args and args[0].startswith("--") and args[0] != "--":
        if args[0] == "--pid-file":
            pid_file = args[1]
            args = args[2:]
        elif args[0] == "--wrong-pid":
            wrong_pid = True
            args = args[1:]
        else:
            sys.exit(__doc__)
    if "--" not in args:
        sys.exit(__doc__)
    k = args.index("--")
    socks = [listen(spec) for spec in args[:k]]
    cmd = args[k + 1:]
    child = 0
    stopping = False

    def start():
        nonlocal child
        pid = os.fork()
        if pid == 0:
            # out of the way of 3, 4, ... first, then into place
            high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100)
                    for _, s in socks]
            for i, h in enumerate(high):
                os.dup2(h, 3 + i, inheritable=True)
                os.close(h)
            env = dict(os.environ)
            env["LISTEN_PID"] = "1" if wrong_pid else str(os.getpid())
            env["LISTEN_FDS"] = str(len(socks))
            env["LISTEN_FDNAMES"] = ":".join(n for n, _ in socks)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.execvpe(cmd[0], cmd, env)
        child = pid
        if pid_file:
            if os.path.exists(pid_file + ".exit"):
                os.unlink(pid_file + ".exit")
            with open(pid_file + ".new", "w") as f:
                f.write("%d\n" % pid)
            os.rename(pid_file + ".new", pid_file)

    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGTERM,
                                              signal.SIGCHLD])
    start()
    while True:
        sig = signal.sigwait([signal.SIGUSR1, signal.SIGTERM, signal.SIGCHLD])
        if sig == signal.SIGTERM:
            stopping = True
            if child:
                os.kill(child, signal.SIGTERM)
            else:
                return 0
        elif sig == signal.SIGUSR1 and not child and not stopping:
            start()
        elif sig == signal.SIGCHLD:
            while child:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if pid == child:
                    child = 0
                    if pid_file:
                        with open(pid_file + ".exit", "w") as f:
                            f.write("%d\n" % os.waitstatus_to_exitcode(status))
            if stopping and not child:
                return 0


if __name__ == "__main__":
    sys.exit(main())
