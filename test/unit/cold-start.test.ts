// A cold start loads only what registering the functions needs (main.ts; bench/README.md, "Cold start"): the storage,
// Graph, Service Bus and HTTP SDKs the handlers run on are loaded at the first invocation, and the deployed entry is
// one bundle (scripts/bundle.js) that leaves them out and still starts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELEASE_READS_ACTIVITY } from '../../contracts/names';

const repo = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundle = require('../../scripts/bundle.js') as {
  bundleApp(out: string, entry?: string): string;
  LOADED_ON_FIRST_USE: readonly string[];
};

describe('cold start', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.resetModules();
  });

  it('registers every function without loading an SDK a handler runs on', () => {
    process.env.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
    const loaded: string[] = [];
    for (const name of bundle.LOADED_ON_FIRST_USE) {
      jest.doMock(name, () => {
        loaded.push(name);
        return jest.requireActual(name);
      });
    }
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('../../main');
      });
    } finally {
      warn.mockRestore();
    }
    expect(loaded).toEqual([]);
  });

  it('builds what the handlers run on at the first invocation', async () => {
    process.env.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
    const loaded: string[] = [];
    for (const name of bundle.LOADED_ON_FIRST_USE) {
      jest.doMock(name, () => {
        loaded.push(name);
        return jest.requireActual(name);
      });
    }
    // Captures the handlers main.ts registers (the library skips registering outside the Functions worker).
    const handlers = new Map<string, (...args: unknown[]) => unknown>();
    jest.doMock('durable-functions', () => {
      const actual = jest.requireActual('durable-functions');
      return {
        ...actual,
        app: {
          ...actual.app,
          activity: (name: string, options: { handler: (...args: unknown[]) => unknown }) =>
            handlers.set(name, options.handler),
          orchestration: () => undefined,
        },
      };
    });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('../../main');
      });
    } finally {
      warn.mockRestore();
    }
    expect(loaded).toEqual([]);
    const releaseReads = handlers.get(RELEASE_READS_ACTIVITY);
    expect(releaseReads).toBeDefined();
    // Whatever it answers (nothing listens on Azurite's port here), the first call builds the storage and Graph clients.
    await Promise.resolve()
      .then(() => releaseReads!({ batchId: 'b', chunk: 0 }, {}))
      .catch(() => undefined);
    expect([...new Set(loaded)].sort()).toEqual(
      expect.arrayContaining(['@azure/storage-blob', '@microsoft/microsoft-graph-client', 'undici']),
    );
  });

  it('bundles the app into one file that leaves those SDKs out and starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialtone-bundle-'));
    try {
      const out = bundle.bundleApp(join(dir, 'main.js'), join(repo, 'main.ts'));
      const text = readFileSync(out, 'utf8');
      for (const name of bundle.LOADED_ON_FIRST_USE) expect(text).toContain(`require("${name}")`);
      // The worker provides @azure/functions-core; without it the library runs in its test mode, as here.
      const run = spawnSync(process.execPath, [out], {
        env: {
          ...process.env,
          AzureWebJobsStorage: 'UseDevelopmentStorage=true',
          NODE_PATH: join(repo, 'node_modules'),
        },
        encoding: 'utf8',
      });
      expect(run.stderr.split('\n').filter((l) => l && !l.startsWith('WARNING:'))).toEqual([]);
      expect(run.status).toBe(0);
      expect(run.stdout + run.stderr).toContain('register function "dialtone-batch"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
