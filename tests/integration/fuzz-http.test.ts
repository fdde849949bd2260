import { sequelizeDb } from '../../server/data/db.js';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CreateViewBody, UpdateViewBody, ViewListQuery } from '#shared/lists/views.js';
import {
  CustomersDrillQuery,
  OrdersDrillQuery,
  RangeQuery,
  SeriesQuery,
  TicketsDrillQuery,
  TopQuery
} from '#shared/schemas/analytics.js';
import { MovementsQuery, ProductPatch, ReviewsQuery, StockMovementBody } from '#shared/schemas/inventory.js';
import { LoginBody } from '#shared/schemas/auth.js';
import {
  AttributeDefinitionBody,
  AttributeDefinitionPatch,
  AttributeDefinitionsQuery,
  ConsentBody,
  ContactBody,
  ContactPatch,
  CustomerPatch,
  ListQuery,
  NoteBody,
  NotesQuery,
  TimelineQuery
} from '#shared/schemas/customer360.js';
import { BulkListQuery, BulkRequest } from '#shared/schemas/bulk.js';
import { CategoryBody } from '#shared/schemas/categories.js';
import { fieldValuesQuerySchema } from '#shared/lists/values.js';
import {
  ImportListQuery,
  PreviewBody,
  RejectsQuery,
  StartImportBody,
  UploadQuery
} from '#shared/schemas/imports.js';
import { PublishBody, SaveDraftBody } from '#shared/schemas/loyalty-editor.js';
import { STARTING_PROGRAM } from '#shared/schemas/loyalty-program.js';
import { ActivityQuery, RecentQuery, TopMembersQuery } from '#shared/schemas/loyalty-report.js';
import { CreateCampaignBody } from '#shared/schemas/campaigns.js';
import {
  CreateApiTokenBody,
  CreateWebhookBody,
  DeliveriesQuery,
  WebhookPatch
} from '#shared/schemas/integrations.js';
import { DemoActivityBody } from '#shared/schemas/demo.js';
import {
  CreateStoreBody,
  GenericOrder,
  StoreDeliveriesQuery,
  StorePatch
} from '#shared/schemas/storefront.js';
import { CreateWallboardTokenBody, ThresholdsBody, WallboardQuery } from '#shared/schemas/metrics.js';
import { SegmentDraft, SegmentInput, SegmentMembersQuery, SegmentPatch } from '#shared/schemas/segments.js';
import { DismissBody, DuplicatesQuery, MergeBody, MergePreviewQuery } from '#shared/schemas/merge.js';
import { AdjustBody, ExpiringQuery, GoodwillBody, LedgerQuery, RedeemBody } from '#shared/schemas/loyalty.js';
import { CreateUserBody, TeamBody, TeamPatch, UpdateUserBody } from '#shared/schemas/people.js';
import {
  AgentStatusBody,
  AgentsQuery,
  CannedBody,
  CannedQuery,
  CsatBody,
  InboundMessage,
  OrderActionBody,
  QueueQuery,
  ReplyBody,
  SlaPoliciesBody,
  TicketPatch
} from '#shared/schemas/tickets.js';
import { createApi } from '../../server/app.js';
import { createLucia } from '../../server/auth/lucia.js';
import { loadConfig } from '../../server/config.js';
import { acquireSequelize } from '../../server/db.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createCustomer,
  createOrder,
  createTicket,
  createUser,
  createWorld,
  PASSWORD,
  type TestUser
} from '../support/fixtures.js';
import {
  arbitraryFor,
  badBodyText,
  badId,
  fuzzRuns,
  nastyString,
  percentEncode,
  sometimes,
  withExtraKey,
  wrongValue,
  type ArbitraryHints
} from '../support/fuzz.js';
import { Browser } from '../support/http.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { httpRequest, rawRequest, type RawResponse } from '../support/raw-http.js';
import { RawSocket } from '../support/raw-socket.js';

// Property-based fuzzing of every HTTP endpoint: requests built from each endpoint's zod schema,
// then broken the ways clients break them, sent byte for byte as anonymous, agent, manager, admin
// and integration. Properties: no 5xx, every refusal in the one error shape, a refused request
// changes no row, and the server process stays up. The Socket.IO handshake is fuzzed the same way
// (client events after it: fuzz-socket.test.ts). FUZZ_RUNS=N runs each endpoint N times.

const RUNS = fuzzRuns(20);
const TOKEN = 'integration-token-for-the-fuzzer-0123456789';

/** Each endpoint and the schemas of what it reads; `id` names the rows its `:id` is drawn from. */
type Pool =
  | 'segments'
  | 'tickets'
  | 'orders'
  | 'teams'
  | 'victims'
  | 'canned'
  | 'tokens'
  | 'views'
  | 'customers'
  | 'contacts'
  | 'notes'
  | 'attributes'
  | 'products'
  | 'bulk'
  | 'imports'
  | 'uploads'
  | 'apiTokens'
  | 'webhooks'
  | 'stores'
  | 'programVersions'
  | 'previews'
  | 'campaigns';
interface Endpoint {
  id?: Pool;
  query?: z.ZodType;
  json?: z.ZodType;
}
/**
 * A list's query string: mostly valid filters and sorts (so requests reach the SQL), and any
 * text for search and cursor.
 */
const listQuery = (filters: object[], sorts: string[]) =>
  z.object({
    q: z.string().max(60).optional(),
    filter: z.enum(filters.map((f) => JSON.stringify(f)) as [string, ...string[]]).optional(),
    sort: z.enum(sorts as [string, ...string[]]).optional(),
    limit: z.number().int().min(1).max(200).optional(),
    cursor: z.string().max(200).optional(),
    ids: z.string().max(40).optional()
  });
