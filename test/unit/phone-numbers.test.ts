import { parseInput, type InputRow, type ParseOutcome } from '../../shared/domain/input';
import {
  CLAIM_HOLD_MINUTES,
  claimHasLapsed,
  isEmergencyLocationId,
  normalisePhoneNumber,
  parseNumberType,
  phoneNumberPolicyFor,
} from '../../shared/domain/phone-numbers';
import { planBatch, validateRows, type PlannedRow } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES, mergeProfiles } from '../../shared/domain/profiles';
import { ConfigError, loadConfig } from '../../shared/adapters/config';
import { ALL_SKUS, snapshot } from '../support/tenant';

const bytes = (s: string) => Buffer.from(s, 'utf8');
function rowsOf(r: ParseOutcome) {
  if (!r.ok) throw new Error(`expected rows, got ${r.error.code}: ${r.error.message}`);
  return r.input.rows;
}
const LOCATION = '93cb8a70-b4af-41df-9928-d07607e21776';

describe('phone numbers in rows', () => {
  it.each([
    ['+14255550100', '+14255550100'],
    ['tel:+14255550100', '+14255550100'],
    ['TEL:+1 425-555-0100', '+14255550100'],
    ['  +44 20 7946 0958 ', '+442079460958'],
    ['+1-425-555-0100', '+14255550100'],
  ])('reads %p as E.164 %p', (raw, e164) => expect(normalisePhoneNumber(raw)).toBe(e164));

  it.each([
    ['no plus', '14255550100'],
    ['country code 0', '+04255550100'],
    ['letters', '+1425555CALL'],
    ['parentheses', '+1 (425) 555-0100'],
    ['16 digits', '+1234567890123456'],
    ['plus alone', '+'],
    ['extension', '+14255550100;ext=12'],
    ['very long', `+1${' '.repeat(10_000)}4255550100`],
  ])('refuses %s', (_name, raw) => expect(normalisePhoneNumber(raw)).toBeUndefined());

  it('reads number types case-insensitively, and emergency locations as GUIDs', () => {
    expect(parseNumberType('CallingPlan')).toBe('callingPlan');
    expect(parseNumberType('direct routing')).toBe('directRouting');
    expect(parseNumberType('operator_connect')).toBe('operatorConnect');
    expect(parseNumberType('mobile')).toBeUndefined();
    expect(isEmergencyLocationId(LOCATION)).toBe(true);
    expect(isEmergencyLocationId('Building 7')).toBe(false);
  });

  it('reads the CSV headers phoneNumber, "Phone number", telephoneNumber, numberType, emergencyLocationId and locationId', () => {
    expect(
      rowsOf(
        parseInput(
          bytes(
            `upn,Phone number,numberType,locationId\na@b.com,tel:+1 425 555 0100,directRouting,${LOCATION}\nc@d.com,,,\n`,
          ),
          'x',
        ),
      ),
    ).toEqual([
      {
        row: 1,
        line: 2,
        userPrincipalName: 'a@b.com',
        phoneNumber: '+14255550100',
        numberType: 'directRouting',
        emergencyLocationId: LOCATION,
      },
      { row: 2, line: 3, userPrincipalName: 'c@d.com' },
    ]);
    expect(
      rowsOf(parseInput(bytes('upn;telephoneNumber;emergency location id\na@b.com;+442079460958;\n'), 'x')),
    ).toEqual([{ row: 1, line: 2, userPrincipalName: 'a@b.com', phoneNumber: '+442079460958' }]);
    expect(rowsOf(parseInput(bytes('upn,phoneNumber\na@b.com,+14255550100\n'), 'x'))[0]?.phoneNumber).toBe(
      '+14255550100',
    );
  });

  it('keeps a number that is not E.164 on its row as invalid_phone_number, naming row and column', () => {
    const [ok, bad] = rowsOf(parseInput(bytes('upn,Phone number\na@b.com,+14255550100\nc@d.com,425-555-0100\n'), 'x'));
    expect(ok?.problem).toBeUndefined();
    expect(bad?.problem).toEqual({
      reason: 'invalid_phone_number',
      field: 'Phone number',
      message: `row 2 (line 3): field Phone number: "425-555-0100" is not an E.164 number ('+', country code and number, up to 15 digits, e.g. "+14255550100")`,
    });
  });

  it('keeps an unknown number type or a location that is not a GUID on its row as invalid_field', () => {
    const [type, location] = rowsOf(
      parseInput(bytes('upn,numberType,locationId\na@b.com,mobile,\nc@d.com,,HQ\n'), 'x'),
    );
    expect(type?.problem).toMatchObject({
      reason: 'invalid_field',
      field: 'numberType',
      message: expect.stringMatching(/^row 1 \(line 2\): field numberType: "mobile" is not a number type/),
    });
    expect(location?.problem).toMatchObject({
      reason: 'invalid_field',
      field: 'locationId',
      message: expect.stringMatching(/^row 2 \(line 3\): field locationId: "HQ" is not an emergency location id/),
    });
  });

  it('reads the JSON fields, and names users[i].field for what is wrong', () => {
    const body = {
      users: [
        {
          userPrincipalName: 'a@b.com',
          phoneNumber: 'tel:+14255550100',
          numberType: 'callingPlan',
          emergencyLocationId: LOCATION,
        },
        { userPrincipalName: 'c@d.com', phoneNumber: '4255550100' },
        { userPrincipalName: 'e@f.com', phoneNumber: 14255550100 },
        { userPrincipalName: 'g@h.com', numberType: 7 },
        { userPrincipalName: 'i@j.com', phoneNumber: null, numberType: null, emergencyLocationId: null },
      ],
    };
    const rows = rowsOf(parseInput(bytes(JSON.stringify(body)), 'body'));
    expect(rows[0]).toEqual({
      row: 1,
      userPrincipalName: 'a@b.com',
      phoneNumber: '+14255550100',
      numberType: 'callingPlan',
      emergencyLocationId: LOCATION,
    });
    expect(rows[1]?.problem).toMatchObject({
      reason: 'invalid_phone_number',
      message: expect.stringMatching(/^row 2 \(users\[1\]\): phoneNumber: "4255550100" is not an E\.164 number/),
    });
    expect(rows[2]?.problem).toMatchObject({
      reason: 'invalid_phone_number',
      message: `row 3 (users[2]): phoneNumber: must be an E.164 number ('+', country code and number, up to 15 digits, e.g. "+14255550100")`,
    });
    expect(rows[3]?.problem).toMatchObject({ reason: 'invalid_field', field: 'numberType' });
    expect(rows[4]).toMatchObject({ row: 5, userPrincipalName: 'i@j.com' });
    expect(rows[4]).not.toHaveProperty('phoneNumber');
    expect(rows[4]).not.toHaveProperty('problem');
  });

  it('rejects such rows before any write, and carries a good number into the request', () => {
    const rows = rowsOf(
      parseInput(
        bytes(
          'upn,phoneNumber,hybrid,numberType\na@b.com,+14255550100,no,\nc@d.com,555,no,\ne@f.com,+14255550101,yes,callingPlan\ng@h.com,+14255550102,yes,\n',
        ),
        'x',
      ),
    );
    const validated = validateRows(rows, { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' });
    expect(validated[0]).toMatchObject({ kind: 'request', request: { phoneNumber: '+14255550100' } });
    expect(validated[1]).toMatchObject({ kind: 'rejected', reason: 'invalid_phone_number' });
    expect(validated[2]).toMatchObject({ kind: 'rejected', reason: 'calling_plan_not_allowed_hybrid' });
    expect(validated[3]).toMatchObject({ kind: 'request', request: { hybrid: true, phoneNumber: '+14255550102' } });
  });
});

describe('phone number policy', () => {
  const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

  it('is row by default, and DIALTONE_PHONE_NUMBERS sets it; anything else is a configuration error', () => {
    expect(loadConfig(base).phoneNumbers).toBe('row');
    expect(loadConfig({ ...base, DIALTONE_PHONE_NUMBERS: 'pool' }).phoneNumbers).toBe('pool');
    expect(loadConfig({ ...base, DIALTONE_PHONE_NUMBERS: 'off' }).phoneNumbers).toBe('off');
    expect(() => loadConfig({ ...base, DIALTONE_PHONE_NUMBERS: 'always' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, DIALTONE_PHONE_NUMBERS: 'always' })).toThrow(
      /DIALTONE_PHONE_NUMBERS: must be row, pool or off/,
    );
  });

  it('lets a profile override it with { skus, phoneNumbers } beside the list form', () => {
    const c = loadConfig({
      ...base,
      DIALTONE_PROFILES:
        '{"sales":{"skus":["standardpack","MCOEV","MCOPSTN1"],"phoneNumbers":"pool"},"plain":["MCOEV"]}',
    });
    expect(c.profiles.get('sales')).toEqual(['STANDARDPACK', 'MCOEV', 'MCOPSTN1']);
    expect([...c.profilePhoneNumbers]).toEqual([['sales', 'pool']]);
    expect(phoneNumberPolicyFor('sales', c.phoneNumbers, c.profilePhoneNumbers)).toBe('pool');
    expect(phoneNumberPolicyFor('plain', c.phoneNumbers, c.profilePhoneNumbers)).toBe('row');
  });

  it('lists every problem of the object form at once', () => {
    expect(
      mergeProfiles({ a: { skus: ['MCOEV'], phoneNumbers: 'sometimes' }, b: { skus: 'MCOEV' }, c: { sku: ['MCOEV'] } })
        .problems,
    ).toEqual([
      'profile "a": "phoneNumbers" must be "row", "pool" or "off"',
      'profile "b": "skus" must be an array of part numbers',
      'profile "c" has unknown keys "sku"; expected "skus" and optionally "phoneNumbers"',
    ]);
  });
});

describe('profile names that are Object members', () => {
  it('rejects a row whose profile is "__proto__" or "constructor" as unknown_profile instead of crashing (found by the pipeline property test)', () => {
    const rows = rowsOf(parseInput(bytes('upn,profile\na@b.com,__proto__\nc@d.com,constructor\n'), 'x'));
    const validated = validateRows(rows, { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' });
    expect(validated.map((v) => v.kind === 'rejected' && v.reason)).toEqual(['unknown_profile', 'unknown_profile']);
  });
});

describe('which rows get a number, and what they wait for', () => {
  const tenant = snapshot(ALL_SKUS, {
    'a@c.com': { usageLocation: 'US' },
    'h@c.com': { usageLocation: 'US' },
    'x@c.com': { usageLocation: 'US' },
    'nl@c.com': {},
  });
  const planned = (
    rows: InputRow[],
    policy: 'row' | 'pool' | 'off',
    byProfile = new Map<string, 'row' | 'pool' | 'off'>(),
  ) =>
    planBatch(validateRows(rows, { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' }), tenant, {
      phoneNumbers: { policy, byProfile },
    });
  const assign = (p: PlannedRow | undefined) => {
    if (p?.kind !== 'assign') throw new Error(`expected an assignment, got ${JSON.stringify(p)}`);
    return p;
  };

  it("assigns a row's own number under row and pool, and none under off; the pool serves only calling plan rows", () => {
    const rows = (): InputRow[] => [
      { row: 1, userPrincipalName: 'a@c.com', phoneNumber: '+14255550100', emergencyLocationId: LOCATION },
      { row: 2, userPrincipalName: 'x@c.com' },
    ];
    const [own, none] = planned(rows(), 'row');
    expect(assign(own).number).toEqual({
      telephoneNumber: '+14255550100',
      numberType: 'callingPlan',
      isoCountryCode: null,
      locationId: LOCATION,
    });
    expect(assign(none).number).toBeUndefined();
    expect(assign(none).advisories).toContain('next_step_phone_number');
    const [, pooled] = planned(rows(), 'pool');
    expect(assign(pooled)).toMatchObject({
      pollTeams: true,
      number: { numberType: 'callingPlan', isoCountryCode: 'US' },
    });
    expect(assign(pooled).advisories).not.toContain('next_step_phone_number');
    expect(planned(rows(), 'off').map((p) => assign(p).number)).toEqual([undefined, undefined]);
    const [, conferencing] = planned(
      [rows()[0]!, { row: 2, userPrincipalName: 'x@c.com', profile: 'audio-conferencing' }],
      'pool',
    );
    expect(assign(conferencing)).toMatchObject({ pollTeams: false });
    expect(assign(conferencing).number).toBeUndefined();
  });

  it('lets a profile set its own policy over the configured one', () => {
    const [p] = planned(
      [{ row: 1, userPrincipalName: 'x@c.com', profile: 'phone-international' }],
      'off',
      new Map([['phone-international', 'pool' as const]]),
    );
    expect(assign(p).number).toMatchObject({ isoCountryCode: 'US' });
  });

  it('gives a hybrid row its own Direct Routing number after Phone System shows, and never a pool number', () => {
    const [own, pooled] = planned(
      [
        {
          row: 1,
          userPrincipalName: 'h@c.com',
          profile: 'phone-system-only',
          onPremisesPstn: true,
          phoneNumber: '+14255550150',
        },
        { row: 2, userPrincipalName: 'x@c.com', profile: 'phone-system-only', onPremisesPstn: true },
      ],
      'pool',
    );
    expect(assign(own)).toMatchObject({
      pollTeams: true,
      waitFor: 'PhoneSystem',
      number: { telephoneNumber: '+14255550150', numberType: 'directRouting' },
    });
    expect(assign(pooled)).toMatchObject({ pollTeams: false });
    expect(assign(pooled).number).toBeUndefined();
  });

  it('rejects a calling plan number for a row and user without a calling plan, before any write', () => {
    const [p] = planned(
      [
        {
          row: 1,
          userPrincipalName: 'x@c.com',
          profile: 'phone-system-only',
          phoneNumber: '+14255550100',
          numberType: 'callingPlan',
        },
      ],
      'row',
    );
    expect(p).toMatchObject({
      kind: 'rejected',
      reason: 'missing_prerequisite',
      message: expect.stringContaining('a callingPlan number needs a Calling Plan'),
    });
  });

  it('lets a claim lapse only after CLAIM_HOLD_MINUTES, and treats an unreadable one as lapsed', () => {
    const at = new Date('2026-11-25T12:00:00Z');
    expect(claimHasLapsed({ owner: 'r#1', claimedAt: '2026-11-25T11:01:00Z' }, at)).toBe(false);
    expect(
      claimHasLapsed(
        { owner: 'r#1', claimedAt: new Date(at.getTime() - CLAIM_HOLD_MINUTES * 60_000).toISOString() },
        at,
      ),
    ).toBe(true);
    expect(claimHasLapsed({ owner: '', claimedAt: '' }, at)).toBe(true);
  });
});

describe("the Microsoft 365 admin center's user export", () => {
  it('ignores its "Phone number" column (business numbers, not Teams numbers) with an advisory, so no row is rejected for it', () => {
    const header =
      'Display name,First name,Last name,Licenses,Mobile Phone,Object Id,Phone number,Usage location,User principal name';
    const r = parseInput(
      bytes(
        `${header}\nAdele Vance,Adele,Vance,contoso:ENTERPRISEPACK,,id1,(425) 555-0109,US,adelev@contoso.com\nAlex,Alex,W,,,id2,+1 425 555 0110,US,alexw@contoso.com\n`,
      ),
      'export.csv',
    );
    expect(r.ok && r.input.advisories).toEqual(['admin_export_phone_numbers_ignored']);
    expect(rowsOf(r).map((x) => [x.phoneNumber, x.problem])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('still reads a "telephoneNumber" column added to that export', () => {
    const header = 'Licenses,Mobile Phone,Object Id,Phone number,User principal name,telephoneNumber';
    const r = parseInput(bytes(`${header}\n,,id1,(425) 555-0109,adelev@contoso.com,+14255550100\n`), 'export.csv');
    expect(rowsOf(r)[0]!.phoneNumber).toBe('+14255550100');
  });

  it('reads "Phone number" in any other file as a Teams number to assign', () => {
    const r = parseInput(bytes('User principal name,Phone number\nadelev@contoso.com,+1 425 555 0109\n'), 'hires.csv');
    expect(r.ok && r.input.advisories).toEqual([]);
    expect(rowsOf(r)[0]!.phoneNumber).toBe('+14255550109');
  });
});
