// deploy/k8s/, deploy/Dockerfile and the container config (README "Running in production"):
//  - every Kubernetes manifest parses and has what Kubernetes requires for its kind, and
//    the manifests agree with each other (selectors, ports, probes, volumes, service
//    names, the ServiceMonitor's job vs the alert rules) and with the pipeline config;
//  - the kustomization lists exactly the files of the directory;
//  - the ConfigMap's pipeline config and the image's baked-in config are accepted by the
//    real lakehose-server: it starts on them (loopback, temporary data_dir), answers
//    grpc.health.v1 Check (what the kubelet's grpc probe sends) with SERVING, and drains
//    on SIGTERM; a config the loader refuses does not start (the harness can fail);
//  - the Dockerfile has the stages and instructions the issue asks for, its build stage
//    installs only packages scripts/setup.sh installs and enough to configure the
//    project, and its runtime stage installs the packages of every shared library the
//    two binaries link directly (checked with readelf, ldd and dpkg).
//
//   node tests/deploy/manifests.test.mjs --server build/.../lakehose-server --cli build/.../lakehose
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import YAML from 'yaml';

import { ServerProcess, generate, run, suiteArgs } from '../lib/harness.mjs';
import { healthCheck } from '../lib/grpc.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const K8S = join(REPO, 'deploy/k8s');
const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { kubectl: { type: 'string', default: 'kubectl' } },
  usage: '[--kubectl PATH]',
});

const isSubset = (small, big) => Object.entries(small ?? {}).every(([k, v]) => big?.[k] === v);

// ---- the manifests -----------------------------------------------------------------------

const k8sFiles = readdirSync(K8S).filter((f) => statSync(join(K8S, f)).isFile()).sort();
const kustomization = YAML.parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'));
const generatorFiles = (kustomization.configMapGenerator ?? []).flatMap((g) => g.files ?? []).map((f) => f.replace(/^[^=]*=/, ''));

// Every document of every resource file: [{file, doc}].
const docs = [];
for (const file of kustomization.resources ?? []) {
  const text = readFileSync(join(K8S, file), 'utf8');
  for (const d of YAML.parseAllDocuments(text)) {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    const doc = d.toJS();
    if (doc !== null) docs.push({ file, doc });
  }
}
const ofKind = (kind) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const one = (kind) => {
  const list = ofKind(kind);
  assert.equal(list.length, 1, `exactly one ${kind}`);
  return list[0];
};

const pipelineConfigFile = join(K8S, generatorFiles.find((f) => /\.ya?ml$/.test(f)) ?? 'config.yaml');
const pipelineConfig = YAML.parse(readFileSync(pipelineConfigFile, 'utf8'));
const portOf = (listen) => Number(String(listen).split(':').pop());

test('kustomization lists exactly the files of deploy/k8s', () => {
  assert.equal(kustomization.apiVersion, 'kustomize.config.k8s.io/v1beta1');
  assert.equal(kustomization.kind, 'Kustomization');
  const listed = [...(kustomization.resources ?? []), ...generatorFiles, 'kustomization.yaml'].sort();
  assert.equal(new Set(listed).size, listed.length, 'no file listed twice');
  assert.deepEqual(listed, k8sFiles, 'resources + configMapGenerator files + kustomization.yaml == the directory');
});

