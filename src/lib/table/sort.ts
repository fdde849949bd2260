import type { FieldDef } from '$shared/lists/fields.js';
import type { SortKey } from '$shared/lists/query.js';

type Row = { id: number };

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function compareValues(a: unknown, b: unknown, field: FieldDef | undefined): number {
  if (field?.type === 'money') return Number(a) - Number(b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (field?.type === 'date') return Date.parse(String(a)) - Date.parse(String(b));
  return collator.compare(String(a), String(b));
}

/**
 * Where `a` sorts against `b` under the list's sort keys, as the server orders them: nulls
 * last in both directions, ties broken on id in the last key's direction. Used only to place a
 * row that starts matching after a live change among the rows already loaded; the next load
 * takes the server's order.
 */
export function compareRows(a: Row, b: Row, sort: readonly SortKey[], fields: readonly FieldDef[]): number {
  for (const key of sort) {
    const x = (a as Record<string, unknown>)[key.field];
    const y = (b as Record<string, unknown>)[key.field];
    if (x === null || x === undefined || y === null || y === undefined) {
      if (x === y || (x == null && y == null)) continue;
      return x == null ? 1 : -1;
    }
    const order = compareValues(
      x,
      y,
      fields.find((f) => f.key === key.field)
    );
    if (order !== 0) return key.dir === 'desc' ? -order : order;
  }
  const last = sort[sort.length - 1];
  return last?.dir === 'desc' ? b.id - a.id : a.id - b.id;
}
