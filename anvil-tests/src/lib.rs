//! End-to-end tests against anvil live in `tests/`; this library holds the tools they and the other crates'
//! tests share.

pub mod api;
pub mod devchain;
pub mod fault_proxy;
pub mod loopback;
pub mod services;
pub mod tron_deploy;
pub mod tron_rpc;
pub mod webhook;
