/**
 * Reads Kubernetes manifests from files and folders, as `kubectl apply -f` would: folders recursively
 * (.yaml, .yml, .json), multi-document YAML, and `List` objects (`kubectl get -o yaml` output) flattened.
 * Parsing is defensive: alias expansion is capped (a "billion laughs" file is an error, not an OOM),
 * and every problem is reported with its file and document number, never thrown. An object that looks like
 * netseg's but is not exactly a kind this version reads is an error here, for every command (src/intent/kinds.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { recognise } from '../intent/kinds';
import type { KubeObject } from '../model/kubernetes';

export interface Loaded {
  readonly source: string; // "file.yaml#2": the file and 1-based document index
  readonly object: KubeObject;
}

export interface LoadResult {
  readonly objects: Loaded[];
  readonly errors: string[];
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** A manifest larger than this is refused: etcd's own limit on an object is 1.5 MiB. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export function loadManifests(paths: readonly string[]): LoadResult {
  const objects: Loaded[] = [];
  const errors: string[] = [];
  for (const file of paths.flatMap((p) => expand(p, errors))) {
    const result = parseManifestText(readFile(file, errors) ?? '', file);
    objects.push(...result.objects);
    errors.push(...result.errors);
  }
  return { objects, errors };
}

function expand(p: string, errors: string[]): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    errors.push(`${p}: no such file or folder`);
    return [];
  }
  if (!stat.isDirectory()) return [p];
  return fs
    .readdirSync(p, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const child = path.join(p, entry.name);
      if (entry.isDirectory()) return expand(child, errors);
      return MANIFEST_EXTENSIONS.has(path.extname(entry.name)) ? [child] : [];
    });
}

function readFile(file: string, errors: string[]): string | undefined {
  try {
    if (fs.statSync(file).size > MAX_MANIFEST_BYTES) {
      errors.push(`${file}: larger than ${MAX_MANIFEST_BYTES} bytes; split it`);
      return undefined;
    }
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    errors.push(`${file}: cannot read: ${(e as Error).message}`);
    return undefined;
  }
}

/** Parses one file's text (YAML or JSON, one or many documents). Pure: no file system access. */
export function parseManifestText(text: string, source: string): LoadResult {
  const objects: Loaded[] = [];
  const errors: string[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const where = `${source}#${i + 1}`;
    if (doc.errors.length > 0) {
      errors.push(`${where}: not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`);
      return;
    }
    let value: unknown;
    try {
      // maxAliasCount bounds anchor/alias expansion: exponential "billion laughs" input fails here.
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      errors.push(`${where}: ${(e as Error).message}`);
      return;
    }
    if (value === null || value === undefined) return; // an empty document between "---" separators
    collect(value, where, objects, errors);
  });
  return { objects, errors };
}

function collect(value: unknown, where: string, objects: Loaded[], errors: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${where}: expected a Kubernetes object (a mapping with apiVersion and kind)`);
    return;
  }
  const obj = value as KubeObject;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj['items'])) {
    (obj['items'] as unknown[]).forEach((item, j) => collect(item, `${where}.items[${j}]`, objects, errors));
    return;
  }
  if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string') {
    errors.push(`${where}: missing apiVersion or kind`);
    return;
  }
  const recognised = recognise(obj.apiVersion, obj.kind);
  if (recognised.is === 'error') {
    errors.push(`${where}: ${recognised.message}`);
    return;
  }
  objects.push({ source: where, object: obj });
}
