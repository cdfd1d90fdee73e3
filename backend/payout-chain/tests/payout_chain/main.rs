//! The payout chains' tests, one test binary: sending on EVM chains (anvil) and on TRON (the TRON test node).

mod submit;
mod tron;
