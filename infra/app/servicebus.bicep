// The queue helpdesk tooling reads: one message per failed or flagged user. Duplicate detection drops a replayed
// message (the app sets the message id from batch and user). Local auth off: the identity sends.
param name string
param location string
param tags object
param queueName string = 'license-flags'
@description('Private networking (network.bicep): Premium (private endpoints need it) with public network access off.')
param privateNetworking bool = false

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: privateNetworking ? { name: 'Premium', tier: 'Premium', capacity: 1 } : { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
  }

  resource queue 'queues' = {
    name: queueName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'P7D'
      defaultMessageTimeToLive: 'P14D'
      deadLetteringOnMessageExpiration: true
      maxDeliveryCount: 10
    }
  }
}

output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output queueName string = queueName
