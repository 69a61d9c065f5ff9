/**
 * Reads Kubernetes manifests from files and folders, as `kubectl apply -f` would: folders recursively
 * (.yaml, .yml, .json), multi-document YAML, and `List` objects (`kubectl get -o yaml|json` output) flattened.
 * Parsing is defensive: alias expansion is capped (a "billion laughs" file is an error, not an OOM),
 * and every problem is reported with its file and document number, never thrown. An object that looks like
 * netseg's but is not exactly a kind this version reads is an error here, for every command (src/intent/kinds.ts).
 *
 * Size: a `.json` file is read in chunks and parsed with JSON.parse, one `items[]` element of a List at a time
 * (src/cli/json-stream.ts), so a large `kubectl get -o json` export never exists as one string or one parse
 * tree; Pods are cut down to the fields netseg reads as they are parsed. YAML is parsed whole (a yaml Document
 * tree costs many times the text), so YAML files over MAX_YAML_BYTES are refused with a hint to export JSON.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { recognise } from '../intent/kinds';
import { isReferencedKind, trimReferenced } from '../resolve';
import type { KubeObject } from '../model/kubernetes';
import { type JsonValue, scanJson } from './json-stream';

export interface Loaded {
  readonly source: string; // "file.yaml#2": the file and 1-based document index
  readonly object: KubeObject;
}

export interface LoadResult {
  readonly objects: Loaded[];
  readonly errors: string[];
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/**
 * A YAML file larger than this is refused: `yaml` builds a Document tree of roughly 15–20× the text before
 * netseg sees an object, so 256 MiB of YAML would need several GB. JSON has no such limit (read streamed).
 */
export const MAX_YAML_BYTES = 256 * 1024 * 1024;
/**
 * One JSON value that is not split into List items must be held as one string: V8 caps a string at ~512 MiB,
 * and the parsed value would need several times that. A List of any size is read item by item.
 */
export const MAX_JSON_VALUE_BYTES = 256 * 1024 * 1024;

