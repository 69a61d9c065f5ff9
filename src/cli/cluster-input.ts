/**
 * The glue between manifest files and the reachability engine: sorts loaded objects into Namespaces, Pods,
 * NetworkPolicies and SegmentationIntents, and compiles the intents into the policies the operator would
 * apply. It lives in the CLI layer because src/reach must never import the compiler it checks.
 */
import { isClusterSegmentationIntent, isSegmentationIntent } from '../intent/kinds';
import type { SegmentationIntent } from '../intent/types';
import type { ClusterSegmentationIntent } from '../intent/baseline';
import type { KubeObject, Namespace, NetworkPolicy, Pod } from '../model/kubernetes';
import type { ClusterInput } from '../reach';
import { policyId } from '../reach';
import { type ClusterObjects, indexObjects, isReferencedKind } from '../resolve';
import { loadFiles } from './input';
import { type CompiledIntent, type SourcedIntent, compileIntents } from './intents';
import type { Loaded, LoadResult } from './load';
import { type CompiledBaseline, type SourcedBaseline, compileBaselines } from './baselines';

// Validation and compilation are ./intents.ts's, shared by every command.
export { type CompileOutcome, type CompiledIntent, type SourcedIntent, compileIntents } from './intents';

export interface SortedObjects {
  readonly namespaces: Namespace[];
  readonly pods: Pod[];
  readonly policies: NetworkPolicy[];
  readonly intents: SourcedIntent[];
  /** Services, workload objects and Ingresses: what intents may reference (src/resolve). */
  readonly referenced: KubeObject[];
  readonly baselines: SourcedBaseline[];
  /** Services (also in `referenced`): `reach --to NAMESPACE/SERVICE` resolves them to their pods (./reach-resolve.ts). */
  readonly services: KubeObject[];
}

/** The index resolution reads from the objects of a file. */
export function referencedObjects(objects: SortedObjects): ClusterObjects {
  return indexObjects(objects.referenced);
}

export function sortObjects(objects: readonly Loaded[]): SortedObjects {
  const out: SortedObjects = { namespaces: [], pods: [], policies: [], intents: [], referenced: [], baselines: [], services: [] };
  for (const { source, object } of objects) {
    const kind = `${object.apiVersion}/${object.kind}`;
    if (kind === 'v1/Namespace') out.namespaces.push(withMetadata(object) as Namespace);
    else if (kind === 'v1/Pod') out.pods.push(withMetadata(object) as Pod);
    else if (kind === 'v1/Service') {
      out.services.push(withMetadata(object));
      out.referenced.push(withMetadata(object));
    }
    else if (kind === 'networking.k8s.io/v1/NetworkPolicy' && isObject(object['spec'])) {
      out.policies.push(withMetadata(object) as unknown as NetworkPolicy);
    } else if (isSegmentationIntent(object)) {
      out.intents.push({ source, intent: withMetadata(object) as unknown as SegmentationIntent });
    } else if (isReferencedKind(object) || kind === 'apps/v1/ReplicaSet') {
      out.referenced.push(withMetadata(object));
    } else if (isClusterSegmentationIntent(object)) {
      out.baselines.push({ source, baseline: withMetadata(object) as unknown as ClusterSegmentationIntent });
    }
    // Other kinds carry nothing netseg reasons about. Lookalikes of netseg's
    // kinds never get here: loadManifests reports them as errors.
  }
  return out;
}

function withMetadata(o: KubeObject): KubeObject {
  return { ...o, metadata: o.metadata ?? {} };
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface LoadedCluster {
  readonly input: ClusterInput;
  /** Every object loaded, of every kind (issue 15: `reach --flows` reads Services from them). */
  readonly loaded: readonly Loaded[];
  readonly objects: SortedObjects;
  readonly compiled: CompiledIntent[];
  readonly baselines: CompiledBaseline[];
  readonly errors: string[];
}

/**
 * Everything `reach` needs from files: the policies in them plus those their intents compile to. DryRun
 * intents add nothing, since in the cluster they apply nothing either, unless `enforceDryRun` (issue 15:
 * `reach --enforce-dry-run`, "what would break if I enforce this?").
 */
export function loadCluster(paths: readonly string[], options: { readonly enforceDryRun?: boolean } = {}): LoadedCluster {
  return clusterOf(loadFiles(paths), options);
}

/** loadCluster's work on objects already loaded (from files, the cluster, or both: ./sources.ts). */
export function clusterOf(loaded: LoadResult, options: { readonly enforceDryRun?: boolean } = {}): LoadedCluster {
  const objects = sortObjects(loaded.objects);
  const refs = referencedObjects(objects);
  const { compiled, errors } = compileIntents(objects.intents, refs);
  const base = compileBaselines(objects.baselines, objects.namespaces, refs);
  const enforced = (e: string): boolean => e === 'Enforce' || options.enforceDryRun === true;
  const generated = [
    ...compiled.filter((c) => enforced(c.intent.enforcement)).flatMap((c) => c.policies),
    ...base.compiled.filter((c) => enforced(c.baseline.enforcement)).flatMap((c) => c.policies),
  ];
  // The operator would overwrite a file's copy of a policy it generates, so the compiled one wins on a name clash.
  const generatedIds = new Set(generated.map(policyId));
  const kept = objects.policies.filter((p) => !generatedIds.has(policyId(p)));
  return {
    input: { namespaces: objects.namespaces, pods: objects.pods, policies: [...kept, ...generated] },
    loaded: loaded.objects,
    objects,
    compiled,
    baselines: base.compiled,
    errors: [...loaded.errors, ...errors, ...base.errors],
  };
}
