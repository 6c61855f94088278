// Hostile text in the domain: amplification (one huge cell copied into every row), caller strings used as keys,
// error text without bound, and UPNs that would make a report show something other than what it holds.
import { BUILT_IN_PROFILES, mergeProfiles } from '../../shared/domain/profiles';
import { BATCH_ID, isBatchId, parseInput, type ParseOutcome } from '../../shared/domain/input';
import { planBatch, validateRows, MAX_ROW_SKUS } from '../../shared/domain/planning';
import { settledOutcome } from '../../shared/domain/planning';
import { errorText, hasHiddenCharacters, MAX_ERROR_CHARS, MAX_SHOWN_CHARS, shown } from '../../shared/domain/text';
import { ALL_SKUS, snapshot } from '../support/tenant';

const options = { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' };
const bytes = (s: string) => Buffer.from(s, 'utf8');
function rowsOf(r: ParseOutcome) {
  if (!r.ok) throw new Error(`expected rows, got ${r.error.code}: ${r.error.message}`);
  return r.input.rows;
}

describe('text shown or stored', () => {
  it('cuts to a bound and shows control and text-direction characters as escapes', () => {
    expect(shown('x'.repeat(5_000_000))).toHaveLength(MAX_SHOWN_CHARS + 1);
    expect(shown('evil\u202Egnp.exe@contoso.com')).toBe('evil\\u202egnp.exe@contoso.com');
    expect(shown('a\u0085b\u2066c\u001bd')).toBe('a\\u0085b\\u2066c\\u001bd');
    expect(errorText('e'.repeat(1_000_000))).toHaveLength(MAX_ERROR_CHARS + 1);
    expect(hasHiddenCharacters('plain@contoso.com')).toBe(false);
    expect(hasHiddenCharacters('a\u200Fb')).toBe(true);
  });
});

describe('batch ids', () => {
  it.each([
    ['hr-2026', true],
    ['a', true],
    ['A_1', true],
    ['x'.repeat(100), true],
    ['x'.repeat(101), false],
    // Azure Storage drops a trailing dot of a path segment (Azurite keeps it): "hr-2026." would share hr-2026's folder.
    ['hr-2026.', false],
    ['a..b', false],
    ['.hidden', false],
    ['-x', false],
    ['a/b', false],
    ['a~b', false],
  ])('%s → %s', (id, ok) => {
    expect(isBatchId(id)).toBe(ok);
    if (ok) expect(BATCH_ID.test(id)).toBe(true);
  });

  it('refuses a JSON batchId Azure would fold into another', () => {
    const r = parseInput(bytes('{"batchId":"hr-2026.","users":[{"userPrincipalName":"a@contoso.com"}]}'), 'body', {
      json: true,
    });
    expect(r.ok || r.error.message).toMatch(/not ending with '\.'/);
  });
});

describe('caller strings as keys', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'rejects a row asking for profile %s as unknown_profile, without crashing',
    (name) => {
      const [v] = validateRows([{ row: 1, userPrincipalName: 'a@contoso.com', profile: name }], options);
      expect(v).toMatchObject({ kind: 'rejected', reason: 'unknown_profile' });
      const [w] = validateRows([{ row: 1, userPrincipalName: 'a@contoso.com' }], { ...options, batchProfile: name });
      expect(w).toMatchObject({ kind: 'rejected', reason: 'unknown_profile' });
    },
  );

  it('refuses a configured "__proto__" profile by name, keeps "constructor", and leaves Object.prototype alone', () => {
    const { profiles, problems } = mergeProfiles(JSON.parse('{"__proto__":["MCOEV"],"constructor":["MCOEV"]}'));
    expect(problems).toEqual([expect.stringMatching(/^profile name "__proto__" must be/)]);
    expect(profiles.has('__proto__')).toBe(false);
    expect(profiles.get('constructor')).toEqual(['MCOEV']);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('reads a CSV whose headers are named constructor, __proto__ and toString', () => {
    const rows = rowsOf(parseInput(bytes('constructor,upn,__proto__,toString\nx,a@contoso.com,y,z\n'), 'x.csv'));
    expect(rows).toEqual([{ row: 1, line: 2, userPrincipalName: 'a@contoso.com' }]);
  });
});

describe('amplification: stored fields and messages are bounded', () => {
  it('keeps a plan bounded when a CSV has a huge header cell (bound: 1 KiB per row; the 4 MiB case runs end to end)', () => {
    // Underscores go when headers are matched, so this cell would read as "hybrid" and each row's bad value would
    // name it in its message. A header cell that long is no column at all.
    const header = `${'_'.repeat(256 * 1024)}hybrid`;
    const body = Array.from({ length: 2_000 }, (_, i) => `u${i}@contoso.com,maybe`).join('\n');
    const rows = rowsOf(parseInput(bytes(`upn,${header}\n${body}\n`), 'big-header.csv'));
    expect(rows).toHaveLength(2_000);
    const stored = JSON.stringify(planBatch(validateRows(rows, options), snapshot(ALL_SKUS, {})));
    expect(stored.length).toBeLessThan(2_000 * 1_024);
  });

  it('names a long header in a row message cut to 40 characters', () => {
    const header = `${'_'.repeat(200)}hybrid`;
    const rows = rowsOf(parseInput(bytes(`upn,${header}\na@contoso.com,maybe\n`), 'long-header.csv'));
    const [v] = validateRows(rows, options);
    expect(v).toMatchObject({ kind: 'rejected', reason: 'invalid_field' });
    expect(v?.kind === 'rejected' && v.message.length).toBeLessThan(120);
  });

  it('refuses a JSON batch whose profile is 18 MiB with one short message', () => {
    const body = `{"profile":"${'p'.repeat(18 * 1024 * 1024)}","users":[${Array.from({ length: 100 }, (_, i) => `{"userPrincipalName":"u${i}@contoso.com"}`).join(',')}]}`;
    const r = parseInput(bytes(body), 'body', { json: true });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/is not a profile name/);
    expect(!r.ok && r.error.message.length).toBeLessThan(300);
  });

  it('cuts a huge row profile, UPN or SKU list to a bound in the rejected row', () => {
    const big = 'X'.repeat(1024 * 1024);
    const [a, b, c, d] = validateRows(
      [
        { row: 1, userPrincipalName: 'a@contoso.com', profile: big.toLowerCase() },
        { row: 2, userPrincipalName: `${big}@contoso.com` },
        { row: 3, userPrincipalName: 'c@contoso.com', skus: Array.from({ length: 100_000 }, () => 'MCOEV') },
        { row: 4, userPrincipalName: 'd@contoso.com', skus: [big] },
      ],
      options,
    );
    expect([a, b, c, d].map((v) => v?.kind === 'rejected' && v.reason)).toEqual([
      'unknown_profile',
      'invalid_upn',
      'invalid_field',
      'unknown_sku',
    ]);
    for (const v of [a, b, c, d]) {
      if (v?.kind !== 'rejected') throw new Error('expected a rejected row');
      const out = settledOutcome(v);
      expect(out.userPrincipalName.length).toBeLessThanOrEqual(MAX_SHOWN_CHARS + 1);
      expect(out.profile.length).toBeLessThanOrEqual(65);
      expect(out.skus.length).toBeLessThanOrEqual(MAX_ROW_SKUS);
      expect(out.skus.every((s) => s.length <= 101)).toBe(true);
      expect(out.message.length).toBeLessThanOrEqual(MAX_ERROR_CHARS + 1);
    }
  });

  it('cuts the column list of a CSV without a UPN column', () => {
    const r = parseInput(bytes(`${Array.from({ length: 30 }, () => 'h'.repeat(10_000)).join(',')}\nx,y\n`), 'x.csv');
    expect(!r.ok && r.error.code).toBe('no_upn_column');
    expect(!r.ok && r.error.message.length).toBeLessThan(1_200);
    expect(!r.ok && r.error.message).toMatch(/found columns: h{40}…, /);
  });
});

