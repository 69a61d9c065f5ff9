/**
 * `netseg diff -f INTENTS... [--kubeconfig F] [--context C] [-n NS]`: what applying the intents would change in
 * the cluster's NetworkPolicies, as a unified diff (`kubectl diff`'s format and exit codes, so a CI job on a pull
 * request can show it and gate on it): 0 no change, 1 changes, 2 (>1) an error.
 *
 * For each intent in the files, the live intent of the same namespace/name is read for its uid, and the policies
 * it owns (managed-by label AND controller ownerReference to that uid: the operator's one ownership predicate)
 * are compared with what the file's intent compiles to, by the operator's own pure plan (src/operator/plan.ts):
 * the diff shows exactly what reconcile would create, update (a changed intent, or drift it restores) and
 * delete. Policies no intent in the files names are never shown or touched. An intent not yet in the cluster
 * owns nothing: all its policies are new. A DryRun intent is diffed as if enforced (what switching it to
 * Enforce would do), and said so. Read-only: get on intents, list on policies.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { canonicalJSON, specHash } from '../compile/canonical';
import { KIND, type SegmentationIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { MANAGED_SELECTOR } from '../operator/ownership';
import { type Plan, diff as planDiff } from '../operator/plan';
import type { LivePolicy } from '../operator/store';
import { sortObjects } from './cluster-input';
import { loadFiles } from './input';
import { compileIntents } from './intents';
import type { CliIO } from './io';
import { type KubeFlags, addKubeFlags, selection } from './kube-flags';
import { unifiedDiff } from './unified-diff';

interface DiffOptions extends KubeFlags {
  filename: string[];
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('diff')
    .description('Show, as a unified diff, how the intents in the files would change the cluster\'s NetworkPolicies (exit 1 on changes)')
    .requiredOption('-f, --filename <paths...>', 'files or folders with SegmentationIntents, or - for stdin');
  addKubeFlags(cmd, { namespace: 'the namespace of intents that name none (default: the context\'s, else default)' }).action(async (opts: DiffOptions) =>
    io.setExitCode(await runDiff(opts, io)),
  );
}

/** One intent's live state: its uid ('' when absent) and every managed policy of its namespace. */
interface Live {
  readonly uid: string;
  readonly policies: NetworkPolicy[];
}

async function runDiff(opts: DiffOptions, io: CliIO): Promise<number> {
  const loaded = loadFiles(opts.filename);
  const { intents } = sortObjects(loaded.objects);
  const errors = [...loaded.errors];
  if (intents.length === 0 && errors.length === 0) errors.push(`no ${KIND} in ${opts.filename.join(', ')}: nothing to diff`);
  if (errors.length > 0) return fail(io, errors);
  let read: (ns: string, name: string) => Promise<Live>;
  let namespace: string;
  try {
    ({ read, namespace } = await clusterReader(opts));
  } catch (e) {
    return fail(io, [(e as Error).message]);
  }
  let changes = 0;
  for (const { source, intent } of intents) {
    const ns = intent.metadata?.namespace ?? namespace;
    const name = typeof intent.metadata?.name === 'string' ? intent.metadata.name : '';
    let live: Live;
    try {
      live = await read(ns, name);
    } catch (e) {
      return fail(io, [`${source}: reading ${KIND} ${ns}/${name} and its policies: ${(e as Error).message}`]);
    }
    // Compiled with the live uid, as the operator compiles it: the ownerReference is part of what it writes.
    const withUid: SegmentationIntent = { ...intent, metadata: { ...intent.metadata, namespace: ns, ...(live.uid ? { uid: live.uid } : {}) } };
    const { compiled, errors: invalid } = compileIntents([{ source, intent: withUid }]);
    const [one] = compiled;
    if (!one) return fail(io, invalid);
    if (one.intent.enforcement !== 'Enforce') io.err(`note: ${ns}/${name} is ${one.intent.enforcement}: shown as if enforced; the operator applies none of it until spec.enforcement is Enforce\n`);
    const plan = planDiff(one.policies, live.policies.map(livePolicy), { name, namespace: ns, uid: live.uid });
    changes += printPlan(plan, live.policies, io);
  }
  return changes > 0 ? 1 : 0;
}

