import { nextPollAt, pollsUntilDeadline } from '../../shared/domain/polling';
import { buildReport, csvCell, reportToCsv } from '../../shared/domain/report';
import type { UserOutcome } from '../../shared/domain/outcomes';

const t0 = new Date('2026-11-25T08:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe('polling policy', () => {
  const deadline = at(24 * 60);

  it('checks every 10 minutes in the first hour, then backs off to every 2 hours', () => {
    expect(nextPollAt(t0, t0, deadline)).toEqual(at(10));
    expect(nextPollAt(t0, at(10), deadline)).toEqual(at(20));
    expect(nextPollAt(t0, at(61), deadline)).toEqual(at(75));
    expect(nextPollAt(t0, at(200), deadline)).toEqual(at(210));
    expect(nextPollAt(t0, at(400), deadline)).toEqual(at(480));
  });

  it("is a pure function of its arguments (replay-safe): the machine's clock never changes the answer", () => {
    // An orchestrator replays with the times of its history, years after or before the machine's own clock: the
    // answer must follow the arguments alone. Assignment dates far from today would move any answer read off Date.now.
    // (That the domain never reads the clock at all is asserted in architecture.test.ts.)
    for (const base of [new Date('1971-03-01T00:00:00Z'), t0, new Date('2190-06-30T23:59:00Z')]) {
      const min = (m: number) => new Date(base.getTime() + m * 60_000);
      const answers = Array.from({ length: 3 }, () => nextPollAt(base, min(123.4), min(24 * 60)));
      // 10-minute steps to 60, then 15-minute steps: 75, 90, 105, 120, 135.
      expect(answers).toEqual([min(135), min(135), min(135)]);
      expect(pollsUntilDeadline(base, min(24 * 60))).toBe(pollsUntilDeadline(t0, deadline));
    }
  });

  it('never schedules past the deadline, and stops at it', () => {
    expect(nextPollAt(t0, at(24 * 60 - 1), deadline)).toEqual(deadline);
    expect(nextPollAt(t0, deadline, deadline)).toBeNull();
    expect(nextPollAt(t0, at(25 * 60), deadline)).toBeNull();
  });

  it('always moves forward', () => {
    for (let m = 0; m < 24 * 60; m += 7) expect(nextPollAt(t0, at(m), deadline)!.getTime()).toBeGreaterThan(at(m).getTime());
  });

  it('shrinks the grid with a shorter wait: a 3-minute deadline still checks as often as a 24-hour one', () => {
    const short = at(3);
    expect(pollsUntilDeadline(t0, short)).toBe(pollsUntilDeadline(t0, deadline));
    // The first check comes after 10 minutes scaled by 3/1440: 1.25 seconds.
    expect(nextPollAt(t0, t0, short)).toEqual(new Date(t0.getTime() + 1250));
    for (let ms = 0; ms < 180_000; ms += 997) {
      const next = nextPollAt(t0, new Date(t0.getTime() + ms), short)!;
      expect(next.getTime()).toBeGreaterThan(t0.getTime() + ms);
      expect(next.getTime()).toBeLessThanOrEqual(short.getTime());
    }
  });

  it('keeps checks at least a second apart, and ends, however close the deadline', () => {
    const tiny = new Date(t0.getTime() + 5_000);
    expect(pollsUntilDeadline(t0, tiny)).toBeLessThanOrEqual(5);
    expect(nextPollAt(t0, t0, new Date(t0.getTime() + 1))).toEqual(new Date(t0.getTime() + 1));
  });

  it('does not stretch a deadline beyond 24 hours: the grid stays in fixed minutes', () => {
    expect(nextPollAt(t0, t0, at(48 * 60))).toEqual(at(10));
  });

  it('costs at most 30 reads for a user never provisioned in 24 hours', () => {
    expect(pollsUntilDeadline(t0, deadline)).toBeLessThanOrEqual(30);
    expect(pollsUntilDeadline(t0, deadline)).toBeGreaterThan(20);
  });
});

