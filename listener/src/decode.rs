//! Settlement logs → the ledger's event types. Only this module knows both the `sol!` events and
//! `backend::events`.

use abi::{Settlement, SettlementSales};
use alloy::rpc::types::Log;
use ledger::events::{ChainEvent, EventBody, EventKey};

use crate::follower::ConfirmedBlock;

/// The ledger events of one confirmed block, in log order. Logs the ledger does not consume (roles, signer
/// rotation, pausing, allowed tokens) are skipped here; a liability root's commitment is kept (it moves no money,
/// but the ledger marks its epoch committed, and the reconciler compares the chain's with the ledger's), and so are a
/// members' exit opening (the asset then takes no payment or payout, contracts/EXIT.md) and a member's leave (they
/// are `exited` from it, PLAN.md §5). The sales desk's sales and refunds are the ledger's too.
pub fn ledger_events(chain_id: u64, block: &ConfirmedBlock) -> Vec<ChainEvent> {
    block.logs.iter().filter_map(|log| ledger_event(chain_id, block.number, block.timestamp, log)).collect()
}

/// The ledger event a log of a block not read in full is (its block time unknown: 0), if the ledger consumes it.
pub fn ledger_event_of(chain_id: u64, log: &Log) -> Option<ChainEvent> {
    ledger_event(chain_id, log.block_number?, 0, log)
}

fn ledger_event(chain_id: u64, block_number: u64, block_timestamp: u64, log: &Log) -> Option<ChainEvent> {
    let body = if let Ok(e) = log.log_decode::<Settlement::Registered>() {
        let e = e.inner.data;
        EventBody::Registered { user: e.user, sponsor: e.sponsor, token: e.token, amount: e.amount, nonce: e.nonce }
    } else if let Ok(e) = log.log_decode::<Settlement::Retopped>() {
        let e = e.inner.data;
        EventBody::Retopped { user: e.user, token: e.token, amount: e.amount, nonce: e.nonce }
    } else if let Ok(e) = log.log_decode::<Settlement::PayoutDeferred>() {
        let e = e.inner.data;
        EventBody::PayoutDeferred {
            batch_nonce: e.batchNonce,
            recipient: e.recipient,
            token: e.token,
            index: e.index,
            amount: e.amount,
        }
    } else if let Ok(e) = log.log_decode::<Settlement::PayoutBatchExecuted>() {
        let e = e.inner.data;
        EventBody::PayoutBatchExecuted {
            nonce: e.nonce,
            token: e.token,
            payouts_hash: e.payoutsHash,
            total: e.total,
            count: e.count,
            deferred_count: e.deferredCount,
            deferred_total: e.deferredTotal,
        }
    } else if let Ok(e) = log.log_decode::<Settlement::Claimed>() {
        let e = e.inner.data;
        EventBody::Claimed { account: e.account, token: e.token, to: e.to, amount: e.amount }
    } else if let Ok(e) = log.log_decode::<Settlement::TreasuryTransferred>() {
        let e = e.inner.data;
        EventBody::TreasuryTransferred { nonce: e.nonce, token: e.token, to: e.to, amount: e.amount }
    } else if let Ok(e) = log.log_decode::<Settlement::LiabilitiesCommitted>() {
        let e = e.inner.data;
        EventBody::LiabilitiesCommitted {
            token: e.token,
            epoch: e.epoch,
            as_of_block: e.asOfBlock,
            root: e.root,
            total: alloy::primitives::U256::from(e.total),
            leaf_count: e.leafCount,
            plan_hash: e.planHash,
            custody: e.custody,
        }
    } else if let Ok(e) = log.log_decode::<Settlement::ExitOpened>() {
        let e = e.inner.data;
        EventBody::ExitOpened { token: e.token, custody: e.custody }
    } else if let Ok(e) = log.log_decode::<Settlement::MemberLeft>() {
        let e = e.inner.data;
        EventBody::MemberLeft { member: e.member, token: e.token, to: e.to, amount: e.amount, due: e.due }
    } else if let Ok(e) = log.log_decode::<SettlementSales::Sold>() {
        // The sales desk's (contracts/SALES.md): it takes sales and refunds for the Settlement, whose custody holds
        // their money.
        let e = e.inner.data;
        EventBody::Sold {
            id: e.id,
            buyer: e.buyer,
            seller: e.seller,
            token: e.token,
            amount: e.amount,
            retail: e.retail,
            pv: e.pv,
            order_ref: e.orderRef,
            refundable_until: e.refundableUntil,
        }
    } else if let Ok(e) = log.log_decode::<SettlementSales::Refunded>() {
        let e = e.inner.data;
        EventBody::Refunded { id: e.id, buyer: e.buyer, token: e.token, amount: e.amount }
    } else {
        return None;
    };
    Some(ChainEvent {
        key: EventKey { chain_id, tx_hash: log.transaction_hash?, log_index: log.log_index? },
        contract: log.address(),
        block_number,
        block_timestamp,
        body,
    })
}
