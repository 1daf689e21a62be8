// The lake as the suites write and read it: a one-pipeline config (dynamodb-stream into
// the file sink or S3), the objects of a file lake or of the S3 front's bucket read back
// with every `_eventID` counted, DuckDB's view of the same objects, and the verdict
// against what was acknowledged and sent.
//
// Used from one Node thread; it reads files and s3rver, and writes only under the root
// it is given.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import zlib from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';

import { TEST_REGION, xmlTags } from './s3_front.mjs';

// A config with one dynamodb-stream pipeline. dest: {kind: 'file', path} or {kind: 's3',
// endpoint, partSizeMb?, retry?: {maxAttempts, baseDelayMs, maxDelayMs}} (the S3 front's
// bucket `lake`). serverLines: extra lines under `server:` (already indented by two
// spaces). partitioned: region partitions (default) or one prefix. iceberg: {table,
// commitIntervalS, metadata?}: the pipeline writes that Iceberg table instead (format
// iceberg, Parquet data files), partitioned by region and the hour of the event time (the
// spec the default config's keys derive: identity(region), hour(_event_time)).
export function configYaml({
  dataDir, writerId, pipeline = 'dur', dest, compression = 'gzip', sizeMb = 0.05, intervalS = 1,
  serverLines = [], partitioned = true, iceberg = null,
}) {
  const d = dest.kind === 'file'
    ? ['      kind: file', `      path: ${JSON.stringify(dest.path)}`]
    : ['      kind: s3', '      bucket: lake', `      endpoint: ${dest.endpoint}`, '      force_path_style: true', `      region: ${TEST_REGION}`,
      ...(dest.partSizeMb ? [`      part_size_mb: ${dest.partSizeMb}`] : []),
      ...(dest.retry ? [`      retry: { max_attempts: ${dest.retry.maxAttempts}, base_delay_ms: ${dest.retry.baseDelayMs}, max_delay_ms: ${dest.retry.maxDelayMs} }`] : [])];
  return [
    'server:',
    `  data_dir: ${JSON.stringify(dataDir)}`,
    `  writer_id: ${writerId}`,
    ...serverLines,
    'pipelines:',
    `  - name: ${pipeline}`,
    '    input: dynamodb-stream',
    '    image: new-or-old',
    `    metadata: [${(iceberg?.metadata ?? ['eventID']).join(', ')}]`,
    ...(iceberg
      ? ['    partition_keys:',
        '      region: { attribute: region, default: unknown }',
        '      date:   { timestamp: timestamp, unit: ms, format: "%Y-%m-%d", fallback: approximate_creation_time }',
        '      hour:   { timestamp: timestamp, unit: ms, format: "%H", fallback: approximate_creation_time }']
      : partitioned
        ? ['    partition_keys:',
          '      region: { attribute: region, default: unknown }',
          `    prefix: "${pipeline}/region=!{partitionKeyFromLambda:region}/"`]
        : [`    prefix: "${pipeline}/all/"`]),
    ...(iceberg ? [] : [`    error_prefix: "${pipeline}-errors/"`]),
    '    destination:',
    ...d,
    ...(iceberg
      ? ['      format: iceberg',
        `      iceberg: { table: ${iceberg.table}, catalog: { kind: filesystem }, commit_interval_s: ${iceberg.commitIntervalS} }`]
      : ['      format: jsonl', `      compression: ${compression}`]),
    `      buffering: { size_mb: ${sizeMb}, interval_s: ${intervalS} }`,
    '',
  ].join('\n');
}

// The key of `file` in a lake rooted at `root`: its relative path with '/' separators.
export const objectKey = (root, file) => relative(root, file).split(sep).join('/');

// Every file under `root` (none if it does not exist), sorted.
export function listFiles(root) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

// The name suffix of a JSON Lines object, per compression.
export const EXTENSIONS = { gzip: '.jsonl.gz', zstd: '.jsonl.zst', none: '.jsonl' };

function decompress(compression, buf) {
  if (compression === 'gzip') return zlib.gunzipSync(buf).toString('utf8');
  if (compression === 'zstd') {
    if (!zlib.zstdDecompressSync) throw new Error('this Node has no zstd; the durability tests write gzip');
    return zlib.zstdDecompressSync(buf).toString('utf8');
  }
  return buf.toString('utf8');
}

// Every key of the front's bucket, read from s3rver directly with ListObjects (V1,
// marker = the last key). Not front.listObjects(): that uses ListObjectsV2, and s3rver
// builds V2 continuation tokens with DES, which Node 20's OpenSSL 3 refuses
// (ERR_OSSL_EVP_UNSUPPORTED -> 500) as soon as a listing is truncated (> 1000 keys).
export async function listS3(front) {
  const keys = [];
  let marker = '';
  for (let page = 0; page < 100_000; page++) {
    const url = `${front.s3rverEndpoint}/${front.bucket}?max-keys=1000${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`;
    const r = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    const xml = await r.text();
    if (r.status !== 200) throw new Error(`s3rver ListObjects failed: ${r.status} ${xml.slice(0, 500)}`);
    const got = xmlTags(xml, 'Contents').map((c) => xmlTags(c, 'Key')[0]);
    keys.push(...got);
    if (xmlTags(xml, 'IsTruncated')[0] !== 'true' || got.length === 0) break;
    marker = got[got.length - 1];
  }
  return keys;
}

