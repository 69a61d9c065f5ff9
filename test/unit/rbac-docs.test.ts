/**
 * docs/rbac.md is deploy/rbac/ in words: its tables list exactly the rules of the ClusterRole and the Lease Role,
 * verb for verb, and no rule grants `patch`, which src/kube never sends. (That the verbs suffice is proven by
 * test/integration/operator-rbac.test.ts, which runs the operator under this ServiceAccount.)
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(__dirname, '..', '..', '..');

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function rulesOf(file: string, kind: string): string[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(root, 'deploy', 'rbac', file), 'utf8')).map((d) => d.toJS() as { kind?: string; rules?: Rule[] });
  return docs
    .filter((d) => d.kind === kind)
    .flatMap((d) => d.rules ?? [])
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g} ${res}: ${[...r.verbs].sort().join(',')}`)))
    .sort();
}

/** The rows of the table under a `## ...` heading containing `title`: "group resource: verbs". */
function documented(title: string): string[] {
  const text = fs.readFileSync(path.join(root, 'docs', 'rbac.md'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith(title)) ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|').map((c) => c.trim()))
    .map(([, group = '', resource = '', verbs = '']) => {
      const g = group.replace(/`/g, '').replace(/^""$/, '');
      const sorted = verbs.split(',').map((v) => v.trim()).sort().join(',');
      return `${g} ${resource.replace(/`/g, '')}: ${sorted}`;
    })
    .sort();
}

describe('docs/rbac.md equals deploy/rbac/', () => {
  it('the ClusterRole, rule for rule and verb for verb', () => {
    assert.deepEqual(documented('ClusterRole'), rulesOf('cluster-role.yaml', 'ClusterRole'));
  });

  it('the Lease Role', () => {
    assert.deepEqual(documented('Role'), rulesOf('leader-election-role.yaml', 'Role'));
  });

  it('the CLI\'s read-only ClusterRole netseg-reader (deploy/rbac/cli-reader.yaml), and it only reads', () => {
    const reader = rulesOf('cli-reader.yaml', 'ClusterRole');
    assert.deepEqual(documented('Who runs the CLI'), reader);
    for (const r of reader) assert.match(r, /: (get,)?list$/, r);
    // Not part of the install: binding it is the cluster admin's choice.
    assert.doesNotMatch(fs.readFileSync(path.join(root, 'deploy', 'rbac', 'kustomization.yaml'), 'utf8'), /cli-reader/);
  });

  it('grants no verb netseg never sends: no patch, no wildcard', () => {
    for (const r of [...rulesOf('cluster-role.yaml', 'ClusterRole'), ...rulesOf('leader-election-role.yaml', 'Role')]) {
      assert.doesNotMatch(r, /[:,]\s*(patch|\*|deletecollection)\b/, r);
    }
  });
});
