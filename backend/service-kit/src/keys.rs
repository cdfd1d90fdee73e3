//! Keys as every service and tool handles them: anvil's well-known development accounts, which are public and may
//! hold nothing of value anywhere but a development chain ([`well_known_dev_key`],
//! [`crate::chain_spec::ChainSpec::is_development`]), and encrypted keystores whose errors name the file
//! ([`decrypt_keystore`]).

use std::path::Path;

use alloy::{
    primitives::{Address, address},
    signers::local::PrivateKeySigner,
};

/// The mnemonic anvil (and hardhat) derive their development accounts from: every key of it is public.
pub const ANVIL_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Accounts 0–9 of [`ANVIL_MNEMONIC`] (`m/44'/60'/0'/0/i`): the keys anvil prints and funds at every start, whose
/// private keys are in every tutorial.
pub const WELL_KNOWN_DEV_ADDRESSES: [Address; 10] = [
    address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
    address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
    address!("0x90F79bf6EB2c4f870365E785982E1f101E93b906"),
    address!("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"),
    address!("0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"),
    address!("0x976EA74026E726554dB657fA54763abd0C3a0aa9"),
    address!("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"),
    address!("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"),
    address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"),
];

/// Which of anvil's well-known development accounts `address` is (its index), if it is one.
pub fn well_known_dev_key(address: Address) -> Option<usize> {
    WELL_KNOWN_DEV_ADDRESSES.iter().position(|a| *a == address)
}

/// Why a keystore could not be opened; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// The passphrase does not open it (the keystore's MAC does not match).
    #[error("keystore {0}: the passphrase does not open it (MAC mismatch): check the passphrase given for this file")]
    WrongPassphrase(String),
    /// It could not be read or is not a keystore.
    #[error("keystore {0}: {1}")]
    Unreadable(String, String),
}

/// The key in the encrypted JSON keystore at `path` (scrypt or pbkdf2, as geth, foundry and `cast wallet` write
/// them); an error naming the file — a wrong passphrase said as such, never only "Mac Mismatch".
pub fn decrypt_keystore(path: &Path, passphrase: impl AsRef<[u8]>) -> Result<PrivateKeySigner, KeystoreError> {
    PrivateKeySigner::decrypt_keystore(path, passphrase).map_err(|e| {
        let file = path.display().to_string();
        let why = e.to_string();
        if why.to_ascii_lowercase().contains("mac mismatch") {
            KeystoreError::WrongPassphrase(file)
        } else {
            KeystoreError::Unreadable(file, why)
        }
    })
}

#[cfg(test)]
mod tests {
    use alloy::signers::local::{MnemonicBuilder, coins_bip39::English};

    use super::*;

    #[test]
    fn the_well_known_addresses_are_anvils_accounts_0_to_9() {
        for (i, expected) in WELL_KNOWN_DEV_ADDRESSES.iter().enumerate() {
            let key = MnemonicBuilder::<English>::default().phrase(ANVIL_MNEMONIC).index(i as u32).unwrap().build();
            assert_eq!(key.unwrap().address(), *expected, "account {i}");
            assert_eq!(well_known_dev_key(*expected), Some(i));
        }
        assert_eq!(well_known_dev_key(Address::repeat_byte(7)), None);
    }

    #[test]
    fn a_wrong_passphrase_names_the_keystore() {
        let dir = std::env::temp_dir().join(format!("service-kit-keystore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, name) =
            PrivateKeySigner::encrypt_keystore(&dir, &mut rand::thread_rng(), [7u8; 32], "right", None).unwrap();
        let path = dir.join(name);
        assert_eq!(decrypt_keystore(&path, "right").unwrap().address(), key.address());
        let wrong = decrypt_keystore(&path, "wrong").unwrap_err().to_string();
        assert!(
            wrong.contains(&path.display().to_string()) && wrong.contains("passphrase does not open it"),
            "{wrong}"
        );
        let missing = decrypt_keystore(&dir.join("missing.json"), "x").unwrap_err().to_string();
        assert!(missing.contains("missing.json"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
