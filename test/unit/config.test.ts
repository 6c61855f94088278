import { ConfigError, loadConfig } from '../../shared/adapters/config';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('configuration', () => {
  it('has sensible defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ graphBaseUrl: 'https://graph.microsoft.com', deadlineHours: 24, defaultProfile: 'phone-domestic', defaultUsageLocation: undefined, chunkSize: 200, intakeContainer: 'license-requests', reportsContainer: 'license-reports', flagsQueue: 'license-flags', serviceBus: undefined, taskHub: 'dialtone' });
    expect(c.profiles['phone-domestic']).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
  });

  it('reads every setting', () => {
    const c = loadConfig({
      DIALTONE_GRAPH_BASE_URL: 'https://127.0.0.1:8443/',
      DIALTONE_DEADLINE_HOURS: '12',
      DIALTONE_DEFAULT_USAGE_LOCATION: 'gb',
      DIALTONE_DEFAULT_PROFILE: 'Sales',
      DIALTONE_PROFILES: '{"sales":["STANDARDPACK","MCOEV"]}',
      DIALTONE_CHUNK_SIZE: '50',
      ServiceBusConnection__fullyQualifiedNamespace: 'contoso-sb.servicebus.windows.net',
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      AzureWebJobsStorage__clientId: 'cid',
    });
    expect(c).toMatchObject({ graphBaseUrl: 'https://127.0.0.1:8443', deadlineHours: 12, defaultUsageLocation: 'GB', defaultProfile: 'sales', chunkSize: 50, serviceBus: { fullyQualifiedNamespace: 'contoso-sb.servicebus.windows.net' } });
    expect(c.storage).toEqual({ blobServiceUri: 'https://acct.blob.core.windows.net', queueServiceUri: 'https://acct.queue.core.windows.net', clientId: 'cid' });
  });

  it('fails with one message naming every bad setting', () => {
    let error: unknown;
    try {
      loadConfig({ DIALTONE_GRAPH_BASE_URL: 'http://graph', DIALTONE_DEADLINE_HOURS: 'soon', DIALTONE_CHUNK_SIZE: '0', DIALTONE_DEFAULT_USAGE_LOCATION: 'Mars', DIALTONE_INTAKE_CONTAINER: 'Bad_Name' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(expect.arrayContaining(['DIALTONE_GRAPH_BASE_URL', 'DIALTONE_DEADLINE_HOURS', 'DIALTONE_CHUNK_SIZE', 'DIALTONE_DEFAULT_USAGE_LOCATION', 'DIALTONE_INTAKE_CONTAINER']));
    expect((error as Error).message).toContain('dialtone configuration is invalid');
  });

  it('checks the profile settings together: bad JSON, bad overrides, a default that does not exist, missing storage', () => {
    expect(() => loadConfig({ DIALTONE_PROFILES: '{nope' })).toThrow(/DIALTONE_PROFILES: is not valid JSON[\s\S]*AzureWebJobsStorage/);
    expect(() => loadConfig({ ...base, DIALTONE_DEFAULT_PROFILE: 'gold' })).toThrow(/DIALTONE_DEFAULT_PROFILE: "gold" is not a profile/);
    expect(() => loadConfig({ ...base, DIALTONE_PROFILES: '{"x":[1]}' })).toThrow(/profile "x" must be an array/);
  });

  it('reads the extra Graph CA from its file and refuses what is not a certificate', () => {
    expect(loadConfig({ ...base, DIALTONE_GRAPH_EXTRA_CA_FILE: '/ca.pem' }, () => '-----BEGIN CERTIFICATE-----\n').graphExtraCaPem).toContain('BEGIN');
    expect(() => loadConfig({ ...base, DIALTONE_GRAPH_EXTRA_CA_FILE: '/ca.pem' }, () => 'hello')).toThrow(/not a PEM/);
    expect(() => loadConfig({ ...base, DIALTONE_GRAPH_EXTRA_CA_FILE: '/nope' }, () => { throw new Error('ENOENT'); })).toThrow(/cannot read \/nope/);
  });

  it('reads the HR onboarding settings: time zone, lead days, horizon, account wait, callback hosts and secret', () => {
    expect(loadConfig(base)).toMatchObject({ schedule: { timeZone: 'UTC', leadDays: 1, horizonDays: 120 }, accountWaitHours: 24, callbackHosts: [], callbackSecret: undefined, localRuntime: false });
    const secret = 'k'.repeat(40);
    expect(
      loadConfig({ ...base, DIALTONE_TIME_ZONE: 'Europe/Berlin', DIALTONE_LEAD_DAYS: '0', DIALTONE_SCHEDULE_HORIZON_DAYS: '30', DIALTONE_ACCOUNT_WAIT_HOURS: '48', DIALTONE_CALLBACK_HOSTS: ' HR.example.com , hooks.example.org:8443', DIALTONE_CALLBACK_SECRET: secret }),
    ).toMatchObject({ schedule: { timeZone: 'Europe/Berlin', leadDays: 0, horizonDays: 30 }, accountWaitHours: 48, callbackHosts: ['hr.example.com', 'hooks.example.org:8443'], callbackSecret: secret });
  });

  it('names each bad HR onboarding setting', () => {
    expect(() => loadConfig({ ...base, DIALTONE_TIME_ZONE: 'Mars/Base', DIALTONE_LEAD_DAYS: '-1', DIALTONE_CALLBACK_HOSTS: 'https://x.example.com/', DIALTONE_CALLBACK_SECRET: 'short' })).toThrow(
      /DIALTONE_TIME_ZONE: must be an IANA time zone[\s\S]*DIALTONE_LEAD_DAYS[\s\S]*DIALTONE_CALLBACK_HOSTS[\s\S]*DIALTONE_CALLBACK_SECRET: must be at least 32 characters/,
    );
  });
});
