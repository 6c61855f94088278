// `npm start` on a machine without Core Tools: it says so at once and leaves the build alone (prestart used to delete
// and rebuild dist/ first, under a local host that may be running from it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = join(__dirname, '..', '..');
const funcInFolder = existsSync(join(root, 'node_modules', '.bin', 'func'));
const funcOnPath = spawnSync('func', ['--version']).status === 0;

(funcInFolder || funcOnPath ? describe.skip : describe)('npm start without Core Tools', () => {
  const probe = join(root, 'dist', `.npm-start-probe-${process.pid}`);
  afterEach(() => rmSync(probe, { force: true }));

  it('exits 1 with what to do instead, before the build is deleted', () => {
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(probe, 'left by the test');
    // npm and node stay reachable; nothing else on the PATH is needed.
    const path = [join(process.execPath, '..'), ...(process.env['PATH'] ?? '').split(delimiter)].join(delimiter);
    const r = spawnSync('npm', ['start', '--silent'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PATH: path },
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Core Tools \(func\) is not installed/);
    expect(r.stderr).toMatch(/dialtone host/);
    expect(existsSync(probe)).toBe(true);
  });
});
