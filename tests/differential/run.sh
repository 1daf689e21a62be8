#!/usr/bin/env bash
# Differential test of the DynamoDB JSON transform: 20,000 generated stream records
# (edge cases, transactions, sites) through `lakehose transform` offline, checked against
# @aws-sdk/util-dynamodb's unmarshall (node_oracle.mjs) and boto3's TypeDeserializer
# (boto3_oracle.py). Fails if any value differs, any record is not OK, or fewer than
# 20,000 records were compared.
#
#   tests/differential/run.sh PATH/TO/lakehose
#
# Needs: node with tests/node_modules installed from the lock file
# ((cd tests && npm install --no-save): `npm ci` refuses this lock here, because the
# registry reached from this workplace lacks @duckdb/node-api's other-platform bindings),
# and Debian's python3-boto3 (run with /usr/bin/python3; LAKEHOSE_BOTO3_PYTHON overrides).
# KEEP_TMP=1 keeps the work directory for a look after a failure.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PATH/TO/lakehose" >&2
  exit 2
fi
cli=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${LAKEHOSE_BOTO3_PYTHON:-/usr/bin/python3}

[[ -x "$cli" ]] || { echo "run.sh: $cli is not an executable" >&2; exit 2; }
[[ -d "$here/../node_modules/@aws-sdk/util-dynamodb" && -d "$here/../node_modules/lossless-json" ]] ||
  { echo "run.sh: tests/node_modules is missing; run: (cd $(cd "$here/.." && pwd) && npm install --no-save)" >&2; exit 2; }
"$python" -c 'import boto3.dynamodb.types' 2>/dev/null ||
  { echo "run.sh: $python has no boto3; install Debian's python3-boto3" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lakehose-diff.XXXXXX")
if [[ "${KEEP_TMP:-0}" == 1 ]]; then
  echo "run.sh: work directory $work (kept)"
else
  trap 'rm -rf "$work"' EXIT
fi

records=$work/records.jsonl
results=$work/results.jsonl
# Different seeds per workload; edge cases first so they dominate.
"$cli" generate --workload edge --records 14000 --seed 20240101 >"$records"
"$cli" generate --workload transactions --records 4000 --seed 20240102 >>"$records"
"$cli" generate --workload sites --records 2000 --seed 20240103 >>"$records"
count=$(wc -l <"$records")
echo "run.sh: generated $count records"
if [[ $count -lt 20000 ]]; then
  echo "run.sh: FAIL: expected at least 20000 generated records" >&2
  exit 1
fi

"$cli" transform --config "$here/diff.yaml" --pipeline diff --input "$records" --output "$results"
echo "run.sh: lakehose transform wrote $(wc -l <"$results") results"

status=0
node "$here/node_oracle.mjs" "$records" "$results" --min-records 20000 || status=1
"$python" "$here/boto3_oracle.py" "$records" "$results" --min-records 20000 || status=1
if [[ $status -eq 0 ]]; then
  echo "run.sh: differential test PASS"
else
  echo "run.sh: differential test FAIL" >&2
fi
exit $status
