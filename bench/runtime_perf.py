#!/usr/bin/env python3
"""Instructions per invoke and arena bytes of the runtime vs TFLite Micro.

For every model of ref/tflm_perf.tsv: runs bench/invoke_bench under callgrind
(1 warm-up invoke, 10 counted, input golden/dev/<model>/000.in, -O2 build),
exactly as TFLM's figures were measured, and prints a Markdown table. With
--update it rewrites the table between the markers in docs/PERFORMANCE.md.

usage: bench/runtime_perf.py BUILD_DIR [--ref DIR] [--update docs/PERFORMANCE.md] [--kernels opt|ref]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

RUNS = 10


def callgrind_ir(binary, model, inp):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
               f"--callgrind-out-file={out}", binary, model, inp, str(RUNS)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{model}: {res.stderr.strip()[-500:]}")
        arena = int(re.search(r"arena_bytes (\d+)", res.stdout).group(1))
        with open(out) as f:
            text = f.read()
        total = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
        return int(total.group(1)) // RUNS, arena


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--ref", default=os.environ.get("TINYMLOPS_REF", os.path.join(os.path.dirname(__file__), "../../shared/ref")))
    ap.add_argument("--update")
    ap.add_argument("--kernels", default="opt", choices=["opt", "ref"])
    args = ap.parse_args()
    binary = os.path.join(args.build, "bench", "invoke_bench" + ("_ref" if args.kernels == "ref" else ""))
    rows = []
    lines = open(os.path.join(args.ref, "tflm_perf.tsv")).read().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        r = dict(zip(head, line.split("\t")))
        name = r["model"]
        model = os.path.join(args.ref, "models", name + ".tflite")
        inp = os.path.join(args.ref, "golden", "dev", name, "000.in")
        if not os.path.exists(inp):
            inp = "-"
        try:
            ir, arena = callgrind_ir(binary, model, inp)
        except RuntimeError as e:
            print(f"{name}: not runnable: {e}", file=sys.stderr)
            rows.append((name, None, None, r))
            continue
        print(f"{name}: {ir} instructions, {arena} arena bytes", file=sys.stderr)
        rows.append((name, ir, arena, r))

    def num(s):
        return int(s) if s.isdigit() else None

    out = ["| model | ours (instr/invoke) | TFLM ref | ours / TFLM ref | TFLM CMSIS-NN | ours / CMSIS-NN | our arena (B) | TFLM arena (B) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, ir, arena, r in rows:
        ref_ir, cm_ir, ref_arena = num(r["instructions_per_invoke"]), num(r["instructions_per_invoke_cmsisnn"]), num(r["arena_used_bytes"])
        if ir is None:
            reason = "not runnable (TFLM: hybrid model unsupported)" if ref_ir is None else "FAILED"
            out.append(f"| {name} | {reason} | {r['instructions_per_invoke']} | | {r['instructions_per_invoke_cmsisnn']} | | | {r['arena_used_bytes']} |")
            continue
        ratio = f"{ir / ref_ir:.2f}" if ref_ir else "-"
        cratio = f"{ir / cm_ir:.2f}" if cm_ir else "-"
        out.append(f"| {name} | {ir:,} | {ref_ir:,} | {ratio} | {cm_ir:,} | {cratio} | {arena:,} | {ref_arena:,} |")
    table = "\n".join(out)
    print(table)
    if args.update:
        doc = open(args.update).read()
        begin, end = "<!-- runtime-perf:begin -->", "<!-- runtime-perf:end -->"
        if begin not in doc:
            raise SystemExit(f"{args.update}: markers {begin} / {end} not found")
        pre, rest = doc.split(begin, 1)
        _, post = rest.split(end, 1)
        open(args.update, "w").write(pre + begin + "\n" + table + "\n" + end + post)


if __name__ == "__main__":
    main()
