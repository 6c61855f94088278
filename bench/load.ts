// `npm run load -- [--clients 50] [--seconds 60] [--users 100] [--json]`: concurrent clients post batches to the
// local host's intake for a while; then every accepted batch must complete with a full report, and every refusal
// must carry a status and Retry-After (the client waits that long and tries again: nothing is dropped).
import { parseArgs } from 'node:util';
import { finishedReport } from '../local/batch-client';
import { startStack } from '../local/stack';
import type { TenantFile } from '../local/graph-sim/tenant';
import { percentile } from './workload';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '60' },
      users: { type: 'string', default: '100' },
      json: { type: 'boolean', default: false },
    },
  });
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const perBatch = Number(values.users);
  // Users who already hold their licences: the load is on the intake and the orchestration, not on Graph's quota.
  const tenant: TenantFile = {
    skus: [
      { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: perBatch },
      { skuPartNumber: 'MCOEV', prepaidUnits: perBatch },
    ],
    users: Array.from({ length: perBatch }, (_, i) => ({
      userPrincipalName: `staff${i}@contoso.com`,
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV'],
    })),
  };
  const stack = await startStack({ tenant, throttling: true, settings: { DIALTONE_LOCAL_MAX_RUNNING: '60' } });
  const t0 = Date.now();
  const accepted: string[] = [];
  const latencies: number[] = [];
  let refused = 0;
  let refusedWithoutRetryAfter = 0;
  let errors = 0;
  const statuses: Record<string, number> = {};
  let seq = 0;
  const body = (id: string) =>
    JSON.stringify({
      batchId: id,
      profile: 'phone-system-only',
      users: tenant.users.map((u) => ({ userPrincipalName: u.userPrincipalName })),
    });
  const until = t0 + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        while (Date.now() < until) {
          const id = `load-${c}-${seq++}`;
          const start = Date.now();
          try {
            const r = await fetch(`${stack.host.url}/api/batches`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-functions-key': stack.host.functionKey },
              body: body(id),
            });
            await r.arrayBuffer();
            latencies.push(Date.now() - start);
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            if (r.status === 202) accepted.push(id);
            else if (r.status === 429 || r.status === 503) {
              refused++;
              const after = Number(r.headers.get('retry-after'));
              if (!(after > 0)) refusedWithoutRetryAfter++;
              await new Promise((res) =>
                setTimeout(res, Math.min(Math.max(after, 1) * 1000, Math.max(0, until - Date.now()))),
              );
            } else errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
    const submitSeconds = (Date.now() - t0) / 1000;
    process.stderr.write(
      `load: ${accepted.length} batches accepted, ${refused} refused in ${submitSeconds.toFixed(0)} s; waiting for every accepted batch to finish…\n`,
    );
    let incomplete = 0;
    let wrongRows = 0;
    const pending = new Set(accepted);
    const deadline = Date.now() + 20 * 60_000;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const id of [...pending].slice(0, 50)) {
        const rep = await finishedReport(stack.host, id);
        if (rep) {
          if (rep.users.length !== perBatch) wrongRows++;
          pending.delete(id);
        }
      }
      if (pending.size > 0) await new Promise((res) => setTimeout(res, 250));
    }
    incomplete = pending.size;
    const result = {
      clients,
      seconds,
      usersPerBatch: perBatch,
      requests: latencies.length + errors,
      accepted: accepted.length,
      refused,
      refusedWithoutRetryAfter,
      errors,
      statuses,
      acceptedIncomplete: incomplete,
      acceptedWithWrongRowCount: wrongRows,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      wallSeconds: Math.round((Date.now() - t0) / 100) / 10,
    };
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
    process.exitCode = incomplete === 0 && wrongRows === 0 && refusedWithoutRetryAfter === 0 && errors === 0 ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
