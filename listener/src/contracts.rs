//! The contracts a chain's listener follows: the live Settlement and those an upgrade replaced, still followed while
//! they are wound down (the chain spec's `[[chains.previous]]`, `ops/upgrades.md`). Each is recorded once in the
//! ledger (`chain_contracts`) with the first block whose events the ledger has of it:
//!
//! * a contract the listener learns of before its cursor reaches the contract's deployment block is followed from
//!   that block, with the others, in chain order;
//! * one added to the chain spec after the cursor passed its deployment block is read once, from that block to the
//!   cursor. If the ledger already has every event of it it applies (a ledger built before contracts were recorded,
//!   by a listener that followed it), it is followed from its deployment block; if it has no such event, from the
//!   block after the cursor. If the ledger lacks any, the chain is not followed at all: those events cannot be
//!   applied now without breaking chain order, and following the contract from here would leave them out of the
//!   ledger for good. The listener stops naming them ([`ListenerError::ContractNotFollowed`]).
//!
//! A recorded contract that is no longer in the chain spec is no longer read; the reconciler, which counts the
//! custody of the spec's contracts only, pages if it still held money the ledger owes.

use alloy::{primitives::Address, providers::Provider};
use ledger::FollowedContract;

use crate::{
    decode::ledger_event_of,
    service::{ChainListener, ListenerError},
};

/// Event keys looked up in the ledger at once.
const KEYS_PER_LOOKUP: usize = 10_000;

impl<P: Provider> ChainListener<P> {
    /// Records each followed contract not recorded yet, as the module says; an error when the ledger lacks events of
    /// one added late (nothing recorded for it then).
    pub async fn follow_contracts(&self) -> Result<(), ListenerError> {
        let chain_id = self.ledger().chain_id();
        let pool = self.ledger().pool();
        let recorded = ledger::followed_contracts(pool, chain_id).await?;
        let (cursor, _) = self.ledger().listener_state().await?;
        for &(contract, start_block) in self.contracts() {
            if recorded.iter().any(|r| r.contract == contract) {
                continue;
            }
            let followed_from = match cursor {
                Some(cursor) if cursor.number >= start_block => {
                    let logs = self.follower().contract_logs(contract, start_block, cursor.number).await?;
                    let events: Vec<_> = logs.iter().filter_map(|log| ledger_event_of(chain_id, log)).collect();
                    let mut missing = Vec::new();
                    for chunk in events.chunks(KEYS_PER_LOOKUP) {
                        let keys: Vec<_> = chunk.iter().map(|e| e.key).collect();
                        let stored = ledger::event_outcomes(pool, chain_id, &keys).await?;
                        missing.extend(chunk.iter().filter(|e| !stored.contains_key(&e.key)));
                    }
                    if let (Some(first), Some(last)) = (missing.first(), missing.last()) {
                        return Err(ListenerError::ContractNotFollowed {
                            chain_id,
                            contract,
                            missing: missing.len(),
                            first_block: first.block_number,
                            last_block: last.block_number,
                            cursor: cursor.number,
                        });
                    }
                    if events.is_empty() { cursor.number + 1 } else { start_block }
                }
                _ => start_block,
            };
            let followed = FollowedContract { contract, start_block, followed_from };
            ledger::record_followed_contract(pool, chain_id, followed).await?;
            tracing::info!(chain_id, %contract, start_block, followed_from, "following contract");
        }
        let following: Vec<Address> = self.contracts().iter().map(|(c, _)| *c).collect();
        for gone in recorded.iter().filter(|r| !following.contains(&r.contract)) {
            tracing::warn!(
                chain_id,
                contract = %gone.contract,
                "a contract followed before is no longer in the chain spec: its events are no longer read"
            );
        }
        Ok(())
    }
}
