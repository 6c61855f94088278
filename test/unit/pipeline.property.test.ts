// Whatever arrives, parsing + validation + planning never throws, and every input record ends with exactly one
// outcome or plan, in row order.
import fc from 'fast-check';
import { parseInput } from '../../shared/domain/input';
import { planBatch, validateRows } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { ALL_SKUS, snapshot } from '../support/tenant';

const tenant = snapshot(
  { ...ALL_SKUS, MCOPSTN1: 3 },
  {
    'a@c.com': { usageLocation: 'US' },
    'b@c.com': {},
    'c@c.com': { usageLocation: 'GB', skus: ['ENTERPRISEPREMIUM'] },
  },
);

/** `expectedRows`: the number of records the generator put in a valid input; then parsing must succeed with them. */
function runPipeline(bytes: Uint8Array, expectedRows?: number) {
  const parsed = parseInput(bytes, 'input');
  if (expectedRows !== undefined) {
    expect(parsed.ok ? parsed.input.rows.length : parsed.error.message).toBe(expectedRows);
  }
  if (!parsed.ok) {
    expect(parsed.error.message.length).toBeGreaterThan(0);
    return;
  }
  const validated = validateRows(parsed.input.rows, {
    profiles: BUILT_IN_PROFILES,
    defaultProfile: 'phone-domestic',
    ...(parsed.input.profile ? { batchProfile: parsed.input.profile } : {}),
  });
  const planned = planBatch(validated, tenant, { defaultUsageLocation: 'US' });
  expect(planned.map((p) => p.row)).toEqual(parsed.input.rows.map((r) => r.row));
  expect(planned.map((p) => p.row)).toEqual(parsed.input.rows.map((_, i) => i + 1));
  for (const p of planned) expect(['rejected', 'failed', 'assign']).toContain(p.kind);
}

const upnish = fc.oneof(
  fc.constantFrom('a@c.com', 'B@C.com', 'b@c.com', 'c@c.com', 'ghost@c.com', '', 'x', '=1+1@c.com'),
  fc.emailAddress(),
  fc.string(),
);
const field = fc.oneof(
  fc.string(),
  fc.constantFrom('phone-domestic', 'e5-phone-domestic', 'US', 'gb', 'yes', 'maybe', 'MCOEV;MCOPSTN1', 'MCOPSTN5'),
);

describe('pipeline properties', () => {
  it('survives arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => runPipeline(b)),
      { numRuns: 300 },
    );
  });

  it('survives arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (s) => runPipeline(Buffer.from(s))),
      { numRuns: 300 },
    );
  });

  it('gives every CSV record exactly one result', () => {
    const csv = fc.array(fc.tuple(upnish, field, field, field, field), { minLength: 1, maxLength: 40 }).map((rows) => {
      const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
      return {
        text: 'userPrincipalName,profile,usageLocation,skus,hybrid\n' + rows.map((r) => r.map(q).join(',')).join('\n'),
        rows: rows.length,
      };
    });
    fc.assert(
      fc.property(csv, ({ text, rows }) => runPipeline(Buffer.from(text), rows)),
      { numRuns: 200 },
    );
  });

  it('gives every JSON user exactly one result', () => {
    const user = fc.record(
      {
        userPrincipalName: fc.oneof(upnish, fc.integer()),
        profile: fc.option(field),
        usageLocation: fc.option(field),
        skus: fc.option(fc.array(field)),
        onPremisesPstn: fc.option(fc.oneof(fc.boolean(), field)),
      },
      { requiredKeys: [] },
    );
    // Anything but an object with fields of its own: those are the strict rule's (below).
    const junk = fc
      .anything()
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0);
    const body = fc.record(
      {
        users: fc.array(fc.oneof(user, junk), { minLength: 1, maxLength: 40 }),
        profile: fc.constantFrom('phone-domestic', 'nope'),
      },
      { requiredKeys: ['users'] },
    );
    fc.assert(
      fc.property(body, (b) => runPipeline(Buffer.from(JSON.stringify(b)), b.users.length)),
      { numRuns: 200 },
    );
  });

  it('refuses a JSON batch whole when any user has a field dialtone does not know, naming it (docs/strict-json.md)', () => {
    const known = new Set([
      'userPrincipalName',
      'upn',
      'displayName',
      'profile',
      'skus',
      'sku',
      'usageLocation',
      'onPremisesPstn',
      'hybrid',
      'phoneNumber',
      'telephoneNumber',
      'numberType',
      'emergencyLocationId',
      'locationId',
      'startDate',
      'hireDate',
      'employeeHireDate',
    ]);
    const stranger = fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !known.has(k) && k !== '__proto__');
    const body = fc
      .tuple(fc.array(fc.record({ userPrincipalName: upnish }), { minLength: 1, maxLength: 10 }), stranger, fc.nat())
      .map(([users, key, at]) => {
        const i = at % users.length;
        return { users: users.map((u, k) => (k === i ? { ...u, [key]: 'x' } : u)), i };
      });
    fc.assert(
      fc.property(body, ({ users, i }) => {
        const parsed = parseInput(Buffer.from(JSON.stringify({ users })), 'input');
        expect(parsed.ok).toBe(false);
        expect(!parsed.ok && parsed.error.code).toBe('unknown_field');
        expect(!parsed.ok && parsed.error.fields?.[0]?.path.startsWith(`users[${i}]`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('gives every UPN-list line exactly one result', () => {
    fc.assert(
      fc.property(
        fc.array(
          upnish.filter((s) => !/[,;\r\n]/.test(s)),
          { minLength: 1, maxLength: 50 },
        ),
        (lines) => {
          const records = lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).length;
          const text = lines.join('\n');
          // Text that opens with [ or { is read as JSON, not as a list.
          runPipeline(Buffer.from(text), records > 0 && !/^\s*[[{]/.test(text) ? records : undefined);
        },
      ),
      { numRuns: 200 },
    );
  });
});
