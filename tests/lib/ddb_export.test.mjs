// Tests of the DynamoDB export generator (ddb_export.mjs): what it writes reads back as
// AWS documents it (manifests consistent with each other and with the data files, MD5s
// and ETags right, every line the item it was made from), and the damage helpers damage.
//
//   cd tests && node --test lib/ddb_export.test.mjs

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { LosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

import {
  corruptDataFile, dataFileLines, expectedByKey, fullLine, itemKey, incrementalLines, makeItems, NUMBER_TEXTS, oracleOf, readExport,
  rewriteDataFile, SORT_KEYS, truncateDataFile, typedOf, updatedItem, writeExport,
} from './ddb_export.mjs';
import { compareMap, decimalsEqual } from './ddb_values.mjs';

let root;
before(async () => { root = await mkdtemp(join(tmpdir(), 'ddb-export-test-')); });
after(async () => { await rm(root, { recursive: true, force: true }); });

// Every type DynamoDB has, somewhere in the items (at any depth).
function typesIn(typed, found = new Set()) {
  for (const av of Object.values(typed)) {
    const [type] = Object.keys(av);
    found.add(type);
    if (type === 'M') typesIn(av.M, found);
    if (type === 'L') av.L.forEach((x, i) => typesIn({ [i]: x }, found));
  }
  return found;
}

test('makeItems is deterministic and covers every DynamoDB type and number form', () => {
  const a = makeItems(200, 42, { sortKey: true });
  const b = makeItems(200, 42, { sortKey: true });
  assert.deepEqual(a.map(typedOf), b.map(typedOf));
  assert.notDeepEqual(makeItems(5, 43).map(typedOf), makeItems(5, 42).map(typedOf));
  const types = new Set();
  const numbers = new Set();
  const keys = new Set();
  for (const item of a) {
    const typed = typedOf(item);
    typesIn(typed, types);
    numbers.add(typed.n.N);
    keys.add(`${typed.pk.S}|${typed.sk.N}`);
    assert.ok(Buffer.byteLength(JSON.stringify(typed)) < 64 * 1024, 'items stay far below 400 KB');
  }
  assert.deepEqual([...types].sort(), ['B', 'BOOL', 'BS', 'L', 'M', 'N', 'NS', 'NULL', 'S', 'SS']);
  assert.deepEqual([...numbers].sort(), [...NUMBER_TEXTS].sort(), 'every number form is used');
  assert.equal(keys.size, a.length, 'primary keys are unique');
  assert.deepEqual(new Set(a.map((it) => it.sk.value)), new Set(SORT_KEYS));
  assert.ok(a.some((it) => it.s === '') && a.some((it) => it.b.length === 0), 'empty S and B');
  assert.ok(a.some((it) => /[^\x00-\x7f]/.test(it.pk)), 'unicode in keys');
  const deepest = (v, d = 0) => (v && typeof v === 'object' && !(v instanceof Set) && !(v instanceof Uint8Array) && !('value' in v)
    ? Math.max(d, ...Object.values(v).map((x) => deepest(x, d + 1))) : d);
  assert.ok(Math.max(...a.map((it) => deepest(it.deep))) >= 8, 'maps nested 8 levels');
  // Sets hold distinct members as DynamoDB sees them (NS by decimal value).
  for (const item of a) {
    const ns = [...item.ns].map((v) => v.value);
    for (let i = 0; i < ns.length; ++i) for (let j = i + 1; j < ns.length; ++j) assert.ok(!decimalsEqual(ns[i], ns[j]), ns.join());
  }
});

test('a full export reads back: manifests agree, MD5 and ETag right, lines are the items', async () => {
  const items = makeItems(500, 7);
  const exp = await writeExport(root, { items, filesCount: 4, emptyFiles: 1, s3Prefix: 'backups/2026', seed: 7 });
  assert.equal(exp.exportDir, join(root, 'backups', '2026', 'AWSDynamoDB', exp.exportId));
  assert.match(exp.exportId, /^\d{14}-[0-9a-f]{8}$/);
  await stat(join(exp.exportDir, '_started'));
  const { summary, files, dataFiles } = await readExport(exp.exportDir);

  assert.equal(summary.version, '2020-06-30');
  assert.equal(summary.exportArn, `arn:aws:dynamodb:us-east-1:111122223333:table/orders/export/${exp.exportId}`);
  assert.equal(summary.tableArn, 'arn:aws:dynamodb:us-east-1:111122223333:table/orders');
  assert.equal(summary.exportType, 'FULL_EXPORT');
  assert.equal(summary.outputFormat, 'DYNAMODB_JSON');
  assert.equal(summary.exportTime, '2026-01-02T03:04:05.678Z');
  assert.ok(summary.startTime > summary.exportTime && summary.endTime > summary.startTime);
  assert.equal(summary.s3Prefix, 'backups/2026');
  assert.equal(summary.manifestFilesS3Key, `backups/2026/AWSDynamoDB/${exp.exportId}/manifest-files.json`);
  assert.equal(summary.itemCount, 500);
  assert.ok(!('exportFromTime' in summary) && !('outputView' in summary));

  assert.equal(files.length, 5);
  assert.deepEqual(dataFiles, files.map((f) => f.entry.dataFileS3Key.split('/').pop()).sort());
  assert.equal(files.reduce((n, f) => n + f.entry.itemCount, 0), summary.itemCount);
  assert.deepEqual(files.map((f) => f.entry.itemCount), [125, 125, 125, 125, 0]);
  const back = [];
  for (const f of files) {
    assert.deepEqual(Object.keys(f.entry), ['itemCount', 'md5Checksum', 'etag', 'dataFileS3Key']);
    assert.match(f.entry.dataFileS3Key, new RegExp(`^backups/2026/AWSDynamoDB/${exp.exportId}/data/[a-z2-7]{26}\\.json\\.gz$`));
    assert.ok(f.md5Matches, `${f.path}: MD5`);
    assert.ok(f.etagMatches, `${f.path}: ETag`);
    assert.match(f.entry.etag, /^[0-9a-f]{32}-1$/);
    assert.equal(f.error, null);
    assert.equal(f.lines.length, f.entry.itemCount);
    for (const line of f.lines) {
      assert.deepEqual(Object.keys(line), ['Item']);
      back.push(line.Item);
    }
  }
  // Every item once, in DynamoDB JSON with binary as base64, and the oracle reads it as
  // the value ddb_values compares lakehose's output with.
  assert.deepEqual(back, items.map(typedOf));
  for (let i = 0; i < items.length; i += 37) {
    const oracle = oracleOf(back[i]);
    assert.equal(oracle.pk, items[i].pk);
    assert.equal(oracle.n.value, items[i].n.value, 'numbers keep their text');
    assert.equal(oracle.b, Buffer.from(items[i].b).toString('base64'));
    // The oracle against itself, as lakehose's output would be compared.
    const mismatches = [];
    assert.ok(compareMap(back[i], oracle, oracleAsJson(back[i]), '', mismatches), JSON.stringify(mismatches));
  }
  // The .checksum files hold the manifests' MD5s.
  const md5Hex = async (name) => createHash('md5').update(await readFile(join(exp.exportDir, name))).digest('hex');
  assert.equal(await readFile(join(exp.exportDir, 'manifest-files.checksum'), 'utf8'), await md5Hex('manifest-files.json'));
  assert.equal(await readFile(join(exp.exportDir, 'manifest-summary.checksum'), 'utf8'), await md5Hex('manifest-summary.json'));
});

// The JSON lakehose writes for an image (numbers as JSON numbers, sets as arrays, B as
// base64), built here from the typed image so compareMap can be exercised end to end.
function oracleAsJson(typed) {
  const conv = (av) => {
    const [type] = Object.keys(av);
    const v = av[type];
    switch (type) {
      case 'N': return new LosslessNumber(v);
      case 'NS': return v.map((x) => new LosslessNumber(x));
      case 'NULL': return null;
      case 'M': return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
      case 'L': return v.map(conv);
      default: return v;
    }
  };
  return Object.fromEntries(Object.entries(typed).map(([k, av]) => [k, conv(av)]));
}

test('an incremental export: summary times and view, lines with Metadata/Keys/OldImage/NewImage', async () => {
  const beforeItems = makeItems(60, 11, { sortKey: true });
  const afterItems = beforeItems.slice(10).map((it, i) => (i % 4 === 0 ? updatedItem(it, i) : it))
    .concat(makeItems(8, 12, { sortKey: true }));
  const fromMs = Date.UTC(2026, 5, 1, 10);
  const toMs = fromMs + 3600_000;
  for (const view of ['NEW_AND_OLD_IMAGES', 'NEW_IMAGE']) {
    const inc = incrementalLines({ before: beforeItems, after: afterItems, keyNames: ['pk', 'sk'], fromMs, toMs, view, seed: 3 });
    assert.deepEqual([inc.inserted, inc.updated, inc.deleted], [8, 13, 10]);
    const exp = await writeExport(root, { type: 'incremental', lines: inc.lines, filesCount: 3, fromTime: fromMs, toTime: toMs, outputView: view, seed: view.length });
    const { summary, files } = await readExport(exp.exportDir);
    assert.equal(summary.version, '2023-08-01');
    assert.equal(summary.exportType, 'INCREMENTAL_EXPORT');
    assert.equal(summary.exportFromTime, '2026-06-01T10:00:00.000Z');
    assert.equal(summary.exportToTime, '2026-06-01T11:00:00.000Z');
    assert.equal(summary.outputView, view);
    assert.ok(!('exportTime' in summary));
    assert.equal(summary.itemCount, 31);
    const lines = files.flatMap((f) => { assert.ok(f.md5Matches); return f.lines; });
    assert.equal(lines.length, 31);
    const kinds = { insert: 0, update: 0, delete: 0 };
    for (const line of lines) {
      const micros = BigInt(line.Metadata.WriteTimestampMicros.N);
      assert.ok(micros >= BigInt(fromMs) * 1000n && micros < BigInt(toMs) * 1000n, `${micros} in the window`);
      assert.deepEqual(Object.keys(line.Keys).sort(), ['pk', 'sk']);
      if (line.NewImage) {
        assert.deepEqual(line.Keys, { pk: line.NewImage.pk, sk: line.NewImage.sk });
        kinds[line.OldImage || beforeItems.some((it) => it.pk === line.Keys.pk.S && it.sk.value === line.Keys.sk.N) ? 'update' : 'insert']++;
      } else {
        kinds.delete++;
      }
      if (view === 'NEW_IMAGE') assert.ok(!('OldImage' in line), 'NEW_IMAGE: no OldImage');
      else if (line.OldImage) assert.deepEqual(line.Keys, { pk: line.OldImage.pk, sk: line.OldImage.sk });
    }
    assert.deepEqual(kinds, { insert: 8, update: 13, delete: 10 });
  }
  await assert.rejects(writeExport(root, { type: 'incremental', items: beforeItems }), /incrementalLines/);
});

test('damage: a flipped byte changes the MD5, a truncated file no longer gunzips, a rewrite keeps the count', async () => {
  const items = makeItems(90, 5);
  const exp = await writeExport(root, { items, filesCount: 3, seed: 5 });
  const damage = await corruptDataFile(exp.exportDir, 1);
  assert.notEqual(damage.before, damage.after);
  assert.equal(damage.before, exp.files[1].md5);
  let back = await readExport(exp.exportDir);
  assert.deepEqual(back.files.map((f) => f.md5Matches), [true, false, true]);

  const cut = await truncateDataFile(exp.exportDir, 2);
  assert.ok(cut.to < cut.from);
  back = await readExport(exp.exportDir);
  assert.equal(back.files[2].md5Matches, false);
  assert.notEqual(back.files[2].error, null, 'a truncated gzip does not inflate');

  // A line dropped with the checksums fixed: the MD5 matches, the count does not.
  const lines = await dataFileLines(exp.exportDir, 0);
  const entry = await rewriteDataFile(exp.exportDir, 0, lines.slice(1));
  back = await readExport(exp.exportDir);
  assert.ok(back.files[0].md5Matches);
  assert.equal(entry.itemCount, 30);
  assert.equal(back.files[0].lines.length, 29);
});

test('expectedByKey finds each item from a lakehose-like row, keys compared as decimals', () => {
  const items = makeItems(40, 13, { sortKey: true });
  const expected = expectedByKey(items, ['pk', 'sk']);
  assert.equal(expected.size, 40);
  for (const item of items) {
    const typed = typedOf(item);
    // The row as lakehose writes it, parsed by lossless-json; the sort key respelled.
    const sk = new LosslessNumber(item.sk.value === '0' ? '0.0' : item.sk.value);
    const row = losslessParse(losslessStringify({ ...oracleAsJson(typed), sk }));
    const hit = expected.get(itemKey(row, ['pk', 'sk']));
    assert.ok(hit, itemKey(row, ['pk', 'sk']));
    assert.deepEqual(hit.typed, typed);
    const mismatches = [];
    assert.ok(compareMap(hit.typed, hit.oracle, row, '', mismatches), JSON.stringify(mismatches));
  }
  assert.throws(() => expectedByKey([items[0], items[0]], ['pk', 'sk']), /two items/);
});

test('gzipMembers: a data file of several gzip members inflates to every line', async () => {
  const items = makeItems(40, 8);
  const exp = await writeExport(root, { items, filesCount: 2, gzipMembers: 3, seed: 8 });
  const bytes = await readFile(exp.files[0].path);
  let members = 0;
  for (let i = 0; i + 2 < bytes.length; ++i) if (bytes[i] === 0x1f && bytes[i + 1] === 0x8b && bytes[i + 2] === 8) members++;
  assert.ok(members >= 3, `${members} gzip headers`);
  const { files } = await readExport(exp.exportDir);
  assert.deepEqual(files.map((f) => [f.md5Matches, f.lines.length]), [[true, 20], [true, 20]]);
  assert.deepEqual(files.flatMap((f) => f.lines.map((l) => l.Item)), items.map(typedOf));
});

test('options: no exportType (older summaries), zero-byte empty files, ION named', async () => {
  const exp = await writeExport(root, { lines: [fullLine({ pk: 'only' })], emptyFiles: 2, emptyFileForm: 'zero-bytes', omitExportType: true, outputFormat: 'ION', seed: 9 });
  const { summary, files } = await readExport(exp.exportDir);
  assert.ok(!('exportType' in summary));
  assert.equal(summary.outputFormat, 'ION');
  assert.deepEqual(files.map((f) => [f.entry.itemCount, f.md5Matches, f.lines.length]), [[1, true, 1], [0, true, 0], [0, true, 0]]);
  assert.equal((await stat(files[1].path)).size, 0);
  assert.equal(files[1].entry.md5Checksum, '1B2M2Y8AsgTpgAmY7PhCfg==', 'MD5 of nothing');
});
