/**
 * A second factor with an authenticator app (RFC 6238 TOTP) on the hosted sign-in: a pool
 * that requires MFA makes a user enrol (QR code and manual key) before the application gets
 * its code; later sign-ins ask for a code after the password; a wrong or reused code is
 * refused (RFC 6238 §5.2); the ID token says which methods were used (RFC 8176 amr).
 */
import * as OTPAuth from 'otpauth';
import { decodeJwt } from 'jose';
import { Browser, decodeEntities, visibleText, type Page } from '../support/browser.js';
import { dumpDatabase } from '../support/dump.js';
import { finishAuthorization, setUpSignIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

/** What the user's authenticator app shows, `steps` periods from now. */
function appCode(secret: string, steps = 0): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: Date.now() + steps * 30_000,
  });
}

function manualKey(page: Page): string {
  const key = /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(page.html);
  if (!key) throw new Error(`no manual key on ${page.url}`);
  return key[1]!;
}

async function passwordStep(
  tarnUrl: string,
  config: Parameters<typeof startAuthorization>[0],
  user: { email: string; password: string },
  browser = new Browser(tarnUrl),
) {
  const start = await startAuthorization(config, browser, { scope: 'openid' });
  const page = await browser.submit(start.page, { email: user.email, password: user.password });
  return { browser, start, page };
}

/** Confirms an enrolment with the app's code; returns the recovery codes shown once, and where "continue" leads. */
async function confirmEnrolment(browser: Browser, page: Page, secret: string) {
  const shown = await browser.submit(page, { code: appCode(secret) }, 'mfa/enrol');
  expect(visibleText(shown.html)).toContain('Your recovery codes');
  const codes = [...shown.html.matchAll(/<li><code>([A-Z2-7]{5}-[A-Z2-7]{5})<\/code><\/li>/g)].map((match) => match[1]!);
  const next = /<a id="continue"[^>]*href="([^"]+)"/.exec(shown.html)![1]!;
  const page2 = await allow(browser, await browser.get(decodeEntities(next)));
  return { codes, page: page2 };
}

async function allow(browser: Browser, page: Page & { leftTo?: string }) {
  return !page.leftTo && page.html.includes('name="decision"') ? browser.submit(page, { decision: 'allow' }) : page;
}

