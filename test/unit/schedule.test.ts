import { parseInput } from '../../shared/domain/input';
import { validateRows } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import {
  byDueThenRow,
  DEFAULT_SCHEDULE,
  effectiveDueAt,
  isTimeZone,
  readStartDate,
  startOfDayIn,
  type ScheduleSettings,
} from '../../shared/domain/schedule';

const now = new Date('2026-11-25T10:00:00Z');
const read = (raw: string, settings: Partial<ScheduleSettings> = {}, at = now) =>
  readStartDate(raw, at, { ...DEFAULT_SCHEDULE, ...settings });
const due = (raw: string, settings: Partial<ScheduleSettings> = {}, at = now) => {
  const r = read(raw, settings, at);
  if (!r.ok) throw new Error(r.message);
  return r.dueAt.toISOString();
};

describe('start dates', () => {
  it('licenses a plain date one day ahead, at the start of that day in UTC by default', () => {
    expect(due('2026-12-07')).toBe('2026-12-06T00:00:00.000Z');
  });

  it('reads a plain date in the configured IANA time zone', () => {
    // Berlin is UTC+1 in December: its day begins at 23:00 UTC the evening before.
    expect(due('2026-12-07', { timeZone: 'Europe/Berlin' })).toBe('2026-12-05T23:00:00.000Z');
    // New York is UTC-5 in December.
    expect(due('2026-12-07', { timeZone: 'America/New_York' })).toBe('2026-12-06T05:00:00.000Z');
    expect(due('2026-12-07', { timeZone: 'Asia/Kolkata', leadDays: 3 })).toBe('2026-12-03T18:30:00.000Z');
  });

  it('counts lead days across a month and a year end, and zero lead days means the start date itself', () => {
    expect(due('2027-01-01', { leadDays: 2 })).toBe('2026-12-30T00:00:00.000Z');
    expect(due('2026-12-01', { leadDays: 0 })).toBe('2026-12-01T00:00:00.000Z');
  });

  it('takes a date-time with an offset as that calendar day in that offset', () => {
    expect(due('2026-12-07T09:30:00+01:00')).toBe('2026-12-05T23:00:00.000Z');
    expect(due('2026-12-07T23:30:00Z')).toBe('2026-12-06T00:00:00.000Z');
    expect(due('2026-12-07T08:00-0500')).toBe('2026-12-06T05:00:00.000Z');
  });

  describe('on days a DST change moves the clocks', () => {
    it('uses local midnight when the change happens later in the night (New York, fall back at 02:00)', () => {
      // 2026-11-01 is the first Sunday of November: EDT (UTC-4) at midnight, EST from 02:00.
      expect(startOfDayIn('America/New_York', 2026, 11, 1).toISOString()).toBe('2026-11-01T04:00:00.000Z');
      expect(startOfDayIn('America/New_York', 2026, 11, 2).toISOString()).toBe('2026-11-02T05:00:00.000Z');
      // London springs forward at 01:00 on 2026-03-29; its midnight is still GMT.
      expect(startOfDayIn('Europe/London', 2026, 3, 29).toISOString()).toBe('2026-03-29T00:00:00.000Z');
      expect(startOfDayIn('Europe/London', 2026, 3, 30).toISOString()).toBe('2026-03-29T23:00:00.000Z');
    });

    it('uses the first time that exists when midnight is skipped (Santiago springs forward at 00:00)', () => {
      // Chile starts DST on the first Saturday night of September: 2026-09-06 00:00 (UTC-4) becomes 01:00 (UTC-3).
      const start = startOfDayIn('America/Santiago', 2026, 9, 6);
      expect(start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
      expect(
        new Intl.DateTimeFormat('en-GB', {
          timeZone: 'America/Santiago',
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
        }).format(start),
      ).toBe('01:00');
      expect(due('2026-09-07', { timeZone: 'America/Santiago' }, new Date('2026-09-01T00:00:00Z'))).toBe(
        '2026-09-06T04:00:00.000Z',
      );
    });

    it('uses the first midnight when midnight happens twice (Havana falls back from 01:00 to 00:00)', () => {
      // Cuba ends DST on the first Sunday of November at 01:00 CDT (UTC-4), back to 00:00 CST (UTC-5).
      expect(startOfDayIn('America/Havana', 2026, 11, 1).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    });

    it('gives a day of 23 or 25 hours its true length', () => {
      const len = (y: number, m: number, d: number) =>
        (startOfDayIn('Europe/Berlin', y, m, d + 1).getTime() - startOfDayIn('Europe/Berlin', y, m, d).getTime()) /
        3_600_000;
      expect(len(2026, 3, 29)).toBe(23);
      expect(len(2026, 10, 25)).toBe(25);
      expect(len(2026, 10, 26)).toBe(24);
    });
  });

  it('lets rows whose time has come go at once', () => {
    const past = read('2026-11-20');
    expect(past.ok).toBe(true);
    if (!past.ok) return;
    expect(past.dueAt.toISOString()).toBe('2026-11-19T00:00:00.000Z');
    expect(effectiveDueAt(past, now)).toEqual(now);
    // Tomorrow's start: due today at 00:00, which has passed.
    const tomorrow = read('2026-11-26');
    expect(tomorrow.ok && effectiveDueAt(tomorrow, now)).toEqual(now);
    const later = read('2026-11-28');
    expect(later.ok && effectiveDueAt(later, now).toISOString()).toBe('2026-11-27T00:00:00.000Z');
  });

  it('refuses start dates beyond the horizon, and accepts one just inside it', () => {
    const far = read('2027-03-26');
    expect(far).toEqual({
      ok: false,
      message: expect.stringContaining('more than 120 days ahead (DIALTONE_SCHEDULE_HORIZON_DAYS)'),
    });
    expect(read('2027-03-25').ok).toBe(true);
    expect(read('2026-12-30', { horizonDays: 30 }).ok).toBe(false);
    expect(read('2026-12-24', { horizonDays: 30 }).ok).toBe(true);
  });

  it.each([
    ['07/12/2026', 'is not a start date'],
    ['2026-02-30', 'is not a day of the calendar'],
    ['2026-13-01', 'is not a day of the calendar'],
    ['2026-12-07T09:00:00', 'has a time but no offset'],
    ['2026-12-07T25:00:00Z', 'has no such time of day'],
    ['2026-12-07T09:00:00+19:00', 'has an offset beyond'],
    ['1970-01-01', 'before the year 2000'],
    ['next monday', 'is not a start date'],
    ['', 'is not a start date'],
  ])('refuses %j with a message saying what is wrong', (raw, why) => {
    const r = read(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(why);
  });

  it('cuts hostile values short in its message', () => {
    const r = read('x'.repeat(100_000));
    expect(!r.ok && r.message.length).toBeLessThan(200);
  });

  it('knows IANA zones and refuses unknown ones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('orders scheduled rows by due time, then by input order', () => {
    const rows = [
      { row: 1, scheduledFor: '2026-12-06T00:00:00.000Z' },
      { row: 2, scheduledFor: null },
      { row: 3, scheduledFor: '2026-12-01T00:00:00.000Z' },
      { row: 4, scheduledFor: '2026-12-01T00:00:00.000Z' },
    ];
    expect([...rows].sort(byDueThenRow).map((r) => r.row)).toEqual([2, 3, 4, 1]);
  });
});

describe('start dates in the input', () => {
  const rows = (text: string, json = false) => {
    const r = parseInput(Buffer.from(text), 'x', json ? { json: true } : undefined);
    if (!r.ok) throw new Error(r.error.message);
    return r.input.rows;
  };
  const validate = (text: string, json = false) =>
    validateRows(rows(text, json), {
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
      schedule: { settings: { ...DEFAULT_SCHEDULE, timeZone: 'Europe/Berlin' }, now },
    });

  it.each(['startDate', 'Start date', 'hireDate', 'employeeHireDate', 'start_date'])(
    'reads the CSV column %j',
    (header) => {
      expect(rows(`userPrincipalName,${header}\na@contoso.com,2026-12-07\n`)).toEqual([
        { row: 1, line: 2, userPrincipalName: 'a@contoso.com', startDate: '2026-12-07' },
      ]);
    },
  );

  it('reads JSON startDate and refuses one that is not a string', () => {
    const r = rows(
      JSON.stringify({
        users: [
          { userPrincipalName: 'a@contoso.com', startDate: '2026-12-07' },
          { userPrincipalName: 'b@contoso.com', startDate: 20261207 },
        ],
      }),
      true,
    );
    expect(r[0]).toEqual({ row: 1, userPrincipalName: 'a@contoso.com', startDate: '2026-12-07' });
    expect(r[1]!.problem).toEqual({
      reason: 'invalid_start_date',
      field: 'startDate',
      message: expect.stringContaining('startDate: must be a date'),
    });
  });

  it('schedules valid rows, lets rows whose time has come go at once, and rejects the rest as invalid_start_date naming row and field', () => {
    const v = validate(
      'userPrincipalName;startDate\na@contoso.com;2026-12-07\nb@contoso.com;2026-11-01\nc@contoso.com;tomorrow\nd@contoso.com;2027-06-01\ne@contoso.com;\n',
    );
    expect(v[0]).toMatchObject({ kind: 'request', request: { row: 1, scheduledFor: '2026-12-05T23:00:00.000Z' } });
    expect(v[1]).toMatchObject({ kind: 'request', request: { row: 2, scheduledFor: now.toISOString() } });
    expect(v[2]).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_start_date',
      message: expect.stringContaining('field startDate: "tomorrow" is not a start date'),
    });
    expect(v[3]).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_start_date',
      message: expect.stringContaining('more than 120 days ahead'),
    });
    expect(v[4]).toMatchObject({ kind: 'request' });
    expect(v[4]!.kind === 'request' && v[4]!.request.scheduledFor).toBeUndefined();
  });
});
