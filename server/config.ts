import { isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** Where `npm start` runs its embedded Postgres unless EMBEDDED_PG_PORT says otherwise. */
export const DEFAULT_EMBEDDED_PG_PORT = 54329;

/** Every setting Pulse reads from the environment, with its default. README lists them. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(DEFAULT_EMBEDDED_PG_PORT),
  SEED_DEMO_DATA: bool.optional(),
  /** Simulated shop activity on the embedded demo (see server/index.ts for when it runs); `off` disables it. */
  DEMO_ACTIVITY: bool.default(true),
  SERVE_FRONTEND: bool.default(true),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    ),
  TRUST_PROXY: bool.default(false),
  /** Largest request body /api/* reads, in KiB; a larger one is refused with 413 before it is read. */
  API_BODY_LIMIT_KIB: z.coerce
    .number()
    .int()
    .min(1)
    .max(64 * 1024)
    .default(256),
  SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .default(12 * 60),
  SESSION_MAX_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(7 * 24),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
  STORE_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Berlin'),
  /** How often the wallboard recomputes everything from SQL (it is kept from the change stream in between). */
  WALLBOARD_RECONCILE_SECONDS: z.coerce.number().min(1).default(60),
  /** At most one wallboard frame per this many milliseconds (250: four a second). */
  WALLBOARD_FRAME_MS: z.coerce.number().int().min(50).max(5000).default(250),
  /** How often the analytics rollups fold in recent changes in the background. */
  ANALYTICS_REFRESH_SECONDS: z.coerce.number().min(1).default(30),
  /**
   * The longest the loyalty schedule sleeps between runs (pending points becoming available, expiry);
   * it wakes earlier when a pending lot's window ends sooner.
   */
  LOYALTY_SCHEDULE_SECONDS: z.coerce.number().min(0.1).default(60),
  /** How often segments are recomputed from SQL (rules that drift with time, RFM cut-offs). */
  SEGMENT_RECONCILE_SECONDS: z.coerce.number().min(1).default(300),
  /** Changes for one audience in one read above which its clients get one `live:resync` instead. */
  LIVE_BURST_LIMIT: z.coerce.number().int().min(1).default(200),
  /**
   * How often a server process renews the presence (who views which ticket) it shares with the
   * others; they forget a process's viewers after three missed heartbeats.
   */
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  /** Rows a bulk job handles per batch (one short transaction each; its locks last that long). */
  BULK_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** Bulk jobs one server process works on at once (each on a connection of its own). */
  BULK_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** How often a process looks for bulk jobs to take over (left by a stopped process, or queued on another). */
  BULK_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  /** Largest file an import takes, in MiB (its upload is streamed, never held in memory). */
  IMPORT_MAX_MIB: z.coerce
    .number()
    .int()
    .min(1)
    .max(16 * 1024)
    .default(1024),
  /** How often the import runner looks for jobs left by a stopped process. */
  /** Rows an import applies in one transaction (one COPY and a few set-based statements). */
  IMPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5000),
  IMPORT_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  CHANGE_LOG_RETENTION_HOURS: z.coerce.number().min(1).default(24),
  REDIS_URL: z.string().url().optional(),
  /** Bearer token integrations use for /api/inbound and CSAT (at least 24 characters). */
  INTEGRATION_TOKEN: z.string().min(24).optional(),
  /** Requests a second one API token may make (sustained; 0: no limit), and how many at once. */
  API_TOKEN_RATE_PER_SECOND: z.coerce.number().min(0).default(20),
  API_TOKEN_RATE_BURST: z.coerce.number().int().min(1).default(100),
  /** The same per browser session: far above what a person's screens send. */
  API_SESSION_RATE_PER_SECOND: z.coerce.number().min(0).default(50),
  API_SESSION_RATE_BURST: z.coerce.number().int().min(1).default(500),
  /**
   * Outbound webhooks may be sent to private, loopback and link-local addresses (an intranet
   * receiver, tests). Off by default: a subscription could otherwise reach the server's own network.
   */
  WEBHOOKS_ALLOW_PRIVATE: bool.default(false),
  /** How long a webhook receiver has to answer, in milliseconds. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** How often the webhook dispatcher looks for new changes and due retries, in milliseconds. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** A subscription is disabled after this many failed attempts in a row (its admins are told). */
  WEBHOOK_MAX_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).default(20),
  /** Retries back off exponentially (from 10 s) and stop this many hours after the change. */
  WEBHOOK_RETRY_HOURS: z.coerce
    .number()
    .min(0.001)
    .max(24 * 7)
    .default(24),
  /** The first retry's delay in milliseconds; each next one doubles it (up to an hour). */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(10_000),
  /** Region (ISO 3166 code) of phone numbers written without a country code: US reads 415-555-0100 as +14155550100. */
  DEFAULT_PHONE_REGION: z
    .string()
    .default('US')
    .transform((s) => s.toUpperCase())
    .refine((s) => isSupportedCountry(s), 'must be a region code such as US or GB'),
  /** The signing secret of one Shopify store configured from the environment (any shop domain). */
  SHOPIFY_WEBHOOK_SECRET: z.string().min(16).max(200).optional(),
  /** The same for one WooCommerce store. */
  WOOCOMMERCE_WEBHOOK_SECRET: z.string().min(16).max(200).optional(),
  /** How often the storefront inbox looks for deliveries to apply without being woken, in milliseconds. */
  STORE_INBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** The first retry of a storefront delivery that failed to apply; each next one doubles it (up to an hour). */
  STORE_INBOX_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5000),
  /** Attempts after which a storefront delivery is marked failed (an admin may retry it). */
  STORE_INBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * How long a table's footer may count and sum its filtered set before it answers with the
   * planner's estimate of the count instead (a footer never holds a connection for seconds).
   */
  FOOTER_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(250),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
});

export type Config = z.infer<typeof EnvSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid environment:\n${problems}`);
  }
  return parsed.data;
}
