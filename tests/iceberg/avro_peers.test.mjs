// Iceberg manifests and manifest lists written by lakehose (core/iceberg/manifest.h),
// decoded by two independent Avro readers: avsc 5.7.9 (npm, createFileDecoder, longs as
// BigInt so that values beyond 2^53 stay exact) and Debian's python3-avro
// (avro.datafile.DataFileReader, through /usr/bin/python3 and avro_decode.py).
//
// The samples come from manifest_test's PeerSamples.Write (LAKEHOSE_AVRO_SAMPLES_DIR),
// with samples.json saying what each file holds. For every file: the header schema has
// the spec's field ids (field-id on every record field with the spec tables' id, required
// fields plain, optional ones ["null", T] with default null, element-id on lists, maps as
// arrays of key/value records with logicalType "map"), the partition struct's fields have
// the partition field ids and the Avro types of Appendix A, the key-value metadata is the
// spec's, and every decoded value equals what was written (a long > 2^53, null partition
// values, bounds bytes, decimals). avrocat (Debian's avro-bin) reads a manifest list too.
//
//   node tests/iceberg/avro_peers.test.mjs --samples-bin PATH/TO/manifest_test
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import avro from 'avsc';

const { values: args } = parseArgs({ options: { 'samples-bin': { type: 'string' }, keep: { type: 'boolean' } } });
if (!args['samples-bin']) {
  console.error('usage: avro_peers.test.mjs --samples-bin PATH/TO/manifest_test [--keep]');
  process.exit(2);
}
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3'; // Debian's, with python3-avro (the pyenv python has none)

// The spec's tables ("Manifest Entry Fields", "Data File Fields", "Manifest Lists"), v2:
// [name, field id, required, then for maps [key id, value id], for lists element id].
const MANIFEST_ENTRY = [
  ['status', 0, true], ['snapshot_id', 1, false], ['sequence_number', 3, false],
  ['file_sequence_number', 4, false], ['data_file', 2, true],
];
const DATA_FILE = [
  ['content', 134, true], ['file_path', 100, true], ['file_format', 101, true],
  ['partition', 102, true], ['record_count', 103, true], ['file_size_in_bytes', 104, true],
  ['column_sizes', 108, false, [117, 118]], ['value_counts', 109, false, [119, 120]],
  ['null_value_counts', 110, false, [121, 122]], ['nan_value_counts', 137, false, [138, 139]],
  ['lower_bounds', 125, false, [126, 127]], ['upper_bounds', 128, false, [129, 130]],
  ['key_metadata', 131, false], ['split_offsets', 132, false, 133],
  ['equality_ids', 135, false, 136], ['sort_order_id', 140, false],
  ['referenced_data_file', 143, false],
];
const MANIFEST_FILE = [
  ['manifest_path', 500, true], ['manifest_length', 501, true], ['partition_spec_id', 502, true],
  ['content', 517, true], ['sequence_number', 515, true], ['min_sequence_number', 516, true],
  ['added_snapshot_id', 503, true], ['added_files_count', 504, true],
  ['existing_files_count', 505, true], ['deleted_files_count', 506, true],
  ['added_rows_count', 512, true], ['existing_rows_count', 513, true],
  ['deleted_rows_count', 514, true], ['partitions', 507, false, 508], ['key_metadata', 519, false],
];
const FIELD_SUMMARY = [
  ['contains_null', 509, true], ['contains_nan', 518, false], ['lower_bound', 510, false],
  ['upper_bound', 511, false],
];

// Avro types of Appendix A for partition result types.
function checkPartitionType(type, iceberg, named, where) {
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

// Checks a record's fields against a spec table; returns the fields by name.
function checkFields(record, table, where) {
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

function checkManifestSchema(schema, sample) {
  const entry = checkFields(schema, MANIFEST_ENTRY, 'manifest_entry');
  const df = checkFields(entry.get('data_file').type, DATA_FILE, 'data_file');
  const partition = df.get('partition').type;
  assert.equal(partition.type, 'record');
  assert.equal(partition.name, 'r102');
  assert.equal(partition.fields.length, sample.partition_fields.length);
  const named = new Map();
  sample.partition_fields.forEach((want, i) => {
    const f = partition.fields[i];
    const at = `partition.${want.name}`;
    assert.equal(f.name, want.name, at);
    assert.equal(String(f['field-id']), want['field-id'], `${at}: field-id`);
    let type = f.type;
    if (want.required) {
      assert.ok(!Array.isArray(type), `${at}: required`);
    } else {
      assert.ok(Array.isArray(type) && type[0] === 'null' && f.default === null, `${at}: optional`);
      type = type[1];
    }
    checkPartitionType(type, want.type, named, at);
  });
}

function checkManifestListSchema(schema) {
  const mf = checkFields(schema, MANIFEST_FILE, 'manifest_file');
  checkFields(mf.get('partitions').type[1].items, FIELD_SUMMARY, 'field_summary');
}

// avsc: longs as BigInt (values beyond 2^53 would otherwise be refused).
const BigLong = avro.types.LongType.__with({
  fromBuffer: (buf) => buf.readBigInt64LE(),
  toBuffer: (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});

function decodeWithAvsc(path) {
  return new Promise((resolve, reject) => {
    const records = [];
    let header;
    avro.createFileDecoder(path, {
      parseHook: (schema) => avro.Type.forSchema(schema, { registry: { long: BigLong } }),
    })
      .on('metadata', (_type, codec, h) => { header = { codec, meta: h.meta }; })
      .on('data', (r) => records.push(r))
      .on('error', reject)
      .on('end', () => resolve({ header, records }));
  });
}

const haveAvrocat = () => existsSync('/usr/bin/avrocat');

function canonical(v) {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `hex:${v.toString('hex')}`;
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]));
  throw new Error(`unexpected value ${v}`);
}

