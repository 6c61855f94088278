// The zip `azd up` deploys, built from a fresh copy of the repository exactly as azd builds it (test/support/azd.ts
// follows azd's source: framework_service_node.go Package, project_utils.go createDeployableZip,
// service_target_functionapp.go resolveFunctionAppRemoteBuild, the service's prepackage hook), then checked twice:
// its listing (only what runs in Azure, production packages at package-lock.json's versions, no source map with an
// absolute path, nothing secret), and the app unpacked alone into an empty folder and started on the real Durable
// extension, where a small batch must end with every row's expected outcome. Without dotnet the second part is
// skipped and says so; with DIALTONE_REQUIRE_EXTENSION=1 (CI) it fails instead.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import {
  createDeployableZip,
  extractZip,
  frameworkPackage,
  readAzdService,
  readZip,
  resolveFunctionAppRemoteBuild,
  runServiceHook,
  type AzdService,
} from '../support/azd';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { describeOnExtension } from '../support/extension';
import { tenantSkus } from '../support/tenant';

const repo = join(__dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; devOptional?: boolean }>;
};
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

let work: string;
let svc: AzdService;
let zipPath: string;
let names: string[];
let remoteBuild: boolean;

/**
 * A fresh clone: the files git would check out (tracked, plus new ones not ignored, so that uncommitted work is
 * tested too), nothing the build or a developer left (dist/, .azd-package/, local.settings.json are ignored).
 */
