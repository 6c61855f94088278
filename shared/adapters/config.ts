// Configuration, read once from app settings at start-up and validated as a whole: an invalid setting stops the app
// with one message that names every bad setting, instead of a failure deep inside a run.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normaliseUsageLocation } from '../domain/countries';
import type { RowRights } from '../domain/entitlements';
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
  /** Raw inputs and callback registrations: a container people are not given (shared/adapters/batch-store.ts). */
  readonly privateContainer: string;
  readonly flagsQueue: string;
  readonly serviceBus: { readonly fullyQualifiedNamespace: string } | { readonly connectionString: string } | undefined;
  readonly storage:
    | { readonly connectionString: string }
    | { readonly blobServiceUri: string; readonly queueServiceUri: string; readonly clientId: string | undefined };
  readonly taskHub: string;
  /** Batch lists a minute per caller (GET /api/batches); past it, 429 with Retry-After. */
  readonly listPerMinute: number;
  /** The data storage account's name: an upload's Event Grid event must come from its topic. */
  readonly dataAccount: string;
  /** The integrations allowed to call the API, by the SHA-256 of their function key; undefined = one integration. */
  readonly callers: CallerDirectory | undefined;
  /** How start dates are read and scheduled (DIALTONE_TIME_ZONE, DIALTONE_LEAD_DAYS, DIALTONE_SCHEDULE_HORIZON_DAYS). */
  readonly schedule: ScheduleSettings;
  /** How long after its scheduled time a row with a start date waits for its account to exist. */
  readonly accountWaitHours: number;
  /** The caller when DIALTONE_CALLERS is not set: every key holder is this one integration. */
  readonly singleCaller: Caller;
  /**
   * Each integration's callback signing secret, by caller name: DIALTONE_CALLBACK_SECRET_<NAME> (or, without
   * DIALTONE_CALLERS, DIALTONE_CALLBACK_SECRET for the single caller). An integration without one gets no callback.
   */
  readonly callbackSecrets: ReadonlyMap<string, string>;
  /** What rows of file uploads may ask for (DIALTONE_UPLOAD_PROFILES, DIALTONE_UPLOAD_SKUS). */
  readonly uploadRights: RowRights;
  /** Part numbers a row's own `skus` may name besides the Teams phone and meeting SKUs (DIALTONE_EXTRA_ROW_SKUS). */
  readonly extraRowSkus: readonly string[];
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
  /** May also cancel and recheck them (`uploads-manage`); implies readsUploads. */
  readonly managesUploads: boolean;
  /** Hosts its batches' callbackUrl may name (lower case, `host` or `host:port`); empty: no callbacks. */
  readonly callbackHosts: readonly string[];
  /** The profiles and own SKUs its rows may ask for. */
  readonly rights: RowRights;
}

export type { RowRights };

/** Callers by the lower-case hex SHA-256 of their function key. */
export type CallerDirectory = ReadonlyMap<string, Caller>;

/** A caller's name is a folder and part of an instance id: short, lower case, and never the uploads' own owner. */
export const CALLER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const UPLOADS_OWNER = 'uploads';
export const SINGLE_CALLER = 'default';
/** The admin console's own integration name (functions/console.ts): no key of DIALTONE_CALLERS may take it. */
export const CONSOLE_OWNER = 'console';

/** The app setting that holds an integration's callback secret (a value, or a Key Vault reference). */
export function callbackSecretSetting(caller: string): string {
  return `DIALTONE_CALLBACK_SECRET_${caller.toUpperCase().replace(/-/g, '_')}`;
}

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
export const GRAPH_CLOUD_HOSTS: readonly string[] = [
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn',
];
const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];
/**
 * The one cloud with the Teams telephone number APIs: each of their pages lists the global service only in its
 * national cloud table (learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber and
 * its list, get and operation pages).
 */
