#!/usr/bin/env node
// Runs after `npm install`: says plainly whether Azure Functions Core Tools (`func`, used only by `npm start`) was
// installed. It is an optional dependency, and npm skips a failed or unsupported optional dependency without a word:
// npm's Arborist marks an optional package whose `engines` do not match this Node as inert and never runs its
// installer (build-ideal-tree.js, #checkEngineAndPlatform); on a supported Node its installer downloads the
// Functions host from a CDN and is skipped when that fails. Never fails the install.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const name = 'azure-functions-core-tools';

function lockedEngines() {
  try {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    return lock.packages?.[`node_modules/${name}`]?.engines?.node;
  } catch {
    return undefined;
  }
}

function minimumNodeMajor(range) {
  const m = /^>=\s*(\d+)/.exec(range ?? '');
  return m ? Number(m[1]) : undefined;
}

function funcOnPath() {
  const r = spawnSync(process.platform === 'win32' ? 'func.cmd' : 'func', ['--version'], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** What to tell the user about Core Tools after an install, or undefined when it is in place. */
function coreToolsNotice() {
  const pkg = join(root, 'node_modules', name);
  const installed = existsSync(join(pkg, 'bin', process.platform === 'win32' ? 'func.exe' : 'func'));
  if (installed) return undefined;
  const onPath = funcOnPath();
  const instead =
    'Without it, `npm run demo` and `npm run dialtone -- host` run everything on the bundled local runtime.';
  if (onPath)
    return `Core Tools: not installed in this folder; \`npm start\` will use the func ${onPath} on your PATH.`;
  const engines = lockedEngines();
  const needs = minimumNodeMajor(engines);
  const major = Number(process.versions.node.split('.')[0]);
  const why =
    needs !== undefined && major < needs
      ? `${name} needs Node ${engines} and this is Node ${process.versions.node}, so npm skipped it`
      : existsSync(pkg)
        ? `its installer could not download the Functions host (it needs access to Microsoft's CDN)`
        : `npm skipped it (its installer failed, or optional dependencies were omitted)`;
  return `Core Tools skipped: ${why}. \`npm start\` (func start) needs it: install Core Tools yourself (https://learn.microsoft.com/azure/azure-functions/functions-run-local). ${instead}`;
}

module.exports = { coreToolsNotice };

if (require.main === module) {
  try {
    const notice = coreToolsNotice();
    if (notice) process.stderr.write(`dialtone: ${notice}\n`);
  } catch {
    // a notice must never fail the install
  }
}