const CustomersList = listQuery(
  [
    { op: 'and', rules: [{ field: 'lifetimeSpend', operator: 'between', value: ['1', '500'] }] },
    {
      op: 'or',
      rules: [
        { field: 'tags', operator: 'any', value: ['vip'] },
        { op: 'and', rules: [{ field: 'lastOrderAt', operator: 'in_last', value: 30 }] }
      ]
    },
    { op: 'and', rules: [{ field: 'name', operator: 'contains', value: "%_'\\" }] }
  ],
  ['-lifetimeSpend', 'name,-createdAt', '-lastOrderAt', 'tier,-points']
);
const OrdersList = listQuery(
  [
    { op: 'and', rules: [{ field: 'status', operator: 'is_any_of', value: ['paid', 'shipped'] }] },
    { op: 'and', rules: [{ field: 'orderDate', operator: 'between', value: ['2026-01-01', '2026-12-31'] }] }
  ],
  ['-orderDate', 'total', 'customerName,-total', '-itemCount']
);
const ProductsList = listQuery(
  [{ op: 'and', rules: [{ field: 'stockState', operator: 'is_none_of', value: ['out'] }] }],
  ['name', '-ratingAvg', 'stockState,-price']
);

/** An order as a shop sends it, loosely: the storefront routes verify a signature before reading it. */
const ShopifyLike = z.object({
  id: z.number().int(),
  email: z.string().max(60),
  total_price: z.string().max(12)
});

