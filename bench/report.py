#!/usr/bin/env python3
"""Combines the benchmark result files into bench/results/latest.json and prints a Markdown
report (throughput, ratios, recall per type, ordinary words kept, pipeline MB/s and RSS).

    python3 bench/report.py --results bench/results [--machine machine.json]

Reads from --results: cqda-full.json, pipeline.json and, for each JavaScript library L that
was run, js-L.json with cqda-L.json (cqda's anonymizer on exactly the same files).
Standard library only.
"""

import argparse
import json
import os
import sys

GROUPS = ["email", "phone", "url", "ip", "iban", "payment_card", "national_id", "postcode",
          "date_of_birth", "handle", "person_rostered", "person_unrostered", "place", "org"]
JS_LIBRARIES = ["redact-pii", "openredaction"]
AIM_RATIO = 10.0
AIM_DIRECT = 0.99
AIM_KEPT = 0.98
AIM_PIPELINE = 20.0


def load(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pct(x):
    return f"{x:.4f}"


def verdict(ok):
    return "met" if ok else "**not met**"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--machine")
    args = parser.parse_args()
    r = args.results
    full = load(os.path.join(r, "cqda-full.json"))
    pipeline = load(os.path.join(r, "pipeline.json"))
    machine = load(args.machine) if args.machine else None
    pairs = []
    for lib in JS_LIBRARIES:
        js = load(os.path.join(r, f"js-{lib}.json"))
        ours = load(os.path.join(r, f"cqda-{lib}.json"))
        if js and ours:
            pairs.append((lib, js, ours))
    if full is None:
        sys.exit("report: cqda-full.json is missing")

    out = []
    w = out.append
    if machine:
        w(f"Machine: {machine.get('cpu')} ({machine.get('nproc')} CPUs), {machine.get('memory')}, "
          f"kernel {machine.get('kernel')}, {machine.get('compiler')}, Node {machine.get('node')}\n")
    w(f"Corpus: {full['files']} files, {full['corpus_bytes'] / 1e6:.1f} MB "
      f"(MB = 10^6 bytes); anonymizer and library timings on one thread; best of "
      f"{len(full['runs_seconds'])} runs.\n")

    w("### Throughput\n")
    w("| what | text | MB/s | cqda anonymizer on the same text, MB/s | ratio |")
    w("| --- | --- | ---: | ---: | ---: |")
    w(f"| cqda anonymizer | full corpus, {full['corpus_bytes'] / 1e6:.1f} MB | "
      f"{full['mb_per_s']:.2f} | — | — |")
    for lib, js, ours in pairs:
        unit = "per paragraph" if js.get("unit") == "paragraph" else "per file"
        w(f"| {js['library']} ({unit}) | first {js['files']} files, "
          f"{js['corpus_bytes'] / 1e6:.1f} MB | {js['mb_per_s']:.3f} | {ours['mb_per_s']:.2f} | "
          f"{ours['mb_per_s'] / js['mb_per_s']:.1f}× |")
    if pipeline:
        w(f"| `cqda run` (offline coder, whole pipeline) | full corpus, "
          f"{pipeline['corpus_bytes'] / 1e6:.1f} MB | {pipeline['mb_per_s']:.2f} | — | — |")
        w(f"\nPeak RSS of `cqda run`: {pipeline['peak_rss_kib'] / 1024:.0f} MiB.\n")

    w("### Recall per type (share of planted (file, value) pairs gone from the output; "
      "per occurrence in brackets)\n")
    header = "| type | cqda, full corpus |"
    rule = "| --- | ---: |"
    for lib, js, ours in pairs:
        header += f" cqda, {lib} subset | {lib} |"
        rule += " ---: | ---: |"
    w(header)
    w(rule)

    def cell(res, key):
        if key == "DIRECT":
            t = res["recall_direct"]
        elif key == "ALL":
            t = res["recall_all"]
        else:
            t = res["recall"].get(key)
        if not t or t["values"] == 0:
            return "—"
        return f"{pct(t['recall'])} ({pct(t['recall_occurrences'])})"

    for key in GROUPS + ["DIRECT", "ALL"]:
        label = {"DIRECT": "**direct identifiers**", "ALL": "all types"}.get(key, key)
        row = f"| {label} | {cell(full, key)} |"
        for lib, js, ours in pairs:
            row += f" {cell(ours, key)} | {cell(js, key)} |"
        w(row)
    row = f"| **ordinary words kept** | {pct(full['kept']['share'])} |"
    for lib, js, ours in pairs:
        row += f" {pct(ours['kept']['share'])} | {pct(js['kept']['share'])} |"
    w(row)

    w("\n### Aims\n")
    d = full["recall_direct"]["recall"]
    k = full["kept"]["share"]
    w(f"* direct-identifier recall ≥ {AIM_DIRECT}: {pct(d)} per value, "
      f"{pct(full['recall_direct']['recall_occurrences'])} per occurrence — {verdict(d >= AIM_DIRECT)}")
    w(f"* ordinary words kept ≥ {AIM_KEPT}: {pct(k)} — {verdict(k >= AIM_KEPT)}")
    for lib, js, ours in pairs:
        ratio = ours["mb_per_s"] / js["mb_per_s"]
        w(f"* ≥ {AIM_RATIO:.0f}× the throughput of {lib}: {ratio:.1f}× — {verdict(ratio >= AIM_RATIO)}")
    if pipeline:
        w(f"* `cqda run` ≥ {AIM_PIPELINE:.0f} MB/s: {pipeline['mb_per_s']:.1f} MB/s — "
          f"{verdict(pipeline['mb_per_s'] >= AIM_PIPELINE)}")

    misses = {g: t for g, t in full["recall"].items() if t["recall"] < 1.0}
    if misses:
        w("\n### Examples of values the cqda anonymizer left in place\n")
        for g in GROUPS:
            ex = full.get("leak_examples", {}).get(g)
            if ex:
                w(f"* {g}: " + "; ".join(f"`{e}`" for e in ex[:4]))
    lost = full.get("lost_examples", {})
    if lost:
        w("\n### Ordinary-word contexts the cqda anonymizer changed\n")
        for word, share in sorted(full["kept"]["by_word"].items(), key=lambda kv: kv[1]["share"]):
            if share["share"] < 1.0:
                w(f"* {word}: {share['kept']}/{share['occurrences']} kept, e.g. "
                  + "; ".join(f"`{e}`" for e in lost.get(word, [])[:2]))

    report = "\n".join(out)
    print(report)
    latest = {"machine": machine, "cqda_full": full, "pipeline": pipeline,
              "comparisons": {lib: {"js": js, "cqda_same_text": ours} for lib, js, ours in pairs},
              "markdown": report}
    with open(os.path.join(r, "latest.json"), "w", encoding="utf-8") as f:
        json.dump(latest, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
