-- Sales (issue 69, contracts/SALES.md §7) are a sixth kind of payload: a buyer's payment for an order priced from a
-- catalogue version a catalogue wallet signed. Each sale records the version it was priced from, so that the signer
-- never prices a sale from a version older than one it has priced a sale of the same token from (a version's prices
-- stop when a newer one is signed). SQLite cannot change a CHECK constraint in place: the table is rebuilt with the
-- same rows, then its indexes.
CREATE TABLE signed_payloads_v6 (
    chain_id    INTEGER NOT NULL,
    contract    TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    kind        TEXT    NOT NULL
        CHECK (kind IN ('register', 'retopup', 'payout_batch', 'treasury_transfer', 'liability_root', 'sale')),
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
    root_fall   TEXT    CHECK (root_fall IS NULL OR kind = 'liability_root'),
    catalogue_version INTEGER CHECK ((kind = 'sale') = (catalogue_version IS NOT NULL)),
    PRIMARY KEY (chain_id, contract, nonce)
);
INSERT INTO signed_payloads_v6 (chain_id, contract, nonce, kind, digest, signature, asset, amount, outflow, deadline,
                                caller, request_mac, signed_at, payload, refund_of, epoch, root_fall)
    SELECT chain_id, contract, nonce, kind, digest, signature, asset, amount, outflow, deadline,
           caller, request_mac, signed_at, payload, refund_of, epoch, root_fall
    FROM signed_payloads;
DROP TABLE signed_payloads;
ALTER TABLE signed_payloads_v6 RENAME TO signed_payloads;

CREATE INDEX signed_payloads_outflow_window ON signed_payloads (chain_id, asset, outflow, signed_at);
CREATE INDEX signed_payloads_signed_at ON signed_payloads (signed_at);
CREATE INDEX signed_payloads_refund_of ON signed_payloads (chain_id, contract, refund_of) WHERE refund_of IS NOT NULL;
CREATE INDEX signed_payloads_epochs ON signed_payloads (chain_id, contract, asset, epoch) WHERE epoch IS NOT NULL;
CREATE INDEX signed_payloads_root_falls ON signed_payloads (chain_id, asset, signed_at) WHERE root_fall IS NOT NULL;
CREATE INDEX signed_payloads_catalogues
    ON signed_payloads (chain_id, contract, asset, catalogue_version) WHERE catalogue_version IS NOT NULL;
