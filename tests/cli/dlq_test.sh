#!/usr/bin/env bash
# `lakehose dlq` against a real lakehose-server whose data_dir is a temp dir:
#  - records that fail processing land in the dead-letter queue; list shows them;
#    redrive fails while the config still refuses them (exit 1) and delivers them once a
#    restarted server's config accepts them; the queue survives the restart;
#  - an object whose destination is broken past its retry budget becomes a delivery
#    entry (expired at the short max age), and redrive stores it once the destination
#    is fixed;
#  - purge is explicit only; usage errors and server errors are one line on stderr.
#   tests/cli/dlq_test.sh PATH_TO_lakehose PATH_TO_lakehose-server
set -euo pipefail
CLI=$1
SERVER=$2
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

# $1: partition key spec of pipeline p (the "fix" is adding a default).
write_config() {
  cat > "$WORK/config.yaml" <<EOF
server:
  data_dir: $WORK/data
  shutdown_grace_s: 5
  dlq: { delivery_retry_budget_s: 1, max_age_s: 1, retry_base_ms: 100, retry_max_ms: 200 }
pipelines:
  - name: p
    input: json
    partition_keys:
      region: $1
    prefix: "data/region=!{partitionKeyFromLambda:region}/"
    error_prefix: "errors/"
    destination: { kind: file, path: $WORK/lake, format: jsonl, compression: gzip,
                   buffering: { size_mb: 64, interval_s: 3600 } }
  - name: q
    input: json
    partition_keys:
      region: { attribute: region, default: none }
    prefix: "q/"
    destination: { kind: file, path: $WORK/blocked/lake, format: jsonl, compression: gzip,
                   buffering: { size_mb: 64, interval_s: 3600 } }
EOF
}

start_server() {
  rm -f "$WORK/port"
  "$SERVER" --config "$WORK/config.yaml" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --port-file "$WORK/port" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$WORK/port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited at start-up"
    sleep 0.1
  done
  [ -s "$WORK/port" ] || fail "server did not start within 10 s"
  TARGET=127.0.0.1:$(cat "$WORK/port")
}

stop_server() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "server did not stop within 10 s"
  wait "$SERVER_PID" || true
  SERVER_PID=
}

expect_error() {  # expected-exit-code expected-text command...
  local want=$1 text=$2; shift 2
  set +e; "$@" >"$WORK/out" 2>"$WORK/err" </dev/null; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || fail "exit $rc (wanted $want) from: $* ($(cat "$WORK/err"))"
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "stderr not one line: $(cat "$WORK/err")"
  grep -q -- "$text" "$WORK/err" || fail "stderr lacks '$text': $(cat "$WORK/err")"
}

b64() { printf '%s' "$1" | base64 -w0; }
# A Firehose event: one good record, one without its partition key, one not JSON.
printf '{"records":[{"recordId":"good","data":"%s"},{"recordId":"no-region","data":"%s"},{"recordId":"garbage","data":"%s"}]}' \
  "$(b64 '{"region":"eu","v":1}')" "$(b64 '{"v":2}')" "$(b64 'not json')" > "$WORK/p.json"
printf '{"records":[{"recordId":"q1","data":"%s"}]}' "$(b64 '{"v":3}')" > "$WORK/q.json"

