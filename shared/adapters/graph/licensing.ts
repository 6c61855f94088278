// The licensing half of the Graph adapter (the domain's LicensingDirectory): the tenant's subscribed SKUs, users
// read in $batch, usage location and licence assignment (adding, removing, or both in one request) as paced writes, and the Teams user configurations read per
// user or swept as a list, for the calling plan. It sends every request through the shared GraphClient (client.ts).
// Graph v1.0's pages: user-assignlicense.md and teamsadministration-teamsadminroot-list-userconfigurations.md.
import type { SubscribedSkuFacts } from '../../domain/catalog';
import {
  classifyGraphError,
  withRemovalRefusal,
  type AssignOptions,
  type LicenceChange,
  type LicenceReleases,
  type WriteOptions,
  type TeamsListOptions,
  type TeamsSweep,
  type DirectoryUser,
  type GraphResult,
  type LicensingDirectory,
} from '../../domain/directory';
import type { AssignedLicence, AssignedPlan, LicenceAddition, LicenceAssignment } from '../../domain/holdings';
import type { BatchItem, GraphClient } from './client';

// licenseAssignmentStates comes back only when $select-ed (user resource, Graph v1.0); it tells group from direct.
// userType (Member or Guest) also only when $select-ed: guests are never licensed.
const USER_SELECT =
  'id,userPrincipalName,userType,usageLocation,assignedLicenses,assignedPlans,licenseAssignmentStates';

export interface GraphLicensingOptions {
  /**
   * Waits before sending assignLicense again when Graph answers "invalid usage location" right after this run set
   * it: replication lag between the PATCH and licensing, reported intermittently (Okta support; Partner-Center-
   * DotNet-Samples issue 131). Default 2, 5, 10 and 20 seconds.
   */
  readonly usageLocationRetryDelaysMs?: readonly number[];
}

export class GraphLicensing implements LicensingDirectory, LicenceReleases {
  private readonly usageLocationDelays: readonly number[];

  constructor(
    private readonly graph: GraphClient,
    options: GraphLicensingOptions = {},
  ) {
    this.usageLocationDelays = options.usageLocationRetryDelaysMs ?? [2_000, 5_000, 10_000, 20_000];
  }

  async listSubscribedSkus(): Promise<GraphResult<SubscribedSkuFacts[]>> {
    const r = await this.graph.withRetry(
      'listSubscribedSkus',
      async () =>
        (await this.graph.api('/subscribedSkus').get()) as { value?: (SubscribedSkuFacts & { appliesTo?: string })[] },
    );
    return r.ok ? { ok: true, value: (r.value.value ?? []).filter((s) => s.appliesTo !== 'Company') } : r;
  }

