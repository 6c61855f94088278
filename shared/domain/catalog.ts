// The licence catalog: which service plans give a user Teams, Phone System, a Calling Plan or Audio Conferencing
// (with the ids of Microsoft's "Product names and service plan identifiers for licensing" table), the SKUs dialtone
// knows by name (today's suites and the Teams add-ons), and the rules tied to a SKU (prerequisites, countries where
// it is not sold). skuIds here are defaults only: the tenant's own subscribedSkus is the authority at run time (see
// resolveTenantCatalog). test/unit/catalog-table.test.ts checks this data against a cut of the table in
// test/fixtures/licensing/service-plan-reference.json.

export type Capability =
  | 'teams'
  | 'phoneSystem'
  | 'callingPlan'
  | 'audioConferencing'
  | 'audioConferencingPayPerMinute'
  | 'communicationsCredits'
  | 'officeSuite';

/**
 * The kinds of Calling Plan a profile may ask for. A user who holds a plan of the kind asked for (or Domestic and
 * International when Domestic is asked for) has that need met: the table's domestic plans with minutes (120, 240) are
 * domestic plans too.
 */
export type CallingPlanKind = 'domestic' | 'international' | 'payAsYouGo' | 'regional';

export interface ServicePlanCapability {
  /** The service plan's name as subscribedSkus gives it; null where the table gives none (matched by id only). */
  readonly name: string | null;
  readonly id: string;
  readonly capability: Capability;
  /** For a Calling Plan: which kind (from the plan's name in the table). */
  readonly kind?: CallingPlanKind;
}

/**
 * Every service plan of the table that gives a user Teams, Phone System, a Calling Plan, Audio Conferencing or
 * Communications Credits. Left out on purpose (the fixture says why for each): the free Teams offer, Teams Premium
 * and Advanced Communications add-ons, Teams Multi-Geo, Teams Rooms device plans and the Phone resource-account plans.
 */
