#!/usr/bin/env bash
# Configures and builds tinymlops: scripts/build.sh [BUILD_DIR [CMAKE_ARGS...]].
# BUILD_DIR defaults to build/ in the repository; extra arguments go to cmake
# (e.g. -DTMO_SANITIZE=ON). The optimisation level comes from CMakeLists.txt.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" --parallel "$jobs"
