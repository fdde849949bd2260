import type {
  ProductPatch,
  ProductSummary,
  StockMovement,
  StockMovementBody
} from '#shared/schemas/inventory.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';
import { camelKeys } from '../../presenters/camel-keys.js';
import { presentProduct, presentStockMovement } from '../../presenters/inventory.js';

/**
 * A receipt or an adjustment written by a person (managers and admins; the route checks the
 * role). The database moves the stock and refuses one that would take it below zero; the audit
 * row joins the same transaction.
 */
export async function recordStockMovement(
  db: Db,
  actor: Actor,
  productId: number,
  body: StockMovementBody
): Promise<{ movement: StockMovement; product: ProductSummary }> {
  return db.transaction(async (t) => {
    const [exists] = await t.query(`SELECT id FROM products WHERE id = $1`, [productId]);
    if (!exists) throw notFound('Product');
    const [movement] = await t
      .query(
        `INSERT INTO stock_movements (product_id, kind, quantity, reason, actor_user_id)
       VALUES ($1, $2::stock_movement_kind, $3, $4, $5)
       RETURNING id, product_id, kind::text, quantity, reason, order_id, actor_user_id, at`,
        [productId, body.kind, body.quantity, body.reason, actor.user.id]
      )
      .catch((err: unknown) => {
        const e = err as { constraint?: string; original?: { constraint?: string } };
        if ((e.original ?? e).constraint === 'products_stock_check')
          throw new AppError('unprocessable', 'Stock cannot go below zero', {
            constraint: 'products_stock_check'
          });
        throw err;
      });
    await audit(t, {
      action: 'stock.moved',
      actorUserId: actor.user.id,
      targetType: 'product',
      targetId: productId,
      ip: actor.ip,
      details: { movementId: Number(movement.id), ...body }
    });
    const [product] = await t.query(`SELECT * FROM products WHERE id = $1`, [productId]);
    return {
      movement: presentStockMovement({ ...camelKeys(movement), actorName: actor.user.name }),
      product: presentProduct(camelKeys(product))
    };
  });
}

/** Threshold and active flag, against the version the user saw (409 stale_version when older). */
export async function updateProduct(
  db: Db,
  actor: Actor,
  productId: number,
  patch: ProductPatch
): Promise<ProductSummary> {
  return db.transaction(async (t) => {
    const [current] = await t.query<{ version: number; low_stock_threshold: number; active: boolean }>(
      `SELECT version, low_stock_threshold, active FROM products WHERE id = $1 FOR UPDATE`,
      [productId]
    );
    if (!current) throw notFound('Product');
    if (current.version !== patch.version)
      throw new AppError('stale_version', 'The product changed since you loaded it', {
        version: current.version
      });
    const [row] = await t.query(
      `UPDATE products SET low_stock_threshold = coalesce($2, low_stock_threshold), active = coalesce($3, active)
        WHERE id = $1 RETURNING *`,
      [productId, patch.lowStockThreshold ?? null, patch.active ?? null]
    );
    await audit(t, {
      action: 'product.updated',
      actorUserId: actor.user.id,
      targetType: 'product',
      targetId: productId,
      ip: actor.ip,
      details: {
        old: { lowStockThreshold: current.low_stock_threshold, active: current.active },
        new: { lowStockThreshold: row.low_stock_threshold, active: row.active }
      }
    });
    return presentProduct(camelKeys(row));
  });
}
