import { money } from '#shared/rules/money.js';
import { stockState, type StockMovementKind } from '#shared/rules/stock.js';
import type { ProductSummary, StockMovement } from '#shared/schemas/inventory.js';

// Products and stock movements, from a query row or a change_log row (keys camel-cased): the
// product page merges events into what it loaded without translating.

type Json = Record<string, unknown>;

const iso = (v: unknown) => new Date(v instanceof Date ? v.getTime() : String(v)).toISOString();

export function presentProduct(d: Json): ProductSummary {
  const stock = Number(d.stock);
  const lowStockThreshold = Number(d.lowStockThreshold ?? 5);
  return {
    id: Number(d.id),
    sku: String(d.sku),
    name: String(d.name),
    price: money(d.price),
    stock,
    lowStockThreshold,
    stockState: stockState(stock, lowStockThreshold),
    active: d.active !== false,
    categoryId: d.categoryId == null ? null : Number(d.categoryId),
    version: Number(d.version ?? 1)
  };
}

export function presentStockMovement(d: Json): StockMovement {
  return {
    id: Number(d.id),
    productId: Number(d.productId),
    kind: d.kind as StockMovementKind,
    quantity: Number(d.quantity),
    reason: String(d.reason),
    orderId: d.orderId == null ? null : Number(d.orderId),
    actorUserId: d.actorUserId == null ? null : Number(d.actorUserId),
    ...(d.actorName !== undefined ? { actorName: (d.actorName as string | null) ?? null } : {}),
    at: iso(d.at)
  };
}