const ENDPOINTS: Record<string, Endpoint> = {
  'GET /api/health': {},
  'GET /api/meta': {},
  'POST /api/auth/login': { json: LoginBody },
  'POST /api/auth/logout': {},
  'GET /api/auth/me': {},
  'GET /api/teams': {},
  'POST /api/teams': { json: TeamBody },
  'PATCH /api/teams/:id': { id: 'teams', json: TeamPatch },
  'GET /api/users': {},
  'POST /api/users': { json: CreateUserBody },
  'PATCH /api/users/:id': { id: 'victims', json: UpdateUserBody },
  'GET /api/tickets': { query: QueueQuery },
  'GET /api/tickets/:id': { id: 'tickets' },
  'PATCH /api/tickets/:id': { id: 'tickets', json: TicketPatch },
  'POST /api/tickets/:id/claim': { id: 'tickets' },
  'POST /api/tickets/:id/messages': { id: 'tickets', json: ReplyBody },
  'POST /api/tickets/:id/csat': { id: 'tickets', json: CsatBody },
  'POST /api/inbound': { json: InboundMessage },
  'GET /api/canned-responses': { query: CannedQuery },
  'POST /api/canned-responses': { json: CannedBody },
  'PUT /api/canned-responses/:id': { id: 'canned', json: CannedBody },
  'DELETE /api/canned-responses/:id': { id: 'canned' },
  'GET /api/sla-policies': {},
  'PUT /api/sla-policies': { json: SlaPoliciesBody },
  'GET /api/agents': { query: AgentsQuery },
  'PUT /api/me/status': { json: AgentStatusBody },
  'GET /api/orders/:id': { id: 'orders' },
  'POST /api/orders/:id/refund': { id: 'orders', json: OrderActionBody },
  'POST /api/orders/:id/cancel': { id: 'orders', json: OrderActionBody },
  'GET /api/wallboard': { query: WallboardQuery },
  'GET /api/wallboard/thresholds': {},
  'PUT /api/wallboard/thresholds': { json: ThresholdsBody },
  'GET /api/wallboard/tokens': {},
  'POST /api/wallboard/tokens': { json: CreateWallboardTokenBody },
  'DELETE /api/wallboard/tokens/:id': { id: 'tokens' },
  'GET /api/analytics/sales': { query: SeriesQuery },
  'GET /api/analytics/top-products': { query: TopQuery },
  'GET /api/analytics/top-categories': { query: TopQuery },
  'GET /api/analytics/cohorts': { query: RangeQuery },
  'GET /api/analytics/rfm': { query: RangeQuery },
  'GET /api/analytics/support': { query: SeriesQuery },
  'GET /api/analytics/orders': { query: OrdersDrillQuery },
  'GET /api/products/:id': { id: 'products' },
  'GET /api/products/:id/stock-movements': { id: 'products', query: MovementsQuery },
  'POST /api/products/:id/stock-movements': { id: 'products', json: StockMovementBody },
  'PATCH /api/products/:id': { id: 'products', json: ProductPatch },
  'GET /api/reviews': { query: ReviewsQuery },
  'GET /api/analytics/customers': { query: CustomersDrillQuery },
  'GET /api/analytics/tickets': { query: TicketsDrillQuery },
  'GET /api/customers': { query: CustomersList },
  'GET /api/customers/summary': { query: CustomersList },
  'GET /api/customers/export.csv': { query: CustomersList },
  'GET /api/orders': { query: OrdersList },
  'GET /api/orders/summary': { query: OrdersList },
  'GET /api/orders/export.csv': { query: OrdersList },
  'GET /api/products': { query: ProductsList },
  'GET /api/products/summary': { query: ProductsList },
  'GET /api/products/export.csv': { query: ProductsList },
  'GET /api/views': { query: ViewListQuery },
  'POST /api/views': { json: CreateViewBody },
  'PATCH /api/views/:id': { id: 'views', json: UpdateViewBody },
  'DELETE /api/views/:id': { id: 'views' },
  'GET /api/customers/:id/duplicates': { id: 'customers' },
  'GET /api/customers/:id/resolve': { id: 'customers' },
  'GET /api/customers/:id/merges': { id: 'customers' },
  'GET /api/customers/:id/merge-preview': { id: 'customers', query: MergePreviewQuery },
  'POST /api/customers/:id/merge': { id: 'customers', json: MergeBody },
  'GET /api/duplicates': { query: DuplicatesQuery },
  'POST /api/duplicates/dismiss': { json: DismissBody },
  'GET /api/demo-activity': {},
  'PUT /api/demo-activity': { json: DemoActivityBody },
  'GET /api/customers/:id': { id: 'customers' },
  'PATCH /api/customers/:id': { id: 'customers', json: CustomerPatch },
  'GET /api/customers/:id/timeline': { id: 'customers', query: TimelineQuery },
  'GET /api/customers/:id/orders': { id: 'customers', query: ListQuery },
  'GET /api/customers/:id/tickets': { id: 'customers', query: ListQuery },
  'GET /api/customers/:id/loyalty': { id: 'customers', query: ListQuery },
  'POST /api/customers/:id/contacts': { id: 'customers', json: ContactBody },
  'GET /api/customers/:id/consents': { id: 'customers' },
  'POST /api/customers/:id/consents': { id: 'customers', json: ConsentBody },
  'GET /api/customers/:id/notes': { id: 'customers', query: NotesQuery },
  'POST /api/customers/:id/notes': { id: 'customers', json: NoteBody },
  'PATCH /api/customer-contacts/:id': { id: 'contacts', json: ContactPatch },
  'DELETE /api/customer-contacts/:id': { id: 'contacts' },
  'DELETE /api/customer-notes/:id': { id: 'notes' },
  'GET /api/custom-attributes': { query: AttributeDefinitionsQuery },
  'POST /api/custom-attributes': { json: AttributeDefinitionBody },
  'PATCH /api/custom-attributes/:id': { id: 'attributes', json: AttributeDefinitionPatch },
  'DELETE /api/custom-attributes/:id': { id: 'attributes' },
  'POST /api/bulk': { json: BulkRequest },
  'GET /api/bulk': { query: BulkListQuery },
  'GET /api/bulk/:id': { id: 'bulk' },
  'POST /api/bulk/:id/cancel': { id: 'bulk' },
  'GET /api/bulk/:id/export.csv': { id: 'bulk' },
  'GET /api/customers/values': { query: fieldValuesQuerySchema('customers') },
  'GET /api/orders/values': { query: fieldValuesQuerySchema('orders') },
  'GET /api/products/values': { query: fieldValuesQuerySchema('products') },
  'GET /api/categories': {},
  'POST /api/categories': { json: CategoryBody },
  'POST /api/imports/uploads': { query: UploadQuery },
  'POST /api/imports/uploads/:id/preview': { id: 'uploads', json: PreviewBody },
  'POST /api/imports': { json: StartImportBody },
  'GET /api/imports': { query: ImportListQuery },
  'GET /api/imports/:id': { id: 'imports' },
  'GET /api/imports/:id/rejects': { id: 'imports', query: RejectsQuery },
  'GET /api/imports/:id/failed-rows.csv': { id: 'imports' },
  'GET /api/openapi.json': {},
  'GET /api/docs': {},
  'GET /api/docs/:asset': {},
  'GET /api/api-tokens': {},
  'POST /api/api-tokens': { json: CreateApiTokenBody },
  'DELETE /api/api-tokens/:id': { id: 'apiTokens' },
  'GET /api/webhook-subscriptions': {},
  'POST /api/webhook-subscriptions': { json: CreateWebhookBody },
  'PATCH /api/webhook-subscriptions/:id': { id: 'webhooks', json: WebhookPatch },
  'DELETE /api/webhook-subscriptions/:id': { id: 'webhooks' },
  'GET /api/webhook-subscriptions/:id/deliveries': { id: 'webhooks', query: DeliveriesQuery },
  'POST /api/webhook-subscriptions/:id/deliveries/:deliveryId/redeliver': { id: 'webhooks' },
  'GET /api/loyalty/rewards': {},
  'GET /api/loyalty/expiring': { query: ExpiringQuery },
  'GET /api/loyalty/customers/:id': { id: 'customers' },
  'GET /api/loyalty/customers/:id/ledger': { id: 'customers', query: LedgerQuery },
  'POST /api/loyalty/customers/:id/redeem': { id: 'customers', json: RedeemBody },
  'POST /api/loyalty/customers/:id/adjust': { id: 'customers', json: AdjustBody },
  'POST /api/loyalty/customers/:id/goodwill': { id: 'customers', json: GoodwillBody },
  // Storefront webhooks read the raw body and check its signature first: garbage is a 401 or 400.
  'POST /api/webhooks/shopify': { json: ShopifyLike },
  'POST /api/webhooks/woocommerce': { json: ShopifyLike },
  'POST /api/ingest/orders': { json: GenericOrder },
  'GET /api/stores': {},
  'POST /api/stores': { json: CreateStoreBody },
  'PATCH /api/stores/:id': { id: 'stores', json: StorePatch },
  'GET /api/stores/:id/deliveries': { id: 'stores', query: StoreDeliveriesQuery },
  'POST /api/stores/:id/deliveries/:deliveryId/retry': { id: 'stores' },
  'GET /api/loyalty-program/report/tiers': {},
  'GET /api/loyalty-program/report/top': { query: TopMembersQuery },
  'GET /api/loyalty-program/report/activity': { query: ActivityQuery },
  'GET /api/loyalty-program/report/liability': {},
  'GET /api/loyalty-program/report/recent': { query: RecentQuery },
  'GET /api/loyalty-program/versions': {},
  'GET /api/loyalty-program/versions/:id': { id: 'programVersions' },
  'GET /api/loyalty-program/draft': {},
  'PUT /api/loyalty-program/draft': { json: SaveDraftBody },
  'DELETE /api/loyalty-program/draft': {},
  'POST /api/loyalty-program/previews': {},
  'GET /api/loyalty-program/previews/:id': { id: 'previews' },
  'POST /api/loyalty-program/publish': { json: PublishBody },
  'GET /api/campaigns': {},
  'GET /api/campaigns/rewards': {},
  'GET /api/campaigns/segments': {},
  'POST /api/campaigns': { json: CreateCampaignBody },
  'GET /api/campaigns/:id': { id: 'campaigns' },
  'POST /api/campaigns/:id/launch': { id: 'campaigns' },
  'GET /api/campaigns/:id/report': { id: 'campaigns' },
  'GET /api/segments': {},
  'POST /api/segments': { json: SegmentInput },
  'POST /api/segments/count': { json: SegmentDraft },
  'POST /api/segments/preview': { json: SegmentDraft },
  'GET /api/segments/:id': { id: 'segments' },
  'PATCH /api/segments/:id': { id: 'segments', json: SegmentPatch },
  'DELETE /api/segments/:id': { id: 'segments' },
  'GET /api/segments/:id/count': { id: 'segments' },
  'GET /api/segments/:id/members': { id: 'segments', query: SegmentMembersQuery },
  'GET /api/segments/:id/export.csv': { id: 'segments' }
};

