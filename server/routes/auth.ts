import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { LoginBody } from '#shared/schemas/auth.js';
import { requireUser, writeSessionCookie } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { presentUser } from '../presenters/user.js';
import { currentUser, login, logout } from '../services/auth.js';

export const authRoutes = (deps: AppDeps) => {
  const { auth, config, db } = deps;
  const limits = {
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES,
    maxFailuresPerAddress: config.LOGIN_MAX_FAILURES * 4,
    windowMinutes: config.LOGIN_WINDOW_MINUTES
  };
  return new Hono<AppEnv>()
    .post('/login', validate('json', LoginBody), async (c) => {
      const { email, password } = c.req.valid('json');
      const { user, session } = await login(
        db,
        { auth, limits },
        {
          email,
          password,
          ip: c.var.ip,
          userAgent: c.req.header('user-agent') ?? null,
          previousSessionId: getCookie(c, auth.sessionCookieName)
        }
      );
      writeSessionCookie(c, auth.createSessionCookie(session.id));
      return c.json({ user: presentUser(user) });
    })
    .post('/logout', requireUser, async (c) => {
      await logout(db, actorOf(c), { auth, sessionId: c.var.session.id });
      writeSessionCookie(c, auth.createBlankSessionCookie());
      return c.json({ ok: true as const });
    })
    .get('/me', requireUser, async (c) => {
      const user = await currentUser(db, actorOf(c));
      return c.json({ user: presentUser(user) });
    });
};
