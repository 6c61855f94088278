// The phone-number half of the Graph adapter (the domain's PhoneNumberDirectory): Teams telephone numbers listed and
// found, assigned and unassigned as long-running operations read back by id, given an emergency location, and read back from a
// user's Teams configuration. It sends every request through the shared GraphClient (client.ts). Graph v1.0's pages
// on telephoneNumberManagement (list-numberassignments.md, numberassignment.md, telephonenumberlongrunningoperation-get.md).
import { ResponseType } from '@microsoft/microsoft-graph-client';
import {
  classifyGraphError,
  type GraphResult,
  type NumberReleases,
  type PhoneNumberDirectory,
} from '../../domain/directory';
import {
  isFinished,
  NUMBER_TYPES,
  userAssignable,
  type HeldNumber,
  type NumberOrder,
  type NumberRelease,
  type NumberReleaseRequest,
  type NumberReleaseSkip,
  type NumberUnassignmentSent,
  type NumberRequest,
  type NumberType,
  type TeamsNumber,
} from '../../domain/phone-numbers';
import { RawResponseFailure, rawFailure, type BatchItem, type GraphClient } from './client';

const NUMBERS = '/admin/teams/telephoneNumberManagement';
/** list-numberassignments.md: "maximum 1,000 entries allowed per query". */
const NUMBERS_PAGE = 1000;

export interface GraphPhoneNumbersOptions {
  /**
   * Waits between reads of an assignNumber operation, in order; when they run out, assignNumber returns the order
   * unfinished for the caller to read again later. Default 2, 3, 5, 10, 20 and 30 seconds.
   */
  readonly numberOrderPollDelaysMs?: readonly number[];
}

export class GraphPhoneNumbers implements PhoneNumberDirectory, NumberReleases {
  private readonly numberOrderDelays: readonly number[];

  constructor(
    private readonly graph: GraphClient,
    options: GraphPhoneNumbersOptions = {},
  ) {
    this.numberOrderDelays = options.numberOrderPollDelaysMs ?? [2_000, 3_000, 5_000, 10_000, 20_000, 30_000];
  }

  async listFreeNumbers(
    numberType: NumberType,
    isoCountryCode: string,
    limit: number,
  ): Promise<GraphResult<TeamsNumber[]>> {
    // Only numbers a user may have: the list page's example for user numbers filters on capabilities
    // (`capabilities/any(c:c eq 'userAssignment')`), and an activation or update still pending or failed is not ready.
    const filter = `assignmentStatus eq 'unassigned' and numberType eq '${numberType}' and isoCountryCode eq '${odataString(isoCountryCode)}' and activationState eq 'activated' and capabilities/any(c:c eq 'userAssignment')`;
    const out: TeamsNumber[] = [];
    // Paged with $skip, the only paging the docs describe; a short page is the last one.
    for (let skip = 0; out.length < limit; skip += NUMBERS_PAGE) {
      const page = await this.numbersPage(filter, NUMBERS_PAGE, skip);
      if (!page.ok) return page;
      out.push(...page.value.filter((n) => n.assignmentStatus === 'unassigned' && userAssignable(n)));
      if (page.value.length < NUMBERS_PAGE) break;
    }
    return { ok: true, value: out.slice(0, limit) };
  }

  async findNumber(telephoneNumber: string): Promise<GraphResult<TeamsNumber | null>> {
    const page = await this.numbersPage(`telephoneNumber eq '${odataString(telephoneNumber)}'`, 1, 0);
    return page.ok ? { ok: true, value: page.value.find((n) => n.telephoneNumber === telephoneNumber) ?? null } : page;
  }

  private async numbersPage(filter: string, top: number, skip: number): Promise<GraphResult<TeamsNumber[]>> {
    // Encoded here: the client passes query values through as given, and a '+' of a number would arrive as a space.
    const path = `${NUMBERS}/numberAssignments?$filter=${encodeURIComponent(filter)}&$top=${top}&$skip=${skip}`;
    const r = await this.graph.withRetry('listNumbers', async () => this.graph.api(path).get() as Promise<unknown>);
    if (!r.ok) return r;
    const numbers = numberAssignments(r.value);
    return numbers
      ? { ok: true, value: numbers }
      : classifyGraphError(
          200,
          'UnexpectedResponse',
          'the numberAssignments list came back without a "value" holding numbers',
        );
  }

  async startNumberAssignment(request: NumberRequest): Promise<GraphResult<NumberOrder>> {
    return this.startOrder('assignNumber', {
      telephoneNumber: request.telephoneNumber,
      assignmentTargetId: request.userId,
      numberType: request.numberType,
      assignmentCategory: 'primary',
      ...(request.locationId ? { locationId: request.locationId } : {}),
    });
  }

  async startNumberUnassignment(telephoneNumber: string, numberType: NumberType): Promise<GraphResult<NumberOrder>> {
    // unassignnumber.md: telephoneNumber and numberType, both required.
    return this.startOrder('unassignNumber', { telephoneNumber, numberType });
  }