// Tables a refused request may still write: the audit log (denied access, failed sign-ins, which
// login throttling counts), sessions (a stale cookie is cleared, an idle one slides), the change
// log and the adapter's table, migrations, and the analytics rollups the server refreshes on its own.
// Every other table gets a row trigger that notes each row written in `fuzz_writes`: a refused
// request must leave no note. (The same guarantee as checksumming the tables around each request,
// for one cheap query, and stricter: a row rewritten with its own values counts as a change too.)
const MAY_CHANGE = [
  'audit_log',
  'sessions',
  'change_log',
  'change_log_retention',
  'socket_io_attachments',
  'schema_migrations',
  'analytics_dirty_customers',
  'analytics_dirty_days',
  'analytics_state',
  'customer_monthly',
  'customer_order_stats',
  'product_sales_daily',
  'sales_daily',
  // Folded into one row (per day, status and channel) after each background rollup refresh.
  'order_totals',
  'order_daily_totals',
  // Rebuilt by the background rollup refresh for the 360's RFM segment.
  'rfm_boundaries',
  // An upload whose client went away mid-body (the fuzzer's wrong Content-Length) is deleted when
  // its stream ends, which can be after the next request has begun.
  'import_uploads',
  'import_upload_parts',
  // The webhook dispatcher moves subscriptions' cursors and records deliveries on its own.
  'webhook_subscriptions',
  'webhook_deliveries',
  'webhook_attempts',
  // The segment reconcile compiles, recounts and corrects segments on its own (and at start).
  'segments',
  'segment_members',
  'segment_membership_changes',
  'segment_rfm_cutoffs',
  'segment_dirty'
];

type Who = 'anonymous' | 'agent' | 'manager' | 'admin' | 'integration';

let db: TestDatabase;
let servers: ChildServer[];
let world: Awaited<ReturnType<typeof createWorld>>;
let identities: Record<'agent' | 'manager' | 'admin', TestUser>;
const cookies: Partial<Record<Who, string>> = {};
const pools = {} as Record<Pool, number[]>;
let hints: ArbitraryHints;
let tvSecret: string;
/** Per endpoint: how many answers of each status the fuzzer got (printed at the end). */
const statuses = new Map<string, Map<string, number>>();

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  identities = { agent: world.agentA, manager: world.manager, admin: world.admin };
  // Failed sign-ins from the fuzzer must not lock the identities out: throttling has its own tests.
  // Nor rate limits: the fuzzer sends far more than a person would.
  const config = {
    INTEGRATION_TOKEN: TOKEN,
    LOGIN_MAX_FAILURES: '1000000',
    API_SESSION_RATE_PER_SECOND: '0'
  };
  servers = await Promise.all([
    startChildServer(db.url, {}, config),
    startChildServer(db.url, {}, { ...config, TRUST_PROXY: 'true' })
  ]);
  await seedRows();
  await signInIdentities();
  await watchWrites();
});
afterAll(async () => {
  const lines = [...statuses].map(
    ([key, counts]) =>
      `  ${key.padEnd(36)} ${[...counts]
        .sort()
        .map(([s, n]) => `${s}x${n}`)
        .join(' ')}`
  );
  if (lines.length) process.stdout.write(`Answers per endpoint (status x count):\n${lines.join('\n')}\n`);
  await Promise.all((servers ?? []).map((s) => s.stop()));
  await db?.drop();
});

