/**
 * A pool's branding through the admin API, as an administrator uses it: colours refused
 * when they cannot be read (with the measured ratio), per-language texts, and an uploaded
 * logo served under its content hash with long-lived caching and a safe type.
 */
import { createPool } from '../support/fixtures.js';
import { onePixelPng } from '../support/images.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

describe('colours are checked for contrast when saved', () => {
  it('refuses light grey text on white, naming the field and the measured ratio', async () => {
    const pool = await createPool(tarn);
    const refused = await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { textColor: '#aaaaaa', backgroundColor: '#ffffff' } });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const error = refused.body.errors.find((item: { field: string }) => item.field === 'branding.textColor');
    expect(error.detail).toContain('2.32:1');
    expect(error.detail).toContain('4.5:1');
    // Nothing was saved.
    expect((await tarn.admin('GET', `/pools/${pool.id}`)).body.branding.textColor).toBeNull();
  });

  it('refuses a primary colour on which white button text cannot be read', async () => {
    const pool = await createPool(tarn);
    const refused = await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { primaryColor: '#ffd400' } });
    expect(refused.status).toBe(400);
    const error = refused.body.errors.find((item: { field: string }) => item.field === 'branding.primaryColor');
    expect(error.detail).toMatch(/White button text on #ffd400 has a contrast of 1\.\d\d:1/);
  });

  it('refuses a primary colour too close to a dark background for buttons and focus rings (3:1)', async () => {
    const pool = await createPool(tarn);
    const refused = await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { scheme: 'dark', primaryColor: '#1d3f8f' } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((item: { detail: string }) => item.detail).join(' ')).toMatch(
      /on background colour #1a1f27 have a contrast of 1\.\d\d:1; at least 3:1/,
    );
  });

  it('refuses a tagColor that white text cannot be read on, and accepts a dark one', async () => {
    const refused = await tarn.admin('POST', '/pools', { name: 'Pale', tagColor: '#7fdbff' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].field).toBe('tagColor');
    expect(refused.body.errors[0].detail).toMatch(/contrast of 1\.\d\d:1/);
    const accepted = await tarn.admin('POST', '/pools', { name: 'Deep', tagColor: '#0b7a75' });
    expect(accepted.status).toBe(201);
  });

  it('saves readable colours, the scheme and per-language texts, and clears one with null', async () => {
    const pool = await createPool(tarn);
    const saved = await tarn.admin('PATCH', `/pools/${pool.id}`, {
      branding: {
        primaryColor: '#0b5cad',
        backgroundColor: '#fffdf7',
        textColor: '#222222',
        scheme: 'light',
        title: { en: 'Harbour', de: 'Hafen' },
        signInSubtitle: { en: 'Welcome aboard' },
        termsUrl: { en: 'https://harbour.example/terms' },
      },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.branding).toMatchObject({ primaryColor: '#0b5cad', scheme: 'light', title: { en: 'Harbour', de: 'Hafen' }, logo: null });
    const cleared = await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { title: null } });
    expect(cleared.body.branding.title).toEqual({});
    expect(cleared.body.branding.primaryColor).toBe('#0b5cad');
    const css = await fetch(`${tarn.url}/pools/${pool.id}/branding.css`);
    const text = await css.text();
    expect(text).toContain('--accent: #0b5cad;');
    expect(text).toContain('--ink: #222222;');
  });

  it('refuses a text in a language tag that is not one, naming it', async () => {
    const pool = await createPool(tarn);
    const refused = await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { footer: { 'not a language': 'x' } } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].field).toMatch(/^branding\.footer/);
  });
});

