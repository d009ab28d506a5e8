#!/usr/bin/env python3
"""Checks and masks access log lines made with t/accesslog.bats' explicit
format (fields KEY=VALUE separated by '|'), so that php-fpm's lines and
fpmd's can be compared: what differs between two servers or two runs
(CPU, durations, memory, pids, times) is checked for its syntax and its
consistency, then replaced by its key; everything else is kept.

usage: accessnorm.py LOG MASTER_PID WORKER_PIDS T0 T1
  WORKER_PIDS: comma-separated; T0, T1: epoch seconds around the requests.
Prints the masked lines; exits 1 (saying why) on a line that fails a check.
"""
import re
import sys

MASKED = "C Cu Cs Ct d ds dm du M Mk Mm p P t T tf Tf".split()
CLF_TIME = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$")


def check(n, f, master, workers, t0, t1):
    def need(cond, what):
        if not cond:
            sys.exit("line %d: %s: %r" % (n, what, f))

    for k in ("C", "Cu", "Cs", "Ct"):
        need(re.match(r"^\d+\.\d{2}$", f[k]), "%" + k + " is not N.NN")
    need(abs(float(f["Ct"]) - float(f["Cu"]) - float(f["Cs"])) <= 0.011,
         "total CPU is not user + system")
    need(re.match(r"^\d+\.\d{3}$", f["d"]), "%d is not N.NNN")
    need(f["ds"] == f["d"], "%{seconds}d differs from %d")
    need(re.match(r"^\d+\.\d{3}$", f["dm"]), "%{milli}d is not N.NNN")
    need(re.match(r"^\d+$", f["du"]), "%{micro}d is not a number")
    us = int(f["du"])
    need(abs(float(f["d"]) - us / 1e6) <= 0.0006, "%d and %{micro}d differ")
    need(abs(float(f["dm"]) - us / 1e3) <= 0.0006, "%{milli}d and %{micro}d differ")
    need(us < 30e6, "a duration over 30 s")
    need(re.match(r"^\d+$", f["M"]) and int(f["M"]) > 0, "%M is not a size")
    need(f["Mk"] == str(int(f["M"]) // 1024), "%{kilo}M is not %M / 1024")
    need(f["Mm"] == str(int(f["M"]) // 1048576), "%{mega}M is not %M / 1 MiB")
    need(f["P"] == master, "%P is not the master's pid")
    need(f["p"] in workers, "%p is not a worker's pid")
    need(CLF_TIME.match(f["t"]), "%t is not dd/Mon/yyyy:HH:MM:SS +zzzz")
    need(CLF_TIME.match(f["T"]), "%T is not dd/Mon/yyyy:HH:MM:SS +zzzz")
    need(re.match(r"^\d{4}-\d{2}-\d{2}$", f["tf"]), "%{%Y-%m-%d}t")
    need(t0 <= int(f["Tf"]) <= t1, "%{%s}T is not the time of the test")


def main():
    log, master, workers, t0, t1 = sys.argv[1:6]
    workers = set(workers.split(","))
    out = []
    with open(log, encoding="utf-8", errors="surrogateescape") as fp:
        for n, line in enumerate(fp, 1):
            if not line.endswith("\n"):
                sys.exit("line %d has no newline: %r" % (n, line))
            fields = line[:-1].split("|")
            f = {}
            for kv in fields:
                k, sep, v = kv.partition("=")
                if not sep:
                    sys.exit("line %d: field %r is not KEY=VALUE" % (n, kv))
                f[k] = v
            check(n, f, master, workers, int(t0), int(t1))
            out.append("|".join(k + "=" + (k if k in MASKED else v)
                                for k, v in f.items()))
    print("\n".join(out))


if __name__ == "__main__":
    main()
