#!/usr/bin/env python3
"""Cortex-M tables of docs/PERFORMANCE.md from the firmware runs under QEMU.

Reads scripts/mcu-test's results.tsv (instructions per Invoke and arena bytes
per target, model and kernel set), scripts/mcu-footprint's footprint.tsv, and
TFLite Micro's figures for the same emulated Cortex-M4 (ref/mcu_perf.tsv,
ref/mcu_footprint.tsv); prints Markdown tables, and with --update rewrites
them between the mcu-perf markers of docs/PERFORMANCE.md.

usage: bench/mcu_perf.py RESULTS.tsv FOOTPRINT.tsv [--ref DIR] [--update docs/PERFORMANCE.md]
"""
import argparse
import os
import re
import sys


def read_tsv(path):
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        return [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def n(v):
    return "{:,}".format(int(v)) if v not in (None, "") else ""


def ratio(a, b):
    return "%.2f" % (int(a) / int(b)) if a and b else ""


def m4_table(results, tflm):
    ours = {(r["model"], r["kernels"]): r for r in results if r["target"] == "m4" and r["status"] == "PASS"}
    tf = {(r["model"], r["kernels"]): r for r in tflm if r["opt"] == "O2" and "@" not in r["model"]}
    models = sorted({m for m, _ in ours})
    out = ["| model | ours ref | ours opt | **ours DSP** | TFLM ref | TFLM + CMSIS-NN "
           "| ours DSP / CMSIS-NN | ours opt / CMSIS-NN "
           "| arena ours ref / opt / DSP (B) | arena TFLM ref / CMSIS-NN (B) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in models:
        r, o, d = ours.get((m, "ref"), {}), ours.get((m, "opt"), {}), ours.get((m, "dsp"), {})
        tr, tc = tf.get((m, "ref"), {}), tf.get((m, "cmsis_nn"), {})
        dsp = n(d.get("instructions_per_invoke"))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s |" % (
            m, n(r.get("instructions_per_invoke")), n(o.get("instructions_per_invoke")),
            "**%s**" % dsp if dsp else "",
            n(tr.get("instructions_per_invoke")) or "not measured",
            n(tc.get("instructions_per_invoke")) or "not measured",
            ratio(d.get("instructions_per_invoke"), tc.get("instructions_per_invoke")),
            ratio(o.get("instructions_per_invoke"), tc.get("instructions_per_invoke")),
            n(r.get("arena_used_bytes")), n(o.get("arena_used_bytes")), n(d.get("arena_used_bytes")),
            "%s / %s" % (n(tr.get("arena_used_bytes")), n(tc.get("arena_used_bytes")))
            if tr else ""))
    return "\n".join(out)


def other_targets_table(results):
    rows = [r for r in results if r["target"] != "m4" and r["status"] == "PASS"]
    targets = sorted({(r["target"], r["board"]) for r in rows}, key=lambda t: t[0])
    models = sorted({r["model"] for r in rows})
    get = {(r["target"], r["model"], r["kernels"]): r["instructions_per_invoke"] for r in rows}
    # the dsp set only exists on cores with the DSP extension
    sets = {t: [k for k in ("ref", "opt", "dsp") if any(r["target"] == t and r["kernels"] == k
                                                        for r in rows)] for t, _ in targets}
    head = "| model | " + " | ".join(
        " | ".join(("%s (%s) %s" % (t, b, k)) if i == 0 else "%s %s" % (t, k)
                   for i, k in enumerate(sets[t])) for t, b in targets) + " |"
    out = [head, "|---|" + "---:|" * sum(len(v) for v in sets.values())]
    for m in models:
        cells = []
        for t, _ in targets:
            cells += [n(get.get((t, m, k))) for k in sets[t]]
        out.append("| %s | %s |" % (m, " | ".join(cells)))
    return "\n".join(out)


def footprint_table(fp, tflm_fp):
    ours = {(r["config"], r["kernels"], r["component"]): r for r in fp}
    tf = {(r["kernels"], r["opt"], r["component"]): r for r in tflm_fp}
    cols = [("ours ref, default", ("default", "ref")), ("ours opt, default", ("default", "opt")),
            ("ours DSP, default", ("default", "dsp")), ("ours ref, int8-lean", ("int8-lean", "ref")),
            ("ours opt, int8-lean", ("int8-lean", "opt")), ("ours DSP, int8-lean", ("int8-lean", "dsp"))]
    out = ["| component (text bytes) | " + " | ".join(c for c, _ in cols) + " | TFLM ref | TFLM + CMSIS-NN |",
           "|---|" + "---:|" * (len(cols) + 2)]
    for comp, tcomp in [("tinymlops", "tflm_library_total(framework+kernels+cmsis_nn)"),
                        ("whole_elf", "whole_elf(arm-none-eabi-size)")]:
        cells = [n(ours.get((c, k, comp), {}).get("text")) for _, (c, k) in cols]
        cells += [n(tf.get(("ref", "Os", tcomp), {}).get("text")),
                  n(tf.get(("cmsis_nn", "Os", tcomp), {}).get("text"))]
        label = "device library" if comp == "tinymlops" else "whole firmware (incl. model, harness, libc)"
        out.append("| %s | %s |" % (label, " | ".join(cells)))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("footprint")
    ap.add_argument("--ref", default=os.environ.get("TINYMLOPS_REF",
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "ref")))
    ap.add_argument("--update")
    a = ap.parse_args()
    results = read_tsv(a.results)
    text = {
        "m4": m4_table(results, read_tsv(os.path.join(a.ref, "mcu_perf.tsv"))),
        "other": other_targets_table(results),
        "footprint": footprint_table(read_tsv(a.footprint), read_tsv(os.path.join(a.ref, "mcu_footprint.tsv"))),
    }
    if not a.update:
        for k, v in text.items():
            print(v + "\n")
        return
    doc = open(a.update).read()
    for k, v in text.items():
        begin, end = "<!-- mcu-perf-%s:begin -->" % k, "<!-- mcu-perf-%s:end -->" % k
        pat = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pat.search(doc):
            sys.exit("mcu_perf.py: no %s ... %s in %s" % (begin, end, a.update))
        doc = pat.sub(lambda _m: begin + "\n" + v + "\n" + end, doc)
    open(a.update, "w").write(doc)


if __name__ == "__main__":
    main()
