// A generator of DynamoDB "export to S3" directories, full and incremental, in
// DYNAMODB_JSON, written from AWS's documentation ("DynamoDB table export output format",
// Amazon DynamoDB Developer Guide), for the black-box suites of `lakehose backfill`
// (issue 16). Items are marshalled by @aws-sdk/util-dynamodb, so the files hold what the
// SDK (and DynamoDB) would, and tests/lib/ddb_values.mjs compares lakehose's output with
// the oracle's reading of the same lines.
//
//   import { makeItems, writeExport, corruptDataFile } from './ddb_export.mjs';
//   const items = makeItems(1000, 7, { sortKey: true });
//   const exp = await writeExport(bucketDir, { items, filesCount: 4, exportTime: Date.UTC(2026, 0, 2) });
//   // exp.exportDir = <bucketDir>/AWSDynamoDB/<exportId>: give it to `lakehose backfill --export`
//   await corruptDataFile(exp.exportDir, 1);   // lakehose must refuse file 1 (MD5)
//
// What is written, under `rootDir` standing for the bucket (s3Prefix puts it under
// <rootDir>/<prefix>/), as AWS does:
//   AWSDynamoDB/<id>/_started                 empty: the bucket was writable
//   AWSDynamoDB/<id>/manifest-summary.json    one JSON object (fields below)
//   AWSDynamoDB/<id>/manifest-summary.checksum
//   AWSDynamoDB/<id>/manifest-files.json      JSON Lines: {itemCount, md5Checksum, etag, dataFileS3Key}
//   AWSDynamoDB/<id>/manifest-files.checksum
//   AWSDynamoDB/<id>/data/<26 base32 chars>.json.gz   gzip JSON Lines, one item a line
// Keys in the manifests (manifestFilesS3Key, dataFileS3Key) are relative to the bucket,
// so they start with the prefix when there is one. md5Checksum is the base64 MD5 of the
// gzip file as stored; etag is the S3 ETag of a one-part multipart upload
// (hex MD5 of the part's MD5, then "-1"), the form of AWS's example.
// The summary of a full export has exportTime; an incremental one (version 2023-08-01)
// has exportFromTime, exportToTime, outputView and exportType INCREMENTAL_EXPORT at the
// top level (AWS's example), not an incrementalExportSpecification object. Times are
// RFC 3339 with milliseconds and Z. The .checksum files' content is not documented: they
// hold the hex MD5 of the manifest here (lakehose does not read them).
//
// Lines: full `{"Item": {...}}`; incremental `{"Metadata": {"WriteTimestampMicros": {"N":
// "..."}}, "Keys": {...}, "OldImage": {...}, "NewImage": {...}}`, one line per changed
// item with its net change over the window: an insert has no OldImage, a delete no
// NewImage, and with outputView NEW_IMAGE no line has an OldImage.
// Binary values are base64 text in the files, as in all DynamoDB JSON.
//
// Items are JS values for marshall: strings, numbers (NumberValue for exact text, e.g.
// 38 digits), Uint8Array (B), booleans, null, Sets (SS, NS, BS), arrays (L), objects (M).
// typedOf(item) is the item in DynamoDB JSON as written; oracleOf(typed) is the oracle's
// value for it (unmarshall with wrapNumbers), as tests/lib/ddb_values.mjs expects.
//
// The API (each is documented where it is defined):
//   items:   makeItems(n, seed, {sortKey, pkPrefix}), updatedItem(item, seed),
//            keysOf(item, keyNames), NUMBER_TEXTS, STRING_TEXTS, SORT_KEYS, NumberValue
//   values:  typedOf(item), oracleOf(typed), toDynamoJson(v), canonicalImage(typed),
//            itemKey(obj, keyNames), expectedByKey(items, keyNames)
//   lines:   fullLine(item), incrementalLine({keys, newImage, oldImage, writeMicros}),
//            incrementalLines({before, after, keyNames, fromMs, toMs, view, seed}), linesText(lines)
//   export:  writeExport(rootDir, options), makeExportId(timeMs, seed), multipartEtag(bytes)
//   reading: readExport(exportDir), dataFileLines(exportDir, i)
//   damage:  corruptDataFile(exportDir, i), truncateDataFile(exportDir, i),
//            rewriteDataFile(exportDir, i, lines)
//
// Everything that touches files is async (node:fs/promises, zlib's async gzip): these
// run inside suites whose fakes share the event loop.

