-- Codes marked used.
DROP TRIGGER orders_codes_used_update ON orders;
DROP TRIGGER orders_codes_used_insert ON orders;
DROP FUNCTION orders_mark_codes_used();
DROP FUNCTION order_discount_codes(jsonb);
ALTER TABLE campaign_codes DROP CONSTRAINT campaign_codes_used, DROP COLUMN used_order_id, DROP COLUMN used_at;
ALTER TABLE loyalty_reward_codes DROP CONSTRAINT loyalty_reward_codes_used, DROP COLUMN used_order_id;

-- The tier from lifetime points again (as in 0026); tier changes without an entry go.
CREATE OR REPLACE FUNCTION loyalty_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (pg_trigger_depth() < 2 OR current_setting('pulse.ledger_apply', true) IS DISTINCT FROM 'on')
     AND (TG_OP = 'INSERT' AND (NEW.balance <> 0 OR NEW.lifetime_points <> 0 OR NEW.tier <> 'bronze' OR NEW.pending <> 0)
          OR TG_OP = 'UPDATE' AND (NEW.balance, NEW.lifetime_points, NEW.tier, NEW.pending)
                                  IS DISTINCT FROM (OLD.balance, OLD.lifetime_points, OLD.tier, OLD.pending)) THEN
    RAISE EXCEPTION 'loyalty balances change only through loyalty_ledger entries'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_ledger_only';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  pending_delta integer := 0;
  target public.loyalty_ledger%ROWTYPE;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
  cfg jsonb;
  lot record;
  need integer;
  take integer;
  lot_pending_until timestamptz;