# 1. Processing failures land in the DLQ.
write_config '{ attribute: region }'
start_server
"$CLI" send --target "$TARGET" --pipeline p --input "$WORK/p.json" 2>"$WORK/send.err" || fail "send: $(cat "$WORK/send.err")"
grep -q "3 records: 1 ok, 0 dropped, 2 failed" "$WORK/send.err" || fail "send summary: $(cat "$WORK/send.err")"
"$CLI" dlq list --target "$TARGET" > "$WORK/list" 2>"$WORK/list.err" || fail "dlq list: $(cat "$WORK/list.err")"
head -1 "$WORK/list" | grep -q '^ID  *KIND  *PIPELINE  *ATTEMPTS  *AGE  *NEXT  *LAST ERROR$' || fail "header: $(head -1 "$WORK/list")"
[ "$(grep -c ' processing  *p  *1  .*redrive ' "$WORK/list")" -eq 2 ] || fail "expected 2 processing entries: $(cat "$WORK/list")"
grep -q 'MISSING_PARTITION_KEY\|region' "$WORK/list" || fail "no missing-key error listed: $(cat "$WORK/list")"
grep -q 'not valid JSON' "$WORK/list" || fail "no JSON error listed: $(cat "$WORK/list")"
grep -q '2 entries' "$WORK/list.err" || fail "list summary: $(cat "$WORK/list.err")"
"$CLI" dlq list --target "$TARGET" --limit 1 > "$WORK/list1" 2>/dev/null
[ "$(wc -l < "$WORK/list1")" -eq 2 ] || fail "--limit 1: $(cat "$WORK/list1")"
"$CLI" dlq list --target "$TARGET" --kind delivery > "$WORK/listd" 2>/dev/null
[ "$(wc -l < "$WORK/listd")" -eq 1 ] || fail "--kind delivery should be empty: $(cat "$WORK/listd")"
"$CLI" dlq list --target "$TARGET" --pipeline q > "$WORK/listq" 2>/dev/null
[ "$(wc -l < "$WORK/listq")" -eq 1 ] || fail "--pipeline q should be empty"

# Redrive while the config still refuses them: every entry fails and stays; exit 1.
set +e; "$CLI" dlq redrive --target "$TARGET" --all > "$WORK/redrive" 2>"$WORK/redrive.err"; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "redrive of still-failing entries exited $rc"
[ "$(grep -c $'\tfailed\t' "$WORK/redrive")" -eq 2 ] || fail "redrive output: $(cat "$WORK/redrive")"
grep -q '0 ok, 2 failed' "$WORK/redrive.err" || fail "redrive summary: $(cat "$WORK/redrive.err")"
"$CLI" dlq list --target "$TARGET" > "$WORK/list" 2>/dev/null
[ "$(grep -c ' processing  *p  *2  ' "$WORK/list")" -eq 2 ] || fail "attempts not recorded: $(cat "$WORK/list")"

# 2. The operator fixes the config and restarts: the queue is still there, and a redrive
#    delivers what passes now.
stop_server
write_config '{ attribute: region, default: unknown }'
start_server
"$CLI" dlq list --target "$TARGET" --pipeline p > "$WORK/list" 2>/dev/null
[ "$(grep -c ' processing ' "$WORK/list")" -eq 2 ] || fail "queue lost across restart: $(cat "$WORK/list")"
set +e; "$CLI" dlq redrive --target "$TARGET" --pipeline p > "$WORK/redrive" 2>"$WORK/redrive.err"; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "redrive with one still-bad entry exited $rc"
[ "$(grep -c $'\tok$' "$WORK/redrive")" -eq 1 ] || fail "redrive output: $(cat "$WORK/redrive")"
grep -q '1 ok, 1 failed' "$WORK/redrive.err" || fail "redrive summary: $(cat "$WORK/redrive.err")"
timeout 20 "$CLI" flush --target "$TARGET" --pipeline p > "$WORK/flush" 2>&1 \
  || fail "flush after the redrive failed or hung (exit $?): $(cat "$WORK/flush")"
