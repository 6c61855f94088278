// When a new hire's licences go on: HR sends start dates days or weeks ahead, and licences cost money from the day
// they are assigned, so a row with a start date is licensed DIALTONE_LEAD_DAYS before it, at the start of that day
// in the organisation's time zone. Pure: time zones come from the platform's Intl (IANA database), "now" is passed in.

export interface ScheduleSettings {
  /** IANA time zone in which a plain date (2026-12-07) is read. */
  readonly timeZone: string;
  /** Days before the start date on which licences are assigned. */
  readonly leadDays: number;
  /** Start dates further ahead than this many days are refused. */
  readonly horizonDays: number;
}

export const DEFAULT_SCHEDULE: ScheduleSettings = { timeZone: 'UTC', leadDays: 1, horizonDays: 120 };

export type StartDateReading =
  | {
      readonly ok: true;
      /** The instant the start day begins. */
      readonly startsAt: Date;
      /** When the licences are due: the start of the day `leadDays` before the start date. */
      readonly dueAt: Date;
    }
  | { readonly ok: false; readonly message: string };

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const DAY_MS = 86_400_000;

/** Whether the platform knows the IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall-clock fields in `zone` at instant `t`, as if they were UTC (ms). */
function wallClock(zone: string, t: number): number {
  const p: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(t)))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p['year']!, p['month']! - 1, p['day'], p['hour'], p['minute'], p['second']);
}

/**
 * The first instant of a calendar day in `zone`. Usually local midnight; on a day whose midnight a DST change skips
 * (e.g. America/Santiago in September, where 00:00 becomes 01:00) it is the first local time that exists.
 */
export function startOfDayIn(zone: string, year: number, month: number, day: number): Date {
  const midnight = Date.UTC(year, month - 1, day);
  // The zone's offset a little before and a little after the day begins: one of them is in force at its start.
  const offsets = new Set(
    [
      wallClock(zone, midnight - DAY_MS / 2) - (midnight - DAY_MS / 2),
      wallClock(zone, midnight + DAY_MS / 2) - (midnight + DAY_MS / 2),
    ].map((o) => Math.round(o / 1000) * 1000),
  );
  let best: number | undefined;
  for (const offset of offsets) {
    const t = midnight - offset;
    const local = wallClock(zone, t);
    if (local >= midnight && local < midnight + DAY_MS && (best === undefined || t < best)) best = t;
  }
  // No candidate falls on the day only if the zone moved by a whole day (Pacific/Apia, 2011-12-30 did not exist).
  return new Date(best ?? midnight - [...offsets][0]!);
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function offsetMinutes(text: string): number | undefined {
  if (/^z$/i.test(text)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text)!;
  const h = Number(m[2]);
  const min = Number(m[3]);
  if (h > 18 || min > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + min);
}

const EXPECTED = 'expected a date (2026-12-07) or a date-time with an offset (2026-12-07T09:00:00+01:00)';

function clip(s: string, n = 40): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * Reads a start date and works out when its licences are due.
 * - `2026-12-07`: a calendar day in `settings.timeZone`.
 * - `2026-12-07T09:00:00+01:00` (or `Z`): the calendar day as written, in the offset given; the time of day only
 *   identifies the day (the licences go on at the start of a day, not at the hour).
 * A date-time without an offset is refused: it names no instant anywhere.
 */
export function readStartDate(
  raw: string,
  now: Date,
  settings: ScheduleSettings,
  noun: 'start date' | 'end date' = 'start date',
): StartDateReading {
  const text = raw.trim();
  const fail = (why: string): StartDateReading => ({ ok: false, message: `"${clip(text)}" ${why}` });
  let year: number, month: number, day: number;
  let dayStart: (y: number, m: number, d: number) => Date;
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) {
    [year, month, day] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    dayStart = (y, m, d) => startOfDayIn(settings.timeZone, y, m, d);
  } else {
    const dt = DATE_TIME.exec(text);
    if (!dt) return fail(`is not ${noun === 'start date' ? 'a' : 'an'} ${noun}: ${EXPECTED}`);
    if (!dt[7])
      return fail('has a time but no offset, so it names no instant: add one (Z, +01:00) or send the date alone');
    [year, month, day] = [Number(dt[1]), Number(dt[2]), Number(dt[3])];
    if (Number(dt[4]) > 23 || Number(dt[5]) > 59 || Number(dt[6] ?? 0) > 59)
      return fail(`has no such time of day: ${EXPECTED}`);
    const offset = offsetMinutes(dt[7]);
    if (offset === undefined) return fail('has an offset beyond ±18:00');
    dayStart = (y, m, d) => new Date(Date.UTC(y, m - 1, d) - offset * 60_000);
  }
  if (!validDate(year, month, day)) return fail(`is not a day of the calendar: ${EXPECTED}`);
  if (year < 2000) return fail(`is before the year 2000: check the column holds the ${noun}`);
  const startsAt = dayStart(year, month, day);
  const horizon = now.getTime() + settings.horizonDays * DAY_MS;
  if (startsAt.getTime() > horizon) {
    return fail(
      `is more than ${settings.horizonDays} days ahead (DIALTONE_SCHEDULE_HORIZON_DAYS); send the row nearer the ${noun}`,
    );
  }
  const lead = new Date(Date.UTC(year, month - 1, day - settings.leadDays));
  const dueAt = dayStart(lead.getUTCFullYear(), lead.getUTCMonth() + 1, lead.getUTCDate());
  return { ok: true, startsAt, dueAt };
}

/**
 * Reads a leaver's end date (docs/leavers-and-movers.md): the same forms and horizon as a start date, and the phone
 * licences and number are given back at the start of that day, with no lead days (the line works until the day).
 */
export function readEndDate(raw: string, now: Date, settings: ScheduleSettings): StartDateReading {
  return readStartDate(raw, now, { ...settings, leadDays: 0 }, 'end date');
}

/** When a row's licences go on: its due time, or `now` when that has passed (the row goes at once). */
export function effectiveDueAt(reading: { dueAt: Date }, now: Date): Date {
  return reading.dueAt.getTime() > now.getTime() ? reading.dueAt : now;
}

/**
 * The order in which scheduled rows take seats when their time comes: by due time, then by input order.
 */
export function byDueThenRow<T extends { readonly row: number; readonly scheduledFor: string | null }>(
  a: T,
  b: T,
): number {
  const ta = a.scheduledFor ? Date.parse(a.scheduledFor) : 0;
  const tb = b.scheduledFor ? Date.parse(b.scheduledFor) : 0;
  return ta - tb || a.row - b.row;
}
