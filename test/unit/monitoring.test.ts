/**
 * The ready-made alerts (deploy/monitoring/prometheusrule.yaml) and the Grafana dashboard only use metrics the
 * operator really exports, with label values it really sets: a renamed metric breaks this test, not an alert.
 */
import { indexObjects } from '../../src/resolve';
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import winston from 'winston';
import { IntentStates } from '../../src/operator/intent-states';
import { createMetrics } from '../../src/operator/metrics';
import { reconcile } from '../../src/operator/reconcile';
import { Reason } from '../../src/operator/reasons';
import { FakeKube } from './fake-kube';

const dir = path.resolve(__dirname, '..', '..', '..', 'deploy', 'monitoring');

/** Series names in the exposition text, including histogram _bucket/_sum/_count series. */
async function exportedSeries(): Promise<Set<string>> {
  const intents = new IntentStates();
  intents.set({ namespace: 'shop', intent: 'shop', reason: 'Reconciled', ready: true });
  const m = createMetrics({ queueDepth: () => 0, policiesManaged: () => 0, intents });
  // Counters with labels only appear once a label set is used: touch each, as a running operator does.
  m.reconcileTotal.inc({ result: 'reconciled' }, 0);
  m.reconcileDuration.observe({ result: 'reconciled' }, 0.01);
  m.apiRequests.inc({ verb: 'get', code: '200' }, 0);
  const text = await m.registry.metrics();
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0] ?? ''));
}

const METRIC = /\b((?:netseg|process|nodejs)_[a-z0-9_]+)\b/g;
const KNOWN_RESULTS = ['reconciled', 'gone', 'invalid', 'conflict', 'dryrun', 'error'];

interface AlertRule {
  alert: string;
  expr: string;
  annotations: { summary: string; description?: string };
}

function alertRules(): AlertRule[] {
  const rule = parse(fs.readFileSync(path.join(dir, 'prometheusrule.yaml'), 'utf8')) as { spec: { groups: { rules: AlertRule[] }[] } };
  return rule.spec.groups.flatMap((g) => g.rules);
}

function alertExpressions(): string[] {
  return alertRules().map((r) => r.expr);
}

