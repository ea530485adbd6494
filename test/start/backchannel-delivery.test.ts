/**
 * Back-channel logout under the outgoing-network policy (OUTGOING_NETWORKS), with Tarn
 * running exactly as `npm start` runs it: the policy is judged on the address actually
 * connected to, at registration and again at delivery, and a refused or failed delivery is
 * logged (without the logout token), counted in /metrics and written to the pool's audit log.
 */
import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';
import { setupPool, type PoolSetup } from '../support/protocol.js';
import { signIn } from '../support/relying-party.js';
import { metricValue, startTarnProcess, stopAllTarnProcesses, waitFor, type TarnProcess } from '../support/tarn-process.js';

const LOGGED_OUT = 'http://rp.example.test/logged-out';
const DELIVERED = 'tarn_backchannel_logout_deliveries_total{outcome="delivered"}';
const FAILED = 'tarn_backchannel_logout_deliveries_total{outcome="failed"}';

let receiver: Server;
let receiverUrl: string;
const received: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/backchannel-logout`;
});
afterAll(async () => {
  await stopAllTarnProcesses();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

async function signInAndOut(tarn: TarnProcess, setup: PoolSetup): Promise<void> {
  const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
  const confirm = await browser.get(oidc.buildEndSessionUrl(setup.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT }).href);
  const done = await browser.submit(confirm, { logout: 'yes' });
  expect(done.leftTo?.startsWith(LOGGED_OUT)).toBe(true);
}

it('a deployment that allows loopback delivers; after it narrows OUTGOING_NETWORKS, the same client is refused at delivery, logged, counted and audited', async () => {
  // Phase 1: the operator allows loopback (a relying party on the same host).
  const first = await startTarnProcess({ env: { OUTGOING_NETWORKS: 'public,loopback' } });
  let setup: PoolSetup;
  try {
    setup = await setupPool(first, { postLogoutRedirectUris: [LOGGED_OUT], backchannelLogoutUri: receiverUrl });
    // Link-local (cloud metadata) is never opened by "loopback" or "private".
    const metadataService = await first.admin('POST', `/pools/${setup.pool.id}/clients`, {
      name: 'Probe',
      redirectUris: ['http://rp.example.test/cb'],
      backchannelLogoutUri: 'http://169.254.169.254/latest/meta-data/',
    });
    expect(metadataService.status).toBe(400);
    expect(metadataService.body.errors).toEqual([expect.objectContaining({ field: 'backchannelLogoutUri' })]);

    await signInAndOut(first, setup);
    await waitFor(() => received.length === 1, 'the logout token to arrive', 20_000);
    expect(received[0]).toMatch(/^ey/);
    expect(await metricValue(first.url, DELIVERED)).toBe(1);
    expect(await metricValue(first.url, FAILED)).toBe(0);
  } finally {
    await first.stop();
  }

  // Phase 2: the same data, restarted with the default policy (public addresses only).
  const second = await startTarnProcess({ dataDir: first.dataDir, masterKey: first.masterKey });
  try {
    const refused = await second.admin('POST', `/pools/${setup.pool.id}/clients`, {
      name: 'Loopback',
      redirectUris: ['http://rp.example.test/cb'],
      backchannelLogoutUri: receiverUrl,
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'backchannelLogoutUri', detail: expect.stringContaining('127.0.0.1') })]);

    const config = await oidc.discovery(new URL(setup.pool.issuer.replace(first.url, second.url)), setup.app.clientId, setup.app.secret?.value, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    await signInAndOut(second, { ...setup, config });
    await waitFor(async () => (await metricValue(second.url, FAILED)) === 1, 'the failed delivery to be counted', 20_000);
    // Refused before connecting: the receiver saw nothing more.
    expect(received).toHaveLength(1);
    expect(await metricValue(second.url, DELIVERED)).toBe(0);

    const logged = second
      .output()
      .split('\n')
      .filter((line) => line.includes('back-channel logout not delivered'));
    expect(logged).toHaveLength(1);
    const entry = JSON.parse(logged[0]!);
    expect(entry).toMatchObject({ poolId: setup.pool.id, clientId: setup.app.clientId, destination: receiverUrl });
    expect(entry.reason).toContain('OUTGOING_NETWORKS');
    // No logout token (a JWT) anywhere in the log.
    expect(second.output()).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);

    const audit = await second.admin('GET', `/pools/${setup.pool.id}/audit?action=backchannel_logout.deliver`);
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'backchannel_logout.deliver',
        outcome: 'failure',
        target: { type: 'client', id: setup.app.clientId },
        details: expect.objectContaining({ userId: setup.user.id, destination: receiverUrl, reason: expect.stringContaining('127.0.0.1') }),
      }),
    ]);
  } finally {
    await second.stop();
  }
  // Two starts of Tarn (PGlite migrations included) and two sign-ins.
}, 180_000);
