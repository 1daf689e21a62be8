#!/usr/bin/env bash
# Disk full (README "Durability and the dead-letter queue"): lakehose-server with server.data_dir on
# a small file system, its lake on a big one; RESOURCE_EXHAUSTED (the real ENOSPC path and
# the free-space check), still serving, recovery once space comes back, no corruption,
# every acked record in the lake exactly once. The gRPC part is disk_full.mjs; with
# --outage it is disk_outage.mjs instead: the disk fills while the S3 destination is down
# (objects dead-lettered under data_dir), then the destination comes back.
#
#   tests/durability/disk_full.sh PATH/TO/lakehose-server PATH/TO/lakehose [--outage]
#
# The small file system, first that works:
#   1. an 8 MiB tmpfs (mount -t tmpfs; needs root or CAP_SYS_ADMIN);
#   2. a 16 MiB ext4 loop file (mount -o loop; root);
#   3. an 8 MiB tmpfs inside an unprivileged user + mount namespace (unshare -rm), where
#      the kernel allows those;
# else "SKIP: cannot create a small filesystem here", exit 77. Unmounted in a trap.
# KEEP=1 keeps the work directory.
set -uo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && [ "$3" != --outage ]; }; then
  echo "usage: $0 PATH/TO/lakehose-server PATH/TO/lakehose [--outage]" >&2
  exit 2
fi
SERVER=$(realpath "$1")
CLI=$(realpath "$2")
MODE=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
NODE=${NODE:-node}
SCRIPT="$HERE/disk_full.mjs"
if [ "$MODE" = --outage ]; then SCRIPT="$HERE/disk_outage.mjs"; fi

# Inside the user namespace (case 3): mount, run, and let the namespace take the mount away.
if [ "${LAKEHOSE_DISKFULL_IN_USERNS:-}" = 1 ]; then
  mount -t tmpfs -o size=8m tmpfs "$LAKEHOSE_DISKFULL_MNT" || exit 77
  echo "disk_full.sh: 8 MiB tmpfs in a user namespace at $LAKEHOSE_DISKFULL_MNT"
  "$NODE" "$SCRIPT" --server "$SERVER" --cli "$CLI" --data-dir "$LAKEHOSE_DISKFULL_MNT" --work "$LAKEHOSE_DISKFULL_WORK"
  rc=$?
  umount "$LAKEHOSE_DISKFULL_MNT" 2>/dev/null
  exit $rc
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lakehose-diskfull-XXXXXX")
MNT="$WORK/small"
mkdir -p "$MNT"
MOUNTED=""
rc=1

cleanup() {
  if [ -n "$MOUNTED" ]; then
    # The server is stopped by the Node part; retry briefly if the mount is still busy.
    for _ in 1 2 3 4 5; do
      umount "$MNT" 2>/dev/null && break
      sleep 1
    done
    if mountpoint -q "$MNT" 2>/dev/null; then
      echo "disk_full.sh: $MNT still mounted; lazy unmount" >&2
      umount -l "$MNT" || true
    fi
  fi
  if [ "$rc" = 0 ] && [ "${KEEP:-}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "disk_full.sh: kept $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if mount -t tmpfs -o size=8m tmpfs "$MNT" 2>/dev/null; then
  MOUNTED=tmpfs
  echo "disk_full.sh: 8 MiB tmpfs at $MNT"
elif truncate -s 16M "$WORK/fs.img" 2>/dev/null && mkfs.ext4 -q -F -m 0 "$WORK/fs.img" >/dev/null 2>&1 \
     && mount -o loop "$WORK/fs.img" "$MNT" 2>/dev/null; then
  MOUNTED=loop
  echo "disk_full.sh: 16 MiB ext4 loop file at $MNT"
elif command -v unshare >/dev/null && unshare -rm true 2>/dev/null; then
  LAKEHOSE_DISKFULL_IN_USERNS=1 LAKEHOSE_DISKFULL_MNT="$MNT" LAKEHOSE_DISKFULL_WORK="$WORK" \
    unshare -rm bash "$0" "$SERVER" "$CLI" ${MODE:+"$MODE"}
  rc=$?
  if [ "$rc" = 77 ]; then echo "SKIP: cannot create a small filesystem here"; fi
  exit $rc
else
  echo "SKIP: cannot create a small filesystem here"
  rc=77
  exit 77
fi

"$NODE" "$SCRIPT" --server "$SERVER" --cli "$CLI" --data-dir "$MNT" --work "$WORK"
rc=$?
exit $rc
