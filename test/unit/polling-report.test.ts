import {
  MIN_CHECK_INTERVAL_MS,
  minCheckIntervalMs,
  nextCheckAt,
  nextPollAt,
  pollsUntilDeadline,
  recheckAt,
  tooLateToCheck,
} from '../../shared/domain/polling';
import { buildReport, csvCell, reportToCsv } from '../../shared/domain/report';
import type { UserOutcome } from '../../shared/domain/outcomes';

const t0 = new Date('2026-11-25T08:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe('polling policy', () => {
  const deadline = at(24 * 60);

  it('allows a check every minute for 20 minutes, then every 2 to an hour, 4 to 3 hours, 5 to 6 hours and 10 after', () => {
    expect(nextCheckAt(t0, null, deadline)).toEqual(at(1));
    expect(nextCheckAt(t0, at(1), deadline)).toEqual(at(2));
    expect(nextCheckAt(t0, at(20), deadline)).toEqual(at(22));
    expect(nextCheckAt(t0, at(60), deadline)).toEqual(at(64));
    expect(nextCheckAt(t0, at(180), deadline)).toEqual(at(185));
    expect(nextCheckAt(t0, at(360), deadline)).toEqual(at(370));
  });

  it('never checks a user twice within a minute: a check the budget delayed moves the next one too', () => {
    // the budget moved the check due at 2 minutes to 2.9: the next is at 3.9, not at 3
    expect(nextCheckAt(t0, at(2.9), deadline)).toEqual(at(3.9));
    for (let m = 0; m < 24 * 60; m += 0.7) {
      const next = nextCheckAt(t0, at(m), deadline);
      if (next) expect(next.getTime() - at(m).getTime()).toBeGreaterThanOrEqual(MIN_CHECK_INTERVAL_MS);
    }
  });

  it('runs a recheck at once, or a minute after the last check when that was sooner (rechecks fold into one check)', () => {
    expect(recheckAt(t0, at(400), at(430), deadline)).toEqual(at(430));
    expect(recheckAt(t0, at(400), at(400.25), deadline)).toEqual(at(401));
    expect(recheckAt(t0, null, at(0.5), deadline)).toEqual(at(0.5));
    expect(recheckAt(t0, at(24 * 60 - 0.5), at(24 * 60 - 0.25), deadline)).toBeNull();
  });

  it("is a pure function of its arguments (replay-safe): the machine's clock never changes the answer", () => {
    // An orchestrator replays with the times of its history, years after or before the machine's own clock: the
    // answer must follow the arguments alone. (That the domain never reads the clock is asserted in architecture.test.ts.)
    for (const base of [new Date('1971-03-01T00:00:00Z'), t0, new Date('2190-06-30T23:59:00Z')]) {
      const min = (m: number) => new Date(base.getTime() + m * 60_000);
      const answers = Array.from({ length: 3 }, () => nextCheckAt(base, min(123.4), min(24 * 60)));
      // 4-minute steps from 60 to 180: the grid says 124, the floor a minute after 123.4
      expect(answers).toEqual([min(124.4), min(124.4), min(124.4)]);
      expect(pollsUntilDeadline(base, min(24 * 60))).toBe(pollsUntilDeadline(t0, deadline));
    }
  });

  it('never schedules past the deadline, checks at it, and stops there', () => {
    expect(nextCheckAt(t0, at(24 * 60 - 5), deadline)).toEqual(deadline);
    expect(nextCheckAt(t0, deadline, deadline)).toBeNull();
    expect(nextCheckAt(t0, at(25 * 60), deadline)).toBeNull();
    // a check half a minute before the deadline was the last one (the floor)
    expect(nextCheckAt(t0, at(24 * 60 - 0.5), deadline)).toBeNull();
  });

  it('starts no check more than the floor after the deadline (a late chunk ends instead), scaled with a short wait', () => {
    const a = new Date('2026-11-25T08:00:00Z');
    const deadline = new Date(a.getTime() + 24 * 3_600_000);
    expect(tooLateToCheck(a, new Date(deadline.getTime() + 60_000), deadline)).toBe(false);
    expect(tooLateToCheck(a, new Date(deadline.getTime() + 60_001), deadline)).toBe(true);
    expect(tooLateToCheck(a, new Date(deadline.getTime() - 3_600_000), deadline)).toBe(false);
    const short = new Date(a.getTime() + 3 * 60_000);
    expect(tooLateToCheck(a, new Date(short.getTime() + 2_000), short)).toBe(true);
  });

  it('always moves forward', () => {
    for (let m = 0; m < 24 * 60; m += 7)
      expect(nextPollAt(t0, at(m), deadline)!.getTime()).toBeGreaterThan(at(m).getTime());
  });

  it('shrinks the grid and the floor with a shorter wait: a 3-minute deadline still checks several times, a second apart at least', () => {
    const short = at(3);
    expect(minCheckIntervalMs(t0, short)).toBe(1_000);
    expect(minCheckIntervalMs(t0, at(12 * 60))).toBe(30_000);
    expect(pollsUntilDeadline(t0, short)).toBeGreaterThanOrEqual(5);
    let last: Date | null = null;
    for (let next = nextCheckAt(t0, last, short); next; next = nextCheckAt(t0, last, short)) {
      if (last) expect(next.getTime() - last.getTime()).toBeGreaterThanOrEqual(1_000);
      expect(next.getTime()).toBeLessThanOrEqual(short.getTime());
      last = next;
    }
  });

  it('keeps checks at least a second apart, and ends, however close the deadline', () => {
    const tiny = new Date(t0.getTime() + 5_000);
    expect(pollsUntilDeadline(t0, tiny)).toBeLessThanOrEqual(5);
    expect(nextCheckAt(t0, null, new Date(t0.getTime() + 1))).toEqual(new Date(t0.getTime() + 1));
  });

  it('does not stretch a deadline beyond 24 hours: the grid and the floor stay in fixed minutes', () => {
    expect(nextCheckAt(t0, null, at(48 * 60))).toEqual(at(1));
    expect(minCheckIntervalMs(t0, at(48 * 60))).toBe(MIN_CHECK_INTERVAL_MS);
  });

  it('costs a user never provisioned in 24 hours at most 214 reads (the read budget decides how many happen)', () => {
    // 20 + 20 + 30 + 36 + 108: every minute to 20, every 2 to 60, every 4 to 180, every 5 to 360, every 10 to 1440
    expect(pollsUntilDeadline(t0, deadline)).toBe(214);
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
    const r = buildReport({
      batchId: 'b',
      source: 'http',
      startedAt: t0.toISOString(),
      finishedAt: null,
      deadline: null,
      users: [user(3, 'flagged'), user(1, 'provisioned'), user(2, 'rejected')],
    });
    expect(r.users.map((u) => u.row)).toEqual([1, 2, 3]);
    expect(r.counts).toEqual({
      total: 3,
      provisioned: 1,
      assigned: 0,
      released: 0,
      flagged: 1,
      failed: 0,
      rejected: 1,
      cancelled: 0,
    });
  });

  it('counts cancelled rows and gives every row its scheduledFor (null when it never waited)', () => {
    const r = buildReport({
      batchId: 'b',
      source: 'http',
      startedAt: t0.toISOString(),
      finishedAt: null,
      deadline: null,
      users: [user(1, 'cancelled', { scheduledFor: '2026-12-06T00:00:00.000Z' }), user(2, 'assigned')],
    });
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
    const r = buildReport({
      batchId: 'b',
      source: 'x',
      startedAt: '',
      finishedAt: '',
      deadline: '',
      users: [
        user(1, 'failed', {
          userPrincipalName: '=cmd@c.com',
          message: '+evil',
          reason: 'graph_error',
          advisories: ['next_step_phone_number'],
        }),
        user(2, 'provisioned', { phoneNumber: '+14255550100', addedSkus: ['MCOEV', 'MCOPSTN1'] }),
      ],
    });
    const lines = reportToCsv(r)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'row,line,displayName,userPrincipalName,profile,skus,addedSkus,outcome,reason,message,advisories,scheduledFor (UTC),assignedAt (UTC),provisionedAt (UTC),phoneNumber,releasedSkus,releasedNumber',
    );
    expect(lines[1]).toBe(
      "1,,,'=cmd@c.com,phone-domestic,ENTERPRISEPACK+MCOEV,,failed,graph_error,'+evil,next_step_phone_number,,,,,,",
    );
    // The number is shown as text: a leading '+' would make a spreadsheet read it as a formula.
    expect(lines[2]).toBe(
      "2,,,u2@c.com,phone-domestic,ENTERPRISEPACK+MCOEV,MCOEV+MCOPSTN1,provisioned,,,,,,,'+14255550100,,",
    );
  });

  it("writes the report of a ';' file with ';', a UTF-8 BOM, the row's line and name, and times a spreadsheet reads as dates", () => {
    const r = buildReport({
      batchId: 'b',
      source: 'x',
      startedAt: '',
      finishedAt: '',
      deadline: '',
      input: { format: 'csv', encoding: 'windows-1252', delimiter: ';' },
      users: [
        user(1, 'provisioned', {
          line: 2,
          displayName: 'Zoë Müller',
          assignedAt: '2026-11-25T16:49:22.123Z',
          provisionedAt: '2026-11-25T17:19:00Z',
        }),
      ],
    });
    const csv = reportToCsv(r);
    expect(csv.startsWith('\uFEFFrow;line;displayName;userPrincipalName;')).toBe(true);
    expect(csv.split('\r\n')[1]).toMatch(/^1;2;Zoë Müller;.*;2026-11-25 16:49:22;2026-11-25 17:19:00;;;$/);
  });
});