import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { marshall, unmarshall, NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';

import { normaliseDecimal } from './ddb_values.mjs';
import { prng } from './s3_front.mjs';

export { NumberValue };

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export const SUMMARY_VERSION = Object.freeze({ full: '2020-06-30', incremental: '2023-08-01' });
export const DEFAULT_ACCOUNT = '111122223333';
export const DEFAULT_REGION = 'us-east-1';

const MARSHALL_OPTIONS = Object.freeze({ removeUndefinedValues: true });

// ---- values ------------------------------------------------------------------------------

// A copy of a DynamoDB JSON value (any depth) with every Uint8Array as base64 text, the
// form DynamoDB writes binary in.
export function toDynamoJson(value) {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(toDynamoJson);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = toDynamoJson(v);
    return out;
  }
  return value;
}

// The item (JS values) as DynamoDB JSON, binary as base64: what an export line holds.
export function typedOf(item) {
  return toDynamoJson(marshall(item, MARSHALL_OPTIONS));
}

// The oracle's value for an image in DynamoDB JSON: unmarshall with wrapNumbers, so numbers
// stay NumberValue text and B stays base64 text (see ddb_values.mjs compareMap).
export function oracleOf(typedImage) {
  return unmarshall(typedImage, { wrapNumbers: true });
}

// An image in DynamoDB JSON (binary as bytes or base64) in one canonical form, so that
// two images DynamoDB holds as the same compare equal as JSON text: numbers as
// normaliseDecimal gives them ("1E+2" and "100" alike; DynamoDB and dynalite answer
// numbers in their own spelling), set members sorted (DynamoDB keeps no order), binary
// as base64.
export function canonicalImage(typedImage) {
  const one = (av) => {
    const [type] = Object.keys(av);
    const v = toDynamoJson(av[type]);
    switch (type) {
      case 'N': return { N: normaliseDecimal(v) };
      case 'NS': return { NS: v.map(normaliseDecimal).sort() };
      case 'SS':
      case 'BS': return { [type]: [...v].sort() };
      case 'M': return { M: canonicalImage(v) };
      case 'L': return { L: v.map(one) };
      default: return { [type]: v };
    }
  };
  const out = {};
  for (const k of Object.keys(typedImage).sort()) out[k] = one(typedImage[k]);
  return out;
}

// Numbers DynamoDB accepts, spelled in the ways a writer may spell them.
export const NUMBER_TEXTS = Object.freeze([
  '0', '1', '-1', '42', '-7.25', '3.14159', '0.1', '100.000', '-0.0001',
  '1E+2', '1.5e-7', '-2.5E+10',
  '9007199254740993',                               // 2^53 + 1: a double rounds it
  '12345678901234567890123456789012345678',         // 38 digits
  '-99999999999999999999999999999999999999',        // 38 digits, negative
  '0.12345678901234567890123456789012345678',       // 38 significant digits, all fraction
  '1.2345678901234567890123456789012345678E+125',   // 38 digits near the top of the range
  '-9.9999999999999999999999999999999999999E+125',  // the most negative number
  '1E-130',                                         // the smallest positive number
]);

// Strings: empty, unicode (2-, 3- and 4-byte UTF-8), JSON escapes, a long one.
export const STRING_TEXTS = Object.freeze([
  '', 'plain', 'ünïcødé', '漢字かな', '🙂 emoji 🚀', 'quote " backslash \\ slash /',
  'new\nline\ttab\rcr', 'bell \u0007 and \u001f', 'x'.repeat(700), ' leading and trailing ',
  '{"looks":"like json"}', '12345',
]);

