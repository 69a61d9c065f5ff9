/**
 * The proof behind `netseg verify`. For each intent and each of its workload pods W, in each direction the
 * intent isolates, the connections the cluster's policies allow on W's side must be exactly the intent's flows:
 * - Ingress isolated: every source (each other pod, and representative IPs) → W, on W's ports and the flows'
 *   ports, is admitted by W's ingress iff some flow goes from that source to W on that port.
 * - Egress isolated: W → every destination on its ports is admitted by W's egress iff some flow allows it;
 *   with allowDNS, port 53 (UDP and TCP) is also expected open, and W must reach the cluster DNS pods.
 * Only W's own side is checked: the other side belongs to whoever isolates it. A direction the intent does
 * not isolate is not checked, since the intent promises nothing there.
 * The meaning of a flow is read from the intent (./probes.ts), independently of the compiler, with upstream
 * NetworkPolicy selector semantics. The comparison runs on classes of equivalent pods (./classes.ts); this
 * module names its answer: grouped (what `netseg verify` prints by default) or one difference per pod pair.
 */
import type { ValidIntent } from '../intent/types';
import type { Protocol } from '../model/kubernetes';
import { type RuleRef, endpointName } from '../reach';
import { type DifferenceSet, type MissingDns, proveIntent } from './classes';
import type { Gap } from './coverage';
import type { Direction, VerifyContext } from './probes';

export type { Direction, VerifyContext } from './probes';

/** One difference of one pod pair (or pod and address) on one port. */
export type Difference =
  | {
      readonly kind: 'missing';
      readonly direction: Direction;
      readonly from: string;
      readonly to: string;
      readonly port: number;
      readonly protocol: Protocol;
      /** The flow (0-based index in spec.flows) that should allow it. */
      readonly flow: number;
    }
  | {
      readonly kind: 'extra';
      readonly direction: Direction;
      readonly from: string;
      readonly to: string;
      readonly port: number;
      readonly protocol: Protocol;
      /** The rules that open it; empty when the pod is not isolated at all in this direction. */
      readonly openedBy: readonly RuleRef[];
      /** True when every opening rule is one of this intent's own policies: then the compiler is wrong. */
      readonly byOwnPolicy: boolean;
    }
  | { readonly kind: 'missing-dns'; readonly from: string; readonly protocol: Protocol }
  | Gap;

/** One intent's answer, one difference per pod pair and port (`verify --per-pod`; small inputs and tests). */
export interface IntentReport {
  readonly intent: string;
  readonly workloadPods: number;
  readonly differences: readonly Difference[];
}

/** One intent's answer, grouped: the differences of many pod pairs and ports in one set (`netseg verify`). */
export interface GroupedReport {
  readonly intent: string;
  readonly workloadPods: number;
  /** What the cluster file lacks for the proof to mean anything (`--cluster` only), listed first. */
  readonly gaps: readonly Gap[];
  readonly sets: readonly DifferenceSet[];
  readonly missingDns: readonly MissingDns[];
  /** How many per-pod differences all this stands for: gaps + missing DNS + every set's pairs × ports. */
  readonly count: number;
}

export function verifyGrouped(intent: ValidIntent, ctx: VerifyContext, gaps: readonly Gap[] = []): GroupedReport {
  const proof = proveIntent(intent, ctx);
  const count = gaps.length + proof.missingDns.length + proof.sets.reduce((n, s) => n + s.pairs * s.ports.length, 0);
  return { intent: `${intent.namespace}/${intent.name}`, workloadPods: proof.workloadPods.length, gaps, sets: proof.sets, missingDns: proof.missingDns, count };
}

export function verifyIntent(intent: ValidIntent, ctx: VerifyContext): IntentReport {
  return expandReport(verifyGrouped(intent, ctx), ctx);
}

export function expandReport(r: GroupedReport, ctx: VerifyContext): IntentReport {
  const differences: Difference[] = [...r.gaps];
  forEachDifference(r, ctx, (d) => differences.push(d));
  return { intent: r.intent, workloadPods: r.workloadPods, differences };
}

/**
 * Every per-pod difference of a grouped report, one at a time (gaps excepted): for each set, each workload pod,
 * each other endpoint, each port; then missing DNS. Lets `--per-pod` stream what could be billions of lines.
 */
export function forEachDifference(r: GroupedReport, ctx: VerifyContext, visit: (d: Difference) => void): void {
  const name = (i: number): string => endpointName(ctx.cluster, { kind: 'pod', index: i });
  for (const s of r.sets) {
    const others = [...Array.from(s.otherPods, name), ...s.otherIps];
    const otherIndex = [...s.otherPods, ...s.otherIps.map(() => -1)];
    for (const w of s.workloadPods) {
      const wName = name(w);
      others.forEach((x, k) => {
        if (otherIndex[k] === w) return;
        const [from, to] = s.direction === 'Ingress' ? [x, wName] : [wName, x];
        for (const { port, protocol } of s.ports) {
          const base = { direction: s.direction, from, to, port, protocol };
          visit(s.kind === 'missing' ? { kind: 'missing', ...base, flow: s.flow } : { kind: 'extra', ...base, openedBy: s.openedBy, byOwnPolicy: s.byOwnPolicy });
        }
      });
    }
  }
  for (const m of r.missingDns) visit({ kind: 'missing-dns', from: name(m.pod), protocol: m.protocol });
}
