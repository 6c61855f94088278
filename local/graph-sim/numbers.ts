// The simulated tenant's Teams phone numbers and their assignment orders, as Graph's telephoneNumberManagement
// serves them (microsoft-graph-docs-contrib, api-reference/v1.0: teamsadministration-numberassignment-assignnumber.md,
// -updatenumber.md, -unassignnumber.md, teamsadministration-telephonenumbermanagementroot-list-numberassignments.md,
// teamsadministration-telephonenumberlongrunningoperation-get.md and the resources of the same names).
// assignNumber and unassignNumber are "an asynchronous order": the number changes hands only when its operation finishes, a few
// simulated seconds later, and whether it can is decided then (so two orders for one number race as they would).
// Where the docs are silent (the statusDetail texts, what is refused synchronously), the choices are said beside them.
import { createHash } from 'node:crypto';
import { stableId } from './authority';

export const SIM_NUMBER_TYPES = ['callingPlan', 'directRouting', 'operatorConnect'] as const;
export type SimNumberType = (typeof SIM_NUMBER_TYPES)[number];
/** numberassignment.md's capabilities: what a number may be assigned to. */
export const SIM_NUMBER_CAPABILITIES = [
  'userAssignment',
  'conferenceAssignment',
  'voiceApplicationAssignment',
] as const;
/** numberassignment.md's activationState values. */
export const SIM_ACTIVATION_STATES = [
  'activated',
  'assignmentPending',
  'assignmentFailed',
  'updatePending',
  'updateFailed',
] as const;
export type SimActivationState = (typeof SIM_ACTIVATION_STATES)[number];

export interface SimNumber {
  /** '+' and digits: "The recorded telephone number is always displayed with a '+' prefix" (numberassignment.md). */
  readonly telephoneNumber: string;
  readonly numberType: SimNumberType;
  readonly isoCountryCode: string | null;
  /** Object id of the user holding it, or null. */
  assignedTo: string | null;
  locationId: string | null;
  activationState: SimActivationState;
  readonly capabilities: readonly string[];
}

export interface SimOperation {
  readonly id: string;
  /** assignNumber's order, or unassignNumber's (absent in a state saved before unassignment existed: an assignment). */
  readonly action?: 'assign' | 'unassign';
  readonly createdAt: number;
  readonly telephoneNumber: string;
  /** The assignment target; for an unassignment, the user holding the number when it was ordered ('' if none). */
  readonly userId: string;
  readonly numberType: SimNumberType;
  readonly locationId: string | null;
  /** assignNumber's assignmentCategory (primary when the body gives none); absent for an unassignment. */
  readonly category?: 'primary' | 'private' | 'alternate';
  /** When it leaves notStarted, and when it finishes (ms). */
  readonly startsAt: number;
  readonly finishesAt: number;
  status: 'notStarted' | 'running' | 'succeeded' | 'failed';
  statusDetail: string | null;
}

/** A number as teamsUserConfiguration's telephoneNumbers lists it. */
export interface HeldNumber {
  readonly telephoneNumber: string;
  readonly assignmentCategory: 'primary';
}

/** How long an order stays notStarted, then running (simulated ms). Real orders take seconds to minutes; not published. */
export const OPERATION_QUEUE_MS = 1_000;
export const OPERATION_RUN_MS = 4_000;

/** What the tenant can tell about a user when an order finishes. */
export interface NumberTargetView {
  readonly exists: boolean;
  readonly featureTypes: readonly string[];
  readonly usageLocation: string | null;
}

export class NumberRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** '+' prefixed, as Graph records it; assignNumber's own example sends the number without one ("12061234567"). */
/** An order's body as an object, its mandatory strings present (400 otherwise) and its numberType one Teams knows. */
function orderBody(
  body: unknown,
  mandatory: readonly string[],
): { b: Record<string, unknown>; numberType: SimNumberType } {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const missing = mandatory.filter((k) => {
    const v = b[k];
    return typeof v !== 'string' || v.trim() === '';
  });
  if (missing.length > 0)
    throw new NumberRequestError(400, 'BadRequest', `Missing mandatory parameter(s): ${missing.join(', ')}.`);
  const numberType = b['numberType'] as string;
  if (!(SIM_NUMBER_TYPES as readonly string[]).includes(numberType))
    throw new NumberRequestError(400, 'BadRequest', `Invalid value '${numberType}' for parameter numberType.`);
  return { b, numberType: numberType as SimNumberType };
}