BEGIN
  IF NEW.kind = 'earn' THEN
    lifetime_delta := NEW.points;
  ELSIF NEW.reverses_id IS NOT NULL THEN
    SELECT * INTO target FROM public.loyalty_ledger WHERE id = NEW.reverses_id;
    IF NEW.kind = 'reverse'
       AND (target.reverses_id IS NOT NULL OR target.account_id <> NEW.account_id OR NEW.points <> -target.points) THEN
      RAISE EXCEPTION 'a reversal must undo exactly one entry (not a reversal) of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_reverse_exact';
    END IF;
    IF NEW.kind = 'adjust'
       AND (target.kind <> 'earn' OR target.account_id <> NEW.account_id OR NEW.points > 0 OR NEW.points < -target.points) THEN
      RAISE EXCEPTION 'a clawback takes back at most the points of one earning of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_clawback';
    END IF;
    IF target.kind = 'earn' THEN
      lifetime_delta := -target.points;
    END IF;
  END IF;
  -- NO KEY UPDATE: the insert's foreign-key check holds KEY SHARE on this row, and FOR UPDATE
  -- would deadlock two concurrent entries of one account against each other's share lock. Every
  -- lot of the account is read and written holding this lock.
  SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = NEW.account_id FOR NO KEY UPDATE;
  PERFORM set_config('pulse.ledger_apply', 'on', true);

  IF NEW.ticket_id IS NOT NULL AND (
       SELECT sum(g.points) FROM public.loyalty_ledger g WHERE g.ticket_id = NEW.ticket_id
     ) > (SELECT (v.config ->> 'goodwillLimitPerTicket')::integer FROM public.loyalty_program_versions v
           WHERE v.id = NEW.program_version_id) THEN
    RAISE EXCEPTION 'ticket % would grant more goodwill points than the program allows', NEW.ticket_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_goodwill_limit';
  END IF;

  IF NEW.points > 0 AND NEW.reverses_id IS NOT NULL THEN
    -- Points given back return to the lots they were taken from.
    need := NEW.points;
    FOR lot IN
      SELECT m.lot_id, -m.points AS points, l.pending
        FROM public.loyalty_lot_moves m JOIN public.loyalty_lots l ON l.id = m.lot_id
       WHERE m.entry_id = NEW.reverses_id AND m.points < 0
       ORDER BY m.lot_id
    LOOP
      take := least(need, lot.points);
      EXIT WHEN take <= 0;
      UPDATE public.loyalty_lots SET remaining = remaining + take WHERE id = lot.lot_id;
      INSERT INTO public.loyalty_lot_moves (entry_id, lot_id, points) VALUES (NEW.id, lot.lot_id, take);
      IF lot.pending THEN pending_delta := pending_delta + take; END IF;
      need := need - take;
    END LOOP;
    -- What no lot records (taken before lots existed) comes back as a lot of its own.
    IF need > 0 THEN
      INSERT INTO public.loyalty_lots (account_id, entry_id, order_id, points, remaining, earned_at)
      VALUES (NEW.account_id, NEW.id, NEW.order_id, need, need, NEW.created_at);
    END IF;
  ELSIF NEW.points > 0 THEN
    -- An earning or an adjustment upwards opens a lot; an order's earning waits out the return window.
    SELECT config INTO cfg FROM public.loyalty_program_versions WHERE id = NEW.program_version_id;
    IF NEW.kind = 'earn' AND NEW.order_id IS NOT NULL AND (cfg ->> 'pendingDays')::numeric > 0 THEN
      lot_pending_until := NEW.created_at + (cfg ->> 'pendingDays')::numeric * interval '1 day';
    END IF;
    INSERT INTO public.loyalty_lots (account_id, entry_id, order_id, points, remaining, earned_at, pending_until, pending, expires_at)
    VALUES (NEW.account_id, NEW.id, NEW.order_id, NEW.points, NEW.points, NEW.created_at, lot_pending_until,
            coalesce(lot_pending_until > now(), false),
            CASE WHEN cfg -> 'expiry' ->> 'mode' = 'after_earn'
                 THEN NEW.created_at + make_interval(months => (cfg -> 'expiry' ->> 'months')::integer) END);
    IF lot_pending_until > now() THEN pending_delta := NEW.points; END IF;
  ELSIF NEW.points < 0 AND NEW.reverses_id IS NOT NULL THEN
    -- A reversal or a clawback of an earning takes from that earning's lot, and from nothing else
    -- (the lot's CHECK refuses more than it holds). Reversing a redemption's return likewise.
    SELECT l.id, l.pending INTO lot FROM public.loyalty_lots l WHERE l.entry_id = NEW.reverses_id;
    IF lot.id IS NULL THEN
      RAISE EXCEPTION 'entry % holds no points to take back', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_lots_remaining';
    END IF;
    UPDATE public.loyalty_lots SET remaining = remaining + NEW.points WHERE id = lot.id;
    INSERT INTO public.loyalty_lot_moves (entry_id, lot_id, points) VALUES (NEW.id, lot.id, NEW.points);
    IF lot.pending THEN pending_delta := NEW.points; END IF;
  ELSIF NEW.points < 0 THEN
    -- Oldest first: a redemption spends available points only; an expiry takes expired lots only;
    -- an adjustment downwards takes available points first, then pending ones.
    need := -NEW.points;
    FOR lot IN
      SELECT l.id, l.remaining, l.pending FROM public.loyalty_lots l
       WHERE l.account_id = NEW.account_id AND l.remaining > 0
         AND (NOT l.pending OR NEW.kind = 'adjust')
         AND (NEW.kind <> 'expire'
              OR l.id IN (SELECT x.lot_id FROM public.loyalty_lot_expiries x
                           WHERE x.account_id = NEW.account_id AND x.expires_at <= NEW.created_at))
       ORDER BY l.pending, l.earned_at, l.id
    LOOP
      take := least(need, lot.remaining);
      UPDATE public.loyalty_lots SET remaining = remaining - take WHERE id = lot.id;
      INSERT INTO public.loyalty_lot_moves (entry_id, lot_id, points) VALUES (NEW.id, lot.id, -take);
      IF lot.pending THEN pending_delta := pending_delta - take; END IF;
      need := need - take;
      EXIT WHEN need = 0;
    END LOOP;
    IF need > 0 THEN
      IF NEW.kind = 'expire' THEN
        RAISE EXCEPTION 'account % has fewer expired points than %', NEW.account_id, -NEW.points
          USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_expire_expired';
      END IF;
      RAISE EXCEPTION 'account % has fewer available points than %', NEW.account_id, -NEW.points
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_balance_check';
    END IF;
  END IF;

  UPDATE public.loyalty_accounts
     SET balance = balance + NEW.points,
         pending = pending + pending_delta,
         lifetime_points = GREATEST(lifetime_points + lifetime_delta, 0),
         tier = public.loyalty_tier_for(GREATEST(lifetime_points + lifetime_delta, 0))
   WHERE id = NEW.account_id
  RETURNING tier, customer_id INTO after_tier, member;
  PERFORM set_config('pulse.ledger_apply', 'off', true);
  IF after_tier IS DISTINCT FROM before_tier THEN
    INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
    VALUES (NEW.account_id, member, NEW.id, before_tier, after_tier, NEW.created_at);
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION loyalty_ledger_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m record;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
  moved_pending integer;
BEGIN
  FOR m IN
    SELECT o.account_id AS from_id, n.account_id AS to_id, sum(n.points)::integer AS points,
           sum(CASE WHEN n.kind = 'earn' THEN n.points ELSE 0 END)::integer
             - coalesce(sum(t.points) FILTER (WHERE t.kind = 'earn'), 0)::integer AS lifetime,
           max(n.id) AS last_entry, max(n.created_at) AS last_at, array_agg(n.id) AS entries
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
      LEFT JOIN public.loyalty_ledger t ON t.id = n.reverses_id
     WHERE o.account_id <> n.account_id
     GROUP BY o.account_id, n.account_id
     ORDER BY least(o.account_id, n.account_id)
  LOOP
    PERFORM 1 FROM public.loyalty_accounts WHERE id IN (m.from_id, m.to_id) ORDER BY id FOR NO KEY UPDATE;
    PERFORM set_config('pulse.ledger_apply', 'on', true);
    WITH moved AS (
      UPDATE public.loyalty_lots SET account_id = m.to_id
       WHERE account_id = m.from_id AND entry_id = ANY (m.entries)
      RETURNING remaining, pending
    )
    SELECT coalesce(sum(remaining) FILTER (WHERE pending), 0)::integer INTO moved_pending FROM moved;
    FOR member IN SELECT unnest(ARRAY[m.from_id, m.to_id]) ORDER BY 1 LOOP
      SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = member FOR NO KEY UPDATE;
      PERFORM set_config('pulse.ledger_apply', 'on', true);
      UPDATE public.loyalty_accounts
         SET balance = balance + CASE WHEN id = m.to_id THEN m.points ELSE -m.points END,
             pending = pending + CASE WHEN id = m.to_id THEN moved_pending ELSE -moved_pending END,
             lifetime_points = GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0),
             tier = public.loyalty_tier_for(GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0))
       WHERE id = member
      RETURNING tier INTO after_tier;
      PERFORM set_config('pulse.ledger_apply', 'off', true);
      IF after_tier IS DISTINCT FROM before_tier THEN
        INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
        SELECT member, a.customer_id, m.last_entry, before_tier, after_tier, now()
          FROM public.loyalty_accounts a WHERE a.id = member;
      END IF;
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$;

