import { z } from 'zod';
import type { LoyaltyTier } from '../enums.js';
import { ProgramConfig, PublishInput, type ProgramVersion } from './loyalty-program.js';

// The program editor's API: /api/loyalty-program/{versions,draft,previews,publish}.

/** Saving the draft; `version` (the draft's row version as loaded) refuses an edit over someone else's. */
export const SaveDraftBody = z.object({ config: ProgramConfig, version: z.number().int().min(1).optional() });
export type SaveDraftBody = z.infer<typeof SaveDraftBody>;

/** Publishing the draft as loaded (`draftId`, `version`): effective now, or at a future moment. */
export const PublishBody = PublishInput.extend({
  draftId: z.number().int().positive(),
  version: z.number().int().min(1)
});
export type PublishBody = z.infer<typeof PublishBody>;

export interface DraftState {
  /** The draft, or null when there is none (the editor starts one from the version in force). */
  draft: (ProgramVersion & { rowVersion: number }) | null;
  /** The version in force now. */
  current: ProgramVersion;
}

export interface PreviewResult {
  members: number;
  /** Members whose tier the draft would raise or lower. */
  up: number;
  down: number;
  tiers: { tier: LoyaltyTier; current: number; draft: number }[];
  liability: {
    before: { points: number; value: string };
    after: { points: number; value: string };
  };
  /** Months of orders replayed, and how long the replay took. */
  months: number;
  elapsedMs: number;
}

export interface PreviewJob {
  id: number;
  draftId: number;
  draftVersion: number;
  baseId: number;
  state: 'running' | 'done' | 'failed';
  /** 0 to 100. */
  progress: number;
  result: PreviewResult | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface PublishResult {
  version: ProgramVersion;
  /** Members whose tier the new version lowers and who keep their tier until `graceUntil`. */
  graced: number;
  graceUntil: string | null;
}
