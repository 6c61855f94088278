// The deployment package's own storage account, apart from the data account. Flex Consumption runs whatever zip is
// in this container, as the app's identity, which holds Graph permissions over every user's licences: so nobody who
// is given a data role for batches and reports (on the data account) gets any role here. Only the app's identity has
// a role here, scoped to this one container (roles.bicep). Shared keys and public blob access off.
param name string
param location string
param tags object
param deploymentContainer string
@description('Disabled with private networking (network.bicep): the app reads its package through the private endpoint.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: { defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny', bypass: 'AzureServices' }
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deployment 'containers' = {
      name: deploymentContainer
    }
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainer string = deploymentContainer