  async readUsers(idsOrUpns: readonly string[]): Promise<Map<string, GraphResult<DirectoryUser>>> {
    const items = idsOrUpns.map((u, i): BatchItem => ({
      id: String(i),
      method: 'GET',
      url: `/users/${encodeURIComponent(u)}?$select=${USER_SELECT}`,
    }));
    const responses = await this.graph.runBatches('readUsers', items);
    const out = new Map<string, GraphResult<DirectoryUser>>();
    idsOrUpns.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : { ok: true, value: directoryUser(r.body, u) });
    });
    return out;
  }

  async setUsageLocation(
    userId: string,
    usageLocation: string,
    options: WriteOptions = {},
  ): Promise<GraphResult<void>> {
    const slot = this.graph.writeSlot(options);
    return this.graph.withRetry('setUsageLocation', async () => {
      await slot();
      await this.graph.api(`/users/${encodeURIComponent(userId)}`).patch({ usageLocation });
    });
  }

  async assignLicenses(
    userId: string,
    add: readonly (string | LicenceAddition)[],
    options: AssignOptions = {},
  ): Promise<GraphResult<void>> {
    return this.sendAssignLicense(userId, add, [], options);
  }

  async removeLicenses(
    userId: string,
    skuIds: readonly string[],
    options: WriteOptions = {},
  ): Promise<GraphResult<void>> {
    const r = await this.sendAssignLicense(userId, [], skuIds, options);
    return r.ok ? r : withRemovalRefusal(r);
  }

  async changeLicenses(userId: string, change: LicenceChange, options: AssignOptions = {}): Promise<GraphResult<void>> {
    const r = await this.sendAssignLicense(userId, change.add, change.remove, options);
    return r.ok || change.remove.length === 0 ? r : withRemovalRefusal(r);
  }

  /** One assignLicense (user-assignlicense.md: addLicenses and removeLicenses both required, either may be empty). */
  private async sendAssignLicense(
    userId: string,
    add: readonly (string | LicenceAddition)[],
    remove: readonly string[],
    options: AssignOptions,
  ): Promise<GraphResult<void>> {
    // Graph refuses an assignLicense with nothing to add or remove (400 "No license changes provided"): send none.
    if (add.length === 0 && remove.length === 0) return { ok: true, value: undefined };
    const addLicenses = add.map((a) =>
      typeof a === 'string'
        ? { skuId: a, disabledPlans: [] }
        : { skuId: a.skuId, disabledPlans: [...a.disabledPlanIds] },
    );
    // Graph answers 200 with the user's default properties, which do not include the licences: nothing to read back.
    const body = { addLicenses, removeLicenses: [...remove] };
    const slot = this.graph.writeSlot(options);
    const send = () =>
      this.graph.withRetry(
        'assignLicenses',
        async () => {
          await slot();
          await this.graph.api(`/users/${encodeURIComponent(userId)}/assignLicense`).post(body);
        },
        // Only a 429 is resent here: a throttled request was not processed. After a 5xx or a timeout the write may
        // have landed, so the caller reads the user again before deciding what to send.
        (f) => f.reason === 'throttled',
      );
    let r = await send();
    for (const delay of options.usageLocationJustSet && add.length > 0 ? this.usageLocationDelays : []) {
      if (r.ok || r.reason !== 'usage_location_missing') break;
      await this.graph.sleep(delay);
      r = await send();
    }
    return r;
  }

  async readTeamsFeatures(userIds: readonly string[]): Promise<Map<string, GraphResult<string[]>>> {
    const low = { 'x-ms-throttle-priority': 'low' };
    const items = userIds.map((u, i): BatchItem => ({
      id: String(i),
      method: 'GET',
      url: `/admin/teams/userConfigurations/${encodeURIComponent(u)}`,
      headers: low,
    }));
    const responses = await this.graph.runBatches('readTeamsFeatures', items, low);
    const out = new Map<string, GraphResult<string[]>>();
    userIds.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : teamsFeatures(r.body));
    });
    return out;
  }

  /**
   * One sweep of the list form of the Teams user configurations (teamsadministration-teamsadminroot-list-
   * userconfigurations.md): id and featureTypes only ($select), `top` to a page, following @odata.nextLink, and only
   * the configurations modified since `since` when given (a $filter on modifiedDateTime). Each page is one request;
   * `beforePage(k)` is awaited before page k is sent (the read budget's pacing). Stops after `maxPages` pages with
   * `complete: false`. A page Graph refuses ends the sweep with its failure (a 400: the query is not accepted).
   */
  async listTeamsFeatures(options: TeamsListOptions): Promise<GraphResult<TeamsSweep>> {
    const low = { 'x-ms-throttle-priority': 'low' };
    const query = [
      `$select=id,featureTypes`,
      `$top=${options.top}`,
      ...(options.since !== undefined
        ? [`$filter=${encodeURIComponent(`modifiedDateTime ge ${new Date(options.since).toISOString()}`)}`]
        : []),
    ];
    let next: string | undefined = `/admin/teams/userConfigurations?${query.join('&')}`;
    const features = new Map<string, string[]>();
    let pages = 0;
    while (next !== undefined) {
      if (pages >= options.maxPages) return { ok: true, value: { features, pages, complete: false } };
      await options.beforePage?.(pages);
      const path: string = next;
      const r = await this.graph.withRetry(
        'listTeamsFeatures',
        async () => (await this.graph.api(path).headers(low).get()) as unknown,
      );
      pages++;
      if (!r.ok) return r;
      const body = (r.value ?? {}) as { value?: unknown; '@odata.nextLink'?: unknown };
      if (!Array.isArray(body.value))
        return classifyGraphError(
          200,
          'UnexpectedResponse',
          'the userConfigurations list came back without a "value" array',
        );
      for (const entry of body.value as unknown[]) {
        const o = (typeof entry === 'object' && entry !== null ? entry : {}) as {
          id?: unknown;
          featureTypes?: unknown;
        };
        if (typeof o.id !== 'string') continue;
        // An entry without featureTypes cannot say the calling plan is missing: the user is left to a per-user read.
        if (Array.isArray(o.featureTypes))
          features.set(
            o.id,
            o.featureTypes.filter((f): f is string => typeof f === 'string'),
          );
      }
      const link = body['@odata.nextLink'];
      if (link === undefined || link === null) next = undefined;
      else if (typeof link === 'string' && new URL(link).origin === this.graph.origin) next = link;
      // The token goes only to this adapter's own Graph: a next link elsewhere ends the sweep unfinished.
      else return { ok: true, value: { features, pages, complete: false } };
    }
    return { ok: true, value: { features, pages, complete: true } };
  }
}

