/**
 * Moving in without a password reset: users imported with the password hashes another
 * system made (each made here with the real library or the documented algorithm) sign in
 * through the hosted login with openid-client, and afterwards their stored hash is argon2id.
 */
import { createCipheriv, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { createClient, createPool } from '../support/fixtures.js';
import { Browser, visibleText } from '../support/browser.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

const b64 = (bytes: Buffer) => bytes.toString('base64');
/** The pool's argon2id: m = 19 MiB, t = 2, p = 1 (src/users/password.ts), whatever order the library writes them in. */
const isPoolArgon2id = (hash: string) =>
  /^\$argon2id\$v=19\$/.test(hash) && ['m=19456', 't=2', 'p=1'].every((param) => hash.split('$')[3]!.split(',').includes(param));

function keycloakCredential(password: string, algorithm: string, digest: string) {
  const salt = randomBytes(16);
  const value = pbkdf2Sync(password, salt, 27_500, 64, digest);
  return {
    type: 'password',
    secretData: JSON.stringify({ value: b64(value), salt: b64(salt), additionalParameters: {} }),
    credentialData: JSON.stringify({ hashIterations: 27_500, algorithm, additionalParameters: {} }),
  };
}

// Firebase's documented scrypt variant, computed here from its description (ADR 0305).
const firebase = { signerKey: b64(randomBytes(64)), saltSeparator: 'Bw==', rounds: 8, memCost: 14 };
function firebaseHash(password: string, salt: Buffer): string {
  const key = scryptSync(password, Buffer.concat([salt, Buffer.from(firebase.saltSeparator, 'base64')]), 64, {
    N: 2 ** firebase.memCost,
    r: firebase.rounds,
    p: 1,
  });
  const cipher = createCipheriv('aes-256-ctr', key.subarray(0, 32), Buffer.alloc(16));
  return b64(Buffer.concat([cipher.update(Buffer.from(firebase.signerKey, 'base64')), cipher.final()]));
}

async function importNdjson(poolId: string, lines: unknown[], query = '') {
  const response = await fetch(`${tarn.url}/admin/pools/${poolId}/users/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/x-ndjson' },
    body: lines.map((line) => JSON.stringify(line)).join('\n'),
  });
  return { status: response.status, body: await response.json() };
}

async function storedHash(poolId: string, email: string): Promise<string> {
  const row = await tarn.database.handle.db
    .selectFrom('users')
    .select('password_hash')
    .where('pool_id', '=', poolId)
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  return row.password_hash!;
}

describe('imported password hashes', () => {
  it('signs in users of every format with their old password and rehashes them to argon2id', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const password = (name: string) => `old ${name} password ${randomBytes(4).toString('hex')}`;

    const users: { email: string; password: string; line: Record<string, unknown> }[] = [];
    const add = (name: string, make: (pw: string) => Record<string, unknown>) => {
      const pw = password(name);
      const email = `${name}@example.test`;
      users.push({ email, password: pw, line: { email, ...make(pw) } });
    };
    add('bcrypt-2b', (pw) => ({ passwordHashFormat: 'bcrypt', passwordHash: bcrypt.hashSync(pw, 6) }));
    add('bcrypt-2y', (pw) => ({ passwordHashFormat: 'bcrypt', passwordHash: bcrypt.hashSync(pw, 5).replace(/^\$2b\$/, '$2y$') }));
    add('bcrypt-2a', (pw) => ({ passwordHashFormat: 'bcrypt', passwordHash: bcrypt.hashSync(pw, 5).replace(/^\$2b\$/, '$2a$') }));
    for (const type of ['argon2id', 'argon2i'] as const) {
      const pw = password(type);
      const hash = await argon2.hash(pw, { type: type === 'argon2id' ? argon2.argon2id : argon2.argon2i, memoryCost: 4096, timeCost: 3, parallelism: 1 });
      users.push({ email: `${type}@example.test`, password: pw, line: { email: `${type}@example.test`, passwordHashFormat: 'argon2', passwordHash: hash } });
    }
    add('scrypt', (pw) => {
      const salt = randomBytes(16);
      const hash = scryptSync(pw, salt, 32, { N: 2 ** 14, r: 8, p: 1 });
      return { passwordHashFormat: 'scrypt', passwordHash: `$scrypt$ln=14,r=8,p=1$${b64(salt)}$${b64(hash)}` };
    });
    add('django', (pw) => {
      const salt = randomBytes(9).toString('base64url');
      return { passwordHashFormat: 'django', passwordHash: `pbkdf2_sha256$30000$${salt}$${b64(pbkdf2Sync(pw, salt, 30_000, 32, 'sha256'))}` };
    });
    add('keycloak-sha256', (pw) => ({ passwordHashFormat: 'keycloak', passwordHash: keycloakCredential(pw, 'pbkdf2-sha256', 'sha256') }));
    add('keycloak-sha512', (pw) => ({ passwordHashFormat: 'keycloak', passwordHash: keycloakCredential(pw, 'pbkdf2-sha512', 'sha512') }));
    add('keycloak-sha1', (pw) => ({ passwordHashFormat: 'keycloak', passwordHash: keycloakCredential(pw, 'pbkdf2', 'sha1') }));
    add('firebase', (pw) => {
      const salt = randomBytes(12);
      return { passwordHashFormat: 'firebase-scrypt', passwordHash: firebaseHash(pw, salt), passwordSalt: b64(salt) };
    });

    const settings = { settings: { firebaseScrypt: firebase } };
    const imported = await importNdjson(pool.id, [settings, ...users.map((user) => user.line)]);
    expect(imported.status).toBe(200);
    expect(imported.body.failures).toEqual([]);
    expect(imported.body).toMatchObject({ created: users.length, failed: 0, committed: true });

    for (const user of users) {
      expect(isPoolArgon2id(await storedHash(pool.id, user.email))).toBe(false);
      // A wrong password is refused whatever the format.
      await expect(signIn(config, tarn.url, { email: user.email, password: `${user.password}x` })).rejects.toThrow(/expected a redirect/);
      const { tokens } = await signIn(config, tarn.url, user);
      expect(tokens.claims()!.email).toBe(user.email);
      expect(isPoolArgon2id(await storedHash(pool.id, user.email))).toBe(true);
      // …and the new hash is the password's.
      expect(await argon2.verify(await storedHash(pool.id, user.email), user.password)).toBe(true);
    }
  });

  it("matches the example published with Firebase's scrypt tool", async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const imported = await importNdjson(pool.id, [
      {
        settings: {
          firebaseScrypt: {
            signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
            saltSeparator: 'Bw==',
            rounds: 8,
            memCost: 14,
          },
        },
      },
      {
        email: 'user1@example.test',
        passwordHashFormat: 'firebase-scrypt',
        passwordHash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
        passwordSalt: '42xEC+ixf3L2lw==',
      },
    ]);
    expect(imported.body).toMatchObject({ created: 1, failed: 0 });
    const { tokens } = await signIn(config, tarn.url, { email: 'user1@example.test', password: 'user1password' });
    expect(tokens.claims()!.email).toBe('user1@example.test');
  });

  it('names the field of a hash it cannot read, and of a Firebase hash without the project parameters', async () => {
    const pool = await createPool(tarn);
    const imported = await importNdjson(pool.id, [
      { email: 'a@example.test', passwordHashFormat: 'bcrypt', passwordHash: 'not-bcrypt' },
      { email: 'b@example.test', passwordHashFormat: 'firebase-scrypt', passwordHash: b64(randomBytes(64)), passwordSalt: 'c2FsdA==' },
      { email: 'c@example.test', passwordHash: '$2b$10$abc' },
      { email: 'd@example.test', passwordHashFormat: 'keycloak', passwordHash: { secretData: '{}', credentialData: '{"algorithm":"md5"}' } },
    ]);
    expect(imported.body.failed).toBe(4);
    expect(imported.body.failures).toEqual([
      { line: 1, errors: [expect.objectContaining({ field: 'passwordHash', detail: expect.stringContaining('bcrypt') })] },
      { line: 2, errors: [expect.objectContaining({ field: 'passwordHash', detail: expect.stringContaining('Firebase scrypt parameters') })] },
      { line: 3, errors: [expect.objectContaining({ field: 'passwordHashFormat', detail: 'Is required with passwordHash.' })] },
      { line: 4, errors: [expect.objectContaining({ field: 'passwordHash' })] },
    ]);
  });

  it('refuses hashes whose check would cost a sign-in unbounded time or memory', async () => {
    const pool = await createPool(tarn);
    const argon2Hash = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    const salt = b64(randomBytes(16));
    const imported = await importNdjson(pool.id, [
      { email: 'a@example.test', passwordHashFormat: 'bcrypt', passwordHash: bcrypt.hashSync('pw', 4).replace(/^\$2b\$04\$/, '$2b$20$') },
      { email: 'b@example.test', passwordHashFormat: 'argon2', passwordHash: argon2Hash.replace('m=4096', 'm=4194304') },
      { email: 'c@example.test', passwordHashFormat: 'scrypt', passwordHash: `$scrypt$ln=22,r=8,p=1$${salt}$${b64(randomBytes(32))}` },
      { email: 'd@example.test', passwordHashFormat: 'django', passwordHash: `pbkdf2_sha256$50000000$salt$${b64(randomBytes(32))}` },
      { email: 'e@example.test', passwordHashFormat: 'argon2', passwordHash: argon2Hash },
    ]);
    expect(imported.body).toMatchObject({ created: 1, failed: 4 });
    expect(imported.body.failures.map((failure: { line: number; errors: { field: string }[] }) => [failure.line, failure.errors[0]!.field])).toEqual([
      [1, 'passwordHash'],
      [2, 'passwordHash'],
      [3, 'passwordHash'],
      [4, 'passwordHash'],
    ]);
  });
});

describe('requirePasswordChange with imported hashes', () => {
  it("marks a user whose old password fails the pool's policy at the first sign-in, and not one whose password passes", async () => {
    const pool = await createPool(tarn, { passwordPolicy: { minLength: 14 } });
    const app = await createClient(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const weak = { email: 'weak@example.test', password: 'short-pw' };
    const strong = { email: 'strong@example.test', password: 'a long enough old password' };
    const imported = await importNdjson(
      pool.id,
      [weak, strong].map((user) => ({ email: user.email, passwordHashFormat: 'bcrypt', passwordHash: bcrypt.hashSync(user.password, 5) })),
      '?requirePasswordChange=true',
    );
    expect(imported.body).toMatchObject({ created: 2, failed: 0 });
    const flags = () =>
      tarn.database.handle.db.selectFrom('users').select(['email', 'password_change']).where('pool_id', '=', pool.id).orderBy('email').execute();
    expect(await flags()).toEqual([
      { email: 'strong@example.test', password_change: 'if_weak' },
      { email: 'weak@example.test', password_change: 'if_weak' },
    ]);
    // The weak one is asked for a new password at once (test/import/password-change.test.ts): the application waits.
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    const changePage = await browser.submit(start.page, weak);
    expect(changePage.leftTo).toBeUndefined();
    expect(visibleText(changePage.html)).toContain('Choose a new password');
    await signIn(config, tarn.url, strong);
    expect(await flags()).toEqual([
      { email: 'strong@example.test', password_change: null },
      { email: 'weak@example.test', password_change: 'required' },
    ]);
  });
});
