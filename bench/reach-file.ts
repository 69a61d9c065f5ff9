/** Writes a generated cluster (bench/reach.bench.ts's generator) as `kubectl get -o json` would: one List. */
import * as fs from 'fs';
import { type Input, generate } from './reach.bench';

export function writeClusterFile(file: string, input: Input): number {
  const items = [
    ...input.namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', ...n })),
    ...input.pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...p })),
    ...input.policies,
  ];
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, '{"apiVersion":"v1","kind":"List","items":[');
  items.forEach((item, i) => fs.writeSync(fd, `${i > 0 ? ',' : ''}\n${JSON.stringify(item)}`));
  fs.writeSync(fd, '\n]}\n');
  fs.closeSync(fd);
  return fs.statSync(file).size;
}

if (require.main === module) {
  const [file, pods, policies, namespaces] = process.argv.slice(2);
  const size = writeClusterFile(file ?? 'cluster.json', generate(Number(pods ?? 1000), Number(policies ?? 2000), 42, Number(namespaces ?? 200)));
  process.stdout.write(`${file}: ${size} bytes\n`);
}
