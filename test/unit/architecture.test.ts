// The domain stays pure: no Azure, Graph or Durable SDK, no environment, no clock. Orchestrators stay deterministic.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const sources = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [f, readFileSync(join(root, dir, f), 'utf8')] as const);

describe('architecture', () => {
  it.each(sources('shared/domain'))('shared/domain/%s imports no SDK and reads no environment', (_f, text) => {
    expect(text).not.toMatch(/from ['"](@azure|@microsoft|durable-functions)/);
    expect(text).not.toMatch(/process\.env/);
  });

  // The domain runs inside orchestrators on replay: a time it needs is passed in (context.df.currentUtcDateTime).
  it.each(sources('shared/domain'))('shared/domain/%s reads no clock and no randomness (replay-safe)', (_f, text) => {
    expect(text).not.toMatch(/Date\.now|new Date\(\)|performance\.now|Math\.random|randomUUID/);
  });

  // Every orchestrator and the helpers they share; contracts are messages and names only.
  it.each([
    ...sources('workflows').map(([f, t]) => [`workflows/${f}`, t] as const),
    ...sources('contracts').map(([f, t]) => [`contracts/${f}`, t] as const),
  ])('%s uses no clock, randomness or I/O of its own', (_f, text) => {
    expect(text).not.toMatch(/Date\.now|new Date\(\)|Math\.random|process\.env|from ['"]node:|\bfetch\(/);
  });
});
