import type { ListEntity } from '#shared/lists/query.js';
import { AppError } from '../../errors.js';

// How each list reads from the database: its base relation, and for every field the SQL that
// shows it, filters it and sorts it. Sort expressions never yield NULL (a NULL sorts as the
// smallest value through a coalesce to a sentinel), so a cursor is a plain tuple and keyset
// predicates stay index ranges; each matches an index of migration 0014 exactly.

/** The SQL type a cursor value or a filter value is bound as. */
export type SqlType =
  'integer' | 'smallint' | 'numeric' | 'text' | 'timestamptz' | 'boolean' | 'order_status' | 'sales_channel';

export interface FieldSql {
  /** What the row shows. */
  select: string;
  /** What filters compare (defaults to `select`). */
  filter?: string;
  /** What ORDER BY and the cursor use; never NULL. */
  sort?: string;
  sortType?: SqlType;
  /**
   * The row id as the table of `sort` holds it (customer_stats.customer_id...): the keyset's
   * tie-breaker must be that column for the (sort, id) index to bound the page.
   */
  sortId?: string;
  /** Enum filters bind their values as this Postgres array type (an index on the enum column applies). */
  enumArray?: string;
  /** A filter of its own (a field that is not a column): the SQL of an operator and a bound value. */
  compile?: (operator: string, value: unknown, bind: (value: unknown, cast?: string) => string) => string;
}

export interface EntitySql {
  /** FROM clause; the row's id is `id`. */
  from: string;
  /**
   * The same relation with every join a LEFT JOIN on a unique key (each row has exactly one
   * match anyway): Postgres drops the joins a footer's filter does not use, so counting and
   * summing orders reads orders alone. Not for pages: an inner join lets a sort on a summary
   * column start from that column's index.
   */
  aggregateFrom: string;
  id: string;
  /**
   * Where a page's ids are chosen when the sort is on the base table's own columns: the base
   * table with its summary LEFT JOINed on its unique key (the planner drops the join when the
   * filter does not use it), restricted by `where` to exactly the rows that have a summary (so
   * the same rows as `from`). A page is then picked from the base table, or a covering index of
   * it, and only the page's rows are joined. Absent: pages are read from `from` directly.
   */
  pageIds?: { from: string; where: string };
  fields: Record<string, FieldSql>;
  /** The search box: SQL true when the row matches; the arguments are bound parameters. */
  search: (p: SearchParams) => string;
  /** Money fields summed and averaged by the footer. */
  money: string[];
  /** Searchable fields highlighted in rows. */
  highlight: string[];
}

/** Placeholders of the search's parameters (null when the search has no such part). */
export interface SearchParams {
  /** The search as typed (trimmed), for trigram word similarity. */
  q: string;
  /** `%q%` with LIKE's wildcards escaped. */
  like: string;
  /** Prefix tsquery of the search's words (`jo:* & sm:*`); null without words. */
  tsquery: string | null;
  /** `%digits%` when the search has three digits or more (phones). */
  digits: string | null;
  /** The search as an id, when it is one (`1234`, `#1234`). */
  id: string | null;
  /** Whether the search has a letter: without one it cannot be like a name (a phone, a number). */
  letters: boolean;
  /**
   * Set when the search alone chooses a page in the entity's default order (no filter, no ids):
   * the rows the page reads (its limit + 1) and the cursor's values (placeholders, cast as the
   * default sort's columns), so a search may return that page's ids rather than every match.
   * Null for footers, exports and live checks, which need every match.
   */
  page: { limit: string; after: string[] | null } | null;
}

/** A customer's full name as the trigram index on names reads it. */
const fullName = (alias: string) => `(${alias}.first_name || ' ' || ${alias}.last_name)`;
const customerName = fullName('c');

