// The simulated tenant: SKUs with seats, users with usage location and licences, and Teams' view of each user.
// Licensing semantics follow Graph's assignLicense (seats, usage location, service plan prerequisites, mutually
// exclusive plans, unknown skuIds) with the error texts Graph returns; Teams shows a feature some time after the
// licence that carries it is assigned, as it does in a real tenant.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { builtInSku, SERVICE_PLAN_IDS, canonicalPartNumber, capabilitiesOf, type Capability } from '../../shared/domain/catalog';
import { PUBLISHED_SKUS } from './published-skus';

export const tenantFileSchema = z.object({
  tenantId: z.string().optional(),
  skus: z.array(
    z.object({
      skuPartNumber: z.string().min(1),
      skuId: z.string().optional(),
      prepaidUnits: z.union([z.number().int().min(0), z.object({ enabled: z.number().int().min(0), warning: z.number().int().min(0).optional(), suspended: z.number().int().min(0).optional() })]),
      consumedUnits: z.number().int().min(0).default(0),
      capabilityStatus: z.enum(['Enabled', 'Warning', 'Suspended', 'Deleted', 'LockedOut']).optional(),
      servicePlans: z.array(z.string()).optional(),
    }),
  ),
  users: z.array(
    z.object({
      userPrincipalName: z.string().min(3),
      id: z.string().optional(),
      usageLocation: z.string().length(2).nullable().default(null),
      assignedSkus: z.array(z.string()).default([]),
      teamsProvisioningMinutes: z.number().min(0).nullable().default(30),
    }),
  ),
  /** Pairs of service plan names that cannot be held together. */
  mutuallyExclusive: z.array(z.tuple([z.string(), z.string()])).default([['MCOPSTN1', 'MCOPSTN2']]),
});
export type TenantFile = z.input<typeof tenantFileSchema>;

/** Service plans that need another service plan, as Graph's dependency check has them. */
const PLAN_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  MCOPSTN1: ['MCOEV'],
  MCOPSTN2: ['MCOEV'],
  MCOPSTN5: ['MCOEV'],
  MCOPSTN6: ['MCOEV'],
  MCOMEETACPEA: ['MCOPSTNC'],
};

/** Minutes after assignment until Teams shows a feature other than CallingPlan. */
export const DEFAULT_FEATURE_DELAY_MINUTES = 5;

export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const PUBLISHED_BY_PART = new Map(PUBLISHED_SKUS.map((s) => [canonicalPartNumber(s.partNumber), s]));
const PUBLISHED_PLAN_IDS = new Map(PUBLISHED_SKUS.flatMap((s) => s.servicePlans.map(([name, id]) => [name.toUpperCase(), id] as const)));

export function planId(name: string): string {
  const upper = name.toUpperCase();
  return SERVICE_PLAN_IDS[upper] ?? PUBLISHED_PLAN_IDS.get(upper) ?? stableGuid(`plan:${name}`);
}

export interface SimSku {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly servicePlans: readonly string[];
  readonly enabled: number;
  readonly warning: number;
  readonly suspended: number;
  readonly capabilityStatus: string;
  consumedUnits: number;
}

export interface SimUser {
  readonly id: string;
  readonly userPrincipalName: string;
  usageLocation: string | null;
  /** skuId (lower case) → when it was assigned (ms). */
  readonly licences: Map<string, number>;
  readonly teamsProvisioningMinutes: number | null;
  readonly createdAt: number;
}

export class LicensingError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class SimTenant {
  readonly tenantId: string;
  readonly skus = new Map<string, SimSku>();
  private readonly users = new Map<string, SimUser>();
  private readonly byUpn = new Map<string, SimUser>();
  private readonly exclusive: readonly (readonly [string, string])[];

