// Role assignments, each named guid(scope, principal, role) and each at the narrowest scope its holder needs.
//   The app's identity, on the data account: Storage Blob Data Owner, Storage Queue Data Contributor and Storage
//     Table Data Contributor, account-wide. The Functions host (AzureWebJobsStorage: host locks, keys) and Durable
//     Functions' Azure Storage provider (control and work-item queues, history and instance tables, lease and
//     large-message containers) create and name their own containers, queues and tables at run time, so these
//     cannot be scoped to containers that exist at deployment; Microsoft's identity-based connection guidance for
//     AzureWebJobsStorage and Durable Functions lists these three roles.
//   The app's identity, on the package account: Storage Blob Data Contributor on the deployment container only
//     (Flex Consumption writes and reads the package there with the identity named in functionAppConfig).
//   The deployer (azd's signed-in principal), on the data account only: Storage Blob Data Contributor on the intake
//     container (to drop batches) and Storage Blob Data Reader on the reports container. Nothing on the package
//     account: azd deploys through the app's publish endpoint, not by writing blobs.
//   Service Bus data sender on the namespace; Monitoring Metrics Publisher on Application Insights (local auth off).
param dataStorageAccountName string
param packageStorageAccountName string
param deploymentContainer string
param intakeContainer string
param reportsContainer string
param serviceBusNamespaceName string
param applicationInsightsName string
param identityPrincipalId string
param deployerPrincipalId string = ''

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource dataStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: dataStorageAccountName

  resource blobServices 'blobServices' existing = {
    name: 'default'

    resource intake 'containers' existing = {
      name: intakeContainer
    }

    resource reports 'containers' existing = {
      name: reportsContainer
    }
  }
}

resource packageStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: packageStorageAccountName

  resource blobServices 'blobServices' existing = {
    name: 'default'

    resource deployment 'containers' existing = {
      name: deploymentContainer
    }
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusNamespaceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var identityDataRoles = [roleIds.storageBlobDataOwner, roleIds.storageQueueDataContributor, roleIds.storageTableDataContributor]

resource identityData 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in identityDataRoles: {
  name: guid(dataStorage.id, identityPrincipalId, role)
  scope: dataStorage
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource identityPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(packageStorage::blobServices::deployment.id, identityPrincipalId, roleIds.storageBlobDataContributor)
  scope: packageStorage::blobServices::deployment
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
  }
}

resource identityServiceBus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, identityPrincipalId, roleIds.serviceBusDataSender)
  scope: serviceBus
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
  }
}

resource identityMetrics 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
  }
}

resource deployerIntake 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(dataStorage::blobServices::intake.id, deployerPrincipalId, roleIds.storageBlobDataContributor)
  scope: dataStorage::blobServices::intake
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
  }
}

resource deployerReports 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(dataStorage::blobServices::reports.id, deployerPrincipalId, roleIds.storageBlobDataReader)
  scope: dataStorage::blobServices::reports
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
  }
}