export function recordedNumber(raw: string): string {
  const t = raw.trim();
  return t.startsWith('+') ? t : `+${t}`;
}

/**
 * One change of a number's holder, in the order the simulator made them: what a test reads to see which number went
 * where first (kept in memory only, not in snapshots).
 */
export interface NumberChange {
  readonly telephoneNumber: string;
  readonly change: 'assigned' | 'unassigned';
  readonly userId: string;
  readonly at: number;
  /** The order that made it; for a number an assignment replaced, that assignment's order. */
  readonly operationId: string | null;
  /** Why an unassignment happened: its own order, another number assigned as primary, or a licence taken away. */
  readonly cause: 'order' | 'replaced' | 'licence';
}

export interface NumberBookSnapshot {
  readonly numbers: SimNumber[];
  readonly operations: (SimOperation & { pending: boolean })[];
  readonly sequence: number;
  readonly assignedAt: [string, number][];
}

export class SimNumberBook {
  private readonly numbers = new Map<string, SimNumber>();
  private readonly operations = new Map<string, SimOperation>();
  /** Orders not finished yet: settle looks only at these. */
  private readonly pending = new Set<SimOperation>();
  private sequence = 0;
  /** When each number's last successful order finished (simulated ms): what the benchmark measures numbers against. */
  readonly assignedAt = new Map<string, number>();
  /**
   * How long after an order succeeds Teams' user configuration still does not list the number (simulated ms). Graph
   * documents no consistency between telephoneNumberManagement and userConfigurations; 0 by default.
   */
  readBackDelayMs = 0;
  /** Every change of a number's holder since this book was made or restored (NumberChange). */
  readonly history: NumberChange[] = [];

  constructor(
    numbers: readonly (Omit<SimNumber, 'activationState' | 'capabilities'> & {
      activationState?: SimActivationState;
      capabilities?: readonly string[];
    })[],
  ) {
    for (const n of numbers) {
      const number = recordedNumber(n.telephoneNumber);
      if (this.numbers.has(number)) throw new Error(`tenant file: number ${number} is listed twice`);
      this.numbers.set(number, {
        ...n,
        telephoneNumber: number,
        activationState: n.activationState ?? 'activated',
        capabilities: [...(n.capabilities ?? ['userAssignment'])],
      });
    }
  }

  get size(): number {
    return this.numbers.size;
  }

  /** Everything an order or an assignment changed, as JSON, for a local host whose state outlives it (SimTenant.snapshot). */
  snapshot(): NumberBookSnapshot {
    return {
      numbers: [...this.numbers.values()].map((n) => ({ ...n })),
      operations: [...this.operations.values()].map((o) => ({ ...o, pending: this.pending.has(o) })),
      sequence: this.sequence,
      assignedAt: [...this.assignedAt],
    };
  }

  restore(s: NumberBookSnapshot): void {
    this.numbers.clear();
    for (const n of s.numbers) this.numbers.set(n.telephoneNumber, { ...n });
    this.operations.clear();
    this.pending.clear();
    for (const { pending, ...o } of s.operations) {
      this.operations.set(o.id, o);
      if (pending) this.pending.add(o);
    }
    this.sequence = s.sequence;
    this.history.length = 0;
    this.assignedAt.clear();
    for (const [n, at] of s.assignedAt) this.assignedAt.set(n, at);
  }

  /**
   * Numbers held by the user, as teamsUserConfiguration's telephoneNumbers (assignedTelephoneNumber) lists them; with
   * `seenAt`, as Teams' user view shows them then (a number assigned less than readBackDelayMs ago is not there yet).
   */
  heldBy(userId: string, seenAt?: number): HeldNumber[] {
    const out: HeldNumber[] = [];
    for (const n of this.numbers.values())
      if (n.assignedTo === userId && this.shows(n, seenAt))
        out.push({ telephoneNumber: n.telephoneNumber, assignmentCategory: 'primary' });
    return out;
  }

  /**
   * heldBy for every user at once, in one pass over the numbers: what a page of the Teams user list reads, instead of
   * a pass per user on the page. Users holding none are absent.
   */
  holders(seenAt?: number): ReadonlyMap<string, readonly HeldNumber[]> {
    const out = new Map<string, HeldNumber[]>();
    for (const n of this.numbers.values()) {
      if (n.assignedTo === null || !this.shows(n, seenAt)) continue;
      const held = out.get(n.assignedTo) ?? [];
      held.push({ telephoneNumber: n.telephoneNumber, assignmentCategory: 'primary' });
      out.set(n.assignedTo, held);
    }
    return out;
  }

