// Differential oracle (Node): checks `lakehose transform` output against
// @aws-sdk/util-dynamodb's unmarshall.
//
//   node tests/differential/node_oracle.mjs RECORDS.jsonl RESULTS.jsonl [--min-records N]
//
// RECORDS.jsonl: DynamoDB stream records, one per line (`lakehose generate`).
// RESULTS.jsonl: `lakehose transform` output for them with the `diff` pipeline
// (input: dynamodb-stream, image: new-or-old, numbers: number, no partition keys).
//
// For every record: the result is OK with record_id = line number and the operation of
// the eventName; the image lakehose should have used (NewImage, else OldImage, else Keys,
// null sibling type keys stripped) goes through unmarshall({wrapNumbers: true}); the
// result's `data` is read with lossless-json so numbers keep their text; the two are
// compared value by value (numbers as exact decimals, sets as sets, B as base64 text).
// Exits 1 on any mismatch or failed record, or if fewer than --min-records (20000)
// records were compared.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as losslessParse } from 'lossless-json';
import { unmarshall } from '@aws-sdk/util-dynamodb';

import { chooseNewOrOld, compareMap, stripNullTypeKeysInMap } from '../lib/ddb_values.mjs';

const OPERATIONS = { INSERT: 'INSERT', MODIFY: 'UPDATE', REMOVE: 'DELETE' };
const SHOW = 5;

function readLines(path) {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function main() {
  const { values, positionals } = parseArgs({
    options: { 'min-records': { type: 'string', default: '20000' } },
    allowPositionals: true,
  });
  if (positionals.length !== 2) {
    console.error('usage: node_oracle.mjs RECORDS.jsonl RESULTS.jsonl [--min-records N]');
    return 2;
  }
  const minRecords = Number(values['min-records']);
  const [recordsPath, resultsPath] = positionals;
  const records = readLines(recordsPath);
  const results = readLines(resultsPath);

  const mismatches = [];  // {record_id, path, reason, ...}
  const counts = { compared: 0, ok: 0, failed: 0, dropped: 0, other: 0, images: { NewImage: 0, OldImage: 0, Keys: 0 } };
  const note = (recordId, m) => mismatches.push({ record_id: recordId, ...m });

  if (results.length !== records.length) {
    note('(all)', { path: '', reason: `${records.length} input records but ${results.length} result lines` });
  }
  const n = Math.min(records.length, results.length);
  for (let i = 0; i < n; ++i) {
    const recordId = String(i + 1);
    let result;
    try {
      result = losslessParse(results[i]);
    } catch (e) {
      note(recordId, { path: '(result line)', reason: `not valid JSON: ${e.message}`, line: results[i].slice(0, 300) });
      continue;
    }
    if (result.record_id !== recordId) {
      note(recordId, { path: 'record_id', reason: `expected "${recordId}", got ${JSON.stringify(result.record_id)}` });
      continue;
    }
    if (result.result !== 'OK') {
      if (result.result === 'PROCESSING_FAILED') counts.failed++;
      else if (result.result === 'DROPPED') counts.dropped++;
      else counts.other++;
      note(recordId, {
        path: 'result',
        reason: `expected OK, got ${result.result}`,
        error_code: result.error_code,
        error_message: result.error_message,
      });
      continue;
    }
    counts.ok++;
    const record = JSON.parse(records[i]);  // input strings only; numbers are N strings
    const wantOp = OPERATIONS[record.eventName];
    if (result.operation !== wantOp) {
      note(recordId, { path: 'operation', reason: `eventName ${record.eventName}: expected ${wantOp}, got ${result.operation}` });
    }
    const { name, image } = chooseNewOrOld(record);
    if (!image) {
      note(recordId, { path: 'dynamodb', reason: 'input has no image (generator problem)' });
      continue;
    }
    counts.images[name]++;
    const typed = stripNullTypeKeysInMap(image);
    let oracle;
    try {
      oracle = unmarshall(typed, { wrapNumbers: true });
    } catch (e) {
      note(recordId, { path: name, reason: `oracle could not unmarshall: ${e.message}` });
      continue;
    }
    const data = result.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      note(recordId, { path: 'data', reason: 'data is not a JSON object' });
      continue;
    }
    const found = [];
    compareMap(typed, oracle, data, '', found);
    for (const m of found) note(recordId, { image: name, ...m });
    counts.compared++;
  }

  const mismatchedRecords = new Set(mismatches.map((m) => m.record_id)).size;
  console.log(`node oracle (@aws-sdk/util-dynamodb unmarshall, wrapNumbers):`);
  console.log(`  input records:    ${records.length}`);
  console.log(`  results:          ${results.length} (OK ${counts.ok}, PROCESSING_FAILED ${counts.failed}, DROPPED ${counts.dropped}, other ${counts.other})`);
  console.log(`  records compared: ${counts.compared} (NewImage ${counts.images.NewImage}, OldImage ${counts.images.OldImage}, Keys ${counts.images.Keys})`);
  console.log(`  mismatches:       ${mismatches.length} in ${mismatchedRecords} records`);
  for (const m of mismatches.slice(0, SHOW)) console.log(`  - ${JSON.stringify(m)}`);
  if (mismatches.length > SHOW) console.log(`  ... and ${mismatches.length - SHOW} more`);

  let ok = mismatches.length === 0;
  if (counts.compared < minRecords) {
    console.log(`  FAIL: only ${counts.compared} records compared; at least ${minRecords} required`);
    ok = false;
  }
  console.log(ok ? 'node oracle: PASS' : 'node oracle: FAIL');
  return ok ? 0 : 1;
}

process.exitCode = main();
