/**
 * A unified diff (`diff -u` format, 3 lines of context) of two texts, for `netseg diff`. Lines are matched by a
 * longest common subsequence; its table costs old×new cells, so inputs past MAX_CELLS (a policy is at most
 * 64 KiB, a few thousand lines) are shown as one hunk replacing everything: bounded, and still correct.
 */
const CONTEXT = 3;
const MAX_CELLS = 16_000_000;

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string): string {
  const a = lines(oldText);
  const b = lines(newText);
  const ops = a.length * b.length > MAX_CELLS ? [...a.map((line) => op('-', line)), ...b.map((line) => op('+', line))] : lcsOps(a, b);
  if (ops.every((o) => o.kind === ' ')) return '';
  return `--- ${oldName}\n+++ ${newName}\n${hunks(ops).join('')}`;
}

function lines(text: string): string[] {
  if (text === '') return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

function op(kind: Op['kind'], line: string): Op {
  return { kind, line };
}

/** Edit script from the LCS table (suffix lengths), preferring deletions before insertions, as diff does. */
function lcsOps(a: readonly string[], b: readonly string[]): Op[] {
  const w = b.length + 1;
  const t = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      t[i * w + j] = a[i] === b[j] ? (t[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(t[(i + 1) * w + j] ?? 0, t[i * w + j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push(op(' ', a[i] ?? ''));
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && (t[(i + 1) * w + j] ?? 0) >= (t[i * w + j + 1] ?? 0))) {
      ops.push(op('-', a[i++] ?? ''));
    } else {
      ops.push(op('+', b[j++] ?? ''));
    }
  }
  return ops;
}

/** Groups changes with CONTEXT lines around them into `@@ -l,s +l,s @@` hunks. */
function hunks(ops: readonly Op[]): string[] {
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  const out: string[] = [];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, (changed[k] ?? 0) - CONTEXT);
    let end = Math.min(ops.length, (changed[k] ?? 0) + CONTEXT + 1);
    while (k + 1 < changed.length && (changed[k + 1] ?? 0) - CONTEXT <= end) end = Math.min(ops.length, (changed[++k] ?? 0) + CONTEXT + 1);
    k++;
    const before = ops.slice(0, start);
    const oldStart = before.filter((o) => o.kind !== '+').length;
    const newStart = before.filter((o) => o.kind !== '-').length;
    const body = ops.slice(start, end);
    const oldLen = body.filter((o) => o.kind !== '+').length;
    const newLen = body.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${range(oldStart, oldLen)} +${range(newStart, newLen)} @@\n${body.map((o) => `${o.kind}${o.line}\n`).join('')}`);
  }
  return out;
}

/** diff's numbering: 1-based start, and an empty range starts at the line before it. */
function range(start: number, len: number): string {
  return `${len === 0 ? start : start + 1},${len}`;
}