const NUMBER_API_HOST = 'graph.microsoft.com';
/** Service Bus namespace suffixes of the Azure clouds (environment().suffixes.serviceBusEndpoint in each). */
const SERVICE_BUS_SUFFIXES = ['servicebus.windows.net', 'servicebus.usgovcloudapi.net', 'servicebus.chinacloudapi.cn'];
const isServiceBusNamespace = (v: string) =>
  SERVICE_BUS_SUFFIXES.some((x) => v.endsWith(`.${x}`) && /^[A-Za-z0-9-]+$/.test(v.slice(0, -x.length - 1)));
/**
 * Microsoft Entra's authority hosts, one per cloud ("National clouds", learn.microsoft.com/entra/identity-platform/
 * authentication-national-cloud): global, US Government, China (21Vianet). MSAL discovers their instances itself.
 */
export const AUTHORITY_HOSTS: readonly string[] = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
];

const CALLBACK_HOST_RULE = /^[a-z0-9.-]+(:\d{1,5})?$/;
const CONTAINER = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const intSetting = (def: number, min: number, max: number) =>
  optionalText
    .pipe(z.coerce.number<string | undefined>().int().min(min).max(max).optional())
    .transform((v) => v ?? def);

const booleanSetting = (def: boolean) =>
  optionalText
    .pipe(z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE'], { error: 'must be true or false' }).optional())
    .transform((v) => (v === undefined ? def : v.toLowerCase() === 'true'));

/** Why a Graph base URL is refused, or undefined when it is a Graph cloud's root (or allowed loopback). */
function graphBaseUrlProblem(value: string, allowLoopback: boolean): string | undefined {
  const url = new URL(value);
  const where = `${url.hostname}${url.port ? `:${url.port}` : ''}`;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return 'must be a bare https://host (no path, query, fragment or credentials); the app adds /v1.0 itself';
  }
  if (LOOPBACK_HOSTS.includes(url.hostname)) {
    return allowLoopback
      ? undefined
      : `${where} is loopback, which only the local runtime may use (it sets DIALTONE_GRAPH_ALLOW_LOOPBACK=true)`;
  }
  if (!GRAPH_CLOUD_HOSTS.includes(url.hostname) || url.port) {
    return `${where} is not a Microsoft Graph cloud; use one of ${GRAPH_CLOUD_HOSTS.map((h) => `https://${h}`).join(', ')}`;
  }
  return undefined;
}

