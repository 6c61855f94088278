// Holds the simulator's Graph responses to Graph's own schema: the cut of the v1.0 CSDL in
// test/fixtures/graph-schema (its README says where it came from). The real adapter makes the requests the app makes
// (its $select, $batch, the Teams list sweep, the number calls) over HTTPS, a few raw requests add the forms without
// $select, and every body the simulator answers is checked property by property: declared on its type, of the
// declared primitive type and format, enum values members, collections arrays, no null where Nullable="false".
import { Agent, fetch } from 'undici';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator, RequestKind } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import type { GraphResult } from '../../shared/domain/directory';
import { appToken, simulatorWithAdapter } from '../support/graph';
import { actionKey, graphSchema, parseCsdl, requestProblems, schemaProblems } from '../support/graph-schema';
import { skuIdOf, tenantSkus } from '../support/tenant';

const G = 'microsoft.graph';
const T = 'microsoft.graph.teamsAdministration';
const schema = graphSchema();

/**
 * The type of each kind of answer's entities and where they sit in the body: a collection in `value`, a single
 * entity at the top, or (for the Teams reads) a single entity wrapped in `value`, as Microsoft's pages document the
 * v1.0 responses (teamsadministration-teamsuserconfiguration-get.md,
 * teamsadministration-telephonenumberlongrunningoperation-get.md). null: the answer has no body (204, 202).
 */
const ANSWERS: Record<
  Exclude<RequestKind, 'other' | 'batch'>,
  { type: string; at: 'value[]' | 'entity' | 'value' } | null
> = {
  subscribedSkus: { type: `${G}.subscribedSku`, at: 'value[]' },
  getUser: { type: `${G}.user`, at: 'entity' },
  assignLicense: { type: `${G}.user`, at: 'entity' },
  patchUser: null,
  teamsUserConfiguration: { type: `${T}.teamsUserConfiguration`, at: 'value' },
  teamsUserConfigurationList: { type: `${T}.teamsUserConfiguration`, at: 'value[]' },
  listNumbers: { type: `${T}.numberAssignment`, at: 'value[]' },
  numberOperation: { type: `${T}.telephoneNumberLongRunningOperation`, at: 'value' },
  assignNumber: null,
  unassignNumber: null,
  updateNumber: null,
};

/**
 * The bound action each kind of write invokes, [action, binding type], whose parameters its request body is held to:
 * user-assignlicense.md and the numberAssignment actions (assignnumber.md, unassignnumber.md, updatenumber.md).
 */
const NUMBERS_BINDING = `Collection(${T}.numberAssignment)`;
const ACTIONS: Partial<Record<RequestKind, string>> = {
  assignLicense: actionKey(`${G}.assignLicense`, `${G}.user`),
  assignNumber: actionKey(`${T}.assignNumber`, NUMBERS_BINDING),
  unassignNumber: actionKey(`${T}.unassignNumber`, NUMBERS_BINDING),
  updateNumber: actionKey(`${T}.updateNumber`, NUMBERS_BINDING),
};

/** Every problem of one answer's body: the envelope carries only `value` and OData annotations, then each entity. */
function answerProblems(kind: RequestKind, url: string, body: unknown): string[] {
  const where = `${kind} ${url}`;
  // $batch items are answered one by one (each seen here); the envelope is not in the CSDL.
  if (kind === 'other' || kind === 'batch') return [`${where}: not a route the schema test knows`];
  const shape = ANSWERS[kind];
  if (shape === null) return body === undefined ? [] : [`${where}: a body where Graph sends none`];
  if (typeof body !== 'object' || body === null) return [`${where}: no JSON object`];
  if (shape.at === 'entity') return schemaProblems(schema, shape.type, body, where);
  const extra = Object.keys(body).filter((k) => k !== 'value' && !k.startsWith('@odata.'));
  const problems = extra.map((k) => `${where}: '${k}' beside value in the envelope`);
  const value = (body as { value?: unknown }).value;
  if (shape.at === 'value') return [...problems, ...schemaProblems(schema, shape.type, value, `${where} value`)];
  if (!Array.isArray(value)) return [...problems, `${where}: value is not an array`];
  return [...problems, ...value.flatMap((e, i) => schemaProblems(schema, shape.type, e, `${where} value[${i}]`))];
}

