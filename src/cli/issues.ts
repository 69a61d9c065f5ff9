/**
 * The one format of every problem a command reports about its input, whatever found it (the loader, the
 * recognition of netseg's kinds, validation, the compile budget):
 *
 *     SOURCE: [OBJECT: ][PATH: ]MESSAGE        e.g.  shop.yaml#2: SegmentationIntent shop: spec.flows[0].to: unknown …
 *
 * SOURCE is where the object came from: `file#document` (`.items[i]` inside a List), `<stdin>#document`, or
 * `kubeconfig#Kind namespace/name` for an object read from a cluster; a file that cannot be read at all is just
 * `file`. Each command prefixes the lines with its own tag (`netseg render: `, `error: `, `warning: `).
 */
import { formatIssue } from '../intent/validate';
import type { Issue } from '../intent/types';

/** A validation or budget issue of an intent read from `source`. */
export function intentIssue(source: string, intent: { readonly metadata?: { readonly name?: unknown } }, issue: Issue): string {
  const name = typeof intent.metadata?.name === 'string' ? ` ${intent.metadata.name}` : '';
  return `${source}: SegmentationIntent${name}: ${formatIssue(issue)}`;
}
