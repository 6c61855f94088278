// Scanners flag uuid below 11.1.1, which @azure/msal-node and durable-functions pulled in (8.3.2, 9.0.1). package.json
// overrides both to 11.1.1; these tests show the packages get it and still behave as before: durable-functions'
// deterministic GUIDs (context.df.newGuid, replayed from history) are byte for byte what uuid 9 produced.
import { createRequire } from 'node:module';
import { deterministicGuid } from '../support/durable-sdk';

const versionSeenBy = (pkg: string): string => {
  const from = createRequire(require.resolve(`${pkg}/package.json`));
  return (from('uuid/package.json') as { version: string }).version;
};

it('@azure/msal-node and durable-functions load uuid 11.1.1 or later', () => {
  for (const pkg of ['@azure/msal-node', 'durable-functions']) {
    const [major, minor, patch] = versionSeenBy(pkg).split('.').map(Number) as [number, number, number];
    expect([pkg, major > 11 || (major === 11 && (minor > 1 || (minor === 1 && patch >= 1)))]).toEqual([pkg, true]);
  }
});

it("keeps durable-functions' deterministic GUIDs identical to the ones uuid 9.0.1 produced (recorded value)", () => {
  expect(deterministicGuid('instance-1:0')).toBe('16b6d569-0026-5ae9-9577-7f54bd19ba60');
});
