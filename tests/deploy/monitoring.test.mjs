// The Grafana dashboard and the Prometheus alert rules of deploy/:
//  - deploy/grafana/lakehose-dashboard.json parses, is a dashboard Grafana imports
//    (schemaVersion, datasource variable DS_PROMETHEUS, pipeline variable, unique panel ids,
//    grid positions), every panel has a query, and every query references only the metric
//    families of metric_families.mjs, with their labels and label values; the queries are
//    valid PromQL (given to `promtool check rules` as recording rules) when promtool is
//    installed;
//  - deploy/prometheus/alerts.yaml uses only listed families the same way, every alert has
//    a severity, summary, description and runbook, and alerts_test.yaml makes every alert
//    fire at least once and checks at least one case where nothing fires.
//
//   node tests/deploy/monitoring.test.mjs [--promtool PATH]
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import YAML from 'yaml';

import { checkExpr, METRIC_FAMILIES } from '../lib/metric_families.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const { values: args } = parseArgs({ options: { promtool: { type: 'string', default: 'promtool' } } });

const DASHBOARD = join(REPO, 'deploy/grafana/lakehose-dashboard.json');
const ALERTS = join(REPO, 'deploy/prometheus/alerts.yaml');
const ALERTS_TEST = join(REPO, 'deploy/prometheus/alerts_test.yaml');

function havePromtool() {
  const r = spawnSync(args.promtool, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0;
}

// Every panel, rows' nested panels included.
function allPanels(dashboard) {
  const out = [];
  const walk = (list) => {
    for (const p of list ?? []) {
      out.push(p);
      if (Array.isArray(p.panels)) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

// Grafana's variables replaced by values PromQL accepts, for syntax checking.
function concreteExpr(expr) {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '6h')
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, '.*');
}

const dashboardText = readFileSync(DASHBOARD, 'utf8');

test('the metric list itself is well formed', () => {
  const names = Object.keys(METRIC_FAMILIES);
  assert.ok(names.length >= 30, `expected the full list of families, got ${names.length}`);
  for (const [name, spec] of Object.entries(METRIC_FAMILIES)) {
    assert.match(name, /^lakehose_[a-z0-9_]+$/, name);
    assert.ok(['counter', 'gauge', 'histogram'].includes(spec.type), `${name}: type`);
    if (spec.type === 'counter') assert.ok(name.endsWith('_total'), `${name}: counters end in _total`);
  }
  // The checker catches what it is meant to catch.
  assert.deepEqual(checkExpr('rate(lakehose_records_total{result="ok"}[5m])'), []);
  assert.ok(checkExpr('rate(lakehose_record_total[5m])').some((p) => p.includes('unknown metric')));
  assert.ok(checkExpr('lakehose_request_duration_seconds').length > 0, 'a histogram is used through _bucket/_sum/_count');
  assert.ok(checkExpr('rate(lakehose_records_total{result="failed"}[5m])').some((p) => p.includes('not one of')));
  assert.ok(checkExpr('rate(lakehose_records_total{outcome="ok"}[5m])').some((p) => p.includes('no label outcome')));
  assert.ok(checkExpr('sum(rate(node_cpu_seconds_total[5m]))').some((p) => p.includes('no lakehose metric')));
  assert.deepEqual(checkExpr('rate(lakehose_s3_requests_total{outcome=~"server_error|client_error"}[5m])'), []);
  assert.ok(checkExpr('rate(lakehose_s3_requests_total{outcome=~"server_error|eror"}[5m])').length > 0);
  assert.deepEqual(checkExpr('count(lakehose_records_total{pipeline=~"lakehose_not_a_metric"})'), [], 'names inside strings are not metrics');
});

test('dashboard: a Grafana dashboard with a datasource and a pipeline variable', () => {
  const d = JSON.parse(dashboardText);
  assert.equal(typeof d.title, 'string');
  assert.ok(d.uid && d.uid.length <= 40, 'uid (at most 40 characters)');
  assert.ok(d.schemaVersion >= 36 && d.schemaVersion <= 41, `schemaVersion ${d.schemaVersion}`);
  const vars = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, v]));
  assert.equal(vars.DS_PROMETHEUS?.type, 'datasource', 'a datasource variable DS_PROMETHEUS');
  assert.equal(vars.DS_PROMETHEUS.query, 'prometheus');
  assert.equal(vars.pipeline?.type, 'query', 'a pipeline variable');
  assert.ok(vars.pipeline.includeAll && vars.pipeline.multi, 'pipeline: multi-value with All');
  for (const v of Object.values(vars)) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const inner = q.match(/^label_values\((.*),\s*[a-z_]+\)$/);
    assert.ok(inner, `variable ${v.name}: label_values(selector, label)`);
    assert.deepEqual(checkExpr(inner[1]), [], `variable ${v.name}: ${q}`);
    assert.equal(v.datasource?.uid, '${DS_PROMETHEUS}', `variable ${v.name} uses the datasource variable`);
  }
});

