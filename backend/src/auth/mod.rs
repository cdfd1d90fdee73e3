//! Wallet sign-in: the EIP-4361 message ([`siwe`]), single-use nonces ([`nonce`]), access
//! tokens ([`jwt`]) and rotating refresh tokens with reuse detection ([`refresh`]).

pub mod jwt;
pub mod nonce;
pub mod refresh;
pub mod siwe;

use serde::{Deserialize, Serialize};

/// What a signed-in wallet may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A signed-in wallet that is not one of the configured admins.
    User,
    /// A wallet listed in the configured admins (`[auth] admins`): may also use the admin routes.
    Admin,
}

/// `N` bytes from the operating system's CSPRNG, as lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    alloy::hex::encode(bytes)
}
