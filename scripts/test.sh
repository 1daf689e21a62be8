#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Release build with all
# tests (unit, end to end against Node and Python peers, differential), core/ under
# ASan+UBSan, clang's thread-safety analysis of every ABSL_GUARDED_BY, and the
# libFuzzer targets for a bounded time. Unformatted C++ fails it first.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

./scripts/setup.sh
# `npm install` (not `npm ci`): the lock pins every version, but omits the DuckDB bindings
# of other platforms, which `npm ci` insists on.
(cd tests && npm install --no-save --no-audit --no-fund --loglevel=error)

echo "== Formatting (clang-format, .clang-format)"
./scripts/check_format.sh

echo "== Release build and tests"
cmake --preset release
cmake --build --preset release -j "$JOBS"
ctest --test-dir build/release --output-on-failure -j "$JOBS" --timeout 600

echo "== Thread-safety analysis (clang -Wthread-safety as errors, all product code)"
cmake --preset thread-safety >/dev/null
cmake --build --preset thread-safety -j "$JOBS" --target lakehose-server lakehose

echo "== core/ under ASan+UBSan"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$JOBS"
ctest --test-dir build/asan --output-on-failure -j "$JOBS" --timeout 600

echo "== libFuzzer (clang), bounded run"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$JOBS"
# Each fuzzer is one process on one core for a fixed time: two at a time on two cores.
ctest --test-dir build/fuzz --output-on-failure -j "$JOBS" --timeout 600
