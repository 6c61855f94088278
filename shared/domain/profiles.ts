// Licence profiles: named lists of part numbers a row can ask for. Built in (docs/licence-profiles.md; for
// today's suites, per Microsoft's licensing table: see catalog.ts), overridable by configuration. Validation returns
// every problem at once so a bad setting is fixed in one go.
// Profiles are a Map: the names come from callers (rows, requests, folders), and a plain object would answer
// `constructor`, `toString` or `__proto__` with Object.prototype's members.
import { canonicalPartNumber } from './catalog';
import { parsePhoneNumberPolicy, type PhoneNumberPolicy } from './phone-numbers';
import { shown } from './text';

export type Profiles = ReadonlyMap<string, readonly string[]>;

export const BUILT_IN_PROFILES: Profiles = new Map([
  ['phone-domestic', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']],
  ['phone-international', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN2']],
  ['phone-system-only', ['ENTERPRISEPACK', 'MCOEV']],
  ['audio-conferencing', ['ENTERPRISEPACK', 'MCOMEETADV']],
  ['e5-phone-domestic', ['ENTERPRISEPREMIUM', 'MCOPSTN1']],
  // Microsoft 365 E3/E5: E5 carries Phone System, so only the Calling Plan is added.
  ['m365-e3-phone-domestic', ['SPE_E3', 'MCOEV', 'MCOPSTN1']],
  ['m365-e5-phone-domestic', ['SPE_E5', 'MCOPSTN1']],
  // "No Teams" suites: Phone System works only with a Teams licence beside the suite.
  ['m365-e3-no-teams-phone-domestic', ['Microsoft_365_E3_(no_Teams)', 'Microsoft_Teams_EEA_New', 'MCOEV', 'MCOPSTN1']],
  ['m365-e5-no-teams-phone-domestic', ['Microsoft_365_E5_(no_Teams)', 'Microsoft_Teams_EEA_New', 'MCOPSTN1']],
  ['o365-e3-no-teams-phone-domestic', ['Office_365_E3_(no_Teams)', 'Microsoft_Teams_EEA_New', 'MCOEV', 'MCOPSTN1']],
  // Teams Phone with Calling Plan (Phone System and a domestic Calling Plan in one SKU) on a suite with Teams.
  ['teams-phone-with-calling-plan', ['ENTERPRISEPACK', 'MCOTEAMS_ESSENTIALS']],
]);

/** What a profile may be called, wherever the name comes from (API, blob folder, row, configuration). */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
// Upper-cased. The table's part numbers include parentheses, slashes, dots, commas and hyphens
// (Microsoft_365_E5_(no_Teams), Office_365_w/o_Teams_Bundle_E5, Windows_365_Business_16_vCPU,_64_GB,_512_GB).
// Spaces stay out: the one row that shows them ("Microsoft_365_ Business_ Premium_(no Teams)") reads as a typo.
export const PART_NUMBER = /^[A-Z0-9][A-Z0-9_()\/.,-]{1,99}$/;

export function isProfileName(name: string): boolean {
  return PROFILE_NAME.test(name);
}

/** The phone number policy a profile sets for its rows, by profile name; profiles that set none are absent. */
export type ProfilePhoneNumbers = ReadonlyMap<string, PhoneNumberPolicy>;

/**
 * Merges overrides (already JSON-parsed) over the built-in profiles. A profile is a list of part numbers, or
 * `{ "skus": [...], "phoneNumbers": "row" | "pool" | "off" }` to set the phone number policy for its rows. An
 * override with an empty list removes a profile. Returns the problems found instead of throwing.
 */
export function mergeProfiles(overrides: unknown): {
  profiles: Profiles;
  phoneNumbers: ProfilePhoneNumbers;
  problems: string[];
} {
  const problems: string[] = [];
  const merged = new Map<string, readonly string[]>(BUILT_IN_PROFILES);
  const phoneNumbers = new Map<string, PhoneNumberPolicy>();
  if (overrides === undefined || overrides === null) return { profiles: merged, phoneNumbers, problems };
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    return {
      profiles: merged,
      phoneNumbers,
      problems: ['must be a JSON object mapping profile names to arrays of part numbers'],
    };
  }
  for (const [name, entry] of Object.entries(overrides as Record<string, unknown>)) {
    const key = name.trim().toLowerCase();
    if (!PROFILE_NAME.test(key)) {
      problems.push(
        `profile name "${shown(name, 80)}" must be lower-case letters, digits, '.', '_' or '-' (at most 64)`,
      );
      continue;
    }
    let value: unknown = entry;
    let policy: PhoneNumberPolicy | undefined;
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const o = entry as Record<string, unknown>;
      const unknownKeys = Object.keys(o).filter((k) => k !== 'skus' && k !== 'phoneNumbers');
      if (unknownKeys.length > 0) {
        problems.push(
          `profile "${key}" has unknown keys ${unknownKeys
            .slice(0, 5)
            .map((k) => `"${shown(k, 40)}"`)
            .join(', ')}; expected "skus" and optionally "phoneNumbers"`,
        );
        continue;
      }
      value = o['skus'];
      const raw = o['phoneNumbers'];
      if (raw !== undefined) {
        policy = typeof raw === 'string' ? parsePhoneNumberPolicy(raw) : undefined;
        if (!policy) {
          problems.push(`profile "${key}": "phoneNumbers" must be "row", "pool" or "off"`);
          continue;
        }
      }
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      problems.push(
        value === entry
          ? `profile "${key}" must be an array of part numbers`
          : `profile "${key}": "skus" must be an array of part numbers`,
      );
      continue;
    }
    const parts = (value as string[]).map(canonicalPartNumber);
    const bad = parts.filter((p) => !PART_NUMBER.test(p));
    if (bad.length > 0) {
      problems.push(
        `profile "${key}" has invalid part numbers: ${bad
          .slice(0, 10)
          .map((b) => shown(b, 80))
          .join(', ')}`,
      );
      continue;
    }
    phoneNumbers.delete(key);
    if (parts.length === 0) merged.delete(key);
    else {
      merged.set(key, [...new Set(parts)]);
      if (policy) phoneNumbers.set(key, policy);
    }
  }
  return { profiles: merged, phoneNumbers, problems };
}

export function normaliseProfileName(name: string): string {
  return name.trim().toLowerCase();
}
