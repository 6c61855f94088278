// What `dialtone run` tells a person: the live progress line, the summary with what each outcome means and what an
// admin does next (shared/domain/outcome-guide.ts, the words every surface uses), and the exit code a script acts on.
// Kept apart from the CLI's I/O so each piece is tested alone.
import { NUMBER_REASONS, OUTCOME_GUIDE, REASON_GUIDE, nextStepFor } from '../shared/domain/outcome-guide';
import { OUTCOMES, RELEASE_REASONS } from '../shared/domain/outcomes';
import {
  boughtText,
  fileNotes,
  givenBack,
  givenBackText,
  seatsBought,
  type BatchReport,
  type OutcomeCounts,
} from '../shared/domain/report';

export const DEMO_INTRO = `This is the demo: the sample file goes to a simulated Microsoft 365 tenant (local/samples/demo-tenant.json)
built so that every outcome shows up: some users get Teams calling at once, one only after 20 simulated hours, one
never; some rows are refused before anything is written (bad UPN, unknown profile, a calling plan for a hybrid user,
a plan not sold in the US), and some fail on the tenant (no such user, no usage location, no seats left).
Once Teams shows the calling plan, users get a phone number from the tenant's small pool (the demo runs with
DIALTONE_PHONE_NUMBERS=pool): the US and UK pools have numbers, Germany's has none; a hybrid user gets the Direct
Routing number its row gives once Teams shows Phone System.
Simulated time skips ahead, so the 24 hours of waiting for Teams pass in seconds. Nothing leaves this machine.

`;

/** How many rows needing a person the summary lists by name; the rest are in report.csv. */
export const LISTED_ROWS = 20;

/** The rows a person must look at (failed, flagged, rejected, cancelled), each with what to do, at most LISTED_ROWS. */
export function rowsNeedingAPerson(report: Pick<BatchReport, 'users'>): string[] {
  const needy = report.users.filter(
    (u) =>
      u.outcome === 'failed' ||
      u.outcome === 'flagged' ||
      u.outcome === 'rejected' ||
      u.outcome === 'cancelled' ||
      (u.outcome === 'released' && (RELEASE_REASONS as readonly string[]).includes(u.reason)),
  );
  const lines = needy.slice(0, LISTED_ROWS).map((u) => {
    const what = nextStepFor(u);
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
  const offset =
    d > 0 ? `${d} d${h > 0 ? ` ${h} h` : ''}` : h > 0 ? `${h} h${m % 60 > 0 ? ` ${m % 60} min` : ''}` : `${m} min`;
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
    ...(c.released > 0 ? [`released ${c.released}`] : []),
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
  lines.push(
    '',
    `licences: ${boughtText(report.bought ?? seatsBought(report.users))} (each row's addedSkus in report.csv)`,
  );
  const released = report.released ?? givenBack(report.users);
  if (Object.keys(released.seats).length > 0 || released.numbers > 0)
    lines.push(
      `given back: ${givenBackText(released).replace(/^gave back /, '')} (each row's releasedSkus and releasedNumber in report.csv)`,
    );
  const notes = fileNotes(report);
  if (notes.length > 0) lines.push('', 'about the file', ...notes.map((n) => `  ${n}`));
  const reasons = new Map<string, number>();
  for (const u of report.users)
    if (u.reason) reasons.set(`${u.outcome}/${u.reason}`, (reasons.get(`${u.outcome}/${u.reason}`) ?? 0) + 1);
  if (reasons.size > 0) {
    lines.push('', 'reasons');
    for (const [k, n] of [...reasons].sort()) lines.push(`  ${k.padEnd(44)} ${n}`);
  }
  const present = OUTCOMES.filter((o) => report.counts[o] > 0);
  if (present.length > 0) {
    lines.push('', 'what it means, and what to do next');
    for (const o of present)
      lines.push(`  ${o.padEnd(12)} ${OUTCOME_GUIDE[o].meaning}`, `  ${''.padEnd(12)} → ${OUTCOME_GUIDE[o].next}`);
    for (const reason of NUMBER_REASONS)
      if (report.users.some((u) => u.reason === reason)) lines.push(`  ${reason.padEnd(12)} → ${REASON_GUIDE[reason]}`);
    const numbered = report.users.filter((u) => u.phoneNumber).length;
    if (numbered > 0)
      lines.push(`  ${numbered} user(s) hold a Teams phone number now (the report's phoneNumber column)`);
  }
  const needy = rowsNeedingAPerson(report);
  if (needy.length > 0) lines.push('', 'rows that need a person', ...needy);
  return lines.join('\n');
}
