// JSON Schemas of the Iceberg REST catalog requests, transcribed by hand from the
// components of apache/iceberg open-api/rest-catalog-open-api.yaml (OpenAPI 3.1), for the
// fake catalog in rest_catalog.mjs. Usage:
//
//   import { validatorFor } from './rest_catalog_schemas.mjs';
//   const check = validatorFor('CreateTableRequest');
//   check(body)  // -> { ok, errors: 'ajv error text' | null, unknownFields: 'text' | null }
//
// What follows the spec to the letter: `required`, `enum`, `const`, types, the int/long
// split (the spec's `integer` without a format is an Iceberg int, `format: int64` a long),
// nullable fields (written as a type list). Where the transcription departs, on purpose:
//   - allOf is flattened (Schema = StructType + schema-id + identifier-field-ids;
//     SetSnapshotRefUpdate = BaseUpdate + SnapshotReference + ref-name): same meaning,
//     and it lets the strict twin below see every property of an object.
//   - Type: the spec's oneOf [VariantType (const "variant"), PrimitiveType (any string),
//     struct, list, map] matches "variant" twice, so a oneOf validator refuses it; here a
//     primitive is one string matching the table spec's primitive type names (with v3's
//     variant, unknown, timestamp_ns, geometry and geography), which is stricter.
//   - PrimitiveTypeValue (initial-default, write-default): the spec's oneOf of sixteen
//     overlapping types refuses every integer (int and long both match); here any JSON
//     boolean, number or string.
//   - TableUpdate and TableRequirement are dispatched on `action` / `type` by the caller
//     (UPDATE_SCHEMAS, REQUIREMENT_SCHEMAS): an unknown discriminator value is then its
//     own clear error (the spec requires a 400 for it) instead of twenty anyOf failures.
//
// The spec leaves objects open (no additionalProperties: false), as Java's parsers are:
// they ignore unknown fields. validatorFor therefore also compiles a strict twin of each
// schema (every object with `properties` closed, maps left open) and reports what only the
// twin refuses as `unknownFields`: a misspelt optional field ("snapshot_id") would
// otherwise pass silently. The fake records it as a violation but serves the request.

import Ajv from 'ajv';

const int = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
// A JSON double cannot hold every long; the fake also checks longs exactly on its
// lossless parse (see rest_catalog.mjs). Here: an integer within the double's view of the
// long range.
const long = { type: 'integer', minimum: -9223372036854775808, maximum: 9223372036854775807 };
const str = { type: 'string' };
const bool = { type: 'boolean' };
const stringMap = { type: 'object', additionalProperties: str };
const ref = (name) => ({ $ref: `#/$defs/${name}` });
const obj = (properties, required = []) => ({ type: 'object', required, properties });

// The table spec's primitive types (Schemas and Data Types), as Java spells and parses
// them: decimal(P, S) with optional spaces, fixed[L].
const PRIMITIVE_TYPE = '^(boolean|int|long|float|double|date|time|timestamp|timestamptz|timestamp_ns|timestamptz_ns|string|uuid|binary|variant|unknown|decimal\\(\\s*\\d+\\s*,\\s*\\d+\\s*\\)|fixed\\[\\s*\\d+\\s*\\]|geometry(\\(.*\\))?|geography(\\(.*\\))?)$';
// Partition and sort transforms of the table spec.
const TRANSFORM = '^(identity|year|month|day|hour|void|bucket\\[\\d+\\]|truncate\\[\\d+\\])$';

