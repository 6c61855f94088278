// The callback an HR system can ask for instead of polling: which URLs it may name (an allow-list an operator sets,
// so a batch cannot make the app call anywhere it likes), what is sent when the batch is done, and how long and how
// often delivery is tried. Signing and sending are the adapter's (shared/adapters/callback.ts).
import { nextStepFor } from './outcome-guide';
import {
  givenBack,
  seatsBought,
  type GivenBack,
  type OutcomeCounts,
  type SeatsBought,
  type UserOutcome,
} from './outcomes';

export const MAX_CALLBACK_URL_LENGTH = 2048;

/** Delivery is tried for this long after the first attempt; a 2xx answer ends it earlier. */
export const CALLBACK_RETRY_HOURS = 24;

export interface CallbackPolicy {
  /** The calling integration's hosts, lower case, each a host name with an optional port. */
  readonly allowedHosts: readonly string[];
  /** Whether the integration has a signing secret of its own: no secret, no callback. */
  readonly hasSecret: boolean;
  /** The local runtime (DIALTONE_LOCAL_RUNTIME): loopback receivers are allowed, over http too. */
  readonly localRuntime: boolean;
  /** Where the operator sets the hosts and the secret, for messages (default: the single integration's settings). */
  readonly hostsSetting?: string;
  readonly secretSetting?: string;
}

export type CallbackUrlCheck = { ok: true; url: string } | { ok: false; message: string };

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Whether a batch may ask for a callback to `raw`; the message says what is wrong and which setting decides. */
export function checkCallbackUrl(raw: unknown, policy: CallbackPolicy): CallbackUrlCheck {
  if (typeof raw !== 'string' || raw.length === 0)
    return { ok: false, message: '"callbackUrl" must be an https URL string' };
  if (raw.length > MAX_CALLBACK_URL_LENGTH)
    return { ok: false, message: `"callbackUrl" is longer than ${MAX_CALLBACK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: '"callbackUrl" is not a URL' };
  }
  if (url.username || url.password)
    return { ok: false, message: '"callbackUrl" must not carry a user name or password; callbacks are signed instead' };
  const loopback = isLoopback(url.hostname);
  if (loopback && !policy.localRuntime)
    return {
      ok: false,
      message: `"callbackUrl" names a loopback host (${url.hostname}), which only the local runtime calls`,
    };
  if (url.protocol !== 'https:' && !(loopback && url.protocol === 'http:'))
    return { ok: false, message: '"callbackUrl" must use https' };
  const hostsSetting = policy.hostsSetting ?? 'DIALTONE_CALLBACK_HOSTS';
  if (!policy.hasSecret)
    return {
      ok: false,
      message: `callbacks are off: the app has no ${policy.secretSetting ?? 'DIALTONE_CALLBACK_SECRET'} to sign them with; ask the operator to set it, or leave out "callbackUrl" and poll the status URL`,
    };
  if (!loopback) {
    const host = url.host.toLowerCase();
    const allowed = policy.allowedHosts.some(
      (h) => h === host || (!h.includes(':') && h === url.hostname.toLowerCase() && url.port === ''),
    );
    if (!allowed) {
      return {
        ok: false,
        message: `"callbackUrl" host ${clip(host)} is not in ${hostsSetting}${policy.allowedHosts.length === 0 ? ' (empty: no callback host is allowed)' : ''}; ask the operator to add it`,
      };
    }
  }
  url.hash = '';
  return { ok: true, url: url.href };
}

function clip(s: string, n = 100): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * What the HR system receives when its batch is done: the counts, and the rows someone has to look at. The body is
 * what the signature covers, so it names what a receiver must check besides the signature: the integration the
 * callback was made for, its batch and run, and the URL it was sent to (a receiver refuses one that names another
 * integration or another URL, even when the secret is shared by mistake).
 */
export interface CallbackPayload {
  readonly integration: string;
  readonly batchId: string;
  /** The run of the batch (a batch id sent again with the same rows is the same run): deduplicate by it. */
  readonly run: string;
  readonly callbackUrl: string;
  readonly statusUrl: string;
  readonly counts: OutcomeCounts;
  /** Seats the run bought, by part number (the report's bought). */
  readonly bought: SeatsBought;
  /** Seats given back by part number, and numbers unassigned (the report's released; docs/leavers-and-movers.md). */
  readonly released: GivenBack;
  /** The failed and flagged rows, each with `next`: what an admin does about it (shared/domain/outcome-guide.ts). */
  readonly users: (UserOutcome & { readonly next: string })[];
}

/** The run's own part of a run key (`<owner>/<batchId>/<run>`), or the whole key for runs from before run keys. */
export function runOf(runKey: string): string {
  return runKey.slice(runKey.lastIndexOf('/') + 1);
}

/** What a callback is made from: the final report's batch, counts, seats bought and rows (BatchReport has them). */
export interface ReportForCallback {
  readonly batchId: string;
  readonly counts: OutcomeCounts;
  readonly bought?: SeatsBought;
  readonly released?: GivenBack;
  readonly users: readonly UserOutcome[];
}

export function callbackPayload(
  report: ReportForCallback,
  target: { readonly integration: string; readonly runKey: string; readonly url: string; readonly statusUrl: string },
): CallbackPayload {
  return {
    integration: target.integration,
    batchId: report.batchId,
    run: runOf(target.runKey),
    callbackUrl: target.url,
    statusUrl: target.statusUrl,
    counts: report.counts,
    bought: report.bought ?? seatsBought(report.users),
    released: report.released ?? givenBack(report.users),
    users: report.users
      .filter((u) => u.outcome === 'failed' || u.outcome === 'flagged')
      .map((u) => ({ ...u, next: nextStepFor(u) })),
  };
}

/** One delivery attempt, as the report records it. */
export interface CallbackAttempt {
  readonly attempt: number;
  readonly at: string;
  /** The receiver's HTTP status, or null when no answer came (refused, timed out, TLS error). */
  readonly status: number | null;
  readonly delivered: boolean;
  readonly message: string;
}

/** The report's `callback`. The URL is shown without its query string, which may carry the receiver's own token. */
export interface CallbackRecord {
  readonly url: string;
  readonly state: 'pending' | 'delivered' | 'gave_up';
  readonly attempts: CallbackAttempt[];
}

export function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/**
 * When to try again after `attempts` failed attempts, the first made at `firstAt`: 1, 2, 4 … minutes, at most an
 * hour apart, until CALLBACK_RETRY_HOURS after the first; null when that time is up.
 */
export function nextCallbackAttemptAt(firstAt: Date, attempts: number, now: Date): Date | null {
  const end = firstAt.getTime() + CALLBACK_RETRY_HOURS * 3_600_000;
  const delay = Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  const next = now.getTime() + delay;
  return next > end ? null : new Date(next);
}
