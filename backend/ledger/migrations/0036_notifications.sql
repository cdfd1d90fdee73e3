-- Members and operators are told (issue 49): one outbox.
--
-- Every change a member or an operator should hear of becomes a `notifications` row in the same transaction as the
-- ledger change that causes it, written by the triggers below — so no code path (the listener, a replay, an admin's
-- freeze, a worker) can change the ledger without its notification, and a crash at any point loses none and invents
-- none. Each row's id is derived from its cause (the event, the batch and member, the period, the epoch), and every
-- insert is `ON CONFLICT DO NOTHING`: the same cause never makes two notifications, whatever runs twice.
--
-- Delivery is separate: the notifier fans each new row out to its sinks (a member's confirmed e-mail address, the
-- operators' webhook endpoints) as delivery rows, and delivers those with retries, backoff and a dead-letter state.
-- The notification's id is the webhook's `webhook-id` and the e-mail's Message-ID, so a retry after a crash repeats
-- the same id and a receiver keeps one.

CREATE TABLE notifications (
    id            TEXT        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    -- Order of writing (the centre's pages); not gap-free and not commit order: nothing uses it as a cursor of work.
    seq           BIGSERIAL   NOT NULL UNIQUE,
    kind          TEXT        NOT NULL CHECK (kind IN (
        'payment.applied', 'payment.expired', 'reward.credited', 'period.bonus', 'rank.reached', 'payout.sent', 'payout.paid',
        'payout.deferred', 'account.frozen', 'account.unfrozen', 'solvency.committed', 'exit.opened')),
    asset_id      INTEGER     NOT NULL,
    -- The member it is about, and their wallet (a payment's expiry names the wallet only: it may not be a member yet;
    -- a reward's wallet is filled in at fan-out); both NULL for news of the whole asset (every member of it sees it).
    user_no       INTEGER,
    address       BYTEA       CHECK (length(address) = 20),
    data          JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set once the notifier created its delivery rows.
    fanned_out_at TIMESTAMPTZ
);
CREATE INDEX notifications_member ON notifications (address, seq) WHERE address IS NOT NULL;
CREATE INDEX notifications_asset_news ON notifications (asset_id, seq) WHERE address IS NULL AND user_no IS NULL;
CREATE INDEX notifications_to_fan_out ON notifications (seq) WHERE fanned_out_at IS NULL;
CREATE INDEX notifications_user_kind ON notifications (asset_id, user_no, kind) WHERE user_no IS NOT NULL;

-- What a member has read: everything up to `through_seq`, and single ones above it.
CREATE TABLE notification_read_marks (
    address     BYTEA  PRIMARY KEY CHECK (length(address) = 20),
    through_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE notification_reads (
    address BYTEA  NOT NULL CHECK (length(address) = 20),
    seq     BIGINT NOT NULL,
    read_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (address, seq)
);

-- The executing transaction of a batch (from its PayoutBatchExecuted event): the members' payout notices link it.
ALTER TABLE payout_batches ADD COLUMN executed_tx BYTEA CHECK (length(executed_tx) = 32);

-- ── The triggers ────────────────────────────────────────────────────────────────────────────────────────────────

-- A payment applied (registration or retopup/purchase): one notification per event.
CREATE FUNCTION notify_payments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, user_no, address, data)
    SELECT 'payment.applied:' || e.chain_id || ':' || encode(e.tx_hash, 'hex') || ':' || e.log_index,
           'payment.applied', e.asset_id, e.user_no, decode(substr(e.payload ->> 'user', 3), 'hex'),
           jsonb_build_object('payment', e.kind, 'amount', e.amount::text, 'chain_id', e.chain_id,
                              'tx_hash', '0x' || encode(e.tx_hash, 'hex'), 'block_number', e.block_number,
                              'block_timestamp', e.block_timestamp, 'plan_version', e.plan_version)
      FROM new_events e
     WHERE e.outcome = 'applied' AND e.kind IS NOT NULL AND e.user_no IS NOT NULL AND e.payload ? 'user'
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER chain_events_notify AFTER INSERT ON chain_events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_payments();

-- Rewards credited: one notification per member and block (not per row) for those an event caused, named by the
-- first reward's number; one per member, period and kind for a period's close (a rank or pair bonus).
-- Rewards credited: one notification per member and statement — the listener writes a batch of whole blocks in one
-- statement, so one per member and block or fewer, never one per row — named by the first reward's number; one per
-- member, period and kind for a period's close (a rank or pair bonus). This runs on the listener's hot path, so it
-- joins nothing: a join to `users` or `chain_events` here let the planner pick a non-unique index on tables that grew
-- faster than their statistics (forty times slower in the apply benchmark). The member's wallet is filled in by the
-- notifier's fan-out; the centre finds the member's rows by (asset, user) until then.
CREATE FUNCTION notify_rewards() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, user_no, data)
    SELECT 'reward.credited:' || r.asset_id || ':' || r.beneficiary_no || ':' || min(r.reward_no),
           'reward.credited', r.asset_id, r.beneficiary_no,
           jsonb_build_object('amount', sum(r.amount)::text, 'rewards', count(*),
                              'reserved', coalesce(sum(r.amount) FILTER (WHERE r.status = 'reserved'), 0)::text,
                              'held', coalesce(sum(r.amount) FILTER (WHERE r.status = 'held'), 0)::text,
                              'kinds', to_jsonb(array_agg(DISTINCT r.kind ORDER BY r.kind)),
                              'first_reward_no', min(r.reward_no), 'last_reward_no', max(r.reward_no),
                              'first_event_seq', min(r.event_seq), 'last_event_seq', max(r.event_seq))
      FROM new_rewards r
     WHERE r.period IS NULL
     GROUP BY r.asset_id, r.beneficiary_no
    ON CONFLICT (id) DO NOTHING;

    INSERT INTO notifications (id, kind, asset_id, user_no, data)
    SELECT 'period.bonus:' || r.asset_id || ':' || r.period || ':' || r.kind || ':' || r.beneficiary_no,
           'period.bonus', r.asset_id, r.beneficiary_no,
           jsonb_build_object('period', r.period, 'bonus', r.kind, 'amount', sum(r.amount)::text,
                              'reserved', coalesce(sum(r.amount) FILTER (WHERE r.status = 'reserved'), 0)::text,
                              'held', coalesce(sum(r.amount) FILTER (WHERE r.status = 'held'), 0)::text)
      FROM new_rewards r
     WHERE r.period IS NOT NULL
     GROUP BY r.asset_id, r.period, r.kind, r.beneficiary_no
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER rewards_notify AFTER INSERT ON rewards REFERENCING NEW TABLE AS new_rewards
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rewards();

-- A rank reached: the first close at which a member holds a rank (each rank once, ever).
CREATE FUNCTION notify_ranks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, user_no, address, data)
    SELECT 'rank.reached:' || NEW.asset_id || ':' || (r ->> 'user') || ':' || (r ->> 'rank'),
           'rank.reached', NEW.asset_id, (r ->> 'user')::int, u.address,
           jsonb_build_object('rank', (r ->> 'rank')::int, 'period', NEW.period, 'plan_version', NEW.plan_version)
      FROM jsonb_array_elements(NEW.ranked) r
      JOIN users u ON u.asset_id = NEW.asset_id AND u.user_no = (r ->> 'user')::int
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER period_closes_notify AFTER INSERT ON period_closes FOR EACH ROW EXECUTE FUNCTION notify_ranks();

-- A payout batch sent (its first transaction) and executed (paid, or deferred to a claim), per recipient, with the
-- amount sent (net), the fee withheld and their sum. Deferred to the commit: the transaction's hash is recorded after
-- the batch's status moves.
CREATE FUNCTION notify_payouts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sent_tx BYTEA;
BEGIN
    IF NEW.status = 'submitted' THEN
        SELECT t.tx_hash INTO sent_tx FROM transactions t WHERE t.id = NEW.transaction_id;
        INSERT INTO notifications (id, kind, asset_id, user_no, address, data)
        SELECT 'payout.sent:' || NEW.id || ':' || i.user_no, 'payout.sent', NEW.asset_id, i.user_no, u.address,
               jsonb_build_object('batch_id', NEW.id, 'gross', (i.amount + i.fee)::text, 'fee', i.fee::text,
                                  'net', i.amount::text, 'chain_id', a.chain_id,
                                  'tx_hash', CASE WHEN sent_tx IS NULL THEN NULL ELSE '0x' || encode(sent_tx, 'hex') END)
          FROM payout_batch_items i
          JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
          JOIN assets a ON a.id = NEW.asset_id
         WHERE i.batch_id = NEW.id
        ON CONFLICT (id) DO NOTHING;
    ELSIF NEW.status = 'executed' THEN
        INSERT INTO notifications (id, kind, asset_id, user_no, address, data)
        SELECT CASE WHEN i.outcome = 'claimable' THEN 'payout.deferred:' ELSE 'payout.paid:' END || NEW.id || ':' || i.user_no,
               CASE WHEN i.outcome = 'claimable' THEN 'payout.deferred' ELSE 'payout.paid' END,
               NEW.asset_id, i.user_no, u.address,
               jsonb_build_object('batch_id', NEW.id, 'gross', (i.amount + i.fee)::text, 'fee', i.fee::text,
                                  'net', i.amount::text, 'chain_id', a.chain_id, 'block_number', NEW.executed_block,
                                  'tx_hash', CASE WHEN NEW.executed_tx IS NULL THEN NULL
                                                  ELSE '0x' || encode(NEW.executed_tx, 'hex') END)
          FROM payout_batch_items i
          JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
          JOIN assets a ON a.id = NEW.asset_id
         WHERE i.batch_id = NEW.id AND i.outcome IS NOT NULL
        ON CONFLICT (id) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER payout_batches_notify AFTER UPDATE OF status ON payout_batches
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.status IN ('submitted', 'executed') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_payouts();

-- A freeze or an unfreeze, numbered per member.
CREATE FUNCTION notify_freezes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k TEXT := CASE WHEN NEW.frozen THEN 'account.frozen' ELSE 'account.unfrozen' END;
    n BIGINT;
BEGIN
    SELECT count(*) + 1 INTO n FROM notifications
     WHERE asset_id = NEW.asset_id AND user_no = NEW.user_no AND kind IN ('account.frozen', 'account.unfrozen');
    INSERT INTO notifications (id, kind, asset_id, user_no, address, data)
    VALUES (k || ':' || NEW.asset_id || ':' || NEW.user_no || ':' || n, k, NEW.asset_id, NEW.user_no, NEW.address,
            jsonb_build_object('frozen', NEW.frozen))
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER users_notify_freeze AFTER UPDATE OF frozen ON users FOR EACH ROW
    WHEN (OLD.frozen IS DISTINCT FROM NEW.frozen) EXECUTE FUNCTION notify_freezes();

-- News of the whole asset: a proof of solvency committed, the members' exit opened.
CREATE FUNCTION notify_solvency() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, data)
    SELECT 'solvency.committed:' || NEW.asset_id || ':' || NEW.epoch, 'solvency.committed', NEW.asset_id,
           jsonb_build_object('epoch', NEW.epoch, 'root', '0x' || encode(NEW.root, 'hex'), 'total', NEW.total::text,
                              'custody', NEW.custody::text, 'leaves', NEW.leaf_count, 'chain_id', a.chain_id,
                              'block_number', NEW.committed_block,
                              'tx_hash', CASE WHEN NEW.committed_tx IS NULL THEN NULL
                                              ELSE '0x' || encode(NEW.committed_tx, 'hex') END)
      FROM assets a WHERE a.id = NEW.asset_id
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER solvency_epochs_notify AFTER UPDATE OF status ON solvency_epochs FOR EACH ROW
    WHEN (NEW.status = 'committed' AND OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION notify_solvency();

CREATE FUNCTION notify_exits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, data)
    SELECT 'exit.opened:' || NEW.asset_id || ':' || encode(NEW.contract, 'hex'), 'exit.opened', NEW.asset_id,
           jsonb_build_object('contract', '0x' || encode(NEW.contract, 'hex'), 'custody', NEW.custody::text,
                              'chain_id', a.chain_id, 'block_number', NEW.opened_block,
                              'tx_hash', '0x' || encode(NEW.opened_tx, 'hex'))
      FROM assets a WHERE a.id = NEW.asset_id
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER settlement_exits_notify AFTER INSERT ON settlement_exits FOR EACH ROW EXECUTE FUNCTION notify_exits();

