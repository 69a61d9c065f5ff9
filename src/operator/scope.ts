/**
 * Which namespaces the operator governs: all, a fixed list (--namespaces), or those whose labels match a
 * selector (--namespace-selector), tracked by a namespace watch.
 */
export type Scope =
  | { readonly kind: 'all' }
  | { readonly kind: 'list'; readonly namespaces: readonly string[] }
  | { readonly kind: 'selector'; readonly selector: string };

export function scopeOf(o: { namespaces?: readonly string[]; namespaceSelector?: string }): Scope {
  if (o.namespaces && o.namespaces.length > 0 && o.namespaceSelector) {
    throw new Error('--namespaces and --namespace-selector exclude each other');
  }
  if (o.namespaces && o.namespaces.length > 0) return { kind: 'list', namespaces: [...new Set(o.namespaces)].sort() };
  if (o.namespaceSelector) return { kind: 'selector', selector: o.namespaceSelector };
  return { kind: 'all' };
}

/**
 * The namespaces to list for a resync or sweep: `undefined` entry = cluster-wide. For a selector scope the
 * caller passes the namespaces currently matched, or undefined when that set isn't known yet: then nothing
 * may be listed (and so nothing swept).
 */
export function listNamespaces(scope: Scope, matched: readonly string[] | undefined): (string | undefined)[] | undefined {
  switch (scope.kind) {
    case 'all':
      return [undefined];
    case 'list':
      return [...scope.namespaces];
    case 'selector':
      return matched ? [...matched].sort() : undefined;
  }
}
