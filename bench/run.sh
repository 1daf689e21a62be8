#!/usr/bin/env bash
# The benchmark suite: one command, every row, one table (bench/README.md explains it).
#
#   bench/run.sh                      # build Release, full run (a few minutes), table + JSON
#   bench/run.sh --smoke              # tiny inputs, seconds (what ctest bench.suite_smoke runs)
#   bench/run.sh --output FILE.json   # where the JSON goes (default bench/results/latest.json)
#   bench/run.sh --build-dir DIR --no-build   # use binaries already built in DIR
#   bench/run.sh --only 'core|simdjson'      # only rows whose name matches (a regex)
#
# Rows, for the transactions and the sites workloads (`lakehose generate`):
#   python_peer, node_peer    the peers in bench/peers/ (boto3 TypeDeserializer, unmarshall)
#   simdjson, memcpy          ceilings: DOM parse + walk, copying the input
#   zstd, gzip                ceilings: zstd -3 / gzip -6 of the transform's output
#   core                      lakehose's core transform, one core
#   grpc_transform            Transform over gRPC on loopback (batches of 500, 4 streams)
#   ingest_file_zstd/_gzip    Ingest to the file destination, then Flush
#   ingest_file_parquet_snappy/_zstd  the same as Parquet objects (with the lake's size on
#                             disk beside gzip JSON Lines')
#   ingest_iceberg            Ingest to an Iceberg table on the file destination (zstd Parquet
#                             data files), then Flush (every object committed); beside
#                             ingest_file_parquet_zstd: records/s, server CPU, the table's size
#                             on disk (data + metadata), Flush latency of one batch (probes)
#   ingest_s3                 Ingest to s3rver through the verifying front, then Flush
#   memory_stalled_s3         (transactions) Ingest while S3 stalls: the server's resident
#                             memory against its buffer budget, RESOURCE_EXHAUSTED answers
# Every row reports records/s, MB/s of input and its ratio to the Node peer and to the
# simdjson ceiling of the same workload. Nothing here asserts a timing.
# The backfill workload (bench/backfill_rows.mjs: one full export on local disk and the
# same items in dynalite):
#   backfill_export(_parquet) lakehose backfill --export into gzip JSON Lines (zstd Parquet)
#   backfill_scan             lakehose backfill --scan of dynalite, 4 segments
#   backfill_{export,scan}_{node,python}_peer  the same conversion with @aws-sdk / boto3
# Their ratios are to the Node peer of the same source.
# The current workload (bench/current_rows.mjs: a DynamoDB change stream, --current-items
# INSERTs then MODIFYs/REMOVEs up to --current-changes records, default 1,000,000 and
# 5,000,000; about 6 minutes on 2 cores, plus current_compact's maintenance: 20-30 s at
# 200,000 / 1,000,000, not measured at the default size):
#   current_table             Ingest of the stream into a mode: current Iceberg table, then
#                             Flush: changes/s, commits, key index and table size, and a
#                             check that the table's live rows are the stream's live items
#   current_changelog         the same stream into a mode: changelog table (the peer)
#   current_compact           then, server stopped, on current_table's table: `lakehose table
#                             compact` (seconds, counts; files and position deletes before and
#                             after; DuckDB's read of the live rows before / after, and a check
#                             that they are the same rows), `table reindex` from the deltas,
#                             `table expire --older-than 0s`, `table reindex` from its
#                             checkpoint, then Flush probes against the rebuilt index
#                             (selecting it runs current_table too)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${LAKEHOSE_BENCH_BUILD_DIR:-$ROOT/build/release}
OUTPUT=$ROOT/bench/results/latest.json
SMOKE=0
BUILD=1
ONLY=.
CURRENT_ITEMS= CURRENT_CHANGES=
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) SMOKE=1 ;;
    --output) OUTPUT=$2; shift ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --no-build) BUILD=0 ;;
    --only) ONLY=$2; shift ;;
    --current-items) CURRENT_ITEMS=$2; shift ;;
    --current-changes) CURRENT_CHANGES=$2; shift ;;
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $SMOKE == 1 ]]; then
  RECORDS=200 SECONDS_PER_ROW=0.05 INGEST_PASSES=1 GRPC_SECONDS=0.3 MEM_SECONDS=2 BUDGET_MB=4
  FLUSH_PROBES=2 BACKFILL_ITEMS=500
  CURRENT_ITEMS=${CURRENT_ITEMS:-2000} CURRENT_CHANGES=${CURRENT_CHANGES:-10000} CURRENT_PROBES=2
