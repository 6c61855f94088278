// `npm run graph-sim -- --tenant FILE [--port N] [--no-throttling]`: the Graph tenant simulator on its own, for
// trying the adapter or a script against a tenant that cannot be harmed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { startGraphSimulator } from './server';
import { readTenantFile } from './tenant';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tenant: { type: 'string' }, port: { type: 'string' }, 'no-throttling': { type: 'boolean' } },
  });
  if (!values.tenant) throw new Error('usage: npm run graph-sim -- --tenant FILE [--port N] [--no-throttling]');
  const read = readTenantFile(readFileSync(values.tenant, 'utf8'), values.tenant);
  if (!read.ok) throw new Error(read.message);
  const sim = await startGraphSimulator({
    tenant: read.tenant,
    ...(values.port ? { port: Number(values.port) } : {}),
    throttling: !values['no-throttling'],
  });
  const caFile = join(tmpdir(), `dialtone-graph-sim-${process.pid}.pem`);
  writeFileSync(caFile, sim.caPem);
  console.log(`Graph simulator listening on ${sim.url}/v1.0 (${sim.tenant.userCount()} users)`);
  console.log(
    `Its certificate authority: ${caFile} (DIALTONE_GRAPH_EXTRA_CA_FILE, or NODE_EXTRA_CA_CERTS for other tools)`,
  );
  console.log(
    `To point the app at it: DIALTONE_GRAPH_BASE_URL=${sim.url} DIALTONE_GRAPH_ALLOW_LOOPBACK=true (the app refuses a loopback Graph otherwise)`,
  );
  const app = sim.authority.defaultApp;
  console.log(
    `Its Entra ID: AZURE_AUTHORITY_HOST=${sim.url} AZURE_TENANT_ID=${sim.authority.tenantId} AZURE_CLIENT_ID=${app.clientId}${app.secret !== undefined ? ` AZURE_CLIENT_SECRET=${app.secret}` : ''} (granted: ${app.roles.join(', ')})`,
  );
  console.log(`Record of requests: ${sim.url}/_sim/record`);
  const stop = () => void sim.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
