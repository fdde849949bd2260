import { Hono } from 'hono';
import { CampaignIdParam, CreateCampaignBody } from '#shared/schemas/campaigns.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import {
  campaignRewards,
  campaignSegments,
  createCampaign,
  getCampaign,
  launchCampaign,
  listCampaigns
} from '../services/campaigns/campaigns.js';
import { campaignReport } from '../services/campaigns/report.js';

/**
 * Campaigns, for managers and admins: the list, the rewards a code campaign may hand out, a new
 * draft, a launch (idempotent: `POST /:id/launch` again assigns and gives nothing twice) and the
 * report (`GET /:id/report`, recomputed from SQL on each call; the screen asks again when its
 * `campaign:<id>` room hears of activity).
 */
export const campaignRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .use(requireRole('manager', 'admin'))
    .get('/', async (c) => c.json({ campaigns: await listCampaigns(db) }))
    .get('/rewards', async (c) => c.json({ rewards: await campaignRewards(db) }))
    .get('/segments', async (c) => c.json({ segments: await campaignSegments(db) }))
    .post('/', validate('json', CreateCampaignBody), async (c) =>
      c.json({ campaign: await createCampaign(db, actorOf(c), c.req.valid('json')) }, 201)
    )
    .get('/:id', validate('param', CampaignIdParam), async (c) =>
      c.json({ campaign: await getCampaign(db, c.req.valid('param').id) })
    )
    .post('/:id/launch', validate('param', CampaignIdParam), async (c) =>
      c.json(await launchCampaign(db, actorOf(c), c.req.valid('param').id))
    )
    .get('/:id/report', validate('param', CampaignIdParam), async (c) =>
      c.json({ report: await campaignReport(db, c.req.valid('param').id) })
    );