function dashboardExpressions(): string[] {
  const dash = JSON.parse(fs.readFileSync(path.join(dir, 'grafana-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

describe('monitoring: alerts and dashboard use real metrics', () => {
  let series: Set<string>;
  before(async () => {
    series = await exportedSeries();
  });

  for (const [what, exprs] of [
    ['PrometheusRule', alertExpressions()],
    ['Grafana dashboard', dashboardExpressions()],
  ] as const) {
    it(`${what}: every metric exists in the operator's registry`, () => {
      assert.ok(exprs.length > 0);
      for (const expr of exprs) {
        const names = [...expr.matchAll(METRIC)].map((m) => m[1] ?? '');
        assert.ok(names.length > 0, `no metric in: ${expr}`);
        for (const n of names) assert.ok(series.has(n), `${what} uses ${n}, which the operator does not export`);
      }
    });

    it(`${what}: every result and reason label value is one the operator sets`, () => {
      for (const expr of exprs) {
        for (const m of expr.matchAll(/result="([^"]+)"/g)) assert.ok(KNOWN_RESULTS.includes(m[1] ?? ''), expr);
        for (const m of expr.matchAll(/reason="([^"]+)"/g)) assert.ok((Object.values(Reason) as string[]).includes(m[1] ?? ''), expr);
      }
    });
  }

  it('metric names follow Prometheus conventions (netseg_ prefix; counters end in _total; seconds as base unit)', () => {
    const ours = [...series].filter((s) => s.startsWith('netseg_'));
    assert.ok(ours.includes('netseg_reconcile_total'));
    assert.ok(ours.includes('netseg_reconcile_duration_seconds_bucket'));
    for (const s of ours) assert.doesNotMatch(s, /_(ms|milliseconds|count_total)$/);
  });
});

describe('monitoring: alerts that fire when nothing exports, and say which intent', () => {
  it('NetsegNoLeader has an absent() form: with no pod exporting metrics there is no series to compare', () => {
    const noLeader = alertRules().find((r) => r.alert === 'NetsegNoLeader');
    assert.ok(noLeader);
    assert.match(noLeader.expr, /\babsent\(netseg_leader\)/);
    assert.match(noLeader.expr, /max\(netseg_leader\) < 1/, 'and still fires when pods run but none leads');
  });

  it('every per-intent alert keeps the namespace and intent labels and names them in its summary', () => {
    const perIntent = alertRules().filter((r) => r.expr.includes('netseg_intent_ready'));
    assert.ok(perIntent.length >= 3, 'InvalidSpec, NameConflict and ApiError each have one');
    for (const r of perIntent) {
      assert.match(r.expr, /by \(namespace, intent\)/, r.alert);
      assert.match(r.annotations.summary, /\{\{ \$labels\.namespace \}\}\/\{\{ \$labels\.intent \}\}/, r.alert);
    }
  });

  it('the optional ServiceMonitor selects the metrics Service by its labels and port, and honours the namespace label', () => {
    type Svc = { metadata: { labels: Record<string, string>; namespace: string }; spec: { ports: { name: string }[] } };
    type Sm = { spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: { port: string; path: string; honorLabels?: boolean }[] } };
    const svc = parse(fs.readFileSync(path.join(dir, '..', 'base', 'service.yaml'), 'utf8')) as Svc;
    const sm = parse(fs.readFileSync(path.join(dir, 'servicemonitor.yaml'), 'utf8')) as Sm;
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v, k);
    assert.deepEqual(sm.spec.namespaceSelector.matchNames, [svc.metadata.namespace]);
    const ports = new Set(svc.spec.ports.map((p) => p.name));
    for (const e of sm.spec.endpoints) {
      assert.ok(ports.has(e.port), e.port);
      assert.equal(e.path, '/metrics');
      assert.equal(e.honorLabels, true, "else Prometheus renames the intent's namespace label to exported_namespace");
    }
  });
});

describe('monitoring: the per-intent state metric', () => {
  const log = winston.createLogger({ silent: true });

  async function scrape(states: IntentStates): Promise<string[]> {
    const m = createMetrics({ queueDepth: () => 0, policiesManaged: () => 0, intents: states });
    return (await m.registry.metrics()).split('\n').filter((l) => /^netseg_intents?(_ready)?\{/.test(l));
  }

  it('follows reconcile: one series per intent, its Ready reason, gone with the intent', async () => {
    const k = new FakeKube();
    const states = new IntentStates();
    const run = (): Promise<unknown> => reconcile('shop/shop', { kube: k, policies: k, objects: indexObjects([]), now: () => new Date(0), log, intents: states });
    k.addIntent({ workloads: [{ name: 'w0', selector: { matchLabels: { app: 'w0' } } }], flows: [] });
    await run();
    assert.deepEqual(await scrape(states), ['netseg_intent_ready{namespace="shop",intent="shop",reason="Reconciled"} 1', 'netseg_intents{reason="Reconciled"} 1']);
    k.addIntent({ workloads: [{ name: 'w0', selector: { matchLabels: { app: 'w0' } } }], flows: [{ from: 'w0', to: 'nosuch' }] }, 2);
    await run();
    assert.deepEqual(await scrape(states), ['netseg_intent_ready{namespace="shop",intent="shop",reason="InvalidSpec"} 0', 'netseg_intents{reason="InvalidSpec"} 1'], 'the old reason leaves no stale series');
    k.intents.clear();
    await run();
    assert.deepEqual(await scrape(states), []);
  });

  it('is bounded: past the limit intents get no series of their own, but the per-reason totals count them all', async () => {
    const states = new IntentStates(2);
    for (let i = 0; i < 5; i++) states.set({ namespace: 'ns', intent: `i${i}`, reason: i === 4 ? 'InvalidSpec' : 'Reconciled', ready: i !== 4 });
    const lines = await scrape(states);
    assert.equal(lines.filter((l) => l.startsWith('netseg_intent_ready{')).length, 2);
    assert.ok(lines.includes('netseg_intents{reason="Reconciled"} 4'));
    assert.ok(lines.includes('netseg_intents{reason="InvalidSpec"} 1'));
  });

  it('netseg_build_info says the version in package.json', async () => {
    const version = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    const text = await createMetrics({ queueDepth: () => 0, policiesManaged: () => 0 }).registry.metrics();
    assert.ok(text.includes(`netseg_build_info{version="${version}",node="${process.version}"} 1`), text.split('\n').filter((l) => l.includes('build_info')).join('\n'));
  });
});
