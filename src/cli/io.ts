/** Where a command writes, injected so that tests can run commands in-process and read what they print. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** A command's action calls this with its exit code (0 when it never does). */
  setExitCode(code: number): void;
}

export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t),
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
