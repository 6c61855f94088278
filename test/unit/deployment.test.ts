// The deployment, checked against what the app needs. infra/ is compiled with the Bicep CLI from NuGet
// (scripts/infra-check.js) and these tests read the ARM JSON that Azure would receive: every app setting the app
// validates, the containers and queues it uses, each role assignment with its scope, the separate package account.
// Without dotnet the compiled checks are skipped with a message; under CI they fail instead. The azd hooks and the
// packaging are checked by running them (grant planning, the post-deploy hook against a recording `az`, the package
// list).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { AZURE_REQUIRED_SETTINGS, LOCAL_ONLY_SETTINGS, SETTING_NAMES, loadConfig } from '../../shared/adapters/config';
import { GRAPH_PERMISSIONS } from '../../shared/domain/directory';
import { MAX_INPUT_BYTES } from '../../shared/domain/input';

interface Problem {
  file: string;
  line: number;
  level: string;
  code: string;
  message: string;
}
interface InfraCheck {
  dotnetVersion(): string | undefined;
  checkInfra(): { checked: string[]; problems: Problem[]; armDir: string };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const infraCheck = require('../../scripts/infra-check.js') as InfraCheck;

type Json = any;
const root = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const ci = /^(1|true)$/i.test(process.env['CI'] ?? '');
const dotnet = infraCheck.dotnetVersion();
if (!dotnet && ci) throw new Error('CI must compile infra/: dotnet is not on the PATH (install the .NET SDK)');
if (!dotnet)
  console.warn(
    'deployment.test.ts: the compiled-template tests are SKIPPED because dotnet is not on the PATH (the Bicep CLI comes from NuGet); CI runs them.',
  );
const describeCompiled = dotnet ? describe : describe.skip;

/** Built-in role ids ("Azure built-in roles", learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const ROLES: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1': 'Storage Blob Data Reader',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39': 'Azure Service Bus Data Sender',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};

const resourcesOf = (template: Json): Json[] =>
  Array.isArray(template.resources) ? template.resources : Object.values(template.resources ?? {});
/** The template of each module deployed by main.bicep, by deployment name. */
function modules(main: Json): Map<string, Json> {
  return new Map(
    resourcesOf(main)
      .filter((r) => r.type === 'Microsoft.Resources/deployments')
      .map((r) => [String(r.name), r.properties.template]),
  );
}
/** Resolves `[variables('a').b]` and `[variables('a')[copyIndex()]]` role expressions to role names. */
function roleNames(template: Json, assignment: Json): string[] {
  const expr = String(assignment.properties.roleDefinitionId);
  const one = (ref: string): string => {
    const m = /variables\('roleIds'\)\.(\w+)/.exec(ref);
    const id = m ? template.variables.roleIds[m[1]!] : undefined;
    return ROLES[id] ?? `unknown role ${ref}`;
  };
  const loop = /variables\('(\w+)'\)\[copyIndex\(\)\]/.exec(expr);
  return loop ? (template.variables[loop[1]!] as string[]).map(one) : [one(expr)];
}
/** "principal → role @ scope" for every role assignment, scope written as account parameter[/container parameter]. */
function roleAssignments(template: Json): string[] {
  const out: string[] = [];
  for (const r of resourcesOf(template).filter((x) => x.type === 'Microsoft.Authorization/roleAssignments')) {
    const principal = /parameters\('(\w+)'\)/.exec(String(r.properties.principalId))?.[1];
    const params = [...String(r.scope).matchAll(/parameters\('(\w+)'\)/g)].map((m) => m[1]);
    const kind = /resourceId\('([^']+)'/.exec(String(r.scope))?.[1]?.split('/').pop();
    for (const role of roleNames(template, r)) out.push(`${principal} → ${role} @ ${kind}:${params.join('/')}`);
  }
  return out.sort();
}

