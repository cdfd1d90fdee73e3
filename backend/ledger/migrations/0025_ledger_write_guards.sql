-- Nothing edits the ledger behind its back (issue 43). The compatibility views of 0020-0023 (`user_balances`,
-- `ledger_events`, `retopups`, `pool_nodes`) were simple views, so Postgres wrote through them: `DELETE FROM
-- user_balances` deleted the user, `DELETE FROM ledger_events` the raw chain event, `UPDATE user_balances SET
-- pending = 0` lowered a liability. They are read-only now, and the ledger's own records refuse what none of its code
-- paths does:
--   * `chain_events` (the raw events, with their ledger records) and `company_credits` are written once: no update,
--     no delete;
--   * `rewards`: no delete; what a reward is (asset, number, beneficiary, kind, level, amount, the event, placement,
--     plan version and week that caused it) never changes; `paid` only grows, and only by parts leaving `in_flight`
--     (a settlement), so no update can mark a reward paid that no batch paid. Status moves (freeze, forfeit,
--     batching, cancelling) and `in_flight`/`batch_id` stay the payout paths' own;
--   * TRUNCATE of the three tables.
--
-- Why triggers and not privileges: every service migrates at its start, so the services' database user owns these
-- tables, and an owner keeps every privilege it could revoke (it may grant it back to itself). A trigger holds
-- against any DML of any role — the owner and a superuser included — so an operator connected as the services'
-- user who deletes or rewrites a row is refused and nothing changes. What still gets past it is DDL, deliberately:
-- `ALTER TABLE … DISABLE TRIGGER` or `DROP TRIGGER` (the owner or a superuser) and `session_replication_role =
-- replica` (a superuser only). A deployment that wants those closed too runs the services as a role that does not
-- own the schema (the migrator role owns it and applies the migrations); the triggers are the same there.
-- A future migration that must rewrite these rows disables a trigger for the length of its own transaction.

CREATE FUNCTION ledger_view_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is a read-only view of the ledger: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the ledger writes its own tables; see migration 0025_ledger_write_guards';
END $$;

CREATE TRIGGER user_balances_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON user_balances
    FOR EACH ROW EXECUTE FUNCTION ledger_view_read_only();
CREATE TRIGGER ledger_events_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_view_read_only();
CREATE TRIGGER retopups_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON retopups
    FOR EACH ROW EXECUTE FUNCTION ledger_view_read_only();
CREATE TRIGGER pool_nodes_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON pool_nodes
    FOR EACH ROW EXECUTE FUNCTION ledger_view_read_only();
-- No role but the owner (the migrator) holds any privilege on the views but reading them.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON user_balances, ledger_events, retopups, pool_nodes FROM PUBLIC;

-- Rows written once.
CREATE FUNCTION ledger_row_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are written once by the ledger: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the ledger writes its own tables; see migration 0025_ledger_write_guards';
END $$;

CREATE TRIGGER chain_events_written_once BEFORE UPDATE OR DELETE ON chain_events
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
CREATE TRIGGER chain_events_no_truncate BEFORE TRUNCATE ON chain_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_row_written_once();
CREATE TRIGGER company_credits_written_once BEFORE UPDATE OR DELETE ON company_credits
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
CREATE TRIGGER company_credits_no_truncate BEFORE TRUNCATE ON company_credits
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_row_written_once();

-- A reward: its identity and amount fixed, paid only by settling parts in flight, never deleted.
CREATE FUNCTION rewards_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'rewards rows are never deleted: % is refused', TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the ledger writes its own tables; see migration 0025_ledger_write_guards';
    END IF;
    IF (NEW.asset_id, NEW.reward_no, NEW.beneficiary_no, NEW.kind, NEW.level, NEW.amount, NEW.placement_no,
        NEW.event_seq, NEW.plan_version, NEW.period)
       IS DISTINCT FROM
       (OLD.asset_id, OLD.reward_no, OLD.beneficiary_no, OLD.kind, OLD.level, OLD.amount, OLD.placement_no,
        OLD.event_seq, OLD.plan_version, OLD.period) THEN
        RAISE EXCEPTION 'reward %/% cannot change what it is (beneficiary, kind, level, amount, cause)',
            OLD.asset_id, OLD.reward_no
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the ledger writes its own tables; see migration 0025_ledger_write_guards';
    END IF;
    IF NEW.paid < OLD.paid OR (NEW.paid > OLD.paid AND NEW.paid - OLD.paid <> OLD.in_flight - NEW.in_flight) THEN
        RAISE EXCEPTION 'reward %/%: paid % → % is not a settlement of parts in flight (in flight % → %)',
            OLD.asset_id, OLD.reward_no, OLD.paid, NEW.paid, OLD.in_flight, NEW.in_flight
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the ledger writes its own tables; see migration 0025_ledger_write_guards';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER rewards_guard BEFORE UPDATE OR DELETE ON rewards
    FOR EACH ROW EXECUTE FUNCTION rewards_guard();
CREATE TRIGGER rewards_no_truncate BEFORE TRUNCATE ON rewards
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_row_written_once();
