// An Iceberg v2 table on the local disk as independent readers see it, for the black-box
// suites: icebird 0.3.1 (npm) reads it through a loopback HTTP server over the lake; avsc
// 5.7.9 (npm, longs as BigInt) and Debian's python3-avro (tests/iceberg/avro_decode.py)
// decode its manifests and manifest lists; DuckDB reads its data files. checkTable walks
// every snapshot of the current metadata and asserts the invariants of the spec
// (/work/wt/iceberg-spec.md: Manifests, Manifest Lists, Snapshots, Sequence Number
// Inheritance, Appendix A and D) and of lakehose's exactly-once promise: no data file live
// twice in a snapshot, counts equal to the data files' rows, sizes equal to the files'.
//
// icebird fetches whatever URL the metadata holds, and lakehose writes file:// URIs for a
// file destination: withTableServer installs a fetch shim that maps file: URLs under the
// lake to the HTTP server (only that: a URL to a file), and passes every other URL on.
//
// Used from one Node thread; it reads files under the lake and writes nothing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

import avro from 'avsc';
import { icebergRead } from 'icebird';

const HERE = dirname(fileURLToPath(import.meta.url));
// Debian's python with python3-avro (the pyenv python on PATH has no avro).
const PYTHON = '/usr/bin/python3';
const AVRO_DECODE_PY = join(HERE, '..', 'iceberg', 'avro_decode.py');
const PYTHON_TIMEOUT_MS = 120_000;

// ---- serving the lake --------------------------------------------------------------------

