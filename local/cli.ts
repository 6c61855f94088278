// `dialtone`: runs the whole pipeline on this machine. `dialtone run <file>` starts Azurite, the Graph tenant
// simulator and the local host, sends the file the way a user would (a .json file to the HTTP API, anything else
// uploaded to the intake container), shows progress, and writes the report. `dialtone host` starts the same stack
// and leaves it running for manual use.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { blobBatchId } from '../functions/intake-blob';
import { OUTCOMES } from '../shared/domain/outcomes';
import { reportToCsv, type BatchReport } from '../shared/domain/report';
import { tenantFileSchema, type TenantFile } from './graph-sim/tenant';
import { isFinished, type LiveReport } from './batch-client';
import { startStack, type Stack } from './stack';

const USAGE = `usage:
  dialtone run <file> [--profile P] [--tenant tenant.json] [--out DIR] [--deadline-hours N]
  dialtone host [--tenant tenant.json]

  <file>   a CSV, a list of UPNs (one per line) or a JSON batch body
  --tenant the simulated tenant (default: the bundled demo tenant)
  --out    where report.json and report.csv go (default: ./dialtone-out)`;

export const SAMPLES = join(__dirname, '..', '..', 'local', 'samples');

class UsageError extends Error {}

function loadTenant(path: string | undefined): TenantFile {
  const file = path ?? join(SAMPLES, 'demo-tenant.json');
  if (!existsSync(file)) throw new UsageError(`tenant file not found: ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = tenantFileSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function bar(done: number, total: number, width = 28): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function elapsed(fromIso: string | undefined, now: number): string {
  if (!fromIso) return '';
  const m = Math.max(0, Math.round((now - new Date(fromIso).getTime()) / 60_000));
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m simulated`;
}

function summaryTable(report: BatchReport): string {
  const lines = ['', 'outcome       users', '------------  -----'];
  for (const o of OUTCOMES) lines.push(`${o.padEnd(12)}  ${String(report.counts[o]).padStart(5)}`);
  lines.push(`${'total'.padEnd(12)}  ${String(report.counts.total).padStart(5)}`);
  const reasons = new Map<string, number>();
  for (const u of report.users) if (u.reason) reasons.set(`${u.outcome}/${u.reason}`, (reasons.get(`${u.outcome}/${u.reason}`) ?? 0) + 1);
  if (reasons.size > 0) {
    lines.push('', 'reasons');
    for (const [k, n] of [...reasons].sort()) lines.push(`  ${k.padEnd(44)} ${n}`);
  }
  return lines.join('\n');
}

async function waitForReport(stack: Stack, batchId: string, timeoutMs: number): Promise<BatchReport> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = '';
  for (;;) {
    if (Date.now() - started > timeoutMs) throw new Error(`batch ${batchId} did not finish within ${Math.round(timeoutMs / 1000)} s`);
    const r = await fetch(`${stack.host.url}/api/batches/${encodeURIComponent(batchId)}`, { headers: { 'x-functions-key': stack.host.functionKey } });
    if (r.status === 200) {
      const live = (await r.json()) as LiveReport;
      const c = live.counts;
      if (c) {
        const settled = c.total - (c.pending ?? 0) - (live.finishedAt ? 0 : c.assigned);
        const line = `${bar(settled, c.total)} ${settled}/${c.total}  provisioned ${c.provisioned} · assigned ${c.assigned} · flagged ${c.flagged} · failed ${c.failed} · rejected ${c.rejected}  ${elapsed(live.startedAt, stack.clock.now())}`;
        if (line !== last) {
          process.stderr.write(tty ? `\r${line}` : `${line}\n`);
          last = line;
        }
      }
      if (isFinished(live)) {
        if (tty) process.stderr.write('\n');
        return live;
      }
      if (live.runtimeStatus === 'Failed' || live.runtimeStatus === 'Terminated') throw new Error(`batch ${batchId} ${live.runtimeStatus}`);
    } else if (r.status !== 404) {
      throw new Error(`status request failed: HTTP ${r.status} ${await r.text()}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

async function submit(stack: Stack, file: string, profile: string | undefined): Promise<string> {
  const bytes = readFileSync(file);
  if (file.toLowerCase().endsWith('.json')) {
    const url = new URL(`${stack.host.url}/api/batches`);
    if (profile) url.searchParams.set('profile', profile);
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-functions-key': stack.host.functionKey }, body: bytes });
    const body = (await r.json()) as { batchId?: string; detail?: string };
    if (r.status >= 400 || !body.batchId) return Promise.reject(new InputRefused(body.detail ?? `HTTP ${r.status}`));
    return body.batchId;
  }
  const name = profile ? `${profile}/${basename(file)}` : basename(file);
  const container = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient('license-requests');
  await container.createIfNotExists();
  const uploaded = await container.getBlockBlobClient(name).uploadData(bytes);
  return blobBatchId(name, uploaded.etag ?? '');
}

class InputRefused extends Error {}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { profile: { type: 'string' }, tenant: { type: 'string' }, out: { type: 'string' }, 'deadline-hours': { type: 'string' }, timeout: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new UsageError('dialtone run needs a file');
  if (!existsSync(file)) throw new UsageError(`file not found: ${file}`);
  const tenant = loadTenant(values.tenant);
  const out = resolve(values.out ?? 'dialtone-out');
  const deadline = values['deadline-hours'];
  if (deadline !== undefined && !(Number(deadline) > 0)) throw new UsageError('--deadline-hours must be a positive number');
  process.stderr.write(`starting Azurite, the Graph tenant simulator (${tenant.users.length} users) and the local host…\n`);
  const stack = await startStack({ tenant, settings: deadline ? { DIALTONE_DEADLINE_HOURS: deadline } : {}, onHostLog: (l) => process.env['DIALTONE_VERBOSE'] && process.stderr.write(`host: ${l}\n`) });
  try {
    let batchId: string;
    try {
      batchId = await submit(stack, file, values.profile);
    } catch (e) {
      if (!(e instanceof InputRefused)) throw e;
      const report: BatchReport = { batchId: '', source: 'http', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), deadline: null, error: e.message, counts: { total: 0, provisioned: 0, assigned: 0, flagged: 0, failed: 0, rejected: 0 }, users: [] };
      writeReport(out, report);
      process.stderr.write(`${file}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`batch ${batchId} submitted from ${file}\n`);
    const report = await waitForReport(stack, batchId, Number(values.timeout ?? 600) * 1000);
    writeReport(out, report);
    if (report.error) {
      process.stderr.write(`${report.error}\nreport: ${join(out, 'report.json')}\n`);
      return 2;
    }
    process.stdout.write(`${summaryTable(report)}\n\nreport: ${join(out, 'report.json')} and ${join(out, 'report.csv')}\n`);
    return 0;
  } finally {
    await stack.stop();
  }
}

function writeReport(out: string, report: BatchReport): void {
  mkdirSync(out, { recursive: true });
  const { runtimeStatus: _r, phase: _p, ...clean } = report as BatchReport & { runtimeStatus?: string; phase?: string };
  writeFileSync(join(out, 'report.json'), `${JSON.stringify(clean, null, 2)}\n`);
  writeFileSync(join(out, 'report.csv'), reportToCsv(clean));
}

async function host(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { tenant: { type: 'string' } } });
  const stack = await startStack({ tenant: loadTenant(values.tenant), onHostLog: (l) => process.stderr.write(`host: ${l}\n`) });
  process.stdout.write(
    [
      `local host:       ${stack.host.url}/api/batches`,
      `function key:     ${stack.host.functionKey}   (send as x-functions-key)`,
      `Graph simulator:  ${stack.sim.url}/v1.0`,
      `Azurite:          blob http://127.0.0.1:${stack.azurite.blobPort}, queue http://127.0.0.1:${stack.azurite.queuePort} (account devstoreaccount1)`,
      `drop files into:  license-requests (reports in license-reports, flags in the license-flags queue)`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  await stack.stop();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'run') return await run(rest);
    if (command === 'host') return await host(rest);
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 64;
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && /Unknown option|Unexpected argument/.test(e.message))) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      return 64;
    }
    process.stderr.write(`dialtone: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
