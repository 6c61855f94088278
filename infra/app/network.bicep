// Private networking, deployed only when main.bicep's privateNetworking is true: a virtual network whose `app` subnet
// the function app's outbound traffic goes through (Flex Consumption virtual network integration; the subnet is
// delegated to Microsoft.App/environments, "Azure Functions networking options",
// https://learn.microsoft.com/azure/azure-functions/functions-networking-options), and private endpoints in the
// `endpoints` subnet for the data account (blob, queue, table: the task hub, containers and flags queue), the
// package account (blob: the deployment package the app runs) and the Service Bus namespace, each with its
// privatelink DNS zone linked to the network ("Azure Private Endpoint private DNS zone values",
// https://learn.microsoft.com/azure/private-link/private-endpoint-dns). The accounts and the namespace then turn
// public network access off (storage.bicep, package-storage.bicep, servicebus.bicep). Service Bus private endpoints
// need the Premium tier ("Allow access to Azure Service Bus namespaces via private endpoints",
// https://learn.microsoft.com/azure/service-bus-messaging/private-link-service). The app's own HTTP endpoint stays
// public: HR systems and Event Grid call it with their keys.
param name string
param location string
param tags object
param dataStorageAccountName string
param packageStorageAccountName string
param serviceBusNamespaceName string
@description('Address space of the virtual network; the two subnets take its first two /24s.')
param addressPrefix string = '10.40.0.0/16'

resource dataStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: dataStorageAccountName
}

resource packageStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: packageStorageAccountName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusNamespaceName
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource endpointSubnet 'subnets' existing = {
    name: 'endpoints'
  }
}

// One private endpoint per service and sub-resource (group id), each registered in its privatelink zone.
var endpoints = [
  { key: 'data-blob', target: dataStorage.id, groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { key: 'data-queue', target: dataStorage.id, groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { key: 'data-table', target: dataStorage.id, groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { key: 'package-blob', target: packageStorage.id, groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { key: 'servicebus', target: serviceBus.id, groupId: 'namespace', zone: 'privatelink.servicebus.windows.net' }
]
var zoneNames = [
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.queue.${environment().suffixes.storage}'
  'privatelink.table.${environment().suffixes.storage}'
  'privatelink.servicebus.windows.net'
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneNames: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnet.id }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-07-01' = [
  for e in endpoints: {
    name: '${name}-${e.key}'
    location: location
    tags: tags
    properties: {
      subnet: { id: vnet::endpointSubnet.id }
      privateLinkServiceConnections: [
        {
          name: e.key
          properties: { privateLinkServiceId: e.target, groupIds: [e.groupId] }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-07-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: replace(e.zone, '.', '-')
          properties: { privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', e.zone) }
        }
      ]
    }
    dependsOn: [zones]
  }
]

output appSubnetId string = vnet::appSubnet.id
