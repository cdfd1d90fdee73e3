-- Ledger of the referral plan (PLAN.md). Money is NUMERIC(78,0) in base units of its asset.
-- Ledger rows are numbered by the plan engine per asset (user_no, reward_no, ...), not by
-- sequences, so replaying the same events reproduces the same rows. The tables written per
-- event (users' sponsor, rewards, balances, nodes, reserves, retopups) carry no foreign keys to
-- users: the plan engine is their only writer and resolves every reference, while the key
-- checks cost a lookup and a row lock per row on the hot path, planned once per session when
-- the table was small (see the benchmark). The property tests check the references.

-- An asset is one currency on one chain; token = 20 zero bytes for the native coin.
CREATE TABLE assets (
    id              INTEGER PRIMARY KEY,
    chain_id        BIGINT   NOT NULL,
    token           BYTEA    NOT NULL CHECK (length(token) = 20),
    symbol          TEXT     NOT NULL,
    decimals        SMALLINT NOT NULL CHECK (decimals BETWEEN 0 AND 36),
    genesis         BYTEA    NOT NULL CHECK (length(genesis) = 20),
    -- Ledger position: events applied, last applied block, admin actions so far.
    applied_events  BIGINT   NOT NULL DEFAULT 0,
    last_block      BIGINT,
    admin_seq       BIGINT   NOT NULL DEFAULT 0,
    company_total   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (company_total >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (chain_id, token)
);

CREATE TABLE plan_versions (
    asset_id              INTEGER NOT NULL REFERENCES assets (id),
    version               INTEGER NOT NULL,
    effective_from_block  BIGINT  NOT NULL,
    params                JSONB   NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, version),
    UNIQUE (asset_id, effective_from_block)
);

-- A participant of one asset's plan. user_no 0 is the genesis user.
CREATE TABLE users (
    asset_id        INTEGER NOT NULL REFERENCES assets (id),
    user_no         INTEGER NOT NULL,
    address         BYTEA   NOT NULL CHECK (length(address) = 20),
    sponsor_no      INTEGER,
    direct_count    BIGINT  NOT NULL DEFAULT 0,
    has_retopup     BOOLEAN NOT NULL DEFAULT false,
    retopup_count   BIGINT  NOT NULL DEFAULT 0,
    frozen          BOOLEAN NOT NULL DEFAULT false,
    registered_block BIGINT,
    PRIMARY KEY (asset_id, user_no),
    -- Also serves wallet sign-in, which looks a wallet up across assets.
    UNIQUE (address, asset_id),
    CHECK ((user_no = 0) = (sponsor_no IS NULL) AND sponsor_no < user_no)
) WITH (fillfactor = 80); -- room for HOT updates of the counters
-- Referrals of a sponsor (paginated lists, sponsor-chain walks).
CREATE INDEX users_sponsor ON users (asset_id, sponsor_no, user_no);

-- Sums per user, kept in step with rewards and reserves.
CREATE TABLE user_balances (
    asset_id    INTEGER NOT NULL,
    user_no     INTEGER NOT NULL,
    paid_in     NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (paid_in >= 0),
    pending     NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (pending >= 0),
    held        NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (held >= 0),
    batched     NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (batched >= 0),
    settled     NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (settled >= 0),
    forfeited   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (forfeited >= 0),
    -- Current reserve (all levels); the per-level split is in user_reserves.
    reserved    NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    claimable   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (claimable >= 0),
    PRIMARY KEY (asset_id, user_no)
) WITH (fillfactor = 70); -- updated on most events: keep updates HOT

-- Reserve saved by a user towards a level (auto-progression savings, PLAN.md §3.4).
CREATE TABLE user_reserves (
    asset_id  INTEGER NOT NULL,
    user_no   INTEGER NOT NULL,
    level     INTEGER NOT NULL,
    amount    NUMERIC(78,0) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (asset_id, user_no, level)
) WITH (fillfactor = 70);

-- One breadth-first tree per asset and level.
CREATE TABLE pools (
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    level       INTEGER NOT NULL CHECK (level >= 1),
    node_count  BIGINT  NOT NULL,
    PRIMARY KEY (asset_id, level)
);

-- A node at heap index q of a level's tree.
CREATE TABLE pool_nodes (
    asset_id        INTEGER NOT NULL,
    level           INTEGER NOT NULL,
    q               BIGINT  NOT NULL,
    owner_no        INTEGER NOT NULL,
    placement_no    BIGINT  NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'completed')),
    completed_block BIGINT,
    completed_at    TIMESTAMPTZ,
    -- Also the pool queue by level: nodes complete in heap order, so the open ones are a
    -- suffix of the level's range.
    PRIMARY KEY (asset_id, level, q)
) WITH (fillfactor = 90);
-- A user's nodes per level.
CREATE INDEX pool_nodes_owner ON pool_nodes (asset_id, owner_no, level);

