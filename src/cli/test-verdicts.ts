import type { Command } from 'commander';
import type { CliIO } from './io';
export function register(_program: Command, _io: CliIO): void {}
