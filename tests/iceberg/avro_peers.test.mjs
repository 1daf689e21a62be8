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
    assert.equal(samples.length, 4);
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
