#!/usr/bin/env node
// azd postprovision hook: grants the app's managed identity its Microsoft Graph application permissions
// (infra/graph-permissions.json), after the main template has created the identity. This is its own step, not part of
// the Bicep: the Graph Bicep extension comes from a registry these machines cannot reach, and an app role assignment
// to an identity created in the same deployment fails the first time because the new service principal has not
// replicated yet (msgraph-bicep-types issue 193); here the assignment is retried until it has.
// Runs only with DIALTONE_GRANT_GRAPH_PERMISSIONS=true (the signed-in az user must be allowed to grant app roles:
// Privileged Role Administrator or Global Administrator); otherwise it prints what to grant by hand and succeeds.
// Permissions this tool manages that are no longer wanted (User.ReadWrite.All after DIALTONE_SET_USAGE_LOCATION was
// turned off, TeamsTelephoneNumber.ReadWrite.All after DIALTONE_PHONE_NUMBERS=off, both tenant-wide writes after
// DIALTONE_GRAPH_SCOPE=administrative-unit) are removed, each named in the output. Graph calls:
// servicePrincipal-list-approleassignments, -post-approleassignments and -delete-approleassignments
// (learn.microsoft.com/graph/api/serviceprincipal-post-approleassignments).
// With DIALTONE_GRAPH_SCOPE=administrative-unit (docs/least-privilege.md) it grants only the read permissions and
// assigns License Administrator to the identity at the scope of the unit DIALTONE_ADMINISTRATIVE_UNIT_ID, once: see
// assignUnitRole for the calls. It never removes a directory role assignment.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const SPEC = require(path.join(__dirname, '..', 'infra', 'graph-permissions.json'));

/** The two ways the identity may hold its licence and usage-location writes (DIALTONE_GRAPH_SCOPE). */
const SCOPES = ['tenant', 'administrative-unit'];

/**
 * The permission entries that apply when setting usage locations is on or off, and with DIALTONE_PHONE_NUMBERS
 * (`row`, `pool`: the number step runs; `off`: it never does) or a profile of infra/profiles.json that turns the
 * number step on for its rows (`{"skus": […], "phoneNumbers": "row" | "pool"}`). With scope `administrative-unit`
 * an entry's `whenAdministrativeUnit` replaces its `when`: the tenant-wide writes give way to the unit-scoped role.
 */
function wantedPermissions(setUsageLocation, spec = SPEC, phoneNumbers = 'row', profiles = {}, scope = 'tenant') {
  if (!SCOPES.includes(scope))
    throw new Error(`DIALTONE_GRAPH_SCOPE: "${String(scope).slice(0, 40)}" is not one of ${SCOPES.join(', ')}`);
  const numbering = phoneNumbers !== 'off' || profileNumbering(profiles);
  const when = (p) => (scope === 'administrative-unit' && p.whenAdministrativeUnit ? p.whenAdministrativeUnit : p.when);
  return spec.permissions.filter(
    (p) => when(p) === 'always' || when(p) === String(setUsageLocation) || (when(p) === 'numbering' && numbering),
  );
}

/**
 * DIALTONE_GRAPH_SCOPE and DIALTONE_ADMINISTRATIVE_UNIT_ID, checked: { scope, unitId } (unitId only for the unit
 * scope, where it is required and must be an object id).
 */
function graphScope(env = process.env) {
  const scope = (env.DIALTONE_GRAPH_SCOPE ?? '').trim().toLowerCase() || 'tenant';
  if (!SCOPES.includes(scope))
    throw new Error(
      `DIALTONE_GRAPH_SCOPE: "${scope.slice(0, 40)}" is not one of ${SCOPES.join(', ')} (azd env set DIALTONE_GRAPH_SCOPE administrative-unit)`,
    );
  if (scope === 'tenant') return { scope };
  const unitId = (env.DIALTONE_ADMINISTRATIVE_UNIT_ID ?? '').trim();
  if (!unitId)
    throw new Error(
      'DIALTONE_ADMINISTRATIVE_UNIT_ID is not set: with DIALTONE_GRAPH_SCOPE=administrative-unit name the object id of the existing administrative unit of new hires (azd env set DIALTONE_ADMINISTRATIVE_UNIT_ID <id>; docs/least-privilege.md)',
    );
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(unitId))
    throw new Error(
      `DIALTONE_ADMINISTRATIVE_UNIT_ID: "${unitId.slice(0, 40)}" is not an object id (a GUID): give the unit's id, not its name`,
    );
  return { scope, unitId: unitId.toLowerCase() };
}

