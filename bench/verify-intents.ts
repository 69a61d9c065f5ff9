/**
 * Intents for `netseg verify` benchmarks on bench/reach.bench.ts's generated clusters: one per namespace, the
 * three tiers the generator labels (`tier: web|api|db`) as workloads, flows web → api on 8080 and api → db on
 * 5432, Ingress isolated at namespace scope. Deterministic: the same namespaces give the same file.
 */
import * as fs from 'fs';

export function writeIntentsFile(file: string, namespaces: number): void {
  const items = Array.from({ length: namespaces }, (_, i) => ({
    apiVersion: 'netseg.io/v1alpha1',
    kind: 'SegmentationIntent',
    metadata: { name: 'tiers', namespace: `ns-${i}` },
    spec: {
      isolation: { directions: ['Ingress'], scope: 'Namespace' },
      workloads: ['web', 'api', 'db'].map((t) => ({ name: t, selector: { matchLabels: { tier: t } } })),
      flows: [
        { from: 'web', to: 'api', ports: [{ port: 8080 }] },
        { from: 'api', to: 'db', ports: [{ port: 5432 }] },
      ],
    },
  }));
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}
