//! Keys the deployment signs with, and keys it refuses to see anywhere.
//!
//! anvil's (and Hardhat's) development accounts 0–9, derived from the mnemonic "test test test test test test test
//! test test test test junk", are public: whatever they hold or control is anyone's. [`development_key`] names them;
//! the deployment refuses them as the deployer, the admin, the signer, a money role or an owner of the admin on
//! every profile, unless a test or the devnet says otherwise ([`crate::Options::development`], never the command
//! line).
//!
//! A key comes from an encrypted JSON keystore whose passphrase is in an environment variable
//! ([`from_keystore`]); a wrong passphrase is reported with the keystore's path and the variable's name.

use std::path::Path;

use alloy::{
    primitives::{Address, address},
    signers::local::PrivateKeySigner,
};

/// anvil's development accounts 0–9 (mnemonic "test test … junk", path m/44'/60'/0'/0/i).
pub const DEVELOPMENT_ADDRESSES: [Address; 10] = [
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

/// Which of anvil's public development accounts `who` is, if any.
pub fn development_key(who: Address) -> Option<usize> {
    DEVELOPMENT_ADDRESSES.iter().position(|a| *a == who)
}

/// Refuses `who` in `role` when it is one of anvil's public development accounts.
pub fn refuse_development_key(role: &str, who: Address) -> eyre::Result<()> {
    match development_key(who) {
        Some(i) => eyre::bail!(
            "the {role} {who} is anvil's development account {i} (mnemonic \"test test … junk\"): its key is public, \
             anyone can sign with it; use a key of your own; nothing was sent"
        ),
        None => Ok(()),
    }
}

/// The key in the encrypted JSON keystore at `path`, its passphrase in the environment variable `passphrase_var`.
/// Every failure names the keystore (and, for a wrong passphrase, the variable).
pub fn from_keystore(path: &Path, passphrase_var: &str) -> eyre::Result<PrivateKeySigner> {
    let passphrase = std::env::var(passphrase_var)
        .map_err(|_| eyre::eyre!("{passphrase_var} is not set: it holds the passphrase of {}", path.display()))?;
    if !path.is_file() {
        eyre::bail!("{}: no keystore file there", path.display());
    }
    PrivateKeySigner::decrypt_keystore(path, passphrase).map_err(|e| {
        let why = e.to_string();
        if why.to_lowercase().contains("mac") {
            eyre::eyre!(
                "{}: the passphrase in {passphrase_var} does not open this keystore ({why}): wrong passphrase, or \
                 another key's keystore",
                path.display()
            )
        } else {
            eyre::eyre!("{}: not a readable keystore ({why})", path.display())
        }
    })
}

/// A raw hex key (`--insecure-…-key`): local networks and rehearsals only.
pub fn raw(text: &str) -> eyre::Result<PrivateKeySigner> {
    text.trim().parse::<PrivateKeySigner>().map_err(|e| eyre::eyre!("not a hex private key: {e}"))
}

#[cfg(test)]
mod tests {
    use alloy::signers::local::{MnemonicBuilder, coins_bip39::English};

    use super::*;

    #[test]
    fn the_development_addresses_are_the_mnemonics_first_ten() {
        for (i, expected) in DEVELOPMENT_ADDRESSES.iter().enumerate() {
            let key = MnemonicBuilder::<English>::default()
                .phrase("test test test test test test test test test test test junk")
                .index(i as u32)
                .unwrap()
                .build()
                .unwrap();
            assert_eq!(key.address(), *expected, "account {i}");
            assert_eq!(development_key(*expected), Some(i));
        }
        assert_eq!(development_key(Address::repeat_byte(7)), None);
    }
}
