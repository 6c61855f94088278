// Starts the Graph simulator and a real Graph adapter pointed at it, for integration tests; reads the documented
// Graph responses kept as fixtures. The adapter signs in as the product does, through @azure/identity against the
// simulator's authority (shared/adapters/graph-credential.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { GraphLicensingDirectory, type GraphAdapterOptions } from '../../shared/adapters/graph/directory';
import { graphCredential } from '../../shared/adapters/graph-credential';
import type { GraphSignIn } from '../../shared/adapters/config';
import { startGraphSimulator, type GraphSimulator, type SimulatorOptions } from '../../local/graph-sim/server';

/** The tenant's first app signing in with its client secret at the simulator's authority. */
export function simSignIn(sim: GraphSimulator): GraphSignIn {
  const app = sim.authority.defaultApp;
  if (app.secret === undefined) throw new Error("the tenant file's first app has no secret");
  return {
    kind: 'appRegistration',
    tenantId: sim.authority.tenantId,
    clientId: app.clientId,
    secret: app.secret,
    authorityHost: sim.url,
    instanceDiscovery: false,
  };
}

/** A new credential (its own token cache) for the simulator's first app. */
export function simCredential(sim: GraphSimulator): TokenCredential {
  return graphCredential(simSignIn(sim), sim.caPem);
}

/** A fresh app-only Graph token from the simulator's authority, for tests that call the simulator by hand. */
export async function appToken(sim: GraphSimulator): Promise<string> {
  const t = await simCredential(sim).getToken(`${sim.url}/.default`);
  if (!t) throw new Error('no token');
  return t.token;
}

/** A real Graph adapter for the simulator, signed in with a new credential. */
export function adapterFor(sim: GraphSimulator, adapter: Partial<GraphAdapterOptions> = {}): GraphLicensingDirectory {
  return new GraphLicensingDirectory({
    baseUrl: sim.url,
    credential: simCredential(sim),
    extraCaPem: sim.caPem,
    writesPerSecond: 1000,
    ...adapter,
  });
}

export async function simulatorWithAdapter(
  options: SimulatorOptions,
  adapter: Partial<GraphAdapterOptions> = {},
): Promise<{ sim: GraphSimulator; graph: GraphLicensingDirectory }> {
  const sim = await startGraphSimulator(options);
  return { sim, graph: adapterFor(sim, adapter) };
}

/** A documented Graph response from test/fixtures/graph-docs. */
export function graphDoc(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'graph-docs', name), 'utf8')) as Record<
    string,
    unknown
  >;
}
