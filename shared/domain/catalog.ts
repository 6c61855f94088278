// The licence catalog: the Teams-related SKUs of Microsoft's "Assign Teams licenses" page, the service plans that
// decide what a SKU can do, and the rules tied to a SKU (prerequisites, countries where it is not sold). skuIds here
// are defaults only: the tenant's own subscribedSkus is the authority at run time (see resolveTenantCatalog).

export type Capability =
  | 'teams'
  | 'phoneSystem'
  | 'callingPlan'
  | 'audioConferencing'
  | 'audioConferencingPayPerMinute'
  | 'communicationsCredits'
  | 'officeSuite';

/** Service plans whose presence gives a SKU a capability, by service plan name. */
export const SERVICE_PLAN_CAPABILITIES: Readonly<Record<string, Capability>> = {
  TEAMS1: 'teams',
  MCOEV: 'phoneSystem',
  MCOPSTN1: 'callingPlan',
  MCOPSTN2: 'callingPlan',
  MCOPSTN5: 'callingPlan',
  MCOPSTN6: 'callingPlan',
  MCOMEETADV: 'audioConferencing',
  MCOMEETACPEA: 'audioConferencingPayPerMinute',
  MCOPSTNC: 'communicationsCredits',
  MCOSTANDARD: 'officeSuite',
};

export const SERVICE_PLAN_IDS: Readonly<Record<string, string>> = {
  TEAMS1: '57ff2da0-773e-42df-b2af-ffb7a2317929',
  MCOSTANDARD: '0feaeb32-d00e-4d66-bd5a-43b5b83db82c',
  MCOEV: '4828c8ec-dc2e-4779-b502-87ac9ce28ab7',
  MCOMEETADV: '3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40',
  MCOPSTN1: '4ed3ff63-69d7-4fb7-b984-5aec7f605ca8',
  MCOPSTN2: '5a10155d-f5c1-411a-a8ec-e99aae125390',
  MCOPSTN5: '54a152dc-90de-4996-93d2-bc47e670fc06',
  MCOMEETACPEA: 'bb038288-76ab-49d6-afc1-eaa6c222c65a',
  MCOPSTNC: '505e180f-f7e0-4b65-91d4-00d670bbd18c',
};

export interface CatalogSku {
  /** Canonical part number. */
  readonly partNumber: string;
  readonly productName: string;
  /** Default skuId; undefined where no trustworthy id is published (resolve from the tenant). */
  readonly skuId: string | undefined;
  /** Names of the service plans that matter to dialtone. */
  readonly servicePlans: readonly string[];
  /** Usage locations (ISO 3166-1 alpha-2) where the SKU is not sold. */
  readonly notSoldIn: readonly string[];
}

