#!/usr/bin/env bash
# Proves the device library (runtime/) is freestanding C11: it compiles every
# runtime/**/*.c (with each kernel set: optimized, reference, DSP) against
# no libc headers but tools/freestanding/include (memcpy/memset/memmove
# and <math.h>), then checks the linked objects:
#   - every undefined symbol is one of those four or a <math.h> function, a
#     port hook (tmo_port_*), or, from runtime/bundle only, the PSA Crypto API;
#   - no writable static data (.data/.bss): the runtime keeps no mutable state;
#   - no symbol is defined twice.
# Each public header in include/tinymlops/ must also compile on its own.
#
# A second pass compiles the same sources the way an ordinary firmware build
# does (no -ffreestanding, the C library's headers, -O2 and -Os), with the host
# compiler and, when installed, arm-none-eabi-gcc for Cortex-M4 and M0+: there
# the compiler may turn a loop into a libc call (a counting loop into strlen,
# a search into rawmemchr), and those objects must still need nothing outside
# the allowlist (plus the compiler's own support library, libgcc).
# Usage: tools/check_freestanding.sh [WORK_DIR]   (objects go there; default: a temp dir)
# FREESTANDING_CROSS=0 skips the cross compiler.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cc="${FREESTANDING_CC:-gcc}"
shim="$root/tools/freestanding/include"

