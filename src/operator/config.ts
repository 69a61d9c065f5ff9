/** Flag parsing shared by the CLI and the tests: durations ("10m", "1h30m", "500ms") and lists ("a,b"). */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) throw new Error(`duration "${text}" needs a unit: ms, s, m or h (e.g. 10m)`);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || consumed !== t) throw new Error(`invalid duration "${text}" (e.g. 10m, 30s, 1h30m, 500ms)`);
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] ?? ''] ?? 0), 0);
  if (ms <= 0) throw new Error(`duration "${text}" must be positive`);
  return Math.round(ms);
}

export function parseList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return n;
}
