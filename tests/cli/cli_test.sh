#!/usr/bin/env bash
# The lakehose CLI as a user runs it: the README's example config through offline
# transform, Firehose and Lambda event inputs, and one-line errors with non-zero exits.
#   tests/cli/cli_test.sh PATH_TO_lakehose
set -euo pipefail
CLI=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The README's example: INSERT/MODIFY OK with the Hive prefix, REMOVE dropped.
"$CLI" generate --workload sites --records 2000 --seed 5 > "$WORK/sites.jsonl"
"$CLI" transform --config "$ROOT/deploy/examples/analytics.yaml" --pipeline analytics \
  --input "$WORK/sites.jsonl" --output "$WORK/out.jsonl" 2>"$WORK/summary"
[ "$(wc -l < "$WORK/out.jsonl")" -eq 2000 ] || fail "expected 2000 results"
removes=$(grep -c '"eventName":"REMOVE"' "$WORK/sites.jsonl")
dropped=$(grep -c '"result":"DROPPED"' "$WORK/out.jsonl")
[ "$removes" -eq "$dropped" ] || fail "REMOVE records $removes but DROPPED $dropped"
ok=$(grep -c '"result":"OK"' "$WORK/out.jsonl")
[ $((ok + dropped)) -eq 2000 ] || fail "expected every other record OK, got $ok"
grep -q '"key_prefix":"data/siteId=[0-9]*/year=2023/month=11/day=1[45]/minute=[0-5][0-9]/"' "$WORK/out.jsonl" \
  || fail "no Hive prefix like data/siteId=N/year=2023/..."
if grep '"result":"OK"' "$WORK/out.jsonl" | grep -q '"eventID"'; then fail "projection leaked fields"; fi
grep -q "2000 records: $ok ok, $dropped dropped, 0 failed" "$WORK/summary" || fail "summary: $(cat "$WORK/summary")"

# 2. A Firehose transformation event gets a Firehose response.
rec=$(head -1 "$WORK/sites.jsonl" | sed 's/"eventName":"[A-Z]*"/"eventName":"INSERT"/')
printf '{"invocationId":"i","records":[{"recordId":"a","approximateArrivalTimestamp":1507217624302,"data":"%s"},{"recordId":"b","data":"%s"}]}' \
  "$(printf '%s' "$rec" | base64 -w0)" "$(printf 'not json' | base64 -w0)" > "$WORK/firehose.json"
"$CLI" transform --config "$ROOT/deploy/examples/analytics.yaml" --pipeline analytics \
  --input "$WORK/firehose.json" > "$WORK/firehose.out" 2>/dev/null
grep -q '^{"records":\[{"recordId":"a","result":"Ok","data":"[A-Za-z0-9+/=]*","metadata":{"partitionKeys":{"siteId":' "$WORK/firehose.out" \
  || fail "Firehose response: $(cut -c1-200 "$WORK/firehose.out")"
grep -q '{"recordId":"b","result":"ProcessingFailed","data":"bm90IGpzb24="}' "$WORK/firehose.out" \
  || fail "failed record in Firehose response: $(cat "$WORK/firehose.out")"

# 3. A Lambda event file (pretty-printed, several records).
{ echo '{"Records": ['; head -3 "$WORK/sites.jsonl" | paste -sd, -; echo ']}'; } > "$WORK/lambda.json"
"$CLI" transform --config "$ROOT/deploy/examples/analytics.yaml" --pipeline analytics \
  --input "$WORK/lambda.json" > "$WORK/lambda.out" 2>/dev/null
[ "$(wc -l < "$WORK/lambda.out")" -eq 3 ] || fail "Lambda event: expected 3 results"
grep -q '^{"record_id":"3",' "$WORK/lambda.out" || fail "Lambda event record ids"

# 4. Errors: one line on stderr, non-zero exit.
expect_error() {  # expected-exit-code expected-text command...
  local want=$1 text=$2; shift 2
  set +e; "$@" >/dev/null 2>"$WORK/err" </dev/null; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || fail "exit $rc (wanted $want) from: $*"
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "stderr not one line: $(cat "$WORK/err")"
  grep -q -- "$text" "$WORK/err" || fail "stderr lacks '$text': $(cat "$WORK/err")"
}
printf 'pipelines:\n  - name: p\n    partition_keys:\n      y: { timestamp: t, unit: sec, format: "%%Y" }\n' > "$WORK/bad.yaml"
expect_error 1 'bad.yaml: pipelines\[0\].partition_keys.y.unit: must be one of s, ms, us' \
  "$CLI" transform --config "$WORK/bad.yaml" --pipeline p --input "$WORK/sites.jsonl"
expect_error 1 'unknown pipeline "nope"' \
  "$CLI" transform --config "$ROOT/deploy/examples/analytics.yaml" --pipeline nope --input "$WORK/sites.jsonl"
expect_error 2 'give exactly one of --config or --target' "$CLI" transform --pipeline p
expect_error 2 'unknown option --frobnicate' "$CLI" generate --frobnicate 1
expect_error 2 'unknown command' "$CLI" frobnicate
printf '{\n  "Records": [\n    {"eventName": "INSERT",\n' > "$WORK/truncated.json"
expect_error 1 'looks like a Lambda or Firehose event but is not valid JSON' \
  "$CLI" transform --config "$ROOT/deploy/examples/analytics.yaml" --pipeline analytics --input "$WORK/truncated.json"
"$CLI" --help | grep -q 'transform' || fail "--help"
"$CLI" transform --help | grep -q -- '--target' || fail "transform --help"
"$CLI" generate --help | grep -q -- '--workload' || fail "generate --help"
echo "cli_test: all passed"