async function seedRows() {
  const customerB = await createCustomer(db.sql, 'fuzz.b@example.com', 'Blake');
  pools.tickets = [
    await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA }),
    await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA, subject: 'Second' }),
    await createTicket(db.sql, { customerId: customerB, teamId: world.teamB })
  ];
  pools.orders = [
    await createOrder(db.sql, { customerId: world.customerId, total: '49.90', status: 'paid' }),
    await createOrder(db.sql, { customerId: world.customerId, total: '12.00' }),
    await createOrder(db.sql, { customerId: customerB, total: '100.00', status: 'shipped' })
  ];
  pools.teams = [world.teamA, world.teamB];
  pools.customers = [
    world.customerId,
    customerB,
    await createCustomer(db.sql, 'fuzz.b+dup@example.com', 'Blake'),
    await createCustomer(db.sql, 'fuzz.c@example.com', 'Cody')
  ];
  pools.contacts = (
    await db.sql.query<{ id: number }>(
      `INSERT INTO customer_contacts (customer_id, kind, value) VALUES ($1, 'email', 'casey.work@example.com'), ($2, 'phone', '+1 555 0100') RETURNING id`,
      [world.customerId, customerB]
    )
  ).rows.map((r) => Number(r.id));
  pools.notes = (
    await db.sql.query<{ id: number }>(
      `INSERT INTO customer_notes (customer_id, author_id, body) VALUES ($1, $2, 'Prefers email'), ($3, NULL, 'Imported') RETURNING id`,
      [world.customerId, world.agentA.id, customerB]
    )
  ).rows.map((r) => Number(r.id));
  pools.attributes = (
    await db.sql.query<{ id: number }>(
      `INSERT INTO custom_attribute_definitions (entity, key, label, type, options) VALUES
         ('customer', 'shoe_size', 'Shoe size', 'number', '{}'), ('customer', 'plan', 'Plan', 'choice', '{basic,plus}') RETURNING id`
    )
  ).rows.map((r) => r.id);
  const { rows: products } = await db.sql.query<{ id: number }>(
    `INSERT INTO products (sku, name, price, stock) VALUES ('FUZZ-1', 'Kettle', 20, 12), ('FUZZ-2', 'Mug', 5, 0) RETURNING id`
  );
  pools.products = products.map((r) => r.id);
  await db.sql.query(
    `INSERT INTO reviews (customer_id, product_id, rating, title, body) VALUES ($1, $2, 4, 'Good kettle', 'Boils fast, order #${pools.orders[0]}')`,
    [world.customerId, pools.products[0]]
  );
  // Users the fuzzer may change; the identities it signs in as are restored after every run.
  pools.victims = [];
  for (const n of [1, 2, 3])
    pools.victims.push(
      (await createUser(db.sql, { email: `victim${n}@test.dev`, role: 'agent', teamId: world.teamA })).id
    );
  const { rows: canned } = await db.sql.query<{ id: number }>(
    `INSERT INTO canned_responses (title, body, team_id) VALUES ('Hello', 'Hi {{customer.first_name}}', NULL), ('Refund', 'Done', $1) RETURNING id`,
    [world.teamA]
  );
  pools.canned = canned.map((r) => r.id);
  const manager = await Browser.signedIn(servers[0].url, world.manager.email);
  pools.tokens = [];
  for (const name of ['TV one', 'TV two'])
    pools.tokens.push((await manager.post('/api/wallboard/tokens', { name })).body.token.id);
  pools.views = [];
  for (const [name, visibility] of [
    ['Everyone', 'everyone'],
    ['Personal', 'personal']
  ])
    pools.views.push(
      (await manager.post('/api/views', { name, entity: 'orders', state: {}, visibility })).body.view.id
    );
  pools.segments = (await db.sql.query<{ id: number }>(`SELECT id FROM segments ORDER BY id`)).rows.map(
    (r) => r.id
  );
  // A finished export and a finished tag job (their ids for the bulk job endpoints).
  pools.bulk = [];
  for (const body of [
    { entity: 'customers', action: 'export', params: {}, selection: { ids: [world.customerId] } },
    { entity: 'customers', action: 'add_tags', params: { tags: ['fuzz'] }, selection: { ids: [customerB] } }
  ])
    pools.bulk.push((await manager.post('/api/bulk', body)).body.job.id);
  await backgroundWorkSettled();
  // An upload and a finished dry run of it (ids for the import endpoints).
  const imported = await manager.request(
    'POST',
    '/api/imports/uploads?entity=customers&name=fuzz.csv',
    'email,first_name\nfuzz@import.test,Fuzz\nbad,Row\n',
    { 'content-type': 'text/csv' }
  );
  pools.uploads = [imported.body.preview.uploadId];
  pools.imports = [
    (
      await manager.post('/api/imports', {
        uploadId: imported.body.preview.uploadId,
        dryRun: true,
        options: imported.body.preview.options
      })
    ).body.job.id
  ];
  // The starting program, and a finished impact preview of a draft (for the loyalty program endpoints).
  pools.programVersions = [1];
  await manager.request('PUT', '/api/loyalty-program/draft', { config: STARTING_PROGRAM });
  pools.previews = [(await manager.post('/api/loyalty-program/previews')).body.job.id];
  await backgroundWorkSettled();
  // A link the HTTP fuzzing cannot revoke (it is not in the pool), for the socket fuzzing.
  tvSecret = (await manager.post('/api/wallboard/tokens', { name: 'TV for sockets' })).body.secret;
  const admin = await Browser.signedIn(servers[0].url, world.admin.email);
  pools.apiTokens = [];
  for (const name of ['Sync one', 'Sync two'])
    pools.apiTokens.push(
      (await admin.post('/api/api-tokens', { name, scopes: ['orders:read'] })).body.token.id
    );
  // Disabled, so the dispatcher sends nothing while the fuzzer runs (a closed local port).
  const { rows: hooks } = await db.sql.query<{ id: number }>(
    `INSERT INTO webhook_subscriptions (name, url, events, secret, cursor, enabled)
     VALUES ('Hook one', 'http://127.0.0.1:9/', '{order.created}', repeat('s', 32), pg_current_snapshot()::text, false),
            ('Hook two', 'http://127.0.0.1:9/', '{ticket.updated}', repeat('s', 32), pg_current_snapshot()::text, false)
     RETURNING id`
  );
  pools.webhooks = hooks.map((r) => r.id);
  const { rows: stores } = await db.sql.query<{ id: number }>(
    `INSERT INTO stores (name, platform, secret) VALUES ('Fuzz shop', 'shopify', repeat('s', 32)) RETURNING id`
  );
  pools.stores = stores.map((r) => r.id);
  // A segment of two customers and a draft campaign on it (launching it is allowed to succeed).
  const { rows: segments } = await db.sql.query<{ id: number }>(
    `INSERT INTO segments (name, rule) VALUES ('Fuzz segment', '{}') RETURNING id`
  );
  await db.sql.query(`INSERT INTO segment_members (segment_id, customer_id) VALUES ($1, $2), ($1, $3)`, [
    segments[0].id,
    world.customerId,
    customerB
  ]);
  const { rows: campaigns } = await db.sql.query<{ id: number }>(
    `INSERT INTO campaigns (name, segment_id, incentive, bonus_points, starts_at, ends_at, holdout_percent)
     VALUES ('Fuzz campaign', $1, 'points', 10, now(), now() + interval '7 days', 10) RETURNING id`,
    [segments[0].id]
  );
  pools.campaigns = campaigns.map((r) => r.id);
  hints = {
    ids: {
      ticketId: pools.tickets,
      orderId: pools.orders,
      customerId: pools.customers,
      teamId: pools.teams,
      mergedId: pools.customers,
      customerIds: pools.customers,
      assigneeId: [world.agentA.id, world.agentB.id, world.manager.id],
      productId: pools.products,
      categoryId: [],
      segmentId: [segments[0].id]
    }
  };
}

