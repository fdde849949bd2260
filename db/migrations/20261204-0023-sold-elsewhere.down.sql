CREATE OR REPLACE FUNCTION stock_sell_items(order_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.stock_movements (product_id, kind, quantity, reason, order_id, order_item_id)
  SELECT i.product_id, 'sell', -i.quantity, format('Order #%s paid', i.order_id), i.order_id, i.id
    FROM public.order_items i
   WHERE i.order_id = ANY (order_ids)
     AND NOT EXISTS (SELECT 1 FROM public.stock_movements m WHERE m.order_item_id = i.id AND m.kind = 'sell')
   ORDER BY i.product_id, i.id
  ON CONFLICT (order_item_id, kind) WHERE order_item_id IS NOT NULL DO NOTHING;
END $$;
