-- The reconciler's results, the alerts it has firing, and what it still owes each alert sink.

-- A uint256 as chain_events payloads hold it (alloy writes "0x"-prefixed hex; decimal also accepted).
CREATE FUNCTION uint_text_to_numeric(t text) RETURNS NUMERIC
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t ~* '^0x[0-9a-f]+$' THEN (
            SELECT coalesce(sum(
                (strpos('0123456789abcdef', substr(lower(t), 2 + i, 1)) - 1)::numeric
                * (16::numeric ^ (length(t) - 2 - i))), 0)::numeric(78,0)
            FROM generate_series(1, length(t) - 2) AS i)
        ELSE t::numeric(78,0)
    END
$$;

-- One reconciliation run (scheduled or on demand).
CREATE TABLE reconciler_runs (
    id           BIGSERIAL PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    -- Every alert the run found (firing after it), and chains it could not read.
    alerts       JSONB NOT NULL DEFAULT '[]',
    errors       JSONB NOT NULL DEFAULT '[]'
);

-- Custody and solvency of one asset at the listener's confirmed block, per run (PLAN.md §7, 3 and 4).
-- Signed figures are NUMERIC(78,0) too (a negative variance is money missing from custody).
CREATE TABLE reconciler_results (
    run_id             BIGINT  NOT NULL REFERENCES reconciler_runs (id),
    chain_id           BIGINT  NOT NULL,
    token              BYTEA   NOT NULL CHECK (length(token) = 20),
    block_number       BIGINT  NOT NULL,
    onchain_balance    NUMERIC(78,0) NOT NULL,
    inflows            NUMERIC(78,0) NOT NULL,
    payouts_executed   NUMERIC(78,0) NOT NULL,
    claims             NUMERIC(78,0) NOT NULL,
    treasury_transfers NUMERIC(78,0) NOT NULL,
    liabilities        NUMERIC(78,0) NOT NULL,
    expected_balance   NUMERIC(78,0) NOT NULL,
    variance           NUMERIC(78,0) NOT NULL,
    solvency_margin    NUMERIC(78,0) NOT NULL,
    alerts             JSONB   NOT NULL DEFAULT '[]',
    at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, chain_id, token)
);
CREATE INDEX reconciler_results_latest ON reconciler_results (chain_id, token, run_id DESC);

-- Alerts firing after the last run, by dedup key: a restart neither re-pages nor forgets to resolve.
CREATE TABLE reconciler_firing (
    dedup_key   TEXT  PRIMARY KEY,
    alert       JSONB NOT NULL,
    since       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Fire/resolve messages owed to each sink, written with the firing state in one transaction and sent in
-- id order per (sink, dedup key); a refused send stays here and is retried by the next run.
CREATE TABLE reconciler_outbox (
    id          BIGSERIAL PRIMARY KEY,
    sink        TEXT  NOT NULL,
    dedup_key   TEXT  NOT NULL,
    transition  TEXT  NOT NULL CHECK (transition IN ('fire', 'resolve')),
    alert       JSONB NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX reconciler_outbox_unsent ON reconciler_outbox (sink, id) WHERE sent_at IS NULL;
