// The function app: Flex Consumption (FC1), Node 22, the user-assigned identity for everything, the deployment
// package in its own storage account, and an app setting for every configuration key the app validates at start-up
// (shared/adapters/config.ts).
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param packageStorageAccountName string
param deploymentContainer string
param applicationInsightsConnectionString string
param serviceBusNamespaceFqdn string
param defaultUsageLocation string
param setUsageLocation bool
@description('row, pool or off (main.bicep resolves an empty choice by cloud; the app checks the value at start-up).')
param phoneNumbers string
@description('Microsoft Graph service root of the cloud (main.bicep picks it from environment()).')
param graphBaseUrl string
@description('Entra ID authority host of the cloud (environment().authentication.loginEndpoint).')
param authorityHost string
param durableAlwaysReadyInstances int = 1
param defaultProfile string
param deadlineHours string
param maximumInstanceCount int
param instanceMemoryMB int = 2048
param timeZone string
param leadDays string
param scheduleHorizonDays string
param accountWaitHours string
param callbackHosts string
@secure()
param callbackSecret string
param callbackSecretUri string

// The callback secret never appears in the template's outputs: it is a Key Vault reference resolved by the platform
// with the app's identity ("Use Key Vault references as app settings", learn.microsoft.com/azure/app-service/
// app-service-key-vault-references: `@Microsoft.KeyVault(SecretUri=…)`, and a user-assigned identity named in the
// site's keyVaultReferenceIdentity), or else the secure parameter's value.
var callbackSecretSetting = empty(callbackSecretUri) ? callbackSecret : '@Microsoft.KeyVault(SecretUri=${callbackSecretUri})'
@description('Entra app registration (client id) for the admin console\'s sign-in; empty: no App Service Authentication.')
param consoleClientId string = ''
param consoleRole string = 'Dialtone.Admin'
param consoleGroupId string = ''
param consoleCaller string = ''
@description('DIALTONE_CALLERS in its short form (name:sha256[:uploads],…); kept here so that a deployment does not remove it.')
param callers string = ''
param uploadProfiles string = ''
param uploadSkus bool = true
param extraRowSkus string = ''
param listPerMinute int = 60
param privateContainer string = 'dialtone-private'

@description('With private networking: the subnet (network.bicep) the app\'s outbound traffic goes through. Empty: none.')
param subnetId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource packageStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: packageStorageAccountName
}

