// npm test must leave nothing behind in the temporary folder. Jest's global setup points every test process at a
// temporary folder of its own (TMPDIR, TEMP and TMP, which os.tmpdir() reads); the global teardown fails the run
// naming whatever a test, a stack or a tool left there, and then removes the folder.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEY = 'DIALTONE_TEST_TMPDIR';

export function useOwnTemporaryFolder(): void {
  const dir = mkdtempSync(join(tmpdir(), 'dialtone-test-run-'));
  process.env[KEY] = dir;
  process.env['TMPDIR'] = dir;
  process.env['TEMP'] = dir;
  process.env['TMP'] = dir;
}

export function checkNothingLeftBehind(): void {
  const dir = process.env[KEY];
  if (!dir) return;
  const left = readdirSync(dir);
  rmSync(dir, { recursive: true, force: true });
  if (left.length > 0)
    throw new Error(`tests left ${left.length} entries in the temporary folder: ${left.slice(0, 20).join(', ')}`);
}
