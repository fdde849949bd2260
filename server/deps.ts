import type { Logger } from 'pino';
import type { Auth } from './auth/lucia.js';
import type { Config } from './config.js';
import type { Db } from './data/db.js';
import type { BulkJob } from '#shared/schemas/bulk.js';
import type { DemoActivity } from './services/demo-activity.js';
import type { PreviewListener } from './services/loyalty-program/preview.js';

/** What the HTTP app needs from the composition root; tests build the same thing. */
export interface AppDeps {
  config: Config;
  /** The one query interface services take: `(db, actor, input)`; backed by Sequelize's pool. */
  db: Db;
  auth: Auth;
  logger: Logger;
  /** State of the change listener's LISTEN connection. */
  listenerState: () => 'connected' | 'reconnecting' | 'stopped';
  /** The embedded demo's simulated activity; absent on every other server. */
  demoActivity?: DemoActivity;
  /** The bulk job runner (server/services/bulk/runner.ts): told when a job is queued or cancelled. */
  bulk?: { wake(): void; announce(job: BulkJob): void };
  /** The storefront inbox processor (server/services/integrations/storefront/inbox.ts): told when a delivery is stored. */
  storefrontInbox?: { wake(): void };
  /** The import runner (server/services/integrations/import/runner.ts): told when a job is queued. */
  imports?: { wake(): void };
  /** Hears how loyalty impact previews are going (the socket hub's user rooms). */
  loyaltyPreview?: PreviewListener;
}