describeCompiled('infra/ compiled with the Bicep CLI (ARM JSON as Azure receives it)', () => {
  let arm: { main: Json; modules: Map<string, Json> };
  let check: ReturnType<InfraCheck['checkInfra']>;
  beforeAll(() => {
    check = infraCheck.checkInfra();
    const main = JSON.parse(readFileSync(join(check.armDir, 'main.json'), 'utf8'));
    arm = { main, modules: modules(main) };
  });
  const settingsOf = () => {
    const api = arm.modules.get('api');
    const site = resourcesOf(api).find(
      (r) => r.type === 'Microsoft.Web/sites/config' && String(r.name).includes('appsettings'),
    );
    // A file's text that Bicep loaded at build time (loadTextContent) stands in the template as a variable.
    const loaded = (v: string) => /^\[variables\('(\$fxv#\d+)'\)\]$/.exec(v)?.[1];
    return Object.fromEntries(
      Object.entries(site.properties as Record<string, string>).map(([k, v]) => [
        k,
        loaded(v) ? (api.variables[loaded(v)!] as string) : v,
      ]),
    );
  };

  it('compiles and lints every .bicep file with no error and no warning', () => {
    const onDisk = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? onDisk(`${dir}/${e.name}`) : e.name.endsWith('.bicep') ? [`${dir}/${e.name}`] : [],
      );
    expect(check.checked.map((f) => f.split('\\').join('/')).sort()).toEqual(onDisk('infra').sort());
    expect(check.problems).toEqual([]);
  });

  it('needs no Bicep extension and no registry module (these machines and many pipelines cannot reach them)', () => {
    const config = JSON.parse(read('infra/bicepconfig.json'));
    expect([config.extensions, config.experimentalFeaturesEnabled]).toEqual([undefined, undefined]);
    for (const f of check.checked) expect([f, /^\s*(extension|import)\s|'br[:/]/m.test(read(f))]).toEqual([f, false]);
  });

  it('sets every configuration key the app requires in Azure, no key it does not read, and no local-only key', () => {
    const settings = settingsOf();
    for (const key of AZURE_REQUIRED_SETTINGS) expect([key, key in settings]).toEqual([key, true]);
    const platform = new Set([
      'AZURE_AUTHORITY_HOST',
      'AzureWebJobsStorage__credential',
      'AzureWebJobsStorage__tableServiceUri',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'ServiceBusConnection__credential',
      'ServiceBusConnection__clientId',
      'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT',
    ]);
    for (const key of Object.keys(settings))
      expect([key, SETTING_NAMES.includes(key) || platform.has(key)]).toEqual([key, true]);
    for (const key of LOCAL_ONLY_SETTINGS) expect([key, key in settings]).toEqual([key, false]);
  });

  it('deploys the profile overrides of infra/profiles.json as DIALTONE_PROFILES, so a deployment never removes them', () => {
    expect(settingsOf()['DIALTONE_PROFILES']).toBe(read('infra/profiles.json'));
  });

  it("gives the app settings that pass its own start-up validation (the template's literal values, Azure-shaped placeholders for the rest)", () => {
    const env: Record<string, string> = {};
    const placeholders: Record<string, string> = {
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net/',
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net/',
      AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net/',
      ServiceBusConnection__fullyQualifiedNamespace: 'sb-x.servicebus.windows.net',
      DIALTONE_DEADLINE_HOURS: '24',
      DIALTONE_DEFAULT_PROFILE: 'phone-domestic',
      DIALTONE_DEFAULT_USAGE_LOCATION: '',
      DIALTONE_SET_USAGE_LOCATION: 'true',
      DIALTONE_PHONE_NUMBERS: 'row',
      DIALTONE_GRAPH_BASE_URL: 'https://graph.microsoft.com',
      // environment().authentication.loginEndpoint in the global cloud.
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
      DIALTONE_TIME_ZONE: 'UTC',
      DIALTONE_LEAD_DAYS: '1',
      DIALTONE_SCHEDULE_HORIZON_DAYS: '120',
      DIALTONE_ACCOUNT_WAIT_HOURS: '24',
      DIALTONE_CALLBACK_HOSTS: '',
      DIALTONE_CALLBACK_SECRET: '',
      DIALTONE_CALLERS: '',
      // The template's own defaults for these (the next test checks they are the app's).
      DIALTONE_UPLOAD_PROFILES: String(arm.main.parameters.uploadProfiles?.defaultValue),
      DIALTONE_UPLOAD_SKUS: String(arm.main.parameters.uploadSkus?.defaultValue),
      DIALTONE_EXTRA_ROW_SKUS: String(arm.main.parameters.extraRowSkus?.defaultValue),
      DIALTONE_LIST_PER_MINUTE: String(arm.main.parameters.listPerMinute?.defaultValue),
      DIALTONE_PRIVATE_CONTAINER: String(arm.main.parameters.privateContainer?.defaultValue),
    };
    for (const [k, v] of Object.entries(settingsOf())) env[k] = v.startsWith('[') ? (placeholders[k] ?? 'x') : v;
    const config = loadConfig(env);
    expect(config).toMatchObject({
      graphBaseUrl: 'https://graph.microsoft.com',
      graphSignIn: { kind: 'managedIdentity' },
      taskHub: 'dialtone',
      serviceBus: { fullyQualifiedNamespace: 'sb-x.servicebus.windows.net' },
    });
  });

  it("passes the upload rights, row SKUs, listing rate and private container through from azd, with the app's defaults, so a deployment does not wipe them", () => {
    const settings = settingsOf();
    const passed: Record<string, [string, string]> = {
      DIALTONE_UPLOAD_PROFILES: ['uploadProfiles', '${DIALTONE_UPLOAD_PROFILES=}'],
      DIALTONE_UPLOAD_SKUS: ['uploadSkus', '${DIALTONE_UPLOAD_SKUS=true}'],
      DIALTONE_EXTRA_ROW_SKUS: ['extraRowSkus', '${DIALTONE_EXTRA_ROW_SKUS=}'],
      DIALTONE_LIST_PER_MINUTE: ['listPerMinute', '${DIALTONE_LIST_PER_MINUTE=60}'],
      DIALTONE_PRIVATE_CONTAINER: ['privateContainer', '${DIALTONE_PRIVATE_CONTAINER=dialtone-private}'],
    };
    const parameters = JSON.parse(read('infra/main.parameters.json')).parameters;
    const api = resourcesOf(arm.main).find((r) => r.name === 'api').properties.parameters;
    for (const [key, [param, azd]] of Object.entries(passed)) {
      expect([key, settings[key]]).toEqual([key, expect.stringContaining(`parameters('${param}')`)]);
      expect([key, api[param]?.value]).toEqual([key, `[parameters('${param}')]`]);
      expect([key, parameters[param]?.value]).toEqual([key, azd]);
    }
    // Each default (the template's, and azd's when the variable is unset) is the app's own.
    const defaults = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    const fromTemplate = loadConfig({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ...Object.fromEntries(
        Object.entries(passed).map(([key, [param]]) => [key, String(arm.main.parameters[param].defaultValue)]),
      ),
    });
    for (const field of ['uploadRights', 'extraRowSkus', 'listPerMinute', 'privateContainer'] as const)
      expect([field, fromTemplate[field]]).toEqual([field, defaults[field]]);
    const fromAzd = loadConfig({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ...Object.fromEntries(Object.entries(passed).map(([key, [, azd]]) => [key, /=(.*)\}$/.exec(azd)![1]!])),
    });
    for (const field of ['uploadRights', 'extraRowSkus', 'listPerMinute', 'privateContainer'] as const)
      expect([field, fromAzd[field]]).toEqual([field, defaults[field]]);
    // A value set through azd reaches the app as the app reads it.
    expect(
      loadConfig({
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        DIALTONE_UPLOAD_SKUS: 'false',
        DIALTONE_LIST_PER_MINUTE: '120',
      }),
    ).toMatchObject({ uploadRights: { ownSkus: false }, listPerMinute: 120 });
  });

  it('passes the HR onboarding settings through, the callback secret only as a secure parameter or a Key Vault reference', () => {
    const settings = settingsOf();
    const apiParams = arm.modules.get('api').parameters as Record<string, { type: string }>;
    expect(apiParams['callbackSecret']?.type).toBe('securestring');
    expect((arm.main.parameters as Record<string, { type: string }>)['callbackSecret']?.type).toBe('securestring');
    for (const key of [
      'DIALTONE_TIME_ZONE',
      'DIALTONE_LEAD_DAYS',
      'DIALTONE_SCHEDULE_HORIZON_DAYS',
      'DIALTONE_ACCOUNT_WAIT_HOURS',
      'DIALTONE_CALLBACK_HOSTS',
    ])
      expect(settings[key]).toMatch(/^\[parameters\('/);
    expect(settings['DIALTONE_CALLBACK_SECRET']).toBe("[variables('callbackSecretSetting')]");
    expect(JSON.stringify(arm.modules.get('api').variables['callbackSecretSetting'])).toMatch(
      /empty\(parameters\('callbackSecretUri'\)\), parameters\('callbackSecret'\), format\('@Microsoft\.KeyVault\(SecretUri=\{0\}\)'/,
    );
    // The platform resolves the reference with the app's user-assigned identity.
    const site = resourcesOf(arm.modules.get('api')).find((r) => r.type === 'Microsoft.Web/sites');
    expect(site.properties.keyVaultReferenceIdentity).toMatch(/identityId/);
    // No output of any template carries it.
    for (const template of [arm.main, ...arm.modules.values()])
      expect(JSON.stringify(template.outputs ?? {})).not.toMatch(/callbackSecret/i);
  });

  it('lets the Functions host cut an HTTP body just above the 20 MiB intake limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, bytes)', () => {
    const limit = Number(settingsOf()['FUNCTIONS_REQUEST_BODY_SIZE_LIMIT']);
    expect(limit).toBeGreaterThan(MAX_INPUT_BYTES);
    expect(limit).toBeLessThanOrEqual(MAX_INPUT_BYTES + 1024 * 1024);
  });

  it('passes the phone number policy to the app and out to the grant hook: row by default in the global cloud, off in national clouds', () => {
    expect(settingsOf()['DIALTONE_PHONE_NUMBERS']).toContain("parameters('phoneNumbers')");
    expect(arm.main.parameters.phoneNumbers).toMatchObject({
      type: 'string',
      defaultValue: '',
      allowedValues: ['', 'row', 'pool', 'off'],
    });
    expect(arm.main.variables.effectivePhoneNumbers).toMatch(
      /not\(empty\(parameters\('phoneNumbers'\)\)\), parameters\('phoneNumbers'\), if\(equals\(variables\('effectiveGraphBaseUrl'\), 'https:\/\/graph\.microsoft\.com'\), 'row', 'off'\)/,
    );
    expect(
      JSON.stringify(resourcesOf(arm.main).find((r) => r.name === 'api').properties.parameters.phoneNumbers),
    ).toContain("variables('effectivePhoneNumbers')");
    expect(arm.main.outputs.DIALTONE_PHONE_NUMBERS.value).toBe("[variables('effectivePhoneNumbers')]");
    expect(read('infra/main.parameters.json')).toContain('"${DIALTONE_PHONE_NUMBERS=}"');
  });

  it("takes Microsoft Graph's root and Entra ID's authority from the cloud the deployment targets", () => {
    expect(arm.main.variables.graphByCloud).toEqual({
      AzureCloud: 'https://graph.microsoft.com',
      AzureUSGovernment: 'https://graph.microsoft.us',
      AzureChinaCloud: 'https://microsoftgraph.chinacloudapi.cn',
    });
    expect(arm.main.variables.effectiveGraphBaseUrl).toBe(
      "[if(empty(parameters('graphBaseUrl')), variables('graphByCloud')[environment().name], parameters('graphBaseUrl'))]",
    );
    const params = resourcesOf(arm.main).find((r) => r.name === 'api').properties.parameters;
    expect([params.graphBaseUrl.value, params.authorityHost.value]).toEqual([
      "[variables('effectiveGraphBaseUrl')]",
      '[environment().authentication.loginEndpoint]',
    ]);
    expect([settingsOf()['DIALTONE_GRAPH_BASE_URL'], settingsOf()['AZURE_AUTHORITY_HOST']]).toEqual([
      "[parameters('graphBaseUrl')]",
      "[parameters('authorityHost')]",
    ]);
    expect(JSON.stringify(arm.modules.get('api'))).not.toContain('https://graph.microsoft.com');
    // Each cloud's root is one the app accepts at start-up.
    for (const url of Object.values(arm.main.variables.graphByCloud as Record<string, string>))
      expect(
        loadConfig({
          AzureWebJobsStorage: 'UseDevelopmentStorage=true',
          DIALTONE_GRAPH_BASE_URL: url,
          DIALTONE_PHONE_NUMBERS: 'off',
        }).graphBaseUrl,
      ).toBe(url);
  });

  it("keeps one always-ready instance for the durable group by default (Microsoft's recommendation for Durable Functions on Flex Consumption)", () => {
    expect(arm.main.parameters.durableAlwaysReadyInstances).toMatchObject({
      type: 'int',
      defaultValue: 1,
      minValue: 0,
    });
    const site = resourcesOf(arm.modules.get('api')).find((r) => r.type === 'Microsoft.Web/sites');
    expect(site.properties.functionAppConfig.scaleAndConcurrency.alwaysReady).toBe(
      "[if(greater(parameters('durableAlwaysReadyInstances'), 0), createArray(createObject('name', 'durable', 'instanceCount', parameters('durableAlwaysReadyInstances'))), createArray())]",
    );
    expect(read('infra/main.parameters.json')).toContain('"${DIALTONE_DURABLE_ALWAYS_READY=1}"');
  });

  it('turns off basic publishing credentials on SCM and FTP', () => {
    const policies = resourcesOf(arm.modules.get('api')).filter(
      (r) => r.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
    );
    expect(policies.map((r) => [String(r.name).replace(/^.*'(\w+)'\)\]$/, '$1'), r.properties.allow]).sort()).toEqual([
      ['ftp', false],
      ['scm', false],
    ]);
  });

  it("has the platform authenticate only (no built-in authorization policy, so the app's role-or-group rule decides) and keeps no tokens", () => {
    const auth = resourcesOf(arm.modules.get('api')).find(
      (r) => r.type === 'Microsoft.Web/sites/config' && String(r.name).includes('authsettingsV2'),
    );
    expect(auth.properties.login).toEqual({ tokenStore: { enabled: false } });
    expect(auth.properties.globalValidation).toEqual({
      requireAuthentication: false,
      unauthenticatedClientAction: 'AllowAnonymous',
    });
    const aad = auth.properties.identityProviders.azureActiveDirectory;
    expect(aad.validation.defaultAuthorizationPolicy).toBeUndefined();
    expect(JSON.stringify(auth)).not.toMatch(/allowedPrincipals|allowedApplications|authorizationPolicy/i);
  });

  it('passes the usage-location option to the app and out to the grant hook', () => {
    expect(settingsOf()['DIALTONE_SET_USAGE_LOCATION']).toContain("parameters('setUsageLocation')");
    expect(arm.main.parameters.setUsageLocation).toMatchObject({ type: 'bool', defaultValue: true });
    expect(arm.main.outputs.DIALTONE_SET_USAGE_LOCATION.value).toContain("parameters('setUsageLocation')");
  });

  it('keeps the deployment package in its own storage account: the data account has only the intake, report and budget containers', () => {
    const containers = (name: string) =>
      resourcesOf(arm.modules.get(name))
        .filter((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers')
        .map((r) => String(r.name));
    expect(containers('storage')).toHaveLength(3);
    expect(containers('storage').join()).toMatch(/intakeContainer.*reportsContainer.*budgetContainer/);
    expect(containers('package-storage')).toHaveLength(1);
    expect(containers('package-storage')[0]).toContain("parameters('deploymentContainer')");
    const site = resourcesOf(arm.modules.get('api')).find((r) => r.type === 'Microsoft.Web/sites');
    expect(site.properties.functionAppConfig.deployment.storage.value).toContain(
      "parameters('packageStorageAccountName')",
    );
    for (const name of ['storage', 'package-storage']) {
      const account = resourcesOf(arm.modules.get(name)).find((r) => r.type === 'Microsoft.Storage/storageAccounts');
      expect([name, account.properties.allowSharedKeyAccess, account.properties.allowBlobPublicAccess]).toEqual([
        name,
        false,
        false,
      ]);
    }
  });

  it('gives each principal its roles at the narrowest scope it needs, and nobody but the app a role on the package', () => {
    expect(roleAssignments(arm.modules.get('roles'))).toEqual([
      'deployerPrincipalId → Storage Blob Data Contributor @ containers:dataStorageAccountName/intakeContainer',
      'deployerPrincipalId → Storage Blob Data Reader @ containers:dataStorageAccountName/reportsContainer',
      'identityPrincipalId → Azure Service Bus Data Sender @ namespaces:serviceBusNamespaceName',
      'identityPrincipalId → Monitoring Metrics Publisher @ components:applicationInsightsName',
      'identityPrincipalId → Storage Blob Data Contributor @ containers:packageStorageAccountName/deploymentContainer',
      'identityPrincipalId → Storage Blob Data Owner @ storageAccounts:dataStorageAccountName',
      'identityPrincipalId → Storage Queue Data Contributor @ storageAccounts:dataStorageAccountName',
      'identityPrincipalId → Storage Table Data Contributor @ storageAccounts:dataStorageAccountName',
    ]);
  });

  it('runs on Flex Consumption, Node 22, one user-assigned identity, and grants no Graph permission in the template', () => {
    const api = resourcesOf(arm.modules.get('api'));
    expect(api.find((r) => r.type === 'Microsoft.Web/serverfarms').sku).toEqual({
      tier: 'FlexConsumption',
      name: 'FC1',
    });
    const site = api.find((r) => r.type === 'Microsoft.Web/sites');
    expect(site.properties.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
    expect(site.identity.type).toBe('UserAssigned');
    expect(JSON.stringify(arm.main)).not.toMatch(/Microsoft\.Graph|appRoleAssign/);
  });

  it('outputs what azd and the hooks read, in UPPER_SNAKE', () => {
    const outputs = Object.keys(arm.main.outputs);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'AZURE_RESOURCE_GROUP',
        'AZURE_FUNCTION_APP_NAME',
        'AZURE_FUNCTION_URI',
        'AZURE_EVENTGRID_SYSTEM_TOPIC_NAME',
        'DIALTONE_IDENTITY_PRINCIPAL_ID',
        'DIALTONE_SET_USAGE_LOCATION',
      ]),
    );
    for (const o of outputs) expect(o).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
});

describe('the containers and queue names the app expects', () => {
  it('are the ones storage.bicep creates and api.bicep configures', () => {
    const config = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    const storage = read('infra/app/storage.bicep');
    for (const name of [config.intakeContainer, config.reportsContainer, config.flagsQueue])
      expect(storage).toContain(`'${name}'`);
    expect(read('infra/app/api.bicep')).toContain(`DIALTONE_INTAKE_CONTAINER: '${config.intakeContainer}'`);
    expect(read('infra/app/servicebus.bicep')).toMatch(/requiresDuplicateDetection: true/);
  });
});

describe('Graph permissions: one list for the grant hook and the docs', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const grant = require('../../scripts/grant-graph-permissions.js') as {
    planGrants(a: Json): Json;
    wantedPermissions(on: boolean, spec?: Json, phoneNumbers?: string, profiles?: Json): { permission: string }[];
  };
  const spec = JSON.parse(read('infra/graph-permissions.json'));
  const role = (value: string, i: number) => ({
    id: `role-${i}`,
    value,
    allowedMemberTypes: ['Application'],
    isEnabled: true,
  });
  const graphRoles = [
    'LicenseAssignment.Read.All',
    'LicenseAssignment.ReadWrite.All',
    'Organization.Read.All',
    'TeamsUserConfiguration.Read.All',
    'User.Read.All',
    'User.ReadWrite.All',
    'Directory.ReadWrite.All',
  ].map(role);

  it('asks for the least privileged permission each call documents, User.ReadWrite.All only when usage locations are set, TeamsTelephoneNumber.ReadWrite.All only when numbering is on', () => {
    expect(grant.wantedPermissions(true, spec, 'off').map((p) => p.permission)).toEqual([
      'LicenseAssignment.Read.All',
      'LicenseAssignment.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
      'User.ReadWrite.All',
    ]);
    expect(grant.wantedPermissions(false, spec, 'off').map((p) => p.permission)).toEqual([
      'LicenseAssignment.Read.All',
      'LicenseAssignment.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
      'User.Read.All',
    ]);
    for (const policy of ['row', 'pool'])
      expect(grant.wantedPermissions(true, spec, policy).map((p) => p.permission)).toEqual([
        'LicenseAssignment.Read.All',
        'LicenseAssignment.ReadWrite.All',
        'TeamsUserConfiguration.Read.All',
        'User.ReadWrite.All',
        'TeamsTelephoneNumber.ReadWrite.All',
      ]);
    // The default, as in the app (DIALTONE_PHONE_NUMBERS=row).
    expect(grant.wantedPermissions(true).map((p) => p.permission)).toContain('TeamsTelephoneNumber.ReadWrite.All');
  });

  it('grants the number permission when numbering is off for the app but a profile of infra/profiles.json turns it on', () => {
    const numbers = (profiles: Json) =>
      grant
        .wantedPermissions(true, spec, 'off', profiles)
        .map((p) => p.permission)
        .includes('TeamsTelephoneNumber.ReadWrite.All');
    expect(numbers({ sales: { skus: ['ENTERPRISEPACK', 'MCOEV'], phoneNumbers: 'pool' } })).toBe(true);
    expect(numbers({ sales: { skus: ['ENTERPRISEPACK'], phoneNumbers: 'row' }, plain: ['MCOEV'] })).toBe(true);
    expect(numbers({ sales: { skus: ['ENTERPRISEPACK'], phoneNumbers: 'off' }, plain: ['MCOEV'] })).toBe(false);
    expect(numbers({})).toBe(false);
    const plan = grant.planGrants({
      graphAppRoles: [...graphRoles, role('TeamsTelephoneNumber.ReadWrite.All', 99)],
      assignments: [],
      setUsageLocation: true,
      phoneNumbers: 'off',
      profiles: { sales: { skus: ['MCOEV'], phoneNumbers: 'pool' } },
    });
    expect(plan.grant.map((g: Json) => g.permission)).toContain('TeamsTelephoneNumber.ReadWrite.All');
  });

  it('covers every number call with the one permission the adapter table lists for all of them', () => {
    for (const op of ['listNumbers', 'assignNumber', 'unassignNumber', 'readNumberOrder', 'updateNumber'] as const)
      expect([op, GRAPH_PERMISSIONS[op].permissions]).toEqual([
        op,
        expect.arrayContaining(['TeamsTelephoneNumber.ReadWrite.All']),
      ]);
    expect(spec.permissions.find((p: Json) => p.permission === 'TeamsTelephoneNumber.ReadWrite.All').doc).toBe(
      GRAPH_PERMISSIONS.assignNumber.doc,
    );
  });

  it("grants the least privileged permission the adapter's own table (GRAPH_PERMISSIONS) gives for every call the app makes", () => {
    const first = (op: keyof typeof GRAPH_PERMISSIONS) => GRAPH_PERMISSIONS[op].permissions[0]!;
    // With usage locations on, User.ReadWrite.All (for the PATCH) also reads users (user-get lists it as higher).
    const calls = {
      true: ['listSubscribedSkus', 'setUsageLocation', 'assignLicenses', 'readTeamsFeatures'],
      false: ['listSubscribedSkus', 'readUsers', 'assignLicenses', 'readTeamsFeatures'],
    } as const;
    for (const on of [true, false]) {
      const granted = grant.wantedPermissions(on, spec, 'off').map((p) => p.permission);
      expect(granted.sort()).toEqual(calls[`${on}`].map(first).sort());
      for (const op of calls[`${on}`])
        expect(spec.permissions.find((p: Json) => p.permission === first(op)).doc).toBe(GRAPH_PERMISSIONS[op].doc);
    }
  });

  it('grants what is missing, keeps what is held, and removes User.ReadWrite.All once usage locations are no longer set', () => {
    const held = [
      { id: 'a1', appRoleId: 'role-1' },
      { id: 'a2', appRoleId: 'role-5' },
      { id: 'a3', appRoleId: 'role-6' },
    ];
    const plan = grant.planGrants({
      graphAppRoles: graphRoles,
      assignments: held,
      setUsageLocation: false,
      phoneNumbers: 'off',
    });
    expect(plan).toEqual({
      grant: [
        { permission: 'LicenseAssignment.Read.All', appRoleId: 'role-0' },
        { permission: 'TeamsUserConfiguration.Read.All', appRoleId: 'role-3' },
        { permission: 'User.Read.All', appRoleId: 'role-4' },
      ],
      kept: ['LicenseAssignment.ReadWrite.All'],
      revoke: [{ permission: 'User.ReadWrite.All', assignmentId: 'a2' }],
      missing: [],
    });
    expect(plan.revoke.map((r: Json) => r.permission)).not.toContain('Directory.ReadWrite.All');
  });

  it('falls back to Organization.Read.All where the tenant does not offer LicenseAssignment.Read.All, and names what is missing', () => {
    const without = graphRoles.filter((r) => r.value !== 'LicenseAssignment.Read.All');
    expect(
      grant
        .planGrants({ graphAppRoles: without, assignments: [], setUsageLocation: true })
        .grant.map((g: Json) => g.permission),
    ).toContain('Organization.Read.All');
    const bare = graphRoles.filter((r) => !r.value.startsWith('Teams'));
    expect(grant.planGrants({ graphAppRoles: bare, assignments: [], setUsageLocation: true }).missing).toEqual([
      'TeamsUserConfiguration.Read.All',
      'TeamsTelephoneNumber.ReadWrite.All',
    ]);
  });

  it("docs/security.md's permission table and docs/deploying.md's by-hand script list exactly these permissions, each with its documentation link", () => {
    const security = read('docs/security.md');
    const table = security.slice(security.indexOf('| permission | when | used for | documented at |'));
    const lines = table
      .split('\n')
      .slice(2)
      .map((l) => l.trim());
    const rows = lines
      .slice(
        0,
        lines.findIndex((l) => !l.startsWith('|')),
      )
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => r[1]!.replace(/`/g, ''))).toEqual(spec.permissions.map((p: Json) => p.permission));
    for (const [i, p] of spec.permissions.entries()) expect(rows[i]![4]).toContain(p.doc);
    const deploying = read('docs/deploying.md');
    const script = deploying.slice(
      deploying.indexOf('Connect-MgGraph'),
      deploying.indexOf('```', deploying.indexOf('Connect-MgGraph')),
    );
    for (const p of spec.permissions)
      expect([p.permission, script.includes(`'${p.permission}'`)]).toEqual([p.permission, true]);
  });
});

describe('the Graph grant hook (run against a recording az and a stand-in for the Graph calls it makes)', () => {
  let dir: string;
  let server: Server;
  const seen: { method: string; url: string; auth: string | undefined; body: any }[] = [];
  let assignmentReads = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dialtone-grant-'));
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          auth: req.headers.authorization,
          body: text ? JSON.parse(text) : undefined,
        });
        const send = (status: number, body?: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(body === undefined ? '' : JSON.stringify(body));
        };
        if (
          req.method === 'GET' &&
          req.url!.startsWith("/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
        ) {
          return send(200, {
            id: 'graph-sp',
            appRoles: [
              'LicenseAssignment.Read.All',
              'LicenseAssignment.ReadWrite.All',
              'TeamsUserConfiguration.Read.All',
              'User.Read.All',
              'User.ReadWrite.All',
            ].map((value, i) => ({ id: `role-${i}`, value, allowedMemberTypes: ['Application'], isEnabled: true })),
          });
        }
        if (req.method === 'GET' && req.url === '/v1.0/servicePrincipals/mi-1/appRoleAssignments') {
          // A service principal created moments ago is not yet visible to Graph (msgraph-bicep-types issue 193):
          // Graph's answer for an object it cannot find is 404 Request_ResourceNotFound.
          if (++assignmentReads === 1)
            return send(404, {
              error: {
                code: 'Request_ResourceNotFound',
                message:
                  "Resource 'mi-1' does not exist or one of its queried reference-property objects are not present.",
              },
            });
          return send(200, {
            value: [
              { id: 'held-1', appRoleId: 'role-1', resourceId: 'graph-sp' },
              { id: 'held-2', appRoleId: 'role-4', resourceId: 'graph-sp' },
              { id: 'other', appRoleId: 'x', resourceId: 'another-api' },
            ],
          });
        }
        if (req.method === 'POST' && req.url === '/v1.0/servicePrincipals/mi-1/appRoleAssignments')
          return send(201, { id: 'new', ...JSON.parse(text) });
        if (req.method === 'DELETE' && req.url === '/v1.0/servicePrincipals/mi-1/appRoleAssignments/held-2')
          return send(204);
        return send(400, { error: { code: 'Unexpected', message: `${req.method} ${req.url}` } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    writeFileSync(
      join(dir, 'az'),
      `#!/bin/sh\nif [ "$1" = cloud ]; then echo 'http://127.0.0.1:${port}/'; else echo 'token-from-az'; fi\n`,
    );
    chmodSync(join(dir, 'az'), 0o755);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const runHook = (env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'scripts', 'grant-graph-permissions.js')], {
        env: { PATH: `${dir}:${process.env['PATH']}`, DIALTONE_GRANT_RETRY_SECONDS: '0', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('without DIALTONE_GRANT_GRAPH_PERMISSIONS=true grants nothing and prints what to grant by hand', async () => {
    const r = await runHook({
      DIALTONE_IDENTITY_PRINCIPAL_ID: 'mi-1',
      DIALTONE_SET_USAGE_LOCATION: 'true',
      DIALTONE_PHONE_NUMBERS: 'pool',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('by hand');
    expect(r.stdout).toContain(
      'LicenseAssignment.Read.All, LicenseAssignment.ReadWrite.All, TeamsUserConfiguration.Read.All, User.ReadWrite.All, TeamsTelephoneNumber.ReadWrite.All.',
    );
    expect(seen).toEqual([]);
  });

  it('waits until Graph sees the new identity, grants what is missing with the az token, and removes User.ReadWrite.All when usage locations are off', async () => {
    const r = await runHook({
      DIALTONE_GRANT_GRAPH_PERMISSIONS: 'true',
      DIALTONE_IDENTITY_PRINCIPAL_ID: 'mi-1',
      DIALTONE_SET_USAGE_LOCATION: 'false',
      DIALTONE_PHONE_NUMBERS: 'off',
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(assignmentReads).toBe(2);
    expect(seen.every((c) => c.auth === 'Bearer token-from-az')).toBe(true);
    const posts = seen.filter((c) => c.method === 'POST').map((c) => c.body);
    expect(posts).toEqual([
      { principalId: 'mi-1', resourceId: 'graph-sp', appRoleId: 'role-0' },
      { principalId: 'mi-1', resourceId: 'graph-sp', appRoleId: 'role-2' },
      { principalId: 'mi-1', resourceId: 'graph-sp', appRoleId: 'role-3' },
    ]);
    expect(seen.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual([
      '/v1.0/servicePrincipals/mi-1/appRoleAssignments/held-2',
    ]);
    expect(r.stdout).toContain('removed User.ReadWrite.All');
  });
});

describe('the Graph grant hook with DIALTONE_GRAPH_SCOPE=administrative-unit (recording az, stand-in Graph)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const grant = require('../../scripts/grant-graph-permissions.js') as {
    wantedPermissions(
      on: boolean,
      spec?: Json,
      phoneNumbers?: string,
      profiles?: Json,
      scope?: string,
    ): { permission: string }[];
    graphScope(env: Record<string, string>): Json;
  };
  const UNIT = '11111111-2222-3333-4444-555555555555';
  const LICENSE_ADMIN = '4d6ac14f-3453-41d0-bef9-a3e0c569773a';
  const APP_ROLES = [
    'LicenseAssignment.Read.All',
    'LicenseAssignment.ReadWrite.All',
    'TeamsUserConfiguration.Read.All',
    'User.Read.All',
    'User.ReadWrite.All',
    'TeamsTelephoneNumber.ReadWrite.All',
  ];
  let dir: string;
  let server: Server;
  let seen: { method: string; url: string; body: any }[] = [];
  /** The tenant as the stand-in answers it: the units that exist and the directory role assignments. */
  let units: string[] = [];
  let roleAssignments: Json[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dialtone-grant-au-'));
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const url = decodeURIComponent(req.url!);
        const body = text ? JSON.parse(text) : undefined;
        seen.push({ method: req.method!, url, body });
        const send = (status: number, b?: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(b === undefined ? '' : JSON.stringify(b));
        };
        if (
          req.method === 'GET' &&
          url.startsWith("/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
        ) {
          return send(200, {
            id: 'graph-sp',
            appRoles: APP_ROLES.map((value, i) => ({
              id: `role-${i}`,
              value,
              allowedMemberTypes: ['Application'],
              isEnabled: true,
            })),
          });
        }
        // Held today: the tenant-wide grant of the default option.
        if (req.method === 'GET' && url === '/v1.0/servicePrincipals/mi-1/appRoleAssignments') {
          return send(200, {
            value: [0, 1, 2, 4].map((i) => ({ id: `held-${i}`, appRoleId: `role-${i}`, resourceId: 'graph-sp' })),
          });
        }
        if (req.method === 'POST' && url === '/v1.0/servicePrincipals/mi-1/appRoleAssignments')
          return send(201, { id: 'new', ...body });
        if (req.method === 'DELETE' && url.startsWith('/v1.0/servicePrincipals/mi-1/appRoleAssignments/held-'))
          return send(204);
        const unit = /^\/v1\.0\/directory\/administrativeUnits\/([^?]+)\?\$select=id,displayName$/.exec(url);
        if (req.method === 'GET' && unit) {
          return units.includes(unit[1]!)
            ? send(200, { id: unit[1], displayName: 'New hires' })
            : send(404, {
                error: {
                  code: 'Request_ResourceNotFound',
                  message: `Resource '${unit[1]}' does not exist or one of its queried reference-property objects are not present.`,
                },
              });
        }
        const filter =
          /^\/v1\.0\/roleManagement\/directory\/roleAssignments\?\$filter=principalId eq '([^']+)' and roleDefinitionId eq '([^']+)'$/.exec(
            url,
          );
        if (req.method === 'GET' && filter)
          return send(200, {
            value: roleAssignments.filter((a) => a.principalId === filter[1] && a.roleDefinitionId === filter[2]),
          });
        if (req.method === 'POST' && url === '/v1.0/roleManagement/directory/roleAssignments') {
          const created = { id: `ra-${roleAssignments.length + 1}`, ...body };
          roleAssignments.push(created);
          return send(201, created);
        }
        return send(400, { error: { code: 'Unexpected', message: `${req.method} ${url}` } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    writeFileSync(
      join(dir, 'az'),
      `#!/bin/sh\nif [ "$1" = cloud ]; then echo 'http://127.0.0.1:${port}/'; else echo 'token-from-az'; fi\n`,
    );
    chmodSync(join(dir, 'az'), 0o755);
  });
  beforeEach(() => {
    seen = [];
    units = [UNIT];
    roleAssignments = [
      {
        id: 'other-role',
        principalId: 'mi-1',
        roleDefinitionId: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
        directoryScopeId: '/',
      },
    ];
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const runHook = (env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'scripts', 'grant-graph-permissions.js')], {
        env: {
          PATH: `${dir}:${process.env['PATH']}`,
          DIALTONE_GRANT_RETRY_SECONDS: '0',
          DIALTONE_GRANT_GRAPH_PERMISSIONS: 'true',
          DIALTONE_IDENTITY_PRINCIPAL_ID: 'mi-1',
          DIALTONE_GRAPH_SCOPE: 'administrative-unit',
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const writes = () => seen.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.url}`);

  it('wants only the read permissions, whatever the usage-location setting, and the number permission only while numbering is on', () => {
    const wanted = (on: boolean, numbers: string) =>
      grant.wantedPermissions(on, undefined, numbers, {}, 'administrative-unit').map((p) => p.permission);
    for (const on of [true, false]) {
      expect(wanted(on, 'off')).toEqual([
        'LicenseAssignment.Read.All',
        'TeamsUserConfiguration.Read.All',
        'User.Read.All',
      ]);
      expect(wanted(on, 'pool')).toEqual([
        'LicenseAssignment.Read.All',
        'TeamsUserConfiguration.Read.All',
        'User.Read.All',
        'TeamsTelephoneNumber.ReadWrite.All',
      ]);
    }
    expect(() => grant.wantedPermissions(true, undefined, 'off', {}, 'unit')).toThrow(
      /DIALTONE_GRAPH_SCOPE: "unit" is not one of tenant, administrative-unit/,
    );
  });

  it('refuses a missing, malformed or unknown scope setting with what to set', () => {
    expect(grant.graphScope({})).toEqual({ scope: 'tenant' });
    expect(
      grant.graphScope({
        DIALTONE_GRAPH_SCOPE: 'Administrative-Unit',
        DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT.toUpperCase(),
      }),
    ).toEqual({ scope: 'administrative-unit', unitId: UNIT });
    expect(() => grant.graphScope({ DIALTONE_GRAPH_SCOPE: 'administrative-unit' })).toThrow(
      /DIALTONE_ADMINISTRATIVE_UNIT_ID is not set/,
    );
    expect(() =>
      grant.graphScope({ DIALTONE_GRAPH_SCOPE: 'administrative-unit', DIALTONE_ADMINISTRATIVE_UNIT_ID: 'New hires' }),
    ).toThrow(/not an object id/);
    expect(() => grant.graphScope({ DIALTONE_GRAPH_SCOPE: 'au' })).toThrow(/DIALTONE_GRAPH_SCOPE: "au"/);
  });

  it('assigns License Administrator at the unit scope first, grants the reads, then removes the tenant-wide writes, saying each', async () => {
    const r = await runHook({
      DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT,
      DIALTONE_SET_USAGE_LOCATION: 'true',
      DIALTONE_PHONE_NUMBERS: 'off',
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(
      seen
        .filter((c) => c.url.includes('roleManagement') || c.url.includes('administrativeUnits'))
        .map((c) => `${c.method} ${c.url}`),
    ).toEqual([
      `GET /v1.0/directory/administrativeUnits/${UNIT}?$select=id,displayName`,
      `GET /v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq 'mi-1' and roleDefinitionId eq '${LICENSE_ADMIN}'`,
      'POST /v1.0/roleManagement/directory/roleAssignments',
    ]);
    expect(seen.find((c) => c.method === 'POST' && c.url.includes('roleManagement'))!.body).toEqual({
      principalId: 'mi-1',
      roleDefinitionId: LICENSE_ADMIN,
      directoryScopeId: `/administrativeUnits/${UNIT}`,
    });
    expect(writes()).toEqual([
      'POST /v1.0/roleManagement/directory/roleAssignments',
      'POST /v1.0/servicePrincipals/mi-1/appRoleAssignments',
      'DELETE /v1.0/servicePrincipals/mi-1/appRoleAssignments/held-1',
      'DELETE /v1.0/servicePrincipals/mi-1/appRoleAssignments/held-4',
    ]);
    // The one grant is User.Read.All; neither tenant-wide write is ever granted.
    expect(
      seen
        .filter((c) => c.method === 'POST' && c.url.endsWith('appRoleAssignments'))
        .map((c) => APP_ROLES[Number(c.body.appRoleId.slice(5))]),
    ).toEqual(['User.Read.All']);
    expect(r.stdout).toContain(
      `assigned License Administrator at the scope of administrative unit ${UNIT} (New hires)`,
    );
    expect(r.stdout).toContain(
      "removed LicenseAssignment.ReadWrite.All (tenant-wide; not needed with License Administrator at the unit's scope)",
    );
    expect(r.stdout).toContain('removed User.ReadWrite.All');
    // The other directory role the identity holds is not touched.
    expect(roleAssignments.map((a) => a.id)).toEqual(['other-role', 'ra-2']);
  });

  it('does not assign the role twice: a second run finds it and keeps it', async () => {
    expect((await runHook({ DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT, DIALTONE_PHONE_NUMBERS: 'off' })).status).toBe(0);
    seen = [];
    const again = await runHook({ DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT, DIALTONE_PHONE_NUMBERS: 'off' });
    expect([again.status, again.stderr]).toEqual([0, '']);
    expect(writes().filter((w) => w.includes('roleManagement'))).toEqual([]);
    expect(roleAssignments.filter((a) => a.roleDefinitionId === LICENSE_ADMIN)).toHaveLength(1);
    expect(again.stdout).toContain(
      `License Administrator at the scope of administrative unit ${UNIT} (New hires): already assigned, kept`,
    );
  });

  it('says so, and removes nothing, when the identity also holds License Administrator tenant-wide', async () => {
    roleAssignments.push({ id: 'wide', principalId: 'mi-1', roleDefinitionId: LICENSE_ADMIN, directoryScopeId: '/' });
    const r = await runHook({ DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT, DIALTONE_PHONE_NUMBERS: 'off' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/also holds License Administrator tenant-wide .*does not remove it/);
    expect(roleAssignments.map((a) => a.id)).toContain('wide');
    expect(writes().filter((w) => w.startsWith('DELETE') && w.includes('roleManagement'))).toEqual([]);
  });

  it('fails clearly, changing nothing, when the unit id is missing or names no unit', async () => {
    const missing = await runHook({ DIALTONE_PHONE_NUMBERS: 'off' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('DIALTONE_ADMINISTRATIVE_UNIT_ID is not set');
    expect(seen).toEqual([]);
    units = [];
    const unknown = await runHook({ DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT, DIALTONE_PHONE_NUMBERS: 'off' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(`this tenant has no administrative unit ${UNIT} (Graph answered 404)`);
    expect(writes()).toEqual([]);
  });

  it('without DIALTONE_GRANT_GRAPH_PERMISSIONS=true prints the reads and the role assignment to make by hand', async () => {
    const r = await runHook({
      DIALTONE_GRANT_GRAPH_PERMISSIONS: '',
      DIALTONE_ADMINISTRATIVE_UNIT_ID: UNIT,
      DIALTONE_PHONE_NUMBERS: 'row',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      `LicenseAssignment.Read.All, TeamsUserConfiguration.Read.All, User.Read.All, TeamsTelephoneNumber.ReadWrite.All and assign it the directory role License Administrator (role template ${LICENSE_ADMIN}) at the scope of administrative unit ${UNIT}`,
    );
    expect(seen).toEqual([]);
  });
});

describe('the post-deploy hook (run against a recording az)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dialtone-hook-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An `az` that records its arguments and has the key appear on the given call of `keys list`. */
  function fakeAz(keyOnCall: number): void {
    writeFileSync(
      join(dir, 'az'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/call-$(ls "${dir}" | grep -c '^call-')"\nif [ "$2" = keys ]; then n=$(ls "${dir}" | grep -c '^call-'); [ "$n" -ge ${keyOnCall} ] && echo 'k3y&x'; fi\nexit 0\n`,
    );
    chmodSync(join(dir, 'az'), 0o755);
  }
  const run = () =>
    spawnSync('sh', [join(root, 'scripts', 'post-deploy.sh')], {
      encoding: 'utf8',
      env: {
        PATH: `${dir}:${process.env['PATH']}`,
        AZURE_RESOURCE_GROUP: 'rg-x',
        AZURE_FUNCTION_APP_NAME: 'func-x',
        AZURE_FUNCTION_URI: 'https://func-x.example.net/',
        AZURE_EVENTGRID_SYSTEM_TOPIC_NAME: 'evgt-x',
        DIALTONE_KEY_WAIT_ATTEMPTS: '4',
        DIALTONE_KEY_WAIT_SECONDS: '0',
        DIALTONE_SKIP_DOCTOR: '1',
      },
    });
  const calls = () =>
    readdirSync(dir)
      .filter((f) => f.startsWith('call-'))
      .sort()
      .map((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));

  it('waits for the eventgrid_extension key, then subscribes batches-intake with the URL from the azd output, quoted whole', () => {
    fakeAz(3);
    const r = run();
    expect(r.status).toBe(0);
    const all = calls();
    expect(all.map((c) => c.slice(0, 2).join(' '))).toEqual([
      'functionapp keys',
      'functionapp keys',
      'functionapp keys',
      'eventgrid system-topic',
    ]);
    const create = all[3]!;
    expect(create[create.indexOf('--endpoint') + 1]).toBe(
      'https://func-x.example.net/runtime/webhooks/eventgrid?functionName=batches-intake&code=k3y&x',
    );
    expect(create[create.indexOf('--included-event-types') + 1]).toBe('Microsoft.Storage.BlobCreated');
    expect(create[create.indexOf('--subject-begins-with') + 1]).toBe(
      '/blobServices/default/containers/license-requests/',
    );
    expect(all[0]).toContain('systemKeys.eventgrid_extension');
  });

  it('fails with what to do when the key never appears, without creating a subscription', () => {
    fakeAz(99);
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/eventgrid_extension key still does not exist.*azd hooks run postdeploy/);
    expect(calls().map((c) => c[0])).toEqual(['functionapp', 'functionapp', 'functionapp', 'functionapp']);
  });

  it("ends by printing the app's health table with the default function key, and reports failed checks without failing azd", async () => {
    fakeAz(1);
    // The app's answers, as functions/health.ts gives them (test/e2e/health.test.ts checks those on the local stack):
    // here only the hook's part is under test, so a loopback server answers for the deployed app.
    const keys: string[] = [];
    const report = {
      type: 'urn:dialtone:health:failed',
      title: 'Some of what the app needs is not usable',
      status: 503,
      detail: '1 of 2 checks failed: graph-subscribed-skus',
      problems: [
        {
          type: 'urn:dialtone:health:missing-access',
          title: 'x',
          status: 403,
          detail: 'Graph answered 403',
          check: 'graph-subscribed-skus',
          missing: 'the Microsoft Graph application permission LicenseAssignment.Read.All',
          grant: 'azd hooks run postprovision',
        },
      ],
      checks: [
        { check: 'graph-token', ok: true, ms: 3 },
        {
          check: 'graph-subscribed-skus',
          ok: false,
          ms: 9,
          problem: {
            type: 'urn:dialtone:health:missing-access',
            title: 'x',
            status: 403,
            detail: 'Graph answered 403',
            check: 'graph-subscribed-skus',
            missing: 'the Microsoft Graph application permission LicenseAssignment.Read.All',
            grant: 'azd hooks run postprovision',
          },
        },
      ],
    };
    const app = createServer((req, res) => {
      if (req.url === '/api/health')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      keys.push(String(req.headers['x-functions-key']));
      res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify(report));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn('sh', [join(root, 'scripts', 'post-deploy.sh')], {
          env: {
            PATH: `${dir}:${process.env['PATH']}`,
            AZURE_RESOURCE_GROUP: 'rg-x',
            AZURE_FUNCTION_APP_NAME: 'func-x',
            AZURE_FUNCTION_URI: url,
            AZURE_EVENTGRID_SYSTEM_TOPIC_NAME: 'evgt-x',
            DIALTONE_KEY_WAIT_ATTEMPTS: '1',
            DIALTONE_KEY_WAIT_SECONDS: '0',
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(r.status).toBe(0);
      expect(calls().map((c) => c.slice(0, 2).join(' '))).toEqual([
        'functionapp keys',
        'eventgrid system-topic',
        'functionapp keys',
      ]);
      expect(calls()[2]).toContain('functionKeys.default');
      expect(keys).toEqual(['k3y&x']);
      expect(r.stdout).toMatch(
        /^graph-subscribed-skus\s+FAILED\s+9 ms\s+the Microsoft Graph application permission LicenseAssignment\.Read\.All$/m,
      );
      expect(r.stdout).toMatch(/^graph-token\s+ok\s+3 ms$/m);
      expect(r.stderr).toContain('Some health checks failed (above)');
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('the Windows hook quotes the webhook URL for cmd.exe and waits the same way', () => {
    const ps1 = read('scripts/post-deploy.ps1');
    expect(ps1).toContain("$PSNativeCommandArgumentPassing = 'Legacy'");
    expect(ps1).toContain('--endpoint "`"$endpoint`""');
    expect(ps1).toContain('systemKeys.eventgrid_extension');
    expect(ps1).toContain('$env:AZURE_FUNCTION_URI');
    expect(ps1).toMatch(/for \(\$i = 1; \$i -le \$attempts; \$i\+\+\)/);
  });

  it('points at the intake function app.ts registers, and azure.yaml runs both hooks', () => {
    // The webhook is the Event Grid extension's (/runtime/webhooks/eventgrid): batches-intake becomes an
    // app.eventGrid function in the intake change, whose own test asserts that registration.
    expect(read('app.ts')).toContain("app.eventGrid('batches-intake'");
    const yaml = read('azure.yaml');
    expect(yaml).toMatch(
      /postdeploy:[\s\S]*run: \.\/scripts\/post-deploy\.sh[\s\S]*run: \.\/scripts\/post-deploy\.ps1/,
    );
    expect(yaml).toMatch(/postprovision:[\s\S]*run: node \.\/scripts\/grant-graph-permissions\.js/);
  });
});

describe('the deployment package', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../scripts/package.js') as {
    planPackage(): string[];
    runtimeManifest(): Json;
    productionPackages(): string[];
  };
  let files: string[];
  beforeAll(() => {
    files = pkg.planPackage();
  });
  const packages = () =>
    new Set(
      files
        .filter((f) => f.startsWith('node_modules/'))
        .map((f) =>
          f
            .split('/')
            .slice(0, f.startsWith('node_modules/@') ? 3 : 2)
            .join('/'),
        ),
    );

  it('ships the compiled app, host.json and a package.json without dev or optional dependencies or scripts', () => {
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'dist/main.js']));
    const manifest = pkg.runtimeManifest();
    expect([manifest.devDependencies, manifest.optionalDependencies, manifest.scripts]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(manifest.main).toBe('dist/main.js');
    expect(read('azure.yaml')).toMatch(/dist: \.azd-package/);
  });

  it('ships dist/ whole, which holds the app alone (scripts/build.js): no list of what to leave out of it', () => {
    const app = /^dist\/((main|app|wiring)\.js(\.map)?|(functions|workflows|activities|contracts|shared|web)\/.+)$/;
    const built = files.filter((f) => f.startsWith('dist/'));
    expect(built.filter((f) => !app.test(f))).toEqual([]);
    expect(built).toEqual(
      expect.arrayContaining(['dist/workflows/chunk.js', 'dist/web/console.js', 'dist/web/console.css']),
    );
    expect(read('scripts/package.js')).not.toMatch(/dist\/(local|bench|test)/);
    expect(read('.funcignore')).not.toMatch(/dist\/(local|bench|test)/);
  });

  it('leaves out the local runtime, benchmarks, tests, sources, devDependencies and Core Tools', () => {
    const manifest = JSON.parse(read('package.json'));
    const shipped = packages();
    const lock = JSON.parse(read('package-lock.json')).packages as Record<string, { dev?: boolean }>;
    // A devDependency that a production package also depends on (@types/node, through @types/is-buffer) is installed
    // by `npm install --omit=dev` too, and so shipped; everything only the tooling needs is not.
    for (const dev of [...Object.keys(manifest.devDependencies), ...Object.keys(manifest.optionalDependencies ?? {})]) {
      const onlyForDev = lock[`node_modules/${dev}`]?.dev === true || dev in (manifest.optionalDependencies ?? {});
      expect([dev, shipped.has(`node_modules/${dev}`)]).toEqual([dev, !onlyForDev]);
    }
    for (const tool of [
      'typescript',
      'jest',
      'ts-jest',
      'eslint',
      'azurite',
      'azure-functions-core-tools',
      'fast-check',
    ])
      expect([tool, shipped.has(`node_modules/${tool}`)]).toEqual([tool, false]);
    expect([...shipped].sort()).toEqual(
      pkg
        .productionPackages()
        .filter((p) => p.split('/').length <= (p.startsWith('node_modules/@') ? 3 : 2))
        .sort(),
    );
    for (const dep of Object.keys(manifest.dependencies))
      expect([dep, shipped.has(`node_modules/${dep}`)]).toEqual([dep, true]);
    expect(
      files.filter(
        (f) =>
          /^(dist\/(local|bench|test)\/|test\/|bench\/|local\/|infra\/|scripts\/|\.ci\/)/.test(f) ||
          (f.endsWith('.ts') && !f.startsWith('node_modules/')),
      ),
    ).toEqual([]);
  });

  it("refuses to stage a package whose installed version is not package-lock.json's, and keeps package.json's overrides", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const packager = require('../../scripts/package.js') as { checkInstalledVersions(root: string): void };
    const check = packager.checkInstalledVersions;
    const dir = mkdtempSync(join(tmpdir(), 'dialtone-package-'));
    try {
      writeFileSync(
        join(dir, 'package-lock.json'),
        JSON.stringify({
          lockfileVersion: 3,
          packages: {
            '': {},
            'node_modules/uuid': { version: '11.1.1' },
            'node_modules/jest': { version: '30.5.2', dev: true },
          },
        }),
      );
      mkdirSync(join(dir, 'node_modules', 'uuid'), { recursive: true });
      writeFileSync(
        join(dir, 'node_modules', 'uuid', 'package.json'),
        JSON.stringify({ name: 'uuid', version: '11.1.1' }),
      );
      expect(() => check(dir)).not.toThrow();
      writeFileSync(
        join(dir, 'node_modules', 'uuid', 'package.json'),
        JSON.stringify({ name: 'uuid', version: '8.3.2' }),
      );
      expect(() => check(dir)).toThrow(
        'node_modules does not match package-lock.json: node_modules/uuid 8.3.2 (package-lock.json: 11.1.1); run `npm ci` first',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(pkg.runtimeManifest().overrides).toEqual(JSON.parse(read('package.json')).overrides);
  });

  it('holds every module the shipped code requires', () => {
    const shipped = new Set(files);
    const missing: string[] = [];
    for (const f of files.filter((x) => x.startsWith('dist/') && x.endsWith('.js'))) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) {
          const target = posix.normalize(posix.join(posix.dirname(f), spec));
          if (![`${target}.js`, `${target}/index.js`, target].some((t) => shipped.has(t)))
            missing.push(`${f} → ${spec}`);
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!shipped.has(`node_modules/${name}/package.json`)) missing.push(`${f} → ${spec}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
