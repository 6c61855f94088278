// host.json's functionTimeout as the local host reads it (local/host/host.ts) and the failure text the local engine
// gives an activity that runs past it (local/host/durable/engine.ts), in WebJobs' words and .NET's time span format.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionTimeoutMessage, timeSpanText } from '../../local/host/durable/engine';
import { functionTimeoutMs } from '../../local/host/host';

describe('functionTimeout on the local engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dialtone-function-timeout-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const hostJson = (body: unknown) => {
    const p = join(dir, `host-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, JSON.stringify(body));
    return p;
  };

  it("reads host.json's functionTimeout, and the app setting that overrides it", () => {
    expect(functionTimeoutMs(join(__dirname, '..', '..', 'host.json'), {})).toBe(10 * 60_000);
    expect(
      functionTimeoutMs(hostJson({ functionTimeout: '00:05:00' }), {
        AzureFunctionsJobHost__functionTimeout: '00:00:15',
      }),
    ).toBe(15_000);
    expect(functionTimeoutMs(hostJson({ functionTimeout: '1.02:03:04' }), {})).toBe(((26 * 60 + 3) * 60 + 4) * 1000);
  });

  it('has no limit for -1, no setting or no host.json, and refuses what is not a time span', () => {
    expect(functionTimeoutMs(hostJson({ functionTimeout: '-1' }), {})).toBeUndefined();
    expect(functionTimeoutMs(hostJson({}), {})).toBeUndefined();
    expect(functionTimeoutMs(join(dir, 'missing.json'), {})).toBeUndefined();
    expect(() => functionTimeoutMs(hostJson({ functionTimeout: '10 minutes' }), {})).toThrow(
      /functionTimeout '10 minutes' is not a time span/,
    );
  });

  it("words the failure as WebJobs does, with .NET's time span", () => {
    expect(timeSpanText(15_000)).toBe('00:00:15');
    expect(timeSpanText(((26 * 60 + 3) * 60 + 4) * 1000)).toBe('1.02:03:04');
    expect(functionTimeoutMessage(600_000, 'dialtone-assign')).toBe(
      'Timeout value of 00:10:00 was exceeded by function: Functions.dialtone-assign',
    );
  });
});
