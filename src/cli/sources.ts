/**
 * Where `render`, `reach` and `verify` take the cluster's objects from (issue 13, item 4): files (`-f`), the live
 * cluster (kubectl's flags, read-only, through the one loader ./input.ts and the one reader src/kube/read.ts),
 * or both, the files laid over the cluster.
 *
 *   - no `-f`: everything from the cluster, whose kubeconfig resolves as kubectl's does (`--kubeconfig`,
 *     `$KUBECONFIG`, `~/.kube/config`, in-cluster; `--context`), as `netseg audit` without `-f` does;
 *   - `-f` alone: the files only. The environment never adds a cluster behind a user's back: a render of files is
 *     the same on every machine, and an intent with references and no objects for them fails naming them;
 *   - `-f` with `--kubeconfig` or `--context`: the cluster's objects, with the files' laid over them: an object
 *     in a file replaces the cluster's object of the same group, kind, namespace and name (the file is the change
 *     under review, as with `kubectl diff -f`).
 * A cluster that cannot be read (no kubeconfig, a 403, a missing page) is an error and nothing else: never half
 * a cluster presented as the whole (Kube.listAll lists every page or fails).
 */
import type { KubeSelection } from '../kube/config';
import { loadFiles, loadFromCluster } from './input';
import { type KubeFlags, namesCluster, selection } from './kube-flags';
import type { Loaded, LoadResult } from './load';

export interface SourceFlags extends KubeFlags {
  readonly filename?: readonly string[];
}

/** The cluster to read for these flags, or undefined when the files are the whole input. */
export function clusterToRead(f: SourceFlags): KubeSelection | undefined {
  if (f.filename === undefined) return selection(f);
  return namesCluster(f) ? selection(f) : undefined;
}

export interface ClusterRead {
  /** The cluster's objects (every kind the reader lists), or none when it was not read. */
  readonly objects: readonly Loaded[];
  readonly errors: readonly string[];
  /** Whether the cluster was read (successfully or not). */
  readonly read: boolean;
}

/** Reads the cluster when the flags ask for one (see the module comment). */
export async function readClusterFor(f: SourceFlags): Promise<ClusterRead> {
  const sel = clusterToRead(f);
  if (sel === undefined) return { objects: [], errors: [], read: false };
  const r = await loadFromCluster(sel);
  return { objects: r.objects, errors: r.errors, read: true };
}

/**
 * The files' objects laid over the cluster's: a cluster object is dropped when a file holds one with the same
 * identity. Objects without a name have no identity and are kept (the checks that read them report them).
 */
export function overlay(cluster: readonly Loaded[], files: readonly Loaded[]): Loaded[] {
  const inFiles = new Set(files.map((o) => identity(o)).filter((k): k is string => k !== undefined));
  const kept = cluster.filter((o) => {
    const k = identity(o);
    return k === undefined || !inFiles.has(k);
  });
  return [...kept, ...files];
}

/** group/kind/namespace/name: the version is not part of an object's identity (apps/v1 and apps/v1beta2 name one Deployment). */
function identity({ object }: Loaded): string | undefined {
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return `${group}\n${String(object.kind)}\n${object.metadata?.namespace ?? ''}\n${name}`;
}

/** Both: the files (already loaded) over the cluster (read when asked for); every error of either. */
export function combine(files: LoadResult, cluster: ClusterRead): LoadResult {
  return { objects: overlay(cluster.objects, files.objects), errors: [...cluster.errors, ...files.errors] };
}

export type Combined = { readonly ok: true; readonly loaded: LoadResult; readonly cluster: ClusterRead } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * The cluster (when the flags ask for one) with the -f files over it. A cluster that can't be read is the only
 * answer (`ok: false`): the files are not read and nothing is computed over a part of the cluster.
 * `fromCluster` keeps only some of the cluster's objects (render: not its intents when -f gives them).
 */
export async function loadCombined(f: SourceFlags, fromCluster: (o: Loaded) => boolean = () => true): Promise<Combined> {
  const cluster = await readClusterFor(f);
  if (cluster.errors.length > 0) return { ok: false, errors: clusterErrors(f, cluster) };
  const files = f.filename ? loadFiles(f.filename) : { objects: [], errors: [] };
  return { ok: true, loaded: combine(files, { ...cluster, objects: cluster.objects.filter(fromCluster) }), cluster };
}

/** The lines to print when the cluster could not be read: each error, and without -f, why the cluster was read at all. */
export function clusterErrors(f: SourceFlags, cluster: ClusterRead): string[] {
  const why = f.filename === undefined ? ' (without -f the input is the cluster: give -f FILE... to read files instead)' : '';
  return cluster.errors.map((e) => `cannot read the cluster: ${e}${why}`);
}

/** What a message calls the input: the files, the cluster, or both. */
export function inputName(f: SourceFlags, cluster: ClusterRead): string {
  const files = f.filename?.join(', ');
  if (!cluster.read) return files ?? '';
  return files === undefined ? 'the cluster' : `${files} and the cluster`;
}