async function watchWrites() {
  const { rows } = await db.sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT (c.relname = ANY($1)) ORDER BY 1`,
    [MAY_CHANGE]
  );
  await db.sql.query(`
    CREATE TABLE fuzz_writes (id bigserial PRIMARY KEY, tbl text NOT NULL);
    CREATE FUNCTION fuzz_note_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO fuzz_writes (tbl) VALUES (TG_TABLE_NAME);
      RETURN NULL;
    END $$;
    ${rows.map((r) => `CREATE TRIGGER fuzz_note_write AFTER INSERT OR UPDATE OR DELETE ON "${r.name}" FOR EACH ROW EXECUTE FUNCTION fuzz_note_write();`).join('\n')}`);
}

/**
 * Puts the identities back as they were (a fuzzed request may demote, move or sign out one of
 * them: a PATCH of a user, a logout, a sign-in that replaces the session) and returns the
 * position in `fuzz_writes` to compare with after the next request. One query when all is well.
 */
async function prepareRun(): Promise<number> {
  await backgroundWorkSettled();
  const who = Object.keys(identities) as ('agent' | 'manager' | 'admin')[];
  const { rows } = await db.sql.query<{ broken: string[]; mark: string }>(
    `SELECT coalesce(array_agg(w.who) FILTER (WHERE u.id IS NULL OR s.id IS NULL), '{}') AS broken,
            (SELECT coalesce(max(id), 0) FROM fuzz_writes) AS mark
       FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[]) AS w(who, id, role, team_id, cookie)
       LEFT JOIN users u ON u.id = w.id AND u.role::text = w.role AND u.team_id IS NOT DISTINCT FROM w.team_id AND u.active
       LEFT JOIN sessions s ON s.id = encode(sha256(convert_to(w.cookie, 'UTF8')), 'hex')`,
    [
      who,
      who.map((w) => identities[w].id),
      who.map((w) => identities[w].role),
      who.map((w) => identities[w].teamId),
      who.map((w) => cookies[w]?.split('=')[1] ?? '')
    ]
  );
  if (rows[0].broken.length === 0) return Number(rows[0].mark);
  await signInIdentities();
  return prepareRun();
}

/**
 * Work an accepted request leaves to the server's background runners (a bulk job, an impact preview,
 * an import, a storefront delivery to apply) writes rows of its own after the answer: it finishes
 * before the next request's mark is taken, so its writes are not laid at that request's door.
 * (A campaign launches inside its request; the runners whose tables are in MAY_CHANGE may write
 * at any time.) A delivery waiting for its retry is not due: it stays pending, unapplied.
 */
async function backgroundWorkSettled() {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await db.sql.query<{ kind: string }>(
      `SELECT 'bulk job' AS kind FROM bulk_jobs WHERE state IN ('queued', 'running')
       UNION ALL SELECT 'impact preview' FROM loyalty_preview_jobs WHERE state = 'running'
       UNION ALL SELECT 'import' FROM import_jobs WHERE state IN ('queued', 'running')
       UNION ALL SELECT 'storefront delivery' FROM store_deliveries WHERE state = 'pending' AND next_attempt_at <= now()
       LIMIT 1`
    );
    if (rows.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`background work (${rows[0].kind}) did not finish within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function signInIdentities() {
  for (const [who, user] of Object.entries(identities) as ['agent' | 'manager' | 'admin', TestUser][]) {
    await db.sql.query(
      `UPDATE users SET role = $2, team_id = $3, active = true WHERE id = $1 AND (role, team_id, active) IS DISTINCT FROM ($2::user_role, $3::int, true)`,
      [user.id, user.role, user.teamId]
    );
    const cookie = cookies[who];
    const alive =
      cookie &&
      (
        await db.sql.query(
          `SELECT 1 FROM sessions WHERE id = encode(sha256(convert_to($1, 'UTF8')), 'hex')`,
          [cookie.split('=')[1]]
        )
      ).rowCount;
    if (!alive) cookies[who] = (await Browser.signedIn(servers[0].url, user.email)).cookie;
  }
}

/** The tables written since `mark`. */
async function writtenSince(mark: number): Promise<string[]> {
  const { rows } = await db.sql.query<{ tbl: string }>(
    `SELECT DISTINCT tbl FROM fuzz_writes WHERE id > $1 ORDER BY 1`,
    [mark]
  );
  return rows.map((r) => r.tbl);
}

// Requests ---------------------------------------------------------------------------------------

interface FuzzRequest {
  server: number;
  who: Who;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  /** Content-Length other than the body's: `short` sends more than it declares, `long` less. */
  length: 'right' | 'short' | 'long';
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  'application/ json',
  ''
];

/** A header value with what HTTP lets through: Latin-1 and beyond (sent as UTF-8 bytes), long, empty. */
const headerValue = fc
  .oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom('', ' ', 'é', '😀', '\u00ff', 'a'.repeat(4000), '../../etc/passwd', "' OR 1=1 --")
  )
  .map((v) => v.replace(/[\r\n\0]/g, ''));

const NOISE_HEADERS = [
  'user-agent',
  'accept',
  'accept-language',
  'x-request-id',
  'referer',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'if-none-match'
];

