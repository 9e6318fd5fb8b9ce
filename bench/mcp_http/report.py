#!/usr/bin/env python3
"""The report of bench/mcp_http.sh: a Markdown table and the aims' ratios from the run's JSON.

  report.py --run FILE --out FILE.md

FILE holds {"machine": {...}, "points": [{"server", "connections", "wrk": {...}, "rss": {...}}]}
as the script wrote it. A point with any failed request, socket error or timeout is marked not
valid, and so is every ratio that uses it.
"""
import argparse
import json

LABELS = {"cqda": "cqda (HTTPS)", "sdk": "MCP TypeScript SDK (HTTP)"}


def errors(point):
    w = point["wrk"]
    unanswered = max(0, w["requests"] - w["good"] - sum(w["failed"].values()))
    return sum(w["failed"].values()) + sum(w["socket_errors"].values()) + unanswered


def describe_errors(point):
    w = point["wrk"]
    parts = [f"{n}× {k}" for k, n in sorted(w["failed"].items())]
    parts += [f"{n} socket {k}" for k, n in sorted(w["socket_errors"].items()) if n]
    return ", ".join(parts)


def rps(point):
    w = point["wrk"]
    return w["good"] / (w["duration_us"] / 1e6)


def mib(kib):
    return kib / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.run) as f:
        run = json.load(f)
    m = run["machine"]
    points = run["points"]
    find = {(p["server"], p["connections"]): p for p in points}

    lines = ["# MCP over HTTP: cqda against the official MCP TypeScript SDK", ""]
    lines.append(f"Machine: {m['cpu']} ({m['nproc']} CPUs), {m['memory']}, kernel {m['kernel']}; "
                 f"load average before the run {m['load_before']}, after {m['load_after']}.")
    lines.append(f"cqda: {m['cqda_build']}; {m['sdk']} on Node {m['node']}; {m['wrk']}.")
    lines.append(f"Each point: {m['warmup_s']} s warm-up, then {m['seconds']} s measured; "
                 "one keep-alive connection per wrk thread, one MCP session per connection; "
                 "`tools/call read_document` (limit 20), the same "
                 f"{m['result_bytes']}-byte result from both servers.")
    if m.get("cqda_extra_args"):
        lines.append(f"cqda serve extra arguments: `{m['cqda_extra_args']}`.")
    lines += ["", "| server | connections | requests/s | p50 ms | p99 ms | errors | RSS MiB (mean / peak) |",
              "| --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    for p in points:
        w, r = p["wrk"], p["rss"]
        n = errors(p)
        err = "0" if n == 0 else f"**{n} of {w['requests']}** ({describe_errors(p)})"
        lines.append(f"| {LABELS[p['server']]} | {p['connections']} | {rps(p):,.0f} | {w['p50_us'] / 1000:.2f} | "
                     f"{w['p99_us'] / 1000:.2f} | {err} | {mib(r['mean_kib']):.1f} / {mib(r['peak_kib']):.1f} |")
    lines += ["", "requests/s counts good answers only (200 with a JSON-RPC result); latencies cover every "
              "answer, refusals included. RSS is summed over the server's process tree "
              f"(cqda: supervisor and broker, {max(p['rss']['processes'] for p in points if p['server'] == 'cqda')} "
              "processes; the SDK: one Node process), sampled every 0.2 s during the point.", ""]

    def valid(*keys):
        bad = [k for k in keys if k not in find or errors(find[k]) > 0]
        return "" if not bad else " — **not a valid measurement** (" + "; ".join(
            f"{LABELS[s]} at {c}: {errors(find[(s, c)])} errors" if (s, c) in find else f"{s} at {c}: missing"
            for s, c in bad) + ")"

    lines.append("## Aims")
    lines.append("")
    c16, s16, c1 = ("cqda", 16), ("sdk", 16), ("cqda", 1)
    if c16 in find and s16 in find:
        ratio = rps(find[c16]) / rps(find[s16]) if rps(find[s16]) else float("inf")
        met = "met" if ratio >= 5 else "**not met**"
        lines.append(f"* throughput at 16 connections, cqda (TLS) / SDK (plain HTTP) ≥ 5×: "
                     f"{rps(find[c16]):,.0f} / {rps(find[s16]):,.0f} = {ratio:.2f}× — {met}{valid(c16, s16)}")
        mem = find[c16]["rss"]["mean_kib"] / find[s16]["rss"]["mean_kib"]
        peak = find[c16]["rss"]["peak_kib"] / find[s16]["rss"]["peak_kib"]
        met = "met" if mem <= 0.2 else "**not met**"
        lines.append(f"* memory during the 16-connection point, cqda / SDK ≤ 1/5 (0.20): mean "
                     f"{mib(find[c16]['rss']['mean_kib']):.1f} / {mib(find[s16]['rss']['mean_kib']):.1f} MiB = {mem:.2f}"
                     f" (peak {peak:.2f}) — {met}{valid(c16, s16)}")
    if c1 in find:
        p99 = find[c1]["wrk"]["p99_us"] / 1000
        met = "met" if p99 < 5 else "**not met**"
        lines.append(f"* cqda p99 at 1 connection < 5 ms: {p99:.2f} ms — {met}{valid(c1)}")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