  /** POSTs an order action and returns its operation from the 202's Location (assignnumber.md, unassignnumber.md). */
  private async startOrder(
    action: 'assignNumber' | 'unassignNumber',
    body: Record<string, unknown>,
  ): Promise<GraphResult<NumberOrder>> {
    // Only a 429 is resent: after a 5xx or a timeout the order may have been taken, and a second order for the same
    // number would fail ("already assigned", "not assigned"); the caller reads the number back instead.
    const r = await this.graph.withRetry(
      action,
      async () => {
        const res = (await this.graph
          .api(`${NUMBERS}/numberAssignments/${action}`)
          .responseType(ResponseType.RAW)
          .post(body)) as Response;
        if (!res.ok) throw new RawResponseFailure(await rawFailure(res));
        await res.body?.cancel();
        return res.headers.get('location');
      },
      (f) => f.reason === 'throttled',
    );
    if (!r.ok) return r;
    const operationId = r.value ? operationIdOf(r.value) : undefined;
    if (!operationId)
      return classifyGraphError(
        202,
        'UnexpectedResponse',
        `${action} was accepted without a Location naming its operation (Location: ${String(r.value).slice(0, 200)})`,
      );
    return { ok: true, value: { operationId, status: 'notStarted', detail: null } };
  }

  async readNumberOrder(operationId: string): Promise<GraphResult<NumberOrder>> {
    // Read from this adapter's own Graph base, by id, rather than following the Location to whatever host it names.
    const r = await this.graph.withRetry(
      'readNumberOrder',
      async () => this.graph.api(`${NUMBERS}/operations/${encodeURIComponent(operationId)}`).get() as Promise<unknown>,
    );
    if (!r.ok) return r;
    const order = numberOrder(r.value, operationId);
    return order
      ? { ok: true, value: order }
      : classifyGraphError(200, 'UnexpectedResponse', 'the number assignment operation came back without a status');
  }

  async assignNumber(request: NumberRequest): Promise<GraphResult<NumberOrder>> {
    const started = await this.startNumberAssignment(request);
    return started.ok ? this.followOrder(started.value) : started;
  }

  async unassignNumber(request: NumberReleaseRequest): Promise<GraphResult<NumberRelease>> {
    const { telephoneNumber, userId } = request;
    const found = await this.findNumber(telephoneNumber);
    if (!found.ok) return found;
    const n = found.value;
    const skip = (reason: NumberReleaseSkip, detail: string): GraphResult<NumberRelease> => ({
      ok: true,
      value: { outcome: 'skipped', telephoneNumber, reason, detail },
    });
    if (!n) return skip('number_not_in_tenant', `the tenant has no number ${telephoneNumber}`);
    if (n.assignmentTargetId === null || n.assignmentStatus === 'unassigned')
      return skip('not_assigned', `${telephoneNumber} is not assigned to anyone`);
    // numberassignment.md's assignmentStatus: a conference bridge's or a voice application's number is not a user's,
    // even when its target id is this user's (a resource account is a user object too).
    if (n.assignmentStatus !== 'userAssigned')
      return skip('other_type', `${telephoneNumber} is ${n.assignmentStatus}, not a user's number`);
    if (n.assignmentTargetId.toLowerCase() !== userId.toLowerCase())
      return skip('held_by_another_user', `${telephoneNumber} is assigned to another user`);
    if (
      !(NUMBER_TYPES as readonly string[]).includes(n.numberType) ||
      (request.numberType && request.numberType !== n.numberType)
    )
      return skip(
        'other_type',
        `${telephoneNumber} is a ${n.numberType || 'untyped'} number${request.numberType ? `, not ${request.numberType}` : ''}`,
      );
    const numberType = n.numberType as NumberType;
    const started = await this.startNumberUnassignment(n.telephoneNumber, numberType);
    if (!started.ok) return started;
    const sent = { telephoneNumber: n.telephoneNumber, numberType, operationId: started.value.operationId };
    await request.onSent?.(sent);
    return this.followUnassignment(sent, started.value);
  }

  followNumberUnassignment(sent: NumberUnassignmentSent): Promise<GraphResult<NumberRelease>> {
    return this.followUnassignment(sent, { operationId: sent.operationId, status: 'notStarted', detail: null });
  }

  private async followUnassignment(
    sent: NumberUnassignmentSent,
    from: NumberOrder,
  ): Promise<GraphResult<NumberRelease>> {
    const followed = await this.followOrder(from);
    if (!followed.ok) return followed;
    const order = followed.value;
    if (order.status === 'succeeded') return { ok: true, value: { outcome: 'released', ...sent } };
    if (isFinished(order)) return { ok: true, value: { outcome: 'failed', ...sent, detail: order.detail } };
    return { ok: true, value: { outcome: 'unfinished', ...sent, status: order.status } };
  }

  /** Reads an order after each of the adapter's waits until it finishes; unfinished when they run out. */
  private async followOrder(started: NumberOrder): Promise<GraphResult<NumberOrder>> {
    let order = started;
    for (const delay of this.numberOrderDelays) {
      await this.graph.sleep(delay);
      const read = await this.readNumberOrder(order.operationId);
      if (!read.ok) return read;
      order = read.value;
      if (isFinished(order)) break;
    }
    return { ok: true, value: order };
  }

