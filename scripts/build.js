#!/usr/bin/env node
// Compiles the TypeScript into two folders. dist/ is the app alone (tsconfig.app.json: main.ts, app.ts, wiring.ts,
// functions/, workflows/, activities/, contracts/, shared/, and the console's page in dist/web): what package.json's
// `main` names, what `npm start` runs and what the deployment package ships whole (scripts/package.js), so nothing
// has to be left out of it by name. dist-dev/ is the local runtime and the benchmarks with the app beside them
// (tsconfig.local.json): the CLI, the local hosts and the simulator load the app from there, never from dist/.
// `--local` builds dist-dev/ only (the `dialtone` command, after an edit). docs/deploying.md says what ships.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');

/** Compiles one TypeScript project; `outDir` overrides its own. */
function compile(project, outDir) {
  const args = [tsc, '-p', path.join(ROOT, project), ...(outDir ? ['--outDir', path.join(ROOT, outDir)] : [])];
  execFileSync(process.execPath, args, { stdio: 'inherit', cwd: ROOT });
}

/** The console's page script and style sheet, where the app built into `out` serves them from (`<out>/web`). */
function web(out) {
  compile('web/tsconfig.json', path.join(out, 'web'));
  fs.copyFileSync(path.join(ROOT, 'web', 'console.css'), path.join(ROOT, out, 'web', 'console.css'));
}

function build(localOnly = false) {
  if (!localOnly) {
    // From empty: whatever an earlier build or layout left in dist/ would otherwise ship.
    fs.rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
    compile('tsconfig.app.json');
    web('dist');
  }
  compile('tsconfig.local.json');
  web('dist-dev');
}

module.exports = { build };

if (require.main === module) {
  try {
    build(process.argv.includes('--local'));
  } catch {
    // tsc has said what failed
    process.exit(1);
  }
}