describe('an uploaded logo', () => {
  it('is stored, served under its hash with immutable caching, and replaced by a new URL on a new upload', async () => {
    const pool = await createPool(tarn);
    const png = onePixelPng([11, 92, 173]);
    const uploaded = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/png', data: png.toString('base64') });
    expect(uploaded.status).toBe(200);
    const logo = uploaded.body.logo;
    expect(logo).toMatchObject({ mediaType: 'image/png', size: png.length });
    expect(logo.url).toContain(logo.sha256.slice(0, 32));

    const served = await fetch(logo.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    const again = await fetch(logo.url, { headers: { 'If-None-Match': served.headers.get('etag')! } });
    expect(again.status).toBe(304);

    const replaced = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/png', data: onePixelPng([0, 0, 0]).toString('base64') });
    expect(replaced.body.logo.url).not.toBe(logo.url);
    expect((await fetch(logo.url)).status).toBe(404);
    expect((await fetch(replaced.body.logo.url)).status).toBe(200);

    expect((await tarn.admin('DELETE', `/pools/${pool.id}/branding/logo`)).status).toBe(204);
    expect((await fetch(replaced.body.logo.url)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${pool.id}/branding`)).body.logo).toBeNull();
  });

  it('refuses bytes that are not what their media type says, and a file over 256 KiB', async () => {
    const pool = await createPool(tarn);
    const html = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');
    const notPng = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/png', data: html });
    expect(notPng.status).toBe(400);
    expect(notPng.body.errors[0]).toMatchObject({ field: 'data', detail: 'The file is not a PNG image.' });
    const big = Buffer.concat([onePixelPng([1, 2, 3]), Buffer.alloc(300 * 1024)]).toString('base64');
    const tooBig = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/png', data: big });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.errors[0].field).toBe('data');
    expect(tooBig.body.errors[0].detail).toContain('256 KiB');
  });

  it('a hostile SVG is sanitised: no script, event handler, external reference or foreignObject survives, and it is served with its own policy', async () => {
    const pool = await createPool(tarn);
    const hostile = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 40 40" onload="alert('load')">
  <script>alert('script')</script>
  <style>@import url(https://attacker.example/x.css);</style>
  <circle cx="20" cy="20" r="18" fill="#0b5cad" onclick="alert('click')" style="fill:url(https://attacker.example/p.svg#g)"/>
  <rect width="10" height="10" fill="url(#local)"/>
  <image xlink:href="https://attacker.example/track.png" width="1" height="1"/>
  <use xlink:href="https://attacker.example/sprite.svg#icon"/>
  <a href="javascript:alert('link')"><text x="0" y="10">click</text></a>
  <foreignObject width="40" height="40"><div xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://attacker.example/"></iframe></div></foreignObject>
  <animate attributeName="href" to="javascript:alert('animate')"/>
  <path d="M2 2L38 38" stroke="#222222"/>
</svg>`;
    const uploaded = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/svg+xml', data: Buffer.from(hostile).toString('base64') });
    expect(uploaded.status).toBe(200);
    const served = await fetch(uploaded.body.logo.url);
    expect(served.headers.get('content-type')).toBe('image/svg+xml');
    expect(served.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    const svg = await served.text();
    for (const bad of ['script', 'onload', 'onclick', 'attacker.example', 'javascript:', 'foreignObject', 'iframe', '<style', '<image', '<animate', '<a ']) {
      expect(svg).not.toContain(bad);
    }
    // The drawing itself is kept.
    expect(svg).toContain('<circle cx="20" cy="20" r="18" fill="#0b5cad"/>');
    expect(svg).toContain('fill="url(#local)"');
    expect(svg).toContain('<path d="M2 2L38 38" stroke="#222222"/>');

    const entity = '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>';
    const refused = await tarn.admin('PUT', `/pools/${pool.id}/branding/favicon`, { mediaType: 'image/svg+xml', data: Buffer.from(entity).toString('base64') });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].field).toBe('data');
  });

  it("pool A's logo means nothing at pool B", async () => {
    const a = await createPool(tarn);
    const b = await createPool(tarn);
    const uploaded = await tarn.admin('PUT', `/pools/${a.id}/branding/logo`, { mediaType: 'image/png', data: onePixelPng([9, 9, 9]).toString('base64') });
    const atB = uploaded.body.logo.url.replace(`/pools/${a.id}/`, `/pools/${b.id}/`);
    expect((await fetch(atB)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${b.id}/branding/logo`)).status).toBe(404);
    expect((await fetch(uploaded.body.logo.url)).status).toBe(200);
  });
});
