-- A TRON transaction has no account nonce: it carries a reference block and an expiration. The backend signs
-- the operator's payout transaction first and keeps its bytes here, committed BEFORE they are broadcast, so
-- that a retry broadcasts exactly those bytes again until the chain proves them dead (a solidified block past
-- the expiration, and the transaction in no block); only then is a new transaction signed for the batch.
-- EVM transactions leave these columns empty (the account nonce orders them).
ALTER TABLE transactions
    ADD COLUMN chain_tx_raw BYTEA,
    ADD COLUMN chain_tx_expiration_ms BIGINT,
    ADD COLUMN chain_tx_fee_limit BIGINT,
    ADD CONSTRAINT transactions_kept_chain_tx_whole CHECK (
        (chain_tx_raw IS NULL AND chain_tx_expiration_ms IS NULL AND chain_tx_fee_limit IS NULL)
        OR (chain_tx_raw IS NOT NULL AND chain_tx_expiration_ms IS NOT NULL AND chain_tx_fee_limit IS NOT NULL
            AND tx_hash IS NOT NULL AND chain_tx_fee_limit >= 0)
    );
