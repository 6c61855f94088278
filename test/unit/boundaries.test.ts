// The boundary `npm run lint` enforces: product code (main.ts, app.ts, functions/, orchestrations/, shared/, web/) never
// imports the local runtime, the benchmarks or the tests. These run the project's own ESLint configuration on a
// violation given as the text of a real product file (so the type-checked project finds it), and on the same text
// given as a file of local/, where it is allowed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

interface LintMessage {
  ruleId: string | null;
  line: number;
  message: string;
}

/** Lints `text` as if it were the file at `asPath`, with the project's eslint.config.mjs; returns its messages. */
function lintAs(asPath: string, text: string): LintMessage[] {
  const run = spawnSync(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', '--stdin', '--stdin-filename', asPath], { cwd: root, input: text, encoding: 'utf8', timeout: 110_000 });
  const results = JSON.parse(run.stdout) as { messages: LintMessage[] }[];
  return results.flatMap((r) => r.messages);
}

const violations = [
  "import { SkipAheadClock } from '../local/clock';",
  "import { skuIdOf } from '../test/support/tenant';",
  "export { generateWorkload } from '../bench/workload';",
  "export const viaRequire = require('../local/graph-sim/tenant') as unknown; // eslint-disable-line @typescript-eslint/no-require-imports",
  "export const viaImport = (): Promise<unknown> => import('../bench/load');",
  'export const used: unknown = [SkipAheadClock, skuIdOf];',
].join('\n');

describe('product code never imports local/, bench/ or test/', () => {
  it('lint fails on each kind of import from a product file', () => {
    const boundary = lintAs('functions/health.ts', violations).filter((m) => m.message.includes('never imports local/, bench/ or test/'));
    expect(boundary.map((m) => m.line).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('the same imports are allowed in local/ (the rule is about product code only)', () => {
    const boundary = lintAs('local/doctor.ts', violations.replaceAll("'../", "'../../")).filter((m) => m.message.includes('never imports local/, bench/ or test/'));
    expect(boundary).toEqual([]);
  });
});