/** Members of any (or none) of the segments whose ids are the values, from segment_members. */
function segmentMembership(
  operator: string,
  value: unknown,
  bind: (value: unknown, cast?: string) => string
): string {
  const ids = (value as string[]).map((v) => (/^\d{1,9}$/.test(v) ? Number(v) : Number.NaN));
  if (ids.some(Number.isNaN)) throw new AppError('validation_failed', 'a segment filter takes segment ids');
  const members = `c.id IN (SELECT m.customer_id FROM segment_members m WHERE m.segment_id = ANY (${bind(ids, 'integer[]')}))`;
  return operator === 'is_none_of' ? `NOT (${members})` : members;
}
/** Customers the search names as typed: an email or phone containing it, every word a prefix of a word of theirs. */
const exactCustomerSearch = (p: SearchParams, alias: string) =>
  [
    `${alias}.email ILIKE ${p.like}`,
    ...(p.tsquery ? [`${alias}.search @@ to_tsquery('simple', ${p.tsquery})`] : []),
    ...(p.digits ? [`${alias}.phone_e164 LIKE ${p.digits}`] : [])
  ].join(' OR ');
/** Customers whose name is like the search (a typo forgiven), trigram word similarity. */
const nameLike = (p: SearchParams, alias: string) => `${p.q} <% ${fullName(alias)}`;
const customerSearch = (p: SearchParams, alias = 'c') =>
  [...(p.letters ? [nameLike(p, alias)] : []), exactCustomerSearch(p, alias)].join(' OR ');

/**
 * At most this many customers, the best matches first, have their orders searched: a name that
 * matches thousands of customers would otherwise sort all their orders for one page (docs/performance.md).
 */
export const ORDER_SEARCH_CUSTOMERS = 500;

/**
 * How close names are tried first, in turn (trigram word similarity), before every name the
 * search's threshold lets through: a transposed letter leaves "Isaac Hernandez" 0.69 like the
 * typo, where the same surname alone is 0.63. One step: a second, at 0.6, would find "Isaac
 * Mendoza" (0.64; the surname alone 0.57) but cost every typo that needs the wide threshold one
 * more pass over the name index (a surname typo at 1M customers: 70 -> 95 ms at p50).
 */
export const ORDER_SEARCH_CLOSE = [0.65];

/**
 * The customers whose orders a search finds, best matches first (order_search_customers,
 * migration 0050). Those the search names as typed (exactCustomerSearch's conditions); only when
 * there is none is the search taken for a typo: the names at least each ORDER_SEARCH_CLOSE like
 * it in turn, else those the search's threshold lets through. "Isaac Hernandez" then finds Isaac Hernandez's
 * orders, and "Iasac Hernandez" too, not every Hernandez's (docs/performance.md, "Orders searched
 * by a customer's name, exact names first", and session 11's closest names).
 */
function orderSearchCustomers(p: SearchParams): string {
  return (
    `SELECT id FROM order_search_customers(${p.q}, ${p.like}, ${p.tsquery ?? 'NULL'}, ${p.digits ?? 'NULL'},` +
    ` ${p.letters}, ${ORDER_SEARCH_CUSTOMERS}, ARRAY[${ORDER_SEARCH_CLOSE.join(', ')}]::real[])`
  );
}

/**
 * Orders whose number matches, or whose customer does. Matching order ids first (each branch an
 * index), then the page: a hashed id set, not a scan. An order number is looked up as one.
 *
 * On a page in the default order (newest first) the search picks the page itself: each matched
 * customer's newest orders after the cursor come from `orders_customer_page_idx (customer_id,
 * order_date DESC, id DESC)` alone (an index-only LATERAL read, at most one page a customer), and
 * only the page's ids reach the outer query, which then joins ~51 orders instead of every order of
 * the 500 customers (docs/performance.md, "Orders searched by a customer's name").
 */
