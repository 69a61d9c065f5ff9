import * as fs from 'fs';

/** Where a command writes, injected so that tests can run commands in-process and read what they print. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** A command's action calls this with its exit code (0 when it never does). */
  setExitCode(code: number): void;
}

export function processIO(): CliIO {
  return {
    out: (t) => writeStdout(t),
    err: (t) => process.stderr.write(t),
    setExitCode: () => undefined,
  };
}

/** Captures output in memory: `netseg` run inside a test. */
export function memoryIO(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    setExitCode: () => undefined,
  };
  return io;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes to fd 1 before returning. process.stdout.write to a pipe queues what the reader has not taken yet, so
 * `netseg reach -o json --per-pod | jq` held hundreds of MB of pending output (700 MB for 1,000 pods, issue 18);
 * a synchronous write waits for the reader instead (1 ms pauses while the pipe is full). A reader that goes
 * away (`| head`) ends the process quietly, as it would end a Unix filter.
 */
function writeStdout(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      if (code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw e;
    }
  }
}
