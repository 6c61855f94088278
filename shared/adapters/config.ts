// Configuration, read once from app settings at start-up and validated as a whole: an invalid setting stops the app
// with one message that names every bad setting, instead of a failure deep inside a run.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normaliseUsageLocation } from '../domain/countries';
import { PHONE_NUMBER_POLICIES, type PhoneNumberPolicy } from '../domain/phone-numbers';
import { mergeProfiles, type ProfilePhoneNumbers, type Profiles } from '../domain/profiles';
import { isTimeZone, type ScheduleSettings } from '../domain/schedule';

export interface AppConfig {
  /** A Microsoft Graph cloud's service root, or a loopback one when the local runtime allows it. */
  readonly graphBaseUrl: string;
  /** How the app signs in for its Graph tokens: the managed identity, or an app registration (graph-credential.ts). */
  readonly graphSignIn: GraphSignIn;
  /** PEM of an extra certificate authority to trust for Graph and its authority (TLS-inspecting proxies; the local stack). */
  readonly graphExtraCaPem: string | undefined;
  readonly managedIdentityClientId: string | undefined;
  readonly deadlineHours: number;
  readonly defaultUsageLocation: string | undefined;
  /** The app may PATCH usageLocation on users who have none (needs User.ReadWrite.All); off: it never writes users. */
  readonly setUsageLocation: boolean;
  /** A plan switched off in a group-held licence is switched on by a direct assignment of the same product (one seat). */
  readonly directForGroupPlans: boolean;
  readonly defaultProfile: string;
  readonly profiles: Profiles;
  /** Whether users get a phone number: `row` (default), `pool` or `off`; profiles may set their own. */
  readonly phoneNumbers: PhoneNumberPolicy;
  readonly profilePhoneNumbers: ProfilePhoneNumbers;
  readonly chunkSize: number;
  readonly assignParallelism: number;
  /** Writes per second the whole app (every instance together) allows itself against Graph's 3,000 per 150 s. */
  readonly graphWritesPerSecond: number;
  /** Teams reads per second for the whole app, against Graph's 30 per second per app and tenant for Teams GETs. */
  readonly teamsReadsPerSecond: number;
  /** Teams reads per second of the number step (a user's numbers, the free list, an order), beside the checks' budget. */
  readonly numberReadsPerSecond: number;
  /** Where the shared budgets' ledgers live (one small blob each). */
  readonly budgetContainer: string;
  readonly intakeContainer: string;
  readonly reportsContainer: string;
  readonly flagsQueue: string;
  readonly serviceBus: { readonly fullyQualifiedNamespace: string } | { readonly connectionString: string } | undefined;
  readonly storage: { readonly connectionString: string } | { readonly blobServiceUri: string; readonly queueServiceUri: string; readonly clientId: string | undefined };
  readonly taskHub: string;
  /** The integrations allowed to call the API, by the SHA-256 of their function key; undefined = one integration. */
  readonly callers: CallerDirectory | undefined;
  /** How start dates are read and scheduled (DIALTONE_TIME_ZONE, DIALTONE_LEAD_DAYS, DIALTONE_SCHEDULE_HORIZON_DAYS). */
  readonly schedule: ScheduleSettings;
  /** How long after its scheduled time a row with a start date waits for its account to exist. */
  readonly accountWaitHours: number;
  /** Hosts a batch's callbackUrl may name (lower case); empty = no callbacks. */
  readonly callbackHosts: readonly string[];
  /** The shared secret callbacks are signed with; without one no callback is sent. */
  readonly callbackSecret: string | undefined;
  /** The app runs on the local runtime (the local stack sets DIALTONE_LOCAL_RUNTIME): loopback callbacks allowed. */
  readonly localRuntime: boolean;
}

/**
 * The app's Graph sign-in. In Azure its managed identity (AZURE_CLIENT_ID names a user-assigned one); elsewhere an
 * app registration with a client secret or certificate, @azure/identity's own variable names (AZURE_TENANT_ID,
 * AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, AZURE_AUTHORITY_HOST).
 */
