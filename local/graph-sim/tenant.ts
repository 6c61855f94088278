// The simulated tenant: SKUs with seats, users with usage location and licences (direct or through a group, with
// service plans switched off), and Teams' view of each user. Licensing semantics follow Graph's assignLicense (seats,
// usage location, service plan dependencies, mutually exclusive plans, unknown skuIds, nothing to change) with the
// error texts Graph returns; Teams shows a feature some time after the licence that carries it is assigned, as it
// does in a real tenant, and only while the plan is switched on.
import { z } from 'zod';
import {
  builtInSku,
  SERVICE_PLAN_IDS,
  canonicalPartNumber,
  capabilitiesOf,
  type Capability,
} from '../../shared/domain/catalog';
import { SERVICE_PLAN_DEPENDENCIES, unmetDependencies } from '../../shared/domain/holdings';
import { closestName, jsonSyntaxErrorAt, lineAndColumn } from '../../shared/domain/input';
import { identityFileSchema, stableId } from './authority';
import {
  SIM_ACTIVATION_STATES,
  SIM_NUMBER_CAPABILITIES,
  SIM_NUMBER_TYPES,
  SimNumberBook,
  type HeldNumber,
  type NumberBookSnapshot,
} from './numbers';
import { PUBLISHED_SKUS } from './published-skus';

const heldSku = z.union([
  z.string(),
  z.strictObject({
    sku: z.string().min(1),
    /** Service plan names switched off in this assignment. */
    disabledPlans: z.array(z.string()).default([]),
    /** The group the licence is inherited from (its display name); absent = assigned directly. */
    viaGroup: z.string().min(1).optional(),
    state: z.enum(['Active', 'ActiveWithError', 'Error']).default('Active'),
    /** licenseAssignmentState.error for ActiveWithError / Error (default Other). */
    error: z
      .enum([
        'CountViolation',
        'MutuallyExclusiveViolation',
        'DependencyViolation',
        'ProhibitedInUsageLocationViolation',
        'UniquenessViolation',
        'Other',
      ])
      .optional(),
  }),
]);

/** What Teams configuration reads answer instead of the configuration: 403 (consent missing) or 404 (not in Teams). */
const teamsReadStatus = z.union([z.literal(401), z.literal(403), z.literal(404)]);

export const tenantFileSchema = z.strictObject({
  tenantId: z.string().optional(),
  skus: z.array(
    z.strictObject({
      skuPartNumber: z.string().min(1),
      skuId: z.string().optional(),
      prepaidUnits: z.union([
        z.number().int().min(0),
        z.strictObject({
          enabled: z.number().int().min(0),
          warning: z.number().int().min(0).optional(),
          suspended: z.number().int().min(0).optional(),
        }),
      ]),
      consumedUnits: z.number().int().min(0).default(0),
      capabilityStatus: z.enum(['Enabled', 'Warning', 'Suspended', 'Deleted', 'LockedOut']).optional(),
      servicePlans: z.array(z.string()).optional(),
    }),
  ),
  users: z.array(
    z.strictObject({
      userPrincipalName: z.string().min(3),
      id: z.string().optional(),
      usageLocation: z.string().length(2).nullable().default(null),
      /** Graph's userType; invited guests are Guest. */
      userType: z.enum(['Member', 'Guest']).default('Member'),
      assignedSkus: z.array(heldSku).default([]),
      teamsProvisioningMinutes: z.number().min(0).nullable().default(30),
      teamsReadStatus: teamsReadStatus.optional(),
      /** The account exists only this many minutes after the simulator starts (inbound provisioning creates it later). */
      createdAfterMinutes: z.number().min(0).max(525_600).optional(),
    }),
  ),
  /** Pairs of service plan names that cannot be held together. */
  mutuallyExclusive: z.array(z.tuple([z.string(), z.string()])).default([['MCOPSTN1', 'MCOPSTN2']]),
  /** Every user's Teams configuration reads answer this status. */
  teamsReadStatus: teamsReadStatus.optional(),
  /** Service-plan dependencies beyond the documented ones: [plan, [needs any one of these plans]]. */
  dependencies: z.array(z.tuple([z.string(), z.array(z.string()).min(1)])).default([]),
  /**
   * The app's identity holds License Administrator at the scope of this administrative unit (the grant hook's
   * DIALTONE_GRAPH_SCOPE=administrative-unit, docs/least-privilege.md): assignLicense and usage-location writes to a
   * member are allowed through the role even without a tenant-wide write permission; to anyone else they need that
   * permission, and without it Graph answers 403 ("Assign Microsoft Entra roles with administrative unit scope": the
   * role's permissions apply only to members of the unit). A tenant-wide application permission still reaches every
   * user, as in Entra. Reads are not scoped.
   */
  administrativeUnit: z.object({ members: z.array(z.string().min(3)) }).optional(),
  /** The tenant's Teams phone numbers; assignedTo is the UPN of the user holding one, or null. */
  numbers: z
    .array(
      z.strictObject({
        telephoneNumber: z.string().regex(/^\+?[1-9]\d{1,14}$/, 'must be E.164'),
        numberType: z.enum(SIM_NUMBER_TYPES),
        isoCountryCode: z.string().length(2).nullable().default(null),
        assignedTo: z.string().nullable().default(null),
        locationId: z.string().nullable().default(null),
        /** What the number may be assigned to, as Graph names it (numberassignment.md); default userAssignment. */
        capabilities: z.array(z.enum(SIM_NUMBER_CAPABILITIES)).default(['userAssignment']),
        activationState: z.enum(SIM_ACTIVATION_STATES).default('activated'),
      }),
    )
    .default([]),
  /** Minutes after a number order succeeds before Teams' user configuration lists the number (default 0). */
  numberReadBackDelayMinutes: z.number().min(0).max(1440).default(0),
  /** The tenant's Entra ID: app registrations with their granted permissions, admins with their roles (authority.ts). */
  identity: identityFileSchema.optional(),
});
export type TenantFile = z.input<typeof tenantFileSchema>;

