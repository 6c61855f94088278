// Whether the real Durable extension can run here: the conformance tests need `dotnet` on the PATH and the built
// extension host. Without dotnet they are skipped with a message saying so; where DIALTONE_REQUIRE_EXTENSION=1
// (CI), they fail instead of skipping.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const EXTENSION_HOST_DLL =
  process.env['DIALTONE_EXTENSION_HOST_DLL'] ??
  join(__dirname, '..', '..', 'local', 'extension-host', 'bin', 'Release', 'net10.0', 'DialtoneExtensionHost.dll');

export function extensionUnavailable(): string | undefined {
  const dotnet = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
  if (dotnet.error || dotnet.status !== 0)
    return 'dotnet is not on the PATH (the .NET 10 SDK hosts the real Durable extension)';
  if (!existsSync(EXTENSION_HOST_DLL)) return `${EXTENSION_HOST_DLL} is missing: run \`npm run extension-host:build\``;
  return undefined;
}

/** describe() for tests on the real extension: skipped (and said so) without dotnet, failed instead where required. */
export function describeOnExtension(name: string, body: () => void): void {
  const reason = extensionUnavailable();
  if (!reason) return describe(name, body);
  if (process.env['DIALTONE_REQUIRE_EXTENSION'] === '1') {
    describe(name, () => {
      it('needs the real Durable extension', () => {
        throw new Error(`DIALTONE_REQUIRE_EXTENSION=1 but ${reason}`);
      });
    });
    return;
  }
  process.stderr.write(`\n[conformance] SKIPPED "${name}": ${reason}\n`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}