const MAP_KEYS = Object.freeze(['a', 'b', 'c', 'nested', 'key with space', 'dotted.name', 'ünï', '漢', 'UPPER', 'n0']);

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function randomString(r) {
  if (r() < 0.5) return pick(r, STRING_TEXTS);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 -_éß漢🙂';
  const chars = [...alphabet];
  let s = '';
  const n = Math.floor(r() * 16);
  for (let i = 0; i < n; ++i) s += pick(r, chars);
  return s;
}

function randomBytes(r, max) {
  const n = Math.floor(r() * (max + 1));
  const b = new Uint8Array(n);
  for (let i = 0; i < n; ++i) b[i] = Math.floor(r() * 256);
  return b;
}

// 1..max distinct members; `key` says when two are the same to DynamoDB.
function distinct(r, max, make, key) {
  const out = new Map();
  const want = 1 + Math.floor(r() * max);
  for (let tries = 0; out.size < want && tries < want * 8; ++tries) {
    const v = make();
    const k = key(v);
    if (!out.has(k)) out.set(k, v);
  }
  return new Set(out.values());
}

const stringSet = (r) => distinct(r, 4, () => randomString(r), (s) => s);
// Distinct as decimals: DynamoDB refuses "1" and "1.0" in one set.
const numberSet = (r) => distinct(r, 4, () => NumberValue.from(pick(r, NUMBER_TEXTS)), (v) => normaliseDecimal(v.value));
const binarySet = (r) => distinct(r, 3, () => randomBytes(r, 12), (b) => Buffer.from(b).toString('hex'));

// One random value of any type; lists and maps only while depth > 0.
function randomValue(r, depth) {
  const kinds = depth > 0 ? 10 : 8;
  switch (Math.floor(r() * kinds)) {
    case 0: return randomString(r);
    case 1: return NumberValue.from(pick(r, NUMBER_TEXTS));
    case 2: return randomBytes(r, 16);
    case 3: return r() < 0.5;
    case 4: return null;
    case 5: return stringSet(r);
    case 6: return numberSet(r);
    case 7: return binarySet(r);
    case 8: return randomList(r, depth - 1);
    default: return randomMap(r, depth - 1);
  }
}

function randomList(r, depth) {
  const n = Math.floor(r() * 5);
  const out = [];
  for (let i = 0; i < n; ++i) out.push(randomValue(r, depth));
  return out;
}

function randomMap(r, depth, min = 0) {
  const n = min + Math.floor(r() * (5 - min));
  const out = {};
  for (let i = 0; i < n; ++i) out[pick(r, MAP_KEYS)] = randomValue(r, depth);
  return out;
}

// A map nested exactly `depth` levels (the deepest holds a list and a number).
function deepMap(r, depth) {
  let m = { leaf: NumberValue.from(pick(r, NUMBER_TEXTS)), list: [randomString(r), null, true] };
  for (let d = 1; d < depth; ++d) m = { [pick(r, MAP_KEYS)]: m, level: d };
  return m;
}

// Sort key values for makeItems({sortKey: true}): items share a partition key in groups
// of SORT_KEYS.length, one of these each.
export const SORT_KEYS = Object.freeze(['-1.5', '0', '7', '12345678901234567890123456789012345678']);

