//! Where the signing key lives. `KeySource` is the seam for a KMS or HSM: every alloy `Signer` (local key,
//! AWS KMS, GCP KMS, Ledger…) already is one, and [`pkcs11::HsmKey`] keeps the key in a PKCS#11 token.

pub mod pkcs11;

use std::{future::Future, path::Path, pin::Pin};

use alloy::{
    primitives::{Address, B256, Signature},
    signers::{Signer, local::PrivateKeySigner},
};
use secrecy::{ExposeSecret, SecretString};

/// The boxed future a [`KeySource`] call returns.
pub type KeyFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KeyError>> + Send + 'a>>;

/// Why the key could not be loaded or could not sign.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The keystore could not be read or decrypted.
    #[error("keystore: {0}")]
    Keystore(String),
    /// The dev key is not a hex private key.
    #[error("dev key: {0}")]
    DevKey(String),
    /// The key failed to sign a digest (500 `internal`).
    #[error("signing failed: {0}")]
    Signing(String),
    /// The key's token refused to serve at start: library, token, PIN, key or address (the start is refused).
    #[error("PKCS#11 token: {0}")]
    Token(String),
    /// The key's token failed mid-flight — a library error, a lost session, a signature that does not recover to
    /// the key — (503 `key_unavailable`): nothing was signed; ask again once it is back.
    #[error("the signing key's token is unavailable: {0}")]
    Unavailable(String),
}

/// Signs EIP-712 digests the service computed itself; never exposed to callers as "sign this hash".
pub trait KeySource: Send + Sync + 'static {
    /// The address whose key signs.
    fn address(&self) -> KeyFuture<'_, Address>;
    /// Signs `digest`, an EIP-712 digest the service computed itself.
    fn sign_hash(&self, digest: B256) -> KeyFuture<'_, Signature>;
}

impl<S> KeySource for S
where
    S: Signer + Send + Sync + 'static,
{
    fn address(&self) -> KeyFuture<'_, Address> {
        let address = Signer::address(self);
        Box::pin(async move { Ok(address) })
    }

    fn sign_hash(&self, digest: B256) -> KeyFuture<'_, Signature> {
        Box::pin(async move { Signer::sign_hash(self, &digest).await.map_err(|e| KeyError::Signing(e.to_string())) })
    }
}

/// Decrypts an encrypted JSON keystore (scrypt/pbkdf2, as geth and foundry write them) off the async runtime.
pub async fn from_keystore(path: &Path, passphrase: &SecretString) -> Result<PrivateKeySigner, KeyError> {
    let path = path.to_path_buf();
    let passphrase = passphrase.clone();
    tokio::task::spawn_blocking(move || {
        PrivateKeySigner::decrypt_keystore(&path, passphrase.expose_secret().as_bytes())
            .map_err(|e| KeyError::Keystore(format!("{}: {e}", path.display())))
    })
    .await
    .map_err(|e| KeyError::Keystore(e.to_string()))?
}

/// A raw hex private key: development only, the caller must have opted in explicitly.
pub fn insecure_dev_key(hex_key: &SecretString) -> Result<PrivateKeySigner, KeyError> {
    let signer: PrivateKeySigner =
        hex_key.expose_secret().trim().parse().map_err(|_| KeyError::DevKey("not a hex private key".into()))?;
    tracing::warn!(
        address = %signer.address(),
        "INSECURE: signing with a raw development key from the environment; never use this outside a devnet"
    );
    Ok(signer)
}