const schema = z.object({
  DIALTONE_GRAPH_BASE_URL: optionalText
    .pipe(z.url({ protocol: /^https$/ }).optional())
    .transform((v) => (v ?? 'https://graph.microsoft.com').replace(/\/+$/, '')),
  DIALTONE_GRAPH_ALLOW_LOOPBACK: booleanSetting(false),
  DIALTONE_GRAPH_EXTRA_CA_FILE: optionalText,
  AZURE_CLIENT_ID: optionalText,
  AZURE_TENANT_ID: optionalText.pipe(
    z
      .string()
      .regex(
        /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
        'must be the tenant id (a GUID)',
      )
      .optional(),
  ),
  AZURE_CLIENT_SECRET: optionalText,
  AZURE_CLIENT_CERTIFICATE_PATH: optionalText,
  AZURE_AUTHORITY_HOST: optionalText,
  DIALTONE_DEADLINE_HOURS: optionalText
    .pipe(z.coerce.number<string | undefined>().positive().max(168).optional())
    .transform((v) => v ?? 24),
  DIALTONE_DEFAULT_USAGE_LOCATION: optionalText
    .pipe(
      z
        .string()
        .refine((v) => normaliseUsageLocation(v) !== undefined, 'must be an ISO 3166-1 two-letter country code')
        .optional(),
    )
    .transform((v) => (v ? normaliseUsageLocation(v) : undefined)),
  DIALTONE_SET_USAGE_LOCATION: booleanSetting(true),
  DIALTONE_DIRECT_FOR_GROUP_PLANS: booleanSetting(false),
  DIALTONE_DEFAULT_PROFILE: optionalText.transform((v) => (v ?? 'phone-domestic').toLowerCase()),
  DIALTONE_PROFILES: optionalText,
  DIALTONE_PHONE_NUMBERS: optionalText
    .pipe(z.enum(PHONE_NUMBER_POLICIES, { message: 'must be row, pool or off' }).optional())
    .transform((v) => v ?? 'row'),
  DIALTONE_CHUNK_SIZE: intSetting(200, 1, 1000),
  DIALTONE_ASSIGN_PARALLELISM: intSetting(10, 1, 50),
  DIALTONE_GRAPH_WRITES_PER_SECOND: intSetting(18, 1, 20),
  DIALTONE_TEAMS_READS_PER_SECOND: intSetting(10, 1, 30),
  DIALTONE_NUMBER_READS_PER_SECOND: intSetting(5, 1, 29),
  DIALTONE_BUDGET_CONTAINER: optionalText
    .pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional())
    .transform((v) => v ?? 'dialtone-budgets'),
  DIALTONE_INTAKE_CONTAINER: optionalText
    .pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional())
    .transform((v) => v ?? 'license-requests'),
  DIALTONE_REPORTS_CONTAINER: optionalText
    .pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional())
    .transform((v) => v ?? 'license-reports'),
  DIALTONE_PRIVATE_CONTAINER: optionalText
    .pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional())
    .transform((v) => v ?? 'dialtone-private'),
  DIALTONE_FLAGS_QUEUE: optionalText
    .pipe(z.string().regex(CONTAINER, 'must be a valid queue name').optional())
    .transform((v) => v ?? 'license-flags'),
  ServiceBusConnection__fullyQualifiedNamespace: optionalText.pipe(
    z
      .string()
      .refine(
        isServiceBusNamespace,
        `must look like <name>.${SERVICE_BUS_SUFFIXES[0]} (in a national cloud: <name>.${SERVICE_BUS_SUFFIXES.slice(1).join(' or <name>.')})`,
      )
      .optional(),
  ),
  ServiceBusConnection: optionalText,
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__blobServiceUri: optionalText.pipe(z.url().optional()),
  AzureWebJobsStorage__queueServiceUri: optionalText.pipe(z.url().optional()),
  AzureWebJobsStorage__clientId: optionalText,
  DIALTONE_CALLERS: optionalText,
  DIALTONE_TIME_ZONE: optionalText
    .pipe(z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC').optional())
    .transform((v) => v ?? 'UTC'),
  DIALTONE_LEAD_DAYS: intSetting(1, 0, 30),
  DIALTONE_SCHEDULE_HORIZON_DAYS: intSetting(120, 1, 366),
  DIALTONE_ACCOUNT_WAIT_HOURS: optionalText
    .pipe(z.coerce.number<string | undefined>().positive().max(168).optional())
    .transform((v) => v ?? 24),
  DIALTONE_CALLBACK_HOSTS: optionalText
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(CALLBACK_HOST_RULE, 'must be a comma-separated list of host names (api.hr.example.com)'),
      ),
    ),
  DIALTONE_CALLBACK_SECRET: optionalText.pipe(
    z.string().min(32, 'must be at least 32 characters (a random secret shared with the HR system)').optional(),
  ),
  DIALTONE_LIST_PER_MINUTE: intSetting(60, 1, 6000),
  DIALTONE_UPLOAD_PROFILES: optionalText.transform((v) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((p) => p.trim().toLowerCase())
          .filter(Boolean),
  ),
  DIALTONE_UPLOAD_SKUS: booleanSetting(true),
  DIALTONE_EXTRA_ROW_SKUS: optionalText
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((p) => p.trim().toUpperCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(/^[A-Z0-9_()/.,-]{1,100}$/, 'must be a comma-separated list of part numbers (MCOEV,MCOPSTN1)'),
      ),
    ),
  DIALTONE_LOCAL_RUNTIME: optionalText.pipe(z.enum(['true', 'false']).optional()).transform((v) => v === 'true'),
  DIALTONE_TASK_HUB: optionalText
    .pipe(
      z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/, 'must be 3-45 letters and digits, starting with a letter')
        .optional(),
    )
    .transform((v) => v ?? 'dialtone'),
});

export type Environment = Readonly<Record<string, string | undefined>>;

