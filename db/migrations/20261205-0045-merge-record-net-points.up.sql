-- A merge record's `moved.points` said the merged account's whole balance, while the merge then
-- takes back the bonuses both accounts held (0038, 0042): the banner after a merge announced
-- more points than the survivor gained. The record now says the points the survivor gains, net
-- of what is taken back, and `bonusPointsTakenBack`, counted before the accounts merge by the
-- function the merge and its preview use (loyalty_repeated_bonuses).
CREATE FUNCTION customer_merges_net_points() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER customer_merges_net_points BEFORE INSERT ON customer_merges
  FOR EACH ROW EXECUTE FUNCTION customer_merges_net_points();
