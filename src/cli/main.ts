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
const COMMANDS: readonly (readonly [string, Register])[] = [
  // Required lazily so that `netseg render` never loads the operator's client libraries.
  ['render', (p, io) => (require('./render') as { register: Register }).register(p, io)],
  ['reach', (p, io) => (require('./reach') as { register: Register }).register(p, io)],
  ['learn', (p, io) => (require('./learn') as { register: Register }).register(p, io)],
  ['verify', (p, io) => (require('./verify') as { register: Register }).register(p, io)],
  ['audit', (p, io) => (require('./audit') as { register: Register }).register(p, io)],
  ['operator', (p, io) => (require('./operator') as { register: Register }).register(p, io)],
  ['diff', (p, io) => (require('./diff') as { register: Register }).register(p, io)],
  ['test', (p, io) => (require('./test-verdicts') as { register: Register }).register(p, io)],
  ['version', (p, io) => (require('./version') as { register: Register }).register(p, io)],
];

/**
 * Every command, in the order `netseg --help` lists them; only the one named when argv names one, so that
 * `netseg reach` does not spend ~0.5–1.5 s loading the operator's Kubernetes client (issue 18).
 */
function commands(only: string | undefined): Register[] {
  const named = COMMANDS.filter(([name]) => name === only);
  return (named.length > 0 ? named : COMMANDS).map(([, register]) => register);
}

export function buildProgram(io: CliIO, exit: { code: number }, only?: string, name = 'netseg'): Command {
  const program = new Command(name)
    .description('Keeps NetworkPolicies equal to SegmentationIntents; renders, tests and audits them offline.')
    // Listed for --help only: main() answers `--version` as `netseg version` (commit and Node.js too).
    .option('-V, --version', 'print the version, as `netseg version`')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const register of commands(only)) register(program, { ...io, setExitCode: (c: number) => (exit.code = c) });
  return program;
}

/** `name` is how the user called it: `netseg`, or `kubectl netseg` through the plugin (bin/kubectl-netseg), for --help. */
export async function main(argv: readonly string[], io: CliIO = processIO(), name = 'netseg'): Promise<number> {
  const exit = { code: 0 };
  const args = argv[2] === '--version' || argv[2] === '-V' ? [...argv.slice(0, 2), 'version', ...argv.slice(3)] : [...argv];
  const program = buildProgram(io, exit, args[2], name);
  try {
    await program.parseAsync(args);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help ends through here with code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
  return exit.code;
}
