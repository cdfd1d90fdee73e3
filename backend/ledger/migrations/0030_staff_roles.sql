-- Staff roles (issue 45, backend/STAFF.md §2): what each staff wallet may do in the API, per deployment. A wallet
-- may hold several roles. Rows are written only by an applied change of `staff_role_changes` (or, once, by the
-- configuration's seed on an empty table), so every role a wallet holds names the change that granted it.
--
-- The roles decide what the API lets a wallet see and ask for; what can move money is the signer's own list of
-- proposers and approvers (`[policy.approvals]`), never this table.
CREATE TABLE staff_role_changes (
    id              BIGSERIAL PRIMARY KEY,
    action          TEXT        NOT NULL CHECK (action IN ('grant', 'revoke')),
    wallet          BYTEA       NOT NULL CHECK (length(wallet) = 20),
    role            TEXT        NOT NULL CHECK (role IN ('viewer', 'support', 'finance', 'approver', 'admin')),
    reason          TEXT        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    -- The admin who proposed it, or NULL for the configuration's seed.
    proposer        BYTEA       CHECK (length(proposer) = 20),
    proposed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- proposed → applied (an approver other than the proposer agreed, or no such approver existed yet: a team of
    -- one), rejected (by an approver, with a reason) or withdrawn (by its proposer).
    status          TEXT        NOT NULL DEFAULT 'proposed'
                                CHECK (status IN ('proposed', 'applied', 'rejected', 'withdrawn')),
    decided_by      BYTEA       CHECK (length(decided_by) = 20),
    decided_at      TIMESTAMPTZ,
    decision_reason TEXT        CHECK (length(decision_reason) <= 500),
    CHECK ((status = 'proposed') = (decided_at IS NULL))
);
-- One open change per wallet and role: a second proposal of the same would be approved twice.
CREATE UNIQUE INDEX staff_role_changes_open ON staff_role_changes (wallet, role) WHERE status = 'proposed';
CREATE INDEX staff_role_changes_recent ON staff_role_changes (id DESC);

CREATE TABLE staff_roles (
    wallet      BYTEA       NOT NULL CHECK (length(wallet) = 20),
    role        TEXT        NOT NULL CHECK (role IN ('viewer', 'support', 'finance', 'approver', 'admin')),
    change_id   BIGINT      NOT NULL REFERENCES staff_role_changes (id),
    granted_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (wallet, role)
);

-- The last admin cannot be removed, by any path: a delete that would leave no admin is refused here too, not only by
-- the API's check. (Changes are applied under `LOCK TABLE staff_roles IN EXCLUSIVE MODE`, so two revocations approved
-- at once cannot each see the other's admin still there.)
CREATE FUNCTION staff_roles_keep_an_admin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role = 'admin' AND NOT EXISTS (SELECT 1 FROM staff_roles WHERE role = 'admin') THEN
        RAISE EXCEPTION 'the last admin cannot be removed'
            USING ERRCODE = 'check_violation', HINT = 'grant admin to another wallet first';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER staff_roles_keep_an_admin AFTER DELETE ON staff_roles
    DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION staff_roles_keep_an_admin();
