import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Cookie } from 'lucia';
import type { UserRole } from '#shared/enums.js';
import { AppError } from '../errors.js';
import type { AppEnv, SignedInEnv } from '../http/env.js';
import { describedBy } from '../http/route-doc.js';
import type { Auth } from './lucia.js';

/** Writes a lucia cookie; Secure whenever the browser reached Pulse over TLS (see `originHeaders`). */
export function writeSessionCookie<E extends AppEnv>(c: Context<E>, cookie: Cookie) {
  const secure = c.var.ownOrigin.startsWith('https:');
  if (cookie.value === '') {
    deleteCookie(c, cookie.name, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
    return;
  }
  setCookie(c, cookie.name, cookie.value, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure,
    ...(cookie.attributes.maxAge !== undefined ? { maxAge: cookie.attributes.maxAge } : {})
  });
}

/** Resolves the session cookie to a user; slides the idle expiry forward when due. */
export const sessionMiddleware = (auth: Auth) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const sessionId = getCookie(c, auth.sessionCookieName);
    if (sessionId) {
      const { session, user } = await auth.validateSession(sessionId);
      if (session?.fresh) writeSessionCookie(c, auth.createSessionCookie(session.id));
      if (!session) writeSessionCookie(c, auth.createBlankSessionCookie());
      c.set('session', session);
      c.set('user', user);
    }
    await next();
  });

/** A signed-in user, or an API token acting as one (whose scope token-auth.ts has checked). */
export const requireUser = describedBy(
  createMiddleware<SignedInEnv>(async (c, next) => {
    if (!c.var.user || (!c.var.session && !c.var.apiToken))
      throw new AppError('unauthenticated', 'Sign in to continue');
    await next();
  }),
  { roles: 'signed-in' }
);

export const requireRole = (...roles: UserRole[]) =>
  describedBy(
    createMiddleware<SignedInEnv>(async (c, next) => {
      if (!c.var.user) throw new AppError('unauthenticated', 'Sign in to continue');
      if (!roles.includes(c.var.user.role)) {
        throw new AppError('forbidden', `This needs the ${roles.join(' or ')} role`);
      }
      await next();
    }),
    { roles }
  );
