/**
 * The field parsers both intent kinds share: a SegmentationIntent (./validate.ts) and a ClusterSegmentationIntent
 * (./validate-baseline.ts) parse their peers, ports, selectors, directions and names with these very functions,
 * so a peer means the same, and is checked the same, in both. Each reports a problem at its path with the fix,
 * never throws, and is bounded by LIMITS whatever the input's size.
 */
import type { IPBlock, LabelSelector, LabelSelectorRequirement, Protocol } from '../model/kubernetes';
import { LIMITS } from './limits';
import { dnsLabelProblem, dnsSubdomainProblem, editDistance, labelKeyProblem, labelValueProblem, parseCidr, portNameProblem, quote, strictlyInside } from './syntax';
import type { Direction, Issue } from './types';
import { WORKLOAD_KINDS } from './references';
import type { DeclaredEndpoint, DeclaredPeer, DeclaredPort, DeclaredWorkload, WorkloadKind } from './references';

export type Obj = Record<string, unknown>;

/** The fields a mapping may have, and how to name it in a message. */
export interface Shape {
  readonly fields: readonly string[];
  readonly what: string;
}

export interface Ctx {
  readonly issues: Issue[];
  /** The intent's namespace, once metadata was read: a peer reference may not name it. */
  namespace?: string;
}

const MAX_UNKNOWN_FIELDS_REPORTED = 5;
const PEER: Shape = { fields: ['name', 'namespaceSelector', 'podSelector', 'ipBlock', 'service', 'workloadRef'], what: 'a peer (name, and namespaceSelector/podSelector, ipBlock, service or workloadRef)' };
const PEER_WORKLOAD_REF: Shape = { fields: ['namespace', 'kind', 'name'], what: 'a workload reference (namespace, kind, name)' };
const PEER_SERVICE: Shape = { fields: ['namespace', 'name'], what: 'a Service reference (namespace, name)' };
const PORT: Shape = { fields: ['port', 'endPort', 'protocol'], what: 'a port (port, endPort, protocol)' };
const SELECTOR: Shape = { fields: ['matchLabels', 'matchExpressions'], what: 'a label selector (matchLabels, matchExpressions)' };
const EXPRESSION: Shape = { fields: ['key', 'operator', 'values'], what: 'a requirement (key, operator, values)' };
const IPBLOCK: Shape = { fields: ['cidr', 'except'], what: 'an ipBlock (cidr, except)' };
const DIRECTIONS: readonly Direction[] = ['Ingress', 'Egress'];
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

// ------------------------------------------------------------------------------------------------ helpers

export function report(ctx: Ctx, path: string, message: string): void {
  ctx.issues.push({ path, message });
}

