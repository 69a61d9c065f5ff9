/** Endpoints of an intent as NetworkPolicy peers, each with a canonical key for merging and sorting. */
import type { IPBlock, LabelSelector, NetworkPolicyPeer } from '../model/kubernetes';
import { labelValue } from '../model/labels';
import type { Endpoint } from '../intent/types';
import { formatCidr, parseCidr } from '../intent/syntax';
import { byString, canonicalSelector } from './canonical';

/**
 * A peer, its canonical JSON (`key`), and its position among the intent's peers sorted by key. A KeyedPeer
 * belongs to one compile() call: the call sets `rank` once it has seen all its peers, and never after.
 */
export interface KeyedPeer {
  readonly key: string;
  readonly peer: NetworkPolicyPeer;
  rank: number;
}

/** The label every namespace carries with its own name (set by the apiserver since Kubernetes 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Cluster DNS as most distributions label it (kube-dns and CoreDNS deployments both carry k8s-app=kube-dns)
 * in the namespace named kube-system. Both selectors, ANDed: a pod elsewhere that copies the label gets nothing.
 */
export const DNS_PEER: NetworkPolicyPeer = {
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

export function keyed(peer: NetworkPolicyPeer, key = JSON.stringify(peer)): KeyedPeer {
  return { key, peer, rank: 0 };
}

/**
 * A workload is a podSelector peer (this namespace); a selector peer ANDs both selectors in ONE peer entry, its
 * namespaceSelector confined to namespaces other than the intent's own (see outsideNamespace).
 */
export function peerOf(endpoint: Endpoint, ownNamespace: string): NetworkPolicyPeer {
  switch (endpoint.kind) {
    case 'workload':
      return { podSelector: canonicalSelector(endpoint.selector) };
    case 'selector-peer': {
      const namespaceSelector = canonicalSelector(outsideNamespace(endpoint.namespaceSelector, ownNamespace));
      return endpoint.podSelector ? { namespaceSelector, podSelector: canonicalSelector(endpoint.podSelector) } : { namespaceSelector };
    }
    case 'ip-peer':
      return { ipBlock: canonicalIpBlock(endpoint.ipBlock) };
  }
}

/**
 * API.md: peers are "anything outside this namespace". A namespaceSelector that can also select the intent's own
 * namespace ({} = every namespace, or any label the namespace may carry) would admit this namespace's pods,
 * which the intent never named: a policy allowing more than the intent says. Such a selector gets
 * `kubernetes.io/metadata.name NotIn [own]`. One that already names other namespaces is left as written, so
 * the common `matchLabels: {kubernetes.io/metadata.name: ingress-nginx}` compiles unchanged.
 */
export function outsideNamespace(selector: LabelSelector, own: string): LabelSelector {
  const pinned = labelValue(selector.matchLabels, NAMESPACE_NAME_LABEL);
  if (pinned !== undefined && pinned !== own) return selector;
  const namesOthers = (selector.matchExpressions ?? []).some(
    (e) => e.key === NAMESPACE_NAME_LABEL && e.operator === 'In' && !(e.values ?? []).includes(own),
  );
  if (namesOthers) return selector;
  const notOwn = { key: NAMESPACE_NAME_LABEL, operator: 'NotIn' as const, values: [own] };
  return { ...selector, matchExpressions: [...(selector.matchExpressions ?? []), notOwn] };
}

function canonicalIpBlock(block: IPBlock): IPBlock {
  const except = [...new Set((block.except ?? []).map(canonicalCidr))].sort(byString);
  const cidr = canonicalCidr(block.cidr);
  return except.length > 0 ? { cidr, except } : { cidr };
}

/** Bounded memo of canonicalCidr: intents name few networks, and parsing with BigInt is comparatively slow. */
const cidrMemo = new Map<string, string>();
const CIDR_MEMO_MAX = 4096;

/** One spelling per network ("2001:DB8:0::/32" → "2001:db8::/32"); text that doesn't parse is kept as is. */
function canonicalCidr(text: string): string {
  let canonical = cidrMemo.get(text);
  if (canonical === undefined) {
    const parsed = parseCidr(text);
    canonical = typeof parsed === 'string' ? text : formatCidr(parsed);
    if (cidrMemo.size >= CIDR_MEMO_MAX) cidrMemo.clear();
    cidrMemo.set(text, canonical);
  }
  return canonical;
}
