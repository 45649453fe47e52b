#!/usr/bin/env bash
# The Debian 12 packages tinymlops needs to build and test, kept in this one
# list. Installs the missing ones when run as root; otherwise prints the exact
# command to run and fails, so a build never starts half-equipped.
set -euo pipefail

PACKAGES=(
    # toolchain
    build-essential cmake pkg-config git
    # clang + libFuzzer/ASan/UBSan runtimes (fuzz build), symbolized sanitizer reports, formatter
    clang libclang-rt-14-dev llvm clang-format
    # memory checking of the host tools
    valgrind
    # unit tests
    libcmocka-dev
    # PSA Crypto (mbedTLS 2.28 libmbedcrypto): bundle signatures and encryption
    libmbedtls-dev
    # bundle interop test: an independent implementation (openssl CLI, python3-cryptography)
    openssl python3-cryptography
    # server, agent and CLI: HTTP server, HTTP client, store, JSON, compression
    libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libjansson-dev zlib1g-dev
    # optional PostgreSQL store backend (libpq) and the throwaway cluster of scripts/pg-test
    libpq-dev postgresql
    # model factory: the scikit-learn digits data set and numpy (use /usr/bin/python3)
    python3 python3-numpy python3-sklearn
    # firmware: Cortex-M cross compiler + newlib, and QEMU for the emulated boards (scripts/mcu-test)
    gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
    # dashboard (docs/dashboard.md): Node.js for npm and the browser test, Debian's Chromium for it
    nodejs chromium
)
# npm: Debian's package, unless the installed Node.js already brings npm (NodeSource's nodejs
# does, and conflicts with Debian's npm package: installing it would replace that Node.js).
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(npm)
fi

# Prints the packages from PACKAGES that are not installed.
missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$p"
        fi
    done
}

if [[ "${1:-}" == "--list" ]]; then
    printf '%s\n' "${PACKAGES[@]}"
    exit 0
fi

# The dashboard's npm packages (web/package.json, pinned by web/package-lock.json) into
# web/node_modules, from the npm registry, when the lock file changed since the last install.
# The build itself never downloads (web/CMakeLists.txt); without them the dashboard has no
# charts and its browser test skips.
web_npm_ci() {
    local web root lock stamp
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    web="$root/web"
    lock="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
    stamp="$web/node_modules/.tmo-lock-sha256"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock" ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "deps: npm not found; web/node_modules not installed (the dashboard test will skip)" >&2
        return 0
    fi
    echo "deps: npm ci in web/ (dashboard: uPlot, playwright-core)"
    if (cd "$web" && npm ci --no-audit --no-fund --loglevel=error); then
        echo "$lock" >"$stamp"
    else
        echo "deps: npm ci failed in web/ (the dashboard test will skip)" >&2
    fi
}

mapfile -t missing < <(missing_packages)
if [[ ${#missing[@]} -eq 0 ]]; then
    web_npm_ci
    exit 0
fi

install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them as root with:" >&2
    echo "  sudo sh -c '$install_cmd'" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_packages)
if [[ ${#still[@]} -ne 0 ]]; then
    echo "deps: still missing after install: ${still[*]}" >&2
    exit 1
fi
web_npm_ci
