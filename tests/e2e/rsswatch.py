#!/usr/bin/env python3
"""rsswatch.py PID OUT [INTERVAL_MS] - the memory of a process tree.

Until OUT.stop exists (or PID is gone), every INTERVAL_MS (default 20)
it reads the process PID and all its descendants (the milter, its
zygote, the workers the zygote forks, LibreOffice in bubblewrap) from
/proc and sums, over the processes alive at that moment, their resident
size (VmRSS); at each new largest sum also their proportional share
(Pss, from smaps_rollup: a page shared by several processes counts once
in all).  It then writes OUT as JSON: the largest sum (rss_kb), the Pss
sum at that sample (pss_kb) and how many processes were alive then
(procs_at_peak), the largest number of processes at once (most_procs),
the peak of PID itself (its VmHWM), and the largest VmHWM seen of any
other process (its own peak, between samples too).

A sample can miss a short peak between two samples: the sums are lower
bounds of the true peak, each process's VmHWM an upper bound of its own.
Used by tests/e2e/postfix-burst.sh (a limit check) and bench/memory.sh.
"""
import json
import os
import sys
import time


def children_of(pid):
    """The children of pid from /proc/PID/task/*/children, or None when
    the kernel has no such file (then the whole of /proc is read)."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids.extend(int(k) for k in f.read().split())
        except FileNotFoundError:
            return None
        except OSError:
            pass
    return kids


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append(int(d))
    return kids


def tree(root):
    kids = None
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        got = children_of(p) if kids is None else kids.get(p, [])
        if got is None:
            kids = children_map()
            got = kids.get(p, [])
        todo.extend(got)
    return out


def status_kb(pid, keys):
    got = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in keys:
                    got[k] = int(line.split()[1])
    except OSError:
        pass
    return got


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    root, out = int(sys.argv[1]), sys.argv[2]
    step = (int(sys.argv[3]) if len(sys.argv) > 3 else 20) / 1000.0
    best = {"rss_kb": 0, "pss_kb": 0, "procs_at_peak": [], "most_procs": 0,
            "root_hwm_kb": 0, "other_hwm_kb": 0, "samples": 0}
    while not os.path.exists(out + ".stop") and os.path.exists(
            "/proc/%d" % root):
        rss = 0
        procs = []
        for p in tree(root):
            st = status_kb(p, ("VmRSS", "VmHWM"))
            if "VmRSS" not in st:
                continue        # gone, or a kernel thread
            rss += st["VmRSS"]
            procs.append(p)
            if p == root:
                best["root_hwm_kb"] = max(best["root_hwm_kb"], st["VmHWM"])
            else:
                best["other_hwm_kb"] = max(best["other_hwm_kb"],
                                           st["VmHWM"])
        best["samples"] += 1
        best["most_procs"] = max(best["most_procs"], len(procs))
        if rss > best["rss_kb"]:
            # Pss only at a new peak: smaps_rollup walks every mapping.
            best["rss_kb"] = rss
            best["pss_kb"] = sum(pss_kb(p) for p in procs)
            best["procs_at_peak"] = len(procs)
        time.sleep(step)
    with open(out + ".tmp", "w") as f:
        json.dump(best, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
