import type { InputRow } from '../../shared/domain/input';
import {
  cancelledOutcome,
  nextAccountCheckAt,
  planOnboarding,
  planSlotRound,
  type ScheduledRow,
} from '../../shared/domain/onboarding';
import { validateRows } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { DEFAULT_SCHEDULE } from '../../shared/domain/schedule';
import { snapshot } from '../support/tenant';

const now = new Date('2026-11-25T10:00:00Z');
const validate = (rows: InputRow[], at = now) =>
  validateRows(rows, {
    profiles: BUILT_IN_PROFILES,
    defaultProfile: 'phone-domestic',
    schedule: { settings: DEFAULT_SCHEDULE, now: at },
  });
const seats = (n: number) => ({ ENTERPRISEPACK: n, MCOEV: n, MCOPSTN1: n });
const usUser = { usageLocation: 'US' };

describe('planning a batch with start dates', () => {
  it('plans rows due now, and puts rows due later or whose account is missing into slots by due hour, in time order', () => {
    const tenant = snapshot(seats(10), {
      'now@c.com': usUser,
      'dec7@c.com': usUser,
      'dec1@c.com': usUser,
      'dec7b@c.com': usUser,
      'today@c.com': usUser,
    });
    const { rows, slots } = planOnboarding(
      validate([
        { row: 1, userPrincipalName: 'now@c.com' },
        { row: 2, userPrincipalName: 'dec7@c.com', startDate: '2026-12-07' },
        { row: 3, userPrincipalName: 'dec1@c.com', startDate: '2026-12-01' },
        { row: 4, userPrincipalName: 'dec7b@c.com', startDate: '2026-12-07T08:00:00Z' },
        { row: 5, userPrincipalName: 'today@c.com', startDate: '2026-11-25' },
        { row: 6, userPrincipalName: 'newhire@c.com', startDate: '2026-11-25' },
        { row: 7, userPrincipalName: 'ghost@c.com' },
        { row: 8, userPrincipalName: 'bad@c.com', startDate: 'soon' },
      ]),
      tenant,
      {},
      now,
    );
    expect(slots).toEqual([now.toISOString(), '2026-11-30T00:00:00.000Z', '2026-12-06T00:00:00.000Z']);
    expect(
      rows.map((r) =>
        r.kind === 'scheduled'
          ? `scheduled:${r.slot}:${r.scheduledFor}`
          : r.kind === 'assign'
            ? 'assign'
            : `${r.kind}:${r.reason}`,
      ),
    ).toEqual([
      'assign',
      'scheduled:2:2026-12-06T00:00:00.000Z',
      'scheduled:1:2026-11-30T00:00:00.000Z',
      'scheduled:2:2026-12-06T00:00:00.000Z',
      'assign',
      `scheduled:0:${now.toISOString()}`,
      'failed:user_not_found',
      'rejected:invalid_start_date',
    ]);
  });

  it('counts seats only for the rows planned now: waiting rows take theirs when their time comes', () => {
    const tenant = snapshot(seats(1), { 'later@c.com': usUser, 'now@c.com': usUser });
    const { rows } = planOnboarding(
      validate([
        { row: 1, userPrincipalName: 'later@c.com', startDate: '2026-12-07' },
        { row: 2, userPrincipalName: 'now@c.com' },
      ]),
      tenant,
      {},
      now,
    );
    expect(rows.map((r) => r.kind)).toEqual(['scheduled', 'assign']);
  });
});