// n items (JS values for marshall) from `seed`, the same on every run. Each has a string
// partition key `pk` (unique; with sortKey, shared by 4 items, and a number sort key
// `sk` from SORT_KEYS), and attributes of every DynamoDB type: s (S, sometimes empty or
// unicode), n (N from NUMBER_TEXTS as NumberValue: 38 digits, negative, decimal,
// exponent), int and dbl (plain JS numbers), b (B, sometimes empty), bool, nul (NULL),
// ss/ns/bs (sets), l (L of mixed values), m (M up to 3 levels of random values), deep (M
// nested 5 to 8 levels); some items also have 'ünïcødé name' and 'with space' attributes.
// Options: sortKey (false), pkPrefix ('item').
export function makeItems(n, seed, { sortKey = false, pkPrefix = 'item' } = {}) {
  const r = prng(seed);
  const items = [];
  for (let i = 0; i < n; ++i) {
    const item = {};
    if (sortKey) {
      item.pk = `${pkPrefix}-${seed}-${Math.floor(i / SORT_KEYS.length)}`;
      item.sk = NumberValue.from(SORT_KEYS[i % SORT_KEYS.length]);
    } else {
      item.pk = `${pkPrefix}-${seed}-${i}`;
    }
    if (i % 11 === 3) item.pk += ' ünï 🙂';
    item.s = i % 9 === 0 ? '' : randomString(r);
    item.n = NumberValue.from(NUMBER_TEXTS[i % NUMBER_TEXTS.length]);
    item.int = i % 2 === 0 ? i : -i;
    item.dbl = Math.round((r() - 0.5) * 1e6) / 100;
    item.b = i % 10 === 0 ? new Uint8Array(0) : randomBytes(r, 24);
    item.bool = r() < 0.5;
    item.nul = null;
    item.ss = stringSet(r);
    item.ns = numberSet(r);
    item.bs = binarySet(r);
    item.l = [randomString(r), NumberValue.from(pick(r, NUMBER_TEXTS)), ...randomList(r, 2)];
    item.m = randomMap(r, 3, 2);
    item.deep = deepMap(r, 5 + (i % 4));
    if (i % 3 === 0) item['ünïcødé name'] = randomValue(r, 1);
    if (i % 4 === 1) item['with space'] = randomString(r);
    items.push(item);
  }
  return items;
}

// The item as changed by an update: s, n and l replaced, one attribute added and, when
// present, 'with space' removed. Keys are kept.
export function updatedItem(item, seed) {
  const r = prng(seed);
  const out = { ...item, s: `updated ${randomString(r)}`, n: NumberValue.from(pick(r, NUMBER_TEXTS)), l: randomList(r, 2) };
  out.added = randomValue(r, 2);
  delete out['with space'];
  return out;
}

// The key attributes of an item (JS values).
export function keysOf(item, keyNames = ['pk']) {
  const out = {};
  for (const k of keyNames) {
    if (!(k in item)) throw new Error(`item has no key attribute ${JSON.stringify(k)}`);
    out[k] = item[k];
  }
  return out;
}

// A primary key as text, the same for every form of the item: JS values (NumberValue,
// Uint8Array), the oracle's values, or a lakehose output row parsed by lossless-json
// (numbers as LosslessNumber, binary as base64). Numbers compare as decimals.
export function itemKey(obj, keyNames = ['pk']) {
  const norm = (v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (v !== null && typeof v === 'object' && typeof v.value === 'string') return normaliseDecimal(v.value);
    if (typeof v === 'number' || typeof v === 'bigint') return normaliseDecimal(String(v));
    return v;
  };
  return JSON.stringify(keyNames.map((k) => {
    if (obj?.[k] === undefined) throw new Error(`no key attribute ${JSON.stringify(k)}`);
    return norm(obj[k]);
  }));
}

// What a suite compares lakehose's rows with: itemKey -> { typed, oracle } for each item,
// for ddb_values.mjs compareMap(typed, oracle, row, '', mismatches). Throws on two items
// with one key.
export function expectedByKey(items, keyNames = ['pk']) {
  const out = new Map();
  for (const item of items) {
    const k = itemKey(item, keyNames);
    if (out.has(k)) throw new Error(`two items with the key ${k}`);
    const typed = typedOf(item);
    out.set(k, { typed, oracle: oracleOf(typed) });
  }
  return out;
}

// ---- lines -------------------------------------------------------------------------------

