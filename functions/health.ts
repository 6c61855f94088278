// GET /api/health: liveness for load balancers and the platform (anonymous, no detail: it says only that the app
// runs). GET /api/health/deep: for admins (a function key, or the console's sign-in through its own route), every
// dependency proven by one harmless real call (shared/adapters/health.ts); 200 when all pass, else 503 with an
// application/problem+json document (RFC 9457) whose `problems` name what is missing and how to grant it.
import { randomUUID } from 'node:crypto';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { HealthCheck } from '../shared/adapters/health';

/** The deep check's document: what `dialtone doctor` and the console read. */
export interface HealthReport {
  readonly type?: string;
  readonly title?: string;
  readonly status: 'ok' | number;
  readonly detail?: string;
  readonly problems?: readonly NonNullable<HealthCheck['problem']>[];
  readonly checks: readonly HealthCheck[];
}

export function healthReport(checks: readonly HealthCheck[]): HealthReport {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return { status: 'ok', checks };
  return {
    type: 'urn:dialtone:health:failed',
    title: 'Some of what the app needs is not usable',
    status: 503,
    detail: `${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.check).join(', ')}`,
    problems: failed.map((c) => c.problem!),
    checks,
  };
}

/** Whether the task hub answers: a status read of an instance that does not exist must come back as "not found". */
export async function probeTaskHub(context: InvocationContext): Promise<void> {
  try {
    await df.getClient(context).getStatus(`health-probe-${randomUUID()}`);
  } catch (e) {
    if (e instanceof Error && /HTTP 404/.test(e.message)) return;
    throw e;
  }
}

export function createHealth(run: (context: InvocationContext) => Promise<HealthCheck[]>): {
  liveness: HttpHandler;
  deep: HttpHandler;
  deepReport: (context: InvocationContext) => Promise<HealthReport>;
} {
  const noStore = { 'Cache-Control': 'no-store' };
  const deepReport = async (context: InvocationContext) => healthReport(await run(context));
  return {
    liveness: async (): Promise<HttpResponseInit> => ({ status: 200, headers: noStore, jsonBody: { status: 'ok' } }),
    deepReport,
    deep: async (_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
      const report = await deepReport(context);
      if (report.status === 'ok') return { status: 200, headers: noStore, jsonBody: report };
      return {
        status: 503,
        headers: { ...noStore, 'Content-Type': 'application/problem+json' },
        body: JSON.stringify(report),
      };
    },
  };
}
