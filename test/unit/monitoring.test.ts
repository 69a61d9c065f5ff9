/**
 * The ready-made alerts (deploy/monitoring/prometheusrule.yaml) and the Grafana dashboard only use metrics the
 * operator really exports, with label values it really sets: a renamed metric breaks this test, not an alert.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { createMetrics } from '../../src/operator/metrics';

const dir = path.resolve(__dirname, '..', '..', '..', 'deploy', 'monitoring');

/** Series names in the exposition text, including histogram _bucket/_sum/_count series. */
async function exportedSeries(): Promise<Set<string>> {
  const m = createMetrics({ queueDepth: () => 0, policiesManaged: () => 0 });
  // Counters with labels only appear once a label set is used: touch each, as a running operator does.
  m.reconcileTotal.inc({ result: 'reconciled' }, 0);
  m.reconcileDuration.observe({ result: 'reconciled' }, 0.01);
  m.apiRequests.inc({ verb: 'get', code: '200' }, 0);
  const text = await m.registry.metrics();
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0] ?? ''));
}

const METRIC = /\b((?:netseg|process|nodejs)_[a-z0-9_]+)\b/g;
const KNOWN_RESULTS = ['reconciled', 'gone', 'invalid', 'conflict', 'dryrun', 'error'];

function alertExpressions(): string[] {
  const rule = parse(fs.readFileSync(path.join(dir, 'prometheusrule.yaml'), 'utf8')) as {
    spec: { groups: { rules: { alert: string; expr: string }[] }[] };
  };
  return rule.spec.groups.flatMap((g) => g.rules.map((r) => r.expr));
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

    it(`${what}: every result label value is one the operator sets`, () => {
      for (const expr of exprs) {
        for (const m of expr.matchAll(/result="([^"]+)"/g)) assert.ok(KNOWN_RESULTS.includes(m[1] ?? ''), expr);
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
