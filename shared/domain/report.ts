// The batch report: one document with every row's outcome, as JSON and as a CSV that a spreadsheet opens as text
// (no formula injection: HR data travels through here into Excel).
import type { Outcome, UserOutcome } from './outcomes';

export type OutcomeCounts = { total: number } & Record<Outcome, number>;

export interface BatchReport {
  batchId: string;
  source: string;
  startedAt: string;
  finishedAt: string | null;
  deadline: string | null;
  /** Set when the input as a whole could not be used (no rows were read). */
  error?: string;
  counts: OutcomeCounts;
  users: UserOutcome[];
}

export function countOutcomes(users: readonly Pick<UserOutcome, 'outcome'>[], total = users.length): OutcomeCounts {
  const counts = { total, provisioned: 0, assigned: 0, flagged: 0, failed: 0, rejected: 0 };
  for (const u of users) counts[u.outcome]++;
  return counts;
}

export function buildReport(fields: Omit<BatchReport, 'counts' | 'users'> & { users: UserOutcome[]; total?: number }): BatchReport {
  const users = [...fields.users].sort((a, b) => a.row - b.row);
  const { total, ...rest } = fields;
  return { ...rest, counts: countOutcomes(users, total ?? users.length), users };
}

export const REPORT_CSV_COLUMNS = ['row', 'userPrincipalName', 'profile', 'skus', 'outcome', 'reason', 'message', 'advisories', 'assignedAt', 'provisionedAt'] as const;

const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** A cell a spreadsheet shows as text: a leading formula character gets a quote in front of it. */
export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportToCsv(report: BatchReport): string {
  const lines = [REPORT_CSV_COLUMNS.join(',')];
  for (const u of report.users) {
    lines.push(
      [u.row, u.userPrincipalName, u.profile, u.skus.join('+'), u.outcome, u.reason, u.message, u.advisories.join(' '), u.assignedAt, u.provisionedAt]
        .map(csvCell)
        .join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
