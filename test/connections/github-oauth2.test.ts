/**
 * An oauth2 connection with the GitHub preset, against a stand-in that speaks GitHub's
 * documented OAuth and REST shapes (test/support/github-stand-in.ts): the numeric `id` is
 * the subject, the primary email and its verification come from /user/emails, the profile
 * maps into the pool's schema, and the relying party gets the downstream user's `sub`.
 */
import { Browser, decodeEntities, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { startGitHubStandIn, type GitHubStandIn } from '../support/github-stand-in.js';
import { discover, finishAuthorization, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let github: GitHubStandIn;
beforeAll(async () => {
  tarn = await startTarn({ OUTGOING_NETWORKS: 'loopback' });
  github = await startGitHubStandIn('gh-client', 'gh-secret');
});
afterAll(async () => {
  await github.close();
  await tarn.close();
});

async function githubPool() {
  const pool = await createPool(tarn);
  const created = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
    name: 'github',
    preset: 'github',
    clientId: 'gh-client',
    clientSecret: 'gh-secret',
    // The preset's endpoints, moved to the stand-in.
    authorizationEndpoint: `${github.url}/login/oauth/authorize`,
    tokenEndpoint: `${github.url}/login/oauth/access_token`,
    profileEndpoint: `${github.url}/user`,
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const app = await createClient(tarn, pool.id);
  const rp = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, rp };
}

async function continueWithGitHub(rp: Awaited<ReturnType<typeof githubPool>>['rp']) {
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(rp, browser);
  const button = /<a[^>]*href="([^"]*)"[^>]*>[^<]*Continue with GitHub/.exec(start.page.html)!;
  const toGitHub = await browser.get(decodeEntities(button[1]!));
  expect(toGitHub.leftTo).toContain(`${github.url}/login/oauth/authorize`);
  let page = await browser.get(toGitHub.leftTo!);
  if (!page.leftTo && page.html.includes('name="decision"')) page = await browser.submit(page, { decision: 'allow' });
  return { page, start };
}

describe('oauth2 connection: GitHub', () => {
  it('provisions from /user and the primary verified email of /user/emails', async () => {
    const { pool, rp } = await githubPool();
    github.login({
      login: 'octocat',
      id: 583231,
      name: 'The Octocat',
      emails: [
        { email: 'old@example.test', primary: false, verified: false },
        { email: 'octocat@example.test', primary: true, verified: true },
      ],
    });
    const { page, start } = await continueWithGitHub(rp);
    const { tokens } = await finishAuthorization(rp, page.leftTo, start);

    const users = await tarn.admin('GET', `/pools/${pool.id}/users?email=octocat@example.test`);
    const user = users.body.items[0];
    expect(user).toMatchObject({
      status: 'active',
      emailVerified: true,
      profile: { name: 'The Octocat', preferred_username: 'octocat', picture: 'https://avatars.example.test/u/583231' },
    });
    expect(tokens.claims()!.sub).toBe(user.id);
    const identities = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/identities`);
    expect(identities.body.items).toEqual([expect.objectContaining({ connection: 'github', subject: '583231' })]);
    // client_secret_post, as GitHub documents.
    expect(github.tokenRequests.at(-1)!.get('client_secret')).toBe('gh-secret');
  });

  it('an unverified GitHub email matching an existing user links nothing', async () => {
    const { pool, rp } = await githubPool();
    const existing = await createUser(tarn, pool.id, { email: 'mallory-target@example.test' });
    github.login({ login: 'mallory', id: 666, name: 'Mallory', emails: [{ email: 'mallory-target@example.test', primary: true, verified: false }] });
    const { page } = await continueWithGitHub(rp);
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(409);
    expect(visibleText(page.html)).toContain('cannot be linked to it automatically');
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${existing.id}/identities`)).body.items).toEqual([]);
  });
});
