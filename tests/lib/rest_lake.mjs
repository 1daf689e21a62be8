// An Iceberg table behind the fake REST catalog (rest_catalog.mjs) whose files live in the
// verifying S3 front's bucket (s3_front.mjs), as Amazon S3 Tables keeps them: the catalog
// owns the metadata JSON, lakehose writes the data files, manifests and manifest lists at
// the location the catalog gives. For the suites of lakehose's REST catalog client.
//
//   const lake = await startRestLake({ dir, auth: sigv4Auth() });
//   writeFileSync(cfg, restConfigYaml({ dataDir, writerId: 'w0', endpoint: lake.front.endpoint,
//     catalog: { uri: lake.cat.url, warehouse: WAREHOUSE, auth: { sigv4: { service: 's3tables' } } } }));
//   ... lakehose-server on cfg ...
//   const { tableDir } = await lake.download(lakeDir);   // then checkTable(tableDir, conn, { rest: true })
//   await lake.close();
//
// The catalog's metadata files are written straight into s3rver (not through the front:
// the front's statistics stay lakehose's), so that the bucket holds the whole table and
// readers (icebird, checkTable, `lakehose table inspect`) find the metadata where the
// catalog's metadata-location says. Used from one Node thread.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import YAML from 'yaml';

import { decodeIdentities, mirrorS3 } from './iceberg.mjs';
import { downloadBucket } from './lake.mjs';
import { startRestCatalog } from './rest_catalog.mjs';
import { TEST_CREDENTIALS, TEST_REGION, startS3Front, uriEncode } from './s3_front.mjs';

// An S3 Tables table bucket's ARN (the warehouse) and the prefix its catalog answers.
export const WAREHOUSE = 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake';
export const WAREHOUSE_PREFIX = encodeURIComponent(WAREHOUSE);
const BUCKET = 'lake';
const WAREHOUSE_ROOT = 'wh';
const METADATA_PUT_TIMEOUT_MS = 10_000;

// The fake catalog's auth option for SigV4 with the test credentials (those the server
// gets from serverEnv) under `service`.
export const sigv4Auth = (service = 's3tables') => ({ sigv4: { service, region: TEST_REGION, ...TEST_CREDENTIALS } });

// The S3 front (faults: `frontFaults`) and the fake catalog (`catalog`: more
// startRestCatalog options; auth is required) over one bucket; tables at
// s3://lake/wh/<namespace...>/<name>. Resolves { front, cat, download(lakeDir), close() }.
export async function startRestLake({ dir = undefined, auth, frontFaults = {}, catalog = {} }) {
  const front = await startS3Front({ ...(dir ? { s3rverDir: dir } : {}), bucket: BUCKET, faults: frontFaults });
  let cat;
  try {
    cat = await startRestCatalog({
      auth,
      warehouse: WAREHOUSE,
      prefix: WAREHOUSE_PREFIX,
      location: (ns, name) => `s3://${BUCKET}/${WAREHOUSE_ROOT}/${ns.join('/')}/${name}`,
      writeMetadata: (uri, text) => putIntoS3rver(front, uri, text),
      ...catalog,
    });
  } catch (err) {
    await front.close();
    throw err;
  }
  return {
    front,
    cat,
    // Replaces lakeDir with a copy of the bucket and reads s3://lake from it (mirrorS3).
    // Resolves { keys, tableDir(ns, name) }.
    async download(lakeDir) {
      const keys = await downloadBucket(front, lakeDir);
      mirrorS3(`s3://${BUCKET}`, lakeDir);
      return { keys, tableDir: (ns, name) => [lakeDir, WAREHOUSE_ROOT, ...ns, name].join('/') };
    },
    async close() {
      await cat.close();
      await front.close();
    },
  };
}

// The catalog's writeMetadata: a PUT to s3rver itself (it takes unsigned requests).
async function putIntoS3rver(front, uri, text) {
  const prefix = `s3://${front.bucket}/`;
  assert.ok(uri.startsWith(prefix), `metadata ${uri} outside the bucket ${front.bucket}`);
  const key = uri.slice(prefix.length);
  const url = `${front.s3rverEndpoint}/${front.bucket}/${key.split('/').map(uriEncode).join('/')}`;
  const r = await fetch(url, { method: 'PUT', body: text, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(METADATA_PUT_TIMEOUT_MS) });
  if (r.status !== 200) throw new Error(`s3rver PUT ${key}: ${r.status} ${await r.text()}`);
}

