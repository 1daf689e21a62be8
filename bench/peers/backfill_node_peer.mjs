// The Node.js peer of `lakehose backfill`: what a user would write with the AWS SDK for
// JavaScript v3 to turn a DynamoDB export, or a parallel Scan, into a gzip JSON Lines lake
// with the bench's `backfill` pipeline (the embedded demo pipeline's partition keys and
// metadata, bench/backfill_rows.mjs).
//
//   node bench/peers/backfill_node_peer.mjs --export DIR --out DIR
//   node bench/peers/backfill_node_peer.mjs --scan --endpoint URL --table T [--segments 4]
//        [--page-items 1000] --out DIR     (credentials from AWS_ACCESS_KEY_ID/...)
//
// Per item, the same job as lakehose: unmarshall (@aws-sdk/util-dynamodb) with numbers as
// JS numbers, what a typical user writes (lossy past 2^53 and for 38 digits, which
// lakehose is not). Its default (wrapNumbers: false) is that too, except that it throws
// on numbers past 2^53 that are not integers ("1.2E+125 can't be converted to BigInt"),
// which the bench's items hold, and makes BigInts of large integers, which JSON.stringify
// refuses: so `wrapNumbers: Number`, the one-line fix a user would reach for., add _eventID, _eventName
// (INSERT) and _ApproximateCreationDateTime (the export time, or the scan's start), compute
// the partition keys (region with default "unknown"; date and hour of `timestamp` in ms,
// else of that time), render the prefix and the document (JSON.stringify; sets as arrays,
// binary as base64). Each export data file, or each Scan page, becomes one gzip object per
// prefix, as lakehose writes one object set per unit.
//   Export: the manifest lists the data files; each is read, gunzipped (zlib), split into
// lines, JSON.parse'd; single thread (one event loop), the files one after the other. It
// does not check MD5s or item counts, which lakehose does.
//   Scan: @aws-sdk/client-dynamodb ScanCommand, all segments at once (promises on one
// event loop), each page converted as it arrives.
//
// Prints one JSON object: {"row", "records", "seconds" (wall, from after the imports to
// the last object written), "cpu_seconds_process" (the process's, start-up included),
// "out_bytes", "objects"}.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

import { pad2, pathSafe, replacer } from './node_peer.mjs';

// The packages live in tests/node_modules (pinned by tests/package-lock.json).
const require = createRequire(resolve(dirname(fileURLToPath(import.meta.url)), '../../tests/package.json'));
const { unmarshall } = require('@aws-sdk/util-dynamodb');

const UNMARSHALL_OPTIONS = { wrapNumbers: Number };

// Hive path-safe values, the JSON of sets and binary, two-digit fields: node_peer.mjs's.


// One item (an attribute map) -> [prefix, line].
function convert(image, eventId, creationMs) {
  const item = unmarshall(image, UNMARSHALL_OPTIONS);
  const doc = { _eventID: eventId, _eventName: 'INSERT', _ApproximateCreationDateTime: creationMs, ...item };
  const region = pathSafe(item.region === undefined || item.region === null ? 'unknown' : String(item.region));
  const t = new Date(typeof item.timestamp === 'number' ? item.timestamp : creationMs);
  const date = pathSafe(`${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`);
  const hour = pathSafe(pad2(t.getUTCHours()));
  return [`backfill/region=${region}/date=${date}/hour=${hour}/`, JSON.stringify(doc, replacer)];
}

// Writes one unit's lines, grouped by prefix, as gzip objects under outDir.
function writeUnit(outDir, unitName, converted, stats) {
  const byPrefix = new Map();
  for (const [prefix, line] of converted) {
    let lines = byPrefix.get(prefix);
    if (!lines) byPrefix.set(prefix, (lines = []));
    lines.push(line);
  }
  for (const [prefix, lines] of byPrefix) {
    const dir = join(outDir, prefix);
    mkdirSync(dir, { recursive: true });
    const bytes = zlib.gzipSync(`${lines.join('\n')}\n`);
    writeFileSync(join(dir, `${unitName}.jsonl.gz`), bytes);
    stats.outBytes += bytes.length;
    stats.objects++;
  }
}

function exportRun(exportDir, outDir, stats) {
  const summary = JSON.parse(readFileSync(join(exportDir, 'manifest-summary.json'), 'utf8'));
  const exportId = summary.exportArn.slice(summary.exportArn.lastIndexOf('/') + 1);
  const creationMs = Date.parse(summary.exportTime);
  const entries = readFileSync(join(exportDir, 'manifest-files.json'), 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  entries.forEach((entry, index) => {
    const key = entry.dataFileS3Key;
    const text = zlib.gunzipSync(readFileSync(join(exportDir, key.slice(key.lastIndexOf('/data/') + 1)))).toString('utf8');
    const converted = [];
    let n = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      converted.push(convert(JSON.parse(line).Item, `${exportId}:${index}:${++n}`, creationMs));
    }
    stats.records += n;
    writeUnit(outDir, `export-${index}`, converted, stats);
  });
}

async function scanRun({ endpoint, table, segments, pageItems }, outDir, stats) {
  const { DynamoDBClient, ScanCommand } = require('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 10 });
  const creationMs = Date.now();
  try {
    await Promise.all(Array.from({ length: segments }, async (_, segment) => {
      let startKey;
      for (let page = 0; ; page++) {
        const out = await client.send(new ScanCommand({
          TableName: table, Segment: segment, TotalSegments: segments, Limit: pageItems, ExclusiveStartKey: startKey,
        }));
        const converted = (out.Items ?? []).map((image, i) => convert(image, `scan:${table}:${segment}:${page}:${i}`, creationMs));
        stats.records += converted.length;
        writeUnit(outDir, `scan-${segment}-${page}`, converted, stats);
        startKey = out.LastEvaluatedKey;
        if (!startKey) break;
      }
    }));
  } finally {
    client.destroy();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      export: { type: 'string' }, scan: { type: 'boolean' }, endpoint: { type: 'string' }, table: { type: 'string' },
      segments: { type: 'string', default: '4' }, 'page-items': { type: 'string', default: '1000' }, out: { type: 'string' },
    },
  });
  if (!values.out || (!values.export && !(values.scan && values.endpoint && values.table))) {
    console.error('usage: backfill_node_peer.mjs (--export DIR | --scan --endpoint URL --table T [--segments N]) --out DIR');
    process.exit(2);
  }
  const stats = { records: 0, outBytes: 0, objects: 0 };
  const start = process.hrtime.bigint();
  if (values.export) {
    exportRun(values.export, values.out, stats);
  } else {
    await scanRun({ endpoint: values.endpoint, table: values.table, segments: Number(values.segments), pageItems: Number(values['page-items']) },
      values.out, stats);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({
    row: values.export ? 'backfill_export_node_peer' : 'backfill_scan_node_peer', records: stats.records, seconds,
    cpu_seconds_process: (cpu.user + cpu.system) / 1e6, out_bytes: stats.outBytes, objects: stats.objects,
  }));
}

await main();
