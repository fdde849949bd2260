import type { User } from 'lucia';
import type { z } from 'zod';
import { money } from '#shared/rules/money.js';
import {
  CONSENT_CHANNELS,
  Email,
  Phone,
  type ConsentBody,
  type ConsentChannel,
  type ConsentEntry,
  type ContactBody,
  type ContactPatch,
  type Customer360,
  type CustomerContact,
  type CustomerNote,
  type CustomerNumbers,
  type CustomerPatch,
  type CustomerProfile
} from '#shared/schemas/customer360.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { canViewCustomer, isManager } from '../../auth/policies.js';
import { rfmProfileRange, rfmSegmentOf } from '../analytics/index.js';
import { phoneE164 } from './phones.js';
import { storeToday } from '../analytics/range.js';
import { COUNTED, OPEN_WORK } from '../sql.js';
import { actAs } from '../audit.js';
import { auditIn } from './audit.js';
import { checkAttributes, listDefinitions } from './custom-attributes.js';

type Row = Record<string, unknown>;

const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());
const person = (id: unknown, name: unknown) =>
  id == null ? null : { id: Number(id), name: String(name ?? 'Someone') };

/**
 * A `date` column as YYYY-MM-DD: Sequelize's connections read it as that text already; a plain pg
 * pool reads it as local midnight, whose local fields are the date.
 */