export type GraphSignIn =
  | { readonly kind: 'managedIdentity'; readonly clientId: string | undefined }
  | {
      readonly kind: 'appRegistration';
      readonly tenantId: string;
      readonly clientId: string;
      readonly secret?: string;
      readonly certificatePath?: string;
      /** The Entra authority's https origin (a national cloud's, or the local stack's). */
      readonly authorityHost: string;
      /** MSAL's instance discovery, which only Microsoft's own authorities answer. */
      readonly instanceDiscovery: boolean;
    };

/** An integration (an HR system, an admin tool) and what it may see besides its own batches. */
export interface Caller {
  readonly name: string;
  /** May read the batches that uploads to the intake container started. */
  readonly readsUploads: boolean;
}

/** Callers by the lower-case hex SHA-256 of their function key. */
export type CallerDirectory = ReadonlyMap<string, Caller>;

/** A caller's name is a folder and part of an instance id: short, lower case, and never the uploads' own owner. */
export const CALLER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const UPLOADS_OWNER = 'uploads';
export const SINGLE_CALLER = 'default';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`dialtone configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Microsoft Graph's service root hosts, one per cloud ("Microsoft Graph national cloud deployments",
 * https://learn.microsoft.com/graph/deployments): global, US Government L4, US Government L5 (DOD), China (21Vianet).
 * The app sends its managed identity's Graph token to this host, so no other host is accepted.
 */
export const GRAPH_CLOUD_HOSTS: readonly string[] = ['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn'];
const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];
/**
 * Microsoft Entra's authority hosts, one per cloud ("National clouds", learn.microsoft.com/entra/identity-platform/
 * authentication-national-cloud): global, US Government, China (21Vianet). MSAL discovers their instances itself.
 */
export const AUTHORITY_HOSTS: readonly string[] = ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn'];

const CONTAINER = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const optionalText = z.string().trim().optional().transform((v) => (v === '' ? undefined : v));
const intSetting = (def: number, min: number, max: number) =>
  optionalText.pipe(z.coerce.number<string | undefined>().int().min(min).max(max).optional()).transform((v) => v ?? def);

const booleanSetting = (def: boolean) =>
  optionalText.pipe(z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE'], { error: 'must be true or false' }).optional()).transform((v) => (v === undefined ? def : v.toLowerCase() === 'true'));

/** Why a Graph base URL is refused, or undefined when it is a Graph cloud's root (or allowed loopback). */
function graphBaseUrlProblem(value: string, allowLoopback: boolean): string | undefined {
  const url = new URL(value);
  const where = `${url.hostname}${url.port ? `:${url.port}` : ''}`;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return 'must be a bare https://host (no path, query, fragment or credentials); the app adds /v1.0 itself';
  }
  if (LOOPBACK_HOSTS.includes(url.hostname)) {
    return allowLoopback ? undefined : `${where} is loopback, which only the local runtime may use (it sets DIALTONE_GRAPH_ALLOW_LOOPBACK=true)`;
  }
  if (!GRAPH_CLOUD_HOSTS.includes(url.hostname) || url.port) {
    return `${where} is not a Microsoft Graph cloud; use one of ${GRAPH_CLOUD_HOSTS.map((h) => `https://${h}`).join(', ')}`;
  }
  return undefined;
}

const schema = z.object({
  DIALTONE_GRAPH_BASE_URL: optionalText.pipe(z.url({ protocol: /^https$/ }).optional()).transform((v) => (v ?? 'https://graph.microsoft.com').replace(/\/+$/, '')),
  DIALTONE_GRAPH_ALLOW_LOOPBACK: booleanSetting(false),
  DIALTONE_GRAPH_EXTRA_CA_FILE: optionalText,
  AZURE_CLIENT_ID: optionalText,
  AZURE_TENANT_ID: optionalText.pipe(z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be the tenant id (a GUID)').optional()),
  AZURE_CLIENT_SECRET: optionalText,
  AZURE_CLIENT_CERTIFICATE_PATH: optionalText,
  AZURE_AUTHORITY_HOST: optionalText,
  DIALTONE_DEADLINE_HOURS: optionalText.pipe(z.coerce.number<string | undefined>().positive().max(168).optional()).transform((v) => v ?? 24),
  DIALTONE_DEFAULT_USAGE_LOCATION: optionalText.pipe(z.string().refine((v) => normaliseUsageLocation(v) !== undefined, 'must be an ISO 3166-1 two-letter country code').optional()).transform((v) => (v ? normaliseUsageLocation(v) : undefined)),
  DIALTONE_SET_USAGE_LOCATION: booleanSetting(true),
  DIALTONE_DIRECT_FOR_GROUP_PLANS: booleanSetting(false),
  DIALTONE_DEFAULT_PROFILE: optionalText.transform((v) => (v ?? 'phone-domestic').toLowerCase()),
  DIALTONE_PROFILES: optionalText,
  DIALTONE_PHONE_NUMBERS: optionalText.pipe(z.enum(PHONE_NUMBER_POLICIES, { message: 'must be row, pool or off' }).optional()).transform((v) => v ?? 'row'),
  DIALTONE_CHUNK_SIZE: intSetting(200, 1, 1000),
  DIALTONE_ASSIGN_PARALLELISM: intSetting(10, 1, 50),
  DIALTONE_GRAPH_WRITES_PER_SECOND: intSetting(18, 1, 20),
  DIALTONE_TEAMS_READS_PER_SECOND: intSetting(10, 1, 30),
  DIALTONE_NUMBER_READS_PER_SECOND: intSetting(5, 1, 29),
  DIALTONE_BUDGET_CONTAINER: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional()).transform((v) => v ?? 'dialtone-budgets'),
  DIALTONE_INTAKE_CONTAINER: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional()).transform((v) => v ?? 'license-requests'),
  DIALTONE_REPORTS_CONTAINER: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional()).transform((v) => v ?? 'license-reports'),
  DIALTONE_FLAGS_QUEUE: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid queue name').optional()).transform((v) => v ?? 'license-flags'),
  ServiceBusConnection__fullyQualifiedNamespace: optionalText.pipe(z.string().regex(/^[A-Za-z0-9-]+\.servicebus\.windows\.net$/, 'must look like <name>.servicebus.windows.net').optional()),
  ServiceBusConnection: optionalText,
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__blobServiceUri: optionalText.pipe(z.url().optional()),
  AzureWebJobsStorage__queueServiceUri: optionalText.pipe(z.url().optional()),
  AzureWebJobsStorage__clientId: optionalText,
  DIALTONE_CALLERS: optionalText,
  DIALTONE_TIME_ZONE: optionalText.pipe(z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC').optional()).transform((v) => v ?? 'UTC'),
  DIALTONE_LEAD_DAYS: intSetting(1, 0, 30),
  DIALTONE_SCHEDULE_HORIZON_DAYS: intSetting(120, 1, 366),
  DIALTONE_ACCOUNT_WAIT_HOURS: optionalText.pipe(z.coerce.number<string | undefined>().positive().max(168).optional()).transform((v) => v ?? 24),
  DIALTONE_CALLBACK_HOSTS: optionalText.transform((v) => (v ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)).pipe(z.array(z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/, 'must be a comma-separated list of host names (api.hr.example.com)'))),
  DIALTONE_CALLBACK_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters (a random secret shared with the HR system)').optional()),
  DIALTONE_LOCAL_RUNTIME: optionalText.pipe(z.enum(['true', 'false']).optional()).transform((v) => v === 'true'),
  DIALTONE_TASK_HUB: optionalText.pipe(z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/, 'must be 3-45 letters and digits, starting with a letter').optional()).transform((v) => v ?? 'dialtone'),
});

export type Environment = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Environment = process.env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): AppConfig {
  const parsed = schema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const s = parsed.data;
  const graphProblem = graphBaseUrlProblem(s.DIALTONE_GRAPH_BASE_URL, s.DIALTONE_GRAPH_ALLOW_LOOPBACK);
  if (graphProblem) problems.push(`DIALTONE_GRAPH_BASE_URL: ${graphProblem}`);
  if (!s.DIALTONE_SET_USAGE_LOCATION && s.DIALTONE_DEFAULT_USAGE_LOCATION) {
    problems.push('DIALTONE_DEFAULT_USAGE_LOCATION: is set, but DIALTONE_SET_USAGE_LOCATION is false, so the app may not set usage locations; clear one of them');
  }
  let overrides: unknown;
  if (s.DIALTONE_PROFILES) {
    try {
      overrides = JSON.parse(s.DIALTONE_PROFILES);
    } catch {
      problems.push('DIALTONE_PROFILES: is not valid JSON');
    }
  }
  const merged = mergeProfiles(overrides);
  problems.push(...merged.problems.map((p) => `DIALTONE_PROFILES: ${p}`));
  if (!merged.profiles.has(s.DIALTONE_DEFAULT_PROFILE)) {
    problems.push(`DIALTONE_DEFAULT_PROFILE: "${s.DIALTONE_DEFAULT_PROFILE}" is not a profile; known: ${[...merged.profiles.keys()].sort().join(', ')}`);
  }
  let ca: string | undefined;
  if (s.DIALTONE_GRAPH_EXTRA_CA_FILE) {
    try {
      ca = readFile(s.DIALTONE_GRAPH_EXTRA_CA_FILE);
      if (!ca.includes('BEGIN CERTIFICATE')) problems.push('DIALTONE_GRAPH_EXTRA_CA_FILE: is not a PEM certificate');
    } catch {
      problems.push(`DIALTONE_GRAPH_EXTRA_CA_FILE: cannot read ${s.DIALTONE_GRAPH_EXTRA_CA_FILE}`);
    }
  }
  if (s.AZURE_CLIENT_CERTIFICATE_PATH) {
    try {
      const pem = readFile(s.AZURE_CLIENT_CERTIFICATE_PATH);
      if (!pem.includes('PRIVATE KEY') || !pem.includes('BEGIN CERTIFICATE')) problems.push('AZURE_CLIENT_CERTIFICATE_PATH: must be a PEM file holding the private key and its certificate');
    } catch {
      problems.push(`AZURE_CLIENT_CERTIFICATE_PATH: cannot read ${s.AZURE_CLIENT_CERTIFICATE_PATH}`);
    }
  }
  let storage: AppConfig['storage'] | undefined;
  if (s.AzureWebJobsStorage) storage = { connectionString: s.AzureWebJobsStorage === 'UseDevelopmentStorage=true' ? DEVELOPMENT_STORAGE : s.AzureWebJobsStorage };
  else if (s.AzureWebJobsStorage__blobServiceUri && s.AzureWebJobsStorage__queueServiceUri) {
    storage = { blobServiceUri: s.AzureWebJobsStorage__blobServiceUri, queueServiceUri: s.AzureWebJobsStorage__queueServiceUri, clientId: s.AzureWebJobsStorage__clientId };
  } else problems.push('AzureWebJobsStorage: set a connection string, or AzureWebJobsStorage__blobServiceUri and AzureWebJobsStorage__queueServiceUri for a managed identity');
  if (s.ServiceBusConnection__fullyQualifiedNamespace && s.ServiceBusConnection) {
    problems.push('ServiceBusConnection: set either ServiceBusConnection__fullyQualifiedNamespace (managed identity) or ServiceBusConnection (connection string), not both');
  }
  const callers = s.DIALTONE_CALLERS ? parseCallers(s.DIALTONE_CALLERS, problems) : undefined;
  const graphSignIn = graphSignInOf(s, problems);
  if (s.DIALTONE_TEAMS_READS_PER_SECOND + s.DIALTONE_NUMBER_READS_PER_SECOND > 30) {
    problems.push(`DIALTONE_NUMBER_READS_PER_SECOND: with DIALTONE_TEAMS_READS_PER_SECOND it must stay within Graph's 30 Teams GETs a second per app and tenant (${s.DIALTONE_TEAMS_READS_PER_SECOND} + ${s.DIALTONE_NUMBER_READS_PER_SECOND})`);
  }
  if (problems.length > 0 || !storage) throw new ConfigError(problems);
  return {
    graphBaseUrl: s.DIALTONE_GRAPH_BASE_URL,
    graphSignIn,
    graphExtraCaPem: ca,
    // With an app registration AZURE_CLIENT_ID is the registration's, not a managed identity's.
    managedIdentityClientId: graphSignIn.kind === 'managedIdentity' ? s.AZURE_CLIENT_ID : undefined,
    deadlineHours: s.DIALTONE_DEADLINE_HOURS,
    defaultUsageLocation: s.DIALTONE_DEFAULT_USAGE_LOCATION,
    setUsageLocation: s.DIALTONE_SET_USAGE_LOCATION,
    directForGroupPlans: s.DIALTONE_DIRECT_FOR_GROUP_PLANS,
    defaultProfile: s.DIALTONE_DEFAULT_PROFILE,
    profiles: merged.profiles,
    phoneNumbers: s.DIALTONE_PHONE_NUMBERS,
    profilePhoneNumbers: merged.phoneNumbers,
    chunkSize: s.DIALTONE_CHUNK_SIZE,
    assignParallelism: s.DIALTONE_ASSIGN_PARALLELISM,
    graphWritesPerSecond: s.DIALTONE_GRAPH_WRITES_PER_SECOND,
    teamsReadsPerSecond: s.DIALTONE_TEAMS_READS_PER_SECOND,
    numberReadsPerSecond: s.DIALTONE_NUMBER_READS_PER_SECOND,
    budgetContainer: s.DIALTONE_BUDGET_CONTAINER,
    intakeContainer: s.DIALTONE_INTAKE_CONTAINER,
    reportsContainer: s.DIALTONE_REPORTS_CONTAINER,
    flagsQueue: s.DIALTONE_FLAGS_QUEUE,
    serviceBus: s.ServiceBusConnection__fullyQualifiedNamespace
      ? { fullyQualifiedNamespace: s.ServiceBusConnection__fullyQualifiedNamespace }
      : s.ServiceBusConnection
        ? { connectionString: s.ServiceBusConnection }
        : undefined,
    storage,
    taskHub: s.DIALTONE_TASK_HUB,
    callers,
    schedule: { timeZone: s.DIALTONE_TIME_ZONE, leadDays: s.DIALTONE_LEAD_DAYS, horizonDays: s.DIALTONE_SCHEDULE_HORIZON_DAYS },
    accountWaitHours: s.DIALTONE_ACCOUNT_WAIT_HOURS,
    callbackHosts: s.DIALTONE_CALLBACK_HOSTS,
    callbackSecret: s.DIALTONE_CALLBACK_SECRET,
    localRuntime: s.DIALTONE_LOCAL_RUNTIME,
  };
}