export const SERVICE_PLANS: readonly ServicePlanCapability[] = [
  { name: 'TEAMS1', id: '57ff2da0-773e-42df-b2af-ffb7a2317929', capability: 'teams' },
  { name: 'TEAMS_GOV', id: '304767db-7d23-49e8-a945-4a7eb65f9f28', capability: 'teams' },
  { name: 'TEAMS_AR_DOD', id: 'fd500458-c24c-478e-856c-a6067a8376cd', capability: 'teams' },
  { name: 'TEAMS_AR_GCCHIGH', id: '9953b155-8aef-4c56-92f3-72b0487fce41', capability: 'teams' },
  { name: 'TEAMS_DESKLESS', id: 'a42de799-58ae-4e6a-aa1d-948e7abec726', capability: 'teams' },
  { name: 'MCO_TEAMS_IW', id: '42a3ec34-28ba-46b6-992f-db53a675ac5b', capability: 'teams' },
  { name: 'TeamsEss', id: 'f4f2f6de-6830-442b-a433-e92249faebe2', capability: 'teams' },
  { name: 'MCOEV', id: '4828c8ec-dc2e-4779-b502-87ac9ce28ab7', capability: 'phoneSystem' },
  { name: 'MCOEV_GOV', id: 'db23fce2-a974-42ef-9002-d78dd42a0f22', capability: 'phoneSystem' },
  { name: 'MCOEVSMB', id: 'ed777b71-af04-42ca-9798-84344c66f7c6', capability: 'phoneSystem' },
  // Teams Phone Mobile: Phone System with the number from a mobile operator, no Calling Plan.
  { name: 'MCOFMC1', id: 'cb22fbd7-ed7d-4786-a27a-e4cd617b69c0', capability: 'phoneSystem' },
  { name: 'MCOPSTN1', id: '4ed3ff63-69d7-4fb7-b984-5aec7f605ca8', capability: 'callingPlan', kind: 'domestic' },
  { name: 'MCOPSTN2', id: '5a10155d-f5c1-411a-a8ec-e99aae125390', capability: 'callingPlan', kind: 'international' },
  // The plan of MCOPSTNPP, "Skype for Business PSTN Usage Calling Plan" in the table: a usage-billed calling plan.
  { name: 'MCOPSTN3', id: '6b340437-d6f9-4dc5-8cc2-99163f7f83d6', capability: 'callingPlan', kind: 'payAsYouGo' },
  { name: 'MCOPSTN5', id: '54a152dc-90de-4996-93d2-bc47e670fc06', capability: 'callingPlan', kind: 'domestic' },
  { name: 'MCOPSTN6', id: '346d83bf-6fe6-42ca-b424-b9300d2e21bf', capability: 'callingPlan', kind: 'domestic' },
  { name: 'MCOPSTN8', id: '16935b20-87c0-4908-934a-22aa267d0d26', capability: 'callingPlan', kind: 'domestic' },
  { name: 'MCOPSTN_PAYG_1', id: '156a1efe-17cd-4b03-9f17-2eb512298fb3', capability: 'callingPlan', kind: 'payAsYouGo' },
  { name: 'MCOPSTN1_GOV', id: '3c8a8792-7866-409b-bb61-1b20ace0368b', capability: 'callingPlan', kind: 'domestic' },
  { name: 'MCOPSTNEAU', id: '7861360b-dc3b-4eba-a3fc-0d323a035746', capability: 'callingPlan', kind: 'regional' },
  { name: 'PSTN5_US', id: '1346d5e6-15a6-4b88-9693-806ff7296a7a', capability: 'callingPlan', kind: 'domestic' },
  // "Skype for Business PSTN Calling Domestic Small" (a second MCOPSTN5 SKU): the table gives no string name.
  { name: null, id: '9a0125a5-c8f8-4526-b231-49e2abe0ebce', capability: 'callingPlan', kind: 'domestic' },
  { name: 'MCOMEETADV', id: '3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40', capability: 'audioConferencing' },
  { name: 'MCOMEETADV_GOV', id: 'f544b08d-1645-4287-82de-8d91f37c02a1', capability: 'audioConferencing' },
  { name: 'MCOMEETADV_AR_GCCHigh', id: 'f1e3613f-3818-4254-9b5e-f02d803384e0', capability: 'audioConferencing' },
  { name: 'MCOACBYOT_GCCHigh', id: 'c85e4b03-254a-453b-af72-167a53f38530', capability: 'audioConferencing' },
  { name: 'MCOMEETBASIC', id: '9974d6cf-cd24-4ba2-921c-e2aa687da846', capability: 'audioConferencing' },
  { name: 'MCOMEETBASIC_GOV', id: '986d454b-9027-4d9f-880b-f1b68f920cc4', capability: 'audioConferencing' },
  { name: 'MCOMEETACPEA', id: 'bb038288-76ab-49d6-afc1-eaa6c222c65a', capability: 'audioConferencingPayPerMinute' },
  { name: 'MCOPSTNC', id: '505e180f-f7e0-4b65-91d4-00d670bbd18c', capability: 'communicationsCredits' },
  // Skype for Business Online (Plan 2): what the Office suites carry besides Teams.
  { name: 'MCOSTANDARD', id: '0feaeb32-d00e-4d66-bd5a-43b5b83db82c', capability: 'officeSuite' },
];

const PLAN_BY_NAME = new Map(SERVICE_PLANS.filter((p) => p.name !== null).map((p) => [p.name!.toUpperCase(), p]));
const PLAN_BY_ID = new Map(SERVICE_PLANS.map((p) => [p.id, p]));

/** Service plan ids by upper-cased name, for the plans above. */
export const SERVICE_PLAN_IDS: Readonly<Record<string, string>> = Object.fromEntries(
  [...PLAN_BY_NAME].map(([name, p]) => [name, p.id]),
);

export interface CatalogSku {
  /** Part number as dialtone and the Teams docs spell it (compared upper-cased). */
  readonly partNumber: string;
  readonly productName: string;
  /** Default skuId; undefined where no trustworthy id is published (resolve from the tenant). */
  readonly skuId: string | undefined;
  /** Names of the SKU's service plans that give a capability (see SERVICE_PLANS). */
  readonly servicePlans: readonly string[];
  /** Usage locations (ISO 3166-1 alpha-2) where the SKU is not sold. */
  readonly notSoldIn: readonly string[];
  /** An E5 suite: its users are recommended Communications Credits. */
  readonly e5?: true;
  /**
   * The Teams SKU sold beside a "no Teams" suite (Microsoft Teams Enterprise / EEA): bought instead of a whole suite
   * when a user's suite qualifies but lacks Teams (Teams/includes/eea-teams-licensing.md in
   * MicrosoftDocs/OfficeDocs-SkypeForBusiness).
   */
  readonly teamsBesideSuite?: true;
}

const O365 = ['MCOSTANDARD'];

