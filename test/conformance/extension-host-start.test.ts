// The real-extension host starts its .NET process again when it exits before it is ready (at most three starts in
// all), so that a start-up that lost a port race to another host on this machine does not fail a run; and it gives up
// with the .NET output when every start fails. Proven with a file dotnet cannot run, which fails every start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '../../local/stack';
import { describeOnExtension } from '../support/extension';

describeOnExtension('the real-extension host start-up', () => {
  it('starts the .NET host up to three times when it exits before it is ready, then fails with its output', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dialtone-exthost-'));
    const lines: string[] = [];
    try {
      const notADll = join(tmp, 'not-a-host.dll');
      writeFileSync(notADll, 'not an assembly\n');
      const started = startStack({
        tenant: { skus: [], users: [] },
        engine: 'extension',
        settings: { DIALTONE_EXTENSION_HOST_DLL: notADll },
        onHostLog: (l) => lines.push(l),
      });
      await expect(started).rejects.toThrow(/the \.NET extension host exited \(\S+\) before it was ready/);
      const retries = lines.filter((l) => /starting it again \(attempt [23] of 3\)/.test(l));
      expect(retries).toHaveLength(2);
      expect(retries[1]).toContain('attempt 3 of 3');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
