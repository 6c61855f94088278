// The app on the real Durable Functions extension, as a process (`node dist-dev/local/extension-host/main.js`): loads
// the compiled app through the worker contract, serves its HTTP routes and the intake like the local host, and
// starts the .NET extension host (DialtoneExtensionHost) as its child, which runs the orchestrations and activities
// by calling back into this process. Configured like the local host (DIALTONE_HOST_STATE_DIR, DIALTONE_HOST_PORT,
// DIALTONE_LOCAL_FUNCTION_KEY) plus DIALTONE_EXTENSION_HOST_DLL (the built program; default: its Release build
// beside the sources) and DIALTONE_APP_ROOT (the app folder to load, as the Functions host's script root: an unpacked
// deployment package; default: this repository's build). Prints one READY line with its URL, function key and the
// .NET process id.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { uploadEventsWatcher } from '../host/blob-watcher';
import { installFunctionsCore, loadExtraFunctions } from '../host/functions-core';
import { HostServer } from '../host/server';
import { bridgeFunctions, NodeBridge } from './bridge';

const REPO = join(__dirname, '..', '..', '..');

/**
 * The app the worker loads: the `main` file named by the package.json of the app's root folder, and the root's
 * host.json ("Folder structure" and "Registering a function" in learn.microsoft.com/azure/azure-functions/
 * functions-reference-node). From an unpacked package, the app resolves its modules from that folder's node_modules.
 */
function appRoot(): { main: string; hostJson: string } {
  const root = process.env['DIALTONE_APP_ROOT'];
  if (!root) return { main: join(__dirname, '..', '..', 'main.js'), hostJson: join(REPO, 'host.json') };
  const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: unknown }).main;
  if (typeof main !== 'string' || /[*?{]/.test(main))
    throw new Error(`${root}/package.json: "main" must name one file here (got ${JSON.stringify(main)})`);
  return { main: join(root, main), hostJson: join(root, 'host.json') };
}

export function extensionHostDll(): string {
  return (
    process.env['DIALTONE_EXTENSION_HOST_DLL'] ??
    join(REPO, 'local', 'extension-host', 'bin', 'Release', 'net10.0', 'DialtoneExtensionHost.dll')
  );
}

function startDotnet(
  env: Record<string, string>,
  log: (m: string) => void,
): Promise<{ child: ChildProcess; client: Record<string, unknown> }> {
  const dll = extensionHostDll();
  if (!existsSync(dll)) throw new Error(`${dll} is missing: build it with \`npm run extension-host:build\``);
  return new Promise((resolve, reject) => {
    // stdin stays open as a pipe: when this process dies, the .NET host sees end of input and exits with it.
    const child = spawn('dotnet', [dll], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /DIALTONE_EXTENSION_READY (\{.*\})\n/.exec(out);
      if (m) {
        child.stdout?.removeListener('data', onData);
        // After READY, stdout carries only the extension's own HTTP listener's request log: shown when verbose.
        child.stdout?.on('data', (x: Buffer) => {
          if (process.env['DIALTONE_VERBOSE'] === '1') process.stderr.write(x);
        });
        resolve({ child, client: JSON.parse(m[1]!) as Record<string, unknown> });
      }
    };
    child.stdout?.on('data', onData);
    // Whole lines, however the pipe cut them (.NET's console writes a long line in 256-byte pieces).
    if (child.stderr)
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim()) log(line);
      });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`the .NET extension host exited (${code ?? signal}) before it was ready:\n${out.slice(-4000)}`)),
    );
  });
}

/**
 * Starts the .NET host, again (at most twice more) when it exits before it is ready. The extension opens its local
 * RPC listener on 127.0.0.1:17071 first and on a random port of 30000-31000 after a failure (LocalHttpListener in
 * Azure/azure-functions-durable-extension); when several hosts start on one machine at the same moment, as parallel
 * test files do here and as never happens in Azure (one host per instance), a start-up can still end with the port
 * taken. A host that was ready and then died is not restarted: that ends this process (below).
 */
