// The local host as a process (`node dist-dev/local/host/main.js`), configured by environment like the Functions host:
// the app's own settings, plus DIALTONE_HOST_STATE_DIR, DIALTONE_HOST_PORT, DIALTONE_LOCAL_FUNCTION_KEY,
// DIALTONE_LOCAL_EXTRA_KEYS (comma-separated), DIALTONE_LOCAL_CLOCK=skip-ahead, DIALTONE_LOCAL_TIME_RATE (the rate governor's ceiling), DIALTONE_SIM_URL and DIALTONE_LOCAL_GRAPH_TOKENS=parent (Graph tokens from the parent process over IPC). Prints one READY line with its URL and function key.
import { join } from 'node:path';
import { readCaFile, startLocalHost } from './host';
import { ParentProcessCredential } from './parent-credential';

async function main(): Promise<void> {
  const env = process.env;
  const stateDir = env['DIALTONE_HOST_STATE_DIR'];
  if (!stateDir) throw new Error('DIALTONE_HOST_STATE_DIR is required');
  // A run from an admin's workstation: Graph tokens come from the dialtone process, where the admin signed in.
  const fromParent = env['DIALTONE_LOCAL_GRAPH_TOKENS'] === 'parent';
  const host = await startLocalHost({
    stateDir,
    appPath: join(__dirname, '..', '..', 'app.js'),
    ...(env['DIALTONE_HOST_PORT'] ? { port: Number(env['DIALTONE_HOST_PORT']) } : {}),
    ...(env['DIALTONE_LOCAL_FUNCTION_KEY'] ? { functionKey: env['DIALTONE_LOCAL_FUNCTION_KEY'] } : {}),
    ...(env['DIALTONE_LOCAL_EXTRA_KEYS']
      ? { extraFunctionKeys: env['DIALTONE_LOCAL_EXTRA_KEYS'].split(',').filter(Boolean) }
      : {}),
    skipAhead: env['DIALTONE_LOCAL_CLOCK'] === 'skip-ahead',
    ...(env['DIALTONE_LOCAL_MAX_RUNNING']
      ? { maxRunningOrchestrations: Number(env['DIALTONE_LOCAL_MAX_RUNNING']) }
      : {}),
    ...(env['DIALTONE_SIM_URL'] ? { simulatorUrl: env['DIALTONE_SIM_URL'] } : {}),
    ...(env['DIALTONE_LOCAL_TIME_RATE'] ? { maxRate: Number(env['DIALTONE_LOCAL_TIME_RATE']) } : {}),
    ...(env['DIALTONE_GRAPH_EXTRA_CA_FILE'] ? { simulatorCaPem: readCaFile(env['DIALTONE_GRAPH_EXTRA_CA_FILE']) } : {}),
    // A run from an admin's workstation: Graph tokens come from the dialtone process, where the admin signed in.
    ...(fromParent ? { graphCredential: new ParentProcessCredential() } : {}),
  });
  process.stdout.write(
    `DIALTONE_HOST_READY ${JSON.stringify({ url: host.url, functionKey: host.functionKey, consoleUrl: host.consoleSignInUrl() })}\n`,
  );
  const stop = () => void host.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // The dialtone process that holds the admin's sign-in is gone: no token will come, so this host stops too.
  if (fromParent) process.on('disconnect', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
