import { OPEN_TICKET_STATUSES } from '#shared/rules/tickets.js';

/** Collects bind parameters while a statement is written: `p(value)` gives its `$n`. */
export class Params {
  /** `values` may start with parameters already written into the SQL as $1, $2... */
  constructor(readonly values: unknown[] = []) {}

  p(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** An order that counts as a sale: any status but cancelled and refunded (`o.${COUNTED}` with an alias). */
export const COUNTED = `status NOT IN ('cancelled', 'refunded')`;

/** `column IN ('a', 'b')` from a list of enum constants (literals of our own, never user input). */
export function inList(column: string, values: readonly string[]): string {
  if (!values.every((v) => /^[a-z_]+$/.test(v))) throw new Error('inList takes enum constants only');
  return `${column} IN (${values.map((v) => `'${v}'`).join(', ')})`;
}

/** A ticket that is still work (as the queue, the agents list and the customer panel count it): the shared rule, in SQL. */
export const OPEN_WORK = inList('status', OPEN_TICKET_STATUSES);
