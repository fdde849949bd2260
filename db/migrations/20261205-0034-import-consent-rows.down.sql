DROP TRIGGER customer_consents_summarize ON customer_consents;
CREATE TRIGGER customer_consents_summarize AFTER INSERT ON customer_consents
  FOR EACH ROW EXECUTE FUNCTION customer_consent_summarize();

DROP TRIGGER customer_consents_0_alias ON customer_consents;
CREATE TRIGGER customer_consents_0_alias BEFORE INSERT ON customer_consents
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();

CREATE OR REPLACE FUNCTION customer_consent_from_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.consent_sync', true) = 'on' THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.customer_consents (customer_id, channel, granted, at, source, actor_user_id)
  SELECT n.id, 'email', true, coalesce(n.marketing_consent_at, now()), 'import', public.pulse_actor()
    FROM new_rows n WHERE n.marketing_consent ORDER BY n.id;
  RETURN NULL;
END $$;
