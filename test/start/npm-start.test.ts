/**
 * The README's promise: on a fresh clone, `npm start` with an empty DATA_DIR migrates,
 * listens, prints a generated admin token and a quick start; the provider answers
 * discovery over HTTP; SIGTERM stops it cleanly. A bad configuration stops it with one line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['DATABASE_URL', 'TARN_ADMIN_TOKEN', 'TARN_MASTER_KEY', 'NODE_ENV', 'NODE_OPTIONS', 'SMTP_URL']) delete env[name];
  return { ...env, ...extra };
}

function collect(child: ChildProcess): { out: () => string } {
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  return { out: () => out };
}

async function waitFor(predicate: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('npm start on an empty data directory serves discovery and prints the admin token', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tarn-start-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env: baseEnv({ DATA_DIR: dataDir, PORT: String(port), PUBLIC_URL: url }), detached: true });
  const output = collect(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => output.out().includes('Quick start:'), 'the start banner');
    const token = /Admin token[^:]*: (\S+)/.exec(output.out())?.[1];
    expect(token).toMatch(/^tat_/);
    expect(output.out()).toContain(`Tarn is running at ${url}`);

    const created = await fetch(`${url}/admin/pools`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'demo', name: 'Demo' }),
    });
    expect(created.status).toBe(201);
    const discovery = await fetch(`${url}/pools/demo/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as Record<string, string>;
    expect(metadata.issuer).toBe(`${url}/pools/demo`);
    expect(metadata.authorization_endpoint).toBe(`${url}/pools/demo/auth`);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // No administrator yet: a one-time setup link for the console's first owner (PGlite here).
    const setupLink = /First run: .* at (\S+)/.exec(output.out())?.[1];
    expect(setupLink).toMatch(new RegExp(`^${url}/console/setup\\?token=`));
    const setupPage = await fetch(setupLink!);
    expect(setupPage.status).toBe(200);
    const html = await setupPage.text();
    const hidden = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
    const form = new URLSearchParams({
      csrf: hidden('csrf'),
      token: hidden('token'),
      email: 'first@example.test',
      password: 'a long passphrase',
      confirm: 'a long passphrase',
    });
    const submitted = await fetch(`${url}/console/setup`, { method: 'POST', body: form, redirect: 'manual' });
    expect(submitted.status).toBe(303);
    expect(submitted.headers.get('location')).toBe('/console/signin');
    // Single use.
    expect((await fetch(setupLink!)).status).toBe(410);
    expect((await fetch(`${url}/console/setup`, { method: 'POST', body: form, redirect: 'manual' })).status).toBe(410);
    // PGlite's files, the generated master key and the generated admin token live in the data directory.
    expect(readdirSync(dataDir).sort()).toEqual(['admin.token', 'master.key', 'pglite']);
    // The admin token is printed once on stdout, never inside a log line.
    expect(
      output
        .out()
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes(token!)),
    ).toEqual([]);
  } finally {
    // The whole process group, as a terminal would (npm alone: the next test).
    process.kill(-child.pid!, 'SIGTERM');
  }
  await exited;
  // The server drains and stops listening.
  let down = false;
  for (let i = 0; i < 150 && !down; i += 1) {
    down = await fetch(`${url}/healthz`).then(
      () => false,
      () => true,
    );
    if (!down) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(down).toBe(true);
  // … then closes the database and says so.
  await waitFor(() => output.out().includes('"msg":"stopped"'), 'the stop message', 15_000);
});

it('a bad configuration stops the start with one clear line', async () => {
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env: baseEnv({ PORT: 'not-a-port', DATA_DIR: mkdtempSync(join(tmpdir(), 'tarn-bad-')) }) });
  const output = collect(child);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  expect(code).not.toBe(0);
  const lines = output
    .out()
    .split('\n')
    .filter((line) => line.startsWith('tarn:'));
  expect(lines).toEqual(['tarn: configuration error: PORT must be an integer from 0 to 65535, got "not-a-port"']);
});

it('SIGTERM to npm start itself (not its process group) stops Tarn, and the admin token survives the restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tarn-restart-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = baseEnv({ DATA_DIR: dataDir, PORT: String(port), PUBLIC_URL: url });

  async function startOnce() {
    const child = spawn('npm', ['start', '--silent'], { cwd: root, env });
    const output = collect(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => output.out().includes('Quick start:'), 'the start banner');
    const token = /Admin token[^:]*: (\S+)/.exec(output.out())?.[1];
    return { child, output, exited, token: token! };
  }
  async function isUp(): Promise<boolean> {
    return fetch(`${url}/healthz`).then(
      () => true,
      () => false,
    );
  }

  const first = await startOnce();
  expect(first.token).toMatch(/^tat_/);
  expect(first.output.out()).toContain(join(dataDir, 'admin.token'));
  const created = await fetch(`${url}/admin/pools`, {
    method: 'POST',
    headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'kept', name: 'Kept' }),
  });
  expect(created.status).toBe(201);
  // Only npm's own process is signalled, as a process manager or `kill <pid>` would.
  first.child.kill('SIGTERM');
  await first.exited;
  let down = false;
  for (let i = 0; i < 150 && !down; i += 1) {
    down = !(await isUp());
    if (!down) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(down).toBe(true);

  const second = await startOnce();
  try {
    expect(second.token).toBe(first.token);
    const pool = await fetch(`${url}/admin/pools/kept`, { headers: { authorization: `Bearer ${first.token}` } });
    expect(pool.status).toBe(200);
  } finally {
    second.child.kill('SIGINT');
    await second.exited;
  }
  expect(await isUp()).toBe(false);
}, 240_000);