  async setEmergencyLocation(telephoneNumber: string, locationId: string): Promise<GraphResult<void>> {
    return this.graph.withRetry('updateNumber', async () => {
      await this.graph.api(`${NUMBERS}/numberAssignments/updateNumber`).post({ telephoneNumber, locationId });
    });
  }

  async readHeldNumbers(userIds: readonly string[]): Promise<Map<string, GraphResult<HeldNumber[]>>> {
    const items = userIds.map((u, i): BatchItem => ({
      id: String(i),
      method: 'GET',
      url: `/admin/teams/userConfigurations/${encodeURIComponent(u)}`,
    }));
    const responses = await this.graph.runBatches('readTeamsFeatures', items);
    const out = new Map<string, GraphResult<HeldNumber[]>>();
    userIds.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : heldNumbers(r.body));
    });
    return out;
  }
}

/** A string inside an OData single-quoted literal: quotes doubled (OData ABNF), so a value cannot end the literal. */
function odataString(s: string): string {
  return s.replace(/'/g, "''");
}

/** The operation id from assignNumber's Location: `…/operations('{id}')` as documented, or `…/operations/{id}`. */
export function operationIdOf(location: string): string | undefined {
  const m = /\/operations(?:\('([^'\/]+)'\)|\/([^/?#'()]+))(?:[?#].*)?$/.exec(location);
  return m?.[1] ?? m?.[2];
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The numbers of a numberAssignments response. OData collections hold an array in "value"; the documented examples
 * repeat "value" as an object (malformed: JSON.parse keeps the last), so a single object there is read as one
 * number. Entries without a telephoneNumber are skipped. Undefined when there is no "value" at all.
 */
export function numberAssignments(raw: unknown): TeamsNumber[] | undefined {
  const value = (raw as { value?: unknown } | null)?.value;
  const entries = Array.isArray(value)
    ? (value as unknown[])
    : typeof value === 'object' && value !== null
      ? [value]
      : undefined;
  if (!entries) return undefined;
  return entries.flatMap((e): TeamsNumber[] => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const number = text(o['telephoneNumber']);
    if (!number) return [];
    return [
      {
        // "always displayed with a '+' prefix" (numberassignment.md); the docs' own examples are not always E.164.
        telephoneNumber: number.startsWith('+') ? number : `+${number}`,
        numberType: text(o['numberType']) ?? '',
        isoCountryCode: text(o['isoCountryCode'])?.toUpperCase() ?? null,
        assignmentStatus: text(o['assignmentStatus']) ?? '',
        assignmentTargetId: text(o['assignmentTargetId']),
        activationState: text(o['activationState']),
        locationId: text(o['locationId']),
        capabilities: Array.isArray(o['capabilities'])
          ? (o['capabilities'] as unknown[]).filter((c): c is string => typeof c === 'string')
          : [],
      },
    ];
  });
}

const ORDER_STATUSES = new Set(['notStarted', 'running', 'succeeded', 'failed', 'skipped']);

/**
 * An assignNumber operation: the documented response wraps it in "value" (telephonenumberlongrunningoperation-get.md);
 * the bare entity is read too. The number's own status and statusDetail say why it failed.
 */
export function numberOrder(raw: unknown, operationId: string): NumberOrder | undefined {
  const body = (raw ?? {}) as { value?: unknown };
  const entity = (
    typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body
  ) as Record<string, unknown>;
  const status = text(entity['status']);
  if (!status) return undefined;
  const numbers = Array.isArray(entity['numbers']) ? (entity['numbers'] as unknown[]) : [];
  const details = numbers
    .map((n) => text((n as Record<string, unknown> | null)?.['statusDetail'] ?? null))
    .filter((d): d is string => d !== null && d !== '');
  return {
    operationId,
    status: ORDER_STATUSES.has(status) ? (status as NumberOrder['status']) : 'unknown',
    detail: details.length > 0 ? details.join('; ').slice(0, 1000) : null,
  };
}

/** telephoneNumbers of a teamsUserConfiguration (wrapped in "value" as documented, or bare). */
export function heldNumbers(raw: unknown): GraphResult<HeldNumber[]> {
  const body = (raw ?? {}) as { value?: unknown };
  const entity = (
    typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body
  ) as Record<string, unknown>;
  const list = entity['telephoneNumbers'];
  if (!Array.isArray(list))
    return classifyGraphError(
      200,
      'UnexpectedResponse',
      'the Teams user configuration came back without telephoneNumbers; the assignment cannot be confirmed from it',
    );
  return {
    ok: true,
    value: list.flatMap((n): HeldNumber[] => {
      const o = (typeof n === 'object' && n !== null ? n : {}) as Record<string, unknown>;
      const number = text(o['telephoneNumber']);
      return number
        ? [
            {
              telephoneNumber: number.startsWith('+') ? number : `+${number}`,
              assignmentCategory: text(o['assignmentCategory']) ?? 'primary',
            },
          ]
        : [];
    }),
  };
}