-- A payment's expiry: a register or retopup payload whose deadline passed, by the chain's clock (the time of a
-- confirmed block the ledger applied), with no confirmed event using its nonce. Written by the listener's transaction
-- (ledger::notify::expire_payments), which moves this cursor: every deadline up to `through` was looked at, once.
CREATE TABLE notify_expiry_cursors (
    chain_id BIGINT PRIMARY KEY,
    through  BIGINT NOT NULL
);
CREATE INDEX transactions_payment_deadline ON transactions (deadline) WHERE kind IN ('register', 'retopup');

-- ── Sinks ───────────────────────────────────────────────────────────────────────────────────────────────────────

-- Operators' webhook endpoints (Standard Webhooks). Secrets are sealed with the notifier's key (never stored in the
-- clear); during a rotation the previous secret also signs until `previous_until`.
CREATE TABLE webhook_endpoints (
    id              BIGSERIAL   PRIMARY KEY,
    url             TEXT        NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description     TEXT        NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    -- Event types delivered; empty: all.
    kinds           TEXT[]      NOT NULL DEFAULT '{}',
    secret_sealed   BYTEA       NOT NULL,
    previous_sealed BYTEA,
    previous_until  TIMESTAMPTZ,
    enabled         BOOLEAN     NOT NULL DEFAULT true,
    disabled_reason TEXT,
    created_by      TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((previous_sealed IS NULL) = (previous_until IS NULL))
);

