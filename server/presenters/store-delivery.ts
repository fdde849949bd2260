import type { DeliveryState, StoreDelivery } from '#shared/schemas/storefront.js';

const iso = (d: unknown) => (d == null ? null : new Date(d as string).toISOString());

interface DeliveryRow {
  id: string;
  store_id: number;
  delivery_key: string;
  topic: string;
  state: DeliveryState;
  attempts: number;
  received_at: Date;
  processed_at: Date | null;
  next_attempt_at: Date | null;
  result: string | null;
  error: string | null;
  order_id: number | null;
}

/** A delivery as the admin list shows it (also the live event's payload; never the body). */
export function presentDelivery(r: Record<string, unknown>): StoreDelivery {
  const d = r as unknown as DeliveryRow;
  return {
    id: Number(d.id),
    storeId: Number(d.store_id),
    deliveryKey: d.delivery_key,
    topic: d.topic,
    state: d.state,
    attempts: Number(d.attempts),
    receivedAt: iso(d.received_at)!,
    processedAt: iso(d.processed_at),
    nextAttemptAt: d.state === 'pending' ? iso(d.next_attempt_at) : null,
    result: d.result ?? null,
    error: d.error ?? null,
    orderId: d.order_id == null ? null : Number(d.order_id)
  };
}

/** A store_deliveries change_log row (camel-cased keys) as the admin list's row. */
export function presentDeliveryChange(d: Record<string, unknown>): StoreDelivery {
  return presentDelivery({
    id: d.id,
    store_id: d.storeId,
    delivery_key: d.deliveryKey,
    topic: d.topic,
    state: d.state,
    attempts: d.attempts,
    received_at: d.receivedAt,
    processed_at: d.processedAt,
    next_attempt_at: d.nextAttemptAt,
    result: d.result,
    error: d.error,
    order_id: d.orderId
  });
}
