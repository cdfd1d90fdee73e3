-- Liability roots (the proof of solvency, SOLVENCY.md) are a fifth kind of payload, and each records its epoch so
-- that the signer signs a token's epochs only upwards. SQLite cannot change a CHECK constraint in place: the table
-- is rebuilt with the same rows, then its indexes.
CREATE TABLE signed_payloads_v3 (
    chain_id    INTEGER NOT NULL,
    contract    TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    kind        TEXT    NOT NULL
        CHECK (kind IN ('register', 'retopup', 'payout_batch', 'treasury_transfer', 'liability_root')),
    digest      TEXT    NOT NULL,
    signature   TEXT    NOT NULL,
    asset       TEXT    NOT NULL,
    amount      TEXT    NOT NULL,
    outflow     INTEGER NOT NULL CHECK (outflow IN (0, 1)),
    deadline    INTEGER NOT NULL,
    caller      TEXT    NOT NULL,
    request_mac TEXT    NOT NULL,
    signed_at   INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    refund_of   TEXT,
    epoch       INTEGER CHECK ((kind = 'liability_root') = (epoch IS NOT NULL)),
    PRIMARY KEY (chain_id, contract, nonce)
);
INSERT INTO signed_payloads_v3 (chain_id, contract, nonce, kind, digest, signature, asset, amount, outflow, deadline,
                                caller, request_mac, signed_at, payload, refund_of)
    SELECT chain_id, contract, nonce, kind, digest, signature, asset, amount, outflow, deadline,
           caller, request_mac, signed_at, payload, refund_of
    FROM signed_payloads;
DROP TABLE signed_payloads;
ALTER TABLE signed_payloads_v3 RENAME TO signed_payloads;

CREATE INDEX signed_payloads_outflow_window ON signed_payloads (chain_id, asset, outflow, signed_at);
CREATE INDEX signed_payloads_signed_at ON signed_payloads (signed_at);
CREATE INDEX signed_payloads_refund_of ON signed_payloads (chain_id, contract, refund_of) WHERE refund_of IS NOT NULL;
CREATE INDEX signed_payloads_epochs ON signed_payloads (chain_id, contract, asset, epoch) WHERE epoch IS NOT NULL;
