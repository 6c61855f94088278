#!/usr/bin/env node
// Builds the real-extension host (local/extension-host, .NET 10) that the conformance tests run, when `dotnet` is on
// the PATH. Without it, says plainly that those tests will be skipped, unless DIALTONE_REQUIRE_EXTENSION=1 (CI),
// where that is a failure.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const project = path.join(__dirname, '..', 'local', 'extension-host');
const probe = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  const message =
    'dotnet is not on the PATH: the real-extension host cannot be built, and the conformance tests (test/conformance) will be skipped';
  if (process.env.DIALTONE_REQUIRE_EXTENSION === '1') {
    console.error(`${message}, but DIALTONE_REQUIRE_EXTENSION=1 requires them.`);
    process.exit(1);
  }
  console.error(`[extension-host] ${message}.`);
  process.exit(0);
}
// `dotnet build` of an up-to-date project still takes about half a minute (restore, then MSBuild's own checks), and
// CI builds the host before `npm test` builds it again: when the built host is newer than every file of the project,
// there is nothing to do. (Its NuGet packages are pinned in the .csproj, so a change to them is a change to it.)
const fs = require('node:fs');
const built = path.join(project, 'bin', 'Release', 'net10.0', 'DialtoneExtensionHost.dll');
function newestSource(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'bin' || e.name === 'obj') continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}
if (fs.existsSync(built) && fs.statSync(built).mtimeMs > newestSource(project) && !process.argv.includes('--force')) {
  console.error(
    '[extension-host] up to date (the built host is newer than every file of local/extension-host; --force builds anyway).',
  );
  process.exit(0);
}
// MSBuild leaves two empty folders in the temporary folder on every build: give it one of its own under obj/.
const tmp = path.join(project, 'obj', 'tmp');
fs.mkdirSync(tmp, { recursive: true });
const r = spawnSync('dotnet', ['build', project, '-c', 'Release', '--nologo', '-v', 'q', '-clp:ErrorsOnly'], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: tmp },
});
process.exit(r.status ?? 1);