// Replaces `root` with a copy of the front's bucket (every key a file under it), read from
// s3rver directly (listS3). Resolves the keys.
export async function downloadBucket(front, root) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const keys = await listS3(front);
  for (const key of keys) {
    const dest = join(root, ...key.split('/'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, await front.getObject(key));
  }
  return keys;
}

// Reads every object under <root>/<pipeline>/ : {objects, lines, counts: Map(eventID ->
// times seen), where: Map(eventID -> [keys]), leftovers: [keys of .tmp-* files], root}.
// For S3, `front` is given: the bucket is downloaded into `root` first (s3rver's view).
export async function readLake({ root, pipeline, compression = 'gzip', front = null }) {
  if (front) await downloadBucket(front, root);
  const counts = new Map();
  const where = new Map();
  const leftovers = [];
  const unexpected = [];
  let lines = 0;
  let objects = 0;
  for (const f of listFiles(root)) {
    const key = objectKey(root, f);
    const base = key.slice(key.lastIndexOf('/') + 1);
    if (base.startsWith('.tmp-')) { leftovers.push(key); continue; }
    if (!key.startsWith(`${pipeline}/`) || !key.endsWith(EXTENSIONS[compression])) { unexpected.push(key); continue; }
    objects++;
    const text = decompress(compression, readFileSync(f));
    if (text.length === 0) continue;
    assert.ok(text.endsWith('\n'), `${key} does not end with a newline`);
    for (const line of text.slice(0, -1).split('\n')) {
      lines++;
      let doc;
      try { doc = JSON.parse(line); } catch (e) { throw new Error(`${key}: a line that is not JSON: ${line.slice(0, 200)}`); }
      const id = doc._eventID;
      assert.ok(typeof id === 'string', `${key}: a line without _eventID: ${line.slice(0, 200)}`);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (!where.has(id)) where.set(id, []);
      where.get(id).push(key);
    }
  }
  return { root, objects, lines, counts, where, leftovers, unexpected };
}

// DuckDB's view of the same lake (read_json_auto, hive partitioning): total rows,
// distinct _eventIDs, and how many _eventIDs appear more than once.
export async function duckdbCounts(root, pipeline, compression = 'gzip') {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const glob = `${root}/${pipeline}/**/*${EXTENSIONS[compression]}`.replaceAll("'", "''");
    const src = `read_json_auto('${glob}', hive_partitioning = true, format = 'newline_delimited')`;
    const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
    const [t] = await rows(`SELECT count(*) AS n, count(DISTINCT "_eventID") AS d FROM ${src}`);
    const [dup] = await rows(`SELECT count(*) AS n FROM (SELECT "_eventID" FROM ${src} GROUP BY 1 HAVING count(*) > 1)`);
    const [files] = await rows(`SELECT count(*) AS n FROM glob('${glob}')`);
    return { rows: Number(t.n), distinct: Number(t.d), duplicated: Number(dup.n), files: Number(files.n) };
  } finally {
    conn.closeSync?.();
    instance.closeSync?.();
  }
}

// The verdict on a lake against the acknowledged eventIDs and all eventIDs ever sent.
// Returns {missing: [...], duplicates: [[id, n], ...], strangers: [...], acked, inLake,
// unackedPresent} (strangers: eventIDs never sent at all).
export function verdict(lake, acked, sent) {
  const missing = [];
  for (const id of acked) if (!lake.counts.has(id)) missing.push(id);
  const duplicates = [];
  const strangers = [];
  let unackedPresent = 0;
  for (const [id, n] of lake.counts) {
    if (n > 1) duplicates.push([id, n]);
    if (sent && !sent.has(id)) strangers.push(id);
    if (!acked.has(id)) unackedPresent++;
  }
  return { missing, duplicates, strangers, acked: acked.size, inLake: lake.counts.size, lines: lake.lines, unackedPresent };
}

export function describeVerdict(v, lake, max = 5) {
  const parts = [];
  if (v.missing.length) parts.push(`${v.missing.length} acked eventIDs missing, e.g. ${v.missing.slice(0, max).join(', ')}`);
  if (v.duplicates.length) {
    parts.push(`${v.duplicates.length} eventIDs more than once, e.g. ${v.duplicates.slice(0, max)
      .map(([id, n]) => `${id} x${n} in ${lake.where.get(id).join(' + ')}`).join('; ')}`);
  }
  if (v.strangers.length) parts.push(`${v.strangers.length} eventIDs never sent, e.g. ${v.strangers.slice(0, max).join(', ')}`);
  return parts.join('\n');
}