else
  RECORDS=20000 SECONDS_PER_ROW=3 INGEST_PASSES=5 GRPC_SECONDS=8 MEM_SECONDS=15 BUDGET_MB=64
  FLUSH_PROBES=10 BACKFILL_ITEMS=20000
  CURRENT_ITEMS=${CURRENT_ITEMS:-1000000} CURRENT_CHANGES=${CURRENT_CHANGES:-5000000} CURRENT_PROBES=10
fi
PYTHON=/usr/bin/python3  # Debian's, which has python3-boto3
NODE=${NODE:-node}

if [[ $BUILD == 1 ]]; then
  echo "bench/run.sh: building Release (cmake --preset release)" >&2
  (cd "$ROOT" && cmake --preset release >/dev/null &&
    cmake --build --preset release --target lakehose lakehose-server bench_rows grpc_load >&2)
  BUILD_DIR=$ROOT/build/release
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
CLI=$BUILD_DIR/client/lakehose
SERVER=$BUILD_DIR/service/lakehose-server
ROWS_BIN=$BUILD_DIR/bench/bench_rows
LOAD=$BUILD_DIR/bench/grpc_load
for b in "$CLI" "$SERVER" "$ROWS_BIN" "$LOAD"; do
  [[ -x $b ]] || { echo "bench/run.sh: missing $b (build it, or drop --no-build)" >&2; exit 1; }
done

# The Node.js peers, the S3 front and the table readers come from tests/node_modules: on
# a fresh clone they are installed from the committed lock first (as scripts/test.sh
# does), so that no row fails for a missing package.
NODE_PACKAGES=(s3rver @aws-sdk/util-dynamodb @aws-sdk/client-dynamodb @smithy/signature-v4
  @smithy/hash-node @duckdb/node-api icebird avsc dynalite)
missing_packages() {
  local p
  for p in "${NODE_PACKAGES[@]}"; do
    [[ -f $ROOT/tests/node_modules/$p/package.json ]] || echo "$p"
  done
}
if [[ -n $(missing_packages) ]]; then
  log_missing=$(missing_packages | tr '\n' ' ')
  echo "bench/run.sh: installing the test peers from tests/package-lock.json (missing: $log_missing)" >&2
  (cd "$ROOT/tests" && npm install --no-save --no-audit --no-fund --loglevel=error >&2) ||
    echo "bench/run.sh: npm install failed: the rows that need these packages will fail" >&2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lakehose-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
ROWS=$WORK/rows.jsonl
: >"$ROWS"

log() { echo "bench/run.sh: $*" >&2; }
want() { [[ $1 =~ $ONLY ]]; }
# emit WORKLOAD JSON: one row, tagged with its workload.
emit() { echo "{\"workload\":\"$1\",${2#\{}" >>"$ROWS"; }
fail_row() { emit "$1" "{\"row\":\"$2\",\"error\":\"$3\"}"; log "$2 ($1) failed: $3"; }

