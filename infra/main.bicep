// dialtone in Azure: a Flex Consumption function app (Node 22) with one user-assigned managed identity used for
// everything (storage with shared keys off, Service Bus, Application Insights, Microsoft Graph), a data storage
// account (task hub, intake and report containers, flags queue, an Event Grid system topic for uploads) and a
// separate storage account for the deployment package. The identity's Microsoft Graph application permissions are
// not granted here: the Graph Bicep extension needs a registry these machines cannot reach, and an app role
// assignment to an identity created in the same deployment fails the first time (msgraph-bicep-types issue 193).
// The azd postprovision hook (scripts/grant-graph-permissions.js) grants them once the identity exists.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name every resource.')
param environmentName string

@minLength(1)
@description('Azure region for every resource (Flex Consumption must be available there).')
param location string

@description('Object id of the deploying user or principal, given data access to the storage account for deployments. Set by azd.')
param principalId string = ''

@description('ISO country code for users with no usage location whose row gives none. Empty: such rows fail usage_location_missing.')
param defaultUsageLocation string = ''

@description('Let the app set a usage location on users who have none (needs User.ReadWrite.All). Off: the identity gets User.Read.All and rows for users without a usage location fail usage_location_missing.')
param setUsageLocation bool = true

@description('Teams phone numbers after the calling plan: row (assign the numbers rows give), pool (also give rows without one a free number of the tenant) or off. Anything but off grants TeamsTelephoneNumber.ReadWrite.All. Empty: row in the global cloud, off in national clouds, where Graph has no number APIs (the app refuses to start with numbering on there).')
@allowed(['', 'row', 'pool', 'off'])
param phoneNumbers string = ''

@description('Microsoft Graph service root. Empty: the one of the cloud this deployment targets (global, US Government L4, China); set https://dod-graph.microsoft.us for US Government L5 (DOD), which shares its Azure cloud with L4.')
param graphBaseUrl string = ''

@description('Always-ready instances for the durable group (orchestrators, activities, entities) on Flex Consumption; Microsoft recommends 1 for Durable Functions. 0: scale from zero (slower to resume timers and queued work).')
@minValue(0)
param durableAlwaysReadyInstances int = 1

@description('Licence profile for rows that name none.')
param defaultProfile string = 'phone-domestic'

@description('Hours to wait for Teams to show a calling plan before flagging the user.')
param deadlineHours string = '24'

@description('Most instances Flex Consumption may scale out to.')
param maximumInstanceCount int = 40

@description('HR onboarding: IANA time zone in which a start date without a time is read.')
param timeZone string = 'UTC'

@description('HR onboarding: days before the start date on which licences are assigned (0-30).')
param leadDays string = '1'

@description('HR onboarding: start dates further ahead than this many days are rejected (1-366).')
param scheduleHorizonDays string = '120'

@description('HR onboarding: hours after its scheduled time that a row with a start date waits for its account to exist.')
param accountWaitHours string = '24'

@description('Hosts a batch\'s callbackUrl may name, comma-separated (host or host:port). Empty: no callbacks.')
param callbackHosts string = ''

@secure()
@description('Secret the callbacks are signed with (at least 32 characters), when it is not kept in Key Vault. Prefer callbackSecretUri.')
param callbackSecret string = ''

@description('Key Vault secret URI (https://<vault>.vault.azure.net/secrets/<name>/) holding the callback secret; the app reads it as a Key Vault reference with its identity, which needs the Key Vault Secrets User role on that secret. Wins over callbackSecret.')
param callbackSecretUri string = ''

@description('Client id of the Entra app registration the admin console signs in with (App Service Authentication). Empty: sign-in is off and the console stays closed.')
param consoleClientId string = ''

@description('The app role (its value) a user needs to open the admin console.')
param consoleRole string = 'Dialtone.Admin'

@description('Object id of an Entra group whose members may open the admin console (besides holders of the app role). Empty: the app role alone.')
param consoleGroupId string = ''

@description('The HR integrations, the SHA-256 of each one\'s function key and what each may do: name:sha256[:uploads|:uploads-manage][:skus][:profiles=p+p][@host+host:port], comma-separated (docs/http-api.md, "Onboarding and revoking an HR system"). Empty: every key holder is one integration.')
param callers string = ''

@description('With callers set: the integration whose batches the console shows and starts. Empty: console.')
param consoleCaller string = ''

// The app's defaults for these (shared/adapters/config.ts) are repeated here: the site's settings are written whole at
// every deployment, so a value set by hand in Azure would be removed by the next one unless it comes from azd.
@description('Profiles the rows of uploaded files may ask for, comma-separated (DIALTONE_UPLOAD_PROFILES). Empty: every profile.')
param uploadProfiles string = ''

@description('Whether rows of uploaded files may list their own skus (DIALTONE_UPLOAD_SKUS).')
param uploadSkus bool = true

