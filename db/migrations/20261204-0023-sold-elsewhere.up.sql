-- An order a storefront or an import brings (one with an external_id) was sold by the shop already:
-- refusing it for want of stock would drop a real sale. Before its items are sold, what Pulse's
-- count lacks is received, as a movement that says so, so stock stays the sum of its movements and
-- never goes below zero. Orders made in Pulse keep the no-backorder rule.
-- See docs/decisions.md, "Stock is the sum of its movements".
CREATE OR REPLACE FUNCTION stock_sell_items(order_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Lock the products first, in product order, so the shortfall read below still holds at the sale.
  PERFORM 1 FROM public.products p
   WHERE p.id IN (SELECT i.product_id FROM public.order_items i WHERE i.order_id = ANY (order_ids))
   ORDER BY p.id FOR NO KEY UPDATE;
  INSERT INTO public.stock_movements (product_id, kind, quantity, reason)
  SELECT need.product_id, 'receive', need.quantity - p.stock,
         format('Sold by the shop beyond Pulse''s count (order %s)', need.external_ids)
    FROM (SELECT i.product_id, sum(i.quantity)::integer AS quantity,
                 left(string_agg(DISTINCT o.external_id, ', '), 120) AS external_ids
            FROM public.order_items i
            JOIN public.orders o ON o.id = i.order_id
           WHERE i.order_id = ANY (order_ids) AND o.external_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM public.stock_movements m WHERE m.order_item_id = i.id AND m.kind = 'sell')
           GROUP BY i.product_id) need
    JOIN public.products p ON p.id = need.product_id
   WHERE need.quantity > p.stock
   ORDER BY need.product_id;
  INSERT INTO public.stock_movements (product_id, kind, quantity, reason, order_id, order_item_id)
  SELECT i.product_id, 'sell', -i.quantity, format('Order #%s paid', i.order_id), i.order_id, i.id
    FROM public.order_items i
   WHERE i.order_id = ANY (order_ids)
     AND NOT EXISTS (SELECT 1 FROM public.stock_movements m WHERE m.order_item_id = i.id AND m.kind = 'sell')
   ORDER BY i.product_id, i.id
  ON CONFLICT (order_item_id, kind) WHERE order_item_id IS NOT NULL DO NOTHING;
END $$;
