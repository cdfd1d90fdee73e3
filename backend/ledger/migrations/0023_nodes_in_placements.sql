-- A pool node is kept in the row of the placement that created it (issue 31: rows written per event). Each
-- placement created exactly one node and each node had exactly one placement, with the same asset, level, queue
-- position and owner; the placement row now also holds the node's status and completion. `pool_nodes` stays as a
-- view of the same columns.
ALTER TABLE placements
    ADD COLUMN status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed')),
    ADD COLUMN completed_block BIGINT,
    ADD COLUMN completed_at    TIMESTAMPTZ;

DO $$
BEGIN
    IF (SELECT count(*) FROM pool_nodes) <> (SELECT count(*) FROM placements)
       OR EXISTS (SELECT 1 FROM pool_nodes n WHERE NOT EXISTS (
                    SELECT 1 FROM placements p
                     WHERE p.asset_id = n.asset_id AND p.placement_no = n.placement_no AND p.level = n.level
                       AND p.q = n.q AND p.owner_no = n.owner_no)) THEN
        RAISE EXCEPTION 'pool_nodes and placements are not one-to-one';
    END IF;
END $$;

UPDATE placements p SET status = n.status, completed_block = n.completed_block, completed_at = n.completed_at
FROM pool_nodes n
WHERE n.asset_id = p.asset_id AND n.placement_no = p.placement_no AND n.status = 'completed';

DROP TABLE pool_nodes;

ALTER TABLE placements ALTER COLUMN status DROP DEFAULT;
-- A node's completion updates its row: room for HOT updates (status is not indexed).
ALTER TABLE placements SET (fillfactor = 90);
-- A user's nodes per level.
CREATE INDEX placements_owner ON placements (asset_id, owner_no, level);

CREATE VIEW pool_nodes AS
SELECT asset_id, level, q, owner_no, placement_no, status, completed_block, completed_at FROM placements;
