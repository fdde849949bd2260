import type { ImportEntity, ImportReject } from '#shared/schemas/imports.js';

// Each entity's rows: how a record's mapped values become a row to stage (or the reasons it is
// refused, per column), the staging table's columns, and the set-based statements that apply a
// staged batch. The database's own rules (CHECKs, triggers) stay the last word: a batch it refuses
// is applied again row by row to name the rows (pipeline.ts).

export type Cell = string | number | boolean | null;
/** A row to stage: `key` must be unique in the file (an order's items share theirs), as must `alt`. */
export type Staged = { line: number; key: string; alt?: { key: string; label: string }; cells: Cell[] };
export type Checked = { ok: true; rows: Staged[] } | { ok: false; rejects: ImportReject[] };

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const PHONE = /^\+?[0-9 ()-]{6,24}$/;
const LANGUAGE = /^[a-z]{2}(-[A-Z]{2})?$/;
const SKU = /^[A-Z0-9][A-Z0-9-]{2,31}$/;
const MONEY = /^\d{1,10}(\.\d{1,2})?$/;
const ORDER_STATUSES = ['pending', 'paid', 'fulfilled', 'shipped', 'delivered', 'cancelled', 'refunded'];
const CHANNELS = ['web', 'mobile', 'marketplace', 'pos', 'phone'];

const text = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  const s = (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)).trim();
  return s === '' ? null : s;
};
const TRUE = ['true', 'yes', 'y', '1', 'on', 'x', 'subscribed', 'active'];
const FALSE = ['false', 'no', 'n', '0', 'off', '', 'unsubscribed', 'inactive', 'draft', 'archived'];
const bool = (v: string): boolean | null =>
  TRUE.includes(v.toLowerCase()) ? true : FALSE.includes(v.toLowerCase()) ? false : null;

/** A money amount as the database takes it ("1,234.50", "$12" and "12,5" read as people write them). */
function money(v: string): string | null {
  let s = v.replace(/[\s$€£]/g, '');
  if (/^\d+,\d{1,2}$/.test(s)) s = s.replace(',', '.');
  else s = s.replace(/,/g, '');
  return MONEY.test(s) ? s : null;
}

class RowCheck {
  rejects: ImportReject[] = [];
  constructor(
    readonly line: number,
    private readonly values: Record<string, unknown>,
    private readonly mapping: Record<string, string | null>
  ) {}
  /** The mapped column's text (null when the field is not mapped or the cell is empty). */
  get(field: string): string | null {
    const column = this.mapping[field];
    return column ? text(this.values[column]) : null;
  }
  column(field: string) {
    return this.mapping[field] ?? field;
  }
  fail(field: string, reason: string) {
    this.rejects.push({ line: this.line, column: this.column(field), reason });
  }
  required(field: string, label: string): string | null {
    const v = this.get(field);
    if (v === null) this.fail(field, `${label} is missing`);
    else if (v.includes('\ufffd'))
      this.fail(field, 'text is not valid UTF-8 (is the file Windows-1252? choose it as the encoding)');
    return v;
  }
  optional(field: string): string | null {
    const v = this.get(field);
    if (v?.includes('\ufffd'))
      this.fail(field, 'text is not valid UTF-8 (is the file Windows-1252? choose it as the encoding)');
    return v;
  }
  pattern(field: string, label: string, v: string | null, re: RegExp, max?: number): string | null {
    if (v === null) return null;
    if (!re.test(v) || (max !== undefined && v.length > max)) {
      this.fail(field, `${label} "${v.slice(0, 60)}" is not valid`);
      return null;
    }
    return v;
  }
  length(field: string, label: string, v: string | null, max: number): string | null {
    if (v !== null && v.length > max) this.fail(field, `${label} is longer than ${max} characters`);
    return v;
  }
}

