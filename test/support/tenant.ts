// Builds tenants for tests from part numbers and seat counts: snapshots for domain tests, the way preflight builds them
// from Graph, and the skus of a simulator tenant file (local/graph-sim/tenant.ts).
import { createHash } from 'node:crypto';
import { CATALOG, resolveTenantCatalog, type SubscribedSkuFacts } from '../../shared/domain/catalog';
import type { TenantSnapshot, TenantUserState } from '../../shared/domain/planning';
import type { TenantFile } from '../../local/graph-sim/tenant';

export function subscribed(seats: Record<string, number>, consumed: Record<string, number> = {}): SubscribedSkuFacts[] {
  return Object.entries(seats).map(([part, enabled]) => ({
    skuId:
      CATALOG.find((c) => c.partNumber === part)?.skuId ??
      `00000000-0000-4000-8000-${createHash('sha256').update(part).digest('hex').slice(0, 12)}`,
    skuPartNumber: part,
    capabilityStatus: 'Enabled',
    consumedUnits: consumed[part] ?? 0,
    prepaidUnits: { enabled, warning: 0, suspended: 0 },
  }));
}

export function skuIdOf(part: string): string {
  const id = CATALOG.find((c) => c.partNumber === part)?.skuId;
  if (!id) throw new Error(`no catalog id for ${part}`);
  return id;
}

export function snapshot(
  seats: Record<string, number>,
  users: Record<string, { usageLocation?: string | null; skus?: string[] }>,
): TenantSnapshot {
  const catalog = resolveTenantCatalog(subscribed(seats));
  const map = new Map<string, TenantUserState>();
  let n = 0;
  for (const [upn, u] of Object.entries(users)) {
    map.set(upn.toLowerCase(), {
      id: `id-${++n}`,
      usageLocation: u.usageLocation ?? null,
      skuIds: (u.skus ?? []).map((p) => catalog.byPartNumber(p)!.skuId),
    });
  }
  return { catalog, users: map };
}

export const ALL_SKUS = Object.fromEntries(CATALOG.filter((c) => c.skuId).map((c) => [c.partNumber, 100]));

/** A simulator tenant file's skus: `seats` prepaid units of each part number, none consumed, in the order given. */
export function tenantSkus(seats: Record<string, number>): TenantFile['skus'] {
  return Object.entries(seats).map(([skuPartNumber, prepaidUnits]) => ({ skuPartNumber, prepaidUnits }));
}

/** The movers' number tests' tenant: a mover in GB still holding its US number, a user with a GB number, one free. */
export const MOVER_US_OLD = '+12065550102';
export const MOVER_GB_NEW = '+442079460001';
export const MOVER_GB_HELD = '+442079460002';
export function moverTenant(): TenantFile {
  const user = (upn: string) => ({
    userPrincipalName: upn,
    usageLocation: 'GB',
    assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
  });
  return {
    skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
    users: [user('mover@contoso.com'), user('there@contoso.com')],
    numbers: [
      {
        telephoneNumber: MOVER_US_OLD,
        numberType: 'callingPlan',
        isoCountryCode: 'US',
        assignedTo: 'mover@contoso.com',
      },
      {
        telephoneNumber: MOVER_GB_HELD,
        numberType: 'callingPlan',
        isoCountryCode: 'GB',
        assignedTo: 'there@contoso.com',
      },
      { telephoneNumber: MOVER_GB_NEW, numberType: 'callingPlan', isoCountryCode: 'GB' },
    ],
  };
}
