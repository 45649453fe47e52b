#!/usr/bin/env python3
"""Writes the C table of models and golden samples a firmware embeds (fw_models.h).

The bytes stay in ../shared/ref: the generated C file pulls them in with the
assembler's .incbin, so nothing of the reference data is ever copied into the
repository. Usage:

  gen_models.py --ref DIR --list MODEL...          print the resolved model names
  gen_models.py --ref DIR --out FILE.c [--ops OPS] MODEL...    write the table

OPS names the operators the firmware links (its op table, tinymlops/ops.h):
"all" (default: tmo_ops_all, every kernel), "model" (exactly the operators the
embedded models use, from MODELS.tsv), or a comma-separated list of builtin names.

MODEL is a name from DIR/golden/dev (its model is DIR/models/NAME.tflite),
zoo:NAME for DIR/zoo (DIR/zoo/models/NAME.tflite, DIR/zoo/golden/NAME; stateful
per DIR/zoo/MODELS.tsv), or "all" (every model of DIR/golden/dev).
A sample is every NNN.in with its NNN.out (NNN.reset.out files are not used).
"""
import argparse
import os
import re
import sys


def fail(msg):
    sys.stderr.write("gen_models.py: " + msg + "\n")
    sys.exit(1)


def zoo_stateful(ref):
    path = os.path.join(ref, "zoo", "MODELS.tsv")
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        if "slug" not in header or "stateful" not in header:
            return out
        si, st = header.index("slug"), header.index("stateful")
        for row in f:
            cols = row.rstrip("\n").split("\t")
            if len(cols) > max(si, st):
                out[cols[si]] = cols[st].strip() == "yes"
    return out


def resolve(ref, spec):
    """(name, model_path, golden_dir, stateful) for one MODEL argument."""
    if spec.startswith("zoo:"):
        name = spec[4:]
        model = os.path.join(ref, "zoo", "models", name + ".tflite")
        golden = os.path.join(ref, "zoo", "golden", name)
        stateful = zoo_stateful(ref).get(name, False)
    else:
        name = spec
        model = os.path.join(ref, "models", name + ".tflite")
        golden = os.path.join(ref, "golden", "dev", name)
        stateful = False
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        fail("model name %r: only letters, digits, '_', '-', '.'" % spec)
    if not os.path.isfile(model):
        fail("%s: no model file %s" % (spec, model))
    if not os.path.isdir(golden):
        fail("%s: no golden directory %s" % (spec, golden))
    return name, model, golden, stateful


def model_ops(ref, spec):
    """Builtin operator names a model uses, from its MODELS.tsv row."""
    if spec.startswith("zoo:"):
        path, name = os.path.join(ref, "zoo", "MODELS.tsv"), spec[4:]
    else:
        path, name = os.path.join(ref, "models", "MODELS.tsv"), spec
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        col = next((i for i, h in enumerate(header) if h == "ops" or h.startswith("ops(")), None)
        key = 0
        if col is None:
            fail("%s: no ops column" % path)
        for row in f:
            cols = row.rstrip("\n").split("\t")
            if cols[key] == name and len(cols) > col:
                return [op.split(":")[0] for op in cols[col].split(",") if op]
    fail("%s: no row for %s" % (path, name))


def expand(ref, specs):
    out = []
    for spec in specs:
        if spec == "all":
            dev = os.path.join(ref, "golden", "dev")
            if not os.path.isdir(dev):
                fail("no %s" % dev)
            for name in sorted(os.listdir(dev)):
                if os.path.isfile(os.path.join(ref, "models", name + ".tflite")):
                    out.append(name)
        else:
            out.append(spec)
    seen = set()
    return [s for s in out if not (s in seen or seen.add(s))]


def samples(golden):
    names = []
    for f in sorted(os.listdir(golden)):
        if f.endswith(".in"):
            base = f[:-3]
            if os.path.isfile(os.path.join(golden, base + ".out")):
                names.append(base)
    # 000 first: it is the timed sample
    names.sort(key=lambda n: (n != "000", n))
    return names


