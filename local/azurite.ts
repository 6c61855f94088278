// Starts Azurite (the Azure Storage emulator, from npm) as a child process on ports chosen by the OS, in memory or
// in a given folder, and returns its connection string. The process is stopped with the returned handle (and dies
// with its parent).
//
// In memory, every blob write is an extent of its own, and Azurite's blob garbage collector (every 10 minutes of
// wall time, BlobGCManager) deletes the superseded ones one by one from a LokiJS collection whose index is rebuilt at
// each deletion (Collection.findAndRemove → ensureAllIndexes): quadratic in the writes of those 10 minutes. After a
// few thousand overwrites (the budgets' ledgers, chunk merges) it held Azurite's event loop for minutes, every request
// waiting (seen in a 2,000-user bench run; azurite 3.35.0). On disk, writes are appended to shared extent files of up
// to 64 MB, so the collector has a handful of extents to look at. Long runs (the local stack) use a folder; short
// tests stay in memory.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Azurite {
  readonly pid: number | undefined;
  readonly blobPort: number;
  readonly queuePort: number;
  readonly tablePort: number;
  readonly connectionString: string;
  stop(): Promise<void>;
}

const ACCOUNT = 'devstoreaccount1';
// Azurite's well-known development key, published by Microsoft; not a secret.
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function startAzurite(timeoutMs = 60_000, options: { folder?: string } = {}): Promise<Azurite> {
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const persistence = options.folder
    ? ['--location', options.folder]
    : ['--inMemoryPersistence', '--extentMemoryLimit', '1024'];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--silent',
      ...persistence,
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobHost',
      '127.0.0.1',
      '--queueHost',
      '127.0.0.1',
      '--tableHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--queuePort',
      '0',
      '--tablePort',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const ports = await new Promise<{ blob: number; queue: number; table: number }>((resolve, reject) => {
    let out = '';
    let gaveUp = false;
    // A slow start is given up on with its process: stopped, and waited for, before the error is reported.
    const timer = setTimeout(() => {
      gaveUp = true;
      const slow = Object.assign(new Error(`Azurite did not start within ${timeoutMs} ms: ${out}`), { pid: child.pid });
      child.removeAllListeners('exit');
      child.once('exit', () => reject(slow));
      if (!child.kill('SIGKILL')) reject(slow);
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (gaveUp) return;
      const blob = /Blob service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const queue = /Queue service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const table = /Table service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (blob && queue && table) {
        clearTimeout(timer);
        resolve({ blob: Number(blob[1]), queue: Number(queue[1]), table: Number(table[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (${code}): ${out}`));
    });
  });
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${ports.blob}/${ACCOUNT};QueueEndpoint=http://127.0.0.1:${ports.queue}/${ACCOUNT};TableEndpoint=http://127.0.0.1:${ports.table}/${ACCOUNT};`;
  return {
    pid: child.pid,
    blobPort: ports.blob,
    queuePort: ports.queue,
    tablePort: ports.table,
    connectionString,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