-- What caused each node: a pool entry or an auto-progression from a reserve.
CREATE TABLE placements (
    asset_id        INTEGER NOT NULL,
    placement_no    BIGINT  NOT NULL,
    owner_no        INTEGER NOT NULL,
    level           INTEGER NOT NULL,
    q               BIGINT  NOT NULL,
    amount          NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    cause           TEXT    NOT NULL CHECK (cause IN ('pool_entry', 'auto_progression')),
    parent_placement_no BIGINT,
    completed_q     BIGINT,
    event_seq       BIGINT  NOT NULL,
    plan_version    INTEGER NOT NULL,
    PRIMARY KEY (asset_id, placement_no),
    UNIQUE (asset_id, level, q)
);

-- One credit to a user. status moves reserved | held <-> pending -> batched -> settled, or
-- held -> forfeited.
CREATE TABLE rewards (
    asset_id        INTEGER NOT NULL,
    reward_no       BIGINT  NOT NULL,
    beneficiary_no  INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('DIRECT', 'POOL_L1', 'POOL_L2', 'POOL_L3', 'LEVEL')),
    level           INTEGER NOT NULL,
    amount          NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    status          TEXT    NOT NULL CHECK (status IN ('reserved', 'held', 'pending', 'batched', 'settled', 'forfeited')),
    placement_no    BIGINT,
    event_seq       BIGINT  NOT NULL,
    plan_version    INTEGER NOT NULL,
    batch_id        BIGINT,
    PRIMARY KEY (asset_id, reward_no)
);
-- Pending rewards per asset for payout batches; a user's rewards by status.
CREATE INDEX rewards_pending ON rewards (asset_id, beneficiary_no) WHERE status = 'pending';
CREATE INDEX rewards_beneficiary ON rewards (asset_id, beneficiary_no, status);

-- Every change of a reserve: +credit (reserved reward) or -take (auto-progression price).
CREATE TABLE reserve_movements (
    asset_id       INTEGER NOT NULL,
    movement_no    BIGINT  NOT NULL,
    user_no        INTEGER NOT NULL,
    level          INTEGER NOT NULL,
    delta          NUMERIC(78,0) NOT NULL CHECK (delta <> 0),
    balance_after  NUMERIC(78,0) NOT NULL CHECK (balance_after >= 0),
    reward_no      BIGINT,
    placement_no   BIGINT,
    event_seq      BIGINT  NOT NULL,
    PRIMARY KEY (asset_id, movement_no),
    CHECK ((delta > 0) = (reward_no IS NOT NULL) AND (delta < 0) = (placement_no IS NOT NULL))
);

-- The company's account: fee rests, pool rests, level rests, dust, forfeits.
CREATE TABLE company_credits (
    asset_id      INTEGER NOT NULL REFERENCES assets (id),
    credit_no     BIGINT  NOT NULL,
    amount        NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    reason        TEXT    NOT NULL CHECK (reason IN ('registration_rest', 'pool_rest', 'level_rest', 'forfeit')),
    placement_no  BIGINT,
    event_seq     BIGINT,
    reward_no     BIGINT,
    PRIMARY KEY (asset_id, credit_no)
);

-- The ledger's view of each applied plan event (registration or retopup), in order.
CREATE TABLE ledger_events (
    asset_id      INTEGER NOT NULL REFERENCES assets (id),
    event_seq     BIGINT  NOT NULL,
    chain_id      BIGINT  NOT NULL,
    tx_hash       BYTEA   NOT NULL,
    log_index     BIGINT  NOT NULL,
    block_number  BIGINT  NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('registration', 'retopup')),
    user_no       INTEGER NOT NULL,
    amount        NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    plan_version  INTEGER NOT NULL,
    PRIMARY KEY (asset_id, event_seq)
);

CREATE TABLE retopups (
    asset_id     INTEGER NOT NULL,
    retopup_no   BIGINT  NOT NULL,
    user_no      INTEGER NOT NULL,
    amount       NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    event_seq    BIGINT  NOT NULL,
    PRIMARY KEY (asset_id, retopup_no)
);
CREATE INDEX retopups_user ON retopups (asset_id, user_no);

-- Raw confirmed logs; the key makes re-application a no-op.
CREATE TABLE chain_events (
    chain_id        BIGINT NOT NULL,
    tx_hash         BYTEA  NOT NULL CHECK (length(tx_hash) = 32),
    log_index       BIGINT NOT NULL,
    block_number    BIGINT NOT NULL,
    block_timestamp BIGINT NOT NULL,
    name            TEXT   NOT NULL,
    payload         JSONB  NOT NULL,
    outcome         TEXT   NOT NULL CHECK (outcome IN ('applied', 'quarantined')),
    PRIMARY KEY (chain_id, tx_hash, log_index)
);
CREATE INDEX chain_events_order ON chain_events (chain_id, block_number, log_index);

