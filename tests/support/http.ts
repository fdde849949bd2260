import type { ErrorBody } from '#shared/errors.js';
import { PASSWORD } from './fixtures.js';

/** A browser-like HTTP client: keeps the session cookie and sends Pulse's own Origin. */
export class Browser {
  cookie = '';
  constructor(readonly baseUrl: string) {}

  /** A client already signed in as `email`. */
  static async signedIn(baseUrl: string, email: string, password = PASSWORD) {
    const browser = new Browser(baseUrl);
    await browser.login(email, password);
    return browser;
  }

  get origin() {
    return new URL(this.baseUrl).origin;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(method !== 'GET' ? { origin: this.origin } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...headers
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    });
    const setCookie = res.headers.getSetCookie();
    for (const c of setCookie) {
      const [pair] = c.split(';');
      const [name, value] = pair.split('=');
      if (name === 'pulse_session') this.cookie = value ? `${name}=${value}` : '';
    }
    const text = await res.text();
    // JSON parsed; any other body (CSV, HTML) as text; no body, undefined.
    const parsed = !text
      ? undefined
      : res.headers.get('content-type')?.includes('json')
        ? JSON.parse(text)
        : text;
    return { status: res.status, headers: res.headers, body: parsed as any, setCookie };
  }

  get(path: string) {
    return this.request('GET', path);
  }
  /** The body of a GET that must answer 200 (throws with the status and body otherwise). */
  async getOk(path: string): Promise<any> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body ?? {}, headers);
  }

  async login(email: string, password = PASSWORD) {
    const res = await this.post('/api/auth/login', { email, password });
    if (res.status !== 200)
      throw new Error(`login failed for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }
}

export function expectErrorShape(body: unknown): asserts body is ErrorBody {
  const b = body as ErrorBody;
  if (!b?.error || typeof b.error.code !== 'string' || typeof b.error.message !== 'string') {
    throw new Error(`not the error shape: ${JSON.stringify(body)}`);
  }
}
