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

/// The contract events the ledger applies. Payout, claim and treasury events come later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
#[non_exhaustive]
pub enum EventBody {
    /// `Registered(address indexed user, address indexed sponsor, address indexed token,
    /// uint256 amount, uint256 nonce)`
    Registered { user: Address, sponsor: Address, token: Address, amount: U256, nonce: U256 },
    /// `Retopped(address indexed user, address indexed token, uint256 amount, uint256 nonce)`
    Retopped { user: Address, token: Address, amount: U256, nonce: U256 },
}

impl EventBody {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Registered { .. } => "Registered",
            Self::Retopped { .. } => "Retopped",
        }
    }

    /// The asset's token (zero address for the native coin).
    pub fn token(&self) -> Address {
        match self {
            Self::Registered { token, .. } | Self::Retopped { token, .. } => *token,
        }
    }

    /// Money the contract received with this event.
    pub fn inflow(&self) -> U256 {
        match self {
            Self::Registered { amount, .. } | Self::Retopped { amount, .. } => *amount,
        }
    }

    /// The plan event, if this event is one. Amounts beyond u128 saturate, which no plan fee
    /// equals, so they are refused as a wrong amount.
    pub fn plan_event(&self) -> PlanEvent {
        let amount = |a: &U256| Amount::try_from(*a).unwrap_or(Amount::MAX);
        match self {
            Self::Registered { user, sponsor, amount: a, .. } => {
                PlanEvent::Registration { user: *user, sponsor: *sponsor, amount: amount(a) }
            }
            Self::Retopped { user, amount: a, .. } => PlanEvent::Retopup { user: *user, amount: amount(a) },
        }
    }
}

impl ChainEvent {
    /// Chain order: block number, then log index.
    pub fn position(&self) -> (u64, u64) {
        (self.block_number, self.key.log_index)
    }
}