describe('TOTP second factor (RFC 6238)', () => {
  it('required policy: enrolment by manual key before the application gets its code, then password + code', async () => {
    const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'required' } } });

    const first = await passwordStep(tarn.url, config, user);
    expect(first.page.leftTo).toBeUndefined();
    expect(visibleText(first.page.html)).toContain('Set up two-step verification');
    expect(first.page.html).toMatch(/<svg role="img" aria-label="QR code[^"]*"/);
    expect(first.page.html).not.toContain('mfa/skip');
    const secret = manualKey(first.page);

    // Going back to the provider without a code does not sign the user in.
    const resumed = await first.browser.get(first.start.page.url);
    expect(resumed.leftTo).toBeUndefined();

    const wrongFirst = await first.browser.submit(first.page, { code: appCode(secret, 5) }, 'mfa/enrol');
    expect(wrongFirst.status).toBe(400);
    expect(wrongFirst.leftTo).toBeUndefined();
    expect(manualKey(wrongFirst)).toBe(secret);

    const enrolled = await confirmEnrolment(first.browser, wrongFirst, secret);
    expect(enrolled.codes).toHaveLength(10);
    expect(new Set(enrolled.codes).size).toBe(10);
    const { tokens } = await finishAuthorization(config, enrolled.page.leftTo, first.start);
    const claims = decodeJwt(tokens.id_token!);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));

    // The secret is sealed at rest.
    expect(await dumpDatabase(tarn.database)).not.toContain(secret);

    // A new browser: password, then the app's code.
    const second = await passwordStep(tarn.url, config, user);
    expect(visibleText(second.page.html)).toContain('Two-step verification');
    const reused = await second.browser.submit(second.page, { code: appCode(secret) });
    expect(reused.status).toBe(401);
    expect(visibleText(reused.html)).toContain('already used');
    const wrong = await second.browser.submit(reused, { code: appCode(secret, 7) });
    expect(wrong.status).toBe(401);
    expect(wrong.leftTo).toBeUndefined();
    const next = appCode(secret, 1);
    const signedIn = await allow(second.browser, await second.browser.submit(wrong, { code: next }));
    const again = await finishAuthorization(config, signedIn.leftTo, second.start);
    expect(decodeJwt(again.tokens.id_token!).amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));

    // The same code once more, in a third browser: refused.
    const third = await passwordStep(tarn.url, config, user);
    const replay = await third.browser.submit(third.page, { code: next });
    expect(replay.status).toBe(401);
    expect(replay.leftTo).toBeUndefined();
  });

  it('a recovery code signs in once and never again, and is stored only as a hash', async () => {
    const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'required' } } });
    const first = await passwordStep(tarn.url, config, user);
    const { codes } = await confirmEnrolment(first.browser, first.page, manualKey(first.page));
    const dump = await dumpDatabase(tarn.database);
    for (const code of codes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace('-', ''));
    }

    const lost = await passwordStep(tarn.url, config, user);
    const wrong = await lost.browser.submit(lost.page, { recovery_code: 'AAAAA-AAAAA' }, 'mfa/recovery');
    expect(wrong.status).toBe(401);
    expect(visibleText(wrong.html)).toContain('That recovery code is not right');
    // Typed in lower case without the dash: the same code.
    const recovered = await allow(lost.browser, await lost.browser.submit(wrong, { recovery_code: codes[3]!.toLowerCase().replace('-', '') }, 'mfa/recovery'));
    const { tokens } = await finishAuthorization(config, recovered.leftTo, lost.start);
    expect(decodeJwt(tokens.id_token!).amr).toEqual(expect.arrayContaining(['pwd', 'mfa']));

    const again = await passwordStep(tarn.url, config, user);
    const reused = await again.browser.submit(again.page, { recovery_code: codes[3]! }, 'mfa/recovery');
    expect(reused.status).toBe(401);
    expect(reused.leftTo).toBeUndefined();
    // Another of the ten still works.
    const other = await allow(again.browser, await again.browser.submit(reused, { recovery_code: codes[4]! }, 'mfa/recovery'));
    expect(other.leftTo).toMatch(/^http:\/\/rp\.example\.test\/callback\?code=/);
  });

  it('step-up: acr_values for MFA asks a password-only session for its second factor, and the ID token says so', async () => {
    const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'off' } } });
    expect(config.serverMetadata().acr_values_supported).toEqual(expect.arrayContaining(['urn:tarn:acr:mfa', 'urn:tarn:acr:pwd']));
    const stepUp = { scope: 'openid', params: { acr_values: 'urn:tarn:acr:mfa' } };

    // Asked for MFA, a user without a factor enrols after the password, even where the pool's policy is off.
    const enrolling = new Browser(tarn.url);
    const first = await startAuthorization(config, enrolling, stepUp);
    const enrolPage = await enrolling.submit(first.page, { email: user.email, password: user.password });
    expect(enrolPage.html).not.toContain('mfa/skip');
    const secret = manualKey(enrolPage);
    const enrolled = await confirmEnrolment(enrolling, enrolPage, secret);
    const firstTokens = await finishAuthorization(config, enrolled.page.leftTo, first);
    expect(decodeJwt(firstTokens.tokens.id_token!)).toMatchObject({ acr: 'urn:tarn:acr:mfa' });

    // A plain request in another browser: the pool does not ask for the factor, and the token says password only.
    const browser = new Browser(tarn.url);
    const plain = await startAuthorization(config, browser, { scope: 'openid' });
    const signedIn = await allow(browser, await browser.submit(plain.page, { email: user.email, password: user.password }));
    const plainTokens = await finishAuthorization(config, signedIn.leftTo, plain);
    expect(decodeJwt(plainTokens.tokens.id_token!)).toMatchObject({ acr: 'urn:tarn:acr:pwd', amr: ['pwd'] });

    // The same session, now asked for MFA: the code page, not the password page.
    const raised = await startAuthorization(config, browser, stepUp);
    expect(raised.page.leftTo).toBeUndefined();
    expect(visibleText(raised.page.html)).toContain('Two-step verification');
    expect(raised.page.html).not.toContain('name="password"');
    const done = await allow(browser, await browser.submit(raised.page, { code: appCode(secret, 1) }));
    const raisedTokens = await finishAuthorization(config, done.leftTo, raised);
    const claims = decodeJwt(raisedTokens.tokens.id_token!);
    expect(claims.acr).toBe('urn:tarn:acr:mfa');
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.sub).toBe(user.id);

    // Asked again in the same session: MFA already took place, nothing is asked.
    const again = await startAuthorization(config, browser, stepUp);
    expect(again.page.leftTo).toMatch(/^http:\/\/rp\.example\.test\/callback\?code=/);
  });

  it('an admin lists and removes a lost factor (audited); another pool cannot see it; the user enrols afresh', async () => {
    const { pool, user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'required' } } });
    const other = await setUpSignIn(tarn);
    const first = await passwordStep(tarn.url, config, user);
    await confirmEnrolment(first.browser, first.page, manualKey(first.page));

    const listed = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/factors`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: 'totp', type: 'totp' }),
      expect.objectContaining({ id: 'recovery_codes', type: 'recovery_codes', remaining: 10 }),
    ]);
    expect(JSON.stringify(listed.body)).not.toMatch(/secret/i);
    expect((await tarn.admin('GET', `/pools/${other.pool.id}/users/${user.id}/factors`)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${other.pool.id}/users/${user.id}/factors/totp`)).status).toBe(404);
    const unknown = await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/factors/sms`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');

    expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/factors/totp`)).status).toBe(204);
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/factors`)).body.items).toEqual([]);
    const audit = await tarn.admin('GET', `/pools/${pool.id}/audit`);
    expect(JSON.stringify(audit.body.items)).toContain('factors.delete');

    const fresh = await passwordStep(tarn.url, config, user);
    expect(visibleText(fresh.page.html)).toContain('Set up two-step verification');
  });

  it('optional policy: enrolment is offered and can be skipped; the ID token then says password only', async () => {
    const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'optional' } } });
    const { browser, start, page } = await passwordStep(tarn.url, config, user);
    expect(page.html).toContain('/mfa/skip');
    // "Not now" is a form: without its CSRF token it is refused, and a plain link (GET) does nothing.
    const skipAction = decodeEntities(/action="([^"]*\/mfa\/skip)"/.exec(page.html)![1]!);
    expect((await browser.navigate('POST', skipAction, { csrf: 'forged' })).status).toBe(403);
    expect((await browser.get(skipAction)).leftTo).toBeUndefined();
    const done = await allow(browser, await browser.submit(page, {}, '/mfa/skip'));
    const { tokens } = await finishAuthorization(config, done.leftTo, start);
    const amr = decodeJwt(tokens.id_token!).amr as string[];
    expect(amr).toContain('pwd');
    expect(amr).not.toContain('mfa');
  });

  it('required policy: the skip link of an optional pool does not get around enrolment', async () => {
    const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'required' } } });
    const { browser, page } = await passwordStep(tarn.url, config, user);
    const base = /action="([^"]*\/mfa\/enrol)"/.exec(page.html)![1]!.replace(/\/enrol$/, '');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
    const skipped = await browser.navigate('POST', `${decodeEntities(base)}/skip`, { csrf: decodeEntities(csrf) });
    expect(skipped.leftTo).toBeUndefined();
    expect(skipped.status).toBe(400);
  });

  it('wrong codes lock the account like wrong passwords, and a right password does not reset the count', async () => {
    const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'required' }, lockout: { maxAttempts: 3, windowSeconds: 600 } } });
    const first = await passwordStep(tarn.url, config, user);
    const secret = manualKey(first.page);
    await confirmEnrolment(first.browser, first.page, secret);
    for (let round = 0; round < 3; round += 1) {
      const attempt = await passwordStep(tarn.url, config, user);
      const wrong = await attempt.browser.submit(attempt.page, { code: appCode(secret, 9) });
      expect(wrong.status).toBe(401);
    }
    // Locked: the right code (and the right password) no longer sign in.
    const locked = await passwordStep(tarn.url, config, user);
    expect(locked.page.status).toBe(401);
    // The password is right, so the page names the lock the wrong codes set (ADR 0400).
    expect(visibleText(locked.page.html)).toContain('This account is locked after too many failed attempts.');
  });

  it('an admin sees mfa in the pool settings and cannot set an unknown policy', async () => {
    const { pool } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'optional' } } });
    const read = await tarn.admin('GET', `/pools/${pool.id}`);
    expect(read.body.signIn.mfa).toBe('optional');
    const bad = await tarn.admin('PATCH', `/pools/${pool.id}`, { signIn: { mfa: 'sometimes' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(bad.body)).toContain('mfa');
  });
});
