/**
 * `netseg <command>`: parses arguments (commander) and dispatches to one module per command.
 * Each command module exports `register(program, io)`; a command's action returns its exit code.
 * Exit codes: 0 ok, 1 the input is invalid or a check failed (the message says which), 2 usage or internal error.
 */
import { Command, CommanderError } from 'commander';
import type { CliIO } from './io';
import { processIO } from './io';

type Register = (program: Command, io: CliIO) => void;

/** Every command, in the order `netseg --help` lists them. Add a command here and in its own module. */
function commands(): Register[] {
  // Required lazily so that `netseg render` never loads the operator's client libraries.
  return [
    (p, io) => (require('./render') as { register: Register }).register(p, io),
    (p, io) => (require('./reach') as { register: Register }).register(p, io),
    (p, io) => (require('./verify') as { register: Register }).register(p, io),
    (p, io) => (require('./audit') as { register: Register }).register(p, io),
    (p, io) => (require('./operator') as { register: Register }).register(p, io),
  ];
}

export function buildProgram(io: CliIO, exit: { code: number }): Command {
  const program = new Command('netseg')
    .description('Keeps NetworkPolicies equal to SegmentationIntents; renders, tests and audits them offline.')
    .version(require('../../../package.json').version as string)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const register of commands()) register(program, { ...io, setExitCode: (c: number) => (exit.code = c) });
  return program;
}

export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(io, exit);
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
  return exit.code;
}
