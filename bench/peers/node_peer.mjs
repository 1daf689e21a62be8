// The Node.js peer: what a transformation Lambda written with @aws-sdk/util-dynamodb's
// unmarshall does per record, for the embedded `demo` pipeline
// (lakehose-server --print-default-config).
//
//   node bench/peers/node_peer.mjs RECORDS.jsonl [--min-seconds S] [--check OUT.tsv]
//
// Per record, the same job as lakehose's core transform: decode the stream record
// (JSON.parse), choose the image (NewImage, else OldImage, else Keys: `image:
// new-or-old`), unmarshall it, add the metadata (_eventID, _eventName,
// _ApproximateCreationDateTime in ms), compute the partition keys (region with default
// "unknown"; date %Y-%m-%d and hour %H of `timestamp` in ms, UTC, else of
// ApproximateCreationDateTime), make them Hive-path-safe, render the prefix and the
// document as one JSON line. Written plainly, the way a Lambda would be: numbers are JS
// numbers (unmarshall's default; lossy past 2^53, which lakehose is not), sets become
// arrays, binary base64.
//
// Prints one JSON object: {"row", "records", "bytes", "seconds" (wall), "cpu_seconds" (the
// process's, GC threads included), "passes"}. The input is read into memory first; only
// the loop is timed, repeated until --min-seconds of CPU time have passed.

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The package lives in tests/node_modules (pinned by tests/package-lock.json).
const require = createRequire(resolve(dirname(fileURLToPath(import.meta.url)), '../../tests/package.json'));
const { unmarshall } = require('@aws-sdk/util-dynamodb');

// eslint-disable-next-line no-control-regex
const HIVE_ESCAPE = /[\x00-\x1f\x7f"#%'*/:=?\\{[\]^]/g;
const hex = (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

export function pathSafe(v) {
  if (v === '') return '__HIVE_DEFAULT_PARTITION__';
  if (v === '.' || v === '..') return '%2E'.repeat(v.length);
  return v.replace(HIVE_ESCAPE, hex);
}

export function replacer(key, value) {
  if (value instanceof Set) return [...value];
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

export const pad2 = (n) => (n < 10 ? `0${n}` : String(n));

// One stream record (JSON text) -> {prefix, keys, line}.
export function transform(text) {
  const rec = JSON.parse(text);
  const ddb = rec.dynamodb;
  const image = ddb.NewImage ?? ddb.OldImage ?? ddb.Keys;
  const item = unmarshall(image);
  const act = ddb.ApproximateCreationDateTime;
  const creationMs = act === undefined ? null : Math.round(act * 1000);
  const doc = { _eventID: rec.eventID, _eventName: rec.eventName, _ApproximateCreationDateTime: creationMs, ...item };
  const region = pathSafe(item.region === undefined || item.region === null ? 'unknown' : String(item.region));
  const ms = typeof item.timestamp === 'number' ? item.timestamp : creationMs;
  const t = new Date(ms);
  const date = pathSafe(`${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`);
  const hour = pathSafe(pad2(t.getUTCHours()));
  const prefix = `transactions/region=${region}/date=${date}/hour=${hour}/`;
  return { prefix, keys: [region, date, hour], line: JSON.stringify(doc, replacer) };
}

function main() {
  const { values, positionals } = parseArgs({
    options: { 'min-seconds': { type: 'string', default: '2' }, check: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    console.error('usage: node_peer.mjs RECORDS.jsonl [--min-seconds S] [--check OUT.tsv]');
    process.exit(2);
  }
  const minSeconds = Number(values['min-seconds']);
  const text = readFileSync(positionals[0], 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  if (values.check) {  // untimed
    writeFileSync(values.check, lines.map((l) => { const r = transform(l); return `${r.prefix}\t${r.line}\n`; }).join(''));
  }
  let passes = 0;
  let elapsed = 0;
  let cpu = 0;
  let outBytes = 0;
  let best = 0;
  while (passes === 0 || cpu < minSeconds) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    outBytes = 0;
    for (const l of lines) outBytes += transform(l).line.length;
    const used = process.cpuUsage(cpuStart);
    const seconds = (used.user + used.system) / 1e6;
    best = passes === 0 ? seconds : Math.min(best, seconds);
    cpu += seconds;
    elapsed += Number(process.hrtime.bigint() - start) / 1e9;
    passes++;
  }
  console.log(JSON.stringify({
    row: 'node_peer', records: lines.length * passes, bytes: bytes * passes, out_bytes: outBytes * passes, seconds: elapsed, cpu_seconds: cpu, passes,
    pass_records: lines.length, pass_bytes: bytes, best_pass_cpu_seconds: best,
  }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
