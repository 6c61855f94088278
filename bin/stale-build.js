// Whether the local runtime's build in dist-dev/ is older than its TypeScript sources, so that `dialtone` rebuilds after a
// `git pull` or an edit instead of running yesterday's code. Plain JavaScript: it runs before anything is compiled.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** The folders and files tsconfig.local.json compiles (scripts/build.js). */
const SOURCES = [
  'main.ts',
  'app.ts',
  'wiring.ts',
  'functions',
  'workflows',
  'activities',
  'contracts',
  'shared',
  'local',
  'bench',
  'tsconfig.json',
  'tsconfig.local.json',
  'web',
  'package.json',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return /\.(ts|json)$/.test(path) ? s.mtimeMs : 0;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'bin' || entry === 'obj' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** True when `built` (the compiled CLI) is missing or older than any source under `root`. */
function needsBuild(root, built) {
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return SOURCES.some((s) => newestMtime(join(root, s)) > builtAt);
}

module.exports = { needsBuild };
