import { Hono } from 'hono';
import { PublishBody, SaveDraftBody } from '#shared/schemas/loyalty-editor.js';
import { ActivityQuery, RecentQuery, TopMembersQuery } from '#shared/schemas/loyalty-report.js';
import { ProgramConfig } from '#shared/schemas/loyalty-program.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import { reportSession } from '../data/db.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { getPreview, startPreview } from '../services/loyalty-program/preview.js';
import {
  activityReport,
  liabilityReport,
  recentActivity,
  tierReport,
  topMembers
} from '../services/loyalty-program/report.js';
import {
  currentVersion,
  discardDraft,
  getDraft,
  getVersion,
  listVersions,
  publishDraft,
  saveDraft
} from '../services/loyalty-program/versions.js';

/**
 * The loyalty screen and its program editor, for managers and admins (agents are refused, 403):
 * the reports, the versions, the one draft, its impact preview (202, a server job whose progress
 * reaches the starter's sockets as `loyalty:preview_progress`) and publishing it.
 */
export const loyaltyProgramRoutes = ({ db, config, loyaltyPreview }: AppDeps) =>
  new Hono<AppEnv>()
    .use(requireRole('manager', 'admin'))
    .get('/report/tiers', async (c) => c.json(await reportSession(db, (t) => tierReport(t))))
    .get('/report/top', validate('query', TopMembersQuery), async (c) =>
      c.json({ members: await topMembers(db, c.req.valid('query').limit) })
    )
    .get('/report/activity', validate('query', ActivityQuery), async (c) =>
      c.json(await reportSession(db, (t) => activityReport(t, c.req.valid('query').days)))
    )
    .get('/report/liability', async (c) => {
      const current = ProgramConfig.parse((await currentVersion(db)).config);
      return c.json(
        await reportSession(db, (t) =>
          liabilityReport(t, {
            pointValue: current.pointValue,
            expiryMonths: current.expiry?.months ?? null
          })
        )
      );
    })
    .get('/report/recent', validate('query', RecentQuery), async (c) =>
      c.json({ entries: await recentActivity(db, c.req.valid('query').limit) })
    )
    .get('/versions', async (c) => c.json(await listVersions(db)))
    .get('/versions/:id', validate('param', IdParam), async (c) =>
      c.json({ version: await getVersion(db, c.req.valid('param').id) })
    )
    .get('/draft', async (c) => c.json(await getDraft(db)))
    .put('/draft', validate('json', SaveDraftBody), async (c) =>
      c.json(await saveDraft(db, actorOf(c), c.req.valid('json')))
    )
    .delete('/draft', async (c) => {
      await discardDraft(db, actorOf(c));
      return c.json({ ok: true as const });
    })
    .post('/previews', async (c) => {
      const { job } = await startPreview(db, actorOf(c), config.STORE_TIMEZONE, (userId, j) =>
        loyaltyPreview?.(userId, j)
      );
      return c.json({ job }, 202);
    })
    .get('/previews/:id', validate('param', IdParam), async (c) =>
      c.json({ job: await getPreview(db, c.req.valid('param').id) })
    )
    .post('/publish', validate('json', PublishBody), async (c) =>
      c.json(await publishDraft(db, actorOf(c), c.req.valid('json')))
    );
