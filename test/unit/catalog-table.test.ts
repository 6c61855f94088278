// The licence catalog, the built-in profiles and the simulator's default SKUs against a cut of Microsoft's
// "Product names and service plan identifiers for licensing" table (test/fixtures/licensing, source and date inside).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CATALOG,
  PREREQUISITES,
  SERVICE_PLANS,
  builtInSku,
  canonicalPartNumber,
  capabilitiesOf,
} from '../../shared/domain/catalog';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { PUBLISHED_SKUS } from '../../local/graph-sim/published-skus';

interface TablePlan {
  name: string | null;
  tableName?: string;
  id: string;
  friendlyName: string;
  capability?: string;
  why?: string;
}
interface TableSku {
  productName: string;
  stringId: string;
  guid: string;
  complete: boolean;
  servicePlans: string[];
}
interface Table {
  source: { repository: string; path: string; commit: string; updated: string; cut: string };
  userPlans: TablePlan[];
  otherPlans: TablePlan[];
  servicePlanIds: Record<string, string>;
  skus: TableSku[];
}

const table = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'licensing', 'service-plan-reference.json'), 'utf8'),
) as Table;
/** The families the fixture claims to cover completely, by service plan name. */
const FAMILY = /^(TEAMS|MCOEV|MCOPSTN|PSTN|MCOMEET|MCOACBYOT|MCO_TEAMS|MCOFMC)/i;
const planName = (p: TablePlan) => p.name ?? p.tableName!;
const rowsFor = (partNumber: string) =>
  table.skus.filter((r) => canonicalPartNumber(r.stringId) === canonicalPartNumber(partNumber));