// A full export's line for an item (JS values).
export function fullLine(item) {
  return { Item: typedOf(item) };
}

// An incremental export's line. keys, newImage, oldImage: JS values (null: absent);
// writeMicros: the write time in microseconds since the epoch (number or bigint).
export function incrementalLine({ keys, newImage = null, oldImage = null, writeMicros }) {
  const line = { Metadata: { WriteTimestampMicros: { N: String(BigInt(writeMicros)) } }, Keys: typedOf(keys) };
  if (oldImage !== null) line.OldImage = typedOf(oldImage);
  if (newImage !== null) line.NewImage = typedOf(newImage);
  return line;
}

// The lines of an incremental export between two states of a table (arrays of items):
// one line per key whose item was inserted, changed or deleted, at a write time spread
// over [fromMs, toMs), in the order of `after` then the deletes. view: NEW_AND_OLD_IMAGES
// (default) or NEW_IMAGE (no OldImage anywhere). Returns { lines, inserted, updated,
// deleted } (counts).
export function incrementalLines({ before, after, keyNames = ['pk'], fromMs, toMs, view = 'NEW_AND_OLD_IMAGES', seed = 1 }) {
  if (view !== 'NEW_AND_OLD_IMAGES' && view !== 'NEW_IMAGE') throw new Error(`unknown outputView ${view}`);
  const r = prng(seed);
  const keyText = (item) => JSON.stringify(typedOf(keysOf(item, keyNames)));
  const old = new Map(before.map((it) => [keyText(it), it]));
  const spanMicros = BigInt(toMs - fromMs) * 1000n;
  const when = () => BigInt(fromMs) * 1000n + BigInt(Math.floor(r() * Number(spanMicros)));
  const withOld = view === 'NEW_AND_OLD_IMAGES';
  const lines = [];
  const counts = { inserted: 0, updated: 0, deleted: 0 };
  const seen = new Set();
  for (const item of after) {
    const k = keyText(item);
    if (seen.has(k)) throw new Error(`two items with the key ${k} in 'after'`);
    seen.add(k);
    const prev = old.get(k);
    if (prev !== undefined && JSON.stringify(typedOf(prev)) === JSON.stringify(typedOf(item))) continue;
    lines.push(incrementalLine({
      keys: keysOf(item, keyNames), newImage: item, oldImage: prev !== undefined && withOld ? prev : null, writeMicros: when(),
    }));
    counts[prev === undefined ? 'inserted' : 'updated']++;
  }
  for (const [k, prev] of old) {
    if (seen.has(k)) continue;
    lines.push(incrementalLine({ keys: keysOf(prev, keyNames), oldImage: withOld ? prev : null, writeMicros: when() }));
    counts.deleted++;
  }
  return { lines, ...counts };
}

// ---- the export --------------------------------------------------------------------------

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32Name(r, length = 26) {
  let s = '';
  for (let i = 0; i < length; ++i) s += BASE32[Math.floor(r() * 32)];
  return s;
}

// An export id as DynamoDB makes them: the request time in ms (14 digits) and 8 hex digits.
export function makeExportId(timeMs, seed) {
  const r = prng(seed);
  let hex = '';
  for (let i = 0; i < 8; ++i) hex += Math.floor(r() * 16).toString(16);
  return `${String(Math.floor(timeMs)).padStart(14, '0')}-${hex}`;
}

const iso = (ms) => new Date(ms).toISOString();
const md5 = (buf) => createHash('md5').update(buf).digest();

// The S3 ETag of an object uploaded as one part of a multipart upload.
export function multipartEtag(bytes) {
  return `${createHash('md5').update(md5(bytes)).digest('hex')}-1`;
}

// The text of one data file: each line as JSON, '\n' after each.
export function linesText(lines) {
  return lines.map((line) => `${JSON.stringify(toDynamoJson(line))}\n`).join('');
}