function orderSearch(p: SearchParams): string {
  if (p.id)
    return `o.id IN (SELECT o2.id FROM orders o2 WHERE o2.external_id ILIKE ${p.like} UNION ALL SELECT ${p.id})`;
  const customers = orderSearchCustomers(p);
  if (!p.page)
    return (
      `o.id IN (SELECT o2.id FROM orders o2 WHERE o2.external_id ILIKE ${p.like}` +
      ` UNION ALL SELECT o4.id FROM orders o4 WHERE o4.customer_id IN (${customers}))`
    );
  const { limit, after } = p.page;
  const afterCursor = (a: string) =>
    after ? ` AND (${a}.order_date, ${a}.id) < (${after[0]}, ${after[1]})` : '';
  return (
    `o.id IN (SELECT m.id FROM (` +
    `SELECT o2.id, o2.order_date FROM orders o2 WHERE o2.external_id ILIKE ${p.like}${afterCursor('o2')}` +
    ` UNION SELECT o4.id, o4.order_date FROM (${customers}) c3 CROSS JOIN LATERAL (` +
    `SELECT o4.id, o4.order_date FROM orders o4 WHERE o4.customer_id = c3.id${afterCursor('o4')}` +
    ` ORDER BY o4.order_date DESC, o4.id DESC LIMIT ${limit}) o4` +
    `) m ORDER BY m.order_date DESC, m.id DESC LIMIT ${limit})`
  );
}

