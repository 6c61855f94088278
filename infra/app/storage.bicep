// The data storage account: Durable Functions' task hub and the Functions host's own blobs (AzureWebJobsStorage),
// the intake (license-requests) and report (license-reports) containers, the app's shared Graph budgets
// (dialtone-budgets: one small ledger blob each for Graph writes and Teams reads), the license-flags queue (used when Service
// Bus is not configured), and an Event Grid system topic whose subscription to the intake function the post-deploy
// hook creates. Shared keys off. The deployment package is NOT here (see package-storage.bicep): admins who may write
// batches to this account must not be able to replace the code that runs as the Graph identity.
param name string
param location string
param tags object
param systemTopicName string
param intakeContainer string = 'license-requests'
param reportsContainer string = 'license-reports'
param budgetContainer string = 'dialtone-budgets'
param flagsQueue string = 'license-flags'
@description('Disabled with private networking (network.bicep): the account is then reached through its private endpoints only.')
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
    properties: {
      deleteRetentionPolicy: { enabled: true, days: 7 }
    }

    resource intake 'containers' = {
      name: intakeContainer
    }

    resource reports 'containers' = {
      name: reportsContainer
    }

    resource budgets 'containers' = {
      name: budgetContainer
    }
  }

  resource queueServices 'queueServices' = {
    name: 'default'

    resource flags 'queues' = {
      name: flagsQueue
    }
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output systemTopicName string = systemTopic.name
output intakeContainer string = intakeContainer
output reportsContainer string = reportsContainer
output budgetContainer string = budgetContainer
output flagsQueue string = flagsQueue