  /** Whether Teams' user view lists the number on its holder at `seenAt` (always, without a time). */
  private shows(n: SimNumber, seenAt: number | undefined): boolean {
    return (
      n.activationState === 'activated' &&
      (seenAt === undefined || seenAt >= (this.assignedAt.get(n.telephoneNumber) ?? -Infinity) + this.readBackDelayMs)
    );
  }

  find(telephoneNumber: string): SimNumber | undefined {
    return this.numbers.get(recordedNumber(telephoneNumber));
  }

  /** Starts an order. Malformed bodies are refused at once (400); everything about the tenant is decided when it runs. */
  assign(body: unknown, now: number): SimOperation {
    // The docs mark telephoneNumber, assignmentTargetId and numberType "Mandatory"; the error text is not documented.
    const { b, numberType } = orderBody(body, ['telephoneNumber', 'assignmentTargetId', 'numberType']);
    const category = b['assignmentCategory'];
    if (
      category !== undefined &&
      category !== null &&
      category !== 'primary' &&
      category !== 'private' &&
      category !== 'alternate'
    ) {
      throw new NumberRequestError(
        400,
        'BadRequest',
        `Invalid value ${JSON.stringify(category).slice(0, 40)} for parameter assignmentCategory.`,
      );
    }
    const locationId = b['locationId'];
    if (locationId !== undefined && locationId !== null && typeof locationId !== 'string')
      throw new NumberRequestError(400, 'BadRequest', 'Invalid value for parameter locationId.');
    const telephoneNumber = recordedNumber(b['telephoneNumber'] as string);
    const op = this.start('assign', telephoneNumber, numberType, now, {
      userId: (b['assignmentTargetId'] as string).trim().toLowerCase(),
      locationId: typeof locationId === 'string' && locationId !== '' ? locationId : null,
      category: typeof category === 'string' ? category : 'primary',
    });
    const n = this.numbers.get(telephoneNumber);
    if (n && n.assignedTo === null && n.activationState === 'activated') n.activationState = 'assignmentPending';
    return op;
  }

  /**
   * Starts an unassignment order (unassignnumber.md: telephoneNumber and numberType, 202 with the operation's
   * Location). As for assignNumber, a malformed body is refused at once and the tenant is looked at when it runs.
   */
  unassign(body: unknown, now: number): SimOperation {
    // The page lists both parameters as "required" (the CSDL leaves them nullable); the error text is not documented.
    const { b, numberType } = orderBody(body, ['telephoneNumber', 'numberType']);
    const telephoneNumber = recordedNumber(b['telephoneNumber'] as string);
    const op = this.start('unassign', telephoneNumber, numberType, now, {
      userId: this.numbers.get(telephoneNumber)?.assignedTo ?? '',
      locationId: null,
    });
    return op;
  }

  /**
   * Records a new order, queued then run like Teams' own. The documented examples' operation ids are base64 of
   * "Assignment|<guid>" and "Unassignment|<guid>".
   */
  private start(
    action: SimOperation['action'],
    telephoneNumber: string,
    numberType: SimNumberType,
    now: number,
    target: Pick<SimOperation, 'userId' | 'locationId' | 'category'>,
  ): SimOperation {
    const kind = action === 'assign' ? 'Assignment' : 'Unassignment';
    const id = Buffer.from(
      `${kind}|${createHash('sha256').update(`${telephoneNumber}|${++this.sequence}`).digest('hex').slice(0, 32)}`,
    ).toString('base64url');
    const op: SimOperation = {
      id,
      action,
      createdAt: now,
      telephoneNumber,
      ...target,
      numberType,
      startsAt: now + OPERATION_QUEUE_MS,
      finishesAt: now + OPERATION_QUEUE_MS + OPERATION_RUN_MS,
      status: 'notStarted',
      statusDetail: null,
    };
    this.operations.set(id, op);
    this.pending.add(op);
    return op;
  }

