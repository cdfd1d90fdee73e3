-- Every payload the signer ever signed: the double-sign record. Written and committed before a signature leaves.
-- uint256 values (nonce, amount) are 64-digit zero-padded lowercase hex so that they compare and sort numerically.
CREATE TABLE IF NOT EXISTS signed_payloads (
    chain_id    INTEGER NOT NULL,
    contract    TEXT    NOT NULL,  -- 0x + 40 lowercase hex
    nonce       TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('register', 'retopup', 'payout_batch', 'treasury_transfer')),
    digest      TEXT    NOT NULL,  -- 0x + 64 hex: the EIP-712 digest signed
    signature   TEXT    NOT NULL,  -- 0x + 130 hex: r ‖ s ‖ v
    asset       TEXT    NOT NULL,  -- token address, 0x000…0 for the native coin
    amount      TEXT    NOT NULL,  -- total moved by the payload
    outflow     INTEGER NOT NULL CHECK (outflow IN (0, 1)),
    deadline    INTEGER NOT NULL,
    caller      TEXT    NOT NULL,
    request_mac TEXT    NOT NULL,  -- the caller's HMAC, so replay protection survives a restart
    signed_at   INTEGER NOT NULL,  -- unix seconds
    payload     TEXT    NOT NULL,  -- the signed intent as JSON, for audit
    PRIMARY KEY (chain_id, contract, nonce)
);

CREATE INDEX IF NOT EXISTS signed_payloads_outflow_window ON signed_payloads (chain_id, asset, outflow, signed_at);
CREATE INDEX IF NOT EXISTS signed_payloads_signed_at ON signed_payloads (signed_at);

-- Next nonce to hand out per contract when an intent names none; only ever moves forward.
CREATE TABLE IF NOT EXISTS nonce_allocator (
    chain_id   INTEGER NOT NULL,
    contract   TEXT    NOT NULL,
    next_nonce TEXT    NOT NULL,
    PRIMARY KEY (chain_id, contract)
);
