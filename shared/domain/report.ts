// The batch report: one document with every row's outcome, as JSON and as a CSV that a spreadsheet opens as text
// (no formula injection: HR data travels through here into Excel).
import { INPUT_ADVISORIES, type CsvDelimiter, type InputAdvisory, type InputEncoding, type InputFormat } from './input';
import type { CallbackRecord } from './callback';
import {
  countOutcomes,
  givenBack,
  seatsBought,
  type GivenBack,
  type OutcomeCounts,
  type SeatsBought,
  type UserOutcome,
} from './outcomes';

// The counts and seats live with the outcomes (the callback takes them too); imported from here as well.
export { countOutcomes, givenBack, seatsBought, type GivenBack, type OutcomeCounts, type SeatsBought };

/** What the input was read as: helps an admin check that accented names came through. */
export interface InputDescription {
  readonly format: InputFormat;
  readonly encoding: InputEncoding;
  readonly delimiter?: CsvDelimiter;
}

export interface BatchReport {
  batchId: string;
  source: string;
  startedAt: string;
  finishedAt: string | null;
  deadline: string | null;
  /** Set when the input as a whole could not be used (no rows were read). */
  error?: string;
  input?: InputDescription;
  /** Notes about the input as a whole (e.g. it was read as Windows-1252); never blocking. */
  advisories?: InputAdvisory[];
  /** Notes about the input that name what they are about (a column not read whose name is near one that is). */
  inputNotes?: string[];
  /** The batch asked for a callback: where to, and every attempt to deliver it. */
  callback?: CallbackRecord;
  counts: OutcomeCounts;
  /** Seats this run bought, by part number: each row's addedSkus counted (docs/licence-needs.md). */
  bought?: SeatsBought;
  /**
   * What this run gave back (docs/leavers-and-movers.md): seats by part number (each row's releasedSkus counted) and
   * how many numbers were unassigned (each row's releasedNumber).
   */
  released?: GivenBack;
  users: UserOutcome[];
}

/** What the report says about the input file as a whole, as sentences: its advisories' texts, then its notes. */
export function fileNotes(report: Pick<BatchReport, 'advisories' | 'inputNotes'>): string[] {
  return [...(report.advisories ?? []).map((a) => INPUT_ADVISORIES[a] ?? a), ...(report.inputNotes ?? [])];
}

/** "gave back 2 × MCOEV, 1 × MCOPSTN1 and 1 number", or "gave back nothing": what a run released in one line. */
export function givenBackText(released: GivenBack | undefined): string {
  const parts = Object.entries(released?.seats ?? {}).map(([sku, n]) => `${n} × ${sku}`);
  const numbers = released?.numbers ?? 0;
  if (numbers > 0) parts.push(`${numbers} number${numbers === 1 ? '' : 's'}`);
  if (parts.length === 0) return 'gave back nothing';
  return `gave back ${parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}` : parts[0]!}`;
}

/** "bought 3 × MCOPSTN1, 1 × MCOEV", or "bought nothing": the cost of a run in one line. */
export function boughtText(bought: SeatsBought | undefined): string {
  const parts = Object.entries(bought ?? {}).map(([sku, n]) => `${n} × ${sku}`);
  return parts.length > 0 ? `bought ${parts.join(', ')}` : 'bought nothing';
}

export function buildReport(
  fields: Omit<BatchReport, 'counts' | 'users'> & { users: UserOutcome[]; total?: number },
): BatchReport {
  const users = [...fields.users]
    .sort((a, b) => a.row - b.row)
    .map((u) => ({
      ...u,
      addedSkus: [...(u.addedSkus ?? [])],
      scheduledFor: u.scheduledFor ?? null,
      releasedSkus: [...(u.releasedSkus ?? [])],
      releasedNumber: u.releasedNumber ?? null,
    }));
  const { total, ...rest } = fields;
  return {
    ...rest,
    counts: countOutcomes(users, total ?? users.length),
    bought: seatsBought(users),
    released: givenBack(users),
    users,
  };
}

export const REPORT_CSV_COLUMNS = [
  'row',
  'line',
  'displayName',
  'userPrincipalName',
  'profile',
  'skus',
  'addedSkus',
  'outcome',
  'reason',
  'message',
  'advisories',
  'scheduledFor (UTC)',
  'assignedAt (UTC)',
  'provisionedAt (UTC)',
  'phoneNumber',
  'releasedSkus',
  'releasedNumber',
] as const;

const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** A cell a spreadsheet shows as text: a leading formula character gets a quote in front of it. */
export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n;\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `2026-11-25 16:49:22`: the form Excel and LibreOffice read as a date and time in every locale (ISO's "T…Z" stays text). */
export function spreadsheetTime(iso: string | null): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}

/**
 * The report as CSV for a spreadsheet: UTF-8 with a BOM (so Excel reads it as UTF-8) and the input's own delimiter,
 * so that an Excel whose list separator is ";" (most of Europe) opens the report of a ";" file in columns.
 */
export function reportToCsv(report: BatchReport): string {
  const d = report.input?.delimiter === ';' ? ';' : ',';
  const lines = [REPORT_CSV_COLUMNS.join(d)];
  // What concerns the file as a whole comes first, in a row of its own with no row number: a refused file's error (so
  // that a spreadsheet shows why there are no rows), and each note about the input (docs/strict-json.md).
  const fileRow = (reason: string, message: string) =>
    REPORT_CSV_COLUMNS.map((c) => (c === 'outcome' ? 'file' : c === 'reason' ? reason : c === 'message' ? message : ''))
      .map(csvCell)
      .join(d);
  if (report.error) lines.push(fileRow('input_refused', report.error));
  for (const a of report.advisories ?? []) lines.push(fileRow(a, INPUT_ADVISORIES[a] ?? a));
  for (const n of report.inputNotes ?? []) lines.push(fileRow('column_not_read', n));
  for (const u of report.users) {
    lines.push(
      [
        u.row,
        u.line,
        u.displayName,
        u.userPrincipalName,
        u.profile,
        u.skus.join('+'),
        (u.addedSkus ?? []).join('+'),
        u.outcome,
        u.reason,
        u.message,
        u.advisories.join(' '),
        spreadsheetTime(u.scheduledFor ?? null),
        spreadsheetTime(u.assignedAt),
        spreadsheetTime(u.provisionedAt),
        u.phoneNumber ?? null,
        (u.releasedSkus ?? []).join('+'),
        u.releasedNumber ?? null,
      ]
        .map(csvCell)
        .join(d),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
