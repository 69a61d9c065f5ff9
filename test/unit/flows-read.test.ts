/** The flow readers (src/flows) and the streamed file reader (src/cli/flow-files.ts), on the fixtures and edge cases. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readFlowFiles } from '../../src/cli/flow-files';
import { FlowTally, MAX_GROUPS, detectFormat, readHubble, readIg, readNetseg } from '../../src/flows';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'flows');
const fixture = (name: string): string => path.join(FIXTURES, name);

function tmp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-flows-'));
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}

const pod = (ns: string, name: string, labels: string[]): Record<string, unknown> => ({ namespace: ns, pod_name: name, labels });
function hubbleFlow(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    verdict: 'FORWARDED',
    IP: { source: '10.0.0.1', destination: '10.0.0.2' },
    l4: { TCP: { source_port: 40000, destination_port: 80 } },
    source: pod('a', 'p1', ['k8s:app=x', 'k8s:io.kubernetes.pod.namespace=a', 'k8s:io.cilium.k8s.policy.cluster=default', 'reserved:host']),
    destination: pod('b', 'p2', ['k8s:app=y']),
    ...over,
  };
}

describe('flow readers', () => {
  describe('hubble', () => {
    it('reads a FORWARDED non-reply flow: pods, k8s: labels only (minus namespace and io.cilium.*), port, connection identity', () => {
      const r = readHubble({ flow: hubbleFlow() });
      assert.strictEqual(r.kind, 'flow');
      if (r.kind !== 'flow') return;
      assert.deepStrictEqual(r.flow.from, { kind: 'pod', namespace: 'a', name: 'p1', ip: '10.0.0.1', labels: { app: 'x' } });
      assert.strictEqual(r.flow.port, 80);
      assert.strictEqual(r.flow.protocol, 'TCP');
      assert.strictEqual(r.flow.connection, 'TCP 10.0.0.1 40000 10.0.0.2 80');
    });
    it('ignores replies, other verdicts and flows without ports, each by its rule; an absent is_reply is false', () => {
      assert.deepStrictEqual(readHubble({ flow: hubbleFlow({ is_reply: true }) }), { kind: 'ignored', rule: 'reply' });
      assert.deepStrictEqual(readHubble({ flow: hubbleFlow({ verdict: 'DROPPED' }) }), { kind: 'ignored', rule: 'verdict DROPPED' });
      assert.deepStrictEqual(readHubble({ flow: hubbleFlow({ verdict: 'AUDIT' }) }), { kind: 'ignored', rule: 'verdict AUDIT' });
      assert.strictEqual(readHubble({ flow: hubbleFlow({ l4: { ICMPv4: { type: 8 } } }) }).kind, 'ignored');
      assert.strictEqual(readHubble({ flow: hubbleFlow({ is_reply: false }) }).kind, 'flow');
      assert.strictEqual(readHubble(hubbleFlow()).kind, 'flow', 'a bare Flow object');
    });
    it('calls a flow malformed when a field is of the wrong type or missing, never guesses', () => {
      assert.strictEqual(readHubble({ flow: hubbleFlow({ is_reply: 'no' }) }).kind, 'malformed');
      assert.strictEqual(readHubble({ flow: hubbleFlow({ l4: { TCP: { destination_port: 70000 } } }) }).kind, 'malformed');
      assert.strictEqual(readHubble({ flow: hubbleFlow({ source: {}, IP: {} }) }).kind, 'malformed');
      assert.strictEqual(readHubble({ flow: { ...hubbleFlow(), verdict: undefined } }).kind, 'malformed');
      assert.strictEqual(readHubble([1]).kind, 'malformed');
    });
    it('reads an endpoint without a pod name as its IP address (outside the cluster)', () => {
      const r = readHubble({ flow: hubbleFlow({ destination: { identity: 2, labels: ['reserved:world'] }, IP: { source: '10.0.0.1', destination: '203.0.113.9' } }) });
      assert.ok(r.kind === 'flow');
      if (r.kind === 'flow') assert.deepStrictEqual(r.flow.to, { kind: 'ip', ip: '203.0.113.9' });
    });
  });

  describe('ig', () => {
    const src = { addr: '10.0.0.1', port: 40000, proto: 'TCP', k8s: { kind: 'pod', name: 'p1', namespace: 'a', labels: 'app=x' } };
    const dst = { addr: '10.96.0.10', port: 80, proto: 'TCP', k8s: { kind: 'svc', name: 'api', namespace: 'b' } };
    const k8s = { namespace: 'a', podName: 'p1', podLabels: 'app=x,pod-template-hash=abc12', owner: { kind: 'Deployment', name: 'x' } };
    it('reads a connect event: the local pod with its labels and owner, a svc destination as a Service', () => {
      const r = readIg({ type: 'connect', k8s, src, dst });
      assert.ok(r.kind === 'flow');
      if (r.kind !== 'flow') return;
      assert.deepStrictEqual(r.flow.from, { kind: 'pod', namespace: 'a', name: 'p1', ip: '10.0.0.1', labels: { app: 'x', 'pod-template-hash': 'abc12' }, owner: { kind: 'Deployment', name: 'x' } });
      assert.deepStrictEqual(r.flow.to, { kind: 'service', namespace: 'b', name: 'api', ip: '10.96.0.10' });
    });
    it('ignores accept and close (reported from the local end); malformed without a type or a port', () => {
      assert.deepStrictEqual(readIg({ type: 'accept', k8s, src, dst }), { kind: 'ignored', rule: 'ig accept event' });
      assert.deepStrictEqual(readIg({ type: 'close', k8s, src, dst }), { kind: 'ignored', rule: 'ig close event' });
      assert.strictEqual(readIg({ k8s, src, dst }).kind, 'malformed');
      assert.strictEqual(readIg({ type: 'connect', k8s, src, dst: { ...dst, port: 0 } }).kind, 'malformed');
    });
  });

  describe('netseg', () => {
    it('reads the --queries shape, protocol TCP by default; a named port or a bad side is malformed', () => {
      const r = readNetseg({ from: 'a/p1', to: '203.0.113.9', port: 443 });
      assert.ok(r.kind === 'flow');
      if (r.kind === 'flow') assert.deepStrictEqual(r.flow, { from: { kind: 'pod', namespace: 'a', name: 'p1' }, to: { kind: 'ip', ip: '203.0.113.9' }, port: 443, protocol: 'TCP' });
      assert.strictEqual(readNetseg({ from: 'a/p1', to: 'b/p2', port: 'http' }).kind, 'malformed');
      assert.strictEqual(readNetseg({ from: 'p1', to: 'b/p2', port: 80 }).kind, 'malformed');
      assert.strictEqual(readNetseg({ from: 'a/p1', to: 'b/p2', port: 80, protocol: 'tcp' }).kind, 'malformed');
    });
  });

  it('tells the format from the first record', () => {
    assert.strictEqual(detectFormat({ flow: {} }), 'hubble');
    assert.strictEqual(detectFormat({ verdict: 'FORWARDED' }), 'hubble');
    assert.strictEqual(detectFormat({ type: 'connect', src: {}, dst: {} }), 'ig');
    assert.strictEqual(detectFormat([]), 'netseg');
    assert.strictEqual(detectFormat({ from: 'a/b', to: 'c/d', port: 1 }), 'netseg');
    assert.strictEqual(detectFormat({ hello: 1 }), undefined);
  });

  describe('the tally', () => {
    it('counts a connection once, however many records (packets, both ends) show it, in any order', () => {
      const lines = fs.readFileSync(fixture('hubble.jsonl'), 'utf8').split('\n').filter((l) => l.endsWith('}'));
      const counts = (order: string[]): string => {
        const t = new FlowTally();
        for (const l of order) {
          const r = readHubble(JSON.parse(l) as unknown);
          if (r.kind === 'flow') t.add(r.flow);
        }
        return JSON.stringify(t.flows());
      };
      const forward = counts(lines);
      assert.strictEqual(counts([...lines].reverse()), forward);
      const flows = JSON.parse(forward) as { from: string; to: string; count: number }[];
      assert.strictEqual(flows.find((f) => f.to === 'shop/backend-7c6b9d8f5-4mzqp')?.count, 1, 'one connection seen 3 times');
      assert.strictEqual(flows.filter((f) => f.to === 'shop/db-0').reduce((a, f) => a + f.count, 0), 3);
    });
    it('keeps a bounded number of groups: records past it are counted as overflow, not silently dropped', () => {
      const t = new FlowTally(100);
      for (let i = 1; i <= 105; i++) t.add({ from: { kind: 'ip', ip: '10.0.0.1' }, to: { kind: 'ip', ip: '10.0.0.2' }, port: i, protocol: 'TCP' });
      t.add({ from: { kind: 'ip', ip: '10.0.0.1' }, to: { kind: 'ip', ip: '10.0.0.2' }, port: 7, protocol: 'TCP' });
      assert.strictEqual(t.overflow, 5);
      assert.strictEqual(t.flows().length, 100);
      assert.strictEqual(t.flows().find((f) => f.port === 7)?.count, 2, 'known groups still count');
      assert.ok(MAX_GROUPS >= 1_000_000);
    });
    it('counts records without a connection identity one by one', () => {
      const t = new FlowTally();
      const r = readNetseg({ from: 'a/p1', to: 'b/p2', port: 80 });
      if (r.kind === 'flow') {
        t.add(r.flow);
        t.add(r.flow);
      }
      assert.strictEqual(t.flows()[0]?.count, 2);
    });
  });
});

describe('reading flow files', () => {
  it('reads every fixture line: flows, ignored per rule, malformed with file and line number', () => {
    const r = readFlowFiles([fixture('hubble.jsonl')]);
    assert.strictEqual(r.records, 15);
    assert.strictEqual(r.flows, 9);
    assert.strictEqual(r.malformed, 1);
    assert.deepStrictEqual(Object.fromEntries(r.ignored), {
      reply: 2,
      'verdict DROPPED': 1,
      'no TCP, UDP or SCTP layer (ICMP or L3 only)': 1,
      'hubble lost events (flows were lost before they were printed)': 1,
    });
    assert.strictEqual(r.records, r.flows + r.malformed + [...r.ignored.values()].reduce((a, n) => a + n, 0), 'every record is accounted for');
    assert.match(r.problems[0] ?? '', /hubble\.jsonl:15: not valid JSON/);
  });
  it('reads ig and netseg fixtures, each detected by content', () => {
    const ig = readFlowFiles([fixture('ig.jsonl')]);
    assert.deepStrictEqual([ig.records, ig.flows, ig.malformed], [7, 4, 1]);
    assert.match(ig.problems[0] ?? '', /ig\.jsonl:7: dst\.port/);
    const ns = readFlowFiles([fixture('netseg.json')]);
    assert.deepStrictEqual([ns.records, ns.flows, ns.malformed], [6, 5, 1]);
    assert.match(ns.problems[0] ?? '', /netseg\.json:entry 5: port "http"/);
  });
  it('reads the netseg format as one object per line too, and a file no format recognises as malformed records', () => {
    const lines = tmp('q.jsonl', `${JSON.stringify({ from: 'a/p1', to: 'b/p2', port: 80 })}\n${JSON.stringify({ from: 'a/p1', to: '10.0.0.9', port: 53, protocol: 'UDP' })}\n`);
    assert.deepStrictEqual([readFlowFiles([lines]).flows, readFlowFiles([lines]).malformed], [2, 0]);
    const other = readFlowFiles([tmp('o.jsonl', '{"hello": 1}\n{"hello": 2}\n')]);
    assert.deepStrictEqual([other.records, other.flows, other.malformed], [2, 0, 2]);
    assert.match(other.problems[0] ?? '', /o\.jsonl:1: not a record of a known flow format .*give --format/);
  });
  it('--format overrides detection: a hubble file read as ig is all malformed, counted, none dropped', () => {
    const r = readFlowFiles([fixture('hubble.jsonl')], 'ig');
    assert.strictEqual(r.flows, 0);
    assert.strictEqual(r.malformed + [...r.ignored.values()].reduce((a, n) => a + n, 0), 15);
  });
  it('reports a line longer than the bound as malformed and reads on after it; a missing file is an error', () => {
    const good = JSON.stringify({ from: 'a/p1', to: 'b/p2', port: 80 });
    const file = tmp('long.jsonl', `${good}\n{"from": "${'x'.repeat(1_200_000)}"}\n\n${good}`);
    const r = readFlowFiles([file]);
    assert.deepStrictEqual([r.records, r.flows, r.malformed], [3, 2, 1]);
    assert.match(r.problems[0] ?? '', /long\.jsonl:2: longer than/);
    assert.match(readFlowFiles([path.join(FIXTURES, 'nope.jsonl')]).errors[0] ?? '', /nope\.jsonl: cannot read/);
  });
  it('bounds what it reports per file but counts every malformed line', () => {
    const r = readFlowFiles([tmp('bad.jsonl', `${'{"flow": 1}\n'.repeat(50)}`)], 'hubble');
    assert.strictEqual(r.malformed, 50);
    assert.strictEqual(r.problems.length, 21);
    assert.match(r.problems[20] ?? '', /30 more malformed records/);
  });
});