/** The Graph sign-in the settings describe, or the managed identity; a problem for each setting that does not fit. */
function graphSignInOf(s: z.infer<typeof schema>, problems: string[]): GraphSignIn {
  if (s.AZURE_CLIENT_SECRET === undefined && s.AZURE_CLIENT_CERTIFICATE_PATH === undefined) {
    if (s.AZURE_AUTHORITY_HOST !== undefined) problems.push('AZURE_AUTHORITY_HOST: is set, but neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is; a managed identity needs no authority');
    return { kind: 'managedIdentity', clientId: s.AZURE_CLIENT_ID };
  }
  if (s.AZURE_CLIENT_SECRET !== undefined && s.AZURE_CLIENT_CERTIFICATE_PATH !== undefined) problems.push('AZURE_CLIENT_SECRET: set either it or AZURE_CLIENT_CERTIFICATE_PATH, not both');
  if (!s.AZURE_TENANT_ID) problems.push('AZURE_TENANT_ID: an app registration (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH) needs its tenant id');
  if (!s.AZURE_CLIENT_ID) problems.push("AZURE_CLIENT_ID: an app registration (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH) needs its application (client) id");
  let authorityHost = 'https://login.microsoftonline.com';
  let known = true;
  if (s.AZURE_AUTHORITY_HOST !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(s.AZURE_AUTHORITY_HOST);
    } catch {
      problems.push('AZURE_AUTHORITY_HOST: is not a URL');
    }
    if (url) {
      known = AUTHORITY_HOSTS.includes(url.hostname) && !url.port;
      if (url.protocol !== 'https:' || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) problems.push('AZURE_AUTHORITY_HOST: must be a bare https://host, the authority without the tenant');
      else if (LOOPBACK_HOSTS.includes(url.hostname) ? !s.DIALTONE_GRAPH_ALLOW_LOOPBACK : !known) {
        problems.push(`AZURE_AUTHORITY_HOST: ${url.host} is not a Microsoft Entra authority; use one of ${AUTHORITY_HOSTS.map((h) => `https://${h}`).join(', ')} (loopback only on the local runtime)`);
      }
      authorityHost = url.origin;
    }
  }
  return {
    kind: 'appRegistration',
    tenantId: s.AZURE_TENANT_ID ?? '',
    clientId: s.AZURE_CLIENT_ID ?? '',
    ...(s.AZURE_CLIENT_SECRET !== undefined ? { secret: s.AZURE_CLIENT_SECRET } : {}),
    ...(s.AZURE_CLIENT_CERTIFICATE_PATH !== undefined ? { certificatePath: s.AZURE_CLIENT_CERTIFICATE_PATH } : {}),
    authorityHost,
    instanceDiscovery: known,
  };
}