if [[ $# -ge 1 ]]; then
    work="$1"
    rm -rf "$work"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

gcc_include="$("$cc" -print-file-name=include)"
# -fno-pic as in firmware: otherwise tables of pointers land in .data.rel.ro,
# which nm can not tell from mutable .data.
CFLAGS=(-std=c11 -ffreestanding -nostdinc -isystem "$gcc_include" -isystem "$shim"
    -I "$root/include" -fno-stack-protector -fno-pic -O2
    -Wall -Wextra -Werror -Wundef -Wshadow -Wstrict-prototypes -Wvla)

# Allowed undefined symbols: the four of string.h and every function math.h declares.
mapfile -t math_fns < <(sed -nE 's/^(float|double|int|long|long long) +([a-z0-9_]+)\(.*/\2/p' "$shim/math.h")
allowed=" memcpy memset memmove ${math_fns[*]} "

# runtime/bundle/ also calls the PSA Crypto API (psa_* symbols, psa/crypto.h), which
# firmware gets from TF-M or a vendor library. mbedTLS 2.28's psa/crypto.h pulls in
# <limits.h>, <time.h> and <stdio.h> for types only, so those sources (and only
# those) see a directory with the PSA headers and type-only stubs of the three;
# any libc function they called would still fail the undefined-symbol check.
psa_root="${PSA_INCLUDE_DIR:-/usr/include}"
psa_shim="$work/psa_include"
mkdir -p "$psa_shim"
ln -sfn "$psa_root/psa" "$psa_shim/psa"
ln -sfn "$psa_root/mbedtls" "$psa_shim/mbedtls"
echo '/* gcc limits.h already defines every limit */' >"$psa_shim/limits.h"
echo 'typedef long long time_t;' >"$psa_shim/time.h"
echo 'typedef struct freestanding_no_file FILE;' >"$psa_shim/stdio.h"
# Port hooks (tmo_port_*) are the runtime's own interfaces to the platform
# (storage, counters, clock); firmware or ports/ implements them.
is_allowed() {
    [[ "$allowed" == *" $1 "* || "$1" == psa_* || "$1" == tmo_port_* ]]
}

failed=0
fail() {
    echo "check_freestanding: FAIL: $*" >&2
    failed=1
}

cd "$root"
mapfile -t all_sources < <(find runtime -name '*.c' | LC_ALL=C sort)
if [[ ${#all_sources[@]} -eq 0 ]]; then
    fail "no sources found under runtime/"
    exit 1
fi

# Kernel sets are chosen by file (runtime/kernels/sets.cmake): opt and ref leave
# out kernels/dsp/; dsp replaces each kernels/opt/X.c by kernels/dsp/X.c.
sources_of() {
    local src
    for src in "${all_sources[@]}"; do
        if [[ "$1" != dsp && "$src" == runtime/kernels/dsp/* ]]; then
            continue
        fi
        if [[ "$1" == dsp && "$src" == runtime/kernels/opt/* &&
            -f "runtime/kernels/dsp/$(basename "$src")" ]]; then
            continue
        fi
        echo "$src"
    done
}
# The dsp set runs on the real instructions when the compiler targets a DSP
# core (FREESTANDING_CC=arm-none-eabi-gcc -mcpu=cortex-m4), else on their C twins.
dsp_defs=(-DTMO_ACLE_EMULATION)
if "$cc" -dM -E - </dev/null 2>/dev/null | grep -q '__ARM_FEATURE_DSP'; then
    dsp_defs=()
fi

# Public headers: each must compile alone in a freestanding translation unit.
for h in include/tinymlops/*.h; do
    tu="$work/hdr_$(basename "$h" .h).c"
    printf '#include "%s"\n' "${h#include/}" >"$tu"
    if ! "$cc" "${CFLAGS[@]}" -c "$tu" -o "$tu.o" 2>"$tu.log"; then
        cat "$tu.log" >&2
        fail "public header $h does not compile freestanding"
    fi
done

compile_variant() {
    local variant="$1" src obj jobs=0 rc=0
    local -a defs=() sources=()
    [[ "$variant" == ref ]] && defs=(-DTMO_KERNELS_REF)
    [[ "$variant" == dsp ]] && defs=("${dsp_defs[@]}")
    mapfile -t sources < <(sources_of "$variant")
    mkdir -p "$work/$variant"
    for src in "${sources[@]}"; do
        obj="$work/$variant/$(echo "${src%.c}" | tr '/' '_').o"
        local -a psa=()
        [[ "$src" == runtime/bundle/* ]] && psa=(-isystem "$psa_shim")
        "$cc" "${CFLAGS[@]}" "${psa[@]}" "${defs[@]}" -c "$src" -o "$obj" 2>"$obj.log" &
        jobs=$((jobs + 1))
        if [[ $jobs -ge 4 ]]; then
            wait -n || rc=1
            jobs=$((jobs - 1))
        fi
    done
    while [[ $jobs -gt 0 ]]; do
        wait -n || rc=1
        jobs=$((jobs - 1))
    done
    return $rc
}

# Objects of one variant that reference an undefined symbol.
users_of() {
    (cd "$work/$1" && nm -A -u ./*.o |
        awk -v s="$2" '$NF == s {sub(/:.*/, "", $1); sub(/^\.\//, "", $1); print $1}' |
        tr '\n' ' ')
}

for variant in opt ref dsp; do
    if ! compile_variant "$variant"; then
        for log in "$work/$variant"/*.log; do
            # The ref build repeats most errors of the opt build: show only new ones.
            [[ -s "$log" ]] || continue
            if [[ "$variant" == opt ]] || ! cmp -s "$log" "$work/opt/$(basename "$log")"; then
                cat "$log" >&2
            fi
        done
        fail "runtime ($variant kernels) does not compile freestanding (see errors above;" \
            "only memcpy/memset/memmove and <math.h> exist here, no other libc header or function)"
        continue
    fi

    linked="$work/runtime_$variant.o"
    if ! ld -r -o "$linked" "$work/$variant"/*.o 2>"$work/ld_$variant.log"; then
        cat "$work/ld_$variant.log" >&2
        fail "runtime ($variant kernels) objects do not link together"
        continue
    fi

    bad=()
    while read -r sym; do
        is_allowed "$sym" || bad+=("$sym")
    done < <(nm -u "$linked" | awk '{print $2}' | LC_ALL=C sort -u)
    if [[ ${#bad[@]} -ne 0 ]]; then
        for sym in "${bad[@]}"; do
            echo "  undefined symbol not allowed: $sym (used by: $(users_of "$variant" "$sym"))" >&2
        done
        fail "runtime ($variant kernels) needs symbols outside the freestanding allowlist"
    fi

    # Crypto stays in runtime/bundle: no other part of the runtime calls PSA directly.
    mapfile -t psa_users < <(cd "$work/$variant" && nm -A -u ./*.o |
        awk '$NF ~ /^psa_/ {sub(/:.*/, "", $1); sub(/^\.\//, "", $1); print $1}' |
        grep -v '^runtime_bundle_' | LC_ALL=C sort -u)
    if [[ ${#psa_users[@]} -ne 0 ]]; then
        fail "runtime ($variant kernels): only runtime/bundle may call psa_*; also: ${psa_users[*]}"
    fi

    # Writable static data: .data/.bss symbols (nm types b, B, d, D, C).
    mapfile -t writable < <(cd "$work/$variant" && nm -A ./*.o | awk '$(NF-1) ~ /^[bBdDC]$/ {print}')
    if [[ ${#writable[@]} -ne 0 ]]; then
        printf '  writable static data: %s\n' "${writable[@]}" >&2
        fail "runtime ($variant kernels) has mutable static state"
    fi
done

# ---- second pass: ordinary (hosted) builds, host and cross ----
psa_plain="$work/psa_plain"
mkdir -p "$psa_plain"
ln -sfn "$psa_root/psa" "$psa_plain/psa"
ln -sfn "$psa_root/mbedtls" "$psa_plain/mbedtls"

# hosted_pass LABEL COMPILER FLAGS...: compiles every source (both kernel sets) and checks
# the symbols the objects need from outside themselves.
hosted_pass() {
    local label="$1" hcc="$2"
    shift 2
    local -a flags=("$@")
    local dir="$work/hosted_$label" variant src obj jobs=0 rc=0
    local libgcc
    libgcc="$("$hcc" "${flags[@]}" -print-libgcc-file-name)"
    # The dsp set: on the real instructions for a DSP core, on their C twins for a
    # host, not at all for an Arm core without the extension (it never runs there).
    local -a variants=(opt ref) hosted_dsp_defs=()
    if "$hcc" "${flags[@]}" -dM -E - </dev/null | grep -q '__ARM_FEATURE_DSP'; then
        variants+=(dsp)
    elif ! "$hcc" "${flags[@]}" -dM -E - </dev/null | grep -q '__arm__'; then
        variants+=(dsp)
        hosted_dsp_defs=(-DTMO_ACLE_EMULATION)
    fi
    for variant in "${variants[@]}"; do
        local -a defs=() sources=()
        [[ "$variant" == ref ]] && defs=(-DTMO_KERNELS_REF)
        [[ "$variant" == dsp ]] && defs=("${hosted_dsp_defs[@]}")
        mapfile -t sources < <(sources_of "$variant")
        mkdir -p "$dir/$variant"
        for src in "${sources[@]}"; do
            obj="$dir/$variant/$(echo "${src%.c}" | tr '/' '_').o"
            "$hcc" -std=c11 "${flags[@]}" -fno-pic -I "$root/include" -isystem "$psa_plain" \
                -Wall -Wextra -Werror "${defs[@]}" -c "$src" -o "$obj" 2>"$obj.log" &
            jobs=$((jobs + 1))
            if [[ $jobs -ge 4 ]]; then
                wait -n || rc=1
                jobs=$((jobs - 1))
            fi
        done
    done
    while [[ $jobs -gt 0 ]]; do
        wait -n || rc=1
        jobs=$((jobs - 1))
    done
    if [[ $rc -ne 0 ]]; then
        cat "$dir"/*/*.log >&2
        fail "runtime does not compile as an ordinary $label build"
        return
    fi
    local nm_tool="nm"
    [[ "$hcc" == *-gcc ]] && nm_tool="${hcc%gcc}nm"
    # libgcc's own symbols (soft division, float emulation) are the compiler's, always linked.
    local libgcc_syms
    libgcc_syms=" $("$nm_tool" --defined-only "$libgcc" 2>/dev/null | awk 'NF == 3 {print $3}' | tr '\n' ' ') "
    for variant in "${variants[@]}"; do
        local defined needed sym
        defined=" $(cd "$dir/$variant" && "$nm_tool" --defined-only ./*.o | awk 'NF == 3 {print $3}' | tr '\n' ' ') "
        needed="$(cd "$dir/$variant" && "$nm_tool" -u ./*.o | awk 'NF == 2 {print $2}' | LC_ALL=C sort -u)"
        local -a bad=()
        for sym in $needed; do
            [[ "$defined" == *" $sym "* || "$libgcc_syms" == *" $sym "* ]] && continue
            is_allowed "$sym" || bad+=("$sym")
        done
        if [[ ${#bad[@]} -ne 0 ]]; then
            for sym in "${bad[@]}"; do
                echo "  undefined symbol not allowed: $sym (used by: $(cd "$dir/$variant" && "$nm_tool" -A -u ./*.o |
                    awk -v s="$sym" '$NF == s {sub(/:.*/, "", $1); sub(/^\.\//, "", $1); print $1}' | tr '\n' ' '))" >&2
            done
            fail "runtime ($variant kernels) built as an ordinary $label build calls outside the allowlist" \
                "(a loop the compiler turned into a libc call? see docs/DEVELOPING.md)"
        fi
    done
    hosted_done+=("$label")
}

hosted_done=()
hosted_pass "host-O2" "$cc" -O2
if [[ "${FREESTANDING_CROSS:-1}" != 0 ]] && command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    hosted_pass "cortex-m4-O2" arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 \
        -mfloat-abi=hard -O2 -ffunction-sections
    hosted_pass "cortex-m0plus-Os" arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb -Os -ffunction-sections
fi

if [[ $failed -ne 0 ]]; then
    exit 1
fi
echo "check_freestanding: OK: ${#all_sources[@]} runtime sources, kernel sets {opt,ref,dsp}, compile with -ffreestanding -nostdinc;"
echo "  undefined symbols are within {memcpy,memset,memmove} + <math.h> (+ psa_* in runtime/bundle); no mutable static data."
echo "  ordinary builds checked the same way: ${hosted_done[*]}"
