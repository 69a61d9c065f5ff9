/**
 * The client-node calls of the test bed's node agent (test/dataplane/agent.ts), which plays kubelet and
 * scheduler for one node of the local data plane: register its Node, bind Pods to it, write their status, and
 * finish their deletion. The operator never sends these; they live in src/kube because every client-node call
 * does (ADR 0004). No patch: like the rest of src/kube, writes are create, update (with resourceVersion) and delete.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../model/kubernetes';
import { isConflict, isNotFound, toApiError } from './errors';
import type { ApiErrorContext } from './errors';

export interface NodeRegistration {
  readonly name: string;
  readonly internalIP: string;
  readonly podCIDR: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** What the agent writes into a Pod's status once its network namespace and listeners are up. */
export interface RunningPodStatus {
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: string;
  readonly containers: readonly string[];
}

function plain<T>(x: unknown): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

export class NodeClient {
  private readonly core: k8s.CoreV1Api;

  constructor(readonly kc: k8s.KubeConfig) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  private async call<T>(ctx: ApiErrorContext, fn: () => Promise<{ body: T }>): Promise<T> {
    try {
      return (await fn()).body;
    } catch (e) {
      throw toApiError(e, ctx);
    }
  }

  /** Creates the Node (or takes the one there) and writes its status: InternalIP, Ready, as a kubelet would. */
  async registerNode(n: NodeRegistration): Promise<void> {
    const ctx: ApiErrorContext = { verb: 'create', kind: 'Node', name: n.name };
    const body: k8s.V1Node = {
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'netseg.io/dataplane': 'true', ...n.labels } },
      spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    };
    try {
      await this.call(ctx, () => this.core.createNode(body));
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    for (let attempt = 0; ; attempt++) {
      const cur = await this.call({ ...ctx, verb: 'get' }, () => this.core.readNode(n.name));
      const now = new Date();
      cur.status = {
        ...cur.status,
        addresses: [
          { type: 'InternalIP', address: n.internalIP },
          { type: 'Hostname', address: n.name },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'NetsegNodeAgentReady', message: 'netseg test-bed node agent', lastHeartbeatTime: now, lastTransitionTime: now }],
      };
      try {
        await this.call({ ...ctx, verb: 'update' }, () => this.core.replaceNodeStatus(n.name, cur));
        return;
      } catch (e) {
        if (!isConflict(e) || attempt > 5) throw e;
      }
    }
  }

  async deleteNode(name: string): Promise<void> {
    try {
      await this.call({ verb: 'delete', kind: 'Node', name }, () => this.core.deleteNode(name));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** The scheduler's write: pods/binding. */
  async bindPod(namespace: string, name: string, node: string): Promise<void> {
    const ctx: ApiErrorContext = { verb: 'create', kind: 'Pod/binding', namespace, name };
    const body: k8s.V1Binding = { metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: node } };
    await this.call(ctx, () => this.core.createNamespacedPodBinding(name, namespace, body));
  }

  /** The kubelet's write: Running and Ready, with the pod's and the node's IP (read-modify-write, retried on 409). */
  async writeRunning(namespace: string, name: string, s: RunningPodStatus): Promise<void> {
    const ctx: ApiErrorContext = { verb: 'update', kind: 'Pod/status', namespace, name };
    for (let attempt = 0; ; attempt++) {
      const pod = await this.call({ ...ctx, verb: 'get' }, () => this.core.readNamespacedPod(name, namespace));
      const now = new Date();
      const cond = (type: string): k8s.V1PodCondition => ({ type, status: 'True', lastTransitionTime: now });
      pod.status = {
        phase: 'Running',
        podIP: s.podIP,
        podIPs: [{ ip: s.podIP }],
        hostIP: s.hostIP,
        hostIPs: [{ ip: s.hostIP }],
        startTime: new Date(s.startTime),
        conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map(cond),
        containerStatuses: s.containers.map((c) => ({
          name: c,
          image: pod.spec?.containers.find((x) => x.name === c)?.image ?? '',
          imageID: '',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: new Date(s.startTime) } },
        })),
      };
      try {
        await this.call(ctx, () => this.core.replaceNamespacedPodStatus(name, namespace, pod));
        return;
      } catch (e) {
        if (!isConflict(e) || attempt > 5) throw e;
      }
    }
  }

  /**
   * Finishes a deletion at once (grace 0), as the kubelet does once its containers are gone; the uid
   * precondition keeps a pod re-created under the same name safe. NotFound is success.
   */
  async deletePodNow(namespace: string, name: string, uid: string | undefined): Promise<void> {
    const ctx: ApiErrorContext = { verb: 'delete', kind: 'Pod', namespace, name };
    const body: k8s.V1DeleteOptions = { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) };
    try {
      await this.call(ctx, () => this.core.deleteNamespacedPod(name, namespace, undefined, undefined, 0, undefined, undefined, body));
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  async getPod(namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return plain<KubeObject>(await this.call({ verb: 'get', kind: 'Pod', namespace, name }, () => this.core.readNamespacedPod(name, namespace)));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
