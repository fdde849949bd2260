import type { FilterRule } from '#shared/lists/query.js';
import { isSegmentGroup, type SegmentCondition, type SegmentGroup } from '#shared/schemas/segments.js';
import { AppError } from '../../errors.js';
import { compileRule, Params } from '../lists/compile.js';

// A segment's rule as a SQL condition over `customers c JOIN customer_stats s` (the customers
// table's base relation). Every value is read from ONE jsonb parameter, `$1`, an array the
// compiler fills: `($1->>3)::numeric`. The SQL text holds only this file's fixed templates and
// those of the lists' compiler, so the same text can be stored in segments.compiled_where and
// executed by the database's own membership function with the values as its one argument.
//
// Two shapes of the same rule:
// - `row`: correlated subqueries per customer, for evaluating a few customers (the membership
//   kept at commit, the reconcile's differences). Stored in the database.
// - `set`: measures over orders as one set each (`s.customer_id IN (SELECT customer_id ... GROUP
//   BY ...)`), for counting and listing every member; the planner can start from an index of orders.
// They select the same customers (tests/integration/segments-membership.test.ts compares them).

/** Bumped whenever the compiled SQL changes: the server recompiles segments compiled before. */
export const COMPILER_VERSION = 3;

export type CompileMode = 'row' | 'set';

/** Values as elements of the one jsonb parameter `$1`. */
class JsonParams extends Params {
  readonly list: unknown[] = [];
  override add(value: unknown, cast?: string): string {
    this.list.push(value);
    const i = this.list.length - 1;
    if (cast?.endsWith('[]')) return `ARRAY(SELECT jsonb_array_elements_text($1::jsonb -> ${i}))::${cast}`;
    return cast ? `($1::jsonb ->> ${i})::${cast}` : `($1::jsonb ->> ${i})`;
  }
}

export interface AttributeTypes {
  /** Key -> type of the customers' custom attribute definitions. */
  [key: string]: 'text' | 'number' | 'money' | 'date' | 'boolean' | 'choice';
}

/** What a rule compiles against besides itself. */
export interface CompileContext {
  /** The customers' custom attribute definitions. */
  types: AttributeTypes;
  /**
   * Whether customer_stats' recent windows (migration 0048) hold today's figures: set-shaped
   * recent spend and order counts over a kept window then read them instead of summing orders.
   */
  recentKept: boolean;
}

/** The windows, in days, whose recent spend and order count customer_stats keeps. */
export const KEPT_WINDOWS = [30, 90, 365] as const;

export interface CompiledRule {
  where: string;
  params: unknown[];
}

const bad = (message: string) => new AppError('validation_failed', message);

const COUNTED = `o.status NOT IN ('cancelled', 'refunded')`;
const SQL_OPS = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** Whether a customer with nothing (0) satisfies `op value`: decides IN or NOT IN for set measures. */
function zeroSatisfies(op: keyof typeof SQL_OPS | 'between', value: unknown): boolean {
  const n = (v: unknown) => Number(v);
  if (op === 'between') {
    const [a, b] = (value as unknown[]).map(n).sort((x, y) => x - y);
    return a <= 0 && 0 <= b;
  }
  const v = n(value);
  return { eq: 0 === v, gt: 0 > v, gte: 0 >= v, lt: 0 < v, lte: 0 <= v }[op];
}

/** `x op value` (or BETWEEN) with the value bound as `cast`. */
function compare(x: string, op: keyof typeof SQL_OPS | 'between', value: unknown, p: Params, cast: string) {
  if (op === 'between') {
    const [a, b] = value as [unknown, unknown];
    return `${x} BETWEEN SYMMETRIC ${p.add(a, cast)} AND ${p.add(b, cast)}`;
  }
  return `${x} ${SQL_OPS[op]} ${p.add(value, cast)}`;
}

const since = (days: number, p: Params) => `now() - make_interval(days => ${p.add(days, 'integer')})`;
/** The start of a window of whole UTC days ending today, as customer_stats keeps them (migration 0048). */
const windowStart = (days: number, p: Params) => `recent_window_start(${p.add(days, 'integer')}, now())`;

/** A customer's recent spend or order count over `days`, from the kept figure when there is one. */
function recent(
  mode: CompileMode,
  what: 'spend' | 'orders',
  rule: { days: number; operator: keyof typeof SQL_OPS | 'between'; value: unknown },
  cx: CompileContext,
  p: Params
) {
  if (mode === 'set' && cx.recentKept && (KEPT_WINDOWS as readonly number[]).includes(rule.days))
    // Bound as the column's type, so the planner can use its index (and its `> 0` predicate).
    return compare(
      `s.${what}_${rule.days}d`,
      rule.operator,
      rule.value,
      p,
      what === 'spend' ? 'numeric' : 'integer'
    );
  return orderMeasure(
    mode,
    what === 'spend' ? 'sum(o.total)' : 'count(*)',
    `o.order_date >= ${windowStart(rule.days, p)}`,
    rule.operator,
    rule.value,
    'numeric',
    p
  );
}