const user = (row: number, outcome: UserOutcome['outcome'], extra: Partial<UserOutcome> = {}): UserOutcome => ({
  row,
  userPrincipalName: `u${row}@c.com`,
  profile: 'phone-domestic',
  skus: ['ENTERPRISEPACK', 'MCOEV'],
  outcome,
  reason: '',
  message: '',
  advisories: [],
  assignedAt: null,
  provisionedAt: null,
  phoneNumber: null,
  ...extra,
});

describe('report', () => {
  it('counts every outcome and sorts users by row', () => {
    const r = buildReport({ batchId: 'b', source: 'http', startedAt: t0.toISOString(), finishedAt: null, deadline: null, users: [user(3, 'flagged'), user(1, 'provisioned'), user(2, 'rejected')] });
    expect(r.users.map((u) => u.row)).toEqual([1, 2, 3]);
    expect(r.counts).toEqual({ total: 3, provisioned: 1, assigned: 0, flagged: 1, failed: 0, rejected: 1, cancelled: 0 });
  });

  it('counts cancelled rows and gives every row its scheduledFor (null when it never waited)', () => {
    const r = buildReport({ batchId: 'b', source: 'http', startedAt: t0.toISOString(), finishedAt: null, deadline: null, users: [user(1, 'cancelled', { scheduledFor: '2026-12-06T00:00:00.000Z' }), user(2, 'assigned')] });
    expect(r.counts).toMatchObject({ total: 2, cancelled: 1, assigned: 1 });
    expect(r.users.map((u) => u.scheduledFor)).toEqual(['2026-12-06T00:00:00.000Z', null]);
    expect(reportToCsv(r)).toContain('cancelled,,,,2026-12-06 00:00:00,,');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '＝1'])('neutralises the formula start in %j', (v) => {
    expect(csvCell(v).replace(/^"/, '').startsWith("'")).toBe(true);
  });

  it('quotes cells with separators, quotes and line breaks', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
  });

  it('writes a CSV with a header and one line per user, formula-safe in every field', () => {
    const r = buildReport({ batchId: 'b', source: 'x', startedAt: '', finishedAt: '', deadline: '', users: [user(1, 'failed', { userPrincipalName: '=cmd@c.com', message: '+evil', reason: 'graph_error', advisories: ['next_step_phone_number'] }), user(2, 'provisioned', { phoneNumber: '+14255550100' })] });
    const lines = reportToCsv(r).replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('row,line,displayName,userPrincipalName,profile,skus,outcome,reason,message,advisories,scheduledFor (UTC),assignedAt (UTC),provisionedAt (UTC),phoneNumber');
    expect(lines[1]).toBe("1,,,'=cmd@c.com,phone-domestic,ENTERPRISEPACK+MCOEV,failed,graph_error,'+evil,next_step_phone_number,,,,");
    // The number is shown as text: a leading '+' would make a spreadsheet read it as a formula.
    expect(lines[2]).toBe("2,,,u2@c.com,phone-domestic,ENTERPRISEPACK+MCOEV,provisioned,,,,,,,'+14255550100");
  });

  it("writes the report of a ';' file with ';', a UTF-8 BOM, the row's line and name, and times a spreadsheet reads as dates", () => {
    const r = buildReport({
      batchId: 'b',
      source: 'x',
      startedAt: '',
      finishedAt: '',
      deadline: '',
      input: { format: 'csv', encoding: 'windows-1252', delimiter: ';' },
      users: [user(1, 'provisioned', { line: 2, displayName: 'Zoë Müller', assignedAt: '2026-11-25T16:49:22.123Z', provisionedAt: '2026-11-25T17:19:00Z' })],
    });
    const csv = reportToCsv(r);
    expect(csv.startsWith('\uFEFFrow;line;displayName;userPrincipalName;')).toBe(true);
    expect(csv.split('\r\n')[1]).toMatch(/^1;2;Zoë Müller;.*;2026-11-25 16:49:22;2026-11-25 17:19:00;$/);
  });
});
