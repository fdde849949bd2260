import type pg from 'pg';

/** A customer with the fields duplicate detection reads. */
export async function createDatabaseCustomer(
  sql: pg.Pool,
  c: { email: string; first: string; last: string; phone?: string }
): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name, phone) VALUES ($1, $2, $3, $4) RETURNING id`,
    [c.email, c.first, c.last, c.phone ?? null]
  );
  return rows[0].id;
}
