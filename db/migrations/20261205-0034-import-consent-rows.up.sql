-- Consent rows of new customers skip the work that cannot apply to them (docs/decisions.md, "Imports").
-- Profiling a 5,000-row import batch (EXPLAIN ANALYZE, 2026-12-05) put about 7% of its insert in
-- two row-level triggers on the consent rows that customer_consent_from_new_rows (0032) writes for
-- customers inserted with consent: customer_alias_resolve looks each new customer up among merged
-- customers' aliases (a customer inserted by this very statement is nobody's alias), and
-- customer_consent_summarize copies the latest consent back onto the customer, who is where the
-- row came from (same grant, same time: nothing to copy). While it writes those rows the function
-- says so in a transaction-local setting, and both triggers are skipped by their WHEN; every other
-- consent row (the app, webhooks, merges, psql) goes through them as before.
CREATE OR REPLACE FUNCTION customer_consent_from_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.consent_sync', true) = 'on' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('pulse.consent_of_new_customers', 'on', true);
  INSERT INTO public.customer_consents (customer_id, channel, granted, at, source, actor_user_id)
  SELECT n.id, 'email', true, coalesce(n.marketing_consent_at, now()), 'import', public.pulse_actor()
    FROM new_rows n WHERE n.marketing_consent ORDER BY n.id;
  PERFORM set_config('pulse.consent_of_new_customers', 'off', true);
  RETURN NULL;
END $$;

DROP TRIGGER customer_consents_0_alias ON customer_consents;
CREATE TRIGGER customer_consents_0_alias BEFORE INSERT ON customer_consents
  FOR EACH ROW WHEN (current_setting('pulse.consent_of_new_customers', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION customer_alias_resolve();

DROP TRIGGER customer_consents_summarize ON customer_consents;
CREATE TRIGGER customer_consents_summarize AFTER INSERT ON customer_consents
  FOR EACH ROW WHEN (current_setting('pulse.consent_of_new_customers', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION customer_consent_summarize();
