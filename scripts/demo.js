#!/usr/bin/env node
// `npm run demo`: the whole story on this machine. Brings up the local control plane, installs the CRD, runs
// the operator, applies examples/ (Namespaces first), waits until every intent is reconciled, and prints the
// NetworkPolicies the operator made. The control plane is left running for you to explore; the operator stops.
'use strict';
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const script = path.join(root, 'scripts', 'control-plane');
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

async function main() {
  say('starting the local control plane (the first run builds it from Go modules: many minutes)');
  const up = spawnSync(script, ['up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (up.status !== 0) throw new Error('scripts/control-plane up failed (see above)');
  const kubeconfig = up.stdout.trim().split('\n').pop();

  say('installing the SegmentationIntent CRD');
  kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-k', path.join(root, 'crds')]);
  kubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/segmentationintents.netseg.io']);

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
    for (const f of [files.namespaces, files.workloads, files.intents]) {
      process.stdout.write(kubectl(kubeconfig, ['apply', '--server-side', '-f', f]));
    }
    say('waiting for the operator to reconcile every intent');
    const deadline = Date.now() + 120_000;
    while (readyIntents(kubeconfig).length < files.count) {
      if (operator.exitCode !== null) throw new Error(`the operator exited (code ${operator.exitCode}); see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`not every intent became Ready in 120 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 500));
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
       kubectl is at ${cpEnv().KUBECTL}; stop everything with: scripts/control-plane down`);
}

main().catch((e) => {
  process.stderr.write(`[demo] FAILED: ${e.message}\n`);
  process.exit(1);
});