CREATE TABLE webhook_deliveries (
    notification_id  TEXT        NOT NULL REFERENCES notifications (id),
    endpoint_id      BIGINT      NOT NULL REFERENCES webhook_endpoints (id),
    status           TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    first_attempt_at TIMESTAMPTZ,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A worker that took it holds it until then; after a crash another takes it again (same id: at least once).
    lease_until      TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (notification_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);

CREATE TABLE webhook_attempts (
    id              BIGSERIAL   PRIMARY KEY,
    notification_id TEXT        NOT NULL,
    endpoint_id     BIGINT      NOT NULL,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_code     INTEGER,
    error           TEXT,
    duration_ms     INTEGER     NOT NULL,
    FOREIGN KEY (notification_id, endpoint_id) REFERENCES webhook_deliveries (notification_id, endpoint_id)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (notification_id, endpoint_id, id);

-- A member's e-mail address: the only personal data kept. Sealed with the key from the environment, shown masked,
-- erased on request (the row deleted; an audit row records that it was, not what it was).
CREATE TABLE member_contacts (
    address         BYTEA       PRIMARY KEY CHECK (length(address) = 20),
    email_sealed    BYTEA       NOT NULL,
    email_masked    TEXT        NOT NULL CHECK (length(email_masked) <= 320),
    language        TEXT        NOT NULL CHECK (length(language) BETWEEN 2 AND 8),
    kinds           TEXT[]      NOT NULL,
    -- Links (confirm, unsubscribe) are MACs over the address and this: replaced at each change, so old links die.
    token_nonce     BYTEA       NOT NULL CHECK (length(token_nonce) = 16),
    requested_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at    TIMESTAMPTZ,
    unsubscribed_at TIMESTAMPTZ
);

CREATE TABLE email_deliveries (
    -- The notification's id and the member's address, or 'confirm:' with the address and the token nonce.
    id              TEXT        PRIMARY KEY CHECK (length(id) <= 300),
    notification_id TEXT        REFERENCES notifications (id),
    address         BYTEA       NOT NULL CHECK (length(address) = 20),
    purpose         TEXT        NOT NULL CHECK (purpose IN ('notification', 'confirm')),
    status          TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'cancelled')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until     TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((purpose = 'notification') = (notification_id IS NOT NULL))
);
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at) WHERE status = 'pending';