// The HTTP API refuses batches over 20 MiB itself (shared/domain/input.ts MAX_INPUT_BYTES) with a clear message; the
// host's own limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, in bytes; default 100 MB: "App settings reference for Azure
// Functions", https://learn.microsoft.com/azure/azure-functions/functions-app-settings) is set 1 MiB above that, so
// a body without Content-Length is cut by the host before it can grow far past the app's limit in memory. The
// number is written out (20 MiB + 1 MiB = 22020096) so the compiled template shows it to the deployment test.

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: { minTlsVersion: '1.2' }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${packageStorage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      // One always-ready instance for the durable group: Microsoft's recommendation for Durable Functions on Flex
      // Consumption (learn.microsoft.com/azure/azure-functions/durable/durable-functions-azure-storage-provider,
      // "Flex Consumption plan"), so that timers and queued work resume without waiting for a cold start.
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: durableAlwaysReadyInstances > 0 ? [{ name: 'durable', instanceCount: durableAlwaysReadyInstances }] : []
      }
      runtime: { name: 'node', version: '22' }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: {
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
      AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
      AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
      FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '22020096'
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
      AZURE_CLIENT_ID: identityClientId
      ServiceBusConnection__fullyQualifiedNamespace: serviceBusNamespaceFqdn
      ServiceBusConnection__credential: 'managedidentity'
      ServiceBusConnection__clientId: identityClientId
      DIALTONE_TASK_HUB: 'dialtone'
      DIALTONE_GRAPH_BASE_URL: graphBaseUrl
      // The cloud's Entra ID authority, which @azure/identity's credentials read from AZURE_AUTHORITY_HOST (its README,
      // "Cloud configuration"). The managed identity endpoint needs none; DefaultAzureCredential (no client id) uses it.
      AZURE_AUTHORITY_HOST: authorityHost
      DIALTONE_DEADLINE_HOURS: deadlineHours
      DIALTONE_DEFAULT_USAGE_LOCATION: defaultUsageLocation
      DIALTONE_SET_USAGE_LOCATION: setUsageLocation ? 'true' : 'false'
      DIALTONE_DEFAULT_PROFILE: defaultProfile
      // The profile overrides live in infra/profiles.json, so that every deployment carries them (a value set by hand
      // would be removed by the next one: this resource writes the settings whole). The app checks it at start-up.
      DIALTONE_PROFILES: loadTextContent('../profiles.json')
      DIALTONE_PHONE_NUMBERS: phoneNumbers
      DIALTONE_CHUNK_SIZE: '200'
      DIALTONE_ASSIGN_PARALLELISM: '10'
      DIALTONE_GRAPH_WRITES_PER_SECOND: '18'
      DIALTONE_TEAMS_READS_PER_SECOND: '10'
      DIALTONE_NUMBER_READS_PER_SECOND: '5'
      DIALTONE_BUDGET_CONTAINER: 'dialtone-budgets'
      DIALTONE_INTAKE_CONTAINER: 'license-requests'
      DIALTONE_REPORTS_CONTAINER: 'license-reports'
      DIALTONE_FLAGS_QUEUE: 'license-flags'
      DIALTONE_TIME_ZONE: timeZone
      DIALTONE_LEAD_DAYS: leadDays
      DIALTONE_SCHEDULE_HORIZON_DAYS: scheduleHorizonDays
      DIALTONE_ACCOUNT_WAIT_HOURS: accountWaitHours
      DIALTONE_CALLBACK_HOSTS: callbackHosts
      DIALTONE_CALLBACK_SECRET: callbackSecretSetting
      DIALTONE_CONSOLE_ROLE: consoleRole
      DIALTONE_CONSOLE_GROUP: consoleGroupId
      DIALTONE_CONSOLE_CALLER: consoleCaller
      DIALTONE_CALLERS: callers
      DIALTONE_UPLOAD_PROFILES: uploadProfiles
      DIALTONE_UPLOAD_SKUS: uploadSkus ? 'true' : 'false'
      DIALTONE_EXTRA_ROW_SKUS: extraRowSkus
      DIALTONE_LIST_PER_MINUTE: string(listPerMinute)
      DIALTONE_PRIVATE_CONTAINER: privateContainer
    }
  }

  // App Service Authentication for the admin console (functions/console.ts): Entra ID sign-in with the given app
  // registration; the platform then injects X-MS-CLIENT-PRINCIPAL and sets WEBSITE_AUTH_ENABLED, which the console
  // requires ("Work with user identities in Azure App Service authentication"; Microsoft.Identity.Web's
  // AppServicesAuthenticationInformation). Unauthenticated requests are let through (AllowAnonymous) because the
  // HR API is called with function keys and Event Grid calls its webhook without a sign-in; the console's own
  // routes send a visitor without one to /.auth/login/aad and check the app role or the group themselves
  // (functions/console.ts). No built-in authorization policy: the platform would refuse, before the app runs, a
  // signed-in user outside allowedPrincipals.groups who holds the app role ("Use a built-in authorization policy",
  // learn.microsoft.com/azure/app-service/configure-authentication-provider-aad), so the platform only authenticates.
  // The token store is off: the app reads only the injected principal, never the user's tokens (/.auth/me), so no
  // tokens are kept ("Token store", learn.microsoft.com/azure/app-service/overview-authentication-authorization).
  resource auth 'config' = if (!empty(consoleClientId)) {
    name: 'authsettingsV2'
    properties: {
      platform: { enabled: true }
      globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' }
      httpSettings: { requireHttps: true }
      login: { tokenStore: { enabled: false } }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            clientId: consoleClientId
            openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          }
          validation: {
            allowedAudiences: [consoleClientId, 'api://${consoleClientId}']
          }
        }
      }
    }
  }
}

// No basic (user name and password) publishing on the SCM and FTP endpoints: azd deploys with an Entra token
// ("Disable basic authentication in App Service deployments", learn.microsoft.com/azure/app-service/
// configure-basic-auth-disable).
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
