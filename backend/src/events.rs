//! Confirmed chain events as the ledger consumes them.
//!
//! The listener decodes logs with the `abi` crate's `sol!` types and maps them here; this
//! module only names the fields the ledger needs, so it does not restate the contract ABI.

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::plan::{Amount, PlanEvent};

/// Identity of a log: applying the same key twice must change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventKey {
    pub chain_id: u64,
    pub tx_hash: B256,
    pub log_index: u64,
}

/// A confirmed log, with its position in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEvent {
    pub key: EventKey,
    pub block_number: u64,
    /// Block time in seconds, used for timestamps in the ledger (so replays match).
    pub block_timestamp: u64,
    pub body: EventBody,
}

/// The contract events the ledger applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
#[non_exhaustive]
pub enum EventBody {
    /// `Registered(address indexed user, address indexed sponsor, address indexed token,
    /// uint256 amount, uint256 nonce)`
    Registered { user: Address, sponsor: Address, token: Address, amount: U256, nonce: U256 },
    /// `Retopped(address indexed user, address indexed token, uint256 amount, uint256 nonce)`
    Retopped { user: Address, token: Address, amount: U256, nonce: U256 },
    /// `PayoutBatchExecuted(uint256 indexed nonce, address indexed token, bytes32 payoutsHash, uint256 total,
    /// uint256 count, uint256 deferredCount, uint256 deferredTotal)`: every entry not deferred was paid.
    PayoutBatchExecuted {
        nonce: U256,
        token: Address,
        payouts_hash: B256,
        total: U256,
        count: U256,
        deferred_count: U256,
        deferred_total: U256,
    },
    /// `PayoutDeferred(uint256 indexed batchNonce, address indexed recipient, address indexed token,
    /// uint256 index, uint256 amount)`: the push failed; the amount is claimable on-chain.
    PayoutDeferred { batch_nonce: U256, recipient: Address, token: Address, index: U256, amount: U256 },
    /// `Claimed(address indexed account, address indexed token, address to, uint256 amount)`: `account` pulled
    /// what deferred payouts left it, to `to`.
    Claimed { account: Address, token: Address, to: Address, amount: U256 },
    /// `TreasuryTransferred(uint256 indexed nonce, address indexed token, address indexed to, uint256 amount)`:
    /// company funds left custody under a signed treasury transfer.
    TreasuryTransferred { nonce: U256, token: Address, to: Address, amount: U256 },
}

impl EventBody {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Registered { .. } => "Registered",
            Self::Retopped { .. } => "Retopped",
            Self::PayoutBatchExecuted { .. } => "PayoutBatchExecuted",
            Self::PayoutDeferred { .. } => "PayoutDeferred",
            Self::Claimed { .. } => "Claimed",
            Self::TreasuryTransferred { .. } => "TreasuryTransferred",
        }
    }

    /// The asset's token (zero address for the native coin).
    pub fn token(&self) -> Address {
        match self {
            Self::Registered { token, .. }
            | Self::Retopped { token, .. }
            | Self::PayoutBatchExecuted { token, .. }
            | Self::PayoutDeferred { token, .. }
            | Self::Claimed { token, .. }
            | Self::TreasuryTransferred { token, .. } => *token,
        }
    }

    /// Money the contract received with this event.
    pub fn inflow(&self) -> U256 {
        match self {
            Self::Registered { amount, .. } | Self::Retopped { amount, .. } => *amount,
            Self::PayoutBatchExecuted { .. }
            | Self::PayoutDeferred { .. }
            | Self::Claimed { .. }
            | Self::TreasuryTransferred { .. } => U256::ZERO,
        }
    }

    /// The plan event, if this event is one. Amounts beyond u128 saturate, which no plan fee
    /// equals, so they are refused as a wrong amount.
    pub fn plan_event(&self) -> Option<PlanEvent> {
        let amount = |a: &U256| Amount::try_from(*a).unwrap_or(Amount::MAX);
        match self {
            Self::Registered { user, sponsor, amount: a, .. } => {
                Some(PlanEvent::Registration { user: *user, sponsor: *sponsor, amount: amount(a) })
            }
            Self::Retopped { user, amount: a, .. } => Some(PlanEvent::Retopup { user: *user, amount: amount(a) }),
            Self::PayoutBatchExecuted { .. }
            | Self::PayoutDeferred { .. }
            | Self::Claimed { .. }
            | Self::TreasuryTransferred { .. } => None,
        }
    }
}

impl ChainEvent {
    /// Chain order: block number, then log index.
    pub fn position(&self) -> (u64, u64) {
        (self.block_number, self.key.log_index)
    }
}