/** Every field name a tenant file may use, at any level: what an unknown field is compared with. */
const TENANT_FILE_FIELDS = [
  'tenantId',
  'skus',
  'users',
  'mutuallyExclusive',
  'teamsReadStatus',
  'dependencies',
  'numbers',
  'skuPartNumber',
  'skuId',
  'prepaidUnits',
  'enabled',
  'warning',
  'suspended',
  'consumedUnits',
  'capabilityStatus',
  'servicePlans',
  'userPrincipalName',
  'id',
  'usageLocation',
  'userType',
  'assignedSkus',
  'sku',
  'disabledPlans',
  'viaGroup',
  'state',
  'error',
  'teamsProvisioningMinutes',
  'createdAfterMinutes',
  'telephoneNumber',
  'numberType',
  'isoCountryCode',
  'assignedTo',
  'locationId',
];

/**
 * Reads a tenant file as strictly as the app reads a JSON batch (docs/strict-json.md): malformed JSON is named by line
 * and column, and a field the simulator does not know refuses the file, naming its path and the closest known name
 * (a misspelt "teamsProvisioningMinute" would otherwise silently give the default).
 */
export function readTenantFile(
  text: string,
  name: string,
): { ok: true; tenant: z.output<typeof tenantFileSchema> } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    const body = text.replace(/^\uFEFF/, '');
    const at = jsonSyntaxErrorAt(body);
    const { line, column } = lineAndColumn(body, at);
    return {
      ok: false,
      message: `${name}: not valid JSON: line ${line}, column ${column}${at >= body.length ? ': the text ends too early' : ''}`,
    };
  }
  const parsed = tenantFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, tenant: parsed.data };
  const problems = parsed.error.issues.flatMap((i) => {
    const at = i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => {
        const closest = closestName(k, TENANT_FILE_FIELDS);
        return `${at ? `${at}.` : ''}${k}: unknown field${closest ? `; did you mean ${closest}?` : ''}`;
      });
    }
    return [`${at || '(top)'}: ${i.message}`];
  });
  return { ok: false, message: `${name}: ${problems.join('; ')}` };
}

/** Minutes after assignment until Teams shows a feature other than CallingPlan. */
export const DEFAULT_FEATURE_DELAY_MINUTES = 5;
/** The capabilities featureTypes shows DEFAULT_FEATURE_DELAY_MINUTES after their licence (featureTypes below). */
const FEATURE_CAPABILITIES: ReadonlySet<string> = new Set([
  'audioConferencing',
  'audioConferencingPayPerMinute',
  'phoneSystem',
]);

/** A GUID made from a seed, the same on every run (authority.ts makes the ids of the tenant's apps and admins alike). */
export const stableGuid = stableId;

const PUBLISHED_BY_PART = new Map(PUBLISHED_SKUS.map((s) => [canonicalPartNumber(s.partNumber), s]));
const PUBLISHED_PLAN_IDS = new Map(
  PUBLISHED_SKUS.flatMap((s) => s.servicePlans.map(([name, id]) => [name.toUpperCase(), id] as const)),
);

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

