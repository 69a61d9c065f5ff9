/**
 * Reads flow files for `netseg learn` and `netseg reach --flows`: line by line in 1 MiB chunks, so a file of any
 * length costs memory only for the tally (src/flows/tally.ts), never for its text. The format of each file is told
 * from its first JSON record unless `--format` says it. Every line is accounted for: a flow, ignored by a named
 * rule (counted per rule), or malformed (counted, and reported with its file and line number: the first
 * MAX_REPORTED_PER_FILE of each file, then how many more).
 * A netseg file that is a JSON array (the --queries shape) is read whole, up to MAX_ARRAY_BYTES; one object per
 * line streams like the others.
 */
import * as fs from 'fs';
import { type FlowFormat, FlowTally, MAX_GROUPS, detectFormat, readRecord } from '../flows';

export const MAX_LINE_BYTES = 1024 * 1024;
export const MAX_ARRAY_BYTES = 256 * 1024 * 1024;
const MAX_REPORTED_PER_FILE = 20;
const CHUNK = 1024 * 1024;

export interface FlowReading {
  readonly tally: FlowTally;
  /** Non-empty lines (or array entries) read. */
  records: number;
  /** Records that count as flows (before deduplication into connections). */
  flows: number;
  readonly ignored: Map<string, number>;
  malformed: number;
  /** "file:line: reason" for malformed records (bounded per file), and files that cannot be read at all. */
  readonly problems: string[];
  /** Files that could not be read or whose format could not be told: the reading is incomplete. */
  readonly errors: string[];
}

export function readFlowFiles(paths: readonly string[], format?: FlowFormat, tally: FlowTally = new FlowTally()): FlowReading {
  const reading: FlowReading = { tally, records: 0, flows: 0, ignored: new Map(), malformed: 0, problems: [], errors: [] };
  for (const file of paths) readOne(file, format, reading);
  if (tally.overflow > 0) {
    reading.errors.push(
      `the flows name more than ${MAX_GROUPS} distinct (source, destination, port, protocol); ${tally.overflow} records past that were not kept: ` +
        'give fewer files at a time (for example one namespace\'s flows: hubble observe --namespace NS)',
    );
  }
  return reading;
}

class FileReader {
  private reported = 0;
  private fileMalformed = 0;
  format: FlowFormat | undefined;
  constructor(
    private readonly file: string,
    format: FlowFormat | undefined,
    private readonly reading: FlowReading,
  ) {
    this.format = format;
  }

  /** One record: counted, then read (a line that is not JSON is counted and reported as malformed too). */
  record(where: string, value: unknown): void {
    this.reading.records++;
    if (!this.format) {
      this.format = detectFormat(value);
      if (!this.format) {
        this.malformed(where, 'not a record of a known flow format (hubble, ig, netseg); give --format');
        return;
      }
    }
    const outcome = readRecord(this.format, value);
    if (outcome.kind === 'flow') {
      this.reading.flows++;
      this.reading.tally.add(outcome.flow);
    } else if (outcome.kind === 'ignored') {
      this.reading.ignored.set(outcome.rule, (this.reading.ignored.get(outcome.rule) ?? 0) + 1);
    } else this.malformed(where, outcome.reason);
  }

  malformed(where: string, reason: string): void {
    this.reading.malformed++;
    this.fileMalformed++;
    if (this.reported < MAX_REPORTED_PER_FILE) {
      this.reported++;
      this.reading.problems.push(`${this.file}:${where}: ${reason}`);
    }
  }

  finish(): void {
    const more = this.fileMalformed - this.reported;
    if (more > 0) this.reading.problems.push(`${this.file}: ${more} more malformed records`);
  }
}

function readOne(file: string, format: FlowFormat | undefined, reading: FlowReading): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    reading.errors.push(`${file}: cannot read: ${(e as Error).message}`);
    return;
  }
  const reader = new FileReader(file, format, reading);
  try {
    if (startsWithBracket(fd)) readArray(fd, file, reader, reading);
    else readLines(fd, reader, reading);
  } catch (e) {
    reading.errors.push(`${file}: cannot read: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
  reader.finish();
}

/** True when the first non-blank byte of the file is "[": a netseg JSON array. */
function startsWithBracket(fd: number): boolean {
  const buf = Buffer.alloc(4096);
  let pos = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) return false;
    for (let i = 0; i < n; i++) {
      const b = buf[i] as number;
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
      return b === 0x5b;
    }
    pos += n;
  }
}

function readArray(fd: number, file: string, reader: FileReader, reading: FlowReading): void {
  const size = fs.fstatSync(fd).size;
  if (size > MAX_ARRAY_BYTES) {
    reading.errors.push(`${file}: a JSON array over ${MAX_ARRAY_BYTES / 1024 / 1024} MiB; write one {"from","to","port","protocol"} object per line instead, which is read streamed`);
    return;
  }
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.subarray(0, off).toString('utf8'));
  } catch (e) {
    reading.records++;
    reader.malformed('1', `not valid JSON: ${(e as Error).message}`);
    return;
  }
  reader.format ??= 'netseg';
  (parsed as unknown[]).forEach((entry, i) => reader.record(`entry ${i}`, entry));
}

function readLines(fd: number, reader: FileReader, reading: FlowReading): void {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let line = 0;
  const emit = (bytes: Buffer): void => {
    line++;
    if (tooLong) {
      reading.records++;
      reader.malformed(String(line), `longer than ${MAX_LINE_BYTES} bytes`);
      tooLong = false;
      return;
    }
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      reading.records++;
      reader.malformed(String(line), `not valid JSON: ${(e as Error).message}`);
      return;
    }
    reader.record(String(line), value);
  };
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, 0); nl >= 0 && nl < n; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (pendingBytes === 0) emit(piece);
      else {
        if (pendingBytes + piece.length > MAX_LINE_BYTES) tooLong = true;
        if (!tooLong) pending.push(Buffer.from(piece));
        emit(tooLong ? Buffer.alloc(0) : Buffer.concat(pending));
        pending = [];
        pendingBytes = 0;
      }
      start = nl + 1;
    }
    if (start < n) {
      const rest = chunk.subarray(start, n);
      pendingBytes += rest.length;
      if (pendingBytes > MAX_LINE_BYTES) {
        tooLong = true;
        pending = [];
      } else pending.push(Buffer.from(rest));
    }
  }
  if (pendingBytes > 0) emit(tooLong ? Buffer.alloc(0) : Buffer.concat(pending));
}

/** What the files held, on stderr: nothing read is ever dropped without a word. */
export function reportReading(r: FlowReading, io: { err(text: string): void }): void {
  for (const p of r.problems) io.err(`malformed: ${p}\n`);
  const ignored = [...r.ignored].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([rule, n]) => `${n} ${rule}`);
  io.err(
    `read ${r.records} records: ${r.flows} flows counted` +
      (ignored.length > 0 ? `, ignored ${ignored.join(', ')}` : '') +
      (r.malformed > 0 ? `, ${r.malformed} malformed` : '') +
      '\n',
  );
  if (r.tally.saturated) io.err('warning: more distinct connections than netseg tracks: later records were counted without deduplication\n');
}
