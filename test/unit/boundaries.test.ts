// The boundary `npm run lint` enforces: product code (main.ts, app.ts, wiring.ts, functions/, workflows/,
// activities/, contracts/, shared/, web/) never imports the local runtime, the benchmarks or the tests. These run the project's own ESLint configuration on a
// violation given as the text of a real product file (so the type-checked project finds it), and on the same text
// given as a file of local/, where it is allowed. And the product's modules import one another without a cycle.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..');

interface LintMessage {
  ruleId: string | null;
  line: number;
  message: string;
}

/** Lints `text` as if it were the file at `asPath`, with the project's eslint.config.mjs; returns its messages. */
function lintAs(asPath: string, text: string): LintMessage[] {
  const run = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--format',
      'json',
      '--stdin',
      '--stdin-filename',
      asPath,
    ],
    { cwd: root, input: text, encoding: 'utf8', timeout: 110_000 },
  );
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
    const boundary = lintAs('functions/health.ts', violations).filter((m) =>
      m.message.includes('never imports local/, bench/ or test/'),
    );
    expect(boundary.map((m) => m.line).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('the same imports are allowed in local/ (the rule is about product code only)', () => {
    const boundary = lintAs('local/doctor.ts', violations.replaceAll("'../", "'../../")).filter((m) =>
      m.message.includes('never imports local/, bench/ or test/'),
    );
    expect(boundary).toEqual([]);
  });
});

/** Every TypeScript file of the product (web/ is a browser bundle of its own and imports nothing of the app). */
function productFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((f) =>
      statSync(join(root, dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : [],
    );
  return [
    'main.ts',
    'app.ts',
    'wiring.ts',
    ...['functions', 'workflows', 'activities', 'contracts', 'shared'].flatMap(walk),
  ];
}

/** The product's own modules each file imports (type-only imports and re-exports too), as paths from the root. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const local = importedFiles.map((i) => i.fileName).filter((name) => name.startsWith('.'));
    graph.set(
      file,
      local.map((name) => {
        const base = relative(root, join(root, dirname(file), name));
        const found = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(join(root, f)));
        if (!found) throw new Error(`${file}: cannot resolve ${name}`);
        return found;
      }),
    );
  }
  return graph;
}

/** The cycles of a graph, each as the files around it (one per strongly connected component larger than a file). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('the product has no import cycle', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['c.ts']],
          ['c.ts', ['a.ts']],
          ['d.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('no module of main.ts, app.ts, functions/, workflows/, activities/, contracts/ or shared/ imports itself through others', () => {
    const graph = importGraph(productFiles());
    expect(graph.get('app.ts')).toEqual(expect.arrayContaining(['functions/batches.ts', 'shared/adapters/config.ts']));
    expect(cycles(graph)).toEqual([]);
  });
});