/**
 * One licence assignment: direct (group null) or inherited from a group, as licenseAssignmentStates lists them. Never
 * changed once made: a change replaces it in the user's list (SimTenant caches what it derives from the list's entries).
 */
export interface SimAssignment {
  /** Lower case. */
  readonly skuId: string;
  /** Group display name, or null for a direct assignment. */
  readonly group: string | null;
  /** Service plan names switched off. */
  readonly disabledPlans: ReadonlySet<string>;
  /** When each switched-on plan was switched on (ms). */
  readonly planSince: ReadonlyMap<string, number>;
  readonly state: 'Active' | 'ActiveWithError' | 'Error';
  readonly error: string | null;
  readonly updatedAt: number;
}

export interface SimUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly userType: 'Member' | 'Guest';
  usageLocation: string | null;
  /** When this simulator last set the usage location (for the replication lag), ms. */
  usageLocationSetAt: number | null;
  readonly assignments: SimAssignment[];
  readonly teamsProvisioningMinutes: number | null;
  readonly teamsReadStatus: 401 | 403 | 404 | undefined;
  /** When the account came (or comes) into existence; before that Graph does not find it. */
  readonly createdAt: number;
}

/** The SKU as the user effectively holds it: the union of its active assignments. */
interface EffectiveLicence {
  readonly skuId: string;
  /** Plans switched off in every active assignment of the SKU. */
  readonly disabledPlans: Set<string>;
  /** Plan name → when it was first switched on in an active assignment. */
  readonly planSince: Map<string, number>;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
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

export interface TenantSnapshot {
  readonly users: {
    readonly id: string;
    readonly usageLocation: string | null;
    readonly usageLocationSetAt: number | null;
    readonly createdAt: number;
    readonly assignments: (Omit<SimAssignment, 'disabledPlans' | 'planSince'> & {
      disabledPlans: string[];
      planSince: [string, number][];
    })[];
  }[];
  readonly consumedUnits: [string, number][];
  readonly numbers: NumberBookSnapshot;
}

export class SimTenant {
  readonly tenantId: string;
  readonly skus = new Map<string, SimSku>();
  private readonly users = new Map<string, SimUser>();
  private readonly byUpn = new Map<string, SimUser>();
  private readonly exclusive: readonly (readonly [string, string])[];
  private readonly dependencies: readonly (readonly [string, readonly string[]])[];
  /** The administrative unit's members (lower-case UPNs) when the app's write role is scoped to it. */
  private readonly unitMembers: ReadonlySet<string> | undefined;
  /** What every user's Teams configuration reads answer instead (the tenant file's teamsReadStatus; tests may change it). */
  teamsReadStatus: 401 | 403 | 404 | undefined;
  /** How long after a usage location is set that assignLicense still sees none (replication lag), ms. */
  usageLocationLagMs = 0;
  readonly numbers: SimNumberBook;

