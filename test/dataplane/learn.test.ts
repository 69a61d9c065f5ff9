/**
 * The adoption path end to end, with packets (issue 15, step 5): pods talk with no policies → the node's flow log
 * (the agent writes the `netseg` flow format) → `netseg learn` (the real CLI) → the learned intents applied DryRun
 * (packets: nothing changes; `netseg reach --flows --enforce-dry-run`: nothing observed would break, exit 0) →
 * switched to Enforce → every observed flow still connects, and flows never observed are refused.
 *
 * The workloads are as a cluster has them: Deployments with ReplicaSets and pods (pod-template-hash labels), a
 * StatefulSet's pod, and a bare pod in a second namespace. The control plane runs no Deployment controller, so the
 * test writes the ReplicaSets and pods itself, with the controller ownerReferences the controllers would set.
 * With NETSEG_LEARN_TRANSCRIPT=FILE the commands run and their output are written there (docs/learn.md's
 * walkthrough is such a transcript).
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { SegmentationIntent } from '../../src/intent/types';
import { REPO_ROOT, eventually, kubectl } from '../integration/cluster';
import { ClusterView, readyOf, runOperator } from '../integration/operator.support'
import type { CountedOperator } from '../integration/operator.support';
import { type Expect, allow, deny, mismatches, untilPackets } from './expect';
import { type DataPlane, removeNamespaces, useDataPlane, waitRunning } from './harness';

const SHOP = 'dp-learn';
const MON = 'dp-learn-mon';
const NAMESPACES = [SHOP, MON];
const FRONTEND = `${SHOP}/frontend-5d8f7c9b4-x2x7k`;
const BACKEND_1 = `${SHOP}/backend-7c6b9d8f5-4mzqp`;
const BACKEND_2 = `${SHOP}/backend-7c6b9d8f5-t9wld`;
const DB = `${SHOP}/db-0`;
const SCRAPER = `${MON}/scraper`;
const CONVERGE_MS = 60_000;
const NETSEG = path.join(REPO_ROOT, 'bin', 'netseg');

/** The traffic of a day, in small: each repeated as many times as a connection was made. */
const OBSERVED: readonly (readonly [from: string, to: string, port: number, times: number])[] = [
  [FRONTEND, BACKEND_1, 8080, 3],
  [FRONTEND, BACKEND_2, 8080, 2],
  [BACKEND_1, DB, 5432, 2],
  [BACKEND_2, DB, 5432, 1],
  [SCRAPER, BACKEND_1, 9090, 1],
  [SCRAPER, BACKEND_2, 9090, 1],
];
const observedFlows: Expect[] = OBSERVED.map(([from, to, port]) => allow(from, to, port, 'observed'));

/** Flows nobody made: open before enforcement, refused after. */
const NEVER: readonly Expect[] = [
  deny(FRONTEND, DB, 5432, 'the frontend never called the db (db ingress)'),
  deny(FRONTEND, BACKEND_1, 9090, 'only the scraper read the metrics port'),
  deny(BACKEND_1, FRONTEND, 8080, 'no call back to the frontend'),
  deny(DB, BACKEND_2, 8080, 'the db never called out'),
  deny(SCRAPER, FRONTEND, 8080, 'the scraper read the backends only'),
  deny(FRONTEND, SCRAPER, 9091, 'nothing entered the monitoring namespace'),
  deny(BACKEND_2, BACKEND_1, 8080, 'backends never called each other'),
];

const asOpen = (e: Expect): Expect => allow(e.from, e.to, e.port, `DryRun applies nothing: ${e.why} still connects`);

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [NETSEG, ...args], { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Deployments, ReplicaSets, a StatefulSet and pods with the ownerReferences the controllers would write. */
async function createWorkloads(kc: k8s.KubeConfig): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  for (const ns of NAMESPACES) await core.createNamespace({ metadata: { name: ns } });
  const container = (ports: number[]): k8s.V1Container => ({ name: 'app', image: 'netseg.invalid/app', ports: ports.map((containerPort) => ({ containerPort })) });
  const owner = (kind: string, o: { metadata?: k8s.V1ObjectMeta }): k8s.V1OwnerReference => ({ apiVersion: 'apps/v1', kind, name: o.metadata?.name ?? '', uid: o.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true });
  const deployment = async (name: string, hash: string, ports: number[], pods: string[]): Promise<void> => {
    const labels = { app: name };
    const template = { metadata: { labels }, spec: { containers: [container(ports)] } };
    const d = (await apps.createNamespacedDeployment(SHOP, { metadata: { name }, spec: { replicas: pods.length, selector: { matchLabels: labels }, template } })).body;
    const rsLabels = { ...labels, 'pod-template-hash': hash };
    const rs = (
      await apps.createNamespacedReplicaSet(SHOP, {
        metadata: { name: `${name}-${hash}`, labels: rsLabels, ownerReferences: [owner('Deployment', d)] },
        spec: { replicas: pods.length, selector: { matchLabels: rsLabels }, template: { ...template, metadata: { labels: rsLabels } } },
      })
    ).body;
    for (const p of pods) {
      await core.createNamespacedPod(SHOP, { metadata: { name: p.split('/')[1], labels: rsLabels, ownerReferences: [owner('ReplicaSet', rs)] }, spec: { containers: [container(ports)] } });
    }
  };
  await deployment('frontend', '5d8f7c9b4', [8080], [FRONTEND]);
  await deployment('backend', '7c6b9d8f5', [8080, 9090], [BACKEND_1, BACKEND_2]);
  const dbLabels = { app: 'db' };
  const sts = (await apps.createNamespacedStatefulSet(SHOP, { metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 1, selector: { matchLabels: dbLabels }, template: { metadata: { labels: dbLabels }, spec: { containers: [container([5432])] } } } })).body;
  await core.createNamespacedPod(SHOP, {
    metadata: { name: 'db-0', labels: { ...dbLabels, 'controller-revision-hash': 'db-6b4f9c7d8', 'statefulset.kubernetes.io/pod-name': 'db-0' }, ownerReferences: [owner('StatefulSet', sts)] },
    spec: { containers: [container([5432])] },
  });
  await core.createNamespacedPod(MON, { metadata: { name: 'scraper', labels: { app: 'scraper' } }, spec: { containers: [container([9091])] } });
}