function endpointRequest(key: string, spec: Endpoint): fc.Arbitrary<FuzzRequest> {
  const [method, template] = key.split(' ');
  const valid = fc.record({
    id: spec.id ? fc.constantFrom(...pools[spec.id]) : fc.constant(0),
    query: spec.query
      ? (arbitraryFor(spec.query, hints) as fc.Arbitrary<Record<string, unknown>>)
      : fc.constant({}),
    json: spec.json
      ? (arbitraryFor(spec.json, hints) as fc.Arbitrary<Record<string, unknown>>)
      : fc.constant(undefined)
  });
  return fc
    .record({
      valid,
      server: fc.nat(servers.length - 1),
      who: fc.oneof(
        { weight: 2, arbitrary: fc.constant<Who>('anonymous') },
        { weight: 5, arbitrary: fc.constantFrom<Who>('agent', 'manager', 'admin') },
        { weight: 1, arbitrary: fc.constant<Who>('integration') }
      ),
      idMutation: sometimes(badId, 0.25),
      queryMutation: sometimes(
        fc.tuple(
          fc.option(fc.string({ maxLength: 12 })),
          fc.oneof(nastyString, fc.constantFrom('%zz', '%00', '%C0%AF', '%E0%A4%A')),
          fc.boolean()
        ),
        spec.query ? 0.3 : 0.1
      ),
      bodyMutation: sometimes(
        fc.oneof(
          fc.record({
            kind: fc.constant('field' as const),
            pick: fc.nat(),
            value: fc.oneof({ weight: 2, arbitrary: nastyString }, { weight: 1, arbitrary: wrongValue })
          }),
          fc.record({
            kind: fc.constant('extra' as const),
            key: fc.string({ maxLength: 12 }),
            value: wrongValue
          }),
          fc.record({ kind: fc.constant('missing' as const), pick: fc.nat() }),
          fc.record({ kind: fc.constantFrom('proto' as const, 'constructor' as const) }),
          fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat(), value: wrongValue }),
          fc.record({ kind: fc.constant('text' as const), text: badBodyText })
        ),
        0.4
      ),
      contentType: sometimes(fc.constantFrom(...CONTENT_TYPES), 0.1),
      length: fc.oneof(
        { weight: 18, arbitrary: fc.constant<FuzzRequest['length']>('right') },
        { weight: 1, arbitrary: fc.constantFrom<FuzzRequest['length']>('short', 'long') }
      ),
      origin: fc.oneof(
        { weight: 17, arbitrary: fc.constant('own' as const) },
        {
          weight: 3,
          arbitrary: fc.constantFrom('none' as const, 'null' as const, 'evil' as const, 'garbage' as const)
        }
      ),
      noise: fc.oneof(
        { weight: 2, arbitrary: fc.constant({}) },
        {
          weight: 1,
          arbitrary: fc.dictionary(fc.constantFrom(...NOISE_HEADERS), headerValue, { maxKeys: 3 })
        }
      ),
      wrongMethod: sometimes(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'),
        0.05
      )
    })
    .map((r) => {
      const id = r.idMutation ?? String(r.valid.id);
      // Other parameters (a delivery id, a docs asset) are fixed.
      let path = template.replace(/:(?!id\b)\w+/g, '1').replace(':id', id);
      const query = new URLSearchParams(Object.entries(r.valid.query).map(([k, v]) => [k, String(v)]));
      let search = query.toString();
      if (r.queryMutation) {
        const [name, value, raw] = r.queryMutation;
        const key = name ?? Object.keys(r.valid.query)[0] ?? 'q';
        search += `${search ? '&' : ''}${percentEncode(key)}=${raw ? value.replace(/[\s#]/g, '') : percentEncode(value)}`;
      }
      if (search) path += `?${search}`;
      let body: string | null = r.valid.json === undefined ? null : JSON.stringify(r.valid.json);
      const json = (r.valid.json ?? {}) as Record<string, unknown>;
      const keys = Object.keys(json);
      const m = r.bodyMutation;
      const pick = (n: number) => keys[n % Math.max(keys.length, 1)] ?? 'x';
      if (m?.kind === 'field') body = JSON.stringify({ ...json, [pick(m.pick)]: m.value });
      else if (m?.kind === 'extra') body = JSON.stringify({ ...json, [m.key]: m.value });
      else if (m?.kind === 'missing')
        body = JSON.stringify(Object.fromEntries(Object.entries(json).filter(([k]) => k !== pick(m.pick))));
      else if (m?.kind === 'proto')
        body = withExtraKey(json, '__proto__', { role: 'admin', isAdmin: true, teamId: world.teamB });
      else if (m?.kind === 'constructor')
        body = withExtraKey(json, 'constructor', { prototype: { role: 'admin' } });
      else if (m?.kind === 'duplicate') body = withExtraKey(json, pick(m.pick), m.value);
      else if (m?.kind === 'text') body = m.text;
      const headers: Record<string, string> = { ...r.noise };
      if (body !== null) headers['content-type'] = r.contentType ?? 'application/json';
      const own = new URL(servers[r.server].url).origin;
      const origin = {
        own,
        none: undefined,
        null: 'null',
        evil: 'https://evil.example',
        garbage: 'http://a b'
      }[r.origin];
      if (origin !== undefined) headers.origin = origin;
      const req: FuzzRequest = {
        server: r.server,
        who: r.who,
        method: r.wrongMethod ?? method,
        path,
        headers,
        body,
        length: body === null ? 'right' : r.length
      };
      // fast-check prints a failing example with this (a 300 KB body would bury the report).
      return Object.assign(req, { [fc.toStringMethod]: () => describeRequest(req) });
    });
}

/** Sends the request as written, with the identity's credentials. */
async function send(req: FuzzRequest): Promise<RawResponse> {
  const server = servers[req.server];
  const headers: Record<string, string> = {
    host: new URL(server.url).host,
    connection: 'close',
    ...req.headers
  };
  if (req.who === 'integration') headers.authorization = `Bearer ${TOKEN}`;
  else if (req.who !== 'anonymous') headers.cookie = cookies[req.who]!;
  const body = req.body === null ? Buffer.alloc(0) : Buffer.from(req.body, 'utf8');
  if (req.body !== null)
    headers['content-length'] = String(
      req.length === 'short'
        ? Math.max(body.length - 3, 0)
        : req.length === 'long'
          ? body.length + 3
          : body.length
    );
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  return rawRequest(
    server.url,
    Buffer.concat([Buffer.from(head, 'utf8'), body]),
    10_000,
    req.length === 'long'
  );
}

const clip = (text: string, max = 200) =>
  text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
const describeRequest = (req: FuzzRequest, res?: RawResponse) =>
  `${req.who} ${req.method} ${clip(req.path)} on server ${req.server}, headers ${clip(JSON.stringify(req.headers))}, ` +
  `Content-Length ${req.length}, body ${req.body === null ? 'none' : clip(JSON.stringify(req.body))}${res ? ` -> ${res.status} ${clip(res.body)}` : ''}`;

async function expectUp() {
  for (const s of servers) {
    expect(s.exitCode(), `server ${s.url} exited`).toBeNull();
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
  }
}

describe('HTTP fuzzing', () => {
  it('covers every endpoint of the API', async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const { sequelize, release } = acquireSequelize(db.url);
    try {
      const api = createApi({
        config,
        db: sequelizeDb(sequelize),
        auth: createLucia(config),
        logger: pino({ level: 'silent' }),
        listenerState: () => 'stopped'
      });
      const routes = new Set(
        api.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`)
      );
      expect([...routes].sort()).toEqual(Object.keys(ENDPOINTS).sort());
    } finally {
      await release();
    }
  });

  for (const [key, spec] of Object.entries(ENDPOINTS)) {
    it(`${key}: no 5xx, refusals in the error shape, a refused request changes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(endpointRequest(key, spec), async (req) => {
          const mark = await prepareRun();
          const res = await send(req);
          const what = describeRequest(req, res);
          const counts = statuses.get(key) ?? new Map<string, number>();
          counts.set(String(res.status), (counts.get(String(res.status)) ?? 0) + 1);
          statuses.set(key, counts);
          expect(servers[req.server].exitCode(), `server exited after ${what}`).toBeNull();
          // A body shorter than its Content-Length never ends: the connection closes with no answer.
          if (res.status === null && req.length === 'long') return;
          expect(res.status, what).not.toBeNull();
          expect(res.status!, what).toBeLessThan(500);
          if (res.status! >= 400) {
            expect(() => JSON.parse(res.body).error.code, what).not.toThrow();
            expect(await writtenSince(mark), `a refused request changed rows: ${what}`).toEqual([]);
          }
        }),
        { numRuns: RUNS }
      );
      await expectUp();
    });
  }
});