  /**
   * @param now the simulator's start, from which createdAfterMinutes counts
   * @param clock the simulator's current time, which decides whether a later-created account exists yet
   */
  constructor(
    file: TenantFile,
    now: number,
    private readonly clock: () => number = () => now,
  ) {
    const t = tenantFileSchema.parse(file);
    this.tenantId = t.tenantId ?? stableGuid('tenant');
    this.exclusive = t.mutuallyExclusive.map(([a, b]) => [a.toUpperCase(), b.toUpperCase()] as const);
    this.dependencies = [
      ...SERVICE_PLAN_DEPENDENCIES,
      ...t.dependencies.map(([p, needs]) => [p.toUpperCase(), needs.map((n) => n.toUpperCase())] as const),
    ];
    this.teamsReadStatus = t.teamsReadStatus;
    this.unitMembers = t.administrativeUnit
      ? new Set(t.administrativeUnit.members.map((m) => m.toLowerCase()))
      : undefined;
    for (const s of t.skus) {
      const part = canonicalPartNumber(s.skuPartNumber);
      // Defaults from Microsoft's licensing table (published-skus.ts), else the built-in catalog's plans of note.
      const published = PUBLISHED_BY_PART.get(part);
      const builtIn = builtInSku(part);
      const units = typeof s.prepaidUnits === 'number' ? { enabled: s.prepaidUnits } : s.prepaidUnits;
      const sku: SimSku = {
        skuId: (s.skuId ?? published?.skuId ?? builtIn?.skuId ?? stableGuid(`sku:${part}`)).toLowerCase(),
        skuPartNumber: s.skuPartNumber.trim().toUpperCase(),
        servicePlans: (
          s.servicePlans ??
          published?.servicePlans.map(([name]) => name) ??
          builtIn?.servicePlans ??
          []
        ).map((p) => p.toUpperCase()),
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
        userType: u.userType,
        usageLocation: u.usageLocation ? u.usageLocation.toUpperCase() : null,
        usageLocationSetAt: null,
        assignments: [],
        teamsProvisioningMinutes: u.teamsProvisioningMinutes,
        teamsReadStatus: u.teamsReadStatus,
        createdAt: u.createdAfterMinutes === undefined ? now - 86_400_000 : now + u.createdAfterMinutes * 60_000,
      };
      if (u.createdAfterMinutes !== undefined && u.assignedSkus.length > 0)
        throw new Error(
          `tenant file: user ${u.userPrincipalName} is created later (createdAfterMinutes), so it cannot hold licences yet`,
        );
      for (const held of u.assignedSkus) {
        const h =
          typeof held === 'string'
            ? { sku: held, disabledPlans: [], viaGroup: undefined, state: 'Active' as const, error: undefined }
            : held;
        const sku = this.skuByPart(h.sku);
        if (!sku)
          throw new Error(
            `tenant file: user ${u.userPrincipalName} holds ${h.sku}, which is not among the tenant's skus`,
          );
        const disabled = new Set(h.disabledPlans.map((p) => p.toUpperCase()));
        const strange = [...disabled].filter((p) => !sku.servicePlans.includes(p));
        if (strange.length > 0)
          throw new Error(
            `tenant file: user ${u.userPrincipalName}: ${strange.join(', ')} is not a service plan of ${h.sku} (${sku.servicePlans.join(', ')})`,
          );
        const since = now - 86_400_000 * 30;
        user.assignments.push({
          skuId: sku.skuId,
          group: h.viaGroup ?? null,
          disabledPlans: disabled,
          planSince: new Map(sku.servicePlans.filter((p) => !disabled.has(p)).map((p) => [p, since])),
          state: h.state,
          error: h.state === 'Active' ? null : (h.error ?? 'Other'),
          updatedAt: since,
        });
      }
      this.users.set(user.id, user);
      this.byUpn.set(user.userPrincipalName.toLowerCase(), user);
    }
    this.numbers = new SimNumberBook(
      t.numbers.map((n) => {
        const holder = n.assignedTo === null ? null : this.byUpn.get(n.assignedTo.toLowerCase());
        if (holder === undefined)
          throw new Error(
            `tenant file: number ${n.telephoneNumber} is assigned to ${n.assignedTo}, who is not among the tenant's users`,
          );
        return {
          telephoneNumber: n.telephoneNumber,
          numberType: n.numberType,
          isoCountryCode: n.isoCountryCode?.toUpperCase() ?? null,
          assignedTo: holder?.id ?? null,
          locationId: n.locationId,
          capabilities: n.capabilities,
          activationState: n.activationState,
        };
      }),
    );
    this.numbers.readBackDelayMs = t.numberReadBackDelayMinutes * 60_000;
    for (const sku of this.skus.values()) {
      const holders = [...this.users.values()].filter((u) => this.licences(u).has(sku.skuId)).length;
      sku.consumedUnits = Math.max(sku.consumedUnits, holders);
    }
  }

  /**
   * The tenant as the app has changed it (usage locations, licences, seats, numbers and orders), as JSON: a local host
   * started with a state folder keeps its batches across restarts, and its tenant must not forget what they did. The
   * tenant file still says who exists; this says what has happened to them since.
   */
  snapshot(): TenantSnapshot {
    return {
      users: [...this.users.values()].map((u) => ({
        id: u.id,
        usageLocation: u.usageLocation,
        usageLocationSetAt: u.usageLocationSetAt,
        createdAt: u.createdAt,
        assignments: u.assignments.map((a) => ({
          ...a,
          disabledPlans: [...a.disabledPlans],
          planSince: [...a.planSince],
        })),
      })),
      consumedUnits: [...this.skus.values()].map((k) => [k.skuId, k.consumedUnits]),
      numbers: this.numbers.snapshot(),
    };
  }

  /** Takes back a snapshot of this tenant (the same tenant file); users or SKUs it does not know are an error. */
  restore(s: TenantSnapshot): void {
    for (const saved of s.users) {
      const u = this.users.get(saved.id);
      if (!u) throw new Error(`the saved tenant state names a user (${saved.id}) that the tenant file does not`);
      u.usageLocation = saved.usageLocation;
      u.usageLocationSetAt = saved.usageLocationSetAt;
      (u as { createdAt: number }).createdAt = saved.createdAt;
      u.assignments.splice(
        0,
        u.assignments.length,
        ...saved.assignments.map((a) => ({
          ...a,
          disabledPlans: new Set(a.disabledPlans),
          planSince: new Map(a.planSince),
        })),
      );
    }
    for (const [skuId, consumed] of s.consumedUnits) {
      const sku = this.skus.get(skuId);
      if (!sku) throw new Error(`the saved tenant state names a SKU (${skuId}) that the tenant file does not`);
      sku.consumedUnits = consumed;
    }
    this.numbers.restore(s.numbers);
  }