const defs = {
  Namespace: { type: 'array', items: str },
  TableIdentifier: obj({ namespace: ref('Namespace'), name: str }, ['namespace', 'name']),
  PrimitiveType: { type: 'string', pattern: PRIMITIVE_TYPE },
  PrimitiveTypeValue: { type: ['boolean', 'number', 'string'] },
  StructField: obj({
    id: int, name: str, type: ref('Type'), required: bool, doc: str,
    'initial-default': ref('PrimitiveTypeValue'), 'write-default': ref('PrimitiveTypeValue'),
  }, ['id', 'name', 'type', 'required']),
  StructType: obj({ type: { const: 'struct' }, fields: { type: 'array', items: ref('StructField') } }, ['type', 'fields']),
  ListType: obj({ type: { const: 'list' }, 'element-id': int, element: ref('Type'), 'element-required': bool },
    ['type', 'element-id', 'element', 'element-required']),
  MapType: obj({
    type: { const: 'map' }, 'key-id': int, key: ref('Type'), 'value-id': int, value: ref('Type'), 'value-required': bool,
  }, ['type', 'key-id', 'key', 'value-id', 'value', 'value-required']),
  Type: { oneOf: [ref('PrimitiveType'), ref('StructType'), ref('ListType'), ref('MapType')] },
  Schema: obj({
    type: { const: 'struct' }, fields: { type: 'array', items: ref('StructField') },
    'schema-id': int, 'identifier-field-ids': { type: 'array', items: int },
  }, ['type', 'fields']),
  Transform: { type: 'string', pattern: TRANSFORM },
  PartitionField: obj({ 'field-id': int, 'source-id': int, name: str, transform: ref('Transform') }, ['source-id', 'transform', 'name']),
  PartitionSpec: obj({ 'spec-id': int, fields: { type: 'array', items: ref('PartitionField') } }, ['fields']),
  SortField: obj({
    'source-id': int, transform: ref('Transform'),
    direction: { enum: ['asc', 'desc'] }, 'null-order': { enum: ['nulls-first', 'nulls-last'] },
  }, ['source-id', 'transform', 'direction', 'null-order']),
  SortOrder: obj({ 'order-id': int, fields: { type: 'array', items: ref('SortField') } }, ['order-id', 'fields']),
  Snapshot: obj({
    'snapshot-id': long, 'parent-snapshot-id': long, 'sequence-number': long, 'timestamp-ms': long,
    'manifest-list': str, 'first-row-id': long, 'added-rows': long,
    summary: {
      type: 'object', required: ['operation'],
      properties: { operation: { enum: ['append', 'replace', 'overwrite', 'delete'] } },
      additionalProperties: str,
    },
    'schema-id': int,
  }, ['snapshot-id', 'timestamp-ms', 'manifest-list', 'summary']),
  EncryptedKey: obj({ 'key-id': str, 'encrypted-key-metadata': str, 'encrypted-by-id': str, properties: stringMap },
    ['key-id', 'encrypted-key-metadata']),
  BlobMetadata: obj({ type: str, 'snapshot-id': long, 'sequence-number': long, fields: { type: 'array', items: int }, properties: stringMap },
    ['type', 'snapshot-id', 'sequence-number', 'fields']),
  StatisticsFile: obj({
    'snapshot-id': long, 'statistics-path': str, 'file-size-in-bytes': long, 'file-footer-size-in-bytes': long,
    'blob-metadata': { type: 'array', items: ref('BlobMetadata') },
  }, ['snapshot-id', 'statistics-path', 'file-size-in-bytes', 'file-footer-size-in-bytes', 'blob-metadata']),
  PartitionStatisticsFile: obj({ 'snapshot-id': long, 'statistics-path': str, 'file-size-in-bytes': long },
    ['snapshot-id', 'statistics-path', 'file-size-in-bytes']),
  // Every element of `requirements` / `updates` first; the variant is checked by the caller.
  // Open in the strict twin too: the variant's own schema judges the other fields.
  TableRequirementBase: { ...obj({ type: str }, ['type']), additionalProperties: true },
  TableUpdateBase: { ...obj({ action: str }, ['action']), additionalProperties: true },
};
const snapshotReferenceFields = {
  type: { enum: ['tag', 'branch'] }, 'snapshot-id': long,
  'max-ref-age-ms': long, 'max-snapshot-age-ms': long, 'min-snapshots-to-keep': int,
};
defs.SnapshotReference = obj(snapshotReferenceFields, ['type', 'snapshot-id']);

