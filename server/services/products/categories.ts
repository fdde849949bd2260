import type { Category, CategoryBody } from '#shared/schemas/categories.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';

interface Row {
  id: number;
  name: string;
  parent_id: number | null;
  products: number;
}

const present = (r: Row): Category => ({
  id: Number(r.id),
  name: r.name,
  parentId: r.parent_id == null ? null : Number(r.parent_id),
  products: Number(r.products ?? 0)
});

/** Every category, by name, with how many products it holds (a catalogue has hundreds, not millions). */
export async function listCategories(db: Db): Promise<Category[]> {
  const rows = await db.query<Row>(
    `SELECT cat.id, cat.name, cat.parent_id, coalesce(n.products, 0)::int AS products
       FROM categories cat
       LEFT JOIN (SELECT category_id, count(*) AS products FROM products
                   WHERE category_id IS NOT NULL GROUP BY category_id) n ON n.category_id = cat.id
      ORDER BY lower(cat.name), cat.id
      LIMIT 1000`
  );
  return rows.map(present);
}

/** A new category; a name that exists already (any case) is a 409 naming it. */
export async function createCategory(db: Db, actor: Actor, input: CategoryBody): Promise<Category> {
  return db.transaction(async (t) => {
    const [row] = await t.query<Row>(
      `INSERT INTO categories (name) VALUES ($1)
       ON CONFLICT (lower(btrim(name))) DO NOTHING RETURNING id, name, parent_id, 0 AS products`,
      [input.name]
    );
    if (!row) {
      const [existing] = await t.query<Row>(
        `SELECT id, name FROM categories WHERE lower(btrim(name)) = lower(btrim($1))`,
        [input.name]
      );
      throw new AppError('conflict', `A category named ${existing?.name ?? input.name} already exists`, {
        category: existing ? { id: Number(existing.id), name: existing.name } : null
      });
    }
    await audit(t, {
      action: 'category.created',
      actorUserId: actor.user.id,
      targetType: 'category',
      targetId: row.id,
      ip: actor.ip,
      details: { new: { name: row.name } }
    });
    return present(row);
  });
}
