CREATE OR REPLACE FUNCTION customer_merges_net_points() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  taken_back integer;
BEGIN
  SELECT coalesce(sum(d.take_back), 0)::integer INTO taken_back
    FROM public.loyalty_repeated_bonuses(ARRAY(
           SELECT a.id FROM public.loyalty_accounts a WHERE a.customer_id IN (NEW.survivor_id, NEW.merged_id))) d;
  NEW.moved := NEW.moved || jsonb_build_object(
    'points', coalesce((NEW.moved ->> 'points')::integer, 0) - taken_back,
    'bonusPointsTakenBack', taken_back);
  RETURN NEW;
END;
$$;

DROP FUNCTION merge_bonus_take_back(integer, integer);
