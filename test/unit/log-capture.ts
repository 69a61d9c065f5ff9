/** A JSON logger whose lines are kept, as a log shipper would read them from stdout (the audit trail's tests). */
import { Writable } from 'stream';
import { createLogger } from '../../src/operator/logger';

export interface Line {
  [k: string]: unknown;
  level: string;
  message: string;
}

export function capture(): { log: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { log: createLogger({ stream }), lines };
}