test('every manifest has apiVersion, kind and a valid metadata.name', () => {
  const expected = {
    ServiceAccount: 'v1', StatefulSet: 'apps/v1', Service: 'v1', PodDisruptionBudget: 'policy/v1',
    HorizontalPodAutoscaler: 'autoscaling/v2', ServiceMonitor: 'monitoring.coreos.com/v1', ConfigMap: 'v1',
  };
  assert.ok(docs.length >= 7, `manifests: ${docs.length}`);
  const seen = new Set();
  for (const { file, doc } of docs) {
    assert.ok(doc.apiVersion && doc.kind, `${file}: apiVersion and kind`);
    assert.equal(doc.apiVersion, expected[doc.kind], `${file}: ${doc.kind} is ${expected[doc.kind]}`);
    assert.match(doc.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${file}: metadata.name is a DNS-1123 label`);
    assert.ok(doc.metadata.name.length <= 63, `${file}: name length`);
    const key = `${doc.kind}/${doc.metadata.name}`;
    assert.ok(!seen.has(key), `${key} declared twice`);
    seen.add(key);
    for (const [k, v] of Object.entries(doc.metadata.labels ?? {})) {
      assert.equal(typeof v, 'string', `${file}: label ${k} is a string`);
    }
  }
  for (const kind of ['ServiceAccount', 'StatefulSet', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceMonitor']) one(kind);
  assert.equal(ofKind('Service').length, 2, 'a headless and a ClusterIP Service');
  assert.equal((kustomization.configMapGenerator ?? []).length, 1, 'the ConfigMap comes from configMapGenerator');
});

const sts = () => one('StatefulSet');
const pod = () => sts().spec.template;
const container = () => {
  const cs = pod().spec.containers;
  assert.equal(cs.length, 1, 'one container');
  return cs[0];
};
const containerPorts = () => container().ports;

test('StatefulSet: selector, serviceName, container, volumes, writer_id, security, probes', () => {
  const s = sts();
  const spec = s.spec;
  // selector matches the template
  assert.ok(Object.keys(spec.selector?.matchLabels ?? {}).length > 0, 'spec.selector.matchLabels');
  assert.ok(isSubset(spec.selector.matchLabels, pod().metadata.labels), 'selector matches the template labels');
  // serviceName is the headless Service
  const headless = ofKind('Service').find((svc) => svc.metadata.name === spec.serviceName);
  assert.ok(headless, `serviceName ${spec.serviceName} names a Service`);
  assert.equal(headless.spec.clusterIP, 'None', 'serviceName names the headless Service');
  // the container
  const c = container();
  assert.ok(c.name && c.image, 'container name and image');
  const imageName = c.image.split(':')[0];
  assert.ok((kustomization.images ?? []).some((i) => i.name === imageName), 'kustomization images: rewrites the container image');
  assert.ok(containerPorts().length >= 2, 'container ports');
  for (const p of containerPorts()) {
    assert.ok(Number.isInteger(p.containerPort) && p.containerPort > 0 && p.containerPort < 65536, `port ${p.name}`);
    assert.match(p.name ?? '', /^[a-z0-9-]{1,15}$/, 'named ports (IANA_SVC_NAME)');
  }
  const byName = Object.fromEntries(containerPorts().map((p) => [p.name, p.containerPort]));
  assert.equal(byName.grpc, portOf(pipelineConfig.server.grpc_listen), 'port grpc = server.grpc_listen');
  assert.equal(byName.metrics, portOf(pipelineConfig.server.metrics_listen), 'port metrics = server.metrics_listen');
  assert.match(pipelineConfig.server.grpc_listen, /^0\.0\.0\.0:/, 'gRPC listens on all interfaces in a pod');
  assert.match(pipelineConfig.server.metrics_listen, /^0\.0\.0\.0:/, 'metrics listen on all interfaces in a pod');
  // volumes: every mount names a volume or a claim template; every claim template is mounted
  const vcts = (spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name);
  const volumes = (pod().spec.volumes ?? []).map((v) => v.name);
  const mounts = c.volumeMounts ?? [];
  assert.ok(vcts.length >= 1, 'volumeClaimTemplates: a PVC per replica');
  for (const v of spec.volumeClaimTemplates) {
    assert.ok(v.spec.accessModes?.includes('ReadWriteOnce'), `${v.metadata.name}: ReadWriteOnce`);
    assert.ok(v.spec.resources?.requests?.storage, `${v.metadata.name}: a storage request`);
  }
  for (const m of mounts) assert.ok(vcts.includes(m.name) || volumes.includes(m.name), `volumeMount ${m.name} has a volume`);
  for (const v of vcts) assert.ok(mounts.some((m) => m.name === v), `volumeClaimTemplate ${v} is mounted`);
  const dataMount = mounts.find((m) => vcts.includes(m.name) && m.mountPath === pipelineConfig.server.data_dir);
  assert.ok(dataMount, `a claim template is mounted at server.data_dir (${pipelineConfig.server.data_dir})`);
  // the config: generated ConfigMap, mounted where --config points
  const cmVolume = pod().spec.volumes.find((v) => v.configMap);
  assert.equal(cmVolume?.configMap.name, kustomization.configMapGenerator[0].name, 'the config volume is the generated ConfigMap');
  const cmMount = mounts.find((m) => m.name === cmVolume.name);
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const configArg = argv[argv.indexOf('--config') + 1];
  assert.ok(argv.includes('--config'), '--config is passed');
  assert.equal(configArg, join(cmMount.mountPath, relative(K8S, pipelineConfigFile)), '--config points at the mounted file');
  // writer_id: the host name, which is the pod name, so nothing may override either
  assert.equal(pipelineConfig.server.writer_id, undefined, 'config.yaml leaves server.writer_id to the host name (= pod name)');
  assert.equal(pod().spec.hostname, undefined, 'no fixed hostname: each pod keeps its own name');
  assert.notEqual(pod().spec.hostNetwork, true, 'no host network (the host name would be the node\'s)');
  // draining fits in the grace period
  const grace = pipelineConfig.server.shutdown_grace_s ?? 30;
  assert.ok(pod().spec.terminationGracePeriodSeconds > grace,
    `terminationGracePeriodSeconds (${pod().spec.terminationGracePeriodSeconds}) > shutdown_grace_s (${grace})`);
  // non-root, read-only root file system
  const psc = pod().spec.securityContext ?? {};
  const csc = c.securityContext ?? {};
  assert.ok(psc.runAsNonRoot === true || csc.runAsNonRoot === true, 'runAsNonRoot');
  assert.ok((csc.runAsUser ?? psc.runAsUser) > 0, 'runAsUser is not root');
  assert.equal(psc.runAsUser, 10001, 'the image\'s uid');
  assert.ok(psc.fsGroup > 0, 'fsGroup: the PVC is writable by that user');
  assert.equal(csc.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem');
  assert.equal(csc.allowPrivilegeEscalation, false, 'allowPrivilegeEscalation: false');
  // resources: the HPA needs a CPU request; memory bounded
  assert.ok(c.resources?.requests?.cpu, 'a CPU request (the HPA scales on it)');
  assert.ok(c.resources?.requests?.memory && c.resources?.limits?.memory, 'memory request and limit');
  // probes: native gRPC on a declared container port
  for (const probe of ['readinessProbe', 'livenessProbe']) {
    const p = c[probe];
    assert.ok(p?.grpc, `${probe} uses the grpc probe`);
    assert.ok(containerPorts().some((cp) => cp.containerPort === p.grpc.port), `${probe}: port ${p.grpc.port} is a container port`);
    assert.equal(p.grpc.port, byName.grpc, `${probe}: the gRPC port`);
  }
  if (c.startupProbe) {
    assert.ok(containerPorts().some((cp) => cp.containerPort === c.startupProbe.grpc?.port), 'startupProbe on a container port');
  }
  assert.equal(pod().spec.serviceAccountName, one('ServiceAccount').metadata.name, 'runs as the ServiceAccount');
  // the HPA owns replicas
  if (ofKind('HorizontalPodAutoscaler').length > 0) assert.equal(spec.replicas, undefined, 'replicas left to the HPA');
});

test('Services: selectors match the pods, target ports exist', () => {
  const podLabels = pod().metadata.labels;
  const named = Object.fromEntries(containerPorts().map((p) => [p.name, p.containerPort]));
  const numbers = containerPorts().map((p) => p.containerPort);
  let headless = 0;
  for (const svc of ofKind('Service')) {
    const n = svc.metadata.name;
    assert.ok(Object.keys(svc.spec.selector ?? {}).length > 0, `${n}: a selector`);
    assert.ok(isSubset(svc.spec.selector, podLabels), `${n}: selector matches the pod labels`);
    assert.ok(svc.spec.ports?.length > 0, `${n}: ports`);
    for (const p of svc.spec.ports) {
      assert.ok(Number.isInteger(p.port), `${n}: port number`);
      const target = p.targetPort ?? p.port;
      if (typeof target === 'string') assert.ok(target in named, `${n}: targetPort ${target} is a named container port`);
      else assert.ok(numbers.includes(target), `${n}: targetPort ${target} is a container port`);
      if (svc.spec.ports.length > 1) assert.ok(p.name, `${n}: multi-port Services name their ports`);
    }
    if (svc.spec.clusterIP === 'None') {
      headless += 1;
      assert.ok(svc.spec.ports.some((p) => (p.targetPort === 'grpc' || p.targetPort === named.grpc)), `${n}: serves gRPC`);
    } else {
      assert.ok(svc.spec.type === undefined || svc.spec.type === 'ClusterIP', `${n}: ClusterIP`);
    }
  }
  assert.equal(headless, 1, 'one headless Service');
});

test('PodDisruptionBudget, HorizontalPodAutoscaler, ServiceAccount', () => {
  const pdb = one('PodDisruptionBudget');
  assert.ok(Object.keys(pdb.spec.selector?.matchLabels ?? {}).length > 0, 'PDB selector');
  assert.ok(isSubset(pdb.spec.selector.matchLabels, pod().metadata.labels), 'PDB selects the pods');
  assert.ok((pdb.spec.minAvailable === undefined) !== (pdb.spec.maxUnavailable === undefined), 'exactly one of minAvailable / maxUnavailable');

  const hpa = one('HorizontalPodAutoscaler');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts().metadata.name });
  assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas >= hpa.spec.minReplicas, 'min/max replicas');
  const pdbAllows = pdb.spec.maxUnavailable ?? 1;
  assert.ok(hpa.spec.minReplicas > pdbAllows || pdb.spec.minAvailable !== undefined, 'minReplicas leaves a replica up during a disruption');
  const cpu = hpa.spec.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  assert.ok(cpu?.resource.target?.type === 'Utilization' && cpu.resource.target.averageUtilization > 0, 'CPU utilization target');

  const sa = one('ServiceAccount');
  const text = readFileSync(join(K8S, docs.find((d) => d.doc.kind === 'ServiceAccount').file), 'utf8');
  assert.match(text, /eks\.amazonaws\.com\/role-arn: arn:aws:iam::\d{12}:role\//, 'the IRSA annotation, as a placeholder');
  assert.equal(sa.automountServiceAccountToken, false, 'no Kubernetes API token: lakehose does not use it');
});

test('ServiceMonitor: selects the Service with the metrics port, job = the alerts\' job', () => {
  const sm = one('ServiceMonitor');
  const selected = ofKind('Service').filter((svc) => isSubset(sm.spec.selector?.matchLabels, svc.metadata.labels));
  assert.ok(Object.keys(sm.spec.selector?.matchLabels ?? {}).length > 0, 'a selector');
  assert.equal(selected.length, 1, 'selects exactly one Service (two would scrape every pod twice)');
  const svc = selected[0];
  assert.ok(sm.spec.endpoints?.length > 0, 'endpoints');
  for (const ep of sm.spec.endpoints) {
    const port = svc.spec.ports.find((p) => p.name === ep.port);
    assert.ok(port, `endpoint port ${ep.port} is a port of Service ${svc.metadata.name}`);
    assert.equal(port.targetPort, 'metrics', 'it targets the container\'s metrics port');
    assert.equal(ep.path ?? '/metrics', '/metrics');
  }
  // The job label is the Service name (no jobLabel): the alerts select up{job="..."}.
  assert.equal(sm.spec.jobLabel, undefined);
  const alerts = readFileSync(join(REPO, 'deploy/prometheus/alerts.yaml'), 'utf8');
  assert.ok(alerts.includes(`up{job="${svc.metadata.name}"}`), `alerts.yaml watches job="${svc.metadata.name}"`);
});

test('kustomize build (when kubectl is installed)', (t) => {
  const probe = spawnSync(args.kubectl, ['version', '--client'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.status !== 0) {
    t.skip('kubectl not installed: `kubectl kustomize deploy/k8s` not checked');
    return;
  }
  const r = spawnSync(args.kubectl, ['kustomize', K8S], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `kubectl kustomize:\n${r.stderr}`);
  const out = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
  const cm = out.find((d) => d.kind === 'ConfigMap');
  assert.match(cm.metadata.name, new RegExp(`^${kustomization.configMapGenerator[0].name}-[a-z0-9]{10}$`), 'hashed ConfigMap name');
  assert.deepEqual(YAML.parse(Object.values(cm.data)[0]), pipelineConfig, 'the ConfigMap holds config.yaml');
  const built = out.find((d) => d.kind === 'StatefulSet');
  assert.ok(built.spec.template.spec.volumes.some((v) => v.configMap?.name === cm.metadata.name), 'the StatefulSet mounts the hashed ConfigMap');
  assert.equal(out.length, docs.length + 1, 'every resource plus the ConfigMap');
});

// ---- the configs on the real server ----------------------------------------------------------

// The environment of a server on a deploy config: S3 destinations never reach AWS from a
// test (no object is written there anyway).
const deployEnv = (dir) => ({
  PATH: process.env.PATH, HOME: dir, AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
});
const START_TIMEOUT_MS = 30_000;

// Starts lakehose-server on `configFile` (JSON log); resolves it once it serves and has
// logged server.started. Rejects if it exits first or takes longer than 30 s, the error
// carrying the server's exit and output.
async function startServer(configFile, dir) {
  const server = new ServerProcess(SERVER_BIN, { dir, configPath: configFile, env: deployEnv(dir), args: ['--log-format', 'json'] });
  try {
    await server.waitForPort(START_TIMEOUT_MS);
    const started = await server.waitForEvent('server.started', Math.max(0, START_TIMEOUT_MS - (Date.now() - server.startedAt)));
    assert.ok(started.length > 0, `no server.started within 30 s:\n${server.tail()}`);
    return server;
  } catch (err) {
    await server.kill().catch(() => {});
    throw Object.assign(err, { exit: server.exit, output: server.output });
  }
}

// A copy of `source` for a test run: loopback listens and everything on disk under `dir`.
function testCopy(source, dir, edit = () => {}) {
  const doc = YAML.parseDocument(readFileSync(source, 'utf8'));
  doc.setIn(['server', 'data_dir'], join(dir, 'data'));
  doc.setIn(['server', 'grpc_listen'], '127.0.0.1:0');
  doc.setIn(['server', 'metrics_listen'], '127.0.0.1:0');
  const pipelines = doc.get('pipelines');
  pipelines.items.forEach((_, i) => {
    if (doc.getIn(['pipelines', i, 'destination', 'kind']) !== 's3') doc.setIn(['pipelines', i, 'destination', 'path'], join(dir, 'lake'));
  });
  edit(doc);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

async function cliHasHealth() {
  const r = await run(CLI_BIN, ['--help'], { timeoutMs: 10_000 });
  return /^\s*health\b/m.test(`${r.stdout}${r.stderr}`);
}

async function checkConfigRuns(t, source, { alsoDeliver = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lakehose-deploy-'));
  let server;
  try {
    const file = testCopy(source, dir);
    server = await startServer(file, dir);
    assert.ok(server.port > 0, 'a port');
    // What the kubelet's grpc probe (and `lakehose health`) sends: service "".
    assert.equal(await healthCheck(server.target, 5_000), 'SERVING', 'grpc.health.v1 Check: SERVING');
    const unknown = server.output.split('\n').filter((l) => l.includes('config.unknown_key'));
    assert.deepEqual(unknown, [], `${relative(REPO, source)}: keys the loader does not know (typos?)`);
    if (await cliHasHealth()) {
      const h = await run(CLI_BIN, ['health', '--target', server.target], { timeoutMs: 20_000 });
      assert.equal(h.code, 0, `lakehose health (the Dockerfile HEALTHCHECK): ${h.stdout}${h.stderr}`);
    } else {
      t.diagnostic('lakehose health not in this build yet: the HEALTHCHECK command was not run');
    }
    if (alsoDeliver) {
      // No writer_id in the config: objects are named after the host name (the pod name).
      const { lines } = await generate(CLI_BIN, 20, 5, { timeoutMs: 30_000 });
      const input = join(dir, 'records.jsonl');
      writeFileSync(input, `${lines.join('\n')}\n`);
      const pipeline = YAML.parse(readFileSync(source, 'utf8')).pipelines[0].name;
      const send = await run(CLI_BIN, ['send', '--target', server.target, '--pipeline', pipeline, '--input', input], { timeoutMs: 60_000 });
      assert.equal(send.code, 0, `lakehose send: ${send.stderr}`);
      const flush = await run(CLI_BIN, ['flush', '--target', server.target], { timeoutMs: 60_000 });
      assert.equal(flush.code, 0, `lakehose flush: ${flush.stderr}`);
      const uris = flush.stdout.split('\n').filter(Boolean);
      assert.ok(uris.length > 0, 'objects were written');
      if (/^[A-Za-z0-9_.-]{1,64}$/.test(hostname())) {
        for (const u of uris) assert.ok(u.includes(`-${hostname()}-`), `object key carries the host name as writer_id: ${u}`);
      } else {
        t.diagnostic(`host name ${hostname()} is sanitised by the server: writer_id not compared`);
      }
    }
    const e = await server.stop(45_000);
    server = null;
    assert.deepEqual(e, { code: 0, signal: null }, 'SIGTERM drains and exits 0');
  } finally {
    await server?.kill().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the ConfigMap\'s pipeline config starts the real server', { timeout: 120_000 }, async (t) => {
  await checkConfigRuns(t, pipelineConfigFile);
});

test('the image\'s config (deploy/examples/container.yaml) starts the real server and delivers', { timeout: 180_000 }, async (t) => {
  await checkConfigRuns(t, join(REPO, 'deploy/examples/container.yaml'), { alsoDeliver: true });
});

test('a config the loader refuses does not start (the check above can fail)', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakehose-deploy-'));
  try {
    const file = testCopy(pipelineConfigFile, dir, (doc) => doc.setIn(['server', 'writer_id'], 'not a valid id!'));
    await assert.rejects(startServer(file, dir), (err) => {
      assert.notEqual(err.exit?.code, 0, 'a non-zero exit');
      assert.match(err.output, /server\.writer_id/, 'the error names the key');
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the Dockerfile -------------------------------------------------------------------------

// Instructions of a Dockerfile: [{instr, args}], continuation lines joined, comments dropped.
function parseDockerfile(text) {
  const out = [];
  let current = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === null && (line === '' || line.startsWith('#'))) continue;
    if (current !== null && line.startsWith('#')) continue;  // comment inside a continuation
    const body = line.endsWith('\\') ? line.slice(0, -1) : line;
    current = current === null ? body : `${current} ${body}`;
    if (!line.endsWith('\\')) {
      const m = current.match(/^(\S+)\s*(.*)$/);
      out.push({ instr: m[1].toUpperCase(), args: m[2].trim() });
      current = null;
    }
  }
  return out;
}

// Stages: [{from, name, instructions}]
function stages(instructions) {
  const list = [];
  for (const i of instructions) {
    if (i.instr === 'FROM') {
      const m = i.args.match(/^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i);
      list.push({ from: m[1], name: m[2], instructions: [] });
    } else if (list.length > 0) {
      list[list.length - 1].instructions.push(i);
    }
  }
  return list;
}

// Packages named by `apt-get install` / `apt install` in RUN instructions.
function aptPackages(stage) {
  const pkgs = [];
  for (const i of stage.instructions.filter((x) => x.instr === 'RUN')) {
    for (const segment of i.args.split(/&&|;|\|\|/)) {
      const words = segment.trim().split(/\s+/);
      const at = words.findIndex((w, k) => w === 'install' && /^apt(-get)?$/.test(words[k - 1] ?? '') || (w === 'install' && words.slice(0, k).some((x) => /^apt(-get)?$/.test(x))));
      if (at < 0) continue;
      for (const w of words.slice(at + 1)) if (!w.startsWith('-') && w !== '') pkgs.push(w);
    }
  }
  return pkgs;
}

// scripts/setup.sh's package list (PACKAGES=(...) and PACKAGES+=(...)).
function setupPackages() {
  const text = readFileSync(join(REPO, 'scripts/setup.sh'), 'utf8').replace(/#.*$/gm, '');
  const pkgs = new Set();
  for (const m of text.matchAll(/PACKAGES\+?=\(([^)]*)\)/g)) {
    for (const w of m[1].trim().split(/\s+/)) if (w) pkgs.add(w);
  }
  return pkgs;
}

// dpkg's database, read once: installed file -> package, and package -> its dependencies
// (Depends and Pre-Depends, alternatives included). Much faster than a dpkg -S per file.
let dpkgDb = null;
function dpkg() {
  if (dpkgDb) return dpkgDb;
  const owner = new Map();
  const info = '/var/lib/dpkg/info';
  for (const f of readdirSync(info)) {
    if (!f.endsWith('.list')) continue;
    const pkg = f.slice(0, -'.list'.length).replace(/:[a-z0-9]+$/, '');
    for (const line of readFileSync(join(info, f), 'utf8').split('\n')) if (line) owner.set(line, pkg);
  }
  const depends = new Map();
  for (const stanza of readFileSync('/var/lib/dpkg/status', 'utf8').split(/\n\n+/)) {
    const name = stanza.match(/^Package: (\S+)$/m)?.[1];
    if (!name || !/^Status: .* installed$/m.test(stanza)) continue;
    const deps = [...stanza.matchAll(/^(?:Pre-)?Depends: (.*)$/gm)].flatMap((m) => m[1].split(/[,|]/))
      .map((d) => d.trim().split(/[\s(]/)[0].replace(/:any$/, '')).filter(Boolean);
    depends.set(name, deps);
  }
  dpkgDb = { owner, depends };
  return dpkgDb;
}

function dpkgOwner(path) {
  const candidates = new Set([path]);
  try { candidates.add(realpathSync(path)); } catch { /* keep the path */ }
  for (const p of [...candidates]) {
    if (p.startsWith('/usr/')) candidates.add(p.slice(4));
    else candidates.add(`/usr${p}`);
  }
  for (const p of candidates) if (dpkg().owner.has(p)) return dpkg().owner.get(p);
  return null;
}

// The installed package owning a file whose path ends with one of `suffixes`.
function dpkgOwnerBySuffix(suffixes) {
  for (const [path, pkg] of dpkg().owner) if (suffixes.some((s) => path.endsWith(s))) return pkg;
  return null;
}

// The packages apt installs for `names`: them and their dependencies, recursively (from
// the installed packages' metadata, which on this bookworm machine is the image's).
function dependencyClosure(names) {
  const seen = new Set();
  const queue = [...names];
  while (queue.length > 0) {
    const p = queue.shift();
    if (seen.has(p)) continue;
    seen.add(p);
    for (const d of dpkg().depends.get(p) ?? []) if (!seen.has(d)) queue.push(d);
  }
  return seen;
}

const haveDpkg = existsSync('/var/lib/dpkg/status') && existsSync('/var/lib/dpkg/info');
const dockerfileText = readFileSync(join(REPO, 'deploy/Dockerfile'), 'utf8');
const dockerStages = stages(parseDockerfile(dockerfileText));
const buildStage = () => dockerStages[0];
const runtimeStage = () => dockerStages[dockerStages.length - 1];
const instr = (stage, name) => stage.instructions.filter((i) => i.instr === name);

test('Dockerfile: bookworm stages, non-root user, volume, ports, health check, config', () => {
  assert.equal(dockerStages.length, 2, 'a build and a runtime stage');
  assert.equal(buildStage().from, 'debian:bookworm');
  assert.equal(runtimeStage().from, 'debian:bookworm-slim');
  const run = instr(buildStage(), 'RUN').map((i) => i.args).join('\n');
  assert.match(run, /cmake --preset release\b/, 'configures with the release preset');
  assert.match(run, /cmake --build --preset release --target lakehose-server lakehose\b/, 'builds the two binaries');
  const rt = runtimeStage();
  const copies = instr(rt, 'COPY').map((i) => i.args);
  assert.ok(copies.some((c) => c.startsWith(`--from=${buildStage().name} `) && c.includes('lakehose-server') && /client\/lakehose\b/.test(c)), 'copies both binaries from the build stage');
  // non-root
  const users = instr(rt, 'USER');
  assert.ok(users.length > 0, 'USER');
  const user = users[users.length - 1].args.split(':')[0];
  assert.ok(user !== 'root' && user !== '0', 'USER is not root');
  assert.equal(user, '10001', 'uid 10001 (the StatefulSet\'s runAsUser)');
  // data_dir as a volume
  const container = YAML.parse(readFileSync(join(REPO, 'deploy/examples/container.yaml'), 'utf8'));
  const volumes = instr(rt, 'VOLUME').flatMap((i) => (i.args.startsWith('[') ? JSON.parse(i.args) : i.args.split(/\s+/)));
  assert.ok(volumes.includes('/var/lib/lakehose'), 'VOLUME /var/lib/lakehose');
  assert.equal(container.server.data_dir, '/var/lib/lakehose', 'the image\'s config keeps data_dir on the volume');
  assert.equal(container.server.writer_id, undefined, 'the image\'s config leaves writer_id to the host name');
  // ports
  const exposed = instr(rt, 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.split('/')[0]));
  assert.ok(exposed.includes(50051) && exposed.includes(9464), 'EXPOSE 50051 9464');
  assert.equal(container.server.grpc_listen, '0.0.0.0:50051');
  assert.equal(container.server.metrics_listen, '0.0.0.0:9464');
  // health check through the gRPC health service
  const hc = instr(rt, 'HEALTHCHECK');
  assert.equal(hc.length, 1, 'HEALTHCHECK');
  assert.match(hc[0].args, /CMD \["lakehose", "health", "--target", "127\.0\.0\.1:50051"\]/, 'HEALTHCHECK runs lakehose health');
  // the config
  assert.ok(copies.some((c) => /^deploy\/examples\/container\.yaml \/etc\/lakehose\/config\.yaml$/.test(c)), 'config at /etc/lakehose/config.yaml');
  const entry = instr(rt, 'ENTRYPOINT').map((i) => JSON.parse(i.args)).pop();
  const cmd = instr(rt, 'CMD').map((i) => JSON.parse(i.args)).pop();
  assert.deepEqual(entry, ['lakehose-server']);
  assert.deepEqual(cmd, ['--config', '/etc/lakehose/config.yaml']);
  // the k8s container runs the same entrypoint with a --config under /etc/lakehose
  assert.ok((sts().spec.template.spec.containers[0].args ?? []).includes('--config'));
  // the build context excludes build outputs and node_modules
  const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  for (const p of ['build/', 'var/', 'tests/node_modules/', '.git']) assert.ok(ignore.includes(p), `.dockerignore: ${p}`);
});

test('Dockerfile: build-stage packages are scripts/setup.sh\'s and enough to configure', (t) => {
  const wanted = aptPackages(buildStage());
  const setup = setupPackages();
  assert.ok(setup.size > 20, 'read scripts/setup.sh\'s package list');
  assert.ok(wanted.length > 10, 'the build stage installs packages');
  assert.deepEqual(wanted.filter((p) => !setup.has(p)), [], 'build-stage packages that scripts/setup.sh does not install');
  if (!haveDpkg) {
    t.skip('no dpkg: the CMake requirements were not mapped to packages');
    return;
  }
  // Every REQUIRED find_package / find_program of the CMake tree is satisfied.
  const closure = dependencyClosure(wanted);
  const moduleMode = { ZLIB: 'zlib1g-dev', Protobuf: 'libprotobuf-dev', CURL: 'libcurl4-openssl-dev', OpenSSL: 'libssl-dev', Threads: null };
  const cmakeFiles = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!['build', 'node_modules', '.git', 'var'].includes(e.name)) walk(join(d, e.name));
      } else if (e.name === 'CMakeLists.txt' || e.name.endsWith('.cmake')) cmakeFiles.push(join(d, e.name));
    }
  };
  walk(REPO);
  const missing = [];
  for (const f of cmakeFiles) {
    const text = readFileSync(f, 'utf8').replace(/#.*$/gm, '');
    for (const m of text.matchAll(/find_package\(\s*([\w.+-]+)([^)]*)\)/g)) {
      if (!/\bREQUIRED\b/.test(m[2])) continue;
      const name = m[1];
      let pkg;
      if (name in moduleMode) pkg = moduleMode[name];
      else pkg = dpkgOwnerBySuffix([`/${name}Config.cmake`, `/${name.toLowerCase()}-config.cmake`, `/${name}-config.cmake`]);
      if (pkg === null) continue;
      if (!pkg) missing.push(`${relative(REPO, f)}: find_package(${name}): no package found here`);
      else if (!closure.has(pkg)) missing.push(`${relative(REPO, f)}: find_package(${name}) needs ${pkg}`);
    }
    for (const m of text.matchAll(/find_program\(\s*(\w+)\s+(?:NAMES\s+)?([\w.+-]+)([^)]*)\)/g)) {
      if (!/\bREQUIRED\b/.test(m[3])) continue;
      const which = spawnSync('sh', ['-c', `command -v ${m[2]}`], { encoding: 'utf8' });
      const path = which.stdout.trim();
      const pkg = path ? dpkgOwner(path) : null;
      if (!pkg) missing.push(`${relative(REPO, f)}: find_program(${m[2]}): not installed from a Debian package here`);
      else if (!closure.has(pkg)) missing.push(`${relative(REPO, f)}: find_program(${m[2]}) needs ${pkg}`);
    }
  }
  assert.deepEqual(missing, [], 'CMake requirements the build stage does not install');
});

test('Dockerfile: the runtime stage has the libraries the binaries link', (t) => {
  const runtime = aptPackages(runtimeStage());
  for (const p of ['ca-certificates', 'tzdata']) assert.ok(runtime.includes(p), `${p} (TLS to S3; named time zones)`);
  assert.ok(!runtime.some((p) => p.endsWith('-dev')), 'no -dev packages at runtime');
  if (!haveDpkg) {
    t.skip('no dpkg: shared libraries not mapped to packages');
    return;
  }
  const closure = dependencyClosure(runtime);
  const base = new Set(['libc6', 'libgcc-s1', 'libstdc++6']);  // in debian:bookworm-slim (apt needs them)
  const missing = [];
  for (const bin of [SERVER_BIN, CLI_BIN]) {
    const needed = [...spawnSync('readelf', ['-d', bin], { encoding: 'utf8' }).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    assert.ok(needed.length > 3, `readelf -d ${bin}: NEEDED entries`);
    const ldd = spawnSync('ldd', [bin], { encoding: 'utf8' }).stdout;
    for (const soname of needed) {
      const m = ldd.match(new RegExp(`^\\s*${soname.replace(/[.+]/g, '\\$&')} => (\\S+)`, 'm'));
      assert.ok(m, `ldd resolves ${soname}`);
      const pkg = dpkgOwner(m[1]);
      assert.ok(pkg, `${m[1]} belongs to a Debian package`);
      if (!base.has(pkg) && !closure.has(pkg)) missing.push(`${soname} (${pkg}) for ${relative(REPO, bin)}`);
    }
  }
  assert.deepEqual(missing, [], 'shared libraries whose package the runtime stage does not install');
  // every runtime package exists (installed here as a dependency of the build packages)
  for (const p of runtime) assert.ok(dpkg().depends.has(p), `${p} is a known Debian package (installed on this bookworm machine)`);
});
