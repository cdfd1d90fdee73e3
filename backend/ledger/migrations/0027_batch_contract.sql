-- Upgrades (issue 44, contracts/UPGRADES.md §3): a payout batch names the Settlement contract it is signed for, fixed
-- with its nonce and deadline and never changed (the signature binds it). The API drains a replaced contract first: a
-- batch goes to the oldest wound-down contract whose available custody, less the batches already fixed to it and not
-- yet settled, covers the batch's total; otherwise to the live one. NULL: fixed before this migration, when a chain had
-- one contract — the chain's oldest contract still named in the chain spec.
ALTER TABLE payout_batches ADD COLUMN contract BYTEA CHECK (contract IS NULL OR length(contract) = 20);
