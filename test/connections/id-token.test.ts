/**
 * An upstream ID token's issuer and signature (docs/adr/0900), in particular Microsoft Entra ID's
 * multi-tenant endpoints: their discovery publishes `https://login.microsoftonline.com/{tenantid}/v2.0`
 * and each token's `iss` must be that template filled with the token's own `tid`. The tokens here are
 * signed with a key of the test's own, as Entra signs its tokens, and checked against its JWKS.
 */
import * as jose from 'jose';
import { expectedIssuer, IdTokenRefused, TenantNotAllowed, verifyUpstreamIdToken } from '../../src/connections/id-token.js';

const TEMPLATE = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const TENANT_A = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TENANT_B = '9188040d-6c67-4c5b-b112-36a304b66dad';
const CLIENT = '6731de76-14a6-49ae-97bc-6eba6914391e';

let keys: jose.JWTVerifyGetKey;
let privateKey: jose.CryptoKey;
beforeAll(async () => {
  const pair = await jose.generateKeyPair('RS256');
  privateKey = pair.privateKey;
  keys = jose.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] });
});

function token(claims: Record<string, unknown>, key = privateKey) {
  return new jose.SignJWT({ sub: 'upstream-subject', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setAudience(CLIENT)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe("Microsoft's multi-tenant issuer template", () => {
  it("accepts a token from tenant A whose iss is the template with A's tid", async () => {
    const idToken = await token({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0`, tid: TENANT_A });
    const claims = await verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT });
    expect(claims).toMatchObject({ tid: TENANT_A, sub: 'upstream-subject' });
  });

  it('refuses a token whose iss names another tenant than its tid', async () => {
    const idToken = await token({ iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0`, tid: TENANT_A });
    await expect(verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT })).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'iss',
    });
  });

  it('refuses a token without a tid, or with a tid that is not a tenant id', async () => {
    const noTid = await token({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0` });
    await expect(verifyUpstreamIdToken(noTid, keys, { issuer: TEMPLATE, audience: CLIENT })).rejects.toBeInstanceOf(IdTokenRefused);
    // A tid crafted to make the filled template equal some other issuer is not a tenant id.
    const crafted = await token({ iss: 'https://login.microsoftonline.com/evil/v2.0/x/v2.0', tid: 'evil/v2.0/x' });
    await expect(verifyUpstreamIdToken(crafted, keys, { issuer: TEMPLATE, audience: CLIENT })).rejects.toBeInstanceOf(IdTokenRefused);
  });

  it('refuses a right iss and tid under a signature the JWKS does not hold', async () => {
    const stranger = await jose.generateKeyPair('RS256');
    const idToken = await token({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0`, tid: TENANT_A }, stranger.privateKey);
    await expect(verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT })).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('honours a template only at Microsoft: another upstream gets no issuer from a claim', () => {
    expect(() => expectedIssuer('https://idp.example/{tenantid}', { tid: TENANT_A })).toThrow(IdTokenRefused);
  });

  it('leaves a fixed issuer as it is, whatever the tid', async () => {
    const single = `https://login.microsoftonline.com/${TENANT_A}/v2.0`;
    expect(expectedIssuer(single, { tid: TENANT_B })).toBe(single);
    const other = await token({ iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0`, tid: TENANT_B });
    await expect(verifyUpstreamIdToken(other, keys, { issuer: single, audience: CLIENT })).rejects.toMatchObject({ claim: 'iss' });
  });
});

describe("a multi-tenant connection's allow-list of tenants", () => {
  const TENANT_C = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

  it('accepts a signed token from a listed tenant, whatever the case of its id', async () => {
    const idToken = await token({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0`, tid: TENANT_A });
    const claims = await verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT, tenants: [TENANT_C, TENANT_A.toUpperCase()] });
    expect(claims.tid).toBe(TENANT_A);
  });

  it('refuses a properly signed token from a tenant outside the list', async () => {
    const idToken = await token({ iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0`, tid: TENANT_B });
    // Without a list the same token is accepted: the refusal is the list's doing.
    await expect(verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT })).resolves.toMatchObject({ tid: TENANT_B });
    await expect(verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT, tenants: [TENANT_A, TENANT_C] })).rejects.toBeInstanceOf(
      TenantNotAllowed,
    );
  });

  it('checks the signature before the list: a forged token of a listed tenant is still refused as forged', async () => {
    const stranger = await jose.generateKeyPair('RS256');
    const idToken = await token({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0`, tid: TENANT_A }, stranger.privateKey);
    await expect(verifyUpstreamIdToken(idToken, keys, { issuer: TEMPLATE, audience: CLIENT, tenants: [TENANT_A] })).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });
});
