import type pg from 'pg';
import type { Staged } from './entities.js';

// The keys a file has given so far (emails, external ids, SKUs, order ids), to refuse a key the
// file repeats. They live in a temporary table on the import's connection, not in Node: a map of
// them grew with the file (about 0.3 KiB a row, 300 MiB at a million rows), while the table costs
// the database an index entry a key in session-local buffers (no WAL). Each batch asks for the
// lines that first gave its keys and adds its own, outside the batch's transaction, so a dry run
// (whose batches roll back) finds the repeats all the same.

/** A line repeating a key the file gave before: the key, and the line that first gave it. */
export interface Repeat {
  line: number;
  first: number;
  key: string;
  /** What the key is when it is the row's alternative one (a customer's `external id`). */
  altLabel?: string;
}

export class FileKeys {
  /** The key of the last record let through (an order's items follow each other). */
  private last: string | null = null;

  constructor(
    private readonly client: pg.PoolClient | pg.Client,
    /** Whether rows with the same key belong together (an order's items). */
    private readonly grouped: boolean
  ) {}

  /** Starts a file: no key seen yet (the connection may have imported another before). */
  async reset() {
    await this.client.query(
      `CREATE TEMP TABLE IF NOT EXISTS import_file_keys (key text PRIMARY KEY, line integer NOT NULL)`
    );
    await this.client.query(`TRUNCATE import_file_keys`);
    this.last = null;
  }

  /**
   * The lines of `rows` (in file order) that repeat a key given earlier in the file, in this batch
   * or a batch before; the keys of the others are remembered. Exactly the rule of reading the
   * file line by line: a refused line's keys are not remembered, and a grouped key repeated right
   * after itself is the same record going on.
   */
  async repeats(rows: Staged[]): Promise<Repeat[]> {
    const asked = new Set<string>();
    for (const r of rows) {
      asked.add(r.key);
      if (r.alt) asked.add(r.alt.key);
    }
    const { rows: found } = await this.client.query<{ key: string; line: number }>(
      `SELECT key, line FROM import_file_keys WHERE key = ANY ($1::text[])`,
      [[...asked]]
    );
    const earlier = new Map(found.map((f) => [f.key, f.line]));
    const added = new Map<string, number>();
    const firstOf = (key: string) => added.get(key) ?? earlier.get(key);
    const out: Repeat[] = [];
    let line: number | null = null;
    for (const r of rows) {
      if (r.line === line) continue; // the other items of a line (a JSON order's array)
      line = r.line;
      if (this.grouped && r.key === this.last) continue;
      const first = firstOf(r.key);
      const altFirst = r.alt ? firstOf(r.alt.key) : undefined;
      if (first !== undefined) {
        out.push({ line: r.line, first, key: r.key });
        continue;
      }
      if (r.alt && altFirst !== undefined) {
        out.push({ line: r.line, first: altFirst, key: r.alt.key, altLabel: r.alt.label });
        continue;
      }
      added.set(r.key, r.line);
      if (r.alt) added.set(r.alt.key, r.line);
      this.last = r.key;
    }
    if (added.size)
      await this.client.query(
        `INSERT INTO import_file_keys (key, line) SELECT * FROM unnest($1::text[], $2::int[])`,
        [[...added.keys()], [...added.values()]]
      );
    return out;
  }
}
