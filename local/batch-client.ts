// Reading a batch's report from a running host, the way the CLI, the benchmarks and the tests all need it.
import type { BatchReport } from '../shared/domain/report';

/**
 * The local host's current time, on every response it sends. Its clock can run ahead of the wall clock (simulated
 * time), and it is the time start dates, deadlines and every time in a report are read against; HTTP's `Date` stays
 * the wall clock, as HTTP defines it. The local runtime's own header: Azure's Functions host sends none.
 */
export const HOST_TIME_HEADER = 'X-Dialtone-Time';

export interface HostAddress {
  readonly url: string;
  readonly functionKey: string;
}

/** The live report (`GET /api/batches/{id}`): counts may include `pending`, and the durable runtime status is added. */
export type LiveReport = Partial<Omit<BatchReport, 'counts'>> & {
  runtimeStatus?: string;
  phase?: string;
  counts?: (BatchReport['counts'] & { pending?: number }) | null;
};

/** A live report is final once it has a finish time and its orchestration is no longer running. */
export function isFinished(report: LiveReport): report is LiveReport & BatchReport {
  return Boolean(report.finishedAt) && report.runtimeStatus !== 'Running';
}

/** The final report, or undefined while the batch runs, when it is unknown, or when the host cannot be reached. */
export async function finishedReport(
  host: HostAddress,
  batchId: string,
): Promise<(BatchReport & { runtimeStatus?: string }) | undefined> {
  try {
    const r = await fetch(`${host.url}/api/batches/${encodeURIComponent(batchId)}`, {
      headers: { 'x-functions-key': host.functionKey },
    });
    if (r.status !== 200) return undefined;
    const body = (await r.json()) as LiveReport;
    return isFinished(body) ? body : undefined;
  } catch {
    return undefined; // the host may be restarting
  }
}

/** The summary view (`?view=summary`): the batch's durable status, without rows. */
export type BatchSummary = { status: number; runtimeStatus?: string; phase?: string | null };

/** The summary view, or undefined when the host cannot be reached (it may be restarting). */
export async function batchSummary(host: HostAddress, batchId: string): Promise<BatchSummary | undefined> {
  try {
    const r = await fetch(`${host.url}/api/batches/${encodeURIComponent(batchId)}?view=summary`, {
      headers: { 'x-functions-key': host.functionKey },
    });
    return r.status === 200
      ? { status: 200, ...((await r.json()) as { runtimeStatus?: string; phase?: string | null }) }
      : { status: r.status };
  } catch {
    return undefined;
  }
}

/**
 * Waits for a batch's final report, asking for its summary every `everyMs` and for the whole report only once its
 * orchestration has completed (for a big batch the whole report is many megabytes to build and to read). Throws when
 * the batch ended otherwise (Failed, Terminated: there is no report) or the host does not know it.
 */
export async function awaitFinishedReport(
  host: HostAddress,
  batchId: string,
  everyMs = 1000,
): Promise<BatchReport & { runtimeStatus?: string }> {
  for (;;) {
    const s = await batchSummary(host, batchId);
    if (s && [401, 403, 404].includes(s.status))
      throw new Error(`batch ${batchId}: the status route answered ${s.status}`);
    if (s?.runtimeStatus === 'Completed') {
      const done = await finishedReport(host, batchId);
      if (done) return done;
    } else if (s?.runtimeStatus && ['Failed', 'Terminated', 'Canceled'].includes(s.runtimeStatus)) {
      throw new Error(`batch ${batchId} ended ${s.runtimeStatus}: it has no report`);
    }
    await new Promise((res) => setTimeout(res, everyMs));
  }
}
