#!/usr/bin/env node
// `npm run demo`: the whole story on this machine. Brings up the local control plane, installs the CRD, brings up
// the data plane when it can (root and network namespaces: kube-router filtering real TCP/UDP between pods that
// are network namespaces; see docs/dataplane.md), runs the operator, applies examples/ (Namespaces first), and
// prints a connectivity matrix MEASURED WITH PACKETS before and after the intents, beside `netseg reach`'s
// prediction for the same pairs; then the NetworkPolicies the operator made. The control plane (and data plane)
// are left running for you to explore; the operator stops.
'use strict';
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const script = path.join(root, 'scripts', 'control-plane');
const dataplane = path.join(root, 'scripts', 'dataplane');
const say = (s) => process.stdout.write(`\n[demo] ${s}\n`);

// The control plane's paths (kubectl among them) don't change during a run: ask the script once.
let envCache;
function cpEnv() {
  if (!envCache) {
    const out = execFileSync(script, ['env'], { encoding: 'utf8' });
    envCache = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  }
  return envCache;
}

function kubectl(kubeconfig, args, opts = {}) {
  const r = spawnSync(cpEnv().KUBECTL, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/**
 * The examples' objects as written (netseg's own loader trims Pods to the fields it reads, which the apiserver
 * would refuse: a Pod needs its containers' images).
 */
function exampleObjects() {
  const { parseAllDocuments } = require('yaml');
  const files = [];
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))
    // The baseline example restates the other examples' namespaces and pods with other ports and labels, and its
    // ClusterSegmentationIntent would isolate every namespace: it is shown by its own tests (docs/baseline.md).
    .filter((e) => !(e.isDirectory() && e.name === 'baseline'))
    .forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : /\.ya?ml$/.test(e.name) && files.push(path.join(d, e.name))));
  walk(path.join(root, 'examples'));
  return files.flatMap((f) => parseAllDocuments(fs.readFileSync(f, 'utf8')).map((doc) => ({ object: doc.toJS() })))
    .filter((o) => o.object && typeof o.object === 'object');
}

function splitExamples() {
  const objects = exampleObjects();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-demo-'));
  const write = (name, objs) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs.map((o) => o.object) }));
    return file;
  };
  const isNs = (o) => o.object.kind === 'Namespace';
  const isIntent = (o) => o.object.kind === 'SegmentationIntent';
  return {
    namespaces: write('1-namespaces.json', objects.filter(isNs)),
    workloads: write('2-workloads.json', objects.filter((o) => !isNs(o) && !isIntent(o))),
    intents: write('3-intents.json', objects.filter(isIntent)),
    count: objects.filter(isIntent).length,
  };
}

function readyIntents(kubeconfig) {
  const list = JSON.parse(kubectl(kubeconfig, ['get', 'segmentationintents', '-A', '-o', 'json']));
  return list.items.filter((i) =>
    (i.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === i.metadata.generation),
  );
}


/** Why this machine can't run the data plane, or undefined when it can (the script checks the rest). */
function dataPlaneUnavailable() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: network namespaces, veths and iptables need root';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `cannot list network namespaces (\`ip netns list\`: ${r.error ? r.error.message : r.stderr.trim()})`;
  return undefined;
}

function podsOf(objects) {
  return objects.map((o) => o.object).filter((o) => o.kind === 'Pod');
}

/** Every (source pod, destination pod, declared TCP/UDP port), source != destination. */
function matrixQueries(pods) {
  const key = (p) => `${p.metadata.namespace}/${p.metadata.name}`;
  const ports = (p) => (p.spec?.containers ?? []).flatMap((c) => c.ports ?? []).filter((x) => (x.protocol ?? 'TCP') !== 'SCTP');
  return pods.flatMap((src) => pods.filter((dst) => key(dst) !== key(src))
    .flatMap((dst) => ports(dst).map((x) => ({ from: key(src), to: key(dst), port: x.containerPort, protocol: x.protocol ?? 'TCP' }))));
}

