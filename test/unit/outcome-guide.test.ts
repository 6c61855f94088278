// One outcome guide: every table in README.md and docs/ that says what an outcome or a reason means, or what an admin
// does next, says exactly what shared/domain/outcome-guide.ts says, and covers every outcome and reason; the CLI
// summary, the console's /me answer and the callback's rows take their words from the same module.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { callbackPayload } from '../../shared/domain/callback';
import {
  LIVE_STATE_GUIDE,
  OUTCOME_GUIDE,
  REASON_GUIDE,
  REASON_OUTCOME,
  nextStepFor,
} from '../../shared/domain/outcome-guide';
import {
  FAILURE_REASONS,
  FLAG_REASONS,
  OUTCOMES,
  REJECTION_REASONS,
  RELEASE_REASONS,
  type UserOutcome,
} from '../../shared/domain/outcomes';
import { buildReport } from '../../shared/domain/report';
import { summary } from '../../local/run-summary';

const root = join(__dirname, '..', '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Table {
  readonly page: string;
  readonly header: string[];
  readonly rows: string[][];
}

/** Every markdown table of a page: its header cells and its rows' cells, trimmed. */
function tables(page: string, text = readFileSync(join(root, page), 'utf8')): Table[] {
  const cells = (line: string) =>
    line
      .trim()
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  const found: Table[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    if (!/^\s*\|/.test(lines[i]!) || !/^\s*\|\s*-+/.test(lines[i + 1]!)) continue;
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && /^\s*\|/.test(lines[j]!); j++) rows.push(cells(lines[j]!));
    found.push({ page, header: cells(lines[i]!), rows });
    i = j;
  }
  return found;
}

const code = (cell: string) => /^`([a-z_]+)`$/.exec(cell)?.[1];
/** The tables keyed by outcome, state or reason that say what to do (or what it means). */
function guideTables(page: string, text?: string): Table[] {
  return tables(page, text).filter(
    (t) =>
      ['outcome', 'state', 'reason'].includes(t.header[0]!) &&
      t.header.some((h) => h.startsWith('what an admin does') || h === 'meaning'),
  );
}

/** The differences between a table and the guide, one line each. */
function disagreements(t: Table): string[] {
  const out: string[] = [];
  const col = (name: string) =>
    t.header.findIndex((h) => h === name || (name === 'next' && h.startsWith('what an admin does')));
  for (const row of t.rows) {
    const key = code(row[0]!);
    const words =
      t.header[0] === 'reason'
        ? undefined
        : t.header[0] === 'state'
          ? LIVE_STATE_GUIDE[key as keyof typeof LIVE_STATE_GUIDE]
          : OUTCOME_GUIDE[key as keyof typeof OUTCOME_GUIDE];
    const next = t.header[0] === 'reason' ? REASON_GUIDE[key as keyof typeof REASON_GUIDE] : words?.next;
    if (next === undefined) {
      out.push(`${t.page}: ${row[0]} is no ${t.header[0]} of the guide`);
      continue;
    }
    if (col('next') >= 0 && row[col('next')] !== next)
      out.push(`${t.page}: ${row[0]}: "${row[col('next')]}" is not the guide's "${next}"`);
    if (words && col('meaning') >= 0 && row[col('meaning')] !== words.meaning)
      out.push(`${t.page}: ${row[0]}: "${row[col('meaning')]}" is not the guide's "${words.meaning}"`);
    if (
      t.header[0] === 'reason' &&
      col('outcome') >= 0 &&
      row[col('outcome')] !== `\`${REASON_OUTCOME[key as keyof typeof REASON_OUTCOME]}\``
    )
      out.push(`${t.page}: ${row[0]}: outcome ${row[col('outcome')]}`);
    if (t.header[0] === 'outcome' && col('reasons') >= 0) {
      const listed = (row[col('reasons')]!.match(/`[a-z_]+`/g) ?? []).map((c) => c.slice(1, -1)).sort();
      const expected = [
        ...Object.keys(REASON_OUTCOME).filter((r) => REASON_OUTCOME[r as keyof typeof REASON_OUTCOME] === key),
        ...(key === 'assigned' ? ['already_licensed'] : []),
        ...(key === 'released' ? ['nothing_to_release'] : []),
      ].sort();
      if (listed.join() !== expected.join())
        out.push(`${t.page}: ${row[0]}: reasons ${listed.join(', ')} are not ${expected.join(', ')}`);
    }
  }
  return out;
}