async function clusterReader(opts: DiffOptions): Promise<{ read: (ns: string, name: string) => Promise<Live>; namespace: string }> {
  const { kubeFor } = await import('../kube/read');
  const { kube, resolved } = kubeFor(selection(opts));
  return {
    namespace: resolved.namespace,
    read: async (ns, name) => {
      const [intent, policies] = await Promise.all([kube.getIntent(ns, name), kube.listPolicies(ns, MANAGED_SELECTOR)]);
      return { uid: intent?.metadata.uid ?? '', policies };
    },
  };
}

function livePolicy(p: NetworkPolicy): LivePolicy {
  // The store's reduction (livePolicyOf) without loading the operator's store: metadata and the spec's hash.
  return { metadata: p.metadata, specHash: specHash(p) };
}

/** Prints the plan's changes as unified diffs; returns how many policies differ (conflicts included). */
function printPlan(plan: Plan, live: readonly NetworkPolicy[], io: CliIO): number {
  const byName = new Map(live.map((p) => [p.metadata.name ?? '', p]));
  let n = 0;
  for (const d of plan.create) {
    io.out(unifiedDiff('', show(d), '/dev/null', label('intents', d)));
    n++;
  }
  for (const u of plan.update) {
    const cur = byName.get(u.current.metadata.name ?? '');
    if (!cur) continue;
    if (u.drift) io.out(`# ${id(cur)}: edited in the cluster (drift); the operator restores it\n`);
    io.out(unifiedDiff(show(cur, u.desired), show(u.desired), label('cluster', cur), label('intents', u.desired)));
    n++;
  }
  for (const gone of plan.delete) {
    const cur = byName.get(gone.metadata.name ?? '');
    if (!cur) continue;
    io.out(unifiedDiff(show(cur), '', label('cluster', cur), '/dev/null'));
    n++;
  }
  for (const c of plan.conflicts) {
    io.err(`warning: NetworkPolicy ${c} exists but is not owned by its intent: the operator will not touch it (a name conflict)\n`);
    n++;
  }
  return n;
}

/**
 * A policy as a reviewer reads it: name, namespace, the labels and annotations netseg sets (of `like` when
 * given, so a live object's other tools' marks, which the operator keeps, are no noise) and the spec with what
 * the apiserver defaults normalised away (canonicalJSON: keys sorted, protocol TCP made explicit).
 */
function show(p: NetworkPolicy, like: NetworkPolicy = p): string {
  const pick = (have: Record<string, string> | undefined, keys: Record<string, string> | undefined): Record<string, string> | undefined => {
    const out = Object.fromEntries(Object.keys(keys ?? {}).sort().flatMap((k) => (have?.[k] !== undefined ? [[k, have[k]]] : [])));
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const metadata = {
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    labels: pick(p.metadata.labels, like.metadata.labels),
    annotations: pick(p.metadata.annotations, like.metadata.annotations),
    ownerReferences: p.metadata.ownerReferences?.map(({ apiVersion, kind, name, uid, controller }) => ({ apiVersion, kind, name, uid, controller })),
  };
  const body = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: JSON.parse(JSON.stringify(metadata)) as unknown, spec: JSON.parse(canonicalJSON(p.spec)) as unknown };
  return stringify(body, { lineWidth: 0, aliasDuplicateObjects: false });
}

function id(p: NetworkPolicy): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}

/** kubectl diff names its sides by folder and `group.version.Kind.namespace.name`. */
function label(side: 'cluster' | 'intents', p: NetworkPolicy): string {
  return `${side}/networking.k8s.io.v1.NetworkPolicy.${p.metadata.namespace ?? ''}.${p.metadata.name ?? ''}`;
}

function fail(io: CliIO, errors: readonly string[]): number {
  for (const e of errors) io.err(`error: ${e}\n`);
  return 2;
}
