/**
 * `tarn users import` sends a large file in consecutive requests of --chunk-size users (a failed
 * request loses only its own part) and reports as if it were one: every
 * good user is stored, and each bad line is named by its number in the original file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { createClient, createPool, uniqueId } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const CLI = fileURLToPath(new URL('../../bin/tarn.js', import.meta.url));

let tarn: RunningTarn;
let dir: string;
beforeAll(async () => {
  tarn = await startTarn();
  dir = mkdtempSync(join(tmpdir(), 'tarn-cli-chunks-'));
});
afterAll(async () => {
  await tarn.close();
});

function tarnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, TARN_URL: tarn.url, TARN_ADMIN_TOKEN: tarn.adminToken } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function emailsOf(poolId: string): Promise<Set<string>> {
  const rows = await tarn.database.handle.db.selectFrom('users').select('email').where('pool_id', '=', poolId).execute();
  return new Set(rows.map((row) => row.email));
}

async function importEvents(poolId: string): Promise<number> {
  return (await tarn.admin('GET', `/pools/${poolId}/audit?action=users.import`)).body.items.length;
}

describe('tarn users import --chunk-size', () => {
  // 3,500 lines: a blank line in the first request, bad lines in the second, third and fourth.
  const ndjsonLines: string[] = [];
  for (let line = 1; line <= 3500; line += 1) {
    if (line === 10) ndjsonLines.push('');
    else if (line === 1500) ndjsonLines.push(JSON.stringify({ email: 'not-an-email' }));
    else if (line === 2401) ndjsonLines.push('{"email": "broken@example.test"');
    else if (line === 3499) ndjsonLines.push(JSON.stringify({ email: 'odd@example.test', colour: 'blue' }));
    else ndjsonLines.push(JSON.stringify({ email: `user${line}@example.test`, profile: { name: `User ${line}` } }));
  }

  it('imports an NDJSON file in requests of N users and numbers failed lines as in the file', async () => {
    const pool = await createPool(tarn);
    const file = join(dir, 'users.ndjson');
    writeFileSync(file, `${ndjsonLines.join('\n')}\n`);
    const run = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1000']);
    expect(run.code).toBe(1); // lines failed
    expect(run.stdout).toContain('3500 lines: 3496 created, 0 updated, 0 skipped, 3 failed');
    expect(run.stdout).toContain('sent in 4 requests');
    expect(run.stdout).toContain('line 1500: email: Must be an email address.');
    expect(run.stdout).toContain('line 2401: The line is not valid JSON.');
    expect(run.stdout).toContain('line 3499: colour: Unknown field.');
    expect(run.stdout.match(/^ {2}line /gm)).toHaveLength(3);

    const emails = await emailsOf(pool.id);
    expect(emails.size).toBe(3496);
    for (let line = 1; line <= 3500; line += 1) if (![10, 1500, 2401, 3499].includes(line)) expect(emails.has(`user${line}@example.test`)).toBe(true);
    expect(await importEvents(pool.id)).toBe(4); // four requests, each one shorter than the whole file
  });

  it('repeats the CSV header in every request, and a quoted cell across lines stays in one record', async () => {
    const pool = await createPool(tarn);
    const rows = ['email,profile.name'];
    const bad = new Map<number, string>(); // line in the file → what the report says
    let line = 1;
    for (let user = 1; user <= 3000; user += 1) {
      line += 1;
      if (user === 500) {
        rows.push(`multi${user}@example.test,"Two\nlines"`); // one record on lines 501 and 502
        line += 1;
      } else if (user === 1200) {
        rows.push('nobody-at-example.test,Nobody');
        bad.set(line, 'email: Must be an email address.');
      } else if (user === 2500) {
        rows.push('only-one-cell@example.test');
        bad.set(line, '');
      } else rows.push(`user${user}@example.test,User ${user}`);
    }
    const file = join(dir, 'users.csv');
    writeFileSync(file, `${rows.join('\r\n')}\r\n`);
    const run = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1000']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${line} lines: 2998 created, 0 updated, 0 skipped, 2 failed`);
    expect(run.stdout).toContain('sent in 3 requests');
    const [emailLine, cellsLine] = [...bad.keys()];
    expect(run.stdout).toContain(`line ${emailLine}: email: Must be an email address.`);
    expect(run.stdout).toMatch(new RegExp(`line ${cellsLine}: Not a readable CSV record`));
    expect(run.stdout.match(/^ {2}line /gm)).toHaveLength(2);

    const emails = await emailsOf(pool.id);
    expect(emails.size).toBe(2998);
    for (let user = 1; user <= 3000; user += 1) if (![500, 1200, 2500].includes(user)) expect(emails.has(`user${user}@example.test`)).toBe(true);
    const multi = (await tarn.admin('GET', `/pools/${pool.id}/users?email=multi500@example.test`)).body.items[0];
    expect(multi.profile).toEqual({ name: 'Two\nlines' });
    expect(await importEvents(pool.id)).toBe(3);
  });

  it('passes --dry-run and --on-conflict to every request', async () => {
    const pool = await createPool(tarn);
    const file = join(dir, 'dry.ndjson');
    writeFileSync(file, `${ndjsonLines.join('\n')}\n`);
    const dry = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1000', '--dry-run']);
    expect(dry.stdout).toContain('3500 lines: 3496 created, 0 updated, 0 skipped, 3 failed (dry run: nothing was changed)');
    expect((await emailsOf(pool.id)).size).toBe(0);

    const first = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1000']);
    expect(first.stdout).toContain('3496 created');
    const again = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1000', '--on-conflict', 'skip']);
    expect(again.stdout).toContain('3500 lines: 0 created, 0 updated, 3496 skipped, 3 failed');
    expect((await emailsOf(pool.id)).size).toBe(3496);
  });

  it('passes --require-password-change to every request', async () => {
    const pool = await createPool(tarn, { passwordPolicy: { minLength: 12 } });
    const file = join(dir, 'weak.csv');
    writeFileSync(file, 'email,password\nw1@example.test,short\nw2@example.test,short\nw3@example.test,long enough password\nw4@example.test,short\n');
    const run = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1', '--require-password-change']);
    expect(run.stdout).toContain('5 lines: 4 created, 0 updated, 0 skipped, 0 failed');
    expect(run.stdout).toContain('sent in 4 requests');
    const changes: Record<string, string | null> = {};
    for (const email of ['w1', 'w2', 'w3', 'w4']) {
      const user = (await tarn.admin('GET', `/pools/${pool.id}/users?email=${email}@example.test`)).body.items[0];
      changes[email] = user.passwordChange;
    }
    expect(changes).toEqual({ w1: 'required', w2: 'required', w3: null, w4: 'required' });
  });

  it('refuses --atomic for a file that needs more than one request, and changes nothing', async () => {
    const pool = await createPool(tarn);
    const file = join(dir, 'atomic.ndjson');
    writeFileSync(file, `${ndjsonLines.join('\n')}\n`);
    const run = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '1000', '--atomic']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--atomic keeps all or nothing within one request');
    expect(run.stderr).toContain('holds more than 1000 users');
    const zero = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--chunk-size must be a whole number of users, 1 or more.');
    expect((await emailsOf(pool.id)).size).toBe(0);
    expect(await importEvents(pool.id)).toBe(0);

    // A file within one request stays all or nothing.
    const small = join(dir, 'atomic-small.ndjson');
    writeFileSync(small, `${ndjsonLines.slice(1490, 1510).join('\n')}\n`);
    const atomic = await tarnCli(['users', 'import', pool.id, small, '--chunk-size', '1000', '--atomic']);
    expect(atomic.stdout).toContain('20 lines: 19 created, 0 updated, 0 skipped, 1 failed (atomic: nothing was kept)');
    expect(atomic.stdout).toContain('line 10: email: Must be an email address.');
    expect((await emailsOf(pool.id)).size).toBe(0);
  });
});

describe('tarn import keycloak --chunk-size', () => {
  it("sends a realm's users in requests of N users", async () => {
    const poolId = uniqueId('kc');
    const realm = fileURLToPath(new URL('../fixtures/keycloak-realm-acme.json', import.meta.url));
    const run = await tarnCli(['import', 'keycloak', realm, '--pool', poolId, '--chunk-size', '1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 created, 0 updated, 0 skipped, 0 failed');
    expect(run.stdout).toContain('sent in 2 requests');
    expect((await emailsOf(poolId)).size).toBe(2);
    expect(await importEvents(poolId)).toBe(2);
  });
});

describe('Firebase settings in every request', () => {
  // Firebase's documented scrypt variant (ADR 0305), computed here from its description.
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  const firebase = { signerKey: b64(randomBytes(64)), saltSeparator: 'Bw==', rounds: 8, memCost: 14 };
  function firebaseLine(email: string, password: string): string {
    const salt = randomBytes(16);
    const key = scryptSync(password, Buffer.concat([salt, Buffer.from(firebase.saltSeparator, 'base64')]), 64, { N: 2 ** 14, r: 8, p: 1 });
    const cipher = createCipheriv('aes-256-ctr', key.subarray(0, 32), Buffer.alloc(16));
    const passwordHash = b64(Buffer.concat([cipher.update(Buffer.from(firebase.signerKey, 'base64')), cipher.final()]));
    return JSON.stringify({ email, passwordHashFormat: 'firebase-scrypt', passwordHash, passwordSalt: b64(salt) });
  }
  const users = ['fa', 'fb', 'fc', 'fd'].map((name) => ({ email: `${name}@example.test`, password: `${name}-old-password` }));

  it.each([
    ['the --firebase-* flags', false],
    ["the file's own settings line", true],
  ])('reach the users of the later requests, with %s', async (_how, inFile) => {
    const pool = await createPool(tarn);
    const client = await createClient(tarn, pool.id);
    const lines = users.map((user) => firebaseLine(user.email, user.password));
    lines.splice(3, 0, JSON.stringify({ email: 'no-hash@example.test', passwordHash: 'abc' })); // in the second request
    const file = join(dir, `firebase-${inFile}.ndjson`);
    writeFileSync(file, `${[...(inFile ? [JSON.stringify({ settings: { firebaseScrypt: firebase } })] : []), ...lines].join('\n')}\n`);
    const flags = inFile
      ? []
      : [
          '--firebase-signer-key',
          firebase.signerKey,
          '--firebase-salt-separator',
          firebase.saltSeparator,
          '--firebase-rounds',
          '8',
          '--firebase-mem-cost',
          '14',
        ];
    const run = await tarnCli(['users', 'import', pool.id, file, '--chunk-size', '2', ...flags]);
    expect(run.stdout).toContain('4 created, 0 updated, 0 skipped, 1 failed');
    expect(run.stdout).toContain('sent in 3 requests');
    expect(run.stdout).toContain(`line ${inFile ? 5 : 4}: passwordHashFormat: `);
    const config = await discover(pool.issuer, client.clientId, client.secret?.value);
    const last = users[3]!; // sent in the third request
    const { tokens } = await signIn(config, tarn.url, last);
    expect(tokens.claims()!.email).toBe(last.email);
  });
});