/**
 * DIALTONE_CALLERS: `{ "<name>": { "keySha256": "<64 hex>", "uploads"?: true } }`, one entry per integration, or the
 * same as `<name>:<64 hex>[:uploads]` entries separated by commas. The short form has no quotes, so it passes through
 * an azd environment value into the deployment's parameters file (azd substitutes values into that JSON unescaped),
 * and the Bicep sets it with the other app settings: set by hand, the next `azd provision` would remove it.
 */
function parseCallers(text: string, problems: string[]): CallerDirectory | undefined {
  let raw: unknown;
  if (!text.trimStart().startsWith('{')) raw = callerList(text);
  else {
    try {
      raw = JSON.parse(text);
    } catch {
      problems.push('DIALTONE_CALLERS: is not valid JSON');
      return undefined;
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('DIALTONE_CALLERS: must be a JSON object mapping caller names to { "keySha256": "…" }');
    return undefined;
  }
  const byKey = new Map<string, Caller>();
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    const where = `DIALTONE_CALLERS.${name.slice(0, 40)}`;
    if (!CALLER_NAME.test(name) || name === UPLOADS_OWNER) {
      problems.push(`${where}: a caller name is 1-32 lower-case letters, digits or '-' (and not "${UPLOADS_OWNER}")`);
      continue;
    }
    const e = entry as { keySha256?: unknown; uploads?: unknown } | null;
    const hash = typeof e?.keySha256 === 'string' ? e.keySha256.toLowerCase() : '';
    if (!/^[0-9a-f]{64}$/.test(hash)) {
      problems.push(`${where}: keySha256 must be the SHA-256 of the caller's function key, as 64 hex digits`);
      continue;
    }
    if (e?.uploads !== undefined && typeof e.uploads !== 'boolean') problems.push(`${where}: uploads must be true or false`);
    if (byKey.has(hash)) problems.push(`${where}: has the same key as ${byKey.get(hash)!.name}; each caller needs a key of its own`);
    byKey.set(hash, { name, readsUploads: e?.uploads === true });
  }
  return byKey;
}

