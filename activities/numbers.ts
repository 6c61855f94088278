// The phone number step's activities: pick and claim the number, send assignNumber, read its operation, and confirm
// the result from Teams' own record of the user (telephoneNumbers) before the row counts as provisioned.
// Every activity may run again after a crash or a retry: each starts from what Graph and the claims show now.
import { createHash } from 'node:crypto';
import { wallClock, type AppTime } from '../shared/adapters/app-time';
import type { BatchStore } from '../shared/adapters/batch-store';
import { takeTurns, type RateLedger } from '../shared/adapters/graph-budget';
import type { NumberClaims } from '../shared/adapters/number-claims';
import { chunkAssignments } from '../shared/domain/batch';
import type { GraphFailure, GraphResult, NumberReleases, PhoneNumberDirectory } from '../shared/domain/directory';
import {
  NUMBER_MESSAGES,
  isFinished,
  normalisePhoneNumber,
  ownNumberProblem,
  type HeldNumber,
  type NumberOrder,
  type NumberUnassignmentSent,
  type TeamsNumber,
} from '../shared/domain/phone-numbers';
import { errorText } from '../shared/domain/text';
import { TransientGraphError } from './batch';
import { SLOT_CHUNK_BASE } from '../contracts/names';
import type { ConfirmInput, NumberResult, NumberStart, NumberWork, SentOrder } from '../contracts/numbers';

export interface NumberActivityDeps {
  readonly graph: PhoneNumberDirectory;
  readonly store: BatchStore;
  readonly claims: NumberClaims;
  readonly now?: () => Date;
  /**
   * The number step's Teams read budget (graph-budget.ts; DIALTONE_NUMBER_READS_PER_SECOND, beside the checks'). Every
   * GET of this step is a Teams GET under Graph's 30 per second per app (the user's numbers, the number list, an
   * order's operation), so each takes a turn; without it, reads are not paced.
   */
  readonly teamsReads?: RateLedger;
  /** The clock the read budget's waits follow (the app's time; the wall clock when none is given). */
  readonly time?: AppTime;
  /**
   * Gives a mover's old number back when Teams still lists it on the user after the new one was confirmed (the
   * Graph adapter); without it such a row is flagged for a person to unassign the number.
   */
  readonly releases?: Pick<NumberReleases, 'unassignNumber' | 'followNumberUnassignment'>;
}

/**
 * Teams reads sent together after one wait for their turns: Graph's $batch limit of 20, and no more than a second of
 * the step's budget, so that a group and a slice of the checks' budget beside it stay within Graph's 30 a second.
 */
export function numberReadsPerGroup(perSecond: number): number {
  return Number.isFinite(perSecond) ? Math.max(1, Math.min(20, Math.floor(perSecond))) : 20;
}

/** Free numbers read per pick: one page of the list (list-numberassignments.md: at most 1,000 per query). */
export const POOL_PAGE = 1000;

/** Who holds a claim: the run and the row (a retry of the same row finds its own claim). */
export function claimOwner(runKey: string, row: number): string {
  return `${runKey}#${row}`;
}

/**
 * The pool's free numbers in the order one owner tries them: the list turned by a hash of the owner, so that users
 * picking at the same moment start at different numbers instead of all contending for the first.
 */
export function poolOrder(free: readonly TeamsNumber[], owner: string): TeamsNumber[] {
  if (free.length === 0) return [];
  const start = createHash('sha256').update(owner).digest().readUInt32BE(0) % free.length;
  return [...free.slice(start), ...free.slice(0, start)];
}