// The lines gzipped as `members` gzip members one after the other (RFC 1952 allows it;
// gunzip reads them all), the lines split evenly between them.
async function gzipInMembers(lines, members) {
  if (members === 1) return gzip(Buffer.from(linesText(lines), 'utf8'));
  const parts = await Promise.all(splitEvenly(lines, members).map((part) => gzip(Buffer.from(linesText(part), 'utf8'))));
  return Buffer.concat(parts);
}

function splitEvenly(list, parts) {
  const out = Array.from({ length: parts }, () => []);
  const per = Math.ceil(list.length / parts);
  for (let i = 0; i < list.length; ++i) out[Math.min(parts - 1, Math.floor(i / Math.max(per, 1)))].push(list[i]);
  return out;
}

// Writes an export under rootDir (the bucket) and returns
// { exportDir, exportId, exportArn, summary, summaryKey, files: [{ key, path, name,
// itemCount, md5, etag, bytes }], itemCount }.
// Options:
//   type: 'full' (default) | 'incremental'
//   files: [[line, ...], ...] the data files' lines (fullLine / incrementalLine objects);
//     or items (JS values, full exports) or lines, with filesCount (default 1) files,
//     split in order into runs of ceil(n / filesCount)
//   emptyFiles (0): data files with no items added at the end (AWS writes one for each
//     empty partition): emptyFileForm 'gzip' (default: a gzip stream of nothing) or
//     'zero-bytes' (an empty object)
//   exportTime (ms; default 2026-01-02T03:04:05.678Z): a full export's point in time
//   fromTime, toTime (ms): an incremental export's window (default: the hour before
//     exportTime); outputView: NEW_AND_OLD_IMAGES (default) | NEW_IMAGE
//   exportId (default makeExportId(startTime, seed)), tableName ('orders'), tableArn,
//   account, region, s3Bucket ('exports'), s3Prefix (null), s3SseAlgorithm ('AES256'),
//   outputFormat ('DYNAMODB_JSON'; 'ION' only to test its refusal: the lines stay JSON),
//   omitExportType (false: the summary has exportType; true: as summaries written before
//   incremental exports existed), gzipMembers (1: each data file one gzip member; N:
//   N members end to end, which gunzip reads as one stream; AWS does not document which
//   it writes), seed (1: file names and the export id)
export async function writeExport(rootDir, options = {}) {
  const {
    type = 'full', items = null, lines = null, filesCount = 1, emptyFiles = 0, emptyFileForm = 'gzip',
    exportTime = Date.UTC(2026, 0, 2, 3, 4, 5, 678), outputView = 'NEW_AND_OLD_IMAGES',
    tableName = 'orders', account = DEFAULT_ACCOUNT, region = DEFAULT_REGION,
    s3Bucket = 'exports', s3Prefix = null, s3SseAlgorithm = 'AES256', outputFormat = 'DYNAMODB_JSON',
    omitExportType = false, gzipMembers = 1, seed = 1,
  } = options;
  if (!(Number.isInteger(gzipMembers) && gzipMembers >= 1)) throw new Error('gzipMembers must be a positive integer');
  if (type !== 'full' && type !== 'incremental') throw new Error(`type must be full or incremental, not ${type}`);
  if (!['gzip', 'zero-bytes'].includes(emptyFileForm)) throw new Error(`emptyFileForm must be gzip or zero-bytes`);
  const fromTime = options.fromTime ?? exportTime - 3600_000;
  const toTime = options.toTime ?? exportTime;
  if (type === 'incremental' && !(fromTime < toTime)) throw new Error('fromTime must be before toTime');
  let fileLines = options.files;
  if (fileLines === undefined) {
    let all = lines;
    if (all === null && items !== null) {
      if (type !== 'full') throw new Error('items make a full export; give an incremental one its lines (incrementalLines)');
      all = items.map(fullLine);
    }
    if (all === null) throw new Error('give files, lines or items');
    fileLines = splitEvenly(all, filesCount);
  }
  for (let i = 0; i < emptyFiles; ++i) fileLines = [...fileLines, null];

  // The export starts after its point in time (full) or window (incremental).
  const startTime = (type === 'full' ? exportTime : toTime) + 1000;
  const endTime = startTime + 5 * 60_000;
  const exportId = options.exportId ?? makeExportId(startTime, seed);
  const tableArn = options.tableArn ?? `arn:aws:dynamodb:${region}:${account}:table/${tableName}`;
  const exportArn = `${tableArn}/export/${exportId}`;
  const keyPrefix = s3Prefix ? `${s3Prefix.replace(/\/+$/, '')}/` : '';
  const exportKey = `${keyPrefix}AWSDynamoDB/${exportId}`;
  const exportDir = join(rootDir, ...exportKey.split('/'));
  await mkdir(join(exportDir, 'data'), { recursive: true });
  await writeFile(join(exportDir, '_started'), '');

  const r = prng(seed ^ 0x5eed);
  const files = [];
  let itemCount = 0;
  let billedSizeBytes = 0;
  for (const linesOfFile of fileLines) {
    const name = `${base32Name(r)}.json.gz`;
    const text = linesOfFile === null ? '' : linesText(linesOfFile);
    const bytes = linesOfFile === null && emptyFileForm === 'zero-bytes' ? Buffer.alloc(0)
      : await gzipInMembers(linesOfFile ?? [], gzipMembers);
    const path = join(exportDir, 'data', name);
    await writeFile(path, bytes);
    const count = linesOfFile === null ? 0 : linesOfFile.length;
    files.push({ key: `${exportKey}/data/${name}`, path, name, itemCount: count, md5: md5(bytes).toString('base64'), etag: multipartEtag(bytes), bytes: bytes.length });
    itemCount += count;
    billedSizeBytes += Buffer.byteLength(text, 'utf8');
  }

  const manifestFiles = files.map((f) => `${JSON.stringify({ itemCount: f.itemCount, md5Checksum: f.md5, etag: f.etag, dataFileS3Key: f.key })}\n`).join('');
  const summary = {
    version: type === 'full' ? SUMMARY_VERSION.full : SUMMARY_VERSION.incremental,
    exportArn,
    startTime: iso(startTime),
    endTime: iso(endTime),
    tableArn,
    tableId: makeExportId(0, seed + 1).slice(-8) + '-1a2b-4c3d-8e9f-0123456789ab',
    ...(type === 'full' ? { exportTime: iso(exportTime) } : { exportFromTime: iso(fromTime), exportToTime: iso(toTime) }),
    s3Bucket,
    s3Prefix: s3Prefix ?? null,
    s3SseAlgorithm,
    s3SseKmsKeyId: null,
    manifestFilesS3Key: `${exportKey}/manifest-files.json`,
    billedSizeBytes,
    itemCount,
    outputFormat,
    ...(type === 'incremental' ? { outputView } : {}),
    ...(omitExportType ? {} : { exportType: type === 'full' ? 'FULL_EXPORT' : 'INCREMENTAL_EXPORT' }),
  };
  const summaryText = `${JSON.stringify(summary, null, 2)}\n`;
  await writeFile(join(exportDir, 'manifest-files.json'), manifestFiles);
  await writeFile(join(exportDir, 'manifest-files.checksum'), md5(Buffer.from(manifestFiles)).toString('hex'));
  await writeFile(join(exportDir, 'manifest-summary.json'), summaryText);
  await writeFile(join(exportDir, 'manifest-summary.checksum'), md5(Buffer.from(summaryText)).toString('hex'));
  return { exportDir, exportId, exportArn, summary, summaryKey: `${exportKey}/manifest-summary.json`, files, itemCount };
}

