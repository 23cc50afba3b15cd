-- As migrations/postgres/0002_outbox_claims.sql.
ALTER TABLE event_outbox ADD COLUMN claimed_until TEXT;
