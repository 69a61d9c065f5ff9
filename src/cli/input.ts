/**
 * The one loader of every command's input (render, reach, verify, audit): files and folders (recursively),
 * multi-document YAML and JSON, `List`s, standard input for `-f -`, or a cluster through `--kubeconfig`. Every
 * object passes the one recognition of netseg's kinds (src/intent/kinds.ts, applied in ./load.ts), and every
 * problem comes back in the one issue format of ./issues.ts, never thrown.
 * Reading a cluster is src/kube's (./read.ts there), loaded only when asked for: `netseg render` never loads
 * client-node.
 */
import * as fs from 'fs';
import type { KubeSelection } from '../kube/config';
import { type Loaded, type LoadResult, MAX_YAML_BYTES, loadManifests, parseManifestText, slim } from './load';

/** `-f -`: read the manifests from standard input, as `kubectl apply -f -` does. */
export const STDIN = '-';
export const STDIN_SOURCE = '<stdin>';

export interface InputSource {
  readonly filenames?: readonly string[];
  /** Read the cluster instead of files: kubeconfig, context and namespace as kubectl resolves them. */
  readonly cluster?: KubeSelection;
}

/** Files, folders and `-` (standard input, read once), in the order given. */
export function loadFiles(paths: readonly string[], readStdin: () => string = readProcessStdin): LoadResult {
  const objects: Loaded[] = [];
  const errors: string[] = [];
  let stdinRead = false;
  for (const p of paths) {
    let result: LoadResult;
    if (p !== STDIN) result = loadManifests([p]);
    else if (stdinRead) result = { objects: [], errors: [`${STDIN_SOURCE}: given more than once`] };
    else {
      stdinRead = true;
      result = parseStdin(readStdin);
    }
    objects.push(...result.objects);
    errors.push(...result.errors);
  }
  return { objects, errors };
}

function parseStdin(readStdin: () => string): LoadResult {
  let text: string;
  try {
    text = readStdin();
  } catch (e) {
    return { objects: [], errors: [`${STDIN_SOURCE}: cannot read: ${(e as Error).message}`] };
  }
  // Standard input is read whole and parsed as YAML (JSON is YAML): the YAML bound applies.
  if (Buffer.byteLength(text, 'utf8') > MAX_YAML_BYTES) {
    return { objects: [], errors: [`${STDIN_SOURCE}: larger than ${MAX_YAML_BYTES} bytes; pass a .json file with -f instead, which is read streamed`] };
  }
  return parseManifestText(text, STDIN_SOURCE);
}

function readProcessStdin(): string {
  return fs.readFileSync(0, 'utf8');
}

/**
 * Every Namespace, Pod, NetworkPolicy, SegmentationIntent and ClusterSegmentationIntent of the cluster, and the kinds intents reference, each list complete or an error
 * naming the kubeconfig. Sources read `kubeconfig#Kind namespace/name`.
 */
export async function loadFromCluster(sel: KubeSelection): Promise<LoadResult> {
  let where = ''; // set once the kubeconfig resolved; a resolution error names its file itself
  try {
    const { kubeFor, readClusterObjects } = await import('../kube/read');
    const { kube, resolved } = kubeFor(sel);
    where = resolved.context ? `${resolved.source} (context ${resolved.context})` : resolved.source;
    const read = await readClusterObjects(kube);
    const all = [...read.namespaces, ...read.pods, ...read.policies, ...read.intents, ...read.baselines, ...read.referenced.map((o) => slim(o) as Loaded['object'])];
    return { objects: all.map((object) => ({ source: `${where}#${object.kind ?? ''} ${objectName(object)}`, object })), errors: [] };
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    return { objects: [], errors: [where ? `${where}: ${message}` : message] };
  }
}

function objectName(o: Loaded['object']): string {
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${o.metadata?.name ?? ''}` : (o.metadata?.name ?? '');
}

/** Either source: the cluster when one is selected, else the files. */
export async function loadInput(source: InputSource): Promise<LoadResult> {
  return source.cluster !== undefined ? loadFromCluster(source.cluster) : loadFiles(source.filenames ?? []);
}
