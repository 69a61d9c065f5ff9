/** The pinned control-plane versions, read from the one place they are pinned (scripts/control-plane.versions). */
import * as fs from 'fs';
import * as path from 'path';

const file = path.resolve(__dirname, '..', '..', '..', 'scripts', 'control-plane.versions');
const pinned = Object.fromEntries(
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => l.split('=', 2) as [string, string]),
);

export const K8S_VERSION: string = pinned['K8S_VERSION'] ?? '';
export const ETCD_VERSION: string = pinned['ETCD_VERSION'] ?? '';