  /**
   * What the user effectively holds, by skuId. An assignment in state Error holds nothing (the licence was not
   * applied: licenseassignmentstate.md); a user holding a SKU directly and through groups uses one seat (Entra
   * licensing-groups-resolve-problems.md: such users "still consume only one license for that product").
   */
  licences(user: SimUser): Map<string, EffectiveLicence> {
    const out = new Map<string, EffectiveLicence>();
    for (const a of user.assignments) {
      if (a.state === 'Error') continue;
      const prev = out.get(a.skuId);
      if (!prev) {
        out.set(a.skuId, { skuId: a.skuId, disabledPlans: new Set(a.disabledPlans), planSince: new Map(a.planSince) });
        continue;
      }
      for (const p of [...prev.disabledPlans]) if (!a.disabledPlans.has(p)) prev.disabledPlans.delete(p);
      for (const [p, at] of a.planSince) prev.planSince.set(p, Math.min(at, prev.planSince.get(p) ?? at));
    }
    return out;
  }

  /** Names of the switched-on service plans of every SKU the user holds. */
  private enabledPlans(licences: ReadonlyMap<string, EffectiveLicence>): Set<string> {
    const on = new Set<string>();
    for (const l of licences.values())
      for (const p of this.skus.get(l.skuId)?.servicePlans ?? []) if (!l.disabledPlans.has(p)) on.add(p);
    return on;
  }

  /** Plan name of a servicePlanId of the SKU, or undefined. */
  private planNameOf(sku: SimSku, servicePlanId: string): string | undefined {
    return sku.servicePlans.find((p) => planId(p).toLowerCase() === servicePlanId.toLowerCase());
  }

  skuByPart(part: string): SimSku | undefined {
    const p = canonicalPartNumber(part);
    return [...this.skus.values()].find((s) => canonicalPartNumber(s.skuPartNumber) === p);
  }

  userCount(): number {
    return this.users.size;
  }

  /**
   * By object id or UPN, case-insensitively, as Graph resolves /users/{id | userPrincipalName}. An account whose
   * creation time has not come does not exist yet: Graph answers 404 for it like for any unknown user.
   */
  /** Whether the app's License Administrator role at the administrative unit's scope covers `user` (a member). */
  inUnitRoleScope(user: SimUser): boolean {
    return this.unitMembers !== undefined && this.unitMembers.has(user.userPrincipalName.toLowerCase());
  }

  findUser(idOrUpn: string): SimUser | undefined {
    const user = this.users.get(idOrUpn.toLowerCase()) ?? this.byUpn.get(idOrUpn.toLowerCase());
    return user && user.createdAt <= this.clock() ? user : undefined;
  }

