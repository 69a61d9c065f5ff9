/**
 * The reachability matrix at scale: 1,000 pods in 200 namespaces under 2,000 policies, every ordered pod pair on
 * every port the destination declares (fixed seed). Reports the median time of a few runs (build the index +
 * compute the matrix), peak RSS, and how time grows with pods (250/500/1000) and with policies (500/1000/2000).
 */
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod, Protocol } from '../src/model/kubernetes';
import { buildCluster, computeMatrix } from '../src/reach';
import { median, percentile, report, rssMB, seededRandom, timeRuns } from './lib';

const NAMESPACES = 200;
const APPS = 60;
const TEAMS = 10;
const TIERS = ['web', 'api', 'db', 'worker'];
const PORTS: { containerPort: number; name?: string; protocol?: Protocol }[] = [
  { containerPort: 80, name: 'http' },
  { containerPort: 443, name: 'https' },
  { containerPort: 8080, name: 'http-alt' },
  { containerPort: 5432, name: 'pg' },
  { containerPort: 53, name: 'dns', protocol: 'UDP' },
  { containerPort: 9090, name: 'metrics' },
];

export interface Input {
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
}

export function generate(pods: number, policies: number, seed = 42, namespaces = NAMESPACES): Input {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (n: number): number => Math.floor(rnd() * n);
  const namespaceList: Namespace[] = Array.from({ length: namespaces }, (_, i) => ({
    metadata: { name: `ns-${i}`, labels: { team: `t${i % TEAMS}`, env: i % 3 === 0 ? 'prod' : 'dev' } },
  }));
  const podList: Pod[] = Array.from({ length: pods }, (_, i) => {
    const ports = [...new Set(Array.from({ length: 1 + int(3) }, () => int(PORTS.length)))].map((k) => PORTS[k] as (typeof PORTS)[number]);
    return {
      metadata: { namespace: `ns-${int(namespaces)}`, name: `pod-${i}`, labels: { app: `a${int(APPS)}`, tier: pick(TIERS) } },
      spec: { containers: [{ name: 'main', ports }] },
      status: { podIP: `10.${(i >> 8) & 255}.${i & 255}.${1 + int(250)}` },
    };
  });
  const selector = (): LabelSelector => {
    const r = rnd();
    if (r < 0.5) return { matchLabels: { app: `a${int(APPS)}` } };
    if (r < 0.8) return { matchLabels: { tier: pick(TIERS) } };
    if (r < 0.9) return { matchExpressions: [{ key: 'tier', operator: 'In', values: [pick(TIERS), pick(TIERS)] }] };
    return {};
  };
  const peer = (): NetworkPolicyPeer => {
    const r = rnd();
    if (r < 0.35) return { podSelector: selector() };
    if (r < 0.55) return { namespaceSelector: { matchLabels: { team: `t${int(TEAMS)}` } } };
    if (r < 0.85) return { namespaceSelector: { matchLabels: { env: pick(['prod', 'dev']) } }, podSelector: selector() };
    return { ipBlock: { cidr: `10.${int(4)}.0.0/16`, except: [`10.${int(4)}.${int(256)}.0/24`] } };
  };
  const port = (): NetworkPolicyPort => {
    const r = rnd();
    if (r < 0.5) return { port: (pick(PORTS) as (typeof PORTS)[number]).containerPort, protocol: 'TCP' };
    if (r < 0.75) return { port: pick(['http', 'https', 'pg', 'metrics']) };
    if (r < 0.9) return { port: 8000, endPort: 9100 };
    return { protocol: 'UDP' };
  };
  const list = <T>(max: number, make: () => T): T[] => Array.from({ length: int(max + 1) }, make);
  const rules = (): { peers?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[] =>
    list(2, () => ({ ...(rnd() < 0.9 ? { peers: list(2, peer) } : {}), ...(rnd() < 0.8 ? { ports: list(2, port) } : {}) }));
  const policyList: NetworkPolicy[] = Array.from({ length: policies }, (_, i) => {
    const types = pick([['Ingress'], ['Ingress'], ['Egress'], ['Ingress', 'Egress']] as ('Ingress' | 'Egress')[][]);
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: `ns-${int(namespaces)}`, name: `np-${i}` },
      spec: {
        podSelector: selector(),
        policyTypes: types,
        ingress: rules().map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })),
        egress: rules().map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })),
      },
    };
  });
  return { namespaces: namespaceList, pods: podList, policies: policyList };
}

interface Measure {
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly entries: number;
  readonly allowed: number;
}

function measure(input: Input, runs: number): Measure {
  let entries = 0;
  let allowed = 0;
  const times = timeRuns(runs, () => {
    const m = computeMatrix(buildCluster(input));
    entries = 0;
    allowed = 0;
    for (const c of m.columns) {
      entries += c.allowed.length;
      for (const a of c.allowed) allowed += a;
    }
  });
  return { medianMs: Math.round(median(times)), p99Ms: Math.round(percentile(times, 99)), entries, allowed };
}

export async function run(): Promise<void> {
  const full = measure(generate(1000, 2000), 5);
  const byPods = [250, 500, 1000].map((n) => ({ pods: n, ms: measure(generate(n, 2000), 3).medianMs }));
  const byPolicies = [500, 1000, 2000].map((n) => ({ policies: n, ms: measure(generate(1000, n), 3).medianMs }));
  report('reach', {
    scenario: '1000 pods, 200 namespaces, 2000 policies, full matrix on declared ports',
    medianMs: full.medianMs,
    p99Ms: full.p99Ms,
    entries: full.entries,
    allowed: full.allowed,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssNowMB: rssMB(),
    timeByPods: byPods,
    podsRatios_each_doubling: ratios(byPods.map((x) => x.ms)),
    timeByPolicies: byPolicies,
    policiesRatios_each_doubling: ratios(byPolicies.map((x) => x.ms)),
  });
}

/** Time of each step over the previous one: 2.0 per doubling is linear growth, 4.0 quadratic. */
function ratios(ms: readonly number[]): number[] {
  return ms.slice(1).map((m, i) => Math.round((m / Math.max(ms[i] ?? 1, 1)) * 100) / 100);
}
