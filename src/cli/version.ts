/**
 * `netseg version [-o text|json]` (and `netseg --version`): what is running, for bug reports and for checking
 * that the CLI and the operator image are the same build. The version is package.json's; the git commit is
 * `$NETSEG_GIT_COMMIT` when the build set it (an image or a release tarball has no .git), else `git rev-parse`
 * of the checkout netseg runs from, else "unknown" (never guessed); Node.js and the platform as they run.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliIO } from './io';

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface VersionInfo {
  readonly version: string;
  readonly commit: string;
  readonly node: string;
  readonly platform: string;
}

export function versionInfo(env: Readonly<Record<string, string | undefined>> = process.env): VersionInfo {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return { version: pkg.version, commit: gitCommit(env), node: process.version, platform: `${process.platform}/${process.arch}` };
}

function gitCommit(env: Readonly<Record<string, string | undefined>>): string {
  const given = env['NETSEG_GIT_COMMIT']?.trim();
  if (given) return given;
  // Only a checkout of netseg itself: a tarball installed inside some other repository must not report that one's commit.
  if (!fs.existsSync(path.join(PACKAGE_ROOT, '.git'))) return 'unknown';
  const r = spawnSync('git', ['-C', PACKAGE_ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8', timeout: 2000 });
  const sha = r.status === 0 ? r.stdout.trim() : '';
  return /^[0-9a-f]{40}$/.test(sha) ? sha : 'unknown';
}

export function formatVersion(v: VersionInfo, format: 'text' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(v, null, 2)}\n`;
  return `netseg ${v.version}\ncommit: ${v.commit}\nnode:   ${v.node} (${v.platform})\n`;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('version')
    .description('Print the version, git commit and Node.js version')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((opts: { output: 'text' | 'json' }) => io.out(formatVersion(versionInfo(), opts.output)));
}
