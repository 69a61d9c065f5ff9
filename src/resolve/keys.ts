/**
 * What the operator indexes and keeps of referenced objects, pure so that the CLI trims files the same way:
 *  - referenceKeysOf(intent as stored): the objects an intent names, as keys (`Service/ns/name`, `Ingress/ns`
 *    for its ingressRoutes). Read leniently from the raw spec, not through validation: an intent being fixed
 *    still follows the objects it names.
 *  - trimReferenced(object): only the fields resolution reads. A Deployment's pod template, a Service's status,
 *    managedFields and the last-applied-configuration annotation are most of an object and never read, so the
 *    operator's cache and a CLI export of thousands of objects stay small.
 */
import type { KubeObject } from '../model/kubernetes';

export function refKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** Every Ingress of a namespace: what an intent with ingressRoutes follows. */
export function ingressesKey(namespace: string): string {
  return `Ingress/${namespace}`;
}

/** The key an event of a referenced object maps to (Ingresses by namespace, the rest by name). */
export function keyOfObject(o: KubeObject): string {
  const ns = o.metadata?.namespace ?? '';
  return o.kind === 'Ingress' ? ingressesKey(ns) : refKey(o.kind ?? '', ns, o.metadata?.name ?? '');
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Bounded like the CRD: a stored intent can't name more than this many objects. */
const MAX_KEYS = 256;

export function referenceKeysOf(intent: KubeObject): string[] {
  const ns = intent.metadata?.namespace ?? '';
  const spec = isObj(intent['spec']) ? intent['spec'] : {};
  const keys = new Set<string>();
  for (const w of list(spec['workloads']).slice(0, MAX_KEYS)) {
    if (!isObj(w)) continue;
    const svc = str(w['service']);
    if (svc) keys.add(refKey('Service', ns, svc));
    const ref = isObj(w['workloadRef']) ? w['workloadRef'] : undefined;
    if (ref && str(ref['kind']) && str(ref['name'])) keys.add(refKey(ref['kind'] as string, ns, ref['name'] as string));
  }
  for (const p of list(spec['peers']).slice(0, MAX_KEYS)) {
    if (!isObj(p)) continue;
    for (const [field, kind] of [['service', 'Service'], ['workloadRef', undefined]] as const) {
      const ref = isObj(p[field]) ? (p[field] as Obj) : undefined;
      const k = kind ?? str(ref?.['kind']);
      if (ref && k && str(ref['namespace']) && str(ref['name'])) keys.add(refKey(k, ref['namespace'] as string, ref['name'] as string));
    }
  }
  if (list(spec['ingressRoutes']).length > 0) keys.add(ingressesKey(ns));
  return [...keys];
}

const SPEC_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Service: ['selector', 'ports'],
  Deployment: ['selector'],
  StatefulSet: ['selector'],
  DaemonSet: ['selector'],
  ReplicaSet: ['selector'],
  Ingress: ['ingressClassName', 'defaultBackend', 'rules'],
};
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

function pick(o: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(o, k)) out[k] = o[k];
  return out;
}

/** Metadata: name, namespace, uid, resourceVersion, generation, labels, ownerReferences (and an Ingress's class). */
export function trimReferenced(value: Obj): KubeObject {
  const out: Obj = pick(value, ['apiVersion', 'kind']);
  const metadata = value['metadata'];
  if (isObj(metadata)) {
    const meta = pick(metadata, ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'labels', 'ownerReferences', 'deletionTimestamp']);
    const annotations = metadata['annotations'];
    if (value['kind'] === 'Ingress' && isObj(annotations) && INGRESS_CLASS_ANNOTATION in annotations) {
      meta['annotations'] = { [INGRESS_CLASS_ANNOTATION]: annotations[INGRESS_CLASS_ANNOTATION] };
    }
    out['metadata'] = meta;
  } else if (metadata !== undefined) out['metadata'] = metadata;
  const spec = value['spec'];
  if (isObj(spec)) out['spec'] = pick(spec, SPEC_FIELDS[String(value['kind'])] ?? []);
  else if (spec !== undefined) out['spec'] = spec;
  return out as KubeObject;
}
