/**
 * What `netseg verify --cluster` requires before its proof means anything: every workload selects at least one pod
 * of the cluster file, and every named flow port is declared (containers[].ports[].name, with the flow's protocol)
 * by at least one pod of each destination that has pods in the file. Without this, a label or port-name typo makes
 * the proof vacuous (no pod to check; a rule that opens nothing) and verify would still say OK.
 * Synthetic pods are built from the intent, so they meet both by construction: only a cluster file is checked.
 * A peer that selects no pod is not a gap: its pods usually live in namespaces the file does not hold.
 */
import type { Flow, FlowPort, ValidIntent } from '../intent/types';
import type { Protocol } from '../model/kubernetes';
import type { Cluster } from '../reach';
import { IntentMembers } from './members';
import type { VerifyContext } from './probes';

export type Gap =
  | {
      readonly kind: 'selects-nothing';
      readonly workload: string;
      /** The intent's namespace, where the workload's pods should be. */
      readonly namespace: string;
      /** "spec.workloads[1].selector" */
      readonly field: string;
    }
  | {
      readonly kind: 'undeclared-port';
      /** "spec.flows[2].ports[0].port" */
      readonly field: string;
      readonly port: string;
      readonly protocol: Protocol;
      /** The destination (workload or peer name) none of whose pods declares the port. */
      readonly to: string;
    };

export function coverageGaps(intent: ValidIntent, ctx: VerifyContext): Gap[] {
  const members = new IntentMembers(ctx, intent);
  return [...emptyWorkloads(intent, members), ...intent.flows.flatMap((f) => undeclaredPorts(ctx, members, f))];
}

function emptyWorkloads(intent: ValidIntent, members: IntentMembers): Gap[] {
  return intent.workloads.flatMap((w, i): Gap[] =>
    members.podsOf(w).length === 0 ? [{ kind: 'selects-nothing', workload: w.name, namespace: intent.namespace, field: `spec.workloads[${i}].selector` }] : [],
  );
}

function undeclaredPorts(ctx: VerifyContext, members: IntentMembers, flow: Flow): Gap[] {
  const gaps: Gap[] = [];
  flow.ports.forEach((p, j) => {
    if (typeof p.port !== 'string') return;
    for (const to of flow.to) {
      // An address has no named ports to declare; a destination without pods here is reported (workload) or unknown (peer).
      const pods = to.kind === 'ip-peer' ? [] : members.podsOf(to);
      if (pods.length === 0 || pods.some((i) => declares(ctx.cluster, i, p))) continue;
      gaps.push({ kind: 'undeclared-port', field: `spec.flows[${flow.index}].ports[${j}].port`, port: p.port, protocol: p.protocol, to: to.name });
    }
  });
  return gaps;
}

/** Read from the pod spec, not from the engine's index: verify checks the engine, so it doesn't lean on it. */
function declares(cluster: Cluster, pod: number, p: FlowPort): boolean {
  const ports = cluster.pods[pod]?.pod.spec?.containers?.flatMap((c) => c.ports ?? []) ?? [];
  return ports.some((c) => c.name === p.port && (c.protocol ?? 'TCP') === p.protocol);
}
