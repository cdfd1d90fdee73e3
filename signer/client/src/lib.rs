//! What a caller of the signer service needs, and nothing of the service itself: the typed intents
//! ([`intent`]), the wire types ([`api`]), the request MAC ([`auth`]) and an HTTP client ([`client`]).
//! The backend depends on this crate; only the signer service holds keys, policy and the double-sign store.

#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod client;
pub mod intent;

pub use client::{ClientError, SignerClient};
