// Strict JSON: a batch (HTTP body or .json file) with a field dialtone does not know is refused whole, each unknown
// field named by its path with the known name it is closest to; the CSV's aliases are known names. The simulator's
// tenant files are read as strictly, malformed JSON named by line and column.
import { closestName, parseInput, type ParseOutcome } from '../../shared/domain/input';
import { readTenantFile } from '../../local/graph-sim/tenant';

const json = (body: unknown): ParseOutcome =>
  parseInput(Buffer.from(JSON.stringify(body)), 'batch.json', { json: true });

describe('strict JSON batches', () => {
  it('refuses a misspelt start date, naming the path and the field meant, instead of licensing at once', () => {
    const r = json({ users: [{ userPrincipalName: 'a@c.com', startdate: '2026-12-24' }] });
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'unknown_field',
        message: expect.stringMatching(
          /^batch\.json: users\[0\]\.startdate: unknown field; did you mean startDate\?\. Nothing was licensed: fix the field names/,
        ),
        fields: [{ path: 'users[0].startdate', closest: 'startDate' }],
      },
    });
  });

  it('names every unknown field at every level, at most 20, then how many more', () => {
    const users = Array.from({ length: 25 }, (_, i) => ({ userPrincipalName: `u${i}@c.com`, usagelocation: 'US' }));
    const r = json({ batchid: 'b-1', users, extra: { deep: 1 } });
    if (r.ok) throw new Error('accepted');
    expect(r.error.fields!.slice(0, 3)).toEqual([
      { path: 'batchid', closest: 'batchId' },
      { path: 'extra' },
      { path: 'users[0].usagelocation', closest: 'usageLocation' },
    ]);
    expect(r.error.fields).toHaveLength(20);
    expect(r.error.message).toContain(
      '; users[2].usagelocation: unknown field; did you mean usageLocation?; and 22 more unknown field(s). Nothing was licensed',
    );
  });

  it('accepts the CSV aliases in their JSON spelling, and refuses one field given under two names', () => {
    const r = json({
      users: [
        {
          upn: 'a@c.com',
          hireDate: '2026-12-24',
          hybrid: false,
          telephoneNumber: '+14255550100',
          locationId: '0f5cbbd1-2d16-4fa6-8b8f-09e3c4a5b6c7',
        },
        { userPrincipalName: 'b@c.com', startDate: '2026-12-24', employeeHireDate: '2026-12-25' },
      ],
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.input.rows[0]).toMatchObject({
      userPrincipalName: 'a@c.com',
      startDate: '2026-12-24',
      onPremisesPstn: false,
      phoneNumber: '+14255550100',
    });
    expect(r.input.rows[1]!.problem).toMatchObject({
      reason: 'invalid_field',
      message: expect.stringContaining(
        'startDate: is given twice, under two of its names (startDate, hireDate, employeeHireDate)',
      ),
    });
  });

  it('suggests only names that are near', () => {
    expect(closestName('StartDate', ['startDate', 'profile'])).toBe('startDate');
    expect(closestName('usage_location', ['usageLocation'])).toBe('usageLocation');
    expect(closestName('profil', ['profile', 'skus'])).toBe('profile');
    expect(closestName('department', ['profile', 'skus', 'startDate'])).toBeUndefined();
  });
});

describe("the simulator's tenant files", () => {
  it('refuse an unknown field by path with the closest known name', () => {
    const r = readTenantFile(
      JSON.stringify({
        skus: [{ skuPartNumber: 'MCOEV', prepaidUnits: 1, consumedunits: 0 }],
        users: [{ userPrincipalName: 'a@c.com', teamsProvisioningMinute: 3 }],
      }),
      'tenant.json',
    );
    expect(r).toEqual({
      ok: false,
      message:
        'tenant.json: skus[0].consumedunits: unknown field; did you mean consumedUnits?; users[0].teamsProvisioningMinute: unknown field; did you mean teamsProvisioningMinutes?',
    });
  });

  it('name malformed JSON by line and column', () => {
    expect(readTenantFile('{\n  "skus": [],\n  "users": [,]\n}', 'tenant.json')).toEqual({
      ok: false,
      message: 'tenant.json: not valid JSON: line 3, column 13',
    });
    expect(readTenantFile('{"skus": [', 't.json')).toEqual({
      ok: false,
      message: 't.json: not valid JSON: line 1, column 11: the text ends too early',
    });
  });

  it('read a tenant with userType', () => {
    const r = readTenantFile(
      JSON.stringify({ skus: [], users: [{ userPrincipalName: 'g@c.com', userType: 'Guest' }] }),
      't.json',
    );
    expect(r.ok && r.tenant.users[0]!.userType).toBe('Guest');
  });
});
