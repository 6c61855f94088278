// What the simulated Graph lets a token do, endpoint by endpoint: the permissions each endpoint's Microsoft Graph page
// lists (application permissions in the token's `roles`, delegated ones in its `scp`) and, for a delegated call, the
// directory roles the signed-in person must hold. And what a tenant grants by default: exactly the permissions of
// infra/graph-permissions.json for the app settings in force, so that every test run proves that list suffices.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DirectoryRole, TokenClaims } from './authority';

export type PermissionKind =
  | 'subscribedSkus'
  | 'getUser'
  | 'patchUser'
  | 'assignLicense'
  | 'teamsUserConfiguration'
  | 'teamsUserConfigurationList'
  | 'listNumbers'
  | 'assignNumber'
  | 'unassignNumber'
  | 'updateNumber'
  | 'numberOperation';

interface EndpointRule {
  /** The Graph page whose permissions table this follows (microsoft-graph-docs-contrib, api-reference/v1.0). */
  readonly doc: string;
  /** Application permissions, least privileged first, as the page's table lists them. */
  readonly application: readonly string[];
  /** Delegated (work or school account) permissions. */
  readonly delegated: readonly string[];
  /**
   * Directory roles a signed-in person needs for a delegated call. Where the page has a roles note it is cited; the
   * rest is this simulator's reading of Entra's built-in roles reference
   * (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference): who may read or manage
   * licences and users, and the Teams roles for the Teams administration API.
   */
  readonly roles: readonly DirectoryRole[];
}

const DIRECTORY_READERS: readonly DirectoryRole[] = [
  'Global Administrator',
  'Global Reader',
  'Directory Readers',
  'Directory Writers',
  'User Administrator',
  'License Administrator',
];
const LICENCE_WRITERS: readonly DirectoryRole[] = [
  'Global Administrator',
  'License Administrator',
  'User Administrator',
  'Directory Writers',
];
const TEAMS_READERS: readonly DirectoryRole[] = [
  'Global Administrator',
  'Global Reader',
  'Teams Administrator',
  'Teams Communications Administrator',
  'Teams Communications Support Engineer',
];
const TEAMS_WRITERS: readonly DirectoryRole[] = [
  'Global Administrator',
  'Teams Administrator',
  'Teams Communications Administrator',
];

/** Each endpoint dialtone calls, with its page's permissions (includes/permissions/<page>-permissions.md). */
export const ENDPOINT_PERMISSIONS: Readonly<Record<PermissionKind, EndpointRule>> = {
  // subscribedsku-list.md: Organization.Read.All least privileged in the generated include, LicenseAssignment.Read.All
  // on the page; higher Directory.Read.All, Directory.ReadWrite.All, Organization.ReadWrite.All. Roles:
  // includes/rbac-for-apis/rbac-company-subscriptions-subscribedskus-apis.md (Global Reader, Directory Readers), and
  // the licence and user administrators, who manage what it lists.
  subscribedSkus: {
    doc: 'https://learn.microsoft.com/graph/api/subscribedsku-list',
    application: [
      'LicenseAssignment.Read.All',
      'Organization.Read.All',
      'Directory.Read.All',
      'Directory.ReadWrite.All',
      'Organization.ReadWrite.All',
    ],
    delegated: [
      'LicenseAssignment.Read.All',
      'Organization.Read.All',
      'Directory.Read.All',
      'Directory.ReadWrite.All',
      'Organization.ReadWrite.All',
    ],
    roles: DIRECTORY_READERS,
  },
  // user-get.md: User.Read.All least privileged for an app; higher User.ReadWrite.All, Directory.Read.All, Directory.ReadWrite.All.
  getUser: {
    doc: 'https://learn.microsoft.com/graph/api/user-get',
    application: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    delegated: [
      'User.Read.All',
      'User.ReadBasic.All',
      'User.ReadWrite.All',
      'Directory.Read.All',
      'Directory.ReadWrite.All',
    ],
    roles: DIRECTORY_READERS,
  },
  // user-update.md: User.ReadWrite.All, Directory.ReadWrite.All (application and delegated work accounts).
  patchUser: {
    doc: 'https://learn.microsoft.com/graph/api/user-update',
    application: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
    delegated: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
    roles: LICENCE_WRITERS,
  },
  // includes/permissions/user-assignlicense-permissions.md: LicenseAssignment.ReadWrite.All least privileged; higher
  // Directory.ReadWrite.All, User.ReadWrite.All (and the agent-identity permissions, which dialtone never holds).
  assignLicense: {
    doc: 'https://learn.microsoft.com/graph/api/user-assignlicense',
    application: ['LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All', 'User.ReadWrite.All'],
    delegated: ['LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All', 'User.ReadWrite.All'],
    roles: LICENCE_WRITERS,
  },
  // includes/permissions/teamsadministration-teamsuserconfiguration-get-permissions.md: TeamsUserConfiguration.Read.All only.
  teamsUserConfiguration: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-teamsuserconfiguration-get',
    application: ['TeamsUserConfiguration.Read.All'],
    delegated: ['TeamsUserConfiguration.Read.All'],
    roles: TEAMS_READERS,
  },
  // teamsadministration-teamsadminroot-list-userconfigurations.md (its permissions include): the same permission as the
  // single read, TeamsUserConfiguration.Read.All, the only one of its family in the permissions reference.
  teamsUserConfigurationList: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-teamsadminroot-list-userconfigurations',
    application: ['TeamsUserConfiguration.Read.All'],
    delegated: ['TeamsUserConfiguration.Read.All'],
    roles: TEAMS_READERS,
  },
  // includes/permissions/teamsadministration-telephonenumbermanagementroot-list-numberassignments-permissions.md.
  listNumbers: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-telephonenumbermanagementroot-list-numberassignments',
    application: ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'],
    delegated: ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'],
    roles: TEAMS_READERS,
  },
  // teamsadministration-telephonenumberlongrunningoperation-get.md: TeamsTelephoneNumber.Read.All, then .ReadWrite.All.
  numberOperation: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-telephonenumberlongrunningoperation-get',
    application: ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'],
    delegated: ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'],
    roles: TEAMS_READERS,
  },
  // teamsadministration-numberassignment-assignnumber.md: TeamsTelephoneNumber.ReadWrite.All only.
  assignNumber: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber',
    application: ['TeamsTelephoneNumber.ReadWrite.All'],
    delegated: ['TeamsTelephoneNumber.ReadWrite.All'],
    roles: TEAMS_WRITERS,
  },
  // teamsadministration-numberassignment-unassignnumber.md: TeamsTelephoneNumber.ReadWrite.All only.
  unassignNumber: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-unassignnumber',
    application: ['TeamsTelephoneNumber.ReadWrite.All'],
    delegated: ['TeamsTelephoneNumber.ReadWrite.All'],
    roles: TEAMS_WRITERS,
  },
  // includes/permissions/teamsadministration-numberassignment-updatenumber-permissions.md: TeamsTelephoneNumber.ReadWrite.All only.
  updateNumber: {
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-updatenumber',
    application: ['TeamsTelephoneNumber.ReadWrite.All'],
    delegated: ['TeamsTelephoneNumber.ReadWrite.All'],
    roles: TEAMS_WRITERS,
  },
};