const LOCATION = '93cb8a70-b4af-41df-9928-d07607e21776';
const tenant: TenantFile = {
  skus: [
    ...tenantSkus({ ENTERPRISEPACK: 10, ENTERPRISEPREMIUM: 10, MCOEV: 10 }),
    { skuPartNumber: 'MCOPSTN1', prepaidUnits: { enabled: 10, suspended: 2 }, capabilityStatus: 'Warning' },
  ],
  users: [
    // Provisioned in Teams at once, so a number can be assigned to it.
    { userPrincipalName: 'adele@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 },
    { userPrincipalName: 'nolocation@contoso.com', usageLocation: null },
    { userPrincipalName: 'guest_ext@contoso.com', usageLocation: 'US', userType: 'Guest' },
    {
      userPrincipalName: 'e5off@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV', 'MCOSTANDARD'] }],
    },
    {
      userPrincipalName: 'e5error@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', viaGroup: 'Sales licences', state: 'Error', error: 'CountViolation' }],
    },
    {
      userPrincipalName: 'held@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
  ],
  numbers: [
    { telephoneNumber: '+12060000001', numberType: 'callingPlan', isoCountryCode: 'US' },
    { telephoneNumber: '+12060000002', numberType: 'callingPlan', isoCountryCode: 'US' },
    { telephoneNumber: '+14255550100', numberType: 'directRouting', isoCountryCode: null },
    {
      telephoneNumber: '+12060000009',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'held@contoso.com',
    },
    {
      telephoneNumber: '+16135550100',
      numberType: 'callingPlan',
      isoCountryCode: 'CA',
      capabilities: ['conferenceAssignment'],
    },
  ],
};
const UPNS = tenant.users.map((u) => u.userPrincipalName);

function value<T>(r: GraphResult<T> | undefined): T {
  if (!r?.ok) throw new Error(`expected a value, got ${JSON.stringify(r)}`);
  return r.value;
}

