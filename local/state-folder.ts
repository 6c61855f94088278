// One process at a time in a state folder (`dialtone host --state`, a workstation run's folder): two would share
// Azurite's files and the durable instance store.

export class StateFolderBusy extends Error {}

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A lock file with this process's id, taken over when the process that wrote it is gone (a laptop that stopped, a
 * killed run). Returns what gives it back.
 */
export function claimStateFolder(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'host.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    let alive = false;
    try {
      alive = Number.isInteger(pid) && pid > 0 && pid !== process.pid && process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive)
      throw new StateFolderBusy(
        `another dialtone process (${pid}) uses the state folder ${dir}; stop it, or give another --state`,
      );
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}