function checkCustomer(
  line: number,
  values: Record<string, unknown>,
  mapping: Record<string, string | null>
) {
  const r = new RowCheck(line, values, mapping);
  const email = r.pattern('email', 'Email', r.required('email', 'Email'), EMAIL, 320);
  const externalId = r.length('external_id', 'External id', r.optional('external_id'), 120);
  const firstName = r.length('first_name', 'First name', r.required('first_name', 'First name'), 80);
  const lastName = r.length('last_name', 'Last name', r.optional('last_name'), 80);
  const phone = r.pattern('phone', 'Phone', r.optional('phone'), PHONE);
  const language = r.pattern('language', 'Language', r.optional('language'), LANGUAGE);
  const tagsText = r.optional('tags');
  const tags =
    tagsText === null
      ? null
      : tagsText
          .split(/[|,]/)
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean);
  if (tags?.some((t) => t.length > 40)) r.fail('tags', 'a tag is longer than 40 characters');
  const notes = r.length('notes', 'Notes', r.optional('notes'), 10_000);
  const consentText = r.optional('marketing_consent');
  const consent = consentText === null ? null : bool(consentText);
  if (consentText !== null && consent === null)
    r.fail('marketing_consent', `"${consentText}" is not yes or no`);
  if (r.rejects.length) return { ok: false as const, rejects: r.rejects };
  const row: Staged = {
    line,
    key: email!.toLowerCase(),
    ...(externalId === null ? {} : { alt: { key: `external id ${externalId}`, label: 'external id' } }),
    cells: [
      line,
      email,
      externalId,
      firstName,
      lastName,
      phone,
      language,
      tags ? `{${tags.map(arrayItem).join(',')}}` : null,
      notes,
      consent
    ]
  };
  return { ok: true as const, rows: [row] };
}

function checkProduct(line: number, values: Record<string, unknown>, mapping: Record<string, string | null>) {
  const r = new RowCheck(line, values, mapping);
  const sku = r.pattern('sku', 'SKU', r.required('sku', 'SKU')?.toUpperCase() ?? null, SKU);
  const name = r.length('name', 'Name', r.required('name', 'Name'), 200);
  const priceText = r.required('price', 'Price');
  const price = priceText === null ? null : money(priceText);
  if (priceText !== null && price === null) r.fail('price', `"${priceText.slice(0, 40)}" is not an amount`);
  const stockText = r.optional('stock');
  const stock = stockText === null ? null : /^\d{1,9}$/.test(stockText) ? Number(stockText) : NaN;
  if (Number.isNaN(stock)) r.fail('stock', `"${stockText!.slice(0, 40)}" is not a whole number of units`);
  const description = r.length('description', 'Description', r.optional('description'), 20_000);
  const activeText = r.optional('active');
  const active = activeText === null ? null : bool(activeText);
  if (activeText !== null && active === null) r.fail('active', `"${activeText}" is not yes or no`);
  if (r.rejects.length) return { ok: false as const, rejects: r.rejects };
  return {
    ok: true as const,
    rows: [{ line, key: sku!, cells: [line, sku, name, price, stock, description, active] }]
  };
}

/**
 * An order row is one item (a CSV repeats the order's columns on each of its items), or, from
 * JSON, an order whose `items` (or `line_items`) array holds them.
 */