  /** Moves every order on to `now`, finishing them in the order they finish; `view` tells about the target user then. */
  settle(now: number, view: (userId: string, at: number) => NumberTargetView): void {
    if (this.pending.size === 0) return;
    const due = [...this.pending].sort((a, b) => a.finishesAt - b.finishesAt);
    for (const op of due) {
      if (now < op.startsAt) continue;
      if (now < op.finishesAt) {
        op.status = 'running';
        continue;
      }
      this.pending.delete(op);
      const n = this.numbers.get(op.telephoneNumber);
      if (op.action === 'unassign') {
        const refused = this.unassignRefusal(op);
        op.status = refused ? 'failed' : 'succeeded';
        op.statusDetail = refused ?? null;
        if (!refused) {
          // Remove-CsPhoneNumberAssignment's page: the number "continues to be available in the tenant". Its emergency
          // location is the number's own (updatenumber.md sets it on the number), so it stays with it.
          this.history.push({
            telephoneNumber: op.telephoneNumber,
            change: 'unassigned',
            userId: n!.assignedTo!,
            at: op.finishesAt,
            operationId: op.id,
            cause: 'order',
          });
          n!.assignedTo = null;
          n!.activationState = 'activated';
          this.assignedAt.delete(op.telephoneNumber);
        }
        continue;
      }
      const refusal = this.refusal(op, view(op.userId, op.finishesAt));
      if (refusal) {
        op.status = 'failed';
        op.statusDetail = refusal;
        if (
          n &&
          n.assignedTo === null &&
          n.activationState === 'assignmentPending' &&
          !this.pendingFor(op.telephoneNumber, op.id)
        )
          n.activationState = 'activated';
        continue;
      }
      op.status = 'succeeded';
      const replaced =
        (op.category ?? 'primary') === 'primary' && n!.assignedTo !== op.userId ? this.heldBy(op.userId) : [];
      this.assignedAt.set(op.telephoneNumber, op.finishesAt);
      n!.assignedTo = op.userId;
      n!.activationState = 'activated';
      if (op.locationId !== null) n!.locationId = op.locationId;
      this.history.push({
        telephoneNumber: op.telephoneNumber,
        change: 'assigned',
        userId: op.userId,
        at: op.finishesAt,
        operationId: op.id,
        cause: 'order',
      });
      // A new primary number takes the place of the one the user had (see refusal): that number is the tenant's
      // again, unassigned, with its own emergency location, as an unassignment leaves it.
      for (const { telephoneNumber } of replaced) {
        const old = this.numbers.get(telephoneNumber)!;
        old.assignedTo = null;
        old.activationState = 'activated';
        this.assignedAt.delete(telephoneNumber);
        this.history.push({
          telephoneNumber,
          change: 'unassigned',
          userId: op.userId,
          at: op.finishesAt,
          operationId: op.id,
          cause: 'replaced',
        });
      }
    }
  }

  private pendingFor(number: string, except: string): boolean {
    return [...this.pending].some((o) => o.id !== except && o.telephoneNumber === number);
  }

  /**
   * Why Teams would refuse the order, or undefined. The conditions are Teams' documented rules for assigning numbers
   * (Microsoft Learn, "Manage phone numbers for users", Teams/assign-change-or-remove-a-phone-number-for-a-user.md:
   * "make sure the phone number and the usage location of the user are of the same country/region", and a Calling
   * Plan number needs the user's Calling Plan licence; Direct Routing needs Phone System); the texts are this
   * simulator's own, as Graph's statusDetail texts are not published.
   *
   * A user who already has a primary number is not refused: the same page changes a user's number in one step (the
   * user's "Assigned phone number", Edit, pick the new number, Save), and for PowerShell points to
   * Set-CsPhoneNumberAssignment, whose Assignment parameter set is what assignNumber takes (telephoneNumber,
   * assignmentTargetId, numberType, assignmentCategory, locationId; teamsadministration-numberassignment-assignnumber.md
   * says nothing either way). So a primary assignment replaces the user's number when its order succeeds (settle), and
   * a refused or failed order leaves the old one where it was. Private and alternate numbers (Set-CsPhoneNumberAssignment
   * examples 12 and 14; an alternate one "can be from any country/region") are not modelled: such an order for a user
   * who holds a number is still refused.
   */
  private refusal(op: SimOperation, user: NumberTargetView): string | undefined {
    const n = this.numbers.get(op.telephoneNumber);
    if (!n) return `The telephone number ${op.telephoneNumber} was not found in the tenant.`;
    if (!user.exists) return `The assignment target ${op.userId} was not found.`;
    if (n.assignedTo !== null && n.assignedTo !== op.userId)
      return `The telephone number ${op.telephoneNumber} is already assigned to another user.`;
    if (n.numberType !== op.numberType)
      return `The telephone number ${op.telephoneNumber} is a ${n.numberType} number, not ${op.numberType}.`;
    if (n.assignedTo === op.userId) return undefined;
    // numberassignment.md: capabilities say what a number may be assigned to; a conference or voice-application number
    // is never a user's. The texts are this simulator's own.
    if (!n.capabilities.includes('userAssignment'))
      return `The telephone number ${op.telephoneNumber} cannot be assigned to a user; its capabilities are ${n.capabilities.join(', ') || 'none'}.`;
    if (n.activationState !== 'activated' && n.activationState !== 'assignmentPending')
      return `The telephone number ${op.telephoneNumber} is not activated (${n.activationState}).`;
    if ((op.category ?? 'primary') !== 'primary' && this.heldBy(op.userId).length > 0)
      return 'The user already has a telephone number assigned; this simulator does not model private or alternate numbers.';
    if (n.numberType === 'callingPlan') {
      if (!user.featureTypes.includes('CallingPlan'))
        return 'The user does not have a Calling Plan enabled in Microsoft Teams yet.';
      if (n.isoCountryCode !== null && user.usageLocation !== n.isoCountryCode)
        return `The user's usage location ${user.usageLocation ?? 'none'} does not match the number's country ${n.isoCountryCode}.`;
    } else if (!user.featureTypes.includes('PhoneSystem'))
      return 'The user does not have Phone System enabled in Microsoft Teams yet.';
    return undefined;
  }

