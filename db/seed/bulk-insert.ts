import type pg from 'pg';

/**
 * How a generated value travels to its column: each column is sent as one array parameter and
 * unnested, so one statement inserts thousands of rows.
 *   time   epoch seconds    -> timestamptz
 *   money  integer cents    -> numeric(12,2)
 *   jsonb  a JSON string    -> jsonb
 *   tags   an array of text -> text[]
 *   enum:<type>  the label  -> that enum
 */
export type ColumnKind =
  'int' | 'bigint' | 'smallint' | 'bool' | 'text' | 'jsonb' | 'tags' | 'time' | 'money' | `enum:${string}`;

type ValueOf<K extends ColumnKind> = K extends 'bool'
  ? boolean
  : K extends 'text' | 'jsonb' | `enum:${string}`
    ? string
    : K extends 'tags'
      ? readonly string[]
      : number;

export type ColumnSpec = Record<string, ColumnKind>;
export type RowOf<S extends ColumnSpec> = { [C in keyof S]: ValueOf<S[C]> | null };

export interface Table<S extends ColumnSpec> {
  name: string;
  spec: S;
  columns: ReadonlyArray<keyof S & string>;
  insertSql: string;
}

export function defineTable<const S extends ColumnSpec>(name: string, spec: S): Table<S> {
  const columns = Object.keys(spec) as Array<keyof S & string>;
  const params = columns.map((column, i) => `$${i + 1}::${arrayType(spec[column])}`);
  const selects = columns.map((column) => selectExpression(column, spec[column]));
  const insertSql =
    `INSERT INTO ${name} (${columns.join(', ')}) ` +
    `SELECT ${selects.join(', ')} FROM unnest(${params.join(', ')}) AS u(${columns.join(', ')})`;
  return { name, spec, columns, insertSql };
}

function arrayType(kind: ColumnKind): string {
  if (kind.startsWith('enum:')) return `${kind.slice(5)}[]`;
  switch (kind) {
    case 'int':
      return 'int4[]';
    case 'smallint':
      return 'int2[]';
    case 'bigint':
    case 'time':
    case 'money':
      return 'int8[]';
    case 'bool':
      return 'bool[]';
    case 'jsonb':
      return 'jsonb[]';
    default:
      return 'text[]';
  }
}

function selectExpression(column: string, kind: ColumnKind): string {
  switch (kind) {
    case 'time':
      return `to_timestamp(${column})`;
    case 'money':
      return `${column}::numeric / 100`;
    case 'tags':
      return `${column}::text[]`;
    default:
      return column;
  }
}

/** Rows for one table, held column by column until they are inserted. */
export class TableBatch<S extends ColumnSpec> {
  private readonly values: unknown[][];
  length = 0;

  constructor(readonly table: Table<S>) {
    this.values = table.columns.map(() => []);
  }

  add(row: RowOf<S>): void {
    const columns = this.table.columns;
    for (let i = 0; i < columns.length; i++) this.values[i].push(row[columns[i]]);
    this.length++;
  }

  /** Array literals of rows [from, to) for every column, in column order. */
  parameters(from: number, to: number): string[] {
    return this.table.columns.map((column, i) =>
      arrayLiteral(this.values[i], from, to, this.table.spec[column])
    );
  }
}

/** What inserting needs from a batch, whatever its table. */
export interface InsertableBatch {
  readonly table: { readonly name: string; readonly insertSql: string };
  readonly length: number;
  parameters(from: number, to: number): string[];
}

/** Inserts the batch in statements of at most `rowsPerStatement` rows; returns the row count. */
export async function insertBatch(
  client: pg.Client,
  batch: InsertableBatch,
  rowsPerStatement = 5000
): Promise<number> {
  for (let from = 0; from < batch.length; from += rowsPerStatement) {
    const to = Math.min(from + rowsPerStatement, batch.length);
    await client.query({
      name: `seed-${batch.table.name}`,
      text: batch.table.insertSql,
      values: batch.parameters(from, to)
    });
  }
  return batch.length;
}

// Faster than letting pg serialise JS arrays: numbers need no quoting, strings only escaping when they contain " or \.
function arrayLiteral(values: unknown[], from: number, to: number, kind: ColumnKind): string {
  const parts = new Array<string>(to - from);
  for (let i = from; i < to; i++) parts[i - from] = element(values[i], kind);
  return `{${parts.join(',')}}`;
}

function element(value: unknown, kind: ColumnKind): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 't' : 'f';
    case 'string':
      return quote(value);
    default:
      if (kind === 'tags' && Array.isArray(value))
        return quote(`{${value.map((v) => quote(String(v))).join(',')}}`);
      throw new TypeError(`cannot send ${typeof value} as ${kind}`);
  }
}

const NEEDS_ESCAPE = /["\\]/;
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`;
}
