#!/usr/bin/env python3
"""Samples the resident memory of a process and all its descendants, summed, until stopped.

  rss.py --pid PID --out FILE --ready FILE [--interval 0.2]

Reads VmRSS from /proc/PID/status for PID and every descendant (found through
/proc/PID/task/*/children) every interval. Creates the --ready file once it samples (so a caller
can start the load after it, not during Python's start); on SIGTERM or SIGINT writes
{"samples", "mean_kib", "peak_kib", "processes"} to FILE. Shared pages (a forked child's
copy-on-write memory, shared libraries) count once per process, as RSS does.
"""
import argparse
import json
import os
import signal
import time


def descendants(pid):
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    queue.extend(int(c) for c in f.read().split())
        except OSError:
            pass  # the process ended between two reads
    return found


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    samples, processes = [], 0
    open(args.ready, "w").close()
    while not stop:
        pids = descendants(args.pid)
        processes = max(processes, len(pids))
        samples.append(sum(rss_kib(p) for p in pids))
        time.sleep(args.interval)
    with open(args.out, "w") as f:
        json.dump({"samples": len(samples),
                   "mean_kib": sum(samples) / len(samples) if samples else 0,
                   "peak_kib": max(samples, default=0),
                   "processes": processes}, f)


if __name__ == "__main__":
    main()