describe("the simulator's responses against Graph's v1.0 CSDL", () => {
  let sim: GraphSimulator;
  let graph: GraphLicensingDirectory;
  const answers: { kind: RequestKind; url: string; status: number; body: unknown; request: unknown }[] = [];

  beforeAll(async () => {
    const clock = new SkipAheadClock();
    ({ sim, graph } = await simulatorWithAdapter(
      { tenant, clock, onAnswer: (a) => answers.push(a) },
      { sleep: async (ms) => clock.skipTo(clock.now() + ms), writesPerSecond: 100_000 },
    ));
  });
  afterAll(() => sim.close());

  async function raw(method: string, path: string): Promise<void> {
    const agent = new Agent({ connect: { ca: sim.caPem } });
    try {
      const res = await fetch(`${sim.url}/v1.0${path}`, {
        method,
        dispatcher: agent,
        headers: { authorization: `Bearer ${await appToken(sim)}` },
      });
      await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
    } finally {
      await agent.close();
    }
  }

  it("answers every request the app makes with properties Graph's schema declares, and sends the actions' declared parameters", async () => {
    // The app's own requests, through the real adapter.
    value(await graph.listSubscribedSkus());
    const users = await graph.readUsers(UPNS);
    const id = (upn: string) => value(users.get(upn)).id;
    value(await graph.setUsageLocation(id('nolocation@contoso.com'), 'US'));
    value(
      await graph.assignLicenses(id('adele@contoso.com'), [
        skuIdOf('ENTERPRISEPACK'),
        skuIdOf('MCOEV'),
        skuIdOf('MCOPSTN1'),
      ]),
    );
    await graph.readTeamsFeatures(UPNS.map(id));
    value(await graph.listTeamsFeatures({ top: 2, maxPages: 10 }));
    await graph.readHeldNumbers(UPNS.map(id));
    value(await graph.listFreeNumbers('callingPlan', 'US', 10));
    value(await graph.findNumber('+16135550100'));
    const order = value(
      await graph.assignNumber({
        telephoneNumber: '+12060000001',
        userId: id('adele@contoso.com'),
        numberType: 'callingPlan',
        locationId: LOCATION,
      }),
    );
    value(await graph.readNumberOrder(order.operationId));
    value(await graph.setEmergencyLocation('+12060000001', LOCATION));
    await graph.readTeamsFeatures([id('adele@contoso.com')]);
    // A failed order too (a conference-only number), whose operation carries a status detail.
    await graph.assignNumber({
      telephoneNumber: '+16135550100',
      userId: id('held@contoso.com'),
      numberType: 'callingPlan',
    });
    // A leaver's requests: a number given back (its operation followed) and a licence removed.
    const released = value(
      await graph.unassignNumber({ telephoneNumber: '+12060000009', userId: id('held@contoso.com') }),
    );
    expect(released.outcome).toBe('released');
    value(await graph.removeLicenses(id('held@contoso.com'), [skuIdOf('MCOPSTN1')]));
    value(
      await graph.changeLicenses(id('held@contoso.com'), {
        add: [skuIdOf('ENTERPRISEPREMIUM')],
        remove: [skuIdOf('ENTERPRISEPACK')],
      }),
    );
    // The forms without $select, which return each type's default or full set of properties.
    await raw('GET', `/users/${encodeURIComponent('e5off@contoso.com')}`);
    await raw('GET', '/admin/teams/userConfigurations');
    await raw('GET', '/admin/teams/telephoneNumberManagement/numberAssignments');

    const ok = answers.filter((a) => a.status < 300);
    // Each kind of answer was seen, so none goes unchecked because nothing asked for it.
    const seen = new Set(ok.map((a) => a.kind));
    expect(Object.keys(ANSWERS).filter((k) => !seen.has(k as RequestKind))).toEqual([]);
    // And the answers held the values worth checking: a number held, a group's failed licence, a failed order.
    const bodies = (kind: RequestKind) => ok.filter((a) => a.kind === kind).map((a) => JSON.stringify(a.body));
    expect(bodies('teamsUserConfiguration').some((b) => b.includes('"telephoneNumbers":[{'))).toBe(true);
    expect(
      bodies('getUser').some((b) =>
        /"assignedByGroup":"[0-9a-f-]{36}","disabledPlans":\[\],"error":"CountViolation"/.test(b),
      ),
    ).toBe(true);
    expect(bodies('numberOperation').some((b) => b.includes('"status":"failed"'))).toBe(true);
    expect(ok.flatMap((a) => answerProblems(a.kind, a.url, a.body))).toEqual([]);

    // And the bodies the adapter sent, each action's at least once (a removal and a swap among them), hold to the
    // parameters Graph's schema declares for the action, of the declared types.
    const sent = answers.filter((a) => a.status < 300 && ACTIONS[a.kind] !== undefined);
    expect([...new Set(sent.map((a) => a.kind))].sort()).toEqual(Object.keys(ACTIONS).sort());
    expect(sent.some((a) => JSON.stringify(a.request).includes('"removeLicenses":["'))).toBe(true);
    expect(sent.flatMap((a) => requestProblems(schema, ACTIONS[a.kind]!, a.request))).toEqual([]);
  });
});