test('dashboard: every panel has a query on the listed metric families', () => {
  const d = JSON.parse(dashboardText);
  const panels = allPanels(d);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const content = panels.filter((p) => p.type !== 'row');
  assert.ok(content.length >= 20, `a full dashboard, got ${content.length} panels`);
  const problems = [];
  const used = new Set();
  for (const p of panels) {
    const g = p.gridPos;
    assert.ok(g && Number.isInteger(g.x) && Number.isInteger(g.y) && g.w > 0 && g.h > 0 && g.x + g.w <= 24,
      `panel ${p.id} "${p.title}": gridPos inside the 24-column grid`);
    if (p.type === 'row') continue;
    assert.ok(p.title, `panel ${p.id}: a title`);
    assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `panel "${p.title}": datasource is \${DS_PROMETHEUS}`);
    assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `panel "${p.title}": at least one target`);
    const refIds = p.targets.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `panel "${p.title}": unique refIds`);
    for (const t of p.targets) {
      assert.ok(typeof t.expr === 'string' && t.expr.trim().length > 0, `panel "${p.title}" ${t.refId}: an expr`);
      for (const problem of checkExpr(t.expr)) problems.push(`panel "${p.title}" ${t.refId}: ${problem}\n    ${t.expr}`);
      for (const m of t.expr.matchAll(/\blakehose_[a-z0-9_]+/g)) used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  // What the issue asks the dashboard to show.
  for (const family of ['lakehose_records_total', 'lakehose_request_duration_seconds', 'lakehose_buffered_bytes',
    'lakehose_active_partitions', 'lakehose_s3_requests_total', 'lakehose_dlq_depth',
    'lakehose_dlq_oldest_entry_age_seconds', 'lakehose_wal_bytes',
    // an S3 outage and its recovery (issue 13): destination state and outage time, the
    // backlog on disk and its drain, what memory still holds
    'lakehose_destination_down', 'lakehose_destination_outage_seconds', 'lakehose_dlq_backlog_bytes',
    'lakehose_dlq_delivered_total', 'lakehose_delivery_oldest_sealed_age_seconds']) {
    assert.ok(used.has(family), `the dashboard shows ${family}`);
  }
  assert.ok(content.some((p) => p.targets.some((t) => /histogram_quantile\(/.test(t.expr))), 'latency quantiles');
  assert.ok(content.some((p) => p.targets.some((t) => /by \([^)]*pipeline[^)]*result|by \([^)]*result[^)]*pipeline/.test(t.expr))),
    'throughput by pipeline and result');
});

test('dashboard: every query is valid PromQL (promtool)', (t) => {
  if (!havePromtool()) {
    t.skip('promtool not installed (Debian package prometheus; scripts/setup.sh installs it)');
    return;
  }
  const d = JSON.parse(dashboardText);
  const rules = [];
  for (const p of allPanels(d)) {
    for (const target of p.targets ?? []) rules.push({ record: `dashboard:panel${p.id}:${target.refId}`, expr: concreteExpr(target.expr) });
  }
  const dir = mkdtempSync(join(tmpdir(), 'lakehose-dashboard-'));
  try {
    const file = join(dir, 'dashboard_rules.yaml');
    writeFileSync(file, YAML.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = spawnSync(args.promtool, ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `promtool check rules on the dashboard's queries:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    // and it does reject a broken query (so the check above means something)
    writeFileSync(file, YAML.stringify({ groups: [{ name: 'broken', rules: [{ record: 'x:y', expr: 'sum by (pipeline (lakehose_records_total)' }] }] }));
    const bad = spawnSync(args.promtool, ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(bad.status, 0, 'promtool rejects a malformed query');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alerts: listed metric families, labels and annotations on every rule', () => {
  const doc = YAML.parse(readFileSync(ALERTS, 'utf8'));
  const rules = doc.groups.flatMap((g) => g.rules);
  const alerts = rules.filter((r) => r.alert);
  assert.ok(alerts.length >= 10, `alert rules: ${alerts.length}`);
  const names = alerts.map((r) => r.alert);
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  const problems = [];
  for (const r of alerts) {
    for (const p of checkExpr(r.expr)) problems.push(`${r.alert}: ${p}`);
    assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity), `${r.alert}: severity critical|warning|info`);
    for (const a of ['summary', 'description', 'runbook']) {
      assert.ok(typeof r.annotations?.[a] === 'string' && r.annotations[a].length > 10, `${r.alert}: annotation ${a}`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  // What the issue asks for, by the series each alert watches.
  const watch = (re) => alerts.some((r) => re.test(r.expr));
  assert.ok(watch(/lakehose_dlq_depth/), 'DLQ depth growing');
  assert.ok(watch(/lakehose_oldest_unflushed_record_age_seconds\s*>\s*2\s*\*\s*lakehose_buffer_interval_seconds/), 'oldest unflushed > 2x interval');
  assert.ok(watch(/lakehose_s3_requests_total\{outcome="throttled"\}/), 'S3 throttle rate');
  assert.ok(watch(/lakehose_s3_requests_total\{outcome=~"[a-z_|]*server_error/), 'S3 error rate');
  assert.ok(watch(/lakehose_wal_disk_free_bytes.*lakehose_wal_min_free_bytes/), 'WAL near its disk budget');
  assert.ok(watch(/^up\{job="lakehose"\} == 0$/), 'server down');
  assert.ok(watch(/^lakehose_destination_down == 1$/), 'an S3 destination down');
  assert.ok(watch(/lakehose_dlq_backlog_bytes/), 'a dead-letter backlog that does not drain');
});

test('alerts: the unit tests make every alert fire, and check quiet cases', () => {
  const alerts = YAML.parse(readFileSync(ALERTS, 'utf8')).groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => r.alert);
  const tests = YAML.parse(readFileSync(ALERTS_TEST, 'utf8'));
  assert.deepEqual(tests.rule_files, ['alerts.yaml']);
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
  const fired = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
  const quiet = cases.filter((c) => (c.exp_alerts ?? []).length === 0);
  assert.deepEqual(alerts.filter((a) => !fired.has(a)), [], 'alerts never seen firing in alerts_test.yaml');
  assert.ok(quiet.length >= 1, 'at least one case where the alert must not fire');
  for (const c of cases) assert.ok(alerts.includes(c.alertname), `alerts_test.yaml tests an unknown alert ${c.alertname}`);
});
