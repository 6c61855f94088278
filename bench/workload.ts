// Generated tenants and batches for the chaos, load and throughput commands: repeatable (seeded), with the mix of
// outcomes a real onboarding wave has.
import type { TenantFile } from '../local/graph-sim/tenant';
import { seededRandom } from '../local/random';

export const rng = seededRandom;

export interface Workload {
  readonly tenant: TenantFile;
  readonly rows: { userPrincipalName: string; usageLocation?: string }[];
}

/**
 * `users` rows: most provisioned within `maxMinutes` (or on the given distribution), some never, a few with no usage
 * location, a few not in the tenant, and the last few beyond the calling-plan seats.
 */
export function generateWorkload(
  users: number,
  options: { seed?: number; provisioningMinutes?: (r: () => number) => number | null; poolNumbers?: number } = {},
): Workload {
  const r = rng(options.seed ?? 42);
  const minutes = options.provisioningMinutes ?? ((x) => (x() < 0.1 ? null : 5 + Math.floor(x() * 55)));
  const tenantUsers: TenantFile['users'] = [];
  const rows: Workload['rows'] = [];
  for (let i = 0; i < users; i++) {
    const upn = `hire${String(i).padStart(6, '0')}@contoso.com`;
    const ghost = i % 97 === 13;
    const noLocation = i % 89 === 7;
    if (!ghost)
      tenantUsers.push({
        userPrincipalName: upn,
        usageLocation: noLocation ? null : 'US',
        assignedSkus: [],
        teamsProvisioningMinutes: minutes(r),
      });
    rows.push({ userPrincipalName: upn });
  }
  const planSeats = Math.max(1, users - Math.ceil(users * 0.02));
  return {
    tenant: {
      skus: [
        { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: users },
        { skuPartNumber: 'MCOEV', prepaidUnits: users },
        { skuPartNumber: 'MCOPSTN1', prepaidUnits: planSeats },
      ],
      users: tenantUsers,
      // A pool of US calling plan numbers, for runs with DIALTONE_PHONE_NUMBERS=pool.
      numbers: Array.from({ length: options.poolNumbers ?? 0 }, (_, i) => ({
        telephoneNumber: `+1206${String(i).padStart(7, '0')}`,
        numberType: 'callingPlan' as const,
        isoCountryCode: 'US',
      })),
    },
    rows,
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The highest number of `times` (ms) that fall in any window of `windowMs`, by a sliding window over them sorted. */
/** The most counts in any `seconds` consecutive whole seconds of a per-second tally (second -> count). */
export function maxInSeconds(bySecond: ReadonlyMap<number, number>, seconds: number): number {
  let best = 0;
  for (const start of bySecond.keys()) {
    let sum = 0;
    for (let s = start; s < start + seconds; s++) sum += bySecond.get(s) ?? 0;
    best = Math.max(best, sum);
  }
  return best;
}

export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
