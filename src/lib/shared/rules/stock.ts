// A product's stock state, as the database's product_stock_state() has it (migration 0018): the
// product page's live flag applies it to every stock change it receives.

export const STOCK_STATES = ['in_stock', 'low', 'out'] as const;
export type StockState = (typeof STOCK_STATES)[number];

export function stockState(stock: number, lowStockThreshold: number): StockState {
  if (stock <= 0) return 'out';
  if (stock <= lowStockThreshold) return 'low';
  return 'in_stock';
}

export const STOCK_MOVEMENT_KINDS = ['receive', 'sell', 'return', 'adjust'] as const;
export type StockMovementKind = (typeof STOCK_MOVEMENT_KINDS)[number];

/** Order statuses in which the goods have left the shelf (order_holds_stock() in SQL). */
export const STOCK_HOLDING_STATUSES = ['paid', 'fulfilled', 'shipped', 'delivered'] as const;