def asm_path(path):
    return os.path.abspath(path).replace("\\", "\\\\").replace('"', '\\"')


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_ops():
    """Builtin names this build has kernels for (runtime/kernels/ops.def)."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    names = {}
    with open(os.path.join(root, "include", "tinymlops", "builtins.h")) as f:
        for line in f:
            m = re.match(r"#define TMO_BUILTIN_NAME_(\d+) (\w+)", line)
            if m:
                names[int(m.group(1))] = m.group(2)
    have = set()
    with open(os.path.join(root, "runtime", "kernels", "ops.def")) as f:
        for line in f:
            m = re.match(r"\s*X\((\d+),", line)
            if m and int(m.group(1)) in names:
                have.add(names[int(m.group(1))])
    return have


def ops_table(ref, specs, ops):
    if ops == "all":
        return "const tmo_op_table *const fw_ops = &tmo_ops_all;"
    names = set()
    missing = ""
    if ops == "model":
        for spec in specs:
            names.update(model_ops(ref, spec))
        # Operators without a kernel here: the model then fails at init, naming the operator.
        lacking = sorted(n for n in names - build_ops())
        names -= set(lacking)
        if lacking:
            missing = "/* not in this build: %s */\n" % ", ".join(lacking)
    else:
        names.update(n.strip() for n in ops.split(",") if n.strip())
    for n in names:
        if not re.fullmatch(r"[A-Z0-9_]+", n):
            fail("operator %r: not a builtin operator name (a custom operator?)" % n)
    entries = ", ".join("TMO_OP(%s)" % n for n in sorted(names)) or "NULL"
    return (missing + "static const tmo_op_reg *const named_ops[] = {%s};\n"
            "static const tmo_op_table named = TMO_OP_TABLE(named_ops);\n"
            "const tmo_op_table *const fw_ops = &named;" % entries)


def write_table(ref, specs, out_path, ops="all"):
    models = [resolve(ref, s) for s in specs]
    asm, decls, tables, rows, deps = [], [], [], [], []
    for mi, (name, model, golden, stateful) in enumerate(models):
        sym = "fw_m%d" % mi
        asm.append('".section .tmo_model,\\"a\\",%progbits\\n"')
        asm.append('".balign 16\\n%s_model: .incbin \\"%s\\"\\n"' % (sym, asm_path(model)))
        asm.append('".section .tmo_golden,\\"a\\",%progbits\\n"')
        decls.append("extern const uint8_t %s_model[];" % sym)
        deps.append(model)
        entries = []
        for si, base in enumerate(samples(golden)):
            for kind in ("in", "out"):
                p = os.path.join(golden, base + "." + kind)
                asm.append('".balign 4\\n%s_s%d_%s: .incbin \\"%s\\"\\n"' % (sym, si, kind, asm_path(p)))
                decls.append("extern const uint8_t %s_s%d_%s[];" % (sym, si, kind))
                deps.append(p)
            entries.append("    {%s, %s_s%d_in, %du, %s_s%d_out, %du},"
                           % (c_string(base), sym, si, os.path.getsize(os.path.join(golden, base + ".in")),
                              sym, si, os.path.getsize(os.path.join(golden, base + ".out"))))
        if not entries:
            fail("%s: no samples (NNN.in + NNN.out) in %s" % (name, golden))
        tables.append("static const fw_sample %s_samples[] = {\n%s\n};" % (sym, "\n".join(entries)))
        rows.append("    {%s, %s_model, %du, %s_samples, %du, %d},"
                    % (c_string(name), sym, os.path.getsize(model), sym, len(entries), 1 if stateful else 0))
    stamp = "\n".join(" * %s %d %d" % (p, os.path.getsize(p), os.stat(p).st_mtime_ns) for p in deps)
    text = """/*
 * Generated by ports/qemu-mps/gen_models.py: do not edit, do not commit.
 * Embedded files (size, mtime: a change rebuilds this file):
%s
 */
#include "fw_models.h"
#include "tinymlops/ops.h"

/* Operators this firmware links (--ops %s). */
%s

__asm__(".pushsection .tmo_golden,\\"a\\",%%progbits\\n"
%s
        ".popsection\\n");

%s

%s

const fw_model fw_models[] = {
%s
};
const uint32_t fw_model_count = %du;
""" % (stamp, ops, ops_table(ref, specs, ops), "\n".join("        " + a for a in asm), "\n".join(decls), "\n\n".join(tables),
       "\n".join(rows), len(rows))
    old = None
    if os.path.exists(out_path):
        with open(out_path) as f:
            old = f.read()
    if old != text:
        with open(out_path, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True, help="reference data directory (../shared/ref)")
    ap.add_argument("--out", help="C file to write")
    ap.add_argument("--list", action="store_true", help="print the resolved model names, one a line")
    ap.add_argument("--ops", default="all", help="op table: all, model, or NAME,NAME,...")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    specs = expand(a.ref, a.models)
    if a.list:
        for s in specs:
            resolve(a.ref, s)
            print(s)
        return
    if not a.out:
        fail("--out or --list is needed")
    write_table(a.ref, specs, a.out, a.ops)


if __name__ == "__main__":
    main()
