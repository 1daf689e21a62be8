#!/usr/bin/env bash
# `lakehose transform` and `lakehose send` stream their input (README "The CLI"):
#  - 200,000 records as JSON Lines, a one-line Lambda event, a pretty Lambda event and a
#    Firehose event: the events give the same results as the JSON Lines (the Firehose
#    response's records decode to them), and reading through a pipe (other chunk
#    boundaries) gives the same bytes as reading the file;
#  - peak memory does not grow with the input: 500,000 records peak within 20 MB of
#    50,000, in every format (a functional bound, not a timing);
#  - an event cut short: the records before the damage are written, then one line on
#    stderr and exit 1;
#  - through a server: transform --target and send (Ingest and IngestStream) with a small
#    --batch give the same results as with the default.
#   tests/cli/cli_streaming_test.sh PATH_TO_lakehose PATH_TO_lakehose-server
set -euo pipefail
CLI=$1
SERVER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONVERT="$ROOT/bench/cli_inputs.py"
PY=/usr/bin/python3
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2
  exit 1
}
CONFIG="$ROOT/deploy/examples/analytics.yaml"
transform() { "$CLI" transform --config "$CONFIG" --pipeline analytics "$@"; }

"$CLI" generate --workload sites --records 500000 --seed 7 > "$WORK/500k.jsonl"
head -n 200000 "$WORK/500k.jsonl" > "$WORK/200k.jsonl"
head -n 50000 "$WORK/500k.jsonl" > "$WORK/50k.jsonl"
for n in 50k 200k 500k; do
  "$PY" "$CONVERT" lambda < "$WORK/$n.jsonl" > "$WORK/$n.lambda.json"
  "$PY" "$CONVERT" firehose < "$WORK/$n.jsonl" > "$WORK/$n.firehose.json"
done
"$PY" "$CONVERT" lambda-pretty < "$WORK/200k.jsonl" > "$WORK/200k.pretty.json"

# 1. Same results in every format, and through a pipe.
for f in 200k.jsonl 200k.lambda.json 200k.pretty.json 200k.firehose.json; do
  transform --input "$WORK/$f" --output "$WORK/$f.out" 2>"$WORK/$f.err" || fail "$f: $(cat "$WORK/$f.err")"
  grep -q '200000 records: ' "$WORK/$f.err" || fail "$f summary: $(cat "$WORK/$f.err")"
  cat "$WORK/$f" | transform --input - > "$WORK/$f.piped" 2>/dev/null || fail "$f through a pipe"
  cmp -s "$WORK/$f.out" "$WORK/$f.piped" || fail "$f: a pipe's chunks gave other bytes than the file's"
done
[ "$(wc -l < "$WORK/200k.jsonl.out")" -eq 200000 ] || fail "expected 200000 results"
cmp -s "$WORK/200k.jsonl.out" "$WORK/200k.lambda.json.out" || fail "one-line Lambda event differs from JSON Lines"
cmp -s "$WORK/200k.jsonl.out" "$WORK/200k.pretty.json.out" || fail "pretty Lambda event differs from JSON Lines"
"$PY" - "$WORK/200k.jsonl.out" "$WORK/200k.firehose.json.out" <<'PYEOF' || fail "Firehose response"
import base64, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
resp = json.load(open(sys.argv[2]))
recs = resp["records"]
assert len(recs) == len(lines) == 200000, (len(recs), len(lines))
names = {"OK": "Ok", "DROPPED": "Dropped", "PROCESSING_FAILED": "ProcessingFailed"}
for i, (line, rec) in enumerate(zip(lines, recs)):
    assert rec["recordId"] == "r%d" % (i + 1), rec["recordId"]
    assert rec["result"] == names[line["result"]], (i, rec["result"], line["result"])
    if line["result"] == "OK":
        data = base64.b64decode(rec["data"])
        assert data.endswith(b"\n") and json.loads(data) == line["data"], i
        assert rec["metadata"]["partitionKeys"] == line["partition_keys"], i
PYEOF

