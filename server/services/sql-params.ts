/** Collects bind parameters while a statement is written: `p(value)` gives its `$n`. */
export class Params {
  /** `values` may start with parameters already written into the SQL as $1, $2... */
  constructor(readonly values: unknown[] = []) {}

  p(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
