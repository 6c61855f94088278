// A local stack whose host fails to start stops Azurite and the simulator and removes the folder it made.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startStack } from '../../local/stack';

describe('local stack', () => {
  it('leaves no work folder behind when the host fails to start', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dialtone-stack-'));
    try {
      // The stand-in host tells where the stack put its state (inside the stack's own work folder), then fails.
      const failing = join(tmp, 'failing-host.js');
      const told = join(tmp, 'state-dir.txt');
      writeFileSync(
        failing,
        "require('node:fs').writeFileSync(process.env.PROBE_FILE, process.env.DIALTONE_HOST_STATE_DIR); process.stderr.write('no host today\\n'); process.exit(3);\n",
      );
      await expect(
        startStack({ tenant: { skus: [], users: [] }, hostScript: failing, settings: { PROBE_FILE: told } }),
      ).rejects.toThrow(/exited \(3\) before it was ready:[\s\S]*no host today/);
      const workDir = dirname(readFileSync(told, 'utf8'));
      expect(workDir.startsWith(join(tmpdir(), 'dialtone-'))).toBe(true);
      expect(existsSync(workDir)).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
