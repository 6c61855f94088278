// The app's modules import one another without a cycle (main.ts, functions/, workflows/, activities/, contracts/, shared/, local/,
// bench/): a cycle makes a module's exports undefined while the other one loads, and blurs which layer depends on
// which. Type-only imports count too, since they tie the modules' meanings together all the same.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';

const root = join(__dirname, '..', '..');
const ROOTS = [
  'main.ts',
  'app.ts',
  'wiring.ts',
  'functions/',
  'workflows/',
  'activities/',
  'contracts/',
  'shared/',
  'local/',
  'bench/',
];

/** Each module and the modules it imports (relative imports only; packages are not the house). */
export function importGraph(
  files: readonly string[],
  read: (path: string) => string,
  exists: (path: string) => boolean,
): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps: string[] = [];
    for (const m of read(file).matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gm)) {
      const base = normalize(join(dirname(file), m[1]!));
      const target = [`${base}.ts`, join(base, 'index.ts')].find(exists);
      if (target) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The cycles of a graph: its strongly connected components of more than one module (Tarjan), or a self-import. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('imports', () => {
  it('finds a cycle, also one through a type-only import', () => {
    const files: Record<string, string> = {
      'a.ts': "import { b } from './b';",
      'b.ts': "import type { C } from './c';",
      'c.ts': "import { a } from './a';\nimport { z } from 'zod';",
      'd.ts': "import { a } from './a';",
    };
    expect(
      cycles(
        importGraph(
          Object.keys(files),
          (f) => files[f]!,
          (f) => f in files,
        ),
      ),
    ).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('run one way through the app, the local runtime and the benchmarks', () => {
    const files = execFileSync('git', ['ls-files', '-z', ...ROOTS], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && existsSync(join(root, f)));
    expect(files.length).toBeGreaterThan(50);
    const graph = importGraph(
      files,
      (f) => readFileSync(join(root, f), 'utf8'),
      (f) => files.includes(f),
    );
    expect(cycles(graph)).toEqual([]);
  });
});
