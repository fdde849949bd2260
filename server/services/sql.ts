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

/** A ticket that is still work: new, open or pending (as the queue, the agents list and the customer panel count it). */
export const OPEN_WORK = `status IN ('new', 'open', 'pending')`;