export function loadConfig(
  env: Environment = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): AppConfig {
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
    problems.push(
      'DIALTONE_DEFAULT_USAGE_LOCATION: is set, but DIALTONE_SET_USAGE_LOCATION is false, so the app may not set usage locations; clear one of them',
    );
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
  const graphHost = graphProblem ? undefined : new URL(s.DIALTONE_GRAPH_BASE_URL).hostname;
  if (graphHost && graphHost !== NUMBER_API_HOST && !LOOPBACK_HOSTS.includes(graphHost)) {
    const numbering = [
      ...(s.DIALTONE_PHONE_NUMBERS !== 'off' ? [`DIALTONE_PHONE_NUMBERS is ${s.DIALTONE_PHONE_NUMBERS}`] : []),
      ...[...merged.phoneNumbers]
        .filter(([, p]) => p !== 'off')
        .map(([name, p]) => `profile "${name}" has phoneNumbers ${p}`),
    ];
    if (numbering.length > 0) {
      problems.push(
        `DIALTONE_PHONE_NUMBERS: ${numbering.join('; ')}, but ${graphHost} has no Teams telephone number APIs (Microsoft Graph offers them in the global service only); set DIALTONE_PHONE_NUMBERS=off (azd env set DIALTONE_PHONE_NUMBERS off) and no profile phoneNumbers in this cloud`,
      );
    }
  }
  if (!merged.profiles.has(s.DIALTONE_DEFAULT_PROFILE)) {
    problems.push(
      `DIALTONE_DEFAULT_PROFILE: "${s.DIALTONE_DEFAULT_PROFILE}" is not a profile; known: ${[...merged.profiles.keys()].sort().join(', ')}`,
    );
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
      if (!pem.includes('PRIVATE KEY') || !pem.includes('BEGIN CERTIFICATE'))
        problems.push('AZURE_CLIENT_CERTIFICATE_PATH: must be a PEM file holding the private key and its certificate');
    } catch {
      problems.push(`AZURE_CLIENT_CERTIFICATE_PATH: cannot read ${s.AZURE_CLIENT_CERTIFICATE_PATH}`);
    }
  }
  let storage: AppConfig['storage'] | undefined;
  if (s.AzureWebJobsStorage)
    storage = {
      connectionString:
        s.AzureWebJobsStorage === 'UseDevelopmentStorage=true' ? DEVELOPMENT_STORAGE : s.AzureWebJobsStorage,
    };
  else if (s.AzureWebJobsStorage__blobServiceUri && s.AzureWebJobsStorage__queueServiceUri) {
    storage = {
      blobServiceUri: s.AzureWebJobsStorage__blobServiceUri,
      queueServiceUri: s.AzureWebJobsStorage__queueServiceUri,
      clientId: s.AzureWebJobsStorage__clientId,
    };
  } else
    problems.push(
      'AzureWebJobsStorage: set a connection string, or AzureWebJobsStorage__blobServiceUri and AzureWebJobsStorage__queueServiceUri for a managed identity',
    );
  if (s.ServiceBusConnection__fullyQualifiedNamespace && s.ServiceBusConnection) {
    problems.push(
      'ServiceBusConnection: set either ServiceBusConnection__fullyQualifiedNamespace (managed identity) or ServiceBusConnection (connection string), not both',
    );
  }
  const known = new Set(merged.profiles.keys());
  const callers = s.DIALTONE_CALLERS ? parseCallers(s.DIALTONE_CALLERS, known, problems) : undefined;
  const callbackSecrets = new Map<string, string>();
  if (callers) {
    // Each integration signs with its own secret and names its own hosts: a shared pair would let one integration
    // send another's receiver a validly signed callback.
    if (s.DIALTONE_CALLBACK_HOSTS.length > 0)
      problems.push(
        'DIALTONE_CALLBACK_HOSTS: with DIALTONE_CALLERS each integration names its own callback hosts (its "callbackHosts", or @host in the short form); clear this shared list',
      );
    // DIALTONE_CALLBACK_SECRET may hold every integration's secret as one JSON object (one Key Vault secret, which
    // the Bicep's callbackSecretUri makes a Key Vault reference); a single string would be shared, and is refused.
    const perCaller = s.DIALTONE_CALLBACK_SECRET ? secretsByCaller(s.DIALTONE_CALLBACK_SECRET) : {};
    if (perCaller === undefined)
      problems.push(
        `DIALTONE_CALLBACK_SECRET: with DIALTONE_CALLERS each integration has its own secret (${callbackSecretSetting('<name>')}, or here a JSON object { "<name>": "<secret>" }); a single secret would be shared by every integration`,
      );
    const names = new Set([...callers.values()].map((c) => c.name));
    for (const name of Object.keys(perCaller ?? {}))
      if (!names.has(name))
        problems.push(`DIALTONE_CALLBACK_SECRET: "${name.slice(0, 40)}" is no integration of DIALTONE_CALLERS`);
    for (const caller of callers.values()) {
      const setting = callbackSecretSetting(caller.name);
      const own = optionalSecret(env[setting]);
      const listed = perCaller?.[caller.name];
      if (own !== undefined && listed !== undefined)
        problems.push(`${setting}: ${caller.name}'s secret is also in DIALTONE_CALLBACK_SECRET; keep one`);
      const secret = own ?? listed;
      if (secret !== undefined && secret.length < 32)
        problems.push(
          `${own !== undefined ? setting : `DIALTONE_CALLBACK_SECRET.${caller.name}`}: must be at least 32 characters (a random secret shared with ${caller.name} only)`,
        );
      else if (secret !== undefined) callbackSecrets.set(caller.name, secret);
    }
  } else if (s.DIALTONE_CALLBACK_SECRET) callbackSecrets.set(SINGLE_CALLER, s.DIALTONE_CALLBACK_SECRET);
  const uploadProfiles = s.DIALTONE_UPLOAD_PROFILES;
  for (const p of uploadProfiles ?? [])
    if (!known.has(p))
      problems.push(
        `DIALTONE_UPLOAD_PROFILES: "${p.slice(0, 64)}" is not a profile; known: ${[...known].sort().join(', ')}`,
      );
  if (new Set([s.DIALTONE_PRIVATE_CONTAINER, s.DIALTONE_REPORTS_CONTAINER, s.DIALTONE_INTAKE_CONTAINER]).size < 3)
    problems.push(
      'DIALTONE_PRIVATE_CONTAINER: must differ from the reports and intake containers, which people are given',
    );
  const graphSignIn = graphSignInOf(s, problems);
  if (s.DIALTONE_TEAMS_READS_PER_SECOND + s.DIALTONE_NUMBER_READS_PER_SECOND > 30) {
    problems.push(
      `DIALTONE_NUMBER_READS_PER_SECOND: with DIALTONE_TEAMS_READS_PER_SECOND it must stay within Graph's 30 Teams GETs a second per app and tenant (${s.DIALTONE_TEAMS_READS_PER_SECOND} + ${s.DIALTONE_NUMBER_READS_PER_SECOND})`,
    );
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
    privateContainer: s.DIALTONE_PRIVATE_CONTAINER,
    flagsQueue: s.DIALTONE_FLAGS_QUEUE,
    serviceBus: s.ServiceBusConnection__fullyQualifiedNamespace
      ? { fullyQualifiedNamespace: s.ServiceBusConnection__fullyQualifiedNamespace }
      : s.ServiceBusConnection
        ? { connectionString: s.ServiceBusConnection }
        : undefined,
    storage,
    taskHub: s.DIALTONE_TASK_HUB,
    dataAccount: storageAccountName(storage),
    listPerMinute: s.DIALTONE_LIST_PER_MINUTE,
    callers,
    schedule: {
      timeZone: s.DIALTONE_TIME_ZONE,
      leadDays: s.DIALTONE_LEAD_DAYS,
      horizonDays: s.DIALTONE_SCHEDULE_HORIZON_DAYS,
    },
    accountWaitHours: s.DIALTONE_ACCOUNT_WAIT_HOURS,
    singleCaller: {
      name: SINGLE_CALLER,
      readsUploads: true,
      managesUploads: true,
      callbackHosts: s.DIALTONE_CALLBACK_HOSTS,
      rights: { ownSkus: true },
    },
    callbackSecrets,
    uploadRights: { ...(uploadProfiles ? { profiles: uploadProfiles } : {}), ownSkus: s.DIALTONE_UPLOAD_SKUS },
    extraRowSkus: s.DIALTONE_EXTRA_ROW_SKUS,
    localRuntime: s.DIALTONE_LOCAL_RUNTIME,
  };
}