function calendarDate(v: unknown): string | null {
  if (v == null) return null;
  if (typeof v === 'string') return v.slice(0, 10);
  const d = v as Date;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function presentProfile(r: Row): CustomerProfile {
  return {
    id: Number(r.id),
    email: String(r.email),
    firstName: String(r.first_name),
    lastName: String(r.last_name),
    phone: (r.phone as string | null) ?? null,
    addresses: (r.addresses as CustomerProfile['addresses']) ?? [],
    preferredChannels: (r.preferred_channels as string[]) ?? [],
    language: String(r.language),
    tags: (r.tags as string[]) ?? [],
    attributes: (r.attributes as Record<string, unknown>) ?? {},
    marketingConsent: Boolean(r.marketing_consent),
    birthDate: calendarDate(r.birth_date),
    version: Number(r.version),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!
  };
}

export const presentContact = (r: Row): CustomerContact => ({
  id: Number(r.id),
  customerId: Number(r.customer_id),
  kind: r.kind as CustomerContact['kind'],
  value: String(r.value),
  normalized: String(r.normalized),
  label: String(r.label ?? ''),
  version: Number(r.version),
  createdAt: iso(r.created_at)!
});

export const presentConsent = (r: Row): ConsentEntry => ({
  id: Number(r.id),
  customerId: Number(r.customer_id),
  channel: r.channel as ConsentEntry['channel'],
  granted: Boolean(r.granted),
  at: iso(r.at)!,
  source: r.source as ConsentEntry['source'],
  actor: person(r.actor_user_id, r.actor_name),
  note: String(r.note ?? '')
});

export const presentNote = (r: Row): CustomerNote => ({
  id: Number(r.id),
  customerId: Number(r.customer_id),
  author: person(r.author_id, r.author_name),
  body: String(r.body),
  createdAt: iso(r.created_at)!
});

/** The customer row, or a 404 (for a missing id as for one the user may not see). */
export async function customerRow(db: Db, user: User, id: number, lock = false): Promise<Row> {
  const [row] = await db.query<Row>(`SELECT * FROM customers WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [
    id
  ]);
  if (!row || !canViewCustomer(user)) throw notFound('Customer');
  return row;
}

export async function getCustomer360(
  db: Db,
  actor: Actor,
  id: number,
  timezone: string
): Promise<Customer360> {
  const row = await customerRow(db, actor.user, id);
  const [contacts, consent, numbers, attributeDefinitions] = [
    await listContacts(db, id),
    await currentConsent(db, id),
    await customerNumbers(db, id, timezone),
    await listDefinitions(db, 'customer')
  ];
  return {
    customer: presentProfile(row),
    contacts,
    consent,
    numbers,
    attributeDefinitions,
    canSeeAllTickets: isManager(actor.user)
  };
}

async function listContacts(db: Db, id: number): Promise<CustomerContact[]> {
  const rows = await db.query<Row>(
    `SELECT * FROM customer_contacts WHERE customer_id = $1 ORDER BY kind, created_at, id`,
    [id]
  );
  return rows.map(presentContact);
}

const CONSENT_SELECT = `SELECT c.*, u.name AS actor_name FROM customer_consents c LEFT JOIN users u ON u.id = c.actor_user_id`;

async function currentConsent(db: Db, id: number): Promise<Customer360['consent']> {
  const rows = await db.query<Row>(
    `SELECT DISTINCT ON (c.channel) c.*, u.name AS actor_name
       FROM customer_consents c LEFT JOIN users u ON u.id = c.actor_user_id
      WHERE c.customer_id = $1 ORDER BY c.channel, c.at DESC, c.id DESC`,
    [id]
  );
  const out = Object.fromEntries(CONSENT_CHANNELS.map((c) => [c, null])) as Customer360['consent'];
  for (const r of rows) out[r.channel as ConsentChannel] = presentConsent(r);
  return out;
}

/** The profile's numbers; money as exact decimals, the spend chart over the last 12 months. */
export async function customerNumbers(db: Db, id: number, timezone: string): Promise<CustomerNumbers> {
  const [orders] = await db.query<Row>(
    `SELECT coalesce(sum(total) FILTER (WHERE ${COUNTED}), 0)::text AS ltv,
            count(*)::int AS orders,
            count(*) FILTER (WHERE ${COUNTED})::int AS counted,
            (sum(total) FILTER (WHERE ${COUNTED}) / nullif(count(*) FILTER (WHERE ${COUNTED}), 0))::numeric(14, 2)::text AS aov,
            min(order_date) AS first_order_at, max(order_date) AS last_order_at
       FROM orders WHERE customer_id = $1`,
    [id]
  );
  const [loyalty] = await db.query<Row>(
    `SELECT balance, pending, lifetime_points, tier, version FROM loyalty_accounts WHERE customer_id = $1`,
    [id]
  );
  const [support] = await db.query<Row>(
    `SELECT count(*) FILTER (WHERE ${OPEN_WORK})::int AS open,
            avg(csat_score)::numeric(3, 2)::float8 AS csat, count(csat_score)::int AS responses
       FROM tickets WHERE customer_id = $1`,
    [id]
  );
  const months = await db.query<Row>(
    `WITH bounds AS (
       SELECT date_trunc('month', now() AT TIME ZONE $2) - interval '11 months' AS first_month
     ), m AS (
       SELECT generate_series(first_month, first_month + interval '11 months', interval '1 month') AS month FROM bounds
     )
     SELECT to_char(m.month, 'YYYY-MM') AS month, coalesce(sum(o.total), 0)::text AS revenue, count(o.id)::int AS orders
       FROM m LEFT JOIN orders o
         ON o.customer_id = $1 AND o.${COUNTED}
        AND o.order_date >= (m.month AT TIME ZONE $2) AND o.order_date < ((m.month + interval '1 month') AT TIME ZONE $2)
      GROUP BY m.month ORDER BY m.month`,
    [id, timezone]
  );
  // Placed against the RFM quintiles of the last analytics refresh (not a ranking of every buyer).
  const rfmSegment: CustomerNumbers['rfmSegment'] = orders.counted
    ? await rfmSegmentOf(db, rfmProfileRange(storeToday(timezone), timezone), id)
    : null;
  return {
    lifetimeValue: money(orders.ltv),
    orders: Number(orders.orders),
    averageOrderValue: orders.aov == null ? null : money(orders.aov),
    firstOrderAt: iso(orders.first_order_at),
    lastOrderAt: iso(orders.last_order_at),
    rfmSegment,
    loyalty: loyalty
      ? {
          tier: loyalty.tier as NonNullable<CustomerNumbers['loyalty']>['tier'],
          balance: Number(loyalty.balance),
          pending: Number(loyalty.pending),
          available: Number(loyalty.balance) - Number(loyalty.pending),
          lifetimePoints: Number(loyalty.lifetime_points),
          version: Number(loyalty.version)
        }
      : null,
    openTickets: Number(support.open),
    averageCsat: support.csat == null ? null : Number(support.csat),
    csatResponses: Number(support.responses),
    spendByMonth: months.map((m) => ({
      month: String(m.month),
      revenue: money(m.revenue),
      orders: Number(m.orders)
    }))
  };
}

// Edits ----------------------------------------------------------------------------------------

const COLUMNS = {
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  phone: 'phone',
  language: 'language',
  tags: 'tags',
  preferredChannels: 'preferred_channels',
  addresses: 'addresses',
  birthDate: 'birth_date'
} as const;

const staleCustomer = (current: Row) =>
  new AppError('stale_version', 'Someone changed this customer a moment ago; your change was not saved', {
    customer: presentProfile(current)
  });

/**
 * An inline edit: the fields sent, against the version the editor saw (a newer one: 409 with the
 * current profile). Custom attributes are checked against their definitions. Audited with each
 * field's old and new value in the same transaction; the database's change log names the actor.
 */
export async function updateCustomer(
  db: Db,
  actor: Actor,
  id: number,
  patch: CustomerPatch
): Promise<CustomerProfile> {
  return db.transaction(async (t) => {
    await actAs(t, actor);
    const before = await customerRow(t, actor.user, id, true);
    if (Number(before.version) !== patch.version) throw staleCustomer(before);

    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    for (const [field, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      if (field === 'addresses') set(column, JSON.stringify(value), '::jsonb');
      else set(column, value);
      // Written with the phone; unreadable by libphonenumber, the database's fallback fills it.
      if (field === 'phone') {
        const e164 = phoneE164(value as string | null);
        if (e164 !== undefined) set('phone_e164', e164);
      }
    }
    if (patch.attributes) {
      const checked = await checkAttributes(t, 'customer', patch.attributes);
      const next = { ...(before.attributes as Record<string, unknown>) };
      for (const [key, value] of Object.entries(checked)) {
        if (value === null) delete next[key];
        else next[key] = value;
      }
      set('attributes', JSON.stringify(next), '::jsonb');
    }
    if (sets.length === 0) return presentProfile(before);

    const [after] = await t.query<Row>(
      `UPDATE customers SET ${sets.join(', ')} WHERE id = $1 RETURNING *`,
      params
    );
    const changes = diffProfile(presentProfile(before), presentProfile(after));
    if (Object.keys(changes).length > 0)
      await auditIn(t, actor, 'customer.updated', { type: 'customer', id }, { changes });
    return presentProfile(after);
  });
}

/** Field by field, what changed between two profiles (attributes key by key). */
function diffProfile(a: CustomerProfile, b: CustomerProfile): Record<string, { old: unknown; new: unknown }> {
  const out: Record<string, { old: unknown; new: unknown }> = {};
  for (const field of Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]) {
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) out[field] = { old: a[field], new: b[field] };
  }
  for (const key of new Set([...Object.keys(a.attributes), ...Object.keys(b.attributes)])) {
    if (JSON.stringify(a.attributes[key]) !== JSON.stringify(b.attributes[key]))
      out[`attributes.${key}`] = { old: a.attributes[key] ?? null, new: b.attributes[key] ?? null };
  }
  return out;
}

// Contacts ------------------------------------------------------------------------------------

const normalize = (kind: 'email' | 'phone', value: string) =>
  kind === 'email' ? value.trim().toLowerCase() : value.replace(/[^0-9]/g, '');

function checkContactValue(kind: 'email' | 'phone', value: string): string {
  const parsed = (kind === 'email' ? Email : Phone).safeParse(value);
  if (!parsed.success)
    throw new AppError('validation_failed', `Invalid json: value ${parsed.error.issues[0].message}`, [
      { path: 'value', message: parsed.error.issues[0].message }
    ]);
  return parsed.data;
}

function samePrimary(customer: Row, kind: 'email' | 'phone', value: string) {
  const primary = customer[kind] as string | null;
  return primary != null && normalize(kind, primary) === normalize(kind, value);
}

export async function addContact(
  db: Db,
  actor: Actor,
  customerId: number,
  input: z.infer<typeof ContactBody>
): Promise<CustomerContact> {
  return db.transaction(async (t) => {
    await actAs(t, actor);
    const customer = await customerRow(t, actor.user, customerId, true);
    if (samePrimary(customer, input.kind, input.value))
      throw new AppError('conflict', `That is already the primary ${input.kind}`);
    const [row] = await t.query<Row>(
      `INSERT INTO customer_contacts (customer_id, kind, value, label, phone_e164) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (customer_id, kind, normalized) DO NOTHING RETURNING *`,
      [
        customerId,
        input.kind,
        input.value,
        input.label,
        input.kind === 'phone' ? (phoneE164(input.value) ?? null) : null
      ]
    );
    if (!row) throw new AppError('conflict', `This customer already has that ${input.kind}`);
    await auditIn(
      t,
      actor,
      'customer.contact_added',
      { type: 'customer', id: customerId },
      {
        contact: presentContact(row)
      }
    );
    return presentContact(row);
  });
}

async function contactRow(t: Db, actor: Actor, contactId: number) {
  const [row] = await t.query<Row>(`SELECT * FROM customer_contacts WHERE id = $1`, [contactId]);
  if (!row) throw notFound('Contact');
  const customer = await customerRow(t, actor.user, Number(row.customer_id), true).catch(() => {
    throw notFound('Contact');
  });
  const [locked] = await t.query<Row>(`SELECT * FROM customer_contacts WHERE id = $1 FOR UPDATE`, [
    contactId
  ]);
  if (!locked) throw notFound('Contact');
  return { row: locked, customer };
}

/**
 * Relabels a contact, corrects its value, or makes it the primary one: the primary's value and
 * this one's swap (a customer without a primary phone just gets this one as primary).
 */
export async function updateContact(
  db: Db,
  actor: Actor,
  contactId: number,
  patch: z.infer<typeof ContactPatch>
): Promise<{ contact: CustomerContact | null; customer: CustomerProfile }> {
  return db.transaction(async (t) => {
    await actAs(t, actor);
    const { row, customer } = await contactRow(t, actor, contactId);
    if (Number(row.version) !== patch.version)
      throw new AppError(
        'stale_version',
        'Someone changed this contact a moment ago; your change was not saved',
        {
          contact: presentContact(row)
        }
      );
    const kind = row.kind as 'email' | 'phone';
    let value = patch.value === undefined ? String(row.value) : checkContactValue(kind, patch.value);
    const customerId = Number(row.customer_id);
    let profile = customer;
    if (patch.primary) {
      const oldPrimary = customer[kind] as string | null;
      [profile] = await t.query<Row>(
        kind === 'phone'
          ? `UPDATE customers SET phone = $2, phone_e164 = coalesce($3, phone_e164) WHERE id = $1 RETURNING *`
          : `UPDATE customers SET email = $2 WHERE id = $1 RETURNING *`,
        kind === 'phone' ? [customerId, value, phoneE164(value) ?? null] : [customerId, value]
      );
      if (oldPrimary == null) {
        await t.query(`DELETE FROM customer_contacts WHERE id = $1`, [contactId]);
        await auditIn(
          t,
          actor,
          'customer.contact_made_primary',
          { type: 'customer', id: customerId },
          {
            kind,
            old: null,
            new: value
          }
        );
        return { contact: null, customer: presentProfile(profile) };
      }
      await auditIn(
        t,
        actor,
        'customer.contact_made_primary',
        { type: 'customer', id: customerId },
        {
          kind,
          old: oldPrimary,
          new: value
        }
      );
      value = oldPrimary;
    } else if (patch.value !== undefined && samePrimary(customer, kind, value)) {
      throw new AppError('conflict', `That is already the primary ${kind}`);
    }
    const [after] = await t.query<Row>(
      `UPDATE customer_contacts SET value = $2, label = coalesce($3, label), phone_e164 = coalesce($4, phone_e164)
        WHERE id = $1 RETURNING *`,
      [contactId, value, patch.label ?? null, kind === 'phone' ? (phoneE164(value) ?? null) : null]
    );
    if (!patch.primary)
      await auditIn(
        t,
        actor,
        'customer.contact_updated',
        { type: 'customer', id: customerId },
        {
          old: presentContact(row),
          new: presentContact(after)
        }
      );
    return { contact: presentContact(after), customer: presentProfile(profile) };
  });
}

export async function deleteContact(db: Db, actor: Actor, contactId: number): Promise<void> {
  await db.transaction(async (t) => {
    await actAs(t, actor);
    const { row } = await contactRow(t, actor, contactId);
    await t.query(`DELETE FROM customer_contacts WHERE id = $1`, [contactId]);
    await auditIn(
      t,
      actor,
      'customer.contact_removed',
      { type: 'customer', id: Number(row.customer_id) },
      {
        contact: presentContact(row)
      }
    );
  });
}

// Consent ---------------------------------------------------------------------------------------

export async function consentHistory(db: Db, actor: Actor, customerId: number): Promise<ConsentEntry[]> {
  await customerRow(db, actor.user, customerId);
  const rows = await db.query<Row>(
    `${CONSENT_SELECT} WHERE c.customer_id = $1 ORDER BY c.at DESC, c.id DESC LIMIT 500`,
    [customerId]
  );
  return rows.map(presentConsent);
}

/** An agent records a grant or a withdrawal the customer told them (source `agent`). */
export async function recordConsent(
  db: Db,
  actor: Actor,
  customerId: number,
  input: z.infer<typeof ConsentBody>
): Promise<ConsentEntry> {
  return db.transaction(async (t) => {
    await actAs(t, actor);
    await customerRow(t, actor.user, customerId, true);
    const [previous] = await t.query<Row>(
      `SELECT granted FROM customer_consents WHERE customer_id = $1 AND channel = $2 ORDER BY at DESC, id DESC LIMIT 1`,
      [customerId, input.channel]
    );
    const [row] = await t.query<Row>(
      `INSERT INTO customer_consents (customer_id, channel, granted, source, actor_user_id, note)
       VALUES ($1, $2, $3, 'agent', $4, $5) RETURNING *, (SELECT name FROM users WHERE id = $4) AS actor_name`,
      [customerId, input.channel, input.granted, actor.user.id, input.note]
    );
    await auditIn(
      t,
      actor,
      'customer.consent_recorded',
      { type: 'customer', id: customerId },
      {
        channel: input.channel,
        old: previous ? Boolean(previous.granted) : null,
        new: input.granted,
        note: input.note
      }
    );
    return presentConsent(row);
  });
}

// Notes -----------------------------------------------------------------------------------------

const NOTE_SELECT = `SELECT n.id, n.customer_id, n.author_id, n.body, n.created_at, u.name AS author_name
                       FROM customer_notes n LEFT JOIN users u ON u.id = n.author_id`;

/** Newest first; `q` searches the text (every word, prefixes too). */
export async function listNotes(
  db: Db,
  actor: Actor,
  customerId: number,
  q?: string
): Promise<CustomerNote[]> {
  await customerRow(db, actor.user, customerId);
  const words = (q ?? '').match(/[\p{L}\p{N}]+/gu) ?? [];
  const query = words.map((w) => `${w.toLowerCase()}:*`).join(' & ');
  const rows = await db.query<Row>(
    `${NOTE_SELECT} WHERE n.customer_id = $1 AND ($2 = '' OR n.search @@ to_tsquery('simple', $2))
      ORDER BY n.created_at DESC, n.id DESC LIMIT 200`,
    [customerId, query]
  );
  return rows.map(presentNote);
}

export async function addNote(db: Db, actor: Actor, customerId: number, body: string): Promise<CustomerNote> {
  return db.transaction(async (t) => {
    await actAs(t, actor);
    await customerRow(t, actor.user, customerId);
    const [row] = await t.query<Row>(
      `WITH n AS (INSERT INTO customer_notes (customer_id, author_id, body) VALUES ($1, $2, $3) RETURNING *)
       SELECT n.*, u.name AS author_name FROM n LEFT JOIN users u ON u.id = n.author_id`,
      [customerId, actor.user.id, body]
    );
    await auditIn(
      t,
      actor,
      'customer.note_added',
      { type: 'customer', id: customerId },
      {
        noteId: Number(row.id),
        new: body
      }
    );
    return presentNote(row);
  });
}

/** The author removes their note; a manager or admin any note. */
export async function deleteNote(db: Db, actor: Actor, noteId: number): Promise<void> {
  await db.transaction(async (t) => {
    await actAs(t, actor);
    const [row] = await t.query<Row>(`SELECT * FROM customer_notes WHERE id = $1 FOR UPDATE`, [noteId]);
    if (!row) throw notFound('Note');
    await customerRow(t, actor.user, Number(row.customer_id)).catch(() => {
      throw notFound('Note');
    });
    if (Number(row.author_id) !== actor.user.id && !isManager(actor.user))
      throw new AppError('forbidden', 'Only its author or a manager can remove a note');
    await t.query(`DELETE FROM customer_notes WHERE id = $1`, [noteId]);
    await auditIn(
      t,
      actor,
      'customer.note_removed',
      { type: 'customer', id: Number(row.customer_id) },
      {
        noteId,
        old: row.body
      }
    );
  });
}
