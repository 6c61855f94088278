// HR onboarding as it happens: rows whose start date lies ahead wait for their time, rows whose account does not
// exist yet wait for it (up to DIALTONE_ACCOUNT_WAIT_HOURS after their time), and either may be cancelled before any
// licence is assigned. This module decides, without I/O, which rows wait, in which slot, and what happens to waiting
// rows when their slot's time comes or a cancellation arrives.
import type { UserOutcome } from './outcomes';
import {
  planBatch,
  type PlanOptions,
  type PlannedRow,
  type RowRequest,
  type TenantSnapshot,
  type ValidatedRow,
} from './planning';
import { upnKey } from './upn';

/** A row waiting for its start date's lead day, or for its account to be created. */
export interface ScheduledRow {
  readonly kind: 'scheduled';
  readonly row: number;
  readonly line?: number;
  readonly displayName?: string;
  readonly userPrincipalName: string;
  readonly profile: string;
  readonly skus: readonly string[];
  /** When its licences are due (ISO). */
  readonly scheduledFor: string;
  /** Which slot (distinct due hour) it waits in. */
  readonly slot: number;
  /** What the row asked for, planned against the tenant as it is when the slot's time comes. */
  readonly request: RowRequest;
}

export type StoredRow = PlannedRow | ScheduledRow;

const HOUR_MS = 3_600_000;

/** Slots are whole UTC hours (a due time is rounded down): a start day in a :30 or :45 offset goes a little early. */
export function slotHour(scheduledFor: string): number {
  return Math.floor(Date.parse(scheduledFor) / HOUR_MS) * HOUR_MS;
}

/**
 * Plans a batch with start dates: rows due later, and rows with a start date whose account does not exist yet, wait
 * in slots (one per distinct due hour, in time order); the rest are planned against the tenant now, seats counted
 * only for them (waiting rows take seats when their time comes).
 */
export function planOnboarding(
  rows: readonly ValidatedRow[],
  tenant: TenantSnapshot,
  options: PlanOptions,
  now: Date,
): { rows: StoredRow[]; slots: string[] } {
  const waits = (v: ValidatedRow): v is { kind: 'request'; request: RowRequest & { scheduledFor: string } } =>
    v.kind === 'request' &&
    v.request.scheduledFor !== undefined &&
    (Date.parse(v.request.scheduledFor) > now.getTime() ||
      // A leaver or a mover whose account is gone has nothing to wait for (planning says so at once).
      (v.request.action === undefined && !tenant.users.has(upnKey(v.request.userPrincipalName))));
  const hours = [...new Set(rows.filter(waits).map((v) => slotHour(v.request.scheduledFor)))].sort((a, b) => a - b);
  const slotOf = new Map(hours.map((h, i) => [h, i]));
  const now_ = rows.filter((v) => !waits(v));
  const planned = new Map(planBatch(now_, tenant, options).map((p) => [p.row, p]));
  const out = rows.map((v): StoredRow => {
    if (!waits(v)) return planned.get(v.kind === 'request' ? v.request.row : v.row)!;
    const r = v.request;
    return {
      kind: 'scheduled',
      row: r.row,
      ...(r.line !== undefined ? { line: r.line } : {}),
      ...(r.displayName !== undefined ? { displayName: r.displayName } : {}),
      userPrincipalName: r.userPrincipalName,
      profile: r.profile,
      skus: r.partNumbers,
      scheduledFor: r.scheduledFor,
      slot: slotOf.get(slotHour(r.scheduledFor))!,
      request: r,
    };
  });
  return { rows: out, slots: hours.map((h) => new Date(h).toISOString()) };
}

/** What a batch's cancellations ask: the whole batch, or single rows (HR no-shows). */
export interface Cancellations {
  readonly batch: boolean;
  readonly rows: readonly number[];
}

export const NO_CANCELLATIONS: Cancellations = { batch: false, rows: [] };

export function isCancelled(c: Cancellations, row: number): boolean {
  return c.batch || c.rows.includes(row);
}

/** Why a row ended cancelled: its batch's cancel, or its own. */
export function cancelledMessage(c: Cancellations, row: number): string {
  return c.batch && !c.rows.includes(row)
    ? 'the batch was cancelled before this row was licensed; nothing was assigned'
    : 'the row was cancelled before it was licensed; nothing was assigned';
}

/** The report row of a row cancelled before its licences were assigned. */
export function cancelledOutcome(
  row: ScheduledRow | { row: number; userPrincipalName: string; profile: string; skus: readonly string[] },
  c: Cancellations,
): UserOutcome {
  return {
    row: row.row,
    userPrincipalName: row.userPrincipalName,
    profile: row.profile,
    skus: [...row.skus],
    outcome: 'cancelled',
    reason: '',
    message: cancelledMessage(c, row.row),
    advisories: [],
    ...('scheduledFor' in row ? { scheduledFor: row.scheduledFor } : {}),
    assignedAt: null,
    provisionedAt: null,
    phoneNumber: null,
  };
}

/**
 * What happens to a slot's waiting rows at time `now`: cancelled ones end cancelled; rows whose account exists are
 * planned (seats as the tenant has them now, in the order of due time then input order); rows whose account is still
 * missing wait on until `accountWaitHours` after their due time, then fail user_not_found.
 */
export function planSlotRound(
  waiting: readonly ScheduledRow[],
  tenant: TenantSnapshot,
  options: PlanOptions,
  now: Date,
  accountWaitHours: number,
  cancellations: Cancellations,
): { planned: PlannedRow[]; cancelled: ScheduledRow[]; stillWaiting: ScheduledRow[] } {
  const order = [...waiting].sort((a, b) => Date.parse(a.scheduledFor) - Date.parse(b.scheduledFor) || a.row - b.row);
  const cancelled = order.filter((r) => isCancelled(cancellations, r.row));
  const live = order.filter((r) => !isCancelled(cancellations, r.row));
  const stillWaiting = live.filter(
    (r) =>
      r.request.action !== 'leave' &&
      !tenant.users.has(upnKey(r.userPrincipalName)) &&
      now.getTime() < Date.parse(r.scheduledFor) + accountWaitHours * HOUR_MS,
  );
  const waitingRows = new Set(stillWaiting.map((r) => r.row));
  const due = live.filter((r) => !waitingRows.has(r.row));
  const planned = planBatch(
    due.map((r): ValidatedRow => ({ kind: 'request', request: r.request })),
    tenant,
    options,
  ).map((p): PlannedRow =>
    p.kind === 'failed' && p.reason === 'user_not_found'
      ? {
          ...p,
          message: `row ${p.row}: no user ${p.userPrincipalName} appeared in the tenant within ${accountWaitHours} hours (DIALTONE_ACCOUNT_WAIT_HOURS) after its scheduled time; create the account and send the row again`,
        }
      : p,
  );
  return { planned, cancelled, stillWaiting };
}

/** When to look for missing accounts again: 5, 10, 20, then every 30 minutes after the slot's time, never past the wait. */
export function nextAccountCheckAt(slotAt: Date, round: number, now: Date, waitUntil: Date): Date | null {
  const step = Math.min(5 * 2 ** round, 30) * 60_000;
  const next = Math.min(now.getTime() + step, waitUntil.getTime());
  return next <= now.getTime() ? null : new Date(Math.max(next, slotAt.getTime()));
}
