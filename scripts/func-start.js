#!/usr/bin/env node
// `npm start` runs Azure Functions Core Tools (`func start`). Core Tools is an optional dependency: where its
// installer could not download the host, say so plainly and point at the local host instead of failing obscurely.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const local = path.join(__dirname, '..', 'node_modules', '.bin', process.platform === 'win32' ? 'func.cmd' : 'func');
const candidates = fs.existsSync(local) ? [local] : ['func'];
for (const bin of candidates) {
  const r = spawnSync(bin, ['start', ...process.argv.slice(2)], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (!r.error) process.exit(r.status ?? 1);
}
console.error(
  'Azure Functions Core Tools (func) is not installed, so `npm start` cannot run the Functions host.\n' +
    'Install it (https://learn.microsoft.com/azure/azure-functions/functions-run-local) or, without it,\n' +
    'run the bundled local host: `npx dialtone host` (or `npm run demo` for a full sample run).',
);
process.exit(1);