/**
 * The Entra authority host AZURE_AUTHORITY_HOST names (its origin, and whether it is one of Entra's own clouds), or
 * the global one when it is unset; a problem when it is not a bare https host of Entra (loopback only locally).
 */
function authorityOf(s: z.infer<typeof schema>, problems: string[]): { host: string; known: boolean } {
  if (s.AZURE_AUTHORITY_HOST === undefined) return { host: 'https://login.microsoftonline.com', known: true };
  let url: URL;
  try {
    url = new URL(s.AZURE_AUTHORITY_HOST);
  } catch {
    problems.push('AZURE_AUTHORITY_HOST: is not a URL');
    return { host: 'https://login.microsoftonline.com', known: true };
  }
  const known = AUTHORITY_HOSTS.includes(url.hostname) && !url.port;
  if (
    url.protocol !== 'https:' ||
    url.username ||
    url.password ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash
  )
    problems.push('AZURE_AUTHORITY_HOST: must be a bare https://host, the authority without the tenant');
  else if (LOOPBACK_HOSTS.includes(url.hostname) ? !s.DIALTONE_GRAPH_ALLOW_LOOPBACK : !known) {
    problems.push(
      `AZURE_AUTHORITY_HOST: ${url.host} is not a Microsoft Entra authority; use one of ${AUTHORITY_HOSTS.map((h) => `https://${h}`).join(', ')} (loopback only on the local runtime)`,
    );
  }
  return { host: url.origin, known };
}

