/**
 * The last known Ready state of each intent this replica reconciles, for the per-intent metric
 * netseg_intent_ready{namespace,intent,reason} (./metrics.ts). Exactly one series per intent: the map holds one
 * entry per key and the gauge is rebuilt from it at each scrape, so a reason that changed or an intent that went
 * leaves no stale series. Bounded: at most `limit` intents get a series (the first ones seen stay; the rest
 * are counted in netseg_intents{reason} only), so no number of intents can grow the scrape without bound.
 */
export interface IntentState {
  readonly namespace: string;
  readonly intent: string;
  /** The Ready condition's reason (src/operator/reasons.ts): a closed set. */
  readonly reason: string;
  readonly ready: boolean;
}

/** Series for at most this many intents by default (the per-reason totals always count all). */
export const DEFAULT_INTENT_SERIES_LIMIT = 2_000;

export class IntentStates {
  private readonly states = new Map<string, IntentState>();

  constructor(readonly limit = DEFAULT_INTENT_SERIES_LIMIT) {}

  set(s: IntentState): void {
    this.states.set(`${s.namespace}/${s.intent}`, s);
  }

  delete(namespace: string, intent: string): void {
    this.states.delete(`${namespace}/${intent}`);
  }

  /** A replica that stops leading stops speaking for the intents. */
  clear(): void {
    this.states.clear();
  }

  /** The states that get their own series: the first `limit` in insertion order. */
  series(): IntentState[] {
    return [...this.states.values()].slice(0, this.limit);
  }

  /** Every intent's state, counted by reason. */
  countsByReason(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.states.values()) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
    return counts;
  }

  get size(): number {
    return this.states.size;
  }
}
