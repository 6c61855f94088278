// Configuration, read once from app settings at start-up and validated as a whole: an invalid setting stops the app
// with one message that names every bad setting, instead of a failure deep inside a run.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normaliseUsageLocation } from '../domain/countries';
import { PHONE_NUMBER_POLICIES, type PhoneNumberPolicy } from '../domain/phone-numbers';
import { mergeProfiles, type ProfilePhoneNumbers, type Profiles } from '../domain/profiles';

export interface AppConfig {
  readonly graphBaseUrl: string;
  /** PEM of an extra certificate authority to trust for Graph (TLS-inspecting proxies; the local simulator). */
  readonly graphExtraCaPem: string | undefined;
  readonly managedIdentityClientId: string | undefined;
  readonly deadlineHours: number;
  readonly defaultUsageLocation: string | undefined;
  readonly defaultProfile: string;
  readonly profiles: Profiles;
  /** Whether users get a phone number: `row` (default), `pool` or `off`; profiles may set their own. */
  readonly phoneNumbers: PhoneNumberPolicy;
  readonly profilePhoneNumbers: ProfilePhoneNumbers;
  readonly chunkSize: number;
  readonly assignParallelism: number;
  /** Writes per second the app allows itself against Graph's 3,000 per 150 s per app and tenant. */
  readonly graphWritesPerSecond: number;
  readonly intakeContainer: string;
  readonly reportsContainer: string;
  readonly flagsQueue: string;
  readonly serviceBus: { readonly fullyQualifiedNamespace: string } | { readonly connectionString: string } | undefined;
  readonly storage: { readonly connectionString: string } | { readonly blobServiceUri: string; readonly queueServiceUri: string; readonly clientId: string | undefined };
  readonly taskHub: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`dialtone configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const CONTAINER = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const optionalText = z.string().trim().optional().transform((v) => (v === '' ? undefined : v));
const intSetting = (def: number, min: number, max: number) =>
  optionalText.pipe(z.coerce.number<string | undefined>().int().min(min).max(max).optional()).transform((v) => v ?? def);

const schema = z.object({
  DIALTONE_GRAPH_BASE_URL: optionalText.pipe(z.url({ protocol: /^https$/ }).optional()).transform((v) => (v ?? 'https://graph.microsoft.com').replace(/\/+$/, '')),
  DIALTONE_GRAPH_EXTRA_CA_FILE: optionalText,
  AZURE_CLIENT_ID: optionalText,
  DIALTONE_DEADLINE_HOURS: optionalText.pipe(z.coerce.number<string | undefined>().positive().max(168).optional()).transform((v) => v ?? 24),
  DIALTONE_DEFAULT_USAGE_LOCATION: optionalText.pipe(z.string().refine((v) => normaliseUsageLocation(v) !== undefined, 'must be an ISO 3166-1 two-letter country code').optional()).transform((v) => (v ? normaliseUsageLocation(v) : undefined)),
  DIALTONE_DEFAULT_PROFILE: optionalText.transform((v) => (v ?? 'phone-domestic').toLowerCase()),
  DIALTONE_PROFILES: optionalText,
  DIALTONE_PHONE_NUMBERS: optionalText.pipe(z.enum(PHONE_NUMBER_POLICIES, { message: 'must be row, pool or off' }).optional()).transform((v) => v ?? 'row'),
  DIALTONE_CHUNK_SIZE: intSetting(200, 1, 1000),
  DIALTONE_ASSIGN_PARALLELISM: intSetting(10, 1, 50),
  DIALTONE_GRAPH_WRITES_PER_SECOND: intSetting(18, 1, 20),
  DIALTONE_INTAKE_CONTAINER: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional()).transform((v) => v ?? 'license-requests'),
  DIALTONE_REPORTS_CONTAINER: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid blob container name').optional()).transform((v) => v ?? 'license-reports'),
  DIALTONE_FLAGS_QUEUE: optionalText.pipe(z.string().regex(CONTAINER, 'must be a valid queue name').optional()).transform((v) => v ?? 'license-flags'),
  ServiceBusConnection__fullyQualifiedNamespace: optionalText.pipe(z.string().regex(/^[A-Za-z0-9-]+\.servicebus\.windows\.net$/, 'must look like <name>.servicebus.windows.net').optional()),
  ServiceBusConnection: optionalText,
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__blobServiceUri: optionalText.pipe(z.url().optional()),
  AzureWebJobsStorage__queueServiceUri: optionalText.pipe(z.url().optional()),
  AzureWebJobsStorage__clientId: optionalText,
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
  if (!merged.profiles[s.DIALTONE_DEFAULT_PROFILE]) {
    problems.push(`DIALTONE_DEFAULT_PROFILE: "${s.DIALTONE_DEFAULT_PROFILE}" is not a profile; known: ${Object.keys(merged.profiles).sort().join(', ')}`);
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
  let storage: AppConfig['storage'] | undefined;
  if (s.AzureWebJobsStorage) storage = { connectionString: s.AzureWebJobsStorage === 'UseDevelopmentStorage=true' ? DEVELOPMENT_STORAGE : s.AzureWebJobsStorage };
  else if (s.AzureWebJobsStorage__blobServiceUri && s.AzureWebJobsStorage__queueServiceUri) {
    storage = { blobServiceUri: s.AzureWebJobsStorage__blobServiceUri, queueServiceUri: s.AzureWebJobsStorage__queueServiceUri, clientId: s.AzureWebJobsStorage__clientId };
  } else problems.push('AzureWebJobsStorage: set a connection string, or AzureWebJobsStorage__blobServiceUri and AzureWebJobsStorage__queueServiceUri for a managed identity');
  if (s.ServiceBusConnection__fullyQualifiedNamespace && s.ServiceBusConnection) {
    problems.push('ServiceBusConnection: set either ServiceBusConnection__fullyQualifiedNamespace (managed identity) or ServiceBusConnection (connection string), not both');
  }
  if (problems.length > 0 || !storage) throw new ConfigError(problems);
  return {
    graphBaseUrl: s.DIALTONE_GRAPH_BASE_URL,
    graphExtraCaPem: ca,
    managedIdentityClientId: s.AZURE_CLIENT_ID,
    deadlineHours: s.DIALTONE_DEADLINE_HOURS,
    defaultUsageLocation: s.DIALTONE_DEFAULT_USAGE_LOCATION,
    defaultProfile: s.DIALTONE_DEFAULT_PROFILE,
    profiles: merged.profiles,
    phoneNumbers: s.DIALTONE_PHONE_NUMBERS,
    profilePhoneNumbers: merged.phoneNumbers,
    chunkSize: s.DIALTONE_CHUNK_SIZE,
    assignParallelism: s.DIALTONE_ASSIGN_PARALLELISM,
    graphWritesPerSecond: s.DIALTONE_GRAPH_WRITES_PER_SECOND,
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
  };
}

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const DEVELOPMENT_STORAGE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

/** The settings the app reads, for documentation and the deployment test. */
export const SETTING_NAMES = Object.keys(schema.shape);

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
  'DIALTONE_DEFAULT_PROFILE',
  'DIALTONE_PROFILES',
  'DIALTONE_PHONE_NUMBERS',
  'DIALTONE_CHUNK_SIZE',
  'DIALTONE_ASSIGN_PARALLELISM',
  'DIALTONE_GRAPH_WRITES_PER_SECOND',
  'DIALTONE_INTAKE_CONTAINER',
  'DIALTONE_REPORTS_CONTAINER',
  'DIALTONE_FLAGS_QUEUE',
] as const;

/** Settings only a local run uses; a deployment to Azure leaves them out. */
export const LOCAL_ONLY_SETTINGS = ['DIALTONE_GRAPH_EXTRA_CA_FILE', 'AzureWebJobsStorage', 'ServiceBusConnection'] as const;
