/**
 * A small browser for hosted pages: keeps cookies per path, follows redirects by hand,
 * reads forms the way a person's browser would submit them (hidden fields included).
 * It stops at URLs outside Tarn (the relying party's redirect URI) and returns them.
 */
export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class Browser {
  private cookies: Cookie[] = [];
  /** Headers sent with every request from now on (what a proxy in front of Tarn would add). */
  headers: Record<string, string> = {};

  constructor(private readonly origin: string) {}

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (cookie) => url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`) || cookie.path === '/',
      )
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attributes.find((attribute) => attribute.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : url.pathname.replace(/\/[^/]*$/, '') || '/';
      const expired =
        attributes.some((attribute) => /^expires=/i.test(attribute) && new Date(attribute.slice(8)).getTime() < Date.now()) ||
        attributes.some((a) => /^max-age=0$/i.test(a));
      this.cookies = this.cookies.filter((cookie) => !(cookie.name === name && cookie.path === path));
      if (!expired && value !== '') this.cookies.push({ name, value, path });
    }
  }

  /** Cookies as name=value pairs whose name starts with `prefix` (to replay them elsewhere). */
  cookiePairs(prefix: string): string[] {
    return this.cookies.filter((cookie) => cookie.name.startsWith(prefix)).map((cookie) => `${cookie.name}=${cookie.value}`);
  }

  addCookie(pair: string, path: string): void {
    const eq = pair.indexOf('=');
    this.cookies.push({ name: pair.slice(0, eq), value: pair.slice(eq + 1), path });
  }

  cookieNames(): string[] {
    return this.cookies.map((cookie) => `${cookie.name}@${cookie.path}`);
  }

  /** One request, no redirect following. */
  async request(method: string, target: string, form?: Record<string, string>): Promise<Page> {
    const url = new URL(target, this.origin);
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        ...this.headers,
        cookie: this.cookieHeader(url),
        accept: 'text/html',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    this.store(url, response.headers);
    return { url: url.href, status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Follows redirects within Tarn; returns the last Tarn page, or the first URL outside it. */
  async navigate(method: string, target: string, form?: Record<string, string>): Promise<Page & { leftTo?: string }> {
    let page = await this.request(method, target, form);
    for (let hops = 0; hops < 20 && page.status >= 300 && page.status < 400; hops += 1) {
      const location = new URL(page.headers.get('location')!, page.url);
      if (location.origin !== new URL(this.origin).origin) return { ...page, leftTo: location.href };
      page = await this.request('GET', location.href);
    }
    return page;
  }

  async get(target: string) {
    return this.navigate('GET', target);
  }

  /** Submits the page's first form (or the one whose action matches), like pressing its button. */
  async submit(page: Page, fields: Record<string, string>, actionContains?: string) {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((match) => !actionContains || match[1]!.includes(actionContains));
    if (!form) throw new Error(`no form on ${page.url}`);
    const hidden = Object.fromEntries(
      [...form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((match) => [match[1]!, decodeEntities(match[2]!)]),
    );
    return this.navigate('POST', new URL(decodeEntities(form[1]!), page.url).href, { ...hidden, ...fields });
  }
}

export function decodeEntities(text: string): string {
  return text
    .replace(/&#34;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The visible text of a page, for asserting what a person would read. */
export function visibleText(html: string): string {
  return decodeEntities(html.replace(/<head[\s\S]*?<\/head>/, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}
