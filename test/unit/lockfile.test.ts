// `npm install` on a fresh clone must leave package-lock.json as committed. npm (11) writes the lockfile's root entry
// from package.json: optional dependencies under optionalDependencies only (a lockfile that also listed Core Tools
// under dependencies was rewritten on every fresh install), and hasInstallScript when the package has an install
// script. This checks the committed lockfile against those rules; and that the install says when Core Tools is skipped.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (f: string) => JSON.parse(readFileSync(join(root, f), 'utf8'));

describe('package-lock.json', () => {
  const pkg = read('package.json');
  const lock = read('package-lock.json');
  const rootEntry = lock.packages[''];

  it('has the root entry npm writes from package.json, so a fresh install does not rewrite it', () => {
    const installScript = ['preinstall', 'install', 'postinstall'].some((s) => pkg.scripts?.[s]);
    expect(rootEntry).toEqual({
      name: pkg.name,
      version: pkg.version,
      ...(installScript ? { hasInstallScript: true } : {}),
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      devDependencies: pkg.devDependencies,
      engines: pkg.engines,
      optionalDependencies: pkg.optionalDependencies,
    });
  });

  it('locks every direct dependency at the version package.json pins', () => {
    const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies } as Record<string, string>;
    for (const [name, version] of Object.entries(all))
      expect([name, lock.packages[`node_modules/${name}`]?.version]).toEqual([name, version]);
  });
});

describe('npm install and Core Tools', () => {
  it('says plainly when Core Tools was skipped, and why', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { coreToolsNotice } = require('../../scripts/core-tools-check.js') as {
      coreToolsNotice: () => string | undefined;
    };
    const installed = existsSync(
      join(
        root,
        'node_modules',
        'azure-functions-core-tools',
        'bin',
        process.platform === 'win32' ? 'func.exe' : 'func',
      ),
    );
    const notice = coreToolsNotice();
    if (installed) expect(notice).toBeUndefined();
    else
      expect(notice).toMatch(
        /^Core Tools (skipped: .+\. `npm start` \(func start\) needs it|: not installed in this folder; `npm start` will use the func)/,
      );
    expect(read('package.json').scripts.postinstall).toBe('node scripts/core-tools-check.js');
  });
});
