-- What a merge takes back of the bonuses both customers' accounts hold (0038, 0042) was summed in
-- two places: the merge record's trigger (0045) and the merge preview (server/services/customers/
-- merge.ts). One function now says it, and both call it.
CREATE FUNCTION merge_bonus_take_back(survivor integer, merged integer) RETURNS integer
  LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(d.take_back), 0)::integer
    FROM public.loyalty_repeated_bonuses(ARRAY(
           SELECT a.id FROM public.loyalty_accounts a WHERE a.customer_id IN (survivor, merged))) d
$$;

CREATE OR REPLACE FUNCTION customer_merges_net_points() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  taken_back integer := public.merge_bonus_take_back(NEW.survivor_id, NEW.merged_id);
BEGIN
  NEW.moved := NEW.moved || jsonb_build_object(
    'points', coalesce((NEW.moved ->> 'points')::integer, 0) - taken_back,
    'bonusPointsTakenBack', taken_back);
  RETURN NEW;
END;
$$;