function waitPodsRunning(kubeconfig, pods, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = JSON.parse(kubectl(kubeconfig, ['get', 'pods', '-A', '-o', 'json'])).items;
    const running = new Set(list.filter((p) => p.status?.phase === 'Running' && p.status?.podIP).map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
    const missing = pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).filter((k) => !running.has(k));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`pods not running on the data plane: ${missing.join(', ')}`);
    spawnSync('sleep', ['0.5']);
  }
}

/** Packets' verdicts (scripts/dataplane probe --queries) and netseg reach's, over the same questions. */
function measure(kubeconfig, queries, dir, tag) {
  const qfile = path.join(dir, `queries-${tag}.json`);
  fs.writeFileSync(qfile, JSON.stringify(queries));
  const t0 = Date.now();
  const probe = spawnSync(dataplane, ['probe', '--queries', qfile], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (probe.status !== 0) throw new Error(`scripts/dataplane probe failed: ${probe.stderr}`);
  const probeMs = Date.now() - t0;
  const live = path.join(dir, `cluster-${tag}.json`);
  fs.writeFileSync(live, kubectl(kubeconfig, ['get', 'namespaces,pods,networkpolicies', '-A', '-o', 'json']));
  const reach = spawnSync(process.execPath, [path.join(root, 'bin', 'netseg'), 'reach', '-f', live, '--queries', qfile, '-o', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (reach.status !== 0) throw new Error(`netseg reach failed: ${reach.stderr}`);
  return { packets: JSON.parse(probe.stdout).results, reach: JSON.parse(reach.stdout).results, probeMs };
}

/**
 * One row per destination pod:port, one column per source pod (numbered): '+' connects, '.' refused, ' ' the
 * pod itself; packets on the left, reach's prediction on the right, and whether they agree.
 */
function printMatrix(queries, m) {
  const sources = [...new Set(queries.map((q) => q.from))];
  const rows = [...new Set(queries.map((q) => `${q.to}:${q.port}/${q.protocol}`))];
  const cell = (results, row, src) => {
    const i = queries.findIndex((q) => q.from === src && `${q.to}:${q.port}/${q.protocol}` === row);
    return i < 0 ? ' ' : results[i].allowed ? '+' : '.';
  };
  const width = Math.max(...rows.map((r) => r.length));
  const lines = ['sources:', ...sources.map((s, i) => `  ${(i + 1).toString(36)} = ${s}`), ''];
  const head = sources.map((_, i) => (i + 1).toString(36)).join('');
  lines.push(`${'destination:port'.padEnd(width)}  ${'packets'.padEnd(sources.length)}  ${'reach'.padEnd(sources.length)}  agree`);
  lines.push(`${''.padEnd(width)}  ${head.padEnd(7)}  ${head.padEnd(5)}`);
  let disagree = 0;
  for (const row of rows) {
    const p = sources.map((s) => cell(m.packets, row, s)).join('');
    const r = sources.map((s) => cell(m.reach, row, s)).join('');
    if (p !== r) disagree++;
    lines.push(`${row.padEnd(width)}  ${p.padEnd(7)}  ${r.padEnd(5)}  ${p === r ? 'yes' : 'NO'}`);
  }
  const allowed = m.packets.filter((x) => x.allowed).length;
  lines.push('', `${queries.length} probes with packets in ${(m.probeMs / 1000).toFixed(1)} s: ${allowed} connected, ${queries.length - allowed} refused; ` +
    (disagree === 0 ? 'netseg reach predicted every one' : `netseg reach disagrees on ${disagree} row(s)`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return disagree;
}

async function main() {
  say('starting the local control plane (the first run builds it from Go modules: many minutes)');
  const up = spawnSync(script, ['up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (up.status !== 0) throw new Error('scripts/control-plane up failed (see above)');
  const kubeconfig = up.stdout.trim().split('\n').pop();

  say('installing the SegmentationIntent CRD');
  kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-k', path.join(root, 'crds')]);
  kubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/segmentationintents.netseg.io']);

  let dataPlane = false;
  const why = dataPlaneUnavailable();
  if (why) {
    say(`no data plane on this machine (${why}): connectivity is predicted by netseg reach only, not measured with packets`);
  } else {
    say('starting the data plane: kube-router (NetworkPolicy firewall) + a node agent running pods as network namespaces');
    const dp = spawnSync(dataplane, ['up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (dp.status === 0) dataPlane = true;
    else say('scripts/dataplane up failed (see above): going on without packets');
  }

  const logFile = path.join(path.dirname(kubeconfig), 'logs', 'demo-operator.log');
  say(`running the operator (JSON logs: ${logFile})`);
  const log = fs.openSync(logFile, 'w');
  const operator = spawn(process.execPath, [path.join(root, 'bin', 'netseg'), 'operator', '--kubeconfig', kubeconfig,
    '--metrics-addr', '127.0.0.1:0', '--resync', '1m'], { stdio: ['ignore', log, log] });
  const stopOperator = () => operator.exitCode === null && operator.kill('SIGTERM');
  process.on('exit', stopOperator);

  try {
    const files = splitExamples();
    say(`applying examples/: namespaces, pods, then ${files.count} SegmentationIntents`);
    for (const f of [files.namespaces, files.workloads]) {
      process.stdout.write(kubectl(kubeconfig, ['apply', '--server-side', '-f', f]));
    }
    const queries = matrixQueries(podsOf(exampleObjects()));
    let disagreements = 0;
    if (dataPlane) {
      say('waiting for the pods to run on the data plane');
      waitPodsRunning(kubeconfig, podsOf(exampleObjects()), 120_000);
      say('BEFORE the intents: what connects, measured with packets, beside netseg reach\'s prediction');
      disagreements += printMatrix(queries, measure(kubeconfig, queries, path.dirname(files.intents), 'before'));
    }
    process.stdout.write(kubectl(kubeconfig, ['apply', '--server-side', '-f', files.intents]));
    say('waiting for the operator to reconcile every intent');
    const deadline = Date.now() + 120_000;
    while (readyIntents(kubeconfig).length < files.count) {
      if (operator.exitCode !== null) throw new Error(`the operator exited (code ${operator.exitCode}); see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`not every intent became Ready in 120 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    if (dataPlane) {
      say('AFTER the intents: what connects, measured with packets, beside netseg reach\'s prediction');
      disagreements += printMatrix(queries, measure(kubeconfig, queries, path.dirname(files.intents), 'after'));
      if (disagreements > 0) throw new Error('packets and netseg reach disagree (see NO above)');
    }
    say('the intents');
    process.stdout.write(kubectl(kubeconfig, ['get', 'segmentationintents', '-A']));
    say('the NetworkPolicies the operator made');
    const selector = 'app.kubernetes.io/managed-by=netseg-operator';
    process.stdout.write(kubectl(kubeconfig, ['get', 'networkpolicies', '-A', '-l', selector]));
    say('in full');
    process.stdout.write(kubectl(kubeconfig, ['get', 'networkpolicies', '-A', '-l', selector, '-o', 'yaml']));
    say('what can reach what: netseg reach over what the cluster holds now (namespaces, pods, every NetworkPolicy)');
    const live = path.join(path.dirname(files.intents), 'cluster.json');
    fs.writeFileSync(live, kubectl(kubeconfig, ['get', 'namespaces,pods,networkpolicies', '-A', '-o', 'json']));
    const reach = spawnSync(process.execPath, [path.join(root, 'bin', 'netseg'), 'reach', '-f', live], { encoding: 'utf8' });
    if (reach.status !== 0) throw new Error(`netseg reach failed: ${reach.stderr}`);
    process.stdout.write(reach.stdout);
  } finally {
    stopOperator();
  }
  say(`done. The control plane is still running: export KUBECONFIG=${kubeconfig}
       kubectl is at ${cpEnv().KUBECTL}; stop everything with: ${dataPlane ? 'scripts/dataplane down; ' : ''}scripts/control-plane down`);
}

main().catch((e) => {
  process.stderr.write(`[demo] FAILED: ${e.message}\n`);
  process.exit(1);
});
