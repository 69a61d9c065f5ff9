/**
 * `netseg test -f CLUSTER... --queries FILE [-o text|json|junit]`: expected verdicts, checked. Each entry of the
 * queries file (a JSON or YAML array) is a `reach` question with `"expect": "allowed"|"denied"` and an optional
 * `"name"`; a side may be a pod, a workload, a Service or an IP and the port a number or a name, as in `reach`
 * (./reach-resolve.ts), and every pod pair a question covers must have the expected verdict. A unit test for
 * segmentation, run in CI on every change of the policies or intents.
 *
 * Exit codes: 0 every expectation holds, 1 any does not, 2 the input cannot be checked (a usage error, an
 * unreadable or invalid file, a question that names nothing): never 0 for a test that did not run.
 * `-o junit` writes JUnit XML (one testcase per entry, the explanation of each failing pair in <failure>), which
 * GitLab, Jenkins, GitHub Actions' reporters and most CI systems display.
 */
import * as fs from 'fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { parse } from 'yaml';
import { type Cluster, buildCluster, evaluate } from '../reach';
import { loadCluster } from './cluster-input';
import type { CliIO } from './io';
import { explain } from './reach';
import { type Expanded, type RawQuery, type ServiceInfo, expandQuery, servicesFrom } from './reach-resolve';

type Expect = 'allowed' | 'denied';

interface TestOptions {
  filename: string[];
  queries: string;
  output: 'text' | 'json' | 'junit';
}

export interface CaseResult {
  readonly name: string;
  readonly expect: Expect;
  readonly passed: boolean;
  /** Pod pairs whose verdict is not the expected one, each explained. */
  readonly mismatches: readonly string[];
  readonly pairs: number;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('test')
    .description('Check expected verdicts ("expect": "allowed"|"denied") against the cluster files; exit 1 on any mismatch')
    .requiredOption('-f, --filename <paths...>', 'YAML/JSON files or folders: Namespaces, Pods, Services, NetworkPolicies, SegmentationIntents')
    .requiredOption('--queries <file>', 'a JSON or YAML array of {name?, from, to, port, protocol?, expect}')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'junit']).default('text'))
    .action((opts: TestOptions) => io.setExitCode(runTest(opts, io)));
}

function runTest(opts: TestOptions, io: CliIO): number {
  const loaded = loadCluster(opts.filename);
  if (loaded.errors.length > 0) return fail(io, loaded.errors);
  const cluster = buildCluster(loaded.input);
  for (const issue of cluster.issues) io.err(`warning: ${issue}\n`);
  const cases = readCases(opts.queries, cluster, servicesFrom(loaded.objects.services));
  if (typeof cases === 'string') return fail(io, [cases]);
  const started = Date.now();
  const results = cases.map((c) => check(cluster, c));
  if (opts.output === 'junit') io.out(junit(opts.queries, results, (Date.now() - started) / 1000));
  else if (opts.output === 'json') io.out(`${JSON.stringify({ passed: results.filter((r) => r.passed).length, failed: results.filter((r) => !r.passed).length, results }, null, 2)}\n`);
  else io.out(text(results));
  return results.every((r) => r.passed) ? 0 : 1;
}

interface Case {
  readonly name: string;
  readonly expect: Expect;
  readonly question: Expanded;
}

function readCases(file: string, cluster: Cluster, services: readonly ServiceInfo[]): Case[] | string {
  let parsed: unknown;
  try {
    parsed = parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  }
  if (!Array.isArray(parsed)) return `${file}: expected an array of {from, to, port, protocol?, expect: allowed|denied}`;
  const cases: Case[] = [];
  for (const [i, entry] of parsed.entries()) {
    const where = `${file}: query ${i}`;
    if (typeof entry !== 'object' || entry === null) return `${where}: not an object`;
    const e = entry as RawQuery & { expect?: unknown; name?: unknown };
    if (e.expect !== 'allowed' && e.expect !== 'denied') return `${where}: expect ${JSON.stringify(e.expect)} must be "allowed" or "denied"`;
    const question = expandQuery(cluster, services, e);
    if (typeof question === 'string') return `${where}: ${question}`;
    if (question.pairs.length === 0) return `${where}: no pod of ${question.to.label} declares a ${question.protocol} port named ${JSON.stringify(question.portText)}`;
    const name = typeof e.name === 'string' && e.name !== '' ? e.name : `${question.from.label} -> ${question.to.label} ${question.protocol}/${question.portText} is ${e.expect}`;
    cases.push({ name, expect: e.expect, question });
  }
  return cases;
}

function check(cluster: Cluster, c: Case): CaseResult {
  const mismatches: string[] = [];
  for (const t of c.question.pairs) {
    const v = evaluate(cluster, t);
    if (v.allowed !== (c.expect === 'allowed')) mismatches.push(explain(cluster, t, v).trimEnd());
  }
  return { name: c.name, expect: c.expect, passed: mismatches.length === 0, mismatches, pairs: c.question.pairs.length };
}

function text(results: readonly CaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.passed) {
      lines.push(`PASS ${r.name}`);
      continue;
    }
    lines.push(`FAIL ${r.name}: expected ${r.expect}, but ${r.mismatches.length} of ${r.pairs} pod pair(s) are ${r.expect === 'allowed' ? 'denied' : 'allowed'}`);
    for (const m of r.mismatches) lines.push(...m.split('\n').map((l) => `  ${l}`));
  }
  const failed = results.filter((r) => !r.passed).length;
  lines.push('', `${results.length - failed} passed, ${failed} failed`);
  return `${lines.join('\n')}\n`;
}

/** JUnit XML as Jenkins/GitLab read it: one suite (the queries file), one testcase per entry. */
export function junit(suite: string, results: readonly CaseResult[], seconds: number): string {
  const failed = results.filter((r) => !r.passed).length;
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="netseg test" tests="${results.length}" failures="${failed}" errors="0" time="${seconds.toFixed(3)}">\n`;
  const cases = results.map((r) => {
    const open = `    <testcase classname="netseg.${xml(suite)}" name="${xml(r.name)}" time="0"`;
    if (r.passed) return `${open}/>\n`;
    const message = `expected ${r.expect}, but ${r.mismatches.length} of ${r.pairs} pod pair(s) are ${r.expect === 'allowed' ? 'denied' : 'allowed'}`;
    return `${open}>\n      <failure message="${xml(message)}" type="verdict">${xml(r.mismatches.join('\n'))}</failure>\n    </testcase>\n`;
  });
  return `${head}  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${failed}" errors="0" skipped="0" time="${seconds.toFixed(3)}">\n${cases.join('')}  </testsuite>\n</testsuites>\n`;
}

/** Escaped for an XML attribute or text; characters XML 1.0 forbids (control characters) are dropped. */
function xml(s: string): string {
  return [...s]
    .filter((c) => xmlChar(c.codePointAt(0) ?? 0))
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** XML 1.0's Char production: tab, newline, carriage return, and everything from space up but surrogates and U+FFFE/F. */
function xmlChar(cp: number): boolean {
  return cp === 0x09 || cp === 0x0a || cp === 0x0d || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
}

function fail(io: CliIO, errors: readonly string[]): number {
  for (const e of errors) io.err(`error: ${e}\n`);
  return 2;
}