export const CATALOG: readonly CatalogSku[] = [
  // Suites with Teams.
  {
    partNumber: 'STANDARDPACK',
    productName: 'Office 365 E1',
    skuId: '18181a46-0d4e-45cd-891e-60aabd171b4e',
    servicePlans: ['TEAMS1', ...O365],
    notSoldIn: [],
  },
  {
    partNumber: 'ENTERPRISEPACK',
    productName: 'Office 365 E3',
    skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
    servicePlans: ['TEAMS1', ...O365],
    notSoldIn: [],
  },
  {
    partNumber: 'ENTERPRISEPREMIUM',
    productName: 'Office 365 E5',
    skuId: 'c7df2760-2c81-4ef7-b578-5b5392b571df',
    servicePlans: ['MCOMEETADV', 'MCOEV', 'TEAMS1', ...O365],
    notSoldIn: [],
    e5: true,
  },
  {
    partNumber: 'ENTERPRISEPREMIUM_NOPSTNCONF',
    productName: 'Office 365 E5 without Audio Conferencing',
    skuId: '26d45bd9-adf1-46cd-a9e1-51e9a5524128',
    servicePlans: ['MCOEV', 'TEAMS1', ...O365],
    notSoldIn: [],
    e5: true,
  },
  {
    partNumber: 'SPE_E3',
    productName: 'Microsoft 365 E3',
    skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965',
    servicePlans: ['TEAMS1', ...O365],
    notSoldIn: [],
  },
  {
    partNumber: 'SPE_E5',
    productName: 'Microsoft 365 E5',
    skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
    servicePlans: ['MCOMEETADV', 'MCOEV', 'TEAMS1', ...O365],
    notSoldIn: [],
    e5: true,
  },
  {
    partNumber: 'SPE_E5_NOPSTNCONF',
    productName: 'Microsoft 365 E5 without Audio Conferencing',
    skuId: 'cd2925a3-5076-4233-8931-638a8c94f773',
    servicePlans: ['MCOEV', 'TEAMS1', ...O365],
    notSoldIn: [],
    e5: true,
  },
  {
    partNumber: 'SPB',
    productName: 'Microsoft 365 Business Premium',
    skuId: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46',
    servicePlans: ['TEAMS1', ...O365],
    notSoldIn: [],
  },
  {
    partNumber: 'SPE_E5_CALLINGMINUTES',
    productName: 'Microsoft 365 E5 with Calling Minutes',
    skuId: 'a91fc4e0-65e5-4266-aa76-4037509c1626',
    servicePlans: ['MCOMEETADV', 'MCOPSTN8', 'MCOEV', 'TEAMS1', ...O365],
    notSoldIn: [],
    e5: true,
  },
  // "No Teams" suites (sold since 2024): Phone System and Audio Conferencing need a Teams SKU beside them.
  {
    partNumber: 'Office_365_E3_(no_Teams)',
    productName: 'Office 365 E3 (no Teams)',
    skuId: '46c3a859-c90d-40b3-9551-6178a48d5c18',
    servicePlans: [...O365],
    notSoldIn: [],
  },
  {
    partNumber: 'Office_365_w/o_Teams_Bundle_E5',
    productName: 'Office 365 E5 EEA (no Teams)',
    skuId: 'cf50bae9-29e8-4775-b07c-56ee10e3776d',
    servicePlans: ['MCOMEETADV', 'MCOEV', ...O365],
    notSoldIn: [],
    e5: true,
  },
  {
    partNumber: 'Microsoft_365_E3_(no_Teams)',
    productName: 'Microsoft 365 E3 (no Teams)',
    skuId: 'dcf0408c-aaec-446c-afd4-43e3683943ea',
    servicePlans: [...O365],
    notSoldIn: [],
  },
  {
    partNumber: 'Microsoft_365_E5_(no_Teams)',
    productName: 'Microsoft 365 E5 (no Teams)',
    skuId: '18a4bd3f-0b5b-4887-b04f-61dd0ee15f5e',
    servicePlans: ['MCOMEETADV', 'MCOEV', ...O365],
    notSoldIn: [],
    e5: true,
  },
  // The Teams SKU for those suites. The table lists no "Microsoft Teams Enterprise" row; this is its Teams row.
  {
    partNumber: 'Microsoft_Teams_EEA_New',
    productName: 'Microsoft Teams EEA',
    skuId: '7e74bd05-2c47-404e-829a-ba95c66fe8e5',
    servicePlans: ['TEAMS1'],
    notSoldIn: [],
    teamsBesideSuite: true,
  },
  // Phone System and Calling Plans.
  {
    partNumber: 'MCOEV',
    productName: 'Microsoft Teams Phone Standard',
    skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd',
    servicePlans: ['MCOEV'],
    notSoldIn: [],
  },
  {
    partNumber: 'MCOEVSMB_1',
    productName: 'Microsoft Teams Phone Standard for Small and Medium Business',
    skuId: 'aa6791d3-bb09-4bc2-afed-c30c3fe26032',
    servicePlans: ['MCOEVSMB'],
    notSoldIn: [],
  },
  {
    partNumber: 'MCOTEAMS_ESSENTIALS',
    productName: 'Teams Phone with Calling Plan',
    skuId: 'ae2343d1-0999-43f6-ae18-d816516f6e78',
    servicePlans: ['MCOPSTN1', 'MCOEV'],
    notSoldIn: [],
  },
  {
    partNumber: 'BUSINESS_VOICE_MED2',
    productName: 'Microsoft 365 Business Voice',
    skuId: 'a6051f20-9cbc-47d2-930d-419183bf6cf1',
    servicePlans: ['MCOMEETADV', 'MCOPSTN1', 'MCOEV'],
    notSoldIn: [],
  },
  {
    partNumber: 'BUSINESS_VOICE_DIRECTROUTING',
    productName: 'Microsoft 365 Business Voice (without Calling Plan)',
    skuId: 'd52db95a-5ecb-46b6-beb0-190ab5cda4a8',
    servicePlans: ['MCOMEETADV', 'MCOEV'],
    notSoldIn: [],
  },
  {
    partNumber: 'MCOPSTN1',
    productName: 'Domestic Calling Plan',
    skuId: '0dab259f-bf13-4952-b7f8-7db8f131b28d',
    servicePlans: ['MCOPSTN1'],
    notSoldIn: [],
  },
  {
    partNumber: 'MCOPSTN2',
    productName: 'Domestic and International Calling Plan',
    skuId: 'd3b4fe1f-9992-4930-8acb-ca6ec609365e',
    servicePlans: ['MCOPSTN2'],
    notSoldIn: [],
  },
  // The table's MCOPSTN5 row gives the service plan's id as the skuId, and a second MCOPSTN5 row exists: resolve
  // from the tenant.
  {
    partNumber: 'MCOPSTN5',
    productName: 'Domestic Calling Plan (120 minutes)',
    skuId: undefined,
    servicePlans: ['MCOPSTN5'],
    notSoldIn: ['US'],
  },
  {
    partNumber: 'MCOPSTN6',
    productName: 'Domestic Calling Plan (240 minutes)',
    skuId: '729dbb8f-8d56-4994-8e33-2f218f549544',
    servicePlans: ['MCOPSTN6'],
    notSoldIn: ['US'],
  },
  {
    partNumber: 'MCOPSTNPP',
    productName: 'Skype for Business PSTN Usage Calling Plan',
    skuId: '06b48c5f-01d9-4b18-9015-03b52040f51a',
    servicePlans: ['MCOPSTN3'],
    notSoldIn: [],
  },
  // Audio Conferencing and Communications Credits.
  {
    partNumber: 'MCOMEETADV',
    productName: 'Audio Conferencing',
    skuId: '0c266dff-15dd-4b49-8397-2bb16070ed52',
    servicePlans: ['MCOMEETADV'],
    notSoldIn: [],
  },
  {
    partNumber: 'MCOMEETACPEA',
    productName: 'Audio Conferencing Pay Per Minute',
    skuId: 'df9561a4-4969-4e6a-8e73-c601b68ec077',
    servicePlans: ['MCOMEETACPEA'],
    notSoldIn: [],
  },
  {
    partNumber: 'MCOPSTNC',
    productName: 'Communications Credits',
    skuId: '47794cd0-f0e5-45c5-9033-2eb6b5fc84e0',
    servicePlans: ['MCOPSTNC'],
    notSoldIn: [],
  },
];