/** Whether any profile override asks for phone numbers (whatever DIALTONE_PHONE_NUMBERS says). */
function profileNumbering(profiles) {
  if (typeof profiles !== 'object' || profiles === null) return false;
  return Object.values(profiles).some(
    (p) =>
      typeof p === 'object' &&
      p !== null &&
      !Array.isArray(p) &&
      typeof p.phoneNumbers === 'string' &&
      p.phoneNumbers.trim().toLowerCase() !== 'off',
  );
}

/** infra/profiles.json: the profile overrides the Bicep deploys as DIALTONE_PROFILES. */
function deployedProfiles() {
  return JSON.parse(require('node:fs').readFileSync(path.join(__dirname, '..', 'infra', 'profiles.json'), 'utf8'));
}

/**
 * What to grant and revoke, from Graph's application roles and the identity's current assignments to Graph:
 * { grant: [{permission, appRoleId}], revoke: [{permission, assignmentId}], missing: [permission], kept: [permission] }.
 */
function planGrants({
  graphAppRoles,
  assignments,
  setUsageLocation,
  phoneNumbers = 'row',
  profiles = {},
  spec = SPEC,
  scope = 'tenant',
}) {
  const offered = new Map(
    graphAppRoles
      .filter((r) => (r.allowedMemberTypes ?? []).includes('Application') && r.isEnabled !== false)
      .map((r) => [r.value, r.id]),
  );
  const names = new Map([...offered].map(([name, id]) => [id, name]));
  const held = new Map(assignments.map((a) => [names.get(a.appRoleId), a.id]));
  const plan = { grant: [], revoke: [], missing: [], kept: [] };
  const wantedNames = new Set();
  for (const p of wantedPermissions(setUsageLocation, spec, phoneNumbers, profiles, scope)) {
    const name = offered.has(p.permission)
      ? p.permission
      : p.orIfNotOffered && offered.has(p.orIfNotOffered)
        ? p.orIfNotOffered
        : undefined;
    if (!name) {
      plan.missing.push(p.permission);
      continue;
    }
    wantedNames.add(name);
    if (held.has(name)) plan.kept.push(name);
    else plan.grant.push({ permission: name, appRoleId: offered.get(name) });
  }
  const managed = new Set(
    spec.permissions.flatMap((p) => [p.permission, ...(p.orIfNotOffered ? [p.orIfNotOffered] : [])]),
  );
  for (const [name, assignmentId] of held) {
    if (name && managed.has(name) && !wantedNames.has(name)) plan.revoke.push({ permission: name, assignmentId });
  }
  return plan;
}

