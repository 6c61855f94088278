// The private networking option of infra/, as the Bicep CLI compiles it: off by default; on, a virtual network with a
// delegated subnet for the app and private endpoints (with their privatelink DNS zones) for both storage accounts'
// services and Service Bus, whose public network access the same parameter turns off.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface InfraCheck {
  dotnetVersion(): string | undefined;
  checkInfra(): { problems: unknown[]; armDir: string };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const infraCheck = require('../../scripts/infra-check.js') as InfraCheck;
type Json = any;
const describeCompiled = infraCheck.dotnetVersion() ? describe : describe.skip;
const resourcesOf = (t: Json): Json[] => (Array.isArray(t.resources) ? t.resources : Object.values(t.resources ?? {}));

describeCompiled('private networking (infra/app/network.bicep)', () => {
  let main: Json;
  const deployment = (name: string) =>
    resourcesOf(main).find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === name);
  beforeAll(() => {
    const check = infraCheck.checkInfra();
    expect(check.problems).toEqual([]);
    main = JSON.parse(readFileSync(join(check.armDir, 'main.json'), 'utf8'));
  });

  it('is a parameter, off by default, that azd sets from DIALTONE_PRIVATE_NETWORKING', () => {
    expect(main.parameters.privateNetworking).toMatchObject({ type: 'bool', defaultValue: false });
    expect(
      JSON.parse(readFileSync(join(__dirname, '../../infra/main.parameters.json'), 'utf8')).parameters.privateNetworking
        .value,
    ).toBe('${DIALTONE_PRIVATE_NETWORKING=false}');
    expect(deployment('network').condition).toBe("[parameters('privateNetworking')]");
  });

  it('puts private endpoints for blob, queue, table, the package blob and Service Bus in the network, each in its privatelink zone', () => {
    const network = deployment('network').properties.template;
    const endpoints = network.variables.endpoints as { key: string; groupId: string; zone: string }[];
    expect(endpoints.map((e) => `${e.key}:${e.groupId}`)).toEqual([
      'data-blob:blob',
      'data-queue:queue',
      'data-table:table',
      'package-blob:blob',
      'servicebus:namespace',
    ]);
    const types = resourcesOf(network).map((r) => r.type);
    for (const t of [
      'Microsoft.Network/virtualNetworks',
      'Microsoft.Network/privateEndpoints',
      'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
      'Microsoft.Network/privateDnsZones',
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
    ])
      expect(types).toContain(t);
    const vnet = resourcesOf(network).find((r) => r.type === 'Microsoft.Network/virtualNetworks');
    expect(JSON.stringify(vnet.properties.subnets)).toContain('Microsoft.App/environments');
  });

  it('turns public network access off on both storage accounts and Service Bus (Premium), and routes the app through the subnet', () => {
    for (const name of ['storage', 'package-storage'])
      expect(deployment(name).properties.parameters.publicNetworkAccess).toBe(
        "[if(parameters('privateNetworking'), createObject('value', 'Disabled'), createObject('value', 'Enabled'))]",
      );
    expect(deployment('servicebus').properties.parameters.privateNetworking.value).toBe(
      "[parameters('privateNetworking')]",
    );
    const sb = resourcesOf(deployment('servicebus').properties.template).find(
      (r) => r.type === 'Microsoft.ServiceBus/namespaces',
    );
    expect(JSON.stringify(sb.sku)).toContain('Premium');
    expect(deployment('api').properties.parameters.subnetId).toMatch(
      /^\[if\(parameters\('privateNetworking'\), createObject\('value', reference\(.*'Microsoft\.Resources\/deployments', 'network'\).*\.outputs\.appSubnetId\.value\), createObject\('value', ''\)\)\]$/,
    );
    const site = resourcesOf(deployment('api').properties.template).find((r) => r.type === 'Microsoft.Web/sites');
    expect(site.properties.virtualNetworkSubnetId).toBe(
      "[if(empty(parameters('subnetId')), null(), parameters('subnetId'))]",
    );
  });
});