/** The Graph sign-in the settings describe, or the managed identity; a problem for each setting that does not fit. */
function graphSignInOf(s: z.infer<typeof schema>, problems: string[]): GraphSignIn {
  // The deployment sets the cloud's authority (infra/app/api.bicep); a managed identity gets its tokens from the
  // platform's endpoint and does not use it, so it is only checked to be one of Entra's.
  const authority = authorityOf(s, problems);
  if (s.AZURE_CLIENT_SECRET === undefined && s.AZURE_CLIENT_CERTIFICATE_PATH === undefined)
    return { kind: 'managedIdentity', clientId: s.AZURE_CLIENT_ID };
  if (s.AZURE_CLIENT_SECRET !== undefined && s.AZURE_CLIENT_CERTIFICATE_PATH !== undefined)
    problems.push('AZURE_CLIENT_SECRET: set either it or AZURE_CLIENT_CERTIFICATE_PATH, not both');
  if (!s.AZURE_TENANT_ID)
    problems.push(
      'AZURE_TENANT_ID: an app registration (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH) needs its tenant id',
    );
  if (!s.AZURE_CLIENT_ID)
    problems.push(
      'AZURE_CLIENT_ID: an app registration (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH) needs its application (client) id',
    );
  return {
    kind: 'appRegistration',
    tenantId: s.AZURE_TENANT_ID ?? '',
    clientId: s.AZURE_CLIENT_ID ?? '',
    ...(s.AZURE_CLIENT_SECRET !== undefined ? { secret: s.AZURE_CLIENT_SECRET } : {}),
    ...(s.AZURE_CLIENT_CERTIFICATE_PATH !== undefined ? { certificatePath: s.AZURE_CLIENT_CERTIFICATE_PATH } : {}),
    authorityHost: authority.host,
    instanceDiscovery: authority.known,
  };
}