/** Other spellings of the same SKU, upper-cased: the table's string ids against the Teams docs' names. */
export const PART_NUMBER_ALIASES: Readonly<Record<string, string>> = {
  MCOPSTN_5: 'MCOPSTN5',
  MCOPSTN_6: 'MCOPSTN6',
};

/**
 * Part numbers read as another SKU only when the tenant lacks them. The Teams "Assign Teams licenses" page calls
 * Communications Credits MCOPSTNPP; the licensing table lists MCOPSTNPP as its own SKU (Skype for Business PSTN
 * Usage Calling Plan) and Communications Credits as MCOPSTNC. A row naming MCOPSTNPP therefore means that SKU when
 * the tenant has it, and Communications Credits (with an advisory in the report) when the tenant has only MCOPSTNC.
 */
export const READ_AS_WHEN_MISSING: Readonly<Record<string, string>> = {
  MCOPSTNPP: 'MCOPSTNC',
};

/** What a capability needs alongside it (the source document's rules; Teams for Phone System since the "no Teams" suites). */
export const PREREQUISITES: Readonly<Partial<Record<Capability, Capability>>> = {
  callingPlan: 'phoneSystem',
  phoneSystem: 'teams',
  audioConferencingPayPerMinute: 'communicationsCredits',
};

/** Upper-cases a part number, strips a `tenant:` prefix (MSOnline's AccountSkuId form) and resolves aliases. */
export function canonicalPartNumber(raw: string): string {
  let p = raw.trim().toUpperCase();
  const colon = p.lastIndexOf(':');
  if (colon >= 0) p = p.slice(colon + 1).trim();
  return PART_NUMBER_ALIASES[p] ?? p;
}

