#!/usr/bin/env node
// Entry point of the `dialtone` command: builds the TypeScript once if this checkout has not been built yet.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'local', 'cli.js');
if (!existsSync(cli)) {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
}
require(cli)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
