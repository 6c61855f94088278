#!/usr/bin/env node
// `npm start` runs Azure Functions Core Tools (`func start`). Core Tools is an optional dependency: where its
// installer could not download the host, say so plainly and point at the local host instead of failing obscurely.
// `--check` (the prestart step) only looks for Core Tools, so that a machine without it hears so at once, before
// `dist/` is deleted and rebuilt: a local host may be running from that build.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const windows = process.platform === 'win32';
const local = path.join(__dirname, '..', 'node_modules', '.bin', windows ? 'func.cmd' : 'func');

/** The `func` to run: this folder's own, else one on the PATH; undefined when neither answers `--version`. */
function coreTools() {
  for (const bin of fs.existsSync(local) ? [local, 'func'] : ['func']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', shell: windows });
    if (!r.error && r.status === 0) return bin;
  }
  return undefined;
}

const bin = coreTools();
if (!bin) {
  console.error(
    'Azure Functions Core Tools (func) is not installed, so `npm start` cannot run the Functions host.\n' +
      'Install it (https://learn.microsoft.com/azure/azure-functions/functions-run-local) or, without it,\n' +
      'run the bundled local host: `npx dialtone host` (or `npm run demo` for a full sample run).',
  );
  process.exit(1);
}
if (process.argv[2] === '--check') process.exit(0);
const r = spawnSync(bin, ['start', ...process.argv.slice(2)], { stdio: 'inherit', shell: windows });
process.exit(r.error ? 1 : (r.status ?? 1));