/** The short form `name:sha256[:uploads],…` read as the JSON form's object (parseCallers then checks each entry). */
function callerList(text: string): Record<string, { keySha256: string; uploads?: unknown }> {
  const entries = new Map<string, { keySha256: string; uploads?: unknown }>();
  for (const item of text.split(',').map((t) => t.trim()).filter((t) => t.length > 0)) {
    const [name = '', keySha256 = '', flag, ...rest] = item.split(':').map((t) => t.trim());
    // An unknown third part or a fourth one reaches parseCallers as an uploads value that is not a boolean.
    entries.set(name, { keySha256, ...(flag === undefined ? {} : { uploads: flag === 'uploads' && rest.length === 0 ? true : flag }) });
  }
  return Object.fromEntries(entries);
}

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const DEVELOPMENT_STORAGE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

/** The settings the app reads, for documentation and the deployment test. */
/** The admin console's settings (loadConsoleSettings; the unit test checks this list against its schema). */
const CONSOLE_SETTINGS = ['DIALTONE_CONSOLE_ROLE', 'DIALTONE_CONSOLE_GROUP', 'DIALTONE_CONSOLE_CALLER'] as const;

export const SETTING_NAMES = [...Object.keys(schema.shape), ...CONSOLE_SETTINGS];

/** Settings a deployment to Azure must set (the rest have defaults or are for local use). */
export const AZURE_REQUIRED_SETTINGS = [
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__clientId',
  'AZURE_CLIENT_ID',
  'ServiceBusConnection__fullyQualifiedNamespace',
  'DIALTONE_TASK_HUB',
  'DIALTONE_GRAPH_BASE_URL',
  'DIALTONE_DEADLINE_HOURS',
  'DIALTONE_DEFAULT_USAGE_LOCATION',
  'DIALTONE_SET_USAGE_LOCATION',
  'DIALTONE_DEFAULT_PROFILE',
  'DIALTONE_PROFILES',
  'DIALTONE_CALLERS',
  'DIALTONE_PHONE_NUMBERS',
  'DIALTONE_CHUNK_SIZE',
  'DIALTONE_ASSIGN_PARALLELISM',
  'DIALTONE_GRAPH_WRITES_PER_SECOND',
  'DIALTONE_TEAMS_READS_PER_SECOND',
  'DIALTONE_NUMBER_READS_PER_SECOND',
  'DIALTONE_BUDGET_CONTAINER',
  'DIALTONE_INTAKE_CONTAINER',
  'DIALTONE_REPORTS_CONTAINER',
  'DIALTONE_FLAGS_QUEUE',
  'DIALTONE_TIME_ZONE',
  'DIALTONE_LEAD_DAYS',
  'DIALTONE_SCHEDULE_HORIZON_DAYS',
  'DIALTONE_ACCOUNT_WAIT_HOURS',
  'DIALTONE_CALLBACK_HOSTS',
  'DIALTONE_CALLBACK_SECRET',
] as const;