  /**
   * Why Teams would refuse to unassign the number, or undefined. The texts are this simulator's own (Graph publishes
   * no statusDetail texts): a number the tenant does not have, of another type than the order names, or held by nobody.
   */
  private unassignRefusal(op: SimOperation): string | undefined {
    const n = this.numbers.get(op.telephoneNumber);
    if (!n) return `The telephone number ${op.telephoneNumber} was not found in the tenant.`;
    if (n.numberType !== op.numberType)
      return `The telephone number ${op.telephoneNumber} is a ${n.numberType} number, not ${op.numberType}.`;
    if (n.assignedTo === null) return `The telephone number ${op.telephoneNumber} is not assigned.`;
    return undefined;
  }

  /**
   * What Teams does to the user's numbers when a licence change leaves the user without a prerequisite (Microsoft
   * Teams docs, "How licensing affects phone number management", phone-numbers-licensing-changes.md): without the
   * Calling Plan a Calling Plan number is unassigned; without Phone System an Operator Connect number is unassigned
   * and a Direct Routing number is removed from the tenant's numbers. A change made in one request that keeps the
   * prerequisite (one calling plan for another) keeps the number. `before` and `after`: what the user's licences give
   * before and after the change; only a prerequisite the change took away acts (a tenant file may give a number to a
   * user without its licence). Returns the numbers that changed.
   */
  licencesChanged(userId: string, before: ReadonlySet<string>, after: ReadonlySet<string>, at = 0): string[] {
    const changed: string[] = [];
    for (const n of [...this.numbers.values()]) {
      if (n.assignedTo !== userId) continue;
      const needs = n.numberType === 'callingPlan' ? 'callingPlan' : 'phoneSystem';
      if (after.has(needs) || !before.has(needs)) continue;
      changed.push(n.telephoneNumber);
      this.history.push({
        telephoneNumber: n.telephoneNumber,
        change: 'unassigned',
        userId,
        at,
        operationId: null,
        cause: 'licence',
      });
      this.assignedAt.delete(n.telephoneNumber);
      if (n.numberType === 'directRouting') this.numbers.delete(n.telephoneNumber);
      else {
        n.assignedTo = null;
        n.activationState = 'activated';
      }
    }
    return changed;
  }

  operation(id: string): SimOperation | undefined {
    return this.operations.get(id);
  }

  /** updateNumber: locationId '' clears it, null or absent keeps it (updatenumber.md). */
  update(body: unknown): void {
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    if (typeof b['telephoneNumber'] !== 'string' || b['telephoneNumber'].trim() === '')
      throw new NumberRequestError(400, 'BadRequest', 'Missing mandatory parameter(s): telephoneNumber.');
    const n = this.find(b['telephoneNumber']);
    // Not documented: a number the tenant does not have is answered 404 in Graph's error shape.
    if (!n)
      throw new NumberRequestError(
        404,
        'NotFound',
        `The telephone number ${recordedNumber(b['telephoneNumber'])} was not found in the tenant.`,
      );
    const location = b['locationId'];
    if (location !== undefined && location !== null && typeof location !== 'string')
      throw new NumberRequestError(400, 'BadRequest', 'Invalid value for parameter locationId.');
    if (typeof location === 'string') n.locationId = location === '' ? null : location;
  }

