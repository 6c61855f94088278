// The durable instance ids of a batch's sub-orchestrations, built and read back by kind. A batch is `<owner>~<batchId>`
// (functions/callers.ts); each child adds one `:`-separated part naming its kind and numbers, so an id says what it
// is to whoever reads the task hub, and carries no user. Ids already given to instances stay readable: a start-date
// slot's chunk was once named by its chunk number in the run's folder (`:chunk-<SLOT_CHUNK_BASE + …>`), and still parses
// as the slot's chunk it is. docs/architecture.md's glossary lists the forms.
import { SLOT_CHUNK_BASE } from './names';

export type ChildInstance =
  /** One of the chunks preflight planned (`:chunk-<n>`). */
  | { readonly kind: 'chunk'; readonly chunk: number }
  /** A start-date slot's round (`:slot-<slot>`, later rounds `:slot-<slot>-r<round>`). */
  | { readonly kind: 'slot'; readonly slot: number; readonly round: number }
  /** A chunk a slot's round handed rows to (`:slot-<slot>-r<round>-chunk-<part>`). */
  | { readonly kind: 'slot-chunk'; readonly slot: number; readonly round: number; readonly part: number }
  /** A chunk's number step after its check `polls` (`:numbers-<polls>`, later parts `:numbers-<polls>-<part>`). */
  | { readonly kind: 'numbers'; readonly polls: number; readonly part: number }
  /** The batch's callback (`:callback`). */
  | { readonly kind: 'callback' };

function part(child: ChildInstance): string {
  switch (child.kind) {
    case 'chunk':
      return `chunk-${child.chunk}`;
    case 'slot':
      return child.round === 0 ? `slot-${child.slot}` : `slot-${child.slot}-r${child.round}`;
    case 'slot-chunk':
      return `slot-${child.slot}-r${child.round}-chunk-${child.part}`;
    case 'numbers':
      return child.part === 0 ? `numbers-${child.polls}` : `numbers-${child.polls}-${child.part}`;
    case 'callback':
      return 'callback';
  }
}

/** The instance id of `child` under the instance `parentId`. */
export function childInstanceId(parentId: string, child: ChildInstance): string {
  return `${parentId}:${part(child)}`;
}

/** A chunk preflight planned: one sub-orchestration per chunk, numbered from 0. */
export function chunkInstanceId(batchInstanceId: string, chunk: number): string {
  return childInstanceId(batchInstanceId, { kind: 'chunk', chunk });
}

/**
 * One number step of a chunk: `polls` (the chunk's count of Teams checks) makes each one's id unique, across
 * continue-as-new too; `part` numbers the steps of one check when its users are handed over a few at a time.
 */
export function numbersInstanceId(chunkInstanceId: string, polls: number, part = 0): string {
  return childInstanceId(chunkInstanceId, { kind: 'numbers', polls, part });
}

export function callbackInstanceId(batchInstanceId: string): string {
  return childInstanceId(batchInstanceId, { kind: 'callback' });
}

/** A slot's first round waits for the slot's time; later rounds wait for accounts that do not exist yet. */
export function slotInstanceId(batchInstanceId: string, slot: number, round = 0): string {
  return childInstanceId(batchInstanceId, { kind: 'slot', slot, round });
}

/** The `part`th chunk a slot's round hands rows to (a child of the batch, like the chunks preflight planned). */
export function slotChunkInstanceId(batchInstanceId: string, slot: number, round: number, part: number): string {
  return childInstanceId(batchInstanceId, { kind: 'slot-chunk', slot, round, part });
}

const PARTS: readonly [RegExp, (m: RegExpMatchArray) => ChildInstance][] = [
  [/^chunk-(\d+)$/, (m) => packedChunk(Number(m[1]))],
  [/^slot-(\d+)(?:-r(\d+))?$/, (m) => ({ kind: 'slot', slot: Number(m[1]), round: Number(m[2] ?? 0) })],
  [
    /^slot-(\d+)-r(\d+)-chunk-(\d+)$/,
    (m) => ({ kind: 'slot-chunk', slot: Number(m[1]), round: Number(m[2]), part: Number(m[3]) }),
  ],
  [/^numbers-(\d+)(?:-(\d+))?$/, (m) => ({ kind: 'numbers', polls: Number(m[1]), part: Number(m[2] ?? 0) })],
  [/^callback$/, () => ({ kind: 'callback' })],
];

/** `:chunk-<n>`: a planned chunk, or (n at or above SLOT_CHUNK_BASE) a slot's chunk named the way it once was. */
function packedChunk(n: number): ChildInstance {
  if (n < SLOT_CHUNK_BASE) return { kind: 'chunk', chunk: n };
  const inSlots = n - SLOT_CHUNK_BASE;
  return {
    kind: 'slot-chunk',
    slot: Math.floor(inSlots / 10_000_000),
    round: Math.floor((inSlots % 10_000_000) / 100_000),
    part: inSlots % 100_000,
  };
}

/** An instance id read back: the batch's instance id and the children from it down; null for an id not of this app's making. */
export function parseInstanceId(id: string): { batch: string; path: ChildInstance[] } | null {
  const [batch, ...parts] = id.split(':');
  if (!batch) return null;
  const path: ChildInstance[] = [];
  for (const p of parts) {
    const found = PARTS.map(([re, read]) => {
      const m = p.match(re);
      return m ? read(m) : null;
    }).find((c) => c !== null);
    if (!found) return null;
    path.push(found);
  }
  return { batch, path };
}