interface UserBody {
  id?: string;
  userPrincipalName?: string;
  userType?: string | null;
  usageLocation?: string | null;
  assignedLicenses?: { skuId?: string; disabledPlans?: string[] }[];
  assignedPlans?: { servicePlanId?: string; capabilityStatus?: string }[];
  licenseAssignmentStates?: {
    skuId?: string;
    assignedByGroup?: string | null;
    disabledPlans?: string[];
    state?: string;
    error?: string | null;
  }[];
}

function directoryUser(raw: unknown, asked: string): DirectoryUser {
  const b = (raw ?? {}) as UserBody;
  const licences: AssignedLicence[] = (b.assignedLicenses ?? [])
    .filter((l) => typeof l.skuId === 'string')
    .map((l) => ({ skuId: l.skuId!, disabledPlanIds: l.disabledPlans ?? [] }));
  const plans: AssignedPlan[] = (b.assignedPlans ?? [])
    .filter((p) => typeof p.servicePlanId === 'string')
    .map((p) => ({ servicePlanId: p.servicePlanId!, capabilityStatus: p.capabilityStatus ?? 'Enabled' }));
  const assignments: LicenceAssignment[] | undefined = b.licenseAssignmentStates
    ?.filter((a) => typeof a.skuId === 'string')
    .map((a) => ({
      skuId: a.skuId!,
      assignedByGroup: a.assignedByGroup ?? null,
      disabledPlanIds: a.disabledPlans ?? [],
      state: a.state ?? 'Active',
      error: a.error && a.error !== 'None' ? a.error : null,
    }));
  return {
    id: b.id ?? '',
    userPrincipalName: b.userPrincipalName ?? asked,
    usageLocation: b.usageLocation ?? null,
    ...(typeof b.userType === 'string' ? { userType: b.userType } : {}),
    skuIds: licences.map((l) => l.skuId),
    licences,
    plans,
    ...(assignments ? { assignments } : {}),
  };
}

/**
 * featureTypes of a teamsUserConfiguration. The documented v1.0 response wraps the object in "value"
 * (teamsadministration-teamsuserconfiguration-get.md); the bare entity is read too. Without featureTypes the answer
 * is an error: reading it as "no calling plan" would keep a user waiting until the deadline.
 */
export function teamsFeatures(raw: unknown): GraphResult<string[]> {
  const body = (raw ?? {}) as { value?: unknown; featureTypes?: unknown };
  const entity = (
    typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body
  ) as { featureTypes?: unknown };
  if (!Array.isArray(entity.featureTypes)) {
    return classifyGraphError(
      200,
      'UnexpectedResponse',
      'the Teams user configuration came back without featureTypes; the calling plan cannot be told from it',
    );
  }
  return { ok: true, value: entity.featureTypes.filter((f): f is string => typeof f === 'string') };
}
