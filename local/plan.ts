// `dialtone plan`: what a run of a file would do, before anything is written. It is the preflight's own reading and
// planning (planBatch in activities/batch.ts: parse, validate, read the tenant's SKUs and users, plan every
// row), then a look at the numbers the rows would take, all through Graph reads only.
//
// It calls the app's Graph adapter directly, signed in as the app signs in (the AZURE_* settings the local host gets,
// against the simulator's authority: local/stack.ts graphSignInSettings), rather than through the Functions host. The
// host's only way into the preflight is a batch's orchestration, which goes on to write; a plan endpoint there would be
// new surface of the deployed app for a command of this machine. Called directly, the plan needs no Azurite and no
// host, and every request it can make is one of GraphLicensingDirectory's reads, which the simulator records by kind
// (the test also grants the app read permissions only, and gets the same plan). Against an admin's own tenant
// (planOnTenant, `dialtone plan --tenant-id`: local/workstation.ts) it is the same planning, signed in as the admin.
import { planBatch, TransientGraphError, type BatchPlanning } from '../activities/batch';
import { POOL_PAGE } from '../activities/numbers';
import type { TokenCredential } from '@azure/identity';
import { DEVELOPMENT_STORAGE, loadConfig, type AppConfig, type Environment } from '../shared/adapters/config';
import { GraphLicensingDirectory } from '../shared/adapters/graph/directory';
import { graphCredential } from '../shared/adapters/graph-credential';
import { resolveTenantCatalog } from '../shared/domain/catalog';
import type { GraphFailure } from '../shared/domain/directory';
import {
  normalisePhoneNumber,
  NUMBER_MESSAGES,
  ownNumberProblem,
  type NumberType,
} from '../shared/domain/phone-numbers';
import { csvCell, fileNotes, spreadsheetTime, type BatchReport, type InputDescription } from '../shared/domain/report';
import { MAX_INPUT_BYTES } from '../shared/domain/input';
import type { StoredRow } from '../shared/domain/onboarding';
import { keptText } from '../shared/domain/releases';
import { errorText } from '../shared/domain/text';
import { SkipAheadClock } from './clock';
import { startGraphSimulator, type GraphSimulator } from './graph-sim/server';
import type { TenantFile } from './graph-sim/tenant';
import { graphSignInSettings } from './stack';

/**
 * What planning decides for a row: `release` (a leaver's line given back), `move` (a mover's calling plan, usage
 * location and number swapped: docs/leavers-and-movers.md), `assign` (its licences would be assigned now; it ends
 * provisioned or assigned),
 * `wait` (a start date: planned against the tenant when its time comes), or an outcome that needs a person.
 */
export type PlannedOutcome = 'release' | 'move' | 'assign' | 'wait' | 'rejected' | 'failed' | 'flagged';

export interface PlanRow {
  readonly row: number;
  readonly line: number | null;
  readonly displayName: string | null;
  readonly userPrincipalName: string;
  readonly profile: string;
  readonly skus: readonly string[];
  /** The SKUs that would be bought for the user (seats taken), by part number. */
  readonly addedSkus: readonly string[];
  readonly outcome: PlannedOutcome;
  readonly reason: string;
  /** For a row that needs a person: why, and what to do. */
  readonly message: string;
  /** The usage location that would be set (the user has none). */
  readonly setUsageLocation: string | null;
  /** When a waiting row's licences are due (ISO). */
  readonly scheduledFor: string | null;
  /** The number the user would get: the row's own, one of the pool's free numbers, or the one the user keeps. */
  readonly phoneNumber: string | null;
  readonly numberFrom: 'row' | 'pool' | 'kept' | null;
  /** A leaver's row, or a mover's calling plans: the licences that would be given back (held directly), by part number. */
  readonly releasedSkus: readonly string[];
  /** A leaver's row: the Teams number the user holds now, which would be unassigned; a mover's: the one replaced. */
  readonly releasedNumber: string | null;
}

export interface PlanSku {
  readonly partNumber: string;
  readonly skuId: string;
  /** Seats the rows planned now would take. */
  readonly needed: number;
  /** Seats the tenant has free now. */
  readonly free: number;
}

export interface PlanPool {
  readonly numberType: NumberType;
  readonly isoCountryCode: string;
  readonly needed: number;
  /** Free user numbers the tenant lists (up to one page). */
  readonly free: number;
}

