// `npm run chaos -- [--users N] [--json]`: the same generated batch twice through the local host and the Graph
// simulator, once clean and once under faults (503/504, connection resets, 429 storms, latency spikes, and the host
// killed with SIGKILL at random moments and restarted), then compares: nobody lost, no outcome changed, no seat
// written twice, and no assignLicense request sent twice for a user (even one that changed nothing).
import { parseArgs } from 'node:util';
import { finishedReport } from '../local/batch-client';
import { startStack, type Stack } from '../local/stack';
import { generateWorkload, rng } from './workload';
import type { BatchReport } from '../shared/domain/report';

interface RunResult {
  report: BatchReport;
  /** State-changing assignLicense writes per user. */
  assignWrites: Map<string, number>;
  /** Every assignLicense request that reached the tenant per user, including ones that changed nothing. */
  assignRequests: Map<string, number>;
  crashes: number;
}

async function post(stack: Stack, body: unknown): Promise<void> {
  for (;;) {
    try {
      const r = await fetch(`${stack.host.url}/api/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': stack.host.functionKey },
        body: JSON.stringify(body),
      });
      if (r.status === 202 || r.status === 200) return;
      // Busy, or the batch's state could not be read: wait as told and send the same batch again.
      if (r.status === 503 || r.status === 429) {
        await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after') ?? '1') * 1000));
        continue;
      }
      throw new Error(`submit answered ${r.status}: ${await r.text()}`);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('submit answered')) throw e;
      await new Promise((res) => setTimeout(res, 200)); // host restarting
    }
  }
}

async function runOnce(users: number, faulty: boolean, seed: number, log: (m: string) => void): Promise<RunResult> {
  const workload = generateWorkload(users, { seed });
  const stack = await startStack({
    tenant: workload.tenant,
    ...(faulty ? { faults: { errorRate: 0.05, resetRate: 0.01, latencyMs: [2, 40] } } : {}),
  });
  const random = rng(seed + 1);
  let crashes = 0;
  const maxCrashes = 3 + Math.floor(random() * 2);
  try {
    const batchId = 'chaos-batch';
    await post(stack, { batchId, users: workload.rows });
    const started = Date.now();
    let nextCrash = started + 1500 + random() * 3000;
    let nextStorm = started + 2000 + random() * 4000;
    for (;;) {
      const done = await finishedReport(stack.host, batchId);
      if (done) {
        const writes = new Map<string, number>();
        for (const w of stack.sim.record.stateChangingWrites)
          if (w.kind === 'assignLicense') writes.set(w.userId, (writes.get(w.userId) ?? 0) + 1);
        return {
          report: done,
          assignWrites: writes,
          assignRequests: new Map(stack.sim.record.assignLicenseRequests),
          crashes,
        };
      }
      if (faulty && Date.now() >= nextCrash && crashes < maxCrashes) {
        crashes++;
        log(
          `  SIGKILL ${crashes} after ${((Date.now() - started) / 1000).toFixed(1)} s (${stack.sim.record.stateChangingWrites.length} writes so far)`,
        );
        await stack.crashAndRestartHost();
        nextCrash = Date.now() + 2000 + random() * 6000;
      }
      if (faulty && Date.now() >= nextStorm) {
        stack.sim.faults = {
          ...stack.sim.faults,
          throttleStormUntil: stack.clock.now() + 3000 + random() * 5000,
          latencyMs: random() < 0.5 ? [100, 600] : [2, 40],
        };
        nextStorm = Date.now() + 5000 + random() * 8000;
      }
      if (Date.now() - started > 30 * 60_000) throw new Error('the run did not finish in 30 minutes');
      await new Promise((res) => setTimeout(res, 250));
    }
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '1000' },
      json: { type: 'boolean', default: false },
      seed: { type: 'string', default: '7' },
    },
  });
  const users = Number(values.users);
  const seed = Number(values.seed);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const t0 = Date.now();
  log(`chaos: ${users} users, clean run…`);
  const clean = await runOnce(users, false, seed, log);
  log('chaos: faulty run (5% 503/504, 1% resets, 429 storms, latency spikes, SIGKILLs)…');
  const faulty = await runOnce(users, true, seed, log);
  const cleanByUpn = new Map(clean.report.users.map((u) => [u.userPrincipalName, `${u.outcome}/${u.reason}`]));
  const faultyByUpn = new Map(faulty.report.users.map((u) => [u.userPrincipalName, `${u.outcome}/${u.reason}`]));
  const inputRows = users;
  const rowsSeen = new Set(faulty.report.users.map((u) => u.row));
  const lostUsers = Array.from({ length: inputRows }, (_, i) => i + 1).filter((row) => !rowsSeen.has(row)).length;
  const outcomeMismatches = [...cleanByUpn].filter(([upn, o]) => faultyByUpn.get(upn) !== o).length;
  const extraSeatWrites = [...faulty.assignWrites.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
  // A repeated request that changed nothing is invisible in the state-changing count; count the requests too.
  const repeatedWriteRequests = [...faulty.assignRequests.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
  const result = {
    users,
    reportRows: faulty.report.users.length,
    lostUsers,
    outcomeMismatches,
    extraSeatWrites,
    repeatedWriteRequests,
    crashes: faulty.crashes,
    wallSeconds: Math.round((Date.now() - t0) / 100) / 10,
    counts: faulty.report.counts,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      [
        '',
        `users               ${result.users}`,
        `reportRows          ${result.reportRows}`,
        `lostUsers           ${result.lostUsers}   (target 0)`,
        `outcomeMismatches   ${result.outcomeMismatches}   (target 0)`,
        `extraSeatWrites     ${result.extraSeatWrites}   (target 0)`,
        `repeatedWriteRequests ${result.repeatedWriteRequests}   (target 0)`,
        `crashes             ${result.crashes}   (target ≥ 3)`,
        `wallSeconds         ${result.wallSeconds}`,
        `outcomes            ${JSON.stringify(result.counts)}`,
        '',
      ].join('\n'),
    );
  }
  process.exitCode =
    lostUsers === 0 &&
    outcomeMismatches === 0 &&
    extraSeatWrites === 0 &&
    repeatedWriteRequests === 0 &&
    faulty.crashes >= 3
      ? 0
      : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