describe('data plane: learn from the flow log, DryRun, then Enforce — observed flows connect, others are refused', function () {
  let dp: DataPlane;
  let operator: CountedOperator | undefined;
  let view: ClusterView;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-learn-dp-'));
  const transcript: string[] = [];
  const say = (cmd: string, r: { code?: number; stdout?: string; stderr?: string }): void => {
    transcript.push(cmd.startsWith('#') ? cmd : `$ ${cmd}`, ...(r.stderr ? [r.stderr.trimEnd()] : []), ...(r.stdout ? [r.stdout.trimEnd()] : []), ...(r.code !== undefined ? [`# exit ${r.code}`] : []), '');
  };
  const netseg = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const r = await run(args, dir);
    say(`netseg ${args.join(' ')}`, r);
    return r;
  };

  before(async function () {
    dp = await useDataPlane();
    view = new ClusterView(dp.cluster.kc);
    await removeNamespaces(dp, NAMESPACES);
    await createWorkloads(dp.cluster.kc);
    await waitRunning(dp, [FRONTEND, BACKEND_1, BACKEND_2, DB, SCRAPER].map((k) => ({ namespace: k.split('/')[0] ?? '', name: k.split('/')[1] ?? '' })));
  });

  after(async function () {
    await operator?.stop();
    if (process.env['NETSEG_LEARN_TRANSCRIPT']) fs.writeFileSync(process.env['NETSEG_LEARN_TRANSCRIPT'], `${transcript.join('\n')}\n`);
    if (dp) await removeNamespaces(dp, NAMESPACES);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('learns from the node\'s flow log, applies DryRun (nothing changes), passes the pre-flight check, enforces: observed connect, unobserved refused', async function () {
    // 1. Traffic with no policies, recorded by the listeners in the node's flow log.
    const offset = fs.existsSync(dp.cfg.flowLog) ? fs.statSync(dp.cfg.flowLog).size : 0;
    const traffic = OBSERVED.flatMap(([from, to, port, times]) => Array.from({ length: times }, () => ({ from, to, port })));
    assert.deepEqual(mismatches(traffic.map((q) => allow(q.from, q.to, q.port, 'no policy')), await dp.prober.probe(traffic, { concurrency: 1 })), []);
    const mine = (k: string): boolean => NAMESPACES.some((ns) => k.startsWith(`${ns}/`));
    const read = (): string[] => fs.readFileSync(dp.cfg.flowLog, 'utf8').slice(offset).split('\n').filter((l) => {
      if (!l) return false;
      const f = JSON.parse(l) as { from: string; to: string };
      return mine(f.from) || mine(f.to);
    });
    // The listener reports an accepted connection to the node agent, which appends the line: the prober may see its
    // connect answered a moment before the last line is written. Wait (bounded) for the log to catch up.
    let lines = read();
    for (const until = Date.now() + 10_000; lines.length < traffic.length && Date.now() < until; lines = read()) await sleep(100);
    assert.equal(lines.length, traffic.length, `the flow log has one line per connection made:\n${lines.join('\n')}`);
    fs.writeFileSync(path.join(dir, 'flows.jsonl'), `${lines.join('\n')}\n`);
    say(`# the node's flow log (${path.basename(dp.cfg.flowLog)}, what \`scripts/dataplane flows\` prints): this run's ${lines.length} lines, saved as flows.jsonl`, { stdout: lines.join('\n') });

    // 2. netseg learn, with the cluster's workloads as kubectl prints them.
    fs.writeFileSync(path.join(dir, 'cluster.json'), await kubectl(dp.cluster, ['get', 'pods,deployments,replicasets,statefulsets,daemonsets,services', '-n', SHOP, '-o', 'json']));
    fs.writeFileSync(path.join(dir, 'cluster-mon.json'), await kubectl(dp.cluster, ['get', 'pods', '-n', MON, '-o', 'json']));
    say(`kubectl get pods,deploy,rs,sts,ds,svc -n ${SHOP} -o json > cluster.json; kubectl get pods -n ${MON} -o json > cluster-mon.json`, {});
    const learned = await netseg(['learn', '--flows', 'flows.jsonl', '-f', 'cluster.json', 'cluster-mon.json', '--directions', 'Ingress,Egress']);
    assert.equal(learned.code, 0, learned.stderr);
    fs.writeFileSync(path.join(dir, 'learned.yaml'), learned.stdout);
    const intents = parseAllDocuments(learned.stdout).map((d) => d.toJS() as SegmentationIntent);
    assert.deepEqual(intents.map((i) => `${i.metadata.namespace}/${i.metadata.name} ${i.spec.enforcement}`).sort(), [`${MON}/learned DryRun`, `${SHOP}/learned DryRun`]);
    const shop = intents.find((i) => i.metadata.namespace === SHOP);
    assert.deepEqual(shop?.spec.workloads?.map((w) => w.name).sort(), ['backend', 'db', 'frontend'], 'workloads named after the Deployments and the StatefulSet');

    // 3. Applied DryRun: the operator computes, writes no policy; packets unchanged.
    operator = await runOperator(dp.cluster.kc, NAMESPACES);
    say('kubectl apply -f learned.yaml', { stdout: await kubectl(dp.cluster, ['apply', '-f', path.join(dir, 'learned.yaml')]) });
    for (const ns of NAMESPACES) {
      await eventually(async () => {
        const got = await view.getIntent(ns, 'learned');
        const r = readyOf(got);
        if (r.reason !== 'DryRun' || got.status?.observedGeneration !== got.metadata.generation) throw new Error(`${ns}/learned: ${JSON.stringify(r)}`);
        assert.match(r.message ?? '', /would create [1-9]/);
      }, CONVERGE_MS);
      assert.deepEqual(await view.policyNames(ns), [], `DryRun wrote no NetworkPolicy in ${ns}`);
    }
    say(`kubectl get si -n ${SHOP} learned -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'`, { stdout: readyOf(await view.getIntent(SHOP, 'learned')).message ?? '' });
    const dryRun = [...observedFlows, ...NEVER.map(asOpen)];
    const dryPackets = await dp.probe(dryRun);
    assert.deepEqual(mismatches(dryRun, dryPackets), [], 'DryRun must change nothing in packets');
    say('# packets under DryRun: the observed flows and the never-observed ones', { stdout: `${dryPackets.filter((r) => r.allowed).length} of ${dryPackets.length} probes connected` });

    // 4. The pre-flight check: enforcing the learned intents would cut no observed flow.
    fs.writeFileSync(path.join(dir, 'live.json'), await kubectl(dp.cluster, ['get', 'namespaces,pods,networkpolicies', '-A', '-o', 'json'], 120_000));
    say('kubectl get ns,pods,netpol -A -o json > live.json', {});
    const preflight = await netseg(['reach', '-f', 'live.json', 'learned.yaml', '--flows', 'flows.jsonl', '--enforce-dry-run']);
    assert.equal(preflight.code, 0, `reach --flows --enforce-dry-run: nothing observed may be denied\n${preflight.stdout}${preflight.stderr}`);
    assert.doesNotMatch(preflight.stdout, /DENIED/);

    // 5. Enforce: observed flows still connect, flows never observed are refused.
    const enforced = learned.stdout.replace(/enforcement: DryRun/g, 'enforcement: Enforce');
    assert.notEqual(enforced, learned.stdout);
    fs.writeFileSync(path.join(dir, 'learned.yaml'), enforced);
    say("sed -i 's/enforcement: DryRun/enforcement: Enforce/' learned.yaml   # (the test replaces the text)\n$ kubectl apply -f learned.yaml", { stdout: await kubectl(dp.cluster, ['apply', '-f', path.join(dir, 'learned.yaml')]) });
    for (const ns of NAMESPACES) {
      await eventually(async () => {
        const got = await view.getIntent(ns, 'learned');
        if (readyOf(got).status !== 'True' || got.status?.observedGeneration !== got.metadata.generation) throw new Error(`${ns}/learned: ${JSON.stringify(readyOf(got))}`);
      }, CONVERGE_MS);
    }
    say(`# the NetworkPolicies now in ${SHOP} and ${MON}`, { stdout: [...(await view.policyNames(SHOP)).map((n) => `${SHOP}/${n}`), ...(await view.policyNames(MON)).map((n) => `${MON}/${n}`)].join('\n') });
    const wanted = [...observedFlows, ...NEVER];
    await untilPackets(dp, wanted, CONVERGE_MS, 'the learned intents enforced');
    const packets = await dp.probe(wanted);
    say('# packets (each probe from inside the source pod, as `scripts/dataplane probe` does): every observed flow, then the never-observed ones', {
      stdout: wanted.map((e, i) => `${packets[i]?.allowed ? 'allowed' : 'denied '} ${e.from} -> ${e.to} TCP/${e.port}   (${e.allowed ? 'observed' : `never observed: ${e.why}`})`).join('\n'),
    });
  });
});
