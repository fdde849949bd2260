DROP TABLE IF EXISTS loyalty_ledger, loyalty_accounts, ticket_messages, tickets, reviews, order_items, orders,
  products, categories, customers, audit_log, sessions, users, teams CASCADE;
DROP FUNCTION IF EXISTS refuse_session_of_inactive_user(), loyalty_guard_account(), end_sessions_of_deactivated_user(), loyalty_apply_entry(), loyalty_tier_for(integer), forbid_changes(), touch_updated_at();
DROP TYPE IF EXISTS loyalty_entry_kind, loyalty_tier, message_author, ticket_channel, ticket_priority,
  ticket_status, sales_channel, order_status, user_role;
