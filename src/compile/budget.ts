/**
 * What one intent may cost once compiled. Each flow multiplies: a peer named in a flow into N workloads is
 * written into N policies, so a spec the CRD accepts (~0.5 MB) could compile into 64 policies of ~0.5 MB each:
 * tens of MB in etcd, and the operator's memory with them. The budget is checked while compiling, so no more
 * than the budget plus one policy is ever built, and an intent over it is refused (InvalidSpec, policies kept)
 * before anything is written.
 *
 * The figures are bytes of each policy's spec as JSON (what grows with the intent; metadata adds under 1.5 KB
 * and does not), chosen from measurements (docs/reliability.md, "What one intent may cost"): the largest
 * example policy spec is under 1 KiB and a 64-workload intent with 16 peers per workload compiles to ~3 KiB per
 * policy, so the limits leave 20× headroom for real use while capping the worst case at 512 KiB per intent.
 */
import type { Issue } from '../intent/types';

export interface CompileBudget {
  /** The largest spec of one generated NetworkPolicy, in bytes of JSON. */
  readonly policySpecBytes: number;
  /** All generated specs of one intent together. */
  readonly intentSpecBytes: number;
}

export const COMPILE_BUDGET: CompileBudget = { policySpecBytes: 64 * 1024, intentSpecBytes: 512 * 1024 };

/** Compiling stopped: the intent's output would exceed the budget. `issue` says which part and what to do. */
export class CompileBudgetError extends Error {
  override readonly name = 'CompileBudgetError';
  constructor(readonly issue: Issue) {
    super(`${issue.path}: ${issue.message}`);
  }
}

/** A policy being charged: its name, its spec's JSON, and where in the intent it comes from. */
export interface Charge {
  readonly policy: string;
  readonly bytes: number;
  /** `spec.workloads[3]` */
  readonly path: string;
  /** The largest contributors, e.g. `peers "monitoring" (12 KiB)`, for the message. */
  readonly contributors: () => string[];
}

/** Running total of one compile. Throws CompileBudgetError at the first policy that breaks a limit. */
export class BudgetMeter {
  private spent = 0;
  private readonly largest: { policy: string; bytes: number }[] = [];

  constructor(private readonly budget: CompileBudget = COMPILE_BUDGET) {}

  charge(c: Charge): void {
    if (c.bytes > this.budget.policySpecBytes) {
      const parts = c.contributors();
      throw new CompileBudgetError({
        path: c.path,
        message:
          `compiles to NetworkPolicy "${c.policy}" whose spec is ${kib(c.bytes)}, over the ${kib(this.budget.policySpecBytes)} limit ` +
          `for one policy${parts.length ? `; largest parts: ${parts.join(', ')}` : ''}: name fewer or smaller peers in the flows of this ` +
          'workload, or split it into several workloads',
      });
    }
    this.spent += c.bytes;
    this.largest.push({ policy: c.policy, bytes: c.bytes });
    if (this.spent > this.budget.intentSpecBytes) {
      const top = this.largest.sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((p) => `"${p.policy}" ${kib(p.bytes)}`);
      throw new CompileBudgetError({
        path: 'spec',
        message:
          `compiles to more than ${kib(this.budget.intentSpecBytes)} of NetworkPolicy specs (the limit for one intent; ` +
          `${this.largest.length} policies reached ${kib(this.spent)}, largest ${top.join(', ')}): split it into several intents, ` +
          'or name fewer or smaller peers',
      });
    }
  }
}

export function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}
