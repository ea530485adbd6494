/**
 * The outgoing-network policy (OUTGOING_NETWORKS) and the fetch that applies it: which
 * addresses each setting opens, and that a name is judged by the address it resolves to
 * when Tarn connects, not by how it looks.
 */
import { createServer, type Server } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { createOutgoingFetch } from '../../src/net/outgoing-fetch.js';
import { createOutgoingPolicy } from '../../src/net/outgoing-policy.js';

let server: Server;
let port: number;
let hits = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('public only by default; private, loopback and CIDRs open what they name; link-local only by a CIDR', () => {
  const judge = (networks: string, address: string) => createOutgoingPolicy(networks, 1000).refusalFor(address) === undefined;
  expect(['8.8.8.8', '2606:4700::1111'].map((a) => judge('public', a))).toEqual([true, true]);
  for (const address of [
    '127.0.0.1',
    '::1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '0.0.0.0',
    '100.64.0.1',
    'fd00::1',
  ]) {
    expect([address, judge('public', address)]).toEqual([address, false]);
  }
  expect(['10.1.2.3', '172.20.0.1', '192.168.1.1', 'fd00::1'].every((a) => judge('public,private', a))).toBe(true);
  expect(judge('public,private,loopback', '169.254.169.254')).toBe(false);
  expect(judge('public,loopback', '::ffff:127.0.0.1')).toBe(true);
  expect(judge('169.254.169.254/32', '169.254.169.254')).toBe(true);
  expect(judge('10.20.0.0/16', '10.20.3.4')).toBe(true);
  expect(judge('10.20.0.0/16', '10.21.0.1')).toBe(false);
  expect(judge('10.20.0.0/16', '8.8.8.8')).toBe(false);
});

it('registration refuses IP literals and localhost names outside the policy, and leaves other names to delivery', () => {
  const policy = createOutgoingPolicy('public', 1000);
  expect(policy.refusalForUrl('http://169.254.169.254/latest/meta-data/')).toContain('169.254.169.254');
  expect(policy.refusalForUrl('http://[::1]:8080/x')).toBeDefined();
  expect(policy.refusalForUrl('http://app.localhost/x')).toContain('loopback');
  expect(policy.refusalForUrl('https://rp.example.com/logout')).toBeUndefined();
  expect(createOutgoingPolicy('public,loopback', 1000).refusalForUrl('http://localhost/x')).toBeUndefined();
});

it('a bad OUTGOING_NETWORKS stops the start with one line naming the variable', () => {
  expect(() => loadConfig({ NODE_ENV: 'test', OUTGOING_NETWORKS: 'public,intranet', DATA_DIR: '/tmp/tarn-config-outgoing' })).toThrow(
    /^OUTGOING_NETWORKS: "intranet" is not public, private, loopback or a CIDR/,
  );
  expect(() => loadConfig({ NODE_ENV: 'test', OUTGOING_NETWORKS: '10.0.0.0/33', DATA_DIR: '/tmp/tarn-config-outgoing' })).toThrow(/OUTGOING_NETWORKS/);
});

it('a name is judged by what it resolves to when connecting: localhost is refused without loopback, reached with it', async () => {
  const refusing = createOutgoingFetch(createOutgoingPolicy('public', 2000));
  await expect(refusing(`http://localhost:${port}/`, { method: 'POST', body: 'x' })).rejects.toThrow(/resolves to 127\.0\.0\.1.*OUTGOING_NETWORKS=public/);
  await expect(refusing(`http://127.0.0.1:${port}/`)).rejects.toThrow(/outside the networks/);
  expect(hits).toBe(0);
  const allowing = createOutgoingFetch(createOutgoingPolicy('public,loopback', 2000));
  const answer = await allowing(`http://localhost:${port}/`, { method: 'POST', body: new URLSearchParams({ a: 'b' }) });
  expect(answer.status).toBe(204);
  expect(hits).toBe(1);
});
