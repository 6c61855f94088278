#!/usr/bin/env node
// Entry point of the `dialtone` command (installed with `npm link` or `npm install -g .`, or run as
// `npm run dialtone -- …`): builds the TypeScript first when dist-dev/ (the local runtime's build, scripts/build.js) is missing or older than
// the sources.
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');
const { needsBuild } = require('./stale-build');

const root = join(__dirname, '..');
const cli = join(root, 'dist-dev', 'local', 'cli.js');
if (needsBuild(root, cli)) {
  process.stderr.write('dialtone: building (the sources are newer than dist-dev/)…\n');
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.js'), '--local'], { stdio: 'inherit', cwd: root });
  } catch {
    process.stderr.write('dialtone: the build failed (see above); run npm install in the dialtone folder first\n');
    process.exit(1);
  }
}
require(cli)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