@description('Part numbers a row\'s own skus may name besides the Teams phone and meeting SKUs, comma-separated (DIALTONE_EXTRA_ROW_SKUS).')
param extraRowSkus string = ''

@description('Batch listings (GET /api/batches) a caller may make per minute before it is answered 429 (DIALTONE_LIST_PER_MINUTE).')
@minValue(1)
@maxValue(6000)
param listPerMinute int = 60

@description('The data account\'s container for raw inputs and callback registrations, which people are not granted (DIALTONE_PRIVATE_CONTAINER).')
param privateContainer string = 'dialtone-private'

// Microsoft Graph's service root per Azure cloud ("National cloud deployments", learn.microsoft.com/graph/deployments).
// environment() names the cloud but carries no Microsoft Graph endpoint (its `graph` is the retired Azure AD Graph).
// An unknown cloud fails the deployment at this lookup, unless graphBaseUrl says where Graph is.
var graphByCloud = {
  AzureCloud: 'https://graph.microsoft.com'
  AzureUSGovernment: 'https://graph.microsoft.us'
  AzureChinaCloud: 'https://microsoftgraph.chinacloudapi.cn'
}
var effectiveGraphBaseUrl = empty(graphBaseUrl) ? graphByCloud[environment().name] : graphBaseUrl
// The Teams telephone number APIs exist in the global service only (each page's national cloud table, e.g.
// learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber).
var effectivePhoneNumbers = !empty(phoneNumbers) ? phoneNumbers : (effectiveGraphBaseUrl == 'https://graph.microsoft.com' ? 'row' : 'off')
@description('Put the app on a virtual network with private endpoints for both storage accounts and Service Bus (Premium), and their public network access off (infra/app/network.bicep).')
param privateNetworking bool = false

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}dialtone-${resourceToken}'
var deploymentContainer = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}dialtone-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    systemTopicName: '${abbrs.eventGridDomainsTopics}dialtone-${resourceToken}'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
  }
}

module packageStorage 'app/package-storage.bicep' = {
  name: 'package-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}pkg${resourceToken}'
    location: location
    tags: tags
    deploymentContainer: deploymentContainer
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
  }
}

module serviceBus 'app/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}dialtone-${resourceToken}'
    location: location
    tags: tags
    privateNetworking: privateNetworking
  }
}

module network 'app/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-dialtone-${resourceToken}'
    location: location
    tags: tags
    dataStorageAccountName: storage.outputs.name
    packageStorageAccountName: packageStorage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    dataStorageAccountName: storage.outputs.name
    packageStorageAccountName: packageStorage.outputs.name
    deploymentContainer: packageStorage.outputs.deploymentContainer
    intakeContainer: storage.outputs.intakeContainer
    reportsContainer: storage.outputs.reportsContainer
    serviceBusNamespaceName: serviceBus.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    packageStorageAccountName: packageStorage.outputs.name
    deploymentContainer: packageStorage.outputs.deploymentContainer
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    serviceBusNamespaceFqdn: serviceBus.outputs.fullyQualifiedNamespace
    defaultUsageLocation: defaultUsageLocation
    setUsageLocation: setUsageLocation
    phoneNumbers: effectivePhoneNumbers
    graphBaseUrl: effectiveGraphBaseUrl
    authorityHost: environment().authentication.loginEndpoint
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    defaultProfile: defaultProfile
    deadlineHours: deadlineHours
    maximumInstanceCount: maximumInstanceCount
    timeZone: timeZone
    leadDays: leadDays
    scheduleHorizonDays: scheduleHorizonDays
    accountWaitHours: accountWaitHours
    callbackHosts: callbackHosts
    callbackSecret: callbackSecret
    callbackSecretUri: callbackSecretUri
    consoleClientId: consoleClientId
    consoleRole: consoleRole
    consoleGroupId: consoleGroupId
    consoleCaller: consoleCaller
    callers: callers
    uploadProfiles: uploadProfiles
    uploadSkus: uploadSkus
    extraRowSkus: extraRowSkus
    listPerMinute: listPerMinute
    privateContainer: privateContainer
    subnetId: privateNetworking ? network!.outputs.appSubnetId : ''
  }
  dependsOn: [roles]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_URI string = api.outputs.uri
output DIALTONE_CONSOLE_URL string = '${api.outputs.uri}/api/console'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_PACKAGE_STORAGE_ACCOUNT_NAME string = packageStorage.outputs.name
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = storage.outputs.systemTopicName
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output DIALTONE_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output DIALTONE_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output DIALTONE_INTAKE_CONTAINER string = storage.outputs.intakeContainer
output DIALTONE_REPORTS_CONTAINER string = storage.outputs.reportsContainer
output DIALTONE_SET_USAGE_LOCATION bool = setUsageLocation
output DIALTONE_PHONE_NUMBERS string = effectivePhoneNumbers
output DIALTONE_GRAPH_BASE_URL string = effectiveGraphBaseUrl