const CATALOG_BY_PART = new Map(CATALOG.map((s) => [canonicalPartNumber(s.partNumber), s]));

export function builtInSku(partNumber: string): CatalogSku | undefined {
  return CATALOG_BY_PART.get(canonicalPartNumber(partNumber));
}

/** A service plan as subscribedSkus lists it; a plain string is a name. */
export type ServicePlanRef = string | { readonly servicePlanName: string; readonly servicePlanId?: string };

/** Capabilities of a set of service plans: by id where one is given (ids are stable), else by name. */
export function capabilitiesOf(servicePlans: readonly ServicePlanRef[]): Set<Capability> {
  const caps = new Set<Capability>();
  for (const plan of servicePlans) {
    const known = planOf(plan);
    if (known) caps.add(known.capability);
  }
  return caps;
}

/**
 * What a phone line needs, each met by service plans rather than by a part number (docs/licence-needs.md): a
 * qualifying suite (one that carries Skype for Business Online Plan 2, MCOSTANDARD, as every Office 365 and
 * Microsoft 365 enterprise and business suite of the table does, with or without Teams), Teams, Phone System, a
 * Calling Plan of a kind, Audio Conferencing (or its pay-per-minute form) and Communications Credits.
 */
export type Need =
  | 'suite'
  | 'teams'
  | 'phoneSystem'
  | `callingPlan:${CallingPlanKind}`
  | 'audioConferencing'
  | 'audioConferencingPayPerMinute'
  | 'communicationsCredits';

function planOf(plan: ServicePlanRef): ServicePlanCapability | undefined {
  const { servicePlanName, servicePlanId } =
    typeof plan === 'string' ? { servicePlanName: plan, servicePlanId: undefined } : plan;
  return (
    (servicePlanId ? PLAN_BY_ID.get(servicePlanId.toLowerCase()) : undefined) ??
    PLAN_BY_NAME.get(servicePlanName.toUpperCase())
  );
}

/** The needs a set of service plans meets. */
export function needsOf(servicePlans: readonly ServicePlanRef[]): Set<Need> {
  const needs = new Set<Need>();
  for (const plan of servicePlans) {
    const known = planOf(plan);
    if (!known) continue;
    if (known.capability === 'officeSuite') needs.add('suite');
    else if (known.capability === 'callingPlan') needs.add(`callingPlan:${known.kind ?? 'domestic'}`);
    else needs.add(known.capability);
  }
  return needs;
}

/** Whether what a user holds meets a need: the same need, or a Domestic and International plan for a Domestic one. */
export function needMet(need: Need, held: ReadonlySet<Need>): boolean {
  return held.has(need) || (need === 'callingPlan:domestic' && held.has('callingPlan:international'));
}

/** A SKU as this tenant has it: ids and service plans from subscribedSkus, seats left. */
export interface TenantSku {
  readonly skuId: string;
  /** The tenant's part number, canonicalised. */
  readonly partNumber: string;
  readonly servicePlans: readonly string[];
  /** Seats that can still be assigned: enabled + warning − consumed, never below zero. */
  readonly available: number;
  readonly capabilities: ReadonlySet<Capability>;
  /** What the SKU stands for in a profile, and what it gives a user who holds it. */
  readonly needs: ReadonlySet<Need>;
  readonly notSoldIn: readonly string[];
  readonly e5: boolean;
  /** The Teams SKU sold beside a "no Teams" suite (CatalogSku.teamsBesideSuite). */
  readonly teamsBesideSuite: boolean;
}

