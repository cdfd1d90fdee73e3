-- Orders of the sales plan (issue 69, contracts/SALES.md §7): what makes the signer, not the API, decide a sale's
-- price.
--
-- A catalogue version signed by a catalogue wallet: its EIP-712 `CatalogueVersion` (abi::catalogue) as the wallet
-- signed it — every product of the asset at that version in ascending SKU order, the plan's retail_bps and refund
-- window — kept as signed, so that an order is priced from it and the signer is handed it whatever the catalogue
-- became since. Only the newest version can be signed (the products table holds it).
CREATE TABLE catalogue_signatures (
    asset_id      INTEGER     NOT NULL,
    version       INTEGER     NOT NULL,
    wallet        BYTEA       NOT NULL CHECK (length(wallet) = 20),
    signature     BYTEA       NOT NULL CHECK (length(signature) = 65),
    retail_bps    INTEGER     NOT NULL CHECK (retail_bps BETWEEN 0 AND 5000),
    refund_window BIGINT      NOT NULL CHECK (refund_window > 0),
    -- [{"sku", "price" (decimal string), "pv", "active"}], ascending SKU: the signed products.
    products      JSONB       NOT NULL CHECK (jsonb_typeof(products) = 'array'),
    signed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, version),
    FOREIGN KEY (asset_id, version) REFERENCES catalogue_versions (asset_id, version)
);

-- An order a buyer (member or customer) asked for: its lines priced from a signed catalogue version, the seller the
-- API named (the customer's attributed member, else the member whose link it came from; the buyer for a member's own
-- purchase), and the `Sale` payload the signer signed for it (its nonce is the sale's id; its orderRef is
-- keccak256(abi.encode(asset_id, id))). Where it stands comes from the chain's events and the ledger's `sales` row,
-- never from the client. A buyer has one order at a time that may still be paid (`Idempotency-Key` names it: the same
-- key answers the same order).
CREATE TABLE orders (
    id                BIGINT        PRIMARY KEY,
    asset_id          INTEGER       NOT NULL REFERENCES assets (id),
    buyer             BYTEA         NOT NULL CHECK (length(buyer) = 20),
    seller            BYTEA         NOT NULL CHECK (length(seller) = 20),
    idempotency_key   TEXT          NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    -- [{"sku", "quantity"}], as asked.
    lines             JSONB         NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    catalogue_version INTEGER       NOT NULL,
    amount            NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    retail            NUMERIC(78,0) NOT NULL CHECK (retail >= 0 AND retail <= amount),
    pv                NUMERIC(78,0) NOT NULL CHECK (pv >= 0),
    order_ref         BYTEA         NOT NULL CHECK (length(order_ref) = 32),
    sale_id           NUMERIC(78,0) NOT NULL CHECK (sale_id >= 0),
    refund_window     BIGINT        NOT NULL CHECK (refund_window > 0),
    deadline          BIGINT        NOT NULL,
    signature         BYTEA         NOT NULL CHECK (length(signature) = 65),
    created_at        TIMESTAMPTZ   NOT NULL DEFAULT now(),
    UNIQUE (asset_id, buyer, idempotency_key),
    FOREIGN KEY (asset_id, catalogue_version) REFERENCES catalogue_signatures (asset_id, version)
);
CREATE SEQUENCE orders_id_seq OWNED BY orders.id;
CREATE INDEX orders_buyer ON orders (asset_id, buyer, id DESC);
CREATE UNIQUE INDEX orders_sale ON orders (asset_id, sale_id);
-- A sale's event by its id, as an order looks for it.
CREATE INDEX chain_events_sale_id ON chain_events (chain_id, uint_text_to_numeric(payload->>'id')) WHERE name = 'Sold';
