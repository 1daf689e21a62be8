#!/usr/bin/env bash
# The main job: install what is missing, build Release, start lakehose-server on its
# embedded defaults, generate sample DynamoDB stream records, send them through it and
# show what came back.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target lakehose lakehose-server

BIN=$PWD/build/release
# The server runs in var/demo: its embedded pipeline writes the lake to ./lake there.
DEMO=$PWD/var/demo
rm -rf "$DEMO" && mkdir -p "$DEMO"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo
echo "== starting lakehose-server on its embedded defaults (pipeline 'demo', lake in $DEMO/lake)"
(cd "$DEMO" && exec "$BIN/service/lakehose-server" --listen 127.0.0.1:0 --port-file port \
  --metrics-listen 127.0.0.1:0 --metrics-port-file metrics_port --log-format text \
  2>server.log) &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$DEMO/port" ] && break; sleep 0.1; done
[ -s "$DEMO/port" ] || { cat "$DEMO/server.log"; echo "demo: server did not start" >&2; exit 1; }
TARGET="127.0.0.1:$(cat "$DEMO/port")"
METRICS="http://127.0.0.1:$(cat "$DEMO/metrics_port")/metrics"
echo "   listening on $TARGET; Prometheus metrics on $METRICS"

echo
echo "== generating 20000 DynamoDB stream records (transactions workload)"
"$BIN/client/lakehose" generate --workload transactions --records 20000 --seed 42 > "$DEMO/records.jsonl"
echo "   $(wc -c < "$DEMO/records.jsonl") bytes; the first record:"
head -c 600 "$DEMO/records.jsonl"; echo " ..."

echo
echo "== Transform: verdicts and partition keys (lakehose transform --target $TARGET --pipeline demo)"
head -2000 "$DEMO/records.jsonl" | "$BIN/client/lakehose" transform --target "$TARGET" --pipeline demo \
  --output "$DEMO/results.jsonl"
grep -o '"result":"[A-Z_]*"' "$DEMO/results.jsonl" | sort | uniq -c
grep -o '"operation":"[A-Z]*"' "$DEMO/results.jsonl" | sort | uniq -c
echo "   the first result:"
head -1 "$DEMO/results.jsonl" | cut -c1-400
echo "   a malformed record fails alone, naming the attribute path:"
head -1 "$DEMO/records.jsonl" | sed 's/"amount":{"N":"[0-9.]*"}/"amount":{"N":"12,50"}/' \
  | "$BIN/client/lakehose" transform --target "$TARGET" --pipeline demo 2>/dev/null | cut -c1-260

echo
echo "== Ingest: all 20000 records into the lake (lakehose send), then Flush"
"$BIN/client/lakehose" send --target "$TARGET" --pipeline demo --input "$DEMO/records.jsonl" --batch 500
"$BIN/client/lakehose" flush --target "$TARGET" > "$DEMO/flushed.tsv"

echo
echo "== the lake: $DEMO/lake (Hive-partitioned, gzip JSON Lines)"
(cd "$DEMO/lake" && find . -type d | sort | sed 's|^\./||' | grep -v '^\.$' > "$DEMO/tree.txt")
head -14 "$DEMO/tree.txt"
echo "   ..."
echo
echo "== records per partition (counted by reading the objects back with zcat)"
while IFS= read -r dir; do
  n=$(find "$DEMO/lake/$dir" -maxdepth 1 -name '*.jsonl.gz' -exec zcat {} + | wc -l)
  printf '%7d  %s\n' "$n" "$dir"
done < <(cd "$DEMO/lake" && find . -name '*.jsonl.gz' -printf '%h\n' | sed 's|^\./||' | sort -u) > "$DEMO/counts.txt"
head -16 "$DEMO/counts.txt"
echo "   ..."
echo "   objects: $(find "$DEMO/lake" -type f | wc -l), records: $(find "$DEMO/lake" -name '*.jsonl.gz' -exec zcat {} + | wc -l) (sent 20000, all OK)"
echo
echo "== what the server counted (curl $METRICS)"
curl -s "$METRICS" | grep -E '^lakehose_(records_total|objects_written_total|bytes_(in|out)_total|flushes_total)' \
  | grep -v ' 0$' | sed 's/^/   /'
echo
echo "Query it like Athena would, e.g. with DuckDB:"
echo "  SELECT region, date, count(*) FROM read_json_auto('$DEMO/lake/transactions/**/*.jsonl.gz', hive_partitioning = true) GROUP BY ALL;"

echo
echo "== the same records as an Apache Iceberg table (deploy/examples/iceberg.yaml, in $DEMO/iceberg)"
ICE=$DEMO/iceberg
mkdir -p "$ICE"
(cd "$ICE" && exec "$BIN/service/lakehose-server" --config "$ROOT/deploy/examples/iceberg.yaml" \
  --listen 127.0.0.1:0 --port-file port --metrics-listen "" --log-format text 2>server.log) &
ICE_PID=$!
for _ in $(seq 1 100); do [ -s "$ICE/port" ] && break; sleep 0.1; done
[ -s "$ICE/port" ] || { cat "$ICE/server.log"; echo "demo: iceberg server did not start" >&2; exit 1; }
"$BIN/client/lakehose" send --target "127.0.0.1:$(cat "$ICE/port")" --pipeline demo \
  --input "$DEMO/records.jsonl" --batch 500
"$BIN/client/lakehose" flush --target "127.0.0.1:$(cat "$ICE/port")" > "$ICE/flushed.tsv"
kill -TERM "$ICE_PID"; wait "$ICE_PID" 2>/dev/null || true
echo "   lakehose table inspect --config deploy/examples/iceberg.yaml --pipeline demo:"
(cd "$ICE" && "$BIN/client/lakehose" table inspect --config "$ROOT/deploy/examples/iceberg.yaml" \
  --pipeline demo) | sed -n '1,6p;/^partition/,/^snapshots/p;/^files/p' | sed 's/^/   /'
echo
echo "Query the table with any Iceberg reader, e.g. DuckDB's iceberg extension:"
echo "  SELECT region, count(*) FROM iceberg_scan('$ICE/lake/sales/transactions') GROUP BY region;"