/** Settings only a local run uses; a deployment to Azure leaves them out. */
export const LOCAL_ONLY_SETTINGS = ['DIALTONE_GRAPH_EXTRA_CA_FILE', 'DIALTONE_GRAPH_ALLOW_LOOPBACK', 'AzureWebJobsStorage', 'ServiceBusConnection', 'DIALTONE_LOCAL_RUNTIME'] as const;

/** Settings of a Graph sign-in with an app registration instead of the managed identity (a deployment to Azure leaves them out). */
export const APP_REGISTRATION_SETTINGS = ['AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_AUTHORITY_HOST'] as const;

/** Who may open the admin console (functions/console.ts), and which integration it acts as. */
export interface ConsoleSettings {
  /**
   * App Service Authentication is on (the platform sets WEBSITE_AUTH_ENABLED=True; Microsoft.Identity.Web's
   * AppServicesAuthenticationInformation reads the same variable). Only then are X-MS-CLIENT-PRINCIPAL headers the
   * platform's own: it removes any a client sends. The local host's stand-in for Easy Auth sets it too.
   */
  readonly signInEnabled: boolean;
  /** The Entra app role (its value) a user needs; DIALTONE_CONSOLE_ROLE, default Dialtone.Admin. */
  readonly role: string;
  /** Or membership of this Entra group (object id) when the token carries group claims; DIALTONE_CONSOLE_GROUP. */
  readonly group: string | undefined;
  /** With DIALTONE_CALLERS: the integration whose batches the console shows and starts (default `console`). */
  readonly caller: string | undefined;
}

