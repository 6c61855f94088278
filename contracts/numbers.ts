// What the phone number step's orchestration and activities pass each other: row numbers, object ids, numbers and
// operation ids, never UPNs (a phone number is the admin's data about the tenant, not a name).
import type { ChunkUserResult } from '../shared/domain/batch';
import type { NumberOrder, NumberType, PlannedNumber } from '../shared/domain/phone-numbers';

export interface NumbersInput {
  readonly runKey: string;
  readonly chunk: number;
  /** Rows whose users Teams now shows ready for their number. */
  readonly rows: readonly number[];
  readonly parallelism: number;
}

/** One user's number step, as the start activity takes it. */
export interface NumberWork {
  readonly runKey: string;
  readonly row: number;
  readonly userId: string;
  readonly number: PlannedNumber;
  /**
   * A mover's row (docs/leavers-and-movers.md, "Movers"): a number the user holds from another country is replaced
   * (assigning a new primary number takes the old one's place in Teams), not kept.
   */
  readonly moving?: true;
}

/** An assignNumber order sent and not yet followed to its end. */
export interface SentOrder {
  readonly row: number;
  readonly userId: string;
  readonly telephoneNumber: string;
  readonly numberType: NumberType;
  readonly operationId: string;
  /** A mover's old number, which the new one takes the place of once its order succeeds. */
  readonly replacing?: string;
}

/** What the number step changes in a row's result. */
export type NumberResult = Pick<
  ChunkUserResult,
  'row' | 'outcome' | 'reason' | 'message' | 'phoneNumber' | 'numberedAt' | 'advisories' | 'releasedNumber'
> & {
  readonly outcome: 'provisioned' | 'flagged';
  /** Its order succeeded but Teams does not list the number on the user yet: read it back again later (not a result). */
  readonly readBackPending?: boolean;
};

export type NumberStart =
  { readonly kind: 'done'; readonly result: NumberResult } | { readonly kind: 'ordered'; readonly order: SentOrder };

export interface ConfirmInput {
  readonly runKey: string;
  readonly orders: readonly (SentOrder & { readonly state: Pick<NumberOrder, 'status' | 'detail'> })[];
  /** How long the orders were followed, for the message of one that never finished. */
  readonly followedMinutes: number;
  /** A succeeded order whose number Teams does not list yet comes back readBackPending instead of flagged. */
  readonly retryReadBack?: boolean;
  /** On the last read-back: how long after the orders Teams was read back, for the message. */
  readonly readBackMinutes?: number;
}
