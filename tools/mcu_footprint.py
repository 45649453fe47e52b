#!/usr/bin/env python3
"""Splits a firmware's size by component from its GNU ld map file (-Wl,-Map).

Every input section of an allocated output section is attributed to the
archive member or object it came from, the way ../shared/ref/mcu_footprint.tsv
splits TFLite Micro's KWS firmware:

  tinymlops  members of libtinymlops_runtime*.a (the device library)
  model      the embedded .tflite (section .tmo_model)
  golden_io  embedded golden inputs/outputs and their tables (the rest of data_*.c)
  app        the harness and the board port (golden_main, startup, semihosting, ...)
  arena      the interpreter's arena (section .arena)
  stack      the stack reservation (output section .stack)
  newlib     libc / libm / libnosys members
  libgcc     libgcc members
  linker     alignment fill (*fill* in the map)
  merge_adjust  what string merging saved: the map lists mergeable strings before
             duplicates are dropped, so this (negative) row makes the rows sum up

text / data / bss follow arm-none-eabi-size (Berkeley): code and read-only data
are text, initialized writable data is data, NOLOAD / zeroed sections are bss.
The rows sum to the output sections' sizes; whole_elf gives those totals.

Usage: tools/mcu_footprint.py MAP [--max-library-text BYTES]
Prints a TSV (component, text, data, bss); with --max-library-text exits 1 when
the tinymlops row's text exceeds BYTES.
"""
import argparse
import re
import sys

NOT_ALLOCATED = (".debug", ".comment", ".ARM.attributes", ".stab", ".note", ".gnu.attributes")
DATA_SECTIONS = (".data",)
BSS_SECTIONS = (".bss", ".stack", ".arena", ".heap", ".noinit")
ROWS = ["tinymlops", "model", "golden_io", "app", "arena", "stack", "newlib", "libgcc", "linker",
        "merge_adjust"]


def kind_of(out_name):
    if out_name.startswith(BSS_SECTIONS):
        return "bss"
    if out_name.startswith(DATA_SECTIONS):
        return "data"
    return "text"


def component(path, in_name, out_name):
    if "libtinymlops_runtime" in path:
        return "tinymlops"
    if re.search(r"lib(c|c_nano|m|g|g_nano|nosys|rdimon)\.a\(", path) or "crt0" in path:
        return "newlib"
    if "libgcc.a(" in path or re.search(r"crt[ine]|crtbegin|crtend", path):
        return "libgcc"
    if path == "*fill*":
        return "stack" if out_name.startswith(".stack") else "linker"
    if in_name.startswith(".tmo_model"):
        return "model"
    if re.search(r"data_[^/]*\.c\.obj$", path) or in_name.startswith(".tmo_golden"):
        return "golden_io"
    if out_name.startswith(".arena"):
        return "arena"
    return "app"


def parse(path, handle):
    lines = open(path).read().splitlines()
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        sys.exit("mcu_footprint.py: %s: not a GNU ld map file" % path)
    out_name = None
    pending = None  # an input or output section name whose address/size are on the next line
    num = r"0x[0-9a-fA-F]+"
    for line in lines[start + 1:]:
        if pending is not None:
            m = re.match(r"\s+(%s)\s+(%s)\s*(.*)$" % (num, num), line)
            name, is_out = pending
            pending = None
            if m:
                handle(name, is_out, int(m.group(2), 16), m.group(3).strip())
            continue
        if not line.strip() or line.startswith("LOAD ") or line.startswith(("START GROUP", "END GROUP")):
            continue
        m = re.match(r"^(\.[^\s]+)\s*$", line)
        if m:  # output section, address and size on the next line
            pending = (m.group(1), True)
            continue
        m = re.match(r"^(\.[^\s]+)\s+(%s)\s+(%s)" % (num, num), line)
        if m:
            out_name = m.group(1)
            handle(out_name, True, int(m.group(3), 16), "")
            continue
        if re.match(r"^[^\s]", line):  # another top-level statement: not a section
            out_name = None if not line.startswith(".") else out_name
            continue
        if out_name is None or out_name.startswith(NOT_ALLOCATED):
            continue
        m = re.match(r"^ \*fill\*\s+(%s)\s+(%s)" % (num, num), line)
        if m:
            handle("*fill*", False, int(m.group(2), 16), "*fill*")
            continue
        m = re.match(r"^ ([^\s*][^\s]*)\s*$", line)
        if m:
            pending = (m.group(1), False)
            continue
        m = re.match(r"^ ([^\s*][^\s]*)\s+(%s)\s+(%s)\s+(.+)$" % (num, num), line)
        if m:
            handle(m.group(1), False, int(m.group(3), 16), m.group(4).strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("map")
    ap.add_argument("--max-library-text", type=int)
    a = ap.parse_args()
    state = {"out": None}
    totals, parts = {}, {}

    def handle(name, is_out, size, path):
        if is_out:
            state["out"] = name
            if not name.startswith(NOT_ALLOCATED):
                totals[name] = size
            return
        out = state["out"]
        if out is None or out.startswith(NOT_ALLOCATED) or size == 0:
            return
        key = (component(path, name, out), kind_of(out))
        parts[key] = parts.get(key, 0) + size
        state.setdefault("inputs", {})
        state["inputs"][out] = state["inputs"].get(out, 0) + size

    parse(a.map, handle)
    inputs = state.get("inputs", {})
    for out, size in totals.items():
        rest = size - inputs.get(out, 0)
        if rest:
            comp = "stack" if out.startswith(".stack") else "merge_adjust"
            key = (comp, kind_of(out))
            parts[key] = parts.get(key, 0) + rest
    whole = {k: sum(v for (c, kk), v in parts.items() if kk == k) for k in ("text", "data", "bss")}
    print("component\ttext\tdata\tbss")
    print("whole_elf\t%d\t%d\t%d" % (whole["text"], whole["data"], whole["bss"]))
    for row in ROWS:
        print("%s\t%d\t%d\t%d" % (row, parts.get((row, "text"), 0), parts.get((row, "data"), 0),
                                  parts.get((row, "bss"), 0)))
    lib_text = parts.get(("tinymlops", "text"), 0)
    if a.max_library_text is not None and lib_text > a.max_library_text:
        sys.stderr.write("mcu_footprint.py: the device library has %d bytes of text, more than %d\n"
                         % (lib_text, a.max_library_text))
        sys.exit(1)


if __name__ == "__main__":
    main()