function checkOrder(line: number, values: Record<string, unknown>, mapping: Record<string, string | null>) {
  const r = new RowCheck(line, values, mapping);
  const ref = r.length('order_id', 'Order id', r.required('order_id', 'Order id'), 120);
  const email = r.pattern('customer_email', 'Customer email', r.optional('customer_email'), EMAIL, 320);
  const customerIdText = r.optional('customer_id');
  const customerId =
    customerIdText === null ? null : /^\d{1,9}$/.test(customerIdText) ? Number(customerIdText) : NaN;
  if (Number.isNaN(customerId)) r.fail('customer_id', `"${customerIdText}" is not a customer id`);
  const customerExternalId = r.length(
    'customer_external_id',
    'Customer external id',
    r.optional('customer_external_id'),
    120
  );
  if (
    email === null &&
    customerIdText === null &&
    customerExternalId === null &&
    !r.rejects.some((x) => x.column === r.column('customer_email'))
  )
    r.fail('customer_email', 'Customer email (or external id, or customer id) is missing');
  const dateText = r.optional('order_date');
  const date = dateText === null ? null : new Date(dateText);
  if (date && Number.isNaN(date.getTime())) r.fail('order_date', `"${dateText}" is not a date`);
  const status = r.optional('status')?.toLowerCase() ?? null;
  if (status !== null && !ORDER_STATUSES.includes(status))
    r.fail('status', `"${status}" is not one of ${ORDER_STATUSES.join(', ')}`);
  const currency = r.pattern(
    'currency',
    'Currency',
    r.optional('currency')?.toUpperCase() ?? null,
    /^[A-Z]{3}$/
  );
  const channel = r.optional('channel')?.toLowerCase() ?? null;
  if (channel !== null && !CHANNELS.includes(channel))
    r.fail('channel', `"${channel}" is not one of ${CHANNELS.join(', ')}`);

  const nested = mapping.sku ? undefined : ((values.items ?? values.line_items) as unknown);
  const items: Record<string, unknown>[] = Array.isArray(nested)
    ? (nested as Record<string, unknown>[])
    : [{ sku: r.get('sku'), quantity: r.get('quantity'), unit_price: r.get('unit_price') }];
  if (items.length === 0) r.fail('sku', 'the order has no items');
  const rows: Staged[] = [];
  items.forEach((item, i) => {
    const where = Array.isArray(nested) ? `items[${i}].` : '';
    const col = (field: string) => (Array.isArray(nested) ? `${where}${field}` : r.column(field));
    const sku = text(item?.sku)?.toUpperCase() ?? null;
    if (sku === null || !SKU.test(sku))
      r.rejects.push({
        line,
        column: col('sku'),
        reason: sku === null ? 'Item SKU is missing' : `SKU "${sku.slice(0, 40)}" is not valid`
      });
    const qText = text(item?.quantity);
    const quantity = qText !== null && /^\d{1,5}$/.test(qText) ? Number(qText) : NaN;
    if (!(quantity >= 1 && quantity <= 10000))
      r.rejects.push({
        line,
        column: col('quantity'),
        reason: `quantity "${qText ?? ''}" is not between 1 and 10000`
      });
    const pText = text(item?.unit_price ?? item?.price);
    const price = pText === null ? null : money(pText);
    if (price === null)
      r.rejects.push({
        line,
        column: col('unit_price'),
        reason: `unit price "${pText ?? ''}" is not an amount`
      });
    rows.push({
      line,
      key: ref ?? '',
      cells: [
        line,
        ref,
        email,
        customerId,
        customerExternalId,
        date?.toISOString() ?? null,
        status,
        currency,
        channel,
        sku,
        quantity,
        price
      ]
    });
  });
  if (r.rejects.length) return { ok: false as const, rejects: r.rejects };
  return { ok: true as const, rows };
}

/** One element of a Postgres array literal. */
const arrayItem = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

export interface EntitySpec {
  check(line: number, values: Record<string, unknown>, mapping: Record<string, string | null>): Checked;
  /** The temporary staging table (one a connection) and its columns, in the order of `cells`. */
  stage: { table: string; columns: string };
  /** Whether rows with the same key belong together (an order's items) rather than repeat one another. */
  grouped: boolean;
}

export const ENTITIES: Record<ImportEntity, EntitySpec> = {
  customers: {
    check: checkCustomer,
    grouped: false,
    stage: {
      table: 'import_stage_customers',
      columns: `line integer, email text, external_id text, first_name text, last_name text, phone text,
                language text, tags text[], notes text, marketing_consent boolean,
                target integer, by_external boolean NOT NULL DEFAULT false,
                own_id boolean NOT NULL DEFAULT false, takes_id boolean NOT NULL DEFAULT false`
    }
  },
  products: {
    check: checkProduct,
    grouped: false,
    stage: {
      table: 'import_stage_products',
      columns: `line integer, sku text, name text, price numeric(12, 2), stock integer, description text, active boolean`
    }
  },
  orders: {
    check: checkOrder,
    grouped: true,
    stage: {
      table: 'import_stage_orders',
      columns: `line integer, ref text, email text, customer_id integer, customer_external_id text,
                order_date timestamptz, status order_status,
                currency text, channel sales_channel, sku text, quantity integer, unit_price numeric(12, 2),
                resolved_customer integer, product_id integer`
    }
  }
};
