-- A publisher claims an outbox row until `claimed_until`, so the immediate
-- publish after a request and any number of relay runs never send the same
-- row at the same time; a failed attempt clears the claim.
ALTER TABLE event_outbox ADD COLUMN claimed_until TIMESTAMPTZ;