  constructor(file: TenantFile, now: number) {
    const t = tenantFileSchema.parse(file);
    this.tenantId = t.tenantId ?? stableGuid('tenant');
    this.exclusive = t.mutuallyExclusive.map(([a, b]) => [a.toUpperCase(), b.toUpperCase()] as const);
    for (const s of t.skus) {
      const part = canonicalPartNumber(s.skuPartNumber);
      // Defaults from Microsoft's licensing table (published-skus.ts), else the built-in catalog's plans of note.
      const published = PUBLISHED_BY_PART.get(part);
      const builtIn = builtInSku(part);
      const units = typeof s.prepaidUnits === 'number' ? { enabled: s.prepaidUnits } : s.prepaidUnits;
      const sku: SimSku = {
        skuId: (s.skuId ?? published?.skuId ?? builtIn?.skuId ?? stableGuid(`sku:${part}`)).toLowerCase(),
        skuPartNumber: s.skuPartNumber.trim().toUpperCase(),
        servicePlans: (s.servicePlans ?? published?.servicePlans.map(([name]) => name) ?? builtIn?.servicePlans ?? []).map((p) => p.toUpperCase()),
        enabled: units.enabled,
        warning: units.warning ?? 0,
        suspended: units.suspended ?? 0,
        capabilityStatus: s.capabilityStatus ?? 'Enabled',
        consumedUnits: s.consumedUnits,
      };
      this.skus.set(sku.skuId, sku);
    }
    for (const u of t.users) {
      const user: SimUser = {
        id: u.id ?? stableGuid(`user:${u.userPrincipalName.toLowerCase()}`),
        userPrincipalName: u.userPrincipalName,
        usageLocation: u.usageLocation ? u.usageLocation.toUpperCase() : null,
        licences: new Map(),
        teamsProvisioningMinutes: u.teamsProvisioningMinutes,
        createdAt: now - 86_400_000,
      };
      for (const part of u.assignedSkus) {
        const sku = this.skuByPart(part);
        if (!sku) throw new Error(`tenant file: user ${u.userPrincipalName} holds ${part}, which is not among the tenant's skus`);
        user.licences.set(sku.skuId, now - 86_400_000 * 30);
      }
      this.users.set(user.id, user);
      this.byUpn.set(user.userPrincipalName.toLowerCase(), user);
    }
    for (const sku of this.skus.values()) {
      const holders = [...this.users.values()].filter((u) => u.licences.has(sku.skuId)).length;
      sku.consumedUnits = Math.max(sku.consumedUnits, holders);
    }
  }

  skuByPart(part: string): SimSku | undefined {
    const p = canonicalPartNumber(part);
    return [...this.skus.values()].find((s) => canonicalPartNumber(s.skuPartNumber) === p);
  }

  userCount(): number {
    return this.users.size;
  }

  /** By object id or UPN, case-insensitively, as Graph resolves /users/{id | userPrincipalName}. */
  findUser(idOrUpn: string): SimUser | undefined {
    return this.users.get(idOrUpn.toLowerCase()) ?? this.byUpn.get(idOrUpn.toLowerCase());
  }

