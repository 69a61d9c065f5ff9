/**
 * The pods `netseg verify` checks intents against when no cluster file is given: one pod per workload and per
 * selector peer, labelled to satisfy its selectors, declaring the ports its flows name; namespaces labelled
 * to satisfy namespaceSelectors; plus "strangers" that no intent names (in the intent's namespace, in another
 * namespace, and a kube-dns pod), so that anything opened beyond the flows shows up.
 */
import type { Endpoint as IntentEndpoint, Flow, ValidIntent } from '../intent/types';
import type { ContainerPort, LabelSelector, Namespace, Pod } from '../model/kubernetes';
import { hasLabel, labelValue, setLabel } from '../model/labels';
import { NAMESPACE_NAME_LABEL, matchesSelector } from '../reach';

export const STRANGER_LABEL = 'netseg.io/verify-stranger';
export const DNS_NAMESPACE = 'kube-system';
export const DNS_LABELS: Readonly<Record<string, string>> = { 'k8s-app': 'kube-dns' };
const ELSEWHERE_NAMESPACE = 'netseg-verify-elsewhere';
/** Named flow ports get container port numbers from here up, away from the numbers flows use. */
const NAMED_PORT_BASE = 20000;

export interface SyntheticWorld {
  readonly namespaces: Namespace[];
  readonly pods: Pod[];
  /** Selectors that no synthetic labels could satisfy (contradictory expressions): nothing to check there. */
  readonly notes: string[];
}

export function synthesize(intents: readonly ValidIntent[]): SyntheticWorld {
  const namespaces = new Map<string, Record<string, string>>();
  const pods: Pod[] = [];
  const notes: string[] = [];
  const addNs = (name: string, labels: Record<string, string> = {}): void => {
    namespaces.set(name, { ...(namespaces.get(name) ?? {}), ...labels, [NAMESPACE_NAME_LABEL]: name });
  };
  for (const intent of intents) {
    addNs(intent.namespace);
    for (const ep of [...intent.workloads, ...intent.peers]) {
      const pod = endpointPod(intent, ep, addNs, notes);
      if (pod) pods.push(pod);
    }
    pods.push(stranger(intent.namespace, `${intent.name}-stranger`));
  }
  addNs(ELSEWHERE_NAMESPACE);
  pods.push(stranger(ELSEWHERE_NAMESPACE, 'stranger'));
  addNs(DNS_NAMESPACE);
  pods.push(dnsPod());
  return {
    namespaces: [...namespaces].map(([name, labels]) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } })),
    pods,
    notes,
  };
}

function endpointPod(
  intent: ValidIntent,
  ep: IntentEndpoint,
  addNs: (name: string, labels?: Record<string, string>) => void,
  notes: string[],
): Pod | undefined {
  if (ep.kind === 'ip-peer') return undefined;
  const podSelector = ep.kind === 'workload' ? ep.selector : (ep.podSelector ?? {});
  let namespace = intent.namespace;
  if (ep.kind === 'selector-peer' && ep.namespaceSelector) {
    namespace = namespaceNameFor(ep.namespaceSelector, `${intent.name}-${ep.name}`);
    const nsLabels = { ...satisfy(ep.namespaceSelector), [NAMESPACE_NAME_LABEL]: namespace };
    if (!matchesSelector(ep.namespaceSelector, nsLabels)) {
      notes.push(`${intent.namespace}/${intent.name}: peer ${ep.name}: no namespace can satisfy its namespaceSelector`);
      return undefined;
    }
    addNs(namespace, nsLabels);
  }
  const labels = satisfy(podSelector);
  if (!matchesSelector(podSelector, labels)) {
    notes.push(`${intent.namespace}/${intent.name}: ${ep.name}: no pod can satisfy its selector`);
    return undefined;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${intent.name}-${ep.name}`, namespace, labels },
    spec: { containers: [{ name: 'main', ports: portsInto(intent.flows, ep.name) }] },
  };
}

/** A namespaceSelector may pin the namespace's name through its well-known label; honour that, else invent one. */
function namespaceNameFor(selector: LabelSelector, fallback: string): string {
  const pinned = labelValue(selector.matchLabels, NAMESPACE_NAME_LABEL);
  if (pinned) return pinned;
  const inExpr = selector.matchExpressions?.find((e) => e.key === NAMESPACE_NAME_LABEL && e.operator === 'In');
  return inExpr?.values?.[0] ?? fallback;
}

/** The least labels that satisfy a selector: matchLabels, one value for In, any value for Exists. */
export function satisfy(selector: LabelSelector): Record<string, string> {
  const labels: Record<string, string> = { ...(selector.matchLabels ?? {}) };
  for (const e of selector.matchExpressions ?? []) {
    // Own keys only: a selector on `constructor` must get that label, not find Object.prototype's member.
    if (e.operator === 'In' && !hasLabel(labels, e.key) && e.values?.[0] !== undefined) setLabel(labels, e.key, e.values[0]);
    if (e.operator === 'Exists' && !hasLabel(labels, e.key)) setLabel(labels, e.key, 'present');
    // NotIn and DoesNotExist are satisfied by leaving the key out.
  }
  return labels;
}

/** The container ports a destination must declare for every flow into it: numbers as such, names as names. */
function portsInto(flows: readonly Flow[], name: string): ContainerPort[] {
  const out = new Map<string, ContainerPort>();
  let nextNamed = NAMED_PORT_BASE;
  for (const f of flows) {
    if (!f.to.some((e) => e.name === name)) continue;
    for (const p of f.ports) {
      if (typeof p.port === 'number') {
        out.set(`${p.port}/${p.protocol}`, { containerPort: p.port, protocol: p.protocol });
        if (p.endPort !== undefined) out.set(`${p.endPort}/${p.protocol}`, { containerPort: p.endPort, protocol: p.protocol });
      } else if (typeof p.port === 'string' && !out.has(`name:${p.port}/${p.protocol}`)) {
        out.set(`name:${p.port}/${p.protocol}`, { name: p.port, containerPort: nextNamed++, protocol: p.protocol });
      }
    }
  }
  return [...out.values()];
}

function stranger(namespace: string, name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { [STRANGER_LABEL]: 'true' } },
    spec: { containers: [{ name: 'main', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
  };
}

function dnsPod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-dns', namespace: DNS_NAMESPACE, labels: { ...DNS_LABELS } },
    spec: {
      containers: [
        {
          name: 'coredns',
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
          ],
        },
      ],
    },
  };
}