// avsc leaves decimals as the fixed's bytes: the unscaled two's-complement integer.
function decimalsAsUnscaled(records, sample) {
  for (const r of records) {
    for (const f of sample.partition_fields ?? []) {
      const v = r.data_file.partition[f.name];
      if (!f.type.startsWith('decimal') || v === null) continue;
      const bytes = Buffer.from(v.slice(4), 'hex');
      let n = BigInt.asIntN(8 * bytes.length, BigInt(`0x${bytes.toString('hex')}`));
      r.data_file.partition[f.name] = `dec:${n}`;
    }
  }
  return records;
}

describe('manifests and manifest lists, by avsc and python3-avro', () => {
  let dir;
  let samples;
  let python;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lakehose-avro-'));
    execFileSync(args['samples-bin'], ['--gtest_filter=PeerSamples.Write'], {
      env: { ...process.env, LAKEHOSE_AVRO_SAMPLES_DIR: dir }, timeout: 60_000, stdio: ['ignore', 'ignore', 'inherit'],
    });
    samples = JSON.parse(readFileSync(join(dir, 'samples.json'), 'utf8'));
    assert.equal(samples.length, 4);
    python = JSON.parse(execFileSync(PYTHON, [join(HERE, 'avro_decode.py'), ...samples.map((s) => join(dir, s.file))], {
      timeout: 60_000, maxBuffer: 1 << 26, encoding: 'utf8',
    }));
  });
  after(() => { if (dir && !args.keep) rmSync(dir, { recursive: true, force: true }); });

  it('every sample has the spec\'s field ids, metadata and values for avsc', async () => {
    for (const sample of samples) {
      const { header, records } = await decodeWithAvsc(join(dir, sample.file));
      const schema = JSON.parse(header.meta['avro.schema'].toString());
      if (sample.kind === 'manifest') checkManifestSchema(schema, sample);
      else checkManifestListSchema(schema);
      assert.equal(header.codec, sample.codec, sample.file);
      const meta = Object.fromEntries(Object.entries(header.meta)
        .filter(([k]) => !k.startsWith('avro.')).map(([k, v]) => [k, v.toString()]));
      assert.deepEqual(meta, sample.metadata, `${sample.file}: key-value metadata`);
      assert.deepEqual(decimalsAsUnscaled(canonical(records), sample), sample.records, `${sample.file}: records`);
    }
  });

  it('python3-avro decodes the same values and sees the same header', () => {
    for (const sample of samples) {
      const got = python[join(dir, sample.file)];
      assert.ok(got, sample.file);
      const schema = JSON.parse(got.schema);
      if (sample.kind === 'manifest') checkManifestSchema(schema, sample);
      else checkManifestListSchema(schema);
      assert.equal(got.codec, sample.codec);
      assert.deepEqual(got.metadata, sample.metadata, `${sample.file}: key-value metadata`);
      assert.deepEqual(got.records, sample.records, `${sample.file}: records`);
    }
  });

  // avrocat (Debian's avro-bin, the C implementation) prints one JSON record per line.
  it('avrocat reads a manifest list', { skip: !haveAvrocat() && 'avrocat is not installed' }, () => {
    const sample = samples.find((s) => s.file === 'manifest_list.avro');
    const lines = execFileSync('avrocat', [join(dir, sample.file)], { timeout: 30_000, encoding: 'utf8' })
      .trim().split('\n');
    assert.equal(lines.length, sample.records.length);
    lines.forEach((line, i) => {
      const want = sample.records[i];
      assert.ok(line.includes(`"manifest_path": ${JSON.stringify(want.manifest_path)}`), line);
      // Longs as JSON numbers, printed exactly (no double in between).
      assert.ok(line.includes(`"added_snapshot_id": ${want.added_snapshot_id},`), line);
      assert.ok(line.includes(`"added_rows_count": ${want.added_rows_count},`), line);
    });
  });

  it('the samples cover what matters', () => {
    const all = JSON.stringify(samples);
    assert.ok(all.includes('"1152921504606846979"'), 'a long beyond 2^53');
    const part = samples.find((s) => s.file === 'manifest_partitioned.avro');
    assert.ok(part.records.some((r) => Object.values(r.data_file.partition).includes(null)), 'a null partition value');
    assert.ok(part.records.some((r) => r.data_file.lower_bounds?.some((b) => b.value.includes('00'))), 'bounds bytes');
    assert.ok(samples.some((s) => s.codec === 'deflate') && samples.some((s) => s.codec === 'null'));
    assert.ok(samples.some((s) => s.metadata['parent-snapshot-id'] === 'null'));
  });
});