-- Listener cursor per chain: the last applied (block, log index), NULL before the first.
-- Its row is also the chain's lock: the ledger takes it first in every transaction.
CREATE TABLE blockchain_sync (
    chain_id        BIGINT PRIMARY KEY,
    last_block      BIGINT,
    last_log_index  BIGINT,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((last_block IS NULL) = (last_log_index IS NULL))
);

-- Events that were not applied, with the reason; an alert is raised with each.
CREATE TABLE quarantine (
    chain_id      BIGINT NOT NULL,
    tx_hash       BYTEA  NOT NULL,
    log_index     BIGINT NOT NULL,
    asset_id      INTEGER,
    reason_code   TEXT   NOT NULL,
    reason        TEXT   NOT NULL,
    payload       JSONB  NOT NULL,
    resolved_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, tx_hash, log_index),
    FOREIGN KEY (chain_id, tx_hash, log_index) REFERENCES chain_events (chain_id, tx_hash, log_index)
);

CREATE TABLE alerts (
    id               BIGSERIAL PRIMARY KEY,
    kind             TEXT  NOT NULL,
    message          TEXT  NOT NULL,
    details          JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    acknowledged_at  TIMESTAMPTZ
);
CREATE INDEX alerts_open ON alerts (created_at) WHERE acknowledged_at IS NULL;

-- Append-only log of admin actions with before/after values.
CREATE TABLE audit_logs (
    id          BIGSERIAL PRIMARY KEY,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    asset_id    INTEGER REFERENCES assets (id),
    target      TEXT,
    before      JSONB,
    after       JSONB,
    -- Ledger position when the action took effect, so a replay can interleave it.
    applied_events BIGINT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_asset ON audit_logs (asset_id, id);
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only';
END $$;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();

-- Signed payloads handed to wallets or relayers (registration, retopup, payout batches).
CREATE TABLE transactions (
    id          BIGSERIAL PRIMARY KEY,
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    kind        TEXT    NOT NULL,
    wallet      BYTEA,
    nonce       NUMERIC(78,0) NOT NULL,
    payload     JSONB   NOT NULL,
    signature   BYTEA   NOT NULL,
    deadline    BIGINT,
    status      TEXT    NOT NULL DEFAULT 'signed' CHECK (status IN ('signed', 'submitted', 'confirmed', 'expired', 'failed')),
    tx_hash     BYTEA,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- One nonce, one payload, ever (PLAN.md §7.5).
    UNIQUE (asset_id, nonce)
);
CREATE INDEX transactions_wallet ON transactions (wallet, created_at);

CREATE TABLE payout_batches (
    id          BIGSERIAL PRIMARY KEY,
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    status      TEXT    NOT NULL CHECK (status IN ('building', 'signed', 'submitted', 'executed', 'failed', 'cancelled')),
    total       NUMERIC(78,0) NOT NULL CHECK (total >= 0),
    transaction_id BIGINT REFERENCES transactions (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    executed_block BIGINT
);
CREATE INDEX payout_batches_asset ON payout_batches (asset_id, status);

-- One payment per user per batch.
CREATE TABLE payout_batch_items (
    batch_id    BIGINT  NOT NULL REFERENCES payout_batches (id),
    asset_id    INTEGER NOT NULL,
    user_no     INTEGER NOT NULL,
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    outcome     TEXT CHECK (outcome IN ('paid', 'claimable')),
    PRIMARY KEY (batch_id, user_no),
    FOREIGN KEY (asset_id, user_no) REFERENCES users (asset_id, user_no)
);

-- Which rewards a batch pays.
CREATE TABLE payout_batch_rewards (
    batch_id    BIGINT  NOT NULL REFERENCES payout_batches (id),
    asset_id    INTEGER NOT NULL,
    reward_no   BIGINT  NOT NULL,
    PRIMARY KEY (batch_id, asset_id, reward_no),
    FOREIGN KEY (asset_id, reward_no) REFERENCES rewards (asset_id, reward_no)
);
CREATE INDEX payout_batch_rewards_reward ON payout_batch_rewards (asset_id, reward_no);

-- Rotating refresh tokens with reuse detection (API sign-in).
CREATE TABLE refresh_tokens (
    id           BIGSERIAL PRIMARY KEY,
    wallet       BYTEA NOT NULL,
    family       UUID  NOT NULL,
    token_hash   BYTEA NOT NULL UNIQUE,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
