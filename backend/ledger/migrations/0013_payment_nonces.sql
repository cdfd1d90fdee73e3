-- A wallet's payload is out until a confirmed event uses its nonce (ledger::payments): that look-up, made on
-- every register and retopup request, reads this index instead of every payment event of the chain.
CREATE INDEX chain_events_payment_nonce ON chain_events (chain_id, name, uint_text_to_numeric(payload->>'nonce'))
    WHERE name IN ('Registered', 'Retopped');
