// The activities of HR onboarding: plan a slot's waiting rows when their time comes (seats and accounts read from
// Graph then, not at submission), record cancellations, tell when a cancelled batch has no licence write in flight,
// and ask a cancelled batch's chunks to end their Teams waits. Built from their dependencies like the other activities.
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { BatchStore, RunKey, SlotState } from '../shared/adapters/batch-store';
import { assignmentOf, chunkStaggerMs, type ChunkUserResult, type PlannedAssignment } from '../shared/domain/batch';
import { resolveTenantCatalog } from '../shared/domain/catalog';
import type { DirectoryUser, GraphResult, LicensingDirectory } from '../shared/domain/directory';
import { cancelledOutcome, planSlotRound } from '../shared/domain/onboarding';
import type { AssignmentPlan, PlanOptions } from '../shared/domain/planning';
import { upnKey } from '../shared/domain/upn';
import type { PlanSlotInput, PlanSlotResult } from '../contracts/slot';
import { TransientGraphError, planIdsOf, usersFromReads } from './batch';
import { CANCEL_EVENT, TURN_EVENT, SLOT_CHUNK_BASE, slotChunkId, slotSettledChunkId } from '../contracts/names';
import { parseInstanceId } from '../contracts/instance-ids';

export interface OnboardingDeps {
  readonly graph: LicensingDirectory;
  readonly store: BatchStore;
  readonly defaultUsageLocation: string | undefined;
  /** false: the app never PATCHes a user (its identity holds only User.Read.All); default true. */
  readonly setUsageLocation?: boolean;
  readonly accountWaitHours: number;
  /** DIALTONE_PHONE_NUMBERS and the profiles' own, as the preflight plans with them (rows planned when their slot comes get numbers too). */
  readonly phoneNumbers?: PlanOptions['phoneNumbers'];
  /** DIALTONE_DIRECT_FOR_GROUP_PLANS (PlanOptions.directForGroupPlans). */
  readonly directForGroupPlans?: boolean;
  /** The shared Graph write budget's rate (DIALTONE_GRAPH_WRITES_PER_SECOND): a round's chunks start in turn by it. */
  readonly writesPerSecond?: number;
}