const update = (action, properties, required) => obj({ action: { const: action }, ...properties }, ['action', ...required]);
// TableUpdate's anyOf, one schema per `action` (BaseUpdate's discriminator mapping).
export const UPDATE_SCHEMAS = {
  'assign-uuid': update('assign-uuid', { uuid: str }, ['uuid']),
  'upgrade-format-version': update('upgrade-format-version', { 'format-version': int }, ['format-version']),
  'add-schema': update('add-schema', { schema: ref('Schema'), 'last-column-id': int }, ['schema']),
  'set-current-schema': update('set-current-schema', { 'schema-id': int }, ['schema-id']),
  'add-spec': update('add-spec', { spec: ref('PartitionSpec') }, ['spec']),
  'set-default-spec': update('set-default-spec', { 'spec-id': int }, ['spec-id']),
  'add-sort-order': update('add-sort-order', { 'sort-order': ref('SortOrder') }, ['sort-order']),
  'set-default-sort-order': update('set-default-sort-order', { 'sort-order-id': int }, ['sort-order-id']),
  'add-snapshot': update('add-snapshot', { snapshot: ref('Snapshot') }, ['snapshot']),
  'set-snapshot-ref': update('set-snapshot-ref', { 'ref-name': str, ...snapshotReferenceFields }, ['ref-name', 'type', 'snapshot-id']),
  'remove-snapshots': update('remove-snapshots', { 'snapshot-ids': { type: 'array', items: long } }, ['snapshot-ids']),
  'remove-snapshot-ref': update('remove-snapshot-ref', { 'ref-name': str }, ['ref-name']),
  'set-location': update('set-location', { location: str }, ['location']),
  'set-properties': update('set-properties', { updates: stringMap }, ['updates']),
  'remove-properties': update('remove-properties', { removals: { type: 'array', items: str } }, ['removals']),
  'set-statistics': update('set-statistics', { 'snapshot-id': long, statistics: ref('StatisticsFile') }, ['statistics']),
  'remove-statistics': update('remove-statistics', { 'snapshot-id': long }, ['snapshot-id']),
  'set-partition-statistics': update('set-partition-statistics', { 'partition-statistics': ref('PartitionStatisticsFile') }, ['partition-statistics']),
  'remove-partition-statistics': update('remove-partition-statistics', { 'snapshot-id': long }, ['snapshot-id']),
  'remove-partition-specs': update('remove-partition-specs', { 'spec-ids': { type: 'array', items: int } }, ['spec-ids']),
  'remove-schemas': update('remove-schemas', { 'schema-ids': { type: 'array', items: int } }, ['schema-ids']),
  'add-encryption-key': update('add-encryption-key', { 'encryption-key': ref('EncryptedKey') }, ['encryption-key']),
  'remove-encryption-key': update('remove-encryption-key', { 'key-id': str }, ['key-id']),
};

const requirement = (type, properties, required) => obj({ type: { const: type }, ...properties }, ['type', ...required]);
// TableRequirement's discriminator mapping, one schema per `type`.
export const REQUIREMENT_SCHEMAS = {
  'assert-create': requirement('assert-create', {}, []),
  'assert-table-uuid': requirement('assert-table-uuid', { uuid: str }, ['uuid']),
  // snapshot-id is required but nullable: null means the ref must not exist.
  'assert-ref-snapshot-id': requirement('assert-ref-snapshot-id', { ref: str, 'snapshot-id': { ...long, type: ['integer', 'null'] } }, ['ref', 'snapshot-id']),
  'assert-last-assigned-field-id': requirement('assert-last-assigned-field-id', { 'last-assigned-field-id': int }, ['last-assigned-field-id']),
  'assert-current-schema-id': requirement('assert-current-schema-id', { 'current-schema-id': int }, ['current-schema-id']),
  'assert-last-assigned-partition-id': requirement('assert-last-assigned-partition-id', { 'last-assigned-partition-id': int }, ['last-assigned-partition-id']),
  'assert-default-spec-id': requirement('assert-default-spec-id', { 'default-spec-id': int }, ['default-spec-id']),
  'assert-default-sort-order-id': requirement('assert-default-sort-order-id', { 'default-sort-order-id': int }, ['default-sort-order-id']),
};

// The request bodies the fake accepts.
export const REQUEST_SCHEMAS = {
  CreateNamespaceRequest: obj({ namespace: ref('Namespace'), properties: stringMap }, ['namespace']),
  CreateTableRequest: obj({
    name: str, location: str, schema: ref('Schema'), 'partition-spec': ref('PartitionSpec'),
    'write-order': ref('SortOrder'), 'stage-create': bool, properties: stringMap,
  }, ['name', 'schema']),
  CommitTableRequest: obj({
    identifier: ref('TableIdentifier'),
    requirements: { type: 'array', items: ref('TableRequirementBase') },
    updates: { type: 'array', items: ref('TableUpdateBase') },
  }, ['requirements', 'updates']),
  // OAuthTokenRequest's anyOf, split by grant_type by the caller.
  OAuthClientCredentialsRequest: obj({
    grant_type: { enum: ['client_credentials'] }, scope: str, client_id: str, client_secret: str,
  }, ['grant_type', 'client_id', 'client_secret']),
  OAuthTokenExchangeRequest: obj({
    grant_type: { enum: ['urn:ietf:params:oauth:grant-type:token-exchange'] }, scope: str,
    requested_token_type: ref('TokenType'), subject_token: str, subject_token_type: ref('TokenType'),
    actor_token: str, actor_token_type: ref('TokenType'),
  }, ['grant_type', 'subject_token', 'subject_token_type']),
};
defs.TokenType = {
  enum: ['urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:refresh_token',
    'urn:ietf:params:oauth:token-type:id_token', 'urn:ietf:params:oauth:token-type:saml1',
    'urn:ietf:params:oauth:token-type:saml2', 'urn:ietf:params:oauth:token-type:jwt'],
};

