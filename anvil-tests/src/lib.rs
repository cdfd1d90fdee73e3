//! End-to-end tests against anvil live in `tests/`; this library holds the tools they and the other crates'
//! tests share.

pub mod api;
pub mod deployment;
pub mod devchain;
pub mod fault_proxy;
pub mod mail;
pub mod process;
pub mod safe;
pub mod services;
pub mod tron_deploy;
pub mod webhook;

/// TRON's JSON-RPC stand-in, served by the TRON test node's binary too.
pub use tron_devnode::jsonrpc as tron_rpc;
/// The loopback HTTP server of the test doubles, shared with the TRON test node.
pub use tron_devnode::loopback;
