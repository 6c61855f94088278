#!/usr/bin/env node
// azd postprovision hook: grants the app's managed identity its Microsoft Graph application permissions
// (infra/graph-permissions.json), after the main template has created the identity. This is its own step, not part of
// the Bicep: the Graph Bicep extension comes from a registry these machines cannot reach, and an app role assignment
// to an identity created in the same deployment fails the first time because the new service principal has not
// replicated yet (msgraph-bicep-types issue 193); here the assignment is retried until it has.
// Runs only with DIALTONE_GRANT_GRAPH_PERMISSIONS=true (the signed-in az user must be allowed to grant app roles:
// Privileged Role Administrator or Global Administrator); otherwise it prints what to grant by hand and succeeds.
// Permissions this tool manages that are no longer wanted (User.ReadWrite.All after DIALTONE_SET_USAGE_LOCATION was
// turned off, TeamsTelephoneNumber.ReadWrite.All after DIALTONE_PHONE_NUMBERS=off) are removed. Graph calls: servicePrincipal-list-approleassignments, -post-approleassignments and
// -delete-approleassignments (learn.microsoft.com/graph/api/serviceprincipal-post-approleassignments).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const SPEC = require(path.join(__dirname, '..', 'infra', 'graph-permissions.json'));

/**
 * The permission entries that apply when setting usage locations is on or off, and with DIALTONE_PHONE_NUMBERS
 * (`row`, `pool`: the number step runs; `off`: it never does) or a profile of infra/profiles.json that turns the
 * number step on for its rows (`{"skus": […], "phoneNumbers": "row" | "pool"}`).
 */
function wantedPermissions(setUsageLocation, spec = SPEC, phoneNumbers = 'row', profiles = {}) {
  const numbering = phoneNumbers !== 'off' || profileNumbering(profiles);
  return spec.permissions.filter((p) => p.when === 'always' || p.when === String(setUsageLocation) || (p.when === 'numbering' && numbering));
}

/** Whether any profile override asks for phone numbers (whatever DIALTONE_PHONE_NUMBERS says). */
function profileNumbering(profiles) {
  if (typeof profiles !== 'object' || profiles === null) return false;
  return Object.values(profiles).some((p) => typeof p === 'object' && p !== null && !Array.isArray(p) && typeof p.phoneNumbers === 'string' && p.phoneNumbers.trim().toLowerCase() !== 'off');
}

/** infra/profiles.json: the profile overrides the Bicep deploys as DIALTONE_PROFILES. */
function deployedProfiles() {
  return JSON.parse(require('node:fs').readFileSync(path.join(__dirname, '..', 'infra', 'profiles.json'), 'utf8'));
}

/**
 * What to grant and revoke, from Graph's application roles and the identity's current assignments to Graph:
 * { grant: [{permission, appRoleId}], revoke: [{permission, assignmentId}], missing: [permission], kept: [permission] }.
 */
function planGrants({ graphAppRoles, assignments, setUsageLocation, phoneNumbers = 'row', profiles = {}, spec = SPEC }) {
  const offered = new Map(graphAppRoles.filter((r) => (r.allowedMemberTypes ?? []).includes('Application') && r.isEnabled !== false).map((r) => [r.value, r.id]));
  const names = new Map([...offered].map(([name, id]) => [id, name]));
  const held = new Map(assignments.map((a) => [names.get(a.appRoleId), a.id]));
  const plan = { grant: [], revoke: [], missing: [], kept: [] };
  const wantedNames = new Set();
  for (const p of wantedPermissions(setUsageLocation, spec, phoneNumbers, profiles)) {
    const name = offered.has(p.permission) ? p.permission : p.orIfNotOffered && offered.has(p.orIfNotOffered) ? p.orIfNotOffered : undefined;
    if (!name) {
      plan.missing.push(p.permission);
      continue;
    }
    wantedNames.add(name);
    if (held.has(name)) plan.kept.push(name);
    else plan.grant.push({ permission: name, appRoleId: offered.get(name) });
  }
  const managed = new Set(spec.permissions.flatMap((p) => [p.permission, ...(p.orIfNotOffered ? [p.orIfNotOffered] : [])]));
  for (const [name, assignmentId] of held) {
    if (name && managed.has(name) && !wantedNames.has(name)) plan.revoke.push({ permission: name, assignmentId });
  }
  return plan;
}

