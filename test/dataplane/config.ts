/**
 * The facts of one data plane, as `scripts/dataplane up` wrote them to $NETSEG_RUN_DIR/dataplane/env
 * (KEY=VALUE lines): the node agent, the probe command and the test harness all read the same file, so the
 * names derived from the run dir are computed in one place only (the script).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface DataPlaneConfig {
  readonly runDir: string;
  /** The Node's name, also the kube-router --hostname-override. */
  readonly nodeName: string;
  /** The node's network namespace: bridge, kube-router, its iptables rules and ipsets. */
  readonly nodeNetns: string;
  /** Every pod network namespace of this data plane starts with it. */
  readonly podNetnsPrefix: string;
  readonly bridge: string;
  /** x.y.z.0/24; .1 is the node (the bridge's address, the Node's InternalIP, every pod's hostIP). */
  readonly podCIDR: string;
  readonly nodeIP: string;
  /** The admin kubeconfig of the control plane (host network namespace). */
  readonly kubeconfig: string;
  /** The pods' probe sockets. */
  readonly socketDir: string;
  /** Every connection a listener accepted, one JSON line {from, to, port, protocol} each. */
  readonly flowLog: string;
  /** Where the agent says it is ready. */
  readonly readyFile: string;
}

export function defaultRunDir(): string {
  const cache = process.env['NETSEG_CACHE_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(process.env['HOME'] ?? '/root', '.cache'), 'netseg');
  return process.env['NETSEG_RUN_DIR'] ?? path.join(cache, 'run');
}

export function envFile(runDir: string): string {
  return path.join(runDir, 'dataplane', 'env');
}

export function readConfig(runDir = defaultRunDir()): DataPlaneConfig {
  const file = envFile(runDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no data plane in ${runDir} (${file} is missing): run scripts/dataplane up`);
  }
  const kv = new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const get = (k: string): string => {
    const v = kv.get(k);
    if (!v) throw new Error(`${file} has no ${k}: run scripts/dataplane up again`);
    return v;
  };
  return {
    runDir,
    nodeName: get('NODE_NAME'),
    nodeNetns: get('NODE_NETNS'),
    podNetnsPrefix: get('POD_NETNS_PREFIX'),
    bridge: get('BRIDGE'),
    podCIDR: get('POD_CIDR'),
    nodeIP: get('NODE_IP'),
    kubeconfig: get('KUBECONFIG'),
    socketDir: get('SOCKET_DIR'),
    flowLog: get('FLOW_LOG'),
    readyFile: get('READY_FILE'),
  };
}

/** Short and injective enough for one node: names of a pod's netns, veth and probe socket. */
export function podId(namespace: string, name: string): string {
  return crypto.createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 12);
}

export function podSocket(c: DataPlaneConfig, namespace: string, name: string): string {
  return path.join(c.socketDir, `${podId(namespace, name)}.sock`);
}