# Waits for a port file; prints the port.
wait_port() {
  local file=$1 pid=$2
  for _ in $(seq 1 400); do
    if [[ -s $file ]]; then cat "$file"; return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# server_config FILE DATA_DIR DESTINATION_YAML [BUDGET_MB]: the demo pipeline of the
# embedded config (same keys, prefix and image choice) with the given destination.
server_config() {
  {
    cat <<EOF
server:
  grpc_listen: 127.0.0.1:0
  metrics_listen: 127.0.0.1:0
  data_dir: $2
  writer_id: bench
  shutdown_grace_s: 10
  buffer_budget_mb: ${4:-512}
  limits: { max_message_bytes: 67108864 }
EOF
    # The embedded demo pipeline itself, up to its destination. An Iceberg table places
    # its files by its partition spec (derived from the same partition keys), not by a
    # prefix: the prefix goes.
    if [[ $3 == *"format: iceberg"* ]]; then
      "$SERVER" --print-default-config | sed -n '/^pipelines:/,/^    destination:/p' | sed '/^    prefix:/d'
    else
      "$SERVER" --print-default-config | sed -n '/^pipelines:/,/^    destination:/p'
    fi
    printf '%s\n' "$3"
  } >"$1"
}

SERVER_PID= SERVER_PORT=
# start_server DIR CONFIG [ENV...]
start_server() {
  local dir=$1 config=$2; shift 2
  mkdir -p "$dir"
  rm -f "$dir/port"
  (cd "$dir" && exec env "$@" "$SERVER" --config "$config" --listen 127.0.0.1:0 --port-file "$dir/port" \
    >"$dir/server.log" 2>&1) &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_PORT=$(wait_port "$dir/port" "$SERVER_PID") || { log "server did not start: $(tail -5 "$dir/server.log")"; return 1; }
}
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

FRONT_PID= FRONT_PORT=
# start_front DIR FAULTS_JSON
start_front() {
  mkdir -p "$1"
  rm -f "$1/port"
  "$NODE" "$ROOT/tests/lib/s3_front.mjs" --port-file "$1/port" --s3rver-dir "$1/s3rver" \
    --faults "$2" --quiet >"$1/front.log" 2>&1 &
  FRONT_PID=$!
  PIDS+=("$FRONT_PID")
  FRONT_PORT=$(wait_port "$1/port" "$FRONT_PID") || { log "s3 front did not start: $(tail -5 "$1/front.log")"; return 1; }
}
stop_front() {
  kill -TERM "$FRONT_PID" 2>/dev/null || true
  wait "$FRONT_PID" 2>/dev/null || true
  FRONT_PID=
}
S3_ENV=(AWS_ACCESS_KEY_ID=AKIDLAKEHOSETEST AWS_SECRET_ACCESS_KEY=lakehose/test/secret/key
        AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent)
s3_destination() {
  cat <<EOF
      kind: s3
      bucket: lake
      endpoint: http://127.0.0.1:$1
      force_path_style: true
      region: us-east-1
      format: jsonl
      compression: zstd
      request_timeout_s: ${2:-60}
      buffering: { size_mb: 64, interval_s: 60 }
EOF
}

# ingest_row WORKLOAD INPUT ROW DESTINATION_YAML [ENV...]. PROBES=N: after the run and the
# sizes on disk, N Flush probes (grpc_load --flush-probes: one batch ingested, then a
# timed Flush), their latencies added to the row as probe_flush_ms.
PROBES=0
ingest_row() {
  local w=$1 input=$2 row=$3 dest=$4; shift 4
  local dir=$WORK/$row-$w out
  mkdir -p "$dir"
  server_config "$dir/config.yaml" "$dir/data" "$dest"
  start_server "$dir" "$dir/config.yaml" "$@" || { fail_row "$w" "$row" "server did not start"; return; }
  if out=$("$LOAD" --target "127.0.0.1:$SERVER_PORT" --input "$input" --rpc ingest --passes "$INGEST_PASSES" \
      --streams 4 --channels 2 --flush --server-pid "$SERVER_PID" 2>"$dir/load.err"); then
    out=${out/grpc_ingest/$row}
    # The file lakes' size on disk: what each format and codec costs in storage. An
    # Iceberg table's also split into data files and metadata (JSON, manifests, lists).
    if [ -d "$dir/lake" ]; then out="${out%\}},\"lake_bytes\":$(du -sb "$dir/lake" | cut -f1)}"; fi
    local table
    table=$(find "$dir/lake" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | head -1 || true)
    if [[ $dest == *"format: iceberg"* && -d $table/data && -d $table/metadata ]]; then
      out="${out%\}},\"table_data_bytes\":$(du -sb "$table/data" | cut -f1)"
      out+=",\"table_metadata_bytes\":$(du -sb "$table/metadata" | cut -f1)"
      out+=",\"table_data_files\":$(find "$table/data" -type f -name '*.parquet' | wc -l)"
      out+=",\"table_metadata_files\":$(find "$table/metadata" -type f | wc -l)"
      out+=",\"commits_logged\":$(grep -c 'iceberg.committed' "$dir/server.log" || true)}"
    elif [ -d "$dir/lake" ]; then
      out="${out%\}},\"lake_files\":$(find "$dir/lake" -type f | wc -l)}"
    fi
    if [[ $PROBES -gt 0 ]]; then
      local probe
      if probe=$("$LOAD" --target "127.0.0.1:$SERVER_PORT" --input "$input" --rpc ingest --probes-only \
          --flush-probes "$PROBES" 2>>"$dir/load.err"); then
        probe=${probe#*\"probe_flush_ms\":\[}
        out="${out%\}},\"probe_flush_ms\":[${probe%%\]*}]}"
      else
        log "$row ($w): flush probes failed: $(tail -1 "$dir/load.err")"
      fi
    fi
    emit "$w" "$out"
  else
    fail_row "$w" "$row" "$(tail -1 "$dir/load.err" | tr -d '"\\')"
  fi
  stop_server
}

for w in transactions sites; do
  input=$WORK/$w.jsonl
  "$CLI" generate --workload "$w" --records "$RECORDS" --seed 7 >"$input"
  log "$w: $(wc -l <"$input") records, $(wc -c <"$input") bytes"

  if want python_peer; then
    log "$w: python_peer"
    out=$("$PYTHON" "$ROOT/bench/peers/boto3_peer.py" "$input" --min-seconds "$SECONDS_PER_ROW") &&
      emit "$w" "$out" || fail_row "$w" python_peer "boto3_peer.py failed"
  fi
  if want node_peer; then
    log "$w: node_peer"
    out=$("$NODE" "$ROOT/bench/peers/node_peer.mjs" "$input" --min-seconds "$SECONDS_PER_ROW") &&
      emit "$w" "$out" || fail_row "$w" node_peer "node_peer.mjs failed"
  fi
  for row in simdjson memcpy core zstd gzip; do
    want "$row" || continue
    log "$w: $row"
    out=$("$ROWS_BIN" --row "$row" --input "$input" --min-seconds "$SECONDS_PER_ROW" 2>/dev/null) &&
      emit "$w" "$out" || fail_row "$w" "$row" "bench_rows failed"
  done

  if want grpc_transform; then
    log "$w: grpc_transform"
    dir=$WORK/grpc-$w
    mkdir -p "$dir"
    server_config "$dir/config.yaml" "$dir/data" "      kind: file
      path: $dir/lake"
    if start_server "$dir" "$dir/config.yaml"; then
      if out=$("$LOAD" --target "127.0.0.1:$SERVER_PORT" --input "$input" --rpc transform --seconds "$GRPC_SECONDS" \
          --streams 4 --channels 2 --batch 500 --server-pid "$SERVER_PID" 2>"$dir/load.err"); then
        emit "$w" "${out/grpc_transform/grpc_transform}"
      else
        fail_row "$w" grpc_transform "$(tail -1 "$dir/load.err" | tr -d '"\\')"
      fi
      stop_server
    else
      fail_row "$w" grpc_transform "server did not start"
    fi
  fi

  if want ingest_file_zstd; then
    log "$w: ingest_file_zstd"
    ingest_row "$w" "$input" ingest_file_zstd "      kind: file
      path: $WORK/ingest_file_zstd-$w/lake
      format: jsonl
      compression: zstd
      buffering: { size_mb: 64, interval_s: 60 }"
  fi
  if want ingest_file_gzip; then
    log "$w: ingest_file_gzip"
    ingest_row "$w" "$input" ingest_file_gzip "      kind: file
      path: $WORK/ingest_file_gzip-$w/lake
      format: jsonl
      compression: gzip
      buffering: { size_mb: 64, interval_s: 60 }"
  fi
  # Parquet: the same records as columnar objects, snappy and zstd. The zstd row, which the
  # Iceberg row is compared with, also times the Flush of single batches after its run.
  for codec in snappy zstd; do
    want "ingest_file_parquet_$codec" || continue
    log "$w: ingest_file_parquet_$codec"
    PROBES=0
    [[ $codec == zstd ]] && PROBES=$FLUSH_PROBES
    ingest_row "$w" "$input" "ingest_file_parquet_$codec" "      kind: file
      path: $WORK/ingest_file_parquet_$codec-$w/lake
      format: parquet
      compression: $codec
      buffering: { size_mb: 64, interval_s: 60 }"
    PROBES=0
  done
  # Iceberg: the same pipeline writing a table (file-system catalog) on the file
  # destination, zstd Parquet data files, the partition spec derived from the partition
  # keys (identity(region), hour(_event_time)). The commit interval is long: the run's
  # Flush commits (the table's snapshots are then few, as in production); each probe's
  # Flush commits one snapshot.
  if want ingest_iceberg; then
    log "$w: ingest_iceberg"
    PROBES=$FLUSH_PROBES
    ingest_row "$w" "$input" ingest_iceberg "      kind: file
      path: $WORK/ingest_iceberg-$w/lake
      format: iceberg
      compression: zstd
      buffering: { size_mb: 64, interval_s: 60 }
      iceberg: { table: bench.demo, commit_interval_s: 60 }"
    PROBES=0
  fi
  if want ingest_s3; then
    log "$w: ingest_s3"
    if start_front "$WORK/front-$w" '{}'; then
      ingest_row "$w" "$input" ingest_s3 "$(s3_destination "$FRONT_PORT")" "${S3_ENV[@]}"
      stop_front
    else
      fail_row "$w" ingest_s3 "s3 front did not start"
    fi
  fi

  if [[ $w == transactions ]] && want memory_stalled_s3; then
    # S3 answers nothing for 10 minutes (the front's latency injection) while Ingest runs:
    # the buffer budget fills, Ingest must answer RESOURCE_EXHAUSTED, and the server's
    # resident memory must stay within the budget plus its fixed overhead.
    log "$w: memory_stalled_s3 (buffer_budget_mb $BUDGET_MB, S3 stalled)"
    dir=$WORK/memory-$w
    mkdir -p "$dir"
    if start_front "$dir/front" '{"latencyMs":600000}'; then
      server_config "$dir/config.yaml" "$dir/data" "$(s3_destination "$FRONT_PORT" 600 | sed 's/size_mb: 64/size_mb: 1/')" "$BUDGET_MB"
      if start_server "$dir" "$dir/config.yaml" "${S3_ENV[@]}"; then
        sleep 0.5
        idle=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
        if out=$("$LOAD" --target "127.0.0.1:$SERVER_PORT" --input "$input" --rpc ingest --seconds "$MEM_SECONDS" \
            --streams 4 --channels 2 --server-pid "$SERVER_PID" 2>"$dir/load.err"); then
          emit "$w" "{\"row\":\"memory_stalled_s3\",\"budget_mb\":$BUDGET_MB,\"server_idle_rss_kb\":$idle,${out#\{\"row\":\"grpc_ingest\",}"
        else
          fail_row "$w" memory_stalled_s3 "$(tail -1 "$dir/load.err" | tr -d '"\\')"
        fi
        kill -KILL "$SERVER_PID" 2>/dev/null || true  # its buffers cannot drain: S3 is stalled
        wait "$SERVER_PID" 2>/dev/null || true
      else
        fail_row "$w" memory_stalled_s3 "server did not start"
      fi
      stop_front
    else
      fail_row "$w" memory_stalled_s3 "s3 front did not start"
    fi
  fi
done

# Backfill: lakehose backfill from an export on local disk and from dynalite, beside the
# peers doing the same conversion; the driver prints one JSON row per line.
BACKFILL_ROWS=(backfill_export backfill_export_parquet backfill_export_node_peer backfill_export_python_peer
               backfill_scan backfill_scan_node_peer backfill_scan_python_peer)
for row in "${BACKFILL_ROWS[@]}"; do
  want "$row" || continue
  log "backfill: $BACKFILL_ITEMS items (export on local disk, dynalite)"
  # The SDK's notice about Node versions says nothing about the bench.
  out=$(AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true "$NODE" "$ROOT/bench/backfill_rows.mjs" --cli "$CLI" \
    --work "$WORK/backfill" --items "$BACKFILL_ITEMS" --only "$ONLY" --python "$PYTHON") ||
    log "backfill: bench/backfill_rows.mjs failed (the rows it did not print are reported missing)"
  while IFS= read -r line; do if [[ -n $line ]]; then emit backfill "$line"; fi; done <<<"$out"
  break
done

# Current-state tables: one change stream into a mode: current table and into a
# mode: changelog table (the peer); the driver prints one JSON row per line.
if want current_table || want current_changelog || want current_compact; then
  log "current: $CURRENT_ITEMS items, $CURRENT_CHANGES changes"
  out=$("$NODE" "$ROOT/bench/current_rows.mjs" --server "$SERVER" --cli "$CLI" --load "$LOAD" \
    --work "$WORK/current" --items "$CURRENT_ITEMS" --changes "$CURRENT_CHANGES" --probes "$CURRENT_PROBES" \
    --only "$ONLY") || log "current: bench/current_rows.mjs failed (the rows it did not print are reported missing)"
  while IFS= read -r line; do if [[ -n $line ]]; then emit current "$line"; fi; done <<<"$out"
fi

mkdir -p "$(dirname "$OUTPUT")"
SMOKE_FLAG=()
[[ $SMOKE == 1 ]] && SMOKE_FLAG=(--smoke)
"$PYTHON" "$ROOT/bench/report.py" "$ROWS" --output "$OUTPUT" --only "$ONLY" "${SMOKE_FLAG[@]}"