export function createOnboardingActivities(deps: OnboardingDeps) {
  const { graph, store } = deps;

  async function slotState(runKey: RunKey, slot: number): Promise<SlotState> {
    const saved = await store.readSlot(runKey, slot);
    if (!saved) throw new Error(`run ${runKey} has no slot ${slot}`);
    return saved;
  }

  /** When a slot is due. */
  async function loadSlot(input: { runKey: RunKey; slot: number }): Promise<string> {
    return (await slotState(input.runKey, input.slot)).at;
  }

  /** How many of a slot's waiting rows are not cancelled (a waiting slot checks now and then). */
  async function liveInSlot(input: { runKey: RunKey; slot: number }): Promise<number> {
    const [slot, cancellations] = await Promise.all([
      slotState(input.runKey, input.slot),
      store.readCancellations(input.runKey),
    ]);
    return cancellations.batch ? 0 : slot.waiting.filter((r) => !cancellations.rows.includes(r.row)).length;
  }

  async function planSlot(input: PlanSlotInput): Promise<PlanSlotResult> {
    const now = new Date(input.now);
    const slot = await slotState(input.runKey, input.slot);
    const waiting = slot.waiting;
    const cancellations = await store.readCancellations(input.runKey);
    const live = waiting.filter((r) => !cancellations.batch && !cancellations.rows.includes(r.row));

    const skus = live.length > 0 ? await graph.listSubscribedSkus() : { ok: true as const, value: [] };
    if (!skus.ok && skus.transient) throw new TransientGraphError(skus);
    const reads =
      skus.ok && live.length > 0
        ? await graph.readUsers(live.map((r) => r.userPrincipalName))
        : new Map<string, GraphResult<DirectoryUser>>();
    const { users, readFailures } = usersFromReads(reads);

    const results: ChunkUserResult[] = [];
    const settle = (
      row: number,
      outcome: ChunkUserResult['outcome'],
      reason: ChunkUserResult['reason'],
      message: string,
    ) => results.push({ row, outcome, reason, message, assignedAt: null, provisionedAt: null });
    let round: ReturnType<typeof planSlotRound>;
    if (!skus.ok) {
      for (const r of live)
        settle(
          r.row,
          'failed',
          skus.reason === 'unknown_sku' ? 'graph_error' : skus.reason,
          `row ${r.row}: Graph refused to read the tenant's subscriptions when the row's time came: ${skus.message}`,
        );
      const liveRows = new Set(live.map((r) => r.row));
      round = { planned: [], cancelled: waiting.filter((r) => !liveRows.has(r.row)), stillWaiting: [] };
    } else {
      const blocked = new Set(live.filter((r) => readFailures.has(upnKey(r.userPrincipalName))));
      for (const r of blocked) {
        const f = readFailures.get(upnKey(r.userPrincipalName))!;
        settle(
          r.row,
          'failed',
          f.reason === 'unknown_sku' ? 'graph_error' : f.reason,
          `row ${r.row}: Graph refused to read the user: ${f.message}`,
        );
      }
      round = planSlotRound(
        waiting.filter((r) => !blocked.has(r)),
        { catalog: resolveTenantCatalog(skus.value), users, planIds: planIdsOf(skus.value) },
        {
          ...(deps.defaultUsageLocation ? { defaultUsageLocation: deps.defaultUsageLocation } : {}),
          setUsageLocation: deps.setUsageLocation !== false,
          ...(deps.phoneNumbers ? { phoneNumbers: deps.phoneNumbers } : {}),
          ...(deps.directForGroupPlans ? { directForGroupPlans: true } : {}),
        },
        now,
        deps.accountWaitHours,
        cancellations,
      );
    }
    for (const r of round.cancelled) {
      const c = cancelledOutcome(r, cancellations);
      settle(r.row, 'cancelled', '', c.message);
    }
    const assign: AssignmentPlan[] = [];
    for (const p of round.planned) {
      if (p.kind === 'assign') assign.push(p);
      else settle(p.row, p.kind, p.reason, p.message);
    }
    // The slot's waiting list is saved before cancellations are read again, so that a row cancellation either is
    // seen here or finds the row gone from the list (and is refused): nothing is handed out for a cancelled row.
    await store.saveSlot(input.runKey, input.slot, { at: slot.at, waiting: round.stillWaiting });
    const latest = assign.length > 0 ? await store.readCancellations(input.runKey) : cancellations;
    const chunks: number[] = [];
    const work: PlannedAssignment[][] = [];
    const toAssign = assign.filter((p) => {
      if (!latest.batch && !latest.rows.includes(p.row)) return true;
      settle(p.row, 'cancelled', '', cancelledOutcome(p, latest).message);
      return false;
    });
    for (let i = 0; i * input.chunkSize < toAssign.length; i++) {
      const id = slotChunkId(input.slot, input.round, i);
      const assignments = toAssign
        .slice(i * input.chunkSize, (i + 1) * input.chunkSize)
        .map((p) => assignmentOf(p, true));
      await store.saveWork(input.runKey, id, assignments);
      chunks.push(id);
      work.push(assignments);
    }
    if (results.length > 0) await store.saveChunk(input.runKey, slotSettledChunkId(input.slot, input.round), results);
    const until = round.stillWaiting.reduce(
      (m, r) => Math.max(m, Date.parse(r.scheduledFor) + deps.accountWaitHours * 3_600_000),
      0,
    );
    const stagger = deps.writesPerSecond ? chunkStaggerMs(work, deps.writesPerSecond) : 0;
    return {
      chunks,
      waiting: round.stillWaiting.length,
      waitUntil: until > 0 ? new Date(until).toISOString() : null,
      ...(stagger > 0 ? { chunkStaggerMs: stagger } : {}),
    };
  }

  /**
   * Whether every licence write handed out so far has recorded its result: each row planned at preflight, and each
   * row a slot handed to a chunk, has an outcome in the store.
   */
  async function writesSettled(input: { runKey: RunKey }): Promise<boolean> {
    const plan = await store.readPlan(input.runKey);
    if (!plan) throw new Error(`no stored plan for run ${input.runKey}`);
    const have = new Set((await store.readChunks(input.runKey)).map((r) => r.row));
    if (plan.rows.some((r) => r.kind === 'assign' && !have.has(r.row))) return false;
    const { work } = await store.listChunkNumbers(input.runKey);
    for (const id of work.filter((w) => w >= SLOT_CHUNK_BASE)) {
      if (((await store.readWork(input.runKey, id)) ?? []).some((w) => !have.has(w.row))) return false;
    }
    return true;
  }

  /**
   * Asks a cancelled batch's chunks to end their Teams waits (their rows are licensed and end `assigned`; a chunk still
   * assigning sees the request when it starts to wait). Orchestrations cannot raise events to other instances, so this
   * activity does it with the durable client it binds. Events, not terminate: see batch.ts. Slots get none (slot.ts).
   */
  async function stopBatch(input: { batchInstanceId: string }, context: InvocationContext): Promise<number> {
    const client = df.getClient(context);
    const running = await client.getStatusBy({
      runtimeStatus: [df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending],
    });
    // Each instance once: a query answered in pages may list one twice, and a second event raced with the first
    // (observed on the real extension with Azurite) costs an aborted episode.
    const ids = [...new Set(running.map((i) => i.instanceId))].filter((id) => isChunkOf(input.batchInstanceId, id));
    let asked = 0;
    for (const id of ids) {
      try {
        await client.raiseEvent(id, CANCEL_EVENT, null);
        asked++;
      } catch {
        // it ended by itself meanwhile
      }
    }
    return asked;
  }

  /**
   * Hands a chunk its turn to start assigning (workflows/chunk.ts, untilStart): the chunk before it has recorded its
   * assignments. Orchestrations cannot raise events to other instances, so this activity does it with its durable
   * client. Answers false when that chunk no longer runs (it started at its latest time, or was cancelled, and ended):
   * there is nobody to hand the turn to. Any other failure is thrown, to be retried.
   */
  async function passTurn(input: { instanceId: string }, context: InvocationContext): Promise<boolean> {
    const client = df.getClient(context);
    try {
      await client.raiseEvent(input.instanceId, TURN_EVENT, null);
      return true;
    } catch (e) {
      const status = await client.getStatus(input.instanceId).catch(() => undefined);
      const ended =
        status !== undefined &&
        status.runtimeStatus !== df.OrchestrationRuntimeStatus.Running &&
        status.runtimeStatus !== df.OrchestrationRuntimeStatus.Pending;
      if (ended) return false;
      throw e;
    }
  }

  return { loadSlot, liveInSlot, planSlot, writesSettled, stopBatch, passTurn };
}

/** Whether `id` is one of the batch's chunks: one preflight planned, or one a slot's round handed rows to. */
function isChunkOf(batchInstanceId: string, id: string): boolean {
  const parsed = parseInstanceId(id);
  const child = parsed?.batch === batchInstanceId && parsed.path.length === 1 ? parsed.path[0]! : undefined;
  return child?.kind === 'chunk' || child?.kind === 'slot-chunk';
}
