#!/usr/bin/env node
/**
 * Run before `npm test`, `npm run demo` and `npm run bench` (their pre-scripts), so that the README's commands
 * work on a fresh clone with nothing before them: installs the locked dependencies with `npm ci` when
 * node_modules is missing or older than package-lock.json, and does nothing otherwise (a second run costs ~0 s).
 * Plain JavaScript on purpose: it must run before TypeScript is installed.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lock = path.join(root, 'package-lock.json');
// npm writes this file on every install: its age says when node_modules last matched a lock file.
const installed = path.join(root, 'node_modules', '.package-lock.json');

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

const have = mtime(installed);
if (have !== undefined && have >= (mtime(lock) ?? 0)) process.exit(0);
process.stderr.write(`[netseg] ${have === undefined ? 'no node_modules' : 'package-lock.json is newer than node_modules'}: npm ci\n`);
const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
