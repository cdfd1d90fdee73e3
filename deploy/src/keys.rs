//! Keys the deployment signs with, and keys it refuses to see anywhere.
//!
//! anvil's (and Hardhat's) development accounts 0–9, derived from the mnemonic "test test test test test test test
//! test test test test junk", are public: whatever they hold or control is anyone's. [`service_kit::keys::well_known_dev_key`] names them;
//! the deployment refuses them as the deployer, the admin, the signer, a money role or an owner of the admin on
//! every profile, unless a test or the devnet says otherwise ([`crate::Options::development`], never the command
//! line).
//!
//! A key comes from an encrypted JSON keystore whose passphrase is in an environment variable
//! ([`from_keystore`]); a wrong passphrase is reported with the keystore's path and the variable's name.

use std::path::Path;

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use service_kit::keys::{decrypt_keystore, well_known_dev_key};

/// Refuses `who` in `role` when it is one of anvil's public development accounts.
pub fn refuse_development_key(role: &str, who: Address) -> eyre::Result<()> {
    match well_known_dev_key(who) {
        Some(i) => eyre::bail!(
            "the {role} {who} is anvil's development account {i} (mnemonic \"test test … junk\"): its key is public, \
             anyone can sign with it; use a key of your own; nothing was sent"
        ),
        None => Ok(()),
    }
}

/// The key in the encrypted JSON keystore at `path`, its passphrase in the environment variable `passphrase_var`.
/// Every failure names the keystore ([`decrypt_keystore`]) and, when the passphrase is missing or wrong, the variable.
pub fn from_keystore(path: &Path, passphrase_var: &str) -> eyre::Result<PrivateKeySigner> {
    let passphrase = std::env::var(passphrase_var)
        .map_err(|_| eyre::eyre!("{passphrase_var} is not set: it holds the passphrase of {}", path.display()))?;
    if !path.is_file() {
        eyre::bail!("{}: no keystore file there", path.display());
    }
    decrypt_keystore(path, passphrase).map_err(|e| match e {
        service_kit::keys::KeystoreError::WrongPassphrase(_) => {
            eyre::eyre!("{e} (the passphrase in {passphrase_var}; or another key's keystore)")
        }
        service_kit::keys::KeystoreError::Unreadable(..) => eyre::eyre!("{e}"),
    })
}

/// A raw hex key (`--insecure-…-key`): local networks and rehearsals only.
pub fn raw(text: &str) -> eyre::Result<PrivateKeySigner> {
    text.trim().parse::<PrivateKeySigner>().map_err(|e| eyre::eyre!("not a hex private key: {e}"))
}