describe('UPNs that would spoof a report', () => {
  it.each([
    ['right-to-left override', 'evil\u202Egnp.exe@contoso.com'],
    ['C1 next line', 'a\u0085b@contoso.com'],
    ['first strong isolate', '\u2068admin@contoso.com'],
    ['right-to-left mark', 'a\u200F@contoso.com'],
  ])('rejects a UPN with a %s as invalid_upn and stores it escaped', (_what, upn) => {
    const [v] = validateRows([{ row: 1, userPrincipalName: upn }], options);
    expect(v).toMatchObject({ kind: 'rejected', reason: 'invalid_upn' });
    if (v?.kind !== 'rejected') throw new Error('expected a rejected row');
    expect(hasHiddenCharacters(v.userPrincipalName)).toBe(false);
    expect(hasHiddenCharacters(v.message)).toBe(false);
    expect(v.message).toMatch(/control or text-direction characters/);
  });

  it('scans the whole input: a bidi override after the first 64K characters still rejects its row', () => {
    const filler = Array.from({ length: 5_000 }, (_, i) => `user${i}@contoso.com`).join('\n');
    expect(filler.length).toBeGreaterThan(65_536);
    const rows = rowsOf(parseInput(bytes(`${filler}\nceo\u202E@contoso.com\n`), 'list.txt'));
    const last = validateRows(rows, options).at(-1);
    expect(last).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_upn',
      userPrincipalName: 'ceo\\u202e@contoso.com',
    });
  });

  it('scans the whole input for control characters, not its first 64K', () => {
    const filler = Array.from({ length: 5_000 }, (_, i) => `user${i}@contoso.com`).join('\n');
    const r = parseInput(bytes(`${filler}\nx\u0007y@contoso.com\n`), 'list.txt');
    expect(!r.ok && r.error.code).toBe('binary');
  });
});