// A config with one dynamodb-stream pipeline writing the Iceberg table `table` through a
// REST catalog: destination kind s3 with no bucket (the catalog's location), the front at
// `endpoint`; partitioned by region. catalog: { uri, warehouse, auth (the YAML's auth
// map, e.g. { sigv4: { service: 's3tables' } }), create?, requestTimeoutS? }.
// serverLines: extra keys under `server:` as an object.
export function restConfigYaml({
  dataDir, writerId, pipeline = 'tx', endpoint, table = 'sales.orders', catalog, sizeMb = 1, intervalS = 1,
  commitIntervalS = 1, server = {},
}) {
  const cat = { kind: 'rest', uri: catalog.uri, warehouse: catalog.warehouse ?? WAREHOUSE };
  if (catalog.auth) cat.auth = catalog.auth;
  if (catalog.create) cat.create = catalog.create;
  if (catalog.requestTimeoutS !== undefined) cat.request_timeout_s = catalog.requestTimeoutS;
  return YAML.stringify({
    server: { data_dir: dataDir, writer_id: writerId, ...server },
    pipelines: [{
      name: pipeline,
      input: 'dynamodb-stream',
      image: 'new-or-old',
      metadata: ['eventID', 'eventName'],
      partition_keys: { region: { attribute: 'region', default: 'unknown' } },
      destination: {
        kind: 's3',
        endpoint,
        force_path_style: true,
        region: TEST_REGION,
        format: 'iceberg',
        buffering: { size_mb: sizeMb, interval_s: intervalS },
        iceberg: { table, commit_interval_s: commitIntervalS, catalog: cat },
      },
    }],
  });
}

// A fetch for iceberg-js (IcebergRestCatalog's `fetch`) that signs every request with
// SigV4 as an AWS SDK does for a service other than S3 (x-amz-content-sha256 signed),
// each bounded by timeoutMs. `sigv4`: { service, region, accessKeyId, secretAccessKey }.
export function sigv4Fetch(sigv4, timeoutMs = 10_000) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: sigv4.accessKeyId, secretAccessKey: sigv4.secretAccessKey },
    region: sigv4.region, service: sigv4.service, sha256: Hash.bind(null, 'sha256'),
  });
  return async (input, init = {}) => {
    const url = new URL(input);
    const payload = init.body === undefined ? Buffer.alloc(0) : Buffer.from(init.body);
    const headers = { host: url.host, 'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex') };
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
    const signed = await signer.sign({
      method: init.method ?? 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port),
      path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body: payload,
    });
    const out = { ...signed.headers };
    delete out.host;
    return fetch(input, { ...init, headers: out, signal: AbortSignal.timeout(timeoutMs) });
  };
}


// Asserts that no object identity of a writer is in two snapshots of `metadata`
// (lakehose.objects of every snapshot, per lakehose.writer-id). Returns the number of
// identities.
export function assertIdentitiesOnce(metadata) {
  const seen = new Map();  // writer \0 identity -> snapshot id
  for (const s of metadata.snapshots) {
    const writer = s.summary?.['lakehose.writer-id'];
    assert.ok(writer, `snapshot ${s['snapshot-id']}: no lakehose.writer-id`);
    const ids = decodeIdentities(s.summary['lakehose.objects']);
    assert.ok(ids.length > 0, `snapshot ${s['snapshot-id']}: no lakehose.objects`);
    for (const id of ids) {
      const key = `${writer}\0${id}`;
      assert.ok(!seen.has(key), `object ${id} of ${writer} is in snapshots ${seen.get(key)} and ${s['snapshot-id']}`);
      seen.set(key, String(s['snapshot-id']));
    }
  }
  return seen.size;
}

// The records the current snapshot holds by its summary (total-records), 0 when none.
export function currentTotalRecords(metadata) {
  const id = metadata['current-snapshot-id'];
  if (id === null || id === undefined || String(id) === '-1') return 0;
  const s = metadata.snapshots.find((x) => String(x['snapshot-id']) === String(id));
  assert.ok(s, `current snapshot ${id} is not in the metadata`);
  return Number(s.summary['total-records']);
}