// ---- reading back and damaging -----------------------------------------------------------

// The data file's path in exportDir for a manifest key (".../data/<name>").
function dataPath(exportDir, key) {
  const at = key.lastIndexOf('/data/');
  if (at < 0) throw new Error(`dataFileS3Key ${key} is not under data/`);
  return join(exportDir, ...key.slice(at + 1).split('/'));
}

async function manifestEntries(exportDir) {
  const text = await readFile(join(exportDir, 'manifest-files.json'), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

async function entryAt(exportDir, index) {
  const entries = await manifestEntries(exportDir);
  if (!(index >= 0 && index < entries.length)) throw new Error(`data file ${index} of ${entries.length}`);
  return { entries, entry: entries[index], path: dataPath(exportDir, entries[index].dataFileS3Key) };
}

// Reads an export directory the way a careful reader would: { summary, files: [{ entry,
// path, md5, md5Matches, lines (parsed objects; null when the bytes do not gunzip),
// error }], dataFiles (names in data/) }. Checks nothing itself.
export async function readExport(exportDir) {
  const summary = JSON.parse(await readFile(join(exportDir, 'manifest-summary.json'), 'utf8'));
  const entries = await manifestEntries(exportDir);
  const files = [];
  for (const entry of entries) {
    const path = dataPath(exportDir, entry.dataFileS3Key);
    const bytes = await readFile(path);
    const sum = md5(bytes).toString('base64');
    let lines = null;
    let error = null;
    try {
      const text = bytes.length === 0 ? '' : (await gunzip(bytes)).toString('utf8');
      lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    } catch (e) {
      error = e.message;
    }
    files.push({ entry, path, md5: sum, md5Matches: sum === entry.md5Checksum, etagMatches: multipartEtag(bytes) === entry.etag, lines, error });
  }
  return { summary, files, dataFiles: (await readdir(join(exportDir, 'data'))).sort() };
}

// Flips one byte (XOR 0xff) of data file `index` (manifest order), by default in the
// middle of the deflate stream; the manifest is left as it was, so the MD5 no longer
// matches. Returns { path, offset, before, after } (MD5s, base64).
export async function corruptDataFile(exportDir, index, { offset = null } = {}) {
  const { path } = await entryAt(exportDir, index);
  const bytes = await readFile(path);
  if (bytes.length === 0) throw new Error(`${path} is empty: nothing to corrupt`);
  const at = offset ?? Math.floor(bytes.length / 2);
  const before = md5(bytes).toString('base64');
  bytes[at] ^= 0xff;
  await writeFile(path, bytes);
  return { path, offset: at, before, after: md5(bytes).toString('base64') };
}

// Cuts data file `index` to keepBytes (default: half), as an interrupted copy would; the
// manifest is left as it was. Returns { path, from, to } (sizes).
export async function truncateDataFile(exportDir, index, { keepBytes = null } = {}) {
  const { path } = await entryAt(exportDir, index);
  const bytes = await readFile(path);
  const to = keepBytes ?? Math.floor(bytes.length / 2);
  await writeFile(path, bytes.subarray(0, to));
  return { path, from: bytes.length, to };
}

// Replaces data file `index` with these lines. With fixChecksums (default) the manifest's
// md5Checksum and etag are updated and its itemCount is not, so a reader that trusts the
// MD5 still finds the count wrong (e.g. a line dropped). Returns the new entry.
export async function rewriteDataFile(exportDir, index, lines, { fixChecksums = true } = {}) {
  const { entries, entry, path } = await entryAt(exportDir, index);
  const bytes = await gzip(Buffer.from(linesText(lines), 'utf8'));
  await writeFile(path, bytes);
  if (fixChecksums) {
    entry.md5Checksum = md5(bytes).toString('base64');
    entry.etag = multipartEtag(bytes);
    await writeFile(join(exportDir, 'manifest-files.json'), entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }
  return entry;
}

// The lines of data file `index` as written (parsed objects).
export async function dataFileLines(exportDir, index) {
  const { path } = await entryAt(exportDir, index);
  const text = (await gunzip(await readFile(path))).toString('utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}