DROP TRIGGER orders_loyalty_tier_update ON orders;
DROP TRIGGER orders_loyalty_tier_insert ON orders;
DROP FUNCTION loyalty_orders_tier();
DROP FUNCTION loyalty_refresh_tiers();
DROP FUNCTION loyalty_refresh_tier(integer);
DELETE FROM loyalty_tier_changes WHERE entry_id IS NULL;
ALTER TABLE loyalty_tier_changes ALTER COLUMN entry_id SET NOT NULL;
DROP FUNCTION loyalty_account_tier(integer, integer, integer);
DROP FUNCTION loyalty_basis_values(jsonb, timestamptz);
DROP FUNCTION loyalty_basis_value(jsonb, integer, integer, integer, timestamptz);
DROP FUNCTION loyalty_tier_of(jsonb, numeric);

-- Bonus events. Their entries stay in the append-only ledger, as ordinary earnings.
DROP FUNCTION loyalty_award_birthdays(text, timestamptz, integer);
DROP TRIGGER reviews_loyalty_first_review ON reviews;
DROP FUNCTION loyalty_first_review_bonus();
DROP TRIGGER customers_loyalty_sign_up ON customers;
DROP FUNCTION loyalty_sign_up_bonus();
DROP FUNCTION loyalty_award_bonus(integer, text, text);
ALTER TABLE loyalty_ledger DROP CONSTRAINT loyalty_ledger_bonus_earn, DROP COLUMN bonus;
DROP INDEX customers_birthday_idx;
ALTER TABLE customers DROP COLUMN birth_date;