/** A condition the customers table filters the same way: the lists' compiler does it. */
function viaList(rule: FilterRule, p: Params) {
  return compileRule('customers', rule, p);
}

/**
 * A measure of each customer's orders compared to a value, in either shape: `agg` over the
 * customer's counted orders matching `where` (a SQL fragment over `o`).
 */
function orderMeasure(
  mode: CompileMode,
  agg: string,
  where: string,
  op: keyof typeof SQL_OPS | 'between',
  value: unknown,
  cast: string,
  p: Params
) {
  if (mode === 'row')
    return compare(
      `(SELECT coalesce(${agg}, 0) FROM orders o WHERE o.customer_id = c.id AND ${COUNTED} AND ${where})`,
      op,
      value,
      p,
      cast
    );
  const test = compare(`coalesce(${agg}, 0)`, op, value, p, cast);
  const grouped = `SELECT o.customer_id FROM orders o WHERE ${COUNTED} AND ${where} GROUP BY o.customer_id`;
  // A customer without such orders has 0: they are in when 0 passes, unless an order says otherwise.
  return zeroSatisfies(op, value)
    ? `s.customer_id NOT IN (${grouped} HAVING NOT (${test}))`
    : `s.customer_id IN (${grouped} HAVING ${test})`;
}

/** Products or categories bought (any, all or none), optionally within `days`. */
function bought(
  mode: CompileMode,
  what: 'product' | 'category',
  operator: 'any' | 'all' | 'none',
  ids: number[],
  days: number | undefined,
  p: Params
) {
  const distinct = [...new Set(ids)];
  const join = what === 'category' ? 'JOIN products pr ON pr.id = i.product_id' : '';
  const key = what === 'category' ? 'pr.category_id' : 'i.product_id';
  const window = days === undefined ? '' : ` AND o.order_date >= ${since(days, p)}`;
  const match = `${key} = ANY (${p.add(distinct, 'integer[]')})${window}`;
  const from = `orders o JOIN order_items i ON i.order_id = o.id ${join}`;
  if (operator === 'all') {
    const n = p.add(distinct.length, 'integer');
    return mode === 'row'
      ? `(SELECT count(DISTINCT ${key}) FROM ${from} WHERE o.customer_id = c.id AND ${COUNTED} AND ${match}) = ${n}`
      : `s.customer_id IN (SELECT o.customer_id FROM ${from} WHERE ${COUNTED} AND ${match} GROUP BY o.customer_id HAVING count(DISTINCT ${key}) = ${n})`;
  }
  const any =
    mode === 'row'
      ? `EXISTS (SELECT 1 FROM ${from} WHERE o.customer_id = c.id AND ${COUNTED} AND ${match})`
      : `s.customer_id IN (SELECT o.customer_id FROM ${from} WHERE ${COUNTED} AND ${match})`;
  return operator === 'none' ? `NOT (${any})` : any;
}

/** A calendar date's first instant (UTC) or the instant a timestamp names. */
const instant = (value: string) => (value.length === 10 ? `${value}T00:00:00Z` : value);
/** The first instant after a date (UTC), or the instant itself for a timestamp. */
const endOf = (value: string) =>
  value.length === 10 ? new Date(Date.parse(instant(value)) + 86_400_000).toISOString() : value;

function relativeDate(x: string, operator: string, value: unknown, p: Params): string {
  switch (operator) {
    case 'in_last':
      return `${x} >= ${since(Number(value), p)}`;
    case 'not_in_last':
      return `${x} < ${since(Number(value), p)}`;
    case 'is_empty':
      return `${x} IS NULL`;
    case 'before':
      return `${x} < ${p.add(instant(String(value)), 'timestamptz')}`;
    case 'after':
      return `${x} >= ${p.add(endOf(String(value)), 'timestamptz')}`;
    case 'between': {
      const [from, to] = (value as [string, string]).slice().sort();
      return `(${x} >= ${p.add(instant(from), 'timestamptz')} AND ${x} < ${p.add(endOf(to), 'timestamptz')})`;
    }
    default:
      throw bad(`operator "${operator}" does not apply to a date`);
  }
}

