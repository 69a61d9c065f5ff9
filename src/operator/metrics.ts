/**
 * Prometheus metrics in a dedicated Registry (never prom-client's global one: two operators in one test process
 * must not share counters), and the small HTTP server for /metrics, /healthz and /readyz.
 */
import * as http from 'http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IntentStates } from './intent-states';

export interface Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly policiesManaged: Gauge;
  readonly driftCorrections: Counter;
  readonly apiRequests: Counter<'verb' | 'code'>;
  readonly leader: Gauge;
  readonly memoryReleases: Counter;
}

/** What netseg_build_info says: the running version, so that dashboards and alerts can tell rollouts apart. */
export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

export function buildInfo(): BuildInfo {
  // dist/src/operator/metrics.js → the package's package.json, as the CLI's --version reads it.
  const version = (require('../../../package.json') as { version?: string }).version ?? 'unknown';
  return { version, node: process.version };
}

export interface MetricSources {
  queueDepth(): number;
  policiesManaged(): number;
  /** The per-intent Ready states (./intent-states.ts); none on a replica that does not lead. */
  readonly intents?: IntentStates;
}

export function createMetrics(src: MetricSources, build: BuildInfo = buildInfo()): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
  new Gauge({ name: 'netseg_build_info', help: 'Always 1; the labels say which netseg and Node.js run.', labelNames: ['version', 'node'], ...reg }).set({ ...build }, 1);
  if (src.intents) intentGauges(src.intents, reg);
  return {
    registry,
    reconcileTotal: new Counter({ name: 'netseg_reconcile_total', help: 'Reconciles by result.', labelNames: ['result'], ...reg }),
    reconcileDuration: new Histogram({
      name: 'netseg_reconcile_duration_seconds',
      help: 'Time to reconcile one intent.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ...reg,
    }),
    queueDepth: new Gauge({ name: 'netseg_queue_depth', help: 'Intent keys waiting to be reconciled.', collect() { this.set(src.queueDepth()); }, ...reg }),
    policiesManaged: new Gauge({ name: 'netseg_policies_managed', help: 'NetworkPolicies carrying the netseg managed-by label in the watched namespaces.', collect() { this.set(src.policiesManaged()); }, ...reg }),
    driftCorrections: new Counter({ name: 'netseg_drift_corrections_total', help: 'Generated policies restored after an out-of-band change or deletion.', ...reg }),
    apiRequests: new Counter({ name: 'netseg_api_requests_total', help: 'Kubernetes API requests by verb and HTTP code.', labelNames: ['verb', 'code'], ...reg }),
    leader: new Gauge({ name: 'netseg_leader', help: '1 while this replica holds the leader lease.', ...reg }),
    memoryReleases: new Counter({ name: 'netseg_memory_releases_total', help: 'Full heap collections asked of V8 once a burst of work went quiet (docs/operator.md, "Sizing: memory").', ...reg }),
  };
}

export interface Health {
  live(): boolean;
  ready(): boolean;
}

/** Parses ":8080", "0.0.0.0:9090", "127.0.0.1:0", "[::1]:8080". */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`--metrics-addr must be HOST:PORT or :PORT, got "${addr}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--metrics-addr port out of range: ${port}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function serveMetrics(addr: string, metrics: Metrics, health: Health): Promise<http.Server> {
  const { host, port } = parseAddr(addr);
  const server = http.createServer((req, res) => {
    route(req.url ?? '/', metrics, health).then(
      ({ code, type, body }) => res.writeHead(code, { 'Content-Type': type }).end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

async function route(url: string, metrics: Metrics, health: Health): Promise<{ code: number; type: string; body: string }> {
  const path = url.split('?')[0];
  if (path === '/metrics') return { code: 200, type: metrics.registry.contentType, body: await metrics.registry.metrics() };
  if (path === '/healthz') return probe(health.live());
  if (path === '/readyz') return probe(health.ready());
  return { code: 404, type: 'text/plain', body: 'not found\n' };
}

function probe(ok: boolean): { code: number; type: string; body: string } {
  return { code: ok ? 200 : 503, type: 'text/plain', body: ok ? 'ok\n' : 'not ready\n' };
}

/**
 * netseg_intent_ready{namespace,intent,reason}: 1 if Ready is True, else 0 (one series per intent, at most
 * IntentStates.limit of them); netseg_intents{reason}: how many intents are in each Ready reason (all of them).
 * Rebuilt at each scrape from the states, so a changed reason or a deleted intent leaves no stale series.
 */
function intentGauges(states: IntentStates, reg: { registers: Registry[] }): void {
  new Gauge({
    name: 'netseg_intent_ready',
    help: `1 while the intent's Ready condition is True, else 0; reason is the Ready reason. One series per intent, for at most ${states.limit} intents.`,
    labelNames: ['namespace', 'intent', 'reason'],
    collect() {
      this.reset();
      for (const s of states.series()) this.set({ namespace: s.namespace, intent: s.intent, reason: s.reason }, s.ready ? 1 : 0);
    },
    ...reg,
  });
  new Gauge({
    name: 'netseg_intents',
    help: 'SegmentationIntents reconciled by this replica, by Ready reason.',
    labelNames: ['reason'],
    collect() {
      this.reset();
      for (const [reason, n] of states.countsByReason()) this.set({ reason }, n);
    },
    ...reg,
  });
}
