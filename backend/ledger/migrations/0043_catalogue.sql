-- The sales plan's catalogue (issue 69; PLAN-SALES.md §1: a sale's amount and pv are signed from the operator's
-- catalogue). Per sales-plan asset, its products: a SKU, a name, a price in the asset's base units and pv in whole
-- points, active or not. Every change is a new catalogue version, numbered per asset, naming who made it and why (the
-- audit log keeps the product before and after): an order is priced against one version, and the signer will check
-- the price against that version signed by a catalogue wallet.
--
-- Products are kept by a staff role of their own, `catalogue`: merchandising is not a money role, and an admin does
-- not hold it unless granted.
ALTER TABLE staff_role_changes DROP CONSTRAINT staff_role_changes_role_check;
ALTER TABLE staff_role_changes ADD CONSTRAINT staff_role_changes_role_check
    CHECK (role IN ('viewer', 'support', 'finance', 'approver', 'admin', 'catalogue'));
ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check
    CHECK (role IN ('viewer', 'support', 'finance', 'approver', 'admin', 'catalogue'));

CREATE TABLE catalogue_versions (
    asset_id    INTEGER     NOT NULL REFERENCES assets (id),
    version     INTEGER     NOT NULL CHECK (version >= 1),
    -- The product the change made or changed.
    sku         TEXT        NOT NULL,
    -- The staff wallet (EIP-55) that made it.
    actor       TEXT        NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
    reason      TEXT        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, version)
);

CREATE TABLE catalogue_products (
    asset_id    INTEGER       NOT NULL REFERENCES assets (id),
    sku         TEXT          NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    name        TEXT          NOT NULL CHECK (length(name) BETWEEN 1 AND 120 AND name = btrim(name)),
    -- Below 2^112: the most one sale may carry (SettlementSales); an order of several is checked when priced.
    price       NUMERIC(78,0) NOT NULL CHECK (price > 0 AND price < 5192296858534827628530496329220096),
    pv          BIGINT        NOT NULL CHECK (pv BETWEEN 0 AND 1000000000),
    active      BOOLEAN       NOT NULL,
    -- The version that last changed it.
    version     INTEGER       NOT NULL,
    PRIMARY KEY (asset_id, sku),
    FOREIGN KEY (asset_id, version) REFERENCES catalogue_versions (asset_id, version)
);