// What the fake answers, for its own tests and the suites' checks of what they read.
export const RESPONSE_SCHEMAS = {
  TableMetadata: obj({
    'format-version': { type: 'integer', minimum: 1, maximum: 3 }, 'table-uuid': str, location: str,
    'last-updated-ms': long, 'next-row-id': long, properties: stringMap,
    schemas: { type: 'array', items: ref('Schema') }, 'current-schema-id': int, 'last-column-id': int,
    'partition-specs': { type: 'array', items: ref('PartitionSpec') }, 'default-spec-id': int, 'last-partition-id': int,
    'sort-orders': { type: 'array', items: ref('SortOrder') }, 'default-sort-order-id': int,
    'encryption-keys': { type: 'array', items: ref('EncryptedKey') },
    snapshots: { type: 'array', items: ref('Snapshot') },
    refs: { type: 'object', additionalProperties: ref('SnapshotReference') },
    // Java 1.11 writes null for a v3 table with no current snapshot (-1 up to v2).
    'current-snapshot-id': { ...long, type: ['integer', 'null'] }, 'last-sequence-number': long,
    'snapshot-log': { type: 'array', items: obj({ 'snapshot-id': long, 'timestamp-ms': long }, ['snapshot-id', 'timestamp-ms']) },
    'metadata-log': { type: 'array', items: obj({ 'metadata-file': str, 'timestamp-ms': long }, ['metadata-file', 'timestamp-ms']) },
    statistics: { type: 'array', items: ref('StatisticsFile') },
    'partition-statistics': { type: 'array', items: ref('PartitionStatisticsFile') },
  }, ['format-version', 'table-uuid']),
  CatalogConfig: obj({
    overrides: stringMap, defaults: stringMap, endpoints: { type: 'array', items: str }, 'idempotency-key-lifetime': str,
  }, ['defaults', 'overrides']),
  IcebergErrorResponse: {
    type: 'object', required: ['error'], additionalProperties: false,
    properties: {
      error: obj({ message: str, type: str, code: { type: 'integer', minimum: 400, maximum: 600 }, stack: { type: 'array', items: str } },
        ['message', 'type', 'code']),
    },
  },
  OAuthTokenResponse: obj({
    access_token: str, token_type: { enum: ['bearer', 'mac', 'N_A'] }, expires_in: { type: 'integer' },
    issued_token_type: ref('TokenType'), refresh_token: str, scope: str,
  }, ['access_token', 'token_type']),
};
RESPONSE_SCHEMAS.LoadTableResult = obj({
  'metadata-location': { type: ['string', 'null'] }, metadata: ref('TableMetadata'), config: stringMap,
}, ['metadata']);
RESPONSE_SCHEMAS.CommitTableResponse = obj({ 'metadata-location': str, metadata: ref('TableMetadata') }, ['metadata-location', 'metadata']);
defs.TableMetadata = RESPONSE_SCHEMAS.TableMetadata;

// The strict twin: every object schema that lists `properties` and says nothing of
// additional ones is closed. Maps (additionalProperties given) stay as they are.
function closed(schema) {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'properties'
    ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closed(s)]))
    : closed(v)]));
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function compiler(strict) {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  const shared = strict ? closed(defs) : defs;
  return (schema) => ajv.compile({ $defs: shared, ...(strict ? closed(schema) : schema) });
}
const open = compiler(false);
const shut = compiler(true);

const ALL = { ...REQUEST_SCHEMAS, ...RESPONSE_SCHEMAS };
const cache = new Map();

// Returns check(value) -> { ok, errors, unknownFields } for a schema named in
// REQUEST_SCHEMAS or RESPONSE_SCHEMAS, or given as `update:<action>` /
// `requirement:<type>`. `errors` and `unknownFields` are ajv's error text or null.
export function validatorFor(name) {
  if (cache.has(name)) return cache.get(name);
  let schema;
  if (name.startsWith('update:')) schema = UPDATE_SCHEMAS[name.slice(7)];
  else if (name.startsWith('requirement:')) schema = REQUIREMENT_SCHEMAS[name.slice(12)];
  else schema = ALL[name];
  if (!schema) throw new Error(`no schema ${name}`);
  const v = open(schema);
  const s = shut(schema);
  const text = (fn) => fn.errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`).join('; ');
  const check = (value) => {
    if (!v(value)) return { ok: false, errors: text(v), unknownFields: null };
    return { ok: true, errors: null, unknownFields: s(value) ? null : text(s) };
  };
  cache.set(name, check);
  return check;
}
