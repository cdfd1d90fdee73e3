//! Confirmed chain events as the ledger consumes them.
//!
//! The listener decodes logs with the `abi` crate's `sol!` types and maps them here; this
//! module only names the fields the ledger needs, so it does not restate the contract ABI.

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::plan::{Amount, PlanEvent, SaleEvent};

/// Identity of a log: applying the same key twice must change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventKey {
    /// Chain the log was emitted on.
    pub chain_id: u64,
    /// Transaction that emitted the log.
    pub tx_hash: B256,
    /// Index of the log within its block, as the node reports it (second key of chain order).
    pub log_index: u64,
}

/// A confirmed log, with its position in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEvent {
    /// Identity used to skip an event already stored.
    pub key: EventKey,
    /// The contract that emitted it: the chain's live Settlement, or one an upgrade replaced that is still followed.
    pub contract: Address,
    /// Confirmed block holding the log; also selects the plan version in force.
    pub block_number: u64,
    /// Block time in seconds, used for timestamps in the ledger (so replays match).
    pub block_timestamp: u64,
    /// The decoded contract event.
    pub body: EventBody,
}

/// The contract events the ledger applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
#[non_exhaustive]
pub enum EventBody {
    /// `Registered(address indexed user, address indexed sponsor, address indexed token,
    /// uint256 amount, uint256 nonce)`
    Registered {
        /// Wallet that paid the fee and becomes a user of the asset.
        user: Address,
        /// Referrer the user registers under, fixed for life; must already be a user of the asset.
        sponsor: Address,
        /// Asset paid in (zero address for the native coin); selects the ledger's asset.
        token: Address,
        /// Base units paid in; the plan refuses it unless it equals the registration fee in force.
        amount: U256,
        /// Nonce of the signed registration payload, spent on-chain.
        nonce: U256,
    },
    /// `Retopped(address indexed user, address indexed token, uint256 amount, uint256 nonce)`
    Retopped {
        /// Registered user who paid the retopup and now earns LEVEL income.
        user: Address,
        /// Asset paid in (zero address for the native coin); selects the ledger's asset.
        token: Address,
        /// Base units paid in; the plan refuses it unless it equals the retopup fee in force.
        amount: U256,
        /// Nonce of the signed retopup payload, spent on-chain.
        nonce: U256,
    },
    /// `PayoutBatchExecuted(uint256 indexed nonce, address indexed token, bytes32 payoutsHash, uint256 total,
    /// uint256 count, uint256 deferredCount, uint256 deferredTotal)`: every entry not deferred was paid.
    PayoutBatchExecuted {
        /// The batch's contract nonce; identifies the ledger batch ([`crate::payouts::batch_nonce`]).
        nonce: U256,
        /// Asset paid out (zero address for the native coin).
        token: Address,
        /// Hash of the payouts as signed; must match the ledger batch's stored hash.
        payouts_hash: B256,
        /// Sum of all entries, pushed or deferred.
        total: U256,
        /// Number of entries in the batch.
        count: U256,
        /// Entries whose push failed and became claimable (each has a `PayoutDeferred` event).
        deferred_count: U256,
        /// Sum of the deferred entries.
        deferred_total: U256,
    },
    /// `PayoutDeferred(uint256 indexed batchNonce, address indexed recipient, address indexed token,
    /// uint256 index, uint256 amount)`: the push failed; the amount is claimable on-chain.
    PayoutDeferred {
        /// Nonce of the executed batch holding the entry, as in its `PayoutBatchExecuted` event.
        batch_nonce: U256,
        /// User whose push failed; they now pull the amount with `claim`.
        recipient: Address,
        /// Asset of the payout (zero address for the native coin).
        token: Address,
        /// Position of the entry in the signed batch's payouts.
        index: U256,
        /// Base units credited to the recipient's claimable balance instead of pushed.
        amount: U256,
    },
    /// `Claimed(address indexed account, address indexed token, address to, uint256 amount)`: `account` pulled
    /// what deferred payouts left it, to `to`.
    Claimed {
        /// User whose claimable balance was emptied (the caller of `claim`).
        account: Address,
        /// Asset claimed (zero address for the native coin).
        token: Address,
        /// Wallet that received the funds; may differ from `account` (e.g. a contract rejecting pushes).
        to: Address,
        /// Base units that left custody: the account's whole claimable balance.
        amount: U256,
    },
    /// `TreasuryTransferred(uint256 indexed nonce, address indexed token, address indexed to, uint256 amount)`:
    /// company funds left custody under a signed treasury transfer.
    TreasuryTransferred {
        /// Nonce of the signed transfer; matches the `chain_nonce` of its `treasury_transfers` row.
        nonce: U256,
        /// Asset moved (zero address for the native coin).
        token: Address,
        /// Operator wallet that received the company funds.
        to: Address,
        /// Base units taken out of custody against the company's share.
        amount: U256,
    },
    /// `LiabilitiesCommitted(address indexed token, uint64 indexed epoch, uint64 asOfBlock, bytes32 root,
    /// uint128 total, uint32 leafCount, bytes32 planHash, uint256 custody)`: a proof-of-solvency root committed
    /// beside the custody the contract read (SOLVENCY.md). Moves no money.
    LiabilitiesCommitted {
        /// Asset whose liabilities these are (zero address for the native coin).
        token: Address,
        /// The commitment's number.
        epoch: u64,
        /// The confirmed block the liabilities were read at.
        as_of_block: u64,
        /// The Merkle-sum root.
        root: B256,
        /// The root's sum: every user's liabilities.
        total: U256,
        /// Users' leaves.
        leaf_count: u32,
        /// keccak256 of the plan versions in force.
        plan_hash: B256,
        /// The contract's balance of the token when it committed.
        custody: U256,
    },
    /// `ExitOpened(address indexed token, uint256 custody)`: the token's members' exit opened for good (contracts/
    /// EXIT.md); `custody` (the balance less what is claimable) went to the contract's exit contract, which pays the
    /// members their leaves of the latest commitment. Nothing but claims moves the token on this contract afterwards.
    ExitOpened {
        /// Asset whose exit opened (zero address for the native coin).
        token: Address,
        /// What went to the exit contract.
        custody: U256,
    },
    /// `MemberLeft(address indexed member, address indexed token, address to, uint256 amount, uint256 due)`: the
    /// member left the token while a change of power was pending (contracts/EXIT.md §12), paid `amount` to `to` for
    /// `due` (their leaf in the latest commitment less what batches since paid them; `amount` is less only when
    /// custody was short). The member is `exited` in the asset from this block (PLAN.md §5).
    MemberLeft {
        /// The member who left.
        member: Address,
        /// Asset left (zero address for the native coin).
        token: Address,
        /// Wallet paid.
        to: Address,
        /// Base units that left custody.
        amount: U256,
        /// What the leave settled.
        due: U256,
    },
    /// `Sold(uint256 indexed id, address indexed buyer, address indexed seller, address token, uint256 amount,
    /// uint256 retail, uint256 pv, bytes32 orderRef, uint256 refundableUntil)`, emitted by the Settlement's sales desk
    /// (contracts/SALES.md): `buyer` paid `amount` into the Settlement's custody for sale `id` (the signed payload's
    /// nonce), naming `seller` and its retail commission; the buyer may take it back while the block time is before
    /// `refundable_until` (PLAN-SALES.md §3).
    Sold {
        /// The sale's id: the payload's nonce, spent on chain.
        id: U256,
        /// The wallet that paid (B).
        buyer: Address,
        /// The seller the payload names (N).
        seller: Address,
        /// Asset paid in (zero address for the native coin).
        token: Address,
        /// Base units paid (a).
        amount: U256,
        /// The seller's retail commission as signed (r).
        retail: U256,
        /// Whole points (v).
        pv: U256,
        /// The operator's order the sale pays for.
        order_ref: B256,
        /// T: the block's time plus the signed refund window.
        refundable_until: U256,
    },
    /// `Refunded(uint256 indexed id, address indexed buyer, address indexed token, uint256 amount)`, emitted by the
    /// sales desk: the buyer took sale `id` back and was paid `amount` (its whole amount) out of custody (§4).
    Refunded {
        /// The sale's id.
        id: U256,
        /// Who was paid back.
        buyer: Address,
        /// Asset paid back (zero address for the native coin).
        token: Address,
        /// Base units that left custody.
        amount: U256,
    },
}