export function loadManifests(paths: readonly string[]): LoadResult {
  const objects: Loaded[] = [];
  const errors: string[] = [];
  for (const file of paths.flatMap((p) => expand(p, errors))) {
    const result = path.extname(file) === '.json' ? readJsonFile(file) : parseManifestText(readYamlFile(file, errors) ?? '', file);
    for (const o of result.objects) objects.push(o);
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

function readYamlFile(file: string, errors: string[]): string | undefined {
  try {
    if (fs.statSync(file).size > MAX_YAML_BYTES) {
      errors.push(
        `${file}: a YAML file over ${MAX_YAML_BYTES / 1024 / 1024} MiB would not fit in memory once parsed; ` +
          'export it as JSON instead (kubectl get ... -o json), which netseg reads item by item at any size',
      );
      return undefined;
    }
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    errors.push(`${file}: cannot read: ${(e as Error).message}`);
    return undefined;
  }
}

/** A `.json` file: one or more JSON values; a List's items are parsed one at a time. Not JSON at all: read as YAML. */
function readJsonFile(file: string): LoadResult {
  const objects: Loaded[] = [];
  const errors: string[] = [];
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    return { objects, errors: [`${file}: cannot read: ${(e as Error).message}`] };
  }
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    const outcome = scanJson(
      () => {
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        return n === 0 ? undefined : chunk.subarray(0, n);
      },
      {
        maxValueBytes: MAX_JSON_VALUE_BYTES,
        item: (value) => slim(value),
        document: (doc, value) => {
          if (value === null) return;
          collect(value, `${file}#${doc}`, objects, errors);
        },
        error: (doc, message) => errors.push(`${file}#${doc}${jsonErrorPlace(file, message)}`),
      },
    );
    if (outcome === 'not-json') {
      // Not JSON (a YAML file named .json): read it as YAML, as kubectl would.
      const text = readYamlFile(file, errors);
      return text === undefined ? { objects, errors } : parseManifestText(text, file);
    }
  } catch (e) {
    errors.push(`${file}: cannot read: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
  return { objects, errors };
}

/**
 * JSON.parse names no line (Node 20), so a syntax error in a JSON file of modest size is located again with the
 * YAML parser (JSON is YAML), which does: `file#1: line 2, column 8: not valid JSON: ...`. A large export is
 * not read a second time; its error keeps the item index (`.items[i]`) the scanner gives.
 */
const MAX_RELOCATE_BYTES = 16 * 1024 * 1024;
function jsonErrorPlace(file: string, message: string): string {
  if (!message.startsWith(': not valid JSON: ')) return message;
  try {
    if (fs.statSync(file).size > MAX_RELOCATE_BYTES) return message;
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'), { prettyErrors: false, lineCounter });
    const first = (Array.isArray(docs) ? docs : [docs]).flatMap((d) => d.errors)[0];
    return first ? `: ${lineAndColumn(lineCounter, first.pos[0])}${message}` : message;
  } catch {
    return message;
  }
}

/** "line L, column C" (both 1-based, as kubectl and editors count) of an offset in the text. */
function lineAndColumn(lc: LineCounter, offset: number): string {
  const { line, col } = lc.linePos(offset);
  return `line ${line}, column ${col}`;
}

/**
 * Parses one file's text (YAML or JSON, one or many documents). Pure: no file system access. A syntax error
 * names its line and column in the file (not in the document), as kubectl's `yaml: line N:` does.
 */
export function parseManifestText(text: string, source: string): LoadResult {
  const objects: Loaded[] = [];
  const errors: string[] = [];
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const where = `${source}#${i + 1}`;
    const syntax = doc.errors[0];
    if (syntax) {
      errors.push(`${where}: ${lineAndColumn(lineCounter, syntax.pos[0])}: not valid YAML: ${syntax.message}`);
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
  const recognised = recogniseCached(obj.apiVersion, obj.kind);
  if (recognised.is === 'error') {
    errors.push(`${where}: ${recognised.message}`);
    return;
  }
  objects.push({ source: where, object: slim(obj) as KubeObject });
}

/** recognise() compares a kind with every known one; a cluster export repeats a handful of kinds thousands of times. */
const recognitions = new Map<string, ReturnType<typeof recognise>>();
function recogniseCached(apiVersion: string, kind: string): ReturnType<typeof recognise> {
  const key = `${apiVersion}\n${kind}`;
  let r = recognitions.get(key);
  if (!r) {
    r = recognise(apiVersion, kind);
    if (recognitions.size < 1000) recognitions.set(key, r);
  }
  return r;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(o, k)) out[k] = o[k];
  return out;
}

/**
 * A Pod as netseg reads it: metadata without managedFields, containers' names and ports, status IPs. A real pod
 * spec is kilobytes (env, volumes, probes, images) that no command reads; dropping it as each object is parsed
 * is what keeps a large export's memory bounded. Fields of unexpected types are kept as they are, so malformed
 * input is judged exactly as before. Other kinds are returned unchanged.
 */
export function slim(value: JsonValue | unknown): unknown {
  // The kinds intents reference keep only what resolution reads (src/resolve/keys.ts).
  if (isRecord(value) && (isReferencedKind(value) || (value['apiVersion'] === 'apps/v1' && value['kind'] === 'ReplicaSet'))) return trimReferenced(value);
  if (!isRecord(value) || value['kind'] !== 'Pod' || value['apiVersion'] !== 'v1') return value;
  const out: Record<string, unknown> = pick(value, ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const metadata = value['metadata'];
  if (isRecord(metadata) && 'managedFields' in metadata) {
    out['metadata'] = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'managedFields'));
  }
  const spec = value['spec'];
  if (isRecord(spec)) {
    const containers = spec['containers'];
    out['spec'] = Array.isArray(containers)
      ? { containers: containers.map((c: unknown) => (isRecord(c) ? pick(c, ['name', 'ports']) : c)) }
      : pick(spec, ['containers']);
  }
  const status = value['status'];
  if (isRecord(status)) out['status'] = pick(status, ['podIP', 'podIPs']);
  return out;
}