obj=$(ls "$WORK"/lake/data/region=unknown/*.gz 2>/dev/null | head -1)
[ -n "$obj" ] || fail "the redriven record did not reach the lake: $(find "$WORK/lake" -type f)"
zcat "$obj" | grep -q '"v":2' || fail "redriven record content: $(zcat "$obj")"
"$CLI" dlq list --target "$TARGET" > "$WORK/list" 2>/dev/null
[ "$(wc -l < "$WORK/list")" -eq 2 ] || fail "one entry should be left: $(cat "$WORK/list")"
left=$(sed -n 2p "$WORK/list" | cut -d' ' -f1)

# 3. A delivery that runs out of its retry budget (the q lake's directory is a file)
#    becomes a delivery entry; at the 1 s max age it is marked expired.
#    The directory becomes a file while the server runs: at start-up it must take a
#    file, or the server does not start (README "Start-up checks").
rm -rf "$WORK/blocked" && echo "a file where the q pipeline's lake directory should be" > "$WORK/blocked"
"$CLI" send --target "$TARGET" --pipeline q --input "$WORK/q.json" 2>/dev/null || fail "send q"
timeout 20 "$CLI" flush --target "$TARGET" --pipeline q >/dev/null 2>&1 || true  # fails: the sink is broken
for _ in $(seq 1 150); do
  "$CLI" dlq list --target "$TARGET" --kind delivery > "$WORK/listd" 2>/dev/null || true
  grep -q ' expired ' "$WORK/listd" && break
  sleep 0.1
done
grep -q ' delivery  *q  .* expired ' "$WORK/listd" || fail "no expired delivery entry within 15 s: $(cat "$WORK/listd")"
did=$(sed -n 2p "$WORK/listd" | cut -d' ' -f1)
rm -f "$WORK/blocked" && mkdir -p "$WORK/blocked"
"$CLI" dlq redrive --target "$TARGET" --id "$did" > "$WORK/redrive" 2>"$WORK/redrive.err" \
  || fail "redrive of a fixed delivery: $(cat "$WORK/redrive" "$WORK/redrive.err")"
grep -q "^$did"$'\tok$' "$WORK/redrive" || fail "redrive output: $(cat "$WORK/redrive")"
qobj=$(find "$WORK/blocked/lake" -name '*.gz' | head -1)
[ -n "$qobj" ] && zcat "$qobj" | grep -q '"v":3' || fail "the redriven object is not in the q lake"

# 4. Purge: explicit only.
expect_error 2 'purging a whole pipeline needs --yes' "$CLI" dlq purge --target "$TARGET" --pipeline p
expect_error 2 'give either --id or --pipeline' "$CLI" dlq purge --target "$TARGET"
expect_error 1 'NOT_FOUND: no such dead letter' "$CLI" dlq purge --target "$TARGET" --id 0000000000000001-p-00000000
"$CLI" dlq purge --target "$TARGET" --pipeline p --yes > "$WORK/purge" 2>"$WORK/purge.err" || fail "purge"
[ "$(cat "$WORK/purge")" = "$left" ] || fail "purged: $(cat "$WORK/purge") (wanted $left)"
grep -q '1 entries purged' "$WORK/purge.err" || fail "purge summary: $(cat "$WORK/purge.err")"
"$CLI" dlq list --target "$TARGET" > "$WORK/list" 2>/dev/null
[ "$(wc -l < "$WORK/list")" -eq 1 ] || fail "queue should be empty: $(cat "$WORK/list")"
[ -z "$(ls "$WORK/data/dlq" | grep -v '^LOCK$' || true)" ] || fail "files left in the queue dir: $(ls "$WORK/data/dlq")"

# 5. Usage: --help for each, one-line errors.
"$CLI" dlq --help | grep -q 'redrive' || fail "dlq --help"
"$CLI" dlq list --help | grep -q -- '--kind' || fail "dlq list --help"
"$CLI" dlq redrive --help | grep -q -- '--all' || fail "dlq redrive --help"
"$CLI" dlq purge --help | grep -q -- '--yes' || fail "dlq purge --help"
"$CLI" --help | grep -q 'dlq' || fail "--help lacks dlq"
expect_error 2 'give exactly one of --id, --pipeline or --all' "$CLI" dlq redrive --target "$TARGET"
expect_error 2 'give exactly one of --id, --pipeline or --all' "$CLI" dlq redrive --target "$TARGET" --all --pipeline p
expect_error 2 '--target is required' "$CLI" dlq list
expect_error 2 '--kind must be delivery or processing' "$CLI" dlq list --target "$TARGET" --kind nope
expect_error 2 'unknown dlq command' "$CLI" dlq frobnicate
expect_error 2 'unknown option --frobnicate' "$CLI" dlq list --frobnicate 1
stop_server
expect_error 1 'cannot connect to .*UNAVAILABLE' "$CLI" dlq list --target "$TARGET" --deadline 0.3
echo "dlq_test: all passed"
