// Starts the Graph simulator and a real Graph adapter pointed at it, for integration tests; reads the documented
// Graph responses kept as fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphLicensingDirectory, SimulatorTokenCredential, type GraphAdapterOptions } from '../../shared/adapters/graph';
import { startGraphSimulator, type GraphSimulator, type SimulatorOptions } from '../../local/graph-sim/server';

export async function simulatorWithAdapter(options: SimulatorOptions, adapter: Partial<GraphAdapterOptions> = {}): Promise<{ sim: GraphSimulator; graph: GraphLicensingDirectory }> {
  const sim = await startGraphSimulator(options);
  const graph = new GraphLicensingDirectory({ baseUrl: sim.url, credential: new SimulatorTokenCredential(), extraCaPem: sim.caPem, writesPerSecond: 1000, ...adapter });
  return { sim, graph };
}

/** A documented Graph response from test/fixtures/graph-docs. */
export function graphDoc(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'graph-docs', name), 'utf8')) as Record<string, unknown>;
}
