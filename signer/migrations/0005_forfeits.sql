-- Approved forfeits a liability root counted (issue 65, item 4; backend/SOLVENCY.md §1): each lets the roots measured
-- from one commitment — the one whose block is commit_block (0: before the first) — fall by its amount, and never
-- again once a later commitment is in. The first signed root that counts a forfeit records it; the id is the backend's.
CREATE TABLE IF NOT EXISTS counted_forfeits (
    chain_id     INTEGER NOT NULL,
    asset        TEXT    NOT NULL,
    id           INTEGER NOT NULL CHECK (id >= 0),
    amount       TEXT    NOT NULL,
    commit_block INTEGER NOT NULL CHECK (commit_block >= 0),
    counted_at   INTEGER NOT NULL,
    PRIMARY KEY (chain_id, asset, id)
);
