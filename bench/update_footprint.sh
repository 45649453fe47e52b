#!/usr/bin/env bash
# Code size and RAM of the A/B update engine (runtime/update) on a Cortex-M4,
# for docs/PERFORMANCE.md: compiles each runtime/update/*.c with
# arm-none-eabi-gcc -Os -mcpu=cortex-m4 -mthumb (separate sections, as firmware
# links it) and prints the text of each object (code + read-only data),
# sizeof(tmo_update) and sizeof(tmo_bundle) on the target, and the engine's
# largest stack frames (-fstack-usage; frames of runtime/bundle's verifier
# come on top where the engine calls it).
# Usage: bench/update_footprint.sh [SOURCE_ROOT]   (default: this checkout; pass
# another checkout, e.g. a `git worktree` of an older commit, for a baseline)
set -euo pipefail

root="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
cc="${ARM_CC:-arm-none-eabi-gcc}"
if ! command -v "$cc" >/dev/null; then
    echo "update_footprint: $cc not found (Debian: gcc-arm-none-eabi)" >&2
    exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
flags=(-std=c11 -Os -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections
    -I "$root/include" -I "$root/runtime")

echo "source: $root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "compiler: $("$cc" --version | head -1)"
for src in "$root"/runtime/update/*.c; do
    obj="$work/$(basename "${src%.c}").o"
    (cd "$work" && "$cc" "${flags[@]}" -fstack-usage -c "$src" -o "$obj")
done
arm-none-eabi-size -t "$work"/*.o | sed "s|$work/||"

cat >"$work/sizes.c" <<'EOF'
#include "tinymlops/update.h"
const unsigned sizeof_tmo_update = sizeof(tmo_update);
const unsigned sizeof_tmo_bundle = sizeof(tmo_bundle);
EOF
"$cc" "${flags[@]}" -c "$work/sizes.c" -o "$work/sizes.o"
for sym in sizeof_tmo_update sizeof_tmo_bundle; do
    # The value of a const object: the 4 bytes of its .rodata section, little-endian.
    hex="$(arm-none-eabi-objcopy -O binary --only-section=".rodata.$sym" "$work/sizes.o" /dev/stdout |
        od -An -tu4 | tr -d ' ')"
    echo "$sym: $hex bytes"
done
echo "largest stack frames (bytes):"
cat "$work"/*.su | sed "s|.*/||" | sort -t$'\t' -k2 -n -r | head -6