/**
 * DIALTONE_CALLERS: `{ "<name>": { "keySha256": "<64 hex>", "uploads"?: true | "read" | "manage", "callbackHosts"?:
 * ["host[:port]"], "profiles"?: ["<profile>"], "skus"?: true } }`, one entry per integration, or the same as
 * `<name>:<64 hex>[:uploads|:uploads-manage][:skus][:profiles=<p>+<p>][@host+host:port]` entries separated by
 * commas. The short form has no quotes, so it passes through an azd environment value into the deployment's
 * parameters file (azd substitutes values into that JSON unescaped), and the Bicep sets it with the other app
 * settings: set by hand, the next `azd provision` would remove it. `uploads` (or `read`) lets the integration read
 * the uploads' batches, `manage` also cancel and recheck them; `profiles` limits the profiles its rows may use (all
 * by default); `skus` lets its rows list their own part numbers (off by default).
 */
function parseCallers(text: string, profiles: ReadonlySet<string>, problems: string[]): CallerDirectory | undefined {
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
    if (!CALLER_NAME.test(name) || name === UPLOADS_OWNER || name === CONSOLE_OWNER) {
      // "console" is the admin console's own integration: a key named so would share the console's batches.
      problems.push(
        `${where}: a caller name is 1-32 lower-case letters, digits or '-' (and not "${UPLOADS_OWNER}" or "${CONSOLE_OWNER}", which are the uploads' and the console's own)`,
      );
      continue;
    }
    const e = (entry ?? {}) as {
      keySha256?: unknown;
      uploads?: unknown;
      callbackHosts?: unknown;
      profiles?: unknown;
      skus?: unknown;
    };
    const unknown = Object.keys(e).filter(
      (k) => !['keySha256', 'uploads', 'callbackHosts', 'profiles', 'skus'].includes(k),
    );
    if (unknown.length > 0)
      problems.push(
        `${where}: unknown field ${unknown
          .slice(0, 3)
          .map((k) => `"${k.slice(0, 40)}"`)
          .join(', ')}; known: keySha256, uploads, callbackHosts, profiles, skus`,
      );
    const hash = typeof e.keySha256 === 'string' ? e.keySha256.toLowerCase() : '';
    if (!/^[0-9a-f]{64}$/.test(hash)) {
      problems.push(`${where}: keySha256 must be the SHA-256 of the caller's function key, as 64 hex digits`);
      continue;
    }
    const uploads = e.uploads === true ? 'read' : e.uploads;
    if (uploads !== undefined && uploads !== false && uploads !== 'read' && uploads !== 'manage')
      problems.push(`${where}: uploads must be true, "read" or "manage"`);
    const hosts = e.callbackHosts ?? [];
    const hostList = Array.isArray(hosts)
      ? hosts.map((h) => (typeof h === 'string' ? h.trim().toLowerCase() : ''))
      : [];
    if (!Array.isArray(hosts) || hostList.some((h) => !CALLBACK_HOST_RULE.test(h)))
      problems.push(
        `${where}: callbackHosts must be a list of host names, each with an optional :port (hr.example.com)`,
      );
    const allowed = e.profiles;
    const profileList = Array.isArray(allowed)
      ? allowed.map((p) => (typeof p === 'string' ? p.trim().toLowerCase() : ''))
      : undefined;
    if (allowed !== undefined && (!profileList || profileList.length === 0))
      problems.push(`${where}: profiles must be a non-empty list of profile names (leave it out for every profile)`);
    for (const p of profileList ?? [])
      if (!profiles.has(p))
        problems.push(
          `${where}: profile "${p.slice(0, 64)}" does not exist; known: ${[...profiles].sort().join(', ')}`,
        );
    if (e.skus !== undefined && typeof e.skus !== 'boolean') problems.push(`${where}: skus must be true or false`);
    if (byKey.has(hash))
      problems.push(`${where}: has the same key as ${byKey.get(hash)!.name}; each caller needs a key of its own`);
    const rights: RowRights = {
      ...(profileList && profileList.length > 0 ? { profiles: profileList } : {}),
      ownSkus: e.skus === true,
    };
    byKey.set(hash, {
      name,
      readsUploads: uploads === 'read' || uploads === 'manage',
      managesUploads: uploads === 'manage',
      callbackHosts: hostList,
      rights,
    });
  }
  return byKey;
}

