// Who may assign what: a row's own skus only where its integration may list them, and then only Teams phone and
// meeting SKUs (or the operator's extras); profiles only from the integration's list. Everything else is rejected
// sku_not_allowed before Graph is read.
import { CATALOG } from '../../shared/domain/catalog';
import { TEAMS_PHONE_OR_MEETING_SKUS, enforceRights, rowMayName } from '../../shared/domain/entitlements';
import type { InputRow } from '../../shared/domain/input';
import { validateRows } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';

const rows: InputRow[] = [
  { row: 1, userPrincipalName: 'a@contoso.com', skus: ['MCOEV', 'MCOPSTN1'] },
  { row: 2, userPrincipalName: 'b@contoso.com', skus: ['Microsoft_365_Copilot'] },
  { row: 3, userPrincipalName: 'c@contoso.com', skus: ['POWER_BI_PRO', 'MCOEV'] },
  { row: 4, userPrincipalName: 'd@contoso.com', profile: 'phone-domestic' },
  { row: 5, userPrincipalName: 'e@contoso.com', profile: 'e5-phone-domestic' },
  { row: 6, userPrincipalName: 'f@contoso.com' },
  { row: 7, userPrincipalName: 'not a upn', skus: ['SPE_E5'] },
];
const validated = validateRows(rows, { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' });
const outcome = (v: ReturnType<typeof enforceRights>) => v.map((x) => (x.kind === 'request' ? 'ok' : x.reason));

describe('who may assign what', () => {
  it("takes as a row's own skus only SKUs whose every capability is Teams phone or meeting, from the catalog", () => {
    for (const p of [
      'MCOEV',
      'MCOPSTN1',
      'MCOPSTN2',
      'MCOMEETADV',
      'MCOPSTNC',
      'MCOTEAMS_ESSENTIALS',
      'BUSINESS_VOICE_MED2',
    ])
      expect([p, TEAMS_PHONE_OR_MEETING_SKUS.has(p)]).toEqual([p, true]);
    // Suites and Teams itself carry other services (mail, Office, the Teams app): a profile's, never a row's own.
    for (const p of [
      'ENTERPRISEPACK',
      'SPE_E5',
      'ENTERPRISEPREMIUM',
      'Microsoft_Teams_EEA_New'.toUpperCase(),
      'STANDARDPACK',
    ])
      expect([p, TEAMS_PHONE_OR_MEETING_SKUS.has(p)]).toEqual([p, false]);
    expect(TEAMS_PHONE_OR_MEETING_SKUS.size).toBeLessThan(CATALOG.length);
    expect(rowMayName('mcoev')).toBe(true);
    expect(rowMayName('POWER_BI_PRO')).toBe(false);
    expect(rowMayName('POWER_BI_PRO', ['power_bi_pro'])).toBe(true);
  });

  it('rejects own skus outside the phone and meeting SKUs as sku_not_allowed, naming them and the setting that widens the list', () => {
    const v = enforceRights(validated, rows, { ownSkus: true }, 'hr-a');
    expect(outcome(v)).toEqual(['ok', 'sku_not_allowed', 'sku_not_allowed', 'ok', 'ok', 'ok', 'invalid_upn']);
    expect(v[1]).toMatchObject({
      kind: 'rejected',
      userPrincipalName: 'b@contoso.com',
      skus: ['MICROSOFT_365_COPILOT'],
      message: expect.stringMatching(
        /^row 2: MICROSOFT_365_COPILOT is not a Teams phone or meeting SKU.*DIALTONE_EXTRA_ROW_SKUS/,
      ),
    });
    expect(v[2]).toMatchObject({ message: expect.stringMatching(/^row 3: POWER_BI_PRO is not/) });
    expect(outcome(enforceRights(validated, rows, { ownSkus: true }, 'hr-a', ['POWER_BI_PRO']))).toEqual([
      'ok',
      'sku_not_allowed',
      'ok',
      'ok',
      'ok',
      'ok',
      'invalid_upn',
    ]);
  });

  it('rejects every row with its own skus when the integration may not list them, whatever they name', () => {
    const v = enforceRights(validated, rows, { ownSkus: false }, 'hr-a');
    expect(outcome(v)).toEqual([
      'sku_not_allowed',
      'sku_not_allowed',
      'sku_not_allowed',
      'ok',
      'ok',
      'ok',
      'invalid_upn',
    ]);
    expect(v[0]).toMatchObject({
      message: 'row 1: hr-a may not list its own skus; name a profile or ask the operator to allow its own skus',
    });
  });

  it("rejects a profile outside the integration's list, the default profile included", () => {
    const v = enforceRights(validated, rows, { ownSkus: false, profiles: ['e5-phone-domestic'] }, 'an upload');
    expect(outcome(v)).toEqual([
      'sku_not_allowed',
      'sku_not_allowed',
      'sku_not_allowed',
      'sku_not_allowed',
      'ok',
      'sku_not_allowed',
      'invalid_upn',
    ]);
    expect(v[3]).toMatchObject({
      message: 'row 4: an upload may not use profile "phone-domestic" (allowed: e5-phone-domestic)',
    });
  });
});