export const ENTITY_SQL: Record<ListEntity, EntitySql> = {
  customers: {
    from: `customers c JOIN customer_stats s ON s.customer_id = c.id`,
    // Driven from the summary table: a footer over every customer sums customer_stats alone.
    aggregateFrom: `customer_stats s LEFT JOIN customers c ON c.id = s.customer_id`,
    id: 'c.id',
    // A customer has its customer_stats row exactly while it is not merged away (migration 0022).
    pageIds: {
      from: `customers c LEFT JOIN customer_stats s ON s.customer_id = c.id`,
      where: 'c.merged_into IS NULL'
    },
    fields: {
      id: { select: 'c.id', sort: 'c.id', sortType: 'integer' },
      name: {
        select: `btrim(${customerName})`,
        filter: customerName,
        sort: `lower(${customerName})`,
        sortType: 'text'
      },
      email: { select: 'c.email', sort: 'lower(c.email)', sortType: 'text' },
      phone: { select: 'c.phone', sort: `coalesce(c.phone, '')`, sortType: 'text' },
      country: {
        select: 'customer_country(c.addresses)',
        sort: `coalesce(customer_country(c.addresses), '')`,
        sortType: 'text'
      },
      tier: {
        select: 's.tier',
        sort: 'loyalty_tier_rank(s.tier)',
        sortType: 'smallint',
        enumArray: 'loyalty_tier[]',
        sortId: 's.customer_id'
      },
      points: { select: 's.points', sort: 's.points', sortType: 'integer', sortId: 's.customer_id' },
      tags: { select: 'c.tags' },
      marketingConsent: { select: 'c.marketing_consent', sort: 'c.marketing_consent', sortType: 'boolean' },
      lifetimeSpend: {
        select: 's.lifetime_spend',
        sort: 's.lifetime_spend',
        sortType: 'numeric',
        sortId: 's.customer_id'
      },
      orderCount: {
        select: 's.order_count',
        sort: 's.order_count',
        sortType: 'integer',
        sortId: 's.customer_id'
      },
      lastOrderAt: {
        select: 's.last_order_at',
        sort: `coalesce(s.last_order_at, '-infinity')`,
        sortType: 'timestamptz',
        sortId: 's.customer_id'
      },
      hasOpenTicket: {
        select: '(s.open_tickets > 0)',
        sort: '(s.open_tickets > 0)',
        sortType: 'boolean',
        sortId: 's.customer_id'
      },
      createdAt: { select: 'c.created_at', sort: 'c.created_at', sortType: 'timestamptz' },
      version: { select: 'c.version' },
      segment: { select: 'NULL', compile: segmentMembership }
    },
    search: (p) => customerSearch(p),
    money: ['lifetimeSpend'],
    highlight: ['name', 'email', 'phone']
  },
  orders: {
    from: `orders o JOIN customers c ON c.id = o.customer_id JOIN order_stats os ON os.order_id = o.id`,
    aggregateFrom: `orders o LEFT JOIN customers c ON c.id = o.customer_id LEFT JOIN order_stats os ON os.order_id = o.id`,
    id: 'o.id',
    fields: {
      id: { select: 'o.id', sort: 'o.id', sortType: 'integer' },
      externalId: { select: 'o.external_id', sort: `coalesce(o.external_id, '')`, sortType: 'text' },
      customerId: { select: 'o.customer_id' },
      customerName: {
        select: `btrim(${customerName})`,
        filter: customerName,
        sort: `lower(${customerName})`,
        sortType: 'text'
      },
      customerEmail: { select: 'c.email', sort: 'lower(c.email)', sortType: 'text' },
      status: { select: 'o.status', sort: 'o.status', sortType: 'order_status', enumArray: 'order_status[]' },
      channel: {
        select: 'o.channel',
        sort: 'o.channel',
        sortType: 'sales_channel',
        enumArray: 'sales_channel[]'
      },
      total: { select: 'o.total', sort: 'o.total', sortType: 'numeric' },
      currency: { select: 'o.currency::text', sort: 'o.currency::text', sortType: 'text' },
      orderDate: { select: 'o.order_date', sort: 'o.order_date', sortType: 'timestamptz' },
      itemCount: {
        select: 'os.item_count',
        sort: 'os.item_count',
        sortType: 'integer',
        sortId: 'os.order_id'
      },
      hasTicket: {
        select: '(os.ticket_count > 0)',
        sort: '(os.ticket_count > 0)',
        sortType: 'boolean',
        sortId: 'os.order_id'
      },
      refunded: { select: `(o.status = 'refunded')`, sort: `(o.status = 'refunded')`, sortType: 'boolean' },
      version: { select: 'o.version' }
    },
    search: orderSearch,
    money: ['total'],
    highlight: ['externalId', 'customerName', 'customerEmail']
  },
  products: {
    from: `products p LEFT JOIN categories cat ON cat.id = p.category_id JOIN product_stats ps ON ps.product_id = p.id`,
    aggregateFrom: `products p LEFT JOIN categories cat ON cat.id = p.category_id LEFT JOIN product_stats ps ON ps.product_id = p.id`,
    id: 'p.id',
    fields: {
      id: { select: 'p.id', sort: 'p.id', sortType: 'integer' },
      sku: { select: 'p.sku', sort: 'p.sku', sortType: 'text' },
      name: { select: 'p.name', sort: 'lower(p.name)', sortType: 'text' },
      categoryId: { select: 'p.category_id' },
      category: { select: 'cat.name', sort: `coalesce(cat.name, '')`, sortType: 'text' },
      price: { select: 'p.price', sort: 'p.price', sortType: 'numeric' },
      stock: { select: 'p.stock', sort: 'p.stock', sortType: 'integer' },
      stockState: {
        // The database's rule (product_stock_state, migration 0018), with each product's threshold.
        select: `product_stock_state(p.stock, p.low_stock_threshold)`,
        sort: `CASE product_stock_state(p.stock, p.low_stock_threshold) WHEN 'out' THEN 0 WHEN 'low' THEN 1 ELSE 2 END`,
        sortType: 'integer'
      },
      active: { select: 'p.active', sort: 'p.active', sortType: 'boolean' },
      ratingAvg: {
        select: 'ps.rating_avg',
        sort: 'coalesce(ps.rating_avg, 0)',
        sortType: 'numeric',
        sortId: 'ps.product_id'
      },
      reviewCount: {
        select: 'ps.review_count',
        sort: 'ps.review_count',
        sortType: 'integer',
        sortId: 'ps.product_id'
      },
      createdAt: { select: 'p.created_at', sort: 'p.created_at', sortType: 'timestamptz' },
      version: { select: 'p.version' }
    },
    search: (p) =>
      [
        `p.sku ILIKE ${p.like}`,
        `${p.q} <% p.name`,
        `p.name ILIKE ${p.like}`,
        ...(p.tsquery ? [`p.search @@ to_tsquery('simple', ${p.tsquery})`] : [])
      ].join(' OR '),
    money: ['price'],
    highlight: ['sku', 'name']
  }
};
