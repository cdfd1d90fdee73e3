//! The TRON test node's tests, one test binary: each module below is one of its surfaces (accounts, broadcast,
//! JSON-RPC, limits, multisig, network, TronWeb).

mod accounts;
mod broadcast;
mod jsonrpc;
mod limits;
mod multisig;
mod network;
mod tronweb;