# 2. Peak memory independent of the input's size.
peak_kb() {  # command...: the child's peak resident set, in kB
  "$PY" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
for kind in jsonl lambda.json firehose.json; do
  small=$(peak_kb "$CLI" transform --config "$CONFIG" --pipeline analytics --input "$WORK/50k.$kind" --output "$WORK/mem.out")
  big=$(peak_kb "$CLI" transform --config "$CONFIG" --pipeline analytics --input "$WORK/500k.$kind" --output "$WORK/mem.out")
  echo "peak RSS $kind: 50k records $small kB, 500k records $big kB"
  [ "$big" -le $((small + 20 * 1024)) ] || fail "$kind: peak RSS grew from $small kB to $big kB with the input"
done
rm -f "$WORK"/500k.* "$WORK/mem.out"

# 3. An event cut short: the records before the damage, then the error.
head -c 1000000 "$WORK/50k.lambda.json" > "$WORK/cut.json"
set +e
transform --input "$WORK/cut.json" > "$WORK/cut.out" 2>"$WORK/cut.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "cut event: exit $rc"
[ "$(wc -l < "$WORK/cut.err")" -eq 1 ] || fail "cut event stderr: $(cat "$WORK/cut.err")"
grep -q 'not valid JSON (the input ends inside Records\[[0-9]*\]); [0-9]* records before it were transformed' "$WORK/cut.err" \
  || fail "cut event stderr: $(cat "$WORK/cut.err")"
written=$(wc -l < "$WORK/cut.out")
[ "$written" -gt 1000 ] || fail "cut event: only $written results written"
head -n "$written" "$WORK/200k.jsonl.out" | cmp -s - "$WORK/cut.out" || fail "cut event: results before the damage differ"
grep -q "; $written records before it" "$WORK/cut.err" || fail "cut event count: $(cat "$WORK/cut.err")"

# 4. Through a server, in small batches.
cat > "$WORK/server.yaml" <<YAML
server:
  data_dir: $WORK/data
  shutdown_grace_s: 5
pipelines:
  - name: analytics
    input: dynamodb-stream
    filter: { event_names: [INSERT, MODIFY] }
    image: new
    partition_keys:
      siteId: { attribute: siteId }
    prefix: "data/siteId=!{partitionKeyFromLambda:siteId}/"
    error_prefix: "errors/"
    destination: { kind: file, path: $WORK/lake, format: jsonl, compression: gzip,
                   buffering: { size_mb: 64, interval_s: 3600 } }
YAML
"$SERVER" --config "$WORK/server.yaml" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --port-file "$WORK/port" >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -s "$WORK/port" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited at start-up"
  sleep 0.1
done
[ -s "$WORK/port" ] || fail "server did not start within 10 s"
TARGET=127.0.0.1:$(cat "$WORK/port")
head -c 3000000 "$WORK/50k.firehose.json" | sed 's/,{[^}]*$/]}/' > "$WORK/small.firehose.json"
for f in 50k.jsonl small.firehose.json; do
  remote() { "$CLI" transform --target "$TARGET" --pipeline analytics --input "$WORK/$f" "$@"; }
  remote --output "$WORK/$f.remote" 2>/dev/null || fail "$f: transform --target"
  remote --batch 7 --output "$WORK/$f.remote7" 2>/dev/null || fail "$f: transform --target --batch 7"
  cmp -s "$WORK/$f.remote" "$WORK/$f.remote7" || fail "$f: --batch 7 gave other results"
  for mode in "" "--stream"; do
    # shellcheck disable=SC2086
    "$CLI" send --target "$TARGET" --pipeline analytics --input "$WORK/$f" --batch 7 $mode \
      --output "$WORK/$f.sent" 2>"$WORK/send.err" || fail "$f: send $mode: $(cat "$WORK/send.err")"
    grep -q "lakehose send: [0-9]* records: " "$WORK/send.err" || fail "send summary: $(cat "$WORK/send.err")"
    # Ingest's results are Transform's for the same records (no random key parts here).
    cmp -s "$WORK/$f.remote" "$WORK/$f.sent" || fail "$f: send $mode --output differs from transform --target"
  done
done
echo "cli_streaming_test: all passed"
