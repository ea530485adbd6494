/**
 * A relying party decides access from the `groups` claim (docs/design.md#groups; ADR 0201).
 * The pool has employees → engineering → platform; a member of platform signs in with
 * openid-client (authorization code + PKCE, OIDC Core §3.1):
 * - with scope `groups`, the ID token, userinfo and the access token's introspection
 *   (RFC 7662) name all three groups;
 * - without it, none of them has `groups`, and the group query never runs.
 */
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function createGroup(poolId: string, name: string, parentId?: string): Promise<string> {
  const response = await tarn.admin('POST', `/pools/${poolId}/groups`, { name, ...(parentId ? { parentId } : {}) });
  if (response.status !== 201) throw new Error(`group creation failed: ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

/** A pool with the three-level tree, an application, and a member of `platform`. */
async function platformEngineer() {
  const pool = await createPool(tarn, { name: 'Acme' });
  const employees = await createGroup(pool.id, 'employees');
  const engineering = await createGroup(pool.id, 'engineering', employees);
  const platform = await createGroup(pool.id, 'platform', engineering);
  await createGroup(pool.id, 'sales', employees); // a sibling the user is not in
  const user = await createUser(tarn, pool.id);
  expect((await tarn.admin('PUT', `/pools/${pool.id}/groups/${platform}/members/${user.id}`)).status).toBe(204);
  const app = await createClient(tarn, pool.id, { name: 'Wiki' });
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, user, config, groups: { employees, engineering, platform } };
}

describe('the groups claim', () => {
  it('advertises the groups scope and claim in discovery', async () => {
    const { config } = await platformEngineer();
    expect(config.serverMetadata().scopes_supported).toContain('groups');
    expect(config.serverMetadata().claims_supported).toContain('groups');
  });

  it('with scope "openid groups": the ID token, userinfo and introspection name every group, nested ones included', async () => {
    const { user, config } = await platformEngineer();
    const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid groups' });
    const expected = ['employees', 'engineering', 'platform'];

    const idToken = tokens.claims()!;
    expect(idToken.sub).toBe(user.id);
    expect(idToken.groups).toEqual(expected);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info.groups).toEqual(expected);

    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, sub: user.id, scope: expect.stringContaining('groups'), groups: expected });
  });

  it('without the scope: no groups anywhere, and the group query does not run', async () => {
    const { user, config } = await platformEngineer();
    const lookups = jest.spyOn(tarn.tarn.services.groups, 'listGroupNames');
    try {
      const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid profile email' });
      expect(tokens.claims()!.sub).toBe(user.id);
      expect(tokens.claims()).not.toHaveProperty('groups');
      const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
      expect(info.email).toBe(user.email);
      expect(info).not.toHaveProperty('groups');
      const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
      expect(introspection.active).toBe(true);
      expect(introspection).not.toHaveProperty('groups');
      expect(lookups).not.toHaveBeenCalled();
    } finally {
      lookups.mockRestore();
    }
  });

  it('names the consent: the user sees that the application asks for their groups', async () => {
    const { user, config } = await platformEngineer();
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser, { scope: 'openid groups' });
    const consent = await browser.submit(start.page, { email: user.email, password: user.password });
    expect(visibleText(consent.html)).toContain('See the groups you belong to');
  });

  it("reflects changes: userinfo and refreshed tokens follow the user's memberships", async () => {
    const { pool, user, config: rp, groups } = await platformEngineer();
    const { tokens } = await signIn(rp, tarn.url, user, { scope: 'openid groups' });
    expect(tokens.claims()!.groups).toEqual(['employees', 'engineering', 'platform']);

    // Moved from platform to sales: userinfo is read at request time.
    const sales = (await tarn.admin('GET', `/pools/${pool.id}/groups?name=sales`)).body.items[0].id as string;
    await tarn.admin('DELETE', `/pools/${pool.id}/groups/${groups.platform}/members/${user.id}`);
    await tarn.admin('PUT', `/pools/${pool.id}/groups/${sales}/members/${user.id}`);
    expect((await oidc.fetchUserInfo(rp, tokens.access_token, user.id)).groups).toEqual(['employees', 'sales']);

    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()!.groups).toEqual(['employees', 'sales']);
    expect((await oidc.tokenIntrospection(rp, refreshed.access_token)).groups).toEqual(['employees', 'sales']);
  });

  it('gives an empty list to a user in no group who asked for the scope', async () => {
    const { pool, config } = await platformEngineer();
    const loner = await createUser(tarn, pool.id);
    const { tokens } = await signIn(config, tarn.url, loner, { scope: 'openid groups' });
    expect(tokens.claims()!.groups).toEqual([]);
  });

  it('releases groups asked for by name through the claims parameter (OIDC Core §5.5)', async () => {
    const { user, config } = await platformEngineer();
    const { tokens } = await signIn(config, tarn.url, user, {
      scope: 'openid',
      params: { claims: JSON.stringify({ id_token: { groups: null } }) },
    });
    expect(tokens.claims()!.groups).toEqual(['employees', 'engineering', 'platform']);
  });
});
