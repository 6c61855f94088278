// What `dialtone run` tells a person: the live progress line, the summary with what each outcome means and what an
// admin does next, and the exit code a script acts on. Kept apart from the CLI's I/O so each piece is tested alone.
import { OUTCOMES, type Outcome, type Reason } from '../shared/domain/outcomes';
import { boughtText, fileNotes, seatsBought, type BatchReport, type OutcomeCounts } from '../shared/domain/report';

export const DEMO_INTRO = `This is the demo: the sample file goes to a simulated Microsoft 365 tenant (local/samples/demo-tenant.json)
built so that every outcome shows up: some users get Teams calling at once, one only after 20 simulated hours, one
never; some rows are refused before anything is written (bad UPN, unknown profile, a calling plan for a hybrid user,
a plan not sold in the US), and some fail on the tenant (no such user, no usage location, no seats left).
Once Teams shows the calling plan, users get a phone number from the tenant's small pool (the demo runs with
DIALTONE_PHONE_NUMBERS=pool): the US and UK pools have numbers, Germany's has none; a hybrid user gets the Direct
Routing number its row gives once Teams shows Phone System.
Simulated time skips ahead, so the 24 hours of waiting for Teams pass in seconds. Nothing leaves this machine.

`;

/** What each outcome means, and what an admin does about it. */
export const OUTCOME_GUIDE: Readonly<Record<Outcome, { meaning: string; next: string }>> = {
  provisioned: { meaning: 'licences assigned, Teams shows the calling plan (or Phone System), and the phone number is assigned when one was to be', next: 'nothing; give the user a phone number if the report says so (next_step_phone_number)' },
  assigned: { meaning: 'licences assigned, nothing to wait for (no calling plan in the row, or already licensed)', next: 'nothing' },
  flagged: { meaning: 'licences assigned, but Teams showed no calling plan by the deadline, or the phone number could not be assigned', next: 'see the reason below and the message; for no_calling_plan, check the user in the Teams admin center and, if it still has none, open a Microsoft support case' },
  failed: { meaning: 'the row was fine, but the tenant or Graph refused it', next: 'fix what the message says (create the user, set a usage location, buy seats) and send the rows again' },
  rejected: { meaning: 'the row itself is unusable; nothing was sent to Graph', next: 'correct the row in the file (the message names row, line and field) and send it again' },
  cancelled: { meaning: 'the batch or the row was cancelled before its licences were assigned; nothing was assigned', next: 'nothing; send the row again if the hire comes after all' },
};

/** What an admin does about each phone number reason (the report's message says the same, for its row). */
export const NUMBER_REASON_GUIDE: Readonly<Record<string, string>> = {
  no_free_number: 'the pool has no free number of that type in the user\'s country: get more numbers (Teams admin center, Voice > Phone numbers), then assign one or send the row again',
  number_in_use: 'the row\'s number belongs to another user: give the row a free number, or unassign it from the other user first',
  number_assignment_failed: 'Teams refused the number (the message holds its statusDetail): fix what it says, then assign the number in the Teams admin center or send the row again',
};

/**
 * What a person does about each reason a row needs one (every failure, rejection and flag reason: the type makes a
 * new reason add its line here). The row's message says what is wrong for that row.
 */