impl EventBody {
    /// The Solidity event name, for logs and quarantine reasons.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Registered { .. } => "Registered",
            Self::Retopped { .. } => "Retopped",
            Self::PayoutBatchExecuted { .. } => "PayoutBatchExecuted",
            Self::PayoutDeferred { .. } => "PayoutDeferred",
            Self::Claimed { .. } => "Claimed",
            Self::TreasuryTransferred { .. } => "TreasuryTransferred",
            Self::LiabilitiesCommitted { .. } => "LiabilitiesCommitted",
            Self::ExitOpened { .. } => "ExitOpened",
            Self::MemberLeft { .. } => "MemberLeft",
            Self::Sold { .. } => "Sold",
            Self::Refunded { .. } => "Refunded",
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
            | Self::TreasuryTransferred { token, .. }
            | Self::LiabilitiesCommitted { token, .. }
            | Self::ExitOpened { token, .. }
            | Self::MemberLeft { token, .. }
            | Self::Sold { token, .. }
            | Self::Refunded { token, .. } => *token,
        }
    }

    /// Money the contract received with this event.
    pub fn inflow(&self) -> U256 {
        match self {
            Self::Registered { amount, .. } | Self::Retopped { amount, .. } | Self::Sold { amount, .. } => *amount,
            Self::Refunded { .. }
            | Self::PayoutBatchExecuted { .. }
            | Self::PayoutDeferred { .. }
            | Self::Claimed { .. }
            | Self::TreasuryTransferred { .. }
            | Self::LiabilitiesCommitted { .. }
            | Self::ExitOpened { .. }
            | Self::MemberLeft { .. } => U256::ZERO,
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
            Self::Sold { id, buyer, seller, amount: a, retail, pv, refundable_until, .. } => {
                Some(PlanEvent::Sale(SaleEvent {
                    buyer: *buyer,
                    named_seller: *seller,
                    amount: amount(a),
                    pv: u64::try_from(*pv).unwrap_or(u64::MAX),
                    retail: amount(retail),
                    sale_id: sale_id(id),
                    refundable_until: u64::try_from(*refundable_until).unwrap_or(u64::MAX),
                }))
            }
            Self::Refunded { id, .. } => Some(PlanEvent::Refund { sale_id: sale_id(id) }),
            Self::PayoutBatchExecuted { .. }
            | Self::PayoutDeferred { .. }
            | Self::Claimed { .. }
            | Self::TreasuryTransferred { .. }
            | Self::LiabilitiesCommitted { .. }
            | Self::ExitOpened { .. }
            | Self::MemberLeft { .. } => None,
        }
    }
}

/// A sale's id as the plans number it. The signer hands out nonces from a counter, so every id fits; a larger one
/// (signed by hand) saturates, and a second such sale is refused as an id used before.
pub fn sale_id(id: &U256) -> u64 {
    u64::try_from(*id).unwrap_or(u64::MAX)
}

impl ChainEvent {
    /// Chain order: block number, then log index.
    pub fn position(&self) -> (u64, u64) {
        (self.block_number, self.key.log_index)
    }
}
