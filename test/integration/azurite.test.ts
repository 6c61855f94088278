// Azurite as the tests and the CLI start it: a start that takes too long is given up on together with its process,
// so a slow machine never leaves an emulator running behind a failed test (one was found left over once).
import { startAzurite } from '../../local/azurite';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Azurite', () => {
  it('stops the process it started when the start takes longer than allowed', async () => {
    // 1 ms: no machine starts Azurite that fast, so this is the slow start, every time.
    const failed = await startAzurite(1).then(
      () => undefined,
      (e: unknown) => e as Error & { pid?: number },
    );
    expect(failed?.message).toMatch(/Azurite did not start within 1 ms/);
    expect(failed?.pid).toEqual(expect.any(Number));
    expect(alive(failed!.pid!)).toBe(false);
  });

  it('stops with its handle', async () => {
    const azurite = await startAzurite();
    expect(alive(azurite.pid!)).toBe(true);
    await azurite.stop();
    expect(alive(azurite.pid!)).toBe(false);
  });
});