export function createNumberActivities(deps: NumberActivityDeps) {
  const { graph, store, claims } = deps;
  const now = deps.now ?? (() => new Date());
  const awaitReads = (n: number) => takeTurns(deps.teamsReads, n, deps.time ?? wallClock);
  const readsPerGroup = numberReadsPerGroup(deps.teamsReads?.perSecond ?? Number.POSITIVE_INFINITY);

  const flagged = (row: number, reason: NumberResult['reason'], message: string): NumberResult => ({
    row,
    outcome: 'flagged',
    reason,
    message: errorText(message),
  });
  const refused = (row: number, f: GraphFailure, what: string): NumberResult => {
    if (f.transient) throw new TransientGraphError(f);
    return flagged(
      row,
      'number_assignment_failed',
      `licences assigned and Teams shows the calling plan, but ${what}: ${f.message}`,
    );
  };

  /** The rows' number work from the stored plan (the orchestration passes row numbers only). */
  async function numberWork(input: { runKey: string; chunk: number; rows: readonly number[] }): Promise<NumberWork[]> {
    const plan = await store.readPlan(input.runKey);
    if (!plan) throw new Error(`no stored plan for run ${input.runKey}`);
    const wanted = new Set(input.rows);
    // Rows licensed when their slot's time came are in a work list of their own, as the chunk loaded them.
    const work =
      input.chunk >= SLOT_CHUNK_BASE
        ? ((await store.readWork(input.runKey, input.chunk)) ?? [])
        : (chunkAssignments(plan.rows, plan.chunkSize)[input.chunk] ?? []);
    return work.flatMap((w) =>
      wanted.has(w.row) && w.number
        ? [
            {
              runKey: input.runKey,
              row: w.row,
              userId: w.userId,
              number: w.number,
              ...(w.move ? { moving: true as const } : {}),
            },
          ]
        : [],
    );
  }

  /**
   * Settles a row at once (a number kept, in use, none free) or sends its assignNumber order. A mover's number from
   * another country is not kept: the new number's order replaces it (docs/leavers-and-movers.md, "Movers"), and a row
   * settled here without a new number says the user keeps the old one.
   */
  async function startNumber(w: NumberWork): Promise<NumberStart> {
    let replacing: string | undefined;
    const done = (result: NumberResult): NumberStart => ({
      kind: 'done',
      result:
        replacing && result.outcome === 'flagged'
          ? { ...result, message: errorText(`${result.message}; ${NUMBER_MESSAGES.oldKept(replacing)}`) }
          : result,
    });
    const owner = claimOwner(w.runKey, w.row);
    await awaitReads(1);
    const held = (await graph.readHeldNumbers([w.userId])).get(w.userId);
    if (!held) throw new Error('Graph returned no answer for the user');
    if (!held.ok) return done(refused(w.row, held, "Teams could not be read for the user's numbers"));
    const primary = held.value.find((n) => n.assignmentCategory.toLowerCase() === 'primary');
    const keep = (telephoneNumber: string): NumberStart => {
      // Already the row's number (an earlier attempt's order landed), or a number the user had before: kept either way.
      const same = telephoneNumber === w.number.telephoneNumber;
      return done({
        row: w.row,
        outcome: 'provisioned',
        reason: '',
        message: '',
        phoneNumber: telephoneNumber,
        numberedAt: now().toISOString(),
        ...(same ? {} : { advisories: ['number_kept'] }),
      });
    };
    // A mover's old number, kept in the run's work store before its new number's order is sent: a retry that finds
    // the new number in place still says which number it took the place of.
    const moveStep = `move-number/${w.row}`;
    const sentFor = w.moving ? await store.readDone(w.runKey, moveStep) : undefined;
    // Whether the old number went back is read from the tenant's record of it, as once an order is confirmed
    // (replaced), not from this Teams view of the user, which Graph does not promise to be current.
    const kept = async (telephoneNumber: string): Promise<NumberStart> => {
      const result = keep(telephoneNumber);
      if (result.kind !== 'done' || !sentFor || sentFor === telephoneNumber) return result;
      return done(
        await replaced({ telephoneNumber, userId: w.userId, row: w.row, runKey: w.runKey }, sentFor, {
          ...result.result,
          advisories: [],
        }),
      );
    };
    if (primary && (!w.moving || primary.telephoneNumber === w.number.telephoneNumber))
      return kept(primary.telephoneNumber);
    if (primary) {
      // A mover keeps a number of its new country (a pool row), and gives up any other.
      if (!w.number.telephoneNumber) {
        await awaitReads(1);
        const record = await graph.findNumber(primary.telephoneNumber);
        if (!record.ok)
          return done(refused(w.row, record, `the user's number ${primary.telephoneNumber} could not be read`));
        if (record.value?.isoCountryCode === w.number.isoCountryCode) return kept(primary.telephoneNumber);
      }
      replacing = primary.telephoneNumber;
    }

    let chosen: TeamsNumber | undefined;
    if (w.number.telephoneNumber) {
      await awaitReads(1);
      const found = await graph.findNumber(w.number.telephoneNumber);
      if (!found.ok)
        return done(refused(w.row, found, `the tenant's number ${w.number.telephoneNumber} could not be read`));
      const problem = ownNumberProblem(w.number.telephoneNumber, found.value, w.userId);
      if (problem || !found.value)
        return done(
          flagged(
            w.row,
            problem?.reason ?? 'number_assignment_failed',
            problem?.message ?? NUMBER_MESSAGES.notInTenant(w.number.telephoneNumber),
          ),
        );
      const holder = found.value.assignmentTargetId;
      if (!(await claims.claim(found.value.telephoneNumber, owner, now(), !holder))) {
        return done(flagged(w.row, 'number_in_use', NUMBER_MESSAGES.inUse(w.number.telephoneNumber)));
      }
      chosen = found.value;
    } else {
      const country = w.number.isoCountryCode ?? '';
      await awaitReads(1);
      const free = await graph.listFreeNumbers(w.number.numberType, country, POOL_PAGE);
      if (!free.ok) return done(refused(w.row, free, "the tenant's free numbers could not be listed"));
      for (const candidate of poolOrder(free.value, owner)) {
        // A listed number that is not E.164 (the docs' own examples are not always) is skipped, not ordered.
        if (normalisePhoneNumber(candidate.telephoneNumber) !== candidate.telephoneNumber) continue;
        if (await claims.claim(candidate.telephoneNumber, owner, now(), true)) {
          chosen = candidate;
          break;
        }
      }
      if (!chosen)
        return done(flagged(w.row, 'no_free_number', NUMBER_MESSAGES.noFreeNumber(w.number.numberType, country)));
    }

    if (replacing) await store.markDone(w.runKey, moveStep, replacing);
    const order = await graph.startNumberAssignment({
      telephoneNumber: chosen.telephoneNumber,
      userId: w.userId,
      numberType: w.number.numberType,
      ...(w.number.locationId ? { locationId: w.number.locationId } : {}),
    });
    if (!order.ok) {
      // A transient failure keeps the claim: the order may have been taken, and the retry finds the claim its own.
      if (!order.transient) await claims.release(chosen.telephoneNumber, owner);
      return done(refused(w.row, order, `assigning ${chosen.telephoneNumber} was refused`));
    }
    return {
      kind: 'ordered',
      order: {
        row: w.row,
        userId: w.userId,
        telephoneNumber: chosen.telephoneNumber,
        numberType: w.number.numberType,
        operationId: order.value.operationId,
        ...(replacing ? { replacing } : {}),
      },
    };
  }

  /** Where each order stands now; an order that cannot be read this time stays as it was (unknown, read again later). */
  async function readOrders(input: {
    operationIds: readonly string[];
  }): Promise<Pick<NumberOrder, 'operationId' | 'status' | 'detail'>[]> {
    const out: Pick<NumberOrder, 'operationId' | 'status' | 'detail'>[] = [];
    for (const [i, id] of input.operationIds.entries()) {
      if (i % readsPerGroup === 0) await awaitReads(Math.min(readsPerGroup, input.operationIds.length - i));
      const r = await graph.readNumberOrder(id);
      if (r.ok) out.push({ operationId: id, status: r.value.status, detail: r.value.detail });
      else if (!r.transient)
        out.push({
          operationId: id,
          status: 'failed',
          detail: errorText(`its operation could not be read: ${r.message}`),
        });
    }
    return out;
  }

  /**
   * A mover's row once Teams lists its new number: the old one is given back. Teams does that itself (a new primary
   * number takes the old one's place: docs/leavers-and-movers.md, "Movers"), which the tenant's record of the old
   * number confirms (the record, not the user's Teams view, which Graph does not promise to be current); should the
   * record still give it to the user, it is unassigned here, and only now, with the new number in place. A number that
   * cannot be given back leaves the row flagged, the new number kept. The unassignNumber order is kept in the run's
   * work store once sent, as a leaver's is: a retry of the activity (a transient failure while following it) follows
   * that order on instead of sending a second one, which Teams fails ("not assigned") once the first finishes.
   */
  async function replaced(
    o: Pick<SentOrder, 'telephoneNumber' | 'userId' | 'row'> & { readonly runKey: string },
    old: string,
    numbered: NumberResult,
  ): Promise<NumberResult> {
    const given = (how: string): NumberResult => ({
      ...numbered,
      message: `${o.telephoneNumber} assigned in place of ${old}, ${how}`,
      releasedNumber: old,
    });
    const cannot = (what: string): NumberResult => ({
      ...numbered,
      outcome: 'flagged',
      reason: 'number_release_failed',
      message: errorText(
        `${o.telephoneNumber} assigned, but ${what}; check ${old} in the Teams admin center (Voice > Phone numbers) and unassign it if it is still the user's`,
      ),
    });
    const still = (why: string) => cannot(`${old} is still the user's: ${why}`);
    const releaseStep = `move-release/${o.row}`;
    const earlier = await store.readDone(o.runKey, releaseStep);
    const sent = earlier ? (JSON.parse(earlier) as NumberUnassignmentSent) : undefined;
    if (!sent) {
      await awaitReads(1);
      const record = await graph.findNumber(old);
      if (!record.ok) {
        if (record.transient) throw new TransientGraphError(record);
        return cannot(`whether ${old} went back could not be read: ${record.message}`);
      }
      if (record.value?.assignmentTargetId?.toLowerCase() !== o.userId.toLowerCase())
        return given('which Teams took back');
    }
    if (!deps.releases) return still('this deployment does not give numbers back');
    const r = sent
      ? await deps.releases.followNumberUnassignment(sent)
      : await deps.releases.unassignNumber({
          telephoneNumber: old,
          userId: o.userId,
          onSent: (order) => store.markDone(o.runKey, releaseStep, JSON.stringify(order)),
        });
    if (!r.ok) {
      if (r.transient) throw new TransientGraphError(r);
      return still(r.message);
    }
    if (r.value.outcome === 'released') return given('which dialtone unassigned once the new one worked');
    if (r.value.outcome === 'skipped') return still(r.value.detail);
    if (r.value.outcome === 'failed')
      return still(`Teams refused to take it back: ${r.value.detail ?? 'no detail given'}`);
    return still(`its unassignment (operation ${r.value.operationId}) was still ${r.value.status}`);
  }

  /**
   * Ends each order's row: a succeeded order counts only once Teams lists the number on the user; a failed one gives
   * its number back to the pool; one that never finished keeps its claim (it may still finish) and is flagged.
   */
  async function confirmNumbers(input: ConfirmInput): Promise<NumberResult[]> {
    const succeeded = input.orders.filter((o) => o.state.status === 'succeeded');
    const held = new Map<string, GraphResult<HeldNumber[]>>();
    for (let i = 0; i < succeeded.length; i += readsPerGroup) {
      const group = succeeded.slice(i, i + readsPerGroup);
      await awaitReads(group.length);
      for (const [userId, r] of await graph.readHeldNumbers(group.map((o) => o.userId))) held.set(userId, r);
    }
    const out: NumberResult[] = [];
    for (const o of input.orders) {
      const owner = claimOwner(input.runKey, o.row);
      if (o.state.status === 'succeeded') {
        const h = held.get(o.userId);
        if (h && !h.ok && h.transient) throw new TransientGraphError(h);
        if (h?.ok && h.value.some((n) => n.telephoneNumber === o.telephoneNumber)) {
          const numbered = {
            row: o.row,
            outcome: 'provisioned' as const,
            reason: '' as const,
            message: '',
            phoneNumber: o.telephoneNumber,
            numberedAt: now().toISOString(),
          };
          out.push(o.replacing ? await replaced({ ...o, runKey: input.runKey }, o.replacing, numbered) : numbered);
        } else if (h?.ok && input.retryReadBack) {
          // Graph documents no consistency between the number's order and Teams' view of the user: read again later.
          out.push({
            row: o.row,
            outcome: 'flagged',
            reason: 'number_assignment_failed',
            message: '',
            readBackPending: true,
          });
        } else {
          const later =
            input.readBackMinutes !== undefined ? ` ${input.readBackMinutes} minutes after its order succeeded` : '';
          const why =
            h && !h.ok
              ? `Teams could not be read to confirm it: ${h.message}`
              : `Teams does not list it on the user${later}`;
          out.push(
            flagged(
              o.row,
              'number_assignment_failed',
              NUMBER_MESSAGES.failed(
                o.telephoneNumber,
                `its order succeeded but ${why}; check the user in the Teams admin center`,
              ),
            ),
          );
        }
        continue;
      }
      if (isFinished({ operationId: o.operationId, ...o.state })) {
        await claims.release(o.telephoneNumber, owner);
        const detail = o.state.detail ?? `the order ended ${o.state.status} without a reason`;
        // Graph's statusDetail texts are not published, so a failed order is never read as number_in_use: a row's
        // number held by someone else is found before the order (findNumber), and anything else is the order's own.
        out.push(flagged(o.row, 'number_assignment_failed', NUMBER_MESSAGES.failed(o.telephoneNumber, detail)));
        continue;
      }
      out.push(
        flagged(
          o.row,
          'number_assignment_failed',
          NUMBER_MESSAGES.failed(
            o.telephoneNumber,
            `its order (operation ${o.operationId}) was still ${o.state.status} after ${input.followedMinutes} minutes`,
          ),
        ),
      );
    }
    return out;
  }

  return { numberWork, startNumber, readOrders, confirmNumbers };
}