describe('a slot when its time comes', () => {
  const slotAt = new Date('2026-12-06T00:00:00Z');
  const waiting = (rows: InputRow[]): ScheduledRow[] =>
    planOnboarding(validate(rows), snapshot(seats(100), {}), {}, now).rows.filter(
      (r): r is ScheduledRow => r.kind === 'scheduled',
    );
  const rows = waiting([
    { row: 1, userPrincipalName: 'a@c.com', startDate: '2026-12-07' },
    { row: 2, userPrincipalName: 'b@c.com', startDate: '2026-12-07' },
    { row: 3, userPrincipalName: 'c@c.com', startDate: '2026-12-07' },
    { row: 4, userPrincipalName: 'late@c.com', startDate: '2026-12-07' },
  ]);

  it('re-checks seats then, giving them in input order within a due time', () => {
    const tenant = snapshot(seats(2), { 'a@c.com': usUser, 'b@c.com': usUser, 'c@c.com': usUser });
    const r = planSlotRound([...rows].reverse(), tenant, {}, slotAt, 24, { batch: false, rows: [] });
    expect(r.planned.map((p) => `${p.row}:${p.kind === 'assign' ? 'assign' : p.reason}`)).toEqual([
      '1:assign',
      '2:assign',
      '3:insufficient_licenses',
    ]);
    expect(r.stillWaiting.map((w) => w.row)).toEqual([4]);
  });

  it('keeps waiting for a missing account until DIALTONE_ACCOUNT_WAIT_HOURS after the due time, then fails it user_not_found', () => {
    const tenant = snapshot(seats(10), {});
    const justBefore = new Date(slotAt.getTime() + 24 * 3_600_000 - 1);
    expect(
      planSlotRound(rows.slice(3), tenant, {}, justBefore, 24, { batch: false, rows: [] }).stillWaiting,
    ).toHaveLength(1);
    const atEnd = planSlotRound(rows.slice(3), tenant, {}, new Date(slotAt.getTime() + 24 * 3_600_000), 24, {
      batch: false,
      rows: [],
    });
    expect(atEnd.stillWaiting).toEqual([]);
    expect(atEnd.planned[0]).toMatchObject({
      kind: 'failed',
      reason: 'user_not_found',
      message: expect.stringContaining('within 24 hours (DIALTONE_ACCOUNT_WAIT_HOURS)'),
    });
  });

  it('ends cancelled rows cancelled and plans nothing for them', () => {
    const tenant = snapshot(seats(10), { 'a@c.com': usUser, 'b@c.com': usUser, 'c@c.com': usUser });
    const one = planSlotRound(rows, tenant, {}, slotAt, 24, { batch: false, rows: [2] });
    expect(one.cancelled.map((r) => r.row)).toEqual([2]);
    expect(one.planned.map((p) => p.row)).toEqual([1, 3]);
    const all = planSlotRound(rows, tenant, {}, slotAt, 24, { batch: true, rows: [2] });
    expect(all.cancelled.map((r) => r.row)).toEqual([1, 2, 3, 4]);
    expect(all.planned).toEqual([]);
    expect(cancelledOutcome(rows[1]!, { batch: true, rows: [2] })).toMatchObject({
      outcome: 'cancelled',
      reason: '',
      message: expect.stringContaining('the row was cancelled'),
      scheduledFor: '2026-12-06T00:00:00.000Z',
    });
    expect(cancelledOutcome(rows[0]!, { batch: true, rows: [2] }).message).toContain('the batch was cancelled');
  });

  it('looks for missing accounts after 5, 10, 20, then every 30 minutes, never past the wait', () => {
    const until = new Date(slotAt.getTime() + 24 * 3_600_000);
    const min = (m: number) => new Date(slotAt.getTime() + m * 60_000);
    expect(nextAccountCheckAt(slotAt, 0, slotAt, until)).toEqual(min(5));
    expect(nextAccountCheckAt(slotAt, 1, min(5), until)).toEqual(min(15));
    expect(nextAccountCheckAt(slotAt, 2, min(15), until)).toEqual(min(35));
    expect(nextAccountCheckAt(slotAt, 3, min(35), until)).toEqual(min(65));
    expect(nextAccountCheckAt(slotAt, 9, min(24 * 60 - 10), until)).toEqual(until);
    expect(nextAccountCheckAt(slotAt, 9, until, until)).toBeNull();
    let at = slotAt;
    let checks = 0;
    for (
      let next = nextAccountCheckAt(slotAt, 0, at, until);
      next;
      next = nextAccountCheckAt(slotAt, ++checks, at, until)
    )
      at = next;
    expect(checks).toBeLessThanOrEqual(50);
  });
});
