/**
 * Prometheus metrics in a dedicated Registry (never prom-client's global one: two operators in one test process
 * must not share counters), and the small HTTP server for /metrics, /healthz and /readyz.
 */
import * as http from 'http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly policiesManaged: Gauge;
  readonly driftCorrections: Counter;
  readonly apiRequests: Counter<'verb' | 'code'>;
  readonly leader: Gauge;
}

export interface MetricSources {
  queueDepth(): number;
  policiesManaged(): number;
}

export function createMetrics(src: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
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