/** The short form (see parseCallers) read as the JSON form's object; parseCallers then checks each entry. */
function callerList(text: string): Record<string, Record<string, unknown>> {
  const entries = new Map<string, Record<string, unknown>>();
  for (const item of text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)) {
    const at = item.indexOf('@');
    const head = at < 0 ? item : item.slice(0, at);
    const [name = '', keySha256 = '', ...flags] = head.split(':').map((t) => t.trim());
    const entry: Record<string, unknown> = { keySha256 };
    if (at >= 0)
      entry['callbackHosts'] = item
        .slice(at + 1)
        .split('+')
        .map((h) => h.trim());
    for (const flag of flags) {
      if (flag === 'uploads') entry['uploads'] = 'read';
      else if (flag === 'uploads-manage') entry['uploads'] = 'manage';
      else if (flag === 'skus') entry['skus'] = true;
      else if (flag.startsWith('profiles=')) entry['profiles'] = flag.slice('profiles='.length).split('+');
      // Anything else reaches parseCallers as a value it refuses, naming the entry.
      else entry['uploads'] = flag;
    }
    entries.set(name, entry);
  }
  return Object.fromEntries(entries);
}

/** The account a storage setting names: AccountName= of a connection string, else the first label of the blob host. */
export function storageAccountName(storage: AppConfig['storage']): string {
  if ('connectionString' in storage) return /(?:^|;)\s*AccountName=([^;]+)/i.exec(storage.connectionString)?.[1] ?? '';
  const url = new URL(storage.blobServiceUri);
  // Azurite and other emulators put the account in the path (http://127.0.0.1:10000/devstoreaccount1).
  return /^\d+\.\d+\.\d+\.\d+$|^localhost$/.test(url.hostname)
    ? (url.pathname.split('/')[1] ?? '')
    : (url.hostname.split('.')[0] ?? '');
}

/** DIALTONE_CALLBACK_SECRET as `{ "<integration>": "<secret>" }`, or undefined when it is not such an object. */
function secretsByCaller(text: string): Record<string, string> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (
      typeof v !== 'object' ||
      v === null ||
      Array.isArray(v) ||
      !Object.values(v).every((x) => typeof x === 'string')
    )
      return undefined;
    return v as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** A secret setting's value, or undefined when it is unset or blank. */
function optionalSecret(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
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
export const LOCAL_ONLY_SETTINGS = [
  'DIALTONE_GRAPH_EXTRA_CA_FILE',
  'DIALTONE_GRAPH_ALLOW_LOOPBACK',
  'AzureWebJobsStorage',
  'ServiceBusConnection',
  'DIALTONE_LOCAL_RUNTIME',
] as const;

/** Settings of a Graph sign-in with an app registration instead of the managed identity (a deployment to Azure leaves them out). */
export const APP_REGISTRATION_SETTINGS = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_AUTHORITY_HOST',
] as const;

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
  DIALTONE_CONSOLE_ROLE: optionalText
    .pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,120}$/, 'must be an app role value: letters, digits, . _ or -')
        .optional(),
    )
    .transform((v) => v ?? 'Dialtone.Admin'),
  DIALTONE_CONSOLE_GROUP: optionalText
    .pipe(
      z
        .string()
        .regex(
          /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
          'must be an Entra group object id (a GUID)',
        )
        .optional(),
    )
    .transform((v) => v?.toLowerCase()),
  DIALTONE_CONSOLE_CALLER: optionalText.pipe(
    z
      .string()
      .regex(CALLER_NAME, 'must be an integration name: 1-32 lower-case letters, digits or -')
      .refine((v) => v !== UPLOADS_OWNER, `must not be "${UPLOADS_OWNER}"`)
      .optional(),
  ),
});

export const CONSOLE_SETTING_NAMES = Object.keys(consoleSchema.shape).filter((k) => k !== 'WEBSITE_AUTH_ENABLED');

export function loadConsoleSettings(env: Environment = process.env): ConsoleSettings {
  const parsed = consoleSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const s = parsed.data;
  return {
    signInEnabled: s.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true',
    role: s.DIALTONE_CONSOLE_ROLE,
    group: s.DIALTONE_CONSOLE_GROUP,
    caller: s.DIALTONE_CONSOLE_CALLER,
  };
}