  /** The list, filtered and paged as list-numberassignments.md describes ($top default 500, at most 1,000; $skip). */
  list(query: URLSearchParams): Record<string, unknown>[] {
    const topRaw = query.get('$top') ?? query.get('$Top');
    const skipRaw = query.get('$skip') ?? query.get('$Skip');
    const top = topRaw === null ? 500 : Number(topRaw);
    const skip = skipRaw === null ? 0 : Number(skipRaw);
    // The docs say 1,000 at most but not what a larger $top answers; a 400 is assumed.
    if (!Number.isInteger(top) || top < 0 || top > 1000)
      throw new NumberRequestError(
        400,
        'BadRequest',
        `Invalid value '${topRaw}' for $top; it must be between 0 and 1000.`,
      );
    if (!Number.isInteger(skip) || skip < 0)
      throw new NumberRequestError(400, 'BadRequest', `Invalid value '${skipRaw}' for $skip.`);
    const filter = query.get('$filter');
    const test = filter ? parseFilter(filter) : () => true;
    const all = [...this.numbers.values()].map((n) => this.resource(n)).filter(test);
    return all.slice(skip, skip + top);
  }

  resource(n: SimNumber): Record<string, unknown> {
    const assigned = n.assignedTo !== null;
    return {
      id: Buffer.from(
        `${createHash('sha256').update('tenant-numbers').digest('hex').slice(0, 32)}|${n.telephoneNumber}`,
      ).toString('base64url'),
      telephoneNumber: n.telephoneNumber,
      // Graph's CSDL declares operatorId Nullable="false", and the list page's examples give a GUID for calling-plan
      // and direct-routing numbers alike: one stable id per number type stands for the operator here.
      operatorId: stableId(`operator:${n.numberType}`),
      numberType: n.numberType,
      activationState: n.activationState,
      capabilities: [...n.capabilities],
      locationId: n.locationId,
      civicAddressId: null,
      networkSiteId: null,
      assignmentTargetId: n.assignedTo,
      assignmentCategory: assigned ? 'primary' : null,
      portInStatus: null,
      assignmentStatus: assigned ? 'userAssigned' : 'unassigned',
      isoCountryCode: n.isoCountryCode,
      city: null,
      numberSource: 'online',
      supportedCustomerActions: ['locationUpdate'],
      reverseNumberLookupOptions: [],
    };
  }
}

const FILTER_FIELDS = new Set([
  'telephoneNumber',
  'operatorId',
  'numberType',
  'activationState',
  'locationId',
  'civicAddressId',
  'networkSiteId',
  'assignmentTargetId',
  'assignmentCategory',
  'portInStatus',
  'assignmentStatus',
  'isoCountryCode',
  'numberSource',
]);

/**
 * `field eq 'value'` clauses joined by `and`, and `capabilities/any(c:c eq 'x')`, the forms list-numberassignments.md
 * shows ("All fields from the number assignments can be filtered except id and city"). Anything else is a 400.
 */
export function parseFilter(filter: string): (r: Record<string, unknown>) => boolean {
  if (filter.length > 2000) throw new NumberRequestError(400, 'BadRequest', 'Invalid $filter: too long.');
  // One clause at a time from the left, so that " and " or a doubled quote inside a literal stays in the literal.
  const clause =
    /^\s*(?:capabilities\/any\((\w+):\1\s+eq\s+'((?:[^']|'')*)'\)|(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|(null)))\s*(?:\band\b|$)/i;
  const tests: ((r: Record<string, unknown>) => boolean)[] = [];
  let rest = filter;
  while (rest.trim() !== '') {
    const m = clause.exec(rest);
    if (!m || (m[3] !== undefined && !FILTER_FIELDS.has(m[3])))
      throw new NumberRequestError(400, 'BadRequest', `Invalid $filter clause: ${rest.trim().slice(0, 100)}`);
    rest = rest.slice(m[0].length);
    if (m[2] !== undefined) {
      const want = m[2].replace(/''/g, "'");
      tests.push((r) => Array.isArray(r['capabilities']) && (r['capabilities'] as unknown[]).includes(want));
      continue;
    }
    const field = m[3]!;
    const value = m[5] !== undefined ? null : m[4]!.replace(/''/g, "'");
    // The docs' example filters numberType eq 'DirectRouting': values compare case-insensitively.
    tests.push((r) => {
      const v = r[field];
      return value === null ? v === null : typeof v === 'string' && v.toLowerCase() === value.toLowerCase();
    });
  }
  return (r) => tests.every((t) => t(r));
}
