-- A sales-plan asset's solvency leaves have a sixth component (SOLVENCY.md's 0x03 leaves): the member's retail
-- commissions still maturing. NULL in every other asset's leaves, which are five-component 0x00 leaves: the column's
-- presence, not its value, says which kind a stored leaf is.
ALTER TABLE solvency_leaves ADD COLUMN maturing NUMERIC(78,0) CHECK (maturing >= 0);
