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