  requireUser(idOrUpn: string): SimUser {
    const u = this.findUser(idOrUpn);
    if (!u) throw new LicensingError(404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
    return u;
  }

  setUsageLocation(user: SimUser, location: unknown): boolean {
    if (typeof location !== 'string' || !/^[A-Za-z]{2}$/.test(location)) {
      throw new LicensingError(400, 'Request_BadRequest', `Invalid value specified for property 'usageLocation' of resource 'User'.`);
    }
    const next = location.toUpperCase();
    const changed = user.usageLocation !== next;
    user.usageLocation = next;
    return changed;
  }

  /** Applies assignLicense; returns whether anything changed. Throws LicensingError with Graph's texts. */
  assignLicense(user: SimUser, add: readonly string[], remove: readonly string[], now: number): boolean {
    if (add.length > 0 && !user.usageLocation) {
      throw new LicensingError(400, 'Request_BadRequest', 'License assignment cannot be done for user with invalid usage location.');
    }
    for (const id of [...add, ...remove]) {
      if (!this.skus.has(id.toLowerCase())) throw new LicensingError(400, 'Request_BadRequest', `License ${id} does not correspond to a valid company License.`);
    }
    for (const id of remove) {
      if (!user.licences.has(id.toLowerCase())) throw new LicensingError(400, 'Request_BadRequest', 'User does not have a corresponding license.');
    }
    const result = new Set(user.licences.keys());
    for (const id of remove) result.delete(id.toLowerCase());
    for (const id of add) result.add(id.toLowerCase());
    const plans = new Set([...result].flatMap((id) => this.skus.get(id)!.servicePlans));
    for (const plan of plans) {
      const missing = (PLAN_DEPENDENCIES[plan] ?? []).filter((d) => !plans.has(d));
      if (missing.length > 0) {
        throw new LicensingError(400, 'Request_BadRequest', `License assignment failed because service plan ${planId(plan)} depends on the service plan(s) ${missing.map(planId).join(', ')}`);
      }
    }
    for (const [a, b] of this.exclusive) {
      if (plans.has(a) && plans.has(b)) throw new LicensingError(400, 'Request_BadRequest', `License assignment failed because service plans ${planId(a)}, ${planId(b)} are mutually exclusive.`);
    }
    const added = [...result].filter((id) => !user.licences.has(id));
    for (const id of added) {
      const sku = this.skus.get(id)!;
      const assignable = sku.capabilityStatus === 'Enabled' || sku.capabilityStatus === 'Warning' ? sku.enabled + sku.warning : 0;
      if (sku.consumedUnits + 1 > assignable) throw new LicensingError(400, 'Request_BadRequest', `Subscription with SKU ${sku.skuId} does not have any available licenses.`);
    }
    const removed = remove.map((r) => r.toLowerCase());
    for (const id of removed) {
      user.licences.delete(id);
      this.skus.get(id)!.consumedUnits--;
    }
    for (const id of added) {
      user.licences.set(id, now);
      this.skus.get(id)!.consumedUnits++;
    }
    return added.length > 0 || removed.length > 0;
  }

  capabilitySince(user: SimUser): Map<Capability, number> {
    const since = new Map<Capability, number>();
    for (const [skuId, at] of user.licences) {
      for (const cap of capabilitiesOf(this.skus.get(skuId)?.servicePlans ?? [])) {
        const prev = since.get(cap);
        if (prev === undefined || at < prev) since.set(cap, at);
      }
    }
    return since;
  }

  /** Teams' featureTypes for the user at time `now`. */
  featureTypes(user: SimUser, now: number): string[] {
    const since = this.capabilitySince(user);
    const after = (cap: Capability, minutes: number | null) => {
      const at = since.get(cap);
      return at !== undefined && minutes !== null && now >= at + minutes * 60_000;
    };
    const features: string[] = [];
    if (since.has('teams')) features.push('Teams');
    if (after('audioConferencing', DEFAULT_FEATURE_DELAY_MINUTES) || after('audioConferencingPayPerMinute', DEFAULT_FEATURE_DELAY_MINUTES)) features.push('AudioConferencing');
    if (after('phoneSystem', DEFAULT_FEATURE_DELAY_MINUTES)) features.push('PhoneSystem');
    if (after('callingPlan', user.teamsProvisioningMinutes)) features.push('CallingPlan');
    return features;
  }

  /** When Teams shows (or showed) the calling plan, or null when it never will under the current licences. */
  callingPlanVisibleAt(user: SimUser): number | null {
    const at = this.capabilitySince(user).get('callingPlan');
    return at === undefined || user.teamsProvisioningMinutes === null ? null : at + user.teamsProvisioningMinutes * 60_000;
  }

  userResource(user: SimUser, select: readonly string[] | undefined, now: number): Record<string, unknown> {
    const full: Record<string, unknown> = {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      displayName: user.userPrincipalName.split('@')[0],
      mail: user.userPrincipalName,
      usageLocation: user.usageLocation,
      assignedLicenses: [...user.licences.keys()].map((skuId) => ({ disabledPlans: [], skuId })),
      assignedPlans: [...user.licences].flatMap(([skuId, at]) =>
        (this.skus.get(skuId)?.servicePlans ?? []).map((p) => ({ assignedDateTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'), capabilityStatus: 'Enabled', service: p.startsWith('MCO') ? 'MicrosoftCommunicationsOnline' : 'TeamspaceAPI', servicePlanId: planId(p) })),
      ),
    };
    // Graph returns only a default set of properties unless $select asks; usageLocation and licences need $select.
    const defaults = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
    const keys = select && select.length > 0 ? select : defaults;
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = k in full ? full[k] : null;
    void now;
    return out;
  }

  teamsConfiguration(user: SimUser, now: number): Record<string, unknown> {
    const features = this.featureTypes(user, now);
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      tenantId: this.tenantId,
      accountType: 'user',
      featureTypes: features,
      isEnterpriseVoiceEnabled: features.includes('PhoneSystem'),
      telephoneNumbers: [],
      effectivePolicyAssignments: [],
      createdDateTime: new Date(user.createdAt).toISOString(),
      modifiedDateTime: new Date(Math.max(user.createdAt, ...user.licences.values())).toISOString(),
    };
  }

  subscribedSkus(): Record<string, unknown>[] {
    return [...this.skus.values()].map((s) => ({
      accountId: this.tenantId,
      accountName: 'contoso',
      appliesTo: 'User',
      capabilityStatus: s.capabilityStatus,
      consumedUnits: s.consumedUnits,
      id: `${this.tenantId}_${s.skuId}`,
      skuId: s.skuId,
      skuPartNumber: s.skuPartNumber,
      subscriptionIds: [stableGuid(`sub:${s.skuId}`)],
      prepaidUnits: { enabled: s.enabled, suspended: s.suspended, warning: s.warning, lockedOut: 0 },
      servicePlans: s.servicePlans.map((p) => ({ servicePlanId: planId(p), servicePlanName: p, provisioningStatus: 'Success', appliesTo: 'User' })),
    }));
  }
}
