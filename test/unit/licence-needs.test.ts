// Planning by need, not by part number: what a row buys for users who already hold E5, Microsoft 365 E5, Business
// Premium, E3, a "no Teams" suite or nothing, how many seats preflight counts, and what the report says was bought.
import { needsOf, resolveTenantCatalog } from '../../shared/domain/catalog';
import {
  assignmentOf,
  finalReport,
  liveUsers,
  mergeOutcomes,
  type ChunkUserResult,
  type StoredPlan,
} from '../../shared/domain/batch';
import { callbackPayload } from '../../shared/domain/callback';
import type { InputRow } from '../../shared/domain/input';
import {
  planBatch,
  validateRows,
  type AssignmentPlan,
  type PlannedRow,
  type TenantSnapshot,
  type TenantUserState,
} from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { boughtText, reportToCsv } from '../../shared/domain/report';
import { summary } from '../../local/run-summary';
import { skuIdOf, snapshot, subscribed } from '../support/tenant';

let n = 0;
beforeEach(() => (n = 0));
const row = (upn: string, extra: Partial<InputRow> = {}): InputRow => ({
  row: ++n,
  userPrincipalName: upn,
  usageLocation: 'US',
  ...extra,
});
const plan = (rows: InputRow[], tenant: TenantSnapshot): PlannedRow[] =>
  planBatch(validateRows(rows, { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' }), tenant);
const assigned = (p: PlannedRow | undefined): AssignmentPlan => {
  if (p?.kind !== 'assign') throw new Error(`expected an assignment, got ${JSON.stringify(p)}`);
  return p;
};

/** Every SKU a row might buy, and the suites the users hold; seats as given. */
const SEATS = {
  ENTERPRISEPREMIUM: 10,
  SPE_E5: 10,
  SPB: 10,
  ENTERPRISEPACK: 10,
  'Microsoft_365_E3_(no_Teams)': 10,
  Microsoft_Teams_EEA_New: 10,
  MCOEV: 10,
  MCOPSTN1: 10,
};
const HOLDERS = {
  'o365e5@c.com': { skus: ['ENTERPRISEPREMIUM'] },
  'm365e5@c.com': { skus: ['SPE_E5'] },
  'bp@c.com': { skus: ['SPB'] },
  'e3@c.com': { skus: ['ENTERPRISEPACK'] },
  'noteams@c.com': { skus: ['Microsoft_365_E3_(no_Teams)'] },
  'none@c.com': {},
};

describe('what a need is', () => {
  it('reads needs from service plans: a suite, Teams, Phone System and a Calling Plan of its kind', () => {
    expect([...needsOf(['TEAMS1', 'MCOSTANDARD', 'MCOEV'])].sort()).toEqual(['phoneSystem', 'suite', 'teams']);
    expect([...needsOf(['MCOPSTN1'])]).toEqual(['callingPlan:domestic']);
    expect([...needsOf(['MCOPSTN2'])]).toEqual(['callingPlan:international']);
    expect([...needsOf(['MCOPSTN_PAYG_1'])]).toEqual(['callingPlan:payAsYouGo']);
    expect([...needsOf(['EXCHANGE_S_ENTERPRISE'])]).toEqual([]);
  });
});

describe('the phone-domestic profile (ENTERPRISEPACK, MCOEV, MCOPSTN1) for users who hold …', () => {
  const tenant = snapshot(SEATS, HOLDERS);
  const upns = Object.keys(HOLDERS);
  const planned = () =>
    plan(
      upns.map((u) => row(u)),
      tenant,
    ).map(assigned);

  it('buys exactly what each user lacks', () => {
    expect(planned().map((p) => [p.userPrincipalName, p.addedSkus])).toEqual([
      // Office 365 E5 carries Teams, the suite and Phone System: only the Calling Plan is missing.
      ['o365e5@c.com', ['MCOPSTN1']],
      ['m365e5@c.com', ['MCOPSTN1']],
      // Business Premium is a qualifying suite with Teams, without Phone System.
      ['bp@c.com', ['MCOEV', 'MCOPSTN1']],
      ['e3@c.com', ['MCOEV', 'MCOPSTN1']],
      // A "no Teams" suite qualifies: Teams is bought beside it, not a second suite.
      ['noteams@c.com', ['MICROSOFT_TEAMS_EEA_NEW', 'MCOEV', 'MCOPSTN1']],
      ['none@c.com', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']],
    ]);
    expect(planned().map((p) => p.addSkuIds)).toEqual([
      [skuIdOf('MCOPSTN1')],
      [skuIdOf('MCOPSTN1')],
      [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')],
      [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')],
      [skuIdOf('Microsoft_Teams_EEA_New'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')],
      [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')],
    ]);
  });

  it('says which held licence met a need (already_covered), and never for the SKU the user holds itself', () => {
    const [o365e5, m365e5, bp, e3, noTeams, none] = planned();
    expect(o365e5!.advisories).toContain('already_covered');
    expect(o365e5!.note).toBe(
      'ENTERPRISEPACK not bought: already covered by ENTERPRISEPREMIUM; MCOEV not bought: already covered by ENTERPRISEPREMIUM',
    );
    expect(m365e5!.note).toBe(
      'ENTERPRISEPACK not bought: already covered by SPE_E5; MCOEV not bought: already covered by SPE_E5',
    );
    expect(bp!.note).toBe('ENTERPRISEPACK not bought: already covered by SPB');
    expect(e3!.advisories).not.toContain('already_covered');
    expect(noTeams!.advisories).toEqual(expect.arrayContaining(['teams_beside_suite']));
    expect(noTeams!.note).toBe(
      "MICROSOFT_TEAMS_EEA_NEW bought instead of ENTERPRISEPACK: the user's MICROSOFT_365_E3_(NO_TEAMS) has no Teams",
    );
    expect(none!.advisories).not.toContain('already_covered');
  });

  it('counts seats only for what will be bought: E5 users need no Phone System seat', () => {
    // One MCOEV seat, one ENTERPRISEPACK seat: both E5 users, and the first user needing each SKU, go ahead.
    const tight = snapshot({ ...SEATS, ENTERPRISEPACK: 1, MCOEV: 1 }, { ...HOLDERS, 'none2@c.com': {} });
    const rows = plan(
      ['o365e5@c.com', 'm365e5@c.com', 'none@c.com', 'none2@c.com', 'bp@c.com'].map((u) => row(u)),
      tight,
    );
    expect(rows.map((p) => (p.kind === 'assign' ? p.addedSkus : `${p.kind}:${p.reason}`))).toEqual([
      ['MCOPSTN1'],
      ['MCOPSTN1'],
      ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
      'failed:insufficient_licenses',
      'failed:insufficient_licenses',
    ]);
    expect(rows[3]?.kind === 'failed' && rows[3].message).toMatch(/no seats left for ENTERPRISEPACK, MCOEV;/);
    expect(rows[4]?.kind === 'failed' && rows[4].message).toMatch(/no seats left for MCOEV;/);
  });

  it('buys a second suite for a "no Teams" user only when the tenant has no Teams licence to put beside it', () => {
    const { Microsoft_Teams_EEA_New: _, ...withoutTeams } = SEATS;
    const [p] = plan([row('noteams@c.com')], snapshot(withoutTeams, HOLDERS));
    expect(assigned(p).addedSkus).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
  });

  it('fails on the Teams licence, rather than buying a suite, when it has no seat left', () => {
    const [p] = plan([row('noteams@c.com')], snapshot({ ...SEATS, Microsoft_Teams_EEA_New: 0 }, HOLDERS));
    expect(p).toMatchObject({ kind: 'failed', reason: 'insufficient_licenses' });
    expect(p?.kind === 'failed' && p.message).toMatch(/no seats left for MICROSOFT_TEAMS_EEA_NEW;/);
  });
});

describe('a need is met only by plans the user really has on', () => {
  const catalog = resolveTenantCatalog(subscribed(SEATS));
  const id = (part: string) => catalog.byPartNumber(part)!.skuId;
  const MCOEV_PLAN = '4828c8ec-dc2e-4779-b502-87ac9ce28ab7';
  const plan1 = (user: Omit<TenantUserState, 'id' | 'usageLocation'>) => {
    const tenant: TenantSnapshot = {
      catalog,
      users: new Map([['u@c.com', { id: 'id-1', usageLocation: 'US', ...user }]]),
    };
    return assigned(plan([row('u@c.com')], tenant)[0]);
  };

  it('counts an E5 held through a group', () => {
    const p = plan1({
      skuIds: [id('SPE_E5')],
      assignments: [{ skuId: id('SPE_E5'), assignedByGroup: 'g-1', disabledPlanIds: [], state: 'Active', error: null }],
    });
    expect(p.addedSkus).toEqual(['MCOPSTN1']);
  });

  it('does not count Phone System switched off in the E5 the user holds from a group: MCOEV is bought', () => {
    const p = plan1({
      skuIds: [id('SPE_E5')],
      licences: [{ skuId: id('SPE_E5'), disabledPlanIds: [MCOEV_PLAN] }],
      assignments: [
        { skuId: id('SPE_E5'), assignedByGroup: 'g-1', disabledPlanIds: [MCOEV_PLAN], state: 'Active', error: null },
      ],
    });
    expect(p.addedSkus).toEqual(['MCOEV', 'MCOPSTN1']);
  });

  it('does not count an E5 whose only assignment is in the Error state', () => {
    const p = plan1({
      skuIds: [id('SPE_E5')],
      assignments: [
        { skuId: id('SPE_E5'), assignedByGroup: 'g-1', disabledPlanIds: [], state: 'Error', error: 'CountViolation' },
      ],
    });
    expect(p.addedSkus).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
  });

  it('does not count Phone System whose plan is suspended (a lapsed subscription)', () => {
    const p = plan1({ skuIds: [id('SPE_E5')], plans: [{ servicePlanId: MCOEV_PLAN, capabilityStatus: 'Suspended' }] });
    expect(p.addedSkus).toEqual(['MCOEV', 'MCOPSTN1']);
  });

  it('counts a Domestic and International plan as meeting a Domestic one', () => {
    const p = plan1({ skuIds: [id('ENTERPRISEPACK')] });
    expect(p.addedSkus).toEqual(['MCOEV', 'MCOPSTN1']);
    const tenant = snapshot(
      { ...SEATS, MCOPSTN2: 5 },
      { 'u@c.com': { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN2'] } },
    );
    const [q] = plan([row('u@c.com')], tenant);
    expect(assigned(q).addedSkus).toEqual([]);
    expect(assigned(q).note).toBe('MCOPSTN1 not bought: already covered by MCOPSTN2');
  });
});

describe('what the report says was bought', () => {
  const tenant = snapshot(SEATS, HOLDERS);
  const rows = plan(
    Object.keys(HOLDERS).map((u) => row(u)),
    tenant,
  );
  const stored: StoredPlan = {
    batchId: 'b',
    source: 'test',
    startedAt: '2026-12-01T00:00:00Z',
    deadline: '2026-12-02T00:00:00Z',
    rows,
    chunkSize: 10,
  };
  // The assign activity's results: every row licensed, the E5 user's Teams confirmed, the others still waiting.
  const results: ChunkUserResult[] = rows.map((p, i) => ({
    row: p.row,
    outcome: i === 0 ? 'provisioned' : 'assigned',
    reason: '',
    message: '',
    addedSkus: assigned(p).addedSkus!,
    assignedAt: null,
    provisionedAt: null,
  }));

  it('carries addedSkus on every row, JSON and CSV, and counts seats per SKU', () => {
    const report = finalReport(stored, results, '2026-12-01T01:00:00Z');
    expect(report.users.map((u) => u.addedSkus)).toEqual([
      ['MCOPSTN1'],
      ['MCOPSTN1'],
      ['MCOEV', 'MCOPSTN1'],
      ['MCOEV', 'MCOPSTN1'],
      ['MICROSOFT_TEAMS_EEA_NEW', 'MCOEV', 'MCOPSTN1'],
      ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    ]);
    expect(report.bought).toEqual({ MCOPSTN1: 6, MCOEV: 4, MICROSOFT_TEAMS_EEA_NEW: 1, ENTERPRISEPACK: 1 });
    expect(boughtText(report.bought)).toBe(
      'bought 6 × MCOPSTN1, 4 × MCOEV, 1 × MICROSOFT_TEAMS_EEA_NEW, 1 × ENTERPRISEPACK',
    );
    const csv = reportToCsv(report).split('\r\n');
    expect(csv[0]).toContain(',skus,addedSkus,outcome,');
    expect(csv[1]).toContain(',ENTERPRISEPACK+MCOEV+MCOPSTN1,MCOPSTN1,provisioned,');
    expect(report.users[0]!.message).toBe(
      'ENTERPRISEPACK not bought: already covered by ENTERPRISEPREMIUM; MCOEV not bought: already covered by ENTERPRISEPREMIUM',
    );
    expect(summary(report)).toContain(
      'licences: bought 6 × MCOPSTN1, 4 × MCOEV, 1 × MICROSOFT_TEAMS_EEA_NEW, 1 × ENTERPRISEPACK',
    );
    expect(
      callbackPayload(report, {
        integration: 'hr',
        runKey: 'hr/b/r1',
        url: 'https://hr.example/cb',
        statusUrl: 'https://x/status',
      }).bought,
    ).toEqual(report.bought);
  });

  it('gives [] to rows that bought nothing, and keeps what a row bought before Teams refused to be read', () => {
    const failed: ChunkUserResult = {
      row: 1,
      outcome: 'failed',
      reason: 'graph_error',
      message: 'x',
      assignedAt: null,
      provisionedAt: null,
    };
    const forbidden: ChunkUserResult = {
      ...results[1]!,
      outcome: 'failed',
      reason: 'forbidden',
      message: 'licences assigned, but Teams cannot be read',
    };
    const report = finalReport(stored, [failed, forbidden], '2026-12-01T01:00:00Z');
    expect(report.users.map((u) => [u.outcome, u.addedSkus])).toEqual([
      ['failed', []],
      ['failed', ['MCOPSTN1']],
    ]);
    expect(report.bought).toEqual({ MCOPSTN1: 1 });
    const nothing = planBatch(
      validateRows([row('u@c.com')], { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' }),
      snapshot(SEATS, { 'u@c.com': { skus: ['SPE_E5', 'MCOPSTN1'] } }),
    );
    expect(assigned(nothing[0]).addedSkus).toEqual([]);
  });

  it('shows a licensed row that waits for Teams as waiting in the live status, with what it bought', () => {
    const live = liveUsers(stored, mergeOutcomes(stored, results));
    expect(live.map((u) => u.outcome)).toEqual(['provisioned', 'waiting', 'waiting', 'waiting', 'waiting', 'waiting']);
    expect(live[1]!.addedSkus).toEqual(['MCOPSTN1']);
  });

  it("hands a slot-planned row's advice to its chunk, so a row with a start date keeps its advisories", () => {
    const p = assigned(rows[0]);
    expect(assignmentOf(p)).not.toHaveProperty('advice');
    expect(assignmentOf(p, true)).toMatchObject({
      addedSkus: ['MCOPSTN1'],
      advice: { advisories: expect.arrayContaining(['already_covered', 'next_step_phone_number']), note: p.note },
    });
  });
});
