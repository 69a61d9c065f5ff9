/** `netseg reach --flows`: every observed flow answered once, denied first with the policies that deny it, exit 1. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'flows');
const fixture = (name: string): string => path.join(FIXTURES, name);

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

interface Result {
  from: string;
  to: string;
  port: number;
  protocol: string;
  allowed: boolean;
  deniedBy?: string[];
}

describe('netseg reach --flows', () => {
  it('answers each distinct observed flow once, as learn counts them (replies, DROPPED, both ends: not again)', async () => {
    const r = await run('reach', '-f', fixture('cluster.yaml'), '--flows', fixture('hubble.jsonl'), '-o', 'json');
    assert.strictEqual(r.code, 0, r.err);
    const { results } = JSON.parse(r.out) as { results: Result[] };
    assert.deepStrictEqual(results.map((x) => `${x.from}>${x.to}:${x.port}`), [
      'shop/backend-7c6b9d8f5-4mzqp>shop/db-0:5432',
      'shop/backend-7c6b9d8f5-t9wld>203.0.113.10:443',
      'shop/backend-7c6b9d8f5-t9wld>shop/db-0:5432',
      'shop/frontend-5d8f7c9b4-x2x7k>kube-system/coredns-76f75df574-8kz2v:53',
      'shop/frontend-5d8f7c9b4-x2x7k>shop/backend-7c6b9d8f5-4mzqp:8080',
      'shop/frontend-5d8f7c9b4-x2x7k>shop/backend-7c6b9d8f5-t9wld:8080',
    ]);
    assert.ok(results.every((x) => x.allowed && x.deniedBy === undefined));
    assert.match(r.err, /6 observed flows \(7 connections\): 0 denied/);
  });

  it('--enforce-dry-run: a DryRun intent counts as enforced, and the flows it would cut come first with the policies, exit 1', async () => {
    const files = ['-f', fixture('cluster.yaml'), fixture('shop-intent.yaml'), '--flows', fixture('hubble.jsonl')];
    const dry = await run('reach', ...files);
    assert.strictEqual(dry.code, 0, 'a DryRun intent applies nothing');
    const r = await run('reach', ...files, '--enforce-dry-run', '-o', 'json');
    assert.strictEqual(r.code, 1);
    const { results } = JSON.parse(r.out) as { results: Result[] };
    assert.deepStrictEqual(results.slice(0, 2), [
      { from: 'shop/backend-7c6b9d8f5-4mzqp', to: 'shop/db-0', port: 5432, protocol: 'TCP', allowed: false, deniedBy: ['shop/shop.db.ingress'] },
      { from: 'shop/backend-7c6b9d8f5-t9wld', to: 'shop/db-0', port: 5432, protocol: 'TCP', allowed: false, deniedBy: ['shop/shop.db.ingress'] },
    ]);
    assert.ok(results.slice(2).every((x) => x.allowed));
    const table = await run('reach', ...files, '--enforce-dry-run');
    assert.match(table.out, /^DENIED {2}shop\/backend-7c6b9d8f5-4mzqp -> shop\/db-0 TCP\/5432 \(2 connections\): denied by shop\/shop\.db\.ingress\n/);
  });

  it('the learned intents, enforced, keep every observed flow of each format', async () => {
    for (const flows of ['hubble.jsonl', 'ig.jsonl', 'netseg.json']) {
      const learned = await run('learn', '--flows', fixture(flows), '-f', fixture('cluster.yaml'), '--directions', 'Ingress,Egress');
      assert.strictEqual(learned.code, 0, learned.err);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-reach-flows-'));
      fs.writeFileSync(path.join(dir, 'learned.yaml'), learned.out);
      const r = await run('reach', '-f', fixture('cluster.yaml'), path.join(dir, 'learned.yaml'), '--flows', fixture(flows), '--enforce-dry-run', '-o', 'json');
      assert.strictEqual(r.code, 0, `${flows}: ${r.out}`);
    }
  });

  it('judges pods the files lack by the labels the flows carry; a Service or pod it cannot know is reported, not guessed', async () => {
    const r = await run('reach', '-f', fixture('shop-intent.yaml'), '--flows', fixture('hubble.jsonl'), '--enforce-dry-run', '-o', 'json');
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /note: 5 pods named by the flows but not in the files were added/);
    const ig = await run('reach', '-f', fixture('shop-intent.yaml'), '--flows', fixture('ig.jsonl'));
    assert.match(ig.err, /warning: Service shop\/backend port TCP\/80: not in the cluster input \(give it with -f\) \(1 connections\): not answered/);
    assert.strictEqual(ig.code, 1, 'a flow that cannot be judged fails the check');
    const bare = await run('reach', '-f', fixture('shop-intent.yaml'), '--flows', fixture('netseg.json'));
    assert.strictEqual(bare.code, 1);
    assert.match(bare.err, /warning: pod shop\/frontend-5d8f7c9b4-x2x7k: not in the files and the flows carry no labels for it \(3 connections\): not answered/);
    assert.match(bare.err, /0 observed flows \(0 connections\): 0 denied; 5 connections could not be judged/);
  });
});