export interface SubscribedSkuFacts {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly capabilityStatus?: string;
  readonly consumedUnits: number;
  readonly prepaidUnits: { readonly enabled: number; readonly warning?: number; readonly suspended?: number };
  readonly servicePlans?: readonly { readonly servicePlanName: string; readonly servicePlanId?: string }[];
}

/** What a row's part number (or skuId) means in this tenant. */
export type SkuLookup =
  | {
      readonly kind: 'found';
      readonly sku: TenantSku;
      /** Set when the part number was read as another SKU (READ_AS_WHEN_MISSING). */ readonly readAs?: string;
    }
  | { readonly kind: 'ambiguous'; readonly skus: readonly TenantSku[] }
  | { readonly kind: 'missing' };

const SKU_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant's SKUs. Two SKUs with the same canonical part number (the table has two MCOPSTN5 rows, and MCOPSTN_6 /
 * MCOPSTN6 are one name) are both kept: a row naming that part number is ambiguous and must name the skuId instead.
 */
export class TenantCatalog {
  private readonly byPart = new Map<string, TenantSku[]>();
  private readonly byId = new Map<string, TenantSku>();
  private readonly skus: readonly TenantSku[];

  constructor(skus: readonly TenantSku[]) {
    this.skus = skus;
    for (const s of skus) {
      this.byId.set(s.skuId.toLowerCase(), s);
      const same = this.byPart.get(s.partNumber);
      if (same) same.push(s);
      else this.byPart.set(s.partNumber, [s]);
    }
  }

  lookup(partNumberOrSkuId: string): SkuLookup {
    const raw = partNumberOrSkuId.trim();
    if (SKU_ID.test(raw)) {
      const sku = this.byId.get(raw.toLowerCase());
      return sku ? { kind: 'found', sku } : { kind: 'missing' };
    }
    const part = canonicalPartNumber(raw);
    const hits = this.byPart.get(part) ?? [];
    if (hits.length === 1) return { kind: 'found', sku: hits[0]! };
    if (hits.length > 1) return { kind: 'ambiguous', skus: hits };
    const other = READ_AS_WHEN_MISSING[part];
    const instead = other ? (this.byPart.get(other) ?? []) : [];
    if (other && instead.length === 1) return { kind: 'found', sku: instead[0]!, readAs: other };
    return { kind: 'missing' };
  }

  /** The SKU a part number (or skuId) means, or undefined when the tenant has none or more than one. */
  byPartNumber(partNumber: string): TenantSku | undefined {
    const r = this.lookup(partNumber);
    return r.kind === 'found' ? r.sku : undefined;
  }

  bySkuId(skuId: string): TenantSku | undefined {
    return this.byId.get(skuId.toLowerCase());
  }

  all(): TenantSku[] {
    return [...this.skus];
  }
}

/**
 * Builds the tenant catalog from subscribedSkus. Part numbers come from the tenant (canonicalised), service plans
 * from the tenant when it lists them, else from the built-in catalog. Suspended, deleted and locked-out SKUs and
 * company-level SKUs give no assignable seats.
 */
export function resolveTenantCatalog(subscribed: readonly SubscribedSkuFacts[]): TenantCatalog {
  const skus = subscribed.map((s): TenantSku => {
    const partNumber = canonicalPartNumber(s.skuPartNumber);
    const builtIn = CATALOG_BY_PART.get(partNumber);
    const listed = s.servicePlans && s.servicePlans.length > 0 ? s.servicePlans : undefined;
    const plans = listed ? listed.map((p) => p.servicePlanName.toUpperCase()) : [...(builtIn?.servicePlans ?? [])];
    const usable =
      s.capabilityStatus === undefined || s.capabilityStatus === 'Enabled' || s.capabilityStatus === 'Warning';
    const seats = usable ? s.prepaidUnits.enabled + (s.prepaidUnits.warning ?? 0) - s.consumedUnits : 0;
    return {
      skuId: s.skuId,
      partNumber,
      servicePlans: plans,
      available: Math.max(0, seats),
      capabilities: capabilitiesOf(listed ?? plans),
      needs: needsOf(listed ?? plans),
      notSoldIn: builtIn?.notSoldIn ?? [],
      e5: builtIn?.e5 === true,
      teamsBesideSuite: builtIn?.teamsBesideSuite === true,
    };
  });
  return new TenantCatalog(skus);
}