function freshClone(into: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter((f) => f && existsSync(join(repo, f)))) {
    mkdirSync(dirname(join(into, file)), { recursive: true });
    cpSync(join(repo, file), join(into, file));
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dialtone-azd-'));
  const clone = join(work, 'clone');
  freshClone(clone);
  // azd's Restore (framework_service_node.go, npmCli.Install) runs `npm install --no-audit --no-fund --prefer-offline`
  // where node_modules is missing or older than package-lock.json: on a fresh clone it installs the lockfile's tree.
  // Here the tree `npm ci` installed from the same package-lock.json stands in for it (no second 400 MB install on a
  // shared machine); scripts/package.js refuses to stage a package whose version differs from the lockfile's.
  symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'), 'dir');
  svc = readAzdService(clone, 'api');
  const env = { ...process.env };
  // serviceManager.Package (service_manager.go): the prepackage hooks, then the framework's Package, then the
  // function app target's Package (the zip); remote build is decided at deploy time from the service root.
  runServiceHook(svc, 'prepackage', env);
  const packageFolder = frameworkPackage(svc, env);
  runServiceHook(svc, 'postpackage', env);
  remoteBuild = resolveFunctionAppRemoteBuild(svc);
  zipPath = join(work, 'dialtone-api-azddeploy.zip');
  names = createDeployableZip(svc, packageFolder, zipPath);
  process.stdout.write(
    `azd-package.test.ts: the deployment zip has ${names.length} files, ${(statSync(zipPath).size / 1024 / 1024).toFixed(1)} MiB\n`,
  );
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the zip azd builds from a fresh clone', () => {
  it('is a function app of TypeScript with an explicit remoteBuild: false that the service root .funcignore allows, so node_modules ships', () => {
    expect([svc.host, svc.language, svc.dist, svc.remoteBuild]).toEqual(['function', 'ts', '.azd-package', false]);
    expect(remoteBuild).toBe(false);
    expect(names).toEqual(
      expect.arrayContaining([
        'host.json',
        'package.json',
        'dist/main.js',
        'dist/web/console.js',
        'node_modules/durable-functions/package.json',
      ]),
    );
  });

  it('holds the compiled app and nothing from local/, bench/, test/, web sources, .ci/, infra/, scripts/ or docs/', () => {
    const own = names.filter((n) => !n.startsWith('node_modules/'));
    expect(
      own.filter((n) =>
        /^(local|bench|test|web|\.ci|infra|scripts|docs|bin|dist\/local|dist\/bench|dist\/test)\//.test(n),
      ),
    ).toEqual([]);
    expect(own.filter((n) => /\.(ts|tsbuildinfo)$/.test(n) || !/^(host\.json|package\.json|dist\/)/.test(n))).toEqual(
      [],
    );
    // Development tools never ship (some devDependencies are also needed by production packages and ship for them).
    for (const tool of [
      'typescript',
      'jest',
      'ts-jest',
      'eslint',
      'azurite',
      'playwright-core',
      'fast-check',
      'selfsigned',
      'azure-functions-core-tools',
      '@types/jest',
    ]) {
      expect([tool, names.some((n) => n.startsWith(`node_modules/${tool}/`))]).toEqual([tool, false]);
    }
  });

  it("ships each production package at package-lock.json's version, overrides included, and a package.json that keeps them", () => {
    const entries = new Map(
      readZip(zipPath)
        .filter(
          (e) =>
            e.name === 'package.json' ||
            /^node_modules\/(@[^/]+\/)?[^@/][^/]*(\/node_modules\/(@[^/]+\/)?[^/]+)*\/package\.json$/.test(e.name),
        )
        .map((e) => [e.name, e.data]),
    );
    const version = (dir: string) =>
      entries.has(`${dir}/package.json`)
        ? (JSON.parse(entries.get(`${dir}/package.json`)!.toString('utf8')) as { version: string }).version
        : undefined;
    const wanted = Object.entries(lock.packages).filter(
      ([k, m]) => k.startsWith('node_modules/') && !m.dev && !m.optional && !m.devOptional,
    );
    expect(wanted.length).toBeGreaterThan(50);
    expect(
      wanted.filter(([k, m]) => version(k) !== m.version).map(([k, m]) => `${k}: ${version(k)} ≠ ${m.version}`),
    ).toEqual([]);
    // The overrides of package.json, as npm applied them: a top-level one to every copy of the package, a nested one
    // to the copy its parent resolves (its own node_modules first, then the top level).
    for (const [name, spec] of Object.entries(manifest.overrides as Record<string, string | Record<string, string>>)) {
      if (typeof spec === 'string') {
        const copies = [...entries.keys()]
          .filter((n) => n.endsWith(`node_modules/${name}/package.json`))
          .map((n) => n.slice(0, -'/package.json'.length));
        expect([name, copies.length > 0, copies.filter((c) => version(c) !== spec)]).toEqual([name, true, []]);
      } else
        for (const [dep, v] of Object.entries(spec))
          expect([
            name,
            dep,
            version(`node_modules/${name}/node_modules/${dep}`) ?? version(`node_modules/${dep}`),
          ]).toEqual([name, dep, v]);
    }
    const shipped = JSON.parse(entries.get('package.json')!.toString('utf8'));
    expect(shipped.overrides).toEqual(manifest.overrides);
    expect(shipped.dependencies).toEqual(manifest.dependencies);
    expect([shipped.scripts, shipped.devDependencies, shipped.optionalDependencies]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(shipped.main).toBe(manifest.main);
  });

  it('has no source map that names an absolute path, and nothing secret', () => {
    const all = readZip(zipPath);
    const absolute = (s: unknown) => typeof s === 'string' && /^(\/|[A-Za-z]:[\\/]|file:|\\\\)/.test(s);
    const maps = all.filter((e) => e.name.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const bad = maps.filter((e) => {
      const m = JSON.parse(e.data.toString('utf8')) as {
        sources?: unknown[];
        sourceRoot?: unknown;
        sections?: unknown;
      };
      return absolute(m.sourceRoot) || (m.sources ?? []).some(absolute);
    });
    expect(bad.map((e) => e.name)).toEqual([]);
    // Files that hold secrets by their nature, anywhere; connection secrets and keys in the app's own files. The one
    // account key allowed is Azurite's published development key (shared/adapters/config.ts DEVELOPMENT_STORAGE).
    expect(
      names.filter((n) =>
        /(^|\/)(local\.settings\.json|\.env(\..*)?|\.npmrc|id_rsa[^/]*|[^/]*\.(pem|pfx|p12|key))$|(^|\/)\.(azure|dialtone)\//.test(
          n,
        ),
      ),
    ).toEqual([]);
    const own = all.filter((e) => !e.name.startsWith('node_modules/'));
    const secrets = own.filter((e) => {
      // dist/main.js is the bundle (scripts/bundle.js), with the Functions library's list of setting names it redacts
      // from logs in it: a name in quotes with nothing after its `=` ("AccountKey=") holds no secret.
      const text = e.data
        .toString('utf8')
        .replace(
          /AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq\/K1SZFPTOtr\/KBHBeksoGMGw==/g,
          '',
        )
        .replace(/"(AccountKey|SharedAccessKey)="/g, '');
      return /AccountKey=|SharedAccessKey=|-----BEGIN [A-Z ]*PRIVATE KEY-----|client_secret=|"clientSecret"\s*:\s*"[^"]/.test(
        text,
      );
    });
    expect(secrets.map((e) => e.name)).toEqual([]);
  });

  it("ships dist/main.js as the bundle (scripts/bundle.js): the app in one file, the handlers' SDKs left to node_modules", () => {
    const main = readZip(zipPath)
      .find((e) => e.name === 'dist/main.js')!
      .data.toString('utf8');
    expect(main).not.toMatch(/require\("\.\.?\//);
    expect(main).toContain('require("@azure/storage-blob")');
    expect(main).not.toMatch(/require\("(durable-functions|@azure\/functions|zod)"\)/);
  });

  it('is a zip another tool reads back whole (unzip -t, where the machine has it)', () => {
    const unzip = spawnSync('unzip', ['-tq', zipPath], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    if (unzip.error) {
      process.stderr.write(
        "azd-package.test.ts: unzip is not on the PATH; the zip was checked by this test's own reader only\n",
      );
      expect(readZip(zipPath)).toHaveLength(names.length);
      return;
    }
    expect([unzip.status, unzip.stdout.trim()]).toEqual([0, expect.stringMatching(/^No errors detected/)]);
  });
});

const QUICK = 0.1; // minutes until Teams shows the calling plan
const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    { userPrincipalName: 'p-soon@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: QUICK },
    { userPrincipalName: 'p-hybrid@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'p-noloc@contoso.com', usageLocation: null },
  ],
};

describeOnExtension('the unpacked zip, alone in an empty folder, on the real Durable extension', () => {
  let stack: Stack;
  let appRoot: string;
  const hostLog: string[] = [];
  beforeAll(async () => {
    appRoot = join(work, 'wwwroot');
    mkdirSync(appRoot);
    // Alone: no node_modules or package.json in any folder above it, where Node's resolution could find a module the
    // zip lacks.
    for (let dir = dirname(appRoot); dir !== dirname(dir); dir = dirname(dir)) {
      for (const f of ['node_modules', 'package.json'])
        if (existsSync(join(dir, f)))
          throw new Error(`${join(dir, f)} exists above the unpacked app; run this test with TMPDIR elsewhere`);
    }
    expect(extractZip(zipPath, appRoot)).toBe(names.length);
    stack = await startStack({
      engine: 'extension',
      tenant,
      onHostLog: (l) => hostLog.push(l),
      settings: {
        DIALTONE_APP_ROOT: appRoot,
        DIALTONE_TASK_HUB: 'azdpackage',
        DIALTONE_DEADLINE_HOURS: '0.08',
        AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
        NODE_PATH: '',
      },
    });
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('loads the app from the package and completes a small batch with every row as expected', async () => {
    expect(hostLog).toContainEqual(
      `app: ${join(appRoot, 'dist', 'main.js')}, durable-functions from ${join(appRoot, 'node_modules', 'durable-functions', 'package.json')}`,
    );
    const r = await postBatch(stack, {
      batchId: 'from-the-zip',
      users: [
        { userPrincipalName: 'p-soon@contoso.com' },
        { userPrincipalName: 'p-hybrid@contoso.com', profile: 'phone-system-only', onPremisesPstn: true },
        { userPrincipalName: 'p-noloc@contoso.com' },
        { userPrincipalName: 'p-ghost@contoso.com' },
        { userPrincipalName: 'not-a-upn' },
      ],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'from-the-zip', 400_000);
    expect(Object.values(outcomesByUpn(report))).toEqual([
      'provisioned',
      'assigned',
      'failed/usage_location_missing',
      'failed/user_not_found',
      'rejected/invalid_upn',
    ]);
  }, 500_000);
});