  requireUser(idOrUpn: string): SimUser {
    const u = this.findUser(idOrUpn);
    if (!u)
      throw new LicensingError(
        404,
        'Request_ResourceNotFound',
        `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return u;
  }

  setUsageLocation(user: SimUser, location: unknown, now = 0): boolean {
    if (typeof location !== 'string' || !/^[A-Za-z]{2}$/.test(location)) {
      throw new LicensingError(
        400,
        'Request_BadRequest',
        `Invalid value specified for property 'usageLocation' of resource 'User'.`,
      );
    }
    const next = location.toUpperCase();
    const changed = user.usageLocation !== next;
    if (changed) user.usageLocationSetAt = now;
    user.usageLocation = next;
    return changed;
  }

  /**
   * Applies assignLicense; returns whether anything changed. Throws LicensingError with Graph's texts. An added SKU
   * the user already holds directly has its disabled plans replaced (how assignLicense switches plans on and off:
   * user-assignlicense.md); that uses no seat.
   */
  assignLicense(
    user: SimUser,
    add: readonly { skuId: string; disabledPlans: readonly string[] }[],
    remove: readonly string[],
    now: number,
  ): boolean {
    if (add.length === 0 && remove.length === 0) {
      // msgraph-sdk-powershell issue 3286 records this answer to an assignLicense with both arrays empty.
      throw new LicensingError(
        400,
        'Request_BadRequest',
        'No license changes provided. At least one license to add or remove must be specified.',
      );
    }
    // "Invalid usage location" straight after a PATCH set it: replication lag (Okta support article; Partner-Center-
    // DotNet-Samples issue 131). How long it lasts is not published; the simulator's fault option sets it.
    const locationSeen =
      user.usageLocation !== null &&
      (user.usageLocationSetAt === null || now >= user.usageLocationSetAt + this.usageLocationLagMs);
    if (add.length > 0 && !locationSeen) {
      throw new LicensingError(
        400,
        'Request_BadRequest',
        'License assignment cannot be done for user with invalid usage location.',
      );
    }
    for (const id of [...add.map((a) => a.skuId), ...remove]) {
      if (!this.skus.has(id.toLowerCase()))
        throw new LicensingError(
          400,
          'Request_BadRequest',
          `License ${id} does not correspond to a valid company License.`,
        );
    }
    const direct = (skuId: string) => user.assignments.find((a) => a.group === null && a.skuId === skuId.toLowerCase());
    for (const id of remove) {
      if (!direct(id)) {
        if (this.licences(user).has(id.toLowerCase())) {
          // Entra licensing-group-advanced.md: an inherited licence cannot be removed from the user directly.
          throw new LicensingError(
            400,
            'Request_BadRequest',
            'User license is inherited from a group membership and it cannot be removed directly from the user.',
          );
        }
        throw new LicensingError(400, 'Request_BadRequest', 'User does not have a corresponding license.');
      }
    }
    const before = this.licences(user);
    const next = user.assignments.filter((a) => !(a.group === null && remove.some((r) => r.toLowerCase() === a.skuId)));
    const switchedOn = new Set<string>();
    const changed = new Set<SimAssignment>();
    for (const a of add) {
      const sku = this.skus.get(a.skuId.toLowerCase())!;
      // Unknown plan ids in disabledPlans are ignored here; what Graph answers to them is not recorded.
      const disabled = new Set(
        a.disabledPlans.map((p) => this.planNameOf(sku, p)).filter((p): p is string => p !== undefined),
      );
      const existing = next.find((x) => x.group === null && x.skuId === sku.skuId);
      const planSince = new Map(
        sku.servicePlans.filter((p) => !disabled.has(p)).map((p) => [p, existing?.planSince.get(p) ?? now]),
      );
      for (const p of sku.servicePlans)
        if (!disabled.has(p) && !(before.get(sku.skuId)?.planSince.has(p) ?? false)) switchedOn.add(p);
      const replacement: SimAssignment = {
        skuId: sku.skuId,
        group: null,
        disabledPlans: disabled,
        planSince,
        state: 'Active',
        error: null,
        updatedAt: now,
      };
      if (existing && sameSet(existing.disabledPlans, disabled)) continue;
      if (existing) next.splice(next.indexOf(existing), 1, replacement);
      else next.push(replacement);
      changed.add(replacement);
    }
    const after = this.licencesOf(next);
    const plans = this.enabledPlans(after);
    // Removing a licence whose plan a kept plan needs is refused with the same answer as adding a plan without what
    // it needs: a public log of removing a base licence before its Audio Conferencing add-on records it
    // (MicrosoftDocs/microsoft-365-docs pull request 3864, on the page "Remove Microsoft 365 licenses from user
    // accounts with PowerShell"). Only plans this request takes away are checked, so a user the tenant file gives an
    // unmet dependency can still have other licences changed.
    const lost = new Set([...this.enabledPlans(before)].filter((p) => !plans.has(p)));
    const orphaned = this.dependencies
      .filter(([p, needs]) => plans.has(p) && needs.some((n) => lost.has(n)))
      .map(([p]) => p);
    const unmet = unmetDependencies([...switchedOn, ...orphaned], plans, this.dependencies);
    if (unmet.length > 0) {
      const d = unmet[0]!;
      throw new LicensingError(
        400,
        'Request_BadRequest',
        `License assignment failed because service plan ${planId(d.plan)} depends on the service plan(s) ${d.needsOneOf.map(planId).join(', ')}`,
      );
    }
    for (const [a, b] of this.exclusive) {
      if (plans.has(a) && plans.has(b))
        throw new LicensingError(
          400,
          'Request_BadRequest',
          `License assignment failed because service plans ${planId(a)}, ${planId(b)} are mutually exclusive.`,
        );
    }
    const added = [...after.keys()].filter((id) => !before.has(id));
    const removed = [...before.keys()].filter((id) => !after.has(id));
    for (const id of added) {
      const sku = this.skus.get(id)!;
      const assignable =
        sku.capabilityStatus === 'Enabled' || sku.capabilityStatus === 'Warning' ? sku.enabled + sku.warning : 0;
      if (sku.consumedUnits + 1 > assignable)
        throw new LicensingError(
          400,
          'Request_BadRequest',
          `Subscription with SKU ${sku.skuId} does not have any available licenses.`,
        );
    }
    for (const id of removed) this.skus.get(id)!.consumedUnits--;
    for (const id of added) this.skus.get(id)!.consumedUnits++;
    const wasChanged = changed.size > 0 || next.length !== user.assignments.length;
    user.assignments.splice(0, user.assignments.length, ...next);
    if (removed.length > 0 || changed.size > 0)
      this.numbers.licencesChanged(
        user.id,
        capabilitiesOf([...this.enabledPlans(before)]),
        capabilitiesOf([...plans]),
        now,
      );
    return wasChanged;
  }

  private licencesOf(assignments: SimAssignment[]): Map<string, EffectiveLicence> {
    return this.licences({ assignments } as SimUser);
  }

  /**
   * When each capability was first switched on for the user (its plan enabled in a licence the user holds). Kept per
   * user until an entry of its assignments is replaced: every Teams read asks it, for every user a list page or its
   * filter looks at, so that a sweep of a large tenant costs the simulator little beside the stack it stands in for.
   */
  capabilitySince(user: SimUser): ReadonlyMap<Capability, number> {
    const cached = this.sinceCache.get(user);
    if (
      cached &&
      cached.assignments.length === user.assignments.length &&
      cached.assignments.every((a, i) => a === user.assignments[i])
    )
      return cached.since;
    const since = this.computeCapabilitySince(user);
    this.sinceCache.set(user, { assignments: [...user.assignments], since });
    return since;
  }
  private readonly sinceCache = new WeakMap<
    SimUser,
    { assignments: readonly SimAssignment[]; since: ReadonlyMap<Capability, number> }
  >();

  private computeCapabilitySince(user: SimUser): Map<Capability, number> {
    const since = new Map<Capability, number>();
    for (const l of this.licences(user).values()) {
      for (const [plan, at] of l.planSince) {
        if (l.disabledPlans.has(plan)) continue;
        for (const cap of capabilitiesOf([plan])) {
          const prev = since.get(cap);
          if (prev === undefined || at < prev) since.set(cap, at);
        }
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
    if (
      after('audioConferencing', DEFAULT_FEATURE_DELAY_MINUTES) ||
      after('audioConferencingPayPerMinute', DEFAULT_FEATURE_DELAY_MINUTES)
    )
      features.push('AudioConferencing');
    if (after('phoneSystem', DEFAULT_FEATURE_DELAY_MINUTES)) features.push('PhoneSystem');
    if (after('callingPlan', user.teamsProvisioningMinutes)) features.push('CallingPlan');
    return features;
  }

  /** When Teams shows (or showed) the calling plan, or null when it never will under the current licences. */
  callingPlanVisibleAt(user: SimUser): number | null {
    const at = this.capabilitySince(user).get('callingPlan');
    return at === undefined || user.teamsProvisioningMinutes === null
      ? null
      : at + user.teamsProvisioningMinutes * 60_000;
  }

  userResource(user: SimUser, select: readonly string[] | undefined, now: number): Record<string, unknown> {
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const licences = this.licences(user);
    const full: Record<string, unknown> = {
      id: user.id,
      // A collection, never null (Nullable="false" in Graph's CSDL; the user resource's examples show []).
      businessPhones: [],
      userPrincipalName: user.userPrincipalName,
      displayName: user.userPrincipalName.split('@')[0],
      mail: user.userPrincipalName,
      userType: user.userType,
      usageLocation: user.usageLocation,
      assignedLicenses: [...licences.values()].map((l) => ({
        disabledPlans: [...l.disabledPlans].map(planId),
        skuId: l.skuId,
      })),
      // A plan switched off is listed with capabilityStatus Deleted (as admins report seeing it; the docs do not say);
      // a plan of a suspended or locked-out subscription carries the subscription's status (assignedplan.md).
      assignedPlans: [...licences.values()].flatMap((l) => {
        const sku = this.skus.get(l.skuId);
        const status = sku && sku.capabilityStatus !== 'Enabled' ? sku.capabilityStatus : 'Enabled';
        return (sku?.servicePlans ?? []).map((p) => ({
          assignedDateTime: iso(l.planSince.get(p) ?? now),
          capabilityStatus: l.disabledPlans.has(p) ? 'Deleted' : status,
          service: p.startsWith('MCO') ? 'MicrosoftCommunicationsOnline' : 'TeamspaceAPI',
          servicePlanId: planId(p),
        }));
      }),
      // licenseassignmentstate.md: one entry per direct or group assignment; assignedByGroup is the group's id.
      licenseAssignmentStates: user.assignments.map((a) => ({
        assignedByGroup: a.group === null ? null : stableGuid(`group:${a.group}`),
        disabledPlans: [...a.disabledPlans].map(planId),
        error: a.error,
        lastUpdatedDateTime: iso(a.updatedAt),
        skuId: a.skuId,
        state: a.state,
      })),
    };
    // Graph returns only a default set of properties unless $select asks; usageLocation and licences need $select.
    const defaults = [
      'businessPhones',
      'displayName',
      'givenName',
      'jobTitle',
      'mail',
      'mobilePhone',
      'officeLocation',
      'preferredLanguage',
      'surname',
      'userPrincipalName',
      'id',
    ];
    const keys = select && select.length > 0 ? select : defaults;
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = k in full ? full[k] : null;
    return out;
  }

  /** `holders`, when given, is the number book's holders(now), read once for a page of users. */
  teamsConfiguration(
    user: SimUser,
    now: number,
    holders?: ReadonlyMap<string, readonly HeldNumber[]>,
  ): Record<string, unknown> {
    const features = this.featureTypes(user, now);
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      tenantId: this.tenantId,
      accountType: 'user',
      featureTypes: features,
      isEnterpriseVoiceEnabled: features.includes('PhoneSystem'),
      telephoneNumbers: holders ? [...(holders.get(user.id) ?? [])] : this.numbers.heldBy(user.id, now),
      effectivePolicyAssignments: [],
      createdDateTime: new Date(user.createdAt).toISOString(),
      modifiedDateTime: new Date(this.teamsModifiedAt(user, now)).toISOString(),
    };
  }

  /**
   * When the user's Teams configuration last changed by `now`: "The system updates this value each time the user's
   * details are changed" (teamsUserConfiguration resource, v1.0): the account's creation, a licence change, and each
   * feature as it came to show in featureTypes.
   */
  teamsModifiedAt(user: SimUser, now: number): number {
    const shown: number[] = [];
    for (const [cap, at] of this.capabilitySince(user)) {
      const minutes =
        cap === 'teams'
          ? 0
          : cap === 'callingPlan'
            ? user.teamsProvisioningMinutes
            : FEATURE_CAPABILITIES.has(cap)
              ? DEFAULT_FEATURE_DELAY_MINUTES
              : null;
      if (minutes !== null && at + minutes * 60_000 <= now) shown.push(at + minutes * 60_000);
    }
    return Math.max(user.createdAt, ...user.assignments.map((a) => a.updatedAt), ...shown);
  }

  /**
   * The users the Teams list answers for at `now` ("all Teams users who belong to a tenant"), in object id order:
   * those that exist, less the ones whose reads say they are not in Teams (teamsReadStatus 404); with `after`, those
   * whose id sorts after it (a next link's $skiptoken).
   */
  teamsUsers(now: number, after?: string): Generator<SimUser> {
    if (!this.teamsOrder || this.teamsOrder.size !== this.users.size)
      this.teamsOrder = {
        size: this.users.size,
        users: [...this.users.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      };
    const users = this.teamsOrder.users;
    // The first user after `after`, found by halving (ids are sorted): a page does not walk the pages before it.
    let from = 0;
    if (after !== undefined)
      for (let to = users.length; from < to;) {
        const mid = (from + to) >>> 1;
        if (users[mid]!.id <= after) from = mid + 1;
        else to = mid;
      }
    return (function* () {
      for (let i = from; i < users.length; i++) {
        const u = users[i]!;
        if (u.createdAt <= now && u.teamsReadStatus !== 404) yield u;
      }
    })();
  }
  private teamsOrder: { size: number; users: SimUser[] } | undefined;

  /** Moves number assignment orders on to `now`, judging each against the user as Teams sees them when it finishes. */
  settleNumberOrders(now: number): void {
    this.numbers.settle(now, (userId, at) => {
      const user = this.users.get(userId);
      return user
        ? { exists: true, featureTypes: this.featureTypes(user, at), usageLocation: user.usageLocation }
        : { exists: false, featureTypes: [], usageLocation: null };
    });
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
      servicePlans: s.servicePlans.map((p) => ({
        servicePlanId: planId(p),
        servicePlanName: p,
        provisioningStatus: 'Success',
        appliesTo: 'User',
      })),
    }));
  }
}
