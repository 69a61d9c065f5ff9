/**
 * Expected verdicts, written by hand from what an intent means (independent of netseg's engine), checked with
 * packets: once (`mismatches`) or until they hold within a bounded time (`untilPackets`, for changes the operator
 * and kube-router apply asynchronously). A failure lists every probe that disagreed, with what the packets said.
 */
import type { DataPlane } from './harness';
import type { Query, QueryResult } from './probe';

export type Expect = Query & { readonly allowed: boolean; readonly why: string };

export const allow = (from: string, to: string, port: number, why: string, protocol: 'TCP' | 'UDP' = 'TCP'): Expect => ({ from, to, port, protocol, allowed: true, why });
export const deny = (from: string, to: string, port: number, why: string, protocol: 'TCP' | 'UDP' = 'TCP'): Expect => ({ from, to, port, protocol, allowed: false, why });

const verdict = (allowed: boolean | undefined): string => (allowed === undefined ? 'missing' : allowed ? 'allowed' : 'denied');

/** One line per expectation the packets contradict: what was expected, why, and what was seen. */
export function mismatches(expected: readonly Expect[], packets: readonly QueryResult[]): string[] {
  return expected.flatMap((e, n) =>
    packets[n]?.allowed === e.allowed ? [] : [`${e.from} -> ${e.to} ${e.protocol ?? 'TCP'}/${e.port}: expected ${verdict(e.allowed)} (${e.why}), packets say ${verdict(packets[n]?.allowed)}`],
  );
}

/**
 * Probes (each round behind a barrier) until every expectation holds; returns the ms it took. Throws after
 * `timeoutMs` with the last round's disagreements: a change that never reached the kernel says what it left.
 */
export async function untilPackets(dp: DataPlane, expected: readonly Expect[], timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  for (let round = 1; ; round++) {
    const wrong = mismatches(expected, await dp.probe(expected));
    if (wrong.length === 0) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`${what}: after ${Date.now() - t0} ms (${round} rounds of probes) ${wrong.length} of ${expected.length} probes still disagree:\n  ${wrong.join('\n  ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
