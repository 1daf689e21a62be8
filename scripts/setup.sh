#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine lacks to build and test lakehose
# (Debian packages only; sudo when not root). Safe to run again: installs nothing when
# everything is present.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache clang libclang-rt-14-dev clang-format
  # libraries (README, "Dependencies")
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libabsl-dev
  libsimdjson-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev tzdata libsnappy-dev
  libleveldb-dev
  # test peers and tools: boto3 (differential test), zcat and zstdcat (reading objects back)
  python3 python3-boto3 gzip zstd
  # Iceberg tests: independent Avro decoders of manifests (Python and avro-c tools)
  python3-avro avro-bin
  # operations tests: a real Prometheus and promtool, openssl for test certificates
  prometheus openssl curl
)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
