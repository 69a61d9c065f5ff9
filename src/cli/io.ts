import * as fs from 'fs';

/** Where a command writes, injected so that tests can run commands in-process and read what they print. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** A command's action calls this with its exit code (0 when it never does). */
  setExitCode(code: number): void;
}

export function processIO(): CliIO {
  behaveInPipes();
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
 * away (`| head`) ends the process quietly, as it would end a Unix filter (brokenPipe).
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
      if (code === 'EPIPE') brokenPipe();
      throw e;
    }
  }
}

/**
 * The reader of stdout or stderr went away (`netseg reach -o json | head -1`): end now, quietly, killed by
 * SIGPIPE as kubectl (Go's runtime does this for writes to fd 1 and 2), cat, grep and every Unix filter are:
 * the shell sees 141 (128 + 13). Not exit 0: the command did not finish, so it must not claim success; under
 * `set -o pipefail`, `netseg diff ... | head` exiting 0 would read as "no changes". Node ignores SIGPIPE at
 * start-up; adding and removing a listener restores the default action (libuv resets it on the last one), and
 * exit(141) stands in should the signal not end the process.
 */
export function brokenPipe(): never {
  const ignore = (): void => undefined;
  process.on('SIGPIPE', ignore);
  process.off('SIGPIPE', ignore);
  process.kill(process.pid, 'SIGPIPE');
  process.exit(141);
}

let pipesHandled = false;

/** Writes through process.stdout/stderr (commander's errors, winston's logs) report EPIPE as an 'error' event: the same quiet end. */
function behaveInPipes(): void {
  if (pipesHandled) return;
  pipesHandled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') brokenPipe();
      throw e;
    });
  }
}