export interface FilePlan {
  readonly file: string;
  readonly plannedAt: string;
  readonly phoneNumbers: string;
  readonly input?: InputDescription;
  readonly advisories?: BatchReport['advisories'];
  readonly inputNotes?: BatchReport['inputNotes'];
  /** The file is no input (nothing was planned), or Graph refused to read the tenant. */
  readonly error?: string;
  readonly counts: Record<PlannedOutcome, number> & { total: number };
  readonly skus: readonly PlanSku[];
  readonly numberPools: readonly PlanPool[];
  readonly rows: readonly PlanRow[];
}

export interface PlanFileOptions {
  readonly tenant: TenantFile;
  readonly bytes: Uint8Array;
  /** The file as the user named it (errors and the plan name it so). */
  readonly shownAs: string;
  readonly json: boolean;
  readonly profile?: string;
  /** The app's settings (DIALTONE_*), as the local host would get them. */
  readonly settings: Environment;
  /** The application permissions the simulated Entra ID grants the app; by default those of `settings` (defaultGrant). */
  readonly graphPermissions?: readonly string[];
  /** Sees the simulator while it runs (a test reads what it recorded). */
  readonly onSimulator?: (sim: GraphSimulator) => void;
}

/** What is planned, whatever tenant it is planned against. */
type PlanInput = Pick<PlanFileOptions, 'bytes' | 'shownAs' | 'json' | 'profile'>;

/** A file over the input limit is no input: planned as nothing, saying why. */
function tooBig(options: PlanInput, phoneNumbers: string): FilePlan | undefined {
  if (options.bytes.length <= MAX_INPUT_BYTES) return undefined;
  const error = `${options.shownAs}: ${options.bytes.length} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file`;
  return {
    file: options.shownAs,
    plannedAt: new Date().toISOString(),
    phoneNumbers,
    error,
    counts: emptyCounts(),
    skus: [],
    numberPools: [],
    rows: [],
  };
}

/** Plans the file against a simulator of `tenant`, started for it and stopped after. */
export async function planFile(options: PlanFileOptions): Promise<FilePlan> {
  const refused = tooBig(options, options.settings['DIALTONE_PHONE_NUMBERS'] ?? 'row');
  if (refused) return refused;
  const clock = new SkipAheadClock(0, 1);
  const sim = await startGraphSimulator({
    tenant: options.tenant,
    clock,
    throttling: true,
    appSettings: options.settings,
    ...(options.graphPermissions ? { permissions: options.graphPermissions } : {}),
  });
  try {
    options.onSimulator?.(sim);
    const caFile = "(the simulator's certificate authority)";
    // The configuration needs a storage account; the plan never uses one (no store, no ledger, no queue).
    const env: Environment = {
      AzureWebJobsStorage: DEVELOPMENT_STORAGE,
      ...options.settings,
      ...graphSignInSettings(sim, caFile),
      DIALTONE_LOCAL_RUNTIME: 'true',
    };
    const config = loadConfig(env, (path) => {
      if (path === caFile) return sim.caPem;
      throw new Error(`not read: ${path}`);
    });
    return await planWith(
      config,
      graphCredential(config.graphSignIn, config.graphExtraCaPem),
      options,
      new Date(clock.now()).toISOString(),
    );
  } finally {
    await sim.close();
  }
}

/**
 * Plans the file against the tenant `config` names (a real one, from an admin's workstation), signed in with
 * `credential` (the admin's own sign-in: local/sign-in.ts). Reads only, as against the simulator.
 */
export async function planOnTenant(
  options: PlanInput & { readonly config: AppConfig; readonly credential: TokenCredential },
): Promise<FilePlan> {
  return (
    tooBig(options, options.config.phoneNumbers) ??
    (await planWith(options.config, options.credential, options, new Date().toISOString()))
  );
}

