/** The Lease as LeaderElector sees it, stored in a coordination.k8s.io/v1 Lease through src/kube. */
import type { Kube, LeaseObject } from '../kube/client';
import type { LeaseRecord, LeaseStore } from './leader';

function toRecord(l: LeaseObject): LeaseRecord {
  return {
    holderIdentity: l.spec.holderIdentity,
    leaseDurationSeconds: l.spec.leaseDurationSeconds ?? 0,
    acquireTime: l.spec.acquireTime,
    renewTime: l.spec.renewTime,
    leaseTransitions: l.spec.leaseTransitions ?? 0,
    resourceVersion: l.metadata.resourceVersion,
  };
}

function toObject(r: LeaseRecord, namespace: string, name: string): LeaseObject {
  return {
    metadata: { name, namespace, resourceVersion: r.resourceVersion },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: r.acquireTime,
      renewTime: r.renewTime,
      leaseTransitions: r.leaseTransitions,
    },
  };
}

export function kubeLeaseStore(kube: Kube, namespace: string, name: string): LeaseStore {
  return {
    get: async () => {
      const l = await kube.getLease(namespace, name);
      return l ? toRecord(l) : undefined;
    },
    create: async (r) => toRecord(await kube.createLease(toObject({ ...r, resourceVersion: undefined }, namespace, name))),
    replace: async (r) => toRecord(await kube.replaceLease(toObject(r, namespace, name))),
  };
}