export const REASON_GUIDE: Readonly<Record<Exclude<Reason, 'already_licensed'>, string>> = {
  user_not_found: 'create the account, or correct the UPN, then send the row again',
  guest_account: 'guests are never licensed: licence the person in their own organisation, or send their member account\'s UPN',
  usage_location_missing: 'give the row a usage location (a two-letter country code), set it on the user, or set DIALTONE_DEFAULT_USAGE_LOCATION; then send the row again',
  insufficient_licenses: 'buy more seats of the SKU the message names (or free some), then send the row again',
  mutually_exclusive: 'the user holds a licence that cannot be held with the row\'s (the message names both): remove one, or use another profile',
  dependency: 'a licence of the row needs a service plan the user lacks (the message names it): add the base licence first, then send the row again',
  forbidden: 'grant the app the Graph permission the message names (admin consent), then send the row again',
  plan_disabled: 'switch the service plan on in the licence the message names (in the group\'s licence for a group licence), or renew the subscription',
  throttled: 'Graph was busy for too long: send the row again later',
  graph_error: 'Graph answered with an error (the message holds it): send the row again; if it repeats, check the user in the admin center',
  invalid_upn: 'correct the userPrincipalName (name@domain) in the file',
  duplicate: 'the UPN appears earlier in the file; remove the later row',
  unknown_profile: 'use a profile the message lists, or configure one (DIALTONE_PROFILES)',
  unknown_sku: 'correct the part number, or buy the licence the message names',
  invalid_usage_location: 'use a two-letter ISO country code (US, GB, DE)',
  calling_plan_not_allowed_hybrid: 'a hybrid (on-premises PSTN) user gets Phone System only: use the profile phone-system-only',
  plan_not_available_in_country: 'that calling plan is not sold in the user\'s country: use MCOPSTN1 or MCOPSTN2',
  missing_prerequisite: 'add the licence the message says is needed (e.g. Phone System for a Calling Plan) to the row or the user',
  invalid_field: 'correct the field the message names in the file',
  invalid_phone_number: 'give the number in E.164 form (+ country code and number, e.g. +14255550100)',
  invalid_start_date: 'give the start date as 2026-12-07 (or a date-time with an offset), within the horizon the message gives',
  sku_not_allowed: 'the row\'s integration may not use that profile or list its own part numbers: use a profile it may use, or ask the operator to allow it (DIALTONE_CALLERS)',
  no_calling_plan: 'check the user in the Teams admin center; if there is still no calling plan, open a Microsoft support case',
  no_free_number: NUMBER_REASON_GUIDE['no_free_number']!,
  number_in_use: NUMBER_REASON_GUIDE['number_in_use']!,
  number_assignment_failed: NUMBER_REASON_GUIDE['number_assignment_failed']!,
};

/** How many rows needing a person the summary lists by name; the rest are in report.csv. */
export const LISTED_ROWS = 20;

/** The rows a person must look at (failed, flagged, rejected, cancelled), each with what to do, at most LISTED_ROWS. */
export function rowsNeedingAPerson(report: Pick<BatchReport, 'users'>): string[] {
  const needy = report.users.filter((u) => u.outcome === 'failed' || u.outcome === 'flagged' || u.outcome === 'rejected' || u.outcome === 'cancelled');
  const lines = needy.slice(0, LISTED_ROWS).map((u) => {
    const what = u.outcome === 'cancelled' ? OUTCOME_GUIDE.cancelled.next : u.reason && u.reason !== 'already_licensed' ? REASON_GUIDE[u.reason] : OUTCOME_GUIDE[u.outcome].next;
    return `  row ${u.row}${u.line !== undefined ? ` (line ${u.line})` : ''} ${u.userPrincipalName}: ${u.outcome}${u.reason ? `/${u.reason}` : ''} → ${what}`;
  });
  if (needy.length > LISTED_ROWS) lines.push(`  and ${needy.length - LISTED_ROWS} more: see report.csv`);
  return lines;
}

/** 0 when every row was provisioned or assigned, 3 when some need a person. */
export function exitCodeFor(report: Pick<BatchReport, 'counts'>): 0 | 3 {
  const c = report.counts;
  return c.failed + c.flagged + c.rejected + (c.cancelled ?? 0) > 0 ? 3 : 0;
}