describe("the licence catalog against Microsoft's licensing table", () => {
  it('cuts the table from a named source, commit and date', () => {
    expect(table.source).toMatchObject({
      repository: 'MicrosoftDocs/entra-docs',
      path: 'docs/identity/users/licensing-service-plan-reference.md',
      updated: '2025-10-29',
    });
    expect(table.source.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('leaves no Teams, Phone System, Calling Plan or Audio Conferencing plan of the cut rows unclassified, and every id agrees', () => {
    const classified = new Map([...table.userPlans, ...table.otherPlans].map((p) => [planName(p), p.id]));
    for (const [name, id] of classified) expect([name, table.servicePlanIds[name]]).toEqual([name, id]);
    const unclassified = table.skus.flatMap((r) =>
      r.servicePlans.filter((p) => FAMILY.test(p) && !classified.has(p)).map((p) => `${r.stringId}: ${p}`),
    );
    expect(unclassified).toEqual([]);
  });

  it("maps every plan a user holds for those capabilities, by the table's name and id", () => {
    const missing = table.userPlans.filter(
      (p) => !SERVICE_PLANS.some((m) => m.id === p.id && m.name === p.name && m.capability === p.capability),
    );
    expect(missing.map(planName)).toEqual([]);
    for (const p of table.userPlans) {
      expect([planName(p), [...capabilitiesOf([{ servicePlanName: 'renamed', servicePlanId: p.id }])]]).toEqual([
        planName(p),
        [p.capability],
      ]);
      if (p.name) expect([p.name, [...capabilitiesOf([p.name.toLowerCase()])]]).toEqual([p.name, [p.capability]]);
    }
  });

  it('gives no capability to the free offer, add-ons, room devices or resource accounts', () => {
    for (const p of table.otherPlans) {
      expect([p.name, [...capabilitiesOf([{ servicePlanName: p.name!, servicePlanId: p.id }])]]).toEqual([p.name, []]);
      expect(SERVICE_PLANS.some((m) => m.id === p.id || m.name === p.name)).toBe(false);
    }
  });

  it('holds no service plan, and no id, that the table does not give', () => {
    const known = new Set(table.userPlans.map((p) => p.id));
    for (const m of SERVICE_PLANS) {
      if (m.capability === 'officeSuite') expect([m.name, m.id]).toEqual([m.name, table.servicePlanIds[m.name!]]);
      else expect([m.name, known.has(m.id)]).toEqual([m.name, true]);
    }
  });

  it("has the table's skuId and capability-giving service plans for every built-in SKU", () => {
    for (const sku of CATALOG) {
      const rows = rowsFor(sku.partNumber);
      expect([sku.partNumber, rows.length > 0]).toEqual([sku.partNumber, true]);
      if (sku.skuId === undefined) {
        // Resolved from the tenant: the table lists this part number more than once.
        expect([sku.partNumber, rows.length]).toEqual([sku.partNumber, 2]);
      } else {
        expect([sku.partNumber, rows.map((r) => r.guid)]).toEqual([sku.partNumber, [sku.skuId]]);
      }
      const row = rows.find((r) => r.complete && r.servicePlans.some((p) => sku.servicePlans.includes(p)))!;
      const giving = row.servicePlans.filter((p) => SERVICE_PLANS.some((m) => m.name === p));
      expect([sku.partNumber, [...sku.servicePlans].sort()]).toEqual([sku.partNumber, giving.sort()]);
    }
  });

  it('lists MCOPSTNPP as its own SKU with a calling plan, apart from Communications Credits', () => {
    expect(rowsFor('MCOPSTNPP').map((r) => [r.guid, r.servicePlans])).toEqual([
      ['06b48c5f-01d9-4b18-9015-03b52040f51a', ['MCOPSTN3']],
    ]);
    expect(builtInSku('MCOPSTNPP')?.skuId).toBe('06b48c5f-01d9-4b18-9015-03b52040f51a');
    expect(builtInSku('MCOPSTNC')?.skuId).toBe('47794cd0-f0e5-45c5-9033-2eb6b5fc84e0');
    expect([...capabilitiesOf(builtInSku('MCOPSTNPP')!.servicePlans)]).toEqual(['callingPlan']);
  });
});

describe('the built-in profiles', () => {
  it('name only SKUs of the catalog, and carry Teams wherever they carry Phone System, and Phone System with a Calling Plan', () => {
    for (const [name, parts] of [...BUILT_IN_PROFILES]) {
      const skus = parts.map((p) => builtInSku(p));
      expect([name, skus.every(Boolean)]).toEqual([name, true]);
      const caps = capabilitiesOf(skus.flatMap((s) => s!.servicePlans));
      for (const cap of caps) {
        const needs = PREREQUISITES[cap];
        if (needs) expect([name, cap, caps.has(needs)]).toEqual([name, cap, true]);
      }
    }
  });

  it('pair each "no Teams" suite with a Teams SKU, since the suite alone has no Teams plan', () => {
    const noTeams = CATALOG.filter((s) => /no_Teams/i.test(s.partNumber));
    expect(noTeams.length).toBeGreaterThan(0);
    for (const s of noTeams)
      expect([s.partNumber, capabilitiesOf(s.servicePlans).has('teams')]).toEqual([s.partNumber, false]);
    for (const [name, parts] of [...BUILT_IN_PROFILES].filter(([, parts]) => parts.some((p) => /no_Teams/i.test(p)))) {
      expect([name, parts.includes('Microsoft_Teams_EEA_New')]).toEqual([name, true]);
    }
  });
});

describe("the simulator's default SKUs", () => {
  it('are the complete rows of the table, with every service plan and id, for each part number the table lists once', () => {
    const once = table.skus.filter((r) => r.complete && rowsFor(r.stringId).length === 1);
    expect(PUBLISHED_SKUS.map((s) => s.partNumber).sort()).toEqual(once.map((r) => r.stringId).sort());
    for (const sku of PUBLISHED_SKUS) {
      const row = rowsFor(sku.partNumber)[0]!;
      expect({ skuId: sku.skuId, productName: sku.productName, plans: sku.servicePlans }).toEqual({
        skuId: row.guid,
        productName: row.productName,
        plans: row.servicePlans.map((p) => [p, table.servicePlanIds[p]]),
      });
    }
  });
});
