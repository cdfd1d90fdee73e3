//! What a Settlement contract is deployed with (`SettlementConfig`): its admin, signer and first role holders, the
//! tokens it accepts, the push gas, and the bounds fixed for its life — the delay every change of a money power
//! waits, how old a liability commitment's `asOfBlock` may be, and how recent a commitment a treasury transfer needs.
//! Every deployer (the deploy tool, the devnet, the tests) builds the constructor's argument here.

use alloy::primitives::{Address, U256};

use crate::{Settlement::SettlementConfig, chain::Family};

/// The bounds a Settlement is deployed with; none can change afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Seconds every change of the signer, a money role, an allowed token or the push gas waits before it may be
    /// applied (announced and cancellable meanwhile); also the default admin transfer's initial delay.
    pub delay_secs: u64,
    /// Most blocks a liability commitment's `asOfBlock` may trail the block that commits it.
    pub max_as_of_lag: u64,
    /// Most seconds since a token's latest liability commitment for a treasury transfer of it.
    pub treasury_commitment_max_age_secs: u64,
    /// Seconds without a liability commitment of a token (or of uninterrupted pause) after which anyone may open its
    /// members' exit (contracts/EXIT.md).
    pub exit_after_secs: u64,
}

/// The shortest change delay a mainnet deployment may have: the members' window to leave before a change of power
/// takes effect (contracts/EXIT.md §12; L2BEAT's Stage 1 asks a rollup's upgrades the same 7 days).
pub const MAINNET_MIN_DELAY_SECS: u64 = 7 * 24 * 60 * 60;

/// The shortest `exitAfter` a mainnet deployment may have: an operator's outage of a few days (a holiday, a lost
/// node) must not hand the members' custody to the exit.
pub const MAINNET_MIN_EXIT_AFTER_SECS: u64 = 7 * 24 * 60 * 60;

impl Bounds {
    /// A real network's: changes wait 7 days (the members' window to leave before one takes effect); a commitment's liabilities
    /// may be at most an hour old when committed (BSC makes a block every 0.75 s, TRON every 3 s); a treasury
    /// transfer needs a commitment from the last day; the members' exit opens after 14 days without a commitment.
    pub fn production(family: Family) -> Self {
        let blocks_per_hour = match family {
            Family::Evm => 4_800,
            Family::Tron => 1_200,
        };
        Bounds {
            delay_secs: 7 * 24 * 60 * 60,
            max_as_of_lag: blocks_per_hour,
            treasury_commitment_max_age_secs: 24 * 60 * 60,
            exit_after_secs: 14 * 24 * 60 * 60,
        }
    }

    /// The devnet's and the tests': a change waits two minutes (long enough to be seen, short enough to wait out in
    /// a drill), 1,000 blocks of lag, a commitment from the last hour, the exit after a day without one (the devnet
    /// commits every minute; its exit drill stops the operator's services and moves anvil's clock a day on).
    pub fn development() -> Self {
        Bounds {
            delay_secs: 120,
            max_as_of_lag: 1_000,
            treasury_commitment_max_age_secs: 60 * 60,
            exit_after_secs: 24 * 60 * 60,
        }
    }
}

/// Who holds what from the start (later changes of the money roles and the signer wait the delay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holders {
    /// The default admin (a Safe on mainnet).
    pub admin: Address,
    /// The backend signer's address.
    pub signer: Address,
    /// Holders of OPERATOR_ROLE (payout batches, liability commitments).
    pub operators: Vec<Address>,
    /// Holders of TREASURER_ROLE (treasury transfers and refunds).
    pub treasurers: Vec<Address>,
    /// Holders of PAUSER_ROLE (the kill switch).
    pub pausers: Vec<Address>,
}

impl Holders {
    /// One key in every role: development only (tests and the devnet).
    pub fn single(admin: Address, signer: Address) -> Self {
        Holders { admin, signer, operators: vec![admin], treasurers: vec![admin], pausers: vec![admin] }
    }
}

/// The constructor's argument.
pub fn config(holders: &Holders, tokens: &[Address], family: Family, bounds: Bounds) -> SettlementConfig {
    let push_gas = family.push_gas();
    SettlementConfig {
        admin: holders.admin,
        signer: holders.signer,
        operators: holders.operators.clone(),
        treasurers: holders.treasurers.clone(),
        pausers: holders.pausers.clone(),
        tokens: tokens.to_vec(),
        nativePushGas: U256::from(push_gas.native),
        tokenPushGas: U256::from(push_gas.token),
        delay: alloy::primitives::Uint::<48, 1>::from(bounds.delay_secs),
        maxAsOfLag: bounds.max_as_of_lag,
        treasuryCommitmentMaxAge: bounds.treasury_commitment_max_age_secs,
        exitAfter: bounds.exit_after_secs,
    }
}
