/**
 * The list and watch of one collection, as the operator's cache (src/operator/cache.ts) consumes them: a
 * `WatchSource` is two functions, so that the cache's logic (resume, relist, deletions seen, synced, health)
 * runs in unit tests against a fake source, and only this file calls client-node's Watch.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../model/kubernetes';
import type { Kube } from './client';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One collection: a kind in one namespace (or all), optionally label-selected. */
export interface WatchTarget {
  /** API path of the collection: /apis/netseg.io/v1alpha1/namespaces/x/segmentationintents */
  readonly path: string;
  readonly labelSelector?: string;
  readonly namespace?: string;
  readonly apiVersion: string;
  readonly kind: string;
}

/** What identifies a kind to the API: enough to build its collection path. */
export interface KindSpec {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

export interface ListPage {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
}

/** What a watch stream reports, line by line, then once when it ends. */
export interface WatchCallbacks {
  /** phase: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (410 Gone and friends). */
  line(phase: string, obj: KubeObject): void;
  /** The stream ended: normally (err undefined) or not. */
  done(err: unknown): void;
  /** The stream opened (HTTP 200): the one sign that watching works. */
  established(): void;
}

export interface Abortable {
  abort(): void;
}

/** list (every page, one snapshot, or an error) and watch from a resourceVersion. */
export interface WatchSource {
  readonly target: WatchTarget;
  /** `keep`: what to keep of each item, applied page by page (see Kube.listForWatch); all of it if absent. */
  list(keep?: (o: KubeObject) => KubeObject): Promise<ListPage>;
  watch(resourceVersion: string, cb: WatchCallbacks): Promise<Abortable>;
}

export function watchTarget(kind: KindSpec, scope: { namespace?: string; labelSelector?: string }): WatchTarget {
  const base = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  const path = `${base}${scope.namespace ? `/namespaces/${scope.namespace}` : ''}/${kind.plural}`;
  const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
  return { path, labelSelector: scope.labelSelector, namespace: scope.namespace, apiVersion, kind: kind.kind };
}

/** The real source: Kube.listForWatch (paginated, ApiError) and client-node's Watch from the list's version. */
export function kubeWatchSource(kube: Kube, target: WatchTarget): WatchSource {
  return {
    target,
    list: (keep) => kube.listForWatch<KubeObject>({ kind: target.kind, namespace: target.namespace, labelSelector: target.labelSelector }, keep),
    watch: async (resourceVersion, cb) => {
      const query: Record<string, unknown> = { resourceVersion, allowWatchBookmarks: true };
      if (target.labelSelector) query['labelSelector'] = target.labelSelector;
      const w = new k8s.Watch(kube.kc, toldWhenOpen(cb));
      return (await w.watch(target.path, query, cb.line, cb.done)) as Abortable;
    },
  };
}

/** client-node's request, told when the stream opens (HTTP 200). */
function toldWhenOpen(cb: WatchCallbacks): k8s.RequestInterface {
  const plain = new k8s.DefaultRequest();
  return {
    webRequest: (opts) => {
      const req = plain.webRequest(opts);
      req.on('response', (r: { statusCode?: number }) => r.statusCode === 200 && cb.established());
      return req;
    },
  };
}
