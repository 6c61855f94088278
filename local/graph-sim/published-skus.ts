// The simulator's default SKUs: each SKU's part number, skuId and every service plan with its id, as Microsoft's
// 'Product names and service plan identifiers for licensing' table gives them (MicrosoftDocs/entra-docs,
// docs/identity/users/licensing-service-plan-reference.md; commit and date in the data's own "source"). A tenant file
// that names one of these SKUs without its own skuId or plans gets these, so subscribedSkus shows the real shapes (E5
// with its ~80 plans, a 'no Teams' suite without TEAMS1). Read from the cut of that table the catalog tests check
// against (test/fixtures/licensing/service-plan-reference.json), not copied: its complete rows, each part number the
// table lists once (it lists MCOPSTN5 twice). test/unit/catalog-table.test.ts holds them to the table.
import table from '../../test/fixtures/licensing/service-plan-reference.json';

export interface PublishedSku {
  readonly partNumber: string;
  readonly skuId: string;
  readonly productName: string;
  readonly servicePlans: readonly (readonly [name: string, id: string])[];
}

interface TableSku {
  readonly productName: string;
  readonly stringId: string;
  readonly guid: string;
  readonly complete: boolean;
  readonly servicePlans: readonly string[];
}

const rows: readonly TableSku[] = table.skus;
const planIds: Readonly<Record<string, string>> = table.servicePlanIds;
const listed = (partNumber: string) => rows.filter((r) => r.stringId === partNumber).length;

function planIdOf(sku: string, name: string): string {
  const id = planIds[name];
  if (!id) throw new Error(`service-plan-reference.json: ${sku}'s service plan ${name} has no id in servicePlanIds`);
  return id;
}

export const PUBLISHED_SKUS: readonly PublishedSku[] = rows
  .filter((r) => r.complete && listed(r.stringId) === 1)
  .map((r) => ({
    partNumber: r.stringId,
    skuId: r.guid,
    productName: r.productName,
    servicePlans: r.servicePlans.map((p) => [p, planIdOf(r.stringId, p)] as const),
  }));
