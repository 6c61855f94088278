// What `dialtone run` shows and returns, and when `dialtone` rebuilds: the pieces without the stack.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveCounts, recheckOutlook, type StoredPlan } from '../../shared/domain/batch';
import type { UserOutcome } from '../../shared/domain/outcomes';
import { exitCodeFor, hostTimeText, progressLine, summary } from '../../local/run-summary';
import { buildReport } from '../../shared/domain/report';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { needsBuild } = require('../../bin/stale-build') as { needsBuild: (root: string, built: string) => boolean };

const counts = (c: Partial<Record<string, number>>) => ({
  total: 17,
  provisioned: 0,
  assigned: 0,
  released: 0,
  flagged: 0,
  failed: 0,
  rejected: 0,
  cancelled: 0,
  ...c,
});
const user = (row: number, outcome: UserOutcome['outcome']): UserOutcome => ({
  row,
  userPrincipalName: `u${row}@c.com`,
  profile: 'p',
  skus: [],
  outcome,
  reason: '',
  message: '',
  advisories: [],
  assignedAt: null,
  provisionedAt: null,
  phoneNumber: null,
});

describe('dialtone run output', () => {
  it('counts users waiting for Teams apart from assigned while the batch runs', () => {
    const assign = (row: number, pollTeams: boolean) => ({
      kind: 'assign' as const,
      row,
      userPrincipalName: `u${row}@c.com`,
      profile: 'p',
      skus: [],
      userId: `id${row}`,
      addSkuIds: [],
      setUsageLocation: null,
      enable: [],
      pollTeams,
      advisories: [],
    });
    const plan: StoredPlan = {
      batchId: 'b',
      source: 'x',
      startedAt: '',
      deadline: '',
      chunkSize: 10,
      rows: [assign(1, true), assign(2, true), assign(3, false), assign(4, true)],
    };
    expect(liveCounts(plan, [user(1, 'assigned'), user(2, 'provisioned'), user(3, 'assigned')])).toEqual({
      total: 4,
      provisioned: 1,
      assigned: 1,
      released: 0,
      flagged: 0,
      failed: 0,
      rejected: 0,
      cancelled: 0,
      pending: 1,
      waiting: 1,
    });
  });

  it('tells a recheck who waits for Teams now and who may still come to wait', () => {
    const assign = (row: number, pollTeams: boolean) => ({
      kind: 'assign' as const,
      row,
      userPrincipalName: `u${row}@c.com`,
      profile: 'p',
      skus: [],
      userId: `id${row}`,
      addSkuIds: [],
      setUsageLocation: null,
      enable: [],
      pollTeams,
      advisories: [],
    });
    const scheduled = {
      kind: 'scheduled' as const,
      row: 5,
      userPrincipalName: 'u5@c.com',
      profile: 'p',
      skus: [],
      scheduledFor: '2026-12-10T00:00:00.000Z',
      slot: 0,
    };
    const plan = {
      batchId: 'b',
      source: 'x',
      startedAt: '',
      deadline: '',
      chunkSize: 10,
      rows: [assign(1, true), assign(2, true), assign(3, false), assign(4, true), scheduled],
    } as unknown as StoredPlan;
    // 1 waits; 4 (to be polled) and the scheduled row 5 may still come to wait; 3 is never polled; 2 is done.
    expect(recheckOutlook(plan, [user(1, 'assigned'), user(2, 'provisioned')])).toEqual({ waiting: 1, coming: 2 });
    expect(
      recheckOutlook(plan, [user(1, 'provisioned'), user(2, 'provisioned'), user(4, 'flagged'), user(5, 'cancelled')]),
    ).toEqual({ waiting: 0, coming: 0 });
  });

  it("says the host's time and how far it runs ahead of the wall clock", () => {
    const wall = Date.parse('2026-12-06T10:00:00Z');
    expect(hostTimeText(wall + 20_000, wall)).toBe('2026-12-06 10:00 UTC (the wall clock)');
    expect(hostTimeText(wall + 9 * 86_400_000 + 3 * 3_600_000, wall)).toBe('2026-12-15 13:00 UTC (+9 d 3 h)');
    expect(hostTimeText(wall + 90 * 60_000, wall)).toBe('2026-12-06 11:30 UTC (+1 h 30 min)');
    expect(hostTimeText(wall + 5 * 60_000, wall)).toBe('2026-12-06 10:05 UTC (+5 min)');
  });

  it.each([20, 40, 60, 80, 120, 200])(
    'keeps the progress line within a terminal %i columns wide, waiting for Teams named',
    (width) => {
      const line = progressLine(
        { ...counts({ provisioned: 2, assigned: 3, failed: 3, rejected: 7 }), pending: 0, waiting: 2 },
        false,
        '12h05m simulated',
        width,
      );
      expect(line.length).toBeLessThan(width);
      expect(line).toMatch(/15\/17 settled/);
      if (width >= 80) expect(line).toMatch(/waiting for Teams 2 · provisioned 2 · assigned 3/);
    },
  );

  it('exits 0 when every row is provisioned or assigned, 3 when some need a person', () => {
    expect(exitCodeFor({ counts: counts({ total: 2, provisioned: 1, assigned: 1 }) })).toBe(0);
    for (const o of ['failed', 'flagged', 'rejected', 'cancelled'])
      expect(exitCodeFor({ counts: counts({ total: 2, provisioned: 1, [o]: 1 }) })).toBe(3);
  });

  it('lists the rows that need a person, each with what to do for its reason, up to 20, then how many more', () => {
    const why = (row: number, outcome: UserOutcome['outcome'], reason: UserOutcome['reason']): UserOutcome => ({
      ...user(row, outcome),
      reason,
      line: row + 1,
    });
    const few = summary(
      buildReport({
        batchId: 'b',
        source: 'x',
        startedAt: '',
        finishedAt: '',
        deadline: '',
        users: [
          why(1, 'failed', 'guest_account'),
          user(2, 'provisioned'),
          why(3, 'rejected', 'duplicate'),
          why(4, 'flagged', 'no_free_number'),
          user(5, 'cancelled'),
        ],
      }),
    );
    expect(few).toContain(
      [
        'rows that need a person',
        "  row 1 (line 2) u1@c.com: failed/guest_account → guests are never licensed: licence the person in their own organisation, or send their member account's UPN",
        '  row 3 (line 4) u3@c.com: rejected/duplicate → the UPN appears earlier in the file; remove the later row',
        "  row 4 (line 5) u4@c.com: flagged/no_free_number → the pool has no free number of that type in the user's country: get more numbers (Teams admin center, Voice > Phone numbers), then assign one or send the row again",
        '  row 5 u5@c.com: cancelled → nothing; send the row again if the hire comes after all',
      ].join('\n'),
    );
    const many = summary(
      buildReport({
        batchId: 'b',
        source: 'x',
        startedAt: '',
        finishedAt: '',
        deadline: '',
        users: Array.from({ length: 23 }, (_, i) => why(i + 1, 'failed', 'user_not_found')),
      }),
    );
    expect(many.match(/^ {2}row \d+/gm)).toHaveLength(20);
    expect(many).toMatch(
      / {2}row 20 \(line 21\) u20@c\.com: failed\/user_not_found → create the account, or correct the UPN, then send the row again\n {2}and 3 more: see report\.csv$/,
    );
  });

  it('explains each outcome present and what to do next', () => {
    const text = summary(
      buildReport({
        batchId: 'b',
        source: 'x',
        startedAt: '',
        finishedAt: '',
        deadline: '',
        users: [user(1, 'flagged'), user(2, 'provisioned')],
      }),
    );
    expect(text).toMatch(
      /flagged\s+licences assigned, but Teams showed no calling plan by the deadline, or the phone number could not be assigned\n\s+→ see the row's reason and message; for no_calling_plan, check the user in the Teams admin center/,
    );
    expect(text).not.toMatch(/rejected\s+the row itself/);
    expect(text).not.toMatch(/no_free_number →/);
  });

  it('says what to do about each phone number reason present, and how many users hold a number', () => {
    const numbered = { ...user(2, 'provisioned'), phoneNumber: '+14255550100' };
    const noNumber = { ...user(1, 'flagged'), reason: 'no_free_number' as const };
    const text = summary(
      buildReport({
        batchId: 'b',
        source: 'x',
        startedAt: '',
        finishedAt: '',
        deadline: '',
        users: [noNumber, numbered],
      }),
    );
    expect(text).toMatch(
      /no_free_number → the pool has no free number of that type in the user's country: get more numbers/,
    );
    expect(text).not.toMatch(/number_in_use →/);
    expect(text).toContain('1 user(s) hold a Teams phone number now');
  });
});

describe('dialtone rebuilds a stale build', () => {
  const root = mkdtempSync(join(tmpdir(), 'dialtone-stale-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds when dist-dev is missing or older than any source, and not otherwise', () => {
    mkdirSync(join(root, 'shared', 'domain'), { recursive: true });
    mkdirSync(join(root, 'dist-dev', 'local'), { recursive: true });
    const source = join(root, 'shared', 'domain', 'input.ts');
    const built = join(root, 'dist-dev', 'local', 'cli.js');
    writeFileSync(source, '');
    expect(needsBuild(root, built)).toBe(true);
    writeFileSync(built, '');
    utimesSync(source, new Date('2026-01-01'), new Date('2026-01-01'));
    utimesSync(built, new Date('2026-01-02'), new Date('2026-01-02'));
    expect(needsBuild(root, built)).toBe(false);
    utimesSync(source, new Date('2026-01-03'), new Date('2026-01-03'));
    expect(needsBuild(root, built)).toBe(true);
  });
});
