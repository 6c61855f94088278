import {
  APP_REGISTRATION_SETTINGS,
  ConfigError,
  DEVELOPMENT_STORAGE,
  GRAPH_CLOUD_HOSTS,
  SETTING_NAMES,
  loadConfig,
  loadConsoleSettings,
} from '../../shared/adapters/config';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('configuration', () => {
  it('has sensible defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      graphBaseUrl: 'https://graph.microsoft.com',
      deadlineHours: 24,
      defaultProfile: 'phone-domestic',
      defaultUsageLocation: undefined,
      chunkSize: 200,
      assignParallelism: 10,
      graphWritesPerSecond: 18,
      teamsReadsPerSecond: 10,
      numberReadsPerSecond: 5,
      budgetContainer: 'dialtone-budgets',
      intakeContainer: 'license-requests',
      reportsContainer: 'license-reports',
      flagsQueue: 'license-flags',
      serviceBus: undefined,
      taskHub: 'dialtone',
    });
    expect(c.profiles.get('phone-domestic')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
  });

  it('reads every setting', () => {
    // Two configurations, because some settings exclude each other (Service Bus and storage by identity or by
    // connection string; a default usage location needs DIALTONE_SET_USAGE_LOCATION on). Together they set every
    // setting config.ts reads, each to a value other than its default; a new setting fails here until it is added.
    const byIdentity = {
      DIALTONE_GRAPH_BASE_URL: 'https://127.0.0.1:8443/',
      DIALTONE_GRAPH_ALLOW_LOOPBACK: 'true',
      DIALTONE_GRAPH_EXTRA_CA_FILE: '/etc/ca.pem',
      AZURE_CLIENT_ID: 'mi-client-id',
      DIALTONE_DEADLINE_HOURS: '12',
      DIALTONE_DEFAULT_USAGE_LOCATION: 'gb',
      DIALTONE_SET_USAGE_LOCATION: 'TRUE',
      DIALTONE_DEFAULT_PROFILE: 'Sales',
      DIALTONE_PROFILES: '{"sales":{"skus":["STANDARDPACK","MCOEV"],"phoneNumbers":"off"}}',
      DIALTONE_CHUNK_SIZE: '50',
      DIALTONE_ASSIGN_PARALLELISM: '7',
      DIALTONE_GRAPH_WRITES_PER_SECOND: '5',
      DIALTONE_TEAMS_READS_PER_SECOND: '4',
      DIALTONE_NUMBER_READS_PER_SECOND: '3',
      DIALTONE_BUDGET_CONTAINER: 'hr-budgets',
      DIALTONE_INTAKE_CONTAINER: 'hr-intake',
      DIALTONE_REPORTS_CONTAINER: 'hr-reports',
      DIALTONE_PRIVATE_CONTAINER: 'hr-private',
      DIALTONE_FLAGS_QUEUE: 'hr-flags',
      ServiceBusConnection__fullyQualifiedNamespace: 'contoso-sb.servicebus.windows.net',
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      AzureWebJobsStorage__clientId: 'cid',
      DIALTONE_CALLERS: JSON.stringify({
        'hr-a': {
          keySha256: 'A'.repeat(64),
          uploads: 'manage',
          callbackHosts: ['API.hr.example.com', 'hooks.example.net:8443'],
          profiles: ['sales'],
          skus: true,
        },
      }),
      DIALTONE_TASK_HUB: 'hubA',
      DIALTONE_TIME_ZONE: 'Europe/Berlin',
      DIALTONE_LEAD_DAYS: '3',
      DIALTONE_SCHEDULE_HORIZON_DAYS: '60',
      DIALTONE_ACCOUNT_WAIT_HOURS: '6',
      DIALTONE_LIST_PER_MINUTE: '30',
      DIALTONE_UPLOAD_PROFILES: 'Sales',
      DIALTONE_UPLOAD_SKUS: 'false',
      DIALTONE_EXTRA_ROW_SKUS: 'mcostandard, Microsoft_Teams_EEA_New',
      DIALTONE_LOCAL_RUNTIME: 'true',
      DIALTONE_PHONE_NUMBERS: 'pool',
      DIALTONE_DIRECT_FOR_GROUP_PLANS: 'true',
    };
    // The admin console's settings are read on their own (loadConsoleSettings), but they are settings all the same.
    const consoleSettings = {
      DIALTONE_CONSOLE_ROLE: 'Telephony.Admin',
      DIALTONE_CONSOLE_GROUP: '0f6b1e4c-1b3a-4d5e-9f00-123456789abc',
      DIALTONE_CONSOLE_CALLER: 'admins',
    };
    const byConnectionString = {
      ServiceBusConnection:
        'Endpoint=sb://contoso-sb.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=x',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      DIALTONE_SET_USAGE_LOCATION: 'false',
      DIALTONE_CALLBACK_HOSTS: 'API.hr.example.com, hooks.example.net:8443',
      DIALTONE_CALLBACK_SECRET: 's'.repeat(40),
    };
    expect(
      new Set([
        ...Object.keys(byIdentity),
        ...Object.keys(consoleSettings),
        ...Object.keys(byConnectionString),
        ...APP_REGISTRATION_SETTINGS,
      ]),
    ).toEqual(new Set(SETTING_NAMES));
    expect(loadConsoleSettings(consoleSettings)).toEqual({
      signInEnabled: false,
      role: 'Telephony.Admin',
      group: '0f6b1e4c-1b3a-4d5e-9f00-123456789abc',
      caller: 'admins',
    });

    // An integration's own callback secret: a setting named after it (DIALTONE_CALLBACK_SECRET_<NAME>).
    const c = loadConfig({ ...byIdentity, DIALTONE_CALLBACK_SECRET_HR_A: 'a'.repeat(40) }, (path) =>
      path === '/etc/ca.pem' ? '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' : '',
    );
    const { profiles, callers, profilePhoneNumbers, ...rest } = c;
    expect(rest).toEqual({
      graphBaseUrl: 'https://127.0.0.1:8443',
      graphSignIn: { kind: 'managedIdentity', clientId: 'mi-client-id' },
      graphExtraCaPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      managedIdentityClientId: 'mi-client-id',
      deadlineHours: 12,
      defaultUsageLocation: 'GB',
      setUsageLocation: true,
      directForGroupPlans: true,
      defaultProfile: 'sales',
      chunkSize: 50,
      assignParallelism: 7,
      graphWritesPerSecond: 5,
      teamsReadsPerSecond: 4,
      numberReadsPerSecond: 3,
      budgetContainer: 'hr-budgets',
      intakeContainer: 'hr-intake',
      reportsContainer: 'hr-reports',
      privateContainer: 'hr-private',
      flagsQueue: 'hr-flags',
      serviceBus: { fullyQualifiedNamespace: 'contoso-sb.servicebus.windows.net' },
      storage: {
        blobServiceUri: 'https://acct.blob.core.windows.net',
        queueServiceUri: 'https://acct.queue.core.windows.net',
        clientId: 'cid',
      },
      taskHub: 'hubA',
      dataAccount: 'acct',
      listPerMinute: 30,
      schedule: { timeZone: 'Europe/Berlin', leadDays: 3, horizonDays: 60 },
      accountWaitHours: 6,
      singleCaller: {
        name: 'default',
        readsUploads: true,
        managesUploads: true,
        callbackHosts: [],
        rights: { ownSkus: true },
      },
      callbackSecrets: new Map([['hr-a', 'a'.repeat(40)]]),
      uploadRights: { profiles: ['sales'], ownSkus: false },
      extraRowSkus: ['MCOSTANDARD', 'MICROSOFT_TEAMS_EEA_NEW'],
      localRuntime: true,
      phoneNumbers: 'pool',
    });
    expect(profiles.get('sales')).toEqual(['STANDARDPACK', 'MCOEV']);
    expect([...profilePhoneNumbers.entries()]).toEqual([['sales', 'off']]);
    expect([...(callers ?? new Map()).entries()]).toEqual([
      [
        'a'.repeat(64),
        {
          name: 'hr-a',
          readsUploads: true,
          managesUploads: true,
          callbackHosts: ['api.hr.example.com', 'hooks.example.net:8443'],
          rights: { profiles: ['sales'], ownSkus: true },
        },
      ],
    ]);

    const other = loadConfig(byConnectionString);
    expect([other.serviceBus, other.storage, other.setUsageLocation]).toEqual([
      { connectionString: byConnectionString.ServiceBusConnection },
      { connectionString: DEVELOPMENT_STORAGE },
      false,
    ]);
    // Without DIALTONE_CALLERS, the one integration has the shared hosts and secret.
    expect([other.singleCaller.callbackHosts, [...other.callbackSecrets]]).toEqual([
      ['api.hr.example.com', 'hooks.example.net:8443'],
      [['default', 's'.repeat(40)]],
    ]);
  });

  it("keeps the checks' and the number step's Teams read budgets within Graph's 30 a second together, naming both", () => {
    expect(
      loadConfig({ ...base, DIALTONE_TEAMS_READS_PER_SECOND: '25', DIALTONE_NUMBER_READS_PER_SECOND: '5' })
        .numberReadsPerSecond,
    ).toBe(5);
    expect(() =>
      loadConfig({ ...base, DIALTONE_TEAMS_READS_PER_SECOND: '26', DIALTONE_NUMBER_READS_PER_SECOND: '5' }),
    ).toThrow(
      /DIALTONE_NUMBER_READS_PER_SECOND: with DIALTONE_TEAMS_READS_PER_SECOND it must stay within Graph's 30 Teams GETs a second per app and tenant \(26 \+ 5\)/,
    );
    expect(() => loadConfig({ ...base, DIALTONE_NUMBER_READS_PER_SECOND: '0' })).toThrow(
      /DIALTONE_NUMBER_READS_PER_SECOND/,
    );
  });

  it('reads DIALTONE_CALLERS in its short form (name:sha256[:uploads], the form azd passes to the Bicep) as the JSON form', () => {
    const [a, b] = ['A'.repeat(64), 'b'.repeat(64)];
    const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
    const short = loadConfig({ ...base, DIALTONE_CALLERS: ` workday:${a} , it-admin:${b}:uploads` }).callers;
    const json = loadConfig({
      ...base,
      DIALTONE_CALLERS: JSON.stringify({ workday: { keySha256: a }, 'it-admin': { keySha256: b, uploads: true } }),
    }).callers;
    expect([...(short ?? new Map()).entries()]).toEqual([...(json ?? new Map()).entries()]);
    expect([...(short ?? new Map()).values()]).toEqual([
      { name: 'workday', readsUploads: false, managesUploads: false, callbackHosts: [], rights: { ownSkus: false } },
      { name: 'it-admin', readsUploads: true, managesUploads: false, callbackHosts: [], rights: { ownSkus: false } },
    ]);
    // Every option in the short form: managing uploads, own SKUs, a list of profiles, callback hosts (with a port).
    const full = loadConfig({
      ...base,
      DIALTONE_CALLERS: `workday:${a}:uploads-manage:skus:profiles=phone-domestic+phone-international@hr.example.com+hooks.example.org:8443`,
    }).callers;
    const fullJson = loadConfig({
      ...base,
      DIALTONE_CALLERS: JSON.stringify({
        workday: {
          keySha256: a,
          uploads: 'manage',
          skus: true,
          profiles: ['phone-domestic', 'phone-international'],
          callbackHosts: ['hr.example.com', 'hooks.example.org:8443'],
        },
      }),
    }).callers;
    expect([...(full ?? new Map()).values()]).toEqual([
      {
        name: 'workday',
        readsUploads: true,
        managesUploads: true,
        callbackHosts: ['hr.example.com', 'hooks.example.org:8443'],
        rights: { profiles: ['phone-domestic', 'phone-international'], ownSkus: true },
      },
    ]);
    expect([...(full ?? new Map()).entries()]).toEqual([...(fullJson ?? new Map()).entries()]);
    const problems = (value: string): string => {
      try {
        loadConfig({ ...base, DIALTONE_CALLERS: value });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(problems(`workday`)).toMatch(/DIALTONE_CALLERS\.workday: keySha256 must be the SHA-256/);
    expect(problems(`Workday:${a}`)).toMatch(/DIALTONE_CALLERS\.Workday: a caller name is/);
    expect(problems(`workday:${a}:upload`)).toMatch(
      /DIALTONE_CALLERS\.workday: uploads must be true, "read" or "manage"/,
    );
    expect(problems(`workday:${a}:profiles=gold`)).toMatch(/DIALTONE_CALLERS\.workday: profile "gold" does not exist/);
    expect(problems(`workday:${a}@https://hr.example.com`)).toMatch(
      /DIALTONE_CALLERS\.workday: callbackHosts must be a list of host names/,
    );
    expect(problems(JSON.stringify({ workday: { keySha256: a, callbackSecret: 'x' } }))).toMatch(
      /DIALTONE_CALLERS\.workday: unknown field "callbackSecret"/,
    );
    // The console's and the uploads' own names: an integration named so would share their batches.
    expect(problems(`console:${a}`)).toMatch(
      /DIALTONE_CALLERS\.console: a caller name is .*not "uploads" or "console"/,
    );
    expect(problems(`workday:${a},hr:${a}`)).toMatch(/has the same key as workday/);
  });

  it('fails with one message naming every bad setting', () => {
    let error: unknown;
    try {
      loadConfig({
        DIALTONE_GRAPH_BASE_URL: 'http://graph',
        DIALTONE_DEADLINE_HOURS: 'soon',
        DIALTONE_CHUNK_SIZE: '0',
        DIALTONE_DEFAULT_USAGE_LOCATION: 'Mars',
        DIALTONE_INTAKE_CONTAINER: 'Bad_Name',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'DIALTONE_GRAPH_BASE_URL',
        'DIALTONE_DEADLINE_HOURS',
        'DIALTONE_CHUNK_SIZE',
        'DIALTONE_DEFAULT_USAGE_LOCATION',
        'DIALTONE_INTAKE_CONTAINER',
      ]),
    );
    expect((error as Error).message).toContain('dialtone configuration is invalid');
  });

  it('checks the profile settings together: bad JSON, bad overrides, a default that does not exist, missing storage', () => {
    expect(() => loadConfig({ DIALTONE_PROFILES: '{nope' })).toThrow(
      /DIALTONE_PROFILES: is not valid JSON[\s\S]*AzureWebJobsStorage/,
    );
    expect(() => loadConfig({ ...base, DIALTONE_DEFAULT_PROFILE: 'gold' })).toThrow(
      /DIALTONE_DEFAULT_PROFILE: "gold" is not a profile/,
    );
    expect(() => loadConfig({ ...base, DIALTONE_PROFILES: '{"x":[1]}' })).toThrow(/profile "x" must be an array/);
  });

  it('reads the extra Graph CA from its file and refuses what is not a certificate', () => {
    expect(
      loadConfig({ ...base, DIALTONE_GRAPH_EXTRA_CA_FILE: '/ca.pem' }, () => '-----BEGIN CERTIFICATE-----\n')
        .graphExtraCaPem,
    ).toContain('BEGIN');
    expect(() => loadConfig({ ...base, DIALTONE_GRAPH_EXTRA_CA_FILE: '/ca.pem' }, () => 'hello')).toThrow(/not a PEM/);
    expect(() =>
      loadConfig({ ...base, DIALTONE_GRAPH_EXTRA_CA_FILE: '/nope' }, () => {
        throw new Error('ENOENT');
      }),
    ).toThrow(/cannot read \/nope/);
  });

  describe('Graph base URL: only a Graph cloud, the managed identity sends its token there', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...env });
        return [];
      } catch (e) {
        return [...(e as ConfigError).problems];
      }
    };

    it.each([
      'https://graph.microsoft.com',
      'https://graph.microsoft.us/',
      'https://dod-graph.microsoft.us',
      'https://microsoftgraph.chinacloudapi.cn',
    ])('accepts the national cloud root %s (with numbering off outside the global service)', (url) => {
      const c = loadConfig({ ...base, DIALTONE_GRAPH_BASE_URL: url, DIALTONE_PHONE_NUMBERS: 'off' });
      expect(c.graphBaseUrl).toBe(url.replace(/\/$/, ''));
    });

    it.each([
      'https://graph.microsoft.us',
      'https://dod-graph.microsoft.us',
      'https://microsoftgraph.chinacloudapi.cn',
    ])(
      'refuses to start with numbering on in %s, where Graph has no number APIs, naming the setting and the profile',
      (url) => {
        expect(problemsOf({ DIALTONE_GRAPH_BASE_URL: url })).toEqual([
          expect.stringMatching(
            /^DIALTONE_PHONE_NUMBERS: DIALTONE_PHONE_NUMBERS is row, but .* has no Teams telephone number APIs .*global service only.*azd env set DIALTONE_PHONE_NUMBERS off/,
          ),
        ]);
        const problems = problemsOf({
          DIALTONE_GRAPH_BASE_URL: url,
          DIALTONE_PHONE_NUMBERS: 'off',
          DIALTONE_PROFILES: JSON.stringify({
            sales: { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'], phoneNumbers: 'pool' },
          }),
        });
        expect(problems).toEqual([
          expect.stringMatching(/^DIALTONE_PHONE_NUMBERS: profile "sales" has phoneNumbers pool, but/),
        ]);
        // The global service and the local simulator keep numbering.
        expect(loadConfig({ ...base, DIALTONE_PHONE_NUMBERS: 'pool' }).phoneNumbers).toBe('pool');
      },
    );

    it('accepts the Service Bus namespace of each Azure cloud and nothing else', () => {
      for (const ns of [
        'sb-x.servicebus.windows.net',
        'sb-x.servicebus.usgovcloudapi.net',
        'sb-x.servicebus.chinacloudapi.cn',
      ])
        expect(loadConfig({ ...base, ServiceBusConnection__fullyQualifiedNamespace: ns }).serviceBus).toEqual({
          fullyQualifiedNamespace: ns,
        });
      for (const ns of ['sb-x.servicebus.windows.net.evil.example', 'a.b.servicebus.windows.net', 'sb-x.example.net'])
        expect(problemsOf({ ServiceBusConnection__fullyQualifiedNamespace: ns })).toEqual([
          expect.stringMatching(
            /^ServiceBusConnection__fullyQualifiedNamespace: must look like <name>\.servicebus\.windows\.net/,
          ),
        ]);
    });

    it("lists exactly the four Graph clouds of Microsoft's national cloud page", () => {
      expect([...GRAPH_CLOUD_HOSTS].sort()).toEqual([
        'dod-graph.microsoft.us',
        'graph.microsoft.com',
        'graph.microsoft.us',
        'microsoftgraph.chinacloudapi.cn',
      ]);
    });

    it.each([
      [
        'https://evil.example',
        /evil\.example is not a Microsoft Graph cloud; use one of https:\/\/graph\.microsoft\.com/,
      ],
      ['https://graph.microsoft.com.evil.example', /not a Microsoft Graph cloud/],
      ['https://graph.microsoft.com:8443', /graph\.microsoft\.com:8443 is not a Microsoft Graph cloud/],
      ['https://graph.microsoft.de', /not a Microsoft Graph cloud/],
      ['https://graph.microsoft.com/v1.0', /must be a bare https:\/\/host/],
      ['https://graph.microsoft.com/?x=1', /must be a bare https:\/\/host/],
      ['https://user:pw@graph.microsoft.com', /must be a bare https:\/\/host/],
      [
        'https://127.0.0.1:8443',
        /127\.0\.0\.1:8443 is loopback, which only the local runtime may use \(it sets DIALTONE_GRAPH_ALLOW_LOOPBACK=true\)/,
      ],
      ['https://localhost:8443', /is loopback/],
      ['https://[::1]:8443', /is loopback/],
      ['http://graph.microsoft.com', /DIALTONE_GRAPH_BASE_URL/],
    ])('refuses %s, saying why', (url, why) => {
      const problems = problemsOf({ DIALTONE_GRAPH_BASE_URL: url });
      expect(problems.filter((p) => p.startsWith('DIALTONE_GRAPH_BASE_URL'))).toHaveLength(1);
      expect(problems.join('\n')).toMatch(why);
    });

    it('accepts loopback only with DIALTONE_GRAPH_ALLOW_LOOPBACK=true, and refuses a value that is not a boolean', () => {
      expect(
        problemsOf({ DIALTONE_GRAPH_BASE_URL: 'https://localhost:9', DIALTONE_GRAPH_ALLOW_LOOPBACK: 'false' }),
      ).toHaveLength(1);
      expect(
        loadConfig({ ...base, DIALTONE_GRAPH_BASE_URL: 'https://localhost:9', DIALTONE_GRAPH_ALLOW_LOOPBACK: 'true' })
          .graphBaseUrl,
      ).toBe('https://localhost:9');
      expect(problemsOf({ DIALTONE_GRAPH_ALLOW_LOOPBACK: 'yes' })).toEqual([
        'DIALTONE_GRAPH_ALLOW_LOOPBACK: must be true or false',
      ]);
    });
  });

  describe('Graph sign-in: the managed identity, or an app registration at an Entra authority', () => {
    const tenantId = '0f6b1e4c-1b3a-4d5e-9f00-123456789abc';
    const registration = { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: 'app-id', AZURE_CLIENT_SECRET: 'sec' };
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...env }, () => {
          throw new Error('no such file');
        });
        return [];
      } catch (e) {
        return [...(e as ConfigError).problems];
      }
    };

    it('uses the managed identity when no secret or certificate is set', () => {
      expect(loadConfig({ ...base, AZURE_CLIENT_ID: 'mi' })).toMatchObject({
        graphSignIn: { kind: 'managedIdentity', clientId: 'mi' },
        managedIdentityClientId: 'mi',
      });
    });

    it("signs in as an app registration at Microsoft's authority by default, with instance discovery", () => {
      const c = loadConfig({ ...base, ...registration });
      expect(c.graphSignIn).toEqual({
        kind: 'appRegistration',
        tenantId,
        clientId: 'app-id',
        secret: 'sec',
        authorityHost: 'https://login.microsoftonline.com',
        instanceDiscovery: true,
      });
      expect(c.managedIdentityClientId).toBeUndefined();
      expect(
        loadConfig({ ...base, ...registration, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' }).graphSignIn,
      ).toMatchObject({ authorityHost: 'https://login.microsoftonline.us', instanceDiscovery: true });
    });

    it('takes a loopback authority only on the local runtime, and then without instance discovery', () => {
      const local = { ...base, ...registration, AZURE_AUTHORITY_HOST: 'https://127.0.0.1:8443' };
      expect(problemsOf(local)).toEqual([
        expect.stringMatching(/^AZURE_AUTHORITY_HOST: 127\.0\.0\.1:8443 is not a Microsoft Entra authority/),
      ]);
      expect(loadConfig({ ...local, DIALTONE_GRAPH_ALLOW_LOOPBACK: 'true' }).graphSignIn).toMatchObject({
        authorityHost: 'https://127.0.0.1:8443',
        instanceDiscovery: false,
      });
    });

    it('names every setting that does not fit', () => {
      expect(
        problemsOf({
          AZURE_CLIENT_SECRET: 's',
          AZURE_CLIENT_CERTIFICATE_PATH: '/nope.pem',
          AZURE_AUTHORITY_HOST: 'https://login.evil.example/tenant',
        }),
      ).toEqual([
        'AZURE_CLIENT_CERTIFICATE_PATH: cannot read /nope.pem',
        'AZURE_AUTHORITY_HOST: must be a bare https://host, the authority without the tenant',
        'AZURE_CLIENT_SECRET: set either it or AZURE_CLIENT_CERTIFICATE_PATH, not both',
        'AZURE_TENANT_ID: an app registration (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH) needs its tenant id',
        'AZURE_CLIENT_ID: an app registration (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH) needs its application (client) id',
      ]);
      // The deployment sets the cloud's authority (environment().authentication.loginEndpoint, with its slash) beside
      // the managed identity, which does not use it: accepted when it is Entra's, refused otherwise.
      expect(problemsOf({ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' })).toEqual([]);
      expect(loadConfig({ ...base, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' }).graphSignIn.kind).toBe(
        'managedIdentity',
      );
      expect(problemsOf({ AZURE_AUTHORITY_HOST: 'https://login.evil.example' })).toEqual([
        expect.stringMatching(/^AZURE_AUTHORITY_HOST: login\.evil\.example is not a Microsoft Entra authority/),
      ]);
      expect(problemsOf({ AZURE_TENANT_ID: 'contoso' })).toEqual(['AZURE_TENANT_ID: must be the tenant id (a GUID)']);
    });
  });

  describe('setting usage locations is an option', () => {
    it('is on by default and reads true/false in any case (string() of a bool in ARM gives True/False)', () => {
      expect(loadConfig(base).setUsageLocation).toBe(true);
      expect(loadConfig({ ...base, DIALTONE_SET_USAGE_LOCATION: 'False' }).setUsageLocation).toBe(false);
      expect(
        loadConfig({ ...base, DIALTONE_SET_USAGE_LOCATION: 'true', DIALTONE_DEFAULT_USAGE_LOCATION: 'US' }),
      ).toMatchObject({ setUsageLocation: true, defaultUsageLocation: 'US' });
    });

    it('refuses a default usage location the app would not be allowed to set', () => {
      expect(() =>
        loadConfig({ ...base, DIALTONE_SET_USAGE_LOCATION: 'false', DIALTONE_DEFAULT_USAGE_LOCATION: 'US' }),
      ).toThrow(/DIALTONE_DEFAULT_USAGE_LOCATION: is set, but DIALTONE_SET_USAGE_LOCATION is false/);
      expect(() => loadConfig({ ...base, DIALTONE_SET_USAGE_LOCATION: 'off' })).toThrow(
        /DIALTONE_SET_USAGE_LOCATION: must be true or false/,
      );
    });
  });

  it('reads the HR onboarding settings: time zone, lead days, horizon, account wait, callback hosts and secret', () => {
    expect(loadConfig(base)).toMatchObject({
      schedule: { timeZone: 'UTC', leadDays: 1, horizonDays: 120 },
      accountWaitHours: 24,
      singleCaller: { callbackHosts: [] },
      callbackSecrets: new Map(),
      localRuntime: false,
    });
    const secret = 'k'.repeat(40);
    expect(
      loadConfig({
        ...base,
        DIALTONE_TIME_ZONE: 'Europe/Berlin',
        DIALTONE_LEAD_DAYS: '0',
        DIALTONE_SCHEDULE_HORIZON_DAYS: '30',
        DIALTONE_ACCOUNT_WAIT_HOURS: '48',
        DIALTONE_CALLBACK_HOSTS: ' HR.example.com , hooks.example.org:8443',
        DIALTONE_CALLBACK_SECRET: secret,
      }),
    ).toMatchObject({
      schedule: { timeZone: 'Europe/Berlin', leadDays: 0, horizonDays: 30 },
      accountWaitHours: 48,
      singleCaller: { callbackHosts: ['hr.example.com', 'hooks.example.org:8443'] },
      callbackSecrets: new Map([['default', secret]]),
    });
  });

  it('names each bad HR onboarding setting', () => {
    expect(() =>
      loadConfig({
        ...base,
        DIALTONE_TIME_ZONE: 'Mars/Base',
        DIALTONE_LEAD_DAYS: '-1',
        DIALTONE_CALLBACK_HOSTS: 'https://x.example.com/',
        DIALTONE_CALLBACK_SECRET: 'short',
      }),
    ).toThrow(
      /DIALTONE_TIME_ZONE: must be an IANA time zone[\s\S]*DIALTONE_LEAD_DAYS[\s\S]*DIALTONE_CALLBACK_HOSTS[\s\S]*DIALTONE_CALLBACK_SECRET: must be at least 32 characters/,
    );
  });
});

describe('callbacks per integration', () => {
  const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
  const callers = `hr-a:${a}@hr-a.example.com,hr-b:${b}@hr-b.example.com`;

  it('gives each integration its own secret (DIALTONE_CALLBACK_SECRET_<NAME>, a value or a Key Vault reference the platform resolves) and its own hosts', () => {
    const c = loadConfig({
      ...base,
      DIALTONE_CALLERS: callers,
      DIALTONE_CALLBACK_SECRET_HR_A: 'x'.repeat(32),
      DIALTONE_CALLBACK_SECRET_HR_B: 'y'.repeat(32),
    });
    expect([...c.callbackSecrets]).toEqual([
      ['hr-a', 'x'.repeat(32)],
      ['hr-b', 'y'.repeat(32)],
    ]);
    expect([...(c.callers ?? new Map()).values()].map((x) => [x.name, x.callbackHosts])).toEqual([
      ['hr-a', ['hr-a.example.com']],
      ['hr-b', ['hr-b.example.com']],
    ]);
  });

  it("reads every integration's secret from one JSON object in DIALTONE_CALLBACK_SECRET (one Key Vault secret the Bicep references)", () => {
    const c = loadConfig({
      ...base,
      DIALTONE_CALLERS: callers,
      DIALTONE_CALLBACK_SECRET: JSON.stringify({ 'hr-a': 'x'.repeat(32), 'hr-b': 'y'.repeat(32) }),
    });
    expect([...c.callbackSecrets]).toEqual([
      ['hr-a', 'x'.repeat(32)],
      ['hr-b', 'y'.repeat(32)],
    ]);
  });

  it('refuses the shared secret and hosts beside DIALTONE_CALLERS, and a short per-integration secret, naming each setting', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, DIALTONE_CALLERS: callers, ...env });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(problems({ DIALTONE_CALLBACK_SECRET: 's'.repeat(40) })).toMatch(
      /DIALTONE_CALLBACK_SECRET: with DIALTONE_CALLERS each integration has its own secret \(DIALTONE_CALLBACK_SECRET_<NAME>, or here a JSON object/,
    );
    expect(problems({ DIALTONE_CALLBACK_SECRET: JSON.stringify({ 'hr-c': 'c'.repeat(32) }) })).toMatch(
      /DIALTONE_CALLBACK_SECRET: "hr-c" is no integration of DIALTONE_CALLERS/,
    );
    expect(problems({ DIALTONE_CALLBACK_SECRET: JSON.stringify({ 'hr-a': 'short', 'hr-b': 'y'.repeat(32) }) })).toMatch(
      /DIALTONE_CALLBACK_SECRET\.hr-a: must be at least 32 characters/,
    );
    expect(problems({ DIALTONE_CALLBACK_HOSTS: 'hr.example.com' })).toMatch(
      /DIALTONE_CALLBACK_HOSTS: with DIALTONE_CALLERS each integration names its own callback hosts/,
    );
    expect(problems({ DIALTONE_CALLBACK_SECRET_HR_B: 'short' })).toMatch(
      /DIALTONE_CALLBACK_SECRET_HR_B: must be at least 32 characters/,
    );
  });
});
