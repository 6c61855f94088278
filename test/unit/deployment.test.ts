// Bicep cannot be compiled on these machines, so the deployment is checked as text against what the app needs:
// every setting it validates, every container and queue it uses, every role its identity needs.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AZURE_REQUIRED_SETTINGS, LOCAL_ONLY_SETTINGS, SETTING_NAMES, loadConfig } from '../../shared/adapters/config';

const root = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const bicep = ['infra/main.bicep', ...readdirSync(join(root, 'infra/app')).map((f) => `infra/app/${f}`)].map(read).join('\n');
const api = read('infra/app/api.bicep');
const appSettings = new Map([...api.slice(api.indexOf("name: 'appsettings'")).matchAll(/^\s+([A-Za-z_][A-Za-z0-9_]*): (.+)$/gm)].filter((m) => m[2]!.trim() !== '{').map((m) => [m[1]!, m[2]!.trim()]));

describe('deployment (infra/ and azure.yaml, read as text)', () => {
  it('sets every configuration key the app requires in Azure as an app setting', () => {
    for (const key of AZURE_REQUIRED_SETTINGS) expect([key, appSettings.has(key)]).toEqual([key, true]);
  });

  it('sets no key the app does not read (a typo would be silently ignored), local-only keys excepted', () => {
    const platform = new Set(['AzureWebJobsStorage__credential', 'AzureWebJobsStorage__tableServiceUri', 'APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'ServiceBusConnection__credential', 'ServiceBusConnection__clientId']);
    for (const key of appSettings.keys()) expect([key, SETTING_NAMES.includes(key) || platform.has(key)]).toEqual([key, true]);
    for (const key of LOCAL_ONLY_SETTINGS) expect(appSettings.has(key)).toBe(false);
  });

  it('gives the app a configuration that passes its own start-up validation', () => {
    const env: Record<string, string> = {};
    for (const [k, v] of appSettings) env[k] = /^'.*'$/.test(v) ? v.slice(1, -1) : k.endsWith('ServiceUri') ? `https://acct.${k.includes('blob') ? 'blob' : k.includes('queue') ? 'queue' : 'table'}.core.windows.net/` : k === 'ServiceBusConnection__fullyQualifiedNamespace' ? 'sb-x.servicebus.windows.net' : k === 'DIALTONE_DEADLINE_HOURS' ? '24' : k === 'DIALTONE_DEFAULT_PROFILE' ? 'phone-domestic' : k === 'DIALTONE_DEFAULT_USAGE_LOCATION' ? '' : 'x';
    const config = loadConfig(env);
    expect(config.storage).toMatchObject({ blobServiceUri: 'https://acct.blob.core.windows.net/' });
    expect(config.serviceBus).toEqual({ fullyQualifiedNamespace: 'sb-x.servicebus.windows.net' });
  });

  it('creates the containers and queues the app uses, with the names its defaults expect', () => {
    const config = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    for (const name of [config.intakeContainer, config.reportsContainer, config.flagsQueue]) expect(bicep).toContain(`'${name}'`);
    expect(bicep).toMatch(/resource intake 'containers'/);
    expect(bicep).toMatch(/resource reports 'containers'/);
    expect(bicep).toMatch(/resource flags 'queues'/);
    expect(bicep).toMatch(/resource queue 'queues'[\s\S]*requiresDuplicateDetection: true/);
    expect(appSettings.get('DIALTONE_INTAKE_CONTAINER')).toBe(`'${config.intakeContainer}'`);
  });

  it('grants the identity every role the app needs, and the Graph permissions behind a parameter', () => {
    for (const role of ['b7e6dc6d-f1e8-4753-8033-0f276bb0955b', '974c5e8b-45b9-4653-ba55-5f855dd0fb88', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', '3913510d-42f4-4e42-8a64-420c390055eb']) expect(bicep).toContain(role);
    for (const permission of ['LicenseAssignment.ReadWrite.All', 'User.ReadWrite.All', 'TeamsUserConfiguration.Read.All']) expect(read('infra/app/graph-permissions.bicep')).toContain(`'${permission}'`);
    expect(read('infra/main.bicep')).toMatch(/param grantGraphPermissions bool = false/);
    expect(read('infra/main.bicep')).toMatch(/module graphPermissions 'app\/graph-permissions.bicep' = if \(grantGraphPermissions\)/);
  });

  it('runs on Flex Consumption, Node 22, with shared keys off and one user-assigned identity', () => {
    expect(api).toMatch(/name: 'FC1'/);
    expect(api).toMatch(/runtime: \{ name: 'node', version: '22' \}/);
    expect(bicep).toMatch(/allowSharedKeyAccess: false/);
    expect(api).toMatch(/type: 'UserAssigned'/);
  });

  it('declares the azd service and the post-deploy hook that subscribes the blob trigger to Event Grid', () => {
    const azure = read('azure.yaml');
    expect(azure).toMatch(/services:\s+api:\s+project: \.\s+language: ts\s+host: function/);
    expect(azure).toMatch(/postdeploy:/);
    const hook = read('scripts/post-deploy.sh');
    expect(hook).toContain('systemKeys.blobs_extension');
    expect(hook).toContain('functionName=Host.Functions.batches-intake');
    expect(read('main.ts')).toContain("app.eventGrid('batches-intake'");
  });

  it('outputs what azd and the hook read, in UPPER_SNAKE', () => {
    const outputs = [...read('infra/main.bicep').matchAll(/^output (\S+) /gm)].map((m) => m[1]!);
    expect(outputs).toEqual(expect.arrayContaining(['AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_EVENTGRID_SYSTEM_TOPIC_NAME']));
    for (const o of outputs) expect(o).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
});