export function child(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function mapKeyPath(path: string, key: string): string {
  return `${path}[${quote(key)}]`;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own field, with null read as absent (the apiserver drops nulls of non-nullable fields too). */
export function field(obj: Obj, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  const value = obj[key];
  return value === null ? undefined : value;
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? `the string ${quote(value, 32)}` : `the ${typeof value} ${String(value).slice(0, 32)}`;
}

export function asObject(ctx: Ctx, value: unknown, path: string, shape: Shape): Obj | undefined {
  const { fields: known, what } = shape;
  if (!isObject(value)) {
    report(ctx, path, `must be ${what}, not ${describe(value)}`);
    return undefined;
  }
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  for (const key of unknown.slice(0, MAX_UNKNOWN_FIELDS_REPORTED)) {
    report(ctx, child(path, quoteIfOdd(key)), `unknown field; the fields here are ${known.join(', ')}`);
  }
  if (unknown.length > MAX_UNKNOWN_FIELDS_REPORTED) {
    report(ctx, path, `${unknown.length - MAX_UNKNOWN_FIELDS_REPORTED} more unknown fields`);
  }
  return value;
}

function quoteIfOdd(key: string): string {
  return /^[A-Za-z][A-Za-z0-9]{0,62}$/.test(key) ? key : quote(key);
}

/** The longest a list may be, and what its items are called. */
interface Bound {
  readonly max: number;
  readonly what: string;
}

function asList(ctx: Ctx, value: unknown, path: string, bound: Bound): unknown[] | undefined {
  const { max, what } = bound;
  if (!Array.isArray(value)) {
    report(ctx, path, `must be a list of ${what}, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > max) {
    report(ctx, path, `has ${value.length} items; at most ${max} are allowed (split the intent)`);
    return value.slice(0, max);
  }
  return value;
}

function asString(ctx: Ctx, value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value;
  report(ctx, path, value === undefined ? 'is required' : `must be a string, not ${describe(value)}`);
  return undefined;
}

export function oneOf<T extends string>(ctx: Ctx, value: unknown, path: string, allowed: readonly T[]): T | undefined {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  report(ctx, path, `must be one of ${allowed.join(', ')}, not ${describe(value)}`);
  return undefined;
}

export function checkedName(
  ctx: Ctx,
  value: unknown,
  path: string,
  problem: (s: string) => string | undefined,
): string | undefined {
  const name = asString(ctx, value, path);
  if (name === undefined) return undefined;
  const bad = problem(name);
  if (bad) report(ctx, path, bad);
  return bad ? undefined : name;
}

export function stringEntries(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value).slice(0, 1000)) {
    if (typeof v === 'string') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true });
  }
  return out;
}

/**
 * The characters of every selector's label keys and values (expression values too), in workloads and peers
 * together, are bounded: flows copy a peer into every policy they touch, so this text is what compiled
 * output multiplies. The CRD has the same rule in CEL (the one part of the compile budget it can check).
 */
export function checkSelectorText(ctx: Ctx, workloads: readonly DeclaredWorkload[], peers: readonly DeclaredPeer[]): void {
  const selectors = [
    ...workloads.flatMap((w) => (w.kind === 'workload' ? [w.selector] : [])),
    ...peers.flatMap((p) => (p.kind === 'selector-peer' ? [p.namespaceSelector, p.podSelector] : [])),
  ];
  const total = selectors.reduce((n, s) => n + (s ? selectorText(s) : 0), 0);
  if (total > LIMITS.selectorText) {
    report(ctx, 'spec', `the label keys and values of the selectors of spec.workloads and spec.peers total ${total} characters; at most ${LIMITS.selectorText}: use shorter or fewer labels, or split the intent`);
  }
}

/** The characters of a selector's label keys and values (expression values too): what the selector budget counts. */
export function selectorText(s: LabelSelector): number {
  const labels = Object.entries(s.matchLabels ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
  const expressions = (s.matchExpressions ?? []).reduce((n, e) => n + e.key.length + (e.values ?? []).reduce((m, v) => m + v.length, 0), 0);
  return labels + expressions;
}

export function optional<T>(value: unknown, fallback: T, parse: (v: unknown) => T | undefined): T | undefined {
  return value === undefined ? fallback : parse(value);
}

export function booleanOf(ctx: Ctx, value: unknown, path: string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  report(ctx, path, `must be true or false, not ${describe(value)}`);
  return undefined;
}

/** Parses every item (so that all problems are reported); undefined when any item failed. */
export function listOf<T>(
  ctx: Ctx,
  value: unknown,
  at: { readonly path: string; readonly max: number },
  item: (v: unknown, path: string, index: number) => T | undefined,
): T[] | undefined {
  const { path, max } = at;
  if (value === undefined) return [];
  const list = asList(ctx, value, path, { max, what: 'mappings' });
  if (!list) return undefined;
  const out = list.map((v, i) => item(v, `${path}[${i}]`, i));
  return out.every((x) => x !== undefined) ? (out as T[]) : undefined;
}

export function directionsOf(ctx: Ctx, value: unknown, path: string): Direction[] | undefined {
  const list = asList(ctx, value, path, { max: DIRECTIONS.length, what: 'directions (Ingress, Egress)' });
  if (!list) return undefined;
  if (list.length === 0) {
    report(ctx, path, 'must list Ingress, Egress or both (omit it for the default [Ingress])');
    return undefined;
  }
  const parsed = list.map((v, i) => oneOf(ctx, v, `${path}[${i}]`, DIRECTIONS));
  if (parsed.some((d) => d === undefined)) return undefined;
  if (new Set(parsed).size !== parsed.length) {
    report(ctx, path, 'lists a direction twice');
    return undefined;
  }
  return DIRECTIONS.filter((d) => parsed.includes(d));
}

// ---------------------------------------------------------------------------------------------- names

/** The workloads and peers by name, so that flows can resolve them and duplicates are found. */
export class NameTable {
  private readonly byName = new Map<string, { path: string; endpoint?: DeclaredEndpoint }>();

  /** Registers a name (even of a broken entry, so that flows naming it don't report it as unknown). */
  claim(ctx: Ctx, name: string, path: string): boolean {
    const first = this.byName.get(name);
    if (first) {
      report(ctx, path, `${quote(name)} is already the name of ${first.path}; names must be unique across workloads and peers`);
      return false;
    }
    this.byName.set(name, { path: path.replace(/\.name$/, '') });
    return true;
  }

  define(endpoint: DeclaredEndpoint): void {
    const entry = this.byName.get(endpoint.name);
    if (entry && !entry.endpoint) entry.endpoint = endpoint;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** undefined: known but broken (already reported). */
  get(name: string): DeclaredEndpoint | undefined {
    return this.byName.get(name)?.endpoint;
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }
}

export function endpointName(ctx: Ctx, value: unknown, path: string, table: NameTable): string | undefined {
  const name = checkedName(ctx, value, path, dnsLabelProblem);
  if (name === undefined) {
    // A malformed name still counts as defined, so that flows don't also call it unknown.
    if (typeof value === 'string') table.claim(ctx, value, path);
    return undefined;
  }
  return table.claim(ctx, name, path) ? name : undefined;
}
export type ObjectRefOf<K> = { kind: K; namespace: string; name: string; path: string };

export function workloadRefOf(ctx: Ctx, r: Obj, at: string, namespace: string): ObjectRefOf<WorkloadKind> | undefined {
  const kind = oneOf(ctx, field(r, 'kind'), child(at, 'kind'), WORKLOAD_KINDS);
  const name = checkedName(ctx, field(r, 'name'), child(at, 'name'), dnsSubdomainProblem);
  return kind && name !== undefined ? { kind, namespace, name, path: at } : undefined;
}

export function peerOf(ctx: Ctx, value: unknown, path: string, table: NameTable): DeclaredPeer | undefined {
  const p = asObject(ctx, value, path, PEER);
  if (!p) return undefined;
  const name = endpointName(ctx, field(p, 'name'), child(path, 'name'), table);
  const shape = peerShapeOf(ctx, p, path);
  if (name === undefined || !shape) return undefined;
  const peer = { ...shape, name } as DeclaredPeer;
  table.define(peer);
  return peer;
}

type PeerShape =
  | { kind: 'selector-peer'; namespaceSelector: LabelSelector; podSelector?: LabelSelector }
  | { kind: 'ip-peer'; ipBlock: IPBlock }
  | { kind: 'service-peer'; ref: ObjectRefOf<'Service'> }
  | { kind: 'ref-peer'; ref: ObjectRefOf<WorkloadKind> };

function peerShapeOf(ctx: Ctx, p: Obj, path: string): PeerShape | undefined {
  const refs = ['service', 'workloadRef'].filter((k) => field(p, k) !== undefined);
  if (refs.length === 0) return selectorOrIpPeerOf(ctx, p, path);
  const others = ['namespaceSelector', 'podSelector', 'ipBlock'].filter((k) => field(p, k) !== undefined);
  if (refs.length + others.length > 1) {
    report(ctx, path, `gives ${[...others, ...refs].join(' and ')}: a peer is exactly one of namespaceSelector/podSelector, ipBlock, service or workloadRef; keep one`);
    return undefined;
  }
  const at = child(path, refs[0] as string);
  const r = asObject(ctx, field(p, refs[0] as string), at, refs[0] === 'service' ? PEER_SERVICE : PEER_WORKLOAD_REF);
  if (!r) return undefined;
  const namespace = checkedName(ctx, field(r, 'namespace'), child(at, 'namespace'), dnsLabelProblem);
  if (namespace !== undefined && namespace === ctx.namespace) {
    report(ctx, child(at, 'namespace'), `is the intent's own namespace ${quote(namespace)}: a peer is outside the namespace; declare it under spec.workloads (service: or workloadRef:) instead`);
    return undefined;
  }
  if (refs[0] === 'service') {
    const name = checkedName(ctx, field(r, 'name'), child(at, 'name'), dnsLabelProblem);
    return namespace !== undefined && name !== undefined ? { kind: 'service-peer', ref: { kind: 'Service', namespace, name, path: at } } : undefined;
  }
  const ref = workloadRefOf(ctx, r, at, namespace ?? '');
  return namespace !== undefined && ref ? { kind: 'ref-peer', ref } : undefined;
}

function selectorOrIpPeerOf(ctx: Ctx, p: Obj, path: string): PeerShape | undefined {
  const rawNs = field(p, 'namespaceSelector');
  const rawPod = field(p, 'podSelector');
  const rawIp = field(p, 'ipBlock');
  const hasSelectors = rawNs !== undefined || rawPod !== undefined;
  if (hasSelectors && rawIp !== undefined) {
    report(ctx, path, 'a peer is selectors (namespaceSelector, podSelector) or an ipBlock, not both; split it into two peers');
    return undefined;
  }
  if (rawIp !== undefined) {
    const ipBlock = ipBlockOf(ctx, rawIp, child(path, 'ipBlock'));
    return ipBlock ? { kind: 'ip-peer', ipBlock } : undefined;
  }
  if (!hasSelectors) {
    report(ctx, path, 'a peer needs namespaceSelector (optionally with podSelector), ipBlock, service ({namespace, name}) or workloadRef ({namespace, kind, name})');
    return undefined;
  }
  if (rawNs === undefined) {
    report(
      ctx,
      child(path, 'namespaceSelector'),
      'is required with podSelector: a podSelector alone would select pods of this namespace; add namespaceSelector ' +
        '({} for every namespace, or {matchLabels: {kubernetes.io/metadata.name: NAME}}), or declare those pods as a workload',
    );
  }
  return selectorPeerOf(ctx, rawNs, rawPod, path);
}

function selectorPeerOf(ctx: Ctx, rawNs: unknown, rawPod: unknown, path: string): PeerShape | undefined {
  const namespaceSelector = rawNs === undefined ? undefined : selectorOf(ctx, rawNs, child(path, 'namespaceSelector'));
  const podSelector = rawPod === undefined ? undefined : selectorOf(ctx, rawPod, child(path, 'podSelector'));
  if (!namespaceSelector || (rawPod !== undefined && !podSelector)) return undefined;
  return { kind: 'selector-peer', namespaceSelector, ...(podSelector ? { podSelector } : {}) };
}

function ipBlockOf(ctx: Ctx, value: unknown, path: string): IPBlock | undefined {
  const b = asObject(ctx, value, path, IPBLOCK);
  if (!b) return undefined;
  const cidrText = asString(ctx, field(b, 'cidr'), child(path, 'cidr'));
  const cidr = cidrText === undefined ? undefined : parseCidr(cidrText);
  if (typeof cidr === 'string') report(ctx, child(path, 'cidr'), cidr);
  const rawExcept = field(b, 'except');
  if (rawExcept === undefined) return cidrText !== undefined && typeof cidr === 'object' ? { cidr: cidrText } : undefined;
  const list = asList(ctx, rawExcept, child(path, 'except'), { max: LIMITS.except, what: 'CIDRs' });
  if (!list) return undefined;
  const outer = { text: cidrText ?? '', cidr };
  const except = list.map((v, i) => exceptOf(ctx, v, `${path}.except[${i}]`, outer));
  if (cidrText === undefined || typeof cidr !== 'object' || except.some((e) => e === undefined)) return undefined;
  return { cidr: cidrText, except: except as string[] };
}

function exceptOf(
  ctx: Ctx,
  value: unknown,
  path: string,
  outer: { text: string; cidr: ReturnType<typeof parseCidr> | undefined },
): string | undefined {
  const text = asString(ctx, value, path);
  if (text === undefined) return undefined;
  const inner = parseCidr(text);
  if (typeof inner === 'string') {
    report(ctx, path, inner);
    return undefined;
  }
  if (typeof outer.cidr === 'object' && !strictlyInside(inner, outer.cidr)) {
    report(ctx, path, `${quote(text)} is not strictly inside cidr ${quote(outer.text)}; except may only cut holes into cidr`);
    return undefined;
  }
  return text;
}

// ------------------------------------------------------------------------------------------- selectors

export function selectorOf(ctx: Ctx, value: unknown, path: string): LabelSelector | undefined {
  const s = asObject(ctx, value, path, SELECTOR);
  if (!s) return undefined;
  const rawLabels = field(s, 'matchLabels');
  const rawExpressions = field(s, 'matchExpressions');
  const matchLabels = rawLabels === undefined ? {} : matchLabelsOf(ctx, rawLabels, child(path, 'matchLabels'));
  const matchExpressions =
    rawExpressions === undefined ? [] : expressionsOf(ctx, rawExpressions, child(path, 'matchExpressions'));
  if (!matchLabels || !matchExpressions) return undefined;
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

function matchLabelsOf(ctx: Ctx, value: unknown, path: string): Record<string, string> | undefined {
  if (!isObject(value)) {
    report(ctx, path, `must be a mapping of label keys to values, not ${describe(value)}`);
    return undefined;
  }
  const entries = Object.entries(value);
  if (entries.length > LIMITS.matchLabels) {
    report(ctx, path, `has ${entries.length} labels; at most ${LIMITS.matchLabels}`);
    return undefined;
  }
  const before = ctx.issues.length;
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    const at = mapKeyPath(path, key);
    const keyBad = labelKeyProblem(key);
    if (keyBad) report(ctx, at, keyBad);
    if (typeof v !== 'string') report(ctx, at, `must be a string, not ${describe(v)} (quote numbers and booleans)`);
    const valueBad = typeof v === 'string' ? labelValueProblem(v) : undefined;
    if (valueBad) report(ctx, at, valueBad);
    if (typeof v === 'string') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
  }
  return ctx.issues.length === before ? out : undefined;
}

function expressionsOf(ctx: Ctx, value: unknown, path: string): LabelSelectorRequirement[] | undefined {
  return listOf(ctx, value, { path, max: LIMITS.matchExpressions }, (v, p) => expressionOf(ctx, v, p));
}

function expressionOf(ctx: Ctx, value: unknown, path: string): LabelSelectorRequirement | undefined {
  const e = asObject(ctx, value, path, EXPRESSION);
  if (!e) return undefined;
  const key = asString(ctx, field(e, 'key'), child(path, 'key'));
  const keyBad = key === undefined ? undefined : labelKeyProblem(key);
  if (keyBad) report(ctx, child(path, 'key'), keyBad);
  const operator = oneOf(ctx, field(e, 'operator'), child(path, 'operator'), OPERATORS);
  const values = valuesOf(ctx, field(e, 'values'), child(path, 'values'), operator);
  if (key === undefined || keyBad || !operator || !values) return undefined;
  return { key, operator, ...(operator === 'In' || operator === 'NotIn' ? { values } : {}) };
}

function valuesOf(ctx: Ctx, value: unknown, path: string, operator: string | undefined): string[] | undefined {
  const needsValues = operator === 'In' || operator === 'NotIn';
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    if (needsValues) report(ctx, path, `${operator} needs at least one value`);
    return needsValues ? undefined : [];
  }
  if (operator !== undefined && !needsValues) {
    report(ctx, path, `${operator} takes no values; remove them`);
    return undefined;
  }
  const list = asList(ctx, value, path, { max: LIMITS.expressionValues, what: 'label values' });
  if (!list) return undefined;
  const before = ctx.issues.length;
  const values = list.map((v, i) => asString(ctx, v, `${path}[${i}]`));
  values.forEach((v, i) => {
    const bad = v === undefined ? undefined : labelValueProblem(v);
    if (bad) report(ctx, `${path}[${i}]`, bad);
  });
  return ctx.issues.length === before ? (values as string[]) : undefined;
}

/** endPort is refused for a Service destination: a Service's ports are a list, not a range. */
export function rangesNotToServices(ctx: Ctx, to: readonly DeclaredEndpoint[], ports: readonly DeclaredPort[], path: string): boolean {
  const service = to.find((e) => e.kind === 'service-workload' || e.kind === 'service-peer');
  const ranged = ports.findIndex((p) => p.endPort !== undefined);
  if (!service || ranged < 0) return true;
  report(ctx, `${path}[${ranged}].endPort`, `is not allowed to a Service (${quote(service.name)} is one): name each Service port by number or name, or write the flow to a selector or workloadRef endpoint`);
  return false;
}

export function namesOf(ctx: Ctx, value: unknown, path: string): { name: string; at: string }[] | undefined {
  if (typeof value === 'string') return [{ name: value, at: path }];
  if (!Array.isArray(value)) {
    report(ctx, path, `must be a name or a list of names, not ${describe(value)}`);
    return undefined;
  }
  const list = asList(ctx, value, path, { max: LIMITS.flowEndpoints, what: 'names' });
  if (!list) return undefined;
  if (list.length === 0) {
    report(ctx, path, 'must name at least one workload or peer');
    return undefined;
  }
  const names = list.map((v, i) => ({ name: asString(ctx, v, `${path}[${i}]`), at: `${path}[${i}]` }));
  return names.every((n) => n.name !== undefined) ? (names as { name: string; at: string }[]) : undefined;
}

/** undefined when unknown (reported here) or when the named entry is itself broken (reported there). */
export function endpointByName(ctx: Ctx, name: string, path: string, table: NameTable): DeclaredEndpoint | undefined {
  if (table.has(name)) return table.get(name);
  const known = table.names();
  const shown = known.length > 20 ? `${known.slice(0, 20).join(', ')}, …` : known.join(', ');
  const guess = closest(name, known);
  report(
    ctx,
    path,
    `unknown workload or peer ${quote(name)} (known: ${shown || 'none; declare it under spec.workloads or spec.peers'})` +
      (guess ? `; did you mean ${quote(guess)}?` : ''),
  );
  return undefined;
}

/** The known name within edit distance 2, if exactly one is nearest: a likely typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  if (name.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

// ---------------------------------------------------------------------------------------------- ports

export function portsOf(ctx: Ctx, value: unknown, path: string): DeclaredPort[] | undefined {
  if (Array.isArray(value) && value.length === 0) {
    report(ctx, path, 'is empty; omit ports to allow every port, or list at least one');
    return undefined;
  }
  return listOf(ctx, value, { path, max: LIMITS.portsPerFlow }, (v, p) => portOf(ctx, v, p));
}

/** The protocol stays absent when not written: to a Service it filters, elsewhere it means TCP (localPort). */
function portOf(ctx: Ctx, value: unknown, path: string): DeclaredPort | undefined {
  const p = asObject(ctx, value, path, PORT);
  if (!p) return undefined;
  const rawProtocol = field(p, 'protocol');
  const protocol = rawProtocol === undefined ? undefined : oneOf(ctx, rawProtocol, child(path, 'protocol'), PROTOCOLS);
  const port = field(p, 'port');
  const endPort = field(p, 'endPort');
  const ok = portValueOk(ctx, port, child(path, 'port')) && endPortOk(ctx, endPort, port, path);
  if ((rawProtocol !== undefined && !protocol) || !ok) return undefined;
  const proto = protocol ? { protocol } : {};
  if (port === undefined) return proto;
  if (typeof port === 'string') return { ...proto, port };
  const end = endPort as number | undefined;
  return end === undefined || end === port ? { ...proto, port: port as number } : { ...proto, port: port as number, endPort: end };
}

function isPortNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function portValueOk(ctx: Ctx, port: unknown, path: string): boolean {
  if (port === undefined || isPortNumber(port)) return true;
  if (typeof port === 'string') {
    const bad = portNameProblem(port);
    if (bad) report(ctx, path, bad);
    return !bad;
  }
  report(ctx, path, `must be a port number 1-65535 or a port name, not ${describe(port)}`);
  return false;
}

function endPortOk(ctx: Ctx, endPort: unknown, port: unknown, path: string): boolean {
  if (endPort === undefined) return true;
  const at = child(path, 'endPort');
  if (!isPortNumber(endPort)) {
    report(ctx, at, `must be a port number 1-65535, not ${describe(endPort)}`);
    return false;
  }
  if (typeof port !== 'number') {
    report(ctx, at, 'needs a numeric port: a range starts at port (a named port cannot start a range)');
    return false;
  }
  if (endPort < port) {
    report(ctx, at, `${endPort} is below port ${port}; endPort must be >= port`);
    return false;
  }
  return true;
}