async function planWith(
  config: AppConfig,
  credential: TokenCredential,
  options: PlanInput,
  startedAt: string,
): Promise<FilePlan> {
  const graph = new GraphLicensingDirectory({
    baseUrl: config.graphBaseUrl,
    credential,
    extraCaPem: config.graphExtraCaPem,
  });
  const phoneNumbers = { policy: config.phoneNumbers, byProfile: config.profilePhoneNumbers };
  const planned = await planBatch(
    {
      graph,
      profiles: config.profiles,
      defaultProfile: config.defaultProfile,
      defaultUsageLocation: config.defaultUsageLocation,
      setUsageLocation: config.setUsageLocation,
      phoneNumbers,
      directForGroupPlans: config.directForGroupPlans,
      schedule: config.schedule,
      extraRowSkus: config.extraRowSkus,
    },
    {
      bytes: options.bytes,
      sourceName: options.shownAs,
      startedAt,
      ...(options.json ? { json: true } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    },
  );
  return await describe(planned, graph, {
    file: options.shownAs,
    plannedAt: startedAt,
    phoneNumbers: config.phoneNumbers,
  });
}

const emptyCounts = (): FilePlan['counts'] => ({
  total: 0,
  release: 0,
  move: 0,
  assign: 0,
  wait: 0,
  rejected: 0,
  failed: 0,
  flagged: 0,
});

function baseRow(
  r: StoredRow,
): Omit<
  PlanRow,
  | 'outcome'
  | 'reason'
  | 'message'
  | 'addedSkus'
  | 'setUsageLocation'
  | 'scheduledFor'
  | 'phoneNumber'
  | 'numberFrom'
  | 'releasedSkus'
  | 'releasedNumber'
> {
  return {
    row: r.row,
    line: r.line ?? null,
    displayName: r.displayName ?? null,
    userPrincipalName: r.userPrincipalName,
    profile: r.profile,
    skus: [...r.skus],
  };
}

/** The plan as the user reads it: each row's outcome, the seats per SKU, and the numbers (read from Teams, reads only). */
async function describe(
  planned: BatchPlanning,
  graph: GraphLicensingDirectory,
  head: Pick<FilePlan, 'file' | 'plannedAt' | 'phoneNumbers'>,
): Promise<FilePlan> {
  if (!planned.ok)
    return { ...head, error: planned.message, counts: emptyCounts(), skus: [], numberPools: [], rows: [] };
  const rows: PlanRow[] = planned.rows.map((r): PlanRow => {
    const none = {
      addedSkus: [],
      setUsageLocation: null,
      scheduledFor: null,
      phoneNumber: null,
      numberFrom: null,
      releasedSkus: [],
      releasedNumber: null,
    };
    if (r.kind === 'rejected' || r.kind === 'failed')
      return { ...baseRow(r), ...none, outcome: r.kind, reason: r.reason, message: r.message };
    if (r.kind === 'scheduled')
      return { ...baseRow(r), ...none, outcome: 'wait', reason: '', message: '', scheduledFor: r.scheduledFor };
    if (r.release)
      return {
        ...baseRow(r),
        ...none,
        outcome: 'release',
        reason: '',
        message: r.release.kept.length > 0 ? `would keep ${keptText(r.release.kept)}` : '',
        releasedSkus: [...r.release.removeSkus],
      };
    const own = r.number?.telephoneNumber;
    return {
      ...baseRow(r),
      ...none,
      outcome: r.move ? 'move' : 'assign',
      reason: '',
      message: r.move
        ? [
            r.move.from === r.move.to
              ? `would swap in ${r.move.to} (usage location kept)`
              : `would move ${r.move.from ?? '(no usage location)'} to ${r.move.to}`,
            r.note,
          ]
            .filter(Boolean)
            .join('; ')
        : (r.note ?? ''),
      releasedSkus: [...(r.move?.removeSkus ?? [])],
      addedSkus: [...(r.addedSkus ?? [])],
      setUsageLocation: r.setUsageLocation,
      ...(own ? { phoneNumber: own, numberFrom: 'row' as const } : {}),
    };
  });
  const numberPools = await planNumbers(planned, rows, graph);
  await planReleasedNumbers(planned, rows, graph);

  const catalog = resolveTenantCatalog(planned.skus);
  const needed = new Map<string, number>();
  for (const r of rows) for (const sku of r.addedSkus) needed.set(sku, (needed.get(sku) ?? 0) + 1);
  const skus = [...needed].map(([partNumber, n]): PlanSku => {
    const tenantSku = catalog.all().find((s) => s.partNumber === partNumber);
    return { partNumber, skuId: tenantSku?.skuId ?? '', needed: n, free: tenantSku?.available ?? 0 };
  });
  const counts = emptyCounts();
  for (const r of rows) counts[r.outcome]++;
  counts.total = rows.length;
  const { input, advisories, inputNotes } = planned.described;
  return {
    ...head,
    ...(input ? { input } : {}),
    ...(advisories && advisories.length > 0 ? { advisories: [...advisories] } : {}),
    ...(inputNotes && inputNotes.length > 0 ? { inputNotes: [...inputNotes] } : {}),
    ...(planned.error ? { error: planned.error } : {}),
    counts,
    skus,
    numberPools,
    rows,
  };
}

/**
 * The numbers the rows planned now would take, read from Teams as the number step reads them: a row's own number is
 * checked as the step checks it (ownNumberProblem), and a user who holds a number keeps it. A pool row is given one of
 * the pool's free numbers here in row order; the run hands the same free numbers out in an order of its own
 * (activities/numbers.ts poolOrder), and a run at the same time may take some of them first. Rows in `rows` are updated.
 */
async function planNumbers(
  planned: Extract<BatchPlanning, { ok: true }>,
  rows: PlanRow[],
  graph: GraphLicensingDirectory,
): Promise<PlanPool[]> {
  const numbered = planned.rows.flatMap((r, i) =>
    r.kind === 'assign' && r.number ? [{ i, plan: r, number: r.number }] : [],
  );
  if (numbered.length === 0) return [];
  const held = await graph.readHeldNumbers(numbered.map((n) => n.plan.userId));
  const pools = new Map<string, { pool: PlanPool; free: string[]; needed: number; refused?: GraphFailure }>();
  const taken = new Set<string>();
  const update = (i: number, change: Partial<PlanRow>) => (rows[i] = { ...rows[i]!, ...change });
  for (const { i, plan, number } of numbered) {
    // What Graph refused is flagged as the number step flags it (activities/numbers.ts): the licences would be
    // assigned, the number would not.
    const refused = (what: string, f: GraphFailure) => {
      if (f.transient) throw new TransientGraphError(f);
      update(i, {
        outcome: 'flagged',
        reason: 'number_assignment_failed',
        message: errorText(`licences assigned and Teams shows the calling plan, but ${what}: ${f.message}`),
      });
    };
    const h = held.get(plan.userId);
    if (h && !h.ok) {
      refused("Teams could not be read for the user's numbers", h);
      continue;
    }
    const primary = h?.ok ? h.value.find((n) => n.assignmentCategory.toLowerCase() === 'primary') : undefined;
    let replacing: string | undefined;
    if (primary && plan.move && primary.telephoneNumber !== number.telephoneNumber) {
      // A mover keeps a number of its new country and gives up any other, as the number step decides.
      const record = number.telephoneNumber ? undefined : await graph.findNumber(primary.telephoneNumber);
      if (record && !record.ok) {
        refused(`the user's number ${primary.telephoneNumber} could not be read`, record);
        continue;
      }
      if (record?.value?.isoCountryCode !== number.isoCountryCode || number.telephoneNumber)
        replacing = primary.telephoneNumber;
    }
    if (primary && !replacing) {
      update(i, { phoneNumber: primary.telephoneNumber, numberFrom: 'kept' });
      continue;
    }
    if (replacing) update(i, { releasedNumber: replacing });
    const oldKept = (message: string) => (replacing ? `${message}; ${NUMBER_MESSAGES.oldKept(replacing)}` : message);
    if (number.telephoneNumber) {
      const found = await graph.findNumber(number.telephoneNumber);
      if (!found.ok) {
        refused(`the tenant's number ${number.telephoneNumber} could not be read`, found);
        continue;
      }
      const problem =
        ownNumberProblem(number.telephoneNumber, found.value, plan.userId) ??
        (taken.has(number.telephoneNumber)
          ? { reason: 'number_in_use' as const, message: NUMBER_MESSAGES.inUse(number.telephoneNumber) }
          : undefined);
      taken.add(number.telephoneNumber);
      if (problem)
        update(i, {
          outcome: 'flagged',
          reason: problem.reason,
          message: oldKept(problem.message),
          releasedNumber: null,
        });
      continue;
    }
    const country = number.isoCountryCode ?? '';
    const key = `${number.numberType}|${country}`;
    let pool = pools.get(key);
    if (!pool) {
      const free = await graph.listFreeNumbers(number.numberType, country, POOL_PAGE);
      if (!free.ok && free.transient) throw new TransientGraphError(free);
      // A listed number that is not E.164 is skipped, as the number step skips it.
      const numbers = free.ok
        ? free.value.map((n) => n.telephoneNumber).filter((t) => normalisePhoneNumber(t) === t)
        : [];
      pool = {
        pool: { numberType: number.numberType, isoCountryCode: country, needed: 0, free: numbers.length },
        free: numbers,
        needed: 0,
        ...(free.ok ? {} : { refused: free }),
      };
      pools.set(key, pool);
    }
    pool.needed++;
    if (pool.refused) {
      refused("the tenant's free numbers could not be listed", pool.refused);
      continue;
    }
    const next = pool.free.find((t) => !taken.has(t));
    if (next) {
      taken.add(next);
      update(i, { phoneNumber: next, numberFrom: 'pool' });
    } else
      update(i, {
        outcome: 'flagged',
        reason: 'no_free_number',
        message: oldKept(NUMBER_MESSAGES.noFreeNumber(number.numberType, country)),
        releasedNumber: null,
      });
  }
  return [...pools.values()].map((p) => ({ ...p.pool, needed: p.needed }));
}

/** The Teams number each leaver holds now (read only): the one its release would unassign. Rows are updated. */
async function planReleasedNumbers(
  planned: Extract<BatchPlanning, { ok: true }>,
  rows: PlanRow[],
  graph: GraphLicensingDirectory,
): Promise<void> {
  const leavers = planned.rows.flatMap((r, i) => (r.kind === 'assign' && r.release ? [{ i, userId: r.userId }] : []));
  if (leavers.length === 0) return;
  const held = await graph.readHeldNumbers(leavers.map((l) => l.userId));
  for (const { i, userId } of leavers) {
    const h = held.get(userId);
    if (h && !h.ok && h.transient) throw new TransientGraphError(h);
    const numbers = h?.ok ? h.value.map((n) => n.telephoneNumber) : [];
    if (numbers.length > 0) rows[i] = { ...rows[i]!, releasedNumber: numbers.join(' ') };
  }
}

/** A plan that needs a person: a row rejected, failed or flagged, or a file that is no input. */
export function needsPerson(plan: FilePlan): boolean {
  return plan.counts.rejected + plan.counts.failed + plan.counts.flagged > 0;
}

export const PLAN_CSV_COLUMNS = [
  'row',
  'line',
  'displayName',
  'userPrincipalName',
  'profile',
  'skus',
  'addedSkus',
  'outcome',
  'reason',
  'message',
  'setUsageLocation',
  'scheduledFor (UTC)',
  'phoneNumber',
  'numberFrom',
  'releasedSkus',
  'releasedNumber',
] as const;

/** The plan's rows as CSV, safe for spreadsheets as report.csv is (csvCell, a BOM, the input's own delimiter). */
export function planToCsv(plan: FilePlan): string {
  const d = plan.input?.delimiter === ';' ? ';' : ',';
  const lines = [PLAN_CSV_COLUMNS.join(d)];
  const fileRow = (reason: string, message: string) =>
    PLAN_CSV_COLUMNS.map((c) => (c === 'outcome' ? 'file' : c === 'reason' ? reason : c === 'message' ? message : ''))
      .map(csvCell)
      .join(d);
  if (plan.error) lines.push(fileRow(plan.rows.length === 0 ? 'input_refused' : 'graph_refused', plan.error));
  for (const n of fileNotes(plan)) lines.push(fileRow('note', n));
  for (const r of plan.rows) {
    lines.push(
      [
        r.row,
        r.line,
        r.displayName,
        r.userPrincipalName,
        r.profile,
        r.skus.join('+'),
        r.addedSkus.join('+'),
        r.outcome,
        r.reason,
        r.message,
        r.setUsageLocation,
        spreadsheetTime(r.scheduledFor),
        r.phoneNumber,
        r.numberFrom,
        r.releasedSkus.join('+'),
        r.releasedNumber,
      ]
        .map(csvCell)
        .join(d),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** The plan in a few lines for the terminal. */
export function planSummary(plan: FilePlan): string {
  const c = plan.counts;
  const lines = [`plan for ${plan.file}: nothing was written`];
  // What would be given back comes first: removing is the step a person most wants to see before it happens.
  const leavers = plan.rows.filter((r) => r.outcome === 'release');
  if (leavers.length > 0) {
    const seats = new Map<string, number>();
    for (const r of leavers) for (const s of r.releasedSkus) seats.set(s, (seats.get(s) ?? 0) + 1);
    const numbers = leavers.filter((r) => r.releasedNumber).length;
    lines.push(
      '',
      `would give back (leavers): ${[...[...seats].map(([s, n]) => `${n} × ${s}`), ...(numbers > 0 ? [`${numbers} number(s)`] : [])].join(', ') || 'nothing'}`,
      ...leavers.map(
        (r) =>
          `  row ${r.row} ${r.userPrincipalName}: ${[r.releasedSkus.join(', '), r.releasedNumber ?? ''].filter(Boolean).join(', ') || 'nothing held directly'}${r.message ? ` (${r.message})` : ''}`,
      ),
    );
  }
  // Then the moves: what each would buy, remove and give back (docs/leavers-and-movers.md, "Movers").
  const movers = plan.rows.filter((r) => r.outcome === 'move');
  if (movers.length > 0) {
    const tally = (pick: (r: PlanRow) => readonly string[]) => {
      const n = new Map<string, number>();
      for (const r of movers) for (const s of pick(r)) n.set(s, (n.get(s) ?? 0) + 1);
      return [...n].map(([s, k]) => `${k} × ${s}`).join(', ');
    };
    const numbers = movers.filter((r) => r.releasedNumber).length;
    lines.push(
      '',
      `would move (movers): buy ${tally((r) => r.addedSkus) || 'nothing'}; give back ${[tally((r) => r.releasedSkus), ...(numbers > 0 ? [`${numbers} number(s)`] : [])].filter(Boolean).join(', ') || 'nothing'}`,
      ...movers.map(
        (r) =>
          `  row ${r.row} ${r.userPrincipalName}: ${[
            r.addedSkus.length > 0 ? `buy ${r.addedSkus.join(', ')}` : '',
            r.releasedSkus.length > 0 ? `give back ${r.releasedSkus.join(', ')}` : '',
            r.phoneNumber ? `number ${r.phoneNumber}${r.releasedNumber ? ` in place of ${r.releasedNumber}` : ''}` : '',
          ]
            .filter(Boolean)
            .join('; ')}${r.message ? ` (${r.message})` : ''}`,
      ),
    );
  }
  lines.push('', 'would         users', '------------  -----');
  const label: Record<PlannedOutcome, string> = {
    release: 'release',
    move: 'move',
    assign: 'assign',
    wait: 'wait (start)',
    rejected: 'be rejected',
    failed: 'fail',
    flagged: 'be flagged',
  };
  for (const o of ['release', 'move', 'assign', 'wait', 'rejected', 'failed', 'flagged'] as const)
    lines.push(`${label[o].padEnd(12)}  ${String(c[o]).padStart(5)}`);
  lines.push(`${'total'.padEnd(12)}  ${String(c.total).padStart(5)}`);
  lines.push('', plan.skus.length === 0 ? 'licences: none to buy' : 'licences to buy (seats needed / free now)');
  for (const s of plan.skus) lines.push(`  ${s.partNumber.padEnd(36)} ${String(s.needed).padStart(5)} / ${s.free}`);
  if (c.wait > 0)
    lines.push(`  (rows waiting for their start date take their seats when their time comes: not counted here)`);
  const fromPool = plan.rows.filter((r) => r.numberFrom === 'pool').length;
  const own = plan.rows.filter(
    (r) => r.numberFrom === 'row' && (r.outcome === 'assign' || r.outcome === 'move'),
  ).length;
  if (plan.numberPools.length > 0 || own > 0) {
    lines.push('', `numbers: ${own} of the rows' own, ${fromPool} from the pool`);
    for (const p of plan.numberPools)
      lines.push(`  pool ${p.numberType} ${p.isoCountryCode}: ${p.needed} needed, ${p.free} free`);
  }
  const notes = fileNotes(plan);
  if (notes.length > 0) lines.push('', 'about the file', ...notes.map((n) => `  ${n}`));
  const needy = plan.rows.filter((r) => r.outcome === 'rejected' || r.outcome === 'failed' || r.outcome === 'flagged');
  if (needy.length > 0)
    lines.push(
      '',
      'rows that would need a person',
      ...needy.map((r) => `  row ${r.row} (${r.outcome}, ${r.reason}): ${r.message}`),
    );
  if (plan.error) lines.push('', `Graph: ${plan.error}`);
  return lines.join('\n');
}
