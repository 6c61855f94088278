// The Microsoft Graph application permissions of the app's identity, granted with the Microsoft Graph Bicep
// extension. Deployed only when grantGraphPermissions is true: the deployer must be allowed to grant app roles.
//   LicenseAssignment.ReadWrite.All  read subscribedSkus and users' licences, assignLicense
//   User.ReadWrite.All               set usageLocation on users who have none
//   TeamsUserConfiguration.Read.All  read Teams' featureTypes to see when the calling plan is live
extension microsoftGraphV1

param identityPrincipalId string
param graphAppRoles array = [
  'LicenseAssignment.ReadWrite.All'
  'User.ReadWrite.All'
  'TeamsUserConfiguration.Read.All'
]

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for role in graphAppRoles: {
  appRoleId: filter(graph.appRoles, r => r.value == role)[0].id
  principalId: identityPrincipalId
  resourceId: graph.id
}]
