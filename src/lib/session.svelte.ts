import { goto } from '$app/navigation';
import { isManagerRole } from '$shared/rules/people.js';
import type { UserRole } from '$shared/enums.js';
import type { CurrentUser } from '$shared/schemas/auth.js';
import { api, ApiError, unwrap } from './api.js';

export type { CurrentUser };

/** Where a role lands after signing in. */
export function homeFor(role: UserRole): string {
  return isManagerRole(role) ? '/' : '/console';
}

/**
 * A `?next=` target is honoured only when it is a path on this site: no scheme, no host,
 * no protocol-relative `//evil` or `/\evil`, and never back to /login.
 */
export function safeNext(next: string | null | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  try {
    const base = 'http://pulse.invalid';
    const url = new URL(next, base);
    if (url.origin !== base || url.pathname === '/login' || url.pathname.startsWith('/api/')) return null;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return null;
  }
}

/** The login URL that brings the user back to `path` afterwards. */
export function loginUrl(path?: string): string {
  const next = safeNext(path);
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

/** The signed-in user, shared by every screen. */
class Session {
  user = $state<CurrentUser | null>(null);
  /** True once `/api/auth/me` has answered (either way). */
  loaded = $state(false);

  #pending: Promise<CurrentUser | null> | null = null;

  /**
   * Resolves the current user (null when signed out). Asks the server once and then answers from
   * memory; `force` asks again. Errors other than 401 are thrown (the server is down, ...).
   */
  load(force = false): Promise<CurrentUser | null> {
    if (this.loaded && !force) return Promise.resolve(this.user);
    this.#pending ??= this.#fetchMe().finally(() => (this.#pending = null));
    return this.#pending;
  }

  async #fetchMe(): Promise<CurrentUser | null> {
    try {
      const { user } = await unwrap(api.api.auth.me.$get());
      this.user = user;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) throw err;
      this.user = null;
    }
    this.loaded = true;
    return this.user;
  }

  /** Signs in; throws ApiError (`unauthenticated`, `too_many_requests`, `validation_failed`, ...). */
  async signIn(email: string, password: string): Promise<CurrentUser> {
    const { user } = await unwrap(api.api.auth.login.$post({ json: { email, password } }));
    this.user = user;
    this.loaded = true;
    return user;
  }

  /** Ends the session on the server (best effort) and returns to the login page. */
  async signOut(): Promise<void> {
    try {
      await unwrap(api.api.auth.logout.$post());
    } catch (err) {
      // Already signed out (401) or unreachable: the local state is cleared either way.
      if (!(err instanceof ApiError)) throw err;
    }
    this.user = null;
    this.loaded = true;
    await goto('/login', { replaceState: true });
  }

  /** A request answered 401 mid-session: forget the user and ask them to sign in again. */
  async expire(returnTo = location.pathname + location.search): Promise<void> {
    this.user = null;
    this.loaded = true;
    await goto(loginUrl(returnTo), { replaceState: true });
  }
}

export const session = new Session();

/** Runs a signed-in screen's call; a 401 mid-session sends the user to sign in again (and back afterwards). */
export async function authed<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) void session.expire();
    throw err;
  }
}
