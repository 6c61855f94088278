import { parseInput, type ParseOutcome } from '../../shared/domain/input';
import { isEmergencyLocationId, normalisePhoneNumber, parseNumberType, phoneNumberPolicyFor } from '../../shared/domain/phone-numbers';
import { validateRows } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES, mergeProfiles } from '../../shared/domain/profiles';
import { ConfigError, loadConfig } from '../../shared/adapters/config';

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
    expect(rowsOf(parseInput(bytes(`upn,Phone number,numberType,locationId\na@b.com,tel:+1 425 555 0100,directRouting,${LOCATION}\nc@d.com,,,\n`), 'x'))).toEqual([
      { row: 1, line: 2, userPrincipalName: 'a@b.com', phoneNumber: '+14255550100', numberType: 'directRouting', emergencyLocationId: LOCATION },
      { row: 2, line: 3, userPrincipalName: 'c@d.com' },
    ]);
    expect(rowsOf(parseInput(bytes('upn;telephoneNumber;emergency location id\na@b.com;+442079460958;\n'), 'x'))).toEqual([{ row: 1, line: 2, userPrincipalName: 'a@b.com', phoneNumber: '+442079460958' }]);
    expect(rowsOf(parseInput(bytes('upn,phoneNumber\na@b.com,+14255550100\n'), 'x'))[0]?.phoneNumber).toBe('+14255550100');
  });

  it('keeps a number that is not E.164 on its row as invalid_phone_number, naming row and column', () => {
    const [ok, bad] = rowsOf(parseInput(bytes('upn,Phone number\na@b.com,+14255550100\nc@d.com,425-555-0100\n'), 'x'));
    expect(ok?.problem).toBeUndefined();
    expect(bad?.problem).toEqual({ reason: 'invalid_phone_number', field: 'Phone number', message: `row 2 (line 3): field Phone number: "425-555-0100" is not an E.164 number ('+', country code and number, up to 15 digits, e.g. "+14255550100")` });
  });

  it('keeps an unknown number type or a location that is not a GUID on its row as invalid_field', () => {
    const [type, location] = rowsOf(parseInput(bytes('upn,numberType,locationId\na@b.com,mobile,\nc@d.com,,HQ\n'), 'x'));
    expect(type?.problem).toMatchObject({ reason: 'invalid_field', field: 'numberType', message: expect.stringMatching(/^row 1 \(line 2\): field numberType: "mobile" is not a number type/) });
    expect(location?.problem).toMatchObject({ reason: 'invalid_field', field: 'locationId', message: expect.stringMatching(/^row 2 \(line 3\): field locationId: "HQ" is not an emergency location id/) });
  });

  it('reads the JSON fields, and names users[i].field for what is wrong', () => {
    const body = {
      users: [
        { userPrincipalName: 'a@b.com', phoneNumber: 'tel:+14255550100', numberType: 'callingPlan', emergencyLocationId: LOCATION },
        { userPrincipalName: 'c@d.com', phoneNumber: '4255550100' },
        { userPrincipalName: 'e@f.com', phoneNumber: 14255550100 },
        { userPrincipalName: 'g@h.com', numberType: 7 },
        { userPrincipalName: 'i@j.com', phoneNumber: null, numberType: null, emergencyLocationId: null },
      ],
    };
    const rows = rowsOf(parseInput(bytes(JSON.stringify(body)), 'body'));
    expect(rows[0]).toEqual({ row: 1, userPrincipalName: 'a@b.com', phoneNumber: '+14255550100', numberType: 'callingPlan', emergencyLocationId: LOCATION });
    expect(rows[1]?.problem).toMatchObject({ reason: 'invalid_phone_number', message: expect.stringMatching(/^row 2 \(users\[1\]\): phoneNumber: "4255550100" is not an E\.164 number/) });
    expect(rows[2]?.problem).toMatchObject({ reason: 'invalid_phone_number', message: `row 3 (users[2]): phoneNumber: must be an E.164 number ('+', country code and number, up to 15 digits, e.g. "+14255550100")` });
    expect(rows[3]?.problem).toMatchObject({ reason: 'invalid_field', field: 'numberType' });
    expect(rows[4]).toMatchObject({ row: 5, userPrincipalName: 'i@j.com' });
    expect(rows[4]).not.toHaveProperty('phoneNumber');
    expect(rows[4]).not.toHaveProperty('problem');
  });

  it('rejects such rows before any write, and carries a good number into the request', () => {
    const rows = rowsOf(parseInput(bytes('upn,phoneNumber,hybrid,numberType\na@b.com,+14255550100,no,\nc@d.com,555,no,\ne@f.com,+14255550101,yes,callingPlan\ng@h.com,+14255550102,yes,\n'), 'x'));
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
    expect(() => loadConfig({ ...base, DIALTONE_PHONE_NUMBERS: 'always' })).toThrow(/DIALTONE_PHONE_NUMBERS: must be row, pool or off/);
  });

  it('lets a profile override it with { skus, phoneNumbers } beside the list form', () => {
    const c = loadConfig({ ...base, DIALTONE_PROFILES: '{"sales":{"skus":["standardpack","MCOEV","MCOPSTN1"],"phoneNumbers":"pool"},"plain":["MCOEV"]}' });
    expect(c.profiles.get('sales')).toEqual(['STANDARDPACK', 'MCOEV', 'MCOPSTN1']);
    expect([...c.profilePhoneNumbers]).toEqual([['sales', 'pool']]);
    expect(phoneNumberPolicyFor('sales', c.phoneNumbers, c.profilePhoneNumbers)).toBe('pool');
    expect(phoneNumberPolicyFor('plain', c.phoneNumbers, c.profilePhoneNumbers)).toBe('row');
  });

  it('lists every problem of the object form at once', () => {
    expect(mergeProfiles({ a: { skus: ['MCOEV'], phoneNumbers: 'sometimes' }, b: { skus: 'MCOEV' }, c: { sku: ['MCOEV'] } }).problems).toEqual([
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
