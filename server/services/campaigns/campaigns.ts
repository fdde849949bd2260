import { Reward, type Reward as CatalogueReward } from '#shared/schemas/loyalty-program.js';
import {
  campaignStatus,
  type Campaign,
  type CampaignReward,
  type CampaignSegment,
  type CreateCampaignBody
} from '#shared/schemas/campaigns.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';

// Campaigns: made as drafts, launched once. Launching assigns every current member of the segment
// to treatment or holdout (campaign_assign in migration 0029, a stable hash of campaign and
// customer) and delivers the incentive to the treated; later entrants are assigned by the
// database when they enter. Launching again is allowed and harmless: it assigns no one twice and
// gives nothing twice (the README next to this file has the rules).

interface CampaignRow {
  id: number;
  name: string;
  segment_id: number;
  segment_name: string;
  incentive: 'points' | 'code';
  bonus_points: number | null;
  reward_id: string | null;
  reward: CampaignReward | null;
  starts_at: Date;
  ends_at: Date;
  holdout_percent: number;
  launched_at: Date | null;
  created_at: Date;
  now: Date;
  treated: number;
  held_out: number;
}

const SELECT = `
  SELECT c.id, c.name, c.segment_id, s.name AS segment_name, c.incentive, c.bonus_points, c.reward_id,
         c.reward, c.starts_at, c.ends_at, c.holdout_percent, c.launched_at, c.created_at, now() AS now,
         coalesce(m.treated, 0)::integer AS treated, coalesce(m.held_out, 0)::integer AS held_out
    FROM campaigns c
    JOIN segments s ON s.id = c.segment_id
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE arm = 'treatment') AS treated, count(*) FILTER (WHERE arm = 'holdout') AS held_out
        FROM campaign_members WHERE campaign_id = c.id) m ON true`;

export function presentCampaign(row: CampaignRow): Campaign {
  const times = {
    launchedAt: row.launched_at?.toISOString() ?? null,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString()
  };
  return {
    id: row.id,
    name: row.name,
    segmentId: row.segment_id,
    segmentName: row.segment_name,
    incentive:
      row.incentive === 'points'
        ? { kind: 'points', points: row.bonus_points! }
        : { kind: 'code', rewardId: row.reward_id!, reward: row.reward! },
    ...times,
    holdoutPercent: row.holdout_percent,
    status: campaignStatus(times, row.now.getTime()),
    createdAt: row.created_at.toISOString(),
    treated: row.treated,
    heldOut: row.held_out
  };
}

export async function listCampaigns(db: Db): Promise<Campaign[]> {
  const rows = await db.query<CampaignRow>(`${SELECT} ORDER BY c.created_at DESC, c.id DESC LIMIT 500`);
  return rows.map(presentCampaign);
}

export async function getCampaign(db: Db, id: number): Promise<Campaign> {
  const [row] = await db.query<CampaignRow>(`${SELECT} WHERE c.id = $1`, [id]);
  if (!row) throw notFound('Campaign');
  return presentCampaign(row);
}

/** The segments a campaign may target, by name, with their last counted size. */
export async function campaignSegments(db: Db): Promise<CampaignSegment[]> {
  const rows = await db.query<{ id: number; name: string; member_count: number | null }>(
    `SELECT id, name, member_count FROM segments ORDER BY lower(name), id LIMIT 1000`
  );
  return rows.map((r) => ({ id: r.id, name: r.name, memberCount: r.member_count }));
}

/** The rewards a code campaign may hand out: the active ones of the program in effect now. */
export async function campaignRewards(db: Db): Promise<CampaignReward[]> {
  const [row] = await db.query<{ rewards: unknown }>(
    `SELECT loyalty_program_at(now()) -> 'rewards' AS rewards`
  );
  const rewards = Array.isArray(row?.rewards) ? row.rewards : [];
  return rewards
    .map((r) => Reward.safeParse(r))
    .filter((r) => r.success && r.data.active)
    .map((r) => presentReward(r.data!));
}

function presentReward(r: CatalogueReward): CampaignReward {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    amount: r.kind === 'fixed_discount' ? r.amount : null,
    percent: r.kind === 'percent_discount' ? r.percent : null
  };
}

export async function createCampaign(db: Db, actor: Actor, input: CreateCampaignBody): Promise<Campaign> {
  return db.transaction(async (t) => {
    const [segment] = await t.query(`SELECT id FROM segments WHERE id = $1`, [input.segmentId]);
    if (!segment)
      throw new AppError('unprocessable', 'That segment does not exist', [
        { path: 'segmentId', message: 'unknown segment' }
      ]);
    let reward: CampaignReward | null = null;
    if (input.incentive.kind === 'code') {
      const rewardId = input.incentive.rewardId;
      reward = (await campaignRewards(t)).find((r) => r.id === rewardId) ?? null;
      if (!reward)
        throw new AppError('unprocessable', 'That reward is not in the active rewards catalogue', [
          { path: 'incentive.rewardId', message: 'unknown reward' }
        ]);
    }
    const [{ id }] = await t.query<{ id: number }>(
      `INSERT INTO campaigns (name, segment_id, incentive, bonus_points, reward_id, reward, starts_at, ends_at,
                              holdout_percent, created_by)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10) RETURNING id`,
      [
        input.name,
        input.segmentId,
        input.incentive.kind,
        input.incentive.kind === 'points' ? input.incentive.points : null,
        reward?.id ?? null,
        reward ? JSON.stringify(reward) : null,
        input.startsAt,
        input.endsAt,
        input.holdoutPercent,
        actor.user.id
      ]
    );
    await audit(t, {
      action: 'campaign.created',
      actorUserId: actor.user.id,
      ip: actor.ip,
      targetType: 'campaign',
      targetId: id,
      details: { name: input.name, segmentId: input.segmentId, incentive: input.incentive }
    });
    return getCampaign(t, id);
  });
}

export interface LaunchResult {
  campaign: Campaign;
  /** Members assigned by this call (0 when the campaign had been launched and nobody new entered). */
  assigned: number;
}

/**
 * Launches a campaign: marks it launched (once) and assigns the segment's current members. Safe to
 * repeat and to race: the campaign row is locked, assignment and delivery are keyed per member.
 * Refused (409) once the window has ended.
 */
export async function launchCampaign(db: Db, actor: Actor, id: number): Promise<LaunchResult> {
  return db.transaction(async (t) => {
    const [row] = await t.query<{ launched_at: Date | null; ended: boolean; segment_id: number }>(
      `SELECT launched_at, ends_at <= now() AS ended, segment_id FROM campaigns WHERE id = $1 FOR UPDATE`,
      [id]
    );
    if (!row) throw notFound('Campaign');
    if (row.ended)
      throw new AppError('conflict', 'This campaign’s window has ended; it can no longer be launched');
    const first = row.launched_at === null;
    if (first)
      await t.query(`UPDATE campaigns SET launched_at = now(), launched_by = $2 WHERE id = $1`, [
        id,
        actor.user.id
      ]);
    const [{ assigned }] = await t.query<{ assigned: number }>(
      `SELECT campaign_assign($1, coalesce(array_agg(customer_id ORDER BY customer_id), '{}'), 'launch') AS assigned
         FROM segment_members WHERE segment_id = $2`,
      [id, row.segment_id]
    );
    await audit(t, {
      action: first ? 'campaign.launched' : 'campaign.relaunched',
      actorUserId: actor.user.id,
      ip: actor.ip,
      targetType: 'campaign',
      targetId: id,
      details: { assigned }
    });
    return { campaign: await getCampaign(t, id), assigned };
  });
}