// A loopback HTTP server over `root`: GET and HEAD of /<relative path> answer the file,
// with single-range support (206, 416), nothing else (no listing, nothing outside root).
// Resolves {port, base, close(), requests}.
export function serveDirectory(root) {
  const top = resolve(root);
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const fail = (code) => { res.writeHead(code, { 'content-length': 0 }); res.end(); };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405);
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return fail(400);
    }
    const file = resolve(top, `.${rel}`);
    if (file !== top && !file.startsWith(top + sep)) return fail(403);
    let size;
    try {
      const st = statSync(file);
      if (!st.isFile()) return fail(404);
      size = st.size;
    } catch {
      return fail(404);
    }
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    if (range !== undefined) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (!m || (m[1] === '' && m[2] === '')) return fail(416);
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
        return res.end();
      }
      status = 206;
    }
    const headers = { 'content-length': end - start + 1, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) return res.end();
    createReadStream(file, { start, end }).pipe(res);
  });
  return new Promise((resolveP, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolveP({
        port,
        base: `http://127.0.0.1:${port}`,
        get requests() { return requests; },
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

// The URL path under which the server above answers `file` (a path under `root`).
const urlPathOf = (root, file) => `/${relative(resolve(root), file).split(sep).map(encodeURIComponent).join('/')}`;

// Runs `fn({tableUrl, http})` with the lake `root` served over loopback HTTP and
// globalThis.fetch shimmed: a file: URL of a file under root goes to the server (by its
// path; percent-escapes decoded), and so does an s3: URL of a mirrored bucket (mirrorS3)
// whose copy is under root, also as icebird fetches it (https://<bucket>.s3.amazonaws.com/
// <key>); any other file: or s3: URL is refused, other URLs pass. The
// table's URL is the server's, so icebird reads version-hint.text and the metadata from it.
export async function withTableServer(root, tableDir, fn) {
  const http = await serveDirectory(root);
  const realFetch = globalThis.fetch;
  const top = resolve(root);
  let mapped = 0;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const mirrored = url.startsWith('file:') ? null : mirroredPath(url);
    if (!url.startsWith('file:') && !url.startsWith('s3:') && !mirrored) return realFetch(input, init);
    const file = url.startsWith('file:') ? fileURLToPath(url) : mirrored;
    if (!file) return Promise.reject(new Error(`fetch shim: ${url} is not in a mirrored bucket`));
    if (!file.startsWith(top + sep)) return Promise.reject(new Error(`fetch shim: ${url} is outside the lake ${top}`));
    mapped++;
    return realFetch(`${http.base}${urlPathOf(top, file)}`, init);
  };
  try {
    return await fn({ tableUrl: `${http.base}${urlPathOf(top, tableDir)}`, http, mapped: () => mapped });
  } finally {
    globalThis.fetch = realFetch;
    await http.close();
  }
}

// icebird's rows of the table (current snapshot, or the one of `metadataFileName`).
export function readWithIcebird(tableUrl, metadataFileName) {
  return icebergRead({ tableUrl, ...(metadataFileName ? { metadataFileName } : {}) });
}

// ---- the table's files -------------------------------------------------------------------

// s3://bucket locations read from a local copy of the bucket (mirrorS3).
const s3Mirrors = new Map();

// Reads the locations under `bucketUri` (s3://bucket) from `dir`, a copy of the bucket
// (lake.mjs downloadBucket): the key after the bucket is the path under dir, as it is.
export function mirrorS3(bucketUri, dir) {
  s3Mirrors.set(bucketUri.replace(/\/+$/, ''), resolve(dir));
}

// The local copy of an s3:// location under a mirrored bucket, or of the URL icebird
// fetches it as (https://<bucket>.s3.amazonaws.com/<key>, its translateS3Url), else null.
function mirroredPath(uri) {
  for (const [prefix, dir] of s3Mirrors) {
    const bucket = prefix.slice('s3://'.length);
    for (const p of [prefix, `https://${bucket}.s3.amazonaws.com`]) {
      if (uri.startsWith(`${p}/`)) return join(dir, ...uri.slice(p.length + 1).split('/'));
    }
  }
  return null;
}

// The local path of a location written in the metadata (file:// URI, percent-encoded; or
// s3:// under a mirrored bucket).
export function localPath(uri) {
  if (uri.startsWith('s3://')) {
    const p = mirroredPath(uri);
    assert.ok(p, `an s3 location outside the mirrored buckets: ${uri}`);
    return p;
  }
  assert.ok(uri.startsWith('file://'), `not a file URI: ${uri}`);
  return fileURLToPath(uri);
}

// The metadata directory: {hint, versions: [{version, file, metadata}] ascending, current}.
// current: the hint's version; asserted to be the last one (lakehose writes the hint
// after creating the version, so at rest they agree).
// With `rest`, the layout a REST catalog writes (tests/lib/rest_catalog.mjs, as Java's
// catalogs): <NNNNN>-<uuid>.metadata.json numbered without a gap and no hint (hint null);
// current is the last (the catalog's metadata-location, which the caller may compare).
export function loadMetadata(tableDir, { rest = false } = {}) {
  const dir = join(tableDir, 'metadata');
  if (rest) {
    const versions = [];
    for (const name of readdirSync(dir)) {
      const m = /^(\d+)-[0-9a-f-]+\.metadata\.json$/.exec(name);
      if (m) versions.push({ version: Number(m[1]), file: name, metadata: JSON.parse(readFileSync(join(dir, name), 'utf8')) });
    }
    versions.sort((a, b) => a.version - b.version);
    assert.ok(versions.length > 0, `the catalog wrote metadata files under ${dir}`);
    assert.deepEqual(versions.map((v) => v.version), versions.map((_, i) => versions[0].version + i), 'metadata versions without a gap');
    return { hint: null, versions, current: versions.at(-1).metadata };
  }
  const hintText = readFileSync(join(dir, 'version-hint.text'), 'utf8');
  assert.match(hintText, /^\d+\n?$/, 'version-hint.text holds a number');
  const hint = Number(hintText.trim());
  const versions = [];
  for (const name of readdirSync(dir)) {
    const m = /^v(\d+)\.metadata\.json$/.exec(name);
    if (!m) continue;
    versions.push({ version: Number(m[1]), file: name, metadata: JSON.parse(readFileSync(join(dir, name), 'utf8')) });
  }
  versions.sort((a, b) => a.version - b.version);
  assert.deepEqual(versions.map((v) => v.version), versions.map((_, i) => i + 1), 'metadata versions v1..vN without a gap');
  assert.equal(hint, versions.length, 'version-hint.text names the last version');
  return { hint, versions, current: versions.at(-1).metadata };
}

// ---- Avro: avsc with BigInt longs, and python3-avro --------------------------------------

// avsc refuses longs beyond 2^53 by default; snapshot ids are random 63-bit numbers.
const BigLong = avro.types.LongType.__with({
  fromBuffer: (buf) => buf.readBigInt64LE(),
  toBuffer: (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});

// Decodes an Avro object container file with avsc: {schema (the header's JSON, as
// written: field ids kept), codec, meta (non-avro.* keys as text), records}.
export function decodeAvro(path) {
  return new Promise((resolveP, reject) => {
    const records = [];
    let header = null;
    avro.createFileDecoder(path, { parseHook: (schema) => avro.Type.forSchema(schema, { registry: { long: BigLong } }) })
      .on('metadata', (_type, codec, h) => { header = { codec, meta: h.meta }; })
      .on('data', (r) => records.push(r))
      .on('error', reject)
      .on('end', () => {
        const meta = {};
        for (const [k, v] of Object.entries(header.meta)) if (!k.startsWith('avro.')) meta[k] = v.toString('utf8');
        resolveP({ schema: JSON.parse(header.meta['avro.schema'].toString('utf8')), codec: header.codec, meta, records });
      });
  });
}

// Writes to `out` an Avro object container file with `src`'s header (schema with its field
// ids, metadata, codec null or deflate, sync marker: byte for byte) holding `records` (as
// decodeAvro returns them) in one block. For tests that tamper with a table on purpose.
export function rewriteAvroRecords(src, records, out, schema) {
  const buf = readFileSync(src);
  let at = 4;  // "Obj\x01"
  const varint = () => {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[at++];
      n |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return Number((n >> 1n) ^ -(n & 1n));
  };
  let codec = 'null';
  for (let count = varint(); count !== 0; count = varint()) {
    if (count < 0) { count = -count; varint(); }
    for (let i = 0; i < count; i++) {
      const klen = varint();
      const k = buf.subarray(at, at + klen).toString('utf8');
      at += klen;
      const vlen = varint();
      if (k === 'avro.codec') codec = buf.subarray(at, at + vlen).toString('utf8');
      at += vlen;
    }
  }
  const header = buf.subarray(0, at + 16);
  const sync = buf.subarray(at, at + 16);
  const type = avro.Type.forSchema(schema, { registry: { long: BigLong } });
  let body = Buffer.concat(records.map((r) => type.toBuffer(r)));
  if (codec === 'deflate') body = deflateRawSync(body);
  const zigzag = (n) => {
    let z = (BigInt(n) << 1n) ^ (BigInt(n) >> 63n);
    const bytes = [];
    do { bytes.push(Number((z & 0x7fn) | (z > 0x7fn ? 0x80n : 0n))); z >>= 7n; } while (z > 0n);
    return Buffer.from(bytes);
  };
  writeFileSync(out, Buffer.concat([header, zigzag(records.length), zigzag(body.length), body, sync]));
}

// Decodes files with Debian's python3-avro: {path: {schema (text), codec, metadata,
// records}} with numbers as decimal strings and bytes as "hex:..".
export function decodeAvroWithPython(paths) {
  return new Promise((resolveP, reject) => {
    execFile(PYTHON, [AVRO_DECODE_PY, ...paths], { timeout: PYTHON_TIMEOUT_MS, maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${PYTHON} avro_decode.py: ${err.message}\n${stderr}`));
      else resolveP(JSON.parse(stdout));
    });
  });
}

// avsc's records in python's canonical form (avro_decode.py): numbers as strings, bytes
// as hex.
export function canonical(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `hex:${v.toString('hex')}`;
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]));
  throw new Error(`unexpected value ${v}`);
}

// The spec's tables, v2 ("Manifest Entry Fields", "Data File Fields", "Manifest Lists",
// field_summary): [name, field id, required, then for maps [key id, value id], for lists
// the element id], in the order lakehose writes them.
export const MANIFEST_ENTRY_FIELDS = [
  ['status', 0, true], ['snapshot_id', 1, false], ['sequence_number', 3, false],
  ['file_sequence_number', 4, false], ['data_file', 2, true],
];
export const DATA_FILE_FIELDS = [
  ['content', 134, true], ['file_path', 100, true], ['file_format', 101, true],
  ['partition', 102, true], ['record_count', 103, true], ['file_size_in_bytes', 104, true],
  ['column_sizes', 108, false, [117, 118]], ['value_counts', 109, false, [119, 120]],
  ['null_value_counts', 110, false, [121, 122]], ['nan_value_counts', 137, false, [138, 139]],
  ['lower_bounds', 125, false, [126, 127]], ['upper_bounds', 128, false, [129, 130]],
  ['key_metadata', 131, false], ['split_offsets', 132, false, 133],
  ['equality_ids', 135, false, 136], ['sort_order_id', 140, false],
  ['referenced_data_file', 143, false],
];
export const MANIFEST_FILE_FIELDS = [
  ['manifest_path', 500, true], ['manifest_length', 501, true], ['partition_spec_id', 502, true],
  ['content', 517, true], ['sequence_number', 515, true], ['min_sequence_number', 516, true],
  ['added_snapshot_id', 503, true], ['added_files_count', 504, true],
  ['existing_files_count', 505, true], ['deleted_files_count', 506, true],
  ['added_rows_count', 512, true], ['existing_rows_count', 513, true],
  ['deleted_rows_count', 514, true], ['partitions', 507, false, 508], ['key_metadata', 519, false],
];
export const FIELD_SUMMARY_FIELDS = [
  ['contains_null', 509, true], ['contains_nan', 518, false], ['lower_bound', 510, false],
  ['upper_bound', 511, false],
];

// Checks an Avro record schema's fields against a spec table: names and order, ids,
// required fields plain, optional ones ["null", T] with default null, maps as arrays of
// key/value records (logicalType map, key and value required, their ids), lists' element
// ids. Returns the fields by name.
export function checkSpecFields(record, table, where) {
  assert.equal(record.type, 'record', where);
  const byName = new Map(record.fields.map((f) => [f.name, f]));
  assert.deepEqual(record.fields.map((f) => f.name), table.map((t) => t[0]), `${where}: field names and order`);
  for (const [name, id, required, nested] of table) {
    const f = byName.get(name);
    const at = `${where}.${name}`;
    assert.equal(f['field-id'], id, `${at}: field-id`);
    let type = f.type;
    if (required) {
      assert.ok(!Array.isArray(type), `${at}: required, so not a union`);
    } else {
      assert.ok(Array.isArray(type) && type.length === 2 && type[0] === 'null', `${at}: ["null", T]`);
      assert.ok('default' in f && f.default === null, `${at}: default null`);
      type = type[1];
    }
    if (Array.isArray(nested)) {
      assert.equal(type.type, 'array', `${at}: a map is an array`);
      assert.equal(type.logicalType, 'map', `${at}: logicalType map`);
      const kv = type.items;
      assert.equal(kv.type, 'record', `${at}: items are key/value records`);
      assert.deepEqual(kv.fields.map((x) => [x.name, x['field-id']]), [['key', nested[0]], ['value', nested[1]]], `${at}: key/value ids`);
      assert.ok(kv.fields.every((x) => !Array.isArray(x.type)), `${at}: key and value are required`);
    } else if (typeof nested === 'number') {
      assert.equal(type.type, 'array', `${at}: a list`);
      assert.equal(type['element-id'], nested, `${at}: element-id`);
    }
  }
  return byName;
}

// The Avro type Appendix A gives a partition field of Iceberg result type `iceberg`
// (`named`: the named types seen so far in the schema, for references by name).
export function checkPartitionAvroType(type, iceberg, named, where) {
  if (typeof type === 'string' && named.has(type)) type = named.get(type);
  const is = (t, extra = {}) => {
    assert.equal(typeof type === 'string' ? type : type.type, t, `${where}: Avro type`);
    for (const [k, v] of Object.entries(extra)) assert.equal(type[k], v, `${where}: ${k}`);
  };
  const m = /^decimal\((\d+),(\d+)\)$/.exec(iceberg);
  const fixed = /^fixed\[(\d+)\]$/.exec(iceberg);
  if (m) {
    const p = Number(m[1]);
    let size = 1;
    while (2n ** BigInt(8 * size - 1) <= 10n ** BigInt(p) - 1n) size++;
    is('fixed', { logicalType: 'decimal', precision: p, scale: Number(m[2]), size });
  } else if (fixed) is('fixed', { size: Number(fixed[1]) });
  else if (iceberg === 'date') is('int', { logicalType: 'date' });
  else if (iceberg === 'timestamptz') is('long', { logicalType: 'timestamp-micros', 'adjust-to-utc': true });
  else if (iceberg === 'timestamp') is('long', { logicalType: 'timestamp-micros', 'adjust-to-utc': false });
  else if (iceberg === 'uuid') is('fixed', { logicalType: 'uuid', size: 16 });
  else if (iceberg === 'binary') is('bytes');
  else is(iceberg);
  if (typeof type === 'object' && type.name) named.set(type.name, type);
}

// ---- Iceberg types, transforms and single values -----------------------------------------

// The result type of a partition transform on a source column of type `source`.
export function transformResultType(transform, source) {
  if (transform === 'identity' || transform.startsWith('truncate')) return source;
  if (transform === 'hour' || transform === 'month' || transform === 'year' || transform.startsWith('bucket')) return 'int';
  if (transform === 'day') return 'date';  // an int of days on the wire
  if (transform === 'void') return source;
  throw new Error(`transform ${transform}`);
}

// A transform applied to a source value as the suites hold it: strings, BigInt longs,
// timestamps as BigInt microseconds. Returns the partition value (Number for int/date
// results, the source value for identity), or undefined for transforms not modelled here
// (bucket: Murmur3, left to the unit tests).
export function applyTransform(transform, value) {
  if (value === null || value === undefined) return null;
  if (transform === 'identity') return value;
  const us = BigInt(value);
  const floorDiv = (a, b) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
  if (transform === 'hour') return Number(floorDiv(us, 3_600_000_000n));
  if (transform === 'day') return Number(floorDiv(us, 86_400_000_000n));
  const d = new Date(Number(floorDiv(us, 1000n)));
  if (transform === 'month') return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
  if (transform === 'year') return d.getUTCFullYear() - 1970;
  const t = /^truncate\[(\d+)\]$/.exec(transform);
  if (t && typeof value === 'string') return [...value].slice(0, Number(t[1])).join('');
  return undefined;
}

// Appendix D: the single-value binary serialization of a bound, decoded for the types the
// suites check. Returns BigInt for int/long/date/time/timestamps, Number for floats,
// string, boolean, or {unscaled: BigInt} for decimals; undefined for other types.
export function decodeSingleValue(type, buf) {
  if (type === 'int' || type === 'date') { assert.equal(buf.length, 4, `${type} bound of 4 bytes`); return BigInt(buf.readInt32LE(0)); }
  if (['long', 'time', 'timestamp', 'timestamptz'].includes(type)) { assert.equal(buf.length, 8, `${type} bound of 8 bytes`); return buf.readBigInt64LE(0); }
  if (type === 'float') return buf.readFloatLE(0);
  if (type === 'double') return buf.readDoubleLE(0);
  if (type === 'boolean') return buf[0] !== 0;
  if (type === 'string') return buf.toString('utf8');
  if (/^decimal\(/.test(type)) {
    if (buf.length === 0) return { unscaled: 0n };
    return { unscaled: BigInt.asIntN(8 * buf.length, BigInt(`0x${buf.toString('hex')}`)) };
  }
  return undefined;
}

// The unscaled integer of a decimal text at `scale` (exact; the text must not have more
// fraction digits than scale holds).
export function unscaledDecimal(text, scale) {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(String(text).trim());
  assert.ok(m, `not a decimal: ${text}`);
  let digits = `${m[2]}${m[3] ?? ''}`;
  let exp = Number(m[4] ?? 0) - (m[3] ?? '').length + scale;
  if (exp >= 0) digits += '0'.repeat(exp);
  else {
    const cut = digits.slice(digits.length + exp);
    assert.ok(/^0*$/.test(cut), `${text} has more than ${scale} fraction digits`);
    digits = digits.slice(0, digits.length + exp);
  }
  const n = BigInt(digits || '0');
  return m[1] === '-' ? -n : n;
}

// ---- the invariants ----------------------------------------------------------------------

// Whether a column of type `from` may become `to` (the spec's type promotions).
function promotes(from, to) {
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = /^decimal\((\d+),\s*(\d+)\)$/.exec(String(from));
  const b = /^decimal\((\d+),\s*(\d+)\)$/.exec(String(to));
  return Boolean(a && b && a[2] === b[2] && Number(b[1]) >= Number(a[1]));
}

// The table's current metadata checked against the spec and lakehose's promises, every
// snapshot walked, every manifest list and manifest decoded with avsc (and python3-avro:
// the same header and records), every live data file checked against its bytes with
// DuckDB (`conn`: a @duckdb/node-api connection): row count, size, field ids; with `deep`
// (default) also every column's value and null counts and bounds against the rows and
// the partition values against every row's transformed source value. Delete manifests
// (content 1, a current-state table's) list position delete files: each one's Parquet
// columns, field ids and row count, its entry's sequence numbers as a data file's; the
// rows they delete are positionDeletes' to check. A `replace` snapshot (a compaction:
// files added and removed, the rows unchanged) may drop files of its parent; its summary's
// deleted-data-files, deleted-records, removed-delete-files and removed-position-deletes
// are its manifests' DELETED entries. With `expired` (snapshots expired from the metadata),
// a parent or a manifest's adding snapshot may be missing from the metadata. Returns
//   {meta (loadMetadata's), snapshots: Map(id -> {snapshot, live: [file], deletes:
//    [delete file]}), files: Map(local path -> {rows, ids, icebergSchema, columns,
//    partition, spec, dataSeq, ...}), deleteFiles: Map(local path -> {path, rows, dataSeq,
//    specId, partition, referenced, entry}), avroFiles, notes}.
export async function checkTable(tableDir, conn, { python = true, deep = true, rest = false, expired = false } = {}) {
  const meta = loadMetadata(tableDir, { rest });
  const m = meta.current;
  const notes = [];
  const metric = (ok, message) => assert.ok(ok, message);
  assert.equal(m['format-version'], 2, 'format-version');
  assert.equal(localPath(m.location), resolve(tableDir), 'location is the table directory');
  const schemas = new Map(m.schemas.map((s) => [s['schema-id'], s]));
  assert.ok(schemas.has(m['current-schema-id']), 'current-schema-id names a schema');
  const specs = new Map(m['partition-specs'].map((s) => [s['spec-id'], s]));
  assert.ok(specs.has(m['default-spec-id']), 'default-spec-id names a spec');
  let maxId = 0;
  const walkIds = (t) => {
    if (typeof t !== 'object') return;
    if (t.type === 'struct') for (const f of t.fields) { maxId = Math.max(maxId, f.id); walkIds(f.type); }
    if (t.type === 'list') { maxId = Math.max(maxId, t['element-id']); walkIds(t.element); }
    if (t.type === 'map') { maxId = Math.max(maxId, t['key-id'], t['value-id']); walkIds(t.key); walkIds(t.value); }
  };
  for (const s of m.schemas) walkIds({ type: 'struct', fields: s.fields });
  assert.ok(m['last-column-id'] >= maxId, `last-column-id ${m['last-column-id']} < the largest field id ${maxId}`);
  // A field id means one column in every schema: the same type (a rename, which Iceberg
  // allows, changes only its name); within a schema, ids and names are unique.
  const typeOfId = new Map();
  for (const s of m.schemas) {
    assert.equal(new Set(s.fields.map((f) => f.id)).size, s.fields.length, `schema ${s['schema-id']}: a field id twice`);
    assert.equal(new Set(s.fields.map((f) => f.name)).size, s.fields.length, `schema ${s['schema-id']}: a column name twice`);
    for (const f of s.fields) {
      const type = JSON.stringify(f.type);
      if (typeOfId.has(f.id)) assert.ok(typeOfId.get(f.id) === type || promotes(JSON.parse(typeOfId.get(f.id)), f.type), `field id ${f.id} (${f.name}): ${typeOfId.get(f.id)} became ${type}`);
      typeOfId.set(f.id, type);
    }
  }

  const snapshots = new Map();
  const byId = new Map(m.snapshots.map((s) => [BigInt(s['snapshot-id']), s]));
  assert.equal(byId.size, m.snapshots.length, 'snapshot ids are unique');
  const current = m['current-snapshot-id'];
  if (m.snapshots.length > 0) {
    assert.ok(byId.has(BigInt(current)), 'current-snapshot-id names a snapshot');
    assert.equal(String(m.refs?.main?.['snapshot-id']), String(current), 'refs.main is the current snapshot');
    assert.equal(m.refs.main.type, 'branch', 'refs.main is a branch');
  }
  let lastSeq = 0;
  for (const s of m.snapshots) {
    assert.ok(s['sequence-number'] > lastSeq, `snapshot sequence numbers increase (${s['sequence-number']} after ${lastSeq})`);
    lastSeq = s['sequence-number'];
    if (s['parent-snapshot-id'] !== undefined) {
      const parent = byId.get(BigInt(s['parent-snapshot-id']));
      assert.ok(parent || expired, `snapshot ${s['snapshot-id']}'s parent is in the metadata`);
      if (parent) assert.ok(parent['sequence-number'] < s['sequence-number'], 'a parent is older');
    }
  }
  assert.equal(m['last-sequence-number'], lastSeq, 'last-sequence-number is the newest snapshot\'s');
  assert.deepEqual((m['snapshot-log'] ?? []).map((e) => String(e['snapshot-id'])).slice(-1),
    m.snapshots.length ? [String(current)] : [], 'the snapshot log ends at the current snapshot');

  const files = new Map();        // local path -> what the data file holds
  const avroFiles = new Map();    // local path -> avsc decode
  const manifestSeq = new Map();  // manifest path -> the sequence number it was first listed with
  const manifestsDone = new Map();  // manifest path -> {record (its manifest_file), live files, live delete files}
  const deleteFiles = new Map();  // local path -> what a position delete file holds
  let anyDeletes = false;
  // Every Avro file decoded and every data file's facts read up front, in batches.
  const decoded = async (path) => {
    if (!avroFiles.has(path)) avroFiles.set(path, await decodeAvro(path));
    return avroFiles.get(path);
  };
  const dataPaths = new Set();
  for (const s of m.snapshots) {
    const listPath = localPath(s['manifest-list']);
    assert.ok(existsSync(listPath), `snapshot ${s['snapshot-id']}: manifest list ${listPath} exists`);
    for (const mfile of (await decoded(listPath)).records) {
      const mpath = localPath(mfile.manifest_path);
      assert.ok(existsSync(mpath), `snapshot ${s['snapshot-id']}: manifest ${mpath} exists`);
      for (const e of (await decoded(mpath)).records) {
        const p = localPath(e.data_file.file_path);
        if (e.status === 2 || dataPaths.has(p)) continue;
        // Sizes first: a reader trusts file_size_in_bytes (icebird does) to find the footer.
        assert.ok(existsSync(p), `snapshot ${s['snapshot-id']}: data file ${p} exists`);
        assert.equal(BigInt(e.data_file.file_size_in_bytes), BigInt(statSync(p).size), `${p}: file_size_in_bytes is the file's size`);
        dataPaths.add(p);
      }
    }
  }
  const facts = await fileFacts(conn, [...dataPaths]);
  for (const s of m.snapshots) {
    const sid = BigInt(s['snapshot-id']);
    const where = `snapshot ${sid} (seq ${s['sequence-number']})`;
    const list = await decoded(localPath(s['manifest-list']));
    const mf = checkSpecFields(list.schema, MANIFEST_FILE_FIELDS, `${where} manifest_file`);
    checkSpecFields(mf.get('partitions').type[1].items, FIELD_SUMMARY_FIELDS, `${where} field_summary`);
    // Java's writers put these in the list's metadata; when present they must agree.
    if ('snapshot-id' in list.meta) assert.equal(list.meta['snapshot-id'], String(sid), `${where}: list metadata snapshot-id`);
    if ('parent-snapshot-id' in list.meta) {
      assert.equal(list.meta['parent-snapshot-id'], s['parent-snapshot-id'] === undefined ? 'null' : String(s['parent-snapshot-id']), `${where}: list metadata parent-snapshot-id`);
    }
    if ('sequence-number' in list.meta) assert.equal(list.meta['sequence-number'], String(s['sequence-number']), `${where}: list metadata sequence-number`);
    if ('format-version' in list.meta) assert.equal(list.meta['format-version'], '2', `${where}: list metadata format-version`);

    const live = [];
    const livePaths = new Set();
    const liveDeletes = [];
    let addedFiles = 0;
    let addedRecords = 0;
    let addedDeleteFiles = 0;
    let addedPositionDeletes = 0;
    // DELETED entries of the manifests this snapshot wrote: data files and rows, delete
    // files and position deletes.
    const removed = { files: 0, records: 0, deleteFiles: 0, positionDeletes: 0 };
    for (const mfile of list.records) {
      const mpath = localPath(mfile.manifest_path);
      const mwhere = `${where} manifest ${mpath.split(sep).at(-1)}`;
      assert.ok(existsSync(mpath), `${mwhere}: exists`);
      assert.equal(BigInt(mfile.manifest_length), BigInt(statSync(mpath).size), `${mwhere}: manifest_length is the file's size`);
      assert.ok(mfile.content === 0 || mfile.content === 1, `${mwhere}: content ${mfile.content}: data (0) or deletes (1); equality deletes are not lakehose's`);
      const isDeletes = mfile.content === 1;
      anyDeletes ||= isDeletes;
      const seq = BigInt(mfile.sequence_number);
      assert.ok(seq <= BigInt(s['sequence-number']), `${mwhere}: sequence_number ${seq} <= the snapshot's`);
      assert.ok(BigInt(mfile.min_sequence_number) <= seq, `${mwhere}: min_sequence_number <= sequence_number`);
      const adder = byId.get(BigInt(mfile.added_snapshot_id));
      assert.ok(adder || expired, `${mwhere}: added_snapshot_id ${mfile.added_snapshot_id} is a snapshot of the table`);
      if (adder) assert.equal(seq, BigInt(adder['sequence-number']), `${mwhere}: its sequence number is the adding snapshot's`);
      if (manifestSeq.has(mpath)) assert.equal(manifestSeq.get(mpath), seq, `${mwhere}: listed with one sequence number`);
      manifestSeq.set(mpath, seq);
      assert.ok(specs.has(mfile.partition_spec_id), `${mwhere}: partition_spec_id names a spec`);
      const spec = specs.get(mfile.partition_spec_id);
      const done = manifestsDone.get(mpath);
      if (done) {
        // Listed again by a later snapshot (fast appends keep their parent's manifests):
        // checked once, but its live files are live here too.
        assert.deepEqual(canonical(mfile), done.record, `${mwhere}: listed again with other counts`);
        for (const f of done.live) {
          assert.ok(!livePaths.has(f.path), `${where}: data file ${f.path} is live twice`);
          livePaths.add(f.path);
          live.push(f);
        }
        for (const f of done.deletes) {
          assert.ok(!livePaths.has(f.path), `${where}: delete file ${f.path} is live twice`);
          livePaths.add(f.path);
          liveDeletes.push(f);
        }
        continue;
      }
      const mine = [];
      const mineDeletes = [];

      const man = await decoded(mpath);
      const entry = checkSpecFields(man.schema, MANIFEST_ENTRY_FIELDS, `${mwhere} manifest_entry`);
      const df = checkSpecFields(entry.get('data_file').type, DATA_FILE_FIELDS, `${mwhere} data_file`);
      assert.equal(man.meta['format-version'], '2', `${mwhere}: metadata format-version`);
      assert.equal(man.meta.content, isDeletes ? 'deletes' : 'data', `${mwhere}: metadata content`);
      assert.equal(man.meta['partition-spec-id'], String(mfile.partition_spec_id), `${mwhere}: metadata partition-spec-id`);
      assert.deepEqual(JSON.parse(man.meta['partition-spec']), spec.fields, `${mwhere}: metadata partition-spec is the spec's fields`);
      const manSchema = JSON.parse(man.meta.schema);
      assert.ok(schemas.has(Number(man.meta['schema-id'])), `${mwhere}: metadata schema-id names a schema`);
      assert.equal(manSchema['schema-id'] ?? Number(man.meta['schema-id']), Number(man.meta['schema-id']), `${mwhere}: schema and schema-id agree`);
      assert.deepEqual(manSchema.fields, schemas.get(Number(man.meta['schema-id'])).fields, `${mwhere}: metadata schema is the table's schema of that id`);
      const manFields = manSchema.fields;
      // The partition struct: the spec's fields, ids and Appendix A types.
      const partType = df.get('partition').type;
      assert.equal(partType.type, 'record', `${mwhere}: partition is a record`);
      assert.deepEqual(partType.fields.map((f) => [f.name, f['field-id']]), spec.fields.map((f) => [f.name, f['field-id']]), `${mwhere}: partition fields and ids`);
      const named = new Map();
      const resultTypes = spec.fields.map((pf, i) => {
        const src = manFields.find((f) => f.id === pf['source-id']);
        assert.ok(src, `${mwhere}: partition source ${pf['source-id']} is in the schema`);
        const rt = transformResultType(pf.transform, src.type);
        const avroT = partType.fields[i].type;
        checkPartitionAvroType(Array.isArray(avroT) ? avroT[1] : avroT, rt, named, `${mwhere}: partition ${pf.name}`);
        return rt;
      });

      const counts = { 0: 0, 1: 0, 2: 0 };
      const rows = { 0: 0n, 1: 0n, 2: 0n };
      const values = spec.fields.map(() => []);
      for (const e of man.records) {
        const d = e.data_file;
        const path = localPath(d.file_path);
        counts[e.status]++;
        rows[e.status] += BigInt(d.record_count);
        assert.ok([0, 1, 2].includes(e.status), `${mwhere}: status ${e.status}`);
        if (e.status === 1) {
          // Added in the manifest's snapshot: ids and sequence numbers inherited or equal.
          if (e.snapshot_id !== null) assert.equal(BigInt(e.snapshot_id), BigInt(mfile.added_snapshot_id), `${mwhere}: ${path}: snapshot_id`);
          if (e.sequence_number !== null) assert.equal(BigInt(e.sequence_number), seq, `${mwhere}: ${path}: sequence_number`);
          if (e.file_sequence_number !== null) assert.equal(BigInt(e.file_sequence_number), seq, `${mwhere}: ${path}: file_sequence_number`);
        } else {
          assert.notEqual(e.snapshot_id, null, `${mwhere}: an existing or deleted entry has its snapshot_id`);
          assert.notEqual(e.sequence_number, null, `${mwhere}: an existing or deleted entry has its sequence_number`);
        }
        // The field summaries cover every entry the manifest lists, DELETED ones too (as
        // Java's ManifestWriter counts them).
        spec.fields.forEach((pf, i) => values[i].push(d.partition[pf.name]));
        if (e.status === 2) continue;
        const dataSeq = e.sequence_number === null ? seq : BigInt(e.sequence_number);
        assert.ok(!livePaths.has(path), `${where}: ${isDeletes ? 'delete' : 'data'} file ${path} is live twice`);
        livePaths.add(path);
        assert.equal(d.content, isDeletes ? 1 : 0, `${path}: content ${isDeletes ? 'position deletes, in a delete manifest' : 'data, in a data manifest'}`);
        assert.equal(d.file_format.toUpperCase(), 'PARQUET', `${path}: file_format`);
        if (isDeletes) {
          const known = deleteFiles.get(path);
          if (known) {
            assert.equal(known.dataSeq, dataSeq, `${path}: its data sequence number changed between snapshots`);
            assert.deepEqual(canonical(known.entry.data_file), canonical(d), `${path}: its entry changed between snapshots`);
          } else {
            deleteFiles.set(path, checkDeleteFile(path, d, facts.get(path), `${mwhere}: ${path}`));
            Object.assign(deleteFiles.get(path), { dataSeq, entry: e, specId: mfile.partition_spec_id, spec, addedBy: BigInt(mfile.added_snapshot_id) });
          }
          liveDeletes.push(deleteFiles.get(path));
          mineDeletes.push(deleteFiles.get(path));
          continue;
        }
        const known = files.get(path);
        if (known) {
          // The same entry seen from a later snapshot: nothing about it changed.
          assert.equal(known.dataSeq, dataSeq, `${path}: its data sequence number changed between snapshots`);
          assert.deepEqual(canonical(known.entry.data_file), canonical(d), `${path}: its entry changed between snapshots`);
        } else {
          files.set(path, await checkDataFile(conn, path, d, { spec, resultTypes, schemaFields: manFields, where: `${mwhere}: ${path}`, metric, facts: facts.get(path), deep }));
          Object.assign(files.get(path), { dataSeq, entry: e, addedBy: BigInt(mfile.added_snapshot_id), spec });
        }
        live.push(files.get(path));
        mine.push(files.get(path));
      }
      manifestsDone.set(mpath, { record: canonical(mfile), live: mine, deletes: mineDeletes });
      assert.equal(counts[1], Number(mfile.added_files_count), `${mwhere}: added_files_count`);
      assert.equal(counts[0], Number(mfile.existing_files_count), `${mwhere}: existing_files_count`);
      assert.equal(counts[2], Number(mfile.deleted_files_count), `${mwhere}: deleted_files_count`);
      assert.equal(rows[1], BigInt(mfile.added_rows_count), `${mwhere}: added_rows_count`);
      assert.equal(rows[0], BigInt(mfile.existing_rows_count), `${mwhere}: existing_rows_count`);
      assert.equal(rows[2], BigInt(mfile.deleted_rows_count), `${mwhere}: deleted_rows_count`);
      if (BigInt(mfile.added_snapshot_id) === sid && isDeletes) { addedDeleteFiles += counts[1]; addedPositionDeletes += Number(rows[1]); }
      if (BigInt(mfile.added_snapshot_id) === sid && !isDeletes) { addedFiles += counts[1]; addedRecords += Number(rows[1]); }
      if (BigInt(mfile.added_snapshot_id) === sid && isDeletes) { removed.deleteFiles += counts[2]; removed.positionDeletes += Number(rows[2]); }
      if (BigInt(mfile.added_snapshot_id) === sid && !isDeletes) { removed.files += counts[2]; removed.records += Number(rows[2]); }
      // The field summaries bound the entries' partition values.
      if (mfile.partitions !== null) {
        assert.equal(mfile.partitions.length, spec.fields.length, `${mwhere}: one field summary per partition field`);
        mfile.partitions.forEach((fs, i) => {
          const vals = values[i];
          assert.equal(fs.contains_null, vals.some((v) => v === null), `${mwhere}: partitions[${i}].contains_null`);
          const present = vals.filter((v) => v !== null);
          if (present.length === 0 || fs.lower_bound === null) return;
          const lo = decodeSingleValue(resultTypes[i], fs.lower_bound);
          const hi = decodeSingleValue(resultTypes[i], fs.upper_bound);
          if (lo === undefined) return;
          const norm = (v) => (typeof v === 'number' ? BigInt(v) : v);
          const sorted = present.map(norm).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          assert.equal(lo, sorted[0], `${mwhere}: partitions[${i}].lower_bound is the smallest value`);
          assert.equal(hi, sorted.at(-1), `${mwhere}: partitions[${i}].upper_bound is the largest value`);
        });
      }
    }
    // The summary agrees with the manifests.
    const sum = s.summary;
    // The spec's operations: append adds data files only; a commit that adds deletes is an
    // overwrite (or delete: deletes alone), or a replace (a compaction: it rewrites files
    // without changing the rows). A table that never had deletes only appends.
    if (sum.operation === 'replace') assert.ok(removed.files + removed.deleteFiles > 0, `${where}: a replace that removes no file`);
    else if (addedDeleteFiles > 0) assert.ok(['overwrite', 'delete'].includes(sum.operation), `${where}: operation ${sum.operation} adds delete files`);
    else if (anyDeletes) assert.ok(['append', 'overwrite'].includes(sum.operation), `${where}: operation ${sum.operation}`);
    else assert.equal(sum.operation, 'append', `${where}: operation`);
    if ('added-delete-files' in sum) assert.equal(Number(sum['added-delete-files']), addedDeleteFiles, `${where}: summary added-delete-files`);
    if ('added-position-deletes' in sum) assert.equal(Number(sum['added-position-deletes']), addedPositionDeletes, `${where}: summary added-position-deletes`);
    if ('total-delete-files' in sum) assert.equal(Number(sum['total-delete-files']), liveDeletes.length, `${where}: summary total-delete-files`);
    if ('total-position-deletes' in sum) assert.equal(Number(sum['total-position-deletes']), liveDeletes.reduce((a, f) => a + f.rows, 0), `${where}: summary total-position-deletes`);
    if ('total-equality-deletes' in sum) assert.equal(Number(sum['total-equality-deletes']), 0, `${where}: summary total-equality-deletes`);
    for (const [key, n] of [['deleted-data-files', removed.files], ['deleted-records', removed.records], ['removed-delete-files', removed.deleteFiles], ['removed-position-deletes', removed.positionDeletes]]) {
      if (key in sum) assert.equal(Number(sum[key]), n, `${where}: summary ${key} (the DELETED entries of its manifests)`);
      else assert.equal(n, 0, `${where}: DELETED entries, and no ${key} in the summary`);
    }
    assert.equal(Number(sum['added-data-files']), addedFiles, `${where}: summary added-data-files`);
    assert.equal(Number(sum['added-records']), addedRecords, `${where}: summary added-records`);
    if ('total-data-files' in sum) assert.equal(Number(sum['total-data-files']), live.length, `${where}: summary total-data-files`);
    if ('total-records' in sum) assert.equal(Number(sum['total-records']), live.reduce((a, f) => a + f.rows, 0), `${where}: summary total-records`);
    assert.ok(sum['lakehose.writer-id'], `${where}: summary lakehose.writer-id`);
    // A fast append (and a row delta, which only adds) keeps every file of its parent.
    if (s['parent-snapshot-id'] !== undefined && sum.operation !== 'replace') {
      const parent = snapshots.get(BigInt(s['parent-snapshot-id']));
      if (parent) for (const f of [...parent.live, ...parent.deletes]) assert.ok(livePaths.has(f.path), `${where}: drops ${f.path} of its parent`);
    }
    snapshots.set(sid, { snapshot: s, live, deletes: liveDeletes });
  }

  if (python && avroFiles.size > 0) {
    const paths = [...avroFiles.keys()];
    const py = await decodeAvroWithPython(paths);
    for (const p of paths) {
      const got = py[p];
      const mine = avroFiles.get(p);
      assert.ok(got, `python3-avro decoded ${p}`);
      assert.deepEqual(JSON.parse(got.schema), mine.schema, `${p}: python3-avro sees the header schema avsc sees`);
      assert.deepEqual(got.metadata, mine.meta, `${p}: python3-avro's key-value metadata`);
      assert.equal(got.codec, mine.codec, `${p}: codec`);
      assert.deepEqual(got.records, canonical(mine.records), `${p}: python3-avro's records equal avsc's`);
    }
    notes.push(`python3-avro decoded ${paths.length} Avro files like avsc`);
  }
  return { meta, snapshots, files, deleteFiles, avroFiles, notes };
}

// One position delete file against its manifest entry (the spec's "Position Delete
// Files"): exactly the columns file_path (string) and pos (long), required, with their
// reserved field ids, and as many rows as record_count says. Returns {path, rows,
// referenced (referenced_data_file or null), partition}.
function checkDeleteFile(path, d, facts, where) {
  const { rows, nodes } = facts;
  assert.equal(BigInt(d.record_count), BigInt(rows), `${where}: record_count is the file's row count`);
  assert.deepEqual(nodes.map((c) => [c.name, Number(c.field_id), c.repetition_type]),
    [['file_path', 2147483546, 'REQUIRED'], ['pos', 2147483545, 'REQUIRED']], `${where}: the columns of a position delete file`);
  assert.deepEqual(nodes.map((c) => c.type), ['BYTE_ARRAY', 'INT64'], `${where}: file_path a string, pos a long`);
  assert.equal(d.equality_ids, null, `${where}: no equality_ids on a position delete file`);
  return { path, rows, referenced: d.referenced_data_file ?? null, partition: d.partition };
}

// The position deletes of snapshot `snapshotId` (default: the current one) of `checked`
// (checkTable's result), read with DuckDB and checked against the spec's rules for
// applying them: each file sorted by file_path then pos, every (file_path, pos) naming a
// row of a data file live in that snapshot whose data sequence number is at most the
// delete file's and whose partition (spec id and values) is the delete file's, and all of
// a file's rows naming its referenced_data_file when it has one. Returns {deleted:
// Map(data file local path -> Set(pos)), rows (delete rows read), twice (rows deleted by
// more than one delete row)}.
export async function positionDeletes(checked, conn, snapshotId = null) {
  const m = checked.meta.current;
  const id = snapshotId ?? (m.snapshots.length ? BigInt(m['current-snapshot-id']) : null);
  const deleted = new Map();
  let rows = 0;
  let twice = 0;
  if (id === null) return { deleted, rows, twice };
  const snap = checked.snapshots.get(BigInt(id));
  assert.ok(snap, `snapshot ${id} is in the table`);
  const liveByUri = new Map(snap.live.map((f) => [f.entry.data_file.file_path, f]));
  for (const del of snap.deletes) {
    const got = (await conn.runAndReadAll(`SELECT file_path, CAST(pos AS VARCHAR) AS pos FROM read_parquet('${del.path.replaceAll("'", "''")}')`)).getRowObjectsJson();
    let prev = null;
    for (const r of got) {
      rows++;
      const pos = BigInt(r.pos);
      const at = `delete file ${del.path}: (${r.file_path}, ${pos})`;
      if (prev) assert.ok(prev.file_path < r.file_path || (prev.file_path === r.file_path && prev.pos < pos), `${at}: sorted by file_path then pos, distinct`);
      prev = { file_path: r.file_path, pos };
      if (del.referenced !== null) assert.equal(r.file_path, del.referenced, `${at}: the file's referenced_data_file`);
      const data = liveByUri.get(r.file_path);
      assert.ok(data, `${at}: names a data file live in snapshot ${id}`);
      assert.ok(data.dataSeq <= del.dataSeq, `${at}: the data file's sequence number ${data.dataSeq} is at most the delete file's ${del.dataSeq}`);
      assert.equal(data.spec['spec-id'], del.spec['spec-id'], `${at}: the data file's partition spec`);
      assert.deepEqual(canonical(data.entry.data_file.partition), canonical(del.partition), `${at}: the data file's partition values`);
      assert.ok(pos >= 0n && pos < BigInt(data.rows), `${at}: a row of the data file (${data.rows} rows)`);
      if (!deleted.has(data.path)) deleted.set(data.path, new Set());
      const set = deleted.get(data.path);
      if (set.has(Number(pos))) twice++;
      set.add(Number(pos));
    }
  }
  return { deleted, rows, twice };
}

// The manifests snapshot `snapshot` (an entry of the metadata's snapshots) lists, decoded
// with avsc: [{record (its manifest_file), path (local), content (0 data, 1 deletes),
// entries: [{status, path (local), uri, rows, raw (the entry as written), snapshotId, seq,
// fileSeq}]}], the three last as a reader takes them: an ADDED entry's null fields
// inherited from the manifest (its added_snapshot_id, sequence_number), others as written
// (the spec has them written). For checks of one snapshot against another (a compaction's
// rewritten manifests against what its parent listed). `cache` (path -> decodeAvro's
// result) spares decoding a manifest again for snapshots that share it.
export async function snapshotManifests(snapshot, cache = new Map()) {
  const decode = async (p) => {
    if (!cache.has(p)) cache.set(p, await decodeAvro(p));
    return cache.get(p);
  };
  const out = [];
  for (const record of (await decode(localPath(snapshot['manifest-list']))).records) {
    const path = localPath(record.manifest_path);
    const inherit = (v, from, status) => (v === null && status === 1 ? BigInt(from) : v === null ? null : BigInt(v));
    const entries = (await decode(path)).records.map((e) => ({
      status: e.status, path: localPath(e.data_file.file_path), uri: e.data_file.file_path, rows: Number(e.data_file.record_count), raw: e,
      snapshotId: inherit(e.snapshot_id, record.added_snapshot_id, e.status),
      seq: inherit(e.sequence_number, record.sequence_number, e.status),
      fileSeq: inherit(e.file_sequence_number, record.sequence_number, e.status),
    }));
    out.push({ record, path, content: record.content, entries });
  }
  return out;
}

// The rows of snapshot `snapshotId` (default: the current one) as DuckDB reads them with
// position deletes applied by hand: every live data file's rows (read_parquet with
// file_row_number) but those positionDeletes names. Resolves {rows: [row objects as
// getRowObjectsJson gives them, without file_row_number], deletes (positionDeletes')}.
export async function liveRowsWithDuckDB(checked, conn, snapshotId = null) {
  const m = checked.meta.current;
  const id = snapshotId ?? (m.snapshots.length ? BigInt(m['current-snapshot-id']) : null);
  const deletes = await positionDeletes(checked, conn, id);
  const rows = [];
  if (id === null) return { rows, deletes };
  for (const f of checked.snapshots.get(BigInt(id)).live) {
    const gone = deletes.deleted.get(f.path) ?? new Set();
    const got = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${f.path.replaceAll("'", "''")}', file_row_number = true)`)).getRowObjectsJson();
    for (const r of got) {
      const pos = Number(r.file_row_number);
      delete r.file_row_number;
      if (!gone.has(pos)) rows.push(r);
    }
  }
  return { rows, deletes };
}

// What DuckDB says of data files, a few queries for all of them (one per file would
// dominate a table of thousands of small files): Map(path -> {rows, nodes (parquet_schema
// rows without the root, in order), kv (key -> value)}).
async function fileFacts(conn, paths) {
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
  const facts = new Map(paths.map((p) => [p, { rows: 0, nodes: [], kv: new Map() }]));
  const CHUNK = 400;
  for (let i = 0; i < paths.length; i += CHUNK) {
    const list = `[${paths.slice(i, i + CHUNK).map((p) => `'${p.replaceAll("'", "''")}'`).join(', ')}]`;
    for (const r of await q(`SELECT file_name, sum(n) AS n FROM (SELECT DISTINCT file_name, row_group_id, row_group_num_rows AS n FROM parquet_metadata(${list})) GROUP BY file_name`)) {
      facts.get(r.file_name).rows = Number(r.n);
    }
    for (const r of await q(`SELECT file_name, name, field_id, repetition_type, num_children, type FROM parquet_schema(${list})`)) {
      facts.get(r.file_name).nodes.push(r);
    }
    for (const r of await q(`SELECT file_name, decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${list})`)) {
      facts.get(r.file_name).kv.set(r.key, r.value);
    }
  }
  for (const f of facts.values()) f.nodes = f.nodes.slice(1);  // the root
  return facts;
}

// One data file: its bytes against its manifest entry, through DuckDB. Returns {path,
// rows, ids (the top-level columns' field ids by name), icebergSchema (its key-value
// metadata), columns (the fields of icebergSchema the file has), partition}.
async function checkDataFile(conn, path, d, { spec, resultTypes, schemaFields, where, metric, facts, deep }) {
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
  const lit = `'${path.replaceAll("'", "''")}'`;
  const { rows, nodes, kv } = facts;
  assert.equal(BigInt(d.record_count), BigInt(rows), `${where}: record_count is the file's row count`);

  // Field ids on every column but the root and the repeated groups of lists and maps
  // (Iceberg's Parquet mapping gives ids to the element, key and value, not to those).
  for (const c of nodes) {
    if (c.repetition_type === 'REPEATED' && Number(c.num_children) > 0) continue;
    assert.ok(c.field_id !== null && c.field_id !== undefined, `${where}: column ${c.name} has no field_id`);
  }
  assert.ok(kv.has('iceberg.schema'), `${where}: no iceberg.schema key-value metadata`);
  const icebergSchema = JSON.parse(kv.get('iceberg.schema'));
  // The top-level columns: DuckDB's DESCRIBE names them; parquet_schema's first-level nodes
  // follow the root in order, each followed by its descendants.
  const top = [];
  for (let i = 0; i < nodes.length;) {
    top.push(nodes[i]);
    let skip = 1;
    const count = (j) => { let k = 1; for (let c = 0; c < Number(nodes[j].num_children ?? 0); c++) k += count(j + k); return k; };
    skip = count(i);
    i += skip;
  }
  const ids = new Map(top.map((c) => [c.name, Number(c.field_id)]));
  // A column iceberg.schema lists may be absent from the file (lakehose leaves out the
  // columns no record of the file has): readers that go by field id read it as null.
  for (const f of icebergSchema.fields) {
    if (ids.has(f.name)) assert.equal(ids.get(f.name), f.id, `${where}: column ${f.name}'s field_id is the iceberg.schema's`);
    const tf = schemaFields.find((x) => x.id === f.id);
    if (tf) assert.equal(tf.name, f.name, `${where}: field id ${f.id} names ${tf.name} in the table`);
  }
  for (const [name, id] of ids) assert.ok(icebergSchema.fields.some((f) => f.id === id && f.name === name), `${where}: column ${name} (id ${id}) is not in iceberg.schema`);
  const columns = icebergSchema.fields.filter((f) => ids.has(f.name));
  const absent = new Set(icebergSchema.fields.filter((f) => !ids.has(f.name)).map((f) => f.id));

  // Per-column metrics of the top-level primitive columns against the rows.
  const prim = columns.filter((f) => typeof f.type === 'string');
  const mapOf = (arr) => new Map((arr ?? []).map((kvp) => [Number(kvp.key), kvp.value]));
  const valueCounts = mapOf(d.value_counts);
  const nullCounts = mapOf(d.null_value_counts);
  const lower = mapOf(d.lower_bounds);
  const upper = mapOf(d.upper_bounds);
  for (const id of absent) {
    if (valueCounts.has(id)) assert.equal(BigInt(valueCounts.get(id)), BigInt(rows), `${where}: value_counts of absent column ${id}`);
    if (nullCounts.has(id)) assert.equal(BigInt(nullCounts.get(id)), BigInt(rows), `${where}: null_value_counts of absent column ${id}`);
    assert.ok(!lower.has(id) && !upper.has(id), `${where}: bounds of absent column ${id}`);
  }
  if (deep && prim.length > 0 && rows > 0) {
    const exprs = prim.flatMap((f, i) => {
      const c = `"${f.name.replaceAll('"', '""')}"`;
      // min/max in the column's own order, then as comparable text.
      return [`count(${c}) AS c${i}`, `CAST(${valueExpr(f.type, `min(${c})`)} AS VARCHAR) AS lo${i}`,
        `CAST(${valueExpr(f.type, `max(${c})`)} AS VARCHAR) AS hi${i}`];
    });
    const [agg] = await q(`SELECT ${exprs.join(', ')} FROM read_parquet(${lit})`);
    const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}` : x));
    prim.forEach((f, i) => {
      const at = `${where}: column ${f.name} (id ${f.id})`;
      const nonNull = Number(agg[`c${i}`]);
      if (valueCounts.has(f.id)) metric(BigInt(valueCounts.get(f.id)) === BigInt(rows), `${at}: value_counts ${valueCounts.get(f.id)}, rows ${rows}`);
      if (nullCounts.has(f.id)) metric(BigInt(nullCounts.get(f.id)) === BigInt(rows - nonNull), `${at}: null_value_counts ${nullCounts.get(f.id)}, nulls ${rows - nonNull}`);
      if (nonNull === 0) {
        metric(!lower.has(f.id) && !upper.has(f.id), `${at}: bounds on a column of nulls`);
        return;
      }
      for (const [bounds, want, isLower] of [[lower, agg[`lo${i}`], true], [upper, agg[`hi${i}`], false]]) {
        if (!bounds.has(f.id)) continue;
        const got = decodeSingleValue(f.type, bounds.get(f.id));
        if (got === undefined) continue;
        const label = `${at}: ${isLower ? 'lower' : 'upper'} bound ${show(got)?.slice(0, 80)}, the real ${isLower ? 'min' : 'max'} ${show(want)?.slice(0, 80)}`;
        if (f.type === 'string') {
          // A string bound may be truncated (a prefix for the lower; for the upper, a
          // prefix with its last character incremented): it must still bound the values.
          metric(isLower ? got <= want : got >= want, label);
        } else if (/^decimal\((\d+),(\d+)\)$/.test(f.type)) {
          metric(got.unscaled === unscaledDecimal(want, Number(/,(\d+)\)$/.exec(f.type)[1])), label);
        } else if (typeof got === 'bigint') {
          metric(got === BigInt(want), label);
        } else if (typeof got === 'boolean') {
          metric(got === (want === 'true'), label);
        } else {
          metric(got === Number(want), label);
        }
      }
    });
  }

  // Partition values: every row's transformed source value is the file's partition value.
  const partition = {};
  if (deep && spec.fields.length > 0 && rows > 0) {
    const cols = spec.fields.map((pf, i) => {
      // A source column absent from the file (or from its iceberg.schema, which lists the
      // file's own columns) is null in every row; it must be a column of the table.
      const src = icebergSchema.fields.find((f) => f.id === pf['source-id']);
      if (!src) {
        assert.ok(schemaFields.some((f) => f.id === pf['source-id']), `${where}: the partition source ${pf['source-id']} is a column of the table`);
        return `NULL AS p${i}`;
      }
      if (absent.has(src.id)) return `NULL AS p${i}`;
      return `${valueExpr(src.type, `"${src.name.replaceAll('"', '""')}"`)} AS p${i}`;
    });
    const distinct = await q(`SELECT DISTINCT ${cols.join(', ')} FROM read_parquet(${lit})`);
    spec.fields.forEach((pf, i) => {
      const want = d.partition[pf.name];
      partition[pf.name] = want;
      const got = new Set(distinct.map((r) => {
        const t = applyTransform(pf.transform, r[`p${i}`] === null ? null : (typeof r[`p${i}`] === 'string' && resultTypes[i] !== 'string' ? BigInt(r[`p${i}`]) : r[`p${i}`]));
        return t === null ? 'null' : String(t);
      }));
      if ([...got].some((g) => g === 'undefined')) return;  // a transform not modelled here
      assert.deepEqual([...got], [want === null ? 'null' : String(want)], `${where}: ${pf.transform}(${pf.name}) of every row is the partition value`);
    });
    // The path reads well: data/<name>=<value>/... one segment per partition field.
    const segs = path.split(sep);
    const at = segs.lastIndexOf('data');
    assert.ok(at >= 0, `${where}: under data/`);
    assert.deepEqual(segs.slice(at + 1, -1).map((s) => s.split('=')[0]), spec.fields.map((pf) => pf.name), `${where}: the path's partition segments`);
  }
  return { path, rows, ids, icebergSchema, columns, partition };
}

// The records of the current snapshot as lake.mjs's verdict() takes them: {counts:
// Map(_eventID -> times seen in live files), where: Map(_eventID -> [file]), lines, files}
// read with DuckDB from the live data files `checked` (checkTable's result) lists.
export async function currentRecords(checked, conn) {
  const counts = new Map();
  const where = new Map();
  let lines = 0;
  const m = checked.meta.current;
  const live = m.snapshots.length ? checked.snapshots.get(BigInt(m['current-snapshot-id'])).live : [];
  for (const f of live) {
    const rows = (await conn.runAndReadAll(`SELECT "_eventID" AS id FROM read_parquet('${f.path.replaceAll("'", "''")}')`)).getRowObjectsJson();
    for (const { id } of rows) {
      lines++;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (!where.has(id)) where.set(id, []);
      where.get(id).push(relative(resolve(f.path, '..', '..', '..'), f.path));
    }
  }
  return { counts, where, lines, files: live.length };
}

// A DuckDB expression for column `c` of Iceberg type `type` whose JSON value the suites
// compare exactly: timestamps as epoch microseconds, decimals and longs as text.
export function valueExpr(type, c) {
  if (type === 'timestamptz' || type === 'timestamp') return `CAST(epoch_us(${c}) AS VARCHAR)`;
  if (type === 'long' || type === 'int' || type.startsWith('decimal')) return `CAST(${c} AS VARCHAR)`;
  if (type === 'date') return `CAST(date_diff('day', DATE '1970-01-01', ${c}) AS VARCHAR)`;
  return c;
}

// ---- values ------------------------------------------------------------------------------

// Whether `got` (a value icebird, hyparquet or DuckDB returned for a column of Iceberg
// type `type`) equals `want` (the value in `lakehose transform`'s document, parsed with
// lossless-json so numbers keep their text). Normalises: timestamps (Date, BigInt or text
// microseconds, against milliseconds), longs (BigInt/Number/text), decimals (rounded at
// the scale: icebird returns doubles), JSON text columns (compared as JSON). Returns null
// when equal, else a reason.
export function valueDiff(type, got, want, { losslessParse, losslessStringify }) {
  const absent = (v) => v === null || v === undefined;
  if (absent(want) || absent(got)) return absent(want) && absent(got) ? null : `got ${show(got)}, want ${show(want)}`;
  const num = (v) => (typeof v === 'object' && v !== null && v.isLosslessNumber ? v.value : v);
  if (typeof type === 'object') {
    if (type.type === 'list') {
      if (!Array.isArray(got) || !Array.isArray(want) || got.length !== want.length) return `list ${show(got)} vs ${show(want)}`;
      for (let i = 0; i < got.length; i++) {
        const r = valueDiff(type.element, got[i], want[i], { losslessParse, losslessStringify });
        if (r) return `[${i}]: ${r}`;
      }
      return null;
    }
    if (type.type === 'struct') {
      for (const f of type.fields) {
        const r = valueDiff(f.type, got[f.name], want[f.name], { losslessParse, losslessStringify });
        if (r) return `.${f.name}: ${r}`;
      }
      return null;
    }
    return null;  // maps: not written by these suites
  }
  const w = num(want);
  if (type === 'string') {
    if (typeof want === 'string') return got === want ? null : `got ${show(got)}, want ${show(want)}`;
    // A non-string value in a string column is its JSON text.
    const a = losslessStringify(losslessParse(String(got)));
    const b = losslessStringify(want);
    return a === b ? null : `JSON text ${a} vs ${b}`;
  }
  if (type === 'long' || type === 'int') {
    return BigInt(typeof got === 'number' ? Math.trunc(got) : got) === BigInt(w) && (typeof got !== 'number' || Number.isSafeInteger(got)) ? null : `got ${show(got)}, want ${w}`;
  }
  const dec = /^decimal\((\d+),(\d+)\)$/.exec(type);
  if (dec) {
    const scale = Number(dec[2]);
    const u = unscaledDecimal(w, scale);
    if (typeof got === 'number') {
      // A double from icebird: equal after rounding at the scale.
      return got.toFixed(scale) === (Number(u) / 10 ** scale).toFixed(scale) ? null : `got ${got}, want ${w} at scale ${scale}`;
    }
    return unscaledDecimal(String(got), scale) === u ? null : `got ${show(got)}, want ${w}`;
  }
  if (type === 'double' || type === 'float') {
    const g = Number(got);
    return (type === 'float' ? Math.fround(Number(w)) === Math.fround(g) : Number(w) === g) ? null : `got ${got}, want ${w}`;
  }
  if (type === 'boolean') return got === want ? null : `got ${show(got)}, want ${show(want)}`;
  if (type === 'timestamptz' || type === 'timestamp') {
    // Transform's documents hold milliseconds since the epoch.
    const us = got instanceof Date ? BigInt(got.getTime()) * 1000n : BigInt(got);
    return us === BigInt(w) * 1000n ? null : `got ${show(got)} (${us} us), want ${w} ms`;
  }
  return null;  // types not written by these suites
}

function show(v) {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return v.toISOString();
  try { return JSON.stringify(v); } catch { return String(v); }
}

// ---- a REST catalog's table --------------------------------------------------------------

// Writes the metadata files a fake REST catalog kept in memory (rest_catalog.mjs
// cat.metadataFiles: location -> JSON text) where their locations say, in the local copy
// of a mirrored bucket (mirrorS3), so that loadMetadata(tableDir, {rest: true}),
// checkTable and icebird read them as a catalog's readers would. Resolves the paths.
export function writeCatalogMetadata(files) {
  const paths = [];
  for (const [uri, text] of files) {
    const p = localPath(uri);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    paths.push(p);
  }
  return paths;
}

// The identities of lakehose.objects (a snapshot summary's; EncodeIdentities in
// service/iceberg/iceberg_table.cc): "a..b,c,x" -> ['a', ..., 'b', 'c', 'x'], ranges of
// decimal sequence numbers expanded (bounded: a range over 10^6 is a failed assertion).
export function decodeIdentities(text) {
  const out = [];
  for (const part of (text ?? '').split(',')) {
    if (part === '') continue;
    const m = /^(\d+)\.\.(\d+)$/.exec(part);
    if (!m) {
      assert.ok(!part.includes('..'), `lakehose.objects: malformed range ${part}`);
      out.push(part);
      continue;
    }
    const [a, b] = [BigInt(m[1]), BigInt(m[2])];
    assert.ok(a < b && b - a < 1_000_000n, `lakehose.objects: range ${part}`);
    for (let n = a; n <= b; n++) out.push(String(n));
  }
  return out;
}

// A table's history as one writer that only appends leaves it, asserted: its snapshots in
// sequence-number order form one chain (each one's parent the one before, the first with
// none), the snapshot log lists them all in that order and main is the last; no
// lakehose.objects identity (per writer and pipeline) is in two snapshots (a commit
// repeated). Returns {chain: [snapshot], identities: Map('writer/pipeline/identity' ->
// snapshot id)}.
export function checkAppendHistory(metadata) {
  const chain = [...metadata.snapshots].sort((a, b) => a['sequence-number'] - b['sequence-number']);
  chain.forEach((s, i) => {
    const parent = s['parent-snapshot-id'];
    if (i === 0) assert.ok(parent === undefined || parent === null, `the first snapshot ${s['snapshot-id']} has no parent (${parent})`);
    else assert.equal(String(parent), String(chain[i - 1]['snapshot-id']), `snapshot ${s['snapshot-id']} (sequence number ${s['sequence-number']}): its parent is the snapshot before`);
  });
  assert.deepEqual((metadata['snapshot-log'] ?? []).map((e) => String(e['snapshot-id'])), chain.map((s) => String(s['snapshot-id'])),
    'the snapshot log lists every snapshot once, in order');
  if (chain.length) assert.equal(String(metadata['current-snapshot-id']), String(chain.at(-1)['snapshot-id']), 'main is the newest snapshot');
  const identities = new Map();
  for (const s of chain) {
    const sum = s.summary ?? {};
    if (sum['lakehose.objects'] === undefined) continue;
    for (const id of decodeIdentities(sum['lakehose.objects'])) {
      const key = `${sum['lakehose.writer-id']}/${sum['lakehose.pipeline']}/${id}`;
      assert.ok(!identities.has(key), `object ${key} committed twice: in snapshot ${identities.get(key)} and in snapshot ${s['snapshot-id']}`);
      identities.set(key, String(s['snapshot-id']));
    }
  }
  return { chain, identities };
}
