//! The API over HTTP: the real app on port 0 against a scratch Postgres database and the
//! real Redis. One test binary (link time); modules per resource.

#[path = "../../ledger/tests/ledger/common/mod.rs"]
mod common;

mod admin;
mod admin_plan;
mod assets;
mod auth;
mod authorisations;
mod binary;
mod conformance;
mod docs;
mod errors;
mod generation;
mod helpers;
mod hostile;
mod hostile_time;
mod metrics;
mod monitoring;
mod notifications;
mod openapi;
mod payments;
mod payouts;
mod pool;
mod preflight;
mod prices;
mod public;
mod rate_limits;
mod refunds;
mod register;
mod sales;
mod signer_service;
mod slow_clients;
mod staff;
mod statements;
mod treasury;
mod tron_addresses;
mod upgrades;
mod users;
mod withdraw;