describe('the outcome guide', () => {
  it('has words for every outcome and every reason that needs a person, each reason under its outcome', () => {
    expect(Object.keys(OUTCOME_GUIDE).sort()).toEqual([...OUTCOMES].sort());
    expect(Object.keys(REASON_GUIDE).sort()).toEqual(
      [...FAILURE_REASONS, ...REJECTION_REASONS, ...FLAG_REASONS, ...RELEASE_REASONS].sort(),
    );
    for (const r of RELEASE_REASONS) expect(REASON_OUTCOME[r]).toBe('released');
    for (const r of FAILURE_REASONS) expect(REASON_OUTCOME[r]).toBe('failed');
    for (const r of REJECTION_REASONS) expect(REASON_OUTCOME[r]).toBe('rejected');
    for (const r of FLAG_REASONS) expect(REASON_OUTCOME[r]).toBe('flagged');
  });

  it("gives a row its reason's step, else its outcome's; a cancelled row always its outcome's", () => {
    expect(nextStepFor({ outcome: 'failed', reason: 'user_not_found' })).toBe(REASON_GUIDE.user_not_found);
    expect(nextStepFor({ outcome: 'assigned', reason: 'already_licensed' })).toBe(OUTCOME_GUIDE.assigned.next);
    expect(nextStepFor({ outcome: 'provisioned', reason: '' })).toBe(OUTCOME_GUIDE.provisioned.next);
    expect(nextStepFor({ outcome: 'released', reason: 'nothing_to_release' })).toBe(OUTCOME_GUIDE.released.next);
    expect(nextStepFor({ outcome: 'released', reason: 'group_licences_kept' })).toBe(REASON_GUIDE.group_licences_kept);
    expect(nextStepFor({ outcome: 'cancelled', reason: 'user_not_found' })).toBe(OUTCOME_GUIDE.cancelled.next);
  });

  it('is what the callback and the CLI summary say about each row', () => {
    const user = (row: number, outcome: UserOutcome['outcome'], reason: UserOutcome['reason']): UserOutcome => ({
      row,
      userPrincipalName: `u${row}@c.com`,
      profile: 'p',
      skus: [],
      outcome,
      reason,
      message: '',
      advisories: [],
      assignedAt: null,
      provisionedAt: null,
      phoneNumber: null,
    });
    const report = buildReport({
      batchId: 'b',
      source: 'http',
      startedAt: '',
      finishedAt: '',
      deadline: '',
      users: [
        user(1, 'failed', 'insufficient_licenses'),
        user(2, 'flagged', 'no_calling_plan'),
        user(3, 'rejected', 'duplicate'),
      ],
    });
    const payload = callbackPayload(report, {
      integration: 'hr',
      runKey: 'hr/b/r',
      url: 'https://hr.example.com/cb',
      statusUrl: 'https://app/api/batches/b',
    });
    expect(payload.users.map((u) => [u.row, u.next])).toEqual([
      [1, REASON_GUIDE.insufficient_licenses],
      [2, REASON_GUIDE.no_calling_plan],
    ]);
    const text = summary(report);
    for (const step of [
      REASON_GUIDE.insufficient_licenses,
      REASON_GUIDE.no_calling_plan,
      REASON_GUIDE.duplicate,
      OUTCOME_GUIDE.failed.meaning,
      OUTCOME_GUIDE.rejected.next,
    ])
      expect(text).toContain(step);
  });
});

describe("the docs' outcome tables", () => {
  it('finds a table that disagrees with the guide, lists a reason under the wrong outcome, or names no outcome', () => {
    const sample = [
      '| outcome | meaning | reasons | what an admin does next |',
      '| --- | --- | --- | --- |',
      `| \`failed\` | ${OUTCOME_GUIDE.failed.meaning} | \`user_not_found\` | ${OUTCOME_GUIDE.failed.next} |`,
      `| \`assigned\` | licences assigned | \`already_licensed\` | ${OUTCOME_GUIDE.assigned.next} |`,
      '| `done` | finished | | nothing |',
      '',
      '| reason | outcome | what an admin does next |',
      '| --- | --- | --- |',
      `| \`duplicate\` | \`failed\` | ${REASON_GUIDE.duplicate} |`,
    ].join('\n');
    expect(guideTables('sample.md', sample).flatMap(disagreements)).toEqual([
      expect.stringMatching(/`failed`: reasons user_not_found are not /),
      expect.stringMatching(/`assigned`: "licences assigned" is not the guide's/),
      'sample.md: `done` is no outcome of the guide',
      'sample.md: `duplicate`: outcome `failed`',
    ]);
  });

  it("README's and docs/outcomes.md's tables cover every outcome and reason", () => {
    const outcomesIn = (page: string) =>
      guideTables(page)
        .filter((t) => t.header[0] === 'outcome')
        .flatMap((t) => t.rows.map((r) => code(r[0]!)));
    expect(outcomesIn('README.md').sort()).toEqual([...OUTCOMES].sort());
    expect(outcomesIn('docs/outcomes.md').sort()).toEqual([...OUTCOMES].sort());
    const reasons = guideTables('docs/outcomes.md')
      .filter((t) => t.header[0] === 'reason')
      .flatMap((t) => t.rows.map((r) => code(r[0]!)));
    expect(reasons.sort()).toEqual(Object.keys(REASON_GUIDE).sort());
    const states = guideTables('docs/outcomes.md')
      .filter((t) => t.header[0] === 'state')
      .flatMap((t) => t.rows.map((r) => code(r[0]!)));
    expect(states.sort()).toEqual(Object.keys(LIVE_STATE_GUIDE).sort());
  });

  it.each(pages)('%s: every outcome, state and reason table says what the guide says', (page) => {
    expect(guideTables(page).flatMap(disagreements)).toEqual([]);
  });
});
