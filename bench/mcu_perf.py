#!/usr/bin/env python3
"""Cortex-M4 table of docs/PERFORMANCE.md: instructions per Invoke and arena of
our reference, portable optimized and DSP kernels against TFLite Micro's
reference and CMSIS-NN kernels on the same emulated core (ref/mcu_perf.tsv),
plus the KWS-only firmware's library size at -Os (ref/mcu_footprint.tsv).

Inputs are the result files the firmware scripts write:
  scripts/mcu-test --targets m4 --kernels ref,opt,dsp --build B    -> B/results.tsv
  scripts/mcu-footprint --build F                                  -> F/footprint.tsv

usage: bench/mcu_perf.py RESULTS_TSV [--footprint FOOTPRINT_TSV] [--ref DIR]
                         [--update docs/PERFORMANCE.md]
With --update the table replaces the text between the cortex-m4 markers.
"""
import argparse
import csv
import os
import re
import sys

MODELS = ["kws_dscnn_int8", "vww_mobilenet_int8", "ic_resnet8_int8", "ad01_int8",
          "person_detect_int8", "micro_speech_int8", "hello_world_int8"]
BEGIN, END = "<!-- cortex-m4:begin -->", "<!-- cortex-m4:end -->"


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    return f"{int(v):,}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--footprint")
    ap.add_argument("--ref", default=os.environ.get(
        "TINYMLOPS_REF", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/ref")))
    ap.add_argument("--update")
    a = ap.parse_args()

    ours = {}
    for r in read_tsv(a.results):
        if r["target"] == "m4" and r["status"] == "PASS":
            ours[(r["model"], r["kernels"])] = r
    tflm = {}
    for r in read_tsv(os.path.join(a.ref, "mcu_perf.tsv")):
        if r["opt"] == "O2" and "@" not in r["model"]:
            tflm[(r["model"], r["kernels"])] = r

    out = ["| model | ours ref | ours opt | **ours DSP** | TFLM ref | TFLM + CMSIS-NN | "
           "DSP / CMSIS-NN | arena ours DSP | arena TFLM ref | arena TFLM + CMSIS-NN |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in MODELS:
        o = {k: ours.get((m, k)) for k in ("ref", "opt", "dsp")}
        t = {k: tflm.get((m, k)) for k in ("ref", "cmsis_nn")}
        if o["dsp"] is None or t["cmsis_nn"] is None:
            sys.exit(f"mcu_perf.py: no m4 dsp result or no TFLM row for {m}")
        cell = lambda r: num(r["instructions_per_invoke"]) if r else "-"
        ratio = int(o["dsp"]["instructions_per_invoke"]) / int(t["cmsis_nn"]["instructions_per_invoke"])
        out.append(f"| {m} | {cell(o['ref'])} | {cell(o['opt'])} | **{cell(o['dsp'])}** | "
                   f"{cell(t['ref'])} | {cell(t['cmsis_nn'])} | {ratio:.2f} | "
                   f"{num(o['dsp']['arena_used_bytes'])} | {num(t['ref']['arena_used_bytes'])} | "
                   f"{num(t['cmsis_nn']['arena_used_bytes'])} |")
    text = "\n".join(out) + "\n"

    if a.footprint:
        fp = {}
        for r in read_tsv(a.footprint):
            if r["component"] == "tinymlops":
                fp[(r["config"], r["kernels"])] = int(r["text"])
        tf = {}
        for r in read_tsv(os.path.join(a.ref, "mcu_footprint.tsv")):
            if r["opt"] == "Os" and r["component"].startswith("tflm_library_total"):
                tf[r["kernels"]] = int(r["text"])
        text += ("\nKWS-only firmware at `-Os` (its 6 operators, `--ops model`), text bytes of the "
                 "library (map-file split like ref/mcu_footprint.tsv):\n\n"
                 "| library | ref kernels | opt kernels | DSP kernels |\n|---|---:|---:|---:|\n")
        for cfg, label in (("default", "ours, default build"),
                           ("int8-lean", "ours, int8-lean (no float kernels, no error sentences)")):
            text += (f"| {label} | {num(fp[(cfg, 'ref')])} | {num(fp[(cfg, 'opt')])} | "
                     f"{num(fp[(cfg, 'dsp')])} |\n")
        text += f"| TFLite Micro (framework + kernels) | {num(tf['ref'])} | | {num(tf['cmsis_nn'])} (with CMSIS-NN) |\n"

    if a.update:
        with open(a.update) as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            sys.exit(f"mcu_perf.py: no {BEGIN} ... {END} in {a.update}")
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), BEGIN + "\n" + text + END, doc,
                     flags=re.S)
        with open(a.update, "w") as f:
            f.write(doc)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