const consoleSchema = z.object({
  WEBSITE_AUTH_ENABLED: optionalText,
  DIALTONE_CONSOLE_ROLE: optionalText.pipe(z.string().regex(/^[A-Za-z0-9._-]{1,120}$/, 'must be an app role value: letters, digits, . _ or -').optional()).transform((v) => v ?? 'Dialtone.Admin'),
  DIALTONE_CONSOLE_GROUP: optionalText.pipe(z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be an Entra group object id (a GUID)').optional()).transform((v) => v?.toLowerCase()),
  DIALTONE_CONSOLE_CALLER: optionalText.pipe(z.string().regex(CALLER_NAME, 'must be an integration name: 1-32 lower-case letters, digits or -').refine((v) => v !== UPLOADS_OWNER, `must not be "${UPLOADS_OWNER}"`).optional()),
});

export const CONSOLE_SETTING_NAMES = Object.keys(consoleSchema.shape).filter((k) => k !== 'WEBSITE_AUTH_ENABLED');

export function loadConsoleSettings(env: Environment = process.env): ConsoleSettings {
  const parsed = consoleSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const s = parsed.data;
  return { signInEnabled: s.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true', role: s.DIALTONE_CONSOLE_ROLE, group: s.DIALTONE_CONSOLE_GROUP, caller: s.DIALTONE_CONSOLE_CALLER };
}
