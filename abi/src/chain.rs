//! Which family a chain belongs to, decided in one place: every service, the API and the tests ask
//! [`Family::of`]. A family fixes how addresses are shown and typed (`T…` base58check on TRON), which wallets pay
//! (EIP-1193 or TronLink), how payouts are sent (JSON-RPC, or java-tron's gRPC API) and when a block is final
//! (confirmations, or solidified).

/// TRON's chain ids: mainnet, Nile and Shasta (the last four bytes of each network's genesis block id). A chain
/// with one of these ids — a real TRON network, or a test node standing in for one — is of the TRON family.
const TRON_CHAIN_IDS: [u64; 3] = [TRON_MAINNET, TRON_NILE, TRON_SHASTA];

/// TRON mainnet's chain id.
pub const TRON_MAINNET: u64 = 728_126_428;
/// TRON's Nile testnet's chain id.
pub const TRON_NILE: u64 = 3_448_148_188;
/// TRON's Shasta testnet's chain id.
pub const TRON_SHASTA: u64 = 2_494_104_990;

/// BNB Smart Chain mainnet's chain id.
pub const BSC_MAINNET: u64 = 56;
/// BNB Smart Chain testnet's chain id.
pub const BSC_TESTNET: u64 = 97;

/// Whether `chain_id` is a network where real money moves (BSC and TRON mainnet): there the contract's admin must be
/// a contract (a multisig), never a key, and every endpoint is reached over TLS.
pub fn is_mainnet(chain_id: u64) -> bool {
    matches!(chain_id, BSC_MAINNET | TRON_MAINNET)
}

/// The gas (on TRON: energy) the Settlement contract forwards to each pushed payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushGas {
    /// Per pushed native-coin payment.
    pub native: u64,
    /// Per pushed token payment.
    pub token: u64,
}

/// A chain family: what the same 20-byte addresses and Settlement contract are reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Ethereum's JSON-RPC, EIP-1193 wallets, `0x` addresses (BSC, anvil).
    Evm,
    /// java-tron: gRPC and a JSON-RPC subset, TronLink, `T…` addresses, solidified blocks.
    Tron,
}

impl Family {
    /// The family of chain `chain_id`: TRON for TRON's networks' ids, EVM for every other.
    pub fn of(chain_id: u64) -> Self {
        if TRON_CHAIN_IDS.contains(&chain_id) { Self::Tron } else { Self::Evm }
    }

    /// Every chain id of the TRON family.
    pub fn tron_chain_ids() -> [u64; 3] {
        TRON_CHAIN_IDS
    }

    /// The push gas a deployment of this family needs, from cited figures with margin; below it, payments to
    /// ordinary holders would fall back to claims.
    ///
    /// * Native coin, both families: 10,000, the contract's minimum. A plain account needs none of it; a contract
    ///   wallet's `receive` (a Safe emits one event) fits.
    /// * Token on EVM (BSC's BEP-20 USDT): a `transfer` to a fresh holder costs about 51,000 gas (a new balance
    ///   slot: 22,100 of it); 100,000 leaves about twice that.
    /// * Token on TRON (TRC-20 USDT): a `transfer` to a fresh holder costs about 130,000 energy (65,000 to one that
    ///   already holds USDT); 200,000, as the contract's NatSpec suggests, leaves half again.
    pub fn push_gas(self) -> PushGas {
        match self {
            Self::Evm => PushGas { native: 10_000, token: 100_000 },
            Self::Tron => PushGas { native: 10_000, token: 200_000 },
        }
    }

    /// `evm` or `tron`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evm => "evm",
            Self::Tron => "tron",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tron_networks_are_tron_and_every_other_id_is_evm() {
        for id in [TRON_MAINNET, TRON_NILE, TRON_SHASTA] {
            assert_eq!(Family::of(id), Family::Tron);
        }
        for id in [1, 56, 97, 31_337, TRON_MAINNET + 1, TRON_NILE - 1] {
            assert_eq!(Family::of(id), Family::Evm);
        }
    }
}
