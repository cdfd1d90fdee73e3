//! A wallet's standing in every asset (`GET /v1/users/me` for the signed-in wallet, `GET /v1/admin/users/{address}` for
//! staff looking a member up): one shape, built once.

use std::collections::BTreeMap;

use alloy::primitives::Address;
use serde::Serialize;
use sqlx::PgPool;

use super::types::show_address;
use crate::http::error::ApiError;

/// A wallet and its standing in every asset it is registered in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// 0x EIP-55.
    pub address: String,
    /// One entry per asset the wallet is registered in; empty for a wallet not registered yet.
    pub assets: Vec<AssetStanding>,
}

/// The wallet's standing in one asset's plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetStanding {
    /// The asset's id.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: i64,
    /// The asset's ticker.
    pub symbol: String,
    /// Decimals of the asset's smallest unit: one whole unit is 10^decimals base units.
    pub decimals: i16,
    /// `active`, `frozen` by an admin, or `exited`: the member left with their due (a leave during a pending change
    /// of power, PLAN.md §5) and is paid nothing more in this asset; rewards that would be theirs go to the company.
    pub status: &'static str,
    /// The block of the member's leave, once `exited`.
    pub exited_block: Option<i64>,
    /// Number of the user in this asset's plan (0 = genesis).
    pub user_no: i32,
    /// Sponsor's address (0x EIP-55); none for the genesis user.
    pub sponsor: Option<String>,
    /// Block of the registration; null for the genesis user.
    pub registered_block: Option<i64>,
    /// Users the wallet sponsored directly.
    pub direct_referrals: i64,
    /// Retopups the wallet made.
    pub retopups: i64,
    /// Base units of the asset (decimal strings), by status.
    pub balances: Balances,
    /// Per pool level: nodes owned.
    pub pool_nodes: Vec<LevelNodes>,
}

/// Sums per reward status, in base units as decimal strings (exact, up to 78 digits).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Balances {
    /// Paid in by the wallet: registration and retopups.
    pub paid_in: String,
    /// Rewards payable, not yet in a payout batch.
    pub pending: String,
    /// Rewards held back under the plan's rules, or while an admin has the wallet frozen.
    pub held: String,
    /// In payout batches not settled yet.
    pub batched: String,
    /// Paid on-chain.
    pub settled: String,
    /// Forfeited to the company's account.
    pub forfeited: String,
    /// Reserved towards the next level (auto-progression savings).
    pub reserved: String,
    /// Left claimable in the contract by a failed push (see `GET /v1/users/claim`), net of the withdrawal fee.
    pub claimable: String,
    /// What reached the wallet net of withdrawal fees: the payments of its executed payout entries, pushed or left
    /// claimable and since claimed, and what the member's leave paid. "Paid out 350" with a 5 % fee reads "received
    /// 332.5 (fee 17.5)".
    pub received: String,
    /// Withdrawal fees the company kept from the wallet's executed payout entries (0 on plans without a fee).
    /// `settled` (gross) = `received` + `fees` + `claimable`.
    pub fees: String,
    /// Still to reach the wallet: `pending` + `held` + `batched` + `claimable`, before the withdrawal fees its payouts
    /// will keep (the fee of a batched entry is already fixed: see the history's payments). `reserved` is left out: it
    /// is spent on the next pool level and never paid out.
    pub owed: String,
}

/// Nodes the wallet owns on one pool level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelNodes {
    /// Pool level, 1 first.
    pub level: i32,
    /// Nodes whose matrix is still open.
    pub active: i64,
    /// Nodes whose 14-slot matrix is full.
    pub completed: i64,
}

/// `wallet`'s profile across assets.
pub async fn profile_of(db: &PgPool, wallet: Address) -> Result<Profile, ApiError> {
    let (rows, node_rows) = ledger::members::standings(db, wallet).await?;
    let mut nodes: BTreeMap<i32, Vec<LevelNodes>> = BTreeMap::new();
    for n in node_rows {
        nodes.entry(n.asset_id).or_default().push(LevelNodes {
            level: n.level,
            active: n.active,
            completed: n.completed,
        });
    }
    let assets = rows
        .into_iter()
        .map(|r| AssetStanding {
            asset_id: r.asset_id,
            chain_id: r.chain_id,
            symbol: r.symbol,
            decimals: r.decimals,
            status: if r.exited_block.is_some() {
                "exited"
            } else if r.frozen {
                "frozen"
            } else {
                "active"
            },
            exited_block: r.exited_block,
            user_no: r.user_no,
            sponsor: r.sponsor.map(|s| show_address(r.chain_id as u64, &s)),
            registered_block: r.registered_block,
            direct_referrals: r.direct_count,
            retopups: r.retopup_count,
            balances: Balances {
                paid_in: r.paid_in.to_string(),
                pending: r.pending.to_string(),
                held: r.held.to_string(),
                batched: r.batched.to_string(),
                settled: r.settled.to_string(),
                forfeited: r.forfeited.to_string(),
                reserved: r.reserved.to_string(),
                claimable: r.claimable.to_string(),
                received: r.received.to_string(),
                fees: r.fees.to_string(),
                owed: r.owed.to_string(),
            },
            pool_nodes: nodes.remove(&r.asset_id).unwrap_or_default(),
        })
        .collect();
    Ok(Profile { address: wallet.to_checksum(None), assets })
}