async function startDotnetWithRetry(
  env: Record<string, string>,
  log: (m: string) => void,
): Promise<{ child: ChildProcess; client: Record<string, unknown> }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDotnet(env, log);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof Error) || !e.message.startsWith('the .NET extension host exited')) throw e;
      const why = /address already in use|Failed to bind/i.test(e.message)
        ? 'a port was taken'
        : 'see its output above';
      log(
        `the .NET extension host exited before it was ready (${why}); starting it again (attempt ${attempt + 1} of 3)`,
      );
      log(`its last output: ${e.message.slice(-600).replace(/\s+/g, ' ')}`);
      await new Promise((r) => setTimeout(r, 500 * attempt + Math.floor(Math.random() * 500)));
    }
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const stateDir = env['DIALTONE_HOST_STATE_DIR'];
  if (!stateDir) throw new Error('DIALTONE_HOST_STATE_DIR is required');
  mkdirSync(stateDir, { recursive: true });
  if (env['FUNCTIONS_WORKER_RUNTIME'] !== 'node') throw new Error('FUNCTIONS_WORKER_RUNTIME must be node');

  const registry = installFunctionsCore();
  process.env['WEBSITE_AUTH_ENABLED'] = 'True'; // the local stand-in for App Service Authentication (host/easy-auth.ts)
  const app = appRoot();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(app.main);
  loadExtraFunctions();
  if (env['DIALTONE_APP_ROOT'])
    log(
      `app: ${app.main}, durable-functions from ${require.resolve('durable-functions/package.json', { paths: [dirname(app.main)] })}`,
    );

  // Filled in once the .NET host is ready; the HTTP server starts first because the extension needs its URL.
  const extension: { client?: Record<string, unknown>; pid?: number } = {};
  const bridge = new NodeBridge(registry, log, () => extension.client);
  const bridgeUrl = await bridge.start();
  const functionKey = env['DIALTONE_LOCAL_FUNCTION_KEY'] ?? randomBytes(24).toString('base64url');
  const server = new HostServer({
    registry,
    functionKey,
    taskHub: env['DIALTONE_TASK_HUB'] ?? 'dialtone',
    log,
    clientData: () => {
      if (!extension.client) throw new Error('the durable extension is not ready');
      return extension.client;
    },
    // Which engine this is, the .NET process that runs it and what the bridge ran for it: the conformance tests read
    // these to prove a scenario ran on the real extension (the local host answers engine: 'local' and no bridge).
    status: () => ({
      engine: 'extension',
      extensionPid: extension.pid,
      invocations: { ...bridge.counts },
      invocationsByFunction: { ...bridge.byFunction },
      invocationMsByFunction: { ...bridge.msByFunction },
      invocationTime: { ...bridge.time },
    }),
    webhookTarget: () =>
      typeof extension.client?.['rpcBaseUrl'] === 'string' ? extension.client['rpcBaseUrl'] : undefined,
    ...(env['DIALTONE_HOST_PORT'] ? { port: Number(env['DIALTONE_HOST_PORT']) } : {}),
  });
  const url = await server.start();
  process.env['WEBSITE_HOSTNAME'] = new URL(url).host;

  // The extension takes CONTAINER_NAME (or WEBSITE_INSTANCE_ID) to mean Linux Consumption/App Service and then writes
  // its telemetry to stdout (DefaultPlatformInformation.GetOperatingSystem, InitializeLinuxLogging); this is neither.
  const { CONTAINER_NAME: _c, WEBSITE_INSTANCE_ID: _w, WEBSITE_SKU: _s, ...inherited } = env as Record<string, string>;
  // The .NET runtime keeps its diagnostic IPC files (clr-debug-pipe-*, dotnet-diagnostic-*) in TMPDIR and removes them
  // only on a clean exit; a worker killed with SIGKILL would leave them behind. They go to the host's state folder.
  const dotnetTmp = join(stateDir, 'dotnet-tmp');
  mkdirSync(dotnetTmp, { recursive: true });
  const dotnet = await startDotnetWithRetry(
    {
      ...inherited,
      TMPDIR: dotnetTmp,
      DIALTONE_BRIDGE_URL: bridgeUrl,
      DIALTONE_BRIDGE_FUNCTIONS: JSON.stringify(bridgeFunctions(registry)),
      DIALTONE_HOST_JSON: app.hostJson,
      DIALTONE_WEBHOOK_BASE_URL: `${url}/runtime/webhooks/durabletask`,
      DIALTONE_TASK_HUB: env['DIALTONE_TASK_HUB'] ?? 'dialtone',
      // A worker name of its own. The Azure Storage provider names a worker by its machine (Environment.MachineName)
      // unless these two App Service variables are set (AzureStorageDurabilityProviderFactory in
      // Azure/azure-functions-durable-extension), and it owns control-queue partitions by that name: two workers on
      // one machine then both took the same partitions and ran the same instances' episodes ("Split brain detected").
      // In Azure every instance is a machine of its own; here every process gets a name of its own.
      WEBSITE_CURRENT_STAMPNAME: 'dialtone-local',
      RoleInstanceId: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    },
    log,
  );
  extension.client = dotnet.client;
  extension.pid = dotnet.child.pid;
  dotnet.child.once('exit', (code, signal) => {
    log(`the .NET extension host exited (${code ?? signal})`);
    process.exit(1);
  });

  // Uploads: as the local host does it (Azurite has no Event Grid): BlobCreated events to the Event Grid trigger.
  const watcher = uploadEventsWatcher(
    registry,
    stateDir,
    (trigger, event) => server.invoke(trigger, event, { ...event }),
    log,
  );
  watcher?.start();

  process.stdout.write(
    `DIALTONE_HOST_READY ${JSON.stringify({ url, functionKey, extensionPid: dotnet.child.pid, consoleUrl: `${url}${server.signIn.mintLink()}` })}\n`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    watcher?.stop();
    dotnet.child.removeAllListeners('exit');
    const done = () => void Promise.all([server.close(), bridge.close()]).then(() => process.exit(0));
    if (dotnet.child.exitCode !== null || dotnet.child.signalCode !== null) return done();
    dotnet.child.once('exit', done);
    dotnet.child.kill('SIGTERM');
    setTimeout(() => dotnet.child.kill('SIGKILL'), 15_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
