//! TRON's presentation of the same 20-byte addresses and its signed-message format. The contract and the
//! ledger use plain 20-byte addresses everywhere; base58check (`T…`) is only for showing and reading
//! TRON users' input.

use alloy::primitives::{Address, B256, b256, keccak256};

use crate::chain::Family;
use crate::limits;

/// TRON mainnet's address prefix byte.
const TRON_ADDRESS_PREFIX: u8 = 0x41;

/// Why a `T…` address typed by a user was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TronAddressError {
    /// Not valid base58check (bad character or checksum, e.g. a typo); carries the decoder's message.
    #[error("not base58check: {0}")]
    Encoding(String),
    /// Not the 34 characters every TRON address has; carries the length, refused before any decoding.
    #[error("a TRON address is 34 characters, got {0}")]
    Length(usize),
    /// Decoded, but not 21 bytes starting with TRON's 0x41 prefix; carries the decoded length.
    #[error("a TRON address is 21 bytes starting 0x41, got {0} bytes")]
    Shape(usize),
}

/// TRON mainnet's genesis block id (its last four bytes are the chain id, 728126428).
pub const MAINNET_GENESIS: B256 = b256!("0x00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc");
/// Nile's genesis block id (its last four bytes are the chain id, 3448148188).
pub const NILE_GENESIS: B256 = b256!("0x0000000000000000d698d4192c56cb6be724a558448e2684802de4d6cd8690dc");
/// Shasta's genesis block id (chain id 2494104990).
pub const SHASTA_GENESIS: B256 = b256!("0x0000000000000000de1aa88295e1fcf982742f773e0419c5a9c134c994a9059e");

/// Nile's test USDT, `TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf` (6 decimals).
pub const NILE_USDT: Address = alloy::primitives::address!("0xeca9bc828a3005b9a3b909f2cc5c2a54794de05f");

/// The public TRON networks by name (`mainnet`, `nile`, `shasta`) with their genesis block ids: what a node (or the
/// TRON test node standing in for one) answers as block 0.
pub const NETWORKS: [(&str, B256); 3] =
    [("mainnet", MAINNET_GENESIS), ("nile", NILE_GENESIS), ("shasta", SHASTA_GENESIS)];

/// The chain id a genesis block id carries in its last 4 bytes (java-tron's chain id).
pub fn chain_id_of_genesis(id: B256) -> u64 {
    u64::from(u32::from_be_bytes(id[28..].try_into().expect("4 bytes")))
}

/// An address as its chain shows it: `T…` base58check on a TRON chain, EIP-55 `0x…` elsewhere.
pub fn show(chain_id: u64, address: Address) -> String {
    match Family::of(chain_id) {
        Family::Tron => to_base58(address),
        Family::Evm => address.to_checksum(None),
    }
}

/// `T…` base58check form of a 20-byte address.
pub fn to_base58(address: Address) -> String {
    let mut raw = Vec::with_capacity(21);
    raw.push(TRON_ADDRESS_PREFIX);
    raw.extend_from_slice(address.as_slice());
    bs58::encode(raw).with_check().into_string()
}

/// Parses a `T…` base58check address (checksum verified) into its 20-byte form. Text of any other length than
/// [`limits::TRON_ADDRESS_LEN`] is refused before decoding: base58 decoding is quadratic in its input.
pub fn from_base58(text: &str) -> Result<Address, TronAddressError> {
    if text.len() != limits::TRON_ADDRESS_LEN {
        return Err(TronAddressError::Length(text.len()));
    }
    let raw = bs58::decode(text).with_check(None).into_vec().map_err(|e| TronAddressError::Encoding(e.to_string()))?;
    match raw.as_slice() {
        [TRON_ADDRESS_PREFIX, rest @ ..] if rest.len() == 20 => Ok(Address::from_slice(rest)),
        _ => Err(TronAddressError::Shape(raw.len())),
    }
}

/// The hash a TRON wallet signs for a text message (TronWeb `signMessageV2`, TIP-191):
/// keccak256("\x19TRON Signed Message:\n" ‖ len(message) ‖ message).
pub fn signed_message_hash(message: &[u8]) -> B256 {
    let mut data = Vec::with_capacity(32 + message.len());
    data.extend_from_slice(b"\x19TRON Signed Message:\n");
    data.extend_from_slice(message.len().to_string().as_bytes());
    data.extend_from_slice(message);
    keccak256(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::{
        primitives::address,
        signers::{SignerSync, local::PrivateKeySigner},
    };

    #[test]
    fn usdt_contract_address_round_trips() {
        // TRON's USDT contract: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t = 41a614f803b6fd780986a42c78ec9c7f77e6ded13c.
        let hex = address!("a614f803b6fd780986a42c78ec9c7f77e6ded13c");
        assert_eq!(to_base58(hex), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
        assert_eq!(from_base58("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), Ok(hex));
    }

    #[test]
    fn addresses_show_in_their_chains_form() {
        let hex = address!("a614f803b6fd780986a42c78ec9c7f77e6ded13c");
        for tron in Family::tron_chain_ids() {
            assert_eq!(show(tron, hex), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
        }
        assert_eq!(show(56, hex), "0xa614f803B6FD780986A42c78Ec9c7f77e6DeD13C");
        assert_eq!(show(728_126_428 + 1, hex), "0xa614f803B6FD780986A42c78Ec9c7f77e6DeD13C");
    }

    #[test]
    fn a_mistyped_address_fails_its_checksum() {
        assert!(matches!(from_base58("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u"), Err(TronAddressError::Encoding(_))));
        // Valid base58check of 34 characters, but of 21 bytes with another prefix than 0x41.
        let mut other_prefix = [7u8; 21];
        other_prefix[0] = 0x42;
        let wrong_shape = bs58::encode(other_prefix).with_check().into_string();
        assert_eq!(wrong_shape.len(), limits::TRON_ADDRESS_LEN);
        assert_eq!(from_base58(&wrong_shape), Err(TronAddressError::Shape(21)));
        // A 20-byte payload is shorter than any TRON address: refused by its length.
        let short = bs58::encode([7u8; 20]).with_check().into_string();
        assert!(matches!(from_base58(&short), Err(TronAddressError::Length(_))));
    }

    #[test]
    fn a_huge_text_is_refused_by_its_length_before_decoding() {
        // Base58 decoding is quadratic: 2 MB would take minutes. The length check answers at once (the bound leaves
        // a busy machine room: a descheduled thread can lose tens of milliseconds, never minutes).
        let huge = "T".repeat(2_000_000);
        let started = std::time::Instant::now();
        assert_eq!(from_base58(&huge), Err(TronAddressError::Length(2_000_000)));
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn a_tron_message_signature_recovers_the_signing_address() {
        let wallet = PrivateKeySigner::random();
        let message = b"example.org wants you to sign in with your TRON account";
        let signature = wallet.sign_hash_sync(&signed_message_hash(message)).unwrap();
        let recovered = signature.recover_address_from_prehash(&signed_message_hash(message)).unwrap();
        assert_eq!(recovered, wallet.address());
        assert_ne!(
            signed_message_hash(message),
            alloy::primitives::eip191_hash_message(message),
            "not Ethereum's prefix"
        );
    }
}
