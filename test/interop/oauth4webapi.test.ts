/**
 * oauth4webapi with RFC 8414 discovery (algorithm "oauth2": the well-known string inserted
 * between host and path, §3) against Tarn started as `npm start` starts it: discovery, a
 * client_credentials grant, introspection and revocation as the library performs them.
 */
import * as oauth from 'oauth4webapi';
import { createPool } from '../support/fixtures.js';
import { startTarnProcess, stopAllTarnProcesses, type TarnProcess } from '../support/tarn-process.js';

let tarn: TarnProcess;
beforeAll(async () => {
  tarn = await startTarnProcess();
}, 120_000);
afterAll(async () => {
  await stopAllTarnProcesses();
});

it('discovers with algorithm "oauth2", gets a client_credentials token, introspects and revokes it', async () => {
  const pool = await createPool(tarn);
  const created = await tarn.admin('POST', `/pools/${pool.id}/clients`, {
    name: 'Service',
    grantTypes: ['client_credentials'],
    tokenEndpointAuthMethod: 'client_secret_basic',
  });
  expect(created.status).toBe(201);
  const issuer = new URL(pool.issuer);
  const options = { [oauth.allowInsecureRequests]: true };
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }));
  expect(as.introspection_endpoint_auth_methods_supported).toContain('client_secret_basic');

  const client: oauth.Client = { client_id: created.body.clientId };
  const auth = oauth.ClientSecretBasic(created.body.secret.value);
  const grant = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options),
  );
  expect(grant.token_type).toBe('bearer');

  const active = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, grant.access_token, options));
  expect(active).toMatchObject({ active: true, client_id: created.body.clientId });
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, grant.access_token, options));
  const inactive = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, grant.access_token, options));
  expect(inactive.active).toBe(false);
});