describe('the schema checker', () => {
  const user = `${G}.user`;
  it('finds undeclared properties, wrong primitive types and formats, and non-members of an enum', () => {
    expect(
      schemaProblems(schema, user, {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
        id: 'x',
        userPrincipalName: 7,
        nickname: 'a',
        assignedLicenses: [{ skuId: 'not-a-guid', disabledPlans: [] }],
        assignedPlans: [{ assignedDateTime: '2026-11-02 09:00', capabilityStatus: 'Enabled' }],
      }),
    ).toEqual([
      `${user}.userPrincipalName: 7 is not a string`,
      `${user}.nickname: not a property of ${user} or its base types`,
      `${user}.assignedLicenses[0].skuId: "not-a-guid" is not a GUID string`,
      `${user}.assignedPlans[0].assignedDateTime: "2026-11-02 09:00" is not an ISO 8601 date-time with an offset`,
    ]);
    expect(
      schemaProblems(schema, `${T}.numberAssignment`, { numberType: 'CallingPlan', activationState: 'on' }),
    ).toEqual([
      `${T}.numberAssignment.numberType: 'CallingPlan' is not a member of ${T}.numberType`,
      `${T}.numberAssignment.activationState: 'on' is not a member of ${T}.activationState`,
    ]);
    expect(
      schemaProblems(schema, `${G}.subscribedSku`, { consumedUnits: 1.5, prepaidUnits: { enabled: '3' } }),
    ).toEqual([
      `${G}.subscribedSku.consumedUnits: 1.5 is not an Int32`,
      `${G}.subscribedSku.prepaidUnits.enabled: "3" is not an Int32`,
    ]);
  });

  it('finds a null where the schema says Nullable="false", and a collection that is not an array', () => {
    expect(schemaProblems(schema, user, { id: null, businessPhones: null, displayName: null })).toEqual([
      `${user}.id: null, but the property is Nullable="false"`,
      `${user}.businessPhones: null is not an array`,
    ]);
    expect(
      schemaProblems(schema, `${T}.teamsUserConfiguration`, {
        featureTypes: 'Teams',
        isEnterpriseVoiceEnabled: 'true',
      }),
    ).toEqual([
      `${T}.teamsUserConfiguration.featureTypes: "Teams" is not an array`,
      `${T}.teamsUserConfiguration.isEnterpriseVoiceEnabled: "true" is not a boolean`,
    ]);
  });

  it("finds a request body's unknown parameters, wrong types, and missing parameters Graph's schema requires", () => {
    const assign = actionKey(`${G}.assignLicense`, `${G}.user`);
    expect(requestProblems(schema, assign, { addLicenses: [{ skuId: 'x' }], remove: [] })).toEqual([
      `${assign}.addLicenses[0].skuId: "x" is not a GUID string`,
      `${assign}.remove: not a property of ${assign} or its base types`,
      `${assign}.removeLicenses: missing, but the parameter is Nullable="false"`,
    ]);
    const unassign = actionKey(`${T}.unassignNumber`, NUMBERS_BINDING);
    expect(requestProblems(schema, unassign, { telephoneNumber: '+12065550100', numberType: 'CallingPlan' })).toEqual([
      `${unassign}.numberType: 'CallingPlan' is not a member of ${T}.numberType`,
    ]);
    expect(requestProblems(schema, actionKey(`${T}.unassignNumber`, `${T}.numberAssignment`), {})).toEqual([
      `${T}.unassignNumber(${T}.numberAssignment): not an action in the schema`,
    ]);
  });

  it('reads flags enums as comma-joined member names, as Graph writes them', () => {
    const flags = parseCsdl(
      '<Schema Namespace="n" xmlns="http://docs.oasis-open.org/odata/ns/edm"><EnumType Name="f" IsFlags="true"><Member Name="a" Value="1" /><Member Name="b" Value="2" /></EnumType></Schema>',
    );
    expect(schemaProblems(flags, 'n.f', 'a,b')).toEqual([]);
    expect(schemaProblems(flags, 'n.f', 'a,c')).toEqual([`n.f: 'c' is not a member of n.f`]);
  });
});
