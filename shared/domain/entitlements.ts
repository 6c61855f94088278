// Who may assign what. Licences cost money, and a function key or an upload folder is not a licence administrator:
// each integration (and the uploads) may use the profiles the operator allows it, and a row may list its own `skus`
// only where the operator allows that, and then only SKUs that give Teams phone or meeting capabilities (Phone
// System, a Calling Plan, Audio Conferencing, Communications Credits: every capability plan of the SKU in the catalog
// is one of those), unless the operator's own list widens it. Anything else is rejected `sku_not_allowed` before
// anything is read from or written to Graph. Applied to the validated rows, before planning (docs/http-api.md,
// "Onboarding and revoking an HR system").
import { CATALOG, SERVICE_PLANS, canonicalPartNumber, type Capability } from './catalog';
import type { InputRow } from './input';
import type { RejectedRow, ValidatedRow } from './planning';
import { errorText, shown } from './text';

/** What an integration's (or the uploads') rows may ask for. */
export interface RowRights {
  /** Profiles its rows may use; undefined: every profile. */
  readonly profiles?: readonly string[];
  /** Whether a row may list its own `skus`. */
  readonly ownSkus: boolean;
}

/** Capabilities a SKU bought for a row's own `skus` may give without the operator's list. */
const PHONE_OR_MEETING: ReadonlySet<Capability> = new Set<Capability>([
  'phoneSystem',
  'callingPlan',
  'audioConferencing',
  'audioConferencingPayPerMinute',
  'communicationsCredits',
]);
const CAPABILITY_OF = new Map(
  SERVICE_PLANS.flatMap((p) => (p.name ? [[p.name.toUpperCase(), p.capability] as const] : [])),
);

/** Part numbers (upper case) whose every capability plan is a Teams phone or meeting one: MCOEV, MCOPSTN1, MCOMEETADV … */
export const TEAMS_PHONE_OR_MEETING_SKUS: ReadonlySet<string> = new Set(
  CATALOG.filter(
    (s) =>
      s.servicePlans.length > 0 &&
      s.servicePlans.every((p) => PHONE_OR_MEETING.has(CAPABILITY_OF.get(p.toUpperCase()) as Capability)),
  ).map((s) => s.partNumber.toUpperCase()),
);

/** Whether a row's own `skus` may name `partNumber` (the catalog's phone and meeting SKUs, or the operator's extras). */
export function rowMayName(partNumber: string, extra: readonly string[] = []): boolean {
  const p = canonicalPartNumber(partNumber).toUpperCase();
  return TEAMS_PHONE_OR_MEETING_SKUS.has(p) || extra.some((e) => e.toUpperCase() === p);
}

/**
 * The validated rows with every request its integration may not make rejected `sku_not_allowed`: a profile outside
 * its list, own `skus` where it may not list any, or own `skus` naming a SKU outside the phone and meeting SKUs and
 * the operator's extras. `input` gives the rows as read, to tell a row's own `skus` from its profile's; `who` names
 * the integration in messages.
 */
export function enforceRights(
  validated: readonly ValidatedRow[],
  input: readonly Pick<InputRow, 'row' | 'skus'>[],
  rights: RowRights,
  who: string,
  extra: readonly string[] = [],
): ValidatedRow[] {
  const ownSkus = new Set(input.filter((r) => r.skus !== undefined && r.skus.length > 0).map((r) => r.row));
  return validated.map((v): ValidatedRow => {
    if (v.kind !== 'request') return v;
    const r = v.request;
    const where = r.line !== undefined ? `row ${r.row} (line ${r.line})` : `row ${r.row}`;
    const reject = (message: string): RejectedRow => ({
      kind: 'rejected',
      row: r.row,
      ...(r.line !== undefined ? { line: r.line } : {}),
      ...(r.displayName !== undefined ? { displayName: r.displayName } : {}),
      userPrincipalName: r.userPrincipalName,
      profile: r.profile,
      skus: r.partNumbers,
      reason: 'sku_not_allowed',
      message: errorText(message),
    });
    if (ownSkus.has(r.row)) {
      if (!rights.ownSkus)
        return reject(
          `${where}: ${who} may not list its own skus; name a profile${allowedProfiles(rights)} or ask the operator to allow its own skus`,
        );
      const refused = r.partNumbers.filter((p) => !rowMayName(p, extra));
      if (refused.length > 0) {
        return reject(
          `${where}: ${refused
            .slice(0, 3)
            .map((p) => shown(p, 60))
            .join(
              ', ',
            )} ${refused.length === 1 ? 'is' : 'are'} not a Teams phone or meeting SKU, which is all a row's own skus may name; use a profile, or ask the operator to add ${refused.length === 1 ? 'it' : 'them'} to DIALTONE_EXTRA_ROW_SKUS`,
        );
      }
      return v;
    }
    if (rights.profiles && !rights.profiles.includes(r.profile))
      return reject(`${where}: ${who} may not use profile "${shown(r.profile, 64)}"${allowedProfiles(rights)}`);
    return v;
  });
}

function allowedProfiles(rights: RowRights): string {
  return rights.profiles ? ` (allowed: ${rights.profiles.join(', ')})` : '';
}