export function simulatedElapsed(fromIso: string | undefined, now: number): string {
  if (!fromIso) return '';
  const m = Math.max(0, Math.round((now - new Date(fromIso).getTime()) / 60_000));
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m simulated`;
}

/**
 * The local host's time as a person reads it: "2026-12-15 10:00 UTC (+9 d)", the offset from the wall clock when it is
 * a minute or more (the skip-ahead clock runs ahead while nothing else runs), "(the wall clock)" otherwise.
 */
export function hostTimeText(hostNow: number, wallNow: number): string {
  const at = `${new Date(hostNow).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const ahead = Math.round((hostNow - wallNow) / 60_000);
  if (Math.abs(ahead) < 1) return `${at} (the wall clock)`;
  const sign = ahead > 0 ? '+' : '-';
  const m = Math.abs(ahead);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const offset = d > 0 ? `${d} d${h > 0 ? ` ${h} h` : ''}` : h > 0 ? `${h} h${m % 60 > 0 ? ` ${m % 60} min` : ''}` : `${m} min`;
  return `${at} (${sign}${offset})`;
}

export type LiveCounts = OutcomeCounts & { pending?: number; waiting?: number };

/**
 * One progress line no wider than `width`: settled rows against the total, then the counts ("waiting for Teams" apart
 * from "assigned"), then the simulated time; the parts that do not fit are left off from the end, the bar shrinks.
 */
export function progressLine(c: LiveCounts, finished: boolean, elapsed: string, width: number): string {
  const waiting = finished ? 0 : (c.waiting ?? 0);
  const settled = c.total - (c.pending ?? 0) - waiting;
  const parts = [
    `${settled}/${c.total} settled`,
    ...(waiting > 0 ? [`waiting for Teams ${waiting}`] : []),
    `provisioned ${c.provisioned}`,
    `assigned ${c.assigned}`,
    `flagged ${c.flagged}`,
    `failed ${c.failed}`,
    `rejected ${c.rejected}`,
    ...(elapsed ? [elapsed] : []),
  ];
  const max = Math.max(10, width - 1);
  let text = parts[0]!;
  for (const p of parts.slice(1)) {
    if (text.length + 3 + p.length > max) break;
    text += ` · ${p}`;
  }
  const room = max - text.length - 3;
  if (room >= 8) {
    const inner = Math.min(28, room - 2);
    const filled = c.total > 0 ? Math.round((settled / c.total) * inner) : 0;
    return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}] ${text}`;
  }
  return text.slice(0, max);
}

/** The table of outcomes and reasons, and for each outcome present what it means and what to do next. */
export function summary(report: BatchReport): string {
  const lines = ['', 'outcome       users', '------------  -----'];
  for (const o of OUTCOMES) lines.push(`${o.padEnd(12)}  ${String(report.counts[o]).padStart(5)}`);
  lines.push(`${'total'.padEnd(12)}  ${String(report.counts.total).padStart(5)}`);
  lines.push('', `licences: ${boughtText(report.bought ?? seatsBought(report.users))} (each row's addedSkus in report.csv)`);
  const notes = fileNotes(report);
  if (notes.length > 0) lines.push('', 'about the file', ...notes.map((n) => `  ${n}`));
  const reasons = new Map<string, number>();
  for (const u of report.users) if (u.reason) reasons.set(`${u.outcome}/${u.reason}`, (reasons.get(`${u.outcome}/${u.reason}`) ?? 0) + 1);
  if (reasons.size > 0) {
    lines.push('', 'reasons');
    for (const [k, n] of [...reasons].sort()) lines.push(`  ${k.padEnd(44)} ${n}`);
  }
  const present = OUTCOMES.filter((o) => report.counts[o] > 0);
  if (present.length > 0) {
    lines.push('', 'what it means, and what to do next');
    for (const o of present) lines.push(`  ${o.padEnd(12)} ${OUTCOME_GUIDE[o].meaning}`, `  ${''.padEnd(12)} → ${OUTCOME_GUIDE[o].next}`);
    for (const [reason, next] of Object.entries(NUMBER_REASON_GUIDE)) if (report.users.some((u) => u.reason === reason)) lines.push(`  ${reason.padEnd(12)} → ${next}`);
    const numbered = report.users.filter((u) => u.phoneNumber).length;
    if (numbered > 0) lines.push(`  ${numbered} user(s) hold a Teams phone number now (the report's phoneNumber column)`);
  }
  const needy = rowsNeedingAPerson(report);
  if (needy.length > 0) lines.push('', 'rows that need a person', ...needy);
  return lines.join('\n');
}
