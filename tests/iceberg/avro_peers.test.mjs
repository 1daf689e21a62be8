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
// values, bounds bytes, decimals). avrocat (Debian's avro-bin) reads a manifest list too, and
// icebird's own Avro reader every sample it can (it reads no `fixed`: decimal partition
// values), one a manifest of 3,000 files in several blocks. One sample is a delete
// manifest (content "deletes", position delete files, referenced_data_file); DuckDB reads
// a position delete file (core/iceberg/position_deletes.h) written beside the samples.
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

import { DuckDBInstance } from '@duckdb/node-api';
import { avroMetadata } from 'icebird/src/avro/avro.metadata.js';
import { avroRead } from 'icebird/src/avro/avro.read.js';

import {
  DATA_FILE_FIELDS, FIELD_SUMMARY_FIELDS, MANIFEST_ENTRY_FIELDS, MANIFEST_FILE_FIELDS, canonical, checkPartitionAvroType,
  checkSpecFields, decodeAvro,
} from '../lib/iceberg.mjs';

const { values: args } = parseArgs({ options: { 'samples-bin': { type: 'string' }, keep: { type: 'boolean' } } });
if (!args['samples-bin']) {
  console.error('usage: avro_peers.test.mjs --samples-bin PATH/TO/manifest_test [--keep]');
  process.exit(2);
}
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3'; // Debian's, with python3-avro (the pyenv python has none)

function checkManifestSchema(schema, sample) {
  const entry = checkSpecFields(schema, MANIFEST_ENTRY_FIELDS, 'manifest_entry');
  const df = checkSpecFields(entry.get('data_file').type, DATA_FILE_FIELDS, 'data_file');
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
    checkPartitionAvroType(type, want.type, named, at);
  });
}

function checkManifestListSchema(schema) {
  const mf = checkSpecFields(schema, MANIFEST_FILE_FIELDS, 'manifest_file');
  checkSpecFields(mf.get('partitions').type[1].items, FIELD_SUMMARY_FIELDS, 'field_summary');
}

const haveAvrocat = () => existsSync('/usr/bin/avrocat');

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
    assert.equal(samples.length, 6);
    python = JSON.parse(execFileSync(PYTHON, [join(HERE, 'avro_decode.py'), ...samples.map((s) => join(dir, s.file))], {
      timeout: 60_000, maxBuffer: 1 << 26, encoding: 'utf8',
    }));
  });
  after(() => { if (dir && !args.keep) rmSync(dir, { recursive: true, force: true }); });

  it('every sample has the spec\'s field ids, metadata and values for avsc', async () => {
    for (const sample of samples) {
      const { schema, codec, meta, records } = await decodeAvro(join(dir, sample.file));
      if (sample.kind === 'manifest') checkManifestSchema(schema, sample);
      else checkManifestListSchema(schema);
      assert.equal(codec, sample.codec, sample.file);
      assert.deepEqual(meta, sample.metadata, `${sample.file}: key-value metadata`);
      assert.deepEqual(decimalsAsUnscaled(canonical(records), sample), sample.records, `${sample.file}: records`);
    }
  });

  // The position delete file beside the samples (a delete manifest's sample lists such
  // files): DuckDB reads it; its columns carry the spec's reserved field ids, required.
  it('DuckDB reads a position delete file: file_path and pos, required, the spec\'s field ids, sorted, distinct', async () => {
    const file = join(dir, 'position_deletes.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
      const schema = await q(`SELECT name, field_id, repetition_type FROM parquet_schema('${file}') WHERE name IN ('file_path', 'pos') ORDER BY name`);
      assert.deepEqual(schema.map((r) => [r.name, String(r.field_id), r.repetition_type]),
        [['file_path', '2147483546', 'REQUIRED'], ['pos', '2147483545', 'REQUIRED']]);
      const rows = await q(`SELECT file_path, pos FROM read_parquet('${file}')`);
      assert.deepEqual(rows.map((r) => [r.file_path, String(r.pos)]),
        [['s3://b/t/data/a.parquet', '2'], ['s3://b/t/data/a.parquet', '9'], ['s3://b/t/data/b.parquet', '7']]);
    } finally {
      conn.closeSync?.();
      instance.closeSync?.();
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

  // icebird's own Avro reader (what it reads manifests and lists with), on every sample;
  // the large one has several blocks and over 256 KiB of records.
  it('icebird\'s Avro reader decodes every sample', async (t) => {
    for (const sample of samples) {
      // icebird 0.3.1 reads no Avro `fixed`, the type of a decimal partition value.
      if ((sample.partition_fields ?? []).some((f) => /^decimal/.test(f.type))) {
        t.diagnostic(`${sample.file}: not read by icebird (a decimal partition field: Avro fixed, which icebird 0.3.1 does not read)`);
        continue;
      }
      // Its inflater (hyparquet-compressors' gunzip, made for gzip members) recurses without
      // end on a raw deflate block of under about 60 bytes: this sample's one record is 44.
      // (Measured with node's own deflateRawSync too: 30 of 695 sizes from 20 bytes to
      // 300 KB failed, all under 60 bytes. It also decoded a 531 KB block of a crash run's
      // manifest wrongly past 256 KiB, which is why blocks are now at most 64 KiB; that
      // failure depends on the bytes, and this sample in one block does not show it.)
      if (sample.file === 'manifest_list_first_deflate.avro') {
        t.diagnostic(`${sample.file}: not read by icebird (a 44-byte deflate block: its inflater's bug)`);
        continue;
      }
      const b = readFileSync(join(dir, sample.file));
      const reader = { view: new DataView(b.buffer, b.byteOffset, b.length), offset: 0 };
      const { metadata, syncMarker } = await avroMetadata(reader);
      const records = avroRead({ reader, metadata, syncMarker });
      assert.equal(records.length, sample.records.length, `${sample.file}: records`);
      if (sample.kind === 'manifest') {
        assert.deepEqual(records.map((r) => r.data_file.file_path), sample.records.map((r) => r.data_file.file_path), `${sample.file}: paths`);
        assert.deepEqual(records.map((r) => String(r.data_file.record_count)), sample.records.map((r) => String(r.data_file.record_count)), `${sample.file}: counts`);
      }
    }
    assert.ok(samples.some((s) => s.records.length >= 3000), 'a large manifest among the samples');
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