function az(args) {
  // az is az.cmd on Windows, which only a shell can start; none of these arguments holds a character cmd.exe parses.
  const r = spawnSync('az', args, { encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.error || r.status !== 0) throw new Error(`az ${args.slice(0, 2).join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout.trim();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function graphClient() {
  // The Graph endpoint of the cloud az is signed in to (graph.microsoft.com, graph.microsoft.us, …).
  const base = az(['cloud', 'show', '--query', 'endpoints.microsoftGraphResourceId', '--output', 'tsv']).replace(/\/+$/, '');
  const token = az(['account', 'get-access-token', '--resource-type', 'ms-graph', '--query', 'accessToken', '--output', 'tsv']);
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
    if (!notYet || i >= attempts) throw new Error(`${what}: Graph answered ${r.status} ${r.body?.error?.code ?? ''} ${message}`.trim());
    const pause = Number(process.env.DIALTONE_GRANT_RETRY_SECONDS ?? 15);
    console.log(`${what}: the identity is not visible in Microsoft Graph yet (attempt ${i} of ${attempts}); retrying in ${pause} s`);
    await sleep(pause * 1000);
  }
}

async function main() {
  const setUsageLocation = !/^false$/i.test(process.env.DIALTONE_SET_USAGE_LOCATION ?? 'true');
  const phoneNumbers = (process.env.DIALTONE_PHONE_NUMBERS ?? 'row').trim().toLowerCase() || 'row';
  const profiles = deployedProfiles();
  const principalId = process.env.DIALTONE_IDENTITY_PRINCIPAL_ID;
  const wanted = wantedPermissions(setUsageLocation, SPEC, phoneNumbers, profiles).map((p) => p.permission);
  if (!/^true$/i.test(process.env.DIALTONE_GRANT_GRAPH_PERMISSIONS ?? '')) {
    console.log(
      `Microsoft Graph permissions were not granted (DIALTONE_GRANT_GRAPH_PERMISSIONS is not true). Grant these application permissions to the identity ${principalId ?? '(DIALTONE_IDENTITY_PRINCIPAL_ID)'} by hand (README, "Deploying to Azure"): ${wanted.join(', ')}.`,
    );
    return;
  }
  if (!principalId) throw new Error('DIALTONE_IDENTITY_PRINCIPAL_ID is not set: run through azd after provisioning');
  const graph = await graphClient();
  const sp = await graph('GET', `/servicePrincipals(appId='${SPEC.graphAppId}')?$select=id,appRoles`);
  if (sp.status !== 200) throw new Error(`reading Microsoft Graph's service principal: ${sp.status} ${JSON.stringify(sp.body?.error ?? {})}`);
  const current = await untilReplicated('reading the identity\'s app roles', () => graph('GET', `/servicePrincipals/${principalId}/appRoleAssignments`));
  const assignments = (current.body.value ?? []).filter((a) => a.resourceId === sp.body.id);
  const plan = planGrants({ graphAppRoles: sp.body.appRoles ?? [], assignments, setUsageLocation, phoneNumbers, profiles });
  if (plan.missing.length > 0) throw new Error(`Microsoft Graph in this tenant offers no application permission named ${plan.missing.join(', ')}`);
  for (const g of plan.grant) {
    await untilReplicated(`granting ${g.permission}`, () => graph('POST', `/servicePrincipals/${principalId}/appRoleAssignments`, { principalId, resourceId: sp.body.id, appRoleId: g.appRoleId }));
    console.log(`granted ${g.permission}`);
  }
  for (const r of plan.revoke) {
    const res = await graph('DELETE', `/servicePrincipals/${principalId}/appRoleAssignments/${r.assignmentId}`);
    if (res.status >= 300 && res.status !== 404) throw new Error(`removing ${r.permission}: Graph answered ${res.status}`);
    console.log(`removed ${r.permission} (no longer needed)`);
  }
  console.log(`Microsoft Graph permissions of ${principalId}: ${[...plan.kept, ...plan.grant.map((g) => g.permission)].join(', ')}.`);
}

module.exports = { planGrants, wantedPermissions };

if (require.main === module) {
  main().catch((e) => {
    console.error(`grant-graph-permissions FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
