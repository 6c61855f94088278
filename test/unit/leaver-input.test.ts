// Leavers and movers in the input (docs/leavers-and-movers.md): a row's action (join by default, leave, move) and a
// leaver's end date, in CSV and JSON, with problems that name the row, the line and the field as the file spells it.
import { parseInput, type ParseOutcome } from '../../shared/domain/input';
import { validateRows } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { DEFAULT_SCHEDULE } from '../../shared/domain/schedule';

const bytes = (s: string) => Buffer.from(s, 'utf8');
function rowsOf(r: ParseOutcome) {
  if (!r.ok) throw new Error(`expected rows, got ${r.error.code}: ${r.error.message}`);
  return r.input.rows;
}

describe('the action of a row', () => {
  it('reads the Action column (join when blank or absent, any case) and the End date column and its aliases', () => {
    const csv = [
      'UPN,Action,End date',
      'a@c.com,leave,2026-12-31',
      'b@c.com,,',
      'c@c.com,MOVE,',
      'd@c.com, Leave ,2026-12-24T17:00:00+01:00',
    ].join('\n');
    expect(rowsOf(parseInput(bytes(csv), 'hr.csv'))).toEqual([
      { row: 1, line: 2, userPrincipalName: 'a@c.com', action: 'leave', endDate: '2026-12-31' },
      { row: 2, line: 3, userPrincipalName: 'b@c.com' },
      { row: 3, line: 4, userPrincipalName: 'c@c.com', action: 'move' },
      { row: 4, line: 5, userPrincipalName: 'd@c.com', action: 'leave', endDate: '2026-12-24T17:00:00+01:00' },
    ]);
    for (const alias of ['leaveDate', 'employeeLeaveDateTime', 'end_date'])
      expect(rowsOf(parseInput(bytes(`UPN,action,${alias}\na@c.com,leave,2026-12-31\n`), 'hr.csv'))[0]).toMatchObject({
        endDate: '2026-12-31',
      });
  });

  it('keeps an unknown action, or an end date on a join row, on its row, naming row, line and the column as spelt', () => {
    const rows = rowsOf(parseInput(bytes('UPN;Action;Leave date\na@c.com;quit;\nb@c.com;;2026-12-31\n'), 'hr.csv'));
    expect(rows[0]!.problem).toEqual({
      reason: 'invalid_field',
      field: 'Action',
      message: 'row 1 (line 2): field Action: "quit" is not an action; expected join, leave, move (blank means join)',
    });
    expect(rows[1]!.problem).toEqual({
      reason: 'invalid_field',
      field: 'Leave date',
      message: 'row 2 (line 3): field Leave date: is for leave rows only (Action leave); this row is a join row',
    });
  });

  it('reads action and endDate in JSON (with its aliases), and keeps a wrong one on its row', () => {
    const body = JSON.stringify({
      users: [
        { userPrincipalName: 'a@c.com', action: 'leave', endDate: '2026-12-31' },
        { userPrincipalName: 'b@c.com', action: 'leave', employeeLeaveDateTime: '2026-12-31T17:00:00Z' },
        { userPrincipalName: 'c@c.com', action: 'fire' },
        { userPrincipalName: 'd@c.com', action: 'join', endDate: '2026-12-31' },
        { userPrincipalName: 'e@c.com', action: 'leave', endDate: 20261231 },
        { userPrincipalName: 'f@c.com', action: 'move', usageLocation: 'GB' },
      ],
    });
    const rows = rowsOf(parseInput(bytes(body), 'hr.json'));
    expect(rows[0]).toEqual({ row: 1, userPrincipalName: 'a@c.com', action: 'leave', endDate: '2026-12-31' });
    expect(rows[1]).toMatchObject({ action: 'leave', endDate: '2026-12-31T17:00:00Z' });
    expect(rows[2]!.problem).toEqual({
      reason: 'invalid_field',
      field: 'action',
      message: 'row 3 (users[2]): action: "fire" is not an action; expected join, leave, move (blank means join)',
    });
    expect(rows[3]!.problem).toMatchObject({ reason: 'invalid_field', field: 'endDate' });
    expect(rows[3]!.problem!.message).toMatch(/is for leave rows only/);
    expect(rows[4]!.problem).toMatchObject({ reason: 'invalid_end_date', field: 'endDate' });
    expect(rows[5]).toEqual({ row: 6, userPrincipalName: 'f@c.com', action: 'move', usageLocation: 'GB' });
  });

  it('refuses a JSON batch whose user misspells endDate, naming the closest field', () => {
    const r = parseInput(bytes(JSON.stringify({ users: [{ upn: 'a@c.com', action: 'leave', enddate: 'x' }] })), 'b');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/users\[0\]\.enddate: unknown field; did you mean endDate\?/);
  });
});

describe("a leaver's end date", () => {
  const now = new Date('2026-12-07T10:00:00Z');
  const validate = (endDate: string | undefined, action: 'leave' | 'move' = 'leave') =>
    validateRows([{ row: 1, line: 2, userPrincipalName: 'a@c.com', action, ...(endDate ? { endDate } : {}) }], {
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
      schedule: { settings: { ...DEFAULT_SCHEDULE, timeZone: 'Europe/Paris', leadDays: 1 }, now },
    })[0]!;

  it('is scheduled at the start of that day in the time zone, with no lead days (the line stays until the day)', () => {
    expect(validate('2026-12-31')).toMatchObject({
      kind: 'request',
      request: { action: 'leave', scheduledFor: '2026-12-30T23:00:00.000Z', profile: 'phone-domestic' },
    });
  });

  it('goes at once when absent or past', () => {
    const at = validate(undefined);
    expect(at).toMatchObject({ kind: 'request', request: { action: 'leave' } });
    expect(at.kind === 'request' && at.request.scheduledFor).toBeUndefined();
    expect(validate('2026-11-30')).toMatchObject({ request: { scheduledFor: now.toISOString() } });
  });

  it('is rejected invalid_end_date when unreadable or beyond the horizon, naming row, line and field', () => {
    expect(validate('31/12/2026')).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_end_date',
      message: expect.stringMatching(/^row 1 \(line 2\), field endDate: "31\/12\/2026" is not an end date/),
    });
    expect(validate('2027-12-31')).toMatchObject({ kind: 'rejected', reason: 'invalid_end_date' });
  });
});
