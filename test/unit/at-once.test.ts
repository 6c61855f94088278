// A few pieces of I/O at a time (shared/adapters/at-once.ts): never more than the limit, every item once, and after a
// failure no new item, with the failure thrown only once the ones under way have ended.
import { eachAtMost } from '../../shared/adapters/at-once';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('eachAtMost', () => {
  it('runs every item once, never more than the limit at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await eachAtMost(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (i) => {
        most = Math.max(most, ++inFlight);
        await tick();
        inFlight--;
        done.push(i);
      },
    );
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(4);
  });

  it('starts nothing after a failure and throws it once the items under way have ended', async () => {
    let inFlight = 0;
    const started: number[] = [];
    const outcome = eachAtMost(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (i) => {
        started.push(i);
        inFlight++;
        await tick();
        inFlight--;
        if (i === 5) throw new Error('refused');
      },
    ).catch((e: unknown) => ({ error: e, inFlight }));
    const r = (await outcome) as { error: Error; inFlight: number };
    expect(r.error.message).toBe('refused');
    expect(r.inFlight).toBe(0);
    expect(started.length).toBeLessThan(5 + 4 + 1);
  });

  it('does nothing for no items', async () => {
    await expect(eachAtMost([], 4, () => Promise.reject(new Error('called')))).resolves.toBeUndefined();
  });
});
