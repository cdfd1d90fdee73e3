//! Wallet sign-in: the EIP-4361 message ([`siwe`]), single-use nonces ([`nonce`]), access
//! tokens ([`jwt`]) and rotating refresh tokens with reuse detection ([`refresh`]).

pub mod jwt;
pub mod nonce;
mod random;
pub mod refresh;
pub mod roles;
pub mod siwe;

pub use roles::{Role, StaffRoles};