function az(args) {
  // az is az.cmd on Windows, which only a shell can start; none of these arguments holds a character cmd.exe parses.
  const r = spawnSync('az', args, { encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.error || r.status !== 0)
    throw new Error(`az ${args.slice(0, 2).join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout.trim();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function graphClient() {
  // The Graph endpoint of the cloud az is signed in to (graph.microsoft.com, graph.microsoft.us, …).
  const base = az(['cloud', 'show', '--query', 'endpoints.microsoftGraphResourceId', '--output', 'tsv']).replace(
    /\/+$/,
    '',
  );
  const token = az([
    'account',
    'get-access-token',
    '--resource-type',
    'ms-graph',
    '--query',
    'accessToken',
    '--output',
    'tsv',
  ]);
  return async (method, url, body) => {
    const res = await fetch(`${base}/v1.0${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Retries while the new identity's service principal has not replicated to Graph yet (404, or 400 naming it). */
async function untilReplicated(what, call, attempts = Number(process.env.DIALTONE_GRANT_ATTEMPTS ?? 20)) {
  for (let i = 1; ; i++) {
    const r = await call();
    if (r.status < 300) return r;
    const message = r.body?.error?.message ?? '';
    const notYet = r.status === 404 || (r.status === 400 && /does not exist|not found|principal/i.test(message));
    if (!notYet || i >= attempts)
      throw new Error(`${what}: Graph answered ${r.status} ${r.body?.error?.code ?? ''} ${message}`.trim());
    const pause = Number(process.env.DIALTONE_GRANT_RETRY_SECONDS ?? 15);
    console.log(
      `${what}: the identity is not visible in Microsoft Graph yet (attempt ${i} of ${attempts}); retrying in ${pause} s`,
    );
    await sleep(pause * 1000);
  }
}

/**
 * Assigns the unit-scoped role (graph-permissions.json, administrativeUnitRole) to the identity at the scope of the
 * unit, unless it already holds it there. Graph calls, each as its page gives it:
 * - GET /directory/administrativeUnits/{id} (learn.microsoft.com/graph/api/administrativeunit-get): the unit exists;
 *   404 when it does not.
 * - GET /roleManagement/directory/roleAssignments?$filter=principalId eq '…' and roleDefinitionId eq '…'
 *   (learn.microsoft.com/graph/api/rbacapplication-list-roleassignments; principalId and roleDefinitionId support
 *   $filter eq: learn.microsoft.com/graph/api/resources/unifiedroleassignment): the identity's assignments of the
 *   role, whatever their scope.
 * - POST /roleManagement/directory/roleAssignments { principalId, roleDefinitionId, directoryScopeId:
 *   "/administrativeUnits/{id}" } (learn.microsoft.com/graph/api/rbacapplication-post-roleassignments; a built-in
 *   role's definition id is its template id; the unit scope as in
 *   learn.microsoft.com/entra/identity/role-based-access-control/admin-units-assign-roles).
 * Returns what it did, for the output: { unitName, assigned: boolean, tenantWide: boolean }.
 */
async function assignUnitRole(graph, principalId, unitId, role = SPEC.administrativeUnitRole) {
  const unit = await graph('GET', `/directory/administrativeUnits/${unitId}?$select=id,displayName`);
  if (unit.status === 404)
    throw new Error(
      `DIALTONE_ADMINISTRATIVE_UNIT_ID: this tenant has no administrative unit ${unitId} (Graph answered 404); create the unit of new hires first (docs/least-privilege.md)`,
    );
  if (unit.status !== 200)
    throw new Error(
      `reading administrative unit ${unitId}: Graph answered ${unit.status} ${unit.body?.error?.code ?? ''} ${unit.body?.error?.message ?? ''}`.trim(),
    );
  const scopeId = `/administrativeUnits/${unitId}`;
  const filter = encodeURIComponent(`principalId eq '${principalId}' and roleDefinitionId eq '${role.roleTemplateId}'`);
  const list = await graph('GET', `/roleManagement/directory/roleAssignments?$filter=${filter}`);
  if (list.status !== 200)
    throw new Error(
      `listing the identity's ${role.name} assignments: Graph answered ${list.status} ${list.body?.error?.code ?? ''} ${list.body?.error?.message ?? ''}`.trim(),
    );
  const held = (list.body?.value ?? []).filter(
    (a) => a.principalId === principalId && a.roleDefinitionId === role.roleTemplateId,
  );
  const tenantWide = held.some((a) => a.directoryScopeId === '/');
  if (held.some((a) => String(a.directoryScopeId).toLowerCase() === scopeId.toLowerCase()))
    return { unitName: unit.body?.displayName, assigned: false, tenantWide };
  await untilReplicated(`assigning ${role.name} at ${scopeId}`, () =>
    graph('POST', '/roleManagement/directory/roleAssignments', {
      principalId,
      roleDefinitionId: role.roleTemplateId,
      directoryScopeId: scopeId,
    }),
  );
  return { unitName: unit.body?.displayName, assigned: true, tenantWide };
}

async function main() {
  const setUsageLocation = !/^false$/i.test(process.env.DIALTONE_SET_USAGE_LOCATION ?? 'true');
  const phoneNumbers = (process.env.DIALTONE_PHONE_NUMBERS ?? 'row').trim().toLowerCase() || 'row';
  const { scope, unitId } = graphScope();
  const profiles = deployedProfiles();
  const principalId = process.env.DIALTONE_IDENTITY_PRINCIPAL_ID;
  const role = SPEC.administrativeUnitRole;
  const wanted = wantedPermissions(setUsageLocation, SPEC, phoneNumbers, profiles, scope).map((p) => p.permission);
  const roleLine = unitId
    ? ` and assign it the directory role ${role.name} (role template ${role.roleTemplateId}) at the scope of administrative unit ${unitId} (directoryScopeId /administrativeUnits/${unitId}; docs/least-privilege.md)`
    : '';
  if (!/^true$/i.test(process.env.DIALTONE_GRANT_GRAPH_PERMISSIONS ?? '')) {
    console.log(
      `Microsoft Graph permissions were not granted (DIALTONE_GRANT_GRAPH_PERMISSIONS is not true). Grant these application permissions to the identity ${principalId ?? '(DIALTONE_IDENTITY_PRINCIPAL_ID)'} by hand (docs/deploying.md, "Step by step"): ${wanted.join(', ')}${roleLine}.`,
    );
    return;
  }
  if (!principalId) throw new Error('DIALTONE_IDENTITY_PRINCIPAL_ID is not set: run through azd after provisioning');
  const graph = await graphClient();
  const sp = await graph('GET', `/servicePrincipals(appId='${SPEC.graphAppId}')?$select=id,appRoles`);
  if (sp.status !== 200)
    throw new Error(
      `reading Microsoft Graph's service principal: ${sp.status} ${JSON.stringify(sp.body?.error ?? {})}`,
    );
  const current = await untilReplicated("reading the identity's app roles", () =>
    graph('GET', `/servicePrincipals/${principalId}/appRoleAssignments`),
  );
  const assignments = (current.body.value ?? []).filter((a) => a.resourceId === sp.body.id);
  const plan = planGrants({
    graphAppRoles: sp.body.appRoles ?? [],
    assignments,
    setUsageLocation,
    phoneNumbers,
    profiles,
    scope,
  });
  if (plan.missing.length > 0)
    throw new Error(`Microsoft Graph in this tenant offers no application permission named ${plan.missing.join(', ')}`);
  // The unit-scoped role first: tenant-wide writes it replaces are removed below only once it is in place.
  if (unitId) {
    const r = await assignUnitRole(graph, principalId, unitId, role);
    const unit = `administrative unit ${unitId}${r.unitName ? ` (${r.unitName})` : ''}`;
    console.log(
      r.assigned
        ? `assigned ${role.name} at the scope of ${unit}`
        : `${role.name} at the scope of ${unit}: already assigned, kept`,
    );
    if (r.tenantWide)
      console.log(
        `NOTE: the identity also holds ${role.name} tenant-wide (directoryScopeId /), which reaches every user; this hook does not remove it: remove it by hand for the unit scope to limit anything`,
      );
  } else if (process.env.DIALTONE_ADMINISTRATIVE_UNIT_ID) {
    console.log(
      `NOTE: DIALTONE_GRAPH_SCOPE is tenant, so DIALTONE_ADMINISTRATIVE_UNIT_ID is not used; a ${role.name} assignment at a unit's scope made earlier is left as it is (remove it by hand if it is no longer wanted)`,
    );
  }
  for (const g of plan.grant) {
    await untilReplicated(`granting ${g.permission}`, () =>
      graph('POST', `/servicePrincipals/${principalId}/appRoleAssignments`, {
        principalId,
        resourceId: sp.body.id,
        appRoleId: g.appRoleId,
      }),
    );
    console.log(`granted ${g.permission}`);
  }
  for (const r of plan.revoke) {
    const res = await graph('DELETE', `/servicePrincipals/${principalId}/appRoleAssignments/${r.assignmentId}`);
    if (res.status >= 300 && res.status !== 404)
      throw new Error(`removing ${r.permission}: Graph answered ${res.status}`);
    console.log(
      `removed ${r.permission} (${unitId ? `tenant-wide; not needed with ${role.name} at the unit's scope` : 'no longer needed'})`,
    );
  }
  console.log(
    `Microsoft Graph permissions of ${principalId}: ${[...plan.kept, ...plan.grant.map((g) => g.permission)].join(', ')}${unitId ? `; licence and usage-location writes through ${role.name} at the scope of administrative unit ${unitId} only` : ''}.`,
  );
}

module.exports = { planGrants, wantedPermissions, graphScope };

if (require.main === module) {
  main().catch((e) => {
    console.error(`grant-graph-permissions FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
