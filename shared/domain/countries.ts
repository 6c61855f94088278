// ISO 3166-1 alpha-2 codes: Graph's usageLocation takes these and nothing else.
const CODES =
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO ' +
  'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR ' +
  'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO ' +
  'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV ' +
  'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW';

const COUNTRIES: ReadonlySet<string> = new Set(CODES.split(' '));

/** The canonical (upper-case) code, or undefined when the value is not an ISO 3166-1 alpha-2 code. */
export function normaliseUsageLocation(value: string): string | undefined {
  const code = value.trim().toUpperCase();
  return COUNTRIES.has(code) ? code : undefined;
}

/**
 * Where Microsoft sells Calling Plans (Microsoft Learn, "Country and region availability for Audio Conferencing and
 * Calling Plans", /microsoftteams/calling-plan-overview, which lists per country whether Calling Plans are available):
 * elsewhere a user's phone line needs Direct Routing or Operator Connect. Used for a mover's new country
 * (docs/leavers-and-movers.md).
 *
 * Checked on 2026-12-07 against what could be read of that page's source (MicrosoftDocs/OfficeDocs-SkypeForBusiness):
 * the landing page (Teams/calling-plan-overview.md, ms.date 11/29/2017, its spreadsheet "v-19OCT2021") lists the
 * countries but not the answer, which is on one page per country; the per-country pages readable here are the old
 * ones (Teams/country-and-region-availability-for-audio-conferencing-and-calling-plans/availability-in-*.md, "Skype for
 * Business" era, no ms.date), and they answer "No" for Croatia and Estonia, which this list has. The current
 * per-country pages (/microsoftteams/phone-reference/plan-availability/availability-in-*) could not be read. The list
 * is kept as it is rather than narrowed to a page older than it: a country wrongly left out would reject a mover whose
 * plan is sold there. Check an entry on the current page before relying on a rejection.
 */
export const CALLING_PLAN_COUNTRIES: ReadonlySet<string> = new Set(
  'AT AU BE CA CH CZ DE DK EE ES FI FR GB HK HR HU IE IT JP LT LU LV NL NO NZ PL PR PT RO SE SG SI SK US'.split(' '),
);