describe('HTTP fuzzing: headers a browser may send', () => {
  it('a sign-in succeeds whatever the browser sends in its other headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(servers.length - 1),
        fc.dictionary(fc.constantFrom(...NOISE_HEADERS), headerValue, { minKeys: 1, maxKeys: 4 }),
        async (server, noise) => {
          const own = new URL(servers[server].url);
          const body = JSON.stringify({ email: world.agentB.email, password: PASSWORD });
          // Behind the proxy, the origin the browser saw is the one the proxy says it was.
          const forwarded: Record<string, string> =
            server === 1 ? { 'x-forwarded-proto': 'http', 'x-forwarded-host': own.host } : {};
          const headers = {
            ...noise,
            ...forwarded,
            host: own.host,
            origin: own.origin,
            'content-type': 'application/json',
            connection: 'close'
          };
          const res = await rawRequest(
            servers[server].url,
            httpRequest('POST', '/api/auth/login', headers, body)
          );
          expect(res.status, `${JSON.stringify(noise)} -> ${res.status} ${res.body}`).toBe(200);
        }
      ),
      { numRuns: Math.ceil(RUNS / 2) }
    );
  });
});

// Socket.IO -----------------------------------------------------------------------------------

// Client events after the handshake are fuzzed in fuzz-socket.test.ts.

const handshake = fc.record({
  server: fc.nat(1),
  host: fc.oneof(
    { weight: 4, arbitrary: fc.constant('own') },
    { weight: 1, arbitrary: fc.constantFrom('a b', '[', 'x:99999', 'evil.example', '') }
  ),
  origin: fc.oneof(
    { weight: 4, arbitrary: fc.constant('own') },
    { weight: 1, arbitrary: fc.constantFrom('none', 'null', 'https://evil.example', 'http://a b', 'é') }
  ),
  cookie: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('agent', 'manager') },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constant('none'),
        headerValue.map((v) => `pulse_session=${v}`),
        headerValue
      )
    }
  ),
  auth: fc.oneof(
    { weight: 3, arbitrary: fc.constant('{}') },
    {
      weight: 2,
      arbitrary: fc
        .record(
          {
            horizon: fc.oneof(
              fc.constantFrom(
                '0',
                '1',
                '99999999999999999999',
                '18446744073709551615',
                '-1',
                '1e9',
                '',
                '1:1:',
                '5:3:',
                '1:9:2,3',
                '1:2:x'
              ),
              fc.string(),
              wrongValue
            ),
            watch: fc.oneof(
              fc.record(
                {
                  tickets: fc.array(fc.oneof(fc.integer(), wrongValue), { maxLength: 60 }),
                  customers: fc.array(fc.oneof(fc.integer(), wrongValue), { maxLength: 60 })
                },
                { requiredKeys: [] }
              ),
              wrongValue
            )
          },
          { requiredKeys: [] }
        )
        .map((a) => JSON.stringify(a))
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ wallboardToken: fc.oneof(fc.constant('valid'), fc.string({ maxLength: 300 }), wrongValue) })
        .map((a) => JSON.stringify(a))
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
        badBodyText
      )
    }
  )
});

function handshakeHeaders(h: {
  server: number;
  host: string;
  origin: string;
  cookie: string;
}): Record<string, string> {
  const own = new URL(servers[h.server].url);
  const headers: Record<string, string> = { host: h.host === 'own' ? own.host : h.host };
  if (h.origin !== 'none') headers.origin = h.origin === 'own' ? own.origin : h.origin;
  const cookie =
    h.cookie === 'agent' || h.cookie === 'manager'
      ? cookies[h.cookie]
      : h.cookie === 'none'
        ? undefined
        : h.cookie;
  if (cookie) headers.cookie = cookie;
  // Node writes header strings as Latin-1: the UTF-8 bytes of each value, as Latin-1, reach the server as UTF-8.
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [
      k,
      Buffer.from(v, 'utf8')
        .toString('latin1')
        // eslint-disable-next-line no-control-regex -- control characters are what it strips
        .replace(/[\0-\x08\x0a-\x1f\x7f]/g, '')
    ])
  );
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

describe('Socket.IO handshake fuzzing', () => {
  it('a handshake with any Host, Origin, Cookie and auth is accepted or refused cleanly', async () => {
    await prepareRun();
    await fc.assert(
      fc.asyncProperty(handshake, async (h) => {
        const auth = h.auth.replace('"valid"', JSON.stringify(tvSecret));
        const headers = handshakeHeaders(h);
        const what = `${clip(JSON.stringify(headers))} auth ${clip(auth)}`;
        const opened = await RawSocket.open(servers[h.server].url, headers);
        const signedIn = h.cookie === 'agent' || h.cookie === 'manager';
        if (!(opened instanceof RawSocket)) {
          // Refused at the upgrade: only a malformed or foreign Host or Origin is.
          expect(opened.refused, what).toBe(400);
          expect(h.host === 'own' && h.origin === 'own', what).toBe(false);
        } else {
          try {
            expect(await opened.next((m) => m.startsWith('0{')), `no engine.io open: ${what}`).not.toBeNull();
            opened.send(`40${auth}`);
            const answer = await opened.next((m) => m.startsWith('40') || m.startsWith('44'), 5000);
            // Connected, refused (44), or closed for a malformed packet: never no answer on an open socket.
            expect(answer !== null || opened.closed, `neither accepted, refused nor closed: ${what}`).toBe(
              true
            );
            const parsed = parseJson(auth);
            const plainAuth =
              parsed !== null &&
              typeof parsed === 'object' &&
              !Array.isArray(parsed) &&
              typeof (parsed as { wallboardToken?: unknown }).wallboardToken !== 'string';
            // A packet over the socket's 64 KiB message limit closes the connection, whoever sends it.
            const fits = Buffer.byteLength(auth) < 60 * 1024;
            if (signedIn && plainAuth && fits)
              expect(
                answer?.startsWith('40'),
                `a signed-in handshake was refused: ${what} -> ${answer}`
              ).toBe(true);
            if (!signedIn && !auth.includes(tvSecret))
              expect(answer?.startsWith('40') ?? false, `accepted without credentials: ${what}`).toBe(false);
          } finally {
            opened.close();
          }
        }
        expect(servers[h.server].exitCode(), what).toBeNull();
      }),
      { numRuns: RUNS * 2 }
    );
    await expectUp();
  });
});
