//! Integration tests: the real service on port 0 over loopback HTTP, a throwaway SQLite file per test.

mod anvil;
mod approvals;
mod auth;
mod chain_clock;
mod double_sign;
mod hsm;
mod leaves;
mod liability_roots;
mod malformed;
mod many;
mod onchain;
mod permissions;
mod policy_endpoint;
mod policy_rules;
mod refunds;
mod root_falls;
mod rotation;
mod sales;
mod signing;
mod slow_clients;
mod support;