function attribute(
  rule: Extract<SegmentCondition, { field: 'attribute' }>,
  types: AttributeTypes,
  p: Params
): string {
  const type = types[rule.key];
  if (!type) throw bad(`no customer attribute "${rule.key}" is defined`);
  const key = p.add(rule.key);
  const raw = `(c.attributes ->> ${key})`;
  const v = rule.value;
  const need = (ok: boolean) => {
    if (!ok)
      throw bad(
        `operator "${rule.operator}" with this value does not apply to ${type} attribute "${rule.key}"`
      );
  };
  if (rule.operator === 'is_empty') return `coalesce(${raw}, '') = ''`;
  if (rule.operator === 'is_not_empty') return `coalesce(${raw}, '') <> ''`;
  switch (type) {
    case 'number':
    case 'money': {
      need(
        ['eq', 'gt', 'gte', 'lt', 'lte'].includes(rule.operator) &&
          (typeof v === 'number' || typeof v === 'string')
      );
      if (typeof v === 'string') need(/^-?\d{1,12}(\.\d{1,6})?$/.test(v));
      // A value that is not a number (written by psql, say) matches no comparison instead of failing.
      const num = `(CASE WHEN ${raw} ~ '^\\s*-?\\d+(\\.\\d+)?\\s*$' THEN ${raw}::numeric END)`;
      return compare(num, rule.operator as keyof typeof SQL_OPS, v, p, 'numeric');
    }
    case 'date':
      need(
        ['before', 'after', 'is'].includes(rule.operator) &&
          typeof v === 'string' &&
          /^\d{4}-\d{2}-\d{2}/.test(v)
      );
      // ISO dates compare as text.
      return rule.operator === 'before'
        ? `left(${raw}, 10) < ${p.add(String(v).slice(0, 10))}`
        : rule.operator === 'after'
          ? `left(${raw}, 10) > ${p.add(String(v).slice(0, 10))}`
          : `left(${raw}, 10) = ${p.add(String(v).slice(0, 10))}`;
    case 'boolean':
      need(rule.operator === 'is' && typeof v === 'boolean');
      return `(c.attributes -> ${key}) = to_jsonb(${p.add(v, 'boolean')})`;
    case 'choice':
    case 'text':
      if (rule.operator === 'is_any_of') {
        need(Array.isArray(v));
        return `${raw} = ANY (${p.add(v, 'text[]')})`;
      }
      need(typeof v === 'string');
      if (rule.operator === 'is') return `lower(${raw}) = lower(${p.add(v)})`;
      if (rule.operator === 'is_not') return `(${raw} IS NULL OR lower(${raw}) <> lower(${p.add(v)}))`;
      need(rule.operator === 'contains');
      return `${raw} ILIKE ${p.add(`%${String(v).replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`)}`;
  }
}

function condition(rule: SegmentCondition, mode: CompileMode, cx: CompileContext, p: Params): string {
  switch (rule.field) {
    case 'lifetimeSpend':
    case 'orderCount':
    case 'points':
      return viaList({ field: rule.field, operator: rule.operator, value: rule.value }, p);
    case 'tier':
    case 'country':
      return viaList({ field: rule.field, operator: rule.operator, value: rule.value }, p);
    case 'tags': {
      // The copy in the summary (migration 0047): beside the numbers, an OR of tags and a number
      // is two indexes of one table. The same operators as the customers table's tags filter.
      const tags = p.add(rule.value, 'text[]');
      if (rule.operator === 'any') return `s.tags && ${tags}`;
      if (rule.operator === 'all') return `s.tags @> ${tags}`;
      return `NOT (s.tags && ${tags})`;
    }
    case 'openTicket':
      return viaList({ field: 'hasOpenTicket', operator: 'is', value: rule.value }, p);
    case 'lastOrderAt':
      return relativeDate('s.last_order_at', rule.operator, 'value' in rule ? rule.value : undefined, p);
    case 'createdAt':
      return relativeDate('c.created_at', rule.operator, 'value' in rule ? rule.value : undefined, p);
    case 'firstOrderAt':
      // The first order's date (any status), kept in the summary (migration 0039).
      return rule.operator === 'is_empty'
        ? 's.order_count = 0'
        : relativeDate('s.first_order_at', rule.operator, rule.value, p);
    case 'recentSpend':
      return recent(mode, 'spend', rule, cx, p);
    case 'recentOrderCount':
      return recent(mode, 'orders', rule, cx, p);
    case 'averageOrderValue':
      return compare(
        '(s.lifetime_spend / nullif(s.order_count, 0))',
        rule.operator,
        rule.value,
        p,
        'numeric'
      );
    case 'productsBought':
      return bought(mode, 'product', rule.operator, rule.value, rule.days, p);
    case 'categoriesBought':
      return bought(mode, 'category', rule.operator, rule.value, rule.days, p);
    case 'rfm': {
      // segment_rfm() of the customer's numbers, kept in the summary (migration 0039).
      const rfm = 's.rfm';
      return rule.operator === 'is_any_of'
        ? `${rfm} = ANY (${p.add(rule.value, 'text[]')})`
        : `coalesce(${rfm}, '') <> ALL (${p.add(rule.value, 'text[]')})`;
    }
    case 'pointsExpiring': {
      const test = compare(
        `segment_points_expiring(c.id, ${p.add(rule.days, 'integer')})`,
        rule.operator,
        rule.value,
        p,
        'integer'
      );
      // Nobody without points has points expiring: skip them before calling the function.
      return zeroSatisfies(rule.operator, rule.value) ? test : `(s.points > 0 AND ${test})`;
    }
    case 'attribute':
      return attribute(rule, cx.types, p);
    case 'consent':
      if (rule.channel === 'email')
        return viaList({ field: 'marketingConsent', operator: 'is', value: rule.value }, p);
      return `coalesce((SELECT k.granted FROM customer_consents k WHERE k.customer_id = c.id AND k.channel = ${p.add(rule.channel)}
                         ORDER BY k.at DESC, k.id DESC LIMIT 1), false) = ${p.add(rule.value, 'boolean')}`;
    case 'supportVip':
      // Selected when true: written without coalesce, so each side can be an index's (a bitmap OR).
      if (rule.value)
        return `(s.tier = ANY ((SELECT v.vip_tiers FROM support_settings v)::loyalty_tier[])
                 OR s.lifetime_spend >= (SELECT v.vip_lifetime_value FROM support_settings v))`;
      return `coalesce(s.tier = ANY ((SELECT v.vip_tiers FROM support_settings v)::loyalty_tier[])
                       OR s.lifetime_spend >= (SELECT v.vip_lifetime_value FROM support_settings v), false) = ${p.add(rule.value, 'boolean')}`;
    case 'csat': {
      const window = rule.days === undefined ? '' : ` AND t.csat_at >= ${since(rule.days, p)}`;
      const low = rule.operator === 'low' ? ` AND t.csat_score <= ${p.add(rule.value, 'integer')}` : '';
      const rated =
        mode === 'row'
          ? `EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id AND t.csat_score IS NOT NULL${window}${low})`
          : `s.customer_id IN (SELECT t.customer_id FROM tickets t WHERE t.csat_score IS NOT NULL${window}${low})`;
      return rule.operator === 'not_given' ? `NOT (${rated})` : rated;
    }
  }
}

function group(node: SegmentGroup, mode: CompileMode, cx: CompileContext, p: Params): string {
  if (node.rules.length === 0) return 'TRUE';
  const parts = node.rules.map((child) =>
    isSegmentGroup(child) ? group(child, mode, cx, p) : condition(child, mode, cx, p)
  );
  return `(${parts.join(node.op === 'or' ? ' OR ' : ' AND ')})`;
}

/**
 * The rule as a condition over `customers c JOIN customer_stats s`, its values in `params`
 * (bind them as the statement's `$1`, one jsonb array).
 */
export function compileSegment(
  rule: SegmentGroup,
  mode: CompileMode,
  cx: CompileContext = { types: {}, recentKept: false }
): CompiledRule {
  const p = new JsonParams();
  const where = group(rule, mode, cx, p);
  // $1 is always bound; a rule without values still names it, so its type is known.
  return { where: p.list.length === 0 ? `(${where} AND $1::jsonb IS NOT NULL)` : where, params: p.list };
}

/** A rule compiled for a statement run once: each value its own parameter. */
export interface TypedRule {
  where: string;
  /** The statement's parameters, `$1` first. */
  values: unknown[];
}

/**
 * The rule as compileSegment's, with each value its own typed parameter (`$1::numeric`,
 * `$2::integer[]`) instead of an element of one jsonb array: for a draft's count and preview,
 * never stored. The planner then sees the values and can tell how many customers a condition
 * keeps; through a jsonb element it guesses (at 1M customers, "gold or platinum with email
 * consent" counted its 800 members in 69 ms through a jsonb array, 6 ms with typed values).
 */
export function compileSegmentTyped(
  rule: SegmentGroup,
  mode: CompileMode,
  cx: CompileContext = { types: {}, recentKept: false }
): TypedRule {
  const p = new Params();
  return { where: group(rule, mode, cx, p), values: p.values };
}