export const CATALOG: readonly CatalogSku[] = [
  { partNumber: 'STANDARDPACK', productName: 'Office 365 E1', skuId: '18181a46-0d4e-45cd-891e-60aabd171b4e', servicePlans: ['TEAMS1', 'MCOSTANDARD'], notSoldIn: [] },
  { partNumber: 'ENTERPRISEPACK', productName: 'Office 365 E3', skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', servicePlans: ['TEAMS1', 'MCOSTANDARD'], notSoldIn: [] },
  { partNumber: 'ENTERPRISEPREMIUM', productName: 'Office 365 E5 (with Audio Conferencing)', skuId: 'c7df2760-2c81-4ef7-b578-5b5392b571df', servicePlans: ['TEAMS1', 'MCOSTANDARD', 'MCOEV', 'MCOMEETADV'], notSoldIn: [] },
  { partNumber: 'ENTERPRISEPREMIUM_NOPSTNCONF', productName: 'Office 365 E5 (without Audio Conferencing)', skuId: '26d45bd9-adf1-46cd-a9e1-51e9a5524128', servicePlans: ['TEAMS1', 'MCOSTANDARD', 'MCOEV'], notSoldIn: [] },
  { partNumber: 'MCOEV', productName: 'Phone System', skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd', servicePlans: ['MCOEV'], notSoldIn: [] },
  { partNumber: 'MCOPSTN1', productName: 'Domestic Calling Plan', skuId: '0dab259f-bf13-4952-b7f8-7db8f131b28d', servicePlans: ['MCOPSTN1'], notSoldIn: [] },
  { partNumber: 'MCOPSTN2', productName: 'Domestic and International Calling Plan', skuId: 'd3b4fe1f-9992-4930-8acb-ca6ec609365e', servicePlans: ['MCOPSTN2'], notSoldIn: [] },
  { partNumber: 'MCOPSTN5', productName: 'Domestic Calling Plan (120 minutes)', skuId: '11dee6af-eca8-419f-8061-6864517c1875', servicePlans: ['MCOPSTN5'], notSoldIn: ['US'] },
  { partNumber: 'MCOPSTN6', productName: 'Domestic Calling Plan (240 minutes)', skuId: undefined, servicePlans: ['MCOPSTN6'], notSoldIn: ['US'] },
  { partNumber: 'MCOMEETADV', productName: 'Audio Conferencing', skuId: '0c266dff-15dd-4b49-8397-2bb16070ed52', servicePlans: ['MCOMEETADV'], notSoldIn: [] },
  { partNumber: 'MCOMEETACPEA', productName: 'Audio Conferencing Pay Per Minute', skuId: 'df9561a4-4969-4e6a-8e73-c601b68ec077', servicePlans: ['MCOMEETACPEA'], notSoldIn: [] },
  { partNumber: 'MCOPSTNC', productName: 'Communications Credits', skuId: '47794cd0-f0e5-45c5-9033-2eb6b5fc84e0', servicePlans: ['MCOPSTNC'], notSoldIn: [] },
];

/** Other names for the same SKU, in upper case. */
export const PART_NUMBER_ALIASES: Readonly<Record<string, string>> = {
  MCOPSTNPP: 'MCOPSTNC',
  MCOPSTN_5: 'MCOPSTN5',
  MCOPSTN_6: 'MCOPSTN6',
};

/** What a capability needs alongside it, and why (the source document's rules). */
export const PREREQUISITES: Readonly<Partial<Record<Capability, Capability>>> = {
  callingPlan: 'phoneSystem',
  audioConferencingPayPerMinute: 'communicationsCredits',
};

const CATALOG_BY_PART = new Map(CATALOG.map((s) => [s.partNumber, s]));

/** Upper-cases a part number, strips a `tenant:` prefix (MSOnline's AccountSkuId form) and resolves aliases. */
export function canonicalPartNumber(raw: string): string {
  let p = raw.trim().toUpperCase();
  const colon = p.lastIndexOf(':');
  if (colon >= 0) p = p.slice(colon + 1).trim();
  return PART_NUMBER_ALIASES[p] ?? p;
}

/** A SKU as this tenant has it: ids and service plans from subscribedSkus, seats left. */
export interface TenantSku {
  readonly skuId: string;
  readonly partNumber: string;
  readonly servicePlans: readonly string[];
  /** Seats that can still be assigned: enabled + warning − consumed, never below zero. */
  readonly available: number;
  readonly capabilities: ReadonlySet<Capability>;
  readonly notSoldIn: readonly string[];
}

export interface SubscribedSkuFacts {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly capabilityStatus?: string;
  readonly consumedUnits: number;
  readonly prepaidUnits: { readonly enabled: number; readonly warning?: number; readonly suspended?: number };
  readonly servicePlans?: readonly { readonly servicePlanName: string; readonly servicePlanId?: string }[];
}

export function capabilitiesOf(servicePlans: readonly string[]): Set<Capability> {
  const caps = new Set<Capability>();
  for (const plan of servicePlans) {
    const cap = SERVICE_PLAN_CAPABILITIES[plan.toUpperCase()];
    if (cap) caps.add(cap);
  }
  return caps;
}

/** The tenant's SKUs, by canonical part number and by skuId. */
export class TenantCatalog {
  private readonly byPart = new Map<string, TenantSku>();
  private readonly byId = new Map<string, TenantSku>();

  constructor(skus: readonly TenantSku[]) {
    for (const s of skus) {
      this.byPart.set(s.partNumber, s);
      this.byId.set(s.skuId.toLowerCase(), s);
    }
  }

  byPartNumber(partNumber: string): TenantSku | undefined {
    return this.byPart.get(canonicalPartNumber(partNumber));
  }

  bySkuId(skuId: string): TenantSku | undefined {
    return this.byId.get(skuId.toLowerCase());
  }

  all(): TenantSku[] {
    return [...this.byPart.values()];
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
    const plans = s.servicePlans && s.servicePlans.length > 0 ? s.servicePlans.map((p) => p.servicePlanName.toUpperCase()) : [...(builtIn?.servicePlans ?? [])];
    const usable = s.capabilityStatus === undefined || s.capabilityStatus === 'Enabled' || s.capabilityStatus === 'Warning';
    const seats = usable ? s.prepaidUnits.enabled + (s.prepaidUnits.warning ?? 0) - s.consumedUnits : 0;
    return {
      skuId: s.skuId,
      partNumber,
      servicePlans: plans,
      available: Math.max(0, seats),
      capabilities: capabilitiesOf(plans),
      notSoldIn: builtIn?.notSoldIn ?? [],
    };
  });
  return new TenantCatalog(skus);
}