/** Why the token may not make this call: `permission` (none of the page's permissions) or `role` (delegated, no role). */
export type Refusal = { readonly why: 'permission' | 'role'; readonly kind: PermissionKind };

/** Whether a valid token may call this endpoint, as Graph decides it: its permissions, then a person's roles. */
export function refusal(
  kind: PermissionKind,
  claims: TokenClaims,
  rolesOf: (c: TokenClaims) => readonly DirectoryRole[],
): Refusal | undefined {
  const rule = ENDPOINT_PERMISSIONS[kind];
  if (claims.idtyp === 'app')
    return (claims.roles ?? []).some((r) => rule.application.includes(r)) ? undefined : { why: 'permission', kind };
  const scopes = (claims.scp ?? '').split(' ');
  if (!scopes.some((s) => rule.delegated.includes(s))) return { why: 'permission', kind };
  // A delegated call acts as the person: Graph allows it only when the person's directory role allows it too.
  return rolesOf(claims).some((r) => rule.roles.includes(r)) ? undefined : { why: 'role', kind };
}

/** The repository's root (where infra/ and scripts/ are), from the sources or from the build in dist-dev/. */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'infra', 'graph-permissions.json'))) return dir;
  throw new Error('infra/graph-permissions.json not found above the simulator');
}

/**
 * The application permissions infra/graph-permissions.json grants for these app settings: the same choice the azd
 * hook makes (scripts/grant-graph-permissions.js, wantedPermissions), so the tenant grants what a deployment would.
 * DIALTONE_GRAPH_SCOPE (the hook's setting, not the app's) picks the administrative-unit grant: the reads only, the
 * writes coming from the role the tenant file's administrativeUnit stands for.
 */
export function defaultGrant(settings: Readonly<Record<string, string | undefined>> = {}): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const grant = require(join(repoRoot(), 'scripts', 'grant-graph-permissions.js')) as {
    wantedPermissions(
      setUsageLocation: boolean,
      spec?: unknown,
      phoneNumbers?: string,
      profiles?: unknown,
      scope?: string,
    ): { permission: string }[];
  };
  const setUsageLocation = (settings['DIALTONE_SET_USAGE_LOCATION'] ?? 'true').trim().toLowerCase() !== 'false';
  let profiles: unknown = {};
  try {
    profiles = settings['DIALTONE_PROFILES'] ? JSON.parse(settings['DIALTONE_PROFILES']) : {};
  } catch {
    /* the app refuses invalid profiles itself */
  }
  const scope = (settings['DIALTONE_GRAPH_SCOPE'] ?? '').trim().toLowerCase() || 'tenant';
  return grant
    .wantedPermissions(
      setUsageLocation,
      undefined,
      (settings['DIALTONE_PHONE_NUMBERS'] ?? 'row').trim().toLowerCase(),
      profiles,
      scope,
    )
    .map((p) => p.permission);
}
